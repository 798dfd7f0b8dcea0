/*
 * SPDX-License-Identifier: MIT
 *
 * A program that uses libmmvec the way a packaged consumer does: found with
 * pkg-config alone, linked dynamically or statically. Used by
 * debian/ci-check.sh (against unpacked .debs) and by the autopkgtest
 * debian/tests/pkg-config-consumer (against installed packages).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <mmvec.h>

#define FAIL(...) \
	do { \
		fprintf(stderr, "consumer: " __VA_ARGS__); \
		fputc('\n', stderr); \
		return 1; \
	} while (0)

int main(void)
{
	char header_version[32];
	struct mmvec *v;
	long *first, *p;
	long i, x;
	int rc;

	snprintf(header_version, sizeof(header_version), "%d.%d.%d",
		 MMVEC_VERSION_MAJOR, MMVEC_VERSION_MINOR, MMVEC_VERSION_PATCH);
	if (strcmp(mmvec_version(), header_version) != 0)
		FAIL("library %s, header %s", mmvec_version(), header_version);

	rc = mmvec_new(sizeof(long), 1 << 20, 0, &v);
	if (rc != 0)
		FAIL("mmvec_new: %s", strerror(-rc));
	first = mmvec_data(v);

	/* Grow well past the first commit: nothing may move. */
	for (i = 0; i < 100000; i++) {
		p = mmvec_push(v, &i);
		if (p == NULL)
			FAIL("mmvec_push: %s", strerror(errno));
	}
	if (mmvec_data(v) != first || mmvec_len(v) != 100000)
		FAIL("the vector moved or lost elements");
	for (i = 0; i < 100000; i++)
		if (*(long *)mmvec_at(v, (size_t)i) != i)
			FAIL("element %ld is wrong", i);

	/* The error convention: negative errno, nothing changed. */
	if (mmvec_new(0, 1, 0, &v) != -EINVAL)
		FAIL("mmvec_new(0, ...) did not fail with -EINVAL");
	if (mmvec_at(v, 100000) != NULL || errno != ERANGE)
		FAIL("mmvec_at past the end did not fail with ERANGE");
	if (mmvec_pop(v, &x) != 0 || x != 99999)
		FAIL("mmvec_pop");
	if (mmvec_shrink_to_fit(v) != 0)
		FAIL("mmvec_shrink_to_fit");

	mmvec_free(v);
	printf("consumer: libmmvec %s works (page size %zu)\n", mmvec_version(),
	       mmvec_page_size());
	return 0;
}
