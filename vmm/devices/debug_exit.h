/* SPDX-License-Identifier: GPL-2.0 */
#ifndef KTSTR_DEBUG_EXIT_H
#define KTSTR_DEBUG_EXIT_H

#include <stdint.h>
#include "pio.h"

/*
 * The debug-exit port (KTSTR_DEBUG_EXIT_PORT, one byte): a synthetic guest writes its
 * status there and the VM ends with it. Reads float high. dev is unused.
 */
enum pio_result debug_exit_io(void *dev, uint32_t vcpu, uint16_t offset, int is_write,
			      uint8_t *data);

#endif
