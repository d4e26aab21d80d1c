""""Do the seeds' claims still hold?": each seed claim beside today's figure per interpreter."""

from __future__ import annotations

from ..markdown import NOT_RUN, md, table, times
from ..model import Run
from ..questions import CLAIMS
from ..stats import ClaimResult, claim_holding, claim_results
from . import Charts


def verdict_text(results: dict[str, ClaimResult | None]) -> str:
    """"holds", "holds only on …", "no longer holds" or "not measured", over the interpreters that measured it."""
    holding, measured = claim_holding(results)
    if not measured:
        return "not measured"
    if len(holding) == len(measured):
        return "holds"
    if not holding:
        return "no longer holds"
    return f"holds only on {', '.join(holding)}"


def result_text(result: ClaimResult | None) -> str:
    if result is None:
        return NOT_RUN
    text = times(result.ratio) + (f" ({result.mark})" if result.mark else "")
    return f"**{text}** ✓" if result.holds else f"{text} ✗"


def render(run: Run, charts: Charts) -> str | None:
    cells = {cell.name for cell in run.cells}
    claims = [claim for claim in CLAIMS if claim.slow in cells and claim.fast in cells]
    if not claims:
        return None
    columns = run.columns
    rows = []
    for claim in claims:
        results = claim_results(run, claim)
        rows.append(
            [
                f"{md(claim.statement)} ({', '.join(seed.split(' ', 1)[0] for seed in claim.seeds)})",
                claim.test,
                *(result_text(results[column.id]) if column.id in results else "n/a" for column in columns),
                verdict_text(results),
            ]
        )
    return "\n".join(
        [
            "## Do the seeds' claims still hold?",
            "",
            "Each claim from the texts the workloads are built on (their seed numbers in brackets), tested by the ratio of two cells of this "
            "run on each interpreter: ✓ where the ratio passes the test, ✗ where it does not; a promised speed-up must "
            "also pass pyperf's t-test ((n.s.): it did not). The verdict counts only the interpreters that ran both "
            "cells; \"n/a\" is the JIT itself in a claim measured against it.",
            "",
            table(["claim (seed)", "test", *(column.id for column in columns), "verdict"], rows),
        ]
    )
