#!/usr/bin/env bash
# asoc-send | asoc-recv: files larger than the buffer ring, from a file and
# from a pipe, and the failures a user meets.
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib.sh"

start_cluster 2 --chunk-size 1M

# 4 buffers of 1 MiB in the ring; 40 MiB + 3 bytes is ten rings and a bit.
head -c $((40 * 1048576 + 3)) /dev/urandom >"$T/in.bin"

"$RECV" --socket "$(sock 1)" --from 0 -o "$T/out.bin" 2>"$T/recv.err" &
rpid=$!
check "asoc-send streams a file" "$SEND" --socket "$(sock 0)" --to 1 "$T/in.bin"
if wait "$rpid" && cmp "$T/in.bin" "$T/out.bin"; then ok "asoc-recv wrote an identical file"; else
	not_ok "asoc-recv wrote an identical file" "$T/recv.err"; fi

"$RECV" --socket "$(sock 0)" --from 1 --tag 9 >"$T/out2.bin" 2>"$T/recv2.err" &
rpid=$!
check "asoc-send streams stdin (unknown size)" bash -c "cat '$T/in.bin' | '$SEND' --socket '$(sock 1)' --to 0 --tag 9 -"
if wait "$rpid" && cmp "$T/in.bin" "$T/out2.bin"; then ok "asoc-recv to stdout is identical"; else
	not_ok "asoc-recv to stdout is identical" "$T/recv2.err"; fi

: >"$T/empty"
"$RECV" --socket "$(sock 1)" --from 0 --tag 3 -o "$T/empty.out" 2>"$T/recv3.err" &
rpid=$!
check "an empty file" "$SEND" --socket "$(sock 0)" --to 1 --tag 3 "$T/empty"
if wait "$rpid" && [ -f "$T/empty.out" ] && [ ! -s "$T/empty.out" ]; then ok "an empty file arrives empty"; else
	not_ok "an empty file arrives empty" "$T/recv3.err"; fi

check_fails "asoc-send of a missing file" "cannot open" "$SEND" --socket "$(sock 0)" --to 1 "$T/missing"
check_fails "asoc-send without --to" "to" "$SEND" --socket "$(sock 0)" "$T/in.bin"
check_fails "asoc-send to a daemon that is not there" "is asocd running" \
    "$SEND" --socket "$T/none.sock" --to 1 "$T/in.bin"
check_fails "asoc-send to a rank that does not exist" "rank" \
    "$SEND" --socket "$(sock 0)" --to 5 "$T/in.bin"
check_fails "asoc-recv into an unwritable place" "$T/no/such/dir" \
    "$RECV" --socket "$(sock 1)" --from 0 -o "$T/no/such/dir/out"
check "every daemon survived" all_daemons_alive
finish
