/*
 * SPDX-License-Identifier: MIT
 *
 * The workloads of mmvec-bench and the methods each one runs, in the order
 * of the tables; and the sizes of the appends of the chunked workloads.
 */
#define _GNU_SOURCE

#include <stdlib.h>
#include <string.h>

#include "bench.h"

const char *const workload_names[W_COUNT] = {
	"seq", "chunk", "random", "growshrink", "small", "steady", "lifecycle",
	"mt",
};

const char *const workload_titles[W_COUNT] = {
	"N int64 appended one at a time (bulk methods: in place)",
	"N int64 appended in 4 KiB chunks (512 elements)",
	"N int64 appended in log-uniform random chunks of 1..65536 elements",
	"grow to S by single appends, shrink to S/8 and give the memory back",
	"many small vectors growing together, one append each in turn",
	"steady state: memory already committed, push N after a clear",
	"create, k int64 appended one at a time, free: a loop per vector",
	"1, 2, 4, 8, 16 threads appending N int64 in total to one vector",
};

#define SEQ W_BIT(W_SEQ)
#define CHUNKS (W_BIT(W_CHUNK) | W_BIT(W_RANDOM))
#define GS W_BIT(W_GROWSHRINK)
#define SMALL W_BIT(W_SMALL)
#define STEADY W_BIT(W_STEADY)
#define LIFE W_BIT(W_LIFECYCLE)

static const struct kept mmvec = { NULL, free_mmvec };
static const struct kept cvec = { NULL, free_cvec };
static const struct kept raw = { NULL, free_raw };
static const struct kept small_mmvec = { small_mmvec_check, free_small_mmvec };
static const struct kept small_cvec = { small_realloc_check, free_small_realloc };
static const struct kept life = { life_check, life_free };

/* The std::vector methods, when there is a C++ compiler: CXX(row) is the
 * row, or nothing. */
#ifdef BENCH_HAVE_CXX
static const struct kept stdvec = { NULL, free_stdvec };
static const struct kept small_stdvec = { small_stdvec_check, free_stdvec };
#define CXX(...) __VA_ARGS__,
#else
#define CXX(...)
#endif

const struct method methods[] = {
	{ SEQ, "mmvec_push", seq_mmvec_push, &mmvec, M_LAT },
	{ SEQ, "mmvec_push_fast", seq_mmvec_push_fast, &mmvec, M_LAT },
	{ SEQ, "mmvec_push_val", seq_mmvec_push_val, &mmvec, M_LAT },
	{ SEQ, "mmvec_claim", seq_mmvec_claim, &mmvec, M_LAT },
	{ SEQ, "mmvec_extend", seq_mmvec_extend, &mmvec, 0 },
	{ SEQ, "mmvec_append", chunks_mmvec_append, &mmvec, M_LAT },
	{ SEQ, "realloc_push", seq_realloc_push, &cvec, M_LAT },
	CXX({ SEQ, "stdvec_push", seq_stdvec_push, &stdvec, M_LAT })
	{ SEQ, "raw_fill", seq_raw_fill, &raw, 0 },
	{ SEQ, "raw_huge_fill", seq_raw_huge_fill, &raw, 0 },
	/* what the defaults buy: the same pushes with other flags */
	{ SEQ, "mmvec_push_nohuge", seq_mmvec_push_nohuge, &mmvec, M_LAT | M_OPTIONAL },
	{ SEQ, "mmvec_push_huge", seq_mmvec_push_huge, &mmvec, M_LAT | M_OPTIONAL },
	{ SEQ, "mmvec_push_populate", seq_mmvec_push_populate, &mmvec, M_LAT | M_OPTIONAL },
	{ SEQ, "mmvec_push_val_pretouch", seq_mmvec_push_val_pretouch, &mmvec, M_LAT | M_OPTIONAL },

	{ CHUNKS, "mmvec_extend", chunks_mmvec_extend, &mmvec, M_LAT },
	{ CHUNKS, "mmvec_claim", chunks_mmvec_claim, &mmvec, M_LAT },
	{ CHUNKS, "mmvec_append", chunks_mmvec_append, &mmvec, M_LAT },
	{ CHUNKS, "realloc_append", chunks_realloc_append, &cvec, M_LAT },
	CXX({ CHUNKS, "stdvec_insert", chunks_stdvec_insert, &stdvec, M_LAT })

	{ GS, "mmvec_shrink", gs_mmvec, &mmvec, 0 },
	{ GS, "realloc_shrink", gs_realloc, &cvec, 0 },
	CXX({ GS, "stdvec_shrink", gs_stdvec, &stdvec, 0 })

	{ SMALL, "mmvec_push", small_mmvec_push, &small_mmvec, M_LAT },
	{ SMALL, "mmvec_push_fast", small_mmvec_push_fast, &small_mmvec, M_LAT },
	{ SMALL, "mmvec_push_val", small_mmvec_push_val, &small_mmvec, M_LAT },
	{ SMALL, "mmvec_claim", small_mmvec_claim, &small_mmvec, M_LAT },
	{ SMALL, "mmvec_push_maxlen", small_mmvec_push_maxlen, &small_mmvec, M_LAT },
	{ SMALL, "realloc_push", small_realloc_push, &small_cvec, M_LAT },
	CXX({ SMALL, "stdvec_push", small_stdvec_push, &small_stdvec, M_LAT })

	{ STEADY, "mmvec_push", steady_mmvec_push, &mmvec, 0 },
	{ STEADY, "mmvec_push_fast", steady_mmvec_push_fast, &mmvec, 0 },
	{ STEADY, "mmvec_push_val", steady_mmvec_push_val, &mmvec, 0 },
	{ STEADY, "mmvec_claim", steady_mmvec_claim, &mmvec, 0 },
	{ STEADY, "floor_push", steady_floor_push, &cvec, 0 },
	{ STEADY, "realloc_push", steady_realloc_push, &cvec, 0 },
	CXX({ STEADY, "stdvec_push", steady_stdvec_push, &stdvec, 0 })

	{ LIFE, "mmvec_default", life_mmvec_default, &life, M_MARKS },
	{ LIFE, "mmvec_maxlen", life_mmvec_maxlen, &life, M_MARKS },
	{ LIFE, "realloc", life_realloc, &life, M_MARKS },
	CXX({ LIFE, "stdvec", life_stdvec, &life, M_MARKS })
};

const size_t nmethods = sizeof(methods) / sizeof(methods[0]);

int find_workload(const char *name)
{
	for (int w = 0; w < W_COUNT; w++)
		if (strcmp(name, workload_names[w]) == 0)
			return w;
	return -1;
}

const struct method *find_method(enum workload w, const char *name)
{
	for (size_t i = 0; i < nmethods; i++)
		if ((methods[i].workloads & W_BIT(w)) &&
		    strcmp(methods[i].name, name) == 0)
			return &methods[i];
	return NULL;
}

static uint64_t xorshift(uint64_t *s)
{
	uint64_t x = *s;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	*s = x;
	return x;
}

/* Append sizes summing to n: fixed 4 KiB chunks, or log-uniform in
 * [1, 2^RANDOM_MAX_LOG2] (a uniform power of two, then uniform within it).
 * The same seed gives every method the same sequence. */
uint32_t *make_sizes(enum workload w, size_t n, uint64_t seed, size_t *count,
		     size_t *largest)
{
	size_t cap = 1024, k = 0, left = n;
	uint32_t *s = xcalloc(cap, sizeof(*s));
	uint64_t st = seed * 0x9E3779B97F4A7C15u + 1;

	*largest = 1;
	while (left) {
		size_t m;

		if (w == W_RANDOM) {
			unsigned e = (unsigned)(xorshift(&st) % RANDOM_MAX_LOG2);
			m = ((size_t)1 << e) + (size_t)(xorshift(&st) % ((uint64_t)1 << e));
		} else {
			m = CHUNK_ELEMS;
		}
		if (m > left)
			m = left;
		if (k == cap) {
			cap *= 2;
			s = xrealloc(s, cap, sizeof(*s));
		}
		s[k++] = (uint32_t)m;
		if (m > *largest)
			*largest = m;
		left -= m;
	}
	*count = k;
	return s;
}
