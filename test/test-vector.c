/*
 * SPDX-License-Identifier: MIT
 *
 * Every vector function's success paths, for several element sizes, checked
 * against a plain byte array that applies the same operations.
 */
#include "runner.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#ifndef _WIN32
#include <sys/resource.h>
#endif
#include <unistd.h>

/* Element sizes for the loop tests: bytes, odd, word, struct, a page, more
 * than a page and not dividing it. */
static const size_t elem_sizes[] = { 1, 3, 8, 24, 4096, 5000 };

static size_t page;

static void setup(void)
{
	page = mmvec_page_size();
}

/* Bytes the default reservation grants right now */
static size_t default_reservation(void)
{
	struct mmvec_region *r;
	size_t reserved;

	ck_assert_int_eq(mmvec_region_new(0, 0, &r), 0);
	reserved = mmvec_region_reserved(r);
	mmvec_region_free(r);
	return reserved;
}

/* ------------------------------------------------------------------------ */
/* A model: the bytes the vector must hold, changed by plain memmove */

struct model {
	size_t es;
	size_t len;
	size_t size; /* elements allocated */
	unsigned char *bytes;
};

static void model_init(struct model *m, size_t es)
{
	m->es = es;
	m->len = 0;
	m->size = 0;
	m->bytes = NULL;
}

static void model_fini(struct model *m)
{
	free(m->bytes);
	m->bytes = NULL;
}

static void model_insert(struct model *m, size_t i, const void *src, size_t n)
{
	unsigned char *copy = NULL;

	/* src may lie in m->bytes, which realloc moves */
	if (src && n) {
		copy = malloc(n * m->es);
		ck_assert_ptr_nonnull(copy);
		memcpy(copy, src, n * m->es);
		src = copy;
	}
	if (m->len + n > m->size) {
		m->size = (m->len + n) * 2;
		m->bytes = realloc(m->bytes, m->size * m->es);
		ck_assert_ptr_nonnull(m->bytes);
	}
	memmove(m->bytes + (i + n) * m->es, m->bytes + i * m->es,
		(m->len - i) * m->es);
	if (src)
		memcpy(m->bytes + i * m->es, src, n * m->es);
	else
		memset(m->bytes + i * m->es, 0, n * m->es);
	m->len += n;
	free(copy);
}

static void model_erase(struct model *m, size_t i, size_t n)
{
	memmove(m->bytes + i * m->es, m->bytes + (i + n) * m->es,
		(m->len - i - n) * m->es);
	m->len -= n;
}

#define ck_assert_model(v_, m_)							\
	do {									\
		ck_assert_uint_eq(mmvec_len(v_), (m_)->len);			\
		if ((m_)->len > 0)						\
			ck_assert_msg(memcmp(mmvec_data(v_), (m_)->bytes,	\
					     (m_)->len * (m_)->es) == 0,	\
				      "vector differs from the model");	\
	} while (0)

/* A buffer of n elements with pattern tag */
static unsigned char *pattern_buf(size_t es, unsigned tag, size_t n)
{
	unsigned char *buf = malloc(n * es + 1);

	ck_assert_ptr_nonnull(buf);
	for (size_t i = 0; i < n; i++)
		pattern_fill(buf + i * es, es, tag, i);
	return buf;
}

/* ------------------------------------------------------------------------ */
/* Creation and accessors */

START_TEST(new_explicit)
{
	size_t es = elem_sizes[_i];
	const size_t lens[] = { 1, 2, 1000, page + 1 };

	for (size_t k = 0; k < ARRAY_LENGTH(lens); k++) {
		struct mmvec *v = vec_new_ok(es, lens[k], 0);
		void *data = mmvec_data(v);

		ck_assert_uint_eq(mmvec_max_len(v), lens[k]);
		/* nothing committed before the first element */
		ck_assert_uint_eq(mmvec_capacity(v), 0);
		ck_assert_ptr_eq(mmvec_data(v), data);
		mmvec_free(v);
	}
}
END_TEST

START_TEST(new_default)
{
	size_t es = elem_sizes[_i];
	size_t reserved = default_reservation();
	struct mmvec *v = vec_new_ok(es, 0, 0);

	ck_assert_uint_eq(mmvec_max_len(v), reserved / es);
	ck_assert_uint_eq(mmvec_capacity(v), 0);
	push_pattern(v, 1, 10);
	ck_assert_pattern(v, 0, 10, 1, 0);
	mmvec_free(v);
}
END_TEST

START_TEST(new_default_large_elements)
{
	/* "never less than one element" */
	size_t reserved = default_reservation();
	const size_t sizes[] = { reserved / 2 + 1, reserved };

	for (size_t k = 0; k < ARRAY_LENGTH(sizes); k++) {
		struct mmvec *v = vec_new_ok(sizes[k], 0, 0);

		ck_assert_uint_eq(mmvec_max_len(v), 1);
		mmvec_free(v);
	}
}
END_TEST

/* Whether RLIMIT_AS limits the address space (the cross files run
 * qemu-user under one, to keep its reservations fast) */
static bool as_limited(void)
{
#ifdef _WIN32
	return false;
#else
	struct rlimit lim;

	return getrlimit(RLIMIT_AS, &lim) == 0 && lim.rlim_cur != RLIM_INFINITY;
#endif
}

START_TEST(new_default_element_past_default)
{
	/* An element larger than the default reservation: the reservation
	 * grows to hold one. Not run under Valgrind, whose mappings stop at
	 * 32 GiB. */
	size_t es = default_reservation() + page;
	struct mmvec *v = vec_new_ok(es, 0, 0);

	ck_assert_uint_eq(mmvec_max_len(v), 1);
	mmvec_free(v);
}
END_TEST

START_TEST(new_flags)
{
	const unsigned flags[] = VALID_FLAG_SETS;

	for (size_t f = 0; f < ARRAY_LENGTH(flags); f++) {
		struct mmvec *v = vec_new_ok(24, 1000000, flags[f]);

		push_pattern(v, 2, 20000);
		ck_assert_pattern(v, 0, 20000, 2, 0);
		ck_assert_int_eq(mmvec_resize(v, 300000), 0);
		ck_assert(is_zero(mmvec_at(v, 20000), 280000 * 24));
		mmvec_free(v);
	}
}
END_TEST

START_TEST(accessors)
{
	size_t es = elem_sizes[_i];
	struct mmvec *v = vec_new_ok(es, 5000, 0);
	unsigned char *data = mmvec_data(v);

	push_pattern(v, 3, 2500);
	ck_assert_uint_eq(mmvec_len(v), 2500);
	ck_assert_uint_ge(mmvec_capacity(v), 2500);
	ck_assert_uint_le(mmvec_capacity(v), 5000);
	ck_assert_uint_eq(mmvec_max_len(v), 5000);
	ck_assert_uint_eq(mmvec_elem_size(v), es);
	ck_assert_ptr_eq(mmvec_data(v), data);
	for (size_t i = 0; i < 2500; i++)
		fast_assert_ptr_eq(mmvec_at(v, i), data + i * es);
	ck_assert_pattern(v, 0, 2500, 3, 0);
	mmvec_free(v);
	mmvec_free(NULL);
}
END_TEST

START_TEST(version)
{
	char expect[32];

	snprintf(expect, sizeof(expect), "%d.%d.%d", MMVEC_VERSION_MAJOR,
		 MMVEC_VERSION_MINOR, MMVEC_VERSION_PATCH);
	ck_assert_str_eq(mmvec_version(), "1.2.0");
	ck_assert_str_eq(mmvec_version(), expect);
	ck_assert_ptr_eq(mmvec_version(), mmvec_version());
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Appending */

START_TEST(push)
{
	size_t es = elem_sizes[_i];
	size_t n = 3 * page / es + 10;
	struct mmvec *v = vec_new_ok(es, 0, 0);
	unsigned char *data = mmvec_data(v);
	void *p;

	push_pattern(v, 4, n);
	ck_assert_pattern(v, 0, n, 4, 0);
	ck_assert_uint_ge(mmvec_capacity(v), n);

	/* NULL: a zeroed element */
	p = mmvec_push(v, NULL);
	ck_assert_ptr_eq(p, data + n * es);
	ck_assert_uint_eq(mmvec_len(v), n + 1);
	ck_assert(is_zero(p, es));
	ck_assert_pattern(v, 0, n, 4, 0);
	ck_assert_ptr_eq(mmvec_data(v), data);
	mmvec_free(v);
}
END_TEST

START_TEST(push_self)
{
	/* The source may be an element of the vector, also when the push has
	 * to commit more memory. */
	size_t es = elem_sizes[_i];
	struct mmvec *v = vec_new_ok(es, 0, MMVEC_NO_HUGEPAGES);
	unsigned char *data = mmvec_data(v);
	size_t cap;
	void *p;

	push_pattern(v, 5, 3);
	cap = mmvec_capacity(v);
	while (mmvec_len(v) < cap)
		fast_assert(mmvec_push(v, NULL) != NULL);
	ck_assert_uint_eq(mmvec_capacity(v), cap);

	p = mmvec_push(v, mmvec_at(v, 1));
	ck_assert_ptr_eq(p, data + cap * es);
	ck_assert(pattern_check(p, es, 5, 1));
	ck_assert_uint_gt(mmvec_capacity(v), cap);
	p = mmvec_push(v, mmvec_at(v, cap));
	ck_assert(pattern_check(p, es, 5, 1));
	p = mmvec_push(v, mmvec_at(v, 2));
	ck_assert(pattern_check(p, es, 5, 2));
	ck_assert_uint_eq(mmvec_len(v), cap + 3);
	ck_assert_pattern(v, 0, 3, 5, 0);
	mmvec_free(v);
}
END_TEST

START_TEST(extend)
{
	size_t es = elem_sizes[_i];
	size_t big = 2 * page / es + 7;
	struct mmvec *v = vec_new_ok(es, 0, 0);
	unsigned char *data = mmvec_data(v);
	unsigned char *p;

	/* nothing to append: the end pointer */
	ck_assert_ptr_eq(mmvec_extend(v, 0), data);
	ck_assert_uint_eq(mmvec_len(v), 0);

	p = mmvec_extend(v, 5);
	ck_assert_ptr_eq(p, data);
	ck_assert_uint_eq(mmvec_len(v), 5);
	ck_assert_uint_ge(mmvec_capacity(v), 5);
	ck_assert(is_zero(p, 5 * es));
	for (size_t i = 0; i < 5; i++)
		pattern_fill(p + i * es, es, 6, i);

	ck_assert_ptr_eq(mmvec_extend(v, 0), data + 5 * es);
	ck_assert_uint_eq(mmvec_len(v), 5);

	p = mmvec_extend(v, big);
	ck_assert_ptr_eq(p, data + 5 * es);
	ck_assert_uint_eq(mmvec_len(v), 5 + big);
	ck_assert_uint_ge(mmvec_capacity(v), 5 + big);
	ck_assert(is_zero(p, big * es));
	for (size_t i = 0; i < big; i++)
		pattern_fill(p + i * es, es, 6, 5 + i);
	ck_assert_pattern(v, 0, 5 + big, 6, 0);
	ck_assert_ptr_eq(mmvec_extend(v, 0), data + (5 + big) * es);
	mmvec_free(v);
}
END_TEST

START_TEST(extend_to_max)
{
	/* Exactly max_len elements fit, also where the reservation ends
	 * inside a page. */
	size_t es = elem_sizes[_i];
	size_t max = 3 * page / es + 1;
	struct mmvec *v = vec_new_ok(es, max, 0);
	unsigned char *p;

	p = mmvec_extend(v, max - 1);
	ck_assert_ptr_eq(p, mmvec_data(v));
	ck_assert(is_zero(p, (max - 1) * es));
	p = mmvec_extend(v, 1);
	ck_assert_ptr_nonnull(p);
	ck_assert(is_zero(p, es));
	memset(p, 0xcd, es);
	ck_assert_uint_eq(mmvec_len(v), max);
	ck_assert_uint_eq(mmvec_capacity(v), max);
	ck_assert_ptr_eq(mmvec_extend(v, 0),
			 (char *)mmvec_data(v) + max * es);
	mmvec_free(v);
}
END_TEST

START_TEST(append)
{
	size_t es = elem_sizes[_i];
	size_t n = 2 * page / es + 3;
	struct mmvec *v = vec_new_ok(es, 0, 0);
	unsigned char *buf = pattern_buf(es, 7, n);
	struct model m;

	model_init(&m, es);
	ck_assert_int_eq(mmvec_append(v, NULL, 0), 0);
	ck_assert_int_eq(mmvec_append(v, buf, 0), 0);
	ck_assert_model(v, &m);

	ck_assert_int_eq(mmvec_append(v, buf, 1), 0);
	model_insert(&m, m.len, buf, 1);
	ck_assert_model(v, &m);
	ck_assert_int_eq(mmvec_append(v, buf, n), 0);
	model_insert(&m, m.len, buf, n);
	ck_assert_model(v, &m);
	ck_assert_uint_ge(mmvec_capacity(v), m.len);
	ck_assert_int_eq(mmvec_append(v, NULL, 0), 0);
	ck_assert_model(v, &m);

	free(buf);
	model_fini(&m);
	mmvec_free(v);
}
END_TEST

START_TEST(append_self)
{
	/* Appending the vector to itself, when that needs more memory */
	size_t es = elem_sizes[_i];
	struct mmvec *v = vec_new_ok(es, 0, MMVEC_NO_HUGEPAGES);
	size_t cap, len;
	struct model m;

	model_init(&m, es);
	push_pattern(v, 8, 1);
	cap = mmvec_capacity(v);
	push_pattern(v, 8, cap - 1);
	ck_assert_uint_eq(mmvec_capacity(v), cap);
	len = mmvec_len(v);
	model_insert(&m, 0, mmvec_data(v), len);

	ck_assert_int_eq(mmvec_append(v, mmvec_data(v), len), 0);
	model_insert(&m, m.len, m.bytes, len);
	ck_assert_model(v, &m);
	ck_assert_int_eq(mmvec_append(v, mmvec_at(v, 1), mmvec_len(v) - 1), 0);
	model_insert(&m, m.len, m.bytes + es, m.len - 1);
	ck_assert_model(v, &m);
	model_fini(&m);
	mmvec_free(v);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Insert and remove */

START_TEST(insert)
{
	size_t es = elem_sizes[_i];
	size_t n = page / es + 2;
	struct mmvec *v = vec_new_ok(es, 0, 0);
	/* room for the largest count below (4) too */
	unsigned char *a = pattern_buf(es, 9, n + 4);
	unsigned char *b = pattern_buf(es, 10, n + 4);
	const struct {
		size_t where; /* SIZE_MAX: the end */
		const unsigned char *src;
		size_t n;
	} ops[] = {
		{ 0, NULL, 0 },
		{ 0, a, 3 },
		{ 0, b, 2 },
		{ SIZE_MAX, a, 4 },
		{ 1, b, 1 },
		{ 4, a, n },
		{ SIZE_MAX, b, 0 },
		{ SIZE_MAX, NULL, 0 },
		{ 2, NULL, 0 },
		{ 0, b, n },
		{ 7, a, 1 },
	};
	struct model m;

	model_init(&m, es);
	for (size_t k = 0; k < ARRAY_LENGTH(ops); k++) {
		size_t at = ops[k].where == SIZE_MAX ? m.len : ops[k].where;

		ck_assert_int_eq(mmvec_insert(v, at, ops[k].src, ops[k].n), 0);
		if (ops[k].n)
			model_insert(&m, at, ops[k].src, ops[k].n);
		ck_assert_model(v, &m);
	}
	ck_assert_uint_ge(mmvec_capacity(v), m.len);
	free(a);
	free(b);
	model_fini(&m);
	mmvec_free(v);
}
END_TEST

START_TEST(insert_self)
{
	/* The source read as it was before the call: before, across and
	 * after the insertion point, with and without growing. */
	size_t es = elem_sizes[_i];
	const struct {
		size_t at, from, n;
	} ops[] = {
		{ 1, 0, 3 },  /* source before the point */
		{ 1, 0, 1 },
		{ 2, 1, 4 },  /* across it */
		{ 0, 2, 3 },  /* after it */
		{ 3, 5, 2 },
		{ 5, 0, 12 }, /* all of it, at the middle */
		{ 0, 0, 20 },
	};

	for (size_t k = 0; k < ARRAY_LENGTH(ops); k++) {
		for (int grow = 0; grow <= 1; grow++) {
			struct mmvec *v = vec_new_ok(es, 0, MMVEC_NO_HUGEPAGES);
			unsigned char *src;
			size_t len = 20;
			struct model m;

			model_init(&m, es);
			push_pattern(v, 11, len);
			if (grow) {
				/* fill up to capacity, so the insert commits */
				len = mmvec_capacity(v);
				push_pattern(v, 12, len - 20);
				ck_assert_uint_eq(mmvec_capacity(v), len);
			}
			model_insert(&m, 0, mmvec_data(v), len);
			src = malloc(ops[k].n * es);
			ck_assert_ptr_nonnull(src);
			memcpy(src, m.bytes + ops[k].from * es, ops[k].n * es);

			ck_assert_int_eq(mmvec_insert(v, ops[k].at,
						      mmvec_at(v, ops[k].from),
						      ops[k].n), 0);
			model_insert(&m, ops[k].at, src, ops[k].n);
			ck_assert_model(v, &m);

			free(src);
			model_fini(&m);
			mmvec_free(v);
		}
	}
}
END_TEST

START_TEST(erase)
{
	size_t es = elem_sizes[_i];
	size_t n = 2 * page / es + 40;
	struct mmvec *v = vec_new_ok(es, 0, 0);
	unsigned char *data = mmvec_data(v);
	const struct {
		size_t i, n; /* i SIZE_MAX: i == len - n */
	} ops[] = {
		{ 0, 0 }, { 3, 0 }, { 0, 1 }, { 5, 3 }, { SIZE_MAX, 1 },
		{ SIZE_MAX, 4 }, { 10, 17 }, { SIZE_MAX, 0 }, { 0, 9 },
	};
	size_t cap;
	struct model m;

	model_init(&m, es);
	push_pattern(v, 13, n);
	model_insert(&m, 0, mmvec_data(v), n);
	cap = mmvec_capacity(v);

	for (size_t k = 0; k < ARRAY_LENGTH(ops); k++) {
		size_t i = ops[k].i == SIZE_MAX ? m.len - ops[k].n : ops[k].i;

		ck_assert_int_eq(mmvec_erase(v, i, ops[k].n), 0);
		model_erase(&m, i, ops[k].n);
		ck_assert_model(v, &m);
		/* memory stays committed */
		ck_assert_uint_eq(mmvec_capacity(v), cap);
	}
	/* the rest, from the end */
	ck_assert_int_eq(mmvec_erase(v, mmvec_len(v), 0), 0);
	ck_assert_int_eq(mmvec_erase(v, 0, mmvec_len(v)), 0);
	ck_assert_uint_eq(mmvec_len(v), 0);
	ck_assert_uint_eq(mmvec_capacity(v), cap);
	ck_assert_ptr_eq(mmvec_data(v), data);
	ck_assert_int_eq(mmvec_erase(v, 0, 0), 0);
	model_fini(&m);
	mmvec_free(v);
}
END_TEST

START_TEST(swap_remove)
{
	size_t es = elem_sizes[_i];
	struct mmvec *v = vec_new_ok(es, 100, 0);
	struct model m;
	size_t cap;

	model_init(&m, es);
	push_pattern(v, 14, 10);
	model_insert(&m, 0, mmvec_data(v), 10);
	cap = mmvec_capacity(v);

	/* the middle: the last one takes its place */
	ck_assert_int_eq(mmvec_swap_remove(v, 3), 0);
	memcpy(m.bytes + 3 * es, m.bytes + 9 * es, es);
	m.len--;
	ck_assert_model(v, &m);
	ck_assert_pattern(v, 3, 4, 14, 9);

	/* the first */
	ck_assert_int_eq(mmvec_swap_remove(v, 0), 0);
	memcpy(m.bytes, m.bytes + 8 * es, es);
	m.len--;
	ck_assert_model(v, &m);

	/* the last: just gone */
	ck_assert_int_eq(mmvec_swap_remove(v, m.len - 1), 0);
	m.len--;
	ck_assert_model(v, &m);

	while (m.len > 1) {
		ck_assert_int_eq(mmvec_swap_remove(v, 1), 0);
		memcpy(m.bytes + es, m.bytes + (m.len - 1) * es, es);
		m.len--;
		ck_assert_model(v, &m);
	}
	/* the only one */
	ck_assert_int_eq(mmvec_swap_remove(v, 0), 0);
	ck_assert_uint_eq(mmvec_len(v), 0);
	ck_assert_uint_eq(mmvec_capacity(v), cap);
	model_fini(&m);
	mmvec_free(v);
}
END_TEST

START_TEST(pop)
{
	size_t es = elem_sizes[_i];
	size_t n = page / es + 3;
	struct mmvec *v = vec_new_ok(es, 0, 0);
	unsigned char *out = malloc(es);
	size_t cap;

	ck_assert_ptr_nonnull(out);
	push_pattern(v, 15, n);
	cap = mmvec_capacity(v);
	for (size_t k = n; k > 0; k--) {
		if (k % 2) {
			memset(out, 0, es);
			fast_assert(mmvec_pop(v, out) == 0);
			fast_assert(pattern_check(out, es, 15, k - 1));
		} else {
			fast_assert(mmvec_pop(v, NULL) == 0);
		}
		fast_assert_uint_eq(mmvec_len(v), k - 1);
		if (k > 1)
			fast_assert(pattern_check(mmvec_at(v, k - 2), es, 15,
						  k - 2));
		fast_assert_uint_eq(mmvec_capacity(v), cap);
		if (k % 1024 == 0)
			ck_assert_pattern(v, 0, k - 1, 15, 0);
	}
	free(out);
	mmvec_free(v);
}
END_TEST

START_TEST(clear)
{
	size_t es = elem_sizes[_i];
	struct mmvec *v = vec_new_ok(es, 0, 0);
	void *data = mmvec_data(v);
	size_t cap;

	mmvec_clear(v);
	ck_assert_uint_eq(mmvec_len(v), 0);
	ck_assert_uint_eq(mmvec_capacity(v), 0);

	push_pattern(v, 16, 100);
	cap = mmvec_capacity(v);
	mmvec_clear(v);
	ck_assert_uint_eq(mmvec_len(v), 0);
	ck_assert_uint_eq(mmvec_capacity(v), cap);
	ck_assert_ptr_eq(mmvec_data(v), data);
	push_pattern(v, 17, 50);
	ck_assert_pattern(v, 0, 50, 17, 0);
	ck_assert_uint_eq(mmvec_capacity(v), cap);
	mmvec_clear(NULL);
	mmvec_free(v);
}
END_TEST

START_TEST(resize)
{
	size_t es = elem_sizes[_i];
	size_t big = 2 * page / es + 5;
	struct mmvec *v = vec_new_ok(es, 0, 0);
	unsigned char *data = mmvec_data(v);
	size_t cap;

	ck_assert_int_eq(mmvec_resize(v, 0), 0);
	ck_assert_uint_eq(mmvec_len(v), 0);

	ck_assert_int_eq(mmvec_resize(v, big), 0);
	ck_assert_uint_eq(mmvec_len(v), big);
	ck_assert_uint_ge(mmvec_capacity(v), big);
	ck_assert(is_zero(data, big * es));
	for (size_t i = 0; i < big; i++)
		pattern_fill(data + i * es, es, 18, i);

	ck_assert_int_eq(mmvec_resize(v, big), 0);
	ck_assert_pattern(v, 0, big, 18, 0);

	cap = mmvec_capacity(v);
	ck_assert_int_eq(mmvec_resize(v, 3), 0);
	ck_assert_uint_eq(mmvec_len(v), 3);
	ck_assert_uint_eq(mmvec_capacity(v), cap);
	ck_assert_pattern(v, 0, 3, 18, 0);

	ck_assert_int_eq(mmvec_resize(v, 4), 0);
	ck_assert_pattern(v, 0, 3, 18, 0);
	ck_assert(is_zero(mmvec_at(v, 3), es));

	ck_assert_int_eq(mmvec_resize(v, 0), 0);
	ck_assert_uint_eq(mmvec_len(v), 0);
	ck_assert_ptr_eq(mmvec_data(v), data);
	mmvec_free(v);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Memory */

START_TEST(reserve)
{
	size_t es = elem_sizes[_i];
	size_t max = 4 * page / es + 3;
	struct mmvec *v = vec_new_ok(es, max, 0);
	size_t cap;

	ck_assert_int_eq(mmvec_reserve(v, 0), 0);
	ck_assert_uint_eq(mmvec_capacity(v), 0);

	ck_assert_int_eq(mmvec_reserve(v, 5), 0);
	cap = mmvec_capacity(v);
	ck_assert_uint_ge(cap, 5);
	ck_assert_uint_eq(mmvec_len(v), 0);

	/* no more than there is: nothing */
	ck_assert_int_eq(mmvec_reserve(v, 1), 0);
	ck_assert_int_eq(mmvec_reserve(v, cap), 0);
	ck_assert_uint_eq(mmvec_capacity(v), cap);

	push_pattern(v, 19, 4);
	ck_assert_int_eq(mmvec_reserve(v, 2 * page / es + 1), 0);
	ck_assert_uint_ge(mmvec_capacity(v), 2 * page / es + 1);
	ck_assert_uint_eq(mmvec_len(v), 4);
	ck_assert_pattern(v, 0, 4, 19, 0);

	/* capacity never passes max_len */
	ck_assert_int_eq(mmvec_reserve(v, max), 0);
	ck_assert_uint_eq(mmvec_capacity(v), max);
	push_pattern(v, 20, max - 4);
	ck_assert_uint_eq(mmvec_capacity(v), max);
	ck_assert_pattern(v, 4, max, 20, 0);
	mmvec_free(v);
}
END_TEST

START_TEST(capacity_within_max)
{
	/* max_len not a page multiple of elements: capacity stops at it */
	size_t es = elem_sizes[_i];
	size_t max = page / es + 2;
	struct mmvec *v = vec_new_ok(es, max, 0);

	for (size_t k = 0; k < max; k++) {
		fast_assert(mmvec_push(v, NULL) != NULL);
		fast_assert(mmvec_capacity(v) >= k + 1);
		fast_assert(mmvec_capacity(v) <= max);
	}
	ck_assert_uint_eq(mmvec_capacity(v), max);
	mmvec_free(v);
}
END_TEST

START_TEST(shrink_to_fit)
{
	size_t es = elem_sizes[_i];
	size_t n = 5 * page / es + 11;
	struct mmvec *v = vec_new_ok(es, 0, 0);
	void *data = mmvec_data(v);
	size_t expect;

	/* nothing committed, nothing to give back */
	ck_assert_int_eq(mmvec_shrink_to_fit(v), 0);
	ck_assert_uint_eq(mmvec_capacity(v), 0);

	push_pattern(v, 21, n);
	ck_assert_int_eq(mmvec_reserve(v, 4 * n), 0);
	ck_assert_int_eq(mmvec_shrink_to_fit(v), 0);
	expect = round_up(n * es, page) / es;
	ck_assert_uint_eq(mmvec_capacity(v), expect);
	ck_assert_pattern(v, 0, n, 21, 0);
	ck_assert_ptr_eq(mmvec_data(v), data);

	/* twice: nothing more */
	ck_assert_int_eq(mmvec_shrink_to_fit(v), 0);
	ck_assert_uint_eq(mmvec_capacity(v), expect);

	ck_assert_int_eq(mmvec_resize(v, 1), 0);
	ck_assert_int_eq(mmvec_shrink_to_fit(v), 0);
	ck_assert_uint_eq(mmvec_capacity(v), round_up(es, page) / es);
	ck_assert_pattern(v, 0, 1, 21, 0);

	mmvec_clear(v);
	ck_assert_int_eq(mmvec_shrink_to_fit(v), 0);
	ck_assert_uint_eq(mmvec_capacity(v), 0);
	ck_assert_ptr_eq(mmvec_data(v), data);

	/* and grows again */
	push_pattern(v, 22, n);
	ck_assert_pattern(v, 0, n, 22, 0);
	ck_assert_ptr_eq(mmvec_data(v), data);
	mmvec_free(v);
}
END_TEST

START_TEST(shrink_to_fit_max_len)
{
	/* The page that holds the last element may hold more elements than
	 * max_len: capacity stays at max_len. */
	struct mmvec *v = vec_new_ok(8, 10, 0);

	push_pattern(v, 23, 10);
	ck_assert_int_eq(mmvec_shrink_to_fit(v), 0);
	ck_assert_uint_eq(mmvec_capacity(v), 10);
	ck_assert_pattern(v, 0, 10, 23, 0);
	mmvec_free(v);
}
END_TEST

START_TEST(reserve_populate)
{
	/* MMVEC_POPULATE: reserved memory is resident at once; without it
	 * reserving faults nothing in. */
	struct mmvec *v = vec_new_ok(8, 1 << 20, MMVEC_POPULATE |
				     MMVEC_NO_HUGEPAGES);
	size_t bytes;

	ck_assert_int_eq(mmvec_reserve(v, 100000), 0);
	bytes = round_up(mmvec_capacity(v) * 8, page);
	ck_assert_uint_ge(bytes, 800000);
	ck_assert_uint_eq(resident_pages(mmvec_data(v), bytes), bytes / page);
	mmvec_free(v);

	v = vec_new_ok(8, 1 << 20, MMVEC_NO_HUGEPAGES);
	ck_assert_int_eq(mmvec_reserve(v, 100000), 0);
	ck_assert_uint_eq(resident_pages(mmvec_data(v), 800000), 0);
	mmvec_free(v);
}
END_TEST

Suite *test_suite(int argc, char **argv)
{
	Suite *s = suite_create("vector");
	int nsizes = (int)ARRAY_LENGTH(elem_sizes);
	TCase *tc;

	tc = test_case(s, "new", setup, NULL, 30);
	test_add(tc, nsizes, new_explicit, new_default, NULL);
	test_add(tc, 1, new_default_large_elements, NULL);
	/* Valgrind's mappings stop at 32 GiB */
	if (as_limited())
		test_not_run(new_default_element_past_default->name,
			     "under RLIMIT_AS, more than the default and as much "
			     "again may not fit in what the limit leaves");
	else
		test_add_not_on_valgrind(tc, new_default_element_past_default);
	test_add(tc, 1, new_flags, NULL);
	test_add(tc, nsizes, accessors, NULL);
	test_add(tc, 1, version, NULL);

	tc = test_case(s, "append", setup, NULL, 30);
	test_add(tc, nsizes, push, push_self, extend, extend_to_max, append,
		 append_self, NULL);

	tc = test_case(s, "modify", setup, NULL, 30);
	test_add(tc, nsizes, insert, insert_self, erase, swap_remove, pop, clear,
		 resize, NULL);

	tc = test_case(s, "memory", setup, NULL, 30);
	test_add(tc, nsizes, reserve, capacity_within_max, shrink_to_fit, NULL);
	test_add(tc, 1, shrink_to_fit_max_len, NULL);
	test_add_unless_qemu(tc, QEMU_NO_MADVISE " (MADV_POPULATE_WRITE), "
			     "and " QEMU_NO_MINCORE, reserve_populate);
	return s;
}
