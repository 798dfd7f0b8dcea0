/*
 * SPDX-License-Identifier: MIT
 *
 * File-backed vectors, the vector layer's part: mmvec_open(),
 * mmvec_open_fd() and mmvec_sync(). The file layer (file.h) hands over an
 * opened, checked file; this builds the vector over it, a region backed by
 * the file from its header on, and names a new file once the vector works.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>

#include "annotate.h"
#include "file.h"
#include "region.h"
#include "vec.h"

/* ---------------------------------------------------------------------------
 * Arguments
 * ------------------------------------------------------------------------- */

static int check_args(size_t elem_size, unsigned flags, struct mmvec **out)
{
	int rc;

	if (!out || !elem_size)
		return -EINVAL;
	rc = mmvec__check_pretouch(flags);
	if (!rc)
		rc = mmvec__check_flags(flags &
					~(MMVEC__FILE_FLAGS | MMVEC_PRETOUCH));
	if (rc)
		return rc;
	/* Huge pages are anonymous memory; a reader cannot create. */
	if ((flags & MMVEC_HUGEPAGES) ||
	    (flags & MMVEC__FILE_FLAGS) == MMVEC__FILE_FLAGS)
		return -EINVAL;
	return 0;
}

/* The sizes mmvec_new() checks, after the descriptor. */
static int check_sizes(size_t elem_size, size_t max_len)
{
	size_t rounded;

	if (max_len > SIZE_MAX / elem_size ||
	    !mmvec__round_up(elem_size * max_len, mmvec_page_size(),
			     &rounded) ||
	    !mmvec__round_up(elem_size, mmvec_page_size(), &rounded))
		return -EOVERFLOW;
	/* The elements start at MMVEC__FILE_HEADER, which must be a page
	 * boundary to be mapped. */
	if (mmvec_page_size() > MMVEC__FILE_HEADER)
		return -EOPNOTSUPP;
	return 0;
}

/* ---------------------------------------------------------------------------
 * The vector over a file
 * ------------------------------------------------------------------------- */

/* The vector over the opened, checked file f. On failure f is untouched. */
static int new_over(struct mmvec_file *f, unsigned flags, struct mmvec **out)
{
	size_t es = f->elem_size, len = f->len; /* checked: len * es fits */
	size_t min = len > 1 ? len * es : es;
	struct mmvec *v;
	int rc;

	size_t max_bytes = es * f->max_len; /* checked: fits */
	size_t slack = mmvec__region_file_slack(flags);

	v = calloc(1, sizeof(*v));
	if (!v)
		return -ENOMEM;
	/* an explicit maximum gets room to place the mapping for huge
	 * folios (mmvec__region_attach()) */
	if (max_bytes && max_bytes <= SIZE_MAX - slack - mmvec_page_size())
		max_bytes += slack;
	rc = mmvec__region_init(&v->region, max_bytes, min,
				flags & MMVEC_ALL_FLAGS);
	if (rc) {
		free(v);
		return rc;
	}
	mmvec__region_attach(&v->region, f->fd, MMVEC__FILE_HEADER, !f->rdonly,
			     f->max_len ? es * f->max_len : min);
	v->head.data = v->region.base;
	v->head.elem_size = es;
	v->max_len = f->max_len ? f->max_len : v->region.reserved / es;
	v->file = f;
	if (f->rdonly) {
		/* mapped as it is followed; never appended to (rooms 0) */
		*out = v;
		return 0;
	}

	v->annotate = mmvec__annotating();
	if (es <= 16 && (es & (es - 1)) == 0)
		v->fast_size = es;
	rc = mmvec__vec_commit(v, len * es);
	if (rc) {
		mmvec__region_fini(&v->region);
		free(v);
		return rc;
	}
	/* Bytes past the elements may hold what an earlier run wrote and did
	 * not keep: new elements there need zeroing. */
	v->hwm = f->data_bytes < v->region.reserved ? (size_t)f->data_bytes :
						      v->region.reserved;
	/* appends populate from the page the length ends in, never the
	 * elements before it (populating for writing dirties the pages) */
	f->populated = (len * es) & ~(v->region.page - 1);
	if (v->annotate)
		mmvec__mark_defined(v->head.data, len * es);
	publish_len(v, len);
	if (flags & MMVEC_PRETOUCH) {
		rc = mmvec__vec_start_pretouch(v);
		if (rc) {
			if (v->annotate)
				mmvec__mark_released(v->head.data,
						     v->region.committed);
			mmvec__region_fini(&v->region);
			free(v);
			return rc;
		}
	}
	update_room(v);
	*out = v;
	return 0;
}

/* Undo new_over() and close f, for a vector never handed out. */
static void discard(struct mmvec *v)
{
	if (v->annotate)
		mmvec__mark_released(v->head.data, v->region.committed);
	mmvec__region_fini(&v->region);
	mmvec__file_discard(v->file);
	free(v);
}

int mmvec__vec_file_ready(struct mmvec *v, size_t new_len)
{
	int rc = mmvec__file_populate(v->file, &v->region,
				      new_len * v->head.elem_size);

	update_room(v);
	return rc;
}

/* The vector over path (or fd, with path NULL): -EEXIST if another
 * process named its own new file path first. */
static int open_once(const char *path, int fd, size_t elem_size,
		     size_t max_len, unsigned flags, struct mmvec **out)
{
	struct mmvec_file *f;
	struct mmvec *v;
	int rc;

	rc = mmvec__file_open(path, fd, elem_size, max_len, flags, &f);
	if (rc)
		return rc;
	rc = new_over(f, flags, &v);
	if (rc) {
		mmvec__file_discard(f);
		return rc;
	}
	/* A new file gets its name only now that nothing can fail: a failed
	 * call leaves no file behind. */
	if (f->unnamed) {
		rc = mmvec__file_name(f, path);
		if (rc) {
			discard(v);
			return rc;
		}
	}
	*out = v;
	return 0;
}

/* If another process named its own file meanwhile, this one has
 * disappeared and that one is opened as it is, once: a writer's lock then
 * tells whether it is still in use, and a name that is a dangling symbolic
 * link is -ENOENT. */
static int open_vec(const char *path, int fd, size_t elem_size,
		    size_t max_len, unsigned flags, struct mmvec **out)
{
	int rc = open_once(path, fd, elem_size, max_len, flags, out);

	if (rc == -EEXIST && path)
		rc = open_once(path, -1, elem_size, max_len,
			       flags & ~MMVEC_CREATE, out);
	return rc;
}

/* ---------------------------------------------------------------------------
 * Public API
 * ------------------------------------------------------------------------- */

MMVEC_EXPORT int mmvec_open(const char *path, size_t elem_size,
			    size_t max_len, unsigned flags, struct mmvec **out)
{
	int rc;

	rc = check_args(elem_size, flags, out);
	if (!rc && !path)
		rc = -EINVAL;
	if (!rc)
		rc = check_sizes(elem_size, max_len);
	if (rc)
		return rc;
	return open_vec(path, -1, elem_size, max_len, flags, out);
}

MMVEC_EXPORT int mmvec_open_fd(int fd, size_t elem_size, size_t max_len,
			       unsigned flags, struct mmvec **out)
{
	int rc;

	rc = check_args(elem_size, flags, out);
	if (!rc && fd < 0)
		rc = -EBADF;
	if (!rc)
		rc = check_sizes(elem_size, max_len);
	if (rc)
		return rc;
	return open_vec(NULL, fd, elem_size, max_len, flags, out);
}

MMVEC_EXPORT int mmvec_sync(struct mmvec *v)
{
	size_t len;

	if (!v)
		return -EINVAL;
	if (!v->file || v->file->rdonly)
		return 0;
	if (mmvec__file_forked(v->file))
		return -ECHILD;
	len = own_len(v);
	return mmvec__file_sync(v->file, v->head.data, len * v->head.elem_size,
				len);
}
