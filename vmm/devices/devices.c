/* SPDX-License-Identifier: GPL-2.0 */
#include <errno.h>
#include <string.h>
#include "../include/ktstr_vmm.h"
#include "debug_exit.h"
#include "devices.h"
#include "i8042.h"

static int serial_up(struct serial8250 *s, uint16_t base, uint32_t irq, int fd, uint32_t buffers,
		     const struct pio_env *env)
{
	if (serial8250_init(s, base, irq, fd, buffers) < 0)
		return -1;
	s->set_irq = env->set_irq;
	s->irq_ctx = env->irq_ctx;
	return 0;
}

static int com1_init(void *state, const struct pio_env *env)
{
	return serial_up(state, KTSTR_COM1_PORT, COM1_IRQ, env->com1_fd, env->com1_buffers, env);
}

static int com2_init(void *state, const struct pio_env *env)
{
	return serial_up(state, KTSTR_COM2_PORT, COM2_IRQ, env->com2_fd, 1, env);
}

/* The last partial line goes out before the buffers go (every vCPU has stopped by now). */
static void serial_exit(void *state)
{
	serial8250_flush_all(state);
	serial8250_destroy(state);
}

static int pm_timer_up(void *state, const struct pio_env *env)
{
	return pm_timer_init(state, env->nr_vcpus, env->now_ns);
}

static void pm_timer_down(void *state)
{
	pm_timer_destroy(state);
}

#define STATE(field) offsetof(struct pio_devices, field)

/* The I/O-space map: one row per device, all with the same handler signature. */
const struct pio_device_desc pio_device_table[] = {
	{ "com1", KTSTR_COM1_PORT, KTSTR_SERIAL8250_PORTS, serial8250_io, STATE(com1), com1_init,
	  serial_exit },
	{ "com2", KTSTR_COM2_PORT, KTSTR_SERIAL8250_PORTS, serial8250_io, STATE(com2), com2_init,
	  serial_exit },
	{ "cmos", KTSTR_CMOS_PORT, KTSTR_CMOS_PORTS, cmos_io, STATE(cmos), NULL, NULL },
	{ "i8042", KTSTR_I8042_PORT, KTSTR_I8042_PORTS, i8042_io, PIO_NO_STATE, NULL, NULL },
	{ "acpi-pm1", KTSTR_ACPI_PM1_EVT_PORT, KTSTR_ACPI_PM1_PORTS, acpi_pm1_io, STATE(pm1), NULL,
	  NULL },
	{ "pm-timer", KTSTR_PM_TIMER_PORT, KTSTR_PM_TIMER_LEN, pm_timer_io, STATE(pm_timer),
	  pm_timer_up, pm_timer_down },
	{ "debug-exit", KTSTR_DEBUG_EXIT_PORT, 1, debug_exit_io, PIO_NO_STATE, NULL, NULL },
};

const uint32_t pio_device_count = sizeof(pio_device_table) / sizeof(pio_device_table[0]);

static void *state_of(struct pio_devices *devs, const struct pio_device_desc *d)
{
	return d->state == PIO_NO_STATE ? NULL : (char *)devs + d->state;
}

int pio_devices_init(struct pio_devices *devs, struct pio_bus *bus, const struct pio_env *env,
		     const char **failed)
{
	memset(devs, 0, sizeof(*devs));
	for (uint32_t i = 0; i < pio_device_count; i++) {
		const struct pio_device_desc *d = &pio_device_table[i];
		void *state = state_of(devs, d);
		int err = 0;

		if (d->init && d->init(state, env) < 0)
			err = ENOMEM; /* its buffers */
		else if (devs->up++, pio_bus_add(bus, d->name, d->base, d->len, d->io, state))
			err = EEXIST; /* overlapping ranges, or a full bus */
		if (err) {
			*failed = d->name;
			pio_devices_exit(devs);
			errno = err;
			return -1;
		}
	}
	return 0;
}

void pio_devices_exit(struct pio_devices *devs)
{
	while (devs->up) {
		const struct pio_device_desc *d = &pio_device_table[--devs->up];

		if (d->exit)
			d->exit(state_of(devs, d));
	}
}
