#!/usr/bin/env bash
# Cross-builds the library and its tests for Debian's other architectures
# with Debian's cross compilers and runs them under qemu-user: the whole
# suite with the emulator's own page size, then the unit suites and the
# demo with the larger page sizes that arm64 and ppc64el kernels use.
# Prints one line per run: architecture, page size, Meson tests
# passed/skipped/failed, Check tests run/left out, time.
#
#   .ci/cross.sh                       the matrix (as root: it apt-gets)
#   MMVEC_CROSS_ARCHS="arm64 s390x" .ci/cross.sh
#
# Check for the target comes from Debian's archive: its packages are fetched
# with a private apt state (the system's sources, the target architecture)
# and unpacked under $WORK, so that nothing is added to the system's dpkg
# architectures (an index of a foreign architecture that fails to download
# would fail every later `apt-get update`).
set -euo pipefail
cd "$(dirname "$0")/.."
src=$PWD

ARCHS=${MMVEC_CROSS_ARCHS:-arm64 armhf i386 ppc64el s390x}
WORK=${MMVEC_CROSS_DIR:-/tmp/mmvec-cross}

# Debian architecture -> GNU triplet
declare -A TRIPLET=(
	[arm64]=aarch64-linux-gnu
	[armhf]=arm-linux-gnueabihf
	[armel]=arm-linux-gnueabi
	[i386]=i686-linux-gnu
	[ppc64el]=powerpc64le-linux-gnu
	[s390x]=s390x-linux-gnu
	[mips64el]=mips64el-linux-gnuabi64
)
# The page sizes run besides qemu's own (4 KiB on all of them): the
# shorter suite. arm64 kernels use 4, 16 or 64 KiB pages, ppc64el 64 KiB.
declare -A EXTRA_PAGES=(
	[arm64]="16384 65536"
	[ppc64el]="65536"
)
SHORT_SUITES=(--suite unit --suite examples)
# qemu-i386 7.2 hangs here in the child of every fork() (it spins after
# set_robust_list; a five-line program that forks hangs too), and a kernel
# without IA-32 emulation cannot run i386 programs itself: Check runs the i386 tests without forking (the tests that must
# crash are then left out and say so), and the random and system suites, whose
# tests fork, is not run, nor concurrency, whose threads hang the same way.
declare -A ONLY_SUITES=(
	[i386]="demo region errors vector guarantees inline inline-noinline abi-symbols doc-examples man-pages"
)
declare -A TEST_ENV=(
	[i386]="CK_FORK=no"
)

export DEBIAN_FRONTEND=noninteractive
pkgs=(qemu-user meson ninja-build pkgconf python3 binutils)
for a in $ARCHS; do
	t=${TRIPLET[$a]:?unknown architecture $a}
	pkgs+=("gcc-$t" "binutils-$t" "libc6-dev-$a-cross")
done
apt-get install -y -qq --no-install-recommends "${pkgs[@]}" >/dev/null

# Check and libsubunit for each target, from a private apt state
apt_opts=(
	-o Dir::State::Lists="$WORK/apt/lists"
	-o Dir::Cache="$WORK/apt/cache"
	-o Dir::State::status="$WORK/apt/status"
	-o APT::Sandbox::User=root
)
for a in $ARCHS; do
	apt_opts+=(-o APT::Architectures::="$a")
done
mkdir -p "$WORK/apt/lists/partial" "$WORK/apt/cache/archives/partial" \
	"$WORK/debs"
touch "$WORK/apt/status"
# An index that fails to download (a mirror mid-sync) is not fatal here:
# `apt-get download` below fails if a package it needs is missing.
apt-get "${apt_opts[@]}" -o APT::Architecture="${ARCHS%% *}" update -qq \
	>/dev/null 2>&1 || echo "note: apt-get update (target indexes) had errors"

declare -a rows
failed=0
for a in $ARCHS; do
	t=${TRIPLET[$a]}
	# the multiarch directory: i386-linux-gnu for i686-linux-gnu
	m=$(dpkg-architecture -a"$a" -qDEB_HOST_MULTIARCH 2>/dev/null)
	sysroot=$WORK/sysroot/$a
	rm -rf "$sysroot"
	mkdir -p "$sysroot"
	(cd "$WORK/debs" && apt-get "${apt_opts[@]}" -o APT::Architecture="$a" \
		download "check:$a" "libsubunit0:$a" "libsubunit-dev:$a" \
		>/dev/null 2>&1)
	for d in "$WORK"/debs/{check,libsubunit0,libsubunit-dev}_*_"$a".deb; do
		dpkg-deb -x "$d" "$sysroot"
	done

	# The tree's cross file, with pkg-config and the loader pointed at
	# the unpacked Check
	wrapper=$(sed -n "s/^exe_wrapper = \[\(.*\)\]$/\1/p" ".ci/cross/$a.txt")
	cat > "$WORK/$a-sysroot.txt" <<-EOF
	[binaries]
	exe_wrapper = [$wrapper, '-E', 'LD_LIBRARY_PATH=$sysroot/usr/lib/$m']

	[properties]
	sys_root = '$sysroot'
	pkg_config_libdir = ['$sysroot/usr/lib/$m/pkgconfig']
	EOF

	build=$WORK/build-$a
	rm -rf "$build"
	printf '\n=== %s: build\n' "$a"
	start=$SECONDS
	meson setup "$build" --cross-file ".ci/cross/$a.txt" \
		--cross-file "$WORK/$a-sysroot.txt" \
		-Dtests=enabled -Dbench=disabled -Ddocs=disabled \
		-Dvalgrind=disabled >"$WORK/$a-setup.log" ||
		{ cat "$WORK/$a-setup.log"; exit 1; }
	ninja -C "$build" -j 2 >"$WORK/$a-build.log" ||
		{ cat "$WORK/$a-build.log"; exit 1; }
	grep -A3 'warning:' "$WORK/$a-build.log" || true
	build_time=$((SECONDS - start))

	for p in native ${EXTRA_PAGES[$a]:-}; do
		read -r -a suites <<<"${ONLY_SUITES[$a]:-}"
		read -r -a env <<<"${TEST_ENV[$a]:-}"
		if [ "$p" != native ]; then
			suites=("${SHORT_SUITES[@]}")
			env=(QEMU_PAGESIZE="$p")
		fi
		printf '\n=== %s: meson test, page size %s\n' "$a" "$p"
		start=$SECONDS
		rc=0
		env "${env[@]}" CK_TIMEOUT_MULTIPLIER=4 \
			meson test -C "$build" --no-rebuild --num-processes 2 \
			--timeout-multiplier 4 --print-errorlogs \
			"${suites[@]}" || rc=$?
		[ $rc -eq 0 ] || failed=1
		rows+=("$(python3 - "$build/meson-logs/testlog.json" "$a" "$p" \
			"$((SECONDS - start))" "$build_time" <<-'EOF'
		import json, re, sys
		log, arch, page, secs, build = sys.argv[1:]
		ok = skip = fail = checks = left_out = 0
		for line in open(log):
		    t = json.loads(line)
		    r = t['result']
		    if r in ('OK', 'EXPECTEDFAIL'):
		        ok += 1
		    elif r == 'SKIP':
		        skip += 1
		    else:
		        fail += 1
		    out = t.get('stdout', '') or ''
		    checks += sum(int(n) for n in re.findall(r'Checks: (\d+)', out))
		    left_out += len(re.findall(r'is not run: |left out under', out))
		if page == 'native':
		    page = '4096'
		else:
		    build = '-'
		print(f'{arch:8} {page:>6} {ok:6} {skip:7} {fail:6} '
		      f'{checks:7} {left_out:8} {secs:>6}s {build:>6}s'
		      + ('  NO TESTS RAN' if ok + skip + fail == 0 else ''))
		EOF
		)")
		case ${rows[-1]} in *"NO TESTS RAN"*) failed=1 ;; esac
	done
done

printf '\n=== cross matrix under qemu-user\n'
printf '%-8s %6s %6s %7s %6s %7s %8s %7s %7s\n' arch page passed \
	skipped failed checks left-out test build
printf '%s\n' "${rows[@]}"
exit $failed
