"""The verdict ("Which interpreter should I use?") on crafted runs: each case gives its sentence.

The runs are written here as real pyperf JSON files (pyperf's own Run/Benchmark/BenchmarkSuite, dumped and loaded
back) beside a run.json and interpreter records copied from a real run, so the verdict reads them exactly as it reads
a matrix run. Each cell has two worker processes (the independent units of ``intervals``) whose means lie a known
factor apart, so that every 95 % interval below is worked out by hand from that factor and Student's t.
"""

from __future__ import annotations

import json
import math
import shutil
from dataclasses import replace
from pathlib import Path

import pyperf
import pytest
from pyperf._utils import tdist95conf_level  # the t table only: every interval below is worked out here

from interpmatrix import decisions, model, report, stats, verdicts
from interpmatrix.questions import CLAIMS
from interpmatrix.sections import verdict as verdict_section
from interpmatrix.sections.wording import payoff_text
from interpmatrix.intervals import Estimator, Interval
from interpmatrix.registry import Cell
from interpmatrix.results import CellFailure, RunDir

REAL_RUN = Path(__file__).parent / "fixtures" / "run-claims"
SERIAL = "countdown/serial@2000000"
THREADS = "countdown/threads-2@2000000"
BARE = "startup/bare@0"
MEMORY = "countdown/serial_memory@2000000"


# Two worker processes per cell: the first's values are ``values`` ÷ √APART, the second's ``values`` × √APART. Their
# logs lie log(APART) apart around the log of the mean of ``values``, so that a cell's log mean is exactly that log and
# its between-process variance is log(APART)² / 2.
APART = 1.02
# The between-run standard deviation recorded for a ratio with a PyPy cell on one worker (BETWEEN_RUN_SD_PYPY): a
# run's share, half the variance, of the 0.035 by which two runs' figures scattered (CPython's: 0.029).
PYPY = 0.035 / math.sqrt(2)
CPYTHON = 0.029 / math.sqrt(2)


def benchmark(
    name: str, values: list[float], warmups: tuple[float, ...] = (), unit: str = "second", processes: int = 2,
    apart: float = APART,
) -> pyperf.Benchmark:
    metadata = {"name": name, "loops": 1, "unit": unit, "interpmatrix_round": 1}
    factors = [1.0] if processes == 1 else [apart**-0.5, apart**0.5]
    runs = [
        pyperf.Run([value * factor for value in values], warmups=[(1, value) for value in warmups], metadata=metadata,
                   collect_metadata=False)
        for factor in factors
    ]
    return pyperf.Benchmark(runs)


def interval_text(ratio: float, apart: float = APART, tau: float = CPYTHON) -> str:
    """``[1.44–1.56]``: the 95 % interval of ``ratio`` between the same cell on two interpreters, two processes each
    made by ``benchmark``, each the only cell of its interpreter's countdown time cells.

    Each cell's own variance is log(apart)² / 2 on 1 degree of freedom. With a sibling (two interpreters of one
    family: CPython without a JIT, on one machine), each is moderated by the other's same cell, the same variance on 1
    degree of freedom: still log(apart)² / 2, now on 2, and log(apart)² / 4 for the mean of its two processes. The
    ratio's variance is the sum of the two, log(apart)² / 2; Satterthwaite's degrees of freedom for two equal halves on
    2 each: (v)² / (2 × (v/2)² / 2) = 4; the same when each pools another time cell of its own as far apart instead.
    A ratio of two time cells on one worker adds the between-run variance recorded for it (an input of the
    statistics: interpmatrix.recorded_scatter.BETWEEN_RUN_SD, or BETWEEN_RUN_SD_PYPY with a PyPy cell in it),
    ``tau``²: 0.029² / 2 (0.035² / 2 with PyPy), without degrees of freedom of its own.
    """
    half = tdist95conf_level(4) * math.sqrt(math.log(apart) ** 2 / 2 + tau**2)
    return f"[{_bound(ratio * math.exp(-half))}–{_bound(ratio * math.exp(half))}]"


def _bound(ratio: float) -> str:
    return f"{ratio:.0f}" if ratio >= 100 else f"{ratio:.1f}" if ratio >= 10 else f"{ratio:.2f}"


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
    question = next(q for q in verdicts.run_questions(run) if q.kind == kind)
    return verdict_section.sentence(run, verdicts.answer(Estimator(run), question))


@pytest.mark.parametrize(
    ("jit_time", "expected"),
    [
        # 130 ms against 100 ms: the ratio 100/130 = 1/1.30 with its interval (interval_text, PyPy's between-run
        # variance), wholly below 1.
        (0.130, f"the JIT never catches up: 1.30× slower {interval_text(1.30, tau=PYPY)} than cpython-3.12 even when "
                "warm"),
        # 103 ms against 100 ms: 1/1.03, an interval [0.98-1.09] (as slowdowns) that holds no difference too. Not
        # ahead in the calls measured (every value of either process is above 100 ms), but not surely slower either.
        (0.103, f"the JIT is not ahead of cpython-3.12 in the calls measured, and warm it runs 1.03× slower "
                f"{interval_text(1.03, tau=PYPY)} than it: a difference the data cannot tell from none"),
    ],
)
def test_a_jit_is_said_never_to_catch_up_only_when_surely_slower_warm(
    tmp_path: Path, jit_time: float, expected: str
) -> None:
    run_dir = crafted_run(
        tmp_path,
        {
            "cpython-3.12": {SERIAL: benchmark(SERIAL, [0.100] * 6), BARE: benchmark(BARE, spread(0.020))},
            "pypy3.9": {SERIAL: benchmark(SERIAL, [jit_time] * 6), BARE: benchmark(BARE, spread(0.020))},
        },
    )
    run = model.load_run(run_dir)
    serial = Cell.parse(SERIAL)
    text = payoff_text(Estimator(run), run.column("pypy3.9"), serial, run.column("cpython-3.12"), serial)
    # 2.776 × √(0.0198² / 2 + 0.035² / 2) = 2.776 × 0.0284 = 0.0789: 1.30 ÷ and × e^0.0789 = 1.0821, 1.03 likewise.
    assert interval_text(1.30, tau=PYPY) == "[1.20–1.41]" and interval_text(1.03, tau=PYPY) == "[0.95–1.11]"
    assert text == expected


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
    # 100 ms / 2 ms = 50: its interval [46.2–54.1] (50 ÷ and × e^0.0789, as above) clears 1, against the runner-up,
    # which is also the baseline's reference: one comparison, said once. PyPy and CPython have no sibling of their family and no other countdown
    # time cell, so each pools its own start-up cell (bare), whose processes lie as far apart: the same variance on
    # 1 more degree of freedom, as with a sibling.
    bounds = interval_text(50.0, tau=PYPY)
    assert bounds == "[46.2–54.1]"
    assert text.startswith(
        f"- **Pure-Python CPU loops** ([countdown](#countdown)): use **pypy3.9** with `serial` (50.0× faster {bounds} "
        "than the runner-up, cpython-3.12 with `serial`, the baseline's reference). "
        f"Costs there: start-up 50 ms against 20 ms, 2.50× slower {interval_text(2.5, tau=PYPY)} "
        "([start-up](#startup)); "
    )
    assert "It is" not in text
    # PyPy: 50 ms start + 150 ms + 10 ms + 2 ms per call; CPython: 20 ms start + 100 ms per call. After 2 calls
    # PyPy has spent 210 ms against 220 ms, in each of its two processes (both have those warm-ups).
    assert ("the JIT pays off after 2 calls in each of its 2 worker processes: for a script that would run 220 ms or "
            "more on cpython-3.12") in text
    # Each peak on its own two processes (no other memory cell to borrow from): log(1.02)^2 / 2 on 1 df each, a mean's
    # half of it; Satterthwaite 2 df, t(2) = 4.303; no between-run variance for memory. 80 / 20 = 4.
    half = tdist95conf_level(2) * math.log(APART) / math.sqrt(2)
    assert (f"peak memory 80.0 MiB against 20.0 MiB, 4.00× more memory [{_bound(4 * math.exp(-half))}–"
            f"{_bound(4 * math.exp(half))}] (`serial_memory`, [memory](#peak-memory))") in text
    assert "undecided" not in text and "Not measured" not in text


def test_a_fastest_variant_without_a_memory_cell_says_whose_peak_its_cost_is(tmp_path: Path) -> None:
    # countdown's threads have no memory cell: the answer's memory cost reads serial_memory, and says so.
    run_dir = crafted_run(
        tmp_path,
        {
            "cpython-3.12": {
                SERIAL: benchmark(SERIAL, spread(0.100)), THREADS: benchmark(THREADS, spread(0.100)),
                MEMORY: benchmark(MEMORY, [20 * 2**20] * 2, unit="byte"),
            },
            "pypy3.9": {
                SERIAL: benchmark(SERIAL, spread(0.002)), THREADS: benchmark(THREADS, spread(0.001)),
                MEMORY: benchmark(MEMORY, [80 * 2**20] * 2, unit="byte"),
            },
        },
    )
    text = sentence(run_dir, "CPU work in threads or processes")
    assert text.startswith("- **CPU work in threads or processes** ([countdown](#countdown)): use **pypy3.9** with "
                           "`threads ×2`")
    assert "(`serial_memory`: `threads ×2` has no memory cell of its own, [memory](#peak-memory))" in text


def test_a_difference_within_noise_is_no_clear_winner(tmp_path: Path) -> None:
    # Processes 10 % apart in each cell, means 1 % apart: the interval of the ratio is wide and straddles 1 (two
    # CPythons: each cell borrows the other's variance).
    run_dir = crafted_run(
        tmp_path,
        {
            "cpython-3.12": {SERIAL: benchmark(SERIAL, spread(0.100), apart=1.1)},
            "cpython-3.13": {SERIAL: benchmark(SERIAL, spread(0.099), apart=1.1)},
        },
    )
    text = sentence(run_dir)
    bounds = interval_text(0.100 / 0.099, apart=1.1)
    assert bounds == "[0.83–1.23]"
    assert text.startswith(
        "- **Pure-Python CPU loops** ([countdown](#countdown)): undecided between **cpython-3.13** with `serial` ≈ "
        f"cpython-3.12 with `serial` {bounds} (each one's time ÷ the fastest's, 95 % interval): the data cannot tell "
        "them apart, nor tell whether each runs within 10 % of the fastest (more rounds, `--budget`, or what each "
        "costs may decide). "
    )
    assert f"The fastest of them, cpython-3.13 with `serial`, is 1.01× faster {bounds} than cpython-3.12 with " \
           "`serial`: an interval that includes 1×, not told apart from the baseline." in text
    assert "use **" not in text


def test_what_tells_the_candidates_apart_is_said_only_where_its_interval_excludes_1(tmp_path: Path) -> None:
    # The same undecided pair (cpython-3.13 the fastest). cpython-3.12 starts in 20 ms against 10 ms and peaks at 30
    # MB against 20 MB: the start-up ratio 10/20 is a time ratio like the serial one (interval_text, CPython's
    # between-run variance), shown the way the words read, 2.00x slower; a peak of memory carries no between-run
    # variance (tau 0), 20/30, 1.50x more. By hand: t(4) x sqrt(ln(1.02)^2 / 2 + 0.029^2 / 2) = 2.776 x 0.0248 =
    # 0.0689, 2 e^-0.0689 = 1.87 and 2 e^0.0689 = 2.14; without tau 2.776 x 0.0140 = 0.0389, 1.44 and 1.56.
    def cells(bare: float, peak: float) -> dict[str, pyperf.Benchmark]:
        return {BARE: benchmark(BARE, spread(bare)), MEMORY: benchmark(MEMORY, [peak] * 3, unit="byte")}

    run_dir = crafted_run(tmp_path, {
        "cpython-3.12": {SERIAL: benchmark(SERIAL, spread(0.100), apart=1.1), **cells(0.020, 30e6)},
        "cpython-3.13": {SERIAL: benchmark(SERIAL, spread(0.099), apart=1.1), **cells(0.010, 20e6)},
    })
    assert interval_text(2.0) == "[1.87–2.14]" and interval_text(1.5, tau=0) == "[1.44–1.56]"
    assert sentence(run_dir).endswith(
        "Of the candidates named, against cpython-3.13 with `serial`: cpython-3.12 with `serial` starts 2.00× slower "
        "[1.87–2.14] and takes 1.50× more memory [1.44–1.56] at its peak (`serial_memory`)."
    )
    # cpython-3.12's threads x2 in the group too (CPU work in threads or processes): the same interpreter's start-up
    # and, with no memory cell of its own, the same serial_memory peak: said once, for cpython-3.12's serial.
    shutil.rmtree(run_dir.path)
    run_dir = crafted_run(tmp_path, {
        "cpython-3.12": {SERIAL: benchmark(SERIAL, spread(0.100), apart=1.1),
                         THREADS: benchmark(THREADS, spread(0.1005), apart=1.1), **cells(0.020, 30e6)},
        "cpython-3.13": {SERIAL: benchmark(SERIAL, spread(0.099), apart=1.1), **cells(0.010, 20e6)},
    })
    text = sentence(run_dir, "CPU work in threads or processes")
    assert "≈ cpython-3.12 with `threads ×2` [" in text
    assert text.endswith(
        "Of the candidates named, against cpython-3.13 with `serial`: cpython-3.12 with `serial` starts 2.00× slower "
        "[1.87–2.14] and takes 1.50× more memory [1.44–1.56] at its peak (`serial_memory`)."
    )
    # Start-up and peaks alike: nothing tells them apart, and the sentence says so.
    shutil.rmtree(run_dir.path)
    run_dir = crafted_run(tmp_path, {
        "cpython-3.12": {SERIAL: benchmark(SERIAL, spread(0.100), apart=1.1), **cells(0.010, 20e6)},
        "cpython-3.13": {SERIAL: benchmark(SERIAL, spread(0.099), apart=1.1), **cells(0.010, 20e6)},
    })
    assert sentence(run_dir).endswith(
        "Start-up and peak memory tell none of the candidates named apart from the fastest either."
    )
    # A run without the startup workload's cells: only the peaks can be held against each other, and only they are
    # said to tell none apart; without peaks either, nothing is said.
    for peaks, ending in ((True, ". Peak memory tells none of the candidates named apart from the fastest either."),
                          (False, "not told apart from the baseline.")):
        shutil.rmtree(run_dir.path)
        extra = {MEMORY: benchmark(MEMORY, [20e6] * 3, unit="byte")} if peaks else {}
        run_dir = crafted_run(tmp_path, {
            "cpython-3.12": {SERIAL: benchmark(SERIAL, spread(0.100), apart=1.1), **extra},
            "cpython-3.13": {SERIAL: benchmark(SERIAL, spread(0.099), apart=1.1), **extra},
        })
        assert sentence(run_dir).endswith(ending)


def test_a_difference_within_the_band_is_a_tie(tmp_path: Path) -> None:
    # Processes 1 % apart in each cell, means 1 % apart: not told apart, and the whole interval lies within 10 % of 1
    # either way: a tie, said as one.
    run_dir = crafted_run(
        tmp_path,
        {
            "cpython-3.12": {SERIAL: benchmark(SERIAL, spread(0.100), apart=1.01)},
            "cpython-3.13": {SERIAL: benchmark(SERIAL, spread(0.099), apart=1.01)},
        },
    )
    text = sentence(run_dir)
    bounds = interval_text(0.100 / 0.099, apart=1.01)
    assert text.startswith(
        "- **Pure-Python CPU loops** ([countdown](#countdown)): a tie between **cpython-3.13** with `serial` ≈ "
        f"cpython-3.12 with `serial` {bounds} (each one's time ÷ the fastest's, 95 % interval): each surely runs "
        "within 10 % of the fastest, so any of them serves as well (what each costs may decide). "
    )
    assert "use **" not in text and "undecided" not in text


def test_a_winner_needs_an_interval(tmp_path: Path) -> None:
    # 50x apart, but one worker process per cell, no sibling of either's family (PyPy, CPython) and no other countdown
    # time cell on either to fall back on: no interval, so nothing is decided.
    run_dir = crafted_run(
        tmp_path,
        {
            "cpython-3.12": {SERIAL: benchmark(SERIAL, spread(0.100), processes=1)},
            "pypy3.9": {SERIAL: benchmark(SERIAL, spread(0.002), processes=1)},
        },
    )
    text = sentence(run_dir)
    assert "undecided between **pypy3.9** with `serial` ≈ cpython-3.12 with `serial` [no interval]" in text
    assert ("some have no interval yet (one worker process, with no sibling to borrow a variance from: a second "
            "process gives one), so the data cannot tell them apart") in text
    # Untested, never told as noise: the sentence says why there is no interval, and names no winner.
    assert "undecided between **pypy3.9** with `serial` ≈ cpython-3.12 with `serial` [no interval] (each one's time ÷ " \
           "the fastest's, 95 % interval): the data cannot" not in text and "use **" not in text
    assert "The fastest of them, pypy3.9 with `serial`, is 50.0× faster [no interval] than cpython-3.12 with " \
           "`serial`, not tested against it (no interval)" in text
    assert "an interval that includes 1" not in text


def processes(name: str, *means: float) -> pyperf.Benchmark:
    """One worker process per mean, each of three values equal to it."""
    metadata = {"name": name, "loops": 1, "unit": "second", "interpmatrix_round": 1}
    return pyperf.Benchmark([pyperf.Run([mean] * 3, metadata=metadata, collect_metadata=False) for mean in means])


def test_the_fastest_is_the_one_its_intervals_are_about(tmp_path: Path) -> None:
    # cpython-3.12's processes: 10 ms and 100 ms, pyperf's mean 55 ms, the mean of their logs log(31.6 ms);
    # cpython-3.13's: 40 ms and 42 ms, 41 ms either way (√(40 × 42) = 41.0). Over processes, cpython-3.12 is the faster
    # (31.6 < 41.0): the runner-up's time over the fastest's is 41.0 / 31.6 = 1.30, never below 1 as 31.6 / 41.0
    # would be.
    run_dir = crafted_run(
        tmp_path,
        {
            "cpython-3.12": {SERIAL: processes(SERIAL, 0.010, 0.100)},
            "cpython-3.13": {SERIAL: processes(SERIAL, 0.040, 0.042)},
        },
    )
    run = model.load_run(run_dir)
    question = next(q for q in verdicts.run_questions(run) if q.kind == "Pure-Python CPU loops")
    found = verdicts.answer(Estimator(run), question)
    ranked = [(column.id, cell.name) for column, cell in found.ranked]
    assert ranked == [("cpython-3.12", SERIAL), ("cpython-3.13", SERIAL)]
    assert found.margin.value == pytest.approx(math.sqrt(0.040 * 0.042) / math.sqrt(0.010 * 0.100))
    assert not found.decided  # 10x apart between its processes: far too wide to name a winner
    assert "undecided between **cpython-3.12** with `serial` ≈ cpython-3.13 with `serial` [" in sentence(run_dir)


def test_the_baseline_winning_says_so(tmp_path: Path) -> None:
    run_dir = crafted_run(
        tmp_path,
        {
            "cpython-3.12": {SERIAL: benchmark(SERIAL, spread(0.100))},
            "cpython-3.13t": {SERIAL: benchmark(SERIAL, spread(0.150))},
        },
    )
    assert sentence(run_dir) == (
        "- **Pure-Python CPU loops** ([countdown](#countdown)): use **cpython-3.12** with `serial` "
        f"(1.50× faster {interval_text(1.5)} than the runner-up, cpython-3.13t with `serial`). It is the baseline's "
        "reference itself (100 ms ± 2 ms)."
    )


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
    # The runner-up is the baseline's reference: the one comparison says both, and the baseline is not named again.
    assert f"use **cpython-3.13t** with `serial` (1.25× faster {interval_text(1.25)} than the runner-up, cpython-3.12 " \
           "with `serial`, the baseline's reference). " in text
    assert "It is" not in text
    assert text.endswith("Not measured on pypy3.9 (interpreter missing).")


def test_a_failed_baseline_cell_cannot_be_compared(tmp_path: Path) -> None:
    crash = CellFailure("crash", "the process was killed by SIGSEGV")
    run_dir = crafted_run(
        tmp_path,
        {"cpython-3.12": {THREADS: benchmark(THREADS, spread(0.2))}, "pypy3.9": {SERIAL: benchmark(SERIAL, spread(0.002))}},
        failures={"cpython-3.12": {SERIAL: crash}},
    )
    text = sentence(run_dir)
    # The only candidate that ran: nothing to beat, so it is named.
    assert text.startswith("- **Pure-Python CPU loops** ([countdown](#countdown)): use **pypy3.9** with `serial`. ")
    assert "Cannot compare with the baseline: cpython-3.12 with `serial` did not run (crash); the fastest ran at " \
           "2.00 ms ± 0.04 ms" in text


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


def test_a_kind_whose_answer_is_an_earlier_kinds_cells_says_so_in_a_line(tmp_path: Path) -> None:
    # countdown answers "Pure-Python CPU loops" (serial only) and "CPU work in threads or processes" (serial, threads,
    # processes). PyPy's serial at 2 ms wins the first 50x over the baseline; its threads x2 at 4 ms runs 2x slower,
    # far beyond the noise: the second kind's fastest is the same cell, and nothing ties with it. No processes cell
    # ran: the line names only what was measured.
    run_dir = crafted_run(
        tmp_path,
        {
            "cpython-3.12": {SERIAL: benchmark(SERIAL, spread(0.100)), THREADS: benchmark(THREADS, spread(0.110))},
            "pypy3.9": {SERIAL: benchmark(SERIAL, spread(0.002)), THREADS: benchmark(THREADS, spread(0.004))},
        },
    )
    lines = [line for line in report.render_report(run_dir).splitlines() if line.startswith("- **")]
    first = next(line for line in lines if line.startswith("- **Pure-Python CPU loops**"))
    assert first.startswith("- **Pure-Python CPU loops** ([countdown](#countdown)): use **pypy3.9** with `serial`")
    second = next(line for line in lines if line.startswith("- **CPU work in threads or processes**"))
    assert second.startswith(
        "- **CPU work in threads or processes** ([countdown](#countdown)): the same answer as for Pure-Python CPU "
        "loops, **pypy3.9** with `serial`; every other way of writing it measured (`threads`) ran surely slower than "
        "the fastest, beyond the 95 % interval of their ratio (the fastest is 2.00× faster ["
    )
    # 4 ms / 2 ms, with an interval that holds 2 and clears 1; the runner-up named.
    low, high = map(float, second.split("2.00× faster [")[1].split("]")[0].split("–"))
    assert 1 < low < 2 < high
    assert second.endswith("] than the runner-up, pypy3.9 with `threads ×2`).")


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
    # One worker process each: the JIT's calls are that process's, in the order pyperf recorded them.
    jit = benchmark("x/jit@1", values, warmups=warmups, processes=1)
    (process,) = jit.get_runs()
    found = verdicts.payoff(process, benchmark("x/other@1", spread(other), processes=1).mean(), *starts)
    if expected is None:
        assert found is None
    else:
        assert found[0] == expected[0] and found[1] == pytest.approx(expected[1])


def _process(values: list[float], first_warmup: float) -> pyperf.Run:
    return pyperf.Run(values, warmups=[(1, first_warmup), (1, values[0])],
                      metadata={"name": "x/y@1", "loops": 1, "unit": "second"}, collect_metadata=False)


def test_warm_up_ratio_is_each_processs_first_warm_up_over_its_own_steady_mean_with_an_interval() -> None:
    # Three processes, steady at 1.0, 2.0 and 0.5 s a call, whose first warm-ups took 2, 4 and 8 times their own
    # steady mean: the third's leading value, 0.9 s against 0.5 and 0.5 after it, is still warming up and is not steady.
    # Their logs are ln 2, 2 ln 2 and 3 ln 2: mean 2 ln 2 (4.0x), standard deviation ln 2, so the 95 % interval is
    # 4 x exp(±t(2) ln 2 / sqrt 3) with t(2) = 4.303 (Student's table): [0.7148-22.38]. The first warm-ups' mean
    # (14 / 3 s) over the mean of every value (10.9 / 9 s) would read 3.85x.
    processes = [_process([1.0, 1.0, 1.0], 2.0), _process([2.0, 2.0, 2.0], 8.0), _process([0.9, 0.5, 0.5], 4.0)]
    found = verdicts.warmup_ratio(pyperf.Benchmark(processes))
    assert found.value == pytest.approx(4.0)
    assert (found.low, found.high) == (pytest.approx(0.7148, abs=1e-4), pytest.approx(22.38, abs=0.01))
    # One process: its ratio, and no interval.
    alone = verdicts.warmup_ratio(pyperf.Benchmark(processes[:1]))
    assert alone.value == pytest.approx(2.0) and not alone.known
    # No warm-up recorded (a memory cell): no figure.
    assert verdicts.warmup_ratio(benchmark("x/y@1", [0.01] * 3, processes=1)) is None


def test_memory_cell_of_a_variant() -> None:
    from interpmatrix.registry import find_workload

    numeric = find_workload("numeric")
    assert verdicts.memory_cell(numeric, Cell("numeric", "numpy", None, 10_000_000)).variant == "numpy_memory"
    assert verdicts.memory_cell(numeric, Cell("numeric", "numexpr", 2, 1_000_000)).variant == "pure_memory"


def _as_interpreter(run_dir: RunDir, iid: str, **facts) -> None:
    record = json.loads(run_dir.interpreter_file(iid).read_text())
    record["interpreter"].update(facts)
    run_dir.write_interpreter(iid, record)


def test_cpythons_jit_is_held_against_pypy_not_used_as_the_jit(tmp_path: Path) -> None:
    """"PyPy runs ... 20x faster than CPython": the row is PyPy's, and CPython's JIT column is one of the CPythons it
    is held against (the claim says "than CPython"), with the ratio of the two cells' means."""
    cells = {"cpython-3.12": {SERIAL: benchmark(SERIAL, spread(0.1))},
             "cpython-3.14-jit": {SERIAL: benchmark(SERIAL, spread(0.05))},
             "pypy3.9": {SERIAL: benchmark(SERIAL, spread(0.004))}}
    run_dir = crafted_run(tmp_path, cells)
    _as_interpreter(run_dir, "cpython-3.14-jit", jit="enabled", version="3.14.10", env=[["PYTHON_JIT", "1"]])
    run = model.load_run(run_dir)
    claim = next(c for c in CLAIMS if c.versus_jit)
    rows = stats.claim_rows(Estimator(run), claim)
    assert [row.jit for row in rows] == ["pypy3.9"]
    assert sorted(rows[0].results) == ["cpython-3.12", "cpython-3.14-jit"]
    assert rows[0].results["cpython-3.14-jit"].ratio == pytest.approx(0.05 / 0.004)


def test_comparisons_that_mix_builds_are_named(tmp_path: Path) -> None:
    cells = {iid: {SERIAL: benchmark(SERIAL, spread(0.1))} for iid in ("cpython-3.12", "cpython-3.14", "cpython-3.14-jit")}
    run_dir = crafted_run(tmp_path, cells)
    debian = dict(config_args="'--enable-shared' '--enable-experimental-jit'", compiler="GCC 16.2.0", cflags="-O2",
                  build="Debian sid 3.14.10-1", version="3.14.10")
    _as_interpreter(run_dir, "cpython-3.12", config_args="'--enable-shared'", compiler="GCC 12.2.0", cflags="-O3")
    _as_interpreter(run_dir, "cpython-3.14", **debian, env=[["PYTHON_JIT", "0"]])
    _as_interpreter(run_dir, "cpython-3.14-jit", **debian, jit="enabled", env=[["PYTHON_JIT", "1"]],
                    variant_of="cpython-3.14")
    line = verdict_section.builds_line(model.load_run(run_dir))
    assert line == (
        "- **Builds**: the CPython columns come from 2 builds (`shared, GCC 12.2.0`: cpython-3.12; `shared, JIT, "
        "Debian sid 3.14.10-1, GCC 16.2.0`: cpython-3.14, cpython-3.14-jit). Against the baseline cpython-3.12, the "
        "figures of cpython-3.14, cpython-3.14-jit compare two builds (flags, compiler, distributor) as well as two "
        "versions; a JIT column against its own build and a free-threaded build against its twin compare one build."
    )
    # One build: nothing to say.
    _as_interpreter(run_dir, "cpython-3.12", **debian)
    _as_interpreter(run_dir, "cpython-3.14-jit", **debian)
    assert verdict_section.builds_line(model.load_run(run_dir)) is None


def test_a_jits_pay_off_is_found_in_each_worker_process_and_said_only_when_surely_faster_warm(tmp_path: Path) -> None:
    # PyPy's two processes compile at their own pace: a first call of 150 ms in one, 350 ms in the other, then 2 ms a
    # call (÷ and × √1.02), against CPython's 100 ms a call; start-up 50 ms against 20 ms. The first is behind by
    # 200 - 120 = 80 ms after its first call and gains 98 ms a call: ahead after 2 calls, a script of 220 ms on
    # CPython. The second is 400 - 120 = 280 ms behind and gains 98 ms a call: 3 more, 4 calls, a script of 420 ms.
    def process(first: float, factor: float) -> pyperf.Run:
        return pyperf.Run([0.002 * factor] * 6, warmups=[(1, first)], collect_metadata=False,
                          metadata={"name": SERIAL, "loops": 1, "unit": "second", "interpmatrix_round": 1})

    pypy = pyperf.Benchmark([process(0.150, APART**-0.5), process(0.350, APART**0.5)])
    cells = {
        "cpython-3.12": {SERIAL: benchmark(SERIAL, spread(0.100)), BARE: benchmark(BARE, spread(0.020))},
        "pypy3.9": {SERIAL: pypy, BARE: benchmark(BARE, spread(0.050))},
    }
    (tmp_path / "sure").mkdir()
    run = model.load_run(crafted_run(tmp_path / "sure", cells))
    serial = Cell.parse(SERIAL)
    assert payoff_text(Estimator(run), run.column("pypy3.9"), serial, run.column("cpython-3.12"), serial) == (
        "the JIT pays off after 2 to 4 calls (the range over its 2 worker processes): for a script that would run "
        "220 ms to 420 ms or more on cpython-3.12"
    )
    # Warm at 99 ms against 100 ms, its two processes 30 % apart (86.8 and 112.9 ms): the first is ahead from its
    # first call, the second never is, and the ratio's interval holds 1. Neither "pays off" nor "never catches up".
    cells["pypy3.9"][SERIAL] = benchmark(SERIAL, [0.099] * 6, apart=1.3)
    (tmp_path / "unsure").mkdir()
    run = model.load_run(crafted_run(tmp_path / "unsure", cells))
    text = payoff_text(Estimator(run), run.column("pypy3.9"), serial, run.column("cpython-3.12"), serial)
    assert text.startswith("the JIT got ahead of cpython-3.12 in 1 of its 2 worker processes, and warm it runs 1.01× "
                           "faster [")
    assert text.endswith("than it: a difference the data cannot tell from none")


def test_an_undecided_answer_says_which_candidates_more_rounds_can_place_and_which_none_can() -> None:
    fastest = ("pypy3.9", "countdown/serial@2000000")
    # pypy3.11's serial 1.05x behind on 3 processes with a between-run floor of 1.96 x 0.069 = 0.135, above
    # the half width that would decide it (max(ln 1.05, ln 1.1 - ln 1.05) = 0.0488): no round decides it.
    twin = decisions.Decision("winner", "v", Interval(1.05, 1.05 / 1.2, 1.05 * 1.2, floor=1.96 * 0.069), 1.0, False,
                              (fastest, ("pypy3.11", "countdown/serial@2000000")), 3)
    # Two processes and no interval yet: a round gives one.
    wide = decisions.Decision("winner", "v", None, 1.0, False, (fastest, ("cpython-3.15-jit",
                                                                          "countdown/processes-4@2000000")), 2)
    # 1.02 [0.78-1.33] on 3 processes: to lie within the band it must narrow to ln 1.1 - ln 1.02 = 0.0755 from
    # ln 1.3 = 0.262, 3 x (0.262 / 0.0755)^2 = 36 processes by the normal's 1.96 alone: more than 20 more.
    far = decisions.Decision("winner", "v", Interval(1.02, 1.02 / 1.3, 1.02 * 1.3), 1.0, False,
                             (fastest, ("pypy3.9", "countdown/threads-2@2000000")), 3)
    assert twin.beyond_rounds and wide.reachable and not far.reachable and not far.beyond_rounds
    group = replace(twin, members=(twin, wide, far))
    assert verdict_section.what_decides(group) == (
        "more rounds (`--budget`) may place cpython-3.15-jit with `processes ×4`; pypy3.9 with `threads ×2` would "
        "need more than 20 more rounds; pypy3.11 with `serial` lies closer to the fastest than runs of the same code "
        "at other hours differ, which no round of this run narrows; what each costs may decide"
    )
    # Every candidate within reach: more rounds, as before.
    assert verdict_section.what_decides(replace(wide, members=(wide,))) == (
        "more rounds, `--budget`, or what each costs may decide"
    )
