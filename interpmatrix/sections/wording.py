"""Sentences and cells that more than one section (or the comparison of two runs) writes, written once."""

from __future__ import annotations

import re

from collections.abc import Callable, Mapping
from typing import Any

from ..intervals import Estimator
from ..markdown import NOT_RUN, first_sentence, md, plural, ratio_text, seconds_text, speed_interval_text
from ..model import Column, Outcome, Run, machine_profile
from ..profiles import Profile
from ..registry import Cell
from ..results import CellFailure
from ..run_info import MachineRun
from ..stats import Ranked
from ..verdicts import payoff_with_startup


def more_rounds_from(run: Run) -> str:
    """Where more rounds of a run's cells come from: a larger budget (``--resume``), or, for a pooled run, which is
    never resumed, another run at another hour pooled with its runs."""
    return "a run at another hour, pooled with these" if run.pooled else "`--budget`"


def jit_warmups_text(profile: Profile, preposition: str) -> str:
    """The warm-ups of a JIT's worker processes: "4 with a JIT", or "4 with PyPy's or a JVM's JIT, 2 with CPython's"
    where CPython's own JIT has a count of its own."""
    cpython = profile.cpython_jit_warmups
    if cpython is None or cpython == profile.jit_warmups:
        return f"{profile.jit_warmups} {preposition} a JIT"
    return f"{profile.jit_warmups} {preposition} PyPy's or a JVM's JIT, {cpython} {preposition} CPython's"


def profile_text(run: Run) -> str:
    """The run's profile and what it does, for a header."""
    name = run.info.profile
    profile = run.profile
    if profile is None:
        return f"`{name}` (no longer defined; see Method for what the files say)"
    return (
        f"`{name}` ({profile.description}): {profile.warmups} warm-up per process, "
        f"{jit_warmups_text(profile, 'with')}; min time {profile.min_time:g} s; "
        f"cell time limit {profile.cell_timeout:g} s"
    )


def machine_profile_text(facts: MachineRun) -> str:
    """One machine's profile and what it does: `` `quick` (a first look: …) ``."""
    profile = machine_profile(facts.profile, facts.profile_settings)
    name = f"`{facts.profile}`"
    return name if profile is None else f"{name} ({profile.description})"


def machine_profile_counts(facts: MachineRun) -> str:
    """One machine's profile with its numbers: `` `quick` (1 round × 1 fresh worker process × 3 values; …) ``."""
    profile = machine_profile(facts.profile, facts.profile_settings)
    name = f"`{facts.profile}`"
    if profile is None:
        return f"{name} (no longer defined; the table below says what the files hold)"
    return (
        f"{name} ({plural(profile.rounds, 'round', 'rounds')} × "
        f"{plural(profile.processes_per_round, 'fresh worker process', 'fresh worker processes')} × "
        f"{profile.values} values; {profile.warmups} warm-up, {jit_warmups_text(profile, 'for')}; min time "
        f"{profile.min_time:g} s)"
    )


def not_run_text(outcome: Outcome, no_result: str) -> str:
    """``— not run: crash``; for a cell without a result or a failure, ``no_result`` (``Run.why_no_result``)."""
    if isinstance(outcome, CellFailure):
        if outcome.kind == "unavailable":
            # Why a binding cannot exist here is the finding itself (e.g. cffi on 3.13t): say it in the cell.
            return f"{NOT_RUN} unavailable: {md(first_sentence(outcome.reason))}"
        return f"{NOT_RUN} not run: {outcome.kind}"
    return f"{NOT_RUN} {no_result}"


def packages_text(packages: Mapping[str, Mapping[str, Any]]) -> str:
    """The workloads' packages in one venv: their versions, or "not installable"."""
    parts = []
    for requirement, package in sorted(packages.items()):
        # A pinned requirement ("pp==1.7.0") is named by its project: the version installed follows it.
        name = re.split(r"[<>=!~\[; ]", requirement, maxsplit=1)[0]
        parts.append(f"{name} {package.get('version') or '?'}" if package.get("ok") else f"{name}: not installable")
    return ", ".join(parts) or NOT_RUN


def gil_word(column: Column) -> str:
    """``GIL on`` / ``GIL off`` / ``GIL varies`` for prose, as the runs recorded it (else as the probe said)."""
    states = column.gil_states() or {column.interpreter.gil_enabled: 0}
    if len(states) > 1:
        return "GIL varies"
    return "GIL on" if True in states else "GIL off"


def payoff_text(estimator: Estimator, column: Column, cell: Cell, other: Column, other_cell: Cell) -> str | None:
    """"pays off after N calls (a script that runs X on cpython-3.12)" for a JIT column, or why it does not. The
    crossing is found in each worker process of the JIT's cell (each its own compiling and its own speed) and given as
    the range over them. It is said to pay off only where the warm cell is surely faster than ``other``'s, and never
    to catch up only where it is surely slower (the 95 % interval of their ratio above or below 1); else the warm
    ratio is shown as what it is, a difference the data cannot tell from none."""
    found = payoff_with_startup(column, cell, other, other_cell)
    if found is None:
        return None
    crossings, with_startup = found
    caught = [crossing for crossing in crossings if crossing is not None]
    warm = estimator.ratio((other, other_cell), (column, cell))
    known = warm is not None and warm.known
    if known and warm.low > 1 and caught:
        calls = sorted(calls for calls, _ in caught)
        seconds = sorted(seconds for _, seconds in caught)
        span = _span(calls, lambda count: f"{count:,}")
        where = _in_processes(len(caught), len(crossings))
        if len(caught) == len(crossings) > 1 and calls[0] != calls[-1]:
            where = f"(the range over its {len(crossings)} worker processes)"
        start_note = "" if with_startup else " (start-up not measured)"
        return (
            f"the JIT pays off after {span} call{'s' if calls[-1] != 1 else ''} {where}: for a script that would "
            f"run {_span(seconds, seconds_text)} or more on {other.id}{start_note}"
        )
    if known and warm.high < 1:
        return f"the JIT never catches up: {speed_interval_text(warm)} than {other.id} even when warm"
    if caught:
        seen = f"the JIT got ahead of {other.id} {_in_processes(len(caught), len(crossings))}"
    else:
        seen = f"the JIT is not ahead of {other.id} in the calls measured"
    if warm is None:
        return seen
    if known and warm.low > 1:
        # Surely faster warm over the cell, yet no process got ahead at its own speed within its own calls.
        return f"{seen}, though warm it runs {speed_interval_text(warm)} than it"
    untested = "a difference the data cannot tell from none" if known else "not tested (no interval)"
    return f"{seen}, and warm it runs {speed_interval_text(warm)} than it: {untested}"


def _in_processes(caught: int, processes: int) -> str:
    if processes == 1:
        return "in its one worker process"
    return f"in each of its {processes} worker processes" if caught == processes else \
        f"in {caught} of its {processes} worker processes"


def _span(sorted_values: list, text: Callable[[Any], str]) -> str:
    """"2" when every value is the same, else "1 to 3": the range of ``sorted_values``, each as ``text`` writes it."""
    low, high = text(sorted_values[0]), text(sorted_values[-1])
    return low if low == high else f"{low} to {high}"


def shared_rank_text(found: Ranked) -> str:
    """``≈ pypy3.11: 1.07× [1.00–1.14]``: the first of the rank ``found`` shares, and that one's speed-up over it;
    empty for the first of a rank."""
    if found.behind is None:
        return ""
    first, gap = found.behind
    return f"≈ {first}: {ratio_text(gap)}"
