"""interpmatrix.stats on hand-made pyperf benchmarks whose values are chosen so every expected figure is worked out
by hand in the test (never by the function under test)."""

from __future__ import annotations

import math
from pathlib import Path

import pyperf
import pytest

from interpmatrix import stats, verdicts
from interpmatrix.intervals import AT_THRESHOLD, FAILS, HOLDS, UNDECIDED, Estimator, Interval
from interpmatrix.recorded_scatter import BETWEEN_STEP_SD
from interpmatrix.discovery import Interpreter
from interpmatrix.model import Column, Run
from interpmatrix.questions import Claim, Question
from interpmatrix.registry import Cell, Variant, Workload
from interpmatrix.results import CellFailure, RunDir
from interpmatrix.run_info import RunInfo
from interpmatrix.sections import claims as claims_section

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
        Variant("c", "a C program timing itself", binding="c"),
    ),
    script=Path("toy.py"),
)
SERIAL, FAST = Cell("toy", "serial", None, 10), Cell("toy", "fast", None, 10)
THREADS1, THREADS2 = Cell("toy", "threads", 1, 10), Cell("toy", "threads", 2, 10)
MEMORY = Cell("toy", "serial_memory", None, 10)
C_CELL = Cell("toy", "c", None, 10)


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
    assert stats.significance(Interval(2.0, 1.5, 2.5)) is None  # excludes 1: the two differ
    assert stats.significance(Interval(0.5, 0.3, 0.8)) is None
    assert stats.significance(Interval(1.1, 0.9, 1.3)) == "n.s."
    assert stats.significance(Interval(3.0, None, None)) == "not tested"  # no interval: one process, no siblings
    assert stats.significance(None) == "not tested"


def test_relative_stdev_needs_two_values() -> None:
    # values 1, 2, 3: mean 2, sample std dev 1.
    assert stats.relative_stdev(bench(SERIAL, [1.0, 2.0, 3.0])) == pytest.approx(0.5)
    assert stats.relative_stdev(bench(SERIAL, [1.0])) is None


# A whole run -------------------------------------------------------------------------------------------------------


def toy_columns() -> list[Column]:
    """Two columns whose cells have two worker processes each, of identical values: every interval is a point, so
    each figure below is exactly the ratio worked out in the comments."""
    base = Column(interpreter("base"), {
        SERIAL.name: bench(SERIAL, [2.0, 2.0], [2.0, 2.0]),
        FAST.name: bench(FAST, [1.0, 1.0], [1.0, 1.0]),
        THREADS1.name: bench(THREADS1, [2.0, 2.0], [2.0, 2.0]),
        THREADS2.name: bench(THREADS2, [4.0, 4.0], [4.0, 4.0]),
        MEMORY.name: bench(MEMORY, [100.0], [100.0], unit="byte"),
        C_CELL.name: bench(C_CELL, [0.1, 0.1], [0.1, 0.1]),
    }, {})
    other = Column(interpreter("other", version="3.13.0", free_threaded=True, gil_enabled=False), {
        SERIAL.name: bench(SERIAL, [0.5, 0.5], [0.5, 0.5]),  # 4x faster than base
        FAST.name: bench(FAST, [4.0, 4.0], [4.0, 4.0]),  # 4x slower than base
        THREADS1.name: bench(THREADS1, [3.0, 3.0], [3.0, 3.0]),
        THREADS2.name: bench(THREADS2, [1.5, 1.5], [1.5, 1.5]),  # 2x over its own x1
        MEMORY.name: bench(MEMORY, [400.0], [400.0], unit="byte"),
        C_CELL.name: bench(C_CELL, [0.1, 0.1], [0.1, 0.1]),  # a C program: the interpreter does not matter
    }, {FAST.name: CellFailure("crash", "killed by SIGSEGV")})
    return [base, other]


def test_geometric_mean_ranks_every_interpreter_on_one_set_of_interpreter_dependent_cells() -> None:
    run = make_run(toy_columns())
    ranking = stats.geometric_means(Estimator(run))
    # The cells both ran, without memory (no speed) and without `c` (a C program timing itself): serial, threads x1,
    # threads x2 (fast failed on other). base over itself: 1.0; other: serial 4.0, threads x1 2/3, threads x2 8/3:
    # (4 * 2/3 * 8/3) ** (1/3) = (64/9) ** (1/3).
    assert ranking.cells == (SERIAL, THREADS1, THREADS2)
    assert ranking.means["base"].value == pytest.approx(1.0)
    assert ranking.means["other"].value == pytest.approx((64 / 9) ** (1 / 3))
    # Identical processes: only the between-run variance recorded for each ratio is left, a run's half of 0.029² for
    # serial and for threads x1 (one worker on each side), of 0.152² for threads x2 (two workers on each side),
    # (2 × 0.029² + 0.152²) / 2 / 3² for their mean, and the steps': every cell ran in round 1 of the toy workload, one
    # step per interpreter, whose weights in the mean are 1 and -1, 2 τ_step² in all. At 1.96 (no processes'
    # variance, so no degrees of freedom to lose): a half-width of 1.96 × √((2 × 0.029² + 0.152²) / 18 + 2 τ_step²).
    half = 1.96 * math.sqrt((2 * 0.029**2 + 0.152**2) / 18 + 2 * BETWEEN_STEP_SD**2)
    assert ranking.means["other"].low == pytest.approx((64 / 9) ** (1 / 3) * math.exp(-half))
    assert ranking.left_out == {}
    assert stats.time_cell_count(run) == 5


def test_a_rank_is_shared_by_means_the_data_cannot_tell_apart() -> None:
    # Four interpreters on serial and fast, two processes each, logs m ± 0.05 (a variance of 0.005 per cell). Times:
    # base 4.0, x 2.0, y 2.04 (x is 2 % faster), z 1.0. Over base: z 4x, x 2x, y 1.96x.
    def column(iid: str, time: float) -> Column:
        return Column(interpreter(iid), {
            cell.name: bench(cell, [time * math.exp(0.05)], [time * math.exp(-0.05)]) for cell in (SERIAL, FAST)
        }, {})

    run = make_run([column("base", 4.0), column("x", 2.0), column("y", 2.04), column("z", 1.0)])
    estimator = Estimator(run)
    found = stats.ranks(estimator, stats.geometric_means(estimator))
    assert [(r.rank, r.column_id) for r in found] == [(1, "z"), (2, "x"), (2, "y"), (4, "base")]
    # z over x: 2x on the same two cells, with an interval that clears 1 (each cell's mean has variance 0.0025; the
    # mean of two ratios 4 x 0.0025 / 4 = 0.0025, plus 2 x 0.029² / 2 / 4 and 2 τ_step², well under ln 2 = 0.69 at
    # t(8)). x starts rank 2. y is x's 1.02x: its interval holds 1, so it shares x's rank, with x named and the gap.
    assert found[0].behind is None and found[1].behind is None
    assert found[2].behind[0] == "x"
    gap = found[2].behind[1]
    assert gap.value == pytest.approx(1.02) and gap.low < 1.0 < gap.high
    # base against x, the first of the rank above: x's own mean over base, 2x, clears 1.
    assert found[3].behind is None
    # A PyPy measured once per cell, the only one of its family with nothing of its own measured twice: its mean
    # (8x, the fastest) has no interval, so no test places it: it comes last, unranked, and moves no one's rank.
    once = Column(interpreter("once", implementation="pypy"), {
        cell.name: bench(cell, [0.5]) for cell in (SERIAL, FAST)
    }, {})
    run = make_run([*run.columns, once])
    estimator = Estimator(run)
    found = stats.ranks(estimator, stats.geometric_means(estimator))
    assert [(r.rank, r.column_id) for r in found] == [(1, "z"), (2, "x"), (2, "y"), (4, "base"), (None, "once")]
    assert found[-1].mean.value == pytest.approx(8.0) and not found[-1].mean.known


def test_an_interpreter_that_ran_too_few_cells_is_left_out_not_shrinking_the_set() -> None:
    base, other = toy_columns()
    sparse = Column(interpreter("sparse"), {SERIAL.name: bench(SERIAL, [1.0, 1.0], [1.0, 1.0])}, {})
    ranking = stats.geometric_means(Estimator(make_run([base, other, sparse])))
    # base ran 4 interpreter-dependent cells, other 3 (at least 75 % of 4), sparse 1: left out with its count.
    assert ranking.left_out == {"sparse": 1}
    assert ranking.cells == (SERIAL, THREADS1, THREADS2)


def test_fastest_and_cell_counts() -> None:
    run = make_run(toy_columns())
    assert stats.fastest(Estimator(run), SERIAL).id == "other"
    assert stats.fastest(Estimator(run), FAST).id == "base"  # the other one failed
    # 2 columns x 6 cells: 11 measured, 1 failed (a crash), none unavailable, none missing.
    assert stats.cell_counts(run) == (11, 1, 0, 0)
    # A cell the interpreter cannot have (a self-timed runtime's, a missing package's) is no failure of the run.
    base, other = toy_columns()
    kept = {name: value for name, value in base.benchmarks.items() if name != FAST.name}
    lacking = Column(base.interpreter, kept, {FAST.name: CellFailure("unavailable", "not supported there")})
    assert stats.cell_counts(make_run([lacking, other])) == (10, 1, 1, 0)


def test_thread_scaling_and_scaling_pairs() -> None:
    run = make_run(toy_columns())
    estimator = Estimator(run)
    ((workload, size, speedups),) = stats.thread_scaling(estimator)
    assert (workload.name, size) == ("toy", 10)
    assert {iid: found.value for iid, found in speedups.items()} == {"base": pytest.approx(0.5), "other": pytest.approx(2.0)}
    # A point interval at 2.0 clears the 1.5x bar; at 0.5 it surely fails it.
    assert stats.parallel(speedups["other"]) == HOLDS and stats.parallel(speedups["base"]) == FAILS
    pairs = stats.scaling_pairs(WORKLOAD)
    labels = [(pair.cell.label, pair.base.label, pair.against) for pair in pairs]
    # Each worker count against x1, then x2 against the serial reference (a pure variant with no binding).
    assert labels == [
        ("threads ×1", "threads ×1", "self"), ("threads ×2", "threads ×1", "self"), ("threads ×2", "serial", "reference"),
    ]
    other = run.column("other")
    assert stats.scaling_ratio(estimator, other, pairs[2]).value == pytest.approx(0.5 / 1.5)


def test_a_variant_without_its_one_worker_cell_is_no_scaling_pair() -> None:
    # Two workers only, and a package's (pools' ParallelPython): no x1 cell to scale from, nor the reference to compare
    # with, so no row of dashes.
    variants = (Variant("serial", "s"), Variant("threads", "t", workers=(1, 2)), Variant("pp_local", "p", workers=(2,)))
    pools = Workload("pools", "Threads", "c", (), "scale", (3,), "serial", variants, Path("pools.py"), requirements=("pp",))
    assert [(pair.cell.label, pair.base.label) for pair in stats.scaling_pairs(pools)] == [
        ("threads ×1", "threads ×1"), ("threads ×2", "threads ×1"),
    ]


def test_memory_variants_are_no_scaling_pair() -> None:
    io = Workload("io", "I/O", "c", (), "n", (1,), "serial",
                  (Variant("serial", "s", workers=(4,)), Variant("threads", "t", workers=(4,)),
                   Variant("threads_memory", "m", workers=(4,), metric="memory")), Path("io.py"))
    assert [(pair.variant, pair.against) for pair in stats.scaling_pairs(io)] == [("threads", "same_n")]


def test_free_threading_cost_on_pure_single_thread_cells() -> None:
    base, other = toy_columns()
    cost, count, speedups = stats.free_threading_figures(Estimator(make_run([base, other])), other, base)
    # Pure-Python single-thread cells: serial only; other's time over base's: 0.5 / 2.0.
    assert (cost.value, count) == (pytest.approx(0.25), 1)
    assert [(cell, found.value) for cell, found in speedups] == [(THREADS2, pytest.approx(4.0 / 1.5))]


# Claims ------------------------------------------------------------------------------------------------------------

PROMISE = Claim("toy", "fast is 1.5x faster", ("000 Speed",), slow=SERIAL.name, fast=FAST.name, at_least=1.5)
DENIAL = Claim("toy", "fast does not help", ("000 Speed",), slow=SERIAL.name, fast=FAST.name, at_most=1.2)


@pytest.mark.parametrize(
    ("claim", "interval", "decision"),
    [
        (PROMISE, Interval(2.0, 1.6, 2.5), HOLDS),  # the whole interval at 1.5 or more
        (PROMISE, Interval(1.6, 1.3, 2.0), UNDECIDED),  # straddles 1.5: never a ✗
        (PROMISE, Interval(1.2, 1.1, 1.4), FAILS),  # wholly below
        (PROMISE, Interval(3.0, None, None), UNDECIDED),  # no interval decides nothing
        (DENIAL, Interval(1.0, 0.9, 1.1), HOLDS),  # wholly at 1.2 or less
        (DENIAL, Interval(1.15, 1.0, 1.3), UNDECIDED),
        (DENIAL, Interval(2.0, 1.5, 2.5), FAILS),
    ],
)
def test_a_claim_holds_fails_or_is_undecided_by_its_interval(claim: Claim, interval: Interval, decision: str) -> None:
    result = stats.claim_result(claim, interval)
    assert (result.ratio, result.decision) == (interval.value, decision)


PARALLEL = Claim("toy", "two threads are 1.5x faster", ("000 Speed",), slow=THREADS1.name, fast=THREADS2.name,
                 at_least=1.5)
NO_PARALLEL = Claim("toy", "two threads do not help", ("000 Speed",), slow=THREADS1.name, fast=THREADS2.name,
                    at_most=1.2)
FOUR_WAY = Claim("toy", "four threads are 1.5x faster", ("000 Speed",), slow=THREADS1.name,
                 fast=Cell("toy", "threads", 4, 10).name, at_least=1.5)


@pytest.mark.parametrize(
    ("claim", "interval", "parallelism", "decision", "machine_bound"),
    [
        # No speed-up from the second thread, on a machine whose own two threads ran 1.25x [1.2-1.3]: below 1.5, so
        # the missing speed-up may be the machine's.
        (PARALLEL, Interval(1.2, 1.1, 1.4), Interval(1.25, 1.2, 1.3), UNDECIDED, True),
        # The same with the machine surely above 1.5 (1.7x [1.6-1.8]), or with no pair probe recorded: it fails.
        (PARALLEL, Interval(1.2, 1.1, 1.4), Interval(1.7, 1.6, 1.8), FAILS, False),
        (PARALLEL, Interval(1.2, 1.1, 1.4), None, FAILS, False),
        # A machine figure without an interval does not surely exceed anything.
        (PARALLEL, Interval(1.2, 1.1, 1.4), Interval(1.7, None, None), UNDECIDED, True),
        # A speed-up that happened holds whatever the machine.
        (PARALLEL, Interval(1.9, 1.6, 2.2), Interval(1.25, 1.2, 1.3), HOLDS, False),
        # "Does not help" holds only where the machine could have helped: 1.25x [1.15-1.35] does not surely exceed 1.2.
        (NO_PARALLEL, Interval(1.0, 0.9, 1.1), Interval(1.25, 1.15, 1.35), UNDECIDED, True),
        (NO_PARALLEL, Interval(1.0, 0.9, 1.1), Interval(1.7, 1.6, 1.8), HOLDS, False),
        # A claim on one worker each (serial against fast) is the interpreter's whatever the machine.
        (PROMISE, Interval(1.2, 1.1, 1.4), Interval(1.25, 1.2, 1.3), FAILS, False),
        # Two workers slower than one, 0.3x [0.2-0.7]: a free second core could at most halve their time, 1.4x < 1.5,
        # so it fails on any machine; at 0.75 doubled is 1.5, which might pass: undecided.
        (PARALLEL, Interval(0.3, 0.2, 0.7), Interval(1.25, 1.2, 1.3), FAILS, False),
        (PARALLEL, Interval(0.5, 0.4, 0.75), Interval(1.25, 1.2, 1.3), UNDECIDED, True),
        # "Does not help" at 0.5x [0.45-0.6]: doubled, 1.2x at most, still no help beyond 1.2; at [0.5-0.65], 1.3x.
        (NO_PARALLEL, Interval(0.5, 0.45, 0.6), Interval(1.1, 1.0, 1.15), HOLDS, False),
        (NO_PARALLEL, Interval(0.55, 0.5, 0.65), Interval(1.1, 1.0, 1.15), UNDECIDED, True),
        # Four workers against one could be four times faster on free cores: 0.3x [0.2-0.4] could reach 1.6x.
        (FOUR_WAY, Interval(0.3, 0.2, 0.4), Interval(1.25, 1.2, 1.3), UNDECIDED, True),
        (FOUR_WAY, Interval(0.3, 0.2, 0.35), Interval(1.25, 1.2, 1.3), FAILS, False),
    ],
)
def test_no_speed_up_from_a_second_worker_decides_only_where_the_machine_could_show_one(
    claim: Claim, interval: Interval, parallelism: Interval | None, decision: str, machine_bound: bool
) -> None:
    result = stats.claim_result(claim, interval, parallelism)
    assert (result.decision, result.machine_bound) == (decision, machine_bound)


@pytest.mark.parametrize(
    ("interval", "processes", "decision", "few"),
    [
        # Two threads 1.28x [1.13-1.45] faster than one against 1.5x fails on three processes of the two-thread cell,
        # and on none (no cell of the claim on several workers); on two it is undecided, as is a holding figure.
        (Interval(1.28, 1.13, 1.45), 3, FAILS, 0),
        (Interval(1.28, 1.13, 1.45), None, FAILS, 0),
        (Interval(1.28, 1.13, 1.45), 2, UNDECIDED, 2),
        (Interval(1.71, 1.51, 1.94), 2, UNDECIDED, 2),
        # A figure its interval leaves undecided anyway gives no reason of the kind.
        (Interval(1.5, 1.2, 1.9), 2, UNDECIDED, 0),
    ],
)
def test_a_claim_on_several_workers_decides_on_three_processes_of_their_cell(
    interval: Interval, processes: int | None, decision: str, few: int
) -> None:
    result = stats.claim_result(PARALLEL, interval, Interval(1.9, 1.85, 1.95), processes)
    assert (result.decision, result.few_processes) == (decision, few)


def test_the_processes_a_claim_on_several_workers_rests_on() -> None:
    # The two-thread cell in two processes, the one-thread cell (one worker: not counted) in four: 2. A claim on
    # one worker each has none, and its text says nothing of processes.
    column = Column(interpreter("base"), {THREADS1.name: bench(THREADS1, *[[2.0]] * 4),
                                          THREADS2.name: bench(THREADS2, [1.6], [1.6])}, {})
    estimator = Estimator(make_run([column]))
    assert stats.several_workers_processes(estimator, (column, THREADS1), (column, THREADS2)) == 2
    assert stats.several_workers_processes(estimator, (column, THREADS1)) is None
    result = stats.claim_result(PARALLEL, Interval(1.25, 1.2, 1.3), None, 2)
    assert claims_section.result_text(result) == "1.25× [1.20–1.30] undecided (2 processes)"


@pytest.mark.parametrize(
    ("claim", "interval", "decision", "beyond_workers"),
    [
        # Two threads 3.09x [2.17-4.40] faster than one: more than two workers can give, whatever the machine.
        (PARALLEL, Interval(3.09, 2.17, 4.40), UNDECIDED, True),
        # "Does not help" (at most 1.2x) at the same figure is no decision either: the figure is not the threads'.
        (NO_PARALLEL, Interval(3.09, 2.17, 4.40), UNDECIDED, True),
        # Up to twice as fast on two workers holds; an interval reaching past 2 but not wholly above it still holds.
        (PARALLEL, Interval(1.9, 1.7, 2.1), HOLDS, False),
        (PARALLEL, Interval(2.2, 1.8, 2.7), HOLDS, False),
        # Four workers may run the same work up to 4x faster than one: 3.1x [2.2-4.4] is theirs to give.
        (FOUR_WAY, Interval(3.09, 2.17, 4.40), HOLDS, False),
        (FOUR_WAY, Interval(5.0, 4.2, 6.0), UNDECIDED, True),
        # A claim on one worker each has no such bound: serial 3x faster than "fast" on one worker is a result.
        (PROMISE, Interval(3.09, 2.17, 4.40), HOLDS, False),
    ],
)
def test_a_speed_up_beyond_what_the_workers_can_give_decides_nothing(
    claim: Claim, interval: Interval, decision: str, beyond_workers: bool
) -> None:
    result = stats.claim_result(claim, interval, Interval(1.9, 1.85, 1.95))
    assert (result.decision, result.beyond_workers) == (decision, beyond_workers)


def test_a_claim_without_both_cells_has_no_result() -> None:
    assert stats.claim_result(PROMISE, None) is None


def test_claim_rows_test_the_two_cells_on_each_interpreter() -> None:
    run = make_run(toy_columns())
    (row,) = stats.claim_rows(Estimator(run), PROMISE)
    # base: serial 2.0 / fast 1.0 = 2.0, a point interval at 2.0 >= 1.5; other: its fast cell crashed.
    assert row.jit is None and row.results["other"] is None
    assert row.results["base"].ratio == pytest.approx(2.0) and row.results["base"].decision == HOLDS
    assert row.verdict() == {HOLDS: ["base"], FAILS: [], AT_THRESHOLD: [], UNDECIDED: []}


def test_a_claim_against_the_jit_has_a_row_per_jit_by_name() -> None:
    base, other = toy_columns()
    jit_a = Column(interpreter("pypy-a", implementation="pypy", jit="PyPy JIT"),
                   {SERIAL.name: bench(SERIAL, [0.1, 0.1], [0.1, 0.1])}, {})
    jit_b = Column(interpreter("pypy-b", implementation="pypy", jit="PyPy JIT"),
                   {SERIAL.name: bench(SERIAL, [0.2, 0.2], [0.2, 0.2])}, {})
    versus = Claim("toy", "the JIT is 10x faster", ("000 Speed",), slow=SERIAL.name, fast=SERIAL.name, at_least=10,
                   versus_jit=True)
    rows = stats.claim_rows(Estimator(make_run([base, other, jit_a, jit_b])), versus)
    assert [row.jit for row in rows] == ["pypy-a", "pypy-b"]
    # base's serial 2.0 over pypy-a's 0.1 is 20x (holds); over pypy-b's 0.2, 10x (the whole point interval at 10).
    assert {iid: found.ratio for iid, found in rows[0].results.items()} == {"base": pytest.approx(20.0),
                                                                            "other": pytest.approx(5.0)}
    assert rows[1].results["base"].ratio == pytest.approx(10.0)
    assert rows[0].verdict() == {HOLDS: ["base"], FAILS: ["other"], AT_THRESHOLD: [], UNDECIDED: []}


# The verdict's pieces ----------------------------------------------------------------------------------------------


def test_answer_picks_the_lowest_mean_and_names_it_when_it_beats_the_runner_up() -> None:
    run = make_run(toy_columns())
    found = verdicts.answer(Estimator(run), Question("Toy", "toy", ("serial", "fast")))
    column, cell = found.best
    # other's serial (0.5) beats base's fast (1.0) by a point interval at 2.0; other's fast failed.
    assert (column.id, cell) == ("other", SERIAL)
    assert found.decided and found.ties == ()
    assert found.margin.value == pytest.approx(2.0)
    assert found.reference == SERIAL and found.ratio == pytest.approx(4.0)
    assert found.ratio_interval.value == pytest.approx(4.0)
    assert found.missing == {}


def test_reference_cell_is_the_same_for_the_chart_and_a_question() -> None:
    assert verdicts.reference_cell(WORKLOAD) == SERIAL
    assert verdicts.reference_cell(WORKLOAD, Question("Toy", "toy")) == SERIAL


def test_payoff_finds_the_call_where_the_jit_has_caught_up() -> None:
    # The JIT: one warm-up value of 10 loops at 5 s a call, then 2 values of 10 loops at 0.5 s. The other side: 2 s a
    # call. After the warm-up the JIT is 10 x (5 - 2) = 30 s behind and gains 1.5 s a call: even after 20 more calls.
    jit = bench(SERIAL, [0.5, 0.5], warmups=[5.0], loops=10)
    other = bench(SERIAL, [2.0, 2.0, 2.0])
    (process,) = jit.get_runs()
    calls, seconds = verdicts.payoff(process, other.mean())
    assert calls == 30 and seconds == pytest.approx(60.0)
    # Never ahead when slower even warm.
    (slower,) = bench(SERIAL, [3.0, 3.0], loops=10).get_runs()
    assert verdicts.payoff(slower, other.mean()) is None
    # Start-up counts: 3 s more for the JIT's start is 2 more calls at 1.5 s a call.
    assert verdicts.payoff(process, other.mean(), jit_start=3.0)[0] == 32


def test_geometric_mean_is_pyperfs() -> None:
    assert stats.geometric_mean([2.0, 8.0]) == pytest.approx(4.0)
    assert math.isclose(stats.geometric_mean([1.0]), 1.0)
