""""Which interpreter should I use?": the report's answer per kind of code, computed from the run's own cells.

Each question (``questions.QUESTIONS``, data) names a workload and the variants a reader could choose between for that
kind of code; the answer (``verdicts.answer``) is the fastest (interpreter, variant) among the cells that ran when it
beats the runner-up beyond its 95 % interval, else the group the data cannot tell apart; then its speed against the
workload's reference variant on the baseline interpreter, with its interval, and what choosing it costs on the same run:
start-up (the ``startup`` workload's pyperf command benchmarks), JIT warm-up (the warm-up values pyperf recorded in the
same worker processes), peak memory (the workload's memory cells, which the budget's extra rounds give a second
process: ``decisions.with_cost_cells``), each beside the baseline's with the interval of their ratio, and
the bindings or packages unavailable there; for a tie or an undecided group, what tells its candidates apart from the
fastest (start-up, peak memory), said only where the interval of the ratio excludes 1. Where the data cannot decide (a
difference pyperf cannot tell from noise, a baseline cell that did not run, an interpreter without results) the sentence
says so; nothing in it is written by hand. After the answers: the overall ranking, what threads bought, and how noisy
the run was.
"""

from __future__ import annotations

from ..decisions import REACHABLE_ROUNDS, Decision, open_group
from ..intervals import AT_THRESHOLD, EQUIVALENCE_FACTOR, FAILS, HOLDS, UNDECIDED, Estimator, Interval
from ..markdown import (
    bounds_text,
    factor_percent,
    first_sentence,
    percent,
    ratio_text,
    seconds_text,
    size_text,
    speed_interval_text,
    time_text,
    times,
    value_text,
)
from ..model import Column, Run, binding_used
from ..registry import Cell, Workload
from ..stats import NOISY_RSD, PARALLEL_SPEEDUP, geometric_means, noise, parallel, ranks, thread_scaling
from ..verdicts import STARTUP_CELL, Answer, answer, failure_kinds, memory_cell, run_questions, startup_time
from . import Charts, packages
from .wording import gil_word, more_rounds_from, payoff_text, shared_rank_text


def why_not_measured(kinds: list[str], run: Run) -> str:
    """Why an interpreter has no result for a question: its failure kinds, else that it did not get there."""
    if kinds:
        return " / ".join(kinds)
    return run.why_no_result()[0]


def unavailable(column: Column, workload: Workload) -> list[str]:
    """The workload's variants that cannot run on this interpreter (bindings, packages), with the gist of why."""
    found = {}
    for cell in workload.cells():
        failure = column.failures.get(cell.name)
        if failure is not None and failure.kind == "unavailable":
            found.setdefault(cell.variant, first_sentence(failure.reason))
    return [f"`{variant}` ({reason})" for variant, reason in found.items()]


def costs(found: Answer, estimator: Estimator) -> list[str]:
    """What choosing the answer's interpreter costs, measured on the same run, against the baseline: each figure
    beside the baseline's, with the 95 % interval of their ratio."""
    if found.best is None or found.baseline is None:
        return []
    column, cell = found.best
    base = found.baseline
    parts = []
    start, base_start = startup_time(column), startup_time(base)
    if start is not None and base_start is not None and column is not base:
        against = estimator.ratio((base, STARTUP_CELL), (column, STARTUP_CELL))
        parts.append(
            f"start-up {seconds_text(start.mean())} against {seconds_text(base_start.mean())}{_beside(against)} "
            "([start-up](#startup))"
        )
    if column.interpreter.is_jit and not base.interpreter.is_jit:
        # Like for like: the baseline running the same variant, where it ran it.
        text = payoff_text(estimator, column, cell, base, cell if base.benchmark(cell) is not None else found.reference)
        if text:
            parts.append(text)
    memory = memory_cell(found.workload, cell)
    if memory is not None and column is not base:
        mine, theirs = column.benchmark(memory), base.benchmark(memory)
        if mine is not None and theirs is not None:
            against = estimator.ratio((base, memory), (column, memory))
            # A variant without a memory cell of its own reads the workload's first: another variant's peak, which
            # says what the interpreter takes, not what the answer's way of writing it does.
            whose = "" if memory.variant == f"{cell.variant}_memory" else (
                f": `{cell.label}` has no memory cell of its own")
            parts.append(
                f"peak memory {value_text(mine)} against {value_text(theirs)}{_beside(against, memory=True)} "
                f"(`{memory.label}`{whose}, [memory](#peak-memory))"
            )
    missing = unavailable(column, found.workload)
    if missing:
        parts.append("unavailable there: " + ", ".join(missing))
    return parts


def _beside(interval: Interval | None, memory: bool = False) -> str:
    """``, 2.50× slower [2.31–2.71]``: a cost's ratio to the baseline's, where both ran."""
    return f", {speed_interval_text(interval, memory=memory)}" if interval is not None else ""


def _link(workload: Workload) -> str:
    return f"[{workload.name}](#{workload.name.lower()})"


def _choice(column: Column, cell: Cell) -> str:
    bench = column.benchmark(cell)
    binding = binding_used(bench) if bench is not None and cell.variant == "compiled" else None
    return f"**{column.id}** with `{cell.label}`" + (f" (via {binding})" if binding else "")


# The candidates an undecided answer names before "N more": the table has them all.
TIES_SHOWN = 4
# The candidates a sentence on what would decide an undecided answer names before "N more".
NAMES_SHOWN = 2


def _names(members: list[Decision]) -> str:
    names = [f"{iid} with `{Cell.parse(name).label}`" for iid, name in (member.cells[1] for member in members)]
    if len(names) > NAMES_SHOWN:
        return ", ".join(names[:NAMES_SHOWN]) + f" and {len(names) - NAMES_SHOWN} more"
    return " and ".join(names)


def what_decides(group: Decision | None, more: str = "`--budget`") -> str:
    """What would decide an undecided answer: more rounds where every candidate in it is within their reach; else,
    candidate by candidate (``decisions.open_group``'s members), more rounds for those within reach, many more for
    some, and for those whose ratio to the fastest lies closer to it than runs at other hours differ, no round of this
    run; what each costs, for all. ``more``: where more rounds come from (``wording.more_rounds_from``)."""
    members = group.members if group is not None else ()
    near = [member for member in members if member.reachable]
    if len(near) == len(members):
        return f"more rounds, {more}, or what each costs may decide"
    beyond = [member for member in members if member.beyond_rounds]
    far = [member for member in members if not member.reachable and not member.beyond_rounds]
    parts = []
    if near:
        parts.append(f"more rounds ({more}) may place {_names(near)}")
    if far:
        parts.append(f"{_names(far)} would need more than {REACHABLE_ROUNDS} more rounds")
    if beyond:
        verb = "lies" if len(beyond) == 1 else "lie"
        parts.append(f"{_names(beyond)} {verb} closer to the fastest than runs of the same code at other hours "
                     "differ, which no round of this run narrows")
    return "; ".join([*parts, "what each costs may decide"])


def _group(found: Answer) -> str:
    """The fastest and the candidates it cannot be told apart from: ``**a** with `x` ≈ b with `y` [0.97–1.08]``."""
    column, cell = found.best
    parts = [_choice(column, cell)]
    for (other, other_cell), behind in found.ties[:TIES_SHOWN]:
        parts.append(f"{other.id} with `{other_cell.label}` {bounds_text(behind) if behind else '[no interval]'}")
    more = len(found.ties) - TIES_SHOWN
    return " ≈ ".join(parts) + (f" ≈ {more} more (see the table)" if more > 0 else "")


def sentence(run: Run, found: Answer, estimator: Estimator | None = None) -> str:
    """One line of the verdict: the choice (or the group that cannot be told apart), the evidence, the costs."""
    estimator = estimator or Estimator(run)
    what = f"**{found.question.kind}** ({_link(found.workload)})"
    if found.baseline is None:
        return f"- {what}: no interpreter has results, so there is nothing to choose from."
    missing = {iid: why_not_measured(kinds, run) for iid, kinds in found.missing.items()}
    if found.best is None:
        reasons = "; ".join(f"{iid}: {why}" for iid, why in missing.items())
        return f"- {what}: no interpreter ran it ({reasons})."
    column, cell = found.best
    base_bench, best_bench = found.reference_benchmark, found.best_benchmark
    reference = f"{run.baseline} with `{found.reference.label}`"
    runner = found.ranked[1] if len(found.ranked) > 1 else None
    if found.decided:
        line = f"- {what}: use {_choice(column, cell)}"
        if runner is not None and (runner[0], runner[1]) == (found.baseline, found.reference):
            # The runner-up is the baseline's reference itself: one comparison, said once.
            line += f" ({speed_interval_text(found.margin)} than the runner-up, {reference}, the baseline's reference)"
            return _with_costs(line, found, missing, estimator)
        if runner is not None:
            runner_up = f"{runner[0].id} with `{runner[1].label}`"
            line += f" ({speed_interval_text(found.margin)} than the runner-up, {runner_up})"
    elif found.tied:
        line = (
            f"- {what}: a tie between {_group(found)} (each one's time ÷ the fastest's, 95 % interval): each surely "
            f"runs within {factor_percent(EQUIVALENCE_FACTOR)} of the fastest, so any of them serves as well (what "
            "each costs may decide)"
        )
    else:
        # A tie without an interval (one worker process, with no variance to borrow) is untested, not noise.
        why = "the data cannot tell them apart" if all(b is not None and b.known for _, b in found.ties) else (
            "some have no interval yet (one worker process, with no sibling to borrow a variance from: a second "
            "process gives one), so the data cannot tell them apart")
        line = (
            f"- {what}: undecided between {_group(found)} (each one's time ÷ the fastest's, 95 % interval): {why}, "
            f"nor tell whether each runs within {factor_percent(EQUIVALENCE_FACTOR)} of the fastest "
            f"({what_decides(open_group(estimator, found), more_rounds_from(run))})"
        )
    subject = "It" if found.decided else f"The fastest of them, {column.id} with `{cell.label}`,"
    if base_bench is None:
        why = why_not_measured(failure_kinds(found.baseline, [found.reference]), run)
        line += f". Cannot compare with the baseline: {reference} did not run ({why})"
        line += f"; the fastest ran at {time_text(best_bench)}"
    elif base_bench is best_bench:
        line += f". {subject} is the baseline's reference itself ({time_text(best_bench)})"
    elif found.ratio_interval is not None and found.ratio_interval.excludes(1.0):
        line += f". {subject} is {speed_interval_text(found.ratio_interval)} than {reference}"
    elif found.ratio_interval is not None and found.ratio_interval.known:
        line += (
            f". {subject} is {speed_interval_text(found.ratio_interval)} than {reference}: "
            "an interval that includes 1×, not told apart from the baseline"
        )
    elif found.ratio_interval is not None:
        line += (
            f". {subject} is {speed_interval_text(found.ratio_interval)} than {reference}, "
            "not tested against it (no interval)"
        )
    return _with_costs(line, found, missing, estimator)


def same_answer(found: Answer, earlier: str) -> str:
    """The line of a kind of code whose candidates include more ways of writing the workload than an earlier kind's,
    when the fastest and those it cannot be told apart from are the earlier answer's cells again: the added ways each
    ran surely slower than the fastest (else they would be among them), which is the answer here."""
    chosen = {found.best[1].variant, *(cell.variant for (_, cell), _ in found.ties)}
    measured = [cell.variant for _, cell in found.ranked]
    others = [f"`{variant}`" for variant in dict.fromkeys(measured) if variant not in chosen]
    added = f" ({' and '.join(others)})" if others else ""
    line = (
        f"- **{found.question.kind}** ({_link(found.workload)}): the same answer as for {earlier}, {_group(found)}; "
        f"every other way of writing it measured{added} ran surely slower than the fastest, beyond the 95 % interval "
        "of their ratio"
    )
    if found.decided and found.margin is not None and len(found.ranked) > 1:
        runner, cell = found.ranked[1]
        faster = speed_interval_text(found.margin)
        line += f" (the fastest is {faster} than the runner-up, {runner.id} with `{cell.label}`)"
    return line + "."


def between_them(found: Answer, estimator: Estimator) -> str | None:
    """What tells apart the candidates a tie or an undecided answer names, where their speed does not: each one's
    start-up and peak memory against the fastest's, said only where the 95 % interval of the ratio excludes 1; else
    that what could be compared tells none apart; None where neither was measured."""
    if found.best is None or not found.ties:
        return None
    best_column, best_cell = found.best
    best_memory = memory_cell(found.workload, best_cell)
    told = []
    compared: set[str] = set()  # what could be held against the fastest's at all: start-up, peak memory
    # Each interpreter's start-up and each peak (a variant without a memory cell of its own shares the workload's
    # first) is said once, for the first candidate it belongs to.
    seen: set[tuple[str, str]] = {(best_column.id, STARTUP_CELL.name)}
    if best_memory is not None:
        seen.add((best_column.id, best_memory.name))
    for (column, cell), _ in found.ties[:TIES_SHOWN]:
        said = []
        if (column.id, STARTUP_CELL.name) not in seen:
            seen.add((column.id, STARTUP_CELL.name))
            start = estimator.ratio((best_column, STARTUP_CELL), (column, STARTUP_CELL))
            if start is not None and start.known:
                compared.add("start-up")
                if start.excludes(1.0):
                    said.append(f"starts {speed_interval_text(start)}")
        memory = memory_cell(found.workload, cell)
        if memory is not None and best_memory is not None and (column.id, memory.name) not in seen:
            seen.add((column.id, memory.name))
            peak = estimator.ratio((best_column, best_memory), (column, memory))
            if peak is not None and peak.known:
                compared.add("peak memory")
                if peak.excludes(1.0):
                    said.append(f"takes {speed_interval_text(peak, memory=True)} at its peak (`{memory.label}`)")
        if said:
            told.append(f"{column.id} with `{cell.label}` " + " and ".join(said))
    if told:
        return f"Of the candidates named, against {best_column.id} with `{best_cell.label}`: " + "; ".join(told)
    if not compared:  # neither was measured for them (a run without the startup workload, or no memory cells)
        return None
    what = " and ".join(sorted(compared, key=("start-up", "peak memory").index))
    verb = "tell" if len(compared) > 1 else "tells"
    return f"{what[0].upper()}{what[1:]} {verb} none of the candidates named apart from the fastest either"


def _with_costs(line: str, found: Answer, missing: dict[str, str], estimator: Estimator) -> str:
    extra = costs(found, estimator)
    if extra:
        line += ". Costs there: " + "; ".join(extra)
    apart = between_them(found, estimator)
    if apart:
        line += ". " + apart
    if missing:
        line += ". Not measured on " + ", ".join(f"{iid} ({why})" for iid, why in missing.items())
    return line + "."


def _ranking_line(run: Run, estimator: Estimator) -> str | None:
    ranking = geometric_means(estimator, run.compared_columns())
    if ranking is None or not ranking.means:
        return None
    ranked = ranks(estimator, ranking)
    parts = [
        f"{found.rank}. {found.column_id} "
        + ("(baseline)" if found.column_id == run.baseline else speed_interval_text(found.mean))
        + (f" ({shared_rank_text(found)})" if found.behind else "")
        for found in ranked
        if found.rank is not None
    ]
    unranked = [found for found in ranked if found.rank is None]
    if unranked:
        parts.append("not ranked, without an interval: " + ", ".join(
            f"{found.column_id} {speed_interval_text(found.mean)}" for found in unranked))
    line = (
        f"- **Overall** (geometric mean of speed-ups over {run.baseline}, with its 95 % interval, on the "
        f"{len(ranking.cells)} interpreter-dependent cells every ranked interpreter ran; "
        "[geometric mean](#geometric-mean)): "
        + "; ".join(parts)
        + "."
    )
    if any(found.behind for found in ranked):
        line += (" A shared rank (≈) is one the data cannot split: the first of the rank is faster by a geometric mean "
                 "whose interval holds 1.")
    if ranking.left_out:
        left_out = ", ".join(f"{iid} ({n} cells)" for iid, n in ranking.left_out.items())
        line += f" Not ranked (too few cells): {left_out}."
    return line


def _threads_line(run: Run, workload: Workload, size: int, speedups: dict[str, Interval]) -> str:
    if not speedups:
        return f"- **Threads** ({workload.name}): no interpreter ran both threads ×1 and threads ×2."
    parts = [f"{iid} {ratio_text(ratio)} ({gil_word(run.column(iid))})" for iid, ratio in speedups.items()]
    decided = {iid: parallel(ratio) for iid, ratio in speedups.items()}
    ran_parallel = [iid for iid, found in decided.items() if found == HOLDS]
    took_turns = [iid for iid, found in decided.items() if found == FAILS]
    at_bar = [iid for iid, found in decided.items() if found == AT_THRESHOLD]
    undecided = [iid for iid, found in decided.items() if found == UNDECIDED]
    line = (
        f"- **Threads** ({workload.name}, {size_text(workload, size)}; speed-up of threads ×2 over threads ×1, 95 % "
        "interval): " + ", ".join(parts) + ". "
    )
    bar = times(PARALLEL_SPEEDUP)
    verdicts = []
    if ran_parallel:
        verdicts.append(f"ran in parallel (the whole interval at {bar} or more) on {', '.join(ran_parallel)}")
    if took_turns:
        verdicts.append(f"took turns (the whole interval below {bar}) on {', '.join(took_turns)}")
    if at_bar:
        verdicts.append(f"sped up by about {bar} (the whole interval within {factor_percent(EQUIVALENCE_FACTOR)} of "
                        f"it) on {', '.join(at_bar)}")
    if undecided:
        verdicts.append(f"undecided on {', '.join(undecided)}")
    line += "Threads " + "; ".join(verdicts) + "."
    cores = run.info.host.cores
    if isinstance(cores, int) and cores < 2:
        line += f" This machine has {cores} core, so threads could not run in parallel at all."
    return line


def build_of(column: Column) -> str:
    """How a CPython column's binary was built, as far as a speed comparison cares: its flags and compiler. A JIT
    switched on and the GIL removed are what the columns compare, not how they were built."""
    flags = [flag for flag in column.interpreter.build_flags.split(", ") if flag not in ("free-threading", "default")]
    return ", ".join([*flags, column.interpreter.compiler or "unknown compiler"])


def builds_line(run: Run) -> str | None:
    """Which comparisons with the baseline mix builds: Debian's 3.14 against pyenv's 3.12 is a comparison of two
    builds (flags, compiler, distributor patches) as much as of two versions, and the reader should know which."""
    cpythons = [column for column in run.compared_columns() if column.interpreter.implementation == "cpython"]
    builds: dict[str, list[str]] = {}
    for column in cpythons:
        builds.setdefault(build_of(column), []).append(column.id)
    if len(builds) < 2 or run.baseline_column is None:
        return None
    base = build_of(run.baseline_column)
    mixed = [column.id for column in cpythons if build_of(column) != base]
    listed = "; ".join(f"`{build}`: {', '.join(ids)}" for build, ids in builds.items())
    return (
        f"- **Builds**: the CPython columns come from {len(builds)} builds ({listed}). Against the baseline "
        f"{run.baseline}, the figures of {', '.join(mixed)} compare two builds (flags, compiler, distributor) as well "
        "as two versions; a JIT column against its own build and a free-threaded build against its twin compare one "
        "build."
    )


def summary_lines(run: Run) -> list[str]:
    """What the verdict adds after its answers per kind of code: the overall ranking, what threads bought, how noisy
    the run was."""
    lines = []
    estimator = Estimator(run)
    ranking = _ranking_line(run, estimator)
    if ranking:
        lines.append(ranking)
    lines += [_threads_line(run, *found) for found in thread_scaling(estimator)]
    builds = builds_line(run)
    if builds:
        lines.append(builds)
    on_packages = packages.summary_line(run)
    if on_packages:
        lines.append(on_packages)
    spread = noise(run)
    noisy = sum(1 for rsd, _, _ in spread if rsd > NOISY_RSD)
    if noisy:
        lines.append(
            f"- {noisy} of {len(spread)} cells vary by more than {percent(NOISY_RSD)} (relative std dev); "
            "(n.s.) in the tables marks the differences from the baseline whose 95 % interval includes no change."
        )
    return lines


def render(run: Run, charts: Charts) -> str:
    lines = [
        "## Which interpreter should I use?",
        "",
        "For each kind of code, the fastest interpreter and way of writing it among the cells of this run, named "
        "only when it beats the runner-up beyond the 95 % interval of their ratio (else the candidates that cannot "
        "be told apart, each with its time ÷ the fastest's: a tie when each surely runs within "
        f"{factor_percent(EQUIVALENCE_FACTOR)} of the fastest, else undecided); its speed against the workload's "
        "reference on the "
        f"baseline ({run.baseline or 'none'}), with its interval; then what that choice costs on the same run "
        "(start-up and peak memory against the baseline's, with the interval of their ratio). "
        "Each workload name links to its table.",
        "",
    ]
    self_timed = [column.id for column in run.columns if column.interpreter.self_timed]
    if self_timed:
        lines[-2] += (
            f" Not candidates: {', '.join(self_timed)}, timed by interpmatrix's own runner on the few portable "
            "kernels they can run (see [Systems the seeds name](#systems-the-seeds-name))."
        )
    if run.machines and run.baseline is not None:
        lines[-2] += (
            f" This run merges several machines: the answers are for **{run.machine(run.baseline)}**, the baseline's "
            "machine; `nox -s report -- <run> --baseline <id>@<machine>` answers for another."
        )
    estimator = Estimator(run)
    # (workload, the cells of its answer's group) -> the kind of code it answered first
    said: dict[tuple[str, frozenset[tuple[str, str]]], str] = {}
    for question in run_questions(run):
        found = answer(estimator, question)
        group = () if found.best is None else (found.best, *(tie for tie, _ in found.ties))
        cells = frozenset((column.id, cell.name) for column, cell in group)
        earlier = said.setdefault((found.workload.name, cells), question.kind) if cells else question.kind
        line = sentence(run, found, estimator) if earlier == question.kind else same_answer(found, earlier)
        # What the user's own requirements cost on the interpreter named (--requirements; the packages section).
        cost = packages.verdict_costs(run, found.best[0].id) if found.best is not None else None
        lines.append(f"{line} Your packages: {cost}." if cost else line)
    if "speedup" in charts:
        lines += ["", charts["speedup"]]
    summary = summary_lines(run)
    if summary:
        lines += ["", *summary]
    return "\n".join(lines)
