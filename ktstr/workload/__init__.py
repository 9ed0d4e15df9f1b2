"""Workers: forked processes running a work type, with per-worker telemetry."""

from ktstr.workload.handle import WorkloadHandle
from ktstr.workload.types import WorkerReport, WorkloadConfig, WorkType

__all__ = ["WorkType", "WorkloadConfig", "WorkloadHandle", "WorkerReport"]
