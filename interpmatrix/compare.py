"""What changed between two runs of the matrix, cell by cell: after an interpreter upgrade, on a new machine, or
with another profile.

A report answers "which interpreter, on this machine, today"; a comparison answers "did that change, and can pyperf
tell". Both runs are read with ``model.load_run``, so a cell means here exactly what it means in their reports (a
failure wins over values of earlier rounds; a failure of ``*`` covers every cell). Columns are matched by interpreter
id. Means ± std dev are pyperf's; each change comes with the 95 % interval of ``changes`` (worker processes as the
independent units, each run's variances moderated within that run, plus the between-run variance of its workload's
cells: what the machine's state does to a whole run, which no process of either run sees), and is called significant
only when that interval excludes no change; "faster" and "slower" say what run B did against run A, as
``pyperf compare_to A.json B.json`` does. As with the report, the text comes from the two folders only, never from
this machine or its clock, so the same files give the same bytes.

    python -m interpmatrix compare results/<run-a> results/<run-b> [--out FILE]
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

from .changes import (
    MIN_CELLS_OWN_SCATTER,
    CellChange,
    Changes,
    common_ids,
    compared_cells,
    mean_change,
    measure_changes,
)
from .discovery import Interpreter
from .markdown import (
    NOT_RUN,
    cell_label,
    date_text,
    md,
    percent,
    plural,
    requirement_version,
    speed_interval_text,
    table,
    time_text,
    version_text,
)
from .model import Column, Run, load_run
from .registry import Cell, Workload
from .results import CellFailure, RunDir
from .sections.wording import packages_text, profile_text

USAGE = "python -m interpmatrix compare results/<run-a> results/<run-b> [--out FILE]"
SIGNIFICANT = "significant"
# run.json's host facts, shown side by side: two runs that differ in any of them come from different machines.
HOST_FACTS = (("CPU", "cpu"), ("cores", "cores"), ("OS", "os"), ("hostname", "hostname"))


# --------------------------------------------------------------------------------------------------------------------
# Loading


def load_for_comparison(run_dir: RunDir, label: str, workloads: Sequence[Workload] | None = None) -> Run:
    """``model.load_run``, refusing a folder that is not a run with a message that says what to pass."""
    if not run_dir.exists():
        raise ValueError(
            f"run {label}: {run_dir.path} is not a matrix run (no run.json); pass two run folders: {USAGE}"
        )
    return load_run(run_dir, workloads=workloads)


# --------------------------------------------------------------------------------------------------------------------
# Wording


def change_text(change: CellChange) -> str:
    """``1.52× faster [1.41–1.64]`` / ``1.30× slower [1.20–1.41]``, or ``× less/more memory`` for a memory cell."""
    return speed_interval_text(change.interval, memory=change.is_memory)


def significance_text(mark: str | None) -> str:
    return SIGNIFICANT if mark is None else mark


def values_per_cell(run: Run) -> int | None:
    """Values each time cell holds under the run's profile; None when the profile is unknown."""
    profile = run.profile
    return profile.processes * profile.values if profile is not None else None


def missing_text(run: Run, column: Column, cell: Cell) -> str:
    """Why a cell has no number in one run, as short as a table cell allows (a failure's reason goes apart)."""
    if cell not in run.cells:
        return "not in this run"
    outcome = column.outcome(cell)
    if isinstance(outcome, CellFailure):
        return f"not run: {outcome.kind}"
    # A complete run that has neither values nor a failure for a cell of its workloads: the workload gained the
    # cell after the run.
    return "no result" if run.complete else "not run yet"


def outcome_text(run: Run, column: Column, cell: Cell) -> str:
    """A table cell: pyperf's mean ± std dev, or why there is none."""
    benchmark = column.benchmark(cell)
    return time_text(benchmark) if benchmark is not None else f"{NOT_RUN} {missing_text(run, column, cell)}"


def _failure_reason(column: Column, cell: Cell) -> str:
    outcome = column.outcome(cell)
    return md(outcome.reason) if isinstance(outcome, CellFailure) else ""


def _count_text(counts: Sequence[tuple[int, str]]) -> str:
    """``2 less, 1 n.s.``: the non-zero counts, or ``—``."""
    return ", ".join(f"{count} {what}" for count, what in counts if count) or NOT_RUN


# --------------------------------------------------------------------------------------------------------------------
# Sections


def _host_fact(run: Run, key: str) -> object:
    value = getattr(run.info.host, key)
    return "unknown" if value is None else value


def header_section(run_a: Run, run_b: Run) -> str:
    """Both runs side by side (when, where, how measured), and the warnings that qualify every figure below."""

    def both(describe: Callable[[Run], object]) -> list[str]:
        return [md(str(describe(run))) for run in (run_a, run_b)]

    def host(key: str) -> Callable[[Run], object]:
        return lambda run: _host_fact(run, key)

    rows = [
        ["run", *both(lambda run: f"`{run.run_id}`")],
        ["date", *both(lambda run: date_text(run.info.started))],
        *([label, *both(host(key))] for label, key in HOST_FACTS),
        ["command", *both(lambda run: f"`{'?' if run.info.command is None else run.info.command}`")],
        ["profile", *both(profile_text)],
        ["values per time cell", *both(lambda run: values_per_cell(run) or "unknown")],
        ["pyperf", *both(lambda run: requirement_version(run.info.bench_requirements, "pyperf"))],
        ["status", *both(lambda run: run.info.status or "unknown")],
        ["interpreters", *both(lambda run: ", ".join(column.id for column in run.columns) or "none")],
    ]
    if any(run.machines for run in (run_a, run_b)):
        rows.append(["machines (merged run)", *both(lambda run: ", ".join(run.machines) or "one")])
    lines = [
        f"# interpmatrix comparison: {run_a.run_id} → {run_b.run_id}",
        "",
        ("Run A is the one before, run B the one after: \"1.52× faster\" means that run B's mean time for that cell "
        "is 1.52 times shorter than run A's, on the same interpreter id."),
        "",
        table(["", "run A", "run B"], rows),
    ]
    warnings = []
    hosts = [tuple(getattr(run.info.host, key) for _, key in HOST_FACTS) for run in (run_a, run_b)]
    if hosts[0] != hosts[1]:
        warnings.append(
            "- The runs come from different machines (see the table above): every change below mixes the machines' "
            "difference with the interpreters'."
        )
    for label, run in (("A", run_a), ("B", run_b)):
        if not run.complete:
            warnings.append(
                f"- Run {label} is not complete (run.json says {run.info.status or 'nothing'!r}): cells it has "
                "not run yet are listed under Cells not compared."
            )
    return "\n".join(lines + ([""] + warnings if warnings else []))


def tally(changes: Sequence[CellChange], better: str, worse: str) -> list[tuple[int, str]]:
    """(count, word) for: significantly better in B, significantly worse, n.s., not tested."""
    significant = [change for change in changes if change.mark is None]
    return [
        (sum(1 for change in significant if change.ratio >= 1), better),
        (sum(1 for change in significant if change.ratio < 1), worse),
        (sum(1 for change in changes if change.mark == "n.s."), "n.s."),
        (sum(1 for change in changes if change.mark == "not tested"), "not tested"),
    ]


def summary_rows(changes: Changes) -> list[list[str]]:
    """Per interpreter of both runs: its cells significantly faster / slower / unchanged, and the geometric mean."""
    rows = []
    for interpreter_id, found in changes.by_interpreter.items():
        timed = [change for change in found if not change.is_memory]
        memory = [change for change in found if change.is_memory]
        time_counts = tally(timed, "faster", "slower")
        mean = mean_change(timed)
        rows.append(
            [
                interpreter_id,
                *(str(count) for count, _ in time_counts),
                speed_interval_text(mean) if mean is not None else NOT_RUN,
                str(len(timed)),
                _count_text(tally(memory, "less", "more")),
            ]
        )
    return rows


def deviation_text(variance: float) -> str:
    """``±2.1 %``: the standard deviation of a log ratio, as the relative change it is about."""
    return f"±{percent(math.sqrt(variance))}"


def between_rows(changes: Changes) -> list[list[str]]:
    """Per metric (time first), each workload with a between-run component of its own, then all cells of the metric:
    how many cells, the median cell's change, the cells' scatter around it and the between-run τ."""
    rows = []
    for metric in ("time", "memory"):
        own = [
            (workload, component) for (of, workload), component in changes.between.items()
            if of == metric and workload is not None and component.cells >= MIN_CELLS_OWN_SCATTER
        ]
        every = changes.between.get((metric, None))
        for workload, component in own + ([(None, every)] if every is not None else []):
            label = f"all {metric} cells" if workload is None else workload if metric == "time" else f"{workload} (memory)"
            rows.append([
                label,
                str(component.cells),
                speed_interval_text(component.shift_interval, memory=metric == "memory"),
                deviation_text(component.scatter_variance),
                deviation_text(component.variance),
            ])
    return rows


def between_text(changes: Changes) -> str:
    """The time cells' common shift, and what the between-run τ is."""
    overall = changes.between.get(("time", None))
    if overall is None:
        return ""
    return (
        f"Run B's time cells were {speed_interval_text(overall.shift_interval)} overall (the median of the "
        f"{plural(overall.cells, 'cell', 'cells')} with an interval, with a median's sign-test interval): a "
        "difference of the whole run, such as the machine's state makes (the other tenant's load that hour), which "
        "two runs cannot tell from a change of the code. So a change's interval also holds a between-run variance "
        "τ², from its workload's cells on every interpreter (`interpmatrix/between_runs.py`): the square of their "
        "median change (the shift, counted in full) plus their scatter around it beyond what their processes show "
        "(from the median cell, so that a few real changes barely move it). Over all time cells, between-run "
        f"scatter {deviation_text(overall.variance)}; each workload's below. A workload with fewer than "
        f"{MIN_CELLS_OWN_SCATTER} cells of a metric takes that of all cells of the metric."
    )


def summary_section(changes: Changes) -> str:
    headers = [
        "interpreter", "faster", "slower", "unchanged (n.s.)", "not tested", "geometric mean, B vs A", "time cells",
        "memory cells",
    ]
    lines = [
        "## Summary",
        "",
        ("Time cells measured in both runs: significantly faster or slower in run B when the 95 % interval of the "
        "change excludes no change; unchanged (n.s.) when it includes it; not tested when a cell has no interval "
        "(one process, nothing to borrow a variance from). That interval holds both the scatter of worker processes "
        "within each run (the independent units, see a report's Method) and the between-run scatter of the cell's "
        "workload (what the machine's state does to whole runs). The geometric mean is of run B's speed-ups over "
        "run A on those time cells, with its interval from the processes alone, whatever each cell's test said: a "
        "shift of the whole run shows in it. "
        "Memory cells (peak bytes) count apart, as less or more memory, and stay out of the mean, as in the report."),
        "",
        table(headers, summary_rows(changes)),
    ]
    rows, text = between_rows(changes), between_text(changes)
    if rows:
        lines += [
            *(["", text] if text else []),
            "",
            table(["workload", "cells with an interval", "median cell, B vs A", "scatter around it", "between-run τ"],
                  rows),
        ]
    return "\n".join(lines)


# What "the same interpreter" must keep between two runs for its changes to be the code's, not the interpreter's.
INTERPRETER_FACTS: tuple[tuple[str, Callable[[Interpreter], object]], ...] = (
    ("implementation", lambda interpreter: interpreter.implementation),
    ("version", lambda interpreter: interpreter.version),
    ("implementation version", lambda interpreter: interpreter.implementation_version),
    ("free-threaded build", lambda interpreter: "yes" if interpreter.free_threaded else "no"),
    ("JIT", lambda interpreter: interpreter.jit),
    ("build flags", lambda interpreter: interpreter.build_flags),
    ("compiler", lambda interpreter: interpreter.compiler or "unknown"),
    ("configure arguments", lambda interpreter: interpreter.config_args or "none"),
    ("CFLAGS", lambda interpreter: interpreter.cflags or "none"),
)


def interpreter_changes(run_a: Run, run_b: Run, interpreter_id: str) -> list[list[str]]:
    """Rows (id, fact, in A, in B) for each fact of the interpreter, or of its venv's packages, that differs."""
    column_a, column_b = run_a.column(interpreter_id), run_b.column(interpreter_id)
    rows = []
    for fact, describe in INTERPRETER_FACTS:
        before, after = str(describe(column_a.interpreter)), str(describe(column_b.interpreter))
        if before != after:
            rows.append([interpreter_id, fact, md(before), md(after)])
    packages = packages_text(column_a.packages), packages_text(column_b.packages)
    if packages[0] != packages[1]:
        rows.append([interpreter_id, "packages", md(packages[0]), md(packages[1])])
    return rows


def _id_list(run: Run, ids: Sequence[str]) -> str:
    return ", ".join(f"{iid} ({version_text(run.column(iid).interpreter)})" for iid in ids)


def interpreters_section(run_a: Run, run_b: Run) -> str:
    """Which interpreters both runs have, which only one has, and what changed in those both have."""
    shared = common_ids(run_a, run_b)
    only_a = [column.id for column in run_a.columns if column.id not in shared]
    only_b = [column.id for column in run_b.columns if column.id not in shared]
    lines = ["## Interpreters", "", f"In both runs: {', '.join(shared)}."]
    if only_a:
        lines.append(f"Only in run A, not compared: {_id_list(run_a, only_a)}.")
    if only_b:
        lines.append(f"Only in run B, not compared: {_id_list(run_b, only_b)}.")
    rows = [row for interpreter_id in shared for row in interpreter_changes(run_a, run_b, interpreter_id)]
    lines.append("")
    if rows:
        lines += [
            "Changed between the runs (an upgrade, another build or other packages: the cells' changes include it):",
            "",
            table(["interpreter", "changed", "run A", "run B"], rows),
        ]
    else:
        lines.append(
            "None of them changed between the runs: same version, build and packages, as each venv reported itself."
        )
    return "\n".join(lines)


def interpreter_section(interpreter_id: str, changes: Sequence[CellChange]) -> str:
    """One interpreter's cells measured in both runs."""
    lines = [f"### {interpreter_id}", ""]
    if not changes:
        lines.append("No cell was measured in both runs.")
        return "\n".join(lines)
    rows = [
        [
            cell_label(change.workload, change.cell),
            time_text(change.before),
            time_text(change.after),
            change_text(change),
            significance_text(change.mark),
        ]
        for change in changes
    ]
    lines.append(table(["cell", "run A", "run B", "B vs A", "significance (95 %)"], rows))
    return "\n".join(lines)


def cells_sections(changes: Changes) -> str:
    parts = [
        ("## Cell by cell\n\nEach cell: pyperf's mean ± std dev in each run, run B against run A with the 95 % "
        "interval of the change (worker processes' scatter within each run and its workload's between-run scatter, "
        "see the Summary), and whether that interval leaves out 1× (significant), includes it (n.s.), or cannot be "
        "given (not tested: one worker process, and no cell of its run to borrow a variance from).")
    ]
    parts += [interpreter_section(iid, found) for iid, found in changes.by_interpreter.items()]
    return "\n\n".join(parts)


def not_compared_section(run_a: Run, run_b: Run, cells: Sequence[tuple[Workload, Cell]]) -> str:
    """Cells measured in one run only (why not in the other), then those measured in neither."""
    changed, neither = [], []
    for interpreter_id in common_ids(run_a, run_b):
        column_a, column_b = run_a.column(interpreter_id), run_b.column(interpreter_id)
        # (why not in A, why not in B) -> cells, so that five cells unavailable in both take one line.
        in_neither: dict[tuple[str, str], list[str]] = {}
        for _workload, cell in cells:
            measured_a, measured_b = column_a.benchmark(cell) is not None, column_b.benchmark(cell) is not None
            if measured_a and measured_b:
                continue
            if measured_a or measured_b:
                reason = _failure_reason(column_b, cell) if measured_a else _failure_reason(column_a, cell)
                texts = outcome_text(run_a, column_a, cell), outcome_text(run_b, column_b, cell)
                changed.append([interpreter_id, f"`{cell.name}`", *texts, reason])
            else:
                why = missing_text(run_a, column_a, cell), missing_text(run_b, column_b, cell)
                in_neither.setdefault(why, []).append(f"`{cell.name}`")
        for (why_a, why_b), names in in_neither.items():
            where = f"{why_a} in both runs" if why_a == why_b else f"{why_a} in run A, {why_b} in run B"
            neither.append(f"- {interpreter_id}: {where}: {', '.join(names)}")
    lines = ["## Cells not compared", ""]
    if changed:
        lines += [
            "Measured in one run only; the reason is the failure's, from the run where it did not run:",
            "",
            table(["interpreter", "cell", "run A", "run B", "reason"], changed),
        ]
    else:
        lines.append("No cell was measured in one run and not in the other.")
    if neither:
        lines += ["", "Measured in neither run:", "", *neither]
    return "\n".join(lines)


def check_section(run_a: Run, run_b: Run) -> str:
    """The commands that rebuild this comparison and show pyperf's own view of it."""
    folder_a, folder_b = f"results/{run_a.run_id}", f"results/{run_b.run_id}"
    lines = [
        "## To check",
        "",
        ("pyperf's own comparison of one interpreter's two result files shows the same means. It tests every "
        "value as independent (values inside one worker process are not), so it calls more differences "
        "significant than this comparison does; and its geometric mean also counts the memory cells."),
        "",
        "```sh",
        f"python -m interpmatrix compare {folder_a} {folder_b}  # this comparison",
    ]
    lines += [
        f"python -m pyperf compare_to {folder_a}/{iid}.json {folder_b}/{iid}.json --table"
        for iid in common_ids(run_a, run_b)
    ]
    return "\n".join(lines + ["```"])


def no_common_section(run_a: Run, run_b: Run) -> str:
    ids_a = ", ".join(column.id for column in run_a.columns) or "none"
    ids_b = ", ".join(column.id for column in run_b.columns) or "none"
    return "\n".join(
        [
            "## Nothing to compare",
            "",
            (f"No interpreter id is in both runs: run A ran {ids_a}; run B ran {ids_b}. A comparison matches "
            "interpreters by id: compare two runs that share some (`nox -s matrix -- --interpreters <ids>` picks "
            "them), or merge the runs (`python -m interpmatrix merge`) to see them side by side in one report."),
        ]
    )


# --------------------------------------------------------------------------------------------------------------------
# Entry points


def render_comparison(run_a: RunDir, run_b: RunDir, workloads: Sequence[Workload] | None = None) -> str:
    """Markdown: what changed from run A to run B, per interpreter and cell, built from the two folders only.

    ``workloads`` replaces the registry (for tests). Raises ``ValueError`` when a folder is not a run.
    """
    before, after = load_for_comparison(run_a, "A", workloads), load_for_comparison(run_b, "B", workloads)
    if not common_ids(before, after):
        sections = [header_section(before, after), no_common_section(before, after)]
    else:
        cells = compared_cells(before, after)
        changes = measure_changes(cells, before, after)
        sections = [
            header_section(before, after),
            summary_section(changes),
            interpreters_section(before, after),
            cells_sections(changes),
            not_compared_section(before, after, cells),
            check_section(before, after),
        ]
    return "\n\n".join(sections) + "\n"
