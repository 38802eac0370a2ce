#!/usr/bin/env bash
# Windows of messages in flight over the RDMA transport: run by `make
# check-rdma` inside the Soft-RoCE lab (tests/rdma-lab/run), or directly
# with ASOC_TEST_HOST set to an address on an RDMA device.  asoc-bench
# with --window in pair and the collective patterns, below 1 MiB and at
# it, every message verified; asoc-send / asoc-recv with windows, the file
# identical.  No timing is asserted.
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib.sh"

need_rdma_host
BENCH=$B/client/asoc-bench
start_cluster 2 "${RD[@]}"

# bench2 NAME ARGS...: asoc-bench ARGS (JSON) on rank 1 then rank 0; rank
# 0 must count every receiver verified, rank 1 its own data verified.
bench2() {
	local name=$1 r
	shift
	timeout 300 "$BENCH" --socket "$(sock 1)" --json "$@" >"$T/$name.1" 2>&1 &
	r=$!
	timeout 300 "$BENCH" --socket "$(sock 0)" --json "$@" >"$T/$name.0" 2>&1 ||
	    { kill -TERM "$r" 2>/dev/null; wait "$r"; cat "$T/$name.0" "$T/$name.1"; return 1; }
	wait "$r" || { cat "$T/$name.0" "$T/$name.1"; return 1; }
	cat "$T/$name.0"
	grep -Eq '"receivers":([0-9]+),"verified":\1[,}]' "$T/$name.0" &&
	    grep -q '"verified":true' "$T/$name.1"
}

check "rdma: pair --size 8 --window 16, 500 messages verified" \
    bench2 p8 --size 8 --window 16 --iterations 500 --warmup 16
check "rdma: pair --size 64K --window 16, 300 messages verified" \
    bench2 p64k --size 64K --window 16 --iterations 300 --warmup 16
check "rdma: pair --size 1M --window 4, verified" \
    bench2 p1m --size 1M --window 4 --iterations 20 --warmup 4
for pat in bcast-naive alltoall ring; do
	check "rdma: $pat --size 4K --window 8, verified" \
	    bench2 "$pat" --pattern "$pat" --size 4K --window 8 -i 5
done
check "rdma: the pair is connected over rdma" bash -c \
    "'$STAT' --socket '$(sock 0)' --json | grep -q '\"rank\":1,[^}]*\"transport\":\"rdma\"'"

# 1 MiB chunks (RD): 40 MiB + 3 bytes is 41 messages.
head -c $((40 * 1048576 + 3)) /dev/urandom >"$T/in.bin"
run_bg "$T/recv.err" "$RECV" --socket "$(sock 1)" --from 0 --window 8 -o "$T/out.bin"
rpid=$LAST
check "rdma: asoc-send --window 16 to asoc-recv --window 8" \
    "$SEND" --socket "$(sock 0)" --to 1 --window 16 "$T/in.bin"
if wait "$rpid" && cmp "$T/in.bin" "$T/out.bin"; then
	ok "rdma: the file arrives identical"
else
	not_ok "rdma: the file arrives identical" "$T/recv.err"
fi
check "rdma: both daemons are still up" all_daemons_alive
finish
