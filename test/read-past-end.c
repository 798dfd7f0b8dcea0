/*
 * SPDX-License-Identifier: MIT
 *
 * Helper for test-checkers.c: builds a vector in some state and reads one
 * byte of element mmvec_len() (or, as a control, of element len - 1). The
 * byte read lies in committed memory, so the read itself never faults: only
 * the library's annotations can make AddressSanitizer or memcheck report it.
 *
 *   read-past-end one SCENARIO ELEM_SIZE past|inside
 *   read-past-end all            every scenario, inside then past
 *   read-past-end all inside     only the reads that must not be reported
 *
 * Before each read it writes "@@ begin SCENARIO ELEM_SIZE MODE" to stderr and
 * after it "@@ end", so that a checker's report lands between the two; under
 * Valgrind also "@@ memcheck errors N", the errors the read caused.
 * Exit status: 0 after the reads, 3 if a scenario did not reach the state it
 * needs (a bug in this helper or the library), or what the checker chooses.
 */
#include "helpers.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#if HAVE_VALGRIND_MEMCHECK_H
#include <valgrind/valgrind.h>
#endif

#include "mmvec.h"
#include "scenarios.h"

static volatile unsigned char sink;

/* "freed": where the freed vector's elements were */
static const unsigned char *freed_data;

static void die(const char *what, const char *name, size_t es)
{
	fprintf(stderr, "@@ precondition failed: %s (%s, elem_size %zu)\n",
		what, name, es);
	exit(3);
}

static void push_n(struct mmvec *v, size_t n, const char *name)
{
	size_t es = mmvec_elem_size(v);
	unsigned char elem[64];

	for (size_t i = 0; i < n; i++) {
		memset(elem, (int)(i + 1), sizeof(elem));
		if (!mmvec_push(v, elem))
			die("push", name, es);
	}
}

/* Puts *vp in the state the scenario names. */
static void setup(struct mmvec **vp, const char *name)
{
	struct mmvec *v = *vp;
	size_t es = mmvec_elem_size(v);
	int rc = 0;

	if (!strcmp(name, "push")) {
		push_n(v, 37, name);
	} else if (!strcmp(name, "push-null")) {
		for (int i = 0; i < 37; i++)
			if (!mmvec_push(v, NULL))
				die("push", name, es);
	} else if (!strcmp(name, "extend")) {
		if (!mmvec_extend(v, 37))
			die("extend", name, es);
	} else if (!strcmp(name, "append")) {
		unsigned char buf[37 * 64];

		memset(buf, 0x11, sizeof(buf));
		rc = mmvec_append(v, buf, 37);
	} else if (!strcmp(name, "insert")) {
		unsigned char buf[5 * 64];

		memset(buf, 0x22, sizeof(buf));
		push_n(v, 32, name);
		rc = mmvec_insert(v, 7, buf, 5);
	} else if (!strcmp(name, "pop")) {
		push_n(v, 38, name);
		rc = mmvec_pop(v, NULL);
	} else if (!strcmp(name, "erase")) {
		push_n(v, 50, name);
		rc = mmvec_erase(v, 10, 13);
	} else if (!strcmp(name, "swap-remove")) {
		push_n(v, 38, name);
		rc = mmvec_swap_remove(v, 3);
	} else if (!strcmp(name, "resize-down")) {
		push_n(v, 60, name);
		rc = mmvec_resize(v, 37);
	} else if (!strcmp(name, "resize-up")) {
		rc = mmvec_resize(v, 37);
	} else if (!strcmp(name, "clear")) {
		push_n(v, 37, name);
		mmvec_clear(v);
	} else if (!strcmp(name, "reserve")) {
		rc = mmvec_reserve(v, 3000);
		push_n(v, 37, name);
	} else if (!strcmp(name, "shrink")) {
		/* a page and a bit of elements, then more, then shrink: what
		 * is left past the end shares the last page */
		size_t n = mmvec_page_size() / es + 3;

		if (!mmvec_extend(v, 4 * n))
			die("extend", name, es);
		rc = mmvec_resize(v, n);
		if (!rc)
			rc = mmvec_shrink_to_fit(v);
	} else if (!strcmp(name, "regrow")) {
		/* shrink back to nothing, then grow again */
		push_n(v, 3000, name);
		mmvec_clear(v);
		rc = mmvec_shrink_to_fit(v);
		push_n(v, 37, name);
	} else if (!strcmp(name, "full-page")) {
		/* the vector at exactly its capacity: element len does not
		 * exist, but the bytes after the last element up to the end
		 * of the page are committed (when elem_size does not divide
		 * the page) and must be reported as well */
		push_n(v, 1, name);
		rc = mmvec_resize(v, mmvec_capacity(v));
	} else if (!strcmp(name, "push-fast")) {
		/* the inline push, which must leave annotated vectors to
		 * the library */
		unsigned char elem[64];

		for (int i = 0; i < 37; i++) {
			memset(elem, i + 1, sizeof(elem));
			if (!mmvec_push_fast(v, elem, es))
				die("push_fast", name, es);
		}
	} else if (!strcmp(name, "claim")) {
		/* 37 published, 5 more claimed: element len is claimed and
		 * addressable, element len + 5 is not (see target()) */
		unsigned char *slot = mmvec_claim(v, 42);

		if (!slot)
			die("claim", name, es);
		memset(slot, 0x33, 42 * es);
		rc = mmvec_publish(v, 37);
	} else if (!strcmp(name, "claim-discarded")) {
		/* a claim that a push ended: its slots are no-access again */
		unsigned char *slot = mmvec_claim(v, 42);

		if (!slot)
			die("claim", name, es);
		memset(slot, 0x44, 42 * es);
		rc = mmvec_publish(v, 36);
		push_n(v, 1, name);
	} else if (!strcmp(name, "reused")) {
		/* a vector on the reservation of one that wrote further: what
		 * the cache kept committed of it is past the new end */
		push_n(v, 300, name);
		mmvec_free(v);
		if (mmvec_new(es, 1u << 20, MMVEC_NO_HUGEPAGES, vp) != 0)
			die("mmvec_new", name, es);
		push_n(*vp, 37, name);
	} else if (!strcmp(name, "freed")) {
		/* freed, its reservation kept in the cache: none of it is
		 * the program's (see target()) */
		push_n(v, 37, name);
		freed_data = mmvec_data(v);
		mmvec_free(v);
		*vp = NULL;
	} else {
		die("unknown scenario", name, es);
	}
	if (rc)
		die("setup call failed", name, es);
}

/* The byte to read: the first of element len (past) or len - 1 (inside).
 * NULL when the scenario has no such byte in committed memory. */
static const unsigned char *target(struct mmvec *v, const char *name,
				   bool past)
{
	size_t es = mmvec_elem_size(v), len = mmvec_len(v);
	size_t page = mmvec_page_size();
	size_t committed_end = (mmvec_capacity(v) * es + page - 1) / page * page;
	size_t off;

	if (!strcmp(name, "freed")) {
		/* the first element, where the cache kept it committed;
		 * without the cache it is unmapped and nothing is read */
		if (!past || maps_accessible(freed_data) != 1)
			return NULL;
		return freed_data;
	}
	if (!past) {
		if (!len)
			return NULL;
		return (const unsigned char *)mmvec_at(v, len - 1);
	}
	off = len * es;
	if (!strcmp(name, "claim"))
		off += 5 * es; /* past the claimed slots */
	if (!strcmp(name, "full-page")) {
		if (mmvec_len(v) != mmvec_capacity(v))
			die("not at capacity", name, es);
		if (off >= committed_end)
			return NULL; /* elem_size divides the page */
	} else if (mmvec_capacity(v) <= len) {
		die("element len is not within the capacity", name, es);
	}
	if (off >= committed_end)
		die("element len is not committed", name, es);
	return (const unsigned char *)mmvec_data(v) + off;
}

static void run(const char *name, size_t es, bool past)
{
	struct mmvec *v = NULL;
	const unsigned char *p;

	if (mmvec_new(es, 1u << 20, MMVEC_NO_HUGEPAGES, &v) != 0)
		die("mmvec_new", name, es);
	setup(&v, name);
	p = target(v, name, past);
	fprintf(stderr, "@@ begin %s %zu %s\n", name, es,
		past ? "past" : "inside");
	if (p) {
#if HAVE_VALGRIND_MEMCHECK_H
		/* memcheck prints an error once per call stack, and these
		 * reads share one: count them instead */
		unsigned errors = VALGRIND_COUNT_ERRORS;

		sink = *(const volatile unsigned char *)p;
		if (RUNNING_ON_VALGRIND)
			fprintf(stderr, "@@ memcheck errors %u\n",
				VALGRIND_COUNT_ERRORS - errors);
#else
		sink = *(const volatile unsigned char *)p;
#endif
	} else {
		fprintf(stderr, "@@ nothing to read\n");
	}
	fprintf(stderr, "@@ end\n");
	mmvec_free(v);
}

int main(int argc, char **argv)
{
	if (argc == 5 && !strcmp(argv[1], "one")) {
		run(argv[2], strtoul(argv[3], NULL, 10),
		    !strcmp(argv[4], "past"));
		return 0;
	}
	if ((argc == 2 || argc == 3) && !strcmp(argv[1], "all")) {
		bool past = argc == 2;

		for (size_t s = 0; s < ARRAY_LENGTH(scenario_names); s++)
			for (size_t k = 0; k < ARRAY_LENGTH(scenario_sizes);
			     k++) {
				run(scenario_names[s], scenario_sizes[k], false);
				if (past)
					run(scenario_names[s],
					    scenario_sizes[k], true);
			}
		return 0;
	}
	fprintf(stderr, "usage: %s one SCENARIO ELEM_SIZE past|inside\n"
		"       %s all [inside]\n", argv[0], argv[0]);
	return 2;
}
