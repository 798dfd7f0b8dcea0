/*
 * SPDX-License-Identifier: MIT
 *
 * Running one Check test in a forked child with its own runner.
 */
#ifndef MMVEC_CHILDTEST_H
#define MMVEC_CHILDTEST_H

#include <check.h>

/* Runs test @t in a forked child under its own Check runner (so that its
 * assertions, and anything it does to the process, stay in the child
 * whatever CK_FORK says), killed by SIGALRM after @seconds. The child exits
 * 0 if the test passed, 1 if it failed (printing why), 2 if it did not run.
 * Returns the wait status. */
int run_in_child(const TTest *t, unsigned seconds);

#endif /* MMVEC_CHILDTEST_H */
