"""Workers: forked processes running a work type, with per-worker telemetry."""

from ktstr.workload.handle import WorkloadHandle
from ktstr.workload.placement import AffinityIntent, MemPolicy, SchedPolicy
from ktstr.workload.types import ORIGINAL_NAMES, Phase, WorkerReport, WorkloadConfig, WorkType

__all__ = ["AffinityIntent", "MemPolicy", "ORIGINAL_NAMES", "Phase", "SchedPolicy", "WorkType",
           "WorkloadConfig", "WorkloadHandle", "WorkerReport"]
