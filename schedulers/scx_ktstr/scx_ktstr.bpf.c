/* SPDX-License-Identifier: GPL-2.0 */
/*
 * scx_ktstr: ktstr's own example scheduler, a global weighted-vtime queue.
 *
 * Waking tasks go straight to an idle CPU's local queue when one exists; everything else
 * waits in one shared DSQ ordered by virtual time, which advances by the slice used scaled
 * by 100 / weight (so nice levels and cgroup weights matter). A task that slept keeps at
 * most half a slice of credit, so sleepers cannot bank time and then monopolise a CPU.
 */
#include "ktstr_sched.bpf.h"

#define SHARED_DSQ 0

enum { CNT_DIRECT, CNT_QUEUED, CNT_CONSUMED, NR_CNT };

KTSTR_SCHED_PREAMBLE(NR_CNT);

static u64 clock_vtime;

static bool earlier(u64 a, u64 b)
{
	return (s64)(a - b) < 0;
}

s32 BPF_STRUCT_OPS(ktstr_select_cpu, struct task_struct *p, s32 prev_cpu, u64 wake_flags)
{
	bool idle = false;
	s32 cpu = scx_bpf_select_cpu_dfl(p, prev_cpu, wake_flags, &idle);

	if (idle) {
		ktstr_count(CNT_DIRECT, 1);
		scx_bpf_dispatch(p, SCX_DSQ_LOCAL, SCX_SLICE_DFL, 0);
	}
	return cpu;
}

void BPF_STRUCT_OPS(ktstr_enqueue, struct task_struct *p, u64 enq_flags)
{
	u64 floor = clock_vtime - SCX_SLICE_DFL / 2;
	u64 vtime = p->scx.dsq_vtime;

	if (earlier(vtime, floor))
		vtime = floor;
	ktstr_count(CNT_QUEUED, 1);
	scx_bpf_dispatch_vtime(p, SHARED_DSQ, SCX_SLICE_DFL, vtime, enq_flags);
}

void BPF_STRUCT_OPS(ktstr_dispatch, s32 cpu, struct task_struct *prev)
{
	if (scx_bpf_consume(SHARED_DSQ))
		ktstr_count(CNT_CONSUMED, 1);
}

void BPF_STRUCT_OPS(ktstr_running, struct task_struct *p)
{
	if (earlier(clock_vtime, p->scx.dsq_vtime))
		clock_vtime = p->scx.dsq_vtime;
}

void BPF_STRUCT_OPS(ktstr_stopping, struct task_struct *p, bool runnable)
{
	u64 used = SCX_SLICE_DFL - p->scx.slice;

	p->scx.dsq_vtime += used * 100 / p->scx.weight;
}

void BPF_STRUCT_OPS(ktstr_enable, struct task_struct *p)
{
	p->scx.dsq_vtime = clock_vtime;
}

KTSTR_SCHED_INIT_EXIT(ktstr, SHARED_DSQ)

KTSTR_SCHED_OPS(ktstr_ops, ktstr, "ktstr", .select_cpu = (void *)ktstr_select_cpu,
		.enqueue = (void *)ktstr_enqueue, .dispatch = (void *)ktstr_dispatch,
		.running = (void *)ktstr_running, .stopping = (void *)ktstr_stopping,
		.enable = (void *)ktstr_enable);
