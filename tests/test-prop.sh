#!/usr/bin/env bash
# The property test of the local API (asoc-prop): random register, send,
# receive, cancel and free, to one's own rank and to the other of two
# daemons, checked against a model with guard bytes around every range.
# ASOC_PROP_SECONDS bounds it (20 s in make check; make check-fuzz runs it
# longer); ASOC_PROP_SEED replays a run.  In a --enable-sanitizers build
# the daemons run under ASan, and finish() fails on any report.
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib.sh"

SECONDS_LEFT=${ASOC_PROP_SECONDS:-20}
# Small chunks: a few-MiB message crosses many DATA frames.
start_cluster 2 --chunk-size 64K
check "asoc-prop for ${SECONDS_LEFT} s" timeout $((SECONDS_LEFT + 120)) \
    "$B/tests/asoc-prop" "$(sock 0)" "$(sock 1)" "$SECONDS_LEFT" ${ASOC_PROP_SEED:-}
sed 's/^/    /' "$T/out"
check "both daemons survived" all_daemons_alive
check "rank 0 holds nothing afterwards" stat_all_zero "$(sock 0)"
check "rank 1 holds nothing afterwards" stat_all_zero "$(sock 1)"
finish
