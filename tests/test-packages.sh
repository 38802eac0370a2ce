#!/usr/bin/env bash
# make check-packages: the packages an admin installs, built and used as
# an admin would.  From a copy of the source (make dist's tarball):
#  - dpkg-buildpackage -us -uc -b builds asocd, asoc-tools, libasoc0 and
#    libasoc-dev, and lintian finds no error in them;
#  - they install on this machine; a transfer between two installed asocd
#    with the installed asoc-send/asoc-recv, asoc-stat (and --prometheus),
#    asoc-info, man asoc_isend, the installed unit (systemd-analyze verify)
#    and `module load asoc` (Debian's lmod) all work from the installed
#    files, not the build tree; then they are purged again;
#  - rpmbuild -bb builds asoc.spec (--nodeps: EL names), which fails on
#    any installed file no package takes;
#  - configure --prefix=DIR && make install (a second build: libtool
#    installs the Python module only where it was linked for), then
#    `module use DIR/share/modulefiles;
#    module load asoc` puts DIR's asoc-bench first on PATH.
# Root only (it installs packages); about four minutes.
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib.sh"
PKGS=(asocd asoc-tools libasoc0 libasoc-dev python3-asoc)
installed=0

purge() {
	[ "$installed" -eq 1 ] || return 0
	dpkg --purge "${PKGS[@]}" >"$T/purge.log" 2>&1 || cat "$T/purge.log" >&2
	installed=0
}
trap 'stop_all; purge; rm -rf "$T"' EXIT

need() {
	local cmd=$1 pkg=$2
	command -v "$cmd" >/dev/null 2>&1 && return 0
	not_ok "$cmd is missing: apt-get install $pkg (tests/install-deps does)"
	finish
	exit 1
}
if [ "$(id -u)" -ne 0 ]; then
	not_ok "test-packages.sh installs packages: run it as root"
	finish
fi
need dpkg-buildpackage dpkg-dev
need dh debhelper
need lintian lintian
need rpmbuild rpm
[ -r /etc/profile.d/lmod.sh ] || need lmod-is-missing lmod
for p in "${PKGS[@]}"; do
	if dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed'; then
		not_ok "$p is installed already: this test would replace and purge it; remove it first"
		finish
	fi
done

V=$(sed -n 's/^PACKAGE_VERSION = //p' "$B/Makefile")
check "make dist: the copy of the source to build from" \
    make -C "$B" dist-gzip
tar -xzf "$B/asoc-$V.tar.gz" -C "$T"

# --- Debian ---
check "dpkg-buildpackage -us -uc -b" bash -c "
    cd '$T/asoc-$V' && DEB_BUILD_OPTIONS='nocheck parallel=2' dpkg-buildpackage -us -uc -b"
debs=()
for p in "${PKGS[@]}"; do
	debs+=("$(ls "$T"/"${p}"_"$V"_*.deb 2>/dev/null | head -1)")
done
check "... made the five packages" bash -c "for d in ${debs[*]}; do [ -f \"\$d\" ] || exit 1; done"
check "lintian finds no error" bash -c "
    lintian --no-tag-display-limit --info '$T'/asoc_${V}_*.changes > '$T/lintian.log' 2>&1 || true
    cat '$T/lintian.log'; ! grep -q '^E:' '$T/lintian.log'"
echo "lintian: $(grep -c '^E:' "$T/lintian.log" || true) errors, $(grep -c '^W:' "$T/lintian.log" || true) warnings, $(grep -c '^I:' "$T/lintian.log" || true) notes"
sed 's/^/    /' "$T/lintian.log"
check "the SLURM scripts are in asocd's /usr/share/asoc/slurm" bash -c "
    dpkg -c '${debs[0]}' | grep -q './usr/share/asoc/slurm/asoc-prolog\$' &&
    dpkg -c '${debs[0]}' | grep -q './usr/share/asoc/slurm/asoc-epilog\$' &&
    dpkg -c '${debs[0]}' | grep -q './lib/systemd/system/asocd@.service\$'"

# The test suite's fault injection is built only with --enable-test-hooks
# (daemon/testhooks.h): none of it may reach the packaged daemon.
check "the packaged asocd holds no test hook (ASOC_TEST_)" bash -c "
    dpkg-deb -x '${debs[0]}' '$T/asocd-deb' && [ -x '$T/asocd-deb/usr/sbin/asocd' ] &&
    ! grep -q ASOC_TEST_ '$T/asocd-deb/usr/sbin/asocd'"

check "dpkg -i installs them" dpkg -i "${debs[@]}"
installed=1
BIN=/usr/bin SBIN=/usr/sbin
check "the installed tools use the installed libasoc" bash -c "
    ldd $BIN/asoc-send | grep -Eq 'libasoc.so.0 => /(usr/)?lib/[^ ]*/libasoc.so.0 '"
check "man asoc_isend finds libasoc(3)" bash -c "
    [ -L /usr/share/man/man3/asoc_isend.3.gz ] &&
    zcat /usr/share/man/man3/asoc_isend.3.gz | grep -q '^.Nm asoc_isend'"
check "pkg-config finds the installed asoc.pc" bash -c "
    pkg-config --exists asoc && [ \"\$(pkg-config --modversion asoc)\" = '$V' ]"

# A transfer between two installed daemons, as bench/demo-local does.
ASOCD=$SBIN/asocd STAT=$BIN/asoc-stat
(umask 077 && head -c 32 /dev/urandom >"$T/job.key")
start_cluster 2 --listen 127.0.0.1 --key-file "$T/job.key" --munge no
head -c 3000001 /dev/urandom >"$T/payload"
check "an installed asoc-send -> asoc-recv moves a file intact" bash -c "
    $BIN/asoc-recv --socket '$(sock 1)' --from 0 >'$T/got' & r=\$!
    $BIN/asoc-send --socket '$(sock 0)' --to 1 '$T/payload' && wait \$r &&
    cmp '$T/payload' '$T/got'"
check "the installed asoc-stat counts it" bash -c "
    $BIN/asoc-stat --socket '$(sock 0)' --json | grep -q '\"xfers_done\":[1-9]'"
check "the installed asoc-stat --prometheus" bash -c "
    $BIN/asoc-stat --socket '$(sock 0)' --prometheus | grep -q '^asoc_sent_bytes_total [1-9]'"
check "the installed Python module (python3-asoc) talks to the installed asocd" bash -c "
    cd / && out=\$(/usr/bin/python3 -c 'import asoc, sys
with asoc.connect(sys.argv[1]) as n:
    print(asoc.__file__, n.rank, n.world_size)' '$(sock 1)') && echo \"\$out\" &&
    case \"\$out\" in /usr/lib/python3/dist-packages/asoc/*' 1 2') ;; *) exit 1;; esac"
stop_all
check_fails "the installed asoc-info says why TCP (exit 1)" \
    "asocd would fall back to TCP" $BIN/asoc-info --listen 127.0.0.1 --munge no
check "systemd-analyze verify: the installed asocd@.service" bash -c "
    cp /lib/systemd/system/asocd@.service '$T/asocd@pkg.service' &&
    out=\$(systemd-analyze verify --man=no '$T/asocd@pkg.service' 2>&1); echo \"\$out\"; [ -z \"\$out\" ]"
check "module load asoc (Debian's lmod, the packaged modulefile)" bash -c "
    . /etc/profile.d/lmod.sh && module load asoc &&
    module --terse list 2>&1 | grep -qx asoc && asoc-bench --help | grep -q usage"
purge
check "dpkg --purge leaves nothing behind" bash -c "
    [ ! -e /usr/sbin/asocd ] && [ ! -e /usr/bin/asoc-send ] &&
    [ ! -e /usr/share/asoc ] && [ ! -e /etc/lmod/modules/asoc.lua ]"

# --- RPM ---
mkdir -p "$T/rpm/SOURCES"
cp "$B/asoc-$V.tar.gz" "$T/rpm/SOURCES/"
check "rpmbuild -bb asoc.spec (--nodeps), every installed file packaged" bash -c "
    rpmbuild -bb --nodeps --define '_topdir $T/rpm' --define '_smp_mflags -j2' \
        '$T/asoc-$V/asoc.spec'"
check "... made asocd, asoc-tools, libasoc, libasoc-devel and python3-asoc" bash -c "
    cd '$T/rpm/RPMS' && ls */asocd-$V-* */asoc-tools-$V-* */libasoc-$V-* */libasoc-devel-$V-* */python3-asoc-$V-*"
check "... asoc-tools has asoc-info and the modulefile" bash -c "
    rpm -qlp '$T'/rpm/RPMS/*/asoc-tools-$V-*.rpm | grep -q '/usr/bin/asoc-info' &&
    rpm -qlp '$T'/rpm/RPMS/*/asoc-tools-$V-*.rpm | grep -q '/usr/share/modulefiles/asoc.lua'"

# --- the modulefile make install writes for its prefix ---
mkdir "$T/pfx-build"
check "configure --prefix=DIR && make install" bash -c "
    cd '$T/pfx-build' && '$top_srcdir/configure' --prefix='$T/pfx' >configure.log 2>&1 &&
    make -j2 install >install.log 2>&1 || { tail -20 configure.log install.log; false; }"
check "module use DIR/share/modulefiles; module load asoc: DIR's tools" bash -c "
    . /etc/profile.d/lmod.sh && module use '$T/pfx/share/modulefiles' && module load asoc &&
    [ \"\$(command -v asoc-bench)\" = '$T/pfx/bin/asoc-bench' ] &&
    asoc-bench --help | grep -q usage && [ \"\$ASOC_ROOT\" = '$T/pfx' ] &&
    [ -L '$T/pfx/share/man/man3/asoc_isend.3' ]"
if grep -q '^Python package: yes' "$T/pfx-build/configure.log" 2>/dev/null ||
    grep -q 'Python package: yes' "$T/pfx-build/configure.log"; then
	check "  ...and its PYTHONPATH: import asoc finds DIR's module" bash -c "
	    . /etc/profile.d/lmod.sh && module use '$T/pfx/share/modulefiles' && module load asoc &&
	    cd / && /usr/bin/python3 -c 'import asoc, sys; assert asoc.__file__.startswith(sys.argv[1]), asoc.__file__' '$T/pfx'"
fi
finish
