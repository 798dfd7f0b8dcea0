/*
 * SPDX-License-Identifier: MIT
 */
#include "test-common.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#if HAVE_VALGRIND_MEMCHECK_H
#include <valgrind/memcheck.h>
#endif

/* ------------------------------------------------------------------------ */
/* Running */

int mmvec_test_run(Suite *s)
{
	SRunner *sr = srunner_create(s);
	int failed;

	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);

	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

bool mmvec_test_forking(void)
{
	/* Ask Check itself, so that CK_FORK is read exactly as the runner
	 * reads it. */
	SRunner *sr = srunner_create(NULL);
	enum fork_status status = srunner_fork_status(sr);

	srunner_free(sr);
	return status == CK_FORK;
}

bool mmvec_test_on_valgrind(void)
{
#if HAVE_VALGRIND_MEMCHECK_H
	return RUNNING_ON_VALGRIND != 0;
#else
	return false;
#endif
}

static bool env_set(const char *name)
{
	const char *env = getenv(name);

	return env && *env && strcmp(env, "0") != 0;
}

bool mmvec_test_on_qemu_user(void)
{
	return env_set("MMVEC_TEST_QEMU_USER");
}

bool mmvec_test_slow(void)
{
	if (env_set("MMVEC_TEST_SLOW"))
		return true;
	return mmvec_test_on_valgrind() || mmvec_test_on_qemu_user();
}

/* ------------------------------------------------------------------------ */
/* Page arithmetic */

size_t round_up(size_t x, size_t a)
{
	return (x + a - 1) / a * a;
}

size_t round_down(size_t x, size_t a)
{
	return x / a * a;
}

bool is_power_of_two(size_t x)
{
	return x != 0 && (x & (x - 1)) == 0;
}

size_t thp_size(void)
{
	FILE *f = fopen("/sys/kernel/mm/transparent_hugepage/hpage_pmd_size",
			"r");
	unsigned long long size = 0;

	if (!f)
		return 0;
	if (fscanf(f, "%llu", &size) != 1)
		size = 0;
	fclose(f);
	return (size_t)size;
}

/* ------------------------------------------------------------------------ */
/* Element patterns */

void pattern_fill(void *elem, size_t elem_size, unsigned tag, size_t i)
{
	unsigned char *p = elem;

	for (size_t b = 0; b < elem_size; b++)
		p[b] = pattern_byte(tag, i, b);
}

bool pattern_check(const void *elem, size_t elem_size, unsigned tag, size_t i)
{
	const unsigned char *p = elem;

	if (!p)
		return false;
	for (size_t b = 0; b < elem_size; b++)
		if (p[b] != pattern_byte(tag, i, b))
			return false;
	return true;
}

bool is_zero(const void *p, size_t n)
{
	const unsigned char *c = p;

	if (!c)
		return false;
	for (size_t i = 0; i < n; i++)
		if (c[i] != 0)
			return false;
	return true;
}

void push_pattern(struct mmvec *v, unsigned tag, size_t n)
{
	size_t es = mmvec_elem_size(v);
	unsigned char *buf = malloc(es);

	ck_assert_ptr_nonnull(buf);
	for (size_t k = 0; k < n; k++) {
		size_t len = mmvec_len(v);
		void *p;

		pattern_fill(buf, es, tag, k);
		p = mmvec_push(v, buf);
		fast_assert_ptr_eq(p, (char *)mmvec_data(v) + len * es);
		fast_assert_uint_eq(mmvec_len(v), len + 1);
	}
	free(buf);
}

/* ------------------------------------------------------------------------ */
/* Snapshots */

void vec_snapshot_take(struct vec_snapshot *s, const struct mmvec *v)
{
	s->len = mmvec_len(v);
	s->capacity = mmvec_capacity(v);
	s->max_len = mmvec_max_len(v);
	s->elem_size = mmvec_elem_size(v);
	s->data = mmvec_data(v);
	s->copy = NULL;
	if (s->len > 0) {
		s->copy = malloc(s->len * s->elem_size);
		ck_assert_ptr_nonnull(s->copy);
		memcpy(s->copy, s->data, s->len * s->elem_size);
	}
}

void vec_snapshot_release(struct vec_snapshot *s)
{
	free(s->copy);
	s->copy = NULL;
}

/* ------------------------------------------------------------------------ */
/* What the kernel has mapped */

size_t resident_pages(const void *addr, size_t len)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	uintptr_t start = round_down((uintptr_t)addr, page);
	uintptr_t end = round_up((uintptr_t)addr + len, page);
	size_t npages = (end - start) / page;
	unsigned char *vec;
	size_t resident = 0;
	int rc;

	if (npages == 0)
		return 0;
	vec = malloc(npages);
	ck_assert_ptr_nonnull(vec);
	rc = mincore((void *)start, end - start, vec);
	ck_assert_msg(rc == 0, "mincore failed: %s", strerror(errno));
	for (size_t i = 0; i < npages; i++)
		if (vec[i] & 1)
			resident++;
	free(vec);
	return resident;
}

long rss_kib(void)
{
	FILE *f = fopen("/proc/self/smaps_rollup", "r");
	char line[256];
	long rss = -1;

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "Rss: %ld kB", &rss) == 1)
			break;
	}
	fclose(f);
	return rss;
}

/* Parses the "start-end ..." head of a maps/smaps line; false for the other
 * lines of smaps. */
static bool parse_range(const char *line, uintptr_t *start, uintptr_t *end)
{
	uintmax_t s, e;
	char c;

	if (sscanf(line, "%jx-%jx %c", &s, &e, &c) != 3)
		return false;
	*start = (uintptr_t)s;
	*end = (uintptr_t)e;
	return true;
}

unsigned vma_count(const void *addr, size_t len)
{
	FILE *f = fopen("/proc/self/maps", "r");
	uintptr_t lo = (uintptr_t)addr, hi = (uintptr_t)addr + len;
	char line[1024];
	unsigned n = 0;

	ck_assert_ptr_nonnull(f);
	while (fgets(line, sizeof(line), f)) {
		uintptr_t s, e;

		if (parse_range(line, &s, &e) && s < hi && e > lo)
			n++;
	}
	fclose(f);
	return n;
}

bool vma_accessible(const void *addr)
{
	FILE *f = fopen("/proc/self/maps", "r");
	uintptr_t a = (uintptr_t)addr;
	char line[1024];
	bool accessible = false;

	ck_assert_ptr_nonnull(f);
	while (fgets(line, sizeof(line), f)) {
		uintmax_t s, e;
		char r, w;

		if (sscanf(line, "%jx-%jx %c%c", &s, &e, &r, &w) != 4)
			continue;
		if (s <= a && a < e) {
			accessible = r == 'r' || w == 'w';
			break;
		}
	}
	fclose(f);
	return accessible;
}

bool vma_has_flag(const void *addr, const char *flag)
{
	FILE *f = fopen("/proc/self/smaps", "r");
	uintptr_t a = (uintptr_t)addr;
	char line[1024];
	bool inside = false, found = false, has = false;

	ck_assert_ptr_nonnull(f);
	while (fgets(line, sizeof(line), f)) {
		uintptr_t s, e;

		if (parse_range(line, &s, &e)) {
			inside = s <= a && a < e;
			continue;
		}
		if (!inside || strncmp(line, "VmFlags:", 8) != 0)
			continue;
		found = true;
		for (char *tok = strtok(line + 8, " \n"); tok;
		     tok = strtok(NULL, " \n"))
			if (strcmp(tok, flag) == 0)
				has = true;
		break;
	}
	fclose(f);
	ck_assert_msg(found, "no VmFlags for the mapping at %p", addr);
	return has;
}

struct mmvec *vec_new_ok(size_t es, size_t max_len, unsigned flags)
{
	struct mmvec *v = NULL;

	ck_assert_int_eq(mmvec_new(es, max_len, flags, &v), 0);
	ck_assert_ptr_nonnull(v);
	ck_assert_uint_eq(mmvec_len(v), 0);
	ck_assert_uint_eq(mmvec_elem_size(v), es);
	ck_assert_ptr_nonnull(mmvec_data(v));
	return v;
}
