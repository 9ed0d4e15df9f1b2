/* SPDX-License-Identifier: GPL-2.0 */
/* The VM and its vCPUs, shared by vm.c (build, run, tear down) and vcpu.c (the run loop). */
#ifndef KTSTR_VM_H
#define KTSTR_VM_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include "devices/devices.h"
#include "devices/pio.h"
#include "include/ktstr_vmm.h"

struct vm;

struct vcpu {
	struct vm *vm;
	uint32_t index;
	int fd;
	struct kvm_run *run;
	pthread_t thread;
	int started;
};

struct vm {
	const struct ktstr_vm_config *cfg;
	int kvm_fd, vm_fd;
	int irqchip; /* in-kernel LAPIC/IOAPIC/PIC: APs wait for INIT/SIPI */
	uint8_t *mem;
	uint64_t mem_size;
	size_t run_size;
	uint32_t nr_vcpus;
	struct vcpu *vcpus;
	struct pio_devices dev; /* every port-I/O device's state (devices/devices.c's table) */
	struct pio_bus pio;     /* every port-I/O device; fixed before the vCPUs start */
	pthread_mutex_t lock;
	pthread_cond_t cond;
	/* Read by every vCPU thread without the lock: atomics. Written under the lock. */
	atomic_int ended;
	atomic_uint halted;
	_Atomic uint64_t first_run_ns;
	struct ktstr_vm_report *report;
};

uint64_t ktstr_now_ns(void);
/* Record how the VM ended (the first reason wins) and wake the watchdog. */
void ktstr_end_vm(struct vm *vm, enum ktstr_exit_kind kind, int32_t status, const char *msg);
/* Host pointer for len bytes of guest physical memory at gpa, or NULL. */
uint8_t *ktstr_gpa(struct vm *vm, uint64_t gpa, uint64_t len);
/* The vCPU thread (vcpu.c). */
void *ktstr_vcpu_loop(void *arg);

#endif
