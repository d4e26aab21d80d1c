"""Numbers only: the ratios, means, pairs and decisions the report, the charts and a comparison state — never text.

A cell's mean and standard deviation are pyperf's own (``Benchmark.mean``, ``stdev``); every ratio a conclusion rests
on comes with the 95 % interval of ``intervals`` (worker processes as the independent units), and a conclusion is
drawn only where that interval decides it. pyperf's ``geometric_mean`` comes from its private ``_utils`` (the public
API does not export it; ``compare_to`` uses it), so that the report and ``pyperf compare_to`` agree on the same files.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass

import pyperf
from pyperf._utils import geometric_mean

from .intervals import AT_THRESHOLD, FAILS, HOLDS, OWN_PROCESSES, UNDECIDED, Estimator, Interval
from .model import Column, Run, is_memory, values_by_round
from .questions import Claim
from .registry import Cell, Workload
from .results import CellFailure
from .samples import SEVERAL_WORKERS, probe_group

__all__ = ["geometric_mean"]  # re-exported: compare's geometric mean is this one, not a second import of pyperf's
NOISY_RSD = 0.05  # above this relative standard deviation (std dev / mean) a cell is called noisy
PARALLEL_SPEEDUP = 1.5  # a second thread bringing this much ran in parallel; below it, threads took turns


# --------------------------------------------------------------------------------------------------------------------
# Two cells


def speed_ratio(baseline: pyperf.Benchmark, benchmark: pyperf.Benchmark) -> float:
    """How many times faster ``benchmark`` is than ``baseline`` (below 1: slower); for memory, how much less."""
    return baseline.mean() / benchmark.mean()


def significance(interval: Interval | None) -> str | None:
    """``None`` when the ratio's 95 % interval excludes 1 (the two cells differ), ``"n.s."`` when it does not, or
    ``"not tested"`` when the ratio has no interval (a cell measured in one process with no variance to borrow: see
    ``intervals``)."""
    if interval is None or not interval.known:
        return "not tested"
    return None if interval.excludes(1.0) else "n.s."


def relative_stdev(benchmark: pyperf.Benchmark) -> float | None:
    return benchmark.stdev() / benchmark.mean() if benchmark.get_nvalue() >= 2 else None

# --------------------------------------------------------------------------------------------------------------------
# A whole run


def fastest(estimator: Estimator, cell: Cell) -> Column | None:
    """The column with the lowest figure for ``cell`` (the mean of its processes' logs, the figure every ratio is
    about); the first in run order on a tie."""
    measured = [(found.mean, column) for column in estimator.run.columns
                if (found := estimator.sample(column, cell)) is not None]
    return min(measured, key=lambda item: item[0], default=(None, None))[1]


def interpreter_dependent(workload: Workload, cell: Cell) -> bool:
    """A time cell whose figure depends on the interpreter: not a C program timing itself (``c``), not memory."""
    variant = workload.variant(cell.variant)
    return variant.metric == "time" and variant.binding != "c"


# An interpreter that ran fewer than this share of the cells the others ran is left out of the ranking (its common
# set with them would shrink every other interpreter's to its own).
RANKED_SHARE = 0.75


@dataclass(frozen=True)
class Ranking:
    """Geometric means of speed-ups over the baseline, all over one set of cells: the interpreter-dependent time
    cells that every ranked interpreter and the baseline ran. ``left_out``: interpreters that ran too few of them
    to be ranked (how many they ran)."""

    cells: tuple[Cell, ...]
    means: dict[str, Interval]
    left_out: dict[str, int]


def geometric_means(estimator: Estimator, columns: Sequence[Column] | None = None) -> Ranking | None:
    """The ranking of ``columns`` (default: the run's) over the baseline, with intervals; None without a baseline."""
    run = estimator.run
    baseline = run.baseline_column
    if baseline is None:
        return None
    workloads = {w.name: w for w in run.workloads}
    eligible = [c for c in run.cells if workloads[c.workload].overall_mean
                and interpreter_dependent(workloads[c.workload], c) and baseline.benchmark(c)]
    columns = list(run.columns if columns is None else columns)
    ran = {column.id: {c for c in eligible if column.benchmark(c) is not None} for column in columns}
    most = max((len(found) for found in ran.values()), default=0)
    ranked = [column for column in columns if most and len(ran[column.id]) >= RANKED_SHARE * most]
    common = [c for c in eligible if all(c in ran[column.id] for column in ranked)]
    means = {}
    for column in ranked:
        found = estimator.geometric_mean([((baseline, cell), (column, cell)) for cell in common])
        if found is not None:
            means[column.id] = found
    left_out = {column.id: len(ran[column.id]) for column in columns if column not in ranked}
    return Ranking(tuple(common), means, left_out)


@dataclass(frozen=True)
class Ranked:
    """One interpreter's place in a ranking: its rank (shared with the ones the data cannot tell from the first of
    that rank; None for a mean without an interval, which no test can place), its geometric mean over the baseline,
    and, after the first of a rank, the first's speed-up over it."""

    rank: int | None
    column_id: str
    mean: Interval
    behind: tuple[str, Interval] | None = None


def ranks(estimator: Estimator, ranking: Ranking) -> list[Ranked]:
    """The ranking's interpreters fastest first, in ranks: an interpreter shares the rank of the first of the rank
    above it while the geometric mean of that one's speed-up over it, on the ranking's cells, has an interval that
    holds 1 (or none); else it starts the next rank, numbered as in sports (1, 1, 3). Against the baseline the
    ranking's own interval is that test. A rank is only what a test decided: two means whose order one run's noise
    could swap share it. Means without an interval (cells measured once with nothing to borrow from) come last,
    unranked."""
    run = estimator.run
    ordered = sorted(ranking.means.items(), key=lambda item: -item[1].value)
    placed = [(iid, mean) for iid, mean in ordered if mean.known or iid == run.baseline]
    found: list[Ranked] = []
    for place, (column_id, mean) in enumerate(placed, start=1):
        if found:
            first = next(r for r in found if r.rank == found[-1].rank)
            if first.column_id == run.baseline:
                gap = mean.inverse()
            elif column_id == run.baseline:
                gap = first.mean
            else:
                gap = estimator.geometric_mean([
                    ((run.column(column_id), cell), (run.column(first.column_id), cell)) for cell in ranking.cells
                ])
            if gap is None or not gap.excludes(1.0):
                found.append(Ranked(first.rank, column_id, mean, (first.column_id, gap or Interval(1.0, None, None))))
                continue
        found.append(Ranked(place, column_id, mean))
    return found + [Ranked(None, iid, mean) for iid, mean in ordered if (iid, mean) not in placed]


def time_cell_count(run: Run) -> int:
    """How many of the run's cells measure time (memory cells are no speed: they stay out of the means)."""
    metrics = {(w.name, v.name): v.metric for w in run.workloads if w.overall_mean for v in w.variants}
    return sum(1 for cell in run.cells if metrics.get((cell.workload, cell.variant)) == "time")


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


def cell_counts(run: Run) -> tuple[int, int, int, int]:
    """Cells (interpreter × cell) measured, failed, unavailable there, and not run yet. Unavailable is no failure of
    the run: the interpreter cannot have that cell (a self-timed runtime without pyperf, a package that does not
    install there), and the tables say why."""
    measured = failed = unavailable = missing = 0
    for column in run.columns:
        for cell in run.cells:
            outcome = column.outcome(cell)
            if isinstance(outcome, pyperf.Benchmark):
                measured += 1
            elif isinstance(outcome, CellFailure) and outcome.kind == "unavailable":
                unavailable += 1
            elif isinstance(outcome, CellFailure):
                failed += 1
            else:
                missing += 1
    return measured, failed, unavailable, missing


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
    """Per round: geometric mean over the column's time cells of (that round's mean / the cell's mean over all rounds)."""
    ratios: dict[int, list[float]] = {}
    for benchmark in column.benchmarks.values():
        if is_memory(benchmark):  # bytes, not time: a machine's drift does not move them
            continue
        mean = benchmark.mean()
        for round_number, values in values_by_round(benchmark).items():
            ratios.setdefault(round_number, []).append(statistics.fmean(values) / mean)
    return {round_number: geometric_mean(found) for round_number, found in sorted(ratios.items())}


# --------------------------------------------------------------------------------------------------------------------
# Workers: threads and processes


def thread_scaling(estimator: Estimator) -> list[tuple[Workload, int, dict[str, Interval]]]:
    """Per workload and size with a ``threads`` variant at 1 and 2 workers: each column's ×2-over-×1 speed-up."""
    run = estimator.run
    found = []
    for workload in run.workloads:
        for size in workload.sizes:
            one, two = Cell(workload.name, "threads", 1, size), Cell(workload.name, "threads", 2, size)
            if one not in workload.cells() or two not in workload.cells():
                continue
            speedups = {}
            for column in run.columns:
                interval = estimator.ratio((column, one), (column, two))
                if interval is not None:
                    speedups[column.id] = interval
            found.append((workload, size, speedups))
    return found


def parallel(interval: Interval) -> str:
    """HOLDS when a second worker surely brought ``PARALLEL_SPEEDUP`` or more, FAILS when it surely did not."""
    return interval.against(at_least=PARALLEL_SPEEDUP)


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
            # A variant without a 1-worker cell (ParallelPython's pp_local on two workers alone) has nothing of its own
            # to scale from: a row for it would be dashes on every interpreter.
            for workers in variant.workers if one in cells else ():
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


def scaling_ratio(estimator: Estimator, column: Column, pair: ScalingPair) -> Interval | None:
    return estimator.ratio((column, pair.base), (column, pair.cell))


# --------------------------------------------------------------------------------------------------------------------
# The seeds' claims


@dataclass(frozen=True)
class ClaimResult:
    """A claim's measured ratio on one interpreter, with its interval, and the decision it allows: HOLDS, FAILS,
    AT_THRESHOLD (it straddles the threshold within the equivalence band) or UNDECIDED (it straddles it more widely,
    or there is no interval, or ``machine_bound``, or ``beyond_workers``)."""

    interval: Interval
    decision: str
    # Undecided because the claim needs a second core and the machine's own two threads did not surely run faster
    # than its threshold (``claim_result``): its "no speed-up" would be the machine's.
    machine_bound: bool = False
    # Undecided because the whole interval shows more speed-up than the fast cell's extra workers can give
    # (``claim_result``): the slow cell ran slow for another reason, and the figure is not the workers'.
    beyond_workers: bool = False
    # Undecided because a cell of the claim on several workers has fewer than ``OWN_PROCESSES`` processes (how many
    # it has; 0 otherwise): its interval rests on one degree of freedom (``claim_result``).
    few_processes: int = 0

    @property
    def ratio(self) -> float:
        return self.interval.value


def free_cores_bound(claim: Claim) -> float:
    """The most that free cores could multiply a claim's measured speed-up by, however few the run's workers had: its
    fast cell's workers over its slow cell's (2 for two workers against one). Even if the run's second worker shared
    one core with the first, a core of its own can at most halve their time; the one worker's time is the same."""
    return (Cell.parse(claim.fast).workers or 1) / (Cell.parse(claim.slow).workers or 1)


def needs_cores(claim: Claim) -> bool:
    """Whether the claim is about a speed-up from more workers: its fast cell runs on more of them than its slow."""
    return free_cores_bound(claim) > 1


def claim_result(
    claim: Claim, interval: Interval | None, parallelism: Interval | None = None, processes: int | None = None
) -> ClaimResult | None:
    """The claim tested on the ratio slow ÷ fast; None when either cell did not run. ``processes``: the fewest worker
    processes of the claim's cells on several workers (None: none is). Such a cell borrows no variance that would narrow
    its interval (``intervals``), so on two processes its scatter rests on one degree of freedom, which two processes
    that ran in the same busy minute of the shared host make about nil, and the interval is then no wider than the
    between-run floor: in a default run (2026-12-06T09-55-37Z) Cython's two threads on CPython 3.11 ran 7.94 and 7.92 ms
    a call, and "C extensions that release the GIL let threads run in parallel" read "fails", 1.28x [1.13-1.45] against
    1.5x, where the run before found 1.71x [1.51-1.94] on four processes (5.3-5.8 ms). Decided on fewer than
    ``OWN_PROCESSES``, such a claim is undecided instead, and the budget's next round gives the cell another.

    A claim that ``needs_cores`` and finds no speed-up (it fails a speed-up it promises, or holds that none happens) is
    undecided instead when the machine's own two threads (``parallelism``, ``Estimator.machine_parallelism``) did not
    surely run faster than the claim's threshold: on two cores that the other tenant of a shared host held, threads of C
    code that release the GIL ran 1.16x faster than one [0.95-1.42] where they ran 1.99x [1.78-2.22] at a quiet hour.
    Unless the interval finds no speed-up even multiplied by ``free_cores_bound``: then no machine would have found one
    (PyPy's process pools ran 0.10x [0.07-0.13] as fast as its one worker, which free cores could make 0.26x at most,
    never 1.5x). A claim that ``needs_cores`` whose whole interval lies above ``free_cores_bound`` is undecided too
    (``beyond_workers``): no number of workers makes the same work that much faster than one."""
    if interval is None:
        return None
    if needs_cores(claim) and interval.known and interval.low > free_cores_bound(claim):
        # More than N workers can give over one, however free the cores: PyPy 3.11's numexpr on two threads ran
        # 3.09x [2.17-4.40] faster than on one over three default runs pooled. Its one-thread cell's processes each
        # ran every call after the first at about 218 ms, or at 45-50 ms (one in four), its two-thread cell's at
        # 28-30 ms: a mode of the process, not the threads (the kernel faulting in each call's fresh result while
        # earlier ones wait for PyPy's collector; numexpr has written into an output its process keeps since, which
        # takes that mode out: workloads/numeric.py). Such a figure decides nothing about workers.
        return ClaimResult(interval, UNDECIDED, beyond_workers=True)
    decision = interval.against(at_least=claim.at_least, at_most=claim.at_most)
    if decision != UNDECIDED and processes is not None and processes < OWN_PROCESSES:
        return ClaimResult(interval, UNDECIDED, few_processes=processes)
    none_found = FAILS if claim.at_least is not None else HOLDS
    threshold = claim.at_least if claim.at_least is not None else claim.at_most
    if decision == none_found and needs_cores(claim) and parallelism is not None and not (
        parallelism.low is not None and parallelism.low > threshold
    ):
        bound = free_cores_bound(claim)
        on_free_cores = Interval(interval.value * bound, interval.low * bound, interval.high * bound)
        if on_free_cores.against(at_least=claim.at_least, at_most=claim.at_most) != none_found:
            return ClaimResult(interval, UNDECIDED, machine_bound=True)
    return ClaimResult(interval, decision)


@dataclass(frozen=True)
class ClaimRow:
    """One row of a claim: per interpreter, its result; ``jit``: the JIT column the row is measured against (a claim
    against the JIT has one row per JIT of the run), else None."""

    claim: Claim
    jit: str | None
    results: dict[str, ClaimResult | None]

    def verdict(self) -> dict[str, list[str]]:
        """The interpreters where the claim holds, fails, sits at its threshold or is undecided (each decision a key,
        in that order, its interpreters in run order)."""
        found: dict[str, list[str]] = {HOLDS: [], FAILS: [], AT_THRESHOLD: [], UNDECIDED: []}
        for interpreter_id, result in self.results.items():
            if result is not None:
                found[result.decision].append(interpreter_id)
        return found


def several_workers_processes(estimator: Estimator, *cells: tuple[Column, Cell]) -> int | None:
    """The fewest worker processes among ``cells`` that run on several workers; None when none does (or ran)."""
    counts = [found.n for column, cell in cells
              if probe_group(cell) == SEVERAL_WORKERS and (found := estimator.sample(column, cell)) is not None]
    return min(counts) if counts else None


def claim_rows(estimator: Estimator, claim: Claim) -> list[ClaimRow]:
    """The claim on every interpreter; against the JIT, one row per JIT column of ``claim.jit_of``, by name, each
    against the interpreters of other implementations on its own machine (in a merged run, another machine's JIT
    would mix the two machines)."""
    run = estimator.run
    slow_cell, fast_cell = Cell.parse(claim.slow), Cell.parse(claim.fast)
    if not claim.versus_jit:
        results = {
            column.id: claim_result(claim, estimator.ratio((column, slow_cell), (column, fast_cell)),
                                    estimator.machine_parallelism,
                                    several_workers_processes(estimator, (column, slow_cell), (column, fast_cell)))
            for column in run.columns
        }
        return [ClaimRow(claim, None, results)]
    rows = []
    jits = (c for c in run.columns if c.interpreter.is_jit and c.interpreter.implementation == claim.jit_of)
    for jit in jits:
        results = {
            column.id: claim_result(claim, estimator.ratio((column, slow_cell), (jit, fast_cell)),
                                    estimator.machine_parallelism,
                                    several_workers_processes(estimator, (column, slow_cell), (jit, fast_cell)))
            for column in run.columns
            if column.interpreter.implementation != claim.jit_of and run.machine(column.id) == run.machine(jit.id)
        }
        rows.append(ClaimRow(claim, jit.id, results))
    return rows


# --------------------------------------------------------------------------------------------------------------------
# Free-threading


def free_threading_figures(
    estimator: Estimator, ft: Column, other: Column
) -> tuple[Interval | None, int, list[tuple[Cell, Interval]]]:
    """(``ft``'s time over ``other``'s on single-thread cells, a geometric mean with its interval; their count;
    multi-thread speed-ups of ``ft`` over ``other``).

    Single-thread cells are the registry's ``pure_python`` variants: what a program that never starts a thread pays
    for free-threading. Thread cells with more workers show what it buys.
    """
    run = estimator.run
    single, speedups = [], []
    variants = {(w.name, v.name): v for w in run.workloads for v in w.variants}
    groups = {w.name: w.group for w in run.workloads}
    for cell in run.cells:
        if other.benchmark(cell) is None or ft.benchmark(cell) is None:
            continue
        # Only bytecode in one thread: C kernels, numpy, process starts and waits on I/O would dilute the cost.
        if variants[cell.workload, cell.variant].pure_python and cell.workers in (None, 1):
            single.append(((ft, cell), (other, cell)))
        elif cell.variant == "threads" and (cell.workers or 1) > 1 and groups[cell.workload] != "I/O":
            speedups.append((cell, estimator.ratio((other, cell), (ft, cell))))
    return estimator.geometric_mean(single), len(single), speedups
