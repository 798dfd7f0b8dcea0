/*
 * libmmvec - growable arrays whose elements never move
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef MMVEC_H
#define MMVEC_H

#include <stddef.h>

/**
 * @file mmvec.h
 * The whole public API of libmmvec: the page-reservation layer
 * (`mmvec_region_*`) and the element-vector layer (`mmvec_*`).
 */

#ifdef __cplusplus
extern "C" {
#endif

/**
 * @mainpage libmmvec
 *
 * libmmvec reserves a large range of virtual addresses once (a `PROT_NONE`
 * mapping) and turns pages of it into memory as a vector grows. Growth never
 * copies, mmvec_data() is the same pointer for the vector's whole life, and a
 * pointer to an element stays valid until that element is removed.
 *
 * The library has two layers, both in this header:
 * - the page-reservation layer (`struct mmvec_region`): reserve, commit,
 *   decommit and release a range of pages;
 * - the element-vector layer (`struct mmvec`), built on the first.
 *
 * @section conventions Conventions
 * - A fallible function returns `int`: 0 on success, a negative errno on
 *   failure. A function that returns a pointer returns NULL and sets `errno`
 *   on failure.
 * - A call that fails changes nothing: the same length, contents, capacity and
 *   committed memory as before the call. The one exception: with
 *   #MMVEC_POPULATE, if pre-faulting new memory fails and the OS then also
 *   refuses to undo the commit, the memory stays committed and the capacity
 *   says so (length and contents are still unchanged).
 * - Where several errors apply, the first of this list wins: `EINVAL`,
 *   `ERANGE`, `EOVERFLOW`, `ENOSPC`, `ENOMEM`. `ENOENT` (pop on an empty
 *   vector) is checked right after `EINVAL`.
 * - A NULL source with a count above zero is `-EINVAL`; a count of zero is a
 *   no-op that succeeds.
 * - Getters that cannot fail (mmvec_len(), mmvec_capacity(), ...) return 0
 *   for a NULL handle.
 * - The library never prints, never aborts and never calls exit().
 *
 * @section threads Threads
 * A vector or region is not locked. One thread may modify a vector while any
 * number of other threads call mmvec_len(), mmvec_data(), mmvec_at(),
 * mmvec_elem_size() and mmvec_max_len() on it and read the elements below the
 * length they saw: the length is published with release ordering after the
 * new elements are written, and read with acquire ordering. Growing calls are
 * safe under this rule; calls that shrink (mmvec_erase(), mmvec_pop(),
 * mmvec_swap_remove(), mmvec_clear(), mmvec_resize() downwards,
 * mmvec_shrink_to_fit(), mmvec_insert() which moves elements) and
 * mmvec_free() need the readers to be stopped by the caller.
 */

/** Major version: changes when the ABI breaks (and with it the soname). */
#define MMVEC_VERSION_MAJOR 1
/** Minor version: changes when functions are added. */
#define MMVEC_VERSION_MINOR 0
/** Patch version: changes for fixes that add nothing. */
#define MMVEC_VERSION_PATCH 0

/**
 * Ask for transparent huge pages for the whole reservation and commit in
 * 2 MiB steps from the first commit, even for vectors the library would keep
 * on small pages (by default 2 MiB steps start once 2 MiB are committed).
 * Combined with #MMVEC_NO_HUGEPAGES it is `-EINVAL`.
 */
#define MMVEC_HUGEPAGES (1u << 0)
/**
 * Never ask for transparent huge pages, and ask the kernel not to use them
 * (`MADV_NOHUGEPAGE`) even when they are enabled system-wide. Commit steps
 * stay page-sized.
 */
#define MMVEC_NO_HUGEPAGES (1u << 1)
/**
 * Pre-fault memory as it is committed (`MADV_POPULATE_WRITE`, or touching
 * each page on kernels before 5.14), so later stores into committed memory
 * never take a page fault. The memory counts in the resident set as soon as
 * it is committed.
 */
#define MMVEC_POPULATE (1u << 2)

/* ------------------------------------------------------------------------ */
/** @defgroup region Page-reservation layer
 * @{
 */

/**
 * An opaque reserved range of address space: `[base, base + reserved)`, of
 * which the first `committed` bytes are readable and writable and the rest
 * is `PROT_NONE`.
 */
struct mmvec_region;

/**
 * The operating system's page size: the unit of reservation, commit and
 * decommit.
 *
 * @return the page size in bytes, a power of two.
 */
size_t mmvec_page_size(void);

/**
 * Reserve address space, none of it committed.
 *
 * An explicit @p max_bytes is rounded up to a whole number of pages and
 * reserved exactly, or the call fails with `-ENOMEM`. When @p max_bytes is 0
 * the library picks the size: the machine's physical memory rounded up to a
 * power of two, halved until the OS grants a reservation (so it works under
 * Valgrind, whose mappings are limited to 32 GiB, and under `RLIMIT_AS`),
 * and never less than one page. Once a size has been refused, the library
 * takes half of the first size granted after it, so that a scarce address
 * space (`RLIMIT_AS`) is never used up by one default reservation.
 * mmvec_region_reserved() reports what was granted.
 *
 * A reservation of 2 MiB or more starts on a 2 MiB boundary when the address
 * space allows it, so that transparent huge pages can form.
 *
 * @param max_bytes bytes to reserve, or 0 for the library default
 * @param flags 0 or a combination of #MMVEC_HUGEPAGES, #MMVEC_NO_HUGEPAGES
 *        and #MMVEC_POPULATE
 * @param[out] out the new region; left untouched on failure
 * @return 0 on success;
 *         `-EINVAL` if @p out is NULL, @p flags has an unknown bit, or both
 *         #MMVEC_HUGEPAGES and #MMVEC_NO_HUGEPAGES are set;
 *         `-EOVERFLOW` if @p max_bytes rounded up to a page does not fit in
 *         `size_t`;
 *         `-ENOMEM` if the OS refused the address space (or the small
 *         bookkeeping allocation failed).
 */
int mmvec_region_new(size_t max_bytes, unsigned flags,
		     struct mmvec_region **out);

/**
 * Release a region: all of its address space, committed or not, is unmapped.
 * Pointers into it become invalid.
 *
 * @param r the region; NULL does nothing
 */
void mmvec_region_free(struct mmvec_region *r);

/**
 * Make at least `[0, bytes)` of the region readable and writable.
 *
 * Memory is committed in whole pages; once 2 MiB or more are committed (or
 * from the start with #MMVEC_HUGEPAGES) in whole 2 MiB steps, capped at the
 * reservation, so that huge pages can form. Committing no more than is
 * already committed succeeds and does nothing. Newly committed memory reads
 * as zero. Under strict overcommit (`vm.overcommit_memory=2`) this is where
 * the kernel's refusal surfaces, as `-ENOMEM`.
 *
 * @param r the region
 * @param bytes the number of bytes from the base that must be usable
 * @return 0 on success;
 *         `-EINVAL` if @p r is NULL;
 *         `-ENOSPC` if @p bytes is larger than mmvec_region_reserved();
 *         `-ENOMEM` if the OS refused to commit the memory (nothing is
 *         committed then), or with #MMVEC_POPULATE could not pre-fault it.
 *         A refused pre-fault is undone; only if undoing it also fails
 *         does the memory stay committed, and mmvec_region_committed()
 *         then says so.
 */
int mmvec_region_commit(struct mmvec_region *r, size_t bytes);

/**
 * Give back to the OS every whole page at or above @p bytes (the range
 * from @p bytes rounded up to a page, to the end of what is committed).
 *
 * The pages are dropped together with their commit charge; they become
 * inaccessible again, and read as zero when committed again. Decommitting at
 * or above mmvec_region_committed() does nothing.
 *
 * @param r the region
 * @param bytes the number of bytes from the base to keep
 * @return 0 on success;
 *         `-EINVAL` if @p r is NULL;
 *         `-ENOMEM` if the OS could not remap the range (for example at the
 *         `vm.max_map_count` limit); nothing is decommitted then.
 */
int mmvec_region_decommit(struct mmvec_region *r, size_t bytes);

/**
 * The start of the reserved range.
 *
 * @param r the region
 * @return the base address, page aligned and the same for the region's whole
 *         life; NULL with `errno` set to `EINVAL` if @p r is NULL.
 */
void *mmvec_region_base(const struct mmvec_region *r);

/**
 * @param r the region
 * @return the number of bytes reserved (a multiple of the page size), or 0
 *         if @p r is NULL
 */
size_t mmvec_region_reserved(const struct mmvec_region *r);

/**
 * @param r the region
 * @return the number of bytes committed from the base (a multiple of the
 *         page size), or 0 if @p r is NULL
 */
size_t mmvec_region_committed(const struct mmvec_region *r);

/** @} */

/* ------------------------------------------------------------------------ */
/** @defgroup vector Element-vector layer
 * @{
 */

/**
 * An opaque vector of fixed-size elements, stored contiguously from
 * mmvec_data(), which never changes.
 */
struct mmvec;

/**
 * Create an empty vector.
 *
 * With an explicit @p max_len, exactly `elem_size * max_len` bytes (rounded
 * up to a page) are reserved, or the call fails with `-ENOMEM`; the vector
 * then holds at most @p max_len elements. With @p max_len 0 the library
 * reserves its default (see mmvec_region_new()), never less than one
 * element, and mmvec_max_len() reports how many elements fit in what the OS
 * granted.
 *
 * No memory is committed until the first element is added or reserved.
 *
 * @param elem_size size of one element in bytes, at least 1
 * @param max_len the most elements the vector will hold, or 0 for the
 *        library default
 * @param flags 0 or a combination of #MMVEC_HUGEPAGES, #MMVEC_NO_HUGEPAGES
 *        and #MMVEC_POPULATE
 * @param[out] out the new vector; left untouched on failure
 * @return 0 on success;
 *         `-EINVAL` if @p elem_size is 0, @p out is NULL, @p flags has an
 *         unknown bit, or both huge-page flags are set;
 *         `-EOVERFLOW` if `elem_size * max_len`, or @p elem_size alone,
 *         rounded up to a page, does not fit in `size_t`;
 *         `-ENOMEM` if the OS refused the address space or the bookkeeping
 *         allocation failed.
 */
int mmvec_new(size_t elem_size, size_t max_len, unsigned flags,
	      struct mmvec **out);

/**
 * Free a vector and all its memory. Pointers into it become invalid.
 *
 * @param v the vector; NULL does nothing
 */
void mmvec_free(struct mmvec *v);

/**
 * @param v the vector
 * @return the number of elements, read with acquire ordering (see
 *         @ref threads), or 0 if @p v is NULL
 */
size_t mmvec_len(const struct mmvec *v);

/**
 * The number of elements that fit in committed memory: adding up to this many
 * elements in total never calls the OS and cannot fail with `-ENOMEM`.
 *
 * @param v the vector
 * @return the capacity, never more than mmvec_max_len(), or 0 if @p v is NULL
 * @note Memory from the end of the last committed page on is inaccessible:
 *       touching it raises `SIGSEGV`. The bytes between element
 *       mmvec_capacity() and that page end (when the element size does not
 *       divide the page size) are committed but not part of the vector, and
 *       are reported by Valgrind and AddressSanitizer like the rest of
 *       `[len, capacity)`.
 */
size_t mmvec_capacity(const struct mmvec *v);

/**
 * @param v the vector
 * @return the most elements the vector can ever hold, or 0 if @p v is NULL
 */
size_t mmvec_max_len(const struct mmvec *v);

/**
 * @param v the vector
 * @return the element size in bytes, or 0 if @p v is NULL
 */
size_t mmvec_elem_size(const struct mmvec *v);

/**
 * The first element.
 *
 * @param v the vector
 * @return the start of the vector's storage, the same non-NULL pointer for
 *         the vector's whole life, also while it is empty; NULL with `errno`
 *         set to `EINVAL` if @p v is NULL
 * @note Only `[0, mmvec_len())` elements may be accessed through it.
 */
void *mmvec_data(const struct mmvec *v);

/**
 * Element @p i.
 *
 * @param v the vector
 * @param i the index
 * @return a pointer to element @p i; NULL with `errno` set to `EINVAL` if
 *         @p v is NULL, or to `ERANGE` if `i >= mmvec_len(v)`
 */
void *mmvec_at(const struct mmvec *v, size_t i);

/**
 * Append one element.
 *
 * @param v the vector
 * @param elem the element to copy (mmvec_elem_size() bytes), or NULL to
 *        append a zeroed element. It may point to an element of @p v
 *        itself.
 * @return a pointer to the new last element; NULL with `errno` set to
 *         `EINVAL` if @p v is NULL, `ENOSPC` if the vector already holds
 *         mmvec_max_len() elements, or `ENOMEM` if the OS refused to commit
 *         memory
 * @note Amortised O(1); no element ever moves. Committed memory grows
 *       geometrically, so the number of OS calls is logarithmic in the
 *       length.
 */
void *mmvec_push(struct mmvec *v, const void *elem);

/**
 * Append @p n zeroed elements, to be filled in place: the zero-copy bulk
 * append.
 *
 * @param v the vector
 * @param n the number of elements to append; 0 appends nothing
 * @return a pointer to the first new element (the end of the vector when
 *         @p n is 0); NULL with `errno` set to `EINVAL` if @p v is NULL,
 *         `EOVERFLOW` if the new length in bytes does not fit in `size_t`,
 *         `ENOSPC` if the new length passes mmvec_max_len(), or `ENOMEM` if
 *         the OS refused to commit memory
 */
void *mmvec_extend(struct mmvec *v, size_t n);

/**
 * Append @p n elements copied from @p elems.
 *
 * @param v the vector
 * @param elems `n * mmvec_elem_size()` bytes to copy; they may lie within the
 *        vector's own elements
 * @param n the number of elements
 * @return 0 on success (also when @p n is 0);
 *         `-EINVAL` if @p v is NULL, or @p elems is NULL and @p n is not 0;
 *         `-EOVERFLOW` if the new length in bytes does not fit in `size_t`;
 *         `-ENOSPC` if the new length passes mmvec_max_len();
 *         `-ENOMEM` if the OS refused to commit memory.
 */
int mmvec_append(struct mmvec *v, const void *elems, size_t n);

/**
 * Insert @p n elements copied from @p elems before index @p i, moving the
 * elements from @p i on up by @p n places.
 *
 * @param v the vector
 * @param i the index to insert at; `mmvec_len(v)` appends
 * @param elems `n * mmvec_elem_size()` bytes to copy; they may lie within the
 *        vector's own elements (they are read as they were before the call)
 * @param n the number of elements
 * @return 0 on success (also when @p n is 0);
 *         `-EINVAL` if @p v is NULL, or @p elems is NULL and @p n is not 0;
 *         `-ERANGE` if `i > mmvec_len(v)`, also when @p n is 0;
 *         `-EOVERFLOW` if the new length in bytes does not fit in `size_t`;
 *         `-ENOSPC` if the new length passes mmvec_max_len();
 *         `-ENOMEM` if the OS refused to commit memory.
 * @note Elements at and after @p i move; pointers to them now point to other
 *       elements.
 */
int mmvec_insert(struct mmvec *v, size_t i, const void *elems, size_t n);

/**
 * Remove @p n elements starting at index @p i, keeping the order of the rest.
 *
 * @param v the vector
 * @param i the first element to remove
 * @param n the number of elements to remove; 0 removes nothing (but @p i must
 *        still be at most mmvec_len())
 * @return 0 on success;
 *         `-EINVAL` if @p v is NULL;
 *         `-ERANGE` if `i + n` is more than mmvec_len() (or overflows).
 * @note Memory stays committed; see mmvec_shrink_to_fit().
 */
int mmvec_erase(struct mmvec *v, size_t i, size_t n);

/**
 * Remove element @p i in O(1) by moving the last element into its place.
 *
 * @param v the vector
 * @param i the element to remove
 * @return 0 on success;
 *         `-EINVAL` if @p v is NULL;
 *         `-ERANGE` if `i >= mmvec_len(v)`.
 */
int mmvec_swap_remove(struct mmvec *v, size_t i);

/**
 * Remove the last element.
 *
 * @param v the vector
 * @param[out] out where to copy the element (mmvec_elem_size() bytes), or
 *        NULL to discard it
 * @return 0 on success;
 *         `-EINVAL` if @p v is NULL;
 *         `-ENOENT` if the vector is empty (@p out is not written).
 */
int mmvec_pop(struct mmvec *v, void *out);

/**
 * Remove all elements. The memory stays committed; see
 * mmvec_shrink_to_fit().
 *
 * @param v the vector; NULL does nothing
 */
void mmvec_clear(struct mmvec *v);

/**
 * Set the length. Elements added by growing read as zero; shrinking drops
 * elements from the end and keeps the memory committed.
 *
 * @param v the vector
 * @param len the new length
 * @return 0 on success;
 *         `-EINVAL` if @p v is NULL;
 *         `-EOVERFLOW` if @p len in bytes does not fit in `size_t`;
 *         `-ENOSPC` if @p len is more than mmvec_max_len();
 *         `-ENOMEM` if the OS refused to commit memory.
 */
int mmvec_resize(struct mmvec *v, size_t len);

/**
 * Commit memory for at least @p len elements, so that growing up to @p len
 * never calls the OS and cannot fail with `-ENOMEM`. Reserving no more than
 * mmvec_capacity() does nothing. With #MMVEC_POPULATE the memory is also
 * pre-faulted.
 *
 * @param v the vector
 * @param len the number of elements to make room for
 * @return 0 on success;
 *         `-EINVAL` if @p v is NULL;
 *         `-EOVERFLOW` if @p len in bytes does not fit in `size_t`;
 *         `-ENOSPC` if @p len is more than mmvec_max_len();
 *         `-ENOMEM` if the OS refused to commit memory.
 */
int mmvec_reserve(struct mmvec *v, size_t len);

/**
 * Give back to the OS the committed pages past the last element (every whole
 * page past `mmvec_len() * mmvec_elem_size()` bytes), with their commit
 * charge. mmvec_capacity() drops accordingly; mmvec_data() and the elements
 * do not move.
 *
 * @param v the vector
 * @return 0 on success;
 *         `-EINVAL` if @p v is NULL;
 *         `-ENOMEM` if the OS could not remap the range; nothing changes
 *         then.
 */
int mmvec_shrink_to_fit(struct mmvec *v);

/**
 * @return the library's version, "MAJOR.MINOR.PATCH" ("1.0.0"), which may
 *         differ from the `MMVEC_VERSION_*` macros a program was compiled with
 */
const char *mmvec_version(void);

/** @} */

#ifdef __cplusplus
}
#endif

#endif /* MMVEC_H */
