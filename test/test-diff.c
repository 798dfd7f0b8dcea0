/*
 * SPDX-License-Identifier: MIT
 *
 * Differential random testing: random operation sequences on the library
 * and on a reference model (vecmodel.c), over many seeds, element sizes 1 to
 * 64 (and a few odd larger ones), small max_len so that -ENOSPC is hit, and
 * every flag. A failure names its seed: rerun it alone with
 * MMVEC_TEST_SEED=<seed>. MMVEC_TEST_SEEDS=<n> runs more (see helpers.h).
 */
#include "runner.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include "vecmodel.h"

/* Growth per vector stays below this (elements * elem_size). */
#define LIMIT_BYTES ((size_t)1 << 19)

static unsigned long run_seed(uint64_t seed, unsigned long steps)
{
	struct vm h;

	if (vm_run(&h, seed, LIMIT_BYTES, NULL, 0, steps) != 0)
		ck_abort_msg("seed %" PRIu64 ": %s (rerun with MMVEC_TEST_SEED=%"
			     PRIu64 ")", seed, h.msg, seed);
	vm_close(&h);
	return steps;
}

START_TEST(differential_random)
{
	struct test_seeds seeds;
	unsigned long steps = test_on_valgrind() ? 150 : 400;
	unsigned long total = 0;
	uint64_t seed;

	seeds_init(&seeds, 3000, 8);
	while (seeds_next(&seeds, &seed))
		total += run_seed(seed, steps);
	printf("differential: %" PRIu64 " seeds from %" PRIu64
	       ", %lu operations, %.1f s\n", seeds.done, seeds.first, total,
	       now_seconds() - seeds.start);
	if (getenv("MMVEC_TEST_VERBOSE"))
		vm_print_stats(stdout);
	ck_assert_uint_gt(seeds.done, 0);
}
END_TEST

/* Long sequences on one vector reach the states short ones do not (a vector
 * filled to max_len, shrunk and refilled many times). */
START_TEST(differential_long)
{
	struct test_seeds seeds;
	unsigned long steps = test_on_valgrind() ? 1500 : 20000;
	uint64_t seed;

	seeds_init(&seeds, 20, 4);
	while (seeds_next(&seeds, &seed))
		run_seed(seed ^ UINT64_C(0x4c4f4e47), steps);
}
END_TEST

Suite *test_suite(int argc, char **argv)
{
	Suite *s = suite_create("differential");
	/* the time budgets bound the run; Check's default is 4 s */
	TCase *tc = test_case(s, "random", NULL, NULL, 600);

	test_add(tc, 1, differential_random, differential_long, NULL);
	return s;
}
