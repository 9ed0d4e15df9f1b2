/* SPDX-License-Identifier: GPL-2.0 */
#include "debug_exit.h"

enum pio_result debug_exit_io(void *dev, uint32_t vcpu, uint16_t offset, int is_write,
			      uint8_t *data)
{
	(void)dev;
	(void)vcpu;
	(void)offset;
	if (is_write)
		return PIO_DEBUG_EXIT;
	*data = 0xff;
	return PIO_HANDLED;
}
