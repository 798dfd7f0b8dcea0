#!/bin/sh
# SPDX-License-Identifier: MIT
#
# Build the Debian packages of the source tree this script is in, check them
# with lintian, unpack them into a scratch root, and build and run programs
# against that root with pkg-config alone, dynamically and statically.
#
# Usage: debian/ci-check.sh
#
# The tree is copied to a temporary directory first (dpkg-buildpackage
# writes into the tree and its parent). Set KEEP=1 to keep that directory.
# Needs: build-essential dpkg-dev debhelper lintian meson ninja-build
# pkgconf check (and valgrind where it exists, for the memcheck annotations).
set -eu

srcdir=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/mmvec-deb.XXXXXX")
cleanup() {
	if [ "${KEEP:-0}" = 1 ]; then
		echo "ci-check: kept $work"
	else
		rm -rf "$work"
	fi
}
trap cleanup EXIT

step() {
	printf '\n=== %s\n' "$*"
}

version=$(dpkg-parsechangelog -l "$srcdir/debian/changelog" -S Version)
upstream=${version%-*}
tree="$work/libmmvec-$upstream"
mkdir "$tree"

step "copy the source tree to $tree"
if git -C "$srcdir" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
	# tracked and new files, not ignored ones (build directories); files
	# deleted but not yet committed are skipped
	# shellcheck disable=SC2016 # $f is expanded by the inner sh
	(cd "$srcdir" && git ls-files -z --cached --others --exclude-standard |
		xargs -0 sh -c 'for f; do [ -e "$f" ] && printf "%s\0" "$f"; done' sh |
		tar --null -T - -cf -) | tar -xf - -C "$tree"
else
	(cd "$srcdir" && tar --exclude='./build*' --exclude=./.git -cf - .) |
		tar -xf - -C "$tree"
fi

step "dpkg-buildpackage -us -uc -b"
nproc=$(getconf _NPROCESSORS_ONLN 2>/dev/null || echo 1)
(cd "$tree" &&
	DEB_BUILD_OPTIONS="${DEB_BUILD_OPTIONS:-parallel=$nproc}" \
	dpkg-buildpackage -us -uc -b)

arch=$(dpkg-architecture -qDEB_HOST_ARCH)
multiarch=$(dpkg-architecture -qDEB_HOST_MULTIARCH)
changes="$work/libmmvec_${version}_${arch}.changes"
runtime_deb="$work/libmmvec1_${version}_${arch}.deb"
dev_deb="$work/libmmvec-dev_${version}_${arch}.deb"
for f in "$changes" "$runtime_deb" "$dev_deb"; do
	[ -f "$f" ] || { echo "ci-check: $f was not built" >&2; exit 1; }
done

step "package contents"
dpkg-deb -c "$runtime_deb"
dpkg-deb -c "$dev_deb"
dpkg-deb -f "$runtime_deb" Package Version Multi-Arch Depends
dpkg-deb -f "$dev_deb" Package Version Multi-Arch Depends

step "lintian (fails on errors)"
# --fail-on error: warnings are printed but do not fail the check
lintian --fail-on error --display-info "$changes"
echo "lintian: no errors"

step "unpack into a scratch root"
root="$work/root"
mkdir "$root"
dpkg-deb -x "$runtime_deb" "$root"
dpkg-deb -x "$dev_deb" "$root"
libdir="$root/usr/lib/$multiarch"
ls -l "$libdir"

# pkg-config sees only the scratch root. pkgconf drops -I/usr/include and
# -L/usr/lib/... as system directories before adding the sysroot; keep them,
# or the host's own directories would be searched instead of the root's.
PKG_CONFIG_SYSROOT_DIR="$root"
PKG_CONFIG_LIBDIR="$libdir/pkgconfig:$root/usr/share/pkgconfig"
PKG_CONFIG_PATH=
PKG_CONFIG_ALLOW_SYSTEM_CFLAGS=1
PKG_CONFIG_ALLOW_SYSTEM_LIBS=1
export PKG_CONFIG_SYSROOT_DIR PKG_CONFIG_LIBDIR PKG_CONFIG_PATH \
	PKG_CONFIG_ALLOW_SYSTEM_CFLAGS PKG_CONFIG_ALLOW_SYSTEM_LIBS

pkg-config --exists --print-errors mmvec
echo "pkg-config: mmvec $(pkg-config --modversion mmvec)"
cflags=$(pkg-config --cflags mmvec)
libs=$(pkg-config --libs mmvec)
static_libs=$(pkg-config --static --libs mmvec)
echo "cflags: $cflags"
echo "libs: $libs"
echo "static libs: $static_libs"
case "$cflags $libs" in
*"$root"*) ;;
*) echo "ci-check: pkg-config does not point into $root" >&2; exit 1 ;;
esac
[ "$(pkg-config --modversion mmvec)" = "$upstream" ] || {
	echo "ci-check: mmvec.pc says $(pkg-config --modversion mmvec)," \
		"the package $upstream" >&2
	exit 1
}

cc=${CC:-cc}
bin="$work/bin"
mkdir "$bin"
programs="$tree/debian/tests/consumer.c"
[ -f "$tree/examples/demo.c" ] && programs="$programs $tree/examples/demo.c"

for src in $programs; do
	name=$(basename "$src" .c)
	case "$name" in
	demo) args=100000 ;;
	*) args= ;;
	esac

	step "$name: dynamic link"
	# shellcheck disable=SC2086 # pkg-config output is a list of words
	$cc -Wall -Wextra -Werror -o "$bin/$name" "$src" $cflags $libs
	# it must load the unpacked library, not one installed on the host
	LD_LIBRARY_PATH="$libdir" ldd "$bin/$name" | tee "$work/ldd.txt"
	grep -q "libmmvec.so.1 => $libdir/libmmvec.so.1" "$work/ldd.txt" || {
		echo "ci-check: $name does not load $libdir/libmmvec.so.1" >&2
		exit 1
	}
	# shellcheck disable=SC2086
	LD_LIBRARY_PATH="$libdir" "$bin/$name" $args

	step "$name: static link"
	# shellcheck disable=SC2086
	$cc -Wall -Wextra -Werror -static -o "$bin/$name-static" "$src" \
		$cflags $static_libs
	if readelf -d "$bin/$name-static" 2>/dev/null | grep -q NEEDED; then
		echo "ci-check: $name-static is dynamically linked" >&2
		exit 1
	fi
	# shellcheck disable=SC2086
	"$bin/$name-static" $args
done

step "ci-check: packages built, lintian clean of errors, consumers work"
