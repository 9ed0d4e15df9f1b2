/* SPDX-License-Identifier: GPL-2.0 */
#ifndef KTSTR_CMOS_H
#define KTSTR_CMOS_H

#include <stdint.h>
#include "pio.h"

/*
 * The MC146818 RTC/CMOS at ports 0x70 (index) and 0x71 (data), read-only: Linux reads the
 * wall clock from it at boot (and spins on the update-in-progress bit if it floats high).
 * The clock reads the host's UTC time; every other register reads 0.
 */
struct cmos {
	uint8_t index;
};

#define KTSTR_CMOS_PORT 0x70
#define KTSTR_CMOS_PORTS 2

/* The pio handler (offset 0: index, 1: data); dev is a struct cmos. */
enum pio_result cmos_io(void *dev, uint32_t vcpu, uint16_t offset, int is_write, uint8_t *data);

#endif
