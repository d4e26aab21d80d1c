"""One writer per run, one builder per venv: real processes contend for real lock files, and get killed.

A run is written by one process at a time (``interpmatrix.lock.hold_run``); a second writer exits non-zero naming
the first, and a killed writer leaves no lock behind. A venv is built by one process at a time, and a venv whose
build did not finish (no mark in it) is rebuilt, not reused.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from interpmatrix import lock
from interpmatrix.results import RunDir

pytestmark = pytest.mark.faults

REPO = Path(__file__).resolve().parent.parent
ENV = {**os.environ, "PYTHONPATH": str(REPO)}
PYTHON = sys.executable

# A writer that takes the run and keeps it until it is killed (measure would, for minutes).
HOLD_RUN = """
import sys, time
from pathlib import Path
from interpmatrix import lock
from interpmatrix.results import RunDir
lock.hold_run(RunDir(Path(sys.argv[1])))
print("holding", flush=True)
time.sleep(120)
"""

# A session building a venv: it installs (sleeps) for argv[2] seconds, then marks the venv finished.
BUILD_VENV = """
import shutil, subprocess, sys, time
from pathlib import Path
from interpmatrix import lock
location = Path(sys.argv[1])
def rebuild():
    shutil.rmtree(location, ignore_errors=True)
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(location)], check=True)
with lock.building_venv(location, Path(f"{location}.lock"), sys.executable, rebuild, echo=print) as build:
    print("installing", flush=True)
    time.sleep(float(sys.argv[2]))
    build.finished(["pyperf==2.10.0"])
print("finished", flush=True)
"""


def start(script: str, *args: str) -> subprocess.Popen[str]:
    """A child running ``script``, once it says it holds its lock."""
    child = subprocess.Popen(
        [PYTHON, "-c", script, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=ENV
    )
    for line in child.stdout:
        if line in ("holding\n", "installing\n"):
            return child
    raise AssertionError(f"the child ended without taking its lock: {child.stderr.read()}")


def measure(run: Path) -> subprocess.CompletedProcess[str]:
    """``python -m interpmatrix measure RUN``: what the measure session runs."""
    return subprocess.run(
        [PYTHON, "-m", "interpmatrix", "measure", str(run)],
        capture_output=True, text=True, cwd=REPO, env=ENV, timeout=60, check=False,
    )


def planned_run(tmp_path: Path) -> Path:
    run = tmp_path / "results" / "2026-01-02T03-04-05Z"
    run.mkdir(parents=True)
    (run / "run.json").write_text(json.dumps({"run_id": run.name, "status": "planned"}))
    return run


def test_a_second_writer_is_refused_until_the_first_is_killed(tmp_path: Path) -> None:
    run = planned_run(tmp_path)
    first = start(HOLD_RUN, str(run))
    try:
        second = measure(run)
        assert second.returncode == 2 and second.stdout == ""
        holder = f"pid {first.pid} (`{PYTHON} -c"
        assert second.stderr.startswith(f"error: run 2026-01-02T03-04-05Z is being written by {holder}")
        assert second.stderr.rstrip().endswith(
            f"; two writers would lose and double its cells. Wait for it to finish (`nox -s report -- {run}` reads "
            f"the run meanwhile), or stop it (`kill {first.pid}`) and continue the run with "
            "`nox -s matrix -- --resume 2026-01-02T03-04-05Z`"
        )
        # The refused writer wrote nothing, and the holder's name is still in the lock file.
        assert sorted(path.name for path in run.iterdir()) == ["run.json", "writer.lock"]
        assert json.loads((run / "writer.lock").read_text())["pid"] == first.pid
    finally:
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=10)
    assert first.returncode == -signal.SIGKILL
    # Nothing to clean up after a SIGKILL: the next writer takes the run at once.
    started = time.monotonic()
    third = start(HOLD_RUN, str(run))
    third.kill()
    third.wait(timeout=10)
    assert time.monotonic() - started < 10
    assert json.loads((run / "writer.lock").read_text())["pid"] == third.pid


def test_the_planning_nox_keeps_the_run_then_hands_it_to_the_measuring_process(tmp_path: Path) -> None:
    run_dir = RunDir(planned_run(tmp_path))
    # The matrix session takes the run; its bench sessions, in the same nox process, take it again without a fuss.
    lock.hold_run(run_dir)
    try:
        lock.hold_run(run_dir)
        refused = measure(run_dir.path)
        assert refused.returncode == 2 and f"is being written by pid {os.getpid()} (`" in refused.stderr
    finally:
        # The measure session lets go of it; the measuring process takes it.
        lock.release(lock.run_lock(run_dir))
    taker = start(HOLD_RUN, str(run_dir.path))
    taker.kill()
    taker.wait(timeout=10)
    assert json.loads(lock.run_lock(run_dir).read_text())["pid"] == taker.pid


# --------------------------------------------------------------------------------------------------------------------
# Venvs: built under their lock, reused only with the mark of a finished build


def venv_lock(location: Path) -> Path:
    """Where the noxfile puts a venv's lock, in the test's terms: beside it."""
    return Path(f"{location}.lock")


def make_venv(location: Path) -> None:
    """What nox does to rebuild a session's venv: delete it, create it again."""
    shutil.rmtree(location, ignore_errors=True)
    subprocess.run([PYTHON, "-m", "venv", "--without-pip", str(location)], check=True, timeout=60)


def build(location: Path, log: list[str], rebuilt: list[Path]) -> None:
    """One session's install: rebuilt when needed, then marked finished."""

    def rebuild() -> None:
        rebuilt.append(location)
        make_venv(location)

    with lock.building_venv(location, venv_lock(location), PYTHON, rebuild, echo=log.append) as venv:
        assert not (location / lock.VENV_MARK).exists(), "unmarked while it is being installed into"
        venv.finished(["pyperf==2.10.0"])


def test_a_venv_without_the_mark_is_rebuilt_and_with_it_reused(tmp_path: Path) -> None:
    location = tmp_path / ".nox" / "bench-cpython-3-12"
    make_venv(location)  # as nox leaves it when an install failed: a venv, no mark
    (location / "half-installed").write_text("")
    log: list[str] = []
    rebuilt: list[Path] = []
    build(location, log, rebuilt)
    assert rebuilt == [location] and not (location / "half-installed").exists()
    reason = "no mark of a finished build in it (new, or its last build failed or was interrupted)"
    assert log == [f"rebuilding bench-cpython-3-12: {reason}"]
    mark = json.loads((location / lock.VENV_MARK).read_text())
    assert (mark["python"], mark["installed"]) == (PYTHON, ["pyperf==2.10.0"])

    (location / "kept").write_text("")
    log.clear()
    build(location, log, rebuilt)
    assert rebuilt == [location] and log == [] and (location / "kept").exists()


def test_a_marked_venv_whose_python_does_not_run_or_is_another_is_rebuilt(tmp_path: Path) -> None:
    location = tmp_path / "bench-pypy3-9"
    build(location, [], [])
    assert lock.venv_problem(location, PYTHON) is None
    (location / "bin" / "python").unlink()
    (location / "bin" / "python").symlink_to(tmp_path / "gone")
    assert lock.venv_problem(location, PYTHON) == (
        f"its python does not run: [Errno 2] No such file or directory: '{location / 'bin' / 'python'}'"
    )
    log: list[str] = []
    rebuilt: list[Path] = []
    build(location, log, rebuilt)
    assert rebuilt == [location] and lock.venv_problem(location, PYTHON) is None
    # A newer patch took the id: the venv made from the old interpreter is rebuilt from the new one.
    assert lock.venv_problem(location, "/opt/python-3.12.99/bin/python3.12") == (
        f"it was made by {PYTHON}, not /opt/python-3.12.99/bin/python3.12"
    )


def test_a_build_killed_midway_leaves_no_lock_and_its_venv_is_rebuilt(tmp_path: Path) -> None:
    location = tmp_path / "bench-cpython-3-13t"
    build(location, [], [])
    child = start(BUILD_VENV, str(location), "120")
    child.send_signal(signal.SIGKILL)
    child.wait(timeout=10)
    log: list[str] = []
    rebuilt: list[Path] = []
    build(location, log, rebuilt)
    # No "waiting for": the lock went with the killed process. Its half-done install is not trusted.
    assert rebuilt == [location] and len(log) == 1 and log[0].startswith("rebuilding bench-cpython-3-13t: no mark")


def test_a_second_builder_waits_for_the_first_and_reuses_what_it_built(tmp_path: Path) -> None:
    location = tmp_path / "bench-cpython-3-11"
    first = start(BUILD_VENV, str(location), "1")  # a fresh venv: it rebuilds it, installs for a second, marks it
    log: list[str] = []
    rebuilt: list[Path] = []
    build(location, log, rebuilt)
    out, _ = first.communicate(timeout=30)
    assert first.returncode == 0 and out.endswith("finished\n")
    assert rebuilt == []  # the first one's build finished: reused as it is
    assert len(log) == 1 and log[0].startswith(f"waiting for bench-cpython-3-11.lock: held by pid {first.pid} (`")


def test_a_venv_lock_taken_before_the_build_is_let_go_after_it(tmp_path: Path) -> None:
    # The matrix session takes its bench sessions' venv locks before nox creates their venvs; each bench session's
    # build lets go of its own when it ends, and another process's build can start at once.
    location = tmp_path / "bench-cpython-3-10"
    assert lock.hold(venv_lock(location))
    build(location, [], [])
    other = start(BUILD_VENV, str(location), "0")
    out, _ = other.communicate(timeout=30)
    assert other.returncode == 0 and out == "finished\n"  # no wait, no rebuild
