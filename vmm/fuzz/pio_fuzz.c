/* SPDX-License-Identifier: GPL-2.0 */
/*
 * libFuzzer target: every port-I/O device's handlers through the device table, as the vCPU
 * loop drives them (the devices/ files), with a fake interrupt line and a fake clock, no KVM. The
 * bus is built from the one device table (devices/devices.c), as vm.c builds it. Input: a
 * sequence of 4-byte accesses
 * [device (low 3 bits) | write (bit 3) | vCPU (bits 4-7)][port offset][data][clock step],
 * the offset taken modulo the device's length + 2 so neighbours and holes are hit too.
 * Invariants: the IRQ line changes only as THRE/IER/OUT2 say, each VM-ending result comes
 * only from its one register, a port with no device floats high.
 */
#include "../devices/devices.h"
#include "../devices/i8042.h"
#include "../include/ktstr_vmm.h"
#include "fuzz.h"

#define VCPUS 4

static uint64_t fake_ns;
static int irq_level[2]; /* COM1 (IRQ 4), COM2 (IRQ 3) */

static uint64_t fake_clock(void)
{
	return fake_ns;
}

static void fake_irq(void *ctx, uint32_t irq, int level)
{
	int *line = &irq_level[irq == 4 ? 0 : 1];

	FUZZ_ASSERT(ctx == irq_level && (irq == 4 || irq == 3));
	FUZZ_ASSERT(level != *line); /* the device only reports changes */
	*line = level;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	struct fuzz_input in = { data, len, 0 };
	/* output dropped (fd -1), one line buffer per vCPU on COM1 */
	const struct pio_env env = { .nr_vcpus = VCPUS,
				     .com1_fd = -1,
				     .com2_fd = -1,
				     .com1_buffers = VCPUS,
				     .set_irq = fake_irq,
				     .irq_ctx = irq_level,
				     .now_ns = fake_clock };
	struct pio_devices devs;
	struct pio_bus bus = { 0 };
	const char *failed = NULL;

	fake_ns = 0;
	irq_level[0] = irq_level[1] = 0;
	FUZZ_ASSERT(pio_devices_init(&devs, &bus, &env, &failed) == 0);
	while (in.pos < in.len) {
		uint8_t op = fuzz_u8(&in), off = fuzz_u8(&in), byte = fuzz_u8(&in);
		const struct pio_device *d = &bus.devices[(op & 7) % bus.nr];
		uint16_t port = (uint16_t)(d->base + off % (d->len + 2));
		int is_write = (op >> 3) & 1;
		uint32_t vcpu = op >> 4; /* up to 15 with 4 buffers: the modulo in the devices */
		const struct pio_device *owner = pio_bus_find(&bus, port);
		enum pio_result r;

		fake_ns += (uint64_t)fuzz_u8(&in) << 24; /* up to ~4 s a step */
		r = pio_bus_io(&bus, vcpu, port, is_write, &byte);
		FUZZ_ASSERT(r == PIO_HANDLED || is_write);
		FUZZ_ASSERT(r != PIO_DEBUG_EXIT || port == KTSTR_DEBUG_EXIT_PORT);
		FUZZ_ASSERT(r != PIO_RESET || (port == KTSTR_I8042_PORT + 4 && byte == 0xfe));
		FUZZ_ASSERT(r != PIO_POWER_OFF || port == KTSTR_ACPI_PM1_CNT_PORT + 1);
		if (!owner && !is_write)
			FUZZ_ASSERT(byte == 0xff);
		if (owner && owner->dev == &devs.com1 && !is_write && port == KTSTR_COM1_PORT + 5)
			FUZZ_ASSERT(byte == 0x60); /* LSR: always ready, nothing received */
	}
	pio_devices_exit(&devs);
	return 0;
}
