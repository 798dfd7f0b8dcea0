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
 *   - counted, once, under strace: every system call, and mmap, munmap,
 *     mprotect, madvise, mremap and brk on their own, between two marker
 *     system calls around the method (around each thread's timed loops in
 *     the lifecycle workload).
 * Between runs a keeper process holds a warm pool of memory, so that every
 * worker starts from memory the hypervisor already backs.
 * See --help for the workloads and options.
 *
 * The parts, each a file:
 *   mmvec-bench.c    options and main
 *   workloads.c      the workloads and the methods each runs
 *   methods-mmvec.c  the libmmvec methods
 *   methods-ref.c    the C methods libmmvec is measured against
 *   stdvec.cpp       the std::vector methods
 *   floor.c          a minimal push in a shared library of its own
 *   worker.c         the worker process: one method, one run
 *   run.c            the driver: workers, interleaved, one workload at a time
 *   keeper.c         the warm pool
 *   stats.c          medians and ranges over the runs
 *   report.c         the tables and the CSV file
 *   targets.c        the table of targets (--target)
 *   plot.c           the plot (--plot)
 *   util.c           allocation, counts, /proc
 *   lifecycle.c      the lifecycle workload's threads and clocks
 *   mt.c             the mt workload: many producers, in this process
 */
#define _GNU_SOURCE

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <mmvec.h>

#include "bench.h"

/* ---------------------------------------------------------------------------
 * Options
 * ------------------------------------------------------------------------- */

/* "  seq         a, b, c", wrapped at 80 columns. */
static void print_methods(FILE *f, enum workload w)
{
	int col = fprintf(f, "  %-11s", workload_names[w]);
	bool first = true;

	for (size_t i = 0; i < nmethods; i++) {
		const struct method *m = &methods[i];
		int len = (int)strlen(m->name) + (m->flags & M_OPTIONAL ? 1 : 0);

		if (!(m->workloads & W_BIT(w)))
			continue;
		if (!first)
			col += fprintf(f, ",");
		if (col + 1 + len > 79)
			col = fprintf(f, "\n  %-11s", "") - 1;
		col += fprintf(f, " %s%s", m->name, m->flags & M_OPTIONAL ? "*" : "");
		first = false;
	}
	fprintf(f, "\n");
}

static void usage(FILE *f)
{
	fprintf(f,
"usage: mmvec-bench [--target | --full] [options]\n"
"\n"
"Compares libmmvec with a realloc-doubling C vector, std::vector<int64_t>\n"
"and fresh memory filled in place, each method in its own process.\n"
"\n"
"  --target          the performance targets: N=5e7, 5 interleaved runs, every\n"
"                    workload, then the table of targets and verdicts\n"
"  --full            N=1e6,1e7,1e8, 5 runs (add 1e9 with --n)\n"
"  -n, --n LIST      element counts, e.g. 1e6,1e7,5e7 (default 1e6,1e7)\n"
"  -r, --reps R      interleaved runs per method (default 3)\n"
"  -w, --workloads LIST  of seq,chunk,random,growshrink,small,steady,lifecycle\n"
"                    (default all)\n"
"  -m, --methods LIST    only these methods, e.g. mmvec_push,stdvec_push; also\n"
"                    the optional seq methods mmvec_push_nohuge (MMVEC_NO_HUGEPAGES),\n"
"                    mmvec_push_huge (MMVEC_HUGEPAGES), mmvec_push_populate\n"
"                    (MMVEC_POPULATE), mmvec_push_val_pretouch (MMVEC_PRETOUCH)\n"
"  --gs-size S       grow-shrink size (default 1e6; 2e6 with --target)\n"
"  --gs-cycles C     grow-shrink cycles (default 100)\n"
"  --small V,E       many-small: V vectors of E elements (default 3000,1000;\n"
"                    about 4,000 default reservations fit in 128 TiB)\n"
"  --life LIST       lifecycle: elements per vector (default 1,16,1000)\n"
"  --life-threads LIST  lifecycle: threads at once (default 1,4)\n"
"  --life-loops L    lifecycle: timed loops per thread (default 400000)\n"
"  --seed X          seed of the random chunk sizes (default 1)\n"
"  --csv FILE        write every run and the medians as CSV\n"
"  --plot FILE.png   plot seq time and worst latency against N (gnuplot)\n"
"  --ab DIR          A/B test a change to the library: every mmvec method also\n"
"                    runs (interleaved, as METHOD@B) with DIR/libmmvec.so.1,\n"
"                    which must be of this version or a later one\n"
"  --no-latency      skip the per-operation latency runs\n"
"  --no-syscalls     skip the strace runs that count mmap/mprotect/madvise\n"
"  --warm MIB        size of the warm pool held between runs (0: none;\n"
"                    default 2.5x each workload's payload, 64..8192 MiB)\n"
"  -h, --help\n"
"\n"
"Workloads:\n");
	for (int w = 0; w < W_COUNT; w++)
		fprintf(f, "  %-11s %s\n", workload_names[w], workload_titles[w]);
	fprintf(f, "\nMethods of each workload (* only with --methods):\n");
	for (int w = 0; w < W_MT; w++)
		print_methods(f, (enum workload)w);
	fprintf(f, "  %-11s mmvec_mp_push, mmvec_mp_claim64, mutex_realloc,\n"
		   "  %-11s mutex_mmvec_push (only with -w mt; all of them)\n",
		"mt", "");
	fprintf(f,
"mmvec_push_fast and mmvec_push_val are the inline appends of mmvec.h;\n"
"mmvec_claim claims, fills in place and publishes batches of 4096 elements\n"
"(one batch per chunk in chunk and random, per vector in small).\n"
"lifecycle's mmvec methods append with mmvec_push_val; mmvec_maxlen creates\n"
"with max_len 1024 (or k if more), mmvec_default with the default.\n");
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

/* -w: the workloads named in a list, and no others. */
static bool parse_workloads(const char *arg, bool on[W_COUNT])
{
	char **items, *storage;
	size_t k;
	bool ok = parse_list(arg, &items, &k, &storage);

	for (int w = 0; ok && w < W_COUNT; w++)
		on[w] = false;
	for (size_t j = 0; ok && j < k; j++) {
		int w = find_workload(items[j]);
		ok = w >= 0;
		if (ok)
			on[w] = true;
	}
	free(items);
	free(storage);
	return ok;
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

/* Parse the command line into *o; 0 to run, 1 after --help, -1 when it
 * is wrong. The method names point into *storage. */
static int parse_args(int argc, char **argv, struct opts *o, char **storage)
{
	bool full = false, gs_set = false, reps_set = false;

	memset(o, 0, sizeof(*o));
	o->reps = 3;
	o->gs_size = 1000000;
	o->gs_cycles = 100;
	o->small_nvec = 3000;
	o->small_per = 1000;
	o->life_loops = 400000;
	o->seed = 1;
	o->latency = true;
	o->syscalls = true;
	o->warm_mib = -1;
	/* mt only when named: threads in the driver's own process */
	for (int w = 0; w < W_COUNT; w++)
		o->workload_on[w] = w != W_MT;

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		const char *val = i + 1 < argc ? argv[i + 1] : NULL;
		bool ok = true;

		if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
			usage(stdout);
			return 1;
		} else if (strcmp(a, "--target") == 0) {
			o->target = true;
		} else if (strcmp(a, "--full") == 0) {
			full = true;
		} else if (strcmp(a, "--no-latency") == 0) {
			o->latency = false;
		} else if (strcmp(a, "--no-syscalls") == 0) {
			o->syscalls = false;
		} else if (!val) {
			ok = false;
		} else if (strcmp(a, "-n") == 0 || strcmp(a, "--n") == 0) {
			ok = parse_counts(val, &o->ns, &o->nns);
			i++;
		} else if (strcmp(a, "-r") == 0 || strcmp(a, "--reps") == 0) {
			o->reps = (unsigned)strtoul(val, NULL, 10);
			ok = o->reps >= 1 && o->reps <= 1000;
			reps_set = true;
			i++;
		} else if (strcmp(a, "-w") == 0 || strcmp(a, "--workloads") == 0) {
			ok = parse_workloads(val, o->workload_on);
			i++;
		} else if (strcmp(a, "-m") == 0 || strcmp(a, "--methods") == 0) {
			free(o->methods);
			free(*storage);
			ok = parse_list(val, &o->methods, &o->nmethods, storage);
			i++;
		} else if (strcmp(a, "--gs-size") == 0) {
			ok = parse_count(val, &o->gs_size) && o->gs_size >= 8;
			gs_set = true;
			i++;
		} else if (strcmp(a, "--gs-cycles") == 0) {
			o->gs_cycles = (unsigned)strtoul(val, NULL, 10);
			ok = o->gs_cycles >= 1;
			i++;
		} else if (strcmp(a, "--small") == 0) {
			ok = sscanf(val, "%zu,%zu", &o->small_nvec, &o->small_per) == 2 &&
			     o->small_nvec && o->small_per;
			i++;
		} else if (strcmp(a, "--life") == 0) {
			ok = parse_counts(val, &o->life_ks, &o->nlife_ks);
			i++;
		} else if (strcmp(a, "--life-threads") == 0) {
			ok = parse_counts(val, &o->life_threads,
					  &o->nlife_threads);
			i++;
		} else if (strcmp(a, "--life-loops") == 0) {
			ok = parse_count(val, &o->life_loops);
			i++;
		} else if (strcmp(a, "--seed") == 0) {
			o->seed = strtoull(val, NULL, 10);
			i++;
		} else if (strcmp(a, "--warm") == 0) {
			char *end;
			o->warm_mib = strtod(val, &end);
			ok = *end == '\0' && o->warm_mib >= 0;
			i++;
		} else if (strcmp(a, "--ab") == 0) {
			o->lib_b = val;
			i++;
		} else if (strcmp(a, "--csv") == 0) {
			o->csv = val;
			i++;
		} else if (strcmp(a, "--plot") == 0) {
			o->plot = val;
			i++;
		} else {
			ok = false;
		}
		if (!ok) {
			fprintf(stderr, "mmvec-bench: bad argument %s\n", a);
			usage(stderr);
			return -1;
		}
	}
	if (o->target) {
		if (!o->ns)
			parse_counts("5e7", &o->ns, &o->nns);
		if (!reps_set)
			o->reps = 5;
		if (!gs_set)
			o->gs_size = 2000000;
	} else if (full) {
		if (!o->ns)
			parse_counts("1e6,1e7,1e8", &o->ns, &o->nns);
		if (!reps_set)
			o->reps = 5;
	} else if (!o->ns) {
		parse_counts("1e6,1e7", &o->ns, &o->nns);
	}
	if (!o->life_ks)
		parse_counts("1,16,1000", &o->life_ks, &o->nlife_ks);
	if (!o->life_threads)
		parse_counts("1,4", &o->life_threads, &o->nlife_threads);
	return 0;
}

int main(int argc, char **argv)
{
	struct opts o;
	char *methods_storage = NULL;
	int rc;

	if (argc > 1 && strcmp(argv[1], "--worker") == 0)
		return worker(argc - 2, argv + 2);

	rc = parse_args(argc, argv, &o, &methods_storage);
	if (rc)
		return rc > 0 ? 0 : 2;
	if (!run_init()) {
		fprintf(stderr, "mmvec-bench: cannot find /proc/self/exe\n");
		return 2;
	}
	if (o.csv && !csv_open(o.csv)) {
		fprintf(stderr, "mmvec-bench: %s: %s\n", o.csv, strerror(errno));
		return 2;
	}

	print_machine();
	if (o.warm_mib < 0)
		printf("warm pool: 2.5x each workload's payload, held between runs\n");
	else
		printf("warm pool: %.0f MiB held between runs\n", o.warm_mib);
	fflush(stdout);
	if (o.warm_mib != 0)
		keeper_start();
	for (int w = 0; w < W_COUNT; w++) {
		if (!o.workload_on[w])
			continue;
		if (w == W_GROWSHRINK) {
			run_group(&o, W_GROWSHRINK, o.gs_size);
		} else if (w == W_SMALL) {
			run_group(&o, W_SMALL, o.small_nvec * o.small_per);
		} else if (w == W_MT) {
			for (size_t i = 0; i < o.nns; i++)
				mt_run(&o, o.ns[i]);
		} else if (w == W_LIFECYCLE) {
			for (size_t i = 0; i < o.nlife_ks; i++)
				for (size_t t = 0; t < o.nlife_threads; t++) {
					o.life_threads_now = o.life_threads[t];
					run_group(&o, W_LIFECYCLE, o.life_ks[i]);
				}
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
	csv_close();
	free(o.ns);
	free(o.life_ks);
	free(o.life_threads);
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
