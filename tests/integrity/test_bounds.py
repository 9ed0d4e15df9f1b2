"""A guest that floods the result stream costs the host a bounded report and bounded memory
(issue 22, the reader side): 4 MiB of bad frames once made a 403 MiB result.json, a 413 MiB
test.xml and 2.5 GiB of runner memory. The peak RSS is the runner process's own
(ru_maxrss), measured in the child that ran the flood."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

from ktstr.wire.results import read_result

HERE = Path(__file__).resolve().parent

FLOOD = textwrap.dedent("""
    import json, resource, sys, zlib
    from pathlib import Path
    sys.path.insert(0, sys.argv[2])
    from fake_guest import FakeGuest, Raw, agent_steps, request
    from ktstr.host import runner
    from ktstr.host.junit import write_junit
    from ktstr.host.report import console_tail
    from ktstr.monitor.hook import MonitorHook
    from ktstr.wire.results import write_result
    from ktstr.wire.frames import HEADER, MAGIC

    tmp = Path(sys.argv[1])
    kind = sys.argv[3]
    if kind == "bad_crc":  # well-formed headers, payloads that do not match their CRC
        bad = HEADER.pack(MAGIC, 4, 0, 0, 8, 0, bytes(32)) + b"garbage!"
    else:  # frames with a good CRC and no key: each one a forgery
        payload = b"x" * 8
        bad = HEADER.pack(MAGIC, 2, 0, 7, 8, zlib.crc32(payload), bytes(32)) + payload
    flood = bad * (4 * 1024 * 1024 // len(bad))
    steps = agent_steps(["t"])
    steps.insert(2, Raw(flood))
    report = runner.run(request(tmp, ["t"]), FakeGuest(steps), hook=MonitorHook())
    write_result(report, tmp / "result.json")
    write_junit(tmp / "test.xml", "flood", report.outcomes, console_tail(report, tmp / "out"))
    print(json.dumps({"rss_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
                      "verdict": report.outcomes[0].verdict.value, "reason": report.outcomes[0].reason,
                      "flood": len(flood)}))
""")


def _flood(tmp_path: Path, kind: str) -> dict:
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))
    out = subprocess.run([sys.executable, "-c", FLOOD, str(tmp_path), str(HERE), kind], env=env,
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_a_flood_of_bad_crc_frames_gives_a_small_report_in_bounded_memory(tmp_path):
    r = _flood(tmp_path, "bad_crc")
    size = (tmp_path / "result.json").stat().st_size
    assert r["flood"] >= 4 * 1024 * 1024 - 64
    assert size < 1024 * 1024, size
    assert (tmp_path / "test.xml").stat().st_size < 1024 * 1024
    assert r["rss_kib"] < 300 * 1024, r
    assert r["verdict"] == "INCONCLUSIVE" and "corrupt frame(s): bad CRC" in r["reason"], r


def test_a_flood_of_forged_frames_gives_a_small_report_in_bounded_memory(tmp_path):
    r = _flood(tmp_path, "forged")
    size = (tmp_path / "result.json").stat().st_size
    assert size < 1024 * 1024, size
    assert (tmp_path / "test.xml").stat().st_size < 1024 * 1024
    assert r["rss_kib"] < 300 * 1024, r
    assert r["verdict"] == "FAIL" and "bad MAC" in r["reason"], r
    outcome = read_result(tmp_path / "result.json").outcomes[0]
    assert any("more like it" in d for d in outcome.details)
