/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The port-I/O devices without KVM: each driven through the device table exactly as the
 * vCPU loop drives it (pio_bus_io, one byte at a time, wider accesses low byte first), with
 * the interrupt line and the output captured. Built with ASan and UBSan.
 */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include "../devices/acpi_pm1.h"
#include "../devices/cmos.h"
#include "../devices/debug_exit.h"
#include "../devices/devices.h"
#include "../devices/i8042.h"
#include "../devices/pio.h"
#include "../devices/pm_timer.h"
#include "../devices/serial8250.h"
#include "../include/ktstr_vmm.h"
#include "check.h"

static uint8_t in8(struct pio_bus *bus, uint16_t port)
{
	uint8_t v = 0x5a;

	CHECK(pio_bus_io(bus, 0, port, 0, &v) == PIO_HANDLED);
	return v;
}

static enum pio_result out8(struct pio_bus *bus, uint32_t vcpu, uint16_t port, uint8_t v)
{
	return pio_bus_io(bus, vcpu, port, 1, &v);
}

/* A 16-bit OUT as handle_io delivers it: low byte at port, high byte at port + 1. */
static enum pio_result out16(struct pio_bus *bus, uint16_t port, uint16_t v)
{
	enum pio_result r = out8(bus, 0, port, v & 0xff);

	return r != PIO_HANDLED ? r : out8(bus, 0, port + 1, v >> 8);
}

static enum pio_result nothing(void *dev, uint32_t vcpu, uint16_t offset, int is_write,
			       uint8_t *data)
{
	(void)dev, (void)vcpu, (void)offset, (void)is_write, (void)data;
	return PIO_HANDLED;
}

static void test_bus(void)
{
	struct pio_bus bus = { 0 };

	CHECK(pio_bus_add(&bus, "a", 0x100, 8, nothing, NULL) == 0);
	CHECK(pio_bus_add(&bus, "overlaps a's end", 0x107, 2, nothing, NULL) == -1);
	CHECK(pio_bus_add(&bus, "overlaps a's start", 0xff, 2, nothing, NULL) == -1);
	CHECK(pio_bus_add(&bus, "adjacent", 0x108, 1, nothing, NULL) == 0);
	CHECK(pio_bus_add(&bus, "empty", 0x200, 0, nothing, NULL) == -1);
	CHECK(pio_bus_add(&bus, "past 0xffff", 0xfffe, 4, nothing, NULL) == -1);
	CHECK(pio_bus_find(&bus, 0x107) && !strcmp(pio_bus_find(&bus, 0x107)->name, "a"));
	CHECK(pio_bus_find(&bus, 0x108) && !strcmp(pio_bus_find(&bus, 0x108)->name, "adjacent"));
	CHECK(pio_bus_find(&bus, 0x109) == NULL);
	CHECK(in8(&bus, 0x300) == 0xff); /* nothing there: floats high */
	CHECK(out8(&bus, 0, 0x300, 1) == PIO_HANDLED);
	for (uint16_t i = bus.nr; i < PIO_MAX_DEVICES; i++)
		CHECK(pio_bus_add(&bus, "filler", 0x1000 + i, 1, nothing, NULL) == 0);
	CHECK(pio_bus_add(&bus, "one too many", 0x2000, 1, nothing, NULL) == -1);
}

static int irq_level, irq_edges;

static void record_irq(void *ctx, uint32_t irq, int level)
{
	CHECK(ctx == &irq_level && irq == 4);
	if (level && !irq_level)
		irq_edges++;
	irq_level = level;
}

static void test_serial(void)
{
	struct pio_bus bus = { 0 };
	struct serial8250 s;
	char out[64] = { 0 };
	int fds[2];
	uint16_t b = KTSTR_COM1_PORT;

	CHECK(pipe(fds) == 0);
	fcntl(fds[0], F_SETFL, O_NONBLOCK);
	CHECK(serial8250_init(&s, b, 4, fds[1], 2) == 0);
	s.set_irq = record_irq;
	s.irq_ctx = &irq_level;
	CHECK(pio_bus_add(&bus, "com1", b, KTSTR_SERIAL8250_PORTS, serial8250_io, &s) == 0);

	out8(&bus, 0, b + 7, 0xa5);
	CHECK(in8(&bus, b + 7) == 0xa5); /* scratch */
	CHECK(in8(&bus, b + 5) == 0x60); /* LSR: THR empty, transmitter empty */
	CHECK(in8(&bus, b + 2) == 0x01); /* IIR: no interrupt, no FIFO */
	out8(&bus, 0, b + 3, 0x80);      /* DLAB */
	out8(&bus, 0, b + 0, 0x01);
	out8(&bus, 0, b + 1, 0x00);
	CHECK(in8(&bus, b + 0) == 0x01 && in8(&bus, b + 1) == 0x00);
	out8(&bus, 0, b + 3, 0x03);               /* 8N1, DLAB off */
	out8(&bus, 0, b + 4, 0x10 | 0x02 | 0x01); /* loopback, RTS, DTR */
	CHECK((in8(&bus, b + 6) & 0xf0) == 0x30); /* CTS + DSR come back */
	out8(&bus, 0, b + 0, 'x');                /* loopback: nothing goes out */
	out8(&bus, 0, b + 4, 0x08);               /* OUT2: the IRQ line is connected */

	/* THRE interrupts: enabling THRI with THR empty raises the line; reading IIR acks. */
	irq_edges = 0;
	out8(&bus, 0, b + 1, 0x02);
	CHECK(irq_level == 1 && irq_edges == 1);
	CHECK(in8(&bus, b + 2) == 0x02); /* IIR: THRE */
	CHECK(irq_level == 0);
	CHECK(in8(&bus, b + 2) == 0x01); /* acknowledged */
	out8(&bus, 0, b + 0, 'h');       /* each byte sent: a fresh edge */
	CHECK(irq_level == 1 && irq_edges == 2);
	in8(&bus, b + 2);
	out8(&bus, 1, b + 0, 'B'); /* vCPU 1 has its own line buffer */
	out8(&bus, 0, b + 0, 'i');
	out8(&bus, 0, b + 0, '\n');
	CHECK(read(fds[0], out, sizeof(out) - 1) == 3 && !strcmp(out, "hi\n"));
	out8(&bus, 0, b + 4, 0x00); /* OUT2 off: the line drops */
	CHECK(irq_level == 0);
	serial8250_flush_all(&s);
	memset(out, 0, sizeof(out));
	CHECK(read(fds[0], out, sizeof(out) - 1) == 1 && !strcmp(out, "B"));
	serial8250_destroy(&s);
	close(fds[0]);
	close(fds[1]);
}

static int bcd_ok(uint8_t v, int max)
{
	return (v & 0xf) <= 9 && (v >> 4) * 10 + (v & 0xf) <= max;
}

static void test_cmos(void)
{
	struct pio_bus bus = { 0 };
	struct cmos c = { 0 };

	CHECK(pio_bus_add(&bus, "cmos", KTSTR_CMOS_PORT, KTSTR_CMOS_PORTS, cmos_io, &c) == 0);
	out8(&bus, 0, 0x70, 0x8a);          /* bit 7 (NMI mask) is not part of the index */
	CHECK(in8(&bus, 0x71) == 0x26);     /* status A: no update in progress */
	out8(&bus, 0, 0x70, 0x0b);
	CHECK(in8(&bus, 0x71) == 0x02);     /* status B: BCD, 24 h */
	out8(&bus, 0, 0x70, 0x00);
	CHECK(bcd_ok(in8(&bus, 0x71), 59)); /* seconds */
	out8(&bus, 0, 0x70, 0x04);
	CHECK(bcd_ok(in8(&bus, 0x71), 23)); /* hours */
	out8(&bus, 0, 0x70, 0x32);
	CHECK(in8(&bus, 0x71) == 0x20);     /* century: 20xx */
	CHECK(in8(&bus, 0x70) == 0xff);     /* the index port reads nothing */
}

static void test_i8042(void)
{
	struct pio_bus bus = { 0 };

	CHECK(pio_bus_add(&bus, "i8042", KTSTR_I8042_PORT, KTSTR_I8042_PORTS, i8042_io, NULL) == 0);
	CHECK(in8(&bus, 0x64) == 0x00);                  /* status: both buffers empty */
	CHECK(in8(&bus, 0x61) == 0xff);                  /* not an i8042 register */
	CHECK(out8(&bus, 0, 0x64, 0xd1) == PIO_HANDLED);
	CHECK(out8(&bus, 0, 0x60, 0xfe) == PIO_HANDLED); /* 0xfe as data is not the command */
	CHECK(out8(&bus, 0, 0x64, 0xfe) == PIO_RESET);
}

static void test_acpi_pm1(void)
{
	struct pio_bus bus = { 0 };
	struct acpi_pm1 pm = { 0 };
	uint16_t cnt = KTSTR_ACPI_PM1_CNT_PORT, evt = KTSTR_ACPI_PM1_EVT_PORT;

	CHECK(pio_bus_add(&bus, "pm1", evt, KTSTR_ACPI_PM1_PORTS, acpi_pm1_io, &pm) == 0);
	CHECK((in8(&bus, cnt) & 1) == 1);                      /* SCI_EN: always in ACPI mode */
	CHECK(in8(&bus, evt) == 0 && in8(&bus, evt + 1) == 0); /* no events */
	CHECK(out16(&bus, evt + 2, 0x0120) == PIO_HANDLED);
	CHECK(in8(&bus, evt + 2) == 0x20 && in8(&bus, evt + 3) == 0x01); /* PM1_EN reads back */
	CHECK(out16(&bus, evt, 0x8000) == PIO_HANDLED);                  /* clearing WAK_STS */
	/* ACPICA's sequence: SLP_TYP first, then SLP_TYP | SLP_EN. */
	CHECK(out16(&bus, cnt, 5 << 10 | 1) == PIO_HANDLED);
	CHECK(out16(&bus, cnt, 3 << 10 | 1 << 13 | 1) == PIO_HANDLED); /* S3: ignored */
	CHECK(out16(&bus, cnt, 5 << 10 | 1 << 13 | 1) == PIO_POWER_OFF);
}

static uint64_t fake_ns;

static uint64_t fake_clock(void)
{
	return fake_ns;
}

static uint32_t read_timer(struct pio_bus *bus, uint32_t vcpu, int advance_between_bytes)
{
	uint32_t v = 0;

	for (uint16_t i = 0; i < 4; i++) {
		uint8_t byte;

		CHECK(pio_bus_io(bus, vcpu, KTSTR_PM_TIMER_PORT + i, 0, &byte) == PIO_HANDLED);
		v |= (uint32_t)byte << (8 * i);
		fake_ns += advance_between_bytes ? 1000000000ULL : 0;
	}
	return v;
}

static void test_pm_timer(void)
{
	struct pio_bus bus = { 0 };
	struct pm_timer t;

	CHECK(pm_timer_ticks(0) == 0);
	CHECK(pm_timer_ticks(1000000000ULL) == KTSTR_PM_TIMER_HZ);
	CHECK(pm_timer_ticks(500000000ULL) == KTSTR_PM_TIMER_HZ / 2);
	/* 32 bits wrap after 1200 s; no 64-bit overflow in the scaling for years of uptime. */
	CHECK(pm_timer_ticks(3600ULL * 24 * 365 * 1000000000ULL) ==
	      (uint32_t)(3600ULL * 24 * 365 * KTSTR_PM_TIMER_HZ));
	CHECK(pm_timer_init(&t, 2, fake_clock) == 0);
	CHECK(pio_bus_add(&bus, "pm-timer", KTSTR_PM_TIMER_PORT, KTSTR_PM_TIMER_LEN, pm_timer_io,
			  &t) == 0);
	fake_ns = 10ULL * 1000000000ULL; /* 35795450 = 0x0222337a */
	/* The clock moves by a second between the bytes; the value read is still the sample
	 * taken at the first byte. */
	CHECK(read_timer(&bus, 0, 1) == 10 * KTSTR_PM_TIMER_HZ);
	fake_ns = 20ULL * 1000000000ULL;
	CHECK(read_timer(&bus, 1, 0) == 20 * KTSTR_PM_TIMER_HZ);     /* each vCPU its own latch */
	CHECK(out8(&bus, 0, KTSTR_PM_TIMER_PORT, 0) == PIO_HANDLED); /* read-only */
	pm_timer_destroy(&t);
}

static void test_debug_exit(void)
{
	struct pio_bus bus = { 0 };

	CHECK(pio_bus_add(&bus, "debug-exit", KTSTR_DEBUG_EXIT_PORT, 1, debug_exit_io, NULL) == 0);
	CHECK(out8(&bus, 0, KTSTR_DEBUG_EXIT_PORT, 42) == PIO_DEBUG_EXIT);
	CHECK(in8(&bus, KTSTR_DEBUG_EXIT_PORT) == 0xff);
}

static uint64_t zero_clock(void)
{
	return 0;
}

/* The device table: every descriptor mapped and brought up, and taken down in pairs; a
 * device whose range is taken fails by name and leaves nothing up. */
static void test_table(void)
{
	const struct pio_env env = { .nr_vcpus = 2,
				     .com1_fd = -1,
				     .com2_fd = -1,
				     .com1_buffers = 2,
				     .set_irq = record_irq,
				     .irq_ctx = &irq_level,
				     .now_ns = zero_clock };
	struct pio_devices devs;
	struct pio_bus bus = { 0 };
	const char *failed = NULL;

	CHECK(pio_devices_init(&devs, &bus, &env, &failed) == 0 && failed == NULL);
	CHECK(bus.nr == pio_device_count && devs.up == pio_device_count);
	for (uint32_t i = 0; i < pio_device_count; i++) {
		const struct pio_device *d = pio_bus_find(&bus, pio_device_table[i].base);

		CHECK(d && !strcmp(d->name, pio_device_table[i].name));
	}
	CHECK(pio_bus_find(&bus, KTSTR_COM1_PORT)->dev == &devs.com1);
	CHECK(devs.com1.nr_buffers == 2 && devs.com2.nr_buffers == 1 && devs.pm_timer.latched);
	pio_devices_exit(&devs);
	CHECK(devs.up == 0);

	/* Planted: something already owns the CMOS ports. */
	memset(&bus, 0, sizeof(bus));
	CHECK(pio_bus_add(&bus, "squatter", KTSTR_CMOS_PORT, 1, nothing, NULL) == 0);
	CHECK(pio_devices_init(&devs, &bus, &env, &failed) == -1);
	CHECK(failed && !strcmp(failed, "cmos") && devs.up == 0);
}

int main(void)
{
	test_bus();
	test_serial();
	test_cmos();
	test_i8042();
	test_acpi_pm1();
	test_pm_timer();
	test_debug_exit();
	test_table();
	return check_summary("device_test");
}
