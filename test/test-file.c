/*
 * SPDX-License-Identifier: MIT
 *
 * File-backed vectors: mmvec_open(), mmvec_open_fd() and mmvec_sync().
 * Every error with its exact code and the file unchanged, persistence, the
 * writer's lock, readers in other processes, memfd sharing, a full file
 * system and RLIMIT_FSIZE, and a writer killed with SIGKILL at random
 * points, many rounds.
 */
#include "runner.h"

#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* The format's header size (doc/file-format.md) */
#define HEADER ((size_t)64 << 10)

/* The header's fields, by byte offset (doc/file-format.md) */
#define OFF_MAGIC 0
#define OFF_VERSION 8
#define OFF_BYTE_ORDER 12
#define OFF_HEADER_SIZE 16
#define OFF_ELEM_SIZE 24
#define OFF_MAX_LEN 32
#define OFF_LIVE_LEN 40
#define OFF_SYNCED_LEN 48
#define OFF_FEATURES 56

/* ------------------------------------------------------------------------ */
/* Helpers */

/* A fresh directory per test, removed with what is in it at the end. */
static char dir[64];
static char path[128];

static void setup_dir(void)
{
	strcpy(dir, "/tmp/mmvec-test-file-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/vec", dir);
}

static void teardown_dir(void)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (dir[0] && system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", dir);
}

/* The value element i of the tests' int64 vectors holds. */
static int64_t value(uint64_t i)
{
	return (int64_t)(i * 0x9e3779b97f4a7c15ull ^ (i >> 7));
}

static struct mmvec *open_ok(const char *p, size_t es, size_t max_len,
			     unsigned flags)
{
	struct mmvec *v = NULL;
	int rc = mmvec_open(p, es, max_len, flags, &v);

	ck_assert_int_eq(rc, 0);
	ck_assert_ptr_nonnull(v);
	return v;
}

static void push_values(struct mmvec *v, size_t from, size_t to)
{
	for (size_t i = from; i < to; i++) {
		int64_t x = value(i);
		int64_t *p = mmvec_push(v, &x);

		fast_assert_msg(p != NULL, "push %zu: %s", i, strerror(errno));
	}
}

static void check_values(const struct mmvec *v, size_t from, size_t to)
{
	for (size_t i = from; i < to; i++) {
		const int64_t *p = mmvec_at(v, i);

		fast_assert_msg(p != NULL, "element %zu missing", i);
		fast_assert_msg(*p == value(i), "element %zu: %jd, not %jd", i,
				(intmax_t)*p, (intmax_t)value(i));
	}
}

/* A file's whole content, to show that a call did not change it. */
struct file_copy {
	unsigned char *bytes;
	size_t size;
	bool exists;
};

static void file_copy_take(struct file_copy *c, const char *p)
{
	struct stat st;
	int fd;

	memset(c, 0, sizeof(*c));
	if (stat(p, &st) != 0)
		return;
	c->exists = true;
	if (!S_ISREG(st.st_mode))
		return;
	c->size = (size_t)st.st_size;
	c->bytes = malloc(c->size + 1);
	ck_assert_ptr_nonnull(c->bytes);
	fd = open(p, O_RDONLY);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(pread(fd, c->bytes, c->size, 0), (ssize_t)c->size);
	close(fd);
}

static void ck_assert_file_unchanged(const struct file_copy *c, const char *p)
{
	struct file_copy now;

	file_copy_take(&now, p);
	ck_assert_int_eq(now.exists, c->exists);
	ck_assert_uint_eq(now.size, c->size);
	ck_assert_msg(c->size == 0 || memcmp(now.bytes, c->bytes, c->size) == 0,
		      "file contents changed");
	free(now.bytes);
}

static size_t file_size(const char *p)
{
	struct stat st;

	ck_assert_int_eq(stat(p, &st), 0);
	return (size_t)st.st_size;
}

static void write_at(const char *p, size_t off, const void *buf, size_t n)
{
	int fd = open(p, O_WRONLY);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(pwrite(fd, buf, n, (off_t)off), (ssize_t)n);
	close(fd);
}

static uint64_t read_u64(const char *p, size_t off)
{
	uint64_t x;
	int fd = open(p, O_RDONLY);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(pread(fd, &x, sizeof(x), (off_t)off), 8);
	close(fd);
	return x;
}

/* A vector file of n int64 elements, written and closed. */
static void make_file(const char *p, size_t n, size_t max_len)
{
	struct mmvec *v = open_ok(p, 8, max_len, MMVEC_CREATE);

	push_values(v, 0, n);
	mmvec_free(v);
}

/* Opening must fail with rc as writer and as reader, out untouched and the
 * file unchanged. */
static void ck_open_fails(const char *p, size_t es, size_t max_len,
			  unsigned flags, int rc)
{
	struct file_copy c;
	struct mmvec *v = BAD_PTR;

	file_copy_take(&c, p);
	ck_assert_int_eq(mmvec_open(p, es, max_len, flags, &v), rc);
	ck_assert_ptr_eq(v, BAD_PTR);
	ck_assert_file_unchanged(&c, p);
	free(c.bytes);
}

/* In a child process: Check's assertions would report to the runner (or,
 * without fork mode, jump back into it), so children print and exit. */
#define child_assert(expr_)							\
	do {									\
		if (!(expr_)) {							\
			fprintf(stderr, "%s:%d: child: '%s' failed\n",	\
				__FILE__, __LINE__, #expr_);			\
			_exit(10);						\
		}								\
	} while (0)

/* Runs fn in a child process, which must exit 0. */
static void in_child(void (*fn)(void *), void *arg)
{
	int status;
	pid_t pid = fork();

	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		fn(arg);
		_exit(0);
	}
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
		      "child status %d", status);
}

/* ------------------------------------------------------------------------ */
/* Arguments */

START_TEST(test_open_args)
{
	struct mmvec *v = BAD_PTR;

	ck_assert_int_eq(mmvec_open(NULL, 8, 0, MMVEC_CREATE, &v), -EINVAL);
	ck_open_fails(path, 8, 0, MMVEC_CREATE | 0x100, -EINVAL);
	ck_assert_int_eq(mmvec_open(path, 8, 0, MMVEC_CREATE, NULL), -EINVAL);
	ck_open_fails(path, 0, 0, MMVEC_CREATE, -EINVAL);
	ck_open_fails(path, 8, 0, MMVEC_CREATE | MMVEC_RDONLY, -EINVAL);
	ck_open_fails(path, 8, 0, MMVEC_CREATE | MMVEC_HUGEPAGES, -EINVAL);
	ck_open_fails(path, 8, 0,
		      MMVEC_CREATE | MMVEC_HUGEPAGES | MMVEC_NO_HUGEPAGES,
		      -EINVAL);
	ck_open_fails(path, 8, 0, 1u << 31, -EINVAL);
	ck_open_fails(path, SIZE_MAX, 2, MMVEC_CREATE, -EOVERFLOW);
	ck_open_fails(path, 8, SIZE_MAX / 8 + 1, MMVEC_CREATE, -EOVERFLOW);
	/* EINVAL before EOVERFLOW */
	ck_open_fails(path, SIZE_MAX, 2, MMVEC_CREATE | 0x100, -EINVAL);
	/* a missing file without MMVEC_CREATE, as writer or reader */
	ck_open_fails(path, 8, 0, 0, -ENOENT);
	ck_open_fails(path, 8, 0, MMVEC_RDONLY, -ENOENT);
	/* a directory: open(2) refuses a writer, a reader finds no file */
	ck_open_fails(dir, 8, 0, MMVEC_CREATE, -EISDIR);
	ck_open_fails(dir, 8, 0, MMVEC_RDONLY, -EINVAL);
	/* the flags of files are not vector flags */
	ck_assert_int_eq(mmvec_new(8, 0, MMVEC_CREATE, &v), -EINVAL);
	ck_assert_int_eq(mmvec_new(8, 0, MMVEC_RDONLY, &v), -EINVAL);
	ck_assert_ptr_eq(v, BAD_PTR);
}
END_TEST

START_TEST(test_open_fd_args)
{
	struct mmvec *v = BAD_PTR;
	int pipefd[2], fd, dfd, rofd;

	fd = open(path, O_RDWR | O_CREAT, 0600);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(mmvec_open_fd(-1, 8, 0, MMVEC_CREATE, &v), -EBADF);
	/* EINVAL before EBADF, EBADF before EOVERFLOW */
	ck_assert_int_eq(mmvec_open_fd(-1, 0, 0, MMVEC_CREATE, &v), -EINVAL);
	ck_assert_int_eq(mmvec_open_fd(-1, SIZE_MAX, 2, 0, &v), -EBADF);
	ck_assert_int_eq(mmvec_open_fd(fd, SIZE_MAX, 2, 0, &v), -EOVERFLOW);
	ck_assert_int_eq(mmvec_open_fd(fd, 8, 0, MMVEC_CREATE, NULL), -EINVAL);
	ck_assert_int_eq(mmvec_open_fd(fd, 8, 0, MMVEC_CREATE | MMVEC_RDONLY,
				       &v), -EINVAL);
	/* a closed descriptor */
	ck_assert_int_eq(mmvec_open_fd(1000, 8, 0, MMVEC_CREATE, &v), -EBADF);
	/* not a regular file */
	ck_assert_int_eq(pipe(pipefd), 0);
	ck_assert_int_eq(mmvec_open_fd(pipefd[0], 8, 0, MMVEC_RDONLY, &v),
			 -EINVAL);
	ck_assert_int_eq(mmvec_open_fd(pipefd[1], 8, 0, MMVEC_CREATE, &v),
			 -EINVAL);
	close(pipefd[0]);
	close(pipefd[1]);
	dfd = open(dir, O_RDONLY | O_DIRECTORY);
	ck_assert_int_ge(dfd, 0);
	ck_assert_int_eq(mmvec_open_fd(dfd, 8, 0, MMVEC_RDONLY, &v), -EINVAL);
	close(dfd);
	/* a writer needs a descriptor open for writing */
	rofd = open(path, O_RDONLY);
	ck_assert_int_ge(rofd, 0);
	ck_assert_int_eq(mmvec_open_fd(rofd, 8, 0, MMVEC_CREATE, &v), -EBADF);
	/* an empty file without MMVEC_CREATE is no vector file */
	ck_assert_int_eq(mmvec_open_fd(fd, 8, 0, 0, &v), -EBADMSG);
	ck_assert_int_eq(mmvec_open_fd(rofd, 8, 0, MMVEC_RDONLY, &v), -EBADMSG);
	ck_assert_ptr_eq(v, BAD_PTR);
	ck_assert_uint_eq(file_size(path), 0);

	/* the descriptor is duplicated: the caller's stays open */
	ck_assert_int_eq(mmvec_open_fd(fd, 8, 0, MMVEC_CREATE, &v), 0);
	push_values(v, 0, 10);
	mmvec_free(v);
	ck_assert_int_eq(fcntl(fd, F_GETFD), 0);
	ck_assert_int_eq(mmvec_open_fd(rofd, 8, 0, MMVEC_RDONLY, &v), 0);
	ck_assert_uint_eq(mmvec_len(v), 10);
	check_values(v, 0, 10);
	mmvec_free(v);
	close(rofd);
	close(fd);
}
END_TEST

/* A failed open removes the file it created and empties the file it
 * initialised. */
START_TEST(test_open_failure_cleans_up)
{
	/* more address space than any process has (7/8 of all its
	 * addresses), yet a size that fits: -ENOMEM after the file was
	 * created and initialised */
	size_t huge = SIZE_MAX / 8 / 8 * 7;
	struct mmvec *v = BAD_PTR;
	int fd;

	ck_assert_int_eq(mmvec_open(path, 8, huge, MMVEC_CREATE, &v), -ENOMEM);
	ck_assert_ptr_eq(v, BAD_PTR);
	ck_assert_int_eq(access(path, F_OK), -1);
	ck_assert_int_eq(errno, ENOENT);

	fd = open(path, O_RDWR | O_CREAT, 0600);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(mmvec_open(path, 8, huge, MMVEC_CREATE, &v), -ENOMEM);
	ck_assert_int_eq(mmvec_open_fd(fd, 8, huge, MMVEC_CREATE, &v),
			 -ENOMEM);
	ck_assert_ptr_eq(v, BAD_PTR);
	ck_assert_uint_eq(file_size(path), 0);
	close(fd);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Bad files */

static void put_u32(const char *p, size_t off, uint32_t x)
{
	write_at(p, off, &x, sizeof(x));
}

static void put_u64(const char *p, size_t off, uint64_t x)
{
	write_at(p, off, &x, sizeof(x));
}

/* A file with one field changed must fail to open with rc, both ways (or
 * only as a reader). */
static void ck_damaged(size_t off, uint64_t val, size_t width, int rc,
		       bool reader_only)
{
	unlink(path);
	make_file(path, 1000, 0);
	if (width == 4)
		put_u32(path, off, (uint32_t)val);
	else
		put_u64(path, off, val);
	if (!reader_only) {
		ck_open_fails(path, 8, 0, 0, rc);
		ck_open_fails(path, 8, 0, MMVEC_CREATE, rc);
	}
	ck_open_fails(path, 8, 0, MMVEC_RDONLY, rc);
}

START_TEST(test_bad_files)
{
	uint32_t bom = 0x01020304;
	struct mmvec *v;
	int fd;

	ck_damaged(OFF_MAGIC, 0x4a4b4c4d, 4, -EBADMSG, false);
	ck_damaged(OFF_MAGIC + 4, 0, 4, -EBADMSG, false);
	ck_damaged(OFF_VERSION, 2, 4, -EBADMSG, false);
	ck_damaged(OFF_VERSION, 0, 4, -EBADMSG, false);
	/* the other byte order */
	ck_damaged(OFF_BYTE_ORDER, __builtin_bswap32(bom), 4, -EBADMSG, false);
	ck_damaged(OFF_HEADER_SIZE, 4096, 8, -EBADMSG, false);
	ck_damaged(OFF_FEATURES, 1, 8, -EBADMSG, false);
	ck_damaged(OFF_ELEM_SIZE, 0, 8, -EBADMSG, false);
	/* another element size or maximum */
	ck_damaged(OFF_ELEM_SIZE, 4, 8, -EINVAL, false);
	ck_damaged(OFF_MAX_LEN, 999, 8, -EBADMSG, false); /* below the lengths */
	/* lengths the file is too short for; a writer starts from the
	 * synced length and overwrites a live one past the end (which a
	 * machine crash can leave), a reader cannot */
	ck_damaged(OFF_LIVE_LEN, 1000000, 8, -EBADMSG, true);
	v = open_ok(path, 8, 0, 0);
	ck_assert_uint_eq(mmvec_len(v), 1000);
	ck_assert_uint_eq(read_u64(path, OFF_LIVE_LEN), 1000);
	mmvec_free(v);
	ck_damaged(OFF_SYNCED_LEN, 1000000, 8, -EBADMSG, false);
	ck_damaged(OFF_SYNCED_LEN, UINT64_MAX, 8, -EBADMSG, false);
	ck_damaged(OFF_LIVE_LEN, UINT64_MAX / 8 + 1, 8, -EBADMSG, false);

	/* shorter than its header says */
	unlink(path);
	make_file(path, 1000, 0);
	ck_assert_int_eq(truncate(path, (off_t)(HEADER + 999 * 8)), 0);
	ck_open_fails(path, 8, 0, 0, -EBADMSG);
	ck_open_fails(path, 8, 0, MMVEC_RDONLY, -EBADMSG);
	/* shorter than the header, and than its first bytes */
	ck_assert_int_eq(truncate(path, (off_t)(HEADER - 1)), 0);
	ck_open_fails(path, 8, 0, MMVEC_CREATE, -EBADMSG);
	ck_open_fails(path, 8, 0, MMVEC_RDONLY, -EBADMSG);
	ck_assert_int_eq(truncate(path, 10), 0);
	ck_open_fails(path, 8, 0, MMVEC_CREATE, -EBADMSG);
	ck_open_fails(path, 8, 0, MMVEC_RDONLY, -EBADMSG);

	/* not a vector file: text */
	unlink(path);
	fd = open(path, O_RDWR | O_CREAT, 0600);
	ck_assert_int_ge(fd, 0);
	for (int k = 0; k < 20000; k++)
		ck_assert_int_eq(write(fd, "hello world\n", 12), 12);
	close(fd);
	ck_open_fails(path, 8, 0, MMVEC_CREATE, -EBADMSG);
	ck_open_fails(path, 1, 0, MMVEC_RDONLY, -EBADMSG);

	/* an empty file without MMVEC_CREATE */
	ck_assert_int_eq(truncate(path, 0), 0);
	ck_open_fails(path, 8, 0, 0, -EBADMSG);
	ck_open_fails(path, 8, 0, MMVEC_RDONLY, -EBADMSG);

	/* the right file opens, with matching arguments only */
	unlink(path);
	make_file(path, 1000, 5000);
	ck_open_fails(path, 4, 0, 0, -EINVAL);
	ck_open_fails(path, 8, 4999, 0, -EINVAL);
	ck_open_fails(path, 8, 5001, MMVEC_RDONLY, -EINVAL);
	v = open_ok(path, 8, 5000, 0);
	ck_assert_uint_eq(mmvec_max_len(v), 5000);
	mmvec_free(v);
	v = open_ok(path, 8, 0, MMVEC_RDONLY);
	ck_assert_uint_eq(mmvec_max_len(v), 5000);
	ck_assert_uint_eq(mmvec_len(v), 1000);
	mmvec_free(v);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Persistence, lock, readers */

START_TEST(test_persistence)
{
	struct mmvec *v, *w;
	size_t n = test_slow() ? 20000 : 300000;
	void *data;

	v = open_ok(path, 8, 0, MMVEC_CREATE);
	ck_assert_uint_eq(mmvec_len(v), 0);
	ck_assert_uint_eq(read_u64(path, OFF_MAX_LEN), 0); /* the default */
	data = mmvec_data(v);
	push_values(v, 0, n / 2);
	ck_assert_ptr_eq(mmvec_data(v), data);
	ck_assert_int_eq(mmvec_append(v, mmvec_data(v), 0), 0);
	int64_t *more = mmvec_extend(v, n / 2);
	ck_assert_ptr_nonnull(more);
	for (size_t i = 0; i < n / 2; i++)
		more[i] = value(n / 2 + i);
	ck_assert_ptr_eq(mmvec_data(v), data);
	/* a second writer is refused, a reader is not */
	ck_assert_int_eq(mmvec_open(path, 8, 0, 0, &w), -EBUSY);
	ck_assert_int_eq(mmvec_open(path, 8, 0, MMVEC_CREATE, &w), -EBUSY);
	w = open_ok(path, 8, 0, MMVEC_RDONLY);
	ck_assert_uint_eq(mmvec_len(w), n);
	check_values(w, 0, n);
	mmvec_free(w);
	/* freed without a sync: everything is kept */
	mmvec_free(v);
	ck_assert_uint_eq(read_u64(path, OFF_SYNCED_LEN), n);
	ck_assert_uint_eq(file_size(path),
			  HEADER + round_up(n * 8, mmvec_page_size()));

	v = open_ok(path, 8, 0, 0);
	ck_assert_uint_eq(mmvec_len(v), n);
	check_values(v, 0, n);
	/* the writer's lock is checked before the file */
	ck_assert_int_eq(mmvec_open(path, 8, 100, 0, &w), -EBUSY);
	ck_assert_int_eq(mmvec_open(path, 8, 100, MMVEC_RDONLY, &w), -EINVAL);
	push_values(v, n, n + 10);
	ck_assert_int_eq(mmvec_sync(v), 0);
	ck_assert_uint_eq(read_u64(path, OFF_SYNCED_LEN), n + 10);
	ck_assert_uint_eq(read_u64(path, OFF_LIVE_LEN), n + 10);
	mmvec_free(v);
	v = open_ok(path, 8, 0, MMVEC_CREATE); /* never truncated */
	ck_assert_uint_eq(mmvec_len(v), n + 10);
	check_values(v, 0, n + 10);
	mmvec_free(v);
}
END_TEST

/* Removed elements do not come back, new ones read as zero, and the file
 * shrinks with mmvec_shrink_to_fit(). */
START_TEST(test_shrink_and_zero)
{
	size_t page = mmvec_page_size();
	struct mmvec *v;
	void *data;
	int64_t x;

	v = open_ok(path, 8, 1 << 20, MMVEC_CREATE);
	data = mmvec_data(v);
	push_values(v, 0, 100000);
	ck_assert_int_eq(mmvec_sync(v), 0);
	ck_assert_uint_ge(file_size(path), HEADER + 100000 * 8);
	ck_assert_int_eq(mmvec_resize(v, 10), 0);
	/* the synced length came down with the length */
	ck_assert_uint_eq(read_u64(path, OFF_SYNCED_LEN), 10);
	ck_assert_int_eq(mmvec_shrink_to_fit(v), 0);
	ck_assert_uint_eq(file_size(path), HEADER + page);
	ck_assert_ptr_eq(mmvec_data(v), data);
	/* new elements are zero, in the kept page and past it */
	ck_assert_int_eq(mmvec_resize(v, 20000), 0);
	for (size_t i = 10; i < 20000; i++)
		fast_assert(*(int64_t *)mmvec_at(v, i) == 0);
	check_values(v, 0, 10);
	ck_assert_ptr_eq(mmvec_data(v), data);
	ck_assert_int_eq(mmvec_pop(v, &x), 0);
	mmvec_clear(v);
	ck_assert_uint_eq(read_u64(path, OFF_SYNCED_LEN), 0);
	push_values(v, 0, 3);
	mmvec_free(v);
	ck_assert_uint_eq(file_size(path), HEADER + page);

	/* old bytes in the kept page, and in a file longer than its length
	 * (as after a crash), read as zero in new elements after a reopen */
	ck_assert_int_eq(truncate(path, (off_t)(HEADER + 64 * page)), 0);
	write_at(path, HEADER + 3 * 8, "\xff\xff\xff\xff\xff\xff\xff\xff", 8);
	write_at(path, HEADER + 40 * page, "\xff\xff\xff\xff\xff\xff\xff\xff", 8);
	v = open_ok(path, 8, 0, 0);
	ck_assert_uint_eq(mmvec_len(v), 3);
	int64_t *z = mmvec_extend(v, 64 * page / 8);
	ck_assert_ptr_nonnull(z);
	for (size_t i = 0; i < 64 * page / 8; i++)
		fast_assert(z[i] == 0);
	x = 7;
	ck_assert_ptr_nonnull(mmvec_push(v, NULL));
	ck_assert_int_eq(*(int64_t *)mmvec_at(v, mmvec_len(v) - 1), 0);
	ck_assert_ptr_nonnull(mmvec_push(v, &x));
	mmvec_free(v);
}
END_TEST

START_TEST(test_reader_is_read_only)
{
	struct mmvec *w, *r, *a;
	struct file_copy c;
	int64_t x = 1, out = 5;

	w = open_ok(path, 8, 0, MMVEC_CREATE);
	push_values(w, 0, 1000);
	ck_assert_int_eq(mmvec_sync(w), 0);
	r = open_ok(path, 8, 0, MMVEC_RDONLY);
	file_copy_take(&c, path);

	errno = 0;
	ck_assert_ptr_null(mmvec_push(r, &x));
	ck_assert_int_eq(errno, EBADF);
	errno = 0;
	ck_assert_ptr_null(mmvec_push(r, NULL));
	ck_assert_int_eq(errno, EBADF);
	errno = 0;
	ck_assert_ptr_null(mmvec_extend(r, 1));
	ck_assert_int_eq(errno, EBADF);
	errno = 0;
	ck_assert_ptr_null(mmvec_extend(r, 0));
	ck_assert_int_eq(errno, EBADF);
	ck_assert_int_eq(mmvec_append(r, &x, 1), -EBADF);
	ck_assert_int_eq(mmvec_append(r, &x, 0), -EBADF);
	ck_assert_int_eq(mmvec_append(r, NULL, 1), -EINVAL);
	ck_assert_int_eq(mmvec_insert(r, 0, &x, 1), -EBADF);
	/* EBADF before ERANGE */
	ck_assert_int_eq(mmvec_insert(r, 5000, &x, 1), -EBADF);
	ck_assert_int_eq(mmvec_erase(r, 0, 1), -EBADF);
	ck_assert_int_eq(mmvec_erase(r, 5000, 1), -EBADF);
	ck_assert_int_eq(mmvec_swap_remove(r, 0), -EBADF);
	ck_assert_int_eq(mmvec_pop(r, &out), -EBADF);
	ck_assert_int_eq(out, 5);
	ck_assert_int_eq(mmvec_resize(r, 0), -EBADF);
	ck_assert_int_eq(mmvec_resize(r, 2000), -EBADF);
	ck_assert_int_eq(mmvec_reserve(r, 2000), -EBADF);
	ck_assert_int_eq(mmvec_shrink_to_fit(r), -EBADF);
	errno = 0;
	ck_assert_ptr_null(mmvec_claim(r, 1));
	ck_assert_int_eq(errno, EBADF);
	ck_assert_int_eq(mmvec_publish(r, 0), -EBADF);
	errno = 0;
	ck_assert_ptr_null(mmvec_push_val(r, x));
	ck_assert_int_eq(errno, EBADF);
	mmvec_clear(r);
	ck_assert_int_eq(mmvec_sync(r), 0);
	ck_assert_uint_eq(mmvec_len(r), 1000);
	ck_assert_uint_eq(mmvec_capacity(r), 1000);
	check_values(r, 0, 1000);
	ck_assert_ptr_null(mmvec_at(r, 1000));
	ck_assert_int_eq(errno, ERANGE);
	ck_assert_file_unchanged(&c, path);
	free(c.bytes);

	/* the reader follows the writer in the same process too, whichever
	 * way it appends: the inline push and claim/publish also update the
	 * file's live length */
	push_values(w, 1000, 50000);
	ck_assert_uint_eq(mmvec_len(r), 50000);
	ck_assert_ptr_nonnull(mmvec_at(r, 49999));
	for (size_t i = 50000; i < 60000; i++) {
		int64_t y = value(i);

		ck_assert_ptr_nonnull(mmvec_push_val(w, y));
		fast_assert(mmvec_len(r) == i + 1);
	}
	int64_t *slots = mmvec_claim(w, 10000);
	ck_assert_ptr_nonnull(slots);
	for (size_t i = 0; i < 10000; i++)
		slots[i] = value(60000 + i);
	ck_assert_uint_eq(mmvec_len(r), 60000);
	ck_assert_int_eq(mmvec_publish(w, 10000), 0);
	ck_assert_uint_eq(mmvec_len(r), 70000);
	check_values(r, 0, 70000);
	mmvec_free(r);
	mmvec_free(w);

	/* mmvec_sync: NULL and anonymous vectors */
	ck_assert_int_eq(mmvec_sync(NULL), -EINVAL);
	ck_assert_int_eq(mmvec_new(8, 100, 0, &a), 0);
	ck_assert_int_eq(mmvec_sync(a), 0);
	mmvec_free(a);
}
END_TEST

START_TEST(test_populate)
{
	struct mmvec *v = open_ok(path, 16, 0, MMVEC_CREATE | MMVEC_POPULATE);

	ck_assert_int_eq(mmvec_reserve(v, 100000), 0);
	ck_assert_uint_ge(mmvec_capacity(v), 100000);
	ck_assert_uint_ge(file_size(path), HEADER + 100000 * 16);
	ck_assert_ptr_nonnull(mmvec_extend(v, 100000));
	mmvec_free(v);
	ck_assert_uint_eq(file_size(path),
			  HEADER + round_up(1600000, mmvec_page_size()));
}
END_TEST

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
/* No room to grow */

/* In a child: grows v until it fails; the failed calls change nothing.
 * Returns the error. */
static int grow_until_full(struct mmvec *v, const char *p)
{
	static int64_t chunk[4096];
	size_t len, cap;
	unsigned char *copy;
	struct stat st;
	int rc, fd;

	do
		rc = mmvec_append(v, chunk, ARRAY_LENGTH(chunk));
	while (rc == 0);
	len = mmvec_len(v);
	cap = mmvec_capacity(v);
	child_assert(stat(p, &st) == 0);
	copy = malloc((size_t)st.st_size);
	child_assert(copy != NULL);
	fd = open(p, O_RDONLY);
	child_assert(pread(fd, copy, (size_t)st.st_size, 0) == st.st_size);
	close(fd);

	child_assert(mmvec_append(v, chunk, ARRAY_LENGTH(chunk)) == rc);
	child_assert(mmvec_reserve(v, len + 100000) == rc);
	child_assert(mmvec_len(v) == len && mmvec_capacity(v) == cap);
	/* nothing changed, in the file either */
	{
		unsigned char *now = malloc((size_t)st.st_size);
		struct stat st2;

		child_assert(stat(p, &st2) == 0 && st2.st_size == st.st_size);
		fd = open(p, O_RDONLY);
		child_assert(now && pread(fd, now, (size_t)st.st_size, 0) ==
					    st.st_size);
		close(fd);
		child_assert(memcmp(now, copy, (size_t)st.st_size) == 0);
		free(now);
	}
	free(copy);
	/* pushes fill what is left, then fail the same way */
	while (mmvec_push(v, NULL))
		;
	child_assert(errno == -rc);
	child_assert(mmvec_sync(v) == 0);
	return rc;
}

static void fsize_child(void *arg)
{
	struct rlimit lim = { 1 << 20, 1 << 20 };
	struct mmvec *v;
	struct stat st;

	(void)arg;
	/* the default action: SIGXFSZ would end this process */
	signal(SIGXFSZ, SIG_DFL);
	child_assert(setrlimit(RLIMIT_FSIZE, &lim) == 0);
	child_assert(mmvec_open(path, 8, 0, MMVEC_CREATE, &v) == 0);
	child_assert(grow_until_full(v, path) == -EFBIG);
	child_assert(stat(path, &st) == 0 && st.st_size <= 1 << 20);
	child_assert(mmvec_len(v) >= ((1 << 20) - HEADER) / 8 / 2);
	mmvec_free(v);
}

START_TEST(test_rlimit_fsize)
{
	in_child(fsize_child, NULL);
}
END_TEST

/* A small tmpfs in a mount namespace of a child process: -ENOSPC. */
static const char *mount_small_tmpfs(const char *at)
{
	if (unshare(CLONE_NEWNS) != 0 &&
	    unshare(CLONE_NEWUSER | CLONE_NEWNS) != 0)
		return "unshare";
	if (mount("none", "/", "none", MS_REC | MS_PRIVATE, NULL) != 0)
		return "mount --make-rprivate";
	if (mount("mmvec-test", at, "tmpfs", 0, "size=1m") != 0)
		return "mount tmpfs";
	return NULL;
}

static void probe_child(void *arg)
{
	_exit(mount_small_tmpfs(arg) ? 1 : 0);
}

static void enospc_child(void *arg)
{
	char p[160];
	struct mmvec *v;
	size_t len;

	(void)arg;
	child_assert(mount_small_tmpfs(dir) == NULL);
	snprintf(p, sizeof(p), "%s/small", dir);
	child_assert(mmvec_open(p, 8, 0, MMVEC_CREATE, &v) == 0);
	child_assert(grow_until_full(v, p) == -ENOSPC);
	len = mmvec_len(v);
	child_assert(len >= ((1 << 20) - HEADER) / 8 / 2);
	mmvec_free(v);
	child_assert(mmvec_open(p, 8, 0, 0, &v) == 0);
	child_assert(mmvec_len(v) == len);
	mmvec_free(v);
}

START_TEST(test_enospc)
{
	in_child(enospc_child, NULL);
}
END_TEST

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

Suite *test_suite(int argc, char **argv)
{
	Suite *s = suite_create("file");
	TCase *tc = test_case(s, "file", setup_dir, teardown_dir, 600);
	char probe_dir[] = "/tmp/mmvec-test-probe-XXXXXX";
	int status;

	test_add(tc, 1, test_open_args, test_open_fd_args,
		 test_open_failure_cleans_up, test_bad_files, test_persistence,
		 test_shrink_and_zero, test_reader_is_read_only, test_populate,
		 test_reader_process, test_memfd, test_rlimit_fsize, test_crash,
		 NULL);

	/* A full file system needs a small one: a tmpfs mounted in a mount
	 * namespace, which needs root or user namespaces. */
	if (mkdtemp(probe_dir)) {
		pid_t pid = fork();

		if (pid == 0)
			probe_child(probe_dir);
		status = -1;
		if (pid > 0)
			waitpid(pid, &status, 0);
		rmdir(probe_dir);
		test_add_if(tc, status == 0, "cannot mount a small tmpfs in a "
			    "mount namespace here", test_enospc);
	}
	return s;
}
