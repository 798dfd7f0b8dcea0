/*
 * SPDX-License-Identifier: MIT
 *
 * Running the workers: one workload at one size at a time, every method of
 * it interleaved. Each worker is this binary again, run with --worker (under
 * strace for the system call counts); its results come back as one line on
 * a pipe, its peak RSS from wait4().
 */
#define _GNU_SOURCE

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench.h"

char strace_path[PATH_MAX];
double tick_per_ns = 1.0;
unsigned workers_failed;

static char self_path[PATH_MAX];

const char *const mode_names[] = { "time", "lat", "sys" };

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

/* This binary, strace, and the latency clock; false without the first. */
bool run_init(void)
{
	ssize_t len = readlink("/proc/self/exe", self_path, sizeof(self_path) - 1);

	if (len <= 0)
		return false;
	self_path[len] = '\0';
	if (!find_in_path("strace", strace_path, PATH_MAX))
		strace_path[0] = '\0';
	tick_per_ns = calibrate_ticks();
	return true;
}

bool method_selected(const struct opts *o, const struct method *m)
{
	if (!o->methods)
		return !(m->flags & M_OPTIONAL);
	for (size_t i = 0; i < o->nmethods; i++)
		if (strcmp(o->methods[i], m->name) == 0)
			return true;
	return false;
}

/* Count the system calls between the markers of an strace -o file, per
 * thread: each thread's own calls between its own "begin" and "end" (a
 * method with several threads marks each), every call in F_SYSCALLS and
 * the memory calls in their own fields too. */
static void count_syscalls(const char *file, struct row *r)
{
	static const struct { const char *name; enum field f; } names[] = {
		{ "mmap", F_MMAP }, { "munmap", F_MUNMAP },
		{ "mprotect", F_MPROTECT }, { "madvise", F_MADVISE },
		{ "mremap", F_MREMAP }, { "brk", F_BRK },
	};
	FILE *f = fopen(file, "re");
	char line[4096];
	long inside[64]; /* the threads between their markers */
	size_t ninside = 0;

	if (!f)
		return;
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		r->f[names[i].f] = 0;
	r->f[F_SYSCALLS] = 0;
	while (fgets(line, sizeof(line), f)) {
		char *p = line, *paren;
		long pid = strtol(line, &p, 10);
		size_t k;

		for (k = 0; k < ninside && inside[k] != pid; k++)
			;
		if (strstr(line, "/mmvec-bench-marker/begin")) {
			if (k == ninside && ninside < 64)
				inside[ninside++] = pid;
			continue;
		}
		if (strstr(line, "/mmvec-bench-marker/end")) {
			if (k < ninside)
				inside[k] = inside[--ninside];
			continue;
		}
		if (k == ninside)
			continue;
		/* "PID name(args) = ret"; "PID <... name resumed>" lines
		 * finish a call already counted */
		while (*p == ' ')
			p++;
		paren = strchr(p, '(');
		if (!paren || *p == '<')
			continue;
		r->f[F_SYSCALLS]++;
		for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
			size_t len = strlen(names[i].name);
			if ((size_t)(paren - p) == len &&
			    strncmp(p, names[i].name, len) == 0)
				r->f[names[i].f]++;
		}
	}
	fclose(f);
}

/* The slow operations a latency worker wrote to evfile. */
static void read_events(const char *evfile, uint64_t (**ev)[2], size_t *nev)
{
	FILE *ef = fopen(evfile, "re");
	struct stat st;

	if (ef && fstat(fileno(ef), &st) == 0) {
		*nev = (size_t)st.st_size / sizeof(**ev);
		*ev = xcalloc(*nev, sizeof(**ev));
		if (fread(*ev, sizeof(**ev), *nev, ef) != *nev)
			*nev = (size_t)-1;
	}
	if (ef)
		fclose(ef);
}

/* Run one worker for s; fills *r and returns 0, or -1 when it failed. With
 * ev, also reads the worker's slow operations into *ev and *nev. */
static int run_worker(const struct opts *o, const struct series *s,
		      enum mode mode, struct row *r, uint64_t (**ev)[2],
		      size_t *nev)
{
	char evfile[] = "/tmp/mmvec-bench-events-XXXXXX";
	char trace[] = "/tmp/mmvec-bench-strace-XXXXXX";
	char nbuf[32], tbuf[32], cbuf[32], vbuf[32], pbuf[32], sbuf[32];
	const char *argv[32];
	int argc = 0, pipefd[2], status, efd = -1, tfd;
	char out[8192];
	size_t got = 0;
	struct rusage ru;
	pid_t pid;
	char *p;

	row_clear(r);
	snprintf(nbuf, sizeof(nbuf), "%zu", s->n);
	snprintf(tbuf, sizeof(tbuf), "%.9f", tick_per_ns);
	/* lifecycle: the loops per thread, and the threads */
	if (s->w == W_LIFECYCLE) {
		snprintf(cbuf, sizeof(cbuf), "%zu", o->life_loops);
		snprintf(vbuf, sizeof(vbuf), "%zu", o->life_threads_now);
	} else {
		snprintf(cbuf, sizeof(cbuf), "%u", o->gs_cycles);
		snprintf(vbuf, sizeof(vbuf), "%zu", o->small_nvec);
	}
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
	}
	argv[argc++] = self_path;
	argv[argc++] = "--worker";
	argv[argc++] = workload_names[s->w];
	argv[argc++] = s->m->name;
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
	keeper_free();
	fflush(stdout);
	fflush(stderr);
	pid = fork();
	if (pid < 0) {
		keeper_take();
		return -1;
	}
	if (pid == 0) {
		dup2(pipefd[1], STDOUT_FILENO);
		/* B side of an A/B run: the other libmmvec.so.1 comes first
		 * (LD_LIBRARY_PATH is searched before the binary's RUNPATH) */
		if (s->alt)
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
	keeper_take();
	if (efd >= 0) {
		if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
			read_events(evfile, ev, nev);
		unlink(evfile);
	}

	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		fprintf(stderr, "mmvec-bench: worker %s %s N=%zu (%s) failed\n",
			workload_names[s->w], s->label, s->n, mode_names[mode]);
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
	p = strstr(out, "RESULT");
	if (!p)
		return -1;
	p += 6;
	for (int i = 0; i < F_COUNT; i++)
		r->f[i] = strtod(p, &p);
	r->f[F_MAXRSS_KIB] = (double)ru.ru_maxrss;
	return 0;
}

/* The series of workload w at size n: every selected method, each also
 * against --ab's library when it is a libmmvec one. */
static struct series *new_group(const struct opts *o, enum workload w,
				size_t n, size_t *count)
{
	struct series *ss = xcalloc(2 * nmethods, sizeof(*ss));
	char threads[32] = "";
	size_t k = 0;

	/* lifecycle: the threads in the label, so that the targets tell one
	 * thread's run from four's */
	if (w == W_LIFECYCLE && o->life_threads_now > 1)
		snprintf(threads, sizeof(threads), " x%zu", o->life_threads_now);

	for (size_t i = 0; i < nmethods; i++) {
		const struct method *m = &methods[i];

		if (!(m->workloads & W_BIT(w)) || !method_selected(o, m))
			continue;
		for (int alt = 0; alt < 2; alt++) {
			struct series *s = &ss[k++];

			s->w = w;
			s->m = m;
			s->alt = alt;
			snprintf(s->label, sizeof(s->label), "%s%s%s", m->name,
				 alt ? "@B" : "", threads);
			s->n = n;
			s->runs = xcalloc(o->reps, sizeof(struct row));
			s->ev = xcalloc(o->reps, sizeof(*s->ev));
			s->nev = xcalloc(o->reps, sizeof(*s->nev));
			for (unsigned r = 0; r < o->reps; r++)
				s->nev[r] = (size_t)-1;
			row_clear(&s->sys);
			if (!o->lib_b || strncmp(m->name, "mmvec", 5) != 0)
				break;
		}
	}
	*count = k;
	return ss;
}

/* The pool: what the hungriest method of the group touches. */
static void warm_pool(const struct opts *o, size_t n)
{
	double mib = o->warm_mib;

	if (mib < 0) {
		mib = 2.5 * (double)n * 8 / MIB;
		if (mib < 64)
			mib = 64;
		if (mib > 8192)
			mib = 8192;
	}
	keeper_resize((size_t)(mib * MIB));
}

/* Latency fields of a MODE_LAT run, merged into the run's timed row. */
static void merge_latency(struct row *into, const struct row *lr)
{
	static const int lf[] = {
		F_LAT_MAX_NS, F_LAT_MAX_ONCPU_NS, F_LAT_PREEMPTED,
		F_LAT_P999_NS, F_LAT_P50_NS, F_LAT_P99_NS, F_LAT_P9999_NS,
	};

	for (size_t f = 0; f < sizeof(lf) / sizeof(lf[0]); f++)
		into->f[lf[f]] = lr->f[lf[f]];
}

/* Every method of workload w at size n, interleaved: repetition r runs each
 * once, in an order rotated by r, before repetition r + 1. */
void run_group(const struct opts *o, enum workload w, size_t n)
{
	size_t count;
	struct series *ss = new_group(o, w, n, &count);

	if (!count) {
		free(ss);
		return;
	}
	warm_pool(o, n);
	fprintf(stderr, "mmvec-bench: %s N=%zu:", workload_names[w], n);
	/* the strace run also warms the machine up */
	if (o->syscalls && strace_path[0]) {
		fprintf(stderr, " strace");
		for (size_t i = 0; i < count; i++)
			run_worker(o, &ss[i], MODE_SYS, &ss[i].sys, NULL, NULL);
	}
	for (unsigned r = 0; r < o->reps; r++) {
		fprintf(stderr, " %u", r + 1);
		for (size_t k = 0; k < count; k++) {
			size_t i = (k + r) % count;
			run_worker(o, &ss[i], MODE_TIME, &ss[i].runs[r], NULL, NULL);
		}
		if (!o->latency)
			continue;
		for (size_t k = 0; k < count; k++) {
			size_t i = (k + r) % count;
			struct row lr;

			if (!(ss[i].m->flags & M_LAT))
				continue;
			if (run_worker(o, &ss[i], MODE_LAT, &lr, &ss[i].ev[r],
				       &ss[i].nev[r]) == 0)
				merge_latency(&ss[i].runs[r], &lr);
		}
	}
	fprintf(stderr, "\n");

	for (size_t i = 0; i < count; i++) {
		summarise(&ss[i], o->reps);
		csv_series(&ss[i], o->reps);
	}
	print_table(ss, count, w, n, o);
	if (o->latency)
		print_latency_table(ss, count, w, n, o);
	keep_series(ss, count);
	free(ss);
}
