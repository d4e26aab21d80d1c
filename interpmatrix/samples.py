"""A cell's worker processes, the independent units of every interval (``interpmatrix.intervals``): each one's steady
mean on a log scale, its warm-up left out, and the machine-state probe it timed, by which its mean is adjusted.

A shared machine runs some processes slower than others (on the project's 2-core host, at one of two speeds about
1.7x apart, switching every second or so), which no count of values inside a process can average out. So each worker
process that times its kernel with its own clock times a probe around each value, whose speed depends on the machine
and not on the interpreter (zlib's crc32 over 1 MiB, ``workloads/_harness.py`` MachineProbe; a PyPy process's probe
counts only where it read a bytes object, ``model.machine_probe`` says why), and the probe serves as
a covariate, the way a controlled experiment's pre-period metric does (CUPED, Deng et al. 2013): θ, the least-squares
slope of a process's log mean on its log probe, is fitted over every time cell's processes, each as a deviation from
its own cell's averages (so that neither the cell nor the interpreter counts), once for the cells on one worker and
once for those on several (``probe_group``), which also take the second core, whose state a probe on one core sees
less of. The same crc32 timed on two threads around each value, which runs before 2026-12-05's afternoon recorded,
followed them little better at best: correlation 0.63 and 0.50 against the one-core probe's 0.57 and 0.40 in two
runs of 2026-12-03, -0.08, 0.26, 0.14 against 0.08, 0.28, 0.18 in three of 2026-12-05. A process's log mean is
then moved by θ times its log probe's distance from the probe its cell reads on its interpreter at the run's usual
state (``probe_references``). Where the probe does not follow the processes' speed, θ is near 0 and nothing moves; it
is never below 0. The adjustment leaves a ratio's expected value alone and takes the probe's share out of the
between-process variance (1 - ρ², ρ the correlation the fit found). Times shown as such stay pyperf's means, as
measured; every ratio and interval is of adjusted means.
"""

from __future__ import annotations

import math
import statistics
from collections import Counter
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace

import pyperf

from .harness_protocol import ROUND_METADATA
from .model import machine_probe
from .registry import Cell
from .results import POOLED_RUN_METADATA

# A leading timed value this much above the median of the values after it in its process is still warming up
# (pyperf's warm-up calibration for JITs uses 10 % on the mean too, and needs 40 values to decide; a matrix has 3).
WARM_TOLERANCE = 0.10


def steady_values(values: Sequence[float]) -> list[float]:
    """A worker process's timed values without the leading ones that still ran slower than the rest: a cell is warm
    from the first value that is not more than ``WARM_TOLERANCE`` above the median of the values after it (or from
    its last two values)."""
    kept = list(values)
    # At least two values stay: dropping only ever removes high values, and down to one it would turn a noisy
    # process's scatter into a bias towards fast.
    while len(kept) >= 3 and kept[0] > statistics.median(kept[1:]) * (1 + WARM_TOLERANCE):
        kept.pop(0)
    return kept


def still_warming_at_end(values: Sequence[float]) -> bool:
    """A worker process whose last timed value still ran more than ``WARM_TOLERANCE`` below every value before it: it
    was still speeding up when it stopped (CPython 3.11 quickens a function only after 8 calls), so its values are
    warm-up, and the cell needs more warm-ups (``invocation.warmups_needed`` gives its next rounds more)."""
    return len(values) >= 3 and values[-1] < min(values[:-1]) * (1 - WARM_TOLERANCE)


@dataclass(frozen=True)
class Sample:
    """A cell's worker processes: the log of each one's steady mean; how many were still warming up when their timed
    values began (their leading values were left out); how many never settled (left out, where others did); the
    log of each kept process's machine-state probe (None for a process that recorded none); and the interleaving
    round each kept process ran in (None for one that recorded none)."""

    logs: tuple[float, ...]
    still_warming: int = 0
    unsettled: int = 0
    probes: tuple[float | None, ...] = ()
    rounds: tuple[int | None, ...] = ()
    # The run each kept process came from, in a run pooled from runs at other hours (None: a run measured as one).
    run_ids: tuple[str | None, ...] = ()

    @property
    def n(self) -> int:
        return len(self.logs)

    @property
    def run_concentration(self) -> float:
        """The sum of the squared shares of its processes that came from each run: how much of one run's hour the
        cell's mean still carries, 1 when every process came from one run (any run measured as one), 1/k when they
        came alike from k runs pooled (``interpmatrix.pool``)."""
        if not self.run_ids:
            return 1.0
        return sum((count / len(self.run_ids)) ** 2 for count in Counter(self.run_ids).values())

    @property
    def mean(self) -> float:
        return statistics.fmean(self.logs)

    @property
    def variance(self) -> float | None:
        return statistics.variance(self.logs) if self.n >= 2 else None

    @property
    def probed(self) -> bool:
        """Every process recorded a probe (and there are some)."""
        return bool(self.probes) and None not in self.probes


def sample(benchmark: pyperf.Benchmark) -> Sample | None:
    """The cell's processes, as measured, with their probes; None when no process recorded a
    positive value. A process still warming up at its end is left out when a process of the cell given more warm-ups
    (a later round's, ``invocation.warmups_needed``) settled and no settled process ever ran as slow as its values
    before the last (``still_warming``)."""
    logs, probes, rounds, pooled_runs, warming = [], [], [], [], 0
    runs = [run for run in benchmark.get_runs() if run.values]  # without calibration runs: warm-ups only
    settled = [run for run in runs if not still_warming_at_end(run.values)]
    kept = [
        run for run in runs
        if run in settled or not (settled_with_more_warmups(run, settled) and still_warming(run.values, settled))
    ]
    for run in kept:
        steady = steady_values(run.values)
        mean = statistics.fmean(steady)
        if mean <= 0:
            return None
        warming += len(steady) < len(run.values)
        logs.append(math.log(mean))
        probe = machine_probe(run)
        probes.append(math.log(probe) if probe is not None and probe > 0 else None)
        rounds.append(run.get_metadata().get(ROUND_METADATA))
        pooled_runs.append(run.get_metadata().get(POOLED_RUN_METADATA))
    if not logs:
        return None
    return Sample(tuple(logs), warming, len(runs) - len(kept), tuple(probes), tuple(rounds), tuple(pooled_runs))


def settled_with_more_warmups(process: pyperf.Run, settled: Sequence[pyperf.Run]) -> bool:
    """Whether a ``settled`` process ran more warm-ups than ``process``: only one that did can tell that ``process``
    was still warming up. One settled with as many says the opposite: the same treatment settled there, and what sped
    up the other's last value is as likely the machine as warm-up. In the day's five default runs of 2026-12-03, half
    of the processes left out as still warming (55 of 110) rested on settled processes with no more warm-ups, always
    the slower of the two: 11 to 23 cells a run were left with one process (1 to 11 with this rule), among them a
    verdict's fastest candidate, which then had no interval against the others (CPython 3.13t's word_count: 17.5, 19.1,
    13.9 ms beside 13.9, 12.6, 11.8 ms, both after 1 warm-up)."""
    warmups = len(process.warmups or ())
    return any(len(run.warmups or ()) > warmups for run in settled)


def still_warming(values: Sequence[float], settled: Sequence[pyperf.Run]) -> bool:
    """Whether a process whose last value ran faster than the others (``still_warming_at_end``) was warming up, by
    the cell's settled processes: only if none of their steady values ran as slow as its values before the last.
    A shared machine that switches between two speeds also gives a process a fast last value, and then a settled
    process shows the slow speed too (CPython 3.14's JIT on countdown in threads, here: 49.6, 52.2, 29.0 ms beside a
    settled 30.0, 51.2, 27.5). With no settled process, nothing tells: all count."""
    slowest = max((value for run in settled for value in steady_values(run.values)), default=None)
    return slowest is not None and slowest < (1 - WARM_TOLERANCE) * min(values[:-1])


# Fewer processes than this in cells of two or more give no slope worth fitting: the adjustment is left out.
PROBE_FIT_PROCESSES = 20


@dataclass(frozen=True)
class ProbeFit:
    """How a run's processes' speed followed their machine-state probe, within cells (see the module's docstring):
    the slope θ used (never below 0), the correlation ρ, and the processes and cells the fit rests on."""

    slope: float
    correlation: float
    processes: int
    cells: int


def probe_fit(samples: Iterable[Sample]) -> ProbeFit | None:
    """The least-squares slope of the processes' log means on their log probes, each as a deviation from its own
    cell's averages, over the cells with two processes or more that all recorded a probe; None with fewer than
    ``PROBE_FIT_PROCESSES`` such processes or no spread in their probes."""
    speed, probe, cells = [], [], 0
    for found in samples:
        if found.n < 2 or not found.probed:
            continue
        cells += 1
        probe_mean = statistics.fmean(found.probes)
        speed += [x - found.mean for x in found.logs]
        probe += [p - probe_mean for p in found.probes]
    sxx, syy = sum(p * p for p in probe), sum(s * s for s in speed)
    if len(speed) < PROBE_FIT_PROCESSES or not sxx or not syy:
        return None
    sxy = sum(s * p for s, p in zip(speed, probe))
    return ProbeFit(max(0.0, sxy / sxx), sxy / math.sqrt(sxx * syy), len(speed), cells)


# The groups of cells that get a slope each. The one-core probe runs on one core; a kernel on one worker runs there too,
# while threads or processes on several workers also take the other core, whose state that probe does not see. Fitted
# apart on three default runs here: one worker, correlation 0.72-0.85 and slope 0.68-0.86; several workers, 0.51-0.58
# and 0.37-0.45. One slope for both would under-correct the first and over-correct the second.
ONE_WORKER, SEVERAL_WORKERS = "one worker", "several workers"
PROBE_GROUPS = (ONE_WORKER, SEVERAL_WORKERS)


def probe_group(cell: Cell) -> str:
    return ONE_WORKER if (cell.workers or 1) == 1 else SEVERAL_WORKERS


def on_several_workers(*cells: Cell) -> int:
    """How many of ``cells`` run on several workers: the index of a ratio's ``BETWEEN_RUN_SD``."""
    return sum(probe_group(cell) == SEVERAL_WORKERS for cell in cells)


# Sweeps of the median polish in ``probe_references``: the second takes out what the cells' offsets, first estimated
# against each interpreter's plain median, still owed to which cells that interpreter ran.
POLISH_SWEEPS = 2


def probe_references(
    medians: Mapping[tuple[str, str], float], families: Mapping[str, Hashable]
) -> dict[tuple[str, str], float]:
    """The log probe each (column, cell) of ``medians`` (the median log probe of the cell's processes on that
    column) reads at the run's usual machine state: the column's level plus the cell's offset, fitted additively by
    medians (Tukey's median polish) with the offsets shared by the columns of one family (``families``: column ->
    family).

    The probe runs right after the kernel's values, and what a kernel leaves the core in moves it: in the default run
    of 2026-12-05T18-41-22Z a cell's median probe lay from 0.57 below its interpreter's median (log scale;
    ``spawn_costs/direct@0``, CPU-bound kernels all near 0.45 below) to 0.12 above (numexpr, waits on I/O), alike on
    the eight CPythons (standard deviation 0.07 between them, 0.20 between cells). Measured from the interpreter's
    median alone, a cell's offset moved its whole mean, every process by θ times the offset: the claims' ratios by up
    to 5 % in that run and 10 % in the next (19-30-27Z: "processes speed up CPU-bound pure Python" on CPython 3.15,
    1.47x adjusted so, 1.33x as measured, 1.37x from the cell's own offset), each the way the two cells' offsets
    lay. The offset is the family's (its implementation's: PyPy's followed CPython's at a correlation of 0.48 in that
    run), so that a cell whose processes all ran at a slow hour of one interpreter is still measured against what the
    others read."""
    by_column: dict[str, list[tuple[str, float]]] = {}
    for (column, cell), value in medians.items():
        by_column.setdefault(column, []).append((cell, value))
    offsets: dict[tuple[Hashable, str], float] = {}

    def levels() -> dict[str, float]:
        # Each column's median after the cells' offsets (none before the first sweep: its plain median).
        return {column: statistics.median(value - offsets.get((families[column], cell), 0.0) for cell, value in found)
                for column, found in by_column.items()}

    level = levels()
    for _ in range(POLISH_SWEEPS):
        by_cell: dict[tuple[Hashable, str], list[float]] = {}
        for (column, cell), value in medians.items():
            by_cell.setdefault((families[column], cell), []).append(value - level[column])
        offsets = {key: statistics.median(found) for key, found in by_cell.items()}
        level = levels()
    return {(column, cell): level[column] + offsets[(families[column], cell)] for column, cell in medians}


def adjusted(found: Sample, slope: float, reference: float) -> Sample:
    """``found`` with each probed process's log mean moved by ``slope`` times its log probe's distance from
    ``reference`` (the log probe its cell reads on its interpreter at the run's usual state: ``probe_references``)."""
    probes = found.probes or (None,) * found.n
    logs = tuple(x if p is None else x - slope * (p - reference) for x, p in zip(found.logs, probes))
    return replace(found, logs=logs)
