/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The userspace loader shared by ktstr's own schedulers: open the skeleton the build
 * generated (ktstr_skel.h names it), attach, print the scheduler's counters once a second,
 * and leave on SIGINT/SIGTERM or when sched_ext ejects the scheduler, reporting why.
 *
 * The sched_ext watchdog (how long a runnable task may wait before the scheduler is
 * ejected) is ops.timeout_ms, the only knob Linux 6.12 has: -w MS, or
 * $KTSTR_WATCHDOG_TIMEOUT_MS (how the guest agent asks for a test's watchdog_timeout_s), sets
 * it, and "attached" then names it so the agent can tell it was honoured.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <scx/common.h>
#include "ktstr_skel.h"

#define CAT_(a, b) a##b
#define CAT(a, b) CAT_(a, b)
#define SKEL_T struct KTSTR_SKEL
#define SKEL_FN(x) CAT(KTSTR_SKEL, x)
/* One more expansion step, so KTSTR_SKEL / KTSTR_OPS are replaced before scx's ## pasting. */
#define OPS_OPEN(ops, skel) SCX_OPS_OPEN(ops, skel)
#define OPS_LOAD(s, ops, skel, uei_) SCX_OPS_LOAD(s, ops, skel, uei_)
#define OPS_ATTACH(s, ops, skel) SCX_OPS_ATTACH(s, ops, skel)

static volatile sig_atomic_t stop_requested;

static void on_signal(int sig)
{
	(void)sig;
	stop_requested = 1;
}

static void print_counters(SKEL_T *skel)
{
	int nr_cpus = libbpf_num_possible_cpus();
	__u64 values[nr_cpus > 0 ? nr_cpus : 1];
	__u64 totals[KTSTR_NR_COUNTERS] = {};

	for (__u32 idx = 0; idx < KTSTR_NR_COUNTERS; idx++) {
		if (bpf_map_lookup_elem(bpf_map__fd(skel->maps.counters), &idx, values))
			continue;
		for (int cpu = 0; cpu < nr_cpus; cpu++)
			totals[idx] += values[cpu];
	}
	printf("%s:", KTSTR_SCHED_NAME);
	for (int i = 0; i < KTSTR_NR_COUNTERS; i++)
		printf(" %s=%llu", ktstr_counter_names[i], (unsigned long long)totals[i]);
	printf("\n");
	fflush(stdout);
}

int main(int argc, char **argv)
{
	SKEL_T *skel;
	struct bpf_link *link;
	int opt;
	__u64 exit_code;

	long watchdog_ms = -1;
	char *end;
	const char *env = getenv("KTSTR_WATCHDOG_TIMEOUT_MS");

	if (env && *env) {
		watchdog_ms = strtol(env, &end, 10);
		if (*end || watchdog_ms < 1 || watchdog_ms > 30000) {
			fprintf(stderr, "%s: KTSTR_WATCHDOG_TIMEOUT_MS=%s: watchdog timeout must be 1..30000 ms\n",
				argv[0], env);
			return 2;
		}
	}

	while ((opt = getopt(argc, argv, "hw:")) != -1) {
		if (opt == 'w') {
			watchdog_ms = strtol(optarg, &end, 10);
			if (*end || watchdog_ms < 1 || watchdog_ms > 30000) {
				fprintf(stderr, "%s: -w %s: watchdog timeout must be 1..30000 ms\n",
					argv[0], optarg);
				return 2;
			}
			continue;
		}
		fprintf(opt == 'h' ? stdout : stderr,
			"usage: %s [-h] [-w MS]\n  Loads the %s sched_ext scheduler until SIGINT/SIGTERM.\n"
			"  -w MS  sched_ext watchdog timeout in ms (ops.timeout_ms, 1..30000), over the scheduler's own\n",
			argv[0], KTSTR_SCHED_NAME);
		return opt == 'h' ? 0 : 2;
	}
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	libbpf_set_strict_mode(LIBBPF_STRICT_ALL);

	skel = OPS_OPEN(KTSTR_OPS, KTSTR_SKEL);
	if (watchdog_ms > 0)
		skel->struct_ops.KTSTR_OPS->timeout_ms = watchdog_ms;
	OPS_LOAD(skel, KTSTR_OPS, KTSTR_SKEL, uei);
	link = OPS_ATTACH(skel, KTSTR_OPS, KTSTR_SKEL);
	if (watchdog_ms > 0)
		printf("%s: attached (watchdog %ld ms)\n", KTSTR_SCHED_NAME, watchdog_ms);
	else
		printf("%s: attached\n", KTSTR_SCHED_NAME);
	fflush(stdout);

	while (!stop_requested && !UEI_EXITED(skel, uei)) {
		print_counters(skel);
		sleep(1);
	}
	print_counters(skel);
	bpf_link__destroy(link);
	exit_code = UEI_REPORT(skel, uei);
	SKEL_FN(__destroy)(skel);
	return exit_code ? 1 : 0;
}
