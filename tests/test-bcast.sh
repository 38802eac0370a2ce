#!/usr/bin/env bash
# asoc_bcast on three loopback ranks whose asocd have different chunk
# sizes (4M, 1M, 256K): every rank must cut the tensor into the same
# pieces, or the pieces do not match and the broadcast fails with "has N
# bytes, not M" (it did, while the piece was a whole number of the local
# daemon's chunks).  The sizes are not whole pieces, so the last piece is short, and
# one is smaller than one piece; asoc-bench checks every byte on every
# receiver.
#
# Then process ranks, two per asocd: asoc_bcast's chain runs over one
# leader per node (one network copy each) and the same-node copies under
# it.  With the ranks laid out cyclically (rank p on node p % 3), a chain
# in rank order would cross the network at every link (5 copies per
# broadcast instead of 2): the daemons' peer counters tell which it was.
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

# net_bytes: the bytes the three daemons sent to their peers, in all.
net_bytes() {
	local i
	for i in 0 1 2; do
		"$STAT" --socket "$(sock "$i")" --json
	done | python3 -c '
import json, sys
print(sum(p["bytes_sent"] for line in sys.stdin
          for p in json.loads(line)["peers"] if p["state"] != "self"))'
}

# pbcast LAYOUT SIZE: asoc-bench --pattern bcast over 6 process ranks, 2
# per daemon, block (rank p on node p / 2) or cyclic (p % 3); every rank
# must say it verified both broadcasts.
pbcast() {
	local layout=$1 size=$2 p n rc=0
	local -a b=()
	for ((p = 5; p >= 0; p--)); do
		if [ "$layout" = block ]; then n=$((p / 2)); else n=$((p % 3)); fi
		timeout 120 "$BENCH" --socket "$(sock "$n")" --rank "$p" \
		    --world-size 6 -p bcast --size "$size" -i 2 -w 0 \
		    >"$T/p$p" 2>&1 &
		b+=($!)
	done
	for p in "${b[@]}"; do
		wait "$p" || rc=1
	done
	cat "$T"/p?
	[ "$rc" -eq 0 ] && grep -q 'data verified on 5 of 5 receivers' "$T/p0" &&
	    grep -q '^nodes 3, 2 per node ' "$T/p0" || return 1
	for ((p = 1; p < 6; p++)); do
		grep -q "^rank $p of 6 (node [0-2]): 2 of 2 iterations received, verified$" \
		    "$T/p$p" || { echo "rank $p did not verify"; return 1; }
	done
}

check "process ranks, 3 daemons x 2 (block): bcast of 8 MiB + 8 bytes, checked on every rank" \
    pbcast block 8388616
# 2 broadcasts + asoc-bench's 3 single-pair tensors from rank 0 to rank 1
# (on node 1 here): 7 tensors cross the network; a chain in rank order
# would send 13.  One tensor of slack for the control messages.
before=$(net_bytes)
check "process ranks, 3 daemons x 2 (cyclic): bcast of 8 MiB + 8 bytes, checked on every rank" \
    pbcast cyclic 8388616
after=$(net_bytes)
check "  ...one network copy per node: $(( (after - before) >> 20 )) MiB over the network (at most 8 tensors of 8 MiB)" \
    test $((after - before)) -le $((8 * 8388616))
check "process ranks: bcast of 100,000 bytes, checked on every rank" \
    pbcast cyclic 100000
check "the three daemons are still up" all_daemons_alive
finish
