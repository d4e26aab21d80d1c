"""The seed claims in the report, on a real run (tests/fixtures/run-claims; its README says how it was made).

The verdicts are computed from fixed pyperf files, so every assertion here is deterministic; none is about how fast
anything is.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from interpmatrix import model, report, stats
from interpmatrix.sections import claims as claims_section
from interpmatrix.questions import CLAIMS, Claim
from interpmatrix.registry import Cell
from interpmatrix.results import RunDir

RUN = RunDir(Path(__file__).parent / "fixtures" / "run-claims")


@pytest.fixture(scope="module")
def run() -> model.Run:
    return model.load_run(RUN)


def _cells(run: model.Run, claim: Claim, column: model.Column):
    slow = column.benchmark(Cell.parse(claim.slow))
    if claim.versus_jit:
        jit = next(c for c in run.columns if c.interpreter.is_jit)
        return slow, jit.benchmark(Cell.parse(claim.fast))
    return slow, column.benchmark(Cell.parse(claim.fast))


def test_the_fixture_measured_every_claim_somewhere(run: model.Run) -> None:
    for claim in CLAIMS:
        results = stats.claim_results(run, claim)
        assert any(result is not None for result in results.values()), claim.statement


def test_a_claims_figure_is_the_ratio_of_its_two_cells(run: model.Run) -> None:
    for claim in CLAIMS:
        for column in run.columns:
            if claim.versus_jit and column.interpreter.is_jit:
                assert column.id not in stats.claim_results(run, claim)
                continue
            result = stats.claim_results(run, claim)[column.id]
            slow, fast = _cells(run, claim, column)
            if slow is None or fast is None:
                assert result is None
            else:
                assert result is not None and result.ratio == pytest.approx(slow.mean() / fast.mean())


def _result(holds: bool) -> stats.ClaimResult:
    return stats.ClaimResult(ratio=2.0, holds=holds, mark=None)


@pytest.mark.parametrize(
    ("results", "verdict"),
    [
        ({"a": _result(True), "b": _result(True), "c": None}, "holds"),
        ({"a": _result(True), "b": _result(False), "c": _result(True)}, "holds only on a, c"),
        ({"a": _result(False), "b": _result(False)}, "no longer holds"),
        ({"a": None, "b": None}, "not measured"),
        ({}, "not measured"),
    ],
)
def test_verdict_words(results: dict, verdict: str) -> None:
    assert claims_section.verdict_text(results) == verdict


def test_the_report_states_each_claim_beside_its_figures(run: model.Run) -> None:
    text = report.render_report(RUN)
    section = text.split("## Do the seeds' claims still hold?", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("| ") and not line.startswith("| claim")]
    assert len(rows) == len(CLAIMS)
    for claim, row in zip(CLAIMS, rows):
        cells = [cell.strip() for cell in row.strip("|").split(" | ")]
        assert cells[0].startswith(claim.statement)
        assert cells[-1] == claims_section.verdict_text(stats.claim_results(run, claim))
        results = stats.claim_results(run, claim)
        for column, text_cell in zip(run.columns, cells[2:-1]):
            result = results.get(column.id)
            if column.id not in results:
                assert text_cell == "n/a"
            elif result is None:
                assert text_cell == "—"
            else:
                assert text_cell.endswith("✓" if result.holds else "✗")


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
