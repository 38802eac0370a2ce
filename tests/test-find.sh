#!/usr/bin/env bash
# test-find.sh: how libasoc finds the job's daemon on the user-only SLURM
# path (asocd --slurm-user), whose socket folder lives in a shared /tmp.
# Another user may make a folder at the name we would look for before our
# daemon starts: libasoc must use only a folder that is ours and closed to
# others (mode 0700), and otherwise keep looking where the prolog's daemon
# would be.
. "$(dirname "$0")/lib.sh"

STAT=$B/client/asoc-stat
mkdir -p "$T/run" "$T/tmp"
chmod 1777 "$T/tmp"
uid=$(id -u)
other=$(id -u nobody)
dir=$T/tmp/asoc-$uid-77-n1

# A listening socket at PATH, by pid in $T/listener.pid.
listen_at() {
	python3 -c 'import socket, sys, time
s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
s.bind(sys.argv[1]); s.listen(1); time.sleep(60)' "$1" &
	echo $! >"$T/listener.pid"
	BGPIDS+=($!)
	wait_socket "$1"
}
stat_in_job() {
	env -u ASOC_SOCKET SLURM_JOB_ID=77 SLURMD_NODENAME=n1 TMPDIR="$T/tmp" \
	    ASOC_RUN_DIR="$T/run" ASOC_WAIT=1 "$STAT"
}

# Another user's folder, at our name, with a socket in it.
mkdir -m 0700 "$dir"
listen_at "$dir/asocd.sock" || not_ok "a listener in $dir"
chown -R "$other" "$dir"
stat_in_job >"$T/foreign.out" 2>&1 || true
if grep -q "$dir" "$T/foreign.out"; then
	not_ok "a socket folder of uid $other at our name is not used" "$T/foreign.out"
else
	ok "a socket folder of uid $other at our name is not used"
fi
check "  ...the tool looks where the prolog's daemon would be" \
    grep -q "$T/run/77/sock/asocd.sock" "$T/foreign.out"
# Ours, but open to others: not used either.
chown -R "$uid" "$dir"
chmod 0755 "$dir"
stat_in_job >"$T/open.out" 2>&1 || true
if grep -q "$dir" "$T/open.out"; then
	not_ok "our socket folder open to others (0755) is not used" "$T/open.out"
else
	ok "our socket folder open to others (0755) is not used"
fi
# Ours and 0700: found (asoc-stat then talks to whatever listens there,
# which is no asocd here, so it fails naming that socket).
chmod 0700 "$dir"
stat_in_job >"$T/own.out" 2>&1 || true
check "our own 0700 socket folder is found" grep -q "$dir" "$T/own.out"
kill "$(cat "$T/listener.pid")" 2>/dev/null
wait 2>/dev/null
finish
