/*
 * SPDX-License-Identifier: MIT
 *
 * The file layer's contract: vector files. file.c opens, creates, checks
 * and initialises them, maps their header and keeps the two lengths in it,
 * makes lengths durable in the order a crash needs, follows a writer's
 * length for readers, and closes. It knows nothing of struct mmvec: the
 * vector layer (vec-file.c) asks it for an opened, checked file and builds
 * the vector over it, with the elements mapped by the region layer (a
 * region backed by the file from MMVEC__FILE_HEADER on).
 * doc/file-format.md describes the file.
 *
 * The ordering rules every function here keeps (doc/design.md says why):
 * - the elements below a synced length are on disk before the header that
 *   says it is (mmvec__file_sync());
 * - a synced length on disk never covers elements that were removed: the
 *   header goes to disk with the lower length before the length drops
 *   below what the disk may hold (mmvec__file_lower());
 * - the header goes to disk before the file is shortened, so that no
 *   length on disk ever points past the end of the file
 *   (mmvec__file_shrink(), mmvec__file_close());
 * - a writer never shortens the file below the size it found at open,
 *   except when asked to (mmvec__file_shrink()), since readers may map
 *   all of it;
 * - a process that inherited a writer through fork() changes nothing of
 *   the file: not its lengths, size or lock.
 */
#ifndef MMVEC_FILE_H
#define MMVEC_FILE_H

#include "config.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "os.h"
#include "region.h"

/* Bytes before the first element, whatever the page size: a file maps on
 * machines with 4, 16 and 64 KiB pages. */
#define MMVEC__FILE_HEADER ((uint64_t)64 << 10)

/* The flags only mmvec_open() and mmvec_open_fd() take. */
#define MMVEC__FILE_FLAGS (MMVEC_CREATE | MMVEC_RDONLY)

/* The start of the header, in the byte order of the machine that created the
 * file (byte_order tells). The rest of the 64 KiB is zero. */
struct mmvec_file_header {
	unsigned char magic[8];  /* MMVEC__FILE_MAGIC */
	uint32_t version;        /* MMVEC__FILE_VERSION */
	uint32_t byte_order;     /* MMVEC__FILE_BYTE_ORDER as written */
	uint64_t header_size;    /* MMVEC__FILE_HEADER */
	uint64_t elem_size;      /* > 0 */
	uint64_t max_len;        /* chosen at creation; 0: the default */
	uint64_t live_len;       /* every published length (release stores) */
	uint64_t synced_len;     /* elements below it are on disk */
	uint64_t features;       /* 0: no optional feature in this version */
};

#define MMVEC__FILE_MAGIC "\x89MMVEC\r\n"
#define MMVEC__FILE_VERSION 1u
#define MMVEC__FILE_BYTE_ORDER 0x01020304u

/* An open vector file. */
struct mmvec_file {
	int fd;                 /* owned: closed by mmvec__file_close() */
	bool rdonly;            /* a reader */
	struct mmvec_file_header *head; /* the header's first page, shared */
	size_t head_bytes;      /* mapped size of head */
	size_t elem_size;
	size_t max_len;         /* the file's; 0: the default reservation */
	size_t len;             /* the length at open: synced (writer) or
				 * live (reader) */
	uint64_t data_bytes;    /* bytes after the header at open: all that
				 * may hold old data */
	/* A writer's: the file's size at open (never shortened below it
	 * unasked), the highest synced length the disk may hold, the fork
	 * count at open, and the bytes of elements populated so far. */
	uint64_t size_at_open;
	uint64_t durable;
	const unsigned long *fork_count; /* mmvec__os_fork_watch() */
	unsigned long forks;
	size_t populated;
	/* Bytes of the mapping given the huge-page advice (writers and
	 * readers; readers change it under `busy`). */
	size_t advised;
	/* A new file, not yet under its name: mmvec__file_name() links it.
	 * tmp_name is its temporary name, if it has one. */
	bool unnamed;
	char *tmp_name;
	/* An existing empty file this call initialised: made empty again if
	 * the open fails after all. */
	bool initialised;
	/* Readers: bytes of elements mapped and backed by the file, the
	 * largest length handed out, and whether a thread is mapping more
	 * (all atomic). */
	size_t mapped;
	size_t seen;
	bool busy;
};

/* Checks a header read from a file of file_size bytes, for a vector of
 * elem_size-byte elements and the max_len asked for (0: the recorded one).
 * A writer's check leaves out the live length past the end of the file
 * (the writer starts from the synced length and overwrites it).
 * Returns 0, -EBADMSG (not a vector file of this format, or damaged: too
 * short for its lengths, lengths past the recorded max_len), -EINVAL
 * (elem_size or a non-zero max_len other than the recorded ones) or
 * -EOVERFLOW (the recorded max_len or a length does not fit in size_t
 * bytes), in that order. Pure: the fuzz target calls it directly. */
int mmvec__file_check(const struct mmvec_file_header *h, uint64_t file_size,
		      size_t elem_size, size_t max_len, bool writer);

/* Open the vector file `path` (or, with path NULL, the descriptor fd,
 * which is duplicated) for a vector of elem_size-byte elements, checked
 * against max_len (0: the file's) and flags (MMVEC_CREATE, MMVEC_RDONLY;
 * the arguments are checked already). A writer holds the lock. With
 * MMVEC_CREATE a missing file is made complete under a temporary name or
 * none (f->unnamed: mmvec__file_name() gives it its name), and an empty
 * file, or one whose initialisation by this library was cut short, is
 * initialised. -ENOENT, -EISDIR, -EACCES ... from open(2), -EINVAL not a
 * regular file or the check's, -EBUSY another writer, -EBADMSG, -EOVERFLOW,
 * -ENOSPC/-EFBIG/-EIO making a header, -ENOMEM. Nothing changes on
 * failure. */
int mmvec__file_open(const char *path, int fd, size_t elem_size,
		     size_t max_len, unsigned flags, struct mmvec_file **out);

/* Give a new file its name `path`: 0, or -EEXIST if another process
 * gave the name to its own file meanwhile (or it is a dangling symbolic
 * link). Either way f stays open, and is no longer unnamed. */
int mmvec__file_name(struct mmvec_file *f, const char *path);

/* Close an opened file that no vector was built over: a writer unlocks
 * it, an empty file this open initialised is made empty again, a new
 * file that never got its name disappears. */
void mmvec__file_discard(struct mmvec_file *f);

/* Whether the calling process is a child that inherited f through fork()
 * (then a writer's calls are -ECHILD): one load and a comparison. */
static inline bool mmvec__file_forked(const struct mmvec_file *f)
{
	return MMVEC_UNLIKELY(__atomic_load_n(f->fork_count, __ATOMIC_RELAXED) !=
			      f->forks);
}

/* A writer's new, higher length, for readers: the live length with
 * release ordering. */
static inline void mmvec__file_publish(struct mmvec_file *f, size_t len)
{
	__atomic_store_n(&f->head->live_len, (uint64_t)len, __ATOMIC_RELEASE);
}

/* Before a writer's length drops to len: if the disk may hold a higher
 * synced length, the header goes to disk with len as the synced length
 * first, so that after a crash removed elements never come back. 0, or
 * the error of the write (-EIO, ...), and then nothing has changed. */
int mmvec__file_lower(struct mmvec_file *f, size_t len);

/* Pre-fault a writer's mapping r up to at least `need` bytes of elements
 * (mmvec__os_populate_file()), one step ahead, never past r->committed;
 * f->populated says how far it got. Newly mapped parts get the huge-page
 * advice first, unless r has no huge pages. -ENOSPC (a file system that
 * could not allocate ahead is full), -EIO, -ENOMEM. */
int mmvec__file_populate(struct mmvec_file *f, struct mmvec_region *r,
			 size_t need);

/* After r's writer gave back memory (mmvec_shrink_to_fit()): what was
 * populated and advised ends where the mapping now does. */
void mmvec__file_shrunk(struct mmvec_file *f, const struct mmvec_region *r);

/* A reader's length: the writer's live length (acquire), capped at
 * max_len and at what the file holds. Maps more of the file into r when
 * the live length passed what is mapped; one thread at a time does that,
 * others meanwhile get the length already mapped, so that what a thread
 * gets never goes down while the writer only grows. Reads the header
 * only after fstat() said the file still has it, so that a file
 * truncated by another process gives a length of what is left, not a
 * SIGBUS. */
size_t mmvec__file_follow(struct mmvec_file *f, struct mmvec_region *r);

/* The largest length a reader has been given: elements below it are
 * mapped, and need no new look at the header. */
static inline size_t mmvec__file_seen(const struct mmvec_file *f)
{
	return __atomic_load_n(&f->seen, __ATOMIC_RELAXED);
}

/* A writer's mmvec_sync(): the len elements' `bytes` bytes from data are
 * written and on disk, then the synced length, then the header. */
int mmvec__file_sync(struct mmvec_file *f, void *data, size_t bytes,
		     size_t len);

/* mmvec_shrink_to_fit() of a writer: the file is shortened to the header
 * and `keep` bytes of elements (a page multiple) if it is longer, also
 * past what the writer mapped, after the header (whose lengths are at
 * most what stays) went to disk. 0 or the error, and then the file is as
 * it was. The size it had at open no longer holds the file up at close. */
int mmvec__file_shrink(struct mmvec_file *f, size_t keep);

/* mmvec_free() of a file-backed vector. A writer syncs (errors are lost:
 * mmvec_sync() first reports them) and, if that worked, shortens the file
 * to the header and `bytes` rounded up to pages, but never below the size
 * it had at open; then r is released, the lock dropped, and f closed and
 * freed. A child that inherited a writer through fork() only releases
 * its own memory and descriptor. */
void mmvec__file_close(struct mmvec_file *f, struct mmvec_region *r,
		       void *data, size_t bytes, size_t len);

#endif /* MMVEC_FILE_H */
