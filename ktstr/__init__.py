"""ktstr: a test harness for Linux process schedulers (sched_ext).

Test authors import from here (names load lazily: the host side and the guest agent import
only what they use, which matters for start-up time in an emulated guest).
"""

from importlib import import_module

_API = {"AffinityIntent", "Assert", "AssertResult", "Backdrop", "CgroupDef", "CgroupStats", "Claims",
        "CpusetSpec", "Ctx", "HoldSpec", "MemPolicy", "Off", "Op", "Payload", "Phase", "SchedPolicy",
        "Step", "SysTopology", "Topology", "Verdict", "Work", "WorkType", "WorkloadConfig",
        "WorkloadHandle", "claim", "declare_scheduler", "execute_defs", "execute_steps",
        "ktstr_test"}


def __getattr__(name):
    if name in _API:
        return getattr(import_module("ktstr.api"), name)
    if name == "canned":  # ready-made scenarios (ktstr/canned.py)
        return import_module("ktstr.canned")
    raise AttributeError(f"module 'ktstr' has no attribute {name!r}")
