"""Tests of interpmatrix.compare on two real runs of the same three interpreters on one machine: run-claims (the
default profile) and run-quick (the quick profile); their READMEs say where they come from.

Nothing here times anything: the pyperf files are fixed, so the comparison is deterministic. Variations (a failed
cell, an upgraded interpreter, a missing column) are made on copies in tmp_path, through results.RunDir.
Regenerate the golden comparison after an intended change with
``UPDATE_GOLDEN=1 python3 -m pytest tests/test_compare.py``.
"""

from __future__ import annotations

import math
import os
import re
import shutil
import statistics
from dataclasses import replace
from pathlib import Path

import pyperf
import pytest
from pyperf._utils import geometric_mean, tdist95conf_level  # pyperf's arithmetic and t table, not its t-test

from interpmatrix import changes, cli, compare, markdown, model
from interpmatrix.results import CellFailure, RunDir, read_json, write_json

FIXTURES = Path(__file__).parent / "fixtures"
RUN_A = RunDir(FIXTURES / "run-claims")
RUN_B = RunDir(FIXTURES / "run-quick")
GOLDEN = FIXTURES / "compare-claims-quick.md"
# Two default runs of the same code, back to back: the same profile, so every cell is tested (an A/A comparison).
PAIR_A, PAIR_B = RunDir(FIXTURES / "run-pair-a"), RunDir(FIXTURES / "run-pair-b")
PAIR_GOLDEN = FIXTURES / "compare-pair.md"
IDS = ["cpython-3.12", "cpython-3.13t", "pypy3.9"]
SERIAL = "countdown/serial@2000000"


def copy_run(source: RunDir, tmp_path: Path, name: str | None = None) -> RunDir:
    target = tmp_path / (name or source.path.name)
    shutil.copytree(source.path, target)
    return RunDir(target)


def table_rows(markdown: str, heading: str) -> list[list[str]]:
    """The rows of the first table after the first line that starts with ``heading``, each a list of its cells."""
    lines = markdown.splitlines()
    after = next(i for i, line in enumerate(lines) if line.startswith(heading))
    start = next(i for i, line in enumerate(lines) if i > after and line.startswith("|"))
    rows = []
    for line in lines[start + 2 :]:
        if not line.startswith("|"):
            break
        rows.append([part.strip() for part in line.strip("|").split(" | ")])
    return rows


def section(markdown: str, heading: str) -> str:
    """The text of one section, up to the next heading of its level or above."""
    level = heading.split(" ", 1)[0]
    text = markdown.split(f"\n{heading}\n", 1)[1]
    for line in text.splitlines():
        if line.startswith("#") and len(line.split(" ", 1)[0]) <= len(level):
            return text.split(f"\n{line}\n", 1)[0]
    return text


def test_fixtures_are_the_runs_the_tests_expect() -> None:
    run_a, run_b = RUN_A.read_run(), RUN_B.read_run()
    assert (run_a["run_id"], run_a["profile"], run_a["interpreters"]) == ("2026-11-22T00-17-00Z", "default", IDS)
    assert (run_b["run_id"], run_b["profile"], run_b["interpreters"]) == ("2026-11-22T01-11-26Z", "quick", IDS)


def test_comparison_matches_golden_file() -> None:
    text = compare.render_comparison(RUN_A, RUN_B)
    if os.environ.get("UPDATE_GOLDEN") == "1":
        GOLDEN.write_text(text, encoding="utf-8")
    assert text == GOLDEN.read_text(encoding="utf-8")


def test_same_files_give_the_same_bytes_wherever_they_are(tmp_path: Path) -> None:
    moved_a, moved_b = copy_run(RUN_A, tmp_path, "before"), copy_run(RUN_B, tmp_path, "after")
    assert compare.render_comparison(moved_a, moved_b) == compare.render_comparison(RUN_A, RUN_B)


def test_sections_come_in_order() -> None:
    headings = [line for line in compare.render_comparison(RUN_A, RUN_B).splitlines() if line.startswith("#")]
    assert headings == [
        "# interpmatrix comparison: 2026-11-22T00-17-00Z → 2026-11-22T01-11-26Z",
        "## Summary",
        "## Interpreters",
        "## Cell by cell",
        *(f"### {iid}" for iid in IDS),
        "## Cells not compared",
        "## To check",
    ]


def test_header_has_both_runs_hosts_and_profiles() -> None:
    rows = {row[0]: row[1:] for row in table_rows(compare.render_comparison(RUN_A, RUN_B), "# interpmatrix comparison")}
    assert rows["run"] == ["`2026-11-22T00-17-00Z`", "`2026-11-22T01-11-26Z`"]
    assert rows["date"] == ["2026-11-22 00:17 UTC", "2026-11-22 01:11 UTC"]
    assert rows["cores"] == ["2", "2"]
    assert rows["profile"][0].startswith("`default`") and rows["profile"][1].startswith("`quick`")
    assert rows["values per time cell"] == ["6", "3"]


def test_a_run_of_one_process_per_cell_leaves_every_cell_untested() -> None:
    # Run B (quick) has one worker process per cell and no cell with two to borrow a variance from: no change has an
    # interval, whatever run A's processes say. Different profiles alone no longer stop a test.
    text = compare.render_comparison(RUN_A, RUN_B)
    assert "values in run A and" not in text and "t-test" not in text.split("## To check", 1)[0]
    for iid in IDS:
        rows = table_rows(text, f"### {iid}")
        assert {row[4] for row in rows} == {"not tested"}
        assert all(row[3].endswith("[no interval]") for row in rows)


def test_each_row_is_pyperfs_mean_and_the_ratio_over_worker_processes() -> None:
    text = compare.render_comparison(RUN_A, RUN_B)
    rows = {row[0]: row for row in table_rows(text, "### cpython-3.12")}
    before = pyperf.BenchmarkSuite.load(str(RUN_A.results_file("cpython-3.12"))).get_benchmark(SERIAL)
    after = pyperf.BenchmarkSuite.load(str(RUN_B.results_file("cpython-3.12"))).get_benchmark(SERIAL)
    [a1, a2] = [run.values for run in before.get_runs() if run.values]
    [b1] = [run.values for run in after.get_runs() if run.values]
    # Run A's two processes (125, 119, 117 ms and 116, 115, 115 ms) start within 10 % of the median of their later
    # values: all kept. Run B's one process starts at 139 ms, over 10 % above 123 and 125 ms: still warming up, left
    # out.
    assert a1[0] <= 1.1 * statistics.median(a1[1:]) and a2[0] <= 1.1 * statistics.median(a2[1:])
    assert b1[0] > 1.1 * statistics.median(b1[1:]) and b1[1] <= 1.1 * b1[2]
    log_a = (math.log(statistics.fmean(a1)) + math.log(statistics.fmean(a2))) / 2
    log_b = math.log(statistics.fmean(b1[1:]))
    assert rows["countdown serial"] == [
        "countdown serial",
        markdown.time_text(before),
        markdown.time_text(after),
        f"{markdown.speed_text(math.exp(log_a - log_b))} [no interval]",
        "not tested",
    ]
    memory = rows["gc_cycles strong_memory"]
    assert re.fullmatch(r"[0-9.]+× (less|more) memory \[no interval\]", memory[3])


def test_summary_geometric_mean_is_over_time_cells() -> None:
    run_a, run_b = model.load_run(RUN_A), model.load_run(RUN_B)
    found = changes.measure_changes(changes.compared_cells(run_a, run_b), run_a, run_b).by_interpreter["pypy3.9"]
    timed = [change.ratio for change in found if not change.is_memory]
    rows = {row[0]: row for row in table_rows(compare.render_comparison(RUN_A, RUN_B), "## Summary")}
    # The geometric mean of the cells' changes; none of them has an interval, so neither has their mean.
    assert rows["pypy3.9"][5] == f"{markdown.speed_text(geometric_mean(timed))} [no interval]"
    assert rows["pypy3.9"][6] == str(len(timed)) == "60"
    assert rows["pypy3.9"][7] == "2 not tested"


def test_cells_unavailable_in_both_runs_are_listed_once() -> None:
    text = section(compare.render_comparison(RUN_A, RUN_B), "## Cells not compared")
    assert "No cell was measured in one run and not in the other." in text
    assert "- cpython-3.13t: not run: unavailable in both runs: `countdown/cffi@2000000`, `primes/cffi@500`" in text
    assert "- pypy3.9: not run: unavailable in both runs: `numeric/numexpr-1@1000000`" in text


def test_a_cell_failed_in_one_run_is_listed_with_its_kind(tmp_path: Path) -> None:
    crashed = copy_run(RUN_B, tmp_path)
    crashed.record_failure("cpython-3.12", SERIAL, CellFailure("crash", "worker killed by SIGSEGV", None))
    text = compare.render_comparison(RUN_A, crashed)
    rows = table_rows(text, "## Cells not compared")
    assert len(rows) == 1
    interpreter_id, cell, before, after, reason = rows[0]
    assert (interpreter_id, cell, after) == ("cpython-3.12", f"`{SERIAL}`", "— not run: crash")
    assert reason == "worker killed by SIGSEGV"
    assert before.startswith("118 ms ±")
    assert "countdown serial" not in {row[0] for row in table_rows(text, "### cpython-3.12")}
    summary = {row[0]: row for row in table_rows(text, "## Summary")}
    assert summary["cpython-3.12"][6] == "65"


def test_a_run_against_itself_changes_nothing() -> None:
    text = compare.render_comparison(RUN_A, RUN_A)
    for row in table_rows(text, "## Summary"):
        faster, slower = row[1], row[2]
        assert (faster, slower) == ("0", "0") and row[5].startswith("1.00× faster [")
    # Identical cells, two processes each: every change is 1.00x with an interval around it.
    rows = table_rows(text, "### cpython-3.12")
    assert {row[4] for row in rows} == {"n.s."}
    for row in rows:
        low, high = bounds(row[3])
        assert row[3].startswith("1.00× ") and low < 1 < high
    assert "None of them changed between the runs" in text


def bounds(change: str) -> tuple[float, float]:
    """The interval of a ``1.52× faster [1.41–1.64]`` as run A over run B (``slower``/``more``: inverted)."""
    found = re.search(r"(faster|slower|less memory|more memory) \[([0-9.]+)–([0-9.]+)\]", change)
    low, high = float(found[2]), float(found[3])
    # A bound printed as 0.00 (an interval as wide as one process allows) is an unbounded ratio once inverted.
    return (low, high) if found[1] in ("faster", "less memory") else (1 / high, 1 / low if low else math.inf)


def test_significance_is_the_interval_leaving_out_no_change(tmp_path: Path) -> None:
    # Run B's cpython-3.12 column holds run A's cpython-3.13t values: changes both ways, some of them noise.
    other = copy_run(RUN_A, tmp_path)
    shutil.copyfile(RUN_A.results_file("cpython-3.13t"), other.results_file("cpython-3.12"))
    text = compare.render_comparison(RUN_A, other)
    run = model.load_run(RUN_A)
    memory = {markdown.cell_label(workload, cell) for workload in run.workloads for cell in workload.cells()
              if workload.variant(cell.variant).metric == "memory"}
    marks = {"significant": 0, "n.s.": 0}
    for label, _, _, change, mark in table_rows(text, "### cpython-3.12"):
        # Two worker processes a cell on both sides: every change has an interval, significant where it leaves out 1.
        low, high = bounds(change)
        assert mark == ("significant" if low > 1 or high < 1 else "n.s.")
        if label not in memory:  # the summary counts memory cells apart
            marks[mark] += 1
    assert marks["significant"] and marks["n.s."]  # the fixture exercises both answers
    summary = {row[0]: row for row in table_rows(text, "## Summary")}
    assert int(summary["cpython-3.12"][1]) + int(summary["cpython-3.12"][2]) == marks["significant"]
    assert int(summary["cpython-3.12"][3]) == marks["n.s."]
    # cpython-3.13t has no cffi cells: run A's cpython-3.12 measured them, this file has no result for them.
    not_compared = {row[1]: row for row in table_rows(text, "## Cells not compared")}
    assert not_compared["`primes/cffi@500`"][3] == "— no result"


def test_an_interpreter_upgrade_is_shown(tmp_path: Path) -> None:
    upgraded = copy_run(RUN_B, tmp_path)
    record = read_json(upgraded.interpreter_file("cpython-3.12"))
    record["interpreter"].update(version="3.12.8", implementation_version="3.12.8")
    record["packages"]["numpy"]["version"] = "2.6.0"
    write_json(upgraded.interpreter_file("cpython-3.12"), record)
    text = compare.render_comparison(RUN_A, upgraded)
    rows = table_rows(text, "## Interpreters")
    assert ["cpython-3.12", "version", "3.12.1", "3.12.8"] in rows
    assert ["cpython-3.12", "implementation version", "3.12.1", "3.12.8"] in rows
    assert [
        "cpython-3.12", "packages", "numexpr 2.14.2, numpy 2.5.5", "numexpr 2.14.2, numpy 2.6.0"
    ] in rows
    assert {row[0] for row in rows} == {"cpython-3.12"}


def test_interpreters_in_one_run_only_are_listed(tmp_path: Path) -> None:
    fewer = copy_run(RUN_B, tmp_path)
    fewer.update_run(interpreters=["cpython-3.12", "cpython-3.13t"])
    text = compare.render_comparison(RUN_A, fewer)
    assert "In both runs: cpython-3.12, cpython-3.13t." in text
    assert "Only in run A, not compared: pypy3.9 (3.9.16 (PyPy 7.3.11))." in text
    assert "### pypy3.9" not in text


def test_no_interpreter_in_common_is_said_not_raised(tmp_path: Path) -> None:
    only_cpython = copy_run(RUN_A, tmp_path)
    only_cpython.update_run(interpreters=["cpython-3.12"])
    only_pypy = copy_run(RUN_B, tmp_path)
    only_pypy.update_run(interpreters=["pypy3.9"])
    text = compare.render_comparison(only_cpython, only_pypy)
    assert "## Nothing to compare" in text
    assert "run A ran cpython-3.12; run B ran pypy3.9" in text
    assert "## Summary" not in text


@pytest.mark.parametrize("which", ["a", "b"])
def test_a_folder_that_is_not_a_run_is_refused(tmp_path: Path, which: str) -> None:
    not_a_run = RunDir(tmp_path / "not-a-run")
    runs = (not_a_run, RUN_B) if which == "a" else (RUN_A, not_a_run)
    with pytest.raises(ValueError) as error:
        compare.render_comparison(*runs)
    message = str(error.value)
    assert f"run {which.upper()}: {not_a_run.path} is not a matrix run (no run.json)" in message
    assert "python -m interpmatrix compare results/<run-a> results/<run-b>" in message


def test_main_prints_or_writes_the_markdown(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["compare", str(RUN_A.path), str(RUN_B.path)]) == 0
    assert capsys.readouterr().out == compare.render_comparison(RUN_A, RUN_B)
    out = tmp_path / "compare.md"
    assert cli.main(["compare", str(RUN_A.path), str(RUN_B.path), "--out", str(out)]) == 0
    assert out.read_text(encoding="utf-8") == compare.render_comparison(RUN_A, RUN_B)


def test_main_reports_a_bad_folder_without_a_traceback(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["compare", str(tmp_path), str(RUN_B.path)]) == 2
    assert capsys.readouterr().err.startswith(f"error: run A: {tmp_path} is not a matrix run")


def test_comparison_of_two_runs_of_one_profile_matches_golden_file() -> None:
    text = compare.render_comparison(PAIR_A, PAIR_B)
    if os.environ.get("UPDATE_GOLDEN") == "1":
        PAIR_GOLDEN.write_text(text, encoding="utf-8")
    assert text == PAIR_GOLDEN.read_text(encoding="utf-8")


def test_a_same_profile_comparison_tests_every_cell_both_ways() -> None:
    text = compare.render_comparison(PAIR_A, PAIR_B)
    rows = [line for line in text.split("## Cell by cell", 1)[1].splitlines() if line.startswith("| ")]
    marks = [line.rstrip(" |").rsplit("|", 1)[1].strip() for line in rows if not line.startswith("| cell")
             and not line.startswith("|--")]
    assert "significant" in marks and "n.s." in marks and "not tested" not in marks
    # Each significant change's interval leaves out 1 and holds its figure, which lies near pyperf's ratio of means
    # (the figure is over worker processes, pyperf's over every value).
    run_a, run_b = model.load_run(PAIR_A), model.load_run(PAIR_B)
    found = changes.measure_changes(changes.compared_cells(run_a, run_b), run_a, run_b).by_interpreter["cpython-3.12"]
    significant = [change for change in found if change.mark is None]
    assert significant
    for change in significant:
        interval = change.interval
        assert interval.low <= change.ratio <= interval.high and not interval.low <= 1 <= interval.high
        assert change.ratio == pytest.approx(change.before.mean() / change.after.mean(), rel=0.1)


def write_cells(run: RunDir, interpreter_id: str, means: dict[str, float], scatter: float) -> None:
    """Replace the interpreter's results with ``means``' cells, each in two worker processes of three values: the mean
    ÷ √scatter, then the mean × √scatter (processes' log means log(scatter) apart)."""
    metadata = {"unit": "second", "loops": 1, "interpmatrix_round": 1}
    benchmarks = [
        pyperf.Benchmark([
            pyperf.Run([mean * factor] * 3, metadata={**metadata, "name": cell}, collect_metadata=False)
            for factor in (scatter**-0.5, scatter**0.5)
        ])
        for cell, mean in means.items()
    ]
    run.results_file(interpreter_id).unlink()
    run.failures_file(interpreter_id).unlink(missing_ok=True)
    pyperf.BenchmarkSuite(benchmarks).dump(str(run.results_file(interpreter_id)))


def hand_made(source: RunDir, tmp_path: Path, name: str, means: dict[str, float]) -> RunDir:
    """A copy of ``source`` whose two CPythons (one family: cpython-3.12 and cpython-3.13t) ran only ``means``' cells,
    each in two worker processes of three values: the mean ÷ √1.1, then the mean × √1.1. pypy3.9 keeps its results:
    another family, which lends no variance to theirs."""
    copy = copy_run(source, tmp_path, name)
    for iid in ("cpython-3.12", "cpython-3.13t"):
        write_cells(copy, iid, means, 1.1)
    return copy


def test_a_changes_interval_is_worked_out_from_the_processes(tmp_path: Path) -> None:
    threads = "countdown/threads-1@2000000"
    before = hand_made(RUN_A, tmp_path, "before", {SERIAL: 0.100, threads: 0.200})
    after = hand_made(RUN_A, tmp_path, "after", {SERIAL: 0.050, threads: 0.210})
    rows = {row[0]: row for row in table_rows(compare.render_comparison(before, after), "### cpython-3.12")}
    # Each cell's processes lie log(1.1) apart: variance log(1.1)² / 2 on 1 degree of freedom, the same as that of the
    # same cell on cpython-3.13t, its run's only sibling (1 degree of freedom; the cell itself never counts in its
    # prior): moderated, still log(1.1)² / 2, on 2. The mean of two processes has half of it, a change the sum of two
    # such halves, log(1.1)² / 2, on Satterthwaite's (v)² / (2 × (v/2)² / 2) = 4 degrees of freedom. No between-run
    # variance: the countdown cells of pypy3.9, the same file in both runs, make the workload's median change 0 and
    # most of its cells' squared changes 0.
    half = tdist95conf_level(4) * math.log(1.1) / math.sqrt(2)

    def interval(ratio: float) -> str:
        return f"[{ratio * math.exp(-half):.2f}–{ratio * math.exp(half):.2f}]"

    # serial: 100 ms, then 50 ms: 2.00x faster, far from 1. threads x1: 200 ms, then 210 ms: 1.05x slower, noise.
    assert rows["countdown serial"][3:] == [f"2.00× faster {interval(2.0)}", "significant"]
    assert interval(2.0) == "[1.66–2.41]"
    assert rows["countdown threads ×1"][3:] == [f"1.05× slower {interval(1.05)}", "n.s."]
    assert interval(1.05) == "[0.87–1.27]"



# Two CPythons of one family (each lends the other its cell's variance), ten countdown and ten primes cells each: 40
# cells in two workloads of 20, each workload's cells one group of the between-run variance.
CPYTHONS = ("cpython-3.12", "cpython-3.13t")
COUNTDOWN = [f"countdown/{variant}@2000000" for variant in (
    "serial", "threads-1", "threads-2", "threads-4", "processes-1", "processes-2", "processes-4", "cython", "compiled",
    "c",
)]
PRIMES = [f"primes/{variant}@500" for variant in (
    "pure", "cython", "cffi", "compiled", "c", "cython_threads-1", "cython_threads-2", "cython_threads-4",
    "cffi_threads-1", "cffi_threads-2",
)]
BEFORE = {cell: 0.01 * (1 + index / 10) for index, cell in enumerate(COUNTDOWN + PRIMES)}
# Processes 1 % apart: log means log(1.01) apart, variance log(1.01)² / 2 on 1 df, moderated with the sibling's same
# variance on 2; each run's mean has half of it, a change the sum, se² = log(1.01)² / 2, on Satterthwaite's 4 df.
SE2 = math.log(1.01) ** 2 / 2
T4 = 2.776  # Student's t, 95 %, 4 df, from a printed table
MEDIAN_SQUARED = 0.6744898**2  # a squared normal deviate's median: half of a normal lies within ±0.674


def two_cpythons(tmp_path: Path, name: str, means: dict[str, dict[str, float]]) -> RunDir:
    """A copy of run-claims with only its two CPythons, each having run its ``means``' cells in processes 1 % apart."""
    copy = copy_run(RUN_A, tmp_path, name)
    copy.update_run(interpreters=list(CPYTHONS))
    for iid in CPYTHONS:
        write_cells(copy, iid, means[iid], 1.01)
    return copy


def changes_of(before: RunDir, after: RunDir) -> dict[str, list[changes.CellChange]]:
    run_a, run_b = model.load_run(before), model.load_run(after)
    return changes.measure_changes(changes.compared_cells(run_a, run_b), run_a, run_b).by_interpreter


def test_a_machine_shift_with_scatter_is_between_run_variance_not_40_changes(tmp_path: Path) -> None:
    # Run B: every cell 5 % slower, and alternately 2 % slower or faster again (five of each per interpreter and
    # workload): changes log(1.05 × 1.02) = 0.0686 and log(1.05 / 1.02) = 0.0290.
    after = {cell: mean * 1.05 * 1.02 ** (1 if index % 2 else -1) for index, (cell, mean) in enumerate(BEFORE.items())}
    before_run = two_cpythons(tmp_path, "before", {iid: BEFORE for iid in CPYTHONS})
    after_run = two_cpythons(tmp_path, "after", {iid: after for iid in CPYTHONS})
    found = [change for iid in CPYTHONS for change in changes_of(before_run, after_run)[iid]]
    assert len(found) == 40
    # Within-run intervals alone: half width t(4) × √se² = 0.0195, below the smallest change 0.0290: all 40 flagged.
    assert T4 * math.sqrt(SE2) < math.log(1.05 / 1.02)
    assert all(replace(change, between=None).mark is None for change in found)
    # Each workload: median change log 1.05 (the shift); every cell lies log 1.02 from it, so half lie within
    # 0.674 √(se² + σ²) when log(1.02)² / (se² + σ²) = 0.455: σ² = 0.000812, σ = 2.85 %; τ² = log(1.05)² + σ² =
    # 0.003193, τ = 5.65 %. Half width t(4) √(se² + τ²) = 0.158 (τ² from 20 cells leaves the cell's own 4 df), above
    # the largest change 0.0686: none flagged.
    scatter = math.log(1.02) ** 2 / MEDIAN_SQUARED - SE2
    tau = math.sqrt(math.log(1.05) ** 2 + scatter)
    assert T4 * math.sqrt(SE2 + tau**2) > math.log(1.05 * 1.02)
    assert {change.mark for change in found} == {"n.s."}
    text = compare.render_comparison(before_run, after_run)
    summary = {row[0]: row for row in table_rows(text, "## Summary")}
    assert [summary[iid][1:5] for iid in CPYTHONS] == [["0", "0", "20", "0"]] * 2
    # Each CPython's geometric mean of its 20 changes: log 1.05 (the ±log 1.02 cancel), 1.05x slower. Its processes'
    # part, 20 se² / 20² on Satterthwaite's (40 v)² / (40 v² / 2) = 80 df (t = 1.990, pyperf's table); the workloads'
    # shifts, one draw of the whole run, add up before the square: (log 1.05 × 10/20 + log 1.05 × 10/20)²; their
    # scatter, one draw per workload: σ² × (10/20)² twice. Counted per cell, as before, it would read
    # 1.05x slower [1.05–1.05], a change two runs of the same machine state cannot tell from the code's.
    half = tdist95conf_level(80) * math.sqrt(SE2 / 20 + math.log(1.05) ** 2 + scatter / 2)
    assert [summary[iid][5] for iid in CPYTHONS] == [
        f"1.05× slower [{1.05 * math.exp(-half):.2f}–{1.05 * math.exp(half):.2f}]"
    ] * 2
    assert summary[CPYTHONS[0]][5] == "1.05× slower [0.95–1.17]"
    # The shift is said once, with the sign test's interval (20 cells: ranks 5 and 16, a 1.05 / 1.02 cell and a
    # 1.05 × 1.02 one; 40 cells: ranks 13 and 28, the same two).
    assert f"±{100 * math.sqrt(scatter):.1f} %" == "±2.9 %" and f"±{100 * tau:.1f} %" == "±5.7 %"
    assert "Run B's time cells were 1.05× slower [1.03–1.07] overall" in text
    assert table_rows(text, "Run B's time cells were") == [
        ["countdown", "20", "1.05× slower [1.03–1.07]", "±2.9 %", "±5.7 %"],
        ["primes", "20", "1.05× slower [1.03–1.07]", "±2.9 %", "±5.7 %"],
        ["all time cells", "40", "1.05× slower [1.03–1.07]", "±2.9 %", "±5.7 %"],
    ]


def test_a_real_change_in_3_of_40_cells_is_still_flagged(tmp_path: Path) -> None:
    # Run B: the machine 4 % slower, each cell alternately 1 % slower or faster again (changes h = log(1.04 × 1.01)
    # and l = log(1.04 / 1.01)); and three cells really 25 % faster: countdown serial and threads ×1 on
    # cpython-3.12, primes pure on cpython-3.13t.
    changed = {("cpython-3.12", "countdown/serial@2000000"), ("cpython-3.12", "countdown/threads-1@2000000"),
               ("cpython-3.13t", "primes/pure@500")}
    after: dict[str, dict[str, float]] = {iid: {} for iid in CPYTHONS}
    for iid in CPYTHONS:
        for cells in (COUNTDOWN, PRIMES):
            kept = [cell for cell in cells if (iid, cell) not in changed]
            after[iid].update({cell: BEFORE[cell] * 1.04 * 1.01 ** (-1 if n % 2 else 1) for n, cell in enumerate(kept)})
            after[iid].update({cell: BEFORE[cell] / 1.25 for cell in cells if (iid, cell) in changed})
    before_run = two_cpythons(tmp_path, "before", {iid: BEFORE for iid in CPYTHONS})
    after_run = two_cpythons(tmp_path, "after", after)
    found = changes_of(before_run, after_run)
    # Within-run intervals alone flag all 40 (the smallest change, l = 0.0293, is above t(4) × √se² = 0.0195).
    assert all(replace(change, between=None).mark is None for iid in CPYTHONS for change in found[iid])
    flagged = {(iid, change.cell.name) for iid in CPYTHONS for change in found[iid] if change.mark is None}
    assert flagged == changed
    h, low = math.log(1.04 * 1.01), math.log(1.04 / 1.01)
    # countdown: 9 cells at h, 9 at l, 2 changed; median l (the 10th and 11th in order). Squared distances from it:
    # 9 zeros, 9 of (h - l)², 2 large, median (h - l)²: σ² = (h - l)² / 0.455 - se², τ² = l² + σ². Half width
    # t(4) √(se² + τ²) = 0.1154 < log 1.25 = 0.2231: 1.25 × exp(∓0.1154) = 1.11 .. 1.40.
    countdown_half = T4 * math.sqrt(low**2 + (h - low) ** 2 / MEDIAN_SQUARED)
    # primes: 10 at h, 9 at l, 1 changed; median (h + l) / 2 = log 1.04, every unchanged cell log 1.01 from it:
    # σ² = log(1.01)² / 0.455 - se², τ² = log(1.04)² + σ²: half width 0.1163, 1.25 × exp(∓0.1163) = 1.11 .. 1.40.
    primes_half = T4 * math.sqrt(math.log(1.04) ** 2 + math.log(1.01) ** 2 / MEDIAN_SQUARED)
    assert (countdown_half, primes_half) == (pytest.approx(0.1154, abs=1e-4), pytest.approx(0.1163, abs=1e-4))
    for iid, cell, half in (("cpython-3.12", COUNTDOWN[0], countdown_half), ("cpython-3.13t", PRIMES[0], primes_half)):
        change = next(change for change in found[iid] if change.cell.name == cell)
        assert change.ratio == pytest.approx(1.25)
        assert (change.interval.low, change.interval.high) == (
            pytest.approx(1.25 * math.exp(-half)), pytest.approx(1.25 * math.exp(half)))
        assert compare.change_text(change) == "1.25× faster [1.11–1.40]"
    summary = {row[0]: row for row in table_rows(compare.render_comparison(before_run, after_run), "## Summary")}
    assert summary["cpython-3.12"][1:4] == ["2", "0", "18"] and summary["cpython-3.13t"][1:4] == ["1", "0", "19"]
