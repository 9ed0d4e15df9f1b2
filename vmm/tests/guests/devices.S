/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Synthetic guest for the legacy devices Linux touches, then the power-off path:
 *   - COM2 (0x2f8): writes "com2 ok\n", the result-stream port;
 *   - COM1 scratch register and LSR: prints "scr=5a lsr=60";
 *   - CMOS (0x70/0x71): prints "cmos_a=26 cmos_b=02" (no update in progress, BCD, 24 h);
 *   - ACPI S5: writes SLP_TYP 5 | SLP_EN to PM1a_CNT (0x604, 16 bits, as ACPICA does), which
 *     must end the VM as a power-off. If it does not, exits with status 1 via the debug port.
 */
	.code64
	.text
	.globl _start
_start:
	test	%rdi, %rdi
	jnz	park
	lea	s_com2(%rip), %rsi
	mov	$0x2f8, %dx
	call	puts_port
	mov	$0x3ff, %dx		/* COM1 scratch */
	mov	$0x5a, %al
	out	%al, %dx
	in	%dx, %al
	mov	%al, %r12b
	lea	s_scr(%rip), %rsi
	call	puts
	mov	%r12b, %al
	call	puthex
	lea	s_lsr(%rip), %rsi
	call	puts
	mov	$0x3fd, %dx
	in	%dx, %al
	call	puthex
	lea	s_cmos_a(%rip), %rsi
	call	puts
	mov	$0x0a, %al
	out	%al, $0x70
	in	$0x71, %al
	call	puthex
	lea	s_cmos_b(%rip), %rsi
	call	puts
	mov	$0x0b, %al
	out	%al, $0x70
	in	$0x71, %al
	call	puthex
	mov	$'\n', %al
	call	putc
	mov	$0x604, %dx
	mov	$((5 << 10) | (1 << 13) | 1), %ax	/* SLP_TYP 5, SLP_EN, SCI_EN */
	out	%ax, %dx
	mov	$1, %al			/* not reached when S5 works */
	out	%al, $0xf4
park:	pause
	jmp	park

putc:	push	%rdx
	mov	$0x3f8, %dx
	out	%al, %dx
	pop	%rdx
	ret

puts:	mov	$0x3f8, %dx
puts_port:
	lodsb
	test	%al, %al
	jz	1f
	out	%al, %dx
	jmp	puts_port
1:	ret

puthex:	mov	%al, %bl
	shr	$4, %al
	call	digit
	mov	%bl, %al
digit:	and	$0xf, %al
	add	$'0', %al
	cmp	$'9', %al
	jbe	putc
	add	$('a' - '9' - 1), %al
	jmp	putc

s_com2:		.asciz "com2 ok\n"
s_scr:		.asciz "scr="
s_lsr:		.asciz " lsr="
s_cmos_a:	.asciz " cmos_a="
s_cmos_b:	.asciz " cmos_b="
