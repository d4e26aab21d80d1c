"""Machine drift: how much slower or faster each round ran than the cell's average, per interpreter."""

from __future__ import annotations

from ..markdown import NOT_RUN, percent, table
from ..model import Run
from ..stats import round_drift
from . import Charts


def render(run: Run, charts: Charts) -> str | None:
    drifts = {column.id: round_drift(column) for column in run.columns}
    rounds = sorted({round_number for drift in drifts.values() for round_number in drift})
    if not rounds:
        return None
    rows = []
    for interpreter_id, drift in drifts.items():
        if not drift:
            continue
        row = [interpreter_id] + [percent(drift[r] - 1, signed=True) if r in drift else NOT_RUN for r in rounds]
        rows.append(row + [percent(max(drift.values()) - min(drift.values()))])
    if run.machines:
        # Each machine interleaved its own interpreters, at its own time: nothing interleaves two machines.
        interleaving = (
            "Rounds interleave the interpreters of one machine only, so drift of a machine during its run hits every "
            "column of that machine alike, and none of another machine's (a round number means each machine's own "
            "round); a large spread means the ratios between columns of one machine are the figures to trust, more "
            "than the absolute times or any ratio across machines."
        )
    else:
        interleaving = (
            "Rounds interleave the interpreters, so drift of the machine during the run hits every column alike; a "
            "large spread means the ratios between columns are the figures to trust, more than the absolute times."
        )
    return "\n".join(
        [
            "## Machine drift",
            "",
            "Time of each round against the cell's mean over all rounds (geometric mean over the interpreter's cells; "
            "+ is slower). " + interleaving,
            "",
            table(["interpreter", *(f"round {r}" for r in rounds), "spread"], rows),
        ]
    )
