/*
 * SPDX-License-Identifier: MIT
 *
 * What the file-backed vector tests share: see file-helpers.h.
 */
#include "file-helpers.h"

#include <fcntl.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/wait.h>

/* linux/fs.h has these only from Linux 6.2's headers on (fstests'
 * src/godown.c defines them the same way) */
#ifndef FS_IOC_SHUTDOWN
#define FS_IOC_SHUTDOWN _IOR('X', 125, uint32_t)
#endif
#ifndef FS_GOING_DOWN_NOSYNC
#define FS_GOING_DOWN_NOSYNC 0x2
#endif

char dir[64];
char path[128];

void setup_dir(void)
{
	strcpy(dir, "/tmp/mmvec-test-file-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/vec", dir);
}

void teardown_dir(void)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (dir[0] && system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", dir);
}

struct mmvec *open_ok(const char *p, size_t es, size_t max_len,
		      unsigned flags)
{
	struct mmvec *v = NULL;
	int rc = mmvec_open(p, es, max_len, flags, &v);

	ck_assert_int_eq(rc, 0);
	ck_assert_ptr_nonnull(v);
	return v;
}

void push_values(struct mmvec *v, size_t from, size_t to)
{
	for (size_t i = from; i < to; i++) {
		int64_t x = value(i);
		int64_t *p = mmvec_push(v, &x);

		fast_assert_msg(p != NULL, "push %zu: %s", i, strerror(errno));
	}
}

void check_values(const struct mmvec *v, size_t from, size_t to)
{
	for (size_t i = from; i < to; i++) {
		const int64_t *p = mmvec_at(v, i);

		fast_assert_msg(p != NULL, "element %zu missing", i);
		fast_assert_msg(*p == value(i), "element %zu: %jd, not %jd", i,
				(intmax_t)*p, (intmax_t)value(i));
	}
}

void make_file(const char *p, size_t n, size_t max_len)
{
	struct mmvec *v = open_ok(p, 8, max_len, MMVEC_CREATE);

	push_values(v, 0, n);
	mmvec_free(v);
}

void file_copy_take(struct file_copy *c, const char *p)
{
	struct stat st;
	int fd;

	memset(c, 0, sizeof(*c));
	if (lstat(p, &st) != 0)
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

void ck_assert_file_unchanged(const struct file_copy *c, const char *p)
{
	struct file_copy now;

	file_copy_take(&now, p);
	ck_assert_int_eq(now.exists, c->exists);
	ck_assert_uint_eq(now.size, c->size);
	ck_assert_msg(c->size == 0 || memcmp(now.bytes, c->bytes, c->size) == 0,
		      "file contents changed");
	free(now.bytes);
}

size_t file_size(const char *p)
{
	struct stat st;

	ck_assert_int_eq(stat(p, &st), 0);
	return (size_t)st.st_size;
}

void write_at(const char *p, size_t off, const void *buf, size_t n)
{
	int fd = open(p, O_WRONLY);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(pwrite(fd, buf, n, (off_t)off), (ssize_t)n);
	close(fd);
}

uint64_t read_u64(const char *p, size_t off)
{
	uint64_t x;
	int fd = open(p, O_RDONLY);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(pread(fd, &x, sizeof(x), (off_t)off), 8);
	close(fd);
	return x;
}

void ck_open_fails(const char *p, size_t es, size_t max_len, unsigned flags,
		   int rc)
{
	struct file_copy c;
	struct mmvec *v = BAD_PTR;

	file_copy_take(&c, p);
	ck_assert_int_eq(mmvec_open(p, es, max_len, flags, &v), rc);
	ck_assert_ptr_eq(v, BAD_PTR);
	ck_assert_file_unchanged(&c, p);
	free(c.bytes);
}

int child_status(void (*fn)(void *), void *arg)
{
	int status;
	pid_t pid = fork();

	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		fn(arg);
		_exit(0);
	}
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	return status;
}

void in_child(void (*fn)(void *), void *arg)
{
	int status = child_status(fn, arg);

	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
		      "child status %d", status);
}

/* ------------------------------------------------------------------------ */
/* Loop-mounted ext4 images */

static int run(const char *cmd)
{
	int rc = system(cmd);

	return rc == -1 ? -1 : WIFEXITED(rc) ? WEXITSTATUS(rc) : 128;
}

const char *loop_fs_unavailable(void)
{
	static const char *why;
	static bool probed;
	struct loop_fs fs;

	if (probed)
		return why;
	probed = true;
	if (geteuid() != 0)
		return why = "not root: loop devices and mount need it";
	if (test_on_qemu_user())
		return why = "under qemu-user, which does not emulate the "
			     "file system ioctls";
	if (access("/dev/loop-control", F_OK) != 0)
		return why = "no /dev/loop-control";
	if (run("command -v mkfs.ext4 >/dev/null 2>&1 || "
		"test -x /sbin/mkfs.ext4") != 0)
		return why = "no mkfs.ext4 (e2fsprogs)";
	memset(&fs, 0, sizeof(fs));
	strcpy(fs.image, "/tmp/mmvec-test-probe-XXXXXX");
	if (mkdtemp(fs.image) == NULL)
		return why = "cannot make a directory in /tmp";
	snprintf(fs.mnt, sizeof(fs.mnt), "%s", fs.image);
	strcat(fs.image, ".img");
	{
		char cmd[512];

		snprintf(cmd, sizeof(cmd),
			 "truncate -s 8M %s && mkfs.ext4 -q -F %s >/dev/null "
			 "2>&1 && mount -o loop %s %s 2>/dev/null && umount %s",
			 fs.image, fs.image, fs.image, fs.mnt, fs.mnt);
		if (run(cmd) != 0)
			why = "cannot make and loop-mount an ext4 image";
	}
	unlink(fs.image);
	rmdir(fs.mnt);
	return why;
}

void loop_fs_make(struct loop_fs *fs, unsigned mib, const char *mkfs_opts,
		  const char *mount_opts)
{
	char cmd[512];

	memset(fs, 0, sizeof(*fs));
	strcpy(fs->mnt, "/tmp/mmvec-test-fs-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(fs->mnt));
	snprintf(fs->image, sizeof(fs->image), "%s.img", fs->mnt);
	snprintf(fs->opts, sizeof(fs->opts), "%s", mount_opts);
	snprintf(cmd, sizeof(cmd),
		 "truncate -s %uM %s && mkfs.ext4 -q -F %s %s >/dev/null 2>&1",
		 mib, fs->image, mkfs_opts, fs->image);
	ck_assert_msg(run(cmd) == 0, "%s", cmd);
	loop_fs_mount(fs);
}

void loop_fs_mount(struct loop_fs *fs)
{
	char cmd[512];

	snprintf(cmd, sizeof(cmd), "mount -o loop%s%s %s %s", fs->opts[0] ? "," : "",
		 fs->opts, fs->image, fs->mnt);
	ck_assert_msg(run(cmd) == 0, "%s", cmd);
	fs->mounted = true;
}

void loop_fs_power_cut(struct loop_fs *fs)
{
	uint32_t how = FS_GOING_DOWN_NOSYNC;
	int fd = open(fs->mnt, O_RDONLY | O_DIRECTORY);

	ck_assert_int_ge(fd, 0);
	ck_assert_msg(ioctl(fd, FS_IOC_SHUTDOWN, &how) == 0,
		      "FS_IOC_SHUTDOWN: %s", strerror(errno));
	close(fd);
}

void loop_fs_unmount(struct loop_fs *fs)
{
	char cmd[256];

	snprintf(cmd, sizeof(cmd), "umount %s", fs->mnt);
	ck_assert_msg(run(cmd) == 0, "%s", cmd);
	fs->mounted = false;
}

void loop_fs_remove(struct loop_fs *fs)
{
	char cmd[256];

	if (fs->mounted) {
		snprintf(cmd, sizeof(cmd), "umount -l %s", fs->mnt);
		(void)run(cmd);
		fs->mounted = false;
	}
	if (fs->image[0])
		unlink(fs->image);
	if (fs->mnt[0])
		rmdir(fs->mnt);
}
