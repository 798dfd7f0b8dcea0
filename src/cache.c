/*
 * SPDX-License-Identifier: MIT
 *
 * The reservation cache: anonymous reservations that vectors and regions
 * were done with, kept for reuse, so that creating and freeing one costs no
 * system call (mimalloc and jemalloc keep freed address ranges the same
 * way). A reservation is reused only by a request for exactly its size and
 * flags, so that what a caller gets is what a fresh reservation would be:
 * the same alignment, huge-page advice and mappings. It may keep a small
 * committed prefix, resident and with what its last user wrote in it; the
 * caller learns how many bytes of it may be non-zero and zeroes those as
 * new data reaches them.
 *
 * Two levels, as mimalloc keeps pages per thread in front of shared arenas:
 * - each thread's cache, TCACHE_SLOTS reservations that only it takes from
 *   and adds to, under a lock of its own that other threads take only to
 *   flush, purge or fork: on the fast path the lock is a cache line of the
 *   thread's, never contended;
 * - the shared pool, POOL_SLOTS reservations under the process-wide lock
 *   (mmvec__os_lock()), which a thread's cache overflows into, a miss looks
 *   in, and an exiting thread's cache is emptied into.
 *
 * Bounds (the README and mmvec_cache_flush(3) state them with these
 * numbers): at most TCACHE_SLOTS reservations and TCACHE_MAX_BYTES of
 * address space per thread, POOL_SLOTS and POOL_MAX_BYTES in the pool, and
 * at most KEEP_BYTES committed per reservation (none where commit is
 * strict, so that no commit charge is held for later: Linux's
 * vm.overcommit_memory=2, Windows). Nothing is cached while RLIMIT_AS is
 * set, where kept address space would count against the limit.
 *
 * Purging without a thread of its own: frees read a coarse clock (one in
 * CLOCK_EVERY of a thread's, and the first after a miss of its cache); at
 * most every CHECK_MS one of them (whichever thread gets there first)
 * releases every reservation that has been cached for IDLE_MS or more, in
 * every thread's cache and the pool, and reads the limits above again. A
 * program that stops calling the library keeps what is cached until its
 * next call or mmvec_cache_flush().
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "annotate.h"
#include "os.h"
#include "region.h"

#if MMVEC_CACHE

#define TCACHE_SLOTS 8
#define POOL_SLOTS 64
/* The committed prefix a cached reservation keeps: enough for a vector of
 * a few thousand small elements to be created, filled and freed again
 * without a system call or a page fault. */
#define KEEP_BYTES ((size_t)64 << 10)
#define IDLE_MS 1000u
#define CHECK_MS 250u
/* A thread reads the clock on one free in this many (4 ns a reading, a
 * tenth of a create and free), and after a miss of its cache (which costs
 * a reservation): its stamps are at most that many frees old. A thread that
 * frees rarely sees it as a reservation released a little early, and the
 * purge comes within this many frees rather than at the next one. */
#define CLOCK_EVERY 8u

/* Address space the cache may hold. 64-bit: a thousandth of x86-64's
 * 128 TiB per thread and under a hundredth in the pool (32 default
 * reservations of 32 GiB). 32-bit processes have 2 to 4 GiB in all:
 * only small reservations, and little of them. */
#if SIZE_MAX > 0xffffffffu
#define ENTRY_MAX_BYTES SIZE_MAX
#define TCACHE_MAX_BYTES ((size_t)256 << 30)
#define POOL_MAX_BYTES ((size_t)1 << 40)
#else
#define ENTRY_MAX_BYTES ((size_t)16 << 20)
#define TCACHE_MAX_BYTES ((size_t)32 << 20)
#define POOL_MAX_BYTES ((size_t)128 << 20)
#endif

/* A cached reservation: the region as it was handed in (anonymous, whole,
 * at most KEEP_BYTES committed), so that taking it is a copy. */
struct entry {
	struct mmvec_region r;
	size_t dirty;     /* bytes from the base that may be non-zero */
	uint64_t stamp;   /* mmvec__os_now_ms() when it was cached */
};

/* A thread's cache, heap-allocated on the thread's first free and freed
 * when the thread exits. The registry links them all, so that a flush, a
 * purge or a fork can reach every one. Its owner and the rare other thread
 * that empties it exclude each other with `busy` and `req` (see "Locks"). */
struct tcache {
	int busy;      /* the owner is inside */
	int req;       /* another thread wants in, or is in */
	unsigned n;
	unsigned puts; /* by the owner, to read the clock every CLOCK_EVERY */
	uint64_t now;  /* the clock at the owner's last reading */
	size_t bytes;  /* address space of e[0..n) */
	struct entry e[TCACHE_SLOTS]; /* oldest first */
	struct tcache *next, *prev;   /* registry, under the process lock */
};

/* This thread's cache; DEAD once its exit handler has run. The one
 * thread-local variable, of the initial-exec model where the object format
 * has it: read with no call (the general model calls __tls_get_addr() on
 * every access), at the cost of a pointer's worth of the static TLS that
 * glibc sets aside for libraries loaded with dlopen(). */
static struct tcache dead;
#define DEAD (&dead)
#ifdef __ELF__
__attribute__((tls_model("initial-exec")))
#endif
static __thread struct tcache *mine;

/* Under the process lock. */
static struct {
	struct entry e[POOL_SLOTS]; /* oldest first */
	unsigned n;
	size_t bytes;
	struct tcache *threads;
	bool atfork;
	bool biased_tried;
} pool;

/* What every take and put reads: written rarely, read with relaxed loads,
 * so the cache line stays shared in every CPU's cache. */
enum state { UNDECIDED, ON, OFF, OFF_FOR_GOOD };

static struct {
	int state;          /* enum state */
	size_t keep;        /* KEEP_BYTES, or 0 where commit is strict */
	/* when the next purge may run, in CHECK_MS units: 32 bits, so that
	 * 32-bit targets without 64-bit atomics need no libatomic (they wrap
	 * after 34 years) */
	unsigned next_tick;
} cfg;

/* ---------------------------------------------------------------------------
 * Locks
 *
 * A thread's cache is its owner's on every create and free, and another
 * thread's only to flush, purge or fork, under the process lock (one such
 * thread at a time). The owner sets `busy` and then reads `req`; the other
 * sets `req` and then reads `busy`: a Dekker pair, each store ordered
 * before the other side's load. Where the OS has a process-wide barrier
 * (mmvec__os_barrier()) the rare side pays for that order with it and the
 * owner with a compiler barrier: no atomic read-modify-write and no fence
 * on the fast path, where two of them would cost a quarter of a create and
 * free. Elsewhere (and under ThreadSanitizer, which cannot see that
 * barrier) the owner's store is an atomic exchange, a full fence.
 * ------------------------------------------------------------------------- */

#if defined(__SANITIZE_THREAD__)
#define NO_BIASED_LOCK 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define NO_BIASED_LOCK 1
#endif
#endif

/* Whether the owner's side may use a compiler barrier alone. Only ever
 * turned on before any thread cache exists, or in a fork child (one
 * thread). */
static bool biased;

/* Wait for *flag to go to 0: the other side copies a few entries and is
 * done, unless it lost its CPU; then let it run. */
static void wait_while(const int *flag)
{
	for (unsigned spins = 0; __atomic_load_n(flag, __ATOMIC_ACQUIRE);)
		if (++spins % 256 == 0)
			mmvec__os_yield();
}

static void own_enter(struct tcache *tc)
{
	for (;;) {
		if (__atomic_load_n(&biased, __ATOMIC_RELAXED)) {
			__atomic_store_n(&tc->busy, 1, __ATOMIC_RELAXED);
			__atomic_signal_fence(__ATOMIC_SEQ_CST);
		} else {
			(void)__atomic_exchange_n(&tc->busy, 1,
						  __ATOMIC_SEQ_CST);
		}
		if (!__atomic_load_n(&tc->req, __ATOMIC_ACQUIRE))
			return;
		/* another thread is in: wait for it to finish */
		__atomic_store_n(&tc->busy, 0, __ATOMIC_RELEASE);
		wait_while(&tc->req);
	}
}

static void own_exit(struct tcache *tc)
{
	__atomic_store_n(&tc->busy, 0, __ATOMIC_RELEASE);
}

/* The visitor's side of the pair, for the caches from tc up to (not
 * including) end: the process lock held. */
static void hold(struct tcache *tc, const struct tcache *end)
{
	for (struct tcache *t = tc; t != end; t = t->next)
		__atomic_store_n(&t->req, 1, __ATOMIC_RELAXED);
	if (__atomic_load_n(&biased, __ATOMIC_RELAXED))
		mmvec__os_barrier();
	else
		__atomic_thread_fence(__ATOMIC_SEQ_CST);
	for (struct tcache *t = tc; t != end; t = t->next)
		wait_while(&t->busy);
}

/* Keep every thread out of its cache (around a fork). */
static void hold_all(void)
{
	hold(pool.threads, NULL);
}

static void release_hold(struct tcache *tc)
{
	__atomic_store_n(&tc->req, 0, __ATOMIC_RELEASE);
}

static void unhold_all(void)
{
	for (struct tcache *tc = pool.threads; tc; tc = tc->next)
		release_hold(tc);
}

/* ---------------------------------------------------------------------------
 * Entries
 * ------------------------------------------------------------------------- */

/* Give a cached reservation back to the OS; its address space. */
static size_t release(const struct entry *e)
{
	struct mmvec_region r = e->r;
	size_t bytes = mmvec__region_owned(&r);

	if (mmvec__annotating())
		mmvec__mark_released(r.base, r.committed);
	mmvec__region_fini(&r);
	return bytes;
}

static size_t release_all(const struct entry *e, unsigned n)
{
	size_t bytes = 0;

	for (unsigned i = 0; i < n; i++)
		bytes += release(&e[i]);
	return bytes;
}

/* Give back the committed prefix of a cached reservation (its pages and
 * their commit charge), keeping the reservation; false if the OS refused
 * or took part of the range (then the caller releases it). */
static bool drop_prefix(struct entry *e)
{
	if (!e->r.committed)
		return true;
	if (mmvec__annotating())
		mmvec__mark_released(e->r.base, e->r.committed);
	if (mmvec__region_decommit(&e->r, 0) != 0 ||
	    mmvec__region_owned(&e->r) != e->r.reserved)
		return false;
	e->dirty = 0;
	return true;
}

/* Remove e[i] of n, keeping the order. The newest (the last), which a
 * create and free in a loop take every time, needs no move. */
static void remove_at(struct entry *e, unsigned *n, unsigned i)
{
	if (i + 1 < *n)
		memmove(&e[i], &e[i + 1], (*n - i - 1) * sizeof(*e));
	(*n)--;
}

/* The newest entry of e[0..n) of that size and those flags, removed into
 * *r and *dirty. */
static bool find(struct entry *e, unsigned *n, size_t *held, size_t bytes,
		 unsigned flags, struct mmvec_region *r, size_t *dirty)
{
	for (unsigned i = *n; i-- > 0;) {
		if (e[i].r.reserved != bytes || e[i].r.flags != flags)
			continue;
		*r = e[i].r;
		*dirty = e[i].dirty;
		*held -= bytes;
		remove_at(e, n, i);
		return true;
	}
	return false;
}

/* Move the entries of e[0..n) cached at or before `before` (all of them
 * for UINT64_MAX) to out[], which has room for n; how many moved. */
static unsigned take_idle(struct entry *e, unsigned *n, size_t *held,
			  uint64_t before, struct entry *out)
{
	unsigned moved = 0;

	for (unsigned i = 0; i < *n;) {
		if (e[i].stamp > before) {
			i++;
			continue;
		}
		out[moved++] = e[i];
		*held -= e[i].r.reserved;
		remove_at(e, n, i);
	}
	return moved;
}

/* ---------------------------------------------------------------------------
 * The pool (under the process lock)
 * ------------------------------------------------------------------------- */

/* Add e, making room by moving the oldest entries to out[] (room for
 * POOL_SLOTS); false, and nothing added, if e alone is too large. */
static bool pool_add(const struct entry *e, struct entry *out, unsigned *nout)
{
	if (e->r.reserved > POOL_MAX_BYTES)
		return false;
	while (pool.n == POOL_SLOTS ||
	       pool.bytes + e->r.reserved > POOL_MAX_BYTES) {
		out[(*nout)++] = pool.e[0];
		pool.bytes -= pool.e[0].r.reserved;
		remove_at(pool.e, &pool.n, 0);
	}
	pool.e[pool.n++] = *e;
	pool.bytes += e->r.reserved;
	return true;
}

/* Add n entries to the pool; what does not fit is released. */
/* Room for what pool_add() may move out while n entries are added: the
 * whole pool, and n entries that did not fit. */
#define OUT_SLOTS(n) (POOL_SLOTS + 2 * (n))

static void pool_add_all(const struct entry *e, unsigned n)
{
	struct entry out[OUT_SLOTS(TCACHE_SLOTS + 1)];
	unsigned nout = 0;

	mmvec__os_lock();
	for (unsigned i = 0; i < n; i++)
		if (!pool_add(&e[i], out, &nout))
			out[nout++] = e[i];
	mmvec__os_unlock();
	release_all(out, nout);
}

/* ---------------------------------------------------------------------------
 * Threads, fork and the configuration
 * ------------------------------------------------------------------------- */

static void unlink_thread(struct tcache *tc)
{
	if (tc->prev)
		tc->prev->next = tc->next;
	else
		pool.threads = tc->next;
	if (tc->next)
		tc->next->prev = tc->prev;
}

/* The exiting thread's cache goes to the pool. */
static void thread_exit(void *arg)
{
	struct tcache *tc = arg;

	mmvec__os_lock();
	unlink_thread(tc);
	mmvec__os_unlock();
	/* nobody else can reach it now */
	pool_add_all(tc->e, tc->n);
	free(tc);
	mine = DEAD;
}

/* This thread's cache, made on first use; NULL if it cannot be had. */
static struct tcache *my_cache(void)
{
	struct tcache *tc = mine;

	if (tc)
		return tc == DEAD ? NULL : tc;
	tc = calloc(1, sizeof(*tc));
	if (!tc)
		return NULL;
	if (mmvec__os_at_thread_exit(thread_exit, tc) != 0) {
		free(tc);
		return NULL;
	}
	mmvec__os_lock();
	tc->next = pool.threads;
	if (tc->next)
		tc->next->prev = tc;
	pool.threads = tc;
	mmvec__os_unlock();
	mine = tc;
	return tc;
}

static void fork_prepare(void)
{
	mmvec__os_lock();
	hold_all();
}

static void fork_parent(void)
{
	unhold_all();
	mmvec__os_unlock();
}

/* The child starts with an empty cache: what was cached is released, in
 * the child only. A child often sets its own limits (RLIMIT_AS) after the
 * fork and measures its address space for them; reservations that nothing
 * uses must not be in it. The other threads' caches are as they were,
 * since fork_prepare() held their locks; those threads do not exist in the
 * child, and their caches go too. The limits are read again at the next
 * call. */
static void fork_child(void)
{
	struct tcache *tc, *next;

	for (tc = pool.threads; tc; tc = next) {
		next = tc->next;
		release_hold(tc);
		release_all(tc->e, tc->n);
		tc->n = 0;
		tc->bytes = 0;
		if (tc != mine) {
			unlink_thread(tc);
			free(tc);
		}
	}
	release_all(pool.e, pool.n);
	pool.n = 0;
	pool.bytes = 0;
	if (__atomic_load_n(&cfg.state, __ATOMIC_RELAXED) != OFF_FOR_GOOD)
		__atomic_store_n(&cfg.state, UNDECIDED, __ATOMIC_RELAXED);
	__atomic_store_n(&cfg.next_tick, 0, __ATOMIC_RELAXED);
	/* the child is a process of its own, to register anew */
	__atomic_store_n(&biased, false, __ATOMIC_RELAXED);
	pool.biased_tried = false;
	mmvec__os_unlock();
}

/* The limits the cache obeys, read from the OS; the process lock held. */
static void configure(void)
{
	const char *env = getenv("MMVEC_CACHE");
	bool limited = false;
	size_t unused;

	if (!pool.atfork) {
		/* without fork handlers a child could inherit a held lock:
		 * no cache then */
		if (mmvec__os_atfork(fork_prepare, fork_parent, fork_child)) {
			__atomic_store_n(&cfg.state, OFF_FOR_GOOD,
					 __ATOMIC_RELAXED);
			return;
		}
		pool.atfork = true;
	}
	/* before any thread cache is in use: a registry with entries here
	 * comes from before a fork, with one thread */
	if (!pool.biased_tried) {
#ifndef NO_BIASED_LOCK
		__atomic_store_n(&biased, mmvec__os_barrier_init(),
				 __ATOMIC_RELAXED);
#endif
		pool.biased_tried = true;
	}
	if (env && strcmp(env, "0") == 0) {
		__atomic_store_n(&cfg.state, OFF_FOR_GOOD, __ATOMIC_RELAXED);
		return;
	}
	(void)mmvec__os_address_space(false, &limited, &unused);
	__atomic_store_n(&cfg.keep, mmvec__os_strict_commit() ? 0 : KEEP_BYTES,
			 __ATOMIC_RELAXED);
	__atomic_store_n(&cfg.state, limited ? OFF : ON, __ATOMIC_RELAXED);
}

/* Whether the cache is on, deciding it on first use. */
static bool on(void)
{
	int state = __atomic_load_n(&cfg.state, __ATOMIC_RELAXED);

	if (state == UNDECIDED) {
		mmvec__os_lock();
		if (__atomic_load_n(&cfg.state, __ATOMIC_RELAXED) == UNDECIDED)
			configure();
		mmvec__os_unlock();
		state = __atomic_load_n(&cfg.state, __ATOMIC_RELAXED);
	}
	return state == ON;
}

/* ---------------------------------------------------------------------------
 * Emptying: flush, purge
 * ------------------------------------------------------------------------- */

/* Entries taken out of a cache: with commit_only, those whose committed
 * prefix goes back go to the pool, the rest are released. The process
 * lock held. The address space released, or with commit_only the
 * committed memory. */
static size_t settle(struct entry *e, unsigned n, bool commit_only)
{
	size_t bytes = 0;

	for (unsigned i = 0; i < n; i++) {
		struct entry out[OUT_SLOTS(1)];
		unsigned nout = 0;
		size_t committed = e[i].r.committed;

		if (commit_only && drop_prefix(&e[i]) &&
		    pool_add(&e[i], out, &nout))
			bytes += committed;
		else
			out[nout++] = e[i];
		for (unsigned k = 0; k < nout; k++)
			bytes += commit_only ? out[k].r.committed
					     : mmvec__region_owned(&out[k].r);
		release_all(out, nout);
	}
	return bytes;
}

/* Take from every thread's cache and the pool what was cached at or before
 * `before` (everything for UINT64_MAX); with commit_only, give back only
 * the committed prefixes and keep the reservations. The address space
 * released, or with commit_only the committed memory given back. */
static size_t empty(uint64_t before, bool commit_only)
{
	struct entry got[POOL_SLOTS];
	size_t bytes = 0;
	unsigned n;

	mmvec__os_lock();
	/* one cache at a time, so that no owner waits while the entries of
	 * another are given back */
	for (struct tcache *tc = pool.threads; tc; tc = tc->next) {
		hold(tc, tc->next);
		n = take_idle(tc->e, &tc->n, &tc->bytes, before, got);
		release_hold(tc);
		bytes += settle(got, n, commit_only);
	}
	n = take_idle(pool.e, &pool.n, &pool.bytes, before, got);
	bytes += settle(got, n, commit_only);
	mmvec__os_unlock();
	return bytes;
}

/* At most every CHECK_MS, by whichever free gets there first: read the
 * limits again, empty the cache if they say so, and release what has been
 * idle for IDLE_MS. */
static void tick(uint64_t now)
{
	unsigned next = __atomic_load_n(&cfg.next_tick, __ATOMIC_RELAXED);
	unsigned at = (unsigned)(now / CHECK_MS);
	size_t kept;

	if (at < next || !__atomic_compare_exchange_n(&cfg.next_tick, &next,
						      at + 1, false,
						      __ATOMIC_RELAXED,
						      __ATOMIC_RELAXED))
		return;
	kept = __atomic_load_n(&cfg.keep, __ATOMIC_RELAXED);
	mmvec__os_lock();
	configure();
	mmvec__os_unlock();
	if (__atomic_load_n(&cfg.state, __ATOMIC_RELAXED) != ON)
		empty(UINT64_MAX, false);
	else if (kept && !__atomic_load_n(&cfg.keep, __ATOMIC_RELAXED))
		empty(UINT64_MAX, true);
	if (now >= IDLE_MS)
		empty(now - IDLE_MS, false);
}

/* ---------------------------------------------------------------------------
 * Internal API (region.h)
 * ------------------------------------------------------------------------- */

bool mmvec__cache_take(struct mmvec_region *r, size_t bytes, unsigned flags,
		       size_t *dirty)
{
	struct tcache *tc;
	bool found = false;

	if (!on())
		return false;
	tc = mine;
	if (tc && tc != DEAD) {
		own_enter(tc);
		found = find(tc->e, &tc->n, &tc->bytes, bytes, flags, r, dirty);
		own_exit(tc);
	}
	if (!found) {
		mmvec__os_lock();
		found = find(pool.e, &pool.n, &pool.bytes, bytes, flags, r,
			     dirty);
		mmvec__os_unlock();
		/* a miss costs a reservation: the clock comes cheap now, and
		 * the next free sees what has been idle meanwhile */
		if (tc && tc != DEAD)
			tc->now = mmvec__os_now_ms();
	}
	return found;
}

/* Whether r is what a fresh reservation of its size and flags would be:
 * whole, anonymous, with MMVEC_POPULATE all its committed memory
 * pre-faulted, and huge-page aligned where a fresh one would be when the
 * address space allows it. */
static bool as_fresh(const struct mmvec_region *r)
{
	if (r->fd >= 0 || mmvec__region_owned(r) != r->reserved ||
	    r->unpopulated ||
	    r->reserved > ENTRY_MAX_BYTES)
		return false;
	return !r->huge || r->reserved < r->huge ||
	       ((uintptr_t)r->base & (r->huge - 1)) == 0;
}

bool mmvec__cache_put(struct mmvec_region *r, size_t dirty)
{
	struct entry e, out[TCACHE_SLOTS + 1];
	unsigned nout = 0;
	struct tcache *tc;
	size_t keep;

	if (!on()) {
		/* an RLIMIT_AS may have gone meanwhile */
		if (__atomic_load_n(&cfg.state, __ATOMIC_RELAXED) == OFF)
			tick(mmvec__os_now_ms());
		return false;
	}
	if (!as_fresh(r))
		return false;
	/* What is committed past the kept prefix goes back now (in one
	 * decommit, with the region's advice restored: two mappings). */
	keep = __atomic_load_n(&cfg.keep, __ATOMIC_RELAXED);
	if (r->committed > keep &&
	    (mmvec__region_decommit(r, keep) != 0 ||
	     mmvec__region_owned(r) != r->reserved))
		return false;
	if (mmvec__annotating())
		mmvec__mark_noaccess(r->base, r->committed);

	e.r = *r;
	e.dirty = dirty < r->committed ? dirty : r->committed;

	tc = my_cache();
	if (tc && tc->puts++ % CLOCK_EVERY == 0)
		tc->now = mmvec__os_now_ms();
	e.stamp = tc ? tc->now : mmvec__os_now_ms();
	if (tc && e.r.reserved <= TCACHE_MAX_BYTES) {
		own_enter(tc);
		/* the oldest make room, for the pool */
		while (tc->n == TCACHE_SLOTS ||
		       tc->bytes + e.r.reserved > TCACHE_MAX_BYTES) {
			out[nout++] = tc->e[0];
			tc->bytes -= tc->e[0].r.reserved;
			remove_at(tc->e, &tc->n, 0);
		}
		tc->e[tc->n++] = e;
		tc->bytes += e.r.reserved;
		own_exit(tc);
	} else {
		out[nout++] = e;
	}
	if (nout)
		pool_add_all(out, nout);
	tick(e.stamp);
	return true;
}

size_t mmvec__cache_flush(bool commit_only)
{
	return empty(UINT64_MAX, commit_only);
}

#else /* !MMVEC_CACHE: built without the cache */

bool mmvec__cache_take(struct mmvec_region *r, size_t bytes, unsigned flags,
		       size_t *dirty)
{
	(void)r;
	(void)bytes;
	(void)flags;
	(void)dirty;
	return false;
}

bool mmvec__cache_put(struct mmvec_region *r, size_t dirty)
{
	(void)r;
	(void)dirty;
	return false;
}

size_t mmvec__cache_flush(bool commit_only)
{
	(void)commit_only;
	return 0;
}

#endif

/* ---------------------------------------------------------------------------
 * Public API
 * ------------------------------------------------------------------------- */

MMVEC_EXPORT size_t mmvec_cache_flush(void)
{
	return mmvec__cache_flush(false);
}
