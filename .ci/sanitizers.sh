#!/usr/bin/env bash
# Builds the library and runs the whole test suite under
#   - AddressSanitizer + UndefinedBehaviorSanitizer (gcc), and
#   - ThreadSanitizer (clang),
# each in its own build directory under /tmp. Any sanitizer report fails the
# run: UBSan is built not to recover, and the tests' own environment
# (test/meson.build) makes ASan and TSan halt on the first error.
#
#   .ci/sanitizers.sh            both
#   .ci/sanitizers.sh asan|tsan  one of them
#
# Needs: meson, ninja-build, pkgconf, gcc, clang, libclang-rt-14-dev (clang's
# sanitizer runtimes), check, valgrind (for valgrind/memcheck.h; the
# library's memcheck annotations are compiled in and stay inactive).
# MMVEC_SANITIZER_DIR picks the parent of the build directories.
set -euo pipefail

src=$(cd "$(dirname "$0")/.." && pwd)
top=${MMVEC_SANITIZER_DIR:-/tmp/mmvec-sanitizers}
which=${1:-all}

step() { printf '\n=== %s\n' "$*"; }

run_suite() {
	local dir=$1
	shift
	rm -rf "$dir"
	meson setup "$dir" "$src" "$@" || return 1
	ninja -C "$dir" || return 1
	meson test -C "$dir" --print-errorlogs
}

mkdir -p "$top"
status=0
if [ "$which" = all ] || [ "$which" = asan ]; then
	step "ASan + UBSan (gcc)"
	CC=gcc CXX=g++ run_suite "$top/asan" \
		-Db_sanitize=address,undefined -Db_lundef=false \
		-Dc_args=-fno-sanitize-recover=undefined \
		-Dcpp_args=-fno-sanitize-recover=undefined \
		-Dbuildtype=debugoptimized || status=1
fi
if [ "$which" = all ] || [ "$which" = tsan ]; then
	step "TSan (clang)"
	CC=clang CXX=clang++ run_suite "$top/tsan" \
		-Db_sanitize=thread -Db_lundef=false \
		-Dbuildtype=debugoptimized || status=1
fi
if [ "$status" = 0 ]; then
	step "sanitizers: all passed"
else
	step "sanitizers: FAILED (see above)"
fi
exit "$status"
