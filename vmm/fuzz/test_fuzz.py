"""Runs each libFuzzer target (vmm/fuzz/*_fuzz.c, clang-19, ASan + UBSan) for a bounded
time from its seed corpus and fails on any crash, leak, timeout or broken invariant.

Per target: KTSTR_FUZZ_SECONDS (default 45) of fuzzing; four targets, 3 minutes in all. New
inputs go to a scratch copy of the corpus; a crash's input is saved in the test's
undeclared outputs (bazel-testlogs/vmm/fuzz_test/test.outputs/outputs.zip) and named in the
failure. Executions per second and coverage (libFuzzer's cov: and ft:) are printed and
written to fuzz_stats.json there too; docs/vmm.md records them.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

TARGETS = ["bzimage", "acpi", "cpuid", "pio"]
FUZZ = Path("vmm/fuzz")
SECONDS = int(os.environ.get("KTSTR_FUZZ_SECONDS", "45"))
OUTPUTS = Path(os.environ.get("TEST_UNDECLARED_OUTPUTS_DIR", "/tmp"))


def stats_of(output: str) -> dict[str, float]:
    stats = {key: float(value) for key, value in re.findall(r"^stat::(\w+):\s+(\d+)", output, re.M)}
    progress = re.findall(r"^#\d+\s+\w+\s+cov: (\d+) ft: (\d+) corp: (\d+)/", output, re.M)
    if progress:
        stats["cov"], stats["ft"], stats["corpus"] = map(float, progress[-1])
    return stats


@pytest.mark.parametrize("target", TARGETS)
def test_fuzz_target_finds_nothing(target, tmp_path):
    binary = FUZZ / f"{target}_fuzz"
    seeds = FUZZ / "corpus" / target
    assert binary.exists(), f"{binary} not built (//vmm:fuzz_{target})"
    assert len(list(seeds.iterdir())) >= 3, f"seed corpus {seeds} has fewer than 3 inputs"
    corpus = tmp_path / "corpus"
    shutil.copytree(seeds, corpus)
    artifacts = OUTPUTS / f"{target}-"
    cmd = [str(binary), f"-max_total_time={SECONDS}", "-print_final_stats=1", "-timeout=10",
           "-rss_limit_mb=2048", f"-artifact_prefix={artifacts}", "-seed=1", str(corpus)]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=SECONDS + 120)
    output = proc.stderr + proc.stdout
    stats = stats_of(output)
    crashes = sorted(str(p) for p in OUTPUTS.glob(f"{target}-*"))
    stats["seconds"] = SECONDS
    record = OUTPUTS / "fuzz_stats.json"
    table = json.loads(record.read_text()) if record.exists() else {}
    table[target] = stats
    record.write_text(json.dumps(table, indent=1, sort_keys=True))
    print(f"fuzz {target}: {stats.get('number_of_executed_units', 0):.0f} runs in {SECONDS} s, "
          f"{stats.get('average_exec_per_sec', 0):.0f} exec/s, cov {stats.get('cov', 0):.0f}, "
          f"ft {stats.get('ft', 0):.0f}, corpus {stats.get('corpus', 0):.0f}, "
          f"peak RSS {stats.get('peak_rss_mb', 0):.0f} MiB")
    assert proc.returncode == 0 and not crashes, (
        f"{target}: libFuzzer exited {proc.returncode}, inputs saved: {crashes}\n"
        f"reproduce: bazel-bin/vmm/fuzz/{target}_fuzz <input>\n{output[-6000:]}")
    # A run that never got going (a broken harness, a seed that crashes at once) is a failure
    # too, not a pass with nothing fuzzed.
    assert stats.get("number_of_executed_units", 0) >= 1000 and stats.get("cov", 0) > 0, output[-3000:]
