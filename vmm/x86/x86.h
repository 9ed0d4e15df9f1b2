/* SPDX-License-Identifier: GPL-2.0 */
#ifndef KTSTR_X86_H
#define KTSTR_X86_H

#include <linux/kvm.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include "../include/ktstr_vmm.h"

#define KTSTR_MAX_VCPUS 512

/* Bits to number count items (0 for 0 or 1, at most 32; topology.c). */
uint32_t ktstr_bits_for(uint32_t count);
/* Every count >= 1, llcs divisible by numa_nodes, and llcs x cores x threads (checked for
 * overflow) at most KTSTR_MAX_VCPUS: *cpus = that product. Returns 0, or -EINVAL / -E2BIG with err
 * ("topology: ..."). Every builder below assumes a topology that passed. */
int ktstr_topology_check(const struct ktstr_topology *t, uint32_t *cpus, char *err, size_t errlen);

/* AMD: leaf 1 / 0x80000001 EAX as the guest gets it: the host's, or family 19h model 01h
 * stepping 1 when the host's family takes the LLC from anything but 0x8000001D (cpuid.c). */
#define KTSTR_AMD_FAMILY_19H_SIGNATURE 0x00a00f11u
uint32_t ktstr_amd_signature(uint32_t eax);
/* 0x80000006 EDX when the host reports no L3: 32 MiB (64 x 512 KiB), 16-way, 64-byte lines. */
#define KTSTR_AMD_L3_INFO ((64u << 18) | (0x8u << 12) | 64u)

/* CPUID for one vCPU, from what KVM supports plus the topology (cpuid.c). */
#define KTSTR_CPUID_MAX_ENTRIES 256
/* The rewrite alone, no KVM: c (room for KTSTR_CPUID_MAX_ENTRIES) holds what
 * KVM_GET_SUPPORTED_CPUID gave; tsc_deadline: KVM_CAP_TSC_DEADLINE_TIMER. Returns 0, or -1
 * with err (a refused topology, a vCPU out of range, a list with no room, no KVM leaves). */
int ktstr_cpuid_rewrite(struct kvm_cpuid2 *c, const struct ktstr_topology *t, uint32_t cpu,
			int tsc_deadline, char *err, size_t errlen);
struct kvm_cpuid2 *ktstr_cpuid_for(int kvm_fd, const struct ktstr_topology *t, uint32_t cpu,
				   char *err, size_t errlen);

/* Where and how a vCPU enters the guest in 64-bit mode. */
struct ktstr_entry {
	uint64_t rip, rsp, rsi, rdi;
};

/* Identity page tables (first 4 GiB) and the boot GDT, once per VM (regs.c). */
void ktstr_write_boot_tables(uint8_t *mem);
/* Segments, control registers, GPRs and FPU for 64-bit entry (regs.c). */
int ktstr_setup_long_mode(int vcpu_fd, const struct ktstr_entry *e, char *err, size_t errlen);
/* In-kernel LAPIC: LINT0 ExtINT, LINT1 NMI (regs.c). */
int ktstr_setup_lapic(int vcpu_fd, char *err, size_t errlen);

/* Load a bzImage (+ initrd, cmdline) per the boot protocol and fill boot_params at
 * KTSTR_BOOT_PARAMS_ADDR; *entry = the 64-bit entry point (boot.c). */
int ktstr_load_linux(uint8_t *mem, uint64_t mem_size, const char *kernel, const char *initrd,
		     const char *cmdline, uint64_t *entry, char *err, size_t errlen);
/* The same from open files (initrd_fd -1: none); kernel and initrd name them in errors.
 * mem holds mem_size bytes of guest RAM laid out as ktstr_ram_ranges says; nothing is
 * written outside [mem, mem + the low range's size). The fuzz target calls this. */
int ktstr_load_linux_fd(uint8_t *mem, uint64_t mem_size, int kernel_fd, const char *kernel,
			int initrd_fd, const char *initrd, const char *cmdline, uint64_t *entry,
			char *err, size_t errlen);

/*
 * Guest physical memory map (x86):
 *   0x0500            GDT
 *   0x7000            boot_params (the "zero page")           Linux boot only
 *   0x8000            AP start-up trampoline (SIPI vector 0x08)
 *   0x9000-0xffff     identity page tables (PML4, PDPT, 4 PDs: first 4 GiB)
 *   0x20000           kernel command line                     Linux boot only
 *   0x9fc00-0xfffff   reserved: EBDA, BIOS area; ACPI tables at 0xe0000 (RSDP first)
 *   0x100000          synthetic guest / protected-mode kernel
 *   ... RAM ...       below KTSTR_MMIO_GAP_START; the initrd goes at the top of it
 *   3 GiB - 4 GiB     MMIO gap: IOAPIC 0xfec00000, LAPIC 0xfee00000
 *   4 GiB ...         the rest of RAM when memory_mib > 3072
 */
#define KTSTR_GDT_ADDR 0x500ULL
#define KTSTR_BOOT_PARAMS_ADDR 0x7000ULL
#define KTSTR_TRAMPOLINE_ADDR 0x8000ULL
#define KTSTR_PML4_ADDR 0x9000ULL
#define KTSTR_CMDLINE_ADDR 0x20000ULL
#define KTSTR_CMDLINE_MAX 0x10000ULL
#define KTSTR_EBDA_ADDR 0x9fc00ULL
#define KTSTR_ACPI_ADDR 0xe0000ULL
#define KTSTR_ACPI_END 0x100000ULL
#define KTSTR_MMIO_GAP_START 0xc0000000ULL
#define KTSTR_HIGH_RAM_START 0x100000000ULL
#define KTSTR_IOAPIC_ADDR 0xfec00000ULL
#define KTSTR_LAPIC_ADDR 0xfee00000ULL

/* Guest RAM as ranges of guest physical addresses (at most 2: below the gap, above 4 GiB). */
struct ktstr_ram_range {
	uint64_t start, size;
};

/* Fill ranges for mem_size bytes of RAM; returns how many (1 or 2). */
static inline int ktstr_ram_ranges(uint64_t mem_size, struct ktstr_ram_range ranges[2])
{
	ranges[0].start = 0;
	if (mem_size <= KTSTR_MMIO_GAP_START) {
		ranges[0].size = mem_size;
		return 1;
	}
	ranges[0].size = KTSTR_MMIO_GAP_START;
	ranges[1].start = KTSTR_HIGH_RAM_START;
	ranges[1].size = mem_size - KTSTR_MMIO_GAP_START;
	return 2;
}

/* A little-endian field of an ACPI table, read where it stands (unaligned): for the readers
 * of the tables (--dump-acpi, the acpi fuzz target). */
static inline uint32_t ktstr_rd32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return v;
}

static inline uint64_t ktstr_rd64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, 8);
	return v;
}

/* ACPI tables (RSDP, XSDT, FADT, DSDT, MADT, SRAT, SLIT) for the topology, written into guest
 * memory at KTSTR_ACPI_ADDR (acpi.c). mem points at guest physical 0. Returns 0, or -1 with err. */
int ktstr_acpi_write(uint8_t *mem, uint64_t mem_size, const struct ktstr_topology *t, char *err,
		     size_t errlen);

#endif
