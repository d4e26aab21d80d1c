""""Which interpreter should I use?": the report's answer per kind of code, computed from the run's own cells.

Each question (``QUESTIONS``, data) names a workload and the variants a reader could choose between for that kind of
code; the answer is the fastest (interpreter, variant) among the cells that ran, against the workload's reference
variant on the baseline interpreter, with pyperf's t-test, and then what choosing it costs on the same run: start-up
(the ``startup`` workload's pyperf command benchmarks), JIT warm-up (the warm-up values pyperf recorded in the same
worker processes), peak memory (the workload's memory cells) and the bindings or packages unavailable there. Where
the data cannot decide (a difference pyperf cannot tell from noise, a baseline cell that did not run, an interpreter
without results) the sentence says so; nothing in it is written by hand.

The same module builds the start-up/warm-up and memory sections, which hold the figures the verdicts quote.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import pyperf

from .merge import split_machine_id
from .registry import Cell, Workload
from .report import (
    NOT_RUN,
    Column,
    Run,
    _first_sentence,
    _md,
    _table,
    binding_used,
    is_memory,
    significance,
    speed_ratio,
    speed_text,
    time_text,
    times,
)
from .results import CellFailure

STARTUP_CELL = Cell("startup", "bare", None, 0)


@dataclass(frozen=True)
class Question:
    """A kind of code, and the cells of one workload that answer "which interpreter, and which way of writing it"."""

    kind: str
    workload: str
    # The variants a reader could choose between (their time cells); None: every time variant of the workload.
    variants: tuple[str, ...] | None = None
    # Only cells at this worker count (variants without workers always count); None: every worker count.
    workers: int | None = None
    # The size compared at; None: the reference's first.
    size: int | None = None


QUESTIONS: tuple[Question, ...] = (
    Question("Pure-Python CPU loops", "countdown", ("serial",)),
    Question("Pure-Python CPU loops", "word_count", ("chars", "split", "regex")),
    Question("CPU work in threads or processes", "countdown", ("serial", "threads", "processes")),
    Question("CPU work in threads or processes", "pools", ("serial", "threads", "processes")),
    # Not `c` (a C program, no Python: the limit) nor the threaded variants (32 calls: other work).
    Question("Compiled kernels", "primes", ("pure", "cython", "cffi", "compiled"), size=500),
    Question("I/O-bound concurrency", "io_threads", ("serial", "threads", "asyncio"), workers=64),
    Question("Allocation- and GC-heavy code", "gc_cycles", ("strong", "weakref")),
    Question("Numeric arrays", "numeric", ("pure", "numpy", "numexpr"), size=1_000_000),
)


def questions(run: Run) -> list[Question]:
    """The registry's questions whose workload is in the run, then one per user workload."""
    names = {workload.name: workload for workload in run.workloads}
    found = [question for question in QUESTIONS if question.workload in names]
    for workload in run.workloads:
        if workload.source is not None:
            found.append(Question("Your workload", workload.name, (workload.reference,)))
    return found


@dataclass(frozen=True)
class Answer:
    question: Question
    workload: Workload
    # The reference cell the question compares with, on the baseline interpreter.
    reference: Cell
    baseline: Column | None
    # The fastest measured (column, cell) among the candidates, if any ran.
    best: tuple[Column, Cell] | None
    # Interpreters where no candidate ran, with why.
    missing: dict[str, str]

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


def _size(workload: Workload, question: Question) -> int:
    if question.size is not None:
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


def reference_cell(workload: Workload, question: Question) -> Cell:
    size = _size(workload, question)
    cells = [cell for cell in workload.cells() if cell.variant == workload.reference and cell.size == size]
    if question.workers is not None:
        cells = [cell for cell in cells if cell.workers in (None, question.workers)] or cells
    return min(cells, key=lambda cell: cell.workers or 0)


def _why_missing(column: Column, cells: Sequence[Cell], complete: bool) -> str:
    kinds = []
    for cell in cells:
        outcome = column.outcome(cell)
        if isinstance(outcome, CellFailure) and outcome.kind not in kinds:
            kinds.append(outcome.kind)
    if kinds:
        return " / ".join(kinds)
    return "not in this run" if complete else "not run yet"


def compared_columns(run: Run) -> list[Column]:
    """The columns a verdict chooses between: all of them, or in a run merged from several machines, those of the
    baseline's machine (a speed-up across two machines measures the machines as much as the interpreters)."""
    if run.baseline is None or not run.info.get("machines"):
        return list(run.columns)
    machine = split_machine_id(run.baseline)[1]
    return [column for column in run.columns if split_machine_id(column.id)[1] == machine]


def answer(run: Run, question: Question) -> Answer:
    workload = next(w for w in run.workloads if w.name == question.workload)
    cells = candidates(workload, question)
    columns = compared_columns(run)
    measured = [
        (column.benchmark(cell).mean(), index, column, cell)
        for index, column in enumerate(columns)
        for cell in cells
        if column.benchmark(cell) is not None
    ]
    best = min(measured, key=lambda found: found[:2], default=None)
    missing = {
        column.id: _why_missing(column, cells, run.complete)
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


# Costs ---------------------------------------------------------------------------------------------------------


def startup_time(column: Column) -> pyperf.Benchmark | None:
    return column.benchmark(STARTUP_CELL)


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


def seconds_text(seconds: float) -> str:
    if seconds >= 1:
        return f"{seconds:.1f} s"
    if seconds >= 1e-3:
        return f"{seconds * 1e3:.0f} ms"
    return f"{seconds * 1e6:.0f} µs"


def payoff_text(run: Run, column: Column, cell: Cell, other: Column, other_cell: Cell) -> str | None:
    """"pays off after N calls (a script that runs X on cpython-3.12)" for a JIT column, or why it does not."""
    jit, base = column.benchmark(cell), other.benchmark(other_cell)
    if jit is None or base is None:
        return None
    start, other_start = startup_time(column), startup_time(other)
    if start is not None and other_start is not None:
        found, start_note = payoff(jit, base, start.mean(), other_start.mean()), ""
    else:
        found, start_note = payoff(jit, base), " (start-up not measured)"
    if found is None:
        return f"the JIT never catches up: slower than {other.id} even when warm"
    calls, seconds = found
    return (
        f"the JIT pays off after {calls:,} call{'s' if calls != 1 else ''}: for a script that would run "
        f"{seconds_text(seconds)} or more on {other.id}{start_note}"
    )


def memory_cell(workload: Workload, cell: Cell) -> Cell | None:
    """The memory cell of the same variant as ``cell`` (any worker count or size), else the workload's first."""
    memory = [c for c in workload.cells() if workload.variant(c.variant).metric == "memory"]
    same = [c for c in memory if c.variant == f"{cell.variant}_memory"]
    return (same or memory or [None])[0]


def unavailable(column: Column, workload: Workload) -> list[str]:
    """The workload's variants that cannot run on this interpreter (bindings, packages), with the gist of why."""
    found = {}
    for cell in workload.cells():
        failure = column.failures.get(cell.name)
        if failure is not None and failure.kind == "unavailable":
            found.setdefault(cell.variant, _first_sentence(failure.reason))
    return [f"`{variant}` ({reason})" for variant, reason in found.items()]


def costs(run: Run, found: Answer) -> list[str]:
    """What choosing the answer's interpreter costs, measured on the same run, against the baseline."""
    if found.best is None or found.baseline is None:
        return []
    column, cell = found.best
    base = found.baseline
    parts = []
    start, base_start = startup_time(column), startup_time(base)
    if start is not None and base_start is not None and column is not base:
        parts.append(
            f"start-up {seconds_text(start.mean())} against {seconds_text(base_start.mean())} ([start-up](#startup))"
        )
    if column.interpreter.is_jit and not base.interpreter.is_jit:
        text = payoff_text(run, column, cell, base, found.reference)
        if text:
            parts.append(text)
    memory = memory_cell(found.workload, cell)
    if memory is not None and column is not base:
        mine, theirs = column.benchmark(memory), base.benchmark(memory)
        if mine is not None and theirs is not None:
            parts.append(
                f"peak memory {mine.format_value(mine.mean())} against {theirs.format_value(theirs.mean())} "
                f"(`{memory.label}`, [memory](#peak-memory))"
            )
    missing = unavailable(column, found.workload)
    if missing:
        parts.append("unavailable there: " + ", ".join(missing))
    return parts


# Sentences -------------------------------------------------------------------------------------------------------


def _link(workload: Workload) -> str:
    return f"[{workload.name}](#{workload.name.lower()})"


def _choice(column: Column, cell: Cell) -> str:
    bench = column.benchmark(cell)
    binding = binding_used(bench) if bench is not None and cell.variant == "compiled" else None
    return f"**{column.id}** with `{cell.label}`" + (f" (via {binding})" if binding else "")


def sentence(run: Run, found: Answer) -> str:
    """One line of the verdict: the choice, the evidence, the costs."""
    what = f"**{found.question.kind}** ({_link(found.workload)})"
    if found.baseline is None:
        return f"- {what}: no interpreter has results, so there is nothing to choose from."
    if found.best is None:
        reasons = "; ".join(f"{iid}: {why}" for iid, why in found.missing.items())
        return f"- {what}: no interpreter ran it ({reasons})."
    column, cell = found.best
    base_bench, best_bench = found.reference_benchmark, found.best_benchmark
    reference = f"{run.baseline} with `{found.reference.label}`"
    if base_bench is None:
        why = _why_missing(found.baseline, [found.reference], run.complete)
        line = (
            f"- {what}: cannot compare with the baseline: {reference} did not run ({why}); the fastest measured is "
            f"{_choice(column, cell)} at {time_text(best_bench)}"
        )
    elif base_bench is best_bench:
        line = f"- {what}: stay on **{run.baseline}** with `{cell.label}` ({time_text(best_bench)}): nothing measured beats it"
    elif found.mark == "n.s.":
        line = (
            f"- {what}: no clear winner: the fastest, {_choice(column, cell)}, is {speed_text(found.ratio)} than "
            f"{reference}, a difference pyperf's t-test cannot tell from noise (n.s.)"
        )
    else:
        tested = " (not tested: the two cells have different numbers of values)" if found.mark == "not tested" else ""
        line = f"- {what}: use {_choice(column, cell)}: {speed_text(found.ratio)} than {reference}{tested}"
    extra = costs(run, found)
    if extra:
        line += ". Costs there: " + "; ".join(extra)
    if found.missing:
        line += ". Not measured on " + ", ".join(f"{iid} ({why})" for iid, why in found.missing.items())
    return line + "."


def verdict_section(run: Run, speedup_plot: str | None = None) -> str:
    lines = [
        "## Which interpreter should I use?",
        "",
        "For each kind of code, the fastest interpreter and way of writing it among the cells of this run, against "
        f"the workload's reference on the baseline ({run.baseline or 'none'}), with pyperf's t-test; then what that "
        "choice costs on the same run. Each workload name links to its table.",
        "",
    ]
    if run.info.get("machines") and run.baseline is not None:
        machine = split_machine_id(run.baseline)[1]
        lines[-2] += (
            f" This run merges several machines: the answers are for **{machine}**, the baseline's machine; "
            "`nox -s report -- <run> --baseline <id>@<machine>` answers for another."
        )
    lines += [sentence(run, answer(run, question)) for question in questions(run)]
    if speedup_plot:
        lines += ["", speedup_plot]
    return "\n".join(lines)


# Start-up, warm-up and memory sections ------------------------------------------------------------------------------


def warmup_ratio(benchmark: pyperf.Benchmark) -> float | None:
    """The first warm-up value of a worker process over the cell's steady mean (1.0: no warm-up to speak of)."""
    firsts = [run.warmups[0][1] for run in benchmark.get_runs() if run.values and run.warmups]
    if not firsts:
        return None
    return (sum(firsts) / len(firsts)) / benchmark.mean()


def warmup_section(run: Run) -> str | None:
    """First calls against steady state per interpreter, and when a JIT pays off against the baseline."""
    rows, payoffs = [], []
    base = run.baseline_column
    shown = set()
    for found in (answer(run, question) for question in questions(run)):
        cell = found.reference
        if cell in shown:  # two questions on one workload share its reference
            continue
        shown.add(cell)
        row = [f"{found.workload.name} `{cell.label}`"]
        for column in run.columns:
            bench = column.benchmark(cell)
            ratio = warmup_ratio(bench) if bench is not None else None
            row.append(NOT_RUN if ratio is None else times(ratio))
        if any(text != NOT_RUN for text in row[1:]):
            rows.append(row)
        if base is not None:
            for column in run.columns:
                if column.interpreter.is_jit and not base.interpreter.is_jit:
                    text = payoff_text(run, column, cell, base, cell)
                    if text:
                        payoffs.append(f"- {found.workload.name} `{cell.label}` on {column.id}: {text}.")
    if not rows:
        return None
    lines = [
        "## Start-up and warm-up",
        "",
        "Start-up times are the [startup](#startup) workload's cells (pyperf command benchmarks of `python -c ...`). "
        "Warm-up: the first warm-up value of each fresh pyperf worker process (the mean of its first calls, JIT "
        "compilation included) over the cell's steady mean; 1.00× is no warm-up. It also holds what a workload "
        "builds on its first call in a process (word_count's text, numeric's lists and arrays, pools' first "
        "calls), so a ratio well above 1× on every interpreter is that, not a JIT warming up.",
        "",
        _table(["cell (reference)", *(column.id for column in run.columns)], rows),
    ]
    if payoffs:
        lines += [
            "",
            f"When a JIT pays off against {run.baseline}: the number of calls after which the JIT's process, start-up "
            "and warm-up included, has spent less time in total (its calls in the order pyperf recorded them):",
            "",
            *payoffs,
        ]
    return "\n".join(lines)


def memory_section(run: Run, memory_plot: str | None = None) -> str | None:
    """Peak memory per interpreter and workload, beside the time of the same variant."""
    rows = []
    for workload in run.workloads:
        for cell in workload.cells():
            if workload.variant(cell.variant).metric != "memory":
                continue
            timed = Cell(cell.workload, cell.variant[: -len("_memory")], cell.workers, cell.size)
            row = [f"{workload.name} `{timed.label}`"]
            for column in run.columns:
                memory, time = column.benchmark(cell), column.benchmark(timed)
                if memory is None or not is_memory(memory):
                    row.append(NOT_RUN)
                    continue
                text = memory.format_value(memory.mean())
                row.append(f"{text} · {time.format_value(time.mean())}" if time is not None else text)
            rows.append(row)
    if not rows:
        return None
    lines = [
        "## Peak memory",
        "",
        "Peak private memory of a pyperf worker process while it ran the variant (pyperf `--track-memory`, the mean "
        "over worker processes), then the variant's time per call from its own cell. The process's memory includes "
        "the interpreter itself; compare columns on one row.",
        "",
        _table(["variant", *(_md(column.id) for column in run.columns)], rows),
    ]
    if memory_plot:
        lines += ["", memory_plot]
    return "\n".join(lines)

