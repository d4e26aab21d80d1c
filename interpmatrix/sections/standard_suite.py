"""The standard suite (pyperformance's benchmarks) per interpreter, beside the figures published for it.

First each interpreter's geometric mean of speed-ups over the baseline on the suite, with its 95 % interval from the
cells' worker processes (``intervals``, as every figure of the report), all over one set of benchmarks: those the
baseline ran. An interpreter that did not run one of them is listed with what it missed, not ranked on fewer.

Then the figures readers know (``questions.PUBLISHED_FIGURES``), each compared like with like: every PyPy against
CPython 3.11 (speed.pypy.org's baseline), every CPython JIT column against the same CPython without its JIT (the same
binary where the run has it, else the same version), every free-threaded build against its same-source GIL twin; each
over the benchmarks both ran. A figure whose interval lies wholly outside the published range disagrees with it, one
whose interval overlaps it agrees, one without an interval is undecided. A published figure is over its source's
whole suite, which is not the run's set of benchmarks: free-threading's cost on 3.13 ran from 1.06x the time to 3.27x
from one pyperformance benchmark to the next, so a run can differ from the suite's figure by the benchmarks it has
alone, and the line says so. Where the source also publishes each benchmark's figure, the run's figure is held
against the geometric mean of the source's over the same benchmarks: like with like.

The suite stays out of the seeds' overall geometric mean (``geomean``, the verdict's "Overall"; its workload's
``overall_mean`` is False): that mean answers "which interpreter for the seeds' kinds of code", this one "how does
this machine hold against the published suite figures", and a suite that cannot be installed on Python 3.9 would
drop PyPy 3.9 from the overall ranking.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence

from ..intervals import Estimator, Interval
from ..markdown import (
    NOT_RUN,
    change_interval_text,
    first_sentence,
    md,
    percent,
    requirement_version,
    speed_interval_text,
    speed_text,
    table,
)
from ..model import Column, Run
from ..questions import FREE_THREADING, JIT, PUBLISHED_FIGURES, PYPY, PublishedFigure
from ..registry import STANDARD_SUITE, Cell
from ..results import CellFailure
from . import Charts

AGREES, DISAGREES, UNDECIDED = "agrees", "disagrees", "undecided"
# The sentence each answer gets after a published figure over the source's own suite...
VERDICTS = {
    AGREES: "It agrees with that figure: its interval overlaps the published range.",
    DISAGREES: ("It lies beyond its interval from that figure, which is over other benchmarks than these: the two may "
                "differ by the benchmarks, not only by this run."),
    UNDECIDED: "Undecided against the published figure: this figure has no interval.",
}
# ... and after the source's own figures over the same benchmarks.
LIKE_WITH_LIKE_VERDICTS = {
    AGREES: "Like with like, it agrees with it: its interval holds it.",
    DISAGREES: "Like with like, it disagrees with it beyond its interval.",
    UNDECIDED: "Undecided against it: this figure has no interval.",
}


def suite_cells(run: Run) -> list[Cell]:
    """The standard suite's time cells in the run, in registry order."""
    return [
        cell
        for workload in run.workloads
        if workload.group == STANDARD_SUITE
        for cell in workload.cells()
        if workload.variant(cell.variant).metric == "time"
    ]


def agreement(interval: Interval | None, low: float, high: float) -> str:
    """How the matrix's figure (a ratio of times, oriented as the published figure's) stands against the published
    range ``low`` to ``high`` (one number: ``low == high``)."""
    if interval is None or not interval.known:
        return UNDECIDED
    if interval.high < low or interval.low > high:
        return DISAGREES
    return AGREES


def published_over(figure: PublishedFigure, cells: list[Cell]) -> tuple[list[Cell], float | None]:
    """Of ``cells``, those ``figure`` publishes a figure for, and the geometric mean of its figures over them (None
    for none)."""
    own = dict(figure.per_benchmark)
    covered = [cell for cell in cells if cell.variant in own]
    if not covered:
        return [], None
    return covered, statistics.geometric_mean(own[cell.variant] for cell in covered)


def _why_missing(column: Column, cell: Cell, run: Run) -> str:
    outcome = column.outcome(cell)
    if isinstance(outcome, CellFailure):
        if outcome.kind == "unavailable":
            return f"unavailable: {md(first_sentence(outcome.reason))}"
        return outcome.kind
    return run.why_no_result()[0]


def missing_text(run: Run, column: Column, cells: list[Cell]) -> str:
    """What ``column`` did not run of ``cells``, grouped by why: ``go, nbody (error); json_dumps (timeout)``."""
    missing = [cell for cell in cells if column.benchmark(cell) is None]
    reasons: dict[str, list[str]] = {}
    for cell in missing:
        reasons.setdefault(_why_missing(column, cell, run), []).append(cell.variant)
    if len(missing) == len(cells) and len(reasons) == 1:
        return f"ran none of the {len(cells)} ({next(iter(reasons))})"
    return "did not run " + "; ".join(f"{', '.join(names)} ({why})" for why, names in reasons.items())


def ranking_rows(run: Run, estimator: Estimator, cells: list[Cell]) -> list[list[str]]:
    """Per interpreter, its geometric mean over ``cells`` against the baseline, fastest first; then the interpreters
    that missed one, with what they missed."""
    baseline = run.baseline_column
    ranked, unranked = [], []
    for column in run.columns:
        if column is baseline:
            ranked.append((1.0, [column.id, "baseline"]))
        elif any(column.benchmark(cell) is None for cell in cells):
            unranked.append([column.id, f"{NOT_RUN} not ranked: {missing_text(run, column, cells)}"])
        else:
            mean = estimator.geometric_mean([((baseline, cell), (column, cell)) for cell in cells])
            ranked.append((mean.value, [column.id, speed_interval_text(mean)]))
    return [row for _, row in sorted(ranked, key=lambda item: -item[0])] + unranked


def _same_machine(run: Run, a: Column, b: Column) -> bool:
    return run.machine(a.id) == run.machine(b.id)


def _plain_cpython(column: Column) -> bool:
    interpreter = column.interpreter
    return interpreter.implementation == "cpython" and not interpreter.is_jit


def pairs(run: Run) -> list[tuple[str, Column, Column | None, str]]:
    """The comparisons the published figures make, as (comparison, subject, partner or None, why none): the
    partner's time over the subject's for PyPy and a JIT, the free-threaded build's over its twin's for free-threading
    (the orientation of ``questions.PublishedFigure``)."""
    found = []
    for column in run.columns:
        interpreter = column.interpreter
        if interpreter.implementation == "pypy":
            cpythons = [other for other in run.columns if _plain_cpython(other) and not other.interpreter.free_threaded
                        and other.interpreter.minor == "3.11" and _same_machine(run, column, other)]
            partner = max(cpythons, key=lambda other: other.interpreter.version_tuple, default=None)
            found.append((PYPY, column, partner, "no CPython 3.11 in this run"))
        elif interpreter.implementation == "cpython" and interpreter.is_jit:
            plain = [other for other in run.columns if _plain_cpython(other) and _same_machine(run, column, other)
                     and other.interpreter.free_threaded == interpreter.free_threaded]
            # The same binary without the JIT (PYTHON_JIT=0) first: another build of the version mixes in its flags.
            partner = next((other for other in plain if other.interpreter.executable == interpreter.executable), None)
            if partner is None:
                partner = next((other for other in plain if other.interpreter.version == interpreter.version), None)
            found.append((JIT, column, partner, f"no CPython {interpreter.version} without its JIT in this run"))
        elif interpreter.free_threaded and ("PYTHON_GIL", "1") not in interpreter.env:
            twin = next((other for other in run.columns if other.id == interpreter.twin), None)
            found.append((FREE_THREADING, column, twin, "no same-source GIL twin in this run"))
    return found


def published(comparison: str, column: Column,
              figures: Sequence[PublishedFigure] = PUBLISHED_FIGURES) -> list[PublishedFigure]:
    """The published figures for ``comparison`` on ``column``'s minor, in ``figures``' order."""
    minor = column.interpreter.minor
    return [figure for figure in figures if figure.comparison == comparison and figure.minor in (None, minor)]


def comparison_line(run: Run, estimator: Estimator, cells: list[Cell], pair: tuple[str, Column, Column | None, str],
                    figures: Sequence[PublishedFigure] = PUBLISHED_FIGURES) -> str:
    comparison, subject, partner, why_none = pair
    found = published(comparison, subject, figures)
    suite_wide = [figure for figure in found if not figure.per_benchmark]
    sources = "; ".join(f"published: {figure.text}, per {figure.source}" for figure in found) or (
        f"no published figure for {subject.interpreter.minor}")
    if partner is None:
        return f"- **{subject.id}** ({comparison}): not measured, {why_none}; {sources}."
    numerator, denominator = (subject, partner) if comparison == FREE_THREADING else (partner, subject)
    common = [cell for cell in cells if subject.benchmark(cell) is not None and partner.benchmark(cell) is not None]
    if not common:
        return f"- **{subject.id}** against **{partner.id}**: no benchmark ran on both; {sources}."

    def figure_text(ratio: Interval) -> str:
        return f"{change_interval_text(ratio)} time" if comparison == FREE_THREADING else speed_interval_text(ratio)

    def point_text(ratio: float) -> str:
        return f"{percent(ratio - 1, signed=True)} time" if comparison == FREE_THREADING else speed_text(ratio)

    def mean_over(over: list[Cell]) -> Interval:
        return estimator.geometric_mean([((numerator, cell), (denominator, cell)) for cell in over])

    mean = mean_over(common)
    left_out = [cell.variant for cell in cells if cell not in common]
    over = f"geometric mean of {len(common)} benchmarks" + (
        f" (not {', '.join(left_out)}: not run on both)" if left_out else "")
    text = f"- **{subject.id}** against **{partner.id}**: {figure_text(mean)}, {over}"
    if not found:
        return f"{text}; {sources}."
    parts = [f"{text}."]
    for figure in suite_wide:
        verdict = VERDICTS[agreement(mean, figure.low, figure.high)]
        parts.append(f"Published over {figure.over}: {figure.text}, per {figure.source}. {verdict}")
    for figure in found:
        if not figure.per_benchmark:
            continue
        covered, value = published_over(figure, common)
        if value is None:
            parts.append(f"Published benchmark by benchmark for {figure.text}, per {figure.source}: none of these.")
            continue
        if covered == common:
            scope, own = f"the same {len(covered)} benchmarks", mean
        else:
            own = mean_over(covered)
            scope = f"{len(covered)} of these benchmarks (this run over them: {figure_text(own)})"
        verdict = LIKE_WITH_LIKE_VERDICTS[agreement(own, value, value)]
        parts.append(f"Published on {scope}: {point_text(value)}, the geometric mean of each one's figure for "
                     f"{figure.text}, per {figure.source}. {verdict}")
    return " ".join(parts)


def render(run: Run, charts: Charts) -> str | None:
    cells = suite_cells(run)
    if not cells or not any(column.benchmark(cell) for column in run.columns for cell in cells):
        return None
    workload = next(w for w in run.workloads if w.group == STANDARD_SUITE)
    version = requirement_version(workload.requirements, "pyperformance")
    estimator = Estimator(run)
    lines = ["## Standard suite against published figures", ""]
    baseline = run.baseline_column
    if baseline is not None:
        ranked_on = [cell for cell in cells if baseline.benchmark(cell) is not None]
        skipped = [cell.variant for cell in cells if cell not in ranked_on]
        intro = (
            f"pyperformance {version}'s benchmarks, one iteration each at pyperformance's default size, run like "
            f"every workload ([{STANDARD_SUITE}](#{STANDARD_SUITE.lower().replace(' ', '-')})). Each interpreter's "
            f"geometric mean of speed-ups over {run.baseline}, with its 95 % interval, over the {len(ranked_on)} "
            f"benchmarks {run.baseline} ran: an interpreter that missed one is listed with what it missed, not ranked "
            "on fewer. These cells stay out of the [geometric mean](#geometric-mean) of the seeds' workloads."
        )
        if skipped:
            intro += f" {run.baseline} did not run {', '.join(skipped)}: left out for all."
        lines += [intro, ""]
        if ranked_on:
            lines += [table(["interpreter", f"speed vs {run.baseline} (pyperformance)"],
                            ranking_rows(run, estimator, ranked_on)), ""]
    found = pairs(run)
    if found:
        lines += [
            ("Against the figures readers know, like with like, each over the benchmarks both interpreters ran, with "
             "its 95 % interval:"),
            "",
            *(comparison_line(run, estimator, cells, pair) for pair in found),
        ]
    return "\n".join(lines).rstrip()
