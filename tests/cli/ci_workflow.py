"""The commands of examples/ci/ktstr.yml, read the way the runner's shell would run them.

Line-based on purpose: the workflow's `run:` blocks are shell, and what matters is each
`bazel ...` command line and each `.bazelrc.user` line its `echo "..."`s write (expanded by
sh with stand-in values for the runner's variables and secrets).
"""

from __future__ import annotations

import re
import shlex
import subprocess
from dataclasses import dataclass

_RC_ECHO = re.compile(r'^\s*echo "((?:build|test|common) --.*)"\s*$')


@dataclass(frozen=True)
class BazelCommand:
    line: int
    command: str
    flags: tuple[str, ...]
    patterns: tuple[str, ...]


def bazel_commands(text: str) -> list[BazelCommand]:
    """Every `bazel <command> [flags] [patterns]` line (continuations joined)."""
    out, lines, i = [], text.splitlines(), 0
    while i < len(lines):
        start, line = i, lines[i].strip()
        while line.endswith("\\") and i + 1 < len(lines):
            i += 1
            line = line[:-1] + " " + lines[i].strip()
        i += 1
        if line.startswith("bazel "):
            words = shlex.split(line)[1:]
            flags = tuple(w for w in words[1:] if w.startswith("-"))
            patterns = tuple(w for w in words[1:] if not w.startswith("-"))
            out.append(BazelCommand(start + 1, words[0], flags, patterns))
    return out


def rc_lines(text: str, env: dict[str, str]) -> list[str]:
    """The `.bazelrc.user` lines the workflow's steps echo, as sh expands them with `env`."""
    out = []
    for line in text.splitlines():
        m = _RC_ECHO.match(line)
        if m:
            expanded = subprocess.run(["sh", "-c", line.strip()], env=env, capture_output=True, text=True,
                                      check=True).stdout.strip()
            out.append(expanded)
    return out
