"""One step of a run: one pyperf invocation of a workload script, in one interpreter's venv, for one round of some
cells of one workload, and what its output says about each of them.

The script reports each cell's start and outcome on stderr (see ``workloads/_harness.py``); when the whole process
dies or hangs, the cell it was in gets the failure and the cells after it run in a new invocation. A cell's calibrated
loops (round 1's) are handed to its later rounds, extra rounds included, so every run of a cell does the same work.
"""

from __future__ import annotations

import json
import signal
import subprocess
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

import pyperf

from .discovery import Interpreter
from .intervals import still_warming_at_end
from .model import is_memory
from .proc import kill_group
from .profiles import Profile
from .registry import Cell, Workload
from .results import EVENT_PREFIX, ROUND_METADATA, CellFailure, RunDir


@dataclass(frozen=True)
class Venv:
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
    """One pyperf invocation: one round of some cells of one workload on one interpreter."""

    round: int
    workload: Workload
    cells: tuple[Cell, ...]
    venv: Venv


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
    """Turn a pyperf invocation that died (or a worker that did) into the reason its cell shows.

    Failures the script itself detects (wrong answer, unavailable binding, an exception in the check) arrive as
    ``failed`` events with their kind; this is for the rest: signals, time-outs, exceptions in pyperf's workers."""
    lines = [line.strip() for line in stderr.splitlines() if line.strip()]
    if timed_out:
        return CellFailure("timeout", f"ran past the {timeout:g} s cell time limit and was killed", log)
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


# The most warm-up values a cell gets when its processes keep warming up (a cell that never settles is reported so).
MAX_WARMUPS = 32


def warmups_needed(benchmark: pyperf.Benchmark | None) -> int | None:
    """More warm-ups for a cell whose latest processes were still warming up at their end
    (``intervals.still_warming_at_end``): as many more as a process's timed values, so that the next round's timed
    values begin where the last ones ended. The count a cell was raised to stays; None: the profile's are enough.
    Memory cells keep theirs (one call a value: their peak is the figure)."""
    if benchmark is None or is_memory(benchmark):
        return None
    runs = [run for run in benchmark.get_runs() if run.values]
    if not runs:
        return None
    latest = max(len(run.warmups or ()) for run in runs)
    current = [run for run in runs if len(run.warmups or ()) == latest]
    if any(still_warming_at_end(run.values) for run in current):
        return min(latest + len(current[0].values), MAX_WARMUPS)
    raised = any(len(run.warmups or ()) != latest for run in runs)
    return latest if raised else None


def build_command(
    step: Step, profile: Profile, results_file: Path, loops: dict[str, int], warmups: dict[str, int] | None = None
) -> list[str]:
    command = [
        step.venv.python,
        str(step.workload.script),
        *step.workload.script_args,
        *profile.pyperf_args(jit=step.venv.interpreter.is_jit),
        "--append",
        str(results_file),
        "--round",
        str(step.round),
    ]
    for cell in step.cells:
        command += ["--cell", cell.name]
        if cell.name in loops:
            command += ["--cell-loops", f"{cell.name}={loops[cell.name]}"]
        if warmups and cell.name in warmups:
            command += ["--cell-warmups", f"{cell.name}={warmups[cell.name]}"]
    if step.venv.bindings is not None:
        command += ["--bindings", step.venv.bindings]
    return command


@dataclass
class _Invocation:
    """What one pyperf invocation printed, line by line, and which cell it was in when."""

    lines: list[str]
    current: str | None = None
    current_since: float = 0.0


def _read_output(stream, invocation: _Invocation, clock: Callable[[], float]) -> None:
    for line in stream:
        invocation.lines.append(line)
        event = _parse_event(line)
        if event is not None and event["event"] == "start":
            invocation.current, invocation.current_since = event["cell"], clock()
        elif event is not None:
            invocation.current = None


def _parse_event(line: str) -> dict | None:
    if not line.startswith(EVENT_PREFIX):
        return None
    try:
        event = json.loads(line[len(EVENT_PREFIX) :])
    except ValueError:
        return None
    return event if isinstance(event, dict) and "cell" in event and "event" in event else None


def _invoke(command: list[str], cwd: Path, timeout: float, clock: Callable[[], float]) -> tuple[int, list[str], str | None]:
    """Run one invocation; kill it when one cell runs past ``timeout``. (status, output lines, the cell killed in)."""
    # A session of its own, so a hung cell's pyperf workers are killed with it.
    process = subprocess.Popen(
        command,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
        cwd=cwd,
    )
    invocation = _Invocation([], current_since=clock())
    reader = threading.Thread(target=_read_output, args=(process.stdout, invocation, clock))
    reader.start()
    killed_in = None
    while process.poll() is None:
        current = invocation.current
        if current is not None and clock() - invocation.current_since > timeout:
            killed_in = current
            kill_group(process)
            break
        time.sleep(0.1)
    process.wait()
    reader.join()
    return process.returncode, invocation.lines, killed_in


def _cell_output(lines: list[str], cell: str) -> str:
    """The lines printed while ``cell`` was being measured (from its start event to the next start)."""
    inside, kept = False, []
    for line in lines:
        event = _parse_event(line)
        if event is not None and event["event"] == "start":
            inside = event["cell"] == cell
        if inside and event is None:
            kept.append(line)
    return "".join(kept)


def run_step(
    run_dir: RunDir, step: Step, profile: Profile, clock: Callable[[], float] = time.monotonic
) -> dict[str, CellFailure | None]:
    """Measure one round of ``step``'s cells; each cell's runs land in the results file, or its failure in the
    failures file. Returns each cell's outcome (None: measured)."""
    results_file = run_dir.results_file(step.venv.id)
    outcomes: dict[str, CellFailure | None] = {}
    todo = list(step.cells)
    while todo:
        suite = pyperf.BenchmarkSuite.load(str(results_file)) if results_file.exists() else None
        names = set(suite.get_benchmark_names()) if suite is not None else set()
        loops, warmups = {}, {}
        for cell in todo:
            benchmark = suite.get_benchmark(cell.name) if cell.name in names else None
            found = calibrated_loops(benchmark)
            if found is not None:
                loops[cell.name] = found
            more = warmups_needed(benchmark)
            if more is not None:
                warmups[cell.name] = more
        batch = replace(step, cells=tuple(todo))
        command = build_command(batch, profile, results_file, loops, warmups)
        returncode, lines, killed_in = _invoke(command, step.workload.script.parent, profile.cell_timeout, clock)
        started = []
        for line in lines:
            event = _parse_event(line)
            if event is None:
                continue
            name = event["cell"]
            if event["event"] == "start":
                started.append(name)
            elif event["event"] == "done":
                outcomes[name] = None
            elif event["event"] == "failed":
                outcomes[name] = CellFailure(event.get("kind", "error"), event.get("reason", ""))
            elif event["event"] == "died":
                outcomes[name] = classify_failure(1, _cell_output(lines, name), False, profile.cell_timeout)
        unfinished = [name for name in started if name not in outcomes]
        if unfinished:
            # The whole process died or was killed while measuring this cell.
            (name,) = unfinished[-1:]
            outcomes[name] = classify_failure(
                returncode, _cell_output(lines, name), killed_in == name, profile.cell_timeout
            )
        elif not started:
            # The script failed before any cell (an import error, a syntax error): every cell has that reason, and
            # running it again would fail the same way.
            for cell in todo:
                outcomes[cell.name] = classify_failure(returncode, "".join(lines), False, profile.cell_timeout)
        for name, failure in outcomes.items():
            if failure is not None and failure.log is None:
                log = run_dir.log_file(step.venv.id, name)
                log.parent.mkdir(parents=True, exist_ok=True)
                log.write_text(f"$ {' '.join(command)}\n\n--- output\n{_cell_output(lines, name) or ''.join(lines)}")
                failure = replace(failure, log=str(log.relative_to(run_dir.path)))
                outcomes[name] = failure
                run_dir.record_failure(step.venv.id, name, failure)
        todo = [cell for cell in todo if cell.name not in outcomes and cell.name not in started]
    return outcomes
