# lib.sh: shared by the integration tests.  Starts real asocd on loopback
# (own ports, own sockets, in a temporary folder), runs checks, reports
# "N passed, N failed", and stops everything it started, by PID.
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
	for p in "${DAEMONS[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
	for p in "${DAEMONS[@]}" "${BGPIDS[@]}"; do wait "$p" 2>/dev/null || true; done
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

# The port base is drawn per run, so parallel test scripts (make -j) and
# leftovers of other runs do not collide; a clash makes asocd exit with
# "address already in use" and the cluster is started again elsewhere.
# HOST: the address every daemon uses (the RDMA lab sets its fabric
# address).  ENV_<rank>: extra environment for one rank, e.g. a test fault.
HOST=${ASOC_TEST_HOST:-127.0.0.1}

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
		for ((i = 0; i < n; i++)); do
			start_rank "$i" "$@"
		done
		if wait_ready "$n"; then return 0; fi
		for i in "${DAEMONS[@]}"; do kill -TERM "$i" 2>/dev/null || true; wait "$i" 2>/dev/null || true; done
	done
	echo "could not start $n daemons" >&2
	cat "$T"/d*.log >&2 || true
	return 1
}

# Tenths of a second a daemon gets to come up (more under valgrind).
READY_TRIES=${READY_TRIES:-100}

wait_ready() {
	local n=$1 i t
	for ((i = 0; i < n; i++)); do
		for ((t = 0; t < READY_TRIES; t++)); do
			kill -0 "${DAEMONS[$i]}" 2>/dev/null || return 1
			if [ -S "$(sock "$i")" ] && "$STAT" --socket "$(sock "$i")" >/dev/null 2>&1; then
				break
			fi
			sleep 0.1
		done
		[ "$t" -lt "$READY_TRIES" ] || return 1
	done
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

all_daemons_alive() {
	local p
	for p in "${DAEMONS[@]}"; do kill -0 "$p" 2>/dev/null || return 1; done
}
