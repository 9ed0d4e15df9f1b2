/* A stand-in for vmlinux in the monitor's unit tests: the globals and struct shapes the
 * kernel layout reads, compiled with -g and given .BTF by pahole -J, like a real vmlinux.
 * The _Static_asserts pin the offsets the tests expect from the BTF reader. */
#include <stddef.h>

struct list_head { struct list_head *next, *prev; };
struct scx_dispatch_q { int lock; struct list_head list; unsigned int nr; unsigned int seq; };
struct scx_rq {
	struct scx_dispatch_q local_dsq;
	struct list_head runnable_list;
	unsigned long long extra_enq_flags;
	unsigned int nr_running;
	unsigned int flags;
};
struct task_struct;
struct rq {
	int __lock;
	unsigned int nr_running;
	union { unsigned long long clock; unsigned long long clock_alias; };
	struct task_struct *curr;
	struct task_struct *idle;
	struct scx_rq scx;
	int cpu;
};
struct sched_ext_entity {
	void *dsq;
	unsigned int flags;
	struct list_head runnable_node;
	unsigned long runnable_at;
};
struct task_struct {
	unsigned int __state;
	int pid;
	char comm[16];
	struct sched_ext_entity scx;
	const unsigned long *cpus_ptr;
};
enum scx_ops_enable_state { SCX_OPS_ENABLING, SCX_OPS_ENABLED, SCX_OPS_DISABLING, SCX_OPS_DISABLED };

_Static_assert(offsetof(struct rq, nr_running) == 4, "rq.nr_running");
_Static_assert(offsetof(struct rq, clock) == 8, "rq.clock (in an anonymous union)");
_Static_assert(offsetof(struct rq, curr) == 16, "rq.curr");
_Static_assert(offsetof(struct rq, idle) == 24, "rq.idle");
_Static_assert(offsetof(struct rq, scx) == 32, "rq.scx");
_Static_assert(offsetof(struct rq, scx.local_dsq.nr) == 56, "rq.scx.local_dsq.nr");
_Static_assert(offsetof(struct rq, scx.runnable_list) == 64, "rq.scx.runnable_list");
_Static_assert(offsetof(struct rq, scx.nr_running) == 88, "rq.scx.nr_running");
_Static_assert(offsetof(struct rq, cpu) == 96, "rq.cpu");
_Static_assert(offsetof(struct task_struct, pid) == 4, "task_struct.pid");
_Static_assert(offsetof(struct task_struct, comm) == 8, "task_struct.comm");
_Static_assert(offsetof(struct task_struct, scx.runnable_node) == 40, "task_struct.scx.runnable_node");
_Static_assert(offsetof(struct task_struct, scx.runnable_at) == 56, "task_struct.scx.runnable_at");
_Static_assert(offsetof(struct task_struct, cpus_ptr) == 64, "task_struct.cpus_ptr");

const char linux_banner[] = "Linux version 6.12.0-fake (ktstr@test) #1 SMP\n";
struct rq runqueues;
unsigned long __per_cpu_offset[4];
unsigned long phys_base;
unsigned long page_offset_base;
volatile unsigned long jiffies;
unsigned int nr_cpu_ids = 4;
enum scx_ops_enable_state scx_ops_enable_state_var_value;
int scx_ops_enable_state_var;
struct task_struct init_task;
