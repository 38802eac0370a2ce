#!/usr/bin/env bash
# The RDMA transport on real verbs: run by `make check-rdma` inside the
# Soft-RoCE lab (tests/rdma-lab/run), or directly on a machine with an
# RDMA device and ASOC_TEST_HOST set to an address on it.
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib.sh"

need_rdma_host
MAXSIZE=${ASOC_TEST_MAX_SIZE:-268435456}

start_cluster 3 "${RD[@]}"
for size in 0 1 4096 1048577 67108865 "$MAXSIZE"; do
	for order in recv-first send-first; do
		check "rdma: rank 0 -> 1, $size bytes, $order" xfer "$size" "$order" 0 1
	done
done
check "rdma: the pair is connected over rdma" bash -c \
    "'$STAT' --socket '$(sock 0)' --json | grep -q '\"rank\":1,[^}]*\"transport\":\"rdma\"'"
check "rdma: into an offset, guard bytes around it intact" \
    xfer 1048577 recv-first 2 1 --offset 4096 --guard 4096

pids=()
for t in 1 2 3 4; do
	"$XFER" --socket "$(sock $((t % 3)))" recv --from $(((t + 1) % 3)) --tag $t --size 4194305 --count 2 >"$T/c$t.r" 2>&1 &
	pids+=($!)
	"$XFER" --socket "$(sock $(((t + 1) % 3)))" send --to $((t % 3)) --tag $t --size 4194305 --count 2 >"$T/c$t.s" 2>&1 &
	pids+=($!)
done
bad=0
for p in "${pids[@]}"; do wait "$p" || bad=$((bad + 1)); done
if [ "$bad" -eq 0 ]; then ok "rdma: 8 concurrent clients, every direction"; else
	not_ok "rdma: 8 concurrent clients ($bad failed)" "$T"/c*.r "$T"/c*.s; fi

# Registration is cached: 1000 sends from one buffer register it once,
# and everything is deregistered when the clients leave.
reg0=$(stat_field "$(sock 0)" registrations)
check "rdma: 1000 sends from one buffer" bash -c "
    '$XFER' --socket '$(sock 1)' recv --from 0 --tag 9 --size 4097 --count 1000 >/dev/null &
    r=\$!
    '$XFER' --socket '$(sock 0)' send --to 1 --tag 9 --size 4097 --count 1000 >/dev/null && wait \$r"
reg1=$(stat_field "$(sock 0)" registrations)
if [ $((reg1 - reg0)) -eq 1 ]; then ok "rdma: ... registered the buffer once"; else
	not_ok "rdma: ... registered the buffer $((reg1 - reg0)) times"; fi
regs_balanced() {
	[ "$(stat_field "$1" registrations)" = "$(stat_field "$1" deregistrations)" ]
}
for i in 0 1 2; do
	check "rdma: rank $i deregistered all it registered" regs_balanced "$(sock $i)"
done

# A peer killed with a transfer in flight: the transfer fails with "peer
# lost" within the connection timeout, nothing leaks, and the next
# transfer reconnects.  Rank 1 is stopped once its receive is posted, so
# the transfer is surely in flight (not finished) when it is killed.
"$XFER" --socket "$(sock 1)" recv --from 0 --tag 20 --size "$MAXSIZE" >"$T/k.r" 2>&1 &
kr=$!
wait_stat "$(sock 1)" posted_recvs 1
kill -STOP "${DAEMONS[1]}"
"$XFER" --socket "$(sock 0)" send --to 1 --tag 20 --size "$MAXSIZE" --expect epeerlost >"$T/k.s" 2>&1 &
ks=$!
wait_stat "$(sock 0)" xfers_active 1
kill_rank 1
start=$(date +%s)
if wait "$ks"; then ok "rdma: the sender's transfer failed with peer lost"; else
	not_ok "rdma: the sender's transfer failed with peer lost" "$T/k.s" "$T/d0.log"; fi
took=$(($(date +%s) - start))
if [ "$took" -le 8 ]; then ok "rdma: ... within the connection timeout (${took}s)"; else
	not_ok "rdma: ... took ${took}s (timeout 5s)"; fi
wait "$kr" 2>/dev/null || true
check "rdma: rank 0 holds no transfer and no buffer after" bash -c "
    sleep 0.5; '$STAT' --socket '$(sock 0)' --json | grep -q '\"xfers_active\":0,' &&
    '$STAT' --socket '$(sock 0)' --json | grep -q '\"buffers\":0,'"
restart_rank 1 "${RD[@]}" || true
check "rdma: a restarted peer is reached again" xfer 1048577 recv-first 0 1
check "every daemon survived" all_daemons_alive

# Nothing to guess from one transfer, or one connection, to the next: the
# rkeys of 24 grants in a row, and the starting PSNs of four connections
# (the peer restarted between them), as the daemons log them.
restart_cluster 2 "${RD[@]}" --log-level debug
check "rdma: 24 transfers in a row" bash -c "
    '$XFER' --socket '$(sock 1)' recv --from 0 --tag 30 --size 4097 --count 24 >/dev/null &
    r=\$!
    '$XFER' --socket '$(sock 0)' send --to 1 --tag 30 --size 4097 --count 24 >/dev/null && wait \$r"
for round in 1 2 3; do
	stop_rank 1
	restart_rank 1 "${RD[@]}" --log-level debug || true
	check "rdma: connection $((round + 1)) to a restarted peer" xfer 4097 recv-first 0 1
done
# unpredictable NAME VALUES...: distinct, not in arithmetic progression,
# and (for rkeys) their random low bytes spread out.
unpredictable() {
	local name=$1 i d prev='' same=1 first=''
	shift
	[ $# -ge 4 ] || { echo "only $# ${name}s logged: $*"; return 1; }
	[ "$(printf '%s\n' "$@" | sort -u | wc -l)" = $# ] || { echo "repeated ${name}s: $*"; return 1; }
	for ((i = 2; i <= $#; i++)); do
		d=$((${!i} - ${@:i-1:1}))
		[ -z "$first" ] && first=$d
		[ "$d" = "$first" ] || same=0
	done
	[ "$same" = 0 ] || { echo "${name}s in steps of $first: $*"; return 1; }
	echo "${name}s: $*"
}
# (No process substitution: the lab's /dev has no /dev/fd.)
read -r -a rkeys <<<"$(grep -o 'rkey 0x[0-9a-f]*' "$T/d1.log" | cut -d' ' -f2 | head -24 | tr '\n' ' ')"
read -r -a psns <<<"$(grep -o 'send PSN [0-9a-f]*' "$T/d0.log" | sed 's/send PSN /0x/' | tr '\n' ' ')"
check "rdma: rkeys of successive grants are not predictable" unpredictable rkey "${rkeys[@]}"
lows=$(for k in "${rkeys[@]}"; do echo "${k: -2}"; done | sort -u | wc -l)
check "rdma: ... their random low bytes take many values ($lows of 24)" test "$lows" -ge 12
check "rdma: starting PSNs of successive connections are not predictable" unpredictable PSN "${psns[@]}"
stop_cluster

# A job where one node has no RDMA (here: rank 1 forced to TCP): that
# pair falls back to TCP, with a warning; the others keep RDMA.
ENV_1="ASOC_TRANSPORT=tcp"
start_cluster 3 --chunk-size 1M
ENV_1=""
check "mixed: rank 0 -> 1 (no RDMA on rank 1)" xfer 1048577 recv-first 0 1
check "mixed: rank 1 -> 2" xfer 1048577 send-first 1 2
check "mixed: rank 0 -> 2" xfer 1048577 recv-first 0 2
check "mixed: rank 0 reaches rank 1 over tcp" bash -c \
    "'$STAT' --socket '$(sock 0)' --json | grep -q '\"rank\":1,[^}]*\"transport\":\"tcp\"'"
check "mixed: rank 0 reaches rank 2 over rdma" bash -c \
    "'$STAT' --socket '$(sock 0)' --json | grep -q '\"rank\":2,[^}]*\"transport\":\"rdma\"'"
check "mixed: the fallback was logged as a warning with its reason" \
    grep -q "warning: rank 1: falling back to TCP: RDMA was not possible" "$T/d0.log"
stop_cluster

# Scoped remote access: a sender made to misbehave (ASOC_TEST_FAULT) is
# stopped by the receiver's NIC, and the receiver's guard bytes survive.
if have_test_hooks "scoped remote access (ASOC_TEST_FAULT)"; then
	ENV_0="ASOC_TEST_FAULT=write-past-range"
	start_cluster 2 "${RD[@]}"
	check "rdma: one byte past the granted range is refused" bash -c "
	    '$XFER' --socket '$(sock 1)' recv --from 0 --size 65537 --offset 4096 --guard 8192 --settle-ms 500 --expect epeerlost &
	    r=\$!
	    '$XFER' --socket '$(sock 0)' send --to 1 --size 65537 --expect epeerlost; s=\$?
	    wait \$r && [ \$s -eq 0 ]"
	check "rdma: ... with a remote access error" grep -qi "remote access error" "$T/d0.log"
	stop_cluster
	# After completion, with either kind of exposure (regions are what
	# Soft-RoCE gets by default; windows are what hardware gets).
	for scope in mr mw; do
		ENV_0="ASOC_TEST_FAULT=write-after-done ASOC_RDMA_SCOPE=$scope"
		ENV_1="ASOC_RDMA_SCOPE=$scope"
		start_cluster 2 "${RD[@]}"
		check "rdma ($scope): a write after completion is refused, the data stays" bash -c "
		    '$XFER' --socket '$(sock 1)' recv --from 0 --size 65537 --offset 4096 --guard 8192 --settle-ms 1000 &
		    r=\$!
		    '$XFER' --socket '$(sock 0)' send --to 1 --size 65537 && wait \$r"
		check "rdma ($scope): ... with a remote access error" bash -c "
		    for i in \$(seq 50); do grep -qi 'remote access error' '$T/d0.log' && exit 0; sleep 0.1; done; exit 1"
		stop_cluster
	done
fi
# asoc-info (issue 13): on the lab's Soft-RoCE it must choose RDMA (exit
# 0), name the device behind the address, and say TCP for an address with
# no device behind it, as asocd would.
INFO=$B/client/asoc-info
check "asoc-info: RDMA chosen on $HOST (exit 0)" bash -c \
    "'$INFO' --listen '$HOST' --munge no --json > '$T/info.json'"
check "asoc-info: --json says rdma and names the device" jq -e \
    --arg host "$HOST" '.transport == "rdma" and .device.port >= 1 and
    .listen.address == $host and
    (.device.name as $d | any(.devices[]; .name == $d))' "$T/info.json"
check_fails "asoc-info: no device behind 127.0.0.1: TCP, exit 1" \
    "asocd would fall back to TCP: no RDMA device behind 127.0.0.1" \
    "$INFO" --listen 127.0.0.1 --munge no
finish
