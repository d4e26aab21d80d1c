"""The time budget of a run: how long measuring may take, what it has spent, and which cells an extra round takes.

``measure`` runs the first pass, the profile's rounds of every cell on every interpreter, within the budget. Then,
while time is left, it asks which decisions of the report are still open, runs one more interleaved round of just the
cells they rest on (on just their interpreters; of those, the ones whose decisions the time left can close,
``choose_round``), and asks again. When the first pass may not fit (``Ledger.fits``) it
is split: the cells the report's decisions rest on first (``decisions.first_pass_tiers``), then the extra rounds of
the decisions, then the other cells, whose figures decide nothing (a first look that spent its budget on every cell
once made no decision: each needs a second process); a step whose estimated cost no longer fits is left for
``--resume --budget``. This module keeps the accounts and chooses the round; it measures nothing.

Only measuring counts, from the start of ``measure`` (not provisioning, not building venvs), and it counts across
resumes: run.json keeps the seconds spent, what a cell round has cost on each interpreter, and the cells of the extra
round under way, so that a resumed run finishes that round and goes on with what is left of the budget.
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from .run_info import RunInfo

# Why measuring stopped (run.json's ``budget_stopped``).
NO_BUDGET = "no budget"
# The decisions still open (if any) would each need more rounds than any budget gives them
# (``decisions.REACHABLE_ROUNDS``): saying "every decision made" then would contradict the report's own count. The
# figures measured in one process have had their second one too, where one could run.
EVERY_REACHABLE_DECISION_MADE = "every decision within reach made"
BUDGET_SPENT = "budget spent"
NO_TIME_FOR_A_ROUND = "no time left for another round"
# Decisions are open, but none of their cells can run again: failures are final (a hang would cost its time limit
# every round).
NO_CELL_TO_MEASURE = "the open decisions' cells failed or are not in this run"
# The budget ran out before every cell had its first value (of a split first pass: the decisions' cells, or after
# their extra rounds the others), and `--resume --budget` measures the rest. No round for the figures' intervals
# then: a cell without any value tells more than a second one of another.
FIRST_PASS_CUT = "the budget ran out before the first pass ended"
STOP_REASONS = (
    NO_BUDGET, EVERY_REACHABLE_DECISION_MADE, BUDGET_SPENT, NO_TIME_FOR_A_ROUND, NO_CELL_TO_MEASURE, FIRST_PASS_CUT
)

# What an extra round is for: the cells of the decisions still open, or, once every decision within reach is made,
# a second worker process for the cells whose figures have none to give them an interval
# (``decisions.cells_without_interval``).
FOR_DECISIONS, FOR_INTERVALS = "decisions", "intervals"


def rounds_for(extra_rounds: Sequence[Mapping[str, Any]], purpose: str) -> list[Mapping[str, Any]]:
    """The entries of run.json's ``extra_rounds`` that were for ``purpose`` (an entry without ``"for"``: the
    decisions')."""
    return [entry for entry in extra_rounds if entry.get("for", FOR_DECISIONS) == purpose]


# What a cell round is taken to cost before any has been measured, to tell whether a first pass fits its budget (and
# else to measure the cells the decisions rest on first): a default first pass on the project's 2-core machine took
# 653 s for 971 cell rounds on fourteen interpreters.
FIRST_GUESS_CELL_ROUND_SECONDS = 0.7

def resume_command(run_id: str, minutes: object = "MINUTES") -> str:
    """The command that gives a run ``minutes`` more of measuring (the cells a budget left), as the report quotes it."""
    return f"`nox -s matrix -- --resume {run_id} --budget {minutes}`"


# (interpreter id, cell name): what an extra round measures.
Pair = tuple[str, str]


def time_limit(text: str) -> float:
    """A time limit in seconds (argparse names the option in front of the message): 0, negative, nan and inf would
    fail every try for good, or never stop one."""
    try:
        seconds = float(text)
    except ValueError:
        seconds = math.nan
    if not (math.isfinite(seconds) and seconds > 0):
        raise argparse.ArgumentTypeError(f"must be a number of seconds above 0, e.g. 120 (got {text})")
    return seconds


def seconds_of_minutes(text: str) -> float:
    """``--budget MINUTES`` as seconds (argparse names the option in front of the message)."""
    try:
        minutes = float(text)
    except ValueError:
        minutes = math.nan
    if not (math.isfinite(minutes) and minutes > 0):
        raise argparse.ArgumentTypeError(
            f"give the minutes measuring may take in all, a number above 0, e.g. 10 (got {text!r})"
        )
    return minutes * 60


class Need(NamedTuple):
    """What the cheapest open decision a cell rests on still needs (``decisions.cells_to_measure``): ``rounds`` more
    worker processes of each of its cells (1 without an interval yet: a second process gives one), and
    ``cell_rounds``, those rounds times the cells it rests on: its price, by which a round chooses first."""

    rounds: int
    cell_rounds: int


def choose_round(
    open_pairs: Sequence[Pair],
    rounds_done: Mapping[Pair, int],
    cost: Callable[[str], float],
    left: float,
    needs: Mapping[Pair, Need] | None = None,
) -> list[Pair]:
    """The pairs the next extra round measures, within ``left`` seconds at ``cost`` (of a cell round on an
    interpreter): in priority order, each pair whose decision the time left could still close, that is as long as
    the rounds every chosen pair needs (``Need.rounds``), at its cost, fit in ``left`` all together; a pair that
    would break that is passed over for the ones after it. When none could close in time, each pair whose one round
    still fits in what the pairs before it left. Empty: none fits.

    Priority: the fewest cell rounds its cheapest decision still needs first (``Need.cell_rounds``), so that a claim
    on two cells comes before a verdict over forty candidates; then the fewest rounds done (the figure resting on the
    fewest values gains most from one more); then the order given. The other way round, a default run's last round
    (62 s) went wholly to verdict candidates measured once, of verdicts over 11 to 17 candidates that no one round
    closes, while 13 claims stood within a round or two of a decision: it made none. And a round of every open cell
    spends on decisions that need more rounds than are left: a 10-minute run on fourteen interpreters here had time
    for two such rounds (152 cells each) and left 28 claims that needed one or two more (2026-12-06T06-13-05Z).
    measure gives plan order (workload, cell, interpreter), which keeps each cell's interpreters side by side, so that
    a trimmed round measures both sides of a comparison where it can.
    """
    needs = needs or {}
    one = Need(1, 1)
    # Stable: ties keep the order given.
    ranked = sorted(open_pairs, key=lambda pair: (needs.get(pair, one).cell_rounds, rounds_done.get(pair, 0)))
    chosen: list[Pair] = []
    to_close = 0.0
    for pair in ranked:
        closing = cost(pair[0]) * needs.get(pair, one).rounds
        if to_close + closing <= left:
            chosen.append(pair)
            to_close += closing
    if chosen:
        return chosen
    for pair in ranked:
        if cost(pair[0]) <= left:
            chosen.append(pair)
            left -= cost(pair[0])
    return chosen


@dataclass
class Ledger:
    """What the budget allows and what measuring has spent, kept in run.json between resumes (``to_run``)."""

    # Seconds of measuring in all (None: no extra rounds).
    budget: float | None
    clock: Callable[[], float]
    # ``clock()`` when this measure() began, and the seconds earlier ones of the same run measured.
    started: float
    spent_before: float = 0.0
    first_pass_seconds: float | None = None
    extra_rounds: list[dict[str, Any]] = field(default_factory=list)
    # The pairs of the last extra round: a resumed run finishes them before asking again.
    extra_round_cells: list[Pair] = field(default_factory=list)
    # Interpreter id -> {"seconds": its steps took, "cell_rounds": they measured}.
    step_seconds: dict[str, dict[str, float]] = field(default_factory=dict)
    stopped: str | None = None
    # Cell rounds of the first pass left unmeasured because the budget ran out (counted afresh by every measure()).
    unreached: int = 0
    # The first pass's other cells, when a budget it may not last split it (``RunInfo.first_pass_rest``).
    rest: dict[str, float] | None = None

    @classmethod
    def resume(cls, info: RunInfo, budget: float | None, clock: Callable[[], float], started: float) -> Ledger:
        """The accounts as run.json left them (nothing spent, for a run that has not measured yet)."""
        return cls(
            budget,
            clock,
            started,
            info.measured_seconds or 0.0,
            info.first_pass_seconds,
            [dict(entry) for entry in info.extra_rounds],
            list(info.extra_round_cells),
            {interpreter_id: dict(cost) for interpreter_id, cost in info.step_seconds.items()},
            rest=None if info.first_pass_rest is None else dict(info.first_pass_rest),
        )

    def spent(self) -> float:
        return self.spent_before + (self.clock() - self.started)

    def left(self) -> float:
        """Seconds left of the budget: below 0 once the budget is overspent; 0 without a budget."""
        return 0.0 if self.budget is None else self.budget - self.spent()

    def current_round(self) -> int | None:
        """The number of the last extra round begun, None before the first."""
        return self.extra_rounds[-1]["round"] if self.extra_rounds else None

    def begin_round(self, round_number: int, pairs: Sequence[Pair], purpose: str = FOR_DECISIONS) -> None:
        """An extra round of ``pairs`` begins; ``purpose``: what it is for (``FOR_INTERVALS``: the second process of
        figures measured in one, recorded as ``"for"``; a round of the decisions, the rest, records none)."""
        entry: dict[str, Any] = {"round": round_number, "cells": len(pairs), "seconds": 0.0}
        if purpose != FOR_DECISIONS:
            entry["for"] = purpose
        self.extra_rounds.append(entry)
        self.extra_round_cells = list(pairs)

    def record_step(self, interpreter_id: str, cell_rounds: int, seconds: float, extra: bool, failed: bool) -> None:
        """One step measured: the extra round's time when it was one, and what a cell round costs there (``failed``:
        a cell of the step failed)."""
        if extra:
            self.extra_rounds[-1]["seconds"] += seconds
        if failed:
            # Its time (up to the cell time limit, for a hang) does not come again: a failed cell is not retried.
            return
        cost = self.step_seconds.setdefault(interpreter_id, {"seconds": 0.0, "cell_rounds": 0})
        cost["seconds"] += seconds
        cost["cell_rounds"] += cell_rounds

    def cell_round_seconds(self, interpreter_id: str) -> float:
        """The estimated cost of one more cell round on an interpreter: the mean over the steps measured there
        without a failure (a step's start-up included: an extra round's steps have one too); over every
        interpreter's for one with none; 0 with none at all (nothing to go on: the round is tried)."""
        mine = self.step_seconds.get(interpreter_id)
        costs = [mine] if mine is not None else list(self.step_seconds.values())
        seconds = sum(cost["seconds"] for cost in costs)
        cell_rounds = sum(cost["cell_rounds"] for cost in costs)
        return seconds / cell_rounds if cell_rounds else 0.0

    def fits(self, cell_rounds: Mapping[str, int]) -> bool:
        """Whether the cell rounds still to measure on each interpreter fit in what is left of the budget, at what a
        cell round has cost there (``FIRST_GUESS_CELL_ROUND_SECONDS`` before anything was measured)."""
        guess = {iid: self.cell_round_seconds(iid) or FIRST_GUESS_CELL_ROUND_SECONDS for iid in cell_rounds}
        return self.budget is None or sum(guess[iid] * count for iid, count in cell_rounds.items()) <= self.left()

    def to_run(self) -> dict[str, Any]:
        """The run.json keys of the budget, as of now: the seconds allowed and spent, when the first pass ended, each
        extra round (``{"round": R, "cells": cell rounds planned, "seconds": measured in it}``), why measuring
        stopped, the pairs of the last extra round and what a cell round cost on each interpreter (a resumed run goes
        on with the same plan), the cell rounds of the first pass the budget did not reach, and what its other cells
        took when a budget split it (``first_pass_rest``)."""
        return {
            "budget_seconds": self.budget,
            "measured_seconds": self.spent(),
            "first_pass_seconds": self.first_pass_seconds,
            "extra_rounds": self.extra_rounds,
            "extra_round_cells": [list(pair) for pair in self.extra_round_cells],
            "step_seconds": self.step_seconds,
            "budget_stopped": self.stopped,
            "first_pass_unreached": self.unreached,
            "first_pass_rest": self.rest,
        }


def run_keys() -> tuple[str, ...]:
    """The run.json keys of a budget (``Ledger.to_run``): what a run made of other runs, which has none of its own,
    leaves out."""
    return tuple(Ledger(None, lambda: 0.0, 0.0).to_run())
