"""How far a ratio the report decides on moves between runs of the same code beyond its own interval: the estimate
behind ``interpmatrix.recorded_scatter.BETWEEN_RUN_SD``.

    python3 tools/between_hours.py results/<run-a> results/<run-b> [results/<run-c> ...]

For every pair of the runs, every two-cell decision of both reports (each claim on each interpreter, each verdict's
choice against the baseline when both runs chose the same cell) gives a change d, the difference of its log ratio
between the two runs, with a within-run variance se², the sum of the two runs' variances from their processes alone
(``Estimator(between_runs=False)``). The ratios fall in six groups by how many of their two cells run on several
workers (0, 1 or 2) and whether either runs on PyPy; each group's between-run variance of a difference, σ², is the
one at which the median of d² / (se² + σ²) is that of a squared normal deviate (``between_runs.between_run_scatter``,
around 0: runs of the same code), printed as σ beside the σ at which only 5 % of the changes lie beyond
±1.96 √(se² + σ²) (the tail, which a median does not see): the figures ``BETWEEN_RUNS_DIFFERENCE_SD`` (without PyPy)
and ``BETWEEN_RUNS_DIFFERENCE_SD_PYPY`` keep the largest of, and of which a run's own interval takes half the
variance (a difference draws two hours, one run one).

Then the steps, behind ``interpmatrix.recorded_scatter.BETWEEN_STEP_SD``: a mean over many cells does not average away
what moved a whole step (a workload's cells on one interpreter, measured together in one round). For every pair of the
runs, each interpreter's Overall cells (``stats.geometric_means``) measured in one round in both runs give a change of
their log mean; less the cell's mean change over the interpreters (what the hour did to that cell everywhere), the
changes of a workload's cells on one interpreter are averaged into the change of its step, with a within-run variance
from the cells' processes alone. σ² is their scatter beyond that variance, by the median as above (and by the mean of d²
− se², which the heavy tail of a step that ran at the host's other speed moves more), corrected for the mean taken out;
a step's τ is √(σ² / 2), the larger of the two printed as the figure to keep. Last, with the figures as they stand, how
often one run's Overall figure falls outside another's interval: 17 % when the intervals are right.

The estimates so far, for a ratio with none, one or two of its cells on several workers (``BETWEEN_RUNS_DIFFERENCE_SD``
keeps the largest of each, and a run's own interval half its variance): over four default runs on the project's 2-core
machine (2026-12-03, 6 pairs, 1,082 changes): 0.013 with none (587 changes), 0.047 with one (373); with two (122), 0 by
the estimate. Over five later default runs, all at busy hours (10 pairs): 0.000 with none (968 changes), 0.000 with one
(608), and 0.088 with two (206, every one a ratio of io_threads' 16 clients, serial against threads or asyncio: the
decisions' only ratios of two such cells), 17 % of which fell outside ±1.96 standard errors without it: how much 16
clients' waits overlap moves from one busy hour to the next. Over four default runs of 2026-12-05 (loops calibrated from
warm calls; 6 pairs), without PyPy: 0.029 with none (343 changes, 18 % outside ±1.96 standard errors without it; numpy's
cells, which glibc's heap moved in three of the four runs, took part), 0.041 with one (306), 0.099 with two (97); all
read with the probe measured from each interpreter's median (samples.probe_references). The ten default runs of
2026-12-05 read with the cell's own (45 pairs) give 0.000, 0.032 and 0.042 by the median, but 8 %, 6 % and 18 % of their
changes lie beyond ±1.96 of them, 5 % only at 0.020, 0.037 and 0.152 (io_threads' 16 clients again). Each figure is the
largest of these, tail included. With a cell of PyPy in it (``BETWEEN_RUNS_DIFFERENCE_SD_PYPY``), feared to move by
more, as its JIT settles a loop in one of several shapes (PyPy 3.9's ``pools/serial@3``: 2.71 ms a call in all three of
one run's processes, 1.76-1.98 ms in nine of another's). Four runs of 2026-12-05, read while PyPy's probe timed its heap
(model.machine_probe), gave 0.069 with none on several workers, 0.249 with one and 0 with two, and these figures were
kept until runs whose PyPy probes read a bytes object gave new ones. Six such default runs of 2026-12-05 (09:30 to
13:59, two of them while the other tenant held the second core; 15 pairs) give 0.000 with none (616 changes), 0.022 with
one (165) and 0.009 with two (60). The ten runs above give 0.000, 0.034 and 0.025 by the median, and 5 % of the changes
beyond ±1.96 of them at 0.035, 0.052 and 0.122 (1,804, 495 and 180 changes): PyPy's own figures, each the larger of its
tail and CPython's.
"""

from __future__ import annotations

import argparse
import itertools
import math
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from interpmatrix.between_runs import between_run_scatter  # noqa: E402
from interpmatrix.decisions import decisions  # noqa: E402
from interpmatrix.intervals import Estimator, on_pypy  # noqa: E402
from interpmatrix.model import load_run  # noqa: E402
from interpmatrix.registry import Cell  # noqa: E402
from interpmatrix.results import RunDir  # noqa: E402
from interpmatrix.samples import on_several_workers  # noqa: E402
from interpmatrix.stats import geometric_means  # noqa: E402

# log ratio, its within-run variance, cells of it on several workers, whether a cell of it runs on PyPy
Ratio = tuple[float, float, int, bool]


def ratios(path: Path) -> dict[tuple[str, tuple[tuple[str, str], ...]], Ratio]:
    """(kind, cells) -> the decision's log ratio, its within-run variance, how many of its cells are on several
    workers and whether one runs on PyPy, for every two-cell decision of the report on the run at ``path``."""
    run = load_run(RunDir(path))
    estimator = Estimator(run, between_runs=False)
    found = {}
    for decision in decisions(run, estimator):
        if decision.kind == "winner" or len(decision.cells) != 2:
            continue
        spreads = []
        for interpreter_id, name in decision.cells:
            cell = Cell.parse(name)
            spreads.append((estimator.ratio_spread(run.column(interpreter_id), cell), cell))
        pypy = any(on_pypy(run.column(interpreter_id)) for interpreter_id, _ in decision.cells)
        (slow, slow_cell), (fast, fast_cell) = spreads
        if slow is None or fast is None or not slow.df or not fast.df:
            continue
        several = on_several_workers(slow_cell, fast_cell)
        found[(decision.kind, decision.cells)] = (slow.mean - fast.mean, slow.variance + fast.variance, several, pypy)
    return found


def one_step_cells(path: Path) -> dict[tuple[str, str], tuple[float, float]]:
    """(interpreter, cell) -> log mean and within-run variance of every cell of the run's Overall ranking (on a
    ranked interpreter or the baseline) whose processes all ran in one round."""
    run = load_run(RunDir(path))
    estimator = Estimator(run, between_runs=False)
    ranking = geometric_means(estimator)
    if ranking is None:
        return {}
    found = {}
    for column in run.columns:
        if column.id not in ranking.means and column.id != run.baseline:
            continue
        for cell in ranking.cells:
            measured, spread = estimator.sample(column, cell), estimator.spread(column, cell)
            if measured is None or spread is None or not spread.df or len(set(measured.rounds)) != 1:
                continue  # unmeasured, no interval, or spread over rounds
            if None in measured.rounds:
                continue  # an older run, whose processes recorded no round
            found[(column.id, cell.name)] = (spread.mean, spread.variance)
    return found


def step_changes(first: dict, second: dict) -> tuple[list[tuple[float, float]], float]:
    """The changes (d, se²) of the steps between two runs (see the module's docstring), and the median count of
    interpreters a cell's mean change was taken over."""
    by_cell: dict[str, dict[str, tuple[float, float]]] = {}
    for key in first.keys() & second.keys():
        (a, va), (b, vb) = first[key], second[key]
        by_cell.setdefault(key[1], {})[key[0]] = (b - a, va + vb)
    blocks: dict[tuple[str, str], list[tuple[float, float]]] = {}
    counts = []
    for name, columns in by_cell.items():
        if len(columns) < 3:
            continue
        counts.append(len(columns))
        shift = sum(d for d, _ in columns.values()) / len(columns)
        for column_id, (d, variance) in columns.items():
            blocks.setdefault((column_id, Cell.parse(name).workload), []).append((d - shift, variance))
    changes = [
        (sum(d for d, _ in cells) / len(cells), sum(v for _, v in cells) / len(cells) ** 2)
        for cells in blocks.values()
    ]
    return changes, (sorted(counts)[len(counts) // 2] if counts else 0)


def overall_outside(paths: list[Path]) -> tuple[int, int]:
    """How many times one run's Overall figure fell outside another's interval, over every ordered pair of the runs
    and every interpreter both ranked, and out of how many."""
    rankings = {path: geometric_means(Estimator(load_run(RunDir(path)))) for path in paths}
    outside = total = 0
    for first, second in itertools.permutations(paths, 2):
        if rankings[first] is None or rankings[second] is None:
            continue
        for column_id, interval in rankings[first].means.items():
            other = rankings[second].means.get(column_id)
            if other is None or not interval.known:
                continue
            total += 1
            outside += interval.excludes(other.value)
    return outside, total


def tail_scatter(changes: list[tuple[float, float]], share: float = 0.05, step: float = 0.001) -> float:
    """The smallest σ, in steps of ``step``, at which no more than ``share`` of the changes (d, se²) lie beyond
    ±1.96 √(se² + σ²)."""
    scatter = 0.0
    while sum(abs(d) > 1.96 * math.sqrt(se2 + scatter**2) for d, se2 in changes) > share * len(changes):
        scatter += step
    return scatter


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("runs", nargs="+", type=Path, help="run folders (results/<run id>) of the same code")
    args = parser.parse_args(argv)
    if len(args.runs) < 2:
        parser.error("give at least two runs")
    found = {path: ratios(path) for path in args.runs}
    changes: dict[tuple[bool, int], list[tuple[float, float]]] = {}
    for first, second in itertools.combinations(args.runs, 2):
        for key in found[first].keys() & found[second].keys():
            (a, va, several, pypy), (b, vb, _, _) = found[first][key], found[second][key]
            changes.setdefault((pypy, several), []).append((a - b, va + vb))
    pairs = len(args.runs) * (len(args.runs) - 1) // 2
    for (pypy, several), group in sorted(changes.items()):
        variance = between_run_scatter(group, 0.0)
        outside = sum(abs(d) > 1.96 * math.sqrt(se2) for d, se2 in group) / len(group)
        print(f"{'PyPy, ' if pypy else ''}{several} of 2 cells on several workers: {len(group)} changes over {pairs} "
              "pairs of runs, "
              f"σ of a difference {math.sqrt(variance):.3f} by the median, {tail_scatter(group):.3f} by the 5 % tail; "
              f"{outside:.0%} outside ±1.96 se without it")
    cells = {path: one_step_cells(path) for path in args.runs}
    steps, counts = [], []
    for first, second in itertools.combinations(args.runs, 2):
        changes, count = step_changes(cells[first], cells[second])
        steps += changes
        counts.append(count)
    if steps:
        # The share of a step's variance that taking out the cell's mean over the interpreters left.
        kept = 1 - 1 / max(2, sorted(counts)[len(counts) // 2])
        by_median = between_run_scatter(steps, 0.0) / kept
        by_mean = max(0.0, sum(d * d - v for d, v in steps) / len(steps)) / kept
        print(f"steps: {len(steps)} changes over {pairs} pairs of runs, τ of a step {math.sqrt(by_median / 2):.3f} by "
              f"the median, {math.sqrt(by_mean / 2):.3f} by the mean")
    outside, total = overall_outside(args.runs)
    if total:
        print(f"Overall: one run's figure outside another's interval {outside} times of {total} ({outside / total:.0%};"
              " 17 % when the intervals are right)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
