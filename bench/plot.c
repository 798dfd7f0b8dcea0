/*
 * SPDX-License-Identifier: MIT
 *
 * --plot: the seq workload's total time and worst single append against N,
 * one line per method, drawn by gnuplot from a data file next to the image.
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
	free(ms);
}
