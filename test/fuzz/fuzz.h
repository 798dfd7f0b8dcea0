/*
 * SPDX-License-Identifier: MIT
 *
 * The entry point every fuzz target defines (libFuzzer's), also called by
 * replay.c in builds without libFuzzer.
 */
#ifndef MMVEC_FUZZ_H
#define MMVEC_FUZZ_H

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#endif /* MMVEC_FUZZ_H */
