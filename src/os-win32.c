/*
 * SPDX-License-Identifier: MIT
 *
 * The OS layer for Windows: VirtualAlloc and VirtualFree. See os.h for the
 * rules every function obeys.
 *
 * Windows splits what mmap does in two: MEM_RESERVE takes address space and
 * charges nothing, MEM_COMMIT charges the commit limit (RAM plus page files)
 * and makes the pages usable. That is the reserve-then-commit model this
 * library is built on, so each os.h call is one system call here.
 */
#include "config.h"

#include <errno.h>
#include <stdint.h>

#define WIN32_LEAN_AND_MEAN
#include <windows.h>

#include "os.h"

#include "os-inject.h"

/* ---------------------------------------------------------------------------
 * Errors
 * ------------------------------------------------------------------------- */

/* The errno for the last failed VirtualAlloc or VirtualFree. Everything that
 * means "no memory or no address space" is ENOMEM, as mmap and mprotect
 * report it: a full commit limit (ERROR_COMMITMENT_LIMIT), no room in the
 * address space (ERROR_NOT_ENOUGH_MEMORY), a quota (ERROR_OUTOFMEMORY), and
 * a reservation larger than the whole address space, which VirtualAlloc
 * refuses as ERROR_INVALID_PARAMETER where Linux says EINVAL or ENOMEM. */
static int last_error(void)
{
	switch (GetLastError()) {
	case ERROR_NOT_ENOUGH_MEMORY:
	case ERROR_OUTOFMEMORY:
	case ERROR_COMMITMENT_LIMIT:
	case ERROR_INVALID_PARAMETER:
		return -ENOMEM;
	case ERROR_ACCESS_DENIED:
		return -EACCES;
	default:
		/* Nothing else is expected for ranges os.h allows; whatever
		 * it is, the memory was not provided. */
		return -ENOMEM;
	}
}

/* ---------------------------------------------------------------------------
 * Constants
 * ------------------------------------------------------------------------- */

static size_t page_size;   /* dwPageSize: what commits are made of */
static size_t granularity; /* dwAllocationGranularity: reservation alignment */

static void read_system_info(void)
{
	SYSTEM_INFO si;

	GetSystemInfo(&si);
	/* Both are powers of two on every Windows; trust nothing else. */
	granularity = si.dwAllocationGranularity >= si.dwPageSize &&
				      (si.dwAllocationGranularity &
				       (si.dwAllocationGranularity - 1)) == 0 ?
			      si.dwAllocationGranularity :
			      65536;
	page_size = si.dwPageSize && (si.dwPageSize & (si.dwPageSize - 1)) == 0 ?
			    si.dwPageSize :
			    4096;
}

size_t mmvec__os_page_size(void)
{
	if (!page_size)
		read_system_info();
	return page_size;
}

/* The region layer never needs this: every size it reserves is a page
 * multiple, and alignments up to the granularity come free. */
static size_t reserve_granularity(void)
{
	if (!granularity)
		read_system_info();
	return granularity;
}

/* Windows has no transparent huge pages. Its large pages (MEM_LARGE_PAGES)
 * need SeLockMemoryPrivilege, which ordinary accounts do not hold (without
 * it VirtualAlloc fails with ERROR_PRIVILEGE_NOT_HELD), and must be reserved
 * and committed in one call, locked in RAM: they cannot back a reservation
 * that is committed piece by piece. So there is no huge page size, and
 * MMVEC_HUGEPAGES changes nothing, as on a kernel without huge pages. */
size_t mmvec__os_huge_page_size(void)
{
	return 0;
}

/* Cached, as every default reservation asks; 1: not read yet. */
size_t mmvec__os_physical_memory(void)
{
	static size_t cached = 1;
	size_t bytes = __atomic_load_n(&cached, __ATOMIC_RELAXED);
	MEMORYSTATUSEX ms;

	if (bytes != 1)
		return bytes;
	ms.dwLength = sizeof(ms);
	if (!GlobalMemoryStatusEx(&ms))
		bytes = 0;
	else if (ms.ullTotalPhys > SIZE_MAX)
		bytes = SIZE_MAX;
	else
		bytes = (size_t)ms.ullTotalPhys;
	__atomic_store_n(&cached, bytes, __ATOMIC_RELAXED);
	return bytes;
}

/* ---------------------------------------------------------------------------
 * Reserve and release
 * ------------------------------------------------------------------------- */

/* Tries at an aligned address before giving up on alignment: another thread
 * can take the range between the release and the new reservation. */
#define ALIGN_ATTEMPTS 8

static void *reserve_at(void *addr, size_t size)
{
	/* PAGE_NOACCESS and MEM_RESERVE: address space only, no commit
	 * charge, every access faults. */
	return VirtualAlloc(addr, size, MEM_RESERVE, PAGE_NOACCESS);
}

int mmvec__os_reserve(size_t size, size_t align, void **out)
{
	size_t gran = reserve_granularity();
	void *p;

	INJECT(MMVEC__OS_RESERVE, size);

	/* Every reservation starts on a granularity boundary. */
	if (align <= gran) {
		p = reserve_at(NULL, size);
		if (!p)
			return last_error();
		*out = p;
		return 0;
	}

	/* A reservation is released only as a whole (MEM_RELEASE takes the
	 * base the reservation was made at), so the POSIX way of trimming an
	 * oversized mapping does not exist here. Reserve with slack to find an
	 * aligned address, release, and reserve exactly there. */
	if (size > SIZE_MAX - (align - gran))
		return -ENOMEM;
	for (int i = 0; i < ALIGN_ATTEMPTS; i++) {
		char *slack = reserve_at(NULL, size + (align - gran));
		char *aligned;

		if (!slack)
			return last_error();
		/* pointer arithmetic: no int-to-pointer cast */
		aligned = slack + ((align - ((uintptr_t)slack & (align - 1))) &
				   (align - 1));
		VirtualFree(slack, 0, MEM_RELEASE);
		p = reserve_at(aligned, size);
		if (p) {
			*out = p;
			return 0;
		}
	}
	return -ENOMEM;
}

void mmvec__os_release(void *addr, size_t size)
{
	COUNT(MMVEC__OS_RELEASE, size);
	/* MEM_RELEASE takes size 0 and the base VirtualAlloc returned, and
	 * frees the committed pages with the reservation. */
	(void)size;
	VirtualFree(addr, 0, MEM_RELEASE);
}

/* ---------------------------------------------------------------------------
 * Commit and decommit
 * ------------------------------------------------------------------------- */

int mmvec__os_commit(void *addr, size_t size)
{
	INJECT(MMVEC__OS_COMMIT, size);

	/* The commit charge is taken here, all of it or none: a refusal
	 * (ERROR_COMMITMENT_LIMIT) leaves the range reserved only. */
	/* cppcheck-suppress leakReturnValNotUsed ; MEM_COMMIT returns addr,
	 * part of the reservation that mmvec__os_release() frees */
	if (!VirtualAlloc(addr, size, MEM_COMMIT, PAGE_READWRITE))
		return last_error();
	return 0;
}

int mmvec__os_decommit(void *addr, size_t size, size_t *kept)
{
	INJECT(MMVEC__OS_DECOMMIT, size);

	/* MEM_DECOMMIT drops the pages and their commit charge and leaves
	 * the range reserved and inaccessible; committed again, the pages
	 * read as zero. */
	if (!VirtualFree(addr, size, MEM_DECOMMIT))
		return last_error();
	/* the range never stops being reserved: nothing else can land in it */
	*kept = size;
	return 0;
}

void mmvec__os_advise_huge(void *addr, size_t size, bool huge)
{
	/* Never called while mmvec__os_huge_page_size() is 0; nothing to
	 * advise on Windows in any case. */
	COUNT(MMVEC__OS_ADVISE, size);
	(void)addr;
	(void)size;
	(void)huge;
}

int mmvec__os_populate(void *addr, size_t size)
{
	INJECT(MMVEC__OS_POPULATE, size);

	/* MEM_COMMIT already guaranteed the memory (the commit charge is a
	 * promise of RAM or page file), so nothing can fail here: what is
	 * left is taking the demand-zero faults now rather than on first use.
	 * PrefetchVirtualMemory is only a hint, which the system may ignore:
	 * store each page's first byte back into it instead. */
	volatile char *p = addr;
	size_t page = mmvec__os_page_size();
	for (size_t off = 0; off < size; off += page)
		/* cppcheck-suppress selfAssignment ; a volatile store, for
		 * the write fault */
		p[off] = p[off];
	return 0;
}

/* Windows has no cheap way to make committed pages read as zero while they
 * stay committed: MEM_RESET and DiscardVirtualMemory leave the contents
 * undefined, and a decommit followed by a commit could lose the commit
 * charge in between. The caller clears the range itself. */
int mmvec__os_zero(void *addr, size_t size)
{
	INJECT(MMVEC__OS_ZERO, size);
	(void)addr;
	(void)size;
	return -EOPNOTSUPP;
}

/* ---------------------------------------------------------------------------
 * Process state for the reservation cache
 * ------------------------------------------------------------------------- */

/* Windows has no RLIMIT_AS; what is left of the user address space is
 * ullAvailVirtual, which accounts for reservations as mappings do. */
int mmvec__os_address_space(bool measure, bool *limited, size_t *left)
{
	MEMORYSTATUSEX ms;

	*limited = false;
	if (!measure)
		return 0;
	ms.dwLength = sizeof(ms);
	if (!GlobalMemoryStatusEx(&ms))
		return -EOPNOTSUPP;
	*left = ms.ullAvailVirtual > SIZE_MAX ? SIZE_MAX :
						 (size_t)ms.ullAvailVirtual;
	return 0;
}

/* MEM_COMMIT is always charged against the commit limit (RAM plus page
 * files), and a commit past it fails: Windows never overcommits. */
bool mmvec__os_strict_commit(void)
{
	return true;
}

uint64_t mmvec__os_now_ms(void)
{
	return GetTickCount64();
}

static SRWLOCK lock = SRWLOCK_INIT;

void mmvec__os_lock(void)
{
	AcquireSRWLockExclusive(&lock);
}

void mmvec__os_unlock(void)
{
	ReleaseSRWLockExclusive(&lock);
}

void mmvec__os_yield(void)
{
	(void)SwitchToThread();
}

/* FlushProcessWriteBuffers() (Windows Vista on) makes every processor
 * that runs one of the process's threads flush its write queue: the
 * process-wide barrier that membarrier(2) is on Linux. */
bool mmvec__os_barrier_init(void)
{
	return true;
}

void mmvec__os_barrier(void)
{
	FlushProcessWriteBuffers();
}

/* No fork() on Windows: nothing to prepare for. */
int mmvec__os_atfork(void (*prepare)(void), void (*parent)(void),
		     void (*child)(void))
{
	(void)prepare;
	(void)parent;
	(void)child;
	return 0;
}

/* A fiber-local slot whose callback runs when a thread exits with a value
 * in it (and when a fiber is deleted), as a pthread key's destructor does;
 * made on first use. */
static INIT_ONCE exit_once = INIT_ONCE_STATIC_INIT;
static DWORD exit_slot = FLS_OUT_OF_INDEXES;
static void (*exit_fn)(void *);

static void WINAPI run_exit_fn(void *arg)
{
	if (arg)
		exit_fn(arg);
}

/* param: the exit function, the same for every call */
static BOOL CALLBACK make_exit_slot(INIT_ONCE *once, void *param, void **ctx)
{
	(void)once;
	(void)ctx;
	exit_fn = *(void (**)(void *))param;
	exit_slot = FlsAlloc(run_exit_fn);
	return TRUE;
}

int mmvec__os_at_thread_exit(void (*fn)(void *), void *arg)
{
	if (!InitOnceExecuteOnce(&exit_once, make_exit_slot, &fn, NULL) ||
	    exit_slot == FLS_OUT_OF_INDEXES)
		return -ENOMEM;
	return FlsSetValue(exit_slot, arg) ? 0 : -ENOMEM;
}

/* ---------------------------------------------------------------------------
 * File mappings: not on Windows
 *
 * File-backed vectors need a reservation that file views can be mapped into
 * piece by piece, which Windows offers only from Windows 10 1803 on
 * (VirtualAlloc2 with MEM_RESERVE_PLACEHOLDER, MapViewOfFile3), and a file
 * descriptor API. Until that port, mmvec_open() and mmvec_open_fd() fail
 * with -EOPNOTSUPP here and change nothing.
 * ------------------------------------------------------------------------- */

int mmvec__os_file_open(const char *path, bool writable, int *out)
{
	(void)path;
	(void)writable;
	*out = -1;
	return -EOPNOTSUPP;
}

int mmvec__os_file_create(const char *path, int *out, char **tmp_name)
{
	(void)path;
	*out = -1;
	*tmp_name = NULL;
	return -EOPNOTSUPP;
}

int mmvec__os_file_link(int fd, const char *tmp_name, const char *path)
{
	(void)fd;
	(void)tmp_name;
	(void)path;
	return -EOPNOTSUPP;
}

void mmvec__os_file_drop(const char *tmp_name)
{
	(void)tmp_name;
}

int mmvec__os_file_dup(int fd, bool writable, int *out)
{
	(void)fd;
	(void)writable;
	*out = -1;
	return -EOPNOTSUPP;
}

void mmvec__os_file_close(int fd)
{
	(void)fd;
}

int mmvec__os_file_lock(int fd)
{
	(void)fd;
	return -EOPNOTSUPP;
}

void mmvec__os_file_unlock(int fd)
{
	(void)fd;
}

int mmvec__os_file_size(int fd, uint64_t *size)
{
	(void)fd;
	*size = 0;
	return -EOPNOTSUPP;
}

int mmvec__os_file_read(int fd, void *buf, size_t size, uint64_t offset)
{
	(void)fd;
	(void)buf;
	(void)size;
	(void)offset;
	return -EOPNOTSUPP;
}

int mmvec__os_file_allocate(int fd, uint64_t from, uint64_t size)
{
	(void)fd;
	(void)from;
	(void)size;
	return -EOPNOTSUPP;
}

int mmvec__os_file_truncate(int fd, uint64_t size)
{
	(void)fd;
	(void)size;
	return -EOPNOTSUPP;
}

int mmvec__os_map_file(void *addr, size_t size, int fd, uint64_t offset,
		       bool writable)
{
	(void)addr;
	(void)size;
	(void)fd;
	(void)offset;
	(void)writable;
	return -EOPNOTSUPP;
}

int mmvec__os_map_file_any(size_t size, int fd, bool writable, void **out)
{
	(void)size;
	(void)fd;
	(void)writable;
	*out = NULL;
	return -EOPNOTSUPP;
}

int mmvec__os_populate_file(void *addr, size_t size)
{
	(void)addr;
	(void)size;
	return -EOPNOTSUPP;
}

int mmvec__os_sync(void *addr, size_t size)
{
	(void)addr;
	(void)size;
	return 0;
}

/* ---------------------------------------------------------------------------
 * fork(): Windows has none, so the count stays 0
 * ------------------------------------------------------------------------- */

const unsigned long *mmvec__os_fork_watch(void)
{
	static const unsigned long none;

	return &none;
}

/* ---------------------------------------------------------------------------
 * The pre-faulting thread
 * ------------------------------------------------------------------------- */

struct start {
	void (*fn)(void *);
	void *arg;
};

static DWORD WINAPI run(LPVOID p)
{
	struct start s = *(struct start *)p;

	HeapFree(GetProcessHeap(), 0, p);
	s.fn(s.arg);
	return 0;
}

/* Windows delivers no signals to threads; the name needs
 * SetThreadDescription (Windows 10 1607 on), looked up rather than linked,
 * and is left out. */
int mmvec__os_thread_start(void (*fn)(void *), void *arg, const char *name)
{
	struct start *s;
	HANDLE t;

	(void)name;
	INJECT(MMVEC__OS_THREAD, 0);
	s = HeapAlloc(GetProcessHeap(), 0, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->fn = fn;
	s->arg = arg;
	t = CreateThread(NULL, 0, run, s, 0, NULL);
	if (!t) {
		HeapFree(GetProcessHeap(), 0, s);
		return GetLastError() == ERROR_NOT_ENOUGH_MEMORY ? -ENOMEM
								  : -EAGAIN;
	}
	/* detached: the thread runs on without a handle */
	CloseHandle(t);
	return 0;
}

void mmvec__os_sleep_us(unsigned us)
{
	Sleep(us < 1000 ? 1 : us / 1000);
}

/* MEM_COMMIT guaranteed the memory: only the demand-zero faults are left,
 * taken here with an interlocked or of 0 per page, which a concurrent
 * store survives. */
int mmvec__os_prefault(void *addr, size_t size, bool touch)
{
	char *p = addr;
	size_t page = mmvec__os_page_size();

	INJECT(MMVEC__OS_PREFAULT, size);
	if (!touch)
		return -EOPNOTSUPP;
	for (size_t off = 0; off < size; off += page)
		(void)__atomic_fetch_or(p + off, (char)0, __ATOMIC_RELAXED);
	return 0;
}
