/*
 * SPDX-License-Identifier: MIT
 *
 * Fuzz target for the page-reservation layer: the input reserves a region
 * and runs commits, decommits, writes and checks on it against a model (a
 * shadow copy of the bytes and the committed size the header promises).
 * Byte 0 picks the mode (bit 0: inject OS failures through the fault hook).
 *
 * Checked after every call: the return value in the contract's order, the
 * committed size exactly (whole pages; whole huge pages once that large or
 * with MMVEC_HUGEPAGES, capped at the reservation), the base and the
 * reservation never changing, contents surviving commits, decommitted pages
 * reading back as zero, and now and then that the kernel maps exactly the
 * committed prefix writable.
 */
#include "helpers.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "faults.h"
#include "fuzz.h"
#include "mmvec.h"
#include "vecmodel.h"

/* Commits and the shadow copy stay below this. */
#define LIMIT_BYTES (8 * MIB)
#define MAX_STEPS 2048

struct rm {
	struct mmvec_region *r;
	unsigned char *base;
	size_t reserved;
	size_t limit;     /* min(reserved, LIMIT_BYTES) */
	size_t committed; /* the model's */
	size_t page;
	size_t huge;      /* the commit step once large, 0 for none */
	unsigned flags;
	unsigned char *shadow; /* limit bytes */
	size_t hi;        /* bytes at or above it are zero in the shadow */
	bool unsure;      /* a populate undo failed: memory not populated */
	struct test_rng fill;
	const struct vm_faults *faults;
	unsigned long step;
};

__attribute__((noreturn, format(printf, 2, 3)))
static void die(const struct rm *m, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "fuzz-region: step %lu (reserved %zu, flags %#x, "
		"committed %zu): ", m->step, m->reserved, m->flags,
		m->committed);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	fflush(stderr);
	abort();
}

/* What committing `bytes` (<= reserved) leaves committed. */
static size_t expect_commit(const struct rm *m, size_t bytes)
{
	size_t target = round_up(bytes, m->page);

	if (bytes <= m->committed)
		return m->committed;
	if (m->huge && (target >= m->huge || (m->flags & MMVEC_HUGEPAGES))) {
		target = round_up(target, m->huge);
		if (target > m->reserved)
			target = m->reserved;
	}
	return target;
}


static void check_getters(struct rm *m)
{
	if (mmvec_region_base(m->r) != m->base)
		die(m, "base moved");
	if (mmvec_region_reserved(m->r) != m->reserved)
		die(m, "reserved changed to %zu", mmvec_region_reserved(m->r));
	if (mmvec_region_committed(m->r) != m->committed)
		die(m, "mmvec_region_committed() is %zu",
		    mmvec_region_committed(m->r));
}

static void check_kernel(struct rm *m)
{
	long long rw = maps_rw_bytes(m->base, m->reserved);

	if (rw != (long long)m->committed)
		die(m, "the kernel has %lld bytes writable", rw);
}

static void check_zero(struct rm *m, size_t from, size_t to)
{
	/* the first and last byte of each page, and one in between */
	for (size_t p = from; p < to; p += m->page) {
		size_t last = p + m->page - 1 < to ? p + m->page - 1 : to - 1;
		size_t mid = p + (size_t)rng_below(&m->fill,
						     last - p + 1);

		if (m->base[p] || m->base[last] || m->base[mid])
			die(m, "newly committed byte in page at %zu is not "
			    "zero", p);
	}
}

static void check_contents(struct rm *m)
{
	size_t n = m->hi < m->committed ? m->hi : m->committed;

	if (n && memcmp(m->base, m->shadow, n) != 0) {
		size_t b = 0;

		while (m->base[b] == m->shadow[b])
			b++;
		die(m, "byte %zu is %#x, the model has %#x", b, m->base[b],
		    m->shadow[b]);
	}
}

static void check_populated(struct rm *m)
{
	size_t pages = m->committed / m->page;
	unsigned char *vec;

	if (!(m->flags & MMVEC_POPULATE) || m->unsure || !pages ||
	    !test_residency_checkable())
		return;
	vec = malloc(pages);
	if (!vec)
		abort();
	if (mincore(m->base, m->committed, vec) != 0)
		die(m, "mincore failed");
	for (size_t i = 0; i < pages; i++)
		if (!(vec[i] & 1))
			die(m, "MMVEC_POPULATE: page %zu not resident", i);
	free(vec);
}

static size_t pick_bytes(struct rm *m, struct vm_input *in)
{
	switch (vm_below(in, 10)) {
	case 0: return 0;
	case 1: return m->committed;
	case 2: return m->committed + 1;
	case 3: return m->committed ? m->committed - 1 : 0;
	case 4: return m->reserved + 1 + (size_t)vm_below(in, 3 * m->page);
	case 5: return SIZE_MAX - (size_t)vm_below(in, 2);
	case 6: return m->committed + (size_t)vm_below(in, 3) * m->page;
	default: return (size_t)vm_below(in, (uint64_t)m->limit + 1);
	}
}

static void op_commit(struct rm *m, struct vm_input *in)
{
	size_t bytes = pick_bytes(m, in);
	int want, rc;
	size_t had = m->committed, expect = 0;

	if (bytes > m->reserved) {
		want = -ENOSPC;
	} else if (bytes > m->limit) {
		return; /* a default reservation: stay within the shadow */
	} else {
		want = 0;
		expect = expect_commit(m, bytes);
	}
	vm_faults_arm(m->faults, in);
	rc = mmvec_region_commit(m->r, bytes);
	struct vm_fault_report rep = vm_faults_disarm(m->faults);
	if (rc != want) {
		if (!(want == 0 && rc == -ENOMEM && rep.injected))
			die(m, "commit(%zu) returned %d, expected %d", bytes,
			    rc, want);
		if (rep.decommit_injected) {
			/* the undo failed: the memory may stay committed */
			size_t now = mmvec_region_committed(m->r);

			m->unsure = true;
			if (now != had && now != expect)
				die(m, "commit(%zu) failed and left %zu "
				    "committed", bytes, now);
			m->committed = now;
		}
	} else if (rc == 0) {
		m->committed = expect;
	}
	check_getters(m);
	if (m->committed > had)
		check_zero(m, had, m->committed);
	if (rc != 0)
		check_kernel(m);
	check_populated(m);
}

static void op_decommit(struct rm *m, struct vm_input *in)
{
	size_t bytes = pick_bytes(m, in);
	size_t keep = bytes >= m->committed ? m->committed
					    : round_up(bytes, m->page);
	int rc;

	vm_faults_arm(m->faults, in);
	rc = mmvec_region_decommit(m->r, bytes);
	struct vm_fault_report rep = vm_faults_disarm(m->faults);
	if (rc != 0) {
		if (!(rc == -ENOMEM && rep.injected))
			die(m, "decommit(%zu) returned %d", bytes, rc);
		check_getters(m);
		check_kernel(m);
		check_contents(m);
		return;
	}
	if (keep < m->committed)
		memset(m->shadow + keep, 0, m->committed - keep);
	m->committed = keep;
	if (m->hi > keep)
		m->hi = keep;
	check_getters(m);
}

static void op_write(struct rm *m, struct vm_input *in)
{
	size_t off, len;

	if (!m->committed)
		return;
	off = (size_t)vm_below(in, m->committed);
	len = 1 + (size_t)vm_below(in, m->committed - off < 3 * m->page
					       ? m->committed - off
					       : 3 * m->page);
	for (size_t b = 0; b < len; b++)
		m->shadow[off + b] = (unsigned char)rng_next(&m->fill);
	memcpy(m->base + off, m->shadow + off, len);
	if (off + len > m->hi)
		m->hi = off + len;
}

static void op_invalid(struct rm *m, struct vm_input *in)
{
	struct mmvec_region *out = m->r;
	int rc = 0, want = -EINVAL;
	unsigned which = (unsigned)vm_below(in, 8);

	errno = 0;
	switch (which) {
	case 0:
		if (mmvec_region_base(NULL) || errno != EINVAL)
			die(m, "mmvec_region_base(NULL)");
		break;
	case 1:
		if (mmvec_region_reserved(NULL) || mmvec_region_committed(NULL))
			die(m, "getters of NULL");
		mmvec_region_free(NULL);
		break;
	case 2: rc = mmvec_region_commit(NULL, (size_t)vm_below(in, 9)); break;
	case 3: rc = mmvec_region_decommit(NULL, 0); break;
	case 4: rc = mmvec_region_new(4096, 1u << (3 + vm_below(in, 29)), &out);
		break;
	case 5: rc = mmvec_region_new(1, MMVEC_HUGEPAGES | MMVEC_NO_HUGEPAGES,
				      &out);
		break;
	case 6: rc = mmvec_region_new(1, 0, NULL); break;
	default:
		want = -EOVERFLOW;
		rc = mmvec_region_new(SIZE_MAX - (size_t)vm_below(in, m->page - 1),
				      0, &out);
		break;
	}
	if (which >= 2 && rc != want)
		die(m, "invalid call %u returned %d, expected %d", which, rc,
		    want);
	if (out != m->r)
		die(m, "a failed mmvec_region_new() wrote its out pointer");
	check_getters(m);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const unsigned flag_sets[] = {
		0, MMVEC_HUGEPAGES, MMVEC_NO_HUGEPAGES, MMVEC_POPULATE,
		MMVEC_HUGEPAGES | MMVEC_POPULATE,
	};
	struct vm_input in;
	struct rm m;
	size_t max_bytes;
	int rc;

	if (size < 2)
		return 0;
	memset(&m, 0, sizeof(m));
	m.faults = (data[0] & 1) ? &faults_random : NULL;
	vm_input_bytes(&in, data + 1, size - 1);
	m.page = mmvec_page_size();
	m.fill.state = vm_below(&in, UINT64_MAX);
	m.flags = flag_sets[vm_below(&in, ARRAY_LENGTH(flag_sets))];
	switch (vm_below(&in, 8)) {
	case 0:
		/* the default size (tens of GiB; slow under Valgrind) */
		max_bytes = test_on_valgrind() ? MIB : 0;
		break;
	case 1: case 2: max_bytes = 1 + (size_t)vm_below(&in, 64 * 1024); break;
	default: max_bytes = 1 + (size_t)vm_below(&in, LIMIT_BYTES); break;
	}

	for (;;) {
		vm_faults_arm(m.faults, &in);
		rc = mmvec_region_new(max_bytes, m.flags, &m.r);
		struct vm_fault_report rep = vm_faults_disarm(m.faults);
		if (rc == 0)
			break;
		if (rc != -ENOMEM || !rep.injected || m.r)
			die(&m, "mmvec_region_new(%zu) returned %d", max_bytes,
			    rc);
		m.faults = NULL; /* once more, without failures */
	}
	m.faults = (data[0] & 1) ? &faults_random : NULL;
	m.base = mmvec_region_base(m.r);
	m.reserved = mmvec_region_reserved(m.r);
	if (max_bytes && m.reserved != round_up(max_bytes, m.page))
		die(&m, "reserved %zu for %zu", m.reserved, max_bytes);
	if (!m.base || (uintptr_t)m.base % m.page || m.reserved % m.page)
		die(&m, "base %p", (void *)m.base);
	m.limit = m.reserved < LIMIT_BYTES ? m.reserved : LIMIT_BYTES;
	m.huge = (m.flags & MMVEC_NO_HUGEPAGES) ? 0 : thp_size();
	m.shadow = calloc(1, m.limit);
	if (!m.shadow)
		abort();
	check_getters(&m);

	for (; m.step < MAX_STEPS && !vm_input_done(&in); m.step++) {
		switch (vm_below(&in, 16)) {
		case 0: case 1: case 2: case 3: case 4:
			op_commit(&m, &in);
			break;
		case 5: case 6: case 7:
			op_decommit(&m, &in);
			break;
		case 8: case 9: case 10: case 11:
			op_write(&m, &in);
			break;
		case 12: case 13:
			check_contents(&m);
			break;
		case 14:
			check_kernel(&m);
			break;
		default:
			op_invalid(&m, &in);
			break;
		}
	}
	check_contents(&m);
	check_kernel(&m);
	mmvec_region_free(m.r);
	free(m.shadow);
	faults_stop();
	return 0;
}
