/*
 * SPDX-License-Identifier: MIT
 *
 * The table of targets printed by --target: each target's goal, what was
 * measured at the first N, and the verdict.
 */
#define _GNU_SOURCE

#include <math.h>
#include <string.h>

#include "bench.h"

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

/* Peak RSS of each seq method: at most the payload and 8 MiB. */
static void rss_targets(size_t n)
{
	static const char *const ms[] = { "mmvec_push", "mmvec_extend",
					  "mmvec_append" };
	double limit = (double)n * 8 / 1024 + 8192;

	for (size_t i = 0; i < sizeof(ms) / sizeof(ms[0]); i++) {
		const struct series *s = find_series(W_SEQ, ms[i], n);
		double x = s ? s->med.f[F_MAXRSS_KIB] : NAN;
		char what[64], goal[48], detail[96];

		snprintf(what, sizeof(what), "%s peak RSS (ru_maxrss)", ms[i]);
		snprintf(goal, sizeof(goal), "<= %.1f MiB", limit / 1024);
		snprintf(detail, sizeof(detail), "%.1f MiB (max %.1f) = payload%+.1f",
			 x / 1024, s ? s->hi.f[F_MAXRSS_KIB] / 1024 : NAN,
			 (x - (double)n * 8 / 1024) / 1024);
		verdict(what, goal, x, x <= limit, detail);
	}
}

/* Steady-state ns per element of one method: "median (runs min..max; wall)". */
static double steady_detail(char *buf, size_t size, const char *method,
			    size_t n)
{
	const struct series *s = find_series(W_STEADY, method, n);

	if (!s) {
		snprintf(buf, size, "not measured");
		return NAN;
	}
	snprintf(buf, size, "%.2f ns (runs %.2f..%.2f; wall %.2f)",
		 s->med.f[F_STEADY_NS], s->lo.f[F_STEADY_NS],
		 s->hi.f[F_STEADY_NS], s->med.f[F_STEADY_WALL_NS]);
	return s->med.f[F_STEADY_NS];
}

static void steady_targets(size_t n)
{
	static const char *const refs[] = { "floor_push", "realloc_push",
					    "stdvec_push" };
	static const char *const what[] = {
		"  floor: minimal push through a PLT call",
		"  realloc vector, push inlined",
		"  std::vector push_back, inlined",
	};
	char detail[96];
	double x;

	x = steady_detail(detail, sizeof(detail), "mmvec_push", n);
	verdict("steady-state mmvec_push (shared library)", "<= 2.50 ns/elem", x,
		x <= 2.5, detail);
	for (size_t i = 0; i < sizeof(refs) / sizeof(refs[0]); i++)
		if (find_series(W_STEADY, refs[i], n)) {
			steady_detail(detail, sizeof(detail), refs[i], n);
			verdict(what[i], "(information)", 0, true, detail);
		}
}

void print_targets(const struct opts *o)
{
	size_t n = o->ns[0];
	const struct series *s;
	char detail[96];
	double x;

	printf("\n== Targets at N = %zu, medians of %u interleaved runs\n",
	       n, o->reps);
	printf("%-46s %-16s %-46s %s\n", "target", "goal", "measured", "verdict");
	ratio_target("mmvec_push time / std::vector push_back", "<= 0.333",
		     W_SEQ, "mmvec_push", "stdvec_push", n, F_WALL_S, 1.0 / 3, o->reps);
	ratio_target("mmvec_push time / realloc-doubling push", "<= 0.750",
		     W_SEQ, "mmvec_push", "realloc_push", n, F_WALL_S, 0.75, o->reps);
	ratio_target("mmvec_extend fill / raw huge-page fill", "<= 1.500",
		     W_SEQ, "mmvec_extend", "raw_huge_fill", n, F_WALL_S, 1.5, o->reps);
	rss_targets(n);
	ratio_target("worst mmvec_push / worst push_back (wall)", "<= 0.050",
		     W_SEQ, "mmvec_push", "stdvec_push", n, F_LAT_MAX_NS, 0.05,
		     o->reps);
	ratio_target("  the same, slow in every run (no host stalls)", "<= 0.050",
		     W_SEQ, "mmvec_push", "stdvec_push", n, F_LAT_WORST_ALL_NS, 0.05,
		     o->reps);
	steady_targets(n);
	s = find_series(W_GROWSHRINK, "mmvec_shrink", o->gs_size);
	x = s ? s->med.f[F_RETURNED_PCT] : NAN;
	snprintf(detail, sizeof(detail), "%.1f %% (runs %.1f..%.1f)", x,
		 s ? s->lo.f[F_RETURNED_PCT] : NAN, s ? s->hi.f[F_RETURNED_PCT] : NAN);
	verdict("grow-shrink: freed pages given back", ">= 90 %", x, x >= 90, detail);
	printf("%d target(s) missed\n", verdicts_failed);
}
