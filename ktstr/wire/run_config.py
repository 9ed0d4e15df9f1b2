"""/ktstr/run.json: what the host asks the guest agent to run.

The host builds a RunConfig (ktstr.host.plan) and writes `to_json()` into the per-run cpio
layer; the agent reads it back with `RunConfig.from_json`. A new field is added here, with a
default so older callers keep working; unknown keys are refused (host and guest are built
from the same tree, so a key this side does not know is a bug, not a newer version).
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from typing import Any, Callable, Optional

from ktstr.errors import KtstrError

VERSION = 1
# "ready": a snapshot's template boot (ktstr.host.snapshot). The agent mounts, opens the
# result port, writes READY_MARK on it and waits there for the run.json each restored
# clone is sent over the same port (`delivery` / `read_delivered`).
MODES = ("tests", "shell", "exec", "ready")
# Exec mode reports as one test of this name, its command's exit status in this stat of
# its TestResult (ktstr.guest.shell.run_command sends it, ktstr.cli.one_liner reads it).
EXEC_TEST = "exec"
EXIT_STATUS_STAT = "exit_status"


def exit_status_reason(status: int) -> str:
    """The exec test's FAIL reason for a command's non-zero status: the guest writes it, the
    host's one-liner recognises it as the command's own finding, not another one."""
    return f"the command exited with status {status}"


class RunConfigError(KtstrError, ValueError):
    """run.json cannot be read as a RunConfig: names the part that is wrong."""


def _object(what: str, data: Any) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise RunConfigError(f"{what} must be a JSON object, got {type(data).__name__} "
                             f"{str(data)[:80]!r}: write it with RunConfig.to_json")
    return data


@dataclass(frozen=True)
class SchedulerSpec:
    """A sched_ext scheduler to attach: its binary and arguments. `binary` is a host path
    in a run request and the guest path in run.json; None means the kernel's own EEVDF."""

    name: str
    binary: Optional[str] = None
    args: tuple[str, ...] = ()
    ops_name: str = ""  # the name in /sys/kernel/sched_ext/root/ops once attached
    runtime_files: tuple[str, ...] = ()  # host side only: files shipped next to the binary
    # The CPU its ops.init() must run on (scx_central's central CPU); None: anywhere.
    # ktstr/guest/enable_helper.py says how the agent makes that so.
    init_cpu: Optional[int] = None

    @property
    def is_eevdf(self) -> bool:
        return self.binary is None

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "binary": self.binary, "args": list(self.args), "ops_name": self.ops_name,
                "init_cpu": self.init_cpu}

    @classmethod
    def from_json(cls, data: Any) -> SchedulerSpec:
        data = _object("run.json scheduler", data)
        _refuse_unknown("scheduler", data, {"name", "binary", "args", "ops_name", "init_cpu"})
        try:
            return cls(name=data["name"], binary=data["binary"], args=tuple(data.get("args", ())),
                       ops_name=data.get("ops_name", ""), init_cpu=data.get("init_cpu"))
        except (KeyError, TypeError) as exc:
            raise RunConfigError(f"run.json scheduler {data!r}: {type(exc).__name__}: {exc}") from None


EEVDF = SchedulerSpec(name="eevdf")


@dataclass(frozen=True)
class TestRef:
    """A test function and the guest path of its source file."""

    __test__ = False  # not a pytest class

    name: str
    file: str


@dataclass(kw_only=True)
class GuestOptions:
    """The run.json fields a target (or the command line) chooses for every boot of a run:
    declared here once. RunConfig carries them; the host's payloads hold one GuestOptions
    (ktstr.host.jobs) and the request builder fills it (ktstr.host.request)."""

    duration_s: Optional[float] = None  # None: each test's own
    # Check overrides from the Bazel target (ktstr_test(checks = {...})): name -> value,
    # layered over each test's own checks; and sched_ext's watchdog for tests that set none.
    checks: dict[str, str] = field(default_factory=dict)
    watchdog_timeout_s: Optional[float] = None
    vm_timeout_s: Optional[float] = None  # the host kills the VM then: tests end before it

    def option_values(self) -> dict[str, Any]:
        """The options as keyword arguments (for a RunConfig: RunConfig(..., **values))."""
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(GuestOptions)}


@dataclass
class RunConfig(GuestOptions):
    suite: str
    topology: str  # the shape asked for, e.g. "1n2l2c1t"
    tests: list[TestRef] = field(default_factory=list)
    scheduler: Optional[SchedulerSpec] = None  # None: EEVDF
    # The engine emulates the CPU (QEMU TCG): the default checks use their looser limits.
    emulated: bool = True
    result_port: str = "/dev/ttyS1"
    # The boot's result key (hex): the agent signs every frame with it (ktstr.wire.frames).
    # It reads run.json and removes it before it starts anything, so no test or scheduler
    # finds the key in the file system.
    result_key: str = ""
    mode: str = "tests"  # "shell": an interactive shell on the console instead of tests;
    # "exec": `command` run by /bin/sh -c with its output on the console, its exit status
    # reported as the one test "exec" (ktstr.guest.shell.run_command)
    term: str = "vt100"  # $TERM of that shell
    command: str = ""
    version: int = VERSION

    def __post_init__(self) -> None:
        if self.mode not in MODES:
            raise RunConfigError(f"run.json mode {self.mode!r} is not one of {', '.join(MODES)}")
        if (self.mode == "exec") != bool(self.command):
            raise RunConfigError(f"run.json mode {self.mode!r} with command {self.command!r}: a command "
                                 f"goes with mode 'exec' and only with it")
        if self.version != VERSION:
            raise RunConfigError(f"run.json version {self.version} is not {VERSION}: host and guest "
                             f"come from different ktstr trees; rebuild the initramfs")

    def to_json(self) -> dict[str, Any]:
        data = dataclasses.asdict(self)
        data["tests"] = [{"name": t.name, "file": t.file} for t in self.tests]
        data["scheduler"] = self.scheduler.to_json() if self.scheduler else None
        return data

    @classmethod
    def read(cls, path: str) -> RunConfig:
        """run.json from its file (the guest agent's one read of it)."""
        with open(path, "rb") as f:
            return cls.parse(f.read(), path)

    @classmethod
    def parse(cls, text: bytes, where: str) -> RunConfig:
        """run.json from its bytes; `where` names them in the error."""
        try:
            data = json.loads(text)
        except ValueError as exc:
            raise RunConfigError(f"{where} is not JSON ({exc}): write it with RunConfig.to_json") from None
        return cls.from_json(data)

    @classmethod
    def from_json(cls, data: Any) -> RunConfig:
        """Any JSON value in; a RunConfig or a RunConfigError naming what is wrong (the agent
        reading it is PID 1: an uncaught exception there panics the guest)."""
        data = _object("run.json's top level", data)
        known = {f.name for f in dataclasses.fields(cls)}
        _refuse_unknown("run.json", data, known)
        values = dict(data)
        tests = data.get("tests", [])
        if not isinstance(tests, list):
            raise RunConfigError(f"run.json tests must be a list, got {type(tests).__name__}")
        values["tests"] = []
        for t in tests:
            t = _object("a run.json tests entry", t)
            if not isinstance(t.get("name"), str) or not isinstance(t.get("file"), str):
                raise RunConfigError(f"run.json tests entry {t!r} needs string 'name' and 'file'")
            values["tests"].append(TestRef(t["name"], t["file"]))
        if data.get("scheduler"):
            values["scheduler"] = SchedulerSpec.from_json(data["scheduler"])
        try:
            return cls(**values)
        except TypeError as exc:  # a required field missing
            raise RunConfigError(f"run.json: {exc}") from None


# What the template's agent writes on the result port when it waits for its run.json: the
# host snapshots the VM when it reads this. Raw bytes, not a frame: no key exists yet.
READY_MARK = b"KTSTR-READY-FOR-RUN-JSON\n"
# A delivered run.json: this magic, its length (u32, little endian), the JSON text, then
# SEED_BYTES of the host's randomness: every clone starts with the template's random state,
# which the agent reseeds with them (the guest's CRNG, Python's random).
DELIVERY_MAGIC = b"KTRJ"
MAX_DELIVERY = 1 << 20
SEED_BYTES = 32


def delivery(config: RunConfig, seed: bytes) -> bytes:
    """The bytes the host writes into a restored clone's result port: its run.json and seed."""
    if len(seed) != SEED_BYTES:
        raise RunConfigError(f"a clone's seed is {SEED_BYTES} bytes, got {len(seed)}")
    if config.mode in ("ready", "shell"):
        raise RunConfigError(f"run.json mode {config.mode!r} cannot be delivered to a restored clone: "
                             f"a clone runs tests or a command")
    text = json.dumps(config.to_json(), sort_keys=True).encode()
    return DELIVERY_MAGIC + len(text).to_bytes(4, "little") + text + seed


def read_delivered(read: Callable[[int], bytes]) -> tuple[RunConfig, bytes]:
    """The agent's side of `delivery`: `read(n)` returns at most n bytes (b"" at the end).
    A RunConfigError names what was wrong with what arrived."""

    def exactly(n: int, what: str) -> bytes:
        got = b""
        while len(got) < n:
            chunk = read(n - len(got))
            if not chunk:
                raise RunConfigError(f"the delivered run.json ended in its {what} ({len(got)} of {n} bytes)")
            got += chunk
        return got

    head = exactly(8, "header")
    if head[:4] != DELIVERY_MAGIC:
        raise RunConfigError(f"the delivered run.json starts with {head!r}, not {DELIVERY_MAGIC!r}")
    length = int.from_bytes(head[4:], "little")
    if length > MAX_DELIVERY:
        raise RunConfigError(f"the delivered run.json says {length} bytes, more than {MAX_DELIVERY}")
    try:
        data = json.loads(exactly(length, "body"))
    except ValueError as exc:
        raise RunConfigError(f"the delivered run.json is not JSON: {exc}") from None
    config = RunConfig.from_json(data)
    if config.mode in ("ready", "shell"):
        raise RunConfigError(f"the delivered run.json has mode {config.mode!r}: a clone runs tests or a command")
    return config, exactly(SEED_BYTES, "seed")


def _refuse_unknown(what: str, data: dict[str, Any], known: set[str]) -> None:
    unknown = sorted(str(k) for k in set(data) - known)
    if unknown:
        raise RunConfigError(f"{what} has unknown key(s) {', '.join(unknown)} (known: {', '.join(sorted(known))})")
