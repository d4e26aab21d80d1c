"""Faults of what the user gives: an output folder that cannot be written, a time limit out of range, a workload file
whose run() never returns under `nox -s workloads -- --check`. Each stops with one line that names the problem and
says what to do (no traceback), before anything is lost or left running.

Each test goes through the path a user's command takes: ``python -m interpmatrix`` as the measure and report sessions
run it, or ``cli.parse_matrix_args`` and ``cli.start_matrix`` as the matrix session calls them.
"""

from __future__ import annotations

import ctypes
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from test_cli import found  # noqa: F401  (the probe fixtures' interpreters)
from test_faults_io import alive
from test_faults_kill import COMPLETE, ENV, REPO, TINY, cells, measure, tiny_run

from interpmatrix import cli, external

pytestmark = pytest.mark.faults

RUN_QUICK = Path(__file__).parent / "fixtures" / "run-quick"
# prctl(2)'s option that drops a capability from the bounding set, and the capabilities by which root writes and reads
# where a folder's mode says no (capabilities(7)).
PR_CAPBSET_DROP = 24
CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH = 1, 2


def as_a_user() -> Callable[[], None] | None:
    """``preexec_fn`` of a child for which a folder of mode 555 is read-only. For root, whose CAP_DAC_OVERRIDE lets it
    write anywhere, the child drops it (and CAP_DAC_READ_SEARCH) from its bounding set, so the python it then runs is
    held to the folder's mode as any other user is."""
    if os.geteuid() != 0:
        return None
    prctl = ctypes.CDLL(None, use_errno=True).prctl

    def drop() -> None:
        for capability in (CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH):
            if prctl(PR_CAPBSET_DROP, capability, 0, 0, 0) != 0:
                raise OSError(ctypes.get_errno(), "prctl(PR_CAPBSET_DROP) failed")

    return drop


def run_as_a_user(*args: str) -> subprocess.CompletedProcess[str]:
    """``python ARGS`` (``-m interpmatrix ...``), from the project's folder, as a user whom a folder's mode binds."""
    return subprocess.run(
        [sys.executable, *args], cwd=REPO, env=ENV, capture_output=True, text=True, timeout=120, check=False,
        preexec_fn=as_a_user(),
    )  # fmt: skip


def read_only(folder: Path) -> Path:
    """``folder`` (made if missing), with mode 555; skips the test where even that cannot stop a child's writes."""
    folder.mkdir(parents=True, exist_ok=True)
    folder.chmod(0o555)
    probe = f"open({str(folder / 'probe')!r}, 'w')"
    try:
        wrote = run_as_a_user("-c", probe).returncode == 0
    except subprocess.SubprocessError as error:  # the capability could not be dropped (no CAP_SETPCAP)
        wrote, why = True, f"root, and its capabilities cannot be dropped ({error})"
    else:
        why = "its mode does not stop this user's writes"
    if wrote:
        folder.chmod(0o755)
        pytest.skip(f"no read-only folder can be made here: {why}")
    return folder


# What the matrix session does with `-- --resume ARGS`: start_matrix with the interpreters nox found (here, the one
# running the tests under the run's two ids); a UsageError is the session's error.
RESUME = """
import sys
from pathlib import Path
from interpmatrix import cli, discovery

answer = discovery.probe(Path(sys.executable))
found = [discovery.interpreter_from_probe(answer, "path", name) for name in ("host", "twin")]
argv = sys.argv[1:]
try:
    cli.start_matrix(cli.parse_matrix_args(argv), argv, found)
except cli.UsageError as error:
    sys.exit(str(error))
"""


def test_a_read_only_run_folder_is_named_with_what_to_do_and_the_run_then_resumes(tmp_path: Path) -> None:
    run_dir = tiny_run(tmp_path)
    run = read_only(run_dir.path)
    refused = run_as_a_user("-m", "interpmatrix", "measure", str(run))
    assert (refused.returncode, refused.stdout) == (2, "")
    assert refused.stderr == (
        f"error: cannot write {run}/writer.lock: Permission denied; the cells measured so far are kept: make {run} "
        "writable (or free space on its disk), then `nox -s matrix -- --resume run` measures the rest\n"
    )
    # `nox -s matrix -- --resume run` stops with the same advice, before any venv is built.
    refused = run_as_a_user("-c", RESUME, "--resume", "run", "--results-dir", str(run.parent))
    assert (refused.returncode, refused.stdout) == (1, "")
    assert refused.stderr == (
        f"cannot write the run's results in {run}: Permission denied; make it a folder you can write to, then run "
        "the matrix again\n"
    )
    # What the messages say to do works.
    run.chmod(0o755)
    measure(run_dir)
    assert cells(run_dir) == COMPLETE


def test_a_read_only_reports_folder_is_named_with_what_to_do(tmp_path: Path) -> None:
    reports = read_only(tmp_path / "reports")
    refused = run_as_a_user("-m", "interpmatrix", "report", str(RUN_QUICK), "--reports-dir", str(reports))
    assert (refused.returncode, refused.stdout) == (2, "")
    # The charts are written first.
    assert refused.stderr == (
        f"error: cannot write {reports}/2026-11-22T01-11-26Z-speedup.png: Permission denied; make that folder "
        "writable, or write elsewhere with --reports-dir DIR\n"
    )
    assert list(reports.iterdir()) == []


def refuse_to_provision(**kwargs: object) -> list:
    raise AssertionError("provisioning started: as root it runs apt-get")


def test_a_results_folder_that_cannot_be_made_stops_the_matrix_before_anything_runs(
    tmp_path: Path, found  # noqa: F811
) -> None:
    # A file stands where the results folder should be: no user can write into it, root included.
    (tmp_path / "results").write_text("not a folder\n")
    results = tmp_path / "results" / "runs"
    argv = ["--workload-file", str(TINY), "--no-provision", "--results-dir", str(results)]
    with pytest.raises(cli.UsageError) as refused:
        cli.start_matrix(cli.parse_matrix_args(argv), argv, found, provision=refuse_to_provision)
    assert str(refused.value) == (
        f"cannot write the run's results in {results}: Not a directory; make it a folder you can write to, then run "
        "the matrix again"
    )


@pytest.mark.parametrize("value", ["-5", "nan"])
def test_a_negative_or_nan_timeout_is_refused_up_front_with_the_valid_range(
    tmp_path: Path, found, value: str  # noqa: F811
) -> None:
    # Refused before provisioning, which as root runs apt-get, and before any folder is made.
    argv = ["--timeout", value, "--results-dir", str(tmp_path / "results")]
    with pytest.raises(cli.UsageError) as refused:
        cli.start_matrix(cli.parse_matrix_args(argv), argv, found, provision=refuse_to_provision)
    assert str(refused.value) == (
        f"argument --timeout: must be a number of seconds above 0, e.g. 120 (got {value}); `nox -s matrix -- --help` "
        "lists the options"
    )
    assert list(tmp_path.iterdir()) == []
    # `nox -s workloads -- --check FILE --timeout ...` says the same.
    with pytest.raises(cli.UsageError) as refused:
        cli.workloads_parser().parse_args(["--check", str(TINY), "--timeout", value])
    assert str(refused.value) == (
        f"argument --timeout: must be a number of seconds above 0, e.g. 120 (got {value}); `nox -s workloads -- "
        "--help` lists the options"
    )


HANGS = '''\
"""run() never returns, and leaves a process of its own running."""

import os
import signal
import subprocess
import sys
import time


def run():
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
    with open(os.path.join(os.path.dirname(__file__), "child.pid"), "w") as file:
        file.write(str(child.pid))
    time.sleep(3600)
'''


def test_the_check_of_a_file_whose_run_hangs_stops_at_its_time_limit_with_what_it_started(
    tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "hangs.py"
    path.write_text(HANGS)
    # The workloads session's default: the default profile's cell time limit.
    assert cli.workloads_parser().parse_args(["--check", str(path)]).timeout == 120
    started = time.monotonic()
    failed = external.run_check(external.inspect_file(path), sys.executable, str(tmp_path / "packages"), timeout=3)
    assert time.monotonic() - started < 15
    assert failed == (
        f"{path} did not finish its check within 3 s (importing it, setup() and one run()), and was stopped with "
        "every process it started; if one run() takes that long, give it more: --timeout SECONDS"
    )
    child = int((tmp_path / "child.pid").read_text())
    # SIGKILL takes effect when the process next runs: on a loaded machine, a moment after the kill.
    deadline = time.monotonic() + 5
    while alive(child) and time.monotonic() < deadline:
        time.sleep(0.05)
    try:
        assert not alive(child)
    finally:
        if alive(child):
            os.kill(child, signal.SIGKILL)
    # What it did before the time limit is on the console, as it came.
    assert capfd.readouterr().out.splitlines()[1].startswith("import and setup(): ")


def test_the_check_of_a_good_file_passes_within_its_time_limit(
    tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    assert external.run_check(external.inspect_file(TINY), sys.executable, str(tmp_path / "packages"), 30) is None
    said = capfd.readouterr().out.splitlines()
    assert said[-2:] == ["matches EXPECTED", "ok: the file follows the protocol and runs here"]
