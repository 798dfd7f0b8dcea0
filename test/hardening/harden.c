/*
 * SPDX-License-Identifier: MIT
 */
#include "harden.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#if HAVE_VALGRIND_MEMCHECK_H
#include <valgrind/valgrind.h>
#endif

/* ------------------------------------------------------------------------ */
/* Tools */

bool harden_on_valgrind(void)
{
#if HAVE_VALGRIND_MEMCHECK_H
	return RUNNING_ON_VALGRIND != 0;
#else
	/* Without the header: Valgrind preloads its vgpreload_*.so. */
	const char *pre = getenv("LD_PRELOAD");

	return pre && strstr(pre, "vgpreload") != NULL;
#endif
}

bool harden_on_qemu_user(void)
{
	const char *env = getenv("MMVEC_TEST_QEMU_USER");

	return env && *env && strcmp(env, "0") != 0;
}

bool harden_residency_checkable(void)
{
	static bool told;

	if (!harden_on_qemu_user())
		return true;
	if (!told) {
		printf("MMVEC_POPULATE residency: not checked under qemu-user, "
		       "whose madvise(MADV_POPULATE_WRITE) faults nothing in "
		       "and whose mincore() counts host pages\n");
		fflush(stdout);
		told = true;
	}
	return false;
}

bool harden_slow(void)
{
#if defined(HARDEN_ASAN) || defined(HARDEN_TSAN)
	return true;
#else
	return harden_on_valgrind() || harden_on_qemu_user();
#endif
}

/* ------------------------------------------------------------------------ */
/* Seeds and time budgets */

double harden_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

uint64_t harden_env_u64(const char *name, uint64_t def)
{
	const char *s = getenv(name);
	char *end;
	unsigned long long v;

	if (!s || !*s)
		return def;
	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno || *end)
		return def;
	return (uint64_t)v;
}

void harden_seeds_init(struct harden_seeds *s, uint64_t default_count,
		       double default_seconds)
{
	const char *one = getenv("MMVEC_TEST_SEED");

	memset(s, 0, sizeof(*s));
	s->start = harden_now();
	if (one && *one) {
		s->first = harden_env_u64("MMVEC_TEST_SEED", 1);
		s->count = 1;
		s->seconds = 0;
		return;
	}
	s->first = harden_env_u64("MMVEC_TEST_SEED_BASE", 1);
	if (getenv("MMVEC_TEST_SEEDS")) {
		s->count = harden_env_u64("MMVEC_TEST_SEEDS", default_count);
		s->seconds = 0;
		return;
	}
	if (harden_slow()) {
		default_count = default_count / 10 + 1;
		default_seconds /= 2;
	}
	s->count = default_count;
	s->seconds = (double)harden_env_u64("MMVEC_TEST_SECONDS",
					    (uint64_t)default_seconds);
	if (s->seconds <= 0)
		s->seconds = default_seconds;
}

bool harden_seeds_next(struct harden_seeds *s, uint64_t *seed)
{
	if (s->done >= s->count)
		return false;
	if (s->done > 0 && s->seconds > 0 &&
	    harden_now() - s->start > s->seconds) {
		fprintf(stderr, "time budget of %.0f s used up after %" PRIu64
			" of %" PRIu64 " seeds\n", s->seconds, s->done,
			s->count);
		return false;
	}
	*seed = s->first + s->done++;
	return true;
}

/* ------------------------------------------------------------------------ */
/* Kernel mappings */

static long count_maps(uintptr_t lo, uintptr_t hi, bool all)
{
	FILE *f = fopen("/proc/self/maps", "re");
	char line[512];
	long n = 0;

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		unsigned long long a, b;
		size_t l = strlen(line);

		if (all)
			n++;
		else if (sscanf(line, "%llx-%llx", &a, &b) == 2 && a < hi &&
			 b > lo)
			n++;
		/* a path longer than the buffer: skip the rest of the line */
		while (l > 0 && line[l - 1] != '\n' &&
		       fgets(line, sizeof(line), f))
			l = strlen(line);
	}
	fclose(f);
	return n;
}

long long harden_rw_bytes(const void *addr, size_t limit)
{
	FILE *f = fopen("/proc/self/maps", "re");
	uintptr_t at = (uintptr_t)addr;
	uintptr_t end = at; /* the rw run reaches here so far */
	char line[512];

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		unsigned long long a, b;
		char perms[8];
		size_t l = strlen(line);
		bool stop = false;

		/* lines are sorted by address: extend the run through each
		 * rw mapping that starts where it ends */
		if (sscanf(line, "%llx-%llx %7s", &a, &b, perms) == 3 &&
		    b > end) {
			if (a > end || perms[0] != 'r' || perms[1] != 'w')
				stop = true;
			else
				end = (uintptr_t)b;
		}
		while (l > 0 && line[l - 1] != '\n' &&
		       fgets(line, sizeof(line), f))
			l = strlen(line);
		if (stop)
			break;
	}
	fclose(f);
	if (end - at > limit)
		return (long long)limit;
	return (long long)(end - at);
}

long harden_maps_total(void)
{
	return count_maps(0, 0, true);
}

long harden_maps_in(const void *addr, size_t len)
{
	uintptr_t lo = (uintptr_t)addr;

	return count_maps(lo, lo + len, false);
}
