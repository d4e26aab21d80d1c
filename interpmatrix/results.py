"""The on-disk layout of one matrix run, and the only code that reads or writes it.

    results/<run-id>/run.json                  the plan and the machine: selection, profile, command, host, times
    results/<run-id>/<interpreter-id>.json     pyperf's own format: ``python -m pyperf show`` works on it
    results/<run-id>/<interpreter-id>.interpreter.json
                                               what that interpreter's venv said about itself, or why it has none
    results/<run-id>/<interpreter-id>.failures.json
                                               cells that did not run there, and why
    results/<run-id>/<interpreter-id>.lost.json
                                               results files that could not be read, and where they were moved aside
                                               (``<interpreter-id>.json.corrupt-<n>``)
    results/<run-id>/steps/<interpreter-id>/   one pyperf invocation's results while it runs (``new_step_file``)
    results/<run-id>/logs/                     output of failed cells

Every file is written as soon as its content is known, atomically (``replace_atomically``), so an interrupted run
loses nothing that completed, and ``--resume`` can tell which cells are done from the files alone. pyperf rewrites
the file it appends to in place, so it appends to a step file of its own, which ``merge_step`` adds to the
interpreter's file atomically: a kill at any instant costs at most the cells of the step under way. A step file an
interrupted run left is merged by the next ``measure`` (``recover``), a cell's round never twice.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from .harness_protocol import ROUND_METADATA
from .run_info import RunInfo

if TYPE_CHECKING:
    import pyperf

RUN_FILE = "run.json"
INTERPRETER_SUFFIX = ".interpreter.json"
FAILURES_SUFFIX = ".failures.json"
LOST_SUFFIX = ".lost.json"
CORRUPT_MARK = ".corrupt-"
STEPS_DIR = "steps"
LOGS_DIR = "logs"
# What ``replace_atomically`` names its temporary files: hidden, and found again after a kill (``recover``).
TEMPORARY_SUFFIX = ".tmp"


# In a run pooled from runs of one machine at other hours (interpmatrix.pool), the run each worker process came from.
POOLED_RUN_METADATA = "interpmatrix_pooled_run"


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


def replace_atomically(path: Path, write: Callable[[IO[str]], None]) -> None:
    """Write ``path`` through ``write(handle)`` into a temporary file of the same folder, flushed to the disk, then
    renamed over ``path``: a reader, a kill or a crash at any instant finds the old file or the new one, never a part.

    The rename alone is what a kill needs; the fsyncs make it hold through a power cut too, which would otherwise be
    free to keep the rename and lose the data."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=TEMPORARY_SUFFIX)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            write(handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    folder = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(folder)
    finally:
        os.close(folder)


def write_json(path: Path, data: Any) -> None:
    """Write JSON atomically (``replace_atomically``)."""

    def write(handle: IO[str]) -> None:
        json.dump(data, handle, indent=2, sort_keys=True)
        handle.write("\n")

    replace_atomically(path, write)


def read_json(path: Path) -> Any:
    """A JSON file's content; a file that is not JSON raises ``ValueError`` naming it."""
    with path.open(encoding="utf-8") as handle:
        try:
            return json.load(handle)
        except ValueError as error:  # JSONDecodeError, and UnicodeDecodeError for bytes that are not UTF-8
            raise ValueError(f"{path} cannot be read ({error}): it is not the JSON this run wrote") from None


def rounds_done(benchmark: pyperf.Benchmark | None) -> set[int]:
    """The interleaving rounds (``ROUND_METADATA``) a cell's results hold."""
    if benchmark is None:
        return set()
    return {run.get_metadata().get(ROUND_METADATA) for run in benchmark.get_runs()} - {None}


class UnreadableResults(ValueError):
    """A pyperf results file that cannot be read: truncated, garbage, or JSON of another shape."""

    def __init__(self, path: Path, reason: str) -> None:
        super().__init__(f"{path} cannot be read ({reason})")
        self.path = path
        self.reason = reason


def load_results(path: Path) -> pyperf.BenchmarkSuite:
    """A pyperf results file (``BenchmarkSuite.load``); raises ``UnreadableResults`` naming the file when it cannot
    be read."""
    # Imported here: nox's own Python imports this module (noxfile.py) and has no pyperf.
    import pyperf

    try:
        return pyperf.BenchmarkSuite.load(str(path))
    except (ValueError, KeyError, TypeError, AttributeError, IndexError) as error:
        # ValueError covers json's errors, bytes that are not UTF-8 and pyperf's own ("the file doesn't contain any
        # benchmark"); the others are what pyperf's loader raises on JSON of another shape.
        raise UnreadableResults(path, f"{type(error).__name__}: {error}") from None


@dataclass(frozen=True)
class LostResults:
    """A results file that could not be read, moved aside; its cells are measured again by ``--resume``."""

    file: str
    # Where it was moved, relative to the run folder; None when it could not be moved (a read-only folder).
    moved_to: str | None
    reason: str

    def describe(self) -> str:
        moved = f"moved aside to {self.moved_to}" if self.moved_to else "left in place (it could not be moved)"
        return f"{self.file} could not be read ({self.reason}); {moved}"


@dataclass(frozen=True)
class Merged:
    """What ``merge_step`` did with one step file: the interpreter's results after it (None: none yet), the runs it
    refused (cell name -> pyperf's reason), why the step file could not be read (it was discarded), and the rounds it
    added (cell name -> rounds)."""

    suite: pyperf.BenchmarkSuite | None
    refused: dict[str, str] = field(default_factory=dict)
    unreadable: str | None = None
    added: dict[str, set[int]] = field(default_factory=dict)


@dataclass(frozen=True)
class CellFailure:
    """Why a cell has no number: ``kind`` is one of FAILURE_KINDS, ``reason`` a one-line explanation."""

    kind: str
    reason: str
    log: str | None = None


# "lost": the cell's results were in a file that could not be read (``LostResults``); ``--resume`` measures it again.
FAILURE_KINDS = (
    "interpreter missing", "install failed", "unavailable", "crash", "wrong answer", "timeout", "error", "lost",
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

    def lost_file(self, interpreter_id: str) -> Path:
        return self.path / f"{interpreter_id}{LOST_SUFFIX}"

    def step_dir(self, interpreter_id: str) -> Path:
        return self.path / STEPS_DIR / interpreter_id

    def log_file(self, interpreter_id: str, cell_name: str) -> Path:
        return self.path / LOGS_DIR / interpreter_id / (cell_name.replace("/", "__") + ".log")

    def new_step_file(self, interpreter_id: str, round_number: int) -> Path:
        """A path no file has yet, for one pyperf invocation to ``--append`` to (pyperf creates the file: an empty
        one would be unreadable to it)."""
        folder = self.step_dir(interpreter_id)
        folder.mkdir(parents=True, exist_ok=True)
        return folder / f"r{round_number}-{uuid.uuid4().hex[:12]}.json"

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
        write_json(self.failures_file(interpreter_id), {name: vars(found) for name, found in sorted(failures.items())})

    # pyperf results -------------------------------------------------------------------------------------------

    def read_results(
        self, interpreter_id: str, on_lost: Callable[[LostResults], None] | None = None
    ) -> pyperf.BenchmarkSuite | None:
        """The interpreter's pyperf results; None when it has none yet.

        A file that cannot be read is moved aside (``<id>.json.corrupt-<n>``) and recorded in ``<id>.lost.json``
        (``read_lost``), and ``on_lost`` is told: its cells then count as not measured, so ``--resume`` measures them
        again and the report marks them lost, while every other interpreter's results stand."""
        path = self.results_file(interpreter_id)
        if not path.exists():
            return None
        try:
            return load_results(path)
        except UnreadableResults as error:
            lost = self._set_aside(interpreter_id, path, error.reason)
        if lost is not None and on_lost is not None:
            on_lost(lost)
        return None

    def _set_aside(self, interpreter_id: str, path: Path, reason: str) -> LostResults | None:
        number = 1
        while (target := path.with_name(f"{path.name}{CORRUPT_MARK}{number}")).exists():
            number += 1
        try:
            path.rename(target)
        except FileNotFoundError:  # another reader of the run moved it first, and recorded it
            return None
        except OSError:  # a read-only copy of a run: the report still marks the cells, nothing is recorded
            return LostResults(path.name, None, reason)
        lost = LostResults(path.name, target.name, reason)
        write_json(self.lost_file(interpreter_id), [asdict(found) for found in [*self.read_lost(interpreter_id), lost]])
        return lost

    def read_lost(self, interpreter_id: str) -> list[LostResults]:
        """The interpreter's results files that could not be read, oldest first."""
        path = self.lost_file(interpreter_id)
        return [LostResults(**found) for found in read_json(path)] if path.exists() else []

    def merge_step(self, interpreter_id: str, step_file: Path) -> Merged:
        """Add the runs of one invocation's step file to the interpreter's results file, atomically, then delete the
        step file.

        A cell's runs of a round the results file already holds are left out, so a step file merged once already (a
        kill between the rename and the deletion) adds nothing the second time. A step file that cannot be read (a
        kill while pyperf wrote it) is deleted, and its cells count as not measured."""
        import pyperf  # see load_results

        suite = self.read_results(interpreter_id)
        if not step_file.exists():
            return Merged(suite)
        try:
            step = load_results(step_file)
        except UnreadableResults as error:
            step_file.unlink()
            return Merged(suite, unreadable=error.reason)
        benchmarks = {benchmark.get_name(): benchmark for benchmark in (suite or ())}
        refused, added = {}, {}
        for benchmark in step:
            name = benchmark.get_name()
            earlier = benchmarks.get(name)
            held = rounds_done(earlier)
            runs = [run for run in benchmark.get_runs() if run.get_metadata().get(ROUND_METADATA) not in held]
            if not runs:
                continue
            try:
                # pyperf's own check (what its --append did): runs whose metadata differ from the cell's earlier
                # ones (another host, another python) cannot join them.
                benchmarks[name] = pyperf.Benchmark([*(earlier.get_runs() if earlier else ()), *runs])
            except ValueError as error:
                refused[name] = str(error)
                continue
            added[name] = rounds_done(benchmarks[name]) - held
        if added:
            suite = pyperf.BenchmarkSuite(list(benchmarks.values()))
            replace_atomically(self.results_file(interpreter_id), suite.dump)  # pyperf's own format
        step_file.unlink()
        return Merged(suite, refused, None, added)

    def recover(self, interpreter_ids: Iterable[str], warn: Callable[[str], None]) -> None:
        """Finish what an interrupted measure left, before planning what is still to do: results files that cannot be
        read are moved aside, the step files of invocations it did not merge are merged (or discarded when unreadable:
        their cells are measured again), and the temporary files of writes it did not finish are deleted."""
        for temporary in self.path.glob(f".*{TEMPORARY_SUFFIX}"):
            temporary.unlink(missing_ok=True)
        for name in interpreter_ids:
            self.read_results(name, lambda lost: warn(f"{self.path}/{lost.describe()}: measuring its cells again"))
            for step_file in sorted(self.step_dir(name).glob("*.json")):
                merged = self.merge_step(name, step_file)
                added = sum(len(rounds) for rounds in merged.added.values())
                done = f"merged ({added} cell rounds added)" if merged.unreadable is None else (
                    f"unreadable ({merged.unreadable}): discarded, its cells are measured again")
                warn(f"{step_file.relative_to(self.path)}, left by an interrupted step: {done}")
                for cell, reason in merged.refused.items():
                    warn(f"the runs of {cell} in {step_file.name} cannot join its earlier ones ({reason}): discarded")


@contextmanager
def new_run_folder(out: Path, purpose: str) -> Iterator[RunDir]:
    """A run folder made of other runs (``merge``, ``pool``) that appears at ``out`` whole or not at all: built beside
    it, in a hidden folder named after ``purpose``, and renamed when the block ends; deleted when the block raises."""
    out.parent.mkdir(parents=True, exist_ok=True)
    building = RunDir(Path(tempfile.mkdtemp(prefix=f".{out.name}.", suffix=f".{purpose}", dir=out.parent)))
    try:
        building.path.chmod(0o755)  # mkdtemp's folder is private; a run folder is as readable as the matrix's
        yield building
        os.rename(building.path, out)
    except BaseException:
        shutil.rmtree(building.path, ignore_errors=True)
        raise


def latest_run(results_dir: Path) -> RunDir:
    """The latest run the matrix measured under ``results_dir`` (its ids sort by start time). A merged or pooled run
    is left out: its folder is named by whoever made it, and would sort after the runs it was made of, or any other."""
    runs = sorted(path for path in results_dir.glob(f"*/{RUN_FILE}") if not _made_of_runs(path))
    if not runs:
        raise FileNotFoundError(f"no matrix run under {results_dir}/: run `nox -s matrix` first")
    return RunDir(runs[-1].parent)


def _made_of_runs(run_file: Path) -> bool:
    """Whether the run.json is a merged or pooled run's (one that cannot be read is left to its reader to say so)."""
    try:
        run = read_json(run_file)
    except (OSError, ValueError):
        return False
    return isinstance(run, dict) and bool(run.get("machines") or run.get("pooled"))
