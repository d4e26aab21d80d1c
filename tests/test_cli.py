"""Bad input is refused before anything runs, with a message that lists what is valid."""

from __future__ import annotations

import io
import json
import os
import shlex
import tarfile
from pathlib import Path

import pytest
import test_faults_lock as faults  # a real second writer, and the measuring process

from interpmatrix import cli, lock, provision, registry
from interpmatrix.discovery import assign_ids
from interpmatrix.provision import Outcome
from interpmatrix.registry import WORKLOADS, workload_names

FIXTURES = Path(__file__).parent / "fixtures" / "probes"
RUN_A = Path(__file__).parent / "fixtures" / "run-claims"
RUN_B = Path(__file__).parent / "fixtures" / "run-quick"


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
    assert "cpython-3.11.2" not in run["interpreters"] and "pypy3.11" in run["interpreters"]
    assert "pypy3.9" not in run["interpreters"]


def test_resume_reopens_the_latest_run(tmp_path: Path, found) -> None:
    first = plan(tmp_path, found, "--workloads", "primes")
    again = plan(tmp_path, found, "--resume")
    assert again.run_dir == first.run_dir
    assert [i.id for i in again.interpreters] == first.run_dir.read_run()["interpreters"]


def test_resume_without_a_run_says_what_to_do(tmp_path: Path, found) -> None:
    with pytest.raises(cli.UsageError, match="run `nox -s matrix` first"):
        plan(tmp_path, found, "--resume")


def test_workloads_lists_every_workload_and_claim(capsys: pytest.CaptureFixture[str]) -> None:
    from interpmatrix.questions import CLAIMS

    assert cli.main(["workloads"]) == 0
    out = capsys.readouterr().out
    for workload in WORKLOADS:
        assert f"| {workload.name} " in out
    for claim in CLAIMS:
        assert claim.statement in out


# --------------------------------------------------------------------------------------------------------------------
# The matrix session's options: what argparse parsed is what decides


@pytest.mark.parametrize("argv", [["--no-prov"], ["--nop"], ["--resu"], ["--work", "primes"], ["--time=5"]])
def test_abbreviated_options_are_refused(tmp_path: Path, found, argv: list[str]) -> None:
    with pytest.raises(cli.UsageError, match=r"unrecognized arguments: .*`nox -s matrix -- --help` lists the options"):
        cli.parse_matrix_args(argv)
    with pytest.raises(cli.UsageError):
        plan(tmp_path, found, *argv)
    assert not (tmp_path / "results").exists()


@pytest.mark.parametrize(
    ("parser", "argv", "refusal"),
    [
        # The workloads session turns a UsageError into nox's own failure, as the matrix session does.
        (cli.workloads_parser, ["--che", "x.py"], cli.UsageError),
        (cli.provision_parser, ["--on", "pypy"], SystemExit),
    ],
)
def test_other_parsers_refuse_abbreviations_too(parser, argv: list[str], refusal: type[BaseException]) -> None:
    with pytest.raises(refusal):
        parser().parse_args(argv)


def test_provision_checks_the_cpython_source_before_anything_runs(tmp_path: Path, capsys) -> None:
    with pytest.raises(SystemExit):
        cli.provision_parser().parse_args(["--cpython-source", str(tmp_path / "Python-3.14.2.tar.xz")])
    assert ("argument --cpython-source: " + str(tmp_path / "Python-3.14.2.tar.xz") + ": no such file; give the path "
            "of a CPython source tarball of 3.13 or newer") in capsys.readouterr().err
    tarball = tmp_path / "Python-3.14.2.tar.xz"
    with tarfile.open(tarball, "w:xz") as archive:
        header = b'#define PY_VERSION "3.14.2"\n'
        info = tarfile.TarInfo("Python-3.14.2/Include/patchlevel.h")
        info.size = len(header)
        archive.addfile(info, io.BytesIO(header))
    args = cli.provision_parser().parse_args(["--cpython-source", str(tarball), "--only", "free-threaded"])
    assert args.cpython_source == provision.Source("3.14.2", tarball) and args.only == ["free-threaded"]
    assert cli.provision_parser().parse_args([]).cpython_source is None


def test_main_refuses_abbreviations(tmp_path: Path) -> None:
    with pytest.raises(SystemExit):
        cli.main(["compare", str(RUN_A), str(RUN_B), "--ou", str(tmp_path / "c.md")])
    assert not (tmp_path / "c.md").exists()


def refuse_to_provision(**_: object) -> list[Outcome]:
    pytest.fail("provisioning ran")


@pytest.mark.parametrize(
    ("argv", "resume"),
    [(["--resume"], "latest"), (["--resume", "{run_id}"], "{run_id}"), (["--resume={run_id}"], "{run_id}")],
)
def test_every_spelling_of_resume_resumes_without_provisioning(tmp_path: Path, found, argv, resume) -> None:
    first = plan(tmp_path, found, "--workloads", "primes")
    argv = [arg.format(run_id=first.run_dir.run_id) for arg in argv] + ["--results-dir", str(tmp_path / "results")]
    args = cli.parse_matrix_args(argv)
    assert args.resume == resume.format(run_id=first.run_dir.run_id)
    assert not cli.should_provision(args)
    start = cli.start_matrix(args, argv, found, provision=refuse_to_provision)
    assert start.restart is None and start.plan is not None
    assert start.plan.run_dir == first.run_dir


@pytest.mark.faults
def test_resuming_a_run_another_process_writes_fails_before_any_venv(tmp_path: Path, found) -> None:
    first = plan(tmp_path, found, "--workloads", "primes")
    run_id = first.run_dir.run_id
    holder = faults.start(faults.HOLD_RUN, str(first.run_dir.path))
    try:
        argv = ["--resume", run_id, "--results-dir", str(tmp_path / "results")]
        # The matrix session says this and stops: no bench session is queued, no venv built.
        with pytest.raises(lock.Busy) as busy:
            cli.start_matrix(cli.parse_matrix_args(argv), argv, found, provision=refuse_to_provision)
    finally:
        holder.kill()
        holder.wait(timeout=10)
    assert busy.value.holder.pid == holder.pid
    assert str(busy.value).startswith(f"run {run_id} is being written by pid {holder.pid} (`")
    assert str(busy.value).endswith(f"continue the run with `nox -s matrix -- --resume {run_id}`")
    assert first.run_dir.read_run()["status"] == "planned"


@pytest.mark.faults
def test_the_nox_that_plans_a_run_holds_it(tmp_path: Path, found) -> None:
    argv = ["--no-provision", "--workloads", "primes", "--results-dir", str(tmp_path / "results")]
    started = cli.start_matrix(cli.parse_matrix_args(argv), argv, found, provision=refuse_to_provision)
    try:
        refused = faults.measure(started.plan.run_dir.path)
    finally:
        lock.release(lock.run_lock(started.plan.run_dir))
    assert refused.returncode == 2
    assert refused.stderr.startswith(f"error: run {started.plan.run_dir.run_id} is being written by pid {os.getpid()}")


def test_no_provision_plans_without_provisioning(tmp_path: Path, found) -> None:
    argv = ["--no-provision", "--workloads", "primes", "--results-dir", str(tmp_path / "results")]
    start = cli.start_matrix(cli.parse_matrix_args(argv), argv, found, provision=refuse_to_provision)
    assert start.plan is not None and start.plan.run_dir.read_run()["provisioning"] == []


def test_help_prints_the_options_and_does_nothing_else(tmp_path: Path, found, capsys) -> None:
    argv = ["--help", "--results-dir", str(tmp_path / "results")]
    start = cli.start_matrix(cli.parse_matrix_args(argv), argv, found, provision=refuse_to_provision)
    assert start == cli.MatrixStart()
    out = capsys.readouterr().out
    assert out.startswith("usage: nox -s matrix --") and "--no-provision" in out and cli.HANDOVER_OPTION not in out
    assert not (tmp_path / "results").exists()


# --------------------------------------------------------------------------------------------------------------------
# After provisioning new interpreters nox restarts itself: what provisioning did goes over in a file


OUTCOMES = [
    Outcome("pypy", tried=[("uv", "installed pypy3.9")], provided=["/cache/pypy3.9/bin/pypy3.9"], seconds=12.34),
    Outcome("free-threaded", tried=[("python.org", "no build for this machine")], error="nothing worked"),
]


def test_the_restarted_nox_gets_provisioning_through_a_file(tmp_path: Path, found, monkeypatch) -> None:
    monkeypatch.setenv("INTERPMATRIX_CACHE", str(tmp_path / "cache"))
    argv = ["--workloads", "primes", "--interpreters", "cpython-3.11", "--results-dir", str(tmp_path / "results")]
    # The nox that loaded the noxfile knew one interpreter fewer than discovery finds after provisioning.
    start = cli.start_matrix(
        cli.parse_matrix_args(argv), argv, found[:-1], provision=lambda echo: OUTCOMES, discover=lambda: found
    )
    assert start.plan is None and not (tmp_path / "results").exists()
    *options, handover = start.restart
    assert options == argv
    name, path = handover.split("=", 1)
    assert name == cli.HANDOVER_OPTION and Path(path).parent == tmp_path / "cache" / "handover"
    assert not any("{" in arg for arg in start.restart), "nox echoes the command: no JSON in it"

    again = cli.start_matrix(cli.parse_matrix_args(start.restart), start.restart, found, provision=refuse_to_provision)
    run = again.plan.run_dir.read_run()
    assert run["provisioning"] == [outcome.to_dict() for outcome in OUTCOMES]
    assert run["command"] == shlex.join(["nox", "-s", "matrix", "--", *argv])
    assert not list((tmp_path / "cache" / "handover").iterdir()), "the file is read once, then deleted"


def test_provisioning_is_recorded_alike_with_or_without_a_restart(tmp_path: Path, found, monkeypatch) -> None:
    monkeypatch.setenv("INTERPMATRIX_CACHE", str(tmp_path / "cache"))
    argv = ["--workloads", "primes", "--results-dir", str(tmp_path / "results")]
    runs = []
    for known in (found, found[:-1]):
        start = cli.start_matrix(
            cli.parse_matrix_args(argv), argv, known, provision=lambda echo: OUTCOMES, discover=lambda: found
        )
        if start.restart is not None:
            start = cli.start_matrix(cli.parse_matrix_args(start.restart), start.restart, found)
        runs.append(start.plan.run_dir.read_run())
    assert runs[0]["provisioning"] == runs[1]["provisioning"] == json.loads(json.dumps([o.to_dict() for o in OUTCOMES]))
    assert runs[0]["command"] == runs[1]["command"]


def test_a_handover_file_read_before_says_what_to_do(tmp_path: Path, found, monkeypatch) -> None:
    monkeypatch.setenv("INTERPMATRIX_CACHE", str(tmp_path / "cache"))
    path = cli.write_handover([outcome.to_dict() for outcome in OUTCOMES])
    assert cli.read_handover(path) == [outcome.to_dict() for outcome in OUTCOMES]
    argv = [f"{cli.HANDOVER_OPTION}={path}", "--results-dir", str(tmp_path / "results")]
    with pytest.raises(cli.UsageError, match=f"is gone: .*run `nox -s matrix` again without {cli.HANDOVER_OPTION}"):
        cli.start_matrix(cli.parse_matrix_args(argv), argv, found, provision=refuse_to_provision)
    assert not (tmp_path / "results").exists()


def test_the_handover_option_is_not_in_the_recorded_command() -> None:
    for handed in (["--handover=/c/h.json"], ["--handover", "/c/h.json"]):
        assert cli._command_line(["--profile", "quick", *handed, "--no-provision"]) == (
            "nox -s matrix -- --profile quick --no-provision"
        )
    assert cli._command_line(["--handover=/c/h.json"]) == "nox -s matrix"


# --------------------------------------------------------------------------------------------------------------------
# Values out of range are refused with the valid range


@pytest.mark.parametrize("value", ["-5", "0", "nan", "inf", "-inf", "ten"])
def test_a_timeout_must_be_a_positive_number_of_seconds(tmp_path: Path, found, value: str) -> None:
    with pytest.raises(cli.UsageError, match=r"argument --timeout: must be a number of seconds above 0, e\.g\. 120"):
        plan(tmp_path, found, f"--timeout={value}")
    assert not (tmp_path / "results").exists()


def test_a_positive_timeout_is_kept(tmp_path: Path, found) -> None:
    assert plan(tmp_path, found, "--timeout", "0.5").run_dir.read_run()["cell_timeout"] == 0.5


def test_a_run_records_the_code_its_cells_run(tmp_path: Path, found) -> None:
    """So that runs of other code are not pooled (tests/test_pool.py has the refusal)."""
    recorded = plan(tmp_path, found).run_dir.read_run()["measured_code"]
    assert recorded == registry.measured_code() and "workloads/numeric.py" in recorded


def test_resume_refuses_a_run_of_other_code_naming_the_files(tmp_path: Path, found) -> None:
    """Its cells would get rounds of two programs: the run as it was is kept, budget included."""
    first = plan(tmp_path, found, "--workloads", "primes")
    recorded = first.run_dir.read_run()["measured_code"]
    first.run_dir.update_run(measured_code={**recorded, "workloads/primes.py": "0" * 64, "workloads/gone.py": "1"})
    before = first.run_dir.run_file.read_bytes()
    with pytest.raises(cli.UsageError) as refused:
        plan(tmp_path, found, "--resume", "--budget", "5")
    assert str(refused.value) == (
        f"run {first.run_dir.run_id} measured other code than this checkout's (workloads/gone.py, "
        "workloads/primes.py): its cells would mix two programs under one name; start a new run, or check out the "
        "code it measured to resume it"
    )
    assert first.run_dir.run_file.read_bytes() == before


def test_a_run_from_before_runs_recorded_their_code_still_resumes(tmp_path: Path, found) -> None:
    first = plan(tmp_path, found, "--workloads", "primes")
    run = first.run_dir.read_run()
    del run["measured_code"]
    first.run_dir.run_file.write_text(json.dumps(run))
    assert plan(tmp_path, found, "--resume").run_dir == first.run_dir


@pytest.mark.parametrize("value", ["", " , "])
def test_empty_workloads_are_refused(tmp_path: Path, found, value: str) -> None:
    expected = f"--workloads is empty: name workloads ({', '.join(workload_names())}) or leave the option out for all"
    with pytest.raises(cli.UsageError) as error:
        plan(tmp_path, found, "--workloads", value)
    assert str(error.value) == expected
    assert not (tmp_path / "results").exists()


@pytest.mark.parametrize(
    "option",
    [
        ["--profile", "quick"],
        ["--interpreters", "cpython-3.11"],
        ["--workloads", "primes"],
        ["--workload-file", "mine.py"],
        ["--baseline", "pypy3.9"],
        ["--timeout", "60"],
    ],
)
def test_resume_refuses_options_that_would_change_the_run(tmp_path: Path, found, option: list[str]) -> None:
    first = plan(tmp_path, found, "--workloads", "primes")
    with pytest.raises(cli.UsageError) as error:
        plan(tmp_path, found, "--resume", *option)
    assert str(error.value) == (
        f"--resume continues a run with the options it was started with: leave out {option[0]}, "
        "or start a new run without --resume to change them"
    )
    assert [path.name for path in (tmp_path / "results").iterdir()] == [first.run_dir.run_id]


# --------------------------------------------------------------------------------------------------------------------
# compare and merge are subcommands of the one command line


def test_compare_prints_or_writes_the_comparison(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from interpmatrix.compare import render_comparison
    from interpmatrix.results import RunDir

    expected = render_comparison(RunDir(RUN_A), RunDir(RUN_B))
    assert cli.main(["compare", str(RUN_A), str(RUN_B)]) == 0
    assert capsys.readouterr().out == expected
    out = tmp_path / "new" / "compare.md"
    assert cli.main(["compare", str(RUN_A), str(RUN_B), "--out", str(out)]) == 0
    assert capsys.readouterr().out == f"wrote {out}\n"
    assert out.read_text(encoding="utf-8") == expected


def test_compare_refuses_a_folder_that_is_not_a_run(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["compare", str(tmp_path), str(RUN_B), "--out", str(tmp_path / "compare.md")]) == 2
    captured = capsys.readouterr()
    assert captured.err.startswith(f"error: run A: {tmp_path} is not a matrix run (no run.json); pass two run folders")
    assert captured.out == "" and not (tmp_path / "compare.md").exists()


def test_merge_writes_one_run_and_says_how_to_report_it(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "merged"
    assert cli.main(["merge", "--out", str(out), f"laptop={RUN_A}", f"server={RUN_B}"]) == 0
    assert capsys.readouterr().out == f"wrote {out}; its report: python -m interpmatrix report {out}\n"
    interpreters = json.loads((out / "run.json").read_text(encoding="utf-8"))["interpreters"]
    assert interpreters[0].endswith("@laptop") and interpreters[-1].endswith("@server")


def test_merge_refuses_a_folder_that_is_not_a_run(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "merged"
    assert cli.main(["merge", "--out", str(out), f"laptop={RUN_A}", f"server={tmp_path}"]) == 2
    assert capsys.readouterr().err.startswith(f"error: machine 'server': {tmp_path} is not a matrix run (no run.json)")
    assert not out.exists()
