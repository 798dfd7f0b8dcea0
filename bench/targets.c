/*
 * SPDX-License-Identifier: MIT
 *
 * The table of targets printed by --target: each target's goal, what was
 * measured at the first N, and the verdict. A ratio of two methods is given
 * three ways over the interleaved runs: the ratio of the medians (what the
 * verdict is on), the ratio of the minima (the runs least disturbed by the
 * machine), and the spread of the ratios run by run (each run pairs the two
 * methods in the same pass).
 */
#define _GNU_SOURCE

#include <math.h>
#include <string.h>

#include "bench.h"

enum kind {
	TARGET,  /* a goal: PASS or MISS, misses counted */
	STRETCH, /* a goal beyond the targets: met or not, not counted */
	INFO,    /* a figure to compare with */
};

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

static int verdicts_failed;

#define LINE_FORMAT "%-48s %-16s %-58s %s\n"

static void verdict(const char *what, enum kind kind, const char *goal,
		    double value, bool ok, const char *detail)
{
	const char *v = "";

	if (kind != INFO && isnan(value))
		v = "n/a";
	else if (kind == TARGET)
		v = ok ? "PASS" : "MISS";
	else if (kind == STRETCH)
		v = ok ? "met" : "not met";
	printf(LINE_FORMAT, what, kind == INFO ? "(information)" : goal,
	       detail, v);
	if (kind == TARGET && !isnan(value) && !ok)
		verdicts_failed++;
}

/* Method a against b in workload w, field f: the ratio of the medians at
 * most limit. */
struct ratio_row {
	const char *what;
	enum kind kind;
	double limit;
	enum workload w;
	const char *a, *b;
	enum field f;
};

static void ratio(const struct ratio_row *row, size_t n, unsigned reps)
{
	const struct series *a = find_series(row->w, row->a, n);
	const struct series *b = find_series(row->w, row->b, n);
	const int f = row->f;
	char goal[32], detail[96];
	double q = NAN, lo, hi;
	int len;

	snprintf(goal, sizeof(goal), "%s<= %.3f",
		 row->kind == STRETCH ? "stretch " : "", row->limit);
	if (!a || !b) {
		verdict(row->what, row->kind, goal, q, false, "not measured");
		return;
	}
	q = a->med.f[f] / b->med.f[f];
	paired_ratio(a, b, f, reps, &lo, &hi);
	if (isinf(lo)) {
		/* one figure over all runs: the worst operation slow in each */
		snprintf(detail, sizeof(detail), "%.4f (%.0f us / %.0f us)", q,
			 a->med.f[f] / 1e3, b->med.f[f] / 1e3);
	} else {
		len = snprintf(detail, sizeof(detail), "%.3f, min %.3f, runs %.3f..%.3f",
			       q, a->lo.f[f] / b->lo.f[f], lo, hi);
		if (f == F_WALL_S && len > 0 && (size_t)len < sizeof(detail))
			snprintf(detail + len, sizeof(detail) - (size_t)len,
				 "; cpu %.3f", a->med.f[F_CPU_S] / b->med.f[F_CPU_S]);
	}
	verdict(row->what, row->kind, goal, q, q <= row->limit, detail);
}

/* Peak RSS of the seq appends: at most the payload and 8 MiB. */
static void rss_targets(size_t n)
{
	static const char *const ms[] = { "mmvec_push", "mmvec_push_val",
					  "mmvec_claim", "mmvec_extend",
					  "mmvec_append" };
	double limit = (double)n * 8 / 1024 + 8192;

	for (size_t i = 0; i < COUNT(ms); i++) {
		const struct series *s = find_series(W_SEQ, ms[i], n);
		double x = s ? s->med.f[F_MAXRSS_KIB] : NAN;
		char what[64], goal[48], detail[96];

		snprintf(what, sizeof(what), "%s peak RSS (ru_maxrss)", ms[i]);
		snprintf(goal, sizeof(goal), "<= %.1f MiB", limit / 1024);
		snprintf(detail, sizeof(detail), "%.1f MiB (max %.1f) = payload%+.1f",
			 x / 1024, s ? s->hi.f[F_MAXRSS_KIB] / 1024 : NAN,
			 (x - (double)n * 8 / 1024) / 1024);
		verdict(what, TARGET, goal, x, x <= limit, detail);
	}
}

/* Steady-state ns per element: the median, the runs' range, and wall time. */
static void steady_ns(const char *what, enum kind kind, double limit,
		      const char *method, size_t n)
{
	const struct series *s = find_series(W_STEADY, method, n);
	char goal[32], detail[96];
	double x = NAN;

	snprintf(goal, sizeof(goal), "<= %.2f ns/elem", limit);
	if (s) {
		x = s->med.f[F_STEADY_NS];
		snprintf(detail, sizeof(detail), "%.2f ns (runs %.2f..%.2f; wall %.2f)",
			 x, s->lo.f[F_STEADY_NS], s->hi.f[F_STEADY_NS],
			 s->med.f[F_STEADY_WALL_NS]);
	} else if (kind == INFO) {
		return;
	} else {
		snprintf(detail, sizeof(detail), "not measured");
	}
	verdict(what, kind, goal, x, x <= limit, detail);
}

static void grow_shrink_target(size_t n)
{
	const struct series *s = find_series(W_GROWSHRINK, "mmvec_shrink", n);
	double x = s ? s->med.f[F_RETURNED_PCT] : NAN;
	char detail[96];

	snprintf(detail, sizeof(detail), "%.1f %% (runs %.1f..%.1f)", x,
		 s ? s->lo.f[F_RETURNED_PCT] : NAN, s ? s->hi.f[F_RETURNED_PCT] : NAN);
	verdict("grow-shrink: freed pages given back", TARGET, ">= 90 %", x,
		x >= 90, detail);
}

#define SEQ_WALL(a, b) W_SEQ, a, b, F_WALL_S
#define SEQ_WORST(a, b) W_SEQ, a, b, F_LAT_WORST_ALL_NS

static const struct ratio_row appends[] = {
	{ "mmvec_push_val / realloc-doubling push", TARGET, 0.6,
	  SEQ_WALL("mmvec_push_val", "realloc_push") },
	{ "mmvec_push_val / raw huge-page fill (floor)", TARGET, 2.0,
	  SEQ_WALL("mmvec_push_val", "raw_huge_fill") },
	{ "mmvec_push_val / std::vector push_back", TARGET, 0.25,
	  SEQ_WALL("mmvec_push_val", "stdvec_push") },
	{ "mmvec_push / std::vector push_back", TARGET, 1.0 / 3,
	  SEQ_WALL("mmvec_push", "stdvec_push") },
	{ "mmvec_push / realloc-doubling push", TARGET, 0.75,
	  SEQ_WALL("mmvec_push", "realloc_push") },
	{ "mmvec_extend fill / raw huge-page fill", TARGET, 1.5,
	  SEQ_WALL("mmvec_extend", "raw_huge_fill") },
	{ "mmvec_push_val / raw huge-page fill", STRETCH, 1.3,
	  SEQ_WALL("mmvec_push_val", "raw_huge_fill") },
	{ "  mmvec_push_fast / realloc-doubling push", INFO, 0,
	  SEQ_WALL("mmvec_push_fast", "realloc_push") },
	{ "  mmvec_claim fill / raw huge-page fill", INFO, 0,
	  SEQ_WALL("mmvec_claim", "raw_huge_fill") },
};

static const struct ratio_row worst[] = {
	{ "worst mmvec_push / worst push_back", TARGET, 0.05,
	  W_SEQ, "mmvec_push", "stdvec_push", F_LAT_MAX_NS },
	{ "  the same, slow in every run (no host stalls)", TARGET, 0.05,
	  SEQ_WORST("mmvec_push", "stdvec_push") },
	{ "  mmvec_push_val, slow in every run", INFO, 0,
	  SEQ_WORST("mmvec_push_val", "stdvec_push") },
};

static const struct ratio_row steady[] = {
	{ "mmvec_push_val / std::vector push_back", TARGET, 1.3,
	  W_STEADY, "mmvec_push_val", "stdvec_push", F_STEADY_NS },
	{ "mmvec_push_val / std::vector push_back", STRETCH, 1.0,
	  W_STEADY, "mmvec_push_val", "stdvec_push", F_STEADY_NS },
};

/* Steady-state figures to compare with (ns per element). */
static const struct {
	const char *what, *method;
} steady_info[] = {
	{ "  mmvec_push_val, inlined", "mmvec_push_val" },
	{ "  mmvec_push_fast, inlined", "mmvec_push_fast" },
	{ "  mmvec_claim, batches of 4096", "mmvec_claim" },
	{ "  floor: minimal push through a PLT call", "floor_push" },
	{ "  realloc vector, push inlined", "realloc_push" },
	{ "  std::vector push_back, inlined", "stdvec_push" },
};

/* lifecycle at k = 16: the minima of the runs (what the goals are on),
 * and the medians. */
static void life_ratio(const char *what, enum kind kind, const char *a_label,
		       const char *b_label, double limit)
{
	const struct series *a = find_series(W_LIFECYCLE, a_label, 16);
	const struct series *b = find_series(W_LIFECYCLE, b_label, 16);
	char goal[32], detail[96];
	double q = NAN;

	snprintf(goal, sizeof(goal), "<= %.2f (minima)", limit);
	if (!a || !b) {
		verdict(what, kind, goal, q, false, "not measured");
		return;
	}
	q = a->lo.f[F_STEADY_NS] / b->lo.f[F_STEADY_NS];
	snprintf(detail, sizeof(detail), "%.2f (%.1f / %.1f ns); medians %.2f",
		 q, a->lo.f[F_STEADY_NS], b->lo.f[F_STEADY_NS],
		 a->med.f[F_STEADY_NS] / b->med.f[F_STEADY_NS]);
	verdict(what, kind, goal, q, q <= limit, detail);
}

/* The system calls of a lifecycle method's timed loops (all threads). */
static void life_syscalls(const char *label, const struct opts *o)
{
	const struct series *s = find_series(W_LIFECYCLE, label, 16);
	double x = s ? s->sys.f[F_SYSCALLS] : NAN;
	char what[80], detail[96];

	snprintf(what, sizeof(what), "%s: system calls in the timed loops",
		 label);
	snprintf(detail, sizeof(detail), "%.0f in %zu loops per thread", x,
		 o->life_loops);
	verdict(what, TARGET, "<= 10", x, x <= 10 && o->life_loops >= 10000,
		detail);
}

static void life_targets(const struct opts *o)
{
	printf("-- create, 16 x mmvec_push_val, free (CPU ns per loop)\n");
	life_ratio("default reservation / realloc vector", TARGET,
		   "mmvec_default", "realloc", 3.0);
	life_ratio("max_len 1024 / realloc vector", TARGET, "mmvec_maxlen",
		   "realloc", 3.0);
	life_syscalls("mmvec_default", o);
	life_syscalls("mmvec_maxlen", o);
	life_ratio("4 threads / 1, default (slowest thread)", TARGET,
		   "mmvec_default x4", "mmvec_default", 2.0);
	life_ratio("4 threads / 1, max_len 1024 (slowest thread)", TARGET,
		   "mmvec_maxlen x4", "mmvec_maxlen", 2.0);
	life_ratio("  4 threads / 1, realloc vector", INFO, "realloc x4",
		   "realloc", 0);
	life_ratio("  4 threads / 1, std::vector", INFO, "stdvec x4",
		   "stdvec", 0);
	life_ratio("  std::vector / realloc vector", INFO, "stdvec",
		   "realloc", 0);
}

static void ratios(const struct ratio_row *rows, size_t count, size_t n,
		   unsigned reps)
{
	for (size_t i = 0; i < count; i++)
		ratio(&rows[i], n, reps);
}

void print_targets(const struct opts *o)
{
	const size_t n = o->ns[0];

	printf("\n== Targets at N = %zu, %u interleaved runs: ratio of the medians"
	       " (the verdict),\n   of the minima, and the range of the per-run"
	       " ratios\n", n, o->reps);
	printf(LINE_FORMAT, "target", "goal", "measured", "verdict");
	printf("-- append N int64 one at a time (wall time)\n");
	ratios(appends, COUNT(appends), n, o->reps);
	rss_targets(n);
	printf("-- worst single append (wall)\n");
	ratios(worst, COUNT(worst), n, o->reps);
	printf("-- steady state: memory committed, in cache (CPU time)\n");
	ratios(steady, COUNT(steady), n, o->reps);
	steady_ns("mmvec_push (shared library)", TARGET, 2.5, "mmvec_push", n);
	for (size_t i = 0; i < COUNT(steady_info); i++)
		steady_ns(steady_info[i].what, INFO, 0, steady_info[i].method, n);
	printf("-- giving memory back\n");
	grow_shrink_target(o->gs_size);
	if (o->workload_on[W_LIFECYCLE])
		life_targets(o);
	printf("%d target(s) missed\n", verdicts_failed);
}
