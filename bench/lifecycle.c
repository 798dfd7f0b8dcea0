/*
 * SPDX-License-Identifier: MIT
 *
 * The lifecycle workload's harness: create a vector, append k int64 one at
 * a time, free it, over and over, in one thread or several at once. Each
 * method hands the harness a function that runs its loops; the harness
 * starts the threads (job->nvec), lets each warm up, marks each thread's
 * timed loops for strace (so that only what the loops themselves call is
 * counted), and takes each thread's CPU time and the wall time.
 *
 * job->n is k, job->cycles the loops per thread.
 */
#define _GNU_SOURCE

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <time.h>

#include "bench.h"

/* Loops each thread runs before it is timed: the allocator's and the
 * library's caches filled, the code and data in cache. */
#define WARM_LOOPS 1000u

struct life;

struct life_thread {
	pthread_t t;
	struct life *l;
	double cpu_ns;  /* per timed loop */
	double start, end; /* wall clock of the timed loops, seconds */
	int64_t sum;    /* of every loop's last element */
	int rc;
};

struct life {
	struct bench_job *j;
	life_loops_fn fn;
	pthread_barrier_t warm;
	unsigned nthreads;
	struct life_thread *th;
};

static double thread_cpu_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static void *life_thread_main(void *arg)
{
	struct life_thread *t = arg;
	struct life *l = t->l;
	struct bench_job *j = l->j;
	double c0;

	t->rc = l->fn(WARM_LOOPS, j->n, &t->sum);
	pthread_barrier_wait(&l->warm);
	if (t->rc)
		return NULL;
	/* the clocks outside the marks: reading the thread's CPU time is a
	 * system call of the harness's */
	t->start = now();
	c0 = thread_cpu_ns();
	if (j->mark)
		j->mark("begin");
	t->rc = l->fn(j->cycles, j->n, &t->sum);
	if (j->mark)
		j->mark("end");
	t->cpu_ns = (thread_cpu_ns() - c0) / (double)j->cycles;
	t->end = now();
	return NULL;
}

int life_run(struct bench_job *j, life_loops_fn fn)
{
	struct life *l = xcalloc(1, sizeof(*l));
	double start = 0, end = 0;
	int rc = 0;

	j->keep = l;
	l->j = j;
	l->fn = fn;
	l->nthreads = j->nvec ? (unsigned)j->nvec : 1;
	l->th = xcalloc(l->nthreads, sizeof(*l->th));
	if (pthread_barrier_init(&l->warm, NULL, l->nthreads + 1) != 0)
		return fail_errno("pthread_barrier_init", EAGAIN);
	for (unsigned i = 0; i < l->nthreads; i++) {
		l->th[i].l = l;
		if (pthread_create(&l->th[i].t, NULL, life_thread_main,
				   &l->th[i]) != 0) {
			fprintf(stderr, "mmvec-bench: cannot start a thread\n");
			exit(2);
		}
	}
	pthread_barrier_wait(&l->warm);
	for (unsigned i = 0; i < l->nthreads; i++)
		pthread_join(l->th[i].t, NULL);
	pthread_barrier_destroy(&l->warm);
	/* the slowest thread's CPU time per loop; the wall time from the
	 * first thread's start to the last one's end, per loop */
	j->steady_ns = 0;
	for (unsigned i = 0; i < l->nthreads; i++) {
		const struct life_thread *t = &l->th[i];

		if (t->rc)
			rc = -1;
		if (t->cpu_ns > j->steady_ns)
			j->steady_ns = t->cpu_ns;
		if (!i || t->start < start)
			start = t->start;
		if (!i || t->end > end)
			end = t->end;
	}
	j->steady_wall_ns = (end - start) * 1e9 / (double)j->cycles;
	return rc;
}

/* Every loop of every thread ended with element k - 1 == k - 1. */
int life_check(struct bench_job *j)
{
	const struct life *l = j->keep;
	int64_t want = (int64_t)(WARM_LOOPS + j->cycles) * (int64_t)(j->n - 1);

	for (unsigned i = 0; i < l->nthreads; i++)
		if (l->th[i].rc || l->th[i].sum != want)
			return -1;
	return 0;
}

void life_free(struct bench_job *j)
{
	struct life *l = j->keep;

	if (!l)
		return;
	free(l->th);
	free(l);
}
