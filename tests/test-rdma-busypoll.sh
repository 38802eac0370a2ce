#!/usr/bin/env bash
# Busy polling over RDMA (issue 15): while asocd spins (--busy-poll, 50 us
# by default) it polls the connections' completion queues itself instead
# of waiting for each completion's wake-up through the completion channel.
# Run by `make check-rdma` inside the Soft-RoCE lab (tests/rdma-lab/run),
# or directly with ASOC_TEST_HOST set to an address on an RDMA device.
# Each daemon logs (debug), when a connection goes, how many completions
# the spin took and how many came through the channel: with the default
# the spin must have taken some, with --busy-poll 0 none; every message is
# verified either way.  No timing is asserted.
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib.sh"

need_rdma_host
BENCH=$B/client/asoc-bench

# pingpong NAME: 300 8-byte and 20 64 KiB messages one at a time from
# rank 0 to rank 1, every one verified.
pingpong() {
	local name=$1 size r
	for size in 8 64K; do
		timeout 300 "$BENCH" --socket "$(sock 1)" --json --size "$size" \
		    --iterations 300 --warmup 4 >"$T/$name-$size.1" 2>&1 &
		r=$!
		timeout 300 "$BENCH" --socket "$(sock 0)" --json --size "$size" \
		    --iterations 300 --warmup 4 >"$T/$name-$size.0" 2>&1 ||
		    { kill -TERM "$r" 2>/dev/null; wait "$r"; cat "$T/$name-$size."*; return 1; }
		wait "$r" || { cat "$T/$name-$size."*; return 1; }
		grep -Eq '"receivers":([0-9]+),"verified":\1[,}]' "$T/$name-$size.0" &&
		    grep -q '"verified":true' "$T/$name-$size.1" ||
		    { cat "$T/$name-$size."*; return 1; }
	done
}

# freed_line: rank 0's log line for its connection to rank 1, once rank 1
# has gone (the connection is freed then).
freed_lines() { grep -c "rdma: connection freed:" "$T/d0.log"; }
freed_line() {
	local before
	before=$(freed_lines)	# duplicates dropped at start-up, if any
	stop_rank 1
	wait_until 100 test "$(freed_lines)" -gt "$before" ||
	    { tail -n 30 "$T/d0.log"; return 1; }
	grep "rdma: connection freed:" "$T/d0.log" | tail -n 1 | tee "$T/freed"
}
# spin_count: completions the spin took, from freed_line's line.
spin_count() { sed -n 's/.*freed: \([0-9]*\) completions taken by the busy poll.*/\1/p' "$T/freed"; }
chan_count() { sed -n 's/.*busy poll, \([0-9]*\) through the completion channel.*/\1/p' "$T/freed"; }

start_cluster 2 "${RD[@]}" --log-level debug
check "rdma, default busy poll: 8 B and 64 KiB one at a time, verified" pingpong spin
check "rdma, default busy poll: the connection's counts are logged" freed_line
n=$(spin_count)
if [ -n "$n" ] && [ "$n" -gt 0 ]; then
	ok "rdma, default busy poll: the spin took completions from the CQ ($n; channel $(chan_count))"
else
	not_ok "rdma, default busy poll: the spin took completions from the CQ (${n:-none})" "$T/d0.log"
fi

restart_cluster 2 "${RD[@]}" --log-level debug --busy-poll 0
check "rdma, --busy-poll 0: 8 B and 64 KiB one at a time, verified" pingpong nospin
check "rdma, --busy-poll 0: the connection's counts are logged" freed_line
n=$(spin_count) c=$(chan_count)
if [ "$n" = 0 ] && [ -n "$c" ] && [ "$c" -gt 0 ]; then
	ok "rdma, --busy-poll 0: every completion came through the channel ($c)"
else
	not_ok "rdma, --busy-poll 0: every completion came through the channel (spin ${n:-?}, channel ${c:-?})" "$T/d0.log"
fi
check "rdma: rank 0 is still up" kill -0 "${DAEMONS[0]}"
finish
