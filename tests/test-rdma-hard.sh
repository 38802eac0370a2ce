#!/usr/bin/env bash
# Issue 10, the RDMA defects, on real verbs (run by `make check-rdma` in the
# Soft-RoCE lab, after test-rdma.sh, or directly with ASOC_TEST_HOST set):
#  5. connections that never finish their handshake are bounded per source
#     (a flood of them is refused; an established peer is unaffected);
#  8. a receive cancelled while its data is being WRITTEN fails alone: the
#     other transfers on the same connection complete;
# 11. a range granted to one peer cannot be written by another
#     authenticated peer that learnt its address and rkey.
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib.sh"

need_rdma_host
FLOOD=$B/tests/asoc-rdma-flood
regs_balanced() {
	sleep 0.5
	[ "$(stat_field "$1" registrations)" = "$(stat_field "$1" deregistrations)" ]
}
no_conn_lost() {
	! grep -Ei "remote access error|lost rank|flushed" "$@" || {
		grep -h "transfer\|revok\|lost" "$@" | tail -40
		false
	}
}

# --- 8. cancel a granted receive mid-data ---
# Both sends arrive first (unexpected), then both receives are posted, so
# both transfers are surely moving data, interleaved on one connection,
# when one of them is cancelled.  (Over RDMA the receiver counts bytes
# only at the end: the sender's count says what is on its way.)
start_cluster 2 "${RD[@]}" --log-level debug
check "cancel: the pair is up" xfer 4097 recv-first 0 1
# two_in_flight TAG1 TAG2 SIZE1 SIZE2 EXPECT1 [RECV1 OPTIONS...]: starts
# both pairs; PIDs in RA RB SA SB.
two_in_flight() {
	local t1=$1 t2=$2 n1=$3 n2=$4 e1=$5
	shift 5
	local u0
	u0=$(stat_field "$(sock 1)" unexpected)
	"$XFER" --socket "$(sock 0)" send --to 1 --tag "$t1" --size "$n1" --expect "$e1" >"$T/$t1.s" 2>&1 &
	SA=$!
	"$XFER" --socket "$(sock 0)" send --to 1 --tag "$t2" --size "$n2" >"$T/$t2.s" 2>&1 &
	SB=$!
	BGPIDS+=("$SA" "$SB")
	wait_stat "$(sock 1)" unexpected $((u0 + 2))
	"$XFER" --socket "$(sock 1)" recv --from 0 --tag "$t2" --size "$n2" >"$T/$t2.r" 2>&1 &
	RB=$!
	"$XFER" --socket "$(sock 1)" recv --from 0 --tag "$t1" --size "$n1" --expect "$e1" "$@" >"$T/$t1.r" 2>&1 &
	RA=$!
	BGPIDS+=("$RA" "$RB")
}
s0=$(stat_field "$(sock 0)" bytes_sent)
g0=$(grep -c "granted 268435456 bytes" "$T/d1.log" || true)
two_in_flight 41 42 268435456 134217728 ecancelled
# Rank 1 logs the grant of the big receive (CTS on its way): its WRITEs
# start then, while the other transfer's are already going.
for ((t = 0; t < 600; t++)); do
	[ "$(grep -c "granted 268435456 bytes" "$T/d1.log" || true)" -gt "$g0" ] && break
	sleep 0.02
done
sleep 0.3
kill -KILL "$RA"	# the client leaves: its granted receive is cancelled
got=$(($(stat_field "$(sock 0)" bytes_sent) - s0))
echo "cancelled with $got bytes sent"
if wait "$RB" && wait "$SB"; then ok "cancel: the other transfer on the connection completes, checked"; else
	not_ok "cancel: the other transfer on the connection completes" "$T/42.r" "$T/42.s" "$T/d0.log" "$T/d1.log"; fi
if wait "$SA"; then ok "cancel: the cancelled transfer's sender hears 'cancelled'"; else
	not_ok "cancel: the cancelled transfer's sender hears 'cancelled'" "$T/41.s"; fi
check "cancel: ... and the cancel came mid-data ($got bytes sent)" test "$got" -lt 402653184
check "cancel: no remote access error, no connection lost" no_conn_lost "$T/d0.log" "$T/d1.log"
check "cancel: the connection carries the next transfer" xfer 1048577 recv-first 0 1
check "cancel: rank 1 holds no transfer after (the fence ended)" wait_stat "$(sock 1)" xfers_active 0
check "cancel: rank 1 deregistered all it registered" regs_balanced "$(sock 1)"

# The same with a deadline: the receive times out mid-data.  It reports
# the timeout only once the sender has stopped; the other transfer on the
# connection completes.
two_in_flight 43 44 268435456 134217728 etimedout --timeout-ms 2000
if wait "$RA" && wait "$SA"; then ok "timeout: the receive times out mid-data, both ends hear it"; else
	not_ok "timeout: the receive times out mid-data" "$T/43.r" "$T/43.s"; fi
if wait "$RB" && wait "$SB"; then ok "timeout: the other transfer on the connection completes, checked"; else
	not_ok "timeout: the other transfer on the connection completes" "$T/44.r" "$T/44.s" "$T/d0.log" "$T/d1.log"; fi
check "timeout: no remote access error, no connection lost" no_conn_lost "$T/d0.log" "$T/d1.log"
check "timeout: the connection carries the next transfer" xfer 1048577 recv-first 0 1
check "timeout: rank 1 holds no transfer after" wait_stat "$(sock 1)" xfers_active 0

# --- 5. a flood of connections that never say HELLO ---
"$FLOOD" "$HOST" "$BASE" 40 3000 >"$T/flood.out" 2>&1 &
fp=$!
BGPIDS+=("$fp")
check "flood: the daemon stays responsive meanwhile" xfer 1048577 recv-first 1 0
wait "$fp" || true
cat "$T/flood.out"
read -r _ acc _ ref _ <<<"$(cat "$T/flood.out")"
check "flood: at most 4 unproved connections from one address (accepted ${acc:-?})" \
    test "${acc:-99}" -le 4
check "flood: the rest refused (${ref:-?} of 40)" test "${ref:-0}" -ge 36
check "flood: refusals logged at most once a second" bash -c \
    "[ \$(grep -c 'refused RDMA connection' '$T/d0.log') -le 5 ]"
check "flood: the established peer still works after" xfer 1048577 recv-first 0 1
check "every daemon survived" all_daemons_alive
stop_cluster

# --- 11. a range granted to rank 1 written by rank 2 ---
# Rank 2 is made to misbehave (ASOC_TEST_FAULT=write-foreign): its WRITEs
# go to the address and rkey in $T/foreign, which the test copies from
# rank 0's log while rank 1 (the granted peer) is stopped.
# Rank 2 sends 4097 bytes: one over RDMA_EAGER_MAX, so the message moves
# by WRITE (an eager one would travel inside its RTS, and write nothing).
if have_test_hooks "a range written by another rank (ASOC_TEST_FAULT)"; then
	for scope in mr mw; do
		rm -f "$T/foreign"
		ENV_0="ASOC_RDMA_SCOPE=$scope"
		ENV_1="ASOC_RDMA_SCOPE=$scope"
		ENV_2="ASOC_RDMA_SCOPE=$scope ASOC_TEST_FAULT=write-foreign ASOC_TEST_FOREIGN=$T/foreign"
		start_cluster 3 "${RD[@]}" --log-level debug
		ENV_0="" ENV_1="" ENV_2=""
		check "foreign ($scope): rank 1 is connected" xfer 4097 recv-first 1 0
		check "foreign ($scope): rank 2 is connected" xfer 4097 recv-first 2 0
		"$XFER" --socket "$(sock 1)" send --to 0 --tag 51 --size 65537 >"$T/f.s" 2>&1 &
		fs=$!
		BGPIDS+=("$fs")
		wait_stat "$(sock 0)" unexpected 1
		kill -STOP "${DAEMONS[1]}"
		n0=$(grep -c "granted" "$T/d0.log" || true)
		"$XFER" --socket "$(sock 0)" recv --from 1 --tag 51 --size 65537 --offset 4096 --guard 8192 >"$T/f.r" 2>&1 &
		fr=$!
		BGPIDS+=("$fr")
		for ((t = 0; t < 100; t++)); do
			[ "$(grep -c "granted" "$T/d0.log" || true)" -gt "$n0" ] && break
			sleep 0.1
		done
		grep "granted 65537 bytes" "$T/d0.log" | tail -1 |
		    sed 's/.* at \(0x[0-9a-f]*\), rkey \(0x[0-9a-f]*\).*/\1 \2/' >"$T/foreign"
		echo "foreign ($scope): rank 2 aims at $(cat "$T/foreign")"
		check "foreign ($scope): rank 2's WRITE into rank 1's range is refused" bash -c "
		    '$XFER' --socket '$(sock 0)' recv --from 2 --tag 52 --size 4097 --expect epeerlost >'$T/g.r' 2>&1 &
		    r=\$!
		    '$XFER' --socket '$(sock 2)' send --to 0 --tag 52 --size 4097 --expect epeerlost; s=\$?
		    wait \$r; [ \$s -eq 0 ]"
		check "foreign ($scope): ... by the NIC (remote access error)" bash -c "
		    for i in \$(seq 50); do grep -qi 'remote access error' '$T/d2.log' && exit 0; sleep 0.1; done; exit 1"
		kill -CONT "${DAEMONS[1]}"
		if wait "$fs" && wait "$fr"; then ok "foreign ($scope): rank 1's transfer completes intact, guards too"; else
			not_ok "foreign ($scope): rank 1's transfer completes intact" "$T/f.s" "$T/f.r"; fi
		check "foreign ($scope): every daemon survived" all_daemons_alive
		stop_cluster
	done
fi
finish
