/*
 * SPDX-License-Identifier: MIT
 *
 * The page-reservation layer on its own, through the public API.
 */
#include "runner.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>

#ifndef _WIN32
#include <sys/resource.h>
#include <unistd.h>
#endif

static size_t page;

static void setup(void)
{
	page = mmvec_page_size();
}

#ifndef _WIN32
static size_t next_power_of_two(size_t x)
{
	size_t p = 1;

	while (p < x && p <= SIZE_MAX / 2)
		p <<= 1;
	return p;
}
#endif

static struct mmvec_region *region_new_ok(size_t max_bytes, unsigned flags)
{
	struct mmvec_region *r = NULL;
	int rc = mmvec_region_new(max_bytes, flags, &r);

	ck_assert_int_eq(rc, 0);
	ck_assert_ptr_nonnull(r);
	return r;
}

/* Bytes in [from, to) of the region all zero */
static bool range_zero(const struct mmvec_region *r, size_t from, size_t to)
{
	return is_zero((const char *)mmvec_region_base(r) + from, to - from);
}

static void range_fill(struct mmvec_region *r, size_t from, size_t to,
		       unsigned char c)
{
	memset((char *)mmvec_region_base(r) + from, c, to - from);
}

static bool range_is(const struct mmvec_region *r, size_t from, size_t to,
		     unsigned char c)
{
	const unsigned char *p = mmvec_region_base(r);

	for (size_t i = from; i < to; i++)
		if (p[i] != c)
			return false;
	return true;
}

/* ------------------------------------------------------------------------ */
/* Page size and reservation */

START_TEST(page_size)
{
	size_t sys = system_page_size();

	ck_assert_uint_gt(sys, 0);
	ck_assert_uint_eq(mmvec_page_size(), sys);
	ck_assert(is_power_of_two(mmvec_page_size()));
}
END_TEST

START_TEST(reserve_exact)
{
	const size_t sizes[] = {
		1, page - 1, page, page + 1, 10 * page + 3, 1 * MIB,
		3 * MIB + 5, 64 * MIB,
	};

	for (size_t i = 0; i < ARRAY_LENGTH(sizes); i++) {
		struct mmvec_region *r = region_new_ok(sizes[i], 0);
		void *base = mmvec_region_base(r);

		ck_assert_ptr_nonnull(base);
		ck_assert_uint_eq((uintptr_t)base % page, 0);
		ck_assert_uint_eq(mmvec_region_reserved(r),
				  round_up(sizes[i], page));
		ck_assert_uint_eq(mmvec_region_committed(r), 0);
		/* the whole reservation is mapped, nothing of it resident */
		ck_assert_uint_eq(resident_pages(base, mmvec_region_reserved(r)),
				  0);
		ck_assert_ptr_eq(mmvec_region_base(r), base);
		mmvec_region_free(r);
	}
}
END_TEST

START_TEST(reserve_aligned)
{
	/* 2 MiB or more: starts on a 2 MiB boundary, so that huge pages can
	 * form. Several at once, so that one lucky address does not pass. */
	struct mmvec_region *r[8];

	for (size_t i = 0; i < ARRAY_LENGTH(r); i++) {
		r[i] = region_new_ok(2 * MIB + i * 3 * page, 0);
		ck_assert_uint_eq((uintptr_t)mmvec_region_base(r[i]) % (2 * MIB),
				  0);
	}
	for (size_t i = 0; i < ARRAY_LENGTH(r); i++)
		mmvec_region_free(r[i]);
}
END_TEST

#ifndef _WIN32
START_TEST(reserve_default)
{
	struct mmvec_region *r = region_new_ok(0, 0);
	size_t reserved = mmvec_region_reserved(r);
	long pages = sysconf(_SC_PHYS_PAGES);
	/* saturated: a 32-bit process may run on a machine with more */
	size_t phys = (unsigned long)pages > SIZE_MAX / page ?
		SIZE_MAX : (size_t)pages * page;
	size_t start = next_power_of_two(phys);
	struct rlimit lim;
	char *base = mmvec_region_base(r);

	ck_assert_uint_eq(mmvec_region_committed(r), 0);
	ck_assert_uint_ge(reserved, page);
	ck_assert(is_power_of_two(reserved));
	/* a 32-bit process starts at a quarter of its 4 GiB at most */
	if (sizeof(size_t) < 8 && start > 1 * GIB)
		start = 1 * GIB;
	ck_assert_uint_le(reserved, start);

	/* Without a limit in the way the first request is granted */
	ck_assert_int_eq(getrlimit(RLIMIT_AS, &lim), 0);
	if (!test_on_valgrind() && lim.rlim_cur == RLIM_INFINITY)
		ck_assert_uint_eq(reserved, start);

	/* it is usable at both ends */
	ck_assert_int_eq(mmvec_region_commit(r, page), 0);
	base[0] = 1;
	ck_assert_uint_eq(mmvec_region_committed(r), page);
	ck_assert_uint_eq(vma_count(base + reserved - page, page), 1);
	mmvec_region_free(r);
}
END_TEST
#endif

/* Freed, a region is unmapped, at once or (kept for reuse in the
 * reservation cache) by mmvec_cache_flush(), which says how much. */
START_TEST(free_unmaps)
{
	const size_t sizes[] = { page, 5 * page, 2 * MIB, 7 * MIB + page };

	mmvec_cache_flush();
	for (size_t i = 0; i < ARRAY_LENGTH(sizes); i++) {
		struct mmvec_region *r = region_new_ok(sizes[i], 0);
		void *base = mmvec_region_base(r);
		size_t cached;

		ck_assert_int_eq(mmvec_region_commit(r, sizes[i] / 2 + 1), 0);
		memset(base, 0x5a, sizes[i] / 2 + 1);
		ck_assert_uint_ge(vma_count(base, sizes[i]), 1);
		mmvec_region_free(r);
		cached = vma_count(base, sizes[i]) ? round_up(sizes[i], page)
						   : 0;
		ck_assert_uint_eq(mmvec_cache_flush(), cached);
		ck_assert_uint_eq(vma_count(base, sizes[i]), 0);
	}
	mmvec_region_free(NULL);
	ck_assert_uint_eq(mmvec_cache_flush(), 0);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Commit */

START_TEST(commit_pages)
{
	/* Below 2 MiB, without MMVEC_HUGEPAGES: whole pages, exactly */
	const unsigned flags[] = { 0, MMVEC_NO_HUGEPAGES, MMVEC_POPULATE };

	for (size_t f = 0; f < ARRAY_LENGTH(flags); f++) {
		struct mmvec_region *r = region_new_ok(1 * MIB, flags[f]);
		const struct {
			size_t bytes, expect;
		} steps[] = {
			{ 0, 0 },
			{ 1, page },
			{ page, page },
			{ page + 1, 2 * page },
			{ 5 * page - 1, 5 * page },
			{ 3 * page, 5 * page },
			{ 0, 5 * page },
			/* past the earlier steps with 64 KiB pages too */
			{ MIB / 2 + 17, MIB / 2 + page },
			{ 1 * MIB, 1 * MIB },
		};
		size_t committed = 0;

		for (size_t i = 0; i < ARRAY_LENGTH(steps); i++) {
			size_t expect = steps[i].expect;

			ck_assert_int_eq(mmvec_region_commit(r, steps[i].bytes), 0);
			ck_assert_uint_eq(mmvec_region_committed(r), expect);
			/* newly committed memory reads zero, the old keeps its
			 * bytes */
			ck_assert(range_is(r, 0, committed, 0xa5));
			ck_assert(range_zero(r, committed, expect));
			range_fill(r, committed, expect, 0xa5);
			committed = expect;
		}
		mmvec_region_free(r);
	}
}
END_TEST

START_TEST(commit_huge_steps)
{
	size_t huge = thp_size();
	struct mmvec_region *r;

	/* By default, page steps up to 2 MiB, then 2 MiB steps */
	r = region_new_ok(16 * MIB, 0);
	ck_assert_int_eq(mmvec_region_commit(r, 3 * page), 0);
	ck_assert_uint_eq(mmvec_region_committed(r), 3 * page);
	ck_assert_int_eq(mmvec_region_commit(r, 2 * MIB), 0);
	ck_assert_uint_eq(mmvec_region_committed(r), 2 * MIB);
	ck_assert_int_eq(mmvec_region_commit(r, 2 * MIB + 1), 0);
	ck_assert_uint_eq(mmvec_region_committed(r),
			  huge ? 2 * MIB + huge : 2 * MIB + page);
	ck_assert_int_eq(mmvec_region_commit(r, 9 * MIB), 0);
	ck_assert_uint_eq(mmvec_region_committed(r),
			  huge ? round_up(9 * MIB, huge) : 9 * MIB);
	ck_assert(range_zero(r, 0, mmvec_region_committed(r)));
	mmvec_region_free(r);

	/* capped at the reservation */
	r = region_new_ok(3 * MIB, 0);
	ck_assert_int_eq(mmvec_region_commit(r, 2 * MIB), 0);
	ck_assert_int_eq(mmvec_region_commit(r, 2 * MIB + 1), 0);
	ck_assert_uint_eq(mmvec_region_committed(r),
			  huge ? 3 * MIB : 2 * MIB + page);
	mmvec_region_free(r);

	/* MMVEC_NO_HUGEPAGES: pages all the way */
	r = region_new_ok(16 * MIB, MMVEC_NO_HUGEPAGES);
	ck_assert_int_eq(mmvec_region_commit(r, 2 * MIB), 0);
	ck_assert_int_eq(mmvec_region_commit(r, 2 * MIB + 1), 0);
	ck_assert_uint_eq(mmvec_region_committed(r), 2 * MIB + page);
	ck_assert_int_eq(mmvec_region_commit(r, 9 * MIB + 1), 0);
	ck_assert_uint_eq(mmvec_region_committed(r), 9 * MIB + page);
	mmvec_region_free(r);

	/* MMVEC_HUGEPAGES: huge steps from the first commit, capped */
	r = region_new_ok(16 * MIB, MMVEC_HUGEPAGES);
	ck_assert_int_eq(mmvec_region_commit(r, 1), 0);
	ck_assert_uint_eq(mmvec_region_committed(r), huge ? huge : page);
	ck_assert_int_eq(mmvec_region_commit(r, 5 * MIB), 0);
	ck_assert_uint_eq(mmvec_region_committed(r),
			  huge ? round_up(5 * MIB, huge) : 5 * MIB);
	mmvec_region_free(r);

	r = region_new_ok(1 * MIB, MMVEC_HUGEPAGES);
	ck_assert_int_eq(mmvec_region_commit(r, 1), 0);
	ck_assert_uint_eq(mmvec_region_committed(r), huge ? 1 * MIB : page);
	mmvec_region_free(r);

	r = region_new_ok(3 * MIB + page, MMVEC_HUGEPAGES);
	ck_assert_int_eq(mmvec_region_commit(r, 2 * MIB + 1), 0);
	ck_assert_uint_eq(mmvec_region_committed(r),
			  huge ? 3 * MIB + page : 2 * MIB + page);
	mmvec_region_free(r);
}
END_TEST

START_TEST(commit_whole_reservation)
{
	const size_t sizes[] = { page, 7 * page, 3 * MIB + page };

	for (size_t i = 0; i < ARRAY_LENGTH(sizes); i++) {
		struct mmvec_region *r = region_new_ok(sizes[i], 0);
		unsigned char *base = mmvec_region_base(r);

		ck_assert_int_eq(mmvec_region_commit(r, sizes[i]), 0);
		ck_assert_uint_eq(mmvec_region_committed(r), sizes[i]);
		base[sizes[i] - 1] = 0x42;
		ck_assert_uint_eq(base[sizes[i] - 1], 0x42);
		ck_assert_int_eq(mmvec_region_commit(r, sizes[i]), 0);
		ck_assert_uint_eq(mmvec_region_committed(r), sizes[i]);
		mmvec_region_free(r);
	}
}
END_TEST

START_TEST(commit_past_reservation)
{
	struct mmvec_region *r = region_new_ok(10 * page - 3, 0);
	size_t reserved = mmvec_region_reserved(r);
	const size_t bad[] = { reserved + 1, reserved + page, SIZE_MAX };

	ck_assert_uint_eq(reserved, 10 * page);
	ck_assert_int_eq(mmvec_region_commit(r, 2 * page), 0);
	range_fill(r, 0, 2 * page, 0x3c);
	for (size_t i = 0; i < ARRAY_LENGTH(bad); i++) {
		ck_assert_int_eq(mmvec_region_commit(r, bad[i]), -ENOSPC);
		ck_assert_uint_eq(mmvec_region_committed(r), 2 * page);
		ck_assert_uint_eq(mmvec_region_reserved(r), reserved);
		ck_assert(range_is(r, 0, 2 * page, 0x3c));
		ck_assert_uint_eq(resident_pages((char *)mmvec_region_base(r) +
						 2 * page, 8 * page), 0);
	}
	/* the reservation itself still fits */
	ck_assert_int_eq(mmvec_region_commit(r, reserved), 0);
	ck_assert_uint_eq(mmvec_region_committed(r), reserved);
	mmvec_region_free(r);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Decommit */

START_TEST(decommit_pages)
{
	struct mmvec_region *r = region_new_ok(16 * page, MMVEC_NO_HUGEPAGES);
	char *base = mmvec_region_base(r);

	ck_assert_int_eq(mmvec_region_commit(r, 8 * page), 0);
	range_fill(r, 0, 8 * page, 0x77);

	/* keeps [0, bytes) rounded up to a page, bytes past it included */
	ck_assert_int_eq(mmvec_region_decommit(r, 2 * page + 1), 0);
	ck_assert_uint_eq(mmvec_region_committed(r), 3 * page);
	ck_assert(range_is(r, 0, 3 * page, 0x77));
	ck_assert_uint_eq(resident_pages(base + 3 * page, 5 * page), 0);
	ck_assert_ptr_eq(mmvec_region_base(r), base);

	/* at or above what is committed: nothing */
	ck_assert_int_eq(mmvec_region_decommit(r, 3 * page), 0);
	ck_assert_int_eq(mmvec_region_decommit(r, 12 * page), 0);
	ck_assert_int_eq(mmvec_region_decommit(r, SIZE_MAX), 0);
	ck_assert_uint_eq(mmvec_region_committed(r), 3 * page);
	ck_assert(range_is(r, 0, 3 * page, 0x77));

	/* committed again, the dropped pages read zero */
	ck_assert_int_eq(mmvec_region_commit(r, 8 * page), 0);
	ck_assert_uint_eq(mmvec_region_committed(r), 8 * page);
	ck_assert(range_is(r, 0, 3 * page, 0x77));
	ck_assert(range_zero(r, 3 * page, 8 * page));

	/* exactly on a page boundary */
	range_fill(r, 0, 8 * page, 0x11);
	ck_assert_int_eq(mmvec_region_decommit(r, 4 * page), 0);
	ck_assert_uint_eq(mmvec_region_committed(r), 4 * page);

	/* everything */
	ck_assert_int_eq(mmvec_region_decommit(r, 0), 0);
	ck_assert_uint_eq(mmvec_region_committed(r), 0);
	ck_assert_uint_eq(resident_pages(base, 16 * page), 0);
	ck_assert_int_eq(mmvec_region_decommit(r, 0), 0);
	ck_assert_int_eq(mmvec_region_commit(r, 16 * page), 0);
	ck_assert(range_zero(r, 0, 16 * page));
	ck_assert_ptr_eq(mmvec_region_base(r), base);
	mmvec_region_free(r);
}
END_TEST

START_TEST(decommit_huge)
{
	/* Decommit is by pages even where commit went by 2 MiB */
	const unsigned flags[] = { 0, MMVEC_HUGEPAGES };

	for (size_t f = 0; f < ARRAY_LENGTH(flags); f++) {
		struct mmvec_region *r = region_new_ok(8 * MIB, flags[f]);
		char *base = mmvec_region_base(r);
		size_t committed;

		ck_assert_int_eq(mmvec_region_commit(r, 6 * MIB), 0);
		committed = mmvec_region_committed(r);
		ck_assert_uint_ge(committed, 6 * MIB);
		range_fill(r, 0, committed, 0xee);
		ck_assert_int_eq(mmvec_region_decommit(r, 1 * MIB + 1), 0);
		ck_assert_uint_eq(mmvec_region_committed(r), 1 * MIB + page);
		ck_assert(range_is(r, 0, 1 * MIB + page, 0xee));
		ck_assert_uint_eq(resident_pages(base + 1 * MIB + page,
						 committed - 1 * MIB - page), 0);
		ck_assert_int_eq(mmvec_region_commit(r, 6 * MIB), 0);
		ck_assert_uint_ge(mmvec_region_committed(r), 6 * MIB);
		ck_assert(range_is(r, 0, 1 * MIB + page, 0xee));
		ck_assert(range_zero(r, 1 * MIB + page,
				     mmvec_region_committed(r)));
		mmvec_region_free(r);
	}
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Uncommitted memory faults (only added when Check forks) */

START_TEST(fault_uncommitted)
{
	struct mmvec_region *r = region_new_ok(4 * page, 0);
	volatile char *base = mmvec_region_base(r);

	base[0] = 1;
	/* not reached */
	mmvec_region_free(r);
}
END_TEST

START_TEST(fault_past_commit)
{
	struct mmvec_region *r = region_new_ok(4 * page, MMVEC_NO_HUGEPAGES);
	volatile char *base = mmvec_region_base(r);

	ck_assert_int_eq(mmvec_region_commit(r, 1), 0);
	base[page - 1] = 1;
	base[page] = 1;
	mmvec_region_free(r);
}
END_TEST

START_TEST(fault_decommitted)
{
	struct mmvec_region *r = region_new_ok(4 * page, MMVEC_NO_HUGEPAGES);
	volatile char *base = mmvec_region_base(r);

	ck_assert_int_eq(mmvec_region_commit(r, 3 * page), 0);
	base[2 * page] = 1;
	ck_assert_int_eq(mmvec_region_decommit(r, page), 0);
	base[page - 1] = 1;
	(void)base[2 * page];
	mmvec_region_free(r);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Flags and kernel state */

START_TEST(flags_valid)
{
	const unsigned flags[] = VALID_FLAG_SETS;

	for (size_t i = 0; i < ARRAY_LENGTH(flags); i++) {
		struct mmvec_region *r = region_new_ok(4 * MIB, flags[i]);
		char *base = mmvec_region_base(r);

		ck_assert_uint_eq(mmvec_region_reserved(r), 4 * MIB);
		ck_assert_int_eq(mmvec_region_commit(r, 3 * MIB), 0);
		memset(base, 0x21, 3 * MIB);
		ck_assert_int_eq(mmvec_region_decommit(r, 0), 0);
		mmvec_region_free(r);
	}
}
END_TEST

START_TEST(flags_invalid)
{
	const unsigned flags[] = {
		MMVEC_HUGEPAGES | MMVEC_NO_HUGEPAGES,
		MMVEC_HUGEPAGES | MMVEC_NO_HUGEPAGES | MMVEC_POPULATE,
		1u << 3, 1u << 4, 1u << 16, 1u << 31,
		MMVEC_POPULATE | (1u << 7),
		~0u,
	};

	for (size_t i = 0; i < ARRAY_LENGTH(flags); i++) {
		struct mmvec_region *r = BAD_PTR;

		ck_assert_int_eq(mmvec_region_new(4 * MIB, flags[i], &r),
				 -EINVAL);
		ck_assert_ptr_eq(r, BAD_PTR);
		ck_assert_int_eq(mmvec_region_new(0, flags[i], &r), -EINVAL);
		ck_assert_ptr_eq(r, BAD_PTR);
	}
}
END_TEST

#ifndef _WIN32
START_TEST(flags_advice)
{
	/* The huge-page advice holds for the whole region's life, also for
	 * pages committed again after a decommit, and a flag asks for it at
	 * any size: small ranges can hold multi-page folios too. */
	const struct {
		unsigned flags;
		const char *has, *lacks;
	} cases[] = {
		{ MMVEC_HUGEPAGES, "hg", "nh" },
		{ MMVEC_NO_HUGEPAGES, "nh", "hg" },
	};
	const size_t sizes[] = { 8 * MIB, 1 * MIB, 5 * page };

	for (size_t i = 0; i < ARRAY_LENGTH(cases) * ARRAY_LENGTH(sizes); i++) {
		unsigned flags = cases[i % 2].flags;
		const char *has = cases[i % 2].has, *lacks = cases[i % 2].lacks;
		size_t size = sizes[i / 2];
		struct mmvec_region *r = region_new_ok(size, flags);
		char *base = mmvec_region_base(r);
		char *last = base + size - page;

		ck_assert_int_eq(mmvec_region_commit(r, size / 2), 0);
		ck_assert_msg(vma_has_flag(base, has), "flags 0x%x, %zu bytes: "
			      "no advice '%s'", flags, size, has);
		ck_assert(!vma_has_flag(base, lacks));
		ck_assert(vma_has_flag(last, has));

		ck_assert_int_eq(mmvec_region_decommit(r, 0), 0);
		ck_assert_int_eq(mmvec_region_commit(r, size / 2), 0);
		ck_assert_msg(vma_has_flag(base, has),
			      "flags 0x%x: advice '%s' lost after decommit",
			      flags, has);
		ck_assert(vma_has_flag(last, has));
		mmvec_region_free(r);
	}
}
END_TEST
#endif

/* Every committed page of @r is resident */
static void assert_committed_resident(const struct mmvec_region *r)
{
	size_t committed = mmvec_region_committed(r);

	ck_assert_uint_eq(resident_pages(mmvec_region_base(r), committed),
			  committed / page);
}

START_TEST(flags_populate)
{
	struct mmvec_region *r;
	char *base;

	/* MMVEC_POPULATE: resident as soon as committed */
	r = region_new_ok(8 * MIB, MMVEC_POPULATE | MMVEC_NO_HUGEPAGES);
	base = mmvec_region_base(r);
	ck_assert_int_eq(mmvec_region_commit(r, 64 * page), 0);
	ck_assert_uint_eq(resident_pages(base, 64 * page), 64);
	ck_assert(range_zero(r, 0, 64 * page));
	ck_assert_int_eq(mmvec_region_commit(r, 3 * MIB + 1), 0);
	assert_committed_resident(r);
	mmvec_region_free(r);

	r = region_new_ok(8 * MIB, MMVEC_POPULATE);
	ck_assert_int_eq(mmvec_region_commit(r, 5 * MIB), 0);
	assert_committed_resident(r);
	mmvec_region_free(r);

	/* without it, committing faults nothing in */
	r = region_new_ok(8 * MIB, MMVEC_NO_HUGEPAGES);
	base = mmvec_region_base(r);
	ck_assert_int_eq(mmvec_region_commit(r, 64 * page), 0);
	ck_assert_uint_eq(resident_pages(base, 64 * page), 0);
	mmvec_region_free(r);
}
END_TEST

START_TEST(two_mappings)
{
	/* A committed prefix and the reserved rest: two VMAs at most, however
	 * the region grew and shrank. */
	const unsigned flags[] = {
		0, MMVEC_HUGEPAGES, MMVEC_NO_HUGEPAGES, MMVEC_POPULATE,
	};

	for (size_t f = 0; f < ARRAY_LENGTH(flags); f++) {
		struct mmvec_region *r = region_new_ok(16 * MIB, flags[f]);
		char *base = mmvec_region_base(r);
		size_t bytes = 1;

		for (int i = 0; i < 40; i++) {
			ck_assert_int_eq(mmvec_region_commit(r, bytes), 0);
			ck_assert_uint_le(vma_count(base, 16 * MIB), 2);
			if (i % 3 == 2) {
				ck_assert_int_eq(mmvec_region_decommit(r,
								       bytes / 3),
						 0);
				ck_assert_msg(vma_count(base, 16 * MIB) <= 2,
					      "flags 0x%x: %u mappings after decommit to %zu",
					      flags[f], vma_count(base, 16 * MIB),
					      bytes / 3);
			}
			bytes = bytes * 3 / 2 + page;
			if (bytes > 16 * MIB)
				bytes = 16 * MIB;
		}
		mmvec_region_free(r);
	}
}
END_TEST

/* ------------------------------------------------------------------------ */
/* NULL handles */

START_TEST(null_handles)
{
	mmvec_region_free(NULL);
	ck_assert_int_eq(mmvec_region_commit(NULL, 0), -EINVAL);
	ck_assert_int_eq(mmvec_region_commit(NULL, page), -EINVAL);
	ck_assert_int_eq(mmvec_region_decommit(NULL, 0), -EINVAL);
	ck_assert_int_eq(mmvec_region_decommit(NULL, page), -EINVAL);
	ck_assert_uint_eq(mmvec_region_reserved(NULL), 0);
	ck_assert_uint_eq(mmvec_region_committed(NULL), 0);
	ck_assert_null_errno(mmvec_region_base(NULL), EINVAL);
	ck_assert_int_eq(mmvec_region_new(page, 0, NULL), -EINVAL);
	ck_assert_int_eq(mmvec_region_new(0, 0, NULL), -EINVAL);
}
END_TEST

Suite *test_suite(int argc, char **argv)
{
	Suite *s = suite_create("region");
	TCase *tc;

	tc = test_case(s, "reserve", setup, NULL, 30);
	test_add(tc, 1, page_size, NULL);
	test_add_unless_qemu(tc, QEMU_NO_MINCORE, reserve_exact);
#ifdef _WIN32
	test_not_run("reserve_default", "sizes the default against "
		     "sysconf() and RLIMIT_AS and counts mappings in /proc "
		     "(test-win32 checks the Windows default)");
#else
	tcase_add_test(tc, reserve_default);
#endif
	test_add_posix(tc, "counts mappings in /proc (test-win32 checks "
		       "the release with VirtualQuery)", free_unmaps);
	test_add_if(tc, thp_size() != 0,
		    "the library uses no transparent huge pages here",
		    reserve_aligned);

	tc = test_case(s, "commit", setup, NULL, 30);
	test_add(tc, 1, commit_pages, commit_huge_steps,
		 commit_whole_reservation, NULL);
	test_add_unless_qemu(tc, QEMU_NO_MINCORE, commit_past_reservation);
	test_add_unless_qemu(tc, QEMU_NO_MINCORE, decommit_pages);
	test_add_unless_qemu(tc, QEMU_NO_MINCORE, decommit_huge);

	tc = test_case(s, "fault", setup, NULL, 30);
	test_add_signal(tc, SIGSEGV, fault_uncommitted, fault_past_commit,
			fault_decommitted, NULL);

	tc = test_case(s, "flags", setup, NULL, 30);
	test_add(tc, 1, flags_valid, flags_invalid, null_handles, NULL);
	test_add_unless_qemu(tc, QEMU_NO_MADVISE " (MADV_POPULATE_WRITE), "
			     "and " QEMU_NO_MINCORE, flags_populate);
	test_add_posix(tc, "counts mappings (VMAs) in /proc/self/maps",
		       two_mappings);
#ifdef _WIN32
	test_not_run("flags_advice", "Windows has no transparent huge "
		     "pages and no advice to read back from /proc/self/smaps");
#else
	if (MMVEC_PORTABLE)
		test_not_run(flags_advice->name,
			     "the portable OS layer gives no huge-page advice");
	else
		test_add_unless_qemu(tc, QEMU_NO_MADVISE, flags_advice);
#endif
	return s;
}
