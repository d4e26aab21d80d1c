"""The cost of free-threading, measured only against a same-source GIL twin, beside the published figure (over
pyperformance's benchmarks, not the seeds' cells: the standard suite's section holds it like with like).

Against any other GIL build of the same minor (Debian's, pyenv's) the difference mixes in their build flags, so that
comparison is shown too, labelled as such, to show how much a twin matters; in a merged run only against builds of
the same machine (another machine's would mix in its hardware too).
"""

from __future__ import annotations

from ..intervals import Estimator
from ..markdown import change_interval_text, speed_interval_text
from ..model import Run
from ..questions import PUBLISHED_FREE_THREADING_COST
from ..stats import free_threading_figures
from . import Charts


def render(run: Run, charts: Charts) -> str | None:
    in_run = {column.id: column for column in run.columns}
    estimator = Estimator(run)
    lines = []
    for ft in run.columns:
        if not ft.interpreter.free_threaded:
            continue
        minor = ft.interpreter.minor
        published = PUBLISHED_FREE_THREADING_COST.get(minor, "not published")
        twin = in_run.get(ft.interpreter.twin)
        if twin is None:
            reason = "it has no same-source GIL twin in this run (`nox -s provision` builds one)"
            lines.append(f"- **{ft.id}**: not measured: {reason}. Published single-thread cost: {published}.")
        else:
            cost, count, speedups = free_threading_figures(estimator, ft, twin)
            figure = "no cell ran on both" if cost is None else (
                f"{change_interval_text(cost)} time on single-thread cells (geometric mean of {count}, 95 % interval)")
            threads = ", ".join(
                f"{cell.workload} {cell.label}: {speed_interval_text(ratio)}" for cell, ratio in speedups if ratio
            )
            lines.append(
                f"- **{ft.id}** against its twin **{twin.id}** (same source, same flags): {figure}"
                f"{f'; with threads: {threads}' if threads else ''}. "
                f"Published single-thread cost for {minor}: {published}"
                f"{', over other benchmarks than these cells' if minor in PUBLISHED_FREE_THREADING_COST else ''}."
            )
        for other in run.columns:
            unrelated = (other is not twin and other.interpreter.implementation == "cpython"
                         and not other.interpreter.free_threaded and other.interpreter.minor == minor
                         and run.machine(other.id) == run.machine(ft.id))
            if unrelated:
                cost, count, _ = free_threading_figures(estimator, ft, other)
                if cost is not None:
                    lines.append(
                        f"  - against {other.id} ({other.interpreter.version}, {other.interpreter.origin} build, "
                        f"{other.interpreter.build_flags}), not a twin: {change_interval_text(cost)} "
                        "- the difference mixes in how the two were built."
                    )
    if not lines:
        return None
    return "\n".join(["## Cost of free-threading", "", *lines])
