/*
 * SPDX-License-Identifier: MIT
 *
 * File-backed vectors and processes that race each other: readers that
 * follow a writer in other processes (over a file and over a memfd),
 * readers that open a file while its writer grows it, and writers that
 * create the same missing file at once.
 */
#include "file-helpers.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

/* ------------------------------------------------------------------------ */
/* Readers in other processes */

/* A reader process: the length it sees never goes down and the elements
 * below it are all there, until it reaches n. Exit status 0 if so. It is
 * forked before the writer opens the vector (a child must not inherit
 * vectors it cannot free), opens the file once told through `go`, and says
 * so through `ready`. */
static void follow_child(int fd, size_t n, int go, int ready)
{
	struct mmvec *r;
	size_t seen = 0, rounds = 0;
	void *data;
	char c;
	int rc;

	if (read(go, &c, 1) != 1)
		_exit(2);
	rc = fd >= 0 ? mmvec_open_fd(fd, 8, 0, MMVEC_RDONLY, &r) :
		       mmvec_open(path, 8, 0, MMVEC_RDONLY, &r);
	if (rc) {
		fprintf(stderr, "reader: open: %d\n", rc);
		_exit(2);
	}
	if (write(ready, "r", 1) != 1)
		_exit(2);
	data = mmvec_data(r);
	while (seen < n) {
		size_t len = mmvec_len(r);

		if (len < seen) {
			fprintf(stderr, "reader: length went from %zu to %zu\n",
				seen, len);
			_exit(3);
		}
		for (size_t i = seen; i < len; i++) {
			const int64_t *p = mmvec_at(r, i);

			if (!p || *p != value(i)) {
				fprintf(stderr, "reader: element %zu wrong\n", i);
				_exit(4);
			}
		}
		if (len > seen)
			rounds++;
		/* tell the writer, waiting at half, that a part was seen */
		if (seen == 0 && len > 0 && len < n && write(ready, "p", 1) != 1)
			_exit(2);
		seen = len;
		if (mmvec_data(r) != data)
			_exit(5);
	}
	mmvec_free(r);
	/* it saw the length grow, not just the final one */
	if (rounds < 2) {
		fprintf(stderr, "reader: saw only %zu lengths\n", rounds);
		_exit(6);
	}
	_exit(0);
}

struct follower {
	pid_t pid;
	int go, ready;
};

static void follower_start(struct follower *f, int fd, size_t n)
{
	int go[2], ready[2];

	ck_assert_int_eq(pipe(go), 0);
	ck_assert_int_eq(pipe(ready), 0);
	f->pid = fork();
	ck_assert_int_ge(f->pid, 0);
	if (f->pid == 0) {
		close(go[1]);
		close(ready[0]);
		follow_child(fd, n, go[0], ready[1]);
	}
	close(go[0]);
	close(ready[1]);
	f->go = go[1];
	f->ready = ready[0];
}

/* Lets the reader open the (initialised) vector file, then writes n
 * elements, one push at a time with appends of 300 in between, while it
 * follows. */
static void write_while_reading(struct follower *f, struct mmvec *w, size_t n)
{
	int status;
	char c;

	ck_assert_int_eq(write(f->go, "g", 1), 1);
	ck_assert_int_eq(read(f->ready, &c, 1), 1);
	for (size_t i = 0, waited = 0; i < n;) {
		size_t batch = i % 3 ? 1 : 300;

		/* the second half only once the reader has seen part of the
		 * first, so that it sees the length grow on any scheduler */
		if (!waited && i >= n / 2) {
			ck_assert_int_eq(read(f->ready, &c, 1), 1);
			waited = 1;
		}
		if (batch > n - i)
			batch = n - i;
		if (batch == 1) {
			push_values(w, i, i + 1);
		} else {
			int64_t buf[300];

			for (size_t k = 0; k < batch; k++)
				buf[k] = value(i + k);
			ck_assert_int_eq(mmvec_append(w, buf, batch), 0);
		}
		i += batch;
	}
	ck_assert_int_eq(waitpid(f->pid, &status, 0), f->pid);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
		      "reader process failed: status %d", status);
	close(f->go);
	close(f->ready);
}

START_TEST(test_reader_process)
{
	size_t n = test_slow() ? 50000 : 2000000;
	struct follower f;
	struct mmvec *w;

	follower_start(&f, -1, n);
	w = open_ok(path, 8, 0, MMVEC_CREATE);
	write_while_reading(&f, w, n);
	mmvec_free(w);
}
END_TEST

START_TEST(test_memfd)
{
	size_t n = test_slow() ? 50000 : 1000000;
	struct follower f;
	struct mmvec *w, *r;
	int fd = memfd_create("mmvec-test", MFD_CLOEXEC);

	ck_assert_int_ge(fd, 0);
	follower_start(&f, fd, n);
	ck_assert_int_eq(mmvec_open_fd(fd, 8, 0, MMVEC_CREATE, &w), 0);
	write_while_reading(&f, w, n);
	ck_assert_int_eq(mmvec_sync(w), 0);
	mmvec_free(w);
	/* the memfd keeps the vector after the writer is gone */
	ck_assert_int_eq(mmvec_open_fd(fd, 8, 0, MMVEC_RDONLY, &r), 0);
	ck_assert_uint_eq(mmvec_len(r), n);
	check_values(r, 0, n);
	mmvec_free(r);
	close(fd);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Creating the same file at once */

#define CREATE_APPEND 1000
/* Explicit maxima keep the reservations small: every round makes two
 * processes, and qemu-user accounts each page of a default reservation. */
#define CREATE_MAX (1 << 16)

/* One of two creating writers: waits for `go`, opens path with
 * MMVEC_CREATE, appends CREATE_APPEND elements if it got the writer, and
 * reports the result of the open through `report`. */
static void creator(int go, int report)
{
	struct mmvec *v;
	char c;
	int rc;

	if (read(go, &c, 1) != 1)
		_exit(2);
	rc = mmvec_open(path, 8, CREATE_MAX, MMVEC_CREATE, &v);
	if (rc == 0) {
		size_t len = mmvec_len(v);

		for (size_t i = len; i < len + CREATE_APPEND; i++) {
			int64_t x = value(i);

			if (!mmvec_push(v, &x))
				_exit(3);
		}
		mmvec_free(v);
	}
	if (write(report, &rc, sizeof(rc)) != sizeof(rc))
		_exit(2);
	_exit(0);
}

/* Two processes create the missing file at once, many rounds. Each gets
 * the writer (one after the other) or -EBUSY (the other one is writing);
 * afterwards the file is there with every element a writer appended. */
START_TEST(test_create_race)
{
	unsigned rounds = test_slow() ? 100 : 1000;
	unsigned busy = 0;

	for (unsigned round = 0; round < rounds; round++) {
		int go[2], report[2], status, rc[2];
		pid_t pid[2];
		size_t writers = 0;
		struct mmvec *r;

		unlink(path);
		ck_assert_int_eq(pipe(go), 0);
		ck_assert_int_eq(pipe(report), 0);
		for (int k = 0; k < 2; k++) {
			pid[k] = fork();
			ck_assert_int_ge(pid[k], 0);
			if (pid[k] == 0) {
				close(go[1]);
				close(report[0]);
				creator(go[0], report[1]);
			}
		}
		close(go[0]);
		close(report[1]);
		ck_assert_int_eq(write(go[1], "gg", 2), 2);
		for (int k = 0; k < 2; k++) {
			ck_assert_int_eq(waitpid(pid[k], &status, 0), pid[k]);
			ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
				      "round %u: creator status %d", round,
				      status);
			ck_assert_int_eq(read(report[0], &rc[k], sizeof(rc[k])),
					 (ssize_t)sizeof(rc[k]));
			ck_assert_msg(rc[k] == 0 || rc[k] == -EBUSY,
				      "round %u: open: %d", round, rc[k]);
			writers += rc[k] == 0;
			busy += rc[k] == -EBUSY;
		}
		close(go[1]);
		close(report[0]);
		ck_assert_uint_ge(writers, 1);
		ck_assert_msg(access(path, F_OK) == 0, "round %u: the file is gone",
			      round);
		r = open_ok(path, 8, 0, MMVEC_RDONLY);
		ck_assert_uint_eq(mmvec_len(r), writers * CREATE_APPEND);
		check_values(r, 0, writers * CREATE_APPEND);
		mmvec_free(r);
	}
	printf("creation race: %u rounds, %u opens found the other writer\n",
	       rounds, busy);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Opening while the writer grows */

/* Creates path anew and appends n elements 512 at a time, shortening the
 * file to them after each append (mmvec_shrink_to_fit(), which keeps every
 * element), so that every append grows the file first: the moment a
 * reader that reads the size before the header gets a length past it.
 * Again and again until `stop` is readable. Says through `ready` when the
 * first file is there. */
static void growing_writer(int stop, int ready, size_t n)
{
	static int64_t chunk[512];

	for (bool first = true;; first = false) {
		struct mmvec *w;
		char c;

		if (read(stop, &c, 1) == 1)
			_exit(0);
		unlink(path);
		if (mmvec_open(path, 8, n, MMVEC_CREATE, &w) != 0)
			_exit(2);
		if (first && write(ready, "r", 1) != 1)
			_exit(2);
		for (size_t i = 0; i < n; i += ARRAY_LENGTH(chunk)) {
			for (size_t k = 0; k < ARRAY_LENGTH(chunk); k++)
				chunk[k] = value(i + k);
			if (mmvec_append(w, chunk, ARRAY_LENGTH(chunk)) != 0 ||
			    mmvec_shrink_to_fit(w) != 0)
				_exit(3);
		}
		mmvec_free(w);
	}
}

/* A reader opening the file while the writer grows it gets the vector
 * (or, between two of the writer's files, no file): never -EBADMSG. */
START_TEST(test_open_while_growing)
{
	unsigned opens = test_slow() ? 300 : 3000, ok = 0;
	int stop[2], ready[2], status;
	pid_t pid;
	char c;

	ck_assert_int_eq(pipe(stop), 0);
	ck_assert_int_eq(pipe(ready), 0);
	ck_assert_int_eq(fcntl(stop[0], F_SETFL, O_NONBLOCK), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		close(stop[1]);
		close(ready[0]);
		growing_writer(stop[0], ready[1], 512 * 200);
	}
	close(stop[0]);
	close(ready[1]);
	ck_assert_int_eq(read(ready[0], &c, 1), 1);
	close(ready[0]);
	for (unsigned k = 0; k < opens; k++) {
		struct mmvec *r;
		int rc = mmvec_open(path, 8, 0, MMVEC_RDONLY, &r);

		ck_assert_msg(rc == 0 || rc == -ENOENT, "open %u: %d", k, rc);
		if (rc == 0) {
			size_t len = mmvec_len(r);

			if (len)
				check_values(r, len - 1, len);
			mmvec_free(r);
			ok++;
		}
	}
	ck_assert_int_eq(write(stop[1], "s", 1), 1);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
		      "writer status %d", status);
	close(stop[1]);
	ck_assert_uint_gt(ok, 0);
}
END_TEST

/* ------------------------------------------------------------------------ */

Suite *test_suite(int argc, char **argv)
{
	Suite *s = suite_create("file-race");
	TCase *tc = test_case(s, "file-race", setup_dir, teardown_dir, 600);

	(void)argc;
	(void)argv;
	test_add(tc, 1, test_reader_process, test_memfd, test_create_race,
		 test_open_while_growing, NULL);
	return s;
}
