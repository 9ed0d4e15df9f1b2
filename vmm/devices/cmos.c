/* SPDX-License-Identifier: GPL-2.0 */
#include <time.h>
#include "cmos.h"

static uint8_t bcd(int v)
{
	return (uint8_t)(((v / 10) << 4) | (v % 10));
}

static uint8_t read_reg(uint8_t reg)
{
	time_t now = time(NULL);
	struct tm tm;

	gmtime_r(&now, &tm);
	switch (reg) {
	case 0x00:
		return bcd(tm.tm_sec);
	case 0x02:
		return bcd(tm.tm_min);
	case 0x04:
		return bcd(tm.tm_hour);
	case 0x06:
		return bcd(tm.tm_wday + 1);
	case 0x07:
		return bcd(tm.tm_mday);
	case 0x08:
		return bcd(tm.tm_mon + 1);
	case 0x09:
		return bcd(tm.tm_year % 100);
	case 0x0a:
		return 0x26; /* status A: 32 kHz base, no update in progress */
	case 0x0b:
		return 0x02; /* status B: 24-hour clock, BCD */
	case 0x0d:
		return 0x80; /* status D: the battery is fine */
	case 0x32:
		return bcd(19 + tm.tm_year / 100); /* century */
	default:
		return 0;
	}
}

enum pio_result cmos_io(void *dev, uint32_t vcpu, uint16_t offset, int is_write, uint8_t *data)
{
	struct cmos *c = dev;

	(void)vcpu;
	if (offset == 0) {
		if (is_write)
			c->index = *data & 0x7f; /* bit 7 is the NMI mask */
		else
			*data = 0xff;
	} else if (!is_write) {
		*data = read_reg(c->index);
	}
	return PIO_HANDLED;
}
