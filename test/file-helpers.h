/*
 * SPDX-License-Identifier: MIT
 *
 * What the file-backed vector tests share (test-file.c, test-file-race.c,
 * test-file-crash.c): a fresh directory per test, the tests' int64
 * values, opening and checking vectors, snapshots of a file's bytes,
 * children that report by exit status, and loop-mounted ext4 images that
 * can be shut down as a power cut would (FS_IOC_SHUTDOWN, as fstests'
 * godown does).
 */
#ifndef MMVEC_TEST_FILE_HELPERS_H
#define MMVEC_TEST_FILE_HELPERS_H

#include "runner.h"

#include <stdio.h>
#include <stdlib.h>
#include <sys/types.h>
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

/* The test's directory and the vector file's name in it, made by
 * setup_dir() and removed with all they hold by teardown_dir(). */
extern char dir[64];
extern char path[128];
void setup_dir(void);
void teardown_dir(void);

/* The value element i of the tests' int64 vectors holds. */
static inline int64_t value(uint64_t i)
{
	return (int64_t)(i * 0x9e3779b97f4a7c15ull ^ (i >> 7));
}

struct mmvec *open_ok(const char *p, size_t es, size_t max_len,
		      unsigned flags);
/* mmvec_push() of value(from) .. value(to - 1). */
void push_values(struct mmvec *v, size_t from, size_t to);
/* Elements [from, to) hold their values. */
void check_values(const struct mmvec *v, size_t from, size_t to);
/* A vector file of n int64 elements, written and closed. */
void make_file(const char *p, size_t n, size_t max_len);

/* A file's whole content, to show that a call did not change it. */
struct file_copy {
	unsigned char *bytes;
	size_t size;
	bool exists;
};

void file_copy_take(struct file_copy *c, const char *p);
void ck_assert_file_unchanged(const struct file_copy *c, const char *p);
size_t file_size(const char *p);
void write_at(const char *p, size_t off, const void *buf, size_t n);
uint64_t read_u64(const char *p, size_t off);

/* Opening must fail with rc, out untouched and the file unchanged. */
void ck_open_fails(const char *p, size_t es, size_t max_len, unsigned flags,
		   int rc);

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
void in_child(void (*fn)(void *), void *arg);
/* Runs fn in a child process and returns its wait status. */
int child_status(void (*fn)(void *), void *arg);

/* ------------------------------------------------------------------------ */
/* Loop-mounted ext4 images (root only) */

struct loop_fs {
	char image[96];
	char mnt[96];
	char opts[96];     /* mount options */
	bool mounted;
};

/* Why a loop-mounted file system cannot be had here, or NULL: the tests
 * that need one are then left out with that reason. */
const char *loop_fs_unavailable(void);

/* Makes an image of `mib` MiB with mkfs.ext4 and `mkfs_opts` and mounts it
 * with `mount_opts` in a new directory. Asserts that it worked. */
void loop_fs_make(struct loop_fs *fs, unsigned mib, const char *mkfs_opts,
		  const char *mount_opts);
/* The power cut: FS_IOC_SHUTDOWN with FS_GOING_DOWN_NOSYNC drops
 * everything that is not on disk yet, and every later write fails. */
void loop_fs_power_cut(struct loop_fs *fs);
void loop_fs_unmount(struct loop_fs *fs);
void loop_fs_mount(struct loop_fs *fs);
/* Unmounts (if mounted) and removes the image and the directory. */
void loop_fs_remove(struct loop_fs *fs);

#endif /* MMVEC_TEST_FILE_HELPERS_H */
