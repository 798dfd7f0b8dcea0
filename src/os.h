/*
 * SPDX-License-Identifier: MIT
 *
 * The OS layer: the only code that calls mmap, munmap, mprotect, madvise and
 * sysconf (VirtualAlloc and VirtualFree on Windows), and the file calls of
 * file-backed vectors (open, flock, posix_fallocate, msync, ...). It has no
 * policy (no sizes, no growth rules, no element knowledge). Each system
 * family implements it: os-posix.c (with os-posix-process.c, the
 * process-wide part), os-win32.c.
 *
 * Rules every function here obeys:
 * - addresses are page aligned and sizes are non-zero multiples of the page
 *   size (mmvec__os_page_size()); callers guarantee it, nothing re-checks;
 * - a fallible function returns 0 on success or a negative errno, and on
 *   failure the range is as it was before the call;
 * - nothing prints, aborts or keeps state beyond cached constants.
 */
#ifndef MMVEC_OS_H
#define MMVEC_OS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The page size, a power of two. Cached after the first call (any thread
 * may make it). */
size_t mmvec__os_page_size(void);

/* The transparent-huge-page size (the PMD size, 2 MiB on x86-64), or 0 if
 * the kernel has no transparent huge pages. Cached after the first call. */
size_t mmvec__os_huge_page_size(void);

/* Physical memory in bytes, or 0 if unknown. Cached after the first
 * call. */
size_t mmvec__os_physical_memory(void);

/* Reserve `size` bytes of address space, inaccessible (PROT_NONE) and not
 * charged against the commit limit, starting at a multiple of `align`.
 * `align` is a power of two, at least the page size. Reservations may take
 * address space in coarser units than pages (64 KiB on Windows, whose
 * reservations all start on such a boundary); that is the OS layer's
 * business, callers still deal in pages.
 * Returns -ENOMEM (or the OS's errno) when the address space is refused. */
int mmvec__os_reserve(size_t size, size_t align, void **out);

/* Unmap `[addr, addr + size)`, committed or not. Cannot fail for a range
 * that mmvec__os_reserve() returned. */
void mmvec__os_release(void *addr, size_t size);

/* Make `[addr, addr + size)` of a reservation readable and writable. This is
 * where the kernel charges commit, so under strict overcommit a refusal is
 * -ENOMEM here rather than a fault later. */
int mmvec__os_commit(void *addr, size_t size);

/* Make `[addr, addr + size)` inaccessible again, dropping its pages and
 * their commit charge: they read as zero when committed again. On success
 * *kept is the part of the range, from addr, that is still the caller's:
 * normally all of it (size). A kernel that unmaps the range and then fails
 * to remap it (Linux before 6.12) leaves a hole, which is filled again
 * here; but if another thread's mapping landed in the hole first, the range
 * from the lowest page of that mapping on is no longer the caller's:
 * *kept ends below it, nothing at or above addr + *kept is touched again,
 * and the caller must treat that part (and what it held above the range)
 * as lost. On failure the range is as it was and *kept is not set. */
int mmvec__os_decommit(void *addr, size_t size, size_t *kept);

/* Advice on transparent huge pages for a range: `huge` true asks for them
 * (MADV_HUGEPAGE), false forbids them (MADV_NOHUGEPAGE). Advisory: failures,
 * and kernels without the advice, are ignored. */
void mmvec__os_advise_huge(void *addr, size_t size, bool huge);

/* Fault in every page of the committed range `[addr, addr + size)` for
 * writing, without changing its contents. Returns -ENOMEM if the kernel
 * could not provide the memory. */
int mmvec__os_populate(void *addr, size_t size);

/* Make the committed range `[addr, addr + size)` read as zero, cheaply:
 * pages that are not resident are dropped without being touched (so memory
 * that was committed but never used is not faulted in), resident ones are
 * cleared in place (so they stay resident for the stores that follow).
 * Returns -EOPNOTSUPP where the OS cannot drop pages with that guarantee,
 * and the caller clears the range itself. On failure part of the range may
 * already read as zero; nothing else changes. */
int mmvec__os_zero(void *addr, size_t size);

/* ---------------------------------------------------------------------------
 * Process state for the region layer's reservation cache
 * ------------------------------------------------------------------------- */

/* How much more address space the process can map, found by arithmetic,
 * never by mapping anything (so that no other thread can see an allocation
 * fail for it): *limited says whether a limit on the process's address
 * space (RLIMIT_AS) is set, one system call. With `measure`, also
 * *left: the smaller of that limit and the top of the address space (the
 * start of the main thread's stack, below which the kernel places
 * mappings), less what the process has mapped (its VmSize). Returns 0, or
 * -EOPNOTSUPP when `measure` is asked where the OS does not report what is
 * mapped (*limited is still set). */
int mmvec__os_address_space(bool measure, bool *limited, size_t *left);

/* True if the OS charges every writable private page against a commit
 * limit and refuses what passes it (Linux's vm.overcommit_memory=2, read
 * from /proc on each call; Windows always). Committed memory that is kept
 * for later then takes room that other allocations may need. */
bool mmvec__os_strict_commit(void);

/* A monotonic clock in milliseconds, cheap enough to read on every free
 * (a coarse clock, without a system call where the OS offers one). */
uint64_t mmvec__os_now_ms(void);

/* The process-wide lock of the region layer's shared state. Not
 * recursive; a thread that holds it makes no blocking call but the OS
 * calls of this file. */
void mmvec__os_lock(void);
void mmvec__os_unlock(void);

/* Give the CPU to another thread (a spinning waiter's back-off). */
void mmvec__os_yield(void);

/* A memory barrier on every thread of the process at once (Linux's
 * membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED), Windows'
 * FlushProcessWriteBuffers()): when it returns, every other thread has
 * passed a full barrier, so a thread's fast path can order a store before
 * a load with a compiler barrier alone, against a rare side that calls
 * this (the asymmetric Dekker of membarrier(2)'s example).
 * mmvec__os_barrier_init() readies it once and says whether the OS has it;
 * where it does not, mmvec__os_barrier() must not be relied on. */
bool mmvec__os_barrier_init(void);
void mmvec__os_barrier(void);

/* Register handlers around fork() (pthread_atfork): prepare() runs in the
 * forking thread before the fork, parent() after it in the parent, child()
 * in the child, which has that thread alone. 0, or a negative errno. A
 * system without fork() registers nothing and returns 0. Call it once. */
int mmvec__os_atfork(void (*prepare)(void), void (*parent)(void),
		     void (*child)(void));

/* Arrange for fn(arg) to be called when the calling thread exits (not for
 * the thread that ends the process with exit()). `fn` is the same function
 * for every call in the process; a thread's later call replaces its arg,
 * and arg NULL cancels it. 0, or -ENOMEM when the OS cannot record it. */
int mmvec__os_at_thread_exit(void (*fn)(void *), void *arg);

/* ---------------------------------------------------------------------------
 * The pre-faulting thread (pretouch.c): os-posix-thread.c, os-win32.c
 * ------------------------------------------------------------------------- */

/* Start a detached thread that runs fn(arg), with every signal blocked
 * (so that the program's handlers never run on it) and named `name` where
 * the OS keeps thread names (at most 15 characters). 0, or -EAGAIN (the OS
 * refused another thread) or -ENOMEM; then no thread runs. */
int mmvec__os_thread_start(void (*fn)(void *), void *arg, const char *name);

/* Sleep about `us` microseconds (at least the OS's timer resolution). */
void mmvec__os_sleep_us(unsigned us);

/* Fault in every page of the committed anonymous range `[addr, addr +
 * size)` for writing, while another thread may store into it: the kernel
 * does it (MADV_POPULATE_WRITE), or, with `touch` and no such call, each
 * page gets an atomic or of 0 into its first byte, which cannot undo a
 * concurrent store as a load and a plain store could. Without `touch`
 * (memory that checkers watch) and without the call, nothing is done and
 * -EOPNOTSUPP returned. -ENOMEM if the kernel could not provide the
 * memory; part of the range may be faulted in then, nothing else
 * changes. */
int mmvec__os_prefault(void *addr, size_t size, bool touch);

#ifdef MMVEC_FAULT_INJECTION
/*
 * Test-only hook, compiled into the uninstalled test library alone.
 * Before each fallible call, the OS layer counts it and asks the hook (when
 * set); a non-zero return (a negative errno) makes the call fail with that
 * value without calling the OS.
 */
enum mmvec__os_op {
	MMVEC__OS_RESERVE,
	MMVEC__OS_COMMIT,
	MMVEC__OS_DECOMMIT,
	MMVEC__OS_POPULATE,
	MMVEC__OS_ADVISE,
	MMVEC__OS_RELEASE,
	MMVEC__OS_ZERO,
	/* not a call of its own: a decommit that unmaps the range and then
	 * fails, as Linux before 6.12 could */
	MMVEC__OS_DECOMMIT_HOLE,
	/* file mappings: msync, and populating a file mapping */
	MMVEC__OS_FILE_SYNC,
	MMVEC__OS_FILE_POPULATE,
	/* not a call either: the moment such a hole is open, before it is
	 * repaired, for a test to map something into it (the hook's return
	 * value is ignored) */
	MMVEC__OS_HOLE_OPEN,
	/* starting the pre-faulting thread, and its pre-faults */
	MMVEC__OS_THREAD,
	MMVEC__OS_PREFAULT,
	MMVEC__OS_NOPS,
};

extern int (*mmvec__os_fault_hook)(enum mmvec__os_op op, size_t size);
/* Calls made so far, per operation (including failed ones). */
extern unsigned long mmvec__os_calls[MMVEC__OS_NOPS];
#endif


/* ---------------------------------------------------------------------------
 * File mappings
 *
 * Files are named by descriptor and measured in bytes from their start as
 * uint64_t, whatever size_t is, so that 32- and 64-bit processes share
 * files. Descriptors are opened close-on-exec. Where the OS has no file
 * mappings (Windows, for now) every fallible call here is -EOPNOTSUPP.
 * ------------------------------------------------------------------------- */

/* Open the existing file `path` for reading, or for reading and writing
 * when `writable`. Opening never blocks (a FIFO with no writer would), and
 * the descriptor must be a regular file (a memfd is one): else -EINVAL,
 * and nothing stays open. Other failures are open(2)'s errno: -ENOENT for
 * a missing file or a dangling symbolic link. */
int mmvec__os_file_open(const char *path, bool writable, int *out);

/* A new file, not yet visible under any name, made in the directory
 * `path` names its file in (mode 0666 less the umask), for
 * mmvec__os_file_link() to give the name `path` once it is complete.
 * Linux: an O_TMPFILE file (where /proc is mounted, which naming it
 * needs). Elsewhere, and on file systems without
 * O_TMPFILE: a unique name `path` + ".mmvec-XXXXXX" made with O_EXCL,
 * which is all a crash between the two calls can leave behind.
 * *tmp_name is that name (malloc'd) or NULL for an unnamed file.
 * -EISDIR if `path` ends in '/', else open(2)'s errno. */
int mmvec__os_file_create(const char *path, int *out, char **tmp_name);

/* Give the file that mmvec__os_file_create() made the name `path`, never
 * replacing anything: -EEXIST if the name exists, even as a dangling
 * symbolic link (link(2) does not follow it). Then the directory is synced,
 * so that the name survives a crash of the machine. The temporary name, if
 * any, is removed either way. */
int mmvec__os_file_link(int fd, const char *tmp_name, const char *path);

/* Remove the temporary name of a file that mmvec__os_file_create() made
 * and that is not used (NULL: nothing to do). Nothing else is ever
 * unlinked. */
void mmvec__os_file_drop(const char *tmp_name);

/* A close-on-exec duplicate of `fd`, which must be a regular file opened for
 * reading (and for writing when `writable`): -EBADF for a closed descriptor
 * or one without the access, -EINVAL for anything but a regular file. */
int mmvec__os_file_dup(int fd, bool writable, int *out);

/* Close a descriptor that the functions above returned. */
void mmvec__os_file_close(int fd);

/* Take the one writer's lock on the file (flock(LOCK_EX), not waiting):
 * -EBUSY if another open file description holds it. The lock belongs to the
 * open file description, so duplicates of one descriptor share it, and so
 * do a parent and a child after fork(); it ends with mmvec__os_file_unlock()
 * or when the last descriptor of the description is closed. */
int mmvec__os_file_lock(int fd);
void mmvec__os_file_unlock(int fd);

/* The file's size in bytes. */
int mmvec__os_file_size(int fd, uint64_t *size);

/* Read exactly `size` bytes at `offset` (pread, retried on short reads).
 * A read past the end of the file is -EBADMSG. */
int mmvec__os_file_read(int fd, void *buf, size_t size, uint64_t offset);

/* Make the file at least `size` bytes long with disk blocks allocated for
 * [from, size), so that stores into a mapping of that range cannot fail for
 * want of space later (no SIGBUS). -ENOSPC when the file system is full;
 * -EFBIG past RLIMIT_FSIZE or the file system's largest file. RLIMIT_FSIZE
 * is checked first: growing past it would also send SIGXFSZ, whose default
 * action ends the process. A file system that cannot allocate ahead gets
 * the size alone; mmvec__os_populate_file() then finds a full disk. On
 * failure the size is what it was (blocks allocated in between may stay
 * allocated). */
int mmvec__os_file_allocate(int fd, uint64_t from, uint64_t size);

/* Set the file's size (ftruncate). */
int mmvec__os_file_truncate(int fd, uint64_t size);

/* Map `size` bytes of the file from `offset` (page aligned) shared, over
 * `[addr, addr + size)` of a reservation: readable, and writable when
 * `writable`. The file must be at least `offset + size` bytes long where the
 * range is touched. On failure the range is PROT_NONE again. */
int mmvec__os_map_file(void *addr, size_t size, int fd, uint64_t offset,
		       bool writable);

/* Map `size` bytes of the file from offset 0, shared, anywhere; unmap with
 * mmvec__os_release(). */
int mmvec__os_map_file_any(size_t size, int fd, bool writable, void **out);

/* Fault in every page of the writable shared file mapping
 * `[addr, addr + size)` for writing (MADV_POPULATE_WRITE), so that stores
 * into it take no page fault, and so that the file system reserves or
 * allocates the pages' blocks now: a full disk is -ENOSPC here, where a
 * store would raise SIGBUS. -EOPNOTSUPP where the kernel cannot do this
 * without touching the pages (before Linux 5.14, other systems): touching
 * would raise that SIGBUS, so nothing is done. */
int mmvec__os_populate_file(void *addr, size_t size);

/* Write the dirty pages of the shared file mapping `[addr, addr + size)` to
 * the disk and wait for it (msync(MS_SYNC)), including the file size the
 * data needs. `size` need not be a page multiple (the pages it reaches are
 * written). -EIO (or another errno) when the write failed. */
int mmvec__os_sync(void *addr, size_t size);

/* ---------------------------------------------------------------------------
 * fork()
 *
 * A process-wide count of the fork() calls this process came out of as the
 * child: 0 in a process that no fork() made, and one more in each child
 * (a pthread_atfork() child handler, registered by the first call of
 * mmvec__os_fork_watch()). What a handle records at creation and compares
 * later tells whether the calling process is the one that made it, without
 * a system call (glibc does not cache getpid()). A child made by vfork() or
 * a raw clone() runs no fork handlers and is not counted. Windows has no
 * fork(): the count stays 0.
 * ------------------------------------------------------------------------- */

/* Register the handler (once per process, thread-safe) and return where
 * the count lives, for callers to read with a relaxed atomic load (no
 * system call): the same address for the life of the process. Call it
 * before recording the count. */
const unsigned long *mmvec__os_fork_watch(void);

#endif /* MMVEC_OS_H */
