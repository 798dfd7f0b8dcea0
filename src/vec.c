/*
 * SPDX-License-Identifier: MIT
 *
 * The element-vector layer, built only on the region layer: elements live at
 * the start of one region, so they never move, and growing commits more of
 * the region instead of copying.
 */
#include "config.h"

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "annotate.h"
#include "file.h"
#include "region.h"
#include "vec.h"

/* ---------------------------------------------------------------------------
 * Helpers
 * ------------------------------------------------------------------------- */

/* The new length after adding n to len, or -EOVERFLOW / -ENOSPC, in the
 * contract's order. */
static int check_add(const struct mmvec *v, size_t len, size_t n,
		     size_t *new_len)
{
	if (n > SIZE_MAX - len || len + n > SIZE_MAX / v->head.elem_size)
		return -EOVERFLOW;
	if (len + n > v->max_len)
		return -ENOSPC;
	*new_len = len + n;
	return 0;
}

/* A length given outright: -EOVERFLOW / -ENOSPC, in the contract's order. */
static int check_len(const struct mmvec *v, size_t len)
{
	if (len > SIZE_MAX / v->head.elem_size)
		return -EOVERFLOW;
	if (len > v->max_len)
		return -ENOSPC;
	return 0;
}

/* The first checks of every call that modifies the vector: a NULL vector,
 * a reader, a file's writer inherited through fork(), producers' open
 * claims. */
static int writer_args(const struct mmvec *v)
{
	if (!v)
		return -EINVAL;
	return writer_denied(v);
}

/* The arguments of a call that sets the length or reserves for one, in the
 * contract's order. */
static int length_args(const struct mmvec *v, size_t len)
{
	int rc = writer_args(v);

	return rc ? rc : check_len(v, len);
}

/* Commit at least [0, bytes) of the region (rounded up by the region), and
 * tell the checkers the newly committed part is not yet part of the vector.
 * The growth lock is held. */
static int commit_locked(struct mmvec *v, size_t bytes)
{
	size_t had = v->region.committed;
	int rc = mmvec__region_commit(&v->region, bytes);

	/* Checked even on failure: a region that could not undo a failed
	 * populate keeps the memory committed and says so. */
	if (v->region.committed != had) {
		if (v->annotate)
			mmvec__mark_noaccess(base(v) + had,
					     v->region.committed - had);
		update_cap(v);
	}
	return rc;
}

int mmvec__vec_commit_ahead(struct mmvec *v, size_t bytes)
{
	int rc;

	grow_lock(v);
	rc = commit_locked(v, bytes);
	grow_unlock(v);
	return rc;
}

/* The writer's commit: the capacity, then its rooms. */
static int commit(struct mmvec *v, size_t bytes)
{
	int rc = mmvec__vec_commit_ahead(v, bytes);

	update_room(v);
	return rc;
}

int mmvec__vec_commit(struct mmvec *v, size_t bytes)
{
	return commit(v, bytes);
}

/* Commit room for new_len elements (new_len <= max_len, checked), with the
 * growth lock held. Committed memory doubles, so the number of OS calls is
 * logarithmic in the length; committing costs address-space bookkeeping
 * and commit charge, not resident memory, which only grows as pages are
 * touched. If the kernel refuses the doubled size (strict overcommit), ask
 * for just what is needed. Another thread may have committed enough
 * already: then nothing is done. */
static int grow_locked(struct mmvec *v, size_t new_len)
{
	size_t need = new_len * v->head.elem_size; /* fits: <= max_len */
	size_t have = v->region.committed;
	size_t target = need;
	int rc;

	if (need <= have)
		return 0;
	if (have > need / 2 && have <= v->region.reserved / 2)
		target = have * 2;
	else if (have > need / 2)
		target = v->region.reserved;
	/* MMVEC_POPULATE faults in all it commits at once: doubling would make
	 * one push pre-fault as much as the vector holds (measured: 256 MiB,
	 * 58 ms, and payload + 134 MiB resident at 381 MiB). Grow it by at
	 * most one populate step (a huge page, or 2 MiB without them): more OS
	 * calls, never a long stall. */
	if ((v->region.flags & MMVEC_POPULATE) &&
	    target > have + v->region.populate_step)
		target = need > have + v->region.populate_step
				 ? need
				 : have + v->region.populate_step;

	rc = commit_locked(v, target);
	if (rc && target > need)
		rc = commit_locked(v, need);
	return rc;
}

int mmvec__vec_grow(struct mmvec *v, size_t new_len)
{
	int rc;

	/* the common case, without the lock: the capacity only grows while
	 * other threads may grow v */
	if (new_len <= own_cap(v))
		return 0;
	grow_lock(v);
	rc = grow_locked(v, new_len);
	grow_unlock(v);
	return rc;
}

/* The writer's growth for new_len elements: the capacity, then its
 * rooms. */
static int grow(struct mmvec *v, size_t new_len)
{
	int rc = mmvec__vec_grow(v, new_len);

	update_room(v);
	return rc;
}

/* Bytes [from, to), from the current end on, become element storage that
 * the caller writes in full. */
static inline void claim(struct mmvec *v, size_t from, size_t to)
{
	if (v->annotate)
		mmvec__mark_defined(base(v) + from, to - from);
}

/* Bytes [from, to), from the current end on, become new elements that read
 * as zero. Only what was written before needs zeroing: above the high-water
 * mark the pages are as the kernel gave them. */
static void claim_zeroed(struct mmvec *v, size_t from, size_t to)
{
	claim(v, from, to);
	if (from < v->hwm)
		mmvec__region_zero(&v->region, from, to < v->hwm ? to : v->hwm);
}

/* Bytes [from, to) stop being elements; from is the new end. */
static inline void unclaim(struct mmvec *v, size_t from, size_t to)
{
	if (v->annotate)
		mmvec__mark_noaccess(base(v) + from, to - from);
}

/* Close an open mmvec_claim(): its slots stop being part of the vector. */
static void drop_claim(struct mmvec *v)
{
	size_t from = own_len(v) * v->head.elem_size;

	if (!v->claimed)
		return;
	unclaim(v, from, from + v->claimed * v->head.elem_size);
	v->claimed = 0;
	update_room(v);
}

/* The start of every call that appends n elements at the end: the new
 * length, memory committed for it, an open claim closed. Nothing changes
 * on failure. */
static int make_room(struct mmvec *v, size_t n, size_t *new_len)
{
	int rc = check_add(v, own_len(v), n, new_len);

	if (!rc)
		rc = grow(v, *new_len);
	if (!rc && MMVEC_UNLIKELY(v->file != NULL))
		rc = mmvec__vec_file_ready(v, *new_len);
	if (MMVEC_UNLIKELY(v->pretouch))
		mmvec__pretouch_kick();
	if (!rc)
		drop_claim(v);
	return rc;
}

/* The end of every call that lowers the length from old to len. */
static void shrink_len(struct mmvec *v, size_t old, size_t len)
{
	keep_mark(v, old);
	publish_len(v, len);
	unclaim(v, len * v->head.elem_size, old * v->head.elem_size);
}

/* ---------------------------------------------------------------------------
 * Life cycle and getters
 * ------------------------------------------------------------------------- */

static const struct mmvec zero_vec;

int mmvec__vec_start_pretouch(struct mmvec *v)
{
	v->pretouch_step = v->region.huge > MMVEC__PRETOUCH_STEP ? v->region.huge
						      : MMVEC__PRETOUCH_STEP;
	if (v->pretouch_step < v->region.page)
		v->pretouch_step = v->region.page;
	v->pretouch = true;
	return mmvec__pretouch_join(v);
}

MMVEC_EXPORT int mmvec_new(size_t elem_size, size_t max_len, unsigned flags,
			   struct mmvec **out)
{
	struct mmvec *v;
	size_t bytes, rounded;
	int rc;

	if (!out || !elem_size)
		return -EINVAL;
	rc = mmvec__check_pretouch(flags);
	if (!rc)
		rc = mmvec__check_flags(flags & ~MMVEC_PRETOUCH);
	if (rc)
		return rc;
	if (max_len > SIZE_MAX / elem_size)
		return -EOVERFLOW;
	bytes = elem_size * max_len;
	if (!mmvec__round_up(bytes, mmvec__page_size(), &rounded) ||
	    !mmvec__round_up(elem_size, mmvec__page_size(), &rounded))
		return -EOVERFLOW;

	/* malloc and a copy of a zeroed struct, not calloc (which GCC also
	 * makes of a malloc and a memset): glibc's calloc() skips the
	 * per-thread cache that lets a vector be created and freed for no
	 * more than its reservation, which is cached too. A copy compiles
	 * to vector moves where a zeroing assignment became a slower
	 * `rep stos`. */
	v = malloc(sizeof(*v));
	if (!v)
		return -ENOMEM;
	*v = zero_vec;
	/* The default reservation holds at least one element. A reservation
	 * from the cache may come with memory committed, of which the first
	 * hwm bytes hold what an earlier vector wrote: new elements are
	 * zeroed below it, as after a clear. Checkers see it no-access, as
	 * [len, capacity) must be. */
	rc = mmvec__region_take(&v->region, bytes, elem_size,
				flags & ~MMVEC_PRETOUCH, &v->hwm);
	if (rc) {
		free(v);
		return rc;
	}
	v->head.data = v->region.base;
	v->head.elem_size = elem_size;
	v->max_len = max_len ? max_len : v->region.reserved / elem_size;
	v->annotate = mmvec__annotating();
	if (elem_size <= 16 && (elem_size & (elem_size - 1)) == 0)
		v->fast_size = elem_size;
	update_cap(v);
	if (flags & MMVEC_PRETOUCH) {
		rc = mmvec__vec_start_pretouch(v);
		if (rc) {
			if (v->annotate)
				mmvec__mark_released(base(v),
						     v->region.committed);
			mmvec__region_put(&v->region, v->hwm);
			free(v);
			return rc;
		}
	}
	update_room(v);
	*out = v;
	return 0;
}

MMVEC_EXPORT void mmvec_free(struct mmvec *v)
{
	if (!v)
		return;
	/* the thread's current step on v ends first */
	if (v->pretouch)
		mmvec__pretouch_leave(v);
	if (v->annotate)
		mmvec__mark_released(base(v), v->region.committed);
	/* a file's writer syncs and shortens the file; one inherited
	 * through fork() leaves the file alone (file.h) */
	if (v->file) {
		mmvec__file_close(v->file, &v->region, base(v),
				  own_len(v) * v->head.elem_size, own_len(v));
	} else {
		/* how far elements reached: what the next user must zero */
		keep_mark(v, own_len(v));
		mmvec__region_put(&v->region, v->hwm);
	}
	if (MMVEC_UNLIKELY(v->mp != NULL))
		free(v->mp);
	free(v);
}

MMVEC_EXPORT size_t mmvec_len(const struct mmvec *v)
{
	if (v && read_only(v))
		return follow(v);
	return v ? __atomic_load_n(&v->head.len, __ATOMIC_ACQUIRE) : 0;
}

MMVEC_EXPORT size_t mmvec_capacity(const struct mmvec *v)
{
	if (v && read_only(v))
		return follow(v);
	return v ? own_cap(v) : 0;
}

MMVEC_EXPORT size_t mmvec_max_len(const struct mmvec *v)
{
	return v ? v->max_len : 0;
}

MMVEC_EXPORT size_t mmvec_elem_size(const struct mmvec *v)
{
	return v ? v->head.elem_size : 0;
}

MMVEC_EXPORT void *mmvec_data(const struct mmvec *v)
{
	if (!v) {
		errno = EINVAL;
		return NULL;
	}
	return base(v);
}

MMVEC_EXPORT void *mmvec_at(const struct mmvec *v, size_t i)
{
	if (!v) {
		errno = EINVAL;
		return NULL;
	}
	/* a reader need not look at the file below a length it was given */
	if (read_only(v) ? i >= mmvec__file_seen(v->file) && i >= follow(v)
			 : i >= __atomic_load_n(&v->head.len, __ATOMIC_ACQUIRE)) {
		errno = ERANGE;
		return NULL;
	}
	return base(v) + i * v->head.elem_size;
}

/* ---------------------------------------------------------------------------
 * Growing
 * ------------------------------------------------------------------------- */

/* Everything but the common case: growing, zeroing, annotating, a claim. */
__attribute__((noinline)) static void *push_slow(struct mmvec *v,
						 const void *elem)
{
	size_t len = own_len(v);
	size_t size = v->head.elem_size;
	size_t new_len;
	char *dst = base(v) + len * size;
	int rc = writer_denied(v);

	if (!rc)
		rc = make_room(v, 1, &new_len);

	if (rc) {
		errno = -rc;
		return NULL;
	}
	if (elem) {
		claim(v, len * size, new_len * size);
		/* elem may be an element of v: below dst, and unmoved */
		memcpy(dst, elem, size);
	} else {
		claim_zeroed(v, len * size, new_len * size);
	}
	publish_len(v, new_len);
	return dst;
}

/* One element of fast_size bytes (1, 2, 4, 8 or 16) copied with one move,
 * or false for the other sizes, which need a memcpy call. Conditional
 * branches, not a switch: a jump table is an indirect branch, which costs
 * as much as the rest of the call on machines with Spectre mitigations. */
static inline bool copy_fast(char *dst, const void *elem, size_t fast_size)
{
	if (fast_size == 8)
		memcpy(dst, elem, 8);
	else if (fast_size == 4)
		memcpy(dst, elem, 4);
	else if (fast_size == 16)
		memcpy(dst, elem, 16);
	else if (fast_size == 1)
		memcpy(dst, elem, 1);
	else if (fast_size == 2)
		memcpy(dst, elem, 2);
	else
		return false;
	return true;
}

/* mmvec_push()'s hot path for a file's writer: the same, after the fork
 * check (a child's push goes the slow way, to fail), publishing the live
 * length in the file too. */
__attribute__((noinline)) static void *push_file(struct mmvec *v,
						 const void *elem, size_t len)
{
	char *dst = base(v) + len * v->fast_size;

	if (mmvec__file_forked(v->file) || !copy_fast(dst, elem, v->fast_size))
		return push_slow(v, elem);
	publish_len(v, len + 1);
	return dst;
}

MMVEC_EXPORT void *mmvec_push(struct mmvec *v, const void *elem)
{
	size_t len;
	char *dst;

	if (MMVEC_UNLIKELY(!v)) {
		errno = EINVAL;
		return NULL;
	}
	/* The hot path: room for an element to copy that nobody else needs
	 * to hear about (the inline push's test, with a file writer's room).
	 * A leaf with no stack frame: bounds check, one move, one store. */
	len = own_len(v);
	if (MMVEC_UNLIKELY(len >= v->fast_room || !elem))
		return push_slow(v, elem);
	if (MMVEC_UNLIKELY(v->file != NULL))
		return push_file(v, elem, len);
	dst = base(v) + len * v->fast_size;
	if (!copy_fast(dst, elem, v->fast_size))
		return push_slow(v, elem);
	__atomic_store_n(&v->head.len, len + 1, __ATOMIC_RELEASE);
	return dst;
}

/* Slots [len, len + n) committed and zeroed, or NULL with errno set (a NULL
 * vector, a reader, or as make_room() fails): what mmvec_extend()
 * publishes and mmvec_claim() does not. */
static char *add_zeroed(struct mmvec *v, size_t n)
{
	size_t len, size, new_len;
	int rc = writer_args(v);

	if (rc) {
		errno = -rc;
		return NULL;
	}
	len = own_len(v);
	size = v->head.elem_size;
	if (!n) /* a no-op: an open claim stays open */
		return base(v) + len * size;
	rc = make_room(v, n, &new_len);
	if (rc) {
		errno = -rc;
		return NULL;
	}
	claim_zeroed(v, len * size, new_len * size);
	return base(v) + len * size;
}

MMVEC_EXPORT void *mmvec_extend(struct mmvec *v, size_t n)
{
	char *first;

	first = add_zeroed(v, n);
	if (first)
		publish_len(v, own_len(v) + n);
	return first;
}

MMVEC_EXPORT void *mmvec_claim(struct mmvec *v, size_t n)
{
	char *first;

	first = add_zeroed(v, n);
	if (first && n) {
		/* the writer fills them, behind the library's back */
		keep_mark(v, own_len(v) + n);
		v->claimed = n;
		update_room(v);
	}
	return first;
}

MMVEC_EXPORT int mmvec_publish(struct mmvec *v, size_t n)
{
	int rc = writer_args(v);

	if (rc)
		return rc;
	if (n > v->claimed)
		return -ERANGE;
	if (!n)
		return 0;
	v->claimed -= n;
	publish_len(v, own_len(v) + n);
	update_room(v);
	return 0;
}

MMVEC_EXPORT int mmvec_append(struct mmvec *v, const void *elems, size_t n)
{
	size_t len, new_len, size;
	int rc;

	if (!v || (!elems && n))
		return -EINVAL;
	rc = writer_denied(v);
	if (rc || !n)
		return rc;
	len = own_len(v);
	size = v->head.elem_size;
	rc = make_room(v, n, &new_len);
	if (rc)
		return rc;
	claim(v, len * size, new_len * size);
	/* memmove: elems may lie within the vector (not moved by growing) */
	memmove(base(v) + len * size, elems, n * size);
	publish_len(v, new_len);
	return 0;
}

MMVEC_EXPORT int mmvec_insert(struct mmvec *v, size_t i, const void *elems,
			      size_t n)
{
	size_t len, new_len, size, at, bytes, end;
	const char *src = elems;
	size_t before = 0; /* bytes of the source that stay below the gap */
	int rc;

	if (!v || (!elems && n))
		return -EINVAL;
	rc = writer_denied(v);
	if (rc)
		return rc;
	len = own_len(v);
	if (i > len)
		return -ERANGE;
	if (!n)
		return 0;
	size = v->head.elem_size;
	rc = make_room(v, n, &new_len);
	if (rc)
		return rc;

	at = i * size;
	bytes = n * size;
	end = len * size;
	claim(v, end, new_len * size);
	memmove(base(v) + at + bytes, base(v) + at, end - at);

	/* A source within the vector was split by the move: the part below the
	 * gap stayed, the rest moved up by the gap's size. */
	if (src >= base(v) && src < base(v) + end) {
		size_t s = (size_t)(src - base(v));

		if (s < at)
			before = (s + bytes < at ? s + bytes : at) - s;
		memmove(base(v) + at, src, before);
		src = base(v) + (s + before) + bytes;
	}
	memmove(base(v) + at + before, src, bytes - before);
	publish_len(v, new_len);
	return 0;
}

MMVEC_EXPORT int mmvec_resize(struct mmvec *v, size_t len)
{
	size_t old;
	int rc;

	rc = length_args(v, len);
	if (rc)
		return rc;
	old = own_len(v);
	if (len > old) {
		if (!add_zeroed(v, len - old))
			return -errno;
		publish_len(v, len);
	} else {
		rc = lower_len(v, len);
		if (rc)
			return rc;
		drop_claim(v);
		shrink_len(v, old, len);
	}
	return 0;
}

MMVEC_EXPORT int mmvec_reserve(struct mmvec *v, size_t len)
{
	int rc;

	rc = length_args(v, len);
	if (rc)
		return rc;
	/* exactly what was asked for (rounded up by the region), no doubling */
	return commit(v, len * v->head.elem_size);
}

/* ---------------------------------------------------------------------------
 * Shrinking
 * ------------------------------------------------------------------------- */

MMVEC_EXPORT int mmvec_erase(struct mmvec *v, size_t i, size_t n)
{
	size_t len, size;
	int rc = writer_args(v);

	if (rc)
		return rc;
	len = own_len(v);
	if (i > len || n > len - i)
		return -ERANGE;
	if (!n)
		return 0;
	rc = lower_len(v, len - n);
	if (rc)
		return rc;
	size = v->head.elem_size;
	drop_claim(v);
	memmove(base(v) + i * size, base(v) + (i + n) * size,
		(len - i - n) * size);
	shrink_len(v, len, len - n);
	return 0;
}

MMVEC_EXPORT int mmvec_swap_remove(struct mmvec *v, size_t i)
{
	size_t len, size;
	int rc = writer_args(v);

	if (rc)
		return rc;
	len = own_len(v);
	if (i >= len)
		return -ERANGE;
	rc = lower_len(v, len - 1);
	if (rc)
		return rc;
	size = v->head.elem_size;
	drop_claim(v);
	if (i != len - 1)
		memcpy(base(v) + i * size, base(v) + (len - 1) * size, size);
	shrink_len(v, len, len - 1);
	return 0;
}

MMVEC_EXPORT int mmvec_pop(struct mmvec *v, void *out)
{
	size_t len, size;
	int rc = writer_args(v);

	if (rc)
		return rc;
	len = own_len(v);
	if (!len)
		return -ENOENT;
	rc = lower_len(v, len - 1);
	if (rc)
		return rc;
	size = v->head.elem_size;
	drop_claim(v);
	if (out)
		memcpy(out, base(v) + (len - 1) * size, size);
	shrink_len(v, len, len - 1);
	return 0;
}

MMVEC_EXPORT void mmvec_clear(struct mmvec *v)
{
	/* a file's writer whose header cannot go to disk removes nothing
	 * (mmvec_clear(3)), nor does a vector with producers' claims open */
	if (!v || writer_denied(v) || lower_len(v, 0))
		return;
	drop_claim(v);
	shrink_len(v, own_len(v), 0);
}

/* mmvec_shrink_to_fit() with the growth lock held. */
static int shrink_locked(struct mmvec *v)
{
	size_t keep, had, end, claim_end;
	int rc;

	had = v->region.committed;
	end = own_len(v) * v->head.elem_size;
	claim_end = end + v->claimed * v->head.elem_size;
	/* cannot overflow: len * elem_size <= committed, a page multiple */
	keep = mmvec__align_up(end, v->region.page);
	/* a file is shortened to what is kept, also past what this writer
	 * mapped (what a crashed writer left), its header on disk first */
	if (v->file) {
		rc = mmvec__file_shrink(v->file, keep);
		if (rc)
			return rc;
	}
	if (keep >= had) {
		drop_claim(v);
		return 0;
	}

	if (v->annotate)
		mmvec__mark_released(base(v) + keep, had - keep);
	rc = mmvec__region_decommit(&v->region, keep);
	if (rc) {
		/* as it was, the claim included */
		if (v->annotate) {
			mmvec__mark_noaccess(base(v) + keep, had - keep);
			if (claim_end > keep)
				claim(v, keep, claim_end);
		}
		return rc;
	}
	/* the claim's slots below keep stop being part of the vector; those
	 * above are gone */
	if (v->claimed) {
		unclaim(v, end, claim_end < keep ? claim_end : keep);
		v->claimed = 0;
	}
	/* the dropped pages read as zero when committed again; what is kept
	 * may have been written */
	keep_mark(v, own_len(v));
	if (v->hwm > keep)
		v->hwm = keep;
	if (v->file)
		mmvec__file_shrunk(v->file, &v->region);
	update_cap(v);
	return 0;
}

MMVEC_EXPORT int mmvec_shrink_to_fit(struct mmvec *v)
{
	int rc = writer_args(v);

	if (rc)
		return rc;
	/* the thread faults nothing in while pages go */
	if (v->pretouch)
		mmvec__pretouch_pause(v);
	grow_lock(v);
	rc = shrink_locked(v);
	if (v->ready > v->region.committed)
		v->ready = v->region.committed;
	grow_unlock(v);
	if (v->pretouch)
		mmvec__pretouch_resume(v);
	update_room(v);
	return rc;
}

MMVEC_EXPORT const char *mmvec_version(void)
{
	return MMVEC_VERSION;
}
