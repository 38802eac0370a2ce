#!/usr/bin/env bash
# asoc_bcast on three loopback ranks whose asocd have different chunk
# sizes (4M, 1M, 256K): every rank must cut the tensor into the same
# pieces, or the pieces do not match and the broadcast fails with "has N
# bytes, not M" (it did, while the piece was a whole number of the local
# daemon's chunks).  The sizes are not whole pieces, so the last piece is short, and
# one is smaller than one piece; asoc-bench checks every byte on every
# receiver.
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib.sh"
BENCH=$B/client/asoc-bench

ENV_1="ASOC_CHUNK_SIZE=1M"
ENV_2="ASOC_CHUNK_SIZE=256K"
start_cluster 3

# bcast SIZE: asoc-bench --pattern bcast of SIZE bytes on ranks 0..2.
bcast() {
	local size=$1 i rc=0
	local -a b=()
	for i in 2 1; do
		timeout 120 "$BENCH" --socket "$(sock "$i")" -p bcast \
		    --size "$size" -i 2 -w 0 >"$T/b$i" 2>&1 &
		b+=($!)
	done
	timeout 120 "$BENCH" --socket "$(sock 0)" -p bcast --size "$size" \
	    -i 2 -w 0 >"$T/b0" 2>&1 || rc=1
	for i in "${b[@]}"; do
		wait "$i" || rc=1
	done
	cat "$T/b0" "$T/b1" "$T/b2"
	[ "$rc" -eq 0 ] && grep -q 'data verified on 2 of 2 receivers' "$T/b0"
}

check "bcast of 8 MiB + 8 bytes over chunks of 4M, 1M and 256K" \
    bcast 8388616
check "bcast of 100,000 bytes (less than one piece)" bcast 100000
finish
