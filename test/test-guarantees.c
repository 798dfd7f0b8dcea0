/*
 * SPDX-License-Identifier: MIT
 *
 * The guarantees the design is for: elements never move, new elements read
 * zero whatever was left behind, shrinking gives memory back, memory past the
 * committed pages faults, and the default reservation fits the address space
 * it is given.
 */
#include "runner.h"

#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>

#ifndef _WIN32
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>
#endif

static size_t page;

static void setup(void)
{
	page = mmvec_page_size();
}

/* ------------------------------------------------------------------------ */
/* Elements never move */

START_TEST(never_move_push)
{
	const size_t n = 1000000;
	struct mmvec *v = vec_new_ok(sizeof(uint64_t), 0, 0);
	uint64_t *data = mmvec_data(v);
	uint64_t *first, *middle = NULL;

	first = mmvec_push(v, &(uint64_t){ 0 });
	ck_assert_ptr_eq(first, data);
	for (uint64_t i = 1; i < n; i++) {
		uint64_t *p = mmvec_push(v, &i);

		fast_assert_ptr_eq(p, data + i);
		if (i == n / 2)
			middle = p;
		if (i % 65536 == 0)
			ck_assert_int_eq(mmvec_reserve(v, i + 100000), 0);
		if (i % 250000 == 0)
			ck_assert_int_eq(mmvec_shrink_to_fit(v), 0);
		if (i % 1000 == 0) {
			fast_assert_ptr_eq(mmvec_data(v), data);
			fast_assert_ptr_eq(mmvec_at(v, 0), first);
			fast_assert_uint_eq(*first, 0);
		}
	}
	ck_assert_int_eq(mmvec_shrink_to_fit(v), 0);
	ck_assert_ptr_eq(mmvec_data(v), data);
	ck_assert_ptr_eq(mmvec_at(v, n / 2), middle);
	ck_assert_uint_eq(*middle, n / 2);
	ck_assert_uint_eq(mmvec_len(v), n);
	for (uint64_t i = 0; i < n; i++)
		if (data[i] != i)
			ck_abort_msg("element %" PRIu64 " holds %" PRIu64, i,
				     data[i]);
	mmvec_free(v);
}
END_TEST

START_TEST(never_move_mixed)
{
	/* Bulk appends, resizes and reserves on an odd element size, with
	 * saved pointers into each chunk. */
	const size_t es = 24, chunk = 40000, nchunks = 25;
	struct mmvec *v = vec_new_ok(es, 0, 0);
	unsigned char *data = mmvec_data(v);
	unsigned char *saved[25];
	unsigned char *buf = malloc(chunk * es);

	ck_assert_ptr_nonnull(buf);
	for (size_t c = 0; c < nchunks; c++) {
		size_t len = mmvec_len(v);

		for (size_t i = 0; i < chunk; i++)
			pattern_fill(buf + i * es, es, 1, len + i);
		switch (c % 3) {
		case 0:
			ck_assert_int_eq(mmvec_append(v, buf, chunk), 0);
			break;
		case 1: {
			unsigned char *p = mmvec_extend(v, chunk);

			ck_assert_ptr_eq(p, data + len * es);
			memcpy(p, buf, chunk * es);
			break;
		}
		default:
			ck_assert_int_eq(mmvec_reserve(v, len + 3 * chunk), 0);
			ck_assert_int_eq(mmvec_resize(v, len + chunk), 0);
			memcpy(mmvec_at(v, len), buf, chunk * es);
			ck_assert_int_eq(mmvec_shrink_to_fit(v), 0);
			break;
		}
		saved[c] = mmvec_at(v, len);
		ck_assert_ptr_eq(saved[c], data + len * es);
		ck_assert_ptr_eq(mmvec_data(v), data);
		for (size_t k = 0; k <= c; k++)
			fast_assert(pattern_check(saved[k], es, 1, k * chunk));
	}
	ck_assert_pattern(v, 0, nchunks * chunk, 1, 0);
	free(buf);
	mmvec_free(v);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* New elements read zero whatever was left behind */

enum leftover {
	LEFT_CLEAR,
	LEFT_ERASE,
	LEFT_POP,
	LEFT_SWAP_REMOVE,
	LEFT_RESIZE_DOWN,
	LEFT_SHRINK_PARTIAL,	/* shrink_to_fit keeps a partly used page */
	LEFT_SHRINK_EMPTY,
	LEFT_NLEFTOVERS,
};

enum grower {
	GROW_PUSH_NULL,
	GROW_EXTEND,
	GROW_RESIZE,
	GROW_NGROWERS,
};

static const size_t zero_sizes[] = { 1, 8, 24, 5000 };

static const char *const leftover_names[] = {
	"clear", "erase", "pop", "swap_remove", "resize down",
	"shrink_to_fit (partial page)", "shrink_to_fit (empty)",
};
static const char *const grower_names[] = { "push(NULL)", "extend", "resize" };

START_TEST(zero_new_elements)
{
	enum leftover left = (enum leftover)(_i % LEFT_NLEFTOVERS);
	enum grower grow = (enum grower)(_i / LEFT_NLEFTOVERS % GROW_NGROWERS);
	size_t es = zero_sizes[_i / LEFT_NLEFTOVERS / GROW_NGROWERS];
	/* several pages, so that decommitted pages and a partial page are
	 * both in play */
	size_t n = 4 * page / es + 3;
	struct mmvec *v = vec_new_ok(es, 0, 0);
	unsigned char *data = mmvec_data(v);
	unsigned char *p;
	size_t keep = 0, added;

	p = mmvec_extend(v, n);
	ck_assert_ptr_eq(p, data);
	memset(p, 0xff, n * es);

	switch (left) {
	case LEFT_CLEAR:
		mmvec_clear(v);
		break;
	case LEFT_ERASE:
		ck_assert_int_eq(mmvec_erase(v, 2, n - 3), 0);
		break;
	case LEFT_POP:
		for (size_t k = 0; k < 3; k++)
			ck_assert_int_eq(mmvec_pop(v, NULL), 0);
		break;
	case LEFT_SWAP_REMOVE:
		ck_assert_int_eq(mmvec_swap_remove(v, 0), 0);
		ck_assert_int_eq(mmvec_swap_remove(v, 1), 0);
		break;
	case LEFT_RESIZE_DOWN:
		ck_assert_int_eq(mmvec_resize(v, 1), 0);
		break;
	case LEFT_SHRINK_PARTIAL:
		ck_assert_int_eq(mmvec_resize(v, page / es / 2 + 1), 0);
		ck_assert_int_eq(mmvec_shrink_to_fit(v), 0);
		break;
	case LEFT_SHRINK_EMPTY:
		mmvec_clear(v);
		ck_assert_int_eq(mmvec_shrink_to_fit(v), 0);
		break;
	case LEFT_NLEFTOVERS:
		ck_abort();
	}
	keep = mmvec_len(v);
	ck_assert_uint_lt(keep, n);
	added = n - keep + 2; /* past the old end, too */

	switch (grow) {
	case GROW_PUSH_NULL:
		for (size_t k = 0; k < added; k++) {
			p = mmvec_push(v, NULL);
			fast_assert_ptr_eq(p, data + (keep + k) * es);
		}
		break;
	case GROW_EXTEND:
		p = mmvec_extend(v, added);
		ck_assert_ptr_eq(p, data + keep * es);
		break;
	case GROW_RESIZE:
		ck_assert_int_eq(mmvec_resize(v, keep + added), 0);
		break;
	case GROW_NGROWERS:
		ck_abort();
	}
	ck_assert_uint_eq(mmvec_len(v), keep + added);
	ck_assert_ptr_eq(mmvec_data(v), data);
	for (size_t i = 0; i < keep; i++)
		fast_assert(((unsigned char *)mmvec_at(v, i))[0] == 0xff);
	for (size_t i = keep; i < keep + added; i++)
		fast_assert_msg(is_zero(mmvec_at(v, i), es),
			      "elem size %zu, after %s then %s: element %zu not zero",
			      es, leftover_names[left], grower_names[grow], i);
	mmvec_free(v);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Shrinking gives memory back */

START_TEST(shrink_lowers_resident)
{
	const unsigned flags[] = { 0, MMVEC_NO_HUGEPAGES, MMVEC_POPULATE };

	for (size_t f = 0; f < ARRAY_LENGTH(flags); f++) {
		const size_t bytes = 16 * MIB, n = bytes / 8;
		struct mmvec *v = vec_new_ok(8, 0, flags[f]);
		unsigned char *data = mmvec_data(v);
		long rss_before, rss_after;
		size_t kept;

		ck_assert_ptr_eq(mmvec_extend(v, n), data);
		memset(data, 0x33, bytes);
		ck_assert_uint_eq(resident_pages(data, bytes), bytes / page);
		rss_before = rss_kib();
		ck_assert_int_ge(rss_before, 0);

		ck_assert_int_eq(mmvec_resize(v, 1000), 0);
		/* shrinking the length alone keeps the memory */
		ck_assert_uint_eq(resident_pages(data, bytes), bytes / page);
		ck_assert_int_eq(mmvec_shrink_to_fit(v), 0);

		kept = round_up(1000 * 8, page);
		ck_assert_uint_eq(resident_pages(data, kept), kept / page);
		ck_assert_uint_eq(resident_pages(data + kept, bytes - kept), 0);
		rss_after = rss_kib();
		ck_assert_int_ge(rss_after, 0);
		ck_assert_msg(rss_before - rss_after >= (long)(12 * MIB / KIB),
			      "flags 0x%x: Rss %ld kB before shrink_to_fit, %ld kB after",
			      flags[f], rss_before, rss_after);
		ck_assert_uint_eq(((unsigned char *)mmvec_at(v, 999))[7], 0x33);
		mmvec_free(v);
	}
}
END_TEST

/* New elements read as zero without the library touching memory nobody
 * wrote: resizing up over untouched pages leaves them untouched, and
 * resident pages are cleared in place (they stay resident). */
START_TEST(zeroing_leaves_untouched_pages)
{
	const unsigned flags[] = { 0, MMVEC_NO_HUGEPAGES };

	for (size_t f = 0; f < ARRAY_LENGTH(flags); f++) {
		const size_t bytes = 64 * MIB, n = bytes / 8;
		struct mmvec *v = vec_new_ok(8, 0, flags[f]);
		unsigned char *data = mmvec_data(v);

		ck_assert_int_eq(mmvec_resize(v, n), 0);
		ck_assert_int_eq(mmvec_resize(v, 0), 0);
		ck_assert_int_eq(mmvec_resize(v, n), 0);
		ck_assert_msg(resident_pages(data, bytes) == 0,
			      "flags 0x%x: %zu of %zu untouched pages faulted "
			      "in", flags[f], resident_pages(data, bytes),
			      bytes / page);

		/* a written first half is cleared in place */
		memset(data, 0x44, bytes / 2);
		ck_assert_int_eq(mmvec_resize(v, 0), 0);
		ck_assert_int_eq(mmvec_resize(v, n), 0);
		ck_assert_uint_eq(resident_pages(data, bytes / 2),
				  bytes / 2 / page);
		ck_assert_uint_eq(resident_pages(data + bytes / 2, bytes / 2),
				  0);
		ck_assert(is_zero(data, bytes));
		mmvec_free(v);
	}
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Memory past the committed pages faults (only added when Check forks) */

/* The first byte past the committed pages that hold the vector's capacity */
static volatile unsigned char *committed_end(const struct mmvec *v)
{
	uintptr_t end = (uintptr_t)mmvec_data(v) +
			mmvec_capacity(v) * mmvec_elem_size(v);

	return (volatile unsigned char *)round_up(end, page);
}

/* Writes the byte at @p, which must fault, then frees @v (only reached
 * when the write did not fault, and the test fails) */
static void must_fault(struct mmvec *v, volatile unsigned char *p)
{
	p[0] = 1;
	mmvec_free(v);
}

START_TEST(fault_past_capacity)
{
	struct mmvec *v = vec_new_ok(8, 0, MMVEC_NO_HUGEPAGES);

	ck_assert_ptr_nonnull(mmvec_push(v, NULL));
	ck_assert_ptr_ne((void *)committed_end(v), mmvec_data(v));
	must_fault(v, committed_end(v));
}
END_TEST

START_TEST(fault_past_capacity_large)
{
	/* past the 2 MiB commit steps of a large vector */
	struct mmvec *v = vec_new_ok(8, 0, 0);

	ck_assert_ptr_nonnull(mmvec_extend(v, 3 * MIB / 8 + 1));
	must_fault(v, committed_end(v));
}
END_TEST

START_TEST(fault_empty)
{
	struct mmvec *v = vec_new_ok(8, 0, 0);

	ck_assert_uint_eq(mmvec_capacity(v), 0);
	must_fault(v, mmvec_data(v));
}
END_TEST

START_TEST(fault_after_shrink)
{
	struct mmvec *v = vec_new_ok(8, 0, 0);
	volatile unsigned char *data = mmvec_data(v);

	ck_assert_ptr_nonnull(mmvec_extend(v, 10 * page / 8));
	data[10 * page - 1] = 1;
	ck_assert_int_eq(mmvec_resize(v, 1), 0);
	ck_assert_int_eq(mmvec_shrink_to_fit(v), 0);
	must_fault(v, data + page);
}
END_TEST

#ifndef _WIN32
/* ------------------------------------------------------------------------ */
/* The default reservation under RLIMIT_AS */

/* The process's virtual size in bytes (VmSize), or 0 if unknown */
static size_t vm_size(void)
{
	FILE *f = fopen("/proc/self/status", "r");
	char line[256];
	unsigned long long kib = 0;

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "VmSize: %llu kB", &kib) == 1)
			break;
	fclose(f);
	return (size_t)kib * KIB;
}

/* Exit codes of the child; away from 1 and 3, which are Valgrind's own
 * (out of memory, and --error-exitcode) */
enum rlimit_result {
	RL_OK = 0,
	RL_FIRST = 64,
	RL_VMSIZE = RL_FIRST,
	RL_SETRLIMIT,
	RL_NEW,
	RL_TOO_LARGE,
	RL_TOO_SMALL,
	RL_PUSH,
	RL_CONTENTS,
	RL_NO_HEADROOM,
	RL_REGION,
	RL_EXPLICIT,
	RL_END,
};

static const char *const rlimit_msgs[] = {
	[RL_VMSIZE - RL_FIRST] = "VmSize unreadable",
	[RL_SETRLIMIT - RL_FIRST] = "setrlimit(RLIMIT_AS) failed",
	[RL_NEW - RL_FIRST] = "mmvec_new(8, 0, 0) failed under RLIMIT_AS",
	[RL_TOO_LARGE - RL_FIRST] =
		"max_len * 8 passes half of the address space left",
	[RL_TOO_SMALL - RL_FIRST] =
		"max_len * 8 is under an eighth of the address space left",
	[RL_PUSH - RL_FIRST] = "mmvec_push failed",
	[RL_CONTENTS - RL_FIRST] = "an element does not hold what was pushed",
	[RL_NO_HEADROOM - RL_FIRST] = ("with a default vector alive, "
		"malloc(64 MiB) fails: the default reservation took the address "
		"space the program needs"),
	[RL_REGION - RL_FIRST] =
		"mmvec_region_new(0) failed or passed the address space left",
	[RL_EXPLICIT - RL_FIRST] =
		"an explicit reservation past the limit is not -ENOMEM",
};

static const char *rlimit_msg(int code)
{
	if (code >= RL_FIRST && code < RL_END)
		return rlimit_msgs[code - RL_FIRST];
	if (code == 1)
		return "not a test result; Valgrind exits 1 when it runs out of "
		       "memory itself (the default reservation left it no "
		       "address space?)";
	if (code == 3)
		return "not a test result; Valgrind found errors in the child";
	return "not a test result";
}

/* Runs in the forked child: no Check assertions, an exit code instead */
static enum rlimit_result rlimit_child(size_t headroom)
{
	size_t vm = vm_size();
	struct rlimit lim;
	struct mmvec *v = NULL;
	struct mmvec_region *r = NULL;
	enum rlimit_result res = RL_OK;
	size_t max;
	void *p;

	if (vm == 0)
		return RL_VMSIZE;
	lim.rlim_cur = lim.rlim_max = vm + headroom;
	if (setrlimit(RLIMIT_AS, &lim) != 0)
		return RL_SETRLIMIT;

	if (mmvec_new(8, 0, 0, &v) != 0)
		return RL_NEW;
	max = mmvec_max_len(v);
	if (max > headroom / 2 / 8)
		res = RL_TOO_LARGE;
	else if (max < headroom / 8 / 8)
		res = RL_TOO_SMALL;
	for (uint64_t i = 0; res == RL_OK && i < 100000; i++)
		if (!mmvec_push(v, &i))
			res = RL_PUSH;
	for (uint64_t i = 0; res == RL_OK && i < 100000; i++)
		if (*(uint64_t *)mmvec_at(v, i) != i)
			res = RL_CONTENTS;
	/* the process goes on working beside its vector */
	if (res == RL_OK) {
		p = malloc(64 * MIB);
		if (!p)
			res = RL_NO_HEADROOM;
		free(p);
	}
	mmvec_free(v);
	if (res != RL_OK)
		return res;

	if (mmvec_region_new(0, 0, &r) != 0)
		return RL_REGION;
	if (mmvec_region_reserved(r) > headroom)
		res = RL_REGION;
	mmvec_region_free(r);
	if (res != RL_OK)
		return res;

	v = NULL;
	if (mmvec_new(8, 2 * headroom / 8, 0, &v) != -ENOMEM || v != NULL) {
		mmvec_free(v);
		return RL_EXPLICIT;
	}
	return RL_OK;
}

/* Limits the address space to what the process has plus these: the
 * default reservation takes at most half of what is left, whatever the
 * size, and the process can still malloc() a large block. */
static const size_t rlimit_headrooms[] = {
	256 * MIB, 1 * GIB,
#if SIZE_MAX > 0xffffffffu
	32 * GIB + 1 * MIB, 48 * GIB,
#endif
};

static void run_child(int (*child)(size_t), size_t arg, const char *what)
{
	int status;
	pid_t pid;

	fflush(NULL);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0)
		_exit(child(arg));

	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert_msg(WIFEXITED(status), "%s: child killed by signal %d", what,
		      WIFSIGNALED(status) ? WTERMSIG(status) : 0);
	ck_assert_msg(WEXITSTATUS(status) == RL_OK, "%s: child exit %d: %s",
		      what, WEXITSTATUS(status),
		      rlimit_msg(WEXITSTATUS(status)));
}

static int rlimit_child_main(size_t headroom)
{
	return (int)rlimit_child(headroom);
}

START_TEST(default_reservation_rlimit)
{
	/* RLIMIT_AS counts PROT_NONE reservations: the default must fit in
	 * what is left, and leave room for the rest of the program (and for
	 * Valgrind, whose shadow memory lives in the same address space). */
	char what[64];
	size_t headroom = rlimit_headrooms[_i];

	snprintf(what, sizeof(what), "RLIMIT_AS = VmSize + %zu MiB",
		 headroom / MIB);
	run_child(rlimit_child_main, headroom, what);
}
END_TEST

/* Default vectors until the address space runs short: then mmvec_new()
 * fails with -ENOMEM, and the program still has address space of its own. */
static int exhaust_child(size_t headroom)
{
	size_t vm = vm_size();
	struct rlimit lim;
	struct mmvec *v;
	size_t n = 0;
	int rc;
	void *p;

	if (headroom) {
		if (vm == 0)
			return RL_VMSIZE;
		lim.rlim_cur = lim.rlim_max = vm + headroom;
		if (setrlimit(RLIMIT_AS, &lim) != 0)
			return RL_SETRLIMIT;
	}
	static struct mmvec *vs[1 << 20];
	enum rlimit_result res = RL_OK;

	while (n < ARRAY_LENGTH(vs) && (rc = mmvec_new(8, 0, 0, &v)) == 0) {
		uint64_t x = n;

		vs[n++] = v;
		if (!mmvec_push(v, &x))
			res = RL_PUSH;
	}
	if (res == RL_OK && (rc != -ENOMEM || n == 0))
		res = RL_NEW;
	if (res == RL_OK) {
		p = malloc(64 * MIB);
		if (!p)
			res = RL_NO_HEADROOM;
		else
			memset(p, 1, 64 * MIB);
		free(p);
	}
	while (n)
		mmvec_free(vs[--n]);
	return res;
}

START_TEST(default_reservations_exhausted)
{
	/* with a limit a few vectors; without one, all of the address space
	 * (thousands of vectors on 64-bit) */
	run_child(exhaust_child, _i == 0 ? 2 * GIB : 0,
		  _i == 0 ? "RLIMIT_AS = VmSize + 2 GiB" : "no limit");
}
END_TEST
#endif

Suite *test_suite(int argc, char **argv)
{
	Suite *s = suite_create("guarantees");
	TCase *tc;

	tc = test_case(s, "never-move", setup, NULL, 120);
	test_add(tc, 1, never_move_push, never_move_mixed, NULL);

	tc = test_case(s, "zero", setup, NULL, 30);
	test_add(tc, (int)(LEFT_NLEFTOVERS * GROW_NGROWERS *
			   ARRAY_LENGTH(zero_sizes)),
		 zero_new_elements, NULL);

	tc = test_case(s, "shrink", setup, NULL, 60);
	test_add_unless_qemu(tc, QEMU_NO_MINCORE, shrink_lowers_resident);
#ifdef _WIN32
	test_not_run(zeroing_leaves_untouched_pages->name, "Windows cannot "
		     "make committed pages read zero without touching them: "
		     "the OS layer zeroes with memset");
#else
	if (MMVEC_PORTABLE)
		test_not_run(zeroing_leaves_untouched_pages->name,
			     "the portable OS layer zeroes with memset");
	else
		test_add_unless_qemu(tc, QEMU_NO_MINCORE,
				     zeroing_leaves_untouched_pages);
#endif

	tc = test_case(s, "fault", setup, NULL, 30);
	test_add_signal(tc, SIGSEGV, fault_past_capacity,
			fault_past_capacity_large, fault_empty,
			fault_after_shrink, NULL);

	tc = test_case(s, "rlimit", setup, NULL, 60);
#ifdef _WIN32
	test_not_run("default_reservation_rlimit, "
		     "default_reservations_exhausted", "Windows has no "
		     "RLIMIT_AS and no fork() to set one in a child");
#else
	if (test_on_qemu_user()) {
		/* and every reservation costs it time in proportion to its
		 * size: thousands of default vectors would take hours */
		test_not_run("default_reservation_rlimit, "
			     "default_reservations_exhausted",
			     "under qemu-user, " QEMU_NO_RLIMIT);
	} else if (test_on_valgrind()) {
		/* Valgrind has limits of its own below the larger headrooms,
		 * and tracks every mapping: thousands take too long */
		printf("note: under Valgrind, default_reservation_rlimit runs "
		       "up to 1 GiB of headroom and "
		       "default_reservations_exhausted only with a limit\n");
		test_add(tc, 2, default_reservation_rlimit, NULL);
		test_add(tc, 1, default_reservations_exhausted, NULL);
	} else {
		test_add(tc, (int)ARRAY_LENGTH(rlimit_headrooms),
			 default_reservation_rlimit, NULL);
		test_add(tc, 2, default_reservations_exhausted, NULL);
	}
#endif
	return s;
}
