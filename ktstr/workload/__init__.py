"""Workers: forked processes running a work type, with per-worker telemetry."""

from ktstr.workload.handle import WorkloadHandle
from ktstr.workload.phases import Phase
from ktstr.workload.placement import AffinityIntent, MemPolicy, SchedPolicy
from ktstr.workload.types import ORIGINAL_NAMES, WorkerReport, WorkloadConfig, WorkType, WorkTypeSpec

__all__ = ["AffinityIntent", "MemPolicy", "ORIGINAL_NAMES", "Phase", "SchedPolicy", "WorkType",
           "WorkTypeSpec", "WorkloadConfig", "WorkloadHandle", "WorkerReport"]
