"""How sure a figure is: 95 % intervals from independent units, and the three answers they allow.

The independent unit is a pyperf worker process, never a value inside one: the values of one process share its luck
(its memory layout, its hash seed, what the other tenant of the machine did that second), so that on the project's
machine they agree to about 2 % where two processes of the same cell differ by about 6 %. Each process's steady
values are averaged and the average is taken on a log scale, so that a ratio of two cells is a difference of two
means; a cell's figure is the mean of its processes' logs.

Few processes per cell (two in the default profile) give a variance on one degree of freedom, which no interval can
rest on. So each cell's between-process variance is moderated by a pooled variance from its siblings, as an
empirical-Bayes prior worth at most ``PRIOR_DF`` degrees of freedom (Smyth's moderated t, the statistics of limma): a
cell that scatters more than its siblings keeps a wider interval, one measured once borrows theirs. The siblings are
the same cell on the run's other interpreters of the same family (same machine, implementation and JIT or not: a
cell's noise comes mostly from what it does, and a JIT adds its own), never the cell itself; an interpreter with no
such sibling measured twice (the one PyPy of a run; a cell no decision rests on, which the first pass measures once)
pools its own cells of the variant, else of the workload, else, for a time cell, all its time cells. A ratio then gets
Welch's interval on the difference of the two log means, with Satterthwaite's degrees of freedom and the t quantile
pyperf's own test uses (``tdist95conf_level``).

A cell on several workers (threads, processes or clients at once) never borrows to narrow a ratio of its own: its
processes' scatter depends on how the other tenant left it the two cores at that minute, which its siblings, measured at
other minutes, do not share. Nor does a cell measured once in a verdict's margin, the fastest of its candidates against
each other: picked by its measured mean, a cell that ran in a fast minute is picked for that luck (the winner's curse),
which a borrowed variance does not know. Without these rules, 1 decision in 918 made in both of two default runs here
came out the other way (a cell on two threads measured once), 0 in 2,103 with them; and on a quieter host numexpr on two
threads in four processes, two of which had the other core (24 % apart, moderated to 15 % by its siblings'), did. But a
few processes can also all run in one state of the cores: Cython's two threads on CPython 3.15's JIT ran 7.4-8.7 ms a
call in all three processes of each of two default runs (2026-12-06T10-50-26Z, T12-15-08Z) and 4.8-6.6 ms in the next
(T12-39-18Z), where the same cell on the other CPythons ran at either speed, and "C extensions that release the GIL let
threads run in parallel" failed, 1.19x [1.03-1.37], then held, 1.74x [1.53-1.97]. So such a cell takes its siblings'
moderated variance where that gives the wider interval (``Estimator.ratio``), never a narrower one: over 28 pairs of
eight default runs of 2026-12-06, 3 decisions of 3,226 made in both came out opposite ways, 0 of 3,163 so. A geometric
mean over many cells still lets them borrow, where one cell's variance is a small part of the whole. Measured once, such
a cell has no scatter of its own to keep, and its figures borrow that of cells on several workers alone
(``Estimator.prior`` with ``several_workers``): a claim on it waits for ``OWN_PROCESSES`` processes of its own
(``stats.claim_result``), and as a verdict's fastest it still borrows nothing. Read so, thirteen runs of 2026-12-06 (ten
default, three with ``--budget 10``) changed one decision, from undecided to decided, and 82 of run
2026-12-06T14-02-36Z's 154 figures without an interval got one.

A run's processes all sample one hour of a shared machine, and runs of the same code at other hours differed by more
than their intervals allowed (12 % of the ratios of two cells on one worker outside ±1.96 standard errors, 19 % of those
of a cell on several workers against one on one). So every ratio of two time cells carries a between-run variance
recorded from such runs (``recorded_scatter.BETWEEN_RUN_SD``, estimated by tools/between_hours.py). It widens the
interval without buying degrees of freedom (the processes' own still set Student's t), and at 1.96 standard deviations
it is the interval's ``floor``, which no count of processes narrows. Over 15 pairs of six default runs (four at quiet
hours, two at busy ones), decisions made in both runs came out opposite ways 6 times and moved to a neighbouring answer
34 times without it, 2 and 0 with it (both a claim on two threads in a run whose second core was busy); the other run's
figure fell outside a run's interval 23-30 % of the time without it, 16-21 % with it, where two runs of the same
precision would put it there 17 % of the time. Taken as known instead (infinite degrees of freedom in Satterthwaite's
sum, the GUM's way with an uncertainty of type B), it left 22-24 %: a cell's variance on one degree of freedom is too
unsure to be given more. A decision nearer its threshold than that floor is one no round of the run can make
(``decisions``); runs at other hours pooled into one (``interpmatrix.pool``) can: each is a draw of its own, and a ratio
carries the variance once per run its processes came from (``Estimator.between_run_variance``).

A geometric mean over many cells (the Overall, the standard suite, free-threading's cost) does not average that away:
the cells of a workload on one interpreter run together in one step of a round, and a step at another hour moves them
all. Taken as independent per cell, four default runs' Overall figures fell outside each other's intervals 55 % of the
time. So a mean carries each step's variance (``recorded_scatter.BETWEEN_STEP_SD``) by its weight in the mean
(``step_variance``).

A shared machine runs some processes slower than others: each process's log mean is adjusted by a machine-state
probe it timed (``interpmatrix.samples`` says how) before any interval takes it.

Decisions are four-valued: a claim *holds* when the whole interval clears its threshold, *fails* when the whole
interval lies on the other side, sits *at the threshold* when the interval straddles it but lies wholly within
``EQUIVALENCE_FACTOR`` of it (an equivalence test: the figure is the threshold, give or take 10 %), and is *undecided*
otherwise; a figure without an interval decides nothing.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import cached_property

# pyperf's own table of Student's t quantiles (95 %, two-sided), which its is_significant uses: not in the public API.
from pyperf._utils import tdist95conf_level

from .model import Column, Run, machine_parallelism
from .recorded_scatter import BETWEEN_STEP_SD, between_run_sd
from .registry import Cell
from .samples import (
    SEVERAL_WORKERS,
    ProbeFit,
    Sample,
    adjusted,
    probe_fit,
    probe_group,
    probe_references,
    sample,
)

# The most degrees of freedom the pooled variance of a cell's siblings counts for against the cell's own.
PRIOR_DF = 8
# How close to its threshold a figure must surely be to count as the threshold itself. A seed's threshold is a round
# number ("about 5x", "at least 1.5x"), and a figure that truly sits on it straddles it at any number of rounds: without
# this band such a decision stays open however long it is measured. Two one-sided tests at the interval's level decide
# it instead (Schuirmann's TOST, the equivalence test of bioequivalence trials); 10 % is the change asv's compare
# treats as the smallest worth reporting (its --factor 1.1), and a 2-core shared machine's processes differ by 6 %.
EQUIVALENCE_FACTOR = 1.10
# Processes before a cell's own scatter says much (one degree of freedom: t = 12.7); see ``decisions``, and
# ``stats.claim_result`` for a cell on several workers, which borrows only to widen.
OWN_PROCESSES = 3
HOLDS, FAILS, AT_THRESHOLD, UNDECIDED = "holds", "fails", "at the threshold", "undecided"


@dataclass(frozen=True)
class Prior:
    """The pooled between-process variance (log scale) of a group of cells, and the degrees of freedom it counts for."""

    variance: float
    df: float


def pooled_prior(samples: Iterable[Sample]) -> Prior | None:
    """Pooled variance of the samples with two processes or more; None when none has."""
    found = [(s.n - 1, s.variance) for s in samples if s.n >= 2]
    df = sum(d for d, _ in found)
    return Prior(sum(d * v for d, v in found) / df, min(df, PRIOR_DF)) if df else None


@dataclass(frozen=True)
class Spread:
    """A cell's log mean, the variance of that mean, and its degrees of freedom (0: no variance known)."""

    mean: float
    variance: float
    df: float
    n: int


def spread(found: Sample, prior: Prior | None) -> Spread:
    """The cell's log mean with its moderated variance: its own between-process variance shrunk towards the prior."""
    own_df = found.n - 1
    if prior is None:
        return Spread(found.mean, (found.variance or 0.0) / found.n if own_df else 0.0, own_df, found.n)
    moderated = (prior.df * prior.variance + own_df * (found.variance or 0.0)) / (prior.df + own_df)
    return Spread(found.mean, moderated / found.n, prior.df + own_df, found.n)


@dataclass(frozen=True)
class Interval:
    """A ratio and its 95 % interval; ``low``/``high`` are None when nothing says how sure it is (one process, no
    sibling to borrow a variance from). ``floor``: the half-width on a log scale that its between-run variance alone
    gives, which no number of processes narrows (0 without one). ``df``: the degrees of freedom of the Student's t
    that widened it (infinite: the normal's 1.96, or an interval of no t at all), which more processes raise."""

    value: float
    low: float | None
    high: float | None
    floor: float = 0.0
    df: float = math.inf

    @property
    def known(self) -> bool:
        return self.low is not None and self.high is not None

    def excludes(self, value: float) -> bool:
        return self.known and (self.low > value or self.high < value)

    def within(self, value: float, factor: float = EQUIVALENCE_FACTOR) -> bool:
        """The whole interval lies within ``factor`` of ``value`` either way: the ratio surely is ``value``, to within
        that factor."""
        return self.known and self.low >= value / factor and self.high <= value * factor

    def against(self, at_least: float | None = None, at_most: float | None = None) -> str:
        """HOLDS, FAILS, AT_THRESHOLD or UNDECIDED for "the ratio is at least ``at_least``" (or "at most
        ``at_most``"): holding or failing first, the threshold's band only for an interval that straddles it."""
        if not self.known:
            return UNDECIDED
        if at_least is not None:
            threshold = at_least
            decided = HOLDS if self.low >= at_least else FAILS if self.high < at_least else None
        elif at_most is not None:
            threshold = at_most
            decided = HOLDS if self.high <= at_most else FAILS if self.low > at_most else None
        else:
            raise ValueError("a decision needs a threshold: at_least or at_most")
        if decided is not None:
            return decided
        return AT_THRESHOLD if self.within(threshold) else UNDECIDED

    def inverse(self) -> Interval:
        return Interval(1 / self.value, 1 / self.high if self.known else None, 1 / self.low if self.known else None)


def t_quantile(df: float) -> float:
    """Student's 95 % two-sided quantile at ``df`` degrees of freedom, rounded down (the cautious side)."""
    return tdist95conf_level(max(1, math.floor(min(df, 1e9))))


def log_interval(
    mean: float, parts: Sequence[tuple[float, float]], between: float = 0.0, between_df: float = math.inf
) -> Interval:
    """exp of ``mean`` with the interval of a sum of independent variances ``parts`` (variance, df), Welch and
    Satterthwaite: df = (Σ v)² / Σ (v² / df). A between-run variance ``between`` widens it without buying degrees of
    freedom: an estimate from ``between_df`` + 1 cells (infinite: ``BETWEEN_RUN_SD``'s, recorded from earlier runs),
    it leaves df at the smaller of the parts' and ``between_df``. It does not narrow as processes are added: what it
    gives at its own degrees of freedom is the interval's ``floor``."""
    variance = sum(v for v, _ in parts)
    if any(df <= 0 for _, df in parts) or not parts:
        return Interval(math.exp(mean), None, None)
    if variance + between == 0:
        return Interval(math.exp(mean), math.exp(mean), math.exp(mean))
    df = variance**2 / sum(v**2 / df for v, df in parts if v > 0) if variance > 0 else between_df
    if between > 0:
        df = min(df, between_df)
    half = t_quantile(df) * math.sqrt(variance + between)
    floor = t_quantile(between_df) * math.sqrt(between)
    return Interval(math.exp(mean), math.exp(mean - half), math.exp(mean + half), floor, df)


def median_interval(logs: Sequence[float]) -> Interval:
    """exp of the median of ``logs`` with the distribution-free 95 % interval of a median (the sign test's): from the
    order statistic ⌊(n − 1.96 √n) / 2⌋ to ⌈1 + (n + 1.96 √n) / 2⌉, counted from 1; none under 8 values."""
    ordered = sorted(logs)
    n = len(ordered)
    value = math.exp(statistics.median(ordered))
    low, high = math.floor((n - 1.96 * math.sqrt(n)) / 2), math.ceil(1 + (n + 1.96 * math.sqrt(n)) / 2)
    if low < 1 or high > n:
        return Interval(value, None, None)
    return Interval(value, math.exp(ordered[low - 1]), math.exp(ordered[high - 1]))


def ratio_interval(slow: Spread, fast: Spread, between: float = 0.0) -> Interval:
    """``slow`` ÷ ``fast`` (how many times faster, or smaller, ``fast`` is) with its interval, widened by the
    recorded between-run variance of such a ratio (``Estimator.between_run_variance``) when given."""
    return log_interval(slow.mean - fast.mean, [(slow.variance, slow.df), (fast.variance, fast.df)], between)


def mean_interval(
    pairs: Sequence[tuple[Spread, Spread]], between: Sequence[float] = (), shared: float = 0.0
) -> Interval | None:
    """The geometric mean of the ratios slow ÷ fast of several pairs of cells, with its interval (the cells'
    processes independent of each other), each pair's recorded between-run variance (``between``, in the pairs'
    order) when given, and ``shared``: the between-run variance of the mean as a whole that its cells share (the steps
    they ran in, ``step_variance``), which does not shrink as cells are added."""
    if not pairs:
        return None
    k = len(pairs)
    mean = statistics.fmean(slow.mean - fast.mean for slow, fast in pairs)
    parts = [(s.variance / k**2, s.df) for pair in pairs for s in pair]
    return log_interval(mean, parts, sum(between) / k**2 + shared)


Step = tuple[object, ...]


def step_variance(cells: Sequence[tuple[Sequence[Step], Sequence[Step]]], sd: float = BETWEEN_STEP_SD) -> float:
    """The between-run variance that the steps a mean of k log ratios ran in give it: each step (one interpreter, one
    workload, one round) moves every process it ran by one draw of standard deviation ``sd``. ``cells``: for each
    ratio slow ÷ fast, the step of each process of slow and of fast. A step's weight in the mean is its share of
    slow's processes less its share of fast's, summed over the ratios and divided by k; the variance is sd² times the
    sum of the squared weights: k cells measured in one step count as one, a cell spread over r rounds as r draws."""
    if not cells:
        return 0.0
    weights: dict[Step, float] = {}
    for slow, fast in cells:
        for steps, sign in ((slow, 1.0), (fast, -1.0)):
            for step in steps:
                weights[step] = weights.get(step, 0.0) + sign / len(steps)
    return sd**2 * sum(weight**2 for weight in weights.values()) / len(cells) ** 2


@dataclass
class Estimator:
    """The run's cells as samples, with the priors of their groups: every interval of one report comes from one.
    Samples and priors are computed when first asked for."""

    run: Run
    # False: every process counts as measured, the machine's state left in its scatter (tools/probe_effect.py compares).
    probe_adjusted: bool = True
    # False: a ratio's interval from its processes alone, without BETWEEN_RUN_SD (tools/between_hours.py estimates it).
    between_runs: bool = True
    _measured: dict[tuple[str, str], Sample | None] = field(default_factory=dict)
    _samples: dict[tuple[str, str], Sample | None] = field(default_factory=dict)
    _priors: dict[tuple[str, str, bool], Prior | None] = field(default_factory=dict)
    _probe_references: dict[tuple[str, str], float] | None = None
    _probe_fits: dict[str, ProbeFit | None] = field(default_factory=dict)

    def measured(self, column: Column, cell: Cell) -> Sample | None:
        """The cell's processes as measured, before any adjustment."""
        key = (column.id, cell.name)
        if key not in self._measured:
            benchmark = column.benchmark(cell)
            self._measured[key] = sample(benchmark) if benchmark is not None else None
        return self._measured[key]

    @cached_property
    def machine_parallelism(self) -> Interval | None:
        """How much faster the machine ran two threads of C code than one while the run measured: the median of the
        CPython worker processes that timed the parallelism probe (``model.machine_parallelism``: 2.0 with both cores
        free, 1.0 with one), with the sign test's interval. None without such processes
        (``Run.parallelism_processes``)."""
        logs = [math.log(found) for process in self.run.parallelism_processes
                if (found := machine_parallelism(process))]
        return median_interval(logs) if logs else None

    def probe_fit(self, group: str) -> ProbeFit | None:
        """The run's fit of speed on probe over its time cells of ``group`` (``probe_group``) on every interpreter
        (see ``probe_fit``)."""
        if group not in self._probe_fits:
            cells = [cell for cell in self.run.cells if self._metric(cell) == "time" and probe_group(cell) == group]
            self._probe_fits[group] = probe_fit(
                found for column in self.run.columns for cell in cells
                if (found := self.measured(column, cell)) is not None
            )
        return self._probe_fits[group]

    def probe_reference(self, column: Column, cell: Cell) -> float | None:
        """The log probe the cell reads on the column at the run's usual machine state (``probe_references``: the
        interpreter's level, as its one call into zlib may cost it a little more or less than another's, plus the
        cell's offset among the interpreters of its implementation); None where none of its processes recorded one
        (an older run, a runtime the harness does not run)."""
        if self._probe_references is None:
            medians = {}
            for other in self.run.columns:
                for measured in self.run.cells:
                    found = self.measured(other, measured)
                    logs = [p for p in found.probes if p is not None] if found is not None else []
                    if logs:
                        medians[(other.id, measured.name)] = statistics.median(logs)
            families = {other.id: (self.run.machine(other.id), other.interpreter.implementation)
                        for other in self.run.columns}
            self._probe_references = probe_references(medians, families)
        return self._probe_references.get((column.id, cell.name))

    def sample(self, column: Column, cell: Cell) -> Sample | None:
        """The cell's processes as every interval takes them: adjusted by the probe, unless turned off or unfitted."""
        key = (column.id, cell.name)
        if key not in self._samples:
            found = self.measured(column, cell)
            fit = self.probe_fit(probe_group(cell)) if self.probe_adjusted else None
            reference = self.probe_reference(column, cell)
            if found is not None and fit is not None and reference is not None:
                found = adjusted(found, fit.slope, reference)
            self._samples[key] = found
        return self._samples[key]

    def _metric(self, cell: Cell) -> str:
        workload = next((w for w in self.run.workloads if w.name == cell.workload), None)
        if workload is None:
            return "time"
        return workload.variant(cell.variant).metric

    def _family(self, column: Column) -> tuple[object, ...]:
        return self.run.machine(column.id), column.interpreter.implementation, column.interpreter.is_jit

    def siblings(self, column: Column, cell: Cell) -> list[Sample | None]:
        """The cell on the run's other interpreters of the column's family (see the module's docstring)."""
        family = self._family(column)
        return [self.sample(other, cell) for other in self.run.columns
                if other is not column and self._family(other) == family]

    def prior(self, column: Column, cell: Cell, several_workers: bool = False) -> Prior | None:
        """The pooled variance of the cell's siblings (see the module's docstring), without the cell itself; with
        ``several_workers``, of cells on several workers alone (what such a cell measured once borrows,
        ``ratio_spread``: the second core's state, which moves them most, is not in the scatter of cells on one)."""
        key = (column.id, cell.name, several_workers)
        if key not in self._priors:
            metric = self._metric(cell)
            own = [other for other in self.run.cells if other != cell and self._metric(other) == metric
                   and (not several_workers or probe_group(other) == SEVERAL_WORKERS)]
            workload = [other for other in own if other.workload == cell.workload]
            variant = [other for other in workload if other.variant == cell.variant]
            # Nearest first: the cell's own variant at other sizes and worker counts (PyPy 3.11's numexpr, on no other
            # PyPy, borrowed PyPy's numpy, processes 12.6 to 261 ms: 1.67x [0.84-3.33] on processes 2 % apart),
            # its workload, then every time cell (a first pass that gave only the cells of decisions a second process).
            # A peak of memory borrows from its own workload only: its scatter is what the workload allocates, not the
            # machine's (numeric's numpy_memory on cpython-3.14-jit: 44.7 MiB in one default run, 57.0 in the next);
            # every memory cell's flagged 6-10 of 100 memory cells changed between two default runs of the same code.
            # A cell on several workers goes no further than its workload: its scatter is the cores', not the code's.
            groups = [self.siblings(column, cell), [self.sample(column, other) for other in variant],
                      [self.sample(column, other) for other in workload]]
            if metric == "time" and not several_workers:
                groups.append([self.sample(column, other) for other in own])
            self._priors[key] = next((prior for group in groups
                                      if (prior := pooled_prior(found for found in group if found is not None))), None)
        return self._priors[key]

    def spread(self, column: Column, cell: Cell, borrow: bool = True) -> Spread | None:
        """The cell's log mean with its moderated variance; without ``borrow``, with its own variance alone (none at
        all when measured in one process)."""
        found = self.sample(column, cell)
        if found is None:
            return None
        return spread(found, self.prior(column, cell) if borrow else None)

    def ratio(self, slow: tuple[Column, Cell], fast: tuple[Column, Cell], picked: bool = False) -> Interval | None:
        """slow ÷ fast, each a (column, cell); None when either did not run. A cell on several workers rests on its
        own processes from the second on, and takes its siblings' moderated variance where that widens it; measured
        once, ``prior(several_workers=True)``'s. ``fast`` measured once and ``picked`` (a verdict's fastest) borrows
        nothing. ``slow`` still borrows: a candidate
        behind the fastest owes its place to no luck that would make it look slower, and luck that put it near only
        makes a tie likelier (a default run listed CPython's JIT on countdown, measured once and 31.8x slower than
        PyPy, as "cannot be told apart" for want of an interval). Time cells add ``between_run_variance``."""
        a, b = self.ratio_spread(*slow), self.ratio_spread(*fast, picked)
        if a is None or b is None:
            return None
        between = self.between_run_variance(slow, fast)
        found = ratio_interval(a, b, between)
        moderated = self.moderated_on_several_workers(*slow), self.moderated_on_several_workers(*fast)
        if moderated == (None, None) or not found.known:
            return found
        # Never narrower than with its siblings' variance either (see the module's docstring).
        other = ratio_interval(moderated[0] or a, moderated[1] or b, between)
        return other if other.high / other.low > found.high / found.low else found

    def ratio_spread(self, column: Column, cell: Cell, picked: bool = False) -> Spread | None:
        """The cell's spread as ``ratio`` takes it: on several workers, its own variance alone, or measured once
        ``prior(several_workers=True)``'s; measured once and ``picked``, none; else the moderated one."""
        found = self.sample(column, cell)
        once = found is not None and found.n < 2
        if probe_group(cell) == SEVERAL_WORKERS:
            return spread(found, self.prior(column, cell, several_workers=True)) if once and not picked else (
                self.spread(column, cell, borrow=False))
        return self.spread(column, cell, borrow=not (picked and once))

    def moderated_on_several_workers(self, column: Column, cell: Cell) -> Spread | None:
        """A cell on several workers measured twice or more, moderated by its ``siblings``; else None."""
        found = self.sample(column, cell)
        if probe_group(cell) != SEVERAL_WORKERS or found is None or found.n < 2:
            return None
        prior = pooled_prior(sibling for sibling in self.siblings(column, cell) if sibling is not None)
        return spread(found, prior) if prior is not None else None

    def between_run_variance(self, slow: tuple[Column, Cell], fast: tuple[Column, Cell]) -> float:
        """τ² of the ratio of two time cells, each a (column, cell): ``BETWEEN_RUN_SD``, or ``BETWEEN_RUN_SD_PYPY``
        when either runs on PyPy, shared out among the runs its processes came from in a pooled run; 0 for memory (a
        peak of memory does not follow the other tenant's load) or when turned off."""
        if not self.between_runs or self._metric(slow[1]) != "time" or self._metric(fast[1]) != "time":
            return 0.0
        # Once per hour the ratio's processes came from: in a run pooled from runs at other hours, each run's hour is
        # a draw of its own (``Sample.run_concentration``; 1 for a run measured as one). The larger of the two cells'.
        hours = max(
            found.run_concentration if (found := self.sample(*cell)) is not None else 1.0 for cell in (slow, fast)
        )
        return between_run_sd(slow, fast) ** 2 * hours

    def geometric_mean(self, pairs: Sequence[tuple[tuple[Column, Cell], tuple[Column, Cell]]]) -> Interval | None:
        """The geometric mean of slow ÷ fast over the pairs both of whose cells ran, with its interval: each ratio's
        recorded between-run variance, and for time cells the variance of the steps their processes shared
        (``steps``, ``step_variance``)."""
        found = [
            ((a, b), self.between_run_variance(slow, fast), (slow, fast))
            for slow, fast in pairs
            if (a := self.spread(*slow)) is not None and (b := self.spread(*fast)) is not None
        ]
        # A peak of memory does not follow the hour (``between_run_variance``): a memory ratio's steps weigh nothing.
        steps = [
            (self.steps(*slow), self.steps(*fast)) if variance else ((), ()) for _, variance, (slow, fast) in found
        ]
        shared = step_variance(steps)
        return mean_interval([spreads for spreads, _, _ in found], [variance for _, variance, _ in found], shared)

    def steps(self, column: Column, cell: Cell) -> list[Step]:
        """The step each of the cell's kept processes ran in: its interpreter, its workload and its round (a process
        that recorded no round is a step of its own)."""
        found = self.sample(column, cell)
        rounds = found.rounds if found is not None and found.rounds else (None,) * (found.n if found else 0)
        return [
            (column.id, cell.workload, number) if number is not None else (column.id, cell.name, "process", i)
            for i, number in enumerate(rounds)
        ]
