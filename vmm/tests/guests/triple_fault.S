/* SPDX-License-Identifier: GPL-2.0 */
/* Synthetic guest that destroys its IDT and faults: a triple fault, i.e. a shutdown exit. */
	.code64
	.text
	.globl _start
_start:
	lidt	empty_idt(%rip)
	ud2
empty_idt:
	.word	0
	.quad	0
