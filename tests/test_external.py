"""Workload files of the user's own (``--workload-file``): the protocol is checked before anything runs, a bad file
says what is wrong and leaves the rest of the run alone, and the runner checks results in the real interpreter."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from interpmatrix import cli, external
from interpmatrix.invocation import Step, run_step
from interpmatrix.measure import prepared_venvs
from interpmatrix.profiles import find_profile
from interpmatrix.registry import WORKLOADS, Cell, workload_names
from interpmatrix.results import CellFailure
from interpmatrix.run_info import RunInfo

from test_cli import found, plan  # noqa: F401  (the probe fixtures' interpreters)
from test_measure import HOST_ID, make_run

RUNNER = external.RUNNER

GOOD = '''\
"""Sum of squares: a loop of integer arithmetic."""

NAME = "squares"
REQUIREMENTS = ["tabulate==0.10.0"]
EXPECTED = 332833500


def setup():
    return 1000


def run(n):
    return sum(i * i for i in range(n))
'''


def write(folder: Path, name: str, source: str) -> Path:
    path = folder / name
    path.write_text(textwrap.dedent(source))
    return path


def test_a_file_that_follows_the_protocol_is_read_without_running_it(tmp_path: Path) -> None:
    path = write(tmp_path, "squares_file.py", GOOD + "\nraise SystemExit('imported!')\n")
    spec = external.inspect_file(path, workload_names())
    assert spec.name == "squares"
    assert spec.description == "Sum of squares: a loop of integer arithmetic."
    assert (spec.timed, spec.has_run, spec.has_setup, spec.has_expected) == ("run", True, True, True)
    assert spec.requirements == ("tabulate==0.10.0",)
    assert spec.path == str(path.resolve())
    workload = spec.to_workload()
    assert workload.group == external.USER_GROUP and workload.source == spec.path
    # Timed, its peak memory, and the start-up a script of it pays.
    assert [cell.name for cell in workload.cells()] == ["squares/run@1", "squares/run_memory@1", "squares/startup@1"]
    assert Cell.parse("squares/run@1") == workload.cells()[0]
    assert external.WorkloadFile.from_dict(json.loads(json.dumps(spec.to_dict()))) == spec


def test_bench_only_is_timed_by_itself_and_said_to_be_unchecked(tmp_path: Path) -> None:
    path = write(tmp_path, "timer.py", "def bench(loops):\n    return 0.001 * loops\n")
    spec = external.inspect_file(path)
    assert spec.timed == "bench" and not spec.has_run
    assert spec.description == "the workload in timer.py (it has no docstring)"
    assert spec.checked_by.startswith("not checked")


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("def run(:\n    pass\n", "line 1: syntax error"),
        ("x = 1\n\n\nif x:\nprint(x)\n", "line 5: syntax error: expected an indented block"),
        ("def main():\n    return 1\n", "defines neither run() nor bench(loops)"),
        ("def setup():\n    return 1\n\ndef run():\n    return 2\n", "run() must take one argument: what setup() returns"),
        ("def run(data):\n    return data\n", "run() must take no arguments (no setup() is defined)"),
        ("def bench():\n    return 1.0\n", "bench() must take loops"),
        ("async def run():\n    return 1\n", "run() is `async def`"),
        ("def setup(n):\n    return n\n\ndef run(n):\n    return n\n", "setup() must take no arguments"),
        ("NAME = 'primes'\ndef run():\n    return 1\n", "'primes' is already taken"),
        ("NAME = '1st'\ndef run():\n    return 1\n", "'1st' is not a valid name"),
        ("REQUIREMENTS = 'numpy'\ndef run():\n    return 1\n", "REQUIREMENTS must be a list of pip requirement strings"),
        ("import x\nREQUIREMENTS = x.deps\ndef run():\n    return 1\n", "line 2: REQUIREMENTS must be a list of strings written out"),
    ],
)
def test_a_bad_file_says_what_is_wrong(tmp_path: Path, source: str, message: str) -> None:
    path = write(tmp_path, "mine.py", source)
    with pytest.raises(external.WorkloadFileError) as error:
        external.inspect_file(path, workload_names())
    assert message in str(error.value)
    assert str(path) in str(error.value)


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        # An executable's first bytes: ELF's header pads with null bytes.
        (
            b"\x7fELF\x02\x01\x01\x00\x00\x00\x00\x00",
            "it holds a null byte (byte offset 7, line 1), as binary files do: pass the path of a .py file",
        ),
        (b"def run():\n    return '\xff\xfe'\n", "not valid UTF-8 at byte offset 23 (line 2): save it as UTF-8 text"),
        # Latin-1 text, saved without the coding line that would say so.
        (
            b'NAME = "caf\xe9"\n\ndef run():\n    return 1\n',
            "not valid UTF-8 at byte offset 11 (line 1): save it as UTF-8 text",
        ),
        # Its coding line says ascii, but it holds UTF-8's é: undecodable in the encoding it declares.
        (
            b"# -*- coding: ascii -*-\ndef run():\n    return '\xc3\xa9'\n",
            (
                "not valid ascii at byte offset 47 (line 3): save it in ascii, as its coding line says (or as UTF-8, "
                "without it)"
            ),
        ),
    ],
)
def test_a_file_that_is_not_python_text_says_so_without_echoing_its_bytes(
    tmp_path: Path, content: bytes, problem: str
) -> None:
    path = tmp_path / "mine.py"
    path.write_bytes(content)
    with pytest.raises(external.WorkloadFileError) as error:
        external.inspect_file(path, workload_names())
    assert str(error.value) == f"{path} is not a Python source file: {problem}"


def test_a_file_in_the_encoding_its_coding_line_declares_is_read(tmp_path: Path) -> None:
    path = tmp_path / "mine.py"
    path.write_bytes(b'# -*- coding: latin-1 -*-\n"""Caf\xe9 au lait."""\n\ndef run():\n    return 1\n')
    assert external.inspect_file(path).description == "Caf\xe9 au lait."
    path.write_bytes(b"# -*- coding: klingon -*-\ndef run():\n    return 1\n")
    with pytest.raises(external.WorkloadFileError) as error:
        external.inspect_file(path)
    assert str(error.value) == f"{path}: syntax error: unknown encoding: klingon"


def test_a_missing_path_or_a_folder_is_named(tmp_path: Path) -> None:
    with pytest.raises(external.WorkloadFileError, match="does not exist"):
        external.inspect_file(tmp_path / "nope.py")
    with pytest.raises(external.WorkloadFileError, match="is not a file"):
        external.inspect_file(tmp_path)


def test_every_problem_of_a_file_is_listed_at_once(tmp_path: Path) -> None:
    path = write(tmp_path, "mine.py", "NAME = 'countdown'\nREQUIREMENTS = [1]\ndef helper():\n    pass\n")
    with pytest.raises(external.WorkloadFileError) as error:
        external.inspect_file(path, workload_names())
    text = str(error.value)
    assert "neither run() nor bench" in text and "already taken" in text and "REQUIREMENTS" in text
    assert "README.md" in text


def test_a_bad_file_leaves_the_rest_of_the_run_to_run(tmp_path: Path, found) -> None:  # noqa: F811
    good = write(tmp_path, "squares.py", GOOD)
    broken = write(tmp_path, "broken.py", "def run(:\n")
    result = plan(tmp_path, found, "--workload-file", str(good), "--workload-file", str(broken),
                  "--workload-file", str(tmp_path / "missing.py"), "--interpreters", "cpython-3.11")
    run = result.run_dir.read_info()
    assert run.workloads == []  # files alone: no built-in workload unless --workloads names it
    assert [record["name"] for record in run.workload_files] == ["squares"]
    errors = {Path(item["path"]).name: item["error"] for item in run.workload_file_errors}
    assert "line 1: syntax error" in errors["broken.py"] and "does not exist" in errors["missing.py"]
    assert [w.name for w in external.workloads_of_run(run)] == ["squares"]


def test_files_combine_with_named_and_all_workloads(tmp_path: Path, found) -> None:  # noqa: F811
    good = write(tmp_path, "squares.py", GOOD)
    run = plan(tmp_path, found, "--workloads", "primes", "--workload-file", str(good)).run_dir.read_info()
    assert [w.name for w in external.workloads_of_run(run)] == ["primes", "squares"]
    run = plan(tmp_path, found, "--workloads", "all", "--workload-file", str(good)).run_dir.read_info()
    assert [w.name for w in external.workloads_of_run(run)] == [*workload_names(), "squares"]


def test_nothing_runs_when_every_file_is_bad(tmp_path: Path, found) -> None:  # noqa: F811
    broken = write(tmp_path, "broken.py", "def run(:\n")
    with pytest.raises(cli.UsageError, match="nothing to run: .*broken.py, line 1: syntax error"):
        plan(tmp_path, found, "--workload-file", str(broken))
    assert not (tmp_path / "results").exists()


def test_two_files_with_one_name_are_told_apart(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    first, second = write(tmp_path / "a", "same.py", GOOD), write(tmp_path / "b", "same.py", GOOD)
    good, bad = external.inspect_files([first, second], workload_names())
    assert [f.name for f in good] == ["squares"]
    assert "'squares' is already taken" in bad[0]["error"]


def test_a_resumed_run_refuses_an_edited_file(tmp_path: Path, found) -> None:  # noqa: F811
    good = write(tmp_path, "squares.py", GOOD)
    plan(tmp_path, found, "--workload-file", str(good), "--interpreters", "cpython-3.11")
    good.write_text(GOOD.replace("332833500", "1"))
    with pytest.raises(cli.UsageError, match="changed since this run began: start a new run"):
        plan(tmp_path, found, "--resume")


def test_relative_paths_are_taken_from_where_nox_was_started() -> None:
    argv = ["--workload-file", "mine.py", "--workload-file=/abs/b.py", "--workloads", "primes"]
    assert external.absolute_paths(argv, "/home/me/project") == [
        "--workload-file", "/home/me/project/mine.py", "--workload-file=/abs/b.py", "--workloads", "primes",
    ]  # fmt: skip


def test_answers_that_differ_between_interpreters_fail_the_check() -> None:
    assert external.compare_answers("mine", {"cpython-3.12": "42", "pypy3.9": "42"}) is None
    reason = external.compare_answers("mine", {"cpython-3.12": "'cpython'", "cpython-3.13": "'cpython'", "pypy3.9": "'pypy'"})
    assert "cpython-3.12, cpython-3.13 gave 'cpython'; pypy3.9 gave 'pypy'" in reason
    assert "set EXPECTED" in reason


def test_run_workloads_of_an_old_run_are_the_registry_ones() -> None:
    assert external.workloads_of_run(RunInfo.from_dict({"workloads": ["primes"], "interpreters": []}, "a-run")) == [w for w in WORKLOADS if w.name == "primes"]


# The runner, for real, in the interpreter running the tests -------------------------------------------------------


def runner(path: Path, *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    spec = external.inspect_file(path)
    return subprocess.run(
        [sys.executable, str(RUNNER), *spec.runner_args(), *args], capture_output=True, text=True, cwd=cwd, timeout=120
    )


def test_check_mode_runs_the_file_once_and_compares_with_expected(tmp_path: Path) -> None:
    good = write(tmp_path, "squares.py", GOOD)
    result = runner(good, "--check", cwd=RUNNER.parent)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "returned 332833500" in result.stdout and "matches EXPECTED" in result.stdout
    wrong = write(tmp_path, "wrong.py", GOOD.replace("EXPECTED = 332833500", "EXPECTED = 7"))
    result = runner(wrong, "--check", cwd=RUNNER.parent)
    assert result.returncode == 1
    assert "error: run() returned 332833500 but EXPECTED is 7" in result.stdout


def test_check_mode_points_at_the_line_that_raised(tmp_path: Path) -> None:
    failing = write(tmp_path, "failing.py", "def run():\n    return {}['key']\n")
    result = runner(failing, "--check", cwd=RUNNER.parent)
    assert result.returncode == 1
    assert "error: KeyError: 'key' (failing.py, line 2, in run)" in result.stdout


def test_answer_mode_gives_a_canonical_answer_and_imports_neighbours(tmp_path: Path) -> None:
    write(tmp_path, "helper.py", "WORDS = ['b', 'a', 'c']\n")
    mine = write(tmp_path, "mine.py", "import helper\n\ndef run():\n    return {'words': set(helper.WORDS), 'n': (3,)}\n")
    result = runner(mine, "--answer", cwd=RUNNER.parent)
    line = result.stdout.strip().splitlines()[-1]
    assert line.startswith("interpmatrix-answer ")
    assert json.loads(line.split(" ", 1)[1]) == {"answer": "{'n': (3,), 'words': set({'a', 'b', 'c'})}"}


def test_the_harness_times_a_user_file_in_pyperf_workers(tmp_path: Path) -> None:
    """The real pyperf run of one cell: setup, check against EXPECTED, calibration, a worker process's values."""
    good = write(tmp_path, "squares.py", GOOD)
    out = tmp_path / "out.json"
    result = runner(good, "--cell", "squares/run@1", "--processes", "1", "--values", "2", "--warmups", "0",
                    "--min-time", "0.01", "--output", str(out), cwd=RUNNER.parent)  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    import pyperf

    benchmark = pyperf.Benchmark.load(str(out))
    assert benchmark.get_name() == "squares/run@1" and benchmark.get_nvalue() == 2


def test_the_harness_fails_a_cell_whose_file_disagrees_with_expected(tmp_path: Path) -> None:
    wrong = write(tmp_path, "wrong.py", GOOD.replace("EXPECTED = 332833500", "EXPECTED = 7"))
    result = runner(wrong, "--cell", "squares/run@1", "--processes", "1", "--values", "1", "--output",
                    str(tmp_path / "out.json"), cwd=RUNNER.parent)  # fmt: skip
    events = [json.loads(line.split(" ", 1)[1]) for line in result.stderr.splitlines() if line.startswith("interpmatrix-cell ")]
    assert events[-1]["event"] == "failed" and events[-1]["kind"] == "wrong answer"
    assert events[-1]["reason"] == "run() returned 332833500, but the file's EXPECTED is 7"
    assert not (tmp_path / "out.json").exists()


def test_the_readme_example_follows_the_protocol_and_runs(tmp_path: Path) -> None:
    readme = (RUNNER.parent.parent / "README.md").read_text()
    section = readme.split("## Bring your own workload", 1)[1]
    example = section.split("```python\n", 1)[1].split("```", 1)[0]
    path = write(tmp_path, "readme_example.py", example)
    spec = external.inspect_file(path, workload_names())
    assert (spec.name, spec.has_setup, spec.has_expected) == ("json_roundtrip", True, True)
    result = runner(path, "--check", cwd=RUNNER.parent)
    assert result.returncode == 0 and "matches EXPECTED" in result.stdout, result.stdout + result.stderr


ENDS_ITS_PROCESS = '''\
"""run() ends the process it runs in."""

import os
import sys


def run():
    {ends}
'''


@pytest.mark.parametrize("ends", ["os._exit(0)", "sys.exit()"])
def test_a_run_that_ends_its_process_is_told_so_and_not_as_an_exit_status(tmp_path: Path, ends: str) -> None:
    path = write(tmp_path, "ends.py", ENDS_ITS_PROCESS.format(ends=ends))
    workload = external.inspect_file(path).to_workload()
    timed = workload.cells()[0]
    run_dir = make_run(tmp_path, [workload])
    (venv,) = prepared_venvs(run_dir, [HOST_ID])
    assert run_step(run_dir, Step(1, workload, (timed,), venv), find_profile("quick")) == {
        "ends/run@1": CellFailure(
            "error",
            "the process ended (exit status 0) before reporting the cell: the workload's code ended it, e.g. "
            "os._exit or sys.exit",
            log="logs/host/ends__run@1.log",
        )
    }


NEIGHBOUR = '''\
"""Sum of squares, to a size its neighbour module gives."""

import helper


def run():
    return sum(i * i for i in range(helper.SIZE))
'''


def test_the_users_folder_holds_only_what_it_held_after_a_check_and_a_measure(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Where this variable is set (as on this project's machine), no process would write bytecode anyway.
    monkeypatch.delenv("PYTHONDONTWRITEBYTECODE", raising=False)
    folder = tmp_path / "mine"
    folder.mkdir()
    write(folder, "helper.py", "SIZE = 1000\n")
    path = write(folder, "squares.py", NEIGHBOUR)
    checked = external.inspect_file(path)
    assert external.run_check(checked, sys.executable, str(tmp_path / "packages"), timeout=60) is None
    assert runner(path, "--answer", cwd=RUNNER.parent).returncode == 0
    workload = checked.to_workload()
    run_dir = make_run(tmp_path, [workload])
    (venv,) = prepared_venvs(run_dir, [HOST_ID])
    outcomes = run_step(run_dir, Step(1, workload, tuple(workload.cells()), venv), find_profile("quick"))
    assert outcomes == {"squares/run@1": None, "squares/run_memory@1": None, "squares/startup@1": None}
    assert sorted(str(entry.relative_to(folder)) for entry in folder.rglob("*")) == ["helper.py", "squares.py"]
