"""interpmatrix.stats on hand-made pyperf benchmarks whose values are chosen so every expected figure is worked out
by hand in the test (never by the function under test)."""

from __future__ import annotations

import math
from pathlib import Path

import pyperf
import pytest

from interpmatrix import stats
from interpmatrix.discovery import Interpreter
from interpmatrix.model import Column, Run
from interpmatrix.questions import Claim, Question
from interpmatrix.registry import Cell, Variant, Workload
from interpmatrix.results import CellFailure, RunDir, RunInfo

WORKLOAD = Workload(
    name="toy",
    group="Pure-Python CPU",
    claim="a toy claim",
    seeds=("000 Speed",),
    size_label="n",
    sizes=(10,),
    reference="serial",
    variants=(
        Variant("serial", "the loop", pure_python=True),
        Variant("threads", "in threads", workers=(1, 2)),
        Variant("fast", "a faster way"),
        Variant("serial_memory", "peak memory of serial", metric="memory"),
    ),
    script=Path("toy.py"),
)
SERIAL, FAST = Cell("toy", "serial", None, 10), Cell("toy", "fast", None, 10)
THREADS1, THREADS2 = Cell("toy", "threads", 1, 10), Cell("toy", "threads", 2, 10)
MEMORY = Cell("toy", "serial_memory", None, 10)


def bench(cell: Cell, *processes: list[float], warmups: list[float] = (), unit: str = "second", loops: int = 1):
    """One pyperf run per list of values (a worker process each), in round 1."""
    runs = [
        pyperf.Run(
            values,
            warmups=[(loops, value) for value in warmups],
            metadata={"name": cell.name, "unit": unit, "loops": loops, "interpmatrix_round": 1},
            collect_metadata=False,
        )
        for values in processes
    ]
    return pyperf.Benchmark(runs)


def interpreter(iid: str, **facts) -> Interpreter:
    record = dict(
        id=iid, implementation="cpython", version="3.12.1", implementation_version="3.12.1", executable=f"/x/{iid}",
        origin="test", free_threaded=False, gil_enabled=True, jit="none", config_args="", compiler="gcc", cflags="",
        shared=False,
    )
    record.update(facts)
    return Interpreter.from_dict(record)


def make_run(columns: list[Column], baseline: str = "base") -> Run:
    info = RunInfo.from_dict({"interpreters": [column.id for column in columns], "status": "complete"}, "toy-run")
    return Run(RunDir(Path("/nonexistent")), info, [WORKLOAD], columns, baseline, "chosen", None, {})


# Two cells ---------------------------------------------------------------------------------------------------------


def test_speed_ratio_is_baseline_mean_over_cell_mean() -> None:
    base = bench(SERIAL, [1.9, 2.0, 2.1])  # mean 2.0
    cell = bench(SERIAL, [0.45, 0.5, 0.55])  # mean 0.5
    assert stats.speed_ratio(base, cell) == pytest.approx(4.0)
    assert stats.speed_ratio(cell, base) == pytest.approx(0.25)


def test_significance_three_ways() -> None:
    low, high = bench(SERIAL, [1.0, 1.1, 0.9]), bench(SERIAL, [2.0, 2.1, 1.9])
    # Welch/Student t on these: |t| = 12.2 with 4 degrees of freedom, far past 2.78 (95 %, two-tailed).
    assert stats.significance(low, high) is None
    # Means 1.0 and 1.1 with a spread of 0.2: |t| = 0.61, well inside the noise.
    assert stats.significance(bench(SERIAL, [1.0, 1.2, 0.8]), bench(SERIAL, [1.1, 1.3, 0.9])) == "n.s."
    # Samples of unequal size, and a single value, are not tested.
    assert stats.significance(low, bench(SERIAL, [2.0, 2.1])) == "not tested"
    assert stats.significance(bench(SERIAL, [1.0]), bench(SERIAL, [2.0])) == "not tested"


def test_relative_stdev_needs_two_values() -> None:
    # values 1, 2, 3: mean 2, sample std dev 1.
    assert stats.relative_stdev(bench(SERIAL, [1.0, 2.0, 3.0])) == pytest.approx(0.5)
    assert stats.relative_stdev(bench(SERIAL, [1.0])) is None


# A whole run -------------------------------------------------------------------------------------------------------


def toy_columns() -> list[Column]:
    base = Column(interpreter("base"), {
        SERIAL.name: bench(SERIAL, [2.0, 2.0, 2.0]),
        FAST.name: bench(FAST, [1.0, 1.0, 1.0]),
        THREADS1.name: bench(THREADS1, [2.0, 2.0, 2.0]),
        THREADS2.name: bench(THREADS2, [4.0, 4.0, 4.0]),
        MEMORY.name: bench(MEMORY, [100.0], unit="byte"),
    }, {})
    other = Column(interpreter("other", version="3.13.0", free_threaded=True, gil_enabled=False), {
        SERIAL.name: bench(SERIAL, [0.5, 0.5, 0.5]),  # 4x faster than base
        FAST.name: bench(FAST, [4.0, 4.0, 4.0]),  # 4x slower than base
        THREADS1.name: bench(THREADS1, [3.0, 3.0, 3.0]),
        THREADS2.name: bench(THREADS2, [1.5, 1.5, 1.5]),  # 2x over its own x1
        MEMORY.name: bench(MEMORY, [400.0], unit="byte"),
    }, {FAST.name: CellFailure("crash", "killed by SIGSEGV")})
    return [base, other]


def test_geometric_mean_counts_time_cells_both_ran() -> None:
    run = make_run(toy_columns())
    means = stats.geometric_means(run)
    # base over itself: 1.0 on its 4 time cells. other: serial 4.0, threads x1 2/3, threads x2 8/3 (fast failed,
    # memory is no speed): (4 * 2/3 * 8/3) ** (1/3) = (64/9) ** (1/3).
    assert means["base"] == (pytest.approx(1.0), 4)
    assert means["other"][1] == 3
    assert means["other"][0] == pytest.approx((64 / 9) ** (1 / 3))
    assert stats.time_cell_count(run) == 4


def test_fastest_and_cell_counts() -> None:
    run = make_run(toy_columns())
    assert stats.fastest(run, SERIAL).id == "other"
    assert stats.fastest(run, FAST).id == "base"  # the other one failed
    # 2 columns x 5 cells: 9 measured, 1 failed, none missing.
    assert stats.cell_counts(run) == (9, 1, 0)


def test_thread_scaling_and_scaling_pairs() -> None:
    run = make_run(toy_columns())
    ((workload, size, speedups),) = stats.thread_scaling(run)
    assert (workload.name, size) == ("toy", 10)
    assert speedups == {"base": pytest.approx(0.5), "other": pytest.approx(2.0)}
    pairs = stats.scaling_pairs(WORKLOAD)
    labels = [(pair.cell.label, pair.base.label, pair.against) for pair in pairs]
    # Each worker count against x1, then x2 against the serial reference (a pure variant with no binding).
    assert labels == [
        ("threads ×1", "threads ×1", "self"), ("threads ×2", "threads ×1", "self"), ("threads ×2", "serial", "reference"),
    ]
    other = run.column("other")
    assert stats.scaling_ratio(other, pairs[2]) == pytest.approx(0.5 / 1.5)


def test_memory_variants_are_no_scaling_pair() -> None:
    io = Workload("io", "I/O", "c", (), "n", (1,), "serial",
                  (Variant("serial", "s", workers=(4,)), Variant("threads", "t", workers=(4,)),
                   Variant("threads_memory", "m", workers=(4,), metric="memory")), Path("io.py"))
    assert [(pair.variant, pair.against) for pair in stats.scaling_pairs(io)] == [("threads", "same_n")]


def test_free_threading_cost_on_pure_single_thread_cells() -> None:
    base, other = toy_columns()
    cost, count, speedups = stats.free_threading_figures(make_run([base, other]), other, base)
    # Pure-Python single-thread cells: serial (0.5 / 2.0) only; the cost is 0.25 - 1 = -75 %.
    assert (cost, count) == (pytest.approx(-0.75), 1)
    assert speedups == [(THREADS2, pytest.approx(4.0 / 1.5))]


# Claims ------------------------------------------------------------------------------------------------------------

PROMISE = Claim("toy", "fast is 1.5x faster", ("000 Speed",), slow=SERIAL.name, fast=FAST.name, at_least=1.5)
DENIAL = Claim("toy", "fast does not help", ("000 Speed",), slow=SERIAL.name, fast=FAST.name, at_most=1.2)


def test_a_promised_gain_must_pass_the_threshold_and_the_test() -> None:
    slow, fast = bench(SERIAL, [2.0, 2.1, 1.9]), bench(FAST, [1.0, 1.1, 0.9])
    result = stats.claim_result(PROMISE, slow, fast)
    assert (result.ratio, result.holds, result.mark) == (pytest.approx(2.0), True, None)
    # Ratio 1.1 (2.2 / 2.0) with a spread of 0.2: below the threshold and n.s.
    weak = stats.claim_result(PROMISE, bench(SERIAL, [2.0, 2.2, 2.4]), bench(FAST, [1.8, 2.0, 2.2]))
    assert (weak.ratio, weak.holds, weak.mark) == (pytest.approx(1.1), False, "n.s.")


def test_a_denial_holds_on_noise() -> None:
    result = stats.claim_result(DENIAL, bench(SERIAL, [2.0, 2.2, 2.4]), bench(FAST, [1.8, 2.0, 2.2]))
    assert (result.holds, result.mark) == (True, "n.s.")


def test_a_claim_on_single_values_is_not_tested() -> None:
    result = stats.claim_result(PROMISE, bench(SERIAL, [300.0], unit="byte"), bench(FAST, [100.0], unit="byte"))
    # 3.0x passes the threshold, but one value per cell gives the t-test nothing: today "not tested" is not "holds".
    assert (result.ratio, result.mark, result.holds) == (pytest.approx(3.0), "not tested", False)
    assert stats.claim_result(PROMISE, None, bench(FAST, [1.0])) is None


def test_claim_holding_lists_holding_and_measured_ids() -> None:
    results = {"a": stats.ClaimResult(2.0, True, None), "b": stats.ClaimResult(1.0, False, "n.s."), "c": None}
    assert stats.claim_holding(results) == (["a"], ["a", "b"])


# The verdict's pieces ----------------------------------------------------------------------------------------------


def test_answer_picks_the_lowest_mean_among_the_question_cells() -> None:
    run = make_run(toy_columns())
    found = stats.answer(run, Question("Toy", "toy", ("serial", "fast")))
    column, cell = found.best
    # other's serial (0.5) beats base's fast (1.0); other's fast failed.
    assert (column.id, cell) == ("other", SERIAL)
    assert found.reference == SERIAL and found.ratio == pytest.approx(4.0)
    assert found.missing == {}


def test_reference_cell_is_the_same_for_the_chart_and_a_question() -> None:
    assert stats.reference_cell(WORKLOAD) == SERIAL
    assert stats.reference_cell(WORKLOAD, Question("Toy", "toy")) == SERIAL


def test_warmup_ratio_is_first_warmup_over_steady_mean() -> None:
    # First warm-up values 4.0 and 2.0 (mean 3.0) over a steady mean of 1.5.
    benchmark = pyperf.Benchmark([
        pyperf.Run([1.0, 2.0], warmups=[(1, 4.0)], metadata={"name": "x", "unit": "second", "loops": 1},
                   collect_metadata=False),
        pyperf.Run([1.5, 1.5], warmups=[(1, 2.0)], metadata={"name": "x", "unit": "second", "loops": 1},
                   collect_metadata=False),
    ])
    assert stats.warmup_ratio(benchmark) == pytest.approx(2.0)


def test_payoff_finds_the_call_where_the_jit_has_caught_up() -> None:
    # The JIT: one warm-up value of 10 loops at 5 s a call, then 2 values of 10 loops at 0.5 s. The other side: 2 s a
    # call. After the warm-up the JIT is 10 x (5 - 2) = 30 s behind and gains 1.5 s a call: even after 20 more calls.
    jit = bench(SERIAL, [0.5, 0.5], warmups=[5.0], loops=10)
    other = bench(SERIAL, [2.0, 2.0, 2.0])
    calls, seconds = stats.payoff(jit, other)
    assert calls == 30 and seconds == pytest.approx(60.0)
    # Never ahead when slower even warm.
    assert stats.payoff(bench(SERIAL, [3.0, 3.0], loops=10), other) is None
    # Start-up counts: 3 s more for the JIT's start is 2 more calls at 1.5 s a call.
    assert stats.payoff(jit, other, jit_start=3.0)[0] == 32


def test_geometric_mean_is_pyperfs() -> None:
    assert stats.geometric_mean([2.0, 8.0]) == pytest.approx(4.0)
    assert math.isclose(stats.geometric_mean([1.0]), 1.0)
