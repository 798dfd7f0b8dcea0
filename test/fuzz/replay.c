/*
 * SPDX-License-Identifier: MIT
 *
 * Runs a fuzz target without libFuzzer, in every build (plain, Valgrind,
 * sanitizers): each file given (or each file in each directory given) is
 * one input, then MMVEC_FUZZ_REPLAY_RANDOM (default 200, 20 when slow)
 * random inputs from fixed seeds. A finding aborts, as under libFuzzer.
 */
#include "helpers.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz.h"

static unsigned long run_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	unsigned char *buf;
	long size;

	if (!f) {
		fprintf(stderr, "cannot open %s\n", path);
		exit(EXIT_FAILURE);
	}
	if (fseek(f, 0, SEEK_END) != 0 || (size = ftell(f)) < 0 ||
	    fseek(f, 0, SEEK_SET) != 0) {
		fprintf(stderr, "cannot read %s\n", path);
		exit(EXIT_FAILURE);
	}
	buf = malloc((size_t)size + 1);
	if (!buf || fread(buf, 1, (size_t)size, f) != (size_t)size) {
		fprintf(stderr, "cannot read %s\n", path);
		exit(EXIT_FAILURE);
	}
	fclose(f);
	LLVMFuzzerTestOneInput(buf, (size_t)size);
	free(buf);
	return 1;
}

static unsigned long run_path(const char *path)
{
	struct stat st;
	unsigned long n = 0;
	struct dirent **names;
	int count;

	if (stat(path, &st) != 0) {
		fprintf(stderr, "cannot stat %s\n", path);
		exit(EXIT_FAILURE);
	}
	if (!S_ISDIR(st.st_mode))
		return run_file(path);
	/* sorted, so that runs are reproducible */
	count = scandir(path, &names, NULL, alphasort);
	if (count < 0) {
		fprintf(stderr, "cannot list %s\n", path);
		exit(EXIT_FAILURE);
	}
	for (int k = 0; k < count; k++) {
		char file[4096];

		if (names[k]->d_name[0] != '.') {
			snprintf(file, sizeof(file), "%s/%s", path,
				 names[k]->d_name);
			n += run_file(file);
		}
		free(names[k]);
	}
	free(names);
	return n;
}

int main(int argc, char **argv)
{
	uint64_t random_inputs = env_u64("MMVEC_FUZZ_REPLAY_RANDOM",
					 test_slow() ? 20 : 200);
	struct test_rng rng = { 0x66757a7a };
	unsigned long n = 0;
	unsigned char buf[1024];

	for (int k = 1; k < argc; k++)
		n += run_path(argv[k]);
	if (argc > 1 && n == 0) {
		fprintf(stderr, "no inputs found in the corpus\n");
		return EXIT_FAILURE;
	}
	for (uint64_t k = 0; k < random_inputs; k++) {
		size_t len = 2 + (size_t)rng_below(&rng, sizeof(buf) - 1);

		for (size_t b = 0; b < len; b++)
			buf[b] = (unsigned char)rng_next(&rng);
		LLVMFuzzerTestOneInput(buf, len);
	}
	printf("%lu corpus inputs and %llu random inputs passed\n", n,
	       (unsigned long long)random_inputs);
	return EXIT_SUCCESS;
}
