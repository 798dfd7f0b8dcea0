/*
 * SPDX-License-Identifier: MIT
 *
 * The Check side of the test helpers: the one runner every test program
 * uses, tests run in a forked child, assertions for loops, snapshots to
 * assert that a failed call changed nothing, and asserting probes of what
 * the kernel has mapped.
 *
 * Every test program includes this header first: through helpers.h it
 * pulls in config.h, which defines _GNU_SOURCE before any system header.
 */
#ifndef MMVEC_TEST_RUNNER_H
#define MMVEC_TEST_RUNNER_H

#include "helpers.h"

#include <check.h>
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "mmvec.h"

/* ------------------------------------------------------------------------ */
/* Assertions for loops
 *
 * Check records the location of every ck_assert that passes (a write to its
 * message file), which dominates a loop of 10^5 iterations, ten times more
 * under Valgrind. These check the same and say nothing until they fail.
 */

#define fast_assert(expr_)							\
	do {									\
		if (!(expr_))							\
			ck_abort_msg("Assertion '%s' failed", #expr_);		\
	} while (0)

#define fast_assert_msg(expr_, ...)						\
	do {									\
		if (!(expr_))							\
			ck_abort_msg(__VA_ARGS__);				\
	} while (0)

#define fast_assert_eq_(type_, fmt_, x_, y_)				\
	do {									\
		type_ fx_ = (x_);						\
		type_ fy_ = (y_);						\
		if (fx_ != fy_)							\
			ck_abort_msg("Assertion '%s == %s' failed: " fmt_	\
				     " != " fmt_, #x_, #y_, fx_, fy_);		\
	} while (0)

#define fast_assert_uint_eq(x_, y_) fast_assert_eq_(uintmax_t, "%ju", x_, y_)
#define fast_assert_ptr_eq(x_, y_) fast_assert_eq_(const void *, "%p", x_, y_)

/* A call that returns a pointer returns NULL and sets errno to @err_ */
#define ck_assert_null_errno(call_, err_)					\
	do {									\
		errno = 0;							\
		ck_assert_ptr_null(call_);					\
		ck_assert_int_eq(errno, (err_));				\
	} while (0)

/* ------------------------------------------------------------------------ */
/* Running
 *
 * runner.c holds main(): it runs the one suite each test program builds
 * with test_suite(), under CK_ENV's settings (CK_VERBOSITY, CK_FORK,
 * CK_RUN_CASE, ...), and exits 0 only if no test failed.
 */

/* Defined by each test program: its suite. @argc and @argv are main()'s;
 * a program that cannot run here exits with test_skip(). */
Suite *test_suite(int argc, char **argv);

/* A new test case of @s named @name: each of its tests gets @timeout
 * seconds and the fixture @setup/@teardown (either may be NULL). */
TCase *test_case(Suite *s, const char *name, void (*setup)(void),
		 void (*teardown)(void), double timeout);

/* Adds the tests given up to NULL, each run with _i from 0 to @loop - 1. */
__attribute__((sentinel)) void test_add(TCase *tc, int loop, ...);

/* Adds the tests given up to NULL, each of which must raise @signal: only
 * when Check forks (test_forking()); otherwise a line says they are not
 * run, never counted as passed. */
__attribute__((sentinel)) void test_add_signal(TCase *tc, int signal, ...);

/* Adds test @t unless this process runs under Valgrind, where a line says
 * it is not run. */
void test_add_not_on_valgrind(TCase *tc, const TTest *t);

/* Adds test @t if @run; otherwise a line says it is not run, and @why. */
void test_add_if(TCase *tc, bool run, const char *why, const TTest *t);

/* Adds test @t unless this process runs under qemu-user, which does not
 * emulate what it checks (@why: QEMU_NO_MINCORE, ...). */
#define test_add_unless_qemu(tc_, why_, t_)                                    \
	test_add_if((tc_), !test_on_qemu_user(), "under qemu-user, " why_, (t_))

/* Adds test @t except on Windows, where a line says it is not run, and
 * @why. A test whose body cannot even be built there is defined under
 * #ifndef _WIN32 instead, and named with test_not_run() on Windows. */
#ifdef _WIN32
#define test_add_posix(tc_, why_, t_) test_not_run((t_)->name, (why_))
#else
#define test_add_posix(tc_, why_, t_) tcase_add_test((tc_), t_)
#endif

/* Prints that test @name is not run, and @why. */
void test_not_run(const char *name, const char *why);

/* True if Check runs each test in a forked child (CK_FORK unset or not
 * "no"): only then can a test that must crash be added. */
bool test_forking(void);

/* Runs test @t in a forked child under its own Check runner (so that its
 * assertions, and anything it does to the process, stay in the child
 * whatever CK_FORK says), killed by SIGALRM after @seconds. The child exits
 * 0 if the test passed, 1 if it failed (printing why), 2 if it did not run.
 * Returns the wait status. Windows has no fork(): there it fails the test,
 * and the tests that call it are not registered. */
int test_run_in_child(const TTest *t, unsigned seconds);

/* Prints "SKIP: @why" and exits with TEST_SKIP. */
__attribute__((noreturn)) void test_skip(const char *why);

/* ------------------------------------------------------------------------ */
/* Vectors */

/* Every valid combination of the flags, to initialise an array */
#define VALID_FLAG_SETS								\
	{									\
		0, MMVEC_HUGEPAGES, MMVEC_NO_HUGEPAGES, MMVEC_POPULATE,		\
		MMVEC_HUGEPAGES | MMVEC_POPULATE,				\
		MMVEC_NO_HUGEPAGES | MMVEC_POPULATE,				\
	}

/* Appends @n elements with pattern @tag (the k-th new element gets index k)
 * through mmvec_push(); asserts each push. */
void push_pattern(struct mmvec *v, unsigned tag, size_t n);

/* A new vector that must be created: empty, with the given element size and
 * a data pointer. */
struct mmvec *vec_new_ok(size_t es, size_t max_len, unsigned flags);

/* Asserts that elements [from, to) of @v hold pattern @tag with index
 * (i - from + first). */
#define ck_assert_pattern(v_, from_, to_, tag_, first_)				\
	do {									\
		const struct mmvec *cap_v_ = (v_);				\
		size_t cap_es_ = mmvec_elem_size(cap_v_);			\
		for (size_t cap_i_ = (from_); cap_i_ < (size_t)(to_); cap_i_++) \
			fast_assert_msg(pattern_check(mmvec_at(cap_v_, cap_i_),	\
						    cap_es_, (tag_),		\
						    cap_i_ - (from_) + (first_)), \
				      "element %zu does not hold pattern %u/%zu", \
				      cap_i_, (unsigned)(tag_),			\
				      (size_t)(cap_i_ - (from_) + (first_)));	\
	} while (0)

/* ------------------------------------------------------------------------ */
/* Snapshots: after a failed call, a vector must be exactly as before. */

struct vec_snapshot {
	size_t len;
	size_t capacity;
	size_t max_len;
	size_t elem_size;
	void *data;
	unsigned char *copy; /* len * elem_size bytes, or NULL when empty */
};

void vec_snapshot_take(struct vec_snapshot *s, const struct mmvec *v);
void vec_snapshot_release(struct vec_snapshot *s);

#define ck_assert_vec_unchanged(v_, s_)						\
	do {									\
		const struct mmvec *cvu_v_ = (v_);				\
		const struct vec_snapshot *cvu_s_ = (s_);			\
		ck_assert_uint_eq(mmvec_len(cvu_v_), cvu_s_->len);		\
		ck_assert_uint_eq(mmvec_capacity(cvu_v_), cvu_s_->capacity);	\
		ck_assert_uint_eq(mmvec_max_len(cvu_v_), cvu_s_->max_len);	\
		ck_assert_uint_eq(mmvec_elem_size(cvu_v_), cvu_s_->elem_size);	\
		ck_assert_ptr_eq(mmvec_data(cvu_v_), cvu_s_->data);		\
		if (cvu_s_->len > 0)						\
			ck_assert_msg(memcmp(cvu_s_->data, cvu_s_->copy,	\
					     cvu_s_->len * cvu_s_->elem_size) == 0, \
				      "vector contents changed");		\
	} while (0)

/* ------------------------------------------------------------------------ */
/* What the kernel has mapped, asserting that it can be read */

/* Number of resident pages among those overlapping [addr, addr + len), by
 * mincore() (the working set on Windows). */
size_t resident_pages(const void *addr, size_t len);

/* Rss of the whole process in KiB from /proc/self/smaps_rollup (the
 * working set's size on Windows). */
long rss_kib(void);

/* Number of mappings (VMAs) that overlap [addr, addr + len). */
unsigned vma_count(const void *addr, size_t len);

/* True if the mapping containing @addr is readable or writable, false if it
 * is PROT_NONE or if nothing is mapped there. */
bool vma_accessible(const void *addr);

/* True if the mapping containing @addr lists @flag (e.g. "hg", "nh") in its
 * VmFlags line of /proc/self/smaps; asserts that the mapping is found. */
bool vma_has_flag(const void *addr, const char *flag);

#endif /* MMVEC_TEST_RUNNER_H */
