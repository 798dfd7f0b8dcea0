/*
 * SPDX-License-Identifier: MIT
 *
 * Compiled as C++11 with -pedantic -Wall -Wextra -Werror (abi/meson.build):
 * the public header must compile as C++, and its extern "C" block must give
 * the functions C linkage, or this program does not link against libmmvec.
 */
#include <mmvec.h>
#include <mmvec.h> // include guard

#include <cstdio>
#include <cstring>
#include <type_traits>

#define SAME_TYPE(fn, type) \
	static_assert(std::is_same<decltype(&fn), type>::value, \
		      #fn " has changed its type")

SAME_TYPE(mmvec_region_new, int (*)(size_t, unsigned, mmvec_region **));
SAME_TYPE(mmvec_region_free, void (*)(mmvec_region *));
SAME_TYPE(mmvec_region_commit, int (*)(mmvec_region *, size_t));
SAME_TYPE(mmvec_region_decommit, int (*)(mmvec_region *, size_t));
SAME_TYPE(mmvec_region_base, void *(*)(const mmvec_region *));
SAME_TYPE(mmvec_region_reserved, size_t (*)(const mmvec_region *));
SAME_TYPE(mmvec_region_committed, size_t (*)(const mmvec_region *));
SAME_TYPE(mmvec_page_size, size_t (*)());
SAME_TYPE(mmvec_new, int (*)(size_t, size_t, unsigned, mmvec **));
SAME_TYPE(mmvec_free, void (*)(mmvec *));
SAME_TYPE(mmvec_len, size_t (*)(const mmvec *));
SAME_TYPE(mmvec_capacity, size_t (*)(const mmvec *));
SAME_TYPE(mmvec_max_len, size_t (*)(const mmvec *));
SAME_TYPE(mmvec_elem_size, size_t (*)(const mmvec *));
SAME_TYPE(mmvec_data, void *(*)(const mmvec *));
SAME_TYPE(mmvec_at, void *(*)(const mmvec *, size_t));
SAME_TYPE(mmvec_push, void *(*)(mmvec *, const void *));
SAME_TYPE(mmvec_extend, void *(*)(mmvec *, size_t));
SAME_TYPE(mmvec_append, int (*)(mmvec *, const void *, size_t));
SAME_TYPE(mmvec_insert, int (*)(mmvec *, size_t, const void *, size_t));
SAME_TYPE(mmvec_erase, int (*)(mmvec *, size_t, size_t));
SAME_TYPE(mmvec_swap_remove, int (*)(mmvec *, size_t));
SAME_TYPE(mmvec_pop, int (*)(mmvec *, void *));
SAME_TYPE(mmvec_clear, void (*)(mmvec *));
SAME_TYPE(mmvec_resize, int (*)(mmvec *, size_t));
SAME_TYPE(mmvec_reserve, int (*)(mmvec *, size_t));
SAME_TYPE(mmvec_shrink_to_fit, int (*)(mmvec *));
SAME_TYPE(mmvec_version, const char *(*)());
SAME_TYPE(mmvec_claim, void *(*)(mmvec *, size_t));
SAME_TYPE(mmvec_publish, int (*)(mmvec *, size_t));

static_assert(offsetof(mmvec_head, len) == 0 &&
		      offsetof(mmvec_head, room) == sizeof(size_t) &&
		      offsetof(mmvec_head, data) == 2 * sizeof(size_t) &&
		      offsetof(mmvec_head, elem_size) ==
			      2 * sizeof(size_t) + sizeof(void *),
	      "struct mmvec_head's layout is ABI");

static_assert(MMVEC_HUGEPAGES == 1u && MMVEC_NO_HUGEPAGES == 2u &&
	      MMVEC_POPULATE == 4u, "the flag values are ABI");

int main()
{
	char expected[64];
	std::snprintf(expected, sizeof(expected), "%d.%d.%d",
		      MMVEC_VERSION_MAJOR, MMVEC_VERSION_MINOR,
		      MMVEC_VERSION_PATCH);
	if (std::strcmp(mmvec_version(), expected) != 0) {
		std::fprintf(stderr, "mmvec_version() is %s, the header says %s\n",
			     mmvec_version(), expected);
		return 1;
	}

	mmvec *v = nullptr;
	if (mmvec_new(sizeof(long), 16, MMVEC_NO_HUGEPAGES, &v) != 0) {
		std::fprintf(stderr, "mmvec_new failed\n");
		return 1;
	}
	long value = 7;
	long *elem = static_cast<long *>(mmvec_push(v, &value));
	bool ok = elem != nullptr && *elem == 7 && mmvec_len(v) == 1;
	/* the typed inline push returns long * in C++ too */
	long *typed = mmvec_push_val(v, value);
	ok = ok && typed != nullptr && *typed == 7 &&
	     mmvec_push_fast(v, &value, sizeof(value)) != nullptr &&
	     mmvec_len(v) == 3;
	mmvec_free(v);
	if (!ok) {
		std::fprintf(stderr, "mmvec_push failed\n");
		return 1;
	}
	std::printf("header OK as C++11, library %s\n", mmvec_version());
	return 0;
}
