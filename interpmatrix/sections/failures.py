"""Cells that did not run: every cell without a number, and why."""

from __future__ import annotations

from ..budget import resume_command
from ..markdown import md, plural, table
from ..model import ALL_CELLS, Run
from . import Charts


def render(run: Run, charts: Charts) -> str:
    rows = []
    left: dict[str, int] = {}  # interpreter id -> its cells a budget cut short did not reach
    for column in run.columns:
        for name, failure in sorted(column.failures.items()):
            cell = "all cells" if name == ALL_CELLS else f"`{name}`"
            log = f"`{failure.log}`" if failure.log else ""
            rows.append([column.id, cell, failure.kind, md(failure.reason), log])
        if ALL_CELLS in column.failures:
            continue
        for cell in run.cells:
            if column.outcome(cell) is not None:
                continue
            if run.info.first_pass_unreached:
                # Hundreds of rows with one reason, after a quick run: counted in a sentence instead.
                left[column.id] = left.get(column.id, 0) + 1
                continue
            rows.append([column.id, f"`{cell.name}`", *run.why_no_result(), ""])
    lines = ["## Cells that did not run", ""]
    if not rows and not left:
        lines.append("Every cell ran on every interpreter.")
    if left:
        counts = ", ".join(f"{iid} {count}" for iid, count in left.items())
        lines.append(
            f"{plural(sum(left.values()), 'cell', 'cells')} not measured ({counts}): the budget ran out before their "
            f"turn; {resume_command(run.run_id)} measures them."
        )
    if rows:
        if left:
            lines.append("")
        lines.append(f"Log paths are relative to the run folder, `results/{run.run_id}/`.")
        lines += ["", table(["interpreter", "cell", "kind", "reason", "log"], rows)]
    if run.unknown_benchmarks:
        names = ", ".join(f"`{name}`" for name in sorted(run.unknown_benchmarks))
        lines += [
            "",
            f"Left out: the result files also hold cells that the workloads no longer define: {names}.",
        ]
    return "\n".join(lines)
