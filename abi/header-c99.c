/*
 * SPDX-License-Identifier: MIT
 *
 * Compiled with -std=c99 -pedantic -Wall -Wextra -Werror (abi/meson.build):
 * the public header must be self-contained, strictly conforming C99, safe to
 * include twice, and declare every function with exactly the type of the
 * contract (MMVEC_1.0 and MMVEC_1.1), and struct mmvec_head's layout. A signature change is an API break that this test
 * catches at compile time; abidiff catches it in the binary.
 */
#include <mmvec.h>
#include <mmvec.h> /* include guard */

#include <stdio.h>
#include <string.h>

/* Each assignment fails to compile (-Werror) if the declaration differs. */
static int (*const p_region_new)(size_t, unsigned, struct mmvec_region **) =
	mmvec_region_new;
static void (*const p_region_free)(struct mmvec_region *) = mmvec_region_free;
static int (*const p_region_commit)(struct mmvec_region *, size_t) =
	mmvec_region_commit;
static int (*const p_region_decommit)(struct mmvec_region *, size_t) =
	mmvec_region_decommit;
static void *(*const p_region_base)(const struct mmvec_region *) =
	mmvec_region_base;
static size_t (*const p_region_reserved)(const struct mmvec_region *) =
	mmvec_region_reserved;
static size_t (*const p_region_committed)(const struct mmvec_region *) =
	mmvec_region_committed;
static size_t (*const p_page_size)(void) = mmvec_page_size;
static int (*const p_new)(size_t, size_t, unsigned, struct mmvec **) =
	mmvec_new;
static void (*const p_free)(struct mmvec *) = mmvec_free;
static size_t (*const p_len)(const struct mmvec *) = mmvec_len;
static size_t (*const p_capacity)(const struct mmvec *) = mmvec_capacity;
static size_t (*const p_max_len)(const struct mmvec *) = mmvec_max_len;
static size_t (*const p_elem_size)(const struct mmvec *) = mmvec_elem_size;
static void *(*const p_data)(const struct mmvec *) = mmvec_data;
static void *(*const p_at)(const struct mmvec *, size_t) = mmvec_at;
static void *(*const p_push)(struct mmvec *, const void *) = mmvec_push;
static void *(*const p_extend)(struct mmvec *, size_t) = mmvec_extend;
static int (*const p_append)(struct mmvec *, const void *, size_t) =
	mmvec_append;
static int (*const p_insert)(struct mmvec *, size_t, const void *, size_t) =
	mmvec_insert;
static int (*const p_erase)(struct mmvec *, size_t, size_t) = mmvec_erase;
static int (*const p_swap_remove)(struct mmvec *, size_t) = mmvec_swap_remove;
static int (*const p_pop)(struct mmvec *, void *) = mmvec_pop;
static void (*const p_clear)(struct mmvec *) = mmvec_clear;
static int (*const p_resize)(struct mmvec *, size_t) = mmvec_resize;
static int (*const p_reserve)(struct mmvec *, size_t) = mmvec_reserve;
static int (*const p_shrink_to_fit)(struct mmvec *) = mmvec_shrink_to_fit;
static const char *(*const p_version)(void) = mmvec_version;
/* MMVEC_1.1 */
static void *(*const p_claim)(struct mmvec *, size_t) = mmvec_claim;
static int (*const p_publish)(struct mmvec *, size_t) = mmvec_publish;

/* The flag values are ABI too. */
typedef char check_hugepages[MMVEC_HUGEPAGES == 1u ? 1 : -1];
typedef char check_no_hugepages[MMVEC_NO_HUGEPAGES == 2u ? 1 : -1];
typedef char check_populate[MMVEC_POPULATE == 4u ? 1 : -1];

/* So is struct mmvec_head, from 1.1 on: these members, at these offsets. */
typedef char check_head_len[offsetof(struct mmvec_head, len) == 0 ? 1 : -1];
typedef char check_head_room[offsetof(struct mmvec_head, room) ==
				     sizeof(size_t) ? 1 : -1];
typedef char check_head_data[offsetof(struct mmvec_head, data) ==
				     2 * sizeof(size_t) ? 1 : -1];
typedef char check_head_elem_size[offsetof(struct mmvec_head, elem_size) ==
					  2 * sizeof(size_t) + sizeof(void *)
				  ? 1 : -1];

int main(void)
{
	const void *fns[] = {
		(const void *)&p_region_new, (const void *)&p_region_free,
		(const void *)&p_region_commit, (const void *)&p_region_decommit,
		(const void *)&p_region_base, (const void *)&p_region_reserved,
		(const void *)&p_region_committed, (const void *)&p_page_size,
		(const void *)&p_new, (const void *)&p_free,
		(const void *)&p_len, (const void *)&p_capacity,
		(const void *)&p_max_len, (const void *)&p_elem_size,
		(const void *)&p_data, (const void *)&p_at,
		(const void *)&p_push, (const void *)&p_extend,
		(const void *)&p_append, (const void *)&p_insert,
		(const void *)&p_erase, (const void *)&p_swap_remove,
		(const void *)&p_pop, (const void *)&p_clear,
		(const void *)&p_resize, (const void *)&p_reserve,
		(const void *)&p_shrink_to_fit, (const void *)&p_version,
		(const void *)&p_claim, (const void *)&p_publish,
	};
	char expected[64];
	struct mmvec *v = NULL;
	int *elem;
	int value = 42;

	(void)fns;

	/* The linked library is the version the header describes. */
	snprintf(expected, sizeof(expected), "%d.%d.%d", MMVEC_VERSION_MAJOR,
		 MMVEC_VERSION_MINOR, MMVEC_VERSION_PATCH);
	if (strcmp(p_version(), expected) != 0) {
		fprintf(stderr, "mmvec_version() is %s, the header says %s\n",
			p_version(), expected);
		return 1;
	}

	/* And a call through the library works. */
	if (p_new(sizeof(int), 16, 0, &v) != 0 || v == NULL) {
		fprintf(stderr, "mmvec_new failed\n");
		return 1;
	}
	elem = (int *)p_push(v, &value);
	if (elem == NULL || *elem != 42 || p_len(v) != 1) {
		fprintf(stderr, "mmvec_push failed\n");
		p_free(v);
		return 1;
	}
	/* the inline forms compile as strict C99 too */
	elem = mmvec_push_val(v, value);
	if (elem == NULL || *elem != 42 ||
	    mmvec_push_fast(v, &value, sizeof(value)) == NULL ||
	    p_len(v) != 3) {
		fprintf(stderr, "mmvec_push_val/mmvec_push_fast failed\n");
		p_free(v);
		return 1;
	}
	p_free(v);
	printf("header OK as C99, library %s\n", p_version());
	return 0;
}
