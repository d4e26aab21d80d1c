"""interpmatrix.intervals and interpmatrix.decisions on hand-made numbers: every interval below is worked out by hand in
the comments (with Student's t from a printed table), never by the function under test."""

from __future__ import annotations

import math
from dataclasses import replace
from pathlib import Path

import pyperf
import pytest
from test_stats import (
    C_CELL, FAST, MEMORY, PARALLEL, SERIAL, THREADS1, THREADS2, WORKLOAD, bench, interpreter, make_run,
)

from interpmatrix import decisions, stats, verdicts
from interpmatrix.budget import Need
from interpmatrix.between_runs import BetweenRuns, between_run_scatter, between_runs, change_interval
from interpmatrix.harness_protocol import (
    PARALLELISM_ONE_METADATA,
    PARALLELISM_TWO_METADATA,
    PROBE_BUFFER_METADATA,
    PROBE_METADATA,
)
from interpmatrix.intervals import (
    AT_THRESHOLD,
    FAILS,
    HOLDS,
    UNDECIDED,
    Estimator,
    Interval,
    Prior,
    Spread,
    median_interval,
    pooled_prior,
    ratio_interval,
    spread,
    step_variance,
)
from interpmatrix.recorded_scatter import BETWEEN_RUN_SD, BETWEEN_RUN_SD_PYPY, BETWEEN_STEP_SD
from interpmatrix.model import Column, Run, machine_probe
from interpmatrix.questions import Question
from interpmatrix.registry import Cell
from interpmatrix.results import RunDir
from interpmatrix.run_info import RunInfo
from interpmatrix.samples import (
    ONE_WORKER,
    SEVERAL_WORKERS,
    ProbeFit,
    Sample,
    adjusted,
    probe_fit,
    probe_group,
    probe_references,
    sample,
    steady_values,
    still_warming_at_end,
)

LN2 = math.log(2.0)


# Warm-up inside a process -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("values", "steady"),
    [
        # 47 > 1.1 x median(45, 30) = 41.25 is dropped; then only two remain, and two always stay (45 > 1.1 x 30 = 33
        # would be a warm-up, but one value left would turn a noisy process's scatter into a bias towards fast).
        ([47.0, 45.0, 30.0], [45.0, 30.0]),
        ([30.0, 31.0, 29.0], [30.0, 31.0, 29.0]),  # 30 is not above 1.1 x 30: warm from the start
        ([1.0, 2.0, 3.0], [1.0, 2.0, 3.0]),  # values that grow are no warm-up
        ([5.0], [5.0]),  # one value stays
    ],
)
def test_leading_values_above_the_rest_are_warm_up(values: list[float], steady: list[float]) -> None:
    assert steady_values(values) == steady


def test_a_sample_is_one_log_mean_per_worker_process() -> None:
    # Process 1: 4.0 then 2.0, 2.0 (4.0 is still warming up: above 1.1 x 2.0) -> mean 2.0. Process 2: 1.0, 1.0.
    found = sample(bench(SERIAL, [4.0, 2.0, 2.0], [1.0, 1.0]))
    assert found.logs == (pytest.approx(LN2), pytest.approx(0.0))
    assert found.still_warming == 1 and found.n == 2


# Intervals ----------------------------------------------------------------------------------------------------------

# Two cells of three processes each, log means ln 2 + (0.1, 0, -0.1) and (0.1, 0, -0.1): ratio 2, each with a
# between-process variance of (0.01 + 0 + 0.01) / 2 = 0.01.
SLOW = Sample((LN2 + 0.1, LN2, LN2 - 0.1))
FAST_SAMPLE = Sample((0.1, 0.0, -0.1))


def test_a_ratio_interval_is_welchs_on_process_log_means() -> None:
    # No prior: each mean's variance 0.01 / 3, 2 df; Satterthwaite: (2a)^2 / (2 a^2 / 2) = 4 df; t(4) = 2.776.
    # Half width 2.776 x sqrt(0.02 / 3) = 0.22666: 2 x exp(-+0.22666) = 1.5944 .. 2.5088.
    found = ratio_interval(spread(SLOW, None), spread(FAST_SAMPLE, None))
    assert found.value == pytest.approx(2.0)
    assert (found.low, found.high) == (pytest.approx(1.5944, abs=1e-4), pytest.approx(2.5088, abs=1e-4))


def test_a_prior_from_sibling_cells_adds_degrees_of_freedom() -> None:
    # Prior 0.01 on 8 df: the moderated variance stays (8 x 0.01 + 2 x 0.01) / 10 = 0.01, now on 10 df each;
    # Satterthwaite: 4a^2 / (2a^2 / 10) = 20 df; t(20) = 2.086; half width 2.086 x 0.08165 = 0.17032:
    # 2 x exp(-+0.17032) = 1.6868 .. 2.3714, narrower than without the siblings.
    prior = Prior(0.01, 8)
    found = ratio_interval(spread(SLOW, prior), spread(FAST_SAMPLE, prior))
    assert (found.low, found.high) == (pytest.approx(1.6868, abs=1e-4), pytest.approx(2.3714, abs=1e-4))


def test_a_cell_that_scatters_more_than_its_siblings_keeps_a_wider_interval() -> None:
    wide = Sample((LN2 + 0.3, LN2, LN2 - 0.3))  # variance 0.09
    quiet = Prior(0.01, 8)
    # Moderated: (8 x 0.01 + 2 x 0.09) / 10 = 0.026 > 0.01.
    assert spread(wide, quiet).variance == pytest.approx(0.026 / 3)
    assert spread(SLOW, quiet).variance == pytest.approx(0.01 / 3)


def test_pooled_prior_weights_by_degrees_of_freedom_and_caps_them() -> None:
    # Variances 0.01 (2 df) and 0.04 (1 df: two processes ln 1 +- 0.1414...): pooled (0.02 + 0.04) / 3 = 0.02.
    two = Sample((0.0, math.sqrt(0.08)))  # variance 0.08 / 2 = 0.04
    prior = pooled_prior([SLOW, two, Sample((1.0,))])
    assert prior.variance == pytest.approx(0.02) and prior.df == 3
    many = pooled_prior([SLOW] * 10)  # 20 df, capped
    assert many.df == 8
    assert pooled_prior([Sample((1.0,))]) is None


def test_process_level_correlation_widens_the_interval() -> None:
    """The same six values, as six processes of one value or as two processes of three: pyperf's t-test on values
    sees the same sample twice; the interval on processes sees 5 df in one case and 1 in the other."""
    reference = bench(FAST, [1.0], [1.0], [1.0], [1.0], [1.0], [1.0])
    six = bench(SERIAL, [1.0], [1.2], [1.0], [1.2], [1.0], [1.2])
    two = bench(SERIAL, [1.0, 1.0, 1.0], [1.2, 1.2, 1.2])
    assert sorted(six.get_values()) == sorted(two.get_values())
    wide = ratio_interval(spread(sample(two), None), spread(sample(reference), None))
    narrow = ratio_interval(spread(sample(six), None), spread(sample(reference), None))
    # Logs alternate 0 and ln 1.2 = 0.1823. Six processes: variance 6 x 0.0912^2 / 5 = 0.00997, of the mean /6,
    # t(5) = 2.571: half width 0.1048. Two: variance 0.1823^2 / 2 = 0.01662, of the mean /2, t(1) = 12.706: 1.158.
    assert math.log(narrow.high / narrow.value) == pytest.approx(0.1048, abs=1e-3)
    assert math.log(wide.high / wide.value) == pytest.approx(1.158, abs=1e-3)


def probed(cell: Cell, *processes: tuple[float, list[float]]):
    """A cell whose worker processes each recorded a machine-state probe: (probe seconds, values) per process."""
    return pyperf.Benchmark([
        pyperf.Run(values, metadata={"name": cell.name, "unit": "second", "loops": 1, "interpmatrix_round": 1,
                                     PROBE_METADATA: probe}, collect_metadata=False)
        for probe, values in processes
    ])


def test_a_sample_keeps_each_processs_log_probe_beside_its_log_mean() -> None:
    found = sample(probed(SERIAL, (0.002, [1.0, 1.0]), (0.004, [2.0, 2.0])))
    assert found.logs == (pytest.approx(0.0), pytest.approx(LN2))
    assert found.probes == (pytest.approx(math.log(0.002)), pytest.approx(math.log(0.004)))
    assert found.probed
    assert not sample(bench(SERIAL, [1.0], [2.0])).probed  # no probe recorded: an older run's files


def pair(speed: float, probe: float) -> Sample:
    """Two processes of a cell, their logs ±speed and their log probes ±probe around arbitrary centres."""
    return Sample((3.0 - speed, 3.0 + speed), probes=(-6.0 - probe, -6.0 + probe))


def test_the_probe_fit_is_the_within_cell_slope_of_speed_on_probe() -> None:
    # Ten cells: deviations (speed, probe) = (∓0.1, ∓0.1) in five, (∓0.3, ∓0.1) in five. Slope: Σ sp / Σ p² =
    # (10 x 0.01 + 10 x 0.03) / (20 x 0.01) = 2.0. Correlation: 0.4 / sqrt(0.2 x (10 x 0.01 + 10 x 0.09)) = 0.8944.
    fit = probe_fit([pair(0.1, 0.1)] * 5 + [pair(0.3, 0.1)] * 5 + [Sample((1.0,), probes=(0.0,))])
    assert fit == ProbeFit(pytest.approx(2.0), pytest.approx(0.8944, abs=1e-4), 20, 10)


def test_a_probe_that_runs_against_the_speed_moves_nothing() -> None:
    # Deviations (∓0.1, ±0.1): slope -1, never used below 0; the correlation says so.
    fit = probe_fit([pair(0.1, -0.1)] * 10)
    assert fit.slope == 0.0 and fit.correlation == pytest.approx(-1.0)


def test_too_few_probed_processes_give_no_fit() -> None:
    assert probe_fit([pair(0.1, 0.1)] * 9) is None  # 18 processes, under PROBE_FIT_PROCESSES = 20
    unprobed = Sample((1.0, 2.0), probes=(None, None))
    assert probe_fit([pair(0.1, 0.1)] * 9 + [unprobed] * 5) is None


def test_adjusting_moves_each_probed_process_by_the_slope_times_its_probes_distance() -> None:
    found = Sample((LN2, 0.0, 1.0), probes=(math.log(0.004), math.log(0.002), None))
    # Reference ln 0.002, slope 0.5: ln 2 - 0.5 x ln 2; 0 - 0.5 x 0; no probe, no move.
    moved = adjusted(found, 0.5, math.log(0.002))
    assert moved.logs == (pytest.approx(LN2 / 2), pytest.approx(0.0), 1.0)


def process(probe: float, values: list[float], implementation: str, buffer: str | None = None) -> pyperf.Run:
    """A worker process of SERIAL that recorded a probe, as ``implementation`` and its probe's ``buffer`` (None: a run
    measured before the harness recorded it)."""
    metadata = {"name": SERIAL.name, "unit": "second", "loops": 1, "interpmatrix_round": 1, PROBE_METADATA: probe,
                "python_implementation": implementation}
    if buffer is not None:
        metadata[PROBE_BUFFER_METADATA] = buffer
    return pyperf.Run(values, metadata=metadata, collect_metadata=False)


def test_a_pypy_processs_probe_counts_only_where_it_read_a_bytes_object() -> None:
    """PyPy's zlib copied the harness's mapped buffer through PyPy's allocator on every call (workloads/_harness.py
    probe_buffer): such a probe timed what the workload left on PyPy's heap, not the machine. CPython's read the
    mapping as it lies, before the buffer was recorded as after."""
    assert machine_probe(process(0.002, [1.0], "cpython")) == 0.002
    assert machine_probe(process(0.002, [1.0], "cpython", "mmap")) == 0.002
    assert machine_probe(process(0.002, [1.0], "pypy")) is None
    assert machine_probe(process(0.002, [1.0], "pypy", "mmap")) is None
    assert machine_probe(process(0.002, [1.0], "pypy", "bytes")) == 0.002


def test_a_pypy_column_whose_probe_timed_its_heap_is_neither_fitted_nor_adjusted() -> None:
    # The CPython columns of the test below (slope 1 from their 24 processes), and a PyPy column whose processes
    # alternate (probe 0.001 s, values 0.5) and (0.002 s, 1.0): read off a mapping, its probes count for nothing, so
    # the fit is the CPython processes' alone and its cell keeps the logs it measured, ln 0.5 and 0.
    slow = Column(interpreter("slow"), {
        SERIAL.name: pyperf.Benchmark([process(p, v, "cpython") for p, v in [(0.003, [2.0, 2.0]),
                                                                             (0.006, [4.0, 4.0])] * 6])}, {})
    fast = Column(interpreter("fast"), {
        SERIAL.name: pyperf.Benchmark([process(p, v, "cpython") for p, v in [(0.001, [1.0, 1.0]),
                                                                             (0.002, [2.0, 2.0])] * 6])}, {})
    heap = [(0.001, [0.5, 0.5]), (0.002, [1.0, 1.0])] * 6
    pypy = Column(interpreter("pypy", implementation="pypy", jit="PyPy JIT"),
                  {SERIAL.name: pyperf.Benchmark([process(p, v, "pypy") for p, v in heap])}, {})
    estimator = Estimator(make_run([slow, fast, pypy], baseline="slow"))
    fit = estimator.probe_fit(ONE_WORKER)
    assert (fit.slope, fit.processes, fit.cells) == (pytest.approx(1.0), 24, 2)
    assert estimator.sample(pypy, SERIAL).logs == tuple([pytest.approx(math.log(0.5)), pytest.approx(0.0)] * 6)
    # Read off a bytes object, the same probes count: 36 processes fit, still at slope 1 (the PyPy cell's speed and
    # probe deviate by ±ln 2 / 2 together, as the others'), and each process moves by its log probe's distance from
    # the cell's median log probe on its column, ln(0.001 sqrt 2) (the only PyPy column: its cell's offset is its
    # own): ln 0.5 - ln(1 / sqrt 2) and 0 - ln(sqrt 2), both ln(1 / sqrt 2).
    pypy = Column(pypy.interpreter, {SERIAL.name: pyperf.Benchmark([process(p, v, "pypy", "bytes") for p, v in heap])},
                  {})
    estimator = Estimator(make_run([slow, fast, pypy], baseline="slow"))
    fit = estimator.probe_fit(ONE_WORKER)
    assert (fit.slope, fit.processes, fit.cells) == (pytest.approx(1.0), 36, 3)
    assert estimator.sample(pypy, SERIAL).logs == tuple([pytest.approx(-LN2 / 2)] * 12)


def test_the_estimator_adjusts_by_the_fitted_slope_and_each_interpreters_own_median_probe() -> None:
    # "slow": 12 processes of SERIAL, alternately (probe 0.003 s, values 2.0) and (0.006 s, 4.0): within the cell
    # speed and probe deviate by ±ln 2 / 2 together. "fast": 12 alike at (0.001, 1.0) and (0.002, 2.0). Slope 1,
    # correlation 1. Median log probes: ln(0.003 sqrt 2) and ln(0.001 sqrt 2) (halfway between each column's two, on
    # the log scale), and with one cell each that is each column's reference. Adjusted, every process of "slow"
    # counts ln 2 - ln(1 / sqrt 2) or ln 4 - ln(sqrt 2): both ln(2 sqrt 2), and "fast" ln(sqrt 2): a ratio of 2.0 with
    # no scatter left at all.
    slow = Column(interpreter("slow"), {
        SERIAL.name: probed(SERIAL, *[(0.003, [2.0, 2.0]), (0.006, [4.0, 4.0])] * 6)}, {})
    fast = Column(interpreter("fast"), {
        SERIAL.name: probed(SERIAL, *[(0.001, [1.0, 1.0]), (0.002, [2.0, 2.0])] * 6)}, {})
    run = make_run([slow, fast], baseline="slow")
    estimator = Estimator(run)
    fit = estimator.probe_fit(ONE_WORKER)
    assert estimator.probe_fit(SEVERAL_WORKERS) is None  # no cell on several workers
    assert (fit.slope, fit.correlation, fit.processes, fit.cells) == (pytest.approx(1.0), pytest.approx(1.0), 24, 2)
    assert estimator.probe_reference(slow, SERIAL) == pytest.approx(math.log(0.003 * math.sqrt(2.0)))
    assert estimator.sample(slow, SERIAL).logs == tuple([pytest.approx(1.5 * LN2)] * 12)
    # Adjusted, the processes agree exactly: the ratio's interval is what the between-run variance recorded for a
    # ratio of two cells on one worker leaves, 0.029 / sqrt 2 on the log scale (a run's share of how far two runs'
    # figures scattered), at the t of the processes' degrees of freedom (11 each, plus 8 borrowed from the other's
    # same cell: 19 + 19 = 38, t = 2.042 in pyperf's table); without it, the point.
    found = estimator.ratio((slow, SERIAL), (fast, SERIAL))
    spread = 2.042 * 0.029 / math.sqrt(2.0)
    assert (found.value, found.low, found.high) == (
        pytest.approx(2.0), pytest.approx(2.0 * math.exp(-spread)), pytest.approx(2.0 * math.exp(spread)),
    )
    alone = Estimator(run, between_runs=False).ratio((slow, SERIAL), (fast, SERIAL))
    assert (alone.value, alone.low, alone.high) == (pytest.approx(2.0), pytest.approx(2.0), pytest.approx(2.0))
    # Turned off, each cell keeps its two speeds: the ratio is the same 2.0, its interval wide.
    raw = Estimator(run, probe_adjusted=False).ratio((slow, SERIAL), (fast, SERIAL))
    assert raw.value == pytest.approx(2.0) and raw.high / raw.low > 1.3


def test_a_ratio_with_a_pypy_cell_carries_the_between_run_variance_recorded_for_pypy() -> None:
    # The columns of the test above, whose processes agree exactly once adjusted (ratio 2.0): the interval is the
    # recorded between-run variance at the processes' t (11 + 8 borrowed degrees of freedom a cell, t(38) = 2.042),
    # PyPy's figure for a ratio of two cells on one worker when the columns are PyPys (an input of the statistics, as
    # BETWEEN_RUN_SD is).
    def columns(slow_implementation: str, fast_implementation: str) -> Run:
        slow = Column(interpreter("slow", implementation=slow_implementation), {
            SERIAL.name: probed(SERIAL, *[(0.003, [2.0, 2.0]), (0.006, [4.0, 4.0])] * 6)}, {})
        fast = Column(interpreter("fast", implementation=fast_implementation), {
            SERIAL.name: probed(SERIAL, *[(0.001, [1.0, 1.0]), (0.002, [2.0, 2.0])] * 6)}, {})
        return make_run([slow, fast], baseline="slow")

    for implementations, recorded in [(("cpython", "cpython"), BETWEEN_RUN_SD[0]),
                                      (("pypy", "pypy"), BETWEEN_RUN_SD_PYPY[0])]:
        run = columns(*implementations)
        found = Estimator(run).ratio((run.columns[0], SERIAL), (run.columns[1], SERIAL))
        assert (found.value, found.low, found.high) == (
            pytest.approx(2.0), pytest.approx(2.0 * math.exp(-2.042 * recorded)),
            pytest.approx(2.0 * math.exp(2.042 * recorded)),
        ), implementations
    # One PyPy cell is enough, on either side, and a cell on several workers takes PyPy's figure for that group.
    run = columns("cpython", "pypy")
    estimator = Estimator(run)
    cpython, pypy = run.columns
    assert estimator.between_run_variance((cpython, SERIAL), (pypy, SERIAL)) == BETWEEN_RUN_SD_PYPY[0] ** 2
    assert estimator.between_run_variance((pypy, SERIAL), (cpython, SERIAL)) == BETWEEN_RUN_SD_PYPY[0] ** 2
    assert estimator.between_run_variance((pypy, THREADS2), (cpython, SERIAL)) == BETWEEN_RUN_SD_PYPY[1] ** 2
    assert estimator.between_run_variance((cpython, THREADS2), (cpython, SERIAL)) == BETWEEN_RUN_SD[1] ** 2


def test_cells_on_several_workers_get_a_slope_of_their_own() -> None:
    # Both cells of "a": 24 processes each. On one worker (SERIAL) speed follows the probe fully: (0.003 s, 2.0) and
    # (0.006 s, 4.0), slope 1. On two threads (THREADS2) it follows at half: (0.003, 2.0) and (0.006, 2.0 x sqrt 2),
    # slope 0.5. Median log probe ln(0.003 sqrt 2) in both, the reference of both. Adjusted, SERIAL's processes both
    # count ln 2 - ln(1 / sqrt 2) = 1.5 ln 2 and THREADS2's count ln 2 - 0.5 ln(1 / sqrt 2) and
    # ln(2 sqrt 2) - 0.5 ln(sqrt 2): both 1.25 ln 2. One slope for both would have left scatter in each.
    column = Column(interpreter("a"), {
        SERIAL.name: probed(SERIAL, *[(0.003, [2.0, 2.0]), (0.006, [4.0, 4.0])] * 12),
        THREADS2.name: probed(THREADS2, *[(0.003, [2.0, 2.0]), (0.006, [2.0 * math.sqrt(2.0)] * 2)] * 12),
    }, {})
    estimator = Estimator(make_run([column], baseline="a"))
    assert (probe_group(SERIAL), probe_group(THREADS2)) == (ONE_WORKER, SEVERAL_WORKERS)
    assert estimator.probe_fit(ONE_WORKER).slope == pytest.approx(1.0)
    assert estimator.probe_fit(SEVERAL_WORKERS).slope == pytest.approx(0.5)
    assert estimator.sample(column, SERIAL).logs == tuple([pytest.approx(1.5 * LN2)] * 24)
    assert estimator.sample(column, THREADS2).logs == tuple([pytest.approx(1.25 * LN2)] * 24)


def test_a_cells_own_probe_offset_moves_none_of_its_mean_while_a_slow_hour_is_taken_out() -> None:
    # Three CPython columns, three cells each, four processes a cell alternately at (p, v) and (2p, 2v): within every
    # cell speed follows the probe at slope 1. The kernel leaves the core in a state of its own, so each cell's probe
    # has a level of its own on every column: SERIAL p = 0.001, FAST 0.004, C_CELL 0.002; values 1, 3 and 2. Column
    # "b" ran its SERIAL processes at a slow hour: probes and values doubled. Median log probes (midpoints on the log
    # scale, L = ln sqrt 2): on "a" and "c", ln 0.001 + L, ln 0.004 + L, ln 0.002 + L; on "b", ln 0.002 + L for SERIAL.
    # The polish by hand: each column's level, the median of its three, is ln 0.002 + L on all three; the cells'
    # offsets, the medians over the columns, -ln 2 (SERIAL: -ln 2, 0, -ln 2), +ln 2 and 0; the levels again ln 0.002 +
    # L. So SERIAL's reference is ln 0.001 + L on every column, "b" included, and its processes there count
    # ln 2 - (ln 0.002 - ln 0.001 - L) and ln 4 - (ln 0.004 - ln 0.001 - L): both L, as on "a"; FAST counts ln 3 + L.
    # FAST ÷ SERIAL stays 3, as measured. The column's median probe as the reference (0.003 on "a", between its cells'
    # levels) moved SERIAL to ln 3 and FAST to ln(9/4): a ratio of 0.75.
    def column(name: str, slow_serial: bool) -> Column:
        scale = 2.0 if slow_serial else 1.0
        cells = {SERIAL: (0.001 * scale, 1.0 * scale), FAST: (0.004, 3.0), C_CELL: (0.002, 2.0)}
        return Column(interpreter(name), {
            cell.name: probed(cell, *[(probe, [value, value]), (2 * probe, [2 * value, 2 * value])] * 2)
            for cell, (probe, value) in cells.items()
        }, {})

    a, b, c = column("a", False), column("b", True), column("c", False)
    estimator = Estimator(make_run([a, b, c], baseline="a"))
    assert estimator.probe_fit(ONE_WORKER).slope == pytest.approx(1.0)
    half = LN2 / 2
    for found in (a, b, c):
        assert estimator.probe_reference(found, SERIAL) == pytest.approx(math.log(0.001) + half)
        assert estimator.sample(found, SERIAL).logs == tuple([pytest.approx(half)] * 4)
        assert estimator.sample(found, FAST).logs == tuple([pytest.approx(math.log(3.0) + half)] * 4)
    assert estimator.ratio((a, FAST), (a, SERIAL)).value == pytest.approx(3.0)
    assert estimator.ratio((b, SERIAL), (a, SERIAL)).value == pytest.approx(1.0)


def test_probe_references_share_a_cells_offset_within_a_family_and_keep_each_columns_level() -> None:
    # Additive medians, by hand: CPython columns "a" (x 0, y 1), "b" (x 0.5, y 1.5), "c" (as "a"): levels 0.5, 1.0,
    # 0.5 and offsets x -0.5, y +0.5. A PyPy column "p" whose kernels move the probe the other way (x 2, y 1) is a
    # family of its own: level 1.5, offsets x +0.5, y -0.5. Every reference is the median it came from.
    medians = {("a", "x"): 0.0, ("a", "y"): 1.0, ("b", "x"): 0.5, ("b", "y"): 1.5, ("c", "x"): 0.0, ("c", "y"): 1.0,
               ("p", "x"): 2.0, ("p", "y"): 1.0}
    families = {"a": "cpython", "b": "cpython", "c": "cpython", "p": "pypy"}
    assert probe_references(medians, families) == pytest.approx(medians)
    # One family for all: the offsets are the medians over four columns, x median(-0.5, -0.5, -0.5, 0.5) = -0.5 and
    # y +0.5, and "p" is then measured against its level 1.5 moved by them: x 1.0 and y 2.0.
    shared = probe_references(medians, dict.fromkeys(families, "one"))
    assert (shared[("p", "x")], shared[("p", "y")]) == (pytest.approx(1.0), pytest.approx(2.0))


def parallelism_probed(cell: Cell, *processes: tuple[float, float, list[float]], old: bool = False):
    """A cell on several workers whose processes each timed the parallelism probe: (one-thread seconds, two-thread
    seconds, values) per process; ``old``: as runs before it recorded crc32 on two threads instead (one-core probe 1
    ms, two-thread probe 2 ms)."""
    probes = ({PROBE_METADATA: 0.001, "interpmatrix_machine_probe_pair": 0.002} if old else {})
    return pyperf.Benchmark([
        pyperf.Run(values, metadata={"name": cell.name, "unit": "second", "loops": 1, "interpmatrix_round": 1,
                                     **(probes or {PARALLELISM_ONE_METADATA: one, PARALLELISM_TWO_METADATA: two})},
                   collect_metadata=False)
        for one, two, values in processes
    ])


def test_the_machines_parallelism_is_the_median_of_the_cpython_processes_two_thread_speed_ups() -> None:
    # Nine CPython processes: the probe's work took 10 ms on one thread and 20 ms / s on each of two at once, for s =
    # 1.1, 1.2, ..., 1.9: twice the work at s times one thread's speed. Median 1.5. The sign test's interval of 9
    # values runs from the order statistic floor((9 - 1.96 x 3) / 2) = 1 to ceil(1 + (9 + 1.96 x 3) / 2) = 9:
    # [1.1-1.9]. A PyPy column's processes, at 1.0 each, do not count; nor does a run without the probe, or one that
    # recorded only crc32 on two threads, have a figure.
    speeds = [1.1 + i / 10 for i in range(9)]
    cpython = Column(interpreter("a"), {
        THREADS2.name: parallelism_probed(THREADS2, *[(0.010, 0.020 / s, [2.0, 2.0]) for s in speeds]),
    }, {})
    pypy = Column(interpreter("p", implementation="pypy"), {
        THREADS2.name: parallelism_probed(THREADS2, *[(0.010, 0.020, [2.0, 2.0])] * 9),
    }, {})
    found = Estimator(make_run([cpython, pypy], baseline="a")).machine_parallelism
    assert (found.value, found.low, found.high) == (pytest.approx(1.5), pytest.approx(1.1), pytest.approx(1.9))
    unprobed = Column(interpreter("a"), {THREADS2.name: bench(THREADS2, [2.0, 2.0], [2.0, 2.0])}, {})
    assert Estimator(make_run([unprobed], baseline="a")).machine_parallelism is None
    old = Column(interpreter("a"), {THREADS2.name: parallelism_probed(THREADS2, *[(0, 0, [2.0, 2.0])] * 9, old=True)},
                 {})
    assert Estimator(make_run([old], baseline="a")).machine_parallelism is None


def test_processes_without_a_probe_count_as_measured() -> None:
    # An older run's files, or a runtime whose worker does not time itself: no probe, no fit, no change.
    column = Column(interpreter("old"), {SERIAL.name: bench(SERIAL, *[[1.0, 1.0], [2.0, 2.0]] * 12)}, {})
    estimator = Estimator(make_run([column], baseline="old"))
    assert estimator.probe_reference(column, SERIAL) is None and estimator.probe_fit(ONE_WORKER) is None
    assert estimator.sample(column, SERIAL).logs[:2] == (pytest.approx(0.0), pytest.approx(LN2))


def test_one_process_without_siblings_has_no_interval_and_decides_nothing() -> None:
    found = ratio_interval(spread(Sample((LN2,)), None), spread(Sample((0.0,)), None))
    assert found.value == pytest.approx(2.0) and not found.known
    assert found.against(at_least=1.5) == UNDECIDED


@pytest.mark.parametrize(
    ("threshold", "decision"), [(1.5, HOLDS), (2.0, UNDECIDED), (2.6, FAILS)],
)
def test_an_interval_that_straddles_the_threshold_is_undecided(threshold: float, decision: str) -> None:
    found = ratio_interval(spread(SLOW, None), spread(FAST_SAMPLE, None))  # 1.5944 .. 2.5088
    assert found.against(at_least=threshold) == decision


# Between two runs ----------------------------------------------------------------------------------------------------

# Half of a normal's values lie within ±0.674 standard deviations of its mean (a printed table's 0.75 quantile,
# 0.6744898): the median of a squared normal deviate is 0.6744898² = 0.4549364.
MEDIAN_SQUARED = 0.6744898**2


def _changes(logs: list[float], within: float) -> list[tuple[Spread, Spread]]:
    """Cells whose log ratio slow ÷ fast is each of ``logs``, each with the within-run variance ``within`` (half from
    each run, each on 4 degrees of freedom)."""
    return [(Spread(d, within / 2, 4, 3), Spread(0.0, within / 2, 4, 3)) for d in logs]


def test_cells_that_agree_within_their_own_variance_carry_no_between_run_variance() -> None:
    # Log ratios -0.1 .. 0.1 with se² 0.01 each: median 0, no shift; squared deviates 1, 0.25, 0, 0.25, 1, whose
    # median 0.25 is already below 0.455: no scatter beyond the processes', so τ² = 0 and the interval stays Welch's.
    found = between_runs(_changes([-0.1, -0.05, 0.0, 0.05, 0.1], 0.01))
    assert (found.shift, found.scatter_variance, found.variance, found.cells) == (0.0, 0.0, 0.0, 5)
    slow, fast = Spread(0.1, 0.005, 4, 3), Spread(0.0, 0.005, 4, 3)
    assert change_interval(slow, fast, found) == ratio_interval(slow, fast)


def test_the_scatter_is_the_one_at_which_half_the_cells_lie_within_0674_of_it() -> None:
    # Log ratios 0, 0.1, -0.2, 0.3 and a real change of 1.5, se² 0.01 each: the shift is the median, 0.1; squared
    # distances from it 0.01, 0, 0.09, 0.04, 1.96, median 0.04. Half of them lie within 0.674 √(0.01 + σ²) when
    # 0.04 / (0.01 + σ²) = 0.4549364: σ² = 0.04 / 0.4549364 - 0.01 = 0.0779244. τ² = 0.1² + σ² = 0.0879244.
    found = between_runs(_changes([0.0, 0.1, -0.2, 0.3, 1.5], 0.01))
    assert found.shift == pytest.approx(0.1)
    assert found.scatter_variance == pytest.approx(0.04 / MEDIAN_SQUARED - 0.01, rel=1e-6)
    assert found.scatter_variance == pytest.approx(0.0779244, abs=1e-6)
    assert found.variance == pytest.approx(0.0879244, abs=1e-6)
    # A real change ten times as large moves neither: a median, not a mean.
    assert between_runs(_changes([0.0, 0.1, -0.2, 0.3, 15.0], 0.01)) == found
    # Around no change instead, the squared distances 0, 0.01, 0.04, 0.09, 2.25 have the same median: the same σ².
    # Around 0.3 they are 0.09, 0.04, 0.25, 0, 1.44, median 0.09: σ² = 0.09 / 0.4549364 - 0.01 = 0.1878299.
    changes = [(d, 0.01) for d in (0.0, 0.1, -0.2, 0.3, 1.5)]
    assert between_run_scatter(changes, 0.0) == pytest.approx(found.scatter_variance)
    assert between_run_scatter(changes, 0.3) == pytest.approx(0.1878299, abs=1e-6)


def test_a_shift_of_every_cell_counts_in_full() -> None:
    # Every cell 0.3 ± 0.01 (se² 0.01): squared distances from the median 0.3 are 0.0001, 0, 0.0001, below
    # 0.455 × 0.01 once divided by se²: no scatter, but the whole-run shift 0.3 is between-run variance 0.09.
    found = between_runs(_changes([0.29, 0.30, 0.31], 0.01))
    assert found.scatter_variance == 0.0
    assert found.variance == pytest.approx(0.09)


def test_cells_without_a_within_run_variance_do_not_count() -> None:
    measured_once = (Spread(5.0, 0.0, 0, 1), Spread(0.0, 0.0, 0, 1))
    found = between_runs([*_changes([0.0, 0.1, -0.1], 0.01), measured_once])
    assert found.cells == 3 and found.shift == 0.0
    assert between_runs([measured_once]) is None


def test_the_between_run_variance_widens_an_interval_without_adding_degrees_of_freedom() -> None:
    # SLOW ÷ FAST_SAMPLE: 2, each mean's variance 0.01 / 3 on 2 df, Welch's 4 df (see above). Adding τ² = 0.01:
    # variance 0.02 / 3 + 0.01 = 0.0166667, sd 0.1290994. From 3 cells, τ² leaves min(4, 3 - 1) = 2 df: t(2) = 4.303,
    # half width 0.5555149: 2 x exp(-+0.5555149) = 1.14755 .. 3.48568. From 100 cells: min(4, 99) = 4, t(4) = 2.776,
    # half width 0.3583801: 1.39761 .. 2.86202. Never more than the cell's own 4 df, however many cells.
    few = BetweenRuns(0.0, Interval(1.0, None, None), 0.01, 3)
    found = change_interval(spread(SLOW, None), spread(FAST_SAMPLE, None), few)
    assert found.value == pytest.approx(2.0)
    assert (found.low, found.high) == (pytest.approx(1.14755, abs=1e-5), pytest.approx(3.48568, abs=1e-5))
    many = replace(few, cells=100)
    found = change_interval(spread(SLOW, None), spread(FAST_SAMPLE, None), many)
    assert (found.low, found.high) == (pytest.approx(1.39761, abs=1e-5), pytest.approx(2.86202, abs=1e-5))


def test_cells_measured_in_one_step_count_as_one_draw_of_its_between_run_variance() -> None:
    # The Overall's shift between two default runs of the same code (2026-12-04): every cell of a workload on one
    # interpreter is measured in the same step, and a step that ran at another hour moves them all. τ = 0.1 below.
    # k cells on each side, all of slow's in step "a", all of fast's in "b", one process each: a's weight in the mean
    # is k x 1 / k = 1, b's -1; variance 0.01 x (1 + 1) = 0.02, for k = 1 and k = 50 alike.
    for k in (1, 50):
        assert step_variance([(["a"], ["b"])] * k, sd=0.1) == pytest.approx(0.02)
    # k cells each in a step of its own on each side: 2k weights of 1 / k; 0.01 x 2k / k² = 0.02 / k.
    assert step_variance([([f"a{i}"], [f"b{i}"]) for i in range(50)], sd=0.1) == pytest.approx(0.02 / 50)
    # One cell on each side over 4 rounds, a process each: 8 weights of 1 / 4; 0.01 x 8 / 16 = 0.005, the extra
    # rounds' four draws each.
    assert step_variance([(["a1", "a2", "a3", "a4"], ["b1", "b2", "b3", "b4"])], sd=0.1) == pytest.approx(0.005)
    # Two processes of one cell in one step weigh as one process: 1/2 + 1/2.
    assert step_variance([(["a", "a"], ["b"])], sd=0.1) == pytest.approx(0.02)
    # A step on both sides of a ratio (two cells of one interpreter measured together) moves both alike: it cancels.
    assert step_variance([(["a"], ["a"])], sd=0.1) == 0.0
    assert step_variance([], sd=0.1) == 0.0


def test_a_geometric_mean_over_one_steps_cells_keeps_that_steps_variance() -> None:
    # base and other each ran serial and fast in round 1 of the toy workload: one step per interpreter. Each cell: two
    # processes, logs m +- 0.05 (variance 0.005 on 1 df, moderated by the sibling's 0.005: 0.005; its mean 0.0025 on
    # 2 df). The mean of the two ratios other/base: log mean (ln 2 + ln 2) / 2, variance of the processes' part
    # 4 x 0.0025 / 4 = 0.0025, Satterthwaite's df (0.0025)² / (4 x (0.000625)² / 2) = 8. The ratios' recorded
    # between-run part: 2 x (0.029² / 2) / 4 = 0.00021025. The steps': 2 τ², whatever k (base's step weighs 1, other's
    # -1).
    base = Column(interpreter("base"), {
        SERIAL.name: bench(SERIAL, [2 * math.exp(0.05)], [2 * math.exp(-0.05)]),
        FAST.name: bench(FAST, [2 * math.exp(0.05)], [2 * math.exp(-0.05)]),
    }, {})
    other = Column(interpreter("other"), {
        SERIAL.name: bench(SERIAL, [math.exp(0.05)], [math.exp(-0.05)]),
        FAST.name: bench(FAST, [math.exp(0.05)], [math.exp(-0.05)]),
    }, {})
    estimator = Estimator(make_run([base, other]))
    assert estimator.steps(base, SERIAL) == [("base", WORKLOAD.name, 1)] * 2
    found = estimator.geometric_mean([((base, SERIAL), (other, SERIAL)), ((base, FAST), (other, FAST))])
    half = 2.306 * math.sqrt(0.0025 + 0.00021025 + 2 * BETWEEN_STEP_SD**2)  # t(8) = 2.306
    assert found.value == pytest.approx(2.0)
    assert found.low == pytest.approx(2 * math.exp(-half), rel=1e-3)
    assert found.high == pytest.approx(2 * math.exp(half), rel=1e-3)
    # Without the run's between-run parts (how tools/between_hours.py estimates them), the processes' alone.
    alone = Estimator(make_run([base, other]), between_runs=False).geometric_mean(
        [((base, SERIAL), (other, SERIAL)), ((base, FAST), (other, FAST))]
    )
    assert alone.high == pytest.approx(2 * math.exp(2.306 * math.sqrt(0.0025)), rel=1e-3)


def test_a_median_has_the_sign_tests_interval() -> None:
    # 100 logs 0.00 .. 0.99: median 0.495; ranks ⌊(100 - 19.6) / 2⌋ = 40 and ⌈1 + 119.6 / 2⌉ = 61: 0.39 and 0.60.
    found = median_interval([i / 100 for i in range(100)])
    assert found.value == pytest.approx(math.exp(0.495))
    assert (found.low, found.high) == (pytest.approx(math.exp(0.39)), pytest.approx(math.exp(0.60)))
    # 7 values: ⌊(7 - 5.19) / 2⌋ = 0, no order statistic that low; 8 values: ranks 1 and 8.
    assert not median_interval([0.0] * 7).known
    eight = median_interval([float(i) for i in range(8)])
    assert (eight.low, eight.high) == (pytest.approx(1.0), pytest.approx(math.exp(7.0)))


# The verdict: a tie is a tie, a clear winner wins --------------------------------------------------------------------


def _two_candidates(other_serial: list[list[float]]) -> verdicts.Answer:
    base = Column(interpreter("base"), {SERIAL.name: bench(SERIAL, [2.0, 2.0], [2.2, 2.2], [1.8, 1.8])}, {})
    other = Column(interpreter("other"), {SERIAL.name: bench(SERIAL, *other_serial)}, {})
    run = make_run([base, other])
    return verdicts.answer(Estimator(run), Question("Toy", "toy", ("serial",)))


def test_a_tie_is_a_tie() -> None:
    # other: processes 1.9, 2.1, 1.95 against base's 2.0, 2.2, 1.8: the fastest mean is other's, by about 1 %.
    found = _two_candidates([[1.9, 1.9], [2.1, 2.1], [1.95, 1.95]])
    assert found.best[0].id == "other"
    assert not found.decided
    ((tied, _), behind) = found.ties[0]
    assert tied.id == "base" and behind.low < 1 < behind.high


def test_a_tie_within_the_band_is_a_decided_tie() -> None:
    # Both scatter by 1 % over 3 processes, 1 % apart: not told apart, and the whole interval of their ratio lies
    # within 10 % of 1 either way: a tie, decided (each serves as well).
    base = Column(interpreter("base"), {SERIAL.name: bench(SERIAL, [2.0, 2.0], [2.02, 2.02], [1.98, 1.98])}, {})
    other = Column(interpreter("other"), {SERIAL.name: bench(SERIAL, [1.98, 1.98], [2.0, 2.0], [1.96, 1.96])}, {})
    found = verdicts.answer(Estimator(make_run([base, other])), Question("Toy", "toy", ("serial",)))
    ((tied, _), behind) = found.ties[0]
    assert tied.id == "base" and behind.low < 1 < behind.high and 1 / 1.1 <= behind.low and behind.high <= 1.1
    assert not found.decided and found.tied
    # The 10 %-scatter tie of test_a_tie_is_a_tie is too wide for the band: undecided.
    assert not _two_candidates([[1.9, 1.9], [2.1, 2.1], [1.95, 1.95]]).tied


def test_a_verdicts_winner_measured_once_borrows_no_variance() -> None:
    # Picked as the fastest of its candidates by its measured mean, a cell measured once that ran in a fast minute
    # wins for that luck, which a sibling's variance does not know. base and other ran serial once each, 2x apart;
    # third ran it twice (logs +-0.01), which either could borrow for a plain ratio.
    base = Column(interpreter("base"), {SERIAL.name: bench(SERIAL, [2.0, 2.0])}, {})
    other = Column(interpreter("other"), {SERIAL.name: bench(SERIAL, [1.0, 1.0])}, {})
    third = Column(interpreter("third"), {SERIAL.name: bench(SERIAL, [3 * math.exp(0.01)], [3 * math.exp(-0.01)])}, {})
    estimator = Estimator(make_run([base, other, third]))
    assert estimator.ratio((base, SERIAL), (other, SERIAL)).known
    assert not estimator.ratio((base, SERIAL), (other, SERIAL), picked=True).known
    found = verdicts.answer(estimator, Question("Toy", "toy", ("serial",)))
    assert found.best[0].id == "other" and not found.decided and not found.margin.known
    # A second process of each gives the margin its own interval: 2x apart with 1 % scatter, a winner.
    base.benchmarks[SERIAL.name] = bench(SERIAL, [2.0 * math.exp(0.01)], [2.0 * math.exp(-0.01)])
    other.benchmarks[SERIAL.name] = bench(SERIAL, [math.exp(0.01)], [math.exp(-0.01)])
    found = verdicts.answer(Estimator(make_run([base, other, third])), Question("Toy", "toy", ("serial",)))
    assert found.decided and found.best[0].id == "other" and found.margin.low > 1


def test_a_candidate_measured_once_behind_the_fastest_borrows_its_siblings_variance() -> None:
    # "other" ran serial in two processes (logs ±0.01 around ln 1); "base", measured once, ran 30x slower, and
    # "third" twice around ln 30 (±0.01), whose scatter base may borrow for its own cell. Only the fastest, picked for
    # its mean, is kept from borrowing: base ÷ other gets an interval, and it excludes 1 by far.
    base = Column(interpreter("base"), {SERIAL.name: bench(SERIAL, [30.0, 30.0])}, {})
    other = Column(interpreter("other"), {SERIAL.name: bench(SERIAL, [math.exp(0.01)], [math.exp(-0.01)])}, {})
    third = Column(interpreter("third"), {SERIAL.name: bench(SERIAL, [30 * math.exp(0.01)], [30 * math.exp(-0.01)])},
                   {})
    found = verdicts.answer(Estimator(make_run([base, other, third])), Question("Toy", "toy", ("serial",)))
    assert found.best[0].id == "other" and found.decided and not found.ties
    behind = Estimator(make_run([base, other, third])).ratio((base, SERIAL), (other, SERIAL), picked=True)
    assert behind.known and behind.low > 20


def test_a_clear_winner_wins() -> None:
    found = _two_candidates([[1.0, 1.0], [1.02, 1.02], [0.98, 0.98]])
    assert found.best[0].id == "other" and found.decided
    assert found.margin.low > 1


# Decisions and what would decide them --------------------------------------------------------------------------------


def test_rounds_to_decide_scale_with_the_square_of_the_interval_over_the_distance() -> None:
    # Log half width ln(1.25) = 0.2231 against a distance ln(1.5 / 1.4) = 0.0690 from the threshold: 3 processes
    # would need 3 x (0.2231 / 0.0690)^2 = 31.4, so 29 more.
    interval = Interval(1.4, 1.4 / 1.25, 1.4 * 1.25)
    decision = decisions.Decision("claim", "x", interval, 1.5, False, (("a", "c"),), 3)
    assert decision.rounds_to_decide() == 29 and not decision.reachable
    near = decisions.Decision("claim", "x", Interval(1.4, 1.4 / 1.05, 1.4 * 1.05), 1.5, False, (("a", "c"),), 3)
    # 3 x (ln 1.05 / 0.0690)^2 = 1.49: 1 more.
    assert near.rounds_to_decide() == 1 and near.reachable
    assert decisions.Decision("claim", "x", interval, 1.5, True, (), 3).rounds_to_decide() == 0


def test_rounds_to_decide_count_on_students_t_falling_as_rounds_add_degrees_of_freedom() -> None:
    # The same 1.4 [1.12-1.75] (log half width ln 1.25 = 0.2231), but widened by t(4) = 2.776 rather than 1.96, as an
    # interval on 3 processes of cells on several workers is: the processes' variance is (0.2231 / 2.776)^2 =
    # 0.006461. With k more processes it is 0.006461 x 3 / (3 + k), widened by t(4 + k) at least: k = 14 gives
    # 2.101^2 x 0.006461 x 3 / 17 = 0.005033, above 0.0690^2 = 0.004760; k = 15 gives 2.093^2 x 0.006461 x 3 / 18 =
    # 0.004718, below it. So 15 more (within reach), where today's t for every round said 29.
    interval = Interval(1.4, 1.4 / 1.25, 1.4 * 1.25, df=4)
    decision = decisions.Decision("claim", "x", interval, 1.5, False, (("a", "c"),), 3)
    assert decision.rounds_to_decide() == 15 and decision.reachable


def test_a_figure_on_its_threshold_is_decided_by_the_band_in_finite_rounds() -> None:
    # On 1.5 exactly, half width ln 2 on 3 processes: it must narrow to the band, ln 1.1 = 0.09531:
    # 3 x (0.69315 / 0.09531)^2 = 158.7, so 156 more; never "sits on its threshold" for ever.
    on = decisions.Decision("claim", "x", Interval(1.5, 0.75, 3.0), 1.5, False, (("a", "c"),), 3)
    assert on.rounds_to_decide() == 156 and not on.reachable


def test_a_cell_with_fewer_than_three_processes_is_always_worth_a_round() -> None:
    # The same interval on 2 processes: 2 x 52.89 = 105.8, 104 more by the estimate, but an interval on 2 processes
    # rests on a borrowed variance or on Student's t at 1 degree of freedom (12.7): a third process may narrow it
    # far more than the estimate says, so it stays open to the budget.
    two = decisions.Decision("claim", "x", Interval(1.5, 0.75, 3.0), 1.5, False, (("a", "c"),), 2)
    assert two.rounds_to_decide() == 104 and two.reachable



def test_the_between_run_floor_is_left_out_of_what_more_rounds_narrow() -> None:
    # 1.4 with a log half width ln 1.25 = 0.2231 of which 0.05 is the between-run floor, against the distance
    # ln(1.5 / 1.4) = 0.0690: only 0.2231^2 - 0.05^2 = 0.04728 narrows, and the target leaves 0.0690^2 - 0.05^2 =
    # 0.002260 for it: 3 x 0.04728 / 0.002260 = 62.8 processes, so 60 more (29 without the floor).
    floored = Interval(1.4, 1.4 / 1.25, 1.4 * 1.25, floor=0.05)
    assert decisions.Decision("claim", "x", floored, 1.5, False, (("a", "c"),), 3).rounds_to_decide() == 60


def test_a_claim_left_open_by_the_machines_cores_gets_no_rounds() -> None:
    # Narrow and far below its 1.5x (1.2x [1.1-1.3] on 6 processes): any other open claim like it would be "fails".
    # Left open because the machine's own two threads did not surely run 1.5x faster, no round of this run decides it.
    found = decisions.Decision("claim", "toy", Interval(1.2, 1.1, 1.3), 1.5, False, (("a", "x"), ("a", "y")), 6,
                               machine_bound=True)
    assert found.rounds_to_decide() is None
    assert not found.reachable and not found.beyond_rounds
    assert decisions.cells_to_measure([found]) == {}


def test_a_claim_left_open_beyond_what_its_workers_can_give_gets_no_rounds() -> None:
    # 3.09x [2.17-4.40] on two workers against one: clear of 1.5x, but more than two workers give; more rounds of the
    # same cells would not say what the workers give.
    found = decisions.Decision("claim", "toy", Interval(3.09, 2.17, 4.40), 1.5, False, (("a", "x"), ("a", "y")), 30,
                               beyond_workers=True)
    assert found.rounds_to_decide() is None
    assert not found.reachable and not found.beyond_rounds and not found.unsettled
    assert decisions.cells_to_measure([found]) == {}


def test_a_figure_nearer_its_threshold_than_the_between_run_floor_is_beyond_any_round() -> None:
    # 1.52 against 1.5: a distance ln(1.52 / 1.5) = 0.01325, so it decides by the band (at the threshold) once the
    # interval lies within ln 1.1 - 0.01325 = 0.08206 of it. A ratio of a cell on several workers and one on one keeps
    # 1.96 x 0.047 = 0.0921 of between-run half width at any count of processes: no round of this run decides it.
    # Its half width ln 1.12 = 0.1133 at the normal's 1.96 leaves (0.1133 / 1.96)^2 - 0.047^2 = 0.001133 to its
    # processes, 1.96 x sqrt(0.001133) = 0.0660 of half width, within the floor: the figure is settled.
    interval = Interval(1.52, 1.52 / 1.12, 1.52 * 1.12, floor=1.96 * 0.047)
    beyond = decisions.Decision("claim", "x", interval, 1.5, False, (("a", "c"),), 3)
    assert beyond.rounds_to_decide() is None and beyond.rounds_to_settle() == 0
    assert beyond.beyond_rounds and not beyond.reachable and not beyond.unsettled
    # On 2 processes its t still falls with a third, which may narrow the floor too: it stays open to the budget.
    two = decisions.Decision("claim", "x", interval, 1.5, False, (("a", "c"),), 2)
    assert two.rounds_to_decide() is None and not two.beyond_rounds and two.reachable
    # The same figure with a half width ln 1.2 = 0.1823 is not settled: its processes give (0.1823 / 1.96)^2 - 0.047^2
    # = 0.006441, 1.96 x sqrt(0.006441) = 0.157 of half width, beyond the floor's 0.0921, and may still move the
    # figure by more than its distance to the threshold. It settles once 1.96^2 x 0.006441 x 3 / (3 + k) <= 0.0921^2,
    # k >= 3 x (0.02475 / 0.008485 - 1) = 5.75: 6 more, within reach, so the budget gives them.
    wide = decisions.Decision("claim", "x", Interval(1.52, 1.52 / 1.2, 1.52 * 1.2, floor=1.96 * 0.047), 1.5, False,
                              (("a", "c"),), 3)
    assert wide.rounds_to_decide() is None and wide.rounds_to_settle() == 6
    assert wide.unsettled and not wide.beyond_rounds and wide.reachable
    assert decisions.cells_to_measure([wide]) == {("a", "c"): Need(6, 6)}
    # Half width ln 3 = 1.0986: 3 x (1.96^2 x ((1.0986 / 1.96)^2 - 0.047^2) / 0.0921^2 - 1) = 3 x (1.1984 / 0.008486 - 1)
    # = 421 more to settle, out of reach: beyond any round, as before.
    noisy = decisions.Decision("claim", "x", Interval(1.52, 1.52 / 3, 1.52 * 3, floor=1.96 * 0.047), 1.5, False,
                               (("a", "c"),), 3)
    assert noisy.rounds_to_settle() == 421 and noisy.beyond_rounds and not noisy.unsettled
    # The same figure 1.9 away from 1.5 (distance 0.236) is within reach: 3 x (ln 1.2^2 - 0.0921^2) / (0.236^2 -
    # 0.0921^2) = 3 x 0.02476 / 0.04721 = 1.57 processes: 1 more.
    far = decisions.Decision("claim", "x", Interval(1.9, 1.9 / 1.2, 1.9 * 1.2, floor=1.96 * 0.047), 1.5, False,
                             (("a", "c"),), 3)
    assert far.rounds_to_decide() == 1 and not far.beyond_rounds

@pytest.mark.parametrize(
    ("interval", "at_least", "at_most", "decision"),
    [
        (Interval(1.5, 1.5 / 1.05, 1.5 * 1.05), 1.5, None, AT_THRESHOLD),  # straddles, within 10 % either way
        (Interval(1.5, 1.5 / 1.2, 1.5 * 1.2), 1.5, None, UNDECIDED),  # straddles, beyond the band
        (Interval(1.45, 1.38, 1.52), 1.5, None, AT_THRESHOLD),  # 1.5 / 1.1 = 1.364 <= 1.38; 1.52 <= 1.65
        (Interval(1.45, 1.35, 1.52), 1.5, None, UNDECIDED),  # 1.35 < 1.364
        (Interval(1.6, 1.55, 1.65), 1.5, None, HOLDS),  # within the band too, but wholly above: holds comes first
        (Interval(1.2, 1.2 / 1.05, 1.2 * 1.05), None, 1.2, AT_THRESHOLD),
        (Interval(1.0, 0.95, 1.05), None, 1.2, HOLDS),
    ],
)
def test_the_band_decides_only_what_straddles_the_threshold(interval, at_least, at_most, decision) -> None:
    assert interval.against(at_least=at_least, at_most=at_most) == decision


def _toy_run(other_serial: list[list[float]]):
    """A user's workload (it gets its own verdict question) on two interpreters."""
    base = Column(interpreter("base"), {SERIAL.name: bench(SERIAL, [2.0, 2.0], [2.2, 2.2], [1.8, 1.8])}, {})
    other = Column(interpreter("other"), {SERIAL.name: bench(SERIAL, *other_serial)}, {})
    return replace(make_run([base, other]), workloads=[replace(WORKLOAD, source="toy.py")])


def test_open_cells_are_those_of_undecided_decisions_within_reach() -> None:
    # other about 8 % faster than base, processes scattering by about 10 %: undecided, within reach.
    run = _toy_run([[1.8, 1.8], [2.0, 2.0], [1.7, 1.7]])
    (winner,) = [d for d in decisions.decisions(run) if d.kind == "winner"]
    assert not winner.decided and set(winner.cells) == {("base", SERIAL.name), ("other", SERIAL.name)}
    assert 1 <= winner.rounds_to_decide() <= decisions.REACHABLE_ROUNDS
    # Each with the rounds its decision needs, and the cell rounds: those rounds on each of its two cells.
    rounds = winner.rounds_to_decide()
    assert decisions.open_cells(run) == dict.fromkeys([("base", SERIAL.name), ("other", SERIAL.name)],
                                                      Need(rounds, 2 * rounds))


def test_the_cells_of_the_decisions_that_close_for_fewest_cell_rounds_come_first() -> None:
    # Without an interval yet, a decision needs 1 more round of each of its cells: a claim on two cells costs 2 cell
    # rounds, a verdict over five candidates 5. A cell both rest on takes the cheaper; a decided decision and one out
    # of reach (156 more processes by the estimate above, with 3 already) give none.
    claim = decisions.Decision("claim", "c", None, 1.5, False, (("cp", "x"), ("pypy", "x")), 1)
    verdict = decisions.Decision("winner", "v", None, 1.0, False, tuple(("cp", f"v{i}") for i in range(4))
                                 + (("pypy", "x"),), 1)
    done = decisions.Decision("claim", "d", Interval(2.0, 1.8, 2.2), 1.5, True, (("cp", "done"),), 2, HOLDS)
    far = decisions.Decision("claim", "f", Interval(1.5, 0.75, 3.0), 1.5, False, (("cp", "far"),), 3)
    assert not far.reachable
    assert decisions.cells_to_measure([claim, verdict, done, far]) == {
        ("cp", "x"): Need(1, 2), ("pypy", "x"): Need(1, 2),
        **dict.fromkeys([("cp", f"v{i}") for i in range(4)], Need(1, 5)),
    }
    # On 2 processes, an estimate of 104 more rounds (1.5x [0.75-3.0] against 1.5x, above) still rests on one degree
    # of freedom: it is said to need the 1 round that brings its cell to OWN_PROCESSES, priced at its estimate.
    two = decisions.Decision("claim", "t", Interval(1.5, 0.75, 3.0), 1.5, False, (("cp", "two"),), 2)
    assert decisions.cells_to_measure([two]) == {("cp", "two"): Need(1, 104)}


def test_a_near_tie_is_within_reach_of_the_band_and_a_clear_winner_is_closed() -> None:
    # 1 % apart with 10 % scatter: no number of rounds would tell them apart, but a few more can show that each runs
    # within 10 % of the other (a tie), so the budget still goes to them.
    tie = _toy_run([[1.9, 1.9], [2.1, 2.1], [1.95, 1.95]])
    (winner,) = [d for d in decisions.decisions(tie) if d.kind == "winner"]
    assert not winner.decided and 1 <= winner.rounds_to_decide() <= decisions.REACHABLE_ROUNDS
    assert set(decisions.open_cells(tie)) == {("base", SERIAL.name), ("other", SERIAL.name)}
    clear = _toy_run([[1.0, 1.0], [1.02, 1.02], [0.98, 0.98]])
    assert all(d.decided for d in decisions.decisions(clear))
    assert decisions.open_cells(clear) == {}



def test_the_baselines_reference_cell_comes_along_while_it_is_loosely_known() -> None:
    # other's fast cell is asked for (a hand-made need: 3 rounds, 6 cell rounds). base, the baseline, ran the
    # workload's reference (serial) in two processes, 2.0 and 3.0 s a call, and no sibling lends it a variance: its
    # log mean is known to 1.96 x sqrt((ln 1.5)^2 / 2 / 2) = 0.40, wider than ln 1.05 = 0.049, so it comes along,
    # one round at the price of the workload's cheapest cell asked for.
    asked = {("other", FAST.name): Need(3, 6)}
    loose = Column(interpreter("base"), {SERIAL.name: bench(SERIAL, [2.0, 2.0], [3.0, 3.0])}, {})
    other = Column(interpreter("other"), {FAST.name: bench(FAST, [1.0, 1.0], [1.1, 1.1])}, {})
    estimator = Estimator(make_run([loose, other]))
    assert decisions.with_baseline_references(estimator, asked) == {**asked, ("base", SERIAL.name): Need(1, 6)}
    # Six processes within 0.2 % of each other: known to 0.003, left alone; so with nothing of its workload asked for.
    tight = Column(interpreter("base"), {SERIAL.name: bench(SERIAL, *([2.0 * math.exp(s)] * 2 for s in (
        0.002, 0.002, 0.0, 0.0, -0.002, -0.002)))}, {})
    assert decisions.with_baseline_references(Estimator(make_run([tight, other])), asked) == asked
    assert decisions.with_baseline_references(estimator, {}) == {}

def test_the_peak_of_memory_a_verdict_states_comes_along_while_it_has_no_interval() -> None:
    # A user's toy workload (its one question: which interpreter runs serial fastest). base, the baseline, runs serial
    # at 2.0 s, other at 1.0 s: other is the answer, and its cost "peak memory 90 MB against 100 MB" rests on
    # serial_memory measured once on each, with no memory cell measured twice to borrow from: no interval. other's
    # fast cell is asked for (3 rounds, 6 cell rounds): both peaks come along, one round at that price.
    asked = {("other", FAST.name): Need(3, 6)}

    def toy_run(base_memory: list[list[float]]) -> Run:
        base = Column(interpreter("base"), {
            SERIAL.name: bench(SERIAL, [2.0], [2.1]), MEMORY.name: bench(MEMORY, *base_memory, unit="byte"),
        }, {})
        other = Column(interpreter("other"), {
            SERIAL.name: bench(SERIAL, [1.0], [1.05]), FAST.name: bench(FAST, [1.5], [1.6]),
            MEMORY.name: bench(MEMORY, [90.0], unit="byte"),
        }, {})
        return replace(make_run([base, other]), workloads=[replace(WORKLOAD, source="toy.py")])

    estimator = Estimator(toy_run([[100.0]]))
    assert decisions.with_cost_cells(estimator, asked) == {
        **asked, ("other", MEMORY.name): Need(1, 6), ("base", MEMORY.name): Need(1, 6),
    }
    # Nothing of the workload asked for: nothing comes along.
    assert decisions.with_cost_cells(estimator, {}) == {}
    # base's peak measured twice has its interval, and lends its variance to other's (the same cell on its family):
    # neither comes along.
    assert decisions.with_cost_cells(Estimator(toy_run([[100.0], [110.0]])), asked) == asked


def test_a_warm_up_ratio_measured_once_is_a_figure_without_an_interval() -> None:
    # The toy workload's warm-up table shows its reference, serial. base and other (one family) ran it in two
    # processes, each with a first warm-up of 3.0 s against 2.0 s steady (base) and 1.5 against 1.0 (other): their
    # ratios have intervals, and so have their times. third ran it once, 6.0 s then 3.0 steady: its time borrows its
    # siblings' variance, its warm-up ratio (2.0x) borrows none, so the warm-up table would show "[no interval]".
    def toy_run(third_processes: int) -> Run:
        base = Column(interpreter("base"), {SERIAL.name: bench(SERIAL, [2.0], [2.1], warmups=[3.0])}, {})
        other = Column(interpreter("other"), {
            SERIAL.name: bench(SERIAL, [1.0], [1.05], warmups=[1.5]), FAST.name: bench(FAST, [0.5], [0.55]),
        }, {})
        third = Column(interpreter("third"), {
            SERIAL.name: bench(SERIAL, *[[3.0]] * third_processes, warmups=[6.0]),
        }, {})
        return replace(make_run([base, other, third]), workloads=[replace(WORKLOAD, source="toy.py")])

    once = toy_run(1)
    assert verdicts.warmup_cells(once) == [(once.workloads[0], SERIAL)]
    assert decisions.warmups_without_interval(once) == {("third", SERIAL.name)}
    assert decisions.cells_without_interval(once) == {("third", SERIAL.name)}
    # Two processes of its own: an interval, nothing left.
    assert decisions.cells_without_interval(toy_run(2)) == set()


def _group_run(edge_spread: float):
    """base, near and edge run serial in processes ±spread around 1.0, 1.01 and 1.1 (logs), edge a CPython with its
    JIT on, a family of its own (so that none pools another's scatter): base and near 0.2 % over six processes, edge
    over three."""
    def column(name: str, centre: float, spreads: tuple[float, ...], **kind: str) -> Column:
        return Column(interpreter(name, **kind), {SERIAL.name: bench(SERIAL, *([centre * math.exp(s)] * 2
                                                                                 for s in spreads))}, {})
    tight = (0.002, 0.002, 0.0, 0.0, -0.002, -0.002)
    columns = [column("base", 1.0, tight), column("near", 1.01, tight),
               column("edge", 1.1, (edge_spread, 0.0, -edge_spread), jit="enabled")]
    return replace(make_run(columns), workloads=[replace(WORKLOAD, source="toy.py")])


def test_an_undecided_group_waits_on_the_candidate_that_needs_the_most_rounds() -> None:
    # near, the runner-up, surely runs within 10 % of base; edge, 1.1x behind with 30 % scatter, is neither told apart
    # nor surely within: the group is undecided. Its decision is edge's, which would need far more rounds than
    # REACHABLE_ROUNDS, never near's (within the band, one round by its own interval): no budget goes to it.
    run = _group_run(0.3)
    answer = verdicts.answer(Estimator(run), Question("Toy", "toy", ("serial",)))
    behind = {column.id: interval for (column, _), interval in answer.ties}
    assert behind["near"].within(1.0) and not behind["edge"].within(1.0) and not behind["edge"].excludes(1.0)
    (winner,) = [d for d in decisions.decisions(run) if d.kind == "winner"]
    assert not winner.decided and winner.interval.value == pytest.approx(1.1)
    assert winner.rounds_to_decide() > decisions.REACHABLE_ROUNDS and not winner.reachable
    assert [member.cells for member in winner.members] == [(("base", SERIAL.name), ("edge", SERIAL.name))]
    assert decisions.open_cells(run) == {}
    # With 5 % scatter edge is within reach: its rounds go to edge's cell alone. Not to near's, which is settled, nor
    # to base's: its mean over six processes 0.2 % apart (a variance of the log's mean of about 5e-7, its sibling
    # near's alike) holds under a thousandth of the ratio's variance beside edge's three 5 % apart (0.0025 / 3).
    run = _group_run(0.05)
    (winner,) = [d for d in decisions.decisions(run) if d.kind == "winner"]
    assert winner.interval.value == pytest.approx(1.1) and winner.reachable
    assert set(decisions.open_cells(run)) == {("edge", SERIAL.name)}


def _spread(variance: float, n: int) -> Spread:
    return Spread(mean=0.0, variance=variance, df=n - 1, n=n)


def test_a_ratios_rounds_go_to_the_cell_that_narrows_it() -> None:
    # A claim on a dear, steady cell (slow: a variance of its log's mean of 0.0004) and a noisy one (fast: 0.0096), on
    # three processes each: slow holds 4 % of the ratio's variance, under NEGLIGIBLE_SHARE, so only fast narrows it.
    keys = (("cp", "slow"), ("cp", "fast"))
    assert decisions.narrowing_cells(keys, (3, 3), (_spread(0.0004, 3), _spread(0.0096, 3))) == (("cp", "fast"),)
    # At 20 % (0.0024 against 0.0096), both; on two processes a cell's variance still rests on its siblings' (or on
    # one degree of freedom), so both; so, too, without a spread (no interval yet).
    assert decisions.narrowing_cells(keys, (3, 3), (_spread(0.0024, 3), _spread(0.0096, 3))) == keys
    assert decisions.narrowing_cells(keys, (2, 3), (_spread(0.0004, 2), _spread(0.0096, 3))) == keys
    assert decisions.narrowing_cells(keys, (3, 3), (None, _spread(0.0096, 3))) == keys
    # The budget then asks for fast alone, at one cell round a round (no interval on this hand-made decision: 1 round),
    # where the same claim on both cells costs two.
    claim = decisions.Decision("claim", "c", None, 1.5, False, keys, 3, narrowing=(("cp", "fast"),))
    assert decisions.cells_to_measure([claim]) == {("cp", "fast"): Need(1, 1)}
    assert decisions.cells_to_measure([replace(claim, narrowing=())]) == {
        ("cp", "slow"): Need(1, 2), ("cp", "fast"): Need(1, 2)}


def test_a_group_one_candidate_keeps_open_for_good_still_gives_rounds_to_the_others() -> None:
    # The fastest (pypy s) against two candidates it cannot be told apart from. pypy2 sits 1.05x behind on 3
    # processes with a between-run floor of 1.96 x 0.069 = 0.135: to decide it would need a half width of
    # max(ln 1.05, ln 1.1 - ln 1.05) = 0.0488, below the floor, so no round decides it and the group stays open. cp's
    # processes x4 has 2 processes and no interval yet: one round gives it one, which may take it out of the list.
    beyond = decisions.Decision("winner", "v", Interval(1.05, 1.05 / 1.2, 1.05 * 1.2, floor=1.96 * 0.069), 1.0, False,
                                (("pypy", "s"), ("pypy2", "s")), 3)
    assert beyond.beyond_rounds and not beyond.reachable
    wide = decisions.Decision("winner", "v", None, 1.0, False, (("pypy", "s"), ("cp", "p4")), 2)
    assert wide.reachable
    group = replace(beyond, cells=(("pypy", "s"), ("pypy2", "s"), ("cp", "p4")))
    assert decisions.cells_to_measure([group]) == {}
    # Served member by member: cp's and the fastest's cells, 1 round each times the group's 3 cells.
    assert decisions.cells_to_measure([replace(group, members=(beyond, wide))]) == {
        ("pypy", "s"): Need(1, 3), ("cp", "p4"): Need(1, 3)
    }


def test_each_decision_says_what_it_decided() -> None:
    # What tools/decision_flips.py holds two runs' reports against: other about 2x faster than base (a winner, and
    # faster than the baseline); 8 % apart in 10 % scatter (undecided both ways); a tie within the band.
    clear = {d.kind: d.answer for d in decisions.decisions(_toy_run([[1.0, 1.0], [1.02, 1.02], [0.98, 0.98]]))}
    assert clear == {"winner": "winner other serial", "baseline": "faster"}
    near = {d.kind: d.answer for d in decisions.decisions(_toy_run([[1.8, 1.8], [2.0, 2.0], [1.7, 1.7]]))}
    assert near == {"winner": "undecided", "baseline": "undecided"}
    # One process on each side, and no other cell to borrow a variance from: no interval at all, undecided.
    base = Column(interpreter("base"), {SERIAL.name: bench(SERIAL, [2.0, 2.0])}, {})
    other = Column(interpreter("other"), {SERIAL.name: bench(SERIAL, [1.0, 1.0])}, {})
    once = replace(make_run([base, other]), workloads=[replace(WORKLOAD, source="toy.py")])
    assert {d.kind: (d.answer, d.interval.known) for d in decisions.decisions(once)} == {
        "winner": ("undecided", False), "baseline": ("undecided", False)
    }
    base = Column(interpreter("base"), {SERIAL.name: bench(SERIAL, [2.0, 2.0], [2.02, 2.02], [1.98, 1.98])}, {})
    other = Column(interpreter("other"), {SERIAL.name: bench(SERIAL, [1.98, 1.98], [2.0, 2.0], [1.96, 1.96])}, {})
    tie = replace(make_run([base, other]), workloads=[replace(WORKLOAD, source="toy.py")])
    (winner,) = [d for d in decisions.decisions(tie) if d.kind == "winner"]
    assert winner.answer == "tie base serial = other serial"


def test_the_prior_is_the_same_cell_on_same_family_interpreters_never_the_cell_itself() -> None:
    # base and other (both CPython, no JIT) ran serial in 2 processes: logs ln 2 +- 0.1 (variance 0.02) and
    # ln 1 +- 0.2 (variance 0.08). Each one's prior is the other's variance on 1 df, never its own.
    base = Column(interpreter("base"), {SERIAL.name: bench(SERIAL, [2 * math.exp(0.1)], [2 * math.exp(-0.1)]),
                                        FAST.name: bench(FAST, [1.0], [1.0])}, {})
    other = Column(interpreter("other"), {SERIAL.name: bench(SERIAL, [math.exp(0.2)], [math.exp(-0.2)])}, {})
    jit = Column(interpreter("pypy", implementation="pypy", jit="PyPy JIT"),
                 {SERIAL.name: bench(SERIAL, [0.1 * math.exp(0.3)], [0.1 * math.exp(-0.3)]),
                  FAST.name: bench(FAST, [0.1 * math.exp(0.05)], [0.1 * math.exp(-0.05)])}, {})
    estimator = Estimator(make_run([base, other, jit]))
    assert estimator.prior(base, SERIAL) == Prior(pytest.approx(0.08), 1)
    assert estimator.prior(other, SERIAL) == Prior(pytest.approx(0.02), 1)
    # The JIT has no sibling of its family: it pools its own other cells of the workload (fast: variance 0.005).
    assert estimator.prior(jit, SERIAL) == Prior(pytest.approx(0.005), 1)
    # base's fast has no same-family sibling with two processes and its own other cell (serial) has 1 df.
    assert estimator.prior(base, FAST) == Prior(pytest.approx(0.02), 1)


def test_a_cell_without_a_sibling_borrows_from_its_own_variant_before_its_workload() -> None:
    # PyPy 3.11's numexpr, on no other PyPy, borrowed its workload's pooled variance, PyPy's numpy among it, whose
    # processes ran 12.6 to 261 ms: 1.67x [0.84-3.33] on processes 2 % apart. Here the one PyPy ran threads x2 in two
    # processes 0.1 apart in log (variance 0.005 on 1 df) and fast in two 2 apart (variance 2): threads x1 borrows
    # threads x2's alone; serial, whose variant has no other cell, the workload's, (0.005 + 2) / 2 on 2 df.
    pypy = Column(interpreter("pypy", implementation="pypy", jit="PyPy JIT"), {
        THREADS1.name: bench(THREADS1, [1.0]),
        THREADS2.name: bench(THREADS2, [0.5 * math.exp(0.05)], [0.5 * math.exp(-0.05)]),
        FAST.name: bench(FAST, [0.1 * math.exp(1.0)], [0.1 * math.exp(-1.0)]),
        SERIAL.name: bench(SERIAL, [1.0]),
    }, {})
    base = Column(interpreter("base"), {SERIAL.name: bench(SERIAL, [2.0])}, {})
    estimator = Estimator(make_run([base, pypy]))
    assert estimator.prior(pypy, THREADS1) == Prior(pytest.approx(0.005), 1)
    assert estimator.prior(pypy, SERIAL) == Prior(pytest.approx((0.005 + 2.0) / 2), 2)


def test_a_cell_measured_once_everywhere_borrows_from_its_workload_then_a_time_cell_from_every_time_cell() -> None:
    # The default first pass measures every cell once and gives a second process only to the cells decisions rest
    # on. Here no interpreter measured toy's serial twice: base's serial pools base's own other toy time cell (fast:
    # logs +-0.05, variance 0.005 on 1 df). Its memory cell is the only memory cell of toy and was measured once
    # everywhere: it borrows nothing, neither a time cell's scatter nor the other workload's peaks (logs +-0.1), which
    # say nothing about what toy allocates.
    other_workload = replace(WORKLOAD, name="other")
    other_memory = Cell("other", "serial_memory", None, 10)
    base = Column(interpreter("base"), {
        SERIAL.name: bench(SERIAL, [2.0]),
        FAST.name: bench(FAST, [math.exp(0.05)], [math.exp(-0.05)]),
        MEMORY.name: bench(MEMORY, [100.0], unit="byte"),
        other_memory.name: bench(other_memory, [50 * math.exp(0.1)], [50 * math.exp(-0.1)], unit="byte"),
    }, {})
    other = Column(interpreter("other"), {SERIAL.name: bench(SERIAL, [1.0]), MEMORY.name: bench(MEMORY, [90.0])}, {})
    run = replace(make_run([base, other]), workloads=[WORKLOAD, other_workload])
    estimator = Estimator(run)
    assert estimator.prior(base, SERIAL) == Prior(pytest.approx(0.005), 1)
    assert estimator.prior(base, MEMORY) is None
    assert not estimator.ratio((base, MEMORY), (other, MEMORY)).known
    # The other workload's memory cell, measured twice on base, still lends its variance to the same cell on base's
    # sibling interpreter.
    assert estimator.prior(other, other_memory) == Prior(pytest.approx(0.02), 1)
    # other has nothing measured twice at all: no prior, no interval.
    assert estimator.prior(other, SERIAL) is None


def test_a_cell_on_several_workers_measured_once_borrows_its_siblings_variance_but_decides_no_claim() -> None:
    # The opposite decision of two default runs once came from such a cell: threads-2 measured in one process, whose
    # second thread got the other core in one run and not in the other. A claim on it now waits for OWN_PROCESSES of
    # its own, and a verdict's fastest measured once borrows nothing; its figures in the tables borrow, as a cell on
    # one worker's do. Here base ran each cell in one process; other ran serial and threads-2 in two (logs +-0.1:
    # variance 0.02 on 1 df).
    base = Column(interpreter("base"), {SERIAL.name: bench(SERIAL, [2.0]), THREADS2.name: bench(THREADS2, [1.0])}, {})
    other = Column(interpreter("other"), {
        SERIAL.name: bench(SERIAL, [2 * math.exp(0.1)], [2 * math.exp(-0.1)]),
        THREADS2.name: bench(THREADS2, [math.exp(0.1)], [math.exp(-0.1)]),
    }, {})
    estimator = Estimator(make_run([base, other]))
    # Each of base's cells borrows other's same cell: 0.02 on 1 df. serial / threads-2 = 2; Satterthwaite
    # (0.02 + 0.02)^2 / (0.02^2 + 0.02^2) = 2 df, t(2) = 4.3027, with a run's half of the between-run variance of a
    # ratio with one cell on several workers, 0.047^2 / 2 = 0.0011045: half width 4.3027 x sqrt(0.0411045) = 0.87233,
    # 2 x exp(-+0.87233) = [0.8360, 4.7850].
    scaling = estimator.ratio((base, SERIAL), (base, THREADS2))
    assert scaling.value == pytest.approx(2.0)
    assert (scaling.low, scaling.high) == (pytest.approx(0.8360, abs=3e-4), pytest.approx(4.7850, abs=3e-4))
    # A claim on it: the interval clears 0.5x, but one process of threads-2 decides nothing.
    claim = replace(PARALLEL, at_least=0.5)
    processes = stats.several_workers_processes(estimator, (base, SERIAL), (base, THREADS2))
    assert stats.claim_result(claim, scaling, None, processes).decision == UNDECIDED
    # Picked as a verdict's fastest, it borrows nothing: no interval against it.
    assert not estimator.ratio((other, THREADS2), (base, THREADS2), picked=True).known
    # A second process of base's own threads-2 (logs ln 1 +- 0.05) gives it a variance of its own.
    base.benchmarks[THREADS2.name] = bench(THREADS2, [math.exp(0.05)], [math.exp(-0.05)])
    assert Estimator(make_run([base, other])).ratio_spread(base, THREADS2).n == 2


def test_a_cell_on_several_workers_measured_once_borrows_only_from_cells_on_several_workers() -> None:
    # One interpreter, no sibling: threads on 4 workers measured in three processes (logs +-0.2: variance 0.04 on
    # 2 df), threads on 1 in three (logs +-0.01: 0.0001 on 2 df), threads on 2 once. The cell on 2 workers borrows the
    # one on 4 alone: on one worker, the second core's state is not in the scatter.
    workload = replace(WORKLOAD, variants=tuple(
        replace(variant, workers=(1, 2, 4)) if variant.name == "threads" else variant for variant in WORKLOAD.variants
    ))
    threads4 = Cell("toy", "threads", 4, 10)
    base = Column(interpreter("base"), {
        THREADS1.name: bench(THREADS1, [math.exp(0.01)], [1.0], [math.exp(-0.01)]),
        THREADS2.name: bench(THREADS2, [1.0]),
        threads4.name: bench(threads4, [math.exp(0.2)], [1.0], [math.exp(-0.2)]),
    }, {})
    info = RunInfo.from_dict({"interpreters": ["base"], "status": "complete"}, "toy-run")
    estimator = Estimator(Run(RunDir(Path("/nonexistent")), info, [workload], [base], "base", "chosen", None, {}))
    assert estimator.prior(base, THREADS2, several_workers=True) == Prior(pytest.approx(0.04), 2)
    assert estimator.ratio_spread(base, THREADS2) == Spread(pytest.approx(0.0), pytest.approx(0.04), 2, 1)


def test_the_cells_whose_figures_have_no_interval_are_those_measured_once_with_nothing_to_borrow() -> None:
    # base: serial measured once (it borrows other's serial, two processes: an interval), threads-2 measured once (on
    # several workers: it borrows other's threads-2, on several workers too), the memory cell measured once with no
    # memory sibling measured twice (borrows nothing). other: serial and threads-2 in two processes each, its memory
    # cell once. No decision is involved: the figures are the tables' own, each cell against the baseline's.
    base = Column(interpreter("base"), {
        SERIAL.name: bench(SERIAL, [2.0]),
        THREADS2.name: bench(THREADS2, [1.0]),
        MEMORY.name: bench(MEMORY, [100.0], unit="byte"),
    }, {})
    other = Column(interpreter("other"), {
        SERIAL.name: bench(SERIAL, [2 * math.exp(0.1)], [2 * math.exp(-0.1)]),
        THREADS2.name: bench(THREADS2, [math.exp(0.1)], [math.exp(-0.1)]),
        MEMORY.name: bench(MEMORY, [90.0], unit="byte"),
    }, {})
    run = make_run([base, other])
    assert decisions.cells_without_interval(run) == {("base", MEMORY.name), ("other", MEMORY.name)}
    # A second process of base's memory cell (100 and 110) gives it a variance of its own, and other's memory cell,
    # of the same workload, borrows it: both figures get their interval.
    base.benchmarks[MEMORY.name] = bench(MEMORY, [100.0], [110.0], unit="byte")
    assert decisions.cells_without_interval(make_run([base, other])) == set()
    # With other's threads-2 measured once too, base's has nothing on several workers to borrow.
    other.benchmarks[THREADS2.name] = bench(THREADS2, [1.0])
    assert decisions.cells_without_interval(make_run([base, other])) == {
        ("base", THREADS2.name), ("other", THREADS2.name)
    }


def test_a_cell_on_several_workers_keeps_its_own_scatter_however_many_processes_it_has() -> None:
    # The opposite decision of two default runs on a quieter host: numexpr on two threads, four processes, whose
    # second thread got the other core in some of them; its siblings on other interpreters, measured at other
    # minutes, scattered less, and their variance narrowed its interval below the claim's threshold. Here base's
    # threads-2 ran in three processes, logs 0 + (0.2, 0, -0.2): variance 0.04 on 2 df; other's in three, logs
    # ln 2 + (0.01, 0, -0.01): variance 0.0001 on 2 df.
    base = Column(interpreter("base"), {THREADS2.name: bench(THREADS2, [math.exp(0.2)], [1.0], [math.exp(-0.2)])}, {})
    other = Column(interpreter("other"), {
        THREADS2.name: bench(THREADS2, [2 * math.exp(0.01)], [2.0], [2 * math.exp(-0.01)]),
    }, {})
    found = Estimator(make_run([base, other])).ratio((other, THREADS2), (base, THREADS2))
    # Each on its own: variances of the means 0.04 / 3 = 0.013333 and 0.0001 / 3 = 0.0000333; Satterthwaite
    # (0.0133667)^2 / ((0.013333^2 + 0.0000333^2) / 2) = 2.01 df, t(2) = 4.303 (the cautious side). The ratio of two
    # cells on several workers adds the between-run variance recorded for such a ratio, a run's half of 0.152^2:
    # 0.011552, without degrees of freedom: half width 4.303 x sqrt(0.0249187) = 0.67926, 2 x exp(-+0.67926) =
    # [1.0140, 3.9448].
    # Borrowing each other's variance (0.02005 each, moderated, on 4 df) would have given a narrower interval still.
    assert found.value == pytest.approx(2.0)
    assert (found.low, found.high) == (pytest.approx(1.0140, abs=3e-4), pytest.approx(3.9448, abs=3e-4))
    assert found.floor == pytest.approx(1.96 * 0.152 / math.sqrt(2.0))


def test_a_cell_on_several_workers_takes_its_siblings_variance_where_that_widens_its_interval() -> None:
    # Cython's two threads on CPython 3.15's JIT ran all three processes of two default runs in one state of the
    # cores (7.4-8.7 ms a call) and two of the next run's in the other (4.8-5.4 ms), while the same cell on the other
    # CPythons ran at either speed: "fails" in the first two runs, "holds" in the third. Here base's serial and
    # threads-2 ran three processes each, logs ln 2 and ln 1, each + (0.01, 0, -0.01): variance 0.0001 on 2 df; other's
    # serial alike, its threads-2 at ln 1 + (0.3, 0, -0.3): variance 0.09 on 2 df.
    def three(cell: Cell, log: float, apart: float) -> pyperf.Benchmark:
        return bench(cell, *[[math.exp(log + shift)] for shift in (apart, 0.0, -apart)])

    base = Column(interpreter("base"), {
        SERIAL.name: three(SERIAL, LN2, 0.01), THREADS2.name: three(THREADS2, 0, 0.01),
    }, {})
    other = Column(interpreter("other"), {
        SERIAL.name: three(SERIAL, LN2, 0.01), THREADS2.name: three(THREADS2, 0, 0.3),
    }, {})
    found = Estimator(make_run([base, other])).ratio((base, SERIAL), (base, THREADS2))
    # Serial borrows other's serial: (2 x 0.0001 + 2 x 0.0001) / 4 = 0.0001, a mean's 0.0000333 on 4 df. Threads-2 on
    # its own processes: 0.0000333 on 2 df; Satterthwaite 5.33 df, t(5) = 2.571, with a run's half of the between-run
    # variance of a ratio with one cell on several workers, 0.047^2 / 2 = 0.0011045: half width 2.571 x
    # sqrt(0.0000667 + 0.0011045) = 0.0880. With other's variance, moderated: (2 x 0.09 + 2 x 0.0001) / 4 = 0.04505, a
    # mean's 0.0150167 on 4 df; Satterthwaite 4.02 df, t(4) = 2.776: half width 2.776 x sqrt(0.0150500 + 0.0011045)
    # = 0.35283, the wider, taken: 2 x exp(-+0.35283) = [1.4054, 2.8462].
    assert found.value == pytest.approx(2.0)
    assert (found.low, found.high) == (pytest.approx(1.4054, abs=3e-4), pytest.approx(2.8462, abs=3e-4))
    # other's threads-2, which scatters more than base's, keeps its own variance: base's would narrow it.
    mine = Estimator(make_run([base, other])).ratio((other, SERIAL), (other, THREADS2))
    # Its own: 0.09 / 3 = 0.03 on 2 df against serial's 0.0000333 on 4: Satterthwaite 2.0 df, t(2) = 4.303; half width
    # 4.303 x sqrt(0.0300333 + 0.0011045) = 0.75930 (base's moderated, 0.0150167 on 4 df, would give 0.35283).
    assert (mine.low, mine.high) == (pytest.approx(2 * math.exp(-0.75930), abs=3e-4),
                                     pytest.approx(2 * math.exp(0.75930), abs=3e-4))


@pytest.mark.parametrize(
    ("values", "warming"),
    [
        ([46.2, 48.4, 39.0], True),  # CPython 3.11's countdown: the last value 39.0 < 0.9 x min(46.2, 48.4) = 41.58
        ([31.6, 31.5, 31.4], False),  # steady
        ([30.0, 33.0, 28.0], False),  # 28.0 is not below 0.9 x 30.0 = 27.0: noise
        ([4.0, 2.0, 2.0], False),  # warmed up within its values: steady_values trims it
        ([40.0, 20.0], False),  # two values say nothing about a trend
    ],
)
def test_a_process_still_warming_at_its_end_is_recognised(values: list[float], warming: bool) -> None:
    assert still_warming_at_end(values) is warming


def warmed(*processes: tuple[list[float], int]) -> pyperf.Benchmark:
    """SERIAL's processes, each given as its timed values and how many warm-ups it ran before them."""
    return pyperf.Benchmark([
        pyperf.Run(
            values, warmups=[(1, values[0])] * warmups, collect_metadata=False,
            metadata={"name": SERIAL.name, "unit": "second", "loops": 1, "interpmatrix_round": 1},
        )
        for values, warmups in processes
    ])


def test_processes_that_never_settled_are_left_out_when_another_did_with_more_warm_ups() -> None:
    # Round 1's process never settled (46.2, 48.4, 39.0 ms after 1 warm-up); round 2's, with 4, ran 31.6, 31.5, 31.4.
    found = sample(warmed(([0.0462, 0.0484, 0.0390], 1), ([0.0316, 0.0315, 0.0314], 4)))
    assert found.n == 1 and found.unsettled == 1
    assert found.logs == (pytest.approx(math.log(0.0315)),)
    # When none settled, all stay (the report counts them as still warming): nothing better to show.
    alone = sample(warmed(([0.0462, 0.0484, 0.0390], 1)))
    assert alone.n == 1 and alone.unsettled == 0


def test_a_process_that_settled_with_as_many_warm_ups_leaves_a_fast_last_value_to_the_machine() -> None:
    # CPython 3.13t's word_count in a default run of 2026-12-03, both processes after 1 warm-up: round 2's ended fast
    # (13.85 < 0.9 x 17.51 = 15.76) and round 1's settled no slower than 13.94 ms, but with as many warm-ups as round
    # 2's: the same treatment settled, so round 2's fast last value says nothing of warm-up. Both stay.
    both = sample(warmed(([0.01394, 0.01257, 0.01184], 1), ([0.01751, 0.01912, 0.01385], 1)))
    assert both.n == 2 and both.unsettled == 0
    # Round 2's ran 1 warm-up to round 1's 3: round 1's settling says round 2's was still warming up. It goes.
    fewer = sample(warmed(([0.01394, 0.01257, 0.01184], 3), ([0.01751, 0.01912, 0.01385], 1)))
    assert fewer.n == 1 and fewer.unsettled == 1


def test_a_fast_last_value_is_the_machines_when_a_settled_process_ran_as_slow() -> None:
    # CPython 3.14's JIT on countdown in one thread, a default run of 2026-12-03: the first and third processes end
    # fast (28.95 < 0.9 x 49.61; 33.15 < 0.9 x 45.11), but the second, settled after more warm-ups, ran 51.24 ms,
    # slower than 0.9 x 49.61 = 44.65 and 0.9 x 45.11 = 40.60: the machine's slow speed, not warm-up. All three stay.
    found = sample(warmed(([0.04961, 0.05218, 0.02895], 4), ([0.02998, 0.05124, 0.02753], 8),
                          ([0.04785, 0.04511, 0.03315], 4)))
    assert found.n == 3 and found.unsettled == 0
    # Beside a settled process with more warm-ups, no slower than 0.0402 s (below 0.9 x 0.04961 = 0.04465 and
    # 0.9 x 0.04511 = 0.04060), both others were still warming up: they go.
    fast = sample(warmed(([0.04961, 0.05218, 0.02895], 4), ([0.0300, 0.0402, 0.0290], 8),
                         ([0.04785, 0.04511, 0.03315], 4)))
    assert fast.n == 1 and fast.unsettled == 2
