#!/usr/bin/env bash
# A link taken down for 5 s under load, in a cluster of four network
# namespaces with 1 Gbit/s links (tests/netns.sh): node 2's eth0 goes down
# while four streams of checked messages run, two of them through node 2.
# Twice: with a connection timeout longer than the outage (the streams
# must recover and complete) and with a shorter one (the streams through
# node 2 must fail with "peer lost" within the timeout, the others
# complete, and node 2 is reached again once its link is back).  In both,
# every client runs under a hard bound, and every message a sender
# reports as sent was received with the same checksum, verified byte for
# byte (asoc-xfer-check).
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib.sh"
. "${top_srcdir:-$(dirname "$0")/..}/tests/netns.sh"

NET=10.81.0
DOWN=5		# seconds the link is down
HARD=90		# no client may run longer: a hang is a failure
SLACK=4		# seconds on top of the connection timeout for a failure
SIZE=4194305	# 4 MiB + 1 per message
COUNT=60	# per stream: about 2 s of a 1 Gbit/s link
netns_cluster 4 "$NET" root tbf rate 1gbit burst 256kb latency 50ms
SOCK_OFFSET=1	# node N, rank N - 1, has socket N (lib.sh's pair)
XFER_WRAP=(timeout "$HARD")

start_nodes() {	# CONNECTION_TIMEOUT
	local i peers=
	for i in 1 2 3 4; do peers+="${peers:+,}$NET.$i:9000"; done
	DAEMONS=()
	for i in 1 2 3 4; do
		rm -f "$T/d$i.log"
		# Not through nsx: $! must be asocd itself (ip netns exec
		# execs it), so that it is stopped by its PID.
		ip netns exec "${NS}n$i" "$ASOCD" -f --peers "$peers" --listen "$NET.$i" \
		    --port 9000 --transport tcp --socket "$(sock "$i")" \
		    --log-file "$T/d$i.log" --connection-timeout "$1" &
		DAEMONS[i]=$!
	done
	for i in 1 2 3 4; do
		wait_stat "$(sock "$i")" rank $((i - 1)) || return 1
	done
}

# stream NAME SRC DST TAG: COUNT checked messages from node SRC to node
# DST (clients talk to their node's daemon over its Unix socket, so they
# run here); each end records its exit status and when it ended.
stream() {
	local name=$1 src=$2 dst=$3 tag=$4
	(timeout "$HARD" "$XFER" --socket "$(sock "$dst")" recv --from $((src - 1)) \
	    --tag "$tag" --size "$SIZE" --count "$COUNT" >"$T/$name.r" 2>&1 &&
	     rc=0 || rc=$?
	 echo "$rc $EPOCHREALTIME" >"$T/$name.r.end") &
	BGPIDS+=($!)
	(timeout "$HARD" "$XFER" --socket "$(sock "$src")" send --to $((dst - 1)) \
	    --tag "$tag" --size "$SIZE" --count "$COUNT" >"$T/$name.s" 2>&1 &&
	     rc=0 || rc=$?
	 echo "$rc $EPOCHREALTIME" >"$T/$name.s.end") &
	BGPIDS+=($!)
}
# consistent NAME: every message reported sent was received, intact, with
# the sender's checksum, in order; the receiver may have one more (its
# ACK lost with the link) but nothing else.
consistent() {
	local s r
	! grep -q MISMATCH "$T/$1.r" || return 1
	s=$(grep -o 'checksum [0-9a-f]*' "$T/$1.s" | cut -d' ' -f2 | tr '\n' ' ')
	r=$(grep ' ok$' "$T/$1.r" | grep -o 'checksum [0-9a-f]*' | cut -d' ' -f2 | tr '\n' ' ')
	[ "$(grep -c 'checksum' "$T/$1.r")" = "$(grep -c ' ok$' "$T/$1.r")" ] || return 1
	case "$r" in "$s"*) ;; *) return 1 ;; esac
	[ $((${#r} - ${#s})) -le 17 ]
}
status() { cut -d' ' -f1 "$T/$1.end"; }
ended() { cut -d' ' -f2 "$T/$1.end"; }

# round NAME CONNECTION_TIMEOUT: the load, node 2's link down for DOWN s,
# and everything waited for.  Through node 2: a (1 -> 2) and b (2 -> 3);
# elsewhere: c (3 -> 4) and d (4 -> 1).
round() {
	local name=$1 cto=$2 p
	start_nodes "$cto"
	stream "$name-a" 1 2 11
	stream "$name-b" 2 3 12
	stream "$name-c" 3 4 13
	stream "$name-d" 4 1 14
	# Down once the streams through node 2 are moving.
	wait_landed "$(sock 3)" 16777216 || true
	T_DOWN=$EPOCHREALTIME
	nsx 2 ip link set eth0 down
	sleep "$DOWN"
	nsx 2 ip link set eth0 up
	T_UP=$EPOCHREALTIME
	for p in "${BGPIDS[@]}"; do wait "$p" 2>/dev/null || true; done
	BGPIDS=()
	for p in a b c d; do
		if [ "$(status "$name-$p.s")" = 124 ] || [ "$(status "$name-$p.r")" = 124 ]; then
			not_ok "$name: stream $p hung (killed after $HARD s)" "$T/$name-$p.s" "$T/$name-$p.r"
		fi
		if consistent "$name-$p"; then
			ok "$name: stream $p: every message reported sent arrived intact ($(grep -c ' ok$' "$T/$name-$p.r") of $COUNT)"
		else
			not_ok "$name: stream $p: sent and received disagree" "$T/$name-$p.s" "$T/$name-$p.r"
		fi
	done
}

secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", b - a }'; }

# 1. The timeout outlasts the outage: TCP retransmits, everything recovers.
round long 30
for p in a b c d; do
	if [ "$(status "long-$p.s")" = 0 ] && [ "$(status "long-$p.r")" = 0 ] &&
	    [ "$(grep -c ' ok$' "$T/long-$p.r")" = "$COUNT" ]; then
		ok "long: stream $p completed ($COUNT messages, done $(secs "$T_UP" "$(ended "long-$p.r")") s after the link came back)"
	else
		not_ok "long: stream $p did not recover" "$T/long-$p.s" "$T/long-$p.r"
	fi
done
check "long: rank 1 -> 2 after the outage" pair 0 1 20 "$SIZE"
for i in 1 2 3 4; do check "long: node $i holds nothing" stat_all_zero "$(sock "$i")"; done
stop_cluster

# 2. The timeout is shorter than the outage: the streams through node 2
# fail with "peer lost" within it; the others complete.
CTO=2
round short "$CTO"
for p in a b; do
	took=$(secs "$T_DOWN" "$(printf '%s\n' "$(ended "short-$p.s")" \
	    "$(ended "short-$p.r")" | sort -n | tail -n 1)")
	if [ "$(status "short-$p.s")" = 1 ] && [ "$(status "short-$p.r")" = 1 ] &&
	    grep -q "peer's asocd went away" "$T/short-$p.s" &&
	    grep -q "peer's asocd went away" "$T/short-$p.r"; then
		ok "short: stream $p (through node 2) failed with peer lost, ${took} s after the link went down"
		grep -h "recv:\|send:" "$T/short-$p.s" "$T/short-$p.r" | sed 's/^/    /'
	elif [ "$(status "short-$p.s")" = 0 ] && [ "$(status "short-$p.r")" = 0 ]; then
		# Only if the outage fell between its messages' data.
		ok "short: stream $p (through node 2) recovered"
	else
		not_ok "short: stream $p through node 2: neither done nor peer lost" \
		    "$T/short-$p.s" "$T/short-$p.r"
	fi
	if awk -v t="$took" -v b=$((CTO + SLACK)) 'BEGIN { exit !(t <= b) }' ||
	    [ "$(status "short-$p.s")" = 0 ]; then
		ok "short: stream $p ended within the connection timeout ($CTO s + $SLACK s)"
	else
		not_ok "short: stream $p ended ${took} s after the link went down (timeout $CTO s)"
	fi
done
for p in c d; do
	if [ "$(status "short-$p.s")" = 0 ] && [ "$(status "short-$p.r")" = 0 ] &&
	    [ "$(grep -c ' ok$' "$T/short-$p.r")" = "$COUNT" ]; then
		ok "short: stream $p (not through node 2) completed"
	else
		not_ok "short: stream $p (not through node 2)" "$T/short-$p.s" "$T/short-$p.r"
	fi
done
# Node 2 is reached again: the peers reconnect on first use.
check "short: rank 0 -> 1 once the link is back" pair 0 1 21 "$SIZE"
check "short: rank 1 -> 2 once the link is back" pair 1 2 22 "$SIZE"
for i in 1 2 3 4; do check "short: node $i holds nothing" stat_all_zero "$(sock "$i")"; done
check "every daemon survived" all_daemons_alive
finish
