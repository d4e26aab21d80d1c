"""Cells that did not run: every cell without a number, and why.

A cell that failed with a log of its own (a crash, a hang, an error, a wrong answer) gets a row of the table, with the
log's path. The cells that left no log, unavailable on an interpreter or never reached, are listed by interpreter and
reason, one line for all the cells of each: a runtime that runs only a few portable kernels leaves some eighty cells
unavailable, nearly all for the reason of their workload or variant, and a table row per cell made this section a
third of a default run's report (386 rows for 111 reasons).
"""

from __future__ import annotations

from ..budget import resume_command
from ..markdown import md, plural, table
from ..model import ALL_CELLS, Run
from . import Charts

# What stands for the cell of a whole interpreter's failure (its venv could not be set up, say).
EVERY_CELL = "all cells"
# A cell without a number and without a log: interpreter, cell, kind, reason.
Unlogged = tuple[str, str, str, str]


def by_reason(cells: list[Unlogged]) -> list[str]:
    """One line per interpreter, kind and reason, naming every cell of it, in the order the cells came."""
    grouped: dict[tuple[str, str, str], list[str]] = {}
    for interpreter_id, cell, kind, reason in cells:
        grouped.setdefault((interpreter_id, kind, reason), []).append(cell)
    return [
        f"- {interpreter_id}, {kind} (all cells): {reason}" if names == [EVERY_CELL] else
        f"- {interpreter_id}, {kind} ({plural(len(names), 'cell', 'cells')}): {reason}: {', '.join(names)}"
        for (interpreter_id, kind, reason), names in grouped.items()
    ]


def render(run: Run, charts: Charts) -> str:
    logged = []
    unlogged: list[Unlogged] = []
    left: dict[str, int] = {}  # interpreter id -> its cells a budget cut short did not reach
    for column in run.columns:
        for name, failure in sorted(column.failures.items()):
            cell = EVERY_CELL if name == ALL_CELLS else f"`{name}`"
            if failure.log:
                logged.append([column.id, cell, failure.kind, md(failure.reason), f"`{failure.log}`"])
            else:
                unlogged.append((column.id, cell, failure.kind, md(failure.reason)))
        if ALL_CELLS in column.failures:
            continue
        for cell in run.cells:
            if column.outcome(cell) is not None:
                continue
            if run.info.first_pass_unreached:
                # Hundreds of cells with one reason, after a quick run: counted in a sentence instead.
                left[column.id] = left.get(column.id, 0) + 1
                continue
            unlogged.append((column.id, f"`{cell.name}`", *run.why_no_result()))
    lines = ["## Cells that did not run", ""]
    if not logged and not unlogged and not left:
        lines.append("Every cell ran on every interpreter.")
    parts = []
    if left:
        counts = ", ".join(f"{iid} {count}" for iid, count in left.items())
        parts.append([
            f"{plural(sum(left.values()), 'cell', 'cells')} not measured ({counts}): the budget ran out before their "
            f"turn; {resume_command(run.run_id)} measures them."
        ])
    if logged:
        parts.append([
            f"With a log of their own (paths relative to the run folder, `results/{run.run_id}/`):",
            "",
            table(["interpreter", "cell", "kind", "reason", "log"], logged),
        ])
    if unlogged:
        parts.append(["Without a log of their own, by interpreter and reason:", "", *by_reason(unlogged)])
    for index, part in enumerate(parts):
        lines += ([""] if index else []) + part
    if run.unknown_benchmarks:
        names = ", ".join(f"`{name}`" for name in sorted(run.unknown_benchmarks))
        lines += [
            "",
            f"Left out: the result files also hold cells that the workloads no longer define: {names}.",
        ]
    return "\n".join(lines)
