"""The rows of docs/ARCHITECTURE.md's "To add X, touch these files" table hold on the tree
(tools/lint/extension_points.py), and each row's check fails on a planted second mention."""

from pathlib import Path

import pytest

from tools.lint import extension_points as ep
from tools.lint.planted import write_package
from tools.lint.source_tree import root


@pytest.mark.parametrize("row", sorted(ep.ROWS))
def test_each_concept_has_one_home(row):
    found = ep.ROWS[row](root())
    assert not found, f"{row}: touched outside its home (docs/ARCHITECTURE.md, To add X):\n" + "\n".join(found)


def test_the_table_has_a_row_for_each_check():
    table = (root() / "docs/ARCHITECTURE.md").read_text().split("## To add X, touch these files")[1]
    table = table.split("\n## ")[0]
    for row in ep.ROWS:
        assert f"\n| {row} |" in table, f"no row '{row}' in ARCHITECTURE.md's table"


def test_the_rows_read_real_homes():
    """The checks find what they guard (a renamed home would make every check vacuous)."""
    base = root()
    members, values = ep.work_type_names(base)
    assert {"SPIN_WAIT", "CUSTOM"} <= members and "spin_wait" in values
    assert {"HELLO", "RUN_END"} <= ep.frame_type_names(base)
    assert {"watchdog_timeout_s", "result_key"} <= ep.run_json_fields(base)
    assert ep.device_handlers(base)["cmos_io"] == "cmos"
    assert "max_spread_pct" in ep.check_names(base)
    assert len(ep.kernel_variants(base)["debug"]) == 1  # its fragment beside the base
    assert {"qemu-tcg", "vmm-nested"} <= ep.engine_names(base)


def _tree(tmp_path: Path, files: dict[str, str]) -> Path:
    return write_package(tmp_path, files, name="repo")


WORK_TYPES = '''
    class WorkType(enum.Enum):
        SPIN = WorkTypeSpec("spin", "CpuSpin", (), loops.spin)
        PAIR = WorkTypeSpec("pair", "", (), loops.pair)
'''


def test_a_work_type_named_outside_its_record_fails(tmp_path):
    repo = _tree(tmp_path, {
        "ktstr/workload/types.py": WORK_TYPES,
        "ktstr/workload/links.py": "def size(cfg):\n    return 2 if cfg.work_type is WorkType.PAIR else 1\n",
        "ktstr/catalogue.py": "VARIETY = (WorkType.SPIN, WorkType.PAIR)\n",  # a use, not a table
        "ktstr/elsewhere.py": "LOOPS = {WorkType.SPIN: 1, WorkType.PAIR: 2}\n",
    })
    found = ep.work_type_violations(repo)
    assert len(found) == 2, found
    assert found[0].startswith("ktstr/elsewhere.py:1: a table of work types (SPIN, PAIR")
    assert found[1].startswith("ktstr/workload/links.py:2: names WorkType.PAIR")


def test_a_frame_built_outside_wire_fails(tmp_path):
    repo = _tree(tmp_path, {
        "ktstr/wire/frames.py": "HELLO, LOG = 1, 2\nMESSAGE_NAMES = {HELLO: 'Hello', LOG: 'Log'}\n",
        "ktstr/wire/messages.py": "from ktstr.wire.frames import HELLO\nfrom ktstr.wire import ktstr_pb2\n",
        "ktstr/guest/agent.py": "from ktstr.wire.frames import LOG, encode_frame\nfrom ktstr.wire import ktstr_pb2\n",
    })
    found = ep.frame_type_violations(repo)
    assert [f.split(":", 2)[:2] for f in found] == [["ktstr/guest/agent.py", "1"], ["ktstr/guest/agent.py", "2"]]
    assert "imports LOG, encode_frame" in found[0] and "protobuf" in found[1]


RUN_CONFIG = '''
    @dataclass
    class RunConfig:
        suite: str
        checks: dict
        watchdog_timeout_s: float
        vm_timeout_s: float
'''


def test_a_run_json_field_restated_or_built_elsewhere_fails(tmp_path):
    repo = _tree(tmp_path, {
        "ktstr/wire/run_config.py": RUN_CONFIG,
        "ktstr/host/plan.py": "def run_config():\n    return RunConfig(suite='s')\n",
        "ktstr/guest/agent.py": "cfg = RunConfig.from_json({})\n",
        "ktstr/host/jobs.py": "class Scenarios:\n    suite: str\n    watchdog_timeout_s: float\n"
                                  "    vm_timeout_s: float\n",
        "ktstr/host/request.py": "cfg = RunConfig(suite='again')\nback = RunConfig.from_json({})\n",
    })
    found = ep.run_json_violations(repo, known=frozenset({("ktstr/host/gone.py", "Old")}))
    assert found[0].startswith("ktstr/host/request.py:1: builds a RunConfig")
    assert found[1].startswith("ktstr/host/request.py:2: reads run.json")
    assert found[2] == ("ktstr/host/jobs.py: Scenarios restates run.json fields (vm_timeout_s, "
                        "watchdog_timeout_s): a run.json field is declared once, in RunConfig "
                        "(ktstr/wire/run_config.py)")
    assert found[3].startswith("ktstr/host/gone.py: Old no longer restates")
    assert len(found) == 4


DEVICE_TABLE = '''
    const struct pio_device_desc pio_device_table[] = {
        { "cmos", KTSTR_CMOS_PORT, KTSTR_CMOS_PORTS, cmos_io, STATE(cmos), NULL, NULL },
    };
'''


def test_a_device_wired_outside_its_descriptor_fails(tmp_path):
    repo = _tree(tmp_path, {
        "vmm/devices/devices.c": DEVICE_TABLE,
        "vmm/devices/cmos.h": "enum pio_result cmos_io(void *dev);\n",
        "vmm/devices/cmos.c": "enum pio_result cmos_io(void *dev)\n{\n}\n",
        "vmm/tests/device_test.c": "pio_bus_add(&bus, \"cmos\", 0x70, 2, cmos_io, &c);\n",
        "vmm/vm.c": "pio_bus_add(&vm->pio, \"cmos\", 0x70, 2, cmos_io, &vm->cmos);\n",
    })
    found = ep.vmm_device_violations(repo)
    assert found == [
        "vmm/vm.c: calls pio_bus_add: devices are mapped only from the descriptor table "
        "(vmm/devices/devices.c, pio_devices_init)",
        "vmm/vm.c: names cmos_io (device cmos): a device is its files, its descriptor row in "
        "vmm/devices/devices.c and its case in vmm/tests/device_test.c",
    ]


def test_a_second_list_of_checks_fails(tmp_path):
    repo = _tree(tmp_path, {
        "ktstr/checks/assertions.py": "class Assert:\n    max_gap_ms: float\n    not_starved: bool\n"
                                      "    unchecked: tuple\n_PERCENT = {'max_gap_ms', 'not_starved'}\n",
        "ktstr/monitor/thresholds.py": "NAMES = {'max_gap_ms': 1, 'not_starved': 2}\n",
        "ktstr/scenario/one.py": "a = Assert(max_gap_ms=5)\n",
    })
    (found,) = ep.check_violations(repo)
    assert found.startswith("ktstr/monitor/thresholds.py:1: a table of checks (max_gap_ms, not_starved")


def test_a_kernel_fragment_named_outside_its_variant_fails(tmp_path):
    repo = _tree(tmp_path, {
        "kernels/ktstr_kernels.BUILD": 'exports_files(["lockdep.kconfig"])\nktstr_kernel(\n    name = "lockdep",\n'
                                       '    fragments = ["ktstr.kconfig", "lockdep.kconfig"],\n)\n',
        "kernels/BUILD.bazel": ('[alias(name = n, tags = t) for n, t in {\n    "lockdep": ["manual"],\n'
                                '    "gone": [],\n}.items()]\n'),
        "tests/BUILD.bazel": '# lockdep.kconfig in a comment is prose\ndata = ["//kernels:lockdep.kconfig"]\n',
        "tools/bench.py": '"""Boots //kernels:lockdep (lockdep.kconfig)."""\nFRAGMENT = "kernels/lockdep.kconfig"\n',
    })
    found = ep.kernel_variant_violations(repo)
    assert found == [
        "kernels/ktstr_kernels.BUILD: names lockdep.kconfig outside ktstr_kernel lockdep: list fragments by glob",
        "tests/BUILD.bazel: names lockdep.kconfig: a kernel variant is used by its label (//kernels:lockdep), "
        "its fragment is named only in kernels/ktstr_kernels.BUILD",
        "tools/bench.py: names lockdep.kconfig: a kernel variant is used by its label (//kernels:lockdep), "
        "its fragment is named only in kernels/ktstr_kernels.BUILD",
        "kernels/BUILD.bazel: alias gone has no ktstr_kernel in kernels/ktstr_kernels.BUILD",
        "kernels/BUILD.bazel: alias lockdep is manual, its kernel is not manual",
    ]


ENGINE_SPECS = '''
    ENGINE_SPECS = {s.name: s for s in (
        EngineSpec("qemu-tcg", needs_kvm=False),
        EngineSpec("vmm", needs_kvm=True),
    )}
'''


def test_an_engine_named_or_type_tested_outside_its_spec_fails(tmp_path):
    repo = _tree(tmp_path, {
        "ktstr/host/engines/select.py": ENGINE_SPECS,
        "ktstr/host/engines/qemu.py": "NAME = 'qemu-tcg'\n",  # its own module: fine
        "ktstr/host/runner.py": "def shell(req):\n    return req.engine.name == 'vmm'\n",
        "ktstr/cli/main.py": "def f(e):\n    return isinstance(e, QemuEngine)\n",
        "ktstr/cli/ok.py": "def f(e):\n    return e.spec().needs_kvm\n",
    })
    found = ep.engine_violations(repo)
    assert len(found) == 2, found
    assert found[0].startswith("ktstr/cli/main.py:2: tests an engine's type")
    assert found[1].startswith("ktstr/host/runner.py:2: names engine 'vmm'")
