"""Start-up and warm-up: first calls against steady state per interpreter, and when a JIT pays off against the
baseline."""

from __future__ import annotations

from ..markdown import NOT_RUN, ratio_text, table
from ..intervals import Estimator
from ..samples import WARM_TOLERANCE
from ..model import Run, is_memory
from ..verdicts import warmup_cells, warmup_ratio
from . import Charts
from .wording import payoff_text


def still_warming_row(run: Run, estimator: Estimator) -> list[str] | None:
    """Per interpreter: worker processes still warming up when their timed values began, of all its processes."""
    row = ["processes still warming up after the warm-ups"]
    for column in run.columns:
        warming = total = 0
        for cell in run.cells:
            bench = column.benchmark(cell)
            found = estimator.sample(column, cell) if bench is not None and not is_memory(bench) else None
            if found is not None:
                warming, total = warming + found.still_warming, total + found.n
        row.append(f"{warming} of {total}" if total else NOT_RUN)
    return row if any(text != NOT_RUN for text in row[1:]) else None


def render(run: Run, charts: Charts) -> str | None:
    rows, payoffs = [], []
    base = run.baseline_column
    estimator = Estimator(run)
    for workload, cell in warmup_cells(run):
        row = [f"{workload.name} `{cell.label}`"]
        for column in run.columns:
            bench = column.benchmark(cell)
            ratio = warmup_ratio(bench) if bench is not None else None
            row.append(NOT_RUN if ratio is None else ratio_text(ratio))
        if any(text != NOT_RUN for text in row[1:]):
            rows.append(row)
        if base is not None:
            for column in run.columns:
                if column.interpreter.is_jit and not base.interpreter.is_jit:
                    text = payoff_text(estimator, column, cell, base, cell)
                    if text:
                        payoffs.append(f"- {workload.name} `{cell.label}` on {column.id}: {text}.")
    if not rows:
        return None
    still_warm = still_warming_row(run, estimator)
    if still_warm is not None:
        rows.append(still_warm)
    lines = [
        "## Start-up and warm-up",
        "",
        "Start-up times are the [startup](#startup) workload's cells (pyperf command benchmarks of `python -c ...`). "
        "Warm-up: in each fresh pyperf worker process, its first warm-up value (the mean of its first calls, JIT "
        "compilation included) over the mean of its own steady values; the geometric mean over the cell's worker "
        "processes, with its 95 % interval (the processes are the independent units: none from one); 1.00× is no "
        "warm-up. It also holds what a workload builds on its first call in a process (word_count's text, numeric's "
        "lists and arrays, pools' first calls), so a ratio well above 1× on every interpreter is that, not a JIT "
        "warming up. The last row counts, over every time cell, the worker processes whose first timed values still "
        f"ran more than {WARM_TOLERANCE * 100:.0f} % above the values after them: the warm-ups were too few there, "
        "and those values were left out of every figure as warm-up (see Method).",
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
