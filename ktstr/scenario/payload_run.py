"""A payload (a real program: hackbench, stress-ng, ...) running inside a scenario: started
in a cgroup, waited for or killed, its output kept and its metrics extracted and checked."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from typing import Optional

from ktstr.checks.result import AssertResult, ClaimRecord
from ktstr.errors import KtstrError
from ktstr.scenario.model import Payload


class PayloadStartError(KtstrError, RuntimeError):
    """A payload's program could not be started."""


OUTPUT_TAIL = 4000


@dataclass
class PayloadRun:
    payload: Payload
    cgroup: str
    proc: subprocess.Popen
    out_path: str
    started: float = field(default_factory=time.monotonic)
    exit_code: Optional[int] = None
    killed: bool = False
    output: str = ""

    @classmethod
    def start(cls, payload: Payload, cgroup: str, move) -> "PayloadRun":
        """Start the program; `move(pid)` puts it in its cgroup right after it starts (None:
        it stays in the agent's cgroup). Its own session, so a kill reaches its children."""
        fd, out_path = tempfile.mkstemp(prefix=f"payload-{payload.name}-", dir="/tmp")
        try:
            proc = subprocess.Popen(list(payload.argv), stdin=subprocess.DEVNULL, stdout=fd,
                                    stderr=subprocess.STDOUT, start_new_session=True)
        except OSError as exc:
            os.close(fd)
            raise PayloadStartError(f"payload {payload.name}: cannot start {payload.argv[0]}: {exc}") from exc
        os.close(fd)
        run = cls(payload, cgroup, proc, out_path)
        if move is not None:
            try:
                move(proc.pid)
            except Exception:
                run.kill()
                raise
        return run

    @property
    def running(self) -> bool:
        return self.exit_code is None and self.proc.poll() is None

    def wait(self, timeout_s: Optional[float] = None) -> None:
        try:
            self.exit_code = self.proc.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            self.kill()
            self.output += f"\n[ktstr: killed after waiting {timeout_s:.0f}s]"
            return
        self._read()

    def kill(self) -> None:
        if self.exit_code is None:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)  # and whatever it forked
            except ProcessLookupError:
                pass
            self.exit_code = self.proc.wait()
            self.killed = True
        self._read()

    def _read(self) -> None:
        if not self.output:
            with open(self.out_path, errors="replace") as f:
                self.output = f.read()
            os.unlink(self.out_path)

    def metrics(self) -> dict[str, float]:
        out = {}
        for name, pattern in self.payload.metrics:
            m = re.search(pattern, self.output, re.MULTILINE)
            if m:
                out[name] = float(m.group(1))
        return out

    def evaluate(self) -> AssertResult:
        """Metrics as stats `payload.<name>.<metric>` (with exit_code, killed, wall_s);
        failed bounds as claims; an unexpected exit status fails."""
        p = self.payload
        result = AssertResult()
        values = self.metrics()
        prefix = f"payload.{p.name}"
        result.stats[f"{prefix}.exit_code"] = float(self.exit_code if self.exit_code is not None else -1)
        result.stats[f"{prefix}.killed"] = 1.0 if self.killed else 0.0  # by KillPayload or the scenario's end
        result.stats[f"{prefix}.wall_s"] = round(time.monotonic() - self.started, 3)
        for k, v in values.items():
            result.stats[f"{prefix}.{k}"] = v
        if p.exit_code is not None and not self.killed and self.exit_code != p.exit_code:
            result.add_failure(f"{prefix}: exited {self.exit_code}, expected {p.exit_code}; output: "
                               f"{self.output[-OUTPUT_TAIL:].strip()}")
        for metric, lo, hi in p.bounds:
            label = f"{prefix}.{metric}"
            if metric not in values:
                result.add_failure(f"{label}: not found in the output (regex "
                                   f"{dict(p.metrics)[metric]!r}); output: {self.output[-OUTPUT_TAIL:].strip()}")
                continue
            v = values[metric]
            ok = (lo is None or v >= lo) and (hi is None or v <= hi)
            bound = (f"in [{lo:g}, {hi:g}]" if lo is not None and hi is not None
                     else f">= {lo:g}" if lo is not None else f"<= {hi:g}")
            rec = ClaimRecord(label, f"{v:.4g}", bound, ok)
            if not ok:
                result.claims.append(rec)
                result.add_failure(f"claim failed: {rec}")
        return result
