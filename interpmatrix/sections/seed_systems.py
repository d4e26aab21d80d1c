"""Every system the seeds name, and what this run measured of it, or exactly why it did not.

The systems are data (``questions.SEED_SYSTEMS``): an implementation is measured by its columns, each on seed 000's
own workload (countdown, the pure-Python loop) against the baseline; a technique (Cython, Shed Skin, numexpr,
ParallelPython...) by its variant's cells against the cell it replaces, on the baseline where it ran there. A system
no machine of this kind can run carries its reason in the data; one that could run but has no figure in this run
says why from the run itself (not found, not selected, not provisioned, the cell's failure). No row is left blank.
"""

from __future__ import annotations

from ..intervals import Estimator
from ..markdown import NOT_RUN, first_sentence, md, speed_interval_text, table
from ..model import Column, Run
from ..questions import SEED_SYSTEMS, SeedSystem
from ..registry import Cell
from ..results import CellFailure
from . import Charts

# Seed 000's measurement, which every implementation's row repeats.
COUNTDOWN = Cell.parse("countdown/serial@2000000")


def _columns_of(run: Run, system: SeedSystem) -> list[Column]:
    return [
        column
        for column in run.compared_columns()
        if column.interpreter.implementation == system.implementation
        and (not system.minors or column.interpreter.minor in system.minors)
    ]


def _absent(run: Run, system: SeedSystem) -> str:
    """Why an implementation has no column: found but left out, not provisioned, or not found at all."""
    found = [
        record["id"]
        for record in run.info.discovered
        if record.get("implementation") == system.implementation
        and (not system.minors or ".".join(str(record.get("version", "")).split(".")[:2]) in system.minors)
    ]
    if found:
        return f"found ({', '.join(found)}) but not in this run (`--interpreters {found[0]}` runs it)"
    failed = [
        f"not provisioned: {first_sentence(str(record['error']))}"
        for record in run.info.provisioning
        if record.get("error") and system.implementation in f"{record.get('family')} {record['error']}".lower()
    ]
    return failed[0] if failed else "not found on this machine (`nox -s provision` gets what it can)"


def _why_no_figure(column: Column, cell: Cell, complete: bool) -> str:
    outcome = column.outcome(cell)
    if isinstance(outcome, CellFailure):
        return f"{outcome.kind}: {first_sentence(outcome.reason)}" if outcome.kind == "unavailable" else outcome.kind
    return "not in this run" if complete else "not run yet"


def implementation_figure(run: Run, estimator: Estimator, system: SeedSystem) -> str:
    columns = _columns_of(run, system)
    if not columns:
        return f"{NOT_RUN} {md(_absent(run, system))}"
    baseline = run.baseline_column
    parts = []
    for column in columns:
        if column is baseline:
            parts.append(f"{column.id}: the baseline")
            continue
        ratio = estimator.ratio((baseline, COUNTDOWN), (column, COUNTDOWN)) if baseline is not None else None
        parts.append(f"{column.id}: {speed_interval_text(ratio)}" if ratio is not None
                     else f"{column.id}: {NOT_RUN} {md(_why_no_figure(column, COUNTDOWN, run.complete))}")
    return f"countdown against {run.baseline}: " + "; ".join(parts)


def variant_figure(run: Run, estimator: Estimator, system: SeedSystem) -> str:
    cell = Cell.parse(system.variant or "")
    workload = next((w for w in run.workloads if w.name == cell.workload), None)
    if workload is None:
        return f"{NOT_RUN} its workload, {cell.workload}, is not in this run"
    if cell not in workload.cells():
        return f"{NOT_RUN} `{cell.variant}` is not a variant of {cell.workload} in this version of interpmatrix"
    against = Cell.parse(system.against) if system.against else Cell(cell.workload, workload.reference, None, cell.size)
    ran = [column for column in run.compared_columns() if column.benchmark(cell) is not None]
    if not ran:
        # Not the self-timed runtimes' "not supported there": their kernels are the portable few, on purpose.
        reasons = {_why_no_figure(column, cell, run.complete) for column in run.compared_columns()
                   if not column.interpreter.self_timed}
        return f"{NOT_RUN} `{cell.name}` ran nowhere: {md('; '.join(sorted(reasons)))}"
    column = run.baseline_column if run.baseline_column in ran else ran[0]
    ratio = estimator.ratio((column, against), (column, cell))
    figure = speed_interval_text(ratio) if ratio is not None else f"{NOT_RUN} `{against.name}` did not run there"
    return (f"`{cell.name}` against `{against.name}` on {column.id}: {figure}; ran on {len(ran)} of "
            f"{len(run.compared_columns())} interpreters")


def render(run: Run, charts: Charts) -> str | None:
    if not run.columns:
        return None
    estimator = Estimator(run)
    rows = []
    for system in SEED_SYSTEMS:
        if system.cannot:
            figure = f"{NOT_RUN} cannot run here: {md(system.cannot)}"
        elif system.implementation:
            figure = implementation_figure(run, estimator, system)
        else:
            figure = variant_figure(run, estimator, system)
        rows.append([system.name, ", ".join(system.seeds), figure])
    return "\n".join([
        "## Systems the seeds name",
        "",
        "Every interpreter, compiler and library the seed texts name, with what this run measured of it (95 % "
        "interval; an implementation on seed 000's countdown against the baseline, a technique against the cell it "
        "replaces) or why it has no figure.",
        "",
        table(["system", "seeds", "in this run"], rows),
    ])
