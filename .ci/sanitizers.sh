#!/usr/bin/env bash
# Builds the library and runs the whole test suite under
#   - AddressSanitizer + UndefinedBehaviorSanitizer (gcc), and
#   - ThreadSanitizer (clang),
# each in its own build directory under /tmp. Any sanitizer report fails the
# run: UBSan is built not to recover, ASan and TSan halt on the first error.
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

# Options for every sanitized process, tests and their children alike.
# handle_segv=0: the tests that must crash on touching uncommitted memory
# expect SIGSEGV itself, not ASan's report of it and an abort.
export ASAN_OPTIONS=halt_on_error=1:abort_on_error=1:detect_leaks=1:handle_segv=0:strict_string_checks=1:detect_stack_use_after_return=1
export UBSAN_OPTIONS=halt_on_error=1:abort_on_error=1:print_stacktrace=1
export TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1:handle_segv=0

step() { printf '\n=== %s\n' "$*"; }

run_suite() {
	local dir=$1
	shift
	rm -rf "$dir"
	meson setup "$dir" "$src" "$@" || return 1
	ninja -C "$dir" || return 1
	# sanitized code is slower; the multiplier keeps Meson's timeouts fair
	meson test -C "$dir" --print-errorlogs --timeout-multiplier 4
}

mkdir -p "$top"
status=0
if [ "$which" = all ] || [ "$which" = asan ]; then
	step "ASan + UBSan (gcc)"
	CC=gcc CXX=g++ CFLAGS=-fno-sanitize-recover=undefined \
		CXXFLAGS=-fno-sanitize-recover=undefined \
		run_suite "$top/asan" \
		-Db_sanitize=address,undefined -Db_lundef=false \
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
