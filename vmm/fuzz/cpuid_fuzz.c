/* SPDX-License-Identifier: GPL-2.0 */
/*
 * libFuzzer target: the per-vCPU CPUID rewrite (x86/cpuid.c) from topology parameters and a
 * made-up KVM_GET_SUPPORTED_CPUID list, no KVM. Input: [topology][vCPU u16][TSC deadline
 * u8][entries: function, index, eax, ebx, ecx, edx (u32 each) ...]. The list may be empty,
 * full, without KVM's leaves, or claim any vendor. A rewrite that succeeds must say the
 * vCPU's APIC ID and the SMT width the topology asks for.
 */
#include "../x86/x86.h"
#include "fuzz.h"
#include "topology_input.h"

static int seen_leaf(const struct kvm_cpuid2 *c, uint32_t fn)
{
	for (uint32_t i = 0; i < c->nent; i++)
		if (c->entries[i].function == fn)
			return 1;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	struct fuzz_input in = { data, len, 0 };
	struct ktstr_topology t = fuzz_topology(&in);
	uint32_t cpu = (uint16_t)fuzz_u32(&in), cpus, apic;
	int tsc_deadline = fuzz_u8(&in) & 1;
	struct kvm_cpuid2 *c = calloc(1,
				      sizeof(*c) + KTSTR_CPUID_MAX_ENTRIES * sizeof(c->entries[0]));
	char err[256];
	int ok;

	FUZZ_ASSERT(c);
	while (c->nent < KTSTR_CPUID_MAX_ENTRIES && in.pos < in.len) {
		struct kvm_cpuid_entry2 *e = &c->entries[c->nent++];

		e->function = fuzz_u32(&in);
		e->index = fuzz_u32(&in);
		e->eax = fuzz_u32(&in);
		e->ebx = fuzz_u32(&in);
		e->ecx = fuzz_u32(&in);
		e->edx = fuzz_u32(&in);
	}
	ok = ktstr_topology_check(&t, &cpus, err, sizeof(err)) == 0;
	if (ok && !(cpu & 0x8000))
		cpu %= cpus; /* mostly a vCPU that exists; sometimes one that does not */
	ok = ok && cpu < cpus;
	if (ktstr_cpuid_rewrite(c, &t, cpu, tsc_deadline, err, sizeof(err)) < 0) {
		FUZZ_ASSERT(err[0]);
		free(c);
		return 0;
	}
	FUZZ_ASSERT(ok); /* the rewrite took what the check refuses */
	FUZZ_ASSERT(c->nent <= KTSTR_CPUID_MAX_ENTRIES);
	apic = ktstr_apic_id(&t, cpu);
	/* The first entry of a leaf is the one rewritten (and the one KVM uses). */
	for (uint32_t i = 0, seen_b = 0, seen_1 = 0; i < c->nent; i++) {
		const struct kvm_cpuid_entry2 *e = &c->entries[i];

		if (e->function == 0xb && e->index == 0 && !seen_b++)
			FUZZ_ASSERT(e->edx == apic && e->ebx == t.threads_per_core);
		if (e->function == 1 && e->index == 0 && !seen_1++)
			FUZZ_ASSERT(e->ebx >> 24 == (apic & 0xff) && (e->ecx >> 31));
	}
	FUZZ_ASSERT(seen_leaf(c, 0xb) && seen_leaf(c, 0x1f)); /* always added */
	free(c);
	return 0;
}
