/*
 * SPDX-License-Identifier: MIT
 *
 * File-backed vectors when things go wrong: writers killed with SIGKILL at
 * random points, a writer restarted after a crash while readers still map
 * the file, power cuts (a loop-mounted ext4 image shut down with
 * FS_IOC_SHUTDOWN, as fstests does) after syncs, removals and shrinks, a
 * full file system that cannot allocate ahead, and every failure of the
 * writes that keep the header in order (through the OS layer's fault
 * hook). The power-cut tests need root and loop devices, and are left out
 * with the reason where they cannot run.
 */
#include "file-helpers.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "faults.h"

/* ------------------------------------------------------------------------ */
/* Crashes */

/* Reports each synced length to the parent, then keeps appending. */
static void crash_writer(int report, unsigned seed)
{
	struct mmvec *v;
	size_t len;

	if (mmvec_open(path, 8, 0, MMVEC_CREATE, &v) != 0)
		_exit(2);
	len = mmvec_len(v);
	srand(seed);
	for (;;) {
		size_t n = 1 + (size_t)rand() % 5000;
		uint64_t synced;

		switch (rand() % 3) {
		case 0:
			for (size_t k = 0; k < n; k++) {
				int64_t x = value(len + k);

				if (!mmvec_push(v, &x))
					_exit(3);
			}
			break;
		case 1: {
			int64_t *p = mmvec_extend(v, n);

			if (!p)
				_exit(3);
			for (size_t k = 0; k < n; k++)
				p[k] = value(len + k);
			break;
		}
		default:
			for (size_t k = 0; k < n; k++) {
				int64_t x = value(len + k);

				if (mmvec_append(v, &x, 1) != 0)
					_exit(3);
			}
		}
		len += n;
		if (rand() % 4 == 0) {
			if (mmvec_sync(v) != 0)
				_exit(4);
			synced = len;
			if (write(report, &synced, sizeof(synced)) != 8)
				_exit(5);
		}
	}
}

START_TEST(test_crash)
{
	bool slow = test_slow();
	unsigned rounds = slow ? 20 : 200;
	/* the window the kill falls in */
	long window_us = slow ? 200000 : 20000;
	size_t cap = (size_t)1 << 21;
	unsigned long killed_after_sync = 0;
	uint64_t total = 0;

	srand(12345);
	for (unsigned round = 0; round < rounds; round++) {
		uint64_t last = 0, got;
		struct mmvec *v;
		int pipefd[2], status;
		pid_t pid;
		size_t len;

		ck_assert_int_eq(pipe(pipefd), 0);
		pid = fork();
		ck_assert_int_ge(pid, 0);
		if (pid == 0) {
			close(pipefd[0]);
			crash_writer(pipefd[1], round);
		}
		close(pipefd[1]);
		/* after 0 to 3 syncs, at a random point of what follows */
		for (int k = rand() % 4; k > 0; k--)
			if (read(pipefd[0], &got, sizeof(got)) == sizeof(got))
				last = got;
		usleep((useconds_t)(rand() % window_us));
		ck_assert_int_eq(kill(pid, SIGKILL), 0);
		ck_assert_int_eq(waitpid(pid, &status, 0), pid);
		ck_assert_msg(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL,
			      "writer ended on its own: status %d", status);
		while (read(pipefd[0], &got, sizeof(got)) == sizeof(got))
			last = got;
		close(pipefd[0]);
		if (last)
			killed_after_sync++;

		/* no file: killed before the writer created it */
		if (access(path, F_OK) != 0)
			continue;
		/* MMVEC_CREATE: a kill in the middle of creating the file
		 * leaves it unfinished, and creating it again finishes it */
		v = open_ok(path, 8, 0, MMVEC_CREATE);
		len = mmvec_len(v);
		ck_assert_msg(len >= last, "round %u: reopened at %zu, synced %ju",
			      round, len, (uintmax_t)last);
		check_values(v, 0, len);
		total += len;
		/* keep the file small: start over now and then */
		if (len > cap) {
			ck_assert_int_eq(mmvec_resize(v, 0), 0);
			ck_assert_int_eq(mmvec_shrink_to_fit(v), 0);
		}
		mmvec_free(v);
	}
	printf("crash test: %u rounds, %lu killed after at least one sync, "
	       "%ju elements checked\n", rounds, killed_after_sync,
	       (uintmax_t)total);
	ck_assert_uint_gt(killed_after_sync, rounds / 2);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* A writer restarted while readers map the file */

static struct mmvec *stale_reader;

/* In a child, so that a SIGBUS shows as its status: every element below
 * the length the reader was told is still mapped and backed. */
static void read_below_told(void *arg)
{
	const struct mmvec *r = stale_reader;
	size_t told = (size_t)(uintptr_t)arg;
	volatile uint64_t sink = 0;

	for (size_t i = 0; i < told; i++)
		sink += *(const uint64_t *)((const char *)mmvec_data(r) + i * 8);
	(void)sink;
	child_assert(mmvec_len(r) <= told);
}

static void crashing_writer(void *arg)
{
	struct mmvec *w;

	(void)arg;
	child_assert(mmvec_open(path, 8, 0, MMVEC_CREATE, &w) == 0);
	for (size_t i = 0; i < 100000; i++) {
		int64_t x = value(i);

		child_assert(mmvec_push(w, &x) != NULL);
		if (i + 1 == 1000)
			child_assert(mmvec_sync(w) == 0);
	}
	raise(SIGKILL);
}

/* A writer killed at 100,000 elements (1,000 synced) is restarted, appends
 * 10 and frees, while a reader that was told 100,000 still maps the
 * file: the restarted writer never shortens the file below what it found,
 * so the reader reads all it was told without a fault (the elements past
 * the synced length are no longer the vector's, as after any crash). */
START_TEST(test_restart_under_reader)
{
	struct mmvec *r, *w;
	int status;

	status = child_status(crashing_writer, NULL);
	ck_assert_msg(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL,
		      "writer status %d", status);
	r = open_ok(path, 8, 0, MMVEC_RDONLY);
	ck_assert_uint_eq(mmvec_len(r), 100000);
	check_values(r, 0, 100000);

	w = open_ok(path, 8, 0, 0);
	ck_assert_uint_eq(mmvec_len(w), 1000);
	push_values(w, 1000, 1010);
	mmvec_free(w);
	ck_assert_uint_eq(mmvec_len(r), 1010);
	check_values(r, 0, 1010);
	stale_reader = r;
	status = child_status(read_below_told, (void *)(uintptr_t)100000);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
		      "reader status %d", status);
	mmvec_free(r);

	/* mmvec_shrink_to_fit() is the call that shortens it */
	w = open_ok(path, 8, 0, 0);
	ck_assert_uint_ge(file_size(path), HEADER + 100000 * 8);
	ck_assert_int_eq(mmvec_shrink_to_fit(w), 0);
	ck_assert_uint_eq(file_size(path),
			  HEADER + round_up(1010 * 8, mmvec_page_size()));
	mmvec_free(w);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Power cuts */

static struct loop_fs fs;
static char fs_path[160];

static void setup_fs(void)
{
	setup_dir();
	/* commit=1: the journal reaches the disk within a second, the dirty
	 * pages of a mapping after 30 s (vm.dirty_expire_centisecs) */
	loop_fs_make(&fs, 256, "", "commit=1");
	snprintf(fs_path, sizeof(fs_path), "%s/vec", fs.mnt);
}

static void teardown_fs(void)
{
	loop_fs_remove(&fs);
	teardown_dir();
}

/* Runs fn in a child that keeps its vectors open (it reports through
 * `ready` and waits to be killed), waits `wait_s` seconds, cuts the
 * power, kills the child, and mounts the file system again. */
static void power_cut_after(void (*fn)(void), unsigned wait_s)
{
	int ready[2], status;
	char c;
	pid_t pid;

	ck_assert_int_eq(pipe(ready), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		close(ready[0]);
		fn();
		if (write(ready[1], "r", 1) != 1)
			_exit(2);
		for (;;)
			pause();
	}
	close(ready[1]);
	ck_assert_msg(read(ready[0], &c, 1) == 1, "the child failed");
	close(ready[0]);
	if (wait_s)
		sleep(wait_s);
	loop_fs_power_cut(&fs);
	ck_assert_int_eq(kill(pid, SIGKILL), 0);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert_msg(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL,
		      "child status %d", status);
	loop_fs_unmount(&fs);
	loop_fs_mount(&fs);
}

static struct mmvec *cut_open(void)
{
	struct mmvec *v;

	child_assert(mmvec_open(fs_path, 8, 0, MMVEC_CREATE, &v) == 0);
	return v;
}

static void cut_push(struct mmvec *v, size_t from, size_t to)
{
	for (size_t i = from; i < to; i++) {
		int64_t x = value(i);

		child_assert(mmvec_push(v, &x) != NULL);
	}
}

/* Synced elements survive, unsynced ones may not. */
static void synced_then_more(void)
{
	struct mmvec *v = cut_open();

	cut_push(v, 0, 500000);
	child_assert(mmvec_sync(v) == 0);
	cut_push(v, 500000, 700000);
}

START_TEST(test_power_cut_keeps_synced)
{
	struct mmvec *v;
	size_t len;

	power_cut_after(synced_then_more, 0);
	v = open_ok(fs_path, 8, 0, 0);
	len = mmvec_len(v);
	ck_assert_uint_ge(len, 500000);
	ck_assert_uint_le(len, 700000);
	check_values(v, 0, len);
	mmvec_free(v);
}
END_TEST

/* Removed elements never come back: the synced length goes to disk before
 * the call that lowers the length returns. */
static void synced_then_resized(void)
{
	struct mmvec *v = cut_open();

	cut_push(v, 0, 1000000);
	child_assert(mmvec_sync(v) == 0);
	child_assert(mmvec_resize(v, 10) == 0);
}

START_TEST(test_power_cut_after_removal)
{
	struct mmvec *v;

	power_cut_after(synced_then_resized, 0);
	v = open_ok(fs_path, 8, 0, 0);
	ck_assert_uint_eq(mmvec_len(v), 10);
	check_values(v, 0, 10);
	mmvec_free(v);
}
END_TEST

/* The header goes to disk before the file is shortened: a power cut after
 * the new size reached the disk (the journal, within a second) but before
 * the page cache would have written the header (30 s) still opens. */
static void synced_then_shrunk(void)
{
	struct mmvec *v = cut_open();

	cut_push(v, 0, 1000000);
	child_assert(mmvec_sync(v) == 0);
	child_assert(mmvec_resize(v, 10) == 0);
	child_assert(mmvec_shrink_to_fit(v) == 0);
}

START_TEST(test_power_cut_after_shrink)
{
	struct mmvec *v;

	power_cut_after(synced_then_shrunk, 3);
	v = open_ok(fs_path, 8, 0, 0);
	ck_assert_uint_eq(mmvec_len(v), 10);
	check_values(v, 0, 10);
	mmvec_free(v);
}
END_TEST

/* A clean close is a sync: all of it survives. */
static void closed(void)
{
	struct mmvec *v = cut_open();

	cut_push(v, 0, 300000);
	mmvec_free(v);
}

START_TEST(test_power_cut_after_close)
{
	struct mmvec *v;

	power_cut_after(closed, 0);
	v = open_ok(fs_path, 8, 0, 0);
	ck_assert_uint_eq(mmvec_len(v), 300000);
	check_values(v, 0, 300000);
	mmvec_free(v);
}
END_TEST

/* A new file is on disk, with its name, when mmvec_open() returns. */
static void created(void)
{
	struct mmvec *v = cut_open();

	(void)v;
}

START_TEST(test_power_cut_after_create)
{
	struct mmvec *v;

	power_cut_after(created, 0);
	v = open_ok(fs_path, 8, 0, 0);
	ck_assert_uint_eq(mmvec_len(v), 0);
	mmvec_free(v);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* A file system that cannot allocate ahead */

/* ext4 without extents has no fallocate(); glibc's posix_fallocate()
 * writes a byte per block instead, except on an O_APPEND descriptor.
 * Growing until the disk is full must end in -ENOSPC from the growing
 * call, never in SIGBUS, both ways. */
static void fill_small_fs(void *arg)
{
	const char *p = arg;
	struct mmvec *v;
	int64_t chunk[4096] = { 0 };
	size_t len;
	int rc;

	if (p[strlen(p) - 1] == 'a') {
		/* through an O_APPEND descriptor, which glibc's emulation
		 * refuses (EBADF): the file gets its size alone, and
		 * pre-faulting finds the full disk */
		int fd = open(p, O_RDWR | O_CREAT | O_APPEND, 0600);

		child_assert(fd >= 0);
		child_assert(mmvec_open_fd(fd, 8, 0, MMVEC_CREATE, &v) == 0);
		close(fd);
	} else {
		child_assert(mmvec_open(p, 8, 0, MMVEC_CREATE, &v) == 0);
	}
	do
		rc = mmvec_append(v, chunk, ARRAY_LENGTH(chunk));
	while (rc == 0);
	child_assert(rc == -ENOSPC);
	len = mmvec_len(v);
	while (mmvec_push(v, NULL))
		;
	child_assert(errno == ENOSPC);
	child_assert(mmvec_sync(v) == 0);
	child_assert(mmvec_len(v) >= len);
	printf("full at %zu elements\n", mmvec_len(v));
	mmvec_free(v);
}

/* A 16 MiB ext4 image without extents, filled through the file name
 * `name` (ending in 'a': through an O_APPEND descriptor). */
static void fill_no_extents(const char *name)
{
	struct loop_fs small;
	char p[160];
	int status;

	loop_fs_make(&small, 16, "-O ^extent,^64bit", "");
	snprintf(p, sizeof(p), "%s/%s", small.mnt, name);
	status = child_status(fill_small_fs, p);
	loop_fs_remove(&small);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
		      "writer status %d (a signal: %d)", status,
		      WIFSIGNALED(status) ? WTERMSIG(status) : 0);
}

START_TEST(test_no_fallocate_full_disk)
{
	fill_no_extents("vec");
}
END_TEST

START_TEST(test_no_fallocate_append)
{
	fill_no_extents("veca");
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Failed header writes change nothing */

static void fail_syncs(void)
{
	faults_plan(1u << MMVEC__OS_FILE_SYNC, FAULT_ALL, 0, -EIO);
}

START_TEST(test_header_write_fails)
{
	struct mmvec *v = open_ok(path, 8, 0, MMVEC_CREATE);
	struct vec_snapshot s;
	struct file_copy c;
	int64_t out = 0;

	push_values(v, 0, 100000);
	ck_assert_int_eq(mmvec_sync(v), 0);
	vec_snapshot_take(&s, v);
	file_copy_take(&c, path);

	/* every call that lowers the length below the synced one */
	fail_syncs();
	ck_assert_int_eq(mmvec_resize(v, 10), -EIO);
	ck_assert_int_eq(mmvec_pop(v, &out), -EIO);
	ck_assert_int_eq(out, 0);
	ck_assert_int_eq(mmvec_erase(v, 0, 5), -EIO);
	ck_assert_int_eq(mmvec_swap_remove(v, 7), -EIO);
	mmvec_clear(v);
	ck_assert_int_eq(mmvec_sync(v), -EIO);
	faults_stop();
	ck_assert_vec_unchanged(v, &s);
	ck_assert_file_unchanged(&c, path);

	/* a shrink whose header write fails does not shorten the file */
	push_values(v, 100000, 100001);
	ck_assert_int_eq(mmvec_pop(v, NULL), 0);
	ck_assert_int_eq(mmvec_sync(v), 0);
	fail_syncs();
	ck_assert_int_eq(mmvec_resize(v, 10), -EIO);
	faults_stop();
	ck_assert_int_eq(mmvec_resize(v, 10), 0);
	ck_assert_uint_eq(read_u64(path, OFF_SYNCED_LEN), 10);
	{
		size_t size = file_size(path), cap = mmvec_capacity(v);

		fail_syncs();
		ck_assert_int_eq(mmvec_shrink_to_fit(v), -EIO);
		faults_stop();
		ck_assert_uint_eq(file_size(path), size);
		ck_assert_uint_eq(mmvec_capacity(v), cap);
		/* nor does a close whose sync fails */
		fail_syncs();
		mmvec_free(v);
		faults_stop();
		ck_assert_uint_eq(file_size(path), size);
	}
	vec_snapshot_release(&s);
	free(c.bytes);
	v = open_ok(path, 8, 0, 0);
	ck_assert_uint_eq(mmvec_len(v), 10);
	check_values(v, 0, 10);
	mmvec_free(v);
}
END_TEST

/* A failed populate (a full disk found while pre-faulting) fails the
 * growing call with the length and elements unchanged. */
START_TEST(test_populate_fails)
{
	struct mmvec *v = open_ok(path, 8, 0, MMVEC_CREATE);
	int64_t x = 5;
	size_t len;

	push_values(v, 0, 1000);
	faults_plan(1u << MMVEC__OS_FILE_POPULATE, FAULT_ALL, 0, -ENOSPC);
	errno = 0;
	while (mmvec_push(v, &x))
		;
	ck_assert_int_eq(errno, ENOSPC);
	len = mmvec_len(v);
	ck_assert_ptr_null(mmvec_extend(v, 1 << 20));
	ck_assert_int_eq(errno, ENOSPC);
	ck_assert_int_eq(mmvec_resize(v, len + (1 << 20)), -ENOSPC);
	faults_stop();
	ck_assert_uint_eq(mmvec_len(v), len);
	check_values(v, 0, 1000);
	ck_assert_ptr_nonnull(mmvec_extend(v, 1 << 20));
	mmvec_free(v);
}
END_TEST

/* ------------------------------------------------------------------------ */

Suite *test_suite(int argc, char **argv)
{
	Suite *s = suite_create("file-crash");
	TCase *tc = test_case(s, "kill", setup_dir, teardown_dir, 600);
	TCase *cut = test_case(s, "power-cut", setup_fs, teardown_fs, 300);
	const char *why = loop_fs_unavailable();

	(void)argc;
	(void)argv;
	test_add(tc, 1, test_crash, test_restart_under_reader,
		 test_header_write_fails, test_populate_fails, NULL);
	test_add_if(tc, !why, why ? why : "", test_no_fallocate_full_disk);
	/* where nothing allocates ahead, only MADV_POPULATE_WRITE finds a
	 * full disk before a store would (a documented limit elsewhere) */
	test_add_if(tc, !why && !MMVEC_PORTABLE,
		    why ? why : "the portable path has no MADV_POPULATE_WRITE",
		    test_no_fallocate_append);
	test_add_if(cut, !why, why ? why : "", test_power_cut_keeps_synced);
	test_add_if(cut, !why, why ? why : "", test_power_cut_after_removal);
	test_add_if(cut, !why, why ? why : "", test_power_cut_after_shrink);
	test_add_if(cut, !why, why ? why : "", test_power_cut_after_close);
	test_add_if(cut, !why, why ? why : "", test_power_cut_after_create);
	return s;
}
