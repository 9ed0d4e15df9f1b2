"""A test's memory_mib sizes the VM it runs in (the host groups tests into VMs by it)."""

from ktstr import CgroupDef, Claims, claim, execute_defs, ktstr_test


def _mem_total_mib() -> int:
    with open("/proc/meminfo") as f:
        return int(next(line for line in f if line.startswith("MemTotal:")).split()[1]) // 1024


def _memory_between(ctx, low_mib: int, high_mib: int):
    # MemTotal is the VM's size less what the kernel keeps for itself, hence the range.
    result = execute_defs(ctx, [CgroupDef("cg_0").workers(1)])
    v = Claims()
    claim(v, _mem_total_mib()).between(low_mib, high_mib)
    return v.into_result(result)


@ktstr_test(llcs=1, cores=2, duration=0.5, memory_mib=768)
def gets_768_mib(ctx):
    return _memory_between(ctx, 600, 768)


@ktstr_test(llcs=1, cores=2, duration=0.5, memory_mib=1536)
def gets_1536_mib(ctx):
    return _memory_between(ctx, 1300, 1536)
