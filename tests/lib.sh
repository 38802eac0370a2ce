# lib.sh: shared by the integration tests.  Starts real asocd on loopback
# (own ports, own sockets, in a temporary folder), runs checks, reports
# "N passed, N failed", and stops everything it started, by PID.
# Every script takes its clusters, waits and clients from here rather than
# writing its own: start_cluster / start_rank, stop_cluster /
# restart_cluster / stop_rank / kill_rank / restart_rank / stop_pid;
# wait_ready / wait_daemon / wait_socket / wait_until / wait_stat /
# wait_landed; xfer, pair and run_bg for clients; tcp_conns to count the
# daemons' connections; proc, start_ranks and
# wait_ranks for process ranks (tests/asoc-ranks-check); check / check_fails /
# ok / not_ok / finish for results; have_test_hooks for the cases that
# need configure --enable-test-hooks.  (The SLURM lab's own helpers are in
# tests/slurm-lab/lib.sh.)
set -euo pipefail

B=${top_builddir:-$(cd "$(dirname "$0")/.." && pwd)}
ASOCD=$B/daemon/asocd
XFER=$B/tests/asoc-xfer-check
HOSTILE=$B/tests/asoc-hostile
SEND=$B/client/asoc-send
RECV=$B/client/asoc-recv
STAT=$B/client/asoc-stat
T=$(mktemp -d /tmp/asoc-test.XXXXXX)
DAEMONS=()
BGPIDS=()
npass=0
nfail=0
# ASOCD_WRAP: a command the daemons run under (test-valgrind.sh's valgrind).
ASOCD_WRAP=()
# In a --enable-sanitizers build every process of the test, daemons
# included, writes its ASan/UBSan/LSan report into $T instead of a stderr
# that nobody reads; finish() fails the test on any report.
export ASAN_OPTIONS="log_path=$T/sanitizer:${ASAN_OPTIONS:-}"
export UBSAN_OPTIONS="log_path=$T/sanitizer:print_stacktrace=1:${UBSAN_OPTIONS:-}"

stop_all() {
	local p
	for p in "${BGPIDS[@]}"; do kill -KILL "$p" 2>/dev/null || true; done
	stop_pid ${DAEMONS[@]+"${DAEMONS[@]}"}
	for p in "${BGPIDS[@]}"; do wait "$p" 2>/dev/null || true; done
}

cleanup() {
	stop_all
	rm -rf "$T"
}
trap cleanup EXIT

ok() { npass=$((npass + 1)); echo "ok - $1"; }
not_ok() {
	nfail=$((nfail + 1))
	echo "FAIL - $1"
	shift
	[ $# -eq 0 ] || sed 's/^/    /' "$@" || true
}

# check DESCRIPTION COMMAND...: the command must exit 0.
check() {
	local desc=$1
	shift
	if "$@" >"$T/out" 2>&1; then ok "$desc"; else not_ok "$desc" "$T/out"; fi
}

# check_fails DESCRIPTION NEEDLE COMMAND...: must exit non-zero and say NEEDLE.
check_fails() {
	local desc=$1 needle=$2
	shift 2
	if "$@" >"$T/out" 2>&1; then
		not_ok "$desc (it succeeded)" "$T/out"
	elif grep -q -- "$needle" "$T/out"; then
		ok "$desc"
	else
		not_ok "$desc (no '$needle' in its output)" "$T/out"
	fi
}

# Stops the daemons (so that LeakSanitizer reports at their exit), then
# counts a sanitizer report left by any process as a failure.
finish() {
	local r
	stop_all
	for r in "$T"/sanitizer.*; do
		[ -e "$r" ] || continue
		not_ok "a sanitizer report from pid ${r##*.}" "$r"
	done
	echo "$npass passed, $nfail failed"
	[ "$nfail" -eq 0 ]
}

sock() { echo "$T/s$1.sock"; }

# --- the test hooks ---
# ASOC_TEST_FAULT, ASOC_TEST_FOREIGN and ASOC_TEST_STOP_AT work only in a
# build configured with --enable-test-hooks.  make check says which
# (ASOC_TEST_HOOKS=yes|no); a script run by hand asks the build's config.h.
if [ -z "${ASOC_TEST_HOOKS:-}" ]; then
	if grep -q '^#define ASOC_TEST_HOOKS 1' "$B/config.h" 2>/dev/null; then
		ASOC_TEST_HOOKS=yes
	else
		ASOC_TEST_HOOKS=no
	fi
fi

# have_test_hooks WHAT: true in a build with the test hooks; otherwise
# says that WHAT, the cases that need them, is skipped.  (Every script that
# uses the hooks has cases without them too, so none is skipped whole.)
have_test_hooks() {
	[ "$ASOC_TEST_HOOKS" = yes ] && return 0
	echo "skipped: $1 (needs the test hooks: configure --enable-test-hooks)"
	return 1
}

# --- waiting ---
# wait_until TENTHS COMMAND...: run COMMAND every 0.1 s until it succeeds,
# at most TENTHS times.
wait_until() {
	local n=$1 t
	shift
	for ((t = 0; t < n; t++)); do
		"$@" && return 0
		sleep 0.1
	done
	return 1
}

# wait_socket PATH...: until each path is a socket (10 s each).
wait_socket() {
	local s
	for s; do wait_until 100 test -S "$s" || return 1; done
}

# answers SOCKET: the daemon behind SOCKET answers asoc-stat.
answers() { [ -S "$1" ] && "$STAT" --socket "$1" >/dev/null 2>&1; }

# wait_daemon SOCKET [PID]: until the daemon answers on SOCKET (READY_TRIES
# tenths of a second); fails at once if PID, the daemon, has exited.
wait_daemon() {
	local t
	for ((t = 0; t < READY_TRIES; t++)); do
		[ -z "${2:-}" ] || kill -0 "$2" 2>/dev/null || return 1
		answers "$1" && return 0
		sleep 0.1
	done
	return 1
}

# wait_landed SOCKET BYTES [TRIES]: until that daemon has received more than
# BYTES more than when called (polled every 20 ms, 500 times by default).
wait_landed() {
	local v0 v t
	v0=$(stat_field "$1" bytes_received)
	for ((t = 0; t < ${3:-500}; t++)); do
		v=$(stat_field "$1" bytes_received)
		[ $((v - v0)) -gt "$2" ] && return 0
		sleep 0.02
	done
	return 1
}

# The port base is drawn per run, so parallel test scripts (make -j) and
# leftovers of other runs do not collide; a clash makes asocd exit with
# "address already in use" and the cluster is started again elsewhere.
# HOST: the address every daemon uses (the RDMA lab sets its fabric
# address).  ENV_<rank>: extra environment for one rank, e.g. a test fault.
# START_ONLY=K: start ranks 0 to K-1 only (the others are played by a test
# tool on their ports).
HOST=${ASOC_TEST_HOST:-127.0.0.1}

# need_rdma_host: for the RDMA tests, HOST becomes an address on an RDMA
# device (ASOC_TEST_HOST, else the RDMA lab's) and RD the daemons' RDMA
# options; without such an address, says how to run the test and fails.
need_rdma_host() {
	HOST=${ASOC_TEST_HOST:-${ASOC_LAB_ADDR:-}}
	if [ -z "$HOST" ]; then
		echo "$(basename "$0"): no RDMA address: run it through 'make" \
		    "check-rdma', or set ASOC_TEST_HOST to an address on an RDMA device" >&2
		exit 1
	fi
	RD=(--transport rdma --chunk-size 1M)
}

start_rank() {
	local i=$1
	shift
	local -a envs=()
	local var="ENV_$i"
	[ -z "${!var:-}" ] || read -r -a envs <<<"${!var}"
	env ${envs[@]+"${envs[@]}"} ${ASOCD_WRAP[@]+"${ASOCD_WRAP[@]}"} "$ASOCD" -f --peers "$PEERS" --port $((BASE + i)) \
	    --socket "$(sock "$i")" --log-file "$T/d$i.log" \
	    --connection-timeout 5 "$@" &
	DAEMONS[$i]=$!
}

start_cluster() {
	local n=$1 tries i peers
	shift
	for tries in 1 2 3 4 5; do
		BASE=$((20000 + (RANDOM % 400) * 100 + tries))
		peers=""
		for ((i = 0; i < n; i++)); do
			peers+="${peers:+,}$HOST:$((BASE + i))"
		done
		PEERS=$peers
		DAEMONS=()
		for ((i = 0; i < ${START_ONLY:-n}; i++)); do
			start_rank "$i" "$@"
		done
		if wait_ready "${START_ONLY:-$n}"; then return 0; fi
		stop_pid "${DAEMONS[@]}"
	done
	echo "could not start $n daemons" >&2
	cat "$T"/d*.log >&2 || true
	return 1
}

# Tenths of a second a daemon gets to come up (more under valgrind).
READY_TRIES=${READY_TRIES:-100}

wait_ready() {
	local n=$1 i
	for ((i = 0; i < n; i++)); do
		wait_daemon "$(sock "$i")" "${DAEMONS[$i]}" || return 1
	done
}

# --- stopping, always by PID ---
# stop_pid PID...: SIGTERM, then reap each (a daemon's orderly stop); a
# process a test left SIGSTOPped is continued, so that it can stop.
stop_pid() {
	local p
	# SIGCONT first (a daemon a test left stopped must run to exit), then
	# SIGTERM: a SIGCONT that came after would discard the SIGSTOP that
	# LeakSanitizer's tracer sends at exit, and the sanitizer build would
	# spin forever waiting for its own process to stop.
	for p; do
		kill -CONT "$p" 2>/dev/null || true
		kill -TERM "$p" 2>/dev/null || true
	done
	for p; do wait "$p" 2>/dev/null || true; done
}

# kill_rank RANK: SIGKILL that rank's daemon and reap it (a crash).
kill_rank() {
	kill -KILL "${DAEMONS[$1]}" 2>/dev/null || true
	wait "${DAEMONS[$1]}" 2>/dev/null || true
}

# stop_rank RANK: stop that rank's daemon (SIGTERM) and reap it.
stop_rank() { stop_pid "${DAEMONS[$1]}"; }

# restart_rank RANK [asocd options...]: a stopped or killed rank started
# again on its port and socket, and waited for.
restart_rank() {
	local i=$1
	rm -f "$(sock "$i")"
	start_rank "$@"
	wait_daemon "$(sock "$i")" "${DAEMONS[$i]}"
}

# stop_cluster: every daemon stopped by its PID and forgotten, and their
# logs removed (each cluster's log lines are its own).
stop_cluster() {
	stop_pid ${DAEMONS[@]+"${DAEMONS[@]}"}
	DAEMONS=()
	rm -f "$T"/d*.log
}

# restart_cluster N [asocd options...]: stop_cluster, then start_cluster.
restart_cluster() {
	stop_cluster
	start_cluster "$@"
}

# stat_field SOCKET KEY: a top-level number from asoc-stat --json.
stat_field() {
	"$STAT" --socket "$1" --json | grep -o "^{[^[]*" | grep -o "\"$2\":[0-9]*" | cut -d: -f2
}

# wait_stat SOCKET KEY VALUE: poll until the counter has that value (10 s).
wait_stat() {
	local t v
	for ((t = 0; t < 200; t++)); do
		v=$(stat_field "$1" "$2" || true)
		[ "$v" = "$3" ] && return 0
		sleep 0.05
	done
	echo "timed out waiting for $2=$3 on $1 (last: $v)" >&2
	return 1
}

# stat_all_zero SOCKET: poll (10 s) until the daemon holds nothing for any
# client: no buffer, no buffer byte, no transfer, no posted receive, no
# unexpected send.
stat_all_zero() {
	local t j k v
	for ((t = 0; t < 200; t++)); do
		j=$("$STAT" --socket "$1" --json | grep -o "^{[^[]*") || true
		v=0
		for k in buffers buffer_bytes xfers_active posted_recvs unexpected; do
			grep -q "\"$k\":0[,}]" <<<"$j" || v=1
		done
		[ "$v" -eq 0 ] && return 0
		sleep 0.05
	done
	echo "timed out waiting for all counters to be 0 on $1: $j" >&2
	return 1
}

# xfer SIZE ORDER SRC DST [receiver options...]: one checked transfer from
# rank SRC to rank DST, the receive posted first (recv-first) or the send
# arrived first (send-first), each order made sure through asoc-stat.
xfer() {
	local size=$1 order=$2 src=$3 dst=$4 rpid
	shift 4
	if [ "$order" = recv-first ]; then
		"$XFER" --socket "$(sock "$dst")" recv --from "$src" --size "$size" "$@" >"$T/recv.out" 2>&1 &
		rpid=$!
		wait_stat "$(sock "$dst")" posted_recvs 1
		"$XFER" --socket "$(sock "$src")" send --to "$dst" --size "$size"
	else
		"$XFER" --socket "$(sock "$src")" send --to "$dst" --size "$size" >"$T/send.out" 2>&1 &
		rpid=$!
		wait_stat "$(sock "$dst")" unexpected 1
		"$XFER" --socket "$(sock "$dst")" recv --from "$src" --size "$size" "$@"
	fi
	wait "$rpid" || { cat "$T/recv.out" "$T/send.out" 2>/dev/null; return 1; }
}

# run_bg OUT COMMAND...: COMMAND in the background, its stdout and stderr in
# OUT, its PID in LAST and in BGPIDS (so cleanup kills it if still there).
run_bg() {
	local out=$1
	shift
	"$@" >"$out" 2>&1 &
	LAST=$!
	BGPIDS+=("$LAST")
}

# pair SRC DST TAG SIZE [asoc-xfer-check options...]: one checked
# transfer from rank SRC to rank DST on TAG, the receive started first;
# the options go to both ends (--count 3, say).  Both ends run under
# XFER_WRAP (e.g. "timeout 120"), and a failed send stops its receiver.
# SOCK_OFFSET: added to a rank to name its socket (tests whose nodes count
# from 1).
XFER_WRAP=()
SOCK_OFFSET=0
pair() {
	local src=$1 dst=$2 tag=$3 size=$4 r
	shift 4
	${XFER_WRAP[@]+"${XFER_WRAP[@]}"} "$XFER" --socket "$(sock $((dst + SOCK_OFFSET)))" \
	    recv --from "$src" --tag "$tag" --size "$size" "$@" &
	r=$!
	if ! ${XFER_WRAP[@]+"${XFER_WRAP[@]}"} "$XFER" --socket "$(sock $((src + SOCK_OFFSET)))" \
	    send --to "$dst" --tag "$tag" --size "$size" "$@"; then
		kill -TERM "$r" 2>/dev/null || true
		wait "$r" 2>/dev/null || true
		return 1
	fi
	wait "$r"
}

# tcp_conns N: how many TCP connections the cluster's N daemons (ports
# BASE to BASE+N-1) hold among themselves, each counted once at its
# accepting end: a socket whose local port is a daemon's and whose peer
# port is not (the connecting end has an ephemeral port).
tcp_conns() {
	ss -Htn state established | awk -v lo="$BASE" -v hi=$((BASE + $1 - 1)) '
		{
			lp = pp = -1
			for (f = 1; f <= NF; f++) {
				if ($f !~ /:[0-9]+$/)
					continue
				p = $f
				sub(/.*:/, "", p)
				if (lp < 0)
					lp = p + 0
				else if (pp < 0)
					pp = p + 0
			}
			if (lp >= lo && lp <= hi && !(pp >= lo && pp <= hi))
				c++
		}
		END { print c + 0 }'
}

all_daemons_alive() {
	local p
	for p in "${DAEMONS[@]}"; do kill -0 "$p" 2>/dev/null || return 1; done
}

# --- process ranks (issue 12): several clients per daemon, each its own
# rank p of WORLD.  NODES daemons, PER_NODE ranks on each; LAYOUT block
# puts rank p on node p / PER_NODE, cyclic on node p % NODES.
RANKS=$B/tests/asoc-ranks-check
LAYOUT=block
rank_node() {
	if [ "$LAYOUT" = cyclic ]; then echo $(($1 % NODES)); else echo $(($1 / PER_NODE)); fi
}

# proc OUT RANK [asoc-ranks-check arguments...]: that rank in the
# background on its node's socket, opened with --rank and --world
# (asoc_open_ex); PID in LAST and BGPIDS.
proc() {
	local out=$1 r=$2
	shift 2
	run_bg "$out" "$RANKS" --socket "$(sock "$(rank_node "$r")")" \
	    --rank "$r" --world "$WORLD" "$@"
}

# start_ranks PREFIX [asoc-ranks-check arguments...]: every rank of the
# world, each on its node's socket through ASOC_PROC_RANK and
# ASOC_PROC_WORLD (asoc_open's ASOC_RANK_AUTO), output in PREFIX.RANK,
# PIDs in RANKPIDS.  wait_ranks then waits for them all and sets
# RANKS_FAILED to how many failed (not echoed: wait works only in the
# shell that started them, never in a $(...) subshell).
start_ranks() {
	local pre=$1 r
	shift
	RANKPIDS=()
	for ((r = 0; r < WORLD; r++)); do
		run_bg "$pre.$r" env ASOC_PROC_RANK="$r" ASOC_PROC_WORLD="$WORLD" \
		    "$RANKS" --socket "$(sock "$(rank_node "$r")")" "$@"
		RANKPIDS+=("$LAST")
	done
}
wait_ranks() {
	local p
	RANKS_FAILED=0
	for p in "${RANKPIDS[@]}"; do wait "$p" || RANKS_FAILED=$((RANKS_FAILED + 1)); done
}
