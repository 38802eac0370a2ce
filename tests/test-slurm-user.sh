#!/usr/bin/env bash
# The user-only path: a SLURM cluster with nothing of ASoc installed by
# its admin (no Prolog=, no Epilog=), and a user who runs
# slurm/asoc_benchmark.slurm as it is.  The script starts one asocd per
# node itself (srun --overlap asocd --slurm-user), as the user, with a key
# from ~/.asoc/key and the job id; the tools find those daemons by
# themselves; nothing is left after the job.  Run as nobody, on the lab's
# four nodes.
#
#   tests/slurm-lab/run --no-prolog -- bash tests/test-slurm-user.sh
# shellcheck source=tests/lib.sh
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib.sh"
# shellcheck source=tests/slurm-lab/lib.sh
. "${top_srcdir:-$(dirname "$0")/..}/tests/slurm-lab/lib.sh"

S=${top_srcdir:-$(cd "$(dirname "$0")/.." && pwd)}
SCRIPT=$S/slurm/asoc_benchmark.slurm
need_lab "needs the lab without a prolog: tests/slurm-lab/run --no-prolog -- bash tests/test-slurm-user.sh" \
	test "${ASOC_LAB_PROLOG:-}" = no
# nobody's own home (its passwd entry names /nonexistent) and job folder.
H=$T/home
J=$T/jobs
mkdir -p "$H" "$J"
chown nobody "$H" "$J"
chmod 0700 "$H"
chmod 0755 "$J"

# A free port range for the job's daemons, drawn like lib.sh's.
PORT=$((20000 + (RANDOM % 400) * 100))

# submit VAR=value...: asoc_benchmark.slurm as nobody, as a user would, with
# the settings the original ASoc took from the environment.
submit() {
	(cd "$J" && env HOME="$H" ASOC_PORT="$PORT" ASOC_TRANSPORT=tcp ASOC_CONNECTION_TIMEOUT=20 ASOC_LOG_LEVEL=debug \
		ASOC_NODE_ADDRS="$ASOC_LAB_NODE_ADDRS" ITERATIONS=3 "$@" \
		sbatch --wait --parsable --uid=nobody "$SCRIPT")
}

t0=$SECONDS
if submit TENSOR_SIZE=4 >"$T/sbatch" 2>&1; then
	ok "sbatch asoc_benchmark.slurm as nobody, no prolog, succeeded ($((SECONDS - t0)) s)"
else
	not_ok "sbatch asoc_benchmark.slurm as nobody, no prolog" "$T/sbatch" "$J"/*
fi
job=$(job_id_of "$T/sbatch")
job=${job:-none}
out=$J/asoc-bench-$job.out
log=$J/asocd-$job.log
check "job $job left squeue" wait_job_gone "$job"
check "job $job: COMPLETED, exit code 0:0" \
	job_completed "$job"
check "  ...it used the job's own daemons" grep -q "the job's own asocd" "$out"
check "  ...TENSOR_SIZE=4 (the original ASoc's name) was taken" grep -q "pattern pair, 4 MiB" "$out"
check "  ...data verified on 3 of 3 receivers" grep -q "data verified on 3 of 3 receivers" "$out"
for ((r = 1; r < 4; r++)); do
	check "  ...rank $r verified" grep -Eq "^0: peer $r +3 of 3 .* verified$" "$out"
done
check "  ...four nodes reported a world of 4" test "$(grep -Ec '^[0-3]: world +4$' "$out")" = 4
check "four daemons ran, ranks 0-3 of 4 in community $job" \
	bash -c "for r in 0 1 2 3; do grep -q \"ready: rank \$r of 4, community '$job'\" '$log' || exit 1; done"
check "  ...as nobody: they served nobody's clients" grep -q "(uid $NOBODY) connected" "$log"
check "  ...every peer connection proved the job key" \
	bash -c "grep -E '(connected to|accepted) rank' '$log' >'$T/conns' && ! grep -v 'key' '$T/conns'"
in_range() {
	local p n=0
	for p in $(sed -n 's/.*listening for peers on 127\.0\.0\.1[1-4]:\([0-9]*\) .*/\1/p' "$log"); do
		[ "$p" -ge "$PORT" ] && [ "$p" -lt $((PORT + 1000)) ] || return 1
		n=$((n + 1))
	done
	[ "$n" = 4 ]
}
check "  ...each on one of ASOC_PORT's candidates ($PORT + 0..999)" in_range
check "~/.asoc/key was made, nobody's, mode 0600, 32 bytes" \
	test "$(stat -c '%u %a %s' "$H/.asoc/key" 2>/dev/null)" = "$NOBODY 600 32"
check "nothing is left: no asocd of the job" bash -c "! pgrep -u nobody -f 'asocd --slurm-user' >/dev/null"
check "  ...no socket folder in /tmp" bash -c "[ -z \"\$(ls -d /tmp/asoc-$NOBODY-$job-* 2>/dev/null)\" ]"

# A second job reuses the key (no new one), its daemons another key.
t0=$SECONDS
submit TENSOR_MB=1 >"$T/sbatch2" 2>&1 || true
job2=$(job_id_of "$T/sbatch2")
check "a second job ($job2) also completes, data verified" grep -q "data verified on 3 of 3 receivers" "$J/asoc-bench-${job2:-none}.out"
check "  ...with the same ~/.asoc/key" test "$(stat -c '%u %a %s' "$H/.asoc/key" 2>/dev/null)" = "$NOBODY 600 32"
check "no node was drained" no_node_drained
finish
