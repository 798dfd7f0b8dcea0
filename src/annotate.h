/*
 * SPDX-License-Identifier: MIT
 *
 * Telling memory checkers which bytes of a vector are valid. The vector
 * layer keeps [len, capacity) marked no-access and marks elements addressable
 * before it writes them. The region layer knows no elements: it only marks
 * the committed memory of a reservation it keeps in its cache no-access as a
 * whole, and addressable again before the reservation is released or
 * handed to a region (a vector takes it as it is: nothing of it is an
 * element yet).
 *
 * - Valgrind memcheck: client requests, when valgrind/memcheck.h was found at
 *   build time and the process runs under Valgrind (asked once, cached per
 *   vector, so the hot path pays one predictable branch).
 * - AddressSanitizer: manual poisoning, in a -fsanitize=address build.
 */
#ifndef MMVEC_ANNOTATE_H
#define MMVEC_ANNOTATE_H

#include "config.h"

#include <stdbool.h>
#include <stddef.h>

#if HAVE_VALGRIND_MEMCHECK_H
#include <valgrind/memcheck.h>
#endif

#if defined(__SANITIZE_ADDRESS__)
#define MMVEC_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define MMVEC_ASAN 1
#endif
#endif

#ifdef MMVEC_ASAN
#include <sanitizer/asan_interface.h>
#endif

/* Whether annotations are worth making in this process. Valgrind's
 * answer is asked once per file and kept: it cannot change, and asking
 * costs a chain of dependent instructions that creating and freeing a
 * vector pays twice otherwise. */
static inline bool mmvec__annotating(void)
{
#ifdef MMVEC_ASAN
	return true;
#elif HAVE_VALGRIND_MEMCHECK_H
	static int known = -1;
	int running = __atomic_load_n(&known, __ATOMIC_RELAXED);

	if (running < 0) {
		running = RUNNING_ON_VALGRIND != 0;
		__atomic_store_n(&known, running, __ATOMIC_RELAXED);
	}
	return running;
#else
	return false;
#endif
}

/* Whether this process runs under Valgrind, whose client lives in an
 * address space of its own that /proc does not describe. */
static inline bool mmvec__under_valgrind(void)
{
#if HAVE_VALGRIND_MEMCHECK_H
	return RUNNING_ON_VALGRIND != 0;
#else
	return false;
#endif
}

/* Bytes no longer (or not yet) part of the vector: reading or writing them is
 * reported. */
static inline void mmvec__mark_noaccess(const void *p, size_t n)
{
	if (!n)
		return;
#ifdef MMVEC_ASAN
	ASAN_POISON_MEMORY_REGION(p, n);
#endif
#if HAVE_VALGRIND_MEMCHECK_H
	(void)VALGRIND_MAKE_MEM_NOACCESS(p, n);
#endif
	(void)p;
}

/* Bytes about to become elements: addressable, and (being zeroed or copied
 * into right away) defined. */
static inline void mmvec__mark_defined(const void *p, size_t n)
{
	if (!n)
		return;
#ifdef MMVEC_ASAN
	ASAN_UNPOISON_MEMORY_REGION(p, n);
#endif
#if HAVE_VALGRIND_MEMCHECK_H
	(void)VALGRIND_MAKE_MEM_DEFINED(p, n);
#endif
	(void)p;
}

/* Bytes about to be unmapped or decommitted: ASan's shadow must not stay
 * poisoned for whatever the address space is used for next. Valgrind learns
 * about unmapping from the system call itself. */
static inline void mmvec__mark_released(const void *p, size_t n)
{
#ifdef MMVEC_ASAN
	if (n)
		ASAN_UNPOISON_MEMORY_REGION(p, n);
#endif
	(void)p;
	(void)n;
}

#endif /* MMVEC_ANNOTATE_H */
