"""The verdict's numbers: for a kind of code, the fastest (interpreter, variant) among the run's cells, whether it
beats the runner-up, how it compares with the baseline's reference, and what choosing it costs (start-up, JIT
warm-up, memory).

A winner is named only when the runner-up's time over the winner's has a 95 % interval above 1 (``intervals``);
otherwise the answer is the group of candidates the fastest cannot be told apart from: a tie when each of them surely
runs within ``EQUIVALENCE_FACTOR`` of the fastest, else undecided.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass

import pyperf

from .intervals import Estimator, Interval, log_interval
from .model import Column, Run
from .questions import QUESTIONS, Question
from .registry import Cell, Workload
from .results import CellFailure
from .samples import steady_values
from .stats import speed_ratio

STARTUP_CELL = Cell("startup", "bare", None, 0)
Choice = tuple[Column, Cell]


@dataclass(frozen=True)
class Answer:
    question: Question
    workload: Workload
    # The reference cell the question compares with, on the baseline interpreter.
    reference: Cell
    baseline: Column | None
    # Every measured candidate (column, cell), fastest first by the mean of its processes' logs (run order on a tie).
    ranked: tuple[Choice, ...]
    # The candidates after the fastest that it cannot be told apart from, each with its time ÷ the fastest's.
    ties: tuple[tuple[Choice, Interval | None], ...]
    # The runner-up's time ÷ the fastest's (None: no runner-up).
    margin: Interval | None
    # The reference on the baseline ÷ the fastest (None: either did not run).
    ratio_interval: Interval | None
    # Interpreters where no candidate ran: the failure kinds of their candidate cells (empty: not run at all).
    missing: dict[str, list[str]]

    @property
    def best(self) -> Choice | None:
        return self.ranked[0] if self.ranked else None

    @property
    def decided(self) -> bool:
        """A winner: it beat the runner-up by more than noise (or had none)."""
        return self.best is not None and not self.ties

    @property
    def tied(self) -> bool:
        """A decided tie: every candidate the fastest cannot be told apart from surely runs within
        ``EQUIVALENCE_FACTOR`` of it, so that any of them serves as well."""
        return self.best is not None and bool(self.ties) and all(
            behind is not None and behind.within(1.0) for _, behind in self.ties
        )

    @property
    def reference_benchmark(self) -> pyperf.Benchmark | None:
        return self.baseline.benchmark(self.reference) if self.baseline is not None else None

    @property
    def best_benchmark(self) -> pyperf.Benchmark | None:
        return self.best[0].benchmark(self.best[1]) if self.best is not None else None

    @property
    def ratio(self) -> float | None:
        base, best = self.reference_benchmark, self.best_benchmark
        return speed_ratio(base, best) if base is not None and best is not None else None


def _size(workload: Workload, question: Question | None) -> int:
    if question is not None and question.size is not None:
        return question.size
    return next(cell.size for cell in workload.cells() if cell.variant == workload.reference)


def candidates(workload: Workload, question: Question) -> list[Cell]:
    size = _size(workload, question)
    metric = {variant.name: variant.metric for variant in workload.variants}
    return [
        cell
        for cell in workload.cells()
        if cell.size == size
        and metric[cell.variant] == "time"
        and (question.variants is None or cell.variant in question.variants)
        and (question.workers is None or cell.workers in (None, question.workers))
    ]


def reference_cell(workload: Workload, question: Question | None = None) -> Cell:
    """The workload's reference variant at the question's size (else the first it is measured at), with the
    question's worker count where it has workers, else the fewest (1 for a reference with workers, such as
    io_threads' serial clients): the cell a verdict compares with, and the one the speed-up chart shows."""
    size = _size(workload, question)
    cells = [cell for cell in workload.cells() if cell.variant == workload.reference and cell.size == size]
    if question is not None and question.workers is not None:
        cells = [cell for cell in cells if cell.workers in (None, question.workers)] or cells
    return min(cells, key=lambda cell: cell.workers or 0)


def reference_cells(workload: Workload) -> set[Cell]:
    """Every reference cell of ``workload``: the speed-up chart's and each of its questions' (``reference_cell``)."""
    asked = [question for question in QUESTIONS if question.workload == workload.name]
    return {reference_cell(workload), *(reference_cell(workload, question) for question in asked)}


def failure_kinds(column: Column, cells: Sequence[Cell]) -> list[str]:
    """The kinds of failure among ``cells`` on ``column``, each once, in cell order."""
    kinds: list[str] = []
    for cell in cells:
        outcome = column.outcome(cell)
        if isinstance(outcome, CellFailure) and outcome.kind not in kinds:
            kinds.append(outcome.kind)
    return kinds


def answer(estimator: Estimator, question: Question) -> Answer:
    run = estimator.run
    workload = next(w for w in run.workloads if w.name == question.workload)
    cells = candidates(workload, question)
    # A self-timed runtime (CPython 2.7, Jython, MicroPython, Pyodide) runs only the portable kernels: a recommendation
    # for a kind of code is among the interpreters that run it whole. Its figures are in the tables and the seeds'
    # systems.
    columns = [column for column in run.compared_columns() if not column.interpreter.self_timed]
    # Ranked by the figure the intervals are about (the mean of the processes' logs), not pyperf's mean of every value:
    # the two can disagree on a noisy cell, and then "the runner-up's time ÷ the fastest's" would fall below 1.
    measured = [
        (found.mean if (found := estimator.sample(column, cell)) is not None else math.inf, index, column, cell)
        for index, column in enumerate(columns)
        for cell in cells
        if column.benchmark(cell) is not None
    ]
    ranked = tuple((column, cell) for _, _, column, cell in sorted(measured, key=lambda found: found[:2]))
    ties, margin = [], None
    if ranked:
        for choice in ranked[1:]:
            behind = estimator.ratio(choice, ranked[0], picked=True)
            margin = behind if margin is None else margin
            if behind is None or not behind.excludes(1.0):
                ties.append((choice, behind))
    missing = {
        column.id: failure_kinds(column, cells)
        for column in columns
        if all(column.benchmark(cell) is None for cell in cells)
    }
    reference = reference_cell(workload, question)
    baseline = run.baseline_column
    against = None
    if ranked and baseline is not None and (baseline, reference) != ranked[0]:
        against = estimator.ratio((baseline, reference), ranked[0])
    return Answer(question, workload, reference, baseline, ranked, tuple(ties), margin, against, missing)


def run_questions(run: Run) -> list[Question]:
    """The questions (``questions.QUESTIONS``) whose workload is in the run, then one per user workload."""
    names = {workload.name for workload in run.workloads}
    found = [question for question in QUESTIONS if question.workload in names]
    for workload in run.workloads:
        if workload.source is not None:
            found.append(Question("Your workload", workload.name, (workload.reference,)))
    return found


def startup_time(column: Column) -> pyperf.Benchmark | None:
    return column.benchmark(STARTUP_CELL)  # the interpreter's own start-up (``python -c pass``), if measured


def memory_cell(workload: Workload, cell: Cell) -> Cell | None:
    """The memory cell of the same variant as ``cell`` (any worker count or size), else the workload's first."""
    memory = [c for c in workload.cells() if workload.variant(c.variant).metric == "memory"]
    same = [c for c in memory if c.variant == f"{cell.variant}_memory"]
    return (same or memory or [None])[0]


# --------------------------------------------------------------------------------------------------------------------
# Warm-up


def warmup_ratio(benchmark: pyperf.Benchmark) -> Interval | None:
    """How many times slower a fresh worker process's first calls ran than its warm ones: in each process, its first
    warm-up value over the mean of its own steady values (``samples.steady_values``), and over the cell's processes,
    the independent units, their geometric mean with its 95 % interval (Student's t on the logs; none from one
    process). 1.0: no warm-up to speak of. None: no process recorded a warm-up (a memory cell)."""
    logs = [
        math.log(process.warmups[0][1] / statistics.fmean(steady_values(process.values)))
        for process in benchmark.get_runs()
        if process.values and process.warmups
    ]
    if not logs:
        return None
    mean = statistics.fmean(logs)
    if len(logs) < 2:
        return Interval(math.exp(mean), None, None)
    return log_interval(mean, [(statistics.variance(logs) / len(logs), len(logs) - 1)])


def warmup_cells(run: Run) -> list[tuple[Workload, Cell]]:
    """The cells whose warm-up the report shows (``warmup_ratio``): each question's reference cell, once per cell
    (two questions on one workload share it), in the questions' order."""
    workloads = {workload.name: workload for workload in run.workloads}
    found: dict[Cell, Workload] = {}
    for question in run_questions(run):
        workload = workloads[question.workload]
        found.setdefault(reference_cell(workload, question), workload)
    return [(workload, cell) for cell, workload in found.items()]


def payoff(
    run: pyperf.Run, per_call: float, jit_start: float = 0.0, other_start: float = 0.0
) -> tuple[int, float] | None:
    """After how many calls a script on the JIT interpreter has spent less time than on the other (start-up included),
    and how long that script runs on the other, by one worker process ``run`` of the JIT's cell; None when the JIT
    is never ahead in that process (slower when warm).

    The JIT's calls are what the process recorded, in order: the warm-up values (the first calls of a fresh process,
    JIT compilation included), then the timed values, then every further call at the mean of its timed values; each
    value is the mean of its ``loops`` calls, so the crossing is found to within one value's loops. The other side
    takes ``per_call`` seconds a call, its cell's mean.
    """
    if not run.values:
        return None
    sequence = [(loops, value) for loops, value in (run.warmups or ())]
    sequence += [(run.get_loops(), value) for value in run.values]
    sequence.append((None, sum(run.values) / len(run.values)))
    spent_jit, spent_other, calls = jit_start, other_start, 0
    for loops, value in sequence:
        if value < per_call:
            # Calls into this stretch at which the JIT's total has caught up (at least one call: a script runs one).
            needed = max(1, math.ceil((spent_jit - spent_other) / (per_call - value)))
            if loops is None or needed <= loops:
                return calls + needed, spent_other + needed * per_call
        if loops is None:
            return None
        spent_jit += loops * value
        spent_other += loops * per_call
        calls += loops
    return None


def payoff_with_startup(
    column: Column, cell: Cell, other: Column, other_cell: Cell
) -> tuple[list[tuple[int, float] | None], bool] | None:
    """``payoff`` of each worker process of ``column``'s cell against ``other``'s cell, start-up included where both
    measured it; with whether start-up was included. None when either cell did not run. Each process is an
    independent unit: its first calls (compiling, warming) and its speed are its own."""
    jit, base = column.benchmark(cell), other.benchmark(other_cell)
    if jit is None or base is None:
        return None
    start, other_start = startup_time(column), startup_time(other)
    both = start is not None and other_start is not None
    starts = (start.mean(), other_start.mean()) if both else (0.0, 0.0)
    return [payoff(run, base.mean(), *starts) for run in jit.get_runs() if run.values], both
