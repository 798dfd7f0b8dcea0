/*
 * SPDX-License-Identifier: MIT
 *
 * Strict overcommit (vm.overcommit_memory=2): the kernel refuses a commit
 * past CommitLimit when the memory is made writable, so the library must
 * return -ENOMEM there (not crash later), and decommitting must hand the
 * commit charge back (Committed_AS in /proc/meminfo drops again).
 *
 * The sysctl is system-wide and other processes run: the test changes it
 * only when asked to (MMVEC_TEST_STRICT_OVERCOMMIT=1, as root), for the few
 * seconds the checks take, and restores it on every way out it can catch
 * (normal exit, failure, SIGINT/SIGTERM/SIGHUP, its own 120 s alarm). Under
 * strict overcommit other processes may see ENOMEM for large allocations
 * meanwhile; this test itself never holds more than 1 GiB of charge, and
 * the commits it expects refused ask for more than the whole CommitLimit,
 * so that other processes freeing memory meanwhile cannot make them fit.
 * When the machine already runs with vm.overcommit_memory=2 it runs without
 * changing anything. Otherwise it reports SKIP. See doc/strict-overcommit.md.
 */
#include "runner.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "mmvec.h"

#define SYSCTL "/proc/sys/vm/overcommit_memory"

/* Committed_AS is system-wide: other processes move it too. A measured
 * change must be within this of the expected one. */
#define NOISE (96 * MIB)

static long long meminfo_bytes(const char *key)
{
	long long kib = proc_kib("/proc/meminfo", key);

	return kib < 0 ? -1 : kib * 1024;
}

static long long committed_as(void)
{
	long long v = meminfo_bytes("Committed_AS");

	ck_assert_int_ge(v, 0);
	return v;
}

/* More than the whole commit limit: refused whatever the other processes
 * on the machine hold or give back meanwhile. */
static size_t beyond_limit(void)
{
	long long limit = meminfo_bytes("CommitLimit");

	ck_assert_int_gt(limit, 0);
	return (size_t)limit + GIB;
}

static double mib(long long bytes)
{
	return (double)bytes / (double)MIB;
}

/* The median of n measured changes, which a burst from another process in
 * one of them does not move. */
static long long median(long long *d, int n)
{
	for (int i = 1; i < n; i++)
		for (int j = i; j > 0 && d[j - 1] > d[j]; j--) {
			long long t = d[j];

			d[j] = d[j - 1];
			d[j - 1] = t;
		}
	return d[n / 2];
}

/* ------------------------------------------------------------------------ */
/* A refused commit is -ENOMEM, and changes nothing */

START_TEST(refused_commit_is_enomem)
{
	size_t too_much = beyond_limit();
	struct mmvec *v = NULL, *big = NULL;
	struct mmvec_region *r = NULL;
	long long before;

	printf("CommitLimit %.0f MiB, Committed_AS %.0f MiB\n",
	       mib(meminfo_bytes("CommitLimit")), mib(committed_as()));

	/* reserving is free: PROT_NONE is not charged */
	before = committed_as();
	ck_assert_int_eq(mmvec_new(1, too_much + GIB, 0, &v), 0);
	ck_assert_int_eq(mmvec_region_new(too_much + GIB, 0, &r), 0);
	ck_assert_int_eq(mmvec_new(too_much, 4, 0, &big), 0);
	printf("reserved 3 x %.0f MiB: Committed_AS %+.1f MiB\n",
	       mib((long long)(too_much + GIB)), mib(committed_as() - before));
	ck_assert_int_lt(committed_as() - before, (long long)NOISE);

	/* a few elements first, which must survive */
	ck_assert_int_eq(mmvec_resize(v, 1000), 0);
	memset(mmvec_data(v), 0x5a, 1000);

	/* every way to grow past the limit is refused, cleanly */
	before = committed_as();
	ck_assert_int_eq(mmvec_reserve(v, too_much), -ENOMEM);
	ck_assert_int_eq(mmvec_resize(v, too_much), -ENOMEM);
	ck_assert_null_errno(mmvec_extend(v, too_much), ENOMEM);
	ck_assert_null_errno(mmvec_push(big, NULL), ENOMEM);
	ck_assert_int_eq(mmvec_region_commit(r, too_much), -ENOMEM);
	ck_assert_uint_eq(mmvec_len(v), 1000);
	ck_assert_uint_lt(mmvec_capacity(v), too_much);
	ck_assert_uint_eq(mmvec_len(big), 0);
	ck_assert_uint_eq(mmvec_capacity(big), 0);
	ck_assert_uint_eq(mmvec_region_committed(r), 0);
	ck_assert_int_eq(maps_rw_bytes(mmvec_region_base(r), too_much), 0);
	for (size_t i = 0; i < 1000; i++)
		if (((unsigned char *)mmvec_data(v))[i] != 0x5a)
			ck_abort_msg("element %zu changed", i);
	printf("refused: reserve/resize/extend/push/region_commit of %.0f MiB "
	       "all -ENOMEM; Committed_AS %+.1f MiB\n", mib((long long)too_much),
	       mib(committed_as() - before));
	ck_assert_int_lt(committed_as() - before, (long long)NOISE);

	/* what fits still works, and is usable */
	ck_assert_int_eq(mmvec_resize(v, 256 * MIB), 0);
	((volatile char *)mmvec_data(v))[256 * MIB - 1] = 1;
	ck_assert_int_eq(mmvec_region_commit(r, 64 * MIB), 0);
	((volatile char *)mmvec_region_base(r))[64 * MIB - 1] = 1;

	mmvec_free(v);
	mmvec_free(big);
	mmvec_region_free(r);
}
END_TEST

/* Pre-faulting a refused commit: also -ENOMEM, nothing committed. */
START_TEST(refused_populate_is_enomem)
{
	size_t too_much = beyond_limit();
	struct mmvec_region *r = NULL;
	struct mmvec *v = NULL;

	ck_assert_int_eq(mmvec_region_new(too_much, MMVEC_POPULATE, &r), 0);
	ck_assert_int_eq(mmvec_region_commit(r, too_much), -ENOMEM);
	ck_assert_uint_eq(mmvec_region_committed(r), 0);
	ck_assert_int_eq(mmvec_new(8, too_much / 8, MMVEC_POPULATE, &v), 0);
	ck_assert_int_eq(mmvec_reserve(v, too_much / 8), -ENOMEM);
	ck_assert_uint_eq(mmvec_capacity(v), 0);
	ck_assert_int_eq(mmvec_reserve(v, MIB), 0);
	ck_assert_uint_ge(mmvec_capacity(v), MIB);
	mmvec_free(v);
	mmvec_region_free(r);
}
END_TEST

/* MMVEC_PRETOUCH: the thread's commits ahead are refused quietly, and the
 * calls still give -ENOMEM, never a fault; mmvec_pretouch() past the limit
 * is -ENOMEM and changes nothing. */
START_TEST(refused_pretouch_is_enomem)
{
	size_t too_much = beyond_limit();
	struct mmvec *v = NULL;
	size_t cap;

	ck_assert_int_eq(mmvec_new(8, too_much / 8, MMVEC_PRETOUCH, &v), 0);
	for (int64_t i = 0; i < 1000000; i++)
		ck_assert_ptr_nonnull(mmvec_push_val(v, i));
	cap = mmvec_capacity(v);
	ck_assert_int_eq(mmvec_pretouch(v, too_much / 8 - 1000000), -ENOMEM);
	ck_assert_uint_eq(mmvec_len(v), 1000000);
	ck_assert_uint_lt(mmvec_capacity(v), too_much / 8);
	ck_assert_uint_ge(mmvec_capacity(v), cap);
	ck_assert_int_eq(mmvec_reserve(v, too_much / 8), -ENOMEM);
	ck_assert_int_eq(mmvec_resize(v, too_much / 8), -ENOMEM);
	ck_assert_uint_eq(mmvec_len(v), 1000000);
	for (int64_t i = 0; i < 1000000; i++)
		if (*(int64_t *)mmvec_at(v, (size_t)i) != i)
			ck_abort_msg("element %jd changed", (intmax_t)i);
	ck_assert_int_eq(mmvec_pretouch(v, MIB), 0);
	mmvec_free(v);
}
END_TEST

/* The default reservation is larger than the commit limit here and still
 * granted: it is not charged. */
START_TEST(default_reservation_not_charged)
{
	long long before = committed_as();
	struct mmvec *v = NULL;

	ck_assert_int_eq(mmvec_new(8, 0, 0, &v), 0);
	printf("default reservation: %.0f MiB, Committed_AS %+.1f MiB\n",
	       mib((long long)(mmvec_max_len(v) * 8)),
	       mib(committed_as() - before));
	ck_assert_int_lt(committed_as() - before, (long long)NOISE);
	ck_assert_ptr_nonnull(mmvec_push(v, NULL));
	mmvec_free(v);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Decommit returns the commit charge */

/* Asserts that the medians of five measurements are a charge of 1 GiB
 * while grown and none once given back. */
static void assert_charge_returned(const char *what, long long grew[5],
				   long long back[5])
{
	printf("%s -> Committed_AS %+.1f MiB while grown, %+.1f MiB once "
	       "given back (medians of 5)\n", what, mib(median(grew, 5)),
	       mib(median(back, 5)));
	ck_assert_int_lt(llabs(median(grew, 5) - (long long)GIB),
			 (long long)NOISE);
	ck_assert_int_lt(llabs(median(back, 5)), (long long)NOISE);
}

START_TEST(decommit_returns_charge)
{
	long long grew[5], back[5];
	struct mmvec_region *r = NULL;
	struct mmvec *v = NULL;

	ck_assert_int_eq(mmvec_region_new(2 * GIB, MMVEC_NO_HUGEPAGES, &r), 0);
	for (int k = 0; k < 5; k++) {
		long long c0 = committed_as(), c1, c2;

		ck_assert_int_eq(mmvec_region_commit(r, GIB), 0);
		c1 = committed_as();
		ck_assert_int_eq(mmvec_region_decommit(r, 0), 0);
		c2 = committed_as();
		grew[k] = c1 - c0;
		back[k] = c2 - c0;
	}
	assert_charge_returned("region: commit 1024 MiB, decommit", grew, back);
	mmvec_region_free(r);

	/* a vector: grow, clear, shrink_to_fit */
	ck_assert_int_eq(mmvec_new(8, 2 * GIB / 8, MMVEC_NO_HUGEPAGES, &v), 0);
	for (int k = 0; k < 5; k++) {
		long long c0 = committed_as(), c1, c2;

		ck_assert_int_eq(mmvec_resize(v, GIB / 8), 0);
		c1 = committed_as();
		mmvec_clear(v);
		ck_assert_int_eq(mmvec_shrink_to_fit(v), 0);
		ck_assert_uint_eq(mmvec_capacity(v), 0);
		c2 = committed_as();
		grew[k] = c1 - c0;
		back[k] = c2 - c0;
	}
	assert_charge_returned("vector: resize to 1024 MiB, clear + "
			       "shrink_to_fit", grew, back);
	mmvec_free(v);
}
END_TEST

/* What the library avoids, measured for the write-up: once a page has
 * been written, mprotect() back to PROT_NONE keeps the charge (the kernel
 * returns it only for memory never touched); mmap(MAP_FIXED) over the
 * range, which is what the library does, returns it. Printed, and checked
 * only for the part the library relies on. */
START_TEST(kernel_mprotect_keeps_charge)
{
	long long c0 = committed_as(), c1, c2, c3, c4;
	char *p = mmap(NULL, GIB, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	ck_assert_ptr_ne(p, MAP_FAILED);
	ck_assert_int_eq(mprotect(p, GIB, PROT_READ | PROT_WRITE), 0);
	p[0] = 1; /* one page in use */
	c1 = committed_as();
	ck_assert_int_eq(mprotect(p, GIB, PROT_NONE), 0);
	c2 = committed_as();
	ck_assert_ptr_eq(mmap(p, GIB, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS |
			      MAP_FIXED, -1, 0), p);
	c3 = committed_as();
	ck_assert_int_eq(munmap(p, GIB), 0);
	c4 = committed_as();
	printf("raw kernel, 1024 MiB: mprotect(RW) + one store %+.1f MiB, "
	       "mprotect(NONE) "
	       "%+.1f MiB, mmap(MAP_FIXED, NONE) %+.1f MiB, munmap %+.1f MiB "
	       "(from the start)\n", mib(c1 - c0), mib(c2 - c0), mib(c3 - c0),
	       mib(c4 - c0));
	ck_assert_int_lt(llabs(c3 - c0), (long long)NOISE);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* The reservation cache holds no commit charge */

/* Freed vectors wait in the reservation cache for reuse, but under strict
 * overcommit with nothing writable: committed memory kept for later would
 * take room that the program's next allocation (a malloc() the library
 * never sees) may need. */
START_TEST(cache_holds_no_charge)
{
	enum { N = 64 };
	size_t page = mmvec_page_size();
	size_t reserved = (MIB * 8 + page - 1) / page * page;
	struct mmvec *v[N];
	void *data[N];
	long long c0, c1, c2;

	mmvec_cache_flush();
	c0 = committed_as();
	for (int k = 0; k < N; k++) {
		ck_assert_int_eq(mmvec_new(8, MIB, MMVEC_NO_HUGEPAGES, &v[k]),
				 0);
		ck_assert_int_eq(mmvec_resize(v[k], MIB / 8), 0);
		memset(mmvec_data(v[k]), 0x5a, MIB);
		data[k] = mmvec_data(v[k]);
	}
	for (int k = 0; k < N; k++)
		mmvec_free(v[k]);
	c1 = committed_as();
	for (int k = 0; k < N; k++)
		ck_assert_int_eq(maps_rw_bytes(data[k], reserved), 0);
	/* and they were cached (unless the cache is off here) */
	c2 = (long long)mmvec_cache_flush();
	printf("%d vectors of 1 MiB freed: Committed_AS %+.1f MiB, %.0f MiB "
	       "of address space cached, none of it writable\n", N,
	       mib(c1 - c0), mib(c2));
	ck_assert_int_lt(llabs(c1 - c0), (long long)NOISE);
	ck_assert(c2 == 0 || c2 == (long long)(N * reserved));
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Flipping the sysctl, and always putting it back */

static char saved[16];
static volatile sig_atomic_t flipped;
/* Only the process that switched the sysctl puts it back: Check's forked
 * test processes inherit the atexit handler and the signal handlers, and
 * must not restore it while the other tests still need it. */
static pid_t flipper;

static int write_sysctl(const char *value)
{
	int fd = open(SYSCTL, O_WRONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = write(fd, value, strlen(value));
	close(fd);
	return n == (ssize_t)strlen(value) ? 0 : -EIO;
}

static void restore(void)
{
	if (flipped && getpid() == flipper) {
		/* async-signal-safe: open, write, close */
		write_sysctl(saved);
		flipped = 0;
	}
}

static void on_signal(int sig)
{
	restore();
	signal(sig, SIG_DFL);
	raise(sig);
}

static int read_sysctl(char *buf, size_t size)
{
	FILE *f = fopen(SYSCTL, "re");

	if (!f || !fgets(buf, (int)size, f)) {
		if (f)
			fclose(f);
		return -1;
	}
	fclose(f);
	return 0;
}

/* At exit, after restore() */
static void say_restored(void)
{
	if (getpid() == flipper)
		printf("vm.overcommit_memory restored to %c\n", saved[0]);
}

Suite *test_suite(int argc, char **argv)
{
	const char *opt = getenv("MMVEC_TEST_STRICT_OVERCOMMIT");
	char why[160];
	Suite *s;
	TCase *tc;

	if (read_sysctl(saved, sizeof(saved)) != 0)
		test_skip("cannot read " SYSCTL);
#if defined(TEST_ASAN) || defined(TEST_TSAN)
	test_skip("sanitizer shadow memory is charged like any writable "
		  "mapping under strict overcommit; run this in a plain "
		  "build");
#endif
	if (test_on_valgrind())
		test_skip("not under Valgrind (its own mappings are charged "
			  "too); run this in a plain build");
	if (saved[0] != '2') {
		if (!opt || strcmp(opt, "1") != 0) {
			snprintf(why, sizeof(why), "vm.overcommit_memory is "
				 "%c; set MMVEC_TEST_STRICT_OVERCOMMIT=1 (as "
				 "root) to switch it to 2 for the few seconds "
				 "of this test", saved[0]);
			test_skip(why);
		}
		flipper = getpid();
		atexit(say_restored);
		atexit(restore);
		signal(SIGINT, on_signal);
		signal(SIGTERM, on_signal);
		signal(SIGHUP, on_signal);
		signal(SIGALRM, on_signal);
		alarm(120);
		flipped = 1;
		if (write_sysctl("2") != 0) {
			flipped = 0;
			fprintf(stderr, "cannot write %s (root needed)\n",
				SYSCTL);
			exit(EXIT_FAILURE);
		}
		printf("vm.overcommit_memory: %c -> 2 for this test\n",
		       saved[0]);
	}

	s = suite_create("strict-overcommit");
	tc = test_case(s, "commit-charge", NULL, NULL, 60);
	test_add(tc, 1, refused_commit_is_enomem, refused_populate_is_enomem,
		 refused_pretouch_is_enomem, default_reservation_not_charged, decommit_returns_charge,
		 kernel_mprotect_keeps_charge, cache_holds_no_charge, NULL);
	return s;
}
