#!/usr/bin/env bash
# asocd's command line and start-up errors, the tools' shared command line
# (--help, --version, exit status 0/1/2), asoc-stat, and SIGTERM.
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib.sh"

check "asocd --help lists the options" bash -c "'$ASOCD' --help | grep -q -- '--peers'"
check "asocd --version" bash -c "'$ASOCD' --version | grep -q 'protocol'"
check_fails "a bad port is refused" "port must be a number" "$ASOCD" -f --port 99999
check_fails "a bad transport is refused" "auto, rdma or tcp" "$ASOCD" -f --transport udp
if [ -z "$(ls /sys/class/infiniband 2>/dev/null)" ]; then
	check_fails "--transport rdma without an RDMA device is refused clearly" \
	    "transport rdma: no RDMA" "$ASOCD" -f --transport rdma \
	    --peers 127.0.0.1:1,127.0.0.1:2 --rank 0 --socket "$T/x.sock"
fi
check_fails "a node missing from --peers" "not in --peers" \
    "$ASOCD" -f --peers 127.0.0.1:1,127.0.0.1:2 --port 3 --socket "$T/x.sock"
check_fails "--rank beyond the peer list" "names only 2" \
    "$ASOCD" -f --peers 127.0.0.1:1,127.0.0.1:2 --rank 5 --socket "$T/x.sock"
check_fails "a bad hostlist" "unbalanced" "$ASOCD" -f --peers 'node[1-3' --rank 0 --socket "$T/x.sock"
check_fails "a bad config file line" "unknown setting" bash -c "
    printf 'port = 9000\nbogus = 1\n' > '$T/bad.conf'; '$ASOCD' -f --config '$T/bad.conf'"

# The tools' shared command line (client/cli-opt.c): --version and --help
# in one style, exit status 2 for any misuse of the command line and 1 for
# an operation that failed, in every tool.
BENCH=$B/client/asoc-bench
INFO=$B/client/asoc-info
# check_exit DESCRIPTION STATUS NEEDLE COMMAND...: must exit with STATUS
# and say NEEDLE.
check_exit() {
	local desc=$1 want=$2 needle=$3 rc=0
	shift 3
	"$@" >"$T/out" 2>&1 || rc=$?
	if [ "$rc" -ne "$want" ]; then
		not_ok "$desc (exit status $rc, not $want)" "$T/out"
	elif ! grep -q -- "$needle" "$T/out"; then
		not_ok "$desc (no '$needle' in its output)" "$T/out"
	else
		ok "$desc"
	fi
}
for tool in "$SEND" "$RECV" "$STAT" "$BENCH" "$INFO"; do
	n=${tool##*/}
	check_exit "$n --version" 0 "^$n [0-9][0-9.]* (protocol [0-9]*)\$" \
	    "$tool" --version
	check_exit "$n -V" 0 "^$n [0-9]" "$tool" -V
	check_exit "$n --help" 0 "^usage: $n \[options\]" "$tool" --help
	check_exit "$n --help lists --version" 0 "^ *-V, --version " "$tool" --help
	check_exit "$n --help gives the exit status" 0 "^Exit status: 0 " \
	    "$tool" --help
done
for tool in "$SEND" "$RECV" "$STAT" "$BENCH"; do
	n=${tool##*/}
	check_exit "$n: an unknown option exits 2" 2 \
	    "$n: unknown option '--bogus' (try '$n --help')" "$tool" --bogus
	check_exit "$n: an unknown short option exits 2" 2 \
	    "unknown option -y" "$tool" -y
	check_exit "$n: a missing argument exits 2" 2 \
	    "option '--socket' needs an argument" "$tool" --socket
	check_exit "$n: an argument to a flag exits 2" 2 \
	    "option '--help' takes no argument" "$tool" --help=1
done
# After a long flag, in a group: getopt leaves optind on the group.
for tool in "$SEND" "$RECV"; do
	check_exit "${tool##*/}: an unknown short option in a group is named" 2 \
	    "unknown option -y" "$tool" --quiet -yq
done
check_exit "asoc-info: an unknown option exits 2 (asocd would not start)" 2 \
    "asoc-info: asocd would not start" "$INFO" --bogus
check_exit "asoc-send: a bad rank exits 2" 2 "--to wants a number" "$SEND" --to x
check_exit "asoc-send: no --to exits 2" 2 "--to RANK is required" "$SEND"
check_exit "asoc-send: two files exit 2" 2 "one FILE at most" "$SEND" --to 1 a b
check_exit "asoc-recv: a bad --timeout exits 2" 2 "--timeout wants a number" \
    "$RECV" --timeout 1s
check_exit "asoc-recv: an operand exits 2" 2 "name the output with -o" "$RECV" x
check_exit "asoc-stat: two formats exit 2" 2 "choose one" "$STAT" --json -p
# Process ranks (issue 12): the shared --rank/--world-size/--node-ranks
# of asoc-send and asoc-recv, refused as usage before any daemon is asked.
for tool in "$SEND" "$RECV"; do
	n=${tool##*/}
	check_exit "$n --help lists --rank, --world-size, --node-ranks" 0 \
	    "^ *--world-size P " "$tool" --help
	check_exit "$n: --rank without --world-size exits 2" 2 \
	    "--rank 3 needs --world-size" "$tool" -W 5 --rank 3
	check_exit "$n: --world-size without --rank exits 2" 2 \
	    "--world-size 4 needs --rank" "$tool" -W 5 --world-size 4
	check_exit "$n: --rank outside the world exits 2" 2 \
	    "rank 17 is not in a world of 16 process ranks (0-15)" \
	    "$tool" -W 5 --rank 17 --world-size 16
	check_exit "$n: --world-size 0 exits 2" 2 "out of range (1 to 65535)" \
	    "$tool" -W 5 --rank 0 --world-size 0
	check_exit "$n: --rank not a number exits 2" 2 "--rank wants a number" \
	    "$tool" -W 5 --rank x --world-size 2
	check_exit "$n: --node-ranks with --rank exits 2" 2 \
	    "--node-ranks and --rank exclude each other" \
	    "$tool" -W 5 --node-ranks --rank 0 --world-size 2
done
# The environment's refusals come from libasoc, before the socket is
# looked for: exit 1, and the message names the variable to fix.
check_exit "ASOC_PROC_RANK without ASOC_PROC_WORLD exits 1" 1 \
    "ASOC_PROC_RANK is set (2) but ASOC_PROC_WORLD is not" \
    env ASOC_PROC_RANK=2 "$RECV" -S "$T/none.sock"
check_exit "ASOC_PROC_RANK outside ASOC_PROC_WORLD exits 1" 1 \
    "rank 4 is not in a world of 4 process ranks (0-3)" \
    env ASOC_PROC_RANK=4 ASOC_PROC_WORLD=4 "$SEND" --to 0 -S "$T/none.sock" /dev/null
check_exit "ASOC_PROC_WORLD not a number exits 1" 1 \
    "ASOC_PROC_WORLD must be a number of processes from 1 to 65535, not 'two'" \
    env ASOC_PROC_RANK=1 ASOC_PROC_WORLD=two "$RECV" -S "$T/none.sock"
check_exit "an srun step without its task count exits 1" 1 \
    "neither SLURM_STEP_NUM_TASKS nor SLURM_NTASKS" \
    env -u SLURM_NTASKS -u SLURM_STEP_NUM_TASKS SLURM_STEP_ID=0 \
    SLURM_PROCID=1 "$RECV" -S "$T/none.sock"
check_exit "ASOC_RANKS other than node exits 1" 1 \
    "ASOC_RANKS is 'proc': the only value is 'node'" \
    env ASOC_RANKS=proc "$RECV" -S "$T/none.sock"
check_exit "--rank overrides a broken ASOC_PROC_RANK" 1 "is asocd running" \
    env ASOC_PROC_RANK=x "$RECV" --rank 0 --world-size 1 -S "$T/none.sock"
check_exit "asoc-bench: a bad pattern exits 2" 2 "--pattern is pair" \
    "$BENCH" --pattern x
check_exit "asoc-bench: --rank not below --world-size exits 2" 2 \
    "rank 2 is not in a world of 2 process ranks" "$BENCH" --rank 2 \
    --world-size 2
check_exit "asoc-bench --help lists --rank, --world-size, --node-ranks" 0 \
    "^ *--node-ranks " "$BENCH" --help
check_exit "asoc-bench: --node-ranks with --rank exits 2" 2 \
    "exclude each other" "$BENCH" --node-ranks --rank 0 --world-size 2
check_exit "asoc-bench: --per-node-bytes outside alltoall exits 2" 2 \
    "alltoall only" "$BENCH" --pattern ring --per-node-bytes
# Failed operations: no asocd behind the socket.
check_exit "asoc-send without a daemon exits 1" 1 "is asocd running" \
    "$SEND" --socket "$T/none.sock" --to 1 /dev/null
check_exit "asoc-recv without a daemon exits 1" 1 "is asocd running" \
    "$RECV" -S "$T/none.sock"
check_exit "asoc-stat without a daemon exits 1" 1 "is asocd running" \
    "$STAT" --socket "$T/none.sock"
check_exit "asoc-bench without a daemon exits 1" 1 "is asocd running" \
    "$BENCH" --socket "$T/none.sock"
check_exit "asoc-send of a missing file exits 1" 1 "cannot open" \
    "$SEND" --to 1 "$T/no-such-file"
check_exit "asoc-recv into a missing folder exits 1" 1 "cannot create" \
    "$RECV" -o "$T/no/such/dir/out"
# ASOC_TEST_STOP_AT is a test hook: only a --enable-test-hooks build has
# it.  The programs themselves, not libtool's wrapper scripts.
real() { if [ -f "${1%/*}/.libs/${1##*/}" ]; then echo "${1%/*}/.libs/${1##*/}"; else echo "$1"; fi; }
if [ "${ASOC_TEST_HOOKS:-}" = yes ]; then
	check "asoc-send and asoc-recv have ASOC_TEST_STOP_AT (--enable-test-hooks)" \
	    bash -c "grep -q ASOC_TEST_STOP_AT '$(real "$SEND")' &&
	    grep -q ASOC_TEST_STOP_AT '$(real "$RECV")'"
else
	check "asoc-send and asoc-recv have no ASOC_TEST_STOP_AT (no --enable-test-hooks)" \
	    bash -c "! grep -q ASOC_TEST_STOP_AT '$(real "$SEND")' '$(real "$RECV")'"
fi

start_cluster 2
check_fails "a second daemon on the same port" "address already in use" \
    "$ASOCD" -f --peers "$PEERS" --rank 0 --port "$BASE" --socket "$T/other.sock"
check_fails "a second daemon on the same socket" "already serving" \
    "$ASOCD" -f --peers "$PEERS" --rank 0 --port "$BASE" --listen 127.0.0.2 --socket "$(sock 0)"
check "asoc-stat shows both ranks" bash -c "'$STAT' --socket '$(sock 0)' | grep -q '127.0.0.1:$((BASE + 1))'"
check "asoc-stat --json" bash -c "'$STAT' --socket '$(sock 1)' --json | grep -q '\"rank\":1'"
check_fails "asoc-stat without a daemon" "is asocd running" "$STAT" --socket "$T/none.sock"
check "asoc-stat --prometheus" bash -c "'$STAT' --socket '$(sock 0)' --prometheus |
    grep -qx 'asoc_world_size 2' && '$STAT' --socket '$(sock 0)' -p |
    grep -qx '# HELP asoc_deregistrations_total RDMA memory deregistrations.'"
# Which rank a tool asks for (issue 12).  asoc-stat is status-only, so
# it never claims a rank, whatever the environment says.
check "asoc-stat with a process rank in the environment (status-only)" \
    env ASOC_PROC_RANK=0 ASOC_PROC_WORLD=2 SLURM_STEP_ID=0 SLURM_PROCID=1 \
    SLURM_NTASKS=2 "$STAT" --socket "$(sock 0)"
check "asoc-stat with a broken ASOC_PROC_RANK (status-only)" \
    env ASOC_PROC_RANK=x "$STAT" --socket "$(sock 0)"
head -c 100000 /dev/urandom >"$T/ranks.in"
# stream_node DESC ENV...: a node-mode stream from node 0 to node 1
# with ENV on both tools (and any --node-ranks after a --).
stream_node() {
	local desc=$1 opt=
	shift
	if [ "${1:-}" = --node-ranks ]; then opt=--node-ranks; shift; fi
	check "$desc" bash -c "
	    env $* '$RECV' -q -S '$(sock 1)' $opt -o '$T/ranks.out' &
	    r=\$!
	    env $* '$SEND' -q -S '$(sock 0)' $opt --to 1 '$T/ranks.in' &&
	    wait \$r && cmp '$T/ranks.in' '$T/ranks.out'"
	rm -f "$T/ranks.out"
}
stream_node "the batch shell (SLURM_PROCID, no step) stays in node mode" \
    SLURM_JOB_ID=7 SLURM_PROCID=0 SLURM_NTASKS=4 SLURM_LOCALID=0
stream_node "ASOC_RANKS=node keeps an srun step in node mode" \
    ASOC_RANKS=node SLURM_STEP_ID=0 SLURM_PROCID=3 SLURM_STEP_NUM_TASKS=4
stream_node "--node-ranks keeps an srun step in node mode" --node-ranks \
    SLURM_STEP_ID=0 SLURM_PROCID=3 SLURM_STEP_NUM_TASKS=4
# asoc-bench on the loopback pair: self, and pair with both ranks.
check "asoc-bench --pattern self verifies its data" bash -c "
    '$BENCH' --socket '$(sock 0)' --pattern self --size-mb 1 -i 2 -w 0 |
    grep -q 'data verified'"
check "asoc-bench --pattern pair on two ranks verifies its data" bash -c "
    '$BENCH' --socket '$(sock 1)' --size-mb 1 --iterations 2 --json >'$T/b1' &
    b=\$!
    '$BENCH' --socket '$(sock 0)' --size-mb 1 --iterations 2 --json >'$T/b0' &&
    wait \$b && grep -q '\"verified\":true' '$T/b1' &&
    grep -q '\"pattern\":\"pair\"' '$T/b0'"
check "asoc-bench --pattern bcast on two ranks verifies its data" bash -c "
    '$BENCH' --socket '$(sock 1)' -p bcast -m 1 -i 2 >'$T/c1' &
    b=\$!
    '$BENCH' --socket '$(sock 0)' -p bcast -m 1 -i 2 >'$T/c0' &&
    wait \$b && grep -q 'data verified on 1 of 1 receivers' '$T/c0'"

# A peer killed with receives posted for it: they fail with "peer lost"
# instead of waiting for a send that can no longer come.
check "a transfer from rank 1 to rank 0 (connects them)" bash -c "
    '$XFER' --socket '$(sock 0)' recv --from 1 --size 100 --tag 4 &
    r=\$!
    '$XFER' --socket '$(sock 1)' send --to 0 --size 100 --tag 4 && wait \$r"
"$XFER" --socket "$(sock 0)" recv --from 1 --size 100 --tag 5 --expect epeerlost >"$T/lost.out" 2>&1 &
lpid=$!
wait_stat "$(sock 0)" posted_recvs 1
kill -KILL "${DAEMONS[1]}"
wait "${DAEMONS[1]}" 2>/dev/null || true
if wait "$lpid"; then ok "a receive posted for a killed peer fails with peer lost"; else
	not_ok "a receive posted for a killed peer fails with peer lost" "$T/lost.out" "$T/d0.log"; fi

# Peers that never come up: the send fails within the connection timeout.
check "a send to a dead peer fails after the connection timeout" \
    "$XFER" --socket "$(sock 0)" send --to 1 --size 10 --expect enopeer

# Daemonised start: the parent returns once the child serves.
check "asocd without -f daemonises and reports ready" bash -c "
    '$ASOCD' --socket '$T/bg.sock' --port $((BASE + 50)) --listen 127.0.0.1 \
        --pidfile '$T/bg.pid' --log-file '$T/bg.log' && test -S '$T/bg.sock' &&
    '$STAT' --socket '$T/bg.sock' >/dev/null"
check "SIGTERM stops it and removes its socket and pidfile" bash -c "
    kill -TERM \$(cat '$T/bg.pid'); for i in \$(seq 50); do [ -e '$T/bg.pid' ] || break; sleep 0.1; done
    [ ! -e '$T/bg.pid' ] && [ ! -e '$T/bg.sock' ]"

# SIGTERM drains: a transfer in flight completes before the daemon exits.
"$XFER" --socket "$(sock 0)" self --size 268435456 >"$T/drain.out" 2>&1 &
dpid=$!
sleep 0.3
kill -TERM "${DAEMONS[0]}"
if wait "$dpid"; then ok "SIGTERM let the transfer in flight finish"; else
	# It may have started after the signal: then it is refused cleanly.
	if grep -q "shutting down\|is asocd running\|lost the connection" "$T/drain.out"; then
		ok "SIGTERM refused a transfer cleanly"
	else not_ok "SIGTERM drain" "$T/drain.out" "$T/d0.log"; fi
fi
check "rank 0 exited after SIGTERM" bash -c "wait ${DAEMONS[0]} 2>/dev/null; ! kill -0 ${DAEMONS[0]} 2>/dev/null"
finish
