/*
 * SPDX-License-Identifier: MIT
 *
 * The definitions behind os.h's test-only fault hook, and the INJECT() and
 * COUNT() macros with which each fallible OS call consults it. Included by
 * the one OS file a build compiles (os-posix.c or os-win32.c), after os.h;
 * without MMVEC_FAULT_INJECTION the macros compile to nothing.
 */
#ifndef MMVEC_OS_INJECT_H
#define MMVEC_OS_INJECT_H

#include "os.h"

#ifdef MMVEC_FAULT_INJECTION
/* Defined by the one OS file that does not say MMVEC_OS_INJECT_EXTERN
 * (os-posix-thread.c says it: the POSIX layer is two files). */
#ifndef MMVEC_OS_INJECT_EXTERN
int (*mmvec__os_fault_hook)(enum mmvec__os_op op, size_t size);
unsigned long mmvec__os_calls[MMVEC__OS_NOPS];
#endif

/* The counters are atomic: threads of a test may call the OS at once. */
static int injected(enum mmvec__os_op op, size_t size)
{
	int (*hook)(enum mmvec__os_op, size_t) =
		__atomic_load_n(&mmvec__os_fault_hook, __ATOMIC_RELAXED);

	__atomic_fetch_add(&mmvec__os_calls[op], 1, __ATOMIC_RELAXED);
	return hook ? hook(op, size) : 0;
}
#define INJECT(op, size)                                                       \
	do {                                                                   \
		int inj_ = injected(op, size);                                 \
		if (inj_)                                                      \
			return inj_;                                           \
	} while (0)
#define COUNT(op, size) ((void)injected(op, size))
#else
#define INJECT(op, size) ((void)0)
#define COUNT(op, size) ((void)0)
#endif

#endif /* MMVEC_OS_INJECT_H */
