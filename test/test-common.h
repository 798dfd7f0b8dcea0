/*
 * SPDX-License-Identifier: MIT
 *
 * Helpers shared by the Check suites: the runner, snapshots to assert that
 * a failed call changed nothing, element patterns, and probes of what the
 * kernel has mapped (mincore, /proc/self/smaps).
 *
 * Every test file includes this header first: it pulls in config.h, which
 * defines _GNU_SOURCE before any system header.
 */
#ifndef MMVEC_TEST_COMMON_H
#define MMVEC_TEST_COMMON_H

#include "config.h"

#include <check.h>
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "mmvec.h"

#define ARRAY_LENGTH(a) (sizeof(a) / sizeof((a)[0]))

/* A pointer no call may write to an out parameter it is given on failure */
#define BAD_PTR ((void *)(uintptr_t)0x5e5e5e50)

#define KIB ((size_t)1024)
#define MIB (KIB * 1024)
#define GIB (MIB * 1024)

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

#define fast_assert_uint_eq(x_, y_)						\
	do {									\
		uintmax_t fx_ = (x_), fy_ = (y_);				\
		if (fx_ != fy_)							\
			ck_abort_msg("Assertion '%s == %s' failed: %ju != %ju",	\
				     #x_, #y_, fx_, fy_);			\
	} while (0)

#define fast_assert_ptr_eq(x_, y_)						\
	do {									\
		const void *fx_ = (x_), *fy_ = (y_);				\
		if (fx_ != fy_)							\
			ck_abort_msg("Assertion '%s == %s' failed: %p != %p",	\
				     #x_, #y_, fx_, fy_);			\
	} while (0)

/* ------------------------------------------------------------------------ */
/* Running */

/* Runs every test of @s (CK_VERBOSITY picks the output), frees the runner
 * and returns the process exit status: EXIT_SUCCESS only if none failed. */
int mmvec_test_run(Suite *s);

/* True if Check runs each test in a forked child (CK_FORK unset or not
 * "no"): only then can a test that must crash be added. */
bool mmvec_test_forking(void);

/* True when running under Valgrind or qemu-user, or when MMVEC_TEST_SLOW is
 * set in the environment: tests then use fewer elements, never fewer
 * checks. */
bool mmvec_test_slow(void);

/* True when running under Valgrind (always false without memcheck.h). */
bool mmvec_test_on_valgrind(void);

/* True when running under qemu-user, whose exe_wrapper in the cross files
 * (.ci/cross) sets MMVEC_TEST_QEMU_USER=1. qemu-user does not pass every
 * memory call to the kernel: madvise() other than MADV_DONTNEED succeeds
 * without effect, setrlimit(RLIMIT_AS and RLIMIT_DATA) succeeds without
 * effect, and mincore() fails on PROT_NONE pages and fills one byte per
 * host page, not per guest page. */
bool mmvec_test_on_qemu_user(void);

/* Adds test @t_ to @tc_, or under qemu-user leaves it out and prints that
 * it did and why (@why_: what qemu-user does not emulate). */
#define tcase_add_test_unless_qemu(tc_, t_, why_)				\
	do {									\
		if (mmvec_test_on_qemu_user())					\
			printf("%s: left out under qemu-user: %s\n", #t_, why_); \
		else								\
			tcase_add_test(tc_, t_);				\
	} while (0)

/* Why the tests that read residency with mincore() are left out */
#define QEMU_NO_MINCORE "its mincore() fails on PROT_NONE pages and " \
	"counts host pages"

/* ------------------------------------------------------------------------ */
/* Page arithmetic */

size_t round_up(size_t x, size_t a);
size_t round_down(size_t x, size_t a);
bool is_power_of_two(size_t x);

/* The transparent huge page size the kernel reports, or 0 if it has none
 * (sysfs hpage_pmd_size unreadable). */
size_t thp_size(void);

/* ------------------------------------------------------------------------ */
/* Element patterns: byte b of element i reads pattern_byte(tag, i, b). */

static inline unsigned char pattern_byte(unsigned tag, size_t i, size_t b)
{
	return (unsigned char)(tag * 37u + i * 131u + b * 7u + 1u);
}

void pattern_fill(void *elem, size_t elem_size, unsigned tag, size_t i);
bool pattern_check(const void *elem, size_t elem_size, unsigned tag, size_t i);
bool is_zero(const void *p, size_t n);

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
/* What the kernel has mapped */

/* Number of resident pages among those overlapping [addr, addr + len), by
 * mincore(); asserts that mincore succeeds. */
size_t resident_pages(const void *addr, size_t len);

/* Rss of the whole process in KiB from /proc/self/smaps_rollup, or -1 if
 * the file cannot be read. */
long rss_kib(void);

/* Number of mappings (VMAs) in /proc/self/maps that overlap
 * [addr, addr + len); asserts that the file can be read. */
unsigned vma_count(const void *addr, size_t len);

/* True if the VMA containing @addr is readable or writable, false if it is
 * PROT_NONE or if nothing is mapped there. */
bool vma_accessible(const void *addr);

/* True if the VMA containing @addr lists @flag (e.g. "hg", "nh") in its
 * VmFlags line of /proc/self/smaps; asserts that the VMA is found. */
bool vma_has_flag(const void *addr, const char *flag);

#endif /* MMVEC_TEST_COMMON_H */
