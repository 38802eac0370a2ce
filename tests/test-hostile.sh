#!/usr/bin/env bash
# Garbage, truncated headers, absurd lengths and bad fds on the Unix socket
# and the peer port, thrown while a real transfer runs: each offender is
# dropped, the transfer completes intact, and no daemon exits.
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib.sh"

start_cluster 3 --client-max-bytes 512M --munge no

# A transfer in flight the whole time (64 MiB x 4, checked byte for byte).
"$XFER" --socket "$(sock 1)" recv --from 0 --size 67108864 --count 4 --tag 77 >"$T/bg-recv.out" 2>&1 &
rpid=$!
"$XFER" --socket "$(sock 0)" send --to 1 --size 67108864 --count 4 --tag 77 >"$T/bg-send.out" 2>&1 &
spid=$!

check "hostile local clients are dropped" "$HOSTILE" local "$(sock 0)"
check "hostile local clients are dropped (receiving side)" "$HOSTILE" local "$(sock 1)"
check "hostile peers are dropped" "$HOSTILE" peer 127.0.0.1 "$BASE"
check "hostile peers are dropped (receiving side)" "$HOSTILE" peer 127.0.0.1 "$((BASE + 1))"

if wait "$spid" && wait "$rpid" && [ "$(grep -c ' ok$' "$T/bg-recv.out")" = 4 ]; then
	ok "the transfer that ran meanwhile completed intact"
else
	not_ok "the transfer that ran meanwhile completed intact" "$T/bg-send.out" "$T/bg-recv.out"
fi
# A peer that proves the key (it is the community here) as rank 2 and
# grants 0 bytes to rank 0's empty send: rank 0 must not answer with a
# DATA header it could not encode (stack bytes, until this was fixed).
"$HOSTILE" zero-cts 127.0.0.1 "$BASE" 3 2 default >"$T/zcts.out" 2>&1 &
hpid=$!
wait_until 50 grep -q "proven as rank 2" "$T/zcts.out" || true
timeout 20 "$XFER" --socket "$(sock 0)" send --to 2 --size 0 >"$T/zsend.out" 2>&1 || true
if wait "$hpid"; then ok "a CTS granting 0 bytes draws no garbage"; else
	not_ok "a CTS granting 0 bytes draws no garbage" "$T/zcts.out" "$T/zsend.out"; fi
sed -n 's/^# /    /p' "$T/zcts.out"
check "a fresh transfer still works" bash -c "
    '$XFER' --socket '$(sock 2)' recv --from 0 --size 1048577 &
    r=\$!
    '$XFER' --socket '$(sock 0)' send --to 2 --size 1048577 && wait \$r"
check_fails "a client over its buffer-byte limit gets a clear error" \
    "over the limit of 536870912 (--client-max-bytes)" \
    "$XFER" --socket "$(sock 2)" self --size 314572800
check "every daemon survived" all_daemons_alive
check "the refusals were logged with their reason" grep -q "community mismatch" "$T/d0.log"
check "no client state left on rank 0" wait_stat "$(sock 0)" buffers 0
finish
