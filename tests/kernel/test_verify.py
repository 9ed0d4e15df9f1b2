"""verify(): every fragment line must hold; failures name the option and the reason."""

from pathlib import Path

import pytest

from ktstr.kernel.kconfig import parse_fragment, parse_fragment_text
from ktstr.kernel.kconfig_deps import evaluate, read_kconfig_tree
from ktstr.kernel.verify import format_report, verify

REPO = Path(__file__).resolve().parents[2]

# A miniature kernel Kconfig tree exercising what the reader must follow: source with
# $(SRCARCH), if blocks across files, menu dependencies, prompt conditions, select, ranges,
# help text that looks like keywords, and line continuations.
KCONFIG_FILES = {
    "Kconfig": """
mainmenu "mini"
config EXPERT
\tbool "expert"
source "arch/$(SRCARCH)/Kconfig"
menu "Networking"
\tdepends on NET_SUPPORT
config NET
\tbool "net"
endmenu
if NET
source "net/Kconfig"
endif
config BPF_SYSCALL
\tbool "bpf"
\tselect BPF
config BPF
\tbool
config EARLY
\tbool "early" if EXPERT
\tdefault y
config NR
\tint "nr"
\trange 2 512
\tdefault 64
config ACPI_NUMA_X
\tbool "acpi numa"
\tdepends on NUMA && \\
\t\tPCI
\thelp
\t  depends on NOTHING
\t  config NOT_A_SYMBOL
""",
    "arch/x86/Kconfig": "config PCI\n\tbool \"pci\"\nconfig NUMA\n\tbool \"numa\"\nconfig NET_SUPPORT\n\tdef_bool y\n",
    "net/Kconfig": "config UNIX\n\tbool \"unix\"\n",
}


@pytest.fixture
def srctree(tmp_path):
    for rel, text in KCONFIG_FILES.items():
        path = tmp_path / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return tmp_path


def test_all_lines_hold_gives_no_mismatch():
    frag = parse_fragment_text("CONFIG_A=y\n# CONFIG_B is not set\nCONFIG_H=0x10\n", "f")
    assert verify([frag], "CONFIG_A=y\nCONFIG_H=0X10\n") == []  # absent B means n


def test_mismatch_without_tree_still_names_option():
    frag = parse_fragment_text("CONFIG_A=y\n", "frag.kconfig")
    (m,) = verify([frag], "# CONFIG_A is not set\n")
    assert (m.name, m.wanted, m.actual, m.origin) == ("A", "y", "n", "frag.kconfig:1")
    assert "CONFIG_A=y did not stick" in format_report([m])


def test_later_fragment_override_is_what_is_verified():
    base = parse_fragment_text("CONFIG_A=y\n", "base")
    user = parse_fragment_text("# CONFIG_A is not set\n", "user")
    assert verify([base, user], "# CONFIG_A is not set\n") == []


def test_reader_follows_source_if_menu_and_skips_help(srctree):
    tree = read_kconfig_tree(srctree)
    assert "NOT_A_SYMBOL" not in tree.definitions
    assert tree.definitions["UNIX"][0].conditions == ["NET"]
    assert tree.definitions["NET"][0].conditions == ["NET_SUPPORT"]
    assert tree.definitions["ACPI_NUMA_X"][0].conditions == ["NUMA && PCI"]
    assert [s.selector for s in tree.selected_by["BPF"]] == ["BPF_SYSCALL"]


def test_unmet_dependency_is_named(srctree):
    frag = parse_fragment_text("CONFIG_NUMA=y\nCONFIG_ACPI_NUMA_X=y\n", "ktstr.kconfig")
    (m,) = verify([frag], "CONFIG_NUMA=y\n# CONFIG_PCI is not set\n", srctree=srctree)
    assert m.name == "ACPI_NUMA_X"
    assert "depends on" in m.reason and "PCI=n" in m.reason and "NUMA=y" in m.reason


def test_bogus_option_is_called_out(srctree):
    frag = parse_fragment_text("CONFIG_SCHED_CLASS_EXTT=y\n", "user.kconfig")
    (m,) = verify([frag], "", srctree=srctree)
    assert "not an option of this kernel" in m.reason
    assert m.message().startswith("user.kconfig:1: CONFIG_SCHED_CLASS_EXTT=y did not stick")


def test_hidden_prompt_selected_and_range_reasons(srctree):
    values = "# CONFIG_EXPERT is not set\nCONFIG_BPF_SYSCALL=y\nCONFIG_BPF=y\nCONFIG_NR=64\n"
    frag = parse_fragment_text("CONFIG_EARLY=y\n# CONFIG_BPF is not set\nCONFIG_NR=4096\n", "f")
    reasons = {m.name: m.reason for m in verify([frag], values, srctree=srctree)}
    assert "only visible if EXPERT (EXPERT=n)" in reasons["EARLY"]
    assert "selected by BPF_SYSCALL" in reasons["BPF"]
    assert "allowed range is 2..512" in reasons["NR"]


@pytest.mark.parametrize(
    "expr, expected",
    [
        ("A && B", 0),
        ("A || B", 2),
        ("!B", 2),
        ("A && (B || M)", 1),
        ("N = 8", 2),
        ("N >= 16", 0),
        ('S = "abc"', 2),
        ("X86_64 && !(B)", 2),
    ],
)
def test_expression_evaluation(expr, expected):
    values = {"A": "y", "B": "n", "M": "m", "N": "8", "S": '"abc"', "X86_64": "y"}
    assert evaluate(expr, values)[0] == expected


def test_project_fragment_requests_what_the_issue_requires():
    frag = parse_fragment(REPO / "kernels" / "ktstr.kconfig")
    required = """SCHED_CLASS_EXT BPF BPF_SYSCALL BPF_JIT DEBUG_INFO_BTF DEBUG_INFO CGROUPS CPUSETS
        CGROUP_SCHED FAIR_GROUP_SCHED EXT_GROUP_SCHED SMP NUMA X86_64_ACPI_NUMA SCHED_MC SCHED_SMT
        SCHEDSTATS SCHED_DEBUG DEBUG_KERNEL FTRACE KPROBES BPF_EVENTS SERIAL_8250
        SERIAL_8250_CONSOLE VIRTIO_MMIO VIRTIO_CONSOLE DEVTMPFS BLK_DEV_INITRD ACPI KVM_GUEST
        PARAVIRT EARLY_PRINTK MAGIC_SYSRQ KALLSYMS_ALL PANIC_ON_OOPS UNIX IKCONFIG_PROC""".split()
    missing = [name for name in required if frag.settings.get(name) is None or frag.settings[name].value != "y"]
    assert missing == []
    assert frag.settings["MODULES"].value == "n"


def test_choice_member_names_the_chosen_one(tmp_path):
    (tmp_path / "Kconfig").write_text(
        'choice\n\tprompt "opt"\nconfig OPT_PERF\n\tbool "perf"\nconfig OPT_SIZE\n\tbool "size"\nendchoice\n'
    )
    frag = parse_fragment_text("CONFIG_OPT_PERF=y\n", "f")
    (m,) = verify([frag], "# CONFIG_OPT_PERF is not set\nCONFIG_OPT_SIZE=y\n", srctree=tmp_path)
    assert "member of the choice at Kconfig:1" in m.reason and "CONFIG_OPT_SIZE was chosen" in m.reason
