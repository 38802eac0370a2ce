#!/usr/bin/env bash
# The fuzz targets' seed corpora and kept crashes (tests/fuzz/corpus and
# tests/fuzz/regress), run through each target with driver.c: the crashes
# that make check-fuzz once found stay fixed, with any compiler, in make
# check and make distcheck.  One input per process, so a crash names it.
set -euo pipefail
src=${top_srcdir:-$(cd "$(dirname "$0")/.." && pwd)}
B=${top_builddir:-$src}
npass=0
nfail=0
for t in ${FUZZ_TARGETS:?run through make check}; do
	name=${t##*/fuzz-}
	n=0
	for f in "$src/tests/fuzz/corpus/$name"/* "$src/tests/fuzz/regress/$name"/*; do
		[ -f "$f" ] || continue
		n=$((n + 1))
		if "$B/$t" "$f" >"$B/tests/fuzz/regress-$name.out" 2>&1; then
			npass=$((npass + 1))
		else
			nfail=$((nfail + 1))
			echo "FAIL - $name: ${f#"$src"/}"
			sed 's/^/    /' "$B/tests/fuzz/regress-$name.out"
		fi
	done
	rm -f "$B/tests/fuzz/regress-$name.out"
	if [ "$n" -eq 0 ]; then
		echo "FAIL - $name: no inputs in tests/fuzz/corpus/$name"
		nfail=$((nfail + 1))
	else
		echo "ok - $name: $n inputs"
	fi
done
echo "$npass passed, $nfail failed"
[ "$nfail" -eq 0 ]
