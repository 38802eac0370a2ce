# shellcheck shell=bash
# netns-cluster.sh: the one cluster of network namespaces that
# bench/bcast-scaling, bench/vs-mpi and the integration tests (through
# tests/netns.sh) set up; sourced, not run, and it does nothing when
# sourced but define names.  N namespaces are hosts NET.1..N/24, each
# with one veth (eth0) to a bridge that lives in a namespace of its own;
# both ends of every veth are made inside namespaces, so nothing appears
# among the machine's own interfaces and no packet (broadcast included)
# can reach them.  With qdisc arguments (e.g. root tbf rate 1gbit burst
# 256kb latency 50ms) both ends of every link get them, like a NIC on a
# switch.  Needs root and iproute2.
#
# The names are ${netns_prefix}br (the bridge) and ${netns_prefix}nI (node
# I); the sourcing script may set netns_prefix before sourcing (default:
# asoc<pid>-, unique per run, so two runs at once never share a name).
# Every namespace made is in netns[], in order; cluster_down deletes them,
# and with them their links and qdiscs.

netns_prefix=${netns_prefix:-asoc$$-}
netns=()	# every namespace made, in order

# ns I: node I's namespace.
ns() { echo "${netns_prefix}n$1"; }

cluster_down() {
	local i
	for ((i = ${#netns[@]} - 1; i >= 0; i--)); do
		ip netns del "${netns[$i]}" 2>/dev/null ||
		    printf 'netns-cluster: could not delete namespace %s\n' \
		    "${netns[$i]}" >&2
	done
	netns=()
}

# netns_cluster N NET [tc qdisc args...]: the bridge and nodes 1..N.
netns_cluster() {
	local nodes=$1 net=$2 i n brns=${netns_prefix}br
	shift 2
	ip netns add "$brns" && netns+=("$brns")
	ip -n "$brns" link set lo up
	ip -n "$brns" link add br0 type bridge
	ip -n "$brns" link set br0 up
	for ((i = 1; i <= nodes; i++)); do
		n=$(ns "$i")
		ip netns add "$n" && netns+=("$n")
		ip -n "$n" link set lo up
		# The benches' TCP congestion control (bench-cc.sh's
		# REF_CC, which a namespace accepts, or the kernel's
		# default, which it inherits), so that Open MPI's
		# connections and asocd's use the same.
		if [ -n "${REF_CC:-}" ] && [ "$REF_CC" != "$(ip netns exec \
		    "$n" cat /proc/sys/net/ipv4/tcp_congestion_control)" ]; then
			ip netns exec "$n" sysctl -qw \
			    net.ipv4.tcp_congestion_control="$REF_CC"
		fi
		ip -n "$n" link add eth0 type veth peer name "v$i" netns "$brns"
		ip -n "$n" addr add "$net.$i/24" dev eth0
		if [ $# -gt 0 ]; then
			tc -n "$n" qdisc add dev eth0 "$@"
			tc -n "$brns" qdisc add dev "v$i" "$@"
		fi
		ip -n "$brns" link set "v$i" master br0
		ip -n "$brns" link set "v$i" up
		ip -n "$n" link set eth0 up
	done
}

# What the benches use: NODES nodes on 10.79.0.0/24, every link capped at
# 1 Gbit/s in both directions by tc tbf.
net=10.79.0
cluster_tbf=(root tbf rate 1gbit burst 256kb latency 50ms)

# cluster_up NODES
cluster_up() {
	printf 'netns-cluster: namespaces %sbr, %sn1..n%d: %s.1-%d/24, 1 Gbit/s links\n' \
	    "$netns_prefix" "$netns_prefix" "$1" "$net" "$1" >&2
	netns_cluster "$1" "$net" "${cluster_tbf[@]}"
}
