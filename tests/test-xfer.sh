#!/usr/bin/env bash
# Transfers of every size between real daemons, in both orders (receive
# posted first, send arrived first), remote and on the same node, each
# checked byte for byte; and the errors a user can cause.
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib.sh"

start_cluster 3

for size in 0 1 4096 1048577 67108864 1073741824; do
	for order in recv-first send-first; do
		check "rank 0 -> 1, $size bytes, $order" xfer "$size" "$order" 0 1
		check "same node, $size bytes, ${order/recv/receive}" \
		    "$XFER" --socket "$(sock 2)" self --size "$size" --order "$order"
	done
done
check "rank 2 -> 0, 1 MiB + 1, receive first" xfer 1048577 recv-first 2 0
check "rank 1 -> 2, 4 KiB, send first" xfer 4096 send-first 1 2

# Any source, and several messages in order on one tag.
"$XFER" --socket "$(sock 0)" recv --from any --size 65536 --count 3 >"$T/any.out" 2>&1 &
anypid=$!
check "three sends from rank 2 to an any-source receive" \
    "$XFER" --socket "$(sock 2)" send --to 0 --size 65536 --count 3
if wait "$anypid" && [ "$(grep -c 'from rank 2 .* ok' "$T/any.out")" = 3 ]; then
	ok "the any-source receive got all three, in order"
else
	not_ok "the any-source receive got all three, in order" "$T/any.out"
fi

# Errors a user can cause, each with a message and no harm done.
check_fails "send to a rank that does not exist" "rank 7" \
    "$XFER" --socket "$(sock 0)" send --to 7 --size 10
check "receive too small: the receiver gets ETRUNC" bash -c "
    '$XFER' --socket '$(sock 1)' recv --from 0 --size 100 --cap 10 --tag 5 --expect etrunc &
    r=\$!
    '$XFER' --socket '$(sock 0)' send --to 1 --size 100 --tag 5 --expect etrunc && wait \$r"
check_fails "a daemon that is not there" "is asocd running" \
    "$XFER" --socket "$T/nowhere.sock" send --to 0 --size 1
check "every daemon survived" all_daemons_alive
check "no transfer left behind on rank 0" wait_stat "$(sock 0)" xfers_active 0
check "no buffer left behind on rank 1" wait_stat "$(sock 1)" buffers 0
finish
