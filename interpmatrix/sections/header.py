"""The header: title, machine (each machine, for a merged run), command, profile, and how trustworthy the figures
are."""

from __future__ import annotations

import math
import statistics
from collections.abc import Mapping, Sequence
from typing import Any

from ..budget import FOR_DECISIONS, FOR_INTERVALS, resume_command, rounds_for
from ..decisions import (
    OWN_PROCESSES, REACHABLE_ROUNDS, Decision, cells_without_interval, decisions, warmups_without_interval,
)
from ..intervals import EQUIVALENCE_FACTOR, Estimator
from ..markdown import date_text, duration, factor_percent, percent, plural, requirement_version, speed_interval_text
from ..model import Run, is_memory, machine_profile
from ..stats import NOISY_RSD, cell_counts, noise, steps_left
from . import Charts
from .wording import machine_profile_text, more_rounds_from, profile_text

# Beyond this many more rounds an estimate is shown as "more than" it: at hundreds of rounds the figure has moved long
# before, and a default run's noisy thread cells near their threshold came out at up to 4,808.
FAR_ROUNDS_SHOWN = 100
# A pooled run's wall time is its runs' own added up: the hours between them were not spent measuring.
POOLED_WALL_TIME = " (the runs' own, added up)"
# The extra rounds by what they were for, as the Budget line names them.
ROUND_PURPOSES = {
    FOR_DECISIONS: "of the cells of open decisions",
    FOR_INTERVALS: "of the cells measured in one process, for their figures' intervals",
}


def _known(value: object, default: str) -> object:
    return default if value is None else value


def _machines_lines(run: Run) -> list[str]:
    """The header of a merged run: each machine with its own run, then what they share (pyperf, profile)."""
    info, machines = run.info, run.machines
    lines = [f"- **Machines:** {len(machines)} runs merged, one per machine; a column's id ends with `@<machine>`:"]
    for name, facts in machines.items():
        host = facts.host
        lines.append(
            f"    - **{name}:** {_known(host.cpu, 'unknown')}, {_known(host.cores, '?')} cores; "
            f"{_known(host.os, 'unknown')}; run `{_known(facts.run_id, '?')}` (`{_known(facts.command, '?')}`), "
            f"profile `{facts.profile}`, {date_text(facts.started)}, wall time {duration(facts.wall_time)}"
        )
    versions = {name: requirement_version(facts.bench_requirements, "pyperf") for name, facts in machines.items()}
    if len(set(versions.values())) == 1:
        pyperf_text = next(iter(versions.values()))
    else:
        pyperf_text = ", ".join(f"{version} on {name}" for name, version in versions.items())
    if info.profiles_differ:
        profiles = ", ".join(f"{machine_profile_text(facts)} on {name}" for name, facts in machines.items())
        profile = f"differs between machines: {profiles}."
    else:
        profile = f"{profile_text(run)}; on every machine"
    wall_time = duration(info.wall_time)
    if info.wall_time is not None:
        wall_time += " (the machines' own wall times added up)"
    return lines + [
        f"- **pyperf:** {pyperf_text}",
        f"- **Command:** `{_known(info.command, '?')}`",
        f"- **Profile:** {profile}",
        f"- **Wall time:** {wall_time}",
    ]


def pooled_line(run: Run) -> str:
    """The runs a pooled run was made of, each with its hour, and what pooling them does to its intervals."""
    runs = "; ".join(
        f"`{_known(pooled.run_id, '?')}` ({date_text(pooled.started)}, profile `{_known(pooled.profile, '?')}`, "
        f"wall time {duration(pooled.wall_time)})"
        for pooled in run.pooled
    )
    return (
        f"- **Pooled:** {len(run.pooled)} runs of this machine at other hours, each a draw of its own hour: every "
        "ratio carries the between-run scatter of the Method section once per run its processes came from (a k-th of "
        f"it for a ratio measured alike in k runs): {runs}"
    )


def _unfinished_machines_lines(run: Run) -> list[str]:
    """A status line per machine whose own run did not finish: that run, on that machine, is what resumes."""
    lines = []
    for name, facts in run.machines.items():
        if facts.status == "complete":
            continue
        # The steps that machine's columns still owe under the profile it measured with.
        profile = machine_profile(facts.profile, facts.profile_settings)
        left = steps_left(run, run.machine_columns(name), profile.rounds if profile is not None else 0)
        lines.append(
            f"- **Status: not complete** on {name} (its run.json says {facts.status or 'nothing'!r}): {left} "
            f"steps not run — resume its own run there with `nox -s matrix -- --resume {_known(facts.run_id, '?')}`, "
            "then merge the runs again"
        )
    return lines


def budget_line(run: Run) -> str | None:
    """How the measuring time was spent: the first pass, the extra rounds on open decisions (with a first pass the
    budget split, the other cells' first pass after them), those for the figures' intervals, and why it stopped."""
    info = run.info
    if info.measured_seconds is None:
        return None  # a run measured before budgets, or a merged run
    budget = f"{duration(info.budget_seconds)} of measuring" if info.budget_seconds else "none"
    line = f"- **Budget:** {budget}; spent {duration(info.measured_seconds)}"
    rest = info.first_pass_rest
    if info.first_pass_seconds is not None:
        first = "the first pass (every cell, the profile's rounds)" if rest is None else (
            # No order: they go tier by tier only where even they may not fit the budget (measure.measure).
            "the first pass of the cells the decisions rest on (each workload's reference cells, the claims' cells "
            "and the verdicts' candidates)"
        )
        line += f": {first} {duration(info.first_pass_seconds)}"
    line += _rounds_text(info.extra_rounds, FOR_DECISIONS)
    if rest is not None and rest["cell_rounds"]:
        cells = plural(int(rest["cell_rounds"]), "cell round", "cell rounds")
        line += f", then the first pass of the other cells ({cells}, {duration(float(rest['seconds']))})"
    unreached = info.first_pass_unreached
    if unreached:
        line += f", with {plural(unreached, 'cell round', 'cell rounds')} of the first pass not measured"
        measured = sum(float(cost["cell_rounds"]) for cost in info.step_seconds.values())
        if measured:
            seconds = unreached * sum(float(cost["seconds"]) for cost in info.step_seconds.values()) / measured
            command = resume_command(run.run_id, math.ceil(seconds / 60))
            line += f": {command} measures them (roughly {duration(seconds)})"
    line += _rounds_text(info.extra_rounds, FOR_INTERVALS)
    if info.budget_stopped:
        line += f"; stopped: {info.budget_stopped}"
    return line


def _rounds_text(extra_rounds: Sequence[Mapping[str, Any]], purpose: str) -> str:
    """", then N extra rounds <what they were for> (cell rounds, time)", or nothing without such rounds."""
    rounds = rounds_for(extra_rounds, purpose)
    if not rounds:
        return ""
    cells = sum(int(r.get("cells", 0)) for r in rounds)
    seconds = sum(float(r.get("seconds", 0.0)) for r in rounds)
    return (f", then {plural(len(rounds), 'extra round', 'extra rounds')} {ROUND_PURPOSES[purpose]} "
            f"({plural(cells, 'cell round', 'cell rounds')}, {duration(seconds)})")


def figures_line(run: Run, estimator: Estimator) -> str | None:
    """How many cells the tables show without an interval, of which kinds, and what would give them one."""
    found = cells_without_interval(run, estimator)
    if not found:
        return None
    count = len(found)
    # A merged run is not resumed: each machine's own run is, then merged again.
    if run.machines:
        more = "each machine's run resumed with `--budget MINUTES`"
    elif run.pooled:
        more = f"{more_rounds_from(run)},"  # a pooled run is not resumed
    else:
        more = resume_command(run.run_id)
    return (
        f"- **Figures without an interval:** {plural(count, 'cell', 'cells')} ({_kinds(run, found)}) measured in one "
        "worker process, with "
        "no variance to borrow (a cell on several workers only from cells on several workers, a peak of memory only "
        "from its own workload's, a warm-up ratio from none), "
        "so the tables show their figures with \"[no interval]\", untested; once every decision "
        "within reach is made, the budget gives each such cell a second process while it lasts: "
        f"{more} gives them more time"
    )


def _kinds(run: Run, found: set[tuple[str, str]]) -> str:
    """What the figures without an interval are: peaks of memory, warm-up ratios, other figures."""
    columns = {column.id: column for column in run.columns}
    cells = {cell.name: cell for cell in run.cells}
    benches = {key: columns[key[0]].benchmark(cells[key[1]]) for key in found}
    memory = {key for key, bench in benches.items() if bench is not None and is_memory(bench)}
    warmups = (found & warmups_without_interval(run)) - memory
    others = len(found) - len(memory) - len(warmups)
    kinds = [
        plural(len(memory), "peak of memory", "peaks of memory") if memory else "",
        plural(len(warmups), "warm-up ratio", "warm-up ratios") if warmups else "",
        plural(others, "other figure", "other figures") if others else "",
    ]
    return ", ".join(kind for kind in kinds if kind)


def seconds_to_decide(run: Run, open_decisions: list[Decision]) -> float | None:
    """Roughly how long the extra rounds that would decide ``open_decisions`` take: each of their cells for the most
    rounds one of its decisions needs, at the mean time of a cell round in this run's extra rounds (None: it had
    none to time)."""
    rounds = [entry for entry in run.info.extra_rounds if entry.get("cells")]
    if not rounds:
        return None
    per_cell_round = sum(float(entry["seconds"]) for entry in rounds) / sum(int(entry["cells"]) for entry in rounds)
    needed: dict[tuple[str, str], int] = {}
    for decision in open_decisions:
        for key in decision.cells:
            needed[key] = max(needed.get(key, 0), decision.rounds_to_decide() or 1)
    return sum(needed.values()) * per_cell_round


def decisions_line(run: Run, estimator: Estimator) -> str | None:
    """How many of the report's decisions the data made, and what the open ones would need."""
    found = decisions(run, estimator)
    if not found:
        return None
    made = [d for d in found if d.decided]
    # Claims and the verdict's decisions counted apart: the share of claims decided is the figure a reader compares
    # between runs (a verdict over many candidates can stay open where every claim closed).
    kinds = []
    for what, group in (
        ("each claim on each interpreter", [d for d in found if d.kind == "claim"]),
        ("each verdict's winner against its runner-up and against the baseline",
         [d for d in found if d.kind != "claim"]),
    ):
        if group:
            decided = sum(d.decided for d in group)
            kinds.append(f"{what}: {decided} of {len(group)} ({percent(decided / len(group))})")
    line = (
        f"- **Decisions:** {len(made)} of {plural(len(found), 'decision', 'decisions')} made ({'; '.join(kinds)}), "
        "each by a 95 % interval that clears its threshold, or lies within "
        f"{factor_percent(EQUIVALENCE_FACTOR)} of it either way (at the threshold; for a verdict, a tie)"
    )
    still_open = [d for d in found if not d.decided]
    if not still_open:
        return line
    estimates = [(d, d.rounds_to_decide()) for d in still_open]
    near = [(d, rounds) for d, rounds in estimates if rounds is not None and rounds <= REACHABLE_ROUNDS]
    few = [d for d, rounds in estimates if rounds is not None and rounds > REACHABLE_ROUNDS and d.reachable]
    far = [rounds for d, rounds in estimates if rounds is not None and not d.reachable]
    beyond = [d for d in still_open if d.beyond_rounds]
    unsettled = [d for d in still_open if d.unsettled]
    cores = [d for d in still_open if d.machine_bound]
    beyond_workers = [d for d in still_open if d.beyond_workers]
    line += f"; {len(still_open)} undecided"
    if near:
        line += (
            f": about {plural(max(rounds for _, rounds in near), 'more round', 'more rounds')} of their cells would "
            f"decide {len(near)} of them if their figures hold"
        )
        seconds = seconds_to_decide(run, [d for d, _ in near])
        if run.pooled:
            line += f" ({more_rounds_from(run)})"
        elif seconds is not None and run.info.measured_seconds is not None:
            minutes = math.ceil((run.info.measured_seconds + seconds) / 60)
            line += f", roughly {duration(seconds)} more of measuring (a run with `--budget {minutes}`)"
        else:
            line += " (`--budget`)"
    if few:
        line += (
            f"; {len(few)} rest on fewer than {OWN_PROCESSES} worker processes of a cell, too few to tell how many "
            f"rounds they need ({more_rounds_from(run) if run.pooled else 'a larger `--budget`'} gives them more)"
        )
    if far:
        # The estimate assumes the figure stays where it is; hundreds of rounds say only "far", not how far.
        most = f"about {max(far)}" if max(far) <= FAR_ROUNDS_SHOWN else f"more than {FAR_ROUNDS_SHOWN}"
        line += (
            f"; {len(far)} would need more than {REACHABLE_ROUNDS} more rounds (up to {most}: noisy cells, "
            "or figures near the edge of that band)"
        )
    if beyond:
        hours = (
            "more hours would tell, pooled with these" if run.pooled else "other hours would tell, pooled with this one"
        )
        # The runs to pool: this one's own folder, or a pooled run's runs, and one more measured later.
        folders = [f"results/{pooled.run_id}" for pooled in run.pooled] or [f"results/{run.run_id}"]
        line += (
            f"; {plural(len(beyond), 'lies closer to its threshold', 'lie closer to their threshold')} than runs of "
            "the same code at other hours differ (the "
            f"between-run scatter of the Method section), which no round of this run narrows: runs at {hours} "
            f"(`nox -s pool -- --out results/<name> {' '.join(folders)} results/<a run at another hour>`)"
        )
    if unsettled:
        settle = max(d.rounds_to_settle() or 0 for d in unsettled)
        one = len(unsettled) == 1
        line += (
            f"; {len(unsettled)} {'lies nearer its' if one else 'lie nearer their'} threshold than runs at other hours "
            f"differ, but on processes that still scatter more than that: about "
            f"{plural(settle, 'more round', 'more rounds')} would settle {'its figure' if one else 'their figures'}, "
            f"which may then move away from it ({more_rounds_from(run)})"
        )
    parallelism = estimator.machine_parallelism
    if cores and parallelism is not None:
        line += (
            f"; {len(cores)} found no speed-up from a second worker where the machine's own two threads of C code "
            f"ran {speed_interval_text(parallelism)} than one (the Method section's parallelism probe), so that "
            "the missing speed-up may be the machine's: no round of this run tells, a run with both cores free would"
        )
    if beyond_workers:
        line += (
            f"; {len(beyond_workers)} show more speed-up from more workers than they can give (more than N times as "
            "fast on N times the workers): the slow cell ran slow for another reason, so the figure is not the "
            "workers', and no round of this run tells what they give"
        )
    unknown = len(still_open) - len(near) - len(few) - len(far) - len(beyond) - len(unsettled) - len(cores)
    unknown -= len(beyond_workers)
    if unknown:
        line += f"; {unknown} {'has' if unknown == 1 else 'have'} no interval yet (a second worker process gives one)"
    return line


def render(run: Run, charts: Charts) -> str:
    info, host = run.info, run.info.host
    lines = [f"# interpmatrix report: {run.run_id}", ""]
    if run.machines:
        lines += _machines_lines(run)
    else:
        lines += [
            f"- **Date:** {date_text(info.started)}",
            f"- **CPU:** {_known(host.cpu, 'unknown')}, {_known(host.cores, '?')} cores",
            f"- **OS:** {_known(host.os, 'unknown')}",
            f"- **pyperf:** {requirement_version(info.bench_requirements, 'pyperf')}",
            f"- **Command:** `{_known(info.command, '?')}`",
            f"- **Profile:** {profile_text(run)}",
            f"- **Wall time:** {duration(info.wall_time)}" + (POOLED_WALL_TIME if run.pooled else ""),
        ]
        if run.pooled:
            lines.append(pooled_line(run))
    if not run.complete and run.machines:
        # A merged run is not resumed: each unfinished machine resumes its own run, then the runs are merged again.
        lines += _unfinished_machines_lines(run)
    elif not run.complete:
        lines.append(
            f"- **Status: not complete** (run.json says {_known(info.status, 'nothing')!r}): {steps_left(run)} steps "
            f"not run — resume with `nox -s matrix -- --resume {run.run_id}`"
        )
    if run.baseline is not None:
        lines.append(f"- **Baseline:** {run.baseline} ({run.baseline_reason})")
    else:
        lines.append(f"- **Baseline:** none ({run.baseline_reason})")
    measured, failed, unavailable, missing = cell_counts(run)
    cells = f"- **Cells:** {measured} of {measured + failed + unavailable + missing} ran, {failed} failed"
    if unavailable:
        cells += f", {unavailable} unavailable there (not supported by the interpreter, or a package it lacks)"
    if missing:
        cells += f", {missing} {run.why_no_result()[0]}"
    shown = failed or unavailable or missing
    lines.append(cells + (" (see [Cells that did not run](#cells-that-did-not-run))" if shown else ""))
    estimator = Estimator(run)
    for extra in (budget_line(run), decisions_line(run, estimator), figures_line(run, estimator)):
        if extra:
            lines.append(extra)
    spread = noise(run)
    if spread:
        worst, worst_column, worst_cell = spread[0]
        noisy = sum(1 for rsd, _, _ in spread if rsd > NOISY_RSD)
        lines.append(
            f"- **Relative std dev** (std dev / mean): median {percent(statistics.median(r for r, _, _ in spread))}, "
            f"max {percent(worst)} ({worst_column.id}, `{worst_cell.name}`); {noisy} of {len(spread)} cells "
            f"above {percent(NOISY_RSD)}" + (" (over the values of every run pooled: their hours' differences too)"
                                             if run.pooled else "")
        )
    return "\n".join(lines)
