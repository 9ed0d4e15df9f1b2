"""The defaults of every kind of VM job, in one table: what "unset" means.

The Bazel rules (rules/private/*.bzl) write 0 or "" into the target config for an option the
user left out, and the command line leaves it None; the request builder
(ktstr.host.request.RunRequest) fills it from here. So a default is a number in this file
and nowhere else: the docs that state one are checked against this table
(tools/lint/test_defaults.py), and the CLI's help texts are formatted from it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

# The guest topology when neither the target nor the test's decorator gives one.
DEFAULT_TOPOLOGY = "1n1l2c1t"
# Guest memory when none is given: max(MIN_MEMORY_MIB, MEMORY_PER_CPU_MIB per vCPU) of each
# boot's topology (percpu areas grow with CPUs).
MIN_MEMORY_MIB = 1024
MEMORY_PER_CPU_MIB = 64


@dataclass(frozen=True)
class JobDefaults:
    """One kind of VM job's defaults."""

    kind: str
    what: str  # the entry points that run this kind, for the docs and error messages
    vm_timeout_s: float  # per boot: the host kills the VM then and reports it hung
    memory_mib: Optional[int] = None  # None: memory_for_cpus(the boot's vCPUs)

    def memory_for(self, cpus: int) -> int:
        """Guest memory for a boot of `cpus` vCPUs when the job gives none."""
        return self.memory_mib if self.memory_mib else memory_for_cpus(cpus)


def memory_for_cpus(cpus: int) -> int:
    return max(MIN_MEMORY_MIB, MEMORY_PER_CPU_MIB * cpus)


# @ktstr_test functions run by the guest agent: ktstr_test, ktstr_matrix, ktstr_compare,
# `ktstr run`, and the VM `ktstr shell` boots (interactive or --exec). 120 s: a TCG boot
# (~2 s) plus a few scenarios of 10-20 s each, with room on a loaded 2-core machine.
TEST = JobDefaults("test", "ktstr_test, ktstr_matrix, `ktstr run`, `ktstr shell`", 120.0)
# The upstream sched_ext selftests runner: ~45 s under TCG for the whole suite, and a
# stalled selftest waits out the kernel's watchdog (up to 30 s) plus RCU stall reports.
SELFTESTS = JobDefaults("selftests", "ktstr_selftests_test, `ktstr selftests`", 240.0, memory_mib=512)
# Verifier cells: every BPF program of each scheduler loaded in turn (large schedulers take
# minutes of verification under TCG).
VERIFIER = JobDefaults("verifier", "ktstr_verifier_test, `ktstr verifier`", 300.0)

JOBS: dict[str, JobDefaults] = {j.kind: j for j in (TEST, SELFTESTS, VERIFIER)}


def timeout_help(job: JobDefaults) -> str:
    """The CLI's --timeout help, with the default from this table."""
    return f"per VM boot, seconds (default {job.vm_timeout_s:g})"
