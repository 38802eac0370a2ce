#!/usr/bin/env bash
# test-python.sh: the Python package's pytest suite (python/tests) against
# the in-tree build, on real daemons on loopback: first 2 ranks, then 4.
# The test process is rank 0; the suite starts the other ranks' processes.
# Skipped (exit 77) only when configure left the package out.
. "$(dirname "$0")/lib.sh"

if [ -z "${ASOC_PYTHON:-}" ]; then
	echo "SKIP: configure disabled the Python package (no python3-dev or" \
	    "python3-numpy; see ./configure --enable-python)"
	exit 77
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
	    ASOC_TEST_RANKS=$n "$ASOC_PYTHON" -m pytest -q -p no:cacheprovider \
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
