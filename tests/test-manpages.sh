#!/bin/bash
# test-manpages.sh: every page in man/ must pass mandoc's linter with no
# warning or error (groff's warnings when mandoc is missing), and must name
# every option that its program's source defines, so that the pages and the
# code cannot drift apart unnoticed.
#
# Runs from any directory: the sources are found at $top_srcdir (set by
# "make check"), else the current directory.  The last line of output is
# "N passed, M failed"; the exit status is 0 only when nothing failed
# (77, "skipped", when neither mandoc nor groff is installed).
set -eu

srcdir=${top_srcdir:-.}
mandir=$srcdir/man
passed=0
failed=0

pass() {
	passed=$((passed + 1))
	echo "PASS: $1"
}

fail() {
	failed=$((failed + 1))
	echo "FAIL: $1"
}

if command -v mandoc >/dev/null 2>&1; then
	linter=mandoc
elif command -v groff >/dev/null 2>&1; then
	linter=groff
else
	echo "neither mandoc nor groff is installed: cannot check the pages"
	echo "0 passed, 0 failed"
	exit 77
fi

# Prints the linter's complaints about one page, nothing when it is clean.
# mandoc -Tlint -Wwarning reports WARNING, ERROR, UNSUPP and BADARG lines
# (STYLE ones are below the -W level) and exits non-zero with any of them;
# groff -ww prints every warning on standard error.
lint() {
	local out rc=0

	if [ "$linter" = mandoc ]; then
		out=$(mandoc -Tlint -Wwarning "$1" 2>&1) || rc=$?
		out=$(printf '%s\n' "$out" |
		    grep -E ': (WARNING|ERROR|UNSUPP|BADARG): ' || true)
	else
		out=$(groff -ww -mandoc -Tutf8 -z "$1" 2>&1) || rc=$?
	fi
	if [ -n "$out" ]; then
		printf '%s\n' "$out"
	elif [ "$rc" -ne 0 ]; then
		echo "$linter exited with status $rc"
	fi
}

pages=0
for page in "$mandir"/*.[0-9]; do
	[ -f "$page" ] || continue
	pages=$((pages + 1))
	name=${page##*/}
	problems=$(lint "$page")
	if [ -z "$problems" ]; then
		pass "$name: $linter finds nothing to complain about"
	else
		fail "$name: $linter complains:"
		printf '%s\n' "$problems" | sed 's/^/    /'
	fi
done
if [ "$pages" -eq 0 ]; then
	fail "no man pages found in $mandir (is top_srcdir right?)"
fi

# --- the pages against the code ---

# Succeeds when PAGE holds "MACRO NAME" as whole words, NAME's hyphens
# escaped as mdoc wants them ("Fl \-log\-file"); NAME is [A-Za-z0-9_-]*.
page_names() {
	local re

	re=$(printf '%s' "$3" | sed 's/-/\\\\-/g')
	grep -qE "(^|[[:space:]])$2 $re([[:space:]]|\$)" "$1"
}

# The long options of a CLI: the entries of its cli_opt table ({ "name",
# 'k' or CLI_LONG_ONLY), and those of client/cli-opt.c it takes: --help and
# --version always, --socket, --quiet, --tag and --timeout when it says
# CLI_COMMON_*.
cli_options() {
	grep -o "{ \"[a-z][a-z0-9-]*\", *\\('.'\\|CLI_LONG_ONLY\\)" "$1" |
	    sed 's/^{ "\([^"]*\)".*/\1/'
	echo help
	echo version
	if grep -q CLI_COMMON_SOCKET "$1"; then echo socket; fi
	if grep -q CLI_COMMON_QUIET "$1"; then echo quiet; fi
	if grep -q CLI_COMMON_STREAM "$1"; then echo tag; echo timeout; fi
}

# The long options (and config file keys) of asocd: its conf_opts table.
daemon_options() {
	sed -n '/conf_opts\[\] = {/,/^};/p' "$1" |
	    grep -o '^[[:space:]]*{ "[a-z][a-z0-9-]*"' |
	    sed 's/.*"\(.*\)"/\1/'
}

# The environment variables of asocd's conf_opts table.
daemon_environment() {
	sed -n '/conf_opts\[\] = {/,/^};/p' "$1" |
	    grep -o '"ASOC_[A-Z0-9_]*"' | tr -d '"'
}

# check_names PAGE WHAT MACRO NAME...: PAGE must hold "MACRO NAME" for
# every NAME (for Fl, "Fl \-NAME").
check_names() {
	local page=$1 what=$2 macro=$3 name missing=""

	shift 3
	if [ ! -f "$mandir/$page" ]; then
		fail "$page is missing, so its $what cannot be checked"
		return
	fi
	if [ "$#" -eq 0 ]; then
		fail "$page: found no $what in the source to check"
		return
	fi
	for name in "$@"; do
		if [ "$macro" = Fl ]; then
			page_names "$mandir/$page" Fl "-$name" ||
			    missing="$missing --$name"
		else
			page_names "$mandir/$page" "$macro" "$name" ||
			    missing="$missing $name"
		fi
	done
	if [ -z "$missing" ]; then
		pass "$page names all $# $what"
	else
		fail "$page does not name these $what:$missing"
	fi
}

conf=$srcdir/daemon/conf.c
if [ -f "$conf" ]; then
	# shellcheck disable=SC2046 # one word per option is what we want
	check_names asocd.8 "options of daemon/conf.c" Fl \
	    $(daemon_options "$conf")
	# shellcheck disable=SC2046
	check_names asocd.8 "environment variables of daemon/conf.c" Ev \
	    $(daemon_environment "$conf")
	# shellcheck disable=SC2046
	check_names asocd.conf.5 "settings of daemon/conf.c" Cm \
	    $(daemon_options "$conf" | grep -vx config)
fi
for prog in asoc-send asoc-recv asoc-stat asoc-bench asoc-info; do
	src=$srcdir/client/$prog.c
	[ -f "$src" ] || continue
	# shellcheck disable=SC2046
	check_names "$prog.1" "options of client/$prog.c" Fl \
	    $(cli_options "$src")
done

# man asoc_isend: every function of asoc.h is named in libasoc.3's NAME
# section (for apropos and whatis) and has an install link in Makefile.am.
header=$srcdir/client/asoc.h
if [ -f "$header" ]; then
	fns=$(grep -o '\basoc_[a-z0-9_]*(' "$header" | tr -d '(' | sort -u)
	links=$(sed -n '/^LIBASOC_MAN_LINKS =/,/[^\\]$/p' "$srcdir/Makefile.am" |
	    tr -s ' \t\\' '\n' | grep '^asoc_' || true)
	nm=$(sed -n '/^\.Sh NAME/,/^\.Sh SYNOPSIS/p' "$mandir/libasoc.3" |
	    sed -n 's/^\.Nm \(asoc_[a-z0-9_]*\).*/\1/p')
	no_link="" no_nm=""
	for f in $fns; do
		printf '%s\n' "$links" | grep -qx "$f" || no_link="$no_link $f"
		printf '%s\n' "$nm" | grep -qx "$f" || no_nm="$no_nm $f"
	done
	if [ -z "$fns" ]; then
		fail "found no asoc_ function in $header"
	elif [ -z "$no_link" ]; then
		pass "every function of asoc.h ($(echo $fns | wc -w)) has a man link in Makefile.am"
	else
		fail "no man link in Makefile.am's LIBASOC_MAN_LINKS for:$no_link"
	fi
	if [ -n "$fns" ] && [ -z "$no_nm" ]; then
		pass "libasoc.3's NAME section names every function of asoc.h"
	elif [ -n "$fns" ]; then
		fail "libasoc.3's NAME section does not name:$no_nm"
	fi
fi

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
