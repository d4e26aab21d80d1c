"""What each column is, as the interpreter itself reported, and the interpreters found but left out."""

from __future__ import annotations

from ..discovery import MIN_SUPPORTED, Interpreter
from ..markdown import table, version_text
from ..model import Column, Run
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


def _not_selected_reason(interpreter: Interpreter) -> str:
    if not interpreter.supported:
        return f"too old: the workloads need Python {'.'.join(map(str, MIN_SUPPORTED))}+"
    return "not selected (use `--interpreters all`)"


def provisioning_lines(run: Run) -> list[str]:
    """What `nox -s provision` could not get before this run, and why: the reason a family has no column."""
    return [
        f"- not provisioned: {record['family']}: {record['error']}"
        for record in run.info.provisioning
        if record.get("error")
    ]


def render(run: Run, charts: Charts) -> str:
    headers = [
        "id", "implementation", "version", "free-threaded build", "GIL at run time", "JIT", "build flags",
        "compiler", "packages", "baseline",
    ]
    rows = [
        [
            f"{column.id} (twin of {column.interpreter.twin})" if column.interpreter.twin else column.id,
            column.interpreter.implementation,
            version_text(column.interpreter),
            "yes" if column.interpreter.free_threaded else "no",
            gil_at_run_time(column),
            column.interpreter.jit,
            column.interpreter.build_flags,
            column.interpreter.compiler or "unknown",
            packages_text(column.packages),
            "baseline" if column.id == run.baseline else "",
        ]
        for column in run.columns
    ]
    lines = ["## Interpreters", "", table(headers, rows)]
    in_run = {column.id for column in run.columns}
    left_out: dict[str, list[str]] = {}
    for record in run.info.discovered:
        if record["id"] not in in_run:
            interpreter = Interpreter.from_dict(record)
            left_out.setdefault(_not_selected_reason(interpreter), []).append(
                f"{interpreter.id} ({version_text(interpreter)}, {interpreter.origin})"
            )
    if left_out:
        lines += ["", "Found on the machine but not run:", ""]
        lines += [f"- {reason}: {', '.join(names)}" for reason, names in left_out.items()]
    missing = provisioning_lines(run)
    if missing:
        lines += ["", *missing]
    return "\n".join(lines)
