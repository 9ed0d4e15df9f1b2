/* SPDX-License-Identifier: GPL-2.0 */
/* Synthetic guest: the reboot path of reboot=k, "pulse reset" (0xfe) to the i8042 command
 * port 0x64, which must end the VM as a shutdown; status 1 via the debug port if not. */
	.code64
	.text
	.globl _start
_start:
	in	$0x64, %al		/* status: the controller is ready */
	mov	$0xfe, %al
	out	%al, $0x64
	mov	$1, %al
	out	%al, $0xf4
1:	hlt
	jmp	1b
