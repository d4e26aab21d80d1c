"""What each column is, as the interpreter itself reported, and the interpreters found but left out."""

from __future__ import annotations

import datetime

from ..discovery import Interpreter
from ..markdown import table, version_text
from ..model import Column, Run
from ..selection import choices
from . import Charts
from .wording import packages_text


def gil_at_run_time(column: Column) -> str:
    """``on`` / ``off`` as the worker processes recorded it, and whether that contradicts the probe.

    A free-threaded build turns the GIL back on when an extension without free-threading support is imported, so
    the probe's answer (a bare interpreter) is not proof of what the kernels ran with.
    """
    states = column.gil_states()
    probe = "on" if column.interpreter.gil_enabled else "off"
    if not states:
        return f"{probe} (probe; no run recorded it)"
    if len(states) > 1:
        return f"varies: on in {states[True]} cells, off in {states[False]}"
    text = "on" if True in states else "off"
    return text if text == probe else f"{text} (the probe said {probe})"


def jit_at_run_time(column: Column) -> str:
    """The probe's JIT answer, and for CPython 3.14+ whether the worker processes that timed had it on: a
    PYTHON_JIT that did not reach them would make a JIT column measure the interpreter without it."""
    states = column.jit_states()
    if not states:
        return column.interpreter.jit
    if len(states) > 1:
        return f"{column.interpreter.jit}; workers: on in {states[True]} cells, off in {states[False]}"
    return f"{column.interpreter.jit}; workers: {'on' if True in states else 'off'}"


def timer_text(column: Column) -> str:
    """The clock the runner read in a self-timed column's processes (pyperf's ``timer`` metadata)."""
    timers = sorted({str(run.get_metadata().get("timer")) for benchmark in column.benchmarks.values()
                     for run in benchmark.get_runs() if run.values} - {"None"})
    return "clock: " + ", ".join(timers) if timers else "no cell measured"


def planned_on(run: Run) -> datetime.date | None:
    """The day the run was planned: what "still supported" is judged by, so a rebuilt report says the same."""
    try:
        return datetime.date.fromisoformat((run.info.started or "")[:10])
    except ValueError:
        return None


def provisioning_lines(run: Run) -> list[str]:
    """What `nox -s provision` could not get before this run, and why: the reason a family has no column; and what
    it noted on the way (no free-threaded 3.14/3.15 where no source of one is reachable)."""
    missing = [
        f"- not provisioned: {record['family']}: {record['error']}"
        for record in run.info.provisioning
        if record.get("error")
    ]
    return missing + [f"- {note}" for record in run.info.provisioning for note in record.get("notes") or []]


def render(run: Run, charts: Charts) -> str:
    headers = [
        "id", "implementation", "version", "free-threaded build", "GIL at run time", "JIT", "environment",
        "build flags", "compiler", "packages", "baseline",
    ]
    rows = [
        [
            f"{column.id} (twin of {column.interpreter.twin})" if column.interpreter.twin else column.id,
            column.interpreter.implementation,
            version_text(column.interpreter),
            "yes" if column.interpreter.free_threaded else "no",
            gil_at_run_time(column),
            jit_at_run_time(column),
            column.interpreter.env_text,
            column.interpreter.build_flags,
            column.interpreter.compiler or "unknown",
            packages_text(column.packages),
            "baseline" if column.id == run.baseline else "",
        ]
        for column in run.columns
    ]
    lines = ["## Interpreters", "", table(headers, rows)]
    self_timed = [column for column in run.columns if column.interpreter.self_timed]
    if self_timed:
        lines += ["", "Timed by interpmatrix's self-timing runner, not pyperf (pyperf does not run there; "
                  "`workloads/_selftimed.py` times the portable kernels in the same rounds, processes and values): "
                  + ", ".join(f"{column.id} ({timer_text(column)})" for column in self_timed) + "."]
    in_run = {column.id for column in run.columns}
    discovered = [Interpreter.from_dict(record) for record in run.info.discovered]
    # Each machine of a merged run chose among what it found.
    machines: dict[str | None, list[Interpreter]] = {}
    for interpreter in discovered:
        machines.setdefault(run.machine(interpreter.id), []).append(interpreter)
    why = {iid: choice for found in machines.values() for iid, choice in choices(found, planned_on(run)).items()}
    left_out: dict[str, list[str]] = {}
    for interpreter in discovered:
        if interpreter.id not in in_run:
            reason = why[interpreter.id].why if not why[interpreter.id].selected else "not named in this run"
            left_out.setdefault(reason, []).append(
                f"{interpreter.id} ({version_text(interpreter)}, {interpreter.origin})"
            )
    if left_out:
        lines += ["", "Found on the machine but not run (name its id, or `--interpreters all`, to run one that is not too old):", ""]
        lines += [f"- {reason}: {', '.join(names)}" for reason, names in left_out.items()]
    missing = provisioning_lines(run)
    if missing:
        lines += ["", *missing]
    return "\n".join(lines)
