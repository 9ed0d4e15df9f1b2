"""Side-by-side distributions of the judged metrics, one PNG per test (matplotlib, Agg)."""

from __future__ import annotations

import math
from pathlib import Path

from ktstr.compare.judge import INFO, REGRESSION, Comparison, TestComparison

_COLS = 4


def _safe(name: str) -> str:
    return "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in name)


def plot_test(t: TestComparison, out: Path, label_a: str = "A", label_b: str = "B") -> Path | None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    metrics = [m for m in t.metrics if m.verdict != INFO and m.a and m.b]
    if not metrics:
        return None
    rows = math.ceil(len(metrics) / _COLS)
    cols = min(_COLS, len(metrics))
    fig, axes = plt.subplots(rows, cols, figsize=(3.2 * cols, 3.0 * rows), squeeze=False)
    for ax in axes.flat[len(metrics):]:
        ax.set_visible(False)
    for ax, m in zip(axes.flat, metrics):  # noqa: B905 - axes may outnumber metrics (hidden above)
        ax.boxplot([m.a, m.b], widths=0.5, showfliers=False)
        for x, samples, color in ((1, m.a, "tab:blue"), (2, m.b, "tab:orange")):
            # Spread the points a little sideways (deterministically) so equal values show.
            xs = [x + 0.12 * ((i % 5) - 2) / 2 for i in range(len(samples))]
            ax.scatter(xs, samples, s=14, color=color, zorder=3)
        ax.set_xticks([1, 2], [label_a, label_b])
        title = f"{m.stat}\n{m.kind.label if m.kind else ''} ({m.kind.unit if m.kind else ''})"
        ax.set_title(title, fontsize=8, color="tab:red" if m.verdict == REGRESSION else "black")
        ax.tick_params(labelsize=7)
        ax.set_xlabel(m.verdict + (f", p={m.p_worse:.3f}" if m.p_worse is not None else ""), fontsize=7)
    fig.suptitle(f"{t.name}: A {len(t.verdicts_a)} runs vs B {len(t.verdicts_b)} runs", fontsize=10)
    fig.tight_layout()
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"compare-{_safe(t.name)}.png"
    fig.savefig(path, dpi=90, metadata={"Software": None})  # no version stamp: same data, same bytes
    plt.close(fig)
    return path


def plot_all(c: Comparison, out: Path, label_a: str = "A", label_b: str = "B") -> list[Path]:
    paths = [plot_test(t, out, label_a, label_b) for t in c.tests]
    return [p for p in paths if p is not None]
