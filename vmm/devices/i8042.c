/* SPDX-License-Identifier: GPL-2.0 */
#include "i8042.h"

#define DATA 0
#define COMMAND 4
#define CMD_RESET_CPU 0xfe

enum pio_result i8042_io(void *dev, uint32_t vcpu, uint16_t offset, int is_write, uint8_t *data)
{
	(void)dev;
	(void)vcpu;
	if (offset != DATA && offset != COMMAND) { /* not an i8042 register: nothing there */
		if (!is_write)
			*data = 0xff;
		return PIO_HANDLED;
	}
	if (is_write)
		return offset == COMMAND && *data == CMD_RESET_CPU ? PIO_RESET : PIO_HANDLED;
	*data = 0; /* status: output buffer empty, input buffer empty */
	return PIO_HANDLED;
}
