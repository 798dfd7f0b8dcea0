/*
 * SPDX-License-Identifier: MIT
 *
 * The std::vector<int64_t> methods of mmvec-bench, called from the C driver
 * through the same struct bench_job as the C methods. Each is written the
 * way a C++ programmer would write it: push_back, insert at end(), resize
 * and shrink_to_fit, with no reserve() unless the workload says so.
 */
#include <cstdint>
#include <cstring>
#include <new>
#include <vector>

#include "bench.h"

namespace {

struct kept {
	std::vector<int64_t> one;
	std::vector<std::vector<int64_t>> many;
};

kept *new_kept(struct bench_job *j)
{
	kept *k = new kept;
	j->keep = k;
	return k;
}

} // namespace

extern "C" {

int bench_stdvec_seq(struct bench_job *j);
int bench_stdvec_chunks(struct bench_job *j);
int bench_stdvec_growshrink(struct bench_job *j);
int bench_stdvec_small(struct bench_job *j);
int bench_stdvec_small_check(struct bench_job *j);
int bench_stdvec_steady(struct bench_job *j);
void bench_stdvec_free(struct bench_job *j);

/* N push_backs. */
int bench_stdvec_seq(struct bench_job *j)
{
	try {
		kept *k = new_kept(j);
		std::vector<int64_t> &v = k->one;
		const int64_t n = (int64_t)j->n;

		if (j->lat) {
			for (int64_t i = 0; i < n; i++)
				BENCH_TIMED(j->lat, v.push_back(i));
		} else {
			for (int64_t i = 0; i < n; i++)
				v.push_back(i);
		}
		j->data = v.data();
		j->len = v.size();
		return 0;
	} catch (const std::bad_alloc &) {
		return -1;
	}
}

/* Chunks produced in a staging buffer and inserted at the end. */
int bench_stdvec_chunks(struct bench_job *j)
{
	try {
		kept *k = new_kept(j);
		std::vector<int64_t> &v = k->one;
		int64_t *stage = j->stage;
		int64_t next = 0;

		for (size_t c = 0; c < j->nsizes; c++) {
			const size_t m = j->sizes[c];

			for (size_t i = 0; i < m; i++)
				stage[i] = next + (int64_t)i;
			if (j->lat)
				BENCH_TIMED(j->lat,
					    v.insert(v.end(), stage, stage + m));
			else
				v.insert(v.end(), stage, stage + m);
			next += (int64_t)m;
		}
		j->data = v.data();
		j->len = v.size();
		return 0;
	} catch (const std::bad_alloc &) {
		return -1;
	}
}

/* Grow to n by push_back, shrink to n/8 with resize + shrink_to_fit. */
int bench_stdvec_growshrink(struct bench_job *j)
{
	try {
		kept *k = new_kept(j);
		std::vector<int64_t> &v = k->one;
		const size_t low = j->n / 8;

		for (unsigned c = 0; c < j->cycles; c++) {
			for (size_t i = v.size(); i < j->n; i++)
				v.push_back((int64_t)i);
			long before = j->rss();
			v.resize(low);
			v.shrink_to_fit();
			long after = j->rss();
			j->returned_bytes += (double)(before - after);
			j->freed_bytes += (double)(j->n - low) * sizeof(int64_t);
		}
		j->data = v.data();
		j->len = v.size();
		return 0;
	} catch (const std::bad_alloc &) {
		return -1;
	}
}

/* nvec vectors growing together, one push_back each in turn. */
int bench_stdvec_small(struct bench_job *j)
{
	try {
		kept *k = new_kept(j);
		std::vector<std::vector<int64_t>> &vs = k->many;

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
		return 0;
	} catch (const std::bad_alloc &) {
		return -1;
	}
}

int bench_stdvec_small_check(struct bench_job *j)
{
	const kept *k = static_cast<const kept *>(j->keep);

	for (size_t i = 0; i < j->nvec; i++) {
		const std::vector<int64_t> &v = k->many[i];
		if (v.size() != j->per)
			return -1;
		for (size_t e = 0; e < j->per; e++)
			if (v[e] != (int64_t)(e + i))
				return -1;
	}
	return 0;
}

/* Memory already there: reserve, fill, clear, then time a second fill. */
int bench_stdvec_steady(struct bench_job *j)
{
	try {
		kept *k = new_kept(j);
		std::vector<int64_t> &v = k->one;
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
		j->data = v.data();
		j->len = v.size();
		return 0;
	} catch (const std::bad_alloc &) {
		return -1;
	}
}

void bench_stdvec_free(struct bench_job *j)
{
	delete static_cast<kept *>(j->keep);
	j->keep = nullptr;
}

} // extern "C"
