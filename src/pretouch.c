/*
 * SPDX-License-Identifier: MIT
 *
 * Pre-faulting ahead of the writer (MMVEC_PRETOUCH, mmvec_pretouch()):
 * memory past a vector's length is committed and faulted in before the
 * writer's appends reach it, by one library thread per process or by a
 * thread of the program, so that appends take no page fault and make no
 * system call in the steady state. doc/design.md says why and what was
 * measured.
 *
 * The thread serves a list of vectors: one step (pretouch_step bytes) of
 * one vector at a time, the commit under the vector's growth lock, the
 * faults with the lock released, then `ready` moves up (a release store
 * that the writer's slow path reads, update_room()). It starts with the
 * first MMVEC_PRETOUCH vector, sleeps when every vector is far enough
 * ahead, and ends a while after the list emptied. In a child of fork(),
 * which has no thread, the writers' slow paths start it again.
 */
#include "config.h"

#include <errno.h>
#include <stddef.h>

#include "mmvec.h"
#include "os.h"
#include "region.h"
#include "vec.h"

/* How far ahead of the length, in steps: a quarter of the length, within
 * these bounds. A small vector gets little resident memory past its
 * elements; a large one gets up to 128 MiB (huge pages), which a writer
 * appending at 4-8 GB/s fills in 16-32 ms: the thread may wait that long
 * for a CPU (a scheduler tick is 4 ms, and on a loaded machine it waits
 * several) before the writer catches up with it. 16 steps (32 MiB, one
 * tick or two) let the writer catch up in measured runs. */
#define MIN_AHEAD 4
#define MAX_AHEAD 64
/* The thread's sleep when every vector is ahead, and how long it stays
 * once the list is empty (a program that frees and creates vectors in a
 * loop keeps its thread). */
#define NAP_US 250u
#define LINGER_US 100000u

/* ---------------------------------------------------------------------------
 * The list of served vectors
 *
 * A spin lock that yields: held for list changes and to pick a vector,
 * never across a step; the thread marks the vector it works on as
 * `current`, which mmvec_free() and mmvec_shrink_to_fit() wait out.
 * ------------------------------------------------------------------------- */

static unsigned list_lock;
static struct mmvec *served;
static struct mmvec *current;
static bool running;
/* a start failed in a writer's slow path: do not try again from there
 * until a vector joins */
static bool gave_up;
/* the fork handlers: 0 not registered, 1 being registered, 2 done */
static unsigned atfork_state;

static void lock(void)
{
	while (__atomic_exchange_n(&list_lock, 1u, __ATOMIC_ACQUIRE))
		while (__atomic_load_n(&list_lock, __ATOMIC_RELAXED))
			mmvec__os_yield();
}

static void unlock(void)
{
	__atomic_store_n(&list_lock, 0u, __ATOMIC_RELEASE);
}

/* Around fork(): the lock is taken so that the list is whole in the
 * child, which has no thread: nothing is current there, and the thread
 * is started again when a writer next needs it. */
static void fork_prepare(void)
{
	lock();
}

static void fork_parent(void)
{
	unlock();
}

static void fork_child(void)
{
	current = NULL;
	__atomic_store_n(&running, false, __ATOMIC_RELAXED);
	__atomic_store_n(&gave_up, false, __ATOMIC_RELAXED);
	unlock();
}

/* Wait, with the lock held, until the thread is not working on v. */
static void wait_off(const struct mmvec *v)
{
	while (__atomic_load_n(&current, __ATOMIC_ACQUIRE) == v) {
		unlock();
		mmvec__os_yield();
		lock();
	}
}

/* ---------------------------------------------------------------------------
 * One step
 * ------------------------------------------------------------------------- */

/* The bytes from the base that may be pre-faulted: up to max_len's last
 * page, within the reservation, and for a file's writer only what is
 * already mapped and allocated (its committed part), which never extends
 * the file. */
static size_t limit(struct mmvec *v)
{
	size_t bytes, top;

	if (v->file) {
		grow_lock(v);
		bytes = v->region.committed;
		grow_unlock(v);
		return bytes;
	}
	top = mmvec__region_owned(&v->region);
	/* max_len * elem_size fits, and rounding it up to a page stays
	 * within the reservation, which is whole pages */
	bytes = mmvec__align_up(v->max_len * v->head.elem_size,
				v->region.page);
	return bytes < top ? bytes : top;
}

/* Commit and fault in [from, to) (page multiples, to <= limit(v)): 0,
 * or -ENOMEM (the commit was refused, or the kernel had no memory for
 * the faults), -ENOSPC / -EIO (a file system could not back the pages).
 * Nothing the caller sees changes but the capacity, which may grow. */
static int prefault(struct mmvec *v, size_t from, size_t to)
{
	int rc;

	if (to <= from)
		return 0;
	if (v->file) {
		rc = mmvec__os_populate_file(base(v) + from, to - from);
		/* nothing to do it with: the pages fault in as they are used,
		 * as without the flag; touching could raise SIGBUS */
		return rc == -EOPNOTSUPP ? 0 : rc;
	}
	if (to > own_cap(v) * v->head.elem_size) {
		rc = mmvec__vec_commit_ahead(v, to);
		if (rc)
			return rc;
	}
	/* Memory a checker watches is not touched: the kernel faults it in,
	 * or the writer does. */
	rc = mmvec__os_prefault(base(v) + from, to - from, !v->annotate);
	return rc == -EOPNOTSUPP ? 0 : rc;
}

/* Where the writer's length is in bytes, and how far ahead of it the
 * thread keeps memory ready. */
static size_t target(const struct mmvec *v, size_t used)
{
	size_t step = v->pretouch_step, ahead = used / 4;

	if (ahead < MIN_AHEAD * step)
		ahead = MIN_AHEAD * step;
	if (ahead > MAX_AHEAD * step)
		ahead = MAX_AHEAD * step;
	return used + ahead; /* used <= the reservation: cannot overflow */
}

/* The thread's next step on v: true if it did one. */
static bool take_step(struct mmvec *v)
{
	size_t es = v->head.elem_size, len, used, from, to, top, want;

	if (file_denied(v))
		return false;
	len = __atomic_load_n(&v->head.len, __ATOMIC_ACQUIRE);
	if (len == v->pt_failed)
		return false;
	used = mmvec__align_up(len * es, v->region.page);
	top = limit(v);
	want = target(v, used);
	if (want > top)
		want = top;
	from = __atomic_load_n(&v->ready, __ATOMIC_RELAXED);
	/* what the writer already passed needs nothing */
	if (from < used)
		from = used;
	if (from >= want)
		return false;
	to = from / v->pretouch_step * v->pretouch_step + v->pretouch_step;
	if (to > top)
		to = top;
	if (prefault(v, from, to)) {
		/* nothing changed; the writer's own growth reports the
		 * error, and the thread waits for the length to move */
		v->pt_failed = len;
		return false;
	}
	v->pt_failed = (size_t)-1;
	__atomic_store_n(&v->ready, to, __ATOMIC_RELEASE);
	return true;
}

/* ---------------------------------------------------------------------------
 * The thread
 * ------------------------------------------------------------------------- */

/* The i-th vector the thread may work on, made current; NULL past the
 * end. The lock is held. */
static struct mmvec *pick(unsigned i)
{
	struct mmvec *v;

	for (v = served; v; v = v->pt_next)
		if (!v->pt_paused && i-- == 0)
			break;
	__atomic_store_n(&current, v, __ATOMIC_RELEASE);
	return v;
}

static void serve(void *arg)
{
	unsigned idle = 0;

	(void)arg;
	for (;;) {
		bool worked = false;

		for (unsigned i = 0;; i++) {
			struct mmvec *v;

			lock();
			v = pick(i);
			unlock();
			if (!v)
				break;
			worked |= take_step(v);
			__atomic_store_n(&current, NULL, __ATOMIC_RELEASE);
		}
		if (worked)
			continue;
		lock();
		if (!served && idle >= LINGER_US) {
			__atomic_store_n(&running, false, __ATOMIC_RELAXED);
			unlock();
			return;
		}
		idle = served ? 0 : idle + NAP_US;
		unlock();
		mmvec__os_sleep_us(NAP_US);
	}
}

/* Register the fork handlers once, without the list's lock: fork() runs
 * fork_prepare() holding the lock that pthread_atfork() takes, so a
 * registration under the list's lock could wait for a fork that waits
 * for the list. */
static int register_atfork(void)
{
	unsigned state = 0;
	int rc;

	while (!__atomic_compare_exchange_n(&atfork_state, &state, 1u, false,
					    __ATOMIC_ACQUIRE,
					    __ATOMIC_ACQUIRE)) {
		if (state == 2)
			return 0;
		mmvec__os_yield(); /* another thread is registering them */
		state = 0;
	}
	rc = mmvec__os_atfork(fork_prepare, fork_parent, fork_child);
	__atomic_store_n(&atfork_state, rc ? 0u : 2u, __ATOMIC_RELEASE);
	return rc == 0 ? 0 : rc == -ENOMEM ? -ENOMEM : -EAGAIN;
}

/* Start the thread if it is not running; the lock is held, the fork
 * handlers are registered. */
static int start(void)
{
	int rc;

	if (__atomic_load_n(&running, __ATOMIC_RELAXED))
		return 0;
	rc = mmvec__os_thread_start(serve, NULL, "mmvec-pretouch");
	if (!rc)
		__atomic_store_n(&running, true, __ATOMIC_RELAXED);
	return rc;
}

/* ---------------------------------------------------------------------------
 * The vector layer's calls
 * ------------------------------------------------------------------------- */

int mmvec__pretouch_join(struct mmvec *v)
{
	size_t top = limit(v), from, to;
	int rc;

	/* The first two steps now, by the creating call, from the page the
	 * length ends in (a file's elements below it are not dirtied). Best
	 * effort: the writer's growth reports what the kernel refuses. */
	v->pt_failed = (size_t)-1;
	from = own_len(v) * v->head.elem_size / v->region.page *
	       v->region.page;
	to = from + 2 * v->pretouch_step;
	if (to > top)
		to = top;
	if (to > from && !prefault(v, from, to))
		v->ready = to;
	rc = register_atfork();
	if (rc)
		return rc;
	lock();
	rc = start();
	if (!rc) {
		v->pt_next = served;
		served = v;
		__atomic_store_n(&gave_up, false, __ATOMIC_RELAXED);
	}
	unlock();
	return rc;
}

void mmvec__pretouch_leave(struct mmvec *v)
{
	struct mmvec **p;

	lock();
	wait_off(v);
	for (p = &served; *p; p = &(*p)->pt_next) {
		if (*p == v) {
			*p = v->pt_next;
			break;
		}
	}
	unlock();
}

void mmvec__pretouch_pause(struct mmvec *v)
{
	lock();
	v->pt_paused = true;
	wait_off(v);
	unlock();
}

void mmvec__pretouch_resume(struct mmvec *v)
{
	lock();
	v->pt_paused = false;
	unlock();
}

void mmvec__pretouch_kick(void)
{
	if (MMVEC_LIKELY(__atomic_load_n(&running, __ATOMIC_RELAXED)) ||
	    __atomic_load_n(&gave_up, __ATOMIC_RELAXED))
		return;
	/* registered by the join that made the vector */
	lock();
	if (start())
		__atomic_store_n(&gave_up, true, __ATOMIC_RELAXED);
	unlock();
}

/* ---------------------------------------------------------------------------
 * Public API
 * ------------------------------------------------------------------------- */

MMVEC_EXPORT int mmvec_pretouch(struct mmvec *v, size_t n)
{
	size_t es, len, from, to;
	int rc;

	if (!v)
		return -EINVAL;
	rc = file_denied(v);
	if (rc)
		return rc;
	es = v->head.elem_size;
	len = __atomic_load_n(&v->head.len, __ATOMIC_ACQUIRE);
	if (n > SIZE_MAX - len || len + n > SIZE_MAX / es)
		return -EOVERFLOW;
	if (len + n > v->max_len)
		return -ENOSPC;
	if (!n)
		return 0;
	from = len * es / v->region.page * v->region.page;
	to = mmvec__align_up((len + n) * es, v->region.page);
	if (v->file) {
		size_t top = limit(v);

		/* a file is pre-faulted where it is mapped and allocated
		 * only: beyond, the writer's appends allocate as they go */
		if (to > top)
			to = top;
	}
	return prefault(v, from, to);
}
