/*
 * SPDX-License-Identifier: MIT
 *
 * The libmmvec methods of mmvec-bench, each written the way a user of the
 * library would write it. Appends go one of the ways the library offers
 * (enum way); one always-inlined loop per workload serves every way, so
 * each method's compiled loop holds its own way's code and nothing else.
 */
#define _GNU_SOURCE

#include <errno.h>
#include <stdlib.h>

#include <mmvec.h>

#include "bench.h"

#define ALWAYS_INLINE static inline __attribute__((always_inline))

/* Claim/fill/publish appends in batches of this many elements (32 KiB). */
#define CLAIM_ELEMS 4096u

enum way {
	PUSH,      /* mmvec_push(): a call into the shared library */
	PUSH_FAST, /* mmvec_push_fast(): inline, the element copied as bytes */
	PUSH_VAL,  /* mmvec_push_val(): inline, stored as int64_t */
	CLAIM,     /* mmvec_claim(), filled in place, mmvec_publish() */
	EXTEND,    /* mmvec_extend(), filled in place */
	APPEND,    /* mmvec_append() from a staging buffer */
};

static const char *const way_names[] = {
	"mmvec_push", "mmvec_push_fast", "mmvec_push_val", "mmvec_claim",
	"mmvec_extend", "mmvec_append",
};

/* A method of bench.h: one workload's loop, one way. */
#define METHOD(name, call)                                                     \
	int name(struct bench_job *j)                                          \
	{                                                                      \
		return call;                                                   \
	}

/* ---------------------------------------------------------------------------
 * One vector per job
 * ------------------------------------------------------------------------- */

static int new_vec(struct bench_job *j, struct mmvec **out, unsigned flags)
{
	int rc = mmvec_new(sizeof(int64_t), 0, flags, out);

	if (rc)
		return fail_errno("mmvec_new", -rc);
	j->keep = *out;
	return 0;
}

static void set_result(struct bench_job *j, const struct mmvec *v)
{
	j->data = mmvec_data(v);
	j->len = mmvec_len(v);
}

void free_mmvec(struct bench_job *j)
{
	mmvec_free(j->keep);
}

/* ---------------------------------------------------------------------------
 * Appending, each way
 * ------------------------------------------------------------------------- */

/* x by value: it stays in a register, as in a caller that pushes values it
 * computes. */
ALWAYS_INLINE void *push_one(struct mmvec *v, int64_t x, enum way way)
{
	switch (way) {
	case PUSH_FAST:
		return mmvec_push_fast(v, &x, sizeof(x));
	case PUSH_VAL:
		return mmvec_push_val(v, x);
	default:
		return mmvec_push(v, &x);
	}
}

/* m elements first, first + 1, ... in one operation of a bulk way; 0, or -1
 * after saying why. */
ALWAYS_INLINE int append_bulk(struct mmvec *v, struct bench_job *j, size_t m,
			      int64_t first, enum way way)
{
	int64_t *p;
	int rc = 0;

	switch (way) {
	case CLAIM:
		p = mmvec_claim(v, m);
		if (!p)
			return fail_errno("mmvec_claim", errno);
		fill(p, m, first);
		rc = mmvec_publish(v, m);
		break;
	case EXTEND:
		p = mmvec_extend(v, m);
		if (!p)
			return fail_errno("mmvec_extend", errno);
		fill(p, m, first);
		break;
	default:
		/* the staging buffer is filled before the operation */
		rc = mmvec_append(v, j->stage, m);
		break;
	}
	return rc ? fail_errno(way_names[way], -rc) : 0;
}

/* first, first + 1, ... first + n - 1, one element at a time, or for CLAIM
 * in batches of CLAIM_ELEMS; each element or batch timed into lat unless it
 * is NULL. */
ALWAYS_INLINE int append_n(struct mmvec *v, struct bench_job *j, size_t n,
			   int64_t first, enum way way, struct bench_lat *lat)
{
	if (way == CLAIM) {
		for (size_t done = 0; done < n;) {
			size_t m = n - done < CLAIM_ELEMS ? n - done : CLAIM_ELEMS;
			int64_t x = first + (int64_t)done;
			int rc;

			if (lat)
				BENCH_TIMED(lat, rc = append_bulk(v, j, m, x, CLAIM));
			else
				rc = append_bulk(v, j, m, x, CLAIM);
			if (rc)
				return -1;
			done += m;
		}
		return 0;
	}
	for (int64_t i = 0; i < (int64_t)n; i++) {
		void *p;

		if (lat)
			BENCH_TIMED(lat, p = push_one(v, first + i, way));
		else
			p = push_one(v, first + i, way);
		if (!p)
			return fail_errno(way_names[way], errno);
	}
	return 0;
}

/* ---------------------------------------------------------------------------
 * seq: N single appends
 * ------------------------------------------------------------------------- */

ALWAYS_INLINE int seq(struct bench_job *j, unsigned flags, enum way way)
{
	struct mmvec *v;
	int rc;

	if (new_vec(j, &v, flags))
		return -1;
	/* two copies of the loop: the untimed one has no timer code */
	if (j->lat)
		rc = append_n(v, j, j->n, 0, way, j->lat);
	else
		rc = append_n(v, j, j->n, 0, way, NULL);
	set_result(j, v);
	return rc;
}

METHOD(seq_mmvec_push, seq(j, 0, PUSH))
METHOD(seq_mmvec_push_fast, seq(j, 0, PUSH_FAST))
METHOD(seq_mmvec_push_val, seq(j, 0, PUSH_VAL))
METHOD(seq_mmvec_claim, seq(j, 0, CLAIM))
/* what the defaults buy: the same pushes with other flags */
METHOD(seq_mmvec_push_nohuge, seq(j, MMVEC_NO_HUGEPAGES, PUSH))
METHOD(seq_mmvec_push_huge, seq(j, MMVEC_HUGEPAGES, PUSH))
METHOD(seq_mmvec_push_populate, seq(j, MMVEC_POPULATE, PUSH))
/* the inline push with the pre-faulting thread ahead of it */
METHOD(seq_mmvec_push_val_pretouch, seq(j, MMVEC_PRETOUCH, PUSH_VAL))

/* One extend of N, filled in place. */
int seq_mmvec_extend(struct bench_job *j)
{
	struct mmvec *v;

	if (new_vec(j, &v, 0) || append_bulk(v, j, j->n, 0, EXTEND))
		return -1;
	set_result(j, v);
	return 0;
}

/* ---------------------------------------------------------------------------
 * chunk and random: appends of job->sizes[] elements (seq's mmvec_append
 * too, in 4 KiB chunks)
 * ------------------------------------------------------------------------- */

ALWAYS_INLINE int chunks(struct bench_job *j, enum way way)
{
	struct mmvec *v;
	int64_t next = 0;

	if (new_vec(j, &v, 0))
		return -1;
	for (size_t c = 0; c < j->nsizes; c++) {
		size_t m = j->sizes[c];
		int rc;

		if (way == APPEND)
			fill(j->stage, m, next);
		if (j->lat)
			BENCH_TIMED(j->lat, rc = append_bulk(v, j, m, next, way));
		else
			rc = append_bulk(v, j, m, next, way);
		if (rc)
			return -1;
		next += (int64_t)m;
	}
	set_result(j, v);
	return 0;
}

METHOD(chunks_mmvec_extend, chunks(j, EXTEND))
METHOD(chunks_mmvec_claim, chunks(j, CLAIM))
METHOD(chunks_mmvec_append, chunks(j, APPEND))

/* ---------------------------------------------------------------------------
 * growshrink: grow to n, shrink to n/8, j->cycles times
 * ------------------------------------------------------------------------- */

int gs_mmvec(struct bench_job *j)
{
	struct mmvec *v;
	const size_t low = j->n / 8;

	if (new_vec(j, &v, 0))
		return -1;
	for (unsigned c = 0; c < j->cycles; c++) {
		size_t len = mmvec_len(v);
		long before;
		int rc;

		if (append_n(v, j, j->n - len, (int64_t)len, PUSH, NULL))
			return -1;
		before = j->rss();
		rc = mmvec_resize(v, low);
		if (!rc)
			rc = mmvec_shrink_to_fit(v);
		if (rc)
			return fail_errno("mmvec_shrink_to_fit", -rc);
		bench_gs_shrunk(j, before, low);
	}
	set_result(j, v);
	return 0;
}

/* ---------------------------------------------------------------------------
 * small: many small vectors, growing together
 * ------------------------------------------------------------------------- */

/* A claimed batch being filled. */
struct batch {
	int64_t *next;
	size_t left, size;
};

struct many {
	size_t n;
	struct mmvec **v;
	struct batch *b; /* CLAIM: one per vector */
};

/* Element x, number e of vector v, into its claimed batch: a batch is
 * claimed when none is open and published when it is full. */
ALWAYS_INLINE int claim_one(struct mmvec *v, struct batch *b, int64_t x,
			    size_t e, size_t per)
{
	if (!b->left) {
		b->size = per - e < CLAIM_ELEMS ? per - e : CLAIM_ELEMS;
		b->next = mmvec_claim(v, b->size);
		if (!b->next)
			return fail_errno("mmvec_claim", errno);
		b->left = b->size;
	}
	*b->next++ = x;
	if (--b->left == 0) {
		int rc = mmvec_publish(v, b->size);
		if (rc)
			return fail_errno("mmvec_publish", -rc);
	}
	return 0;
}

ALWAYS_INLINE int small_one(struct many *m, size_t i, size_t e, size_t per,
			    enum way way)
{
	int64_t x = (int64_t)(e + i);

	if (way == CLAIM)
		return claim_one(m->v[i], &m->b[i], x, e, per);
	if (!push_one(m->v[i], x, way))
		return fail_errno(way_names[way], errno);
	return 0;
}

ALWAYS_INLINE int small(struct bench_job *j, size_t max_len, enum way way)
{
	struct many *m = xcalloc(1, sizeof(*m));

	j->keep = m;
	m->v = xcalloc(j->nvec, sizeof(*m->v));
	if (way == CLAIM)
		m->b = xcalloc(j->nvec, sizeof(*m->b));
	for (size_t i = 0; i < j->nvec; i++) {
		int rc = mmvec_new(sizeof(int64_t), max_len, 0, &m->v[i]);
		if (rc) {
			fprintf(stderr, "mmvec-bench: vector %zu of %zu: ", i + 1, j->nvec);
			return fail_errno("mmvec_new", -rc);
		}
		m->n = i + 1;
	}
	for (size_t e = 0; e < j->per; e++) {
		for (size_t i = 0; i < j->nvec; i++) {
			int rc;

			if (j->lat)
				BENCH_TIMED(j->lat, rc = small_one(m, i, e, j->per, way));
			else
				rc = small_one(m, i, e, j->per, way);
			if (rc)
				return -1;
		}
	}
	return 0;
}

/* the default reservation, as users get it */
METHOD(small_mmvec_push, small(j, 0, PUSH))
METHOD(small_mmvec_push_fast, small(j, 0, PUSH_FAST))
METHOD(small_mmvec_push_val, small(j, 0, PUSH_VAL))
METHOD(small_mmvec_claim, small(j, 0, CLAIM))
/* an explicit max_len of exactly the elements each vector gets */
METHOD(small_mmvec_push_maxlen, small(j, j->per, PUSH))

int small_mmvec_check(struct bench_job *j)
{
	const struct many *m = j->keep;

	for (size_t i = 0; i < j->nvec; i++)
		if (!bench_small_ok(j, i, mmvec_data(m->v[i]), mmvec_len(m->v[i])))
			return -1;
	return 0;
}

void free_small_mmvec(struct bench_job *j)
{
	struct many *m = j->keep;

	if (!m)
		return;
	for (size_t i = 0; i < m->n; i++)
		mmvec_free(m->v[i]);
	free(m->v);
	free(m->b);
	free(m);
}

/* ---------------------------------------------------------------------------
 * steady: memory committed and resident, time the second fill
 * ------------------------------------------------------------------------- */

ALWAYS_INLINE int steady(struct bench_job *j, enum way way)
{
	struct mmvec *v;
	struct bench_clock clk;
	int rc;

	if (new_vec(j, &v, 0))
		return -1;
	rc = mmvec_reserve(v, j->n);
	if (rc)
		return fail_errno("mmvec_reserve", -rc);
	/* the first fill commits and touches the memory, and runs the same
	 * code once: -n .. -1, then 0 .. n - 1 after the clear */
	if (append_n(v, j, j->n, -(int64_t)j->n, way, NULL))
		return -1;
	mmvec_clear(v);
	bench_clock_start(&clk);
	rc = append_n(v, j, j->n, 0, way, NULL);
	bench_clock_stop(&clk, j->n, &j->steady_ns, &j->steady_wall_ns);
	set_result(j, v);
	return rc;
}

METHOD(steady_mmvec_push, steady(j, PUSH))
METHOD(steady_mmvec_push_fast, steady(j, PUSH_FAST))
METHOD(steady_mmvec_push_val, steady(j, PUSH_VAL))
METHOD(steady_mmvec_claim, steady(j, CLAIM))


/* ---------------------------------------------------------------------------
 * lifecycle: create, k appends, free (lifecycle.c runs the loops)
 * ------------------------------------------------------------------------- */

ALWAYS_INLINE int life_loops(size_t loops, size_t k, size_t max_len,
			     int64_t *sum)
{
	for (size_t l = 0; l < loops; l++) {
		struct mmvec *v;
		int64_t *last = NULL;
		int rc = mmvec_new(sizeof(int64_t), max_len, 0, &v);

		if (rc)
			return fail_errno("mmvec_new", -rc);
		for (int64_t i = 0; i < (int64_t)k; i++) {
			last = mmvec_push_val(v, i);
			if (!last) {
				mmvec_free(v);
				return fail_errno("mmvec_push_val", errno);
			}
		}
		if (last) /* k > 0 */
			*sum += *last;
		mmvec_free(v);
	}
	return 0;
}

/* the default reservation, as users get it */
static int life_default_loops(size_t loops, size_t k, int64_t *sum)
{
	return life_loops(loops, k, 0, sum);
}

/* an explicit max_len: 1024, or k if that is more */
static int life_maxlen_loops(size_t loops, size_t k, int64_t *sum)
{
	return life_loops(loops, k, k > 1024 ? k : 1024, sum);
}

METHOD(life_mmvec_default, life_run(j, life_default_loops))
METHOD(life_mmvec_maxlen, life_run(j, life_maxlen_loops))
