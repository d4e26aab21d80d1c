"""Numbers only: the ratios, tests, means and pairs the report, the charts and a comparison state — never text.

Every figure is pyperf's own where pyperf has it: a cell's mean and standard deviation (``Benchmark.mean``,
``stdev``), its two-sample t-test and its geometric mean. This is the one module that talks to pyperf's statistics,
and the one place that imports them from pyperf's private ``_utils``: pyperf's public API does not export
``is_significant`` or ``geometric_mean`` (``compare_to`` uses them internally), and writing them again would let the
report and ``pyperf compare_to`` disagree on the same files.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass

import pyperf
from pyperf._utils import geometric_mean, is_significant

from .model import Column, Run, is_memory, values_by_round
from .questions import QUESTIONS, Claim, Question
from .registry import Cell, Workload
from .results import CellFailure

__all__ = ["geometric_mean"]  # re-exported: compare's geometric mean is this one, not a second import of pyperf's
NOISY_RSD = 0.05  # above this relative standard deviation (std dev / mean) a cell is called noisy
PARALLEL_SPEEDUP = 1.5  # a second thread bringing this much ran in parallel; below it, threads took turns
STARTUP_CELL = Cell("startup", "bare", None, 0)


# --------------------------------------------------------------------------------------------------------------------
# Two cells


def speed_ratio(baseline: pyperf.Benchmark, benchmark: pyperf.Benchmark) -> float:
    """How many times faster ``benchmark`` is than ``baseline`` (below 1: slower); for memory, how much less."""
    return baseline.mean() / benchmark.mean()


def significance(baseline: pyperf.Benchmark, benchmark: pyperf.Benchmark) -> str | None:
    """``None`` when pyperf's t-test says the two cells differ, ``"n.s."`` when it does not, or ``"not tested"``.

    pyperf's test is Student's two-sample t-test, which assumes samples of equal size: cells with different numbers
    of values (a failed round, a resumed run) are not tested rather than assumed to differ.
    """
    values1, values2 = baseline.get_values(), benchmark.get_values()
    if len(values1) != len(values2) or len(values1) < 2:
        return "not tested"
    try:
        significant, _ = is_significant(values1, values2)
    except ZeroDivisionError:  # both samples without any variance: the test has nothing to divide by
        return "not tested"
    return None if significant else "n.s."


def relative_stdev(benchmark: pyperf.Benchmark) -> float | None:
    return benchmark.stdev() / benchmark.mean() if benchmark.get_nvalue() >= 2 else None

# --------------------------------------------------------------------------------------------------------------------
# A whole run


def fastest(run: Run, cell: Cell) -> Column | None:
    """The column with the lowest mean for ``cell``; the first in run order on a tie."""
    measured = [column for column in run.columns if column.benchmark(cell) is not None]
    return min(measured, key=lambda column: column.benchmark(cell).mean(), default=None)


def common_ratios(run: Run, baseline: Column, column: Column) -> list[float]:
    """``column``'s speed-ups over ``baseline``, over the time cells both ran."""
    ratios = []
    for cell in run.cells:
        base, bench = baseline.benchmark(cell), column.benchmark(cell)
        if base is not None and bench is not None and not is_memory(bench):
            ratios.append(speed_ratio(base, bench))
    return ratios


def geometric_means(run: Run) -> dict[str, tuple[float, int]]:
    """Per interpreter: pyperf's geometric mean of its speed-ups over the baseline, and how many cells it covers.

    Only cells that ran on both count, so a column that failed a slow cell is not flattered or punished by it.
    """
    baseline = run.baseline_column
    if baseline is None:
        return {}
    means = {}
    for column in run.columns:
        ratios = common_ratios(run, baseline, column)
        if ratios:
            means[column.id] = (geometric_mean(ratios), len(ratios))
    return means


def time_cell_count(run: Run) -> int:
    """How many of the run's cells measure time (memory cells are no speed: they stay out of the means)."""
    metrics = {(w.name, v.name): v.metric for w in run.workloads for v in w.variants}
    return sum(1 for cell in run.cells if metrics[cell.workload, cell.variant] == "time")


def noise(run: Run) -> list[tuple[float, Column, Cell]]:
    """Relative std dev of every measured cell, noisiest first."""
    found = []
    for column in run.columns:
        for cell in run.cells:
            benchmark = column.benchmark(cell)
            rsd = relative_stdev(benchmark) if benchmark is not None else None
            if rsd is not None:
                found.append((rsd, column, cell))
    return sorted(found, key=lambda item: (-item[0], item[2].name, item[1].id))


def cell_counts(run: Run) -> tuple[int, int, int]:
    """Cells (interpreter × cell) measured, failed, and not run yet."""
    measured = failed = missing = 0
    for column in run.columns:
        for cell in run.cells:
            outcome = column.outcome(cell)
            if isinstance(outcome, pyperf.Benchmark):
                measured += 1
            elif isinstance(outcome, CellFailure):
                failed += 1
            else:
                missing += 1
    return measured, failed, missing


def steps_left(run: Run, columns: Sequence[Column] | None = None, profile_rounds: int | None = None) -> int:
    """pyperf invocations (one cell, one interpreter, one round) an interrupted run still owes: of ``columns``
    (default: all) under ``profile_rounds`` (default: the run's profile)."""
    rounds = profile_rounds if profile_rounds is not None else run.profile.rounds if run.profile else None
    if rounds is None:
        return 0
    left = 0
    for column in run.columns if columns is None else columns:
        for cell in run.cells:
            outcome = column.outcome(cell)
            if isinstance(outcome, CellFailure):
                continue
            done = len(values_by_round(outcome)) if outcome is not None else 0
            left += max(rounds - done, 0)
    return left


def round_drift(column: Column) -> dict[int, float]:
    """Per round: geometric mean over the column's cells of (that round's mean / the cell's mean over all rounds)."""
    ratios: dict[int, list[float]] = {}
    for benchmark in column.benchmarks.values():
        mean = benchmark.mean()
        for round_number, values in values_by_round(benchmark).items():
            ratios.setdefault(round_number, []).append(statistics.fmean(values) / mean)
    return {round_number: geometric_mean(found) for round_number, found in sorted(ratios.items())}


# --------------------------------------------------------------------------------------------------------------------
# Workers: threads and processes


def thread_scaling(run: Run) -> list[tuple[Workload, int, dict[str, float]]]:
    """Per workload and size with a ``threads`` variant at 1 and 2 workers: each column's ×2-over-×1 speed-up."""
    found = []
    for workload in run.workloads:
        for size in workload.sizes:
            one, two = Cell(workload.name, "threads", 1, size), Cell(workload.name, "threads", 2, size)
            if one not in workload.cells() or two not in workload.cells():
                continue
            speedups = {}
            for column in run.columns:
                bench1, bench2 = column.benchmark(one), column.benchmark(two)
                if bench1 is not None and bench2 is not None:
                    speedups[column.id] = speed_ratio(bench1, bench2)
            found.append((workload, size, speedups))
    return found


@dataclass(frozen=True)
class ScalingPair:
    """A cell with workers and the cell its speed-up is taken over.

    ``against`` says which: ``"self"`` (the same variant with 1 worker), ``"reference"`` (the reference variant,
    which uses no workers: what splitting the work costs or brings against not splitting it at all) or ``"same_n"``
    (the reference with the same N, for a workload whose work grows with N, such as N clients served one after
    another: N times faster is perfect overlap).
    """

    workload: Workload
    variant: str
    workers: int
    size: int
    base: Cell
    cell: Cell
    against: str


def scaling_pairs(workload: Workload) -> list[ScalingPair]:
    """Every time variant with workers of ``workload``, in the scaling table's order (memory cells are no speed)."""
    pairs = []
    same_n = bool(workload.variant(workload.reference).workers)
    cells = set(workload.cells())
    for size in workload.sizes:
        reference = Cell(workload.name, workload.reference, None, size)
        for variant in workload.variants:
            if not variant.workers or variant.metric != "time" or (variant.sizes and size not in variant.sizes):
                continue
            if same_n:
                if variant.name == workload.reference:
                    continue
                for workers in variant.workers:
                    base = Cell(workload.name, workload.reference, workers, size)
                    cell = Cell(workload.name, variant.name, workers, size)
                    pairs.append(ScalingPair(workload, variant.name, workers, size, base, cell, "same_n"))
                continue
            one = Cell(workload.name, variant.name, 1, size)
            for workers in variant.workers:
                cell = Cell(workload.name, variant.name, workers, size)
                pairs.append(ScalingPair(workload, variant.name, workers, size, one, cell, "self"))
            # Compiled threaded variants do a larger, fixed amount of work in C, and a package's threads (numexpr)
            # run another implementation altogether: only their own 1-worker cell compares with them.
            if reference in cells and variant.binding is None and not workload.requirements:
                for workers in variant.workers:
                    if workers != 1:
                        cell = Cell(workload.name, variant.name, workers, size)
                        pairs.append(ScalingPair(workload, variant.name, workers, size, reference, cell, "reference"))
    return pairs


def scaling_ratio(column: Column, pair: ScalingPair) -> float | None:
    base, bench = column.benchmark(pair.base), column.benchmark(pair.cell)
    return speed_ratio(base, bench) if base is not None and bench is not None else None


# --------------------------------------------------------------------------------------------------------------------
# The seeds' claims


@dataclass(frozen=True)
class ClaimResult:
    """A claim's measured ratio on one interpreter, and whether the claim holds there."""

    ratio: float
    holds: bool
    # pyperf's t-test mark when the two cells could not be told apart ("n.s.") or not tested.
    mark: str | None


def claim_result(claim: Claim, slow: pyperf.Benchmark | None, fast: pyperf.Benchmark | None) -> ClaimResult | None:
    """The claim's ratio from two cells, or None when either did not run.

    A promised gain must also be significant by pyperf's t-test; "does not speed up" holds on a difference the test
    cannot tell from noise as well. (A memory cell's values are peak bytes, one per worker process.)
    """
    if slow is None or fast is None:
        return None
    ratio = slow.mean() / fast.mean()
    mark = significance(fast, slow)
    if claim.at_least is not None:
        holds = ratio >= claim.at_least and mark is None
    else:
        holds = ratio <= claim.at_most
    return ClaimResult(ratio, holds, mark)


def claim_results(run: Run, claim: Claim) -> dict[str, ClaimResult | None]:
    """Per interpreter of the run (without the JIT ones, for a claim against the JIT): the claim's result.

    Against the JIT means against the first JIT of the same machine: in a merged run, another machine's JIT would
    mix the two machines into the ratio.
    """
    slow_cell, fast_cell = Cell.parse(claim.slow), Cell.parse(claim.fast)
    results: dict[str, ClaimResult | None] = {}
    if claim.versus_jit:
        jits: dict[str | None, Column] = {}
        for column in run.columns:
            if column.interpreter.is_jit:
                jits.setdefault(run.machine(column.id), column)
        for column in run.columns:
            if column.interpreter.is_jit:
                continue
            jit = jits.get(run.machine(column.id))
            fast = jit.benchmark(fast_cell) if jit is not None else None
            results[column.id] = claim_result(claim, column.benchmark(slow_cell), fast)
        return results
    for column in run.columns:
        results[column.id] = claim_result(claim, column.benchmark(slow_cell), column.benchmark(fast_cell))
    return results


def claim_holding(results: dict[str, ClaimResult | None]) -> tuple[list[str], list[str]]:
    """(interpreters where the claim holds, interpreters that measured it), in run order."""
    measured = [iid for iid, result in results.items() if result is not None]
    return [iid for iid in measured if results[iid].holds], measured


# --------------------------------------------------------------------------------------------------------------------
# Free-threading


def free_threading_figures(run: Run, ft: Column, other: Column) -> tuple[float | None, int, list[tuple[Cell, float]]]:
    """(geometric-mean slowdown of single-thread cells, their count, multi-thread speed-ups) of ``ft`` vs ``other``.

    Single-thread cells are the registry's ``pure_python`` variants: what a program that never starts a thread pays
    for free-threading. Thread cells with more workers show what it buys.
    """
    single, speedups = [], []
    variants = {(w.name, v.name): v for w in run.workloads for v in w.variants}
    groups = {w.name: w.group for w in run.workloads}
    for cell in run.cells:
        base, bench = other.benchmark(cell), ft.benchmark(cell)
        if base is None or bench is None:
            continue
        # Only bytecode in one thread: C kernels, numpy, process starts and waits on I/O would dilute the cost.
        if variants[cell.workload, cell.variant].pure_python and cell.workers in (None, 1):
            single.append(bench.mean() / base.mean())
        elif cell.variant == "threads" and (cell.workers or 1) > 1 and groups[cell.workload] != "I/O":
            speedups.append((cell, speed_ratio(base, bench)))
    cost = geometric_mean(single) - 1 if single else None
    return cost, len(single), speedups


# --------------------------------------------------------------------------------------------------------------------
# The verdict: the fastest way to run a kind of code, and what it costs


@dataclass(frozen=True)
class Answer:
    question: Question
    workload: Workload
    # The reference cell the question compares with, on the baseline interpreter.
    reference: Cell
    baseline: Column | None
    # The fastest measured (column, cell) among the candidates, if any ran.
    best: tuple[Column, Cell] | None
    # Interpreters where no candidate ran: the failure kinds of their candidate cells (empty: not run at all).
    missing: dict[str, list[str]]

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

    @property
    def mark(self) -> str | None:
        base, best = self.reference_benchmark, self.best_benchmark
        if base is None or best is None or base is best:
            return None
        return significance(base, best)


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


def failure_kinds(column: Column, cells: Sequence[Cell]) -> list[str]:
    """The kinds of failure among ``cells`` on ``column``, each once, in cell order."""
    kinds: list[str] = []
    for cell in cells:
        outcome = column.outcome(cell)
        if isinstance(outcome, CellFailure) and outcome.kind not in kinds:
            kinds.append(outcome.kind)
    return kinds


def answer(run: Run, question: Question) -> Answer:
    workload = next(w for w in run.workloads if w.name == question.workload)
    cells = candidates(workload, question)
    columns = run.compared_columns()
    measured = [
        (column.benchmark(cell).mean(), index, column, cell)
        for index, column in enumerate(columns)
        for cell in cells
        if column.benchmark(cell) is not None
    ]
    best = min(measured, key=lambda found: found[:2], default=None)
    missing = {
        column.id: failure_kinds(column, cells)
        for column in columns
        if all(column.benchmark(cell) is None for cell in cells)
    }
    return Answer(
        question,
        workload,
        reference_cell(workload, question),
        run.baseline_column,
        (best[2], best[3]) if best is not None else None,
        missing,
    )


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


def warmup_ratio(benchmark: pyperf.Benchmark) -> float | None:
    """The first warm-up value of a worker process over the cell's steady mean (1.0: no warm-up to speak of)."""
    firsts = [run.warmups[0][1] for run in benchmark.get_runs() if run.values and run.warmups]
    if not firsts:
        return None
    return (sum(firsts) / len(firsts)) / benchmark.mean()


def payoff(
    jit: pyperf.Benchmark, other: pyperf.Benchmark, jit_start: float = 0.0, other_start: float = 0.0
) -> tuple[int, float] | None:
    """After how many calls a script on the JIT interpreter has spent less time than on ``other`` (start-up
    included), and how long that script runs on ``other``; None when the JIT is never ahead (slower when warm).

    The JIT's calls are what one of its pyperf worker processes recorded, in order: the warm-up values (the first
    calls of a fresh process, JIT compilation included), then the timed values; each value is the mean of its
    ``loops`` calls, so the crossing is found to within one value's loops. ``other`` is taken at its mean.
    """
    run = next((r for r in jit.get_runs() if r.values), None)
    if run is None:
        return None
    per_call = other.mean()
    sequence = [(loops, value) for loops, value in (run.warmups or ())]
    sequence += [(run.get_loops(), value) for value in run.values]
    # After the recorded calls, every further call at the cell's steady mean.
    sequence.append((None, jit.mean()))
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
) -> tuple[tuple[int, float] | None, bool] | None:
    """``payoff`` of ``column``'s cell against ``other``'s, start-up included where both measured it; with whether
    start-up was included. None when either cell did not run."""
    jit, base = column.benchmark(cell), other.benchmark(other_cell)
    if jit is None or base is None:
        return None
    start, other_start = startup_time(column), startup_time(other)
    if start is not None and other_start is not None:
        return payoff(jit, base, start.mean(), other_start.mean()), True
    return payoff(jit, base), False
