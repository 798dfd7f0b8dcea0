/*
 * SPDX-License-Identifier: MIT
 *
 * Helpers shared by the hardening tests (test/hardening) and the fuzz
 * targets' replay drivers (test/fuzz): a small PRNG, seeds and time budgets
 * from the environment, tool detection (Valgrind, sanitizers), and counting
 * kernel mappings.
 *
 * Include this header first: it pulls in config.h, which defines _GNU_SOURCE
 * before any system header.
 */
#ifndef MMVEC_HARDEN_H
#define MMVEC_HARDEN_H

#include "config.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The exit status Meson reports as SKIP. */
#define HARDEN_SKIP 77

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* ------------------------------------------------------------------------ */
/* Tools */

#if defined(__SANITIZE_ADDRESS__)
#define HARDEN_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define HARDEN_ASAN 1
#endif
#endif

#if defined(__SANITIZE_THREAD__)
#define HARDEN_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define HARDEN_TSAN 1
#endif
#endif

/* True when this process runs under Valgrind. */
bool harden_on_valgrind(void);

/* True when running under qemu-user: the cross files' exe_wrapper
 * (.ci/cross) sets MMVEC_TEST_QEMU_USER=1. Its madvise() succeeds without
 * effect except for MADV_DONTNEED (MADV_POPULATE_WRITE faults nothing in),
 * setrlimit(RLIMIT_AS and RLIMIT_DATA) succeeds without setting the limit,
 * and mincore() fails on PROT_NONE pages and fills one byte per host page. */
bool harden_on_qemu_user(void);

/* True if mincore() reports which pages are resident, so that what
 * MMVEC_POPULATE faults in can be checked; false under qemu-user, and then
 * the first call prints that this check is left out. */
bool harden_residency_checkable(void);

/* True when a sanitizer, Valgrind or qemu-user slows this process down: tests then do
 * fewer iterations, never fewer kinds of checks. */
bool harden_slow(void);

/* ------------------------------------------------------------------------ */
/* Random numbers: splitmix64, so that a seed names one whole run. */

struct harden_rng {
	uint64_t state;
};

static inline uint64_t harden_rng_next(struct harden_rng *r)
{
	uint64_t z = (r->state += UINT64_C(0x9e3779b97f4a7c15));

	z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
	return z ^ (z >> 31);
}

/* Uniform enough in [0, n), n > 0. */
static inline uint64_t harden_rng_below(struct harden_rng *r, uint64_t n)
{
	return harden_rng_next(r) % n;
}

/* ------------------------------------------------------------------------ */
/* Seeds and time budgets
 *
 * A randomised test runs seeds first, first + 1, ... and prints the seed of
 * a failing run. The environment picks them:
 *   MMVEC_TEST_SEED=S       run only seed S (to reproduce a failure);
 *   MMVEC_TEST_SEEDS=N      run N seeds, however long it takes;
 *   MMVEC_TEST_SEED_BASE=B  start at seed B (default 1), to explore more;
 *   MMVEC_TEST_SECONDS=T    time budget when MMVEC_TEST_SEEDS is not set.
 * Also read by the tests: MMVEC_TEST_VERBOSE (print per-operation result
 * counts and test times), MMVEC_TEST_KERNEL_EVERY=N (test-fault: compare the
 * capacity with /proc/self/maps every N steps, default 7).
 */
struct harden_seeds {
	uint64_t first;
	uint64_t count;   /* at most this many seeds */
	double seconds;   /* stop after this long (<= 0: no limit) */
	double start;
	uint64_t done;
};

/* @default_count and @default_seconds apply when the environment says
 * nothing; both are scaled down under harden_slow(). */
void harden_seeds_init(struct harden_seeds *s, uint64_t default_count,
		       double default_seconds);

/* The next seed to run in *seed, or false when the count or the time budget
 * is used up (at least one seed always runs). */
bool harden_seeds_next(struct harden_seeds *s, uint64_t *seed);

/* Monotonic time in seconds. */
double harden_now(void);

/* An unsigned number from the environment, or @def when unset or not a
 * number. */
uint64_t harden_env_u64(const char *name, uint64_t def);

/* ------------------------------------------------------------------------ */
/* Kernel mappings */

/* Number of lines in /proc/self/maps (every VMA of the process), or -1 if it
 * cannot be read. */
long harden_maps_total(void);

/* Number of VMAs in /proc/self/maps that overlap [addr, addr + len), or -1 if
 * the file cannot be read. */
long harden_maps_in(const void *addr, size_t len);

/* The kernel's view of what is committed: the number of bytes from @addr
 * that are mapped readable and writable without a gap, up to @limit (0 if
 * the mapping at @addr is not, -1 if /proc/self/maps cannot be read). */
long long harden_rw_bytes(const void *addr, size_t limit);

/* Run a Check suite with Check's environment settings; returns the number
 * of tests that failed (runner.c). check.h is not included here: its fail()
 * macro would clash with the model's. */
struct Suite;
int harden_run_suite(struct Suite *s);

#endif /* MMVEC_HARDEN_H */
