/* SPDX-License-Identifier: GPL-2.0 */
/*
 * APIC ID layout: [ node | llc in node | core | thread ], each field as wide as its count
 * needs. The node (package) field starts where CPUID's package-level shift says, so LLCs
 * and NUMA nodes seen through CPUID agree with SRAT even when a node's LLC count is not a
 * power of two (with one node, or a power of two per node, this is [ llc | core | thread ]).
 */
#include <errno.h>
#include <stdio.h>
#include "x86.h"

/* Bits to number count items: 0 for 0 or 1, 32 for anything above 2^31. No loop: a loop on
 * (1u << bits) < count never ended for counts above 2^31 (1n2l2147483649c1t). */
uint32_t ktstr_bits_for(uint32_t count)
{
	return count <= 1 ? 0 : 32 - (uint32_t)__builtin_clz(count - 1);
}

int ktstr_topology_check(const struct ktstr_topology *t, uint32_t *cpus, char *err, size_t errlen)
{
	uint32_t n;

	if (!t->numa_nodes || !t->llcs || !t->cores_per_llc || !t->threads_per_core ||
	    t->llcs % t->numa_nodes) {
		snprintf(err, errlen,
			 "topology: every count >= 1 and llcs divisible by numa_nodes");
		return -EINVAL;
	}
	/* Checked: 2 LLCs x 2147483649 cores wrapped to 2 vCPUs and passed the limit below. */
	if (__builtin_mul_overflow(t->llcs, t->cores_per_llc, &n) ||
	    __builtin_mul_overflow(n, t->threads_per_core, &n) || n > KTSTR_MAX_VCPUS) {
		snprintf(err, errlen,
			 "topology: %un%ul%uc%ut is more than %u vCPUs (llcs x cores x threads)",
			 t->numa_nodes, t->llcs, t->cores_per_llc, t->threads_per_core,
			 KTSTR_MAX_VCPUS);
		return -E2BIG;
	}
	*cpus = n;
	return 0;
}

uint32_t ktstr_apic_id(const struct ktstr_topology *t, uint32_t cpu)
{
	uint32_t cpus;
	char err[1];

	/* Public (the Python binding calls it): a topology the VMM would refuse has no IDs,
	 * rather than a division by zero or shifts past 31 bits. */
	if (ktstr_topology_check(t, &cpus, err, sizeof(err)) < 0)
		return UINT32_MAX;
	uint32_t per_core = t->threads_per_core, per_llc = t->cores_per_llc * per_core;
	uint32_t llcs_per_node = t->llcs / t->numa_nodes;
	uint32_t thread = cpu % per_core, core = (cpu % per_llc) / per_core, llc = cpu / per_llc;
	uint32_t tbits = ktstr_bits_for(t->threads_per_core),
		 cbits = ktstr_bits_for(t->cores_per_llc);
	uint32_t lbits = ktstr_bits_for(llcs_per_node);

	return ((llc / llcs_per_node) << (tbits + cbits + lbits)) |
	       ((llc % llcs_per_node) << (tbits + cbits)) | (core << tbits) | thread;
}
