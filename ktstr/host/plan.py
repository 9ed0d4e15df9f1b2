"""Plan the boots of a scenario run and write what each boot's guest gets.

One VM boots per distinct topology among the selected tests (tests sharing a topology share
a VM: a boot costs ~2 s under TCG, a scenario 1-2 s), in first-seen order. Each boot gets a
per-run cpio layer on top of the base initramfs: /ktstr/run.json (ktstr.wire.run_config),
the test sources and the scheduler binary with its shared-library closure.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Optional, Sequence

from ktstr.host.discovery import DeclaredTest
from ktstr.host.run_layer import HostPath, LayerFile, library_files
from ktstr.topology import Topology
from ktstr.wire.frames import KEY_BYTES
from ktstr.wire.defaults import DEFAULT_TOPOLOGY
from ktstr.wire.run_config import GuestOptions, RunConfig, SchedulerSpec, TestRef

GUEST_TEST_DIR = "ktstr/tests"
GUEST_SCHED_DIR = "ktstr/sched"


@dataclass(frozen=True)
class PlannedBoot:
    topology: str  # canonical shape, e.g. "1n2l2c1t"
    tests: list[DeclaredTest]
    memory_mib: Optional[int] = None  # the tests' own memory_mib; None: the request's
    # This boot's result key: the agent signs its frames with it, the host checks them.
    # Fresh per boot, so no frame of another boot (or run) is taken for this one's.
    result_key: bytes = field(default_factory=lambda: os.urandom(KEY_BYTES), compare=False, repr=False)


def plan_boots(tests: Sequence[DeclaredTest], topology_override: str) -> list[PlannedBoot]:
    """Group tests by the topology and memory they run on, in first-seen order
    (deterministic)."""
    groups: dict[tuple[str, Optional[int]], list[DeclaredTest]] = {}
    for t in tests:
        topo = topology_override or t.topology_string() or DEFAULT_TOPOLOGY
        groups.setdefault((str(Topology.parse(topo)), t.memory_mib()), []).append(t)
    return [PlannedBoot(topo, ts, mem) for (topo, mem), ts in groups.items()]


def one_boot(topology_override: str) -> list[PlannedBoot]:
    """The plan of a payload that runs in one VM: the given shape, else the default."""
    return [PlannedBoot(str(Topology.parse(topology_override or DEFAULT_TOPOLOGY)), [])]


def guest_test_path(src: Path) -> str:
    return f"{GUEST_TEST_DIR}/{src.name}"


def run_config(suite: str, topology: str, tests: Sequence[DeclaredTest], scheduler: SchedulerSpec,
               options: Optional[GuestOptions] = None, emulated: bool = True,
               result_key: bytes = b"") -> RunConfig:
    """The /ktstr/run.json of one boot; the scheduler's binary at its guest path."""
    sched = None
    if not scheduler.is_eevdf:
        sched = replace(scheduler, binary=f"/{GUEST_SCHED_DIR}/{Path(str(scheduler.binary)).name}",
                        runtime_files=())
    return RunConfig(suite=suite, topology=topology, emulated=emulated,
                     tests=[TestRef(t.name, "/" + guest_test_path(t.source)) for t in tests],
                     scheduler=sched, result_key=result_key.hex(),
                     **(options or GuestOptions()).option_values())


def ready_config(topology: str) -> RunConfig:
    """The run.json of a snapshot's template boot (ktstr.host.snapshot): no tests and no key;
    its agent waits at the ready point for each clone's own run.json."""
    return RunConfig(suite="snapshot", topology=topology, mode="ready")


def layer_files(tests: Sequence[DeclaredTest], scheduler: SchedulerSpec) -> list[LayerFile | HostPath]:
    """The test sources and the scheduler (binary, runtime files, shared libraries)."""
    files: dict[str, LayerFile] = {}
    for t in tests:
        files[guest_test_path(t.source)] = LayerFile(guest_test_path(t.source), t.source.read_bytes())
    if scheduler.is_eevdf:
        return list(files.values())
    binary = Path(str(scheduler.binary))
    files["sched"] = LayerFile(f"{GUEST_SCHED_DIR}/{binary.name}", binary.read_bytes(), 0o755)
    for extra in map(Path, scheduler.runtime_files):
        files[str(extra)] = LayerFile(f"{GUEST_SCHED_DIR}/{extra.name}", extra.read_bytes(), 0o755)
    # The loader's shared libraries (libelf, libz, ...) at their host paths.
    return [*files.values(), *library_files([binary], map(Path, scheduler.runtime_files))]
