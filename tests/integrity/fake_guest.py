"""A guest without a VM: an engine that writes the console and result stream a crafted
guest would have written, through the real BootIO (its live console scan and stream clock),
so the real runner, decoder and evaluator judge it."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Union

from ktstr.host.discovery import DeclaredTest
from ktstr.host.engines import BootResult, BootSpec, ExitKind
from ktstr.host.engines.boot_io import BootIO
from ktstr.host.jobs import Scenarios
from ktstr.host.request import RunRequest
from ktstr.initramfs.cpio import read_entries
from ktstr.wire import ktstr_pb2 as pb
from ktstr.wire.frames import HELLO, RUN_END, TEST_RESULT, TEST_START, encode_frame

# A step: console bytes, or a frame (type, message) the agent signs, or raw stream bytes.
Step = Union[bytes, tuple[int, object], "Raw", "Lost"]


@dataclass(frozen=True)
class Raw:
    data: bytes  # written to the result stream as is (a forger's bytes)


@dataclass(frozen=True)
class Lost:
    """A frame the agent numbered that never reached the host."""


@dataclass
class FakeGuest:
    """The engine: plays `steps` into the boot's files, the console and the stream in the
    order given, with pauses so the follower sees each frame arrive after what came before."""

    steps: list[Step]
    exit_kind: ExitKind = ExitKind.POWEROFF
    name: str = "fake"
    emulated: bool = True

    def run(self, spec: BootSpec) -> BootResult:
        io = BootIO(self.name, spec)
        io.prepare()
        run_json = next(data for name, _, data, _ in read_entries(spec.initrds[-1].read_bytes())
                        if name == "ktstr/run.json")
        key = bytes.fromhex(json.loads(run_json)["result_key"])
        seq = 0
        with io.following() as pipes, open(pipes.console, "wb", buffering=0, closefd=False) as con, \
                open(pipes.results, "wb", buffering=0, closefd=False) as res:
            for step in self.steps:
                if isinstance(step, bytes):
                    con.write(step)
                elif isinstance(step, Raw):
                    res.write(step.data)
                elif isinstance(step, Lost):
                    seq += 1
                else:
                    ftype, msg = step
                    res.write(encode_frame(ftype, msg.SerializeToString(), seq=seq, key=key))  # type: ignore[attr-defined]
                    seq += 1
                time.sleep(0.05)  # the follower polls every 20 ms
            con.write(b"[ 9.9] reboot: Power down\n")
        return io.result(self.exit_kind, "guest powered off", [])


def agent_steps(names: list[str], status: int = pb.PASS) -> list[Step]:
    """What a well-behaved agent sends for `names`."""
    steps: list[Step] = [(HELLO, pb.Hello(kernel_release="6.12", topology="1n1l2c1t"))]
    for n in names:
        steps += [(TEST_START, pb.TestStart(name=n)), f"[ 1.0] ktstr: test {n} begins\n".encode(),
                  (TEST_RESULT, pb.TestResult(name=n, status=status, reason="guest says"))]
    return steps + [(RUN_END, pb.RunEnd())]


def request(tmp: Path, names: list[str]) -> RunRequest:
    src = tmp / "scenarios.py"
    src.write_text("x = 1\n")
    kernel, base = tmp / "bzImage", tmp / "base.cpio"
    kernel.write_bytes(b"k")
    base.write_bytes(b"")
    return RunRequest("integrity", kernel, [base], Scenarios([DeclaredTest(n, src) for n in names]),
                      out_dir=tmp / "out", work_dir=tmp / "work")
