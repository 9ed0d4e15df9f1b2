"""Scenario engine: declarative cgroups, ops and steps executed inside the VM."""

from ktstr.scenario.cgroups import CgroupError, CgroupManager
from ktstr.scenario.ctx import Ctx
from ktstr.scenario.execute import ScenarioRun, execute_defs, execute_steps
from ktstr.scenario.model import Backdrop, CgroupDef, CpusetSpec, HoldSpec, Op, Payload, Step, Work
from ktstr.scenario.registry import EEVDF, REGISTRY, SchedulerDef, TestEntry, declare_scheduler, ktstr_test

__all__ = ["Backdrop", "CgroupDef", "CgroupError", "CgroupManager", "CpusetSpec", "Ctx", "EEVDF",
           "HoldSpec", "Op", "Payload", "REGISTRY", "ScenarioRun", "SchedulerDef", "Step", "TestEntry",
           "Work", "declare_scheduler", "execute_defs", "execute_steps", "ktstr_test"]
