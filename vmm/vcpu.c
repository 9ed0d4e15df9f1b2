/* SPDX-License-Identifier: GPL-2.0 */
/*
 * One thread per vCPU: KVM_RUN, then handle the exit. Port I/O goes through the device
 * table (vm->pio, devices/pio.h); a port with no device reads as all ones. Every way a guest can end is turned into the report:
 * debug-exit status, power-off, shutdown (triple fault, reset), internal errors with the RIP
 * and the instruction bytes.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <linux/kvm.h>
#include "vm.h"

/* RIP and, when the page is mapped, the instruction bytes there. */
static void record_rip(struct vcpu *v)
{
	struct ktstr_vm_report *r = v->vm->report;
	struct kvm_translation tr = { 0 };
	struct kvm_regs regs;
	uint8_t *p;

	if (ioctl(v->fd, KVM_GET_REGS, &regs) < 0)
		return;
	pthread_mutex_lock(&v->vm->lock);
	if (r->rip) {
		pthread_mutex_unlock(&v->vm->lock);
		return;
	}
	r->rip = regs.rip;
	tr.linear_address = regs.rip;
	if (ioctl(v->fd, KVM_TRANSLATE, &tr) == 0 && tr.valid &&
	    (p = ktstr_gpa(v->vm, tr.physical_address, sizeof(r->insn)))) {
		memcpy(r->insn, p, sizeof(r->insn));
		r->insn_len = sizeof(r->insn);
	}
	pthread_mutex_unlock(&v->vm->lock);
}

static void __attribute__((format(printf, 2, 3))) fail_vcpu(struct vcpu *v, const char *fmt, ...)
{
	char msg[200], full[240];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	snprintf(full, sizeof(full), "vCPU %u: %s", v->index, msg);
	record_rip(v);
	ktstr_end_vm(v->vm, KTSTR_EXIT_INTERNAL_ERROR, -1, full);
}

/* One byte of port I/O through the device table; returns 1 when the VM ends. */
static int port_io(struct vcpu *v, uint16_t port, int is_write, uint8_t *data)
{
	struct vm *vm = v->vm;

	switch (pio_bus_io(&vm->pio, v->index, port, is_write, data)) {
	case PIO_HANDLED:
		return 0;
	case PIO_DEBUG_EXIT:
		serial8250_flush(&vm->dev.com1, v->index);
		ktstr_end_vm(vm, KTSTR_EXIT_DEBUG_PORT, data[0], NULL);
		return 1;
	case PIO_POWER_OFF:
		ktstr_end_vm(vm, KTSTR_EXIT_SHUTDOWN, 0, "guest powered off (ACPI S5)");
		return 1;
	case PIO_RESET:
		record_rip(v);
		ktstr_end_vm(vm, KTSTR_EXIT_SHUTDOWN, -1, "guest reset through the i8042 (reboot)");
		return 1;
	}
	return 0;
}

static int handle_io(struct vcpu *v)
{
	struct kvm_run *run = v->run;
	uint8_t *data = (uint8_t *)run + run->io.data_offset;
	int is_write = run->io.direction == KVM_EXIT_IO_OUT;

	for (uint32_t i = 0; i < run->io.count; i++, data += run->io.size) {
		/* Devices are byte-wide; wider accesses touch consecutive ports. */
		for (uint32_t b = 0; b < run->io.size; b++)
			if (port_io(v, run->io.port + b, is_write, data + b))
				return 1;
	}
	return 0;
}

void *ktstr_vcpu_loop(void *arg)
{
	struct vcpu *v = arg;
	struct vm *vm = v->vm;

	while (!atomic_load(&vm->ended)) {
		uint64_t unset = 0;

		/* The first vCPU to enter the guest stamps it. */
		if (!atomic_load(&vm->first_run_ns))
			atomic_compare_exchange_strong(&vm->first_run_ns, &unset, ktstr_now_ns());
		if (ioctl(v->fd, KVM_RUN, 0) < 0) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			fail_vcpu(v, "ioctl KVM_RUN: %s", strerror(errno));
			break;
		}
		switch (v->run->exit_reason) {
		case KVM_EXIT_IO:
			if (handle_io(v))
				return NULL;
			break;
		case KVM_EXIT_MMIO:
			if (!v->run->mmio.is_write) /* no MMIO devices: reads float high */
				memset(v->run->mmio.data, 0xff, sizeof(v->run->mmio.data));
			break;
		case KVM_EXIT_HLT: /* only without the in-kernel irqchip (synthetic guests) */
			serial8250_flush(&vm->dev.com1, v->index);
			if (atomic_fetch_add(&vm->halted, 1) + 1 == vm->nr_vcpus)
				ktstr_end_vm(vm, KTSTR_EXIT_DEBUG_PORT, 0, "all vCPUs halted");
			return NULL;
		case KVM_EXIT_SHUTDOWN:
			record_rip(v);
			ktstr_end_vm(vm, KTSTR_EXIT_SHUTDOWN, -1,
				     "guest shutdown (triple fault or reboot)");
			return NULL;
		case KVM_EXIT_SYSTEM_EVENT:
			record_rip(v);
			ktstr_end_vm(vm, KTSTR_EXIT_SHUTDOWN, -1,
				     "guest system event (shutdown or reset)");
			return NULL;
		case KVM_EXIT_INTR:
			break;
		case KVM_EXIT_INTERNAL_ERROR:
			fail_vcpu(v, "KVM internal error, suberror %u%s", v->run->internal.suberror,
				  v->run->internal.suberror == KVM_INTERNAL_ERROR_EMULATION
					  ? " (instruction emulation failed)"
					  : "");
			return NULL;
		case KVM_EXIT_FAIL_ENTRY:
			fail_vcpu(v, "VM entry failed, hardware reason %#llx",
				  (unsigned long long)
					  v->run->fail_entry.hardware_entry_failure_reason);
			return NULL;
		default:
			fail_vcpu(v, "unhandled KVM exit %u", v->run->exit_reason);
			return NULL;
		}
	}
	return NULL;
}
