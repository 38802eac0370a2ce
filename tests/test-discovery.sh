#!/usr/bin/env bash
# Opt-in UDP discovery, inside network namespaces this test makes (never on
# the machine's own interfaces): three nodes with the key find each other
# and form a world of three; a node with another key is not admitted; and
# discovery is refused under SLURM.
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib.sh"
. "${top_srcdir:-$(dirname "$0")/..}/tests/netns.sh"

# A bridge in its own namespace, and nodes 1-4 on it, 10.80.0.N/24.
netns_cluster 4 10.80.0

head -c 32 /dev/urandom >"$T/key" && chmod 600 "$T/key"
head -c 32 /dev/urandom >"$T/other.key" && chmod 600 "$T/other.key"

start_node() {	# N KEYFILE
	ip netns exec "${NS}n$1" "$ASOCD" -f --discovery --world 3 \
	    --key-file "$2" --community lab --listen "10.80.0.$1" --port 9000 \
	    --discovery-addr 10.80.0.255 --socket "$(sock "$1")" \
	    --log-file "$T/d$1.log" --connection-timeout 8 &
	DAEMONS+=($!)
}
# The stranger first, so the others hear it from the start.
start_node 4 "$T/other.key"
for i in 1 2 3; do start_node "$i" "$T/key"; done
wait_socket "$(sock 1)" "$(sock 2)" "$(sock 3)" || true

check "three nodes with the key formed a world of three" bash -c "
    for i in 1 2 3; do '$STAT' --socket \"$T/s\$i.sock\" --json | grep -q '\"world\":3' || exit 1; done"
check "ranks follow the address order" bash -c "
    '$STAT' --socket '$(sock 2)' --json | grep -q '^{\"rank\":1,'"
check "a transfer between discovered peers" bash -c "
    ip netns exec ${NS}n3 '$XFER' --socket '$(sock 3)' recv --from 0 --size 1048577 &
    r=\$!
    ip netns exec ${NS}n1 '$XFER' --socket '$(sock 1)' send --to 2 --size 1048577 && wait \$r"
check "the node with another key was ignored, and said why" \
    grep -q "ignored announces from 10.80.0.4: bad MAC" "$T/d1.log"
check "the node with another key gave up with a clear message" bash -c "
    for i in \$(seq 120); do grep -q 'discovery found 1 of 3 members' '$T/d4.log' && exit 0; sleep 0.1; done; exit 1"
check_fails "discovery is refused under SLURM" "LANs without SLURM" \
    env SLURM_JOB_ID=42 "$ASOCD" -f --discovery --world 3 --key-file "$T/key" \
    --listen 127.0.0.1 --socket "$T/x.sock"
check_fails "a key file readable by others is refused" "chmod 600" bash -c "
    chmod 644 '$T/key'; '$ASOCD' -f --discovery --world 3 --key-file '$T/key' --listen 127.0.0.1 --socket '$T/x.sock'"
finish
