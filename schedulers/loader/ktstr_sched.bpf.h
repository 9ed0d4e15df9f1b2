/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What every BPF scheduler of this directory shares (scx_ktstr and the test fixtures): the
 * license, the exit record, the per-CPU counters the shared loader prints, one shared DSQ
 * made in ops.init, ops.exit recording why the kernel ejected the scheduler, and the ops
 * table with those two. A scheduler lists it in `hdrs`, so the loader's generated source
 * includes it too: there it is empty.
 */
#ifndef KTSTR_SCHED_BPF_H
#define KTSTR_SCHED_BPF_H
#ifdef __bpf__

#include <scx/common.bpf.h>

/*
 * The license, the exit record (UEI), nr_counters per-CPU u64 counters and
 * ktstr_count(which, n), which adds n to one of them (the loader sums it over the CPUs).
 */
#define KTSTR_SCHED_PREAMBLE(nr_counters)                                   \
	char _license[] SEC("license") = "GPL";                             \
	UEI_DEFINE(uei);                                                    \
	struct {                                                            \
		__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);                    \
		__uint(key_size, sizeof(u32));                              \
		__uint(value_size, sizeof(u64));                            \
		__uint(max_entries, nr_counters);                           \
	} counters SEC(".maps");                                            \
	static __always_inline __attribute__((unused)) void                 \
	ktstr_count(u32 which, u64 n)                                       \
	{                                                                   \
		u64 *cnt = bpf_map_lookup_elem(&counters, &which);          \
                                                                            \
		if (cnt)                                                    \
			*cnt += n;                                          \
	}

/* prefix_init makes the shared DSQ dsq; prefix_exit records the exit for the loader. */
#define KTSTR_SCHED_INIT_EXIT(prefix, dsq)                                  \
	s32 BPF_STRUCT_OPS_SLEEPABLE(prefix##_init)                         \
	{                                                                   \
		return scx_bpf_create_dsq(dsq, -1);                         \
	}                                                                   \
	void BPF_STRUCT_OPS(prefix##_exit, struct scx_exit_info *ei)        \
	{                                                                   \
		UEI_RECORD(uei, ei);                                        \
	}

/* The struct_ops map `ops` named name_, with prefix_init, prefix_exit and the other ops given. */
#define KTSTR_SCHED_OPS(ops, prefix, name_, ...)                            \
	SCX_OPS_DEFINE(ops, .init = (void *)prefix##_init,                  \
		       .exit = (void *)prefix##_exit, .name = name_, __VA_ARGS__)

#endif /* __bpf__ */
#endif
