#!/usr/bin/env bash
# The SLURM integration: slurm/asoc-prolog and asoc-epilog, run by hand
# (their failures must be clear without SLURM), then in the SLURM lab
# (tests/slurm-lab/run: slurmctld and four slurmd on this machine) around
# slurm/asoc_benchmark.slurm: a four-node job, then a two-task job array on
# the same nodes, whose daemons must not hear of each other.
#
#   tests/slurm-lab/run -- bash tests/test-slurm.sh     (make check-slurm)
# shellcheck source=tests/lib.sh
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib.sh"

S=${top_srcdir:-$(cd "$(dirname "$0")/.." && pwd)}
PROLOG=$S/slurm/asoc-prolog
EPILOG=$S/slurm/asoc-epilog
SCRIPT=$S/slurm/asoc_benchmark.slurm
# The job user of the by-hand runs: not root, so that setpriv shows.
NOBODY=$(id -u nobody)
NOGROUP=$(id -g nobody)
# lib.sh's folder is 0700; nobody's daemon must reach its socket folder.
chmod 0755 "$T"

# --- by hand, without SLURM -----------------------------------------------------------
# hand_conf FILE LINES...: a settings file like /etc/asoc/slurm.conf.
hand_conf() {
	local f=$1
	shift
	printf '%s\n' "$@" >"$f"
}
# Nodes a1 and a2 at 127.0.0.21 and .22; a port base drawn like lib.sh's.
printf 'a1 127.0.0.21\na2 127.0.0.22\n' >"$T/addrs"
HBASE=$((20000 + (RANDOM % 400) * 100))
# Pinned to the first CPU this test may use.
CPU=$(awk '$1 == "Cpus_allowed_list:" { print $2 }' /proc/self/status | cut -d, -f1 | cut -d- -f1)
(umask 077 && head -c 32 /dev/urandom >"$T/site.key")
hand_conf "$T/hand.conf" "ASOCD=$ASOCD" "PORT_BASE=$HBASE # a comment" \
	"RUN_DIR='$T/run'" "NODE_ADDRS=\"$T/addrs\"" "TRANSPORT=tcp" "export LOG_LEVEL=debug" \
	"CPU_LIST=$CPU" "KEEP_LOGS_DIR=$T/kept" "SITE_KEY=$T/site.key"
# hand SCRIPT JOBID [VAR=value...]: the prolog or epilog as slurmd runs it
# (no PATH, only its variables), on node a1 of a[1-2], as nobody.
hand() {
	local script=$1 job=$2
	shift 2
	env -i ASOC_SLURM_CONF="$T/hand.conf" SLURM_JOB_ID="$job" SLURM_JOB_UID="$NOBODY" \
		SLURM_JOB_GID="$NOGROUP" SLURM_JOB_USER=nobody SLURM_NODELIST='a[1-2]' \
		SLURMD_NODENAME=a1 "$@" "$script"
}
# owner_mode PATH: "uid gid mode"
owner_mode() { stat -c '%u %g %a' "$1"; }
# gone PID: exited (a zombie not yet reaped by init has).
gone() {
	local st
	read -r st 2>/dev/null </proc/"$1"/stat || return 0
	st=${st##*) }
	[ "${st%% *}" = Z ]
}

check "the prolog starts asocd by hand (job 7 on a1 of a[1-2])" hand "$PROLOG" 7
check "job 7's folder is 0700 and the job user's" \
	test "$(owner_mode "$T/run/7")" = "$NOBODY $NOGROUP 700"
hpid=$(cat "$T/run/7/asocd.pid" 2>/dev/null || echo none)
check "job 7's asocd runs as the job user, not root" \
	bash -c "awk '\$1 == \"Uid:\" { print \$2, \$3 } \$1 == \"Gid:\" { print \$2 }' /proc/$hpid/status | tr '\n' ' ' | grep -qx '$NOBODY $NOBODY $NOGROUP '"
check "job 7's asocd is pinned to CPU_LIST=$CPU" \
	grep -qx "Cpus_allowed_list:[[:space:]]*$CPU" "/proc/$hpid/status"
check "job 7's asocd is rank 0 of 2, community 7, on 127.0.0.21:$((HBASE + 7))" \
	grep -q "listening for peers on 127.0.0.21:$((HBASE + 7)) .*" "$T/run/7/asocd.log"
check "  ...and says so" grep -q "ready: rank 0 of 2, community '7'" "$T/run/7/asocd.log"
# job_key JOBID: the key every node derives for a job from the site key.
job_key() {
	printf 'asoc-job-key:%s' "$1" | openssl dgst -sha256 -mac HMAC \
	    -macopt "hexkey:$(od -An -vtx1 "$T/site.key" | tr -d ' \n')" -binary | od -An -vtx1
}
check "job 7's key is the job user's, mode 0600, 32 bytes" \
	test "$(stat -c '%u %a %s' "$T/run/7/asocd.key" 2>/dev/null)" = "$NOBODY 600 32"
check "  ...handed to asocd with --key-file" \
	grep -qF -- "--key-file$(printf '\001')$T/run/7/asocd.key" <(tr '\0' '\001' <"/proc/$hpid/cmdline")
key7=$(od -An -vtx1 "$T/run/7/asocd.key" 2>/dev/null)
check "  ...every node derives the same key for job 7" test "$key7" = "$(job_key 7)"
check "  ...and job 8 gets another" test "$(job_key 7)" != "$(job_key 8)"
check "asoc-stat reaches job 7's asocd" bash -c "'$STAT' --socket '$T/run/7/asocd.sock' | grep -q '127.0.0.22:$((HBASE + 7))'"

# Job 1007 wants the same port on the same node: asocd fails, and the
# prolog must say why, with the log, and leave nothing behind.
check_fails "a prolog whose asocd fails shows asocd's log" "cannot listen on 127.0.0.21:$((HBASE + 7)): address already in use" \
	hand "$PROLOG" 1007
cp "$T/out" "$T/prolog-1007.out"
check "  ...names the port clash and the drain" \
	bash -c "grep -q 'differs from 1007 by a multiple of 1000' '$T/prolog-1007.out' && grep -q 'will be drained' '$T/prolog-1007.out'"
check "  ...removes job 1007's folder" test ! -e "$T/run/1007"
check "  ...keeps its log in KEEP_LOGS_DIR" grep -q "address already in use" "$T/kept/asocd-1007-a1.log"
check "  ...and leaves job 7's asocd alone" kill -0 "$hpid"

hand_conf "$T/bogus.conf" "ASOCD=/nonexistent/sbin/asocd" "RUN_DIR=$T/run"
check_fails "a prolog with a bogus ASOCD says what to fix" \
	"asocd not found: ASOCD=/nonexistent/sbin/asocd is not an executable file; install asocd there or set ASOCD= in $T/bogus.conf" \
	hand "$PROLOG" 8 ASOC_SLURM_CONF="$T/bogus.conf"
check "  ...and makes no folder" test ! -e "$T/run/8"
check_fails "a prolog on a node missing from the job" "this node (zz) is not in SLURM_NODELIST='a\[1-2\]'" \
	hand "$PROLOG" 9 SLURMD_NODENAME=zz
check_fails "a node missing from NODE_ADDRS" "node a3 of the job is not in NODE_ADDRS" \
	hand "$PROLOG" 9 SLURM_NODELIST='a[1-3]'
check_fails "a bad hostlist" "cannot expand SLURM_NODELIST='a\[1-2': .*unbalanced" \
	hand "$PROLOG" 9 SLURM_NODELIST='a[1-2'
hand_conf "$T/typo.conf" "ASOCD=$ASOCD" "RUN_DIR=$T/run" "INTERFCE=eth0"
check_fails "a misspelt setting" "typo.conf:3: unknown setting 'INTERFCE'" \
	hand "$PROLOG" 9 ASOC_SLURM_CONF="$T/typo.conf"
hand_conf "$T/chunk.conf" "ASOCD=$ASOCD" "RUN_DIR=$T/run" "NODE_ADDRS=$T/addrs" "CHUNK_SIZE=1"
check_fails "a setting asocd refuses: its message is shown" "asocd said: asocd: --chunk-size" \
	hand "$PROLOG" 9 ASOC_SLURM_CONF="$T/chunk.conf"
chmod 0666 "$T/typo.conf"
check_fails "a settings file others may write is refused" "must belong to root and be writable by root only" \
	hand "$PROLOG" 9 ASOC_SLURM_CONF="$T/typo.conf"
check_fails "the prolog without SLURM's variables" "SLURMD_NODENAME is not set" \
	env -i SLURM_JOB_ID=9 SLURM_JOB_UID=0 SLURM_JOB_GID=0 SLURM_NODELIST=a1 "$PROLOG"
check "no folder was left by the failures" bash -c "[ \"\$(ls '$T/run')\" = 7 ]"

# A pidfile is the job user's to write: the epilog must not kill what it
# names unless it is the job's asocd.
setpriv --reuid="$NOBODY" --regid="$NOGROUP" --clear-groups sleep 60 &
decoy=$!
BGPIDS+=("$decoy")
echo "$decoy" >"$T/run/7/asocd.pid"
check "the epilog stops job 7's asocd (SIGTERM)" hand "$EPILOG" 7
check "  ...which is gone" gone "$hpid"
check "  ...with its folder" test ! -e "$T/run/7"
check "  ...but not the process a forged pidfile named" kill -0 "$decoy"
check "  ...and keeps the log" grep -q "signal 15" "$T/kept/asocd-7-a1.log"
check "the epilog again: nothing there, exit 0" hand "$EPILOG" 7
check "the epilog of a job never started: exit 0" hand "$EPILOG" 12345

# A requeued job runs its prolog again on a node that may still hold the
# first run's folder and daemon: they are replaced, not kept.
hand "$PROLOG" 21 >/dev/null 2>&1
old=$(cat "$T/run/21/asocd.pid" 2>/dev/null || echo none)
check "a second prolog of job 21 replaces the leftover daemon" hand "$PROLOG" 21
new=$(cat "$T/run/21/asocd.pid" 2>/dev/null || echo none)
check "  ...the old one is gone, the new one serves" \
	bash -c "[ '$old' != '$new' ] && '$STAT' --socket '$T/run/21/asocd.sock' >/dev/null"
check "  ...and the leftover process is gone" gone "$old"

# A daemon that does not stop on SIGTERM (here: stopped) gets SIGKILL
# after 10 s.
kill -STOP "$new" 2>/dev/null
t0=$SECONDS
check "the epilog SIGKILLs an asocd that ignores SIGTERM" hand "$EPILOG" 21
cp "$T/out" "$T/epilog-21.out"
check "  ...after 10 s, and says so" \
	bash -c "grep -q 'still running 10 s after SIGTERM: sending SIGKILL' '$T/epilog-21.out' && [ $((SECONDS - t0)) -ge 10 ]"
check "  ...it is gone" gone "$new"
check "  ...and its folder" test ! -e "$T/run/21"

# --- in the SLURM lab ---------------------------------------------------------------
if [ -z "${SLURM_CONF:-}" ] || [ -z "${ASOC_LAB_NODES:-}" ] || ! sinfo >/dev/null 2>&1; then
	not_ok "the SLURM part needs the lab: tests/slurm-lab/run -- bash tests/test-slurm.sh"
	finish
	exit 1
fi
KEPT=$(sed -n 's/^KEEP_LOGS_DIR=//p' "$ASOC_SLURM_CONF")
J=$T/jobs
mkdir -p "$J"
chmod 0755 "$J"

# job_field JOB KEY: a field of scontrol show job (while slurmctld keeps it).
job_field() { scontrol -o show job "$1" | grep -o "\b$2=[^ ]*" | head -1 | cut -d= -f2-; }

# wait_gone JOB: until the job has left squeue, its epilogs done.
wait_gone() {
	local t
	for ((t = 0; t < 300; t++)); do
		[ -n "$(squeue -h -j "$1" -o %i 2>/dev/null)" ] || return 0
		sleep 0.1
	done
	return 1
}

# job_clean JOB: nothing of the job's asocd is left on any node: no
# process (the pids its four logs name, and any asocd with its socket),
# no socket, no folder in any node's RUN_DIR.
job_clean() {
	local job=$1 pids p n
	pids=$(sed -n 's/^.* asocd\[\([0-9]*\)\].*/\1/p' "$KEPT"/asocd-"$job"-n?.log | sort -u)
	[ "$(wc -w <<<"$pids")" = 4 ] || { echo "expected 4 daemons in the logs of job $job, found: $pids"; return 1; }
	for p in $pids; do
		if ! gone "$p" && grep -qa "$ASOC_RUN_DIR/$job/" "/proc/$p/cmdline"; then
			echo "asocd pid $p of job $job still runs"
			return 1
		fi
	done
	if pgrep -f -- "--socket $ASOC_RUN_DIR/$job/asocd.sock" >/dev/null; then
		echo "an asocd with job $job's socket still runs: $(pgrep -af -- "--community $job ")"
		return 1
	fi
	for n in n1 n2 n3 n4; do
		[ ! -e "$ASOC_LAB_NODES/$n/run/$job/asocd.sock" ] || { echo "$n: socket left"; return 1; }
		[ ! -e "$ASOC_LAB_NODES/$n/run/$job" ] || { echo "$n: folder left: $(ls -la "$ASOC_LAB_NODES/$n/run/$job")"; return 1; }
	done
}

# job_logs_ok JOB: its four daemons were ranks 0-3 of 4 in community JOB,
# and none refused a peer or met a foreign rank.
job_logs_ok() {
	local job=$1 r n
	for ((r = 0; r < 4; r++)); do
		n=n$((r + 1))
		grep -q "ready: rank $r of 4, community '$job'" "$KEPT/asocd-$job-$n.log" ||
			{ echo "$n: no 'rank $r of 4, community '$job''"; cat "$KEPT/asocd-$job-$n.log"; return 1; }
	done
	if grep -E "refused|mismatch|answers as rank|claims rank|failed" "$KEPT"/asocd-"$job"-n?.log; then
		return 1
	fi
	# Every peer connection proved the job key and, with the lab's munged,
	# the job user's uid.
	grep -hE "(connected to|accepted) rank" "$KEPT"/asocd-"$job"-n?.log >"$T/conns" || true
	[ -s "$T/conns" ] || { echo "job $job: no peer connection in its logs"; return 1; }
	if grep -v "key and MUNGE uid proven" "$T/conns"; then
		echo "job $job: connections above without both proofs"
		return 1
	fi
}

# bench_ok OUT JOB: the job's output says it all went well.
bench_ok() {
	local out=$1 job=$2 r
	grep -q "^asoc-bench: job $job .*on 4 nodes" "$out" || { echo "no header naming job $job"; return 1; }
	grep -q "socket $ASOC_RUN_DIR/$job/asocd.sock" "$out" || { echo "not job $job's socket"; return 1; }
	grep -q "data verified on 3 of 3 receivers" "$out" || { echo "not verified on 3 of 3"; return 1; }
	for ((r = 1; r < 4; r++)); do
		grep -Eq "^0: peer $r +5 of 5 .* verified$" "$out" || { echo "no verified result for rank $r"; return 1; }
	done
	# Every node's asoc-stat: its rank, a world of 4, its transfers done.
	for ((r = 0; r < 4; r++)); do
		grep -Eq "^$r: rank +$r$" "$out" || { echo "task $r did not report rank $r"; return 1; }
	done
	[ "$(grep -Ec '^[0-3]: world +4$' "$out")" = 4 ] || { echo "not four reports of a world of 4"; return 1; }
	grep -q "^asoc-bench: exit status 0$" "$out" || return 1
}

# 1. One job on four nodes, and beside it the same job of another user
# (nobody, with sbatch --uid): each job's daemons run as its own user and
# serve that user's clients.
t0=$SECONDS
# The script's defaults (sbatch passes our environment to the job).
unset ASOC_PATTERN TENSOR_MB ITERATIONS WARMUP
chmod 1777 "$J" # nobody's job writes its output here
(cd "$J" && sbatch --wait --parsable "$SCRIPT") >"$T/sbatch1" 2>&1 &
s1=$!
(cd "$J" && sbatch --wait --parsable --uid=nobody "$SCRIPT") >"$T/sbatch-nobody" 2>&1 &
s2=$!
BGPIDS+=("$s1" "$s2")
if wait "$s1"; then
	ok "sbatch --wait asoc_benchmark.slurm on four nodes succeeded ($((SECONDS - t0)) s)"
else
	not_ok "sbatch --wait asoc_benchmark.slurm on four nodes" "$T/sbatch1" "$J"/*.out
fi
if wait "$s2"; then
	ok "the same as user nobody (sbatch --uid=nobody) succeeded ($((SECONDS - t0)) s)"
else
	not_ok "the same as user nobody (sbatch --uid=nobody)" "$T/sbatch-nobody" "$J"/*.out
fi
job=$(grep -Eo '^[0-9]+' "$T/sbatch1" | tail -1 || true)
job=${job:-none}
njob=$(grep -Eo '^[0-9]+' "$T/sbatch-nobody" | tail -1 || true)
njob=${njob:-none}
for j in "$job" "$njob"; do
	check "job $j left squeue (epilogs done)" wait_gone "$j"
	check "job $j: COMPLETED, exit code 0:0" \
		test "$(job_field "$j" JobState) $(job_field "$j" ExitCode)" = "COMPLETED 0:0"
	check "job $j: every rank reported, data verified on 3 of 3 receivers" bench_ok "$J/asoc-bench-$j.out" "$j"
	check "job $j's daemons: ranks 0-3 of 4 in community $j, no refusal" job_logs_ok "$j"
	check "job $j: no asocd process, socket or folder left" job_clean "$j"
done
# asocd takes clients of its own user only (and root's): nobody's clients
# were served, so nobody's daemons ran as nobody.
check "job $njob: its four daemons served clients of uid $NOBODY (they ran as nobody)" \
	test "$(grep -l "(uid $NOBODY) connected" "$KEPT"/asocd-"$njob"-n?.log | wc -l)" = 4

# 2. A job array: two tasks on the same four nodes, at the same time if
# the scheduler can (each takes one CPU of the two per node).
t0=$SECONDS
if (cd "$J" && sbatch --wait --parsable --array=0-1 --nodes=4 "$SCRIPT") >"$T/sbatch2" 2>&1; then
	ok "sbatch --wait --array=0-1 --nodes=4 succeeded ($((SECONDS - t0)) s)"
else
	not_ok "sbatch --wait --array=0-1 --nodes=4" "$T/sbatch2" "$J"/*.out
fi
arr=$(grep -Eo '^[0-9]+' "$T/sbatch2" | tail -1 || true)
arr=${arr:-none}
mapfile -t tasks < <(scontrol -o show job "$arr" 2>/dev/null | grep -o '\bJobId=[0-9]*' | cut -d= -f2 | sort -n)
check "array $arr has two tasks with their own job ids (${tasks[*]})" \
	bash -c "[ ${#tasks[@]} = 2 ] && [ '${tasks[0]:-x}' != '${tasks[1]:-x}' ]"
for task in "${tasks[@]}"; do
	check "task $task left squeue (epilogs done)" wait_gone "$task"
	check "task $task: COMPLETED, exit code 0:0" \
		test "$(job_field "$task" JobState) $(job_field "$task" ExitCode)" = "COMPLETED 0:0"
	check "task $task: its own job id and socket in its output, verified on 3 of 3" \
		bench_ok "$J/asoc-bench-$task.out" "$task"
	check "task $task's daemons: community $task, ranks 0-3 of 4, no refused peer or foreign rank" \
		job_logs_ok "$task"
	check "task $task: no asocd process, socket or folder left" job_clean "$task"
done
if [ ${#tasks[@]} = 2 ]; then
	a=${tasks[0]} b=${tasks[1]}
	pa=$(sed -n 's/.*listening for peers on 127.0.0.11:\([0-9]*\).*/\1/p' "$KEPT/asocd-$a-n1.log")
	pb=$(sed -n 's/.*listening for peers on 127.0.0.11:\([0-9]*\).*/\1/p' "$KEPT/asocd-$b-n1.log")
	check "the two tasks' daemons used their own ports ($pa, $pb)" \
		bash -c "[ -n '$pa' ] && [ -n '$pb' ] && [ '$pa' != '$pb' ]"
	# Each task's peers are its own: every connection a daemon logs is to
	# an address:port of its own task.
	check "no daemon of one task connected to the other's port" \
		bash -c "! grep -h '127\\.0\\.0\\.1[1-4]:$pb\\b' '$KEPT'/asocd-$a-n?.log && ! grep -h '127\\.0\\.0\\.1[1-4]:$pa\\b' '$KEPT'/asocd-$b-n?.log"
	# Say whether they overlapped (the crosstalk check means most then):
	# task b's first daemon was ready before task a's last one stopped.
	ra=$(grep -h ' ready: ' "$KEPT"/asocd-"$b"-n?.log | cut -c1-23 | sort | head -1)
	sa=$(grep -h ' stopped$' "$KEPT"/asocd-"$a"-n?.log | cut -c1-23 | sort | tail -1)
	if [[ -n $ra && -n $sa && $ra < $sa ]]; then
		ok "the two tasks ran at the same time on the same nodes ($ra < $sa)"
	else
		ok "the two tasks did not overlap this time (task $b ready $ra, task $a stopped $sa)"
	fi
fi
# 3. A job of nobody's, running, and another user ("daemon") on its nodes:
# that user's client can reach neither the job's socket nor, with a daemon
# of its own that claims a rank of the job, its daemons as a peer.
OTHER=daemon
t0=$SECONDS
(cd "$J" && sbatch --parsable --uid=nobody --nodes=4 --ntasks-per-node=1 \
	--output="$J/hold-%j.out" --wrap 'sleep 60') >"$T/sbatch3" 2>&1 || true
hold=$(grep -Eo '^[0-9]+' "$T/sbatch3" | tail -1 || true)
hold=${hold:-none}
hold_running() {
	local n
	[ "$(job_field "$hold" JobState)" = RUNNING ] || return 1
	for n in n1 n2 n3 n4; do [ -S "$ASOC_LAB_NODES/$n/run/$hold/asocd.sock" ] || return 1; done
}
for ((t = 0; t < 300; t++)); do hold_running && break; sleep 0.1; done
check "job $hold of nobody is running, its daemons serving on four nodes" hold_running
hsock=$ASOC_LAB_NODES/n1/run/$hold/asocd.sock
check "the job's folder is nobody's and mode 0700" \
	test "$(stat -c '%U %a' "$ASOC_LAB_NODES/n1/run/$hold")" = "nobody 700"
check_fails "another user's client cannot reach the job's socket" "another user's or job's" \
	setpriv --reuid "$OTHER" --regid "$(id -g $OTHER)" --clear-groups \
	"$B/client/asoc-stat" --socket "$hsock"
check_fails "nor send through it" "another user's or job's" \
	setpriv --reuid "$OTHER" --regid "$(id -g $OTHER)" --clear-groups \
	"$B/tests/asoc-xfer-check" --socket "$hsock" self --size 4096
# The intruder's daemon: the job's community and peer list, rank 3, its
# own address, and a key of its own (it cannot read the job's).
hport=$(sed -n 's/.*listening for peers on 127.0.0.11:\([0-9]*\).*/\1/p' \
	"$ASOC_LAB_NODES/n1/run/$hold/asocd.log" | head -1)
X=$T/intruder
mkdir -m 700 "$X"
head -c 32 /dev/urandom >"$X/key"
chmod 600 "$X/key"
chown -R "$OTHER" "$X"
setpriv --reuid "$OTHER" --regid "$(id -g $OTHER)" --clear-groups "$ASOCD" -f \
	--peers "127.0.0.11:$hport,127.0.0.12:$hport,127.0.0.13:$hport,127.0.0.14:$hport" \
	--rank 3 --listen 127.0.0.15 --port "$hport" --community "$hold" --transport tcp \
	--key-file "$X/key" --socket "$X/s.sock" --log-file "$X/d.log" --connection-timeout 5 \
	--munge-socket "$(sed -n 's/^MUNGE_SOCKET=//p' "$ASOC_SLURM_CONF")" &
DAEMONS+=($!)
for ((t = 0; t < 100; t++)); do [ -S "$X/s.sock" ] && break; sleep 0.1; done
check_fails "the intruder's daemon cannot join the job as a peer" "key mismatch" \
	setpriv --reuid "$OTHER" --regid "$(id -g $OTHER)" --clear-groups \
	"$B/tests/asoc-xfer-check" --socket "$X/s.sock" send --to 0 --size 4096
check "the job's rank 0 logged the failed handshake with the intruder" \
	grep -q "handshake with rank 3 .* failed: refused us: key mismatch" \
	"$ASOC_LAB_NODES/n1/run/$hold/asocd.log"
kill -TERM "${DAEMONS[-1]}" 2>/dev/null || true
scancel "$hold" 2>/dev/null || true
check "job $hold left squeue (epilogs done)" wait_gone "$hold"
check "job $hold: no asocd process, socket or folder left" job_clean "$hold"

check "every node's RUN_DIR is empty after all jobs" \
	bash -c "[ -z \"\$(find '$ASOC_LAB_NODES'/n?/run -mindepth 1 | tee /dev/stderr)\" ]"
check "no node was drained" bash -c "[ \"\$(sinfo -h -t drain,down -o %D)\" = '' ]"
finish
