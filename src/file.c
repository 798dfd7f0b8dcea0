/*
 * SPDX-License-Identifier: MIT
 *
 * Vector files: opening, creating, checking and initialising them, the two
 * lengths in their header and the order in which they reach the disk,
 * following a writer for readers, sync and close (file.h states the
 * rules). doc/file-format.md describes the file.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "file.h"
#include "os.h"

/* How far ahead of what a growing call needs a writer's pages are
 * populated (at least a huge page): one step costs one madvise() call.
 * doc/design.md has the measurements behind the size. */
#define POPULATE_STEP ((size_t)4 << 20)

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

/* A length in the header fits the recorded maximum and, when `file_size`
 * is not 0, the file. */
static int check_length(const struct mmvec_file_header *h, uint64_t len,
			uint64_t file_size)
{
	uint64_t bytes;

	if (h->max_len && len > h->max_len)
		return -EBADMSG;
	if (!mul_u64(len, h->elem_size, &bytes) ||
	    bytes > UINT64_MAX - MMVEC__FILE_HEADER ||
	    (file_size && MMVEC__FILE_HEADER + bytes > file_size))
		return -EBADMSG;
	return 0;
}

int mmvec__file_check(const struct mmvec_file_header *h, uint64_t file_size,
		      size_t elem_size, size_t max_len, bool writer)
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
	/* A live length the disk got before the size that covers it (a
	 * machine crash) means nothing to a writer, which starts from the
	 * synced length: only its maximum is checked. */
	rc = check_length(h, live, writer ? 0 : file_size);
	if (!rc)
		rc = check_length(h, synced, file_size);
	if (rc)
		return rc;
	if (h->max_len > SIZE_MAX / elem_size || live > SIZE_MAX / elem_size ||
	    synced > SIZE_MAX / elem_size)
		return -EOVERFLOW;
	return 0;
}

/* The header of an empty vector file, magic left out. */
static void fill_header(struct mmvec_file_header *h, size_t elem_size,
			size_t max_len)
{
	memset(h, 0, sizeof(*h));
	h->version = MMVEC__FILE_VERSION;
	h->byte_order = MMVEC__FILE_BYTE_ORDER;
	h->header_size = MMVEC__FILE_HEADER;
	h->elem_size = elem_size;
	h->max_len = max_len;
}

/* What an initialisation by init_file() leaves when it is cut short (the
 * process killed between its stores): exactly a header's size, no magic,
 * the rest of the first 64 bytes as init_file() writes them, whatever the
 * element size and maximum. Nothing else is taken for an unfinished
 * vector file: a file of 64 KiB that starts with zeroes is someone's
 * data. */
static bool cut_short(int fd, uint64_t size)
{
	struct mmvec_file_header h, want;

	if (size != MMVEC__FILE_HEADER ||
	    mmvec__os_file_read(fd, &h, sizeof(h), 0) != 0)
		return false;
	fill_header(&want, (size_t)h.elem_size, (size_t)h.max_len);
	want.elem_size = h.elem_size;
	want.max_len = h.max_len;
	return memcmp(&h, &want, sizeof(h)) == 0;
}

/* An empty file (or one cut_short()) becomes an empty vector file, on
 * disk. Written through a mapping, not pwrite(), which on an O_APPEND
 * descriptor appends whatever the offset. The magic goes in last, so
 * that a reader opening the file meanwhile finds no vector file rather
 * than half a header. */
static int init_file(int fd, size_t elem_size, size_t max_len)
{
	size_t page = mmvec__os_page_size();
	struct mmvec_file_header *h;
	void *map;
	int rc;

	rc = mmvec__os_file_truncate(fd, 0);
	if (!rc)
		rc = mmvec__os_file_allocate(fd, 0, MMVEC__FILE_HEADER);
	if (!rc)
		rc = mmvec__os_map_file_any(page, fd, true, &map);
	if (rc) {
		(void)mmvec__os_file_truncate(fd, 0);
		return rc == -EFBIG || rc == -ENOSPC || rc == -EIO ? rc
								   : -ENOMEM;
	}
	h = map;
	fill_header(h, elem_size, max_len);
	__atomic_thread_fence(__ATOMIC_RELEASE);
	memcpy(h->magic, MMVEC__FILE_MAGIC, sizeof(h->magic));
	rc = mmvec__os_sync(map, page);
	mmvec__os_release(map, page);
	if (rc)
		(void)mmvec__os_file_truncate(fd, 0);
	return rc;
}

/* ---------------------------------------------------------------------------
 * Opening
 * ------------------------------------------------------------------------- */

/* The descriptor of `path` in *fd, opened or, with MMVEC_CREATE and no
 * file of that name, made anew (*tmp_name and *unnamed). */
static int open_path(const char *path, unsigned flags, int *fd,
		     char **tmp_name, bool *unnamed)
{
	bool writable = !(flags & MMVEC_RDONLY);
	int rc = mmvec__os_file_open(path, writable, fd);

	/* A missing file is made where nobody sees it, complete, and only
	 * then linked into place (mmvec__file_name()), so that no half-made
	 * file is ever seen under the name, and two creators race only for
	 * the name. A dangling symbolic link also says -ENOENT here and makes
	 * the link fail with -EEXIST: its target is not created. */
	if (rc == -ENOENT && writable && (flags & MMVEC_CREATE)) {
		rc = mmvec__os_file_create(path, fd, tmp_name);
		*unnamed = rc == 0;
	}
	return rc;
}

int mmvec__file_open(const char *path, int fd, size_t elem_size,
		     size_t max_len, unsigned flags, struct mmvec_file **out)
{
	bool rdonly = flags & MMVEC_RDONLY;
	size_t page = mmvec__os_page_size();
	struct mmvec_file_header h;
	struct mmvec_file *f;
	uint64_t size = 0;
	void *head;
	int rc;

	f = calloc(1, sizeof(*f));
	if (!f)
		return -ENOMEM;
	f->fd = -1;
	f->rdonly = rdonly;
	rc = path ? open_path(path, flags, &f->fd, &f->tmp_name, &f->unnamed)
		  : mmvec__os_file_dup(fd, !rdonly, &f->fd);
	if (rc) {
		free(f);
		return rc;
	}
	/* The handler counts from now on, before the count is recorded. */
	f->fork_count = mmvec__os_fork_watch();
	f->forks = __atomic_load_n(f->fork_count, __ATOMIC_RELAXED);

	rc = rdonly ? 0 : mmvec__os_file_lock(f->fd);
	if (!rc)
		rc = mmvec__os_file_size(f->fd, &size);
	if (!rc && !rdonly && (flags & MMVEC_CREATE) &&
	    (size == 0 || cut_short(f->fd, size))) {
		rc = init_file(f->fd, elem_size, max_len);
		f->initialised = !f->unnamed;
		size = MMVEC__FILE_HEADER;
	}
	if (!rc && size < sizeof(h))
		rc = -EBADMSG;
	/* The header before the size: a writer allocates before it publishes
	 * a length, so a size read after the length covers it. */
	if (!rc)
		rc = mmvec__os_file_read(f->fd, &h, sizeof(h), 0);
	if (!rc && rdonly)
		rc = mmvec__os_file_size(f->fd, &size);
	if (!rc)
		rc = mmvec__file_check(&h, size, elem_size, max_len, !rdonly);
	if (!rc && mmvec__os_map_file_any(page, f->fd, !rdonly, &head) != 0)
		rc = -ENOMEM;
	if (rc) {
		mmvec__file_discard(f);
		return rc;
	}

	f->head = head;
	f->head_bytes = page;
	f->elem_size = elem_size;
	f->max_len = (size_t)h.max_len;
	f->data_bytes = size - MMVEC__FILE_HEADER;
	f->size_at_open = size;
	/* The header was checked as read: a reader starts at that live
	 * length, a writer at the synced one (what a crash kept). */
	f->len = (size_t)(rdonly ? h.live_len : h.synced_len);
	f->durable = h.synced_len;
	*out = f;
	return 0;
}

int mmvec__file_name(struct mmvec_file *f, const char *path)
{
	int rc;

	if (!f->unnamed)
		return 0;
	rc = mmvec__os_file_link(f->fd, f->tmp_name, path);
	free(f->tmp_name);
	f->tmp_name = NULL;
	f->unnamed = false;
	return rc;
}

void mmvec__file_discard(struct mmvec_file *f)
{
	if (f->head)
		mmvec__os_release(f->head, f->head_bytes);
	if (f->initialised)
		(void)mmvec__os_file_truncate(f->fd, 0);
	if (!f->rdonly)
		mmvec__os_file_unlock(f->fd);
	mmvec__os_file_close(f->fd);
	mmvec__os_file_drop(f->tmp_name);
	free(f->tmp_name);
	free(f);
}

/* ---------------------------------------------------------------------------
 * A writer's lengths on disk
 * ------------------------------------------------------------------------- */

/* The header page to disk. */
static int write_header(struct mmvec_file *f)
{
	return mmvec__os_sync(f->head, f->head_bytes);
}

int mmvec__file_lower(struct mmvec_file *f, size_t len)
{
	uint64_t old = f->head->synced_len;
	int rc;

	if ((uint64_t)len >= f->durable)
		return 0;
	__atomic_store_n(&f->head->synced_len, (uint64_t)len,
			 __ATOMIC_RELAXED);
	rc = write_header(f);
	if (rc) {
		/* the disk may have the lower length or the old one; both
		 * cover only elements still there */
		__atomic_store_n(&f->head->synced_len, old, __ATOMIC_RELAXED);
		return rc;
	}
	f->durable = len;
	return 0;
}

int mmvec__file_sync(struct mmvec_file *f, void *data, size_t bytes,
		     size_t len)
{
	int rc;

	/* the elements first: the synced length may only ever cover
	 * elements that are on disk. The kernel rounds the end up to a page;
	 * the bytes past the elements are no business of memory checkers. */
	if (bytes) {
		rc = mmvec__os_sync(data, bytes);
		if (rc)
			return rc;
	}
	__atomic_store_n(&f->head->synced_len, (uint64_t)len, __ATOMIC_RELEASE);
	/* from this store on the disk may hold len, written back any time */
	if ((uint64_t)len > f->durable)
		f->durable = len;
	rc = write_header(f);
	if (!rc)
		f->durable = len;
	return rc;
}

int mmvec__file_shrink(struct mmvec_file *f, size_t keep)
{
	uint64_t size, end = MMVEC__FILE_HEADER + keep;
	int rc = mmvec__os_file_size(f->fd, &size);

	if (!rc && size > end) {
		rc = write_header(f);
		if (!rc)
			rc = mmvec__os_file_truncate(f->fd, end);
	}
	if (!rc && f->size_at_open > end)
		f->size_at_open = end;
	return rc;
}

/* Ask for huge page-cache folios on what r has mapped since last time:
 * each commit maps a new piece, which has no advice of its own (with it,
 * the kernel's mappings of the file merge back into one). */
static void advise_new(struct mmvec_file *f, struct mmvec_region *r)
{
	if (r->huge && r->committed > f->advised)
		mmvec__os_advise_huge(r->base + f->advised,
				      r->committed - f->advised, true);
	f->advised = r->committed;
}

int mmvec__file_populate(struct mmvec_file *f, struct mmvec_region *r,
			 size_t need)
{
	size_t step = r->huge > POPULATE_STEP ? r->huge : POPULATE_STEP;
	size_t target, from = f->populated;
	int rc;

	advise_new(f, r);
	if (need <= from)
		return 0;
	/* cannot overflow: need <= committed, far below SIZE_MAX */
	target = need > from + step ? need : from + step;
	if (r->huge) {
		/* to a huge-page boundary of the file, where the next
		 * populate starts a whole folio */
		size_t phase = (size_t)(r->offset & (r->huge - 1));

		target = mmvec__align_up(phase + target, r->huge) - phase;
	}
	target = mmvec__align_up(target, r->page);
	if (target > r->committed)
		target = r->committed;
	rc = mmvec__os_populate_file(r->base + from, target - from);
	if (rc == -EOPNOTSUPP) {
		/* nothing to do it with: the blocks were allocated ahead
		 * (posix_fallocate), the pages fault in as they are used */
		f->populated = r->committed;
		return 0;
	}
	if (!rc)
		f->populated = target;
	return rc;
}

void mmvec__file_shrunk(struct mmvec_file *f, const struct mmvec_region *r)
{
	if (f->populated > r->committed)
		f->populated = r->committed;
	if (f->advised > r->committed)
		f->advised = r->committed;
}

/* ---------------------------------------------------------------------------
 * Following
 * ------------------------------------------------------------------------- */

size_t mmvec__file_follow(struct mmvec_file *f, struct mmvec_region *r)
{
	size_t es = f->elem_size, max = r->reserved / es;
	size_t mapped, len, seen;
	uint64_t size, live;

	if (f->max_len && max > f->max_len)
		max = f->max_len;
	/* Another process may have truncated the file: touching its header
	 * page past the end would raise SIGBUS. */
	if (mmvec__os_file_size(f->fd, &size) != 0 ||
	    size < MMVEC__FILE_HEADER)
		return 0;
	live = __atomic_load_n(&f->head->live_len, __ATOMIC_ACQUIRE);
	if (live > max)
		live = max;
	len = (size_t)live; /* <= max, so len * es fits */
	if (MMVEC__FILE_HEADER + (uint64_t)len * es > size)
		len = (size_t)((size - MMVEC__FILE_HEADER) / es);

	mapped = __atomic_load_n(&f->mapped, __ATOMIC_ACQUIRE);
	if (len * es > mapped &&
	    !__atomic_exchange_n(&f->busy, true, __ATOMIC_ACQUIRE)) {
		/* Map all the file has (up to the reservation), so that a
		 * growing file is remapped about as often as the writer
		 * grows it; never a page the file does not have. */
		uint64_t have = size - MMVEC__FILE_HEADER;
		size_t want = have < r->reserved ? (size_t)have : r->reserved;

		want &= ~(r->page - 1);
		if (want < len * es)
			want = len * es;
		if (mmvec__region_commit(r, want) == 0) {
			advise_new(f, r);
			__atomic_store_n(&f->mapped,
					 have < r->committed ? (size_t)have
							     : r->committed,
					 __ATOMIC_RELEASE);
		}
		__atomic_store_n(&f->busy, false, __ATOMIC_RELEASE);
		mapped = __atomic_load_n(&f->mapped, __ATOMIC_ACQUIRE);
	}
	if (len * es > mapped)
		len = mapped / es;
	/* raise the mark of what was handed out */
	seen = __atomic_load_n(&f->seen, __ATOMIC_RELAXED);
	while (len > seen &&
	       !__atomic_compare_exchange_n(&f->seen, &seen, len, true,
					    __ATOMIC_RELAXED, __ATOMIC_RELAXED))
		;
	return len;
}

/* ---------------------------------------------------------------------------
 * Closing
 * ------------------------------------------------------------------------- */

void mmvec__file_close(struct mmvec_file *f, struct mmvec_region *r,
		       void *data, size_t bytes, size_t len)
{
	bool writer = !f->rdonly && !mmvec__file_forked(f);
	uint64_t keep = MMVEC__FILE_HEADER +
			mmvec__align_up(bytes, mmvec__os_page_size());
	uint64_t size;
	int rc = writer ? mmvec__file_sync(f, data, bytes, len) : 0;

	mmvec__region_fini(r);
	if (writer) {
		/* Readers may map all the file had at open (a writer that
		 * crashed may have grown it), and a shorter file would make
		 * them fault: it is never shortened below that. Nor at all if
		 * the header could not be written first. */
		if (keep < f->size_at_open)
			keep = f->size_at_open;
		if (!rc && mmvec__os_file_size(f->fd, &size) == 0 && size > keep)
			(void)mmvec__os_file_truncate(f->fd, keep);
		mmvec__os_file_unlock(f->fd);
	}
	mmvec__os_release(f->head, f->head_bytes);
	mmvec__os_file_close(f->fd);
	free(f->tmp_name);
	free(f);
}
