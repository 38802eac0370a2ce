#!/usr/bin/env bash
# test-peek.sh: ASOC_RECV_PEEK and too-small receives, over the peer
# connection and on one node (tests/asoc-peek-check.c).
. "$(dirname "$0")/lib.sh"

start_cluster 2
if "$B/tests/asoc-peek-check" "$(sock 0)" "$(sock 1)" >"$T/peek.out" 2>&1; then
	ok "asoc-peek-check: $(tail -n 1 "$T/peek.out")"
else
	not_ok "asoc-peek-check" "$T/peek.out"
fi
check "the daemons are alive" all_daemons_alive
check "rank 0 holds nothing afterwards" stat_all_zero "$(sock 0)"
finish
