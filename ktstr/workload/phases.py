"""The phases of a SEQUENCE worker."""

from __future__ import annotations

import enum
from dataclasses import dataclass

from ktstr.workload.errors import WorkloadError


class PhaseKind(enum.Enum):
    SPIN = "spin"
    SLEEP = "sleep"
    YIELD = "yield"
    IO = "io"


@dataclass(frozen=True)
class Phase:
    """One phase of a SEQUENCE worker: `seconds` of spinning, sleeping, yielding or IO."""

    kind: PhaseKind
    seconds: float

    def __post_init__(self) -> None:
        if not self.seconds > 0:
            raise WorkloadError(f"phase {self.kind.value}: seconds must be > 0, got {self.seconds}")

    @staticmethod
    def spin(seconds: float) -> "Phase":
        return Phase(PhaseKind.SPIN, seconds)

    @staticmethod
    def sleep(seconds: float) -> "Phase":
        return Phase(PhaseKind.SLEEP, seconds)

    @staticmethod
    def yield_(seconds: float) -> "Phase":
        return Phase(PhaseKind.YIELD, seconds)

    @staticmethod
    def io(seconds: float) -> "Phase":
        return Phase(PhaseKind.IO, seconds)
