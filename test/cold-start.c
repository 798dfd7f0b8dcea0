/*
 * SPDX-License-Identifier: MIT
 *
 * The first calls into the library, from two threads at once: both create
 * vectors before anything else has touched the library, so both fill its
 * cached constants (the page size, the huge-page size) at the same time.
 * Under ThreadSanitizer a data race there is reported and fails the test;
 * everywhere, the vectors must work. A program of its own, not a Check
 * suite, because the runner itself could touch the library first.
 */
#include "config.h"

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "mmvec.h"

#define VECTORS 8

static pthread_barrier_t start;

static void *make_vectors(void *arg)
{
	struct mmvec *v[VECTORS];
	uintptr_t fails = 0;

	(void)arg;
	pthread_barrier_wait(&start);
	for (int k = 0; k < VECTORS; k++) {
		/* explicit sizes: the constants are what the threads race
		 * for, and the default's address space may be scarce (the
		 * cross builds run under RLIMIT_AS) */
		if (mmvec_new(8, k % 2 ? 4096 : 1 << 20, 0, &v[k]) != 0) {
			v[k] = NULL;
			fails++;
			continue;
		}
		for (int64_t x = 0; x < 1000; x++)
			if (!mmvec_push_val(v[k], x))
				fails++;
	}
	for (int k = 0; k < VECTORS; k++) {
		if (v[k] && (mmvec_len(v[k]) != 1000 ||
			     *(int64_t *)mmvec_at(v[k], 999) != 999))
			fails++;
		mmvec_free(v[k]);
	}
	return (void *)fails;
}

int main(void)
{
	pthread_t t[2];
	uintptr_t fails = 0;
	void *rv;

	if (pthread_barrier_init(&start, NULL, 2) != 0)
		return 99;
	for (int i = 0; i < 2; i++)
		if (pthread_create(&t[i], NULL, make_vectors, NULL) != 0)
			return 99;
	for (int i = 0; i < 2; i++) {
		if (pthread_join(t[i], &rv) != 0)
			return 99;
		fails += (uintptr_t)rv;
	}
	pthread_barrier_destroy(&start);
	printf("2 threads x %d vectors from a cold start: %s\n", VECTORS,
	       fails ? "FAILED" : "ok");
	return fails ? 1 : 0;
}
