/*
 * SPDX-License-Identifier: MIT
 *
 * The OS layer for POSIX systems, the pre-faulting thread's part
 * (pretouch.c): starting a detached library thread, sleeping, and
 * faulting in memory that another thread may be storing into. See os.h
 * for the rules every function obeys.
 */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

/* the fault-injection counters are defined in os-posix.c */
#define MMVEC_OS_INJECT_EXTERN 1
#include "os.h"
#include "os-inject.h"

#if defined(__linux__) && !MMVEC_PORTABLE && HAVE_MADV_POPULATE_WRITE
#define USE_POPULATE_WRITE 1
#endif

/* ---------------------------------------------------------------------------
 * The thread
 * ------------------------------------------------------------------------- */

struct start {
	void (*fn)(void *);
	void *arg;
};

static void *run(void *p)
{
	struct start s = *(struct start *)p;

	free(p);
	s.fn(s.arg);
	return NULL;
}

int mmvec__os_thread_start(void (*fn)(void *), void *arg, const char *name)
{
	struct start *s;
	pthread_attr_t attr;
	sigset_t all, old;
	pthread_t t;
	int rc;

	INJECT(MMVEC__OS_THREAD, 0);
	s = malloc(sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->fn = fn;
	s->arg = arg;
	rc = pthread_attr_init(&attr);
	if (rc) {
		free(s);
		return -ENOMEM;
	}
	(void)pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	/* The new thread inherits the creator's mask: every signal blocked,
	 * so that none is delivered to a thread the program does not know. */
	sigfillset(&all);
	(void)pthread_sigmask(SIG_SETMASK, &all, &old);
	rc = pthread_create(&t, &attr, run, s);
	(void)pthread_sigmask(SIG_SETMASK, &old, NULL);
	pthread_attr_destroy(&attr);
	if (rc) {
		free(s);
		return rc == ENOMEM ? -ENOMEM : -EAGAIN;
	}
#ifdef SCHED_BATCH
	/* Linux: a batch thread never preempts another on waking up, so that
	 * its wakeups (every 250 us while it has work) do not take the CPU
	 * from the writer it serves; its share of the CPU is unchanged.
	 * Failing to set it changes nothing. */
	{
		struct sched_param sp;

		memset(&sp, 0, sizeof(sp));
		(void)pthread_setschedparam(t, SCHED_BATCH, &sp);
	}
#endif
#if HAVE_PTHREAD_SETNAME_NP
	/* named by its creator, so that it has the name once this returns:
	 * top -H and gdb show it; failing to name it changes nothing */
	(void)pthread_setname_np(t, name);
#else
	(void)name;
#endif
	return 0;
}

void mmvec__os_sleep_us(unsigned us)
{
	struct timespec ts;

	ts.tv_sec = us / 1000000u;
	ts.tv_nsec = (long)(us % 1000000u) * 1000;
	/* signals are blocked on the thread that sleeps: no EINTR to retry
	 * in practice, and a shorter sleep is harmless */
	(void)nanosleep(&ts, NULL);
}

/* ---------------------------------------------------------------------------
 * Pre-faulting
 * ------------------------------------------------------------------------- */

int mmvec__os_prefault(void *addr, size_t size, bool touch)
{
	size_t page = mmvec__os_page_size();
	char *p = addr;

	INJECT(MMVEC__OS_PREFAULT, size);
#ifdef USE_POPULATE_WRITE
	/* present pages are left as they are: stores racing with it are
	 * safe */
	if (madvise(addr, size, MADV_POPULATE_WRITE) == 0)
		return 0;
	/* EINVAL: a kernel before 5.14 */
	if (errno != EINVAL)
		return -ENOMEM;
#endif
	if (!touch)
		return -EOPNOTSUPP;
	/* An atomic read-modify-write of each page's first byte: a write
	 * fault, and a store another thread makes meanwhile survives it. */
	for (size_t off = 0; off < size; off += page)
		(void)__atomic_fetch_or(p + off, (char)0, __ATOMIC_RELAXED);
	return 0;
}
