/*
 * SPDX-License-Identifier: MIT
 *
 * The worker: a process of its own that runs one method of one workload
 * once, checks the result, and prints "RESULT" and the fields of its row on
 * stdout for the driver (run.c). Its peak RSS, faults and CPU time are the
 * method's own.
 */
#define _GNU_SOURCE

#include <fcntl.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "bench.h"

/* ---------------------------------------------------------------------------
 * Latency: the histogram's percentiles, and preemption seen in schedstat
 * ------------------------------------------------------------------------- */

/* Nanoseconds this thread has waited on a run queue (schedstat field 2). */
static uint64_t run_delay_ns(int fd)
{
	return proc_field2(fd);
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

static struct bench_lat *lat_new(double tick_ns)
{
	struct bench_lat *lat = xcalloc(1, sizeof(*lat));

	/* operations over 20 us are checked for preemption */
	lat->tick_per_ns = tick_ns;
	lat->slow = (uint64_t)(20000 * tick_ns);
	lat->schedstat_fd = open("/proc/thread-self/schedstat",
				 O_RDONLY | O_CLOEXEC);
	lat->run_delay_ns = run_delay_ns(lat->schedstat_fd);
	lat->max_events = (size_t)1 << 20;
	lat->events = xcalloc(lat->max_events, sizeof(*lat->events));
	/* touched now, not in the timed run */
	memset(lat->events, 0, lat->max_events * sizeof(*lat->events));
	return lat;
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

/* The slow operations, for the driver to find those slow in every run. */
static void write_events(const struct bench_lat *lat)
{
	const char *path = getenv("MMVEC_BENCH_EVENTS");
	FILE *ef;

	if (!path)
		return;
	ef = fopen(path, "we");
	if (ef) {
		fwrite(lat->events, sizeof(*lat->events), lat->nevents, ef);
		fclose(ef);
	}
}

/* ---------------------------------------------------------------------------
 * The worker
 * ------------------------------------------------------------------------- */

/* A system call strace shows with a recognisable argument; it fails
 * harmlessly. */
static void strace_marker(const char *what)
{
	char path[64];

	snprintf(path, sizeof(path), "/mmvec-bench-marker/%s", what);
	(void)access(path, F_OK);
}

static double tv_sec(struct timeval tv)
{
	return (double)tv.tv_sec + (double)tv.tv_usec / 1e6;
}

static void job_free(const struct method *m, struct bench_job *job)
{
	m->kept->release(job);
	if (job->lat) {
		if (job->lat->schedstat_fd >= 0)
			close(job->lat->schedstat_fd);
		free(job->lat->events);
		free(job->lat);
	}
	free(job->stage);
	free((void *)job->sizes);
}

/* The result: the method's own check, or element i == i and the length. */
static int check(const struct method *m, struct bench_job *job, size_t len)
{
	if (m->kept->check)
		return m->kept->check(job);
	if (job->len != len)
		return -1;
	for (size_t i = 0; i < job->len; i++)
		if (job->data[i] != (int64_t)i)
			return -1;
	return 0;
}

int worker(int argc, char **argv)
{
	const struct method *m;
	enum workload w;
	struct bench_job job;
	struct rusage r0, r1;
	struct row res;
	size_t n, largest = CHUNK_ELEMS;
	enum mode mode;
	double tick_ns, t0, t1, elems;
	unsigned long long seed;
	int rc;

	/* WORKLOAD METHOD N MODE TICKS_PER_NS CYCLES NVEC PER SEED */
	if (argc != 9) {
		fprintf(stderr, "mmvec-bench: bad --worker arguments\n");
		return 2;
	}
	rc = find_workload(argv[0]);
	w = (enum workload)rc;
	m = rc < 0 ? NULL : find_method(w, argv[1]);
	if (!m || !parse_count(argv[2], &n)) {
		fprintf(stderr, "mmvec-bench: unknown method %s %s\n", argv[0], argv[1]);
		return 2;
	}
	mode = strcmp(argv[3], "lat") == 0 ? MODE_LAT :
	       strcmp(argv[3], "sys") == 0 ? MODE_SYS : MODE_TIME;
	tick_ns = strtod(argv[4], NULL);

	memset(&job, 0, sizeof(job));
	job.n = n;
	job.cycles = (unsigned)strtoul(argv[5], NULL, 10);
	if (mode == MODE_SYS && (m->flags & M_MARKS))
		job.mark = strace_marker;
	job.nvec = strtoull(argv[6], NULL, 10);
	job.per = strtoull(argv[7], NULL, 10);
	seed = strtoull(argv[8], NULL, 10);
	job.rss = rss_bytes;
	if (w == W_SEQ || w == W_CHUNK || w == W_RANDOM) {
		job.sizes = make_sizes(w == W_RANDOM ? W_RANDOM : W_CHUNK,
				       n, seed, &job.nsizes, &largest);
	}
	/* staged and touched before the clock starts */
	job.stage = xcalloc(largest, sizeof(int64_t));
	fill(job.stage, largest, -1);
	if (mode == MODE_LAT && (m->flags & M_LAT))
		job.lat = lat_new(tick_ns);
	(void)rss_bytes(); /* opens /proc/self/statm */

	row_clear(&res);
	res.f[F_BASE_KIB] = (double)rss_bytes() / 1024.0;
	if (mode == MODE_SYS && !job.mark)
		strace_marker("begin");
	getrusage(RUSAGE_SELF, &r0);
	t0 = now();
	rc = m->run(&job);
	t1 = now();
	getrusage(RUSAGE_SELF, &r1);
	if (mode == MODE_SYS && !job.mark)
		strace_marker("end");
	if (rc) {
		job_free(m, &job);
		return 1;
	}

	/* check the result, untimed */
	if (check(m, &job, w == W_GROWSHRINK ? n / 8 : n)) {
		fprintf(stderr, "mmvec-bench: %s %s: wrong contents\n",
			argv[0], argv[1]);
		job_free(m, &job);
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
	/* elements appended in all */
	elems = (double)n;
	if (w == W_GROWSHRINK)
		elems = (double)n + (double)(job.cycles - 1) * (double)(n - n / 8);
	else if (w == W_SMALL)
		elems = (double)job.nvec * (double)job.per;
	res.f[F_NS_ELEM] = (t1 - t0) * 1e9 / elems;
	if (w == W_LIFECYCLE) {
		/* ns per loop, the timed loops alone */
		res.f[F_NS_ELEM] = job.steady_wall_ns;
		res.f[F_STEADY_NS] = job.steady_ns;
		res.f[F_STEADY_WALL_NS] = job.steady_wall_ns;
	}
	if (w == W_STEADY) {
		res.f[F_STEADY_NS] = job.steady_ns;
		res.f[F_STEADY_WALL_NS] = job.steady_wall_ns;
	}
	if (w == W_GROWSHRINK && job.freed_bytes > 0)
		res.f[F_RETURNED_PCT] = 100.0 * job.returned_bytes / job.freed_bytes;
	if (job.lat) {
		res.f[F_LAT_MAX_NS] = (double)job.lat->max / tick_ns;
		res.f[F_LAT_MAX_ONCPU_NS] = (double)job.lat->max_oncpu / tick_ns;
		res.f[F_LAT_PREEMPTED] = (double)job.lat->preempted;
		res.f[F_LAT_P999_NS] = lat_percentile(job.lat, 0.999, tick_ns);
		res.f[F_LAT_P50_NS] = lat_percentile(job.lat, 0.5, tick_ns);
		res.f[F_LAT_P99_NS] = lat_percentile(job.lat, 0.99, tick_ns);
		res.f[F_LAT_P9999_NS] = lat_percentile(job.lat, 0.9999,
						       tick_ns);
		write_events(job.lat);
	}

	printf("RESULT");
	for (int i = 0; i < F_COUNT; i++)
		printf(" %.17g", res.f[i]);
	printf("\n");
	fflush(stdout);
	job_free(m, &job);
	return 0;
}
