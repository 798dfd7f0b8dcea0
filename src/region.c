/*
 * SPDX-License-Identifier: MIT
 *
 * The page-reservation layer: a range of address space reserved once, of
 * which a prefix is committed (readable and writable) and the rest is
 * PROT_NONE. Keeping the committed part one prefix keeps a region at two
 * kernel mappings (VMAs) whatever it does, far from vm.max_map_count.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "annotate.h"
#include "os.h"
#include "region.h"

/* Used when the OS cannot tell how much memory the machine has. */
#define FALLBACK_PHYS_BYTES ((size_t)1 << 30)

/* The default reservation's rule (mmvec_region_new(3) states it with these
 * numbers):
 * - it starts at the physical memory rounded up to a power of two, in a
 *   32-bit process at most a quarter of a 4 GiB address space;
 * - it is halved while the OS refuses it (Valgrind's per-mapping limit,
 *   RLIMIT_AS, an address space that is full or in pieces);
 * - it is kept only if as much address space again, and at least
 *   DEFAULT_HEADROOM, is still free after it: one reservation never takes
 *   more than half of what is left, and the last one granted leaves room
 *   for malloc(), thread stacks and libraries. "Free" is found by
 *   arithmetic (mmvec__os_address_space(): RLIMIT_AS or the top of the
 *   address space, less what the process has mapped), so that nothing is
 *   reserved to find out and no other thread sees an allocation fail for
 *   it. Only where that cannot be known, and without RLIMIT_AS, a probe
 *   of that size is reserved and released: where the OS does not report
 *   it (the portable build), under Valgrind (whose client lives in an
 *   address space of its own), and after the OS refused a size the
 *   arithmetic allowed (fragmentation, an unusual address-space layout);
 * - it is never smaller than DEFAULT_FLOOR (or one element, if larger):
 *   below that, -ENOMEM, rather than a vector too small to be of use. */
#define DEFAULT_CAP_32 ((size_t)1 << 30)
#define DEFAULT_HEADROOM ((size_t)128 << 20)
#define DEFAULT_FLOOR ((size_t)16 << 20)

/* Transparent huge pages larger than this (512 MiB with 64 KiB base pages)
 * are not worth whole-huge-page commit steps: the region commits in pages. */
#define MAX_HUGE_STEP ((size_t)32 << 20)

/* The populate step where there are no usable huge pages. */
#define POPULATE_STEP ((size_t)2 << 20)

/* ---------------------------------------------------------------------------
 * Internal API (region.h)
 * ------------------------------------------------------------------------- */

/* The usable huge-page size: what commit steps round to once large, and
 * what a reservation is aligned to. 0 where there is none to use. */
static size_t huge_step(void)
{
	size_t huge = mmvec__os_huge_page_size();

	return huge <= MAX_HUGE_STEP ? huge : 0;
}

/* Give the range the region's huge-page advice. Applied to the whole
 * reservation at once, and again to a decommitted range (which is a new
 * mapping without it), so that every part of the reservation has the same
 * flags and the kernel keeps it at two VMAs. Without a flag, a reservation
 * smaller than a huge page could never hold one: no advice, no system call.
 * With one it is given at any size, since the kernel may also back small
 * ranges with smaller multi-page folios (Linux 6.8's mTHP). */
static void advise(const struct mmvec_region *r, size_t off, size_t len)
{
	size_t huge = mmvec__os_huge_page_size();

	if (r->flags & MMVEC_NO_HUGEPAGES)
		mmvec__os_advise_huge(r->base + off, len, false);
	else if ((r->flags & MMVEC_HUGEPAGES) || (huge && r->reserved >= huge))
		mmvec__os_advise_huge(r->base + off, len, true);
}

/* The region's fields for the reservation [base, base + bytes) made with
 * `flags`, nothing committed. */
static void setup(struct mmvec_region *r, char *base, size_t bytes,
		  unsigned flags)
{
	size_t huge = (flags & MMVEC_NO_HUGEPAGES) ? 0 : huge_step();

	r->base = base;
	r->reserved = bytes;
	r->lost = SIZE_MAX;
	r->committed = 0;
	r->page = mmvec__os_page_size();
	r->huge = huge;
	r->populate_step = huge ? huge : mmvec__align_up(POPULATE_STEP, r->page);
	r->flags = flags;
	r->fd = -1;
	r->offset = 0;
	r->writable = true;
	r->unpopulated = false;
}

static int os_reserve(size_t bytes, unsigned flags, void **base)
{
	size_t huge = (flags & MMVEC_NO_HUGEPAGES) ? 0 : huge_step();
	int rc = -ENOMEM;

	/* Huge pages form only in huge-page-aligned ranges. Aligning needs
	 * some slack address space; without it (RLIMIT_AS, Valgrind's
	 * per-mapping limit) an unaligned reservation still works. */
	if (huge && bytes >= huge)
		rc = mmvec__os_reserve(bytes, huge, base);
	if (rc)
		rc = mmvec__os_reserve(bytes, mmvec__os_page_size(), base);
	return rc;
}

static int reserve(struct mmvec_region *r, size_t bytes, unsigned flags)
{
	void *base;

	/* What the cache holds is given back before a refusal counts: the
	 * cache never makes a reservation fail that would fit without it. */
	if (os_reserve(bytes, flags, &base) != 0 &&
	    (!mmvec__cache_flush(false) || os_reserve(bytes, flags, &base) != 0))
		return -ENOMEM;
	setup(r, base, bytes, flags);
	advise(r, 0, bytes);
	return 0;
}

/* The size the default starts from: physical memory rounded up to a power
 * of two, about as much as one vector could ever fill, and a size the
 * halving keeps page aligned. */
static size_t default_start(void)
{
	/* computed once: every default vector asks (0: not yet) */
	static size_t cached;
	size_t bytes = __atomic_load_n(&cached, __ATOMIC_RELAXED);
	size_t phys;

	if (bytes)
		return bytes;
	phys = mmvec__os_physical_memory();
	if (!phys)
		phys = FALLBACK_PHYS_BYTES;
	bytes = mmvec__os_page_size();
	while (bytes < phys && bytes <= SIZE_MAX / 2)
		bytes *= 2;
	if (sizeof(size_t) < 8 && bytes > DEFAULT_CAP_32)
		bytes = DEFAULT_CAP_32;
	__atomic_store_n(&cached, bytes, __ATOMIC_RELAXED);
	return bytes;
}

/* max(bytes, DEFAULT_HEADROOM): what must stay free after a default
 * reservation of `bytes`. */
static size_t headroom(size_t bytes)
{
	return bytes > DEFAULT_HEADROOM ? bytes : DEFAULT_HEADROOM;
}

/* Whether headroom(bytes) more address space could be had: a reservation
 * made and released at once. */
static bool room_after(size_t bytes)
{
	size_t probe = headroom(bytes);
	void *p;

	if (mmvec__os_reserve(probe, mmvec__os_page_size(), &p) != 0)
		return false;
	mmvec__os_release(p, probe);
	return true;
}

/* What the last default reservation left free by the arithmetic, less its
 * headroom: the margin a cached default reservation is handed out in.
 * SIZE_MAX when a probe found the first size free, 0 when it had to halve.
 * Relaxed: an estimate, refreshed by every fresh default reservation. */
static size_t default_margin;

/* Between two measurements of the address space left (a read of /proc,
 * dearer than the reservation itself), what the last one found and what
 * the default reservations made since have taken: without RLIMIT_AS, and
 * while that leaves the first size many times over, the arithmetic goes on
 * that, measuring again every REMEASURE_EVERY reservations for what the
 * rest of the program maps meanwhile. Under the process lock. */
#define REMEASURE_EVERY 64u
#define MEASURE_MARGIN 64u

static struct {
	size_t left, taken;
	unsigned since;
	bool valid;
} measured;

/* The address space left, for a default reservation whose first size needs
 * `need` of it; 0 or -EOPNOTSUPP (*limited is set either way). */
static int space_left(size_t need, bool *limited, size_t *left)
{
	bool estimate;
	int rc;

	(void)mmvec__os_address_space(false, limited, left);
	mmvec__os_lock();
	estimate = !*limited && measured.valid &&
		   measured.since < REMEASURE_EVERY &&
		   measured.taken <= measured.left &&
		   (measured.left - measured.taken) / MEASURE_MARGIN >= need;
	if (estimate)
		*left = measured.left - measured.taken;
	mmvec__os_unlock();
	if (estimate)
		return 0;
	rc = mmvec__os_address_space(true, limited, left);
	mmvec__os_lock();
	measured.valid = rc == 0;
	measured.left = *left;
	measured.taken = 0;
	measured.since = 0;
	mmvec__os_unlock();
	return rc;
}

/* A default reservation of `bytes` was made since the last measurement. */
static void taken(size_t bytes)
{
	mmvec__os_lock();
	measured.taken += bytes;
	measured.since++;
	mmvec__os_unlock();
}

static int reserve_default(struct mmvec_region *r, size_t min_bytes,
			   unsigned flags)
{
	size_t page = mmvec__os_page_size();
	size_t floor = DEFAULT_FLOOR, bytes = default_start(), left = 0;
	bool limited = false, probe, halved = false;

	if (!mmvec__round_up(min_bytes ? min_bytes : 1, page, &min_bytes))
		return -EOVERFLOW;
	if (floor < min_bytes)
		floor = min_bytes;
	if (bytes < floor)
		bytes = floor;
	probe = space_left(bytes + headroom(bytes), &limited, &left) != 0;
	/* Valgrind's client address space is not what /proc says; with a
	 * limit, the limit is what counts, for Valgrind too */
	if (!limited && mmvec__under_valgrind())
		probe = true;
	/* Address space the cache holds would be given back before a
	 * refusal counts: so before the first size is halved for want of
	 * it, too. */
	if (!probe && bytes + headroom(bytes) > left &&
	    mmvec__cache_flush(false))
		probe = space_left(SIZE_MAX, &limited, &left) != 0;
	for (;;) {
		/* cannot overflow: bytes is at most half of SIZE_MAX */
		bool fits = probe || bytes + headroom(bytes) <= left;

		if (fits && reserve(r, bytes, flags) == 0) {
			if (!probe) {
				taken(bytes);
				__atomic_store_n(&default_margin,
						 left - bytes - headroom(bytes),
						 __ATOMIC_RELAXED);
				return 0;
			}
			if (room_after(bytes)) {
				__atomic_store_n(&default_margin,
						 halved ? 0 : SIZE_MAX,
						 __ATOMIC_RELAXED);
				return 0;
			}
			mmvec__region_fini(r);
		} else if (fits && !limited) {
			/* refused where the arithmetic saw room: find out the
			 * old way from here on */
			probe = true;
		}
		if (bytes == floor)
			return -ENOMEM;
		bytes = bytes / 2 > floor ? bytes / 2 : floor;
		halved = true;
	}
}

/* The size reserve_default() tries first: the only default size the cache
 * serves. */
static size_t default_first(size_t min_bytes)
{
	size_t bytes = default_start();

	if (!mmvec__round_up(min_bytes ? min_bytes : 1, mmvec__os_page_size(),
			     &min_bytes))
		return 0;
	if (bytes < DEFAULT_FLOOR)
		bytes = DEFAULT_FLOOR;
	return bytes < min_bytes ? min_bytes : bytes;
}

int mmvec__region_init(struct mmvec_region *r, size_t max_bytes,
		       size_t min_bytes, unsigned flags)
{
	size_t bytes;

	if (!max_bytes)
		return reserve_default(r, min_bytes, flags);
	if (!mmvec__round_up(max_bytes, mmvec__os_page_size(), &bytes))
		return -EOVERFLOW;
	return reserve(r, bytes, flags);
}

void mmvec__region_fini(struct mmvec_region *r)
{
	if (mmvec__region_owned(r))
		mmvec__os_release(r->base, mmvec__region_owned(r));
	r->base = NULL;
	r->reserved = r->committed = 0;
}

int mmvec__region_take(struct mmvec_region *r, size_t max_bytes,
		       size_t min_bytes, unsigned flags, size_t *dirty)
{
	size_t bytes;

	*dirty = 0;
	if (max_bytes) {
		if (!mmvec__round_up(max_bytes, mmvec__os_page_size(), &bytes))
			return -EOVERFLOW;
	} else {
		/* A cached default reservation is what a fresh one would be
		 * only while the address space has room for it several times
		 * over (the rule halves near the end of it). */
		bytes = default_first(min_bytes);
		if (!bytes)
			return -EOVERFLOW;
		if (__atomic_load_n(&default_margin, __ATOMIC_RELAXED) / 4 <
		    bytes + headroom(bytes))
			return reserve_default(r, min_bytes, flags);
	}
	if (mmvec__cache_take(r, bytes, flags, dirty))
		return 0;
	return max_bytes ? reserve(r, bytes, flags)
			 : reserve_default(r, min_bytes, flags);
}

void mmvec__region_put(struct mmvec_region *r, size_t dirty)
{
	if (!mmvec__cache_put(r, dirty))
		mmvec__region_fini(r);
}

/* A decommit of [at, at + size) kept only its first `kept` bytes (see
 * mmvec__os_decommit()): the rest is another mapping's or a hole, and the
 * region gives up everything from there on, releasing what it still held
 * above the range. */
static void lose(struct mmvec_region *r, size_t at, size_t size, size_t kept)
{
	size_t owned = mmvec__region_owned(r);

	if (kept == size)
		return;
	if (at + size < owned)
		mmvec__os_release(r->base + at + size, owned - (at + size));
	r->lost = at + kept;
}

/* Decommit [at, at + size) (the top of what is committed) and advise what
 * is still the region's; 0, or -ENOMEM and nothing changed. */
static int decommit(struct mmvec_region *r, size_t at, size_t size)
{
	size_t kept;

	if (mmvec__os_decommit(r->base + at, size, &kept))
		return -ENOMEM;
	if (kept)
		advise(r, at, kept);
	lose(r, at, size, kept);
	return 0;
}

/* Commit [committed, target) of a file region: allocate, then map. */
static int commit_file(struct mmvec_region *r, size_t target)
{
	size_t grow = target - r->committed;
	uint64_t from = r->offset + r->committed;
	uint64_t to = r->offset + target;
	uint64_t had = 0;
	int rc;

	if (r->writable) {
		rc = mmvec__os_file_size(r->fd, &had);
		if (rc)
			return rc;
		rc = mmvec__os_file_allocate(r->fd, from, to);
		if (rc) {
			uint64_t now;

			if (mmvec__os_file_size(r->fd, &now) == 0 && now != had)
				(void)mmvec__os_file_truncate(r->fd, had);
			return rc;
		}
	}
	rc = mmvec__os_map_file(r->base + r->committed, grow, r->fd, from,
				r->writable);
	if (rc == 0 && r->writable && (r->flags & MMVEC_POPULATE))
		rc = mmvec__os_populate(r->base + r->committed, grow);
	if (rc) {
		/* the range is PROT_NONE again (or is made so): undo the
		 * growth of the file too */
		(void)decommit(r, r->committed, grow);
		if (r->writable && had < to)
			(void)mmvec__os_file_truncate(r->fd, had);
		return rc == -EFBIG ? rc : -ENOMEM;
	}
	r->committed = target;
	return 0;
}

/* Decommit [keep, committed) of a file region. The file is shortened first:
 * if that fails nothing has changed; if the remap then fails the file gets
 * its length back, so that the still-mapped pages stay backed. */
static int decommit_file(struct mmvec_region *r, size_t keep)
{
	size_t drop = r->committed - keep;
	int rc;

	if (r->writable) {
		rc = mmvec__os_file_truncate(r->fd, r->offset + keep);
		if (rc)
			return rc;
	}
	rc = decommit(r, keep, drop);
	if (rc) {
		if (r->writable)
			(void)mmvec__os_file_allocate(r->fd, r->offset + keep,
						      r->offset + r->committed);
		return rc;
	}
	r->committed = keep;
	return 0;
}

/* Move the start of a fresh reservation up, within it, until it is
 * congruent to the file offset modulo the huge-page size: only then can
 * the kernel map the page cache's huge folios with one entry each (a PMD
 * mapping needs the virtual address and the file offset aligned alike).
 * The pages skipped are given back; the reservation stays at least `need`
 * bytes, else it stays as it is. No second reservation: address space may
 * be scarce (RLIMIT_AS), and some emulators (qemu-user) account every
 * page of a mapping they are given. */
static void place_for_file(struct mmvec_region *r, uint64_t offset,
			   size_t need)
{
	size_t phase = (size_t)(offset & (r->huge - 1));
	size_t shift = (phase - ((uintptr_t)r->base & (r->huge - 1))) &
		       (r->huge - 1);

	if (!shift || r->reserved < shift || r->reserved - shift < need ||
	    r->reserved - shift < r->page)
		return;
	mmvec__os_release(r->base, shift);
	r->base += shift;
	r->reserved -= shift;
}

size_t mmvec__region_file_slack(unsigned flags)
{
	return (flags & MMVEC_NO_HUGEPAGES) ? 0 : huge_step();
}

void mmvec__region_attach(struct mmvec_region *r, int fd, uint64_t offset,
			  bool writable, size_t need)
{
	r->fd = fd;
	r->offset = offset;
	r->writable = writable;
	/* The page cache holds huge folios where the file system supports
	 * them, and the file layer asks for them (MADV_HUGEPAGE on the file
	 * mapping): commits then end on the file's huge-page boundaries.
	 * Huge pages of more than MAX_HUGE_STEP would only make the file
	 * grow in large jumps. */
	r->huge = (r->flags & MMVEC_NO_HUGEPAGES) ? 0 : huge_step();
	if (r->huge && r->reserved >= r->huge)
		place_for_file(r, offset, need);
	else
		r->huge = 0;
}

int mmvec__region_commit(struct mmvec_region *r, size_t bytes)
{
	size_t target, grow;
	int rc;

	if (bytes <= r->committed)
		return 0;
	/* the rest of the range went to another mapping */
	if (bytes > mmvec__region_owned(r))
		return -ENOMEM;
	if (r->fd >= 0) {
		target = mmvec__align_up(bytes, r->page);
		/* end on a huge-page boundary of the file, once large */
		if (r->huge && target >= r->huge) {
			size_t phase = (size_t)(r->offset & (r->huge - 1));

			target = mmvec__align_up(phase + target, r->huge) - phase;
			if (target > r->reserved)
				target = r->reserved;
		}
		return commit_file(r, target);
	}

	/* cannot overflow: bytes <= reserved, a page multiple */
	target = mmvec__align_up(bytes, r->page);
	/* Once large (or from the start when asked), commit whole huge pages
	 * so that every committed huge-page-aligned block is wholly writable,
	 * which is when transparent huge pages form. Small regions stay in
	 * page steps and never pay a whole huge page. */
	if (r->huge && (target >= r->huge || (r->flags & MMVEC_HUGEPAGES))) {
		/* cannot overflow: target <= reserved, far below SIZE_MAX */
		target = mmvec__align_up(target, r->huge);
		if (target > mmvec__region_owned(r))
			target = mmvec__region_owned(r);
	}

	grow = target - r->committed;
	rc = mmvec__os_commit(r->base + r->committed, grow);
	/* Committed memory the cache keeps is given back before a refusal
	 * counts: under strict overcommit it holds commit charge. */
	if (rc && mmvec__cache_flush(true))
		rc = mmvec__os_commit(r->base + r->committed, grow);
	if (rc)
		return -ENOMEM;

	if (r->flags & MMVEC_POPULATE) {
		rc = mmvec__os_populate(r->base + r->committed, grow);
		if (rc) {
			/* Undo, so that a failed call changes nothing. If even
			 * that fails the range stays committed and says so. */
			if (decommit(r, r->committed, grow) != 0) {
				r->committed = target;
				r->unpopulated = true;
			}
			return -ENOMEM;
		}
	}

	r->committed = target;
	return 0;
}

int mmvec__region_decommit(struct mmvec_region *r, size_t bytes)
{
	size_t keep;

	if (bytes >= r->committed)
		return 0;
	/* cannot overflow: bytes < committed, a page multiple */
	keep = mmvec__align_up(bytes, r->page);
	if (keep == r->committed)
		return 0;
	if (r->fd >= 0)
		return decommit_file(r, keep);

	if (decommit(r, keep, r->committed - keep))
		return -ENOMEM;
	r->committed = keep;
	return 0;
}

/* Below this, zeroing is one memset: looking for untouched pages (one
 * mincore() call per 1024 pages) would cost more than clearing them. */
#define ZERO_SCAN_MIN ((size_t)256 << 10)

void mmvec__region_zero(struct mmvec_region *r, size_t from, size_t to)
{
	size_t lo = mmvec__align_up(from, r->page);
	size_t hi = to & ~(r->page - 1);

	/* Dropping pages of a file mapping reads the file again: files get
	 * the memset. */
	if (r->fd < 0 && hi > lo && hi - lo >= ZERO_SCAN_MIN &&
	    mmvec__os_zero(r->base + lo, hi - lo) == 0) {
		memset(r->base + from, 0, lo - from);
		memset(r->base + hi, 0, to - hi);
		return;
	}
	memset(r->base + from, 0, to - from);
}

/* ---------------------------------------------------------------------------
 * Public API
 * ------------------------------------------------------------------------- */

size_t mmvec__page_size(void)
{
	return mmvec__os_page_size();
}

MMVEC_EXPORT size_t mmvec_page_size(void)
{
	return mmvec__os_page_size();
}

MMVEC_EXPORT int mmvec_region_new(size_t max_bytes, unsigned flags,
				  struct mmvec_region **out)
{
	struct mmvec_region *r;
	size_t rounded, dirty;
	int rc;

	if (!out)
		return -EINVAL;
	rc = mmvec__check_flags(flags);
	if (rc)
		return rc;
	if (!mmvec__round_up(max_bytes, mmvec__os_page_size(), &rounded))
		return -EOVERFLOW;

	r = malloc(sizeof(*r));
	if (!r)
		return -ENOMEM;
	rc = mmvec__region_take(r, max_bytes, 1, flags, &dirty);
	/* A new region has nothing committed: a cached prefix goes back to
	 * the OS (its pages with it, so that committing reads zeroes), and
	 * memory checkers see the range as they see a fresh one. */
	if (rc == 0 && r->committed) {
		size_t had = r->committed;

		mmvec__mark_released(r->base, had);
		if (mmvec__region_decommit(r, 0) != 0 ||
		    mmvec__region_owned(r) != r->reserved) {
			mmvec__region_fini(r);
			rc = mmvec__region_init(r, max_bytes, 1, flags);
		}
	}
	if (rc) {
		free(r);
		return rc;
	}
	*out = r;
	return 0;
}

MMVEC_EXPORT void mmvec_region_free(struct mmvec_region *r)
{
	if (!r)
		return;
	/* everything committed may have been written */
	mmvec__region_put(r, r->committed);
	free(r);
}

MMVEC_EXPORT int mmvec_region_commit(struct mmvec_region *r, size_t bytes)
{
	if (!r)
		return -EINVAL;
	if (bytes > r->reserved)
		return -ENOSPC;
	return mmvec__region_commit(r, bytes);
}

MMVEC_EXPORT int mmvec_region_decommit(struct mmvec_region *r, size_t bytes)
{
	if (!r)
		return -EINVAL;
	return mmvec__region_decommit(r, bytes);
}

MMVEC_EXPORT void *mmvec_region_base(const struct mmvec_region *r)
{
	if (!r) {
		errno = EINVAL;
		return NULL;
	}
	return r->base;
}

MMVEC_EXPORT size_t mmvec_region_reserved(const struct mmvec_region *r)
{
	return r ? r->reserved : 0;
}

MMVEC_EXPORT size_t mmvec_region_committed(const struct mmvec_region *r)
{
	return r ? r->committed : 0;
}
