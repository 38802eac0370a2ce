#!/usr/bin/env bash
# Load: 64 clients on four daemons, 100 messages of random sizes each (0 B
# to 3 MiB, seeded; about one pair in four on the same node), every one
# checked on arrival for loss, duplication, reordering and corruption by
# tests/asoc-load, which prints the totals.  Then the daemons must hold
# nothing.  ASOC_LOAD_SEED picks another seed (the default is fixed, so a
# failure can be replayed).
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib.sh"
LOAD=$B/tests/asoc-load

start_cluster 4
socks=()
for i in 0 1 2 3; do socks+=(--socket "$(sock "$i")"); done
# A hard bound: the 2-core machine it runs on does it in well under that.
if timeout 300 "$LOAD" "${socks[@]}" --clients 64 --count 100 \
    --seed "${ASOC_LOAD_SEED:-1}" >"$T/load.out" 2>"$T/load.err"; then
	ok "$(tail -n 1 "$T/load.out")"
else
	not_ok "64 clients x 100 transfers (exit $?)" "$T/load.out" "$T/load.err"
fi
cat "$T/load.out"
# The checks themselves: a client that sends a message twice, leaves one
# out, swaps two, or flips a bit is caught, and the run fails.
for f in dup:duplicated skip:lost swap:reordered corrupt:corrupt; do
	check_fails "asoc-load catches --fault ${f%:*}" "[1-9][0-9]* ${f#*:}" \
	    timeout 120 "$LOAD" "${socks[@]}" --clients 8 --count 20 --fault "${f%:*}"
done
for i in 0 1 2 3; do
	check "rank $i holds nothing after the load" stat_all_zero "$(sock "$i")"
done
check "every daemon survived" all_daemons_alive
finish
