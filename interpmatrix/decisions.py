"""Every decision the report states, in one list: the cells it rests on, whether the data decided it, and roughly
how much more measuring would.

The decisions are the seeds' claims on each interpreter (holds, fails, at the threshold or undecided), each verdict's
winner against its runner-up (a winner, a tie or undecided), and each verdict's choice against the baseline's
reference. The budget scheduler (``measure``) gives its
extra rounds to the cells of the open ones; the report says which stayed open.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace

from .budget import Need
from .intervals import EQUIVALENCE_FACTOR, OWN_PROCESSES, UNDECIDED, Estimator, Interval, Spread, t_quantile
from .model import Column, Run
from .questions import CLAIMS, QUESTIONS
from .registry import Cell, Workload
from .stats import claim_rows
from .verdicts import (
    Answer, answer, candidates, memory_cell, reference_cells, run_questions, warmup_cells, warmup_ratio,
)

# A decision that would need more extra rounds than this is out of reach of any budget a matrix is given (a figure
# near the edge of the equivalence band, or a very noisy cell): the budget is better spent elsewhere.
REACHABLE_ROUNDS = 20
# OWN_PROCESSES (``intervals``): with fewer processes in a cell, its interval rests on its siblings' variance (one noisy
# sibling widens every interval of the family: numexpr's threads on a shared 2-core machine gave 3.12's cell, measured
# once, [0.82-2.69] and an estimate of 48 rounds) or on one degree of freedom: a round or two of its own narrow it far
# more than the square root of the processes the estimate of the rounds a decision needs assumes.
# A ratio's cell whose mean is known this much better than the other's (its share of the variance of the ratio's
# log, on at least ``OWN_PROCESSES`` processes each) gets none of the ratio's rounds: all of its further processes
# would narrow the interval by less than 5 %, while each costs as much as the other cell's. The stable side of a ratio
# is often the dear one: io_threads' clients one after another wait 64 x 2 x 2 ms a call, and their cell took 12 % of
# a default run's extra rounds here (2026-12-06T07-59-54Z: 2.9-7.2 s a round on each interpreter) as the
# denominator of claims whose interval its threaded twin's scatter set.
NEGLIGIBLE_SHARE = 0.1
# How well the baseline's reference cells must be known (the 95 % half-width of a mean's log) before the extra rounds
# stop taking them along with their workload's open cells (``with_baseline_references``): every speed-up over the
# baseline shares that cell's error, and the report's figures are held against an independent timing within 10 %.
REFERENCE_HALF_WIDTH = math.log(1.05)
Key = tuple[str, str]  # (interpreter id, cell name)


@dataclass(frozen=True)
class Decision:
    kind: str  # "claim", "winner" or "baseline"
    subject: str  # what is decided, for a reader
    interval: Interval | None
    # The value the interval must clear: a claim's threshold, 1.0 for "faster than".
    threshold: float
    decided: bool
    cells: tuple[Key, ...]
    # The fewest worker processes among the decision's cells that narrow its interval (``narrowing``).
    processes: int
    # What was decided, in a word or a name: a claim's holds, fails or at the threshold; "winner <interpreter>
    # <cell>" or "tie <each of them> = ..." (sorted); faster or slower than the baseline; else undecided.
    answer: str = UNDECIDED
    # A claim on more workers left undecided because the machine's own two threads did not surely run faster than its
    # threshold (``stats.claim_result``): no round of this run decides it, a run with the cores free would.
    machine_bound: bool = False
    # A claim on more workers left undecided because its whole interval shows more speed-up than the workers can give
    # (``stats.claim_result``): its slow cell ran slow for another reason, which more rounds of it do not tell.
    beyond_workers: bool = False
    # An undecided verdict's group (``_open_group``): one decision per candidate the fastest is neither told apart from
    # nor surely within the band of, each on the fastest's cell and its own. The group is this decision, its hardest
    # member; the budget serves each member within reach (``cells_to_measure``).
    members: tuple[Decision, ...] = ()
    # The cells whose further processes narrow the interval (``narrowing_cells``); empty: every one of ``cells``.
    narrowing: tuple[Key, ...] = ()

    @property
    def set_aside(self) -> bool:
        """Undecided for a reason no round of this run changes: the machine's cores (``machine_bound``), or a speed-up
        beyond what the workers can give (``beyond_workers``)."""
        return self.machine_bound or self.beyond_workers

    def rounds_to_decide(self) -> int | None:
        """Roughly how many more processes per cell would narrow the interval enough to decide, if the figure stays
        where it is: enough to clear the threshold, or to fit within the equivalence band around it, whichever comes
        first; 0 when decided, None when no estimate can be made (no interval yet) or no number of processes would do
        (``beyond_rounds``).

        The half-width is t × √(processes' variance + between-run variance): only the processes' part narrows, as
        1/processes, and Student's t falls towards 1.96 as each round adds a degree of freedom (at least one, for
        the cell whose variance dominates; Satterthwaite's two with two alike). Taking today's t for every later
        round overstated what was needed most where t is largest: on cells on several workers, which borrow no
        variance, three processes a cell give a ratio 4 degrees of freedom (t = 2.78), and such a ratio 0.07 from its
        threshold on two processes was said to need 14 more rounds where 8 do."""
        if self.decided:
            return 0
        if self.set_aside or self.interval is None or not self.interval.known or self.processes < 1:
            return None
        distance = abs(math.log(self.interval.value) - math.log(self.threshold))
        # The half-width that decides: the distance to the threshold (holds or fails), or what is left of the band
        # beyond that distance (at the threshold); never less than half the band.
        target = max(distance, math.log(EQUIVALENCE_FACTOR) - distance)
        # The between-run part (the interval's floor, at the normal's 1.96: a recorded variance adds no degrees of
        # freedom) stays whatever is measured.
        floor = self.interval.floor
        if floor >= target:
            return None
        normal = t_quantile(math.inf)
        processes_part, n = self._processes_part(), self.processes

        def decides(more: int) -> bool:
            t = t_quantile(self.interval.df + more)
            return t * t * (processes_part * n / (n + more) + (floor / normal) ** 2) <= target**2

        # At least what the normal's 1.96 would need (t never falls below it); from there, doubling finds a count
        # that decides (floor < target: one always does) and bisection the first one.
        return _first(decides, max(1, math.ceil(n * normal**2 * processes_part / (target**2 - floor**2) - n)))

    def _processes_part(self) -> float:
        """The variance of the interval's log that its processes give (the rest is the between-run floor's)."""
        assert self.interval is not None
        half = (math.log(self.interval.high) - math.log(self.interval.low)) / 2
        between = (self.interval.floor / t_quantile(math.inf)) ** 2
        return max((half / t_quantile(self.interval.df)) ** 2 - between, 0.0)

    def rounds_to_settle(self) -> int | None:
        """Roughly how many more processes per cell until the processes' own part of the half-width is no wider than
        the between-run floor: 0 when it already is, None without an interval. Until then the figure itself may still
        move by more than runs at other hours differ, so a decision the floor keeps open is only taken for one no
        round decides (``beyond_rounds``) once it is settled, or would take more than ``REACHABLE_ROUNDS`` to: a
        default run left "numexpr runs such an expression faster on several threads" on cpython-3.13t at 1.41x
        [0.97-2.07] against 1.5x as beyond any round, on three processes, which 8 more settle; seven claims of that
        run were left so, where the figure's own scatter was wider than the between-run floor that kept them open."""
        if self.interval is None or not self.interval.known or self.processes < 1:
            return None
        processes_part, n, floor = self._processes_part(), self.processes, self.interval.floor

        def settled(more: int) -> bool:
            t = t_quantile(self.interval.df + more)
            return t * t * processes_part * n / (n + more) <= floor**2

        if settled(0):
            return 0
        return _first(settled, 1) if floor > 0 else None

    @property
    def _floor_bound(self) -> bool:
        """Undecided, on ``OWN_PROCESSES`` or more, with an interval the between-run floor keeps across the threshold
        where its figure stands (``rounds_to_decide`` None). With fewer processes, the t quantile that widens that floor
        still falls as processes are added."""
        return (
            not self.decided
            and not self.set_aside
            and self.interval is not None
            and self.interval.known
            and self.processes >= OWN_PROCESSES
            and self.rounds_to_decide() is None
        )

    @property
    def beyond_rounds(self) -> bool:
        """Undecided however long this run measures: the between-run variance alone keeps its interval across the
        threshold (runs at other hours, pooled with it by ``interpmatrix.pool``, would tell), and the figure is
        settled, or would take more than ``REACHABLE_ROUNDS`` to settle (``rounds_to_settle``)."""
        if not self._floor_bound:
            return False
        settle = self.rounds_to_settle()
        return settle is None or settle == 0 or settle > REACHABLE_ROUNDS

    @property
    def unsettled(self) -> bool:
        """Kept open by the between-run floor where its figure stands, but on processes that still scatter more than
        that floor: a few more rounds settle the figure (``rounds_to_settle``), wherever it then lies."""
        return self._floor_bound and not self.beyond_rounds

    @property
    def reachable(self) -> bool:
        """Worth more rounds: within ``REACHABLE_ROUNDS``, without an interval yet (a second process gives one), or
        with fewer than ``OWN_PROCESSES`` processes in a cell, whose interval still rests on its siblings' variance or
        on one degree of freedom, so that the estimate of the rounds it needs says little."""
        rounds = self.rounds_to_decide()
        if rounds is None:
            return not self.beyond_rounds and not self.decided and not self.set_aside
        return rounds <= REACHABLE_ROUNDS or self.processes < OWN_PROCESSES


def _first(enough: Callable[[int], bool], low: int) -> int:
    """The fewest more processes from ``low`` that are ``enough`` (which, once true, stays true): doubling finds a
    count that is, bisection the first one."""
    high = low
    while not enough(high):
        low, high = high + 1, high * 2
    while low < high:
        middle = (low + high) // 2
        if enough(middle):
            high = middle
        else:
            low = middle + 1
    return low


def narrowing_cells(keys: Sequence[Key], counts: Sequence[int], spreads: Sequence[Spread | None]) -> tuple[Key, ...]:
    """The cells of a decision whose further processes narrow its interval, given each one's processes and spread as
    its ratio takes it: both cells of a ratio, but the one whose mean is known so much better than the other's that it
    holds less than ``NEGLIGIBLE_SHARE`` of the variance of the ratio's log, once each has ``OWN_PROCESSES``
    processes (before that, a cell's variance still rests on its siblings'); any other decision's every cell."""
    keys = tuple(keys)
    if len(set(keys)) != 2 or min(counts) < OWN_PROCESSES or any(s is None or s.df <= 0 for s in spreads):
        return tuple(dict.fromkeys(keys))
    total = sum(s.variance for s in spreads if s is not None)
    return tuple(key for key, s in zip(keys, spreads) if s is not None and s.variance >= NEGLIGIBLE_SHARE * total)


def _measured(estimator: Estimator, keys: tuple[Key, ...]) -> tuple[int, tuple[Key, ...]]:
    """The fewest worker processes among the cells of ``keys`` that narrow the decision's interval, and those cells
    (``narrowing_cells``): a steady cell the rounds leave alone does not hold back the count its estimate of the
    rounds needed rests on."""
    counts, spreads = [], []
    for interpreter_id, name in keys:
        column, cell = estimator.run.column(interpreter_id), Cell.parse(name)
        found = estimator.sample(column, cell)
        counts.append(found.n if found is not None else 0)
        spreads.append(estimator.ratio_spread(column, cell) if found is not None else None)
    if not counts:
        return 0, ()
    narrowing = narrowing_cells(keys, counts, spreads)
    return min(n for key, n in zip(keys, counts) if key in narrowing), narrowing


def open_group(estimator: Estimator, reply: Answer) -> Decision | None:
    """The decision an undecided verdict waits on (``_open_group``); None when ``reply`` named a winner or a tie, or
    has nothing to compare."""
    if reply.best is None or reply.margin is None or reply.decided or reply.tied:
        return None
    return _open_group(estimator, _winner_subject(reply), (reply.best[0].id, reply.best[1].name), reply.ties)


def _winner_subject(reply: Answer) -> str:
    return f"{reply.question.kind} ({reply.workload.name}): the fastest against the runner-up"


def _open_group(
    estimator: Estimator, subject: str, best: Key, ties: Sequence[tuple[tuple[Column, Cell], Interval | None]]
) -> Decision:
    """An undecided verdict: the fastest and the candidates it cannot be told apart from, not all surely within the
    band. It waits on each candidate that is neither (the runner-up may be settled already, within the band), so its
    interval, processes and the rounds it needs are those of the one that needs the most: in a default run, numeric's
    group of five had its runner-up within the band after 50 rounds while a third candidate sat at 1.10x [0.99-1.22]
    of the fastest, and the runner-up's interval had promised a decision after one more round for 35 rounds. Its
    cells are the fastest's and those candidates'.

    Each such candidate is also one of its ``members``, which the budget serves on its own: a group the hardest
    member keeps open for good (two PyPys closer than runs at other hours differ) still lists every candidate the
    fastest cannot be told apart from, and one measured in two processes is listed on Student's t at one degree of
    freedom (12.7): in a default run, countdown's group put cpython-3.15-jit with processes x4 at [0.83-640] of
    pypy3.9's serial, 23x slower, and no round went to it."""
    members = []
    for (column, cell), behind in ties:
        if behind is None or not behind.within(1.0):
            keys = (best, (column.id, cell.name))
            processes, narrowing = _measured(estimator, keys)
            members.append(Decision("winner", subject, behind, 1.0, False, keys, processes, narrowing=narrowing))
    hardest = max(members, key=lambda member: (not member.reachable, member.rounds_to_decide() or 0))
    cells = (best, *(member.cells[1] for member in members))
    return replace(hardest, cells=cells, members=tuple(members), narrowing=())


def decisions(run: Run, estimator: Estimator | None = None) -> list[Decision]:
    """Every decision of the report on ``run``, claims first, then the verdict's (``verdicts.run_questions``)."""
    estimator = estimator or Estimator(run)
    found = []
    cells = {cell.name for cell in run.cells}
    for claim in CLAIMS:
        if claim.slow not in cells or claim.fast not in cells:
            continue
        threshold = claim.at_least if claim.at_least is not None else claim.at_most
        for row in claim_rows(estimator, claim):
            for interpreter_id, result in row.results.items():
                if result is None:
                    continue
                keys = ((interpreter_id, claim.slow), (row.jit or interpreter_id, claim.fast))
                against = f" against {row.jit}" if row.jit else ""
                processes, narrowing = _measured(estimator, keys)
                found.append(Decision(
                    "claim", f"\"{claim.statement}\" on {interpreter_id}{against}", result.interval, threshold,
                    result.decision != UNDECIDED, keys, processes, result.decision,
                    result.machine_bound, beyond_workers=result.beyond_workers, narrowing=narrowing,
                ))
    for question in run_questions(run):
        reply = answer(estimator, question)
        if reply.best is None:
            continue
        what = f"{question.kind} ({reply.workload.name})"
        best = (reply.best[0].id, reply.best[1].name)
        best_text = f"{reply.best[0].id} {reply.best[1].label}"
        if reply.margin is not None:
            subject = _winner_subject(reply)
            if reply.decided or reply.tied:
                keys = (best, *((column.id, cell.name) for (column, cell), _ in reply.ties))
                if len(keys) == 1:  # a winner: the runner-up is the one it had to beat
                    runner = reply.ranked[1]
                    keys = (best, (runner[0].id, runner[1].name))
                tied = [f"{column.id} {cell.label}" for (column, cell), _ in reply.ties]
                said = f"winner {best_text}" if reply.decided else "tie " + " = ".join(sorted([best_text, *tied]))
                found.append(Decision("winner", subject, reply.margin, 1.0, True, keys, _measured(estimator, keys)[0],
                                      said))
            else:
                found.append(open_group(estimator, reply))
        if reply.ratio_interval is not None and reply.baseline is not None:
            keys = (best, (reply.baseline.id, reply.reference.name))
            interval = reply.ratio_interval
            side = UNDECIDED if not interval.excludes(1.0) else "faster" if interval.low > 1 else "slower"
            processes, narrowing = _measured(estimator, keys)
            found.append(Decision(
                "baseline", f"{what}: {best_text} against {reply.baseline.id}", interval, 1.0,
                interval.excludes(1.0), keys, processes, side, narrowing=narrowing,
            ))
    return found


def first_pass_tiers(workloads: Sequence[Workload]) -> list[set[str]]:
    """The cells the report's decisions rest on, tier by tier, which a first pass too long for its budget measures
    first: each workload's reference cells (every verdict compares with one, and the speed-up chart shows them: a
    first look covers every workload on every interpreter), then the two cells of every claim, then the verdicts'
    other candidates. The other cells (the sizes and worker counts no decision rests on, peaks of memory, start-up)
    come after the extra rounds of the decisions."""
    names = {workload.name: workload for workload in workloads}
    asked = [question for question in QUESTIONS if question.workload in names]
    references = {cell.name for workload in workloads for cell in reference_cells(workload)}
    cells = {cell.name for workload in workloads for cell in workload.cells()}
    claimed = {name for claim in CLAIMS for name in (claim.slow, claim.fast) if name in cells} - references
    verdicts = {cell.name for question in asked for cell in candidates(names[question.workload], question)}
    return [references, claimed, verdicts - claimed - references]


def open_cells(run: Run) -> dict[Key, Need]:
    """The (interpreter id, cell name) pairs that more rounds could still help decide on ``run`` (``cells_to_measure``
    of its decisions), with the baseline's reference cells of their workloads that are still loosely known
    (``with_baseline_references``)."""
    estimator = Estimator(run)
    return with_cost_cells(estimator, with_baseline_references(estimator, cells_to_measure(decisions(run, estimator))))


def with_cost_cells(estimator: Estimator, needs: dict[Key, Need]) -> dict[Key, Need]:
    """``needs``, and for each verdict whose workload has a cell in them, the peak of memory its answer states as a
    cost (``verdicts.memory_cell`` of the fastest's variant, on the fastest's interpreter and on the baseline) where
    that figure has no interval yet, one round each, priced as the cheapest of the workload's cells asked for.

    A peak of memory borrows a variance only from its own workload's memory cells, and no decision gives one a second
    process but gc_cycles' claim: the verdict's "peak memory 35.0 MiB against 13.9 MiB" had no interval. Taken along
    with the workload's open cells, each costs one worker process (0.7 s), and the baseline's, measured twice, lends its
    variance to the same cell on its family's other interpreters. Two processes for every peak of memory in the first
    pass cost 64 s more of it instead (2026-12-06T15-22-04Z: 121 s, whose extra rounds had 5:34 left for the claims).
    Nor does every other figure without an interval come along: taken with their workloads' open cells from the second
    extra round on, one interpreter of a family per cell, they made that round 35-70 s longer (140-176 s against
    105-116) and three default runs decided 91.3 %, 82.0 % and 80.7 % of the claims (2026-12-06T18-53-13Z,
    T19-18-38Z, T19-42-43Z) against 89.3 % in two; they wait for the budget's last round (``budget.FOR_INTERVALS``)."""
    run, baseline = estimator.run, estimator.run.baseline_column
    if baseline is None:
        return needs
    found = dict(needs)
    asked = {Cell.parse(cell_name).workload for _, cell_name in needs}
    for question in run_questions(run):
        if question.workload not in asked:
            continue
        reply = answer(estimator, question)
        memory = memory_cell(reply.workload, reply.best[1]) if reply.best is not None else None
        if memory is None:
            continue
        price = _cheapest(needs, question.workload)
        for column in (reply.best[0], baseline):
            spread = estimator.ratio_spread(column, memory)
            if spread is not None and spread.df <= 0 and (column.id, memory.name) not in found:
                found[column.id, memory.name] = Need(1, price)
    return found


def _cheapest(needs: dict[Key, Need], workload: str) -> int:
    """The fewest cell rounds of the cells of ``workload`` asked for: the price of a cell that comes along with them
    (``with_cost_cells``, ``with_baseline_references``)."""
    return min(need.cell_rounds for (_, cell_name), need in needs.items() if Cell.parse(cell_name).workload == workload)


def with_baseline_references(estimator: Estimator, needs: dict[Key, Need]) -> dict[Key, Need]:
    """``needs``, and for each workload with a cell in them, the baseline's reference cells of that workload (the
    speed-up chart's, and each verdict's) whose mean is known to less than ``REFERENCE_HALF_WIDTH`` (none at all
    on one process without a variance to borrow), one round each, priced as the cheapest of the workload's cells
    asked for.

    Every speed-up the report states for a workload is over that one cell, so its luck is every figure's: once the
    comparisons with the baseline are decided, nothing else would give it a process, and a slow one of two moves them
    all. In a default run here (2026-12-06T09-55-37Z) cpython-3.15's countdown had two processes, 50 and 77 ms a call,
    and every interpreter's countdown speed-up read 5-19 % above a plain ``timeit`` of the same code right after.
    Measured along with the workload's open cells, it is interleaved with them in each round, for a few tenths of a
    second a round; a steady one (io_threads' serial clients) is left alone."""
    baseline = estimator.run.baseline_column
    if baseline is None:
        return needs
    found = dict(needs)
    workloads = {workload.name: workload for workload in estimator.run.workloads}
    for name in sorted({Cell.parse(cell_name).workload for _, cell_name in needs}):
        workload = workloads.get(name)
        if workload is None:
            continue
        price = _cheapest(needs, name)
        for cell in sorted(reference_cells(workload)):
            key = (baseline.id, cell.name)
            known = estimator.spread(baseline, cell) if cell.name in baseline.benchmarks else None
            half_width = t_quantile(math.inf) * math.sqrt(known.variance) if known is not None else 0.0
            loose = known is not None and (known.df <= 0 or half_width > REFERENCE_HALF_WIDTH)
            if loose and key not in found:
                found[key] = Need(1, price)
    return found


def cells_without_interval(run: Run, estimator: Estimator | None = None) -> set[Key]:
    """The (interpreter id, cell name) pairs whose every figure the report states without an interval: measured in
    one worker process, with no variance of their own and none to borrow (a cell on several workers borrows none, a
    peak of memory only from its own workload's cells), or a warm-up ratio's cell measured in one process
    (``warmups_without_interval``). No decision rests on them, so the extra rounds of the decisions pass them by; in a
    default run here 168 cells (17 of each CPython's and PyPy's 97) read "[no interval]" in the workloads' tables, the
    scaling table and the systems the seeds name. A second process gives each one."""
    estimator = estimator or Estimator(run)
    found = warmups_without_interval(run)
    for column in run.columns:
        for cell in run.cells:
            spread = estimator.ratio_spread(column, cell)
            if spread is not None and spread.df <= 0:
                found.add((column.id, cell.name))
    return found


def warmups_without_interval(run: Run) -> set[Key]:
    """The cells of the warm-up table (``verdicts.warmup_cells``) whose ratio has no interval: one process recorded a
    warm-up, and a warm-up ratio borrows no variance (in run 2026-12-06T18-53-13Z, the self-timed runtimes'
    word_count and primes, measured once, where every other figure of the run had its interval)."""
    found = set()
    cells = [cell for _, cell in warmup_cells(run)]
    for column in run.columns:
        for cell in cells:
            bench = column.benchmark(cell)
            ratio = warmup_ratio(bench) if bench is not None else None
            if ratio is not None and not ratio.known:
                found.add((column.id, cell.name))
    return found


def cells_to_measure(found: Iterable[Decision]) -> dict[Key, Need]:
    """The cells of every undecided decision within reach (``REACHABLE_ROUNDS``), each with what the cheapest of its
    decisions still needs: the rounds it is estimated to need (1 with no interval yet: a second process gives one),
    and those rounds times the cells it rests on. A budget that cannot give every open cell its rounds gives them
    first to the cells of the decisions that close for the fewest cell rounds: a claim on two cells before a verdict
    over forty candidates, which one round of two of them cannot decide (in a default run here, 102 open claims rested
    on 150 cells and 8 open verdicts on 119).

    A cell with fewer than ``OWN_PROCESSES`` processes is said to need no more rounds than bring it there: its
    estimate still rests on its siblings' variance or on one degree of freedom (``Decision.reachable``), and the
    budget asks again after each round. A ratio's rounds go to the cells that narrow it (``Decision.narrowing``), and
    its price counts those alone."""
    needs: dict[Key, Need] = {}
    for decision in found:
        # An open group's members are served one by one: whichever of them is within reach narrows what the verdict
        # lists, even where another keeps the group open for good. Each costs the rounds it needs times the whole
        # group's cells, so that a claim still comes before a verdict over many candidates.
        for part in decision.members or (decision,):
            if not part.decided and part.reachable:
                narrowing = part.narrowing or tuple(dict.fromkeys(part.cells))
                priced = len(set(decision.cells)) - len(set(part.cells)) + len(narrowing)
                rounds = part.rounds_to_decide() or part.rounds_to_settle() or 1
                need = Need(rounds, rounds * priced)
                if part.processes < OWN_PROCESSES:
                    need = need._replace(rounds=min(rounds, OWN_PROCESSES - part.processes))
                for key in narrowing:
                    if key not in needs or need.cell_rounds < needs[key].cell_rounds:
                        needs[key] = need
    return needs
