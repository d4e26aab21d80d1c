"""What two runs of the same cells differ by beyond their processes' scatter, for ``compare``.

Two runs compared cell by cell also differ by what no process of either run sees: the machine's state during each
run (the other tenant's load that hour), which moves whole workloads at once (between two runs of the same code,
io_threads 10 % slower, countdown 0.6 %). That between-run variance of a cell's log ratio d is estimated from a group
of the comparison's cells (``changes``: a workload's cells on every interpreter) as τ² = s² + σ²: s, the group's
median d, is one draw of the whole run's shift, counted in full since two runs cannot tell it from the machine's; σ² is
the cells' scatter around s beyond their within-run variances se², the σ² at which the median of (d − s)² / (se² + σ²)
is 0.455, that of a squared normal deviate (a method of moments like DerSimonian and Laird's, on medians so that a
few real changes barely move it). A change's interval then adds τ² to its variance, on no more degrees of freedom than
its own or than the group's cells less one.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass

from .intervals import Interval, Spread, log_interval, median_interval, ratio_interval

# The median of a squared standard normal deviate (χ² on one degree of freedom), 0.4549: when the variances the
# cells' changes are divided by are right, half of the changes lie within ±0.674 of them.
MEDIAN_SQUARED_DEVIATE = statistics.NormalDist().inv_cdf(0.75) ** 2


@dataclass(frozen=True)
class BetweenRuns:
    """What a group of cells measured in two runs carries beyond their processes' scatter: ``shift``, the median log
    ratio of the group's cells (their common shift, with ``median_interval`` in ``shift_interval``);
    ``scatter_variance``, their variance around it beyond their within-run variances (``between_run_scatter``); and
    how many cells the two come from."""

    shift: float
    shift_interval: Interval
    scatter_variance: float
    cells: int

    @property
    def variance(self) -> float:
        """τ² = shift² + scatter: the between-run variance of one cell's log ratio. The shift is one draw of what the
        whole run did, so it counts in full: two runs cannot tell it from the machine's."""
        return self.shift**2 + self.scatter_variance

    @property
    def df(self) -> int:
        return self.cells - 1


def _squared_deviate(change: float, variance: float) -> float:
    if variance > 0:
        return change**2 / variance
    return math.inf if change else 0.0


def between_run_scatter(changes: Sequence[tuple[float, float]], shift: float) -> float:
    """σ², the variance of the log ratios d around ``shift`` beyond their within-run variances se² (``changes``: pairs
    (d, se²)): 0 when half of the cells lie within ±0.674 se of the shift; else the σ² at which half lie within
    ±0.674 √(se² + σ²), the median of (d − shift)² / (se² + σ²) being ``MEDIAN_SQUARED_DEVIATE``. A median, so that
    real changes in fewer than half of the cells barely move it. With se² estimated on few degrees of freedom the true
    median lies a little above 0.455 (0.49 at 10 df), so σ² errs high: the cautious side."""
    if not changes:
        return 0.0

    def median_deviate(scatter: float) -> float:
        return statistics.median(_squared_deviate(d - shift, variance + scatter) for d, variance in changes)

    if median_deviate(0.0) <= MEDIAN_SQUARED_DEVIATE:
        return 0.0
    # Bisection: the median falls as σ² grows, and at max (d - shift)² / 0.455 no square exceeds 0.455 any more.
    # Halving until low and high are neighbouring floats ends on the smallest σ² that passes, wherever it started.
    low, high = 0.0, max((d - shift) ** 2 for d, _ in changes) / MEDIAN_SQUARED_DEVIATE
    while low < (middle := (low + high) / 2) < high:
        low, high = (middle, high) if median_deviate(middle) > MEDIAN_SQUARED_DEVIATE else (low, middle)
    return high


def between_runs(pairs: Sequence[tuple[Spread, Spread]]) -> BetweenRuns | None:
    """The between-run component of a group of cells, each measured in two runs as (slow, fast) like
    ``ratio_interval``'s; only cells with an interval count (a within-run variance is needed). None without any."""
    changes = [(slow.mean - fast.mean, slow.variance + fast.variance) for slow, fast in pairs if slow.df and fast.df]
    if not changes:
        return None
    logs = [d for d, _ in changes]
    shift = statistics.median(logs)
    return BetweenRuns(shift, median_interval(logs), between_run_scatter(changes, shift), len(changes))


def change_interval(before: Spread, after: Spread, between: BetweenRuns | None) -> Interval:
    """``before`` ÷ ``after`` for one cell in two runs (``intervals.ratio_interval``), with the between-run variance
    of its group (``between_runs``) when there is one."""
    if between is None:
        return ratio_interval(before, after)
    parts = [(before.variance, before.df), (after.variance, after.df)]
    return log_interval(before.mean - after.mean, parts, between.variance, between.df)
