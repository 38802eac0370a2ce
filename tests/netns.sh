# netns.sh: a cluster of network namespaces for the integration tests,
# sourced after lib.sh.  The nodes are namespaces ${NS}n1..n${N}, each
# with one veth (eth0, NET.I/24) to a bridge that lives in a namespace of
# its own (${NS}br); both ends of every veth are made inside namespaces,
# so nothing ever appears among the machine's own interfaces, and no
# packet (broadcast included) can reach them.  Everything is removed on
# exit, after lib.sh's cleanup has stopped the processes.
if [ "$(id -u)" -ne 0 ] || ! command -v ip >/dev/null; then
	echo "$(basename "$0"): needs root and iproute2 for network namespaces" >&2
	exit 77	# automake: skipped, and said so
fi
NS=asoc$$
NSS=()
netns_cleanup() {
	local i
	for ((i = ${#NSS[@]} - 1; i >= 0; i--)); do
		ip netns del "${NSS[$i]}" 2>/dev/null || true
	done
}
trap 'cleanup; netns_cleanup' EXIT

# netns_cluster N NET [tc qdisc args...]: the bridge and nodes 1..N; with
# qdisc arguments (e.g. root tbf rate 1gbit burst 256kb latency 50ms) both
# ends of every link get them, like a NIC on a switch.
netns_cluster() {
	local n=$1 net=$2 i
	shift 2
	ip netns add "${NS}br" && NSS+=("${NS}br")
	ip -n "${NS}br" link set lo up
	ip -n "${NS}br" link add br0 type bridge
	ip -n "${NS}br" link set br0 up
	for ((i = 1; i <= n; i++)); do
		ip netns add "${NS}n$i" && NSS+=("${NS}n$i")
		ip -n "${NS}n$i" link set lo up
		ip -n "${NS}n$i" link add eth0 type veth peer name "v$i" netns "${NS}br"
		ip -n "${NS}n$i" addr add "$net.$i/24" dev eth0
		if [ $# -gt 0 ]; then
			tc -n "${NS}n$i" qdisc add dev eth0 "$@"
			tc -n "${NS}br" qdisc add dev "v$i" "$@"
		fi
		ip -n "${NS}br" link set "v$i" master br0
		ip -n "${NS}br" link set "v$i" up
		ip -n "${NS}n$i" link set eth0 up
	done
}

# nsx I COMMAND...: COMMAND inside node I, in the foreground (in the
# background, $! would be the subshell, not COMMAND: start daemons with
# ip netns exec directly, so they can be stopped by their PID).
nsx() {
	local i=$1
	shift
	ip netns exec "${NS}n$i" "$@"
}
