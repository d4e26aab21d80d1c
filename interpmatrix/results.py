"""The on-disk layout of one matrix run, and the only code that reads or writes it.

    results/<run-id>/run.json                  the plan and the machine: selection, profile, command, host, times
    results/<run-id>/<interpreter-id>.json     pyperf's own format: ``python -m pyperf show`` works on it
    results/<run-id>/<interpreter-id>.interpreter.json
                                               what that interpreter's venv said about itself, or why it has none
    results/<run-id>/<interpreter-id>.failures.json
                                               cells that did not run there, and why
    results/<run-id>/logs/                     output of failed cells

Every file is written as soon as its content is known, atomically, so an interrupted run loses nothing that
completed, and ``--resume`` can tell which cells are done from the files alone.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

RUN_FILE = "run.json"
INTERPRETER_SUFFIX = ".interpreter.json"
FAILURES_SUFFIX = ".failures.json"
# The prefix of the per-cell progress lines a workload script prints (workloads/_harness.py EVENT_PREFIX).
EVENT_PREFIX = "interpmatrix-cell "
ROUND_METADATA = "interpmatrix_round"
GIL_METADATA = "interpmatrix_gil_enabled"
BINDING_METADATA = "interpmatrix_binding"


def new_run_id(now: datetime | None = None) -> str:
    """A sortable, filename-safe id: the UTC start time."""
    now = now or datetime.now(timezone.utc)
    return now.strftime("%Y-%m-%dT%H-%M-%SZ")


def write_json(path: Path, data: Any) -> None:
    """Write JSON atomically: a reader (or a crash) never sees half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
    with os.fdopen(fd, "w") as handle:
        json.dump(data, handle, indent=2, sort_keys=True)
        handle.write("\n")
    os.replace(tmp, path)


def read_json(path: Path) -> Any:
    with path.open() as handle:
        return json.load(handle)


@dataclass(frozen=True)
class CellFailure:
    """Why a cell has no number: ``kind`` is one of FAILURE_KINDS, ``reason`` a one-line explanation."""

    kind: str
    reason: str
    log: str | None = None


FAILURE_KINDS = ("interpreter missing", "install failed", "unavailable", "crash", "wrong answer", "timeout", "error")


@dataclass(frozen=True)
class RunDir:
    path: Path

    @property
    def run_id(self) -> str:
        return self.path.name

    @property
    def run_file(self) -> Path:
        return self.path / RUN_FILE

    def results_file(self, interpreter_id: str) -> Path:
        return self.path / f"{interpreter_id}.json"

    def interpreter_file(self, interpreter_id: str) -> Path:
        return self.path / f"{interpreter_id}{INTERPRETER_SUFFIX}"

    def failures_file(self, interpreter_id: str) -> Path:
        return self.path / f"{interpreter_id}{FAILURES_SUFFIX}"

    def log_file(self, interpreter_id: str, cell_name: str) -> Path:
        return self.path / "logs" / interpreter_id / (cell_name.replace("/", "__") + ".log")

    def exists(self) -> bool:
        return self.run_file.exists()

    # run.json -----------------------------------------------------------------------------------------------

    def read_run(self) -> dict[str, Any]:
        if not self.run_file.exists():
            raise FileNotFoundError(
                f"{self.path} is not a matrix run (no {RUN_FILE}); pass a folder under results/, e.g. results/<run-id>"
            )
        return read_json(self.run_file)

    def write_run(self, run: Mapping[str, Any]) -> None:
        write_json(self.run_file, dict(run))

    def update_run(self, **changes: Any) -> dict[str, Any]:
        run = self.read_run()
        run.update(changes)
        self.write_run(run)
        return run

    # per-interpreter sidecars -------------------------------------------------------------------------------

    def read_interpreter(self, interpreter_id: str) -> dict[str, Any] | None:
        path = self.interpreter_file(interpreter_id)
        return read_json(path) if path.exists() else None

    def write_interpreter(self, interpreter_id: str, facts: Mapping[str, Any]) -> None:
        write_json(self.interpreter_file(interpreter_id), dict(facts))

    def read_failures(self, interpreter_id: str) -> dict[str, CellFailure]:
        path = self.failures_file(interpreter_id)
        if not path.exists():
            return {}
        return {name: CellFailure(**failure) for name, failure in read_json(path).items()}

    def record_failure(self, interpreter_id: str, cell_name: str, failure: CellFailure) -> None:
        failures = self.read_failures(interpreter_id)
        failures[cell_name] = failure
        write_json(
            self.failures_file(interpreter_id),
            {name: vars(failure) for name, failure in sorted(failures.items())},
        )


def latest_run(results_dir: Path) -> RunDir:
    runs = sorted(path for path in results_dir.glob(f"*/{RUN_FILE}"))
    if not runs:
        raise FileNotFoundError(f"no matrix run under {results_dir}/: run `nox -s matrix` first")
    return RunDir(runs[-1].parent)
