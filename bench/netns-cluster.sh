# shellcheck shell=bash
# netns-cluster.sh: bench/bcast-scaling's cluster of network namespaces,
# for bench/vs-mpi, sourced after bench-lib.sh (not run): NODES namespaces
# are hosts $net.1..NODES/24, each with one veth to a bridge that lives in
# a namespace of its own, every link capped at 1 Gbit/s in both directions
# by tc tbf (the node's end and the bridge's end), like a NIC on a switch.
# Needs root.  cluster_down (called by bench_cleanup_more) deletes the
# namespaces, and with them their links and qdiscs.

net=10.79.0
tag=asoc$$	# unique per run: two runs at once never share a name
netns=()	# every namespace made, in order

ns() { echo "$tag-n$1"; }

cluster_down() {
	local i
	for ((i = ${#netns[@]} - 1; i >= 0; i--)); do
		ip netns del "${netns[$i]}" 2>/dev/null ||
		    say "could not delete namespace ${netns[$i]}"
	done
	netns=()
}

# cluster_up NODES
cluster_up() {
	local nodes=$1 i n brns=$tag-br
	local -a tbf=(root tbf rate 1gbit burst 256kb latency 50ms)
	say "namespaces $brns, $tag-n1..n$nodes: $net.1-$nodes/24, 1 Gbit/s links"
	ip netns add "$brns"
	netns+=("$brns")
	ip -n "$brns" link set lo up
	ip -n "$brns" link add br0 type bridge
	ip -n "$brns" link set br0 up
	for ((i = 1; i <= nodes; i++)); do
		n=$(ns "$i")
		ip netns add "$n"
		netns+=("$n")
		ip -n "$n" link set lo up
		# Made inside the namespaces: no end appears in the root one.
		ip -n "$n" link add eth0 type veth peer name "v$i" netns "$brns"
		ip -n "$n" addr add "$net.$i/24" dev eth0
		tc -n "$n" qdisc add dev eth0 "${tbf[@]}"
		tc -n "$brns" qdisc add dev "v$i" "${tbf[@]}"
		ip -n "$brns" link set "v$i" master br0
		ip -n "$brns" link set "v$i" up
		ip -n "$n" link set eth0 up
	done
}
