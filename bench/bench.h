/*
 * SPDX-License-Identifier: MIT
 *
 * What the benchmark driver (mmvec-bench.c, C) shares with the std::vector
 * methods (stdvec.cpp, C++): the job a method runs, and the per-operation
 * latency clock and histogram. Everything here is plain C that also compiles
 * as C++.
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
	unsigned cycles;        /* grow-shrink workload: cycles */
	long (*rss)(void);      /* resident bytes of this process */

	/* out */
	const int64_t *data;    /* the result, element i == i */
	size_t len;
	double returned_bytes;  /* grow-shrink: resident bytes given back */
	double freed_bytes;     /* grow-shrink: payload bytes dropped */
	double steady_ns;       /* steady state: ns per element, CPU time */
	double steady_wall_ns;  /* and wall time, both timed inside */
	void *keep;             /* freed by the method's free function */
};

/* floor.c, a shared library of its own: the cheapest push through a PLT. */
struct bench_floor_vec {
	int64_t *data;
	size_t len, cap;
};

void *bench_floor_push(struct bench_floor_vec *v, const void *elem);

#ifdef __cplusplus
}
#endif

#endif /* MMVEC_BENCH_H */
