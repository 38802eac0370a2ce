#!/usr/bin/env bash
# asoc-stat --prometheus: a strict parse of the text exposition format
# (tests/prom-parse.py), and the values against asoc-stat --json after a
# transfer.
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib.sh"
PARSE=${top_srcdir:-$(dirname "$0")/..}/tests/prom-parse.py

start_cluster 2
check "a transfer, so the counters are not all zero" xfer 1048577 recv-first 0 1
"$STAT" --socket "$(sock 0)" --prometheus >"$T/p0.prom"
"$STAT" --socket "$(sock 0)" --json >"$T/p0.json"
check "the output parses strictly (HELP, TYPE, names, labels, values)" \
    bash -c "python3 '$PARSE' '$T/p0.prom' > '$T/p0.samples'"
check "the values are asoc-stat --json's" python3 -c "
import json
s = json.load(open('$T/p0.samples'))
j = json.load(open('$T/p0.json'))
assert s['asoc_sent_bytes_total{}'] == j['bytes_sent'] >= 1048577, s
assert s['asoc_transfers_done_total{}'] == j['xfers_done'] >= 1
assert s['asoc_rank{}'] == 0 and s['asoc_world_size{}'] == 2
assert s['asoc_info{transport=\"%s\"}' % j['transport']] == 1
p1 = [p for p in j['peers'] if p['rank'] == 1][0]
assert s['asoc_peer_sent_bytes_total{rank=\"1\"}'] == p1['bytes_sent']
info = [k for k in s if k.startswith('asoc_peer_info{rank=\"1\",')]
assert len(info) == 1 and 'transport=\"tcp\"' in info[0], info
"
# The parser itself must refuse what Prometheus refuses.
printf '# HELP a_total x\n# TYPE a_total counter\na_total 1\nb 2\n' >"$T/bad1"
check_fails "the parser refuses a sample without HELP/TYPE" "outside" python3 "$PARSE" "$T/bad1"
printf '# HELP a x\n# TYPE a counter\na 1\n' >"$T/bad2"
check_fails "... a counter not named _total" "_total" python3 "$PARSE" "$T/bad2"
printf '# HELP a x\n# TYPE a gauge\na{l="x} 1\n' >"$T/bad3"
check_fails "... a broken label" "not a sample" python3 "$PARSE" "$T/bad3"
printf '# HELP a x\n# TYPE a gauge\na one\n' >"$T/bad4"
check_fails "... a value that is not a number" "not a number" python3 "$PARSE" "$T/bad4"
check_fails "--json and --prometheus together are refused" "choose one" \
    "$STAT" --socket "$(sock 0)" --json --prometheus
finish
