"""Runs of the same code on one machine, measured at other hours, pooled into one run folder: what decides a decision
that one run's hour keeps open.

Another tenant's load differs from one hour to the next, and every worker process of a run samples the same hour: a
ratio moves between runs by more than its processes scatter, and each ratio carries that between-run variance
(``recorded_scatter.BETWEEN_RUN_SD``) however many rounds the run gives it. Runs at other hours are draws of their own.
In a pooled run each worker process records the run it came from (``results.POOLED_RUN_METADATA``), and a ratio carries
the between-run variance once per hour its processes came from: τ² times the larger of its two cells' sums of squared
shares of the runs (``samples.Sample.run_concentration``), τ²/k for a ratio measured alike in k runs, τ² for one whose
processes all came from one.

    python -m interpmatrix pool --out results/<name> results/<run-a> results/<run-b> [...]

Nothing is measured or recomputed: every process keeps its values, warm-ups and metadata; its round is numbered after
the rounds of the runs before it (so that a step of one run is never taken for a step of another), and it gains the
run id it came from. The runs must be complete runs of one machine, of the same code (the workloads and compiled
kernels, ``registry.measured_code``, where both runs recorded it); an interpreter whose build changed between them
(another Python version), or that ran from another venv (another checkout's ``.nox``), is refused by pyperf's own
check, as its ``--append`` would refuse it.
Each interpreter's facts, failures and logs are the last run's. The pooled run is not resumed: a run at another hour
is measured as a run of its own, then pooled again.

Each run counts as a draw of its own hour because the between-run figures were estimated so: from pairs of default
runs started 20 minutes to 5 hours apart, back-to-back runs included, whose ratios differed by that much. Runs made
closer together than the runs behind those figures (at the same time, or a minute apart) may share a state of the
machine that such a pool would count as independent.
"""

from __future__ import annotations

import shlex
import shutil
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from .budget import run_keys
from .harness_protocol import ROUND_METADATA
from .model import ALL_CELLS
from .registry import changed_code
from .results import POOLED_RUN_METADATA, RunDir, load_results, new_run_folder, read_json, rounds_done, write_json

USAGE = "python -m interpmatrix pool --out results/<name> results/<run-a> results/<run-b> [...]"


def _check_inputs(runs: Sequence[RunDir], out: Path) -> list[dict[str, Any]]:
    """Every refusal before anything is written; returns each run's run.json."""
    if len(runs) < 2:
        raise ValueError(f"pooling needs two runs or more, at different hours: {USAGE}")
    if len({run_dir.path.resolve() for run_dir in runs}) < len(runs):
        raise ValueError("a run is given twice: pool each run once (its processes would count twice)")
    if out.exists():
        raise ValueError(f"{out} already exists: choose another --out, or delete it to pool again")
    infos = []
    for run_dir in runs:
        info = run_dir.read_run()  # not a run: its message
        if info.get("machines"):
            raise ValueError(f"{run_dir.path} is a run merged from several machines: pool the runs of one machine")
        if info.get("pooled"):
            raise ValueError(f"{run_dir.path} is itself a pooled run: pool the runs it was made of instead")
        if info.get("status") != "complete":
            raise ValueError(
                f"{run_dir.path} is not complete (its run.json says {info.get('status') or 'nothing'!r}): finish it "
                f"with `nox -s matrix -- --resume {info.get('run_id') or run_dir.run_id}`, then pool"
            )
        infos.append(info)
    ids = [_run_id(run_dir, info) for run_dir, info in zip(runs, infos)]
    if len(set(ids)) < len(ids):
        twice = next(run_id for run_id in ids if ids.count(run_id) > 1)
        raise ValueError(f"run {twice} is given twice (two copies of it): pool each run once")
    first = infos[0]
    for run_dir, info in zip(runs[1:], infos[1:]):
        if _machine(info) != _machine(first):
            raise ValueError(
                f"{run_dir.path} ran on another machine ({_machine_text(info)}) than {runs[0].path} "
                f"({_machine_text(first)}): pool runs of one machine; `python -m interpmatrix merge` shows machines "
                "side by side"
            )
        if info.get("baseline") != first.get("baseline"):
            raise ValueError(
                f"{run_dir.path} has another baseline ({info.get('baseline')}) than {runs[0].path} "
                f"({first.get('baseline')}): pool runs of the same interpreters"
            )
        changed = changed_code(first.get("measured_code"), info.get("measured_code"))
        if changed:
            raise ValueError(
                f"{run_dir.path} measured other code than {runs[0].path} ({', '.join(changed)}): pool runs of the same "
                "code; `python -m interpmatrix compare` shows what a change did"
            )
    return infos


def _run_id(run_dir: RunDir, info: Mapping[str, Any]) -> str:
    """The run's id as its run.json says it, else its folder's name."""
    return info.get("run_id") or run_dir.run_id


def _machine(info: Mapping[str, Any]) -> tuple[Any, ...]:
    host = info.get("host") or {}
    return host.get("hostname"), host.get("cpu"), host.get("cores")


def _machine_text(info: Mapping[str, Any]) -> str:
    hostname, cpu, cores = _machine(info)
    return f"{hostname or 'unknown host'}, {cpu or 'unknown CPU'}, {cores or '?'} cores"


Suites = dict[str, Any]  # interpreter id -> its pyperf.BenchmarkSuite, for one run


def load_suites(runs: Sequence[RunDir], infos: Sequence[Mapping[str, Any]]) -> list[Suites]:
    """Each run's results files, read once: the round offsets and the pooled files are both made from them."""
    return [
        {iid: load_results(path) for iid in info["interpreters"] if (path := run_dir.results_file(iid)).exists()}
        for run_dir, info in zip(runs, infos)
    ]


def round_offsets(suites: Sequence[Suites]) -> list[int]:
    """What each run's rounds are numbered after: the last rounds of the runs before it, added up (a run whose
    processes recorded no round counts as one)."""
    offsets, offset = [], 0
    for found in suites:
        offsets.append(offset)
        offset += max((max(rounds_done(b), default=1) for suite in found.values() for b in suite), default=1)
    return offsets


def _pooled_processes(
    suites: Sequence[Suites], run_ids: Sequence[str], offsets: Sequence[int], interpreter_id: str
) -> dict[str, list[Any]]:
    """Each cell's worker processes (``pyperf.Run``) from every run, renumbered and marked with their run."""
    import pyperf

    benchmarks: dict[str, list[pyperf.Run]] = {}
    for found, run_id, offset in zip(suites, run_ids, offsets):
        for benchmark in found.get(interpreter_id, ()):
            for process in benchmark.get_runs():
                metadata = process.get_metadata()
                metadata[ROUND_METADATA] = int(metadata.get(ROUND_METADATA, 1)) + offset
                metadata[POOLED_RUN_METADATA] = run_id
                benchmarks.setdefault(benchmark.get_name(), []).append(
                    pyperf.Run(process.values, warmups=process.warmups, metadata=metadata, collect_metadata=False)
                )
    return benchmarks


def _write_interpreter(
    runs: Sequence[RunDir], infos: Sequence[Mapping[str, Any]], suites: Sequence[Suites], run_ids: Sequence[str],
    offsets: Sequence[int], interpreter_id: str, target: RunDir,
) -> None:
    import pyperf

    pooled = []
    for name, processes in _pooled_processes(suites, run_ids, offsets, interpreter_id).items():
        try:
            pooled.append(pyperf.Benchmark(processes))
        except ValueError as error:
            raise ValueError(
                f"{interpreter_id}'s {name} cannot be pooled: {error} (pyperf's own check: another build of the "
                "interpreter, or the same one run from another venv, as from another checkout); pool runs of one "
                "checkout's interpreters, or leave that run out"
            ) from None
    if pooled:
        pyperf.BenchmarkSuite(pooled).dump(str(target.results_file(interpreter_id)))
    # The interpreter's facts, failures and logs: the last run's that measured it. A failure there of a cell that
    # an earlier run measured is left out: the cell has its processes (the whole column's, ALL_CELLS, too).
    last = next(run_dir for run_dir, info in zip(reversed(runs), reversed(infos))
                if interpreter_id in info["interpreters"])
    record = last.read_interpreter(interpreter_id)
    if record is not None:
        target.write_interpreter(interpreter_id, record)
    if last.failures_file(interpreter_id).exists():
        measured = {benchmark.get_name() for benchmark in pooled}
        failures = {name: failure for name, failure in read_json(last.failures_file(interpreter_id)).items()
                    if name not in measured and not (measured and name == ALL_CELLS)}
        if failures:
            write_json(target.failures_file(interpreter_id), failures)
    logs = last.log_file(interpreter_id, "any-cell").parent
    if logs.is_dir():
        shutil.copytree(logs, target.log_file(interpreter_id, "any-cell").parent)


def pool_command(runs: Sequence[RunDir], infos: Sequence[Mapping[str, Any]], out: Path) -> str:
    """The command that made the pooled run, each folder as ``results/<run-id>``, wherever the copies were."""
    arguments = [f"results/{_run_id(run_dir, info)}" for run_dir, info in zip(runs, infos)]
    return shlex.join(["python", "-m", "interpmatrix", "pool", "--out", f"results/{out.name}", *arguments])


def pooled_run_info(runs: Sequence[RunDir], infos: Sequence[Mapping[str, Any]], out: Path) -> dict[str, Any]:
    """The pooled run.json: the first run's plan, the interpreters and workloads of all, each run's own facts under
    ``pooled``, and no budget of its own."""
    first = infos[0]
    wall_times = [info.get("wall_time") for info in infos]
    finished = [info.get("finished") for info in infos]
    # A pooled run has no budget of its own (its runs' are under ``pooled``).
    pooled = {key: value for key, value in first.items() if key not in run_keys()}
    discovered: dict[str, Any] = {}
    for info in infos:
        for record in info.get("discovered") or []:
            discovered.setdefault(record.get("id"), record)
    pooled.update(
        run_id=out.name,
        command=pool_command(runs, infos, out),
        interpreters=list(dict.fromkeys(iid for info in infos for iid in info["interpreters"])),
        discovered=list(discovered.values()),
        # None: every workload (a run planned before run.json named them), which any of the runs may have been.
        workloads=None if any(info.get("workloads") is None for info in infos)
        else list(dict.fromkeys(name for info in infos for name in info["workloads"])),
        pooled=[
            {
                "run_id": _run_id(run_dir, info),
                "command": info.get("command"),
                "profile": info.get("profile"),
                "started": info.get("started"),
                "wall_time": info.get("wall_time"),
                "measured_seconds": info.get("measured_seconds"),
            }
            for run_dir, info in zip(runs, infos)
        ],
        started=first.get("started"),
        finished=max(finished) if None not in finished else None,
        # The runs' own wall times added up: the hours between them were not spent measuring.
        wall_time=sum(wall_times) if None not in wall_times else None,
        status="complete",
    )
    return pooled


def pool_runs(runs: Sequence[RunDir], out: Path) -> RunDir:
    """Write the run folder ``out`` pooling ``runs`` (complete runs of one machine, in the order given); return it.
    Raises ``ValueError`` before writing anything for fewer than two runs, one given twice, one that is not a
    complete run of one machine, or an ``out`` that exists; the folder appears whole or not at all."""
    out = Path(out)
    infos = _check_inputs(runs, out)
    with new_run_folder(out, "pooling") as building:
        info = pooled_run_info(runs, infos, out)
        suites = load_suites(runs, infos)
        offsets = round_offsets(suites)
        run_ids = [_run_id(run_dir, run_info) for run_dir, run_info in zip(runs, infos)]
        for interpreter_id in info["interpreters"]:
            _write_interpreter(runs, infos, suites, run_ids, offsets, interpreter_id, building)
        building.write_run(info)
    return RunDir(out)
