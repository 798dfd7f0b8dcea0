#!/usr/bin/env bash
# Builds the Debian packages for other architectures, as a cross build:
# dpkg-buildpackage -a ARCH with the nocheck profile (the tests run under
# qemu-user in .ci/cross.sh), then checks that each package holds the
# library built for ARCH.
#
#   .ci/cross-deb.sh                    arm64 (as root: it apt-gets)
#   MMVEC_DEB_ARCHS="s390x" .ci/cross-deb.sh
#
# The build dependencies are installed for the build machine
# (crossbuild-essential-ARCH; meson, debhelper), and libc6-dev:ARCH from
# ARCH added to dpkg's architectures: dpkg-shlibdeps finds the target's
# libc in dpkg's database only. ARCH is removed again at the end, with its
# packages: an index of it that fails to download (a mirror mid-sync) would
# fail every later `apt-get update`. dpkg-buildpackage runs with -d: the
# other build dependencies for ARCH would be pkgconf:ARCH, unused here (the
# nocheck profile drops Check, the only dependency found with pkg-config),
# and valgrind:ARCH, which replaces the build machine's valgrind.
set -euo pipefail
cd "$(dirname "$0")/.."
src=$PWD

ARCHS=${MMVEC_DEB_ARCHS:-arm64}
WORK=${MMVEC_DEB_DIR:-/tmp/mmvec-cross-deb}

export DEBIAN_FRONTEND=noninteractive
pkgs=(build-essential dpkg-dev debhelper meson ninja-build git)
for a in $ARCHS; do
	pkgs+=("crossbuild-essential-$a")
done
apt-get install -y -qq --no-install-recommends "${pkgs[@]}" >/dev/null

added=()
cleanup() {
	local a
	for a in "${added[@]}"; do
		mapfile -t p < <(dpkg-query -W -f '${binary:Package}\n' |
			grep ":$a\$" || true)
		[ ${#p[@]} -eq 0 ] ||
			apt-get purge -y -qq --allow-remove-essential "${p[@]}" >/dev/null
		dpkg --remove-architecture "$a"
	done
}
trap cleanup EXIT
for a in $ARCHS; do
	if ! dpkg --print-foreign-architectures | grep -qx "$a"; then
		dpkg --add-architecture "$a"
		added+=("$a")
	fi
done
apt-get update -qq >/dev/null 2>&1 ||
	echo "note: apt-get update had errors (an index of a foreign architecture?)"
for a in $ARCHS; do
	apt-get install -y -qq --no-install-recommends "libc6-dev:$a" >/dev/null
done

version=$(dpkg-parsechangelog -l debian/changelog -S Version)
upstream=${version%-*}

declare -A ELF_MACHINE=(
	[arm64]=AArch64
	[armhf]=ARM
	[armel]=ARM
	[i386]="Intel 80386"
	[ppc64el]="PowerPC64"
	[s390x]="IBM S/390"
	[mips64el]="MIPS R3000"
)

for a in $ARCHS; do
	printf '\n=== dpkg-buildpackage -a %s (nocheck)\n' "$a"
	rm -rf "${WORK:?}/$a"
	tree=$WORK/$a/libmmvec-$upstream
	mkdir -p "$tree"
	# tracked and new files, not ignored ones (build directories)
	git ls-files -z --cached --others --exclude-standard |
		while IFS= read -r -d '' f; do
			[ -e "$f" ] && printf '%s\0' "$f"
		done | tar --null -T - -cf - | tar -xf - -C "$tree"
	start=$SECONDS
	(cd "$tree" && DEB_BUILD_OPTIONS=nocheck dpkg-buildpackage -a "$a" \
		-Pnocheck -d -b -us -uc) >"$WORK/$a.log" 2>&1 ||
		{ tail -50 "$WORK/$a.log"; exit 1; }
	for deb in "$WORK/$a"/libmmvec1_"${version}"_"$a".deb \
		   "$WORK/$a"/libmmvec-dev_"${version}"_"$a".deb; do
		[ -f "$deb" ] || { echo "missing: $deb"; exit 1; }
		echo "built: ${deb##*/}"
	done
	x=$WORK/$a/x
	dpkg-deb -x "$WORK/$a/libmmvec1_${version}_$a.deb" "$x"
	lib=$(find "$x" -name 'libmmvec.so.1.*' -type f)
	machine=$(readelf -h "$lib" | sed -n 's/^ *Machine: *//p')
	case $machine in
	*"${ELF_MACHINE[$a]}"*) echo "${lib#"$x"}: $machine" ;;
	*) echo "${lib#"$x"}: built for $machine, not $a"; exit 1 ;;
	esac
	echo "$a: $((SECONDS - start)) s"
done
