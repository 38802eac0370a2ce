#!/usr/bin/env bash
# Process ranks (issue 12): 4 daemons on loopback with 4 clients each, 16
# ranks, every client its own process (tests/asoc-ranks-check).
#  - every ordered pair exchanges checked data (0, 1, 64K-1, 64K, 64K+1
#    and 4 MiB+3 bytes), same node and remote, in the block and the cyclic
#    layout, and the map asoc_rank_nodes gives is the layout;
#  - same-node pairs move no byte over the network (asoc-stat);
#  - any-source receives name their real source;
#  - order per (source, tag): one same-node and one remote source, 2 tags,
#    1000 numbered messages each, interleaved;
#  - a rank that joined and exited while rank 0 was there: rank 0's
#    asoc_rank_nodes answers at once with the node it was on;
#  - a rank killed (kill -9) mid-transfer: its peers' sends and receives
#    fail "rank 5 left", new sends to it fail at once, and the rank
#    started again rejoins and receives;
#  - a duplicate claim, on the holder's node and on another, is refused
#    naming the holder's pid, and the holder carries on; (test hooks) two
#    nodes that let rank 3 join before hearing of each other: the lower
#    keeps it, the higher's holder is withdrawn naming the other;
#  - a send to a rank that joins later completes; one to a rank that never
#    joins fails "has not joined" (its deadline, or --join-timeout);
#  - refusals: rank >= world, a world of 8 against 16, node mode against
#    process mode and the converse, over --max-ranks;
#  - node mode unchanged once every process rank has left.
# ASOC_TEST_RANKS_RDMA=1 (make check-rdma): 2 daemons x 2 clients over
# rdma: all pairs, same-node pairs local, a killed rank gives "rank 1
# left", no registration left behind.
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib.sh"

NODES=4
PER_NODE=4
TP=()
if [ -n "${ASOC_TEST_RANKS_RDMA:-}" ]; then
	need_rdma_host
	TP=("${RD[@]}")
	NODES=2
	PER_NODE=2
fi
WORLD=$((NODES * PER_NODE))
SIZES=0,1,65535,65536,65537,4194307

# exited_within TENTHS PID: PID has ended (it is reaped later by wait),
# polled every 0.1 s: a failure that should come "within seconds" and not
# hang.  (A hang guard, not a measure: the bound is generous.)
exited_within() {
	wait_until "$1" bash -c "! kill -0 $2 2>/dev/null"
}

# pid_of OUT: the pid a client printed once it had joined.
pid_of() {
	wait_until 100 grep -q ", pid [0-9]*$" "$1" &&
	    sed -n 's/.*, pid \([0-9]*\)$/\1/p' "$1" | head -1
}

# ended_with OUT PID NEEDLE DESC: PID exits non-zero within 10 s, and its
# output says NEEDLE.
ended_with() {
	local out=$1 pid=$2 needle=$3 desc=$4 rc=0
	if ! exited_within 100 "$pid"; then
		not_ok "$desc (still running after 10 s)" "$out"
		# Stopped, so that its rank does not hold up the next checks.
		kill -KILL "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
		return
	fi
	wait "$pid" || rc=$?
	if [ "$rc" -ne 0 ] && grep -q -- "$needle" "$out"; then
		ok "$desc"
	else
		not_ok "$desc (exit $rc, want '$needle')" "$out"
	fi
}

# no_ranks SOCKET: that daemon holds no process rank (asoc_stat_ranks).
no_ranks() {
	"$RANKS" --socket "$1" --rank status stat 2>/dev/null | grep -q "local_ranks 0$"
}
# ranks_left_all: every daemon holds no process rank (each session's
# rank is gone, and its RK_LEAVE sent), so the next phase starts clean.
ranks_left_all() {
	local i
	for ((i = 0; i < NODES; i++)); do
		wait_until 100 no_ranks "$(sock "$i")" || return 1
	done
}

# hold_others RANK...: every other rank of the world joins and holds until
# release_holders; the RANKs, started with --barrier 1, then wait until
# the whole world has joined before they post anything.  (A rank whose
# earlier process left is known as left: a request naming it before its
# new process is announced would fail "rank N left", as documented.)
HOLDERS=()
hold_others() {
	local r
	HOLDERS=()
	rm -f "$T/release"
	for ((r = 0; r < WORLD; r++)); do
		case " $* " in *" $r "*) continue ;; esac
		proc "$T/hold.$r" "$r" --until "$T/release" hold
		HOLDERS+=("$LAST")
	done
}
release_holders() {
	local p
	touch "$T/release"
	for p in ${HOLDERS[@]+"${HOLDERS[@]}"}; do wait "$p" || true; done
	HOLDERS=()
	ranks_left_all || true
}

# all_pairs LAYOUT: every rank exchanges every size with every other.
all_pairs() {
	local layout=$1 bad r sent=0 got=0 s g nok
	LAYOUT=$layout
	start_ranks "$T/pairs-$layout" --layout "$layout" --nodes "$NODES" \
	    --sizes "$SIZES" --timeout-ms 60000 pairs
	wait_ranks
	bad=$RANKS_FAILED
	nok=0 nsum=0
	for ((r = 0; r < WORLD; r++)); do
		grep -q "^ok - rank $r: 6 sizes from each of $((WORLD - 1)) ranks ($((PER_NODE - 1)) on this node, $((WORLD - PER_NODE)) on others) arrived intact" \
		    "$T/pairs-$layout.$r" && nok=$((nok + 1))
		s= g=
		# (a here-string, not <(...): the RDMA lab's guest has no /dev/fd)
		read -r s g <<<"$(sed -n 's/^checksums sent \([0-9a-f]*\) received \([0-9a-f]*\)$/\1 \2/p' \
		    "$T/pairs-$layout.$r")" || true
		[ -n "$s" ] || continue
		nsum=$((nsum + 1)) sent=$((sent ^ 0x$s)) got=$((got ^ 0x$g))
	done
	if [ "$bad" -eq 0 ] && [ "$nok" -eq "$WORLD" ]; then
		ok "$layout: all $((WORLD * (WORLD - 1))) ordered pairs exchanged 6 sizes intact, same node and remote"
	else
		not_ok "$layout: all ordered pairs exchanged intact ($bad clients failed, $nok of $WORLD ok)" \
		    $(grep -L ' passed, 0 failed$' "$T/pairs-$layout".* | head -2)
	fi
	if [ "$nsum" -eq "$WORLD" ] && [ "$sent" -eq "$got" ]; then
		ok "$layout: the checksums of all that was sent and all that was received agree"
	else
		not_ok "$layout: the checksums of all that was sent and all that was received agree ($nsum of $WORLD ranks gave theirs)"
	fi
	if [ "$(cat "$T/pairs-$layout".* | grep -c "agree with the $layout layout")" -eq "$WORLD" ]; then
		ok "$layout: asoc_rank_nodes and asoc_node put every rank on its node, for every rank"
	else
		not_ok "$layout: asoc_rank_nodes and asoc_node put every rank on its node" \
		    $(grep -l "asoc_rank_nodes says\|asoc_node says" "$T/pairs-$layout".* | head -2)
	fi
	ranks_left_all || true
	LAYOUT=block
}

# same_node_local SRC DST: a 4 MiB+3 exchange between two ranks of one
# node moves no byte over the network: that daemon's bytes_sent and
# bytes_received (network bytes only) do not grow.
same_node_local() {
	local src=$1 dst=$2 n s0 r0 s1 r1 rpid
	n=$(rank_node "$src")
	s0=$(stat_field "$(sock "$n")" bytes_sent || true)
	r0=$(stat_field "$(sock "$n")" bytes_received || true)
	hold_others "$src" "$dst"
	proc "$T/loc.r" "$dst" --barrier 1 recv --from "$src" --size 4194307
	rpid=$LAST
	proc "$T/loc.s" "$src" --barrier 1 send --to "$dst" --size 4194307
	if wait "$LAST" && wait "$rpid"; then
		ok "same node: rank $src -> $dst, 4 MiB+3, intact"
	else
		not_ok "same node: rank $src -> $dst, 4 MiB+3, intact" "$T/loc.s" "$T/loc.r"
	fi
	s1=$(stat_field "$(sock "$n")" bytes_sent || true)
	r1=$(stat_field "$(sock "$n")" bytes_received || true)
	if [ -z "$s0" ] || [ -z "$r0" ] || [ -z "$s1" ] || [ -z "$r1" ]; then
		not_ok "same node: no network bytes (asoc-stat --json failed on node $n: $("$STAT" --socket "$(sock "$n")" --json 2>&1 | head -1))"
	elif [ $((s1 - s0)) -lt 4194307 ] && [ $((r1 - r0)) -lt 4194307 ]; then
		ok "same node: no network bytes (asoc-stat on node $n: +$((s1 - s0)) sent, +$((r1 - r0)) received)"
	else
		not_ok "same node: no network bytes (asoc-stat on node $n: +$((s1 - s0)) sent, +$((r1 - r0)) received)"
	fi
	release_holders
}

# killed_rank VICTIM LOCAL REMOTE WATCHER: VICTIM receives a stream from
# LOCAL (its node) and REMOTE (another), WATCHER (another node) waits for
# a message from VICTIM; VICTIM is killed (kill -9) mid-transfer.
killed_rank() {
	local v=$1 l=$2 rem=$3 w=$4 vpid lpid rpid wpid
	hold_others "$v" "$l" "$rem" "$w"
	proc "$T/kv" "$v" --barrier 1 --ready "$T/kv.ready" --ready-after 6 \
	    --window 4 recv --from any --size 4194304 --count 400
	vpid=$LAST
	proc "$T/kw" "$w" --barrier 1 --ready "$T/kw.ready" recv --from "$v" --size 1
	wpid=$LAST
	proc "$T/kl" "$l" --barrier 1 --window 4 send --to "$v" --size 4194304 --count 200
	lpid=$LAST
	proc "$T/kr" "$rem" --barrier 1 --window 4 send --to "$v" --size 4194304 --count 200
	rpid=$LAST
	# The watcher past its barrier (which waits for the victim to join)
	# and its receive posted; the victim in the middle of its stream.
	if wait_until 300 test -e "$T/kw.ready" && wait_until 300 test -e "$T/kv.ready"; then
		ok "rank $v receives from rank $l (same node) and rank $rem (remote)"
	else
		not_ok "rank $v receives from rank $l (same node) and rank $rem (remote)" "$T/kv" "$T/kl" "$T/kr"
	fi
	kill -KILL "$(pid_of "$T/kv")" 2>/dev/null || true
	ended_with "$T/kl" "$lpid" "the rank left the job.*(rank $v left (its process exited))" "kill -9 of rank $v: the same-node sender fails 'rank $v left'"
	ended_with "$T/kr" "$rpid" "the rank left the job.*(rank $v left (its process exited))" "kill -9 of rank $v: the remote sender fails 'rank $v left'"
	ended_with "$T/kw" "$wpid" "the rank left the job.*(rank $v left (its process exited))" "kill -9 of rank $v: a receive from it on another node fails 'rank $v left'"
	wait "$vpid" 2>/dev/null || true
	# While the step goes on (the holders keep ranks on every node), new
	# sends to it fail at once, from its node and from another.  (Without
	# holders, the 2x2 case, every node is left without a rank: the step
	# is over there, and a new send would rightly wait for a new rank 1.)
	if [ ${#HOLDERS[@]} -gt 0 ]; then
		proc "$T/kl2" "$l" send --to "$v" --size 100
		ended_with "$T/kl2" "$LAST" "the rank left the job.*(rank $v left (its process exited))" "a new send to rank $v from its node fails at once, 'rank $v left'"
		proc "$T/kr2" "$rem" send --to "$v" --size 100
		ended_with "$T/kr2" "$LAST" "the rank left the job.*(rank $v left (its process exited))" "a new send to rank $v from another node fails at once, 'rank $v left'"
	fi
	# Started again, it rejoins and receives from both (the watcher's
	# rank held meanwhile, so that the world is whole).
	proc "$T/kw2" "$w" --until "$T/release" hold
	HOLDERS+=("$LAST")
	proc "$T/kv2" "$v" --barrier 1 recv --from any --size 4194307 --count 2
	vpid=$LAST
	proc "$T/kl3" "$l" --barrier 1 send --to "$v" --size 4194307
	lpid=$LAST
	proc "$T/kr3" "$rem" --barrier 1 send --to "$v" --size 4194307
	rpid=$LAST
	if wait "$lpid" && wait "$rpid" && wait "$vpid"; then
		ok "rank $v started again rejoins and receives from rank $l and rank $rem"
	else
		not_ok "rank $v started again rejoins and receives" "$T/kv2" "$T/kl3" "$T/kr3"
	fi
	release_holders
}

if [ -n "${ASOC_TEST_RANKS_RDMA:-}" ]; then
	# --- the RDMA lab: 2 daemons x 2 clients ---
	start_cluster "$NODES" --munge no "${TP[@]}"
	all_pairs block
	check "rdma: the daemons are connected over rdma" bash -c \
	    "'$STAT' --socket '$(sock 0)' --json | grep -q '\"rank\":1,[^}]*\"transport\":\"rdma\"'"
	same_node_local 0 1
	killed_rank 1 0 2 3
	for ((i = 0; i < NODES; i++)); do
		check "rdma: node $i deregistered all it registered" bash -c \
		    "[ \"\$('$STAT' --socket '$(sock "$i")' --json | grep -o '\"registrations\":[0-9]*' | cut -d: -f2)\" = \
		    \"\$('$STAT' --socket '$(sock "$i")' --json | grep -o '\"deregistrations\":[0-9]*' | cut -d: -f2)\" ]"
	done
	check "every daemon survived" all_daemons_alive
	finish
	exit
fi

# --- a rank that never joins (2 daemons, --join-timeout 2) ---
start_cluster 2 --munge no --join-timeout 2
PER_NODE=8
proc "$T/nj1" 1 send --to 14 --size 100
ended_with "$T/nj1" "$LAST" "passed its deadline (rank 14 has not joined after 2 s: is a process with SLURM_PROCID 14 running (world of 16)?)" \
    "a send to a rank that never joins fails after --join-timeout: 'rank 14 has not joined after 2 s'"
proc "$T/nj2" 9 --timeout-ms 1000 send --to 3 --size 100000
ended_with "$T/nj2" "$LAST" "passed its deadline (rank 3 has not joined" \
    "a send with a 1 s deadline to a rank that never joins fails 'has not joined'"
PER_NODE=4
stop_cluster

# --- 4 daemons, 16 ranks ---
start_cluster "$NODES" --munge no --max-ranks "$PER_NODE"

# A send to a rank that joins later completes, remote and same node.
proc "$T/late.s" 0 send --to 15 --size 65537
lspid=$LAST
proc "$T/late2.s" 2 send --to 1 --size 4194307
l2pid=$LAST
sleep 1
if kill -0 "$lspid" 2>/dev/null && kill -0 "$l2pid" 2>/dev/null; then
	ok "sends to ranks that have not joined wait (still running after 1 s)"
else
	not_ok "sends to ranks that have not joined wait" "$T/late.s" "$T/late2.s"
fi
proc "$T/late.r" 15 recv --from 0 --size 65537
lrpid=$LAST
proc "$T/late2.r" 1 recv --from 2 --size 4194307
l2rpid=$LAST
if wait "$lspid" && wait "$lrpid"; then
	ok "a send to rank 15 (node 3) before it joined completes once it joins"
else
	not_ok "a send to rank 15 (node 3) before it joined completes once it joins" "$T/late.s" "$T/late.r"
fi
if wait "$l2pid" && wait "$l2rpid"; then
	ok "a send to rank 1 (same node) before it joined completes once it joins"
else
	not_ok "a send to rank 1 (same node) before it joined completes once it joins" "$T/late2.s" "$T/late2.r"
fi
ranks_left_all || true

# Every ordered pair, both layouts.
all_pairs block
all_pairs cyclic
same_node_local 5 6

# Any source: rank 0 receives one message from each of the 15 others.
start_ranks "$T/any" --root 0 --tag 7 --timeout-ms 60000 anysrc
wait_ranks
bad=$RANKS_FAILED
if [ "$bad" -eq 0 ] && grep -q "^ok - rank 0: $((WORLD - 1)) receives from any source, each named its sender" "$T/any.0"; then
	ok "any source: rank 0's $((WORLD - 1)) receives each name their real sender, every rank once"
else
	not_ok "any source: rank 0's receives name their real senders ($bad failed)" "$T/any.0"
fi
ranks_left_all || true

# Order per (source, tag): rank 1 (same node) and rank 4 (node 1) send
# 1000 numbered messages on each of 2 tags, interleaved, to rank 0.
hold_others 0 1 4
proc "$T/ord.r" 0 --barrier 1 --window 256 order-recv --from 1,4 --count 1000 --tags 5,6
orpid=$LAST
proc "$T/ord.s1" 1 --barrier 1 --window 64 order-send --to 0 --count 1000 --tags 5,6
o1=$LAST
proc "$T/ord.s4" 4 --barrier 1 --window 64 order-send --to 0 --count 1000 --tags 5,6
o4=$LAST
if wait "$o1" && wait "$o4" && wait "$orpid" && grep -q "arrived in order, intact" "$T/ord.r"; then
	ok "order: 2 sources x 2 tags x 1000 messages, interleaved, each (source, tag) in order"
else
	not_ok "order: 2 sources x 2 tags x 1000 messages, each (source, tag) in order" "$T/ord.r" "$T/ord.s1" "$T/ord.s4"
fi
release_holders

# A rank that joined and exited (a quick process) while rank 0 was there:
# rank 0's asoc_rank_nodes gives the node rank 1 was on (node 0) at once,
# instead of waiting for it to join until its deadline.
hold_others 0 1
proc "$T/quick.0" 0 --go "$T/quick.go" --timeout-ms 10000 nodes
qpid=$LAST
pid_of "$T/quick.0" >/dev/null || true
proc "$T/quick.1" 1 open
if wait "$LAST" && wait_until 100 bash -c "! '$RANKS' --socket '$(sock 0)' --rank status stat | grep -q '^rank 1 '"; then
	touch "$T/quick.go"
	want=$(for ((r = 0; r < WORLD; r++)); do printf ' %d' $((r / PER_NODE)); done)
	if wait "$qpid" && grep -q "^ok - rank 0: ranks on nodes$want\$" "$T/quick.0"; then
		ok "asoc_rank_nodes answers a rank that already left with the node it was on"
	else
		not_ok "asoc_rank_nodes answers a rank that already left with the node it was on" "$T/quick.0"
	fi
else
	not_ok "rank 1 opens, exits and leaves node 0" "$T/quick.1"
	touch "$T/quick.go"
	wait "$qpid" || true
fi
release_holders

# A rank killed mid-transfer (rank 5, node 1): from rank 4 (node 1) and
# rank 9 (node 2); rank 2 (node 0) waits for a message from it.
killed_rank 5 4 9 2

# A duplicate claim of rank 3: on its node and on another, refused naming
# the holder; the holder (two sessions of one process) carries on.
# Nodes 0 and 2 hold 3 ranks each (under their --max-ranks 4) while the
# claims come; ranks 0 and 11 join after them.
hold_others 0 3 11
proc "$T/dup.h" 3 --sessions 2 --barrier 1 recv --from 0 --size 65537
hpid=$LAST
hp=$(pid_of "$T/dup.h" || true)
if grep -q "^ok - session 2 of pid $hp joined rank 3 too" "$T/dup.h"; then
	ok "a second session of the same process joins its rank 3"
else
	not_ok "a second session of the same process joins its rank 3" "$T/dup.h"
fi
check_fails "a second process claiming rank 3 on its node is refused, naming the holder" \
    "permission denied (rank 3 is held by pid ${hp:-?} on node 0; each process needs its own rank" \
    "$RANKS" --socket "$(sock 0)" --rank 3 --world "$WORLD" open
check_fails "a second process claiming rank 3 on another node is refused, naming the holder" \
    "permission denied (rank 3 is held by pid ${hp:-?} on node 0; each process needs its own rank" \
    "$RANKS" --socket "$(sock 2)" --rank 3 --world "$WORLD" open
proc "$T/hold.11" 11 --until "$T/release" hold
HOLDERS+=("$LAST")
proc "$T/dup.s" 0 --barrier 1 send --to 3 --size 65537
if wait "$LAST" && wait "$hpid"; then
	ok "the holder of rank 3 carries on: it receives from rank 0"
else
	not_ok "the holder of rank 3 carries on: it receives from rank 0" "$T/dup.h" "$T/dup.s"
fi
release_holders

# Refusals.  Ranks 0-3 hold node 0 (its --max-ranks), rank 5 node 1; node
# 3 serves a node-mode client.  Ranks 5 and 1 exchange a message once the
# refusals are done.
h=()
for r in 0 2 3; do
	proc "$T/ref.h$r" "$r" --until "$T/ref.release" hold
	h+=("$LAST")
done
proc "$T/ref.h5" 5 --go "$T/ref.go" send --to 1 --size 65537
rs=$LAST
proc "$T/ref.h1" 1 --go "$T/ref.go" recv --from 5 --size 65537
rr=$LAST
run_bg "$T/ref.node" "$RANKS" --socket "$(sock 3)" --rank node --until "$T/ref.release" hold
h+=("$LAST")
for r in 0 1 2 3 5; do wait_until 100 grep -q "pid" "$T/ref.h$r" || true; done
wait_until 100 grep -q "pid" "$T/ref.node" || true
check_fails "rank 16 of a world of 16 is refused" \
    "an argument is invalid (rank 16 is not in a world of 16 process ranks (0-15)" \
    "$RANKS" --socket "$(sock 1)" --rank 16 --world 16 open
check_fails "ASOC_PROC_RANK=16 of 16 is refused" \
    "rank 16 is not in a world of 16 process ranks (0-15)" \
    env ASOC_PROC_RANK=16 ASOC_PROC_WORLD=16 "$RANKS" --socket "$(sock 1)" open
check_fails "a world of 8 against the 16 node 1 serves is refused, naming both" \
    "an argument is invalid (.*world of 16.*not 8" \
    "$RANKS" --socket "$(sock 1)" --rank 6 --world 8 open
check_fails "a world of 8 on node 2 (no rank there, 16 announced) is refused, naming both" \
    "an argument is invalid (.*world of 16.*not 8" \
    "$RANKS" --socket "$(sock 2)" --rank 2 --world 8 open
check_fails "a node-mode client of node 0 (process ranks) is refused" \
    "serves process ranks of .*16 (rank [0-9]* is pid [0-9]*)" \
    "$RANKS" --socket "$(sock 0)" --rank node open
check_fails "asoc-send in node mode to node 0 (process ranks) is refused" \
    "serves process ranks" \
    env -u ASOC_PROC_RANK -u ASOC_PROC_WORLD "$SEND" --socket "$(sock 0)" --to 1 --tag 1 /dev/null
check_fails "a process rank on node 3 (a node-mode client there) is refused" \
    "serves node ranks" \
    "$RANKS" --socket "$(sock 3)" --rank 12 --world "$WORLD" open
check_fails "a fifth process rank on node 0 (--max-ranks 4) is refused" \
    "over one of asocd's limits (asocd holds 4 process ranks (--max-ranks)" \
    "$RANKS" --socket "$(sock 0)" --rank 8 --world "$WORLD" open
touch "$T/ref.go"
if wait "$rs" && wait "$rr"; then
	ok "after the refusals, the ranks held carry on (rank 5 -> 1)"
else
	not_ok "after the refusals, the ranks held carry on (rank 5 -> 1)" "$T/ref.h5" "$T/ref.h1"
fi
touch "$T/ref.release"
for p in "${h[@]}"; do wait "$p" || true; done

# Node mode, unchanged once every process rank has left.
if ranks_left_all; then
	ok "every process rank has left every daemon"
else
	not_ok "every process rank has left every daemon"
fi
check "node mode afterwards: node 0 -> 1, 4 MiB+3, receive first" xfer 4194307 recv-first 0 1
check "node mode afterwards: node 3 -> 2, 64K+1, send first" xfer 65537 send-first 3 2
check "node mode afterwards: same node, 1 MiB" "$XFER" --socket "$(sock 2)" self --size 1048576 --order send-first
check_fails "node mode afterwards: rank 4 does not exist in a world of 4 nodes" "rank 4" \
    "$XFER" --socket "$(sock 0)" send --to 4 --size 10
if "$RANKS" --socket "$(sock 2)" open >"$T/node.open" 2>&1 &&
    grep -q "^rank 2 of 4, node 2 of 4" "$T/node.open"; then
	ok "node mode afterwards: asoc_open without a rank is node 2 of 4"
else
	not_ok "node mode afterwards: asoc_open without a rank is node 2 of 4" "$T/node.open"
fi
check "every daemon survived" all_daemons_alive

# --- a duplicate race (test hooks): two nodes let rank 3 join before
# either hears of the other (their HELLOs held back RACE_MS: both clients
# must start within it, which a loaded 2-core machine could miss at 3 s;
# the connection timeout outlasts it, the last one given winning); once
# the pair is up, the lower node keeps it and the higher one's holder is
# withdrawn ---
RACE_MS=10000
if have_test_hooks "the duplicate race between two nodes"; then
	stop_cluster
	ENV_0=ASOC_TEST_HELLO_DELAY_MS=$RACE_MS \
	    ENV_1=ASOC_TEST_HELLO_DELAY_MS=$RACE_MS \
	    start_cluster 2 --munge no \
	    --connection-timeout $((RACE_MS / 1000 + 15))
	WORLD=4 PER_NODE=2
	run_bg "$T/race.a" "$RANKS" --socket "$(sock 0)" --rank 3 --world 4 \
	    recv --from any --size 1000 --count 2
	ra=$LAST
	run_bg "$T/race.b" "$RANKS" --socket "$(sock 1)" --rank 3 --world 4 \
	    recv --from any --size 1000 --count 2
	rb=$LAST
	ap=$(pid_of "$T/race.a" || true)
	bp=$(pid_of "$T/race.b" || true)
	if [ -n "$ap" ] && [ -n "$bp" ]; then
		ok "before the two nodes hear of each other, each lets a process join as rank 3"
	else
		not_ok "before the two nodes hear of each other, each lets a process join as rank 3" "$T/race.a" "$T/race.b"
	fi
	# The HELLOs are held back RACE_MS: ended_with's 10 s start then.
	exited_within $((RACE_MS / 100 + 50)) "$rb" || true
	ended_with "$T/race.b" "$rb" "permission denied (rank 3 is also held by pid ${ap:-?} on node 0: this process's rank is withdrawn)" \
	    "once they do, node 1's rank 3 is withdrawn, naming node 0's holder"
	proc "$T/race.s0" 0 send --to 3 --size 1000
	s0=$LAST
	proc "$T/race.s1" 2 send --to 3 --size 1000
	if wait "$s0" && wait "$LAST" && wait "$ra"; then
		ok "node 0's rank 3 keeps it: it receives from rank 0 (node 0) and rank 2 (node 1)"
	else
		not_ok "node 0's rank 3 keeps it: it receives from rank 0 (node 0) and rank 2 (node 1)" \
		    "$T/race.a" "$T/race.s0" "$T/race.s1"
	fi
	check "every daemon survived the race" all_daemons_alive
fi
finish
