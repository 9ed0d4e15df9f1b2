"""Test and scheduler declarations.

The host lists tests by reading the decorator's literal keyword arguments from the source
(ktstr.host.discovery), so keep topology/duration arguments literal.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Optional

from ktstr.checks.assertions import Assert


@dataclass(frozen=True)
class SchedulerDef:
    name: str
    binary: Optional[str] = None  # None: EEVDF (the kernel's default scheduler)
    args: tuple = ()
    ops_name: str = ""
    topology: str = ""
    assert_: Optional[Assert] = None


EEVDF = SchedulerDef(name="eevdf")


def declare_scheduler(name: str, binary: Optional[str] = None, args=(), ops_name: str = "",
                      topology: str = "", assert_: Optional[Assert] = None) -> SchedulerDef:
    return SchedulerDef(name, binary, tuple(args), ops_name or name, topology, assert_)


@dataclass
class TestEntry:
    name: str
    func: Callable
    numa_nodes: int = 1
    llcs: int = 1
    cores: int = 2
    threads: int = 1
    duration: float = 2.0
    memory_mib: int = 0
    scheduler: Optional[SchedulerDef] = None
    assert_: Optional[Assert] = None
    expect_fail: str = ""
    extra: dict = field(default_factory=dict)

    @property
    def topology(self) -> str:
        return f"{self.numa_nodes}n{self.llcs}l{self.cores}c{self.threads}t"


REGISTRY: dict[str, TestEntry] = {}


def ktstr_test(numa_nodes: int = 1, llcs: int = 1, cores: int = 2, threads: int = 1,
               duration: float = 2.0, memory_mib: int = 0, scheduler: Optional[SchedulerDef] = None,
               assert_: Optional[Assert] = None, expect_fail: str = "", **extra):
    """Register `fn(ctx) -> AssertResult` as a ktstr test."""

    def register(fn: Callable) -> Callable:
        entry = TestEntry(fn.__name__, fn, numa_nodes, llcs, cores, threads, duration, memory_mib,
                          scheduler, assert_, expect_fail, extra)
        REGISTRY[fn.__name__] = entry
        fn.ktstr_entry = entry
        return fn

    return register
