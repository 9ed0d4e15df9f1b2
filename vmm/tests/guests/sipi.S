/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Synthetic guest for AP bring-up (run with --sipi: in-kernel LAPIC, only the BSP starts).
 * The BSP copies a real-mode trampoline to 0x8000, enables its LAPIC, sends INIT then
 * SIPI (vector 0x08 -> 0x0800:0000) twice to all-excluding-self through the ICR, as Linux
 * does, and waits for the APs to check in. Each AP starts in real mode, reads its APIC ID
 * with CPUID, prints "ap apic=<hex>" and bumps a counter. The BSP prints
 * "bsp aps=<count> expected=<count>" and exits with status 0 when all came up, 1 if not.
 */
	.equ	LAPIC, 0xfee00000
	.equ	ICR_LOW, 0x300
	.equ	SVR, 0x0f0
	.equ	COUNTER, 0x6000
	.equ	TRAMPOLINE, 0x8000

	.code64
	.text
	.globl _start
_start:
	movl	$0, COUNTER
	lea	tramp_start(%rip), %rsi
	mov	$TRAMPOLINE, %rdi
	mov	$(tramp_end - tramp_start), %rcx
	rep movsb

	mov	$0xb, %eax		/* logical CPUs in the package (one NUMA node here) */
	mov	$1, %ecx
	cpuid
	and	$0xffff, %ebx
	dec	%ebx
	mov	%ebx, %r12d		/* APs expected */

	mov	$LAPIC, %r8		/* above 2 GiB: not encodable as an absolute address */
	movl	$0x1ff, SVR(%r8)	/* software-enable the LAPIC, spurious vector 0xff */
	movl	$0x000c4500, ICR_LOW(%r8)	/* INIT, level assert, all excluding self */
	call	delay
	movl	$0x000c4608, ICR_LOW(%r8)	/* SIPI, vector 0x08 */
	call	delay
	movl	$0x000c4608, ICR_LOW(%r8)	/* the second SIPI of the MP spec */

	mov	$200000000, %rcx	/* wait for the APs, bounded */
1:	cmp	%r12d, COUNTER
	jae	2f
	pause
	loop	1b
2:	lea	s_bsp(%rip), %rsi
	call	puts
	mov	COUNTER, %eax
	call	puthex
	lea	s_expected(%rip), %rsi
	call	puts
	mov	%r12d, %eax
	call	puthex
	mov	$'\n', %al
	call	putc
	xor	%eax, %eax
	cmp	%r12d, COUNTER
	setne	%al
	out	%al, $0xf4

delay:
	mov	$100000, %rcx
3:	pause
	loop	3b
	ret

putc:
	mov	$0x3f8, %dx
	out	%al, %dx
	ret

puts:
	lodsb
	test	%al, %al
	jz	4f
	call	putc
	jmp	puts
4:	ret

/* puthex: eax's low byte as two hex digits */
puthex:
	mov	%eax, %ebx
	shr	$4, %eax
	call	hexdigit
	mov	%ebx, %eax
hexdigit:
	and	$0xf, %al
	add	$'0', %al
	cmp	$'9', %al
	jbe	putc
	add	$('a' - '9' - 1), %al
	jmp	putc

s_bsp:		.asciz "bsp aps="
s_expected:	.asciz " expected="

/*
 * Real mode, CS = 0x0800, IP = 0: position-independent, data at absolute addresses, and no
 * stack (every AP starts with SS:SP = 0:0, so calls would race on the same return slot).
 */
	.macro hexdigit16
	and	$0xf, %al
	add	$'0', %al
	cmp	$'9', %al
	jbe	7f
	add	$('a' - '9' - 1), %al
7:	out	%al, %dx
	.endm
	.code16
tramp_start:
	cli
	xor	%ax, %ax
	mov	%ax, %ds
	mov	$1, %eax
	cpuid
	shr	$24, %ebx		/* initial APIC ID */
	mov	$0x3f8, %dx
	mov	$'a', %al
	out	%al, %dx
	mov	$'p', %al
	out	%al, %dx
	mov	$' ', %al
	out	%al, %dx
	mov	$'a', %al
	out	%al, %dx
	mov	$'p', %al
	out	%al, %dx
	mov	$'i', %al
	out	%al, %dx
	mov	$'c', %al
	out	%al, %dx
	mov	$'=', %al
	out	%al, %dx
	mov	%bl, %al
	shr	$4, %al
	hexdigit16
	mov	%bl, %al
	hexdigit16
	mov	$'\n', %al
	out	%al, %dx
	lock incl COUNTER
5:	hlt
	jmp	5b
tramp_end:
