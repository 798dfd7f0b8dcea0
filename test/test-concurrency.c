/*
 * SPDX-License-Identifier: MIT
 *
 * One writer, many readers, no locks: readers that read mmvec_len() may read
 * every element below it while the writer appends (the length is published
 * with release ordering after the elements are written), whether the writer
 * calls the library, pushes inline or claims, fills and publishes.
 */
#include "test-common.h"

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>

#define NREADERS 2

/* Three words per element, so that a torn or half-written element shows */
struct elem {
	uint64_t index;
	uint64_t inverse;
	uint64_t mix;
};

static struct elem make_elem(uint64_t i)
{
	return (struct elem){
		.index = i,
		.inverse = ~i,
		.mix = i * 0x9e3779b97f4a7c15ull,
	};
}

static bool elem_ok(const struct elem *e, uint64_t i)
{
	return e->index == i && e->inverse == ~i &&
	       e->mix == i * 0x9e3779b97f4a7c15ull;
}

struct shared {
	struct mmvec *v;
	size_t n;
	atomic_bool start;
	/* a length in (0, n) that a reader saw: proof that reading overlapped
	 * writing */
	atomic_size_t partial;
};

struct reader {
	pthread_t thread;
	struct shared *sh;
	/* results, read by the main thread after join */
	size_t checked;		/* elements verified, in order */
	unsigned long rounds;	/* length reads that saw new elements */
	const char *error;	/* first problem seen, or NULL */
	size_t error_index;
};

static void *reader_main(void *arg)
{
	struct reader *rd = arg;
	const struct mmvec *v = rd->sh->v;
	const struct elem *data = mmvec_data(v);
	size_t done = 0, last_len = 0;
	unsigned long spins = 0;

	while (!atomic_load(&rd->sh->start))
		sched_yield();

	while (done < rd->sh->n) {
		size_t len = mmvec_len(v);

		if (len < last_len) {
			rd->error = "length went down while the vector grew";
			rd->error_index = len;
			break;
		}
		if (len > rd->sh->n) {
			rd->error = "length passed what was written";
			rd->error_index = len;
			break;
		}
		if (mmvec_data(v) != data) {
			rd->error = "mmvec_data() changed";
			break;
		}
		last_len = len;
		if (len == done) {
			/* let the writer run, also on one core and under
			 * Valgrind's serialised threads */
			if (++spins % 64 == 0)
				sched_yield();
			continue;
		}
		rd->rounds++;
		if (len < rd->sh->n)
			atomic_store(&rd->sh->partial, len);
		for (size_t i = done; i < len; i++) {
			if (!elem_ok(&data[i], i)) {
				rd->error = "element below the length not written";
				rd->error_index = i;
				goto out;
			}
			if (mmvec_at(v, i) != &data[i]) {
				rd->error = "mmvec_at() disagrees with mmvec_data()";
				rd->error_index = i;
				goto out;
			}
		}
		/* what was verified stays: spot-check an older element */
		if (!elem_ok(&data[done / 2], done / 2)) {
			rd->error = "an element changed after it was published";
			rd->error_index = done / 2;
			break;
		}
		done = len;
	}
out:
	rd->checked = done;
	return NULL;
}

/* How the writer appends */
enum writer {
	/* mmvec_push() and mmvec_append() mixed, with a reserve now and then */
	WRITE_MIXED,
	/* mmvec_push_val(), the inline push */
	WRITE_PUSH_VAL,
	/* mmvec_claim(), fill in place, mmvec_publish(), in uneven batches */
	WRITE_CLAIM,
	WRITERS,
};

static const unsigned writer_flags[] = {
	0, MMVEC_NO_HUGEPAGES, MMVEC_POPULATE,
};

static const char *const writer_names[WRITERS] = {
	"push/append/reserve", "mmvec_push_val", "claim/fill/publish",
};

static void write_mixed(struct mmvec *v, size_t from, size_t n)
{
	struct elem chunk[64];
	size_t i = from;

	while (i < n) {
		size_t k = (i / 7) % 3 == 0 ? 1 + i % 64 : 1;

		if (k > n - i)
			k = n - i;
		if (k == 1) {
			struct elem e = make_elem(i);

			fast_assert(mmvec_push(v, &e) != NULL);
		} else {
			for (size_t j = 0; j < k; j++)
				chunk[j] = make_elem(i + j);
			fast_assert(mmvec_append(v, chunk, k) == 0);
		}
		i += k;
		if (i % 100003 < k)
			ck_assert_int_eq(mmvec_reserve(v, i + 50000), 0);
	}
}

static void write_push_val(struct mmvec *v, size_t from, size_t n)
{
	for (size_t i = from; i < n; i++) {
		struct elem e = make_elem(i);
		struct elem *p = mmvec_push_val(v, e);

		fast_assert(p != NULL && elem_ok(p, i));
	}
}

/* Readers must never see the zeroes a claimed slot holds before it is
 * filled: element 0's index is 0, so every element is checked whole. */
static void write_claim(struct mmvec *v, size_t from, size_t n)
{
	size_t i = from;

	while (i < n) {
		size_t k = 1 + (i * 7919) % 1000;
		struct elem *slot;

		if (k > n - i)
			k = n - i;
		slot = mmvec_claim(v, k + 3);
		fast_assert(slot != NULL);
		for (size_t j = 0; j < k; j++)
			slot[j] = make_elem(i + j);
		/* published in two steps; the 3 spare slots are discarded by
		 * the next claim */
		fast_assert(mmvec_publish(v, k / 2) == 0);
		fast_assert(mmvec_publish(v, k - k / 2) == 0);
		i += k;
	}
}

/* The writer: elements [from, n) */
static void write_range(enum writer w, struct mmvec *v, size_t from, size_t n)
{
	switch (w) {
	case WRITE_MIXED:
		write_mixed(v, from, n);
		break;
	case WRITE_PUSH_VAL:
		write_push_val(v, from, n);
		break;
	case WRITE_CLAIM:
	case WRITERS:
		write_claim(v, from, n);
		break;
	}
}

START_TEST(one_writer_two_readers)
{
	struct shared sh = {
		.n = mmvec_test_slow() ? 20000 : 1000000,
	};
	struct reader readers[NREADERS];

	enum writer w = (enum writer)(_i % WRITERS);
	unsigned flags = writer_flags[_i / WRITERS];

	ck_assert_int_eq(mmvec_new(sizeof(struct elem), 0, flags, &sh.v), 0);
	atomic_init(&sh.start, false);

	for (size_t r = 0; r < NREADERS; r++) {
		readers[r] = (struct reader){ .sh = &sh };
		ck_assert_int_eq(pthread_create(&readers[r].thread, NULL,
						reader_main, &readers[r]), 0);
	}
	atomic_init(&sh.partial, 0);
	atomic_store(&sh.start, true);

	/* Half, then wait until a reader has seen part of the vector, so that
	 * the second half is written while readers read (on any scheduler,
	 * and under Valgrind, which runs one thread at a time). */
	write_range(w, sh.v, 0, sh.n / 2);
	for (long k = 0; atomic_load(&sh.partial) == 0 && k < 10000000; k++)
		sched_yield();
	ck_assert_uint_gt(atomic_load(&sh.partial), 0);
	write_range(w, sh.v, sh.n / 2, sh.n);

	for (size_t r = 0; r < NREADERS; r++) {
		ck_assert_int_eq(pthread_join(readers[r].thread, NULL), 0);
		ck_assert_msg(readers[r].error == NULL,
			      "writer %s, flags %#x, reader %zu: %s (index %zu)",
			      writer_names[w], flags, r, readers[r].error,
			      readers[r].error_index);
		ck_assert_uint_eq(readers[r].checked, sh.n);
		ck_assert_uint_ge(readers[r].rounds, 1);
	}
	ck_assert_uint_eq(mmvec_len(sh.v), sh.n);
	for (size_t i = 0; i < sh.n; i++)
		fast_assert(elem_ok(mmvec_at(sh.v, i), i));
	mmvec_free(sh.v);
}
END_TEST

static Suite *concurrency_suite(void)
{
	Suite *s = suite_create("concurrency");
	TCase *tc;

	tc = tcase_create("readers");
	tcase_set_timeout(tc, 120);
	tcase_add_loop_test(tc, one_writer_two_readers, 0,
			    (int)(ARRAY_LENGTH(writer_flags) * WRITERS));
	suite_add_tcase(s, tc);

	return s;
}

int main(void)
{
	return mmvec_test_run(concurrency_suite());
}
