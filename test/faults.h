/*
 * SPDX-License-Identifier: MIT
 *
 * Failure plans for the OS layer's fault-injection hook (src/os.h), for
 * programs linked with the test library (mmvec_test_dep) and compiled with
 * MMVEC_FAULT_INJECTION defined.
 */
#ifndef MMVEC_FAULTS_H
#define MMVEC_FAULTS_H

#include "vecmodel.h"

#include "os.h"

#define FAULT_BIT(op) (1u << (op))
/* The OS calls that can fail. The library ignores a failed advice (it is
 * advisory) and cannot fail a release, but both ask the hook too. */
#define FAULT_FALLIBLE                                                         \
	(FAULT_BIT(MMVEC__OS_RESERVE) | FAULT_BIT(MMVEC__OS_COMMIT) |         \
	 FAULT_BIT(MMVEC__OS_DECOMMIT) | FAULT_BIT(MMVEC__OS_POPULATE))

enum fault_mode {
	FAULT_NONE,   /* nothing fails */
	FAULT_ALL,    /* every call of an op in the mask fails */
	FAULT_NTH,    /* only call number nth (from 0) of an op in the mask */
	FAULT_RANDOM, /* each call of an op in the mask fails with p = 1/2 */
	FAULT_ABOVE,  /* calls of an op in the mask for more than nth bytes */
};

/* Install the hook (idempotent) and start a plan: calls of the ops in @mask
 * (FAULT_BIT()s) fail with @err (a negative errno) as @mode says. Counters
 * restart at zero. */
void faults_plan(unsigned mask, enum fault_mode mode, unsigned long nth,
		 int err);

/* Stop failing; return what happened since faults_plan(). */
struct vm_fault_report faults_stop(void);

/* Calls of @op (failed or not) and failures of @op since faults_plan(). */
unsigned long faults_calls(enum mmvec__os_op op);
unsigned long faults_injected(enum mmvec__os_op op);

/* For the model engine: before each call, pick a random plan (a third of
 * the time none) from the input. */
extern const struct vm_faults faults_random;

#endif /* MMVEC_FAULTS_H */
