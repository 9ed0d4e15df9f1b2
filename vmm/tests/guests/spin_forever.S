/* SPDX-License-Identifier: GPL-2.0 */
/* Synthetic guest that never ends: the watchdog must stop it. */
	.code64
	.text
	.globl _start
_start:
1:	pause
	jmp	1b
