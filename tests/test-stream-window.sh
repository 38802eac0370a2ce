#!/usr/bin/env bash
# asoc-send / asoc-recv --window: the number of chunks a sender keeps in
# flight and a receiver keeps posted.  Many-message transfers with windows
# other than the default arrive identical, from a file and from a pipe;
# the windows are really open (the daemons' counters show them while the
# other end is stopped); a resumable transfer with windows resumes from
# its checkpoint intact; a bad --window is a usage error.  No timing is
# asserted.
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib.sh"

# check_usage DESC NEEDLE CMD...: CMD exits 2 and says NEEDLE.
check_usage() {
	local desc=$1 needle=$2 rc=0
	shift 2
	"$@" >"$T/out" 2>&1 || rc=$?
	if [ "$rc" -ne 2 ]; then
		not_ok "$desc (exit status $rc, not 2)" "$T/out"
	elif ! grep -q -- "$needle" "$T/out"; then
		not_ok "$desc (no '$needle' in its output)" "$T/out"
	else
		ok "$desc"
	fi
}

check_usage "asoc-send --window 0 is refused" \
    "--window: 0 is out of range (1 to 256" "$SEND" --to 1 --window 0 "$T/x"
check_usage "asoc-send --window 257 is refused" "out of range (1 to 256" \
    "$SEND" --to 1 --window 257 "$T/x"
check_usage "asoc-recv --window that is no number is refused" \
    "--window wants a number" "$RECV" --window many
check "asoc-send --help lists --window" bash -c "'$SEND' --help | grep -q -- '--window N'"
check "asoc-recv --help lists --window" bash -c "'$RECV' --help | grep -q -- '--window N'"

# 256 KiB chunks: 8 MiB + 5 bytes is 33 messages.
start_cluster 2 --chunk-size 256K
head -c $((8 * 1048576 + 5)) /dev/urandom >"$T/in.bin"

# stream NAME SENDOPTS RECVOPTS: in.bin from rank 0 to rank 1, checked.
stream() {
	local name=$1 rpid
	run_bg "$T/$name.rerr" "$RECV" --socket "$(sock 1)" --from 0 $3 -o "$T/$name.out"
	rpid=$LAST
	"$SEND" --socket "$(sock 0)" --to 1 $2 "$T/in.bin" 2>"$T/$name.serr" ||
	    { cat "$T/$name.serr"; kill -TERM "$rpid"; return 1; }
	wait "$rpid" || { cat "$T/$name.rerr"; return 1; }
	cmp "$T/in.bin" "$T/$name.out" && rm -f "$T/$name.out"
}
check "send --window 16, recv --window 8: 33 messages, identical" \
    stream w16 "--window 16" "--window 8"
check "send --window 1, recv --window 1: identical" stream w1 "-w 1" "-w 1"
check "send --window 64 to recv --window 2: identical" \
    stream w64 "--window 64" "--window 2"
"$RECV" --socket "$(sock 1)" --from 0 --tag 7 --window 3 >"$T/pipe.out" 2>"$T/pipe.err" &
rpid=$!
check "a pipe with --window 32" bash -c \
    "cat '$T/in.bin' | '$SEND' --socket '$(sock 0)' --to 1 --tag 7 --window 32 -"
if wait "$rpid" && cmp "$T/in.bin" "$T/pipe.out"; then ok "the pipe arrives identical"; else
	not_ok "the pipe arrives identical" "$T/pipe.err"; fi

# wait_stopped PID: until the process has stopped itself (60 s).
wait_stopped() {
	local t s
	for ((t = 0; t < 600; t++)); do
		s=$(ps -o stat= -p "$1") || return 1
		case $s in T*) return 0 ;; esac
		sleep 0.1
	done
	return 1
}

if have_test_hooks "the windows seen while the other end is stopped"; then
	head -c $((96 * 1048576 + 77)) /dev/urandom >"$T/big.bin"
	# The sender, one in flight, stops after 1 MiB: the receiver's
	# window of 16 stays posted, with the trailer's receive.
	run_bg "$T/r1.err" "$RECV" --socket "$(sock 1)" --from 0 --window 16 -o "$T/big1.out"
	rpid=$LAST
	run_bg "$T/s1.err" env ASOC_TEST_STOP_AT=1M "$SEND" --socket "$(sock 0)" \
	    --to 1 --window 1 "$T/big.bin"
	spid=$LAST
	check "the sender stopped after 1 MiB" wait_stopped "$spid"
	check "asoc-recv --window 16 keeps 16 receives posted (+ the trailer's)" \
	    wait_stat "$(sock 1)" posted_recvs 17
	kill -CONT "$spid"
	if wait "$spid" && wait "$rpid" && cmp "$T/big.bin" "$T/big1.out"; then
		ok "the stopped transfer then completes identical"
	else
		not_ok "the stopped transfer then completes identical" "$T/s1.err" "$T/r1.err"
	fi
	rm -f "$T/big1.out"

	# The receiver, resumable with a window of 1, stops at a checkpoint
	# (at 64 MiB at the latest, so 32 MiB are still to come):
	# the sender's window of 16 waits at the receiving daemon.
	CK=$T/ckpt
	run_bg "$T/r2.err" env ASOC_CHECKPOINT_DIR="$CK" ASOC_TEST_STOP_AT=1M \
	    "$RECV" --socket "$(sock 1)" --from 0 --window 1 --timeout 8 -o "$T/big2.out"
	rpid=$LAST
	run_bg "$T/s2.err" env ASOC_CHECKPOINT_DIR="$CK" "$SEND" --socket "$(sock 0)" \
	    --to 1 --window 16 --timeout 8 "$T/big.bin"
	spid=$LAST
	check "the receiver stopped at a checkpoint" wait_stopped "$rpid"
	check "asoc-send --window 16 has 16 sends waiting at the receiver" \
	    wait_stat "$(sock 1)" unexpected 16
	kill -KILL "$rpid"
	wait "$rpid" 2>/dev/null || true
	rc=0
	wait "$spid" || rc=$?
	if [ "$rc" -ne 0 ] && grep -q "to resume" "$T/s2.err"; then
		ok "the sender fails and says how to resume"
	else
		not_ok "the sender fails and says how to resume (exit $rc)" "$T/s2.err"
	fi
	# Nothing the receiver had not written and hashed is counted: the
	# rerun, with other windows, resumes from the checkpoint intact.
	run_bg "$T/r3.err" env ASOC_CHECKPOINT_DIR="$CK" "$RECV" --socket "$(sock 1)" \
	    --from 0 --window 5 -o "$T/big2.out"
	rpid=$LAST
	if ASOC_CHECKPOINT_DIR=$CK "$SEND" --socket "$(sock 0)" --to 1 --window 7 \
	    "$T/big.bin" 2>"$T/s3.err" && wait "$rpid"; then
		ok "the rerun with other windows succeeds"
	else
		not_ok "the rerun with other windows succeeds" "$T/s3.err" "$T/r3.err"
	fi
	check "the rerun resumed from the checkpoint" grep -q "resuming at byte [1-9]" "$T/s3.err"
	check "the resumed file is identical" cmp "$T/big.bin" "$T/big2.out"
	rm -f "$T/big2.out"
fi
check "every daemon survived" all_daemons_alive
finish
