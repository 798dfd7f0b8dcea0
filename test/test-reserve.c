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

/* Exit codes of the child */
enum { RL_OK, RL_SETUP = 64, RL_NEW, RL_SIZE, RL_OTHERS_FAILED, RL_FEW };

static int window_child(void)
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
	int res = RL_OK;

	if (pthread_barrier_init(&ready, NULL, OTHERS + 1) != 0)
		return RL_SETUP;
	for (int k = 0; k < OTHERS; k++) {
		o[k] = (struct other){ 0 };
		if (pthread_create(&o[k].t, NULL, allocate, &o[k]) != 0)
			return RL_SETUP;
	}
	/* the threads' stacks are mapped: the limit leaves exactly this */
	vm = proc_kib("/proc/self/status", "VmSize");
	if (vm <= 0)
		return RL_SETUP;
	lim.rlim_cur = lim.rlim_max = (rlim_t)vm * 1024 + headroom;
	if (setrlimit(RLIMIT_AS, &lim) != 0)
		return RL_SETUP;
	pthread_barrier_wait(&ready);

	end = now_seconds() + (test_slow() ? 3.0 : 1.5);
	while (res == RL_OK && now_seconds() < end) {
		struct mmvec *v = NULL;
		size_t bytes;

		if (mmvec_new(8, 0, 0, &v) != 0) {
			res = RL_NEW;
			break;
		}
		bytes = mmvec_max_len(v) * 8;
		if (bytes < smallest)
			smallest = bytes;
		if (bytes > largest)
			largest = bytes;
		/* at most half of what is left, and not much less */
		if (bytes > headroom / 2 || bytes < headroom / 8)
			res = RL_SIZE;
		mmvec_free(v);
		created++;
	}
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
	fflush(stdout);
	if (res == RL_OK && failed)
		res = RL_OTHERS_FAILED;
	if (res == RL_OK && (created < 100 || tries < 100))
		res = RL_FEW;
	return res;
}

START_TEST(default_leaves_others_room)
{
	static const char *const why[] = {
		[RL_SETUP - RL_SETUP] = "threads or setrlimit(RLIMIT_AS) failed",
		[RL_NEW - RL_SETUP] = "mmvec_new(8, 0, 0) failed",
		[RL_SIZE - RL_SETUP] = "a default reservation outside "
				       "[headroom / 8, headroom / 2]",
		[RL_OTHERS_FAILED - RL_SETUP] =
			"another thread's allocation failed while vectors were "
			"created (a probe took its room)",
		[RL_FEW - RL_SETUP] = "too few vectors or allocations to tell",
	};
	int status;
	pid_t pid;

	fflush(NULL);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0)
		_exit(window_child());
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert_msg(WIFEXITED(status), "child killed by signal %d",
		      WIFSIGNALED(status) ? WTERMSIG(status) : 0);
	ck_assert_msg(WEXITSTATUS(status) == RL_OK, "child exit %d: %s",
		      WEXITSTATUS(status),
		      WEXITSTATUS(status) >= RL_SETUP &&
				      WEXITSTATUS(status) <= RL_FEW ?
			      why[WEXITSTATUS(status) - RL_SETUP] :
			      "not a test result");
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

START_TEST(region_leaves_foreign_mapping)
{
	struct mmvec_region *r = NULL;
	char *base;

	ck_assert_int_eq(mmvec_region_new(64 * page, MMVEC_NO_HUGEPAGES, &r),
			 0);
	base = mmvec_region_base(r);
	ck_assert_int_eq(mmvec_region_commit(r, 32 * page), 0);
	memset(base, 0x5a, 32 * page);

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
	struct mmvec_region *r = NULL;
	char *base;

	ck_assert_int_eq(mmvec_region_new(64 * page, MMVEC_NO_HUGEPAGES, &r),
			 0);
	base = mmvec_region_base(r);
	ck_assert_int_eq(mmvec_region_commit(r, 32 * page), 0);
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
