/*
 * SPDX-License-Identifier: MIT
 *
 * The inline push over the frozen head (struct mmvec_head, mmvec_push_fast(),
 * mmvec_push_val()) and the claim/publish pair. Built twice: as is, and with
 * MMVEC_NO_INLINE, where the inline forms must behave the same by calling
 * the library.
 */
#include "runner.h"

#include <stdio.h>

/* Whether the library annotates vectors for a memory checker here, and so
 * keeps room at 0 (test_on_valgrind() is false without memcheck.h, where
 * the library makes no annotations either). */
static bool annotated(void)
{
#ifdef TEST_ASAN
	return true;
#else
	return test_on_valgrind();
#endif
}

static struct mmvec_head *head(struct mmvec *v)
{
	return (struct mmvec_head *)(void *)v;
}

/* The head agrees with the getters, and room with the capacity. */
static void check_head(struct mmvec *v)
{
	struct mmvec_head *h = head(v);

	fast_assert_uint_eq(h->len, mmvec_len(v));
	fast_assert_ptr_eq(h->data, mmvec_data(v));
	fast_assert_uint_eq(h->elem_size, mmvec_elem_size(v));
	fast_assert(h->room <= mmvec_capacity(v));
	if (annotated())
		fast_assert_uint_eq(h->room, 0);
}

struct triple {
	uint32_t a;
	uint16_t b;
	uint8_t c;
};

/* ------------------------------------------------------------------------ */
/* The head */

START_TEST(head_layout)
{
	/* the ABI: these four, in this order, with no padding on any ABI
	 * where size_t and pointers have the same size */
	ck_assert_uint_eq(offsetof(struct mmvec_head, len), 0);
	ck_assert_uint_eq(offsetof(struct mmvec_head, room), sizeof(size_t));
	ck_assert_uint_eq(offsetof(struct mmvec_head, data),
			  2 * sizeof(size_t));
	ck_assert_uint_eq(offsetof(struct mmvec_head, elem_size),
			  2 * sizeof(size_t) + sizeof(void *));
	ck_assert_uint_eq(sizeof(struct mmvec_head),
			  3 * sizeof(size_t) + sizeof(void *));
}
END_TEST

START_TEST(head_follows_every_call)
{
	struct mmvec *v = vec_new_ok(8, 100000, 0);
	uint64_t x = 5, out;

	check_head(v);
	ck_assert_uint_eq(head(v)->room, 0); /* nothing committed yet */
	ck_assert_ptr_nonnull(mmvec_push(v, &x));
	check_head(v);
	if (!annotated())
		ck_assert_uint_eq(head(v)->room, mmvec_capacity(v));
	ck_assert_ptr_nonnull(mmvec_extend(v, 3000));
	check_head(v);
	ck_assert_int_eq(mmvec_append(v, &x, 1), 0);
	check_head(v);
	ck_assert_int_eq(mmvec_insert(v, 0, &x, 1), 0);
	check_head(v);
	ck_assert_int_eq(mmvec_erase(v, 0, 10), 0);
	check_head(v);
	ck_assert_int_eq(mmvec_swap_remove(v, 0), 0);
	check_head(v);
	ck_assert_int_eq(mmvec_pop(v, &out), 0);
	check_head(v);
	ck_assert_int_eq(mmvec_reserve(v, 50000), 0);
	check_head(v);
	ck_assert_int_eq(mmvec_resize(v, 10), 0);
	check_head(v);
	ck_assert_int_eq(mmvec_shrink_to_fit(v), 0);
	check_head(v);
	mmvec_clear(v);
	check_head(v);
	ck_assert_int_eq(mmvec_shrink_to_fit(v), 0);
	check_head(v);
	ck_assert_uint_eq(head(v)->room, 0);
	mmvec_free(v);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* mmvec_push_fast() and mmvec_push_val() */

START_TEST(push_fast_values)
{
	struct mmvec *v = vec_new_ok(sizeof(uint64_t), 0, 0);
	void *data = mmvec_data(v);
	size_t n = 300000;

	for (uint64_t i = 0; i < n; i++) {
		uint64_t *p = mmvec_push_fast(v, &i, sizeof(i));

		fast_assert(p != NULL);
		fast_assert_uint_eq(*p, i);
		fast_assert_ptr_eq(p, (uint64_t *)data + i);
	}
	ck_assert_uint_eq(mmvec_len(v), n);
	check_head(v);
	for (size_t i = 0; i < n; i++)
		fast_assert_uint_eq(*(uint64_t *)mmvec_at(v, i), i);
	ck_assert_ptr_eq(mmvec_data(v), data);
	mmvec_free(v);
}
END_TEST

START_TEST(push_val_values)
{
	struct mmvec *v = vec_new_ok(sizeof(struct triple), 0, 0);
	const struct triple k = { 7, 8, 9 };
	size_t n = 200000;

	for (size_t i = 0; i < n; i++) {
		struct triple t = { (uint32_t)i, (uint16_t)(i >> 3),
				    (uint8_t)i };
		struct triple *p = mmvec_push_val(v, t);

		fast_assert(p != NULL);
		fast_assert(p->a == t.a && p->b == t.b && p->c == t.c);
	}
	/* a const lvalue gives a writable slot */
	struct triple *p = mmvec_push_val(v, k);
	ck_assert_ptr_nonnull(p);
	ck_assert_uint_eq(p->a, 7);
	ck_assert_uint_eq(p->c, 9);
	ck_assert_uint_eq(mmvec_len(v), n + 1);
	for (size_t i = 0; i < n; i++) {
		const struct triple *q = mmvec_at(v, i);

		fast_assert(q->a == (uint32_t)i && q->b == (uint16_t)(i >> 3) &&
			    q->c == (uint8_t)i);
	}
	check_head(v);
	mmvec_free(v);
}
END_TEST

/* The argument of mmvec_push_val() is evaluated as written: once for v. */
START_TEST(push_val_evaluates_v_once)
{
	struct mmvec *vs[2] = { vec_new_ok(4, 16, 0), vec_new_ok(4, 16, 0) };
	int i = 0;
	int32_t x = 3;

	ck_assert_ptr_nonnull(mmvec_push_val(vs[i++], x));
	ck_assert_int_eq(i, 1);
	ck_assert_uint_eq(mmvec_len(vs[0]), 1);
	ck_assert_uint_eq(mmvec_len(vs[1]), 0);
	mmvec_free(vs[0]);
	mmvec_free(vs[1]);
}
END_TEST

START_TEST(push_fast_null_vector)
{
	uint64_t x = 1;

	ck_assert_null_errno(mmvec_push_fast(NULL, &x, sizeof(x)), EINVAL);
	ck_assert_null_errno(mmvec_push_fast(NULL, NULL, sizeof(x)), EINVAL);
	ck_assert_null_errno(mmvec_push_val((struct mmvec *)NULL, x), EINVAL);
}
END_TEST

START_TEST(push_fast_size_mismatch)
{
	struct mmvec *v = vec_new_ok(8, 100, 0);
	uint64_t x = 11;
	uint32_t small = 1;
	size_t cap;

	ck_assert_ptr_nonnull(mmvec_push_fast(v, &x, 8));
	cap = mmvec_capacity(v);

	ck_assert_null_errno(mmvec_push_fast(v, &x, 4), EINVAL);
	ck_assert_null_errno(mmvec_push_fast(v, NULL, 16), EINVAL);
	ck_assert_null_errno(mmvec_push_val(v, small), EINVAL);

	ck_assert_uint_eq(mmvec_len(v), 1);
	ck_assert_uint_eq(mmvec_capacity(v), cap);
	ck_assert_uint_eq(*(uint64_t *)mmvec_at(v, 0), 11);
	check_head(v);
	mmvec_free(v);
}
END_TEST

/* A NULL element appends zeroes, also where old bytes were left behind by
 * elements pushed inline and then removed. */
START_TEST(push_fast_null_elem_zeroes)
{
	struct mmvec *v = vec_new_ok(8, 0, 0);
	uint64_t ones = UINT64_MAX;

	for (int i = 0; i < 5000; i++)
		ck_assert_ptr_nonnull(mmvec_push_val(v, ones));
	ck_assert_int_eq(mmvec_resize(v, 100), 0);
	for (int i = 0; i < 4900; i++) {
		uint64_t *p = mmvec_push_fast(v, NULL, 8);

		fast_assert(p != NULL);
		fast_assert_uint_eq(*p, 0);
	}
	mmvec_clear(v);
	ck_assert_ptr_nonnull(mmvec_extend(v, 5000));
	for (size_t i = 0; i < 5000; i++)
		fast_assert_uint_eq(*(uint64_t *)mmvec_at(v, i), 0);
	mmvec_free(v);
}
END_TEST

/* An element of the vector itself may be pushed again. */
START_TEST(push_fast_own_element)
{
	struct mmvec *v = vec_new_ok(8, 0, 0);
	uint64_t x = 42;

	ck_assert_ptr_nonnull(mmvec_push_val(v, x));
	for (int i = 0; i < 10000; i++)
		fast_assert(mmvec_push_fast(v, mmvec_at(v, (size_t)i), 8) !=
			    NULL);
	for (size_t i = 0; i < 10001; i++)
		fast_assert_uint_eq(*(uint64_t *)mmvec_at(v, i), 42);
	mmvec_free(v);
}
END_TEST

START_TEST(push_fast_full)
{
	size_t max = mmvec_page_size() / 8 + 3; /* capacity reaches max */
	struct mmvec *v = vec_new_ok(8, max, 0);
	uint64_t x;

	for (x = 0; x < max; x++)
		ck_assert_ptr_nonnull(mmvec_push_val(v, x));
	ck_assert_uint_eq(mmvec_capacity(v), max);

	ck_assert_null_errno(mmvec_push_val(v, x), ENOSPC);
	ck_assert_null_errno(mmvec_push_fast(v, &x, 8), ENOSPC);
	ck_assert_null_errno(mmvec_push_fast(v, NULL, 8), ENOSPC);

	ck_assert_uint_eq(mmvec_len(v), max);
	ck_assert_uint_eq(mmvec_capacity(v), max);
	for (size_t i = 0; i < max; i++)
		fast_assert_uint_eq(*(uint64_t *)mmvec_at(v, i), i);
	check_head(v);
	mmvec_free(v);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* mmvec_claim() and mmvec_publish() */

START_TEST(claim_publish)
{
	struct mmvec *v = vec_new_ok(8, 0, 0);
	uint64_t *slot, x = 9;

	ck_assert_ptr_nonnull(mmvec_push_val(v, x));
	slot = mmvec_claim(v, 1000);
	ck_assert_ptr_eq(slot, (uint64_t *)mmvec_data(v) + 1);
	ck_assert_uint_eq(mmvec_len(v), 1);
	ck_assert_uint_ge(mmvec_capacity(v), 1001);
	ck_assert_uint_eq(head(v)->room, 0);
	ck_assert(is_zero(slot, 1000 * 8));
	for (size_t i = 0; i < 1000; i++)
		slot[i] = i + 100;

	ck_assert_int_eq(mmvec_publish(v, 0), 0);
	ck_assert_uint_eq(mmvec_len(v), 1);
	ck_assert_int_eq(mmvec_publish(v, 400), 0);
	ck_assert_uint_eq(mmvec_len(v), 401);
	ck_assert_int_eq(mmvec_publish(v, 601), -ERANGE);
	ck_assert_uint_eq(mmvec_len(v), 401);
	ck_assert_int_eq(mmvec_publish(v, 600), 0);
	ck_assert_uint_eq(mmvec_len(v), 1001);
	ck_assert_int_eq(mmvec_publish(v, 1), -ERANGE);
	check_head(v);
	if (!annotated())
		ck_assert_uint_eq(head(v)->room, mmvec_capacity(v));
	for (size_t i = 0; i < 1000; i++)
		fast_assert_uint_eq(*(uint64_t *)mmvec_at(v, i + 1), i + 100);
	mmvec_free(v);
}
END_TEST

START_TEST(claim_zero_and_errors)
{
	struct mmvec *v = vec_new_ok(8, 100, 0);
	uint64_t *slot;

	ck_assert_null_errno(mmvec_claim(NULL, 1), EINVAL);
	ck_assert_int_eq(mmvec_publish(NULL, 0), -EINVAL);
	ck_assert_int_eq(mmvec_publish(NULL, 1), -EINVAL);
	ck_assert_int_eq(mmvec_publish(v, 1), -ERANGE);

	/* 0 claims nothing and returns the end */
	ck_assert_ptr_eq(mmvec_claim(v, 0), mmvec_data(v));
	ck_assert_int_eq(mmvec_publish(v, 1), -ERANGE);

	slot = mmvec_claim(v, 60);
	ck_assert_ptr_nonnull(slot);
	slot[0] = 77;
	/* past the reservation: ENOSPC, and the open claim stays */
	ck_assert_null_errno(mmvec_claim(v, 101), ENOSPC);
	ck_assert_null_errno(mmvec_claim(v, SIZE_MAX), EOVERFLOW);
	ck_assert_uint_eq(mmvec_len(v), 0);
	ck_assert_int_eq(mmvec_publish(v, 1), 0);
	ck_assert_uint_eq(*(uint64_t *)mmvec_at(v, 0), 77);
	ck_assert_int_eq(mmvec_publish(v, 60), -ERANGE);
	ck_assert_int_eq(mmvec_publish(v, 59), 0);
	ck_assert_uint_eq(mmvec_len(v), 60);
	mmvec_free(v);
}
END_TEST

/* Each call that changes the length or gives memory back discards an open
 * claim; the slots read as zero when they become elements again. */
static void discard_by(struct mmvec *v, int how)
{
	uint64_t x = 5, out;

	switch (how) {
	case 0: ck_assert_ptr_nonnull(mmvec_push(v, &x)); break;
	case 1: ck_assert_ptr_nonnull(mmvec_push_val(v, x)); break;
	case 2: ck_assert_ptr_nonnull(mmvec_push_fast(v, NULL, 8)); break;
	case 3: ck_assert_ptr_nonnull(mmvec_extend(v, 2)); break;
	case 4: ck_assert_int_eq(mmvec_append(v, &x, 1), 0); break;
	case 5: ck_assert_int_eq(mmvec_insert(v, 0, &x, 1), 0); break;
	case 6: ck_assert_int_eq(mmvec_erase(v, 0, 1), 0); break;
	case 7: ck_assert_int_eq(mmvec_swap_remove(v, 0), 0); break;
	case 8: ck_assert_int_eq(mmvec_pop(v, &out), 0); break;
	case 9: mmvec_clear(v); break;
	case 10: ck_assert_int_eq(mmvec_resize(v, 3), 0); break;
	case 11: ck_assert_int_eq(mmvec_resize(v, 20), 0); break;
	case 12: ck_assert_int_eq(mmvec_shrink_to_fit(v), 0); break;
	default: ck_assert_ptr_nonnull(mmvec_claim(v, 2)); break;
	}
}

#define DISCARDERS 14

START_TEST(claim_discarded)
{
	struct mmvec *v = vec_new_ok(8, 0, 0);
	size_t len;
	uint64_t *slot;

	for (uint64_t i = 1; i <= 10; i++)
		ck_assert_ptr_nonnull(mmvec_push_val(v, i));
	slot = mmvec_claim(v, 50);
	ck_assert_ptr_nonnull(slot);
	for (size_t i = 0; i < 50; i++)
		slot[i] = UINT64_MAX;

	discard_by(v, _i);
	len = mmvec_len(v);
	/* nothing more to publish, except what a new claim claimed */
	ck_assert_int_eq(mmvec_publish(v, _i == DISCARDERS - 1 ? 3 : 1),
			 -ERANGE);
	check_head(v);
	/* the bytes written into the discarded claim never show as elements */
	ck_assert_ptr_nonnull(mmvec_extend(v, 60));
	for (size_t i = len; i < len + 60; i++)
		fast_assert_uint_eq(*(uint64_t *)mmvec_at(v, i), 0);
	if (_i <= 2)
		ck_assert_uint_ne(*(uint64_t *)mmvec_at(v, 10),
				  UINT64_MAX);
	mmvec_free(v);
}
END_TEST

/* mmvec_reserve() leaves a claim open: it changes neither the length nor
 * what is committed below the claim. */
START_TEST(claim_survives_reserve)
{
	struct mmvec *v = vec_new_ok(8, 0, 0);
	uint64_t *slot = mmvec_claim(v, 10);

	ck_assert_ptr_nonnull(slot);
	slot[9] = 99;
	ck_assert_int_eq(mmvec_reserve(v, 1000000), 0);
	ck_assert_int_eq(mmvec_publish(v, 10), 0);
	ck_assert_uint_eq(*(uint64_t *)mmvec_at(v, 9), 99);
	mmvec_free(v);
}
END_TEST

/* ------------------------------------------------------------------------ */

Suite *test_suite(int argc, char **argv)
{
	Suite *s = suite_create("inline");
	TCase *tc = test_case(s, "inline", NULL, NULL, 60);

	test_add(tc, 1, head_layout, head_follows_every_call,
		 push_fast_values, push_val_values, push_val_evaluates_v_once,
		 push_fast_null_vector, push_fast_size_mismatch,
		 push_fast_null_elem_zeroes, push_fast_own_element,
		 push_fast_full, claim_publish, claim_zero_and_errors,
		 claim_survives_reserve, NULL);
	test_add(tc, DISCARDERS, claim_discarded, NULL);
	return s;
}
