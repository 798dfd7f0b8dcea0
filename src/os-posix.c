/*
 * SPDX-License-Identifier: MIT
 *
 * The OS layer for POSIX systems, with Linux's madvise extensions where the
 * headers have them. See os.h for the rules every function obeys.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "os.h"
#include "os-inject.h"

#ifndef MAP_ANONYMOUS
#define MAP_ANONYMOUS MAP_ANON
#endif

/* Linux's extensions, each behind a feature test, so that the file builds
 * and works where they are missing (FreeBSD, macOS), and so that a
 * -Dportable=true build runs the POSIX-only path on Linux to test it. */
#if defined(__linux__) && !MMVEC_PORTABLE
#define USE_THP_SYSFS 1 /* /sys/kernel/mm/transparent_hugepage */
#if defined(MADV_HUGEPAGE) && defined(MADV_NOHUGEPAGE)
#define USE_MADV_HUGEPAGE 1
#endif
#if HAVE_MADV_POPULATE_WRITE
#define USE_POPULATE_WRITE 1
#endif
#ifdef MADV_DONTNEED
/* zeroes private anonymous pages on Linux; only a hint elsewhere */
#define USE_DONTNEED_ZERO 1
#endif
#ifdef MAP_FIXED_NOREPLACE
#define USE_FIXED_NOREPLACE 1
#endif
#endif

/* FreeBSD's guard reservations: address space that no other mmap() takes,
 * that accounts nothing, and that only a MAP_FIXED mapping can replace
 * (mprotect() cannot make it accessible). */
#if defined(MAP_GUARD) && !MMVEC_PORTABLE
#define USE_MAP_GUARD 1
#endif

/* ---------------------------------------------------------------------------
 * Constants
 * ------------------------------------------------------------------------- */

/* The constants below are cached in relaxed atomics: two threads may both
 * compute one on first use, and they store the same value. */

size_t mmvec__os_page_size(void)
{
	static size_t cached;
	size_t page = __atomic_load_n(&cached, __ATOMIC_RELAXED);

	if (!page) {
		long ps = sysconf(_SC_PAGESIZE);

		page = ps > 0 ? (size_t)ps : 4096;
		__atomic_store_n(&cached, page, __ATOMIC_RELAXED);
	}
	return page;
}

/* The PMD size the kernel reports for transparent huge pages, or 0. */
static size_t read_huge_page_size(void)
{
	size_t size = 0;
#ifdef USE_THP_SYSFS
	int fd = open("/sys/kernel/mm/transparent_hugepage/hpage_pmd_size",
		      O_RDONLY | O_CLOEXEC);

	if (fd >= 0) {
		char buf[32];
		ssize_t n = read(fd, buf, sizeof(buf) - 1);

		close(fd);
		if (n > 0) {
			buf[n] = '\0';
			unsigned long long v = strtoull(buf, NULL, 10);
			/* only a power of two above the page size is usable */
			if (v > mmvec__os_page_size() && v <= SIZE_MAX / 2 &&
			    (v & (v - 1)) == 0)
				size = (size_t)v;
		}
	}
#endif
	return size;
}

size_t mmvec__os_huge_page_size(void)
{
	/* 1: not read yet (no real size is 1) */
	static size_t cached = 1;
	size_t huge = __atomic_load_n(&cached, __ATOMIC_RELAXED);

	if (huge == 1) {
		huge = read_huge_page_size();
		__atomic_store_n(&cached, huge, __ATOMIC_RELAXED);
	}
	return huge;
}

/* Cached: glibc's sysconf(_SC_PHYS_PAGES) is a sysinfo() system call, and
 * every default reservation asks. 1: not read yet. */
size_t mmvec__os_physical_memory(void)
{
	static size_t cached = 1;
	size_t bytes = __atomic_load_n(&cached, __ATOMIC_RELAXED);
	long pages;

	if (bytes != 1)
		return bytes;
	pages = sysconf(_SC_PHYS_PAGES);
	if (pages <= 0)
		bytes = 0;
	else if ((unsigned long)pages > SIZE_MAX / mmvec__os_page_size())
		bytes = SIZE_MAX;
	else
		bytes = (size_t)pages * mmvec__os_page_size();
	__atomic_store_n(&cached, bytes, __ATOMIC_RELAXED);
	return bytes;
}

/* ---------------------------------------------------------------------------
 * Reserve and release
 * ------------------------------------------------------------------------- */

/* Private, anonymous and PROT_NONE: the kernel charges nothing for it against
 * the commit limit (only writable private mappings are charged). Without
 * MAP_NORESERVE, so that mprotect() charges commit when pages become
 * writable and a refusal shows up there as ENOMEM. */
static void *map_none(void *addr, size_t size, int extra)
{
#ifdef USE_MAP_GUARD
	/* MAP_GUARD takes no other flags than MAP_FIXED and MAP_EXCL */
	int flags = MAP_GUARD | extra;
#else
	int flags = MAP_PRIVATE | MAP_ANONYMOUS | extra;
#endif

	/* cppcheck-suppress invalidFunctionArg ; MAP_ANONYMOUS takes fd -1
	 * (cppcheck 2.10's posix.cfg allows only fds >= 0) */
	return mmap(addr, size, PROT_NONE, flags, -1, 0);
}

int mmvec__os_reserve(size_t size, size_t align, void **out)
{
	size_t page = mmvec__os_page_size();
	size_t slack = align > page ? align - page : 0;
	char *p;

	INJECT(MMVEC__OS_RESERVE, size);

	if (size > SIZE_MAX - slack)
		return -ENOMEM;

	p = map_none(NULL, size + slack, 0);
	if (p == MAP_FAILED)
		return errno == EINVAL || errno == EOVERFLOW ? -ENOMEM : -errno;

	if (slack) {
		/* Over-reserve by align - page, then trim both ends so that
		 * the range starts on an align boundary. */
		size_t head = (align - ((uintptr_t)p & (align - 1))) & (align - 1);
		size_t tail = slack - head;
		char *a = p + head; /* pointer arithmetic: no int-to-pointer cast */

		if (head)
			munmap(p, head);
		if (tail)
			munmap(a + size, tail);
		p = a;
	}
	*out = p;
	return 0;
}

void mmvec__os_release(void *addr, size_t size)
{
	COUNT(MMVEC__OS_RELEASE, size);
	munmap(addr, size);
}

/* ---------------------------------------------------------------------------
 * Commit and decommit
 * ------------------------------------------------------------------------- */

int mmvec__os_commit(void *addr, size_t size)
{
	INJECT(MMVEC__OS_COMMIT, size);

#ifdef USE_MAP_GUARD
	/* a guard is replaced, not mprotect()ed: fresh zero pages */
	/* cppcheck-suppress invalidFunctionArg ; fd -1 with MAP_ANONYMOUS */
	if (mmap(addr, size, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0) == MAP_FAILED)
		return -ENOMEM;
#else
	if (mprotect(addr, size, PROT_READ | PROT_WRITE) != 0)
		return errno == EAGAIN ? -ENOMEM : -errno;
#endif
	return 0;
}

/* Whether [addr, addr + size) has a page that is not mapped at all:
 * mincore() fails with ENOMEM for unmapped addresses (and, unlike msync(),
 * is not reported by Valgrind for reading PROT_NONE memory). */
static bool has_hole(void *addr, size_t size)
{
	size_t page = mmvec__os_page_size();
	char *p = addr;
	unsigned char vec[256];

	for (size_t off = 0; off < size; off += sizeof(vec) * page) {
		size_t n = size - off < sizeof(vec) * page ? size - off
							   : sizeof(vec) * page;

		/* cppcheck-suppress invalidFunctionArg ; n is a page multiple */
		if (mincore(p + off, n, (void *)vec) != 0 && errno == ENOMEM)
			return true;
	}
	return false;
}

/* Map PROT_NONE over [p, p + len) if all of it is unmapped, replacing
 * nothing; false if any of it is mapped (or the mapping is refused). */
static bool fill(char *p, size_t len)
{
	char *q;

#if defined(USE_FIXED_NOREPLACE)
	q = map_none(p, len, MAP_FIXED_NOREPLACE);
#elif defined(MAP_EXCL)
	q = map_none(p, len, MAP_FIXED | MAP_EXCL);
#else
	q = map_none(p, len, 0); /* a hint, honoured where it is free */
#endif
	if (q == p)
		return true;
	if (q != MAP_FAILED) /* a kernel that took the flag as a hint */
		munmap(q, len);
	return false;
}

/* After a failed MAP_FIXED unmapped all of [addr, addr + size): map
 * PROT_NONE into the hole from its start up, replacing nothing, and return
 * how much of it, from addr, that made the caller's again. Whatever is
 * mapped in the hole now is someone else's (another thread's mmap() may
 * have landed there), and so is everything above its lowest page: the
 * caller gives that up rather than take a range it cannot tell from
 * another's. Pieces that do not fill are halved down to a page. */
static size_t reclaim_hole(char *addr, size_t size)
{
	size_t page = mmvec__os_page_size();
	size_t off = 0;

	while (off < size) {
		size_t len = size - off;

		while (!fill(addr + off, len)) {
			if (len == page)
				return off;
			len = len / 2 & ~(page - 1);
		}
		off += len;
	}
	return size;
}

int mmvec__os_decommit(void *addr, size_t size, size_t *kept)
{
	int err;

	INJECT(MMVEC__OS_DECOMMIT, size);

	/* MAP_FIXED over the range replaces it with a fresh PROT_NONE mapping:
	 * the pages are dropped and their commit charge returned, which
	 * mprotect(PROT_NONE) would not do, and MADV_FREE would not even
	 * guarantee zeroes. */
	/* cppcheck-suppress leakReturnValNotUsed ; MAP_FIXED replaces part of
	 * the reservation, which mmvec__os_release() unmaps */
	if (map_none(addr, size, MAP_FIXED) != MAP_FAILED) {
#ifdef MMVEC_FAULT_INJECTION
		/* a test can ask for the failure described below */
		if (injected(MMVEC__OS_DECOMMIT_HOLE, size)) {
			munmap(addr, size);
			(void)injected(MMVEC__OS_HOLE_OPEN, size);
			errno = ENOMEM;
			goto failed;
		}
#endif
		*kept = size;
		return 0;
	}
#ifdef MMVEC_FAULT_INJECTION
failed:
#endif
	err = errno;
	/* Linux before 6.12 (mmap_region() in mm/mmap.c) unmaps the old range
	 * first and may then fail to set up the new one, leaving a hole that
	 * another mmap() could fill and that mmvec__os_release() would unmap
	 * later. The old pages are gone then, as decommitting wanted: put
	 * PROT_NONE back into the hole, and it is a decommit after all, of
	 * what is still the caller's. */
	if (has_hole(addr, size)) {
		*kept = reclaim_hole(addr, size);
		return 0;
	}
	/* Elsewhere, and for a refusal before anything was unmapped (the
	 * vm.max_map_count limit), the old mapping is as it was. */
	return err == EINVAL ? -ENOMEM : -err;
}

void mmvec__os_advise_huge(void *addr, size_t size, bool huge)
{
	COUNT(MMVEC__OS_ADVISE, size);
#ifdef USE_MADV_HUGEPAGE
	(void)madvise(addr, size, huge ? MADV_HUGEPAGE : MADV_NOHUGEPAGE);
#else
	(void)addr;
	(void)size;
	(void)huge;
#endif
}

int mmvec__os_populate(void *addr, size_t size)
{
	INJECT(MMVEC__OS_POPULATE, size);

#ifdef USE_POPULATE_WRITE
	if (madvise(addr, size, MADV_POPULATE_WRITE) == 0)
		return 0;
	/* EINVAL: a kernel before 5.14, fall back to touching the pages */
	if (errno != EINVAL)
		return -ENOMEM; /* ENOMEM, or EFAULT/EHWPOISON: no usable memory */
#endif
	/* Store each page's first byte back into it: a write fault that
	 * allocates the page, without changing what it holds. */
	volatile char *p = addr;
	size_t page = mmvec__os_page_size();
	for (size_t off = 0; off < size; off += page)
		/* cppcheck-suppress selfAssignment ; a volatile store, for
		 * the write fault */
		p[off] = p[off];
	return 0;
}

/* ---------------------------------------------------------------------------
 * Zeroing
 * ------------------------------------------------------------------------- */

#ifdef USE_DONTNEED_ZERO
/* Clear pages [p, p + n) of a run that mincore() found resident, or drop a
 * run it found absent. On Linux, MADV_DONTNEED on private anonymous memory
 * makes the pages read as zero next time (a hint elsewhere, and MADV_FREE
 * would not guarantee it), and costs next to nothing for pages that are not
 * there; a resident page is cheaper to memset than to drop and fault in
 * again (measured: 4 KiB pages, 256 MiB: memset 5.6 ms, drop then rewrite
 * 1 s). */
static void zero_run(char *p, size_t n, bool resident)
{
	if (resident || madvise(p, n, MADV_DONTNEED) != 0)
		memset(p, 0, n);
}

int mmvec__os_zero(void *addr, size_t size)
{
	size_t page = mmvec__os_page_size();
	unsigned char vec[1024];
	char *p = addr;

	INJECT(MMVEC__OS_ZERO, size);

	for (size_t off = 0; off < size;) {
		size_t n = size - off < sizeof(vec) * page ? size - off
							   : sizeof(vec) * page;
		size_t pages = n / page, run = 0;

		if (mincore(p + off, n, vec) != 0)
			return -errno;
		for (size_t i = 1; i <= pages; i++) {
			if (i < pages && (vec[i] & 1) == (vec[run] & 1))
				continue;
			zero_run(p + off + run * page, (i - run) * page,
				 vec[run] & 1);
			run = i;
		}
		off += n;
	}
	return 0;
}
#else
int mmvec__os_zero(void *addr, size_t size)
{
	INJECT(MMVEC__OS_ZERO, size);
	(void)addr;
	(void)size;
	return -EOPNOTSUPP;
}
#endif

/* ---------------------------------------------------------------------------
 * File mappings
 * ------------------------------------------------------------------------- */

static int check_regular(int fd)
{
	struct stat st;

	if (fstat(fd, &st) != 0)
		return -errno;
	return S_ISREG(st.st_mode) ? 0 : -EINVAL;
}

static int open_retry(const char *path, int flags)
{
	int fd;

	do
		fd = open(path, flags, 0666);
	while (fd < 0 && errno == EINTR);
	return fd < 0 ? -errno : fd;
}

int mmvec__os_file_open(const char *path, bool writable, int *out)
{
	/* O_NONBLOCK: opening a FIFO for reading would otherwise wait for a
	 * writer to appear, before the check below could refuse it. */
	int flags = (writable ? O_RDWR : O_RDONLY) | O_CLOEXEC | O_NOCTTY |
		    O_NONBLOCK;
	int fd, rc;

	fd = open_retry(path, flags);
	if (fd < 0)
		return fd;
	rc = check_regular(fd);
	/* O_NONBLOCK means nothing for regular files; cleared all the same,
	 * since the description may be shared with other users of the file */
	if (!rc && fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK) != 0)
		rc = -errno;
	if (rc) {
		close(fd);
		return rc;
	}
	*out = fd;
	return 0;
}

/* The directory part of path ("." for a bare name), malloc'd. */
static char *dir_of(const char *path)
{
	const char *slash = strrchr(path, '/');
	size_t n = slash ? (size_t)(slash - path) : 1;
	char *dir;

	if (slash == path)
		n = 1; /* "/name" */
	dir = malloc(n + 1);
	if (!dir)
		return NULL;
	memcpy(dir, slash ? path : ".", n);
	dir[n] = '\0';
	return dir;
}

/* A new file under a unique name next to path, made with O_EXCL so that
 * it is this call's own. The suffix comes from a counter, the pid and the
 * clock; a name taken by someone else is tried again with the next
 * counter value, a bounded number of times. */
static int create_named(const char *path, int *out, char **tmp_name)
{
	static unsigned long counter;
	size_t n = strlen(path) + 40;
	char *name = malloc(n);
	int fd = -EEXIST;

	if (!name)
		return -ENOMEM;
	for (int tries = 0; tries < 64 && fd == -EEXIST; tries++) {
		struct timespec ts;
		unsigned long c = __atomic_fetch_add(&counter, 1,
						     __ATOMIC_RELAXED);

		clock_gettime(CLOCK_MONOTONIC, &ts);
		(void)snprintf(name, n, "%s.mmvec-%lx%lx%lx", path,
			       (unsigned long)getpid(),
			       (unsigned long)ts.tv_nsec, c);
		fd = open_retry(name, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC |
					      O_NOCTTY);
	}
	if (fd < 0) {
		free(name);
		return fd;
	}
	*out = fd;
	*tmp_name = name;
	return 0;
}

int mmvec__os_file_create(const char *path, int *out, char **tmp_name)
{
	size_t len = strlen(path);

	*tmp_name = NULL;
	if (len == 0)
		return -ENOENT;
	if (path[len - 1] == '/')
		return -EISDIR;
#if defined(O_TMPFILE) && defined(__linux__) && !MMVEC_PORTABLE
	/* naming it later goes through /proc/self/fd (linkat() with
	 * AT_EMPTY_PATH needs a capability) */
	if (access("/proc/self/fd", X_OK) == 0) {
		char *dir = dir_of(path);
		int fd;

		if (!dir)
			return -ENOMEM;
		fd = open_retry(dir, O_TMPFILE | O_RDWR | O_CLOEXEC);
		free(dir);
		if (fd >= 0) {
			*out = fd;
			return 0;
		}
		/* file systems (and kernels) without O_TMPFILE say so in
		 * several ways: take the named way */
		if (fd != -EOPNOTSUPP && fd != -EISDIR && fd != -EINVAL)
			return fd;
	}
#endif
	return create_named(path, out, tmp_name);
}

/* fsync() of the directory that holds path's name. */
static void sync_dir(const char *path)
{
	char *dir = dir_of(path);
	int fd;

	if (!dir)
		return;
	fd = open_retry(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	free(dir);
	if (fd >= 0) {
		(void)fsync(fd);
		close(fd);
	}
}

/* link(2) the temporary name to path, then remove the temporary name. */
static int link_named(const char *tmp_name, const char *path)
{
	int rc = link(tmp_name, path) == 0 ? 0 : -errno;

	(void)unlink(tmp_name);
	return rc;
}

int mmvec__os_file_link(int fd, const char *tmp_name, const char *path)
{
	int rc;

	if (tmp_name) {
#if defined(RENAME_NOREPLACE) && !MMVEC_PORTABLE
		/* file systems without hard links (vfat) rename */
		rc = renameat2(AT_FDCWD, tmp_name, AT_FDCWD, path,
			       RENAME_NOREPLACE) == 0 ? 0 : -errno;
		if (rc == -ENOSYS || rc == -EINVAL)
			rc = link_named(tmp_name, path);
		else if (rc)
			(void)unlink(tmp_name);
#else
		rc = link_named(tmp_name, path);
#endif
	} else {
		char proc[64];

		/* linkat(AT_EMPTY_PATH) needs CAP_DAC_READ_SEARCH; the
		 * /proc/self/fd link works for everyone (create checked that
		 * /proc is there) */
		(void)snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
		rc = linkat(AT_FDCWD, proc, AT_FDCWD, path, AT_SYMLINK_FOLLOW);
		rc = rc == 0 ? 0 : -errno;
	}
	if (!rc)
		sync_dir(path);
	return rc;
}

void mmvec__os_file_drop(const char *tmp_name)
{
	if (tmp_name)
		(void)unlink(tmp_name);
}

int mmvec__os_file_dup(int fd, bool writable, int *out)
{
	int fl = fcntl(fd, F_GETFL);
	int acc, dup, rc;

	if (fl < 0)
		return -EBADF;
	rc = check_regular(fd);
	if (rc)
		return rc;
	acc = fl & O_ACCMODE;
	if (acc == O_WRONLY || (writable && acc != O_RDWR))
		return -EBADF;
	dup = fcntl(fd, F_DUPFD_CLOEXEC, 0);
	if (dup < 0)
		return -errno;
	*out = dup;
	return 0;
}

void mmvec__os_file_close(int fd)
{
	/* Linux closes the descriptor even when close() reports EINTR:
	 * never retry. */
	(void)close(fd);
}

int mmvec__os_file_lock(int fd)
{
	int rc;

	do
		rc = flock(fd, LOCK_EX | LOCK_NB);
	while (rc != 0 && errno == EINTR);
	if (rc != 0)
		return errno == EWOULDBLOCK ? -EBUSY : -errno;
	return 0;
}

void mmvec__os_file_unlock(int fd)
{
	(void)flock(fd, LOCK_UN);
}

int mmvec__os_file_size(int fd, uint64_t *size)
{
	struct stat st;

	if (fstat(fd, &st) != 0)
		return -errno;
	*size = st.st_size > 0 ? (uint64_t)st.st_size : 0;
	return 0;
}

/* An offset or size that off_t can hold. */
static bool fits_off(uint64_t x)
{
	return x <= (uint64_t)INT64_MAX &&
	       (sizeof(off_t) >= 8 || x <= (uint64_t)INT32_MAX);
}

int mmvec__os_file_read(int fd, void *buf, size_t size, uint64_t offset)
{
	char *p = buf;

	while (size) {
		ssize_t n;

		if (!fits_off(offset))
			return -EBADMSG;
		n = pread(fd, p, size, (off_t)offset);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return -EBADMSG;
		p += n;
		size -= (size_t)n;
		offset += (uint64_t)n;
	}
	return 0;
}

int mmvec__os_file_allocate(int fd, uint64_t from, uint64_t size)
{
	struct rlimit lim;
	int rc;

	if (size <= from)
		return 0;
	if (!fits_off(size))
		return -EFBIG;
	/* The kernel sends SIGXFSZ to a process that grows a file past its
	 * limit, and that signal's default action ends it: return the error
	 * the call would have given, without the signal. */
	if (getrlimit(RLIMIT_FSIZE, &lim) == 0 && lim.rlim_cur != RLIM_INFINITY &&
	    size > (uint64_t)lim.rlim_cur)
		return -EFBIG;
	do
		rc = posix_fallocate(fd, (off_t)from, (off_t)(size - from));
	while (rc == EINTR);
	if (rc == EFBIG || rc == ENOSPC)
		return -rc;
	/* EINVAL/EOPNOTSUPP: the file system cannot allocate blocks ahead,
	 * and glibc's emulation (a byte written per block) did not either
	 * (it refuses O_APPEND descriptors, for one). Extend the size alone:
	 * populating the mapping then makes the file system reserve the
	 * blocks, and reports a full disk. */
	if (rc == EINVAL || rc == EOPNOTSUPP || rc == EBADF) {
		uint64_t have = 0;

		rc = mmvec__os_file_size(fd, &have);
		if (rc)
			return rc;
		return have >= size ? 0 : mmvec__os_file_truncate(fd, size);
	}
	return -rc;
}

int mmvec__os_file_truncate(int fd, uint64_t size)
{
	int rc;

	if (!fits_off(size))
		return -EFBIG;
	do
		rc = ftruncate(fd, (off_t)size);
	while (rc != 0 && errno == EINTR);
	return rc == 0 ? 0 : -errno;
}

int mmvec__os_map_file(void *addr, size_t size, int fd, uint64_t offset,
		       bool writable)
{
	int prot = PROT_READ | (writable ? PROT_WRITE : 0);
	int err;

	if (!fits_off(offset) || !fits_off(offset + size))
		return -EFBIG;
	/* MAP_FIXED over the PROT_NONE reservation: the address stays the
	 * same, the file's pages take the reservation's place. */
	/* cppcheck-suppress leakReturnValNotUsed ; the mapping replaces part
	 * of the reservation, which mmvec__os_release() unmaps */
	if (mmap(addr, size, prot, MAP_SHARED | MAP_FIXED, fd, (off_t)offset) !=
	    MAP_FAILED)
		return 0;
	err = errno;
	/* A failed MAP_FIXED may already have unmapped the range: put the
	 * reservation back, so that nobody else's mapping lands in it. */
	/* cppcheck-suppress leakReturnValNotUsed ; part of the reservation */
	(void)map_none(addr, size, MAP_FIXED);
	return err == EAGAIN ? -ENOMEM : -err;
}

int mmvec__os_map_file_any(size_t size, int fd, bool writable, void **out)
{
	int prot = PROT_READ | (writable ? PROT_WRITE : 0);
	void *p = mmap(NULL, size, prot, MAP_SHARED, fd, 0);

	if (p == MAP_FAILED)
		return errno == EAGAIN ? -ENOMEM : -errno;
	*out = p;
	return 0;
}

int mmvec__os_populate_file(void *addr, size_t size)
{
	INJECT(MMVEC__OS_FILE_POPULATE, size);
#ifdef USE_POPULATE_WRITE
	/* EFAULT: a store would have raised SIGBUS, which for a file sized
	 * beforehand means the file system had no block for the page */
	if (madvise(addr, size, MADV_POPULATE_WRITE) == 0)
		return 0;
	if (errno == EINVAL)
		return -EOPNOTSUPP;
	if (errno == EFAULT || errno == ENOSPC)
		return -ENOSPC;
	return errno == EHWPOISON || errno == EIO ? -EIO : -ENOMEM;
#else
	(void)addr;
	(void)size;
	return -EOPNOTSUPP;
#endif
}

int mmvec__os_sync(void *addr, size_t size)
{
	int rc;

	INJECT(MMVEC__OS_FILE_SYNC, size);
	do
		rc = msync(addr, size, MS_SYNC);
	while (rc != 0 && errno == EINTR);
	return rc == 0 ? 0 : -errno;
}
