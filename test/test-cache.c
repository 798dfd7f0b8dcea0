/*
 * SPDX-License-Identifier: MIT
 *
 * The reservation cache: a reservation that a vector or a region is done
 * with is reused by the next one of exactly its size and flags, with no OS
 * call; what reuses it cannot tell it from a fresh one (new elements read
 * as zero, the committed memory is what the kernel says, touching past it
 * faults, the same huge-page advice, alignment and two mappings, regions
 * with nothing committed); it is bounded, idle reservations go, a flush
 * releases everything, and it stays right with threads, fork(), strict
 * limits and OS refusals. When the cache is off (MMVEC_CACHE=0, -Dcache=
 * false, RLIMIT_AS set) the suite checks that nothing is kept instead.
 *
 * White-box: it counts the OS layer's calls and injects refusals.
 */
#include "runner.h"

#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "faults.h"
#include "os.h"

static size_t page;

/* The committed prefix a cached reservation keeps, and the bounds, as the
 * header and mmvec_cache_flush(3) state them. */
#define KEEP (64 * KIB)
#define THREAD_SLOTS 8
#define POOL_SLOTS 64
#define THREAD_BYTES (256 * GIB)
#define POOL_BYTES (1024 * GIB)
/* The largest reservation kept: in a 32-bit process 16 MiB, so that its
 * default reservation (up to 1 GiB) is not kept at all. */
#define ENTRY_BYTES (sizeof(size_t) == 8 ? SIZE_MAX : 16 * MIB)
#define DEFAULT_KEPT (sizeof(size_t) == 8)
/* An explicit length whose reservation is kept everywhere, with room for
 * a few MiB of elements: 64 MiB of int64 in a 64-bit process, 8 MiB in a
 * 32-bit one. */
#define BIG_LEN (DEFAULT_KEPT ? 8 * MIB : MIB)

static void setup(void)
{
	page = mmvec_page_size();
}

/* Whether the library caches here: built with it, not turned off in the
 * environment, and no RLIMIT_AS set. */
static bool cache_expected(void)
{
	const char *env = getenv("MMVEC_CACHE");
	struct rlimit lim;

	if (!MMVEC_CACHE || (env && strcmp(env, "0") == 0))
		return false;
	return getrlimit(RLIMIT_AS, &lim) == 0 && lim.rlim_cur == RLIM_INFINITY;
}

/* What a cached reservation keeps committed: nothing under strict
 * overcommit. */
static size_t keep_expected(void)
{
	FILE *f = fopen("/proc/sys/vm/overcommit_memory", "re");
	int mode = 0;

	if (f) {
		if (fscanf(f, "%d", &mode) != 1)
			mode = 0;
		fclose(f);
	}
	return mode == 2 ? 0 : KEEP;
}

/* Calls the OS layer has made so far, all kinds together. */
static unsigned long os_calls(void)
{
	unsigned long n = 0;

	for (int op = 0; op < MMVEC__OS_NOPS; op++)
		n += __atomic_load_n(&mmvec__os_calls[op], __ATOMIC_RELAXED);
	return n;
}

static size_t reserved_of(size_t es, size_t max_len)
{
	return round_up(es * max_len, page);
}

/* A vector with @n elements of byte @c, freed: its data pointer. */
static void *dirty_and_free(size_t es, size_t max_len, unsigned flags,
			    size_t n, unsigned char c)
{
	struct mmvec *v = vec_new_ok(es, max_len, flags);
	void *data = mmvec_data(v);

	ck_assert_ptr_nonnull(mmvec_extend(v, n));
	memset(data, c, n * es);
	mmvec_free(v);
	return data;
}

/* ------------------------------------------------------------------------ */
/* Reuse */

static const unsigned flag_sets[] = VALID_FLAG_SETS;

/* The next vector of the same size and flags gets the same reservation,
 * with what the last one held, as far as the cache kept it committed. */
START_TEST(reused_same_reservation)
{
	unsigned flags = flag_sets[_i];
	static const size_t sizes[][2] = {
		{ 1, 1 }, { 8, 1000 }, { 24, 100000 }, { 4096, 3 },
		{ 5000, 77 }, { 8, 0 },
	};

	for (size_t k = 0; k < ARRAY_LENGTH(sizes); k++) {
		size_t es = sizes[k][0], max_len = sizes[k][1];
		void *data;
		struct mmvec *v;

		if (!max_len && !DEFAULT_KEPT)
			continue;
		data = dirty_and_free(es, max_len, flags, 1, 0x5a);
		v = vec_new_ok(es, max_len, flags);

		ck_assert_ptr_eq(mmvec_data(v), data);
		if (max_len)
			ck_assert_uint_eq(mmvec_max_len(v), max_len);
		ck_assert_uint_le(mmvec_capacity(v) * es, keep_expected());
		mmvec_free(v);
	}
}
END_TEST

/* Only the same size and the same flags: anything else is reserved
 * afresh, and the cached one waits for its match. */
START_TEST(reused_only_for_its_match)
{
	void *data = dirty_and_free(8, 1000, 0, 1, 1);
	struct mmvec *a = vec_new_ok(8, 2000, 0);
	struct mmvec *b = vec_new_ok(8, 1000, MMVEC_NO_HUGEPAGES);
	struct mmvec *c = vec_new_ok(8, 1000, MMVEC_POPULATE);
	/* another element size, the same reservation */
	struct mmvec *d = vec_new_ok(16, 512, 0);

	ck_assert_ptr_ne(mmvec_data(a), data);
	ck_assert_ptr_ne(mmvec_data(b), data);
	ck_assert_ptr_ne(mmvec_data(c), data);
	ck_assert_ptr_eq(mmvec_data(d), data);
	ck_assert_uint_eq(mmvec_max_len(d), 512);
	mmvec_free(a);
	mmvec_free(b);
	mmvec_free(c);
	mmvec_free(d);
}
END_TEST

/* Create, 16 pushes, free: after the first loop no OS call at all, with
 * the default reservation and with an explicit one. */
START_TEST(reuse_needs_no_os)
{
	static const size_t max_lens[] = { 0, 1024 };

	for (size_t k = 0; k < ARRAY_LENGTH(max_lens); k++) {
		unsigned long before = 0;

		if (!max_lens[k] && !DEFAULT_KEPT)
			continue;
		for (int loop = 0; loop < 1000; loop++) {
			struct mmvec *v = NULL;

			if (loop == 1)
				before = os_calls();
			ck_assert_int_eq(mmvec_new(8, max_lens[k], 0, &v), 0);
			for (int64_t i = 0; i < 16; i++)
				fast_assert(mmvec_push_val(v, i) != NULL);
			fast_assert_uint_eq(*(int64_t *)mmvec_at(v, 15), 15);
			mmvec_free(v);
		}
		ck_assert_uint_eq(os_calls() - before, 0);
	}
}
END_TEST

/* ------------------------------------------------------------------------ */
/* A reused vector is a fresh one */

enum dirt { D_ELEMENTS, D_CLEARED, D_CLAIMED, D_ERASED, D_NDIRT };
enum grower { G_PUSH_NULL, G_EXTEND, G_RESIZE, G_CLAIM, G_NGROWERS };

static const size_t zero_sizes[] = { 1, 3, 8, 24, 64, 100, 4096, 5000 };

/* Leave n elements' worth of 0xa5 behind, as @how says. */
static void make_dirt(struct mmvec *v, size_t n, enum dirt how)
{
	size_t es = mmvec_elem_size(v);
	unsigned char *p;

	switch (how) {
	case D_ELEMENTS:
		p = mmvec_extend(v, n);
		ck_assert_ptr_nonnull(p);
		memset(p, 0xa5, n * es);
		break;
	case D_CLEARED:
		p = mmvec_extend(v, n);
		ck_assert_ptr_nonnull(p);
		memset(p, 0xa5, n * es);
		mmvec_clear(v);
		break;
	case D_CLAIMED:
		/* claimed and filled, never published */
		p = mmvec_claim(v, n);
		ck_assert_ptr_nonnull(p);
		memset(p, 0xa5, n * es);
		break;
	default:
		p = mmvec_extend(v, n);
		ck_assert_ptr_nonnull(p);
		memset(p, 0xa5, n * es);
		ck_assert_int_eq(mmvec_erase(v, 1, n - 1), 0);
		break;
	}
}

static void *grow(struct mmvec *v, size_t m, enum grower how)
{
	size_t len = mmvec_len(v);

	switch (how) {
	case G_PUSH_NULL:
		for (size_t i = 0; i < m; i++)
			fast_assert(mmvec_push(v, NULL) != NULL);
		break;
	case G_EXTEND:
		ck_assert_ptr_nonnull(mmvec_extend(v, m));
		break;
	case G_RESIZE:
		ck_assert_int_eq(mmvec_resize(v, len + m), 0);
		break;
	default:
		ck_assert_ptr_nonnull(mmvec_claim(v, m));
		ck_assert_int_eq(mmvec_publish(v, m), 0);
		break;
	}
	return mmvec_data(v);
}

START_TEST(reused_new_elements_zero)
{
	size_t es = zero_sizes[_i % ARRAY_LENGTH(zero_sizes)];
	enum dirt how = (enum dirt)(_i / ARRAY_LENGTH(zero_sizes));
	/* the dirt reaches three pages, past the kept prefix for small
	 * elements */
	size_t n = (3 * page + es - 1) / es + 1;
	size_t max_len = 2 * KEEP / es + 10;

	for (int g = 0; g < G_NGROWERS; g++) {
		struct mmvec *v = vec_new_ok(es, max_len, MMVEC_NO_HUGEPAGES);
		void *data = mmvec_data(v);
		size_t m = n + 5;

		make_dirt(v, n, how);
		mmvec_free(v);
		v = vec_new_ok(es, max_len, MMVEC_NO_HUGEPAGES);
		ck_assert_ptr_eq(mmvec_data(v), data);
		ck_assert(is_zero(grow(v, m, (enum grower)g), m * es));
		ck_assert_uint_eq(mmvec_len(v), m);
		mmvec_free(v);
	}
}
END_TEST

/* The kept prefix: at most KEEP committed, exactly what the kernel has
 * writable, and the capacity says so. */
START_TEST(reused_prefix_is_committed)
{
	unsigned flags = flag_sets[_i];
	void *data = dirty_and_free(8, BIG_LEN, flags, MIB / 8 * 3, 7);
	struct mmvec *v;

	/* cached: what is left writable is the kept prefix */
	ck_assert_int_eq(maps_rw_bytes(data, BIG_LEN * 8), keep_expected());
	ck_assert_uint_le(vma_count(data, BIG_LEN * 8), 2);
	v = vec_new_ok(8, BIG_LEN, flags);
	ck_assert_ptr_eq(mmvec_data(v), data);
	ck_assert_uint_eq(mmvec_capacity(v) * 8, keep_expected());
	ck_assert_int_eq(maps_rw_bytes(data, BIG_LEN * 8), keep_expected());
	if ((flags & MMVEC_POPULATE) && test_residency_checkable())
		ck_assert_uint_eq(resident_pages(data, keep_expected()),
				  keep_expected() / page);
	/* and grows from there as a fresh vector does */
	push_pattern(v, 3, MIB / 8);
	ck_assert_pattern(v, 0, MIB / 8, 3, 0);
	ck_assert_uint_le(vma_count(data, BIG_LEN * 8), 2);
	mmvec_free(v);
}
END_TEST

/* Past the committed pages of a reused vector: SIGSEGV. */
START_TEST(reused_faults_past_capacity)
{
	size_t max_len = DEFAULT_KEPT ? 0 : BIG_LEN;
	volatile unsigned char *data = dirty_and_free(8, max_len, 0, 100, 9);
	struct mmvec *v = vec_new_ok(8, max_len, 0);

	ck_assert_ptr_eq(mmvec_data(v), (void *)data);
	data[round_up(mmvec_capacity(v) * 8, page)] = 1;
	mmvec_free(v);
}
END_TEST

/* Alignment and advice are those a fresh reservation gets. */
START_TEST(reused_flags_as_fresh)
{
	static const unsigned flags[] = { 0, MMVEC_HUGEPAGES,
					  MMVEC_NO_HUGEPAGES };
	size_t huge = thp_size();

	for (size_t k = 0; k < ARRAY_LENGTH(flags); k++) {
		struct mmvec *v = vec_new_ok(1, 8 * MIB, flags[k]);
		char *data = mmvec_data(v);
		int hg = maps_vmflag(data, "hg"), nh = maps_vmflag(data, "nh");

		ck_assert_int_ge(hg, 0);
		if (huge && !(flags[k] & MMVEC_NO_HUGEPAGES))
			ck_assert_uint_eq((uintptr_t)data % huge, 0);
		ck_assert_ptr_nonnull(mmvec_extend(v, 3 * MIB));
		mmvec_free(v);
		v = vec_new_ok(1, 8 * MIB, flags[k]);
		ck_assert_ptr_eq(mmvec_data(v), data);
		/* the kept prefix and the rest: the same advice */
		ck_assert_int_eq(maps_vmflag(data, "hg"), hg);
		ck_assert_int_eq(maps_vmflag(data, "nh"), nh);
		ck_assert_int_eq(maps_vmflag(data + 4 * MIB, "hg"), hg);
		ck_assert_int_eq(maps_vmflag(data + 4 * MIB, "nh"), nh);
		ck_assert_uint_le(vma_count(data, 8 * MIB), 2);
		mmvec_free(v);
	}
}
END_TEST

/* The default reservation is reused as a whole. */
START_TEST(default_reused)
{
	struct mmvec *v = vec_new_ok(8, 0, 0);
	void *data = mmvec_data(v);
	size_t max_len = mmvec_max_len(v);

	push_pattern(v, 4, 1000);
	mmvec_free(v);
	v = vec_new_ok(8, 0, 0);
	ck_assert_ptr_eq(mmvec_data(v), data);
	ck_assert_uint_eq(mmvec_max_len(v), max_len);
	mmvec_free(v);
	/* another element size reserves the same default */
	v = vec_new_ok(4, 0, 0);
	ck_assert_ptr_eq(mmvec_data(v), data);
	ck_assert_uint_eq(mmvec_max_len(v), 2 * max_len);
	mmvec_free(v);
}
END_TEST

/* The region of 1 MiB whose reservation at @base is cached: nothing
 * committed, nothing writable, and @bytes committed read zero. */
static struct mmvec_region *region_again(char *base, size_t bytes)
{
	struct mmvec_region *r = NULL;

	ck_assert_int_eq(mmvec_region_new(MIB, 0, &r), 0);
	ck_assert_ptr_eq(mmvec_region_base(r), base);
	ck_assert_uint_eq(mmvec_region_committed(r), 0);
	ck_assert_int_eq(maps_rw_bytes(base, MIB), 0);
	ck_assert_int_eq(mmvec_region_commit(r, bytes), 0);
	ck_assert(is_zero(base, bytes));
	return r;
}

/* A region from the cache has nothing committed and reads zero once
 * committed; vectors and regions share the cache both ways. */
START_TEST(regions_reused)
{
	struct mmvec_region *r = NULL;
	struct mmvec *v;
	char *base;

	ck_assert_int_eq(mmvec_region_new(MIB, 0, &r), 0);
	base = mmvec_region_base(r);
	ck_assert_int_eq(mmvec_region_commit(r, 256 * KIB), 0);
	memset(base, 0x5a, 256 * KIB);
	mmvec_region_free(r);

	r = region_again(base, 256 * KIB);
	memset(base, 0x6b, 256 * KIB);
	mmvec_region_free(r);

	/* a region's leftovers are zeroed for a vector's new elements */
	v = vec_new_ok(1, MIB, 0);
	ck_assert_ptr_eq(mmvec_data(v), base);
	ck_assert(is_zero(mmvec_extend(v, 300 * KIB), 300 * KIB));
	memset(base, 0x7c, 300 * KIB);
	mmvec_free(v);

	/* and a vector's leftovers never reach a region */
	mmvec_region_free(region_again(base, MIB));
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Flushing, bounds, idle reservations */

START_TEST(flush_releases_everything)
{
	struct mmvec_region *r = NULL;
	void *a = dirty_and_free(8, 1000, 0, 10, 1);
	void *b = dirty_and_free(3, 77777, MMVEC_NO_HUGEPAGES, 10, 2);
	void *c = dirty_and_free(1, 5 * MIB, MMVEC_HUGEPAGES, 10, 3);
	void *d;

	ck_assert_int_eq(mmvec_region_new(3 * MIB, 0, &r), 0);
	d = mmvec_region_base(r);
	mmvec_region_free(r);
	ck_assert_uint_ge(vma_count(a, 8000), 1);
	ck_assert_uint_eq(mmvec_cache_flush(),
			  reserved_of(8, 1000) + reserved_of(3, 77777) +
				  5 * MIB + 3 * MIB);
	ck_assert_uint_eq(vma_count(a, 8000), 0);
	ck_assert_uint_eq(vma_count(b, 3 * 77777), 0);
	ck_assert_uint_eq(vma_count(c, 5 * MIB), 0);
	ck_assert_uint_eq(vma_count(d, 3 * MIB), 0);
	ck_assert_uint_eq(mmvec_cache_flush(), 0);
}
END_TEST

/* At most THREAD_SLOTS in a thread's cache and POOL_SLOTS in the pool:
 * the oldest go first. */
START_TEST(bounded_in_count)
{
	struct mmvec *v[100];

	for (size_t k = 0; k < ARRAY_LENGTH(v); k++)
		v[k] = vec_new_ok(8, 1000, 0);
	for (size_t k = 0; k < ARRAY_LENGTH(v); k++)
		mmvec_free(v[k]);
	ck_assert_uint_eq(mmvec_cache_flush(),
			  (THREAD_SLOTS + POOL_SLOTS) * reserved_of(8, 1000));
}
END_TEST

/* At most THREAD_BYTES and POOL_BYTES of address space: default
 * reservations are large. */
START_TEST(bounded_in_address_space)
{
	struct mmvec *v[60];
	size_t size, n, in_thread, in_pool;

	for (size_t k = 0; k < ARRAY_LENGTH(v); k++)
		v[k] = vec_new_ok(1, 0, 0);
	size = reserved_of(1, mmvec_max_len(v[0]));
	n = 0;
	for (size_t k = 0; k < ARRAY_LENGTH(v); k++) {
		/* the rule halves defaults near the end of the space */
		n += reserved_of(1, mmvec_max_len(v[k])) == size;
		mmvec_free(v[k]);
	}
	ck_assert_uint_eq(n, ARRAY_LENGTH(v));
	in_thread = THREAD_BYTES / size < THREAD_SLOTS ? THREAD_BYTES / size
						       : THREAD_SLOTS;
	in_pool = POOL_BYTES / size < POOL_SLOTS ? POOL_BYTES / size
						 : POOL_SLOTS;
	printf("default reservations of %zu MiB: %zu kept per thread, %zu in "
	       "the pool\n", size / MIB, in_thread, in_pool);
	ck_assert_uint_eq(mmvec_cache_flush(), (in_thread + in_pool) * size);
}
END_TEST

/* Cached for over a second: released at the next free. */
START_TEST(idle_released)
{
	void *old = dirty_and_free(8, 1000, 0, 10, 1);
	void *recent;

	ck_assert_uint_ge(vma_count(old, 8000), 1);
	usleep(1300 * 1000);
	recent = dirty_and_free(8, 2000, 0, 10, 1);
	ck_assert_uint_eq(vma_count(old, 8000), 0);
	ck_assert_uint_ge(vma_count(recent, 16000), 1);
	ck_assert_uint_eq(mmvec_cache_flush(), reserved_of(8, 2000));
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Threads */

#define N_THREADS 4
#define THREAD_LOOPS 2000

struct worker {
	pthread_t t;
	pthread_barrier_t *warm;
	unsigned long reused;
	void *last;
};

static void *lifecycles(void *arg)
{
	struct worker *w = arg;

	for (int loop = 0; loop < THREAD_LOOPS; loop++) {
		struct mmvec *v = NULL;

		if (loop == 1)
			pthread_barrier_wait(w->warm);
		if (mmvec_new(8, 1024, 0, &v) != 0)
			return NULL;
		for (int64_t i = 0; i < 16; i++)
			if (!mmvec_push_val(v, i))
				return NULL;
		w->reused += mmvec_data(v) == w->last;
		w->last = mmvec_data(v);
		mmvec_free(v);
	}
	return w;
}

/* Each thread reuses its own reservation with no OS call and no other
 * thread's; a thread that ends leaves its cache to the pool. */
START_TEST(threads_reuse_their_own)
{
	struct worker w[N_THREADS];
	pthread_barrier_t warm;
	unsigned long before;

	ck_assert_int_eq(pthread_barrier_init(&warm, NULL, N_THREADS + 1), 0);
	for (int k = 0; k < N_THREADS; k++) {
		w[k] = (struct worker){ .warm = &warm };
		ck_assert_int_eq(pthread_create(&w[k].t, NULL, lifecycles,
						&w[k]), 0);
	}
	pthread_barrier_wait(&warm);
	before = os_calls();
	for (int k = 0; k < N_THREADS; k++) {
		void *ok;

		ck_assert_int_eq(pthread_join(w[k].t, &ok), 0);
		ck_assert_ptr_eq(ok, &w[k]);
		ck_assert_uint_eq(w[k].reused, THREAD_LOOPS - 1);
		for (int j = 0; j < k; j++)
			ck_assert_ptr_ne(w[j].last, w[k].last);
	}
	ck_assert_uint_eq(os_calls() - before, 0);
	pthread_barrier_destroy(&warm);
	/* the exited threads' reservations, one each, are in the pool */
	ck_assert_uint_eq(mmvec_cache_flush(),
			  N_THREADS * reserved_of(8, 1024));
}
END_TEST

/* A reservation a thread left behind serves another thread. */
static void *free_one(void *arg)
{
	mmvec_free(arg);
	return NULL;
}

START_TEST(freed_by_another_thread)
{
	struct mmvec *v = vec_new_ok(8, 4321, 0);
	void *data = mmvec_data(v);
	pthread_t t;

	push_pattern(v, 5, 100);
	ck_assert_int_eq(pthread_create(&t, NULL, free_one, v), 0);
	ck_assert_int_eq(pthread_join(t, NULL), 0);
	v = vec_new_ok(8, 4321, 0);
	ck_assert_ptr_eq(mmvec_data(v), data);
	ck_assert(is_zero(mmvec_extend(v, 100), 800));
	mmvec_free(v);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* fork() */

struct holder {
	pthread_t t;
	pthread_barrier_t cached, done;
	void *data;
};

/* Caches a reservation in its own cache, then waits. */
static void *hold(void *arg)
{
	struct holder *h = arg;

	h->data = dirty_and_free(8, 1111, 0, 10, 4);
	pthread_barrier_wait(&h->cached);
	pthread_barrier_wait(&h->done);
	return NULL;
}

/* A child starts with nothing cached (its own thread's cache and the
 * others', which have no thread in the child); the parent keeps them. */
START_TEST(fork_child_starts_empty)
{
	struct holder h;
	void *mine = dirty_and_free(8, 2222, 0, 10, 5);
	pid_t pid;
	int status;

	ck_assert_int_eq(pthread_barrier_init(&h.cached, NULL, 2), 0);
	ck_assert_int_eq(pthread_barrier_init(&h.done, NULL, 2), 0);
	ck_assert_int_eq(pthread_create(&h.t, NULL, hold, &h), 0);
	pthread_barrier_wait(&h.cached);

	fflush(NULL);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		bool ok = vma_count(mine, 2222 * 8) == 0 &&
			  vma_count(h.data, 1111 * 8) == 0 &&
			  mmvec_cache_flush() == 0;
		struct mmvec *v = NULL;

		/* and caches again */
		ok = ok && mmvec_new(8, 3333, 0, &v) == 0;
		if (v)
			mmvec_free(v);
		ok = ok && mmvec_cache_flush() == reserved_of(8, 3333);
		_exit(ok ? 0 : 1);
	}
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);

	pthread_barrier_wait(&h.done);
	ck_assert_int_eq(pthread_join(h.t, NULL), 0);
	pthread_barrier_destroy(&h.cached);
	pthread_barrier_destroy(&h.done);
	ck_assert_uint_ge(vma_count(mine, 2222 * 8), 1);
	ck_assert_uint_eq(mmvec_cache_flush(),
			  reserved_of(8, 2222) + reserved_of(8, 1111));
}
END_TEST

static volatile int stop_busy;

/* Creates and frees vectors of a few sizes, and flushes now and then:
 * some lock of the cache is held much of the time. */
static void *busy(void *arg)
{
	struct test_rng rng = { (uint64_t)(uintptr_t)arg };

	while (!__atomic_load_n(&stop_busy, __ATOMIC_RELAXED)) {
		struct mmvec *v = NULL;
		size_t max_len = 1000 * (1 + rng_below(&rng, 80));

		if (mmvec_new(8, max_len, 0, &v) == 0) {
			mmvec_push(v, NULL);
			mmvec_free(v);
		}
		if (rng_below(&rng, 500) == 0)
			mmvec_cache_flush();
	}
	return NULL;
}

/* fork() while other threads use the cache: the child never finds a lock
 * held by a thread it does not have. */
START_TEST(fork_while_threads_busy)
{
	pthread_t t[3];
	int forks = test_slow() ? 20 : 100, f, status = 0;

	stop_busy = 0;
	for (uintptr_t k = 0; k < ARRAY_LENGTH(t); k++)
		ck_assert_int_eq(pthread_create(&t[k], NULL, busy,
						(void *)(k + 1)), 0);
	for (f = 0; f < forks && status == 0; f++) {
		pid_t pid;

		fflush(NULL);
		pid = fork();
		if (pid == 0) {
			struct mmvec *v = NULL;

			alarm(10);
			for (int k = 0; k < 10; k++) {
				if (mmvec_new(8, 1000 * (1 + k % 80), 0, &v))
					_exit(2);
				mmvec_free(v);
			}
			mmvec_cache_flush();
			_exit(0);
		}
		if (pid < 0 || waitpid(pid, &status, 0) != pid)
			status = -1;
	}
	/* the threads stop before any assertion can end the test */
	__atomic_store_n(&stop_busy, 1, __ATOMIC_RELAXED);
	for (size_t k = 0; k < ARRAY_LENGTH(t); k++)
		ck_assert_int_eq(pthread_join(t[k], NULL), 0);
	ck_assert_msg(status == 0, "fork %d: child status %#x (SIGALRM: a "
		      "lock held by a thread it does not have)", f - 1, status);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Turned off: the environment, RLIMIT_AS */

/* Frees a vector and a region and asserts that neither is kept. */
static void assert_nothing_kept(void)
{
	struct mmvec_region *r = NULL;
	void *data = dirty_and_free(8, 1000, 0, 10, 6);
	void *base;

	ck_assert_uint_eq(vma_count(data, 8000), 0);
	ck_assert_int_eq(mmvec_region_new(MIB, 0, &r), 0);
	base = mmvec_region_base(r);
	mmvec_region_free(r);
	ck_assert_uint_eq(vma_count(base, MIB), 0);
	ck_assert_uint_eq(mmvec_cache_flush(), 0);
}

START_TEST(nothing_kept_when_off)
{
	assert_nothing_kept();
}
END_TEST

/* Run in a child: the environment is read when the cache is first used
 * in a process, and again in a child after fork(). */
START_TEST(env_child)
{
	setenv("MMVEC_CACHE", "0", 1);
	assert_nothing_kept();
}
END_TEST

START_TEST(env_turns_it_off)
{
	ck_assert_int_eq(test_run_in_child(env_child, 30), 0);
}
END_TEST

START_TEST(rlimit_child)
{
	struct rlimit lim;
	long long kib = proc_kib("/proc/self/status", "VmSize");

	ck_assert_int_gt(kib, 0);
	lim.rlim_cur = lim.rlim_max = (rlim_t)kib * 1024 + 64 * GIB;
	ck_assert_int_eq(setrlimit(RLIMIT_AS, &lim), 0);
	assert_nothing_kept();
}
END_TEST

/* Cached address space counts against RLIMIT_AS: none is kept then. */
START_TEST(rlimit_turns_it_off)
{
	/* something cached before the fork, which the child must not keep */
	dirty_and_free(8, 1000, 0, 10, 7);
	ck_assert_int_eq(test_run_in_child(rlimit_child, 30), 0);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Refusals: the cache gives back what it holds and the call tries again */

START_TEST(refused_reservation_flushes)
{
	struct mmvec *v = NULL;

	/* below a huge page: one reservation attempt */
	(void)dirty_and_free(8, 1000, 0, 10, 8);

	faults_plan(FAULT_BIT(MMVEC__OS_RESERVE), FAULT_NTH, 0, -ENOMEM);
	ck_assert_int_eq(mmvec_new(8, 100000, 0, &v), 0);
	faults_stop();
	ck_assert_uint_eq(faults_calls(MMVEC__OS_RESERVE), 2);
	/* given back to the OS before the retry, which may then be
	 * granted the same addresses: it is the cache that must be empty */
	ck_assert_uint_eq(mmvec_cache_flush(), 0);
	mmvec_free(v);

	/* nothing left to give back: refused at once */
	mmvec_cache_flush();
	v = BAD_PTR;
	faults_plan(FAULT_BIT(MMVEC__OS_RESERVE), FAULT_ALL, 0, -ENOMEM);
	ck_assert_int_eq(mmvec_new(8, 100000, 0, &v), -ENOMEM);
	faults_stop();
	ck_assert_uint_eq(faults_calls(MMVEC__OS_RESERVE), 1);
	ck_assert_ptr_eq(v, BAD_PTR);
}
END_TEST

START_TEST(refused_commit_flushes)
{
	void *cached = dirty_and_free(8, 1000, 0, 10, 9);
	struct mmvec *v = vec_new_ok(8, 100000, MMVEC_NO_HUGEPAGES);
	bool kept = keep_expected() > 0;

	ck_assert_uint_eq(mmvec_capacity(v), 0);
	faults_plan(FAULT_BIT(MMVEC__OS_COMMIT), FAULT_NTH, 0, -ENOMEM);
	if (kept)
		ck_assert_ptr_nonnull(mmvec_push(v, NULL));
	else
		ck_assert_null_errno(mmvec_push(v, NULL), ENOMEM);
	faults_stop();
	/* the committed memory went back, the reservation stays */
	ck_assert_uint_eq(faults_calls(MMVEC__OS_COMMIT), kept ? 2 : 1);
	ck_assert_int_eq(maps_rw_bytes(cached, 8000), 0);
	ck_assert_uint_ge(vma_count(cached, 8000), 1);
	mmvec_free(v);
	ck_assert_uint_eq(mmvec_cache_flush(),
			  reserved_of(8, 1000) + reserved_of(8, 100000));
}
END_TEST

/* A populate that fails and whose undo fails too leaves memory committed
 * and not pre-faulted: such a reservation is not what a fresh
 * MMVEC_POPULATE one would be, and is released rather than cached. */
START_TEST(unpopulated_not_cached)
{
	struct mmvec *v = vec_new_ok(8, 100000, MMVEC_POPULATE |
				     MMVEC_NO_HUGEPAGES);
	void *data = mmvec_data(v);

	faults_plan(FAULT_BIT(MMVEC__OS_POPULATE) |
		    FAULT_BIT(MMVEC__OS_DECOMMIT), FAULT_ALL, 0, -ENOMEM);
	ck_assert_null_errno(mmvec_push(v, NULL), ENOMEM);
	faults_stop();
	ck_assert_uint_gt(mmvec_capacity(v), 0); /* committed all the same */
	mmvec_free(v);
	ck_assert_uint_eq(vma_count(data, 800000), 0);
	ck_assert_uint_eq(mmvec_cache_flush(), 0);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Random lifecycles against the model */

START_TEST(lifecycles_against_model)
{
	struct test_seeds seeds;
	uint64_t seed;

	seeds_init(&seeds, 1500, 6);
	while (seeds_next(&seeds, &seed)) {
		struct vm h;

		/* every step compared with what the kernel has mapped */
		if (vm_run(&h, seed ^ 0xcac4e, (size_t)1 << 18, &faults_random, 1, 30))
			ck_abort_msg("seed %" PRIu64 ": %s (rerun with "
				     "MMVEC_TEST_SEED=%" PRIu64 ")", seed,
				     h.msg, seed);
		vm_close(&h);
	}
}
END_TEST

Suite *test_suite(int argc, char **argv)
{
	Suite *s = suite_create("cache");
	TCase *tc;

	if (!cache_expected()) {
		printf("note: the reservation cache is off here (MMVEC_CACHE=0,"
		       " -Dcache=false or RLIMIT_AS): checking that nothing is "
		       "kept\n");
		tc = test_case(s, "off", setup, NULL, 30);
		test_add(tc, 1, nothing_kept_when_off, NULL);
		return s;
	}

	tc = test_case(s, "reuse", setup, NULL, 60);
	test_add(tc, (int)ARRAY_LENGTH(flag_sets), reused_same_reservation,
		 NULL);
	test_add(tc, 1, reused_only_for_its_match, reuse_needs_no_os, NULL);
	test_add_if(tc, DEFAULT_KEPT, "in a 32-bit process the default "
		    "reservation is larger than the 16 MiB a kept one may be",
		    default_reused);

	tc = test_case(s, "fresh", setup, NULL, 60);
	test_add(tc, (int)(ARRAY_LENGTH(zero_sizes) * D_NDIRT),
		 reused_new_elements_zero, NULL);
	test_add(tc, (int)ARRAY_LENGTH(flag_sets), reused_prefix_is_committed,
		 NULL);
	test_add_signal(tc, SIGSEGV, reused_faults_past_capacity, NULL);
	if (MMVEC_PORTABLE)
		test_not_run(reused_flags_as_fresh->name,
			     "the portable OS layer gives no huge-page advice");
	else
		test_add_unless_qemu(tc, QEMU_NO_MADVISE,
				     reused_flags_as_fresh);
	test_add(tc, 1, regions_reused, NULL);

	tc = test_case(s, "bounds", setup, NULL, 60);
	test_add(tc, 1, flush_releases_everything, bounded_in_count,
		 idle_released, NULL);
	/* Valgrind and 32-bit processes cannot hold 60 default
	 * reservations */
	test_add_if(tc, !test_on_valgrind() && sizeof(size_t) == 8,
		    "needs 60 default reservations of address space",
		    bounded_in_address_space);

	tc = test_case(s, "threads", setup, NULL, 120);
	test_add(tc, 1, threads_reuse_their_own, freed_by_another_thread,
		 fork_child_starts_empty, NULL);
#if defined(TEST_ASAN) || defined(TEST_TSAN)
	/* measured with a plain program (threads in malloc(), fork(), the
	 * child mallocs): under ASan 2 of 5 runs left children hung */
	test_not_run(fork_while_threads_busy->name, "a sanitizer's allocator "
		     "does not survive fork() while other threads allocate");
#else
	/* the children lose what the other threads had allocated, which the
	 * valgrind setup's leak check reports at their exit; a guest's
	 * SIGALRM is delivered by qemu-user's own code, which a child forked
	 * while threads run can be stuck in (1 run of 9 on armhf) */
	if (test_on_valgrind())
		test_not_run(fork_while_threads_busy->name, "under Valgrind, "
			     "the children's lost allocations are leaks");
	else
		test_add_unless_qemu(tc, "a child forked while threads run "
				     "can hang inside the emulator",
				     fork_while_threads_busy);
#endif

	tc = test_case(s, "off", setup, NULL, 60);
	test_add(tc, 1, env_turns_it_off, NULL);
	test_add_unless_qemu(tc, QEMU_NO_RLIMIT, rlimit_turns_it_off);

	tc = test_case(s, "refusals", setup, NULL, 60);
	test_add(tc, 1, refused_reservation_flushes, refused_commit_flushes,
		 unpopulated_not_cached, NULL);

	tc = test_case(s, "model", setup, NULL, 300);
	test_add(tc, 1, lifecycles_against_model, NULL);
	return s;
}
