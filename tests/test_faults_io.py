"""Faults of the files and of the invocations, injected into real runs: nothing completed is lost, nothing hangs.

Each test runs the real harness and pyperf on the interpreter running the tests (``tests/workloads/faults.py``, one
fault per variant), or kills a real process at a chosen instant, and asserts what the user sees and what the files
hold. Expected values are written here, never computed by the code under test.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import pyperf
import pytest
from test_measure import FAULTS, HOST_ID, make_run, nothing_open

from interpmatrix.invocation import Step, build_command, charge, invoke, run_step, write_cell_log
from interpmatrix.measure import measure, prepared_venvs
from interpmatrix.model import load_run
from interpmatrix.profiles import Profile, find_profile
from interpmatrix.registry import Variant, Workload
from interpmatrix.report import render_report
from interpmatrix.results import CellFailure, RunDir

pytestmark = pytest.mark.faults

REPO = Path(__file__).resolve().parent.parent


def faults(*variants: str, sizes: tuple[int, ...] = (1000,)) -> Workload:
    """The faults workload with only these variants, in this order (a batch runs them in it)."""
    return replace(FAULTS, variants=tuple(Variant(name, f"fails by: {name}") for name in variants), sizes=sizes)


def profile(cell_timeout: float) -> Profile:
    return replace(find_profile("default"), cell_timeout=cell_timeout)


def rounds_of_runs(run_dir: RunDir, interpreter_id: str, cell: str) -> list[int]:
    """The round of each run of a cell, in file order: a round counted twice shows twice."""
    suite = pyperf.BenchmarkSuite.load(str(run_dir.results_file(interpreter_id)))
    return [run.get_metadata()["interpmatrix_round"] for run in suite.get_benchmark(cell).get_runs()]


# Corrupt results files ---------------------------------------------------------------------------------------------

OK = faults("ok", sizes=(1000, 2000))
OK_CELLS = ["faults/ok@1000", "faults/ok@2000"]


@pytest.fixture(scope="module")
def measured(tmp_path_factory: pytest.TempPathFactory) -> RunDir:
    """Two columns (the interpreter running the tests, under two ids), two cells each, measured once."""
    run_dir = make_run(tmp_path_factory.mktemp("measured"), [OK], hosts=("host", "twin"))
    run_dir.update_run(interpreters=["host", "twin"])  # no column without a venv: the report needs its facts
    measure(run_dir, workloads=[OK], echo=lambda line: None, open_cells=nothing_open)
    return run_dir


def truncated(data: bytes) -> bytes:
    # Cut inside the first cell's name, as a kill during pyperf's rewrite of the file did (16.8 MB -> 6.9 MB).
    return data[: data.index(b"faults/ok@") + 4]


def garbage(data: bytes) -> bytes:
    return b"PK\x03\x04\xff\xfe not a results file"


@pytest.mark.parametrize(
    ("damage", "reason"),
    [
        (truncated, "JSONDecodeError: Unterminated string starting at: line 1 column "),
        (garbage, "UnicodeDecodeError: 'utf-8' codec can't decode byte 0xff in position 4: invalid start byte"),
    ],
)
def test_an_unreadable_results_file_is_named_set_aside_and_only_its_cells_are_measured_again(
    measured: RunDir, tmp_path: Path, damage, reason: str
) -> None:
    resumed, reported = RunDir(tmp_path / "resumed"), RunDir(tmp_path / "reported")
    for copy in (resumed, reported):
        shutil.copytree(measured.path, copy.path)
        damaged = damage(copy.results_file("host").read_bytes())
        copy.results_file("host").write_bytes(damaged)

    # --resume: the message names the file and says what happens; exactly its two cells are measured again.
    lines: list[str] = []
    measure(resumed, workloads=[OK], echo=lines.append, open_cells=nothing_open)
    (message,) = [line for line in lines if "could not be read" in line]
    assert message.startswith(f"{resumed.path}/host.json could not be read ({reason}")
    assert message.endswith("; moved aside to host.json.corrupt-1: measuring its cells again")
    assert (resumed.path / "host.json.corrupt-1").read_bytes() == damaged
    progress = [line.split()[2:4] for line in lines if line.startswith("[")]
    assert progress == [["host", "faults/ok@1000"], ["host", "faults/ok@2000"]]
    for cell in OK_CELLS:
        assert rounds_of_runs(resumed, "host", cell) == [1]
        assert rounds_of_runs(resumed, "twin", cell) == [1]

    # The report, before any resume: every other column stands, the lost cells say why.
    text = render_report(reported, workloads=[OK])
    assert "host.json could not be read" in text
    assert not reported.results_file("host").exists()
    run = load_run(reported, workloads=[OK])
    for cell in OK.cells():
        lost = run.column("host").outcome(cell)
        assert isinstance(lost, CellFailure) and lost.kind == "lost"
        assert lost.reason.startswith(f"lost with its results file: host.json could not be read ({reason}")
        assert lost.reason.endswith(
            "; moved aside to host.json.corrupt-1; `nox -s matrix -- --resume run` measures it again"
        )
        assert lost.log == "host.json.corrupt-1"
        assert run.column("twin").benchmark(cell) is not None


# Kills during a write ----------------------------------------------------------------------------------------------


def test_a_kill_of_the_step_while_pyperf_writes_loses_no_completed_cell(tmp_path: Path) -> None:
    workload = faults("ok", "killed_while_writing")
    ok, killed = workload.cells()
    run_dir = make_run(tmp_path, [workload], rounds=2)
    (venv,) = prepared_venvs(run_dir, [HOST_ID])
    assert run_step(run_dir, Step(1, workload, (ok,), venv), profile(30)) == {ok.name: None}
    first = pyperf.BenchmarkSuite.load(str(run_dir.results_file(HOST_ID))).get_benchmark(ok.name).get_runs()

    # Round 2: ok is measured, then the whole group is SIGKILLed while pyperf rewrites the file it appends to, which
    # then holds half of ok's runs. ok is measured again; round 1 is untouched.
    outcomes = run_step(run_dir, Step(2, workload, (ok, killed), venv), profile(30))
    assert outcomes[ok.name] is None
    assert (outcomes[killed.name].kind, outcomes[killed.name].reason) == ("crash", "the process was killed by SIGKILL")
    suite = pyperf.BenchmarkSuite.load(str(run_dir.results_file(HOST_ID)))
    assert suite.get_benchmark_names() == [ok.name]
    assert rounds_of_runs(run_dir, HOST_ID, ok.name) == [1, 2]
    assert [run.values for run in suite.get_benchmark(ok.name).get_runs()][:1] == [run.values for run in first]
    assert list(run_dir.step_dir(HOST_ID).iterdir()) == []


def hand_made(name: str, *rounds: int) -> pyperf.Benchmark:
    """A cell with one run per round, by hand."""
    metadata = {"name": name, "unit": "second", "loops": 1}
    return pyperf.Benchmark([
        pyperf.Run([0.001 * number], metadata={**metadata, "interpmatrix_round": number}, collect_metadata=False)
        for number in rounds
    ])


# The orchestrator dies by SIGKILL at the chosen call of merge_step.
KILLER = """
import os, pathlib, signal, sys
from interpmatrix.results import RunDir

def die(*args, **kwargs):
    os.kill(os.getpid(), signal.SIGKILL)

point, folder, step = sys.argv[1:]
if point == "fsync":
    os.fsync = die
elif point == "replace":
    os.replace = die
else:
    pathlib.Path.unlink = die
RunDir(pathlib.Path(folder)).merge_step("host", pathlib.Path(step))
"""


@pytest.mark.parametrize(
    ("point", "merged_before_the_kill", "recovered"),
    [
        ("fsync", False, "merged (2 cell rounds added)"),  # while the new results file is written
        ("replace", False, "merged (2 cell rounds added)"),  # written whole, not renamed yet
        ("unlink", True, "merged (0 cell rounds added)"),  # renamed, the step file not deleted yet
    ],
)
def test_a_kill_of_the_orchestrator_while_it_merges_loses_nothing_and_doubles_nothing(
    tmp_path: Path, point: str, merged_before_the_kill: bool, recovered: str
) -> None:
    run_dir = RunDir(tmp_path / "run")
    run_dir.path.mkdir()
    pyperf.BenchmarkSuite([hand_made("w/a@1", 1)]).dump(str(run_dir.results_file("host")))
    before = run_dir.results_file("host").read_bytes()
    step = run_dir.new_step_file("host", 2)
    pyperf.BenchmarkSuite([hand_made("w/a@1", 2), hand_made("w/b@1", 2)]).dump(str(step))

    env = {**os.environ, "PYTHONPATH": str(REPO)}
    killed = subprocess.run([sys.executable, "-c", KILLER, point, str(run_dir.path), str(step)], env=env, check=False)
    assert killed.returncode == -signal.SIGKILL
    assert step.exists()
    if merged_before_the_kill:
        assert rounds_of_runs(run_dir, "host", "w/a@1") == [1, 2]
    else:
        assert run_dir.results_file("host").read_bytes() == before

    lines: list[str] = []
    run_dir.recover(["host"], lines.append)
    assert lines == [f"steps/host/{step.name}, left by an interrupted step: {recovered}"]
    assert rounds_of_runs(run_dir, "host", "w/a@1") == [1, 2]
    assert rounds_of_runs(run_dir, "host", "w/b@1") == [2]
    assert list(run_dir.step_dir("host").iterdir()) == []
    assert list(run_dir.path.glob(".*.tmp")) == []


# Hangs -------------------------------------------------------------------------------------------------------------


HUNG_BEFORE = ("timeout", "hung before its first cell: none had started within the 5 s cell time limit; killed")
HUNG_AFTER = ("timeout", (
    "hung after its last cell: the process was still running past the 5 s cell time limit, and was killed (a thread "
    "or a process the workload left running?)"
))


@pytest.mark.parametrize(
    ("variants", "expected"),
    [
        # A hang at import: every cell of the batch has that reason (running it again would hang again).
        (("hang_before_start", "ok"), {"faults/hang_before_start@1000": HUNG_BEFORE, "faults/ok@1000": HUNG_BEFORE}),
        # A non-daemon thread left running: measured, but charged to the cell after which the process hung.
        (("ok", "lingers"), {"faults/ok@1000": None, "faults/lingers@1000": HUNG_AFTER}),
    ],
)
def test_a_hang_before_the_first_cell_or_after_the_last_costs_one_time_limit(
    tmp_path: Path, variants: tuple[str, ...], expected: dict
) -> None:
    workload = faults(*variants)
    run_dir = make_run(tmp_path, [workload])
    (venv,) = prepared_venvs(run_dir, [HOST_ID])
    started = time.monotonic()
    outcomes = run_step(run_dir, Step(1, workload, workload.cells(), venv), profile(5))
    assert time.monotonic() - started < 60  # it returned: before, it never did
    assert {name: None if found is None else (found.kind, found.reason) for name, found in outcomes.items()} == expected
    assert {name: (found.kind, found.reason) for name, found in run_dir.read_failures(HOST_ID).items()} == {
        name: outcome for name, outcome in expected.items() if outcome is not None
    }


def alive(pid: int) -> bool:
    """Whether a process runs (a zombie does not: its parent is gone, and reaping it is up to PID 1)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


HELD = "hung after its last cell: its output was still open 5 s after the process ended, held by a process it "
OUT_OF_REACH = "started in a session of its own, out of reach of the time limit's kill, and left running"


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads process states from /proc")
@pytest.mark.parametrize(
    ("variant", "reason", "left_running"),
    [
        # In a session of its own, the child is out of reach of a kill of the group: left running (the test ends it).
        ("orphan", HELD + OUT_OF_REACH, True),
        ("leaves_child", HELD + "left running, which was killed", False),
    ],
)
def test_a_child_holding_the_output_costs_seconds_and_is_charged(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, variant: str, reason: str, left_running: bool
) -> None:
    pid_file = tmp_path / "child.pid"
    monkeypatch.setenv("FAULTS_PID_FILE", str(pid_file))
    workload = faults("ok", variant)
    ok, holder = workload.cells()
    run_dir = make_run(tmp_path, [workload])
    (venv,) = prepared_venvs(run_dir, [HOST_ID])
    try:
        started = time.monotonic()
        outcomes = run_step(run_dir, Step(1, workload, (ok, holder), venv), profile(60))
        # Waited for the pipe 5 s after the process ended (proc.DRAIN_SECONDS), not the 60 s time limit, nor forever.
        assert time.monotonic() - started < 50
        assert alive(int(pid_file.read_text())) == left_running
    finally:
        if pid_file.exists() and alive(int(pid_file.read_text())):
            os.kill(int(pid_file.read_text()), signal.SIGKILL)
    assert outcomes[ok.name] is None
    assert (outcomes[holder.name].kind, outcomes[holder.name].reason) == ("error", reason)
    # Its runs were written before the hang, and are kept; the failure is what the report shows.
    assert rounds_of_runs(run_dir, HOST_ID, holder.name) == [1]


# Output ------------------------------------------------------------------------------------------------------------


def test_fifty_mib_of_output_go_to_the_log_and_only_the_end_stays_in_memory(tmp_path: Path) -> None:
    workload = faults("floods")
    (cell,) = workload.cells()
    run_dir = make_run(tmp_path, [workload])
    (venv,) = prepared_venvs(run_dir, [HOST_ID])
    log = tmp_path / "step.log"
    command = build_command(Step(1, workload, (cell,), venv), profile(60), tmp_path / "step.json", {})
    invocation = invoke(command, workload.script.parent, 60, 120, log)
    # 524288 lines of 100 bytes, all on disk; in memory the last 64 KiB of the cell's part and little more.
    assert log.stat().st_size > 50 * 2**20
    assert 64 * 1024 <= invocation.output.kept() < 65 * 1024
    # The reason comes from that end: the line the process printed last before it died.
    assert charge(invocation, (cell,), 60, 120) == {
        cell.name: CellFailure("error", "FloodError: printed 50 MiB, then the process exited")
    }
    # The cell's own log has its whole part, streamed from the step's log.
    cell_log = run_dir.path / write_cell_log(run_dir, HOST_ID, invocation, cell.name)
    assert cell_log.stat().st_size > 50 * 2**20


# Descriptors -------------------------------------------------------------------------------------------------------


@pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="the fixture counts its descriptors in /proc")
def test_descriptors_a_cell_leaves_open_do_not_fail_the_next_cells_of_its_batch(tmp_path: Path) -> None:
    # leaks_descriptors leaves 16 free in the batch's process; many_files needs 64 at once: in that process it failed
    # with "OSError: [Errno 24] Too many open files".
    workload = faults("leaks_descriptors", "many_files")
    leaks, needs = workload.cells()
    run_dir = make_run(tmp_path, [workload])
    (venv,) = prepared_venvs(run_dir, [HOST_ID])
    outcomes = run_step(run_dir, Step(1, workload, (leaks, needs), venv), profile(60))
    assert outcomes == {leaks.name: None, needs.name: None}
    assert rounds_of_runs(run_dir, HOST_ID, needs.name) == [1]
    assert run_dir.read_failures(HOST_ID) == {}
