"""One step of a run: one pyperf invocation of a workload script, in one interpreter's venv, for one round of some
cells of one workload, and what its output says about each of them.

The script reports each cell's start and outcome on stderr (see ``workloads/_harness.py``); when the whole process
dies or hangs, the cell it was in gets the failure and the cells after it run in a new invocation. A cell's calibrated
loops (round 1's) are handed to its later rounds, extra rounds included, so every run of a cell does the same work.

pyperf appends to a step file of the invocation's own (``RunDir.new_step_file``), which is merged into the
interpreter's results file once the invocation has ended (``RunDir.merge_step``): pyperf rewrites the file it appends
to in place, so a kill while it writes (the time limit's, or anyone's) truncates only that file, and costs at most
the cells of this step, which are then measured again; a cell reported done whose runs did not reach the results
file is never counted as measured.

No invocation can hang the run. Every stretch between two of its events (before its first cell, each cell, after its
last one) gets the cell time limit, and the whole invocation that limit once per cell and once more; past either, its
process group is killed (``proc.watch_group``), and a pipe that a process outside the group still holds is given up
``proc.DRAIN_SECONDS`` after the end. The output goes whole to a log file on disk as it comes; in memory stays only the
end of each cell's part (``proc.KEEP_CHARS``), which is where a failure's reason is.
"""

from __future__ import annotations

import json
import os
import shlex
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import IO

import pyperf

from .discovery import Interpreter
from .harness_protocol import EVENT_PREFIX, PEER_PYTHON_ENV
from .model import is_memory
from .proc import CHUNK_BYTES, DRAIN_SECONDS, KEEP_CHARS, Tail, dies_with_this_process, watch_group
from .profiles import Profile
from .registry import Cell, Workload
from .results import CellFailure, RunDir, rounds_done
from .samples import still_warming_at_end


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
    if returncode == 0:
        # A success, while a cell was under way: neither the harness nor pyperf ends the process so (pyperf's own
        # exits arrive as "died" events), the code it was running did. Whatever it printed last is no reason.
        return CellFailure(
            "error",
            "the process ended (exit status 0) before reporting the cell: the workload's code ended it, e.g. os._exit "
            "or sys.exit",
            log,
        )
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
    return head.isidentifier() and (head.endswith(("Error", "Exception")) or head == "KeyboardInterrupt")


def _signal_name(number: int) -> str:
    try:
        return signal.Signals(number).name
    except ValueError:
        return f"signal {number}"


# The most warm-up values a cell gets when its processes keep warming up (a cell that never settles is reported so).
MAX_WARMUPS = 32


def warmups_needed(benchmark: pyperf.Benchmark | None) -> int | None:
    """More warm-ups for a cell whose latest processes were still warming up at their end
    (``samples.still_warming_at_end``): as many more as a process's timed values, so that the next round's timed
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


def carried_over(
    suite: pyperf.BenchmarkSuite | None, cells: Sequence[Cell]
) -> tuple[dict[str, int], dict[str, int]]:
    """What a cell's earlier rounds hand to its next one: its calibrated loops, and its raised warm-ups."""
    benchmarks = {benchmark.get_name(): benchmark for benchmark in suite or ()}
    loops, warmups = {}, {}
    for cell in cells:
        found = calibrated_loops(benchmarks.get(cell.name))
        if found is not None:
            loops[cell.name] = found
        more = warmups_needed(benchmarks.get(cell.name))
        if more is not None:
            warmups[cell.name] = more
    return loops, warmups


def build_command(
    step: Step, profile: Profile, results_file: Path, loops: dict[str, int], warmups: dict[str, int] | None = None
) -> list[str]:
    """The pyperf invocation of ``step``; ``results_file`` is the file it appends to (its step file)."""
    interpreter = step.venv.interpreter
    command = [
        step.venv.python,
        str(step.workload.script),
        *step.workload.script_args,
        *profile.pyperf_args(jit=interpreter.is_jit, cpython=interpreter.implementation == "cpython"),
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
    # pyperf starts its workers with a short list of variables; the column's switches (PYTHON_JIT) must reach the
    # processes that time, not only this one, and so must the peer's interpreter (step_environ).
    inherited = [name for name, _ in step.venv.interpreter.env]
    command += ["--inherit-environ", ",".join([*inherited, PEER_PYTHON_ENV])]
    return command


def step_environ(step: Step) -> dict[str, str]:
    """The environment of ``step``'s invocation: this process's, plus what makes its interpreter the column it is,
    and this process's interpreter as the one every column's peer processes run on (``PEER_PYTHON_ENV``: io_threads'
    server), so that only the clients' interpreter differs between columns."""
    return {**os.environ, **dict(step.venv.interpreter.env), PEER_PYTHON_ENV: sys.executable}


class Output:
    """What one invocation printed, taken as it comes: the whole goes to ``log``; in memory stay its events, and the
    last ``KEEP_CHARS`` of each cell's part (from the cell's start event to the next start), where a failure's reason
    is read. The part before the first cell's start is ``None``'s."""

    def __init__(self, log: IO[bytes], clock: Callable[[], float]) -> None:
        self.log = log
        self.clock = clock
        self.events: list[dict] = []
        self.tails: dict[str | None, Tail] = {None: Tail()}
        # Part -> [its first byte in the log, its end]; the last part's end is None (the end of the log).
        self.parts: dict[str | None, list[int | None]] = {None: [0, None]}
        # The cell being measured (from its start event to its next event), and the time of the last event: every
        # stretch between two events gets the cell time limit.
        self.current: str | None = None
        self.since = clock()
        self.part: str | None = None
        self.pending = b""
        self.offset = 0  # where ``pending`` begins in the log

    def feed(self, chunk: bytes) -> None:
        self.log.write(chunk)
        lines = (self.pending + chunk).split(b"\n")
        self.pending = lines.pop()
        for line in lines:
            self._take(line, newline=True)
        if len(self.pending) > KEEP_CHARS:
            # A line this long is no event: only its end is worth keeping, as for any other output.
            self._take(self.pending, newline=False)
            self.pending = b""

    def close(self) -> None:
        """Take what came after the last newline."""
        if self.pending:
            self._take(self.pending, newline=False)
            self.pending = b""

    def text(self, part: str | None) -> str:
        """The end of a cell's part (``None``: before any cell started); "" for a cell that did not start."""
        tail = self.tails.get(part)
        return tail.text() if tail is not None else ""

    def started(self) -> list[str]:
        return [event["cell"] for event in self.events if event["event"] == "start"]

    def kept(self) -> int:
        """Characters of output held in memory now."""
        return sum(len(tail) for tail in self.tails.values()) + len(self.pending)

    def _take(self, raw: bytes, newline: bool) -> None:
        offset, self.offset = self.offset, self.offset + len(raw) + newline
        text = raw.decode(errors="replace")
        event = parse_event(text) if newline else None
        if event is None:
            self.tails[self.part].add(text + "\n" if newline else text)
            return
        self.events.append(event)
        self.since = self.clock()
        if event["event"] != "start":
            self.current = None
            return
        self.parts[self.part][1] = offset
        self.part = self.current = event["cell"]
        self.parts[self.part] = [offset, None]
        self.tails[self.part] = Tail()


def parse_event(line: str) -> dict | None:
    """A progress line of the harness (``interpmatrix-cell {json}``) as a dict; None for any other line."""
    if not line.startswith(EVENT_PREFIX):
        return None
    try:
        event = json.loads(line[len(EVENT_PREFIX) :])
    except ValueError:
        return None
    return event if isinstance(event, dict) and "cell" in event and "event" in event else None


@dataclass(frozen=True)
class Invocation:
    """One pyperf invocation that has ended, and what it printed."""

    command: list[str]
    returncode: int
    output: Output
    # The whole output, on disk.
    log: Path
    # Why its group was killed: "cell" (a stretch between two events ran past the cell time limit) or "invocation"
    # (the whole ran past its own limit); None when it ended by itself. ``killed_in``: the cell being measured then.
    killed: str | None
    killed_in: str | None
    # Who still held its output after it ended: "group" or "outside" (``proc.Watched``); None: nobody.
    holder: str | None


def invoke(
    command: list[str],
    cwd: Path,
    cell_timeout: float,
    limit: float,
    log: Path,
    clock: Callable[[], float] = time.monotonic,
    env: dict[str, str] | None = None,
) -> Invocation:
    """Run one pyperf invocation, its whole output streamed to ``log``; kill its process group when a stretch
    between two of its events runs past ``cell_timeout``, or the whole past ``limit``."""
    killed_in: list[str | None] = []
    with log.open("wb") as handle:
        output = Output(handle, clock)
        # A session of its own, so that a kill takes pyperf's worker processes with it; and it dies with this
        # process: orphaned by a `kill -9`, it would go on appending to its step file while a resumed run writes the
        # run (its workers end at their next write to it, a hung one excepted). preexec_fn is safe here: measuring
        # starts no thread.
        process = subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            cwd=cwd,
            env=env,
            preexec_fn=dies_with_this_process(),  # noqa: PLW1509
        )
        started = output.since = clock()

        def check() -> str | None:
            now = clock()
            why = "invocation" if now - started > limit else "cell" if now - output.since > cell_timeout else None
            if why is not None:
                killed_in.append(output.current)
            return why

        watched = watch_group(process, output.feed, check)
        output.close()
    return Invocation(
        command, watched.returncode, output, log, watched.killed, killed_in[0] if killed_in else None, watched.holder
    )


def charge(
    invocation: Invocation, cells: Sequence[Cell], cell_timeout: float, limit: float
) -> dict[str, CellFailure | None]:
    """What an invocation says about its cells: measured (None) or why not. A cell it did not reach is left out (the
    next invocation runs it)."""
    output = invocation.output
    outcomes: dict[str, CellFailure | None] = {}
    for event in output.events:
        name = event["cell"]
        if event["event"] == "done":
            outcomes[name] = None
        elif event["event"] == "failed":
            outcomes[name] = CellFailure(event.get("kind", "error"), event.get("reason", ""))
        elif event["event"] == "died":
            outcomes[name] = classify_failure(1, output.text(name), False, cell_timeout)
    past = (
        f"the {cell_timeout:g} s cell time limit"
        if invocation.killed == "cell"
        else f"the invocation's {limit:g} s time limit ({cell_timeout:g} s per cell and {cell_timeout:g} s more)"
    )
    started = output.started()
    unfinished = [name for name in started if name not in outcomes]
    if unfinished:
        # The whole process died or was killed while measuring this cell.
        name = unfinished[-1]
        if invocation.killed == "invocation" and invocation.killed_in == name:
            outcomes[name] = CellFailure("timeout", f"ran past {past} and was killed")
        else:
            killed_here = invocation.killed is not None and invocation.killed_in == name
            outcomes[name] = classify_failure(invocation.returncode, output.text(name), killed_here, cell_timeout)
    elif not started:
        # The script failed or hung before any cell (an import error, a syntax error, a hang at import): every cell
        # has that reason, and running it again would end the same way.
        if invocation.killed is not None:
            failure = CellFailure("timeout", f"hung before its first cell: none had started within {past}; killed")
        else:
            failure = classify_failure(invocation.returncode, output.text(None), False, cell_timeout)
        outcomes.update((cell.name, failure) for cell in cells)
    elif (invocation.killed is not None or invocation.holder is not None) and outcomes[started[-1]] is None:
        # Every cell it started had ended, but the process did not end, or something it left running still holds
        # its output: a thread or a process the workload started. Charged to the cell after which it happened (a cell
        # that failed keeps its own reason), so that the next rounds, which leave it out, do not pay for it again.
        where = "hung after its last cell" if len(started) == len(cells) else "hung after this cell, before the next"
        if invocation.killed is not None:
            outcomes[started[-1]] = CellFailure(
                "timeout",
                f"{where}: the process was still running past {past}, and was killed (a thread or a process the "
                "workload left running?)",
            )
        elif invocation.holder == "group":
            outcomes[started[-1]] = CellFailure(
                "error",
                f"{where}: its output was still open {DRAIN_SECONDS:g} s after the process ended, held by a process "
                "it left running, which was killed",
            )
        else:
            outcomes[started[-1]] = CellFailure(
                "error",
                f"{where}: its output was still open {DRAIN_SECONDS:g} s after the process ended, held by a process "
                "it started in a session of its own, out of reach of the time limit's kill, and left running",
            )
    return outcomes


def write_cell_log(run_dir: RunDir, interpreter_id: str, invocation: Invocation, name: str) -> str:
    """The log of a failed cell: the command, then its part of the invocation's output (all of it for a cell that
    did not start), copied from the log on disk. Returns its path relative to the run folder."""
    path = run_dir.log_file(interpreter_id, name)
    path.parent.mkdir(parents=True, exist_ok=True)
    start, end = invocation.output.parts.get(name, (0, None))
    with invocation.log.open("rb") as source, path.open("wb") as target:
        target.write(f"$ {shlex.join(invocation.command)}\n\n--- output\n".encode())
        source.seek(start or 0)
        left = None if end is None else end - (start or 0)
        while left is None or left > 0:
            chunk = source.read(CHUNK_BYTES if left is None else min(CHUNK_BYTES, left))
            if not chunk:
                break
            target.write(chunk)
            left = None if left is None else left - len(chunk)
    return str(path.relative_to(run_dir.path))


def run_step(
    run_dir: RunDir, step: Step, profile: Profile, clock: Callable[[], float] = time.monotonic
) -> dict[str, CellFailure | None]:
    """Measure one round of ``step``'s cells; each cell's runs land in the results file, or its failure in the
    failures file. Returns each cell's outcome (None: measured)."""
    interpreter_id = step.venv.id
    results_name = run_dir.results_file(interpreter_id).name
    outcomes: dict[str, CellFailure | None] = {}
    todo = list(step.cells)
    lost_once: set[str] = set()
    suite = run_dir.read_results(interpreter_id)
    while todo:
        loops, warmups = carried_over(suite, todo)
        limit = (len(todo) + 1) * profile.cell_timeout
        step_file = run_dir.new_step_file(interpreter_id, step.round)
        command = build_command(replace(step, cells=tuple(todo)), profile, step_file, loops, warmups)
        # The whole output, beside the cells' logs; deleted once the failed cells have theirs.
        log = run_dir.log_file(interpreter_id, f"step-{step_file.stem}")
        log.parent.mkdir(parents=True, exist_ok=True)
        invocation = invoke(command, step.workload.script.parent, profile.cell_timeout, limit, log, clock,
                            step_environ(step))
        merged = run_dir.merge_step(interpreter_id, step_file)
        suite = merged.suite
        found = charge(invocation, todo, profile.cell_timeout, limit)
        # A cell is measured when its runs of this round are in the results file, not when the script said so: a
        # kill while pyperf wrote the step file loses the cells before it, which are measured again (once).
        held = {benchmark.get_name(): rounds_done(benchmark) for benchmark in suite or ()}
        again = set()
        for name, outcome in found.items():
            if outcome is not None or step.round in held.get(name, ()):
                continue
            if name in merged.refused:
                found[name] = CellFailure("error", f"its runs cannot join its earlier ones in {results_name}: "
                                                   f"{merged.refused[name]}")
            elif name in lost_once:
                found[name] = CellFailure("error", "its runs were lost twice with the results file of its step "
                                                   f"({merged.unreadable or 'not written'})")
            else:
                lost_once.add(name)
                again.add(name)
        for name in again:
            del found[name]
        for name, failure in found.items():
            if failure is not None:
                found[name] = failure = replace(failure, log=write_cell_log(run_dir, interpreter_id, invocation, name))
                run_dir.record_failure(interpreter_id, name, failure)
        outcomes.update(found)
        reached = set(invocation.output.started()) - again
        todo = [cell for cell in todo if cell.name not in outcomes and cell.name not in reached]
        log.unlink()
    return outcomes
