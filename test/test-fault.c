/*
 * SPDX-License-Identifier: MIT
 *
 * Fault injection: the OS layer's test hook (src/os.h) makes reserve,
 * commit, decommit and populate fail on demand. Every growing operation must
 * then fail with -ENOMEM (NULL and errno ENOMEM for the pointer functions)
 * and change nothing: not the length, the contents, the capacity, the data
 * pointer, nor what the kernel has mapped writable. Once the OS says yes
 * again, the same operation succeeds.
 *
 * Linked with the fault-injection build of the library (mmvec_test_dep).
 */
#include "runner.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef _WIN32
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>
#endif

#include "faults.h"
#include "mmvec.h"

/* ------------------------------------------------------------------------ */
/* Helpers */

static bool all_bytes(const void *p, size_t n, unsigned char byte)
{
	const unsigned char *c = p;

	for (size_t i = 0; i < n; i++)
		if (c[i] != byte)
			return false;
	return true;
}

/* Everything a failed call must leave as it was. */
struct snap {
	size_t len, cap, max_len;
	void *data;
	long long rw; /* what the kernel has writable from data */
	unsigned char *copy;
};

static void snap_take(struct snap *s, const struct mmvec *v)
{
	size_t bytes = mmvec_len(v) * mmvec_elem_size(v);

	s->len = mmvec_len(v);
	s->cap = mmvec_capacity(v);
	s->max_len = mmvec_max_len(v);
	s->data = mmvec_data(v);
	s->rw = maps_rw_bytes(s->data, SIZE_MAX);
	ck_assert_int_ge(s->rw, 0);
	s->copy = malloc(bytes ? bytes : 1);
	ck_assert_ptr_nonnull(s->copy);
	memcpy(s->copy, s->data, bytes);
}

static void snap_assert_same(const struct snap *s, const struct mmvec *v,
			     const char *what)
{
	ck_assert_msg(mmvec_len(v) == s->len, "%s: len %zu -> %zu", what,
		      s->len, mmvec_len(v));
	ck_assert_msg(mmvec_capacity(v) == s->cap, "%s: capacity %zu -> %zu",
		      what, s->cap, mmvec_capacity(v));
	ck_assert_msg(mmvec_max_len(v) == s->max_len, "%s: max_len changed",
		      what);
	ck_assert_msg(mmvec_data(v) == s->data, "%s: data moved", what);
	ck_assert_msg(memcmp(s->data, s->copy, s->len * mmvec_elem_size(v)) ==
		      0, "%s: contents changed", what);
	ck_assert_msg(maps_rw_bytes(s->data, SIZE_MAX) == s->rw,
		      "%s: writable bytes %lld -> %lld", what, s->rw,
		      maps_rw_bytes(s->data, SIZE_MAX));
}

static void snap_free(struct snap *s)
{
	free(s->copy);
	s->copy = NULL;
}

/* ------------------------------------------------------------------------ */
/* Every growing operation, with the OS refusing */

enum grow_op {
	G_PUSH, G_PUSH_NULL, G_EXTEND, G_APPEND, G_INSERT, G_RESIZE, G_RESERVE,
	G_NOPS
};

static const char *const grow_names[G_NOPS] = {
	"push", "push(NULL)", "extend", "append", "insert", "resize",
	"reserve",
};

/* Grow v by n elements (n == 1 for the pushes) with op; src holds n
 * elements. Returns 0 or a negative errno, checking errno for the
 * functions that return a pointer. */
static int grow_call(struct mmvec *v, enum grow_op op, size_t n,
		     const void *src)
{
	size_t len = mmvec_len(v), es = mmvec_elem_size(v);
	char *end = (char *)mmvec_data(v) + len * es;
	void *p = NULL;

	errno = 0;
	switch (op) {
	case G_PUSH: p = mmvec_push(v, src); break;
	case G_PUSH_NULL: p = mmvec_push(v, NULL); break;
	case G_EXTEND: p = mmvec_extend(v, n); break;
	case G_APPEND: return mmvec_append(v, src, n);
	case G_INSERT: return mmvec_insert(v, len / 2, src, n);
	case G_RESIZE: return mmvec_resize(v, len + n);
	case G_RESERVE: return mmvec_reserve(v, len + n);
	case G_NOPS: break;
	}
	if (p) {
		ck_assert_ptr_eq(p, end);
		return 0;
	}
	ck_assert_int_ne(errno, 0);
	return -errno;
}

/* After a successful grow_call() from a vector holding the pattern for
 * [0, old_len): the contents are what the operation promises. */
static void assert_grown(struct mmvec *v, enum grow_op op, size_t old_len,
			 size_t n)
{
	size_t es = mmvec_elem_size(v);
	char *d = mmvec_data(v);
	size_t at = old_len / 2;

	if (op == G_RESERVE) {
		ck_assert_uint_eq(mmvec_len(v), old_len);
		ck_assert_uint_ge(mmvec_capacity(v), old_len + n);
		ck_assert(pattern_check_range(d, es, 0, 0, old_len));
		return;
	}
	ck_assert_uint_eq(mmvec_len(v), old_len + n);
	ck_assert_uint_ge(mmvec_capacity(v), old_len + n);
	switch (op) {
	case G_PUSH:
	case G_APPEND:
		/* the source held the pattern continued */
		ck_assert(pattern_check_range(d, es, 0, 0, old_len + n));
		break;
	case G_INSERT:
		ck_assert(pattern_check_range(d, es, 0, 0, at));
		ck_assert(pattern_check_range(d + at * es, es, 0, old_len,
					old_len + n));
		ck_assert(pattern_check_range(d + (at + n) * es, es, 0, at,
					      old_len));
		break;
	default: /* zeroed */
		ck_assert(pattern_check_range(d, es, 0, 0, old_len));
		ck_assert(is_zero(d + old_len * es, n * es));
		break;
	}
}

static const size_t elem_sizes[] = { 1, 3, 8, 24, 100, 4096, 5000 };
static const unsigned flag_sets[] = {
	0, MMVEC_POPULATE, MMVEC_HUGEPAGES, MMVEC_NO_HUGEPAGES,
	MMVEC_HUGEPAGES | MMVEC_POPULATE,
};

/* A vector of es-byte elements holding the pattern: empty, or filled to
 * exactly its capacity so that any growth needs the OS. */
static struct mmvec *make_vec(size_t es, unsigned flags, bool full)
{
	struct mmvec *v = NULL;
	size_t max_len = 8 * MIB / es + 3;

	/* a fresh reservation: one from the cache may come with memory
	 * committed, and then growing need not ask the OS */
	mmvec_cache_flush();
	ck_assert_int_eq(mmvec_new(es, max_len, flags, &v), 0);
	if (full) {
		ck_assert_ptr_nonnull(mmvec_push(v, NULL));
		ck_assert_int_eq(mmvec_resize(v, mmvec_capacity(v)), 0);
		pattern_fill_range(mmvec_data(v), es, 0, 0, mmvec_len(v));
		ck_assert_uint_eq(mmvec_len(v), mmvec_capacity(v));
	}
	return v;
}

/* One case: op must fail with -ENOMEM while the ops in @mask fail, change
 * nothing, then succeed once they do not. */
static void grow_case(size_t es, unsigned flags, bool full, enum grow_op op,
		      size_t n_scale, unsigned mask)
{
	struct mmvec *v = make_vec(es, flags, full);
	size_t len = mmvec_len(v);
	size_t n = (op == G_PUSH || op == G_PUSH_NULL) ? 1
						       : 1 + n_scale * (len + 1);
	unsigned char *src = malloc(n * es);
	char what[160];
	struct snap s;
	int rc;

	snprintf(what, sizeof(what), "%s of %zu onto %zu elements of %zu "
		 "bytes, flags %#x, failing ops %#x", grow_names[op], n, len,
		 es, flags, mask);
	ck_assert_ptr_nonnull(src);
	pattern_fill_range(src, es, 0, len, len + n);

	snap_take(&s, v);
	faults_plan(mask, FAULT_ALL, 0, -ENOMEM);
	rc = grow_call(v, op, n, src);
	struct vm_fault_report rep = faults_stop();
	ck_assert_msg(rc == -ENOMEM, "%s: returned %d", what, rc);
	ck_assert_msg(rep.injected > 0, "%s: no failure was injected", what);
	snap_assert_same(&s, v, what);
	snap_free(&s);

	/* the OS says yes again */
	rc = grow_call(v, op, n, src);
	ck_assert_msg(rc == 0, "%s: returned %d once the OS agreed", what, rc);
	assert_grown(v, op, len, n);
	free(src);
	mmvec_free(v);
}

START_TEST(grow_ops_fail_cleanly)
{
	/* Valgrind: no huge-page sets (a huge page of elements per case) */
	unsigned n_flags = test_on_valgrind() ? 2
			   : test_slow()      ? 3
						: ARRAY_LENGTH(flag_sets);

	for (size_t k = 0; k < ARRAY_LENGTH(elem_sizes); k++) {
		size_t es = elem_sizes[k];

		for (unsigned f = 0; f < n_flags; f++) {
			unsigned flags = flag_sets[f];

			/* a huge page of elements per case: fewer sizes */
			if ((flags & MMVEC_HUGEPAGES) && es != 1 && es != 24 &&
			    es != 5000)
				continue;
			if (test_on_valgrind() && es != 1 && es != 24 &&
			    es != 5000)
				continue;
			for (int op = 0; op < G_NOPS; op++) {
				for (int full = 0; full < 2; full++) {
					grow_case(es, flags, full, op, 0,
						  FAULT_BIT(MMVEC__OS_COMMIT));
					grow_case(es, flags, full, op, 2,
						  FAULT_BIT(MMVEC__OS_COMMIT));
					if (flags & MMVEC_POPULATE)
						grow_case(es, flags, full, op,
							  1,
							  FAULT_BIT(MMVEC__OS_POPULATE));
				}
			}
		}
	}
}
END_TEST

/* A populate failure is undone with a decommit, which must happen (or the
 * memory would stay committed and unpopulated). */
START_TEST(populate_failure_is_undone)
{
	struct mmvec *v = make_vec(8, MMVEC_POPULATE, true);
	struct snap s;

	snap_take(&s, v);
	faults_plan(FAULT_BIT(MMVEC__OS_POPULATE), FAULT_ALL, 0, -ENOMEM);
	ck_assert_ptr_null(mmvec_push(v, NULL));
	ck_assert_int_eq(errno, ENOMEM);
	ck_assert_uint_ge(faults_injected(MMVEC__OS_POPULATE), 1);
	ck_assert_uint_eq(faults_calls(MMVEC__OS_DECOMMIT),
			  faults_injected(MMVEC__OS_POPULATE));
	faults_stop();
	snap_assert_same(&s, v, "push with populate failing");
	snap_free(&s);
	mmvec_free(v);
}
END_TEST

/* Growth asks for twice the memory it needs; when the OS refuses that, a
 * call that fits in what it needs still succeeds. */
START_TEST(refused_doubling_falls_back)
{
	struct mmvec *v = make_vec(8, MMVEC_NO_HUGEPAGES, false);
	size_t page = mmvec_page_size();

	/* four pages committed and full */
	ck_assert_int_eq(mmvec_resize(v, 4 * page / 8), 0);
	ck_assert_int_eq(mmvec_shrink_to_fit(v), 0);
	ck_assert_uint_eq(mmvec_capacity(v), 4 * page / 8);
	faults_plan(FAULT_BIT(MMVEC__OS_COMMIT), FAULT_NTH, 0, -ENOMEM);
	ck_assert_ptr_nonnull(mmvec_push(v, NULL));
	struct vm_fault_report rep = faults_stop();
	ck_assert_uint_eq(rep.injected, 1);
	ck_assert_uint_eq(faults_calls(MMVEC__OS_COMMIT), 2);
	ck_assert_uint_eq(mmvec_len(v), 4 * page / 8 + 1);
	ck_assert_uint_lt(mmvec_capacity(v), 8 * page / 8);
	mmvec_free(v);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Reservation: mmvec_region_new() and mmvec_new() */

START_TEST(reserve_fails_cleanly)
{
	struct mmvec_region *r = (struct mmvec_region *)&r;
	struct mmvec *v = (struct mmvec *)&v;
	static const size_t sizes[] = { 1, 4096, 3 * MIB, 64 * MIB };

	for (size_t k = 0; k < ARRAY_LENGTH(sizes); k++) {
		faults_plan(FAULT_BIT(MMVEC__OS_RESERVE), FAULT_ALL, 0,
			    -ENOMEM);
		ck_assert_int_eq(mmvec_region_new(sizes[k], 0, &r), -ENOMEM);
		ck_assert_ptr_eq(r, (struct mmvec_region *)&r);
		ck_assert_int_eq(mmvec_new(1, sizes[k], MMVEC_HUGEPAGES, &v),
				 -ENOMEM);
		ck_assert_ptr_eq(v, (struct mmvec *)&v);
		ck_assert_uint_ge(faults_injected(MMVEC__OS_RESERVE), 2);
		faults_stop();
	}
	/* the default size halves until the OS agrees; when it never does,
	 * the loop still ends */
	faults_plan(FAULT_BIT(MMVEC__OS_RESERVE), FAULT_ALL, 0, -ENOMEM);
	ck_assert_int_eq(mmvec_region_new(0, 0, &r), -ENOMEM);
	ck_assert_int_eq(mmvec_new(16, 0, 0, &v), -ENOMEM);
	faults_stop();
	ck_assert_ptr_eq(r, (struct mmvec_region *)&r);
	ck_assert_ptr_eq(v, (struct mmvec *)&v);

	/* and everything works again */
	ck_assert_int_eq(mmvec_region_new(3 * MIB, 0, &r), 0);
	ck_assert_uint_eq(mmvec_region_reserved(r), 3 * MIB);
	mmvec_region_free(r);
	ck_assert_int_eq(mmvec_new(16, 100, 0, &v), 0);
	ck_assert_uint_eq(mmvec_max_len(v), 100);
	mmvec_free(v);
}
END_TEST

/* The default reservation halves until the OS grants it and as much again
 * (mmvec_region_new()). */
START_TEST(default_reservation_halves)
{
	struct mmvec_region *r = NULL;
	struct mmvec *v = NULL;

	faults_plan(FAULT_BIT(MMVEC__OS_RESERVE), FAULT_ABOVE, 256 * MIB,
		    -ENOMEM);
	ck_assert_int_eq(mmvec_region_new(0, 0, &r), 0);
	ck_assert_int_eq(mmvec_new(24, 0, 0, &v), 0);
	faults_stop();
	ck_assert_uint_eq(mmvec_region_reserved(r), 256 * MIB);
	ck_assert_uint_eq(mmvec_max_len(v), 256 * MIB / 24);
	ck_assert_int_eq(mmvec_region_commit(r, 32 * MIB), 0);
	ck_assert_int_eq(mmvec_region_commit(r, 256 * MIB + 1), -ENOSPC);
	ck_assert_int_eq(mmvec_resize(v, 256 * MIB / 24), 0);
	ck_assert_int_eq(mmvec_resize(v, 256 * MIB / 24 + 1), -ENOSPC);
	mmvec_region_free(r);
	mmvec_free(v);
}
END_TEST

#ifndef _WIN32
/* Huge-page alignment needs slack address space; without it an exact
 * reservation is still made. */
START_TEST(aligned_reserve_falls_back)
{
	struct mmvec_region *r = NULL;

	faults_plan(FAULT_BIT(MMVEC__OS_RESERVE), FAULT_NTH, 0, -ENOMEM);
	ck_assert_int_eq(mmvec_region_new(4 * MIB, MMVEC_HUGEPAGES, &r), 0);
	faults_stop();
	ck_assert_uint_eq(mmvec_region_reserved(r), 4 * MIB);
	ck_assert_int_eq(mmvec_region_commit(r, 4 * MIB), 0);
	memset(mmvec_region_base(r), 0x5a, 4 * MIB);
	mmvec_region_free(r);
}
END_TEST
#endif

/* ------------------------------------------------------------------------ */
/* The region layer */

START_TEST(region_commit_fails_cleanly)
{
	static const unsigned flags[] = { 0, MMVEC_POPULATE, MMVEC_HUGEPAGES,
					  MMVEC_HUGEPAGES | MMVEC_POPULATE };
	size_t page = mmvec_page_size();

	for (size_t f = 0; f < ARRAY_LENGTH(flags); f++) {
		for (unsigned which = 0; which < 2; which++) {
			unsigned mask = which ? FAULT_BIT(MMVEC__OS_POPULATE)
					      : FAULT_BIT(MMVEC__OS_COMMIT);
			struct mmvec_region *r = NULL;
			unsigned char *base;

			if (which && !(flags[f] & MMVEC_POPULATE))
				continue;
			/* nothing cached: a refused commit that finds
			 * committed memory in the cache gives it back and
			 * tries once more (a third injected failure) */
			mmvec_cache_flush();
			ck_assert_int_eq(mmvec_region_new(8 * MIB, flags[f],
							  &r), 0);
			base = mmvec_region_base(r);
			ck_assert_int_eq(mmvec_region_commit(r, 3 * page), 0);
			size_t had = mmvec_region_committed(r);
			memset(base, 0x77, had);

			faults_plan(mask, FAULT_ALL, 0, -ENOMEM);
			ck_assert_int_eq(mmvec_region_commit(r, had + 1),
					 -ENOMEM);
			ck_assert_int_eq(mmvec_region_commit(r, 8 * MIB),
					 -ENOMEM);
			struct vm_fault_report rep = faults_stop();
			ck_assert_uint_eq(rep.injected, 2);
			ck_assert_uint_eq(mmvec_region_committed(r), had);
			ck_assert_int_eq(maps_rw_bytes(base, 8 * MIB),
					 (long long)had);
			/* committing no more than is committed needs no OS */
			faults_plan(FAULT_FALLIBLE, FAULT_ALL, 0, -ENOMEM);
			ck_assert_int_eq(mmvec_region_commit(r, had), 0);
			ck_assert_int_eq(mmvec_region_commit(r, 0), 0);
			rep = faults_stop();
			ck_assert_uint_eq(rep.calls, 0);
			ck_assert_int_eq(maps_rw_bytes(base, 8 * MIB),
					 (long long)had);
			ck_assert(all_bytes(base, had, 0x77));

			ck_assert_int_eq(mmvec_region_commit(r, had + 1), 0);
			ck_assert_uint_gt(mmvec_region_committed(r), had);
			ck_assert_int_eq(maps_rw_bytes(base, 8 * MIB),
				(long long)mmvec_region_committed(r));
			ck_assert(is_zero(base + had,
					   mmvec_region_committed(r) - had));
			mmvec_region_free(r);
		}
	}
}
END_TEST

START_TEST(region_decommit_fails_cleanly)
{
	size_t page = mmvec_page_size();
	struct mmvec_region *r = NULL;
	unsigned char *base;

	ck_assert_int_eq(mmvec_region_new(64 * page, MMVEC_NO_HUGEPAGES, &r),
			 0);
	base = mmvec_region_base(r);
	ck_assert_int_eq(mmvec_region_commit(r, 32 * page), 0);
	memset(base, 0x3c, 32 * page);

	faults_plan(FAULT_BIT(MMVEC__OS_DECOMMIT), FAULT_ALL, 0, -ENOMEM);
	ck_assert_int_eq(mmvec_region_decommit(r, 5 * page + 1), -ENOMEM);
	ck_assert_uint_eq(faults_injected(MMVEC__OS_DECOMMIT), 1);
	faults_stop();
	ck_assert_uint_eq(mmvec_region_committed(r), 32 * page);
	ck_assert_int_eq(maps_rw_bytes(base, 64 * page),
			 (long long)(32 * page));
	ck_assert(all_bytes(base, 32 * page, 0x3c));

	ck_assert_int_eq(mmvec_region_decommit(r, 5 * page + 1), 0);
	ck_assert_uint_eq(mmvec_region_committed(r), 6 * page);
	ck_assert_int_eq(maps_rw_bytes(base, 64 * page),
			 (long long)(6 * page));
	ck_assert_int_eq(mmvec_region_commit(r, 32 * page), 0);
	ck_assert(all_bytes(base, 6 * page, 0x3c));
	ck_assert(is_zero(base + 6 * page, 26 * page));
	mmvec_region_free(r);
}
END_TEST

START_TEST(shrink_decommit_fails_cleanly)
{
	for (size_t k = 0; k < ARRAY_LENGTH(elem_sizes); k++) {
		size_t es = elem_sizes[k];
		struct mmvec *v = make_vec(es, MMVEC_NO_HUGEPAGES, false);
		size_t n = 3 * mmvec_page_size() / es + 2;
		struct snap s;

		ck_assert_int_eq(mmvec_reserve(v, 8 * n), 0);
		ck_assert_ptr_nonnull(mmvec_extend(v, n));
		pattern_fill_range(mmvec_data(v), es, 0, 0, n);

		snap_take(&s, v);
		faults_plan(FAULT_BIT(MMVEC__OS_DECOMMIT), FAULT_ALL, 0,
			    -ENOMEM);
		ck_assert_int_eq(mmvec_shrink_to_fit(v), -ENOMEM);
		ck_assert_uint_eq(faults_injected(MMVEC__OS_DECOMMIT), 1);
		faults_stop();
		snap_assert_same(&s, v, "shrink_to_fit");
		snap_free(&s);

		/* the elements past the end are still no-access for the
		 * checkers, and the vector still grows into them */
		ck_assert_int_eq(mmvec_resize(v, 2 * n), 0);
		ck_assert(pattern_check_range(mmvec_data(v), es, 0, 0, n));
		ck_assert(is_zero((char *)mmvec_data(v) + n * es, n * es));
		ck_assert_int_eq(mmvec_resize(v, n), 0);

		ck_assert_int_eq(mmvec_shrink_to_fit(v), 0);
		ck_assert_uint_lt(mmvec_capacity(v), 8 * n);
		ck_assert_uint_ge(mmvec_capacity(v), n);
		ck_assert(pattern_check_range(mmvec_data(v), es, 0, 0, n));
		mmvec_free(v);
	}
}
END_TEST

/* ------------------------------------------------------------------------ */
/* A populate failure whose undo (a decommit) also fails: the region cannot
 * take the memory back. Whatever it reports must match the kernel, the
 * elements must be intact, and the vector must stay usable. Run in a child
 * with an alarm: a vector whose bookkeeping disagrees can loop forever. */

static size_t child_es;
static bool child_full;

/* mmvec_capacity() == min(committed / es, max_len), committed as the kernel
 * sees it. */
static void assert_cap_matches_kernel(const struct mmvec *v)
{
	size_t es = mmvec_elem_size(v), page = mmvec_page_size();
	size_t max_len = mmvec_max_len(v);
	size_t limit = (max_len * es + page - 1) / page * page;
	long long rw = maps_rw_bytes(mmvec_data(v), limit);
	size_t want;

	ck_assert_int_ge(rw, 0);
	want = (size_t)rw / es < max_len ? (size_t)rw / es : max_len;
	ck_assert_msg(mmvec_capacity(v) == want, "capacity %zu, but %lld "
		      "bytes are writable: %zu elements", mmvec_capacity(v),
		      rw, want);
}

START_TEST(double_failure_child)
{
	size_t es = child_es;
	struct mmvec *v = make_vec(es, MMVEC_POPULATE, child_full);
	size_t len = mmvec_len(v);
	size_t more;
	struct snap s;
	void *p;

	snap_take(&s, v);
	faults_plan(FAULT_BIT(MMVEC__OS_POPULATE) |
		    FAULT_BIT(MMVEC__OS_DECOMMIT), FAULT_ALL, 0, -ENOMEM);
	p = mmvec_push(v, NULL);
	faults_stop();
	/* Either the push fails and changes nothing but the committed
	 * memory it could not give back, or it fits in that memory. */
	if (p) {
		ck_assert_uint_eq(mmvec_len(v), len + 1);
		ck_assert(is_zero(p, es));
		len++;
	} else {
		ck_assert_int_eq(errno, ENOMEM);
		ck_assert_uint_eq(mmvec_len(v), s.len);
	}
	ck_assert_ptr_eq(mmvec_data(v), s.data);
	ck_assert(memcmp(s.data, s.copy, s.len * es) == 0);
	snap_free(&s);
	assert_cap_matches_kernel(v);

	/* the OS agrees again: growth works */
	for (size_t k = 0; k < 3; k++) {
		ck_assert_ptr_nonnull(mmvec_push(v, NULL));
		ck_assert_uint_eq(mmvec_len(v), len + k + 1);
	}
	assert_cap_matches_kernel(v);
	more = mmvec_max_len(v) - len < 5000 ? mmvec_max_len(v) - len : 5000;
	ck_assert_int_eq(mmvec_resize(v, len + more), 0);
	ck_assert(pattern_check_range(mmvec_data(v), es, 0, 0, s.len));
	ck_assert(is_zero((char *)mmvec_data(v) + s.len * es,
			   (len + more - s.len) * es));
	assert_cap_matches_kernel(v);
	mmvec_free(v);
}
END_TEST

START_TEST(populate_and_undo_fail)
{
	static const size_t sizes[] = { 4, 5000 };

	for (size_t k = 0; k < ARRAY_LENGTH(sizes); k++) {
		for (int full = 0; full < 2; full++) {
#ifdef _WIN32
			child_es = sizes[k];
			child_full = full;
			/* no fork(): in this process, meson's timeout
			 * standing in for the alarm */
			double_failure_child->fn(0);
#else
			int status;

			child_es = sizes[k];
			child_full = full;
			status = test_run_in_child(double_failure_child,
						   test_slow() ? 60 : 10);
			ck_assert_msg(!WIFSIGNALED(status) ||
				      WTERMSIG(status) != SIGALRM,
				      "elem_size %zu, %s: the vector hung "
				      "after a failed populate+undo",
				      sizes[k], full ? "full" : "empty");
			ck_assert_msg(WIFEXITED(status) &&
				      WEXITSTATUS(status) == 0,
				      "elem_size %zu, %s: child failed (status "
				      "%#x, see its output above)", sizes[k],
				      full ? "full" : "empty", status);
#endif
		}
	}
}
END_TEST

#ifndef _WIN32
/* ------------------------------------------------------------------------ */
/* A real refusal from the kernel: RLIMIT_DATA counts private writable
 * mappings, so mprotect() to writable fails with ENOMEM once the limit is
 * reached, while the PROT_NONE reservation is not counted. */

START_TEST(rlimit_child)
{
	struct mmvec *v = NULL;
	struct mmvec_region *r = NULL;
	struct rlimit rl;
	long long data;
	struct snap s;

	/* reserve first: PROT_NONE is not data */
	ck_assert_int_eq(mmvec_new(64, 4 * MIB, 0, &v), 0);
	ck_assert_int_eq(mmvec_region_new(256 * MIB, 0, &r), 0);
	ck_assert_int_eq(mmvec_resize(v, 1000), 0);
	pattern_fill_range(mmvec_data(v), 64, 0, 0, 1000);
	data = proc_kib("/proc/self/status", "VmData") * (long long)KIB;
	ck_assert_int_gt(data, 0);
	rl.rlim_cur = rl.rlim_max = (rlim_t)data + 32 * MIB;
	ck_assert_int_eq(setrlimit(RLIMIT_DATA, &rl), 0);

	snap_take(&s, v);
	ck_assert_int_eq(mmvec_reserve(v, 2 * MIB), -ENOMEM);
	ck_assert_int_eq(mmvec_resize(v, 2 * MIB), -ENOMEM);
	ck_assert_ptr_null(mmvec_extend(v, 2 * MIB));
	ck_assert_int_eq(errno, ENOMEM);
	snap_assert_same(&s, v, "growth past RLIMIT_DATA");
	snap_free(&s);
	ck_assert_int_eq(mmvec_region_commit(r, 256 * MIB), -ENOMEM);
	ck_assert_uint_eq(mmvec_region_committed(r), 0);
	ck_assert_int_eq(maps_rw_bytes(mmvec_region_base(r), 256 * MIB), 0);

	/* small growth still fits under the limit */
	ck_assert_int_eq(mmvec_resize(v, 2000), 0);
	ck_assert(pattern_check_range(mmvec_data(v), 64, 0, 0, 1000));
	ck_assert_int_eq(mmvec_region_commit(r, MIB), 0);

	/* decommit gives the limit back: then a commit of the same size
	 * that failed before succeeds */
	ck_assert_int_eq(mmvec_region_decommit(r, 0), 0);
	mmvec_clear(v);
	ck_assert_int_eq(mmvec_shrink_to_fit(v), 0);
	ck_assert_int_eq(mmvec_region_commit(r, 24 * MIB), 0);
	ck_assert_int_eq(mmvec_region_decommit(r, 0), 0);
	ck_assert_int_eq(mmvec_region_commit(r, 24 * MIB), 0);
	mmvec_region_free(r);
	mmvec_free(v);
}
END_TEST

START_TEST(kernel_refusal_rlimit_data)
{
	int status = test_run_in_child(rlimit_child, 60);

	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
		      "child failed (status %#x, see its output above)",
		      status);
}
END_TEST
#endif

/* ------------------------------------------------------------------------ */
/* Random operation sequences with random failures */

START_TEST(random_faults)
{
	struct test_seeds seeds;
	unsigned long steps = test_on_valgrind() ? 100 : 300;
	unsigned kernel_every = (unsigned)env_u64("MMVEC_TEST_KERNEL_EVERY", 7);
	unsigned long enomem = 0;
	uint64_t seed;

	seeds_init(&seeds, 2000, 8);
	while (seeds_next(&seeds, &seed)) {
		struct vm h;

		if (vm_run(&h, seed, (size_t)1 << 19, &faults_random,
			   kernel_every, steps) != 0)
			ck_abort_msg("seed %" PRIu64 ": %s (rerun with "
				     "MMVEC_TEST_SEED=%" PRIu64 ")", seed,
				     h.msg, seed);
		enomem += h.enomem;
		vm_close(&h);
	}
	printf("random faults: %" PRIu64 " seeds from %" PRIu64 ", %lu calls "
	       "failed with ENOMEM, %.1f s\n", seeds.done, seeds.first,
	       enomem, now_seconds() - seeds.start);
	if (getenv("MMVEC_TEST_VERBOSE"))
		vm_print_stats(stdout);
	/* the plans did make calls fail */
	ck_assert_uint_gt(enomem, 0);
}
END_TEST

/* With MMVEC_TEST_VERBOSE set, each test prints how long it took. */
static double test_start;

static void timing_setup(void)
{
	test_start = now_seconds();
}

static void timing_teardown(void)
{
	if (getenv("MMVEC_TEST_VERBOSE"))
		printf("  %.2f s\n", now_seconds() - test_start);
}

Suite *test_suite(int argc, char **argv)
{
	Suite *s = suite_create("fault-injection");
	TCase *ops = test_case(s, "ops", timing_setup, timing_teardown, 300);
	TCase *random = test_case(s, "random", NULL, NULL, 600);

	test_add(ops, 1, grow_ops_fail_cleanly, populate_failure_is_undone,
		 refused_doubling_falls_back, reserve_fails_cleanly,
		 default_reservation_halves,
		 region_commit_fails_cleanly, region_decommit_fails_cleanly,
		 shrink_decommit_fails_cleanly, populate_and_undo_fail, NULL);
#ifdef _WIN32
	test_not_run("aligned_reserve_falls_back", "Windows has no "
		     "transparent huge pages, so the OS layer reserves no "
		     "slack");
#else
	test_add_if(ops, !MMVEC_PORTABLE,
		    "the portable OS layer uses no huge pages, so it reserves "
		    "no slack", aligned_reserve_falls_back);
#endif
	/* Valgrind's own allocations share the limit, and it aborts when
	 * they fail */
#ifdef _WIN32
	test_not_run("kernel_refusal_rlimit_data", "Windows has no "
		     "RLIMIT_DATA (test-win32 has a commit refused by a job "
		     "object's limit)");
#else
	if (test_on_qemu_user())
		test_not_run("kernel_refusal_rlimit_data", QEMU_NO_RLIMIT);
	else
		test_add_not_on_valgrind(ops, kernel_refusal_rlimit_data);
#endif
	test_add(random, 1, random_faults, NULL);
	return s;
}
