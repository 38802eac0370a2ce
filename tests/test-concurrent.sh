#!/usr/bin/env bash
# Sixteen clients at once on three daemons: eight pairs over every
# direction (and the same node), each with its own tag, all checked.  Then
# large stream must not hold up small messages on the same connection.
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib.sh"

start_cluster 3

pairs="0:1 1:2 2:0 0:2 1:0 2:1 0:0 1:1"
pids=()
tag=100
for p in $pairs; do
	src=${p%:*} dst=${p#*:}
	"$XFER" --socket "$(sock "$dst")" recv --from "$src" --tag $tag --size 8388609 --count 4 \
	    >"$T/r$tag.out" 2>&1 &
	pids+=($!)
	"$XFER" --socket "$(sock "$src")" send --to "$dst" --tag $tag --size 8388609 --count 4 \
	    >"$T/s$tag.out" 2>&1 &
	pids+=($!)
	tag=$((tag + 1))
done
bad=0
for p in "${pids[@]}"; do wait "$p" || bad=$((bad + 1)); done
if [ "$bad" -eq 0 ] && [ "$(cat "$T"/r1*.out | grep -c ' ok$')" = 32 ]; then
	ok "16 concurrent clients, 8 pairs x 4 messages, all intact"
else
	not_ok "16 concurrent clients ($bad failed)" "$T"/r1*.out "$T"/s1*.out
fi

# A stream of large messages from rank 0 to rank 1 (4 x 512 MiB); small
# messages on another tag over the same connection must get through while
# it runs, not after it: chunks of all transfers take turns on the wire.
"$XFER" --socket "$(sock 1)" recv --from 0 --tag 1 --size 536870912 --count 4 >"$T/big-r.out" 2>&1 &
bigr=$!
"$XFER" --socket "$(sock 0)" send --to 1 --tag 1 --size 536870912 --count 4 >"$T/big-s.out" 2>&1 &
bigs=$!
wait_landed "$(sock 1)" 0 400 || true
check "small messages complete while the large stream runs" bash -c "
    '$XFER' --socket '$(sock 1)' recv --from 0 --tag 2 --size 4096 --count 3 &
    r=\$!
    '$XFER' --socket '$(sock 0)' send --to 1 --tag 2 --size 4096 --count 3 && wait \$r &&
    kill -0 $bigs && echo 'the large stream is still running'"
if wait "$bigs" && wait "$bigr" && [ "$(grep -c ' ok$' "$T/big-r.out")" = 4 ]; then
	ok "the large stream completed intact"
else
	not_ok "the large stream completed intact" "$T/big-s.out" "$T/big-r.out"
fi
# A client killed mid-transfer: the daemon frees all it held (requests,
# buffers), its peer's transfers fail cleanly, and nobody exits.
"$RECV" --socket "$(sock 1)" --from 0 --tag 30 -o /dev/null 2>"$T/kr.err" &
krecv=$!
head -c 1073741824 /dev/zero | "$SEND" --socket "$(sock 0)" --to 1 --tag 30 - 2>"$T/ks.err" &
ksend=$!
wait_landed "$(sock 1)" 8388608 400 || true
kill -KILL "$krecv"
wait "$krecv" 2>/dev/null || true
check "a client killed mid-transfer: its daemon frees its buffers and receives" bash -c "
    for i in \$(seq 100); do
        case \$('$STAT' --socket '$(sock 1)' --json) in
        *'\"posted_recvs\":0,'*'\"buffers\":0,'*) exit 0 ;; esac
        sleep 0.1
    done; '$STAT' --socket '$(sock 1)'; exit 1"
# The sender's next message now waits for a receive; when the sender goes
# too, its daemon withdraws it and both daemons hold nothing.
kill -KILL "$ksend" 2>/dev/null || true
wait "$ksend" 2>/dev/null || true
for r in 0 1; do
	check "...and after the sender left, rank $r holds nothing" stat_all_zero "$(sock $r)"
done
# A sending client killed while its data is on the wire: its daemon gives
# the transfer up (the receiver is told), and again both daemons hold
# nothing: no buffer, no byte of one, no transfer, no receive, no send.
# A loopback gigabyte can finish between two polls, so the receiving
# daemon is stopped once data flows: the sender is then surely mid-data
# when it is killed (its daemon says the transfer is still active).
# Tried up to three times, in case it finished before the stop anyway.
killed_mid=0
for try in 1 2 3; do
	tag=$((30 + try))
	"$XFER" --socket "$(sock 1)" recv --from 0 --tag $tag --size 1073741824 >"$T/ks2.r" 2>&1 &
	krecv=$!
	wait_stat "$(sock 1)" posted_recvs 1
	"$XFER" --socket "$(sock 0)" send --to 1 --tag $tag --size 1073741824 >"$T/ks2.s" 2>&1 &
	ksend=$!
	wait_landed "$(sock 1)" 8388608 400 || true
	kill -STOP "${DAEMONS[1]}"
	active=$(stat_field "$(sock 0)" xfers_active)
	kill -KILL "$ksend"
	wait "$ksend" 2>/dev/null || true
	kill -CONT "${DAEMONS[1]}"
	if [ "$active" = 1 ]; then
		killed_mid=1
		break
	fi
	wait "$krecv" 2>/dev/null || true	# it finished first: again
done
if [ "$killed_mid" = 0 ]; then
	not_ok "a sender killed mid-data (the transfer finished before the kill, three times)"
elif wait "$krecv"; then
	not_ok "a sender killed mid-data: its receiver still succeeded" "$T/ks2.r"
elif grep -q "gave the transfer up" "$T/ks2.r"; then
	ok "a sender killed mid-data: its receiver is told the transfer was given up"
else
	not_ok "a sender killed mid-data: the receiver's error" "$T/ks2.r"
fi
for r in 0 1; do
	check "...and rank $r holds nothing" stat_all_zero "$(sock $r)"
done
check "every daemon survived" all_daemons_alive
finish
