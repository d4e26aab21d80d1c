"""Scaling with workers: speed-up over one worker and parallel efficiency, for every variant with workers."""

from __future__ import annotations

from ..intervals import Estimator
from ..markdown import NOT_RUN, ratio_text, size_text, table, times
from ..model import Column, Run
from ..stats import ScalingPair, scaling_pairs, scaling_ratio
from . import Charts


def pair_label(pair: ScalingPair) -> str:
    """``pools threads ×2``, ``… vs serial`` (against the reference), ``… vs serial ×64`` (against it at the same N)."""
    workload = pair.workload
    size_note = f" {size_text(workload, pair.size)}" if len(workload.sizes) > 1 else ""
    label = f"{workload.name} {pair.cell.label}{size_note}"
    if pair.against == "reference":
        return f"{label} vs {workload.reference}"
    if pair.against == "same_n":
        return f"{label} vs {workload.reference} ×{pair.workers}"
    return label


def scaling_text(estimator: Estimator, column: Column, pair: ScalingPair) -> str:
    ratio = scaling_ratio(estimator, column, pair)
    if ratio is None:
        return NOT_RUN
    if pair.base == pair.cell:  # the 1-worker row: a cell over itself is exactly 1, with no interval to speak of
        return f"{times(1.0)} (100 %)"
    return f"{ratio_text(ratio)} ({ratio.value / pair.workers * 100:.0f} %)"


def render(run: Run, charts: Charts) -> str | None:
    estimator = Estimator(run)
    rows = [
        [pair_label(pair), *(scaling_text(estimator, column, pair) for column in run.columns)]
        for workload in run.workloads
        for pair in scaling_pairs(workload)
    ]
    if not rows:
        return None
    cores = run.info.host.cores
    lines = [
        "## Scaling with workers",
        "",
        "Speed-up over the same variant with 1 worker with its 95 % interval, and parallel efficiency (speed-up / "
        "workers) in parentheses: 100 % is perfect scaling. Rows ending \"vs serial\" compare with the reference variant, which uses no "
        "workers; rows ending \"vs serial ×N\" (I/O) compare N clients served one after another with the same N "
        f"clients overlapped, where N times faster is perfect. This machine has {'?' if cores is None else cores} cores.",
        "",
        table(["cells", *(column.id for column in run.columns)], rows),
    ]
    if "scaling" in charts:
        lines += ["", charts["scaling"]]
    return "\n".join(lines)
