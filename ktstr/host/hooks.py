"""What the boot loop lets another package do around each boot, without importing it.

The host monitor (ktstr.monitor.hook.MonitorHook) is such a hook: the runner calls it
through this interface, and the entry point (ktstr.cli.session) hands it in. So ktstr.host
depends on no observer, and an observer depends on ktstr.host, never the other way round
(tools/lint/test_layering.py keeps it so).
"""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

from ktstr.host.engines import BootResult, BootSpec
from ktstr.wire.results import TestOutcome
from ktstr.host.plan import PlannedBoot
from ktstr.host.request import RunRequest


class BootWatch(Protocol):
    """One boot's hook, after the boot: its word goes into the outcomes."""

    def finish(self, outcomes: list[TestOutcome], result: BootResult, out_dir: Path, suffix: str) -> str:
        """Add the hook's findings and files (named with `suffix`, as the boot's console is)
        to `outcomes`; return its one-line summary for result.json ("" for none)."""
        ...


class BootHook(Protocol):
    def check(self, req: RunRequest) -> None:
        """Refuse the request's options for this hook (a KtstrError) before any VM boots."""
        ...

    def start(self, req: RunRequest, boot: PlannedBoot, spec: BootSpec, emulated: bool) -> tuple[BootSpec, BootWatch]:
        """The boot spec to run (the hook may attach an observer or add to the command line)
        and the watch that finishes this boot."""
        ...
