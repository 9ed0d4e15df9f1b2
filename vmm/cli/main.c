/* SPDX-License-Identifier: GPL-2.0 */
/*
 * ktstr-vmm: run a guest on the VMM from the command line (debugging, tests, benchmarks).
 *   ktstr-vmm [--topology 1n2l4c2t] [--memory-mib 64] [--timeout-ms 5000] GUEST.bin
 * COM1 goes to stdout; the exit report goes to stderr as key=value lines.
 * Exit status: the guest's debug-exit status, 124 on timeout, 125 on any other failure.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "../include/ktstr_vmm.h"

static const char *kind_name(enum ktstr_exit_kind k)
{
	switch (k) {
	case KTSTR_EXIT_DEBUG_PORT: return "debug_exit";
	case KTSTR_EXIT_TIMEOUT: return "timeout";
	case KTSTR_EXIT_SHUTDOWN: return "shutdown";
	case KTSTR_EXIT_INTERNAL_ERROR: return "internal_error";
	case KTSTR_EXIT_SETUP_ERROR: return "setup_error";
	}
	return "unknown";
}

static int usage(const char *argv0)
{
	fprintf(stderr, "usage: %s [--topology NnNlNcNt] [--memory-mib N] [--timeout-ms N] GUEST.bin\n",
		argv0);
	return 125;
}

int main(int argc, char **argv)
{
	struct ktstr_vm_config cfg = { .topo = { 1, 1, 1, 1 }, .memory_mib = 64, .console_fd = 1,
				       .timeout_ms = 10000 };
	struct ktstr_vm_report r;
	int i;

	for (i = 1; i < argc && strncmp(argv[i], "--", 2) == 0; i += 2) {
		if (i + 1 >= argc)
			return usage(argv[0]);
		if (!strcmp(argv[i], "--topology")) {
			char tail;

			if (sscanf(argv[i + 1], "%un%ul%uc%ut%c", &cfg.topo.numa_nodes, &cfg.topo.llcs,
				   &cfg.topo.cores_per_llc, &cfg.topo.threads_per_core, &tail) != 4) {
				fprintf(stderr, "ktstr-vmm: bad --topology %s: expected e.g. 1n2l4c2t\n",
					argv[i + 1]);
				return 125;
			}
		} else if (!strcmp(argv[i], "--memory-mib")) {
			cfg.memory_mib = strtoull(argv[i + 1], NULL, 0);
		} else if (!strcmp(argv[i], "--timeout-ms")) {
			cfg.timeout_ms = strtoul(argv[i + 1], NULL, 0);
		} else {
			return usage(argv[0]);
		}
	}
	if (i != argc - 1)
		return usage(argv[0]);
	cfg.guest_path = argv[i];
	fflush(stdout);
	if (ktstr_vm_run(&cfg, &r) < 0) {
		fprintf(stderr, "exit=setup_error\nmessage=%s\n", r.message);
		return 125;
	}
	fprintf(stderr, "exit=%s\nstatus=%d\nvcpus=%u\nsetup_us=%llu\nrun_us=%llu\nrip=0x%llx\nmessage=%s\n",
		kind_name(r.kind), r.exit_status, r.vcpus, (unsigned long long)(r.setup_ns / 1000),
		(unsigned long long)(r.run_ns / 1000), (unsigned long long)r.rip, r.message);
	if (r.kind == KTSTR_EXIT_DEBUG_PORT)
		return r.exit_status;
	return r.kind == KTSTR_EXIT_TIMEOUT ? 124 : 125;
}
