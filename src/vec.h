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
	 * may ask for it while the writer grows. */
	size_t cap;
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
	struct mmvec_region region;
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

/* Make a higher length visible to readers after the elements below it:
 * threads of this process through head.len, other processes through the
 * file's live length. */
static inline void publish_len(struct mmvec *v, size_t len)
{
	__atomic_store_n(&v->head.len, len, __ATOMIC_RELEASE);
	if (MMVEC_UNLIKELY(v->file != NULL))
		mmvec__file_publish(v->file, len);
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

/* Appends may fill [len, room) unseen: all of the capacity, unless the
 * library must see every append (checkers to tell, or a claim that an
 * append would overwrite). A file's writer lets only the library's own
 * hot path append unseen, and only into pages already populated (file.h):
 * the library then publishes the live length in the file on every append,
 * so that readers in other processes see each one at once. Only the
 * writer reads the rooms. */
static inline void update_room(struct mmvec *v)
{
	size_t room = v->annotate || v->claimed ? 0 : own_cap(v);

	if (MMVEC_UNLIKELY(v->file != NULL)) {
		size_t ready = v->file->populated / v->head.elem_size;

		v->fast_room = room < ready ? room : ready;
		v->head.room = 0;
		return;
	}
	v->fast_room = room;
	v->head.room = room;
}

static inline void update_cap(struct mmvec *v)
{
	size_t cap = v->region.committed / v->head.elem_size;

	if (cap > v->max_len)
		cap = v->max_len;
	__atomic_store_n(&v->cap, cap, __ATOMIC_RELAXED);
	update_room(v);
}

/* Before the length drops: remember how far elements reached. */
static inline void keep_mark(struct mmvec *v, size_t len)
{
	if (len * v->head.elem_size > v->hwm)
		v->hwm = len * v->head.elem_size;
}

/* vec.c: commit at least [0, bytes) of v's region, the capacity and the
 * checkers' view following (nothing changes on failure). */
int mmvec__vec_commit(struct mmvec *v, size_t bytes);

/* vec-file.c: a file's writer populates its pages for new_len elements
 * before an append uses them. */
int mmvec__vec_file_ready(struct mmvec *v, size_t new_len);

#endif /* MMVEC_VEC_H */
