"""The C VMM's exit report (ktstr/wire/vmm_report.py): one type for the in-process engine's
struct and ktstr-vmm's key=value lines, read back whole, and the same keys as the C prints."""

from __future__ import annotations

import re
from pathlib import Path

from ktstr.wire.vmm_report import EXIT_NAMES, VmExit, VmmExitReport

REPO = Path(__file__).resolve().parents[2]


def _report() -> VmmExitReport:
    return VmmExitReport(VmExit.INTERNAL_ERROR, exit_status=-1, rip=0xFFFFFFFF81000000, insn=b"\x0f\x0b",
                         vcpus=4, setup_ns=464_826_000, run_ns=21_900_000, message="vCPU 0: KVM internal error",
                         stats={"exits": 62244, "halt_exits": 12})


def test_the_text_form_round_trips():
    assert VmmExitReport.from_text(_report().to_text()) == _report()


def test_the_last_report_in_a_log_is_read_and_the_rest_skipped():
    first = VmmExitReport(VmExit.TIMEOUT, message="timeout")
    log = f"ktstr-l1: up 1.9 s\r\n{first.to_text()}ktstr-l1: again\n{_report().to_text()}ktstr-l1: rc=0\n"
    assert VmmExitReport.from_text(log) == _report()
    assert VmmExitReport.from_text("ktstr-l1: no /dev/kvm\n") == VmmExitReport(None)
    assert VmmExitReport(None).lines() == [] and VmmExitReport(None).describe() == "no exit report"


def test_a_garbled_number_costs_that_field_only():
    r = VmmExitReport.from_text("exit=shutdown\nstatus=0\nvcpus=4x\nmessage=guest powered off\n")
    assert (r.kind, r.vcpus, r.message) == (VmExit.SHUTDOWN, -1, "guest powered off")


def test_the_keys_are_the_ones_ktstr_vmm_prints():
    """vmm/cli/main.c print_report and kind_name, read from the source: a key added or renamed
    there and not here fails."""
    source = (REPO / "vmm/cli/main.c").read_text()
    body = source[source.index("static void print_report"):]
    body = body[:body.index("\n}\n")]
    printed = [k.replace("%s", "") for k in re.findall(r'(?:"|\\n)([a-z_]+(?:\.%s)?)=', body)]
    ours = [line.split("=", 1)[0] for line in _report().lines()]
    ours = list(dict.fromkeys("stat." if k.startswith("stat.") else k for k in ours))
    assert printed == ours
    kinds = source[source.index("kind_name"):source.index("static int usage")]
    assert sorted(re.findall(r'return "([a-z_]+)";', kinds)) == sorted([*EXIT_NAMES.values(), "unknown"])
