/*
 * SPDX-License-Identifier: MIT
 *
 * mmvec-bench: libmmvec against a realloc-doubling C vector, std::vector and
 * the hardware floor (fresh memory filled in place).
 *
 * The driver runs every method of every workload in its own worker process
 * (fork + exec of this binary with --worker), so that peak RSS, page faults
 * and CPU time are the method's own. Runs are interleaved: repetition r runs
 * every method once (in an order rotated by r) before repetition r + 1, so
 * that drift in the machine's load hits all methods alike; tables give the
 * median and the min..max of the runs. Each method is run three ways:
 *   - timed: wall, user and system time, faults and peak RSS, and nothing
 *     else in the loop;
 *   - latency: the same work with a TSC read around every append operation
 *     (the timer's cost is in these numbers, so their wall time is not
 *     used). Besides the worst operation of each run, the driver reports the
 *     worst operation that was slow in every run: a stall of the method
 *     recurs at the same operation, one of the machine (preemption, the
 *     hypervisor taking the CPU) does not;
 *   - counted, once, under strace: mmap, munmap, mprotect, madvise, mremap
 *     and brk calls between two marker system calls around the method.
 * Between runs a keeper process holds a warm pool of memory (see keeper_*),
 * so that every worker starts from memory the hypervisor already backs.
 * See --help for the workloads and options.
 */
#define _GNU_SOURCE

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <mmvec.h>

#include "bench.h"

#define MIB (1024.0 * 1024.0)
#define HUGE_ALIGN ((size_t)2 << 20)
#define CHUNK_ELEMS 512u          /* 4 KiB of int64 */
#define RANDOM_MAX_LOG2 16u       /* random sizes: 1 .. 2^16 elements */

/* ---------------------------------------------------------------------------
 * Small helpers
 * ------------------------------------------------------------------------- */

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double tv_sec(struct timeval tv)
{
	return (double)tv.tv_sec + (double)tv.tv_usec / 1e6;
}

static void *xcalloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size ? size : 1);

	if (!p) {
		fprintf(stderr, "mmvec-bench: out of memory\n");
		exit(2);
	}
	return p;
}

static char *xstrdup(const char *s)
{
	char *p = strdup(s);

	if (!p) {
		fprintf(stderr, "mmvec-bench: out of memory\n");
		exit(2);
	}
	return p;
}

/* A count such as 50000000, 5e7 or 1e9. */
static bool parse_count(const char *s, size_t *out)
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

/* Resident bytes of this process: field 2 of /proc/self/statm. */
static long rss_bytes(void)
{
	static int fd = -1;
	char buf[128];
	long size, resident;
	ssize_t n;

	if (fd < 0)
		fd = open("/proc/self/statm", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	n = pread(fd, buf, sizeof(buf) - 1, 0);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	if (sscanf(buf, "%ld %ld", &size, &resident) != 2)
		return 0;
	return resident * sysconf(_SC_PAGESIZE);
}

/* A "Key:   123 kB" line of /proc/self/status, in KiB. */
static double status_kib(const char *key)
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

/* Fill in place: the one loop every filling method shares. */
static inline void fill(int64_t *p, size_t n, int64_t first)
{
	for (size_t i = 0; i < n; i++)
		p[i] = first + (int64_t)i;
}

/* ---------------------------------------------------------------------------
 * The realloc-doubling C vector, written the usual way
 * ------------------------------------------------------------------------- */

struct rvec {
	int64_t *data;
	size_t len, cap;
};

__attribute__((noinline)) static int rvec_grow(struct rvec *v, size_t need)
{
	size_t cap = v->cap ? v->cap : 16;
	void *p;

	while (cap < need)
		cap *= 2;
	p = realloc(v->data, cap * sizeof(*v->data));
	if (!p)
		return -1;
	v->data = p;
	v->cap = cap;
	return 0;
}

static inline int rvec_push(struct rvec *v, int64_t x)
{
	if (v->len == v->cap && rvec_grow(v, v->len + 1))
		return -1;
	v->data[v->len++] = x;
	return 0;
}

static inline int rvec_append(struct rvec *v, const int64_t *src, size_t n)
{
	if (v->cap - v->len < n && rvec_grow(v, v->len + n))
		return -1;
	memcpy(v->data + v->len, src, n * sizeof(*src));
	v->len += n;
	return 0;
}

/* ---------------------------------------------------------------------------
 * Methods: each builds the workload's vector (element i == i) and leaves it
 * alive in job->keep. They return 0, or -1 after printing why.
 * ------------------------------------------------------------------------- */

static int fail_mmvec(const char *what, int err)
{
	fprintf(stderr, "mmvec-bench: %s: %s\n", what, strerror(err));
	return -1;
}

static int new_vec_flags(struct bench_job *j, struct mmvec **out, unsigned flags)
{
	int rc = mmvec_new(sizeof(int64_t), 0, flags, out);

	if (rc)
		return fail_mmvec("mmvec_new", -rc);
	j->keep = *out;
	return 0;
}

static int new_vec(struct bench_job *j, struct mmvec **out)
{
	return new_vec_flags(j, out, 0);
}

static void set_result_vec(struct bench_job *j, const struct mmvec *v)
{
	j->data = mmvec_data(v);
	j->len = mmvec_len(v);
}

static void free_vec(struct bench_job *j)
{
	mmvec_free(j->keep);
}

static void free_rvec(struct bench_job *j)
{
	struct rvec *v = j->keep;

	if (v)
		free(v->data);
	free(v);
}

static struct rvec *new_rvec(struct bench_job *j)
{
	struct rvec *v = xcalloc(1, sizeof(*v));

	j->keep = v;
	return v;
}

static void set_result_rvec(struct bench_job *j, const struct rvec *v)
{
	j->data = v->data;
	j->len = v->len;
}

/* -- seq: N single appends ------------------------------------------------ */

static int seq_push_flags(struct bench_job *j, unsigned flags)
{
	struct mmvec *v;
	const int64_t n = (int64_t)j->n;

	if (new_vec_flags(j, &v, flags))
		return -1;
	/* x, not &i: the loop counter stays in a register, as in a caller
	 * that pushes values it computes */
	if (j->lat) {
		for (int64_t i = 0; i < n; i++) {
			int64_t x = i;
			void *p;
			BENCH_TIMED(j->lat, p = mmvec_push(v, &x));
			if (!p)
				return fail_mmvec("mmvec_push", errno);
		}
	} else {
		for (int64_t i = 0; i < n; i++) {
			int64_t x = i;
			if (!mmvec_push(v, &x))
				return fail_mmvec("mmvec_push", errno);
		}
	}
	set_result_vec(j, v);
	return 0;
}

static int seq_mmvec_push(struct bench_job *j)
{
	return seq_push_flags(j, 0);
}

static int seq_mmvec_push_nohuge(struct bench_job *j)
{
	return seq_push_flags(j, MMVEC_NO_HUGEPAGES);
}

static int seq_mmvec_push_huge(struct bench_job *j)
{
	return seq_push_flags(j, MMVEC_HUGEPAGES);
}

static int seq_mmvec_push_populate(struct bench_job *j)
{
	return seq_push_flags(j, MMVEC_POPULATE);
}

/* One extend of N, filled in place. */
static int seq_mmvec_extend(struct bench_job *j)
{
	struct mmvec *v;
	int64_t *p;

	if (new_vec(j, &v))
		return -1;
	p = mmvec_extend(v, j->n);
	if (!p)
		return fail_mmvec("mmvec_extend", errno);
	fill(p, j->n, 0);
	set_result_vec(j, v);
	return 0;
}

static int seq_realloc_push(struct bench_job *j)
{
	struct rvec *v = new_rvec(j);
	const int64_t n = (int64_t)j->n;

	if (j->lat) {
		for (int64_t i = 0; i < n; i++) {
			int rc;
			BENCH_TIMED(j->lat, rc = rvec_push(v, i));
			if (rc)
				return fail_mmvec("realloc", ENOMEM);
		}
	} else {
		for (int64_t i = 0; i < n; i++)
			if (rvec_push(v, i))
				return fail_mmvec("realloc", ENOMEM);
	}
	set_result_rvec(j, v);
	return 0;
}

struct raw {
	void *map;
	size_t size;
};

static int raw_fill(struct bench_job *j, bool huge)
{
	struct raw *r = xcalloc(1, sizeof(*r));
	size_t bytes = j->n * sizeof(int64_t);
	uintptr_t a;

	j->keep = r;
	/* both variants 2 MiB aligned, so only the advice differs */
	r->size = bytes + HUGE_ALIGN;
	r->map = mmap(NULL, r->size, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (r->map == MAP_FAILED) {
		r->map = NULL;
		return fail_mmvec("mmap", errno);
	}
	a = ((uintptr_t)r->map + HUGE_ALIGN - 1) & ~(uintptr_t)(HUGE_ALIGN - 1);
	if (huge)
		madvise((void *)a, bytes, MADV_HUGEPAGE);
	fill((int64_t *)a, j->n, 0);
	j->data = (const int64_t *)a;
	j->len = j->n;
	return 0;
}

static int seq_raw(struct bench_job *j)
{
	return raw_fill(j, false);
}

static int seq_raw_huge(struct bench_job *j)
{
	return raw_fill(j, true);
}

static void free_raw(struct bench_job *j)
{
	struct raw *r = j->keep;

	if (r && r->map)
		munmap(r->map, r->size);
	free(r);
}

/* -- chunk and random: appends of job->sizes[] elements ------------------- */

static int chunks_mmvec_extend(struct bench_job *j)
{
	struct mmvec *v;
	int64_t next = 0;

	if (new_vec(j, &v))
		return -1;
	for (size_t c = 0; c < j->nsizes; c++) {
		size_t m = j->sizes[c];
		int64_t *p;

		if (j->lat) {
			BENCH_TIMED(j->lat, p = mmvec_extend(v, m);
				    if (p) fill(p, m, next));
		} else {
			p = mmvec_extend(v, m);
			if (p)
				fill(p, m, next);
		}
		if (!p)
			return fail_mmvec("mmvec_extend", errno);
		next += (int64_t)m;
	}
	set_result_vec(j, v);
	return 0;
}

static int chunks_mmvec_append(struct bench_job *j)
{
	struct mmvec *v;
	int64_t next = 0;

	if (new_vec(j, &v))
		return -1;
	for (size_t c = 0; c < j->nsizes; c++) {
		size_t m = j->sizes[c];
		int rc;

		fill(j->stage, m, next);
		if (j->lat)
			BENCH_TIMED(j->lat, rc = mmvec_append(v, j->stage, m));
		else
			rc = mmvec_append(v, j->stage, m);
		if (rc)
			return fail_mmvec("mmvec_append", -rc);
		next += (int64_t)m;
	}
	set_result_vec(j, v);
	return 0;
}

static int chunks_realloc_append(struct bench_job *j)
{
	struct rvec *v = new_rvec(j);
	int64_t next = 0;

	for (size_t c = 0; c < j->nsizes; c++) {
		size_t m = j->sizes[c];
		int rc;

		fill(j->stage, m, next);
		if (j->lat)
			BENCH_TIMED(j->lat, rc = rvec_append(v, j->stage, m));
		else
			rc = rvec_append(v, j->stage, m);
		if (rc)
			return fail_mmvec("realloc", ENOMEM);
		next += (int64_t)m;
	}
	set_result_rvec(j, v);
	return 0;
}

/* -- grow-shrink: grow to n, shrink to n/8, j->cycles times --------------- */

static int gs_mmvec(struct bench_job *j)
{
	struct mmvec *v;
	const size_t low = j->n / 8;

	if (new_vec(j, &v))
		return -1;
	for (unsigned c = 0; c < j->cycles; c++) {
		long before, after;
		int rc;

		for (int64_t i = (int64_t)mmvec_len(v); i < (int64_t)j->n; i++) {
			int64_t x = i;
			if (!mmvec_push(v, &x))
				return fail_mmvec("mmvec_push", errno);
		}
		before = j->rss();
		rc = mmvec_resize(v, low);
		if (!rc)
			rc = mmvec_shrink_to_fit(v);
		if (rc)
			return fail_mmvec("mmvec_shrink_to_fit", -rc);
		after = j->rss();
		j->returned_bytes += (double)(before - after);
		j->freed_bytes += (double)(j->n - low) * sizeof(int64_t);
	}
	set_result_vec(j, v);
	return 0;
}

static int gs_realloc(struct bench_job *j)
{
	struct rvec *v = new_rvec(j);
	const size_t low = j->n / 8;

	for (unsigned c = 0; c < j->cycles; c++) {
		long before, after;
		void *p;

		for (int64_t i = (int64_t)v->len; i < (int64_t)j->n; i++)
			if (rvec_push(v, i))
				return fail_mmvec("realloc", ENOMEM);
		before = j->rss();
		v->len = low;
		p = realloc(v->data, low * sizeof(*v->data));
		if (!p)
			return fail_mmvec("realloc", ENOMEM);
		v->data = p;
		v->cap = low;
		after = j->rss();
		j->returned_bytes += (double)(before - after);
		j->freed_bytes += (double)(j->n - low) * sizeof(int64_t);
	}
	set_result_rvec(j, v);
	return 0;
}

/* -- many small vectors, growing together --------------------------------- */

struct many {
	size_t n;
	struct mmvec **v;
	struct rvec *r;
};

static int small_push(struct bench_job *j, size_t max_len)
{
	struct many *m = xcalloc(1, sizeof(*m));

	j->keep = m;
	m->v = xcalloc(j->nvec, sizeof(*m->v));
	for (size_t i = 0; i < j->nvec; i++) {
		int rc = mmvec_new(sizeof(int64_t), max_len, 0, &m->v[i]);
		if (rc) {
			fprintf(stderr, "mmvec-bench: vector %zu of %zu: ", i + 1, j->nvec);
			return fail_mmvec("mmvec_new", -rc);
		}
		m->n = i + 1;
	}
	for (size_t e = 0; e < j->per; e++) {
		for (size_t i = 0; i < j->nvec; i++) {
			int64_t x = (int64_t)(e + i);
			void *p;

			if (j->lat)
				BENCH_TIMED(j->lat, p = mmvec_push(m->v[i], &x));
			else
				p = mmvec_push(m->v[i], &x);
			if (!p)
				return fail_mmvec("mmvec_push", errno);
		}
	}
	return 0;
}

/* The default reservation, as users get it. */
static int small_mmvec_push(struct bench_job *j)
{
	return small_push(j, 0);
}

/* An explicit max_len of exactly the elements each vector gets. */
static int small_mmvec_push_maxlen(struct bench_job *j)
{
	return small_push(j, j->per);
}

static int small_mmvec_check(struct bench_job *j)
{
	const struct many *m = j->keep;

	for (size_t i = 0; i < j->nvec; i++) {
		const int64_t *d = mmvec_data(m->v[i]);
		if (mmvec_len(m->v[i]) != j->per)
			return -1;
		for (size_t e = 0; e < j->per; e++)
			if (d[e] != (int64_t)(e + i))
				return -1;
	}
	return 0;
}

static void small_mmvec_free(struct bench_job *j)
{
	struct many *m = j->keep;

	if (!m)
		return;
	for (size_t i = 0; i < m->n; i++)
		mmvec_free(m->v[i]);
	free(m->v);
	free(m);
}

static int small_realloc_push(struct bench_job *j)
{
	struct many *m = xcalloc(1, sizeof(*m));

	j->keep = m;
	m->r = xcalloc(j->nvec, sizeof(*m->r));
	m->n = j->nvec;
	for (size_t e = 0; e < j->per; e++) {
		for (size_t i = 0; i < j->nvec; i++) {
			int rc;

			if (j->lat)
				BENCH_TIMED(j->lat,
					    rc = rvec_push(&m->r[i], (int64_t)(e + i)));
			else
				rc = rvec_push(&m->r[i], (int64_t)(e + i));
			if (rc)
				return fail_mmvec("realloc", ENOMEM);
		}
	}
	return 0;
}

static int small_realloc_check(struct bench_job *j)
{
	const struct many *m = j->keep;

	for (size_t i = 0; i < j->nvec; i++) {
		if (m->r[i].len != j->per)
			return -1;
		for (size_t e = 0; e < j->per; e++)
			if (m->r[i].data[e] != (int64_t)(e + i))
				return -1;
	}
	return 0;
}

static void small_realloc_free(struct bench_job *j)
{
	struct many *m = j->keep;

	if (!m)
		return;
	for (size_t i = 0; i < m->n; i++)
		free(m->r[i].data);
	free(m->r);
	free(m);
}

/* -- steady state: memory committed and resident, time the second fill ---- */

static int steady_mmvec_push(struct bench_job *j)
{
	struct mmvec *v;
	const int64_t n = (int64_t)j->n;
	struct bench_clock clk;
	int rc;

	if (new_vec(j, &v))
		return -1;
	rc = mmvec_reserve(v, j->n);
	if (rc)
		return fail_mmvec("mmvec_reserve", -rc);
	for (int64_t i = 0; i < n; i++) {
		int64_t x = ~i;
		if (!mmvec_push(v, &x))
			return fail_mmvec("mmvec_push", errno);
	}
	mmvec_clear(v);
	bench_clock_start(&clk);
	for (int64_t i = 0; i < n; i++) {
		int64_t x = i;
		if (!mmvec_push(v, &x))
			return fail_mmvec("mmvec_push", errno);
	}
	bench_clock_stop(&clk, j->n, &j->steady_ns, &j->steady_wall_ns);
	set_result_vec(j, v);
	return 0;
}

static int steady_realloc_push(struct bench_job *j)
{
	struct rvec *v = new_rvec(j);
	const int64_t n = (int64_t)j->n;
	struct bench_clock clk;

	if (rvec_grow(v, j->n))
		return fail_mmvec("realloc", ENOMEM);
	for (int64_t i = 0; i < n; i++)
		if (rvec_push(v, ~i))
			return fail_mmvec("realloc", ENOMEM);
	v->len = 0;
	bench_clock_start(&clk);
	for (int64_t i = 0; i < n; i++)
		if (rvec_push(v, i))
			return fail_mmvec("realloc", ENOMEM);
	bench_clock_stop(&clk, j->n, &j->steady_ns, &j->steady_wall_ns);
	set_result_rvec(j, v);
	return 0;
}

/* The same, through floor.c's minimal push in its own shared library. */
static void free_floor(struct bench_job *j)
{
	struct bench_floor_vec *v = j->keep;

	if (v)
		free(v->data);
	free(v);
}

static int steady_floor_push(struct bench_job *j)
{
	struct bench_floor_vec *v = xcalloc(1, sizeof(*v));
	const int64_t n = (int64_t)j->n;
	struct bench_clock clk;

	j->keep = v;
	v->data = malloc(j->n * sizeof(*v->data));
	if (!v->data)
		return fail_mmvec("malloc", ENOMEM);
	v->cap = j->n;
	for (int64_t i = 0; i < n; i++) {
		int64_t x = ~i;
		if (!bench_floor_push(v, &x))
			return fail_mmvec("bench_floor_push", ENOSPC);
	}
	v->len = 0;
	bench_clock_start(&clk);
	for (int64_t i = 0; i < n; i++) {
		int64_t x = i;
		if (!bench_floor_push(v, &x))
			return fail_mmvec("bench_floor_push", ENOSPC);
	}
	bench_clock_stop(&clk, j->n, &j->steady_ns, &j->steady_wall_ns);
	j->data = v->data;
	j->len = v->len;
	return 0;
}

#ifdef BENCH_HAVE_CXX
int bench_stdvec_seq(struct bench_job *j);
int bench_stdvec_chunks(struct bench_job *j);
int bench_stdvec_growshrink(struct bench_job *j);
int bench_stdvec_small(struct bench_job *j);
int bench_stdvec_small_check(struct bench_job *j);
int bench_stdvec_steady(struct bench_job *j);
void bench_stdvec_free(struct bench_job *j);
#endif

/* ---------------------------------------------------------------------------
 * Workloads and variants (a method in a workload)
 * ------------------------------------------------------------------------- */

enum workload { W_SEQ, W_CHUNK, W_RANDOM, W_GROWSHRINK, W_SMALL, W_STEADY, W_COUNT };

static const char *const workload_names[W_COUNT] = {
	"seq", "chunk", "random", "growshrink", "small", "steady",
};

static const char *const workload_titles[W_COUNT] = {
	"N int64 appended one at a time (bulk methods: in place)",
	"N int64 appended in 4 KiB chunks (512 elements)",
	"N int64 appended in log-uniform random chunks of 1..65536 elements",
	"grow to S by single appends, shrink to S/8 and give the memory back",
	"many small vectors growing together, one append each in turn",
	"steady state: memory already committed, push N after a clear",
};

struct variant {
	enum workload w;
	const char *method;
	int (*run)(struct bench_job *j);
	int (*check)(struct bench_job *j); /* NULL: element i == i, len */
	void (*release)(struct bench_job *j);
	bool lat; /* per-operation latency makes sense */
	bool optional; /* run only when named with --methods */
};

static const struct variant variants[] = {
	{ W_SEQ, "mmvec_push", seq_mmvec_push, NULL, free_vec, true, false },
	{ W_SEQ, "mmvec_extend", seq_mmvec_extend, NULL, free_vec, false, false },
	{ W_SEQ, "mmvec_append", chunks_mmvec_append, NULL, free_vec, true, false },
	{ W_SEQ, "realloc_push", seq_realloc_push, NULL, free_rvec, true, false },
#ifdef BENCH_HAVE_CXX
	{ W_SEQ, "stdvec_push", bench_stdvec_seq, NULL, bench_stdvec_free, true, false },
#endif
	{ W_SEQ, "raw_fill", seq_raw, NULL, free_raw, false, false },
	{ W_SEQ, "raw_huge_fill", seq_raw_huge, NULL, free_raw, false, false },
	/* what the defaults buy: the same pushes with other flags */
	{ W_SEQ, "mmvec_push_nohuge", seq_mmvec_push_nohuge, NULL, free_vec, true, true },
	{ W_SEQ, "mmvec_push_huge", seq_mmvec_push_huge, NULL, free_vec, true, true },
	{ W_SEQ, "mmvec_push_populate", seq_mmvec_push_populate, NULL, free_vec, true, true },

	{ W_CHUNK, "mmvec_extend", chunks_mmvec_extend, NULL, free_vec, true, false },
	{ W_CHUNK, "mmvec_append", chunks_mmvec_append, NULL, free_vec, true, false },
	{ W_CHUNK, "realloc_append", chunks_realloc_append, NULL, free_rvec, true, false },
#ifdef BENCH_HAVE_CXX
	{ W_CHUNK, "stdvec_insert", bench_stdvec_chunks, NULL, bench_stdvec_free, true, false },
#endif

	{ W_RANDOM, "mmvec_extend", chunks_mmvec_extend, NULL, free_vec, true, false },
	{ W_RANDOM, "mmvec_append", chunks_mmvec_append, NULL, free_vec, true, false },
	{ W_RANDOM, "realloc_append", chunks_realloc_append, NULL, free_rvec, true, false },
#ifdef BENCH_HAVE_CXX
	{ W_RANDOM, "stdvec_insert", bench_stdvec_chunks, NULL, bench_stdvec_free, true, false },
#endif

	{ W_GROWSHRINK, "mmvec_shrink", gs_mmvec, NULL, free_vec, false, false },
	{ W_GROWSHRINK, "realloc_shrink", gs_realloc, NULL, free_rvec, false, false },
#ifdef BENCH_HAVE_CXX
	{ W_GROWSHRINK, "stdvec_shrink", bench_stdvec_growshrink, NULL, bench_stdvec_free, false, false },
#endif

	{ W_SMALL, "mmvec_push", small_mmvec_push, small_mmvec_check, small_mmvec_free, true, false },
	{ W_SMALL, "mmvec_push_maxlen", small_mmvec_push_maxlen, small_mmvec_check, small_mmvec_free, true, false },
	{ W_SMALL, "realloc_push", small_realloc_push, small_realloc_check, small_realloc_free, true, false },
#ifdef BENCH_HAVE_CXX
	{ W_SMALL, "stdvec_push", bench_stdvec_small, bench_stdvec_small_check, bench_stdvec_free, true, false },
#endif

	{ W_STEADY, "mmvec_push", steady_mmvec_push, NULL, free_vec, false, false },
	{ W_STEADY, "floor_push", steady_floor_push, NULL, free_floor, false, false },
	{ W_STEADY, "realloc_push", steady_realloc_push, NULL, free_rvec, false, false },
#ifdef BENCH_HAVE_CXX
	{ W_STEADY, "stdvec_push", bench_stdvec_steady, NULL, bench_stdvec_free, false, false },
#endif
};

#define NVARIANTS (sizeof(variants) / sizeof(variants[0]))

static int find_workload(const char *name)
{
	for (int w = 0; w < W_COUNT; w++)
		if (strcmp(name, workload_names[w]) == 0)
			return w;
	return -1;
}

static const struct variant *find_variant(const char *w, const char *m)
{
	for (size_t i = 0; i < NVARIANTS; i++)
		if (strcmp(workload_names[variants[i].w], w) == 0 &&
		    strcmp(variants[i].method, m) == 0)
			return &variants[i];
	return NULL;
}

/* ---------------------------------------------------------------------------
 * Results: one row of numbers per run, NaN where not measured
 * ------------------------------------------------------------------------- */

enum field {
	F_WALL_S, F_USER_S, F_SYS_S, F_CPU_S, F_NS_ELEM, F_MINFLT, F_MAJFLT,
	F_MAXRSS_KIB, F_HWM_KIB, F_BASE_KIB, F_PTE_KIB,
	F_NIVCSW,
	F_LAT_MAX_NS, F_LAT_MAX_ONCPU_NS, F_LAT_WORST_ALL_NS, F_LAT_PREEMPTED,
	F_LAT_P999_NS,
	F_LAT_P50_NS,
	F_RETURNED_PCT, F_STEADY_NS, F_STEADY_WALL_NS,
	F_MMAP, F_MUNMAP, F_MPROTECT, F_MADVISE, F_MREMAP, F_BRK,
	F_COUNT
};

static const char *const field_names[F_COUNT] = {
	"wall_s", "user_s", "sys_s", "cpu_s", "ns_per_elem", "minflt", "majflt",
	"maxrss_kib", "vmhwm_kib", "base_rss_kib", "page_tables_kib",
	"preemptions",
	"lat_max_ns", "lat_max_oncpu_ns", "lat_worst_in_all_runs_ns",
	"lat_preempted_ops",
	"lat_p999_ns", "lat_p50_ns",
	"returned_pct", "steady_cpu_ns_per_elem", "steady_wall_ns_per_elem",
	"mmap", "munmap", "mprotect", "madvise", "mremap", "brk",
};

struct row {
	double f[F_COUNT];
};

static void row_clear(struct row *r)
{
	for (int i = 0; i < F_COUNT; i++)
		r->f[i] = NAN;
}

/* ---------------------------------------------------------------------------
 * Worker: runs one variant once and prints "RESULT" and its fields
 * ------------------------------------------------------------------------- */

enum mode { MODE_TIME, MODE_LAT, MODE_SYS };

static const char *const mode_names[] = { "time", "lat", "sys" };

/* A system call strace shows with a recognisable argument; it fails
 * harmlessly. */
static void strace_marker(const char *what)
{
	char path[64];

	snprintf(path, sizeof(path), "/mmvec-bench-marker/%s", what);
	(void)access(path, F_OK);
}

static uint64_t xorshift(uint64_t *s)
{
	uint64_t x = *s;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	*s = x;
	return x;
}

/* Append sizes summing to n: fixed 4 KiB chunks, or log-uniform in
 * [1, 2^RANDOM_MAX_LOG2] (a uniform power of two, then uniform within it).
 * The same seed gives every method the same sequence. */
static uint32_t *make_sizes(enum workload w, size_t n, uint64_t seed,
			    size_t *count, size_t *largest)
{
	size_t cap = 1024, k = 0, left = n;
	uint32_t *s = xcalloc(cap, sizeof(*s));
	uint64_t st = seed * 0x9E3779B97F4A7C15u + 1;

	*largest = 1;
	while (left) {
		size_t m;

		if (w == W_RANDOM) {
			unsigned e = (unsigned)(xorshift(&st) % RANDOM_MAX_LOG2);
			m = ((size_t)1 << e) + (size_t)(xorshift(&st) % ((uint64_t)1 << e));
		} else {
			m = CHUNK_ELEMS;
		}
		if (m > left)
			m = left;
		if (k == cap) {
			uint32_t *t = realloc(s, 2 * cap * sizeof(*s));
			if (!t) {
				fprintf(stderr, "mmvec-bench: out of memory\n");
				exit(2);
			}
			s = t;
			cap *= 2;
		}
		s[k++] = (uint32_t)m;
		if (m > *largest)
			*largest = m;
		left -= m;
	}
	*count = k;
	return s;
}

/* Nanoseconds this thread has waited on a run queue (schedstat field 2). */
static uint64_t run_delay_ns(int fd)
{
	char buf[128];
	unsigned long long cpu, wait;
	ssize_t n;

	if (fd < 0)
		return 0;
	n = pread(fd, buf, sizeof(buf) - 1, 0);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	if (sscanf(buf, "%llu %llu", &cpu, &wait) != 2)
		return 0;
	return wait;
}

void bench_lat_slow(struct bench_lat *lat, uint64_t d)
{
	uint64_t now_ns = run_delay_ns(lat->schedstat_fd);
	uint64_t waited = (uint64_t)((double)(now_ns - lat->run_delay_ns) *
				     lat->tick_per_ns);

	lat->run_delay_ns = now_ns;
	if (!d)
		return;
	if (lat->nevents < lat->max_events) {
		lat->events[lat->nevents][0] = lat->count - 1;
		lat->events[lat->nevents][1] = d;
		lat->nevents++;
	}
	if (waited) {
		lat->preempted++;
		d = d > waited ? d - waited : 0;
	}
	if (d > lat->max_oncpu)
		lat->max_oncpu = d;
}

static double lat_percentile(const struct bench_lat *lat, double q,
			     double tick_ns)
{
	uint64_t want = (uint64_t)ceil(q * (double)lat->count), seen = 0;

	if (!lat->count)
		return NAN;
	if (want < 1)
		want = 1;
	for (unsigned b = 0; b < BENCH_LAT_BUCKETS; b++) {
		seen += lat->hist[b];
		if (seen >= want) {
			uint64_t top = bench_lat_bucket_top(b);
			if (top > lat->max)
				top = lat->max;
			return (double)top / tick_ns;
		}
	}
	return (double)lat->max / tick_ns;
}

static void worker_free(struct bench_job *job)
{
	if (job->lat) {
		if (job->lat->schedstat_fd >= 0)
			close(job->lat->schedstat_fd);
		free(job->lat->events);
		free(job->lat);
	}
	free(job->stage);
	free((void *)job->sizes);
}

static int worker(int argc, char **argv)
{
	const struct variant *var;
	struct bench_job job;
	struct rusage r0, r1;
	struct row res;
	size_t n, largest = CHUNK_ELEMS, expect_len;
	enum mode mode;
	double tick_ns, t0, t1;
	unsigned long long seed;
	int rc;

	/* WORKLOAD METHOD N MODE TICKS_PER_NS CYCLES NVEC PER SEED */
	if (argc != 9) {
		fprintf(stderr, "mmvec-bench: bad --worker arguments\n");
		return 2;
	}
	var = find_variant(argv[0], argv[1]);
	if (!var || !parse_count(argv[2], &n)) {
		fprintf(stderr, "mmvec-bench: unknown variant %s %s\n", argv[0], argv[1]);
		return 2;
	}
	mode = strcmp(argv[3], "lat") == 0 ? MODE_LAT :
	       strcmp(argv[3], "sys") == 0 ? MODE_SYS : MODE_TIME;
	tick_ns = strtod(argv[4], NULL);

	memset(&job, 0, sizeof(job));
	job.n = n;
	job.cycles = (unsigned)strtoul(argv[5], NULL, 10);
	job.nvec = strtoull(argv[6], NULL, 10);
	job.per = strtoull(argv[7], NULL, 10);
	seed = strtoull(argv[8], NULL, 10);
	job.rss = rss_bytes;
	if (var->w == W_SEQ || var->w == W_CHUNK || var->w == W_RANDOM) {
		job.sizes = make_sizes(var->w == W_RANDOM ? W_RANDOM : W_CHUNK,
				       n, seed, &job.nsizes, &largest);
	}
	/* staged and touched before the clock starts */
	job.stage = xcalloc(largest, sizeof(int64_t));
	fill(job.stage, largest, -1);
	if (mode == MODE_LAT && var->lat) {
		job.lat = xcalloc(1, sizeof(*job.lat));
		memset(job.lat, 0, sizeof(*job.lat));
		/* operations over 20 us are checked for preemption */
		job.lat->tick_per_ns = tick_ns;
		job.lat->slow = (uint64_t)(20000 * tick_ns);
		job.lat->schedstat_fd = open("/proc/thread-self/schedstat",
					     O_RDONLY | O_CLOEXEC);
		job.lat->run_delay_ns = run_delay_ns(job.lat->schedstat_fd);
		job.lat->max_events = (size_t)1 << 20;
		job.lat->events = xcalloc(job.lat->max_events, sizeof(*job.lat->events));
		memset(job.lat->events, 0, job.lat->max_events * sizeof(*job.lat->events));
	}
	(void)rss_bytes(); /* opens /proc/self/statm */

	row_clear(&res);
	res.f[F_BASE_KIB] = (double)rss_bytes() / 1024.0;
	if (mode == MODE_SYS)
		strace_marker("begin");
	getrusage(RUSAGE_SELF, &r0);
	t0 = now();
	rc = var->run(&job);
	t1 = now();
	getrusage(RUSAGE_SELF, &r1);
	if (mode == MODE_SYS)
		strace_marker("end");
	if (rc) {
		var->release(&job);
		worker_free(&job);
		return 1;
	}

	/* check the result, untimed */
	switch (var->w) {
	case W_GROWSHRINK: expect_len = n / 8; break;
	default: expect_len = n; break;
	}
	if (var->check) {
		rc = var->check(&job);
	} else {
		rc = job.len == expect_len ? 0 : -1;
		for (size_t i = 0; !rc && i < job.len; i++)
			if (job.data[i] != (int64_t)i)
				rc = -1;
	}
	if (rc) {
		fprintf(stderr, "mmvec-bench: %s %s: wrong contents\n",
			argv[0], argv[1]);
		var->release(&job);
		worker_free(&job);
		return 1;
	}

	res.f[F_WALL_S] = t1 - t0;
	res.f[F_USER_S] = tv_sec(r1.ru_utime) - tv_sec(r0.ru_utime);
	res.f[F_SYS_S] = tv_sec(r1.ru_stime) - tv_sec(r0.ru_stime);
	res.f[F_CPU_S] = res.f[F_USER_S] + res.f[F_SYS_S];
	res.f[F_MINFLT] = (double)(r1.ru_minflt - r0.ru_minflt);
	res.f[F_MAJFLT] = (double)(r1.ru_majflt - r0.ru_majflt);
	res.f[F_NIVCSW] = (double)(r1.ru_nivcsw - r0.ru_nivcsw);
	res.f[F_HWM_KIB] = status_kib("VmHWM");
	res.f[F_PTE_KIB] = status_kib("VmPTE");
	{
		/* elements appended in all */
		double elems = (double)n;
		if (var->w == W_GROWSHRINK)
			elems = (double)n + (double)(job.cycles - 1) * (double)(n - n / 8);
		else if (var->w == W_SMALL)
			elems = (double)job.nvec * (double)job.per;
		res.f[F_NS_ELEM] = (t1 - t0) * 1e9 / elems;
	}
	if (var->w == W_STEADY) {
		res.f[F_STEADY_NS] = job.steady_ns;
		res.f[F_STEADY_WALL_NS] = job.steady_wall_ns;
	}
	if (var->w == W_GROWSHRINK && job.freed_bytes > 0)
		res.f[F_RETURNED_PCT] = 100.0 * job.returned_bytes / job.freed_bytes;
	if (job.lat) {
		res.f[F_LAT_MAX_NS] = (double)job.lat->max / tick_ns;
		res.f[F_LAT_MAX_ONCPU_NS] = (double)job.lat->max_oncpu / tick_ns;
		res.f[F_LAT_PREEMPTED] = (double)job.lat->preempted;
		res.f[F_LAT_P999_NS] = lat_percentile(job.lat, 0.999, tick_ns);
		res.f[F_LAT_P50_NS] = lat_percentile(job.lat, 0.5, tick_ns);
	}

	if (job.lat && getenv("MMVEC_BENCH_EVENTS")) {
		FILE *ef = fopen(getenv("MMVEC_BENCH_EVENTS"), "we");
		if (ef) {
			fwrite(job.lat->events, sizeof(*job.lat->events),
			       job.lat->nevents, ef);
			fclose(ef);
		}
	}
	printf("RESULT");
	for (int i = 0; i < F_COUNT; i++)
		printf(" %.17g", res.f[i]);
	printf("\n");
	fflush(stdout);
	var->release(&job);
	worker_free(&job);
	return 0;
}

/* ---------------------------------------------------------------------------
 * Driver: options
 * ------------------------------------------------------------------------- */

struct opts {
	size_t *ns;
	size_t nns;
	unsigned reps;
	bool workload_on[W_COUNT];
	char **methods; /* NULL: all */
	size_t nmethods;
	size_t gs_size;
	unsigned gs_cycles;
	size_t small_nvec, small_per;
	unsigned long long seed;
	const char *csv;
	const char *plot;
	bool latency;
	bool syscalls;
	bool target;
	double warm_mib; /* < 0: automatic */
	const char *lib_b; /* A/B: also run the mmvec methods against this */
};

static void usage(FILE *f)
{
	fprintf(f,
"usage: mmvec-bench [--target | --full] [options]\n"
"\n"
"Compares libmmvec with a realloc-doubling C vector, std::vector<int64_t>\n"
"and fresh memory filled in place, each method in its own process.\n"
"\n"
"  --target          the issue's target run: N=5e7, 5 interleaved runs, every\n"
"                    workload, then the table of targets and verdicts\n"
"  --full            N=1e6,1e7,1e8, 5 runs (add 1e9 with --n)\n"
"  -n, --n LIST      element counts, e.g. 1e6,1e7,5e7 (default 1e6,1e7)\n"
"  -r, --reps R      interleaved runs per method (default 3)\n"
"  -w, --workloads LIST  of seq,chunk,random,growshrink,small,steady (default all)\n"
"  -m, --methods LIST    only these methods, e.g. mmvec_push,stdvec_push; also\n"
"                    the optional seq methods mmvec_push_nohuge (MMVEC_NO_HUGEPAGES),\n"
"                    mmvec_push_huge (MMVEC_HUGEPAGES), mmvec_push_populate\n"
"                    (MMVEC_POPULATE)\n"
"  --gs-size S       grow-shrink size (default 1e6; 2e6 with --target)\n"
"  --gs-cycles C     grow-shrink cycles (default 100)\n"
"  --small V,E       many-small: V vectors of E elements (default 10000,1000)\n"
"  --seed X          seed of the random chunk sizes (default 1)\n"
"  --csv FILE        write every run and the medians as CSV\n"
"  --plot FILE.png   plot seq time and worst latency against N (gnuplot)\n"
"  --ab DIR          A/B test a change to the library: every mmvec method also\n"
"                    runs (interleaved, as METHOD@B) with DIR/libmmvec.so.1\n"
"  --no-latency      skip the per-operation latency runs\n"
"  --no-syscalls     skip the strace runs that count mmap/mprotect/madvise\n"
"  --warm MIB        size of the warm pool held between runs (0: none;\n"
"                    default 2.5x each workload's payload, 64..8192 MiB)\n"
"  -h, --help\n"
"\n"
"Workloads:\n");
	for (int w = 0; w < W_COUNT; w++)
		fprintf(f, "  %-11s %s\n", workload_names[w], workload_titles[w]);
}

/* Split a comma-separated list. The items point into *storage; free both
 * *out and *storage when done with them. */
static bool parse_list(const char *arg, char ***out, size_t *count,
		       char **storage)
{
	char *copy = xstrdup(arg), *save = NULL, *tok;
	char **items = xcalloc(strlen(arg) + 1, sizeof(*items));
	size_t k = 0;

	for (tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save))
		items[k++] = tok;
	*out = items;
	*count = k;
	*storage = copy;
	return k > 0;
}

static bool parse_counts(const char *arg, size_t **out, size_t *count)
{
	char **items, *storage;
	size_t k;
	bool ok;

	free(*out);
	*out = NULL;
	ok = parse_list(arg, &items, &k, &storage);
	if (ok) {
		*out = xcalloc(k, sizeof(**out));
		for (size_t i = 0; ok && i < k; i++)
			ok = parse_count(items[i], &(*out)[i]);
		*count = k;
	}
	free(items);
	free(storage);
	return ok;
}

static bool method_selected(const struct opts *o, const struct variant *v)
{
	if (!o->methods)
		return !v->optional;
	for (size_t i = 0; i < o->nmethods; i++)
		if (strcmp(o->methods[i], v->method) == 0)
			return true;
	return false;
}

/* ---------------------------------------------------------------------------
 * Driver: running workers
 * ------------------------------------------------------------------------- */

static char self_path[PATH_MAX];
static unsigned workers_failed; /* runs that failed or returned wrong data */
static char strace_path[PATH_MAX];
static double tick_per_ns = 1.0;

static bool find_in_path(const char *name, char *out, size_t size)
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

/* TSC ticks per ns, against CLOCK_MONOTONIC over 100 ms. */
static double calibrate_ticks(void)
{
#if BENCH_HAVE_TSC
	double t0 = now(), t1;
	uint64_t c0 = bench_tick(), c1;

	do {
		t1 = now();
	} while (t1 - t0 < 0.1);
	c1 = bench_tick();
	return (double)(c1 - c0) / ((t1 - t0) * 1e9);
#else
	return 1.0;
#endif
}

/* Count memory system calls between the markers of an strace -o file. */
static void count_syscalls(const char *file, struct row *r)
{
	static const struct { const char *name; enum field f; } names[] = {
		{ "mmap", F_MMAP }, { "munmap", F_MUNMAP },
		{ "mprotect", F_MPROTECT }, { "madvise", F_MADVISE },
		{ "mremap", F_MREMAP }, { "brk", F_BRK },
	};
	FILE *f = fopen(file, "re");
	char line[4096];
	bool inside = false;

	if (!f)
		return;
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		r->f[names[i].f] = 0;
	while (fgets(line, sizeof(line), f)) {
		char *p = line, *paren;

		if (strstr(line, "/mmvec-bench-marker/begin")) {
			inside = true;
			continue;
		}
		if (strstr(line, "/mmvec-bench-marker/end"))
			break;
		if (!inside)
			continue;
		/* "PID name(args) = ret" */
		while (*p >= '0' && *p <= '9')
			p++;
		while (*p == ' ')
			p++;
		paren = strchr(p, '(');
		if (!paren)
			continue;
		for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
			size_t len = strlen(names[i].name);
			if ((size_t)(paren - p) == len &&
			    strncmp(p, names[i].name, len) == 0)
				r->f[names[i].f]++;
		}
	}
	fclose(f);
}

/*
 * The warm pool. This machine is a virtual machine whose host takes back
 * guest memory that stays free for a couple of seconds (free page
 * reporting); touching such memory again costs a host fault per page, which
 * made the same run 1x to 8x slower depending on what ran before it. A
 * keeper process holds a pool of touched huge pages and lets go of it only
 * while a worker runs, so every worker starts from memory the host backs.
 * The keeper is a process of its own so that neither the driver's nor the
 * workers' peak RSS includes the pool.
 */
static int keeper_cmd = -1, keeper_ack = -1;
static pid_t keeper_pid;
static size_t keeper_bytes; /* the pool's size from the next 'a' on */

struct keeper_msg {
	char op;      /* 'a': take and touch the pool; 'f': let go of it */
	size_t bytes; /* the pool's size, for 'a' */
};

static void keeper_main(int cmd, int ack)
{
	struct keeper_msg m;
	char *pool = NULL;
	size_t have = 0;

	while (read(cmd, &m, sizeof(m)) == (ssize_t)sizeof(m)) {
		if (m.op == 'a' && !pool && m.bytes) {
			pool = mmap(NULL, m.bytes, PROT_READ | PROT_WRITE,
				    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
			if (pool == MAP_FAILED) {
				pool = NULL;
			} else {
				have = m.bytes;
				madvise(pool, have, MADV_HUGEPAGE);
				for (size_t off = 0; off < have; off += 4096)
					pool[off] = 1;
			}
		} else if (m.op == 'f' && pool) {
			munmap(pool, have);
			pool = NULL;
		}
		if (write(ack, &m.op, 1) != 1)
			break;
	}
	_exit(0);
}

static void keeper_send(char op)
{
	struct keeper_msg m;
	char r;

	if (keeper_cmd < 0)
		return;
	memset(&m, 0, sizeof(m));
	m.op = op;
	m.bytes = keeper_bytes;
	if (write(keeper_cmd, &m, sizeof(m)) != (ssize_t)sizeof(m) ||
	    read(keeper_ack, &r, 1) != 1) {
		close(keeper_cmd);
		close(keeper_ack);
		keeper_cmd = keeper_ack = -1;
	}
}

/* Resize the pool: let go of the old one, take one of `bytes`. */
static void keeper_resize(size_t bytes)
{
	bytes &= ~(HUGE_ALIGN - 1);
	if (keeper_cmd < 0 || bytes == keeper_bytes)
		return;
	keeper_send('f');
	keeper_bytes = bytes;
	keeper_send('a');
}

static void keeper_start(void)
{
	int cmd[2], ack[2];

	if (pipe2(cmd, O_CLOEXEC) || pipe2(ack, O_CLOEXEC))
		return;
	fflush(stdout);
	fflush(stderr);
	keeper_pid = fork();
	if (keeper_pid == 0) {
		close(cmd[1]);
		close(ack[0]);
		keeper_main(cmd[0], ack[1]);
	}
	close(cmd[0]);
	close(ack[1]);
	if (keeper_pid < 0) {
		close(cmd[1]);
		close(ack[0]);
		return;
	}
	keeper_cmd = cmd[1];
	keeper_ack = ack[0];
}

static void keeper_stop(void)
{
	if (keeper_cmd < 0)
		return;
	close(keeper_cmd);
	close(keeper_ack);
	keeper_cmd = keeper_ack = -1;
	waitpid(keeper_pid, NULL, 0);
}

/* Run one worker; fills *r and returns 0, or -1 when it failed. */
static int run_worker(const struct opts *o, const struct variant *v, bool alt,
		      size_t n, enum mode mode, struct row *r,
		      uint64_t (**ev)[2], size_t *nev)
{
	char evfile[] = "/tmp/mmvec-bench-events-XXXXXX";
	int efd = -1;

	char nbuf[32], tbuf[32], cbuf[16], vbuf[32], pbuf[32], sbuf[32];
	char trace[] = "/tmp/mmvec-bench-strace-XXXXXX";
	const char *argv[32];
	int argc = 0, pipefd[2], status, tfd = -1;
	char out[8192];
	size_t got = 0;
	struct rusage ru;
	pid_t pid;

	row_clear(r);
	snprintf(nbuf, sizeof(nbuf), "%zu", n);
	snprintf(tbuf, sizeof(tbuf), "%.9f", tick_per_ns);
	snprintf(cbuf, sizeof(cbuf), "%u", o->gs_cycles);
	snprintf(vbuf, sizeof(vbuf), "%zu", o->small_nvec);
	snprintf(pbuf, sizeof(pbuf), "%zu", o->small_per);
	snprintf(sbuf, sizeof(sbuf), "%llu", o->seed);

	if (mode == MODE_SYS) {
		tfd = mkstemp(trace);
		if (tfd < 0)
			return -1;
		close(tfd);
		argv[argc++] = strace_path;
		argv[argc++] = "-f";
		argv[argc++] = "-qq";
		argv[argc++] = "-o";
		argv[argc++] = trace;
		argv[argc++] = "-e";
		argv[argc++] = "trace=%memory,access,faccessat,faccessat2";
	}
	argv[argc++] = self_path;
	argv[argc++] = "--worker";
	argv[argc++] = workload_names[v->w];
	argv[argc++] = v->method;
	argv[argc++] = nbuf;
	argv[argc++] = mode_names[mode];
	argv[argc++] = tbuf;
	argv[argc++] = cbuf;
	argv[argc++] = vbuf;
	argv[argc++] = pbuf;
	argv[argc++] = sbuf;
	argv[argc] = NULL;

	if (ev) {
		efd = mkstemp(evfile);
		if (efd >= 0)
			close(efd);
	}
	if (pipe2(pipefd, O_CLOEXEC) != 0)
		return -1;
	keeper_send('f');
	fflush(stdout);
	fflush(stderr);
	pid = fork();
	if (pid < 0) {
		keeper_send('a');
		return -1;
	}
	if (pid == 0) {
		dup2(pipefd[1], STDOUT_FILENO);
		/* B side of an A/B run: the other libmmvec.so.1 comes first
		 * (LD_LIBRARY_PATH is searched before the binary's RUNPATH) */
		if (alt)
			setenv("LD_LIBRARY_PATH", o->lib_b, 1);
		if (efd >= 0)
			setenv("MMVEC_BENCH_EVENTS", evfile, 1);
		execv(argv[0], (char *const *)argv);
		_exit(127);
	}
	close(pipefd[1]);
	for (;;) {
		ssize_t k = read(pipefd[0], out + got, sizeof(out) - 1 - got);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			break;
		got += (size_t)k;
		if (got == sizeof(out) - 1)
			break;
	}
	out[got] = '\0';
	close(pipefd[0]);
	while (wait4(pid, &status, 0, &ru) < 0 && errno == EINTR)
		;
	keeper_send('a');
	if (efd >= 0) {
		FILE *ef = fopen(evfile, "re");
		struct stat st;

		if (ef && fstat(fileno(ef), &st) == 0 && WIFEXITED(status) &&
		    WEXITSTATUS(status) == 0) {
			*nev = (size_t)st.st_size / sizeof(**ev);
			*ev = xcalloc(*nev, sizeof(**ev));
			if (fread(*ev, sizeof(**ev), *nev, ef) != *nev)
				*nev = (size_t)-1;
		}
		if (ef)
			fclose(ef);
		unlink(evfile);
	}

	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		fprintf(stderr, "mmvec-bench: worker %s %s%s N=%zu (%s) failed\n",
			workload_names[v->w], v->method, alt ? "@B" : "", n,
			mode_names[mode]);
		workers_failed++;
		if (mode == MODE_SYS)
			unlink(trace);
		return -1;
	}
	if (mode == MODE_SYS) {
		count_syscalls(trace, r);
		unlink(trace);
		return 0;
	}
	{
		char *p = strstr(out, "RESULT");
		if (!p)
			return -1;
		p += 6;
		for (int i = 0; i < F_COUNT; i++)
			r->f[i] = strtod(p, &p);
	}
	r->f[F_MAXRSS_KIB] = (double)ru.ru_maxrss;
	return 0;
}

/* ---------------------------------------------------------------------------
 * Driver: statistics, tables, CSV
 * ------------------------------------------------------------------------- */

/* Everything measured for one variant at one size. */
struct series {
	const struct variant *v;
	bool alt;        /* run against --ab's library */
	char label[64];  /* the method, with "@B" on the B side */
	size_t n;
	struct row *runs; /* reps of them: time fields merged with lat fields */
	struct row sys;   /* syscall counts, from one strace run */
	uint64_t (**ev)[2]; /* per run: slow operations (index, ticks) */
	size_t *nev;        /* per run: how many; (size_t)-1: no data */
	struct row med, lo, hi;
};

static struct series *all_series;
static double opts_warm = -1; /* --warm: MiB, or < 0 for automatic */
static size_t nall_series;

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static int cmp_event(const void *a, const void *b)
{
	const uint64_t *x = a, *y = b;

	return (x[0] > y[0]) - (x[0] < y[0]);
}

/* The worst operation that was slow in every run with latency data: for each
 * operation index slow in all of them, its smallest latency; the largest of
 * those. The 20 us recording threshold when none recurs. */
static double worst_in_all_runs(struct series *s, unsigned reps)
{
	double worst = 20000; /* ns: the recording threshold */
	unsigned first = reps;

	for (unsigned r = 0; r < reps; r++) {
		if (s->nev[r] == (size_t)-1)
			continue;
		qsort(s->ev[r], s->nev[r], sizeof(*s->ev[r]), cmp_event);
		if (first == reps)
			first = r;
	}
	if (first == reps)
		return NAN;
	for (size_t k = 0; k < s->nev[first]; k++) {
		uint64_t idx = s->ev[first][k][0], least = s->ev[first][k][1];
		bool everywhere = true;

		for (unsigned r = first + 1; r < reps && everywhere; r++) {
			uint64_t key[2] = { idx, 0 };
			const uint64_t *hit;

			if (s->nev[r] == (size_t)-1)
				continue;
			hit = bsearch(key, s->ev[r], s->nev[r], sizeof(*s->ev[r]),
				      cmp_event);
			if (!hit)
				everywhere = false;
			else if (hit[1] < least)
				least = hit[1];
		}
		if (everywhere && (double)least / tick_per_ns > worst)
			worst = (double)least / tick_per_ns;
	}
	return worst;
}

static void summarise(struct series *s, unsigned reps)
{
	double *vals = xcalloc(reps, sizeof(*vals));

	for (int f = 0; f < F_COUNT; f++) {
		unsigned k = 0;

		for (unsigned r = 0; r < reps; r++)
			if (!isnan(s->runs[r].f[f]))
				vals[k++] = s->runs[r].f[f];
		if (!k) {
			s->med.f[f] = s->lo.f[f] = s->hi.f[f] = s->sys.f[f];
			continue;
		}
		qsort(vals, k, sizeof(*vals), cmp_double);
		s->lo.f[f] = vals[0];
		s->hi.f[f] = vals[k - 1];
		s->med.f[f] = k % 2 ? vals[k / 2] : (vals[k / 2 - 1] + vals[k / 2]) / 2;
	}
	free(vals);
	if (s->v->lat) {
		double w = worst_in_all_runs(s, reps);
		s->med.f[F_LAT_WORST_ALL_NS] = s->lo.f[F_LAT_WORST_ALL_NS] =
			s->hi.f[F_LAT_WORST_ALL_NS] = w;
	}
}

static void fmt_num(char *buf, size_t size, double x, int prec)
{
	if (isnan(x))
		snprintf(buf, size, "-");
	else
		snprintf(buf, size, "%.*f", prec, x);
}

/* "median [min..max]" scaled. */
static void fmt_range(char *buf, size_t size, const struct series *s, int f,
		      double scale, int prec)
{
	char a[32], b[32], c[32];

	if (isnan(s->med.f[f])) {
		snprintf(buf, size, "-");
		return;
	}
	fmt_num(a, sizeof(a), s->med.f[f] * scale, prec);
	fmt_num(b, sizeof(b), s->lo.f[f] * scale, prec);
	fmt_num(c, sizeof(c), s->hi.f[f] * scale, prec);
	snprintf(buf, size, "%s [%s..%s]", a, b, c);
}

static void print_table(struct series *ss, size_t count, enum workload w,
			size_t n, const struct opts *o)
{
	char wall[128], lat[128], a[32], b[32], c[32], d[32], e[32], x[32];
	char oncpu[32], p999[32];

	printf("\n== %s: %s\n", workload_names[w], workload_titles[w]);
	if (w == W_GROWSHRINK)
		printf("   S = %zu int64 (%.1f MiB), %u cycles", n,
		       (double)n * 8 / MIB, o->gs_cycles);
	else if (w == W_SMALL)
		printf("   %zu vectors x %zu int64 (%.1f MiB)", o->small_nvec,
		       o->small_per, (double)o->small_nvec * (double)o->small_per * 8 / MIB);
	else
		printf("   N = %zu int64 (payload %.1f MiB)", n, (double)n * 8 / MIB);
	printf(", %u interleaved runs: median [min..max]\n", o->reps);
	printf("%-21s %-24s %8s %8s %8s %9s %9s %5s %5s %5s %5s %5s %5s %-26s %8s %9s %8s\n",
	       "method", "wall ms", "user ms", "sys ms", "ns/elem", "RSS MiB",
	       "faults", "mmap", "munmp", "mprot", "madv", "mrmap", "brk",
	       "worst op us (wall)", "all-run", "p99.9 ns",
	       w == W_GROWSHRINK ? "ret %" : w == W_STEADY ? "cpu ns (wall)" :
	       w == W_SMALL ? "PT MiB" : "");
	for (size_t i = 0; i < count; i++) {
		const struct series *s = &ss[i];
		char sys[6][8];
		static const int sf[6] = { F_MMAP, F_MUNMAP, F_MPROTECT,
					   F_MADVISE, F_MREMAP, F_BRK };

		fmt_range(wall, sizeof(wall), s, F_WALL_S, 1e3, 1);
		fmt_range(lat, sizeof(lat), s, F_LAT_MAX_NS, 1e-3, 1);
		fmt_num(a, sizeof(a), s->med.f[F_USER_S] * 1e3, 0);
		fmt_num(b, sizeof(b), s->med.f[F_SYS_S] * 1e3, 0);
		fmt_num(c, sizeof(c), s->med.f[F_NS_ELEM], 2);
		fmt_num(d, sizeof(d), s->med.f[F_MAXRSS_KIB] / 1024, 1);
		fmt_num(e, sizeof(e), s->med.f[F_MINFLT] + s->med.f[F_MAJFLT], 0);
		for (int k = 0; k < 6; k++)
			fmt_num(sys[k], sizeof(sys[k]), s->sys.f[sf[k]], 0);
		if (w == W_GROWSHRINK)
			fmt_num(x, sizeof(x), s->med.f[F_RETURNED_PCT], 1);
		else if (w == W_STEADY)
			snprintf(x, sizeof(x), "%.2f (%.2f)", s->med.f[F_STEADY_NS],
				 s->med.f[F_STEADY_WALL_NS]);
		else if (w == W_SMALL)
			fmt_num(x, sizeof(x), s->med.f[F_PTE_KIB] / 1024, 1);
		else
			x[0] = '\0';
		fmt_num(oncpu, sizeof(oncpu), s->med.f[F_LAT_WORST_ALL_NS] / 1e3, 1);
		fmt_num(p999, sizeof(p999), s->med.f[F_LAT_P999_NS], 0);
		printf("%-21s %-24s %8s %8s %8s %9s %9s %5s %5s %5s %5s %5s %5s %-26s %8s %9s %8s\n",
		       s->label, wall, a, b, c, d, e, sys[0], sys[1], sys[2],
		       sys[3], sys[4], sys[5], lat, oncpu, p999, x);
	}
	fflush(stdout);
}

static FILE *csv_file;

static void csv_header(void)
{
	fprintf(csv_file, "workload,method,n,run");
	for (int f = 0; f < F_COUNT; f++)
		fprintf(csv_file, ",%s", field_names[f]);
	fprintf(csv_file, "\n");
}

static void csv_row(const struct series *s, const char *run, const struct row *r)
{
	fprintf(csv_file, "%s,%s,%zu,%s", workload_names[s->v->w], s->label,
		s->n, run);
	for (int f = 0; f < F_COUNT; f++) {
		double x = r->f[f];
		/* syscall counts come from the strace run */
		if (f >= F_MMAP)
			x = s->sys.f[f];
		if (isnan(x))
			fprintf(csv_file, ",");
		else
			fprintf(csv_file, ",%.9g", x);
	}
	fprintf(csv_file, "\n");
}

static void csv_series(const struct series *s, unsigned reps)
{
	char run[16];

	if (!csv_file)
		return;
	for (unsigned r = 0; r < reps; r++) {
		snprintf(run, sizeof(run), "%u", r + 1);
		csv_row(s, run, &s->runs[r]);
	}
	csv_row(s, "median", &s->med);
	csv_row(s, "min", &s->lo);
	csv_row(s, "max", &s->hi);
	fflush(csv_file);
}

/* ---------------------------------------------------------------------------
 * Driver: one workload at one size, all its methods interleaved
 * ------------------------------------------------------------------------- */

static void run_group(const struct opts *o, enum workload w, size_t n)
{
	const struct variant *vs[2 * NVARIANTS];
	bool alt[2 * NVARIANTS];
	size_t count = 0;
	struct series *ss;

	for (size_t i = 0; i < NVARIANTS; i++) {
		if (variants[i].w != w || !method_selected(o, &variants[i]))
			continue;
		alt[count] = false;
		vs[count++] = &variants[i];
		if (o->lib_b && strncmp(variants[i].method, "mmvec", 5) == 0) {
			alt[count] = true;
			vs[count++] = &variants[i];
		}
	}
	if (!count)
		return;

	ss = xcalloc(count, sizeof(*ss));
	for (size_t i = 0; i < count; i++) {
		ss[i].v = vs[i];
		ss[i].alt = alt[i];
		snprintf(ss[i].label, sizeof(ss[i].label), "%s%s", vs[i]->method,
			 alt[i] ? "@B" : "");
		ss[i].n = n;
		ss[i].runs = xcalloc(o->reps, sizeof(struct row));
		ss[i].ev = xcalloc(o->reps, sizeof(*ss[i].ev));
		ss[i].nev = xcalloc(o->reps, sizeof(*ss[i].nev));
		for (unsigned r = 0; r < o->reps; r++)
			ss[i].nev[r] = (size_t)-1;
		row_clear(&ss[i].sys);
	}

	{
		/* the pool: what the hungriest method of the group touches */
		double mib = opts_warm;
		if (mib < 0) {
			mib = 2.5 * (double)n * 8 / MIB;
			if (mib < 64)
				mib = 64;
			if (mib > 8192)
				mib = 8192;
		}
		keeper_resize((size_t)(mib * MIB));
	}
	fprintf(stderr, "mmvec-bench: %s N=%zu:", workload_names[w], n);
	/* the strace run also warms the machine up */
	if (o->syscalls && strace_path[0]) {
		fprintf(stderr, " strace");
		for (size_t i = 0; i < count; i++)
			run_worker(o, vs[i], alt[i], n, MODE_SYS, &ss[i].sys, NULL, NULL);
	}
	for (unsigned r = 0; r < o->reps; r++) {
		fprintf(stderr, " %u", r + 1);
		for (size_t k = 0; k < count; k++) {
			size_t i = (k + r) % count; /* rotate the order */
			run_worker(o, vs[i], alt[i], n, MODE_TIME, &ss[i].runs[r], NULL, NULL);
		}
		if (!o->latency)
			continue;
		for (size_t k = 0; k < count; k++) {
			size_t i = (k + r) % count;
			struct row lr;

			if (!vs[i]->lat)
				continue;
			if (run_worker(o, vs[i], alt[i], n, MODE_LAT, &lr,
				       &ss[i].ev[r], &ss[i].nev[r]) == 0) {
				static const int lf[] = {
					F_LAT_MAX_NS, F_LAT_MAX_ONCPU_NS,
					F_LAT_PREEMPTED, F_LAT_P999_NS,
					F_LAT_P50_NS,
				};
				for (size_t f = 0; f < sizeof(lf) / sizeof(lf[0]); f++)
					ss[i].runs[r].f[lf[f]] = lr.f[lf[f]];
			}
		}
	}
	fprintf(stderr, "\n");

	for (size_t i = 0; i < count; i++) {
		summarise(&ss[i], o->reps);
		csv_series(&ss[i], o->reps);
	}
	print_table(ss, count, w, n, o);

	{
		struct series *t = realloc(all_series,
					   (nall_series + count) * sizeof(*t));
		if (!t) {
			fprintf(stderr, "mmvec-bench: out of memory\n");
			exit(2);
		}
		all_series = t;
		memcpy(all_series + nall_series, ss, count * sizeof(*ss));
		nall_series += count;
		free(ss);
	}
}

static const struct series *find_series(enum workload w, const char *m, size_t n)
{
	for (size_t i = 0; i < nall_series; i++)
		if (all_series[i].v->w == w && all_series[i].n == n &&
		    strcmp(all_series[i].label, m) == 0)
			return &all_series[i];
	return NULL;
}

/* ---------------------------------------------------------------------------
 * Driver: targets (issue 4) and the plot
 * ------------------------------------------------------------------------- */

/* a / b per interleaved run: the min and max of the paired ratios. */
static void paired_ratio(const struct series *a, const struct series *b,
			 int f, unsigned reps, double *lo, double *hi)
{
	*lo = INFINITY;
	*hi = -INFINITY;
	for (unsigned r = 0; r < reps; r++) {
		double q = a->runs[r].f[f] / b->runs[r].f[f];
		if (isnan(q))
			continue;
		if (q < *lo)
			*lo = q;
		if (q > *hi)
			*hi = q;
	}
}

static int verdicts_failed;

static void verdict(const char *what, const char *goal, double value,
		    bool ok, const char *detail)
{
	bool info = strcmp(goal, "(information)") == 0;

	printf("%-46s %-16s %-46s %s\n", what, goal, detail,
	       info ? "" : isnan(value) ? "n/a" : ok ? "PASS" : "MISS");
	if (!info && !isnan(value) && !ok)
		verdicts_failed++;
}

static void ratio_target(const char *what, const char *goal, enum workload w,
			 const char *ma, const char *mb, size_t n, int f,
			 double limit, unsigned reps)
{
	const struct series *a = find_series(w, ma, n), *b = find_series(w, mb, n);
	char detail[96];
	double q = NAN, lo, hi;

	if (a && b) {
		q = a->med.f[f] / b->med.f[f];
		paired_ratio(a, b, f, reps, &lo, &hi);
		if (f == F_WALL_S)
			snprintf(detail, sizeof(detail), "%.3f (runs %.3f..%.3f; cpu %.3f)",
				 q, lo, hi, a->med.f[F_CPU_S] / b->med.f[F_CPU_S]);
		else if (isinf(lo))
			snprintf(detail, sizeof(detail), "%.4f (%.0f us / %.0f us)", q,
				 a->med.f[f] / 1e3, b->med.f[f] / 1e3);
		else
			snprintf(detail, sizeof(detail), "%.3f (runs %.3f..%.3f)",
				 q, lo, hi);
	} else {
		snprintf(detail, sizeof(detail), "not measured");
	}
	verdict(what, goal, q, q <= limit, detail);
}

static void print_targets(const struct opts *o)
{
	size_t n = o->ns[0];
	const struct series *s;
	char detail[96];
	double x;

	printf("\n== Targets (issue 4) at N = %zu, medians of %u interleaved runs\n",
	       n, o->reps);
	printf("%-46s %-16s %-46s %s\n", "target", "goal", "measured", "verdict");
	ratio_target("mmvec_push time / std::vector push_back", "<= 0.333",
		     W_SEQ, "mmvec_push", "stdvec_push", n, F_WALL_S, 1.0 / 3, o->reps);
	ratio_target("mmvec_push time / realloc-doubling push", "<= 0.750",
		     W_SEQ, "mmvec_push", "realloc_push", n, F_WALL_S, 0.75, o->reps);
	ratio_target("mmvec_extend fill / raw huge-page fill", "<= 1.500",
		     W_SEQ, "mmvec_extend", "raw_huge_fill", n, F_WALL_S, 1.5, o->reps);
	{
		static const char *const ms[] = { "mmvec_push", "mmvec_extend",
						  "mmvec_append" };
		double limit = (double)n * 8 / 1024 + 8192;

		for (size_t i = 0; i < 3; i++) {
			char what[64], goal[48];

			s = find_series(W_SEQ, ms[i], n);
			x = s ? s->med.f[F_MAXRSS_KIB] : NAN;
			snprintf(what, sizeof(what), "%s peak RSS (ru_maxrss)", ms[i]);
			snprintf(goal, sizeof(goal), "<= %.1f MiB", limit / 1024);
			snprintf(detail, sizeof(detail), "%.1f MiB (max %.1f) = payload%+.1f",
				 x / 1024, s ? s->hi.f[F_MAXRSS_KIB] / 1024 : NAN,
				 (x - (double)n * 8 / 1024) / 1024);
			verdict(what, goal, x, x <= limit, detail);
		}
	}
	ratio_target("worst mmvec_push / worst push_back (wall)", "<= 0.050",
		     W_SEQ, "mmvec_push", "stdvec_push", n, F_LAT_MAX_NS, 0.05,
		     o->reps);
	ratio_target("  the same, slow in every run (no host stalls)", "<= 0.050",
		     W_SEQ, "mmvec_push", "stdvec_push", n, F_LAT_WORST_ALL_NS, 0.05,
		     o->reps);
	s = find_series(W_STEADY, "mmvec_push", n);
	x = s ? s->med.f[F_STEADY_NS] : NAN;
	snprintf(detail, sizeof(detail), "%.2f ns (runs %.2f..%.2f; wall %.2f)", x,
		 s ? s->lo.f[F_STEADY_NS] : NAN, s ? s->hi.f[F_STEADY_NS] : NAN,
		 s ? s->med.f[F_STEADY_WALL_NS] : NAN);
	verdict("steady-state mmvec_push (shared library)", "<= 2.50 ns/elem", x,
		x <= 2.5, detail);
	{
		static const char *const refs[] = { "floor_push", "realloc_push",
						    "stdvec_push" };
		static const char *const what[] = {
			"  floor: minimal push through a PLT call",
			"  realloc vector, push inlined",
			"  std::vector push_back, inlined",
		};
		for (size_t i = 0; i < 3; i++) {
			s = find_series(W_STEADY, refs[i], n);
			if (!s)
				continue;
			snprintf(detail, sizeof(detail), "%.2f ns (runs %.2f..%.2f; wall %.2f)",
				 s->med.f[F_STEADY_NS], s->lo.f[F_STEADY_NS],
				 s->hi.f[F_STEADY_NS], s->med.f[F_STEADY_WALL_NS]);
			verdict(what[i], "(information)", 0, true, detail);
		}
	}
	s = find_series(W_GROWSHRINK, "mmvec_shrink", o->gs_size);
	x = s ? s->med.f[F_RETURNED_PCT] : NAN;
	snprintf(detail, sizeof(detail), "%.1f %% (runs %.1f..%.1f)", x,
		 s ? s->lo.f[F_RETURNED_PCT] : NAN, s ? s->hi.f[F_RETURNED_PCT] : NAN);
	verdict("grow-shrink: freed pages given back", ">= 90 %", x, x >= 90, detail);
	printf("%d target(s) missed\n", verdicts_failed);
}

static void plot(const struct opts *o)
{
	char gnuplot[PATH_MAX], datname[PATH_MAX];
	const struct variant *vs[NVARIANTS];
	size_t count = 0;
	FILE *dat, *gp;

	if (!find_in_path("gnuplot", gnuplot, sizeof(gnuplot))) {
		fprintf(stderr, "mmvec-bench: gnuplot not found, no plot\n");
		return;
	}
	for (size_t i = 0; i < NVARIANTS; i++)
		if (variants[i].w == W_SEQ && method_selected(o, &variants[i]))
			vs[count++] = &variants[i];
	snprintf(datname, sizeof(datname), "%s.dat", o->plot);
	dat = fopen(datname, "we");
	if (!dat)
		return;
	fprintf(dat, "# N");
	for (size_t k = 0; k < count; k++)
		fprintf(dat, " %s_ms %s_worst_us", vs[k]->method, vs[k]->method);
	fprintf(dat, "\n");
	for (size_t i = 0; i < o->nns; i++) {
		fprintf(dat, "%zu", o->ns[i]);
		for (size_t k = 0; k < count; k++) {
			const struct series *s = find_series(W_SEQ, vs[k]->method, o->ns[i]);
			double t = s ? s->med.f[F_WALL_S] * 1e3 : NAN;
			double l = s ? s->med.f[F_LAT_WORST_ALL_NS] / 1e3 : NAN;
			fprintf(dat, isnan(t) ? " NaN" : " %g", t);
			fprintf(dat, isnan(l) ? " NaN" : " %g", l);
		}
		fprintf(dat, "\n");
	}
	fclose(dat);

	gp = popen(gnuplot, "w");
	if (!gp)
		return;
	fprintf(gp, "set terminal png size 1400,560\n");
	fprintf(gp, "set termoption noenhanced\n");
	fprintf(gp, "set output '%s'\n", o->plot);
	fprintf(gp, "set datafile missing 'NaN'\n");
	fprintf(gp, "set logscale xy\nset grid\nset key top left\n");
	fprintf(gp, "set multiplot layout 1,2\n");
	fprintf(gp, "set title 'seq: total time (median)'\n");
	fprintf(gp, "set xlabel 'N (int64 appends)'\nset ylabel 'ms'\n");
	fprintf(gp, "plot ");
	for (size_t k = 0; k < count; k++)
		fprintf(gp, "%s'%s' using 1:%zu with linespoints title '%s'",
			k ? ", " : "", datname, 2 + 2 * k, vs[k]->method);
	fprintf(gp, "\nset title 'seq: worst single append (slow in every run)'\n");
	fprintf(gp, "set ylabel 'us'\nplot ");
	{
		bool first = true;
		for (size_t k = 0; k < count; k++) {
			if (!vs[k]->lat)
				continue;
			fprintf(gp, "%s'%s' using 1:%zu with linespoints title '%s'",
				first ? "" : ", ", datname, 3 + 2 * k, vs[k]->method);
			first = false;
		}
	}
	fprintf(gp, "\nunset multiplot\n");
	if (pclose(gp) == 0)
		printf("\nplot: %s (data %s)\n", o->plot, datname);
}

/* ---------------------------------------------------------------------------
 * main
 * ------------------------------------------------------------------------- */

static void print_machine(void)
{
	FILE *f = fopen("/proc/cpuinfo", "re");
	char line[256], model[128] = "unknown";
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	char thp[128] = "?";
	int fd;

	if (f) {
		while (fgets(line, sizeof(line), f)) {
			char *c = strchr(line, ':');
			if (strncmp(line, "model name", 10) == 0 && c) {
				snprintf(model, sizeof(model), "%s", c + 2);
				model[strcspn(model, "\n")] = '\0';
				break;
			}
		}
		fclose(f);
	}
	fd = open("/sys/kernel/mm/transparent_hugepage/enabled", O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		ssize_t k = read(fd, thp, sizeof(thp) - 1);
		thp[k > 0 ? k : 0] = '\0';
		thp[strcspn(thp, "\n")] = '\0';
		close(fd);
	}
	printf("libmmvec %s; %s, %ld CPUs, %.1f GiB RAM; THP: %s\n",
	       mmvec_version(), model, cpus,
	       (double)sysconf(_SC_PHYS_PAGES) * (double)sysconf(_SC_PAGESIZE) / (MIB * 1024),
	       thp);
	printf("latency clock: %s, %.3f ticks/ns; strace: %s\n",
	       BENCH_HAVE_TSC ? "rdtscp" : "CLOCK_MONOTONIC", tick_per_ns,
	       strace_path[0] ? strace_path : "not found (no syscall counts)");
}

int main(int argc, char **argv)
{
	struct opts o;
	bool full = false, gs_set = false, reps_set = false;
	char *methods_storage = NULL;
	ssize_t len;

	if (argc > 1 && strcmp(argv[1], "--worker") == 0)
		return worker(argc - 2, argv + 2);

	memset(&o, 0, sizeof(o));
	o.reps = 3;
	o.gs_size = 1000000;
	o.gs_cycles = 100;
	o.small_nvec = 10000;
	o.small_per = 1000;
	o.seed = 1;
	o.latency = true;
	o.syscalls = true;
	o.warm_mib = -1;
	for (int w = 0; w < W_COUNT; w++)
		o.workload_on[w] = true;

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		const char *val = i + 1 < argc ? argv[i + 1] : NULL;
		bool ok = true;

		if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
			usage(stdout);
			return 0;
		} else if (strcmp(a, "--target") == 0) {
			o.target = true;
		} else if (strcmp(a, "--full") == 0) {
			full = true;
		} else if (strcmp(a, "--no-latency") == 0) {
			o.latency = false;
		} else if (strcmp(a, "--no-syscalls") == 0) {
			o.syscalls = false;
		} else if (!val) {
			ok = false;
		} else if (strcmp(a, "-n") == 0 || strcmp(a, "--n") == 0) {
			ok = parse_counts(val, &o.ns, &o.nns);
			i++;
		} else if (strcmp(a, "-r") == 0 || strcmp(a, "--reps") == 0) {
			o.reps = (unsigned)strtoul(val, NULL, 10);
			ok = o.reps >= 1 && o.reps <= 1000;
			reps_set = true;
			i++;
		} else if (strcmp(a, "-w") == 0 || strcmp(a, "--workloads") == 0) {
			char **items, *storage;
			size_t k;
			ok = parse_list(val, &items, &k, &storage);
			for (int w = 0; ok && w < W_COUNT; w++)
				o.workload_on[w] = false;
			for (size_t j = 0; ok && j < k; j++) {
				int w = find_workload(items[j]);
				ok = w >= 0;
				if (ok)
					o.workload_on[w] = true;
			}
			free(items);
			free(storage);
			i++;
		} else if (strcmp(a, "-m") == 0 || strcmp(a, "--methods") == 0) {
			free(o.methods);
			free(methods_storage);
			ok = parse_list(val, &o.methods, &o.nmethods, &methods_storage);
			i++;
		} else if (strcmp(a, "--gs-size") == 0) {
			ok = parse_count(val, &o.gs_size) && o.gs_size >= 8;
			gs_set = true;
			i++;
		} else if (strcmp(a, "--gs-cycles") == 0) {
			o.gs_cycles = (unsigned)strtoul(val, NULL, 10);
			ok = o.gs_cycles >= 1;
			i++;
		} else if (strcmp(a, "--small") == 0) {
			ok = sscanf(val, "%zu,%zu", &o.small_nvec, &o.small_per) == 2 &&
			     o.small_nvec && o.small_per;
			i++;
		} else if (strcmp(a, "--seed") == 0) {
			o.seed = strtoull(val, NULL, 10);
			i++;
		} else if (strcmp(a, "--warm") == 0) {
			char *end;
			o.warm_mib = strtod(val, &end);
			ok = *end == '\0' && o.warm_mib >= 0;
			i++;
		} else if (strcmp(a, "--ab") == 0) {
			o.lib_b = val;
			i++;
		} else if (strcmp(a, "--csv") == 0) {
			o.csv = val;
			i++;
		} else if (strcmp(a, "--plot") == 0) {
			o.plot = val;
			i++;
		} else {
			ok = false;
		}
		if (!ok) {
			fprintf(stderr, "mmvec-bench: bad argument %s\n", a);
			usage(stderr);
			return 2;
		}
	}
	if (o.target) {
		if (!o.ns)
			parse_counts("5e7", &o.ns, &o.nns);
		if (!reps_set)
			o.reps = 5;
		if (!gs_set)
			o.gs_size = 2000000;
	} else if (full) {
		if (!o.ns)
			parse_counts("1e6,1e7,1e8", &o.ns, &o.nns);
		if (!reps_set)
			o.reps = 5;
	} else if (!o.ns) {
		parse_counts("1e6,1e7", &o.ns, &o.nns);
	}

	len = readlink("/proc/self/exe", self_path, sizeof(self_path) - 1);
	if (len <= 0) {
		fprintf(stderr, "mmvec-bench: cannot find /proc/self/exe\n");
		return 2;
	}
	self_path[len] = '\0';
	if (!find_in_path("strace", strace_path, sizeof(strace_path)))
		strace_path[0] = '\0';
	tick_per_ns = calibrate_ticks();
	if (o.csv) {
		csv_file = fopen(o.csv, "we");
		if (!csv_file) {
			fprintf(stderr, "mmvec-bench: %s: %s\n", o.csv, strerror(errno));
			return 2;
		}
		csv_header();
	}

	print_machine();
	if (o.warm_mib < 0)
		printf("warm pool: 2.5x each workload's payload, held between runs\n");
	else
		printf("warm pool: %.0f MiB held between runs\n", o.warm_mib);
	fflush(stdout);
	if (o.warm_mib != 0)
		keeper_start();
	opts_warm = o.warm_mib;
	for (int w = 0; w < W_COUNT; w++) {
		if (!o.workload_on[w])
			continue;
		if (w == W_GROWSHRINK) {
			run_group(&o, W_GROWSHRINK, o.gs_size);
		} else if (w == W_SMALL) {
			run_group(&o, W_SMALL, o.small_nvec * o.small_per);
		} else {
			for (size_t i = 0; i < o.nns; i++)
				run_group(&o, (enum workload)w, o.ns[i]);
		}
	}
	if (o.target)
		print_targets(&o);
	if (o.plot)
		plot(&o);
	keeper_stop();
	if (csv_file)
		fclose(csv_file);
	free(o.ns);
	free(o.methods);
	free(methods_storage);
	if (workers_failed) {
		/* a method that fails is a bug to see, not a row to skip */
		printf("\n%u worker run(s) failed (see the messages above)\n",
		       workers_failed);
		return 1;
	}
	return 0;
}
