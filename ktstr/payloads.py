"""Ready-made payloads: real benchmark programs (packed by //initramfs:payloads) with the
metrics their output gives. Use them with Op.run_payload / wait_payload / kill_payload;
bounds as (min, max), None for an open end."""

from __future__ import annotations

from typing import Optional

from ktstr.scenario.model import Payload

Bounds = Optional[dict]


def hackbench(groups: int = 2, loops: int = 100, threads: bool = False, pipe: bool = False,
              bounds: Bounds = None, name: str = "hackbench") -> Payload:
    """rt-tests' hackbench: groups of senders/receivers over sockets (or pipes); metric
    time_s, the run's wall time as hackbench prints it ("Time: 0.390")."""
    argv = ["hackbench", "-g", groups, "-l", loops] + (["-T"] if threads else []) + (["-p"] if pipe else [])
    return Payload(name, argv, metrics={"time_s": r"^Time: ([\d.]+)"}, bounds=bounds)


def cyclictest(seconds: int = 1, interval_us: int = 1000, threads: int = 1, priority: int = 0,
               bounds: Bounds = None, name: str = "cyclictest") -> Payload:
    """rt-tests' cyclictest: timer wake-up latency; metrics min_us, avg_us, max_us of its
    first thread ("T: 0 (...) ... Min: 23 Act: 78 Avg: 94 Max: 3966"). priority > 0 runs it
    SCHED_FIFO."""
    argv = ["cyclictest", "-q", "-D", seconds, "-i", interval_us, "-t", threads]
    if priority:
        argv += ["-p", priority]
    # Columns are padded to a width, so a wide number leaves no space after the colon.
    metrics = {"min_us": r"^T: 0 .*Min:\s*(\d+)", "avg_us": r"^T: 0 .*Avg:\s*(\d+)",
               "max_us": r"^T: 0 .*Max:\s*(\d+)", "loops": r"^T: 0 .*C:\s*(\d+)"}
    return Payload(name, argv, metrics=metrics, bounds=bounds)


def stress_ng(stressor: str = "cpu", workers: int = 1, seconds: int = 1, bounds: Bounds = None,
              name: str = "") -> Payload:
    """stress-ng with one stressor; metrics bogo_ops and bogo_ops_per_s (real time) from
    its --metrics-brief table."""
    row = rf"metrc: \[\d+\] {stressor}\s+(\d+)\s+[\d.]+\s+[\d.]+\s+[\d.]+\s+([\d.]+)"
    argv = ["stress-ng", f"--{stressor}", workers, "--timeout", f"{seconds}s", "--metrics-brief"]
    metrics = {"bogo_ops": row, "bogo_ops_per_s": row.replace(r"(\d+)\s+[\d.]+", r"\d+\s+[\d.]+", 1)}
    return Payload(name or f"stress_ng_{stressor}", argv, metrics=metrics, bounds=bounds)


def schbench(message_threads: int = 1, workers: int = 2, seconds: int = 1, sleep_us: int = 100,
             think_us: int = 50, bounds: Bounds = None, name: str = "schbench") -> Payload:
    """ktstr's schbench (native/schbench.c): message threads FUTEX_WAKE worker threads each
    round; metrics p50_us, p90_us, p99_us, p999_us, max_us (wakeup latency) and rps."""
    argv = ["schbench", "-m", message_threads, "-t", workers, "-r", seconds, "-s", sleep_us, "-c", think_us]
    metrics = {"p50_us": r"50\.0th: (\d+)", "p90_us": r"90\.0th: (\d+)", "p99_us": r"\b99\.0th: (\d+)",
               "p999_us": r"99\.9th: (\d+)", "max_us": r"max: (\d+)", "rps": r"^rps: ([\d.]+)"}
    return Payload(name, argv, metrics=metrics, bounds=bounds)
