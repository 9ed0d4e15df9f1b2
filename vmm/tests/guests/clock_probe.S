/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Synthetic guest: what Linux needs to keep time, checked the way Linux finds it. Prints
 *   hv=<CPUID.1:ECX[31]> tsc_deadline=<CPUID.1:ECX[24]> kvm_sig=<1 if 0x40000000 EBX:ECX:EDX
 *   is "KVMKVMKVM\0\0\0"> kvm_max=<0x40000000:EAX> kvm_features=<0x40000001:EAX>
 *   pvclock_version=<..> pvclock_mul=<tsc_to_system_mul> pvclock_shift=<tsc_shift + 128>
 *   pm_ticks=<PM timer ticks waited> tsc_ticks=<TSC ticks over the same interval>
 * on COM1, then halts. kvm-clock is enabled the way Linux does it (MSR_KVM_SYSTEM_TIME_NEW =
 * the address of a pvclock_vcpu_time_info | 1), and the TSC is measured against the ACPI PM
 * timer (port 0x608, 3.579545 MHz) over 50 ms, as Linux calibrates against it: the host
 * checks that both say the same TSC frequency.
 */
	.code64
	.text
	.globl _start

	.equ	PVCLOCK, 0x300000	/* a page of guest RAM for the pvclock structure */
	.equ	MSR_KVM_SYSTEM_TIME_NEW, 0x4b564d01
	.equ	PM_TMR, 0x608
	.equ	PM_WAIT, 178977		/* 50 ms at 3.579545 MHz */

.macro print name, reg
	lea	\name(%rip), %rsi
	call	puts
	mov	\reg, %rax
	call	putdec
.endm

_start:
	mov	$1, %eax
	cpuid
	mov	%ecx, %r12d
	shr	$31, %r12d
	print	s_hv, %r12
	mov	$1, %eax
	cpuid
	mov	%ecx, %r12d
	shr	$24, %r12d
	and	$1, %r12d
	print	s_tscdl, %r12
	mov	$0x40000000, %eax
	xor	%ecx, %ecx
	cpuid
	mov	%eax, %r13d
	xor	%r12d, %r12d
	cmp	$0x4b4d564b, %ebx	/* "KVMK" */
	jne	1f
	cmp	$0x564b4d56, %ecx	/* "VMKV" */
	jne	1f
	cmp	$0x4d, %edx		/* "M\0\0\0" */
	jne	1f
	inc	%r12d
1:	print	s_sig, %r12
	print	s_max, %r13
	mov	$0x40000001, %eax
	xor	%ecx, %ecx
	cpuid
	mov	%eax, %r12d
	print	s_features, %r12

	/* kvm-clock: the hypervisor fills the structure when the MSR is written */
	mov	$MSR_KVM_SYSTEM_TIME_NEW, %ecx
	mov	$(PVCLOCK | 1), %eax
	xor	%edx, %edx
	wrmsr
	mov	$PVCLOCK, %rbx
	mov	(%rbx), %r12d		/* version */
	print	s_version, %r12
	mov	24(%rbx), %r12d		/* tsc_to_system_mul */
	print	s_mul, %r12
	movsbq	28(%rbx), %r12		/* tsc_shift (signed) */
	add	$128, %r12
	print	s_shift, %r12

	/* the TSC against the PM timer */
	mov	$PM_TMR, %dx
	in	%dx, %eax
	mov	%eax, %r12d		/* PM start */
	rdtsc
	shl	$32, %rdx
	or	%rax, %rdx
	mov	%rdx, %r13		/* TSC start */
2:	mov	$PM_TMR, %dx
	in	%dx, %eax
	sub	%r12d, %eax		/* elapsed ticks, modulo 2^32 */
	cmp	$PM_WAIT, %eax
	jb	2b
	mov	%eax, %r14d
	rdtsc
	shl	$32, %rdx
	or	%rax, %rdx
	sub	%r13, %rdx
	mov	%rdx, %r13
	print	s_pm, %r14
	print	s_tsc, %r13
	mov	$'\n', %al
	call	putc
	hlt
3:	jmp	3b

	.include "print.inc"

s_hv:		.asciz "hv="
s_tscdl:	.asciz " tsc_deadline="
s_sig:		.asciz " kvm_sig="
s_max:		.asciz " kvm_max="
s_features:	.asciz " kvm_features="
s_version:	.asciz " pvclock_version="
s_mul:		.asciz " pvclock_mul="
s_shift:	.asciz " pvclock_shift="
s_pm:		.asciz " pm_ticks="
s_tsc:		.asciz " tsc_ticks="
