/*
 * SPDX-License-Identifier: MIT
 *
 * Address-space scale: 10,000 vectors alive at once, and every vector (and
 * region) staying at two kernel mappings (VMAs: the committed prefix and the
 * PROT_NONE rest) through any number of grow and shrink cycles, with every
 * huge-page flag, so that vm.max_map_count (65530 by default) only limits a
 * program with tens of thousands of vectors.
 */
#include "runner.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mmvec.h"

/* Mappings the rest of the process may add meanwhile (malloc arenas, a
 * sanitizer's allocator), against the thousands the vectors would leak. */
#define SLACK 128

static size_t reserved_bytes(const struct mmvec *v)
{
	size_t page = mmvec_page_size();

	return (mmvec_max_len(v) * mmvec_elem_size(v) + page - 1) / page * page;
}

static unsigned char tag_byte(size_t vec, size_t i)
{
	return (unsigned char)(vec * 7u + i * 13u + 1u);
}

/* Frees the vectors and asserts that nothing stays mapped where they were
 * once the reservation cache is flushed, and (except under
 * ThreadSanitizer, whose shadow memory for the freed ranges stays behind in
 * pieces) that the process is back to about its mapping count @before. */
static void free_all(struct mmvec **v, size_t n, long before)
{
	void **data = calloc(n, sizeof(*data));
	size_t *bytes = calloc(n, sizeof(*bytes));
	struct maps m;

	ck_assert(data && bytes);
	for (size_t k = 0; k < n; k++) {
		data[k] = mmvec_data(v[k]);
		bytes[k] = reserved_bytes(v[k]);
		mmvec_free(v[k]);
	}
	mmvec_cache_flush();
	ck_assert_int_eq(maps_read(&m), 0);
	for (size_t k = 0; k < n; k++)
		ck_assert_msg(maps_count(&m, data[k], bytes[k]) == 0,
			      "vector %zu left a mapping behind", k);
	maps_free(&m);
	free(data);
	free(bytes);
#ifndef TEST_TSAN
	ck_assert_int_le(maps_total(), before + SLACK);
#else
	(void)before;
#endif
}

/* ------------------------------------------------------------------------ */
/* 10,000 vectors at once */

#define N_VECS 10000

START_TEST(ten_thousand_vectors)
{
	/* Valgrind tracks every mapping itself: 10,000 take a minute there,
	 * so it gets 2,000 (every other build, 10,000) */
	size_t n_vecs = test_on_valgrind() ? 2000 : N_VECS;
	struct mmvec **v = calloc(n_vecs, sizeof(*v));
	long before, during, after;
	struct maps m;
	size_t worst = 0;

	ck_assert_ptr_nonnull(v);
	before = maps_total();
	ck_assert_int_gt(before, 0);
	for (size_t k = 0; k < n_vecs; k++) {
		size_t es = 1 + k % 64;
		size_t max_len = 16 + k % 1000;

		ck_assert_int_eq(mmvec_new(es, max_len, 0, &v[k]), 0);
		ck_assert_uint_eq(mmvec_max_len(v[k]), max_len);
	}
	/* grow them round-robin, so that commits interleave */
	for (size_t round = 0; round < 4; round++) {
		for (size_t k = 0; k < n_vecs; k++) {
			size_t es = mmvec_elem_size(v[k]);
			size_t want = (round + 1) * mmvec_max_len(v[k]) / 5;
			size_t len = mmvec_len(v[k]);
			unsigned char *p;

			if (want <= len)
				continue;
			p = mmvec_extend(v[k], want - len);
			ck_assert_ptr_nonnull(p);
			for (size_t i = len; i < want; i++)
				memset(p + (i - len) * es, tag_byte(k, i), es);
		}
	}
	during = maps_total();
	ck_assert_int_eq(maps_read(&m), 0);
	for (size_t k = 0; k < n_vecs; k++) {
		size_t c = maps_count(&m, mmvec_data(v[k]),
				      reserved_bytes(v[k]));

		if (c > worst)
			worst = c;
		ck_assert_msg(c >= 1 && c <= 2, "vector %zu spans %zu mappings",
			      k, c);
	}
	maps_free(&m);
	/* two mappings each at most, plus a little for malloc */
	ck_assert_msg(during - before <= (long)(2 * n_vecs + SLACK),
		      "%ld mappings for %zu vectors", during - before, n_vecs);

	/* each holds its own elements */
	for (size_t k = 0; k < n_vecs; k++) {
		const unsigned char *d = mmvec_data(v[k]);
		size_t es = mmvec_elem_size(v[k]);
		bool ok = true;

		for (size_t i = 0; i < mmvec_len(v[k]); i++)
			ok &= d[i * es] == tag_byte(k, i) &&
			      d[i * es + es - 1] == tag_byte(k, i);
		ck_assert_msg(ok, "vector %zu lost its elements", k);
	}
	/* shrink every other one to nothing: still at most two each */
	for (size_t k = 0; k < n_vecs; k += 2) {
		mmvec_clear(v[k]);
		ck_assert_int_eq(mmvec_shrink_to_fit(v[k]), 0);
	}
	ck_assert_int_le(maps_total() - before,
			 (long)(2 * n_vecs + SLACK));
	free_all(v, n_vecs, before);
	free(v);
	after = maps_total();
	printf("%zu vectors: %ld mappings while alive (%zu at most per "
	       "vector), %ld before, %ld after\n", n_vecs, during, worst,
	       before, after);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Grow/shrink cycles stay at two mappings */

static const unsigned cycle_flags[] = VALID_FLAG_SETS;

START_TEST(vector_cycles_stay_at_two_mappings)
{
	unsigned flags = cycle_flags[_i];
	unsigned cycles = test_slow() ? 40 : 150;
	static const size_t sizes[] = { 1, 24, 4097 };
	struct test_rng rng = { 0x5ca1e + (uint64_t)_i };

	for (size_t s = 0; s < ARRAY_LENGTH(sizes); s++) {
		size_t es = sizes[s];
		size_t max_len = 6 * MIB / es;
		struct mmvec *v = NULL;
		long base_total, total;
		size_t most = 0;

		ck_assert_int_eq(mmvec_new(es, max_len, flags, &v), 0);
		base_total = maps_total();
		for (unsigned c = 0; c < cycles; c++) {
			size_t len = mmvec_len(v);
			size_t target = (size_t)rng_below(&rng, max_len);
			long in;

			switch (rng_below(&rng, 6)) {
			case 0:
				ck_assert_int_eq(mmvec_resize(v, target), 0);
				break;
			case 1:
				ck_assert_int_eq(mmvec_reserve(v, target), 0);
				break;
			case 2:
				ck_assert_int_eq(mmvec_shrink_to_fit(v), 0);
				break;
			case 3:
				ck_assert_int_eq(mmvec_resize(v, len / 3), 0);
				ck_assert_int_eq(mmvec_shrink_to_fit(v), 0);
				break;
			case 4:
				mmvec_clear(v);
				ck_assert_int_eq(mmvec_shrink_to_fit(v), 0);
				break;
			default:
				for (int k = 0; k < 100 && len + k < max_len;
				     k++)
					ck_assert_ptr_nonnull(
						mmvec_push(v, NULL));
				break;
			}
			/* write the last element, so pages get faulted in */
			if (mmvec_len(v))
				*(volatile char *)mmvec_at(v, mmvec_len(v) - 1) = 1;
			in = maps_in(mmvec_data(v), reserved_bytes(v));
			ck_assert_msg(in >= 1 && in <= 2,
				      "flags %#x elem_size %zu cycle %u: %ld "
				      "mappings (len %zu, capacity %zu)",
				      flags, es, c, in, mmvec_len(v),
				      mmvec_capacity(v));
			if ((size_t)in > most)
				most = (size_t)in;
		}
		total = maps_total();
		/* nothing else in the process grew either (malloc may have
		 * made an arena or two) */
		ck_assert_int_le(total, base_total + SLACK);
		mmvec_free(v);
		ck_assert_uint_le(most, 2);
	}
}
END_TEST

START_TEST(region_cycles_stay_at_two_mappings)
{
	unsigned flags = cycle_flags[_i];
	unsigned cycles = test_slow() ? 40 : 300;
	struct test_rng rng = { 0x7e610 + (uint64_t)_i };
	size_t page = mmvec_page_size();
	size_t reserved = 6 * MIB + 3 * page;
	struct mmvec_region *r = NULL;
	char *base;

	ck_assert_int_eq(mmvec_region_new(reserved, flags, &r), 0);
	base = mmvec_region_base(r);
	for (unsigned c = 0; c < cycles; c++) {
		size_t bytes = (size_t)rng_below(&rng, reserved + 1);
		long in;

		if (rng_below(&rng, 2)) {
			ck_assert_int_eq(mmvec_region_commit(r, bytes), 0);
			if (bytes)
				base[bytes - 1] = 1;
		} else {
			ck_assert_int_eq(mmvec_region_decommit(r, bytes), 0);
		}
		in = maps_in(base, reserved);
		ck_assert_msg(in >= 1 && in <= 2,
			      "flags %#x cycle %u: %ld mappings (committed "
			      "%zu)", flags, c, in, mmvec_region_committed(r));
	}
	mmvec_region_free(r);
}
END_TEST

/* Many vectors cycling at once: the total stays at two per vector. */
START_TEST(many_vectors_cycling)
{
	size_t n = test_on_valgrind() ? 200 : 2000;
	struct mmvec **v = calloc(n, sizeof(*v));
	struct test_rng rng = { 42 };
	long before = maps_total();
	long most = 0;

	ck_assert_ptr_nonnull(v);
	for (size_t k = 0; k < n; k++)
		ck_assert_int_eq(mmvec_new(8, 4096 + k, cycle_flags[k % 6],
					   &v[k]),
				 0);
	for (unsigned c = 0; c < 20; c++) {
		long now;

		for (size_t k = 0; k < n; k++) {
			size_t len = (size_t)rng_below(&rng,
							 mmvec_max_len(v[k]));

			ck_assert_int_eq(mmvec_resize(v[k], len), 0);
			if (rng_below(&rng, 2))
				ck_assert_int_eq(mmvec_shrink_to_fit(v[k]), 0);
		}
		now = maps_total() - before;
		if (now > most)
			most = now;
		ck_assert_msg(now <= (long)(2 * n + SLACK),
			      "cycle %u: %ld mappings for %zu vectors", c, now,
			      n);
	}
	free_all(v, n, before);
	free(v);
}
END_TEST

Suite *test_suite(int argc, char **argv)
{
	Suite *s = suite_create("scale");
	TCase *tc = test_case(s, "mappings", NULL, NULL, 300);

	test_add(tc, 1, ten_thousand_vectors, NULL);
	test_add(tc, (int)ARRAY_LENGTH(cycle_flags),
		 vector_cycles_stay_at_two_mappings,
		 region_cycles_stay_at_two_mappings, NULL);
	test_add(tc, 1, many_vectors_cycling, NULL);
	return s;
}
