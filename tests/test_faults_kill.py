"""The orchestrator killed (``kill -9``) or interrupted (Ctrl-C, ``kill``) at chosen instants, then resumed: no
completed cell is lost, none is measured twice, and nothing it started is left running.

Each test runs ``python -m interpmatrix measure RUN``, as the measure session does, on a run of a user's workload file
(``tests/workloads/tiny.py``: three cells) on the interpreter running the tests under two ids, two rounds: 12 cell
rounds in 4 pyperf invocations, about 5 s. The test kills it from outside when the run folder shows the instant, or the
orchestrator kills itself with SIGKILL at a chosen call (the instants inside a write are too short to hit from
outside); then ``measure`` again on the same folder must finish the run, which is compared cell by cell with an
uninterrupted one. Expected values are written here, never computed by the code under test.

`nox -s faults` runs every kill point; `nox -s tests` the first two (INTERPMATRIX_ALL_KILL_POINTS, set by the faults
session).
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, replace
from pathlib import Path

import pytest
from test_faults_io import alive
from test_faults_lock import ENV, REPO
from test_faults_lock import measure as run_measure
from test_measure import make_run

from interpmatrix import external
from interpmatrix.profiles import find_profile
from interpmatrix.results import RunDir

pytestmark = [
    pytest.mark.faults,
    pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads processes from /proc"),
]

TINY = Path(__file__).parent / "workloads" / "tiny.py"
HOSTS = ("host", "twin")
ALL_KILL_POINTS = os.environ.get("INTERPMATRIX_ALL_KILL_POINTS") == "1"

# Every cell of both columns once per round, in file order: (round, timed values of its run). The memory cell's value
# is one peak per process.
COMPLETE = {
    interpreter_id: {
        "tiny/run@1": [(1, 3), (2, 3)],
        "tiny/run_memory@1": [(1, 1), (2, 1)],
        "tiny/startup@1": [(1, 3), (2, 3)],
    }
    for interpreter_id in HOSTS
}
# What a finished run's folder holds: no temporary file, no file set aside, no failure.
FINISHED_FILES = [
    "host.interpreter.json", "host.json", "logs", "run.json", "steps", "twin.interpreter.json", "twin.json",
    "writer.lock",
]  # fmt: skip
RECOVERED = re.compile(
    r"steps/(host|twin)/r[12]-[0-9a-f]{12}\.json, left by an interrupted step: "
    r"(merged \([0-3] cell rounds added\)|unreadable \(.*\): discarded, its cells are measured again)"
)


def tiny_run(folder: Path, workload_file: Path = TINY, cell_timeout: float | None = None) -> RunDir:
    """The run `nox -s matrix -- --workload-file tests/workloads/tiny.py` plans, on two columns, with two rounds and
    no budget (the extra rounds of a budget depend on the data)."""
    run_dir = make_run(folder, [], cell_timeout=cell_timeout, hosts=HOSTS)
    run_dir.update_run(
        interpreters=list(HOSTS),
        workloads=[],
        workload_files=[external.inspect_file(workload_file).to_dict()],
        profile_settings=asdict(replace(find_profile("default"), rounds=2, budget=None)),
    )
    return run_dir


# The orchestrator, run as `python -m interpmatrix` is, SIGKILLs itself at the n-th call of os.replace or Path.unlink
# on a path that matches a pattern (pathlib's match): an instant inside a write.
DIE_AT = """
import os, pathlib, runpy, signal, sys

call, pattern, nth = sys.argv[1], sys.argv[2], int(sys.argv[3])
del sys.argv[1:4]
calls = []

def dies_at(function, path_of):
    def wrapper(*args, **kwargs):
        if pathlib.PurePath(path_of(*args)).match(pattern):
            calls.append(pattern)
            if len(calls) == nth:
                os.kill(os.getpid(), signal.SIGKILL)
        return function(*args, **kwargs)
    return wrapper

if call == "replace":
    os.replace = dies_at(os.replace, lambda source, target: target)
else:
    pathlib.Path.unlink = dies_at(pathlib.Path.unlink, lambda path, *rest: path)
runpy.run_module("interpmatrix", run_name="__main__", alter_sys=True)
"""


def start(run_dir: RunDir, die_at: tuple[str, str, int] | None = None) -> subprocess.Popen[str]:
    """``python -m interpmatrix measure RUN`` (or the same, dying at ``die_at``), from the project's folder."""
    if die_at is None:
        command = [sys.executable, "-m", "interpmatrix", "measure", str(run_dir.path)]
    else:
        call, pattern, nth = die_at
        command = [sys.executable, "-c", DIE_AT, call, pattern, str(nth), "measure", str(run_dir.path)]
    # As a terminal starts it: a suite started in the background (`cmd &`) hands its children SIGINT ignored, and a
    # Python started so never sees Ctrl-C.
    return subprocess.Popen(command, cwd=REPO, env=ENV, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            preexec_fn=default_sigint)  # noqa: PLW1509  (no thread runs here)


def default_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def wait_for(process: subprocess.Popen[str], instant: Callable[[], bool]) -> None:
    """Return as soon as ``instant()`` holds; fail when the process ends first, or after two minutes (killing it)."""
    deadline = time.monotonic() + 120
    while not instant():
        if process.poll() is not None:
            raise AssertionError(f"measure ended before the instant: {process.communicate()}")
        if time.monotonic() > deadline:
            process.kill()
            raise AssertionError(f"the instant never came: {process.communicate()}")
        time.sleep(0.001)


def measure(run_dir: RunDir) -> subprocess.CompletedProcess[str]:
    """``python -m interpmatrix measure RUN`` to the end, which must say nothing on stderr."""
    finished = run_measure(run_dir.path)
    assert (finished.returncode, finished.stderr) == (0, ""), finished.stdout + finished.stderr
    return finished


def cells(run_dir: RunDir) -> dict[str, dict[str, list[tuple[int, int]]]]:
    """Per column and cell, each run's round and number of timed values, in file order: a round measured twice
    shows twice, a lost one not at all."""
    return {
        interpreter_id: {
            benchmark.get_name(): [
                (run.get_metadata()["interpmatrix_round"], len(run.values)) for run in benchmark.get_runs()
            ]
            for benchmark in run_dir.read_results(interpreter_id) or ()
        }
        for interpreter_id in HOSTS
    }


def assert_finished(run_dir: RunDir) -> None:
    """The run is complete and its files are those of a run never interrupted."""
    assert run_dir.read_run()["status"] == "complete"
    assert sorted(path.name for path in run_dir.path.iterdir()) == FINISHED_FILES
    assert [path for path in (run_dir.path / "steps").rglob("*") if path.is_file()] == []
    assert all(run_dir.read_failures(interpreter_id) == {} for interpreter_id in HOSTS)


def left_running(run_dir: RunDir, within: float = 10) -> list[str]:
    """The command lines of live processes that name the run's folder (pyperf's, which append to its step files),
    once they have had ``within`` seconds to end."""
    deadline = time.monotonic() + within
    while True:
        found = []
        for entry in Path("/proc").iterdir():
            try:
                command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            except OSError:  # not a process, or it exited while we looked
                continue
            if str(run_dir.path) in command and alive(int(entry.name)):
                found.append(command)
        if not found or time.monotonic() > deadline:
            return found
        time.sleep(0.05)


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, list[tuple[int, int]]]]:
    run_dir = tiny_run(tmp_path_factory.mktemp("uninterrupted"))
    measure(run_dir)
    assert_finished(run_dir)
    return cells(run_dir)


def test_an_uninterrupted_run_measures_every_cell_once_per_round(uninterrupted) -> None:
    assert uninterrupted == COMPLETE


def step_files(run_dir: RunDir, pattern: str) -> list[Path]:
    return sorted(run_dir.path.glob(f"steps/*/{pattern}"))


def status_is_measuring(run_dir: RunDir) -> bool:
    return json.loads(run_dir.run_file.read_text()).get("status") == "measuring"


def every_point(*values: object, id: str) -> object:
    return pytest.param(*values, id=id, marks=pytest.mark.skipif(
        not ALL_KILL_POINTS, reason="a kill point of the full suite: `nox -s faults` (INTERPMATRIX_ALL_KILL_POINTS=1)"
    ))  # fmt: skip


# Each point: what kills the orchestrator (an instant the test sees in the run folder, or a call at which the
# orchestrator dies), and for a call, what the resumed run says first: {step} is the step file the kill left.
KILL_POINTS = [
    # pyperf has appended the step's first cell to its step file, and measures the next one.
    pytest.param(lambda run_dir: bool(step_files(run_dir, "r1-*.json")), None, None, id="pyperf-writes-a-step"),
    # The merged results of host's first step written whole to host.json's temporary file, not renamed yet.
    pytest.param(None, ("replace", "host.json", 1), [
        "{step}, left by an interrupted step: merged (3 cell rounds added)",
        "measuring 9 cell rounds in 3 invocations: 2 rounds x 3 cells x 2 interpreters (default profile)",
    ], id="results-file-write"),
    every_point(status_is_measuring, None, None, id="measuring-begins"),
    # twin's first step merged into twin.json, its step file not deleted yet: merged again, it adds nothing.
    every_point(None, ("unlink", "steps/*/r1-*.json", 2), [
        "{step}, left by an interrupted step: merged (0 cell rounds added)",
        "measuring 6 cell rounds in 2 invocations: 2 rounds x 3 cells x 2 interpreters (default profile)",
    ], id="step-merged-not-deleted"),
    # run.json being rewritten after the second step (the budget's accounts): its old version stands.
    every_point(None, ("replace", "run.json", 3), [
        "measuring 6 cell rounds in 2 invocations: 2 rounds x 3 cells x 2 interpreters (default profile)",
    ], id="run-json-write"),
    every_point(lambda run_dir: bool(step_files(run_dir, "r2-*.json")), None, None, id="pyperf-writes-round-2"),
    # The last step's results (host, round 2) written to the temporary file: only the renaming was left to do.
    every_point(None, ("replace", "host.json", 2), [
        "{step}, left by an interrupted step: merged (3 cell rounds added)",
        "measuring 0 cell rounds in 0 invocations: 2 rounds x 3 cells x 2 interpreters (default profile)",
    ], id="last-results-file-write"),
]


@pytest.mark.parametrize(("instant", "die_at", "resumed_says"), KILL_POINTS)
def test_a_kill_9_then_resume_loses_nothing_and_measures_nothing_twice(
    tmp_path: Path, uninterrupted, instant, die_at, resumed_says
) -> None:
    run_dir = tiny_run(tmp_path)
    killed = start(run_dir, die_at)
    if instant is not None:
        wait_for(killed, lambda: instant(run_dir))
        killed.kill()
    _, stderr = killed.communicate(timeout=120)
    assert (killed.returncode, stderr) == (-signal.SIGKILL, "")
    # Its pyperf invocation died with it: nothing appends to a step file behind the back of the resumed run.
    assert left_running(run_dir) == []
    steps = step_files(run_dir, "*.json")

    resumed = measure(run_dir)
    said = resumed.stdout.splitlines()
    if resumed_says is not None:
        (step,) = steps or [None]
        expected = [line.format(step=step and step.relative_to(run_dir.path)) for line in resumed_says]
        assert said[: len(expected)] == expected
    else:
        recovered = [line for line in said if "left by an interrupted step" in line]
        assert all(RECOVERED.fullmatch(line) for line in recovered), recovered
    assert cells(run_dir) == uninterrupted == COMPLETE
    assert_finished(run_dir)


INTERRUPTED = (
    "interrupted; the cells measured so far are kept in {run}: `nox -s matrix -- --resume run` measures the rest\n"
)


@pytest.mark.parametrize(
    "signal_number",
    [
        pytest.param(signal.SIGINT, id="ctrl-c"),
        # `kill PID`: what a second writer is told to do to the first.
        every_point(signal.SIGTERM, id="kill"),
    ],
)
def test_an_interrupt_stops_cleanly_says_how_to_resume_and_the_resume_finishes(
    tmp_path: Path, uninterrupted, signal_number: int
) -> None:
    run_dir = tiny_run(tmp_path)
    interrupted = start(run_dir)
    # In the middle of a pyperf invocation. Ctrl-C reaches the orchestrator alone: pyperf runs in a session of its own.
    wait_for(interrupted, lambda: bool(step_files(run_dir, "r1-*.json")))
    interrupted.send_signal(signal_number)
    stdout, stderr = interrupted.communicate(timeout=60)
    assert (interrupted.returncode, stderr) == (130, INTERRUPTED.format(run=run_dir.path))
    assert stdout.startswith("measuring 12 cell rounds in 4 invocations")
    assert left_running(run_dir, within=0) == []

    measure(run_dir)
    assert cells(run_dir) == uninterrupted == COMPLETE
    assert_finished(run_dir)


HANGS = '''\
"""run() never returns: in pyperf's main process, where the harness checks its answer before timing it."""

import os
import time

EXPECTED = 1


def run():
    with open(os.path.join(os.path.dirname(__file__), "hanging.pid"), "w") as file:
        file.write(str(os.getpid()))
    time.sleep(3600)
'''


def test_a_kill_9_takes_even_a_hung_pyperf_invocation_with_it(tmp_path: Path) -> None:
    workload_file = tmp_path / "hangs.py"
    workload_file.write_text(HANGS)
    # A time limit it never reaches: only the orchestrator's death can end the invocation.
    run_dir = tiny_run(tmp_path, workload_file, cell_timeout=600)
    killed = start(run_dir)
    # pyperf's main process sleeps in run() (the answer's check). It writes nothing more, so nothing would tell it
    # that its reader is gone.
    hanging = tmp_path / "hanging.pid"
    wait_for(killed, hanging.exists)
    killed.kill()
    killed.communicate(timeout=60)
    pid = int(hanging.read_text())
    try:
        assert left_running(run_dir, within=5) == []
    finally:
        if alive(pid):
            os.kill(pid, signal.SIGKILL)


@pytest.mark.faults
def test_a_run_given_by_a_relative_path_is_measured_whole(tmp_path: Path, uninterrupted) -> None:
    # The workload scripts run in a folder of their own: a run folder relative to where measure was started must not
    # become a path relative to theirs (every cell failed, for good, when it did).
    run_dir = tiny_run(tmp_path)
    finished = subprocess.run(
        [sys.executable, "-m", "interpmatrix", "measure", "run"],
        capture_output=True, text=True, cwd=tmp_path, env=ENV, timeout=120, check=False,
    )
    assert (finished.returncode, finished.stderr) == (0, ""), finished.stdout + finished.stderr
    assert_finished(run_dir)
    assert cells(run_dir) == uninterrupted
