/*
 * SPDX-License-Identifier: MIT
 *
 * Every public function's error paths, white-box: linked against the
 * uninstalled static build whose OS layer can be told to fail (os.h,
 * MMVEC_FAULT_INJECTION). After each failure the vector (or region) must be
 * exactly as before, and a failure found by checking arguments must not have
 * called the OS at all.
 */
#include "runner.h"

#include <stdio.h>
#include <stdlib.h>

#ifndef _WIN32
#include <sys/mman.h>
#endif

#include "faults.h"
#include "os.h"

static size_t page;

/* ------------------------------------------------------------------------ */
/* Fault injection */

#define OP(op) FAULT_BIT(MMVEC__OS_##op)

/* The OS operations in @ops fail with @err when asked for more than @above
 * bytes, until heal_os(). */
static void fail_os(unsigned ops, int err, size_t above)
{
	faults_plan(ops, FAULT_ABOVE, above, err);
}

static void heal_os(void)
{
	faults_stop();
}

static void setup(void)
{
	page = mmvec_page_size();
	heal_os();
}

static void teardown(void)
{
	heal_os();
}

struct os_calls {
	unsigned long n[MMVEC__OS_NOPS];
};

static void os_calls_take(struct os_calls *c)
{
	memcpy(c->n, mmvec__os_calls, sizeof(c->n));
}

/* Failing argument checks (everything but ENOMEM) come before any OS call */
#define ck_assert_no_os_calls(before_)						\
	do {									\
		for (int cno_op_ = 0; cno_op_ < MMVEC__OS_NOPS; cno_op_++)	\
			ck_assert_msg(mmvec__os_calls[cno_op_] ==		\
				      (before_)->n[cno_op_],			\
				      "OS operation %d called by a call that failed its argument checks", \
				      cno_op_);					\
	} while (0)

/* ------------------------------------------------------------------------ */
/* Asserting failures */

/* What a call on a vector that must fail with @err may not change */
struct failure {
	struct vec_snapshot snap;
	struct os_calls calls;
	int err;
};

static void failure_begin(struct failure *f, const struct mmvec *v, int err)
{
	vec_snapshot_take(&f->snap, v);
	os_calls_take(&f->calls);
	f->err = err;
}

#define ck_failed_cleanly(v_, f_)						\
	do {									\
		ck_assert_vec_unchanged((v_), &(f_)->snap);			\
		if ((f_)->err != -ENOMEM)					\
			ck_assert_no_os_calls(&(f_)->calls);			\
		vec_snapshot_release(&(f_)->snap);				\
	} while (0)

/* An int-returning call on vector v_ fails with err_ and changes nothing */
#define ck_fails(v_, call_, err_)						\
	do {									\
		struct failure cf_;						\
		failure_begin(&cf_, (v_), (err_));				\
		ck_assert_int_eq((call_), cf_.err);				\
		ck_failed_cleanly((v_), &cf_);					\
	} while (0)

/* A pointer-returning call on vector v_ returns NULL, sets errno to
 * -err_ and changes nothing */
#define ck_fails_ptr(v_, call_, err_)						\
	do {									\
		struct failure cf_;						\
		failure_begin(&cf_, (v_), (err_));				\
		ck_assert_null_errno((call_), -cf_.err);			\
		ck_failed_cleanly((v_), &cf_);					\
	} while (0)

/* A call that must succeed and change nothing (n == 0 no-ops) */
#define ck_noop(v_, call_)							\
	do {									\
		struct vec_snapshot cn_snap_;					\
		vec_snapshot_take(&cn_snap_, (v_));				\
		ck_assert_int_eq((call_), 0);					\
		ck_assert_vec_unchanged((v_), &cn_snap_);			\
		vec_snapshot_release(&cn_snap_);				\
	} while (0)

/* A constructor, call_, fails with err_ and leaves its out parameter
 * alone: out_, a type_ pointer set to BAD_PTR before */
#define ck_constructor_fails(type_, out_, call_, err_)				\
	do {									\
		type_ *out_ = BAD_PTR;						\
		struct os_calls ccf_calls_;					\
		int ccf_err_ = (err_);						\
		os_calls_take(&ccf_calls_);					\
		ck_assert_int_eq((call_), ccf_err_);				\
		ck_assert_ptr_eq(out_, BAD_PTR);				\
		if (ccf_err_ != -ENOMEM)					\
			ck_assert_no_os_calls(&ccf_calls_);			\
	} while (0)

#define ck_new_fails(es_, max_, flags_, err_)					\
	ck_constructor_fails(struct mmvec, cnf_v_,				\
			     mmvec_new((es_), (max_), (flags_), &cnf_v_), (err_))

#define ck_region_new_fails(max_, flags_, err_)					\
	ck_constructor_fails(struct mmvec_region, crnf_r_,			\
			     mmvec_region_new((max_), (flags_), &crnf_r_),	\
			     (err_))

/* A region: committed bytes, base and the first committed bytes unchanged */
struct region_snapshot {
	void *base;
	size_t reserved, committed;
	unsigned char *copy;
};

static void region_snapshot_take(struct region_snapshot *s,
				 const struct mmvec_region *r)
{
	s->base = mmvec_region_base(r);
	s->reserved = mmvec_region_reserved(r);
	s->committed = mmvec_region_committed(r);
	s->copy = NULL;
	if (s->committed) {
		s->copy = malloc(s->committed);
		ck_assert_ptr_nonnull(s->copy);
		memcpy(s->copy, s->base, s->committed);
	}
}

#define ck_assert_region_unchanged(r_, s_)					\
	do {									\
		ck_assert_ptr_eq(mmvec_region_base(r_), (s_)->base);		\
		ck_assert_uint_eq(mmvec_region_reserved(r_), (s_)->reserved);	\
		ck_assert_uint_eq(mmvec_region_committed(r_), (s_)->committed); \
		if ((s_)->committed) {						\
			ck_assert(vma_accessible((char *)(s_)->base +		\
						 (s_)->committed - 1));		\
			ck_assert_msg(memcmp((s_)->base, (s_)->copy,		\
					     (s_)->committed) == 0,		\
				      "region contents changed");		\
		}								\
		if ((s_)->committed < (s_)->reserved)				\
			ck_assert_msg(!vma_accessible((char *)(s_)->base +	\
						      (s_)->committed),		\
				      "memory past the commit is accessible");	\
		free((s_)->copy);						\
		(s_)->copy = NULL;						\
	} while (0)

/* ------------------------------------------------------------------------ */
/* Vectors to fail on */

/* A vector of @len pattern elements */
static struct mmvec *vec_with(size_t es, size_t max_len, size_t len)
{
	struct mmvec *v = vec_new_ok(es, max_len, 0);

	push_pattern(v, 1, len);
	return v;
}

/* A vector holding exactly as many elements as its capacity, so that the
 * next element needs the OS; the first @at_least hold pattern 2, the rest
 * zeroes. */
static struct mmvec *vec_at_capacity(size_t es, size_t max_len,
				     unsigned flags, size_t at_least)
{
	struct mmvec *v = vec_new_ok(es, max_len, flags);
	unsigned char *p = mmvec_extend(v, at_least);
	size_t cap;

	ck_assert_ptr_nonnull(p);
	for (size_t i = 0; i < at_least; i++)
		pattern_fill(p + i * es, es, 2, i);
	cap = mmvec_capacity(v);
	ck_assert_int_eq(mmvec_resize(v, cap), 0);
	ck_assert_uint_eq(mmvec_len(v), cap);
	ck_assert_uint_eq(mmvec_capacity(v), cap);
	ck_assert_uint_lt(cap, mmvec_max_len(v));
	return v;
}

/* ------------------------------------------------------------------------ */
/* Region layer */

START_TEST(region_new_errors)
{
	const unsigned bad_flags[] = {
		MMVEC_HUGEPAGES | MMVEC_NO_HUGEPAGES, 1u << 3, 1u << 31, ~0u,
	};
	struct mmvec_region *r = BAD_PTR;

	/* EINVAL: NULL out, bad flags; before EOVERFLOW and ENOMEM */
	ck_assert_int_eq(mmvec_region_new(page, 0, NULL), -EINVAL);
	ck_assert_int_eq(mmvec_region_new(0, 0, NULL), -EINVAL);
	ck_assert_int_eq(mmvec_region_new(SIZE_MAX, 0, NULL), -EINVAL);
	ck_assert_int_eq(mmvec_region_new(page, 1u << 5, NULL), -EINVAL);
	for (size_t i = 0; i < ARRAY_LENGTH(bad_flags); i++) {
		ck_region_new_fails(page, bad_flags[i], -EINVAL);
		ck_region_new_fails(0, bad_flags[i], -EINVAL);
		ck_region_new_fails(SIZE_MAX, bad_flags[i], -EINVAL);
	}

	/* EOVERFLOW: rounded up to a page it does not fit */
	ck_region_new_fails(SIZE_MAX, 0, -EOVERFLOW);
	ck_region_new_fails(SIZE_MAX - page + 2, 0, -EOVERFLOW);
	fail_os(OP(RESERVE), -ENOMEM, 0);
	ck_region_new_fails(SIZE_MAX, 0, -EOVERFLOW);
	heal_os();

	/* ENOMEM: a page multiple no OS grants */
	ck_region_new_fails(SIZE_MAX - page + 1, 0, -ENOMEM);
	/* 3.5 GiB in a 32-bit process: no 4 GiB address space has room */
	ck_region_new_fails(SIZE_MAX / 8 * 7 + 1, 0, -ENOMEM);

	/* ENOMEM from the OS, whatever errno the OS gave (Valgrind refuses
	 * large mappings with EINVAL) */
	fail_os(OP(RESERVE), -ENOMEM, 0);
	ck_region_new_fails(page, 0, -ENOMEM);
	ck_region_new_fails(0, 0, -ENOMEM);
	fail_os(OP(RESERVE), -EINVAL, 0);
	ck_region_new_fails(page, 0, -ENOMEM);
	ck_region_new_fails(16 * MIB, MMVEC_HUGEPAGES, -ENOMEM);
	ck_region_new_fails(0, 0, -ENOMEM);
	heal_os();

	ck_assert_int_eq(mmvec_region_new(page, 0, &r), 0);
	mmvec_region_free(r);
}
END_TEST

START_TEST(region_new_default_halves)
{
	/* The default halves its request until the OS grants one, and as
	 * much again (at least 128 MiB) for the rest of the program,
	 * whichever errno the OS refused with; never below 16 MiB */
	const int errs[] = { -ENOMEM, -EINVAL };

	for (size_t i = 0; i < ARRAY_LENGTH(errs); i++) {
		struct mmvec_region *r = NULL;

		fail_os(OP(RESERVE), errs[i], 512 * MIB);
		ck_assert_int_eq(mmvec_region_new(0, 0, &r), 0);
		ck_assert_uint_eq(mmvec_region_reserved(r), 512 * MIB);
		ck_assert_int_eq(mmvec_region_commit(r, MIB), 0);
		memset(mmvec_region_base(r), 1, MIB);
		mmvec_region_free(r);

		/* 64 MiB would fit, but leave less than 128 MiB */
		fail_os(OP(RESERVE), errs[i], 64 * MIB);
		r = BAD_PTR;
		ck_assert_int_eq(mmvec_region_new(0, 0, &r), -ENOMEM);
		ck_assert_ptr_eq(r, BAD_PTR);
		fail_os(OP(RESERVE), errs[i], 16 * MIB - page);
		ck_assert_int_eq(mmvec_region_new(0, 0, &r), -ENOMEM);
		ck_assert_ptr_eq(r, BAD_PTR);
		fail_os(OP(RESERVE), errs[i], 128 * MIB);
		ck_assert_int_eq(mmvec_region_new(0, 0, &r), 0);
		ck_assert_uint_eq(mmvec_region_reserved(r), 128 * MIB);
		mmvec_region_free(r);
	}
	heal_os();
}
END_TEST

START_TEST(region_commit_errors)
{
	struct mmvec_region *r = NULL;
	struct region_snapshot snap;
	struct os_calls calls;

	ck_assert_int_eq(mmvec_region_commit(NULL, 0), -EINVAL);
	ck_assert_int_eq(mmvec_region_commit(NULL, page), -EINVAL);
	ck_assert_int_eq(mmvec_region_commit(NULL, SIZE_MAX), -EINVAL);

	ck_assert_int_eq(mmvec_region_new(16 * page, MMVEC_NO_HUGEPAGES, &r),
			 0);
	ck_assert_int_eq(mmvec_region_commit(r, 2 * page), 0);
	memset(mmvec_region_base(r), 0x66, 2 * page);

	/* ENOSPC, before ENOMEM, without calling the OS */
	fail_os(OP(COMMIT) | OP(POPULATE), -ENOMEM, 0);
	region_snapshot_take(&snap, r);
	os_calls_take(&calls);
	ck_assert_int_eq(mmvec_region_commit(r, 16 * page + 1), -ENOSPC);
	ck_assert_int_eq(mmvec_region_commit(r, SIZE_MAX), -ENOSPC);
	ck_assert_no_os_calls(&calls);
	ck_assert_region_unchanged(r, &snap);

	/* ENOMEM: nothing committed */
	region_snapshot_take(&snap, r);
	ck_assert_int_eq(mmvec_region_commit(r, 3 * page), -ENOMEM);
	ck_assert_int_eq(mmvec_region_commit(r, 16 * page), -ENOMEM);
	ck_assert_region_unchanged(r, &snap);

	/* committing what is committed needs no OS */
	ck_assert_int_eq(mmvec_region_commit(r, 2 * page), 0);
	ck_assert_int_eq(mmvec_region_commit(r, 0), 0);
	ck_assert_uint_eq(mmvec_region_committed(r), 2 * page);

	/* and works again once the OS does */
	heal_os();
	ck_assert_int_eq(mmvec_region_commit(r, 3 * page), 0);
	ck_assert_uint_eq(mmvec_region_committed(r), 3 * page);
	ck_assert(is_zero((char *)mmvec_region_base(r) + 2 * page, page));
	mmvec_region_free(r);
}
END_TEST

START_TEST(region_commit_populate_fails)
{
	/* MMVEC_POPULATE: a failed pre-fault undoes the commit */
	struct mmvec_region *r = NULL;
	struct region_snapshot snap;

	ck_assert_int_eq(mmvec_region_new(8 * MIB, MMVEC_POPULATE, &r), 0);
	ck_assert_int_eq(mmvec_region_commit(r, page), 0);
	memset(mmvec_region_base(r), 0x67, page);

	fail_os(OP(POPULATE), -ENOMEM, 0);
	region_snapshot_take(&snap, r);
	ck_assert_int_eq(mmvec_region_commit(r, 5 * page), -ENOMEM);
	ck_assert_region_unchanged(r, &snap);
	region_snapshot_take(&snap, r);
	ck_assert_int_eq(mmvec_region_commit(r, 5 * MIB), -ENOMEM);
	ck_assert_region_unchanged(r, &snap);
	heal_os();
	ck_assert_int_eq(mmvec_region_commit(r, 5 * page), 0);
	ck_assert_uint_eq(mmvec_region_committed(r), 5 * page);
	mmvec_region_free(r);
}
END_TEST

START_TEST(region_decommit_errors)
{
	struct mmvec_region *r = NULL;
	struct region_snapshot snap;

	ck_assert_int_eq(mmvec_region_decommit(NULL, 0), -EINVAL);
	ck_assert_int_eq(mmvec_region_decommit(NULL, SIZE_MAX), -EINVAL);

	ck_assert_int_eq(mmvec_region_new(16 * page, 0, &r), 0);
	ck_assert_int_eq(mmvec_region_commit(r, 8 * page), 0);
	memset(mmvec_region_base(r), 0x68, 8 * page);

	fail_os(OP(DECOMMIT), -ENOMEM, 0);
	region_snapshot_take(&snap, r);
	ck_assert_int_eq(mmvec_region_decommit(r, page), -ENOMEM);
	ck_assert_int_eq(mmvec_region_decommit(r, 0), -ENOMEM);
	ck_assert_region_unchanged(r, &snap);
	ck_assert_uint_eq(resident_pages(mmvec_region_base(r), 8 * page), 8);

	/* nothing to give back: no OS needed */
	ck_assert_int_eq(mmvec_region_decommit(r, 8 * page), 0);
	ck_assert_int_eq(mmvec_region_decommit(r, SIZE_MAX), 0);
	ck_assert_uint_eq(mmvec_region_committed(r), 8 * page);
	heal_os();
	ck_assert_int_eq(mmvec_region_decommit(r, page), 0);
	ck_assert_uint_eq(mmvec_region_committed(r), page);
	mmvec_region_free(r);
}
END_TEST

#ifndef _WIN32
/* A kernel that unmaps the range and then fails to map PROT_NONE over it
 * (Linux before 6.12 can): the hole is filled again, and the decommit has
 * happened after all. */
START_TEST(region_decommit_hole_repaired)
{
	struct mmvec_region *r = NULL;
	unsigned char *base;

	ck_assert_int_eq(mmvec_region_new(16 * page, 0, &r), 0);
	ck_assert_int_eq(mmvec_region_commit(r, 8 * page), 0);
	base = mmvec_region_base(r);
	memset(base, 0x68, 8 * page);

	fail_os(OP(DECOMMIT_HOLE), -ENOMEM, 0);
	ck_assert_int_eq(mmvec_region_decommit(r, page), 0);
	heal_os();
	ck_assert_uint_eq(mmvec_region_committed(r), page);
	/* mapped again: mincore() fails with ENOMEM for a hole */
	unsigned char vec[16];
	ck_assert_int_eq(mincore(base + page, 15 * page, vec), 0);
	ck_assert_uint_eq(resident_pages(base, 8 * page), 1);
	ck_assert_int_eq(mmvec_region_commit(r, 16 * page), 0);
	ck_assert_uint_eq(base[0], 0x68);
	for (size_t i = page; i < 16 * page; i++)
		fast_assert_uint_eq(base[i], 0);
	mmvec_region_free(r);
}
END_TEST
#endif

START_TEST(region_getters_null)
{
	/* freeing NULL does nothing, like free() */
	mmvec_region_free(NULL);
	ck_assert_null_errno(mmvec_region_base(NULL), EINVAL);
	ck_assert_uint_eq(mmvec_region_reserved(NULL), 0);
	ck_assert_uint_eq(mmvec_region_committed(NULL), 0);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* mmvec_new */

START_TEST(new_errors)
{
	const unsigned bad_flags[] = {
		MMVEC_HUGEPAGES | MMVEC_NO_HUGEPAGES,
		MMVEC_HUGEPAGES | MMVEC_NO_HUGEPAGES | MMVEC_POPULATE,
		1u << 3, 1u << 8, 1u << 31, ~0u,
	};

	/* EINVAL: NULL out, zero size, bad flags; before EOVERFLOW */
	ck_assert_int_eq(mmvec_new(8, 10, 0, NULL), -EINVAL);
	ck_assert_int_eq(mmvec_new(8, 0, 0, NULL), -EINVAL);
	ck_assert_int_eq(mmvec_new(0, 10, 0, NULL), -EINVAL);
	ck_assert_int_eq(mmvec_new(8, SIZE_MAX, 0, NULL), -EINVAL);
	ck_new_fails(0, 10, 0, -EINVAL);
	ck_new_fails(0, 0, 0, -EINVAL);
	ck_new_fails(0, SIZE_MAX, 0, -EINVAL);
	for (size_t i = 0; i < ARRAY_LENGTH(bad_flags); i++) {
		ck_new_fails(8, 10, bad_flags[i], -EINVAL);
		ck_new_fails(8, 0, bad_flags[i], -EINVAL);
		ck_new_fails(8, SIZE_MAX, bad_flags[i], -EINVAL);
		ck_new_fails(0, 10, bad_flags[i], -EINVAL);
	}

	/* EOVERFLOW: elem_size * max_len, rounded up to a page */
	ck_new_fails(SIZE_MAX / 2 + 1, 2, 0, -EOVERFLOW);
	ck_new_fails(2, SIZE_MAX / 2 + 1, 0, -EOVERFLOW);
	ck_new_fails(SIZE_MAX, SIZE_MAX, 0, -EOVERFLOW);
	ck_new_fails(1, SIZE_MAX, 0, -EOVERFLOW);
	ck_new_fails(SIZE_MAX, 1, 0, -EOVERFLOW);
	ck_new_fails(1, SIZE_MAX - page + 2, 0, -EOVERFLOW);
	ck_new_fails(SIZE_MAX - page + 2, 1, 0, -EOVERFLOW);
	ck_new_fails(page, SIZE_MAX / page + 1, 0, -EOVERFLOW);
	/* one element does not fit either */
	ck_new_fails(SIZE_MAX, 0, 0, -EOVERFLOW);
	ck_new_fails(SIZE_MAX - page + 2, 0, 0, -EOVERFLOW);
	fail_os(OP(RESERVE), -ENOMEM, 0);
	ck_new_fails(SIZE_MAX / 2 + 1, 2, 0, -EOVERFLOW);
	heal_os();

	/* ENOMEM: it fits in size_t, not in the address space */
	ck_new_fails(1, SIZE_MAX - page + 1, 0, -ENOMEM);
	ck_new_fails(page, SIZE_MAX / page, 0, -ENOMEM);
	ck_new_fails(SIZE_MAX / 8 * 7 + 1, 1, 0, -ENOMEM);
}
END_TEST

START_TEST(new_os_fails)
{
	struct mmvec *v = NULL;
	const int errs[] = { -ENOMEM, -EINVAL };

	for (size_t i = 0; i < ARRAY_LENGTH(errs); i++) {
		fail_os(OP(RESERVE), errs[i], 0);
		ck_new_fails(8, 1000, 0, -ENOMEM);
		ck_new_fails(8, 0, 0, -ENOMEM);
		ck_new_fails(1, 1, MMVEC_POPULATE, -ENOMEM);

		/* the default halves until it and as much again are granted;
		 * never below one element */
		fail_os(OP(RESERVE), errs[i], 256 * MIB);
		ck_assert_int_eq(mmvec_new(8, 0, 0, &v), 0);
		ck_assert_uint_eq(mmvec_max_len(v), 256 * MIB / 8);
		push_pattern(v, 4, 1000);
		ck_assert_pattern(v, 0, 1000, 4, 0);
		mmvec_free(v);
		ck_assert_int_eq(mmvec_new(128 * MIB, 0, 0, &v), 0);
		ck_assert_uint_eq(mmvec_max_len(v), 2);
		mmvec_free(v);
		ck_new_fails(256 * MIB + 1, 0, 0, -ENOMEM);
		heal_os();
	}
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Appending */

START_TEST(push_errors)
{
	struct mmvec *v;
	unsigned char elem[8] = { 0 };

	ck_assert_null_errno(mmvec_push(NULL, elem), EINVAL);
	ck_assert_null_errno(mmvec_push(NULL, NULL), EINVAL);

	/* ENOSPC, also when the OS would fail too */
	v = vec_with(8, 37, 37);
	ck_fails_ptr(v, mmvec_push(v, elem), -ENOSPC);
	ck_fails_ptr(v, mmvec_push(v, NULL), -ENOSPC);
	ck_fails_ptr(v, mmvec_push(v, mmvec_at(v, 3)), -ENOSPC);
	fail_os(OP(COMMIT) | OP(POPULATE), -ENOMEM, 0);
	ck_fails_ptr(v, mmvec_push(v, elem), -ENOSPC);
	mmvec_free(v);
	heal_os();

	/* ENOMEM when the next element needs memory */
	v = vec_at_capacity(8, 100000, 0, 1);
	fail_os(OP(COMMIT), -ENOMEM, 0);
	ck_fails_ptr(v, mmvec_push(v, elem), -ENOMEM);
	ck_fails_ptr(v, mmvec_push(v, NULL), -ENOMEM);
	ck_fails_ptr(v, mmvec_push(v, mmvec_at(v, 0)), -ENOMEM);
	heal_os();
	ck_assert_ptr_nonnull(mmvec_push(v, mmvec_at(v, 0)));
	ck_assert(pattern_check(mmvec_at(v, mmvec_len(v) - 1), 8, 2, 0));
	mmvec_free(v);

	/* ... also in 2 MiB steps, and when pre-faulting fails */
	v = vec_at_capacity(8, 1000000, 0, 3 * MIB / 8);
	fail_os(OP(COMMIT), -ENOMEM, 0);
	ck_fails_ptr(v, mmvec_push(v, elem), -ENOMEM);
	mmvec_free(v);
	heal_os();
	v = vec_at_capacity(8, 100000, MMVEC_POPULATE, 1);
	fail_os(OP(POPULATE), -ENOMEM, 0);
	ck_fails_ptr(v, mmvec_push(v, elem), -ENOMEM);
	heal_os();
	ck_assert_ptr_nonnull(mmvec_push(v, elem));
	mmvec_free(v);
}
END_TEST

START_TEST(extend_errors)
{
	struct mmvec *v;

	ck_assert_null_errno(mmvec_extend(NULL, 0), EINVAL);
	ck_assert_null_errno(mmvec_extend(NULL, SIZE_MAX), EINVAL);

	/* EOVERFLOW: the new length in bytes does not fit; ENOSPC when it
	 * does but passes max_len */
	v = vec_with(8, 1000, 10);
	ck_fails_ptr(v, mmvec_extend(v, SIZE_MAX), -EOVERFLOW);
	ck_fails_ptr(v, mmvec_extend(v, SIZE_MAX - 9), -EOVERFLOW);
	ck_fails_ptr(v, mmvec_extend(v, SIZE_MAX / 8), -EOVERFLOW);
	ck_fails_ptr(v, mmvec_extend(v, SIZE_MAX / 8 - 10), -ENOSPC);
	ck_fails_ptr(v, mmvec_extend(v, 991), -ENOSPC);
	fail_os(OP(COMMIT), -ENOMEM, 0);
	ck_fails_ptr(v, mmvec_extend(v, SIZE_MAX / 8), -EOVERFLOW);
	ck_fails_ptr(v, mmvec_extend(v, 991), -ENOSPC);
	heal_os();
	mmvec_free(v);

	v = vec_with(1, 1000, 5);
	ck_fails_ptr(v, mmvec_extend(v, SIZE_MAX - 4), -EOVERFLOW);
	ck_fails_ptr(v, mmvec_extend(v, SIZE_MAX - 5), -ENOSPC);
	mmvec_free(v);

	/* ENOMEM; n == 0 needs nothing */
	v = vec_at_capacity(24, 100000, 0, 1);
	fail_os(OP(COMMIT), -ENOMEM, 0);
	ck_fails_ptr(v, mmvec_extend(v, 1), -ENOMEM);
	ck_fails_ptr(v, mmvec_extend(v, 50000), -ENOMEM);
	ck_assert_ptr_eq(mmvec_extend(v, 0),
			 (char *)mmvec_data(v) + mmvec_len(v) * 24);
	heal_os();
	ck_assert_ptr_nonnull(mmvec_extend(v, 50000));
	mmvec_free(v);
}
END_TEST

START_TEST(append_errors)
{
	struct mmvec *v;
	unsigned char elems[8 * 16] = { 0 };

	ck_assert_int_eq(mmvec_append(NULL, elems, 1), -EINVAL);
	ck_assert_int_eq(mmvec_append(NULL, elems, 0), -EINVAL);
	ck_assert_int_eq(mmvec_append(NULL, NULL, 0), -EINVAL);
	ck_assert_int_eq(mmvec_append(NULL, NULL, SIZE_MAX), -EINVAL);

	v = vec_with(8, 1000, 10);
	/* NULL source: EINVAL before EOVERFLOW and ENOSPC */
	ck_fails(v, mmvec_append(v, NULL, 1), -EINVAL);
	ck_fails(v, mmvec_append(v, NULL, SIZE_MAX), -EINVAL);
	ck_fails(v, mmvec_append(v, NULL, 991), -EINVAL);
	/* count 0: a no-op */
	ck_noop(v, mmvec_append(v, NULL, 0));
	ck_noop(v, mmvec_append(v, elems, 0));
	/* EOVERFLOW before ENOSPC before ENOMEM */
	ck_fails(v, mmvec_append(v, elems, SIZE_MAX), -EOVERFLOW);
	ck_fails(v, mmvec_append(v, elems, SIZE_MAX / 8), -EOVERFLOW);
	ck_fails(v, mmvec_append(v, elems, 991), -ENOSPC);
	fail_os(OP(COMMIT), -ENOMEM, 0);
	ck_fails(v, mmvec_append(v, elems, SIZE_MAX / 8), -EOVERFLOW);
	ck_fails(v, mmvec_append(v, elems, 991), -ENOSPC);
	mmvec_free(v);
	heal_os();

	v = vec_at_capacity(8, 100000, 0, 1);
	fail_os(OP(COMMIT), -ENOMEM, 0);
	ck_fails(v, mmvec_append(v, elems, 1), -ENOMEM);
	ck_fails(v, mmvec_append(v, elems, 16), -ENOMEM);
	ck_fails(v, mmvec_append(v, mmvec_data(v), mmvec_len(v)), -ENOMEM);
	ck_noop(v, mmvec_append(v, elems, 0));
	heal_os();
	ck_assert_int_eq(mmvec_append(v, elems, 16), 0);
	mmvec_free(v);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Insert and remove */

START_TEST(insert_errors)
{
	struct mmvec *v;
	unsigned char elems[8 * 16] = { 0 };

	ck_assert_int_eq(mmvec_insert(NULL, 0, elems, 1), -EINVAL);
	ck_assert_int_eq(mmvec_insert(NULL, 0, NULL, 0), -EINVAL);
	ck_assert_int_eq(mmvec_insert(NULL, 5, elems, 0), -EINVAL);

	v = vec_with(8, 1000, 10);
	/* EINVAL before ERANGE, ERANGE before EOVERFLOW and ENOSPC */
	ck_fails(v, mmvec_insert(v, 0, NULL, 1), -EINVAL);
	ck_fails(v, mmvec_insert(v, 11, NULL, 1), -EINVAL);
	ck_fails(v, mmvec_insert(v, SIZE_MAX, NULL, SIZE_MAX), -EINVAL);
	ck_fails(v, mmvec_insert(v, 11, elems, 1), -ERANGE);
	ck_fails(v, mmvec_insert(v, 11, elems, 0), -ERANGE);
	ck_fails(v, mmvec_insert(v, 11, NULL, 0), -ERANGE);
	ck_fails(v, mmvec_insert(v, SIZE_MAX, elems, 1), -ERANGE);
	ck_fails(v, mmvec_insert(v, 11, elems, SIZE_MAX), -ERANGE);
	ck_fails(v, mmvec_insert(v, 11, elems, 991), -ERANGE);
	/* EOVERFLOW before ENOSPC before ENOMEM */
	ck_fails(v, mmvec_insert(v, 0, elems, SIZE_MAX), -EOVERFLOW);
	ck_fails(v, mmvec_insert(v, 10, elems, SIZE_MAX / 8), -EOVERFLOW);
	ck_fails(v, mmvec_insert(v, 5, elems, 991), -ENOSPC);
	fail_os(OP(COMMIT), -ENOMEM, 0);
	ck_fails(v, mmvec_insert(v, 11, elems, SIZE_MAX), -ERANGE);
	ck_fails(v, mmvec_insert(v, 0, elems, SIZE_MAX), -EOVERFLOW);
	ck_fails(v, mmvec_insert(v, 0, elems, 991), -ENOSPC);
	heal_os();
	/* count 0 at a valid index: a no-op */
	ck_noop(v, mmvec_insert(v, 0, NULL, 0));
	ck_noop(v, mmvec_insert(v, 10, NULL, 0));
	ck_noop(v, mmvec_insert(v, 3, elems, 0));
	mmvec_free(v);

	/* ENOMEM: no element moved */
	v = vec_at_capacity(8, 100000, 0, 1);
	fail_os(OP(COMMIT), -ENOMEM, 0);
	ck_fails(v, mmvec_insert(v, 0, elems, 1), -ENOMEM);
	ck_fails(v, mmvec_insert(v, 1, elems, 16), -ENOMEM);
	ck_fails(v, mmvec_insert(v, mmvec_len(v), elems, 1), -ENOMEM);
	ck_fails(v, mmvec_insert(v, 0, mmvec_at(v, 1), 3), -ENOMEM);
	heal_os();
	ck_assert_int_eq(mmvec_insert(v, 0, elems, 16), 0);
	mmvec_free(v);
}
END_TEST

START_TEST(erase_errors)
{
	struct mmvec *v;

	ck_assert_int_eq(mmvec_erase(NULL, 0, 0), -EINVAL);
	ck_assert_int_eq(mmvec_erase(NULL, 0, 1), -EINVAL);
	ck_assert_int_eq(mmvec_erase(NULL, SIZE_MAX, SIZE_MAX), -EINVAL);

	v = vec_with(8, 1000, 10);
	ck_fails(v, mmvec_erase(v, 0, 11), -ERANGE);
	ck_fails(v, mmvec_erase(v, 9, 2), -ERANGE);
	ck_fails(v, mmvec_erase(v, 10, 1), -ERANGE);
	ck_fails(v, mmvec_erase(v, 11, 0), -ERANGE);
	ck_fails(v, mmvec_erase(v, SIZE_MAX, 0), -ERANGE);
	ck_fails(v, mmvec_erase(v, SIZE_MAX, 1), -ERANGE);
	/* i + n wraps around */
	ck_fails(v, mmvec_erase(v, 1, SIZE_MAX), -ERANGE);
	ck_fails(v, mmvec_erase(v, 5, SIZE_MAX - 2), -ERANGE);
	ck_fails(v, mmvec_erase(v, SIZE_MAX, SIZE_MAX), -ERANGE);
	ck_noop(v, mmvec_erase(v, 10, 0));
	ck_noop(v, mmvec_erase(v, 0, 0));
	mmvec_free(v);

	v = vec_new_ok(8, 10, 0);
	ck_fails(v, mmvec_erase(v, 0, 1), -ERANGE);
	ck_fails(v, mmvec_erase(v, 1, 0), -ERANGE);
	ck_noop(v, mmvec_erase(v, 0, 0));
	mmvec_free(v);
}
END_TEST

START_TEST(swap_remove_errors)
{
	struct mmvec *v;

	ck_assert_int_eq(mmvec_swap_remove(NULL, 0), -EINVAL);
	ck_assert_int_eq(mmvec_swap_remove(NULL, SIZE_MAX), -EINVAL);

	v = vec_with(8, 1000, 10);
	ck_fails(v, mmvec_swap_remove(v, 10), -ERANGE);
	ck_fails(v, mmvec_swap_remove(v, 11), -ERANGE);
	ck_fails(v, mmvec_swap_remove(v, SIZE_MAX), -ERANGE);
	mmvec_free(v);

	v = vec_new_ok(8, 10, 0);
	ck_fails(v, mmvec_swap_remove(v, 0), -ERANGE);
	mmvec_free(v);
}
END_TEST

START_TEST(pop_errors)
{
	struct mmvec *v;
	unsigned char out[24], sentinel[24];

	memset(sentinel, 0xab, sizeof(sentinel));
	memcpy(out, sentinel, sizeof(out));

	ck_assert_int_eq(mmvec_pop(NULL, out), -EINVAL);
	ck_assert_int_eq(mmvec_pop(NULL, NULL), -EINVAL);
	ck_assert_mem_eq(out, sentinel, sizeof(out));

	/* ENOENT on empty; out not written */
	v = vec_new_ok(24, 10, 0);
	ck_fails(v, mmvec_pop(v, out), -ENOENT);
	ck_fails(v, mmvec_pop(v, NULL), -ENOENT);
	ck_assert_mem_eq(out, sentinel, sizeof(out));

	/* also once emptied, and after clear */
	push_pattern(v, 5, 2);
	ck_assert_int_eq(mmvec_pop(v, NULL), 0);
	ck_assert_int_eq(mmvec_pop(v, out), 0);
	ck_assert(pattern_check(out, 24, 5, 0));
	memcpy(out, sentinel, sizeof(out));
	ck_fails(v, mmvec_pop(v, out), -ENOENT);
	ck_assert_mem_eq(out, sentinel, sizeof(out));
	push_pattern(v, 5, 3);
	mmvec_clear(v);
	ck_fails(v, mmvec_pop(v, out), -ENOENT);
	ck_assert_mem_eq(out, sentinel, sizeof(out));
	mmvec_free(v);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Length and memory */

/* The errors of a call that takes a length, mmvec_resize() or
 * mmvec_reserve(): EINVAL, EOVERFLOW and ENOSPC before the OS is asked
 * (which would fail), ENOMEM when the next element needs memory. Returns
 * the vector at capacity with commits failing, for the caller's own
 * checks. */
static struct mmvec *length_errors(int (*call)(struct mmvec *, size_t))
{
	struct mmvec *v;

	ck_assert_int_eq(call(NULL, 0), -EINVAL);
	ck_assert_int_eq(call(NULL, SIZE_MAX), -EINVAL);

	v = vec_with(8, 1000, 10);
	for (int os_fails = 0; os_fails < 2; os_fails++) {
		if (os_fails)
			fail_os(OP(COMMIT) | OP(POPULATE), -ENOMEM, 0);
		ck_fails(v, call(v, SIZE_MAX), -EOVERFLOW);
		ck_fails(v, call(v, SIZE_MAX / 8 + 1), -EOVERFLOW);
		ck_fails(v, call(v, SIZE_MAX / 8), -ENOSPC);
		ck_fails(v, call(v, 1001), -ENOSPC);
	}
	heal_os();
	mmvec_free(v);

	v = vec_at_capacity(8, 100000, 0, 1);
	fail_os(OP(COMMIT), -ENOMEM, 0);
	ck_fails(v, call(v, mmvec_len(v) + 1), -ENOMEM);
	ck_fails(v, call(v, 100000), -ENOMEM);
	return v;
}

START_TEST(resize_errors)
{
	struct mmvec *v = length_errors(mmvec_resize);

	/* down and to the same length need no memory */
	ck_noop(v, mmvec_resize(v, mmvec_len(v)));
	ck_assert_int_eq(mmvec_resize(v, 1), 0);
	ck_assert_uint_eq(mmvec_len(v), 1);
	ck_assert(pattern_check(mmvec_at(v, 0), 8, 2, 0));
	heal_os();
	mmvec_free(v);
}
END_TEST

START_TEST(reserve_errors)
{
	struct mmvec *v = length_errors(mmvec_reserve);

	ck_noop(v, mmvec_reserve(v, mmvec_capacity(v)));
	ck_noop(v, mmvec_reserve(v, 0));
	heal_os();
	mmvec_free(v);

	v = vec_new_ok(8, 100000, MMVEC_POPULATE);
	fail_os(OP(POPULATE), -ENOMEM, 0);
	ck_fails(v, mmvec_reserve(v, 50000), -ENOMEM);
	heal_os();
	ck_assert_int_eq(mmvec_reserve(v, 50000), 0);
	mmvec_free(v);
}
END_TEST

START_TEST(shrink_to_fit_errors)
{
	struct mmvec *v;
	size_t resident;

	ck_assert_int_eq(mmvec_shrink_to_fit(NULL), -EINVAL);

	v = vec_with(8, 1000000, 10);
	ck_assert_int_eq(mmvec_reserve(v, 100000), 0);
	memset(mmvec_extend(v, 90000), 0x71, 90000 * 8);
	ck_assert_int_eq(mmvec_resize(v, 10), 0);
	resident = resident_pages(mmvec_data(v), mmvec_capacity(v) * 8);

	fail_os(OP(DECOMMIT), -ENOMEM, 0);
	ck_fails(v, mmvec_shrink_to_fit(v), -ENOMEM);
	ck_assert_uint_eq(resident_pages(mmvec_data(v), mmvec_capacity(v) * 8),
			  resident);
	heal_os();
	ck_assert_int_eq(mmvec_shrink_to_fit(v), 0);
	ck_assert_uint_eq(mmvec_capacity(v), page / 8);
	ck_assert_pattern(v, 0, 10, 1, 0);
	mmvec_free(v);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Accessors */

START_TEST(at_errors)
{
	struct mmvec *v;

	ck_assert_null_errno(mmvec_at(NULL, 0), EINVAL);

	v = vec_new_ok(8, 1000, 0);
	ck_fails_ptr(v, mmvec_at(v, 0), -ERANGE);
	push_pattern(v, 1, 10);
	ck_fails_ptr(v, mmvec_at(v, 10), -ERANGE);
	ck_fails_ptr(v, mmvec_at(v, 11), -ERANGE);
	ck_fails_ptr(v, mmvec_at(v, SIZE_MAX), -ERANGE);
	ck_fails_ptr(v, mmvec_at(v, SIZE_MAX / 8 + 1), -ERANGE);
	ck_assert_int_eq(mmvec_pop(v, NULL), 0);
	ck_fails_ptr(v, mmvec_at(v, 9), -ERANGE);
	mmvec_free(v);
}
END_TEST

START_TEST(getters_null)
{
	ck_assert_null_errno(mmvec_data(NULL), EINVAL);
	ck_assert_uint_eq(mmvec_len(NULL), 0);
	ck_assert_uint_eq(mmvec_capacity(NULL), 0);
	ck_assert_uint_eq(mmvec_max_len(NULL), 0);
	ck_assert_uint_eq(mmvec_elem_size(NULL), 0);
	mmvec_clear(NULL);
	mmvec_free(NULL);
}
END_TEST

START_TEST(advice_failure_ignored)
{
	/* Huge-page advice is advisory: the OS refusing it fails nothing */
	const unsigned flags[] = { 0, MMVEC_HUGEPAGES, MMVEC_NO_HUGEPAGES };

	fail_os(OP(ADVISE), -EINVAL, 0);
	for (size_t i = 0; i < ARRAY_LENGTH(flags); i++) {
		struct mmvec *v = vec_new_ok(8, 0, flags[i]);

		ck_assert_ptr_nonnull(mmvec_extend(v, 3 * MIB / 8));
		ck_assert_int_eq(mmvec_shrink_to_fit(v), 0);
		mmvec_free(v);
	}
}
END_TEST

Suite *test_suite(int argc, char **argv)
{
	Suite *s = suite_create("errors");
	TCase *tc;

	tc = test_case(s, "region", setup, teardown, 30);
	test_add(tc, 1, region_new_errors, region_new_default_halves,
		 region_commit_errors, region_commit_populate_fails,
		 region_getters_null, NULL);
	test_add_unless_qemu(tc, QEMU_NO_MINCORE, region_decommit_errors);
#ifdef _WIN32
	test_not_run("region_decommit_hole_repaired", "VirtualFree("
		     "MEM_DECOMMIT) leaves no hole: a decommit that unmaps "
		     "and fails to map again is a POSIX failure (mmap "
		     "MAP_FIXED)");
#else
	test_add_unless_qemu(tc, QEMU_NO_MINCORE,
			     region_decommit_hole_repaired);
#endif

	tc = test_case(s, "new", setup, teardown, 30);
	test_add(tc, 1, new_errors, new_os_fails, NULL);

	tc = test_case(s, "append", setup, teardown, 30);
	test_add(tc, 1, push_errors, extend_errors, append_errors, NULL);

	tc = test_case(s, "modify", setup, teardown, 30);
	test_add(tc, 1, insert_errors, erase_errors, swap_remove_errors,
		 pop_errors, resize_errors, reserve_errors, NULL);
	test_add_unless_qemu(tc, QEMU_NO_MINCORE, shrink_to_fit_errors);

	tc = test_case(s, "access", setup, teardown, 30);
	test_add(tc, 1, at_errors, getters_null, advice_failure_ignored, NULL);
	return s;
}
