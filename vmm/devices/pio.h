/* SPDX-License-Identifier: GPL-2.0 */
#ifndef KTSTR_PIO_H
#define KTSTR_PIO_H

#include <stdint.h>

/*
 * The port-I/O bus: every device in I/O space is one table entry (a port range, the
 * device's state and its handler), and every handler has the same signature, so the vCPU
 * loop dispatches with one lookup instead of knowing each device. A handler gets the
 * offset of the port within its range and one byte; what the VM must do next (nothing,
 * power off, reset, exit with a status) is its return value.
 */
enum pio_result {
	PIO_HANDLED,    /* the access is done; the guest goes on */
	PIO_POWER_OFF,  /* ACPI S5 */
	PIO_RESET,      /* the reset line (i8042 command 0xfe) */
	PIO_DEBUG_EXIT, /* the debug-exit port: *data is the guest's status */
};

typedef enum pio_result (*pio_handler)(void *dev, uint32_t vcpu, uint16_t offset, int is_write,
				       uint8_t *data);

struct pio_device {
	const char *name;
	uint16_t base, len;
	pio_handler io;
	void *dev;
};

#define PIO_MAX_DEVICES 16

struct pio_bus {
	uint32_t nr;
	struct pio_device devices[PIO_MAX_DEVICES];
};

/* Returns 0, or -1 when the range overlaps a device already there or the table is full. */
int pio_bus_add(struct pio_bus *bus, const char *name, uint16_t base, uint16_t len, pio_handler io,
		void *dev);
/* The device owning port, or NULL. */
const struct pio_device *pio_bus_find(const struct pio_bus *bus, uint16_t port);
/* One byte at port: the owner handles it; a port with no device reads as all ones (a bus
 * with nothing there) and ignores writes. */
enum pio_result pio_bus_io(const struct pio_bus *bus, uint32_t vcpu, uint16_t port, int is_write,
			   uint8_t *data);

#endif
