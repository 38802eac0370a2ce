# shellcheck shell=bash
# netns.sh: a cluster of network namespaces for the integration tests,
# sourced after lib.sh.  The cluster itself is bench/netns-cluster.sh's
# (the one the benches use): nodes ${NS}n1..n${N}, each with one veth
# (eth0, NET.I/24) to a bridge in a namespace of its own (${NS}br), made
# by `netns_cluster N NET [tc qdisc args...]`.  This file adds what a test
# needs around it: a skip when it cannot run, nsx, and the removal of
# every namespace on exit, after lib.sh's cleanup has stopped the
# processes.
if [ "$(id -u)" -ne 0 ] || ! command -v ip >/dev/null; then
	echo "$(basename "$0"): needs root and iproute2 for network namespaces" >&2
	exit 77	# automake: skipped, and said so
fi
NS=asoc$$
netns_prefix=$NS
# shellcheck source=bench/netns-cluster.sh
. "$(dirname "${BASH_SOURCE[0]}")/../bench/netns-cluster.sh"
trap 'cleanup; cluster_down' EXIT

# nsx I COMMAND...: COMMAND inside node I, in the foreground (in the
# background, $! would be the subshell, not COMMAND: start daemons with
# ip netns exec directly, so they can be stopped by their PID).
nsx() {
	local i=$1
	shift
	ip netns exec "${NS}n$i" "$@"
}
