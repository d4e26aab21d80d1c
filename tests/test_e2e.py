"""End to end: `nox -s matrix` on every interpreter present, two workloads, quick profile, as a user runs it.

primes brings the compiled bindings, numeric the packages installed per interpreter (numpy, numexpr), so both ways a
cell can be unavailable on an interpreter are exercised for real.

This is the real thing: nox builds each interpreter's venv, pyperf runs the cells, the report is written. It asserts
the report's shape (a column per interpreter, a number in every cell that ran, a reason in every cell that did not),
never a timing.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from interpmatrix import discovery
from interpmatrix.registry import REPO_ROOT, WORKLOADS, find_workload
from interpmatrix.results import RunDir, latest_run

pytestmark = pytest.mark.e2e


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
    expected = [i.id for i in discovery.default_selection(discovery.discover())]
    assert run_dir.read_run()["interpreters"] == expected
    report = (reports / "latest.md").read_text()
    assert (reports / f"{run_dir.run_id}.md").read_text() == report
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
                else:
                    assert re.search(r"\d+(\.\d+)? (ms|us|sec) ± ", text), (iid, cell.name, text)
    # The only cells allowed to fail here are bindings or packages that cannot exist on an interpreter, with the
    # reason; the pure-Python reference of each workload runs everywhere.
    for iid in expected:
        for name, failure in run_dir.read_failures(iid).items():
            assert failure.kind == "unavailable" and failure.reason, (iid, name, failure)
            assert "/pure@" not in name


def test_packages_are_installed_per_interpreter_or_say_why(matrix_run) -> None:
    run_dir, _, _ = matrix_run
    for iid in run_dir.read_run()["interpreters"]:
        packages = run_dir.read_interpreter(iid)["packages"]
        assert set(packages) == {"numpy", "numexpr"}
        failures = run_dir.read_failures(iid)
        for name, record in packages.items():
            if record["ok"]:
                assert record["version"]
            else:
                # pip's own reason, carried into every cell that needs the package.
                assert record["reason"]
                needing = [cell.name for cell in find_workload("numeric").cells() if f"/{name}" in cell.name]
                assert needing and all(failures[cell].reason == record["reason"] for cell in needing)


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
