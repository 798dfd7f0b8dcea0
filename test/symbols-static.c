/*
 * SPDX-License-Identifier: MIT
 *
 * Linked against the static library, so that check-symbols.py can see what
 * a static link pulls into a program. It calls every public function, so
 * every object file of the library is linked in, and exits 0 if they
 * behave.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "mmvec.h"

int main(void)
{
	struct mmvec_region *r = NULL;
	struct mmvec *v = NULL;
	int x = 7, out = 0;
	int fails = 0;
	char version[32];

	snprintf(version, sizeof(version), "%d.%d.%d", MMVEC_VERSION_MAJOR,
		 MMVEC_VERSION_MINOR, MMVEC_VERSION_PATCH);
	if (mmvec_page_size() == 0 || strcmp(mmvec_version(), version) != 0)
		fails++;

	if (mmvec_region_new(4 * mmvec_page_size(), 0, &r) != 0)
		return 1;
	if (mmvec_region_commit(r, 1) != 0 ||
	    mmvec_region_committed(r) != mmvec_page_size() ||
	    mmvec_region_reserved(r) != 4 * mmvec_page_size() ||
	    !mmvec_region_base(r) ||
	    mmvec_region_decommit(r, 0) != 0)
		fails++;
	mmvec_region_free(r);

	if (mmvec_new(sizeof(int), 100, 0, &v) != 0)
		return 1;
	if (!mmvec_push(v, &x) || !mmvec_extend(v, 2) ||
	    mmvec_append(v, &x, 1) != 0 || mmvec_insert(v, 0, &x, 1) != 0 ||
	    mmvec_len(v) != 5 || mmvec_erase(v, 1, 1) != 0 ||
	    mmvec_swap_remove(v, 0) != 0 || mmvec_pop(v, &out) != 0 ||
	    mmvec_resize(v, 10) != 0 || mmvec_reserve(v, 50) != 0 ||
	    mmvec_capacity(v) < 50 || mmvec_max_len(v) != 100 ||
	    mmvec_elem_size(v) != sizeof(int) || !mmvec_data(v) ||
	    !mmvec_at(v, 9) || !mmvec_claim(v, 2) ||
	    mmvec_publish(v, 2) != 0 || mmvec_len(v) != 12)
		fails++;
	mmvec_clear(v);
	if (mmvec_shrink_to_fit(v) != 0 || mmvec_capacity(v) != 0)
		fails++;
	mmvec_free(v);

	return fails ? 1 : 0;
}
