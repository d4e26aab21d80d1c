"""A loaded run: its columns, their cells' outcomes and the facts recorded beside them — read once, never again.

``load_run`` reads everything the report, the charts and a comparison show from one run folder (run.json as a
``RunInfo``, the pyperf result files, the interpreter and failure sidecars, the packages each venv could install), so
rendering never touches the disk and the same folder always loads the same run. Nothing here computes a statistic or
writes text: that is ``stats`` and ``markdown``. A results file that cannot be read is moved aside as it is read
(``RunDir.read_results``); its interpreter's cells without a number are then failures of kind "lost", with the reason,
and every other column stands.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Union

import pyperf

from . import external
from .budget import resume_command
from .compat.tried import PACKAGES_FILE, Tried
from .discovery import Interpreter
from .harness_protocol import (
    BINDING_METADATA,
    CODE_SHIFT_METADATA,
    GIL_METADATA,
    JIT_METADATA,
    MEMORY_CALLS_METADATA,
    PARALLELISM_ONE_METADATA,
    PARALLELISM_PROBE_METADATA,
    PARALLELISM_TWO_METADATA,
    PROBE_BUFFER_METADATA,
    PROBE_METADATA,
    ROUND_METADATA,
)
from .profiles import Profile, profile_from
from .registry import WORKLOADS, Cell, Workload
from .results import CellFailure, LostResults, RunDir, split_machine_id
from .run_info import Host, MachineRun, PooledRun, RunInfo

# A failure recorded for this cell name covers every cell of the column (a venv that could not be built).
ALL_CELLS = "*"

# What a cell of the matrix holds: a benchmark with values, the failure that prevented it, or nothing (an interrupted
# run, or a cell added to the registry since).
Outcome = Union[pyperf.Benchmark, CellFailure, None]


def is_memory(benchmark: pyperf.Benchmark) -> bool:
    """A memory cell (pyperf --track-memory): its values are peak bytes, not seconds."""
    return benchmark.get_unit() == "byte"


def binding_used(benchmark: pyperf.Benchmark) -> str | None:
    """The compiled binding the cell's worker processes ran (recorded by the harness), if any."""
    used = {run.get_metadata().get(BINDING_METADATA) for run in benchmark.get_runs() if run.values} - {None}
    return ", ".join(sorted(used)) or None


def values_by_round(benchmark: pyperf.Benchmark) -> dict[int, list[float]]:
    """A cell's values split by the interleaving round (``interpmatrix_round`` metadata) their worker ran in."""
    rounds: dict[int, list[float]] = {}
    for run in benchmark.get_runs():
        round_number = run.get_metadata().get(ROUND_METADATA)
        if run.values and round_number is not None:
            rounds.setdefault(round_number, []).extend(run.values)
    return rounds


def machine_probe(run: pyperf.Run) -> float | None:
    """The seconds the harness's machine-state probe took in the worker process of ``run``, if it recorded one (a
    worker that times its kernel with its own clock does; see workloads/_harness.py).

    None too where the probe timed the interpreter rather than the machine: a PyPy process's, unless its crc32 read a
    bytes object (``PROBE_BUFFER_METADATA``). Handed the harness's mapped buffer, PyPy's zlib copied it through PyPy's
    allocator on every call, so that its probe followed what the workload left on PyPy's heap. In the default run of
    2026-12-05T04-49-17Z, PyPy 3.9's one-core probes took 0.31 to 3.3 ms (a median 0.34 ms on word_count, 1.9 ms on
    gc_cycles), CPython 3.15's 0.23 to 0.50 ms; adjusted by them, PyPy 3.9's countdown came out 54.9x as fast as
    cpython-3.15's, 44.9x without them, and timeit right after the run measured 42.4x."""
    metadata = run.get_metadata()
    probe = metadata.get(PROBE_METADATA)
    if not probe:
        return None
    if metadata.get("python_implementation") == "pypy" and metadata.get(PROBE_BUFFER_METADATA) != "bytes":
        return None
    return float(probe)


def machine_parallelism(run: pyperf.Run) -> float | None:
    """How much faster the machine ran two threads of C code than one in the worker process of ``run``, if it timed
    the parallelism probe (a CPython process of a cell on several workers does; workloads/_harness.py
    MachineParallelism): twice its one-thread seconds over its two-thread seconds, 2.0 with both cores free, 1.0 with
    one."""
    metadata = run.get_metadata()
    one, two = metadata.get(PARALLELISM_ONE_METADATA), metadata.get(PARALLELISM_TWO_METADATA)
    return 2 * float(one) / float(two) if one and two else None


# What a process that timed the parallelism probe before the harness recorded which one it was had timed.
SHARED_BUFFER_PROBE = "sha256"


def parallelism_probe(run: pyperf.Run) -> str | None:
    """Which parallelism probe the worker process of ``run`` timed (``PARALLELISM_PROBE_METADATA``; sha256 over one
    shared buffer where its run predates that record); None where it timed none."""
    if machine_parallelism(run) is None:
        return None
    return str(run.get_metadata().get(PARALLELISM_PROBE_METADATA, SHARED_BUFFER_PROBE))


@dataclass(frozen=True)
class Column:
    """One interpreter of the run: what it is, its measured cells, its failed ones, and its venv's packages."""

    interpreter: Interpreter
    # Cell name -> benchmark, only benchmarks with at least one value (a calibration alone measures nothing).
    benchmarks: dict[str, pyperf.Benchmark]
    failures: dict[str, CellFailure]
    # Package name -> what workloads/_packages.py recorded in this venv ({"ok": ..., "version": ...}).
    packages: dict[str, dict[str, Any]] = field(default_factory=dict)

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

    def gil_states(self) -> dict[bool, int]:
        """GIL state -> how many of the column's cells had worker processes that recorded it."""
        return self._recorded_states(GIL_METADATA)

    def jit_states(self) -> dict[bool, int]:
        """CPython's JIT on or off (3.14+) -> how many of the column's cells had worker processes that recorded it:
        the proof that the column's PYTHON_JIT reached the processes that timed."""
        return self._recorded_states(JIT_METADATA)

    def code_shifted(self) -> bool:
        """Whether the column's worker processes compiled a random number of small loops before their kernel's, to
        start its machine code at a random place (PyPy's: workloads/_code_layout.py)."""
        return any(CODE_SHIFT_METADATA in run.get_metadata()
                   for benchmark in self.benchmarks.values() for run in benchmark.get_runs() if run.values)

    def memory_calls(self) -> set[int]:
        """How many calls, each from a collected heap, the column's memory cells made in each worker process (the
        counts recorded: none for runs measured before memory cells did so)."""
        return {run.get_metadata()[MEMORY_CALLS_METADATA] for benchmark in self.benchmarks.values()
                for run in benchmark.get_runs() if run.values and MEMORY_CALLS_METADATA in run.get_metadata()}

    def _recorded_states(self, key: str) -> dict[bool, int]:
        states: dict[bool, int] = {}
        for benchmark in self.benchmarks.values():
            recorded = {run.get_metadata().get(key) for run in benchmark.get_runs() if run.values} - {None}
            for state in recorded:
                states[bool(state)] = states.get(bool(state), 0) + 1
        return states


def machine_profile(name: str | None, settings: Mapping[str, Any] | None) -> Profile | None:
    """The profile a run (or one machine of a merged run) measured with; None when its name is no longer defined
    and run.json kept no settings."""
    try:
        return profile_from(name, settings)
    except ValueError:
        return None


@dataclass(frozen=True)
class Run:
    """Everything the report shows, read from one run folder."""

    run_dir: RunDir
    info: RunInfo
    workloads: list[Workload]
    columns: list[Column]
    baseline: str | None
    baseline_reason: str
    profile: Profile | None
    # Benchmark name -> interpreters whose result file holds it, for names that are no cell of the selected
    # workloads (the registry changed since the run).
    unknown_benchmarks: dict[str, list[str]]
    # What installing and importing packages found on the run's interpreters (its packages.json), if it was tried.
    packages: Tried | None = None

    @property
    def run_id(self) -> str:
        return self.info.run_id

    @property
    def complete(self) -> bool:
        return self.info.complete

    @property
    def cells(self) -> list[Cell]:
        return [cell for workload in self.workloads for cell in workload.cells()]

    def why_no_result(self) -> tuple[str, str]:
        """Why a cell of the run's workloads has neither values nor a failure, in a few words and in a sentence: the
        run stopped before it, its budget ran out before it (a first pass cut short), or it is new since the run."""
        if not self.complete:
            return "not run yet", "the run stopped before this cell ran"
        if self.info.first_pass_unreached:
            return "not measured: budget spent", (
                f"the budget ran out before its turn: {resume_command(self.run_id)} measures it"
            )
        return "not in this run", "the run finished without this cell"

    def column(self, interpreter_id: str) -> Column:
        return next(column for column in self.columns if column.id == interpreter_id)

    @property
    def baseline_column(self) -> Column | None:
        return self.column(self.baseline) if self.baseline is not None else None

    # Machine probes ------------------------------------------------------------------------------------------------

    @property
    def parallelism_processes(self) -> list[pyperf.Run]:
        """The worker processes with values of the CPython columns pyperf ran: the harness times the parallelism probe
        there only (workloads/_harness.py says why)."""
        return [
            process
            for column in self.columns
            if column.interpreter.implementation == "cpython" and not column.interpreter.self_timed
            for benchmark in column.benchmarks.values()
            for process in benchmark.get_runs()
            if process.values
        ]

    @property
    def parallelism_probes(self) -> frozenset[str]:
        """Which parallelism probes those processes timed (``parallelism_probe``): more than one in a run pooled
        across a change of the probe."""
        return frozenset(found for process in self.parallelism_processes if (found := parallelism_probe(process)))

    # Machines ------------------------------------------------------------------------------------------------------

    @property
    def machines(self) -> dict[str, MachineRun]:
        """A merged run's machines in column order (each with its own run); empty for the run of one machine."""
        return self.info.machines

    @property
    def pooled(self) -> list[PooledRun]:
        """A pooled run's runs, measured on this machine at other hours (``interpmatrix.pool``); empty for a run
        measured as one."""
        return self.info.pooled

    def machine(self, interpreter_id: str) -> str | None:
        """The machine a column of a merged run ran on (its id ends ``@<machine>``); None for the run of one
        machine, so whatever keeps to "columns of the same machine" takes every column there."""
        if not self.machines:
            return None
        return split_machine_id(interpreter_id)[1]

    def machine_columns(self, machine: str | None) -> list[Column]:
        return [column for column in self.columns if self.machine(column.id) == machine]

    def compared_columns(self) -> list[Column]:
        """The columns a verdict chooses between: all of them, or in a run merged from several machines, those of
        the baseline's machine (a speed-up across two machines measures the machines as much as the
        interpreters)."""
        if self.baseline is None or not self.machines:
            return list(self.columns)
        return self.machine_columns(self.machine(self.baseline))


def _interpreter(record: Mapping[str, Any] | None, interpreter_id: str, info: RunInfo, path: Path) -> Interpreter:
    """What the venv said about itself (GIL state, JIT), else what discovery found when the run was planned."""
    discovered = {found["id"]: found for found in info.discovered}
    facts = (record or {}).get("interpreter") or discovered.get(interpreter_id)
    if facts is None:
        raise ValueError(
            f"{path}: nothing describes interpreter {interpreter_id!r} (no {interpreter_id}.interpreter.json "
            "and not in run.json's discovered list); the run folder is incomplete"
        )
    return Interpreter.from_dict(facts)


def _load_benchmarks(
    suite: pyperf.BenchmarkSuite | None, cell_names: set[str]
) -> tuple[dict[str, pyperf.Benchmark], list[str]]:
    """The benchmarks of one pyperf file that have values, and the names that are no cell of this run."""
    benchmarks, unknown = {}, []
    for benchmark in suite or ():
        name = benchmark.get_name()
        if name not in cell_names:
            unknown.append(name)
        elif benchmark.get_nvalue():
            benchmarks[name] = benchmark
    return benchmarks, unknown


def lost_cell(lost: LostResults, run_id: str) -> CellFailure:
    """A cell without a number in a column whose results file could not be read: lost with it (or, in a run that
    stopped early, not measured yet: the file cannot tell), until ``--resume`` measures it again."""
    return CellFailure(
        "lost",
        f"lost with its results file: {lost.describe()}; `nox -s matrix -- --resume {run_id}` measures it again",
        lost.moved_to,
    )


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
        if column.interpreter.implementation == "cpython" and not column.interpreter.free_threaded
        # Not a JIT's column nor another switch of the same binary: the build as most people run it.
        and not column.interpreter.is_jit and not column.interpreter.variant_of and column.benchmarks
    ]
    if gil_cpythons:
        # max() keeps the first of equal versions: run order breaks ties.
        newest = max(gil_cpythons, key=lambda column: column.interpreter.version_tuple)
        return newest.id, "the newest GIL-enabled CPython of the run, without its JIT"
    measured = [column for column in columns if column.benchmarks]
    if measured:
        return measured[0].id, "no GIL-enabled CPython has results, so the first interpreter that has"
    return None, "no interpreter has results"


def measured_host(columns: Sequence[Column], recorded: Host) -> Host:
    """The machine as pyperf recorded it in the workers' metadata (CPU model, count, host name), which is what
    measured; run.json's record where no cell ran (and for the OS, whose distribution pyperf does not name)."""
    for column in columns:
        for benchmark in column.benchmarks.values():
            metadata = benchmark.get_metadata()
            return replace(
                recorded,
                cpu=metadata.get("cpu_model_name", recorded.cpu),
                cores=metadata.get("cpu_count", recorded.cores),
                hostname=metadata.get("hostname", recorded.hostname),
            )
    return recorded


def load_run(run_dir: RunDir, baseline: str | None = None, workloads: Sequence[Workload] | None = None) -> Run:
    """Read a run folder; ``workloads`` replaces the registry (tests use smaller sizes)."""
    info = run_dir.read_info()
    selected = external.workloads_of_run(info, WORKLOADS if workloads is None else workloads)
    cell_names = {cell.name for workload in selected for cell in workload.cells()}
    columns: list[Column] = []
    unknown: dict[str, list[str]] = {}
    for interpreter_id in info.interpreters:
        unmoved: list[LostResults] = []
        benchmarks, foreign = _load_benchmarks(run_dir.read_results(interpreter_id, unmoved.append), cell_names)
        for name in foreign:
            unknown.setdefault(name, []).append(interpreter_id)
        record = run_dir.read_interpreter(interpreter_id)
        failures = run_dir.read_failures(interpreter_id)
        # A file that could not be moved aside (a read-only copy of a run) is not recorded: it is lost all the same.
        lost = [*run_dir.read_lost(interpreter_id), *(found for found in unmoved if found.moved_to is None)]
        if lost and ALL_CELLS not in failures:
            failures.update(
                (name, lost_cell(lost[-1], info.run_id))
                for name in sorted(cell_names - set(benchmarks) - set(failures))
            )
        columns.append(
            Column(
                _interpreter(record, interpreter_id, info, run_dir.path),
                benchmarks,
                failures,
                dict((record or {}).get("packages") or {}),
            )
        )
    if not info.machines:  # a merged run's machines each keep their own host (info.machines)
        info = replace(info, host=measured_host(columns, info.host))
    chosen, reason = choose_baseline(columns, baseline, info.baseline)
    # A profile since renamed: the method section falls back on what the files say.
    profile = machine_profile(info.profile, info.profile_settings)
    packages = Tried.read(run_dir.path / PACKAGES_FILE)
    return Run(run_dir, info, selected, columns, chosen, reason, profile, unknown, packages)
