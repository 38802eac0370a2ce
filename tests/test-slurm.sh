#!/usr/bin/env bash
# The SLURM integration: slurm/asoc-prolog and asoc-epilog (asoc-slurm),
# run by hand, with every attack of issue 9 a job user could try on the
# root part (each must fail, no run may exit non-zero, nothing outside the
# job folder may change), then in the SLURM lab
# (tests/slurm-lab/run: slurmctld and four slurmd on this machine) around
# slurm/asoc_benchmark.slurm: a four-node job, then a two-task job array on
# the same nodes, whose daemons must not hear of each other.
#
#   tests/slurm-lab/run -- bash tests/test-slurm.sh     (make check-slurm)
# shellcheck source=tests/lib.sh
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib.sh"
# shellcheck source=tests/slurm-lab/lib.sh
. "${top_srcdir:-$(dirname "$0")/..}/tests/slurm-lab/lib.sh"

S=${top_srcdir:-$(cd "$(dirname "$0")/.." && pwd)}
PROLOG=$S/slurm/asoc-prolog
EPILOG=$S/slurm/asoc-epilog
SCRIPT=$S/slurm/asoc_benchmark.slurm
ASOC_SLURM=$B/slurm/asoc-slurm
# The job user of the by-hand runs is nobody (slurm-lab/lib.sh's
# as_nobody): what a hostile job user can do.
# bg_nobody COMMAND...: the same in the background; $BG is its pid (setpriv
# execs COMMAND, so killing $BG kills it, not a subshell around it).
bg_nobody() {
	setpriv --reuid="$NOBODY" --regid="$NOGROUP" --clear-groups -- "$@" &
	BG=$!
	BGPIDS+=("$BG")
}

# --- by hand, without SLURM -----------------------------------------------------------
# hand_conf FILE LINES...: a settings file like /etc/asoc/slurm.conf.
hand_conf() {
	local f=$1
	shift
	printf '%s\n' "$@" >"$f"
	chmod 0644 "$f"
}
# Nodes a1 and a2 at 127.0.0.21 and .22, each with its own RUN_DIR (as
# on two machines); a port range drawn like lib.sh's.
printf 'a1 127.0.0.21\na2 127.0.0.22\n' >"$T/addrs"
HBASE=$((20000 + (RANDOM % 400) * 100))
# Pinned to the first CPU this test may use.
CPU=$(awk '$1 == "Cpus_allowed_list:" { print $2 }' /proc/self/status | cut -d, -f1 | cut -d- -f1)
(umask 077 && head -c 32 /dev/urandom >"$T/site.key")
for n in a1 a2; do
	hand_conf "$T/$n.conf" "ASOCD=$ASOCD" "PORT_BASE=$HBASE # a comment" "PORT_SPAN=100" \
		"RUN_DIR='$T/run-$n'" "NODE_ADDRS=\"$T/addrs\"" "TRANSPORT=tcp" "export LOG_LEVEL=debug" \
		"CPU_LIST=$CPU" "KEEP_LOGS_DIR=$T/kept" "SITE_KEY=$T/site.key" "CONNECTION_TIMEOUT=10" "BUSY_POLL=0"
done
# hand SCRIPT JOBID [VAR=value...]: the prolog or epilog as slurmd runs it
# (no PATH, only its variables), on node a1 of a[1-2], as nobody.
# A script, so that timeout and bash -c can run it too.
cat >"$T/hand" <<EOF
#!/bin/sh
script=\$1 job=\$2
shift 2
exec env -i ASOC_SLURM="$ASOC_SLURM" ASOC_SLURM_CONF="$T/a1.conf" SLURM_JOB_ID="\$job" \\
	SLURM_JOB_UID="$NOBODY" SLURM_JOB_GID="$NOGROUP" SLURM_JOB_USER=nobody \\
	SLURM_NODELIST='a[1-2]' SLURMD_NODENAME=a1 "\$@" "\$script"
EOF
chmod 0755 "$T/hand"
hand() { "$T/hand" "$@"; }
PY=/usr/bin/python3
# owner_mode PATH: "uid gid mode"
owner_mode() { stat -c '%u %g %a' "$1"; }
# daemon_of RUN_DIR JOB: the pid root recorded.
daemon_of() { cut -d' ' -f1 "$1/$2/asocd.pid" 2>/dev/null || echo none; }
# no_key_in_proc [SITE_KEY JOB]: no process's argv or environment holds
# the site key or the job's key (derived here as every node does), raw, in
# hex (either case) or in base64.  The keys reach this check through a
# file, not its argv.
no_key_in_proc() {
	"$PY" - "${1:-$T/site.key}" "${2:-7}" <<'EOF'
import base64, glob, hashlib, hmac, sys
site = open(sys.argv[1], 'rb').read()
keys = [site, hmac.new(site, b'asoc-job-key:' + sys.argv[2].encode(), hashlib.sha256).digest()]
pats = []
for k in keys:
    pats += [k, k.hex().encode(), k.hex().upper().encode(), base64.b64encode(k)]
bad = 0
for f in glob.glob('/proc/[0-9]*/cmdline') + glob.glob('/proc/[0-9]*/environ'):
    try:
        data = open(f, 'rb').read()
    except OSError:
        continue
    for p in pats:
        if p in data:
            print('key found in', f, open(f.replace('environ', 'cmdline'), 'rb').read()[:200])
            bad = 1
sys.exit(bad)
EOF
}

check "the prolog starts asocd by hand (job 7 on a1 of a[1-2])" hand "$PROLOG" 7
cp "$T/out" "$T/prolog-7.out"
check "  ...and says nothing (exit 0)" test ! -s "$T/prolog-7.out"
check "job 7's folder is root's, mode 0755" test "$(owner_mode "$T/run-a1/7")" = "0 0 755"
check "  ...its socket folder the job user's, 0700, and the only thing of theirs" \
	bash -c "[ \"\$(stat -c '%u %g %a' '$T/run-a1/7/sock')\" = '$NOBODY $NOGROUP 700' ] &&
		[ -z \"\$(find '$T/run-a1/7' -mindepth 1 -maxdepth 1 ! -user root ! -name sock)\" ] || { ls -la '$T/run-a1/7'; false; }"
check "  ...the pid record and log are root's" \
	bash -c "[ \"\$(stat -c '%u %a' '$T/run-a1/7/asocd.pid')\" = '0 644' ] && [ \"\$(stat -c '%u %g %a' '$T/run-a1/7/asocd.log')\" = '0 $NOGROUP 640' ]"
hpid=$(daemon_of "$T/run-a1" 7)
check "job 7's asocd runs as the job user, not root" \
	bash -c "awk '\$1 == \"Uid:\" { print \$2, \$3, \$4, \$5 } \$1 == \"Gid:\" { print \$2, \$3 }' /proc/$hpid/status | tr '\n' ' ' | grep -qx '$NOBODY $NOBODY $NOBODY $NOBODY $NOGROUP $NOGROUP '"
check "  ...in a session of its own, its start time recorded" \
	bash -c "[ \"\$(cut -d' ' -f2 '$T/run-a1/7/asocd.pid')\" = \"\$(sed 's/.*) //' /proc/$hpid/stat | cut -d' ' -f20)\" ]"
check "  ...whatever writes through it, its log cannot grow past 64 MiB (hard RLIMIT_FSIZE)" \
	bash -c "awk '/^Max file size/ { print \$4, \$5 }' /proc/$hpid/limits | grep -qx '67108864 67108864'"
check "  ...and no process of the job user may attach to it (not dumpable: /proc/PID is root's)" \
	bash -c "[ \"\$(stat -c %u /proc/$hpid/environ)\" = 0 ] && ! setpriv --reuid=$NOBODY --regid=$NOGROUP --clear-groups -- cat /proc/$hpid/environ >/dev/null 2>&1"
check "job 7's asocd is pinned to CPU_LIST=$CPU" \
	grep -qx "Cpus_allowed_list:[[:space:]]*$CPU" "/proc/$hpid/status"
check "  ...rank 0 of 2, community 7, on a port of 127.0.0.21 in $HBASE-$((HBASE + 99))" \
	grep -Eq "listening for peers on 127.0.0.21:($HBASE|$((HBASE / 100))[0-9][0-9]) " "$T/run-a1/7/asocd.log"
check "  ...and says so" grep -q "ready: rank 0 of 2, community '7'" "$T/run-a1/7/asocd.log"
check "  ...its key came on a pipe, not in argv or a file" \
	bash -c "tr '\0' ' ' </proc/$hpid/cmdline | grep -q -- '--key-fd 3' && ! tr '\0' ' ' </proc/$hpid/cmdline | grep -q -- '--key-file' && [ -z \"\$(find '$T/run-a1' -name '*key*')\" ]"
check "  ...BUSY_POLL=0 reaches it as --busy-poll 0 (the site's word on spinning)" \
	bash -c "tr '\0' ' ' </proc/$hpid/cmdline | grep -q -- '--busy-poll 0 '"
check "  ...its environment is PATH alone" test "$(tr '\0' '\n' </proc/$hpid/environ)" = "PATH=/usr/sbin:/usr/bin:/sbin:/bin"
check "no process's cmdline or environ holds the site key or job 7's key" no_key_in_proc
check "asoc-stat reaches job 7's asocd, found from SLURM_JOB_ID alone" \
	bash -c "as_() { setpriv --reuid=$NOBODY --regid=$NOGROUP --clear-groups -- \"\$@\"; }; SLURM_JOB_ID=7 ASOC_RUN_DIR='$T/run-a1' as_ '$STAT' | grep -q '127.0.0.22:'"

# The other node of job 7: the two daemons prove the same derived key.
env -i ASOC_SLURM="$ASOC_SLURM" ASOC_SLURM_CONF="$T/a2.conf" SLURM_JOB_ID=7 SLURM_JOB_UID="$NOBODY" \
	SLURM_JOB_GID="$NOGROUP" SLURM_NODELIST='a[1-2]' SLURMD_NODENAME=a2 "$PROLOG" >/dev/null 2>&1
check "job 7's two daemons exchange 1 MiB, the key proven (a1 -> a2)" \
	pair_as_nobody "$T/run-a1/7/sock/asocd.sock" 1 "$T/run-a2/7/sock/asocd.sock" 0 1048576
check "  ...the connection proved the key" grep -q "rank 1 .* key proven" "$T/run-a1/7/asocd.log"

# --- attacks of a job user on the root part ---------------------------------------
# A canary root owns outside every job folder: no attack may change it.
echo "root's canary" >"$T/canary"
chmod 0644 "$T/canary"
canary_ok() { [ "$(stat -c '%u %a %s' "$T/canary")" = "0 644 14" ] && [ "$(cat "$T/canary")" = "root's canary" ]; }

# 1. Symlink race on every file root creates, hammered over 30 jobs: a
# process of the user plants links and FIFOs, as fast as it can, at every
# name root makes in RUN_DIR and in the job folders.
cat >"$T/hammer" <<EOF
#!/bin/bash
while :; do
	for id in \$(seq 100 129); do
		for n in "" /asocd.key /asocd.pid /asocd.log /error /.asocd.pid.new /.error.new /sock; do
			ln -s "$T/canary" "$T/run-a1/\$id\$n" 2>/dev/null
			mkfifo "$T/run-a1/\$id\$n.fifo" 2>/dev/null
		done
		ln -sf "$T/canary" "$T/run-a1/\$id/sock/asocd.log" 2>/dev/null
		mkfifo "$T/run-a1/\$id/sock/asocd.pid" 2>/dev/null
	done
done
EOF
chmod 0755 "$T/hammer"
bg_nobody "$T/hammer"
hammer=$BG
bad=0
for id in $(seq 100 129); do
	timeout 40 bash -c "'$T/hand' '$PROLOG' $id" >>"$T/race.out" 2>&1 || bad=$((bad + 1))
	timeout 40 bash -c "'$T/hand' '$EPILOG' $id" >>"$T/race.out" 2>&1 || bad=$((bad + 1))
done
kill -KILL "$hammer" 2>/dev/null || true
wait "$hammer" 2>/dev/null || true
check "30 prologs and epilogs under a symlink/FIFO hammer all exited 0 in time" test "$bad" = 0
check "  ...the canary root owns is untouched" canary_ok
check "  ...every prolog started its daemon (no error recorded)" bash -c "! grep -q 'not started' '$T/race.out'"
check "  ...nothing of those jobs is left, and no link the user made in RUN_DIR" \
	bash -c "[ -z \"\$(find '$T/run-a1' -mindepth 1 -maxdepth 1 ! -name 7)\" ] || { ls -la '$T/run-a1'; false; }"
check "  ...the job user could not write in RUN_DIR or a job folder" \
	bash -c "! setpriv --reuid=$NOBODY --regid=$NOGROUP --clear-groups -- ln -s '$T/canary' '$T/run-a1/7/asocd.pid.x' 2>/dev/null"

# 2. A FIFO or a link at every path root reads: the user's own folder is
# the only place they can put one; the epilog must neither block on nor
# follow them, and removes them.
hand "$PROLOG" 31 >/dev/null 2>&1
as_nobody mkfifo "$T/run-a1/31/sock/asocd.pid" "$T/run-a1/31/sock/asocd.log" "$T/run-a1/31/sock/error"
as_nobody ln -s "$T/canary" "$T/run-a1/31/sock/link"
as_nobody ln -s / "$T/run-a1/31/sock/root"
as_nobody mkdir -p "$T/run-a1/31/sock/d/d/d/d"
as_nobody ln -s "$T/canary" "$T/run-a1/31/sock/d/d/d/d/x"
t0=$SECONDS
check "an epilog facing FIFOs and links in the user's folder exits 0" timeout 30 "$T/hand" "$EPILOG" 31
check "  ...at once (no blocking read: $((SECONDS - t0)) s)" test $((SECONDS - t0)) -lt 12
check "  ...removes them all, following none" bash -c "[ ! -e '$T/run-a1/31' ] && [ -d /etc ] && [ -f /etc/passwd ]"
check "  ...the canary is untouched" canary_ok
# Root's own inputs: a link or a FIFO as the site key is refused, at once.
ln -sf "$T/site.key" "$T/key-link"
mkfifo "$T/key-fifo"
hand_conf "$T/link.conf" "ASOCD=$ASOCD" "RUN_DIR=$T/run-a1" "NODE_ADDRS=$T/addrs" "SITE_KEY=$T/key-link"
hand_conf "$T/fifo.conf" "ASOCD=$ASOCD" "RUN_DIR=$T/run-a1" "NODE_ADDRS=$T/addrs" "SITE_KEY=$T/key-fifo"
check "a site key that is a link is refused, the job told why, exit 0" \
	bash -c "'$T/hand' '$PROLOG' 32 ASOC_SLURM_CONF='$T/link.conf'"
check "  ...libasoc prints that reason instead of 'is asocd running?'" \
	bash -c "SLURM_JOB_ID=32 ASOC_RUN_DIR='$T/run-a1' '$STAT' 2>&1 | grep -q 'asocd was not started for job 32 on node a1: cannot open $T/key-link: Too many levels of symbolic links'"
check "a site key that is a FIFO is refused without blocking" \
	timeout 10 bash -c "'$T/hand' '$PROLOG' 33 ASOC_SLURM_CONF='$T/fifo.conf' && grep -q 'is not a regular file' '$T/run-a1/33/error'"
hand "$EPILOG" 32 ASOC_SLURM_CONF="$T/link.conf" >/dev/null 2>&1
hand "$EPILOG" 33 ASOC_SLURM_CONF="$T/fifo.conf" >/dev/null 2>&1

# 3. A look-alike: a process of the user with job 7's socket in its argv.
# The old epilog exited 1 on it (drain); now only the recorded daemon goes.
bg_nobody "$PY" -c 'import time; time.sleep(60)' --socket "$T/run-a1/7/sock/asocd.sock"
decoy=$BG
check "a FIFO in place of the pid record cannot be made by the user" \
	bash -c "! setpriv --reuid=$NOBODY --regid=$NOGROUP --clear-groups -- mkfifo '$T/run-a1/7/asocd.pid.fifo' 2>/dev/null"
check "the epilog stops job 7's asocd despite a look-alike" hand "$EPILOG" 7
check "  ...which is gone" gone "$hpid"
check "  ...with its folder" test ! -e "$T/run-a1/7"
check "  ...but not the look-alike" kill -0 "$decoy"
check "  ...and keeps the log" grep -q "signal 15" "$T/kept/asocd-7-a1.log"
kill -KILL "$decoy" 2>/dev/null || true
check "the epilog again: nothing there, exit 0" hand "$EPILOG" 7
check "the epilog of a job never started: exit 0" hand "$EPILOG" 12345
env -i ASOC_SLURM="$ASOC_SLURM" ASOC_SLURM_CONF="$T/a2.conf" SLURM_JOB_ID=7 SLURM_JOB_UID="$NOBODY" \
	SLURMD_NODENAME=a2 "$EPILOG" >/dev/null 2>&1

# 4. Two jobs whose ids are equal modulo the old 1000, on one node: both
# get a daemon.
hand "$PROLOG" 5 >/dev/null 2>&1
check "jobs 5 and 1005 on one node both get a serving daemon" \
	bash -c "'$T/hand' '$PROLOG' 1005 &&
		SLURM_JOB_ID=5 ASOC_RUN_DIR='$T/run-a1' '$STAT' >/dev/null && SLURM_JOB_ID=1005 ASOC_RUN_DIR='$T/run-a1' '$STAT' >/dev/null"
hand "$EPILOG" 5 >/dev/null 2>&1
hand "$EPILOG" 1005 >/dev/null 2>&1

# 5. A squatted port: a process of the user listens (and never answers) on
# job 40's first candidate on a1.  a1's daemon takes the next candidate;
# a2's, dialling a1, meets the squatter first and moves on.
hand "$PROLOG" 40 >/dev/null 2>&1
p40=$(sed -n 's/.*listening for peers on 127.0.0.21:\([0-9]*\).*/\1/p' "$T/run-a1/40/asocd.log" | head -1)
hand "$EPILOG" 40 >/dev/null 2>&1
bg_nobody "$PY" -c "import socket, time
s = socket.socket(); s.bind(('127.0.0.21', $p40)); s.listen(8); time.sleep(120)"
squat=$BG
for ((t = 0; t < 50; t++)); do ss -Htln "sport = :$p40" | grep -q . && break; sleep 0.1; done
check "a squatter holds job 40's first port $p40 on a1" bash -c "ss -Htln 'sport = :$p40' | grep -q 127.0.0.21"
check "the prolog of job 40 still starts its daemon" hand "$PROLOG" 40
check "  ...on the next candidate" grep -q "port $p40 on 127.0.0.21 is taken; trying the next candidate" "$T/run-a1/40/asocd.log"
env -i ASOC_SLURM="$ASOC_SLURM" ASOC_SLURM_CONF="$T/a2.conf" SLURM_JOB_ID=40 SLURM_JOB_UID="$NOBODY" \
	SLURM_JOB_GID="$NOGROUP" SLURM_NODELIST='a[1-2]' SLURMD_NODENAME=a2 "$PROLOG" >/dev/null 2>&1
check "  ...and a2 reaches a1 past the squatter (1 MiB, a2 -> a1)" \
	pair_as_nobody "$T/run-a2/40/sock/asocd.sock" 0 "$T/run-a1/40/sock/asocd.sock" 1 1048576
kill -KILL "$squat" 2>/dev/null || true
hand "$EPILOG" 40 >/dev/null 2>&1
env -i ASOC_SLURM="$ASOC_SLURM" ASOC_SLURM_CONF="$T/a2.conf" SLURM_JOB_ID=40 SLURM_JOB_UID="$NOBODY" \
	SLURMD_NODENAME=a2 "$EPILOG" >/dev/null 2>&1

# 6. Memory charged to the job: a cgroup v1 job folder as SLURM's
# task/cgroup makes it (memory/slurm*/uid_UID/job_JOBID, freezer alike).
# The daemon must join it, so the 64 MiB it faults in when a client
# registers a buffer count there, not in slurmd's cgroup.
CGN=slurm_asoctest$$
cg_mem=/sys/fs/cgroup/memory/$CGN/uid_$NOBODY/job_61
if mkdir -p "$cg_mem" "/sys/fs/cgroup/freezer/$CGN/uid_$NOBODY/job_61" 2>/dev/null; then
	hand "$PROLOG" 61 >/dev/null 2>&1
	cpid=$(daemon_of "$T/run-a1" 61)
	check "job 61's asocd is in the job's memory cgroup" grep -qx "$cpid" "$cg_mem/cgroup.procs"
	check "  ...and says so in its log" grep -q "joined job 61's cgroups: memory freezer" "$T/run-a1/61/asocd.log"
	u0=$(cat "$cg_mem/memory.usage_in_bytes")
	bg_nobody "$XFER" --socket "$T/run-a1/61/sock/asocd.sock" recv --from 0 --size 67108864 >/dev/null 2>&1
	holder=$BG
	charged() { [ $(($(cat "$cg_mem/memory.usage_in_bytes") - u0)) -ge $((60 << 20)) ]; }
	for ((t = 0; t < 50; t++)); do charged && break; sleep 0.1; done
	check "  ...a 64 MiB buffer registered: the job's cgroup is charged $((($(cat "$cg_mem/memory.usage_in_bytes") - u0) >> 20)) MiB" charged
	kill -KILL "$holder" 2>/dev/null || true
	hand "$EPILOG" 61 >/dev/null 2>&1
else
	ok "no cgroup v1 memory hierarchy to make a job cgroup in: the memory check is not run"
fi
rmdir "$cg_mem" "${cg_mem%/*}" "/sys/fs/cgroup/memory/$CGN" "/sys/fs/cgroup/freezer/$CGN/uid_$NOBODY/job_61" \
	"/sys/fs/cgroup/freezer/$CGN/uid_$NOBODY" "/sys/fs/cgroup/freezer/$CGN" 2>/dev/null || true

# 6b. SLURM makes the job's cgroups (the extern step's, with
# PrologFlags=Contain) only after the prolog has returned: the daemon,
# started with none to join, must move into them when they appear.
cg_job=/sys/fs/cgroup/memory/slurm_a1/uid_$NOBODY/job_62
if [ -d /sys/fs/cgroup/memory ] && [ ! -e /sys/fs/cgroup/memory/slurm_a1 ]; then
	hand "$PROLOG" 62 >/dev/null 2>&1
	cpid=$(daemon_of "$T/run-a1" 62)
	mkdir -p "$cg_job/step_extern"
	in_cg() { grep -qx "$cpid" "$cg_job/step_extern/cgroup.procs"; }
	for ((t = 0; t < 50; t++)); do in_cg && break; sleep 0.1; done
	check "a job cgroup made after the prolog (as SLURM's Contain does): job 62's asocd moves into its step_extern" in_cg
	check "  ...and says so in its log" grep -q "joined job 62's cgroups: memory (made by SLURM after the prolog" "$T/run-a1/62/asocd.log"
	hand "$EPILOG" 62 >/dev/null 2>&1
	for ((t = 0; t < 50; t++)); do rmdir "$cg_job/step_extern" "$cg_job" "${cg_job%/*}" "${cg_job%/*/*}" 2>/dev/null && break; sleep 0.1; done
else
	ok "no cgroup v1 memory hierarchy (or a real slurm_a1 in it): the late-cgroup check is not run"
fi

# Failures are explained, and never a non-zero exit (SLURM would drain).
hand_conf "$T/bogus.conf" "ASOCD=/nonexistent/sbin/asocd" "RUN_DIR=$T/run-a1" "NODE_ADDRS=$T/addrs" "SITE_KEY=$T/site.key"
check "a prolog with a bogus ASOCD exits 0" hand "$PROLOG" 8 ASOC_SLURM_CONF="$T/bogus.conf"
check "  ...and records why" grep -q "cannot run ASOCD=/nonexistent/sbin/asocd" "$T/run-a1/8/error"
check "  ...leaving no socket folder" test ! -e "$T/run-a1/8/sock"
hand "$EPILOG" 8 >/dev/null 2>&1
check "a prolog on a node missing from the job exits 0 and says why" \
	bash -c "'$T/hand' '$PROLOG' 9 SLURMD_NODENAME=zz 2>&1 | grep -q \"this node (zz) is not in SLURM_NODELIST='a\\[1-2\\]'\""
hand "$EPILOG" 9 >/dev/null 2>&1
hand_conf "$T/typo.conf" "ASOCD=$ASOCD" "RUN_DIR=$T/run-a1" "INTERFCE=eth0"
check "a misspelt setting is named" \
	bash -c "'$T/hand' '$PROLOG' 9 ASOC_SLURM_CONF='$T/typo.conf' 2>&1 | grep -q \"typo.conf:3: unknown setting 'INTERFCE'\""
chmod 0666 "$T/typo.conf"
check "a settings file others may write is refused" \
	bash -c "'$T/hand' '$PROLOG' 9 ASOC_SLURM_CONF='$T/typo.conf' 2>&1 | grep -q 'must belong to root and be writable by root only'"
check "a job id that is not a number is refused" \
	bash -c "'$T/hand' '$PROLOG' ../x 2>&1 | grep -q \"SLURM_JOB_ID='../x' is not a job id\""
check "no folder was left by the failures and attacks" bash -c "[ -z \"\$(ls '$T/run-a1' '$T/run-a2' | grep -v '^/\\|^\$')\" ] || { ls -la '$T/run-a1' '$T/run-a2'; false; }"

# A requeued job runs its prolog again on a node that may still hold the
# first run's folder and daemon: they are replaced, not kept.
hand "$PROLOG" 21 >/dev/null 2>&1
old=$(daemon_of "$T/run-a1" 21)
check "a second prolog of job 21 replaces the leftover daemon" hand "$PROLOG" 21
new=$(daemon_of "$T/run-a1" 21)
check "  ...the old one is gone, the new one serves" \
	bash -c "[ '$old' != '$new' ] && SLURM_JOB_ID=21 ASOC_RUN_DIR='$T/run-a1' '$STAT' >/dev/null"
check "  ...and the leftover process is gone" gone "$old"

# A daemon that does not stop on SIGTERM (here: stopped) gets SIGKILL
# after 10 s.
kill -STOP "$new" 2>/dev/null
t0=$SECONDS
check "the epilog SIGKILLs an asocd that ignores SIGTERM" hand "$EPILOG" 21
cp "$T/out" "$T/epilog-21.out"
check "  ...after 10 s, and says so" \
	bash -c "grep -q 'still running 10 s after SIGTERM: sending SIGKILL' '$T/epilog-21.out' && [ $((SECONDS - t0)) -ge 10 ]"
check "  ...it is gone" gone "$new"
check "  ...and its folder" test ! -e "$T/run-a1/21"

# --- in the SLURM lab ---------------------------------------------------------------
need_lab "the SLURM part needs the lab: tests/slurm-lab/run -- bash tests/test-slurm.sh" \
	test -n "${ASOC_LAB_NODES:-}"
KEPT=$(sed -n 's/^KEEP_LOGS_DIR=//p' "$ASOC_SLURM_CONF")
J=$T/jobs
mkdir -p "$J"
chmod 0755 "$J"


# job_clean JOB: nothing of the job's asocd is left on any node: no
# process (the pids its four logs name, and any asocd with its socket),
# no socket, no folder in any node's RUN_DIR.
job_clean() {
	local job=$1 pids p n
	pids=$(sed -n 's/^.* asocd\[\([0-9]*\)\].*/\1/p' "$KEPT"/asocd-"$job"-n?.log | sort -u)
	[ "$(wc -w <<<"$pids")" = 4 ] || { echo "expected 4 daemons in the logs of job $job, found: $pids"; return 1; }
	for p in $pids; do
		if ! gone "$p" && grep -qa "$ASOC_RUN_DIR/$job/" "/proc/$p/cmdline"; then
			echo "asocd pid $p of job $job still runs"
			return 1
		fi
	done
	if pgrep -f -- "--socket $ASOC_RUN_DIR/$job/sock/asocd.sock" >/dev/null; then
		echo "an asocd with job $job's socket still runs: $(pgrep -af -- "--community $job ")"
		return 1
	fi
	for n in n1 n2 n3 n4; do
		[ ! -e "$ASOC_LAB_NODES/$n/run/$job/sock/asocd.sock" ] || { echo "$n: socket left"; return 1; }
		[ ! -e "$ASOC_LAB_NODES/$n/run/$job" ] || { echo "$n: folder left: $(ls -la "$ASOC_LAB_NODES/$n/run/$job")"; return 1; }
	done
}

# job_logs_ok JOB: its four daemons were ranks 0-3 of 4 in community JOB,
# and none refused a peer or met a foreign rank.
job_logs_ok() {
	local job=$1 r n
	for ((r = 0; r < 4; r++)); do
		n=n$((r + 1))
		grep -q "ready: rank $r of 4, community '$job'" "$KEPT/asocd-$job-$n.log" ||
			{ echo "$n: no 'rank $r of 4, community '$job''"; cat "$KEPT/asocd-$job-$n.log"; return 1; }
	done
	# Not a refusal: two daemons that connect to each other at once keep
	# the lower rank's connection (one per pair), which process ranks
	# make the rule (every daemon connects to all at the first rank).
	if grep -E "refused|mismatch|answers as rank|claims rank|failed" "$KEPT"/asocd-"$job"-n?.log |
	    grep -v "refused us: rank [0-9]* is connecting to you: the lower rank's connection is the pair's"; then
		return 1
	fi
	# Every peer connection proved the job key and, with the lab's munged,
	# the job user's uid.
	grep -hE "(connected to|accepted) rank" "$KEPT"/asocd-"$job"-n?.log >"$T/conns" || true
	[ -s "$T/conns" ] || { echo "job $job: no peer connection in its logs"; return 1; }
	if grep -v "key and MUNGE uid proven" "$T/conns"; then
		echo "job $job: connections above without both proofs"
		return 1
	fi
}

# bench_ok OUT JOB: the job's output says it all went well.
bench_ok() {
	local out=$1 job=$2 r
	grep -q "^asoc-bench: job $job .*on 4 nodes" "$out" || { echo "no header naming job $job"; return 1; }
	grep -q "socket $ASOC_RUN_DIR/$job/sock/asocd.sock" "$out" || { echo "not job $job's socket"; return 1; }
	grep -q "data verified on 3 of 3 receivers" "$out" || { echo "not verified on 3 of 3"; return 1; }
	for ((r = 1; r < 4; r++)); do
		grep -Eq "^0: peer $r +5 of 5 .* verified$" "$out" || { echo "no verified result for rank $r"; return 1; }
	done
	# Every node's asoc-stat: its rank, a world of 4, its transfers done.
	for ((r = 0; r < 4; r++)); do
		grep -Eq "^$r: rank +$r$" "$out" || { echo "task $r did not report rank $r"; return 1; }
	done
	[ "$(grep -Ec '^[0-3]: world +4$' "$out")" = 4 ] || { echo "not four reports of a world of 4"; return 1; }
	grep -q "^asoc-bench: exit status 0$" "$out" || return 1
}

# 1. One job on four nodes, and beside it the same job of another user
# (nobody, with sbatch --uid): each job's daemons run as its own user and
# serve that user's clients.
t0=$SECONDS
# The script's defaults (sbatch passes our environment to the job).
unset ASOC_PATTERN TENSOR_MB ITERATIONS WARMUP
chmod 1777 "$J" # nobody's job writes its output here
(cd "$J" && sbatch --wait --parsable "$SCRIPT") >"$T/sbatch1" 2>&1 &
s1=$!
(cd "$J" && sbatch --wait --parsable --uid=nobody "$SCRIPT") >"$T/sbatch-nobody" 2>&1 &
s2=$!
BGPIDS+=("$s1" "$s2")
if wait "$s1"; then
	ok "sbatch --wait asoc_benchmark.slurm on four nodes succeeded ($((SECONDS - t0)) s)"
else
	not_ok "sbatch --wait asoc_benchmark.slurm on four nodes" "$T/sbatch1" "$J"/*.out
fi
if wait "$s2"; then
	ok "the same as user nobody (sbatch --uid=nobody) succeeded ($((SECONDS - t0)) s)"
else
	not_ok "the same as user nobody (sbatch --uid=nobody)" "$T/sbatch-nobody" "$J"/*.out
fi
job=$(job_id_of "$T/sbatch1")
job=${job:-none}
njob=$(job_id_of "$T/sbatch-nobody")
njob=${njob:-none}
for j in "$job" "$njob"; do
	check "job $j left squeue (epilogs done)" wait_job_gone "$j"
	check "job $j: COMPLETED, exit code 0:0" \
		job_completed "$j"
	check "job $j: every rank reported, data verified on 3 of 3 receivers" bench_ok "$J/asoc-bench-$j.out" "$j"
	check "job $j's daemons: ranks 0-3 of 4 in community $j, no refusal" job_logs_ok "$j"
	check "job $j: no asocd process, socket or folder left" job_clean "$j"
done
# asocd takes clients of its own user only (and root's): nobody's clients
# were served, so nobody's daemons ran as nobody.
check "job $njob: its four daemons served clients of uid $NOBODY (they ran as nobody)" \
	test "$(grep -l "(uid $NOBODY) connected" "$KEPT"/asocd-"$njob"-n?.log | wc -l)" = 4

# 2. A job array: two tasks on the same four nodes, at the same time if
# the scheduler can (each takes one CPU per node).
t0=$SECONDS
if (cd "$J" && sbatch --wait --parsable --array=0-1 --nodes=4 "$SCRIPT") >"$T/sbatch2" 2>&1; then
	ok "sbatch --wait --array=0-1 --nodes=4 succeeded ($((SECONDS - t0)) s)"
else
	not_ok "sbatch --wait --array=0-1 --nodes=4" "$T/sbatch2" "$J"/*.out
fi
arr=$(job_id_of "$T/sbatch2")
arr=${arr:-none}
mapfile -t tasks < <(scontrol -o show job "$arr" 2>/dev/null | grep -o '\bJobId=[0-9]*' | cut -d= -f2 | sort -n)
check "array $arr has two tasks with their own job ids (${tasks[*]})" \
	bash -c "[ ${#tasks[@]} = 2 ] && [ '${tasks[0]:-x}' != '${tasks[1]:-x}' ]"
for task in "${tasks[@]}"; do
	check "task $task left squeue (epilogs done)" wait_job_gone "$task"
	check "task $task: COMPLETED, exit code 0:0" \
		job_completed "$task"
	check "task $task: its own job id and socket in its output, verified on 3 of 3" \
		bench_ok "$J/asoc-bench-$task.out" "$task"
	check "task $task's daemons: community $task, ranks 0-3 of 4, no refused peer or foreign rank" \
		job_logs_ok "$task"
	check "task $task: no asocd process, socket or folder left" job_clean "$task"
done
if [ ${#tasks[@]} = 2 ]; then
	a=${tasks[0]} b=${tasks[1]}
	pa=$(sed -n 's/.*listening for peers on 127.0.0.11:\([0-9]*\).*/\1/p' "$KEPT/asocd-$a-n1.log")
	pb=$(sed -n 's/.*listening for peers on 127.0.0.11:\([0-9]*\).*/\1/p' "$KEPT/asocd-$b-n1.log")
	check "the two tasks' daemons used their own ports ($pa, $pb)" \
		bash -c "[ -n '$pa' ] && [ -n '$pb' ] && [ '$pa' != '$pb' ]"
	# Each task's peers are its own: every connection a daemon logs is to
	# an address:port of its own task.
	check "no daemon of one task connected to the other's port" \
		bash -c "! grep -h '127\\.0\\.0\\.1[1-4]:$pb\\b' '$KEPT'/asocd-$a-n?.log && ! grep -h '127\\.0\\.0\\.1[1-4]:$pa\\b' '$KEPT'/asocd-$b-n?.log"
	# Say whether they overlapped (the crosstalk check means most then):
	# task b's first daemon was ready before task a's last one stopped.
	ra=$(grep -h ' ready: ' "$KEPT"/asocd-"$b"-n?.log | cut -c1-23 | sort | head -1)
	sa=$(grep -h ' stopped$' "$KEPT"/asocd-"$a"-n?.log | cut -c1-23 | sort | tail -1)
	if [[ -n $ra && -n $sa && $ra < $sa ]]; then
		ok "the two tasks ran at the same time on the same nodes ($ra < $sa)"
	else
		ok "the two tasks did not overlap this time (task $b ready $ra, task $a stopped $sa)"
	fi
fi
# ranks_ok OUT JOB K: ASOC_TASKS_PER_NODE=K's alltoall went well: K
# process ranks on each of the four nodes, and every rank 0..4K-1 said
# it received and verified all its iterations.
ranks_ok() {
	local out=$1 job=$2 k=$3 w=$(($3 * 4)) r
	grep -q "^asoc-bench: job $job .*on 4 nodes" "$out" || { echo "no header naming job $job"; return 1; }
	grep -q ", $k per node (ranks 0-$((w - 1))), socket $ASOC_RUN_DIR/$job/sock/asocd.sock" "$out" ||
		{ echo "not $k per node on job $job's socket"; return 1; }
	grep -Eq "^ *0: nodes 4, $k per node  per node [0-9.]+ Gbit/s" "$out" || { echo "no 'nodes 4, $k per node' from rank 0"; return 1; }
	grep -Eq "^ *0: data verified on $w of $w receivers" "$out" || { echo "not verified on $w of $w"; return 1; }
	for ((r = 0; r < w; r++)); do
		grep -Eq "^ *$r: rank $r of $w \(node [0-3]\): 6 of 6 iterations received, verified$" "$out" ||
			{ echo "rank $r did not report verified data"; return 1; }
	done
	grep -q "^asoc-bench: exit status 0$" "$out" || return 1
}

# 2b. Process ranks: ASOC_TASKS_PER_NODE=2, then 4, on the four nodes, as
# root and as nobody at the same time (CPUs=8 in the lab: both fit),
# alltoall over all 4K ranks, same-node pairs included.
for k in 2 4; do
	t0=$SECONDS
	(cd "$J" && ASOC_TASKS_PER_NODE=$k ASOC_PATTERN=alltoall TENSOR_MB=2 ITERATIONS=5 \
		sbatch --wait --parsable --ntasks-per-node=$k "$SCRIPT") >"$T/sbatch-k$k" 2>&1 &
	s1=$!
	(cd "$J" && ASOC_TASKS_PER_NODE=$k ASOC_PATTERN=alltoall TENSOR_MB=2 ITERATIONS=5 \
		sbatch --wait --parsable --ntasks-per-node=$k --uid=nobody "$SCRIPT") >"$T/sbatch-k$k-nobody" 2>&1 &
	s2=$!
	BGPIDS+=("$s1" "$s2")
	if wait "$s1"; then
		ok "ASOC_TASKS_PER_NODE=$k on four nodes succeeded ($((SECONDS - t0)) s)"
	else
		not_ok "ASOC_TASKS_PER_NODE=$k on four nodes" "$T/sbatch-k$k" "$J"/*.out
	fi
	if wait "$s2"; then
		ok "ASOC_TASKS_PER_NODE=$k as nobody succeeded ($((SECONDS - t0)) s)"
	else
		not_ok "ASOC_TASKS_PER_NODE=$k as nobody" "$T/sbatch-k$k-nobody" "$J"/*.out
	fi
	for f in "$T/sbatch-k$k" "$T/sbatch-k$k-nobody"; do
		j=$(job_id_of "$f")
		j=${j:-none}
		check "job $j (K=$k) left squeue (epilogs done)" wait_job_gone "$j"
		check "job $j (K=$k): COMPLETED, exit code 0:0" job_completed "$j"
		check "job $j: $k ranks per node, every rank 0-$((4 * k - 1)) verified its data" \
			ranks_ok "$J/asoc-bench-$j.out" "$j" "$k"
		check "job $j: no asocd process, socket or folder left" job_clean "$j"
	done
done

# 3. A job of nobody's, running, and another user ("daemon") on its nodes:
# that user's client can reach neither the job's socket nor, with a daemon
# of its own that claims a rank of the job, its daemons as a peer.
OTHER=daemon
t0=$SECONDS
(cd "$J" && sbatch --parsable --uid=nobody --nodes=4 --ntasks-per-node=1 \
	--output="$J/hold-%j.out" --wrap 'sleep 60') >"$T/sbatch3" 2>&1 || true
hold=$(job_id_of "$T/sbatch3")
hold=${hold:-none}
hold_running() {
	local n
	[ "$(job_field "$hold" JobState)" = RUNNING ] || return 1
	for n in n1 n2 n3 n4; do [ -S "$ASOC_LAB_NODES/$n/run/$hold/sock/asocd.sock" ] || return 1; done
}
wait_until 300 hold_running || true
check "job $hold of nobody is running, its daemons serving on four nodes" hold_running
hsock=$ASOC_LAB_NODES/n1/run/$hold/sock/asocd.sock
check "the job's folder is root's (0755), its socket folder nobody's (0700)" \
	test "$(stat -c '%U %a' "$ASOC_LAB_NODES/n1/run/$hold") $(stat -c '%U %a' "$ASOC_LAB_NODES/n1/run/$hold/sock")" = "root 755 nobody 700"
check "during job $hold, no process's cmdline or environ holds the site key or its key" \
	no_key_in_proc "$(sed -n 's/^SITE_KEY=//p' "$ASOC_SLURM_CONF")" "$hold"
check_fails "another user's client cannot reach the job's socket" "another user's or job's" \
	setpriv --reuid "$OTHER" --regid "$(id -g $OTHER)" --clear-groups \
	"$B/client/asoc-stat" --socket "$hsock"
check_fails "nor send through it" "another user's or job's" \
	setpriv --reuid "$OTHER" --regid "$(id -g $OTHER)" --clear-groups \
	"$B/tests/asoc-xfer-check" --socket "$hsock" self --size 4096
# The intruder's daemon: the job's community and peer list, rank 3, its
# own address, and a key of its own (it cannot read the job's).
hport=$(sed -n 's/.*listening for peers on 127.0.0.11:\([0-9]*\).*/\1/p' \
	"$ASOC_LAB_NODES/n1/run/$hold/asocd.log" | head -1)
X=$T/intruder
mkdir -m 700 "$X"
head -c 32 /dev/urandom >"$X/key"
chmod 600 "$X/key"
chown -R "$OTHER" "$X"
setpriv --reuid "$OTHER" --regid "$(id -g $OTHER)" --clear-groups "$ASOCD" -f \
	--peers "127.0.0.11:$hport,127.0.0.12:$hport,127.0.0.13:$hport,127.0.0.14:$hport" \
	--rank 3 --listen 127.0.0.15 --port "$hport" --community "$hold" --transport tcp \
	--key-file "$X/key" --socket "$X/s.sock" --log-file "$X/d.log" --connection-timeout 5 \
	--munge-socket "$(sed -n 's/^MUNGE_SOCKET=//p' "$ASOC_SLURM_CONF")" &
DAEMONS+=($!)
wait_socket "$X/s.sock" || true
check_fails "the intruder's daemon cannot join the job as a peer" "key mismatch" \
	setpriv --reuid "$OTHER" --regid "$(id -g $OTHER)" --clear-groups \
	"$B/tests/asoc-xfer-check" --socket "$X/s.sock" send --to 0 --size 4096
check "the job's rank 0 logged the failed handshake with the intruder" \
	grep -q "handshake with rank 3 .* failed: refused us: key mismatch" \
	"$ASOC_LAB_NODES/n1/run/$hold/asocd.log"
stop_pid "${DAEMONS[-1]}"
scancel "$hold" 2>/dev/null || true
check "job $hold left squeue (epilogs done)" wait_job_gone "$hold"
check "job $hold: no asocd process, socket or folder left" job_clean "$hold"

# Two jobs whose ids are equal modulo 1000 are tried by hand above (jobs
# 5 and 1005, with asoc-slurm and asocd themselves): SLURM 22.05's sbatch
# cannot choose a job id, and the lab's ids run from 1.
check "every node's RUN_DIR is empty after all jobs" \
	bash -c "[ -z \"\$(find '$ASOC_LAB_NODES'/n?/run -mindepth 1 | tee /dev/stderr)\" ]"
check "no node was drained" no_node_drained
finish
