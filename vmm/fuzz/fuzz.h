/* SPDX-License-Identifier: GPL-2.0 */
/* Shared by the libFuzzer targets: reading fields off the input, and a failed invariant as a
 * crash (libFuzzer saves the input that broke it). */
#ifndef KTSTR_FUZZ_H
#define KTSTR_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A cursor over the fuzz input; reads past the end give zeros. */
struct fuzz_input {
	const uint8_t *data;
	size_t len, pos;
};

static inline void fuzz_take(struct fuzz_input *in, void *out, size_t n)
{
	size_t have = in->len - in->pos < n ? in->len - in->pos : n;

	memset(out, 0, n);
	memcpy(out, in->data + in->pos, have);
	in->pos += have;
}

static inline uint8_t fuzz_u8(struct fuzz_input *in)
{
	uint8_t v;

	fuzz_take(in, &v, 1);
	return v;
}

static inline uint32_t fuzz_u32(struct fuzz_input *in)
{
	uint32_t v;

	fuzz_take(in, &v, 4);
	return v;
}

static inline uint64_t fuzz_u64(struct fuzz_input *in)
{
	uint64_t v;

	fuzz_take(in, &v, 8);
	return v;
}

#define FUZZ_ASSERT(cond)                                                                          \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			fprintf(stderr, "%s:%d: invariant broken: %s\n", __FILE__, __LINE__,       \
				#cond);                                                            \
			abort();                                                                   \
		}                                                                                  \
	} while (0)

#endif
