#!/usr/bin/env bash
# Two asocd under valgrind memcheck through remote and same-node transfers,
# hostile input on both sockets, a client killed mid-transfer, and SIGTERM
# shutdown: any memcheck error, or anything definitely lost, fails.
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib.sh"

# valgrind cannot run binaries built with ASan (both want the same shadow
# memory); the sanitizer build checks the same paths with ASan and LSan.
if [ "${ASOC_SANITIZERS:-no}" = yes ]; then
	echo "SKIP: asocd is built with ASan (--enable-sanitizers), which valgrind cannot run; the ASan build's own leak check covers it"
	exit 77
fi
if ! command -v valgrind >/dev/null 2>&1; then
	echo "FAIL - valgrind is not installed: apt-get install valgrind (tests/install-deps)"
	echo "0 passed, 1 failed"
	exit 1
fi

VG_ERR=99
ASOCD_WRAP=(valgrind --tool=memcheck --leak-check=full --errors-for-leak-kinds=definite
	--error-exitcode=$VG_ERR --track-fds=no --log-file="$T/vg%p.log")
READY_TRIES=300
start_cluster 2
VGPIDS=("${DAEMONS[@]}")

check "remote transfer, receive posted first" xfer 3145731 recv-first 0 1
check "remote transfer, send first" xfer 1048576 send-first 1 0
check "same-node transfer" bash -c "
    '$XFER' --socket '$(sock 0)' recv --from 0 --size 2097155 --tag 5 &
    r=\$!
    '$XFER' --socket '$(sock 0)' send --to 0 --size 2097155 --tag 5 && wait \$r"
check "hostile local clients are dropped" "$HOSTILE" local "$(sock 0)"
check "hostile peers are dropped" "$HOSTILE" peer 127.0.0.1 "$((BASE + 1))" 2 0

# A receiving client killed with a stream in flight: its daemon frees what
# it held; then the sender goes too.
"$RECV" --socket "$(sock 1)" --from 0 --tag 30 -o /dev/null 2>"$T/kr.err" &
krecv=$!
head -c 268435456 /dev/zero | "$SEND" --socket "$(sock 0)" --to 1 --tag 30 - 2>"$T/ks.err" &
ksend=$!
for ((t = 0; t < 600; t++)); do
	v=$(stat_field "$(sock 1)" bytes_received || true)
	[ "${v:-0}" -gt 4194304 ] && break
	sleep 0.05
done
{
	kill -KILL "$krecv"
	wait "$krecv" || true
	kill -KILL "$ksend" || true
	wait "$ksend" || true
} 2>/dev/null
check "the killed receiver was mid-stream" test "${v:-0}" -gt 4194304
for r in 0 1; do
	check "after the killed clients, rank $r holds nothing" bash -c "
	    for i in \$(seq 200); do
	        case \$('$STAT' --socket '$(sock $r)' --json) in
	        *'\"xfers_active\":0,'*'\"unexpected\":0,'*'\"posted_recvs\":0,'*'\"buffers\":0,'*) exit 0 ;; esac
	        sleep 0.1
	    done; '$STAT' --socket '$(sock $r)'; exit 1"
done
check "a transfer after all that" xfer 65536 recv-first 0 1
check "every daemon survived" all_daemons_alive

# SIGTERM: each daemon exits 0, which under --error-exitcode means memcheck
# found no error and nothing definitely lost.
for r in 0 1; do
	kill -TERM "${VGPIDS[$r]}"
	rc=0
	wait "${VGPIDS[$r]}" || rc=$?
	# env execs valgrind, so the daemon's pid names its log (%p).
	log=$T/vg${VGPIDS[$r]}.log
	if [ "$rc" -eq 0 ] && grep -q "Command: $ASOCD" "$log" &&
	    grep -q "ERROR SUMMARY: 0 errors" "$log" &&
	    ! grep -q "definitely lost: [1-9]" "$log"; then
		ok "rank $r: SIGTERM, exit 0, no memcheck error, nothing definitely lost"
		grep -E "in use at exit|definitely lost|ERROR SUMMARY" "$log" | sed 's/^==[0-9]*== /    /'
	else
		not_ok "rank $r under valgrind (exit $rc; $VG_ERR: memcheck errors)" "$log" "$T/d$r.log"
	fi
done
DAEMONS=()
finish
