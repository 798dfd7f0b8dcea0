/*
 * SPDX-License-Identifier: MIT
 *
 * Memory checkers see the end of a vector: reading element mmvec_len(),
 * which lies in committed memory, is reported by AddressSanitizer (in an
 * ASan build) and by Valgrind memcheck, after every kind of call that moves
 * the end; reading element len - 1 is not.
 *
 *   test-checkers asan HELPER              (exit 77 unless an ASan build)
 *   test-checkers memcheck HELPER VALGRIND (exit 77 without valgrind, in a
 *                                           sanitizer build, or when the
 *                                           library has no memcheck
 *                                           annotations)
 *
 * HELPER is read-past-end, built like this program.
 */
#include "runner.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "scenarios.h"

#define REPORT_EXIT 23

static const char *helper;
#if !defined(TEST_ASAN) && !defined(TEST_TSAN) && HAVE_VALGRIND_MEMCHECK_H
static const char *valgrind;
#endif

/* ------------------------------------------------------------------------ */
/* Running the helper */

struct result {
	int status;
	char *out; /* stdout and stderr, NUL-terminated */
};

/* Removes Valgrind's own preloads from the environment: when this program
 * runs under Valgrind, they must not reach an uninstrumented child. */
static void strip_valgrind_preload(void)
{
	const char *pre = getenv("LD_PRELOAD");

	if (pre && strstr(pre, "vgpreload"))
		unsetenv("LD_PRELOAD");
}

/* Runs argv with the extra environment variable @env ("NAME=value" or NULL),
 * collecting its output in a temporary file (no pipe to fill up). */
/* (unused in a build with neither checker, e.g. TSan) */
__attribute__((unused)) static struct result spawn(const char *const argv[],
						   const char *env)
{
	char path[] = "/tmp/mmvec-checkers-XXXXXX";
	struct result r = { 0, NULL };
	int fd = mkstemp(path);
	struct stat st;
	pid_t pid;

	ck_assert_int_ge(fd, 0);
	unlink(path);
	fflush(NULL);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		dup2(fd, 1);
		dup2(fd, 2);
		strip_valgrind_preload();
		if (env)
			putenv((char *)env);
		execv(argv[0], (char *const *)argv);
		fprintf(stderr, "exec %s failed\n", argv[0]);
		_exit(127);
	}
	ck_assert_int_eq(waitpid(pid, &r.status, 0), pid);
	ck_assert_int_eq(fstat(fd, &st), 0);
	r.out = calloc(1, (size_t)st.st_size + 1);
	ck_assert_ptr_nonnull(r.out);
	ck_assert_int_eq(pread(fd, r.out, (size_t)st.st_size, 0), st.st_size);
	close(fd);
	return r;
}

__attribute__((unused)) static int exit_code(const struct result *r)
{
	return WIFEXITED(r->status) ? WEXITSTATUS(r->status)
				    : 128 + WTERMSIG(r->status);
}

/* ------------------------------------------------------------------------ */
/* AddressSanitizer */

#ifdef TEST_ASAN

static size_t count(const char *hay, const char *needle)
{
	size_t n = 0;

	for (const char *p = hay; (p = strstr(p, needle)); p += strlen(needle))
		n++;
	return n;
}
#define ASAN_ENV                                                               \
	"ASAN_OPTIONS=halt_on_error=1:abort_on_error=0:detect_leaks=0:"       \
	"exitcode=23"

START_TEST(asan_inside_not_reported)
{
	const char *argv[] = { helper, "all", "inside", NULL };
	struct result r = spawn(argv, ASAN_ENV);

	ck_assert_msg(exit_code(&r) == 0 && !strstr(r.out, "AddressSanitizer"),
		      "reading elements below len was reported (exit %d):\n%s",
		      exit_code(&r), r.out);
	ck_assert_uint_eq(count(r.out, "@@ begin"),
			  ARRAY_LENGTH(scenario_names) *
				  ARRAY_LENGTH(scenario_sizes));
	ck_assert_uint_eq(count(r.out, "@@ end"), count(r.out, "@@ begin"));
	free(r.out);
}
END_TEST

START_TEST(asan_past_end_reported)
{
	const char *name = scenario_names[_i / ARRAY_LENGTH(scenario_sizes)];
	size_t es = scenario_sizes[_i % ARRAY_LENGTH(scenario_sizes)];
	char es_arg[32];
	const char *argv[] = { helper, "one", name, es_arg, "past", NULL };
	const char *kind;
	char report[80];
	struct result r;

	snprintf(es_arg, sizeof(es_arg), "%zu", es);
	r = spawn(argv, ASAN_ENV);
	ck_assert_msg(strstr(r.out, "@@ begin") != NULL,
		      "%s, elem_size %zu: the helper did not get to the read "
		      "(exit %d):\n%s", name, es, exit_code(&r), r.out);
	if (strstr(r.out, "@@ nothing to read")) {
		/* full-page with an element size that divides the page */
		ck_assert_int_eq(exit_code(&r), 0);
		free(r.out);
		return;
	}
	/* ASan names the kind of a bad access from the shadow bytes: our
	 * poisoning makes it use-after-poison, except for the last bytes of
	 * a page that an element only partly fills, where the next granule
	 * (the uncommitted page) makes it an "unknown-crash" */
	kind = strcmp(name, "full-page") ? "use-after-poison" : "";
	snprintf(report, sizeof(report), "ERROR: AddressSanitizer: %s", kind);
	ck_assert_msg(exit_code(&r) == REPORT_EXIT && strstr(r.out, report) &&
		      strstr(r.out, "READ of size 1") &&
		      !strstr(r.out, "@@ end"),
		      "%s, elem_size %zu: reading element len was not "
		      "reported as \"%s\" (exit %d):\n%s", name, es, report,
		      exit_code(&r), r.out);
	free(r.out);
}
END_TEST

#endif /* TEST_ASAN */

/* ------------------------------------------------------------------------ */
/* Valgrind memcheck: one run does every read, since memcheck reports and
 * goes on. It prints the first report of each call stack only; the helper
 * counts the errors each read caused (VALGRIND_COUNT_ERRORS). */

#if !defined(TEST_ASAN) && !defined(TEST_TSAN) && HAVE_VALGRIND_MEMCHECK_H
START_TEST(memcheck_reports_past_end)
{
	const char *argv[] = { valgrind, "-q", "--error-exitcode=23",
			       "--leak-check=no", helper, "all", NULL };
	struct result r = spawn(argv, NULL);
	size_t sections = 0, reported = 0, empty = 0;
	char *p = r.out;

	ck_assert_msg(exit_code(&r) == REPORT_EXIT &&
		      strstr(r.out, "Invalid read of size 1"),
		      "memcheck reported no invalid read (exit %d):\n%s",
		      exit_code(&r), r.out);
	/* every report belongs to a past-the-end read */
	for (;;) {
		char *begin = strstr(p, "@@ begin ");
		char *end, *nl, save;
		bool past;

		if (!begin) {
			ck_assert_msg(!strstr(p, "Invalid"),
				      "report outside a read:\n%s", p);
			break;
		}
		*begin = '\0';
		ck_assert_msg(!strstr(p, "Invalid"),
			      "report outside a read:\n%s", p);
		*begin = '@';
		end = strstr(begin, "@@ end");
		ck_assert_msg(end != NULL, "unfinished read:\n%s", begin);
		nl = strchr(begin, '\n');
		ck_assert_ptr_nonnull(nl);
		past = strncmp(nl - 4, "past", 4) == 0;
		save = *end;
		*end = '\0';
		sections++;
		if (strstr(begin, "@@ nothing to read")) {
			empty += past;
		} else if (past) {
			ck_assert_msg(strstr(begin, "@@ memcheck errors 1\n"),
				      "not reported:\n%s", begin);
			reported++;
		} else {
			ck_assert_msg(strstr(begin, "@@ memcheck errors 0\n") &&
				      !strstr(begin, "Invalid"),
				      "reported a read below len:\n%s", begin);
		}
		*end = save;
		p = end + strlen("@@ end");
	}
	ck_assert_uint_eq(sections, 2 * ARRAY_LENGTH(scenario_names) *
					    ARRAY_LENGTH(scenario_sizes));
	ck_assert_uint_eq(reported + empty,
			  ARRAY_LENGTH(scenario_names) *
				  ARRAY_LENGTH(scenario_sizes));
	ck_assert_uint_gt(reported, empty);
	free(r.out);
}
END_TEST
#endif

/* ------------------------------------------------------------------------ */

Suite *test_suite(int argc, char **argv)
{
	const TTest *tests[2] = { NULL, NULL };
	int loop = 0;
	Suite *s;
	TCase *tc;

	if (argc < 3 || (strcmp(argv[1], "asan") && strcmp(argv[1], "memcheck"))) {
		fprintf(stderr, "usage: test-checkers asan|memcheck HELPER "
			"[VALGRIND]\n");
		exit(EXIT_FAILURE);
	}
	helper = argv[2];
	if (!strcmp(argv[1], "asan")) {
#ifndef TEST_ASAN
		test_skip("not an AddressSanitizer build");
#else
		tests[0] = asan_inside_not_reported;
		tests[1] = asan_past_end_reported;
		loop = (int)(ARRAY_LENGTH(scenario_names) *
			     ARRAY_LENGTH(scenario_sizes));
#endif
	} else {
#if defined(TEST_ASAN) || defined(TEST_TSAN)
		test_skip("Valgrind cannot run a sanitizer build");
#elif !HAVE_VALGRIND_MEMCHECK_H
		test_skip("built without valgrind/memcheck.h: the library "
			  "makes no memcheck annotations");
#else
		valgrind = argc > 3 ? argv[3] : "";
		if (!*valgrind || access(valgrind, X_OK) != 0)
			test_skip("valgrind is not installed");
		tests[0] = memcheck_reports_past_end;
#endif
	}

	s = suite_create("checkers");
	tc = test_case(s, "reports", NULL, NULL, 300);
	test_add(tc, 1, tests[0], NULL);
	if (tests[1])
		test_add(tc, loop, tests[1], NULL);
	return s;
}
