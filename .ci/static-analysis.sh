#!/usr/bin/env bash
# Static analysis of src/: cppcheck and clang-tidy (with the clang static
# analyzer's checks, configured by .clang-tidy). Exits non-zero on any
# finding. A false positive is suppressed inline only, with the reason:
#   /* cppcheck-suppress <id> ; <why> */   on the line before, or
#   // NOLINTNEXTLINE(<check>): <why>
#
# Needs: meson, ninja-build, clang, clang-tidy (14), cppcheck (2.10).
# MMVEC_STATIC_DIR picks the build directory (default /tmp/mmvec-static),
# used only for config.h and compile_commands.json: nothing is compiled.
set -euo pipefail

src=$(cd "$(dirname "$0")/.." && pwd)
build=${MMVEC_STATIC_DIR:-/tmp/mmvec-static}
tidy=${CLANG_TIDY:-$(command -v clang-tidy-14 || command -v clang-tidy)}
status=0

step() { printf '\n=== %s\n' "$*"; }

rm -rf "$build"
CC=clang meson setup "$build" "$src" -Dtests=disabled -Dexamples=false \
	-Dbench=disabled >"$build.log" 2>&1 || { cat "$build.log"; exit 1; }

step "cppcheck $(cppcheck --version)"
# Both library builds (plain and fault-injection) from compile_commands;
# __linux__ and __GNUC__ as the compiler defines them, so that the Linux
# code paths are checked too.
cppcheck --project="$build/compile_commands.json" \
	--file-filter="$src/src/*" \
	-D__linux__=1 -D__GNUC__=12 \
	--library=posix \
	--enable=warning,style,performance,portability \
	--inline-suppr \
	--suppress=missingIncludeSystem \
	--error-exitcode=1 \
	--quiet || status=1

step "$("$tidy" --version | grep -i version | head -1)"
# Each configuration the sources have: plain, with the fault-injection hook,
# and with the AddressSanitizer annotations.
for extra in "" -DMMVEC_FAULT_INJECTION=1 -fsanitize=address; do
	printf -- '--- clang-tidy %s\n' "${extra:-(plain)}"
	"$tidy" -p "$build" --quiet ${extra:+"--extra-arg=$extra"} \
		$(ls "$src"/src/*.c | grep -v '/os-win32\.c$') || status=1
done
# The Windows OS layer, against mingw-w64's headers
mingw_inc=/usr/x86_64-w64-mingw32/include
if [ -d "$mingw_inc" ]; then
	for extra in "" -DMMVEC_FAULT_INJECTION=1; do
		printf -- '--- clang-tidy os-win32.c %s\n' "${extra:-(plain)}"
		"$tidy" -p "$build" --quiet \
			--extra-arg=--target=x86_64-w64-mingw32 \
			--extra-arg=-isystem"$mingw_inc" \
			${extra:+"--extra-arg=$extra"} \
			"$src"/src/os-win32.c || status=1
	done
else
	echo "src/os-win32.c not analysed: $mingw_inc missing (apt-get install mingw-w64)"
fi

if [ "$status" = 0 ]; then
	step "static analysis: no findings"
else
	step "static analysis: findings above"
fi
exit "$status"
