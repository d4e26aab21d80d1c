"""The self-timing runner (workloads/_selftimed.py) and the orchestrator's side of it (interpmatrix.selftimed), on
every runtime present: kernels of known cost (tests/fixtures/selftimed/_portable.py sleeps a given number of
milliseconds), real pyperf JSON read back by ``python -m pyperf``, and fake runtimes that print garbage, crash or
leave a value out. Expected figures come from the sleeps and the hand-written reasons, never from the code under
test."""

from __future__ import annotations

import json
import os
import re
import stat
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from interpmatrix import cli, discovery, runtimes, selection, selftimed
from interpmatrix.invocation import Step, Venv
from interpmatrix.profiles import find_profile
from interpmatrix.registry import REPO_ROOT, WORKLOADS, WORKLOADS_DIR, Variant, Workload
from interpmatrix.results import RunDir

FIXTURE = Path(__file__).parent / "fixtures" / "selftimed"
PYTHON27 = Path.home() / ".pyenv" / "versions" / "2.7.18" / "bin" / "python2.7"
QUICK = find_profile("quick")
SLEEP_MS = 20


def provisioned_runtimes() -> list[dict]:
    return runtimes.find_runtimes(discovery.cache_dir() / "interpreters")


def runtime_params() -> list:
    params = [pytest.param(sys.executable, id="python3")]
    params.append(pytest.param(str(PYTHON27), id="cpython-2.7", marks=pytest.mark.skipif(
        not PYTHON27.exists(), reason=f"no CPython 2.7 at {PYTHON27} (pyenv install 2.7.18)")))
    found = {record["implementation"]: record for record in provisioned_runtimes()}
    for name in runtimes.IMPLEMENTATIONS:
        record = found.get(name)
        params.append(pytest.param(record["executable"] if record else "", id=name, marks=pytest.mark.skipif(
            record is None, reason=f"no {name} provisioned: no {runtimes.RUNTIME_MARKER} in the cache "
                                   f"({discovery.cache_dir() / 'interpreters'})")))
    return params


def runner(python: str, *args: str) -> selftimed.RunnerOutput:
    result = subprocess.run([python, str(selftimed.RUNNER), *args, "--path", str(FIXTURE)], capture_output=True,
                            text=True, timeout=120, cwd=FIXTURE)
    assert result.returncode == 0, result.stderr
    return selftimed.parse_output(result.stdout)


@pytest.mark.parametrize("python", runtime_params())
def test_the_runner_times_a_kernel_of_known_cost(python: str) -> None:
    out = runner(python, "fake/sleep", str(SLEEP_MS), "1", "--loops", "3", "--warmups", "1", "--values", "2")
    assert out.ended and len(out.warmups) == 1 and len(out.values) == 2
    for value in out.warmups + out.values:
        # Three sleeps of 20 ms: 60 ms, and the runner adds next to nothing (a loaded machine, some ms). The timer may
        # be another clock than the sleep's (MicroPython: ticks_us), so the bound allows a 1 % shortfall.
        assert 0.0594 <= value < 0.120
    assert out.facts["timer"] in ("time.perf_counter", "java.lang.System.nanoTime", "time.ticks_us", "time.time")
    assert re.match(r"^\d+\.\d+\.\d+$", out.facts["version"])


@pytest.mark.parametrize("python", runtime_params())
def test_the_runner_calibrates_and_answers(python: str) -> None:
    out = runner(python, "fake/sleep", str(SLEEP_MS), "1", "--calibrate", "0.07")
    # 20 ms a call: 1, 2 and 4 calls last 20, 40 and 80 ms; 80 ms is the first past 70.
    assert out.answer == SLEEP_MS and out.loops == 4 and out.values == []


def test_the_runner_on_threads_says_they_ran() -> None:
    out = runner(str(PYTHON27) if PYTHON27.exists() else sys.executable, "fake/threads", str(SLEEP_MS), "3",
                 "--loops", "1", "--values", "1")
    assert out.facts["threads"] == "threading"
    # Three threads sleeping 20 ms at once: about 20 ms, not 60.
    assert 0.020 <= out.values[0] < 0.050


def test_the_real_kernels_run_on_cpython_27_with_the_answers_of_python_3() -> None:
    if not PYTHON27.exists():
        pytest.skip(f"no CPython 2.7 at {PYTHON27}")
    for kernel, size, workers, answer in [("countdown/serial", "1001", "1", [1001, 0]),
                                          ("countdown/threads", "1001", "2", [1001, 0]),
                                          ("primes/pure", "7", "1", [2, 3, 5, 7, 11, 13, 17])]:
        result = subprocess.run([str(PYTHON27), str(selftimed.RUNNER), kernel, size, workers, "--answer"],
                                capture_output=True, text=True, timeout=60, cwd=WORKLOADS_DIR)
        assert selftimed.parse_output(result.stdout).answer == answer


def test_the_registry_lists_only_kernels_the_runner_has() -> None:
    source = (WORKLOADS_DIR / "_portable.py").read_text()
    listed = {f"{w.name}/{v}" for w in WORKLOADS for v in w.self_timed}
    assert listed == set(re.findall(r'"(\w+/\w+)": \w+,', source.split("KERNELS = {", 1)[1]))
    assert {"countdown/serial", "countdown/threads", "primes/pure", "word_count/chars"} <= listed


FAKE = Workload(
    name="fake", group="Pure-Python CPU", claim="a sleep costs what it says", seeds=("none",), size_label="ms",
    sizes=(SLEEP_MS,), reference="sleep",
    variants=(Variant("sleep", "sleeps ms"), Variant("threads", "sleeps ms on each thread", (2,)),
              Variant("wrong", "answers ms + 1"), Variant("processes", "no portable kernel", (2,))),
    script=FIXTURE / "_portable.py", self_timed=("sleep", "threads", "wrong"),
)


def interpreter(python: str, **changes) -> discovery.Interpreter:
    return discovery.Interpreter(
        id="cpython-2.7", executable=python, implementation="cpython", version="2.7.18",
        implementation_version="2.7.18", free_threaded=False, gil_enabled=True, jit="none", config_args="",
        compiler="", cflags="", shared=False, origin="pyenv", self_timed=True, **changes)


@pytest.fixture
def fake_workloads(monkeypatch: pytest.MonkeyPatch) -> None:
    # The runner finds the fixture's _portable.py first; the reference answer too.
    monkeypatch.setattr(selftimed, "WORKLOADS_DIR", FIXTURE)


def step_of(python: str, *variants: str, **changes) -> Step:
    cells = tuple(cell for cell in FAKE.cells() if cell.variant in variants)
    return Step(1, FAKE, cells, Venv(interpreter(python, **changes), python))


def test_a_step_becomes_pyperf_json_that_pyperf_reads(tmp_path: Path, fake_workloads: None) -> None:
    run_dir = RunDir(tmp_path)
    python = str(PYTHON27) if PYTHON27.exists() else sys.executable
    outcomes = selftimed.run_step(run_dir, step_of(python, "sleep", "threads", "processes"), QUICK)
    assert outcomes["fake/sleep@20"] is None and outcomes["fake/threads-2@20"] is None
    failure = outcomes["fake/processes-2@20"]
    assert failure.kind == "unavailable" and failure.reason == (
        "not supported there: cpython-2.7 is self-timed (no pyperf), and the runner has no portable processes (it runs "
        "sleep, threads, wrong)")
    results = run_dir.results_file("cpython-2.7")
    shown = subprocess.run([sys.executable, "-m", "pyperf", "show", str(results)], capture_output=True, text=True,
                           check=True).stdout
    # One value a call: 20 ms of sleep and a little more.
    for name in ("fake/sleep@20", "fake/threads-2@20"):
        # "name: Mean +- ...", or the name as a heading, maybe with pyperf's warnings of an unstable benchmark.
        figure = re.search(re.escape(name) + r"[\s\S]*?Mean \+- std dev: ([\d.]+) ms", shown)
        assert figure and 20.0 <= float(figure[1]) < 30.0, shown
    metadata = subprocess.run([sys.executable, "-m", "pyperf", "dump", "--verbose", str(results)],
                              capture_output=True, text=True, check=True).stdout
    assert "interpmatrix_timed_by: interpmatrix self-timing runner" in metadata
    assert "interpmatrix_round: 1" in metadata and "loops: " in metadata
    data = json.loads(results.read_text())
    runs = {b["metadata"]["name"]: b["runs"] for b in data["benchmarks"]}
    # Quick: 1 process of 3 values after 1 warm-up, in every cell.
    assert [len(run["values"]) for run in runs["fake/sleep@20"]] == [3]
    assert [len(run["warmups"]) for run in runs["fake/sleep@20"]] == [1]
    assert json.loads(run_dir.failures_file("cpython-2.7").read_text())["fake/processes-2@20"]["kind"] == "unavailable"


def test_a_runtime_without_threads_does_not_run_the_threads_variant(tmp_path: Path, fake_workloads: None) -> None:
    outcomes = selftimed.run_step(RunDir(tmp_path), step_of(sys.executable, "threads", threads=False), QUICK)
    assert outcomes["fake/threads-2@20"].kind == "unavailable"
    assert outcomes["fake/threads-2@20"].reason == "not supported there: cpython-2.7 cannot start threads"


def test_a_workload_the_runner_has_no_kernel_of_gives_every_cell_one_reason() -> None:
    # pyperformance's suite has no portable kernel: its 15 benchmarks missed on a self-timed runtime are one reason,
    # which the standard suite's ranking then says once ("ran none of the 15 (...)"), not fifteen times.
    none = replace(FAKE, name="suite", self_timed=())
    reasons = {selftimed.unsupported(none, cell, interpreter(sys.executable)) for cell in none.cells()}
    assert reasons == {
        "not supported there: cpython-2.7 is self-timed (no pyperf), and the runner has no portable kernel of suite"
    }


def test_a_wrong_answer_is_the_cells_failure(tmp_path: Path, fake_workloads: None) -> None:
    outcomes = selftimed.run_step(RunDir(tmp_path), step_of(sys.executable, "wrong"), QUICK)
    assert outcomes["fake/wrong@20"].kind == "wrong answer"
    assert outcomes["fake/wrong@20"].reason == "fake/wrong@20 gave 21, the reference sleep gives 20"


def test_an_input_is_written_once_and_handed_over_as_a_file(tmp_path: Path, fake_workloads: None) -> None:
    workload = replace(FAKE, name="fake", sizes=(5,), reference="length",
                       variants=(Variant("length", "the input's length"),), self_timed=("length",),
                       self_timed_input="text")
    step = Step(1, workload, tuple(workload.cells()), Venv(interpreter(sys.executable), sys.executable))
    run_dir = RunDir(tmp_path)
    assert selftimed.run_step(run_dir, step, QUICK) == {"fake/length@5": None}
    # The fixture's text(5), made by the orchestrator's Python, read by the runner: five x's, answer 5.
    assert (tmp_path / "selftimed" / "fake-5.txt").read_text() == "xxxxx"
    assert {b.get_name() for b in run_dir.read_results("cpython-2.7")} == {"fake/length@5"}


def fake_runtime(tmp_path: Path, body: str) -> str:
    """A launcher that behaves as a broken runtime: ``body`` is its shell script after the #! line."""
    path = tmp_path / "runtime"
    path.write_text("#!/bin/sh\n" + body)
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return str(path)


FACTS = 'echo \'interpmatrix-selftimed {"facts": {"implementation": "fake", "version": "2.7.0", "timer": "t"}}\'\n'


@pytest.mark.parametrize(
    ("body", "kind", "reason"),
    [
        (FACTS + "echo 'interpmatrix-selftimed {\"loops\": 1, \"answer\": 20'\n",
         "error", "garbage in the runner's output: "),
        (FACTS + "echo 'interpmatrix-selftimed {\"value\": \"fast\"}'\n",
         "error", "value 'fast' is not a number of seconds"),
        (FACTS + "kill -SEGV $$\n", "crash", "the process was killed by SIGSEGV"),
        (FACTS + "echo 'Traceback (most recent call last):' >&2; echo 'MemoryError: out of heap' >&2; exit 1\n",
         "error", "MemoryError: out of heap"),
        (FACTS, "error", "the runner's output ends before its end line (a crash?)"),
        (FACTS + "sleep 30\n", "timeout", "ran past the 1 s cell time limit and was killed"),
    ],
    ids=["not-json", "not-a-number", "signal", "exception", "no-end-line", "hang"],
)
def test_garbage_a_crash_or_a_hang_is_the_cells_failure(
    tmp_path: Path, fake_workloads: None, body: str, kind: str, reason: str
) -> None:
    run_dir = RunDir(tmp_path / "run")
    python = fake_runtime(tmp_path, body)
    profile = replace(QUICK, cell_timeout=1)
    failure = selftimed.run_step(run_dir, step_of(python, "sleep"), profile)["fake/sleep@20"]
    assert (failure.kind, failure.reason[: len(reason)]) == (kind, reason)
    log = (run_dir.path / failure.log).read_text()
    assert log.startswith(f"$ {python} ") and "--calibrate" in log


def test_a_missing_value_is_the_cells_failure(tmp_path: Path, fake_workloads: None) -> None:
    # A runtime that runs the real runner but keeps one value fewer than asked for.
    python = fake_runtime(tmp_path, f'{sys.executable} "$@" > "$0.out"; status=$?\n'
                          'awk \'/"value"/ && !dropped {dropped=1; next} {print}\' "$0.out"; exit $status\n')
    failure = selftimed.run_step(RunDir(tmp_path / "run"), step_of(python, "sleep"), QUICK)["fake/sleep@20"]
    assert failure.kind == "error"
    assert failure.reason.startswith("the runner printed 1 warm-ups and 2 values")


def test_runtimes_are_found_by_their_marker(tmp_path: Path) -> None:
    launcher = fake_runtime(tmp_path, "exit 0\n")
    interpreters = tmp_path / "interpreters"

    def marker(folder: str, **keys) -> None:
        (interpreters / folder).mkdir(parents=True)
        record = {"implementation": "jython", "version": "2.7.3", "language_version": "2.7", "executable": launcher,
                  "threads": True, "gil": "none", "jit": "JVM", "build": "Debian bookworm 2.7.3"}
        (interpreters / folder / runtimes.RUNTIME_MARKER).write_text(json.dumps({**record, **keys}))

    marker("jython-2.7.3")
    marker("micropython-1.26.1", implementation="micropython", version="1.26.1", language_version="3.4",
           threads=True, gil="yes", jit="none", build="source")
    marker("pyodide-0.29.0", implementation="pyodide", version="0.29.0", language_version="3.14", threads=False,
           gil="yes", jit="none", build="npm pyodide 0.29.0")
    marker("broken", gil="maybe")
    (interpreters / "unfinished").mkdir()  # no marker: still being provisioned
    found = [discovery.Interpreter.from_dict(record) for record in runtimes.find_runtimes(interpreters)]
    by_id = {i.id: i for i in found}
    assert sorted(by_id) == ["jython-2.7", "micropython-1.26", "pyodide-3.14"]
    jython = by_id["jython-2.7"]
    assert jython.self_timed and not jython.supported and jython.measurable and not jython.gil_enabled
    assert jython.implementation_version == "2.7.3" and jython.jit == "JVM" and jython.executable == launcher
    assert not by_id["pyodide-3.14"].threads and not by_id["pyodide-3.14"].supported
    why = selection.choices(found)
    assert all(choice.selected for choice in why.values())
    assert why["jython-2.7"].why.startswith("seed 003 names Jython")
    assert "self-timing runner" in why["pyodide-3.14"].why


@pytest.mark.skipif(not PYTHON27.exists(), reason=f"no CPython 2.7 at {PYTHON27}")
def test_a_runtime_is_recorded_without_a_venv(tmp_path: Path) -> None:
    run_dir = RunDir(tmp_path)
    selftimed.record_runtime(run_dir, interpreter(str(PYTHON27)))
    record = run_dir.read_interpreter("cpython-2.7")
    assert record["setup_error"] is None and record["venv_python"] == str(PYTHON27)
    assert record["interpreter"]["self_timed"] is True
    selftimed.record_runtime(run_dir, replace(interpreter(str(PYTHON27)), version="3.4.0"))
    assert run_dir.read_interpreter("cpython-2.7")["setup_error"] == (
        "the runtime runs Python 2.7, not the discovered 3.4")


# A number in a report cell: a time with its std dev.
MEASURED = re.compile(r"\d+(\.\d+)? (ns|us|ms|sec) ± ")


def table_after(markdown: str, heading: str) -> list[list[str]]:
    """The rows (header first) of the first table after ``heading``."""
    lines = markdown.split(heading, 1)[1].lstrip("\n").splitlines()
    rows = []
    for line in lines:
        if not line.startswith("|"):
            if rows:
                break
            continue
        if not set(line) <= set("|-: "):
            rows.append([cell.strip() for cell in line.strip("|").split("|")])
    return rows


@pytest.mark.e2e
def test_countdown_on_cpython_27_beside_cpython_3(tmp_path: Path) -> None:
    """`python -m interpmatrix` measures countdown on CPython 2.7 (self-timed) and CPython 3.12 (pyperf) in the same
    rounds, and the report has a figure in the 2.7 column."""
    found = {i.id: i for i in discovery.discover()}
    venv = REPO_ROOT / ".nox" / "bench-cpython-3-12"
    if "cpython-2.7" not in found or "cpython-3.12" not in found or not (venv / "bin" / "python").exists():
        pytest.skip("needs CPython 2.7 and 3.12, and the bench venv of 3.12 (nox -s matrix builds it)")
    # A minute's budget: the first pass (countdown on two interpreters, about 10 s) fits whole, so every cell has
    # its figure; the budget bounds the first pass too, and a smaller one would leave cells unmeasured.
    plan = cli.plan_matrix(["--interpreters", "cpython-2.7,cpython-3.12", "--workloads", "countdown", "--profile",
                            "quick", "--budget", "1", "--results-dir", str(tmp_path / "results"),
                            "--reports-dir", str(tmp_path / "reports")], list(found.values()))
    run_dir = plan.run_dir
    # What the bench session of 3.12 records, from its existing venv; 2.7 has none (nox -s matrix records it so).
    python = str(venv / "bin" / "python")
    probe = subprocess.run([python, str(discovery.PROBE_SCRIPT)], capture_output=True, text=True, check=True)
    discovery.record_venv(run_dir, "cpython-3.12", python, probe.stdout, None, str(venv / "interpmatrix-bindings"))
    selftimed.record_runtime(run_dir, found["cpython-2.7"])
    for command in ("measure", "report"):
        done = subprocess.run([sys.executable, "-m", "interpmatrix", command, str(run_dir.path)], cwd=REPO_ROOT,
                              capture_output=True, text=True, timeout=900)
        assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    report = (tmp_path / "reports" / "latest.md").read_text()
    header, *rows = table_after(report, "### countdown")
    column = header.index("cpython-2.7")
    by_label = {row[0]: row for row in rows}
    assert MEASURED.search(by_label["serial"][column]), by_label["serial"]
    assert MEASURED.search(by_label["threads ×2"][column]), by_label["threads ×2"]
    assert MEASURED.search(by_label["serial"][header.index("cpython-3.12")])
    assert by_label["processes ×2"][column].startswith("—")
    assert "Timed by interpmatrix's self-timing runner, not pyperf" in report and "cpython-2.7 (clock: time.time)" in report
    failure = run_dir.read_failures("cpython-2.7")["countdown/processes-2@2000000"]
    assert failure.kind == "unavailable" and failure.reason.startswith("not supported there")


def test_the_orchestrator_never_imports_the_portable_kernels() -> None:
    # The runner times them in the runtime's own process; here they are only ever run as a subprocess.
    code = "import sys, interpmatrix.measure, interpmatrix.selftimed; print(sorted(set(sys.modules) & {'_portable', '_selftimed'}))"
    # Run from the workloads' folder, where they could be imported by mistake.
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=WORKLOADS_DIR,
                         env={**os.environ, "PYTHONPATH": str(REPO_ROOT)})
    assert out.stdout.strip() == "[]"
