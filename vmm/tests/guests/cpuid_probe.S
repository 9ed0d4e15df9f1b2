/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Synthetic guest: every vCPU enters here in 64-bit mode (rdi = vCPU index) and prints
 *   cpu=<index> apic=<CPUID.1:EBX[31:24]> x2apic=<CPUID.B.0:EDX> llc_sharing=<CPUID.4.3
 *   EAX[25:14]+1> smt_shift=<CPUID.B.0:EAX[4:0]> llc_shift=<CPUID.1F.1:EAX[4:0]>
 * on COM1, then halts. The VM ends when every vCPU has halted.
 */
	.code64
	.text
	.globl _start
_start:
	mov	%rdi, %r12		/* vCPU index */
	mov	$1, %eax
	xor	%ecx, %ecx
	cpuid
	shr	$24, %ebx
	mov	%rbx, %r13		/* initial APIC ID */
	mov	$0xb, %eax
	xor	%ecx, %ecx
	cpuid
	mov	%rdx, %r14		/* x2APIC ID */
	and	$0x1f, %eax
	mov	%rax, %rbp		/* SMT level shift */
	mov	$4, %eax
	mov	$3, %ecx
	cpuid
	shr	$14, %eax
	and	$0xfff, %eax
	inc	%eax
	mov	%rax, %r15		/* CPUs sharing the L3 */
	mov	$0x1f, %eax
	mov	$1, %ecx
	cpuid
	and	$0x1f, %eax
	mov	%rax, %rbx		/* LLC (core level) shift */

	lea	s_cpu(%rip), %rsi
	call	puts
	mov	%r12, %rax
	call	putdec
	lea	s_apic(%rip), %rsi
	call	puts
	mov	%r13, %rax
	call	putdec
	lea	s_x2apic(%rip), %rsi
	call	puts
	mov	%r14, %rax
	call	putdec
	lea	s_sharing(%rip), %rsi
	call	puts
	mov	%r15, %rax
	call	putdec
	lea	s_smt(%rip), %rsi
	call	puts
	mov	%rbp, %rax
	call	putdec
	lea	s_llc(%rip), %rsi
	call	puts
	mov	%rbx, %rax
	call	putdec
	mov	$'\n', %al
	call	putc
	hlt
1:	jmp	1b

/* putc: al -> COM1 */
putc:
	mov	$0x3f8, %dx
	out	%al, %dx
	ret

/* puts: NUL-terminated string at rsi */
puts:
	lodsb
	test	%al, %al
	jz	2f
	call	putc
	jmp	puts
2:	ret

/* putdec: rax as decimal */
putdec:
	mov	$10, %rcx
	xor	%r8, %r8		/* digit count */
3:	xor	%rdx, %rdx
	div	%rcx
	push	%rdx
	inc	%r8
	test	%rax, %rax
	jnz	3b
4:	pop	%rax
	add	$'0', %al
	call	putc
	dec	%r8
	jnz	4b
	ret

s_cpu:		.asciz "cpu="
s_apic:		.asciz " apic="
s_x2apic:	.asciz " x2apic="
s_sharing:	.asciz " llc_sharing="
s_smt:		.asciz " smt_shift="
s_llc:		.asciz " llc_shift="
