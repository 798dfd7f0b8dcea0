/*
 * SPDX-License-Identifier: MIT
 */
#include "faults.h"

#include <errno.h>
#include <string.h>

static struct {
	unsigned mask;
	enum fault_mode mode;
	unsigned long nth;
	int err;
	struct harden_rng rng;
	unsigned long calls[MMVEC__OS_NOPS];
	unsigned long injected[MMVEC__OS_NOPS];
} plan;

static int hook(enum mmvec__os_op op, size_t size)
{
	unsigned long k;
	bool fails = false;

	if ((unsigned)op >= MMVEC__OS_NOPS)
		return 0;
	k = plan.calls[op]++;
	if (!(plan.mask & FAULT_BIT(op)))
		return 0;
	switch (plan.mode) {
	case FAULT_NONE: break;
	case FAULT_ALL: fails = true; break;
	case FAULT_NTH: fails = k == plan.nth; break;
	case FAULT_RANDOM: fails = harden_rng_next(&plan.rng) & 1; break;
	case FAULT_ABOVE: fails = size > plan.nth; break;
	}
	if (!fails)
		return 0;
	plan.injected[op]++;
	return plan.err;
}

void faults_plan(unsigned mask, enum fault_mode mode, unsigned long nth,
		 int err)
{
	uint64_t seed = plan.rng.state;

	memset(&plan, 0, sizeof(plan));
	plan.mask = mask & FAULT_FALLIBLE;
	plan.mode = mode;
	plan.nth = nth;
	plan.err = err;
	plan.rng.state = seed;
	mmvec__os_fault_hook = hook;
}

struct vm_fault_report faults_stop(void)
{
	struct vm_fault_report r = { 0, 0, 0 };

	plan.mode = FAULT_NONE;
	plan.mask = 0;
	for (int op = 0; op < MMVEC__OS_NOPS; op++) {
		r.injected += plan.injected[op];
		/* releasing and zeroing need no memory from the OS */
		if (op != MMVEC__OS_RELEASE && op != MMVEC__OS_ZERO)
			r.calls += plan.calls[op];
	}
	r.decommit_injected = plan.injected[MMVEC__OS_DECOMMIT];
	return r;
}

unsigned long faults_calls(enum mmvec__os_op op)
{
	return plan.calls[op];
}

unsigned long faults_injected(enum mmvec__os_op op)
{
	return plan.injected[op];
}

static void random_arm(void *ctx, struct vm_input *in)
{
	static const enum mmvec__os_op ops[] = {
		MMVEC__OS_RESERVE, MMVEC__OS_COMMIT, MMVEC__OS_DECOMMIT,
		MMVEC__OS_POPULATE,
	};
	unsigned mask = 0;
	unsigned pick;
	enum fault_mode mode;

	(void)ctx;
	if (vm_below(in, 3) == 0) {
		faults_plan(0, FAULT_NONE, 0, 0);
		return;
	}
	pick = 1 + (unsigned)vm_below(in, 15); /* a non-empty subset */
	for (unsigned k = 0; k < 4; k++)
		if (pick & (1u << k))
			mask |= FAULT_BIT(ops[k]);
	mode = (enum fault_mode)(FAULT_ALL + vm_below(in, 3));
	plan.rng.state = vm_below(in, UINT64_MAX);
	faults_plan(mask, mode, (unsigned long)vm_below(in, 3), -ENOMEM);
}

static struct vm_fault_report random_disarm(void *ctx)
{
	(void)ctx;
	return faults_stop();
}

const struct vm_faults faults_random = {
	.arm = random_arm,
	.disarm = random_disarm,
	.ctx = NULL,
};
