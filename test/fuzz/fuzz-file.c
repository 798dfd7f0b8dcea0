/*
 * SPDX-License-Identifier: MIT
 *
 * Fuzz target: the header of a vector file. The input describes a file and
 * how to open it; the file is written to a memfd and opened with
 * mmvec_open_fd(). Whatever the bytes, opening must not fault, must fail
 * with the error mmvec__file_check() gives for the header (or a resource
 * error), must leave a reader's file and a refused file unchanged, and an
 * opened vector must hold readable elements up to its length.
 *
 * Input:
 *   byte 0   bit 0 reader (MMVEC_RDONLY), bit 1 MMVEC_CREATE (writers only),
 *            bit 2 ask for the header's max_len (else 0), bit 3 take the
 *            element size from the header (else byte 1 + 1),
 *            bit 4 MMVEC_POPULATE
 *   byte 1   the element size less one, unless bit 3
 *   2..65    the header's first 64 bytes (doc/file-format.md); an input
 *            that ends earlier is the whole file, shorter than a header
 *   66..69   bytes of elements after the 64 KiB header, little-endian,
 *            at most 1 MiB
 */
#include "helpers.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "file.h"
#include "fuzz.h"

#define MAX_DATA ((size_t)1 << 20)

/* Report a finding and crash, so that libFuzzer saves the input. */
__attribute__((noreturn)) static void die(const char *msg, int rc)
{
	fprintf(stderr, "fuzz-file: %s (%d)\n", msg, rc);
	fflush(stderr);
	abort();
}

static unsigned char *file_bytes(int fd, size_t *size)
{
	off_t end = lseek(fd, 0, SEEK_END);
	unsigned char *buf;

	if (end < 0)
		die("lseek", -errno);
	*size = (size_t)end;
	buf = malloc(*size + 1);
	if (!buf || pread(fd, buf, *size, 0) != (ssize_t)*size)
		die("read back", -errno);
	return buf;
}

static void check_unchanged(int fd, const unsigned char *was, size_t size)
{
	size_t now_size;
	unsigned char *now = file_bytes(fd, &now_size);

	if (now_size != size || memcmp(now, was, size) != 0)
		die("the file changed", 0);
	free(now);
}

/* Every byte of every element below the length is readable. */
static unsigned sum_elements(const struct mmvec *v)
{
	size_t len = mmvec_len(v), es = mmvec_elem_size(v);
	unsigned sum = 0;

	if (len > mmvec_max_len(v))
		die("length past max_len", 0);
	for (size_t i = 0; i < len; i++) {
		const unsigned char *p = mmvec_at(v, i);

		if (!p)
			die("element missing", -errno);
		for (size_t b = 0; b < es; b += 61)
			sum += p[b];
		sum += p[es - 1];
	}
	return sum;
}

/* What an initialisation cut short leaves (file.c's cut_short()): exactly
 * a header's size, no magic, the rest of the first 64 bytes as an empty
 * vector file's. Nothing else may be initialised over. */
static bool cut_short(const unsigned char *file, size_t size)
{
	struct mmvec_file_header h;

	if (size != MMVEC__FILE_HEADER)
		return false;
	memcpy(&h, file, sizeof(h));
	for (size_t b = 0; b < sizeof(h.magic); b++)
		if (h.magic[b])
			return false;
	return h.version == MMVEC__FILE_VERSION &&
	       h.byte_order == MMVEC__FILE_BYTE_ORDER &&
	       h.header_size == MMVEC__FILE_HEADER && h.live_len == 0 &&
	       h.synced_len == 0 && h.features == 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mmvec_file_header h;
	unsigned char *was, *file;
	size_t file_size, data_bytes = 0, elem_size, max_len, was_size;
	unsigned flags = 0;
	struct mmvec *v = NULL;
	int fd, rc, expect;
	uint8_t mode;

	if (size < 2)
		return 0;
	mode = data[0];
	if (size >= 70) {
		data_bytes = (size_t)data[66] | (size_t)data[67] << 8 |
			     (size_t)data[68] << 16 | (size_t)data[69] << 24;
		if (data_bytes > MAX_DATA)
			data_bytes = MAX_DATA;
	}

	/* the file */
	if (size >= 66) {
		file_size = (size_t)MMVEC__FILE_HEADER + data_bytes;
		file = calloc(1, file_size);
		if (!file)
			die("calloc", -ENOMEM);
		memcpy(file, data + 2, 64);
		for (size_t b = 0; b < data_bytes; b++)
			file[MMVEC__FILE_HEADER + b] = (unsigned char)(b * 7 + 1);
	} else {
		file_size = size - 2;
		file = malloc(file_size + 1);
		if (!file)
			die("malloc", -ENOMEM);
		memcpy(file, data + 2, file_size);
	}
	memset(&h, 0, sizeof(h));
	memcpy(&h, file, file_size < sizeof(h) ? file_size : sizeof(h));

	fd = memfd_create("fuzz-file", MFD_CLOEXEC);
	if (fd < 0)
		die("memfd_create", -errno);
	if (file_size && pwrite(fd, file, file_size, 0) != (ssize_t)file_size)
		die("pwrite", -errno);
	free(file);
	was = file_bytes(fd, &was_size);

	/* how to open it */
	elem_size = (mode & 8) ? (size_t)h.elem_size : (size_t)data[1] + 1;
	if ((mode & 8) && (h.elem_size == 0 || h.elem_size > 4096))
		elem_size = (size_t)data[1] + 1;
	max_len = (mode & 4) ? (size_t)h.max_len : 0;
	if ((mode & 4) && h.max_len > SIZE_MAX)
		max_len = 0;
	if (mode & 1)
		flags |= MMVEC_RDONLY;
	else if (mode & 2)
		flags |= MMVEC_CREATE;
	if (mode & 16)
		flags |= MMVEC_POPULATE;

	/* what the header says: with MMVEC_CREATE an empty file, or what an
	 * initialisation cut short leaves, is initialised instead */
	expect = mmvec__file_check(&h, file_size, elem_size, max_len,
				   !(flags & MMVEC_RDONLY));
	if (file_size < sizeof(h) && expect == 0)
		die("a short file passed the check", 0);
	/* the arguments are checked before the file */
	if (max_len > SIZE_MAX / elem_size ||
	    elem_size * max_len > SIZE_MAX - (mmvec_page_size() - 1))
		expect = -EOVERFLOW;

	rc = mmvec_open_fd(fd, elem_size, max_len, flags, &v);
	if (rc != 0 && rc != -EBADMSG && rc != -EINVAL && rc != -EOVERFLOW &&
	    rc != -ENOMEM)
		die("unexpected error", rc);
	if (rc == 0 && !v)
		die("no vector", rc);

	bool initialised = (flags & MMVEC_CREATE) &&
			   (was_size == 0 || cut_short(was, was_size));
	if (!initialised && rc != -ENOMEM && rc != expect)
		die("open and the header check disagree", rc);
	if (rc != 0 || (flags & MMVEC_RDONLY)) {
		/* a failed open, and a reader, change nothing (a failed
		 * initialisation leaves the file empty) */
		if (!(rc != 0 && initialised))
			check_unchanged(fd, was, was_size);
	}

	if (rc == 0) {
		unsigned sum = sum_elements(v);
		size_t len = mmvec_len(v);

		if (!(flags & MMVEC_RDONLY)) {
			/* a writer grows the file, a reader sees it */
			struct mmvec *r;

			if (!mmvec_extend(v, 3) && errno != ENOSPC)
				die("extend", -errno);
			len = mmvec_len(v);
			if (mmvec_sync(v) != 0)
				die("sync", 0);
			/* a second reservation of a huge recorded max_len
			 * may not fit next to the writer's */
			rc = mmvec_open_fd(fd, elem_size, 0, MMVEC_RDONLY, &r);
			if (rc && rc != -ENOMEM)
				die("reopen as reader", rc);
			if (!rc && mmvec_len(r) != len)
				die("reader length", 0);
			if (!rc) {
				sum += sum_elements(r);
				mmvec_free(r);
			}
		}
		mmvec_free(v);
		(void)sum;
	}
	free(was);
	close(fd);
	return 0;
}
