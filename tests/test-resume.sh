#!/usr/bin/env bash
# Resumable asoc-send / asoc-recv (ASOC_CHECKPOINT_DIR): kill the receiver,
# then the sender, mid-transfer; the rerun resumes from the checkpoint,
# the file is identical and the sending daemon sends less than the file
# again.  A source changed between runs restarts from 0 (by mtime, and by
# content with the mtime put back); the mixes of old and new behaviour
# still transfer whole; nothing is left behind after a success.
#
# The kills are at known points: ASOC_TEST_STOP_AT makes the process stop
# itself (SIGSTOP) there, so no timing decides where the transfer is.
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib.sh"

start_cluster 2 --chunk-size 1M

SIZE=$((256 * 1048576 + 12345))
head -c "$SIZE" /dev/urandom >"$T/in.bin"
CK=$T/ckpt
TMO=(--timeout 8)	# how long a survivor waits for a killed peer

sent() { stat_field "$(sock 0)" bytes_sent; }
ckpt_offset() { sed -n 's/^offset //p' "$CK"/*.ckpt 2>/dev/null || true; }
no_leftovers() { ! ls "$CK"/*.ckpt "$CK"/*.tmp "$T"/*.part >/dev/null 2>&1; }

# recv_bg NAME OUT [options...]: asoc-recv from rank 0 into OUT in the
# background, resumable (ASOC_CHECKPOINT_DIR) unless PLAIN=1; its PID in
# rpid, its errors in NAME.err.
recv_bg() {
	local name=$1 out=$2 ck=("ASOC_CHECKPOINT_DIR=$CK")
	shift 2
	[ "${PLAIN:-}" != 1 ] || ck=()
	run_bg "$T/$name.err" env ${ck[@]+"${ck[@]}"} "$RECV" --socket "$(sock 1)" \
	    --from 0 "$@" -o "$out"
	rpid=$LAST
}

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

# wait_gone PID SECONDS: until the process has exited; its status is in RC.
wait_gone() {
	local t
	for ((t = 0; t < $2 * 10; t++)); do
		if ! kill -0 "$1" 2>/dev/null; then
			RC=0
			wait "$1" || RC=$?
			return 0
		fi
		sleep 0.1
	done
	return 1
}

# resume_run OUT: the rerun of both, which must resume; checks the result.
# The offset it must resume at is in OFF.
resume_run() {
	local out=$1 before after rpid delta
	before=$(sent)
	recv_bg rerun-recv "$out"
	if ASOC_CHECKPOINT_DIR=$CK "$SEND" --socket "$(sock 0)" --to 1 "$T/in.bin" \
	    2>"$T/rerun-send.err" && wait "$rpid"; then
		ok "the rerun succeeds"
	else
		not_ok "the rerun succeeds" "$T/rerun-send.err" "$T/rerun-recv.err"
	fi
	if grep -q "resuming at byte $OFF of $SIZE (from checkpoint)" "$T/rerun-send.err"; then
		ok "asoc-send says it resumes at byte $OFF of $SIZE"
	else
		not_ok "asoc-send says it resumes at byte $OFF" "$T/rerun-send.err"
	fi
	if cmp "$T/in.bin" "$out"; then ok "the resumed file is identical"; else
		not_ok "the resumed file is identical"; fi
	after=$(sent)
	delta=$((after - before))
	echo "# rerun: the sending daemon sent $delta bytes for a file of $SIZE (resumed at $OFF)"
	if [ "$delta" -lt "$SIZE" ] && [ "$delta" -ge $((SIZE - OFF)) ]; then
		ok "the rerun sent less than the file ($delta < $SIZE)"
	else
		not_ok "the rerun sent less than the file ($delta, size $SIZE, offset $OFF)"
	fi
	if no_leftovers; then ok "no checkpoint or partial file is left"; else
		not_ok "no checkpoint or partial file is left" <(ls -la "$CK" "$T"); fi
	rm -f "$out"	# 256 MiB each: do not fill /tmp
}

# stopped_run WHO BYTES OUT N [options of both...]: a resumable asoc-recv
# into OUT and asoc-send of in.bin in the background (PIDs in rpid and
# spid, errors in rN.err and sN.err); WHO (recv or send) stops itself
# (SIGSTOP) after BYTES, through the test hook ASOC_TEST_STOP_AT.
stopped_run() {
	local who=$1 at=$2 out=$3 n=$4 renv=() senv=()
	shift 4
	if [ "$who" = recv ]; then renv=("ASOC_TEST_STOP_AT=$at"); else senv=("ASOC_TEST_STOP_AT=$at"); fi
	run_bg "$T/r$n.err" env "ASOC_CHECKPOINT_DIR=$CK" ${renv[@]+"${renv[@]}"} \
	    "$RECV" --socket "$(sock 1)" --from 0 "$@" -o "$out"
	rpid=$LAST
	run_bg "$T/s$n.err" env "ASOC_CHECKPOINT_DIR=$CK" ${senv[@]+"${senv[@]}"} \
	    "$SEND" --socket "$(sock 0)" --to 1 "$@" "$T/in.bin"
	spid=$LAST
}

# Sections 1 to 3 and part of 4 kill clients at points the test hooks set.
if have_test_hooks "resuming after a kill (sections 1 to 3)"; then
	# --- 1. the receiver is killed mid-transfer ---
	stopped_run recv 100M "$T/out1.bin" 1 "${TMO[@]}"
	if wait_stopped "$rpid"; then ok "the receiver stopped at a checkpoint"; else
		not_ok "the receiver stopped at a checkpoint" "$T/r1.err" "$T/s1.err"; fi
	OFF=$(ckpt_offset)
	if [ -n "$OFF" ] && [ "$OFF" -ge $((100 * 1048576)) ] && [ "$OFF" -lt "$SIZE" ]; then
		ok "the checkpoint confirms $OFF bytes"
	else
		not_ok "the checkpoint confirms part of the file (offset '$OFF')" "$T/r1.err"
	fi
	kill -KILL "$rpid"
	wait "$rpid" 2>/dev/null || true
	if wait_gone "$spid" 40 && [ "$RC" -ne 0 ]; then
		ok "the sender fails in bounded time once its receiver is killed"
	else
		not_ok "the sender fails in bounded time once its receiver is killed" "$T/s1.err"
	fi
	if grep -q "again (with ASOC_CHECKPOINT_DIR) to resume" "$T/s1.err"; then
		ok "the sender says how to resume"
	else
		not_ok "the sender says how to resume" "$T/s1.err"
	fi
	if [ ! -e "$T/out1.bin" ] && [ -f "$T/out1.bin.part" ]; then
		ok "the partial data is in out1.bin.part, not under the final name"
	else
		not_ok "the partial data is in out1.bin.part, not under the final name"
	fi
	resume_run "$T/out1.bin"

	# --- 2. the sender is killed mid-transfer ---
	stopped_run send 100M "$T/out2.bin" 2 "${TMO[@]}"
	if wait_stopped "$spid"; then ok "the sender stopped mid-transfer"; else
		not_ok "the sender stopped mid-transfer" "$T/s2.err" "$T/r2.err"; fi
	kill -KILL "$spid"
	wait "$spid" 2>/dev/null || true
	if wait_gone "$rpid" 40 && [ "$RC" -ne 0 ] && grep -q "kept .*out2.bin.part" "$T/r2.err"; then
		ok "the receiver fails in bounded time, keeping what it has"
	else
		not_ok "the receiver fails in bounded time, keeping what it has" "$T/r2.err"
	fi
	OFF=$(ckpt_offset)
	if [ -n "$OFF" ] && [ "$OFF" -ge $((100 * 1048576)) ] && [ "$OFF" -lt "$SIZE" ]; then
		ok "the checkpoint confirms $OFF bytes"
	else
		not_ok "the checkpoint confirms part of the file (offset '$OFF')" "$T/r2.err"
	fi
	resume_run "$T/out2.bin"

	# interrupted_run OUT: a transfer stopped at the receiver, then both
	# killed, as when SLURM requeues the job.
	interrupted_run() {
		local rpid spid
		stopped_run recv 64M "$1" i "${TMO[@]}"
		wait_stopped "$rpid" || { cat "$T/ri.err" "$T/si.err"; return 1; }
		{ kill -KILL "$rpid" "$spid"; wait "$rpid" "$spid"; } 2>/dev/null || true
		[ -n "$(ckpt_offset)" ]
	}

	# restart_run OUT NEEDLE: the rerun after a change restarts from 0.
	restart_run() {
		local out=$1 needle=$2 before delta rpid
		before=$(sent)
		recv_bg rerun-recv "$out"
		if ASOC_CHECKPOINT_DIR=$CK "$SEND" --socket "$(sock 0)" --to 1 "$T/in.bin" \
		    2>"$T/rerun-send.err" && wait "$rpid" && cmp "$T/in.bin" "$out"; then
			ok "the rerun after the change gives the new file"
		else
			not_ok "the rerun after the change gives the new file" \
			    "$T/rerun-send.err" "$T/rerun-recv.err"
		fi
		if grep -q -- "$needle" "$T/rerun-send.err" &&
		    grep -q "restarting from byte 0" "$T/rerun-send.err" &&
		    ! grep -q "resuming at" "$T/rerun-send.err"; then
			ok "asoc-send says why it restarts from byte 0"
		else
			not_ok "asoc-send says why it restarts from byte 0" "$T/rerun-send.err"
		fi
		delta=$(($(sent) - before))
		if [ "$delta" -ge "$SIZE" ]; then ok "the whole file was sent again"; else
			not_ok "the whole file was sent again ($delta < $SIZE)"; fi
		if no_leftovers; then ok "no checkpoint or partial file is left"; else
			not_ok "no checkpoint or partial file is left"; fi
		rm -f "$out"
	}

	# --- 3. the source changes between the runs ---
	check "a transfer interrupted before the source changes" interrupted_run "$T/out3.bin"
	printf 'changed' | dd of="$T/in.bin" bs=1 seek=1000 conv=notrunc status=none
	restart_run "$T/out3.bin" "changed since rank 1's checkpoint"

	# The same change with the mtime put back: the hash of the confirmed
	# bytes catches it, so two versions are never spliced.
	touch -r "$T/in.bin" "$T/mtime.ref"
	check "a transfer interrupted before the source changes (mtime kept)" \
	    interrupted_run "$T/out4.bin"
	printf 'again!!' | dd of="$T/in.bin" bs=1 seek=2000 conv=notrunc status=none
	touch -r "$T/mtime.ref" "$T/in.bin"
	restart_run "$T/out4.bin" "differ from rank 1's partial copy"

	# A partial file changed behind the checkpoint's back: the receiver finds
	# out while the sender hashes, fails, and the next run starts from 0.
	check "a transfer interrupted before its partial file changes" \
	    interrupted_run "$T/out6.bin"
	printf 'tamper' | dd of="$T/out6.bin.part" bs=1 seek=3000 conv=notrunc status=none
	recv_bg r6 "$T/out6.bin"
	ASOC_CHECKPOINT_DIR=$CK "$SEND" --socket "$(sock 0)" --to 1 "${TMO[@]}" "$T/in.bin" \
	    2>"$T/s6.err" || true
	if wait_gone "$rpid" 40 && [ "$RC" -ne 0 ] && grep -q "does not match its checkpoint" "$T/r6.err" &&
	    no_leftovers && [ ! -e "$T/out6.bin" ]; then
		ok "a changed partial file fails the rerun and is removed with its checkpoint"
	else
		not_ok "a changed partial file fails the rerun and is removed with its checkpoint" "$T/r6.err"
	fi
	recv_bg r6 "$T/out6.bin"
	if ASOC_CHECKPOINT_DIR=$CK "$SEND" --socket "$(sock 0)" --to 1 "$T/in.bin" 2>"$T/s6.err" &&
	    wait "$rpid" && cmp "$T/in.bin" "$T/out6.bin" && ! grep -q resuming "$T/s6.err"; then
		ok "... and the next run sends it whole"
	else
		not_ok "... and the next run sends it whole" "$T/s6.err" "$T/r6.err"
	fi
	rm -f "$T/out6.bin"

	# A change while it is sent: the sender refuses to finish a mixed copy,
	# and the next run starts over.  (The default timeouts: nobody is killed
	# here, and the receiver must not give up while the sender is stopped.)
	stopped_run send 64M "$T/out5.bin" 5
	wait_stopped "$spid" || true
	printf 'late' | dd of="$T/in.bin" bs=1 seek=$((200 * 1048576)) conv=notrunc status=none
	kill -CONT "$spid"
	if wait_gone "$spid" 40 && [ "$RC" -ne 0 ] && grep -q "changed while it was sent" "$T/s5.err" &&
	    wait_gone "$rpid" 40 && [ "$RC" -ne 0 ] && [ ! -e "$T/out5.bin" ]; then
		ok "a source changed while it is sent fails on both sides"
	else
		not_ok "a source changed while it is sent fails on both sides" "$T/s5.err" "$T/r5.err"
	fi
	restart_run "$T/out5.bin" "changed since rank 1's checkpoint"
fi

# --- 4. without ASOC_CHECKPOINT_DIR: the old behaviour ---
rm -rf "$CK"
PLAIN=1 recv_bg r10 "$T/out10.bin"
check "a plain transfer" "$SEND" --socket "$(sock 0)" --to 1 "$T/in.bin"
if wait "$rpid" && cmp "$T/in.bin" "$T/out10.bin" && [ ! -e "$CK" ] &&
    [ ! -e "$T/out10.bin.part" ] && [ ! -s "$T/r10.err" ]; then
	ok "a plain transfer is identical, quiet, with no checkpoint or .part"
else
	not_ok "a plain transfer is identical, quiet, with no checkpoint or .part" "$T/r10.err"
fi
if have_test_hooks "an interrupted plain transfer"; then
	PLAIN=1 recv_bg r11 "$T/out11.bin" "${TMO[@]}"
	ASOC_TEST_STOP_AT=64M "$SEND" --socket "$(sock 0)" --to 1 "$T/in.bin" 2>"$T/s11.err" &
	spid=$!
	BGPIDS+=("$spid")
	wait_stopped "$spid" || true
	{ kill -KILL "$spid"; wait "$spid"; } 2>/dev/null || true
	if wait_gone "$rpid" 40 && [ "$RC" -ne 0 ] && [ ! -e "$T/out11.bin" ] &&
	    [ ! -e "$T/out11.bin.part" ]; then
		ok "an interrupted plain transfer removes its partial file, as before"
	else
		not_ok "an interrupted plain transfer removes its partial file, as before" "$T/r11.err"
	fi
fi

rm -f "$T"/out*.bin

# --- 5. mixed: one side resumable, the other not; a pipe ---
mkdir "$CK"
PLAIN=1 recv_bg r7 "$T/out7.bin"
check "a resumable sender to a plain receiver" \
    env ASOC_CHECKPOINT_DIR="$CK" "$SEND" --socket "$(sock 0)" --to 1 "$T/in.bin"
if wait "$rpid" && cmp "$T/in.bin" "$T/out7.bin"; then
	ok "... arrives whole and identical"
else
	not_ok "... arrives whole and identical" "$T/r7.err"
fi
recv_bg r8 "$T/out8.bin"
check "a plain sender to a resumable receiver" "$SEND" --socket "$(sock 0)" --to 1 "$T/in.bin"
if wait "$rpid" && cmp "$T/in.bin" "$T/out8.bin" && grep -q "offers no resume" "$T/r8.err" &&
    no_leftovers; then
	ok "... arrives whole, with a note, and leaves nothing behind"
else
	not_ok "... arrives whole, with a note, and leaves nothing behind" "$T/r8.err"
fi
recv_bg r9 "$T/out9.bin"
if ASOC_CHECKPOINT_DIR=$CK "$SEND" --socket "$(sock 0)" --to 1 - <"$T/in.bin" 2>"$T/s9.err" &&
    grep -q "standard input cannot be resumed" "$T/s9.err"; then
	ok "standard input is sent whole, with a note"
else
	not_ok "standard input is sent whole, with a note" "$T/s9.err"
fi
if wait "$rpid" && cmp "$T/in.bin" "$T/out9.bin" && no_leftovers; then
	ok "... and arrives identical"
else
	not_ok "... and arrives identical" "$T/r9.err"
fi
rm -f "$T"/out*.bin
check "every daemon survived" all_daemons_alive
finish
