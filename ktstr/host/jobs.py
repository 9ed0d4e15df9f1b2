"""What a VM runs, as types (GuestJob): Python scenarios (the guest agent runs @ktstr_test
functions), a command (a program such as the upstream sched_ext selftests runner, judged
from its console), or a one-liner (`ktstr shell --exec CMD`: the agent runs a shell command
and reports its exit status). The runner's boot loop asks a job for its boots, the layer
each boot gets and the outcomes of each boot; a new kind of job is a new class here.

Named GuestJob, not Payload: ktstr.scenario.model.Payload is the original ktstr's word for a
benchmark program a scenario runs (ktstr/payloads.py), part of the public API.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import ClassVar, Optional, Protocol

from ktstr.host.discovery import DeclaredTest
from ktstr.host.engines import BootResult
from ktstr.host.evaluate import evaluate
from ktstr.host.plan import PlannedBoot, layer_files, one_boot, plan_boots, run_config
from ktstr.host.run_layer import cpio_newc, write_run_layer
from ktstr.wire.messages import GuestRun, decode
from ktstr.wire.results import TestOutcome
from ktstr.wire.defaults import SELFTESTS, TEST, JobDefaults
from ktstr.wire.run_config import EEVDF, EXEC_TEST, GuestOptions, SchedulerSpec


class GuestJob(Protocol):
    # The job kind's defaults (ktstr.wire.defaults): what an unset timeout or memory means.
    JOB: ClassVar[JobDefaults]

    def names(self) -> list[str]:
        """The test names known before booting (for verdicts when no VM could start)."""
        ...

    def shard(self, index: int, total: int) -> Optional[GuestJob]:
        """This payload's part in Bazel shard `index` of `total`; None when it has none."""
        ...

    def plan(self, topology_override: str) -> list[PlannedBoot]: ...

    def write_layer(self, boot_dir: Path, boot: PlannedBoot, suite: str, emulated: bool) -> Path:
        """The cpio layer this boot gets on top of the base initramfs."""
        ...

    def judge(self, boot: PlannedBoot, result: BootResult) -> tuple[list[TestOutcome], GuestRun]: ...


@dataclass(frozen=True)
class Scenarios:
    """@ktstr_test functions, run by the guest agent, reporting over the result stream."""

    JOB: ClassVar[JobDefaults] = TEST

    tests: list[DeclaredTest]
    scheduler: SchedulerSpec = EEVDF
    options: GuestOptions = field(default_factory=GuestOptions)  # run.json's target-chosen fields

    def names(self) -> list[str]:
        return [t.name for t in self.tests]

    def shard(self, index: int, total: int) -> Optional[Scenarios]:
        # Test functions are dealt round-robin over the shards, each booting its own VMs.
        mine = [t for i, t in enumerate(self.tests) if i % total == index]
        return replace(self, tests=mine) if mine else None

    def plan(self, topology_override: str) -> list[PlannedBoot]:
        return plan_boots(self.tests, topology_override)

    def write_layer(self, boot_dir: Path, boot: PlannedBoot, suite: str, emulated: bool) -> Path:
        config = run_config(suite, boot.topology, boot.tests, self.scheduler, self.options, emulated, boot.result_key)
        return write_run_layer(boot_dir / "run-layer.cpio", config.to_json(),
                               layer_files(boot.tests, self.scheduler))

    def judge(self, boot: PlannedBoot, result: BootResult) -> tuple[list[TestOutcome], GuestRun]:
        guest = decode(result.result_stream, result.result_stream_elided, boot.result_key)
        return evaluate([t.name for t in boot.tests], result, guest, boot.topology), guest


@dataclass(frozen=True)
class Command:
    """A program run as the guest's payload (a busybox /init runs it with its output on the
    console), judged from that console: today the upstream sched_ext selftests runner
    (selftests.evaluate_selftests)."""

    JOB: ClassVar[JobDefaults] = SELFTESTS

    binary: Path
    args: tuple[str, ...] = ()

    def names(self) -> list[str]:
        return []

    def shard(self, index: int, total: int) -> Optional[Command]:
        return self if index == 0 else None  # one program run: it all happens in shard 0

    def plan(self, topology_override: str) -> list[PlannedBoot]:
        return one_boot(topology_override)

    def write_layer(self, boot_dir: Path, boot: PlannedBoot, suite: str, emulated: bool) -> Path:
        from ktstr.host.command_layer import command_layer

        boot_dir.mkdir(parents=True, exist_ok=True)
        layer = boot_dir / "command-layer.cpio"
        layer.write_bytes(cpio_newc(command_layer(self.binary, self.args)))
        return layer

    def judge(self, boot: PlannedBoot, result: BootResult) -> tuple[list[TestOutcome], GuestRun]:
        from ktstr.host.selftests import evaluate_selftests

        return evaluate_selftests(result), GuestRun()



@dataclass(frozen=True)
class Exec:
    """One shell command in the test VM (kernel, topology, scheduler attached), run by the
    guest agent (ktstr.guest.shell.run_command) and judged like a test named "exec": the
    command's exit status is its verdict, and every kernel splat, sched_ext exit or crash
    during the boot is a finding of it, as for any test."""

    JOB: ClassVar[JobDefaults] = TEST

    command: str
    scheduler: SchedulerSpec = EEVDF
    options: GuestOptions = field(default_factory=GuestOptions)

    def names(self) -> list[str]:
        return [EXEC_TEST]

    def shard(self, index: int, total: int) -> Optional[Exec]:
        return self if index == 0 else None

    def plan(self, topology_override: str) -> list[PlannedBoot]:
        return one_boot(topology_override)

    def write_layer(self, boot_dir: Path, boot: PlannedBoot, suite: str, emulated: bool) -> Path:
        config = replace(run_config(suite, boot.topology, [], self.scheduler, self.options, emulated, boot.result_key),
                         mode="exec", command=self.command)
        return write_run_layer(boot_dir / "run-layer.cpio", config.to_json(), layer_files([], self.scheduler))

    def judge(self, boot: PlannedBoot, result: BootResult) -> tuple[list[TestOutcome], GuestRun]:
        guest = decode(result.result_stream, result.result_stream_elided, boot.result_key)
        return evaluate(self.names(), result, guest, boot.topology), guest
