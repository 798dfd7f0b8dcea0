/*
 * SPDX-License-Identifier: MIT
 */
#include "harden.h"

#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "childtest.h"

/* Runs test @t in a forked child under its own Check runner (so that its
 * assertions and anything it does to the process stay in the child, whatever
 * CK_FORK says), killed by SIGALRM after @seconds. Returns the wait status. */
int run_in_child(const TTest *t, unsigned seconds)
{
	pid_t pid;
	int status;

	fflush(NULL);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		Suite *s = suite_create("child");
		TCase *tc = tcase_create("child");
		SRunner *sr;
		int failed, ran;

		/* the parent's selection must not filter the child's test */
		unsetenv("CK_RUN_SUITE");
		unsetenv("CK_RUN_CASE");
		unsetenv("CK_INCLUDE_TAGS");
		unsetenv("CK_EXCLUDE_TAGS");
		tcase_add_test(tc, t);
		suite_add_tcase(s, tc);
		sr = srunner_create(s);
		srunner_set_fork_status(sr, CK_NOFORK);
		alarm(seconds);
		srunner_run_all(sr, CK_SILENT);
		failed = srunner_ntests_failed(sr);
		ran = srunner_ntests_run(sr);
		if (failed) {
			/* print the failure, then report it by status */
			srunner_print(sr, CK_NORMAL);
		}
		/* under Valgrind the child's exit runs a leak check too */
		srunner_free(sr);
		fflush(NULL);
		_exit(failed ? 1 : ran == 1 ? 0 : 2);
	}
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	return status;
}

