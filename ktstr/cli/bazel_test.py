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
import os
import sys
import tempfile
from pathlib import Path
from typing import Any, Optional, Sequence

from ktstr.errors import KtstrError
from ktstr.host import runner
from ktstr.host.request import RunRequest
from ktstr.wire.target_config import TargetConfigError, read_target_config


def request_from_config(cfg: dict, env: dict[str, str]) -> Optional[RunRequest]:
    """The request of this shard; None when Bazel sharding leaves this shard nothing."""
    req = RunRequest.from_bazel_config(cfg, env)
    shards = int(env.get("TEST_TOTAL_SHARDS") or 0)
    if shards > 1:
        mine = req.payload.shard(int(env.get("TEST_SHARD_INDEX") or 0), shards)
        if mine is None:
            return None
        req.payload = mine
    return req


def _config_arg(prog: str, argv: Optional[Sequence[str]],
                with_command: bool = False) -> Optional[tuple[dict[str, Any], list[str]]]:
    """The config named by `--config`, and (`with_command`: a ktstr_shell target) the command
    after it; None once `prog` has said why the config cannot be read."""
    p = argparse.ArgumentParser(prog=prog)
    p.add_argument("--config", required=True)
    if with_command:
        p.description = ("`bazel run <this target>` for a shell in the target's VM; `bazel run <this target> -- "
                         "CMD` to run CMD there and exit with its status (ktstr.cli.one_liner)")
        p.add_argument("command", nargs=argparse.REMAINDER, help="a command to run instead of the shell")
    args = p.parse_args(argv)
    try:
        cfg = read_target_config(args.config)
    except TargetConfigError as exc:
        print(f"{prog}: {exc}", file=sys.stderr)
        return None
    command = list(getattr(args, "command", None) or [])
    return cfg, command[1:] if command[:1] == ["--"] else command


def main(argv: Optional[Sequence[str]] = None) -> int:
    from ktstr.cli.session import execute

    loaded = _config_arg("ktstr_test", argv)
    if loaded is None:
        return 2
    cfg, _ = loaded
    if os.environ.get("TEST_SHARD_STATUS_FILE"):
        Path(os.environ["TEST_SHARD_STATUS_FILE"]).touch()  # tells Bazel sharding is honoured
    try:
        req = request_from_config(cfg, dict(os.environ))
    except KtstrError as exc:
        print(f"ktstr_test {cfg.get('suite')}: {exc}", file=sys.stderr)
        return 2
    if req is None:
        print(f"ktstr_test {cfg['suite']}: shard {os.environ.get('TEST_SHARD_INDEX')} has no test to run",
              file=sys.stderr)
        return 0
    if isinstance(req.payload, runner.Scenarios) and not req.payload.tests:
        print(f"ktstr_test {cfg['suite']}: no test selected (filter: "
              f"{os.environ.get('TESTBRIDGE_TEST_ONLY', '')!r}); nothing to run", file=sys.stderr)
        return 0 if os.environ.get("TESTBRIDGE_TEST_ONLY") else 2
    xml = os.environ.get("XML_OUTPUT_FILE")
    return execute(req, Path(xml) if xml else None, _bazel_log_hint(os.environ))


def _bazel_log_hint(env: dict[str, str] | os._Environ[str]) -> Optional[str]:
    """Where the logs end up after the test: Bazel zips $TEST_UNDECLARED_OUTPUTS_DIR."""
    target = env.get("TEST_TARGET", "")
    if not target.startswith("//") or ":" not in target:
        return None
    package, name = target[2:].split(":", 1)
    return f"bazel-testlogs/{package}/{name}/test.outputs/outputs.zip"


def shell_main(argv: Optional[Sequence[str]] = None) -> int:
    """Entry point of ktstr_shell targets (`bazel run`): the config's VM with a shell."""
    loaded = _config_arg("ktstr_shell", argv, with_command=True)
    if loaded is None:
        return 2
    cfg, command = loaded
    # Its own scratch (no TEST_TMPDIR under `bazel run`), removed when the shell ends.
    with tempfile.TemporaryDirectory(prefix="ktstr-shell-") as tmp:
        return _shell(cfg, tmp, command)


def _shell(cfg: dict, tmp: str, command: Sequence[str] = ()) -> int:
    from ktstr.cli.one_liner import command_from_argv, run_one_liner

    try:
        req = RunRequest.from_bazel_config({**cfg, "srcs": [], "test": ""}, {"TEST_TMPDIR": tmp})
        if command:
            return run_one_liner(req, command_from_argv(command))
        return runner.shell(req, os.environ.get("TERM", "vt100"))
    except (KtstrError, OSError) as exc:  # OSError: the machine's (a file, QEMU), not a bug
        print(f"ktstr_shell {cfg.get('suite')}: {exc}", file=sys.stderr)
        return 2
