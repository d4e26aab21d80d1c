"""Tests of interpmatrix.plots on real runs (tests/fixtures/run-claims and run-small; their READMEs say how they were
made).

The pyperf files are fixed, so every figure drawn is deterministic: the tests check what the charts are drawn from,
that the files are real PNGs, and that the same run gives the same bytes; none is about how fast anything is.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pyperf
import pytest
from matplotlib.colors import rgb_to_hsv, to_rgb
from matplotlib.image import imread

from interpmatrix import model, plots, report, verdicts
from interpmatrix.markdown import row_label, times
from interpmatrix.registry import Cell
from interpmatrix.results import RunDir
from test_report import SMALL_WORKLOADS, table_rows  # run-small's sizes, defined once

FIXTURES = Path(__file__).parent / "fixtures"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def claims_run() -> model.Run:
    return model.load_run(RunDir(FIXTURES / "run-claims"))


@pytest.fixture(scope="module")
def claims_plots(claims_run: model.Run, tmp_path_factory: pytest.TempPathFactory) -> list[plots.Plot]:
    return plots.write_plots(claims_run, tmp_path_factory.mktemp("plots") / "out", "run")


@pytest.fixture(scope="module")
def claims_report() -> str:
    return report.render_report(RunDir(FIXTURES / "run-claims"))


@pytest.fixture(scope="module")
def small_run() -> model.Run:
    return model.load_run(RunDir(FIXTURES / "run-small"), workloads=SMALL_WORKLOADS)


def assert_png(path: Path) -> None:
    data = path.read_bytes()
    assert data.startswith(PNG_MAGIC), path
    height, width, channels = imread(path).shape
    assert height >= 200 and width >= 400 and channels == 4, path


def names(written: list[plots.Plot]) -> list[str]:
    return [plot.path.name for plot in written]


def test_a_full_run_gets_every_chart(claims_run: model.Run, claims_plots: list[plots.Plot]) -> None:
    written = claims_plots
    assert names(written) == ["run-speedup.png", "run-scaling.png", "run-memory.png"]
    for plot in written:
        assert plot.path.parent.name == "out"
        assert_png(plot.path)
        # The alt text goes inside ![...]: one line, no brackets.
        assert plot.title and plot.alt and not set("[]\n") & set(plot.alt)
    assert written[0].title == "Speed-up over cpython-3.12"
    # Each interpreter's range of bars, as drawn.
    pypy = [value for value in plots.speedup_bars(claims_run).series["pypy3.9"] if value is not None]
    assert f"pypy3.9 from {times(min(pypy))} to {times(max(pypy))}" in written[0].alt


def test_a_chart_without_data_is_skipped(small_run: model.Run, tmp_path: Path) -> None:
    # run-small has no memory cell.
    assert names(plots.write_plots(small_run, tmp_path, "small")) == ["small-speedup.png", "small-scaling.png"]
    assert not (tmp_path / "small-memory.png").exists()
    # Without a baseline there is nothing to compare with; primes alone has no variant with workers.
    assert names(plots.write_plots(replace(small_run, baseline=None), tmp_path, "small")) == ["small-scaling.png"]
    assert not (tmp_path / "small-speedup.png").exists()  # the earlier one would show another baseline
    primes_only = replace(small_run, workloads=[SMALL_WORKLOADS[1]])
    assert names(plots.write_plots(primes_only, tmp_path / "b", "x")) == ["x-speedup.png"]


def test_writing_twice_gives_the_same_bytes(
    claims_run: model.Run, claims_plots: list[plots.Plot], tmp_path: Path
) -> None:
    first, second = claims_plots, plots.write_plots(claims_run, tmp_path, "run")
    assert first and [p.path.read_bytes() for p in first] == [p.path.read_bytes() for p in second]
    assert [(p.title, p.alt) for p in first] == [(p.title, p.alt) for p in second]


def _bound(ratio: float) -> str:
    return times(ratio).rstrip("×")


def test_speedups_are_the_reports_ratios_on_reference_cells(claims_run: model.Run, claims_report: str) -> None:
    bars = plots.speedup_bars(claims_run)
    # The report's group order; the baseline has no bar of its own.
    assert [label.split("\n")[0] for label in bars.labels] == [
        "countdown", "word_count", "pools", "spawn_costs", "primes", "io_threads", "gc_cycles", "numeric",
    ]
    assert list(bars.series) == ["cpython-3.13t", "pypy3.9"]
    # Every bar is the figure of the workload's table in the report, with the same interval as its whisker.
    workloads = {workload.name: workload for workload in claims_run.workloads}
    columns = [column.id for column in claims_run.columns]
    for group, label in enumerate(bars.labels):
        workload = workloads[label.split("\n")[0]]
        cell = verdicts.reference_cell(workload)
        row = table_rows(claims_report, f"### {workload.name}")[row_label(workload, cell)]
        for iid, series in bars.series.items():
            value, (low, high) = series[group], bars.intervals[iid][group]
            assert low <= value <= high
            speed = f"{times(value)} faster" if value >= 1 else f"{times(1 / value)} slower"
            bounds = f"[{_bound(low)}–{_bound(high)}]" if value >= 1 else f"[{_bound(1 / high)}–{_bound(1 / low)}]"
            assert f"{speed} {bounds}" in row[columns.index(iid)], (label, iid)
    # The reference at its first size, with the fewest workers where it has workers.
    assert verdicts.reference_cell(workloads["io_threads"]) == Cell("io_threads", "serial", 1, 2)
    assert verdicts.reference_cell(workloads["primes"]).size == 500


def test_scaling_is_over_one_worker_or_over_the_reference_at_the_same_n(
    claims_run: model.Run, claims_report: str
) -> None:
    panels = {panel.title: panel for panel in plots.scaling_panels(claims_run)}
    # The points are the figures of the report's scaling table (each over the row's base cell).
    table = table_rows(claims_report, "## Scaling with workers")
    column = [column.id for column in claims_run.columns].index("cpython-3.13t")
    threads = panels["countdown threads"]
    assert (threads.against, threads.workers, threads.same_n) == ("threads ×1", (1, 2, 4), False)
    workers, ratio = threads.lines["cpython-3.13t"][2]
    assert workers == 4 and table["countdown threads ×4"][column].startswith(f"{times(ratio)} [")
    assert threads.lines["cpython-3.13t"][0] == (1, 1.0)  # threads x1 over itself

    io = panels["io_threads asyncio"]
    assert (io.against, io.workers, io.same_n) == ("serial ×N", (1, 4, 16, 64), True)
    workers, ratio = io.lines["cpython-3.13t"][2]
    assert workers == 16 and table["io_threads asyncio ×16 vs serial ×16"][column].startswith(f"{times(ratio)} [")
    # The reference itself is no panel; a workload measured at two sizes gets a panel per size.
    assert "io_threads serial" not in panels
    assert {"numeric numexpr n=1,000,000", "numeric numexpr n=10,000,000"} <= set(panels)


def test_cells_that_did_not_run_are_left_out(claims_run: model.Run, small_run: model.Run, tmp_path: Path) -> None:
    panels = {panel.title: panel for panel in plots.scaling_panels(claims_run)}
    # cffi is unavailable on 3.13t, numexpr on PyPy: no line, rather than a line at zero.
    assert "cpython-3.13t" not in panels["primes cffi_threads kmax=500"].lines
    assert "pypy3.9" not in panels["numeric numexpr n=10,000,000"].lines
    # pypy3.9's processes ×2 crashed in run-small: its line keeps the one point it has.
    small = {panel.title: panel for panel in plots.scaling_panels(small_run)}
    assert small["countdown processes"].lines["pypy3.9"] == [(1, 1.0)]
    # A reference cell missing on one interpreter: its bar is marked n/a, and the alt text says so.
    serial = "countdown/serial@1000000"
    columns = [
        replace(c, benchmarks={n: b for n, b in c.benchmarks.items() if n != serial}) if c.id == "pypy3.9" else c
        for c in small_run.columns
    ]
    gap = replace(small_run, columns=columns)
    bars = plots.speedup_bars(gap)
    assert bars.series["pypy3.9"][0] is None and bars.intervals["pypy3.9"][0] is None
    primes = bars.series["pypy3.9"][1]
    assert plots.write_plots(gap, tmp_path, "gap")[0].alt.endswith(
        f"pypy3.9 {times(primes)}. Marked n/a, not measured on both: pypy3.9 countdown serial."
    )


def test_memory_bars_are_peak_memory_in_mib(claims_run: model.Run) -> None:
    bars = plots.memory_bars(claims_run)
    assert bars.labels == ["gc_cycles\nstrong_memory", "gc_cycles\nweakref_memory"]
    assert list(bars.series) == ["cpython-3.12", "cpython-3.13t", "pypy3.9"]
    peak = claims_run.column("pypy3.9").benchmark(Cell("gc_cycles", "strong_memory", None, 10))
    assert model.is_memory(peak)
    assert bars.series["pypy3.9"][0] == peak.mean() / 2**20


def hue(colour: str) -> float:
    return rgb_to_hsv(to_rgb(colour))[0] * 360


def lightness(colour: str) -> float:
    return sum(to_rgb(colour))


def test_colours_are_per_family_lighter_when_older_and_stable(claims_run: model.Run, small_run: model.Run) -> None:
    interpreters = [column.interpreter for column in small_run.columns]
    colours = plots.interpreter_colours(interpreters)
    assert colours == plots.interpreter_colours(reversed(interpreters))
    assert len(set(colours.values())) == len(colours)
    assert 190 <= hue(colours["cpython-3.11"]) <= 230 and 190 <= hue(colours["cpython-3.13"]) <= 230
    assert 10 <= hue(colours["cpython-3.13t"]) <= 40
    assert 90 <= hue(colours["pypy3.9"]) <= 160
    assert lightness(colours["cpython-3.11"]) > lightness(colours["cpython-3.13"])
    # A family's only member gets the same shade whatever else is in the run.
    claims = plots.interpreter_colours(column.interpreter for column in claims_run.columns)
    assert claims["pypy3.9"] == colours["pypy3.9"] and claims["cpython-3.13t"] == colours["cpython-3.13t"]
    assert 190 <= hue(claims["cpython-3.12"]) <= 230


def test_the_scaling_chart_marks_what_the_machines_own_two_threads_gave(claims_run: model.Run, tmp_path: Path) -> None:
    # Every process of a cell on several workers timed the parallelism probe: 10 ms on one thread, 20 ms / 1.25 on
    # each of two at once (twice the work): the machine ran two threads 1.25x faster than one, in every process alike.
    def probed(benchmark: pyperf.Benchmark) -> pyperf.Benchmark:
        return pyperf.Benchmark([
            pyperf.Run(run.values, warmups=run.warmups, collect_metadata=False, metadata={
                **run.get_metadata(), "interpmatrix_parallelism_one": 0.010,
                "interpmatrix_parallelism_two": 0.020 / 1.25})
            for run in benchmark.get_runs() if run.values
        ])

    columns = [replace(column, benchmarks={name: probed(benchmark) if (Cell.parse(name).workers or 1) > 1
                                           else benchmark for name, benchmark in column.benchmarks.items()})
               for column in claims_run.columns]
    run = replace(claims_run, columns=columns)
    scaling = next(plot for plot in plots.write_plots(run, tmp_path, "run") if plot.kind == "scaling")
    assert_png(scaling.path)
    assert "The machine's own two threads of C code ran 1.25× faster [1.25–1.25] than one" in scaling.alt
    without = next(plot for plot in plots.write_plots(claims_run, tmp_path, "plain") if plot.kind == "scaling")
    assert "machine's own two threads" not in without.alt
