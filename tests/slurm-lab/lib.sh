# tests/slurm-lab/lib.sh: what the SLURM lab's tests share (test-slurm.sh,
# test-slurm-user.sh, test-slurm-cgroup.sh), sourced after tests/lib.sh:
# nobody as the job user, submitting, waiting for squeue, and the checks
# every lab run ends with.
# shellcheck shell=bash

# The job user: not root, so that every drop of privileges shows.
NOBODY=$(id -u nobody)
NOGROUP=$(id -g nobody)
# lib.sh's folder is 0700; nobody's daemons and jobs must reach into it.
chmod 0755 "$T"

# as_nobody COMMAND...: COMMAND as the job user (setpriv execs it, so a
# PID taken of it is COMMAND's own).
as_nobody() { setpriv --reuid="$NOBODY" --regid="$NOGROUP" --clear-groups -- "$@"; }

# pair_as_nobody SRC_SOCKET DST DST_SOCKET SRC SIZE: one checked transfer
# of SIZE bytes between two job daemons, both clients run as nobody: the
# receive through DST_SOCKET from rank SRC, the send through SRC_SOCKET to
# rank DST.
pair_as_nobody() {
	local r
	as_nobody "$XFER" --socket "$3" recv --from "$4" --size "$5" &
	r=$!
	if ! as_nobody "$XFER" --socket "$1" send --to "$2" --size "$5"; then
		kill -TERM "$r" 2>/dev/null || true
		wait "$r" 2>/dev/null || true
		return 1
	fi
	wait "$r"
}

# need_lab HOW TEST...: unless this runs in the lab (SLURM_CONF set, sinfo
# answers) and TEST holds (the lab's variant), one failure saying HOW to
# run it, and exit.
need_lab() {
	local how=$1
	shift
	if [ -z "${SLURM_CONF:-}" ] || ! "$@" || ! sinfo >/dev/null 2>&1; then
		not_ok "$how"
		finish
		exit 1
	fi
}

# job_id_of FILE: the job id sbatch --parsable wrote in FILE (empty if none).
job_id_of() { grep -Eo '^[0-9]+' "$1" | tail -1 || true; }

# job_field JOB KEY: a field of scontrol show job (while slurmctld keeps it).
job_field() { scontrol -o show job "$1" | grep -o "\b$2=[^ ]*" | head -1 | cut -d= -f2-; }

# job_completed JOB: the job is COMPLETED with exit code 0:0.
job_completed() {
	local s
	s="$(job_field "$1" JobState) $(job_field "$1" ExitCode)"
	[ "$s" = "COMPLETED 0:0" ] || { echo "job $1: $s"; return 1; }
}

# wait_job_gone JOB: until the job has left squeue, its epilogs done (30 s).
wait_job_gone() {
	local t
	for ((t = 0; t < 300; t++)); do
		[ -n "$(squeue -h -j "$1" -o %i 2>/dev/null)" ] || return 0
		sleep 0.1
	done
	return 1
}

# gone PID: the process has exited (a zombie not yet reaped has).
gone() {
	local st
	read -r st 2>/dev/null </proc/"$1"/stat || return 0
	st=${st##*) }
	[ "${st%% *}" = Z ]
}

# no_node_drained: no node of the lab is drained or down (a prolog or
# epilog that failed would have drained it).
no_node_drained() {
	local d
	d=$(sinfo -h -t drain,down -o %D)
	[ -z "$d" ] || { sinfo; return 1; }
}
