"""Each input check of issue 22 is needed: with it taken out again (the old arithmetic
planted back into a copy of the source), //vmm:inputs_test must fail.

The unmodified sources are compiled once (gcc, ASan + UBSan, as //vmm:inputs_test); each
case recompiles the one planted file, links and runs the test and expects a failed check or
a sanitizer report. A case whose text no longer matches the source fails too, so the list
follows the code.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

VMM = Path("vmm")
FLAGS = ["-fsanitize=address,undefined", "-fno-sanitize-recover=all", "-fno-omit-frame-pointer",
         "-g", "-O1", "-Wall", "-Wextra"]

# (name, file, the checks as written now, the faults planted back, what the failure shows:
# one string or any of a tuple)
FAULTS = [
    ("pref_address wraps", "x86/boot.c",
     ["__builtin_add_overflow(load_addr, pm_size, &pm_end)",
      "__builtin_add_overflow(load_addr > LOAD_PHYSICAL_MIN ? load_addr : LOAD_PHYSICAL_MIN,\n"
      "\t\t\t\t   (uint64_t)get32(hdr, HDR_INIT_SIZE), &init_end)"],
     ["(pm_end = load_addr + pm_size, 0)",
      "(init_end = (load_addr > LOAD_PHYSICAL_MIN ? load_addr : LOAD_PHYSICAL_MIN) +\n"
      "\t\t\t\t   get32(hdr, HDR_INIT_SIZE), 0)"],
     ("test_pref_address_wrap: check failed", "AddressSanitizer")),
    ("pref_address below 1 MiB", "x86/boot.c",
     ["load_addr < KTSTR_GUEST_LOAD_ADDR ||\n\t    "], [""], "test_pref_address_wrap: check failed"),
    ("setup_sects past the end", "x86/boot.c",
     ["if (size <= pm_offset)"], ["if (0)"], "test_setup_sects_past_end: check failed"),
    ("initrd larger than initrd_max", "x86/boot.c",
     ["if (size > initrd_max || ((initrd_max"], ["if (((initrd_max"], "test_initrd_placement"),
    ("cmdline past 64 KiB", "x86/boot.c",
     [" || cmdlen >= KTSTR_CMDLINE_MAX"], [""], "test_cmdline_too_long: check failed"),
    ("less than 1 MiB of RAM", "x86/boot.c",
     ["if (low_end < KTSTR_GUEST_LOAD_ADDR)"], ["if (0)"], "test_tiny_memory: check failed"),
    ("vCPU count wraps", "x86/topology.c",
     ["__builtin_mul_overflow(t->llcs, t->cores_per_llc, &n) ||\n"
      "\t    __builtin_mul_overflow(n, t->threads_per_core, &n) || n > KTSTR_MAX_VCPUS"],
     ["(n = t->llcs * t->cores_per_llc * t->threads_per_core) > KTSTR_MAX_VCPUS"],
     "runtime error: shift exponent"),
    ("ktstr_bits_for loops", "x86/topology.c",
     ["\treturn count <= 1 ? 0 : 32 - (uint32_t)__builtin_clz(count - 1);"],
     ["\tuint32_t bits = 0;\n\n\twhile ((1u << bits) < count)\n\t\tbits++;\n\treturn bits;"],
     "shift exponent 32"),
    ("memory_mib wraps", "vm.c",
     ["__builtin_mul_overflow(mib, 1ULL << 20, &vm->mem_size)"],
     ["(vm->mem_size = mib << 20, 0)"], "test_memory_wrap: check failed"),
    ("CPUID list full", "x86/cpuid.c",
     ["if (c->nent > MAX_ENTRIES - ADDED_MAX) {"], ["if (0) {"],
     "runtime error: member access within null pointer"),
]


def c_sources() -> list[Path]:
    return sorted(p for d in ("", "x86", "devices") for p in (VMM / d).glob("*.c"))


@pytest.fixture(scope="module")
def objects(tmp_path_factory) -> tuple[Path, dict[str, Path]]:
    gcc = shutil.which("gcc")
    assert gcc, "gcc not found (tools/debian-packages.txt)"
    out = tmp_path_factory.mktemp("obj")
    objs = {}
    for src in c_sources() + [VMM / "tests/inputs_test.c"]:
        rel = str(src.relative_to(VMM))
        obj = out / (rel.replace("/", "_") + ".o")
        subprocess.run([gcc, *FLAGS, "-c", "-o", str(obj), str(src)], check=True, timeout=300)
        objs[rel] = obj
    assert len(objs) >= 15, f"only {len(objs)} sources found: the data glob is broken"
    return out, objs


def build_and_run(objects, planted: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    out, objs = objects
    objs = dict(objs)
    work = Path(out) / "planted"
    work.mkdir(exist_ok=True)
    for rel, text in (planted or {}).items():
        # Compiled in a copy of the tree so its relative #includes still resolve.
        tree = work / "vmm"
        if tree.exists():
            shutil.rmtree(tree)
        shutil.copytree(VMM, tree, ignore=shutil.ignore_patterns("tests", "fuzz", "nested"))
        (tree / rel).write_text(text)
        obj = work / (rel.replace("/", "_") + ".o")
        subprocess.run(["gcc", *FLAGS, "-c", "-o", str(obj), str(tree / rel)], check=True,
                       timeout=300)
        objs[rel] = obj
    binary = work / "inputs_test"
    subprocess.run(["gcc", *FLAGS, "-o", str(binary), *map(str, objs.values()), "-pthread"],
                   check=True, timeout=300)
    return subprocess.run([str(binary)], capture_output=True, text=True, timeout=120,
                          env={"TEST_TMPDIR": str(work)})


def test_unplanted_sources_pass(objects):
    proc = build_and_run(objects)
    assert proc.returncode == 0 and "0 failed" in proc.stdout, proc.stdout + proc.stderr[-3000:]


@pytest.mark.parametrize("name,rel,checks,faults,shows", FAULTS, ids=[f[0] for f in FAULTS])
def test_planted_fault_fails_inputs_test(objects, name, rel, checks, faults, shows):
    text = (VMM / rel).read_text()
    for check, fault in zip(checks, faults, strict=True):
        assert text.count(check) == 1, f"{name}: the check {check!r} is no longer in {rel}"
        text = text.replace(check, fault)
    proc = build_and_run(objects, {rel: text})
    output = proc.stdout + proc.stderr
    assert proc.returncode != 0, f"{name}: inputs_test passed with the fault planted:\n{output}"
    shows = (shows,) if isinstance(shows, str) else shows
    assert any(s in output for s in shows), f"{name}: expected {shows!r} in:\n{output[-3000:]}"
