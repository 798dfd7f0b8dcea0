/*
 * SPDX-License-Identifier: MIT
 *
 * Many producers against the model of what they wrote: 1 to 16 producer
 * threads append (id, seq, check) elements, one at a time and in random
 * batches, while reader threads acquire the length and check every element
 * below it: complete, not torn, from a known producer. At the end every
 * (id, seq) a producer was told it appended is there exactly once. Also
 * with commits failing at random (a failed claim leaves nothing, and the
 * producer tries again) and with a vector that fills up (every producer
 * then gets ENOSPC, and what was published stays). White-box, for the
 * OS layer's fault hook.
 */
#include "runner.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#include "faults.h"
#include "os.h"

#define MAX_PRODUCERS 16
#define NREADERS 2

struct elem {
	uint32_t id;
	uint32_t seq;
	uint64_t check;
};

static uint64_t check_of(uint32_t id, uint32_t seq)
{
	uint64_t x = ((uint64_t)id << 32 | seq) * UINT64_C(0x9e3779b97f4a7c15);

	return (x ^ (x >> 29)) | 1; /* never 0: an unwritten slot shows */
}

struct run {
	struct mmvec *v;
	unsigned producers;
	size_t per;          /* elements each producer tries to append */
	uint64_t seed;
	bool stop_on_full;   /* ENOSPC ends a producer; else it is a failure */
	unsigned running;    /* producers not yet done (atomic) */
	/* per producer: how many it appended (its seqs 0 .. done - 1) */
	size_t done[MAX_PRODUCERS];
	unsigned long retries; /* ENOMEM claims tried again (atomic) */
	char failure[160];     /* the first failure a thread saw */
	int failed;            /* atomic */
};

static void report(struct run *r, const char *what, size_t a, size_t b)
{
	if (__atomic_exchange_n(&r->failed, 1, __ATOMIC_ACQ_REL) == 0)
		snprintf(r->failure, sizeof(r->failure), "%s (%zu, %zu)", what,
			 a, b);
}

struct producer {
	struct run *r;
	uint32_t id;
};

static void *produce(void *arg)
{
	struct producer *p = arg;
	struct run *r = p->r;
	struct test_rng rng = { r->seed * 131 + p->id };
	uint32_t seq = 0;

	while (seq < r->per && !__atomic_load_n(&r->failed, __ATOMIC_RELAXED)) {
		size_t n = 1;
		struct elem *e;

		/* half single pushes, half batches of 1 to 64 */
		if (rng_next(&rng) & 1) {
			struct elem x = { p->id, seq, check_of(p->id, seq) };

			e = mmvec_mp_push(r->v, &x);
		} else {
			n = 1 + (size_t)rng_below(&rng, 64);
			if (n > r->per - seq)
				n = r->per - seq;
			e = mmvec_mp_claim(r->v, n);
			if (e) {
				for (size_t i = 0; i < n; i++) {
					e[i].id = p->id;
					e[i].seq = seq + (uint32_t)i;
					e[i].check = check_of(p->id,
							      seq + (uint32_t)i);
				}
				if (mmvec_mp_publish(r->v, e, n) != 0)
					report(r, "publish failed", p->id, seq);
			}
		}
		if (!e) {
			if (errno == ENOMEM) {
				__atomic_fetch_add(&r->retries, 1,
						   __ATOMIC_RELAXED);
				continue;
			}
			if (errno == ENOSPC && r->stop_on_full && n == 1)
				break;
			if (errno == ENOSPC && r->stop_on_full)
				continue; /* a smaller batch may still fit */
			report(r, "claim failed", p->id, (size_t)errno);
			break;
		}
		seq += (uint32_t)n;
		/* oversubscribed or not, let others run in between */
		if ((rng_next(&rng) & 255) == 0)
			mmvec__os_yield();
	}
	r->done[p->id] = seq;
	__atomic_fetch_sub(&r->running, 1, __ATOMIC_RELEASE);
	return NULL;
}

/* Every element below the length it saw: written in full by a producer. */
static void *read_back(void *arg)
{
	struct run *r = arg;
	size_t checked = 0;

	for (;;) {
		bool last = __atomic_load_n(&r->running, __ATOMIC_ACQUIRE) == 0;
		size_t len = mmvec_len(r->v);
		const struct elem *d = mmvec_data(r->v);

		if (len < checked) {
			report(r, "the length went down", checked, len);
			return NULL;
		}
		for (size_t i = checked; i < len; i++) {
			if (d[i].id >= r->producers || d[i].seq >= r->per ||
			    d[i].check != check_of(d[i].id, d[i].seq)) {
				report(r, "unwritten or torn element", i, len);
				return NULL;
			}
		}
		checked = len;
		if (last || __atomic_load_n(&r->failed, __ATOMIC_RELAXED))
			return NULL;
		mmvec__os_yield();
	}
}

/* The run, then what it left: each (id, seq) appended exactly once. */
static void run_and_check(struct run *r)
{
	pthread_t pt[MAX_PRODUCERS], rt[NREADERS];
	struct producer p[MAX_PRODUCERS];
	size_t total = 0, len;
	unsigned char *seen;
	const struct elem *d;
	double deadline;

	r->running = r->producers;
	for (unsigned i = 0; i < NREADERS; i++)
		ck_assert_int_eq(pthread_create(&rt[i], NULL, read_back, r), 0);
	for (unsigned i = 0; i < r->producers; i++) {
		p[i].r = r;
		p[i].id = i;
		ck_assert_int_eq(pthread_create(&pt[i], NULL, produce, &p[i]),
				 0);
	}
	/* A range the front never took leaves the length short; once 128
	 * wait, publishers wait for it: fail here instead of hanging. */
	deadline = now_seconds() + (test_slow() ? 200 : 30);
	while (__atomic_load_n(&r->running, __ATOMIC_ACQUIRE)) {
		ck_assert_msg(now_seconds() < deadline,
			      "seed %ju, %u producers stuck: the length is "
			      "%zu (%s)", (uintmax_t)r->seed, r->producers,
			      mmvec_len(r->v),
			      r->failed ? r->failure : "no failure seen");
		mmvec__os_yield();
	}
	for (unsigned i = 0; i < r->producers; i++)
		ck_assert_int_eq(pthread_join(pt[i], NULL), 0);
	for (unsigned i = 0; i < NREADERS; i++)
		ck_assert_int_eq(pthread_join(rt[i], NULL), 0);
	ck_assert_msg(!r->failed, "seed %ju, %u producers: %s",
		      (uintmax_t)r->seed, r->producers, r->failure);

	for (unsigned i = 0; i < r->producers; i++)
		total += r->done[i];
	len = mmvec_len(r->v);
	ck_assert_uint_eq(len, total);
	seen = calloc(r->producers * r->per, 1);
	ck_assert_ptr_nonnull(seen);
	d = mmvec_data(r->v);
	for (size_t i = 0; i < len; i++) {
		fast_assert_msg(d[i].id < r->producers &&
					d[i].seq < r->done[d[i].id] &&
					d[i].check == check_of(d[i].id, d[i].seq),
				"seed %ju: element %zu is no appended one",
				(uintmax_t)r->seed, i);
		fast_assert_msg(!seen[d[i].id * r->per + d[i].seq]++,
				"seed %ju: (%u, %u) twice", (uintmax_t)r->seed,
				d[i].id, d[i].seq);
	}
	free(seen);
	/* the writer may take over once the producers are stopped */
	ck_assert_int_eq(mmvec_resize(r->v, len), 0);
}

static unsigned max_producers(void)
{
	/* qemu-user runs every thread slowly, in one process */
	return test_on_qemu_user() ? 4 : MAX_PRODUCERS;
}

static size_t elements(void)
{
	return test_slow() ? 20000 : 400000;
}

static void setup(void)
{
	faults_stop();
}

static void teardown(void)
{
	faults_stop();
}

/* 1, 2, 4, 8 and 16 producers, two readers. */
START_TEST(producers_and_readers)
{
	for (unsigned n = 1; n <= max_producers(); n *= 2) {
		struct run r = { 0 };

		r.producers = n;
		r.per = elements() / n;
		r.seed = n;
		r.v = vec_new_ok(sizeof(struct elem), 0, 0);
		run_and_check(&r);
		mmvec_free(r.v);
	}
}
END_TEST

/* Commits fail at random: claims that needed memory fail, leave nothing,
 * and are tried again. */
START_TEST(commits_fail)
{
	unsigned long retries = 0;

	for (unsigned n = 2; n <= max_producers(); n *= 2) {
		struct run r = { 0 };

		r.producers = n;
		r.per = elements() / n;
		r.seed = 100 + n;
		r.v = vec_new_ok(sizeof(struct elem), 0, 0);
		faults_plan(FAULT_BIT(MMVEC__OS_COMMIT) |
				    FAULT_BIT(MMVEC__OS_POPULATE),
			    FAULT_RANDOM, 0, -ENOMEM);
		run_and_check(&r);
		faults_stop();
		retries += r.retries;
		mmvec_free(r.v);
	}
	ck_assert_uint_gt(retries, 0);
}
END_TEST

/* A vector smaller than what the producers append: each gets ENOSPC in the
 * end, and the vector holds exactly what they were told they appended. */
START_TEST(vector_fills_up)
{
	for (unsigned n = 1; n <= max_producers(); n *= 2) {
		struct run r = { 0 };
		size_t max = elements() / 3 + n;

		r.producers = n;
		r.per = elements() / n;
		r.seed = 200 + n;
		r.stop_on_full = true;
		r.v = vec_new_ok(sizeof(struct elem), max, 0);
		run_and_check(&r);
		ck_assert_uint_eq(mmvec_len(r.v), max);
		ck_assert_null_errno(mmvec_mp_push(r.v, NULL), ENOSPC);
		mmvec_free(r.v);
	}
}
END_TEST

Suite *test_suite(int argc, char **argv)
{
	Suite *s = suite_create("mp-diff");
	TCase *tc;

	(void)argc;
	(void)argv;
	tc = test_case(s, "mp-diff", setup, teardown, 240);
	test_add(tc, 1, producers_and_readers, commits_fail, vector_fills_up,
		 NULL);
	return s;
}
