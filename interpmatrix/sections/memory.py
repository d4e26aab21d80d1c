"""Peak memory per interpreter and workload, beside the time of the same variant."""

from __future__ import annotations

from ..markdown import NOT_RUN, md, table, value_text
from ..model import Run, is_memory
from ..registry import Cell
from . import Charts


def render(run: Run, charts: Charts) -> str | None:
    rows = []
    for workload in run.workloads:
        for cell in workload.cells():
            if workload.variant(cell.variant).metric != "memory":
                continue
            timed = Cell(cell.workload, cell.variant[: -len("_memory")], cell.workers, cell.size)
            row = [f"{workload.name} `{timed.label}`"]
            for column in run.columns:
                memory, time = column.benchmark(cell), column.benchmark(timed)
                if memory is None or not is_memory(memory):
                    row.append(NOT_RUN)
                    continue
                row.append(f"{value_text(memory)} · {value_text(time)}" if time is not None else value_text(memory))
            rows.append(row)
    if not rows:
        return None
    lines = [
        "## Peak memory",
        "",
        "Peak private memory of a pyperf worker process while it ran the variant (pyperf `--track-memory`, the mean "
        "over worker processes), then the variant's time per call from its own cell. The process's memory includes "
        "the interpreter itself; compare columns on one row.",
        "",
        table(["variant", *(md(column.id) for column in run.columns)], rows),
    ]
    if "memory" in charts:
        lines += ["", charts["memory"]]
    return "\n".join(lines)
