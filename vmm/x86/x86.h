/* SPDX-License-Identifier: GPL-2.0 */
#ifndef KTSTR_X86_H
#define KTSTR_X86_H

#include <linux/kvm.h>
#include <stddef.h>
#include <stdint.h>
#include "../include/ktstr_vmm.h"

uint32_t ktstr_bits_for(uint32_t count);

/* CPUID for one vCPU, from what KVM supports plus the topology (cpuid.c). */
struct kvm_cpuid2 *ktstr_cpuid_for(int kvm_fd, const struct ktstr_topology *t, uint32_t cpu,
				   char *err, size_t errlen);

/* Identity page tables, GDT and registers for 64-bit entry at rip (regs.c). */
int ktstr_setup_long_mode(int vcpu_fd, uint8_t *mem, uint64_t rip, uint64_t rsp, char *err,
			  size_t errlen);

#define KTSTR_PML4_ADDR 0x9000ULL
#define KTSTR_GDT_ADDR 0x500ULL

#endif
