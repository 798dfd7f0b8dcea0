/*
 * SPDX-License-Identifier: MIT
 *
 * The part of the test helpers that needs no Check, so that the fuzz
 * targets build it too: tool detection (Valgrind, sanitizers), a small
 * PRNG, seeds and time budgets from the environment, element patterns, and
 * what the kernel reports in /proc. runner.h adds the Check side.
 *
 * Include this header (or runner.h) first: it pulls in config.h, which
 * defines _GNU_SOURCE before any system header.
 */
#ifndef MMVEC_TEST_HELPERS_H
#define MMVEC_TEST_HELPERS_H

#include "config.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ARRAY_LENGTH(a) (sizeof(a) / sizeof((a)[0]))

/* The exit status Meson reports as SKIP. */
#define TEST_SKIP 77

/* A pointer no call may write to an out parameter it is given on failure */
#define BAD_PTR ((void *)(uintptr_t)0x5e5e5e50)

/* A printf-like function. For mingw's GCC "printf" means msvcrt's, which
 * has no %zu; the tests are built with mingw's C99 printf (gnu_printf). */
#ifdef __MINGW32__
#define TEST_PRINTF(fmt_, args_) __attribute__((format(gnu_printf, fmt_, args_)))
#else
#define TEST_PRINTF(fmt_, args_) __attribute__((format(printf, fmt_, args_)))
#endif

#define KIB ((size_t)1024)
#define MIB (KIB * 1024)
#define GIB (MIB * 1024)

/* ------------------------------------------------------------------------ */
/* Tools */

#if defined(__SANITIZE_ADDRESS__)
#define TEST_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define TEST_ASAN 1
#endif
#endif

#if defined(__SANITIZE_THREAD__)
#define TEST_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define TEST_TSAN 1
#endif
#endif

/* True when this process runs under Valgrind. */
bool test_on_valgrind(void);

/* True when running under qemu-user, whose exe_wrapper in the cross files
 * (.ci/cross) sets MMVEC_TEST_QEMU_USER=1. qemu-user does not pass every
 * memory call to the kernel: madvise() other than MADV_DONTNEED succeeds
 * without effect, setrlimit(RLIMIT_AS and RLIMIT_DATA) succeeds without
 * effect, and mincore() fails on PROT_NONE pages and fills one byte per
 * host page, not per guest page. */
bool test_on_qemu_user(void);

/* Why the tests that read residency with mincore() are left out there */
#define QEMU_NO_MINCORE                                                        \
	"its mincore() fails on PROT_NONE pages and counts host pages"
/* Why the tests that need madvise() or setrlimit() to act are left out */
#define QEMU_NO_MADVISE "its madvise() succeeds without effect"
#define QEMU_NO_RLIMIT "its setrlimit(RLIMIT_AS, RLIMIT_DATA) sets nothing"

/* True if mincore() reports which pages are resident, so that what
 * MMVEC_POPULATE faults in can be checked; false under qemu-user, and then
 * the first call prints that this check is left out. */
bool test_residency_checkable(void);

/* True under Valgrind, qemu-user, in a sanitizer build, or when
 * MMVEC_TEST_SLOW is set in the environment: tests then use fewer elements
 * and iterations, never fewer kinds of checks. */
bool test_slow(void);

/* An unsigned number from the environment, or @def when unset or not a
 * number. */
uint64_t env_u64(const char *name, uint64_t def);

/* Monotonic time in seconds. */
double now_seconds(void);

/* ------------------------------------------------------------------------ */
/* Random numbers: splitmix64, so that a seed names one whole run. */

struct test_rng {
	uint64_t state;
};

static inline uint64_t rng_next(struct test_rng *r)
{
	uint64_t z = (r->state += UINT64_C(0x9e3779b97f4a7c15));

	z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
	return z ^ (z >> 31);
}

/* Uniform enough in [0, n), n > 0. */
static inline uint64_t rng_below(struct test_rng *r, uint64_t n)
{
	return rng_next(r) % n;
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
struct test_seeds {
	uint64_t first;
	uint64_t count;   /* at most this many seeds */
	double seconds;   /* stop after this long (<= 0: no limit) */
	double start;
	uint64_t done;
};

/* @default_count and @default_seconds apply when the environment says
 * nothing; both are scaled down under test_slow(). */
void seeds_init(struct test_seeds *s, uint64_t default_count,
		double default_seconds);

/* The next seed to run in *seed, or false when the count or the time budget
 * is used up (at least one seed always runs). */
bool seeds_next(struct test_seeds *s, uint64_t *seed);

/* ------------------------------------------------------------------------ */
/* Page arithmetic */

/* The system's page size: sysconf(_SC_PAGESIZE), on Windows dwPageSize. */
size_t system_page_size(void);

size_t round_up(size_t x, size_t a);
size_t round_down(size_t x, size_t a);
bool is_power_of_two(size_t x);

/* ------------------------------------------------------------------------ */
/* Element patterns: byte b of element i reads pattern_byte(tag, i, b). */

static inline unsigned char pattern_byte(unsigned tag, size_t i, size_t b)
{
	return (unsigned char)(tag * 37u + i * 131u + b * 7u + 1u);
}

void pattern_fill(void *elem, size_t elem_size, unsigned tag, size_t i);
bool pattern_check(const void *elem, size_t elem_size, unsigned tag, size_t i);

/* The same for the consecutive elements [from, to) stored from @p. */
void pattern_fill_range(void *p, size_t elem_size, unsigned tag, size_t from,
			size_t to);
bool pattern_check_range(const void *p, size_t elem_size, unsigned tag,
			 size_t from, size_t to);

bool is_zero(const void *p, size_t n);

/* ------------------------------------------------------------------------ */
/* What the kernel reports
 *
 * On Windows there is no /proc: proc_kib(), maps_read() and maps_vmflag()
 * report that they cannot read it, thp_size() is 0, and the tests that
 * need them are not registered there. maps_accessible(), maps_rw_bytes()
 * and resident_count() answer from VirtualQuery and the working set.
 */

/* The number of kB on the line "@key: N kB" of @path (/proc/meminfo,
 * /proc/self/status, /proc/self/smaps_rollup), or -1 if there is none. */
long long proc_kib(const char *path, const char *key);

/* The transparent huge page size the kernel reports, or 0 if it has none
 * (sysfs hpage_pmd_size unreadable). */
size_t thp_size(void);

/* A snapshot of /proc/self/maps: the process's mappings (VMAs), sorted by
 * address. */
struct maps_entry {
	uintptr_t start, end;
	char perms[5]; /* "rw-p" */
};

struct maps {
	struct maps_entry *e;
	size_t n;
};

/* 0, or -1 if /proc/self/maps cannot be read. */
int maps_read(struct maps *m);
void maps_free(struct maps *m);

/* Mappings of @m that overlap [addr, addr + len). */
size_t maps_count(const struct maps *m, const void *addr, size_t len);

/* Mappings of the process, all of them or those that overlap
 * [addr, addr + len); -1 if /proc/self/maps cannot be read. */
long maps_total(void);
long maps_in(const void *addr, size_t len);

/* 1 if the mapping containing @addr is readable or writable, 0 if it is
 * PROT_NONE or nothing is mapped there, -1 if /proc/self/maps cannot be
 * read. */
int maps_accessible(const void *addr);

/* The kernel's view of what is committed: the number of bytes from @addr
 * that are mapped readable and writable without a gap, up to @limit (0 if
 * the mapping at @addr is not, -1 if /proc/self/maps cannot be read). */
long long maps_rw_bytes(const void *addr, size_t limit);

/* 1 if the mapping containing @addr lists @flag (e.g. "hg", "nh") in its
 * VmFlags line of /proc/self/smaps, 0 if not, -1 if the mapping or its
 * VmFlags line is not found. */
int maps_vmflag(const void *addr, const char *flag);

/* Number of resident pages among those overlapping [addr, addr + len)
 * (mincore(); on Windows, the pages in the working set), or -1 if the
 * kernel cannot say. */
long resident_count(const void *addr, size_t len);

#endif /* MMVEC_TEST_HELPERS_H */
