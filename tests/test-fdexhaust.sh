#!/usr/bin/env bash
# Descriptor exhaustion, reachable without authentication: 5,000 silent
# connections, half to rank 0's peer port (past the cap on pending
# handshakes) then half to its Unix socket, with rank 0's RLIMIT_NOFILE
# lowered (prlimit) so that they exhaust it at once; rank 0 must keep up
# with the peer half (reach the cap, drop the oldest), busy polling on
# one CPU with the flood.  While they last, rank 0 must not spin (under 10% of a core)
# nor flood its log (under 1 MB); once they are gone, a client and a peer
# must be served at once.
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib.sh"

N=${FDEXHAUST_CONNECTIONS:-5000}
HOLD=4		# seconds the flood holds its connections
NOFILE=128	# rank 0's descriptor limit during the test

command -v prlimit >/dev/null || { echo "prlimit (util-linux) is needed"; exit 77; }
# The flood itself holds N descriptors.
if [ "$(id -u)" -ne 0 ] && [ "$(ulimit -Hn)" != unlimited ] && [ "$(ulimit -Hn)" -lt $((N + 64)) ]; then
	echo "needs root, or a hard descriptor limit of at least $((N + 64)) (ulimit -Hn)"
	exit 77
fi
command -v taskset >/dev/null || { echo "taskset (util-linux) is needed"; exit 77; }
# asocd's default busy polling (--busy-poll 50), as users run it.
start_cluster 2 --munge no
D0=${DAEMONS[0]}
check "rank 0 -> 1 connects them" xfer 1048577 recv-first 0 1
if ! prlimit --pid "$D0" --nofile=$NOFILE:$NOFILE; then
	echo "cannot lower asocd's descriptor limit (prlimit needs root)"
	exit 77
fi

ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
hz=$(getconf CLK_TCK)
log0=$(stat -c %s "$T/d0.log")
cpu0=$(ticks "$D0")
t0=$EPOCHREALTIME
# Rank 0 and the flood share one CPU, as on a loaded machine: a spinning
# daemon that gives its core away after every turn that had work is then
# served one turn per round of the scheduler, and accepts a dozen of the
# flood's peer half before its local half takes the descriptors left.
cpus=$(taskset -pc $$ | sed 's/.*: *//')
taskset -pc "${cpus%%[-,]*}" "$D0" >/dev/null
check "$N connections opened, held ${HOLD} s and closed" \
    timeout 60 taskset -c "${cpus%%[-,]*}" "$HOSTILE" flood "$(sock 0)" \
    127.0.0.1 "$BASE" "$N" "$HOLD"
sed -n 's/^# /    /p' "$T/out"
dropped=$(sed -n 's/^# \([0-9]*\) peer connections closed by the target.*/\1/p' "$T/out")
taskset -pc "$cpus" "$D0" >/dev/null
cpu1=$(ticks "$D0")
t1=$EPOCHREALTIME
log1=$(stat -c %s "$T/d0.log")
cpu=$(awk -v a="$cpu0" -v b="$cpu1" -v hz="$hz" -v s="$t0" -v e="$t1" \
    'BEGIN { printf "%.1f", (b - a) / hz / (e - s) * 100 }')
grew=$((log1 - log0))
if awk -v c="$cpu" 'BEGIN { exit !(c < 10) }'; then
	ok "rank 0 used ${cpu}% of a core during the flood"
else
	not_ok "rank 0 used ${cpu}% of a core during the flood (limit 10%)"
fi
if [ "$grew" -lt 1048576 ]; then
	ok "its log grew by $grew bytes"
else
	not_ok "its log grew by $grew bytes (limit 1 MB)" <(sort "$T/d0.log" | uniq -c | sort -rn | head -5)
fi
check "it said once in a while that it stopped accepting, and why" \
    grep -q "not accepting until a descriptor frees" "$T/d0.log"
check "rank 0 survived" kill -0 "$D0"
check "the oldest pending handshakes made room for new ones" \
    grep -q "too many handshakes pending" "$T/d0.log"
# Keeping up with the peer half, rank 0 dropped hundreds of its oldest
# (600 to 1,100 when written, busy polling or not); served one turn per
# round of the scheduler, it reached the cap of 64 only as the local half
# came and dropped 0 to 5.
if [ "${dropped:-0}" -ge 64 ]; then
	ok "rank 0 kept up with the peer half: it dropped $dropped of the oldest (at least 64)"
else
	not_ok "rank 0 kept up with the peer half: it dropped ${dropped:-none} of the oldest (at least 64)" "$T/out"
fi

# Afterwards, at once: a client of rank 0, and a peer whose connection
# is new (rank 1 restarted, so rank 0 must accept it).
printf '#!/bin/sh\nexec timeout 20 %q "$@"\n' "$XFER" >"$T/xfer"
chmod +x "$T/xfer"
XFER=$T/xfer
kill_rank 1
start_rank 1 --munge no
wait_ready 2 || not_ok "rank 1 came back" "$T/d1.log"
before=$(grep -c "accepted rank 1 " "$T/d0.log" || true)
ta=$EPOCHREALTIME
if xfer 1048577 recv-first 1 0 >"$T/after.out" 2>&1 &&
    xfer 1048577 send-first 0 1 >>"$T/after.out" 2>&1; then
	took=$(awk -v a="$ta" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.2f", b - a }')
	if awk -v t="$took" 'BEGIN { exit !(t < 5) }'; then
		ok "afterwards a client and a fresh peer were served in $took s"
	else
		not_ok "afterwards a client and a fresh peer took $took s (limit 5 s)"
	fi
else
	not_ok "afterwards a client and a fresh peer are served" "$T/after.out" "$T/d0.log"
fi
after=$(grep -c "accepted rank 1 " "$T/d0.log" || true)
if [ "$after" -gt "$before" ]; then ok "rank 0 accepted rank 1's new connection"
else not_ok "rank 0 accepted rank 1's new connection" "$T/d0.log"; fi
finish
