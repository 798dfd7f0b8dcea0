/*
 * SPDX-License-Identifier: MIT
 *
 * The reference model and the engine that compares it with the library. The
 * expected result of every call is computed here from the contract in
 * include/mmvec.h (the order EINVAL, ERANGE, EOVERFLOW, ENOSPC, ENOMEM), not
 * from the implementation.
 */
#include "vecmodel.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------------------------
 * Choices
 * ------------------------------------------------------------------------- */

void vm_input_rng(struct vm_input *in, uint64_t seed)
{
	memset(in, 0, sizeof(*in));
	in->rng.state = seed;
}

void vm_input_bytes(struct vm_input *in, const uint8_t *buf, size_t len)
{
	memset(in, 0, sizeof(*in));
	in->buf = buf;
	in->len = len;
}

bool vm_input_done(const struct vm_input *in)
{
	return in->buf && in->pos >= in->len;
}

uint64_t vm_below(struct vm_input *in, uint64_t n)
{
	uint64_t v = 0;

	if (n <= 1)
		return 0;
	if (!in->buf)
		return rng_below(&in->rng, n);
	/* as many input bytes as n - 1 needs */
	for (uint64_t span = n - 1; span; span >>= 8)
		v = (v << 8) | (in->pos < in->len ? in->buf[in->pos++] : 0);
	return v % n;
}

/* ---------------------------------------------------------------------------
 * Helpers
 * ------------------------------------------------------------------------- */

static int fail(struct vm *h, const char *fmt, ...)
	TEST_PRINTF(2, 3);

static int fail(struct vm *h, const char *fmt, ...)
{
	va_list ap;
	int n;

	n = snprintf(h->msg, sizeof(h->msg),
		     "step %lu, %s (elem_size %zu, max_len %zu, flags %#x, "
		     "len %zu): ", h->step, h->what, h->es, h->max_len,
		     h->flags, h->len);
	if (n < 0 || (size_t)n >= sizeof(h->msg))
		return -1;
	va_start(ap, fmt);
	vsnprintf(h->msg + n, sizeof(h->msg) - (size_t)n, fmt, ap);
	va_end(ap);
	return -1;
}

static void describe(struct vm *h, const char *fmt, ...)
	TEST_PRINTF(2, 3);

static void describe(struct vm *h, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(h->what, sizeof(h->what), fmt, ap);
	va_end(ap);
}

static void random_bytes(struct vm *h, void *p, size_t n)
{
	unsigned char *c = p;

	while (n) {
		uint64_t r = rng_next(&h->fill);
		size_t k = n < sizeof(r) ? n : sizeof(r);

		memcpy(c, &r, k);
		c += k;
		n -= k;
	}
}

/* Scratch space of @bytes; aborts the process when malloc fails, which no
 * test here provokes. */
static unsigned char *scratch(struct vm *h, size_t bytes)
{
	if (bytes > h->buf_alloc) {
		unsigned char *p = realloc(h->buf, bytes);

		if (!p)
			abort();
		h->buf = p;
		h->buf_alloc = bytes;
	}
	return h->buf;
}

/* Model room for @len elements. */
static void model_room(struct vm *h, size_t len)
{
	size_t bytes = len * h->es;

	if (bytes > h->model_alloc) {
		size_t want = h->model_alloc ? h->model_alloc : 256;
		unsigned char *p;

		while (want < bytes)
			want *= 2;
		p = realloc(h->model, want);
		if (!p)
			abort();
		h->model = p;
		h->model_alloc = want;
	}
}

static unsigned char *model_at(struct vm *h, size_t i)
{
	return h->model + i * h->es;
}

static bool overflows(const struct vm *h, size_t len, size_t n)
{
	return n > SIZE_MAX - len || len + n > SIZE_MAX / h->es;
}

/* Expected result of adding n elements (n > 0) to the current length. */
static int add_result(const struct vm *h, size_t n)
{
	if (overflows(h, h->len, n))
		return -EOVERFLOW;
	if (h->len + n > h->max_len)
		return -ENOSPC;
	return 0;
}

/* Expected result of a length given outright (resize, reserve). */
static int len_result(const struct vm *h, size_t len)
{
	if (len > SIZE_MAX / h->es)
		return -EOVERFLOW;
	if (len > h->max_len)
		return -ENOSPC;
	return 0;
}

static bool fits_limit(const struct vm *h, size_t len)
{
	return len <= h->limit_bytes / h->es;
}

void vm_faults_arm(const struct vm_faults *f, struct vm_input *in)
{
	if (f)
		f->arm(f->ctx, in);
}

struct vm_fault_report vm_faults_disarm(const struct vm_faults *f)
{
	struct vm_fault_report none = { 0, 0, 0 };

	return f ? f->disarm(f->ctx) : none;
}

static const char *err_name(int e)
{
	switch (e) {
	case 0: return "0";
	case EINVAL: return "EINVAL";
	case ERANGE: return "ERANGE";
	case EOVERFLOW: return "EOVERFLOW";
	case ENOSPC: return "ENOSPC";
	case ENOMEM: return "ENOMEM";
	case ENOENT: return "ENOENT";
	default: return "another errno";
	}
}

/* ---------------------------------------------------------------------------
 * Choosing arguments
 * ------------------------------------------------------------------------- */

/* A count of elements to add: mostly small, sometimes exactly filling the
 * vector, one past it, or overflowing size_t in bytes. */
static size_t pick_count(struct vm *h, struct vm_input *in)
{
	size_t room = h->max_len - h->len;
	size_t n;

	switch (vm_below(in, 16)) {
	case 0: n = 0; break;
	case 1: case 2: case 3: case 4: case 5: n = 1 + vm_below(in, 4); break;
	case 6: case 7: case 8: n = 1 + vm_below(in, 64); break;
	case 9: n = room; break;
	case 10: n = room + 1; break; /* room < max_len <= SIZE_MAX / es */
	case 11: n = room + 1 + vm_below(in, 1000); break;
	case 12: n = SIZE_MAX - vm_below(in, 2); break;
	case 13: n = SIZE_MAX / h->es - h->len + 1; break; /* just overflows */
	case 14: n = (size_t)vm_below(in, UINT64_MAX); break;
	default: n = (size_t)vm_below(in, (uint64_t)room + 1); break;
	}
	/* a call that would succeed stays within the memory budget */
	if (n <= room && !fits_limit(h, h->len + n))
		n %= 8;
	return n;
}

/* A length for resize or reserve. */
static size_t pick_len(struct vm *h, struct vm_input *in)
{
	size_t len;

	switch (vm_below(in, 14)) {
	case 0: len = 0; break;
	case 1: case 2: len = h->len + vm_below(in, 8); break;
	case 3: len = h->len - vm_below(in, h->len + 1); break;
	case 4: len = h->cap; break;
	case 5: len = h->cap + 1; break;
	case 6: len = h->max_len; break;
	case 7: len = h->max_len + 1; break;
	case 8: len = SIZE_MAX / h->es + 1; break; /* overflows in bytes */
	case 9: len = SIZE_MAX; break;
	case 10: len = (size_t)vm_below(in, UINT64_MAX); break;
	default: len = (size_t)vm_below(in, (uint64_t)h->max_len + 1); break;
	}
	if (len <= h->max_len && !fits_limit(h, len))
		len = h->len + vm_below(in, 8);
	return len;
}

/* An index: mostly valid for an insertion (0..len), sometimes past it. */
static size_t pick_index(struct vm *h, struct vm_input *in)
{
	switch (vm_below(in, 10)) {
	case 0: return h->len;
	case 1: return h->len + 1;
	case 2: return SIZE_MAX;
	case 3: return (size_t)vm_below(in, UINT64_MAX);
	default: return (size_t)vm_below(in, (uint64_t)h->len + 1);
	}
}

enum src_kind { SRC_NULL, SRC_BUF, SRC_SELF, SRC_SELF_UNALIGNED };

static const char *const src_names[] = { "NULL", "buffer", "self",
					 "self+unaligned" };

/* A source of n elements: NULL, a buffer of random bytes, or a range inside
 * the vector itself (element aligned or not). Its bytes are copied to
 * *expect (n * es bytes, valid only for n within the memory budget). */
static const void *pick_src(struct vm *h, struct vm_input *in, size_t n,
			    enum src_kind *kind, unsigned char **expect)
{
	size_t es = h->es;
	unsigned r = (unsigned)vm_below(in, 10);
	bool small = n <= h->limit_bytes / es;
	unsigned char *buf;

	*expect = NULL;
	if (r == 0) {
		*kind = SRC_NULL;
		return NULL;
	}
	if (r >= 7 && n > 0 && n <= h->len) {
		size_t off;

		if (r == 9) {
			*kind = SRC_SELF_UNALIGNED;
			off = (size_t)vm_below(in, (h->len - n) * es + 1);
		} else {
			*kind = SRC_SELF;
			off = (size_t)vm_below(in, h->len - n + 1) * es;
		}
		/* the model holds the same bytes at the same offsets */
		buf = scratch(h, n * es);
		memcpy(buf, h->model + off, n * es);
		*expect = buf;
		return (const char *)h->data + off;
	}
	*kind = SRC_BUF;
	if (!small) {
		/* the call must fail before reading it */
		return scratch(h, es);
	}
	buf = scratch(h, n > 0 ? n * es : 1);
	random_bytes(h, buf, n * es);
	*expect = buf;
	return buf;
}

/* ---------------------------------------------------------------------------
 * Checking
 * ------------------------------------------------------------------------- */

static int check_populated(struct vm *h)
{
	size_t bytes = h->cap * h->es / h->page * h->page;
	size_t pages = bytes / h->page;
	long resident;

	if (!pages)
		return 0;
	resident = resident_count(h->data, bytes);
	if (resident < 0)
		return fail(h, "cannot tell which pages are resident: %s",
			    strerror(errno));
	if ((size_t)resident != pages)
		return fail(h, "MMVEC_POPULATE: %zu of %zu committed pages not "
			    "resident", pages - (size_t)resident, pages);
	return 0;
}

/* The capacity is what the kernel has mapped writable, in whole elements,
 * at most max_len: mmvec_capacity() == min(committed / es, max_len). The
 * run of writable bytes is counted up to the end of the last page holding
 * an element (beyond it, a fully committed reservation may touch an
 * unrelated writable mapping). */
static int check_kernel(struct vm *h)
{
	size_t limit = (h->max_len * h->es + h->page - 1) / h->page * h->page;
	long long rw = maps_rw_bytes(h->data, limit);
	size_t want;

	if (rw < 0)
		return fail(h, "cannot read what the kernel has mapped");
	want = (size_t)rw / h->es < h->max_len ? (size_t)rw / h->es
					       : h->max_len;
	if (h->cap != want)
		return fail(h, "capacity %zu, but the kernel has %lld bytes "
			    "writable: %zu elements%s", h->cap, rw, want,
			    h->populate_unsure ? " (after a populate failure "
			    "whose undo failed too)" : "");
	return 0;
}

int vm_check(struct vm *h)
{
	size_t len = mmvec_len(h->v);
	size_t cap = mmvec_capacity(h->v);

	if (len != h->len)
		return fail(h, "mmvec_len() is %zu, the model has %zu", len,
			    h->len);
	if (mmvec_data(h->v) != h->data)
		return fail(h, "mmvec_data() moved from %p to %p", h->data,
			    mmvec_data(h->v));
	if (mmvec_elem_size(h->v) != h->es)
		return fail(h, "mmvec_elem_size() is %zu",
			    mmvec_elem_size(h->v));
	if (mmvec_max_len(h->v) != h->max_len)
		return fail(h, "mmvec_max_len() is %zu", mmvec_max_len(h->v));
	if (cap < len || cap > h->max_len)
		return fail(h, "capacity %zu outside [len, max_len]", cap);
	if (len && memcmp(h->data, h->model, len * h->es) != 0) {
		const unsigned char *d = h->data;
		size_t b = 0;

		while (d[b] == h->model[b])
			b++;
		return fail(h, "element %zu byte %zu is %#x, the model has "
			    "%#x", b / h->es, b % h->es, d[b], h->model[b]);
	}
	/* the head the inline push reads agrees, and leaves an open claim to
	 * the library */
	const struct mmvec_head *head = (const void *)h->v;
	if (head->len != len || head->data != h->data ||
	    head->elem_size != h->es || head->room > cap ||
	    (h->claimed && head->room != 0))
		return fail(h, "head {len %zu, room %zu, data %p, elem_size "
			    "%zu} disagrees (capacity %zu, %zu claimed)",
			    head->len, head->room, head->data, head->elem_size,
			    cap, h->claimed);
	h->cap = cap;
	if (h->kernel_every && h->step % h->kernel_every == 0 &&
	    check_kernel(h))
		return -1;
	if ((h->flags & MMVEC_POPULATE) && !h->populate_unsure &&
	    test_residency_checkable())
		return check_populated(h);
	return 0;
}

/* How often each operation gave each result, over the whole process. */
static const int result_errnos[] = { 0, EINVAL, ERANGE, EOVERFLOW, ENOSPC,
				     ENOMEM, ENOENT };
#define N_RESULTS (sizeof(result_errnos) / sizeof(result_errnos[0]))
static const char *const op_names[] = {
	"push", "push*N", "extend", "append", "insert", "erase",
	"swap_remove", "pop", "clear", "resize", "reserve", "shrink_to_fit",
	"at", "fill", "invalid",
};
#define N_OPS (sizeof(op_names) / sizeof(op_names[0]))
static unsigned long stats[N_OPS][N_RESULTS];

static void count_result(const struct vm *h, int rc)
{
	for (size_t k = 0; k < N_RESULTS; k++)
		if (-rc == result_errnos[k] && h->op < N_OPS)
			stats[h->op][k]++;
}

void vm_print_stats(FILE *f)
{
	fprintf(f, "%-14s", "results");
	for (size_t k = 0; k < N_RESULTS; k++)
		fprintf(f, " %9s", err_name(result_errnos[k]));
	fputc('\n', f);
	for (size_t op = 0; op < N_OPS; op++) {
		fprintf(f, "%-14s", op_names[op]);
		for (size_t k = 0; k < N_RESULTS; k++)
			fprintf(f, " %9lu", stats[op][k]);
		fputc('\n', f);
	}
}

/* What every call ends with. @want is the result the contract asks for (0
 * or a negative errno) and @rc what the library returned; a call expected
 * to succeed may instead fail with -ENOMEM when a fault was injected. A
 * failed call must have changed nothing: the model was not updated, so the
 * comparison checks the length and contents, and the capacity is compared
 * here (except when a decommit failed, where the region cannot undo a
 * commit and keeps the memory). @grows_past_cap: the call needs more
 * committed memory, so it may call the OS; otherwise it must not. */
static int finish(struct vm *h, int want, int rc,
		  const struct vm_fault_report *rep, size_t cap_before,
		  bool grows_past_cap)
{
	bool failed = rc != 0;

	count_result(h, rc);
	if (rc != want) {
		if (!(want == 0 && rc == -ENOMEM && rep->injected))
			return fail(h, "returned %d (%s), the contract says "
				    "%d (%s)%s", rc, err_name(-rc), want,
				    err_name(-want),
				    rep->injected ? " (faults injected)" : "");
		h->enomem++;
	}
	/* a populate failure whose undo failed leaves memory committed but
	 * not populated, which a later call may then use */
	if (rep->decommit_injected)
		h->populate_unsure = true;
	if (failed && !rep->decommit_injected &&
	    mmvec_capacity(h->v) != cap_before)
		return fail(h, "failed with %s but capacity changed from %zu "
			    "to %zu", err_name(-rc), cap_before,
			    mmvec_capacity(h->v));
	if (!grows_past_cap && rep->calls)
		return fail(h, "made %lu OS calls without needing memory",
			    rep->calls);
	if (rc == 0 && h->discards)
		h->claimed = 0;
	h->discards = false;
	return vm_check(h);
}

/* For calls returning a pointer: turn (pointer, errno) into 0 or a
 * negative errno; 1 (with h->msg set) when the pair itself is wrong. */
static int ptr_result(struct vm *h, void *p, void *want_ptr, int saved_errno,
		      int want)
{
	if (p) {
		if (want == 0 && p != want_ptr) {
			fail(h, "returned %p, expected %p", p, want_ptr);
			return 1;
		}
		return 0;
	}
	if (saved_errno <= 0) {
		fail(h, "returned NULL with errno %d", saved_errno);
		return 1;
	}
	return -saved_errno;
}

/* finish() for a call that may not change the capacity */
static int finish_same_cap(struct vm *h, int want, int rc,
			   const struct vm_fault_report *rep, size_t cap)
{
	if (finish(h, want, rc, rep, cap, false))
		return -1;
	if (h->cap != cap)
		return fail(h, "capacity changed from %zu to %zu", cap, h->cap);
	return 0;
}

/* ---------------------------------------------------------------------------
 * Operations
 * ------------------------------------------------------------------------- */

/* mmvec_push(@src) on the vector, with failures planned from @in, and on
 * the model, whose new element is @expect (a copy of the source taken
 * before the call) or zeroes. Returns what ptr_result() does; *rep says
 * what the fault plan did. */
/* One push of @src: mmvec_push(), mmvec_push_fast() or, for element sizes
 * that are a C type's, mmvec_push_val() with an lvalue of that type. */
static void *push_one(struct vm *h, unsigned way, const void *src)
{
	uint8_t u8;
	uint16_t u16;
	uint32_t u32;
	uint64_t u64;

	if (way == 0)
		return mmvec_push(h->v, src);
	if (way == 1 || !src)
		return mmvec_push_fast(h->v, src, h->es);
	switch (h->es) {
	case 1: memcpy(&u8, src, 1); return mmvec_push_val(h->v, u8);
	case 2: memcpy(&u16, src, 2); return mmvec_push_val(h->v, u16);
	case 4: memcpy(&u32, src, 4); return mmvec_push_val(h->v, u32);
	case 8: memcpy(&u64, src, 8); return mmvec_push_val(h->v, u64);
	default: return mmvec_push_fast(h->v, src, h->es);
	}
}

static const char *const push_names[] = {
	"mmvec_push", "mmvec_push_fast", "mmvec_push_val",
};

static int push_both(struct vm *h, struct vm_input *in, unsigned way,
		     const void *src, const void *expect, int want,
		     struct vm_fault_report *rep)
{
	void *p;
	int rc, e;

	vm_faults_arm(h->faults, in);
	errno = 0;
	p = push_one(h, way, src);
	e = errno;
	*rep = vm_faults_disarm(h->faults);
	rc = ptr_result(h, p, (char *)h->data + h->len * h->es, e, want);
	if (rc == 0) {
		model_room(h, h->len + 1);
		if (expect)
			memcpy(model_at(h, h->len), expect, h->es);
		else
			memset(model_at(h, h->len), 0, h->es);
		h->len++;
	}
	return rc;
}

static int op_push(struct vm *h, struct vm_input *in)
{
	size_t es = h->es, cap = h->cap;
	enum src_kind kind = SRC_BUF;
	unsigned char *expect = NULL;
	const void *src;
	struct vm_fault_report rep;
	int want, rc;
	bool grows;
	unsigned choice = (unsigned)vm_below(in, 4);

	if (choice == 1 && !h->len)
		choice = 2; /* no element to copy from */
	switch (choice) {
	case 0:
		kind = SRC_NULL;
		src = NULL;
		break;
	case 1: {
		/* an element of the vector itself, possibly the last one, or
		 * an unaligned run of bytes in it */
		size_t off = vm_below(in, 2)
			? (size_t)vm_below(in, h->len) * es
			: (size_t)vm_below(in, (h->len - 1) * es + 1);
		kind = off % es ? SRC_SELF_UNALIGNED : SRC_SELF;
		expect = scratch(h, es);
		memcpy(expect, h->model + off, es);
		src = (char *)h->data + off;
		break;
	}
	default:
		expect = scratch(h, es);
		random_bytes(h, expect, es);
		src = expect;
		break;
	}
	unsigned way = (unsigned)vm_below(in, 3);

	want = h->len < h->max_len ? 0 : -ENOSPC;
	grows = want == 0 && h->len >= cap;
	describe(h, "%s(%s)", push_names[way], src_names[kind]);
	h->discards = true;

	rc = push_both(h, in, way, src, expect, want, &rep);
	if (rc > 0)
		return -1;
	return finish(h, want, rc, &rep, cap, grows);
}

static int op_push_many(struct vm *h, struct vm_input *in)
{
	size_t m = 1 + (size_t)vm_below(in, 300);
	size_t es = h->es;
	bool zero = vm_below(in, 4) == 0;
	unsigned way = (unsigned)vm_below(in, 3);

	describe(h, "%zu x %s(%s)", m, push_names[way], zero ? "NULL" : "buffer");
	for (size_t k = 0; k < m; k++) {
		size_t cap = h->cap;
		int want = h->len < h->max_len ? 0 : -ENOSPC;
		bool grows = want == 0 && h->len >= cap;
		unsigned char *src = NULL;
		struct vm_fault_report rep;
		int rc;

		if (want == 0 && !fits_limit(h, h->len + 1))
			break;
		if (!zero) {
			src = scratch(h, es);
			random_bytes(h, src, es);
		}
		h->discards = true;
		rc = push_both(h, in, way, src, src, want, &rep);
		if (rc > 0)
			return -1;
		if (rc == 0)
			h->claimed = 0;
		/* full comparison only now and then: it costs O(len) */
		if (rc != 0 || k + 1 == m || k % 64 == 0) {
			if (finish(h, want, rc, &rep, cap, grows))
				return -1;
		} else {
			if (rc != want)
				return fail(h, "push %zu returned %d", k, rc);
			if (rep.decommit_injected)
				h->populate_unsure = true;
			if (!grows && rep.calls)
				return fail(h, "push %zu within capacity made "
					    "%lu OS calls", k, rep.calls);
			h->cap = mmvec_capacity(h->v);
		}
		if (rc != 0)
			break;
	}
	return 0;
}

/* mmvec_extend() (@claim false) or mmvec_claim(): slots past the length
 * that read as zero and that the caller fills in place. Extending publishes
 * them; claiming leaves the length as it is (the model keeps the claimed
 * bytes right after its elements), and a new claim replaces an open one. */
static int op_zeroed(struct vm *h, struct vm_input *in, bool claim)
{
	size_t n = pick_count(h, in);
	size_t es = h->es, cap = h->cap;
	int want = n ? add_result(h, n) : 0;
	bool grows = want == 0 && n && h->len + n > cap;
	char *end = (char *)h->data + h->len * es;
	void *p;
	int rc, e;

	describe(h, "mmvec_%s(%zu)", claim ? "claim" : "extend", n);
	h->discards = !claim && n != 0;
	vm_faults_arm(h->faults, in);
	errno = 0;
	p = claim ? mmvec_claim(h->v, n) : mmvec_extend(h->v, n);
	e = errno;
	struct vm_fault_report rep = vm_faults_disarm(h->faults);
	rc = ptr_result(h, p, end, e, want);
	if (rc > 0)
		return -1;
	if (rc == 0 && n) {
		/* new slots read as zero ... */
		const unsigned char *c = p;

		for (size_t b = 0; b < n * es; b++)
			if (c[b])
				return fail(h, "new slot %zu byte %zu is %#x, "
					    "not zero", h->len + b / es,
					    b % es, c[b]);
		/* ... and the caller fills them in place, half the time */
		model_room(h, h->len + n);
		if (vm_below(in, 2)) {
			random_bytes(h, p, n * es);
			memcpy(model_at(h, h->len), p, n * es);
		} else {
			memset(model_at(h, h->len), 0, n * es);
		}
		if (claim)
			h->claimed = n;
		else
			h->len += n;
	}
	return finish(h, want, rc, &rep, cap, grows);
}

static int op_extend(struct vm *h, struct vm_input *in)
{
	return op_zeroed(h, in, false);
}

static int op_claim(struct vm *h, struct vm_input *in)
{
	return op_zeroed(h, in, true);
}

/* mmvec_publish() of some of the claimed slots, all of them, or more */
static int op_publish(struct vm *h, struct vm_input *in)
{
	size_t n, cap = h->cap;
	int want, rc;

	switch (vm_below(in, 5)) {
	case 0: n = 0; break;
	case 1: n = h->claimed; break;
	case 2: n = h->claimed + 1; break;
	case 3: n = (size_t)vm_below(in, UINT64_MAX); break;
	default: n = (size_t)vm_below(in, (uint64_t)h->claimed + 1); break;
	}
	want = n > h->claimed ? -ERANGE : 0;
	describe(h, "mmvec_publish(%zu) of %zu claimed", n, h->claimed);
	vm_faults_arm(h->faults, in);
	rc = mmvec_publish(h->v, n);
	struct vm_fault_report rep = vm_faults_disarm(h->faults);
	if (rc == 0 && want == 0) {
		h->len += n;
		h->claimed -= n;
	}
	return finish_same_cap(h, want, rc, &rep, cap);
}

/* mmvec_insert() at an index chosen from @in (@insert), or mmvec_append() */
static int op_add(struct vm *h, struct vm_input *in, bool insert)
{
	size_t i = insert ? pick_index(h, in) : h->len;
	size_t n = pick_count(h, in);
	size_t es = h->es, cap = h->cap;
	enum src_kind kind;
	unsigned char *expect;
	const void *src = pick_src(h, in, n, &kind, &expect);
	bool grows;
	int want, rc;

	if (!src && n)
		want = -EINVAL;
	else if (i > h->len)
		want = -ERANGE;
	else
		want = n ? add_result(h, n) : 0;
	grows = want == 0 && h->len + n > cap;
	if (insert)
		describe(h, "mmvec_insert(%zu, %s, %zu)", i, src_names[kind],
			 n);
	else
		describe(h, "mmvec_append(%s, %zu)", src_names[kind], n);
	h->discards = n != 0;
	vm_faults_arm(h->faults, in);
	rc = insert ? mmvec_insert(h->v, i, src, n)
		    : mmvec_append(h->v, src, n);
	struct vm_fault_report rep = vm_faults_disarm(h->faults);
	if (rc == 0 && want == 0 && n) {
		/* for an append, i is the length: nothing moves */
		model_room(h, h->len + n);
		memmove(model_at(h, i + n), model_at(h, i), (h->len - i) * es);
		memcpy(model_at(h, i), expect, n * es);
		h->len += n;
	}
	return finish(h, want, rc, &rep, cap, grows);
}

static int op_append(struct vm *h, struct vm_input *in)
{
	return op_add(h, in, false);
}

static int op_insert(struct vm *h, struct vm_input *in)
{
	return op_add(h, in, true);
}

static int op_erase(struct vm *h, struct vm_input *in)
{
	size_t i, n, cap = h->cap;
	int want, rc;

	switch (vm_below(in, 8)) {
	case 0: i = pick_index(h, in); n = pick_count(h, in); break;
	case 1: i = 0; n = h->len; break;
	case 2: i = (size_t)vm_below(in, (uint64_t)h->len + 1);
		n = SIZE_MAX - i + 1 + (size_t)vm_below(in, 4); /* wraps */
		break;
	default:
		i = (size_t)vm_below(in, (uint64_t)h->len + 1);
		n = (size_t)vm_below(in, (uint64_t)(h->len - i) + 2);
		break;
	}
	want = (i > h->len || n > h->len - i) ? -ERANGE : 0;
	describe(h, "mmvec_erase(%zu, %zu)", i, n);
	h->discards = n != 0;
	vm_faults_arm(h->faults, in);
	rc = mmvec_erase(h->v, i, n);
	struct vm_fault_report rep = vm_faults_disarm(h->faults);
	if (rc == 0 && want == 0 && n) {
		memmove(model_at(h, i), model_at(h, i + n),
			(h->len - i - n) * h->es);
		h->len -= n;
	}
	return finish_same_cap(h, want, rc, &rep, cap);
}

static int op_swap_remove(struct vm *h, struct vm_input *in)
{
	size_t i = vm_below(in, 4) ? (size_t)vm_below(in, (uint64_t)h->len + 1)
				   : pick_index(h, in);
	size_t cap = h->cap;
	int want = i < h->len ? 0 : -ERANGE;
	int rc;

	describe(h, "mmvec_swap_remove(%zu)", i);
	h->discards = true;
	vm_faults_arm(h->faults, in);
	rc = mmvec_swap_remove(h->v, i);
	struct vm_fault_report rep = vm_faults_disarm(h->faults);
	if (rc == 0 && want == 0) {
		if (i != h->len - 1)
			memcpy(model_at(h, i), model_at(h, h->len - 1), h->es);
		h->len--;
	}
	return finish_same_cap(h, want, rc, &rep, cap);
}

static int op_pop(struct vm *h, struct vm_input *in)
{
	bool out = vm_below(in, 2);
	size_t es = h->es, cap = h->cap;
	int want = h->len ? 0 : -ENOENT;
	unsigned char *buf = scratch(h, es + 1);
	int rc;

	/* a canary after the element: pop writes elem_size bytes only */
	memset(buf, 0xa5, es + 1);
	describe(h, "mmvec_pop(%s)", out ? "out" : "NULL");
	h->discards = true;
	vm_faults_arm(h->faults, in);
	rc = mmvec_pop(h->v, out ? buf : NULL);
	struct vm_fault_report rep = vm_faults_disarm(h->faults);
	if (rc == 0 && want == 0) {
		if (out && memcmp(buf, model_at(h, h->len - 1), es) != 0)
			return fail(h, "popped bytes differ from the model");
		h->len--;
	}
	if (buf[es] != 0xa5 || (rc != 0 && out && buf[0] != 0xa5))
		return fail(h, "wrote outside its output element");
	return finish_same_cap(h, want, rc, &rep, cap);
}

static int op_clear(struct vm *h, struct vm_input *in)
{
	size_t cap = h->cap;

	describe(h, "mmvec_clear()");
	h->discards = true;
	vm_faults_arm(h->faults, in);
	mmvec_clear(h->v);
	struct vm_fault_report rep = vm_faults_disarm(h->faults);
	h->len = 0;
	return finish_same_cap(h, 0, 0, &rep, cap);
}

/* mmvec_resize() (@resize) or mmvec_reserve() to a length chosen from @in */
static int op_length(struct vm *h, struct vm_input *in, bool resize)
{
	size_t len = pick_len(h, in);
	size_t cap = h->cap;
	int want = len_result(h, len);
	int rc;

	describe(h, "mmvec_%s(%zu)", resize ? "resize" : "reserve", len);
	h->discards = resize;
	vm_faults_arm(h->faults, in);
	rc = resize ? mmvec_resize(h->v, len) : mmvec_reserve(h->v, len);
	struct vm_fault_report rep = vm_faults_disarm(h->faults);
	if (resize && rc == 0 && want == 0) {
		if (len > h->len) {
			model_room(h, len);
			memset(model_at(h, h->len), 0, (len - h->len) * h->es);
		}
		h->len = len;
	}
	if (finish(h, want, rc, &rep, cap, want == 0 && len > cap))
		return -1;
	if (!resize && rc == 0 && h->cap < len)
		return fail(h, "capacity %zu after reserving %zu", h->cap, len);
	if (rc == 0 && len <= cap && h->cap != cap)
		return fail(h, "capacity changed from %zu to %zu", cap, h->cap);
	return 0;
}

static int op_resize(struct vm *h, struct vm_input *in)
{
	return op_length(h, in, true);
}

static int op_reserve(struct vm *h, struct vm_input *in)
{
	return op_length(h, in, false);
}

static int op_shrink(struct vm *h, struct vm_input *in)
{
	size_t cap = h->cap;
	/* every whole page past the last element goes; what is left holds
	 * this many elements (the capacity cannot grow) */
	size_t keep = (h->len * h->es + h->page - 1) / h->page * h->page;
	size_t want_cap = keep / h->es < cap ? keep / h->es : cap;
	int rc;

	describe(h, "mmvec_shrink_to_fit()");
	h->discards = true;
	vm_faults_arm(h->faults, in);
	rc = mmvec_shrink_to_fit(h->v);
	struct vm_fault_report rep = vm_faults_disarm(h->faults);
	if (finish(h, 0, rc, &rep, cap, true))
		return -1;
	if (rc != 0 && h->cap != cap)
		return fail(h, "failed, but capacity changed from %zu to %zu",
			    cap, h->cap);
	if (rc == 0 && h->cap != want_cap)
		return fail(h, "capacity %zu after shrinking, expected %zu "
			    "(was %zu)", h->cap, want_cap, cap);
	return 0;
}

static int op_at(struct vm *h, struct vm_input *in)
{
	size_t i = vm_below(in, 2) ? (size_t)vm_below(in, (uint64_t)h->len + 1)
				   : pick_index(h, in);
	void *p;

	describe(h, "mmvec_at(%zu)", i);
	errno = 0;
	p = mmvec_at(h->v, i);
	if (i < h->len) {
		if (p != (char *)h->data + i * h->es)
			return fail(h, "returned %p, expected %p", p,
				    (void *)((char *)h->data + i * h->es));
	} else if (p || errno != ERANGE) {
		return fail(h, "returned %p errno %d, expected NULL ERANGE", p,
			    errno);
	}
	return 0;
}

/* The caller writes into its elements, so that removed elements leave
 * non-zero bytes behind for the zero-fill checks. */
static int op_fill(struct vm *h, struct vm_input *in)
{
	size_t i, m;
	unsigned char *p;

	if (!h->len)
		return 0;
	i = (size_t)vm_below(in, h->len);
	m = 1 + (size_t)vm_below(in, h->len - i);
	describe(h, "write elements [%zu, %zu)", i, i + m);
	p = mmvec_at(h->v, i);
	if (!p)
		return fail(h, "mmvec_at(%zu) failed", i);
	random_bytes(h, p, m * h->es);
	memcpy(model_at(h, i), p, m * h->es);
	return vm_check(h);
}

/* Calls with a NULL handle or invalid arguments: -EINVAL, and nothing else
 * happens. */
static int op_invalid(struct vm *h, struct vm_input *in)
{
	unsigned char one[64] = { 0 };
	struct mmvec *out = (struct mmvec *)one; /* sentinel */
	unsigned which = (unsigned)vm_below(in, 24);
	int rc = 0, want = -EINVAL;
	void *p = one;

	describe(h, "invalid call %u", which);
	errno = 0;
	switch (which) {
	case 0: p = mmvec_push(NULL, one); break;
	case 1: p = mmvec_extend(NULL, 1); break;
	case 2: rc = mmvec_append(NULL, one, 1); break;
	case 3: rc = mmvec_insert(NULL, 0, one, 1); break;
	case 4: rc = mmvec_erase(NULL, 0, 0); break;
	case 5: rc = mmvec_swap_remove(NULL, 0); break;
	case 6: rc = mmvec_pop(NULL, one); break;
	case 7: rc = mmvec_resize(NULL, 0); break;
	case 8: rc = mmvec_reserve(NULL, 0); break;
	case 9: rc = mmvec_shrink_to_fit(NULL); break;
	case 10: p = mmvec_at(NULL, 0); break;
	case 11: p = mmvec_data(NULL); break;
	case 12:
		if (mmvec_len(NULL) || mmvec_capacity(NULL) ||
		    mmvec_max_len(NULL) || mmvec_elem_size(NULL))
			return fail(h, "a getter returned non-zero for NULL");
		mmvec_clear(NULL);
		mmvec_free(NULL);
		return vm_check(h);
	case 13: rc = mmvec_new(0, 1, 0, &out); break;
	case 14: {
		/* an unknown bit: 3 (MMVEC_CREATE), 4 (MMVEC_RDONLY) and 6 on;
		 * 5 is MMVEC_PRETOUCH, which mmvec_new() takes */
		unsigned bit = 3 + (unsigned)vm_below(in, 28);

		rc = mmvec_new(1, 1, 1u << (bit < 5 ? bit : bit + 1), &out);
		break;
	}
	case 15: rc = mmvec_new(1, 1, MMVEC_HUGEPAGES | MMVEC_NO_HUGEPAGES,
				&out);
		break;
	case 16: rc = mmvec_new(1, 1, 0, NULL); break;
	case 17:
		want = -EOVERFLOW;
		rc = mmvec_new(h->es + 1, SIZE_MAX / (h->es + 1) + 1, 0, &out);
		break;
	case 18: rc = mmvec_append(h->v, NULL, 1 + vm_below(in, 9)); break;
	case 19: p = mmvec_claim(NULL, (size_t)vm_below(in, 9)); break;
	case 20: rc = mmvec_publish(NULL, (size_t)vm_below(in, 9)); break;
	case 21: p = mmvec_push_fast(NULL, one, h->es); break;
	case 22: /* an element size other than the vector's */
		p = mmvec_push_fast(h->v, vm_below(in, 2) ? one : NULL,
				    h->es + 1 + vm_below(in, 8));
		break;
	default:
		rc = mmvec_insert(h->v, (size_t)vm_below(in, h->len + 2), NULL,
				  1 + vm_below(in, 9));
		break;
	}
	if (!p) {
		rc = -errno;
		if (which == 11 || which == 10 || which == 0 || which == 1 ||
		    which == 19 || which == 21 || which == 22)
			want = -EINVAL;
	}
	if (rc != want)
		return fail(h, "returned %d (%s), expected %d (%s)", rc,
			    err_name(-rc), want, err_name(-want));
	if (out != (struct mmvec *)one)
		return fail(h, "a failed mmvec_new() wrote its out pointer");
	return vm_check(h);
}

/* ---------------------------------------------------------------------------
 * The engine
 * ------------------------------------------------------------------------- */

int vm_open(struct vm *h, struct vm_input *in, size_t limit_bytes,
	    const struct vm_faults *faults)
{
	static const size_t odd_sizes[] = { 65, 100, 255, 256, 1000, 4095,
					    4096, 4097, 12288 };
	static const unsigned flag_sets[] = {
		0, 0, MMVEC_NO_HUGEPAGES, MMVEC_HUGEPAGES, MMVEC_POPULATE,
		MMVEC_HUGEPAGES | MMVEC_POPULATE,
		MMVEC_NO_HUGEPAGES | MMVEC_POPULATE,
	};
	struct mmvec *sentinel = (struct mmvec *)&h->model;
	size_t es, max_len, most;
	unsigned flags;

	memset(h, 0, sizeof(*h));
	h->faults = faults;
	h->page = mmvec_page_size();
	h->fill.state = vm_below(in, UINT64_MAX);

	if (vm_below(in, 7))
		es = 1 + (size_t)vm_below(in, 64);
	else
		es = odd_sizes[vm_below(in, sizeof(odd_sizes) /
					    sizeof(odd_sizes[0]))];
	h->limit_bytes = limit_bytes > 4 * es ? limit_bytes : 4 * es;
	most = h->limit_bytes / es;
	switch (vm_below(in, 12)) {
	case 0:
		/* The default reservation is tens of GiB; under Valgrind with
		 * --track-origins=yes mapping and unmapping it takes over a
		 * minute each, so there the tests keep to explicit sizes. */
		max_len = test_on_valgrind() ? 1 + (size_t)vm_below(in, most)
					       : 0;
		break;
	case 1: case 2: case 3: max_len = 1 + (size_t)vm_below(in, 8); break;
	case 4: case 5: case 6: max_len = 1 + (size_t)vm_below(in, 256); break;
	default: max_len = 1 + (size_t)vm_below(in, most); break;
	}
	flags = flag_sets[vm_below(in, sizeof(flag_sets) / sizeof(flag_sets[0]))];
	h->es = es;
	h->flags = flags;
	describe(h, "mmvec_new(%zu, %zu, %#x)", es, max_len, flags);

	for (;;) {
		struct mmvec *v = sentinel;
		int rc;

		vm_faults_arm(h->faults, in);
		rc = mmvec_new(es, max_len, flags, &v);
		struct vm_fault_report rep = vm_faults_disarm(h->faults);
		if (rc == 0) {
			h->v = v;
			break;
		}
		if (v != sentinel)
			return fail(h, "failed with %d but wrote *out", rc);
		if (rc != -ENOMEM || !rep.injected)
			return fail(h, "returned %d (%s)", rc, err_name(-rc));
		h->enomem++;
		h->faults = NULL; /* once more, without faults */
	}
	h->faults = faults;

	h->max_len = mmvec_max_len(h->v);
	if (max_len && h->max_len != max_len)
		return fail(h, "mmvec_max_len() is %zu", h->max_len);
	if (!max_len && h->max_len < 1)
		return fail(h, "default max_len is %zu", h->max_len);
	h->data = mmvec_data(h->v);
	if (!h->data || (uintptr_t)h->data % h->page)
		return fail(h, "mmvec_data() is %p", h->data);
	/* a reservation reused from the cache comes with at most 64 KiB
	 * committed (vm_check() compares that with the kernel) */
	if (mmvec_len(h->v) != 0 || mmvec_capacity(h->v) * h->es > 64 * KIB)
		return fail(h, "new vector has len %zu capacity %zu",
			    mmvec_len(h->v), mmvec_capacity(h->v));
	model_room(h, 1);
	return vm_check(h);
}

enum vm_op {
	OP_PUSH, OP_PUSH_MANY, OP_EXTEND, OP_APPEND, OP_INSERT, OP_ERASE,
	OP_SWAP_REMOVE, OP_POP, OP_CLEAR, OP_RESIZE, OP_RESERVE, OP_SHRINK,
	OP_AT, OP_FILL, OP_INVALID, OP_CLAIM, OP_PUBLISH, OP_COUNT
};

/* relative frequencies */
static const unsigned op_weight[OP_COUNT] = {
	[OP_PUSH] = 16, [OP_PUSH_MANY] = 4, [OP_EXTEND] = 8, [OP_APPEND] = 10,
	[OP_INSERT] = 10, [OP_ERASE] = 7, [OP_SWAP_REMOVE] = 5, [OP_POP] = 8,
	[OP_CLEAR] = 2, [OP_RESIZE] = 8, [OP_RESERVE] = 5, [OP_SHRINK] = 5,
	[OP_AT] = 4, [OP_FILL] = 6, [OP_INVALID] = 2, [OP_CLAIM] = 6,
	[OP_PUBLISH] = 6,
};

int vm_step(struct vm *h, struct vm_input *in)
{
	static int (*const run[OP_COUNT])(struct vm *, struct vm_input *) = {
		[OP_PUSH] = op_push, [OP_PUSH_MANY] = op_push_many,
		[OP_EXTEND] = op_extend, [OP_APPEND] = op_append,
		[OP_INSERT] = op_insert, [OP_ERASE] = op_erase,
		[OP_SWAP_REMOVE] = op_swap_remove, [OP_POP] = op_pop,
		[OP_CLEAR] = op_clear, [OP_RESIZE] = op_resize,
		[OP_RESERVE] = op_reserve, [OP_SHRINK] = op_shrink,
		[OP_AT] = op_at, [OP_FILL] = op_fill,
		[OP_INVALID] = op_invalid, [OP_CLAIM] = op_claim,
		[OP_PUBLISH] = op_publish,
	};
	unsigned total = 0, r;
	enum vm_op op = OP_PUSH;

	for (unsigned k = 0; k < OP_COUNT; k++)
		total += op_weight[k];
	r = (unsigned)vm_below(in, total);
	for (unsigned k = 0; k < OP_COUNT; k++) {
		if (r < op_weight[k]) {
			op = (enum vm_op)k;
			break;
		}
		r -= op_weight[k];
	}
	h->step++;
	h->op = (unsigned)op;
	h->discards = false;
	return run[op](h, in);
}

int vm_run(struct vm *h, uint64_t seed, size_t limit_bytes,
	   const struct vm_faults *faults, unsigned kernel_every,
	   unsigned long steps)
{
	struct vm_input in;

	vm_input_rng(&in, seed);
	if (vm_open(h, &in, limit_bytes, faults) != 0)
		return -1;
	h->kernel_every = kernel_every;
	for (unsigned long k = 0; k < steps; k++)
		if (vm_step(h, &in) != 0)
			return -1;
	return 0;
}

void vm_close(struct vm *h)
{
	mmvec_free(h->v);
	free(h->model);
	free(h->buf);
	memset(h, 0, sizeof(*h));
}
