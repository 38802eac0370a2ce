#!/usr/bin/env bash
# asoc-send and asoc-recv as process ranks (issue 12), end to end on two
# daemons: --rank/--world-size, ASOC_PROC_*, an srun step's SLURM_PROCID;
# same-node and remote streams checked byte for byte.  Then the refusals
# libasoc passes on from asocd, each naming both sides: a node-rank client
# while process ranks are served, a rank another process holds, another
# world size.
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib.sh"

start_cluster 2
head -c 3000001 /dev/urandom >"$T/in"

# stream DESC DST-NODE "RECV-ENV" "RECV-ARGS" SRC-NODE "SEND-ENV"
# "SEND-ARGS": asoc-recv on DST-NODE's daemon, asoc-send on SRC-NODE's,
# each with its environment and options; the output compared with the
# input.
stream() {
	local desc=$1 dn=$2 re=$3 ra=$4 sn=$5 se=$6 sa=$7
	rm -f "$T/out"
	check "$desc" timeout 60 bash -c "
	    env $re '$RECV' $ra -q -S '$(sock "$dn")' -W 30 -o '$T/out' &
	    r=\$!
	    env $se '$SEND' $sa -q -S '$(sock "$sn")' -W 30 '$T/in' || exit 1
	    wait \$r && cmp '$T/in' '$T/out'"
}

stream "remote: rank 0 (node 0) to rank 3 (node 1), --rank/--world-size" \
    1 "" "--rank 3 --world-size 4 --from 0" \
    0 "" "--rank 0 --world-size 4 --to 3"
stream "same node: rank 1 to rank 0 (node 0), ASOC_PROC_RANK/WORLD" \
    0 "ASOC_PROC_RANK=0 ASOC_PROC_WORLD=4" "" \
    0 "ASOC_PROC_RANK=1 ASOC_PROC_WORLD=4" "--to 0"
stream "an srun step's tasks: SLURM_PROCID 2 (node 1) to 1 (node 0)" \
    0 "SLURM_STEP_ID=0 SLURM_PROCID=1 SLURM_STEP_NUM_TASKS=4 SLURM_LOCALID=1" "" \
    1 "SLURM_STEP_ID=0 SLURM_PROCID=2 SLURM_STEP_NUM_TASKS=4 SLURM_LOCALID=0" "--to 1"

# Refusals, while rank 2 waits in asoc-recv on node 1.
"$RECV" -q -S "$(sock 1)" --rank 2 --world-size 4 -W 30 -o "$T/held" >"$T/held.log" 2>&1 &
held=$!
BGPIDS+=("$held")
wait_stat "$(sock 1)" local_ranks 1
check_fails "a node-rank client is refused, naming the process world" \
    "serves process ranks of .*world.* 4" \
    "$RECV" -q -S "$(sock 1)" --node-ranks -W 2 -o "$T/x"
check_fails "rank 2, held by asoc-recv, is refused to another process" \
    "rank 2 is held by pid $held" \
    "$SEND" -q -S "$(sock 1)" --rank 2 --world-size 4 --to 0 -W 2 "$T/in"
# Node 0 must have heard rank 2's JOIN first, or the claim there would
# win a duplicate race instead of being refused.  Announcements precede
# any RTS on the pair's connection, so once a stream from node 1 has
# reached node 0, node 0 knows rank 2 (polling could not tell: a node with
# no rank shows no world).
stream "node 0 hears of node 1's ranks before their sends: rank 1 to rank 0" \
    0 "" "--rank 0 --world-size 4 --from 1" \
    1 "" "--rank 1 --world-size 4 --to 0"
check_fails "... also on the other node" "rank 2 is held by pid $held" \
    "$SEND" -q -S "$(sock 0)" --rank 2 --world-size 4 --to 0 -W 2 "$T/in"
check_fails "another world size is refused, naming both" "world.* 4 .*not 8" \
    "$SEND" -q -S "$(sock 1)" --rank 1 --world-size 8 --to 0 -W 2 "$T/in"
check "the holder still gets its stream" timeout 60 bash -c "
    '$SEND' -q -S '$(sock 0)' --rank 0 --world-size 4 --to 2 '$T/in'"
if wait "$held" && cmp -s "$T/in" "$T/held"; then
	ok "... checked"
else
	not_ok "... checked" "$T/held.log"
fi
finish
