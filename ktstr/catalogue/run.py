"""Run a catalogue entry in a test: topology needs first (SKIP with the reason), then the
entry's steps with its checks layered over the test's."""

from __future__ import annotations

from dataclasses import replace

from ktstr.catalogue.entries import CATALOGUE
from ktstr.catalogue.flags import check_flags
from ktstr.checks.result import AssertResult
from ktstr.scenario.ctx import Ctx
from ktstr.scenario.execute import execute_steps


def run_entry(ctx: Ctx, name: str, flags=()) -> AssertResult:
    """Run entry `name` for a scheduler running with `flags` (its profile)."""
    if name not in CATALOGUE:
        raise KeyError(f"no catalogue entry {name!r}; `ktstr list --catalogue` lists them")
    e = CATALOGUE[name]
    check_flags(flags, name)
    missing = [f for f in e.requires if f not in flags]
    if missing:
        profile = ", ".join(flags) or "default"
        return AssertResult.skip(f"{name} requires flag {', '.join(missing)} (profile: {profile})")
    banned = [f for f in e.excludes if f in flags]
    if banned:
        return AssertResult.skip(f"{name} excludes flag {', '.join(banned)}")
    unmet = e.unmet(ctx)
    if unmet:
        return AssertResult.skip(unmet)
    plan = e.build(ctx)
    run_ctx = replace(ctx, assert_=ctx.assert_.merge(e.assert_)) if e.assert_ else ctx
    return execute_steps(run_ctx, plan.steps, plan.backdrop)


def run_entries(ctx: Ctx, names, flags=()) -> AssertResult:
    """Several entries in one test, one after the other: stats `catalogue.<name>.status`
    (1 pass, 0 fail, -1 skip) and every failure prefixed with its entry's name. A failure
    known for a scheduler is not decided here: the target's expectations cover it on the
    host, per finding (ktstr/host/expectations.py), like any other known failure."""
    total = AssertResult()
    for name in names:
        ctx.log(f"catalogue entry {name}")
        r = run_entry(ctx, name, flags)
        for k, v in r.stats.items():
            total.stats[f"{name}/{k}"] = v
        if not r.passed:
            total.claims += r.claims
            for d in r.failures or [r.reason]:
                total.add_failure(f"{name}: {d}")
        for n in r.not_checked:
            total.note_not_checked(f"{name}: {n}")
        total.stats[f"catalogue.{name}.status"] = -1.0 if r.skipped else float(r.passed)
    return total
