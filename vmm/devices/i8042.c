/* SPDX-License-Identifier: GPL-2.0 */
#include "i8042.h"

#define DATA_PORT 0x60
#define COMMAND_PORT 0x64
#define CMD_RESET_CPU 0xfe

enum i8042_result i8042_io(uint16_t port, int is_write, uint8_t *data)
{
	if (port != DATA_PORT && port != COMMAND_PORT)
		return I8042_NOT_MINE;
	if (is_write)
		return port == COMMAND_PORT && *data == CMD_RESET_CPU ? I8042_RESET : I8042_HANDLED;
	*data = 0; /* status: output buffer empty, input buffer empty */
	return I8042_HANDLED;
}
