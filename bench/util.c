/*
 * SPDX-License-Identifier: MIT
 *
 * Small helpers of mmvec-bench: allocation that gives up with a message,
 * parsing counts, and what /proc says about this process.
 */
#define _GNU_SOURCE

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench.h"

double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int fail_errno(const char *what, int err)
{
	fprintf(stderr, "mmvec-bench: %s: %s\n", what, strerror(err));
	return -1;
}

/* The benchmark cannot go on without its memory: say so and exit. */
static void *need(void *p)
{
	if (!p) {
		fprintf(stderr, "mmvec-bench: out of memory\n");
		exit(2);
	}
	return p;
}

void *xcalloc(size_t n, size_t size)
{
	return need(calloc(n ? n : 1, size ? size : 1));
}

void *xrealloc(void *p, size_t n, size_t size)
{
	if (size && n > SIZE_MAX / size)
		return need(NULL);
	return need(realloc(p, n && size ? n * size : 1));
}

char *xstrdup(const char *s)
{
	return need(strdup(s));
}

/* A count such as 50000000, 5e7 or 1e9. */
bool parse_count(const char *s, size_t *out)
{
	char *end;
	double d;

	errno = 0;
	d = strtod(s, &end);
	if (errno || end == s || *end || d < 1 || d > 1e15 || d != floor(d))
		return false;
	*out = (size_t)d;
	return true;
}

/* The second number of a /proc file open at fd, 0 when there is none. A
 * pread() of an open file: cheap enough to call while a method runs. */
unsigned long long proc_field2(int fd)
{
	char buf[128];
	unsigned long long first, second;
	ssize_t n;

	if (fd < 0)
		return 0;
	n = pread(fd, buf, sizeof(buf) - 1, 0);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	if (sscanf(buf, "%llu %llu", &first, &second) != 2)
		return 0;
	return second;
}

/* Resident bytes of this process: field 2 of /proc/self/statm. */
long rss_bytes(void)
{
	static int fd = -1;

	if (fd < 0)
		fd = open("/proc/self/statm", O_RDONLY | O_CLOEXEC);
	return (long)proc_field2(fd) * sysconf(_SC_PAGESIZE);
}

/* A "Key:   123 kB" line of /proc/self/status, in KiB. */
double status_kib(const char *key)
{
	FILE *f = fopen("/proc/self/status", "re");
	char line[256];
	size_t klen = strlen(key);
	double v = NAN;

	if (!f)
		return v;
	while (fgets(line, sizeof(line), f)) {
		if (strncmp(line, key, klen) == 0 && line[klen] == ':') {
			v = strtod(line + klen + 1, NULL);
			break;
		}
	}
	fclose(f);
	return v;
}

/* An executable in $PATH: its path in out. */
bool find_in_path(const char *name, char *out, size_t size)
{
	const char *path = getenv("PATH");
	char *copy, *save = NULL, *dir;
	bool found = false;

	if (!path)
		path = "/usr/bin:/bin";
	copy = xstrdup(path);
	for (dir = strtok_r(copy, ":", &save); dir && !found;
	     dir = strtok_r(NULL, ":", &save)) {
		snprintf(out, size, "%s/%s", dir, name);
		found = access(out, X_OK) == 0;
	}
	free(copy);
	return found;
}
