"""run.json, typed: the plan of a run and what is known about it (``RunInfo``), with the machine it measured on, and
the runs a merged or pooled run was made of. ``results.RunDir.read_info`` reads it; the writers (``cli.plan_matrix``,
``measure``, ``merge``, ``pool``) write the dict these read."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


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
class PooledRun:
    """One run inside a pooled run (run.json's ``pooled``): a run of the same machine at another hour."""

    run_id: str | None
    command: str | None
    profile: str | None
    started: str | None
    wall_time: float | None
    measured_seconds: float | None

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> PooledRun:
        return cls(data.get("run_id"), data.get("command"), data.get("profile"), data.get("started"),
                   data.get("wall_time"), data.get("measured_seconds"))


@dataclass(frozen=True)
class RunInfo:
    """run.json, typed: the plan of a run and what is known about it. The one place that reads its keys (the
    writers, ``cli.plan_matrix``, ``measure``, ``merge`` and ``pool``, write the dict this reads)."""

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
    # A pooled run: the runs of one machine at other hours it pools, in the order given (interpmatrix.pool); empty
    # for a run measured as one.
    pooled: list[PooledRun] = field(default_factory=list)
    # The time budget (``budget.Ledger.to_run`` says what each key holds): seconds allowed, first pass included
    # (--budget, else the profile's; None: no extra rounds), measured so far across resumes, and when the first pass
    # ended; each extra round; why measuring stopped (one of budget.STOP_REASONS); what a resumed run needs to go on
    # with the same plan; the cell rounds of the first pass the budget did not reach.
    budget_seconds: float | None = None
    measured_seconds: float | None = None
    first_pass_seconds: float | None = None
    extra_rounds: list[dict[str, Any]] = field(default_factory=list)
    budget_stopped: str | None = None
    extra_round_cells: list[tuple[str, str]] = field(default_factory=list)
    step_seconds: dict[str, dict[str, float]] = field(default_factory=dict)
    first_pass_unreached: int = 0
    # A first pass split by a budget it may not last: {"cell_rounds": N, "seconds": S} of its other cells, measured
    # after the extra rounds of the decisions (``first_pass_seconds`` is then where the decisions' cells ended); None
    # for a first pass measured whole.
    first_pass_rest: dict[str, float] | None = None

    @property
    def complete(self) -> bool:
        return self.status == "complete"

    @property
    def first_pass_rest_seconds(self) -> float:
        """What the other cells of a split first pass took (0 for a first pass measured whole)."""
        return float((self.first_pass_rest or {}).get("seconds", 0.0))

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
            pooled=[PooledRun.from_dict(facts) for facts in data.get("pooled") or []],
            budget_seconds=data.get("budget_seconds"),
            measured_seconds=data.get("measured_seconds"),
            first_pass_seconds=data.get("first_pass_seconds"),
            extra_rounds=list(data.get("extra_rounds") or []),
            budget_stopped=data.get("budget_stopped"),
            extra_round_cells=[(iid, cell) for iid, cell in data.get("extra_round_cells") or []],
            step_seconds=dict(data.get("step_seconds") or {}),
            first_pass_unreached=int(data.get("first_pass_unreached") or 0),
            first_pass_rest=data.get("first_pass_rest"),
        )
