/*
 * SPDX-License-Identifier: MIT
 *
 * The Windows OS layer (src/os-win32.c), seen through the public API and
 * checked against what VirtualQuery reports: reserve, commit, decommit and
 * release; pages read back zero after a decommit; a store past the capacity
 * raises an access violation; Windows errors arrive as the same negative
 * errno values as on Linux. White-box: linked with the static test library,
 * so the OS layer's own calls (aligned reservations) can be tested too.
 *
 * Check has no fork() on Windows, so every test runs in this one process.
 * Faults that must happen are caught by a vectored exception handler that
 * commits the faulting page and lets the instruction run again: no longjmp
 * out of a handler, and the test goes on in a well-defined state.
 */
#include "config.h"

#include <check.h>
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define WIN32_LEAN_AND_MEAN
#include <windows.h>

#include "mmvec.h"
#include "os.h"
#include "runner.h"

#define KIB ((size_t)1024)
#define MIB (KIB * 1024)
#define GIB (MIB * 1024)

/* A pointer no call may write to an out parameter it is given on failure */
#define BAD_REGION ((struct mmvec_region *)(uintptr_t)0x5e5e5e50)

/* ------------------------------------------------------------------------ */
/* What Windows has at an address */

struct range_state {
	DWORD state;   /* MEM_COMMIT, MEM_RESERVE or MEM_FREE */
	DWORD protect; /* PAGE_READWRITE, ... (0 unless committed) */
	void *alloc_base;
	size_t size;   /* bytes from the address with the same state */
};

static struct range_state query(const void *addr)
{
	MEMORY_BASIC_INFORMATION mbi;
	struct range_state rs;

	ck_assert_uint_eq(VirtualQuery(addr, &mbi, sizeof(mbi)), sizeof(mbi));
	rs.state = mbi.State;
	rs.protect = mbi.State == MEM_COMMIT ? mbi.Protect : 0;
	rs.alloc_base = mbi.State == MEM_FREE ? NULL : mbi.AllocationBase;
	rs.size = (size_t)((const char *)mbi.BaseAddress + mbi.RegionSize -
			   (const char *)addr);
	return rs;
}

static size_t granularity(void)
{
	SYSTEM_INFO si;

	GetSystemInfo(&si);
	return si.dwAllocationGranularity;
}

/* ------------------------------------------------------------------------ */
/* Catching access violations */

/* Armed by a test around the one access that must fault. The handler
 * records the fault and commits the page, so the access completes when it
 * runs again; any other exception goes on to the next handler. */
static volatile LONG fault_armed;
static volatile LONG fault_count;
static volatile ULONG_PTR fault_kind;   /* 0 read, 1 write */
static void *volatile fault_addr;

static LONG CALLBACK on_exception(EXCEPTION_POINTERS *ep)
{
	EXCEPTION_RECORD *er = ep->ExceptionRecord;
	void *addr;

	if (!fault_armed || er->ExceptionCode != EXCEPTION_ACCESS_VIOLATION ||
	    er->NumberParameters < 2)
		return EXCEPTION_CONTINUE_SEARCH;
	/* cppcheck-suppress intToPointerCast ; the address the CPU reports */
	addr = (void *)er->ExceptionInformation[1];
	fault_kind = er->ExceptionInformation[0];
	fault_addr = addr;
	fault_count++;
	fault_armed = 0;
	if (!VirtualAlloc(addr, 1, MEM_COMMIT, PAGE_READWRITE))
		return EXCEPTION_CONTINUE_SEARCH;
	return EXCEPTION_CONTINUE_EXECUTION;
}

static void *handler;

static void handler_add(void)
{
	handler = AddVectoredExceptionHandler(1, on_exception);
	ck_assert_ptr_nonnull(handler);
	fault_armed = 0;
	fault_count = 0;
	fault_addr = NULL;
}

static void handler_remove(void)
{
	RemoveVectoredExceptionHandler(handler);
	handler = NULL;
}

/* ------------------------------------------------------------------------ */
/* Constants */

START_TEST(test_page_size)
{
	SYSTEM_INFO si;

	GetSystemInfo(&si);
	ck_assert_uint_eq(mmvec_page_size(), si.dwPageSize);
	ck_assert_uint_eq(mmvec__os_page_size(), si.dwPageSize);
	/* no huge pages without SeLockMemoryPrivilege and a locked,
	 * reserve-and-commit-at-once mapping: none are used */
	ck_assert_uint_eq(mmvec__os_huge_page_size(), 0);
}
END_TEST

START_TEST(test_physical_memory)
{
	MEMORYSTATUSEX ms;

	ms.dwLength = sizeof(ms);
	ck_assert(GlobalMemoryStatusEx(&ms));
	ck_assert_uint_eq(mmvec__os_physical_memory(), (size_t)ms.ullTotalPhys);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Reserve, commit, decommit, release */

START_TEST(test_region_lifecycle)
{
	size_t page = mmvec_page_size();
	struct mmvec_region *r;
	struct range_state rs;
	unsigned char *base;

	ck_assert_int_eq(mmvec_region_new(MIB, 0, &r), 0);
	base = mmvec_region_base(r);
	ck_assert_uint_eq(mmvec_region_reserved(r), MIB);
	ck_assert_uint_eq(mmvec_region_committed(r), 0);
	/* every reservation starts on the allocation granularity */
	ck_assert_uint_eq((uintptr_t)base % granularity(), 0);

	rs = query(base);
	ck_assert_uint_eq(rs.state, MEM_RESERVE);
	ck_assert_ptr_eq(rs.alloc_base, base);
	ck_assert_uint_eq(rs.size, MIB);

	/* commits round up to pages, not to the 64 KiB granularity */
	ck_assert_int_eq(mmvec_region_commit(r, 2 * page + 1), 0);
	ck_assert_uint_eq(mmvec_region_committed(r), 3 * page);
	rs = query(base);
	ck_assert_uint_eq(rs.state, MEM_COMMIT);
	ck_assert_uint_eq(rs.protect, PAGE_READWRITE);
	ck_assert_uint_eq(rs.size, 3 * page);
	rs = query(base + 3 * page);
	ck_assert_uint_eq(rs.state, MEM_RESERVE);
	ck_assert_uint_eq(rs.size, MIB - 3 * page);

	memset(base, 0xa5, 3 * page);

	ck_assert_int_eq(mmvec_region_decommit(r, page), 0);
	ck_assert_uint_eq(mmvec_region_committed(r), page);
	rs = query(base + page);
	ck_assert_uint_eq(rs.state, MEM_RESERVE);
	ck_assert_ptr_eq(rs.alloc_base, base);
	ck_assert_uint_eq(base[page - 1], 0xa5);

	/* committed again, the decommitted pages read as zero */
	ck_assert_int_eq(mmvec_region_commit(r, 3 * page), 0);
	for (size_t i = page; i < 3 * page; i++)
		if (base[i] != 0)
			ck_abort_msg("byte %zu is %u after decommit", i, base[i]);
	ck_assert_uint_eq(base[0], 0xa5);

	/* the whole reservation, to the last byte */
	ck_assert_int_eq(mmvec_region_commit(r, MIB), 0);
	rs = query(base);
	ck_assert_uint_eq(rs.state, MEM_COMMIT);
	ck_assert_uint_eq(rs.size, MIB);
	base[MIB - 1] = 1;

	/* released at once, or kept in the reservation cache until a
	 * flush */
	mmvec_region_free(r);
	mmvec_cache_flush();
	rs = query(base);
	ck_assert_uint_eq(rs.state, MEM_FREE);
}
END_TEST

START_TEST(test_region_small)
{
	struct mmvec_region *r;
	struct range_state rs;
	char *base;

	/* A page, far below the granularity: the reservation is one page,
	 * the rest of the 64 KiB block is unusable but not reserved. */
	ck_assert_int_eq(mmvec_region_new(1, 0, &r), 0);
	base = mmvec_region_base(r);
	ck_assert_uint_eq(mmvec_region_reserved(r), mmvec_page_size());
	rs = query(base);
	ck_assert_uint_eq(rs.state, MEM_RESERVE);
	ck_assert_uint_eq(rs.size, mmvec_page_size());
	ck_assert_int_eq(mmvec_region_commit(r, 1), 0);
	base[0] = 1;
	mmvec_region_free(r);
	mmvec_cache_flush();
	ck_assert_uint_eq(query(base).state, MEM_FREE);
}
END_TEST

START_TEST(test_flags)
{
	size_t page = mmvec_page_size();
	struct mmvec_region *r;
	unsigned char *base;

	/* MMVEC_HUGEPAGES is accepted and commits stay in page steps */
	ck_assert_int_eq(mmvec_region_new(8 * MIB, MMVEC_HUGEPAGES, &r), 0);
	ck_assert_int_eq(mmvec_region_commit(r, page + 1), 0);
	ck_assert_uint_eq(mmvec_region_committed(r), 2 * page);
	mmvec_region_free(r);

	/* MMVEC_POPULATE touches the pages, which still read as zero */
	ck_assert_int_eq(mmvec_region_new(8 * MIB, MMVEC_POPULATE, &r), 0);
	base = mmvec_region_base(r);
	ck_assert_int_eq(mmvec_region_commit(r, 64 * page), 0);
	ck_assert_uint_eq(mmvec_region_committed(r), 64 * page);
	ck_assert_uint_eq(query(base).state, MEM_COMMIT);
	ck_assert_uint_eq(query(base).size, 64 * page);
	for (size_t i = 0; i < 64 * page; i++)
		if (base[i] != 0)
			ck_abort_msg("byte %zu is %u after populate", i, base[i]);
	mmvec_region_free(r);

	ck_assert_int_eq(mmvec_region_new(MIB, MMVEC_HUGEPAGES | MMVEC_NO_HUGEPAGES,
					  &r), -EINVAL);
}
END_TEST

START_TEST(test_default_reservation)
{
	struct mmvec *v;
	MEMORYSTATUSEX ms;
	size_t bytes;

	ms.dwLength = sizeof(ms);
	ck_assert(GlobalMemoryStatusEx(&ms));

	/* Reservations are not charged against the commit limit on Windows,
	 * so the default is the same as on Linux: physical memory rounded up
	 * to a power of two (below the shared budget's cap). */
	ck_assert_int_eq(mmvec_new(8, 0, 0, &v), 0);
	bytes = mmvec_max_len(v) * 8;
	ck_assert_uint_ge(bytes, (size_t)ms.ullTotalPhys);
	ck_assert_uint_eq(bytes & (bytes - 1), 0);
	ck_assert_uint_eq(query(mmvec_data(v)).state, MEM_RESERVE);
	mmvec_free(v);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* The OS layer's aligned reservations */

START_TEST(test_os_reserve_aligned)
{
	size_t page = mmvec__os_page_size();
	size_t align = 2 * MIB;
	void *p;

	/* More than the granularity: reserved with slack, released and
	 * reserved again at the aligned address. */
	ck_assert_int_eq(mmvec__os_reserve(3 * MIB, align, &p), 0);
	ck_assert_uint_eq((uintptr_t)p % align, 0);
	ck_assert_uint_eq(query(p).state, MEM_RESERVE);
	ck_assert_ptr_eq(query(p).alloc_base, p);
	ck_assert_uint_eq(query(p).size, 3 * MIB);
	ck_assert_int_eq(mmvec__os_commit(p, page), 0);
	*(volatile char *)p = 1;
	mmvec__os_release(p, 3 * MIB);
	ck_assert_uint_eq(query(p).state, MEM_FREE);

	/* up to the granularity, alignment comes with every reservation */
	ck_assert_int_eq(mmvec__os_reserve(page, granularity(), &p), 0);
	ck_assert_uint_eq((uintptr_t)p % granularity(), 0);
	mmvec__os_release(p, page);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Errors */

START_TEST(test_error_mapping)
{
	struct mmvec_region *r = BAD_REGION;
	struct mmvec *v = NULL;
	void *p = NULL;

	/* Larger than the whole address space: VirtualAlloc's refusal is
	 * -ENOMEM, as mmap's is, and nothing is written to *out. */
	ck_assert_int_eq(mmvec_region_new((size_t)1 << 62, 0, &r), -ENOMEM);
	ck_assert_ptr_eq(r, BAD_REGION);
	ck_assert_int_eq(mmvec__os_reserve((size_t)1 << 62, mmvec__os_page_size(),
					   &p), -ENOMEM);
	ck_assert_int_eq(mmvec__os_reserve((size_t)1 << 62, 2 * MIB, &p), -ENOMEM);
	ck_assert_int_eq(mmvec__os_reserve(SIZE_MAX - MIB, 2 * MIB, &p), -ENOMEM);
	ck_assert_ptr_null(p);
	ck_assert_int_eq(mmvec_new(8, (size_t)1 << 59, 0, &v), -ENOMEM);
	ck_assert_ptr_null(v);

	/* The region layer's checks come first, as on Linux */
	ck_assert_int_eq(mmvec_region_new(SIZE_MAX, 0, &r), -EOVERFLOW);
	ck_assert_int_eq(mmvec_region_new(MIB, 1u << 20, &r), -EINVAL);
	ck_assert_ptr_eq(r, BAD_REGION);
}
END_TEST

/* A commit the commit limit refuses: a job object caps the process's
 * committed memory. Registered only where the cap takes effect. */
static HANDLE job;

static bool job_limit_set(size_t limit)
{
	JOBOBJECT_EXTENDED_LIMIT_INFORMATION li;

	memset(&li, 0, sizeof(li));
	if (limit) {
		li.BasicLimitInformation.LimitFlags = JOB_OBJECT_LIMIT_PROCESS_MEMORY;
		li.ProcessMemoryLimit = limit;
	}
	return SetInformationJobObject(job, JobObjectExtendedLimitInformation,
				       &li, sizeof(li));
}

static bool commit_limit_works(void)
{
	void *p;
	bool refused;

	job = CreateJobObjectW(NULL, NULL);
	if (!job || !AssignProcessToJobObject(job, GetCurrentProcess()) ||
	    !job_limit_set(256 * MIB))
		return false;
	p = VirtualAlloc(NULL, GIB, MEM_RESERVE, PAGE_NOACCESS);
	refused = p && !VirtualAlloc(p, GIB, MEM_COMMIT, PAGE_READWRITE);
	if (p)
		VirtualFree(p, 0, MEM_RELEASE);
	job_limit_set(0);
	return refused;
}

START_TEST(test_commit_refused)
{
	size_t page = mmvec_page_size();
	struct mmvec_region *r;
	unsigned char *base;

	ck_assert_int_eq(mmvec_region_new(2 * GIB, 0, &r), 0);
	base = mmvec_region_base(r);
	ck_assert_int_eq(mmvec_region_commit(r, page), 0);
	base[0] = 7;

	ck_assert(job_limit_set(256 * MIB));
	ck_assert_int_eq(mmvec_region_commit(r, GIB), -ENOMEM);
	ck_assert(job_limit_set(0));

	/* nothing changed */
	ck_assert_uint_eq(mmvec_region_committed(r), page);
	ck_assert_uint_eq(query(base).size, page);
	ck_assert_uint_eq(query(base + page).state, MEM_RESERVE);
	ck_assert_uint_eq(base[0], 7);
	mmvec_region_free(r);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Faults */

START_TEST(test_store_past_capacity)
{
	struct mmvec *v;
	volatile double *d;
	double x = 1.5;
	size_t cap;

	ck_assert_int_eq(mmvec_new(sizeof(double), MIB, 0, &v), 0);
	ck_assert_ptr_nonnull(mmvec_push(v, &x));
	cap = mmvec_capacity(v);
	ck_assert_uint_gt(cap, 0);
	d = mmvec_data(v);

	handler_add();
	fault_armed = 1;
	d[cap] = 2.5; /* the first byte past the committed memory */
	ck_assert_int_eq(fault_count, 1);
	ck_assert_uint_eq(fault_kind, 1);
	ck_assert_ptr_eq(fault_addr, (void *)&d[cap]);
	/* the handler committed the page and the store went through */
	ck_assert(d[cap] == 2.5);

	/* a read of decommitted memory faults too */
	ck_assert_int_eq(mmvec_resize(v, 0), 0);
	ck_assert_int_eq(mmvec_shrink_to_fit(v), 0);
	ck_assert_uint_eq(query((const void *)d).state, MEM_RESERVE);
	fault_armed = 1;
	x = d[0];
	ck_assert_int_eq(fault_count, 2);
	ck_assert_uint_eq(fault_kind, 0);
	ck_assert_ptr_eq(fault_addr, (void *)d);
	ck_assert(x == 0.0);
	handler_remove();

	mmvec_free(v);
}
END_TEST

START_TEST(test_store_in_capacity)
{
	struct mmvec *v;
	double x = 0;

	/* a store below the capacity never faults */
	ck_assert_int_eq(mmvec_new(sizeof(double), MIB, 0, &v), 0);
	handler_add();
	fault_armed = 1;
	for (size_t i = 0; i < 100000; i++) {
		x = (double)i;
		if (!mmvec_push(v, &x))
			ck_abort_msg("push %zu failed: %d", i, errno);
	}
	fault_armed = 0;
	handler_remove();
	ck_assert_int_eq(fault_count, 0);
	ck_assert(*(double *)mmvec_at(v, 99999) == 99999.0);
	mmvec_free(v);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* The header's inline appends */

START_TEST(test_inline_push)
{
	struct mmvec *v;
	size_t n = 100000;
	uint64_t *first;

	/* mmvec_push_fast() writes into the vector from the caller's code and
	 * calls the library only to grow: across the DLL boundary too. */
	ck_assert_int_eq(mmvec_new(sizeof(uint64_t), 0, 0, &v), 0);
	for (uint64_t i = 0; i < n; i++)
		if (!mmvec_push_fast(v, &i, sizeof(i)))
			ck_abort_msg("push_fast %ju failed: %d", (uintmax_t)i, errno);
	first = mmvec_data(v);
	ck_assert_uint_eq(mmvec_len(v), n);
	for (size_t i = 0; i < n; i++)
		if (first[i] != i)
			ck_abort_msg("element %zu is %ju", i, (uintmax_t)first[i]);

	/* claim, fill, publish */
	uint64_t *slots = mmvec_claim(v, 1000);
	ck_assert_ptr_nonnull(slots);
	ck_assert_uint_eq(mmvec_len(v), n);
	for (size_t i = 0; i < 1000; i++)
		slots[i] = n + i;
	ck_assert_int_eq(mmvec_publish(v, 1000), 0);
	ck_assert_uint_eq(mmvec_len(v), n + 1000);
	ck_assert_uint_eq(*(uint64_t *)mmvec_at(v, n + 999), n + 999);
	ck_assert_ptr_eq(mmvec_data(v), first);
	mmvec_free(v);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* One writer, many readers */

#define READERS 3
#define ELEMENTS 200000

static struct mmvec *shared_vec;
static volatile LONG readers_failed;

static DWORD WINAPI reader(void *arg)
{
	size_t seen = 0;

	(void)arg;
	while (seen < ELEMENTS) {
		size_t len = mmvec_len(shared_vec);
		/* every element below the published length is written */
		for (size_t i = seen; i < len; i++) {
			const size_t *e = mmvec_at(shared_vec, i);
			if (!e || *e != i * 3)
				InterlockedIncrement(&readers_failed);
		}
		seen = len;
	}
	return 0;
}

START_TEST(test_one_writer_many_readers)
{
	HANDLE threads[READERS];

	ck_assert_int_eq(mmvec_new(sizeof(size_t), ELEMENTS, 0, &shared_vec), 0);
	readers_failed = 0;
	for (int t = 0; t < READERS; t++) {
		threads[t] = CreateThread(NULL, 0, reader, NULL, 0, NULL);
		ck_assert_ptr_nonnull(threads[t]);
	}
	for (size_t i = 0; i < ELEMENTS; i++) {
		size_t e = i * 3;
		if (!mmvec_push(shared_vec, &e))
			ck_abort_msg("push %zu failed", i);
	}
	ck_assert_uint_eq(WaitForMultipleObjects(READERS, threads, TRUE, 60000),
			  WAIT_OBJECT_0);
	for (int t = 0; t < READERS; t++)
		CloseHandle(threads[t]);
	ck_assert_int_eq(readers_failed, 0);
	mmvec_free(shared_vec);
}
END_TEST

/* The reservation cache on Windows: a freed vector's reservation is kept
 * reserved with nothing committed (every commit is charged there), reused
 * by the next vector of its size with zeroed elements, and released by a
 * flush. */
START_TEST(test_cache_reuse)
{
	struct mmvec *v = NULL;
	char *data;

	ck_assert_int_eq(mmvec_new(8, 4096, 0, &v), 0);
	data = mmvec_data(v);
	memset(mmvec_extend(v, 1000), 0x5a, 8000);
	mmvec_free(v);
	ck_assert_uint_eq(query(data).state, MEM_RESERVE);
	ck_assert_ptr_eq(query(data).alloc_base, data);
	ck_assert_uint_eq(query(data + 8 * 4096 - 1).state, MEM_RESERVE);

	ck_assert_int_eq(mmvec_new(8, 4096, 0, &v), 0);
	ck_assert_ptr_eq(mmvec_data(v), data);
	ck_assert_uint_eq(mmvec_capacity(v), 0);
	ck_assert(is_zero(mmvec_extend(v, 1000), 8000));
	mmvec_free(v);
	ck_assert_uint_eq(mmvec_cache_flush(), 8 * 4096);
	ck_assert_uint_eq(query(data).state, MEM_FREE);
}
END_TEST

/* MMVEC_PRETOUCH on Windows: the thread (CreateThread) serves a vector,
 * mmvec_pretouch() commits ahead, and a thread that cannot start is
 * -EAGAIN with nothing left behind. */
static int refuse_thread(enum mmvec__os_op op, size_t size)
{
	(void)size;
	return op == MMVEC__OS_THREAD ? -EAGAIN : 0;
}

START_TEST(test_pretouch)
{
	struct mmvec *v = NULL;
	size_t n = 2000000;

	ck_assert_int_eq(mmvec_new(8, 0, MMVEC_PRETOUCH | MMVEC_POPULATE, &v),
			 -EINVAL);
	ck_assert_int_eq(mmvec_new(8, 0, MMVEC_PRETOUCH, &v), 0);
	for (size_t i = 0; i < n; i++)
		ck_assert_ptr_nonnull(mmvec_push_val(v, (int64_t)i));
	ck_assert_int_eq(mmvec_pretouch(v, 1u << 20), 0);
	ck_assert_uint_ge(mmvec_capacity(v), n + (1u << 20));
	ck_assert_uint_eq(query((char *)mmvec_data(v) + 8 * n).state,
			  MEM_COMMIT);
	ck_assert_int_eq(mmvec_shrink_to_fit(v), 0);
	for (size_t i = 0; i < n; i++)
		if (*(int64_t *)mmvec_at(v, i) != (int64_t)i)
			ck_abort_msg("element %zu changed", i);
	mmvec_free(v);

	/* the thread ends 0.1 s after its last vector; then a start that
	 * fails is the creating call's error */
	Sleep(1000);
	v = NULL;
	mmvec__os_fault_hook = refuse_thread;
	ck_assert_int_eq(mmvec_new(8, 0, MMVEC_PRETOUCH, &v), -EAGAIN);
	mmvec__os_fault_hook = NULL;
	ck_assert_ptr_null(v);
}
END_TEST

/* ------------------------------------------------------------------------ */

Suite *test_suite(int argc, char **argv)
{
	Suite *s = suite_create("win32");
	TCase *tc = test_case(s, "win32", NULL, NULL, 120);

	test_add(tc, 1, test_page_size, test_physical_memory,
		 test_region_lifecycle, test_region_small, test_flags,
		 test_default_reservation, test_os_reserve_aligned,
		 test_error_mapping, test_store_past_capacity,
		 test_store_in_capacity, test_inline_push,
		 test_one_writer_many_readers, test_cache_reuse,
		 test_pretouch, NULL);
	test_add_if(tc, commit_limit_works(), "a job object's "
		    "ProcessMemoryLimit does not limit commits here (Wine does "
		    "not enforce it)", test_commit_refused);
	return s;
}
