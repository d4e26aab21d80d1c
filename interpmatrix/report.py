"""The markdown report of one matrix run: which interpreter to use, and the evidence for it.

Everything comes from the run's folder (``run.json``, the pyperf result files, the interpreter and failure sidecars):
never from the machine the report is built on, nor its clock, so rebuilding a report gives the same bytes. Numbers are
pyperf's own (mean, standard deviation, its two-tailed t-test, its geometric mean) and every table is tabulate's, in
GitHub markdown.

Sections, in order: header (machine, command, profile, run quality), "What should I use?", interpreters, one section
per workload (grouped as in the registry), scaling with workers, geometric means, cells that did not run, machine
drift between rounds, and the method with the commands to reproduce it.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Union

import pyperf
from pyperf._utils import geometric_mean, is_significant
from tabulate import tabulate

from . import external
from .discovery import MIN_SUPPORTED, Interpreter
from .merge import split_machine_id
from .profiles import Profile, profile_of_run
from .registry import CLAIMS, GROUPS, Claim, WORKLOADS, Cell, Workload
from .results import BINDING_METADATA, GIL_METADATA, ROUND_METADATA, CellFailure, RunDir

LATEST = "latest.md"
# Above this relative standard deviation (std dev / mean) a cell is called noisy in the header.
NOISY_RSD = 0.05
# A second thread that brings at least this speed-up ran in parallel; below it, the threads mostly took turns.
PARALLEL_SPEEDUP = 1.5
ALL_CELLS = "*"
NOT_RUN = "—"

# What a cell of the matrix holds: a benchmark with values, the failure that prevented it, or nothing (an interrupted
# run, or a cell added to the registry since).
Outcome = Union[pyperf.Benchmark, CellFailure, None]


# --------------------------------------------------------------------------------------------------------------------
# Loading the run


@dataclass(frozen=True)
class Column:
    """One interpreter of the run: what it is, its measured cells and its failed ones."""

    interpreter: Interpreter
    # Cell name -> benchmark, only benchmarks with at least one value (a calibration alone measures nothing).
    benchmarks: dict[str, pyperf.Benchmark]
    failures: dict[str, CellFailure]

    @property
    def id(self) -> str:
        return self.interpreter.id

    def outcome(self, cell: Cell) -> Outcome:
        # A failure wins over values from earlier rounds: the cell did not complete its rounds, and measure.py does
        # not retry it, so its numbers would stand on fewer runs than every other cell's.
        failure = self.failures.get(cell.name) or self.failures.get(ALL_CELLS)
        if failure is not None:
            return failure
        return self.benchmarks.get(cell.name)

    def benchmark(self, cell: Cell) -> pyperf.Benchmark | None:
        outcome = self.outcome(cell)
        return outcome if isinstance(outcome, pyperf.Benchmark) else None


@dataclass(frozen=True)
class Run:
    """Everything the report shows, read from one run folder."""

    run_dir: RunDir
    info: dict[str, Any]  # run.json
    workloads: list[Workload]
    columns: list[Column]
    baseline: str | None
    baseline_reason: str
    profile: Profile | None
    # Benchmark name -> interpreters whose result file holds it, for names that are no cell of the selected
    # workloads (the registry changed since the run).
    unknown_benchmarks: dict[str, list[str]]

    @property
    def run_id(self) -> str:
        return self.info.get("run_id") or self.run_dir.run_id

    @property
    def complete(self) -> bool:
        return self.info.get("status") == "complete"

    @property
    def cells(self) -> list[Cell]:
        return [cell for workload in self.workloads for cell in workload.cells()]

    def column(self, interpreter_id: str) -> Column:
        return next(column for column in self.columns if column.id == interpreter_id)

    @property
    def baseline_column(self) -> Column | None:
        return self.column(self.baseline) if self.baseline is not None else None


def _interpreter(run_dir: RunDir, interpreter_id: str, discovered: dict[str, dict[str, Any]]) -> Interpreter:
    """What the venv said about itself (GIL state, JIT), else what discovery found when the run was planned."""
    record = run_dir.read_interpreter(interpreter_id) or {}
    facts = record.get("interpreter") or discovered.get(interpreter_id)
    if facts is None:
        raise ValueError(
            f"{run_dir.path}: nothing describes interpreter {interpreter_id!r} (no {interpreter_id}.interpreter.json "
            "and not in run.json's discovered list); the run folder is incomplete"
        )
    return Interpreter.from_dict(facts)


def _load_benchmarks(path: Path, cell_names: set[str]) -> tuple[dict[str, pyperf.Benchmark], list[str]]:
    """The benchmarks of one pyperf file that have values, and the names that are no cell of this run."""
    if not path.exists():
        return {}, []
    benchmarks, unknown = {}, []
    for benchmark in pyperf.BenchmarkSuite.load(str(path)).get_benchmarks():
        name = benchmark.get_name()
        if name not in cell_names:
            unknown.append(name)
        elif benchmark.get_nvalue():
            benchmarks[name] = benchmark
    return benchmarks, unknown


def choose_baseline(
    columns: Sequence[Column], requested: str | None, planned: str | None
) -> tuple[str | None, str]:
    """The baseline interpreter id and why it was chosen.

    ``requested`` (the report's option) wins over ``planned`` (run.json's); without either, the newest GIL-enabled
    CPython with results, since that is what most people run today. Raises ``ValueError`` listing the valid ids when
    the one asked for is not in the run.
    """
    ids = [column.id for column in columns]
    for chosen, why in ((requested, "chosen for this report"), (planned, "chosen when the run was planned")):
        if chosen is None:
            continue
        if chosen not in ids:
            raise ValueError(f"baseline {chosen!r} is not an interpreter of this run; valid ids: {', '.join(ids)}")
        return chosen, why
    gil_cpythons = [
        column
        for column in columns
        if column.interpreter.implementation == "cpython" and not column.interpreter.free_threaded and column.benchmarks
    ]
    if gil_cpythons:
        # max() keeps the first of equal versions: run order breaks ties.
        newest = max(gil_cpythons, key=lambda column: column.interpreter.version_tuple)
        return newest.id, "the newest GIL-enabled CPython of the run"
    measured = [column for column in columns if column.benchmarks]
    if measured:
        return measured[0].id, "no GIL-enabled CPython has results, so the first interpreter that has"
    return None, "no interpreter has results"


def load_run(run_dir: RunDir, baseline: str | None = None, workloads: Sequence[Workload] | None = None) -> Run:
    """Read a run folder; ``workloads`` replaces the registry (tests use smaller sizes)."""
    info = run_dir.read_run()
    selected = external.workloads_of_run(info, WORKLOADS if workloads is None else workloads)
    cell_names = {cell.name for workload in selected for cell in workload.cells()}
    discovered = {record["id"]: record for record in info.get("discovered", [])}
    columns: list[Column] = []
    unknown: dict[str, list[str]] = {}
    for interpreter_id in info["interpreters"]:
        benchmarks, foreign = _load_benchmarks(run_dir.results_file(interpreter_id), cell_names)
        for name in foreign:
            unknown.setdefault(name, []).append(interpreter_id)
        columns.append(
            Column(_interpreter(run_dir, interpreter_id, discovered), benchmarks, run_dir.read_failures(interpreter_id))
        )
    chosen, reason = choose_baseline(columns, baseline, info.get("baseline"))
    try:
        profile: Profile | None = profile_of_run(info)
    except ValueError:  # a profile since renamed: the method section falls back on what the files say
        profile = None
    return Run(run_dir, info, selected, columns, chosen, reason, profile, unknown)


# --------------------------------------------------------------------------------------------------------------------
# Numbers and their wording


def speed_ratio(baseline: pyperf.Benchmark, benchmark: pyperf.Benchmark) -> float:
    """How many times faster ``benchmark`` is than ``baseline`` (below 1: slower)."""
    return baseline.mean() / benchmark.mean()


def times(ratio: float) -> str:
    """``1.52×``, ``15.3×``, ``153×``: three significant digits are all a benchmark can back."""
    if ratio >= 100:
        return f"{ratio:.0f}×"
    return f"{ratio:.1f}×" if ratio >= 10 else f"{ratio:.2f}×"


def speed_text(ratio: float) -> str:
    """``1.52× faster`` or ``1.30× slower``, for a ratio from ``speed_ratio``."""
    return f"{times(ratio)} faster" if ratio >= 1 else f"{times(1 / ratio)} slower"


def is_memory(benchmark: pyperf.Benchmark) -> bool:
    """A memory cell (pyperf --track-memory): its values are peak bytes, not seconds."""
    return benchmark.get_unit() == "byte"


def memory_ratio_text(ratio: float) -> str:
    """``1.52× less memory`` or ``1.30× more memory``, for a ratio of baseline over cell."""
    return f"{times(ratio)} less memory" if ratio >= 1 else f"{times(1 / ratio)} more memory"


def percent(fraction: float, signed: bool = False) -> str:
    return f"{fraction * 100:+.1f} %" if signed else f"{fraction * 100:.1f} %"


def significance(baseline: pyperf.Benchmark, benchmark: pyperf.Benchmark) -> str | None:
    """``None`` when pyperf's t-test says the two cells differ, ``"n.s."`` when it does not, or ``"not tested"``.

    pyperf's test is Student's two-sample t-test, which assumes samples of equal size: cells with different numbers
    of values (a failed round, a resumed run) are not tested rather than assumed to differ.
    """
    values1, values2 = baseline.get_values(), benchmark.get_values()
    if len(values1) != len(values2) or len(values1) < 2:
        return "not tested"
    try:
        significant, _ = is_significant(values1, values2)
    except ZeroDivisionError:  # both samples without any variance: the test has nothing to divide by
        return "not tested"
    return None if significant else "n.s."


def relative_stdev(benchmark: pyperf.Benchmark) -> float | None:
    return benchmark.stdev() / benchmark.mean() if benchmark.get_nvalue() >= 2 else None


def time_text(benchmark: pyperf.Benchmark) -> str:
    """pyperf's ``mean ± std dev`` in its own units."""
    if benchmark.get_nvalue() < 2:
        return benchmark.format_value(benchmark.mean())
    return "%s ± %s" % tuple(benchmark.format_values([benchmark.mean(), benchmark.stdev()]))


def not_run_text(outcome: Outcome, complete: bool) -> str:
    """``— not run: crash``; a cell without a result or a failure was not reached yet, or is new since the run."""
    if isinstance(outcome, CellFailure):
        if outcome.kind == "unavailable":
            # Why a binding cannot exist here is the finding itself (e.g. cffi on 3.13t): say it in the cell.
            return f"{NOT_RUN} unavailable: {_md(_first_sentence(outcome.reason))}"
        return f"{NOT_RUN} not run: {outcome.kind}"
    return f"{NOT_RUN} not in this run" if complete else f"{NOT_RUN} not run yet"


def cell_text(benchmark: pyperf.Benchmark, baseline: pyperf.Benchmark | None, is_baseline: bool, fastest: bool) -> str:
    """One cell of a workload table: ``12.3 ms ± 0.4 ms · 1.52× faster``, bold when fastest in its row."""
    text = time_text(benchmark)
    binding = binding_used(benchmark)
    if binding is not None and benchmark.get_name().split("/", 1)[1].startswith("compiled"):
        # `compiled` is whichever binding is best on that interpreter: never let it pass for another row's number.
        text += f" via {binding}"
    if is_baseline:
        text += " · baseline"
    elif baseline is not None:
        text += " · " + (memory_ratio_text if is_memory(benchmark) else speed_text)(speed_ratio(baseline, benchmark))
        mark = significance(baseline, benchmark)
        if mark is not None:
            text += f" ({mark})"
    return f"**{text}**" if fastest else text


def _first_sentence(reason: str) -> str:
    """The gist of a long reason for a table cell (the failures table keeps it whole): the part after the last
    ``failed:`` (what the tool itself said), up to its first full stop."""
    gist = reason.rsplit("failed: ", 1)[-1]
    return gist.split(". ", 1)[0].rstrip(".")


def binding_used(benchmark: pyperf.Benchmark) -> str | None:
    """The compiled binding the cell's worker processes ran (recorded by the harness), if any."""
    used = {run.get_metadata().get(BINDING_METADATA) for run in benchmark.get_runs() if run.values} - {None}
    return ", ".join(sorted(used)) or None


def _md(text: str) -> str:
    """Free text (failure reasons) made safe for one markdown table cell."""
    return " ".join(text.split()).replace("|", "\\|")


def _table(headers: Sequence[str], rows: Iterable[Sequence[object]]) -> str:
    return tabulate(list(rows), headers=list(headers), tablefmt="github", disable_numparse=True)


def size_text(workload: Workload, size: int) -> str:
    return f"{workload.size_label}={size:,}"


def row_label(workload: Workload, cell: Cell) -> str:
    """``threads ×2``, plus the size when the workload is measured at several."""
    return f"{cell.label} {size_text(workload, cell.size)}" if len(workload.sizes) > 1 else cell.label


def version_text(interpreter: Interpreter) -> str:
    if interpreter.implementation == "pypy":
        return f"{interpreter.version} (PyPy {interpreter.implementation_version})"
    return interpreter.version


def common_ratios(run: Run, baseline: Column, column: Column) -> list[float]:
    """``column``'s speed-ups over ``baseline``, over the cells both ran."""
    ratios = []
    for cell in run.cells:
        base, bench = baseline.benchmark(cell), column.benchmark(cell)
        if base is not None and bench is not None and not is_memory(bench):
            ratios.append(speed_ratio(base, bench))
    return ratios


def geometric_means(run: Run) -> dict[str, tuple[float, int]]:
    """Per interpreter: pyperf's geometric mean of its speed-ups over the baseline, and how many cells it covers.

    Only cells that ran on both count, so a column that failed a slow cell is not flattered or punished by it.
    """
    baseline = run.baseline_column
    if baseline is None:
        return {}
    means = {}
    for column in run.columns:
        ratios = common_ratios(run, baseline, column)
        if ratios:
            means[column.id] = (geometric_mean(ratios), len(ratios))
    return means


def fastest(run: Run, cell: Cell) -> Column | None:
    """The column with the lowest mean for ``cell``; the first in run order on a tie."""
    measured = [column for column in run.columns if column.benchmark(cell) is not None]
    return min(measured, key=lambda column: column.benchmark(cell).mean(), default=None)


def values_by_round(benchmark: pyperf.Benchmark) -> dict[int, list[float]]:
    """A cell's values split by the interleaving round (``interpmatrix_round`` metadata) their worker ran in."""
    rounds: dict[int, list[float]] = {}
    for run in benchmark.get_runs():
        round_number = run.get_metadata().get(ROUND_METADATA)
        if run.values and round_number is not None:
            rounds.setdefault(round_number, []).extend(run.values)
    return rounds


def gil_states(column: Column) -> dict[bool, int]:
    """GIL state -> how many of the column's cells had worker processes that recorded it."""
    states: dict[bool, int] = {}
    for benchmark in column.benchmarks.values():
        recorded = {run.get_metadata().get(GIL_METADATA) for run in benchmark.get_runs() if run.values} - {None}
        for state in recorded:
            states[bool(state)] = states.get(bool(state), 0) + 1
    return states


def gil_at_run_time(column: Column) -> str:
    """``on`` / ``off`` as the worker processes recorded it, and whether that contradicts the probe.

    A free-threaded build turns the GIL back on when an extension without free-threading support is imported, so
    the probe's answer (a bare interpreter) is not proof of what the kernels ran with.
    """
    states = gil_states(column)
    probe = "on" if column.interpreter.gil_enabled else "off"
    if not states:
        return f"{probe} (probe; no run recorded it)"
    if len(states) > 1:
        return f"varies: on in {states[True]} cells, off in {states[False]}"
    text = "on" if True in states else "off"
    return text if text == probe else f"{text} (the probe said {probe})"


def gil_word(column: Column) -> str:
    """``GIL on`` / ``GIL off`` / ``GIL varies`` for prose, as the runs recorded it (else as the probe said)."""
    states = gil_states(column) or {column.interpreter.gil_enabled: 0}
    if len(states) > 1:
        return "GIL varies"
    return "GIL on" if True in states else "GIL off"


def steps_left(run: Run) -> int:
    """pyperf invocations (one cell, one interpreter, one round) an interrupted run still owes."""
    if run.profile is None:
        return 0
    left = 0
    for column in run.columns:
        for cell in run.cells:
            outcome = column.outcome(cell)
            if isinstance(outcome, CellFailure):
                continue
            done = len(values_by_round(outcome)) if outcome is not None else 0
            left += max(run.profile.rounds - done, 0)
    return left


def noise(run: Run) -> list[tuple[float, Column, Cell]]:
    """Relative std dev of every measured cell, noisiest first."""
    found = []
    for column in run.columns:
        for cell in run.cells:
            benchmark = column.benchmark(cell)
            rsd = relative_stdev(benchmark) if benchmark is not None else None
            if rsd is not None:
                found.append((rsd, column, cell))
    return sorted(found, key=lambda item: (-item[0], item[2].name, item[1].id))


def thread_scaling(run: Run) -> list[tuple[Workload, int, dict[str, float]]]:
    """Per workload and size with a ``threads`` variant at 1 and 2 workers: each column's ×2-over-×1 speed-up."""
    found = []
    for workload in run.workloads:
        for size in workload.sizes:
            one, two = Cell(workload.name, "threads", 1, size), Cell(workload.name, "threads", 2, size)
            if one not in workload.cells() or two not in workload.cells():
                continue
            speedups = {}
            for column in run.columns:
                bench1, bench2 = column.benchmark(one), column.benchmark(two)
                if bench1 is not None and bench2 is not None:
                    speedups[column.id] = speed_ratio(bench1, bench2)
            found.append((workload, size, speedups))
    return found


def _date(text: str | None) -> str:
    if not text:
        return "unknown"
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is None:  # never the local zone of whoever rebuilds the report: cli.py writes UTC
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")


def _duration(seconds: float | None) -> str:
    """``m:ss`` (``h:mm:ss`` past an hour)."""
    if seconds is None:
        return "not finished"
    minutes, secs = divmod(int(round(seconds)), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def _requirement_version(requirements: Sequence[str], name: str) -> str:
    for requirement in requirements:
        project, _, version = requirement.partition("==")
        if project.strip().lower() == name:
            return version.strip() or requirement
    return "unknown"


def profile_text(run: Run) -> str:
    name = run.info["profile"]
    profile = run.profile
    if profile is None:
        return f"`{name}` (no longer defined; see Method for what the files say)"
    return (
        f"`{name}` ({profile.description}): {profile.warmups} warm-up per process, {profile.jit_warmups} with a JIT; "
        f"min time {profile.min_time:g} s; cell time limit {profile.cell_timeout:g} s"
    )


def _cell_count(run: Run) -> tuple[int, int, int]:
    """Cells (interpreter × cell) measured, failed, and not run yet."""
    measured = failed = missing = 0
    for column in run.columns:
        for cell in run.cells:
            outcome = column.outcome(cell)
            if isinstance(outcome, pyperf.Benchmark):
                measured += 1
            elif isinstance(outcome, CellFailure):
                failed += 1
            else:
                missing += 1
    return measured, failed, missing


# --------------------------------------------------------------------------------------------------------------------
# Sections


def header_section(run: Run) -> str:
    """Title, machine (each machine, for a merged run), command, profile, and how trustworthy the figures are."""
    info, host = run.info, run.info.get("host", {})
    lines = [f"# interpmatrix report: {run.run_id}", ""]
    if _machines(run):
        lines += _machines_lines(run)
    else:
        lines += [
            f"- **Date:** {_date(info.get('started'))}",
            f"- **CPU:** {host.get('cpu', 'unknown')}, {host.get('cores', '?')} cores",
            f"- **OS:** {host.get('os', 'unknown')}",
            f"- **pyperf:** {_requirement_version(info.get('bench_requirements', []), 'pyperf')}",
            f"- **Command:** `{info.get('command', '?')}`",
            f"- **Profile:** {profile_text(run)}",
            f"- **Wall time:** {_duration(info.get('wall_time'))}",
        ]
    if info.get("status") != "complete" and _machines(run):
        # A merged run is not resumed: each unfinished machine resumes its own run, then the runs are merged again.
        lines += _unfinished_machines_lines(run)
    elif info.get("status") != "complete":
        lines.append(
            f"- **Status: not complete** (run.json says {info.get('status', 'nothing')!r}): {steps_left(run)} steps "
            f"not run — resume with `nox -s matrix -- --resume {run.run_id}`"
        )
    if run.baseline is not None:
        lines.append(f"- **Baseline:** {run.baseline} ({run.baseline_reason})")
    else:
        lines.append(f"- **Baseline:** none ({run.baseline_reason})")
    measured, failed, missing = _cell_count(run)
    cells = f"- **Cells:** {measured} of {measured + failed + missing} ran, {failed} failed"
    if missing:
        cells += f", {missing} {'not in this run' if run.complete else 'not run yet'}"
    lines.append(cells + (" (see [Cells that did not run](#cells-that-did-not-run))" if failed or missing else ""))
    spread = noise(run)
    if spread:
        worst, worst_column, worst_cell = spread[0]
        noisy = sum(1 for rsd, _, _ in spread if rsd > NOISY_RSD)
        lines.append(
            f"- **Relative std dev** (std dev / mean): median {percent(statistics.median(r for r, _, _ in spread))}, "
            f"max {percent(worst)} ({worst_column.id}, `{worst_cell.name}`); {noisy} of {len(spread)} cells "
            f"above {percent(NOISY_RSD)}"
        )
    return "\n".join(lines)


def _machines(run: Run) -> dict[str, dict[str, Any]]:
    """A merged run's machines in column order: name -> that machine's own run (run.json's ``machines``, written by
    ``python -m interpmatrix merge``); empty for the run of one machine."""
    return run.info.get("machines") or {}


def _machine(run: Run, interpreter_id: str) -> str | None:
    """The machine a column of a merged run ran on (its id ends ``@<machine>``); None for the run of one machine, so
    whatever keeps to "columns of the same machine" takes every column there."""
    if not _machines(run):
        return None
    return split_machine_id(interpreter_id)[1]


def _machine_columns(run: Run, machine: str) -> list[Column]:
    return [column for column in run.columns if _machine(run, column.id) == machine]


def _machine_profile(facts: dict[str, Any]) -> Profile | None:
    """The profile one machine of a merged run measured with; None when its name is no longer defined."""
    try:
        return profile_of_run(facts)
    except ValueError:
        return None


def _machine_profile_text(facts: dict[str, Any]) -> str:
    """One machine's profile and what it does: `` `quick` (a first look: …) ``."""
    profile = _machine_profile(facts)
    name = f"`{facts.get('profile')}`"
    return name if profile is None else f"{name} ({profile.description})"


def _machine_profile_counts(facts: dict[str, Any]) -> str:
    """One machine's profile with its numbers: `` `quick` (1 round × 1 fresh worker process × 3 values; …) ``."""
    profile = _machine_profile(facts)
    name = f"`{facts.get('profile')}`"
    if profile is None:
        return f"{name} (no longer defined; the table below says what the files hold)"
    return (
        f"{name} ({_plural(profile.rounds, 'round', 'rounds')} × "
        f"{_plural(profile.processes_per_round, 'fresh worker process', 'fresh worker processes')} × "
        f"{profile.values} values; {profile.warmups} warm-up, {profile.jit_warmups} for a JIT; min time "
        f"{profile.min_time:g} s)"
    )


def _unequal_samples_text() -> str:
    """Why two machines measured with different profiles are not compared by pyperf's t-test."""
    return (
        "pyperf's t-test needs samples of equal size, so it is not run between columns of two machines whose "
        "profiles give a cell different numbers of values, against the baseline included: there the mark says "
        "\"not tested\""
    )


def _machines_lines(run: Run) -> list[str]:
    """The header of a merged run: each machine with its own run, then what they share (pyperf, profile)."""
    info, machines = run.info, _machines(run)
    lines = [f"- **Machines:** {len(machines)} runs merged, one per machine; a column's id ends with `@<machine>`:"]
    for name, facts in machines.items():
        host = facts.get("host") or {}
        lines.append(
            f"    - **{name}:** {host.get('cpu', 'unknown')}, {host.get('cores', '?')} cores; "
            f"{host.get('os', 'unknown')}; run `{facts.get('run_id', '?')}` (`{facts.get('command', '?')}`), "
            f"profile `{facts.get('profile')}`, {_date(facts.get('started'))}, wall time "
            f"{_duration(facts.get('wall_time'))}"
        )
    versions = {name: _requirement_version(facts.get("bench_requirements", []), "pyperf")
                for name, facts in machines.items()}
    if len(set(versions.values())) == 1:
        pyperf_text = next(iter(versions.values()))
    else:
        pyperf_text = ", ".join(f"{version} on {name}" for name, version in versions.items())
    if info.get("profiles_differ"):
        profiles = ", ".join(f"{_machine_profile_text(facts)} on {name}" for name, facts in machines.items())
        profile = f"differs between machines: {profiles}. {_unequal_samples_text()}."
    else:
        profile = f"{profile_text(run)}; on every machine"
    wall_time = _duration(info.get("wall_time"))
    if info.get("wall_time") is not None:
        wall_time += " (the machines' own wall times added up)"
    return lines + [
        f"- **pyperf:** {pyperf_text}",
        f"- **Command:** `{info.get('command', '?')}`",
        f"- **Profile:** {profile}",
        f"- **Wall time:** {wall_time}",
    ]


def _unfinished_machines_lines(run: Run) -> list[str]:
    """A status line per machine whose own run did not finish: that run, on that machine, is what resumes."""

    lines = []
    for name, facts in _machines(run).items():
        if facts.get("status") == "complete":
            continue
        # The steps that machine's columns still owe under the profile it measured with.
        left = steps_left(replace(run, columns=_machine_columns(run, name), profile=_machine_profile(facts)))
        lines.append(
            f"- **Status: not complete** on {name} (its run.json says {facts.get('status') or 'nothing'!r}): {left} "
            f"steps not run — resume its own run there with `nox -s matrix -- --resume {facts.get('run_id', '?')}`, "
            "then merge the runs again"
        )
    return lines


def _ranking_line(run: Run) -> str | None:
    means = geometric_means(run)
    if not means or run.baseline is None:
        return None
    ranked = sorted(means.items(), key=lambda item: -item[1][0])
    parts = [
        f"{rank}. {iid} (baseline)" if iid == run.baseline else f"{rank}. {iid} {speed_text(mean)} ({count} cells)"
        for rank, (iid, (mean, count)) in enumerate(ranked, start=1)
    ]
    return (
        f"- **Overall** (geometric mean of speed-ups over {run.baseline}, on the cells both ran): "
        + "; ".join(parts)
        + "."
    )


def _threads_line(run: Run, workload: Workload, size: int, speedups: dict[str, float]) -> str:
    if not speedups:
        return f"- **Threads** ({workload.name}): no interpreter ran both threads ×1 and threads ×2."
    parts = [f"{iid} {times(ratio)} ({gil_word(run.column(iid))})" for iid, ratio in speedups.items()]
    parallel = [iid for iid, ratio in speedups.items() if ratio >= PARALLEL_SPEEDUP]
    line = (
        f"- **Threads** ({workload.name}, {size_text(workload, size)}; speed-up of threads ×2 over threads ×1): "
        + ", ".join(parts)
        + ". "
    )
    if parallel:
        line += f"Only {', '.join(parallel)} gained {times(PARALLEL_SPEEDUP)} or more: its threads ran in parallel."
        if len(parallel) > 1:
            line = line.replace("its threads", "their threads")
    else:
        line += f"No interpreter gained {times(PARALLEL_SPEEDUP)} or more from the second thread."
    cores = run.info.get("host", {}).get("cores")
    if isinstance(cores, int) and cores < 2:
        line += f" This machine has {cores} core, so threads could not run in parallel at all."
    return line


def summary_lines(run: Run) -> list[str]:
    """What the verdict adds after its answers per kind of code: the overall ranking, what threads bought, how noisy
    the run was."""
    lines = []
    ranking = _ranking_line(run)
    if ranking:
        lines.append(ranking)
    lines += [_threads_line(run, *found) for found in thread_scaling(run)]
    spread = noise(run)
    noisy = sum(1 for rsd, _, _ in spread if rsd > NOISY_RSD)
    if noisy:
        lines.append(
            f"- {noisy} of {len(spread)} cells vary by more than {percent(NOISY_RSD)} (relative std dev); "
            "(n.s.) in the tables marks the differences from the baseline that pyperf's t-test cannot tell from noise."
        )
    return lines


@dataclass(frozen=True)
class ClaimResult:
    """A claim's measured ratio on one interpreter, and whether the claim holds there."""

    ratio: float
    holds: bool
    # pyperf's t-test mark when the two cells could not be told apart ("n.s.") or not tested.
    mark: str | None


def claim_result(claim: Claim, slow: pyperf.Benchmark | None, fast: pyperf.Benchmark | None) -> ClaimResult | None:
    """The claim's ratio from two cells, or None when either did not run.

    A promised gain must also be significant by pyperf's t-test; "does not speed up" holds on a difference the test
    cannot tell from noise as well. (A memory cell's values are peak bytes, one per worker process.)
    """
    if slow is None or fast is None:
        return None
    ratio = slow.mean() / fast.mean()
    mark = significance(fast, slow)
    if claim.at_least is not None:
        holds = ratio >= claim.at_least and mark is None
    else:
        holds = ratio <= claim.at_most
    return ClaimResult(ratio, holds, mark)


def claim_results(run: Run, claim: Claim) -> dict[str, ClaimResult | None]:
    """Per interpreter of the run (without the JIT ones, for a claim against the JIT): the claim's result.

    Against the JIT means against the first JIT of the same machine: in a merged run, another machine's JIT would
    mix the two machines into the ratio.
    """
    slow_cell, fast_cell = Cell.parse(claim.slow), Cell.parse(claim.fast)
    results: dict[str, ClaimResult | None] = {}
    if claim.versus_jit:
        jits: dict[str | None, Column] = {}
        for column in run.columns:
            if column.interpreter.is_jit:
                jits.setdefault(_machine(run, column.id), column)
        for column in run.columns:
            if column.interpreter.is_jit:
                continue
            jit = jits.get(_machine(run, column.id))
            fast = jit.benchmark(fast_cell) if jit is not None else None
            results[column.id] = claim_result(claim, column.benchmark(slow_cell), fast)
        return results
    for column in run.columns:
        results[column.id] = claim_result(claim, column.benchmark(slow_cell), column.benchmark(fast_cell))
    return results


def claim_verdict(results: dict[str, ClaimResult | None]) -> str:
    """"holds", "holds only on …", "no longer holds" or "not measured", over the interpreters that measured it."""
    measured = {iid: result for iid, result in results.items() if result is not None}
    if not measured:
        return "not measured"
    holding = [iid for iid, result in measured.items() if result.holds]
    if len(holding) == len(measured):
        return "holds"
    if not holding:
        return "no longer holds"
    return f"holds only on {', '.join(holding)}"


def _claim_result_text(result: ClaimResult | None) -> str:
    if result is None:
        return NOT_RUN
    text = times(result.ratio) + (f" ({result.mark})" if result.mark else "")
    return f"**{text}** ✓" if result.holds else f"{text} ✗"


def claims_section(run: Run) -> str | None:
    """Each seed claim beside today's figure per interpreter, and whether it still holds here."""
    cells = {cell.name for cell in run.cells}
    claims = [claim for claim in CLAIMS if claim.slow in cells and claim.fast in cells]
    if not claims:
        return None
    columns = run.columns
    rows = []
    for claim in claims:
        results = claim_results(run, claim)
        rows.append(
            [
                f"{_md(claim.statement)} ({', '.join(seed.split(' ', 1)[0] for seed in claim.seeds)})",
                claim.test,
                *(_claim_result_text(results[column.id]) if column.id in results else "n/a" for column in columns),
                claim_verdict(results),
            ]
        )
    return "\n".join(
        [
            "## Do the seeds' claims still hold?",
            "",
            "Each claim from the texts the workloads are built on (their seed numbers in brackets), tested by the ratio of two cells of this "
            "run on each interpreter: ✓ where the ratio passes the test, ✗ where it does not; a promised speed-up must "
            "also pass pyperf's t-test ((n.s.): it did not). The verdict counts only the interpreters that ran both "
            "cells; \"n/a\" is the JIT itself in a claim measured against it.",
            "",
            _table(["claim (seed)", "test", *(column.id for column in columns), "verdict"], rows),
        ]
    )


def _not_selected_reason(interpreter: Interpreter) -> str:
    if not interpreter.supported:
        return f"too old: the workloads need Python {'.'.join(map(str, MIN_SUPPORTED))}+"
    return "not selected (use `--interpreters all`)"


def packages_text(run: Run, column: Column) -> str:
    """The workloads' packages in this interpreter's venv: their versions, or "not installable"."""
    record = run.run_dir.read_interpreter(column.id) or {}
    parts = []
    for name, package in sorted((record.get("packages") or {}).items()):
        parts.append(f"{name} {package.get('version') or '?'}" if package.get("ok") else f"{name}: not installable")
    return ", ".join(parts) or NOT_RUN


def interpreters_section(run: Run) -> str:
    """What each column is, as the interpreter itself reported, and the interpreters found but left out."""
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
            packages_text(run, column),
            "baseline" if column.id == run.baseline else "",
        ]
        for column in run.columns
    ]
    lines = ["## Interpreters", "", _table(headers, rows)]
    in_run = {column.id for column in run.columns}
    left_out: dict[str, list[str]] = {}
    for record in run.info.get("discovered", []):
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


def _legend(run: Run) -> str:
    if run.baseline is None:
        return "Each cell: mean ± std dev (pyperf); **bold**: fastest in its row."
    return (
        f"Each cell: mean ± std dev (pyperf), then the speed against the baseline, {run.baseline}; **bold**: fastest "
        "in its row; (n.s.): not significantly different from the baseline (pyperf's two-tailed t-test, 95 %)."
    )


def workload_table(run: Run, workload: Workload) -> str:
    """Rows: the workload's cells; columns: the run's interpreters."""
    baseline = run.baseline_column
    rows = []
    for cell in workload.cells():
        winner = fastest(run, cell)
        base = baseline.benchmark(cell) if baseline is not None else None
        row = [row_label(workload, cell)]
        for column in run.columns:
            outcome = column.outcome(cell)
            if isinstance(outcome, pyperf.Benchmark):
                row.append(cell_text(outcome, base, column.id == run.baseline, column is winner))
            else:
                row.append(not_run_text(outcome, run.complete))
        rows.append(row)
    return _table(["cell", *(column.id for column in run.columns)], rows)


def user_workload_lines(run: Run, workload: Workload) -> list[str]:
    """What the reader's own workload is: its file, as read when the run was planned, and how it was checked."""
    planned = next((found for found in external.files_of_run(run.info) if found.name == workload.name), None)
    lines = [f"### {workload.name}", "", f"{workload.claim}", ""]
    if planned is None:
        return lines + [f"From `{workload.source}`.", ""]
    requirements = ", ".join(f"`{r}`" for r in planned.requirements) or "none"
    timed = "`bench(loops)`, which times its own loops" if planned.timed == "bench" else "`run()`"
    return lines + [
        f"- File: `{planned.path}` (sha256 {planned.sha256[:12]}), read in place, not copied",
        f"- Timed: {timed}{', after `setup()` once per process' if planned.has_setup else ''}",
        f"- Check: {planned.checked_by}",
        f"- Requirements (installed per interpreter): {requirements}",
        "",
    ]


def workload_section(run: Run, workload: Workload) -> str:
    """One workload: the claim it tests, its variants, and its table."""
    if workload.source is not None:
        lines = [*user_workload_lines(run, workload), workload_table(run, workload)]
        if any(column.benchmark(cell) is None for column in run.columns for cell in workload.cells()):
            lines += ["", f"{NOT_RUN}: see [Cells that did not run](#cells-that-did-not-run) for the reasons."]
        return "\n".join(lines)
    variants = [
        f"- `{variant.name}`{' (reference)' if variant.name == workload.reference else ''}: {variant.description}"
        for variant in workload.variants
    ]
    lines = [
        f"### {workload.name}",
        "",
        f"Claim: {workload.claim}.",
        "",
        f"Seeds: {'; '.join(workload.seeds)}. Measured at {', '.join(size_text(workload, s) for s in workload.sizes)}.",
        "",
        *variants,
        "",
        workload_table(run, workload),
    ]
    if any(column.benchmark(cell) is None for column in run.columns for cell in workload.cells()):
        lines += ["", f"{NOT_RUN}: see [Cells that did not run](#cells-that-did-not-run) for the reasons."]
    return "\n".join(lines)


def workload_sections(run: Run) -> str:
    """The workload sections under their group headings (registry.GROUPS order), in registry order within one."""
    parts, group = [], None
    for workload in sorted(run.workloads, key=lambda w: GROUPS.index(w.group) if w.group in GROUPS else len(GROUPS)):
        if workload.group != group:
            group = workload.group
            parts.append(f"## {group}\n\n{_legend(run)}")
        parts.append(workload_section(run, workload))
    refused = run.info.get("workload_file_errors") or []
    if refused:
        if group != external.USER_GROUP:
            parts.append(f"## {external.USER_GROUP}")
        parts.append(
            "Files given with `--workload-file` that did not run anywhere (`nox -s workloads -- --check FILE` "
            "checks a file):\n\n" + "\n".join(f"- `{item['path']}`: {_md(item['error'])}" for item in refused)
        )
    return "\n\n".join(parts)


def _scaling_text(base: pyperf.Benchmark | None, bench: pyperf.Benchmark | None, workers: int) -> str:
    if base is None or bench is None:
        return NOT_RUN
    ratio = speed_ratio(base, bench)
    return f"{times(ratio)} ({ratio / workers * 100:.0f} %)"


def scaling_rows(run: Run, workload: Workload) -> list[list[str]]:
    """Rows of the scaling table for one workload's variants with workers (see ``scaling_section``)."""
    rows = []
    if workload.variant(workload.reference).workers:
        return _rows_against_reference_at_same_n(run, workload)
    for size in workload.sizes:
        size_note = f" {size_text(workload, size)}" if len(workload.sizes) > 1 else ""
        reference = Cell(workload.name, workload.reference, None, size)
        has_serial = reference in workload.cells()
        for variant in workload.variants:
            if not variant.workers or (variant.sizes and size not in variant.sizes):
                continue
            one = Cell(workload.name, variant.name, 1, size)
            for workers in variant.workers:
                cell = Cell(workload.name, variant.name, workers, size)
                rows.append(
                    [f"{workload.name} {cell.label}{size_note}"]
                    + [_scaling_text(c.benchmark(one), c.benchmark(cell), workers) for c in run.columns]
                )
            if has_serial and variant.binding is None and not workload.requirements:
                # The reference runs without workers: comparing with it shows what splitting the work costs or
                # brings against not splitting it at all. Compiled threaded variants do a larger, fixed amount of
                # work in C, and a package's threads (numexpr) run another implementation altogether, so only their
                # own 1-worker cell compares with them.
                for workers in variant.workers:
                    if workers == 1:
                        continue
                    cell = Cell(workload.name, variant.name, workers, size)
                    rows.append(
                        [f"{workload.name} {cell.label}{size_note} vs {workload.reference}"]
                        + [_scaling_text(c.benchmark(reference), c.benchmark(cell), workers) for c in run.columns]
                    )
    return rows


def _rows_against_reference_at_same_n(run: Run, workload: Workload) -> list[list[str]]:
    """A workload whose work grows with N (N clients of io_threads): each variant at N against the reference at the
    same N; N times faster is perfect overlap."""
    rows = []
    for size in workload.sizes:
        size_note = f" {size_text(workload, size)}" if len(workload.sizes) > 1 else ""
        for variant in workload.variants:
            if variant.name == workload.reference:
                continue
            for workers in variant.workers:
                cell = Cell(workload.name, variant.name, workers, size)
                reference = Cell(workload.name, workload.reference, workers, size)
                rows.append(
                    [f"{workload.name} {cell.label}{size_note} vs {workload.reference} ×{workers}"]
                    + [_scaling_text(c.benchmark(reference), c.benchmark(cell), workers) for c in run.columns]
                )
    return rows


def scaling_section(run: Run) -> str | None:
    """Speed-up over one worker and parallel efficiency, for every variant with workers; None when there is none."""
    rows = [row for workload in run.workloads for row in scaling_rows(run, workload)]
    if not rows:
        return None
    cores = run.info.get("host", {}).get("cores", "?")
    return "\n".join(
        [
            "## Scaling with workers",
            "",
            "Speed-up over the same variant with 1 worker, and parallel efficiency (speed-up / workers) in brackets: "
            "100 % is perfect scaling. Rows ending \"vs serial\" compare with the reference variant, which uses no "
            "workers; rows ending \"vs serial ×N\" (I/O) compare N clients served one after another with the same N "
            f"clients overlapped, where N times faster is perfect. This machine has {cores} cores.",
            "",
            _table(["cells", *(column.id for column in run.columns)], rows),
        ]
    )


def geomean_section(run: Run) -> str | None:
    """Each interpreter's geometric mean of speed-ups over the baseline, fastest first."""
    if run.baseline is None:
        return None
    means = geometric_means(run)
    # Memory cells are not speeds: the geometric mean leaves them out (common_ratios), so does the count.
    metrics = {(w.name, v.name): v.metric for w in run.workloads for v in w.variants}
    total = sum(1 for cell in run.cells if metrics[cell.workload, cell.variant] == "time")
    ranked = sorted(run.columns, key=lambda column: -means.get(column.id, (0.0, 0))[0])
    rows = []
    for column in ranked:
        mean, count = means.get(column.id, (None, 0))
        speed = NOT_RUN if mean is None else "baseline" if column.id == run.baseline else speed_text(mean)
        rows.append([column.id, speed, f"{count} of {total}"])
    return "\n".join(
        [
            "## Geometric mean",
            "",
            f"pyperf's geometric mean of each interpreter's speed-ups over {run.baseline}, over the cells that ran on "
            "both: a cell that failed on one of the two counts for neither.",
            "",
            _table(["interpreter", f"speed vs {run.baseline}", "cells"], rows),
        ]
    )


# CPython's documentation ("Python support for free threading"): the single-threaded cost of a free-threaded build.
PUBLISHED_FREE_THREADING_COST = {"3.13": "about 40 % (pyperformance)", "3.14": "about 5-10 %"}


def _free_threading_figures(run: Run, ft: Column, other: Column) -> tuple[float | None, int, list[str]]:
    """(geometric-mean slowdown of single-thread cells, their count, multi-thread speed-ups) of ``ft`` vs ``other``.

    Single-thread cells are the registry's ``pure_python`` variants: what a program that never starts a thread pays
    for free-threading. Thread cells with more workers show what it buys.
    """
    single, speedups = [], []
    variants = {(w.name, v.name): v for w in run.workloads for v in w.variants}
    groups = {w.name: w.group for w in run.workloads}
    for cell in run.cells:
        base, bench = other.benchmark(cell), ft.benchmark(cell)
        if base is None or bench is None:
            continue
        # Only bytecode in one thread: C kernels, numpy, process starts and waits on I/O would dilute the cost.
        if variants[cell.workload, cell.variant].pure_python and cell.workers in (None, 1):
            single.append(bench.mean() / base.mean())
        elif cell.variant == "threads" and (cell.workers or 1) > 1 and groups[cell.workload] != "I/O":
            speedups.append(f"{cell.workload} {cell.label}: {speed_text(speed_ratio(base, bench))}")
    cost = geometric_mean(single) - 1 if single else None
    return cost, len(single), speedups


def free_threading_section(run: Run) -> str | None:
    """The cost of free-threading, measured only against a same-source GIL twin, beside the published figure.

    Against any other GIL build of the same minor (Debian's, pyenv's) the difference mixes in their build flags, so
    that comparison is shown too, labelled as such, to show how much a twin matters; in a merged run only against
    builds of the same machine (another machine's would mix in its hardware too).
    """
    in_run = {column.id: column for column in run.columns}
    lines = []
    for ft in run.columns:
        if not ft.interpreter.free_threaded:
            continue
        minor = ft.interpreter.minor
        published = PUBLISHED_FREE_THREADING_COST.get(minor, "not published")
        twin = in_run.get(ft.interpreter.twin)
        if twin is None:
            reason = "it has no same-source GIL twin in this run (`nox -s provision` builds one)"
            lines.append(f"- **{ft.id}**: not measured: {reason}. Published single-thread cost: {published}.")
        else:
            cost, count, speedups = _free_threading_figures(run, ft, twin)
            figure = "no cell ran on both" if cost is None else (
                f"{percent(cost, signed=True)} time on single-thread cells (geometric mean of {count})")
            threads = f"; with threads: {', '.join(speedups)}" if speedups else ""
            lines.append(
                f"- **{ft.id}** against its twin **{twin.id}** (same source, same flags): {figure}{threads}. "
                f"Published single-thread cost for {minor}: {published}."
            )
        for other in run.columns:
            unrelated = (other is not twin and other.interpreter.implementation == "cpython"
                         and not other.interpreter.free_threaded and other.interpreter.minor == minor
                         and _machine(run, other.id) == _machine(run, ft.id))
            if unrelated:
                cost, count, _ = _free_threading_figures(run, ft, other)
                if cost is not None:
                    lines.append(
                        f"  - against {other.id} ({other.interpreter.version}, {other.interpreter.origin} build, "
                        f"{other.interpreter.build_flags}), not a twin: {percent(cost, signed=True)} "
                        "- the difference mixes in how the two were built."
                    )
    if not lines:
        return None
    return "\n".join(["## Cost of free-threading", "", *lines])


def provisioning_lines(run: Run) -> list[str]:
    """What `nox -s provision` could not get before this run, and why: the reason a family has no column."""
    return [
        f"- not provisioned: {record['family']}: {record['error']}"
        for record in run.info.get("provisioning", [])
        if record.get("error")
    ]


def failures_section(run: Run) -> str:
    """Every cell without a number, and why."""
    rows = []
    for column in run.columns:
        for name, failure in sorted(column.failures.items()):
            cell = "all cells" if name == ALL_CELLS else f"`{name}`"
            log = f"`{failure.log}`" if failure.log else ""
            rows.append([column.id, cell, failure.kind, _md(failure.reason), log])
        if ALL_CELLS in column.failures:
            continue
        for cell in run.cells:
            if column.outcome(cell) is not None:
                continue
            if run.complete:
                # A complete run measured every cell it planned: this one was added to the registry since.
                rows.append([column.id, f"`{cell.name}`", "not in this run", "the run finished without this cell", ""])
            else:
                rows.append([column.id, f"`{cell.name}`", "not run yet", "the run stopped before this cell ran", ""])
    lines = ["## Cells that did not run", ""]
    if not rows:
        lines.append("Every cell ran on every interpreter.")
    else:
        lines.append(f"Log paths are relative to the run folder, `results/{run.run_id}/`.")
        lines += ["", _table(["interpreter", "cell", "kind", "reason", "log"], rows)]
    if run.unknown_benchmarks:
        names = ", ".join(f"`{name}`" for name in sorted(run.unknown_benchmarks))
        lines += [
            "",
            f"Left out: the result files also hold cells that the workloads no longer define: {names}.",
        ]
    return "\n".join(lines)


def round_drift(column: Column) -> dict[int, float]:
    """Per round: geometric mean over the column's cells of (that round's mean / the cell's mean over all rounds)."""
    ratios: dict[int, list[float]] = {}
    for benchmark in column.benchmarks.values():
        mean = benchmark.mean()
        for round_number, values in values_by_round(benchmark).items():
            ratios.setdefault(round_number, []).append(statistics.fmean(values) / mean)
    return {round_number: geometric_mean(found) for round_number, found in sorted(ratios.items())}


def drift_section(run: Run) -> str | None:
    """How much slower or faster each round ran than the cell's average, per interpreter."""
    drifts = {column.id: round_drift(column) for column in run.columns}
    rounds = sorted({round_number for drift in drifts.values() for round_number in drift})
    if not rounds:
        return None
    rows = []
    for interpreter_id, drift in drifts.items():
        if not drift:
            continue
        row = [interpreter_id] + [percent(drift[r] - 1, signed=True) if r in drift else NOT_RUN for r in rounds]
        rows.append(row + [percent(max(drift.values()) - min(drift.values()))])
    if _machines(run):
        # Each machine interleaved its own interpreters, at its own time: nothing interleaves two machines.
        interleaving = (
            "Rounds interleave the interpreters of one machine only, so drift of a machine during its run hits every "
            "column of that machine alike, and none of another machine's (a round number means each machine's own "
            "round); a large spread means the ratios between columns of one machine are the figures to trust, more "
            "than the absolute times or any ratio across machines."
        )
    else:
        interleaving = (
            "Rounds interleave the interpreters, so drift of the machine during the run hits every column alike; a "
            "large spread means the ratios between columns are the figures to trust, more than the absolute times."
        )
    return "\n".join(
        [
            "## Machine drift",
            "",
            "Time of each round against the cell's mean over all rounds (geometric mean over the interpreter's cells; "
            "+ is slower). " + interleaving,
            "",
            _table(["interpreter", *(f"round {r}" for r in rounds), "spread"], rows),
        ]
    )


def _plural(count: int, one: str, many: str) -> str:
    return f"{count} {one if count == 1 else many}"


def _span(numbers: Iterable[int]) -> str:
    found = sorted(set(numbers))
    if not found:
        return NOT_RUN
    return str(found[0]) if found[0] == found[-1] else f"{found[0]}–{found[-1]}"


def method_section(run: Run) -> str:
    """How the numbers were taken, from the files themselves, and the commands to check or redo them."""
    rows = []
    for column in run.columns:
        runs = [(bench, r) for bench in column.benchmarks.values() for r in bench.get_runs() if r.values]
        processes = [sum(1 for r in bench.get_runs() if r.values) for bench in column.benchmarks.values()]
        rows.append(
            [
                column.id,
                column.interpreter.jit,
                _span(processes),
                _span(len(r.values) for _, r in runs),
                _span(len(r.warmups or ()) for _, r in runs),
                _span(r.get_loops() for _, r in runs),
            ]
        )
    profile = run.profile
    results = f"results/{run.run_id}"
    baseline = run.baseline or (run.columns[0].id if run.columns else "<id>")
    other = next((column.id for column in run.columns if column.id != baseline), baseline)
    machines = _machines(run)
    lines = ["## Method", ""]
    if machines and run.info.get("profiles_differ"):
        # Each machine's own numbers: the first machine's profile (run.profile) is not the others'.
        profiles = "; ".join(
            f"{_machine_profile_counts(facts)} on {name}" for name, facts in machines.items()
        )
        lines += [
            f"Each machine measured with its own profile: {profiles}. In each round every workload runs on every "
            "interpreter of the machine before the next round starts (one pyperf invocation per workload and "
            "interpreter: each cell's answer is checked, then the cell is timed in fresh worker processes). Every "
            "interpreter of one machine gets the same processes and values, so pyperf's t-test can compare any two "
            "columns of one machine; only warm-ups differ (more for a JIT, whose first loops compile code). "
            f"{_unequal_samples_text()}. pyperf's calibration sets the loops per value in each machine's round 1 so "
            "that a value lasts at least its profile's min time; later rounds reuse them, so every value of a cell "
            "does the same work. Memory cells (`…_memory`) hold the peak private memory pyperf's `--track-memory` "
            "sampled in each worker process, one value per process.",
            "",
        ]
    elif profile is not None:
        lines += [
            f"Profile `{profile.name}`{', on every machine' if machines else ''}: "
            f"{_plural(profile.rounds, 'round', 'rounds')}; in each round every workload runs on every "
            f"interpreter{' of the machine' if machines else ''} before the next round starts (one pyperf invocation "
            "per workload and interpreter: each cell's answer is checked, then the cell is timed in "
            f"{_plural(profile.processes_per_round, 'fresh worker process', 'fresh worker processes')} × "
            f"{profile.values} values). Every interpreter{', on every machine,' if machines else ''} gets the same "
            "processes and values, so pyperf's "
            f"t-test can compare any two columns; only warm-ups differ ({profile.warmups}, or {profile.jit_warmups} "
            "for a JIT, whose first loops compile code). pyperf's calibration sets the loops per value in round 1 "
            f"so that a value lasts at least {profile.min_time:g} s; later rounds reuse them, so every value of a "
            "cell does the same work. Memory cells (`…_memory`) hold the peak private memory pyperf's "
            "`--track-memory` sampled in each worker process, one value per process.",
            "",
        ]
    lines += [
        "What the result files hold, per cell:",
        "",
        _table(["interpreter", "JIT", "worker processes", "values each", "warm-ups each", "loops per value"], rows),
    ]
    lines += [
        "",
        "To reproduce or inspect:",
        "",
        "```sh",
        *(f"{facts.get('command') or 'nox -s matrix'}  # on {name}: its own run, {facts.get('run_id', '?')}"
          for name, facts in machines.items()),
        f"{run.info.get('command', 'nox -s matrix')}  # this run",
        f"python -m pyperf show {results}/{baseline}.json",
        f"python -m pyperf compare_to {results}/{baseline}.json {results}/{other}.json --table",
        f"nox -s report -- {results}  # rebuild this report; add --baseline <id> to compare with another column",
        "```",
    ]
    return "\n".join(lines)


# --------------------------------------------------------------------------------------------------------------------
# Entry points


def render_report(
    run_dir: RunDir,
    baseline: str | None = None,
    workloads: Sequence[Workload] | None = None,
    plots: Sequence[Any] = (),
) -> str:
    """The markdown report of ``run_dir``, built from its files only, so the same files give the same text.

    ``baseline`` overrides run.json's; ``workloads`` replaces the registry (for tests); ``plots`` are the charts
    ``write_report`` drew beside it (interpmatrix.plots.Plot), embedded where they belong. Raises ``ValueError`` when
    the baseline is not an interpreter of the run.
    """
    return render_run(load_run(run_dir, baseline, workloads), plots)


def _image(plots: Sequence[Any], kind: str) -> str | None:
    """The markdown of the chart of this kind (its file name ends in ``-<kind>.png``), linked relative to the report,
    which is written in the same folder."""
    for plot in plots:
        if plot.path.name.endswith(f"-{kind}.png"):
            return f"![{plot.alt}]({plot.path.name})"
    return None


def render_run(run: Run, plots: Sequence[Any] = ()) -> str:
    from . import verdict  # it builds on this module's helpers

    opening = verdict.verdict_section(run, _image(plots, "speedup"))
    extra = summary_lines(run)
    if extra:
        opening += "\n\n" + "\n".join(extra)
    scaling = scaling_section(run)
    scaling_plot = _image(plots, "scaling")
    if scaling and scaling_plot:
        scaling += "\n\n" + scaling_plot
    sections = [
        header_section(run),
        opening,
        claims_section(run),
        free_threading_section(run),
        interpreters_section(run),
        workload_sections(run),
        verdict.warmup_section(run),
        verdict.memory_section(run, _image(plots, "memory")),
        scaling,
        geomean_section(run),
        failures_section(run),
        drift_section(run),
        method_section(run),
    ]
    return "\n\n".join(section for section in sections if section) + "\n"


def write_report(
    run_dir: RunDir,
    baseline: str | None = None,
    reports_dir: Path | None = None,
    workloads: Sequence[Workload] | None = None,
    name: str | None = None,
) -> list[Path]:
    """Write ``<reports_dir>/<run-id>.md`` and ``<reports_dir>/latest.md`` with their charts; return their paths.

    ``reports_dir`` defaults to the one recorded in run.json when the run was planned. ``name`` writes
    ``<name>.md`` and ``<name>-<chart>.png`` instead, and no latest.md (the published sample, ``--name sample``).
    """
    from . import plots as charts  # matplotlib: only the report session installs it

    run = load_run(run_dir, baseline, workloads)
    target = Path(reports_dir) if reports_dir is not None else Path(run.info["reports_dir"])
    target.mkdir(parents=True, exist_ok=True)
    # The charts sit beside the report, named after it, so <run-id>.md and latest.md both show them.
    drawn = charts.write_plots(run, target, name or run.run_id)
    text = render_run(run, drawn)
    paths = [target / f"{name}.md"] if name else [target / f"{run.run_id}.md", target / LATEST]
    for path in paths:
        path.write_text(text, encoding="utf-8")
    return paths + [plot.path for plot in drawn]
