/*
 * SPDX-License-Identifier: MIT
 *
 * Statistics over the interleaved runs of a series: median, min and max of
 * every field, the worst operation slow in every run, paired ratios; and the
 * series measured so far, for the targets and the plot.
 */
#define _GNU_SOURCE

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"

static struct series *all_series;
static size_t nall_series;

void row_clear(struct row *r)
{
	for (int i = 0; i < F_COUNT; i++)
		r->f[i] = NAN;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static int cmp_event(const void *a, const void *b)
{
	const uint64_t *x = a, *y = b;

	return (x[0] > y[0]) - (x[0] < y[0]);
}

/* The worst operation that was slow in every run with latency data: for each
 * operation index slow in all of them, its smallest latency; the largest of
 * those. The 20 us recording threshold when none recurs. */
static double worst_in_all_runs(struct series *s, unsigned reps)
{
	double worst = 20000; /* ns: the recording threshold */
	unsigned first = reps;

	for (unsigned r = 0; r < reps; r++) {
		if (s->nev[r] == (size_t)-1)
			continue;
		qsort(s->ev[r], s->nev[r], sizeof(*s->ev[r]), cmp_event);
		if (first == reps)
			first = r;
	}
	if (first == reps)
		return NAN;
	for (size_t k = 0; k < s->nev[first]; k++) {
		uint64_t idx = s->ev[first][k][0], least = s->ev[first][k][1];
		bool everywhere = true;

		for (unsigned r = first + 1; r < reps && everywhere; r++) {
			uint64_t key[2] = { idx, 0 };
			const uint64_t *hit;

			if (s->nev[r] == (size_t)-1)
				continue;
			hit = bsearch(key, s->ev[r], s->nev[r], sizeof(*s->ev[r]),
				      cmp_event);
			if (!hit)
				everywhere = false;
			else if (hit[1] < least)
				least = hit[1];
		}
		if (everywhere && (double)least / tick_per_ns > worst)
			worst = (double)least / tick_per_ns;
	}
	return worst;
}

void summarise(struct series *s, unsigned reps)
{
	double *vals = xcalloc(reps, sizeof(*vals));

	for (int f = 0; f < F_COUNT; f++) {
		unsigned k = 0;

		for (unsigned r = 0; r < reps; r++)
			if (!isnan(s->runs[r].f[f]))
				vals[k++] = s->runs[r].f[f];
		if (!k) {
			s->med.f[f] = s->lo.f[f] = s->hi.f[f] = s->sys.f[f];
			continue;
		}
		qsort(vals, k, sizeof(*vals), cmp_double);
		s->lo.f[f] = vals[0];
		s->hi.f[f] = vals[k - 1];
		s->med.f[f] = k % 2 ? vals[k / 2] : (vals[k / 2 - 1] + vals[k / 2]) / 2;
	}
	free(vals);
	if (s->m->flags & M_LAT) {
		double w = worst_in_all_runs(s, reps);
		s->med.f[F_LAT_WORST_ALL_NS] = s->lo.f[F_LAT_WORST_ALL_NS] =
			s->hi.f[F_LAT_WORST_ALL_NS] = w;
	}
}

/* a / b per interleaved run: the min and max of the paired ratios. */
void paired_ratio(const struct series *a, const struct series *b, int f,
		  unsigned reps, double *lo, double *hi)
{
	*lo = INFINITY;
	*hi = -INFINITY;
	for (unsigned r = 0; r < reps; r++) {
		double q = a->runs[r].f[f] / b->runs[r].f[f];
		if (isnan(q))
			continue;
		if (q < *lo)
			*lo = q;
		if (q > *hi)
			*hi = q;
	}
}

void keep_series(const struct series *ss, size_t count)
{
	all_series = xrealloc(all_series, nall_series + count, sizeof(*ss));
	memcpy(all_series + nall_series, ss, count * sizeof(*ss));
	nall_series += count;
}

const struct series *find_series(enum workload w, const char *label, size_t n)
{
	for (size_t i = 0; i < nall_series; i++)
		if (all_series[i].w == w && all_series[i].n == n &&
		    strcmp(all_series[i].label, label) == 0)
			return &all_series[i];
	return NULL;
}
