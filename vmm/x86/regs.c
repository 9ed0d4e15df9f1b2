/* SPDX-License-Identifier: GPL-2.0 */
/*
 * 64-bit entry state, as the Linux boot protocol's 64-bit entry wants it (and the synthetic
 * guests get the same): identity page tables for the first 4 GiB (2 MiB pages), a GDT with
 * flat __BOOT_CS (0x10) and __BOOT_DS (0x18), CR0.PE|PG, CR4.PAE, EFER.LME|LMA, interrupts
 * off, and RIP/RSP/RSI/RDI as given. Plus the FPU reset state and, with the in-kernel LAPIC,
 * LINT0 = ExtINT and LINT1 = NMI as a PC BIOS leaves them ("virtual wire" mode).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include "x86.h"

#define PDPT_ADDR (KTSTR_PML4_ADDR + 0x1000)
#define PD_ADDR (KTSTR_PML4_ADDR + 0x2000) /* 4 page directories: 0-4 GiB */

#define BOOT_CS 0x10
#define BOOT_DS 0x18

#define CR0_PE 1u
#define CR0_PG (1u << 31)
#define CR4_PAE (1u << 5)
#define EFER_LME (1u << 8)
#define EFER_LMA (1u << 10)

#define APIC_LVT0 0x350
#define APIC_LVT1 0x360
#define APIC_MODE_NMI 0x4
#define APIC_MODE_EXTINT 0x7

void ktstr_write_boot_tables(uint8_t *mem)
{
	uint64_t *pml4 = (uint64_t *)(mem + KTSTR_PML4_ADDR);
	uint64_t *pdpt = (uint64_t *)(mem + PDPT_ADDR);
	uint64_t *pd = (uint64_t *)(mem + PD_ADDR);
	uint64_t *gdt = (uint64_t *)(mem + KTSTR_GDT_ADDR);

	memset(pml4, 0, 0x6000);
	pml4[0] = PDPT_ADDR | 0x3; /* present, writable */
	for (uint64_t i = 0; i < 4; i++)
		pdpt[i] = (PD_ADDR + i * 0x1000) | 0x3;
	for (uint64_t i = 0; i < 4 * 512; i++)
		pd[i] = (i << 21) | 0x83; /* present, writable, 2 MiB page */

	gdt[0] = gdt[1] = 0;
	gdt[BOOT_CS / 8] = 0x00af9b000000ffffULL; /* 64-bit code, execute/read */
	gdt[BOOT_DS / 8] = 0x00cf93000000ffffULL; /* flat data, read/write */
}

static void segment(struct kvm_segment *s, uint16_t sel, uint8_t type, int code)
{
	memset(s, 0, sizeof(*s));
	s->selector = sel;
	s->limit = 0xffffffff;
	s->type = type;
	s->present = 1;
	s->s = 1;
	s->g = 1;
	s->l = code;
	s->db = !code;
}

#define IOCTL_OR_FAIL(fd, req, arg)                                                                \
	do {                                                                                       \
		if (ioctl(fd, req, arg) < 0) {                                                     \
			snprintf(err, errlen, "ioctl " #req ": %s", strerror(errno));              \
			return -1;                                                                 \
		}                                                                                  \
	} while (0)

int ktstr_setup_long_mode(int vcpu_fd, const struct ktstr_entry *e, char *err, size_t errlen)
{
	struct kvm_sregs sregs;
	struct kvm_regs regs;
	struct kvm_fpu fpu;

	IOCTL_OR_FAIL(vcpu_fd, KVM_GET_SREGS, &sregs);
	sregs.gdt.base = KTSTR_GDT_ADDR;
	sregs.gdt.limit = 4 * 8 - 1;
	segment(&sregs.cs, BOOT_CS, 0xb, 1);
	segment(&sregs.ds, BOOT_DS, 0x3, 0);
	sregs.es = sregs.fs = sregs.gs = sregs.ss = sregs.ds;
	sregs.cr3 = KTSTR_PML4_ADDR;
	sregs.cr4 |= CR4_PAE;
	sregs.cr0 |= CR0_PE | CR0_PG;
	sregs.efer |= EFER_LME | EFER_LMA;
	IOCTL_OR_FAIL(vcpu_fd, KVM_SET_SREGS, &sregs);

	memset(&regs, 0, sizeof(regs));
	regs.rip = e->rip;
	regs.rsp = e->rsp;
	regs.rsi = e->rsi;
	regs.rdi = e->rdi;
	regs.rflags = 0x2; /* IF clear */
	IOCTL_OR_FAIL(vcpu_fd, KVM_SET_REGS, &regs);

	memset(&fpu, 0, sizeof(fpu));
	fpu.fcw = 0x37f;    /* x87 reset state */
	fpu.mxcsr = 0x1f80; /* SSE: all exceptions masked */
	IOCTL_OR_FAIL(vcpu_fd, KVM_SET_FPU, &fpu);
	return 0;
}

static void set_delivery_mode(struct kvm_lapic_state *l, size_t reg, uint32_t mode)
{
	uint32_t v;

	memcpy(&v, l->regs + reg, 4);
	v = (v & ~0x700u) | (mode << 8);
	memcpy(l->regs + reg, &v, 4);
}

int ktstr_setup_lapic(int vcpu_fd, char *err, size_t errlen)
{
	struct kvm_lapic_state lapic;

	IOCTL_OR_FAIL(vcpu_fd, KVM_GET_LAPIC, &lapic);
	set_delivery_mode(&lapic, APIC_LVT0, APIC_MODE_EXTINT);
	set_delivery_mode(&lapic, APIC_LVT1, APIC_MODE_NMI);
	IOCTL_OR_FAIL(vcpu_fd, KVM_SET_LAPIC, &lapic);
	return 0;
}
