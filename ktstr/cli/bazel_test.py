"""What a ktstr_test target runs under `bazel test`.

Reads the config the rule wrote (paths relative to the runfiles root, which is the cwd) and
Bazel's test environment: JUnit to $XML_OUTPUT_FILE, logs + result.json to
$TEST_UNDECLARED_OUTPUTS_DIR, scratch in $TEST_TMPDIR, --test_filter via
$TESTBRIDGE_TEST_ONLY, sharding (`shard_count` on the target: test functions are dealt
round-robin over $TEST_TOTAL_SHARDS, each shard booting its own VMs), and $KTSTR_ENGINE (pass
it with --test_env) when neither the target's engine attribute nor --//rules:engine chose one.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path
from typing import Any, Optional, Sequence

from ktstr.host import runner
from ktstr.host.test_listing import TestListingError, list_all, select


def request_from_config(cfg: dict[str, Any], env: dict[str, str]) -> runner.RunRequest:
    selftests = cfg.get("selftests_runner") or ""
    tests = [] if selftests else select(list_all([Path(s) for s in cfg["srcs"]]), cfg.get("test", ""),
                                        env.get("TESTBRIDGE_TEST_ONLY", ""))
    shards = int(env.get("TEST_TOTAL_SHARDS") or 0)
    if shards > 1 and not selftests:
        shard = int(env.get("TEST_SHARD_INDEX") or 0)
        tests = [t for i, t in enumerate(tests) if i % shards == shard]
    selftests_args = list(cfg.get("selftests_args") or [])
    if selftests and env.get("TESTBRIDGE_TEST_ONLY"):
        # --test_filter=NAME runs only the selftests whose names contain NAME (runner -t).
        selftests_args += ["-t", env["TESTBRIDGE_TEST_ONLY"]]
    sched = runner.EEVDF
    if cfg.get("scheduler"):
        s = cfg["scheduler"]
        sched = runner.SchedulerSpec(name=s["name"], binary=Path(s["binary"]), args=tuple(s["args"]),
                                     ops_name=s.get("ops_name", ""),
                                     runtime_files=tuple(Path(p) for p in s.get("runtime_files", [])))
    tmp = Path(env.get("TEST_TMPDIR") or tempfile.mkdtemp(prefix="ktstr-"))
    out = Path(env.get("TEST_UNDECLARED_OUTPUTS_DIR") or (tmp / "outputs"))
    duration = cfg.get("duration") or ""
    return runner.RunRequest(
        suite=cfg["suite"],
        kernel=Path(cfg["kernel"]),
        initrds=[Path(p) for p in cfg["initramfs"]],
        tests=tests,
        scheduler=sched,
        topology=cfg.get("topology", ""),
        memory_mib=int(cfg.get("memory_mib", 1024)),
        duration_s=float(duration) if duration else None,
        timeout_s=float(cfg.get("timeout", 60)),
        cmdline_extra=cfg.get("cmdline", ""),
        engine=cfg.get("engine") or None,  # None: $KTSTR_ENGINE, then auto
        expect_fail=cfg.get("expect_fail", ""),
        may_fail=_texts(cfg.get("may_fail", ())),
        selftests_runner=Path(selftests) if selftests else None,
        selftests_args=tuple(selftests_args),
        out_dir=out,
        work_dir=tmp / "ktstr-work",
    )


def _texts(value: Any) -> tuple[str, ...]:
    """A config field that is one text or a list of them (older configs: a string)."""
    if isinstance(value, str):
        return (value,) if value else ()
    return tuple(v for v in value if v)


def main(argv: Optional[Sequence[str]] = None) -> int:
    from ktstr.cli.session import execute

    p = argparse.ArgumentParser(prog="ktstr_test")
    p.add_argument("--config", required=True)
    args = p.parse_args(argv)
    cfg = json.loads(Path(args.config).read_text())
    if cfg.get("vmm_library"):  # engine "vmm": the C VMM built for this test
        os.environ.setdefault("KTSTR_VMM_LIB", str(Path(cfg["vmm_library"]).resolve()))
    if os.environ.get("TEST_SHARD_STATUS_FILE"):
        Path(os.environ["TEST_SHARD_STATUS_FILE"]).touch()  # tells Bazel sharding is honoured
    try:
        req = request_from_config(cfg, dict(os.environ))
    except (TestListingError, ValueError) as exc:
        print(f"ktstr_test {cfg.get('suite')}: {exc}", file=sys.stderr)
        return 2
    shard = int(os.environ.get("TEST_SHARD_INDEX") or 0)
    if int(os.environ.get("TEST_TOTAL_SHARDS") or 0) > 1 and (
            (req.selftests_runner is not None and shard > 0) or (req.selftests_runner is None and not req.tests)):
        print(f"ktstr_test {cfg['suite']}: shard {shard} has no test to run", file=sys.stderr)
        return 0
    if not req.tests and req.selftests_runner is None:
        print(f"ktstr_test {cfg['suite']}: no test selected (filter: "
              f"{os.environ.get('TESTBRIDGE_TEST_ONLY', '')!r}); nothing to run", file=sys.stderr)
        return 0 if os.environ.get("TESTBRIDGE_TEST_ONLY") else 2
    xml = os.environ.get("XML_OUTPUT_FILE")
    return execute(req, Path(xml) if xml else None, _bazel_log_hint(os.environ))


def _bazel_log_hint(env: dict[str, str]) -> Optional[str]:
    """Where the logs end up after the test: Bazel zips $TEST_UNDECLARED_OUTPUTS_DIR."""
    target = env.get("TEST_TARGET", "")
    if not target.startswith("//") or ":" not in target:
        return None
    package, name = target[2:].split(":", 1)
    return f"bazel-testlogs/{package}/{name}/test.outputs/outputs.zip"


def shell_main(argv: Optional[Sequence[str]] = None) -> int:
    """Entry point of ktstr_shell targets (`bazel run`): the config's VM with a shell."""
    from ktstr.host.engines import EngineSelectionError

    p = argparse.ArgumentParser(prog="ktstr_shell")
    p.add_argument("--config", required=True)
    args = p.parse_args(argv)
    cfg = json.loads(Path(args.config).read_text())
    req = request_from_config({**cfg, "srcs": [], "test": ""}, {})
    try:
        return runner.shell(req, os.environ.get("TERM", "vt100"))
    except (EngineSelectionError, FileNotFoundError, ValueError) as exc:
        print(f"ktstr_shell {cfg.get('suite')}: {exc}", file=sys.stderr)
        return 2
