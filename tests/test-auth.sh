#!/usr/bin/env bash
# The authenticated peer handshake on real daemons: the job key, the
# community, MUNGE (a munged of the test's own, in its temporary folder)
# and its uid check, and the key file's own checks.
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib.sh"

# The sockets in a folder of their own, 0700 (asocd insists), since $T
# is opened below for munged and for the daemon run as nobody.
mkdir -m 700 "$T/run"
sock() { echo "$T/run/s$1.sock"; }

head -c 32 /dev/urandom >"$T/k1"
head -c 32 /dev/urandom >"$T/k2"
chmod 600 "$T/k1" "$T/k2"

# refused DESCRIPTION NEEDLE COMMAND...: the send fails as it must (its
# --expect), and the message it got says NEEDLE.
refused() {
	local desc=$1 needle=$2
	shift 2
	if ! "$@" >"$T/out" 2>&1; then
		not_ok "$desc (did not fail as expected)" "$T/out"
	elif grep -q -- "$needle" "$T/out"; then
		ok "$desc"
	else
		not_ok "$desc (no '$needle' in its output)" "$T/out"
	fi
}

# --- the key file ---
check_fails "a key file readable by others is refused" "chmod 600" bash -c "
    cp '$T/k1' '$T/kopen'; chmod 644 '$T/kopen'
    '$ASOCD' -f --key-file '$T/kopen' --socket '$T/x.sock'"
check_fails "a key file too short is refused" "at least 16" bash -c "
    printf short > '$T/kshort'; chmod 600 '$T/kshort'
    '$ASOCD' -f --key-file '$T/kshort' --socket '$T/x.sock'"
check_fails "a missing key file is refused" "cannot read key file" \
    "$ASOCD" -f --key-file "$T/none" --socket "$T/x.sock"
check_fails "--munge yes without munged is refused" "munged does not answer" \
    "$ASOCD" -f --munge yes --munge-socket "$T/no-munge.sock" --socket "$T/x.sock"

# --- the same key: in ---
ENV_0="ASOC_KEY_FILE=$T/k1 ASOC_MUNGE=no" ENV_1="ASOC_KEY_FILE=$T/k1 ASOC_MUNGE=no"
restart_cluster 2
check "peers with the same key transfer 1 MiB" pair 0 1 7 1048576
check "both logs say the key was proven" bash -c "
    grep -q 'connected to rank 1.*key proven' '$T/d0.log' &&
    grep -q 'accepted rank 0.*key proven' '$T/d1.log'"

# --- another key: refused, both logs name the peer and the reason ---
ENV_0="ASOC_KEY_FILE=$T/k1 ASOC_MUNGE=no" ENV_1="ASOC_KEY_FILE=$T/k2 ASOC_MUNGE=no"
restart_cluster 2
refused "a peer with another key is refused" "key mismatch" \
    "$XFER" --socket "$(sock 0)" send --to 1 --size 100 --expect eperm --tag 1 --settle-ms 0
check "the connector's log names rank 1 and the key" \
    grep -q "rank 1 (127.0.0.1:$((BASE + 1))).*key mismatch: rank 1 could not prove it holds the job key" "$T/d0.log"
check "the acceptor's log names the peer and the refusal" \
    grep -q "handshake with rank 0 (127.0.0.1:$BASE, from 127.0.0.1:[0-9]*) failed: refused us: key mismatch" "$T/d1.log"
check "no transfer got through, nothing left behind" bash -c "
    [ \"\$('$STAT' --socket '$(sock 1)' --json | grep -o '\"xfers_done\":[0-9]*')\" = '\"xfers_done\":0' ]"
# And the other direction, with the acceptor the one holding the key.
refused "the other way round, refused too" "key mismatch" \
    "$XFER" --socket "$(sock 1)" send --to 0 --size 100 --expect eperm --tag 2 --settle-ms 0

# --- no key against a key ---
ENV_0="ASOC_KEY_FILE=$T/k1 ASOC_MUNGE=no" ENV_1="ASOC_MUNGE=no"
restart_cluster 2
refused "a peer without the key file is refused" "key mismatch" \
    "$XFER" --socket "$(sock 1)" send --to 0 --size 100 --expect eperm --settle-ms 0
check "a daemon without a key file warns at start" grep -q "no --key-file" "$T/d1.log"

# --- another community ---
ENV_0="ASOC_KEY_FILE=$T/k1 ASOC_MUNGE=no" ENV_1="ASOC_KEY_FILE=$T/k1 ASOC_COMMUNITY=otherjob ASOC_MUNGE=no"
restart_cluster 2
refused "a peer of another community is refused" "community mismatch" \
    "$XFER" --socket "$(sock 1)" send --to 0 --size 100 --expect eperm --settle-ms 0
check "the refusing log names both communities" \
    grep -q "refused peer rank 1.*community mismatch: peer is in 'otherjob', this asocd in 'default'" "$T/d0.log"

# --- MUNGE: a munged of our own ---
MUNGED=$(command -v munged || echo /usr/sbin/munged)
if [ ! -x "$MUNGED" ]; then
	not_ok "munged is installed (tests/install-deps installs munge)"
	finish
	exit
fi
M=$T/munge
mkdir -p "$M"
chmod 755 "$T" "$M"	# munged wants its folders 0755; the job user below needs in
mungekey --create --keyfile="$M/key" >/dev/null 2>&1
chmod 600 "$M/key"
"$MUNGED" -F --key-file="$M/key" --socket="$M/sock" --pid-file="$M/pid" \
    --log-file="$M/log" --seed-file="$M/seed" --force >/dev/null 2>&1 &
BGPIDS+=($!)
wait_socket "$M/sock" || true

ENV_0="ASOC_KEY_FILE=$T/k1 ASOC_MUNGE=yes" ENV_1="ASOC_KEY_FILE=$T/k1 ASOC_MUNGE=yes"
restart_cluster 2 --munge-socket "$M/sock"
check "with MUNGE both ways, a transfer of 4 MiB" pair 0 1 7 4194304
check "both logs say the MUNGE uid was proven" bash -c "
    grep -q 'key and MUNGE uid proven' '$T/d0.log' && grep -q 'key and MUNGE uid proven' '$T/d1.log'"

ENV_0="ASOC_KEY_FILE=$T/k1 ASOC_MUNGE=yes" ENV_1="ASOC_KEY_FILE=$T/k1 ASOC_MUNGE=no"
restart_cluster 2 --munge-socket "$M/sock"
refused "a peer that offers no MUNGE credential is refused where munged runs" \
    "offers no MUNGE credential" \
    "$XFER" --socket "$(sock 1)" send --to 0 --size 100 --expect eperm --settle-ms 0

# A daemon of another user with the right key: MUNGE says who it is.
# (The ports of the last cluster are reused: stop it first.)
stop_cluster
rm -f "$(sock 0)" "$(sock 1)"
U=$T/nobody
mkdir -p "$U"
cp "$T/k1" "$U/k1"
chown -R nobody "$U"
chmod 700 "$U"
chmod 711 "$T"
"$ASOCD" -f --peers "$PEERS" --port "$BASE" --socket "$(sock 0)" --log-file "$T/d0.log" \
    --connection-timeout 5 --key-file "$T/k1" --munge yes --munge-socket "$M/sock" &
DAEMONS[0]=$!
setpriv --reuid nobody --regid nogroup --clear-groups "$ASOCD" -f --peers "$PEERS" \
    --port $((BASE + 1)) --socket "$U/s1.sock" --log-file "$U/d1.log" --connection-timeout 5 \
    --key-file "$U/k1" --munge yes --munge-socket "$M/sock" &
DAEMONS[1]=$!
wait_socket "$U/s1.sock" "$(sock 0)" || true
nob=$(id -u nobody)
# Each daemon restricts its credentials to its own uid, so munged will not
# decode another user's for it: that is the refusal both ways.  The
# acceptor checks first (since wire v3 it makes its own credential only
# after the caller's checked out), so it is the one that refuses.
refused "another uid's daemon holding the key refuses root's (MUNGE)" \
    "rank 0 sent a MUNGE credential for another user than this job's (uid $nob)" \
    "$XFER" --socket "$(sock 0)" send --to 1 --size 100 --expect eperm --settle-ms 0
check "the refusing daemon's log says why" \
    grep -q "refused peer rank 0 .*: rank 0 sent a MUNGE credential for another user" "$U/d1.log"
check "the refused daemon's log says why" \
    grep -q "rank 1 (127.0.0.1:$((BASE + 1))): refused us: rank 0 sent a MUNGE credential for another user" "$T/d0.log"
refused "and the other way round: root's daemon refuses nobody's" \
    "rank 1 sent a MUNGE credential for another user than this job's (uid 0)" \
    setpriv --reuid nobody --regid nogroup --clear-groups \
    "$XFER" --socket "$U/s1.sock" send --to 0 --size 100 --expect eperm --settle-ms 0
finish
