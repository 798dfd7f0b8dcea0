/*
 * SPDX-License-Identifier: MIT
 *
 * The only code that runs Check suites.
 */
#include "runner.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#ifdef _WIN32
#include <windows.h>
#include <psapi.h>
#else
#include <sys/wait.h>
#include <unistd.h>
#endif

/* ------------------------------------------------------------------------ */
/* Running */

int main(int argc, char **argv)
{
	SRunner *sr = srunner_create(test_suite(argc, argv));
	int failed;

	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);

	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

/* Every test starts as in a fresh process, with no reservation cached by
 * the tests before it (which, with CK_FORK=no, ran in this process): a
 * vector from the cache may come with memory committed. */
static void fresh_cache(void)
{
	mmvec_cache_flush();
}

TCase *test_case(Suite *s, const char *name, void (*setup)(void),
		 void (*teardown)(void), double timeout)
{
	TCase *tc = tcase_create(name);

	tcase_add_checked_fixture(tc, fresh_cache, NULL);
	if (setup || teardown)
		tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, timeout);
	suite_add_tcase(s, tc);
	return tc;
}

void test_add(TCase *tc, int loop, ...)
{
	const TTest *t;
	va_list ap;

	va_start(ap, loop);
	while ((t = va_arg(ap, const TTest *)))
		tcase_add_loop_test(tc, t, 0, loop);
	va_end(ap);
}

void test_add_signal(TCase *tc, int signal, ...)
{
	bool forking = test_forking();
	const TTest *t;
	va_list ap;

	va_start(ap, signal);
	while ((t = va_arg(ap, const TTest *))) {
		if (forking)
			tcase_add_test_raise_signal(tc, t, signal);
		else
			printf("note: CK_FORK=no, %s (must raise signal %d) "
			       "is not run\n", t->name, signal);
	}
	va_end(ap);
}

void test_add_not_on_valgrind(TCase *tc, const TTest *t)
{
	if (test_on_valgrind())
		printf("note: under Valgrind, %s is not run\n", t->name);
	else
		tcase_add_test(tc, t);
}

void test_add_if(TCase *tc, bool run, const char *why, const TTest *t)
{
	if (run)
		tcase_add_test(tc, t);
	else
		test_not_run(t->name, why);
}

void test_not_run(const char *name, const char *why)
{
	printf("note: %s is not run: %s\n", name, why);
}

bool test_forking(void)
{
	/* Ask Check itself, so that CK_FORK is read exactly as the runner
	 * reads it. */
	SRunner *sr = srunner_create(NULL);
	enum fork_status status = srunner_fork_status(sr);

	srunner_free(sr);
	return status == CK_FORK;
}

#ifdef _WIN32
int test_run_in_child(const TTest *t, unsigned seconds)
{
	ck_abort_msg("%s needs fork(), which Windows does not have", t->name);
	return -1;
}
#else
int test_run_in_child(const TTest *t, unsigned seconds)
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
#endif

void test_skip(const char *why)
{
	printf("SKIP: %s\n", why);
	exit(TEST_SKIP);
}

/* ------------------------------------------------------------------------ */
/* Vectors */

void push_pattern(struct mmvec *v, unsigned tag, size_t n)
{
	size_t es = mmvec_elem_size(v);
	unsigned char *buf = malloc(es);

	ck_assert_ptr_nonnull(buf);
	for (size_t k = 0; k < n; k++) {
		size_t len = mmvec_len(v);
		void *p;

		pattern_fill(buf, es, tag, k);
		p = mmvec_push(v, buf);
		fast_assert_ptr_eq(p, (char *)mmvec_data(v) + len * es);
		fast_assert_uint_eq(mmvec_len(v), len + 1);
	}
	free(buf);
}

struct mmvec *vec_new_ok(size_t es, size_t max_len, unsigned flags)
{
	struct mmvec *v = NULL;

	ck_assert_int_eq(mmvec_new(es, max_len, flags, &v), 0);
	ck_assert_ptr_nonnull(v);
	ck_assert_uint_eq(mmvec_len(v), 0);
	ck_assert_uint_eq(mmvec_elem_size(v), es);
	ck_assert_ptr_nonnull(mmvec_data(v));
	return v;
}

/* ------------------------------------------------------------------------ */
/* Snapshots */

void vec_snapshot_take(struct vec_snapshot *s, const struct mmvec *v)
{
	s->len = mmvec_len(v);
	s->capacity = mmvec_capacity(v);
	s->max_len = mmvec_max_len(v);
	s->elem_size = mmvec_elem_size(v);
	s->data = mmvec_data(v);
	s->copy = NULL;
	if (s->len > 0) {
		s->copy = malloc(s->len * s->elem_size);
		ck_assert_ptr_nonnull(s->copy);
		memcpy(s->copy, s->data, s->len * s->elem_size);
	}
}

void vec_snapshot_release(struct vec_snapshot *s)
{
	free(s->copy);
	s->copy = NULL;
}

/* ------------------------------------------------------------------------ */
/* What the kernel has mapped */

size_t resident_pages(const void *addr, size_t len)
{
	long resident = resident_count(addr, len);

	ck_assert_msg(resident >= 0, "cannot tell which pages are resident: %s",
		      strerror(errno));
	return (size_t)resident;
}

long rss_kib(void)
{
#ifdef _WIN32
	PROCESS_MEMORY_COUNTERS pmc;

	ck_assert(GetProcessMemoryInfo(GetCurrentProcess(), &pmc,
				       sizeof(pmc)));
	return (long)(pmc.WorkingSetSize / KIB);
#else
	long long kib = proc_kib("/proc/self/smaps_rollup", "Rss");

	ck_assert_int_ge(kib, 0);
	return (long)kib;
#endif
}

unsigned vma_count(const void *addr, size_t len)
{
	long n = maps_in(addr, len);

	ck_assert_int_ge(n, 0);
	return (unsigned)n;
}

bool vma_accessible(const void *addr)
{
	int accessible = maps_accessible(addr);

	ck_assert_int_ge(accessible, 0);
	return accessible;
}

bool vma_has_flag(const void *addr, const char *flag)
{
	int has = maps_vmflag(addr, flag);

	ck_assert_msg(has >= 0, "no VmFlags for the mapping at %p", addr);
	return has;
}
