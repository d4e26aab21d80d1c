"""Bad input is refused before anything runs, with a message that lists what is valid."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from interpmatrix import cli
from interpmatrix.discovery import assign_ids
from interpmatrix.registry import WORKLOADS

FIXTURES = Path(__file__).parent / "fixtures" / "probes"


@pytest.fixture
def found():
    answers = [json.loads(path.read_text()) for path in sorted(FIXTURES.glob("*.json"))]
    return assign_ids([(answer["probe"], answer["origin"]) for answer in answers])


def plan(tmp_path: Path, found, *argv: str) -> cli.Plan:
    return cli.plan_matrix([*argv, "--results-dir", str(tmp_path / "results")], found)


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--workloads", "countdown,nope"], "unknown workload 'nope'; valid workloads: countdown, primes"),
        (["--profile", "slow"], "unknown profile 'slow'; valid profiles: quick, default, rigorous"),
        (["--interpreters", "cpython-4.0"], "cpython-3.11"),
        (["--interpreters", "cpython-2.7"], "3.9"),
        (["--interpreters", "cpython-3.11", "--baseline", "pypy3.9"], "baseline 'pypy3.9' is not among"),
    ],
)
def test_bad_names_are_refused_and_nothing_is_written(tmp_path: Path, found, argv, message) -> None:
    with pytest.raises(cli.UsageError, match=message.replace("(", r"\(").replace(".", r"\.")):
        plan(tmp_path, found, *argv)
    assert not (tmp_path / "results").exists()


def test_plan_writes_the_run_file(tmp_path: Path, found) -> None:
    result = plan(tmp_path, found, "--workloads", "primes", "--interpreters", "cpython-3.11,pypy3.9", "--profile", "quick")
    run = result.run_dir.read_run()
    assert run["interpreters"] == ["cpython-3.11", "pypy3.9"]
    assert run["workloads"] == ["primes"]
    assert run["profile"] == "quick"
    assert run["command"].startswith("nox -s matrix -- --workloads primes")
    assert run["status"] == "planned"
    assert {i["id"] for i in run["discovered"]} >= {"cpython-2.7", "cpython-3.11.2"}


def test_default_plan_takes_every_workload_and_the_default_interpreters(tmp_path: Path, found) -> None:
    run = plan(tmp_path, found).run_dir.read_run()
    assert run["workloads"] == [workload.name for workload in WORKLOADS]
    assert "cpython-3.11.2" not in run["interpreters"] and "pypy3.9" in run["interpreters"]


def test_resume_reopens_the_latest_run(tmp_path: Path, found) -> None:
    first = plan(tmp_path, found, "--workloads", "primes")
    again = plan(tmp_path, found, "--resume")
    assert again.run_dir == first.run_dir
    assert [i.id for i in again.interpreters] == first.run_dir.read_run()["interpreters"]


def test_resume_without_a_run_says_what_to_do(tmp_path: Path, found) -> None:
    with pytest.raises(cli.UsageError, match="run `nox -s matrix` first"):
        plan(tmp_path, found, "--resume")


def test_workloads_lists_every_workload_and_claim(capsys: pytest.CaptureFixture[str]) -> None:
    from interpmatrix.registry import CLAIMS

    assert cli.main(["workloads"]) == 0
    out = capsys.readouterr().out
    for workload in WORKLOADS:
        assert f"| {workload.name} " in out
    for claim in CLAIMS:
        assert claim.statement in out
