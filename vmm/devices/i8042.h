/* SPDX-License-Identifier: GPL-2.0 */
#ifndef KTSTR_I8042_H
#define KTSTR_I8042_H

#include <stdint.h>

/*
 * Just enough of the PS/2 controller for Linux's reboot path: status reads "nothing to
 * read, ready for commands", and command 0xfe (pulse the CPU reset line) ends the VM.
 */
enum i8042_result { I8042_NOT_MINE, I8042_HANDLED, I8042_RESET };

enum i8042_result i8042_io(uint16_t port, int is_write, uint8_t *data);

#endif
