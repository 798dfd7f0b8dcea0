#!/bin/sh
# Runs one libFuzzer target for a bounded time, starting from the checked-in
# seed corpus, and fails on any finding (libFuzzer exits non-zero).
#
#   run-fuzz.sh FUZZER SEED_CORPUS WORK_DIR
#
# MMVEC_FUZZ_SECONDS sets the time (default 60). New inputs go to
# WORK_DIR/corpus in the build directory, never into the source tree;
# a crashing input is saved as WORK_DIR/artifacts/crash-*, to replay with
#   FUZZER WORK_DIR/artifacts/crash-...
set -eu

fuzzer=$1
seeds=$2
work=$3
secs=${MMVEC_FUZZ_SECONDS:-60}

mkdir -p "$work/corpus" "$work/artifacts"
# libFuzzer writes new inputs to the first corpus directory only
# libFuzzer's own exit code for a finding is 77, which Meson reads as SKIP:
# make every finding, crash, leak or timeout exit 1.
exec timeout -k 10 $((secs + 300)) "$fuzzer" \
	-max_total_time="$secs" \
	-timeout=30 \
	-error_exitcode=1 \
	-timeout_exitcode=1 \
	-print_final_stats=1 \
	-artifact_prefix="$work/artifacts/" \
	"$work/corpus" "$seeds"
