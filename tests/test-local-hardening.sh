#!/usr/bin/env bash
# Issue 10, the local side: what a same-user client, or an authenticated
# but hostile peer, could do to asocd through matching, cancellation,
# fd passing and queues (asoc-local-probe and asoc-fake-peer say how).
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib.sh"

PROBE=$B/tests/asoc-local-probe
FAKE=$B/tests/asoc-fake-peer

# One daemon for the local cases; six clients at most, so the cap is
# reached by the last case (the others use five at once).
start_cluster 1 --max-clients 6 --client-max-bytes 2G
for c in overrun free-batch free-copy reg-fds pace "max-clients 6"; do
	# shellcheck disable=SC2086
	check "asoc-local-probe $c" "$PROBE" "$(sock 0)" $c
	sed 's/^/    /' "$T/out"
done
# libasoc under that pacing: a client that posts 5000 pairs before waiting
# for any must take replies while it posts, not wait for room for good.
check "a libasoc client that posts before it waits is paced, not stuck" \
    timeout 60 "$B/tests/asoc-burst" "$(sock 0)" 5000
sed 's/^/    /' "$T/out"
check "the daemon survived the local cases" all_daemons_alive
check "no client state left behind" stat_all_zero "$(sock 0)"
stop_cluster

# A world of two where rank 1 is asoc-fake-peer: nothing listens on its
# port, so rank 0 only ever talks to it over the fake's own connection.
START_ONLY=1 start_cluster 2 --munge no
for c in zero-cts rts-flood reset-free; do
	check "asoc-fake-peer $c" "$FAKE" "$HOST" "$BASE" "$(sock 0)" "$c"
	sed 's/^/    /' "$T/out"
done
check "the daemon dropped the peer that sent a 0-byte CTS" \
    grep -q "unexpected CTS" "$T/d0.log"
check "the daemon survived the hostile peer" all_daemons_alive
check "the refused and queued sends are all gone" stat_all_zero "$(sock 0)"
finish
