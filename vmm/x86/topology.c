/* SPDX-License-Identifier: GPL-2.0 */
/*
 * APIC ID layout: [ node | llc in node | core | thread ], each field as wide as its count
 * needs. The node (package) field starts where CPUID's package-level shift says, so LLCs
 * and NUMA nodes seen through CPUID agree with SRAT even when a node's LLC count is not a
 * power of two (with one node, or a power of two per node, this is [ llc | core | thread ]).
 */
#include "x86.h"

uint32_t ktstr_bits_for(uint32_t count)
{
	uint32_t bits = 0;

	while ((1u << bits) < count)
		bits++;
	return bits;
}

uint32_t ktstr_apic_id(const struct ktstr_topology *t, uint32_t cpu)
{
	uint32_t per_core = t->threads_per_core, per_llc = t->cores_per_llc * per_core;
	uint32_t llcs_per_node = t->llcs / t->numa_nodes;
	uint32_t thread = cpu % per_core, core = (cpu % per_llc) / per_core, llc = cpu / per_llc;
	uint32_t tbits = ktstr_bits_for(t->threads_per_core),
		 cbits = ktstr_bits_for(t->cores_per_llc);
	uint32_t lbits = ktstr_bits_for(llcs_per_node);

	return ((llc / llcs_per_node) << (tbits + cbits + lbits)) |
	       ((llc % llcs_per_node) << (tbits + cbits)) | (core << tbits) | thread;
}
