/* SPDX-License-Identifier: GPL-2.0 */
/*
 * ktstr-vmm: run a guest on the VMM from the command line (debugging, tests, benchmarks).
 *   ktstr-vmm [options] GUEST.bin                     a synthetic guest
 *   ktstr-vmm [options] --kernel bzImage [--initrd F] [--cmdline S]
 *   ktstr-vmm [--topology T] [--memory-mib N] --dump-acpi DIR   the ACPI tables as files
 * Options: --topology 1n2l4c2t, --memory-mib N, --timeout-ms N, --com2 FILE, --sipi.
 * COM1 goes to stdout; the exit report goes to stderr as key=value lines.
 * Exit status: the guest's debug-exit status, 0 for a Linux shutdown/reboot, 124 on timeout,
 * 125 on any other failure.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>
#include "../include/ktstr_vmm.h"

static const char *kind_name(enum ktstr_exit_kind k)
{
	switch (k) {
	case KTSTR_EXIT_DEBUG_PORT:
		return "debug_exit";
	case KTSTR_EXIT_TIMEOUT:
		return "timeout";
	case KTSTR_EXIT_SHUTDOWN:
		return "shutdown";
	case KTSTR_EXIT_INTERNAL_ERROR:
		return "internal_error";
	case KTSTR_EXIT_SETUP_ERROR:
		return "setup_error";
	case KTSTR_EXIT_STOPPED:
		return "stopped";
	}
	return "unknown";
}

static int usage(const char *argv0)
{
	fprintf(stderr,
		"usage: %s [--topology NnNlNcNt] [--memory-mib N] [--timeout-ms N] "
		"[--com2 FILE] [--sipi] (GUEST.bin | --kernel bzImage [--initrd FILE] "
		"[--cmdline STRING] | --dump-acpi DIR)\n",
		argv0);
	return 125;
}

static void print_report(const struct ktstr_vm_report *r)
{
	fprintf(stderr, "exit=%s\nstatus=%d\nvcpus=%u\nsetup_us=%llu\nrun_us=%llu\nrip=0x%llx\n",
		kind_name(r->kind), r->exit_status, r->vcpus,
		(unsigned long long)(r->setup_ns / 1000), (unsigned long long)(r->run_ns / 1000),
		(unsigned long long)r->rip);
	if (r->insn_len) {
		fprintf(stderr, "insn=");
		for (uint32_t i = 0; i < r->insn_len; i++)
			fprintf(stderr, "%02x", r->insn[i]);
		fprintf(stderr, "\n");
	}
	for (uint32_t i = 0; i < r->nr_stats; i++)
		fprintf(stderr, "stat.%s=%llu\n", r->stats[i].name,
			(unsigned long long)r->stats[i].value);
	fprintf(stderr, "message=%s\n", r->message);
}

int main(int argc, char **argv)
{
	struct ktstr_vm_config cfg = { .topo = { 1, 1, 1, 1 },
				       .memory_mib = 64,
				       .console_fd = 1,
				       .com2_fd = -1,
				       .timeout_ms = 10000 };
	const char *com2 = NULL, *dump_acpi = NULL;
	struct ktstr_vm_report r;
	int i, rc;

	for (i = 1; i < argc && strncmp(argv[i], "--", 2) == 0; i += 2) {
		const char *opt = argv[i], *val = argv[i + 1];

		if (!strcmp(opt, "--sipi")) {
			cfg.flags |= KTSTR_VM_SIPI;
			i--;
			continue;
		}
		if (i + 1 >= argc)
			return usage(argv[0]);
		if (!strcmp(opt, "--topology")) {
			char tail;

			if (sscanf(val, "%un%ul%uc%ut%c", &cfg.topo.numa_nodes, &cfg.topo.llcs,
				   &cfg.topo.cores_per_llc, &cfg.topo.threads_per_core,
				   &tail) != 4) {
				fprintf(stderr,
					"ktstr-vmm: bad --topology %s: expected e.g. 1n2l4c2t\n",
					val);
				return 125;
			}
		} else if (!strcmp(opt, "--memory-mib")) {
			cfg.memory_mib = strtoull(val, NULL, 0);
		} else if (!strcmp(opt, "--timeout-ms")) {
			cfg.timeout_ms = strtoul(val, NULL, 0);
		} else if (!strcmp(opt, "--kernel")) {
			cfg.kernel_path = val;
		} else if (!strcmp(opt, "--initrd")) {
			cfg.initrd_path = val;
		} else if (!strcmp(opt, "--cmdline")) {
			cfg.cmdline = val;
		} else if (!strcmp(opt, "--com2")) {
			com2 = val;
		} else if (!strcmp(opt, "--dump-acpi")) {
			dump_acpi = val;
		} else {
			return usage(argv[0]);
		}
	}
	if (dump_acpi)
		return i == argc ? ktstr_acpi_dump(&cfg.topo, cfg.memory_mib, dump_acpi)
				 : usage(argv[0]);
	if (cfg.kernel_path ? i != argc : i != argc - 1)
		return usage(argv[0]);
	if (!cfg.kernel_path)
		cfg.guest_path = argv[i];
	if (com2) {
		cfg.com2_fd = open(com2, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		if (cfg.com2_fd < 0) {
			perror(com2);
			return 125;
		}
	}
	fflush(stdout);
	rc = ktstr_vm_run(&cfg, &r);
	/* On a serial line (the nested test bed: L1's UARTs carry L2's COM1 and COM2 out),
	 * wait until every byte has left before L1 powers off. */
	if (isatty(1))
		tcdrain(1);
	if (cfg.com2_fd >= 0) {
		if (isatty(cfg.com2_fd))
			tcdrain(cfg.com2_fd);
		close(cfg.com2_fd);
	}
	if (rc < 0) {
		fprintf(stderr, "exit=setup_error\nmessage=%s\n", r.message);
		return 125;
	}
	print_report(&r);
	if (isatty(2))
		tcdrain(2);
	if (r.kind == KTSTR_EXIT_DEBUG_PORT)
		return r.exit_status;
	if (r.kind == KTSTR_EXIT_SHUTDOWN && cfg.kernel_path)
		return 0;
	return r.kind == KTSTR_EXIT_TIMEOUT ? 124 : 125;
}
