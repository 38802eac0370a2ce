# shellcheck shell=bash
# shellcheck disable=SC2154 # me and src: set by the sourcing script
# bench-lib.sh: what bench/tcp-vs-raw, bench/latency and bench/vs-mpi
# share, sourced by them (not run): the clean-up of every process they
# start (by PID) and of their temporary folder, the two asocd on loopback
# that bench/tcp-vs-iperf3 sets up, the statistics, and building the small
# C programs that stand next to them.
#
# The sourcing script sets `me` (its name, for messages) before sourcing,
# and src (the source tree).

dir=
pids=()		# every process started and not yet reaped

say() { printf '%s: %s\n' "$me" "$*" >&2; }

# Stops the given pids: TERM, up to 5 s to go, then KILL, and reaps them.
stop_pids() {
	local p t alive=0
	[ $# -gt 0 ] || return 0
	kill -TERM "$@" 2>/dev/null || true
	for ((t = 0; t < 50; t++)); do
		alive=0
		for p in "$@"; do
			! kill -0 "$p" 2>/dev/null || alive=1
		done
		[ "$alive" -eq 1 ] || break
		sleep 0.1
	done
	[ "$alive" -eq 0 ] || kill -KILL "$@" 2>/dev/null || true
	for p in "$@"; do
		wait "$p" 2>/dev/null || true
	done
}

# forget PID...: they were reaped (their pids may be reused).
forget() {
	local p q keep
	local -a rest=()
	for p in ${pids[@]+"${pids[@]}"}; do
		keep=1
		for q in "$@"; do
			[ "$p" != "$q" ] || keep=0
		done
		[ "$keep" -eq 0 ] || rest+=("$p")
	done
	pids=(${rest[@]+"${rest[@]}"})
}

# The TCP congestion control of asocd and the references (REF_CC,
# ref_cc_opts, REF_NS, ref_run): bench-cc.sh.  ref_ns_up, after
# bench_build, picks it and gives the references a namespace of their own
# when they need one; "${ref_run[@]}" CMD runs CMD there.
# shellcheck source=bench/bench-cc.sh
. "$src/bench/bench-cc.sh"
ref_ns_up() { bench_cc_pick "$build/daemon/asocd" ns; }

bench_cleanup() {
	local rc=$?
	trap - EXIT INT TERM
	stop_pids ${pids[@]+"${pids[@]}"}
	if [ -n "$REF_NS" ]; then
		ip netns del "$REF_NS" 2>/dev/null || true
	fi
	# The sourcing script's own clean-up (namespaces...), if any.
	if declare -F bench_cleanup_more >/dev/null; then
		bench_cleanup_more
	fi
	if [ -n "$dir" ]; then
		rm -rf -- "$dir"
	fi
	exit "$rc"
}
trap bench_cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# The value of "key":NUMBER in a JSON text, first occurrence; "" when
# absent.
json_num() {
	awk -v key="\"$1\"" '{
		i = index($0, key ":")
		if (!i)
			next
		s = substr($0, i + length(key) + 1)
		sub(/^[ \t]*/, "", s)
		if (match(s, /^[-+0-9.eE]+/)) {
			print substr(s, 1, RLENGTH)
			exit
		}
	}'
}

# stats VALUE...: "median min max" (median of an even count: the mean of
# the middle two).
stats() {
	printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END {
		if (NR == 0) exit 1
		m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
		printf "%g %g %g\n", m, v[1], v[NR] }'
}

# ratio A B: A/B with 3 decimals; "-" when either is missing or B is 0.
ratio() {
	awk -v a="${1:-}" -v b="${2:-}" 'BEGIN {
		if (a == "" || b == "" || a == "-" || b == "-" || b + 0 == 0)
			print "-"
		else
			printf "%.3f\n", a / b }'
}

# runs_arg VALUE: checks a --runs value.
runs_arg() {
	if ! [[ ${1:-} =~ ^[0-9]+$ ]] || [ "$1" -lt 1 ] || [ "$1" -gt 1000 ]; then
		say "--runs takes a number from 1 to 1000, not '${1:-}'"
		exit 2
	fi
}

# need CMD PACKAGE: exits with what to install when CMD is missing.
need() {
	command -v "$1" >/dev/null 2>&1 && return 0
	say "$1 is missing: apt-get install $2 (tests/install-deps installs it)"
	exit 1
}

# The build (ASOC_BUILD picks it) with the daemon and the tools a bench
# uses; sets build.
bench_build() {
	"$src/tests/install-deps"
	build=$(ASOC_MAKE_TARGETS=${ASOC_MAKE_TARGETS:-daemon/asocd client/asoc-bench client/asoc-stat libasoc.la} \
	    "$src/tests/build")
	say "build in $build"
}

# A free-looking loopback port base: ASOC_BENCH_PORT, else random, so two
# runs at once do not collide.
port_base() {
	echo "${ASOC_BENCH_PORT:-$((24000 + RANDOM % 8000))}"
}

show_log() {
	say "asocd rank $1 log:"
	sed 's/^/    /' "$dir/asocd$1.log" >&2 || true
}

# wait_ready RANK PID: until the daemon answers asoc-stat (10 s).
wait_ready() {
	local i=$1 pid=$2 tries=0
	until [ -S "$dir/s$i.sock" ] &&
	    "$build/client/asoc-stat" --socket "$dir/s$i.sock" >/dev/null 2>&1; do
		if ! kill -0 "$pid" 2>/dev/null; then
			say "asocd rank $i exited during start-up"
			show_log "$i"
			return 1
		fi
		if [ $((tries += 1)) -gt 100 ]; then
			say "asocd rank $i not ready after 10 s"
			show_log "$i"
			return 1
		fi
		sleep 0.1
	done
}

# start_pair FIRST_PORT: two asocd (TCP) on 127.0.0.1:FIRST_PORT and +1,
# sockets $dir/s0.sock and $dir/s1.sock, as bench/tcp-vs-iperf3 starts
# them; their pids in daemons[0] and daemons[1].  ASOC_BENCH_ASOCD_ARGS:
# more asocd options for both, split on blanks (--busy-poll 50, say).
daemons=()
start_pair() {
	local first=$1 peers i extra
	read -r -a extra <<<"${ASOC_BENCH_ASOCD_ARGS:-}"
	peers=127.0.0.1:$first,127.0.0.1:$((first + 1))
	daemons=()
	for i in 0 1; do
		# Both append: errors from before the log is open land in it.
		# shellcheck disable=SC2094
		"$build/daemon/asocd" -f --peers "$peers" --port $((first + i)) \
		    --listen 127.0.0.1 --transport tcp --socket "$dir/s$i.sock" \
		    --log-file "$dir/asocd$i.log" "${ref_cc_opts[@]}" \
		    ${extra[@]+"${extra[@]}"} \
		    2>>"$dir/asocd$i.log" &
		pids+=($!)
		daemons+=($!)
		wait_ready "$i" "$!"
	done
}

stop_pair() {
	stop_pids ${daemons[@]+"${daemons[@]}"}
	forget ${daemons[@]+"${daemons[@]}"}
	daemons=()
	rm -f "$dir"/s?.sock
}

# pair_wait WHAT RECEIVER SENDER FILES...: waits for both (already in
# pids) and forgets them.  When either failed: FILES (their output, named
# one by one: a glob would be expanded before the two have made them),
# both daemons' logs and "WHAT failed" on stderr, and status 1.
pair_wait() {
	local what=$1 r=$2 s=$3 ok=1
	shift 3
	wait "$s" || ok=0
	wait "$r" || ok=0
	forget "$r" "$s"
	[ "$ok" -ne 1 ] || return 0
	cat "$@" >&2
	show_log 0
	show_log 1
	say "$what failed"
	return 1
}

# asoc_pair SIZE_MB ITERATIONS WARMUP: asoc-bench --pattern pair from
# rank 0 to rank 1 of start_pair's daemons; its JSON line in $dir/pair.json.
asoc_pair() {
	local p0 p1
	# In the background, so that a signal is acted on at once.
	timeout 600 "$build/client/asoc-bench" --socket "$dir/s1.sock" \
	    --size-mb "$1" --iterations "$2" --warmup "$3" --json \
	    >"$dir/bench1.out" 2>"$dir/bench1.err" &
	p1=$!
	timeout 600 "$build/client/asoc-bench" --socket "$dir/s0.sock" \
	    --size-mb "$1" --iterations "$2" --warmup "$3" --json \
	    >"$dir/pair.json" 2>"$dir/bench0.err" &
	p0=$!
	pids+=("$p1" "$p0")
	pair_wait "asoc-bench --pattern pair --size-mb $1" "$p1" "$p0" \
	    "$dir/pair.json" "$dir/bench1.out" "$dir/bench0.err" "$dir/bench1.err"
}

# pingpong_pair ARGS...: bench/asoc-pingpong.c (built by the bench into
# $dir) from rank 0 to rank 1 of start_pair's daemons, both given ARGS
# after their role (SIZES N WARMUP [WINDOW [one-buffer]]); the sender's
# lines in $dir/pp-send.out.  (Not in a $(...): its processes must stay
# in pids, for the clean-up.)
pingpong_pair() {
	local r s
	"$dir/asoc-pingpong" "$dir/s1.sock" recv "$@" \
	    >"$dir/pp-recv.out" 2>"$dir/pp-recv.err" &
	r=$!
	"$dir/asoc-pingpong" "$dir/s0.sock" send "$@" \
	    >"$dir/pp-send.out" 2>"$dir/pp-send.err" &
	s=$!
	pids+=("$r" "$s")
	pair_wait "asoc-pingpong $*" "$r" "$s" "$dir/pp-send.out" \
	    "$dir/pp-recv.out" "$dir/pp-send.err" "$dir/pp-recv.err"
}

# cc_bench NAME [cc options...]: compiles bench/NAME.c into $dir/NAME.
cc_bench() {
	local name=$1
	shift
	"${CC:-cc}" -O2 -Wall -Wextra -Werror -o "$dir/$name" \
	    "$src/bench/$name.c" "$@" || {
		say "could not build bench/$name.c"
		exit 1
	}
}
