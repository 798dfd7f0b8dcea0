/*
 * SPDX-License-Identifier: MIT
 *
 * The OS layer for POSIX systems, its process-wide part: what the region
 * layer's reservation cache asks of the OS (the address space left, the
 * overcommit mode, a coarse clock, a lock, a process-wide barrier, fork and
 * thread-exit handlers). os-posix.c has the mappings; see os.h for the
 * rules every function obeys.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "os.h"

/* Linux's /proc and membarrier(2), each behind a feature test, so that the
 * file builds and works where they are missing, and so that a
 * -Dportable=true build runs the POSIX-only path on Linux to test it. */
#if defined(__linux__) && !MMVEC_PORTABLE
#define USE_PROC 1 /* /proc/self/stat, /proc/sys/vm */
#if HAVE_LINUX_MEMBARRIER_H
#define USE_MEMBARRIER 1
#include <linux/membarrier.h>
#include <sys/syscall.h>
#endif
#endif

/* ---------------------------------------------------------------------------
 * Process state for the reservation cache
 * ------------------------------------------------------------------------- */

#ifdef USE_PROC
/* Up to size - 1 bytes of a small /proc file, NUL-terminated; 0 or a
 * negative errno. */
static int read_proc(const char *path, char *buf, size_t size)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	buf[0] = '\0';
	if (fd < 0)
		return -errno;
	do
		n = read(fd, buf, size - 1);
	while (n < 0 && errno == EINTR);
	close(fd);
	if (n <= 0)
		return n < 0 ? -errno : -EIO;
	buf[n] = '\0';
	return 0;
}

/* From /proc/self/stat: field 23 (vsize, bytes mapped) and field 28
 * (startstack, where the main thread's stack starts: the kernel maps
 * everything else below it). The command name, field 2, may hold spaces
 * and parentheses: fields are counted from the last ')'. */
static int read_vm(size_t *vsize, size_t *top)
{
	char buf[1024];
	unsigned long long f[29];
	char *p;
	int rc = read_proc("/proc/self/stat", buf, sizeof(buf));

	if (rc)
		return rc;
	p = strrchr(buf, ')');
	if (!p || p[1] != ' ' || !p[2])
		return -EOPNOTSUPP;
	p += 3; /* past ") " and the one-letter state, field 3 */
	for (int i = 4; i <= 28; i++) {
		char *end;

		f[i] = strtoull(p, &end, 10);
		if (end == p)
			return -EOPNOTSUPP;
		p = end;
	}
	if (f[23] > SIZE_MAX || f[28] > SIZE_MAX)
		return -EOPNOTSUPP;
	*vsize = (size_t)f[23];
	*top = (size_t)f[28];
	return 0;
}
#endif

int mmvec__os_address_space(bool measure, bool *limited, size_t *left)
{
	struct rlimit lim;
	size_t cap = SIZE_MAX;

	*limited = getrlimit(RLIMIT_AS, &lim) == 0 &&
		   lim.rlim_cur != RLIM_INFINITY;
	if (*limited && lim.rlim_cur < SIZE_MAX)
		cap = (size_t)lim.rlim_cur;
	if (!measure)
		return 0;
#ifdef USE_PROC
	size_t vsize, top;
	int rc = read_vm(&vsize, &top);

	/* A process always has its own text mapped: a size of 0 is not a
	 * measurement but an emulated file (qemu-user's /proc/self/stat
	 * reports 0 there, and the guest's stack start, below which its
	 * mappings need not lie): then the size is found by a probe. */
	if (rc || vsize == 0)
		return -EOPNOTSUPP;
	/* a hidden stack address reads 0: then only a limit bounds it */
	if (top && top < cap)
		cap = top;
	if (cap == SIZE_MAX)
		return -EOPNOTSUPP;
	*left = cap > vsize ? cap - vsize : 0;
	return 0;
#else
	(void)left;
	(void)cap;
	return -EOPNOTSUPP;
#endif
}

bool mmvec__os_strict_commit(void)
{
#ifdef USE_PROC
	char buf[16];

	return read_proc("/proc/sys/vm/overcommit_memory", buf,
			 sizeof(buf)) == 0 && buf[0] == '2';
#else
	return false;
#endif
}

uint64_t mmvec__os_now_ms(void)
{
	struct timespec ts;

#ifdef CLOCK_MONOTONIC_COARSE
	/* the vDSO's coarse clock: a few ns, no system call */
	if (clock_gettime(CLOCK_MONOTONIC_COARSE, &ts) == 0)
		return (uint64_t)ts.tv_sec * 1000u +
		       (uint64_t)ts.tv_nsec / 1000000u;
#endif
	if (clock_gettime(CLOCK_MONOTONIC, &ts) != 0)
		return 0;
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

void mmvec__os_lock(void)
{
	(void)pthread_mutex_lock(&lock);
}

void mmvec__os_unlock(void)
{
	(void)pthread_mutex_unlock(&lock);
}

void mmvec__os_yield(void)
{
	(void)sched_yield();
}

#ifdef USE_MEMBARRIER
bool mmvec__os_barrier_init(void)
{
	return syscall(SYS_membarrier,
		       MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED, 0, 0) == 0;
}

void mmvec__os_barrier(void)
{
	/* registered: cannot fail */
	(void)syscall(SYS_membarrier, MEMBARRIER_CMD_PRIVATE_EXPEDITED, 0, 0);
}
#else
bool mmvec__os_barrier_init(void)
{
	return false;
}

void mmvec__os_barrier(void)
{
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
}
#endif

int mmvec__os_atfork(void (*prepare)(void), void (*parent)(void),
		     void (*child)(void))
{
	return -pthread_atfork(prepare, parent, child);
}

/* One key, made on first use: its destructor is the thread-exit call. */
static pthread_once_t exit_once = PTHREAD_ONCE_INIT;
static pthread_key_t exit_key;
static void (*exit_fn)(void *);
static int exit_err;

static void make_exit_key(void)
{
	/* atomic: a second thread may store the same function meanwhile */
	exit_err = pthread_key_create(&exit_key,
				      __atomic_load_n(&exit_fn, __ATOMIC_ACQUIRE));
}

int mmvec__os_at_thread_exit(void (*fn)(void *), void *arg)
{
	/* written before the once-call that publishes it, and always with
	 * the same function */
	if (!__atomic_load_n(&exit_fn, __ATOMIC_ACQUIRE))
		__atomic_store_n(&exit_fn, fn, __ATOMIC_RELEASE);
	if (pthread_once(&exit_once, make_exit_key) != 0 || exit_err)
		return -ENOMEM;
	return pthread_setspecific(exit_key, arg) ? -ENOMEM : 0;
}

/* ---------------------------------------------------------------------------
 * fork()
 * ------------------------------------------------------------------------- */

static unsigned long forks;

/* Runs in the child, which has one thread then. */
static void count_fork(void)
{
	__atomic_store_n(&forks, forks + 1, __ATOMIC_RELAXED);
}

static pthread_once_t fork_once = PTHREAD_ONCE_INIT;

static void watch_forks(void)
{
	(void)mmvec__os_atfork(NULL, NULL, count_fork);
}

const unsigned long *mmvec__os_fork_watch(void)
{
	(void)pthread_once(&fork_once, watch_forks);
	return &forks;
}
