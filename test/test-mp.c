/*
 * SPDX-License-Identifier: MIT
 *
 * Many producers' contract, white-box: every error of mmvec_mp_claim(),
 * mmvec_mp_publish() and mmvec_mp_push() with its exact value and nothing
 * changed, commit failures injected through the OS layer's hook, the
 * writer's calls refused while claims are open, publication out of order
 * and a full carry-over table.
 */
#include "runner.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#ifndef _WIN32
#include <sys/wait.h>
#include <unistd.h>

#include "file-helpers.h"
#endif

#include "faults.h"
#include "os.h"

#define OP(op) FAULT_BIT(MMVEC__OS_##op)

static void setup(void)
{
	faults_stop();
}

static void teardown(void)
{
	faults_stop();
}

/* A call returning a pointer fails with err and leaves v as it was. */
#define ck_fails_ptr(v_, call_, err_)                                         \
	do {                                                                   \
		struct vec_snapshot fp_s_;                                     \
		vec_snapshot_take(&fp_s_, (v_));                               \
		errno = 0;                                                     \
		ck_assert_ptr_null(call_);                                     \
		ck_assert_int_eq(errno, (err_));                               \
		ck_assert_vec_unchanged((v_), &fp_s_);                         \
		vec_snapshot_release(&fp_s_);                                  \
	} while (0)

/* A call returning int fails with rc and leaves v as it was. */
#define ck_fails_int(v_, call_, rc_)                                          \
	do {                                                                   \
		struct vec_snapshot fi_s_;                                     \
		vec_snapshot_take(&fi_s_, (v_));                               \
		ck_assert_int_eq((call_), (rc_));                              \
		ck_assert_vec_unchanged((v_), &fi_s_);                         \
		vec_snapshot_release(&fi_s_);                                  \
	} while (0)

static int64_t *claim_ok(struct mmvec *v, size_t n)
{
	int64_t *p = mmvec_mp_claim(v, n);

	ck_assert_ptr_nonnull(p);
	return p;
}

static void fill(int64_t *p, size_t n, int64_t from)
{
	for (size_t i = 0; i < n; i++)
		p[i] = from + (int64_t)i;
}

static void ck_assert_counting(const struct mmvec *v, size_t len)
{
	const int64_t *d = mmvec_data(v);

	ck_assert_uint_eq(mmvec_len(v), len);
	for (size_t i = 0; i < len; i++)
		fast_assert_uint_eq((uint64_t)d[i], i);
}

/* ------------------------------------------------------------------------ */
/* Claims */

START_TEST(claim_errors)
{
	struct mmvec *v = vec_new_ok(8, 1000, 0);
	int64_t *p;

	ck_assert_null_errno(mmvec_mp_claim(NULL, 1), EINVAL);
	ck_assert_null_errno(mmvec_mp_push(NULL, NULL), EINVAL);
	ck_fails_ptr(v, mmvec_mp_claim(v, 0), EINVAL);
	ck_fails_ptr(v, mmvec_mp_claim(v, SIZE_MAX), EOVERFLOW);
	ck_fails_ptr(v, mmvec_mp_claim(v, SIZE_MAX / 8 + 1), EOVERFLOW);
	ck_fails_ptr(v, mmvec_mp_claim(v, 1001), ENOSPC);

	/* the claimed end counts, not the length */
	p = claim_ok(v, 600);
	ck_fails_ptr(v, mmvec_mp_claim(v, 401), ENOSPC);
	ck_fails_ptr(v, mmvec_mp_claim(v, SIZE_MAX - 599), EOVERFLOW);
	fill(p, 600, 0);
	ck_assert_int_eq(mmvec_mp_publish(v, p, 600), 0);
	p = claim_ok(v, 400);
	fill(p, 400, 600);
	ck_fails_ptr(v, mmvec_mp_claim(v, 1), ENOSPC);
	ck_fails_ptr(v, mmvec_mp_push(v, NULL), ENOSPC);
	ck_assert_int_eq(mmvec_mp_publish(v, p, 400), 0);
	ck_assert_counting(v, 1000);
	ck_fails_ptr(v, mmvec_mp_claim(v, 1), ENOSPC);
	ck_fails_ptr(v, mmvec_mp_push(v, NULL), ENOSPC);
	ck_assert_counting(v, 1000);
	mmvec_free(v);
}
END_TEST

/* A claim that needs memory the OS refuses leaves nothing behind: the
 * next claim gets the same slots. */
START_TEST(claim_enomem)
{
	struct mmvec *v = vec_new_ok(8, 1u << 24, 0);
	size_t cap;
	int64_t *p, *q;
	int64_t x = 0;

	p = claim_ok(v, 10);
	fill(p, 10, 0);
	ck_assert_int_eq(mmvec_mp_publish(v, p, 10), 0);
	cap = mmvec_capacity(v);
	faults_plan(OP(COMMIT) | OP(POPULATE), FAULT_ALL, 0, -ENOMEM);
	ck_fails_ptr(v, mmvec_mp_claim(v, cap), ENOMEM);
	ck_fails_ptr(v, mmvec_mp_claim(v, cap - 10 + 1), ENOMEM);
	/* within the capacity: no commit, no failure */
	q = claim_ok(v, cap - 10);
	ck_assert_ptr_eq(q, p + 10);
	/* each failed claim asked for the doubled size, then for what it needs */
	ck_assert_uint_eq(faults_injected(MMVEC__OS_COMMIT), 4);
	ck_fails_ptr(v, mmvec_mp_push(v, &x), ENOMEM);
	faults_stop();
	fill(q, cap - 10, 10);
	ck_assert_int_eq(mmvec_mp_publish(v, q, cap - 10), 0);
	ck_assert_uint_eq(mmvec_capacity(v), cap);
	x = (int64_t)cap;
	ck_assert_ptr_eq(mmvec_mp_push(v, &x), p + cap);
	ck_assert_counting(v, cap + 1);
	mmvec_free(v);
}
END_TEST

/* Any number of claims may be open: 70000 claimed before one is
 * published, then published in order. */
START_TEST(many_open_claims)
{
	struct mmvec *v = vec_new_ok(8, 1u << 20, 0);
	int64_t *first = claim_ok(v, 1);

	for (size_t i = 1; i < 70000; i++)
		fast_assert(mmvec_mp_claim(v, 1) == first + i);
	for (size_t i = 0; i < 70000; i++) {
		first[i] = (int64_t)i;
		fast_assert(mmvec_mp_publish(v, first + i, 1) == 0);
		fast_assert(mmvec_len(v) == i + 1);
	}
	ck_assert_counting(v, 70000);
	mmvec_free(v);
}
END_TEST

/* The writer's own claim holds the slots past the length. */
START_TEST(claim_ebusy)
{
	struct mmvec *v = vec_new_ok(8, 1000, 0);
	int64_t *w = mmvec_claim(v, 3);

	ck_assert_ptr_nonnull(w);
	ck_fails_ptr(v, mmvec_mp_claim(v, 1), EBUSY);
	ck_fails_ptr(v, mmvec_mp_push(v, NULL), EBUSY);
	fill(w, 3, 0);
	ck_assert_int_eq(mmvec_publish(v, 3), 0);
	ck_assert_ptr_eq(claim_ok(v, 1), w + 3);
	mmvec_free(v);
}
END_TEST

START_TEST(push_copies_or_zeroes)
{
	struct mmvec *v = vec_new_ok(24, 100, 0);
	unsigned char e[24], z[24] = { 0 };
	unsigned char *p;

	memset(e, 0xa5, sizeof(e));
	/* a slot written before, then cleared: mmvec_mp_push(v, NULL) zeroes */
	ck_assert_ptr_nonnull(mmvec_push(v, e));
	mmvec_clear(v);
	p = mmvec_mp_push(v, NULL);
	ck_assert_ptr_eq(p, mmvec_data(v));
	ck_assert_mem_eq(p, z, 24);
	p = mmvec_mp_push(v, e);
	ck_assert_ptr_eq(p, (unsigned char *)mmvec_data(v) + 24);
	ck_assert_mem_eq(p, e, 24);
	/* from an element of the vector itself */
	p = mmvec_mp_push(v, mmvec_at(v, 1));
	ck_assert_mem_eq(p, e, 24);
	ck_assert_uint_eq(mmvec_len(v), 3);
	mmvec_free(v);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Publishing */

START_TEST(publish_errors)
{
	struct mmvec *v = vec_new_ok(8, 1000, 0);
	int64_t *p, *q;
	int64_t x = 0;

	ck_assert_int_eq(mmvec_mp_publish(NULL, &x, 1), -EINVAL);
	/* no claim was ever made */
	ck_fails_int(v, mmvec_mp_publish(v, mmvec_data(v), 1), -EINVAL);
	ck_assert_ptr_nonnull(mmvec_push(v, &x));

	p = claim_ok(v, 4);
	ck_assert_ptr_eq(p, (int64_t *)mmvec_data(v) + 1);
	fill(p, 4, 1);
	ck_fails_int(v, mmvec_mp_publish(v, NULL, 4), -EINVAL);
	ck_fails_int(v, mmvec_mp_publish(v, p, 0), -EINVAL);
	ck_fails_int(v, mmvec_mp_publish(v, (char *)p + 1, 4), -EINVAL);
	ck_fails_int(v, mmvec_mp_publish(v, (char *)mmvec_data(v) - 8, 4),
		     -EINVAL);
	/* past the claimed end */
	ck_fails_int(v, mmvec_mp_publish(v, p, 5), -EINVAL);
	ck_fails_int(v, mmvec_mp_publish(v, p, SIZE_MAX), -EINVAL);
	ck_fails_int(v, mmvec_mp_publish(v, p + 4, 1), -EINVAL);
	ck_fails_int(v, mmvec_mp_publish(v, p + 1000, 1), -EINVAL);
	/* below the length: published already */
	ck_fails_int(v, mmvec_mp_publish(v, mmvec_data(v), 1), -EINVAL);
	ck_assert_int_eq(mmvec_mp_publish(v, p, 4), 0);
	ck_fails_int(v, mmvec_mp_publish(v, p, 4), -EINVAL);
	q = claim_ok(v, 1);
	*q = 5;
	ck_fails_int(v, mmvec_mp_publish(v, p, 4), -EINVAL);
	ck_assert_int_eq(mmvec_mp_publish(v, q, 1), 0);
	ck_assert_counting(v, 6);
	mmvec_free(v);
}
END_TEST

/* Claims published in every order of three: the length stays below the
 * first unpublished one, then covers all of them. */
START_TEST(publish_out_of_order)
{
	static const int orders[6][3] = {
		{ 0, 1, 2 }, { 0, 2, 1 }, { 1, 0, 2 },
		{ 1, 2, 0 }, { 2, 0, 1 }, { 2, 1, 0 },
	};
	static const size_t sizes[3] = { 3, 1, 5 };

	for (int o = 0; o < 6; o++) {
		struct mmvec *v = vec_new_ok(8, 1000, 0);
		int64_t *c[3];
		bool done[3] = { false, false, false };
		size_t from = 0;

		for (int k = 0; k < 3; k++) {
			c[k] = claim_ok(v, sizes[k]);
			fill(c[k], sizes[k], (int64_t)from);
			from += sizes[k];
		}
		for (int s = 0; s < 3; s++) {
			int k = orders[o][s];
			size_t len = 0;

			ck_assert_int_eq(mmvec_mp_publish(v, c[k], sizes[k]),
					 0);
			done[k] = true;
			for (int j = 0; j < 3 && done[j]; j++)
				len += sizes[j];
			ck_assert_uint_eq(mmvec_len(v), len);
		}
		ck_assert_counting(v, 9);
		mmvec_free(v);
	}
}
END_TEST

struct publisher {
	struct mmvec *v;
	int64_t **claims;
	size_t n;
	size_t published; /* atomic */
};

static void *publish_later(void *arg)
{
	struct publisher *pb = arg;

	/* every other claim: ranges that cannot join one another */
	for (size_t i = 2; i < pb->n; i += 2) {
		if (mmvec_mp_publish(pb->v, pb->claims[i], 1) != 0)
			return arg;
		__atomic_store_n(&pb->published, i / 2, __ATOMIC_RELEASE);
	}
	return NULL;
}

/* Claims published behind one held open join the range before them, so
 * that they take one slot of the table between them; ranges with gaps
 * between them take one each: 128 fill the table, and the next publisher
 * waits until the front reaches it. */
START_TEST(table_full_waits)
{
	struct publisher pb;
	pthread_t t;
	void *ret;

	pb.v = vec_new_ok(8, 1000, 0);
	pb.n = 300;
	pb.published = 0;
	pb.claims = malloc(pb.n * sizeof(*pb.claims));
	ck_assert_ptr_nonnull(pb.claims);
	for (size_t i = 0; i < pb.n; i++) {
		pb.claims[i] = claim_ok(pb.v, 1);
		*pb.claims[i] = (int64_t)i;
	}
	ck_assert_int_eq(pthread_create(&t, NULL, publish_later, &pb), 0);
	/* it stops at the 129th, which finds the table full */
	while (__atomic_load_n(&pb.published, __ATOMIC_ACQUIRE) < 128)
		mmvec__os_yield();
	for (int i = 0; i < 50; i++)
		mmvec__os_yield();
	ck_assert_uint_eq(__atomic_load_n(&pb.published, __ATOMIC_ACQUIRE),
			  128);
	ck_assert_uint_eq(mmvec_len(pb.v), 0);
	ck_assert_int_eq(mmvec_mp_publish(pb.v, pb.claims[0], 1), 0);
	for (size_t i = 1; i < pb.n; i += 2)
		ck_assert_int_eq(mmvec_mp_publish(pb.v, pb.claims[i], 1), 0);
	ck_assert_int_eq(pthread_join(t, &ret), 0);
	ck_assert_ptr_null(ret);
	ck_assert_counting(pb.v, 300);
	free(pb.claims);
	mmvec_free(pb.v);
}
END_TEST

/* Claims published in order behind one held open share one slot: 1000 of
 * them do not fill the table. */
START_TEST(ranges_join)
{
	struct mmvec *v = vec_new_ok(8, 2000, 0);
	int64_t *first = claim_ok(v, 1);

	*first = 0;
	for (size_t i = 1; i < 1000; i++) {
		int64_t *p = mmvec_mp_claim(v, 1);

		fast_assert(p == first + i);
		*p = (int64_t)i;
		fast_assert(mmvec_mp_publish(v, p, 1) == 0);
	}
	ck_assert_uint_eq(mmvec_len(v), 0);
	ck_assert_int_eq(mmvec_mp_publish(v, first, 1), 0);
	ck_assert_counting(v, 1000);
	/* and the count of open claims came back to none */
	for (size_t i = 0; i < 10; i++)
		ck_assert_ptr_nonnull(mmvec_mp_push(v, NULL));
	mmvec_free(v);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* The writer beside producers */

START_TEST(writer_busy)
{
	struct mmvec *v = vec_new_ok(8, 1000, 0);
	int64_t x = 1, out;
	int64_t *p;

	for (int64_t i = 0; i < 3; i++)
		ck_assert_ptr_nonnull(mmvec_push(v, &i));
	p = claim_ok(v, 2);
	ck_assert_ptr_eq(p, (int64_t *)mmvec_data(v) + 3);
	/* the writer's inline room is closed for good */
	ck_assert_uint_eq(((struct mmvec_head *)(void *)v)->room, 0);

	ck_fails_ptr(v, mmvec_push(v, &x), EBUSY);
	ck_fails_ptr(v, mmvec_push(v, NULL), EBUSY);
	ck_fails_ptr(v, mmvec_push_fast(v, &x, sizeof(x)), EBUSY);
	ck_fails_ptr(v, mmvec_extend(v, 1), EBUSY);
	ck_fails_ptr(v, mmvec_claim(v, 1), EBUSY);
	ck_fails_int(v, mmvec_publish(v, 0), -EBUSY);
	ck_fails_int(v, mmvec_append(v, &x, 1), -EBUSY);
	ck_fails_int(v, mmvec_insert(v, 0, &x, 1), -EBUSY);
	ck_fails_int(v, mmvec_erase(v, 0, 1), -EBUSY);
	ck_fails_int(v, mmvec_swap_remove(v, 0), -EBUSY);
	ck_fails_int(v, mmvec_pop(v, &out), -EBUSY);
	ck_fails_int(v, mmvec_resize(v, 1), -EBUSY);
	ck_fails_int(v, mmvec_reserve(v, 900), -EBUSY);
	ck_fails_int(v, mmvec_shrink_to_fit(v), -EBUSY);
	{
		struct vec_snapshot s;

		vec_snapshot_take(&s, v);
		mmvec_clear(v);
		ck_assert_vec_unchanged(v, &s);
		vec_snapshot_release(&s);
	}
	/* what does not change the length goes on */
	ck_assert_ptr_eq(mmvec_at(v, 2), (int64_t *)mmvec_data(v) + 2);

	fill(p, 2, 3);
	ck_assert_int_eq(mmvec_mp_publish(v, p, 2), 0);
	ck_assert_counting(v, 5);

	/* stopped: the writer's calls work, through the library, and the
	 * next claim starts at the length the writer leaves */
	x = 5;
	ck_assert_ptr_nonnull(mmvec_push_fast(v, &x, sizeof(x)));
	ck_assert_uint_eq(((struct mmvec_head *)(void *)v)->room, 0);
	ck_assert_int_eq(mmvec_pop(v, &out), 0);
	ck_assert_int_eq(mmvec_pop(v, &out), 0);
	ck_assert_int_eq(out, 4);
	p = claim_ok(v, 1);
	ck_assert_ptr_eq(p, (int64_t *)mmvec_data(v) + 4);
	*p = 4;
	ck_assert_int_eq(mmvec_mp_publish(v, p, 1), 0);
	ck_assert_counting(v, 5);
	mmvec_clear(v);
	ck_assert_int_eq(mmvec_shrink_to_fit(v), 0);
	p = claim_ok(v, 3);
	ck_assert_ptr_eq(p, mmvec_data(v));
	fill(p, 3, 0);
	ck_assert_int_eq(mmvec_mp_publish(v, p, 3), 0);
	x = 3;
	ck_assert_int_eq(mmvec_append(v, &x, 1), 0);
	ck_assert_ptr_eq(claim_ok(v, 1), p + 4);
	mmvec_free(v);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* File-backed vectors */

#ifndef _WIN32
START_TEST(file_refused)
{
	struct mmvec *w = open_ok(path, 8, 1000, MMVEC_CREATE);
	struct mmvec *r;
	int64_t x = 1;

	ck_assert_ptr_nonnull(mmvec_push(w, &x));
	r = open_ok(path, 8, 1000, MMVEC_RDONLY);
	ck_fails_ptr(w, mmvec_mp_claim(w, 1), EOPNOTSUPP);
	ck_fails_ptr(w, mmvec_mp_push(w, &x), EOPNOTSUPP);
	ck_fails_int(w, mmvec_mp_publish(w, mmvec_data(w), 1), -EOPNOTSUPP);
	ck_fails_ptr(r, mmvec_mp_claim(r, 1), EBADF);
	ck_fails_ptr(r, mmvec_mp_push(r, &x), EBADF);
	ck_fails_int(r, mmvec_mp_publish(r, mmvec_data(r), 1), -EBADF);
	/* the writer goes on as before */
	ck_assert_ptr_nonnull(mmvec_push(w, &x));
	ck_assert_uint_eq(mmvec_len(r), 2);
	mmvec_free(r);
	mmvec_free(w);
}
END_TEST

static void forked_writer(void *arg)
{
	struct mmvec *w = arg;
	int64_t x = 1;

	errno = 0;
	child_assert(mmvec_mp_claim(w, 1) == NULL && errno == ECHILD);
	errno = 0;
	child_assert(mmvec_mp_push(w, &x) == NULL && errno == ECHILD);
	child_assert(mmvec_mp_publish(w, mmvec_data(w), 1) == -ECHILD);
	_exit(0);
}

START_TEST(file_forked_writer)
{
	struct mmvec *w = open_ok(path, 8, 1000, MMVEC_CREATE);

	in_child(forked_writer, w);
	mmvec_free(w);
}
END_TEST
#endif

Suite *test_suite(int argc, char **argv)
{
	Suite *s = suite_create("mp");
	TCase *tc;

	(void)argc;
	(void)argv;
	tc = test_case(s, "claim", setup, teardown, 60);
	test_add(tc, 1, claim_errors, claim_enomem, many_open_claims, claim_ebusy,
		 push_copies_or_zeroes, NULL);
	tc = test_case(s, "publish", setup, teardown, 60);
	test_add(tc, 1, publish_errors, publish_out_of_order, table_full_waits,
		 ranges_join, NULL);
	tc = test_case(s, "writer", setup, teardown, 60);
	test_add(tc, 1, writer_busy, NULL);
#ifdef _WIN32
	test_not_run("file_refused", "no file-backed vectors on Windows");
#else
	tc = test_case(s, "file", setup_dir, teardown_dir, 60);
	test_add(tc, 1, file_refused, file_forked_writer, NULL);
#endif
	return s;
}
