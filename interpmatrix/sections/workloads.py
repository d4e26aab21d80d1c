"""One section per workload, under its group's heading: the claim it tests, its variants, and its table (rows: the
workload's cells; columns: the run's interpreters)."""

from __future__ import annotations

import pyperf

from .. import external
from ..intervals import Estimator, Interval
from ..markdown import NOT_RUN, md, row_label, size_text, speed_interval_text, table, time_text
from ..model import Run, binding_used, is_memory
from ..registry import GROUPS, Workload
from ..stats import fastest, significance
from . import Charts
from .wording import not_run_text

FAILURES_LINK = f"{NOT_RUN}: see [Cells that did not run](#cells-that-did-not-run) for the reasons."


def legend(run: Run) -> str:
    if run.baseline is None:
        return "Each cell: mean ± std dev (pyperf); **bold**: fastest in its row."
    return (
        f"Each cell: mean ± std dev (pyperf), then the speed against the baseline, {run.baseline}, with its 95 % "
        "interval; **bold**: fastest in its row; (n.s.): the interval includes no change, so the cell is not told "
        "apart from the baseline."
    )


def cell_text(benchmark: pyperf.Benchmark, against: Interval | None, is_baseline: bool, fastest: bool) -> str:
    """One cell of a workload table: ``12.3 ms ± 0.4 ms · 1.52× faster [1.41–1.64]``, bold when fastest in its row;
    ``against``: the baseline's figure ÷ this cell's, None when the baseline did not run it."""
    text = time_text(benchmark)
    binding = binding_used(benchmark)
    if binding is not None and benchmark.get_name().split("/", 1)[1].startswith("compiled"):
        # `compiled` is whichever binding is best on that interpreter: never let it pass for another row's number.
        text += f" via {binding}"
    if is_baseline:
        text += " · baseline"
    elif against is not None:
        text += " · " + speed_interval_text(against, memory=is_memory(benchmark))
        mark = significance(against)
        if mark is not None:
            text += f" ({mark})"
    return f"**{text}**" if fastest else text


def workload_table(run: Run, workload: Workload) -> str:
    baseline = run.baseline_column
    estimator = Estimator(run)
    rows = []
    for cell in workload.cells():
        winner = fastest(estimator, cell)
        row = [row_label(workload, cell)]
        for column in run.columns:
            outcome = column.outcome(cell)
            if isinstance(outcome, pyperf.Benchmark):
                against = estimator.ratio((baseline, cell), (column, cell)) if baseline is not None else None
                row.append(cell_text(outcome, against, column.id == run.baseline, column is winner))
            else:
                row.append(not_run_text(outcome, run.why_no_result()[0]))
        rows.append(row)
    return table(["cell", *(column.id for column in run.columns)], rows)


def user_workload_lines(run: Run, workload: Workload) -> list[str]:
    """What the reader's own workload is: its file, as read when the run was planned, and how it was checked."""
    planned = next((found for found in external.files_of_run(run.info) if found.name == workload.name), None)
    lines = [f"### {workload.name}", "", f"{workload.claim}", ""]
    if planned is None:
        return lines + [f"From `{workload.source}`.", ""]
    requirements = ", ".join(f"`{r}`" for r in planned.requirements) or "none"
    timed = "`bench(loops)`, which times its own loops" if planned.timed == "bench" else "`run()`"
    return lines + [
        f"- File: `{planned.path}` (sha256 {planned.sha256[:12]}), read in place, not copied",
        f"- Timed: {timed}{', after `setup()` once per process' if planned.has_setup else ''}",
        f"- Check: {planned.checked_by}",
        f"- Requirements (installed per interpreter): {requirements}",
        "",
    ]


def workload_section(run: Run, workload: Workload) -> str:
    """One workload: the claim it tests, its variants, and its table."""
    if workload.source is not None:
        lines = [*user_workload_lines(run, workload), workload_table(run, workload)]
    else:
        variants = [
            f"- `{variant.name}`{' (reference)' if variant.name == workload.reference else ''}: {variant.description}"
            for variant in workload.variants
        ]
        lines = [
            f"### {workload.name}",
            "",
            f"Claim: {workload.claim}.",
            "",
            f"Seeds: {'; '.join(workload.seeds)}. Measured at {', '.join(size_text(workload, s) for s in workload.sizes)}.",
            "",
            *variants,
            "",
            workload_table(run, workload),
        ]
    if any(column.benchmark(cell) is None for column in run.columns for cell in workload.cells()):
        lines += ["", FAILURES_LINK]
    return "\n".join(lines)


def render(run: Run, charts: Charts) -> str:
    """The workload sections under their group headings (registry.GROUPS order), in registry order within one."""
    parts, group = [], None
    for workload in sorted(run.workloads, key=lambda w: GROUPS.index(w.group) if w.group in GROUPS else len(GROUPS)):
        if workload.group != group:
            group = workload.group
            parts.append(f"## {group}\n\n{legend(run)}")
        parts.append(workload_section(run, workload))
    refused = run.info.workload_file_errors
    if refused:
        if group != external.USER_GROUP:
            parts.append(f"## {external.USER_GROUP}")
        parts.append(
            "Files given with `--workload-file` that did not run anywhere (`nox -s workloads -- --check FILE` "
            "checks a file):\n\n" + "\n".join(f"- `{item['path']}`: {md(item['error'])}" for item in refused)
        )
    return "\n\n".join(parts)
