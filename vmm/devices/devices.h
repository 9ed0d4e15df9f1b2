/* SPDX-License-Identifier: GPL-2.0 */
#ifndef KTSTR_DEVICES_H
#define KTSTR_DEVICES_H

#include <stddef.h>
#include <stdint.h>
#include "acpi_pm1.h"
#include "cmos.h"
#include "pio.h"
#include "pm_timer.h"
#include "serial8250.h"

/*
 * The port-I/O devices, one descriptor each (devices.c's table), in the style of kvmtool's
 * dev_init/dev_exit: the device's name, its port range, its handler, where its state lives
 * and a paired init/exit. The VM (vm.c), the device unit test and the pio fuzz target all
 * build the bus from this one table, so a new device is its file pair, its descriptor row
 * (and its state field below, if it has state) and its case in tests/device_test.c.
 */

#define COM1_IRQ 4
#define COM2_IRQ 3

/* What a device may need from the VM when it is brought up. */
struct pio_env {
	uint32_t nr_vcpus;
	int com1_fd, com2_fd;  /* where the UARTs' lines go; -1 drops them */
	uint32_t com1_buffers; /* line buffers on COM1: one per vCPU for synthetic guests */
	void (*set_irq)(void *ctx, uint32_t irq, int level);
	void *irq_ctx;
	uint64_t (*now_ns)(void);
};

/* Every device's state; `up` counts the table entries brought up (so exit pairs with init). */
struct pio_devices {
	struct serial8250 com1, com2;
	struct cmos cmos;
	struct acpi_pm1 pm1;
	struct pm_timer pm_timer;
	uint32_t up;
};

#define PIO_NO_STATE ((size_t)-1)

struct pio_device_desc {
	const char *name;
	uint16_t base, len;
	pio_handler io;
	size_t state;                                        /* offsetof(struct pio_devices, x) */
	int (*init)(void *state, const struct pio_env *env); /* NULL: zeroed state is ready */
	void (*exit)(void *state);                           /* NULL: nothing to release */
};

extern const struct pio_device_desc pio_device_table[];
extern const uint32_t pio_device_count;

/*
 * Zero devs, bring every device up in table order and map it on bus. On failure the devices
 * already up are taken down again, *failed names the device and -1 is returned (errno set).
 */
int pio_devices_init(struct pio_devices *devs, struct pio_bus *bus, const struct pio_env *env,
		     const char **failed);
/* Take down every device that pio_devices_init brought up, last first. */
void pio_devices_exit(struct pio_devices *devs);

#endif
