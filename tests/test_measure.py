"""The measuring loop on real pyperf runs: faults stay in their cell, nothing completed is lost, resume skips.

These run the real workload harness in real pyperf worker processes on the interpreter running the tests (its venv
has pyperf). They assert on outcomes (which cells have values, which failed and why), never on timings.
"""

from __future__ import annotations

import sys
from dataclasses import asdict, replace
from datetime import datetime, timezone
from pathlib import Path

import pyperf
import pytest

from interpmatrix import discovery
from interpmatrix.harness_protocol import MEMORY_CALLS_METADATA
from interpmatrix.invocation import (
    Step, Venv, build_command, classify_failure, rounds_done, run_step, step_environ
)
from interpmatrix.measure import measure, plan_steps, prepared_venvs
from interpmatrix.profiles import find_profile, profile_from
from interpmatrix.registry import Variant, Workload, find_workload
from interpmatrix.results import RunDir

FAULTS = Workload(
    name="faults",
    group="test only",
    claim="a broken variant is reported in its cell and the rest of the matrix completes",
    seeds=(),
    size_label="n",
    sizes=(1000,),
    reference="ok",
    # "ok" comes last: the cells after a crash and a hang of the batch's process must still be measured.
    variants=tuple(
        Variant(name, f"fails by: {name}")
        for name in ("wrong", "raises", "crash", "crash_in_worker", "hang", "ok")
    ),
    script=Path(__file__).parent / "workloads" / "faults.py",
)
HOST_ID = "host"


def nothing_open(run_dir: RunDir) -> set[tuple[str, str]]:
    """Every decision made after the first pass: these tests are about the profile's rounds (test_budget.py is about
    the extra ones)."""
    return set()


def make_run(
    tmp_path: Path,
    workloads: list[Workload],
    cell_timeout: float | None = None,
    rounds: int | None = None,
    hosts: tuple[str, ...] = (HOST_ID,),
) -> RunDir:
    """A planned run on the interpreter running the tests, as `nox -s matrix` would leave it for `measure`; ``rounds``
    gives its default profile that many rounds in the first pass; ``hosts`` are the ids it runs under (one column
    each), beside an interpreter whose venv is missing."""
    settings = asdict(replace(find_profile("default"), rounds=rounds)) if rounds is not None else None
    run_dir = RunDir(tmp_path / "run")
    answer = discovery.probe(Path(sys.executable))
    assert answer is not None
    run_dir.write_run(
        {
            "run_id": "run",
            "profile": "default",
            "workloads": [workload.name for workload in workloads],
            "interpreters": [*hosts, "absent"],
            "cell_timeout": cell_timeout,
            "profile_settings": settings,
            "started": datetime.now(timezone.utc).isoformat(),
        }
    )
    for host_id in hosts:
        host = discovery.interpreter_from_probe(answer, "path", host_id)
        run_dir.write_interpreter(
            host_id, {"interpreter": host.to_dict(), "venv_python": sys.executable, "setup_error": None}
        )
    return run_dir


@pytest.fixture(scope="module")
def faulty_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[RunDir, list[str]]:
    # Two rounds: the cells after a failure must be measured again in the next round, the failed ones not.
    run_dir = make_run(tmp_path_factory.mktemp("faults"), [FAULTS], cell_timeout=8, rounds=2)
    lines: list[str] = []
    measure(run_dir, workloads=[FAULTS], echo=lines.append, open_cells=nothing_open)
    return run_dir, lines


def test_faulty_cells_carry_their_reason(faulty_run: tuple[RunDir, list[str]]) -> None:
    run_dir, _ = faulty_run
    failures = run_dir.read_failures(HOST_ID)
    kinds = {name: failure.kind for name, failure in failures.items()}
    assert kinds == {
        "faults/wrong@1000": "wrong answer",
        "faults/raises@1000": "error",
        "faults/crash@1000": "crash",
        "faults/crash_in_worker@1000": "crash",
        "faults/hang@1000": "timeout",
    }
    assert "ValueError: this variant always raises" in failures["faults/raises@1000"].reason
    assert "SIGSEGV" in failures["faults/crash@1000"].reason
    assert "pyperf worker" in failures["faults/crash_in_worker@1000"].reason
    assert "gave 499501" in failures["faults/wrong@1000"].reason
    assert "8 s" in failures["faults/hang@1000"].reason
    for failure in failures.values():
        assert failure.log is not None and (run_dir.path / failure.log).exists()


def test_the_rest_of_the_matrix_completes(faulty_run: tuple[RunDir, list[str]]) -> None:
    run_dir, lines = faulty_run
    suite = pyperf.BenchmarkSuite.load(str(run_dir.results_file(HOST_ID)))
    assert suite.get_benchmark_names() == ["faults/ok@1000"]
    benchmark = suite.get_benchmark("faults/ok@1000")
    assert rounds_done(benchmark) == {1, 2}
    assert benchmark.get_nvalue() == 2 * 3  # two rounds of the default profile's 3 values
    assert run_dir.read_run()["status"] == "complete"
    # One progress line per cell round: 6 cells in round 1, then only the ok cell in round 2.
    assert len([line for line in lines if line.startswith("[")]) == 7
    assert any("FAILED (timeout)" in line for line in lines)


def test_a_missing_interpreter_fails_its_whole_column(faulty_run: tuple[RunDir, list[str]]) -> None:
    run_dir, _ = faulty_run
    failure = run_dir.read_failures("absent")["*"]
    assert failure.kind == "interpreter missing"
    assert "bench(absent)" in failure.reason


def test_resume_runs_nothing_when_everything_is_done(faulty_run: tuple[RunDir, list[str]]) -> None:
    run_dir, _ = faulty_run
    columns = prepared_venvs(run_dir, [HOST_ID])
    assert plan_steps(run_dir, [FAULTS], columns, rounds=2) == []


def test_resume_after_an_interruption_runs_only_what_is_missing(tmp_path: Path) -> None:
    primes = replace(find_workload("primes"), sizes=(50,))
    run_dir = make_run(tmp_path, [primes], rounds=2)
    (column,) = prepared_venvs(run_dir, [HOST_ID])
    cell = primes.cells()[0]
    # Round 1 completed, then the run was interrupted.
    assert run_step(run_dir, Step(1, primes, (cell,), column), find_profile("default")) == {cell.name: None}
    steps = plan_steps(run_dir, [primes], [column], rounds=2)
    assert [(step.round, [c.name for c in step.cells]) for step in steps] == [(2, ["primes/pure@50"])]
    measure(run_dir, workloads=[primes], echo=lambda line: None, open_cells=nothing_open)
    benchmark = pyperf.BenchmarkSuite.load(str(run_dir.results_file(HOST_ID))).get_benchmark("primes/pure@50")
    assert rounds_done(benchmark) == {1, 2}
    # Round 2 reused round 1's calibrated loops, so every value of the cell measures the same work.
    assert len({run.get_loops() for run in benchmark.get_runs() if run.values}) == 1


COUNTED = Workload(
    name="counted",
    group="test only",
    claim="the answer check's call is the reference's answer, and the calibration times warm calls after it",
    seeds=(),
    size_label="n",
    sizes=(7,),
    reference="slow",
    variants=tuple(Variant(name, f"{name} kernel") for name in ("slow", "other", "quick")),
    script=Path(__file__).parent / "workloads" / "counted.py",
)


def test_a_slow_cell_costs_its_main_process_its_check_and_one_warm_call(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = tmp_path / "calls"
    monkeypatch.setenv("INTERPMATRIX_TEST_CALLS", str(calls))
    run_dir = make_run(tmp_path, [COUNTED])
    (column,) = prepared_venvs(run_dir, [HOST_ID])
    assert all(found is None for found in run_step(run_dir, Step(1, COUNTED, COUNTED.cells(), column),
                                                   find_profile("default")).values())
    counted = calls.read_text().split()
    # slow, the reference, checked first: one call is its answer and its check; one more, warm, is its calibration
    # (50 ms is past the 0.02 s min time: one loop). A first call is never taken for the calibration: it may do once
    # what later calls skip (tests/workloads/first_call.py). other: its check against that answer, then the same.
    assert counted.count("slow") == 2 and counted.count("other") == 2
    # quick (1 ms) is checked in one call, then calibrated by doubling from one loop: more calls.
    assert counted.count("quick") > 2
    suite = pyperf.BenchmarkSuite.load(str(run_dir.results_file(HOST_ID)))
    assert {name: suite.get_benchmark(name).get_runs()[0].get_loops() for name in ("counted/slow@7", "counted/other@7")} \
        == {"counted/slow@7": 1, "counted/other@7": 1}
    # 4 loops of a 1 ms sleep stay under 20 ms unless a sleep takes 5 ms: at least 8 loops.
    assert suite.get_benchmark("counted/quick@7").get_runs()[0].get_loops() >= 8


COLLECTED = Workload(
    name="collected",
    group="test only",
    claim="a memory cell's worker calls its kernel the same number of times on every interpreter, each call from a "
    "collected heap",
    seeds=(),
    size_label="n",
    sizes=(3,),
    reference="cycle",
    variants=(Variant("cycle_memory", "peak memory of `cycle`", metric="memory"),),
    script=Path(__file__).parent / "workloads" / "collected.py",
)


def test_a_memory_cells_calls_are_as_many_everywhere_and_each_starts_from_a_collected_heap(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Ten calls in every worker process, whatever the column's warm-ups (1 without a JIT, 4 for PyPy's in the
    default profile): a peak over more calls is a higher peak, so the count must not follow the interpreter. The
    cycle each call leaves is freed before the next call begins, which the collector would not have done by itself
    after one small object."""
    host = discovery.interpreter_from_probe(discovery.probe(Path(sys.executable)), "path", "host")
    profile = find_profile("default")
    for kind, interpreter in {"plain": host, "pypy": replace(host, implementation="pypy", jit="PyPy JIT")}.items():
        calls = tmp_path / f"calls-{kind}"
        monkeypatch.setenv("INTERPMATRIX_TEST_CALLS", str(calls))
        run_dir = RunDir(tmp_path / kind)
        run_dir.path.mkdir(parents=True)
        (cell,) = COLLECTED.cells()
        assert run_step(run_dir, Step(1, COLLECTED, (cell,), Venv(interpreter, sys.executable)), profile) \
            == {cell.name: None}
        by_process: dict[str, list[str]] = {}
        for line in calls.read_text().splitlines():
            pid, state = line.split()
            by_process.setdefault(pid, []).append(state)
        assert list(by_process.values()) == [["first"] + ["collected"] * 9], kind
        (run,) = [run for run in pyperf.BenchmarkSuite.load(str(run_dir.results_file("host"))).get_benchmark(
            cell.name).get_runs() if run.values]
        assert run.get_metadata()[MEMORY_CALLS_METADATA] == 10


def test_install_failure_fails_the_column_with_its_reason(tmp_path: Path) -> None:
    run_dir = make_run(tmp_path, [FAULTS])
    run_dir.write_interpreter("broken", {"venv_python": "/nowhere", "setup_error": "pip install pyperf failed"})
    assert prepared_venvs(run_dir, ["broken"]) == []
    assert run_dir.read_failures("broken")["*"].kind == "install failed"


@pytest.mark.parametrize(
    ("returncode", "stderr", "timed_out", "kind", "reason"),
    [
        (None, "", True, "timeout", "ran past the 5 s cell time limit and was killed"),
        (-11, "", False, "crash", "the process was killed by SIGSEGV"),
        (1, "RuntimeError: .../python failed with exit code -6\n", False, "crash", "killed by SIGABRT"),
        (1, "Traceback...\nZeroDivisionError: division by zero\nmore\n", False, "error", "ZeroDivisionError"),
        (2, "", False, "error", "exited with status 2"),
    ],
)
def test_classify_failure(
    returncode: int | None, stderr: str, timed_out: bool, kind: str, reason: str
) -> None:
    failure = classify_failure(returncode, stderr, timed_out, 5)
    assert failure.kind == kind
    assert reason in failure.reason


def test_column_uses_the_venv_python(faulty_run: tuple[RunDir, list[str]]) -> None:
    run_dir, _ = faulty_run
    (column,) = prepared_venvs(run_dir, [HOST_ID])
    assert isinstance(column, Venv) and column.python == sys.executable and column.id == HOST_ID


def _runs(*processes: tuple[int, list[float]], unit: str = "second") -> pyperf.Benchmark:
    """A benchmark of hand-made worker processes, each (warm-up count, timed values)."""
    return pyperf.Benchmark([
        pyperf.Run(values, warmups=[(2, values[0])] * warmups,
                   metadata={"name": "countdown/serial@2000000", "unit": unit, "loops": 2}, collect_metadata=False)
        for warmups, values in processes
    ])


def test_a_cell_still_warming_at_its_end_gets_more_warm_ups_in_its_next_rounds() -> None:
    from interpmatrix.invocation import warmups_needed

    # CPython 3.11's countdown with 1 warm-up: 46.2, 48.4, 39.0 ms, still speeding up: 1 + 3 timed values = 4.
    assert warmups_needed(_runs((1, [0.0462, 0.0484, 0.0390]))) == 4
    # Settled with 4: the raised count stays for later rounds.
    assert warmups_needed(_runs((1, [0.0462, 0.0484, 0.0390]), (4, [0.0316, 0.0315, 0.0314]))) == 4
    # Still warming with 4: 4 + 3 more.
    assert warmups_needed(_runs((1, [0.0462, 0.0484, 0.0390]), (4, [0.0400, 0.0410, 0.0330]))) == 7
    # Steady from the start, no results yet, or a memory cell: the profile's warm-ups.
    assert warmups_needed(_runs((1, [0.0316, 0.0315, 0.0314]))) is None
    assert warmups_needed(None) is None
    assert warmups_needed(_runs((1, [300.0, 200.0, 100.0]), unit="byte")) is None


def test_more_warm_ups_reach_pyperfs_worker_processes(tmp_path: Path) -> None:
    primes = replace(find_workload("primes"), sizes=(50,), variants=find_workload("primes").variants[:1])
    (cell,) = primes.cells()
    venv = Venv(discovery.interpreter_from_probe(discovery.probe(Path(sys.executable)), "path", "host"), sys.executable)
    run_dir = RunDir(tmp_path / "run")
    profile = find_profile("quick")
    # Round 1 for real, then its values replaced by hand with ones still speeding up at their end (pyperf appends
    # only runs whose metadata match, so the real run's are kept): round 2 must run with 1 + 3 warm-ups.
    run_dir.path.mkdir(parents=True)
    assert run_step(run_dir, Step(1, primes, (cell,), venv), profile) == {cell.name: None}
    path = run_dir.results_file("host")
    (real,) = [run for run in pyperf.BenchmarkSuite.load(str(path)).get_benchmark(cell.name).get_runs() if run.values]
    loops = real.get_loops()
    still_warming = pyperf.Run([0.0462, 0.0484, 0.0390], warmups=[(loops, 0.05)], metadata=real.get_metadata(),
                               collect_metadata=False)
    path.unlink()
    pyperf.BenchmarkSuite([pyperf.Benchmark([still_warming])]).dump(str(path))
    outcomes = run_step(run_dir, Step(2, primes, (cell,), venv), profile)
    assert outcomes == {cell.name: None}
    benchmark = pyperf.BenchmarkSuite.load(str(run_dir.results_file("host"))).get_benchmark(cell.name)
    (second,) = [run for run in benchmark.get_runs() if run.get_metadata().get("interpmatrix_round") == 2]
    assert len(second.warmups) == 4


def test_each_kind_of_jit_gets_its_own_warm_ups(tmp_path: Path) -> None:
    """The default profile: 1 warm-up without a JIT, 2 for CPython's own JIT (its second warm-up already runs at the
    timed values' speed), 4 for PyPy's, and the old single count for every JIT in a profile run.json kept before."""
    primes = find_workload("primes")
    host = discovery.interpreter_from_probe(discovery.probe(Path(sys.executable)), "path", "host")
    kinds = {
        "plain": host,
        "cpython jit": replace(host, jit="enabled"),
        "pypy": replace(host, implementation="pypy", jit="PyPy JIT"),
        "jit switched off": replace(host, jit="built, disabled"),
    }

    def warmups(interpreter: discovery.Interpreter, profile) -> list[str]:
        step = Step(1, primes, tuple(primes.cells())[:1], Venv(interpreter, sys.executable))
        return [arg for arg in build_command(step, profile, tmp_path / "step.json", {}) if arg.startswith("--warmups")]

    default = find_profile("default")
    assert {kind: warmups(i, default) for kind, i in kinds.items()} == {
        "plain": ["--warmups=1"], "cpython jit": ["--warmups=2"], "pypy": ["--warmups=4"],
        "jit switched off": ["--warmups=1"],
    }
    kept_before = {key: value for key, value in asdict(default).items() if key != "cpython_jit_warmups"}
    older = profile_from("default", kept_before)
    assert warmups(kinds["cpython jit"], older) == ["--warmups=4"]


def test_every_columns_peer_processes_run_on_the_orchestrators_interpreter(tmp_path: Path) -> None:
    """io_threads' server runs on the interpreter the step's environment names (workloads/_harness.py peer_python),
    and pyperf hands that variable on to the workers that time, beside the column's own switches."""
    io_threads = find_workload("io_threads")
    host = discovery.interpreter_from_probe(discovery.probe(Path(sys.executable)), "path", "host")
    jit = replace(host, env=(("PYTHON_JIT", "1"),))
    for interpreter, inherited in ((host, "INTERPMATRIX_PEER_PYTHON"), (jit, "PYTHON_JIT,INTERPMATRIX_PEER_PYTHON")):
        step = Step(1, io_threads, tuple(io_threads.cells())[:1], Venv(interpreter, "/some/venv/bin/python"))
        command = build_command(step, find_profile("default"), tmp_path / "step.json", {})
        assert command[command.index("--inherit-environ") + 1] == inherited
        environ = step_environ(step)
        assert environ["INTERPMATRIX_PEER_PYTHON"] == sys.executable
        assert environ.get("PYTHON_JIT") == dict(interpreter.env).get("PYTHON_JIT")
