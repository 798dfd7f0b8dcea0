/*
 * SPDX-License-Identifier: MIT
 *
 * File-backed vectors: mmvec_open(), mmvec_open_fd() and mmvec_sync().
 * Every error with its exact code and the file unchanged, what
 * MMVEC_CREATE makes and never overwrites, names that are not files
 * (FIFOs, dangling symbolic links), O_APPEND descriptors, persistence, the
 * writer's lock, a file truncated under a reader, a writer inherited through fork(), a full file
 * system and RLIMIT_FSIZE. test-file-race.c races processes against each
 * other; test-file-crash.c kills writers and cuts the power.
 */
#include "file-helpers.h"

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

/* A file-backed vector is three kernel mappings however it grows: the
 * header's page, the file's elements (each new piece merges with the last)
 * and the rest of the reservation. */
START_TEST(test_mappings)
{
	struct mmvec *v, *r;
	long before;

	make_file(path, 10, 0);
	before = maps_total();
	ck_assert_int_gt(before, 0);
	v = open_ok(path, 8, 0, 0);
	for (size_t n = 1000; n <= 4096000; n *= 4) {
		ck_assert_int_eq(mmvec_resize(v, n), 0);
		/* the elements' part and the rest of the reservation */
		ck_assert_int_eq(maps_in(mmvec_data(v), mmvec_max_len(v) * 8), 2);
#ifndef TEST_TSAN /* ThreadSanitizer maps shadow memory alongside */
		ck_assert_int_eq(maps_total() - before, 3);
#endif
	}
	r = open_ok(path, 8, 0, MMVEC_RDONLY);
	ck_assert_uint_eq(mmvec_len(r), 4096000);
	ck_assert_int_eq(maps_in(mmvec_data(r), mmvec_max_len(r) * 8), 2);
#ifndef TEST_TSAN
	ck_assert_int_eq(maps_total() - before, 6);
#endif
	mmvec_free(r);
	mmvec_free(v);
#ifndef TEST_TSAN
	ck_assert_int_eq(maps_total(), before);
#endif
}
END_TEST

/* The mapping is placed so that huge page-cache folios can be mapped
 * whole (element 0's address and file offset alike modulo the huge-page
 * size), and asks for them; not with MMVEC_NO_HUGEPAGES. */
START_TEST(test_huge_placement)
{
	size_t huge = thp_size();
	bool usable = huge && huge <= 32 * MIB;
	/* qemu-user passes no madvise() on */
	bool advice = usable && !test_on_qemu_user();
	struct mmvec *v;

	v = open_ok(path, 8, 0, MMVEC_CREATE);
	push_values(v, 0, 1000);
	if (usable)
		ck_assert_uint_eq(((uintptr_t)mmvec_data(v) - HEADER) % huge, 0);
	if (advice)
		ck_assert(vma_has_flag(mmvec_data(v), "hg"));
	mmvec_free(v);
	v = open_ok(path, 8, 0, MMVEC_NO_HUGEPAGES);
	ck_assert(!vma_has_flag(mmvec_data(v), "hg"));
	mmvec_free(v);

	/* an explicit maximum keeps all its elements */
	unlink(path);
	v = open_ok(path, 8, 1000000, MMVEC_CREATE);
	if (usable)
		ck_assert_uint_eq(((uintptr_t)mmvec_data(v) - HEADER) % huge, 0);
	ck_assert_uint_eq(mmvec_max_len(v), 1000000);
	ck_assert_int_eq(mmvec_resize(v, 1000000), 0);
	ck_assert_int_eq(mmvec_resize(v, 1000001), -ENOSPC);
	mmvec_free(v);
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
/* What MMVEC_CREATE makes, and what it never touches */

/* The first 64 bytes an initialisation cut short leaves: an empty vector
 * file's header without its magic (doc/file-format.md). */
static void put_cut_short_header(const char *p, uint64_t es)
{
	unsigned char h[64] = { 0 };
	uint32_t version = 1, bom = 0x01020304;
	uint64_t hs = HEADER;

	memcpy(h + OFF_VERSION, &version, 4);
	memcpy(h + OFF_BYTE_ORDER, &bom, 4);
	memcpy(h + OFF_HEADER_SIZE, &hs, 8);
	memcpy(h + OFF_ELEM_SIZE, &es, 8);
	write_at(p, 0, h, sizeof(h));
}

/* Entries in the test's directory, "." and ".." left out. */
static size_t dir_entries(void)
{
	char cmd[160];
	FILE *f;
	size_t n = 0;
	int c;

	snprintf(cmd, sizeof(cmd), "ls -A '%s' | wc -l", dir);
	f = popen(cmd, "r");
	ck_assert_ptr_nonnull(f);
	c = fscanf(f, "%zu", &n);
	pclose(f);
	ck_assert_int_eq(c, 1);
	return n;
}

START_TEST(test_create_never_overwrites)
{
	static unsigned char zeros[HEADER];
	struct mmvec *v;
	int fd;

	/* a raw dump of int64 starting with 0, of a header's size or less:
	 * someone's data, not a vector file cut short */
	fd = open(path, O_RDWR | O_CREAT, 0600);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, zeros, sizeof(zeros)), (ssize_t)sizeof(zeros));
	close(fd);
	ck_open_fails(path, 8, 0, MMVEC_CREATE, -EBADMSG);
	ck_assert_int_eq(truncate(path, 100), 0);
	ck_open_fails(path, 8, 0, MMVEC_CREATE, -EBADMSG);
	ck_assert_int_eq(truncate(path, 8), 0);
	ck_open_fails(path, 8, 0, MMVEC_CREATE, -EBADMSG);

	/* what this library's initialisation leaves when it is killed
	 * between its stores is made a vector file; readers refuse it */
	ck_assert_int_eq(truncate(path, 0), 0);
	ck_assert_int_eq(truncate(path, (off_t)HEADER), 0);
	put_cut_short_header(path, 4);
	ck_open_fails(path, 8, 0, MMVEC_RDONLY, -EBADMSG);
	ck_open_fails(path, 8, 0, 0, -EBADMSG);
	v = open_ok(path, 8, 0, MMVEC_CREATE);
	ck_assert_uint_eq(mmvec_len(v), 0);
	ck_assert_uint_eq(read_u64(path, OFF_ELEM_SIZE), 8);
	push_values(v, 0, 10);
	mmvec_free(v);
	/* the same header with a length is no longer cut short */
	ck_assert_int_eq(truncate(path, (off_t)HEADER), 0);
	put_cut_short_header(path, 8);
	{
		uint64_t one = 1;

		write_at(path, OFF_SYNCED_LEN, &one, 8);
	}
	ck_open_fails(path, 8, 0, MMVEC_CREATE, -EBADMSG);

	/* a new file: complete when it appears, and nothing else is left */
	unlink(path);
	v = open_ok(path, 8, 0, MMVEC_CREATE);
	ck_assert_uint_eq(file_size(path), HEADER);
	ck_assert_uint_eq(dir_entries(), 1);
	ck_assert_int_eq(memcmp(&(uint64_t){ read_u64(path, OFF_MAGIC) },
				"\x89MMVEC\r\n", 8), 0);
	mmvec_free(v);
}
END_TEST

/* A name that is a symbolic link to nothing: MMVEC_CREATE creates files,
 * not the targets of links, and answers -ENOENT at once. */
START_TEST(test_dangling_symlink)
{
	char target[160];
	struct file_copy c;
	struct mmvec *v;

	snprintf(target, sizeof(target), "%s/missing", dir);
	ck_assert_int_eq(symlink(target, path), 0);
	file_copy_take(&c, path);
	ck_open_fails(path, 8, 0, MMVEC_CREATE, -ENOENT);
	ck_open_fails(path, 8, 0, 0, -ENOENT);
	ck_open_fails(path, 8, 0, MMVEC_RDONLY, -ENOENT);
	ck_assert_int_eq(access(target, F_OK), -1);
	ck_assert_uint_eq(dir_entries(), 1);
	free(c.bytes);

	/* once the target exists, the link is followed */
	make_file(target, 100, 0);
	v = open_ok(path, 8, 0, MMVEC_CREATE);
	ck_assert_uint_eq(mmvec_len(v), 100);
	check_values(v, 0, 100);
	mmvec_free(v);
}
END_TEST

/* A FIFO is no vector file: refused at once, also by a reader (whose
 * open(2) would wait for a writer of the FIFO). */
START_TEST(test_fifo)
{
	ck_assert_int_eq(mkfifo(path, 0600), 0);
	alarm(10);
	ck_open_fails(path, 8, 0, MMVEC_RDONLY, -EINVAL);
	ck_open_fails(path, 8, 0, 0, -EINVAL);
	ck_open_fails(path, 8, 0, MMVEC_CREATE, -EINVAL);
	alarm(0);
}
END_TEST

/* pwrite() on an O_APPEND descriptor appends whatever the offset: an
 * empty file opened so is still made a vector file, and grows. */
START_TEST(test_append_descriptor)
{
	struct mmvec *v;
	int fd = open(path, O_RDWR | O_CREAT | O_APPEND, 0600);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(mmvec_open_fd(fd, 8, 0, MMVEC_CREATE, &v), 0);
	push_values(v, 0, 100000);
	ck_assert_int_eq(mmvec_sync(v), 0);
	mmvec_free(v);
	ck_assert_int_eq(mmvec_open_fd(fd, 8, 0, 0, &v), 0);
	ck_assert_uint_eq(mmvec_len(v), 100000);
	push_values(v, 100000, 200000);
	mmvec_free(v);
	close(fd);
	v = open_ok(path, 8, 0, MMVEC_RDONLY);
	ck_assert_uint_eq(mmvec_len(v), 200000);
	check_values(v, 0, 200000);
	mmvec_free(v);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* fork(), and files changed by others */

static struct mmvec *forked_writer;

/* In the child: every modifying call on the inherited writer is -ECHILD
 * and changes nothing; reading works; mmvec_free() frees the child's
 * memory only. */
static void forked_child(void *arg)
{
	struct mmvec *w = forked_writer;
	int64_t x = 1, out = 0;

	(void)arg;
	errno = 0;
	child_assert(mmvec_push(w, &x) == NULL && errno == ECHILD);
	errno = 0;
	child_assert(mmvec_push(w, NULL) == NULL && errno == ECHILD);
	errno = 0;
	child_assert(mmvec_push_val(w, x) == NULL && errno == ECHILD);
	errno = 0;
	child_assert(mmvec_extend(w, 10) == NULL && errno == ECHILD);
	errno = 0;
	child_assert(mmvec_claim(w, 10) == NULL && errno == ECHILD);
	child_assert(mmvec_publish(w, 0) == -ECHILD);
	child_assert(mmvec_append(w, &x, 1) == -ECHILD);
	child_assert(mmvec_insert(w, 0, &x, 1) == -ECHILD);
	child_assert(mmvec_erase(w, 0, 1) == -ECHILD);
	child_assert(mmvec_swap_remove(w, 0) == -ECHILD);
	child_assert(mmvec_pop(w, &out) == -ECHILD && out == 0);
	child_assert(mmvec_resize(w, 10) == -ECHILD);
	child_assert(mmvec_resize(w, 5000) == -ECHILD);
	child_assert(mmvec_reserve(w, 1 << 20) == -ECHILD);
	child_assert(mmvec_shrink_to_fit(w) == -ECHILD);
	child_assert(mmvec_sync(w) == -ECHILD);
	mmvec_clear(w);
	child_assert(mmvec_len(w) == 1000);
	for (size_t i = 0; i < 1000; i++)
		child_assert(*(int64_t *)mmvec_at(w, i) == value(i));
	mmvec_free(w);
}

START_TEST(test_fork)
{
	struct mmvec *w, *other;
	size_t size;
	int status;

	w = open_ok(path, 8, 0, MMVEC_CREATE);
	push_values(w, 0, 1000);
	ck_assert_int_eq(mmvec_sync(w), 0);
	size = file_size(path);
	forked_writer = w;
	status = child_status(forked_child, NULL);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
		      "child status %d", status);
	/* the file, its lengths and the parent's lock are as they were */
	ck_assert_uint_eq(file_size(path), size);
	ck_assert_uint_eq(read_u64(path, OFF_LIVE_LEN), 1000);
	ck_assert_uint_eq(read_u64(path, OFF_SYNCED_LEN), 1000);
	ck_assert_int_eq(mmvec_open(path, 8, 0, 0, &other), -EBUSY);
	/* and the parent goes on */
	push_values(w, 1000, 300000);
	ck_assert_int_eq(mmvec_sync(w), 0);
	mmvec_free(w);
	w = open_ok(path, 8, 0, 0);
	ck_assert_uint_eq(mmvec_len(w), 300000);
	check_values(w, 0, 300000);
	mmvec_free(w);
}
END_TEST

static struct mmvec *truncated_reader;

/* In a child, so that a SIGBUS shows as its status. */
static void read_truncated(void *arg)
{
	struct mmvec *r = truncated_reader;
	size_t want = (size_t)(uintptr_t)arg;

	child_assert(mmvec_len(r) == want);
	child_assert(mmvec_capacity(r) == want);
	/* below a length handed out before: no new look at the file */
	child_assert(mmvec_at(r, 5) != NULL);
	errno = 0;
	child_assert(mmvec_at(r, 200000) == NULL && errno == ERANGE);
}

/* Another process truncates the file under a reader: the reader's calls
 * report what is left, and never fault. */
START_TEST(test_truncated_under_reader)
{
	struct mmvec *r;
	int status;

	make_file(path, 100000, 0);
	r = open_ok(path, 8, 0, MMVEC_RDONLY);
	ck_assert_uint_eq(mmvec_len(r), 100000);
	truncated_reader = r;
	ck_assert_int_eq(truncate(path, (off_t)(HEADER + 10 * 8)), 0);
	status = child_status(read_truncated, (void *)(uintptr_t)10);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
		      "reader status %d", status);
	ck_assert_int_eq(truncate(path, 0), 0);
	status = child_status(read_truncated, (void *)(uintptr_t)0);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
		      "reader status %d", status);
	mmvec_free(r);
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

Suite *test_suite(int argc, char **argv)
{
	Suite *s = suite_create("file");
	TCase *tc = test_case(s, "file", setup_dir, teardown_dir, 600);
	char probe_dir[] = "/tmp/mmvec-test-probe-XXXXXX";
	int status;

	/* Valgrind keeps mappings of its own in /proc/self/maps, and
	 * qemu-user shows its own view of them */
	test_add_if(tc, !test_on_valgrind() && !test_on_qemu_user(),
		    "under Valgrind or qemu-user, /proc/self/maps shows "
		    "their own mappings", test_mappings);
	test_add(tc, 1, test_open_args, test_open_fd_args,
		 test_open_failure_cleans_up, test_bad_files, test_persistence,
		 test_shrink_and_zero, test_reader_is_read_only, test_populate,
		 test_rlimit_fsize, test_huge_placement,
		 test_create_never_overwrites, test_dangling_symlink, test_fifo,
		 test_append_descriptor, test_fork, test_truncated_under_reader,
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
