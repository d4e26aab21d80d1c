""""Do the seeds' claims still hold?": each seed claim beside today's figure per interpreter, decided by its interval."""

from __future__ import annotations

from ..intervals import AT_THRESHOLD, EQUIVALENCE_FACTOR, FAILS, HOLDS, UNDECIDED, Estimator
from ..markdown import NOT_RUN, factor_percent, md, ratio_text, speed_interval_text, table
from ..model import Run
from ..questions import CLAIMS
from ..stats import ClaimResult, ClaimRow, claim_rows
from . import Charts

MARKS = {HOLDS: "✓", FAILS: "✗", AT_THRESHOLD: "≈", UNDECIDED: "undecided"}


def verdict_text(row: ClaimRow) -> str:
    """"holds", "fails", "at the threshold", "undecided", or who falls where, over the interpreters that measured
    it."""
    found = {decision: ids for decision, ids in row.verdict().items() if ids}
    if not found:
        return "not measured"
    if len(found) == 1:
        return next(iter(found))
    return "; ".join(f"{decision} on {', '.join(ids)}" for decision, ids in found.items())


def result_text(result: ClaimResult | None) -> str:
    """``**1.66× [1.52–1.80]** ✓``, ``1.32× [1.20–1.45] ✗``, ``1.47× [1.40–1.55] ≈`` or ``1.45× [1.20–1.82]
    undecided``."""
    if result is None:
        return NOT_RUN
    text = ratio_text(result.interval)
    if result.decision == HOLDS:
        return f"**{text}** ✓"
    if result.machine_bound:
        return f"{text} undecided (cores)"
    if result.beyond_workers:
        return f"{text} undecided (beyond the workers)"
    if result.few_processes:
        return f"{text} undecided ({result.few_processes} {'process' if result.few_processes == 1 else 'processes'})"
    return f"{text} {MARKS[result.decision]}"


def _parallelism_text(estimator: Estimator) -> str:
    found = estimator.machine_parallelism
    return f" (in this run, {speed_interval_text(found)} than one)" if found is not None else ""


def render(run: Run, charts: Charts) -> str | None:
    cells = {cell.name for cell in run.cells}
    claims = [claim for claim in CLAIMS if claim.slow in cells and claim.fast in cells]
    if not claims:
        return None
    estimator = Estimator(run)
    columns = run.columns
    rows = []
    for claim in claims:
        for row in claim_rows(estimator, claim):
            seeds = ", ".join(seed.split(" ", 1)[0] for seed in claim.seeds)
            test = claim.test if row.jit is None else claim.test.replace("on the JIT", f"on {row.jit}")
            rows.append([
                f"{md(claim.statement)} ({seeds})",
                test,
                *(result_text(row.results[column.id]) if column.id in row.results else "n/a" for column in columns),
                verdict_text(row),
            ])
    return "\n".join(
        [
            "## Do the seeds' claims still hold?",
            "",
            "Each claim from the texts the workloads are built on (their seed numbers in brackets), tested by the "
            "ratio of two cells of this run on each interpreter, with its 95 % interval in brackets (see Method): ✓ "
            "where the whole interval passes the test, ✗ where the whole interval fails it, ≈ (at the threshold) where "
            f"it straddles the threshold but lies within {factor_percent(EQUIVALENCE_FACTOR)} of it either way "
            "(the claim's number is right, give or take that much: an equivalence test), *undecided* where it "
            "straddles the threshold more widely, so that noise could put the truth on either side; *undecided "
            "(cores)* where a claim about a second worker found no speed-up on a machine whose own two threads of C "
            f"code did not surely run faster than the claim's threshold{_parallelism_text(estimator)}, unless "
            "even free cores could not have found one (a second worker of its own at most halves the time of two: "
            "✗ where the interval, doubled, still lies below the threshold); *undecided (beyond the workers)* where "
            "the whole interval shows more speed-up than the extra workers can give (more than twice as fast on two "
            "as on one): the one-worker cell ran slow for another reason (a slow mode some of its processes ran in), "
            "so the figure is not the workers'. A claim "
            "against a JIT has one row per JIT interpreter; \"n/a\" is a JIT in its own row. The verdict counts only "
            "the interpreters that ran both cells.",
            "",
            table(["claim (seed)", "test", *(column.id for column in columns), "verdict"], rows),
        ]
    )
