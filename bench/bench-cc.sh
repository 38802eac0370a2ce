# shellcheck shell=bash
# shellcheck disable=SC2034 # REF_*, ref_run, ref_cc_opts: for the sourcing script
# bench-cc.sh: the one TCP congestion control a bench gives asocd and the
# programs it is measured against, so that a ratio compares programs, not
# two congestion controls.  Sourced (by bench-lib.sh, bench/bcast-scaling
# and bench/tcp-vs-iperf3), not run; the sourcing script defines say.
#
# Why it matters: asocd's peer connections use cubic unless told
# otherwise (asocd.conf(5) tcp-congestion), the kernel's default may be
# another (bbr on this project's machines, whose pacing halved loopback
# TCP for every program), and sockperf, ucx_perftest and Open MPI cannot
# choose theirs: they take the default of the network namespace they run
# in.  So the references run in a namespace of their own whose default is
# the chosen one.
#
# Which one: ASOC_BENCH_CC if set, else asocd's own default, read from
# `asocd --help` so that it is written only in daemon/tcp_cc.h.  A kernel
# may refuse it as a namespace's default: outside the first namespace
# only those in net.ipv4.tcp_allowed_congestion_control may be chosen
# (seen: "reno bbr" on one machine of this kind, cubic on another).  Then
# reno, which on a link without loss behaves as cubic does (it grows the
# window, it does not pace).  Failing both, or when not root, asocd and
# the references all keep the kernel's default.

REF_CC=		# what asoc and the references use
REF_NS=		# the references' namespace, when one was made
ref_run=()	# "${ref_run[@]}" CMD runs CMD in it (CMD's own pid with &)
ref_cc_opts=()	# asocd's options for REF_CC

# bench_cc_default ASOCD: asocd's default congestion control, from its
# --help ("(default NAME;"); cubic if that cannot be read.
bench_cc_default() {
	local d
	d=$("$1" --help 2>/dev/null | sed -n \
	    's/.*--tcp-congestion NAME.*(default \([A-Za-z0-9_-]*\);.*/\1/p')
	echo "${d:-cubic}"
}

# bench_cc_kernel: the kernel's default in this namespace.
bench_cc_kernel() {
	cat /proc/sys/net/ipv4/tcp_congestion_control 2>/dev/null || echo '?'
}

# bench_cc_allowed: what a namespace other than the first may default to.
bench_cc_allowed() {
	cat /proc/sys/net/ipv4/tcp_allowed_congestion_control 2>/dev/null
}

# bench_cc_fallback KERNEL WHY [NAMESPACE]: the kernel's default KERNEL
# for asocd and the references alike, said with WHY; NAMESPACE (a probe
# made for nothing) deleted.
bench_cc_fallback() {
	if [ -n "${3:-}" ]; then
		ip netns del "$3" 2>/dev/null || true
	fi
	REF_NS=
	REF_CC=$1
	ref_cc_opts=(--tcp-congestion system)
	say "TCP congestion control: the kernel's $1 for asoc and the references ($2)"
}

# bench_cc_pick ASOCD [ns]: sets REF_CC and ref_cc_opts; with "ns", also
# makes the references' namespace when they need one (REF_NS, ref_run;
# the caller deletes REF_NS on exit).  Without "ns", REF_CC is only
# checked against a scratch namespace, for callers that make their own
# (netns-cluster.sh sets it as each node's default).
bench_cc_pick() {
	local kernel want c probe
	local -a cands
	kernel=$(bench_cc_kernel)
	want=${ASOC_BENCH_CC:-$(bench_cc_default "$1")}
	cands=("$want")
	[ -n "${ASOC_BENCH_CC:-}" ] || [ "$want" = reno ] || cands+=(reno)
	if [ "$kernel" = "$want" ]; then
		REF_CC=$want
		ref_cc_opts=(--tcp-congestion "$REF_CC")
		say "TCP congestion control: $REF_CC for asoc and the references (the kernel's default)"
		return 0
	fi
	if [ "$(id -u)" -ne 0 ]; then
		bench_cc_fallback "$kernel" "not root: no namespace to give them $want"
		return 0
	fi
	probe=asoc-cc-$$
	[ "${2:-}" != ns ] || probe=asoc-ref-$$
	# In REF_NS at once, so that the caller's clean-up deletes it.
	[ "${2:-}" != ns ] || REF_NS=$probe
	if ! { ip netns add "$probe" && ip -n "$probe" link set lo up; }; then
		bench_cc_fallback "$kernel" "no network namespace could be made" "$probe"
		return 0
	fi
	REF_CC=
	for c in "${cands[@]}"; do
		if ip netns exec "$probe" sysctl -qw \
		    net.ipv4.tcp_congestion_control="$c" 2>/dev/null; then
			REF_CC=$c
			break
		fi
	done
	if [ -z "$REF_CC" ]; then
		bench_cc_fallback "$kernel" "a namespace may not default to ${cands[*]}: net.ipv4.tcp_allowed_congestion_control is '$(bench_cc_allowed)'" "$probe"
		return 0
	fi
	ref_cc_opts=(--tcp-congestion "$REF_CC")
	if [ "${2:-}" = ns ]; then
		ref_run=(ip netns exec "$REF_NS")
		say "TCP congestion control: $REF_CC for asoc and the references (the kernel's default is $kernel; the references run in namespace $REF_NS)"
	else
		ip netns del "$probe" 2>/dev/null || true
		say "TCP congestion control: $REF_CC for asoc and the references (the kernel's default is $kernel)"
	fi
	[ "$REF_CC" = "$want" ] ||
	    say "($want may not be a namespace's default here: net.ipv4.tcp_allowed_congestion_control is '$(bench_cc_allowed)'; $REF_CC behaves alike on a link without loss)"
}
