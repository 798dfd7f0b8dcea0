/*
 * SPDX-License-Identifier: MIT
 *
 * No exported function of libmmvec takes a struct mmvec_head, so abidw
 * leaves it out of the library's baseline. This one does: abi-head dumps
 * this probe and compares it with head.abi, so that abidiff tracks the
 * frozen start of struct mmvec as the public header declares it (and
 * src/vec.c asserts that the library lays it out the same way).
 */
#include <mmvec.h>

size_t mmvec_head_probe(const struct mmvec_head *h);

__attribute__((visibility("default"))) size_t
mmvec_head_probe(const struct mmvec_head *h)
{
	return h->len + h->room + h->elem_size + (h->data != NULL);
}
