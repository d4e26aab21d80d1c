"""Each report section on hand-made runs: what it must say about a fastest cell, an n.s. difference, a failed cell,
a claim that could not be tested. The values are chosen so that the expected words, and every 95 % interval, are
worked out by hand (pyperf's t table is the only thing borrowed)."""

from __future__ import annotations

import math
import os
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pyperf
from pyperf._utils import tdist95conf_level  # the t table only
from test_stats import FAST, MEMORY, SERIAL, THREADS1, THREADS2, bench, interpreter, make_run

from interpmatrix import report
from interpmatrix.intervals import Estimator
from interpmatrix.recorded_scatter import BETWEEN_RUN_SD, BETWEEN_RUN_SD_PYPY, BETWEEN_STEP_SD
from interpmatrix.model import Column, Run
from interpmatrix.registry import find_workload
from interpmatrix.results import CellFailure, RunDir
from interpmatrix.run_info import RunInfo
from interpmatrix.sections import claims, failures, geomean, header, method, scaling, verdict, workloads

REPO = Path(__file__).resolve().parent.parent

# Every cell below has two worker processes of three values each: ``mean`` ÷ √APART, then ``mean`` × √APART. Their
# logs lie log(APART) apart around log(mean), so that each cell's log mean is log(mean) and every cell has the same
# between-process variance, log(APART)² / 2: moderated by the pooled variance of its siblings (the same cell on the
# run's other columns of its family, else its column's other cells of the workload) it stays so, on 1 + (the
# siblings' cells) degrees of freedom, and the mean of the two processes has half of it.
APART = 1.1
D = math.log(APART)


def cell(which, mean: float, unit: str = "second"):
    return bench(which, [mean / math.sqrt(APART)] * 3, [mean * math.sqrt(APART)] * 3, unit=unit)


def bounds(ratio: float, *dfs: int, several: int | tuple[int, ...] = 0, time: bool = True, mean: bool = False,
           pypy: bool = False) -> str:
    """``[1.68–2.38]``: the 95 % interval of a ratio of two such cells, or of a geometric mean of k such ratios, given
    the degrees of freedom of each of the 2k cells' variances.

    Each cell's mean has variance D² / 4, each ratio's log the sum of two, D² / 2; a mean of k ratios has
    variance 2k × (D² / 4) / k²; Satterthwaite's degrees of freedom: (Σ v)² / Σ (v² / df), with all the v equal:
    (2k)² / Σ (1 / df). A ratio of time cells adds the between-run variance recorded for it (an input of the
    statistics, not a result): BETWEEN_RUN_SD[s]² (BETWEEN_RUN_SD_PYPY[s]² for ratios with a PyPy cell, ``pypy``), s
    the number of its two cells on several workers (``several``, one per ratio), a mean of k ratios Σ τ² / k², and it
    buys no degrees of freedom. A geometric mean (``mean``) adds
    the steps' between-run variance (BETWEEN_STEP_SD, also an input): every toy cell ran in round 1 of one workload,
    so each interpreter's cells share one step, whose weight in the mean is 1 (k cells x 1 / k), the baseline's -1:
    2 τ_step², whatever k.
    """
    k = len(dfs) // 2
    per_ratio = several if isinstance(several, tuple) else (several,) * k
    recorded = BETWEEN_RUN_SD_PYPY if pypy else BETWEEN_RUN_SD
    between = sum(recorded[s] ** 2 for s in per_ratio) / k**2 if time else 0.0
    between += 2 * BETWEEN_STEP_SD**2 if time and mean else 0.0
    variance = 2 * k * (D**2 / 4) / k**2 + between
    df = (2 * k) ** 2 / sum(1 / found for found in dfs)
    half = tdist95conf_level(math.floor(df)) * math.sqrt(variance)
    low, high = ratio * math.exp(-half), ratio * math.exp(half)
    return f"[{_bound(low)}–{_bound(high)}]"


def _bound(ratio: float) -> str:
    return f"{ratio:.0f}" if ratio >= 100 else f"{ratio:.1f}" if ratio >= 10 else f"{ratio:.2f}"


# base and other are one family (CPython without a JIT, one machine). A cell both ran borrows the other's same cell:
# 1 + 1 degrees of freedom. base's fast has no such sibling (it crashed on other): it falls back on base's other time
# cells of the workload, serial and threads ×1 and ×2, 3 + 1.
SIBLING_DF, BASE_FAST_DF = 2, 4
# A cell on several workers (threads ×2) borrows nothing for a ratio: its own two processes, 1 degree of freedom.
OWN_DF = 1


def toy_run() -> Run:
    base = Column(interpreter("base"), {
        SERIAL.name: cell(SERIAL, 2.0),
        FAST.name: cell(FAST, 1.0),
        THREADS1.name: cell(THREADS1, 2.2),
        THREADS2.name: cell(THREADS2, 4.4),
    }, {})
    other = Column(interpreter("other"), {
        SERIAL.name: cell(SERIAL, 0.5),  # 2.0 / 0.5: 4.00x faster, far past the noise
        THREADS1.name: cell(THREADS1, 2.0),  # 2.2 / 2.0: 1.10x faster, inside the noise
        THREADS2.name: cell(THREADS2, 1.0),
    }, {FAST.name: CellFailure("crash", "the process was killed by SIGSEGV", "logs/other/toy__fast@10.log")})
    return make_run([base, other])


def table_row(line: str) -> list[str] | None:
    """A markdown table's row as its stripped cells; None for a line that is not one, or the header's rule."""
    if not line.startswith("| ") or set(line) <= {"|", "-", " "}:
        return None
    return [cell.strip() for cell in line.strip().strip("|").split("|")]


def row(text: str, label: str) -> list[str]:
    line = next(line for line in text.splitlines() if line.startswith(f"| {label} "))
    return [cell.strip() for cell in line.strip("|").split("|")]


def test_workload_table_bolds_the_fastest_and_marks_noise_and_failures() -> None:
    text = workloads.render(toy_run(), {})
    # pyperf's mean and std dev of the six values m/√1.1 ×3, m×√1.1 ×3: 1.0011 m ± 0.0522 m.
    assert row(text, "serial") == [
        "serial",
        "2.00 sec ± 0.10 sec · baseline",
        f"**501 ms ± 26 ms · 4.00× faster {bounds(4.0, SIBLING_DF, SIBLING_DF)}**",
    ]
    # 2.2 / 2.0 = 1.10, its interval [0.90–1.34] includes 1: n.s. (t(4) × √(D² / 2 + 0.029² / 2) = 0.2001 on the log
    # scale.)
    assert bounds(1.1, SIBLING_DF, SIBLING_DF) == "[0.90–1.34]"
    assert row(text, "threads ×1")[2] == "**2.00 sec ± 0.10 sec · 1.10× faster [0.90–1.34] (n.s.)**"
    assert row(text, "fast") == ["fast", "**1.00 sec ± 0.05 sec · baseline**", "— not run: crash"]
    assert "see [Cells that did not run](#cells-that-did-not-run)" in text


def test_a_cell_without_an_interval_is_not_tested() -> None:
    # One worker process per cell: neither the same cell on the other column (the sibling) nor another cell of the
    # column has two, so there is no variance to build an interval on.
    base = Column(interpreter("base"), {SERIAL.name: bench(SERIAL, [2.0, 2.0, 2.0])}, {})
    other = Column(interpreter("other"), {SERIAL.name: bench(SERIAL, [0.25, 0.25, 0.25])}, {})
    text = workloads.render(make_run([base, other]), {})
    assert row(text, "serial")[2] == "**250 ms ± 0 ms · 8.00× faster [no interval] (not tested)**"


def test_failures_section_gives_the_reason_and_log() -> None:
    text = failures.render(toy_run(), {})
    assert row(text, "other") == [
        "other", "`toy/fast@10`", "crash", "the process was killed by SIGSEGV", "`logs/other/toy__fast@10.log`",
    ]


def test_failures_without_a_log_share_a_line_per_interpreter_and_reason() -> None:
    run = toy_run()
    lacking = "no portable kernel of toy"
    bare = Column(interpreter("bare"), {SERIAL.name: cell(SERIAL, 1.0)}, {
        FAST.name: CellFailure("unavailable", lacking),
        THREADS1.name: CellFailure("unavailable", lacking),
        THREADS2.name: CellFailure("unavailable", "cannot start threads"),
    })
    text = failures.render(make_run([*run.columns, bare]), {})
    # other's crash keeps its table row and log; bare's three cells, two reasons: two lines, in the cells' order.
    assert row(text, "other")[1] == "`toy/fast@10`"
    # (The toy workload's other cells, which no column measured, have lines of their own: "not in this run".)
    assert [line for line in text.splitlines() if line.startswith("- bare, ")] == [
        f"- bare, unavailable (2 cells): {lacking}: `{FAST.name}`, `{THREADS1.name}`",
        f"- bare, unavailable (1 cell): cannot start threads: `{THREADS2.name}`",
        "- bare, not in this run (2 cells): the run finished without this cell: `toy/serial_memory@10`, `toy/c@10`",
    ]
    assert not any(line.startswith("| bare ") for line in text.splitlines())


def test_geometric_mean_ranks_over_the_cells_every_ranked_interpreter_ran() -> None:
    run = toy_run()
    sparse = Column(interpreter("sparse"), {SERIAL.name: cell(SERIAL, 1.0)}, {})
    text = geomean.render(make_run([*run.columns, sparse]), {})
    # other over base: serial 4.0, threads x1 1.1, threads x2 4.4 (fast failed): (4 * 1.1 * 4.4) ** (1/3) = 2.69, a
    # mean of 3 ratios. sparse ran 1 of base's 4 interpreter-dependent cells (under 75 %): not ranked, and the set
    # stays the 3 cells other ran. sparse is of their family all the same: its serial is a sibling of base's and
    # other's, which borrow from two cells (1 + 2 degrees of freedom); the threads cells from one (1 + 1).
    mean = (4.0 * 1.1 * 4.4) ** (1 / 3)
    # threads x2 runs on two workers, against the baseline's threads x2: a ratio of two such cells.
    ranked = {found[1]: found for found in map(table_row, text.splitlines()[4:]) if found}
    speed = f"2.69× faster {bounds(mean, 3, 3, *[SIBLING_DF] * 4, several=(0, 0, 2), mean=True)}"
    assert ranked["other"] == ["1", "other", speed, ""]
    # base ranks second, not beside other: other's 2.69x over it has an interval that clears 1.
    assert ranked["base"] == ["2", "base", "baseline", ""]
    assert ranked["sparse"] == ["", "sparse", "— not ranked: ran 1 of the cells", ""]
    assert "the 3 time cells (of 5) that depend on the interpreter" in text


def test_scaling_rows_are_worked_out_per_worker() -> None:
    text = scaling.render(toy_run(), {})
    # other: threads x2 1.0 s against x1 2.0 s is 2.00x on 2 workers, 100 %; against serial 0.5 s, 0.50x (25 %).
    # base: 2.2 s against 4.4 s, 0.50x (25 %). A cell over itself (x1) is exactly 1, with no interval.
    assert row(text, "toy threads ×1") == ["toy threads ×1", "1.00× (100 %)", "1.00× (100 %)"]
    assert row(text, "toy threads ×2") == [
        "toy threads ×2",
        f"0.50× {bounds(0.5, SIBLING_DF, OWN_DF, several=1)} (25 %)",
        f"2.00× {bounds(2.0, SIBLING_DF, OWN_DF, several=1)} (100 %)",
    ]
    assert row(text, "toy threads ×2 vs serial")[2] == f"0.50× {bounds(0.5, SIBLING_DF, OWN_DF, several=1)} (25 %)"


def test_verdict_names_the_fastest_with_its_test() -> None:
    run = toy_run()
    from interpmatrix.questions import Question
    from interpmatrix.verdicts import answer

    line = verdict.sentence(run, answer(Estimator(run), Question("Toy loops", "toy", ("serial", "fast"))))
    # other's serial (0.5 s) against the runner-up, base's fast (1.0 s), and against the reference, base's serial (2 s).
    assert line == (
        f"- **Toy loops** ([toy](#toy)): use **other** with `serial` (2.00× faster "
        f"{bounds(2.0, BASE_FAST_DF, SIBLING_DF)} than the runner-up, base with `fast`). It is 4.00× faster "
        f"{bounds(4.0, SIBLING_DF, SIBLING_DF)} than base with `serial`."
    )


def test_verdict_says_undecided_on_noise() -> None:
    run = toy_run()
    from interpmatrix.questions import Question
    from interpmatrix.verdicts import answer

    line = verdict.sentence(run, answer(Estimator(run), Question("Toy threads", "toy", ("threads",), workers=1)))
    # The fastest threads x1 (other's, 2.0 s) against base's (2.2 s): 1.10 [0.91–1.33], a tie; against the reference,
    # base's serial (2.0 s): no difference at all.
    assert line.startswith(
        "- **Toy threads** ([toy](#toy)): undecided between **other** with `threads ×1` ≈ base with `threads ×1` "
        f"{bounds(1.1, SIBLING_DF, SIBLING_DF)} (each one's time ÷ the fastest's, 95 % interval): the data cannot tell "
        "them apart, nor tell whether each runs within 10 % of the fastest (more rounds, `--budget`, or what each "
        "costs may decide). "
    )
    assert f"The fastest of them, other with `threads ×1`, is 1.00× faster {bounds(1.0, SIBLING_DF, SIBLING_DF)} than " \
           "base with `serial`: an interval that includes 1×, not told apart from the baseline." in line
    assert "use **" not in line


def gc_run(strong: float, weakref: float, processes: int = 1) -> Run:
    """gc_cycles' memory cells, one value per worker process: one process (a quick profile's), or two APART."""
    workload = find_workload("gc_cycles")
    cells = {cell.variant: cell for cell in workload.cells()}

    def memory(which, peak: float):
        if processes == 1:
            return bench(which, [peak], unit="byte")
        return bench(which, [peak / math.sqrt(APART)], [peak * math.sqrt(APART)], unit="byte")

    column = Column(interpreter("base"), {
        cells["strong_memory"].name: memory(cells["strong_memory"], strong),
        cells["weakref_memory"].name: memory(cells["weakref_memory"], weakref),
    }, {})
    info = RunInfo.from_dict({"interpreters": ["base"], "status": "complete"}, "gc-run")
    return Run(RunDir(Path("/nonexistent")), info, [workload], [column], "base", "chosen", None, {})


def claim_line(run: Run) -> str:
    text = claims.render(run, {})
    return next(line for line in text.splitlines() if line.startswith("| Weakref parent links"))


def test_a_claim_on_single_values_is_undecided() -> None:
    line = claim_line(gc_run(300 * 2**20, 100 * 2**20))
    # 300 MiB / 100 MiB = 3.00x: past the 1.2x threshold, but one value per cell has no interval: nothing decided.
    assert "| 3.00× [no interval] undecided |" in line
    assert line.rstrip(" |").endswith("| undecided")


def test_a_claim_whose_whole_interval_clears_its_threshold_holds() -> None:
    line = claim_line(gc_run(300 * 2**20, 100 * 2**20, processes=2))
    # One interpreter, so no sibling of its family: each memory cell falls back on its column's other memory cell of
    # the workload (never itself), 1 degree of freedom: each on 1 + 1.
    assert f"| **3.00× {bounds(3.0, 2, 2, time=False)}** ✓ |" in line
    assert line.rstrip(" |").endswith("| holds")


def test_header_counts_cells_and_names_the_baseline() -> None:
    text = header.render(toy_run(), {})
    assert "- **Baseline:** base (chosen)" in text
    # 2 columns x 6 cells: 7 measured, 1 failed, 4 never run (serial_memory and c, on both).
    assert "- **Cells:** 7 of 12 ran, 1 failed, 4 not in this run" in text
    # No claim and no question is about the toy workload: no decision to count.
    assert "**Decisions:**" not in text


def test_header_counts_the_decisions_made_and_what_the_open_ones_need() -> None:
    def with_user_workload(run: Run) -> Run:
        # A user's workload: its question ("Your workload", the reference variant) makes two decisions, the winner
        # against the runner-up and against the baseline, here the same two cells.
        workload = replace(run.workloads[0], source="toy.py")
        return replace(run, workloads=[workload])

    run = with_user_workload(toy_run())
    # No claim is about the toy workload: only the verdict's decisions are counted.
    assert "- **Decisions:** 2 of 2 decisions made (each verdict's winner against its runner-up and against the " \
           "baseline: 2 of 2 (100.0 %)), each by a 95 % interval that clears its threshold" in header.render(run, {})
    # other's serial at 1.83 s against base's 2.0 s: 1.093, with the interval's half-width on the log scale
    # t(4) × √(log(1.1)² / 2 + 0.029² / 2) = 0.1956 (each serial borrows the other's variance: 2 degrees of freedom
    # each, 4 for the ratio; 0.029² / 2, a run's share of the between-run variance of a ratio of two cells on one
    # worker) against a distance of log(2.0 / 1.83) = 0.0888 from 1. With k more processes the processes' part,
    # D² / 2, shrinks as 2 / (2 + k), the between-run part stays, and t falls as the ratio gains at least a degree of
    # freedom a round: the first k where t(4 + k)² × (D² / 2 × 2 / (2 + k) + 0.029² / 2) <= 0.0888² is 6 (t(10) =
    # 2.228: 0.00772 <= 0.00789; t(9) = 2.262 gives 0.00879), within REACHABLE_ROUNDS.
    close = Column(run.columns[1].interpreter, {**run.columns[1].benchmarks, SERIAL.name: cell(SERIAL, 1.83)},
                   run.columns[1].failures)
    text = header.render(replace(run, columns=[run.columns[0], close]), {})
    distance = math.log(2.0 / 1.83)
    more = next(k for k in range(1, 100)
                if tdist95conf_level(4 + k) ** 2 * (D**2 / 2 * 2 / (2 + k) + 0.029**2 / 2) <= distance**2)
    assert more == 6
    assert "- **Decisions:** 0 of 2 decisions made" in text
    assert "; 2 undecided: about 6 more rounds of their cells would decide 2 of them if their figures hold " \
           "(`--budget`)" in text
    # After 100 s of measuring whose extra rounds took 8 s for 4 cell rounds (2 s each): both decisions rest on the
    # same 2 cells, 6 rounds each, 12 cell rounds, 24 s; a run of ceil(124 / 60) = 3 minutes would decide them.
    timed = replace(run, columns=[run.columns[0], close],
                    info=replace(run.info, measured_seconds=100.0, extra_rounds=[{"round": 2, "cells": 4, "seconds": 8.0}]))
    assert "would decide 2 of them if their figures hold, roughly 0:24 more of measuring (a run with `--budget 3`)" \
        in header.render(timed, {})


def test_header_counts_the_cells_whose_figures_have_no_interval() -> None:
    # toy_run measures every cell in two processes: every figure has its interval, and the header says nothing of it.
    assert "Figures without an interval" not in header.render(toy_run(), {})
    # threads-2 measured in one process on both interpreters: on several workers, it borrows only from cells on
    # several workers measured twice, and the toy workload has no other: two cells without.
    run = toy_run()
    once = [Column(column.interpreter, {**column.benchmarks, THREADS2.name: bench(THREADS2, [1.0])}, column.failures)
            for column in run.columns]
    text = header.render(make_run(once), {})
    assert "- **Figures without an interval:** 2 cells (2 other figures) measured in one worker process, with no " \
        "variance to borrow (a cell on several workers only from cells on several workers" in text
    assert "`nox -s matrix -- --resume toy-run --budget MINUTES` gives them more time" in text
    # And serial_memory measured once on each: a peak borrows only from its own workload's memory cells, none measured
    # twice here; serial measured once on other, its first warm-up 3.0 s against 1.5 steady: its time borrows base's
    # variance, its warm-up ratio none. Each kind counted apart.
    kinds = [Column(column.interpreter, {**column.benchmarks, MEMORY.name: bench(MEMORY, [9.0e6], unit="byte")},
                    column.failures) for column in once]
    kinds[1].benchmarks[SERIAL.name] = bench(SERIAL, [1.5], warmups=[3.0])
    run = make_run(kinds)
    # A user's workload: its warm-up table shows its reference, serial.
    text = header.render(replace(run, workloads=[replace(run.workloads[0], source="toy.py")]), {})
    assert "- **Figures without an interval:** 5 cells (2 peaks of memory, 1 warm-up ratio, 2 other figures) measured" \
        in text


def user_workload_run(offset: float, ratio: float):
    """A user's workload on two interpreters: three processes of serial each, two values at logs -offset, 0 and
    +offset around 2.0 s on "base" and around 2.0 / ``ratio`` s on "other"."""
    def spread(mean: float):
        return bench(SERIAL, *([mean * math.exp(s)] * 2 for s in (offset, 0.0, -offset)))

    run = make_run([Column(interpreter("base"), {SERIAL.name: spread(2.0)}, {}),
                    Column(interpreter("other"), {SERIAL.name: spread(2.0 / ratio)}, {})])
    return replace(run, workloads=[replace(run.workloads[0], source="toy.py")])


def test_header_says_more_than_a_hundred_rounds_not_how_many() -> None:
    # A user's workload on two interpreters, three processes of serial each at logs ±0.5 around 2.0 s and 2.0 / 1.02
    # s: a ratio 0.0198 from 1 on the log scale, its processes' variance 2 × 0.25 / 3 = 0.167. To fit the band it
    # needs a half-width of ln 1.1 - 0.0198 = 0.0755 at most, above the between-run part 1.96 × 0.029 / √2 = 0.0402:
    # at the normal's 1.96, 3 × 0.167 / (0.0755² / 1.96² - 0.029² / 2) = 471 processes: far beyond any budget, and
    # "more than 100" is all the figure can honestly say.
    text = header.render(user_workload_run(0.5, 1.02), {})
    assert "- **Decisions:** 0 of 2 decisions made" in text
    assert "; 2 would need more than 20 more rounds (up to more than 100: noisy cells" in text


def test_header_counts_the_decisions_whose_figures_more_rounds_would_settle() -> None:
    # "fork()/multiprocessing sidesteps the GIL" (1.5x) on serial at 1.555 s and processes x2 at 1.0 s, three
    # processes each at logs ±0.05 around the cell's: 1.555 lies ln(1.555 / 1.5) = 0.0360 from the threshold, so
    # deciding it needs a half width of at most ln 1.1 - 0.0360 = 0.0593 (at the threshold), below the between-run
    # floor of a ratio with one cell on several workers, 1.96 x 0.047 / √2 = 0.0651: no round decides it where it
    # stands. But the processes give t(4) x sqrt(2 x 0.0025 / 3) = 0.113 of half width (each cell its own variance on
    # 2 degrees of freedom, none borrowed on several workers; 4 for the ratio), more than that floor: the figure may
    # still move. It settles at the first k with t(4 + k)^2 x 2 x 0.0025 / 3 x 3 / (3 + k) <= 0.0651^2.
    run = serial_against_two_processes(1.555, 1.0, offset=0.05)
    floor = 1.96 * 0.047 / math.sqrt(2.0)
    settle = next(k for k in range(1, 100)
                  if tdist95conf_level(4 + k) ** 2 * 2 * 0.05**2 / 3 * 3 / (3 + k) <= floor**2)
    assert settle == 4
    text = header.render(run, {})
    assert "; 1 undecided; 1 lies nearer its threshold than runs at other hours differ, but on processes that " \
           "still scatter more than that: about 4 more rounds would settle its figure, which may then move away " \
           "from it (`--budget`)" in text


FIXTURE_RUN = REPO / "tests" / "fixtures" / "run-claims"
RENDER = f"""
import sys
sys.path.insert(0, {str(REPO)!r})
from interpmatrix import report
from interpmatrix.results import RunDir
sys.stdout.write(report.render_report(RunDir(__import__('pathlib').Path({str(FIXTURE_RUN)!r}))))
"""


def test_the_report_is_the_same_bytes_under_any_hash_seed() -> None:
    outputs = []
    for seed in ("1", "4242"):
        env = {**os.environ, "PYTHONHASHSEED": seed}
        done = subprocess.run([sys.executable, "-c", RENDER], env=env, capture_output=True, check=True)
        outputs.append(done.stdout)
    assert outputs[0] == outputs[1] and len(outputs[0]) > 10_000
    assert outputs[0].decode() == report.render_report(RunDir(FIXTURE_RUN))


def test_every_section_has_the_same_render_function() -> None:
    for section in report.SECTIONS:
        text = section.render(toy_run(), {})
        assert text is None or isinstance(text, str), section.__name__


def test_the_method_says_how_the_machine_state_probe_moved_the_figures() -> None:
    # 24 processes alternately (probe 0.003 s, values 2.0) and (0.006 s, 4.0): speed follows the probe exactly,
    # correlation 1 and slope 1 over 24 processes of one cell; all of the between-process variance goes.
    runs = [pyperf.Run(values, metadata={"name": SERIAL.name, "unit": "second", "loops": 1, "interpmatrix_round": 1,
                                         "interpmatrix_machine_probe": probe}, collect_metadata=False)
            for probe, values in [(0.003, [2.0, 2.0]), (0.006, [4.0, 4.0])] * 12]
    probed = make_run([Column(interpreter("base"), {SERIAL.name: pyperf.Benchmark(runs)}, {})])
    text = method.machine_state(probed)
    assert ("on cells run on one worker, correlation 1.00 and slope θ = 1.00 over 24 processes of 1 cell, about "
            "100.0 % of their between-process variance") in text
    assert "on cells run on several workers, too few processes to fit (not adjusted)" in text
    unprobed = make_run([Column(interpreter("base"), {SERIAL.name: bench(SERIAL, [2.0, 2.0], [4.0, 4.0])}, {})])
    assert "no figure is adjusted" in method.machine_state(unprobed)


def test_the_method_gives_the_machines_parallelism_from_the_parallelism_probe() -> None:
    # THREADS2: 9 processes whose parallelism probe took 10 ms on one thread and 20 ms / s on each of two at once,
    # s = 1.1 ... 1.9: median 1.5, the sign test's interval [1.1-1.9] (order statistics 1 and 9 of 9).
    def probed(**recorded: str) -> Run:
        runs = [pyperf.Run([2.0, 2.0], metadata={"name": THREADS2.name, "unit": "second", "loops": 1,
                                                 "interpmatrix_round": 1, "interpmatrix_parallelism_one": 0.010,
                                                 "interpmatrix_parallelism_two": 0.020 / (1.1 + i / 10), **recorded},
                           collect_metadata=False)
                for i in range(9)]
        return make_run([Column(interpreter("base"), {THREADS2.name: pyperf.Benchmark(runs)}, {})])

    # No probe name recorded: a run of the harness that hashed one shared buffer.
    text = method.machine_state(probed())
    assert ("also times sha256 over one 12 MiB buffer both threads read (the probe of runs measured before "
            "2026-12-05's evening") in text
    assert "PBKDF2" not in text
    assert "1.50× [1.10–1.90] in this run, the median of the CPython processes'" in text
    # Recorded as PBKDF2's, the harness's probe now: the same figure, said to come from it.
    pbkdf2 = method.machine_state(probed(interpmatrix_parallelism_probe="pbkdf2"))
    assert ("also times PBKDF2-HMAC-SHA256 of 60,000 iterations (compute on a few bytes) on two threads at once, on "
            "one thread twice, then on two again") in pbkdf2
    assert "sha256 over" not in pbkdf2
    assert "1.50× [1.10–1.90] in this run" in pbkdf2
    unprobed = make_run([Column(interpreter("base"), {THREADS2.name: bench(THREADS2, [2.0, 2.0], [4.0, 4.0])}, {})])
    assert "sha256" not in method.machine_state(unprobed)


def serial_against_two_processes(serial_mean: float, processes_mean: float, offset: float = 0.01) -> Run:
    """countdown on one interpreter, its serial and processes x2 cells only, three processes each whose logs lie at
    ±``offset`` around the cell's mean: what "fork()/multiprocessing sidesteps the GIL" is tested on."""
    from interpmatrix.registry import Cell

    serial, processes = Cell("countdown", "serial", None, 2000000), Cell("countdown", "processes", 2, 2000000)

    def three(cell: Cell, mean: float) -> pyperf.Benchmark:
        return bench(cell, *[[mean * math.exp(shift)] * 3 for shift in (-offset, 0.0, offset)])

    column = Column(interpreter("base"), {serial.name: three(serial, serial_mean),
                                          processes.name: three(processes, processes_mean)}, {})
    return replace(make_run([column]), workloads=[find_workload("countdown")])


def test_header_names_the_decisions_no_round_of_the_run_can_make() -> None:
    # countdown on one interpreter, three processes of each cell: serial at 1.555 s, processes x2 at 1.00 s, the logs
    # of each cell's processes at ±0.01 around its mean. "fork()/multiprocessing sidesteps the GIL" asks for 1.5x:
    # 1.555 is ln(1.555 / 1.5) = 0.0360 from it, so it decides once the interval lies within ln 1.1 - 0.0360 = 0.0593
    # of it (at the threshold). processes x2 runs on two workers and serial on one: their ratio carries a run's share
    # of the between-run scatter of such a ratio, 0.047 / √2, of which 1.96 x 0.047 / √2 = 0.0651 stays at any count
    # of processes. No round of this run can decide it; the other decisions (the verdict's processes x2 against
    # serial, 1.555 against 1) are made.
    text = header.render(serial_against_two_processes(1.555, 1.0), {})
    assert "; 1 lies closer to its threshold than runs of the same code at other hours differ (the between-run " \
           "scatter of the Method section), which no round of this run narrows: runs at other hours would tell, " \
           "pooled with this one (`nox -s pool -- --out results/<name> results/toy-run results/<a run at another " \
           "hour>`)" in text
    assert "1 undecided" in text
    # The one claim whose two cells ran is that one, counted apart from the verdict's: the share a reader compares.
    assert "(each claim on each interpreter: 0 of 1 (0.0 %); each verdict's winner against its runner-up and " \
           "against the baseline: " in text


def test_header_and_claims_set_aside_a_speed_up_beyond_what_the_workers_can_give() -> None:
    # countdown on one interpreter, three processes of each cell, their logs at ±0.01 around the cell's: serial at
    # 3.0 s, processes x2 at 1.0 s. "fork()/multiprocessing sidesteps the GIL" (1.5x): 3.0x with an interval whose
    # half width is at most t(4) x √(2 x 0.0001 / 3 + 0.047² / 2) = 2.776 x 0.0342 = 0.095 on a log scale, so at
    # least 3.0 / e^0.095 = 2.73x: more than two workers can make the same work faster than one.
    run = serial_against_two_processes(3.0, 1.0)
    text = header.render(run, {})
    assert "; 1 show more speed-up from more workers than they can give (more than N times as fast on N times the " \
           "workers): the slow cell ran slow for another reason, so the figure is not the workers', and no round of " \
           "this run tells what they give" in text
    table = claims.render(run, {})
    row = next(line for line in table.splitlines() if line.startswith("| fork()/multiprocessing"))
    assert "undecided (beyond the workers)" in row and "✓" not in row


def test_header_and_claims_leave_a_missing_speed_up_to_the_machine_when_its_cores_were_busy() -> None:
    # countdown on one interpreter: serial at 1.2 s and processes x2 at 1.0 s, nine processes each at ±1 %: "fork()/
    # multiprocessing sidesteps the GIL" (≥ 1.5x) measures 1.2x, wholly below 1.5. But each process of processes x2
    # timed its parallelism probe at 10 ms on one thread and 20 ms / 1.25 on each of two: the machine ran two
    # threads only 1.25x faster than one (nine equal speed-ups: [1.25-1.25]), not surely above 1.5. The claim is
    # left open as the machine's; the verdict's decisions (processes x2 against serial, against the baseline) are
    # made.
    from interpmatrix.registry import Cell

    workload = find_workload("countdown")
    serial, processes = Cell("countdown", "serial", None, 2000000), Cell("countdown", "processes", 2, 2000000)
    offsets = [-0.01, 0.0, 0.01] * 3
    pairs = pyperf.Benchmark([
        pyperf.Run([1.0 * math.exp(offset)] * 3, metadata={
            "name": processes.name, "unit": "second", "loops": 1, "interpmatrix_round": 1,
            "interpmatrix_parallelism_one": 0.010, "interpmatrix_parallelism_two": 0.020 / 1.25,
        }, collect_metadata=False)
        for offset in offsets
    ])
    column = Column(interpreter("base"), {
        serial.name: bench(serial, *[[1.2 * math.exp(offset)] * 3 for offset in offsets]),
        processes.name: pairs,
    }, {})
    run = replace(make_run([column]), workloads=[workload])
    text = header.render(run, {})
    assert "; 1 found no speed-up from a second worker where the machine's own two threads of C code ran 1.25× " \
           "faster [1.25–1.25] than one (the Method section's parallelism probe)" in text
    assert "1 undecided" in text
    assert "1.20× [" in claims.render(run, {}) and "undecided (cores)" in claims.render(run, {})


def test_the_method_names_the_columns_whose_workers_shifted_their_machine_code() -> None:
    """A column whose worker processes recorded how many small loops they compiled first (PyPy's) is named in the
    Method with why; a column whose workers recorded none is not, and a run with no such column says nothing of it."""
    from interpmatrix.profiles import profile_from

    def column(iid: str, shifts: list[int | None]) -> Column:
        runs = [pyperf.Run([2.0, 2.0], metadata={"name": SERIAL.name, "unit": "second", "loops": 1,
                                                  "interpmatrix_round": 1,
                                                  **({} if shift is None else {"interpmatrix_code_shift": shift})},
                           collect_metadata=False)
                for shift in shifts]
        return Column(interpreter(iid), {SERIAL.name: pyperf.Benchmark(runs)}, {})

    default = profile_from("default", None)
    shifted = replace(make_run([column("base", [None, None]), column("pypy", [3, 0])]), profile=default)
    text = method.render(shifted, {})
    assert ("On pypy each worker process first compiled a random number of small loops, so that its processes "
            "sample where the JIT places the kernel's machine code") in text
    plain = replace(make_run([column("base", [None, None]), column("other", [None, None])]), profile=default)
    assert "small loops" not in method.render(plain, {})


def test_the_method_says_how_memory_cells_called_their_kernel_only_when_the_run_recorded_it() -> None:
    """Runs measured since memory cells made a fixed number of calls, each from a collected heap, record the count on
    every memory run; the Method says so for them, and nothing of it for a run measured before."""
    from interpmatrix.profiles import profile_from

    def column(iid: str, calls: int | None) -> Column:
        runs = [pyperf.Run([14_000_000.0], metadata={"name": "gc_cycles/strong_memory@10", "unit": "byte", "loops": 1,
                                                     "interpmatrix_round": 1,
                                                     **({} if calls is None else {"interpmatrix_memory_calls": calls})},
                           collect_metadata=False)
                for _ in range(2)]
        return Column(interpreter(iid), {"gc_cycles/strong_memory@10": pyperf.Benchmark(runs)}, {})

    default = profile_from("default", None)
    recorded = replace(make_run([column("base", 10), column("other", 10)]), profile=default)
    assert ("one value per process: the peak over 10 calls of the kernel (no warm-ups, on every interpreter), each "
            "started from a collected heap (`gc.collect()`)") in method.render(recorded, {})
    before = replace(make_run([column("base", None), column("other", None)]), profile=default)
    text = method.render(before, {})
    assert "one value per process." in text and "collected heap" not in text
