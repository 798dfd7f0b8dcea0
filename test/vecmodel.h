/*
 * SPDX-License-Identifier: MIT
 *
 * A reference model of the vector API (a plain malloc'd array) and an engine
 * that runs operations on a real vector and on the model side by side,
 * checking every return value, errno, the length, the capacity bounds, the
 * data pointer and the contents after each step.
 *
 * The engine takes its choices from a struct vm_input: a PRNG for the
 * differential tests (test-diff.c, test-fault.c) or the bytes of an input for
 * the fuzz targets (test/fuzz). With a struct vm_faults it also injects OS
 * failures (only possible with the fault-injection test library) and checks
 * that a call failing with -ENOMEM changed nothing.
 */
#ifndef MMVEC_VECMODEL_H
#define MMVEC_VECMODEL_H

#include "helpers.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "mmvec.h"

/* ------------------------------------------------------------------------ */
/* Choices */

struct vm_input {
	const uint8_t *buf; /* NULL: choices come from rng */
	size_t len;
	size_t pos;
	struct test_rng rng;
};

void vm_input_rng(struct vm_input *in, uint64_t seed);
void vm_input_bytes(struct vm_input *in, const uint8_t *buf, size_t len);

/* True once a byte input is used up (never for a PRNG). */
bool vm_input_done(const struct vm_input *in);

/* A choice in [0, n), n > 0. A used-up byte input gives 0. */
uint64_t vm_below(struct vm_input *in, uint64_t n);

/* ------------------------------------------------------------------------ */
/* Fault injection (optional) */

struct vm_fault_report {
	unsigned long injected;          /* failures injected */
	unsigned long decommit_injected; /* of which decommits */
	unsigned long calls;             /* fallible OS calls made */
};

struct vm_faults {
	/* Plan the failures for the next library call, choosing from in
	 * (possibly none). */
	void (*arm)(void *ctx, struct vm_input *in);
	/* Stop failing and say what happened since arm(). */
	struct vm_fault_report (*disarm)(void *ctx);
	void *ctx;
};

/* Plan the failures of the next call from @in, and stop failing and say
 * what happened; both do nothing when @f is NULL. */
void vm_faults_arm(const struct vm_faults *f, struct vm_input *in);
struct vm_fault_report vm_faults_disarm(const struct vm_faults *f);

/* ------------------------------------------------------------------------ */
/* The engine */

struct vm {
	struct mmvec *v;
	size_t es;
	size_t max_len;
	unsigned flags;
	void *data;
	size_t cap;          /* capacity after the last step */
	size_t page;
	size_t limit_bytes;  /* successful growth stays below this */
	bool populate_unsure; /* a failed undo left unpopulated pages */
	unsigned kernel_every; /* compare with /proc/self/maps every n steps */

	unsigned char *model; /* the reference: len * es bytes */
	size_t len;
	size_t model_alloc;

	unsigned char *buf;   /* source buffers and pop output */
	size_t buf_alloc;
	struct test_rng fill; /* element bytes, seeded from the input */

	const struct vm_faults *faults;
	unsigned long step;
	unsigned op;          /* the current operation (for statistics) */
	size_t claimed;       /* slots claimed past len: the model holds
			       * their bytes right after its elements */
	bool discards;        /* the current call, if it succeeds, ends an
			       * open claim */
	unsigned long enomem; /* calls that failed with injected -ENOMEM */
	char what[160];       /* the current operation, for messages */
	char msg[512];        /* why the last call returned -1 */
};

/* Create a vector with parameters chosen from @in (element size 1..64 most
 * of the time, a small max_len so that -ENOSPC is reachable, random flags),
 * keeping successful growth below @limit_bytes of elements.
 * @faults may be NULL. Returns 0, or -1 with h->msg set. */
int vm_open(struct vm *h, struct vm_input *in, size_t limit_bytes,
	    const struct vm_faults *faults);

/* One random operation on both sides, then the full comparison.
 * Returns 0, or -1 with h->msg set (the vector is left open). */
int vm_step(struct vm *h, struct vm_input *in);

/* Compare the vector with the model. 0 or -1 with h->msg set. */
int vm_check(struct vm *h);

/* vm_open() with the choices of seed @seed, @kernel_every set, then
 * @steps vm_step()s. Returns 0 with the vector open, or -1 with h->msg set
 * (the vector left open). */
int vm_run(struct vm *h, uint64_t seed, size_t limit_bytes,
	   const struct vm_faults *faults, unsigned kernel_every,
	   unsigned long steps);

void vm_close(struct vm *h);

/* Print how often each operation gave each result in this process. */
void vm_print_stats(FILE *f);

#endif /* MMVEC_VECMODEL_H */
