/*
 * SPDX-License-Identifier: MIT
 *
 * Fuzz target: the input is a sequence of vector operations, run on the
 * library and on the reference model (test/vecmodel.c) and compared
 * after each. Byte 0 picks the mode (bit 0: inject OS failures through the
 * fault hook; bit 1: also compare the capacity with /proc/self/maps now and
 * then); the rest drives vm_open() and vm_step().
 */
#include "helpers.h"

#include <stdio.h>
#include <stdlib.h>

#include "faults.h"
#include "fuzz.h"
#include "vecmodel.h"

/* Growth per input stays below this (elements * elem_size). */
#define LIMIT_BYTES ((size_t)1 << 18)
#define MAX_STEPS 4096

/* Report a finding and crash, so that libFuzzer saves the input. */
__attribute__((noreturn)) static void die(const char *msg)
{
	fprintf(stderr, "fuzz-vec: %s\n", msg);
	fflush(stderr);
	abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct vm_input in;
	struct vm h;
	bool faults;

	if (size < 2)
		return 0;
	faults = data[0] & 1;
	vm_input_bytes(&in, data + 1, size - 1);
	if (vm_open(&h, &in, LIMIT_BYTES, faults ? &faults_random : NULL))
		die(h.msg);
	h.kernel_every = (data[0] & 2) ? 16 : 0;
	for (unsigned k = 0; k < MAX_STEPS && !vm_input_done(&in); k++)
		if (vm_step(&h, &in))
			die(h.msg);
	vm_close(&h);
	faults_stop();
	return 0;
}
