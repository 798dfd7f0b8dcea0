/*
 * SPDX-License-Identifier: MIT
 *
 * Reservations and other users of the address space:
 * - the default reservation decides whether as much again is free by
 *   arithmetic, so that under RLIMIT_AS other threads never see an
 *   allocation fail while a vector is created (a probe reservation would
 *   take their room for a moment);
 * - a decommit whose MAP_FIXED unmapped the range and then failed (Linux
 *   before 6.12, simulated with the fault hook) leaves alone, for good, a
 *   mapping another thread placed in the hole: the region never commits
 *   over it, releases it or takes it for its own.
 *
 * White-box: the hole needs the fault-injection hook.
 */
#include "runner.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "faults.h"
#include "os.h"

static size_t page;

static void setup(void)
{
	page = mmvec_page_size();
}

/* ------------------------------------------------------------------------ */
/* The default reservation under RLIMIT_AS, with other threads allocating */

#define OTHERS 2
#define OTHER_BYTES (32 * MIB)

static volatile int stop;
static pthread_barrier_t ready;

struct other {
	pthread_t t;
	unsigned long tries, failed;
};

/* Maps OTHER_BYTES, holds them for a few microseconds and unmaps them,
 * over and over: what a program's other threads do while one of them
 * creates vectors. */
static void *allocate(void *arg)
{
	struct other *o = arg;

	pthread_barrier_wait(&ready);
	while (!__atomic_load_n(&stop, __ATOMIC_RELAXED)) {
		void *p = mmap(NULL, OTHER_BYTES, PROT_NONE,
			       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		double until = now_seconds() + 10e-6;

		o->tries++;
		if (p == MAP_FAILED) {
			o->failed++;
			continue;
		}
		while (now_seconds() < until)
			;
		munmap(p, OTHER_BYTES);
	}
	return NULL;
}

/* Run in a child: the limit and the threads stay there. */
START_TEST(others_in_child)
{
	/* as much again as a 512 MiB default, and a little more: a probe of
	 * 512 MiB beside the 512 MiB reservation would leave less than the
	 * others hold between them */
	const size_t headroom = GIB + OTHER_BYTES * 3 / 2;
	struct other o[OTHERS];
	unsigned long created = 0, tries = 0, failed = 0;
	size_t smallest = SIZE_MAX, largest = 0;
	struct rlimit lim;
	long long vm;
	double end;
	int rc = 0;

	ck_assert_int_eq(pthread_barrier_init(&ready, NULL, OTHERS + 1), 0);
	for (int k = 0; k < OTHERS; k++) {
		o[k] = (struct other){ 0 };
		ck_assert_int_eq(pthread_create(&o[k].t, NULL, allocate,
						&o[k]), 0);
	}
	/* the threads' stacks are mapped: the limit leaves exactly this */
	vm = proc_kib("/proc/self/status", "VmSize");
	ck_assert_int_gt(vm, 0);
	lim.rlim_cur = lim.rlim_max = (rlim_t)vm * 1024 + headroom;
	ck_assert_int_eq(setrlimit(RLIMIT_AS, &lim), 0);
	pthread_barrier_wait(&ready);

	end = now_seconds() + (test_slow() ? 3.0 : 1.5);
	while (rc == 0 && now_seconds() < end) {
		struct mmvec *v = NULL;
		size_t bytes;

		rc = mmvec_new(8, 0, 0, &v);
		if (rc)
			break;
		bytes = mmvec_max_len(v) * 8;
		smallest = bytes < smallest ? bytes : smallest;
		largest = bytes > largest ? bytes : largest;
		mmvec_free(v);
		created++;
	}
	/* the threads stop before any assertion ends the test */
	__atomic_store_n(&stop, 1, __ATOMIC_RELAXED);
	for (int k = 0; k < OTHERS; k++) {
		pthread_join(o[k].t, NULL);
		tries += o[k].tries;
		failed += o[k].failed;
	}
	printf("%lu default vectors of %zu to %zu MiB under RLIMIT_AS = "
	       "VmSize + %zu MiB; the other threads' %lu mmap()s of %zu MiB: "
	       "%lu failed\n", created, smallest / MIB, largest / MIB,
	       headroom / MIB, tries, OTHER_BYTES / MIB, failed);
	ck_assert_int_eq(rc, 0);
	/* at most half of what is left, and not much less */
	ck_assert_uint_le(largest, headroom / 2);
	ck_assert_uint_ge(smallest, headroom / 8);
	ck_assert_msg(failed == 0, "%lu of the other threads' allocations "
		      "failed while vectors were created (a probe took their "
		      "room)", failed);
	ck_assert_uint_ge(created, 100);
	ck_assert_uint_ge(tries, 100);
}
END_TEST

START_TEST(default_leaves_others_room)
{
	int status = test_run_in_child(others_in_child, 60);

	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
		      "child status %#x (see its output above)", status);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* A foreign mapping in a decommit hole */

/* Where the hook maps a page of its own when the simulated hole opens
 * (NULL: nowhere), and whether it could. */
static char *foreign_at;
static bool foreign_placed;
static int holes_left;

static int hole_hook(enum mmvec__os_op op, size_t size)
{
	(void)size;
	if (op == MMVEC__OS_DECOMMIT_HOLE && holes_left > 0) {
		holes_left--;
		return -ENOMEM;
	}
	if (op == MMVEC__OS_HOLE_OPEN && foreign_at) {
		void *p = mmap(foreign_at, page, PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE,
			       -1, 0);

		foreign_placed = p == foreign_at;
		if (foreign_placed)
			memset(p, 0xee, page);
		else if (p != MAP_FAILED)
			munmap(p, page);
	}
	return 0;
}

/* One simulated hole in the next decommit, with a page of another owner
 * at @at landing in it. */
static void hole_with_foreign_page(char *at)
{
	foreign_at = at;
	foreign_placed = false;
	holes_left = 1;
	mmvec__os_fault_hook = hole_hook;
}

static void heal(void)
{
	mmvec__os_fault_hook = NULL;
	foreign_at = NULL;
}

/* The foreign page is where it was, mapped, as its owner left it. */
static void assert_foreign_intact(const char *at)
{
	ck_assert_int_eq(maps_accessible(at), 1);
	for (size_t i = 0; i < page; i++)
		fast_assert_uint_eq((unsigned char)at[i], 0xee);
}

/* A region of 64 pages with the first 32 committed and written. */
static struct mmvec_region *half_committed(void)
{
	struct mmvec_region *r = NULL;

	ck_assert_int_eq(mmvec_region_new(64 * page, MMVEC_NO_HUGEPAGES, &r),
			 0);
	ck_assert_int_eq(mmvec_region_commit(r, 32 * page), 0);
	memset(mmvec_region_base(r), 0x5a, 32 * page);
	return r;
}

START_TEST(region_leaves_foreign_mapping)
{
	struct mmvec_region *r = half_committed();
	char *base = mmvec_region_base(r);

	hole_with_foreign_page(base + 20 * page);
	ck_assert_int_eq(mmvec_region_decommit(r, 8 * page), 0);
	heal();
	ck_assert(foreign_placed);
	ck_assert_uint_eq(mmvec_region_committed(r), 8 * page);
	assert_foreign_intact(base + 20 * page);
	/* below the foreign page the range is the region's again */
	ck_assert_uint_eq(vma_count(base + 8 * page, 12 * page), 1);
	ck_assert_int_eq(maps_accessible(base + 8 * page), 0);

	/* committing up to it works and reads zero; past it, refused */
	ck_assert_int_eq(mmvec_region_commit(r, 20 * page), 0);
	ck_assert(is_zero(base + 8 * page, 12 * page));
	for (size_t i = 0; i < 8 * page; i++)
		fast_assert_uint_eq((unsigned char)base[i], 0x5a);
	ck_assert_int_eq(mmvec_region_commit(r, 20 * page + 1), -ENOMEM);
	ck_assert_int_eq(mmvec_region_commit(r, 64 * page), -ENOMEM);
	ck_assert_int_eq(mmvec_region_commit(r, 64 * page + 1), -ENOSPC);
	ck_assert_uint_eq(mmvec_region_committed(r), 20 * page);
	ck_assert_uint_eq(mmvec_region_reserved(r), 64 * page);
	assert_foreign_intact(base + 20 * page);

	/* freed (and flushed: never cached), it leaves the page alone */
	ck_assert_int_eq(mmvec_region_decommit(r, 0), 0);
	mmvec_region_free(r);
	mmvec_cache_flush();
	assert_foreign_intact(base + 20 * page);
	ck_assert_uint_eq(vma_count(base, 20 * page), 0);
	ck_assert_uint_eq(vma_count(base + 21 * page, 43 * page), 0);
	munmap(base + 20 * page, page);
}
END_TEST

START_TEST(vector_leaves_foreign_mapping)
{
	size_t n = 64 * page / 8;
	struct mmvec *v = vec_new_ok(8, n, MMVEC_NO_HUGEPAGES);
	char *data = mmvec_data(v);
	struct vec_snapshot s;

	mmvec_cache_flush();
	ck_assert_int_eq(mmvec_resize(v, 32 * page / 8), 0);
	pattern_fill_range(data, 8, 1, 0, 32 * page / 8);
	ck_assert_int_eq(mmvec_resize(v, 8 * page / 8), 0);

	hole_with_foreign_page(data + 20 * page);
	ck_assert_int_eq(mmvec_shrink_to_fit(v), 0);
	heal();
	ck_assert(foreign_placed);
	ck_assert_uint_eq(mmvec_capacity(v), 8 * page / 8);
	ck_assert(pattern_check_range(data, 8, 1, 0, 8 * page / 8));
	assert_foreign_intact(data + 20 * page);

	/* growth up to the foreign page works; past it, -ENOMEM and
	 * nothing changes */
	ck_assert_int_eq(mmvec_resize(v, 20 * page / 8), 0);
	ck_assert(is_zero(data + 8 * page, 12 * page));
	vec_snapshot_take(&s, v);
	ck_assert_int_eq(mmvec_resize(v, 20 * page / 8 + 1), -ENOMEM);
	ck_assert_null_errno(mmvec_push(v, NULL), ENOMEM);
	ck_assert_int_eq(mmvec_reserve(v, n), -ENOMEM);
	ck_assert_vec_unchanged(v, &s);
	vec_snapshot_release(&s);
	ck_assert_uint_eq(mmvec_max_len(v), n);
	assert_foreign_intact(data + 20 * page);

	mmvec_free(v);
	mmvec_cache_flush();
	assert_foreign_intact(data + 20 * page);
	ck_assert_uint_eq(vma_count(data, 20 * page), 0);
	munmap(data + 20 * page, page);
}
END_TEST

/* A hole nobody else took: the whole range is the region's again. */
START_TEST(hole_without_foreign_mapping)
{
	struct mmvec_region *r = half_committed();
	char *base = mmvec_region_base(r);

	hole_with_foreign_page(NULL);
	ck_assert_int_eq(mmvec_region_decommit(r, 8 * page), 0);
	heal();
	ck_assert_uint_eq(vma_count(base + 8 * page, 56 * page), 1);
	ck_assert_int_eq(mmvec_region_commit(r, 64 * page), 0);
	ck_assert(is_zero(base + 8 * page, 56 * page));
	mmvec_region_free(r);
}
END_TEST

Suite *test_suite(int argc, char **argv)
{
	Suite *s = suite_create("reserve");
	TCase *tc;

	tc = test_case(s, "rlimit", setup, NULL, 60);
	if (test_on_qemu_user())
		test_not_run(default_leaves_others_room->name,
			     "under qemu-user, " QEMU_NO_RLIMIT);
	else if (MMVEC_PORTABLE)
		test_not_run(default_leaves_others_room->name,
			     "the portable OS layer cannot tell how much the "
			     "process has mapped, and probes");
	else
		test_add_not_on_valgrind(tc, default_leaves_others_room);

	tc = test_case(s, "hole", setup, heal, 30);
	test_add(tc, 1, region_leaves_foreign_mapping,
		 vector_leaves_foreign_mapping, hole_without_foreign_mapping,
		 NULL);
	return s;
}
