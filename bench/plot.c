/*
 * SPDX-License-Identifier: MIT
 *
 * --plot: the seq workload's total time and worst single append against N,
 * one line per method, drawn by gnuplot from a data file next to the image;
 * and beside it (FILE.png.latency.png) the distribution of one append's
 * latency at the largest N: the percentiles against how rare they are.
 */
#define _GNU_SOURCE

#include <limits.h>
#include <math.h>
#include <stdlib.h>

#include "bench.h"

/* N, then each method's median time in ms and worst append in us. */
static bool write_data(const char *path, const struct opts *o,
		       const struct method **ms, size_t count)
{
	FILE *dat = fopen(path, "we");

	if (!dat)
		return false;
	fprintf(dat, "# N");
	for (size_t k = 0; k < count; k++)
		fprintf(dat, " %s_ms %s_worst_us", ms[k]->name, ms[k]->name);
	fprintf(dat, "\n");
	for (size_t i = 0; i < o->nns; i++) {
		fprintf(dat, "%zu", o->ns[i]);
		for (size_t k = 0; k < count; k++) {
			const struct series *s = find_series(W_SEQ, ms[k]->name, o->ns[i]);
			double t = s ? s->med.f[F_WALL_S] * 1e3 : NAN;
			double l = s ? s->med.f[F_LAT_WORST_ALL_NS] / 1e3 : NAN;
			fprintf(dat, isnan(t) ? " NaN" : " %g", t);
			fprintf(dat, isnan(l) ? " NaN" : " %g", l);
		}
		fprintf(dat, "\n");
	}
	fclose(dat);
	return true;
}

/* The two plots, given the seq methods ms[0..count). */
static void draw(const char *gnuplot, const char *datname, const struct opts *o,
		 const struct method **ms, size_t count)
{
	bool first = true;
	FILE *gp = popen(gnuplot, "w");

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
			k ? ", " : "", datname, 2 + 2 * k, ms[k]->name);
	fprintf(gp, "\nset title 'seq: worst single append (slow in every run)'\n");
	fprintf(gp, "set ylabel 'us'\nplot ");
	for (size_t k = 0; k < count; k++) {
		if (!(ms[k]->flags & M_LAT))
			continue;
		fprintf(gp, "%s'%s' using 1:%zu with linespoints title '%s'",
			first ? "" : ", ", datname, 3 + 2 * k, ms[k]->name);
		first = false;
	}
	fprintf(gp, "\nunset multiplot\n");
	if (pclose(gp) == 0)
		printf("\nplot: %s (data %s)\n", o->plot, datname);
}

/* The latency distribution at the largest N: per percentile (x: "nines",
 * -log10(1 - q); the maximum at log10(N)), each method's least and median
 * over the runs. */
static const struct {
	const char *label;
	int f;
	double q;
} pcts[] = {
	{ "p50", F_LAT_P50_NS, 0.5 },       { "p99", F_LAT_P99_NS, 0.99 },
	{ "p99.9", F_LAT_P999_NS, 0.999 }, { "p99.99", F_LAT_P9999_NS, 0.9999 },
	{ "max", F_LAT_MAX_NS, 1 },
};

static void plot_latency(const char *gnuplot, const struct opts *o,
			 const struct method **ms, size_t count)
{
	char dat[PATH_MAX], png[PATH_MAX];
	size_t n = o->ns[o->nns - 1];
	size_t npct = sizeof(pcts) / sizeof(pcts[0]);
	bool first = true;
	FILE *f, *gp;

	snprintf(dat, sizeof(dat), "%s.latency.dat", o->plot);
	snprintf(png, sizeof(png), "%s.latency.png", o->plot);
	f = fopen(dat, "we");
	if (!f)
		return;
	fprintf(f, "# nines label, then per method: min median (ns)\n");
	for (size_t p = 0; p < npct; p++) {
		double x = pcts[p].q < 1 ? -log10(1 - pcts[p].q) : log10((double)n);

		fprintf(f, "%g %s", x, pcts[p].label);
		for (size_t k = 0; k < count; k++) {
			const struct series *s = find_series(W_SEQ, ms[k]->name, n);
			double lo = s ? s->lo.f[pcts[p].f] : NAN;
			double med = s ? s->med.f[pcts[p].f] : NAN;

			fprintf(f, isnan(lo) ? " NaN" : " %g", lo);
			fprintf(f, isnan(med) ? " NaN" : " %g", med);
		}
		fprintf(f, "\n");
	}
	fclose(f);
	gp = popen(gnuplot, "w");
	if (!gp)
		return;
	fprintf(gp, "set terminal png size 900,600\nset termoption noenhanced\n");
	fprintf(gp, "set output '%s'\nset datafile missing 'NaN'\n", png);
	fprintf(gp, "set logscale y\nset grid\nset key top left\n");
	fprintf(gp, "set title 'seq, N = %zu: one append (least of the runs; "
		    "dashed: median)'\n", n);
	fprintf(gp, "set xlabel 'percentile'\nset ylabel 'ns'\n");
	fprintf(gp, "plot ");
	for (size_t k = 0; k < count; k++) {
		if (!(ms[k]->flags & M_LAT) || !find_series(W_SEQ, ms[k]->name, n))
			continue;
		fprintf(gp, "%s'%s' using 1:%zu:xtic(2) with linespoints lc %zu "
			    "title '%s', '%s' using 1:%zu with lines dt 2 lc %zu "
			    "notitle",
			first ? "" : ", ", dat, 3 + 2 * k, k + 1, ms[k]->name,
			dat, 4 + 2 * k, k + 1);
		first = false;
	}
	fprintf(gp, "\n");
	if (pclose(gp) == 0)
		printf("plot: %s (data %s)\n", png, dat);
}

void plot(const struct opts *o)
{
	char gnuplot[PATH_MAX], datname[PATH_MAX];
	const struct method **ms = xcalloc(nmethods, sizeof(*ms));
	size_t count = 0;

	if (!find_in_path("gnuplot", gnuplot, sizeof(gnuplot))) {
		fprintf(stderr, "mmvec-bench: gnuplot not found, no plot\n");
		free(ms);
		return;
	}
	for (size_t i = 0; i < nmethods; i++)
		if ((methods[i].workloads & W_BIT(W_SEQ)) && method_selected(o, &methods[i]))
			ms[count++] = &methods[i];
	snprintf(datname, sizeof(datname), "%s.dat", o->plot);
	if (write_data(datname, o, ms, count))
		draw(gnuplot, datname, o, ms, count);
	if (o->latency)
		plot_latency(gnuplot, o, ms, count);
	free(ms);
}
