/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Per-vCPU CPUID: start from KVM_GET_SUPPORTED_CPUID and rewrite the leaves through which
 * Linux learns the topology:
 *   1      EBX[31:24] initial APIC ID, EBX[23:16] logical CPUs per package, EDX.HTT
 *   4      deterministic cache parameters: EAX[25:14] = CPUs sharing the cache - 1
 *          (L1/L2 per core, L3 per LLC), EAX[31:26] = cores per package - 1
 *   0xB    extended topology: SMT level, then core level (x2APIC ID in EDX)
 *   0x1F   the same as 0xB plus a die level per LLC
 * and, when the vendor is AMD or Hygon (Linux then reads caches and nodes elsewhere):
 *   1, 0x80000001  EAX: family 19h model 01h when the host says an older family (or 17h
 *               up to model 0x1F, whose LLC Linux hard-codes as APIC ID >> 3): the family
 *               decides whether Linux believes 0x8000001D (QEMU TCG's "max" CPU, the nested
 *               test bed's L0, is family 0Fh)
 *   0x80000006  EDX: an L3, if the host reports none (Linux looks for LLCs only then)
 *   0x80000001  ECX.TOPOEXT, so Linux uses the leaves below
 *   0x80000008  ECX: threads per package - 1, APIC ID bits per package
 *   0x8000001D  cache topology: EAX[25:14] = CPUs sharing the cache - 1 (L3 per LLC), which
 *               is where Linux takes cpu_llc_id and cache/index3/shared_cpu_list from
 *   0x8000001E  extended APIC ID, core ID and threads per core, node ID
 * A package here is one NUMA node's worth of LLCs.
 *
 * And what Linux needs to find a clock (without it, a guest whose PIT calibration is too
 * slow, as under nested virtualization, has no TSC frequency and no clock source at all):
 *   1      ECX[31] "running on a hypervisor": Linux looks for hypervisor leaves only then
 *   1      ECX[24] TSC deadline timer, which KVM emulates but reports through
 *          KVM_CAP_TSC_DEADLINE_TIMER instead of KVM_GET_SUPPORTED_CPUID
 *   0x40000000  "KVMKVMKVM" signature, and 0x40000001 the paravirtual features (kvm-clock
 *               among them), both as KVM_GET_SUPPORTED_CPUID reports them
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <linux/kvm_para.h>
#include "x86.h"

#define MAX_ENTRIES KTSTR_CPUID_MAX_ENTRIES
/* The most entries ktstr_cpuid_rewrite adds: leaf 4 (5), 0xB (3), 0x1F (4), and on AMD
 * 0x80000001, 0x80000006, 0x80000008, 0x8000001D (5), 0x8000001E. */
#define ADDED_MAX 21
#define CPUID_1_ECX_TSC_DEADLINE (1u << 24)
#define CPUID_1_ECX_HYPERVISOR (1u << 31)

static struct kvm_cpuid_entry2 *find(struct kvm_cpuid2 *c, uint32_t fn, uint32_t idx)
{
	for (uint32_t i = 0; i < c->nent; i++)
		if (c->entries[i].function == fn && c->entries[i].index == idx)
			return &c->entries[i];
	return NULL;
}

static struct kvm_cpuid_entry2 *add(struct kvm_cpuid2 *c, uint32_t fn, uint32_t idx)
{
	struct kvm_cpuid_entry2 *e = find(c, fn, idx);

	if (e || c->nent >= MAX_ENTRIES)
		return e;
	e = &c->entries[c->nent++];
	memset(e, 0, sizeof(*e));
	e->function = fn;
	e->index = idx;
	e->flags = KVM_CPUID_FLAG_SIGNIFCANT_INDEX;
	return e;
}

static int vendor_is_amd_like(struct kvm_cpuid2 *c)
{
	struct kvm_cpuid_entry2 *e = find(c, 0, 0);

	/* "AuthenticAMD" / "HygonGenuine": EBX holds the first four characters. */
	return e && (e->ebx == 0x68747541 || e->ebx == 0x6f677948);
}

/* Deterministic cache parameters in the layout leaf 4 and 0x8000001D share (EAX..ECX). */
static void cache_level(struct kvm_cpuid_entry2 *e, uint32_t i, uint32_t sharing)
{
	static const uint32_t type_level[4][2] = { { 1, 1 }, { 2, 1 }, { 3, 2 }, { 3, 3 } };

	/* Sharing rounded up to a power of two, as APIC ID fields are sized. */
	sharing = 1u << ktstr_bits_for(sharing);
	e->eax = type_level[i][0] | (type_level[i][1] << 5) | (1u << 8) | ((sharing - 1) << 14);
	e->ebx = 63 | (0 << 12) | (7u << 22); /* 64-byte lines, 8 ways */
	e->ecx = i < 3 ? 63 : 4095;           /* sets */
	e->edx = 0;
}

uint32_t ktstr_amd_signature(uint32_t eax)
{
	uint32_t family = (eax >> 8) & 0xf, model = (eax >> 4) & 0xf;

	if (family == 0xf) {
		family += (eax >> 20) & 0xff;
		model |= ((eax >> 16) & 0xf) << 4;
	}
	if (family > 0x17 || (family == 0x17 && model > 0x1f))
		return eax;
	return KTSTR_AMD_FAMILY_19H_SIGNATURE;
}

static void amd_topology(struct kvm_cpuid2 *c, const struct ktstr_topology *t, uint32_t cpu,
			 uint32_t apic)
{
	uint32_t tbits = ktstr_bits_for(t->threads_per_core);
	uint32_t llcs_per_node = t->llcs / t->numa_nodes;
	uint32_t pkg_bits = tbits + ktstr_bits_for(t->cores_per_llc) +
			    ktstr_bits_for(llcs_per_node);
	uint32_t per_llc = t->cores_per_llc * t->threads_per_core;
	uint32_t per_pkg = per_llc * llcs_per_node;
	struct kvm_cpuid_entry2 *e;

	if ((e = find(c, 0x80000000, 0)) && e->eax < 0x8000001e)
		e->eax = 0x8000001e;
	/* Linux takes the LLC from 0x8000001D only from family 17h model 0x20 on (before: the
	 * node, or APIC ID >> 3), and only when 0x80000006 says there is an L3. */
	if ((e = find(c, 1, 0)))
		e->eax = ktstr_amd_signature(e->eax);
	if ((e = add(c, 0x80000001, 0)))
		e->eax = ktstr_amd_signature(e->eax);
	if ((e = add(c, 0x80000006, 0)) && !e->edx)
		e->edx = KTSTR_AMD_L3_INFO;
	if ((e = add(c, 0x80000001, 0)))
		e->ecx |= 1u << 22; /* TOPOEXT */
	if ((e = add(c, 0x80000008, 0)))
		e->ecx = (e->ecx & ~0xf0ffu) | (pkg_bits << 12) | ((per_pkg - 1) & 0xff);
	for (uint32_t i = 0; i < 4; i++)
		if ((e = add(c, 0x8000001d, i)))
			cache_level(e, i, i < 3 ? t->threads_per_core : per_llc);
	if ((e = add(c, 0x8000001d, 4)))
		e->eax = e->ebx = e->ecx = e->edx = 0;
	if ((e = add(c, 0x8000001e, 0))) {
		e->eax = apic;
		e->ebx = ((apic >> tbits) & ((1u << (pkg_bits - tbits)) - 1) & 0xff) |
			 ((t->threads_per_core - 1) << 8);
		e->ecx = (cpu / per_pkg) & 0xff; /* node ID; one node per package */
		e->edx = 0;
		e->flags = 0;
	}
	/* A host's own extended topology leaf would override ours (Linux prefers it on AMD). */
	for (uint32_t i = 0; i < c->nent; i++)
		if (c->entries[i].function == 0x80000026)
			c->entries[i].eax = c->entries[i].ebx = c->entries[i].ecx =
				c->entries[i].edx = 0;
}

/* One level of leaf 0xB/0x1F: shift to the next level's ID, CPUs at this level, type. */
static void topo_level(struct kvm_cpuid_entry2 *e, uint32_t shift, uint32_t count, uint32_t type,
		       uint32_t level, uint32_t apic)
{
	e->eax = shift;
	e->ebx = count;
	e->ecx = (type << 8) | level;
	e->edx = apic;
	e->flags = KVM_CPUID_FLAG_SIGNIFCANT_INDEX;
}

/* Present KVM's paravirtual interface: Linux then uses kvm-clock for time and the TSC
 * frequency, and the TSC deadline timer instead of calibrating the LAPIC timer. */
static int paravirt(struct kvm_cpuid2 *c, int tsc_deadline, char *err, size_t errlen)
{
	struct kvm_cpuid_entry2 *sig = find(c, KVM_CPUID_SIGNATURE, 0);
	struct kvm_cpuid_entry2 *e = find(c, 1, 0);

	/* "KVMKVMKVM\0\0\0" in EBX, ECX, EDX */
	if (!sig || sig->ebx != 0x4b4d564b || sig->ecx != 0x564b4d56 || sig->edx != 0x4d ||
	    !find(c, KVM_CPUID_FEATURES, 0)) {
		snprintf(err, errlen,
			 "KVM_GET_SUPPORTED_CPUID has no KVM paravirtual leaves "
			 "(0x40000000 \"KVMKVMKVM\", 0x40000001): the guest would have no "
			 "kvm-clock");
		return -1;
	}
	if (e) {
		e->ecx |= CPUID_1_ECX_HYPERVISOR;
		if (tsc_deadline)
			e->ecx |= CPUID_1_ECX_TSC_DEADLINE;
	}
	return 0;
}

int ktstr_cpuid_rewrite(struct kvm_cpuid2 *c, const struct ktstr_topology *t, uint32_t cpu,
			int tsc_deadline, char *err, size_t errlen)
{
	uint32_t cpus, apic, tbits, cbits, llcs_per_node, lbits, per_llc, per_pkg;
	struct kvm_cpuid_entry2 *e;

	/* Every shift and product below is sized by a checked topology (<= 512 vCPUs). */
	if (ktstr_topology_check(t, &cpus, err, errlen) < 0)
		return -1;
	if (cpu >= cpus) {
		snprintf(err, errlen, "CPUID: vCPU %u of %u", cpu, cpus);
		return -1;
	}
	/* With room for every leaf added below, add() never comes back empty-handed (a full
	 * list used to hand topo_level a NULL entry). */
	if (c->nent > MAX_ENTRIES - ADDED_MAX) {
		snprintf(err, errlen,
			 "CPUID: KVM_GET_SUPPORTED_CPUID gave %u entries, no room for the %u "
			 "topology leaves in %u",
			 c->nent, ADDED_MAX, MAX_ENTRIES);
		return -1;
	}
	apic = ktstr_apic_id(t, cpu);
	tbits = ktstr_bits_for(t->threads_per_core);
	cbits = ktstr_bits_for(t->cores_per_llc);
	llcs_per_node = t->llcs / t->numa_nodes;
	lbits = ktstr_bits_for(llcs_per_node);
	per_llc = t->cores_per_llc * t->threads_per_core;
	per_pkg = per_llc * llcs_per_node;
	if (paravirt(c, tsc_deadline, err, errlen) < 0)
		return -1;
	if ((e = find(c, 1, 0))) {
		e->ebx = (e->ebx & 0x0000ffff) | (apic << 24) | ((per_pkg & 0xff) << 16);
		e->edx |= 1u << 28; /* HTT: the package holds several logical CPUs */
	}
	/* Leaf 4: four cache levels. Sharing counts are CPUs - 1, bounded by the field. */
	for (uint32_t i = 0; i < 4; i++) {
		uint32_t cores_in_pkg = t->cores_per_llc * llcs_per_node;

		e = add(c, 4, i);
		cache_level(e, i, i < 3 ? t->threads_per_core : per_llc);
		e->eax |= ((1u << ktstr_bits_for(cores_in_pkg)) - 1) << 26;
	}
	e = add(c, 4, 4); /* terminator: type 0 */
	e->eax = e->ebx = e->ecx = e->edx = 0;
	for (uint32_t leaf = 0xb; leaf <= 0x1f; leaf += 0x14) {
		uint32_t lvl = 0;

		topo_level(add(c, leaf, lvl), tbits, t->threads_per_core, 1, lvl, apic);
		lvl++;
		if (leaf == 0x1f) {
			topo_level(add(c, leaf, lvl), tbits + cbits, per_llc, 2, lvl, apic);
			lvl++;
			topo_level(add(c, leaf, lvl), tbits + cbits + lbits, per_pkg, 5, lvl, apic);
		} else {
			topo_level(add(c, leaf, lvl), tbits + cbits + lbits, per_pkg, 2, lvl, apic);
		}
		lvl++;
		topo_level(add(c, leaf, lvl), 0, 0, 0, lvl, apic); /* invalid level ends the list */
	}
	if ((e = find(c, 0, 0)) && e->eax < 0x1f)
		e->eax = 0x1f;
	if (vendor_is_amd_like(c))
		amd_topology(c, t, cpu, apic);
	return 0;
}

struct kvm_cpuid2 *ktstr_cpuid_for(int kvm_fd, const struct ktstr_topology *t, uint32_t cpu,
				   char *err, size_t errlen)
{
	struct kvm_cpuid2 *c = calloc(1, sizeof(*c) + MAX_ENTRIES * sizeof(c->entries[0]));
	int tsc_deadline;

	if (!c) {
		snprintf(err, errlen, "out of memory for CPUID");
		return NULL;
	}
	c->nent = MAX_ENTRIES;
	if (ioctl(kvm_fd, KVM_GET_SUPPORTED_CPUID, c) < 0) {
		snprintf(err, errlen, "ioctl KVM_GET_SUPPORTED_CPUID: %s", strerror(errno));
		free(c);
		return NULL;
	}
	tsc_deadline = ioctl(kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_TSC_DEADLINE_TIMER) > 0;
	if (ktstr_cpuid_rewrite(c, t, cpu, tsc_deadline, err, errlen) < 0) {
		free(c);
		return NULL;
	}
	return c;
}
