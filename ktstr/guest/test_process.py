"""Run one test body in its own process, in its own cgroup, away from PID 1.

The agent is init: the kernel never OOM-kills init, so a test that exhausted memory in the
agent's own process left the kernel nothing to kill ("System is deadlocked on memory"). In a
child, the OOM killer takes the test (or one of its workers) and the agent reports it, with
the kernel's own lines. Whatever the test leaves behind (workers of a killed test, a fork
bomb's processes) is killed through cgroup.kill and reaped, and the verdict says so.

The test process never holds the result channel: right after the fork it drops it
(`in_child`, the agent's Reporter.forget) and reports its log lines and its result to the
agent over its own pipe, one JSON object a line; only the agent writes frames.
"""

from __future__ import annotations

import json
import os
import re
import signal
import time
import traceback
from dataclasses import asdict
from pathlib import Path
from typing import Callable, Iterable, Optional

from ktstr.checks.result import AssertResult, ClaimRecord

CGROUP_ROOT = Path("/sys/fs/cgroup")
# The kernel's one-line verdict per kill (oom_kill_process); the report around it (the
# "oom-kill:constraint=..." summary, the memory dump) is on the console.
OOM_LINE = re.compile(r"(?:Out of memory|Memory cgroup out of memory): Killed process \d+ \([^)]*\)")
KILL_WAIT_S = 5.0


def proc_cgroup(name: str) -> Path:
    return CGROUP_ROOT / f"ktstr_proc_{name}"


# How much the agent reads from a test process's pipe: a flooding test is cut, not buffered.
MAX_PIPE_BYTES = 16 * 1024 * 1024
_to_agent = -1  # in the test process: the write end of its pipe to the agent


def log_to_agent(text: str) -> None:
    """A log line from the test process (Ctx.log), sent to the agent, which frames it."""
    _send({"log": text})


def _send(message: dict) -> None:
    data = memoryview((json.dumps(message) + "\n").encode())
    while data:
        data = data[os.write(_to_agent, data):]


class _FromTest:
    """The agent's end of a test process's pipe: log lines go on as they come, the
    result is kept."""

    def __init__(self, fd: int, on_log: Optional[Callable[[str], None]]) -> None:
        self.fd = fd
        self.on_log = on_log
        self.buf = b""
        self.total = 0
        self.result: Optional[dict] = None
        self.problem = ""
        os.set_blocking(fd, False)

    def drain(self) -> None:
        while True:
            try:
                chunk = os.read(self.fd, 65536)
            except BlockingIOError:
                return
            if not chunk:
                return
            self.total += len(chunk)
            if self.total > MAX_PIPE_BYTES:
                self.problem = f"the test process wrote more than {MAX_PIPE_BYTES} bytes to the agent: cut"
                self.buf = b""
                continue
            self.buf += chunk
            *lines, self.buf = self.buf.split(b"\n")
            for line in lines:
                self._message(line)

    def _message(self, line: bytes) -> None:
        try:
            message = json.loads(line)
        except ValueError as exc:
            self.problem = f"unreadable message from the test process: {exc}"
            return
        if "log" in message and self.on_log is not None:
            self.on_log(str(message["log"]))
        elif "result" in message:
            self.result = message["result"]


def _to_json(r: AssertResult) -> dict:
    return asdict(r)


def _from_json(d: dict) -> AssertResult:
    claims = [ClaimRecord(**c) for c in d.pop("claims", [])]
    return AssertResult(claims=claims, **d)


def _signal_name(sig: int) -> str:
    try:
        return signal.Signals(sig).name
    except ValueError:
        return f"signal {sig}"


def run_isolated(name: str, body: Callable[[], AssertResult], kmsg_lines: Callable[[], list[str]],
                 keep_pids: Iterable[int] = (), timeout_s: float = 600.0,
                 on_log: Optional[Callable[[str], None]] = None,
                 in_child: Optional[Callable[[], None]] = None) -> AssertResult:
    """Run body() in a forked child placed in its own cgroup; return its result, or why it
    has none. kmsg_lines() gives the kernel log lines printed since the test began; a test
    still running after timeout_s is killed with everything it started. The child's log
    lines (log_to_agent) reach on_log; in_child runs first thing in the child (the agent
    drops the result channel there)."""
    global _to_agent
    cg = proc_cgroup(name)
    use_cgroup = (CGROUP_ROOT / "cgroup.procs").exists()
    if use_cgroup:
        cg.mkdir(exist_ok=True)
    start = time.monotonic()
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the test process: never returns
        code = 0
        try:
            os.close(read_end)
            _to_agent = write_end
            if in_child is not None:
                in_child()
            if use_cgroup:
                (cg / "cgroup.procs").write_text("0")
            result = body()
            _send({"result": _to_json(result)})
        except BaseException:  # noqa: BLE001 - reported through the missing result
            traceback.print_exc()
            code = 70
        finally:
            os._exit(code)
    os.close(write_end)
    from_test = _FromTest(read_end, on_log)
    try:
        status, timed_out = _wait(pid, start + timeout_s, cg if use_cgroup else None, from_test.drain)
        from_test.drain()
    finally:
        os.close(read_end)
    leftovers = _kill_leftovers(name, cg if use_cgroup else None, keep_pids)
    result = None
    if from_test.result is not None:
        try:
            result = _from_json(from_test.result)
        except (ValueError, TypeError) as exc:
            result = AssertResult.fail(f"test {name}: unreadable result from the test process: {exc}")
    if from_test.problem and result is not None:
        result.add_failure(from_test.problem)
    oom = [m.group(0) for line in kmsg_lines() for m in [OOM_LINE.search(line)] if m]
    if result is None:
        if timed_out:
            how = f"did not finish within {timeout_s:g}s and was killed"
        elif os.WIFSIGNALED(status):
            how = f"killed by {_signal_name(os.WTERMSIG(status))}"
        else:
            how = f"exited {os.WEXITSTATUS(status)} without a result (its traceback is on the console)"
        reason = f"test process {pid} {how} after {time.monotonic() - start:.1f}s"
        if oom:
            reason += f"; the kernel's OOM killer: {'; '.join(oom[:5])}"
        if leftovers:
            reason += f"; {leftovers} of its processes were still running (killed through cgroup.kill)"
        result = AssertResult.fail(reason)
    else:
        # What the kernel did comes first: a test's own error (a BrokenPipeError from a
        # worker the OOM killer took) is a consequence, not the cause.
        facts = []
        if oom:
            facts.append(f"the kernel's OOM killer ran during the test: {'; '.join(oom[:5])}")
        if leftovers:
            facts.append(f"{leftovers} processes of the test were still running when it ended "
                         f"(a fork bomb, or workers not stopped; killed through cgroup.kill)")
        for fact in reversed(facts):
            result.details.insert(0, fact)
            result.passed = False
            result.reason = f"{fact}; {result.reason}" if result.reason else fact
    return result
    return result


def _wait(pid: int, deadline: float, cg: Optional[Path], drain: Callable[[], None]) -> tuple[int, bool]:
    """waitpid with a deadline (draining the test's pipe meanwhile: a full pipe would block
    it); past it the test's cgroup (or the test) is killed."""
    while True:
        drain()
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            return status, False
        if time.monotonic() > deadline:
            try:
                if cg is not None:
                    (cg / "cgroup.kill").write_text("1")
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
            return os.waitpid(pid, 0)[1], True
        time.sleep(0.02)


def _kill_leftovers(name: str, cg: Optional[Path], keep_pids: Iterable[int]) -> int:
    """Kill what the test left in its process cgroup and its scenario cgroups; reap it.
    Returns how many processes were left in the process cgroup."""
    left = 0
    targets = [p for p in (cg, CGROUP_ROOT / f"ktstr_{name}") if p is not None and p.exists()]
    for p in targets:
        if p == cg:
            left = _count_procs(p)
        try:
            (p / "cgroup.kill").write_text("1")
        except OSError:
            pass
    deadline = time.monotonic() + KILL_WAIT_S
    while time.monotonic() < deadline and any(_count_procs(p) for p in targets):
        reap(keep_pids)
        time.sleep(0.02)
    reap(keep_pids)
    for p in targets:
        _rmdir_tree(p)
    return left


def _count_procs(cg: Path) -> int:
    total = 0
    for procs in cg.rglob("cgroup.procs"):
        try:
            total += len(procs.read_text().split())
        except OSError:
            pass
    return total


def _rmdir_tree(cg: Path) -> None:
    for sub in sorted((d for d in cg.rglob("*") if d.is_dir()), key=lambda d: -len(d.parts)):
        try:
            sub.rmdir()
        except OSError:
            pass
    try:
        cg.rmdir()
    except OSError:
        pass


def reap(keep_pids: Iterable[int] = ()) -> int:
    """Reap this process's exited children (init inherits every orphan), except `keep_pids`
    (the scheduler, whose exit status its own Popen must collect). Returns how many."""
    keep, me, n = set(keep_pids), os.getpid(), 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        pid = int(stat.parent.name)
        if fields[0] == "Z" and int(fields[1]) == me and pid not in keep:
            try:
                os.waitpid(pid, 0)
                n += 1
            except ChildProcessError:
                pass
    return n
