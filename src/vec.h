/*
 * SPDX-License-Identifier: MIT
 *
 * The vector layer's state: struct mmvec, whose start is the public struct
 * mmvec_head, and the accessors for its length that every part of vec.c
 * uses. vec.c and vec-file.c include it.
 */
#ifndef MMVEC_VEC_H
#define MMVEC_VEC_H

#include "config.h"

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>

#include "file.h"
#include "os.h"
#include "region.h"

struct mmvec {
	/* What the inline push in mmvec.h and mmvec_push()'s hot path read,
	 * first and together. head.len is written by the one writer with
	 * release stores, after the elements below it, and read by other
	 * threads with acquire loads. head.room is what inline code may fill
	 * (see update_room()); head.data is region.base. */
	struct mmvec_head head;
	/* elem_size when mmvec_push() can copy it with one move (1, 2, 4, 8
	 * or 16), else 0 */
	size_t fast_size;
	/* What mmvec_push()'s own hot path may fill: head.room, except for
	 * a file's writer, whose appends the library publishes in the file
	 * and which inline code must therefore leave to it (update_room()) */
	size_t fast_room;
	/* min(committed / elem_size, max_len); relaxed atomics, since readers
	 * and other growers read it while one thread grows (grow_lock()). */
	size_t cap;
	/* The growth lock: 0 free, 1 held (grow_lock()). */
	unsigned grow_lock;
	/* The file behind the region (file.h), or NULL. */
	struct mmvec_file *file;

	size_t max_len;
	/* High-water mark of written bytes: max(hwm, len * elem_size). Bytes
	 * at or above it have not been written since they were committed, so
	 * they still read as zero and new elements only need zeroing below
	 * it. Appending raises the mark through len alone (so inline appends
	 * need not touch it); calls that lower len raise hwm first
	 * (keep_mark()). */
	size_t hwm;
	/* Slots claimed past len by mmvec_claim(), not yet published. */
	size_t claimed;
	/* Whether to tell Valgrind or ASan about [len, capacity). */
	bool annotate;
	/* MMVEC_PRETOUCH (pretouch.c): served by the pre-faulting thread,
	 * in pretouch_step bytes at a time. `ready` bytes from the base are
	 * committed and faulted in: the thread's release stores, the
	 * writer's acquire loads (update_room()); changed by others only
	 * while the thread is kept off the vector (mmvec__pretouch_pause()).
	 * pt_next links the thread's list, pt_paused keeps the thread off,
	 * pt_failed is the length at which a commit was refused (the thread
	 * tries again once the length moved), all under the list's lock. */
	bool pretouch;
	bool pt_paused;
	size_t pretouch_step;
	size_t ready;
	size_t pt_failed;
	struct mmvec *pt_next;
	struct mmvec_region region;
	/* Many producers' state (vec-mp.c: the claimed end and the
	 * carry-over table), allocated by the first mmvec_mp_claim() and
	 * then never freed before mmvec_free(); NULL for a vector that has
	 * had none. Atomic pointer. */
	struct mmvec_mp *mp;
};

/* struct mmvec_head is ABI from 1.1 on: a struct mmvec * converts to it, and
 * its members sit where programs compiled against 1.1's header look. */
_Static_assert(offsetof(struct mmvec, head) == 0, "head first");
_Static_assert(offsetof(struct mmvec_head, len) == 0, "len");
_Static_assert(offsetof(struct mmvec_head, room) == sizeof(size_t), "room");
_Static_assert(offsetof(struct mmvec_head, data) == 2 * sizeof(size_t),
	       "data");
_Static_assert(offsetof(struct mmvec_head, elem_size) ==
		       2 * sizeof(size_t) + sizeof(void *),
	       "elem_size");

/* The writer's own view of the length: nobody else writes it. */
static inline size_t own_len(const struct mmvec *v)
{
	return __atomic_load_n(&v->head.len, __ATOMIC_RELAXED);
}

/* vec-mp.c: the writer changed the length of a vector that has had
 * producers, with none open: the next claim starts at len. */
void mmvec__mp_sync(struct mmvec *v, size_t len);

/* vec-mp.c: where the next claim starts (v->mp is not NULL). */
size_t mmvec__mp_end(const struct mmvec *v);

/* Whether v has had many producers (vec-mp.c). */
static inline bool mp_used(const struct mmvec *v)
{
	return MMVEC_UNLIKELY(__atomic_load_n(&v->mp, __ATOMIC_ACQUIRE) != NULL);
}

/* Whether producers hold claims that are not yet all in the length: the
 * writer's calls that change the length then fail with -EBUSY. A cheap
 * check for misuse, not a lock: the contract has the writer call them only
 * once the producers are stopped. */
static inline bool mp_busy(const struct mmvec *v)
{
	if (!mp_used(v))
		return false;
	return mmvec__mp_end(v) !=
	       __atomic_load_n(&v->head.len, __ATOMIC_ACQUIRE);
}

/* Make a higher length visible to readers after the elements below it:
 * threads of this process through head.len, other processes through the
 * file's live length. */
static inline void publish_len(struct mmvec *v, size_t len)
{
	__atomic_store_n(&v->head.len, len, __ATOMIC_RELEASE);
	if (MMVEC_UNLIKELY(v->file != NULL))
		mmvec__file_publish(v->file, len);
	if (mp_used(v))
		mmvec__mp_sync(v, len);
}

/* A reader of a file (MMVEC_RDONLY). */
static inline bool read_only(const struct mmvec *v)
{
	return MMVEC_UNLIKELY(v->file != NULL) && v->file->rdonly;
}

/* Whether this process may modify v: -EBADF for a reader, -ECHILD for a
 * file's writer inherited through fork() (only the process that opened
 * it may change the file), else 0. */
static inline int file_denied(const struct mmvec *v)
{
	if (MMVEC_LIKELY(v->file == NULL))
		return 0;
	if (v->file->rdonly)
		return -EBADF;
	return mmvec__file_forked(v->file) ? -ECHILD : 0;
}

/* file_denied(), then -EBUSY while producers hold claims (mp_busy()): the
 * first checks of the writer's calls that change the length. */
static inline int writer_denied(const struct mmvec *v)
{
	int rc = file_denied(v);

	if (!rc && mp_busy(v))
		rc = -EBUSY;
	return rc;
}

/* Before the length drops to len: a file's writer makes sure the disk
 * holds no synced length above it (file.h). 0 or the error, and then
 * nothing has changed. */
static inline int lower_len(struct mmvec *v, size_t len)
{
	if (MMVEC_LIKELY(v->file == NULL))
		return 0;
	return mmvec__file_lower(v->file, len);
}

static inline size_t own_cap(const struct mmvec *v)
{
	return __atomic_load_n(&v->cap, __ATOMIC_RELAXED);
}

static inline char *base(const struct mmvec *v)
{
	return v->head.data;
}

/* A reader's length follows the writer's, mapping more of the file as it
 * grows: the region changes, not what the caller sees of the vector. */
static inline size_t follow(const struct mmvec *v)
{
	struct mmvec *w = (struct mmvec *)v;

	return mmvec__file_follow(w->file, &w->region);
}

/* With MMVEC_PRETOUCH, appends stop where the pre-faulted memory ends,
 * so that the writer's slow path runs there and sees how far the thread
 * got, without a system call. A writer that overtook the thread goes one
 * step on its own (taking the faults itself rather than waiting), then
 * looks again. */
static inline size_t pretouch_room(const struct mmvec *v, size_t room)
{
	size_t es = v->head.elem_size, len = own_len(v);
	size_t ready = __atomic_load_n(&v->ready, __ATOMIC_ACQUIRE) / es;

	if (ready <= len) {
		size_t step = v->pretouch_step;

		/* cannot overflow: len * es <= committed, far below SIZE_MAX */
		ready = ((len * es) / step * step + step) / es;
		if (ready <= len)
			ready = len + 1;
	}
	return room < ready ? room : ready;
}

/* Appends may fill [len, room) unseen: all of the capacity, unless the
 * library must see every append (checkers to tell, a claim that an append
 * would overwrite, or producers, whose claims run ahead of len: a vector
 * that has had one leaves every append of its writer to the library). A
 * file's writer lets only the library's own
 * hot path append unseen, and only into pages already populated (file.h):
 * the library then publishes the live length in the file on every append,
 * so that readers in other processes see each one at once. Only the
 * writer reads the rooms. */
static inline void update_room(struct mmvec *v)
{
	size_t room = v->annotate || v->claimed || mp_used(v) ? 0 : own_cap(v);

	if (MMVEC_UNLIKELY(v->pretouch) && room && !v->file)
		room = pretouch_room(v, room);
	if (MMVEC_UNLIKELY(v->file != NULL)) {
		size_t ready = v->file->populated / v->head.elem_size;

		v->fast_room = room < ready ? room : ready;
		v->head.room = 0;
		return;
	}
	v->fast_room = room;
	v->head.room = room;
}

/* The capacity follows the region, with the growth lock held (or by the
 * writer while no other thread may grow v). The rooms do not: the caller
 * that is the writer updates them. */
static inline void update_cap(struct mmvec *v)
{
	size_t cap = v->region.committed / v->head.elem_size;

	if (cap > v->max_len)
		cap = v->max_len;
	__atomic_store_n(&v->cap, cap, __ATOMIC_RELAXED);
}

/* ---------------------------------------------------------------------------
 * The growth lock
 *
 * Several threads may grow one vector at once: its one writer, producers
 * that append from many threads, and a thread that commits and faults in
 * memory ahead of the writer. The growth lock serialises what growing
 * changes: the region (its committed size, the commit itself and the
 * checkers' marks on the newly committed part) and the capacity (cap).
 * - Only the holder reads or writes region.committed; other threads read
 *   the capacity (own_cap(), a relaxed atomic), which does not go down
 *   while they may run.
 * - The rooms (head.room, fast_room) are the one writer's alone: a thread
 *   that grows the capacity for others leaves them as they are, and the
 *   writer's slow path finds the larger capacity and updates them
 *   (update_room()), without a system call.
 * - It is held around a commit only (mprotect, a few microseconds), never
 *   while pages are faulted in (a 2 MiB huge-page fault takes about 0.1 ms
 *   here, milliseconds when the host must find the memory): so a spin
 *   that gives the CPU away after a while is enough, and costs an
 *   uncontended writer one exchange per commit.
 * - Calls that shrink or free the vector need every other grower stopped
 *   (the contract's rule for shrinking calls); they take the lock around
 *   the region's change all the same.
 * ------------------------------------------------------------------------- */

static inline void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#elif defined(__aarch64__) || (defined(__arm__) && __ARM_ARCH >= 7)
	__asm__ __volatile__("yield");
#endif
}

static inline void grow_lock(struct mmvec *v)
{
	unsigned spins = 0;

	while (__atomic_exchange_n(&v->grow_lock, 1u, __ATOMIC_ACQUIRE)) {
		/* wait reading, not writing, the line the holder releases */
		while (__atomic_load_n(&v->grow_lock, __ATOMIC_RELAXED)) {
			if (spins < 128) {
				spins++;
				cpu_relax();
			} else {
				mmvec__os_yield();
			}
		}
	}
}

static inline void grow_unlock(struct mmvec *v)
{
	__atomic_store_n(&v->grow_lock, 0u, __ATOMIC_RELEASE);
}

/* Before the length drops: remember how far elements reached. */
static inline void keep_mark(struct mmvec *v, size_t len)
{
	if (len * v->head.elem_size > v->hwm)
		v->hwm = len * v->head.elem_size;
}

/* vec.c, for the one writer: commit at least [0, bytes) of v's region
 * (bytes <= the reservation), the capacity, the checkers' view and the
 * writer's rooms following. 0 or -ENOMEM, and nothing changes on failure. */
int mmvec__vec_commit(struct mmvec *v, size_t bytes);

/* vec.c, for any thread that grows v (the growth lock is taken inside):
 * the same as the writer's growth for new_len elements (new_len <=
 * max_len, checked by the caller): committed memory doubles, or what is
 * needed when the kernel refuses that. mmvec__vec_commit_ahead() commits
 * exactly [0, bytes) (rounded up by the region). Both leave the writer's
 * rooms alone. 0 or -ENOMEM, and nothing changes on failure. */
int mmvec__vec_grow(struct mmvec *v, size_t new_len);
int mmvec__vec_commit_ahead(struct mmvec *v, size_t bytes);

/* ---------------------------------------------------------------------------
 * Pre-faulting ahead of the writer (pretouch.c)
 * ------------------------------------------------------------------------- */

/* A new MMVEC_PRETOUCH vector v (its step set, not yet handed out): the
 * first steps pre-faulted here, v added to the thread's list, and the
 * thread started if it is not running. 0, or -EAGAIN / -ENOMEM when the
 * thread could not start: then v is not in the list. */
int mmvec__pretouch_join(struct mmvec *v);
/* vec.c: MMVEC_PRETOUCH for a new vector v, before it is handed out: its
 * step (a huge page, else MMVEC__PRETOUCH_STEP), then
 * mmvec__pretouch_join(), whose errors it returns; the caller then frees
 * v. */
int mmvec__vec_start_pretouch(struct mmvec *v);
/* The step without huge pages: large enough that its faults cost more
 * than looking at the thread's list, small enough that a writer that
 * overtook the thread faults in little by itself. */
#define MMVEC__PRETOUCH_STEP ((size_t)512 << 10)

/* The flag's combinations (mmvec_new(), mmvec_open()): -EINVAL with
 * MMVEC_POPULATE (which faults in inside the growing call, what
 * MMVEC_PRETOUCH moves off the writer) or MMVEC_RDONLY (nothing to
 * append to). */
static inline int mmvec__check_pretouch(unsigned flags)
{
	if ((flags & MMVEC_PRETOUCH) &&
	    (flags & (MMVEC_POPULATE | MMVEC_RDONLY)))
		return -EINVAL;
	return 0;
}
/* mmvec_free(): v leaves the list, after the thread's current step on it
 * if it is taking one. */
void mmvec__pretouch_leave(struct mmvec *v);
/* Keep the thread off v (waiting for its current step on it), and let it
 * back: around mmvec_shrink_to_fit(), which lowers `ready` to what stays
 * committed. */
void mmvec__pretouch_pause(struct mmvec *v);
void mmvec__pretouch_resume(struct mmvec *v);
/* The writer's slow path: start the thread again if it is not running
 * (in a child of fork(), which has no thread), cheaply otherwise. */
void mmvec__pretouch_kick(void);

/* vec-file.c: a file's writer populates its pages for new_len elements
 * before an append uses them. */
int mmvec__vec_file_ready(struct mmvec *v, size_t new_len);

#endif /* MMVEC_VEC_H */
