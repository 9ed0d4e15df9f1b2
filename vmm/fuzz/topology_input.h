/* SPDX-License-Identifier: GPL-2.0 */
/* A topology from fuzz input: mostly small counts (the shapes that pass the check, where the
 * builders do their work), sometimes raw 32-bit ones (the shapes that must be refused). */
#ifndef KTSTR_FUZZ_TOPOLOGY_INPUT_H
#define KTSTR_FUZZ_TOPOLOGY_INPUT_H

#include "../include/ktstr_vmm.h"
#include "fuzz.h"

static inline struct ktstr_topology fuzz_topology(struct fuzz_input *in)
{
	struct ktstr_topology t;

	if (fuzz_u8(in) & 1) {
		t.numa_nodes = fuzz_u32(in);
		t.llcs = fuzz_u32(in);
		t.cores_per_llc = fuzz_u32(in);
		t.threads_per_core = fuzz_u32(in);
	} else {
		t.numa_nodes = fuzz_u8(in) % 16 + 1;
		t.llcs = t.numa_nodes * (fuzz_u8(in) % 16 + 1);
		t.cores_per_llc = fuzz_u8(in) % 64 + 1;
		t.threads_per_core = fuzz_u8(in) % 8 + 1;
	}
	return t;
}

#endif
