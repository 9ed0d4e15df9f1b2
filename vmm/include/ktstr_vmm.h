/* SPDX-License-Identifier: GPL-2.0 */
/*
 * ktstr's VMM: the public C API (also the cffi cdef of the Python binding to come).
 *
 * Status: the core (VM + memory, vCPU threads entering 64-bit long mode, per-vCPU CPUID
 * topology, COM1 console, debug-exit port, watchdog). Linux boot protocol, ACPI tables,
 * INIT/SIPI bring-up and the in-kernel irqchip are still to come.
 */
#ifndef KTSTR_VMM_H
#define KTSTR_VMM_H

#include <stdint.h>

struct ktstr_topology {
	uint32_t numa_nodes;
	uint32_t llcs;           /* in total, spread evenly over the nodes */
	uint32_t cores_per_llc;
	uint32_t threads_per_core;
};

struct ktstr_vm_config {
	struct ktstr_topology topo;
	uint64_t memory_mib;
	const char *guest_path;  /* flat 64-bit binary, loaded at KTSTR_GUEST_LOAD_ADDR */
	int console_fd;          /* COM1 output goes here (whole lines per vCPU) */
	uint32_t timeout_ms;     /* 0: none */
};

enum ktstr_exit_kind {
	KTSTR_EXIT_DEBUG_PORT = 1, /* the guest wrote its status to KTSTR_DEBUG_EXIT_PORT */
	KTSTR_EXIT_TIMEOUT,
	KTSTR_EXIT_SHUTDOWN,       /* triple fault / shutdown */
	KTSTR_EXIT_INTERNAL_ERROR, /* KVM could not run the guest; rip/insn say where */
	KTSTR_EXIT_SETUP_ERROR,    /* the VM could not be created; message says why */
};

struct ktstr_vm_report {
	enum ktstr_exit_kind kind;
	int32_t exit_status;     /* the value written to the debug-exit port */
	uint64_t rip;            /* internal errors: the failing instruction pointer */
	uint32_t vcpus;
	uint64_t setup_ns;       /* process start of ktstr_vm_run to first KVM_RUN */
	uint64_t run_ns;
	char message[256];
};

#define KTSTR_GUEST_LOAD_ADDR 0x100000ULL
#define KTSTR_DEBUG_EXIT_PORT 0xf4
#define KTSTR_COM1_PORT 0x3f8

/* Build a VM from cfg, run it to its end and fill report. Returns 0 when the VM ran (see
 * report->kind for how it ended), -1 when it could not be set up (report->message). */
int ktstr_vm_run(const struct ktstr_vm_config *cfg, struct ktstr_vm_report *report);

/* APIC ID of a vCPU under a topology: thread, core and LLC fields packed in bit ranges
 * sized to the next power of two (as CPUID 0xB/0x1F describe them). */
uint32_t ktstr_apic_id(const struct ktstr_topology *topo, uint32_t cpu);

#endif
