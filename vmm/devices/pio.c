/* SPDX-License-Identifier: GPL-2.0 */
#include <stddef.h>
#include "pio.h"

int pio_bus_add(struct pio_bus *bus, const char *name, uint16_t base, uint16_t len, pio_handler io,
		void *dev)
{
	uint32_t end = (uint32_t)base + len;

	if (!len || end > 0x10000 || bus->nr >= PIO_MAX_DEVICES)
		return -1;
	for (uint32_t i = 0; i < bus->nr; i++) {
		const struct pio_device *d = &bus->devices[i];

		if (base < d->base + d->len && d->base < end)
			return -1;
	}
	bus->devices[bus->nr++] = (struct pio_device){
		.name = name, .base = base, .len = len, .io = io, .dev = dev
	};
	return 0;
}

const struct pio_device *pio_bus_find(const struct pio_bus *bus, uint16_t port)
{
	for (uint32_t i = 0; i < bus->nr; i++) {
		const struct pio_device *d = &bus->devices[i];

		if (port >= d->base && port < d->base + d->len)
			return d;
	}
	return NULL;
}

enum pio_result pio_bus_io(const struct pio_bus *bus, uint32_t vcpu, uint16_t port, int is_write,
			   uint8_t *data)
{
	const struct pio_device *d = pio_bus_find(bus, port);

	if (d)
		return d->io(d->dev, vcpu, port - d->base, is_write, data);
	if (!is_write)
		*data = 0xff;
	return PIO_HANDLED;
}
