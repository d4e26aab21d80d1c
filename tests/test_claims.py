"""The seed claims in the report, on a real run (tests/fixtures/run-claims; its README says how it was made).

The verdicts are computed from fixed pyperf files, so every assertion here is deterministic; none is about how fast
anything is.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from interpmatrix import model, report, stats
from interpmatrix.intervals import AT_THRESHOLD, FAILS, HOLDS, UNDECIDED, Estimator, Interval
from interpmatrix.sections import claims as claims_section
from interpmatrix.questions import CLAIMS, Claim
from interpmatrix.registry import Cell
from interpmatrix.results import RunDir

RUN = RunDir(Path(__file__).parent / "fixtures" / "run-claims")


@pytest.fixture(scope="module")
def run() -> model.Run:
    return model.load_run(RUN)


def _rows(run: model.Run, claim: Claim) -> list[stats.ClaimRow]:
    return stats.claim_rows(Estimator(run), claim)


def test_the_fixture_measured_every_claim_somewhere(run: model.Run) -> None:
    for claim in CLAIMS:
        rows = _rows(run, claim)
        assert any(result is not None for row in rows for result in row.results.values()), claim.statement


def test_a_claims_figure_is_the_ratio_of_its_two_cells(run: model.Run) -> None:
    """The figure is the ratio of the two cells' (geometric) means of process means; a claim against the JIT has one
    row per JIT of the implementation it names, without that implementation's columns."""
    jits = [column for column in run.columns if column.interpreter.is_jit and column.interpreter.implementation == "pypy"]
    for claim in CLAIMS:
        rows = _rows(run, claim)
        assert [row.jit for row in rows] == ([jit.id for jit in jits] if claim.versus_jit else [None])
        for row in rows:
            fast_column = run.column(row.jit) if row.jit else None
            for column in run.columns:
                if row.jit and column.interpreter.implementation == "pypy":
                    assert column.id not in row.results
                    continue
                result = row.results[column.id]
                slow = column.benchmark(Cell.parse(claim.slow))
                fast = (fast_column or column).benchmark(Cell.parse(claim.fast))
                if slow is None or fast is None:
                    assert result is None
                else:
                    # Each process's steady mean lies within its values, so the ratio lies between these bounds.
                    low = min(slow.get_values()) / max(fast.get_values())
                    high = max(slow.get_values()) / min(fast.get_values())
                    assert low <= result.ratio <= high
                    if result.interval.known:
                        assert result.interval.low <= result.ratio <= result.interval.high
                    else:
                        # A cell on several workers measured in one process borrows no variance: no interval, so the
                        # claim is undecided there, never held or failed.
                        assert result.decision == UNDECIDED
                        assert any((c.workers or 1) > 1 for c in (Cell.parse(claim.slow), Cell.parse(claim.fast)))


def _row(**decisions: str) -> stats.ClaimRow:
    claim = CLAIMS[0]
    results = {
        iid: None if found is None else stats.ClaimResult(Interval(2.0, 1.5, 2.5), found)
        for iid, found in decisions.items()
    }
    return stats.ClaimRow(claim, None, results)


@pytest.mark.parametrize(
    ("row", "verdict"),
    [
        (_row(a=HOLDS, b=HOLDS, c=None), "holds"),
        (_row(a=FAILS, b=FAILS), "fails"),
        (_row(a=UNDECIDED), "undecided"),
        (_row(a=HOLDS, b=FAILS, c=HOLDS), "holds on a, c; fails on b"),
        (_row(a=UNDECIDED, b=FAILS, c=HOLDS), "holds on c; fails on b; undecided on a"),
        (_row(a=AT_THRESHOLD, b=AT_THRESHOLD), "at the threshold"),
        (_row(a=UNDECIDED, b=AT_THRESHOLD, c=HOLDS), "holds on c; at the threshold on b; undecided on a"),
        (_row(a=None, b=None), "not measured"),
        (_row(), "not measured"),
    ],
)
def test_verdict_words(row: stats.ClaimRow, verdict: str) -> None:
    assert claims_section.verdict_text(row) == verdict


def test_the_report_states_each_claim_beside_its_figures(run: model.Run) -> None:
    text = report.render_report(RUN)
    section = text.split("## Do the seeds' claims still hold?", 1)[1].split("\n## ", 1)[0]
    lines = [line for line in section.splitlines() if line.startswith("| ") and not line.startswith("| claim")]
    rows = [row for claim in CLAIMS for row in _rows(run, claim)]
    assert len(lines) == len(rows)
    marks = {HOLDS: "✓", FAILS: "✗", AT_THRESHOLD: "≈", UNDECIDED: "undecided"}
    for row, line in zip(rows, lines):
        cells = [cell.strip() for cell in line.strip("|").split(" | ")]
        assert cells[0].startswith(row.claim.statement)
        assert cells[-1] == claims_section.verdict_text(row)
        for column, text_cell in zip(run.columns, cells[2:-1]):
            result = row.results.get(column.id)
            if column.id not in row.results:
                assert text_cell == "n/a"
            elif result is None:
                assert text_cell == "—"
            elif result.decision == UNDECIDED:  # with its reason where it has one: "undecided (2 processes)"
                assert re.search(r" undecided( \([^)]+\))?$", text_cell)
            else:
                assert text_cell.endswith(marks[result.decision])
                assert "[" in text_cell  # every figure with its interval


def test_memory_cells_are_bytes_and_read_as_memory(run: model.Run) -> None:
    text = report.render_report(RUN)
    gc_table = text.split("### gc_cycles", 1)[1].split("\n## ", 1)[0]
    memory_rows = [line for line in gc_table.splitlines() if line.startswith("| strong_memory")]
    assert memory_rows and "MiB" in memory_rows[0]
    assert "memory" in memory_rows[0] and "faster" not in memory_rows[0] and "slower" not in memory_rows[0]
    for column in run.columns:
        bench = column.benchmark(Cell.parse("gc_cycles/weakref_memory@10"))
        if bench is not None:
            assert model.is_memory(bench)
