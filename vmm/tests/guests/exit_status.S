/* SPDX-License-Identifier: GPL-2.0 */
/* Synthetic guest: vCPU 0 writes 42 to the debug-exit port (0xf4); the others spin. */
	.code64
	.text
	.globl _start
_start:
	test	%rdi, %rdi
	jnz	1f
	mov	$42, %al
	out	%al, $0xf4
1:	pause
	jmp	1b
