"""The standard suite: its section on a hand-made run whose figures are worked out by hand (agreement, disagreement
beyond the interval, a benchmark missing on one interpreter), the published figures as data, and every adapter of
workloads/pyperformance_suite.py run once on the real pyperformance, where the test's interpreter has it."""

from __future__ import annotations

import ast
import importlib
import math
from pathlib import Path

import pytest
from pyperf._utils import tdist95conf_level  # the t table only
from test_sections import D, bounds, cell, row
from test_stats import bench, interpreter

from interpmatrix import report
from interpmatrix.intervals import Estimator, Interval
from interpmatrix.recorded_scatter import BETWEEN_STEP_SD
from interpmatrix.model import Column, Run
from interpmatrix.questions import (
    FREE_THREADING,
    JIT,
    PUBLISHED_FIGURES,
    PUBLISHED_FREE_THREADING_COST,
    PYPY,
    PublishedFigure,
)
from interpmatrix.registry import STANDARD_SUITE, WORKLOADS, WORKLOADS_DIR, Cell, Variant, Workload, find_workload
from interpmatrix.results import CellFailure, RunDir
from interpmatrix.run_info import RunInfo
from interpmatrix.sections import geomean, standard_suite

SUITE = Workload(
    name="pyperformance",
    group=STANDARD_SUITE,
    claim="the published figures hold",
    seeds=("none",),
    size_label="iterations",
    sizes=(1,),
    reference="alpha",
    variants=(Variant("alpha", "a benchmark", pure_python=True), Variant("beta", "another", pure_python=True)),
    script=Path("suite.py"),
    requirements=("pyperformance==1.14.0",),
    overall_mean=False,
)
ALPHA, BETA = Cell("pyperformance", "alpha", None, 1), Cell("pyperformance", "beta", None, 1)
UNINSTALLABLE = "pip install pyperformance==1.14.0 failed: No matching distribution found for pyperformance==1.14.0"


def column(iid: str, alpha: float | None, beta: float | None, failures: dict | None = None, **facts) -> Column:
    """A column whose cells each have two worker processes around the given mean (test_sections.cell)."""
    found = {c.name: cell(c, mean) for c, mean in ((ALPHA, alpha), (BETA, beta)) if mean is not None}
    return Column(interpreter(iid, **facts), found, failures or {})


def suite_run() -> Run:
    """Times in seconds (alpha, beta), chosen so each ratio is the same on both benchmarks:

    - cpython-3.11 takes 1.2x the baseline's time; pypy3.11 0.3x: PyPy over 3.11 is 4.0x, inside speed.pypy.org's
      3-4.3x;
    - cpython-3.14-jit (the same binary as cpython-3.14, PYTHON_JIT=1) takes half of cpython-3.14's time: 2.0x, far
      above What's New's "at most 20 % faster";
    - cpython-3.13t takes 1.4x its twin's time: a cost of 40 %, the published 3.13 figure;
    - gappy failed beta; pypy3.9 could not install pyperformance at all.
    """
    pypy = {"implementation": "pypy", "jit": "PyPy JIT"}
    return make_run([
        column("base", 1.0, 2.0),
        column("cpython-3.11", 1.2, 2.4, version="3.11.7", implementation_version="3.11.7"),
        column("pypy3.11", 0.3, 0.6, version="3.11.17", implementation_version="8.0.1", **pypy),
        column("pypy3.9", None, None, {c.name: CellFailure("unavailable", UNINSTALLABLE, None) for c in (ALPHA, BETA)},
               version="3.9.16", implementation_version="7.3.11", **pypy),
        column("cpython-3.14", 1.0, 2.0, version="3.14.10", executable="/x/python3.14"),
        column("cpython-3.14-jit", 0.5, 1.0, version="3.14.10", executable="/x/python3.14", jit="enabled",
               env=[["PYTHON_JIT", "1"]]),
        column("cpython-3.13", 1.0, 2.0, version="3.13.5", twin="cpython-3.13t"),
        column("cpython-3.13t", 1.4, 2.8, version="3.13.5", free_threaded=True, gil_enabled=False,
               twin="cpython-3.13"),
        column("gappy", 1.0, None, {BETA.name: CellFailure("error", "ValueError: boom", None)}),
    ])


def make_run(columns: list[Column]) -> Run:
    info = RunInfo.from_dict({"interpreters": [c.id for c in columns], "status": "complete"}, "suite-run")
    return Run(RunDir(Path("/nonexistent")), info, [SUITE], columns, "base", "chosen", None, {})


# Degrees of freedom of each cell's variance (see test_sections): the same cell's siblings in its family (one machine,
# implementation, JIT or not), each on 1 df, up to 8, plus the cell's own 1. Six CPythons without a JIT ran alpha
# (5 siblings: 6 df), five ran beta (gappy failed it: 5 df). pypy3.11 and the JIT column have no sibling that ran:
# they pool their own other benchmark's 1 df (2 df).
CPY_ALPHA, CPY_BETA, ALONE = 6, 5, 2


def interval(ratio: float, *dfs: int) -> tuple[float, float]:
    """The bounds test_sections.bounds prints, unrounded: k ratios of cells whose means each have variance D² / 4,
    each ratio (of two cells on one worker) with the between-run variance recorded for it, a run's half of 0.029²,
    for Σ τ² / k², and each interpreter's one step (round 1 of the suite) its τ_step² (BETWEEN_STEP_SD), whatever k."""
    k = len(dfs) // 2
    df = (2 * k) ** 2 / sum(1 / found for found in dfs)
    variance = 2 * k * (D**2 / 4) / k**2 + k * 0.029**2 / 2 / k**2 + 2 * BETWEEN_STEP_SD**2
    half = tdist95conf_level(math.floor(df)) * math.sqrt(variance)
    return ratio * math.exp(-half), ratio * math.exp(half)


def line(text: str, start: str) -> str:
    return next(found for found in text.splitlines() if found.startswith(start))


def test_ranking_is_over_the_benchmarks_the_baseline_ran_and_names_what_is_missing() -> None:
    text = standard_suite.render(suite_run(), {})
    assert "over the 2 benchmarks base ran" in text
    # 1.0 / 0.3 = 2.0 / 0.6 = 3.33x on both benchmarks, each ratio with PyPy's between-run variance.
    pypy = bounds(10 / 3, CPY_ALPHA, CPY_BETA, ALONE, ALONE, mean=True, pypy=True)
    assert row(text, "pypy3.11") == ["pypy3.11", f"3.33× faster {pypy}"]
    # 1.4x the time: shown as 1.40x slower, with the bounds of 1.4.
    twin = bounds(1.4, CPY_ALPHA, CPY_ALPHA, CPY_BETA, CPY_BETA, mean=True)
    assert row(text, "cpython-3.13t")[1] == f"1.40× slower {twin}"
    assert row(text, "base") == ["base", "baseline"]
    assert row(text, "gappy") == ["gappy", "— not ranked: did not run beta (error)"]
    assert row(text, "pypy3.9") == [
        "pypy3.9",
        ("— not ranked: ran none of the 2 (unavailable: No matching distribution found for "
         "pyperformance==1.14.0)"),
    ]
    # Fastest first (pypy3.11 3.33x, the JIT 2x, ...), then those not ranked.
    order = [found.split("|")[1].strip() for found in text.splitlines() if found.startswith("| ")][1:]
    assert order[:2] == ["pypy3.11", "cpython-3.14-jit"] and order[-2:] == ["pypy3.9", "gappy"]


def test_pypy_agrees_with_speed_pypy_org() -> None:
    text = standard_suite.render(suite_run(), {})
    found = line(text, "- **pypy3.11**")
    # cpython-3.11's time over pypy3.11's: 1.2 / 0.3 = 2.4 / 0.6 = 4.0, whose interval overlaps 3-4.3.
    assert found.startswith(
        f"- **pypy3.11** against **cpython-3.11**: 4.00× faster "
        f"{bounds(4.0, CPY_ALPHA, CPY_BETA, ALONE, ALONE, mean=True, pypy=True)}, "
        "geometric mean of 2 benchmarks. Published over speed.pypy.org's own benchmarks: about 3-4.3× faster than "
        "CPython 3.11, per speed.pypy.org, https://speed.pypy.org/."
    )
    assert found.endswith("It agrees with that figure: its interval overlaps the published range.")
    assert line(text, "- **pypy3.9**") == (
        "- **pypy3.9** against **cpython-3.11**: no benchmark ran on both; published: about 3-4.3× faster than "
        "CPython 3.11, per speed.pypy.org, https://speed.pypy.org/."
    )


def test_a_jit_far_above_the_published_range_disagrees_beyond_its_interval() -> None:
    text = standard_suite.render(suite_run(), {})
    found = line(text, "- **cpython-3.14-jit**")
    # The same binary without the JIT is the partner: 1.0 / 0.5 = 2.0 / 1.0 = 2.0x.
    interval = bounds(2.0, CPY_ALPHA, CPY_BETA, ALONE, ALONE, mean=True)
    assert found.startswith(f"- **cpython-3.14-jit** against **cpython-3.14**: 2.00× faster {interval}")
    # Its low bound is above the published 1.20 (a df of 16 / (1/6 + 1/5 + 1/2 + 1/2) = 11.7: t = 2.201, half-width
    # 2.201 × √(log(1.1)² / 4 + 0.029² / 2 + 2 × 0.069²) = 2.201 × √(0.0022711 + 0.0004205 + 0.009522) = 0.24324
    # with the between-run variance of two ratios and of the two interpreters' steps (the suite's one each), so
    # 2.0 × e^-0.24324 = 1.57, 2.0 × e^0.24324 = 2.55).
    assert BETWEEN_STEP_SD == 0.069
    assert interval == "[1.57–2.55]"
    assert (
        "What's New in Python 3.14, https://docs.python.org/3/whatsnew/3.14.html#whatsnew314-jit-compiler. It lies "
        "beyond its interval from that figure, which is over other benchmarks than these: the two may differ by the "
        "benchmarks, not only by this run."
    ) in found
    # The per-benchmark source has none of these made-up benchmarks.
    assert found.endswith("-vs-base.md: none of these.")


def test_free_threading_is_held_against_its_twin_and_the_published_cost() -> None:
    text = standard_suite.render(suite_run(), {})
    found = line(text, "- **cpython-3.13t**")
    # 1.4 / 1.0 = 2.8 / 2.0: +40 % time, the published 3.13 figure itself.
    low, high = interval(1.4, CPY_ALPHA, CPY_ALPHA, CPY_BETA, CPY_BETA)
    assert found.startswith(
        "- **cpython-3.13t** against **cpython-3.13**: "
        f"+40.0 % [{(low - 1) * 100:+.1f} % to {(high - 1) * 100:+.1f} %] time, geometric mean of 2 benchmarks. "
        "Published over pyperformance's suite: about 40 % (pyperformance), per Python experimental support for free "
        "threading (3.13), https://docs.python.org/3.13/howto/free-threading-python.html. It agrees with that figure: "
        "its interval overlaps the published range."
    )
    # The per-benchmark source has no figure for these made-up benchmarks, and says so.
    assert found.endswith(
        "(1.49× the time over its whole suite), per Meta's free-threading benchmarking (bench_runner, 2024-09-06), "
        "https://github.com/facebookexperimental/free-threading-benchmarking/blob/main/results/"
        "bm-20240906-3.13.0rc2-ec61006-NOGIL/bm-20240906-vultr-x86_64-python-v3.13.0rc2-3.13.0rc2-ec61006-vs-base.md: "
        "none of these."
    )


def per_benchmark_figure(**figures: float) -> PublishedFigure:
    return PublishedFigure(FREE_THREADING, "3.13", 1.49, 1.49, "a build against its twin (1.49× over its suite)",
                           "a benchmarking site, https://example.org/results", over="its whole suite",
                           per_benchmark=tuple(figures.items()))


def test_a_source_that_publishes_each_benchmark_is_held_like_with_like() -> None:
    run = suite_run()
    pair = next(found for found in standard_suite.pairs(run) if found[1].id == "cpython-3.13t")
    estimator = Estimator(run)
    cells = standard_suite.suite_cells(run)
    # cpython-3.13t takes 1.4x its twin's time on both benchmarks. Published 1.3 and 1.5: their geometric mean is
    # √(1.3 × 1.5) = √1.95 = 1.3964, +39.6 %, inside the run's interval around 1.4.
    low, high = interval(1.4, CPY_ALPHA, CPY_ALPHA, CPY_BETA, CPY_BETA)
    assert low < 1.3964 < high
    found = standard_suite.comparison_line(run, estimator, cells, pair, (per_benchmark_figure(alpha=1.3, beta=1.5),))
    assert found == (
        "- **cpython-3.13t** against **cpython-3.13**: "
        f"+40.0 % [{(low - 1) * 100:+.1f} % to {(high - 1) * 100:+.1f} %] time, geometric mean of 2 benchmarks. "
        "Published on the same 2 benchmarks: +39.6 % time, the geometric mean of each one's figure for a build "
        "against its twin (1.49× over its suite), per a benchmarking site, https://example.org/results. Like with "
        "like, it agrees with it: its interval holds it."
    )
    # Published 2.0 and 2.2: √4.4 = 2.0976, +109.8 %, above the run's whole interval.
    assert high < 2.0976
    found = standard_suite.comparison_line(run, estimator, cells, pair, (per_benchmark_figure(alpha=2.0, beta=2.2),))
    assert "Published on the same 2 benchmarks: +109.8 % time" in found
    assert found.endswith("Like with like, it disagrees with it beyond its interval.")


def test_like_with_like_over_the_benchmarks_the_source_has() -> None:
    run = suite_run()
    pair = next(found for found in standard_suite.pairs(run) if found[1].id == "cpython-3.13t")
    # The source has alpha only: the run's figure is taken again over alpha alone, and both are said.
    low, high = interval(1.4, CPY_ALPHA, CPY_ALPHA)
    found = standard_suite.comparison_line(run, Estimator(run), standard_suite.suite_cells(run), pair,
                                           (per_benchmark_figure(alpha=1.3, gamma=9.0),))
    assert (
        "Published on 1 of these benchmarks (this run over them: "
        f"+40.0 % [{(low - 1) * 100:+.1f} % to {(high - 1) * 100:+.1f} %] time): +30.0 % time, the geometric mean "
        "of each one's figure for a build against its twin"
    ) in found
    # +7.3 % to +82.7 % around 1.4 on one benchmark's two ratios: it holds the published 1.3.
    assert low < 1.3 < high
    assert found.endswith("Like with like, it agrees with it: its interval holds it.")


def test_the_published_per_benchmark_figures() -> None:
    suite = find_workload("pyperformance")
    names = {variant.name for variant in suite.variants}
    cells = [Cell("pyperformance", name, None, 1) for name in sorted(names)]
    found = {(f.comparison, f.minor): f for f in PUBLISHED_FIGURES if f.per_benchmark}
    assert set(found) == {(FREE_THREADING, "3.13"), (JIT, "3.14"), (JIT, "3.15")}
    for figure in found.values():
        assert {name for name, _ in figure.per_benchmark} <= names and "https://github.com/" in figure.source
    # The geometric means over the benchmarks each source has, worked by hand from its table's figures:
    # - 3.13t against 3.13, all 15: the logs sum to 9.92642, / 15 = 0.661762, e^ = 1.9382;
    # - 3.14's JIT, 14 (not generators, which the table hides): the logs sum to -1.10195, / 14 = -0.078711, e^ =
    #   0.92431 (1.08x slower; unpack_sequence alone, 4.25x slower, is -1.44692 of it);
    # - 3.15's JIT, 12 (not generators, chaos, raytrace): the logs sum to 1.38465, / 12 = 0.115387, e^ = 1.12231.
    for key, count, mean in (((FREE_THREADING, "3.13"), 15, 1.9382), ((JIT, "3.14"), 14, 0.92431),
                             ((JIT, "3.15"), 12, 1.12231)):
        covered, value = standard_suite.published_over(found[key], cells)
        assert len(covered) == count and value == pytest.approx(mean, abs=1e-4)
    ft = dict(found[(FREE_THREADING, "3.13")].per_benchmark)
    assert (ft["regex_v8"], ft["unpack_sequence"]) == (1.06, 3.27)
    assert dict(found[(JIT, "3.14")].per_benchmark)["unpack_sequence"] == pytest.approx(1 / 4.25)


def test_a_figure_without_an_interval_is_undecided() -> None:
    # One worker process per cell, and no cell anywhere with two to borrow a variance from: no interval at all.
    one = {"base": 1.0, "cpython-3.11": 1.2, "pypy3.11": 0.3}
    facts = {"cpython-3.11": {"version": "3.11.7"},
             "pypy3.11": {"implementation": "pypy", "jit": "PyPy JIT", "version": "3.11.17"}}
    run = make_run([
        Column(interpreter(iid, **facts.get(iid, {})), {c.name: bench(c, [mean] * 3) for c in (ALPHA, BETA)}, {})
        for iid, mean in one.items()
    ])
    found = line(standard_suite.render(run, {}), "- **pypy3.11**")
    assert "4.00× faster [no interval]" in found
    assert found.endswith("Undecided against the published figure: this figure has no interval.")


def test_agreement_three_ways() -> None:
    agreement = standard_suite.agreement
    assert agreement(Interval(3.5, 2.0, 3.1), 3.0, 4.3) == standard_suite.AGREES  # overlaps
    assert agreement(Interval(4.5, 4.3, 4.8), 3.0, 4.3) == standard_suite.AGREES  # touches
    assert agreement(Interval(2.0, 1.8, 2.9), 3.0, 4.3) == standard_suite.DISAGREES
    assert agreement(Interval(5.0, 4.4, 5.6), 3.0, 4.3) == standard_suite.DISAGREES
    assert agreement(Interval(3.5, None, None), 3.0, 4.3) == standard_suite.UNDECIDED
    assert agreement(None, 3.0, 4.3) == standard_suite.UNDECIDED
    # One published number: the interval must hold it.
    assert agreement(Interval(1.9, 1.6, 2.4), 1.94, 1.94) == standard_suite.AGREES
    assert agreement(Interval(1.3, 1.2, 1.45), 1.94, 1.94) == standard_suite.DISAGREES


def test_the_section_follows_the_seeds_geometric_mean() -> None:
    assert report.SECTIONS.index(standard_suite) == report.SECTIONS.index(geomean) + 1


def test_no_section_without_the_suite() -> None:
    run = suite_run()
    assert standard_suite.render(Run(run.run_dir, run.info, [], run.columns, "base", "chosen", None, {}), {}) is None


def test_published_figures_are_sourced_ranges_with_one_home_for_free_threading() -> None:
    for figure in PUBLISHED_FIGURES:
        assert figure.comparison in (PYPY, JIT, FREE_THREADING)
        assert 0 < figure.low <= figure.high and figure.text and "https://" in figure.source
    # The free-threading section reads the same figures, as words.
    assert PUBLISHED_FREE_THREADING_COST == {"3.13": "about 40 % (pyperformance)", "3.14": "about 5-10 %"}
    # "10 % slower to 20 % faster": 1/1.1 to 1.2 in time without ÷ time with.
    jit = next(f for f in PUBLISHED_FIGURES if f.comparison == JIT)
    assert (jit.minor, jit.low, jit.high) == ("3.14", pytest.approx(1 / 1.1), 1.2)


def test_the_suite_stays_out_of_the_overall_mean_and_pins_one_version() -> None:
    suite = find_workload("pyperformance")
    assert [w.name for w in WORKLOADS if not w.overall_mean] == ["pyperformance"]
    assert suite.group == STANDARD_SUITE and len(suite.variants) >= 10
    module = _script()
    assert suite.requirements == (module.REQUIREMENT,)
    assert [variant.name for variant in suite.variants] == sorted(module.ADAPTERS)


# The real pyperformance ------------------------------------------------------------------------------------------


def _script():
    import sys

    if str(WORKLOADS_DIR) not in sys.path:
        sys.path.insert(0, str(WORKLOADS_DIR))
    return importlib.import_module("pyperformance_suite")


def _main_block(module_name: str) -> str:
    """The source of a benchmark's ``if __name__ == "__main__":`` block."""
    source = Path(_script().benchmark_path(module_name)).read_text(encoding="utf-8")
    tree = ast.parse(source)
    block = next(node for node in tree.body if isinstance(node, ast.If) and "__main__" in ast.unparse(node.test))
    return ast.unparse(block)


@pytest.fixture
def pyperformance():
    return pytest.importorskip(
        "pyperformance", reason="pyperformance is not installed in the test venv (pip install pyperformance==1.14.0)"
    )


def test_the_installed_pyperformance_is_the_pinned_one(pyperformance) -> None:
    assert f"pyperformance=={pyperformance.__version__}" == _script().REQUIREMENT


def test_literal_arguments_are_those_of_the_benchmarks_main_blocks(pyperformance) -> None:
    deltablue = _main_block("deltablue")
    assert "n = 100" in deltablue and "bench_func('deltablue', delta_blue, n)" in deltablue
    assert "queen_count = 8" in _main_block("nqueens")
    assert "richard.run, 1)" in _main_block("richards")
    assert "bench_time_func(name, func, inner_loops=400)" in _main_block("unpack_sequence")


@pytest.mark.parametrize("name", sorted(_script().ADAPTERS))
def test_each_adapter_runs_one_iteration_of_the_real_benchmark(pyperformance, name: str) -> None:
    module = _script()
    kernel = module.VARIANTS[name]
    kernel.prepare()
    assert kernel(1, 1) is None  # the answer every benchmark gives (module.expected)
    assert module.expected(1) is None
    kind, _ = module.ADAPTERS[name]
    # A benchmark that times its own loops does so at pyperformance's defaults: one iteration takes some time.
    if kind == module.BENCH_TIME_FUNC:
        seconds = kernel.time_func(1, 1, 1)
        assert isinstance(seconds, float) and 0 < seconds < 60 and math.isfinite(seconds)
    else:
        assert not hasattr(kernel, "time_func")
