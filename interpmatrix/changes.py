"""Two runs' cells matched, each with the interval of its change: the numbers behind ``compare``'s text.

A cell's change is the difference of its two runs' log means (``intervals``: worker processes as the independent
units, each run's variances moderated within that run). Its interval also holds the between-run variance
(``between_runs.between_runs``) of its group: the cells of its workload and metric on every interpreter of the
comparison. Between two runs of the same code the machine moved whole workloads (io_threads 10 % slower, countdown
0.6 %) while the interpreters moved alike within a few percent, so a workload, not an interpreter, is what shares a
whole run's luck; a workload with too few cells takes the component of all cells of its metric.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from typing import Optional

import pyperf

from .between_runs import BetweenRuns, between_runs, change_interval
from .intervals import Estimator, Interval, Spread, mean_interval
from .model import Run, is_memory
from .registry import Cell, Workload
from .stats import significance

# A workload with fewer cells of a metric than this in a comparison takes the between-run component of all the
# comparison's cells of that metric: the median of a handful of cells' changes is too rough to stand on its own.
MIN_CELLS_OWN_SCATTER = 10
# A group of cells sharing one between-run component: (metric, workload name), or (metric, None) for all the
# comparison's cells of that metric.
GroupKey = tuple[str, Optional[str]]


@dataclass(frozen=True)
class CellChange:
    """One cell measured in both runs, on one interpreter."""

    workload: Workload
    cell: Cell
    before: pyperf.Benchmark  # run A
    after: pyperf.Benchmark  # run B
    # Each run's figure for the cell: its log mean over worker processes, with its run's moderated variance.
    before_spread: Spread
    after_spread: Spread
    # The between-run component of the cell's group; None: within-run scatter only.
    between: BetweenRuns | None = None

    @property
    def interval(self) -> Interval:
        """B's speed-up over A (below 1: slower) with its interval, within-run and between-run scatter both; for a
        memory cell, A's peak memory over B's."""
        return change_interval(self.before_spread, self.after_spread, self.between)

    @property
    def ratio(self) -> float:
        return self.interval.value

    @property
    def mark(self) -> str | None:
        """``stats.significance``: None when the interval excludes no change, else "n.s." or "not tested"."""
        return significance(self.interval)

    @property
    def is_memory(self) -> bool:
        return is_memory(self.after)

    @property
    def metric(self) -> str:
        return "memory" if self.is_memory else "time"


def compared_cells(run_a: Run, run_b: Run) -> list[tuple[Workload, Cell]]:
    """Every cell of either run with its workload: run A's in its order, then those only run B has."""
    found: dict[Cell, Workload] = {}
    for run in (run_a, run_b):
        for workload in run.workloads:
            for cell in workload.cells():
                found.setdefault(cell, workload)
    return [(workload, cell) for cell, workload in found.items()]


def common_ids(run_a: Run, run_b: Run) -> list[str]:
    """Interpreter ids of both runs, in run A's order."""
    in_b = {column.id for column in run_b.columns}
    return [column.id for column in run_a.columns if column.id in in_b]


def between_run_components(changes: Iterable[CellChange]) -> dict[GroupKey, BetweenRuns]:
    """The between-run component of each workload's cells of one metric over every interpreter, and of all cells of
    each metric; groups without a cell that has an interval have none."""
    groups: dict[GroupKey, list[CellChange]] = {}
    for change in changes:
        for key in ((change.metric, change.workload.name), (change.metric, None)):
            groups.setdefault(key, []).append(change)
    found = {key: between_runs([(c.before_spread, c.after_spread) for c in group]) for key, group in groups.items()}
    return {key: component for key, component in found.items() if component is not None}


def component_of(change: CellChange, components: dict[GroupKey, BetweenRuns]) -> BetweenRuns | None:
    """The between-run component of the cell's workload and metric, or of all cells of its metric when the workload
    has fewer than ``MIN_CELLS_OWN_SCATTER`` cells with an interval."""
    own = components.get((change.metric, change.workload.name))
    if own is not None and own.cells >= MIN_CELLS_OWN_SCATTER:
        return own
    return components.get((change.metric, None))


@dataclass(frozen=True)
class Changes:
    """Every cell measured in both runs, per interpreter id of both (run A's order), each with its between-run
    component; and the components, by group."""

    by_interpreter: dict[str, list[CellChange]]
    between: dict[GroupKey, BetweenRuns]


def measure_changes(cells: Sequence[tuple[Workload, Cell]], run_a: Run, run_b: Run) -> Changes:
    """The cells of ``cells`` each interpreter measured in both runs, with the intervals of their changes."""
    estimator_a, estimator_b = Estimator(run_a), Estimator(run_b)
    within: dict[str, list[CellChange]] = {}
    for interpreter_id in common_ids(run_a, run_b):
        column_a, column_b = run_a.column(interpreter_id), run_b.column(interpreter_id)
        within[interpreter_id] = []
        for workload, cell in cells:
            before, after = column_a.benchmark(cell), column_b.benchmark(cell)
            spread_a, spread_b = estimator_a.spread(column_a, cell), estimator_b.spread(column_b, cell)
            if before is not None and after is not None and spread_a is not None and spread_b is not None:
                within[interpreter_id].append(CellChange(workload, cell, before, after, spread_a, spread_b))
    components = between_run_components(change for found in within.values() for change in found)
    return Changes(
        {
            interpreter_id: [replace(change, between=component_of(change, components)) for change in found]
            for interpreter_id, found in within.items()
        },
        components,
    )


def mean_change(changes: Sequence[CellChange]) -> Interval | None:
    """B's speed-up over A as the geometric mean of the cells' changes, with its interval: each run's processes'
    scatter, and the between-run components of the cells' workloads (``CellChange.between``), neither of which
    averages away over cells. A workload's shift is one draw of what the whole run did, common to every workload, so
    the shifts add up before they are squared; its scatter is one draw per workload, since a run measures a workload's
    cells on one interpreter together, in one step, and another hour moves them all (``intervals.step_variance``).
    Each weighs by the workload's share of the mean. Counted per cell instead, two default runs of the same code put
    most columns 3-6 % faster with intervals that excluded no change. None without changes."""
    if not changes:
        return None
    groups: dict[tuple[str, str], tuple[BetweenRuns, int]] = {}
    for change in changes:
        if change.between is not None:
            key = (change.metric, change.workload.name)
            groups[key] = (change.between, groups.get(key, (change.between, 0))[1] + 1)
    k = len(changes)
    shift = sum(abs(between.shift) * count / k for between, count in groups.values())
    scatter = sum(between.scatter_variance * (count / k) ** 2 for between, count in groups.values())
    return mean_interval([(change.before_spread, change.after_spread) for change in changes], shared=shift**2 + scatter)
