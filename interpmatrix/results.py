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
from dataclasses import dataclass, field
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


# A merged run's interpreter ids carry their machine: ``cpython-3.12@laptop`` (interpmatrix.merge writes them).
MACHINE_SEPARATOR = "@"


def machine_id(interpreter_id: str, machine: str) -> str:
    """The id of one machine's interpreter in a merged run: ``cpython-3.12@laptop``."""
    return f"{interpreter_id}{MACHINE_SEPARATOR}{machine}"


def split_machine_id(merged_id: str) -> tuple[str, str | None]:
    """``cpython-3.12@laptop`` -> (``cpython-3.12``, ``laptop``); an id of a single-machine run -> (id, None)."""
    interpreter_id, separator, machine = merged_id.rpartition(MACHINE_SEPARATOR)
    return (interpreter_id, machine) if separator else (merged_id, None)


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
class Host:
    """The machine a run measured on, as run.json recorded it (None: not recorded)."""

    cpu: str | None = None
    cores: int | None = None
    os: str | None = None
    hostname: str | None = None

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | None) -> Host:
        data = data or {}
        return cls(data.get("cpu"), data.get("cores"), data.get("os"), data.get("hostname"))


@dataclass(frozen=True)
class MachineRun:
    """One machine's own run inside a merged run (run.json's ``machines``)."""

    run_id: str | None
    host: Host
    command: str | None
    profile: str | None
    profile_settings: dict[str, Any] | None
    started: str | None
    wall_time: float | None
    status: str | None
    bench_requirements: tuple[str, ...]

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> MachineRun:
        return cls(
            data.get("run_id"),
            Host.from_dict(data.get("host")),
            data.get("command"),
            data.get("profile"),
            data.get("profile_settings"),
            data.get("started"),
            data.get("wall_time"),
            data.get("status"),
            tuple(data.get("bench_requirements") or ()),
        )


@dataclass(frozen=True)
class RunInfo:
    """run.json, typed: the plan of a run and what is known about it. The one place that reads its keys (the
    writers, ``cli.plan_matrix``, ``measure`` and ``merge``, write the dict this reads)."""

    run_id: str
    command: str | None
    profile: str | None
    profile_settings: dict[str, Any] | None
    # Built-in workload names; None in a run planned before the key existed (every workload then).
    workloads: list[str] | None
    workload_files: list[dict[str, Any]]
    workload_file_errors: list[dict[str, str]]
    interpreters: list[str]
    baseline: str | None
    cell_timeout: float | None
    discovered: list[dict[str, Any]]
    host: Host
    bench_requirements: tuple[str, ...]
    reports_dir: str | None
    provisioning: list[dict[str, Any]]
    started: str | None
    finished: str | None
    wall_time: float | None
    status: str | None
    # A merged run: machine name -> that machine's own run, in column order; empty for the run of one machine.
    machines: dict[str, MachineRun] = field(default_factory=dict)
    profiles_differ: bool = False
    # The time budget (interpmatrix.budget, written by cli and measure). Seconds of measuring allowed, first pass
    # included: --budget, else the profile's (None: no extra rounds).
    budget_seconds: float | None = None
    # Seconds measured so far, across resumes; and when the first pass (the profile's rounds) ended.
    measured_seconds: float | None = None
    first_pass_seconds: float | None = None
    # Each extra round: {"round": R, "cells": cell rounds planned, "seconds": measured in it}.
    extra_rounds: list[dict[str, Any]] = field(default_factory=list)
    # Why measuring stopped: one of budget.STOP_REASONS; None while measuring.
    budget_stopped: str | None = None
    # What a resumed run needs to go on with the same plan: the (interpreter id, cell name) pairs of the last extra
    # round, and per interpreter the seconds its steps took and the cell rounds they measured (the cost estimate).
    extra_round_cells: list[tuple[str, str]] = field(default_factory=list)
    step_seconds: dict[str, dict[str, float]] = field(default_factory=dict)

    @property
    def complete(self) -> bool:
        return self.status == "complete"

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], run_id: str) -> RunInfo:
        """``run_id``: the folder's name, for a run.json that does not say."""
        return cls(
            run_id=data.get("run_id") or run_id,
            command=data.get("command"),
            profile=data.get("profile"),
            profile_settings=data.get("profile_settings"),
            workloads=data.get("workloads"),
            workload_files=list(data.get("workload_files") or []),
            workload_file_errors=list(data.get("workload_file_errors") or []),
            interpreters=list(data["interpreters"]),
            baseline=data.get("baseline"),
            cell_timeout=data.get("cell_timeout"),
            discovered=list(data.get("discovered") or []),
            host=Host.from_dict(data.get("host")),
            bench_requirements=tuple(data.get("bench_requirements") or ()),
            reports_dir=data.get("reports_dir"),
            provisioning=list(data.get("provisioning") or []),
            started=data.get("started"),
            finished=data.get("finished"),
            wall_time=data.get("wall_time"),
            status=data.get("status"),
            machines={name: MachineRun.from_dict(facts) for name, facts in (data.get("machines") or {}).items()},
            profiles_differ=bool(data.get("profiles_differ")),
            budget_seconds=data.get("budget_seconds"),
            measured_seconds=data.get("measured_seconds"),
            first_pass_seconds=data.get("first_pass_seconds"),
            extra_rounds=list(data.get("extra_rounds") or []),
            budget_stopped=data.get("budget_stopped"),
            extra_round_cells=[(iid, cell) for iid, cell in data.get("extra_round_cells") or []],
            step_seconds=dict(data.get("step_seconds") or {}),
        )


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

    def read_info(self) -> RunInfo:
        """run.json as a ``RunInfo``."""
        return RunInfo.from_dict(self.read_run(), self.run_id)

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
