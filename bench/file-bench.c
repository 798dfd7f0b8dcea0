/*
 * SPDX-License-Identifier: MIT
 *
 * file-bench: appending N int64 to a file, five ways, and what making it
 * durable costs.
 *
 *   mmvec push      mmvec_open() + mmvec_push() per element
 *   mmvec push_val  the same through the inline mmvec_push_val()
 *   mmvec extend    mmvec_open() + mmvec_extend() of 1 MiB, filled in place
 *   write(2)        the same bytes from a 1 MiB buffer, one write per MiB
 *   fwrite          fwrite() of each element through stdio's buffer
 *
 * For each: the append time (ns per element), then the time to make it all
 * durable (mmvec_sync(); fdatasync(); fflush() + fdatasync()), then the
 * time to close. Then the cost of mmvec_sync() after small appends: ROUNDS
 * times 1,000 elements and a sync, by default and with MMVEC_NO_HUGEPAGES
 * (a sync writes back whole page-cache folios, 2 MiB by default).
 *
 *   file-bench [-n N] [-d DIR] [-r RUNS]
 *
 * N defaults to 5e7 (400 MB per file); DIR to /tmp (the file system decides
 * what a sync costs: tmpfs has no disk). Every method runs once to warm up,
 * then RUNS times (default 5), interleaved, each round starting with the
 * next method; the minimum and median of each are shown, and the ratios
 * of the targets: push / write(2), extend / write(2), and mmvec_sync()
 * after the pushes / fdatasync() after write(2).
 *
 * Memory: on a virtual machine whose host takes back the memory a guest
 * freed, the first touch of a physical page costs a fault in the host
 * (measured here: 2 MiB page-cache folios from such memory made the push
 * three times slower). Before every run, 1 GiB of anonymous memory (more
 * than a file's page cache) is touched in huge pages and freed, so that
 * every method starts from memory the guest already holds.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "mmvec.h"

#define CHUNK ((size_t)1 << 20)
#define SMALL_APPEND 1000
#define SYNC_ROUNDS 100
#define WARM_BYTES ((size_t)1 << 30)

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

enum append_way { BY_PUSH, BY_PUSH_VAL, BY_EXTEND };

/* A new vector file at path, n int64 appended one at a time (mmvec_push()
 * or mmvec_push_val()) or in CHUNK-byte extends filled in place, then
 * synced and closed. */
static void run_mmvec(const char *path, size_t n, enum append_way way,
		      struct result *r)
{
	size_t step = way == BY_EXTEND ? CHUNK / sizeof(int64_t) : 1;
	struct mmvec *v;
	double t0, t1, t2;
	int rc;

	unlink(path);
	rc = mmvec_open(path, sizeof(int64_t), 0, MMVEC_CREATE, &v);
	if (rc)
		fail("mmvec_open", -rc);
	t0 = now();
	if (way == BY_PUSH_VAL) {
		for (size_t i = 0; i < n; i++) {
			int64_t x = (int64_t)i;

			if (!mmvec_push_val(v, x))
				fail("mmvec_push_val", errno);
		}
	}
	for (size_t i = 0; way != BY_PUSH_VAL && i < n; i += step) {
		size_t k = n - i < step ? n - i : step;
		int64_t x = (int64_t)i;
		int64_t *p = way == BY_EXTEND ? mmvec_extend(v, k)
					      : mmvec_push(v, &x);

		if (!p)
			fail(way == BY_EXTEND ? "mmvec_extend" : "mmvec_push",
			     errno);
		for (size_t j = 0; way == BY_EXTEND && j < k; j++)
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
	run_mmvec(path, n, BY_PUSH, r);
}

static void run_push_val(const char *path, size_t n, struct result *r)
{
	run_mmvec(path, n, BY_PUSH_VAL, r);
}

static void run_extend(const char *path, size_t n, struct result *r)
{
	run_mmvec(path, n, BY_EXTEND, r);
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
static double small_syncs(const char *path, size_t n, unsigned flags)
{
	struct mmvec *v;
	double t, total = 0;
	int rc;

	unlink(path);
	rc = mmvec_open(path, sizeof(int64_t), 0, MMVEC_CREATE | flags, &v);
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
	{ "mmvec push_val", run_push_val },
	{ "mmvec extend", run_extend },
	{ "fwrite", run_fwrite },
	{ "write(2) 1 MiB", run_write },
};
enum { M_PUSH, M_PUSH_VAL, M_EXTEND, M_FWRITE, M_WRITE };
#define NMETHODS (sizeof(methods) / sizeof(methods[0]))

static void usage(FILE *out)
{
	fprintf(out, "usage: file-bench [-n N] [-d DIR] [-r RUNS]\n"
		     "  -n N     elements to append (default 5e7)\n"
		     "  -d DIR   where the files go (default /tmp)\n"
		     "  -r RUNS  interleaved runs after a warm-up, at least 1 "
		     "(default 5)\n");
}

/* Touch and free `bytes` of memory in huge pages (see the top of this
 * file): what the kernel frees last it hands out first, so every method
 * starts from memory the guest holds. */
static void warm_memory(size_t bytes)
{
	char *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		return;
#ifdef MADV_HUGEPAGE
	(void)madvise(p, bytes, MADV_HUGEPAGE);
#endif
	memset(p, 1, bytes);
	munmap(p, bytes);
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

struct stat2 {
	double min, median;
};

static struct stat2 stats(double *x, int n)
{
	struct stat2 s;

	qsort(x, (size_t)n, sizeof(*x), cmp_double);
	s.min = x[0];
	s.median = n % 2 ? x[n / 2] : (x[n / 2 - 1] + x[n / 2]) / 2;
	return s;
}

int main(int argc, char **argv)
{
	const char *dir = "/tmp";
	size_t n = 50000000;
	int runs = 5, opt;
	char path[4096];
	double *append[NMETHODS], *sync[NMETHODS], *closing[NMETHODS];
	struct stat2 a[NMETHODS], d[NMETHODS], c[NMETHODS];

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
	for (size_t m = 0; m < NMETHODS; m++) {
		append[m] = calloc((size_t)runs, sizeof(double));
		sync[m] = calloc((size_t)runs, sizeof(double));
		closing[m] = calloc((size_t)runs, sizeof(double));
		if (!append[m] || !sync[m] || !closing[m])
			fail("calloc", ENOMEM);
	}

	for (size_t m = 0; m < NMETHODS; m++) {
		struct result r;

		warm_memory(WARM_BYTES);
		methods[m].run(path, n, &r);
		unlink(path);
	}
	for (int run = 0; run < runs; run++) {
		for (size_t k = 0; k < NMETHODS; k++) {
			size_t m = (k + (size_t)run) % NMETHODS;
			struct result r;

			warm_memory(WARM_BYTES);
			methods[m].run(path, n, &r);
			unlink(path);
			append[m][run] = r.append;
			sync[m][run] = r.sync;
			closing[m][run] = r.close;
		}
	}

	printf("appending %zu int64 (%.0f MB) to a file in %s: %d interleaved "
	       "runs after a warm-up, minimum and median\n",
	       n, (double)n * 8 / 1e6, dir, runs);
	printf("%-16s %19s %19s %19s\n", "method", "append ns/elem",
	       "durable s", "close s");
	for (size_t m = 0; m < NMETHODS; m++) {
		a[m] = stats(append[m], runs);
		d[m] = stats(sync[m], runs);
		c[m] = stats(closing[m], runs);
		printf("%-16s %9.2f %9.2f %9.3f %9.3f %9.3f %9.3f\n",
		       methods[m].name, a[m].min * 1e9 / (double)n,
		       a[m].median * 1e9 / (double)n, d[m].min, d[m].median,
		       c[m].min, c[m].median);
	}
	printf("ratios (minimum, median; target):\n");
	printf("  mmvec_push / write(2)             %6.2f %6.2f  <= 1.0\n",
	       a[M_PUSH].min / a[M_WRITE].min,
	       a[M_PUSH].median / a[M_WRITE].median);
	printf("  mmvec_extend / write(2)           %6.2f %6.2f  <= 0.6\n",
	       a[M_EXTEND].min / a[M_WRITE].min,
	       a[M_EXTEND].median / a[M_WRITE].median);
	printf("  mmvec_sync / fdatasync (write(2)) %6.2f %6.2f  <= 2.0\n",
	       d[M_PUSH].min / d[M_WRITE].min,
	       d[M_PUSH].median / d[M_WRITE].median);
	{
		double *dflt = calloc((size_t)runs, sizeof(double));
		double *small = calloc((size_t)runs, sizeof(double));
		struct stat2 x, y;

		if (!dflt || !small)
			fail("calloc", ENOMEM);
		for (int run = 0; run < runs; run++) {
			dflt[run] = small_syncs(path, n, 0);
			small[run] = small_syncs(path, n, MMVEC_NO_HUGEPAGES);
		}
		x = stats(dflt, runs);
		y = stats(small, runs);
		printf("mmvec_sync() after appending %d elements to %zu (mean "
		       "of %d), minimum and median of %d interleaved runs: "
		       "%.3f %.3f ms; with MMVEC_NO_HUGEPAGES %.3f %.3f ms\n",
		       SMALL_APPEND, n, SYNC_ROUNDS, runs, x.min * 1e3,
		       x.median * 1e3, y.min * 1e3, y.median * 1e3);
		free(dflt);
		free(small);
	}
	for (size_t m = 0; m < NMETHODS; m++) {
		free(append[m]);
		free(sync[m]);
		free(closing[m]);
	}
	return EXIT_SUCCESS;
}
