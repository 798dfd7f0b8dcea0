/*
 * SPDX-License-Identifier: MIT
 *
 * The file layer's contract: file-backed vectors. file.c opens, checks and
 * initialises vector files, maps their header and keeps the two lengths in
 * it; the vector layer (vec.c) calls it only where a vector has a file:
 * to build the vector over an opened file, to publish each new length, to
 * follow the writer's length in a reader, to sync, and to close.
 * doc/file-format.md describes the file.
 */
#ifndef MMVEC_FILE_H
#define MMVEC_FILE_H

#include "config.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

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
	size_t len;             /* the length at open: synced (writer) or
				 * live (reader) */
	uint64_t data_bytes;    /* bytes after the header at open: all that
				 * may hold old data */
	/* Readers: bytes of elements mapped and backed by the file (atomic),
	 * and whether a thread is mapping more (atomic flag). */
	size_t mapped;
	bool busy;
};

/* Checks a header read from a file of file_size bytes, for a vector of
 * elem_size-byte elements and the max_len asked for (0: the recorded one).
 * Returns 0, -EBADMSG (not a vector file of this format, or damaged: too
 * short for its lengths, lengths past the recorded max_len), -EINVAL
 * (elem_size or a non-zero max_len other than the recorded ones) or
 * -EOVERFLOW (the recorded max_len or a length does not fit in size_t
 * bytes), in that order. Pure: the fuzz target calls it directly. */
int mmvec__file_check(const struct mmvec_file_header *h, uint64_t file_size,
		      size_t elem_size, size_t max_len);

/* Implemented in vec.c: the vector over an opened, checked file (f->len
 * elements of elem_size bytes, at most max_len, 0: the default
 * reservation). On success the vector owns f; on failure f is untouched. */
int mmvec__vec_new_file(struct mmvec_file *f, size_t elem_size,
			size_t max_len, unsigned flags, struct mmvec **out);

/* A writer's new length, for readers: the live length with release
 * ordering. A length below the synced one lowers that too, so that after a
 * crash removed elements never come back. */
static inline void mmvec__file_publish(struct mmvec_file *f, size_t len)
{
	struct mmvec_file_header *h = f->head;

	__atomic_store_n(&h->live_len, (uint64_t)len, __ATOMIC_RELEASE);
	if ((uint64_t)len < __atomic_load_n(&h->synced_len, __ATOMIC_RELAXED))
		__atomic_store_n(&h->synced_len, (uint64_t)len,
				 __ATOMIC_RELAXED);
}

/* A reader's length: the writer's live length (acquire), capped at
 * max_len and at what could be mapped. Maps more of the file into r when
 * the live length passed what is mapped; one thread at a time does that,
 * others meanwhile get the length already mapped, so that what a thread
 * gets never goes down while the writer only grows. */
size_t mmvec__file_follow(struct mmvec_file *f, struct mmvec_region *r,
			  size_t elem_size, size_t max_len);

/* A writer's mmvec_sync(): the len elements' `bytes` bytes from data are
 * written and on disk, then the synced length, then the header. */
int mmvec__file_sync(struct mmvec_file *f, void *data, size_t bytes,
		     size_t len);

/* mmvec_free() of a file-backed vector: a writer syncs (errors are lost:
 * mmvec_sync() first reports them), then r is released, a writer's file
 * shortened to the header and `bytes` rounded up to pages, and f closed and
 * freed. */
void mmvec__file_close(struct mmvec_file *f, struct mmvec_region *r,
		       void *data, size_t bytes, size_t len);

#endif /* MMVEC_FILE_H */
