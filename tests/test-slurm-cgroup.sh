#!/usr/bin/env bash
# Memory charged to the job, with SLURM's own cgroup v1 plugins
# (proctrack/cgroup, task/cgroup with ConstrainRAMSpace,
# PrologFlags=Alloc,Contain): a job of nobody's whose asocd, started by the
# prolog through asoc-slurm, must sit in the memory cgroup SLURM made for
# the job, and whose 64 MiB registered buffer must be charged there (to
# asocd's own folder of it, not the batch step's, so the charge is the
# daemon's and not the client's).
#
#   tests/slurm-lab/run --cgroup -- bash tests/test-slurm-cgroup.sh
# shellcheck source=tests/lib.sh
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib.sh"
# shellcheck source=tests/slurm-lab/lib.sh
. "${top_srcdir:-$(dirname "$0")/..}/tests/slurm-lab/lib.sh"

MEMCG=/sys/fs/cgroup/memory
need_lab "needs the lab with SLURM's cgroup plugins: tests/slurm-lab/run --cgroup -- bash tests/test-slurm-cgroup.sh" \
	test "${ASOC_LAB_CGROUP:-}" = yes
J=$T/jobs
mkdir -p "$J"
chmod 1777 "$J"

memcg_of() { sed -n 's/^[0-9]*:memory://p' "/proc/$1/cgroup" 2>/dev/null; }

# The job: records its own (batch step's) cgroup, registers a 64 MiB
# buffer with the node's asocd when told to, holds it until told to stop.
cat >"$J/job.sh" <<EOF
#!/bin/sh
cat /proc/self/cgroup >"$J/batch-\$SLURM_JOB_ID.cgroup"
i=0; until [ -e "$J/go" ] || [ \$i -ge 300 ]; do sleep 0.1; i=\$((i + 1)); done
"$XFER" --socket "\$ASOC_RUN_DIR/\$SLURM_JOB_ID/sock/asocd.sock" recv --from 0 --size 67108864 >"$J/recv.out" 2>&1 &
i=0; until [ -e "$J/stop" ] || [ \$i -ge 300 ]; do sleep 0.1; i=\$((i + 1)); done
kill \$! 2>/dev/null
exit 0
EOF
chmod 0755 "$J/job.sh"

t0=$SECONDS
job=$(cd "$J" && sbatch --parsable --uid=nobody -N1 -w n1 --mem=512M -o "$J/out-%j" "$J/job.sh" 2>"$T/sbatch") || true
job=${job:-none}
check "job $job (nobody, --mem=512M) is running" wait_until 300 test -e "$J/batch-$job.cgroup"
run=$ASOC_LAB_NODES/n1/run/$job
apid=$(cut -d' ' -f1 "$run/asocd.pid" 2>/dev/null || echo none)
bcg=$(sed -n 's/^[0-9]*:memory://p' "$J/batch-$job.cgroup" 2>/dev/null)
jcg=${bcg%/step_batch*}
# asoc-slurm's follower moves asocd in within moments of SLURM making the
# job's folders (the batch step starts at about that time too).
for ((t = 0; t < 50; t++)); do
	acg=$(memcg_of "$apid")
	[[ $acg != "$jcg"/* ]] || break
	sleep 0.1
done
check "SLURM made the job's memory cgroup: the batch step is in $bcg" \
	bash -c "[[ '$bcg' == /slurm*/uid_$NOBODY/job_$job/step_batch* ]]"
check "  ...confined to --mem (memory.limit_in_bytes 512 MiB)" \
	test "$(cat "$MEMCG$jcg/memory.limit_in_bytes" 2>/dev/null)" = $((512 << 20))
check "asocd (pid $apid) is in the job's memory cgroup: $acg" \
	bash -c "[[ '$acg' == '$jcg'/* ]]"
check "  ...not in the batch step's (the charge below is the daemon's)" \
	bash -c "[[ '$acg' != '$jcg'/step_batch* ]]"
u0=$(cat "$MEMCG$acg/memory.usage_in_bytes" 2>/dev/null || echo 0)
touch "$J/go"
charged() { [[ $acg == "$jcg"/* ]] && [ $(($(cat "$MEMCG$acg/memory.usage_in_bytes" 2>/dev/null || echo 0) - u0)) -ge $((60 << 20)) ]; }
for ((t = 0; t < 100; t++)); do charged && break; sleep 0.1; done
check "a 64 MiB buffer registered: asocd's job cgroup is charged $((($(cat "$MEMCG$acg/memory.usage_in_bytes" 2>/dev/null || echo 0) - u0) >> 20)) MiB" charged
cp "$run/asocd.log" "$T/asocd.log" 2>/dev/null || true
check "  ...asoc-slurm said it moved asocd into them once SLURM made them (after the prolog)" \
	grep -q "joined job $job's cgroups:.* memory.* (made by SLURM after the prolog" "$T/asocd.log"
touch "$J/stop"
check "job $job left squeue" wait_job_gone "$job"
check "  ...COMPLETED, exit code 0:0" \
	job_completed "$job"
check "  ...its asocd is gone (within 5 s)" wait_until 50 gone "$apid"
check "  ...and so is the job's memory cgroup" bash -c "for t in \$(seq 50); do [ -e '$MEMCG$jcg' ] || exit 0; sleep 0.1; done; exit 1"
check "no node was drained" no_node_drained
echo "($((SECONDS - t0)) s)"
[ "$nfail" = 0 ] || { cat "$T/sbatch" "$J/out-$job" "$J/recv.out" "$T/asocd.log" 2>/dev/null | tail -n 30; }
finish
