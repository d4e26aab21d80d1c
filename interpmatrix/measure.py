"""Run every cell on every prepared interpreter, in interleaved rounds, through pyperf.

Nothing is timed here. Each step is one pyperf invocation of a workload script, in one interpreter's venv, for one
cell and one round: pyperf's main process checks the answer, spawns its worker processes, and appends their runs to
``results/<run-id>/<interpreter-id>.json`` (``--append``). Rounds go cell by cell across all interpreters, so the
machine's drift during a run is spread over every column instead of landing on one.

A step that crashes, hangs, raises or gives a wrong answer marks that cell failed (``<id>.failures.json``) and is not
tried again; every other cell goes on. Whatever completed is on disk before the next step starts, and a resumed run
skips the rounds already in the files.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from pathlib import Path

import pyperf

from .discovery import Interpreter
from .profiles import Profile, find_profile
from .registry import Cell, Workload, select_workloads
from .results import ROUND_METADATA, CellFailure, RunDir

# Exit statuses of workloads/_harness.py.
WRONG_ANSWER = 3
UNKNOWN_VARIANT = 4
UNAVAILABLE = 5


@dataclass(frozen=True)
class Column:
    """An interpreter ready to run cells: its facts and the python of its venv (which has pyperf)."""

    interpreter: Interpreter
    python: str
    # What bindings/build.py built for this interpreter (compiled variants), if anything.
    bindings: str | None = None

    @property
    def id(self) -> str:
        return self.interpreter.id


@dataclass(frozen=True)
class Step:
    round: int
    workload: Workload
    cell: Cell
    column: Column


def load_benchmark(path: Path, name: str) -> pyperf.Benchmark | None:
    if not path.exists():
        return None
    suite = pyperf.BenchmarkSuite.load(str(path))
    return suite.get_benchmark(name) if name in suite.get_benchmark_names() else None


def rounds_done(benchmark: pyperf.Benchmark | None) -> set[int]:
    if benchmark is None:
        return set()
    return {run.get_metadata().get(ROUND_METADATA) for run in benchmark.get_runs()} - {None}


def calibrated_loops(benchmark: pyperf.Benchmark | None) -> int | None:
    """The loop count round 1 calibrated, reused by later rounds so every run of a cell does the same work."""
    if benchmark is None:
        return None
    for run in benchmark.get_runs():
        if run.values:
            return run.get_loops()
    return None


def classify_failure(
    returncode: int | None, stderr: str, timed_out: bool, timeout: float, log: str | None = None
) -> CellFailure:
    """Turn a failed pyperf invocation into the reason its cell shows."""
    lines = [line.strip() for line in stderr.splitlines() if line.strip()]
    if timed_out:
        return CellFailure("timeout", f"ran past the {timeout:g} s cell time limit and was killed", log)
    if returncode == UNAVAILABLE:
        unavailable = [line for line in lines if line.startswith("unavailable: ")]
        reason = unavailable[-1][len("unavailable: ") :] if unavailable else "the binding was not built"
        return CellFailure("unavailable", reason, log)
    if returncode == WRONG_ANSWER:
        wrong = [line for line in lines if line.startswith("wrong answer")]
        return CellFailure("wrong answer", (wrong or lines or ["wrong answer"])[-1], log)
    if returncode is not None and returncode < 0:
        return CellFailure("crash", f"the process was killed by {_signal_name(-returncode)}", log)
    # pyperf's main process reports a worker that died: "... failed with exit code -11".
    for line in reversed(lines):
        marker = "failed with exit code "
        if marker in line:
            code = line.rsplit(marker, 1)[1].strip().rstrip(".")
            if code.lstrip("-").isdigit() and int(code) < 0:
                return CellFailure("crash", f"a pyperf worker was killed by {_signal_name(-int(code))}", log)
    exceptions = [line for line in lines if _looks_like_exception(line)]
    reason = (exceptions or lines or [f"exited with status {returncode}"])[-1]
    return CellFailure("error", reason, log)


def _looks_like_exception(line: str) -> bool:
    head = line.split(":", 1)[0]
    return head.isidentifier() and (head.endswith("Error") or head.endswith("Exception") or head == "KeyboardInterrupt")


def _signal_name(number: int) -> str:
    try:
        return signal.Signals(number).name
    except ValueError:
        return f"signal {number}"


def build_command(step: Step, profile: Profile, results_file: Path, loops: int | None) -> list[str]:
    cell = step.cell
    command = [
        step.column.python,
        str(step.workload.script),
        *profile.pyperf_args(jit=step.column.interpreter.is_jit),
        "--append",
        str(results_file),
        "--cell",
        cell.name,
        "--variant",
        cell.variant,
        "--size",
        str(cell.size),
        "--round",
        str(step.round),
    ]
    if cell.workers is not None:
        command += ["--workers", str(cell.workers)]
    if loops is not None:
        command += ["--loops", str(loops)]
    if step.column.bindings is not None:
        command += ["--bindings", step.column.bindings]
    return command


def run_step(run_dir: RunDir, step: Step, profile: Profile) -> CellFailure | None:
    """One pyperf invocation; its runs land in the results file, or its failure in the failures file."""
    results_file = run_dir.results_file(step.column.id)
    loops = calibrated_loops(load_benchmark(results_file, step.cell.name))
    command = build_command(step, profile, results_file, loops)
    # A session of its own, so a hung cell's pyperf workers are killed with it.
    process = subprocess.Popen(
        command,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
        cwd=step.workload.script.parent,
    )
    timed_out = False
    try:
        stdout, stderr = process.communicate(timeout=profile.cell_timeout)
    except subprocess.TimeoutExpired:
        timed_out = True
        os.killpg(process.pid, signal.SIGKILL)
        stdout, stderr = process.communicate()
    if process.returncode == 0 and not timed_out:
        return None
    log = run_dir.log_file(step.column.id, step.cell.name)
    log.parent.mkdir(parents=True, exist_ok=True)
    log.write_text(f"$ {' '.join(command)}\n\n--- stdout\n{stdout}\n--- stderr\n{stderr}")
    failure = classify_failure(
        process.returncode, stderr, timed_out, profile.cell_timeout, str(log.relative_to(run_dir.path))
    )
    run_dir.record_failure(step.column.id, step.cell.name, failure)
    return failure


def prepared_columns(run_dir: RunDir, interpreter_ids: Sequence[str]) -> list[Column]:
    """The interpreters whose venv is ready; the others get every cell failed with the reason."""
    columns = []
    for interpreter_id in interpreter_ids:
        record = run_dir.read_interpreter(interpreter_id)
        if record is None:
            failure = CellFailure(
                "interpreter missing",
                f"no venv was prepared for {interpreter_id}: see the nox log of `bench({interpreter_id})`",
            )
        elif record.get("setup_error"):
            failure = CellFailure("install failed", record["setup_error"])
        else:
            columns.append(
                Column(Interpreter.from_dict(record["interpreter"]), record["venv_python"], record.get("bindings_dir"))
            )
            continue
        run_dir.record_failure(interpreter_id, "*", failure)
    return columns


def plan_steps(run_dir: RunDir, workloads: Sequence[Workload], columns: Sequence[Column], rounds: int) -> list[Step]:
    """The steps still to do: round-major, then cell, then interpreter, skipping what the files say is done."""
    done: dict[tuple[str, str], set[int]] = {}
    failed: dict[str, set[str]] = {}
    for column in columns:
        failed[column.id] = set(run_dir.read_failures(column.id))
        path = run_dir.results_file(column.id)
        if path.exists():
            suite = pyperf.BenchmarkSuite.load(str(path))
            for benchmark in suite.get_benchmarks():
                done[column.id, benchmark.get_name()] = rounds_done(benchmark)
    steps = []
    for round_number in range(1, rounds + 1):
        for workload in workloads:
            for cell in workload.cells():
                for column in columns:
                    if cell.name in failed[column.id] or round_number in done.get((column.id, cell.name), ()):
                        continue
                    steps.append(Step(round_number, workload, cell, column))
    return steps


def _format_eta(seconds: float) -> str:
    minutes, seconds = divmod(int(seconds + 0.5), 60)
    return f"{minutes}m{seconds:02d}s" if minutes else f"{seconds}s"


def _summary(run_dir: RunDir, step: Step) -> str:
    benchmark = load_benchmark(run_dir.results_file(step.column.id), step.cell.name)
    if benchmark is None or benchmark.get_nvalue() < 2:
        return "done"
    mean = benchmark.mean()
    return f"{benchmark.format_value(mean)} ± {benchmark.stdev() / mean:.0%}"


def measure(
    run_dir: RunDir,
    workloads: Sequence[Workload] | None = None,
    echo: Callable[[str], None] = print,
    clock: Callable[[], float] = time.monotonic,
) -> None:
    """Run (or resume) the run described by ``run_dir``'s run.json."""
    run = run_dir.read_run()
    profile = find_profile(run["profile"])
    if run.get("cell_timeout"):
        profile = replace(profile, cell_timeout=float(run["cell_timeout"]))
    workloads = list(workloads) if workloads is not None else select_workloads(run["workloads"])
    columns = prepared_columns(run_dir, run["interpreters"])
    steps = plan_steps(run_dir, workloads, columns, profile.rounds)
    run_dir.update_run(status="measuring")
    echo(
        f"measuring {len(steps)} steps: {profile.rounds} rounds x {sum(len(w.cells()) for w in workloads)} cells "
        f"x {len(columns)} interpreters ({profile.name} profile)"
    )
    started = clock()
    skipped: set[tuple[str, str]] = set()
    width = max((len(column.id) for column in columns), default=0)
    for index, step in enumerate(steps, start=1):
        if (step.column.id, step.cell.name) in skipped:
            continue
        failure = run_step(run_dir, step, profile)
        if failure is not None:
            # A failed cell is not retried in later rounds: a hang would cost its time limit every round.
            skipped.add((step.column.id, step.cell.name))
            outcome = f"FAILED ({failure.kind}): {failure.reason}"
        else:
            outcome = _summary(run_dir, step)
        elapsed = clock() - started
        left = elapsed / index * (len(steps) - index)
        echo(
            f"[{index}/{len(steps)}] r{step.round} {step.column.id:<{width}}  {step.cell.name}  {outcome}"
            f"  (~{_format_eta(left)} left)"
        )
    finished = datetime.now(timezone.utc)
    started_at = datetime.fromisoformat(run["started"])
    run_dir.update_run(
        status="complete", finished=finished.isoformat(), wall_time=(finished - started_at).total_seconds()
    )
