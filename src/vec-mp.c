/*
 * SPDX-License-Identifier: MIT
 *
 * Many producers: threads that claim slots past the length with a CAS on
 * the claimed end, fill them, and publish them, while readers keep the
 * single-writer rule (acquire the length, read below it).
 *
 * The length (head.len) only ever covers complete elements, with no gap.
 * Publication never waits for another producer's claim: the producer
 * whose claim starts at the length (the one at the front) raises the
 * length over its claim and then over every later claim already
 * complete; a producer whose claim starts above the length records its
 * completed range in a carry-over table for whoever reaches the front,
 * as the end of the range there that ends where it starts, if any, so
 * that producers completing in order behind a pre-empted one share one
 * slot. A producer pre-empted between claim and publish therefore delays
 * only the visibility of the claims after its own; nobody waits for it,
 * except a publisher that finds the table full (MP_SLOTS ranges with
 * gaps between them), which yields until a slot is free or its own claim
 * is at the front.
 *
 * The front moves by a handshake with sequentially consistent operations
 * (Dekker's): the front stores the length, then reads the table; a
 * publisher above it stores its range in the table, then reads the
 * length. One of the two sees the other, so no completed range is left
 * behind, and both may: a CAS on the table slot decides who takes it.
 * Exactly one thread at a time is the front (the one whose claim starts at
 * the length, or who took the range starting there from the table), so
 * the length only goes up. A slot is locked while it changes, and a range
 * is read from it only under that lock: a producer that takes its own
 * range back may find it grown by the claims after it.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "annotate.h"
#include "vec.h"

/* Completed ranges that can wait in the table for the front. */
#define MP_SLOTS 128
/* A slot's key: 0 free, BUSY being filled, else the range's start + 1
 * (start < max_len <= SIZE_MAX / elem_size, so never BUSY). */
#define BUSY SIZE_MAX

struct mp_slot {
	size_t key;
	size_t end;
};

struct mmvec_mp {
	/* The claimed end, where the next claim starts: taken by producers
	 * with a CAS; set by the writer (mmvec__mp_sync()) only while no
	 * claim is open. */
	size_t end;
	/* cppcheck-suppress unusedStructMember ; a line of its own */
	char pad0[64 - sizeof(size_t)];
	/* Ranges in the table, filled or being filled: the front skips the
	 * table while it is 0. */
	size_t waiting;
	/* cppcheck-suppress unusedStructMember ; the slots on lines of
	 * their own: fronts read the counter on every publish */
	char pad[64 - sizeof(size_t)];
	struct mp_slot slot[MP_SLOTS];
};

void mmvec__mp_sync(struct mmvec *v, size_t len)
{
	__atomic_store_n(&v->mp->end, len, __ATOMIC_RELEASE);
}

size_t mmvec__mp_end(const struct mmvec *v)
{
	return __atomic_load_n(&v->mp->end, __ATOMIC_ACQUIRE);
}

/* ---------------------------------------------------------------------------
 * Setting up
 * ------------------------------------------------------------------------- */

/* The table, allocated by the first claim. Under the growth lock, so that
 * the claimed end starts at the writer's length before any claimer sees
 * the table. The writer's rooms close for good: its appends from now on go
 * through the library, which checks for open claims. */
static struct mmvec_mp *mp_setup(struct mmvec *v)
{
	struct mmvec_mp *m = __atomic_load_n(&v->mp, __ATOMIC_ACQUIRE);

	if (MMVEC_LIKELY(m != NULL))
		return m;
	m = calloc(1, sizeof(*m));
	if (!m)
		return NULL;
	grow_lock(v);
	if (__atomic_load_n(&v->mp, __ATOMIC_RELAXED)) {
		grow_unlock(v);
		free(m);
		return __atomic_load_n(&v->mp, __ATOMIC_RELAXED);
	}
	m->end = own_len(v); /* before the release of m below */
	__atomic_store_n(&v->head.room, 0, __ATOMIC_RELAXED);
	__atomic_store_n(&v->fast_room, 0, __ATOMIC_RELAXED);
	__atomic_store_n(&v->mp, m, __ATOMIC_RELEASE);
	grow_unlock(v);
	return m;
}

/* The checks every producer's call starts with: 0 or the error. */
static int producer_args(const struct mmvec *v)
{
	int rc;

	if (!v)
		return -EINVAL;
	rc = file_denied(v);
	if (rc)
		return rc;
	/* A file's live length is published by the process that opened it,
	 * one append at a time (file.h): not by many threads. */
	if (v->file)
		return -EOPNOTSUPP;
	return 0;
}

/* ---------------------------------------------------------------------------
 * Claiming
 * ------------------------------------------------------------------------- */

static int claim(struct mmvec *v, size_t n, size_t *first)
{
	struct mmvec_mp *m;
	size_t size, end, new_end;
	int rc;

	rc = producer_args(v);
	if (rc)
		return rc;
	if (!n)
		return -EINVAL;
	/* the writer's own mmvec_claim() holds the slots past len */
	if (__atomic_load_n(&v->claimed, __ATOMIC_RELAXED))
		return -EBUSY;
	m = mp_setup(v);
	if (!m)
		return -ENOMEM;
	size = v->head.elem_size;
	end = __atomic_load_n(&m->end, __ATOMIC_RELAXED);
	do {
		if (n > SIZE_MAX - end || end + n > SIZE_MAX / size)
			return -EOVERFLOW;
		new_end = end + n;
		if (new_end > v->max_len)
			return -ENOSPC;
		/* Grow before claiming, so that a failure leaves nothing
		 * behind; the capacity never goes down while producers run,
		 * so the slots stay committed whoever wins the CAS. */
		if (new_end > own_cap(v)) {
			rc = mmvec__vec_grow(v, new_end);
			if (rc)
				return rc;
		}
	} while (!__atomic_compare_exchange_n(&m->end, &end, new_end, true,
					      __ATOMIC_RELAXED,
					      __ATOMIC_RELAXED));
	/* Under the growth lock: a grower marks what it commits no-access
	 * under it, and these slots were committed by someone's growth. */
	if (MMVEC_UNLIKELY(v->annotate)) {
		grow_lock(v);
		mmvec__mark_defined(base(v) + end * size, n * size);
		grow_unlock(v);
	}
	*first = end;
	return 0;
}

MMVEC_EXPORT void *mmvec_mp_claim(struct mmvec *v, size_t n)
{
	size_t first;
	int rc = claim(v, n, &first);

	if (rc) {
		errno = -rc;
		return NULL;
	}
	return base(v) + first * v->head.elem_size;
}

/* ---------------------------------------------------------------------------
 * Publishing
 * ------------------------------------------------------------------------- */

/* A slot holds one completed range, [key - 1, end). Whoever changes a filled slot first swaps its key for BUSY (a
 * lock on the slot, held for a few stores): the front taking the range,
 * or the producer whose claim continues it extending it. A key never
 * comes back with another range, since a start is claimed once. */

/* Lock the slot if its key is still key. */
static bool lock_slot(struct mp_slot *s, size_t key)
{
	return __atomic_compare_exchange_n(&s->key, &key, BUSY, false,
					   __ATOMIC_SEQ_CST, __ATOMIC_RELAXED);
}

/* The range starting at start, taken from the table: its end, or 0 when
 * it is not there. */
static size_t take(struct mmvec_mp *m, size_t start)
{
	size_t key = start + 1;
	unsigned i;

	for (i = 0; i < MP_SLOTS; i++) {
		struct mp_slot *s = &m->slot[(start + i) % MP_SLOTS];
		size_t end;

		if (__atomic_load_n(&s->key, __ATOMIC_SEQ_CST) != key)
			continue;
		/* else its producer took it back, or is extending it and
		 * will see that the front has reached it */
		if (!lock_slot(s, key))
			return 0;
		end = __atomic_load_n(&s->end, __ATOMIC_RELAXED);
		__atomic_store_n(&s->key, 0, __ATOMIC_RELEASE);
		__atomic_fetch_sub(&m->waiting, 1, __ATOMIC_RELAXED);
		return end;
	}
	return 0;
}

/* The front: [0, end) is complete. Raise the length, then take over the
 * ranges that continue it. */
static void advance(struct mmvec *v, struct mmvec_mp *m, size_t end)
{
	for (;;) {
		__atomic_store_n(&v->head.len, end, __ATOMIC_SEQ_CST);
		if (!__atomic_load_n(&m->waiting, __ATOMIC_SEQ_CST))
			return;
		end = take(m, end);
		if (!end)
			return;
	}
}

/* A locked slot holding the range that ends at start, or NULL. Producers
 * that complete their claims in order behind one that does not (it was
 * pre-empted) thus keep one slot between them, not one each. */
static struct mp_slot *find_before(struct mmvec_mp *m, size_t start,
				   size_t *locked)
{
	unsigned i;

	for (i = 0; i < MP_SLOTS; i++) {
		struct mp_slot *s = &m->slot[i];
		size_t key = __atomic_load_n(&s->key, __ATOMIC_ACQUIRE);

		if (key == 0 || key == BUSY ||
		    __atomic_load_n(&s->end, __ATOMIC_RELAXED) != start)
			continue;
		/* only this producer extends a range that ends at its start:
		 * locked, it still ends there */
		if (lock_slot(s, key)) {
			*locked = key;
			return s;
		}
	}
	return NULL;
}

/* A free slot, locked, or NULL when the claim reached the front while the
 * table was full. */
static struct mp_slot *find_free(struct mmvec *v, struct mmvec_mp *m,
				 size_t start)
{
	for (;;) {
		unsigned i;

		for (i = 0; i < MP_SLOTS; i++) {
			struct mp_slot *s = &m->slot[(start + i) % MP_SLOTS];

			if (__atomic_load_n(&s->key, __ATOMIC_RELAXED) == 0 &&
			    lock_slot(s, 0))
				return s;
		}
		/* full: MP_SLOTS ranges wait for claims before them */
		if (__atomic_load_n(&v->head.len, __ATOMIC_SEQ_CST) == start)
			return NULL;
		mmvec__os_yield();
	}
}

/* A range above the front goes into the table, on its own or as the end
 * of the range before it; then, if the front has reached the slot's range
 * meanwhile, the producer takes it back and is the front. */
static void carry(struct mmvec *v, struct mmvec_mp *m, size_t start,
		  size_t end)
{
	struct mp_slot *s;
	size_t key;

	s = find_before(m, start, &key);
	if (!s) {
		__atomic_fetch_add(&m->waiting, 1, __ATOMIC_SEQ_CST);
		s = find_free(v, m, start);
		if (!s) {
			__atomic_fetch_sub(&m->waiting, 1, __ATOMIC_RELAXED);
			advance(v, m, end);
			return;
		}
		key = start + 1;
	}
	__atomic_store_n(&s->end, end, __ATOMIC_RELAXED);
	/* unlocked: the front may take it from here on */
	__atomic_store_n(&s->key, key, __ATOMIC_SEQ_CST);
	if (__atomic_load_n(&v->head.len, __ATOMIC_SEQ_CST) != key - 1)
		return;
	if (lock_slot(s, key)) {
		/* unlocked, the range may have grown by the claims after it */
		end = __atomic_load_n(&s->end, __ATOMIC_RELAXED);
		__atomic_store_n(&s->key, 0, __ATOMIC_RELEASE);
		__atomic_fetch_sub(&m->waiting, 1, __ATOMIC_RELAXED);
		advance(v, m, end);
	}
}

static void publish(struct mmvec *v, struct mmvec_mp *m, size_t start,
		    size_t end)
{
	if (__atomic_load_n(&v->head.len, __ATOMIC_ACQUIRE) == start)
		advance(v, m, end);
	else
		carry(v, m, start, end);
}

MMVEC_EXPORT int mmvec_mp_publish(struct mmvec *v, void *first, size_t n)
{
	struct mmvec_mp *m;
	size_t size, offset, start, claimed;
	int rc = producer_args(v);

	if (rc)
		return rc;
	m = __atomic_load_n(&v->mp, __ATOMIC_ACQUIRE);
	if (!m || !first || !n || (char *)first < base(v))
		return -EINVAL;
	size = v->head.elem_size;
	offset = (size_t)((char *)first - base(v));
	if (offset % size)
		return -EINVAL;
	start = offset / size;
	claimed = __atomic_load_n(&m->end, __ATOMIC_RELAXED);
	/* not within the claimed end, or already published */
	if (start >= claimed || n > claimed - start ||
	    start < __atomic_load_n(&v->head.len, __ATOMIC_ACQUIRE))
		return -EINVAL;
	publish(v, m, start, start + n);
	return 0;
}

MMVEC_EXPORT void *mmvec_mp_push(struct mmvec *v, const void *elem)
{
	size_t first, size;
	char *dst;
	int rc = claim(v, 1, &first);

	if (rc) {
		errno = -rc;
		return NULL;
	}
	size = v->head.elem_size;
	dst = base(v) + first * size;
	if (elem)
		memcpy(dst, elem, size);
	else
		memset(dst, 0, size);
	publish(v, __atomic_load_n(&v->mp, __ATOMIC_RELAXED), first, first + 1);
	return dst;
}

