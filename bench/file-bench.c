/*
 * SPDX-License-Identifier: MIT
 *
 * file-bench: appending N int64 to a file, four ways, and what making it
 * durable costs.
 *
 *   mmvec push      mmvec_open() + mmvec_push() per element
 *   mmvec extend    mmvec_open() + mmvec_extend() of 1 MiB, filled in place
 *   write(2)        the same bytes from a 1 MiB buffer, one write per MiB
 *   fwrite          fwrite() of each element through stdio's buffer
 *
 * For each: the append time (ns per element), then the time to make it all
 * durable (mmvec_sync(); fdatasync(); fflush() + fdatasync()), then the
 * time to close. Then the cost of mmvec_sync() after small appends: ROUNDS
 * times 1,000 elements and a sync.
 *
 *   file-bench [-n N] [-d DIR] [-r RUNS]
 *
 * N defaults to 5e7 (400 MB per file); DIR to /tmp (the file system decides
 * what a sync costs: tmpfs has no disk). The methods run interleaved RUNS
 * times (default 1); the best run of each is shown.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "mmvec.h"

#define CHUNK ((size_t)1 << 20)
#define SMALL_APPEND 1000
#define SYNC_ROUNDS 100

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

__attribute__((noreturn)) static void fail(const char *what, int err)
{
	fprintf(stderr, "file-bench: %s: %s\n", what, strerror(err));
	exit(EXIT_FAILURE);
}

struct result {
	double append, sync, close;
};

/* A new vector file at path, n int64 appended one at a time (@bulk false)
 * or in CHUNK-byte extends filled in place, then synced and closed. */
static void run_mmvec(const char *path, size_t n, bool bulk,
		      struct result *r)
{
	size_t step = bulk ? CHUNK / sizeof(int64_t) : 1;
	struct mmvec *v;
	double t0, t1, t2;
	int rc;

	unlink(path);
	rc = mmvec_open(path, sizeof(int64_t), 0, MMVEC_CREATE, &v);
	if (rc)
		fail("mmvec_open", -rc);
	t0 = now();
	for (size_t i = 0; i < n; i += step) {
		size_t k = n - i < step ? n - i : step;
		int64_t x = (int64_t)i;
		int64_t *p = bulk ? mmvec_extend(v, k) : mmvec_push(v, &x);

		if (!p)
			fail(bulk ? "mmvec_extend" : "mmvec_push", errno);
		for (size_t j = 0; bulk && j < k; j++)
			p[j] = (int64_t)(i + j);
	}
	t1 = now();
	rc = mmvec_sync(v);
	if (rc)
		fail("mmvec_sync", -rc);
	t2 = now();
	mmvec_free(v);
	r->append = t1 - t0;
	r->sync = t2 - t1;
	r->close = now() - t2;
}

static void run_push(const char *path, size_t n, struct result *r)
{
	run_mmvec(path, n, false, r);
}

static void run_extend(const char *path, size_t n, struct result *r)
{
	run_mmvec(path, n, true, r);
}

static void run_write(const char *path, size_t n, struct result *r)
{
	size_t step = CHUNK / sizeof(int64_t);
	int64_t *buf = malloc(CHUNK);
	double t0, t1, t2;
	int fd;

	if (!buf)
		fail("malloc", ENOMEM);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		fail("open", errno);
	t0 = now();
	for (size_t i = 0; i < n; i += step) {
		size_t k = n - i < step ? n - i : step;

		for (size_t j = 0; j < k; j++)
			buf[j] = (int64_t)(i + j);
		if (write(fd, buf, k * sizeof(int64_t)) !=
		    (ssize_t)(k * sizeof(int64_t)))
			fail("write", errno);
	}
	t1 = now();
	if (fdatasync(fd) != 0)
		fail("fdatasync", errno);
	t2 = now();
	close(fd);
	free(buf);
	r->append = t1 - t0;
	r->sync = t2 - t1;
	r->close = now() - t2;
}

static void run_fwrite(const char *path, size_t n, struct result *r)
{
	double t0, t1, t2;
	FILE *f = fopen(path, "wb");

	if (!f)
		fail("fopen", errno);
	t0 = now();
	for (size_t i = 0; i < n; i++) {
		int64_t x = (int64_t)i;

		if (fwrite(&x, sizeof(x), 1, f) != 1)
			fail("fwrite", errno);
	}
	t1 = now();
	if (fflush(f) != 0 || fdatasync(fileno(f)) != 0)
		fail("fflush/fdatasync", errno);
	t2 = now();
	fclose(f);
	r->append = t1 - t0;
	r->sync = t2 - t1;
	r->close = now() - t2;
}

/* mmvec_sync() after each of SYNC_ROUNDS appends of SMALL_APPEND elements
 * to a vector of n elements: the cost a log pays per commit. */
static double small_syncs(const char *path, size_t n)
{
	struct mmvec *v;
	double t, total = 0;
	int rc;

	unlink(path);
	rc = mmvec_open(path, sizeof(int64_t), 0, MMVEC_CREATE, &v);
	if (rc)
		fail("mmvec_open", -rc);
	if (!mmvec_extend(v, n))
		fail("mmvec_extend", errno);
	rc = mmvec_sync(v);
	if (rc)
		fail("mmvec_sync", -rc);
	for (int k = 0; k < SYNC_ROUNDS; k++) {
		int64_t *p = mmvec_extend(v, SMALL_APPEND);

		if (!p)
			fail("mmvec_extend", errno);
		for (size_t j = 0; j < SMALL_APPEND; j++)
			p[j] = (int64_t)j;
		t = now();
		rc = mmvec_sync(v);
		if (rc)
			fail("mmvec_sync", -rc);
		total += now() - t;
	}
	mmvec_free(v);
	unlink(path);
	return total / SYNC_ROUNDS;
}

static const struct method {
	const char *name;
	void (*run)(const char *path, size_t n, struct result *r);
} methods[] = {
	{ "mmvec push", run_push },
	{ "mmvec extend", run_extend },
	{ "write(2) 1 MiB", run_write },
	{ "fwrite", run_fwrite },
};
#define NMETHODS (sizeof(methods) / sizeof(methods[0]))

static void usage(FILE *out)
{
	fprintf(out, "usage: file-bench [-n N] [-d DIR] [-r RUNS]\n"
		     "  -n N     elements to append (default 5e7)\n"
		     "  -d DIR   where the files go (default /tmp)\n"
		     "  -r RUNS  interleaved runs, best shown (default 1)\n");
}

int main(int argc, char **argv)
{
	struct result best[NMETHODS];
	const char *dir = "/tmp";
	size_t n = 50000000;
	int runs = 1, opt;
	char path[4096];

	while ((opt = getopt(argc, argv, "n:d:r:h")) != -1) {
		switch (opt) {
		case 'n':
			n = (size_t)strtod(optarg, NULL);
			break;
		case 'd':
			dir = optarg;
			break;
		case 'r':
			runs = atoi(optarg);
			break;
		case 'h':
			usage(stdout);
			return EXIT_SUCCESS;
		default:
			usage(stderr);
			return EXIT_FAILURE;
		}
	}
	if (!n || runs < 1) {
		usage(stderr);
		return EXIT_FAILURE;
	}
	snprintf(path, sizeof(path), "%s/file-bench.%ld", dir, (long)getpid());

	for (int run = 0; run < runs; run++) {
		for (size_t m = 0; m < NMETHODS; m++) {
			struct result r;

			methods[m].run(path, n, &r);
			unlink(path);
			if (run == 0 || r.append + r.sync < best[m].append + best[m].sync)
				best[m] = r;
		}
	}

	printf("appending %zu int64 (%.0f MB) to a file in %s, best of %d\n",
	       n, (double)n * 8 / 1e6, dir, runs);
	printf("%-16s %12s %10s %12s %10s\n", "method", "append s", "ns/elem",
	       "durable s", "close s");
	for (size_t m = 0; m < NMETHODS; m++)
		printf("%-16s %12.3f %10.2f %12.3f %10.3f\n", methods[m].name,
		       best[m].append, best[m].append * 1e9 / (double)n,
		       best[m].sync, best[m].close);
	printf("mmvec_sync() after appending %d elements to %zu: %.3f ms "
	       "(mean of %d)\n", SMALL_APPEND, n,
	       small_syncs(path, n) * 1e3, SYNC_ROUNDS);
	return EXIT_SUCCESS;
}
