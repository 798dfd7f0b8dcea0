/*
 * SPDX-License-Identifier: MIT
 *
 * mt-floor: what one-element appends from T threads to one array cost at
 * the least, next to mmvec_mp_push().
 *
 *   index     every element takes its index with one atomic fetch-and-add
 *             on a shared counter, and nothing else (no store)
 *   store     the same, then the element is stored at its index: threads
 *             write neighbouring elements, so the array's lines move
 *             between the CPUs as well
 *   counted   the same, then a second fetch-and-add on a count of
 *             finished elements, on a line of its own: the least a
 *             last-finisher design (DPDK rte_ring's RTS mode) does; it
 *             does not move a length, so readers see nothing
 *   in-order  store, then the element is published in order: the
 *             thread waits until the length equals its index (pause for
 *             16 reads, then sched_yield() at every read, so that
 *             oversubscribed threads finish) and stores index + 1
 *   mp_push   mmvec_mp_push() on a vector of int64
 *
 * The first four are lower bounds for any design in which each element
 * gets its own place in one global order (every multi-producer append
 * does): they publish nothing to readers (index, store, counted) or publish with
 * no bound on the wait (in-order). N elements in total, split evenly
 * between the threads.
 *
 *   mt-floor [-n N] [-r RUNS] [-t LIST]
 *
 * N defaults to 1e7, RUNS to 5, LIST (thread counts) to 1,2,8. Each
 * method and count runs once to warm up, then RUNS times, the methods
 * interleaved and each round starting with the next; the minimum and
 * median wall time of each are printed, and each minimum over the
 * one-thread mp_push minimum. The default takes minutes: in-order
 * publication with more threads than CPUs waits for the scheduler at
 * almost every element (doc/design.md, "The floor").
 */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

#include "mmvec.h"

#define MAX_RUNS 64
#define MAX_COUNTS 8
#define MAX_THREADS 64

enum method { INDEX, STORE, COUNTED, IN_ORDER, MP_PUSH, METHODS };

static const char *const method_name[METHODS] = {
	"index", "store", "counted", "in-order", "mp_push",
};

static struct {
	_Alignas(64) size_t next;
	_Alignas(64) size_t len;
	_Alignas(64) size_t done;
	_Alignas(64) int64_t *array;
	struct mmvec *vec;
	size_t per_thread;
	enum method method;
} shared;

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec * 1e-6;
}

__attribute__((noreturn)) static void fail(const char *what, int err)
{
	fprintf(stderr, "mt-floor: %s: %s\n", what, strerror(err));
	exit(EXIT_FAILURE);
}

static inline void cpu_pause(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#elif defined(__aarch64__)
	__asm__ __volatile__("yield");
#endif
}

static void *producer(void *arg)
{
	size_t k;

	(void)arg;
	for (k = 0; k < shared.per_thread; k++) {
		size_t i;
		unsigned reads = 0;
		int64_t x;

		if (shared.method == MP_PUSH) {
			x = (int64_t)k;
			if (!mmvec_mp_push(shared.vec, &x))
				fail("mmvec_mp_push", errno);
			continue;
		}
		i = __atomic_fetch_add(&shared.next, 1, __ATOMIC_RELAXED);
		if (shared.method == INDEX)
			continue;
		shared.array[i] = (int64_t)i;
		if (shared.method == STORE)
			continue;
		if (shared.method == COUNTED) {
			__atomic_fetch_add(&shared.done, 1, __ATOMIC_RELEASE);
			continue;
		}
		while (__atomic_load_n(&shared.len, __ATOMIC_ACQUIRE) != i) {
			if (++reads >= 16)
				sched_yield();
			else
				cpu_pause();
		}
		__atomic_store_n(&shared.len, i + 1, __ATOMIC_RELEASE);
	}
	return NULL;
}

/* One run: n elements from threads threads; the wall time in ms. */
static double run(enum method method, size_t n, unsigned threads)
{
	pthread_t tid[MAX_THREADS];
	double t0, t1;
	unsigned i;
	int rc;

	shared.method = method;
	shared.next = 0;
	shared.len = 0;
	shared.done = 0;
	shared.per_thread = n / threads;
	if (method == MP_PUSH) {
		rc = mmvec_new(sizeof(int64_t), 0, 0, &shared.vec);
		if (rc)
			fail("mmvec_new", -rc);
	} else {
		/* touched before the clock starts: the floor pays no faults */
		memset(shared.array, 0, n * sizeof(int64_t));
	}
	t0 = now_ms();
	for (i = 0; i < threads; i++) {
		rc = pthread_create(&tid[i], NULL, producer, NULL);
		if (rc)
			fail("pthread_create", rc);
	}
	for (i = 0; i < threads; i++)
		pthread_join(tid[i], NULL);
	t1 = now_ms();
	if (method == MP_PUSH) {
		if (mmvec_len(shared.vec) != shared.per_thread * threads)
			fail("mmvec_len", EPROTO);
		mmvec_free(shared.vec);
	} else if ((method == IN_ORDER &&
		    shared.len != shared.per_thread * threads) ||
		   (method == COUNTED &&
		    shared.done != shared.per_thread * threads)) {
		fail(method_name[method], EPROTO);
	}
	return t1 - t0;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static double parse_count(const char *s)
{
	char *end;
	double d;

	errno = 0;
	d = strtod(s, &end);
	if (errno || end == s || *end || d < 1 || d > 1e12)
		fail(s, EINVAL);
	return d;
}

static void usage(void)
{
	fprintf(stderr, "usage: mt-floor [-n N] [-r RUNS] [-t LIST]\n");
	exit(EXIT_FAILURE);
}

int main(int argc, char **argv)
{
	static double ms[MAX_COUNTS][METHODS][MAX_RUNS];
	unsigned count[MAX_COUNTS] = { 1, 2, 8 };
	unsigned counts = 3, runs = 5, c, r, m, i;
	size_t n = 10000000;
	double base = 0;

	for (i = 1; i < (unsigned)argc; i++) {
		if (i + 1 == (unsigned)argc)
			usage();
		if (!strcmp(argv[i], "-n")) {
			n = (size_t)parse_count(argv[++i]);
		} else if (!strcmp(argv[i], "-r")) {
			runs = (unsigned)parse_count(argv[++i]);
			if (runs > MAX_RUNS)
				fail("-r", ERANGE);
		} else if (!strcmp(argv[i], "-t")) {
			char *list = argv[++i], *tok, *save = NULL;

			counts = 0;
			for (tok = strtok_r(list, ",", &save); tok;
			     tok = strtok_r(NULL, ",", &save)) {
				if (counts == MAX_COUNTS)
					fail("-t", ERANGE);
				count[counts] = (unsigned)parse_count(tok);
				if (count[counts] > MAX_THREADS)
					fail("-t", ERANGE);
				counts++;
			}
			if (!counts)
				usage();
		} else {
			usage();
		}
	}

	shared.array = mmap(NULL, n * sizeof(int64_t), PROT_READ | PROT_WRITE,
			    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (shared.array == MAP_FAILED)
		fail("mmap", errno);

	printf("mt-floor: %zu int64 in total, %u interleaved runs after a "
	       "warm-up, wall ms [min med]\n", n, runs);
	for (c = 0; c < counts; c++) {
		for (m = 0; m < METHODS; m++)
			run((enum method)m, n, count[c]);
		for (r = 0; r < runs; r++)
			for (m = 0; m < METHODS; m++) {
				unsigned k = (r + m) % METHODS;

				ms[c][k][r] = run((enum method)k, n, count[c]);
			}
		for (m = 0; m < METHODS; m++)
			qsort(ms[c][m], runs, sizeof(double), cmp_double);
		if (count[c] == 1)
			base = ms[c][MP_PUSH][0];
	}

	printf("%-10s", "threads");
	for (m = 0; m < METHODS; m++)
		printf("  %17s", method_name[m]);
	printf("\n");
	for (c = 0; c < counts; c++) {
		printf("%-10u", count[c]);
		for (m = 0; m < METHODS; m++)
			printf("  %8.1f %8.1f", ms[c][m][0],
			       ms[c][m][runs / 2]);
		printf("\n");
	}
	if (base > 0) {
		printf("\nminimum / 1-thread mp_push minimum (%.1f ms):\n", base);
		for (c = 0; c < counts; c++) {
			printf("%-10u", count[c]);
			for (m = 0; m < METHODS; m++)
				printf("  %17.2f", ms[c][m][0] / base);
			printf("\n");
		}
	}
	munmap(shared.array, n * sizeof(int64_t));
	return 0;
}
