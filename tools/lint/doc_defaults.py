"""The defaults gate: a default the docs state is the number in ktstr/wire/defaults.py.

The docs (README.md, docs/*.md, and through docs/api.md the rules' docstrings) state
defaults in a few fixed forms; each is found here and compared with the table:

    the test job's default, 120 s          (a job kind's VM timeout or memory: s or MiB)
    120 s for tests / 240 s for selftests / 300 s for verifier cells
    512 MiB for selftests
    max(1024, 64 per vCPU)                 (the memory rule of the jobs without a fixed size)

and any other sentence that says "VM timeout" or "vm_timeout_s" next to "default" and a
number of seconds must name a number some job kind has. A doc that changes a default's
number without changing the table (or the other way round) fails the gate.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Mapping, Optional

from ktstr.wire import defaults

# How the docs name a job kind.
KIND_WORDS = {"test": "test", "tests": "test", "selftests": "selftests", "verifier": "verifier",
              "verifier cells": "verifier"}
_NUM = r"(\d+(?:\.\d+)?)"
_JOB_DEFAULT = re.compile(r"the (test|selftests|verifier) job's default,? " + _NUM + r" (s|MiB)\b")
_PER_KIND = re.compile(_NUM + r" (s|MiB) for (verifier cells|selftests|tests)\b")
_MEMORY_RULE = re.compile(r"max\(" + _NUM + r", ?" + _NUM + r" per vCPU\)")
_TIMEOUT_SENTENCE = re.compile(r"[^.]*\b(?:VM timeout|vm_timeout_s?)\b[^.]*")
_SECONDS = re.compile(_NUM + r" ?s\b")


@dataclass(frozen=True)
class Stated:
    where: str
    text: str  # the statement as found
    kind: Optional[str]  # the job kind it names (None: any)
    quantity: str  # "vm_timeout_s", "memory_mib" or "memory_rule"
    value: tuple[float, ...]


def statements(where: str, text: str) -> list[Stated]:
    flat = re.sub(r"\s+", " ", text)
    found = []
    for m in _JOB_DEFAULT.finditer(flat):
        found.append(Stated(where, m.group(0), m.group(1), "vm_timeout_s" if m.group(3) == "s" else "memory_mib",
                            (float(m.group(2)),)))
    for m in _PER_KIND.finditer(flat):
        found.append(Stated(where, m.group(0), KIND_WORDS[m.group(3)],
                            "vm_timeout_s" if m.group(2) == "s" else "memory_mib", (float(m.group(1)),)))
    for m in _MEMORY_RULE.finditer(flat):
        found.append(Stated(where, m.group(0), None, "memory_rule", (float(m.group(1)), float(m.group(2)))))
    for sentence in _TIMEOUT_SENTENCE.finditer(flat):
        s = sentence.group(0)
        if "default" not in s or _JOB_DEFAULT.search(s) or _PER_KIND.search(s):
            continue  # no default stated, or stated in a form above
        for m in _SECONDS.finditer(s):
            found.append(Stated(where, s.strip(), None, "vm_timeout_s", (float(m.group(1)),)))
    return found


def table_values(stated: Stated, jobs: Mapping[str, defaults.JobDefaults], memory_rule: tuple[float, float]
                 ) -> list[tuple[float, ...]]:
    """What the table says for the statement's quantity (of its kind, or of any kind)."""
    if stated.quantity == "memory_rule":
        return [memory_rule]
    kinds = [jobs[stated.kind]] if stated.kind else list(jobs.values())
    return [(float(getattr(j, stated.quantity)),) for j in kinds if getattr(j, stated.quantity) is not None]


def violations(docs: Mapping[str, str], jobs: Mapping[str, defaults.JobDefaults] = defaults.JOBS,
               memory_rule: tuple[float, float] = (defaults.MIN_MEMORY_MIB, defaults.MEMORY_PER_CPU_MIB)
               ) -> tuple[list[str], list[Stated]]:
    """Every stated default that the table contradicts, and every statement found."""
    found = [s for where, text in docs.items() for s in statements(where, text)]
    bad = []
    for s in found:
        allowed = table_values(s, jobs, memory_rule)
        if s.value not in allowed:
            bad.append(f"{s.where}: {s.text!r} states {s.quantity} {s.value} for {s.kind or 'a job'}; "
                       f"ktstr/wire/defaults.py says {allowed}: change one of them")
    return bad, found
