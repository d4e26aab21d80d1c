"""Start-up and warm-up: first calls against steady state per interpreter, and when a JIT pays off against the
baseline."""

from __future__ import annotations

from ..markdown import NOT_RUN, table, times
from ..model import Run
from ..stats import answer, run_questions, warmup_ratio
from . import Charts
from .wording import payoff_text


def render(run: Run, charts: Charts) -> str | None:
    rows, payoffs = [], []
    base = run.baseline_column
    shown = set()
    for found in (answer(run, question) for question in run_questions(run)):
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
                    text = payoff_text(column, cell, base, cell)
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
        table(["cell (reference)", *(column.id for column in run.columns)], rows),
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
