#!/bin/bash
# SPDX-License-Identifier: MIT
#
# Check rpm/libmmvec.spec on a machine without Fedora's macro packages (for
# example Debian with its `rpm` package).
#
#   rpm/check-spec.sh          parse the spec with `rpmspec -P` and check the
#                              result: version in step with meson.build, every
#                              macro expanded, the expected packages
#   rpm/check-spec.sh --build [RPMBUILD_ARGS...]
#                              also build the binary RPMs with rpmbuild from a
#                              tarball of this tree (runs the test suite in
#                              %check unless given --nocheck) and list what
#                              each package holds
#
# Fedora's meson and arch macros (redhat-rpm-config, meson's macros.meson)
# are defined here, on the command line, only when rpm does not know them;
# the spec itself relies on nothing but what Fedora provides.
set -euo pipefail

srcdir=$(cd "$(dirname "$0")/.." && pwd)
spec="$srcdir/rpm/libmmvec.spec"
build=0
if [ "${1:-}" = --build ]; then
	build=1
	shift
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/mmvec-rpm.XXXXXX")
trap 'rm -rf "$work"' EXIT

# --define arguments for the macros rpm lacks
defs=()
fallback() { # NAME VALUE: define NAME unless rpm already does
	if [ "$(rpm --eval "%{?$1:defined}")" != defined ]; then
		defs+=(--define "$1 $2")
	fi
}
fallback _vpath_srcdir .
fallback _vpath_builddir redhat-linux-build
fallback valgrind_arches '%{ix86} x86_64 ppc64le s390x armv7hl aarch64'
fallback meson 'meson setup --buildtype=plain --prefix=%{_prefix} --libdir=%{_libdir} --libexecdir=%{_libexecdir} --bindir=%{_bindir} --includedir=%{_includedir} --datadir=%{_datadir} --mandir=%{_mandir} --sysconfdir=%{_sysconfdir} --localstatedir=%{_localstatedir} --wrap-mode=nodownload --auto-features=enabled %{_vpath_srcdir} %{_vpath_builddir}'
fallback meson_build 'meson compile -C %{_vpath_builddir} -j %{_smp_build_ncpus} --verbose'
fallback meson_install 'DESTDIR=%{buildroot} meson install -C %{_vpath_builddir} --no-rebuild'
fallback meson_test 'meson test -C %{_vpath_builddir} --num-processes %{_smp_build_ncpus} --print-errorlogs'
fallback dist .check

echo "=== rpmspec -P $spec"
if [ ${#defs[@]} -gt 0 ]; then
	echo "fallback macros:"
	printf '  %s\n' "${defs[@]}" | grep -v '^  --define$'
fi
rpmspec "${defs[@]}" -P "$spec" >"$work/parsed.spec"
cat "$work/parsed.spec"

problems=0
problem() {
	echo "PROBLEM: $*"
	problems=$((problems + 1))
}

# every macro expanded (section names, %license and %doc are fine; comments
# are not looked at)
grep -n '%[a-z_{]' "$work/parsed.spec" |
	grep -v -E '^[0-9]+:%(prep|build|install|check|files|changelog|description|package|license|doc)\b' |
	grep -v -E '^[0-9]+:%%' | grep -v -E '^[0-9]+:[[:space:]]*#' \
	>"$work/unexpanded" || true
[ -s "$work/unexpanded" ] && problem "unexpanded macros:" && cat "$work/unexpanded"

version=$(sed -n "s/^[[:space:]]*version: '\([^']*\)'.*/\1/p" "$srcdir/meson.build" | head -n 1)
spec_version=$(rpmspec "${defs[@]}" -q --srpm --qf '%{VERSION}' "$spec")
[ "$spec_version" = "$version" ] ||
	problem "spec Version $spec_version, meson.build $version"

rpmspec "${defs[@]}" -q --qf '%{NAME}\n' "$spec" >"$work/packages"
for p in libmmvec libmmvec-devel libmmvec-static; do
	grep -qx "$p" "$work/packages" || problem "no package $p"
done

if [ $build = 1 ]; then
	echo "=== rpmbuild -bb (tests run in %check)"
	top="$work/rpmbuild"
	mkdir -p "$top/SOURCES"
	name="libmmvec-$version"
	mkdir "$work/$name"
	# shellcheck disable=SC2016 # $f is expanded by the inner sh
	(cd "$srcdir" && git ls-files -z --cached --others --exclude-standard |
		xargs -0 sh -c 'for f; do [ -e "$f" ] && printf "%s\0" "$f"; done' sh |
		tar --null -T - -cf -) | tar -xf - -C "$work/$name"
	tar -C "$work" -cJf "$top/SOURCES/$name.tar.xz" "$name"
	# --nodeps: the BuildRequires are Fedora package names; debug_package
	# off: Debian's rpm has no find-debuginfo
	rpmbuild "${defs[@]}" -bb --nodeps \
		--define "_topdir $top" \
		--define 'debug_package %{nil}' \
		"$@" "$spec"
	for rpmfile in "$top"/RPMS/*/*.rpm; do
		echo "--- $(basename "$rpmfile")"
		rpm -qlp "$rpmfile"
	done
	ls "$top"/RPMS/*/libmmvec-1*.rpm "$top"/RPMS/*/libmmvec-devel-*.rpm \
		"$top"/RPMS/*/libmmvec-static-*.rpm >/dev/null ||
		problem "a package was not built"
fi

if [ $problems -gt 0 ]; then
	echo "$problems problem(s)"
	exit 1
fi
echo "rpm spec OK"
