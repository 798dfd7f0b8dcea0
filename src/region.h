/*
 * SPDX-License-Identifier: MIT
 *
 * The region layer's contract: what region.c provides to the vector layer
 * (vec.c), on top of the OS layer (os.h). Read in that order: os.h, this
 * file, vec.c. Functions named mmvec__ are shared across files and not
 * exported from the shared library (hidden visibility, version script).
 */
#ifndef MMVEC_REGION_H
#define MMVEC_REGION_H

#include "config.h"

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mmvec.h"

/* Marks the definitions of public functions. On Windows the DLL's exports
 * come from the module-definition file made from src/mmvec.sym instead:
 * __declspec(dllexport) here would also sit in the objects of the static
 * library and make every program linking it export mmvec_* itself. */
#ifdef _WIN32
#define MMVEC_EXPORT
#else
#define MMVEC_EXPORT __attribute__((visibility("default")))
#endif

#define MMVEC_LIKELY(x) __builtin_expect(!!(x), 1)
#define MMVEC_UNLIKELY(x) __builtin_expect(!!(x), 0)

#define MMVEC_ALL_FLAGS (MMVEC_HUGEPAGES | MMVEC_NO_HUGEPAGES | MMVEC_POPULATE)

/* A reservation. `committed` only grows through mmvec__region_commit() and
 * only shrinks through mmvec__region_decommit(); base and reserved never
 * change after init. */
struct mmvec_region {
	char *base;
	size_t reserved;  /* page multiple */
	size_t committed; /* page multiple, <= mmvec__region_owned() */
	/* Bytes from the base past which the range was lost to another
	 * mapping (mmvec__os_decommit()), or SIZE_MAX: see
	 * mmvec__region_owned(). */
	size_t lost;
	size_t page;      /* cached page size */
	size_t huge;      /* commit step once large; 0: page steps only */
	/* the most MMVEC_POPULATE pre-faults beyond what a growing call
	 * needs: one huge page, or 2 MiB without them */
	size_t populate_step;
	unsigned flags;
	/* The backing: anonymous memory (fd -1) or, after
	 * mmvec__region_attach(), the file fd from byte `offset` on. */
	int fd;
	uint64_t offset;  /* page aligned */
	bool writable;    /* false: a file mapped read-only */
	/* With MMVEC_POPULATE, memory stayed committed without being
	 * pre-faulted (a failed populate whose undo failed too): the region
	 * is not what a fresh one would be, and is never cached. */
	bool unpopulated;
};

/* Bytes from the base that are still the region's: all it reserved,
 * unless a decommit lost the top of the range to another mapping. Commits
 * past them are refused with -ENOMEM; only they are released. (Kept apart
 * from `reserved` so that code that trims a fresh reservation need only
 * change that.) */
static inline size_t mmvec__region_owned(const struct mmvec_region *r)
{
	return r->lost < r->reserved ? r->lost : r->reserved;
}

/* Checks flags for both layers: 0 or -EINVAL (unknown bit, or both huge-page
 * flags). */
static inline int mmvec__check_flags(unsigned flags)
{
	if (flags & ~MMVEC_ALL_FLAGS)
		return -EINVAL;
	if ((flags & MMVEC_HUGEPAGES) && (flags & MMVEC_NO_HUGEPAGES))
		return -EINVAL;
	return 0;
}

/* Reserve a region into caller-provided storage. flags are already checked.
 * max_bytes > 0: round up to pages (the caller checked that this does not
 * overflow) and reserve exactly that, or -ENOMEM.
 * max_bytes == 0: the default size (region.c states the rule), at least
 * min_bytes (> 0, rounded up to pages); -ENOMEM when the address space left
 * cannot hold it.
 * On failure *r is untouched. */
int mmvec__region_init(struct mmvec_region *r, size_t max_bytes,
		       size_t min_bytes, unsigned flags);

/* Release everything; *r must not be used afterwards (but may be given to
 * mmvec__region_init() again). */
void mmvec__region_fini(struct mmvec_region *r);

/* As mmvec__region_init() (the same sizes, rule, flags and errors), for an
 * anonymous region that may come from the reservation cache: a cached
 * reservation of exactly the size and flags a fresh one would have, taken
 * with no system call. It may come with a committed prefix (r->committed
 * above 0) of which the first *dirty bytes may hold what its last user
 * wrote: the caller zeroes what of them becomes new data. Memory checkers
 * see the prefix as no-access. A fresh reservation has *dirty 0. */
int mmvec__region_take(struct mmvec_region *r, size_t max_bytes,
		       size_t min_bytes, unsigned flags, size_t *dirty);

/* Done with an anonymous region: it goes to the cache, or is released.
 * `dirty`: bytes from the base that may be non-zero (it need not stop at
 * what is committed). Memory checkers must see its committed memory as
 * addressable, as for mmvec__region_fini(). */
void mmvec__region_put(struct mmvec_region *r, size_t dirty);

/* The page size: mmvec_page_size() without the call through the PLT that
 * an exported function costs within its own library. */
size_t mmvec__page_size(void);

/* ---------------------------------------------------------------------------
 * The reservation cache (cache.c), the region layer's store of released
 * reservations. Only region.c calls it.
 * ------------------------------------------------------------------------- */

/* A cached reservation of exactly `bytes` reserved with `flags`, into *r
 * (committed prefix and all) and its dirty bytes into *dirty; false when
 * there is none or the cache is off. */
bool mmvec__cache_take(struct mmvec_region *r, size_t bytes, unsigned flags,
		       size_t *dirty);

/* Keep r, dirty bytes and all: true if the cache took it (r is the cache's
 * then), false if the caller must release it. */
bool mmvec__cache_put(struct mmvec_region *r, size_t dirty);

/* Release everything cached to the OS; the bytes of address space
 * released. With `commit_only`, give back only committed memory (and its
 * commit charge), keep the reservations, and return the bytes of
 * committed memory given back. */
size_t mmvec__cache_flush(bool commit_only);

/* Commit at least [0, bytes); bytes <= r->reserved (caller checked).
 * Rounds up to the commit step (pages, or huge pages once large), never
 * past the reservation. 0 or -ENOMEM, and nothing changes on failure. */
int mmvec__region_commit(struct mmvec_region *r, size_t bytes);

/* Decommit every whole page at or above bytes. 0 or -ENOMEM, and nothing
 * changes on failure. */
int mmvec__region_decommit(struct mmvec_region *r, size_t bytes);

/* Zero bytes [from, to) of committed memory (from <= to <= committed).
 * Cannot fail: a long range's untouched pages are dropped rather than
 * faulted in, and everything else is memset. */
void mmvec__region_zero(struct mmvec_region *r, size_t from, size_t to);

/* Back a freshly initialised region (nothing committed) by the file fd from
 * byte `offset` (page aligned) on, instead of anonymous memory. The region
 * does not own fd: it stays open until after mmvec__region_fini().
 * Committing [0, bytes) then maps the file's [offset, offset + bytes)
 * shared: a writable region first makes the file that long with its blocks
 * allocated (-ENOSPC, -EFBIG, and on failure the file keeps its size), a
 * read-only one maps what the caller knows is there. Unless the region has
 * MMVEC_NO_HUGEPAGES, the start of the reservation is moved up within it
 * (keeping at least `need` bytes) so that its base and the file offset are
 * aligned alike modulo the huge-page size (so that huge page-cache folios
 * can be mapped whole), and commits of a huge page or more end on the
 * file's huge-page boundaries; otherwise commit steps are pages.
 * MMVEC_POPULATE pre-faults a writable region only. Decommitting a writable
 * region shortens the file to offset + the bytes kept, so that pages
 * committed again read as zero. */
void mmvec__region_attach(struct mmvec_region *r, int fd, uint64_t offset,
			  bool writable, size_t need);

/* The bytes to reserve beyond an explicit maximum for a file region, so
 * that mmvec__region_attach() can move its start (0 with
 * MMVEC_NO_HUGEPAGES). */
size_t mmvec__region_file_slack(unsigned flags);

/* x rounded up to a multiple of the power of two a, for callers that know
 * it fits. */
static inline size_t mmvec__align_up(size_t x, size_t a)
{
	return (x + a - 1) & ~(a - 1);
}

/* True if rounding x up to a multiple of the power of two `a` fits. */
static inline bool mmvec__round_up(size_t x, size_t a, size_t *out)
{
	if (x > SIZE_MAX - (a - 1))
		return false;
	*out = (x + a - 1) & ~(a - 1);
	return true;
}

#endif /* MMVEC_REGION_H */
