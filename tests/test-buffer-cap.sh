#!/usr/bin/env bash
# test-buffer-cap.sh: --max-registered-bytes bounds the buffer bytes of
# all of a daemon's clients together, beside --client-max-bytes for each.
# Two clients of one daemon, each within its own limit: the second's
# buffer would bring the daemon over its cap and is refused, with a
# message naming the setting; once the first lets go, it fits.
# shellcheck source=tests/lib.sh
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib.sh"

start_cluster 1 --client-max-bytes 1M --max-registered-bytes 1536K
S0=$(sock 0)
# Client 1 holds 1 MiB: a receive with nothing to receive yet.
"$XFER" --socket "$S0" recv --from 0 --size 1048576 >"$T/hold.out" 2>&1 &
hold=$!
BGPIDS+=("$hold")
check "client 1 holds a 1 MiB buffer" wait_stat "$S0" posted_recvs 1
check_fails "client 2's 1 MiB would pass the daemon's 1.5 MiB: refused" \
	"over the limit of 1572864 (--max-registered-bytes)" \
	"$XFER" --socket "$S0" send --to 0 --size 1048576
check "  ...two of 256 KiB fit (1.5 MiB in all)" \
	"$XFER" --socket "$S0" self --size 262144 --tag 5 --order send-first
check_fails "  ...two of 512 KiB do not" "(--max-registered-bytes)" \
	"$XFER" --socket "$S0" self --size 524288 --tag 5 --order send-first
kill -TERM "$hold" 2>/dev/null || true
wait "$hold" 2>/dev/null || true
check "with client 1 gone, two of 512 KiB fit" \
	"$XFER" --socket "$S0" self --size 524288 --tag 5 --order send-first
check "the daemon is still up" kill -0 "${DAEMONS[0]}"
finish
