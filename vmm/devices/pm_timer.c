/* SPDX-License-Identifier: GPL-2.0 */
#include <stdlib.h>
#include "pm_timer.h"

int pm_timer_init(struct pm_timer *t, uint32_t nr_vcpus, uint64_t (*now_ns)(void))
{
	t->now_ns = now_ns;
	t->nr_vcpus = nr_vcpus ? nr_vcpus : 1;
	t->latched = calloc(t->nr_vcpus, sizeof(*t->latched));
	return t->latched ? 0 : -1;
}

void pm_timer_destroy(struct pm_timer *t)
{
	free(t->latched);
	t->latched = NULL;
}

uint32_t pm_timer_ticks(uint64_t ns)
{
	/* ns * HZ / 1e9 without overflow for centuries of uptime: split seconds off first. */
	uint64_t s = ns / 1000000000ULL, rem = ns % 1000000000ULL;

	return (uint32_t)(s * KTSTR_PM_TIMER_HZ + rem * KTSTR_PM_TIMER_HZ / 1000000000ULL);
}

enum pio_result pm_timer_io(void *dev, uint32_t vcpu, uint16_t offset, int is_write, uint8_t *data)
{
	struct pm_timer *t = dev;
	uint32_t *latch = &t->latched[vcpu % t->nr_vcpus];

	if (is_write)
		return PIO_HANDLED;
	if (offset == 0)
		*latch = pm_timer_ticks(t->now_ns());
	*data = (uint8_t)(*latch >> (8 * offset));
	return PIO_HANDLED;
}
