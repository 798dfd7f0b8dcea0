/*
 * SPDX-License-Identifier: MIT
 *
 * The floor of a push through a shared library: the least a non-inlined
 * append can do (one bounds check, one 8-byte move, one release store of the
 * length), built as its own shared library so that the call goes through the
 * PLT exactly like a call to mmvec_push(). The steady-state workload compares
 * mmvec_push() with it, to tell the library's own cost from the call's.
 */
#define _GNU_SOURCE

#include <string.h>

#include "bench.h"

__attribute__((visibility("default"))) void *
bench_floor_push(struct cvec *v, const void *elem)
{
	size_t len = v->len;
	int64_t *dst;

	if (len >= v->cap)
		return NULL;
	dst = v->data + len;
	memcpy(dst, elem, sizeof(*dst));
	__atomic_store_n(&v->len, len + 1, __ATOMIC_RELEASE);
	return dst;
}
