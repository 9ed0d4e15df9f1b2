/* SPDX-License-Identifier: GPL-2.0 */
#ifndef KTSTR_I8042_H
#define KTSTR_I8042_H

#include <stdint.h>
#include "pio.h"

/*
 * Just enough of the PS/2 controller for Linux's reboot path: status reads "nothing to
 * read, ready for commands", and command 0xfe (pulse the CPU reset line) ends the VM.
 */
#define KTSTR_I8042_PORT 0x60 /* data; command/status at 0x64 */
#define KTSTR_I8042_PORTS 5   /* 0x61-0x63 in between belong to no one (0x61: the PIT) */

/* The pio handler (offset 0: data, 4: command/status); dev is unused. */
enum pio_result i8042_io(void *dev, uint32_t vcpu, uint16_t offset, int is_write, uint8_t *data);

#endif
