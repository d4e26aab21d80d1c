"""Each report section on hand-made runs: what it must say about a fastest cell, an n.s. difference, a failed cell,
a claim that could not be tested. The values are chosen so that the expected words are worked out by hand."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from test_stats import FAST, SERIAL, THREADS1, THREADS2, bench, interpreter, make_run

from interpmatrix import report
from interpmatrix.model import Column, Run
from interpmatrix.registry import find_workload
from interpmatrix.results import CellFailure, RunDir, RunInfo
from interpmatrix.sections import claims, failures, geomean, header, scaling, verdict, workloads

REPO = Path(__file__).resolve().parent.parent


def toy_run() -> Run:
    base = Column(interpreter("base"), {
        SERIAL.name: bench(SERIAL, [1.9, 2.0, 2.1]),
        FAST.name: bench(FAST, [0.9, 1.0, 1.1]),
        THREADS1.name: bench(THREADS1, [2.0, 2.2, 2.4]),
        THREADS2.name: bench(THREADS2, [3.9, 4.0, 4.1]),
    }, {})
    other = Column(interpreter("other"), {
        SERIAL.name: bench(SERIAL, [0.45, 0.5, 0.55]),  # 2.0 / 0.5: 4.00x faster, far past the noise
        THREADS1.name: bench(THREADS1, [1.8, 2.0, 2.2]),  # 2.2 / 2.0: 1.10x faster, inside the noise
        THREADS2.name: bench(THREADS2, [0.95, 1.0, 1.05]),
    }, {FAST.name: CellFailure("crash", "the process was killed by SIGSEGV", "logs/other/toy__fast@10.log")})
    return make_run([base, other])


def row(text: str, label: str) -> list[str]:
    line = next(line for line in text.splitlines() if line.startswith(f"| {label} "))
    return [cell.strip() for cell in line.strip("|").split("|")]


def test_workload_table_bolds_the_fastest_and_marks_noise_and_failures() -> None:
    text = workloads.render(toy_run(), {})
    assert row(text, "serial") == ["serial", "2.00 sec ± 0.10 sec · baseline", "**500 ms ± 50 ms · 4.00× faster**"]
    assert row(text, "threads ×1")[2] == "**2.00 sec ± 0.20 sec · 1.10× faster (n.s.)**"
    assert row(text, "fast") == ["fast", "**1.00 sec ± 0.10 sec · baseline**", "— not run: crash"]
    assert "see [Cells that did not run](#cells-that-did-not-run)" in text


def test_failures_section_gives_the_reason_and_log() -> None:
    text = failures.render(toy_run(), {})
    assert row(text, "other") == [
        "other", "`toy/fast@10`", "crash", "the process was killed by SIGSEGV", "`logs/other/toy__fast@10.log`",
    ]


def test_geometric_mean_ranks_over_cells_both_ran() -> None:
    text = geomean.render(toy_run(), {})
    # other over base: serial 4.0, threads x1 1.1, threads x2 4.0 (fast failed): (4 * 1.1 * 4) ** (1/3) = 2.60.
    assert row(text, "other") == ["other", "2.60× faster", "3 of 4"]
    assert row(text, "base") == ["base", "baseline", "4 of 4"]


def test_scaling_rows_are_worked_out_per_worker() -> None:
    text = scaling.render(toy_run(), {})
    # other: threads x2 1.0 s against x1 2.0 s is 2.00x on 2 workers, 100 %; against serial 0.5 s, 0.50x (25 %).
    assert row(text, "toy threads ×2") == ["toy threads ×2", "0.55× (28 %)", "2.00× (100 %)"]
    assert row(text, "toy threads ×2 vs serial")[2] == "0.50× (25 %)"


def test_verdict_names_the_fastest_with_its_test() -> None:
    run = toy_run()
    from interpmatrix.questions import Question
    from interpmatrix.stats import answer

    line = verdict.sentence(run, answer(run, Question("Toy loops", "toy", ("serial", "fast"))))
    assert line.startswith("- **Toy loops** ([toy](#toy)): use **other** with `serial`: 4.00× faster than base with `serial`")


def test_verdict_says_no_clear_winner_on_noise() -> None:
    run = toy_run()
    from interpmatrix.questions import Question
    from interpmatrix.stats import answer

    line = verdict.sentence(run, answer(run, Question("Toy threads", "toy", ("threads",), workers=1)))
    # The fastest threads x1 (other's, 2.0 s) against the reference, base's serial (2.0 s): no difference at all.
    assert "no clear winner: the fastest, **other** with `threads ×1`, is 1.00× faster than base with `serial`" in line
    assert "(n.s.)" in line


def gc_run(strong: float, weakref: float) -> Run:
    """gc_cycles' memory cells, one value each (a quick profile's single worker process)."""
    workload = find_workload("gc_cycles")
    cells = {cell.variant: cell for cell in workload.cells()}
    column = Column(interpreter("base"), {
        cells["strong_memory"].name: bench(cells["strong_memory"], [strong], unit="byte"),
        cells["weakref_memory"].name: bench(cells["weakref_memory"], [weakref], unit="byte"),
    }, {})
    info = RunInfo.from_dict({"interpreters": ["base"], "status": "complete"}, "gc-run")
    return Run(RunDir(Path("/nonexistent")), info, [workload], [column], "base", "chosen", None, {})


def test_a_claim_on_single_values_is_shown_as_not_tested() -> None:
    text = claims.render(gc_run(300 * 2**20, 100 * 2**20), {})
    line = next(line for line in text.splitlines() if line.startswith("| Weakref parent links"))
    # 300 MiB / 100 MiB = 3.00x: past the 1.2x threshold, but one value per cell cannot be tested.
    assert "| 3.00× (not tested) ✗ |" in line
    assert line.rstrip(" |").endswith("no longer holds")


def test_header_counts_cells_and_names_the_baseline() -> None:
    text = header.render(toy_run(), {})
    assert "- **Baseline:** base (chosen)" in text
    # 2 columns x 5 cells: 7 measured, 1 failed, 2 never run (other's serial_memory and base's).
    assert "- **Cells:** 7 of 10 ran, 1 failed, 2 not in this run" in text


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
