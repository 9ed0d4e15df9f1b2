"""The per-CPU timeline picture of one boot: run-queue depth over time for every CPU, with
the running task shown as coloured bands and test boundaries marked (matplotlib, PNG)."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Optional, Sequence

from ktstr.monitor.sampler import Sample

# Tasks named in the legend: the most frequent ones; the rest share one colour.
_TOP_TASKS = 8


def _task_key(comm: str) -> str:
    # Per-CPU kthreads differ only by their CPU suffix (kworker/0:1, ksoftirqd/1): one colour.
    return comm.split("/")[0] if "/" in comm else comm


def timeline_png(samples: Sequence[Sample], out: Path, title: str,
                 marks: Sequence[tuple[float, str]] = (), stop: Optional[tuple[float, str]] = None) -> Optional[str]:
    """Write the picture; returns None, or the reason it could not be drawn (a stated skip)."""
    if not samples:
        return "no samples to draw"
    # matplotlib wants a writable config/cache dir; $HOME may not be one (Bazel's sandbox).
    os.environ.setdefault("MPLCONFIGDIR", os.path.join(
        os.environ.get("TEST_TMPDIR") or tempfile.gettempdir(), f"ktstr-matplotlib-{os.getuid()}"))
    try:
        import matplotlib

        matplotlib.use("Agg")  # files only, no display
        import matplotlib.pyplot as plt
        from matplotlib.patches import Patch
    except ImportError as exc:
        return f"matplotlib is not importable ({exc}); install requirements.txt"
    ncpu = max(len(s.cpus) for s in samples)
    t = [s.t for s in samples]
    counts: dict[str, int] = {}
    for s in samples:
        for c in s.cpus:
            if not c.idle and not c.error:
                counts[_task_key(c.curr_comm)] = counts.get(_task_key(c.curr_comm), 0) + 1
    top = [k for k, _ in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:_TOP_TASKS]]
    palette = plt.get_cmap("tab10")
    colour = {k: palette(i) for i, k in enumerate(top)}
    other, idle_colour = (0.6, 0.6, 0.6, 1.0), (1.0, 1.0, 1.0, 0.0)

    fig, axes = plt.subplots(ncpu, 1, sharex=True, figsize=(11, 1.3 + 1.1 * ncpu), squeeze=False)
    ymax = max(1, max((c.nr_running for s in samples for c in s.cpus if not c.error), default=1))
    for cpu in range(ncpu):
        ax = axes[cpu][0]
        depth = [s.cpus[cpu].nr_running if cpu < len(s.cpus) and not s.cpus[cpu].error else 0 for s in samples]
        dsq = [s.cpus[cpu].local_dsq if cpu < len(s.cpus) and s.cpus[cpu].local_dsq is not None else None
               for s in samples]
        # Running task: one band per sample interval, coloured by task.
        for i in range(len(samples) - 1):
            c = samples[i].cpus[cpu] if cpu < len(samples[i].cpus) else None
            if c is None or c.error:
                continue
            col = idle_colour if c.idle else colour.get(_task_key(c.curr_comm), other)
            ax.axvspan(t[i], t[i + 1], ymin=0, ymax=0.18, color=col, linewidth=0)
        ax.step(t, depth, where="post", color="black", linewidth=1.0, label="nr_running")
        if any(d is not None for d in dsq):
            ax.step(t, [d or 0 for d in dsq], where="post", color="tab:red", linewidth=0.8,
                    linestyle="--", label="local DSQ")
        ax.set_ylim(-0.2 * ymax - 0.2, ymax * 1.15 + 0.5)
        ax.set_ylabel(f"cpu{cpu}", rotation=0, labelpad=18)
        for when, name in marks:
            ax.axvline(when, color="tab:blue", linewidth=0.8, linestyle=":")
            if cpu == 0:
                ax.text(when, ymax * 1.1 + 0.4, f" {name}", fontsize=7, color="tab:blue", va="top")
        if stop is not None:
            ax.axvline(stop[0], color="tab:red", linewidth=1.2)
    axes[0][0].set_title(title, fontsize=9)
    axes[-1][0].set_xlabel("host seconds since the VM started")
    handles = [Patch(color=colour[k], label=k) for k in top] + [Patch(color=other, label="other")]
    handles += axes[0][0].get_legend_handles_labels()[0]
    fig.legend(handles=handles, loc="lower center", ncol=min(6, len(handles)), fontsize=7,
               title="running task (band) / run-queue depth (line)", title_fontsize=7)
    fig.tight_layout(rect=(0, 0.12 if ncpu < 3 else 0.07, 1, 1))
    out.parent.mkdir(parents=True, exist_ok=True)
    # Fixed metadata: the same samples give the same bytes.
    fig.savefig(out, format="png", dpi=90, metadata={"Software": None})
    plt.close(fig)
    return None
