"""Then and now: seed 000's own table (CPython 2.7.1 against PyPy 1.7, 2011) beside today's interpreters on the
same loop.

The seed printed five timings of Beazley's count loop on each (``questions.SEED_000_TIMINGS``); its ratio here is the
ratio of their medians, and its range the ratio of the extremes, computed from those numbers. Today's figures are
this run's ``countdown/serial`` cells, each against CPython 2.7 where the run has it (the seed's own reference), else
against the baseline, with the 95 % interval of every figure in the report. The seed's loop count is not printed
with its timings, so seconds are not compared across the two, only ratios.
"""

from __future__ import annotations

import statistics

from ..intervals import Estimator
from ..markdown import NOT_RUN, speed_interval_text, table, time_text, times
from ..model import Column, Run
from ..questions import SEED_000_TIMINGS
from . import Charts
from .seed_systems import COUNTDOWN


def seed_rows() -> tuple[list[list[str]], float]:
    """The seed's rows, each against its first system (CPython 2.7.1), and the seed's ratio of medians."""
    (reference, base), *others = SEED_000_TIMINGS.items()
    rows = [[f"{reference} (seed 000, 2011)", f"median {statistics.median(base):.3f} s of 5", "the reference"]]
    ratio = 1.0
    for name, values in others:
        ratio = statistics.median(base) / statistics.median(values)
        low, high = min(base) / max(values), max(base) / min(values)
        rows.append([f"{name} (seed 000, 2011)", f"median {statistics.median(values):.4f} s of 5",
                     f"{times(ratio)} faster (from {times(low)} to {times(high)} between the runs' extremes)"])
    return rows, ratio


def reference_column(run: Run) -> Column | None:
    """CPython 2.7 where the run measured it, the seeds' own CPython."""
    return next((column for column in run.compared_columns() if column.interpreter.implementation == "cpython"
                 and column.interpreter.minor == "2.7" and column.benchmark(COUNTDOWN) is not None), None)


def render(run: Run, charts: Charts) -> str | None:
    measured = [column for column in run.compared_columns() if column.benchmark(COUNTDOWN) is not None]
    if not measured:
        return None
    rows, seed_ratio = seed_rows()
    reference = reference_column(run) or run.baseline_column
    estimator = Estimator(run)
    for column in measured:
        benchmark = column.benchmark(COUNTDOWN)
        if column is reference:
            against = "the reference"
        else:
            ratio = estimator.ratio((reference, COUNTDOWN), (column, COUNTDOWN)) if reference is not None else None
            against = speed_interval_text(ratio) if ratio is not None else f"{NOT_RUN} no reference"
        rows.append([f"{column.id} ({column.interpreter.version}, this run)",
                     f"{time_text(benchmark)} at n = 2,000,000", against])
    if reference_column(run) is None:
        note = (f"CPython 2.7 is not in this run, so today's rows are against the baseline, {run.baseline}: the "
                "seed's ratio and today's do not share a reference.")
    else:
        note = (f"Today's rows are against {reference.id}, the seeds' CPython: the seed found PyPy "
                f"{times(seed_ratio)} faster; compare its figure with today's PyPy rows.")
    return "\n".join([
        "## Then and now",
        "",
        "Seed 000 timed Beazley's count loop (this run's `countdown/serial`) on CPython 2.7.1 and PyPy 1.7 in 2011. "
        "Its loop count is not printed with its timings, so only ratios compare across the years. " + note,
        "",
        table(["interpreter", "count loop", "speed against the reference (95 % interval)"], rows),
    ])
