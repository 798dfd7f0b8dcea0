/*
 * SPDX-License-Identifier: MIT
 *
 * mmvec-demo: push 2^26 doubles (512 MiB) into a vector with the default
 * reservation and show that its data pointer never moved.
 *
 * Usage: mmvec-demo [COUNT]
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#ifdef _WIN32
#define WIN32_LEAN_AND_MEAN
#include <windows.h>
#include <psapi.h>
#else
#include <sys/resource.h>
#endif

#include <mmvec.h>

#ifdef _WIN32
static double now(void)
{
	LARGE_INTEGER t, f;

	QueryPerformanceCounter(&t);
	QueryPerformanceFrequency(&f);
	return (double)t.QuadPart / (double)f.QuadPart;
}

static double peak_rss_mib(void)
{
	PROCESS_MEMORY_COUNTERS pmc;

	if (!GetProcessMemoryInfo(GetCurrentProcess(), &pmc, sizeof(pmc)))
		return 0;
	return (double)pmc.PeakWorkingSetSize / (1u << 20);
}
#else
static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double peak_rss_mib(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (double)ru.ru_maxrss / 1024; /* ru_maxrss is in KiB on Linux */
}
#endif

int main(int argc, char **argv)
{
	size_t count = (size_t)1 << 26;
	struct mmvec *v;
	void *before, *after;
	double t0, t1;
	int rc;

	if (argc > 1) {
		char *end;
		errno = 0;
		count = strtoull(argv[1], &end, 0);
		if (errno || *end || end == argv[1]) {
			fprintf(stderr, "usage: %s [COUNT]\n", argv[0]);
			return 2;
		}
	}

	rc = mmvec_new(sizeof(double), 0, 0, &v);
	if (rc) {
		fprintf(stderr, "mmvec_new: %s\n", strerror(-rc));
		return 1;
	}
	before = mmvec_data(v);
	printf("libmmvec %s\n", mmvec_version());
	printf("reserved:      %zu elements (%.1f GiB of address space)\n",
	       mmvec_max_len(v),
	       (double)mmvec_max_len(v) * sizeof(double) / (1u << 30));

	t0 = now();
	for (size_t i = 0; i < count; i++) {
		double d = (double)i;
		if (!mmvec_push(v, &d)) {
			fprintf(stderr, "mmvec_push at %zu: %s\n", i,
				strerror(errno));
			mmvec_free(v);
			return 1;
		}
	}
	t1 = now();
	after = mmvec_data(v);

	/* spot-check the contents */
	for (size_t i = 0; i < count; i += 4099) {
		if (*(double *)mmvec_at(v, i) != (double)i) {
			fprintf(stderr, "element %zu is wrong\n", i);
			mmvec_free(v);
			return 1;
		}
	}

	printf("pushed:        %zu doubles (%.1f MiB)\n", mmvec_len(v),
	       (double)mmvec_len(v) * sizeof(double) / (1u << 20));
	printf("data before:   %p\n", before);
	printf("data after:    %p (%s)\n", after,
	       before == after ? "unchanged" : "MOVED");
	printf("capacity:      %zu elements\n", mmvec_capacity(v));
	printf("time:          %.3f s (%.2f ns per push)\n", t1 - t0,
	       count ? (t1 - t0) * 1e9 / (double)count : 0.0);
	printf("peak RSS:      %.1f MiB\n", peak_rss_mib());

	mmvec_free(v);
	return before == after ? 0 : 1;
}
