#!/usr/bin/env bash
# asoc-info on this machine: no RDMA device here (the RDMA lab checks the
# other side, in test-rdma.sh), so it must say TCP with asocd's own reason,
# exit 1 with that reason as one line on stderr, agree with what a real
# asocd logs for the same settings, and print JSON that parses.
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib.sh"
INFO=$B/client/asoc-info

if [ -n "$(ls /sys/class/infiniband 2>/dev/null)" ]; then
	echo "test-info.sh: this machine has RDMA devices; the TCP checks" \
	    "need a machine without (the RDMA lab checks asoc-info's RDMA side)"
	echo "0 passed, 0 failed"
	exit 77
fi

set +e
"$INFO" --listen 127.0.0.1 --munge no >"$T/info.txt" 2>"$T/info.err"
rc=$?
"$INFO" --listen 127.0.0.1 --munge no --json >"$T/info.json" 2>/dev/null
jrc=$?
set -e
check "asoc-info exits 1 where asocd falls back to TCP" test "$rc" -eq 1
check "... with one line on stderr naming the reason" bash -c "
    [ \$(wc -l < '$T/info.err') -eq 1 ] &&
    grep -q '^asoc-info: asocd would fall back to TCP: .' '$T/info.err'"
reason=$(sed -n 's/^asoc-info: asocd would fall back to TCP: //p' "$T/info.err")
check "the text says transport tcp and the same reason" \
    grep -qF "transport: tcp ($reason)" "$T/info.txt"
check "the text lists the devices, listen address, memlock and MUNGE" bash -c "
    grep -q '^RDMA devices: 0' '$T/info.txt' &&
    grep -q '^listen address: 127.0.0.1 (--listen 127.0.0.1)' '$T/info.txt' &&
    grep -q '^RLIMIT_MEMLOCK: ' '$T/info.txt' &&
    grep -q '^MUNGE: --munge no' '$T/info.txt'"
check "--json exits 1 too" test "$jrc" -eq 1
check "--json parses (python3 -m json.tool)" python3 -m json.tool "$T/info.json"
check "--json: transport tcp, the same reason, the facts asked for" python3 -c "
import json, sys
j = json.load(open('$T/info.json'))
assert j['transport'] == 'tcp', j['transport']
assert j['reason'] == sys.argv[1], (j['reason'], sys.argv[1])
assert j['exit_status'] == 1
assert j['devices'] == []
assert j['listen']['address'] == '127.0.0.1'
assert j['device']['name'] is None
assert j['memlock']['unlimited'] in (True, False)
assert isinstance(j['memlock']['needed_kib'], int)
assert j['munge'] == {'answers': False, 'why': '--munge no'}, j['munge']
" "$reason"

# The same settings in a real asocd: it must log the very reason.
start_cluster 2 --listen 127.0.0.1 --munge no
check "asocd logs the reason asoc-info gave" grep -qF \
    "$reason: using TCP for every peer" "$T/d0.log"
stop_cluster

check_fails "--transport rdma: asocd would not start (exit 2)" \
    "asocd would not start: --transport rdma: " \
    "$INFO" --listen 127.0.0.1 --munge no --transport rdma
check "--transport tcp is as asked: exit 0, reason --transport tcp" bash -c "
    '$INFO' --transport tcp --munge no | grep -q '^transport: tcp (--transport tcp)'"
check_fails "a bad setting: asocd would not start" "asocd would not start: " \
    "$INFO" --port 99999
check_fails "an unreadable key file: asocd would not start" \
    "cannot read key file" "$INFO" --key-file "$T/none" --munge no
check "an interface that is missing is named in the reason" bash -c "
    '$INFO' --interface asocnone0 --munge no 2>&1 >/dev/null |
    grep -q 'interface asocnone0 not found'"
check "--help" bash -c "'$INFO' --help | grep -q 'usage: asoc-info'"
finish
