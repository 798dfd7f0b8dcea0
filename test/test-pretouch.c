/*
 * SPDX-License-Identifier: MIT
 *
 * Pre-faulting ahead of the writer: MMVEC_PRETOUCH's flag checks, its
 * thread (starting, failing to start, ending, fork()), that the memory
 * ahead of the length is faulted in, that a file is never extended, and
 * mmvec_pretouch()'s errors. White-box: the OS layer's fault hook makes
 * the thread's start and the commits fail.
 */
#include "runner.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "faults.h"
#include "file-helpers.h"
#include "os.h"

#define OP(op) FAULT_BIT(MMVEC__OS_##op)

/* ------------------------------------------------------------------------ */
/* The thread, seen from /proc */

/* Threads of this process named mmvec-pretouch. */
static unsigned pretouch_threads(void)
{
	DIR *d = opendir("/proc/self/task");
	struct dirent *e;
	unsigned n = 0;

	ck_assert_ptr_nonnull(d);
	while ((e = readdir(d)) != NULL) {
		char p[300], comm[64] = "";
		FILE *f;

		if (e->d_name[0] == '.')
			continue;
		snprintf(p, sizeof(p), "/proc/self/task/%s/comm", e->d_name);
		f = fopen(p, "r");
		if (!f)
			continue; /* the thread ended meanwhile */
		if (fgets(comm, sizeof(comm), f) &&
		    strcmp(comm, "mmvec-pretouch\n") == 0)
			n++;
		fclose(f);
	}
	closedir(d);
	return n;
}

/* Waits up to `seconds` for the number of pre-faulting threads to be n. */
static bool threads_become(unsigned n, double seconds)
{
	double end = now_seconds() + seconds;

	while (pretouch_threads() != n) {
		if (now_seconds() > end)
			return false;
		usleep(5000);
	}
	return true;
}

static void setup(void)
{
	faults_stop();
	/* an earlier test's thread (without fork mode) ends first */
	ck_assert_msg(threads_become(0, 10), "a pre-faulting thread lingers");
}

static void teardown(void)
{
	faults_stop();
}

static void file_setup(void)
{
	setup();
	setup_dir();
}

static void file_teardown(void)
{
	teardown_dir();
	teardown();
}

/* ------------------------------------------------------------------------ */
/* Flags */

START_TEST(flags_rejected)
{
	struct mmvec *v = (struct mmvec *)&v; /* left untouched */
	struct mmvec_region *r = (struct mmvec_region *)&r;

	ck_assert_int_eq(mmvec_new(8, 0, MMVEC_PRETOUCH | MMVEC_POPULATE, &v),
			 -EINVAL);
	ck_assert_int_eq(mmvec_new(8, 0, MMVEC_PRETOUCH | MMVEC_HUGEPAGES |
						 MMVEC_NO_HUGEPAGES, &v),
			 -EINVAL);
	ck_assert_int_eq(mmvec_new(8, 0, MMVEC_PRETOUCH | MMVEC_RDONLY, &v),
			 -EINVAL);
	ck_assert_int_eq(mmvec_new(8, 0, MMVEC_PRETOUCH, NULL), -EINVAL);
	ck_assert_ptr_eq(v, &v);
	ck_assert_int_eq(mmvec_region_new(0, MMVEC_PRETOUCH, &r), -EINVAL);
	ck_assert_ptr_eq(r, &r);
	/* nothing was started for them */
	ck_assert_uint_eq(pretouch_threads(), 0);
}
END_TEST

START_TEST(open_flags_rejected)
{
	struct mmvec *v = (struct mmvec *)&v;
	int fd;

	ck_open_fails(path, 8, 0, MMVEC_CREATE | MMVEC_PRETOUCH | MMVEC_POPULATE,
		      -EINVAL);
	make_file(path, 10, 0);
	ck_open_fails(path, 8, 0, MMVEC_RDONLY | MMVEC_PRETOUCH, -EINVAL);
	ck_open_fails(path, 8, 0, MMVEC_PRETOUCH | MMVEC_POPULATE, -EINVAL);
	fd = open(path, O_RDWR);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(mmvec_open_fd(fd, 8, 0, MMVEC_PRETOUCH | MMVEC_POPULATE,
				       &v),
			 -EINVAL);
	ck_assert_int_eq(mmvec_open_fd(fd, 8, 0, MMVEC_PRETOUCH | MMVEC_RDONLY,
				       &v),
			 -EINVAL);
	ck_assert_ptr_eq(v, &v);
	close(fd);
	ck_assert_uint_eq(pretouch_threads(), 0);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* The thread's life */

START_TEST(thread_start_fails)
{
	const int errs[] = { -EAGAIN, -ENOMEM };
	struct mmvec *v = (struct mmvec *)&v;

	for (size_t i = 0; i < sizeof(errs) / sizeof(errs[0]); i++) {
		faults_plan(OP(THREAD), FAULT_ALL, 0, errs[i]);
		ck_assert_int_eq(mmvec_new(8, 0, MMVEC_PRETOUCH, &v), errs[i]);
		ck_assert_int_eq(mmvec_new(8, 1000, MMVEC_PRETOUCH |
							    MMVEC_NO_HUGEPAGES,
					   &v),
				 errs[i]);
		ck_assert_ptr_eq(v, &v);
		faults_stop();
		ck_assert_uint_eq(pretouch_threads(), 0);
	}
	/* then it starts */
	v = vec_new_ok(8, 0, MMVEC_PRETOUCH);
	ck_assert_uint_eq(pretouch_threads(), 1);
	push_pattern(v, 1, 1000);
	ck_assert_pattern(v, 0, 1000, 1, 0);
	mmvec_free(v);
}
END_TEST

START_TEST(open_thread_start_fails)
{
	struct mmvec *v = (struct mmvec *)&v;

	faults_plan(OP(THREAD), FAULT_ALL, 0, -EAGAIN);
	/* a new file is not left behind */
	ck_assert_int_eq(mmvec_open(path, 8, 0, MMVEC_CREATE | MMVEC_PRETOUCH,
				    &v),
			 -EAGAIN);
	ck_assert_ptr_eq(v, &v);
	ck_assert_int_eq(access(path, F_OK), -1);
	/* an existing one is as it was, and not locked */
	make_file(path, 100, 0);
	ck_open_fails(path, 8, 0, MMVEC_PRETOUCH, -EAGAIN);
	faults_stop();
	ck_assert_uint_eq(pretouch_threads(), 0);
	v = open_ok(path, 8, 0, MMVEC_PRETOUCH);
	check_values(v, 0, 100);
	mmvec_free(v);
}
END_TEST

START_TEST(thread_one_then_ends)
{
	struct mmvec *v[3];

	for (int i = 0; i < 3; i++) {
		v[i] = vec_new_ok(4, 0, MMVEC_PRETOUCH);
		push_pattern(v[i], (unsigned)i, 5000);
	}
	/* one thread for the process */
	ck_assert_uint_eq(pretouch_threads(), 1);
	for (int i = 0; i < 3; i++) {
		ck_assert_pattern(v[i], 0, 5000, (unsigned)i, 0);
		mmvec_free(v[i]);
	}
	/* it ends about 0.1 s after the last vector went */
	ck_assert_msg(threads_become(0, 5), "the thread did not end");
	/* and a new vector starts it again */
	v[0] = vec_new_ok(4, 0, MMVEC_PRETOUCH);
	ck_assert_uint_eq(pretouch_threads(), 1);
	mmvec_free(v[0]);
}
END_TEST

/* Vectors made and freed, shrunk and grown while the thread works on
 * them: free and shrink wait for its step. */
START_TEST(free_and_shrink_while_serving)
{
	size_t n = test_slow() ? 20000 : 300000;

	for (int round = 0; round < 20; round++) {
		struct mmvec *v = vec_new_ok(8, 0, MMVEC_PRETOUCH |
							   MMVEC_NO_HUGEPAGES);

		push_pattern(v, 2, n);
		ck_assert_int_eq(mmvec_resize(v, n / 3), 0);
		ck_assert_int_eq(mmvec_shrink_to_fit(v), 0);
		push_pattern(v, 3, n);
		ck_assert_pattern(v, 0, n / 3, 2, 0);
		ck_assert_pattern(v, n / 3, n / 3 + n, 3, 0);
		mmvec_free(v);
	}
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Memory ahead of the length */

/* The calling thread's minor page faults so far. */
static long minor_faults(void)
{
	struct rusage ru;

	/* this thread's: the pre-faulting thread's are what it saves */
	ck_assert_int_eq(getrusage(RUSAGE_THREAD, &ru), 0);
	return ru.ru_minflt;
}

/* Pages of [len, len + bytes) of v that are resident. */
static size_t resident_ahead(const struct mmvec *v, size_t bytes)
{
	char *p = (char *)mmvec_data(v) + mmvec_len(v) * mmvec_elem_size(v);
	char *from = (char *)round_up((size_t)p, system_page_size());

	if (mmvec_capacity(v) * mmvec_elem_size(v) <
	    (size_t)(from - (char *)mmvec_data(v)) + bytes)
		return 0;
	return resident_pages(from, bytes);
}

START_TEST(thread_faults_ahead)
{
	struct mmvec *v = vec_new_ok(8, 0, MMVEC_PRETOUCH | MMVEC_NO_HUGEPAGES);
	size_t ahead = MIB, n = ahead / 8, pages = ahead / system_page_size();
	double end;
	long faults;

	push_pattern(v, 5, 100000);
	/* the thread gets at least 4 steps of 512 KiB ahead */
	end = now_seconds() + 10;
	while (resident_ahead(v, 2 * ahead) < 2 * pages) {
		ck_assert_msg(now_seconds() < end,
			      "the thread did not fault in 2 MiB ahead");
		usleep(2000);
	}
	faults = minor_faults();
	push_pattern(v, 6, n);
	faults = minor_faults() - faults;
	/* without the thread: one fault per page (256) */
	ck_assert_int_lt(faults, (long)pages / 16);
	ck_assert_pattern(v, 0, 100000, 5, 0);
	ck_assert_pattern(v, 100000, 100000 + n, 6, 0);
	mmvec_free(v);
}
END_TEST

START_TEST(pretouch_faults_ahead)
{
	/* no thread: the program's own call */
	struct mmvec *v = vec_new_ok(8, 0, MMVEC_NO_HUGEPAGES);
	size_t n = MIB / 8, pages = MIB / system_page_size();
	long faults;

	push_pattern(v, 7, 1000);
	ck_assert_int_eq(mmvec_pretouch(v, n + 1000), 0);
	ck_assert_uint_eq(mmvec_len(v), 1000);
	ck_assert_uint_ge(mmvec_capacity(v), n + 2000);
	ck_assert_uint_eq(resident_ahead(v, MIB), pages);
	ck_assert_uint_eq(pretouch_threads(), 0);
	faults = minor_faults();
	push_pattern(v, 8, n);
	faults = minor_faults() - faults;
	ck_assert_int_lt(faults, (long)pages / 16);
	ck_assert_pattern(v, 0, 1000, 7, 0);
	ck_assert_pattern(v, 1000, 1000 + n, 8, 0);
	/* elements past the length still read as zero when added */
	ck_assert_ptr_nonnull(mmvec_extend(v, 10));
	ck_assert(is_zero(mmvec_at(v, 1000 + n), 80));
	mmvec_free(v);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* mmvec_pretouch()'s errors */

START_TEST(pretouch_errors)
{
	struct mmvec *v = vec_new_ok(8, 100000, MMVEC_NO_HUGEPAGES);
	struct vec_snapshot s;

	ck_assert_int_eq(mmvec_pretouch(NULL, 1), -EINVAL);
	push_pattern(v, 9, 10);
	vec_snapshot_take(&s, v);
	ck_assert_int_eq(mmvec_pretouch(v, 99991), -ENOSPC);
	ck_assert_int_eq(mmvec_pretouch(v, SIZE_MAX), -EOVERFLOW);
	ck_assert_int_eq(mmvec_pretouch(v, SIZE_MAX / 8), -EOVERFLOW);
	ck_assert_int_eq(mmvec_pretouch(v, 0), 0);
	ck_assert_vec_unchanged(v, &s);

	/* a refused commit: nothing changes, the capacity included */
	faults_plan(OP(COMMIT), FAULT_ALL, 0, -ENOMEM);
	ck_assert_int_eq(mmvec_pretouch(v, 99990), -ENOMEM);
	ck_assert_vec_unchanged(v, &s);
	faults_stop();
	/* faults the kernel has no memory for: the elements are unchanged */
	faults_plan(OP(PREFAULT), FAULT_ALL, 0, -ENOMEM);
	ck_assert_int_eq(mmvec_pretouch(v, 99990), -ENOMEM);
	faults_stop();
	ck_assert_uint_eq(mmvec_len(v), 10);
	ck_assert_pattern(v, 0, 10, 9, 0);
	vec_snapshot_release(&s);

	/* up to max_len exactly */
	ck_assert_int_eq(mmvec_pretouch(v, 99990), 0);
	ck_assert_uint_eq(mmvec_capacity(v), 100000);
	ck_assert_uint_eq(mmvec_len(v), 10);
	ck_assert_pattern(v, 0, 10, 9, 0);
	mmvec_free(v);
}
END_TEST

/* A thread that cannot commit changes nothing; the writer's own growth
 * reports it. */
START_TEST(thread_commit_refused)
{
	struct mmvec *v = vec_new_ok(8, 0, MMVEC_PRETOUCH | MMVEC_NO_HUGEPAGES);
	size_t cap;

	push_pattern(v, 1, 1000);
	faults_plan(OP(COMMIT) | OP(PREFAULT), FAULT_ALL, 0, -ENOMEM);
	ck_assert_int_eq(mmvec_shrink_to_fit(v), 0);
	cap = mmvec_capacity(v);
	usleep(50000);
	ck_assert_uint_eq(mmvec_capacity(v), cap);
	while (mmvec_len(v) < cap)
		ck_assert_ptr_nonnull(mmvec_push_val(v, (int64_t)1));
	ck_assert_null_errno(mmvec_push_val(v, (int64_t)1), ENOMEM);
	ck_assert_uint_eq(mmvec_len(v), cap);
	faults_stop();
	ck_assert_ptr_nonnull(mmvec_push_val(v, (int64_t)1));
	ck_assert_pattern(v, 0, 1000, 1, 0);
	mmvec_free(v);
}
END_TEST

START_TEST(pretouch_reader_and_child)
{
	struct mmvec *w = open_ok(path, 8, 0, MMVEC_CREATE);
	struct mmvec *r = open_ok(path, 8, 0, MMVEC_RDONLY);
	int status;
	pid_t pid;

	push_values(w, 0, 100);
	ck_assert_int_eq(mmvec_pretouch(r, 1), -EBADF);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		child_assert(mmvec_pretouch(w, 1) == -ECHILD);
		/* the child's own copies (Valgrind checks its leaks) */
		mmvec_free(r);
		mmvec_free(w);
		_exit(0);
	}
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	ck_assert_int_eq(mmvec_pretouch(w, 1), 0);
	mmvec_free(r);
	mmvec_free(w);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Files: nothing is extended */

START_TEST(file_not_extended)
{
	struct mmvec *v = open_ok(path, 8, 0, MMVEC_CREATE | MMVEC_PRETOUCH);
	size_t size;

	push_values(v, 0, 100000);
	ck_assert_int_eq(mmvec_sync(v), 0);
	push_values(v, 100000, 100010);
	size = file_size(path);
	/* the thread's steps, and the program's call past the file */
	ck_assert_int_eq(mmvec_pretouch(v, 10 * MIB), 0);
	usleep(100000);
	ck_assert_uint_eq(file_size(path), size);
	ck_assert_uint_eq(read_u64(path, OFF_SYNCED_LEN), 100000);
	ck_assert_uint_eq(read_u64(path, OFF_LIVE_LEN), 100010);
	push_values(v, 100010, 300000);
	check_values(v, 0, 300000);
	mmvec_free(v);
	v = open_ok(path, 8, 0, MMVEC_RDONLY);
	ck_assert_uint_eq(mmvec_len(v), 300000);
	check_values(v, 0, 300000);
	mmvec_free(v);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* fork() */

static void child_uses_pretouch(void *arg)
{
	struct mmvec *old = arg, *v;
	size_t n = 200000;

	/* the inherited vector grows; the thread starts again */
	for (size_t i = 0; i < n; i++)
		child_assert(mmvec_push_val(old, (int64_t)i) != NULL);
	child_assert(mmvec_new(8, 0, MMVEC_PRETOUCH, &v) == 0);
	for (size_t i = 0; i < n; i++)
		child_assert(mmvec_push_val(v, (int64_t)i) != NULL);
	for (size_t i = 0; i < n; i++)
		child_assert(*(int64_t *)mmvec_at(v, i) == (int64_t)i);
	child_assert(pretouch_threads() == 1);
	mmvec_free(v);
	mmvec_free(old);
}

START_TEST(fork_child_restarts)
{
	struct mmvec *v = vec_new_ok(8, 0, MMVEC_PRETOUCH);

	push_pattern(v, 4, 100000);
	in_child(child_uses_pretouch, v);
	push_pattern(v, 5, 100000);
	ck_assert_pattern(v, 0, 100000, 4, 0);
	ck_assert_pattern(v, 100000, 200000, 5, 0);
	mmvec_free(v);
}
END_TEST

/* ------------------------------------------------------------------------ */

/* Page faults cannot be counted as the library's: Valgrind and the
 * sanitizers fault in their shadow memory as the writer stores, and
 * mincore() does not work under qemu-user. */
static bool shadowed(void)
{
#if defined(TEST_ASAN) || defined(TEST_TSAN)
	return true;
#else
	return test_on_valgrind() || !test_residency_checkable();
#endif
}

Suite *test_suite(int argc, char **argv)
{
	Suite *s = suite_create("pretouch");
	TCase *tc;

	(void)argc;
	(void)argv;
	tc = test_case(s, "flags", setup, teardown, 30);
	test_add(tc, 1, flags_rejected, thread_start_fails,
		 thread_one_then_ends, free_and_shrink_while_serving,
		 pretouch_errors, NULL);
	/* the test helpers' fault plan is written without atomics while the
	 * thread reads it: a race TSan reports, harmless in the test */
#ifdef TEST_TSAN
	test_not_run("thread_commit_refused", "TSan: the fault plan the "
		     "thread reads is the test's plain data");
#else
	tcase_add_test(tc, thread_commit_refused);
#endif
	/* Valgrind and the sanitizers take page faults of their own (their
	 * shadow memory) as the writer stores */
	test_add_if(tc, !shadowed(), "under a checker with shadow memory",
		    pretouch_faults_ahead);
	test_add_if(tc, !shadowed(), "under a checker with shadow memory",
		    thread_faults_ahead);
	/* forks beside threads are flaky in the emulator; TSan does not
	 * start threads in the child of a multi-threaded fork() */
#ifdef TEST_TSAN
	test_not_run("fork_child_restarts", "TSan: no new threads after a "
		     "multi-threaded fork()");
#else
	test_add_unless_qemu(tc, "fork() beside threads is unreliable",
			     fork_child_restarts);
#endif

	tc = test_case(s, "file", file_setup, file_teardown, 60);
	test_add(tc, 1, open_flags_rejected, open_thread_start_fails,
		 file_not_extended, NULL);
	test_add_unless_qemu(tc, "fork() beside threads is unreliable",
			     pretouch_reader_and_child);
	return s;
}
