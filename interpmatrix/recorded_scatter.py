"""What runs of the same code at other hours differed by on the project's machine, beyond their processes' scatter:
the between-run and between-step standard deviations every ratio and mean of ``interpmatrix.intervals`` carries, as
recorded by tools/between_hours.py (its docstring lists each set of runs and its figures)."""

from __future__ import annotations

import math

from .model import Column
from .registry import Cell
from .samples import on_several_workers

# How far a ratio of two time cells moves between two runs of the same code beyond its processes' scatter: the standard
# deviation σ on a log scale of the difference of its two runs' figures beyond their intervals, by how many of its two
# cells run on several workers. Another tenant's load differs from one hour to the next and a run's processes all sample
# one hour; whether it leaves the second core free moves a cell on several workers most. Estimated by
# tools/between_hours.py over sets of default runs on the project's 2-core machine (its docstring lists each set's
# figures): each figure is the largest of them, tail included (the σ beyond which 5 % of the changes lay).
BETWEEN_RUNS_DIFFERENCE_SD = (0.029, 0.047, 0.152)
# The same for a ratio with a cell of PyPy in it, which was feared to move between runs by more: a PyPy worker's
# machine code lands at a random place (workloads/_code_layout.py) and its JIT settles a loop in one of several shapes.
# PyPy's own figures, each the larger of its tail and CPython's.
BETWEEN_RUNS_DIFFERENCE_SD_PYPY = (0.035, 0.052, 0.152)
# A run's ratio draws its hour once, a difference of two runs twice: its share is half the variance (as the steps').
# Taken whole, one run's claim figure fell outside another's interval in 5 % of cases over the ten runs (17 % when
# right); halved, 7 %, and no decision the other way but in B-D (C threads on one core).
BETWEEN_RUN_SD = tuple(sd / math.sqrt(2) for sd in BETWEEN_RUNS_DIFFERENCE_SD)
BETWEEN_RUN_SD_PYPY = tuple(sd / math.sqrt(2) for sd in BETWEEN_RUNS_DIFFERENCE_SD_PYPY)
BETWEEN_RUN_PROVENANCE = (
    "a run's share (half the variance) of how far the difference between two runs' figures scattered beyond their "
    "intervals, each the largest of the estimates by `tools/between_hours.py` from four sets of default runs on the "
    "project's 2-core machine, the last of ten runs by the median and by where 5 % of its changes lay beyond (PyPy's "
    "the larger of its own and CPython's)"
)

# How far one step (a workload's batch of cells on one interpreter in one round, measured together within a minute)
# moves all the processes it ran, beyond their own scatter, between two runs of the same code (a standard deviation on
# a log scale). A ratio of two cells carries it in ``BETWEEN_RUN_SD``. A mean over many cells does not average it
# away: the first pass measures each cell of a workload in the same step, so the Overall's 56 cells on one interpreter
# are some nine draws, not 56. Estimated by tools/between_hours.py (its steps part) over four default runs of the same
# code on the project's 2-core machine (2026-12-04, 6 pairs, 360 changes of a step): 0.048 by the median, 0.069 by the
# mean, which a heavy tail moves: in one run the baseline's spawn_costs step ran its thread and process hand-offs
# 1.5-4x slower than in the other three (the second thread or process waits for the other core, which the one-core
# probe does not see); spawn_costs 0.11 down to io_threads 0 by workload. The larger is kept. With it, one run's Overall
# fell outside another's interval 45 times in 120 (0 in 60 without that run), without it 66 (14); right: about 17 %.
BETWEEN_STEP_SD = 0.069


def between_run_sd(*cells: tuple[Column, Cell]) -> float:
    """The between-run standard deviation recorded for a ratio of ``cells`` (each a (column, cell))."""
    pypy = any(column.interpreter.implementation == "pypy" for column, _ in cells)
    return (BETWEEN_RUN_SD_PYPY if pypy else BETWEEN_RUN_SD)[on_several_workers(*(cell for _, cell in cells))]
