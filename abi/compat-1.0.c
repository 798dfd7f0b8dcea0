/*
 * SPDX-License-Identifier: MIT
 *
 * A program written and compiled against release 1.0's header
 * (abi/compat-1.0/mmvec.h, kept as it was released), linked and run against
 * this library: every 1.0 function keeps its MMVEC_1.0 version and its
 * meaning, so such a program runs unchanged.
 */
#include <mmvec.h>

#include <stdio.h>
#include <string.h>

int main(void)
{
	struct mmvec *v = NULL;
	struct mmvec_region *r = NULL;
	long x, out = 0;
	int fails = 0;

	/* 1.0's header says 1.0; the library may be newer */
	if (MMVEC_VERSION_MAJOR != 1 || MMVEC_VERSION_MINOR != 0 ||
	    strncmp(mmvec_version(), "1.", 2) != 0)
		fails++;
	if (mmvec_new(sizeof(long), 0, 0, &v) != 0)
		return 1;
	for (x = 0; x < 100000; x++)
		if (mmvec_push(v, &x) == NULL)
			fails++;
	if (mmvec_len(v) != 100000 || *(long *)mmvec_at(v, 99999) != 99999)
		fails++;
	if (mmvec_extend(v, 10) == NULL || mmvec_pop(v, &out) != 0 || out != 0)
		fails++;
	if (mmvec_insert(v, 0, &x, 1) != 0 || *(long *)mmvec_data(v) != x ||
	    mmvec_erase(v, 0, 1) != 0 || mmvec_resize(v, 5) != 0 ||
	    mmvec_shrink_to_fit(v) != 0 || mmvec_len(v) != 5)
		fails++;
	mmvec_free(v);
	if (mmvec_region_new(0, 0, &r) != 0 || mmvec_region_commit(r, 1) != 0)
		return 1;
	mmvec_region_free(r);
	if (fails)
		fprintf(stderr, "%d checks failed\n", fails);
	else
		printf("a 1.0 program runs against libmmvec %s\n",
		       mmvec_version());
	return fails ? 1 : 0;
}
