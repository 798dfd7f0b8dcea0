/*
 * SPDX-License-Identifier: MIT
 *
 * File-backed vectors: opening, checking and initialising vector files, the
 * two lengths in their header, sync and close. The elements are mapped by
 * the region layer (a region backed by the file, from MMVEC__FILE_HEADER
 * on); the vector layer calls in here only where a vector has a file
 * (file.h). doc/file-format.md describes the file.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "file.h"
#include "os.h"

/* ---------------------------------------------------------------------------
 * The header
 * ------------------------------------------------------------------------- */

_Static_assert(sizeof(struct mmvec_file_header) == 64,
	       "the header's layout is the file format");
_Static_assert(sizeof(MMVEC__FILE_MAGIC) == 9, "8 bytes of magic");

/* x * y in 64 bits, or false. */
static bool mul_u64(uint64_t x, uint64_t y, uint64_t *out)
{
	if (y && x > UINT64_MAX / y)
		return false;
	*out = x * y;
	return true;
}

/* A length in the header fits the file and the recorded maximum. */
static int check_length(const struct mmvec_file_header *h, uint64_t len,
			uint64_t file_size)
{
	uint64_t bytes;

	if (h->max_len && len > h->max_len)
		return -EBADMSG;
	if (!mul_u64(len, h->elem_size, &bytes) ||
	    bytes > UINT64_MAX - MMVEC__FILE_HEADER ||
	    MMVEC__FILE_HEADER + bytes > file_size)
		return -EBADMSG;
	return 0;
}

int mmvec__file_check(const struct mmvec_file_header *h, uint64_t file_size,
		      size_t elem_size, size_t max_len)
{
	uint64_t live, synced;
	int rc;

	if (file_size < MMVEC__FILE_HEADER ||
	    memcmp(h->magic, MMVEC__FILE_MAGIC, sizeof(h->magic)) != 0 ||
	    h->version != MMVEC__FILE_VERSION ||
	    h->byte_order != MMVEC__FILE_BYTE_ORDER ||
	    h->header_size != MMVEC__FILE_HEADER || h->features != 0 ||
	    h->elem_size == 0)
		return -EBADMSG;
	if (h->elem_size != elem_size)
		return -EINVAL;
	if (max_len && h->max_len != max_len)
		return -EINVAL;

	/* The writer may be appending: one load of each. */
	live = __atomic_load_n(&h->live_len, __ATOMIC_ACQUIRE);
	synced = __atomic_load_n(&h->synced_len, __ATOMIC_ACQUIRE);
	rc = check_length(h, live, file_size);
	if (!rc)
		rc = check_length(h, synced, file_size);
	if (rc)
		return rc;
	if (h->max_len > SIZE_MAX / elem_size || live > SIZE_MAX / elem_size ||
	    synced > SIZE_MAX / elem_size)
		return -EOVERFLOW;
	return 0;
}

/* An empty file becomes an empty vector file. The magic goes in last, so
 * that a reader opening the file meanwhile finds no vector file rather than
 * half a header, and a creation cut short (kill -9) is redone by the next
 * writer with MMVEC_CREATE (unfinished()). */
static int init_file(int fd, size_t elem_size, size_t max_len)
{
	struct mmvec_file_header h;
	int rc;

	memset(&h, 0, sizeof(h));
	h.version = MMVEC__FILE_VERSION;
	h.byte_order = MMVEC__FILE_BYTE_ORDER;
	h.header_size = MMVEC__FILE_HEADER;
	h.elem_size = elem_size;
	h.max_len = max_len;
	rc = mmvec__os_file_truncate(fd, 0);
	if (!rc)
		rc = mmvec__os_file_allocate(fd, 0, MMVEC__FILE_HEADER);
	if (!rc)
		rc = mmvec__os_file_write(fd, &h, sizeof(h), 0);
	if (!rc)
		rc = mmvec__os_file_write(fd, MMVEC__FILE_MAGIC,
					  sizeof(h.magic), 0);
	return rc;
}

/* An empty file, or one whose creation was interrupted: no longer than a
 * header, and no magic yet (init_file() writes it last). */
static bool unfinished(int fd, uint64_t size)
{
	unsigned char magic[8] = { 0 };
	static const unsigned char none[8];

	if (size == 0)
		return true;
	if (size > MMVEC__FILE_HEADER)
		return false;
	if (mmvec__os_file_read(fd, magic, size < 8 ? (size_t)size : 8, 0))
		return false;
	return memcmp(magic, none, sizeof(none)) == 0;
}

/* ---------------------------------------------------------------------------
 * Opening
 * ------------------------------------------------------------------------- */

static int check_args(size_t elem_size, unsigned flags, struct mmvec **out)
{
	int rc;

	if (!out || !elem_size)
		return -EINVAL;
	rc = mmvec__check_flags(flags & ~MMVEC__FILE_FLAGS);
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
	    !mmvec__round_up(elem_size * max_len, mmvec__os_page_size(),
			     &rounded) ||
	    !mmvec__round_up(elem_size, mmvec__os_page_size(), &rounded))
		return -EOVERFLOW;
	/* The elements start at MMVEC__FILE_HEADER, which must be a page
	 * boundary to be mapped. */
	if (mmvec__os_page_size() > MMVEC__FILE_HEADER)
		return -EOPNOTSUPP;
	return 0;
}

/* Everything after the descriptor is open: fd is owned from here on and
 * closed on failure; `created` (a new file of that name) is removed on
 * failure, and a file this call initialised is made empty again. */
static int open_fd(int fd, const char *created, size_t elem_size,
		   size_t max_len, unsigned flags, struct mmvec **out)
{
	bool rdonly = flags & MMVEC_RDONLY;
	bool initialised = false;
	struct mmvec_file_header h;
	struct mmvec_file *f = NULL;
	uint64_t size;
	size_t page = mmvec__os_page_size();
	void *head;
	int rc;

	rc = rdonly ? 0 : mmvec__os_file_lock(fd);
	if (rc)
		goto out_close;
	rc = mmvec__os_file_size(fd, &size);
	if (rc)
		goto out_unlock;
	if ((flags & MMVEC_CREATE) && unfinished(fd, size)) {
		rc = init_file(fd, elem_size, max_len);
		initialised = true;
		if (rc)
			goto out_unlock;
		rc = mmvec__os_file_size(fd, &size);
		if (rc)
			goto out_unlock;
	}
	if (size < sizeof(h)) {
		rc = -EBADMSG;
		goto out_unlock;
	}
	rc = mmvec__os_file_read(fd, &h, sizeof(h), 0);
	if (!rc)
		rc = mmvec__file_check(&h, size, elem_size, max_len);
	if (rc)
		goto out_unlock;

	f = calloc(1, sizeof(*f));
	if (!f) {
		rc = -ENOMEM;
		goto out_unlock;
	}
	rc = mmvec__os_map_file_any(page, fd, !rdonly, &head);
	if (rc) {
		rc = -ENOMEM;
		goto out_unlock;
	}
	f->fd = fd;
	f->rdonly = rdonly;
	f->head = head;
	f->head_bytes = page;
	f->data_bytes = size - MMVEC__FILE_HEADER;
	/* The header was checked as read: a reader starts at that live
	 * length, a writer at the synced one (what a crash kept). */
	f->len = (size_t)(rdonly ? h.live_len : h.synced_len);

	rc = mmvec__vec_new_file(f, elem_size, (size_t)h.max_len, flags, out);
	if (rc) {
		mmvec__os_release(head, page);
		goto out_unlock;
	}
	return 0;

out_unlock:
	if (initialised)
		(void)mmvec__os_file_truncate(fd, 0);
	if (!rdonly)
		mmvec__os_file_unlock(fd);
out_close:
	free(f);
	mmvec__os_file_close(fd);
	if (created)
		mmvec__os_file_unlink(created);
	return rc;
}

MMVEC_EXPORT int mmvec_open(const char *path, size_t elem_size,
			    size_t max_len, unsigned flags, struct mmvec **out)
{
	bool created;
	int fd, rc;

	rc = check_args(elem_size, flags, out);
	if (!rc && !path)
		rc = -EINVAL;
	if (!rc)
		rc = check_sizes(elem_size, max_len);
	if (rc)
		return rc;
	rc = mmvec__os_file_open(path, !(flags & MMVEC_RDONLY),
				 flags & MMVEC_CREATE, &fd, &created);
	if (rc)
		return rc;
	return open_fd(fd, created ? path : NULL, elem_size, max_len, flags,
		       out);
}

MMVEC_EXPORT int mmvec_open_fd(int fd, size_t elem_size, size_t max_len,
			       unsigned flags, struct mmvec **out)
{
	int dup, rc;

	rc = check_args(elem_size, flags, out);
	if (!rc && fd < 0)
		rc = -EBADF;
	if (!rc)
		rc = check_sizes(elem_size, max_len);
	if (rc)
		return rc;
	rc = mmvec__os_file_dup(fd, !(flags & MMVEC_RDONLY), &dup);
	if (rc)
		return rc;
	return open_fd(dup, NULL, elem_size, max_len, flags, out);
}

/* ---------------------------------------------------------------------------
 * Following, syncing, closing
 * ------------------------------------------------------------------------- */

size_t mmvec__file_follow(struct mmvec_file *f, struct mmvec_region *r,
			  size_t elem_size, size_t max_len)
{
	uint64_t live = __atomic_load_n(&f->head->live_len, __ATOMIC_ACQUIRE);
	size_t mapped = __atomic_load_n(&f->mapped, __ATOMIC_ACQUIRE);
	size_t len;

	if (live > max_len)
		live = max_len;
	len = (size_t)live; /* <= max_len, so len * elem_size fits */
	if (len * elem_size <= mapped)
		return len;

	if (!__atomic_exchange_n(&f->busy, true, __ATOMIC_ACQUIRE)) {
		uint64_t size;

		/* Map no page the file does not have: touching one would
		 * raise SIGBUS. The writer allocates before it publishes, so
		 * only a file damaged under us is shorter. Map all the file
		 * has (up to the reservation), so that a growing file is
		 * remapped about as often as the writer grows it. */
		if (mmvec__os_file_size(f->fd, &size) == 0 &&
		    size >= MMVEC__FILE_HEADER + (uint64_t)len * elem_size) {
			uint64_t have = size - MMVEC__FILE_HEADER;
			size_t want = have < r->reserved ? (size_t)have :
							   r->reserved;

			want &= ~(r->page - 1);
			if (want < len * elem_size)
				want = len * elem_size;
			if (mmvec__region_commit(r, want) == 0)
				__atomic_store_n(&f->mapped,
						 have < r->committed ?
							 (size_t)have :
							 r->committed,
						 __ATOMIC_RELEASE);
		}
		__atomic_store_n(&f->busy, false, __ATOMIC_RELEASE);
		mapped = __atomic_load_n(&f->mapped, __ATOMIC_ACQUIRE);
	}
	if (len * elem_size > mapped)
		len = mapped / elem_size;
	return len;
}

int mmvec__file_sync(struct mmvec_file *f, void *data, size_t bytes,
		     size_t len)
{
	if (f->rdonly)
		return 0;
	/* the elements first: the synced length may only ever cover
	 * elements that are on disk. The kernel rounds the end up to a page;
	 * the bytes past the elements are no business of memory checkers. */
	if (bytes) {
		int rc = mmvec__os_sync(data, bytes);

		if (rc)
			return rc;
	}
	__atomic_store_n(&f->head->synced_len, (uint64_t)len, __ATOMIC_RELEASE);
	return mmvec__os_sync(f->head, f->head_bytes);
}

void mmvec__file_close(struct mmvec_file *f, struct mmvec_region *r,
		       void *data, size_t bytes, size_t len)
{
	uint64_t keep = MMVEC__FILE_HEADER +
			mmvec__align_up(bytes, mmvec__os_page_size());
	uint64_t size;

	if (!f->rdonly)
		(void)mmvec__file_sync(f, data, bytes, len);
	mmvec__region_fini(r);
	if (!f->rdonly) {
		if (mmvec__os_file_size(f->fd, &size) == 0 && size > keep)
			(void)mmvec__os_file_truncate(f->fd, keep);
		mmvec__os_file_unlock(f->fd);
	}
	mmvec__os_release(f->head, f->head_bytes);
	mmvec__os_file_close(f->fd);
	free(f);
}
