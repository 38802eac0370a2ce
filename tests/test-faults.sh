#!/usr/bin/env bash
# Faults on four daemons over TCP on loopback: a peer daemon killed with -9
# mid-transfer, a daemon restarted under its clients, and receivers that
# stop reading (a client, then a whole peer daemon, SIGSTOPped, shorter
# and longer than the connection timeout) while others carry on.  Every client runs under a hard bound (timeout), so a
# hang is a failure, not a stuck `make check`.
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib.sh"

CTO=5		# --connection-timeout of every daemon (lib.sh)
SLACK=3		# seconds allowed on top of it for a failure to arrive
BOUND=120	# no client here may run longer
X() { timeout "$BOUND" "$XFER" "$@"; }
XFER_WRAP=(timeout "$BOUND")	# lib.sh's pair: both ends bounded

start_cluster 4

now() { echo "$EPOCHREALTIME"; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", b - a }'; }

# --- A peer daemon killed with -9 mid-transfer ----------------------------
# Other pairs have streams in flight across the kill: each of them sends
# four messages, and the receiver takes the first two before the kill and
# the last two after it, so their sessions and transfers surely span it.
check "rank 0 -> 1 connects them" xfer 1048577 recv-first 0 1
others="2:3 3:2 0:2 2:0"
tag=40
declare -A osend
for p in $others; do
	s=${p%:*} d=${p#*:}
	run_bg "$T/o$tag.s" X --socket "$(sock "$s")" send --to "$d" --tag $tag --size 16777217 --count 4
	osend[$tag]=$LAST
	X --socket "$(sock "$d")" recv --from "$s" --tag $tag --size 16777217 --count 2 >"$T/o$tag.r1" 2>&1 ||
	    not_ok "others: first half of $s -> $d" "$T/o$tag.r1"
	tag=$((tag + 1))
done
run_bg "$T/k.r" X --socket "$(sock 1)" recv --from 0 --tag 20 --size 1073741824
krecv=$LAST
wait_stat "$(sock 1)" posted_recvs 1
run_bg "$T/k.s" X --socket "$(sock 0)" send --to 1 --tag 20 --size 1073741824 --expect epeerlost
ksend=$LAST
# Data is moving; stop rank 1 so the transfer cannot finish before the kill.
wait_landed "$(sock 1)" 8388608 400 || true
v=$(stat_field "$(sock 1)" bytes_received)
kill -STOP "${DAEMONS[1]}"
if kill -0 "$ksend" 2>/dev/null && [ "$(stat_field "$(sock 0)" xfers_active)" -ge 1 ]; then
	ok "the 1 GiB transfer 0 -> 1 is in flight ($v bytes landed)"
else
	not_ok "the 1 GiB transfer 0 -> 1 was not in flight at the kill" "$T/k.s"
fi
t0=$(now)
kill_rank 1
if wait "$ksend"; then ok "the sender's transfer failed with peer lost"; else
	not_ok "the sender's transfer failed with peer lost" "$T/k.s" "$T/d0.log"; fi
took=$(elapsed "$t0" "$(now)")
if awk -v t="$took" -v b=$((CTO + SLACK)) 'BEGIN { exit !(t <= b) }'; then
	ok "... ${took} s after the kill (connection timeout ${CTO} s)"
else
	not_ok "... took ${took} s (connection timeout ${CTO} s + ${SLACK} s)" "$T/k.s"
fi
grep -h "peer\|lost" "$T/k.s" | sed 's/^/    sender: /'
wait "$krecv" 2>/dev/null || true
check "its receiving client was told its daemon went away, and what to do" \
    grep -q "stopped or restarted.*reconnect" "$T/k.r"
sed 's/^/    receiver: /' "$T/k.r"
# The other pairs now take their last two messages.
tag=40
for p in $others; do
	s=${p%:*} d=${p#*:}
	X --socket "$(sock "$d")" recv --from "$s" --tag $tag --size 16777217 --count 2 \
	    --first 2 >"$T/o$tag.r2" 2>&1 && rc=0 || rc=$?
	wait "${osend[$tag]}" && sc=0 || sc=$?
	if [ "$rc" -eq 0 ] && [ "$sc" -eq 0 ] &&
	    [ "$(cat "$T/o$tag.r1" "$T/o$tag.r2" | grep -c ' ok$')" = 4 ]; then
		ok "others: $s -> $d, 4 messages across the kill, all intact"
	else
		not_ok "others: $s -> $d across the kill" "$T/o$tag.r1" "$T/o$tag.r2" "$T/o$tag.s"
	fi
	tag=$((tag + 1))
done
check "rank 0 holds nothing after the kill" stat_all_zero "$(sock 0)"

# The killed peer comes back on the same port: it is reached again.
start_rank 1
check "the restarted rank 1 serves" wait_stat "$(sock 1)" rank 1
check "rank 0 -> restarted 1" xfer 1048577 recv-first 0 1
check "restarted 1 -> rank 0" xfer 1048577 send-first 1 0

# --- A daemon restarted (SIGTERM, then started again) under its clients ---
# One client blocked in a receive, one blocked in a send that has no
# receiver, one connected and idle: each gets an error that says the
# daemon went away and what to do, not a bare EPIPE.
run_bg "$T/rs.recv" X --socket "$(sock 1)" recv --from 2 --tag 61 --size 4096
rrecv=$LAST
run_bg "$T/rs.send" X --socket "$(sock 1)" send --to 3 --tag 62 --size 4096
rsend=$LAST
run_bg "$T/rs.idle" X --socket "$(sock 1)" send --to 0 --tag 63 --size 4096 --start-after "$T/go"
ridle=$LAST
wait_stat "$(sock 1)" posted_recvs 1
wait_stat "$(sock 3)" unexpected 1
for ((t = 0; t < 200; t++)); do grep -q connected "$T/rs.idle" && break; sleep 0.05; done
stop_rank 1
start_rank 1
check "rank 1 restarted" wait_stat "$(sock 1)" rank 1
touch "$T/go"
for c in recv:$rrecv send:$rsend idle:$ridle; do
	if wait "${c#*:}"; then
		not_ok "restart: the $c client did not fail" "$T/rs.${c%:*}"
	elif grep -q "shutting down: start it again and reconnect\|stopped or restarted.*reconnect" \
	    "$T/rs.${c%:*}"; then
		ok "restart: the ${c%:*} client got a clear error"
		grep -v connected "$T/rs.${c%:*}" | sed 's/^/    /'
	else
		not_ok "restart: the ${c%:*} client's error is not clear" "$T/rs.${c%:*}"
	fi
done
check "restart: rank 3 withdrew the send of the restarted rank" stat_all_zero "$(sock 3)"
check "restart: a new client of rank 1 sends to rank 2" xfer 65536 recv-first 1 2
check "restart: and receives from rank 3" xfer 65536 send-first 3 1
check "restart: rank 0 reaches rank 1 again" xfer 65536 recv-first 0 1
check "restart: asoc-send | asoc-recv through the restarted daemon" bash -c "
    timeout $BOUND '$RECV' --socket '$(sock 0)' --from 1 --tag 64 -o '$T/rs.out' & r=\$!
    seq 1 100000 | timeout $BOUND '$SEND' --socket '$(sock 1)' --to 0 --tag 64 - &&
    wait \$r && seq 1 100000 | cmp - '$T/rs.out'"

# --- Receivers that stop reading: memory stays bounded -------------------
# asocd copies no payload: bytes go from the sender's mapped buffer to the
# socket and from the socket into the receiver's mapped buffer.  So its
# resident memory is its own small state plus the client buffers it maps
# (faulted in at registration; asoc-stat's buffer_bytes).  The bound: at
# every sample, VmRSS - buffer_bytes stays within OWN_SLACK of what it was
# idle, before the push.  32 MiB is 8 chunks: more than a connection's
# output queue (two chunks, and those are references into client memory)
# plus libevent's and malloc's working room; a daemon that buffered a
# stalled stream itself would pass it within a fraction of a second.
OWN_SLACK=32768	# kB
vmrss() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"; }
own_kb() {	# RANK: VmRSS minus the client buffers it maps, in kB
	local bb bb2 rss t
	# Clients register and free buffers meanwhile: only a VmRSS read
	# between two equal buffer_bytes belongs to that figure.
	for ((t = 0; t < 20; t++)); do
		bb=$(stat_field "$(sock "$1")" buffer_bytes)
		rss=$(vmrss "${DAEMONS[$1]}")
		bb2=$(stat_field "$(sock "$1")" buffer_bytes)
		[ "$bb" != "$bb2" ] || break
	done
	echo $((rss - bb / 1024))
}
# sample SECS RANK... : max own_kb of each rank over SECS, in MAX[rank];
# a rank given as sN is stopped: its plain VmRSS (it cannot change).
declare -A MAX
sample() {
	local end r v
	end=$(awk -v t="$(now)" -v s="$1" 'BEGIN { printf "%.3f", t + s }')
	shift
	for r in "$@"; do MAX[$r]=0; done
	while awk -v t="$(now)" -v e="$end" 'BEGIN { exit !(t < e) }'; do
		for r in "$@"; do
			if [ "${r#s}" != "$r" ]; then v=$(vmrss "${DAEMONS[${r#s}]}")
			else v=$(own_kb "$r"); fi
			[ "$v" -le "${MAX[$r]}" ] || MAX[$r]=$v
		done
		sleep 0.2
	done
}
# wait_bounded PID SECS: wait for a child, killing it after SECS (124).
wait_bounded() {
	local t
	for ((t = 0; t < $2 * 10; t++)); do
		kill -0 "$1" 2>/dev/null || break
		sleep 0.1
	done
	kill -0 "$1" 2>/dev/null && { kill -KILL "$1"; wait "$1" 2>/dev/null; return 124; }
	wait "$1"
}
within() {	# NAME RANK: MAX[rank] within OWN_SLACK of BASE[rank]
	local d=$((MAX[$2] - BASE[$2]))
	if [ "$d" -le "$OWN_SLACK" ]; then
		ok "$1: rank ${2#s} stayed bounded (own memory ${BASE[$2]} kB idle, at most ${MAX[$2]} kB, +$d kB; bound +$OWN_SLACK kB)"
	else
		not_ok "$1: rank ${2#s} grew by $d kB (${BASE[$2]} -> ${MAX[$2]} kB; bound +$OWN_SLACK kB)"
	fi
}
declare -A BASE
# meanwhile WHAT OUT TAG RANKS SRC:DST...: while something is stopped, a
# checked pair of 64 MiB + 1 for each SRC:DST (tags TAG+1..., output in
# OUT.oN), and 4 s of memory samples of RANKS (see sample), each of which
# must stay within bounds; then every pair must complete within 60 s.
meanwhile() {
	local what=$1 out=$2 tag=$3 ranks=$4 p i=0 r
	local -a pids=() names=()
	shift 4
	for p; do
		i=$((i + 1))
		run_bg "$out.o$i" pair "${p%:*}" "${p#*:}" $((tag + i)) 67108865
		pids+=("$LAST")
		names+=("${p%:*} -> ${p#*:}")
	done
	# shellcheck disable=SC2086 # RANKS is a list
	sample 4 $ranks
	for r in $ranks; do within "$what, 4 s of pushing" "$r"; done
	for ((i = 0; i < ${#pids[@]}; i++)); do
		if wait_bounded "${pids[$i]}" 60; then
			ok "$what: ${names[$i]} completed meanwhile"
		else
			not_ok "$what: ${names[$i]}" "$out.o$((i + 1))"
		fi
	done
}

# (a) A receiving client SIGSTOPped while a sender streams to it: asoc-send
# of seq's output (about 350 MB) to asoc-recv, compared on arrival.
N=40000000
BASE[0]=$(own_kb 0) BASE[1]=$(own_kb 1)
mkfifo "$T/st.fifo"
run_bg "$T/st.cmp" bash -c "seq 1 $N | cmp - '$T/st.fifo' && echo identical"
stcmp=$LAST
"$RECV" --socket "$(sock 1)" --from 0 --tag 70 >"$T/st.fifo" 2>"$T/st.r" &
strecv=$!
BGPIDS+=("$strecv")
seq 1 $N | "$SEND" --socket "$(sock 0)" --to 1 --tag 70 - 2>"$T/st.s" &
stsend=$!
BGPIDS+=("$stsend")
if wait_landed "$(sock 1)" 33554432; then
	kill -STOP "$strecv"
	ok "stopped client: the stream runs, its receiver is now stopped"
else
	not_ok "stopped client: the stream did not start" "$T/st.s" "$T/st.r"
fi
# Others carry on meanwhile: another client of the same two daemons, and
# a pair elsewhere.
meanwhile "stopped client" "$T/st" 70 "0 1" 0:1 2:3
kill -CONT "$strecv"
if wait_bounded "$stsend" "$BOUND" && wait_bounded "$strecv" "$BOUND" &&
    wait_bounded "$stcmp" 30 && grep -q identical "$T/st.cmp"; then
	ok "stopped client: after SIGCONT the stream finished, identical"
else
	not_ok "stopped client: after SIGCONT" "$T/st.s" "$T/st.r" "$T/st.cmp"
fi
for r in 0 1; do check "stopped client: rank $r holds nothing after" stat_all_zero "$(sock $r)"; done

# (b) A receiving peer daemon SIGSTOPped while its peer sends to it: 1 GiB
# from rank 0 to rank 1.  The stop lasts about as long as the connection
# timeout, so the transfer may finish after SIGCONT or fail with "peer
# lost" (TCP's user timeout); either is clean, a hang is not.
BASE[0]=$(own_kb 0) BASE[s1]=$(vmrss "${DAEMONS[1]}")
run_bg "$T/sd.r" X --socket "$(sock 1)" recv --from 0 --tag 80 --size 1073741824
sdr=$LAST
wait_stat "$(sock 1)" posted_recvs 1
run_bg "$T/sd.s" X --socket "$(sock 0)" send --to 1 --tag 80 --size 1073741824
sds=$LAST
if wait_landed "$(sock 1)" 33554432; then
	# The receive buffer (1 GiB, mapped) is in rank 1's VmRSS from now.
	BASE[s1]=$(vmrss "${DAEMONS[1]}")
	kill -STOP "${DAEMONS[1]}"
	ok "stopped daemon: 0 -> 1 runs, rank 1 is now stopped"
else
	not_ok "stopped daemon: 0 -> 1 did not start" "$T/sd.s" "$T/sd.r"
fi
meanwhile "stopped daemon" "$T/sd" 80 "0 s1" 0:2 3:0 2:3
kill -CONT "${DAEMONS[1]}"
wait_bounded "$sds" "$BOUND" && s=0 || s=$?
wait_bounded "$sdr" "$BOUND" && r=0 || r=$?
if [ "$s" -eq 0 ] && [ "$r" -eq 0 ] && grep -q ' ok$' "$T/sd.r"; then
	ok "stopped daemon: after SIGCONT the transfer finished, intact"
elif [ "$s" -eq 1 ] && [ "$r" -eq 1 ] && grep -q "peer's asocd went away" "$T/sd.s" &&
    grep -q "peer's asocd went away" "$T/sd.r"; then
	ok "stopped daemon: after SIGCONT the transfer failed cleanly with peer lost"
	sed 's/^/    /' "$T/sd.s" "$T/sd.r"
else
	not_ok "stopped daemon: after SIGCONT (sender $s, receiver $r)" "$T/sd.s" "$T/sd.r"
fi
for r in 0 1; do check "stopped daemon: rank $r holds nothing after" stat_all_zero "$(sock $r)"; done
# (c) A receiving peer daemon stopped for longer than the connection
# timeout: for its peer it is as good as dead.  The sender fails with
# "peer lost" within the timeout (TCP's user timeout: zero-window probes
# answered by a stopped process's kernel do not keep it waiting), and
# after SIGCONT the stopped side's receiver fails cleanly too.
run_bg "$T/sl.r" X --socket "$(sock 1)" recv --from 0 --tag 90 --size 1073741824
slr=$LAST
wait_stat "$(sock 1)" posted_recvs 1
run_bg "$T/sl.s" X --socket "$(sock 0)" send --to 1 --tag 90 --size 1073741824 --expect epeerlost
sls=$LAST
wait_landed "$(sock 1)" 33554432 || not_ok "long stop: 0 -> 1 did not start" "$T/sl.s"
kill -STOP "${DAEMONS[1]}"
t0=$(now)
wait_bounded "$sls" $((CTO + SLACK + 5)) && s=0 || s=$?
took=$(elapsed "$t0" "$(now)")
kill -CONT "${DAEMONS[1]}"
if [ "$s" -eq 0 ] && awk -v t="$took" -v b=$((CTO + SLACK)) 'BEGIN { exit !(t <= b) }'; then
	ok "long stop: the sender failed with peer lost ${took} s into the stop (timeout ${CTO} s)"
	grep -h "send:" "$T/sl.s" | sed 's/^/    /'
else
	not_ok "long stop: the sender ended after ${took} s (status $s; timeout ${CTO} s + ${SLACK} s)" "$T/sl.s" "$T/d0.log"
fi
if wait_bounded "$slr" "$BOUND"; then
	not_ok "long stop: the stopped side's receiver succeeded" "$T/sl.r"
elif grep -q "peer's asocd went away" "$T/sl.r"; then
	ok "long stop: after SIGCONT the stopped side's receiver failed with peer lost"
	sed 's/^/    /' "$T/sl.r"
else
	not_ok "long stop: the stopped side's receiver" "$T/sl.r"
fi
for r in 0 1; do check "long stop: rank $r holds nothing after" stat_all_zero "$(sock $r)"; done
check "long stop: rank 0 -> 1 again" xfer 1048577 recv-first 0 1
check "every daemon survived" all_daemons_alive

finish
