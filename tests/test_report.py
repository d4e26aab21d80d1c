"""Tests of interpmatrix.report on a real, small run (tests/fixtures/run-small; its README says how it was made).

Nothing here times anything: the pyperf files are fixed, so every figure, and the whole report, is deterministic.
Regenerate the golden report after an intended change with ``UPDATE_GOLDEN=1 python3 -m pytest tests/test_report.py``.
"""

from __future__ import annotations

import json
import math
import os
import re
import shutil
import statistics
from dataclasses import replace
from pathlib import Path

import pyperf
import pytest

from interpmatrix import intervals, markdown, model, report, samples, stats
from interpmatrix.intervals import Estimator
from interpmatrix.sections import interpreters as interpreters_section
from interpmatrix.sections import workloads as workloads_section
from interpmatrix.registry import Cell, find_workload
from interpmatrix.results import CellFailure, RunDir

FIXTURES = Path(__file__).parent / "fixtures"
RUN = RunDir(FIXTURES / "run-small")
GOLDEN = FIXTURES / "report-small.md"
RUN_ID = "2026-11-21T20-42-05Z"
IDS = ["cpython-3.11", "cpython-3.13", "cpython-3.13t", "pypy3.9"]


def _small_workloads():
    """The registry's workloads at the fixture's sizes: countdown at n=1,000,000 with 1 and 2 workers."""
    countdown, primes = find_workload("countdown"), find_workload("primes")
    small_countdown = replace(
        countdown,
        sizes=(1_000_000,),
        variants=tuple(
            replace(v, workers=(1, 2)) if v.workers else v for v in countdown.variants if _in_fixture(v)
        ),
    )
    return (small_countdown, replace(primes, variants=tuple(v for v in primes.variants if _in_fixture(v))))


def _in_fixture(variant) -> bool:
    # The fixture was recorded before the compiled variants and the memory cells existed.
    return not variant.binding and variant.metric == "time"


SMALL_WORKLOADS = _small_workloads()
CRASHED = Cell("countdown", "processes", 2, 1_000_000)


def render(run_dir: RunDir = RUN, baseline: str | None = None) -> str:
    return report.render_report(run_dir, baseline, workloads=SMALL_WORKLOADS)


def benchmark(interpreter_id: str, cell_name: str) -> pyperf.Benchmark:
    return pyperf.BenchmarkSuite.load(str(RUN.results_file(interpreter_id))).get_benchmark(cell_name)


def copy_run(tmp_path: Path) -> RunDir:
    target = tmp_path / RUN_ID
    shutil.copytree(RUN.path, target)
    return RunDir(target)


def table_rows(markdown: str, heading: str) -> dict[str, list[str]]:
    """The first table after ``heading``: row label -> its cells, one per interpreter."""
    lines = markdown.split(f"\n{heading}\n", 1)[1].splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("|"))
    rows = {}
    for line in lines[start + 2 :]:
        if not line.startswith("|"):
            break
        label, *cells = [part.strip() for part in line.strip("|").split(" | ")]
        rows[label] = cells
    return rows


def test_fixture_is_the_run_the_tests_expect():
    run = RUN.read_run()
    assert run["run_id"] == RUN_ID
    assert run["interpreters"] == IDS
    assert run["baseline"] is None


def test_report_matches_golden_file():
    text = render()
    if os.environ.get("UPDATE_GOLDEN") == "1":
        GOLDEN.write_text(text, encoding="utf-8")
    assert text == GOLDEN.read_text(encoding="utf-8")


def test_report_is_deterministic():
    assert render() == render()


def test_sections_come_in_order():
    text = render()
    headings = [line for line in text.splitlines() if line.startswith("#")]
    assert headings == [
        f"# interpmatrix report: {RUN_ID}",
        "## Which interpreter should I use?",
        # No claims section: none of the claims' cells is in this fixture (see test_claims.py); no "Then and now":
        # its countdown is at n = 1,000,000, not the seed comparison's 2,000,000.
        "## Systems the seeds name",
        "## Cost of free-threading",
        "## Interpreters",
        "## Pure-Python CPU",
        "### countdown",
        "## Compiled kernels",
        "### primes",
        "## Start-up and warm-up",
        "## Scaling with workers",
        "## Geometric mean",
        "## Cells that did not run",
        "## Machine drift",
        "## Method",
    ]


def test_default_baseline_is_newest_gil_cpython():
    run = model.load_run(RUN, workloads=SMALL_WORKLOADS)
    # cpython-3.13t is newer than nothing here but is free-threaded; pypy3.9 is not CPython.
    assert run.baseline == "cpython-3.13"
    assert "- **Baseline:** cpython-3.13 (the newest GIL-enabled CPython of the run, without its JIT)" in render()


def test_run_json_baseline_is_used_and_argument_wins(tmp_path):
    run_dir = copy_run(tmp_path)
    run_dir.update_run(baseline="pypy3.9")
    assert "- **Baseline:** pypy3.9 (chosen when the run was planned)" in render(run_dir)
    assert "- **Baseline:** cpython-3.11 (chosen for this report)" in render(run_dir, "cpython-3.11")


def speed_in(text: str) -> tuple[float, float, float]:
    """(ratio, low, high) of a cell's ``1.31× faster [1.25–1.38]`` as baseline ÷ cell (``slower``: inverted)."""
    found = re.search(r"([0-9.]+)× (faster|slower) \[([0-9.]+)–([0-9.]+)\]", text)
    ratio, low, high = float(found[1]), float(found[3]), float(found[4])
    return (ratio, low, high) if found[2] == "faster" else (1 / ratio, 1 / high, 1 / low)


def test_explicit_baseline_changes_ratios():
    default = table_rows(render(), "### primes")["pure kmax=500"]
    other = table_rows(render(baseline="cpython-3.11"), "### primes")["pure kmax=500"]
    assert default[1].endswith("· baseline") and not other[1].endswith("· baseline")
    assert other[0].endswith("· baseline")
    # The same two cells the other way round: the same figure and interval, faster become slower.
    assert other[1].split(" · ")[1] == default[0].split(" · ")[1].replace("faster", "slower")
    # pyperf's ratio of the two means lies in the interval (the figure is over worker processes, see Method).
    b311, b313 = benchmark("cpython-3.11", "primes/pure@500"), benchmark("cpython-3.13", "primes/pure@500")
    ratio, low, high = speed_in(default[0])
    assert low <= b313.mean() / b311.mean() <= high and low <= ratio <= high


def test_summary_when_the_baseline_is_fastest():
    text = render(baseline="pypy3.9")
    line = next(line for line in text.splitlines() if line.startswith("- **Compiled kernels** "))
    assert line.startswith("- **Compiled kernels** ([primes](#primes)): use **pypy3.9** with `pure` (")
    assert "than the runner-up, cpython-3.11 with `pure`)" in line
    assert line.endswith("). It is the baseline's reference itself (832 us ± 42 us).")
    assert "3. pypy3.9 (baseline)" not in text and "1. pypy3.9 (baseline)" in text


def test_unknown_baseline_lists_valid_ids():
    with pytest.raises(ValueError) as error:
        render(baseline="cpython-3.99")
    message = str(error.value)
    assert "'cpython-3.99'" in message
    assert "valid ids: " + ", ".join(IDS) in message


def test_failed_cell_shows_kind_in_table_and_reason_below():
    text = render()
    row = table_rows(text, "### countdown")["processes ×2"]
    assert row[IDS.index("pypy3.9")] == "— not run: crash"
    failures = table_rows(text, "## Cells that did not run")
    assert failures["pypy3.9"] == [
        f"`{CRASHED.name}`",
        "crash",
        "a pyperf worker was killed by SIGSEGV",
        "`logs/pypy3.9/countdown__processes-2@1000000.log`",
    ]
    assert "- **Cells:** 27 of 28 ran, 1 failed" in text


def test_whole_column_failure_marks_every_cell(tmp_path):
    run_dir = copy_run(tmp_path)
    run_dir.record_failure("cpython-3.13t", "*", CellFailure("install failed", "pip install pyperf==2.10.0 failed"))
    text = render(run_dir)
    for row in table_rows(text, "### countdown").values():
        assert row[IDS.index("cpython-3.13t")] == "— not run: install failed"
    # No log of its own: a line of the list under the table, not a row.
    assert "- cpython-3.13t, install failed (all cells): pip install pyperf==2.10.0 failed" in text.splitlines()
    assert "cpython-3.13t" not in table_rows(text, "## Cells that did not run")


def test_fastest_cell_of_each_row_is_bold():
    text = render()
    for workload in SMALL_WORKLOADS:
        rows = table_rows(text, f"### {workload.name}")
        for cell in workload.cells():
            means = {}
            for iid in IDS:
                if not (iid == "pypy3.9" and cell == CRASHED):
                    means[iid] = benchmark(iid, cell.name).mean()
            row = rows[markdown.row_label(workload, cell)]
            bold = [IDS[i] for i, text_ in enumerate(row) if text_.startswith("**") and text_.endswith("**")]
            assert bold == [min(means, key=means.get)], cell.name


PRIMES = Cell("primes", "pure", None, 500)


def test_same_samples_are_not_significant():
    run = model.load_run(RUN, workloads=SMALL_WORKLOADS)
    column = run.column("cpython-3.11")
    same = Estimator(run).ratio((column, PRIMES), (column, PRIMES))
    assert same.value == 1.0 and same.low < 1.0 < same.high
    assert stats.significance(same) == "n.s."
    text = workloads_section.cell_text(column.benchmark(PRIMES), same, is_baseline=False, fastest=False)
    assert re.search(r"1\.00× faster \[0\.[0-9]+–1\.[0-9]+\] \(n\.s\.\)$", text), text


def test_clearly_different_samples_are_significant():
    run = model.load_run(RUN, workloads=SMALL_WORKLOADS)
    cpython, pypy = run.column("cpython-3.13"), run.column("pypy3.9")
    # 14.6 ms against 832 us: over 15x apart, with every process within a few % of its cell's mean.
    found = Estimator(run).ratio((cpython, PRIMES), (pypy, PRIMES))
    assert found.low > 10 and stats.significance(found) is None
    assert "(n.s.)" not in workloads_section.cell_text(pypy.benchmark(PRIMES), found, is_baseline=False, fastest=True)


def test_one_process_without_siblings_is_not_tested_and_with_them_borrows_their_variance():
    run = model.load_run(RUN, workloads=SMALL_WORKLOADS)
    column = run.column("cpython-3.11")
    bench = column.benchmark(PRIMES)
    first = pyperf.Benchmark([next(r for r in bench.get_runs() if r.values)])  # one worker process of the two
    alone, whole = samples.sample(first), samples.sample(bench)
    assert (alone.n, whole.n) == (1, 2)
    # Alone, one process has no variance: no interval, not tested.
    untested = intervals.ratio_interval(intervals.spread(whole, None), intervals.spread(alone, None))
    assert not untested.known and stats.significance(untested) == "not tested"
    assert workloads_section.cell_text(first, untested, is_baseline=False, fastest=False).endswith(
        "[no interval] (not tested)")
    # Beside its siblings (the same cell on the run's other CPythons without a JIT, cpython-3.13 and cpython-3.13t, two
    # processes each: 1 + 1 degrees of freedom; never the cell itself), it borrows their pooled variance: an interval.
    prior = Estimator(run).prior(column, PRIMES)
    assert prior is not None and prior.df == 2
    borrowed = intervals.ratio_interval(intervals.spread(whole, prior), intervals.spread(alone, prior))
    assert borrowed.known and borrowed.low <= borrowed.value <= borrowed.high


def test_speed_wording():
    assert markdown.speed_text(1.523) == "1.52× faster"
    assert markdown.speed_text(1 / 1.3) == "1.30× slower"
    assert markdown.speed_text(46.6) == "46.6× faster"
    assert markdown.speed_text(153.2) == "153× faster"


def test_interpreters_table_and_those_left_out():
    text = render()
    rows = table_rows(text, "## Interpreters")
    assert rows["pypy3.9"][1] == "3.9.16 (PyPy 7.3.11)"
    assert rows["cpython-3.13t (twin of cpython-3.13)"][2:4] == ["yes", "off"]  # free-threaded build, GIL off in the workers
    assert rows["cpython-3.13 (twin of cpython-3.13t)"][-1] == "baseline"
    assert "- too old: the workloads need Python 3.9+: cpython-2.7 (2.7.18, pyenv)" in text
    # The run was planned on 2026-11-21, after 3.10's end of life.
    assert "- Python 3.9 is past its end of life (2025-10): cpython-3.9 (3.9.18, pyenv)" in text
    assert "- Python 3.10 is past its end of life (2026-10): cpython-3.10 (3.10.13, pyenv)" in text
    assert "- an older 3.11 than cpython-3.11: cpython-3.11.2 (3.11.2, system)" in text


def test_gil_state_disagreeing_with_the_probe_is_said():
    run = model.load_run(RUN, workloads=SMALL_WORKLOADS)
    column = run.column("cpython-3.13t")
    probe_said_on = replace(column, interpreter=replace(column.interpreter, gil_enabled=True))
    assert interpreters_section.gil_at_run_time(column) == "off"
    assert interpreters_section.gil_at_run_time(probe_said_on) == "off (the probe said on)"


def test_summary_answers_from_the_numbers():
    text = render().split("## Which interpreter should I use?", 1)[1].split("\n## ", 1)[0]
    assert "- **Overall** (geometric mean of speed-ups over cpython-3.13, with its 95 % interval, on the 6 " \
           "interpreter-dependent cells every ranked interpreter ran; [geometric mean](#geometric-mean)): 1. pypy3.9 " \
           in text
    line = next(line for line in text.splitlines() if line.startswith("- **Pure-Python CPU loops** "))
    assert line.startswith("- **Pure-Python CPU loops** ([countdown](#countdown)): use **pypy3.9** with `serial` (")
    # pypy3.9 against the baseline's serial: pyperf's ratio of the means (40.1x) lies in the interval stated.
    base, pypy = (benchmark(iid, "countdown/serial@1000000") for iid in ("cpython-3.13", "pypy3.9"))
    ratio, low, high = speed_in(line.split("than the runner-up", 1)[1])
    assert low <= base.mean() / pypy.mean() <= high and low > 1
    assert "- **Threads** (countdown, n=1,000,000; speed-up of threads ×2 over threads ×1, 95 % interval): " in text
    assert "cpython-3.13t" in text and "(GIL off)" in text
    # cpython-3.13t's threads ×2 ran in two processes, 40.04 and 42.17 ms: on several workers it borrows no variance,
    # so its log mean has variance ln(42.17 / 40.04)^2 / 2 / 2 = 0.000668 on 1 df, and Student's t(1) = 12.71 widens
    # the ratio 1.84 by exp(12.71 x sqrt(0.000668)) = 1.39 at least: below 1.5 at its low end, undecided. pypy3.9's
    # 0.89x carries the between-run variance recorded for a PyPy ratio of a cell on several workers against one on
    # one (BETWEEN_RUN_SD_PYPY[1], a run's half of 0.052²: exp(1.96 x 0.052 / √2) = 1.07), short of the 1.69 that
    # would take 0.89 to 1.5 (0.249 until six runs narrowed it, exp(1.96 x 0.249) = 1.63, with its processes' scatter
    # reached past): took turns now.
    assert "Threads took turns (the whole interval below 1.50×) on cpython-3.11, cpython-3.13, pypy3.9; " \
           "undecided on cpython-3.13t." in text


def test_threads_speedup_is_the_ratio_of_process_means():
    run = model.load_run(RUN, workloads=SMALL_WORKLOADS)
    [(workload, size, speedups)] = stats.thread_scaling(Estimator(run))
    assert (workload.name, size) == ("countdown", 1_000_000)

    def log_mean(benchmark_: pyperf.Benchmark) -> float:
        """The mean over worker processes of the log of each one's mean."""
        processes = [run_.values for run_ in benchmark_.get_runs() if run_.values]
        # No process of these cells was still warming up: none starts 10 % above the median of its later values.
        assert all(values[0] <= statistics.median(values[1:]) * 1.1 for values in processes)
        return statistics.fmean(math.log(statistics.fmean(values)) for values in processes)

    one = benchmark("cpython-3.13t", "countdown/threads-1@1000000")
    two = benchmark("cpython-3.13t", "countdown/threads-2@1000000")
    found = speedups["cpython-3.13t"]
    assert found.value == pytest.approx(math.exp(log_mean(one) - log_mean(two)))
    assert found.low < found.value < found.high


def test_scaling_table_has_workers_and_vs_serial_rows():
    rows = table_rows(render(), "## Scaling with workers")
    assert list(rows) == [
        "countdown threads ×1",
        "countdown threads ×2",
        "countdown threads ×2 vs serial",
        "countdown processes ×1",
        "countdown processes ×2",
        "countdown processes ×2 vs serial",
    ]
    assert rows["countdown threads ×1"] == ["1.00× (100 %)"] * 4
    assert rows["countdown processes ×2"][IDS.index("pypy3.9")] == "—"


def test_geometric_mean_is_over_one_set_of_cells_for_all():
    text = render()
    # pypy3.9's crashed processes x2 leaves the set of every ranked interpreter: 6 of the 7 time cells.
    assert "the 6 time cells (of 7) that depend on the interpreter" in text.split("## Geometric mean", 1)[1]
    # Rank, interpreter, speed, the first of its rank's speed-up over it: keyed by interpreter, fastest first.
    section = text.split("\n## Geometric mean\n", 1)[1].split("\n## ", 1)[0]
    table = [line for line in section.splitlines() if line.startswith("| ")][1:]  # the header left out
    cells = [[part.strip() for part in line.strip().strip("|").split("|")] for line in table if "---" not in line]
    rows = {interpreter: [rank, *rest] for rank, interpreter, *rest in cells}
    assert rows["cpython-3.13"][1] == "baseline"
    assert list(rows) == ["pypy3.9", "cpython-3.11", "cpython-3.13", "cpython-3.13t"]  # fastest first
    for iid in ("pypy3.9", "cpython-3.11", "cpython-3.13t"):
        ratio, low, high = speed_in(rows[iid][1])
        assert low <= ratio <= high
    # A rank is shared only with an interval that holds 1 against the first of the rank, which it names.
    for rank, speed, behind in rows.values():
        first = next(iid for iid, found in rows.items() if found[0] == rank)
        if behind:
            found = re.fullmatch(rf"≈ {re.escape(first)}: ([0-9.]+)× \[([0-9.]+)–([0-9.]+)\]", behind)
            assert found and float(found[2]) <= 1.0 <= float(found[3])
        else:
            assert rows[first] == [rank, speed, behind]


def test_drift_has_a_column_per_round():
    text = render()
    rows = table_rows(text, "## Machine drift")
    assert list(rows) == IDS
    assert all(len(cells) == 3 for cells in rows.values())  # round 1, round 2, spread
    assert "ratios between columns are the figures to trust" in text


def test_incomplete_run_says_how_to_resume(tmp_path):
    run_dir = copy_run(tmp_path)
    run_dir.update_run(status="measuring")
    run_dir.results_file("cpython-3.13t").unlink()
    text = render(run_dir)
    # 7 cells x 2 rounds of cpython-3.13t were never measured.
    assert f"14 steps not run — resume with `nox -s matrix -- --resume {RUN_ID}`" in text
    assert "- **Cells:** 20 of 28 ran, 1 failed, 7 not run yet" in text
    assert table_rows(text, "### primes")["pure kmax=500"][IDS.index("cpython-3.13t")] == "— not run yet"


def test_cells_the_registry_added_since_are_not_blamed_on_the_run():
    # The registry's own workloads have countdown at n=2,000,000, 4 workers, compiled variants and memory cells: never in
    # the fixture.
    text = report.render_report(RUN)
    assert "- **Cells:** 8 of 104 ran, 0 failed, 96 not in this run" in text
    assert table_rows(text, "### countdown")["threads ×4"] == ["— not in this run"] * 4
    assert "Left out: the result files also hold cells that the workloads no longer define: " in text
    assert "`countdown/serial@1000000`" in text


def test_write_report_writes_run_and_latest(tmp_path):
    reports = tmp_path / "reports"
    paths = report.write_report(RUN, reports_dir=reports, workloads=SMALL_WORKLOADS)
    # The report twice, then its charts beside it (this run has no memory cell: no memory chart).
    assert paths == [reports / f"{RUN_ID}.md", reports / "latest.md", *(reports / f"{RUN_ID}-{kind}.png" for kind in ("speedup", "scaling"))]
    text = paths[0].read_text(encoding="utf-8")
    assert paths[1].read_text(encoding="utf-8") == text
    # The charts are embedded where they belong, by a link relative to the report.
    assert f"({RUN_ID}-speedup.png)" in text.split("## Which interpreter should I use?", 1)[1].split("\n## ", 1)[0]
    assert f"({RUN_ID}-scaling.png)" in text.split("## Scaling with workers", 1)[1].split("\n## ", 1)[0]
    for image in paths[2:]:
        assert image.read_bytes().startswith(b"\x89PNG\r\n\x1a\n") and image.stat().st_size > 10_000
    # Without the images, the text is render_report's.
    def without_images(markdown: str) -> list[str]:
        return [line for line in markdown.splitlines() if line and not line.startswith("![")]

    assert without_images(text) == without_images(render())


def test_write_report_defaults_to_run_json_reports_dir(tmp_path):
    run_dir = copy_run(tmp_path)
    run_dir.update_run(reports_dir=str(tmp_path / "published"))
    paths = report.write_report(run_dir, workloads=SMALL_WORKLOADS)
    assert sorted(path.name for path in (tmp_path / "published").iterdir()) == sorted(p.name for p in paths)


def test_failures_file_format_is_the_one_results_writes():
    # The fixture's failures came through RunDir.record_failure: guard against hand edits drifting from it.
    data = json.loads(RUN.failures_file("pypy3.9").read_text())
    assert set(data) == {CRASHED.name}
    assert set(data[CRASHED.name]) == {"kind", "reason", "log"}


def test_free_threading_cost_is_measured_against_the_twin_only():
    text = render()
    section = text.split("## Cost of free-threading", 1)[1].split("\n## ", 1)[0]
    assert "**cpython-3.13t** against its twin **cpython-3.13** (same source, same flags)" in section
    assert ("Published single-thread cost for 3.13: about 40 % (pyperformance), over other benchmarks than these "
            "cells.") in section
    assert "countdown threads ×2:" in section
    assert "| cpython-3.13t (twin of cpython-3.13) |" in text


def test_not_provisioned_families_are_reported(tmp_path):
    copy = tmp_path / "run-small"
    shutil.copytree(RUN.path, copy)
    run_dir = RunDir(copy)
    note = ("no free-threaded 3.14/3.15: no source reachable (uv, python.org, Debian); "
            "`nox -s provision -- --cpython-source PATH` builds one")
    run_dir.update_run(provisioning=[{"family": "pypy", "error": "no source of PyPy worked: uv: skipped"},
                                     {"family": "free-threaded", "error": None, "notes": [note]}])
    text = render(run_dir)
    assert "- not provisioned: pypy: no source of PyPy worked: uv: skipped" in text
    # What provisioning noted although it did not fail, in one line of the interpreters section.
    assert f"- {note}" in text.split("## Interpreters", 1)[1].split("\n## ", 1)[0]


def test_a_named_report_is_written_with_its_charts_and_no_latest(tmp_path):
    """`nox -s report -- results/<run> --name sample`: how reports/sample.md and its charts are published."""
    paths = report.write_report(RUN, reports_dir=tmp_path, workloads=SMALL_WORKLOADS, name="sample")
    assert paths == [tmp_path / "sample.md", tmp_path / "sample-speedup.png", tmp_path / "sample-scaling.png"]
    assert "](sample-speedup.png)" in paths[0].read_text(encoding="utf-8")
    assert not (tmp_path / "latest.md").exists()
