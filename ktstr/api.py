"""What test authors import: `from ktstr.api import *` or names from `ktstr` directly."""

from ktstr.checks import Assert, AssertResult, CgroupStats, Claims, Off, Verdict, claim
from ktstr.scenario import (Backdrop, CgroupDef, CpusetSpec, Ctx, HoldSpec, Op, Payload, Step,
                            Work, declare_scheduler, execute_defs, execute_steps, ktstr_test)
from ktstr.topology import SysTopology, Topology
from ktstr.workload import (AffinityIntent, MemPolicy, Phase, SchedPolicy, WorkloadConfig,
                            WorkloadHandle, WorkType)

__all__ = ["AffinityIntent", "Assert", "AssertResult", "Backdrop", "CgroupDef", "CgroupStats", "Claims",
           "CpusetSpec", "Ctx", "HoldSpec", "MemPolicy", "Off", "Op", "Payload", "Phase", "SchedPolicy",
           "Step", "SysTopology", "Topology", "Verdict", "Work", "WorkType", "WorkloadConfig",
           "WorkloadHandle", "claim", "declare_scheduler", "execute_defs", "execute_steps",
           "ktstr_test"]
