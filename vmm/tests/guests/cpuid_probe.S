/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Synthetic guest: every vCPU enters here in 64-bit mode (rdi = vCPU index) and prints
 *   cpu=<index> apic=<CPUID.1:EBX[31:24]> x2apic=<CPUID.B.0:EDX> llc_sharing=<CPUID.4.3
 *   EAX[25:14]+1> smt_shift=<CPUID.B.0:EAX[4:0]> llc_shift=<CPUID.1F.1:EAX[4:0]> amd=<0|1>
 * and, when the vendor is AMD or Hygon, what Linux reads there instead:
 *   topoext=<80000001:ECX[22]> amd_nc=<80000008:ECX[7:0]+1> amd_pkg_bits=<80000008:ECX[15:12]>
 *   amd_llc_sharing=<8000001D.3:EAX[25:14]+1> ext_apic=<8000001E:EAX>
 *   amd_core=<8000001E:EBX[7:0]> amd_threads=<8000001E:EBX[15:8]+1> amd_node=<8000001E:ECX[7:0]>
 * on COM1, then halts. The VM ends when every vCPU has halted.
 */
	.code64
	.text
	.globl _start

/* Print " name=" then ((CPUID(leaf, subleaf).reg >> shift) & mask) + add in decimal. */
.macro field name, leaf, subleaf, reg, shift, mask, add
	mov	$\leaf, %eax
	mov	$\subleaf, %ecx
	cpuid
	mov	%\reg, %r13d
	shr	$\shift, %r13d
	and	$\mask, %r13d
	add	$\add, %r13d
	lea	\name(%rip), %rsi
	call	puts
	mov	%r13, %rax
	call	putdec
.endm

_start:
	lea	s_cpu(%rip), %rsi
	call	puts
	mov	%rdi, %rax
	call	putdec
	field	s_apic, 1, 0, ebx, 24, 0xff, 0
	field	s_x2apic, 0xb, 0, edx, 0, 0xffffffff, 0
	field	s_sharing, 4, 3, eax, 14, 0xfff, 1
	field	s_smt, 0xb, 0, eax, 0, 0x1f, 0
	field	s_llc, 0x1f, 1, eax, 0, 0x1f, 0
	xor	%eax, %eax
	cpuid
	xor	%r13d, %r13d
	cmp	$0x68747541, %ebx	/* "Auth"enticAMD */
	je	1f
	cmp	$0x6f677948, %ebx	/* "Hygo"nGenuine */
	jne	2f
1:	inc	%r13d
2:	push	%r13
	lea	s_amd(%rip), %rsi
	call	puts
	mov	%r13, %rax
	call	putdec
	pop	%r13
	test	%r13, %r13
	jz	3f
	field	s_topoext, 0x80000001, 0, ecx, 22, 1, 0
	field	s_amd_nc, 0x80000008, 0, ecx, 0, 0xff, 1
	field	s_amd_pkg_bits, 0x80000008, 0, ecx, 12, 0xf, 0
	field	s_amd_sharing, 0x8000001d, 3, eax, 14, 0xfff, 1
	field	s_ext_apic, 0x8000001e, 0, eax, 0, 0xffffffff, 0
	field	s_amd_core, 0x8000001e, 0, ebx, 0, 0xff, 0
	field	s_amd_threads, 0x8000001e, 0, ebx, 8, 0xff, 1
	field	s_amd_node, 0x8000001e, 0, ecx, 0, 0xff, 0
3:	mov	$'\n', %al
	call	putc
	hlt
4:	jmp	4b

	.include "print.inc"

s_cpu:		.asciz "cpu="
s_apic:		.asciz " apic="
s_x2apic:	.asciz " x2apic="
s_sharing:	.asciz " llc_sharing="
s_smt:		.asciz " smt_shift="
s_llc:		.asciz " llc_shift="
s_amd:		.asciz " amd="
s_topoext:	.asciz " topoext="
s_amd_nc:	.asciz " amd_nc="
s_amd_pkg_bits:	.asciz " amd_pkg_bits="
s_amd_sharing:	.asciz " amd_llc_sharing="
s_ext_apic:	.asciz " ext_apic="
s_amd_core:	.asciz " amd_core="
s_amd_threads:	.asciz " amd_threads="
s_amd_node:	.asciz " amd_node="
