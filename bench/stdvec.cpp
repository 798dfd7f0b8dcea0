/*
 * SPDX-License-Identifier: MIT
 *
 * The std::vector<int64_t> methods of mmvec-bench, called from the C driver
 * through the same struct bench_job as the C methods. Each is written the
 * way a C++ programmer would write it: push_back, insert at end(), resize
 * and shrink_to_fit, with no reserve() unless the workload says so.
 */
#include <cerrno>
#include <cstdint>
#include <new>
#include <vector>

#include "bench.h"

namespace {

struct vectors {
	std::vector<int64_t> one;
	std::vector<std::vector<int64_t>> many;
};

/* Run a method's body on vectors kept in j->keep. Running out of memory is
 * the method failing, as NULL from realloc() is for the C methods. */
template <typename Body>
int run(struct bench_job *j, Body body)
{
	try {
		vectors *k = new vectors;

		j->keep = k;
		body(*k);
		return 0;
	} catch (const std::bad_alloc &) {
		return fail_errno("std::vector", ENOMEM);
	}
}

void set_result(struct bench_job *j, const std::vector<int64_t> &v)
{
	j->data = v.data();
	j->len = v.size();
}

} // namespace

extern "C" {

/* N push_backs. */
int seq_stdvec_push(struct bench_job *j)
{
	return run(j, [j](vectors &k) {
		std::vector<int64_t> &v = k.one;
		const int64_t n = (int64_t)j->n;

		if (j->lat) {
			for (int64_t i = 0; i < n; i++)
				BENCH_TIMED(j->lat, v.push_back(i));
		} else {
			for (int64_t i = 0; i < n; i++)
				v.push_back(i);
		}
		set_result(j, v);
	});
}

/* Chunks produced in a staging buffer and inserted at the end. */
int chunks_stdvec_insert(struct bench_job *j)
{
	return run(j, [j](vectors &k) {
		std::vector<int64_t> &v = k.one;
		int64_t *stage = j->stage;
		int64_t next = 0;

		for (size_t c = 0; c < j->nsizes; c++) {
			const size_t m = j->sizes[c];

			fill(stage, m, next);
			if (j->lat)
				BENCH_TIMED(j->lat,
					    v.insert(v.end(), stage, stage + m));
			else
				v.insert(v.end(), stage, stage + m);
			next += (int64_t)m;
		}
		set_result(j, v);
	});
}

/* Grow to n by push_back, shrink to n/8 with resize + shrink_to_fit. */
int gs_stdvec(struct bench_job *j)
{
	return run(j, [j](vectors &k) {
		std::vector<int64_t> &v = k.one;
		const size_t low = j->n / 8;

		for (unsigned c = 0; c < j->cycles; c++) {
			for (size_t i = v.size(); i < j->n; i++)
				v.push_back((int64_t)i);
			long before = j->rss();
			v.resize(low);
			v.shrink_to_fit();
			bench_gs_shrunk(j, before, low);
		}
		set_result(j, v);
	});
}

/* nvec vectors growing together, one push_back each in turn. */
int small_stdvec_push(struct bench_job *j)
{
	return run(j, [j](vectors &k) {
		std::vector<std::vector<int64_t>> &vs = k.many;

		vs.resize(j->nvec);
		for (size_t e = 0; e < j->per; e++) {
			for (size_t i = 0; i < j->nvec; i++) {
				if (j->lat)
					BENCH_TIMED(j->lat,
						    vs[i].push_back((int64_t)(e + i)));
				else
					vs[i].push_back((int64_t)(e + i));
			}
		}
	});
}

int small_stdvec_check(struct bench_job *j)
{
	const vectors *k = static_cast<const vectors *>(j->keep);

	for (size_t i = 0; i < j->nvec; i++)
		if (!bench_small_ok(j, i, k->many[i].data(), k->many[i].size()))
			return -1;
	return 0;
}

/* Memory already there: reserve, fill, clear, then time a second fill. */
int steady_stdvec_push(struct bench_job *j)
{
	return run(j, [j](vectors &k) {
		std::vector<int64_t> &v = k.one;
		const int64_t n = (int64_t)j->n;
		struct bench_clock clk;

		v.reserve(j->n);
		for (int64_t i = 0; i < n; i++)
			v.push_back(~i);
		v.clear();
		bench_clock_start(&clk);
		for (int64_t i = 0; i < n; i++)
			v.push_back(i);
		bench_clock_stop(&clk, j->n, &j->steady_ns, &j->steady_wall_ns);
		set_result(j, v);
	});
}

/* lifecycle: a vector constructed, k push_backs, destroyed (lifecycle.c
 * runs the loops) */
static int life_stdvec_loops(size_t loops, size_t k, int64_t *sum)
{
	try {
		for (size_t l = 0; l < loops; l++) {
			std::vector<int64_t> v;

			for (int64_t i = 0; i < (int64_t)k; i++)
				v.push_back(i);
			*sum += v.back();
		}
	} catch (const std::bad_alloc &) {
		return fail_errno("std::vector", ENOMEM);
	}
	return 0;
}

int life_stdvec(struct bench_job *j)
{
	return life_run(j, life_stdvec_loops);
}

void free_stdvec(struct bench_job *j)
{
	delete static_cast<vectors *>(j->keep);
	j->keep = nullptr;
}

} // extern "C"
