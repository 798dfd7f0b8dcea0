#!/usr/bin/env bash
# CI for Windows: cross-build libmmvec with Debian's mingw-w64, run the test
# suite under Wine, install into an MSYS2-style prefix and build a program
# against the installed DLL (and the static library) through pkg-config.
#
# Check is not packaged for mingw in Debian: it is built from Debian's own
# source package (apt-get source check) into a prefix, once per work dir.
# The Check suites run under Wine with CK_FORK=no (test/meson.build sets
# it: Check has no fork() on Windows); each prints the tests it leaves out
# there and why (doc/windows.md lists them).
#
# Runs from a clean clone, as root, on Debian 12. On two busy cores a first
# run takes 4.5 to 7 minutes: 2 to 4 building Check (kept in the work dir
# for later runs), 20 to 40 s creating the Wine prefix, about a minute
# building and 1 to 1.5 running the tests.
#
#   .ci/windows.sh            everything (work dir $MMVEC_WINDOWS_DIR,
#                             default /tmp/mmvec-ci-windows)
set -euo pipefail
cd "$(dirname "$0")/.."

work=${MMVEC_WINDOWS_DIR:-/tmp/mmvec-ci-windows}
host=x86_64-w64-mingw32
check_prefix=$work/check
build=$work/build
stage=$work/stage
msys_prefix=/mingw64

step() { printf '\n=== %s\n' "$*"; }
elapsed() { printf '(%d s)\n' $((SECONDS - $1)); }

export DEBIAN_FRONTEND=noninteractive
step "packages: mingw-w64, wine64, and Check's source"
t=$SECONDS
# apt-get source needs a deb-src entry for the archive the deb entries use
if ! grep -rqs '^Types:.*deb-src\|^deb-src ' /etc/apt/sources.list /etc/apt/sources.list.d/; then
	if [ -f /etc/apt/sources.list.d/debian.sources ]; then
		sed 's/^Types: deb$/Types: deb-src/' /etc/apt/sources.list.d/debian.sources \
			> /etc/apt/sources.list.d/mmvec-deb-src.sources
	else
		sed -n 's/^deb /deb-src /p' /etc/apt/sources.list \
			> /etc/apt/sources.list.d/mmvec-deb-src.list
	fi
fi
apt-get -o DPkg::Lock::Timeout=600 update -qq
apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends \
	mingw-w64 wine wine64 dpkg-dev meson ninja-build pkgconf python3 >/dev/null
elapsed $t

mkdir -p "$work"

step "Check for $host (Debian's source package)"
t=$SECONDS
if [ ! -f "$check_prefix/lib/pkgconfig/check.pc" ]; then
	rm -rf "$work/check-src"
	mkdir -p "$work/check-src"
	(cd "$work/check-src" && apt-get source -qq check >/dev/null 2>&1)
	checkdir=$(find "$work/check-src" -mindepth 1 -maxdepth 1 -type d -name 'check-*' | head -n1)
	# Check's own warnings are not ours: its output goes to a log, shown
	# only if the build fails
	# C99 printf: Check formats messages with %zu and %ju. The docs need
	# makeinfo: lib and src are all the tests use. check_stdint.h is
	# included by check.h but not installed.
	if ! (
		cd "$checkdir" &&
		./configure --host=$host --prefix="$check_prefix" \
			CPPFLAGS=-D__USE_MINGW_ANSI_STDIO=1 \
			--disable-shared --enable-static --disable-subunit &&
		make -j2 -C lib && make -j2 -C src &&
		make -C lib install && make -C src install &&
		make install-pcdataDATA &&
		cp check_stdint.h "$check_prefix/include/"
	) >"$work/check-build.log" 2>&1; then
		tail -n 40 "$work/check-build.log" >&2
		exit 1
	fi
	# Debian's patch names the PIC archive that its own packaging builds
	sed -i 's/-lcheck_pic/-lcheck/' "$check_prefix/lib/pkgconfig/check.pc"
	# For mingw's gcc, format(printf) means msvcrt's printf, which has no
	# %ju; this Check formats with mingw's C99 printf (gnu_printf)
	sed -i 's/CK_ATTRIBUTE_FORMAT(printf,/CK_ATTRIBUTE_FORMAT(gnu_printf,/' \
		"$check_prefix/include/check.h"
fi
elapsed $t

# Wine: its own prefix, no display, no Mono or Gecko installers, quiet
export WINEPREFIX=$work/wine
export WINEARCH=win64
export WINEDEBUG=-all
export WINEDLLOVERRIDES='mscoree,mshtml='
unset DISPLAY

step "wineboot (first run creates $WINEPREFIX)"
t=$SECONDS
wineboot -i >/dev/null 2>&1
wineserver -w
elapsed $t

step "cross build"
t=$SECONDS
rm -rf "$build" "$stage"
meson setup "$build" \
	--cross-file cross/$host.ini \
	--prefix=$msys_prefix \
	-Dpkg_config_path="$check_prefix/lib/pkgconfig" \
	-Dtests=enabled \
	-Dbench=disabled
meson compile -C "$build"
elapsed $t

step "meson test under Wine"
t=$SECONDS
meson test -C "$build" --print-errorlogs --num-processes 2
elapsed $t

step "install into an MSYS2-style prefix ($msys_prefix) under DESTDIR"
meson install -C "$build" --destdir "$stage" --quiet
(cd "$stage" && find . -type f | sort)

step "a program built against the installed library through pkg-config"
export PKG_CONFIG_SYSROOT_DIR=$stage
export PKG_CONFIG_LIBDIR=$stage$msys_prefix/lib/pkgconfig
cflags=$(pkg-config --cflags mmvec)
libs=$(pkg-config --libs mmvec)
echo "pkg-config: $cflags $libs"
$host-gcc -std=c99 -Wall -Werror -o "$work/consumer.exe" \
	debian/tests/consumer.c $cflags $libs
# The DLLs a program imports. Whole output through grep: grep -q would
# close the pipe early, and objdump's SIGPIPE fail the step under pipefail.
imports() { $host-objdump -p "$1" | grep 'DLL Name:' || true; }
# it must load the DLL, not have linked the static library
case $(imports "$work/consumer.exe") in
*'DLL Name: libmmvec-1.dll'*) ;;
*) echo "consumer.exe does not import libmmvec-1.dll" >&2; exit 1 ;;
esac
WINEPATH="$stage$msys_prefix/bin" wine "$work/consumer.exe"
echo "consumer.exe (DLL): ok"

$host-gcc -std=c99 -Wall -Werror -static -o "$work/consumer-static.exe" \
	debian/tests/consumer.c $cflags $(pkg-config --static --libs mmvec)
case $(imports "$work/consumer-static.exe") in
*'DLL Name: libmmvec'*) echo "consumer-static.exe imports libmmvec" >&2; exit 1 ;;
esac
wine "$work/consumer-static.exe"
echo "consumer-static.exe (static library): ok"
wineserver -k || true
