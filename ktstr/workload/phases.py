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


def _of_kind(kind: PhaseKind) -> staticmethod[[float], Phase]:
    """Phase's constructor of one kind: seconds -> the phase."""
    def make(seconds: float) -> Phase:
        return Phase(kind, seconds)
    return staticmethod(make)


@dataclass(frozen=True)
class Phase:
    """One phase of a SEQUENCE worker: `seconds` of spinning, sleeping, yielding or IO."""

    kind: PhaseKind
    seconds: float

    def __post_init__(self) -> None:
        if not self.seconds > 0:
            raise WorkloadError(f"phase {self.kind.value}: seconds must be > 0, got {self.seconds}")

    # Phase.spin(0.05), Phase.sleep(0.05), Phase.yield_(0.01), Phase.io(0.02): one phase of a kind.
    spin = _of_kind(PhaseKind.SPIN)
    sleep = _of_kind(PhaseKind.SLEEP)
    yield_ = _of_kind(PhaseKind.YIELD)
    io = _of_kind(PhaseKind.IO)
