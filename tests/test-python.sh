#!/usr/bin/env bash
# test-python.sh: the Python package's pytest suite (python/tests) against
# the in-tree build, on real daemons on loopback: first 2 ranks, then 4.
# The test process is rank 0; the suite starts the other ranks' processes.
# Skipped (exit 77) only when configure left the package out.
#
# In a --enable-sanitizers build the extension and libasoc are
# instrumented and python3 is not: the ASan runtime must be the first
# library of the process, so the python processes (and the ranks they
# start, which inherit it) run with the compiler's libasan.so preloaded
# (configure's ASAN_RUNTIME).  Leak detection is off for them only:
# CPython keeps its own allocations to exit, which are not ours.  ASan and
# UBSan reports still land in $T and fail the test (lib.sh).
. "$(dirname "$0")/lib.sh"

if [ -z "${ASOC_PYTHON:-}" ]; then
	if [ "${ASOC_SANITIZERS:-}" = yes ]; then
		echo "SKIP: sanitizer build without the Python package: the" \
		    "compiler names no libasan.so to preload into python3" \
		    "(see configure's ASAN_RUNTIME)"
	else
		echo "SKIP: configure disabled the Python package (no" \
		    "python3-dev or python3-numpy; see ./configure" \
		    "--enable-python)"
	fi
	exit 77
fi
PY=("$ASOC_PYTHON")
if [ "${ASOC_SANITIZERS:-}" = yes ]; then
	if [ -z "${ASOC_ASAN_RUNTIME:-}" ]; then
		echo "SKIP: sanitizer build: no ASan runtime to preload into" \
		    "python3 (configure found no libasan.so; run python3 with" \
		    "LD_PRELOAD of it yourself)"
		exit 77
	fi
	PY=(env "LD_PRELOAD=$ASOC_ASAN_RUNTIME${LD_PRELOAD:+:$LD_PRELOAD}"
	    "ASAN_OPTIONS=${ASAN_OPTIONS%:}:detect_leaks=0" "$ASOC_PYTHON")
fi
if ! "$ASOC_PYTHON" -c 'import pytest' 2>/dev/null; then
	not_ok "pytest: $ASOC_PYTHON cannot import pytest: apt-get install python3-pytest"
	finish
fi
src=${top_srcdir:-$(cd "$(dirname "$0")/.." && pwd)}
export PYTHONPATH="$B/python${PYTHONPATH:+:$PYTHONPATH}"
export PYTHONDONTWRITEBYTECODE=1

# run_suite N [MARK]: N daemons, then the tests marked MARK (default
# ranksN: N node ranks).
run_suite() {
	local n=$1 mark=${2:-ranks$1} i socks="" pids=""
	start_cluster "$n"
	for ((i = 0; i < n; i++)); do
		socks+="${socks:+,}$(sock "$i")"
		pids+="${pids:+,}${DAEMONS[$i]}"
	done
	if ASOC_TEST_SOCKETS=$socks ASOC_TEST_DAEMON_PIDS=$pids \
	    ASOC_TEST_RANKS=$n "${PY[@]}" -m pytest -q -p no:cacheprovider \
	    -m "$mark" "$src/python/tests" >"$T/pytest$mark.out" 2>&1; then
		ok "pytest $mark on $n daemons: $(tail -n 1 "$T/pytest$mark.out")"
	else
		not_ok "pytest $mark on $n daemons" "$T/pytest$mark.out" "$T"/d*.log
	fi
	stop_cluster
}

run_suite 2
run_suite 4
# Process ranks (issue 12) on daemons no node-rank client has used.
run_suite 2 procranks
finish
