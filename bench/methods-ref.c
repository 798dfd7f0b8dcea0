/*
 * SPDX-License-Identifier: MIT
 *
 * The C methods mmvec-bench measures libmmvec against: a realloc-doubling
 * vector written the usual way, fresh memory filled in place (the floor of
 * any append), and floor.c's minimal push through a shared library.
 */
#define _GNU_SOURCE

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "bench.h"

/* ---------------------------------------------------------------------------
 * The realloc-doubling C vector
 * ------------------------------------------------------------------------- */

__attribute__((noinline)) static int rvec_grow(struct cvec *v, size_t need)
{
	size_t cap = v->cap ? v->cap : 16;
	void *p;

	while (cap < need)
		cap *= 2;
	p = realloc(v->data, cap * sizeof(*v->data));
	if (!p)
		return -1;
	v->data = p;
	v->cap = cap;
	return 0;
}

static inline int rvec_push(struct cvec *v, int64_t x)
{
	if (v->len == v->cap && rvec_grow(v, v->len + 1))
		return -1;
	v->data[v->len++] = x;
	return 0;
}

static inline int rvec_append(struct cvec *v, const int64_t *src, size_t n)
{
	if (v->cap - v->len < n && rvec_grow(v, v->len + n))
		return -1;
	memcpy(v->data + v->len, src, n * sizeof(*src));
	v->len += n;
	return 0;
}

static struct cvec *new_rvec(struct bench_job *j)
{
	struct cvec *v = xcalloc(1, sizeof(*v));

	j->keep = v;
	return v;
}

static void set_result(struct bench_job *j, const struct cvec *v)
{
	j->data = v->data;
	j->len = v->len;
}

void free_cvec(struct bench_job *j)
{
	struct cvec *v = j->keep;

	if (v)
		free(v->data);
	free(v);
}

/* seq: N single appends */
int seq_realloc_push(struct bench_job *j)
{
	struct cvec *v = new_rvec(j);
	const int64_t n = (int64_t)j->n;

	if (j->lat) {
		for (int64_t i = 0; i < n; i++) {
			int rc;
			BENCH_TIMED(j->lat, rc = rvec_push(v, i));
			if (rc)
				return fail_errno("realloc", ENOMEM);
		}
	} else {
		for (int64_t i = 0; i < n; i++)
			if (rvec_push(v, i))
				return fail_errno("realloc", ENOMEM);
	}
	set_result(j, v);
	return 0;
}

/* chunk and random: appends of job->sizes[] elements */
int chunks_realloc_append(struct bench_job *j)
{
	struct cvec *v = new_rvec(j);
	int64_t next = 0;

	for (size_t c = 0; c < j->nsizes; c++) {
		size_t m = j->sizes[c];
		int rc;

		fill(j->stage, m, next);
		if (j->lat)
			BENCH_TIMED(j->lat, rc = rvec_append(v, j->stage, m));
		else
			rc = rvec_append(v, j->stage, m);
		if (rc)
			return fail_errno("realloc", ENOMEM);
		next += (int64_t)m;
	}
	set_result(j, v);
	return 0;
}

/* growshrink: grow to n, shrink to n/8 with realloc, j->cycles times */
int gs_realloc(struct bench_job *j)
{
	struct cvec *v = new_rvec(j);
	const size_t low = j->n / 8;

	for (unsigned c = 0; c < j->cycles; c++) {
		long before;
		void *p;

		for (int64_t i = (int64_t)v->len; i < (int64_t)j->n; i++)
			if (rvec_push(v, i))
				return fail_errno("realloc", ENOMEM);
		before = j->rss();
		v->len = low;
		p = realloc(v->data, low * sizeof(*v->data));
		if (!p)
			return fail_errno("realloc", ENOMEM);
		v->data = p;
		v->cap = low;
		bench_gs_shrunk(j, before, low);
	}
	set_result(j, v);
	return 0;
}

/* small: nvec vectors growing together, one append each in turn */
struct many {
	size_t n;
	struct cvec *r;
};

int small_realloc_push(struct bench_job *j)
{
	struct many *m = xcalloc(1, sizeof(*m));

	j->keep = m;
	m->r = xcalloc(j->nvec, sizeof(*m->r));
	m->n = j->nvec;
	for (size_t e = 0; e < j->per; e++) {
		for (size_t i = 0; i < j->nvec; i++) {
			int rc;

			if (j->lat)
				BENCH_TIMED(j->lat,
					    rc = rvec_push(&m->r[i], (int64_t)(e + i)));
			else
				rc = rvec_push(&m->r[i], (int64_t)(e + i));
			if (rc)
				return fail_errno("realloc", ENOMEM);
		}
	}
	return 0;
}

int small_realloc_check(struct bench_job *j)
{
	const struct many *m = j->keep;

	for (size_t i = 0; i < j->nvec; i++)
		if (!bench_small_ok(j, i, m->r[i].data, m->r[i].len))
			return -1;
	return 0;
}

void free_small_realloc(struct bench_job *j)
{
	struct many *m = j->keep;

	if (!m)
		return;
	for (size_t i = 0; i < m->n; i++)
		free(m->r[i].data);
	free(m->r);
	free(m);
}

/* steady: memory committed and resident, time the second fill */
int steady_realloc_push(struct bench_job *j)
{
	struct cvec *v = new_rvec(j);
	const int64_t n = (int64_t)j->n;
	struct bench_clock clk;

	if (rvec_grow(v, j->n))
		return fail_errno("realloc", ENOMEM);
	for (int64_t i = 0; i < n; i++)
		if (rvec_push(v, ~i))
			return fail_errno("realloc", ENOMEM);
	v->len = 0;
	bench_clock_start(&clk);
	for (int64_t i = 0; i < n; i++)
		if (rvec_push(v, i))
			return fail_errno("realloc", ENOMEM);
	bench_clock_stop(&clk, j->n, &j->steady_ns, &j->steady_wall_ns);
	set_result(j, v);
	return 0;
}

/* lifecycle: a vector made, k pushes, freed (lifecycle.c runs the loops) */
static int life_realloc_loops(size_t loops, size_t k, int64_t *sum)
{
	for (size_t l = 0; l < loops; l++) {
		struct cvec v = { NULL, 0, 0 };

		for (int64_t i = 0; i < (int64_t)k; i++)
			if (rvec_push(&v, i)) {
				free(v.data);
				return fail_errno("realloc", ENOMEM);
			}
		*sum += v.data[k - 1];
		free(v.data);
	}
	return 0;
}

int life_realloc(struct bench_job *j)
{
	return life_run(j, life_realloc_loops);
}

/* ---------------------------------------------------------------------------
 * Fresh memory filled in place, with and without huge pages
 * ------------------------------------------------------------------------- */

struct raw {
	void *map;
	size_t size;
};

static int raw_fill(struct bench_job *j, bool huge)
{
	struct raw *r = xcalloc(1, sizeof(*r));
	size_t bytes = j->n * sizeof(int64_t);
	uintptr_t a;

	j->keep = r;
	/* both variants 2 MiB aligned, so only the advice differs */
	r->size = bytes + HUGE_ALIGN;
	r->map = mmap(NULL, r->size, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (r->map == MAP_FAILED) {
		r->map = NULL;
		return fail_errno("mmap", errno);
	}
	a = ((uintptr_t)r->map + HUGE_ALIGN - 1) & ~(uintptr_t)(HUGE_ALIGN - 1);
	if (huge)
		madvise((void *)a, bytes, MADV_HUGEPAGE);
	fill((int64_t *)a, j->n, 0);
	j->data = (const int64_t *)a;
	j->len = j->n;
	return 0;
}

int seq_raw_fill(struct bench_job *j)
{
	return raw_fill(j, false);
}

int seq_raw_huge_fill(struct bench_job *j)
{
	return raw_fill(j, true);
}

void free_raw(struct bench_job *j)
{
	struct raw *r = j->keep;

	if (r && r->map)
		munmap(r->map, r->size);
	free(r);
}

/* ---------------------------------------------------------------------------
 * steady through floor.c's push, in a shared library of its own
 * ------------------------------------------------------------------------- */

int steady_floor_push(struct bench_job *j)
{
	struct cvec *v = new_rvec(j);
	const int64_t n = (int64_t)j->n;
	struct bench_clock clk;

	v->data = malloc(j->n * sizeof(*v->data));
	if (!v->data)
		return fail_errno("malloc", ENOMEM);
	v->cap = j->n;
	for (int64_t i = 0; i < n; i++) {
		int64_t x = ~i;
		if (!bench_floor_push(v, &x))
			return fail_errno("bench_floor_push", ENOSPC);
	}
	v->len = 0;
	bench_clock_start(&clk);
	for (int64_t i = 0; i < n; i++) {
		int64_t x = i;
		if (!bench_floor_push(v, &x))
			return fail_errno("bench_floor_push", ENOSPC);
	}
	bench_clock_stop(&clk, j->n, &j->steady_ns, &j->steady_wall_ns);
	set_result(j, v);
	return 0;
}
