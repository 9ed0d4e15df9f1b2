/* SPDX-License-Identifier: GPL-2.0 */
/* Synthetic VMM guest for the monitor's memory test: vCPU 0 writes "KTSTRMEM" at guest
 * physical 0x300000 (identity mapped) and then counts up the qword after it forever; the
 * host must see both in the shared RAM while the guest runs. Other vCPUs spin. */
	.code64
	.text
	.globl _start
_start:
	test	%rdi, %rdi
	jnz	2f
	movabs	$0x4d454d525453544b, %rax	/* "KTSTRMEM", little endian */
	mov	$0x300000, %rbx
	mov	%rax, (%rbx)
	movq	$0, 8(%rbx)
1:	incq	8(%rbx)
	jmp	1b
2:	pause
	jmp	2b
