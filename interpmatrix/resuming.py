"""What a resumed run must still have before it measures more: the interpreters it was planned with, the workload
files and the project's own code it measured. A resumed run adds rounds to cells that already have some; a cell
whose rounds ran two programs, or two builds, would be no figure of either. A pooled run is not resumed: its
rounds were measured at other hours, and the runs it pools are what can be measured more."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from . import external
from .discovery import Interpreter
from .registry import changed_code, measured_code
from .results import RunDir, latest_run


class NotResumable(ValueError):
    """The run cannot be resumed: the message says why, and what to do instead."""


def run_to_resume(results_dir: Path, run_id: str) -> RunDir:
    """The run ``--resume`` names (``latest``: the latest the matrix measured)."""
    try:
        run_dir = latest_run(results_dir) if run_id == "latest" else RunDir(results_dir / run_id)
        run_dir.read_info()
    except FileNotFoundError as error:
        raise NotResumable(str(error)) from None
    return run_dir


def interpreters_to_resume(run_dir: RunDir, found: Iterable[Interpreter]) -> list[Interpreter]:
    """The run's interpreters, as discovery finds them now, once everything the run measured is as it was
    (``NotResumable`` says what is not)."""
    run = run_dir.read_info()
    if run.pooled:
        runs = ", ".join(pooled.run_id or "?" for pooled in run.pooled)
        raise NotResumable(f"run {run_dir.run_id} pools runs measured at other hours and is not resumed: resume one "
                           f"of them ({runs}), or measure a new run, and pool again")
    try:
        external.check_unchanged(external.files_of_run(run))
    except external.WorkloadFileError as error:
        raise NotResumable(str(error)) from None
    changed = changed_code(run_dir.read_run().get("measured_code"), measured_code())
    if changed:
        raise NotResumable(f"run {run_dir.run_id} measured other code than this checkout's ({', '.join(changed)}): "
                           "its cells would mix two programs under one name; start a new run, or check out the code "
                           "it measured to resume it")
    by_id = {interpreter.id: interpreter for interpreter in found}
    missing = [iid for iid in run.interpreters if iid not in by_id]
    if missing:
        raise NotResumable(
            f"run {run_dir.run_id} used {', '.join(missing)}, which discovery no longer finds; their cells stay as "
            "they are"
        )
    return [by_id[iid] for iid in run.interpreters]
