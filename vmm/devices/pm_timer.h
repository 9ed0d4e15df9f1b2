/* SPDX-License-Identifier: GPL-2.0 */
#ifndef KTSTR_PM_TIMER_H
#define KTSTR_PM_TIMER_H

#include <stdint.h>
#include "pio.h"

/*
 * The ACPI power-management timer (FADT PM_TMR_BLK, 32 bits with TMR_VAL_EXT): a free-running
 * counter at 3.579545 MHz, here the host's CLOCK_MONOTONIC scaled. It is the reference Linux
 * calibrates the TSC against when the PIT is too slow to use (nested virtualization), and a
 * clock source of its own (acpi_pm).
 *
 * A 32-bit read arrives as four byte reads: the first (offset 0) samples the clock and the
 * other three return the rest of that sample, per vCPU, so a read never tears.
 */
#define KTSTR_PM_TIMER_PORT 0x608
#define KTSTR_PM_TIMER_LEN 4
#define KTSTR_PM_TIMER_HZ 3579545ULL

struct pm_timer {
	uint64_t (*now_ns)(void); /* the clock; CLOCK_MONOTONIC in the VMM, a fake in tests */
	uint32_t nr_vcpus;
	uint32_t *latched;        /* per vCPU: the sample its offset-0 read took */
};

/* Returns 0, or -1 when the per-vCPU latches could not be allocated. */
int pm_timer_init(struct pm_timer *t, uint32_t nr_vcpus, uint64_t (*now_ns)(void));
void pm_timer_destroy(struct pm_timer *t);
/* The counter value at ns. */
uint32_t pm_timer_ticks(uint64_t ns);
/* The pio handler; dev is a struct pm_timer. Writes are ignored (the timer is read-only). */
enum pio_result pm_timer_io(void *dev, uint32_t vcpu, uint16_t offset, int is_write, uint8_t *data);

#endif
