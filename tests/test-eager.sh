#!/usr/bin/env bash
# The eager path (issue 15) on two loopback daemons with a small threshold
# (4K) and budget (64K): messages at, just under and just over the
# threshold, both orders, checked byte for byte; unexpected eager messages
# over the budget (what the receiving daemon holds never exceeds it, and
# every message arrives intact once the receives are posted); a peer
# killed with eager messages in flight, and the sender killed while they
# are held (freed); 10,000 8-byte messages in order; and at the default
# threshold (over RDMA, the transport's 4K cap), one byte under, at and over it.
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib.sh"

EAGER=$B/tests/asoc-eager-check
TH=4096
BUDGET=65536
# ASOC_TEST_EAGER_RDMA=1 (make check-rdma): the same over RDMA, in the lab.
TP=()
# EDGE: the largest eager message with the default threshold, the smaller
# of it (64K) and the transport's cap (RDMA: the 4K its receive slots hold).
EDGE=65536
if [ -n "${ASOC_TEST_EAGER_RDMA:-}" ]; then
	need_rdma_host
	TP=("${RD[@]}")
	EDGE=4096
fi
start_cluster 2 --munge no --log-level debug --eager-threshold "$TH" \
    --eager-budget "$BUDGET" ${TP[@]+"${TP[@]}"}

# held_now LOG RANK: the bytes the daemon last said it held from RANK
# (each message it holds, and each it no longer holds, is logged).
held_now() {
	grep -o "([0-9]* of [0-9]* bytes held from rank $2[,)]" "$1" |
	    tail -1 | sed 's/^(\([0-9]*\) .*/\1/' || true
}

# wait_held LOG RANK BYTES: poll (10 s) until held_now says BYTES.
wait_held() {
	local t
	for ((t = 0; t < 200; t++)); do
		[ "$(held_now "$1" "$2")" = "$3" ] && return 0
		sleep 0.05
	done
	return 1
}

# held LOG: the most bytes the daemon said it held for one peer.
held_max() {
	grep -o "([0-9]* of $BUDGET bytes held from rank" "$1" |
	    sed 's/^(\([0-9]*\) .*/\1/' | sort -n | tail -1 || true
}

# --- at, just under and just over the threshold, both orders ---
for size in $((TH - 1)) "$TH" $((TH + 1)); do
	for order in recv-first send-first; do
		if xfer "$size" "$order" 0 1 >"$T/x.out" 2>&1; then
			ok "$size bytes, $order, arrive intact"
		else
			not_ok "$size bytes, $order, arrive intact" "$T/x.out"
		fi
	done
done
# Sent first, a message up to the threshold was eager and so held until
# its receive came; one byte over it was not (a plain RTS, then CTS).
for size in $((TH - 1)) "$TH"; do
	if grep -q "holding eager transfer [0-9]* of $size bytes" "$T/d1.log"; then
		ok "a $size-byte message travelled with its RTS and was held"
	else
		not_ok "a $size-byte message travelled with its RTS and was held" "$T/d1.log"
	fi
done
if ! grep -q "eager transfer [0-9]* of $((TH + 1)) bytes" "$T/d1.log"; then
	ok "a $((TH + 1))-byte message was not eager"
else
	not_ok "a $((TH + 1))-byte message was not eager" "$T/d1.log"
fi

# --- unexpected eager messages over the budget ---
# 40 x 4K = 160K sent before any receive, against a 64K budget: 16 are
# held, the rest wait as plain RTSs and move after CTS.
run_bg "$T/over-send.out" "$EAGER" "$(sock 0)" send 1 7 "$TH" 40 40
spid=$LAST
if wait_stat "$(sock 1)" unexpected 40; then
	ok "40 eager messages wait unmatched on rank 1"
else
	not_ok "40 eager messages wait unmatched on rank 1" "$T/d1.log"
fi
h=$(held_max "$T/d1.log")
if [ -n "$h" ] && [ "$h" -le "$BUDGET" ] &&
    grep -q "is over the budget ([0-9]* of $BUDGET bytes held" "$T/d1.log"; then
	ok "rank 1 held at most the budget ($h of $BUDGET bytes), the rest waits as plain RTSs"
else
	not_ok "rank 1 held at most the budget (held: ${h:-none})" "$T/d1.log"
fi
if "$EAGER" "$(sock 1)" recv 0 7 "$TH" 40 40 >"$T/over-recv.out" 2>&1 &&
    wait "$spid"; then
	ok "all 40 arrive intact and in order once the receives are posted"
else
	not_ok "all 40 arrive intact and in order once the receives are posted" \
	    "$T/over-recv.out" "$T/over-send.out"
fi
if [ "$(grep '^checksum' "$T/over-send.out" || echo none)" = \
    "$(grep '^checksum' "$T/over-recv.out" || echo no)" ]; then
	ok "sender's and receiver's checksums agree"
else
	not_ok "sender's and receiver's checksums agree" "$T/over-send.out" "$T/over-recv.out"
fi
if stat_all_zero "$(sock 1)" >/dev/null 2>&1 && wait_held "$T/d1.log" 0 0; then
	ok "rank 1 holds nothing afterwards (no request, 0 eager bytes held)"
else
	not_ok "rank 1 holds nothing afterwards (held: $(held_now "$T/d1.log" 0))" "$T/d1.log"
fi

# --- the sender killed while rank 1 holds its messages ---
# 20 x 2K, all within the budget: held.  Its asocd cancels them (ABORT),
# and rank 1 frees what it held.
run_bg "$T/ks.out" "$EAGER" "$(sock 0)" send 1 10 2048 20 20
spid=$LAST
if wait_stat "$(sock 1)" unexpected 20 && wait_held "$T/d1.log" 0 40960; then
	ok "rank 1 holds the sender's 20 messages (40960 bytes)"
else
	not_ok "rank 1 holds the sender's 20 messages (held: $(held_now "$T/d1.log" 0))" "$T/d1.log"
fi
kill -KILL "$spid" 2>/dev/null || true
wait "$spid" 2>/dev/null || true
if wait_stat "$(sock 1)" unexpected 0 && wait_held "$T/d1.log" 0 0 &&
    wait_stat "$(sock 0)" xfers_active 0; then
	ok "the sender killed, rank 1 frees what it held (0 bytes held)"
else
	not_ok "the sender killed, rank 1 frees what it held (held: $(held_now "$T/d1.log" 0))" "$T/d1.log"
fi

# --- 10,000 8-byte messages in order, 64 in flight each side ---
run_bg "$T/many-recv.out" "$EAGER" "$(sock 1)" recv 0 8 8 10000 64
rpid=$LAST
if "$EAGER" "$(sock 0)" send 1 8 8 10000 64 >"$T/many-send.out" 2>&1 &&
    wait "$rpid" &&
    [ "$(grep '^checksum' "$T/many-send.out")" = "$(grep '^checksum' "$T/many-recv.out")" ]; then
	ok "10,000 8-byte messages arrive in order, checksums equal"
else
	not_ok "10,000 8-byte messages arrive in order, checksums equal" \
	    "$T/many-send.out" "$T/many-recv.out"
fi

# --- a peer killed with eager messages in flight ---
run_bg "$T/kill-send.out" timeout 30 "$EAGER" "$(sock 0)" send 1 9 2048 20 20
spid=$LAST
wait_stat "$(sock 1)" unexpected 20 || true
kill_rank 1
if ! wait "$spid" && grep -q "went away during the transfer: lost the connection to rank 1" "$T/kill-send.out" &&
    ! grep -q "^ok" "$T/kill-send.out"; then
	ok "the senders fail saying rank 1's asocd went away, no hang"
else
	not_ok "the senders fail saying rank 1's asocd went away, no hang (status $?)" "$T/kill-send.out"
fi
if kill -0 "${DAEMONS[0]}" 2>/dev/null && wait_stat "$(sock 0)" xfers_active 0 &&
    "$XFER" --socket "$(sock 0)" self --size 3000 --order send-first >"$T/self.out" 2>&1; then
	ok "rank 0 survives, holds no transfer and still moves data"
else
	not_ok "rank 0 survives, holds no transfer and still moves data" "$T/self.out" "$T/d0.log"
fi

# --- the default threshold (64K; over RDMA its 4K cap): at it the frame
# fills the receiving transport's input buffer (receive slot) exactly; one
# byte over is a plain RTS ---
restart_cluster 2 --munge no --log-level debug ${TP[@]+"${TP[@]}"}
for size in $((EDGE - 1)) "$EDGE" $((EDGE + 1)); do
	for order in recv-first send-first; do
		if xfer "$size" "$order" 0 1 >"$T/x.out" 2>&1; then
			ok "$size bytes, $order, default threshold, arrive intact"
		else
			not_ok "$size bytes, $order, default threshold, arrive intact" "$T/x.out" "$T/d1.log"
		fi
	done
done
# --- a send that failed delivers the bytes it had, not those after ---
# Rank 1's asocd stopped, 400 eager sends fill the connection; the last,
# on tag 30, times out while its frame still waits to leave rank 0, and
# its client overwrites the buffer.  Rank 1, continued, must place the
# bytes the buffer had when the send was posted (or none), never the new
# ones.  (TCP: over RDMA the SEND copies at once.)
if [ ${#TP[@]} -eq 0 ]; then
	run_bg "$T/stale-recv.out" timeout 20 "$EAGER" "$(sock 1)" recv 0 30 65536 1 1
	rpid=$LAST
	wait_stat "$(sock 1)" posted_recvs 1 || true
	kill -STOP "${DAEMONS[1]}"
	src=0
	"$EAGER" "$(sock 0)" stale 1 30 65536 400 500 >"$T/stale-send.out" 2>&1 || src=$?
	kill -CONT "${DAEMONS[1]}"
	rrc=0
	wait "$rpid" || rrc=$?
	if [ "$src" -eq 0 ] && { [ "$rrc" -eq 0 ] || [ "$rrc" -eq 124 ]; } &&
	    ! grep -q "damaged" "$T/stale-recv.out"; then
		ok "a timed-out eager send, its buffer then overwritten, delivers the old bytes or none (receiver: $(grep -c '^ok' "$T/stale-recv.out") ok)"
	else
		not_ok "a timed-out eager send, its buffer then overwritten, delivers the old bytes or none" \
		    "$T/stale-send.out" "$T/stale-recv.out"
	fi
fi
if grep -q "holding eager transfer [0-9]* of $EDGE bytes" "$T/d1.log" &&
    ! grep -q "eager transfer [0-9]* of $((EDGE + 1)) bytes" "$T/d1.log"; then
	ok "$EDGE bytes went eager (held, sent first), $((EDGE + 1)) did not"
else
	not_ok "$EDGE bytes went eager (held, sent first), $((EDGE + 1)) did not" "$T/d1.log"
fi

# --- SIGTERM with an eager send held by its receiver ---
# No receive posted on rank 1: it holds the message and answers nothing.
# Rank 0's drain cancels the send (its ABORT frees rank 1's copy) instead
# of waiting out --connection-timeout for an answer that cannot come.
run_bg "$T/term-send.out" timeout 30 "$EAGER" "$(sock 0)" send 1 40 100 1 1
spid=$LAST
if wait_stat "$(sock 1)" unexpected 1 && wait_held "$T/d1.log" 0 100; then
	ok "rank 1 holds the 100-byte message"
else
	not_ok "rank 1 holds the 100-byte message" "$T/d1.log"
fi
stop_rank 0
if ! wait "$spid" && grep -q "shutting down" "$T/term-send.out" &&
    ! grep -q "still in flight" "$T/d0.log" &&
    wait_stat "$(sock 1)" unexpected 0 && wait_held "$T/d1.log" 0 0; then
	ok "SIGTERM cancels the held eager send, rank 1 frees it (0 bytes held)"
else
	not_ok "SIGTERM cancels the held eager send, rank 1 frees it" \
	    "$T/term-send.out" "$T/d0.log" "$T/d1.log"
fi

finish
