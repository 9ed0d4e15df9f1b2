"""Ctx: what a test function gets inside the VM."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Optional

from ktstr.checks.assertions import Assert
from ktstr.scenario.cgroups import CgroupManager
from ktstr.topology import SysTopology


@dataclass
class Ctx:
    cgroups: CgroupManager
    topo: SysTopology
    duration: float = 2.0
    assert_: Assert = field(default_factory=Assert.default_checks)
    scheduler: str = "eevdf"
    # Set by the agent: returns why the scheduler is no longer attached, or None.
    scheduler_problem: Callable[[], Optional[str]] = lambda: None
    log: Callable[[str], None] = print
