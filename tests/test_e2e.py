"""End to end: `nox -s matrix` on every interpreter present, two workloads, quick profile, as a user runs it.

primes brings the compiled bindings, numeric the packages installed per interpreter (numpy, numexpr), so both ways a
cell can be unavailable on an interpreter are exercised for real.

This is the real thing: nox builds each interpreter's venv, pyperf runs the cells, the report is written. It asserts
the report's shape (a column per interpreter, a number in every cell that ran, a reason in every cell that did not),
never a timing.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pyperf
import pytest

from interpmatrix import discovery, selection
from interpmatrix.harness_protocol import CODE_SHIFT_METADATA
from interpmatrix.registry import REPO_ROOT, WORKLOADS, find_workload
from interpmatrix.results import RunDir, latest_run

pytestmark = pytest.mark.e2e

# A number in a cell: a time with its std dev, or a peak memory in pyperf's units (a memory cell has one value per
# worker process, and the quick profile runs one process, so it has no std dev).
MEASURED = re.compile(r"\d+(\.\d+)? ((ns|us|ms|sec) ± |(KiB|MiB|GiB)\b)")


def nox(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "nox", *args],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        env={**os.environ, "CI": "true"},
        timeout=1800,
    )


@pytest.fixture(scope="module")
def matrix_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[RunDir, Path, subprocess.CompletedProcess[str]]:
    out = tmp_path_factory.mktemp("e2e")
    result = nox(
        "-s", "matrix", "--",
        "--workloads", "primes,numeric",
        "--profile", "quick",
        # Quick's own budget is 3 minutes; 1.5 keep the test short: the first pass of two workloads on every
        # interpreter does not fit, so the reference cells go first (test_a_resumed_run_measures_what_the_budget_left).
        "--budget", "1.5",
        "--results-dir", str(out / "results"),
        "--reports-dir", str(out / "reports"),
    )  # fmt: skip
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return latest_run(out / "results"), out / "reports", result


def table_rows(markdown: str, heading: str) -> list[list[str]]:
    """The rows (header first) of the first table after ``heading``."""
    section = markdown.split(heading, 1)[1]
    lines = [line for line in section.splitlines() if line.startswith("|")]
    table = []
    for line in lines:
        if set(line) <= set("|-: "):
            continue
        table.append([cell.strip() for cell in line.strip("|").split("|")])
        if len(table) > 1 and not section.split(line, 1)[1].lstrip(" ").startswith("\n|"):
            break
    return table


def test_every_default_interpreter_gets_a_column(matrix_run) -> None:
    run_dir, reports, _ = matrix_run
    expected = [i.id for i in selection.default_selection(discovery.discover())]
    assert run_dir.read_run()["interpreters"] == expected
    report = (reports / "latest.md").read_text()
    assert (reports / f"{run_dir.run_id}.md").read_text() == report
    assert_every_cell_measured_or_says_why(run_dir, report, expected)
    # The budget did not last the first pass (no assertion on time: the count of what it left): the reference cells
    # went first, so each workload's is measured wherever it can run.
    assert run_dir.read_info().first_pass_unreached > 0
    for workload in ("primes", "numeric"):
        header, *rows = table_rows(report, f"### {workload}")
        reference = rows[0]  # the reference variant at the first size: the first cell of the workload
        assert reference[0].startswith(f"{find_workload(workload).reference} "), reference[0]
        for iid, text in zip(header[1:], reference[1:]):
            assert MEASURED.search(text) or text.startswith("— unavailable"), (iid, workload, text)


def assert_every_cell_measured_or_says_why(run_dir: RunDir, report: str, expected: list[str]) -> None:
    """Each workload table has a column per interpreter and a row per cell: a figure, or why there is none (a
    failure, or the budget that ran out before the cell)."""
    unreached = run_dir.read_info().first_pass_unreached
    for workload in ("primes", "numeric"):
        header, *rows = table_rows(report, f"### {workload}")
        assert header[1:] == expected
        cells = find_workload(workload).cells()
        assert len(rows) == len(cells)
        for row, cell in zip(rows, cells):
            for iid, text in zip(header[1:], row[1:]):
                failures = run_dir.read_failures(iid)
                if cell.name in failures or "*" in failures:
                    assert text.startswith("—"), (iid, cell.name, text)
                elif unreached and text == "— not measured: budget spent":
                    continue
                else:
                    assert MEASURED.search(text), (iid, cell.name, text)
    # The only cells allowed to fail here are bindings or packages that cannot exist on an interpreter, with the
    # reason; the pure-Python reference of each workload runs everywhere.
    for iid in expected:
        self_timed = run_dir.read_interpreter(iid)["interpreter"].get("self_timed")
        for name, failure in run_dir.read_failures(iid).items():
            assert failure.kind == "unavailable" and failure.reason, (iid, name, failure)
            # A self-timed column (CPython 2.7) runs only the portable kernels: numeric's pure is not one.
            assert "/pure@" not in name or (self_timed and failure.reason.startswith("not supported there"))


def test_the_report_states_its_budget_and_decides_by_intervals(matrix_run) -> None:
    run_dir, reports, result = matrix_run
    report = (reports / "latest.md").read_text()
    info = run_dir.read_info()
    # The budget was kept (measuring only; the last round may run over by its estimate's error) and reported.
    assert info.budget_seconds == 90 and info.measured_seconds is not None
    assert info.budget_stopped in ("every decision within reach made", "budget spent",
                                   "no time left for another round",
                                   "the open decisions' cells failed or are not in this run",
                                   "the budget ran out before the first pass ended")
    assert "- **Budget:** 1:30 of measuring" in report and f"stopped: {info.budget_stopped}" in report
    assert re.search(r"- \*\*Decisions:\*\* \d+ of \d+ decisions made", report)
    # Every claim figure comes with its interval (or says it has none), and a claim is never ✗ without one.
    header, *rows = table_rows(report, "## Do the seeds' claims still hold?")
    assert rows
    for row in rows:
        for text in row[2:-1]:
            if text not in ("—", "n/a"):
                assert "[" in text, text
                assert text.endswith(("✓", "✗", "undecided")), text
                assert not ("[no interval]" in text and text.endswith(("✓", "✗"))), text
    assert "**Intervals.**" in report


def test_packages_are_installed_per_interpreter_or_say_why(matrix_run) -> None:
    assert_packages_installed_or_cells_say_why(matrix_run[0])


def assert_packages_installed_or_cells_say_why(run_dir: RunDir) -> None:
    """Each venv records numpy and numexpr with a version, or pip's reason, which every cell needing the package that
    was tried carries (a first pass the budget cut short has not tried them all)."""
    complete = run_dir.read_info().first_pass_unreached == 0
    for iid in run_dir.read_run()["interpreters"]:
        if run_dir.read_interpreter(iid)["interpreter"].get("self_timed"):
            continue  # no venv, no packages: the self-timing runner needs the interpreter alone
        packages = run_dir.read_interpreter(iid)["packages"]
        # A venv keeps what earlier runs installed into it too (pyperformance, after a `nox -s matrix` of the standard
        # suite in the same clone): this run's workloads need numpy and numexpr, and each entry says how it went.
        assert {"numpy", "numexpr"} <= set(packages)
        failures = run_dir.read_failures(iid)
        for name, record in packages.items():
            if record["ok"]:
                assert record["version"]
            else:
                # pip's own reason, carried into every cell that needs the package.
                assert record["reason"]
                needing = [cell.name for cell in find_workload("numeric").cells() if f"/{name}" in cell.name]
                tried = [cell for cell in needing if complete or cell in failures]
                assert needing and all(failures[cell].reason == record["reason"] for cell in tried)


# Run in a venv that has numexpr: the peak that numexpr's second call at 10^5 allocates (numpy reports its arrays to
# tracemalloc), and whether its answer still checks against the module's expected sum.
NUMEXPR_OUTPUT = r"""
import json, sys, tracemalloc
sys.path.insert(0, sys.argv[1])
import numeric
n = 100_000
first = numeric.numexpr(n, 2)
tracemalloc.start()
second = numeric.numexpr(n, 2)
_, peak = tracemalloc.get_traced_memory()
tracemalloc.stop()
print(json.dumps({"peak": peak, "agrees": second == numeric.expected(n) and first == numeric.expected(n)}))
"""


def test_numexpr_evaluates_into_an_output_its_process_keeps(matrix_run) -> None:
    """Every numexpr call after the first writes the process's kept output (workloads/numeric.py says why: a fresh
    10^7 result is faulted in at speeds 10x apart by the process), so a call allocates far less than its 800 KB
    result, and its answer still checks."""
    run_dir, _, _ = matrix_run
    # CPython's: PyPy has no tracemalloc.
    venvs = [
        record["venv_python"]
        for iid in run_dir.read_run()["interpreters"]
        if (record := run_dir.read_interpreter(iid))
        and record["interpreter"]["implementation"] == "cpython"
        and record.get("packages", {}).get("numexpr", {}).get("ok")
    ]
    assert venvs, "no CPython of the run installed numexpr"
    result = subprocess.run(
        [venvs[0], "-c", NUMEXPR_OUTPUT, str(REPO_ROOT / "workloads")], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    found = json.loads(result.stdout.strip().splitlines()[-1])
    assert found["agrees"]
    assert found["peak"] < 100_000 * 8 // 4, found


def test_results_are_pyperf_files(matrix_run) -> None:
    run_dir, _, _ = matrix_run
    for iid in run_dir.read_run()["interpreters"]:
        if run_dir.read_failures(iid):
            continue
        shown = subprocess.run(
            [sys.executable, "-m", "pyperf", "show", str(run_dir.results_file(iid))],
            capture_output=True, text=True, check=True,
        )  # fmt: skip
        assert "primes/pure@500" in shown.stdout
        facts = run_dir.read_interpreter(iid)
        assert facts is not None and facts["interpreter"]["id"] == iid


def test_progress_lines_and_report_path_are_printed(matrix_run) -> None:
    _, reports, result = matrix_run
    output = result.stdout + result.stderr
    assert re.search(r"\[1/\d+\] r1 \S+ +primes/pure@500 ", output)
    assert "left)" in output
    assert str(reports / "latest.md") in output


def test_unknown_workload_fails_before_running_anything(tmp_path: Path) -> None:
    result = nox("-s", "matrix", "--", "--workloads", "nope", "--results-dir", str(tmp_path))
    assert result.returncode != 0
    valid = ", ".join(workload.name for workload in WORKLOADS)
    assert f"unknown workload 'nope'; valid workloads: {valid}" in result.stdout + result.stderr
    assert not list(tmp_path.iterdir())


def test_provisioned_free_threaded_build_and_its_twin(matrix_run) -> None:
    """`nox -s matrix` provisioned (or found cached) a free-threaded CPython and its same-source GIL twin."""
    run_dir, reports, result = matrix_run
    found = {i.id: i for i in discovery.discover()}
    free_threaded = [i for i in found.values() if i.free_threaded and i.twin]
    assert free_threaded, result.stdout[-3000:]
    for ft in free_threaded:
        twin = found[ft.twin]
        assert twin.twin == ft.id and twin.version == ft.version and not twin.free_threaded
        for interpreter, expected in ((ft, "False"), (twin, "True")):
            gil = subprocess.run(
                [interpreter.executable, "-c", "import sys; print(sys._is_gil_enabled())"],
                capture_output=True, text=True, check=True,
            )  # fmt: skip
            assert gil.stdout.strip() == expected, interpreter.id
        assert {ft.id, twin.id} <= set(run_dir.read_run()["interpreters"])
    report = (reports / "latest.md").read_text()
    assert f"**{free_threaded[0].id}** against its twin **{free_threaded[0].twin}**" in report
    provisioning = {record["family"]: record for record in run_dir.read_run()["provisioning"]}
    assert provisioning["free-threaded"]["error"] is None and provisioning["pypy"]["error"] is None


def test_provisioning_again_reuses_the_cache() -> None:
    result = nox("-s", "provision")
    assert result.returncode == 0, result.stderr[-2000:]
    output = result.stdout + result.stderr
    assert "(cached, with twins)" in output and "building" not in output


# Bring your own workload: files outside the project, run across every interpreter present --------------------------

USER_FILES = {
    # A file that follows the protocol, with setup() and EXPECTED.
    "e2e_squares.py": '''"""Sum of squares: integer arithmetic in a generator."""
EXPECTED = 332833500


def setup():
    return 1000


def run(n):
    return sum(i * i for i in range(n))
''',
    # No EXPECTED, and a result that depends on the interpreter: a failed check, no number.
    "e2e_differs.py": '''"""The interpreter's own name."""
import sys


def run():
    return sys.implementation.name
''',
    # A requirement with no wheel for some interpreters (numexpr on PyPy): pip's reason in those cells.
    "e2e_numexpr.py": '''"""numexpr on a small array."""
REQUIREMENTS = ["numexpr"]
EXPECTED = 999000.0


def setup():
    import numpy
    return numpy.arange(1000.0)


def run(a):
    import numexpr
    return float(numexpr.evaluate("2 * a").sum())
''',
    "e2e_broken.py": "def run(:\n    pass\n",
}


@pytest.fixture(scope="module")
def user_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[RunDir, str, dict[str, Path]]:
    own = tmp_path_factory.mktemp("my-benchmarks")
    files = {name: own / name for name in USER_FILES}
    for name, path in files.items():
        path.write_text(USER_FILES[name])
    out = tmp_path_factory.mktemp("e2e-user")
    args = [arg for path in [*files.values(), own / "e2e_missing.py"] for arg in ("--workload-file", str(path))]
    requirements = own / "requirements.txt"
    requirements.write_text("six\nnot a requirement!!\n")
    args += ["--requirements", str(requirements)]
    result = nox("-s", "matrix", "--", *args, "--profile", "quick",
                 "--results-dir", str(out / "results"), "--reports-dir", str(out / "reports"))  # fmt: skip
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return latest_run(out / "results"), (out / "reports" / "latest.md").read_text(), files


def self_timed(run_dir: RunDir, iid: str) -> bool:
    """A column timed by interpmatrix's own runner (CPython 2.7, Jython, MicroPython, Pyodide): it runs the portable
    kernels only, and a user's file is "not supported there"."""
    return bool(run_dir.read_interpreter(iid)["interpreter"].get("self_timed"))


NOT_SUPPORTED = "— unavailable: not supported there: "


def test_a_user_file_runs_on_every_interpreter_with_its_own_section(user_run) -> None:
    run_dir, report, files = user_run
    interpreters = run_dir.read_run()["interpreters"]
    assert run_dir.read_run()["workloads"] == []
    header, *rows = table_rows(report, "### e2e_squares")
    assert header[1:] == interpreters and [row[0] for row in rows] == ["run", "run_memory", "startup"]
    for row in rows:
        for iid, text in zip(header[1:], row[1:]):
            if self_timed(run_dir, iid):
                assert text.startswith(NOT_SUPPORTED), (iid, row[0], text)
            else:
                assert MEASURED.search(text), (iid, row[0], text)
    # In the verdict too, with what the choice costs (its start-up, memory).
    verdict_line = next(line for line in report.splitlines() if line.startswith("- **Your workload** ([e2e_squares]"))
    assert "use **" in verdict_line or "stay on **" in verdict_line or "no clear winner" in verdict_line
    assert f"File: `{files['e2e_squares.py']}`" in report
    # Read in place: nothing of the user's files lands in the project's tree.
    assert not [path for path in REPO_ROOT.rglob("e2e_*.py") if ".nox" not in path.parts]


def test_results_that_differ_between_interpreters_are_a_failed_check(user_run) -> None:
    run_dir, report, _ = user_run
    header, *rows = table_rows(report, "### e2e_differs")
    assert len(rows) == 3
    for row in rows:
        for iid, text in zip(header[1:], row[1:]):
            assert text.startswith(NOT_SUPPORTED) if self_timed(run_dir, iid) else text == "— not run: wrong answer"
    first = next(iid for iid in run_dir.read_run()["interpreters"] if not self_timed(run_dir, iid))
    failure = run_dir.read_failures(first)["e2e_differs/run@1"]
    assert "gives different results on different interpreters" in failure.reason and "'pypy'" in failure.reason


def test_a_requirement_that_cannot_install_says_why_and_the_rest_run(user_run) -> None:
    run_dir, report, _ = user_run
    header, *rows = table_rows(report, "### e2e_numexpr")
    for row in rows:
        for iid, text in zip(header[1:], row[1:]):
            if self_timed(run_dir, iid):  # no venv, no pip: nothing to install there
                assert text.startswith(NOT_SUPPORTED), (iid, row[0], text)
                continue
            record = run_dir.read_interpreter(iid)["packages"]["numexpr"]
            if record["ok"]:
                assert MEASURED.search(text), (iid, row[0], text)
            else:
                assert text.startswith("— unavailable: "), (iid, row[0], text)
                assert run_dir.read_failures(iid)[f"e2e_numexpr/{row[0]}@1"].reason == record["reason"]


def test_the_users_requirements_are_tried_and_shown_with_the_verdict(user_run) -> None:
    """--requirements (six) and the files' REQUIREMENTS (numexpr) are tried on every column with a pip; the report
    shows them and the verdict says what they cost where it points."""
    run_dir, report, _ = user_run
    section = report.split("## Will my packages work?", 1)[1].split("\n## ", 1)[0]
    assert "requirements.txt line 2: 'not a requirement!!' is not a requirement" in section
    header, *rows = table_rows(section, "**Your requirements**")
    pip_columns = [iid for iid in run_dir.read_info().interpreters
                   if not self_timed(run_dir, iid) and not run_dir.read_interpreter(iid)["interpreter"].get("variant_of")]
    assert header[1:] == pip_columns
    assert [row[0].split(" (")[0] for row in rows[:-1]] == ["six", "numexpr"]
    for row in rows[:-1]:
        assert all(cell.startswith(("✓", "✗", "⏱")) for cell in row[1:]), row
    verdict = report.split("## Which interpreter should I use?", 1)[1].split("\n## ", 1)[0]
    assert "Your packages: " in verdict and "**Packages** (your requirements" in verdict


def test_bad_files_are_reported_and_run_nothing(user_run) -> None:
    run_dir, report, files = user_run
    refused = {Path(item["path"]).name: item["error"] for item in run_dir.read_run()["workload_file_errors"]}
    assert "line 1: syntax error" in refused["e2e_broken.py"]
    assert "does not exist" in refused["e2e_missing.py"]
    assert f"- `{files['e2e_broken.py']}`: {files['e2e_broken.py']}, line 1: syntax error" in report
    assert "### e2e_broken" not in report


def test_check_a_file_without_running_the_matrix(user_run, tmp_path: Path) -> None:
    _, _, files = user_run
    good = nox("-s", "workloads", "--", "--check", str(files["e2e_squares.py"]))
    assert good.returncode == 0, good.stdout[-2000:] + good.stderr[-2000:]
    output = good.stdout + good.stderr
    assert "follows the protocol" in output and "matches EXPECTED" in output
    bad = nox("-s", "workloads", "--", "--check", str(files["e2e_broken.py"]))
    assert bad.returncode != 0 and "line 1: syntax error" in bad.stdout + bad.stderr
    missing = nox("-s", "workloads", "--", "--check", str(tmp_path / "nope.py"))
    assert missing.returncode != 0 and "does not exist" in missing.stdout + missing.stderr


def test_pypys_worker_processes_start_their_machine_code_at_a_random_place(matrix_run) -> None:
    """Each PyPy worker that times its kernel compiled 0 to 15 small loops first (workloads/_code_layout.py) and says
    how many; CPython's workers, whose code the shift would not move, record none."""
    run_dir, _, _ = matrix_run
    found = {i.id: i for i in discovery.discover()}
    shifts = {}
    for iid in run_dir.read_run()["interpreters"]:
        if found[iid].implementation not in ("pypy", "cpython") or not run_dir.results_file(iid).exists():
            continue
        benchmark = pyperf.BenchmarkSuite.load(str(run_dir.results_file(iid))).get_benchmark("primes/pure@500")
        shifts[iid] = [run.get_metadata().get(CODE_SHIFT_METADATA) for run in benchmark.get_runs() if run.values]
    pypys = [iid for iid in shifts if found[iid].implementation == "pypy"]
    if not pypys:
        pytest.skip("no PyPy column ran here")
    for iid, recorded in shifts.items():
        assert recorded, iid
        if iid in pypys:
            assert all(isinstance(count, int) and 0 <= count < 16 for count in recorded), (iid, recorded)
        else:
            assert recorded == [None] * len(recorded), (iid, recorded)


def test_a_jit_column_ran_with_its_jit_on(matrix_run) -> None:
    """A JIT's column is its binary with PYTHON_JIT=1: the worker processes that timed must have had it on, and the
    column without it off (the interpreters table shows what the workers recorded)."""
    run_dir, reports, _ = matrix_run
    found = {i.id: i for i in discovery.discover()}
    jits = [iid for iid in run_dir.read_run()["interpreters"] if found[iid].variant_of and found[iid].is_jit]
    if not jits:
        pytest.skip("no CPython with a switchable JIT on this machine")
    header, *rows = table_rows((reports / "latest.md").read_text(), "## Interpreters")
    table = {row[0].split(" (")[0]: dict(zip(header, row)) for row in rows}
    for iid in jits:
        assert table[iid]["JIT"] == "enabled; workers: on"
        assert table[iid]["environment"] == "PYTHON_JIT=1"
        assert table[found[iid].variant_of]["JIT"] == "built, disabled; workers: off"


def test_a_resumed_run_measures_what_the_budget_left(matrix_run) -> None:
    """Last in the file: it changes the run the tests above read. `--resume --budget` gives the run minutes more, and
    the first pass ends: every cell has a figure or a failure with its reason."""
    run_dir, reports, _ = matrix_run
    left = run_dir.read_info().first_pass_unreached
    result = nox(
        "-s", "matrix", "--", "--resume", run_dir.run_id, "--budget", "6",
        "--results-dir", str(run_dir.path.parent), "--reports-dir", str(reports),
    )  # fmt: skip
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    info = run_dir.read_info()
    assert (left, info.first_pass_unreached, info.complete) == (left, 0, True)
    report = (reports / "latest.md").read_text()
    assert "not measured: budget spent" not in report
    assert_every_cell_measured_or_says_why(run_dir, report, run_dir.read_run()["interpreters"])
    # Now every cell that needs a package pip could not install carries pip's reason.
    assert_packages_installed_or_cells_say_why(run_dir)
