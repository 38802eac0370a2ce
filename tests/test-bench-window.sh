#!/usr/bin/env bash
# asoc-bench's message sizes below 1 MiB (--size, --sizes) and its window
# of sends in flight (--window), on two loopback daemons: every run must
# end with every message verified by the receiver.  Command-line misuse
# exits 2 with a message.  No timing is asserted: the machine may be busy.
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib.sh"

BENCH=$B/client/asoc-bench

# check_usage DESCRIPTION NEEDLE ARGS...: asoc-bench ARGS must exit 2
# (a usage error, before any daemon is asked) and say NEEDLE.
check_usage() {
	local desc=$1 needle=$2 rc=0
	shift 2
	"$BENCH" --socket "$T/none.sock" "$@" >"$T/out" 2>&1 || rc=$?
	if [ "$rc" -ne 2 ]; then
		not_ok "$desc (exit status $rc, not 2)" "$T/out"
	elif ! grep -q -- "$needle" "$T/out"; then
		not_ok "$desc (no '$needle' in its output)" "$T/out"
	else
		ok "$desc"
	fi
}

check_usage "--window 0 is refused" "--window: 0 is out of range (1 to 1024)" \
    --window 0
check_usage "--window 1025 is refused" "out of range (1 to 1024)" \
    --window 1025
check_usage "--window that is not a number is refused" "--window" \
    --window many
check_usage "--size with --size-mb is refused" \
    "--size-mb and --size both give the size" --size-mb 1 --size 64K
check_usage "--size-mb with --size is refused" \
    "--size and --size-mb both give the size" --size 64K --size-mb 1
check_usage "--sizes with --sweep is refused" "both give the size" \
    --sweep 1,2 --sizes 8,4K
check_usage "--size not a multiple of 8 is refused" "not a multiple of 8" \
    --size 12
check_usage "--size that is no size is refused" "wants a size" --size 4Q
check_usage "--window with --pattern bcast is refused" \
    "--window does not apply to --pattern bcast" --pattern bcast --window 4

start_cluster 2

# bench_pair NAME ARGS...: asoc-bench ARGS on rank 1 (receiver) and rank 0
# (sender), both in JSON; both must say every message was verified.
bench_pair() {
	local name=$1 r
	shift
	timeout 300 "$BENCH" --socket "$(sock 1)" --json "$@" >"$T/$name.1" 2>&1 &
	r=$!
	timeout 300 "$BENCH" --socket "$(sock 0)" --json "$@" >"$T/$name.0" 2>&1 ||
	    { kill -TERM "$r" 2>/dev/null; wait "$r"; cat "$T/$name.0" "$T/$name.1"; return 1; }
	wait "$r" || { cat "$T/$name.0" "$T/$name.1"; return 1; }
	cat "$T/$name.0" "$T/$name.1"
	grep -q '"verified":true' "$T/$name.1" &&
	    grep -q '"mismatches":0' "$T/$name.1" &&
	    grep -q '"receivers":1,"verified":1}' "$T/$name.0"
}

check "pair --size 8: every message verified" \
    bench_pair s8 --size 8 --iterations 50 --warmup 2
check "pair --size 8 reports per message figures" \
    grep -q '"size_bytes":8,"window":1,.*"messages":50,"us_per_msg":' "$T/s8.0"
check "pair --size 64K --window 16: every message verified" \
    bench_pair s64k --size 64K --window 16 --iterations 100 --warmup 16
check "pair --size 64K --window 16 counts 100 messages at window 16" \
    grep -q '"size_bytes":65536,"window":16,.*"messages":100,' "$T/s64k.0"
check "the receiver got all 116 messages of the window" \
    grep -q '"received":116,"mismatches":0' "$T/s64k.1"
check "pair --size 1M --window 4: every message verified" \
    bench_pair s1m --size 1M --window 4 --iterations 12 --warmup 1
check "pair --size 4K --window 3 with fewer messages than the window" \
    bench_pair small --size 4K --window 3 --iterations 2 --warmup 0
check "pair --sizes 8,4K --window 2: a run per size, each verified" bash -c "
    '$BENCH' --socket '$(sock 1)' --sizes 8,4K --window 2 -i 5 >'$T/sw.1' 2>&1 &
    b=\$!
    '$BENCH' --socket '$(sock 0)' --sizes 8,4K --window 2 -i 5 >'$T/sw.0' 2>&1 &&
    wait \$b && cat '$T/sw.0' &&
    [ \$(grep -c '^sweep pair .* us/msg .* verified 1 of 1\$' '$T/sw.0') = 2 ]"
check "pair text output at 64K says us per message" bash -c "
    '$BENCH' --socket '$(sock 1)' --size 64K -i 3 >'$T/t.1' 2>&1 &
    b=\$!
    '$BENCH' --socket '$(sock 0)' --size 64K -i 3 >'$T/t.0' 2>&1 &&
    wait \$b && cat '$T/t.0' &&
    grep -q '^per message [0-9.]* us  [0-9]* messages/s  [0-9.]* MB/s\$' '$T/t.0' &&
    grep -q '^iter 3  0 -> 1  64.0 KiB  [0-9.]* us' '$T/t.0' &&
    grep -q 'data verified on 1 of 1 receivers' '$T/t.0'"
check "--size-mb alone keeps its meaning (1 MiB)" bash -c "
    '$BENCH' --socket '$(sock 1)' --size-mb 1 -i 2 --json >'$T/m.1' 2>&1 &
    b=\$!
    '$BENCH' --socket '$(sock 0)' --size-mb 1 -i 2 --json >'$T/m.0' 2>&1 &&
    wait \$b && grep -q '\"size_bytes\":1048576,' '$T/m.0' &&
    grep -q '\"verified\":true' '$T/m.1'"

# bench_all NAME ARGS...: asoc-bench ARGS in JSON on rank 1 then rank 0, a
# collective pattern; rank 0 must count every receiver verified with no
# byte amiss, rank 1 say it verified its own.
bench_all() {
	local name=$1 r
	shift
	timeout 300 "$BENCH" --socket "$(sock 1)" --json "$@" >"$T/$name.1" 2>&1 &
	r=$!
	timeout 300 "$BENCH" --socket "$(sock 0)" --json "$@" >"$T/$name.0" 2>&1 ||
	    { kill -TERM "$r" 2>/dev/null; wait "$r"; cat "$T/$name.0" "$T/$name.1"; return 1; }
	wait "$r" || { cat "$T/$name.0" "$T/$name.1"; return 1; }
	cat "$T/$name.0" "$T/$name.1"
	grep -Eq '"receivers":([0-9]+),"verified":\1,"mismatches":0}' "$T/$name.0" &&
	    grep -q '"verified":true' "$T/$name.1"
}

# Every pattern below 1 MiB, and with a window where it applies.
for size in 8 4K 64K; do
	check "bcast --size $size: verified" bench_all bc$size --pattern bcast \
	    --size "$size" -i 5
	for pat in bcast-naive alltoall ring; do
		check "$pat --size $size --window 8: verified" \
		    bench_all $pat$size --pattern $pat --size "$size" --window 8 -i 5
	done
done
check "alltoall --window 8 moves 2 x 8 messages an iteration" \
    grep -q '"pattern":"alltoall","world":2,"size_bytes":8,"window":8,.*"messages_per_iteration":16,"us_per_msg":' "$T/alltoall8.0"
check "ring --window 8 at 64K: 16 messages an iteration" \
    grep -q '"size_bytes":65536,"window":8,.*"messages_per_iteration":16,' "$T/ring64K.0"
check "bcast-naive --window 8 at 4K: 8 messages an iteration" \
    grep -q '"size_bytes":4096,"window":8,.*"messages_per_iteration":8,' "$T/bcast-naive4K.0"
check "self --size 4K --window 16: verified, per message figures" bash -c "
    '$BENCH' --socket '$(sock 0)' --pattern self --size 4K --window 16 -i 5 >'$T/self.t' 2>&1 &&
    cat '$T/self.t' && grep -q 'window 16  data verified' '$T/self.t' &&
    grep -q '^per message [0-9.]* us  [0-9]* messages/s\$' '$T/self.t'"
check "self --size 8 --window 4 in JSON" bash -c "
    '$BENCH' --socket '$(sock 0)' --pattern self --size 8 --window 4 -i 3 --json >'$T/self.j' 2>&1 &&
    grep -q '\"window\":4,.*\"us_per_msg\":.*\"verified\":true' '$T/self.j'"
check "ring text output at 4K says us per message" bash -c "
    '$BENCH' --socket '$(sock 1)' --pattern ring --size 4K --window 2 -i 3 >'$T/rt.1' 2>&1 &
    b=\$!
    '$BENCH' --socket '$(sock 0)' --pattern ring --size 4K --window 2 -i 3 >'$T/rt.0' 2>&1 &&
    wait \$b && cat '$T/rt.0' &&
    grep -q '^iter 3  ring  2 ranks  4.0 KiB x 4  [0-9.]* us  [0-9.]* us/msg\$' '$T/rt.0' &&
    grep -q '^per message [0-9.]* us  [0-9]* messages/s  (4 messages per iteration)\$' '$T/rt.0' &&
    grep -q 'data verified on 2 of 2 receivers' '$T/rt.0'"
check "alltoall --sizes 8,64K --window 4: a summary line per size in us/msg" bash -c "
    '$BENCH' --socket '$(sock 1)' --pattern alltoall --sizes 8,64K --window 4 -i 3 >'$T/as.1' 2>&1 &
    b=\$!
    '$BENCH' --socket '$(sock 0)' --pattern alltoall --sizes 8,64K --window 4 -i 3 >'$T/as.0' 2>&1 &&
    wait \$b && cat '$T/as.0' &&
    [ \$(grep -c '^sweep alltoall .* us/msg .* verified 2 of 2\$' '$T/as.0') = 2 ]"
check "both daemons are still up" all_daemons_alive
finish
