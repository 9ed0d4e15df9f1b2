/* SPDX-License-Identifier: GPL-2.0 */
/* APIC ID layout: [ llc | core | thread ], each field as wide as its count needs. */
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
	uint32_t thread = cpu % per_core, core = (cpu % per_llc) / per_core, llc = cpu / per_llc;
	uint32_t tbits = ktstr_bits_for(t->threads_per_core), cbits = ktstr_bits_for(t->cores_per_llc);

	return (llc << (tbits + cbits)) | (core << tbits) | thread;
}
