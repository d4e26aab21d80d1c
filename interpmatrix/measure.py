"""Run every cell on every prepared interpreter, in interleaved rounds, through pyperf.

No benchmark is timed here (the clock here only keeps the budget). Each step is one pyperf invocation of a workload
script, in one interpreter's venv, for one round of all the workload's cells still to do there (a batch: the
interpreter and pyperf start once, not once per cell): pyperf's main process checks each cell's answer, spawns its
worker processes, and appends their runs to ``results/<run-id>/<interpreter-id>.json`` (``--append``). Rounds go
workload by workload across all interpreters, so the machine's drift during a run is spread over every column instead
of landing on one.

A cell that crashes, hangs, raises or gives a wrong answer is marked failed (``<id>.failures.json``) and is not tried
again; every other cell goes on (``interpmatrix.invocation`` runs one step and tells what happened to each cell).
Whatever completed is on disk at once, and a resumed run skips the rounds already in the files, after finishing what
the interrupted one left (``RunDir.recover``: a step not merged yet, a results file that cannot be read).

After that first pass, while the run's time budget lasts (``interpmatrix.budget``), extra rounds measure only the
cells whose decisions in the report are still open, on only their interpreters, one round at a time.
"""

from __future__ import annotations

import json
import subprocess
import tempfile
import time
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone

import pyperf

from . import budget, external, model, selftimed
from .budget import Ledger, Need, Pair
from .discovery import Interpreter
from .invocation import Step, Venv, run_step
from .markdown import duration
from .proc import read_tail, run_with_timeout
from .profiles import Profile, profile_from
from .registry import Workload
from .results import CellFailure, RunDir, rounds_done


def prepared_venvs(run_dir: RunDir, interpreter_ids: Sequence[str]) -> list[Venv]:
    """The interpreters whose venv is ready; the others get every cell failed with the reason."""
    venvs = []
    for interpreter_id in interpreter_ids:
        record = run_dir.read_interpreter(interpreter_id)
        if record is None:
            failure = CellFailure(
                "interpreter missing",
                f"no venv was prepared for {interpreter_id}: see the nox log of `bench({interpreter_id})`",
            )
        elif record.get("setup_error"):
            failure = CellFailure("install failed", record["setup_error"])
        else:
            venvs.append(
                Venv(Interpreter.from_dict(record["interpreter"]), record["venv_python"], record.get("bindings_dir"))
            )
            continue
        run_dir.record_failure(interpreter_id, "*", failure)
    return venvs


def record_unsupported(run_dir: RunDir, workloads: Sequence[Workload], venvs: Sequence[Venv]) -> None:
    """The cells a self-timed runtime's runner cannot run (``selftimed.unsupported``), recorded unavailable before
    anything is planned: telling costs nothing, and a budget must not count them among the cells still to measure
    (a quick run once left 83 of CPython 2.7's, nearly all of them unavailable, as "not measured")."""
    for venv in venvs:
        if not venv.interpreter.self_timed:
            continue
        failed = run_dir.read_failures(venv.id)
        for workload in workloads:
            for cell in workload.cells():
                reason = None if cell.name in failed else selftimed.unsupported(workload, cell, venv.interpreter)
                if reason is not None:
                    run_dir.record_failure(venv.id, cell.name, CellFailure("unavailable", reason))


def run_any_step(run_dir: RunDir, step: Step, profile: Profile) -> dict[str, CellFailure | None]:
    """One step through pyperf, or through the self-timing runner on a runtime without pyperf (``selftimed``): both
    columns take their turns in the same rounds."""
    return (selftimed.run_step if step.venv.interpreter.self_timed else run_step)(run_dir, step, profile)


def rounds_by_cell(run_dir: RunDir, venvs: Sequence[Venv]) -> dict[Pair, set[int]]:
    """(interpreter id, cell name) -> the rounds its results file holds."""
    done: dict[Pair, set[int]] = {}
    for venv in venvs:
        for benchmark in run_dir.read_results(venv.id) or ():
            done[venv.id, benchmark.get_name()] = rounds_done(benchmark)
    return done


def plan_steps(
    run_dir: RunDir,
    workloads: Sequence[Workload],
    venvs: Sequence[Venv],
    rounds: int,
    first: int = 1,
    only: Collection[Pair] | None = None,
    tiers: Sequence[Collection[str]] = (),
) -> list[Step]:
    """The steps still to do in rounds ``first`` to ``rounds``: round-major, then tier, then workload, then
    interpreter, each with the cells the files say are not done in that round (and have not failed); only ``only``'s
    when given. ``tiers``: cell names measured before the others, each tier before the next (a cell in the first
    tier that holds it); the cells of no tier come last.

    The interpreters take turns at going first: each round rotates their order by one. Within a workload's steps
    the place is a bias too (the first runs right after another workload, on a machine warming up or settling),
    so no column keeps the same one. The rotation follows the round number: a resumed run plans the same order."""
    done = rounds_by_cell(run_dir, venvs)
    failed = {venv.id: set(run_dir.read_failures(venv.id)) for venv in venvs}
    tiered = [set(tier) for tier in tiers]

    def tier_of(name: str) -> int:
        return next((index for index, tier in enumerate(tiered) if name in tier), len(tiered))

    steps = []
    for round_number in range(first, rounds + 1):
        turn = (round_number - 1) % len(venvs) if venvs else 0
        for tier in range(len(tiered) + 1):
            for workload in workloads:
                for venv in [*venvs[turn:], *venvs[:turn]]:
                    cells = tuple(
                        cell
                        for cell in workload.cells()
                        if tier_of(cell.name) == tier
                        and cell.name not in failed[venv.id]
                        and round_number not in done.get((venv.id, cell.name), ())
                        and (only is None or (venv.id, cell.name) in only)
                    )
                    if cells:
                        steps.append(Step(round_number, workload, cells, venv))
    return steps


# The line workloads/_external.py --answer prints before its JSON.
ANSWER_PREFIX = "interpmatrix-answer "


def answer_of(venv: Venv, workload_file: external.WorkloadFile, timeout: float) -> dict[str, str]:
    """run()'s result on one interpreter as canonical text (``{"answer": ...}``), or why there is none
    (``{"error": ...}``)."""
    command = [venv.python, str(external.RUNNER), *workload_file.runner_args(), "--answer"]
    if venv.bindings is not None:
        command += ["--bindings", venv.bindings]
    # The output goes to a file, of which only the end is read: the answer is the last line, and a run() that prints
    # a lot must not fill the orchestrator's memory.
    with tempfile.TemporaryFile() as output:
        result = run_with_timeout(command, timeout, cwd=external.RUNNER.parent, stdout=output, stderr=subprocess.STDOUT)
        printed = read_tail(output)
    if result.timed_out:
        return {"error": f"run() did not return within {timeout:g} s"}
    for line in reversed(printed.splitlines()):
        if line.startswith(ANSWER_PREFIX):
            return json.loads(line[len(ANSWER_PREFIX) :])
    return {"error": (printed.strip().splitlines() or [f"exited with status {result.returncode}"])[-1]}


def check_answers_agree(
    run_dir: RunDir,
    workload_file: external.WorkloadFile,
    venvs: Sequence[Venv],
    timeout: float,
    echo: Callable[[str], None],
) -> None:
    """For a user's file without EXPECTED: run run() once on every interpreter, and fail the file's cells everywhere
    when the results differ (nothing says which one is right). An interpreter where run() fails is left to its own
    cells, which then fail with the reason."""
    if workload_file.has_expected or not workload_file.has_run:
        return
    cells = workload_file.to_workload().cells()
    pending = [
        venv for venv in venvs if any(cell.name not in run_dir.read_failures(venv.id) for cell in cells)
    ]
    if len(pending) < 2:
        return
    answers, errors = {}, {}
    for venv in pending:
        found = answer_of(venv, workload_file, timeout)
        if "answer" in found:
            answers[venv.id] = found["answer"]
        else:
            errors[venv.id] = found.get("error", "no answer")
    reason = external.compare_answers(workload_file.name, answers)
    if reason is None:
        unchecked = f"; no result on {', '.join(errors)} (its cells will say why)" if errors else ""
        echo(f"{workload_file.name}: run() gives the same result on {', '.join(answers) or 'no interpreter'}{unchecked}")
        return
    echo(f"{workload_file.name}: FAILED check: {reason}")
    for interpreter_id in answers:
        for cell in cells:
            run_dir.record_failure(interpreter_id, cell.name, CellFailure("wrong answer", reason))


def _summary(benchmark: pyperf.Benchmark | None) -> str:
    if benchmark is None or benchmark.get_nvalue() < 2:
        return "done"
    mean = benchmark.mean()
    return f"{benchmark.format_value(mean)} ± {benchmark.stdev() / mean:.0%}"


def report_decisions(workloads: Sequence[Workload] | None) -> Callable[[RunDir], Mapping[Pair, Need]]:
    """Which (interpreter id, cell name) pairs still have an open decision: the report's own decisions, on the run
    as its files stand now (``workloads`` replaces the registry, as for ``model.load_run``)."""

    def open_cells(run_dir: RunDir) -> Mapping[Pair, Need]:
        # Imported when first asked: a run without a budget never asks, and measuring needs none of the statistics
        # the decisions stand on.
        from . import decisions

        return decisions.open_cells(model.load_run(run_dir, workloads=workloads))

    return open_cells


def report_figures(workloads: Sequence[Workload] | None) -> Callable[[RunDir], Collection[Pair]]:
    """Which (interpreter id, cell name) pairs the report states without an interval: measured in one process, with
    no variance to borrow (``decisions.cells_without_interval``), on the run as its files stand now."""

    def figure_cells(run_dir: RunDir) -> Collection[Pair]:
        # Imported when first asked, as in report_decisions.
        from . import decisions

        return decisions.cells_without_interval(model.load_run(run_dir, workloads=workloads))

    return figure_cells


def first_pass_tiers(workloads: Sequence[Workload]) -> list[set[str]]:
    """The cells a first pass too long for its budget measures first (``decisions.first_pass_tiers``)."""
    # Imported when first asked, as in report_decisions: only a first pass longer than its budget needs it.
    from . import decisions

    return decisions.first_pass_tiers(workloads)


@dataclass
class Schedule:
    """The steps of one measure() call, run one by one, each accounted to the budget as soon as it is done."""

    run_dir: RunDir
    profile: Profile
    workloads: list[Workload]
    venvs: list[Venv]
    ledger: Ledger
    run: Callable[[RunDir, Step, Profile], dict[str, CellFailure | None]]
    echo: Callable[[str], None]
    # Cells that failed in this call: not retried in later rounds (a hang would cost its time limit every round).
    failed: set[Pair] = field(default_factory=set)

    def run_steps(self, steps: Sequence[Step], extra: bool, while_they_fit: bool = False) -> list[Step]:
        """Run ``steps``; in the first pass (not ``extra``), a step whose estimated cost no longer fits in the budget
        is left unmeasured (``Ledger.unreached``), so that measuring ends within it. ``while_they_fit``: stop before
        the first step from which the steps left no longer fit the budget at what cell rounds have cost so far, and
        return those (none run) for the caller to plan otherwise; else nothing is returned."""
        total = sum(len(step.cells) for step in steps)
        width = max((len(venv.id) for venv in self.venvs), default=0)
        clock, started, index = self.ledger.clock, self.ledger.clock(), 0
        for position, step in enumerate(steps):
            if while_they_fit and not self.ledger.fits(_cell_rounds(steps[position:])):
                return list(steps[position:])
            cells = tuple(cell for cell in step.cells if (step.venv.id, cell.name) not in self.failed)
            if not cells:
                continue
            if not extra and self.ledger.budget is not None:
                cost = self.ledger.cell_round_seconds(step.venv.id) * len(cells)
                if self.ledger.left() <= 0 or cost > self.ledger.left():
                    self.ledger.unreached += len(cells)
                    total -= len(cells)
                    continue
            before = clock()
            outcomes = self.run(self.run_dir, replace(step, cells=cells), self.profile)
            failures = {name: failure for name, failure in outcomes.items() if failure is not None}
            self.ledger.record_step(step.venv.id, len(cells), clock() - before, extra, failed=bool(failures))
            self.run_dir.update_run(**self.ledger.to_run())
            suite = {benchmark.get_name(): benchmark for benchmark in self.run_dir.read_results(step.venv.id) or ()}
            for cell in cells:
                index += 1
                failure = failures.get(cell.name)
                if failure is not None:
                    self.failed.add((step.venv.id, cell.name))
                    outcome = f"FAILED ({failure.kind}): {failure.reason}"
                else:
                    outcome = _summary(suite.get(cell.name))
                left = (clock() - started) / index * (total - index)
                if self.ledger.budget is not None:  # what is left of the pass, or of the budget, whichever ends first
                    left = min(left, max(self.ledger.left(), 0.0))
                self.echo(
                    f"[{index}/{total}] r{step.round} {step.venv.id:<{width}}  {cell.name}  {outcome}"
                    f"  (~{duration(left)} left)"
                )
        return []

    def measurable(self, asked: Collection[Pair]) -> list[Pair]:
        """The pairs of ``asked`` another round can measure, in plan order (workload, cell, interpreter)."""
        failed = {venv.id: set(self.run_dir.read_failures(venv.id)) for venv in self.venvs}
        return [
            (venv.id, cell.name)
            for workload in self.workloads
            for cell in workload.cells()
            for venv in self.venvs
            if (venv.id, cell.name) in asked
            and cell.name not in failed[venv.id]
            and (venv.id, cell.name) not in self.failed
        ]

    def extra_rounds(
        self, open_cells: Callable[[RunDir], Mapping[Pair, Need]], figure_cells: Callable[[RunDir], Collection[Pair]]
    ) -> str:
        """Extra rounds of the cells still undecided while the budget lasts, then of ``figure_cells`` (the cells
        whose figures have no interval yet) once no decision within reach is open; returns why they stopped."""
        ledger, resumed = self.ledger, True
        while True:
            current = ledger.current_round()
            if current is not None:
                # The round under way (a resumed run's) is finished before asking again; a finished one plans nothing.
                only = set(ledger.extra_round_cells)
                steps = plan_steps(self.run_dir, self.workloads, self.venvs, current, first=current, only=only)
                if steps and resumed:
                    self.echo(f"extra round {current - self.profile.rounds} (resumed): {len(only)} cells, "
                              f"{sum(len(step.cells) for step in steps)} still to measure")
                self.run_steps(steps, extra=True)
            resumed = False
            if ledger.budget is None:
                return budget.NO_BUDGET
            if ledger.left() <= 0:
                return budget.BUDGET_SPENT
            asked, purpose = open_cells(self.run_dir), budget.FOR_DECISIONS
            done = rounds_by_cell(self.run_dir, self.venvs)
            if not asked:
                # Every decision within reach is made: what is left goes to the figures that have no interval yet,
                # one round each beyond the first pass (a process the samples set aside must not bring a cell back
                # every round).
                asked = {
                    pair: Need(1, 1)
                    for pair in figure_cells(self.run_dir)
                    if len(done.get(pair, ())) <= self.profile.rounds
                }
                purpose = budget.FOR_INTERVALS
                if not self.measurable(asked):
                    return budget.EVERY_REACHABLE_DECISION_MADE
            candidates = self.measurable(asked)
            if not candidates:
                return budget.NO_CELL_TO_MEASURE
            rounds = {pair: len(done.get(pair, ())) for pair in candidates}
            left = ledger.left()
            chosen = budget.choose_round(candidates, rounds, ledger.cell_round_seconds, left, needs=asked)
            if not chosen:
                return budget.NO_TIME_FOR_A_ROUND
            ledger.begin_round((current or self.profile.rounds) + 1, chosen, purpose)
            self.run_dir.update_run(**ledger.to_run())
            trimmed = f" ({len(chosen)} of {len(candidates)}: what the {duration(left)} left can serve)"
            what = "cells open" if purpose == budget.FOR_DECISIONS else "cells measured once, for an interval"
            self.echo(
                f"extra round {len(ledger.extra_rounds)}: {len(candidates)} {what}"
                f"{trimmed if len(chosen) < len(candidates) else ''}"
            )


def _cell_rounds(steps: Sequence[Step]) -> dict[str, int]:
    """Interpreter id -> the cell rounds ``steps`` measure there."""
    counts: dict[str, int] = {}
    for step in steps:
        counts[step.venv.id] = counts.get(step.venv.id, 0) + len(step.cells)
    return counts


def measure(
    run_dir: RunDir,
    workloads: Sequence[Workload] | None = None,
    echo: Callable[[str], None] = print,
    clock: Callable[[], float] = time.monotonic,
    open_cells: Callable[[RunDir], Mapping[Pair, Need]] | None = None,
    figure_cells: Callable[[RunDir], Collection[Pair]] | None = None,
    run: Callable[[RunDir, Step, Profile], dict[str, CellFailure | None]] = run_any_step,
    tiers: Callable[[Sequence[Workload]], list[set[str]]] = first_pass_tiers,
) -> None:
    """Run (or resume) the run described by ``run_dir``'s run.json: the profile's rounds, then extra rounds of the
    cells whose decisions are still open while its budget lasts.

    ``clock`` times the budget; ``open_cells`` says which (interpreter id, cell name) pairs still have an open
    decision, each with what its cheapest decision still needs (default: ``report_decisions``); ``figure_cells``,
    which pairs have figures without an interval, measured again once no decision within reach is open (default:
    ``report_figures`` with the report's decisions, none with a scripted ``open_cells``); ``run`` measures one
    step (default: ``run_any_step``: pyperf, or the self-timing runner); ``tiers``, the cells a first pass that may
    not fit the budget measures first (default: ``first_pass_tiers``). Tests give their own."""
    started = clock()
    info = run_dir.read_info()
    profile = profile_from(info.profile, info.profile_settings)
    if info.cell_timeout:
        profile = replace(profile, cell_timeout=float(info.cell_timeout))
    # --budget, else the profile's; a resumed run reads back what its first measure() recorded.
    allowed = info.budget_seconds if info.budget_seconds is not None else profile.budget
    ledger = Ledger.resume(info, allowed, clock, started)
    run_workloads = list(workloads) if workloads is not None else external.workloads_of_run(info)
    run_dir.recover(info.interpreters, echo)
    venvs = prepared_venvs(run_dir, info.interpreters)
    record_unsupported(run_dir, run_workloads, venvs)
    for workload_file in external.files_of_run(info):
        check_answers_agree(run_dir, workload_file, venvs, profile.cell_timeout, echo)
    steps = plan_steps(run_dir, run_workloads, venvs, profile.rounds)
    # A first pass the budget may not last is split (and stays split when resumed): the cells the decisions rest on
    # first, then their extra rounds, then the other cells.
    split = ledger.rest is not None or not ledger.fits(_cell_rounds(steps))
    resting: set[Pair] = set()  # the cells the decisions rest on, on every interpreter (of a split first pass)
    tiered, first = False, []
    if split:
        first = tiers(run_workloads)
        names = {name for tier in first for name in tier}
        resting = {(venv.id, cell.name) for venv in venvs for workload in run_workloads for cell in workload.cells()
                   if cell.name in names}
        steps = plan_steps(run_dir, run_workloads, venvs, profile.rounds, only=resting)
        tiered = not ledger.fits(_cell_rounds(steps))
        if tiered:
            # Tier by tier only where even these may not fit: each tier is a step of its own on every interpreter
            # and workload (a pyperf invocation, its start included).
            steps = plan_steps(run_dir, run_workloads, venvs, profile.rounds, only=resting, tiers=first)
        ledger.rest = ledger.rest or {"cell_rounds": 0, "seconds": 0.0}
    run_dir.update_run(status="measuring", **ledger.to_run())
    echo(
        f"measuring {sum(len(step.cells) for step in steps)} cell rounds in {len(steps)} invocations: "
        f"{profile.rounds} rounds x {sum(len(w.cells()) for w in run_workloads)} cells x {len(venvs)} interpreters "
        f"({profile.name} profile)"
    )
    if split:
        echo(
            f"a budget of {duration(ledger.budget)} ({duration(ledger.spent())} spent so far) may not last the "
            "first pass: the cells the decisions rest on first (each workload's reference cells, the claims' cells, "
            "the verdicts' candidates), then extra rounds of those still undecided, then the other cells"
        )
    elif ledger.budget is not None:
        echo(
            f"then extra rounds of the cells still undecided, within a budget of {duration(ledger.budget)} "
            f"({duration(ledger.spent())} spent so far)"
        )
    schedule = Schedule(run_dir, profile, run_workloads, venvs, ledger, run, echo)
    # Untiered, the decisions' cells were judged to fit before most of them had a cost of their own (a first guess,
    # or the cheap workloads' so far): once what is left no longer fits, the rest goes tier by tier, so that each
    # workload's reference cells still come first. A quick run of primes and numeric on fourteen interpreters with
    # 1:30 left PyPy's numeric reference unmeasured on a machine a quarter slower than the one it fitted on.
    left_over = schedule.run_steps(steps, extra=False, while_they_fit=split and not tiered)
    if left_over:
        steps = plan_steps(run_dir, run_workloads, venvs, profile.rounds, only=resting, tiers=first)
        echo(f"the cells the decisions rest on no longer fit at what they have cost: the other {len(steps)} "
             "invocations tier by tier, each workload's reference cells first")
        schedule.run_steps(steps, extra=False)
    if ledger.first_pass_seconds is None or (steps and info.first_pass_unreached):
        # Where the first pass (of a split one, its first part) ended: here, also when an earlier measure() left it
        # for want of budget.
        ledger.first_pass_seconds = ledger.spent()
    run_dir.update_run(**ledger.to_run())
    if figure_cells is None:
        figure_cells = report_figures(workloads) if open_cells is None else (lambda run_dir: ())
    open_cells = open_cells or report_decisions(workloads)
    if split and not ledger.unreached:
        if not info.first_pass_unreached:
            # The decisions first; what they leave of the budget measures the other cells (their figures decide
            # nothing), and only then the second processes of the figures measured once. A run resumed after its
            # budget left cells unmeasured measures them first, as its report's resume command says.
            schedule.extra_rounds(open_cells, lambda run_dir: ())
        rest = plan_steps(run_dir, run_workloads, venvs, profile.rounds)
        planned = sum(len(step.cells) for step in rest)
        if planned:
            echo(f"the first pass's other cells: {planned} cell rounds")
        before, unreached = ledger.spent(), ledger.unreached
        schedule.run_steps(rest, extra=False)
        ledger.rest = {"cell_rounds": ledger.rest["cell_rounds"] + planned - (ledger.unreached - unreached),
                       "seconds": ledger.rest["seconds"] + ledger.spent() - before}
        run_dir.update_run(**ledger.to_run())
    elif split:
        # The decisions' own cells did not all fit: the others were not reached either.
        others = plan_steps(run_dir, run_workloads, venvs, profile.rounds)
        ledger.unreached += sum(1 for step in others for cell in step.cells if (step.venv.id, cell.name) not in resting)
    if ledger.unreached:
        ledger.stopped = budget.FIRST_PASS_CUT
    else:
        ledger.stopped = schedule.extra_rounds(open_cells, figure_cells)
    spent = duration(ledger.spent())
    of = f"none, {spent} measured" if ledger.budget is None else f"{spent} of {duration(ledger.budget)} spent"
    echo(f"budget: {of}; stopped because {ledger.stopped}")
    if ledger.unreached:
        echo(
            f"{ledger.unreached} cell rounds of the first pass not measured: {budget.resume_command(run_dir.run_id)} "
            "measures them in MINUTES more"
        )
    finished = datetime.now(timezone.utc)
    started_at = datetime.fromisoformat(str(info.started))
    run_dir.update_run(
        status="complete",
        finished=finished.isoformat(),
        wall_time=(finished - started_at).total_seconds(),
        **ledger.to_run(),
    )
