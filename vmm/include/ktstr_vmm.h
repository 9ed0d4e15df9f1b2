/* SPDX-License-Identifier: GPL-2.0 */
/*
 * ktstr's VMM: the public C API. ktstr/host/engines/vmm_binding.py mirrors it as its cffi cdef (a test
 * compares the struct sizes), so keep it plain: fixed-width fields, no macros in structs.
 *
 * Two kinds of guest:
 *   - Linux: a bzImage (+ initrd + command line) entered at its 64-bit entry point per the
 *     x86 boot protocol, with boot_params, an e820 map and ACPI tables describing the topology;
 *     in-kernel irqchip + PIT; APs wait for INIT/SIPI; COM1 = console, COM2 = result stream.
 *   - synthetic: a flat 64-bit binary loaded at KTSTR_GUEST_LOAD_ADDR, entered on every vCPU
 *     (rdi = vCPU index) or, with KTSTR_VM_SIPI, on the BSP only (APs wait for INIT/SIPI).
 */
#ifndef KTSTR_VMM_H
#define KTSTR_VMM_H

#include <stdint.h>

struct ktstr_topology {
	uint32_t numa_nodes;
	uint32_t llcs; /* in total, spread evenly over the nodes */
	uint32_t cores_per_llc;
	uint32_t threads_per_core;
};

/* ktstr_vm_config.flags */
#define KTSTR_VM_SIPI 1u      /* synthetic: in-kernel irqchip, only the BSP starts */
#define KTSTR_VM_MEMORY_FD 2u /* guest RAM is memory_fd (MAP_SHARED), for the host monitor */

struct ktstr_vm_config {
	struct ktstr_topology topo;
	uint64_t memory_mib;
	const char *kernel_path; /* bzImage: boots Linux (guest_path must be NULL) */
	const char *initrd_path; /* optional, Linux only */
	const char *cmdline;     /* Linux only */
	const char *guest_path;  /* flat 64-bit binary, loaded at KTSTR_GUEST_LOAD_ADDR */
	int console_fd;          /* COM1 output (-1: dropped) */
	int com2_fd;             /* COM2 output, the result stream (-1: dropped) */
	uint32_t timeout_ms;     /* 0: none */
	uint32_t flags;
	int memory_fd;           /* with KTSTR_VM_MEMORY_FD: a file of memory_mib MiB backing
				  * guest RAM (low RAM, then RAM above 4 GiB), shared so the
				  * host can read it while the guest runs */
};

enum ktstr_exit_kind {
	KTSTR_EXIT_DEBUG_PORT = 1, /* the guest wrote its status to KTSTR_DEBUG_EXIT_PORT */
	KTSTR_EXIT_TIMEOUT,
	KTSTR_EXIT_SHUTDOWN,       /* triple fault / shutdown / i8042 reset (Linux reboot) */
	KTSTR_EXIT_INTERNAL_ERROR, /* KVM could not run the guest; rip/insn say where */
	KTSTR_EXIT_SETUP_ERROR,    /* the VM could not be created; message says why */
	KTSTR_EXIT_STOPPED,        /* ktstr_vm_stop() ended it */
};

#define KTSTR_MAX_STATS 12

/* A KVM statistic summed over every vCPU (from KVM_GET_STATS_FD, where the kernel has it). */
struct ktstr_vm_stat {
	char name[48];
	uint64_t value;
};

struct ktstr_vm_report {
	enum ktstr_exit_kind kind;
	int32_t exit_status; /* the value written to the debug-exit port */
	uint64_t rip;        /* internal errors / shutdown: the instruction pointer */
	uint8_t insn[16];    /* internal errors: the bytes at rip, when they could be read */
	uint32_t insn_len;
	uint32_t vcpus;
	uint64_t setup_ns;   /* start of ktstr_vm_run to the first KVM_RUN */
	uint64_t run_ns;     /* first KVM_RUN to the end of teardown */
	int32_t error_errno; /* setup errors: errno of the call named in message */
	uint32_t nr_stats;
	struct ktstr_vm_stat stats[KTSTR_MAX_STATS];
	char message[256];
};

#define KTSTR_GUEST_LOAD_ADDR 0x100000ULL
#define KTSTR_DEBUG_EXIT_PORT 0xf4
#define KTSTR_COM1_PORT 0x3f8
#define KTSTR_COM2_PORT 0x2f8

/* Build a VM from cfg, run it to its end and fill report. Returns 0 when the VM ran (see
 * report->kind for how it ended), -1 when it could not be set up (report->message). */
int ktstr_vm_run(const struct ktstr_vm_config *cfg, struct ktstr_vm_report *report);

/* End the VM that ktstr_vm_run is running in this process (called from another thread; not
 * from a signal handler): it ends as KTSTR_EXIT_STOPPED, its vCPUs kicked out of KVM_RUN, and
 * ktstr_vm_run returns. A VM still being set up is not yet stoppable: returns 1 if a running
 * VM was told to stop, 0 if none runs (the caller asks again until ktstr_vm_run returns). */
int ktstr_vm_stop(void);

/* APIC ID of a vCPU under a topology: thread, core and LLC fields packed in bit ranges
 * sized to the next power of two (as CPUID 0xB/0x1F describe them). UINT32_MAX for a topology
 * the VMM refuses (a zero count, uneven nodes, more than 512 vCPUs). */
uint32_t ktstr_apic_id(const struct ktstr_topology *topo, uint32_t cpu);

/* Build the ACPI tables a guest with this topology and memory would get (no VM needed) and
 * write each to DIR/<SIGNATURE>.dat (RSDP.dat for the RSDP), walking RSDP -> XSDT -> tables
 * and FADT -> DSDT as a guest would. Returns 0, or 125 after printing why to stderr. */
int ktstr_acpi_dump(const struct ktstr_topology *topo, uint64_t memory_mib, const char *dir);

/* sizeof the two structs the binding passes, so it can check its cdef against this build. */
uint32_t ktstr_vmm_abi_size(uint32_t which); /* 0: config, 1: report */

#endif
