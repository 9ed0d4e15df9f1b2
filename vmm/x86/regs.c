/* SPDX-License-Identifier: GPL-2.0 */
/*
 * 64-bit entry: identity-mapped first GiB (2 MiB pages), a flat GDT, CR0.PE|PG, CR4.PAE,
 * EFER.LME|LMA, and RIP/RSP as given. This is the state the Linux 64-bit boot protocol
 * expects at its entry point (RSI will point at boot_params once bzImage loading lands).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include "x86.h"

#define PDPT_ADDR (KTSTR_PML4_ADDR + 0x1000)
#define PD_ADDR (KTSTR_PML4_ADDR + 0x2000)

#define CR0_PE 1u
#define CR0_PG (1u << 31)
#define CR4_PAE (1u << 5)
#define EFER_LME (1u << 8)
#define EFER_LMA (1u << 10)

static void write_page_tables(uint8_t *mem)
{
	uint64_t *pml4 = (uint64_t *)(mem + KTSTR_PML4_ADDR);
	uint64_t *pdpt = (uint64_t *)(mem + PDPT_ADDR);
	uint64_t *pd = (uint64_t *)(mem + PD_ADDR);

	memset(pml4, 0, 0x3000);
	pml4[0] = PDPT_ADDR | 0x3;              /* present, writable */
	pdpt[0] = PD_ADDR | 0x3;
	for (uint64_t i = 0; i < 512; i++)
		pd[i] = (i << 21) | 0x83;       /* present, writable, 2 MiB page */
}

static void write_gdt(uint8_t *mem)
{
	uint64_t *gdt = (uint64_t *)(mem + KTSTR_GDT_ADDR);

	gdt[0] = 0;
	gdt[1] = 0x00af9b000000ffffULL;         /* 0x08: 64-bit code */
	gdt[2] = 0x00cf93000000ffffULL;         /* 0x10: data */
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

int ktstr_setup_long_mode(int vcpu_fd, uint8_t *mem, uint64_t rip, uint64_t rsp, char *err,
			  size_t errlen)
{
	struct kvm_sregs sregs;
	struct kvm_regs regs;

	write_page_tables(mem);
	write_gdt(mem);
	if (ioctl(vcpu_fd, KVM_GET_SREGS, &sregs) < 0) {
		snprintf(err, errlen, "ioctl KVM_GET_SREGS: %s", strerror(errno));
		return -1;
	}
	sregs.gdt.base = KTSTR_GDT_ADDR;
	sregs.gdt.limit = 3 * 8 - 1;
	segment(&sregs.cs, 0x08, 0xb, 1);
	segment(&sregs.ds, 0x10, 0x3, 0);
	sregs.es = sregs.fs = sregs.gs = sregs.ss = sregs.ds;
	sregs.cr3 = KTSTR_PML4_ADDR;
	sregs.cr4 |= CR4_PAE;
	sregs.cr0 |= CR0_PE | CR0_PG;
	sregs.efer |= EFER_LME | EFER_LMA;
	if (ioctl(vcpu_fd, KVM_SET_SREGS, &sregs) < 0) {
		snprintf(err, errlen, "ioctl KVM_SET_SREGS: %s", strerror(errno));
		return -1;
	}
	memset(&regs, 0, sizeof(regs));
	regs.rip = rip;
	regs.rsp = rsp;
	regs.rflags = 0x2;
	if (ioctl(vcpu_fd, KVM_SET_REGS, &regs) < 0) {
		snprintf(err, errlen, "ioctl KVM_SET_REGS: %s", strerror(errno));
		return -1;
	}
	return 0;
}
