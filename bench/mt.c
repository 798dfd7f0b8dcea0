/*
 * SPDX-License-Identifier: MIT
 *
 * The mt workload: P producer threads (1, 2, 4, 8, 16) append N int64 in
 * total to one vector, N / P each, with
 *   mmvec_mp_push      libmmvec's multi-producer push, one element a call;
 *   mmvec_mp_claim64   mmvec_mp_claim() of 64, filled, mmvec_mp_publish();
 *   mutex_realloc      a realloc-doubling vector behind a pthread mutex;
 *   mutex_mmvec_push   the single-writer mmvec_push() behind a mutex.
 * Threads need one process, so this workload runs in the driver's process,
 * not in workers: wall time from a barrier to the last thread's end. Runs
 * are interleaved as the other workloads' are (repetition r runs every
 * method at every producer count, in an order rotated by r), after one
 * warm-up run of each; the table gives minima and medians, then the ratios
 * that the multi-producer targets name.
 */
#define _GNU_SOURCE

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <mmvec.h>

#include "bench.h"

enum { MT_MP_PUSH, MT_MP_CLAIM64, MT_MUTEX_REALLOC, MT_MUTEX_MMVEC, MT_N };

static const char *const mt_names[MT_N] = {
	"mmvec_mp_push", "mmvec_mp_claim64", "mutex_realloc", "mutex_mmvec_push",
};

static const unsigned mt_producers[] = { 1, 2, 4, 8, 16 };
#define MT_NP (sizeof(mt_producers) / sizeof(mt_producers[0]))

struct cvec_mt {
	pthread_mutex_t lock;
	int64_t *data;
	size_t len, cap;
};

struct mt_run {
	int method;
	size_t per;
	struct mmvec *v;
	struct cvec_mt c;
	pthread_mutex_t lock; /* mutex_mmvec_push's */
	pthread_barrier_t start;
	bool failed;
};

struct mt_thread {
	struct mt_run *r;
	int64_t id;
	pthread_t t;
};

static double mono_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static bool cvec_push(struct cvec_mt *c, int64_t x)
{
	pthread_mutex_lock(&c->lock);
	if (c->len == c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 16;
		int64_t *d = realloc(c->data, cap * sizeof(*d));

		if (!d) {
			pthread_mutex_unlock(&c->lock);
			return false;
		}
		c->data = d;
		c->cap = cap;
	}
	c->data[c->len++] = x;
	pthread_mutex_unlock(&c->lock);
	return true;
}

static void *mt_produce(void *arg)
{
	struct mt_thread *t = arg;
	struct mt_run *r = t->r;
	int64_t x = t->id << 40;
	size_t i = 0;
	bool ok = true;

	pthread_barrier_wait(&r->start);
	switch (r->method) {
	case MT_MP_PUSH:
		for (; ok && i < r->per; i++, x++)
			ok = mmvec_mp_push(r->v, &x) != NULL;
		break;
	case MT_MP_CLAIM64:
		while (ok && i < r->per) {
			size_t n = r->per - i < 64 ? r->per - i : 64;
			int64_t *p = mmvec_mp_claim(r->v, n);

			ok = p != NULL;
			for (size_t k = 0; ok && k < n; k++)
				p[k] = x++;
			ok = ok && mmvec_mp_publish(r->v, p, n) == 0;
			i += n;
		}
		break;
	case MT_MUTEX_REALLOC:
		for (; ok && i < r->per; i++, x++)
			ok = cvec_push(&r->c, x);
		break;
	case MT_MUTEX_MMVEC:
		for (; ok && i < r->per; i++, x++) {
			pthread_mutex_lock(&r->lock);
			ok = mmvec_push(r->v, &x) != NULL;
			pthread_mutex_unlock(&r->lock);
		}
		break;
	}
	if (!ok)
		__atomic_store_n(&r->failed, true, __ATOMIC_RELAXED);
	return NULL;
}

/* One run: its wall time in seconds, or a negative number on failure. */
static double mt_once(int method, unsigned producers, size_t n)
{
	struct mt_run r;
	struct mt_thread t[16];
	double t0, wall;
	size_t len;

	memset(&r, 0, sizeof(r));
	r.method = method;
	r.per = n / producers;
	pthread_mutex_init(&r.lock, NULL);
	pthread_mutex_init(&r.c.lock, NULL);
	if (method != MT_MUTEX_REALLOC && mmvec_new(sizeof(int64_t), 0, 0, &r.v))
		return -1;
	pthread_barrier_init(&r.start, NULL, producers + 1);
	for (unsigned i = 0; i < producers; i++) {
		t[i].r = &r;
		t[i].id = i;
		pthread_create(&t[i].t, NULL, mt_produce, &t[i]);
	}
	t0 = mono_s();
	pthread_barrier_wait(&r.start);
	for (unsigned i = 0; i < producers; i++)
		pthread_join(t[i].t, NULL);
	wall = mono_s() - t0;
	len = method == MT_MUTEX_REALLOC ? r.c.len : mmvec_len(r.v);
	if (r.failed || len != r.per * producers)
		wall = -1;
	mmvec_free(r.v);
	free(r.c.data);
	pthread_barrier_destroy(&r.start);
	pthread_mutex_destroy(&r.lock);
	pthread_mutex_destroy(&r.c.lock);
	return wall;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

struct mt_cell {
	double *runs; /* reps of them, sorted once all are in */
	double min, med, max;
};

static void print_ratio(const char *what, double lo, double med,
			const char *target)
{
	printf("  %-52s %6.2f  (medians %5.2f)  target %s\n", what, lo, med,
	       target);
}

void mt_run(const struct opts *o, size_t n)
{
	struct mt_cell cell[MT_N][MT_NP];
	unsigned reps = o->reps;

	printf("\n== mt: %s, N = %zu, %u interleaved runs\n",
	       workload_titles[W_MT], n, reps);
	/* warm-up: the allocator, the reservation cache, the CPUs */
	for (int m = 0; m < MT_N; m++)
		mt_once(m, 2, n / 4);
	for (int m = 0; m < MT_N; m++)
		for (size_t p = 0; p < MT_NP; p++) {
			cell[m][p].runs = calloc(reps, sizeof(double));
			if (!cell[m][p].runs) {
				workers_failed++;
				return;
			}
		}
	for (unsigned r = 0; r < reps; r++)
		for (size_t k = 0; k < MT_N * MT_NP; k++) {
			size_t j = (k + r * 7) % (MT_N * MT_NP);
			int m = (int)(j % MT_N);
			size_t p = j / MT_N;
			double s = mt_once(m, mt_producers[p], n);

			if (s < 0) {
				printf("mt: %s with %u producers failed\n",
				       mt_names[m], mt_producers[p]);
				workers_failed++;
			}
			cell[m][p].runs[r] = s;
		}

	printf("%-18s", "wall ms [min med]");
	for (size_t p = 0; p < MT_NP; p++)
		printf(" %9uP       ", mt_producers[p]);
	printf("\n");
	for (int m = 0; m < MT_N; m++) {
		printf("%-18s", mt_names[m]);
		for (size_t p = 0; p < MT_NP; p++) {
			struct mt_cell *c = &cell[m][p];

			qsort(c->runs, reps, sizeof(double), cmp_double);
			c->min = c->runs[0];
			c->max = c->runs[reps - 1];
			c->med = reps % 2 ? c->runs[reps / 2]
					  : (c->runs[reps / 2 - 1] +
					     c->runs[reps / 2]) / 2;
			printf(" %7.1f %7.1f ", c->min * 1e3, c->med * 1e3);
		}
		printf("\n");
	}

	printf("\nmt ratios (minima of %u runs):\n", reps);
	{
		struct mt_cell *one = &cell[MT_MP_PUSH][0];
		struct mt_cell *two = &cell[MT_MP_PUSH][1];
		struct mt_cell *eight = &cell[MT_MP_PUSH][3];
		char what[96];

		print_ratio("mp_push 2 producers / 1 producer", two->min / one->min,
			    two->med / one->med, "<= 1.5");
		print_ratio("mp_push 8 producers / 1 producer", eight->min / one->min,
			    eight->med / one->med, "<= 3");
		print_ratio("mp_push 8 producers, slowest run / 1 producer min",
			    eight->max / one->min, eight->max / one->med,
			    "<= 5");
		for (size_t p = 0; p < MT_NP; p++) {
			struct mt_cell *b = &cell[MT_MP_CLAIM64][p];
			struct mt_cell *s = &cell[MT_MP_PUSH][p];
			struct mt_cell *mr = &cell[MT_MUTEX_REALLOC][p];
			struct mt_cell *mm = &cell[MT_MUTEX_MMVEC][p];

			snprintf(what, sizeof(what),
				 "%2u producers: claim64 / mp_push per element",
				 mt_producers[p]);
			print_ratio(what, b->min / s->min, b->med / s->med,
				    "<= 0.2");
			snprintf(what, sizeof(what),
				 "%2u producers: mp_push / mutex_realloc",
				 mt_producers[p]);
			print_ratio(what, s->min / mr->min, s->med / mr->med,
				    "<= 0.5");
			snprintf(what, sizeof(what),
				 "%2u producers: mp_push / mutex_mmvec_push",
				 mt_producers[p]);
			print_ratio(what, s->min / mm->min, s->med / mm->med,
				    "-");
		}
	}
	for (int m = 0; m < MT_N; m++)
		for (size_t p = 0; p < MT_NP; p++)
			free(cell[m][p].runs);
	fflush(stdout);
}
