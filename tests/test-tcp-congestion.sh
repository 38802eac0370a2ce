#!/usr/bin/env bash
# tcp-congestion: the TCP congestion control of asocd's peer connections
# (daemon/tcp_cc.c), whatever the kernel's default is.
#
# 1. By default both ends of every peer connection use cubic (ss -ti),
#    and a 64M+3-byte message lands checked.
# 2. --tcp-congestion reno: reno on both ends, the same message checked.
# 3. --tcp-congestion system: the kernel's pick
#    (/proc/sys/net/ipv4/tcp_congestion_control).
# 4. A name the kernel refuses (not built, not loadable): asocd stops at
#    start, naming the sysctl that lists what is available; a malformed
#    name is refused as a bad setting.
#
# On a machine whose default is bbr (this project's), step 1 fails
# without tcp_cc.c: BBR's pacing halved loopback TCP there.
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib.sh"

XFER_WRAP=(timeout 120)

# ccs N: the congestion controls of the TCP connections among the
# cluster's N daemons, both ends of each, sorted and counted.
ccs() {
	ss -Htni state established | awk -v lo="$BASE" -v hi=$((BASE + $1 - 1)) '
		/^[^ \t]/ {	# a connection; its details follow, indented
			mine = 0
			for (f = 1; f <= NF; f++)
				if ($f ~ /:[0-9]+$/) {
					p = $f
					sub(/.*:/, "", p)
					if (p + 0 >= lo && p + 0 <= hi)
						mine = 1
				}
			next
		}
		mine {
			cc = "?"
			for (f = 2; f <= NF; f++)
				if ($f ~ /^wscale:/)
					cc = $(f - 1)
			print cc
			mine = 0
		}' | sort | uniq -c | awk '{ printf "%s%s x%s", sep, $2, $1; sep = ", " }'
}

# uses N WANT: every end of every connection among N daemons uses WANT
# (at least two ends: one connection per pair).
uses() {
	local got
	got=$(ccs "$1")
	echo "connections use: ${got:-none}"
	[[ $got =~ ^$2\ x([0-9]+)$ ]] && [ "${BASH_REMATCH[1]}" -ge 2 ]
}

# round WANT ARGS...: a cluster of 2 with ARGS, a checked 64M+3-byte
# message, and WANT on the connection's both ends.
round() {
	local want=$1
	shift
	start_cluster 2 "$@"
	check "64M+3 bytes 0 -> 1, checked (tcp-congestion ${*:-default})" \
	    pair 0 1 7 67108867
	check "both ends of the peer connection use $want" uses 2 "$want"
	grep -h "congestion" "$T"/d0.log || true
	stop_cluster
}

kernel=$(cat /proc/sys/net/ipv4/tcp_congestion_control)
echo "the kernel's default: $kernel"

# --- 1. the default
round cubic
# --- 2. asked for
round reno --tcp-congestion reno
# --- 3. the kernel's
round "$kernel" --tcp-congestion system

# --- 4. refused names
refused_at_start() {
	local name=$1 want=$2 rc=0
	timeout 20 "$ASOCD" -f --peers "$HOST:$BASE,$HOST:$((BASE + 1))" \
	    --port "$BASE" --socket "$(sock 9)" --tcp-congestion "$name" \
	    >"$T/refused.out" 2>&1 || rc=$?
	cat "$T/refused.out"
	[ "$rc" -ne 0 ] && [ "$rc" -ne 124 ] && grep -q -- "$want" "$T/refused.out"
}
check "a congestion control the kernel lacks stops asocd, naming the sysctl" \
    refused_at_start asocnosuchcc tcp_available_congestion_control
check "a malformed name is refused as a setting" \
    refused_at_start 'cubic;reno' "no congestion control's name"

finish
