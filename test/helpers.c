/*
 * SPDX-License-Identifier: MIT
 */
#include "helpers.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#ifdef _WIN32
#include <windows.h>
#include <psapi.h>
#else
#include <sys/mman.h>
#include <unistd.h>
#endif

#if HAVE_VALGRIND_MEMCHECK_H
#include <valgrind/valgrind.h>
#endif

/* ------------------------------------------------------------------------ */
/* Tools */

bool test_on_valgrind(void)
{
#if HAVE_VALGRIND_MEMCHECK_H
	return RUNNING_ON_VALGRIND != 0;
#else
	/* Without the header: Valgrind preloads its vgpreload_*.so. */
	const char *pre = getenv("LD_PRELOAD");

	return pre && strstr(pre, "vgpreload") != NULL;
#endif
}

static bool env_set(const char *name)
{
	const char *env = getenv(name);

	return env && *env && strcmp(env, "0") != 0;
}

bool test_on_qemu_user(void)
{
	return env_set("MMVEC_TEST_QEMU_USER");
}

bool test_residency_checkable(void)
{
	static bool told;

	if (!test_on_qemu_user())
		return true;
	if (!told) {
		printf("note: MMVEC_POPULATE residency is not checked under "
		       "qemu-user (%s)\n", QEMU_NO_MINCORE);
		fflush(stdout);
		told = true;
	}
	return false;
}

bool test_slow(void)
{
#if defined(TEST_ASAN) || defined(TEST_TSAN)
	return true;
#endif
	if (env_set("MMVEC_TEST_SLOW"))
		return true;
	return test_on_valgrind() || test_on_qemu_user();
}

uint64_t env_u64(const char *name, uint64_t def)
{
	const char *s = getenv(name);
	char *end;
	unsigned long long v;

	if (!s || !*s)
		return def;
	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno || *end)
		return def;
	return (uint64_t)v;
}

double now_seconds(void)
{
#ifdef _WIN32
	LARGE_INTEGER freq, count;

	QueryPerformanceFrequency(&freq);
	QueryPerformanceCounter(&count);
	return (double)count.QuadPart / (double)freq.QuadPart;
#else
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
#endif
}

/* ------------------------------------------------------------------------ */
/* Seeds and time budgets */

void seeds_init(struct test_seeds *s, uint64_t default_count,
		double default_seconds)
{
	const char *one = getenv("MMVEC_TEST_SEED");

	memset(s, 0, sizeof(*s));
	s->start = now_seconds();
	if (one && *one) {
		s->first = env_u64("MMVEC_TEST_SEED", 1);
		s->count = 1;
		s->seconds = 0;
		return;
	}
	s->first = env_u64("MMVEC_TEST_SEED_BASE", 1);
	if (getenv("MMVEC_TEST_SEEDS")) {
		s->count = env_u64("MMVEC_TEST_SEEDS", default_count);
		s->seconds = 0;
		return;
	}
	if (test_slow()) {
		default_count = default_count / 10 + 1;
		default_seconds /= 2;
	}
	s->count = default_count;
	s->seconds = (double)env_u64("MMVEC_TEST_SECONDS",
				      (uint64_t)default_seconds);
	if (s->seconds <= 0)
		s->seconds = default_seconds;
}

bool seeds_next(struct test_seeds *s, uint64_t *seed)
{
	if (s->done >= s->count)
		return false;
	if (s->done > 0 && s->seconds > 0 &&
	    now_seconds() - s->start > s->seconds) {
		fprintf(stderr, "time budget of %.0f s used up after %" PRIu64
			" of %" PRIu64 " seeds\n", s->seconds, s->done,
			s->count);
		return false;
	}
	*seed = s->first + s->done++;
	return true;
}

/* ------------------------------------------------------------------------ */
/* Page arithmetic */

size_t system_page_size(void)
{
#ifdef _WIN32
	SYSTEM_INFO si;

	GetSystemInfo(&si);
	return si.dwPageSize;
#else
	long page = sysconf(_SC_PAGESIZE);

	return page > 0 ? (size_t)page : 0;
#endif
}

size_t round_up(size_t x, size_t a)
{
	return (x + a - 1) / a * a;
}

size_t round_down(size_t x, size_t a)
{
	return x / a * a;
}

bool is_power_of_two(size_t x)
{
	return x != 0 && (x & (x - 1)) == 0;
}

/* ------------------------------------------------------------------------ */
/* Element patterns */

void pattern_fill(void *elem, size_t elem_size, unsigned tag, size_t i)
{
	unsigned char *p = elem;

	for (size_t b = 0; b < elem_size; b++)
		p[b] = pattern_byte(tag, i, b);
}

bool pattern_check(const void *elem, size_t elem_size, unsigned tag, size_t i)
{
	const unsigned char *p = elem;

	if (!p)
		return false;
	for (size_t b = 0; b < elem_size; b++)
		if (p[b] != pattern_byte(tag, i, b))
			return false;
	return true;
}

void pattern_fill_range(void *p, size_t elem_size, unsigned tag, size_t from,
			size_t to)
{
	for (size_t i = from; i < to; i++)
		pattern_fill((char *)p + (i - from) * elem_size, elem_size,
			     tag, i);
}

bool pattern_check_range(const void *p, size_t elem_size, unsigned tag,
			 size_t from, size_t to)
{
	for (size_t i = from; i < to; i++)
		if (!pattern_check((const char *)p + (i - from) * elem_size,
				   elem_size, tag, i))
			return false;
	return true;
}

bool is_zero(const void *p, size_t n)
{
	const unsigned char *c = p;

	if (!c)
		return false;
	for (size_t i = 0; i < n; i++)
		if (c[i] != 0)
			return false;
	return true;
}

/* ------------------------------------------------------------------------ */
/* What the kernel reports */

#ifndef _WIN32
long long proc_kib(const char *path, const char *key)
{
	FILE *f = fopen(path, "re");
	size_t klen = strlen(key);
	char line[256];
	long long kib = -1;

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, key, klen) && line[klen] == ':') {
			kib = strtoll(line + klen + 1, NULL, 10);
			break;
		}
	fclose(f);
	return kib;
}

size_t thp_size(void)
{
	FILE *f;
	unsigned long long size = 0;

	/* the portable OS layer reads no /sys, and uses no huge pages */
	if (MMVEC_PORTABLE)
		return 0;
	f = fopen("/sys/kernel/mm/transparent_hugepage/hpage_pmd_size", "re");
	if (!f)
		return 0;
	if (fscanf(f, "%llu", &size) != 1)
		size = 0;
	fclose(f);
	/* the library ignores huge pages above 32 MiB (64 KiB base pages) */
	return size <= ((size_t)32 << 20) ? (size_t)size : 0;
}

/* Reads the next line of @f into @line; a line longer than the buffer
 * (a long path) is cut, the rest of it skipped. */
static bool read_line(FILE *f, char *line, int size)
{
	char rest[256];
	const char *tail = line;

	if (!fgets(line, size, f))
		return false;
	while (tail[0] && tail[strlen(tail) - 1] != '\n' &&
	       fgets(rest, sizeof(rest), f))
		tail = rest;
	return true;
}

/* The "start-end perms" head of a maps or smaps line; false for the other
 * lines of smaps. */
static bool parse_head(const char *line, struct maps_entry *e)
{
	unsigned long long a, b;

	if (sscanf(line, "%llx-%llx %4s", &a, &b, e->perms) != 3)
		return false;
	e->start = (uintptr_t)a;
	e->end = (uintptr_t)b;
	return true;
}

int maps_read(struct maps *m)
{
	FILE *f = fopen("/proc/self/maps", "re");
	size_t alloc = 0;
	char line[512];

	m->e = NULL;
	m->n = 0;
	if (!f)
		return -1;
	while (read_line(f, line, sizeof(line))) {
		struct maps_entry e;

		if (!parse_head(line, &e))
			continue;
		if (m->n == alloc) {
			struct maps_entry *grown;

			alloc = alloc ? 2 * alloc : 1024;
			grown = realloc(m->e, alloc * sizeof(*m->e));
			if (!grown) {
				fclose(f);
				maps_free(m);
				return -1;
			}
			m->e = grown;
		}
		m->e[m->n++] = e;
	}
	fclose(f);
	return 0;
}
#else
/* Windows has no /proc, no transparent huge pages and no list of
 * mappings to read: these say so, and the tests that need them are not
 * registered there. */
long long proc_kib(const char *path, const char *key)
{
	return -1;
}

size_t thp_size(void)
{
	return 0;
}

int maps_read(struct maps *m)
{
	m->e = NULL;
	m->n = 0;
	return -1;
}
#endif

void maps_free(struct maps *m)
{
	free(m->e);
	m->e = NULL;
	m->n = 0;
}

/* The first mapping of @m that ends after @addr (m->n if none). */
static size_t maps_search(const struct maps *m, uintptr_t addr)
{
	size_t a = 0, b = m->n;

	while (a < b) {
		size_t mid = a + (b - a) / 2;

		if (m->e[mid].end <= addr)
			a = mid + 1;
		else
			b = mid;
	}
	return a;
}

size_t maps_count(const struct maps *m, const void *addr, size_t len)
{
	uintptr_t lo = (uintptr_t)addr, hi = lo + len;
	size_t n = 0;

	for (size_t i = maps_search(m, lo); i < m->n && m->e[i].start < hi;
	     i++)
		n++;
	return n;
}

long maps_total(void)
{
	struct maps m;
	long n;

	if (maps_read(&m) != 0)
		return -1;
	n = (long)m.n;
	maps_free(&m);
	return n;
}

long maps_in(const void *addr, size_t len)
{
	struct maps m;
	long n;

	if (maps_read(&m) != 0)
		return -1;
	n = (long)maps_count(&m, addr, len);
	maps_free(&m);
	return n;
}

#ifndef _WIN32
int maps_accessible(const void *addr)
{
	uintptr_t a = (uintptr_t)addr;
	struct maps m;
	size_t i;
	int accessible = 0;

	if (maps_read(&m) != 0)
		return -1;
	i = maps_search(&m, a);
	if (i < m.n && m.e[i].start <= a)
		accessible = m.e[i].perms[0] == 'r' || m.e[i].perms[1] == 'w';
	maps_free(&m);
	return accessible;
}

long long maps_rw_bytes(const void *addr, size_t limit)
{
	uintptr_t at = (uintptr_t)addr;
	uintptr_t end = at; /* the rw run reaches here so far */
	struct maps m;

	if (maps_read(&m) != 0)
		return -1;
	/* extend the run through each rw mapping that starts where it ends */
	for (size_t i = maps_search(&m, at); i < m.n; i++) {
		const struct maps_entry *e = &m.e[i];

		if (e->start > end || e->perms[0] != 'r' || e->perms[1] != 'w')
			break;
		end = e->end;
	}
	maps_free(&m);
	if (end - at > limit)
		return (long long)limit;
	return (long long)(end - at);
}

int maps_vmflag(const void *addr, const char *flag)
{
	FILE *f = fopen("/proc/self/smaps", "re");
	uintptr_t a = (uintptr_t)addr;
	char line[1024];
	bool inside = false;
	int has = -1;

	if (!f)
		return -1;
	while (read_line(f, line, sizeof(line))) {
		struct maps_entry e;

		if (parse_head(line, &e)) {
			inside = e.start <= a && a < e.end;
			continue;
		}
		if (!inside || strncmp(line, "VmFlags:", 8) != 0)
			continue;
		has = 0;
		for (char *tok = strtok(line + 8, " \n"); tok;
		     tok = strtok(NULL, " \n"))
			if (strcmp(tok, flag) == 0)
				has = 1;
		break;
	}
	fclose(f);
	return has;
}

long resident_count(const void *addr, size_t len)
{
	size_t page = system_page_size();
	uintptr_t start = round_down((uintptr_t)addr, page);
	uintptr_t end = round_up((uintptr_t)addr + len, page);
	size_t npages = (end - start) / page;
	unsigned char *vec;
	long resident = 0;

	if (npages == 0)
		return 0;
	vec = malloc(npages);
	if (!vec)
		return -1;
	if (mincore((void *)start, end - start, vec) != 0) {
		free(vec);
		return -1;
	}
	for (size_t i = 0; i < npages; i++)
		if (vec[i] & 1)
			resident++;
	free(vec);
	return resident;
}
#else
/* What VirtualQuery reports stands in for the mappings: committed pages
 * with their protection, in runs of equal attributes. */

static bool query(const void *addr, MEMORY_BASIC_INFORMATION *mbi)
{
	return VirtualQuery(addr, mbi, sizeof(*mbi)) == sizeof(*mbi);
}

int maps_accessible(const void *addr)
{
	const DWORD readable = PAGE_READONLY | PAGE_READWRITE |
			       PAGE_WRITECOPY | PAGE_EXECUTE_READ |
			       PAGE_EXECUTE_READWRITE | PAGE_EXECUTE_WRITECOPY;
	MEMORY_BASIC_INFORMATION mbi;

	if (!query(addr, &mbi))
		return 0;
	return mbi.State == MEM_COMMIT && (mbi.Protect & readable) &&
	       !(mbi.Protect & PAGE_GUARD);
}

long long maps_rw_bytes(const void *addr, size_t limit)
{
	uintptr_t at = (uintptr_t)addr;
	uintptr_t end = at; /* the committed run reaches here so far */
	MEMORY_BASIC_INFORMATION mbi;

	/* each query answers for the run of equal pages from there on, up
	 * to the end of its allocation; the next one goes on from its end */
	while (end - at < limit && query((const void *)end, &mbi) &&
	       mbi.State == MEM_COMMIT && mbi.Protect == PAGE_READWRITE)
		end = (uintptr_t)mbi.BaseAddress + mbi.RegionSize;
	if (end - at > limit)
		return (long long)limit;
	return (long long)(end - at);
}

int maps_vmflag(const void *addr, const char *flag)
{
	return -1;
}

/* The working set is Windows' resident set: a page in it is valid, as
 * mincore()'s resident bit says on Linux. */
long resident_count(const void *addr, size_t len)
{
	enum { CHUNK = 512 };
	PSAPI_WORKING_SET_EX_INFORMATION info[CHUNK];
	size_t page = system_page_size();
	uintptr_t start = round_down((uintptr_t)addr, page);
	uintptr_t end = round_up((uintptr_t)addr + len, page);
	long resident = 0;

	while (start < end) {
		size_t n = (end - start) / page;

		if (n > CHUNK)
			n = CHUNK;
		for (size_t i = 0; i < n; i++)
			info[i].VirtualAddress = (void *)(start + i * page);
		if (!QueryWorkingSetEx(GetCurrentProcess(), info,
				       (DWORD)(n * sizeof(info[0]))))
			return -1;
		for (size_t i = 0; i < n; i++)
			resident += info[i].VirtualAttributes.Valid;
		start += n * page;
	}
	return resident;
}
#endif
