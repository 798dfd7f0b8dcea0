/*
 * SPDX-License-Identifier: MIT
 *
 * The libmmvec methods of mmvec-bench, one per workload and way of
 * appending, each written the way a user of the library would write it.
 */
#define _GNU_SOURCE

#include <errno.h>
#include <stdlib.h>

#include <mmvec.h>

#include "bench.h"

/* ---------------------------------------------------------------------------
 * One vector per job
 * ------------------------------------------------------------------------- */

static int new_vec(struct bench_job *j, struct mmvec **out, unsigned flags)
{
	int rc = mmvec_new(sizeof(int64_t), 0, flags, out);

	if (rc)
		return fail_errno("mmvec_new", -rc);
	j->keep = *out;
	return 0;
}

static void set_result(struct bench_job *j, const struct mmvec *v)
{
	j->data = mmvec_data(v);
	j->len = mmvec_len(v);
}

void free_mmvec(struct bench_job *j)
{
	mmvec_free(j->keep);
}

/* ---------------------------------------------------------------------------
 * seq: N single appends
 * ------------------------------------------------------------------------- */

static int seq_push(struct bench_job *j, unsigned flags)
{
	struct mmvec *v;
	const int64_t n = (int64_t)j->n;

	if (new_vec(j, &v, flags))
		return -1;
	/* x, not &i: the loop counter stays in a register, as in a caller
	 * that pushes values it computes */
	if (j->lat) {
		for (int64_t i = 0; i < n; i++) {
			int64_t x = i;
			void *p;
			BENCH_TIMED(j->lat, p = mmvec_push(v, &x));
			if (!p)
				return fail_errno("mmvec_push", errno);
		}
	} else {
		for (int64_t i = 0; i < n; i++) {
			int64_t x = i;
			if (!mmvec_push(v, &x))
				return fail_errno("mmvec_push", errno);
		}
	}
	set_result(j, v);
	return 0;
}

int seq_mmvec_push(struct bench_job *j)
{
	return seq_push(j, 0);
}

int seq_mmvec_push_nohuge(struct bench_job *j)
{
	return seq_push(j, MMVEC_NO_HUGEPAGES);
}

int seq_mmvec_push_huge(struct bench_job *j)
{
	return seq_push(j, MMVEC_HUGEPAGES);
}

int seq_mmvec_push_populate(struct bench_job *j)
{
	return seq_push(j, MMVEC_POPULATE);
}

/* One extend of N, filled in place. */
int seq_mmvec_extend(struct bench_job *j)
{
	struct mmvec *v;
	int64_t *p;

	if (new_vec(j, &v, 0))
		return -1;
	p = mmvec_extend(v, j->n);
	if (!p)
		return fail_errno("mmvec_extend", errno);
	fill(p, j->n, 0);
	set_result(j, v);
	return 0;
}

/* ---------------------------------------------------------------------------
 * chunk and random: appends of job->sizes[] elements
 * ------------------------------------------------------------------------- */

int chunks_mmvec_extend(struct bench_job *j)
{
	struct mmvec *v;
	int64_t next = 0;

	if (new_vec(j, &v, 0))
		return -1;
	for (size_t c = 0; c < j->nsizes; c++) {
		size_t m = j->sizes[c];
		int64_t *p;

		if (j->lat) {
			BENCH_TIMED(j->lat, p = mmvec_extend(v, m);
				    if (p) fill(p, m, next));
		} else {
			p = mmvec_extend(v, m);
			if (p)
				fill(p, m, next);
		}
		if (!p)
			return fail_errno("mmvec_extend", errno);
		next += (int64_t)m;
	}
	set_result(j, v);
	return 0;
}

int chunks_mmvec_append(struct bench_job *j)
{
	struct mmvec *v;
	int64_t next = 0;

	if (new_vec(j, &v, 0))
		return -1;
	for (size_t c = 0; c < j->nsizes; c++) {
		size_t m = j->sizes[c];
		int rc;

		fill(j->stage, m, next);
		if (j->lat)
			BENCH_TIMED(j->lat, rc = mmvec_append(v, j->stage, m));
		else
			rc = mmvec_append(v, j->stage, m);
		if (rc)
			return fail_errno("mmvec_append", -rc);
		next += (int64_t)m;
	}
	set_result(j, v);
	return 0;
}

/* ---------------------------------------------------------------------------
 * growshrink: grow to n, shrink to n/8, j->cycles times
 * ------------------------------------------------------------------------- */

int gs_mmvec(struct bench_job *j)
{
	struct mmvec *v;
	const size_t low = j->n / 8;

	if (new_vec(j, &v, 0))
		return -1;
	for (unsigned c = 0; c < j->cycles; c++) {
		long before;
		int rc;

		for (int64_t i = (int64_t)mmvec_len(v); i < (int64_t)j->n; i++) {
			int64_t x = i;
			if (!mmvec_push(v, &x))
				return fail_errno("mmvec_push", errno);
		}
		before = j->rss();
		rc = mmvec_resize(v, low);
		if (!rc)
			rc = mmvec_shrink_to_fit(v);
		if (rc)
			return fail_errno("mmvec_shrink_to_fit", -rc);
		bench_gs_shrunk(j, before, low);
	}
	set_result(j, v);
	return 0;
}

/* ---------------------------------------------------------------------------
 * small: many small vectors, growing together
 * ------------------------------------------------------------------------- */

struct many {
	size_t n;
	struct mmvec **v;
};

static int small_push(struct bench_job *j, size_t max_len)
{
	struct many *m = xcalloc(1, sizeof(*m));

	j->keep = m;
	m->v = xcalloc(j->nvec, sizeof(*m->v));
	for (size_t i = 0; i < j->nvec; i++) {
		int rc = mmvec_new(sizeof(int64_t), max_len, 0, &m->v[i]);
		if (rc) {
			fprintf(stderr, "mmvec-bench: vector %zu of %zu: ", i + 1, j->nvec);
			return fail_errno("mmvec_new", -rc);
		}
		m->n = i + 1;
	}
	for (size_t e = 0; e < j->per; e++) {
		for (size_t i = 0; i < j->nvec; i++) {
			int64_t x = (int64_t)(e + i);
			void *p;

			if (j->lat)
				BENCH_TIMED(j->lat, p = mmvec_push(m->v[i], &x));
			else
				p = mmvec_push(m->v[i], &x);
			if (!p)
				return fail_errno("mmvec_push", errno);
		}
	}
	return 0;
}

/* The default reservation, as users get it. */
int small_mmvec_push(struct bench_job *j)
{
	return small_push(j, 0);
}

/* An explicit max_len of exactly the elements each vector gets. */
int small_mmvec_push_maxlen(struct bench_job *j)
{
	return small_push(j, j->per);
}

int small_mmvec_check(struct bench_job *j)
{
	const struct many *m = j->keep;

	for (size_t i = 0; i < j->nvec; i++)
		if (!bench_small_ok(j, i, mmvec_data(m->v[i]), mmvec_len(m->v[i])))
			return -1;
	return 0;
}

void free_small_mmvec(struct bench_job *j)
{
	struct many *m = j->keep;

	if (!m)
		return;
	for (size_t i = 0; i < m->n; i++)
		mmvec_free(m->v[i]);
	free(m->v);
	free(m);
}

/* ---------------------------------------------------------------------------
 * steady: memory committed and resident, time the second fill
 * ------------------------------------------------------------------------- */

int steady_mmvec_push(struct bench_job *j)
{
	struct mmvec *v;
	const int64_t n = (int64_t)j->n;
	struct bench_clock clk;
	int rc;

	if (new_vec(j, &v, 0))
		return -1;
	rc = mmvec_reserve(v, j->n);
	if (rc)
		return fail_errno("mmvec_reserve", -rc);
	for (int64_t i = 0; i < n; i++) {
		int64_t x = ~i;
		if (!mmvec_push(v, &x))
			return fail_errno("mmvec_push", errno);
	}
	mmvec_clear(v);
	bench_clock_start(&clk);
	for (int64_t i = 0; i < n; i++) {
		int64_t x = i;
		if (!mmvec_push(v, &x))
			return fail_errno("mmvec_push", errno);
	}
	bench_clock_stop(&clk, j->n, &j->steady_ns, &j->steady_wall_ns);
	set_result(j, v);
	return 0;
}
