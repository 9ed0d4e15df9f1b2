"""ktstr's schbench runs, and its output gives the metrics ktstr.payloads.schbench reads."""

import re
import subprocess
from pathlib import Path

from ktstr import payloads

SCHBENCH = Path("native/schbench")


def _bin() -> Path:
    return SCHBENCH if SCHBENCH.exists() else Path("bazel-bin") / SCHBENCH


def test_percentiles_and_rps():
    p = payloads.schbench(message_threads=1, workers=2, seconds=1)
    out = subprocess.run([str(_bin())] + list(p.argv[1:]), capture_output=True, text=True, timeout=30)
    assert out.returncode == 0, out.stderr
    got = {k: float(re.search(r, out.stdout, re.M).group(1)) for k, r in p.metrics}
    assert got["rps"] > 0
    assert got["p50_us"] <= got["p90_us"] <= got["p99_us"] <= got["p999_us"] <= got["max_us"]
    samples = int(re.search(r"\((\d+) total samples\)", out.stdout).group(1))
    assert samples >= 2 * got["rps"] * 0.5  # two workers per round


def test_bad_arguments_are_refused():
    out = subprocess.run([str(_bin()), "-m", "x"], capture_output=True, text=True)
    assert out.returncode == 2 and "bad -m x" in out.stderr
