/*
 * SPDX-License-Identifier: MIT
 *
 * What mmvec-bench prints of a workload: its table (median [min..max] of
 * the interleaved runs), and every run and summary as CSV rows.
 */
#define _GNU_SOURCE

#include <math.h>

#include "bench.h"

static const char *const field_names[F_COUNT] = {
	"wall_s", "user_s", "sys_s", "cpu_s", "ns_per_elem", "minflt", "majflt",
	"maxrss_kib", "vmhwm_kib", "base_rss_kib", "page_tables_kib",
	"preemptions",
	"lat_max_ns", "lat_max_oncpu_ns", "lat_worst_in_all_runs_ns",
	"lat_preempted_ops",
	"lat_p999_ns", "lat_p50_ns", "lat_p99_ns", "lat_p9999_ns",
	"returned_pct", "steady_cpu_ns_per_elem", "steady_wall_ns_per_elem",
	"mmap", "munmap", "mprotect", "madvise", "mremap", "brk", "syscalls",
};

/* ---------------------------------------------------------------------------
 * The table
 * ------------------------------------------------------------------------- */

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

#define ROW_FORMAT "%-21s %-24s %8s %8s %8s %9s %9s %5s %5s %5s %5s %5s %5s %6s %-26s %8s %9s %8s\n"

/* The last column: what only this workload measures. */
static const char *extra_title(enum workload w)
{
	switch (w) {
	case W_GROWSHRINK: return "ret %";
	case W_STEADY: return "cpu ns (wall)";
	case W_SMALL: return "PT MiB";
	case W_LIFECYCLE: return "cpu ns/loop [min] (wall)";
	default: return "";
	}
}

static void fmt_extra(char *buf, size_t size, const struct series *s,
		      enum workload w)
{
	if (w == W_GROWSHRINK)
		fmt_num(buf, size, s->med.f[F_RETURNED_PCT], 1);
	else if (w == W_STEADY)
		snprintf(buf, size, "%.2f (%.2f)", s->med.f[F_STEADY_NS],
			 s->med.f[F_STEADY_WALL_NS]);
	else if (w == W_SMALL)
		fmt_num(buf, size, s->med.f[F_PTE_KIB] / 1024, 1);
	else if (w == W_LIFECYCLE)
		snprintf(buf, size, "%.1f [%.1f] (%.1f)", s->med.f[F_STEADY_NS],
			 s->lo.f[F_STEADY_NS], s->med.f[F_STEADY_WALL_NS]);
	else
		buf[0] = '\0';
}

static void print_heading(enum workload w, size_t n, const struct opts *o)
{
	printf("\n== %s: %s\n", workload_names[w], workload_titles[w]);
	if (w == W_GROWSHRINK)
		printf("   S = %zu int64 (%.1f MiB), %u cycles", n,
		       (double)n * 8 / MIB, o->gs_cycles);
	else if (w == W_SMALL)
		printf("   %zu vectors x %zu int64 (%.1f MiB)", o->small_nvec,
		       o->small_per, (double)o->small_nvec * (double)o->small_per * 8 / MIB);
	else if (w == W_LIFECYCLE)
		printf("   k = %zu int64 per vector, %zu loops per thread after "
		       "a warm-up, %zu thread%s", n, o->life_loops,
		       o->life_threads_now, o->life_threads_now > 1 ? "s" : "");
	else
		printf("   N = %zu int64 (payload %.1f MiB)", n, (double)n * 8 / MIB);
	printf(", %u interleaved runs: median [min..max]\n", o->reps);
	printf(ROW_FORMAT,
	       "method", "wall ms", "user ms", "sys ms",
	       w == W_LIFECYCLE ? "ns/loop" : "ns/elem", "RSS MiB",
	       "faults", "mmap", "munmp", "mprot", "madv", "mrmap", "brk",
	       "sysc", "worst op us (wall)", "all-run", "p99.9 ns",
	       extra_title(w));
}

void print_table(const struct series *ss, size_t count, enum workload w,
		 size_t n, const struct opts *o)
{
	static const int sf[7] = { F_MMAP, F_MUNMAP, F_MPROTECT,
				   F_MADVISE, F_MREMAP, F_BRK, F_SYSCALLS };
	char wall[128], lat[128], a[32], b[32], c[32], d[32], e[32], x[64];
	char oncpu[32], p999[32], sys[7][8];

	print_heading(w, n, o);
	for (size_t i = 0; i < count; i++) {
		const struct series *s = &ss[i];

		fmt_range(wall, sizeof(wall), s, F_WALL_S, 1e3, 1);
		fmt_range(lat, sizeof(lat), s, F_LAT_MAX_NS, 1e-3, 1);
		fmt_num(a, sizeof(a), s->med.f[F_USER_S] * 1e3, 0);
		fmt_num(b, sizeof(b), s->med.f[F_SYS_S] * 1e3, 0);
		fmt_num(c, sizeof(c), s->med.f[F_NS_ELEM], 2);
		fmt_num(d, sizeof(d), s->med.f[F_MAXRSS_KIB] / 1024, 1);
		fmt_num(e, sizeof(e), s->med.f[F_MINFLT] + s->med.f[F_MAJFLT], 0);
		for (int k = 0; k < 7; k++)
			fmt_num(sys[k], sizeof(sys[k]), s->sys.f[sf[k]], 0);
		fmt_extra(x, sizeof(x), s, w);
		fmt_num(oncpu, sizeof(oncpu), s->med.f[F_LAT_WORST_ALL_NS] / 1e3, 1);
		fmt_num(p999, sizeof(p999), s->med.f[F_LAT_P999_NS], 0);
		printf(ROW_FORMAT,
		       s->label, wall, a, b, c, d, e, sys[0], sys[1], sys[2],
		       sys[3], sys[4], sys[5], sys[6], lat, oncpu, p999, x);
	}
	fflush(stdout);
}

/* The per-append latency percentiles of the methods timed one operation at
 * a time: the least of the runs (what the method costs when the machine
 * leaves it alone) and the median. "on-CPU max" leaves out operations
 * during which the thread waited in the run queue (schedstat): what the
 * method itself took; "preempted" counts those operations. */
void print_latency_table(const struct series *ss, size_t count,
			 enum workload w, size_t n, const struct opts *o)
{
	static const int pf[] = { F_LAT_P50_NS, F_LAT_P99_NS, F_LAT_P999_NS,
				  F_LAT_P9999_NS, F_LAT_MAX_NS,
				  F_LAT_MAX_ONCPU_NS };

	printf("\n%s, N = %zu: latency of one operation, ns: "
	       "min / median of %u runs\n", workload_names[w], n, o->reps);
	printf("%-26s %15s %15s %15s %15s %19s %19s %11s\n", "method", "p50",
	       "p99", "p99.9", "p99.99", "max", "on-CPU max", "preempted");
	for (size_t i = 0; i < count; i++) {
		const struct series *s = &ss[i];
		char cell[6][48], pre[24];

		if (!(s->m->flags & M_LAT) || isnan(s->med.f[F_LAT_P50_NS]))
			continue;
		for (size_t k = 0; k < 6; k++)
			snprintf(cell[k], sizeof(cell[k]), "%.0f / %.0f",
				 s->lo.f[pf[k]], s->med.f[pf[k]]);
		snprintf(pre, sizeof(pre), "%.0f", s->med.f[F_LAT_PREEMPTED]);
		printf("%-26s %15s %15s %15s %15s %19s %19s %11s\n", s->label,
		       cell[0], cell[1], cell[2], cell[3], cell[4], cell[5],
		       pre);
	}
	fflush(stdout);
}

/* ---------------------------------------------------------------------------
 * CSV: a row per run, then the median, min and max
 * ------------------------------------------------------------------------- */

static FILE *csv_file;

bool csv_open(const char *path)
{
	csv_file = fopen(path, "we");
	if (!csv_file)
		return false;
	fprintf(csv_file, "workload,method,n,run");
	for (int f = 0; f < F_COUNT; f++)
		fprintf(csv_file, ",%s", field_names[f]);
	fprintf(csv_file, "\n");
	return true;
}

void csv_close(void)
{
	if (csv_file)
		fclose(csv_file);
	csv_file = NULL;
}

static void csv_row(const struct series *s, const char *run, const struct row *r)
{
	fprintf(csv_file, "%s,%s,%zu,%s", workload_names[s->w], s->label,
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

void csv_series(const struct series *s, unsigned reps)
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
