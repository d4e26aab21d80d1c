"""How far a ratio the report decides on moves between runs of the same code beyond its own interval: the estimate
behind ``interpmatrix.intervals.BETWEEN_RUN_SD``.

    python3 tools/between_hours.py results/<run-a> results/<run-b> [results/<run-c> ...]

For every pair of the runs, every two-cell decision of both reports (each claim on each interpreter, each verdict's
choice against the baseline when both runs chose the same cell) gives a change d, the difference of its log ratio
between the two runs, with a within-run variance se², the sum of the two runs' variances from their processes alone
(``Estimator(between_runs=False)``). The ratios fall in three groups by how many of their two cells run on several
workers (0, 1 or 2); each group's between-run variance τ² is the σ² at which the median of d² / (se² + σ²) is that of
a squared normal deviate (``between_runs.between_run_scatter``, around 0: runs of the same code), printed as τ, the
figures ``BETWEEN_RUN_SD`` keeps by group.
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
from interpmatrix.intervals import Estimator  # noqa: E402
from interpmatrix.model import load_run  # noqa: E402
from interpmatrix.registry import Cell  # noqa: E402
from interpmatrix.results import RunDir  # noqa: E402
from interpmatrix.samples import on_several_workers  # noqa: E402

Ratio = tuple[float, float, int]  # log ratio, its within-run variance, cells of it on several workers


def ratios(path: Path) -> dict[tuple[str, tuple[tuple[str, str], ...]], Ratio]:
    """(kind, cells) -> the decision's log ratio, its within-run variance and how many of its cells are on several
    workers, for every two-cell decision of the report on the run at ``path``."""
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
        (slow, slow_cell), (fast, fast_cell) = spreads
        if slow is None or fast is None or not slow.df or not fast.df:
            continue
        several = on_several_workers(slow_cell, fast_cell)
        found[(decision.kind, decision.cells)] = (slow.mean - fast.mean, slow.variance + fast.variance, several)
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("runs", nargs="+", type=Path, help="run folders (results/<run id>) of the same code")
    args = parser.parse_args(argv)
    if len(args.runs) < 2:
        parser.error("give at least two runs")
    found = {path: ratios(path) for path in args.runs}
    changes: dict[int, list[tuple[float, float]]] = {0: [], 1: [], 2: []}
    for first, second in itertools.combinations(args.runs, 2):
        for key in found[first].keys() & found[second].keys():
            (a, va, several), (b, vb, _) = found[first][key], found[second][key]
            changes[several].append((a - b, va + vb))
    pairs = len(args.runs) * (len(args.runs) - 1) // 2
    for several, group in changes.items():
        if not group:
            continue
        variance = between_run_scatter(group, 0.0)
        outside = sum(abs(d) > 1.96 * math.sqrt(se2) for d, se2 in group) / len(group)
        print(f"{several} of 2 cells on several workers: {len(group)} changes over {pairs} pairs of runs, "
              f"τ of the ratio {math.sqrt(variance):.3f}; "
              f"{outside:.0%} outside ±1.96 se without it")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
