/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A bzImage that is not Linux: a real-mode sector with a boot protocol 2.15 setup header
 * (64-bit entry, relocatable, small init_size), then a protected-mode part whose startup_64
 * (at +0x200, where the boot protocol says) reports over COM1 the state the loader handed
 * over, one "key=hex" per line, and exits through the debug-exit port:
 *   cs ds es ss (selectors), rflags, rsi (boot_params), rip (entry address), magic ("HdrS"
 *   in the boot_params copy), loader (type_of_loader), loadflags, code32 (code32_start),
 *   cmdline_ptr, cmdline (the string), initrd (ramdisk_image), initrd_size, initrd_head
 *   (its first 8 bytes), rsdp (acpi_rsdp_addr), e820_entries, then e820=addr,size,type.
 * The test compares every value with what the boot protocol requires.
 */
	.code16
	.section .text
	.globl _start
_start:
	.org	0x1f1
setup_sects:	.byte 1
root_flags:	.word 0
syssize:	.long 0
ram_size:	.word 0
vid_mode:	.word 0
root_dev:	.word 0
boot_flag:	.word 0xaa55
jump:		.byte 0xeb, hdr_end - 0x202
header:		.ascii "HdrS"
version:	.word 0x020f
realmode_swtch:	.long 0
start_sys_seg:	.word 0
kernel_version:	.word 0
type_of_loader:	.byte 0
loadflags:	.byte 0x01
setup_move_size: .word 0
code32_start:	.long 0x100000
ramdisk_image:	.long 0
ramdisk_size:	.long 0
bootsect_kludge: .long 0
heap_end_ptr:	.word 0
ext_loader_ver:	.byte 0
ext_loader_type: .byte 0
cmd_line_ptr:	.long 0
initrd_addr_max: .long 0x7fffffff
kernel_alignment: .long 0x200000
relocatable:	.byte 1
min_alignment:	.byte 21
xloadflags:	.word 0x0001	/* XLF_KERNEL_64 */
cmdline_size:	.long 2047
hardware_subarch: .long 0
hardware_subarch_data: .quad 0
payload_offset:	.long 0
payload_length:	.long 0
setup_data:	.quad 0
pref_address:	.quad 0x1000000
init_size:	.long 0x100000
handover_offset: .long 0
kernel_info_offset: .long 0
hdr_end:

	.org	0x400	/* (setup_sects + 1) * 512: the protected-mode part, loaded at 1 MiB */
startup_32:
	hlt
	.org	0x600	/* startup_32 + 0x200 */
	.code64
startup_64:
	lea	stack_top(%rip), %rsp	/* the boot protocol gives no stack */
	mov	%rsi, %r15		/* boot_params: keep it */
	pushfq
	pop	%r14
	lea	startup_64(%rip), %r13
	lea	k_cs(%rip), %rdi; mov %cs, %eax; call kv
	lea	k_ds(%rip), %rdi; mov %ds, %eax; call kv
	lea	k_es(%rip), %rdi; mov %es, %eax; call kv
	lea	k_ss(%rip), %rdi; mov %ss, %eax; call kv
	lea	k_rflags(%rip), %rdi; mov %r14, %rax; call kv
	lea	k_rsi(%rip), %rdi; mov %r15, %rax; call kv
	lea	k_rip(%rip), %rdi; mov %r13, %rax; call kv
	lea	k_magic(%rip), %rdi; mov 0x202(%r15), %eax; call kv
	lea	k_loader(%rip), %rdi; movzbl 0x210(%r15), %eax; call kv
	lea	k_loadflags(%rip), %rdi; movzbl 0x211(%r15), %eax; call kv
	lea	k_code32(%rip), %rdi; mov 0x214(%r15), %eax; call kv
	lea	k_cmdline_ptr(%rip), %rdi; mov 0x228(%r15), %eax; call kv
	lea	k_cmdline(%rip), %rsi; call puts
	mov	0x228(%r15), %esi; call puts
	mov	$'\n', %al; call putc
	lea	k_initrd(%rip), %rdi; mov 0x218(%r15), %eax; call kv
	lea	k_initrd_size(%rip), %rdi; mov 0x21c(%r15), %eax; call kv
	lea	k_initrd_head(%rip), %rsi; call puts
	mov	0x218(%r15), %esi
	mov	$8, %ecx
1:	lodsb
	push	%rcx
	push	%rsi
	call	putc
	pop	%rsi
	pop	%rcx
	loop	1b
	mov	$'\n', %al; call putc
	lea	k_rsdp(%rip), %rdi; mov 0x70(%r15), %rax; call kv
	lea	k_e820_entries(%rip), %rdi; movzbl 0x1e8(%r15), %eax; call kv
	movzbl	0x1e8(%r15), %r12d
	lea	0x2d0(%r15), %rbx
2:	test	%r12d, %r12d
	jz	3f
	lea	k_e820(%rip), %rsi; call puts
	mov	(%rbx), %rax; call puthex
	mov	$',', %al; call putc
	mov	8(%rbx), %rax; call puthex
	mov	$',', %al; call putc
	mov	16(%rbx), %eax; call puthex
	mov	$'\n', %al; call putc
	add	$20, %rbx
	dec	%r12d
	jmp	2b
3:	mov	$7, %al
	out	%al, $0xf4

/* kv: print the string at rdi, '=', rax in hex, newline */
kv:	push	%rax
	mov	%rdi, %rsi
	call	puts
	mov	$'=', %al
	call	putc
	pop	%rax
	call	puthex
	mov	$'\n', %al
	jmp	putc

putc:	mov	$0x3f8, %dx
	out	%al, %dx
	ret

puts:	lodsb
	test	%al, %al
	jz	4f
	call	putc
	jmp	puts
4:	ret

/* puthex: rax, no leading zeros */
puthex:	mov	%rax, %r8
	mov	$60, %cl
	xor	%r9d, %r9d		/* printed a digit yet */
5:	mov	%r8, %rax
	shr	%cl, %rax
	and	$0xf, %eax
	test	%cl, %cl
	jz	6f			/* always print the last digit */
	test	%eax, %eax
	jnz	6f
	test	%r9d, %r9d
	jz	7f
6:	mov	$1, %r9d
	add	$'0', %al
	cmp	$'9', %al
	jbe	8f
	add	$('a' - '9' - 1), %al
8:	push	%rcx
	call	putc
	pop	%rcx
7:	sub	$4, %cl
	jns	5b
	ret

k_cs:		.asciz "cs"
k_ds:		.asciz "ds"
k_es:		.asciz "es"
k_ss:		.asciz "ss"
k_rflags:	.asciz "rflags"
k_rsi:		.asciz "rsi"
k_rip:		.asciz "rip"
k_magic:	.asciz "magic"
k_loader:	.asciz "loader"
k_loadflags:	.asciz "loadflags"
k_code32:	.asciz "code32"
k_cmdline_ptr:	.asciz "cmdline_ptr"
k_cmdline:	.asciz "cmdline="
k_initrd:	.asciz "initrd"
k_initrd_size:	.asciz "initrd_size"
k_initrd_head:	.asciz "initrd_head="
k_rsdp:		.asciz "rsdp"
k_e820_entries:	.asciz "e820_entries"
k_e820:		.asciz "e820="
	.org	0xf00
stack_top:
	.org	0x1000
