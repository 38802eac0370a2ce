#!/usr/bin/env bash
# What asoc-recv does to the files it is asked to write (issue 10, defects
# 9 and 10): -o FILE is replaced only by a complete stream, so a failed
# rerun leaves a good copy intact; checkpoint files and FILE.part are never
# written through a planted symbolic link; a checkpoint folder that others
# may write into, or that is not the caller's, is refused with a clear
# message.
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib.sh"

good() { printf 'the good copy\n' >"$1"; }
is_good() { [ "$(cat "$1")" = "the good copy" ]; }
no_temp() { ! ls -A "$T/o" | grep -q '^\.'; }

mkdir -p "$T/o"
umask 022

# --- 9. -o FILE without a checkpoint folder ---
good "$T/o/out1"
check_fails "a receiver that cannot reach asocd fails" "cannot" \
    "$RECV" --socket "$T/nothing.sock" -o "$T/o/out1"
check "... and leaves the earlier copy intact" is_good "$T/o/out1"
check "... and no temporary file" no_temp

start_cluster 2 --chunk-size 64K
head -c 3000000 /dev/urandom >"$T/in.bin"

# A stream that stops half-way (the sender's input stalls): the receiver
# times out, the earlier copy stays.
good "$T/o/out2"
{ head -c 1000000 /dev/urandom; sleep 30; } |
    "$SEND" --socket "$(sock 0)" --to 1 --tag 2 - >"$T/s2.err" 2>&1 &
spid=$!
BGPIDS+=("$spid")
check_fails "a receiver whose stream stalls half-way fails" "sent nothing" \
    "$RECV" --socket "$(sock 1)" --from 0 --tag 2 --timeout 2 -o "$T/o/out2"
kill -KILL "$spid" 2>/dev/null || true
wait "$spid" 2>/dev/null || true
check "... and leaves the earlier copy intact" is_good "$T/o/out2"
check "... and no temporary file" no_temp

# A complete stream replaces the copy, with the usual mode.
good "$T/o/out3"
"$RECV" --socket "$(sock 1)" --from 0 --tag 3 -o "$T/o/out3" 2>"$T/r3.err" &
rpid=$!
BGPIDS+=("$rpid")
check "a complete stream" "$SEND" --socket "$(sock 0)" --to 1 --tag 3 "$T/in.bin"
check "... is received" wait "$rpid"
check "... and replaces the copy" cmp "$T/in.bin" "$T/o/out3"
check "... with mode 0644 under umask 022" \
    test "$(stat -c %a "$T/o/out3")" = 644
check "... and no temporary file" no_temp

# --- 10. checkpoint folder and files ---
CK=$T/ck
mkdir -m 0777 "$CK"
chmod 0777 "$CK"
check_fails "a checkpoint folder writable by everyone is refused" \
    "writable by everyone" timeout 10 env ASOC_CHECKPOINT_DIR="$CK" \
    "$RECV" --socket "$(sock 1)" --from 0 -o "$T/o/out4"
chmod 0770 "$CK"
check_fails "a checkpoint folder writable by its group is refused" \
    "chmod go-w" timeout 10 env ASOC_CHECKPOINT_DIR="$CK" \
    "$RECV" --socket "$(sock 1)" --from 0 -o "$T/o/out4"
chmod 0700 "$CK"
if [ "$(id -u)" = 0 ]; then
	chown 65534 "$CK"
	check_fails "a checkpoint folder of another user is refused" \
	    "belongs to uid 65534, not" timeout 10 env ASOC_CHECKPOINT_DIR="$CK" \
	    "$RECV" --socket "$(sock 1)" --from 0 -o "$T/o/out4"
	chown 0 "$CK"
else
	# Only root can give a folder away to show the check.
	echo "note: not root: the other-owner case is not run"
fi
check "... and nothing was written in the refused folder" \
    bash -c "[ -z \"\$(ls -A '$CK')\" ] && [ ! -e '$T/o/out4.part' ]"

# A link planted where the checkpoint's temporary file goes: the victim
# stays as it was; the transfer works.
out=$T/o/out5.bin
name="out5.bin.$(printf '%s' "$out" | sha256sum | cut -c1-16).ckpt"
printf 'victim\n' >"$T/victim"
ln -s "$T/victim" "$CK/$name.tmp"
ASOC_CHECKPOINT_DIR=$CK "$RECV" --socket "$(sock 1)" --from 0 --tag 5 -o "$out" \
    2>"$T/r5.err" &
rpid=$!
BGPIDS+=("$rpid")
check "a resumable transfer with a link planted at its .ckpt.tmp" \
    env ASOC_CHECKPOINT_DIR="$CK" "$SEND" --socket "$(sock 0)" --to 1 --tag 5 "$T/in.bin"
check "... is received" wait "$rpid"
check "... whole" cmp "$T/in.bin" "$out"
check "... and the link's target is untouched" \
    bash -c "[ \"\$(cat '$T/victim')\" = victim ]"

# A link planted as FILE.part: refused before anything is written.
out=$T/o/out6.bin
ln -s "$T/victim" "$out.part"
ASOC_CHECKPOINT_DIR=$CK "$SEND" --socket "$(sock 0)" --to 1 --tag 6 --timeout 3 \
    "$T/in.bin" >"$T/s6.err" 2>&1 &
spid=$!
BGPIDS+=("$spid")
check_fails "a link planted as FILE.part is refused" "symbolic link" \
    timeout 10 env ASOC_CHECKPOINT_DIR="$CK" "$RECV" --socket "$(sock 1)" --from 0 \
    --tag 6 --timeout 3 -o "$out"
check "... the link's target is untouched" \
    bash -c "[ \"\$(cat '$T/victim')\" = victim ]"
{ kill -KILL "$spid"; wait "$spid"; } 2>/dev/null || true
check "every daemon survived" all_daemons_alive
finish
