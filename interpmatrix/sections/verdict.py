""""Which interpreter should I use?": the report's answer per kind of code, computed from the run's own cells.

Each question (``questions.QUESTIONS``, data) names a workload and the variants a reader could choose between for
that kind of code; the answer (``stats.answer``) is the fastest (interpreter, variant) among the cells that ran,
against the workload's reference variant on the baseline interpreter, with pyperf's t-test, and then what choosing it
costs on the same run: start-up (the ``startup`` workload's pyperf command benchmarks), JIT warm-up (the warm-up
values pyperf recorded in the same worker processes), peak memory (the workload's memory cells) and the bindings or
packages unavailable there. Where the data cannot decide (a difference pyperf cannot tell from noise, a baseline cell
that did not run, an interpreter without results) the sentence says so; nothing in it is written by hand. After the
answers: the overall ranking, what threads bought, and how noisy the run was.
"""

from __future__ import annotations

from ..markdown import first_sentence, percent, seconds_text, size_text, speed_text, time_text, times, value_text
from ..model import Column, Run, binding_used
from ..registry import Cell, Workload
from ..stats import (
    NOISY_RSD,
    PARALLEL_SPEEDUP,
    Answer,
    answer,
    run_questions,
    failure_kinds,
    geometric_means,
    memory_cell,
    noise,
    startup_time,
    thread_scaling,
)
from . import Charts
from .wording import gil_word, payoff_text


def why_not_measured(kinds: list[str], run: Run) -> str:
    """Why an interpreter has no result for a question: its failure kinds, else that it did not get there."""
    if kinds:
        return " / ".join(kinds)
    return "not in this run" if run.complete else "not run yet"


def unavailable(column: Column, workload: Workload) -> list[str]:
    """The workload's variants that cannot run on this interpreter (bindings, packages), with the gist of why."""
    found = {}
    for cell in workload.cells():
        failure = column.failures.get(cell.name)
        if failure is not None and failure.kind == "unavailable":
            found.setdefault(cell.variant, first_sentence(failure.reason))
    return [f"`{variant}` ({reason})" for variant, reason in found.items()]


def costs(found: Answer) -> list[str]:
    """What choosing the answer's interpreter costs, measured on the same run, against the baseline."""
    if found.best is None or found.baseline is None:
        return []
    column, cell = found.best
    base = found.baseline
    parts = []
    start, base_start = startup_time(column), startup_time(base)
    if start is not None and base_start is not None and column is not base:
        parts.append(
            f"start-up {seconds_text(start.mean())} against {seconds_text(base_start.mean())} ([start-up](#startup))"
        )
    if column.interpreter.is_jit and not base.interpreter.is_jit:
        text = payoff_text(column, cell, base, found.reference)
        if text:
            parts.append(text)
    memory = memory_cell(found.workload, cell)
    if memory is not None and column is not base:
        mine, theirs = column.benchmark(memory), base.benchmark(memory)
        if mine is not None and theirs is not None:
            parts.append(
                f"peak memory {value_text(mine)} against {value_text(theirs)} "
                f"(`{memory.label}`, [memory](#peak-memory))"
            )
    missing = unavailable(column, found.workload)
    if missing:
        parts.append("unavailable there: " + ", ".join(missing))
    return parts


def _link(workload: Workload) -> str:
    return f"[{workload.name}](#{workload.name.lower()})"


def _choice(column: Column, cell: Cell) -> str:
    bench = column.benchmark(cell)
    binding = binding_used(bench) if bench is not None and cell.variant == "compiled" else None
    return f"**{column.id}** with `{cell.label}`" + (f" (via {binding})" if binding else "")


def sentence(run: Run, found: Answer) -> str:
    """One line of the verdict: the choice, the evidence, the costs."""
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
    if base_bench is None:
        why = why_not_measured(failure_kinds(found.baseline, [found.reference]), run)
        line = (
            f"- {what}: cannot compare with the baseline: {reference} did not run ({why}); the fastest measured is "
            f"{_choice(column, cell)} at {time_text(best_bench)}"
        )
    elif base_bench is best_bench:
        line = f"- {what}: stay on **{run.baseline}** with `{cell.label}` ({time_text(best_bench)}): nothing measured beats it"
    elif found.mark == "n.s.":
        line = (
            f"- {what}: no clear winner: the fastest, {_choice(column, cell)}, is {speed_text(found.ratio)} than "
            f"{reference}, a difference pyperf's t-test cannot tell from noise (n.s.)"
        )
    else:
        tested = " (not tested: the two cells have different numbers of values)" if found.mark == "not tested" else ""
        line = f"- {what}: use {_choice(column, cell)}: {speed_text(found.ratio)} than {reference}{tested}"
    extra = costs(found)
    if extra:
        line += ". Costs there: " + "; ".join(extra)
    if missing:
        line += ". Not measured on " + ", ".join(f"{iid} ({why})" for iid, why in missing.items())
    return line + "."


def _ranking_line(run: Run) -> str | None:
    means = geometric_means(run)
    if not means or run.baseline is None:
        return None
    ranked = sorted(means.items(), key=lambda item: -item[1][0])
    parts = [
        f"{rank}. {iid} (baseline)" if iid == run.baseline else f"{rank}. {iid} {speed_text(mean)} ({count} cells)"
        for rank, (iid, (mean, count)) in enumerate(ranked, start=1)
    ]
    return (
        f"- **Overall** (geometric mean of speed-ups over {run.baseline}, on the cells both ran): "
        + "; ".join(parts)
        + "."
    )


def _threads_line(run: Run, workload: Workload, size: int, speedups: dict[str, float]) -> str:
    if not speedups:
        return f"- **Threads** ({workload.name}): no interpreter ran both threads ×1 and threads ×2."
    parts = [f"{iid} {times(ratio)} ({gil_word(run.column(iid))})" for iid, ratio in speedups.items()]
    parallel = [iid for iid, ratio in speedups.items() if ratio >= PARALLEL_SPEEDUP]
    line = (
        f"- **Threads** ({workload.name}, {size_text(workload, size)}; speed-up of threads ×2 over threads ×1): "
        + ", ".join(parts)
        + ". "
    )
    if parallel:
        line += f"Only {', '.join(parallel)} gained {times(PARALLEL_SPEEDUP)} or more: its threads ran in parallel."
        if len(parallel) > 1:
            line = line.replace("its threads", "their threads")
    else:
        line += f"No interpreter gained {times(PARALLEL_SPEEDUP)} or more from the second thread."
    cores = run.info.host.cores
    if isinstance(cores, int) and cores < 2:
        line += f" This machine has {cores} core, so threads could not run in parallel at all."
    return line


def summary_lines(run: Run) -> list[str]:
    """What the verdict adds after its answers per kind of code: the overall ranking, what threads bought, how noisy
    the run was."""
    lines = []
    ranking = _ranking_line(run)
    if ranking:
        lines.append(ranking)
    lines += [_threads_line(run, *found) for found in thread_scaling(run)]
    spread = noise(run)
    noisy = sum(1 for rsd, _, _ in spread if rsd > NOISY_RSD)
    if noisy:
        lines.append(
            f"- {noisy} of {len(spread)} cells vary by more than {percent(NOISY_RSD)} (relative std dev); "
            "(n.s.) in the tables marks the differences from the baseline that pyperf's t-test cannot tell from noise."
        )
    return lines


def render(run: Run, charts: Charts) -> str:
    lines = [
        "## Which interpreter should I use?",
        "",
        "For each kind of code, the fastest interpreter and way of writing it among the cells of this run, against "
        f"the workload's reference on the baseline ({run.baseline or 'none'}), with pyperf's t-test; then what that "
        "choice costs on the same run. Each workload name links to its table.",
        "",
    ]
    if run.machines and run.baseline is not None:
        lines[-2] += (
            f" This run merges several machines: the answers are for **{run.machine(run.baseline)}**, the baseline's "
            "machine; `nox -s report -- <run> --baseline <id>@<machine>` answers for another."
        )
    lines += [sentence(run, answer(run, question)) for question in run_questions(run)]
    if "speedup" in charts:
        lines += ["", charts["speedup"]]
    summary = summary_lines(run)
    if summary:
        lines += ["", *summary]
    return "\n".join(lines)
