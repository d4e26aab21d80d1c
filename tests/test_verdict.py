"""The verdict ("Which interpreter should I use?") on crafted runs: each case gives its sentence.

The runs are written here as real pyperf JSON files (pyperf's own Run/Benchmark/BenchmarkSuite, dumped and loaded
back) beside a run.json and interpreter records copied from a real run, so the verdict reads them exactly as it reads
a matrix run. The values are chosen so that pyperf's t-test decides clearly either way.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pyperf
import pytest

from interpmatrix import model, report, stats
from interpmatrix.sections import verdict as verdict_section
from interpmatrix.registry import Cell
from interpmatrix.results import CellFailure, RunDir

REAL_RUN = Path(__file__).parent / "fixtures" / "run-claims"
SERIAL = "countdown/serial@2000000"
THREADS = "countdown/threads-2@2000000"
BARE = "startup/bare@0"
MEMORY = "countdown/serial_memory@2000000"


def benchmark(name: str, values: list[float], warmups: tuple[float, ...] = (), unit: str = "second") -> pyperf.Benchmark:
    metadata = {"name": name, "loops": 1, "unit": unit, "interpmatrix_round": 1}
    run = pyperf.Run(values, warmups=[(1, value) for value in warmups], metadata=metadata, collect_metadata=False)
    return pyperf.Benchmark([run])


def crafted_run(tmp_path: Path, cells: dict[str, dict[str, pyperf.Benchmark]], failures=None, ids=None) -> RunDir:
    """A complete run of countdown (and startup) on ``ids`` with exactly ``cells``' benchmarks."""
    ids = ids or list(cells)
    run_dir = RunDir(tmp_path / "run")
    run_dir.path.mkdir()
    info = json.loads((REAL_RUN / "run.json").read_text())
    info.update(workloads=["countdown", "startup"], interpreters=ids, baseline="cpython-3.12")
    run_dir.write_run(info)
    for iid in ids:
        source = REAL_RUN / f"{iid}.interpreter.json"
        shutil.copy(source if source.exists() else REAL_RUN / "cpython-3.12.interpreter.json", run_dir.interpreter_file(iid))
        if iid not in {"cpython-3.12", "cpython-3.13t", "pypy3.9"}:  # another CPython, named by its id
            record = json.loads(run_dir.interpreter_file(iid).read_text())
            record["interpreter"]["id"] = iid
            run_dir.write_interpreter(iid, record)
        if cells.get(iid):
            pyperf.BenchmarkSuite(list(cells[iid].values())).dump(str(run_dir.results_file(iid)))
    for iid, found in (failures or {}).items():
        for name, failure in found.items():
            run_dir.record_failure(iid, name, failure)
    return run_dir


def spread(mean: float, n: int = 6) -> list[float]:
    """``n`` values around ``mean`` (whose mean it is), 1 % apart."""
    return [mean * (1 + 0.01 * (i - (n - 1) / 2)) for i in range(n)]


def sentence(run_dir: RunDir, kind: str = "Pure-Python CPU loops") -> str:
    run = model.load_run(run_dir)
    question = next(q for q in stats.run_questions(run) if q.kind == kind)
    return verdict_section.sentence(run, stats.answer(run, question))


def test_a_clear_winner_is_named_with_its_speed_up_and_costs(tmp_path: Path) -> None:
    run_dir = crafted_run(
        tmp_path,
        {
            "cpython-3.12": {
                SERIAL: benchmark(SERIAL, spread(0.100)),
                BARE: benchmark(BARE, spread(0.020)),
                MEMORY: benchmark(MEMORY, [20 * 2**20] * 2, unit="byte"),
            },
            "pypy3.9": {
                SERIAL: benchmark(SERIAL, spread(0.002), warmups=(0.150, 0.010)),
                BARE: benchmark(BARE, spread(0.050)),
                MEMORY: benchmark(MEMORY, [80 * 2**20] * 2, unit="byte"),
            },
        },
    )
    text = sentence(run_dir)
    assert text.startswith(
        "- **Pure-Python CPU loops** ([countdown](#countdown)): use **pypy3.9** with `serial`: 50.0× faster than "
        "cpython-3.12 with `serial`. Costs there: start-up 50 ms against 20 ms ([start-up](#startup)); "
    )
    # PyPy: 50 ms start + 150 ms + 10 ms + 2 ms per call; CPython: 20 ms start + 100 ms per call. After 2 calls
    # PyPy has spent 210 ms against 220 ms.
    assert "the JIT pays off after 2 calls: for a script that would run 220 ms or more on cpython-3.12" in text
    assert "peak memory 80.0 MiB against 20.0 MiB (`serial_memory`, [memory](#peak-memory))" in text
    assert "(n.s.)" not in text and "Not measured" not in text


def test_a_difference_within_noise_is_no_clear_winner(tmp_path: Path) -> None:
    run_dir = crafted_run(
        tmp_path,
        {
            "cpython-3.12": {SERIAL: benchmark(SERIAL, [0.100, 0.110, 0.090, 0.105, 0.095, 0.100])},
            "cpython-3.13": {SERIAL: benchmark(SERIAL, [0.099, 0.109, 0.089, 0.104, 0.094, 0.100])},
        },
    )
    text = sentence(run_dir)
    assert "no clear winner: the fastest, **cpython-3.13** with `serial`, is 1.01× faster than cpython-3.12 with " \
           "`serial`, a difference pyperf's t-test cannot tell from noise (n.s.)" in text


def test_the_baseline_winning_says_stay(tmp_path: Path) -> None:
    run_dir = crafted_run(
        tmp_path,
        {
            "cpython-3.12": {SERIAL: benchmark(SERIAL, spread(0.100))},
            "cpython-3.13t": {SERIAL: benchmark(SERIAL, spread(0.150))},
        },
    )
    assert "stay on **cpython-3.12** with `serial` (100 ms ± 2 ms): nothing measured beats it" in sentence(run_dir)


def test_a_missing_interpreter_is_named_with_why(tmp_path: Path) -> None:
    missing = CellFailure("interpreter missing", "no venv was prepared for pypy3.9")
    run_dir = crafted_run(
        tmp_path,
        {
            "cpython-3.12": {SERIAL: benchmark(SERIAL, spread(0.100))},
            "cpython-3.13t": {SERIAL: benchmark(SERIAL, spread(0.080))},
        },
        failures={"pypy3.9": {"*": missing}},
        ids=["cpython-3.12", "cpython-3.13t", "pypy3.9"],
    )
    text = sentence(run_dir)
    assert "use **cpython-3.13t** with `serial`: 1.25× faster than cpython-3.12 with `serial`" in text
    assert text.endswith("Not measured on pypy3.9 (interpreter missing).")


def test_a_failed_baseline_cell_cannot_be_compared(tmp_path: Path) -> None:
    crash = CellFailure("crash", "the process was killed by SIGSEGV")
    run_dir = crafted_run(
        tmp_path,
        {"cpython-3.12": {THREADS: benchmark(THREADS, spread(0.2))}, "pypy3.9": {SERIAL: benchmark(SERIAL, spread(0.002))}},
        failures={"cpython-3.12": {SERIAL: crash}},
    )
    text = sentence(run_dir)
    assert "cannot compare with the baseline: cpython-3.12 with `serial` did not run (crash); the fastest measured " \
           "is **pypy3.9** with `serial` at 2.00 ms ± 0.04 ms" in text


def test_nothing_ran_says_so_with_the_reasons(tmp_path: Path) -> None:
    crash = CellFailure("crash", "killed")
    run_dir = crafted_run(
        tmp_path,
        {"cpython-3.12": {BARE: benchmark(BARE, spread(0.02))}, "pypy3.9": {BARE: benchmark(BARE, spread(0.05))}},
        failures={"cpython-3.12": {SERIAL: crash}, "pypy3.9": {SERIAL: crash}},
    )
    assert sentence(run_dir) == (
        "- **Pure-Python CPU loops** ([countdown](#countdown)): no interpreter ran it (cpython-3.12: crash; pypy3.9: crash)."
    )


def test_the_verdict_section_opens_the_report_and_covers_user_workloads(tmp_path: Path) -> None:
    run_dir = crafted_run(tmp_path, {"cpython-3.12": {SERIAL: benchmark(SERIAL, spread(0.1))}})
    text = report.render_report(run_dir)
    sections = [line for line in text.splitlines() if line.startswith("## ")]
    assert sections[0] == "## Which interpreter should I use?"


@pytest.mark.parametrize(
    ("warmups", "values", "other", "starts", "expected"),
    [
        # Faster from the first call, nothing to pay: one call.
        ((0.01,), [0.01] * 3, 0.05, (0.0, 0.0), (1, 0.05)),
        # Start-up 0.1 s against 0.02 s, 0.01 s a call against 0.05 s: ahead after 2 calls (0.12 vs 0.12).
        ((0.01,), [0.01] * 3, 0.05, (0.1, 0.02), (2, 0.12)),
        # Slower when warm: never.
        ((0.2,), [0.06] * 3, 0.05, (0.0, 0.0), None),
    ],
)
def test_payoff_counts_calls_in_the_order_pyperf_recorded_them(warmups, values, other, starts, expected) -> None:
    jit = benchmark("x/jit@1", values, warmups=warmups)
    found = stats.payoff(jit, benchmark("x/other@1", spread(other)), *starts)
    if expected is None:
        assert found is None
    else:
        assert found[0] == expected[0] and found[1] == pytest.approx(expected[1])


def test_warm_up_ratio_is_the_first_warm_up_over_the_steady_mean() -> None:
    assert stats.warmup_ratio(benchmark("x/y@1", [0.01] * 3, warmups=(0.05, 0.01))) == pytest.approx(5.0)
    assert stats.warmup_ratio(benchmark("x/y@1", [0.01] * 3)) is None


def test_memory_cell_of_a_variant() -> None:
    from interpmatrix.registry import find_workload

    numeric = find_workload("numeric")
    assert stats.memory_cell(numeric, Cell("numeric", "numpy", None, 10_000_000)).variant == "numpy_memory"
    assert stats.memory_cell(numeric, Cell("numeric", "numexpr", 2, 1_000_000)).variant == "pure_memory"
