"""ktstr_matrix: tests over kernels x topologies x schedulers, with a time budget.

Every (kernel, topology, scheduler, test) is a cell. Without a budget every cell runs. With
`budget_s`, a greedy choice picks the cells that cover the most features for the estimated
VM time: the features are each kernel, topology, scheduler and test, and each pair of them
(kernel x topology, topology x scheduler, scheduler x test, ...), so the selection spreads
over combinations instead of repeating one. At each step the cell with the most new features
per estimated second is taken (ties: declaration order) while it fits the budget.

Cost model (seconds of VM time under TCG on 2 host cores, stated so a user can tune it):
a boot costs `boot_s`, a test `test_s[test]` (default: 3 s), both times the kernel's factor
`kernel_cost[kernel]` (default 1; a lockdep kernel is slower) and times max(1, vCPUs / 2)
(more vCPUs than host cores share them). Tests of one (kernel, topology, scheduler) share a
VM, so the first cell of a group pays the boot.

Targets: `<name>_<kernel>_<topology>_<scheduler>` runs that group's selected tests; a
group's unselected tests are `<name>_<kernel>_<topology>_<scheduler>_unselected` (manual);
a group with none selected is one manual target. `<name>` is the test_suite of the selection,
and `bazel run :<name>_plan` prints it ("selected N/M, covered K/L" and every cell).
"""

load("//rules:private/ktstr_test.bzl", "ktstr_test")
load("//rules:private/topology.bzl", "topology_cpus")

_DIMS = ["kernel", "topology", "scheduler", "test"]

def _features(cell):
    values = [cell[d] for d in _DIMS]
    out = ["%s=%s" % (_DIMS[i], values[i]) for i in range(4)]
    for i in range(4):
        for j in range(i + 1, 4):
            out.append("%s=%s,%s=%s" % (_DIMS[i], values[i], _DIMS[j], values[j]))
    return out

def matrix_plan(kernels, topologies, schedulers, tests, budget_s = 0, boot_s = 8, test_s = {}, kernel_cost = {}):
    """The cells and the greedy selection (also written as <name>_plan.json).

    Args:
      kernels: kernel short names.
      topologies: shapes or preset names.
      schedulers: scheduler short names.
      tests: test function names.
      budget_s: estimated seconds of VM time to spend; 0 = every cell.
      boot_s: estimated seconds of one boot (scaled by the kernel's cost and the CPUs).
      test_s: {test: estimated seconds}, 3 s for tests not named.
      kernel_cost: {kernel: cost factor}, 1.0 for kernels not named.

    Returns:
      A dict: the cells (each with its features, cost and `selected`) and the coverage.
    """
    cells = []
    for k in kernels:
        for t in topologies:
            for s in schedulers:
                for x in tests:
                    scale = kernel_cost.get(k, 1.0) * max(1.0, topology_cpus(t, "ktstr_matrix: topology") / 2.0)
                    cells.append({
                        "kernel": k,
                        "topology": t,
                        "scheduler": s,
                        "test": x,
                        "group": "%s|%s|%s" % (k, t, s),
                        "boot_s": boot_s * scale,
                        "test_s": test_s.get(x, 3.0) * scale,
                        "selected": False,
                    })
    universe = {}
    for c in cells:
        for f in _features(c):
            universe[f] = True
    covered = {}
    booted = {}
    spent = 0.0
    for _ in range(len(cells)):
        best = None
        best_score = 0.0
        best_cost = 0.0
        for i, c in enumerate(cells):
            if c["selected"]:
                continue
            gain = len([f for f in _features(c) if f not in covered])
            cost = c["test_s"] + (0.0 if c["group"] in booted else c["boot_s"])
            if gain == 0 or (budget_s and spent + cost > budget_s):
                continue
            score = gain / cost
            if best == None or score > best_score:
                best, best_score, best_cost = i, score, cost
        if best == None:
            break
        c = cells[best]
        c["selected"] = True
        booted[c["group"]] = True
        spent += best_cost
        for f in _features(c):
            covered[f] = True
    if not budget_s:
        # No budget: every cell runs (the greedy pass above only ordered the coverage).
        for c in cells:
            if not c["selected"]:
                c["selected"] = True
                spent += c["test_s"] + (0.0 if c["group"] in booted else c["boot_s"])
                booted[c["group"]] = True
    selected = len([c for c in cells if c["selected"]])
    return {
        "budget_s": budget_s,
        "estimated_s": spent,
        "cells": cells,
        "selected": selected,
        "total": len(cells),
        "covered": len(covered) if budget_s else len(universe),
        "features": len(universe),
        "summary": "selected %d/%d, covered %d/%d" % (
            selected,
            len(cells),
            len(covered) if budget_s else len(universe),
            len(universe),
        ),
    }

def _target_part(text):
    return text.replace("-", "_").replace(".", "_")

def _plan_text(name, plan):
    lines = ["ktstr_matrix %s: %s (estimated %d s of VM time%s)" % (
        name,
        plan["summary"],
        int(plan["estimated_s"]),
        ", budget %d s" % plan["budget_s"] if plan["budget_s"] else ", no budget",
    )]
    for c in plan["cells"]:
        lines.append("  %s %s %s %s %s" % (
            "x" if c["selected"] else ".",
            _pad(c["kernel"], 10),
            _pad(c["topology"], 12),
            _pad(c["scheduler"], 12),
            c["test"],
        ))
    return "\n".join(lines)

def _pad(text, width):
    return text + " " * (width - len(text)) if len(text) < width else text

def ktstr_matrix(
        name,
        srcs,
        tests,
        kernels,
        topologies,
        schedulers,
        initramfs,
        budget_s = 0,
        boot_s = 8,
        test_s = {},
        kernel_cost = {},
        tags = [],
        **kwargs):
    """The same tests over kernels x topologies x schedulers, optionally within a time budget.

    Args:
      name: the test_suite of the selected cells; targets are
        `<name>_<kernel>_<topology>_<scheduler>` (see the file's doc).
      srcs: test .py files.
      tests: the @ktstr_test function names (the cells' test dimension).
      kernels: {short name: ktstr_kernel label}.
      topologies: shapes or preset names.
      schedulers: {short name: scheduler label, or None for EEVDF}.
      initramfs: as for ktstr_test.
      budget_s: estimated seconds of VM time to spend; 0 = every cell.
      boot_s: the cost model's seconds per boot (file doc).
      test_s: the cost model's seconds per test (file doc).
      kernel_cost: the cost model's factor per kernel (file doc).
      tags: tags of every target and the suite.
      **kwargs: passed to every ktstr_test (timeout, duration, ...).
    """
    plan = matrix_plan(kernels.keys(), topologies, schedulers.keys(), tests, budget_s, boot_s, test_s, kernel_cost)
    groups = {}
    for c in plan["cells"]:
        g = groups.setdefault(c["group"], {"cell": c, "selected": [], "unselected": []})
        g["selected" if c["selected"] else "unselected"].append(c["test"])
    suite = []
    for g in groups.values():
        c = g["cell"]
        target = "%s_%s_%s_%s" % (name, _target_part(c["kernel"]), _target_part(c["topology"]), _target_part(c["scheduler"]))
        common = dict(
            srcs = srcs,
            kernel = kernels[c["kernel"]],
            initramfs = initramfs,
            scheduler = schedulers[c["scheduler"]],
            topology = c["topology"],
            **kwargs
        )
        if g["selected"]:
            ktstr_test(name = target, test = ",".join(g["selected"]), tags = tags, **common)
            suite.append(":" + target)
            if g["unselected"]:
                ktstr_test(name = target + "_unselected", test = ",".join(g["unselected"]), tags = tags + ["manual"], **common)
        else:
            ktstr_test(name = target, test = ",".join(g["unselected"]), tags = tags + ["manual"], **common)
    native.test_suite(name = name, tests = suite, tags = tags)
    native.genrule(
        name = name + "_plan",
        outs = [name + "_plan.sh"],
        cmd = "cat > $@ <<'KTSTR_EOF'\n#!/bin/sh\ncat <<'KTSTR_PLAN'\n%s\nKTSTR_PLAN\nKTSTR_EOF\n" % _plan_text(name, plan),
        executable = True,
        tags = tags,
    )
    native.genrule(
        name = name + "_plan_json",
        outs = [name + "_plan.json"],
        cmd = "cat > $@ <<'KTSTR_EOF'\n%s\nKTSTR_EOF\n" % json.encode(plan),
        tags = tags,
    )
