#!/usr/bin/env bash
# asoc-stat and process ranks (issue 12): it opens status-only, so it
# never takes a rank or sets asocd's mode; it lists the local process
# ranks ("ranks: world 4, here 1: 1" and a row each) and their counters,
# the same in --json ("ranks") and --prometheus (asoc_rank_info and the
# per-rank byte counters, parsed strictly); once the ranks have left, the
# mode is "none (no ranked client now)" again.
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib.sh"
PARSE=${top_srcdir:-$(dirname "$0")/..}/tests/prom-parse.py

# proc R W LOCALID CMD...: CMD as process rank R of W.
proc() {
	local r=$1 w=$2 l=$3
	shift 3
	env ASOC_PROC_RANK="$r" ASOC_PROC_WORLD="$w" SLURM_LOCALID="$l" "$@"
}

start_cluster 2
check "asoc-stat alone leaves asocd in no mode (status-only)" bash -c "
    '$STAT' --socket '$(sock 0)' | grep -qx 'rank mode          none (no ranked client now)' &&
    '$STAT' --socket '$(sock 0)' --json | grep -q '\"mode\":\"none\",\"proc_world\":0,\"local_ranks\":0,\"ranks\":\[\]'"
check "... even with a process rank in its environment" bash -c "
    env ASOC_PROC_RANK=0 ASOC_PROC_WORLD=4 SLURM_STEP_ID=0 SLURM_PROCID=0 \
    SLURM_NTASKS=4 '$STAT' --socket '$(sock 0)' --json | grep -q '\"mode\":\"none\"'"

# Rank 1 (node 0) and rank 3 (node 1) each wait for two messages; ranks 0
# and 2 send them one each, across the nodes, so that the receivers are
# still there, with bytes counted, when asoc-stat looks.  (env, not proc:
# $! must be the receiver's pid, which asoc-stat shows.)
env ASOC_PROC_RANK=1 ASOC_PROC_WORLD=4 SLURM_LOCALID=1 \
    "$XFER" --socket "$(sock 0)" recv --from any --size 1000 --count 2 >"$T/r1.out" 2>&1 &
r1=$!
BGPIDS+=("$r1")
env ASOC_PROC_RANK=3 ASOC_PROC_WORLD=4 SLURM_LOCALID=1 \
    "$XFER" --socket "$(sock 1)" recv --from any --size 1000 --count 2 >"$T/r3.out" 2>&1 &
r3=$!
BGPIDS+=("$r3")
wait_stat "$(sock 0)" local_ranks 1
wait_stat "$(sock 1)" local_ranks 1
check "rank 0 sends one message to rank 3 (node 1)" \
    proc 0 4 0 "$XFER" --socket "$(sock 0)" send --to 3 --size 1000
check "rank 2 sends one message to rank 1 (node 0)" \
    proc 2 4 0 "$XFER" --socket "$(sock 1)" send --to 1 --size 1000
# The senders have left; rank 1 has its first 1000 bytes.
check "asocd counts rank 1's bytes" wait_until 100 bash -c "
    '$STAT' --socket '$(sock 0)' --json | grep -q '{\"rank\":1,\"world\":4,\"pid\":$r1,\"localid\":1,\"sessions\":1,\"incarnation\":[0-9]*,\"posted_recvs\":1,\"unexpected\":0,\"bytes_sent\":0,\"bytes_received\":1000}'"
"$STAT" --socket "$(sock 0)" >"$T/text"
check "the text says 'ranks: world 4, here 1: 1'" grep -qx 'ranks: world 4, here 1: 1' "$T/text"
check "... and the mode" grep -qx 'rank mode          process ranks' "$T/text"
check "... and a row for rank 1: pid, localid, sessions, posted, received" \
    grep -Eq "^ +1 +$r1 +1 +1 +1 +0 +0 B +1000 B\$" "$T/text"
check "--json: mode, world, local ranks" bash -c "'$STAT' --socket '$(sock 0)' --json |
    grep -q '\"mode\":\"proc\",\"proc_world\":4,\"local_ranks\":1,\"ranks\":\[{\"rank\":1,'"
check "an asoc-stat in process mode takes no rank either" bash -c "
    env ASOC_PROC_RANK=0 ASOC_PROC_WORLD=4 '$STAT' --socket '$(sock 0)' --json |
    grep -q '\"local_ranks\":1,'"
"$STAT" --socket "$(sock 0)" --prometheus >"$T/p.prom"
"$STAT" --socket "$(sock 0)" --json >"$T/p.json"
check "--prometheus parses strictly" bash -c "python3 '$PARSE' '$T/p.prom' >'$T/p.samples'"
check "--prometheus: asoc_rank_info and the rank's bytes, as --json says" python3 -c "
import json
s = json.load(open('$T/p.samples'))
j = json.load(open('$T/p.json'))
r = j['ranks'][0]
assert s['asoc_rank_info{rank=\"1\",pid=\"$r1\",localid=\"1\"}'] == 1, s
assert s['asoc_rank_received_bytes_total{rank=\"1\"}'] == r['bytes_received'] == 1000
assert s['asoc_rank_sent_bytes_total{rank=\"1\"}'] == r['bytes_sent'] == 0
assert s['asoc_rank_mode{}'] == 2 and s['asoc_process_world_size{}'] == 4
assert s['asoc_process_ranks{}'] == 1
"
# The second messages let both receivers finish, checked.
check "rank 2 sends the second message to rank 1" \
    proc 2 4 0 "$XFER" --socket "$(sock 1)" send --to 1 --size 1000 --first 1
check "rank 0 sends the second message to rank 3" \
    proc 0 4 0 "$XFER" --socket "$(sock 0)" send --to 3 --size 1000 --first 1
if wait "$r1" && wait "$r3"; then
	ok "both receivers checked both messages"
else
	not_ok "both receivers checked both messages" "$T/r1.out" "$T/r3.out"
fi
# Every ranked client has left: the mode is none again, and the text does
# not claim that none ever came.
check "after the ranks left: 'none (no ranked client now)'" wait_until 100 bash -c "
    '$STAT' --socket '$(sock 0)' | grep -qx 'rank mode          none (no ranked client now)'"
finish
