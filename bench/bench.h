/*
 * SPDX-License-Identifier: MIT
 *
 * What the parts of mmvec-bench share. The first half is what a method sees
 * (the job it runs, the per-operation latency clock, the steady-state clock)
 * and the methods themselves; it is plain C that also compiles as C++, for
 * the std::vector methods in stdvec.cpp. The second half is the driver's:
 * workloads and their methods, the fields of a result, the options, and the
 * functions its files call across.
 */
#ifndef MMVEC_BENCH_H
#define MMVEC_BENCH_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#if defined(__x86_64__) || defined(__i386__)
#include <x86intrin.h>
#define BENCH_HAVE_TSC 1
#else
#define BENCH_HAVE_TSC 0
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* ---------------------------------------------------------------------------
 * Latency: one clock read before and after each append operation, into a
 * log-linear histogram (16 buckets per power of two, so percentiles are
 * within 6%) plus the exact maximum. The clock is the TSC where there is one
 * (10 to 25 ns a read here, converted to ns with the driver's calibration),
 * else CLOCK_MONOTONIC in ns.
 * ------------------------------------------------------------------------- */

#define BENCH_LAT_BUCKETS 1024

struct bench_lat {
	uint64_t count;
	uint64_t max;
	/* The largest operation with the time the thread spent waiting for a
	 * CPU taken out: on a shared machine another process can take the CPU
	 * in the middle of any operation. Operations of `slow` ticks or more
	 * (and every 2^14th operation) read the thread's run-queue wait from
	 * /proc/thread-self/schedstat (bench_lat_slow()); the wait since the
	 * last read is charged to the slow operation. Time the hypervisor
	 * takes is not seen. */
	uint64_t max_oncpu;
	uint64_t slow;
	uint64_t preempted; /* slow operations that waited for a CPU */
	double tick_per_ns;
	uint64_t run_delay_ns; /* at the last read */
	int schedstat_fd;
	/* Every operation of `slow` ticks or more: its index and ticks. The
	 * driver keeps the operations that are slow in every interleaved run:
	 * a stall of the method recurs at the same operation, a stall of the
	 * machine (preemption, the hypervisor) does not. */
	uint64_t (*events)[2];
	size_t nevents, max_events;
	uint64_t hist[BENCH_LAT_BUCKETS];
};

/* An operation of d ticks (d >= lat->slow, or d == 0 for a periodic read):
 * charge the run-queue wait since the last read to it. */
void bench_lat_slow(struct bench_lat *lat, uint64_t d);

static inline uint64_t bench_tick(void)
{
#if BENCH_HAVE_TSC
	unsigned aux;

	/* rdtscp waits for the operation before it to finish */
	return __rdtscp(&aux);
#else
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
#endif
}

/* Bucket of a duration: exact below 32 ticks, then 16 per power of two. */
static inline unsigned bench_lat_bucket(uint64_t d)
{
	unsigned msb;

	if (d < 32)
		return (unsigned)d;
	msb = 63u - (unsigned)__builtin_clzll(d);
	return (msb - 3u) * 16u + (unsigned)((d >> (msb - 4u)) & 15u);
}

/* The largest duration that falls in bucket b. */
static inline uint64_t bench_lat_bucket_top(unsigned b)
{
	unsigned msb, sub;

	if (b < 32)
		return b;
	msb = b / 16u + 3u;
	sub = b % 16u;
	return (((uint64_t)16u + sub + 1u) << (msb - 4u)) - 1u;
}

static inline void bench_lat_add(struct bench_lat *lat, uint64_t d)
{
	lat->count++;
	lat->hist[bench_lat_bucket(d)]++;
	if (d > lat->max)
		lat->max = d;
	if (d >= lat->slow)
		bench_lat_slow(lat, d);
	else if (d > lat->max_oncpu)
		lat->max_oncpu = d;
	if ((lat->count & 0x3fff) == 0)
		bench_lat_slow(lat, 0);
}

/* Time one statement into lat. */
#define BENCH_TIMED(lat, stmt)                                                 \
	do {                                                                   \
		uint64_t bench_t0_ = bench_tick();                             \
		stmt;                                                          \
		bench_lat_add((lat), bench_tick() - bench_t0_);                \
	} while (0)

/* ---------------------------------------------------------------------------
 * Steady-state timing: wall time, and the thread's own CPU time, which other
 * processes on the machine do not inflate (the timed loop makes no system
 * calls and takes no faults, so the two differ only by preemption).
 * ------------------------------------------------------------------------- */

struct bench_clock {
	struct timespec wall, cpu;
};

static inline double bench_ts_ns(const struct timespec *a,
				 const struct timespec *b)
{
	return (double)(b->tv_sec - a->tv_sec) * 1e9 +
	       (double)(b->tv_nsec - a->tv_nsec);
}

static inline void bench_clock_start(struct bench_clock *c)
{
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &c->cpu);
	clock_gettime(CLOCK_MONOTONIC, &c->wall);
}

/* Per element of n: CPU ns into *cpu_ns, wall ns into *wall_ns. */
static inline void bench_clock_stop(const struct bench_clock *c, size_t n,
				    double *cpu_ns, double *wall_ns)
{
	struct timespec wall, cpu;

	clock_gettime(CLOCK_MONOTONIC, &wall);
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &cpu);
	*wall_ns = bench_ts_ns(&c->wall, &wall) / (double)n;
	*cpu_ns = bench_ts_ns(&c->cpu, &cpu) / (double)n;
}

/* ---------------------------------------------------------------------------
 * A job: what one worker process runs. The driver times the call to the
 * method's function from outside; the method leaves its vector alive (keep)
 * so that freeing it is not timed and the contents can be checked.
 * ------------------------------------------------------------------------- */

struct bench_job {
	/* in */
	size_t n;               /* elements to append in total */
	const uint32_t *sizes;  /* chunk and random workloads: elements per */
	size_t nsizes;          /* append operation (they sum to n) */
	int64_t *stage;         /* staging buffer for copying appends, */
				/* as large as the largest chunk */
	struct bench_lat *lat;  /* not NULL: time each append operation */
	size_t nvec;            /* many-small workload: vectors, */
	size_t per;             /* and elements each */
	unsigned cycles;        /* grow-shrink workload: cycles; */
				/* lifecycle: loops per thread */
	long (*rss)(void);      /* resident bytes of this process */
	/* not NULL under strace: a method flagged M_MARKS calls it with
	 * "begin" and "end" around what is counted (in each thread) */
	void (*mark)(const char *what);

	/* out */
	const int64_t *data;    /* the result, element i == i */
	size_t len;
	double returned_bytes;  /* grow-shrink: resident bytes given back */
	double freed_bytes;     /* grow-shrink: payload bytes dropped */
	double steady_ns;       /* steady state: ns per element, CPU time */
	double steady_wall_ns;  /* and wall time, both timed inside */
	void *keep;             /* freed by the method's free function */
};

/* growshrink: after shrinking from j->n to low elements, count what was
 * given back (resident bytes before the shrink: before) and dropped. */
static inline void bench_gs_shrunk(struct bench_job *j, long before, size_t low)
{
	j->returned_bytes += (double)(before - j->rss());
	j->freed_bytes += (double)(j->n - low) * sizeof(int64_t);
}

/* small: vector i of the many is right when it holds j->per elements,
 * element e == e + i. */
static inline int bench_small_ok(const struct bench_job *j, size_t i,
				 const int64_t *data, size_t len)
{
	if (len != j->per)
		return 0;
	for (size_t e = 0; e < len; e++)
		if (data[e] != (int64_t)(e + i))
			return 0;
	return 1;
}

/* A plain C vector of int64: the realloc-doubling vector of methods-ref.c,
 * and what floor.c's push appends to. */
struct cvec {
	int64_t *data;
	size_t len, cap;
};

/* floor.c, a shared library of its own: the cheapest push through a PLT. */
void *bench_floor_push(struct cvec *v, const void *elem);

/* lifecycle.c: the lifecycle workload's harness. A method's loops: `loops`
 * times create, append k int64 (0 .. k - 1) one at a time, add the last
 * element to *sum, free; 0, or -1 after saying why. life_run() runs them in
 * job->nvec threads (job->n is k, job->cycles the loops per thread), after
 * a warm-up, and sets steady_ns (the slowest thread's CPU ns per loop) and
 * steady_wall_ns (wall ns per loop, the threads at once). */
typedef int (*life_loops_fn)(size_t loops, size_t k, int64_t *sum);
int life_run(struct bench_job *j, life_loops_fn fn);
int life_check(struct bench_job *j);
void life_free(struct bench_job *j);

/* Fill in place: the one loop every filling method shares. */
static inline void fill(int64_t *p, size_t n, int64_t first)
{
	for (size_t i = 0; i < n; i++)
		p[i] = first + (int64_t)i;
}

/* ---------------------------------------------------------------------------
 * The methods. Each builds its workload's vector (element i == i) and leaves
 * it alive in job->keep; it returns 0, or -1 after printing why. A free_*
 * function releases what a method kept, a *_check function checks a result
 * that is not one vector.
 * ------------------------------------------------------------------------- */

/* methods-mmvec.c: libmmvec */
int seq_mmvec_push(struct bench_job *j);
int seq_mmvec_push_fast(struct bench_job *j);
int seq_mmvec_push_val(struct bench_job *j);
int seq_mmvec_claim(struct bench_job *j);
int seq_mmvec_push_nohuge(struct bench_job *j);
int seq_mmvec_push_huge(struct bench_job *j);
int seq_mmvec_push_populate(struct bench_job *j);
int seq_mmvec_push_val_pretouch(struct bench_job *j);
int seq_mmvec_extend(struct bench_job *j);
int chunks_mmvec_extend(struct bench_job *j);
int chunks_mmvec_claim(struct bench_job *j);
int chunks_mmvec_append(struct bench_job *j);
int gs_mmvec(struct bench_job *j);
int small_mmvec_push(struct bench_job *j);
int small_mmvec_push_fast(struct bench_job *j);
int small_mmvec_push_val(struct bench_job *j);
int small_mmvec_claim(struct bench_job *j);
int small_mmvec_push_maxlen(struct bench_job *j);
int small_mmvec_check(struct bench_job *j);
int steady_mmvec_push(struct bench_job *j);
int steady_mmvec_push_fast(struct bench_job *j);
int steady_mmvec_push_val(struct bench_job *j);
int steady_mmvec_claim(struct bench_job *j);
int life_mmvec_default(struct bench_job *j);
int life_mmvec_maxlen(struct bench_job *j);
void free_mmvec(struct bench_job *j);
void free_small_mmvec(struct bench_job *j);

/* methods-ref.c: the realloc-doubling C vector, fresh memory filled in
 * place, and floor.c's push */
int seq_realloc_push(struct bench_job *j);
int seq_raw_fill(struct bench_job *j);
int seq_raw_huge_fill(struct bench_job *j);
int chunks_realloc_append(struct bench_job *j);
int gs_realloc(struct bench_job *j);
int small_realloc_push(struct bench_job *j);
int small_realloc_check(struct bench_job *j);
int steady_realloc_push(struct bench_job *j);
int steady_floor_push(struct bench_job *j);
int life_realloc(struct bench_job *j);
void free_cvec(struct bench_job *j);
void free_small_realloc(struct bench_job *j);
void free_raw(struct bench_job *j);

/* stdvec.cpp: std::vector<int64_t>, when there is a C++ compiler */
int seq_stdvec_push(struct bench_job *j);
int chunks_stdvec_insert(struct bench_job *j);
int gs_stdvec(struct bench_job *j);
int small_stdvec_push(struct bench_job *j);
int small_stdvec_check(struct bench_job *j);
int steady_stdvec_push(struct bench_job *j);
int life_stdvec(struct bench_job *j);
void free_stdvec(struct bench_job *j);

/* Print "mmvec-bench: what: strerror(err)" and return -1. */
int fail_errno(const char *what, int err);

#ifdef __cplusplus
}
#endif

/* ---------------------------------------------------------------------------
 * The driver (C only from here on)
 * ------------------------------------------------------------------------- */
#ifndef __cplusplus

#include <stdbool.h>
#include <stdio.h>

#define MIB (1024.0 * 1024.0)
#define HUGE_ALIGN ((size_t)2 << 20)
#define CHUNK_ELEMS 512u          /* 4 KiB of int64 */
#define RANDOM_MAX_LOG2 16u       /* random sizes: 1 .. 2^16 elements */

/* util.c: allocation that exits on failure, counts, /proc */
double now(void);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t n, size_t size);
char *xstrdup(const char *s);
bool parse_count(const char *s, size_t *out);
unsigned long long proc_field2(int fd);
long rss_bytes(void);
double status_kib(const char *key);
bool find_in_path(const char *name, char *out, size_t size);

/* workloads.c: the workloads, and the methods each runs */
enum workload {
	W_SEQ, W_CHUNK, W_RANDOM, W_GROWSHRINK, W_SMALL, W_STEADY, W_LIFECYCLE,
	W_MT, /* in the driver's process, only when named (mt.c) */
	W_COUNT
};

extern const char *const workload_names[W_COUNT];
extern const char *const workload_titles[W_COUNT];

#define W_BIT(w) (1u << (w))

enum {
	M_LAT = 1,      /* per-operation latency makes sense */
	M_OPTIONAL = 2, /* run only when named with --methods */
	M_MARKS = 4,    /* marks what strace counts itself (job->mark) */
};

/* What a method leaves in job->keep: how to check it and to free it. */
struct kept {
	int (*check)(struct bench_job *j); /* NULL: element i == i, len */
	void (*release)(struct bench_job *j);
};

struct method {
	unsigned workloads; /* W_BIT(w) for each workload it runs in */
	const char *name;
	int (*run)(struct bench_job *j);
	const struct kept *kept;
	unsigned flags;
};

extern const struct method methods[];
extern const size_t nmethods;

int find_workload(const char *name);
const struct method *find_method(enum workload w, const char *name);
uint32_t *make_sizes(enum workload w, size_t n, uint64_t seed, size_t *count,
		     size_t *largest);

/* A run's results: one row of numbers, NaN where not measured. */
enum field {
	F_WALL_S, F_USER_S, F_SYS_S, F_CPU_S, F_NS_ELEM, F_MINFLT, F_MAJFLT,
	F_MAXRSS_KIB, F_HWM_KIB, F_BASE_KIB, F_PTE_KIB,
	F_NIVCSW,
	F_LAT_MAX_NS, F_LAT_MAX_ONCPU_NS, F_LAT_WORST_ALL_NS, F_LAT_PREEMPTED,
	F_LAT_P999_NS,
	F_LAT_P50_NS,
	F_LAT_P99_NS, F_LAT_P9999_NS,
	F_RETURNED_PCT, F_STEADY_NS, F_STEADY_WALL_NS,
	F_MMAP, F_MUNMAP, F_MPROTECT, F_MADVISE, F_MREMAP, F_BRK,
	F_SYSCALLS, /* every system call, these and the rest */
	F_COUNT
};

struct row {
	double f[F_COUNT];
};

/* How a worker runs its method: timed, with latency, or under strace. */
enum mode { MODE_TIME, MODE_LAT, MODE_SYS };

extern const char *const mode_names[];

/* worker.c: the worker process, run as mmvec-bench --worker ARGS */
int worker(int argc, char **argv);

/* keeper.c: the warm pool held between workers */
void keeper_start(void);
void keeper_stop(void);
void keeper_resize(size_t bytes);
void keeper_free(void);
void keeper_take(void);

/* The options (mmvec-bench.c) */
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
	size_t *life_ks, nlife_ks;     /* lifecycle: elements per loop */
	size_t *life_threads, nlife_threads;
	size_t life_loops;             /* per thread */
	size_t life_threads_now;       /* of the group being run */
	unsigned long long seed;
	const char *csv;
	const char *plot;
	bool latency;
	bool syscalls;
	bool target;
	double warm_mib; /* < 0: automatic */
	const char *lib_b; /* A/B: also run the mmvec methods against this */
};

bool method_selected(const struct opts *o, const struct method *m);

/* Everything measured for one method in one workload at one size. */
struct series {
	enum workload w;
	const struct method *m;
	bool alt;        /* run against --ab's library */
	char label[64];  /* the method, with "@B" on the B side */
	size_t n;
	struct row *runs; /* reps of them: time fields merged with lat fields */
	struct row sys;   /* syscall counts, from one strace run */
	uint64_t (**ev)[2]; /* per run: slow operations (index, ticks) */
	size_t *nev;        /* per run: how many; (size_t)-1: no data */
	struct row med, lo, hi;
};

/* run.c: running workers, one workload at one size at a time */
extern char strace_path[];
extern double tick_per_ns;
extern unsigned workers_failed; /* runs that failed or returned wrong data */

bool run_init(void);

/* mt.c: the mt workload at n elements, run and reported */
void mt_run(const struct opts *o, size_t n);
void run_group(const struct opts *o, enum workload w, size_t n);

/* stats.c: medians, ranges, and the series measured so far */
void row_clear(struct row *r);
void summarise(struct series *s, unsigned reps);
void keep_series(const struct series *ss, size_t count);
const struct series *find_series(enum workload w, const char *label, size_t n);
void paired_ratio(const struct series *a, const struct series *b, int f,
		  unsigned reps, double *lo, double *hi);

/* report.c: the tables and the CSV file */
void print_table(const struct series *ss, size_t count, enum workload w,
		 size_t n, const struct opts *o);
bool csv_open(const char *path);
void csv_series(const struct series *s, unsigned reps);
void print_latency_table(const struct series *ss, size_t count,
			 enum workload w, size_t n, const struct opts *o);
void csv_close(void);

/* targets.c, plot.c */
void print_targets(const struct opts *o);
void plot(const struct opts *o);

#endif /* !__cplusplus */
#endif /* MMVEC_BENCH_H */
