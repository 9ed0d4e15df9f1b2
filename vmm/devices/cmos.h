/* SPDX-License-Identifier: GPL-2.0 */
#ifndef KTSTR_CMOS_H
#define KTSTR_CMOS_H

#include <stdint.h>

/*
 * The MC146818 RTC/CMOS at ports 0x70 (index) and 0x71 (data), read-only: Linux reads the
 * wall clock from it at boot (and spins on the update-in-progress bit if it floats high).
 * The clock reads the host's UTC time; every other register reads 0.
 */
struct cmos {
	uint8_t index;
};

/* Returns 1 when the port belongs to the CMOS (and was handled). */
int cmos_io(struct cmos *c, uint16_t port, int is_write, uint8_t *data);

#endif
