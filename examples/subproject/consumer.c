/*
 * SPDX-License-Identifier: MIT
 *
 * A program built against libmmvec as a Meson subproject: appends to a
 * vector and checks that nothing moved.
 */
#include <stdio.h>
#include <string.h>

#include <mmvec.h>

int main(void)
{
	struct mmvec *v;
	int *first;
	int rc, i;

	rc = mmvec_new(sizeof(int), 1 << 20, 0, &v);
	if (rc < 0) {
		fprintf(stderr, "mmvec_new: %s\n", strerror(-rc));
		return 1;
	}
	first = mmvec_extend(v, 1);
	if (first == NULL) {
		perror("mmvec_extend");
		mmvec_free(v);
		return 1;
	}
	for (i = 1; i < 100000; i++) {
		if (mmvec_push(v, &i) == NULL) {
			perror("mmvec_push");
			mmvec_free(v);
			return 1;
		}
	}
	if (first != mmvec_data(v) || mmvec_len(v) != 100000 ||
	    *(int *)mmvec_at(v, 99999) != 99999) {
		fprintf(stderr, "the vector is not what was pushed\n");
		mmvec_free(v);
		return 1;
	}
	printf("libmmvec %s as a subproject: 100000 ints, data pointer %p "
	       "never moved\n", mmvec_version(), (void *)first);
	mmvec_free(v);
	return 0;
}
