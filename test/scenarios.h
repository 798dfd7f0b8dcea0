/*
 * SPDX-License-Identifier: MIT
 *
 * The states read-past-end.c builds before reading past the last element,
 * shared with test-checkers.c, which runs each of them.
 */
#ifndef MMVEC_SCENARIOS_H
#define MMVEC_SCENARIOS_H

#include <stddef.h>

static const char *const scenario_names[] = {
	"push", "push-null", "extend", "append", "insert", "pop", "erase",
	"swap-remove", "resize-down", "resize-up", "clear", "reserve",
	"shrink", "regrow", "full-page", "push-fast", "claim",
	"claim-discarded", "reused", "freed",
};

/* element sizes: at most 64 (read-past-end's element buffers) */
static const size_t scenario_sizes[] = { 1, 3, 8, 24, 64 };

#endif /* MMVEC_SCENARIOS_H */
