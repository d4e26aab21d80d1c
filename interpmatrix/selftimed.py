"""One step on a runtime pyperf cannot run on: the self-timing runner's values, turned into pyperf's own JSON.

CPython older than 3.9 (discovery.SELF_TIMED_RANGES) and the runtimes found by their marker (interpmatrix.runtimes:
Jython, MicroPython, Pyodide) have no pyperf. Their steps are planned in the same interleaved rounds as every other
column (interpmatrix.measure); ``run_step`` stands in for ``invocation.run_step`` there, and does what pyperf's main
process does for a pyperf column:

- a cell whose variant has no portable kernel (``Workload.self_timed``), or needs threads the runtime lacks, is "not
  supported there": a failure of kind ``unavailable``, with that reason, never a figure of something else;
- round 1 runs ``workloads/_selftimed.py --calibrate`` in a fresh process: the kernel's answer, checked against the
  reference variant's answer on the orchestrator's own Python (the same portable code, so a runtime that computes
  otherwise is caught), and the loops that make one value last the profile's min_time (doubling, as the harness);
  later rounds reuse those loops (``invocation.carried_over``), and warm-ups a cell was raised to;
- then one fresh runner process per pyperf worker process (the profile's processes), each with the profile's
  warm-ups (a JIT's for a runtime with a JIT: Jython's JVM too) and values;
- each process's values become a ``pyperf.Run`` (values per call, warm-ups as pyperf's ``(loops, value)``; metadata:
  the cell's name, unit, loops, round, the runtime's facts as the runner printed them, the host's as pyperf collects
  them, and ``interpmatrix_timed_by``), appended to the step's file and merged like a pyperf step: the report,
  ``compare`` and ``merge`` read them as any other cell.

The runner's output is checked line by line: garbage, a crash, a time-out or a value missing is the cell's failure,
with its reason and its log. Nothing is timed in this process: the clock here is pyperf's ``duration`` metadata only.
"""

from __future__ import annotations

import json
import shlex
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from functools import cache
from pathlib import Path
from typing import Any

from .discovery import Interpreter
from .harness_protocol import GIL_METADATA, ROUND_METADATA
from .proc import run_with_timeout
from .profiles import Profile
from .registry import WORKLOADS_DIR, Cell, Workload
from .results import CellFailure, RunDir

# nox's own Python imports this module (noxfile.py: record_runtime) and has no pyperf, which invocation imports: its
# names are imported where they are used.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from .invocation import Step

RUNNER = WORKLOADS_DIR / "_selftimed.py"
# The runner's lines (workloads/_selftimed.py PREFIX); any other line is the runtime's own noise.
PREFIX = "interpmatrix-selftimed "
# Per-run metadata: who timed the values, and with which clock; the report marks such columns.
TIMED_BY_METADATA = "interpmatrix_timed_by"
TIMED_BY = "interpmatrix self-timing runner"
# What pyperf collects of the host for a run (pyperf.Run(collect_metadata=True)) that holds for the runtime's runs
# too; the rest (python_*, mem_max_rss, perf_version) would describe the orchestrator's Python.
HOST_METADATA = ("aslr", "boot_time", "cpu_config", "cpu_count", "cpu_freq", "cpu_model_name", "hostname",
                 "load_avg_1min", "platform", "runnable_threads", "uptime")


def unsupported(workload: Workload, cell: Cell, interpreter: Interpreter) -> str | None:
    """Why ``interpreter`` cannot run ``cell`` through the runner; None when it can."""
    if not workload.self_timed:
        # One reason for every cell of the workload, so that a list of what a column missed says it once.
        return (f"not supported there: {interpreter.id} is self-timed (no pyperf), and the runner has no portable "
                f"kernel of {workload.name}")
    if cell.variant not in workload.self_timed:
        portable = ", ".join(workload.self_timed)
        return (f"not supported there: {interpreter.id} is self-timed (no pyperf), and the runner has no portable "
                f"{cell.variant} (it runs {portable})")
    if workload.variant(cell.variant).workers and not interpreter.threads:
        return f"not supported there: {interpreter.id} cannot start threads"
    return None


@dataclass
class RunnerOutput:
    """What one runner process printed, line by line."""

    facts: dict[str, Any] = field(default_factory=dict)
    answer: Any = None
    has_answer: bool = False
    loops: int | None = None
    warmups: list[float] = field(default_factory=list)
    values: list[float] = field(default_factory=list)
    ended: bool = False
    # Everything it printed, stdout then stderr: the cell's log when its values are not what was asked for.
    text: str = ""


def _seconds(key: str, value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value >= 0:
        raise ValueError(f"{key} {value!r} is not a number of seconds")
    return float(value)


def parse_output(stdout: str) -> RunnerOutput:
    """The runner's lines as a RunnerOutput; ValueError naming the first line that is not what it prints."""
    out = RunnerOutput()
    for line in stdout.splitlines():
        if not line.startswith(PREFIX):
            continue
        try:
            item = json.loads(line[len(PREFIX):])
        except ValueError:
            item = None
        if not isinstance(item, dict) or len(item) != 1:
            raise ValueError(f"garbage in the runner's output: {line[:200]!r}")
        ((key, value),) = item.items()
        if key == "facts" and isinstance(value, dict):
            out.facts = value
        elif key == "answer":
            out.answer, out.has_answer = value, True
        elif key == "loops" and isinstance(value, int) and not isinstance(value, bool) and value >= 1:
            out.loops = value
        elif key in ("warmup", "value"):
            (out.warmups if key == "warmup" else out.values).append(_seconds(key, value))
        elif key == "end":
            out.ended = True
        else:
            raise ValueError(f"garbage in the runner's output: {line[:200]!r}")
    return out


class RunnerFailed(Exception):
    def __init__(self, failure: CellFailure, command: Sequence[str], output: str) -> None:
        super().__init__(failure.reason)
        self.failure = failure
        self.command = list(command)
        self.output = output


def runner_command(python: str, workload: Workload, cell: Cell, data: Path | None, *options: str) -> list[str]:
    command = [python, str(RUNNER), f"{workload.name}/{cell.variant}", str(cell.size), str(cell.workers or 1)]
    if data is not None:
        command += ["--data", str(data)]
    return [*command, "--path", str(WORKLOADS_DIR), *options]


def run_runner(command: Sequence[str], timeout: float, data: Path | None = None) -> tuple[RunnerOutput, float]:
    """One runner process, checked: its output and how long it took; RunnerFailed with the cell's failure when it
    crashed, hung, printed garbage or did not reach its end line.

    It runs in the folder of its input, if any: Pyodide's launcher (interpmatrix.runtime_launchers) lets it see only
    the script's folder and the working directory of the host's files."""
    from .invocation import classify_failure

    started = time.monotonic()
    try:
        result = run_with_timeout(command, timeout, cwd=data.parent if data is not None else WORKLOADS_DIR)
    except OSError as error:
        raise RunnerFailed(CellFailure("error", f"the runtime does not run: {error}"), command, "") from None
    output = result.stdout + result.stderr
    if result.timed_out or result.returncode != 0:
        raise RunnerFailed(classify_failure(result.returncode, result.stderr, result.timed_out, timeout), command,
                           output)
    try:
        parsed = parse_output(result.stdout)
    except ValueError as error:
        raise RunnerFailed(CellFailure("error", str(error)), command, output) from None
    if not parsed.ended:
        raise RunnerFailed(CellFailure("error", "the runner's output ends before its end line (a crash?)"), command,
                           output)
    parsed.text = output
    return parsed, time.monotonic() - started


@cache
def reference_answer(workload: Workload, size: int, data: Path | None, timeout: float) -> str:
    """The reference variant's answer at ``size``, computed by the orchestrator's Python with the same portable
    kernel (as canonical JSON), which every runtime's answer must equal."""
    command = runner_command(sys.executable, workload, Cell(workload.name, workload.reference, None, size), data,
                             "--answer")
    try:
        parsed, _ = run_runner(command, timeout, data)
    except RunnerFailed as failed:
        raise RuntimeError(f"the reference answer of {workload.name} could not be computed here: "
                           f"{failed.failure.reason}") from None
    return json.dumps(parsed.answer, sort_keys=True)


def input_file(run_dir: RunDir, workload: Workload, size: int, timeout: float) -> Path | None:
    """The input a kernel takes (word_count's text), written once per run by the workload's own script run in the
    orchestrator's Python: the runtimes cannot make the same text (their random draws differ)."""
    if workload.self_timed_input is None:
        return None
    path = run_dir.path / "selftimed" / f"{workload.name}-{size}.txt"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(".tmp")
        code = (f"import sys; sys.path.insert(0, {str(WORKLOADS_DIR)!r}); import {workload.script.stem} as w; "
                f"open({str(partial)!r}, 'w').write(w.{workload.self_timed_input}({size}))")
        result = run_with_timeout([sys.executable, "-c", code], timeout, cwd=WORKLOADS_DIR)
        if result.returncode != 0 or result.timed_out:
            raise RuntimeError(f"the input of {workload.name} could not be written: {result.stderr.strip()[-300:]}")
        partial.replace(path)
    return path


def host_metadata() -> dict[str, Any]:
    """The host's facts as pyperf records them for a run of its own (its public API: a Run collects them)."""
    import pyperf

    collected = pyperf.Run([1.0], collect_metadata=True).get_metadata()
    return {key: collected[key] for key in HOST_METADATA if key in collected}


def to_run(
    out: RunnerOutput, loops: int, cell: Cell, step: Step, host: dict[str, Any], duration: float
) -> Any:
    """One runner process's values as a ``pyperf.Run``: per-call values, as pyperf's workers record them."""
    import pyperf

    interp = step.venv.interpreter
    facts = out.facts
    metadata = {
        **host,
        "name": cell.name,
        "unit": "second",
        "loops": loops,
        "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "duration": duration,
        "description": f"{step.workload.name}, variant {cell.variant}",
        "python_executable": interp.executable,
        "python_implementation": str(facts.get("implementation") or interp.implementation),
        "python_version": str(facts.get("version") or interp.version),
        # pyperf's own key for the clock its workers read; here the runner's.
        "timer": str(facts.get("timer") or "unknown"),
        ROUND_METADATA: step.round,
        GIL_METADATA: interp.gil_enabled,
        TIMED_BY_METADATA: TIMED_BY,
    }
    return pyperf.Run(
        [value / loops for value in out.values],
        warmups=[(loops, value / loops) for value in out.warmups] or None,
        metadata=metadata,
        collect_metadata=False,
    )


def warmups_of(interp: Interpreter, profile: Profile) -> int:
    # A JVM compiles hot code as a JIT does: Jython gets a JIT's warm-ups.
    return profile.warmups_for(interp.is_jit or interp.jit not in ("", "none"))


def measure_cell(
    run_dir: RunDir, step: Step, cell: Cell, profile: Profile, loops: int | None, warmups: int, host: dict[str, Any]
) -> list[Any]:
    """The runs of one cell in one round; RunnerFailed with its failure."""
    python, workload = step.venv.python, step.workload
    data = input_file(run_dir, workload, cell.size, profile.cell_timeout)
    if loops is None:
        command = runner_command(python, workload, cell, data, "--calibrate", str(profile.min_time))
        out, _ = run_runner(command, profile.cell_timeout, data)
        if not out.has_answer or out.loops is None:
            raise RunnerFailed(CellFailure("error", "the runner printed no answer or no loops"), command, out.text)
        expected = reference_answer(workload, cell.size, data, profile.cell_timeout)
        if json.dumps(out.answer, sort_keys=True) != expected:
            got = json.dumps(out.answer)
            raise RunnerFailed(CellFailure("wrong answer", f"{cell.name} gave {got[:200]}, the reference "
                                           f"{workload.reference} gives {expected[:200]}"), command, out.text)
        loops = out.loops
    runs = []
    for _ in range(profile.processes_per_round):
        command = runner_command(python, workload, cell, data, "--loops", str(loops), "--warmups", str(warmups),
                                 "--values", str(profile.values))
        out, duration = run_runner(command, profile.cell_timeout, data)
        if len(out.values) != profile.values or len(out.warmups) != warmups or not all(out.values):
            raise RunnerFailed(CellFailure("error", f"the runner printed {len(out.warmups)} warm-ups and "
                                           f"{len(out.values)} values (non-zero: {sum(map(bool, out.values))}), not "
                                           f"{warmups} and {profile.values}"), command, out.text)
        runs.append(to_run(out, loops, cell, step, host, duration))
    return runs


def write_log(run_dir: RunDir, interpreter_id: str, name: str, failed: RunnerFailed) -> str:
    path = run_dir.log_file(interpreter_id, name)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"$ {shlex.join(failed.command)}\n\n--- output\n{failed.output}")
    return str(path.relative_to(run_dir.path))


def run_step(run_dir: RunDir, step: Step, profile: Profile) -> dict[str, CellFailure | None]:
    """Measure one round of ``step``'s cells with the runner; each cell's runs land in the results file, or its
    failure in the failures file (``invocation.run_step``'s contract). Returns each cell's outcome."""
    import pyperf

    from .invocation import carried_over

    interp = step.venv.interpreter
    suite = run_dir.read_results(interp.id)
    loops, raised = carried_over(suite, step.cells)
    host = host_metadata()
    outcomes: dict[str, CellFailure | None] = {}
    benchmarks = []
    for cell in step.cells:
        reason = unsupported(step.workload, cell, interp)
        if reason is not None:
            outcomes[cell.name] = CellFailure("unavailable", reason)
            continue
        warmups = raised.get(cell.name, warmups_of(interp, profile))
        try:
            runs = measure_cell(run_dir, step, cell, profile, loops.get(cell.name), warmups, host)
        except RunnerFailed as failed:
            outcomes[cell.name] = CellFailure(failed.failure.kind, failed.failure.reason,
                                              write_log(run_dir, interp.id, cell.name, failed))
            continue
        except RuntimeError as error:  # the orchestrator's side: the reference or the input could not be made
            outcomes[cell.name] = CellFailure("error", str(error))
            continue
        benchmarks.append(pyperf.Benchmark(runs))
        outcomes[cell.name] = None
    if benchmarks:
        step_file = run_dir.new_step_file(interp.id, step.round)
        pyperf.BenchmarkSuite(benchmarks).dump(str(step_file))
        merged = run_dir.merge_step(interp.id, step_file)
        for name, reason in merged.refused.items():
            outcomes[name] = CellFailure("error", f"its runs cannot join its earlier ones: {reason}")
    for name, failure in outcomes.items():
        if failure is not None:
            run_dir.record_failure(interp.id, name, failure)
    return outcomes


def runtime_problem(interpreter: Interpreter, timeout: float = 60) -> str | None:
    """Why ``interpreter`` cannot have a self-timed column (it does not run the runner, or runs another Python than
    discovery found); None when it can. Not run_runner: nox's Python, which asks this, has no pyperf for
    invocation's failure wording."""
    command = [interpreter.executable, str(RUNNER), "countdown/serial", "0", "1", "--answer", "--path",
               str(WORKLOADS_DIR)]
    why = f"it does not run the self-timing runner ({shlex.join(command)})"
    try:
        result = run_with_timeout(command, timeout, cwd=WORKLOADS_DIR)
        out = parse_output(result.stdout)
    except (OSError, ValueError) as error:
        return f"{why}: {error}"
    if result.timed_out:
        return f"{why}: it did not answer within {timeout:g} s"
    if result.returncode != 0 or not out.ended:
        return f"{why}: " + (result.stderr.strip().splitlines() or [f"exited with status {result.returncode}"])[-1]
    minor = ".".join(str(out.facts.get("version", "")).split(".")[:2])
    if minor != interpreter.minor:
        # Never measure one interpreter under another's name.
        return f"the runtime runs Python {minor or 'unknown'}, not the discovered {interpreter.minor}"
    return None


def record_runtime(run_dir: RunDir, interpreter: Interpreter, timeout: float = 60) -> None:
    """What a bench session records for a pyperf column, for a self-timed one: it has no venv (there is nothing to
    install: the runner needs the interpreter alone), so its interpreter file names the runtime itself as what runs,
    or why it cannot (``runtime_problem``): its cells then fail with that reason."""
    run_dir.write_interpreter(interpreter.id, {
        "venv_python": interpreter.executable, "setup_error": runtime_problem(interpreter, timeout),
        "bindings_dir": None, "interpreter": interpreter.to_dict(), "timed_by": TIMED_BY,
    })
