"""`ktstr list --catalogue`: the scenario catalogue (and the curated scenarios) as a table."""

from __future__ import annotations

from ktstr.catalogue import CATALOGUE, profiles


def catalogue_lines(category: str = "") -> list[str]:
    from ktstr.canned import CURATED

    lines = [f"{'name':40} {'category':12} {'flags':22} {'profiles':>8}  what"]
    for e in CATALOGUE.values():
        if category and e.category != category:
            continue
        flags = " ".join([f"+{f}" for f in e.requires] + [f"-{f}" for f in e.excludes]) or "-"
        n = len(profiles(e.requires, e.excludes))
        lines.append(f"{e.name:40} {e.category:12} {flags:22} {n:>8}  {e.doc}")
    lines.append(f"{len(CATALOGUE)} catalogue entries; curated ({len(CURATED)}): {', '.join(CURATED)}")
    return lines
