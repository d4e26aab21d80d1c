"""The time budget: the first pass, then extra rounds for the cells whose decisions are still open, while time lasts.

The scheduler runs on a fake clock and a fake step runner: each step advances the clock by a known number of seconds
per cell (1 s on cp, 2 s on ft, 4 s on pypy) and appends a hand-made pyperf run, with its round, to the results file,
as pyperf's --append would. Decisions are scripted: a pair (interpreter, cell) is open until the files hold a given
number of rounds of it. Every expected figure below is worked out by hand in the comments. One test runs real pyperf
on the interpreter running the tests, and asserts on rounds only, never on timings.
"""

from __future__ import annotations

import json
import sys
import types
from dataclasses import asdict, replace
from datetime import datetime, timezone
from pathlib import Path

import pyperf
import pytest

import interpmatrix
from interpmatrix import budget, cli, discovery, model
from interpmatrix.sections import failures, header
from interpmatrix.budget import Ledger
from interpmatrix.invocation import Step, rounds_done
from interpmatrix.measure import measure, plan_steps, prepared_venvs
from interpmatrix.profiles import Profile, find_profile, profile_from
from interpmatrix.registry import Variant, Workload, find_workload
from interpmatrix.harness_protocol import ROUND_METADATA
from interpmatrix.results import CellFailure, RunDir
from interpmatrix.run_info import RunInfo

TOY = Workload(
    name="toy",
    group="test only",
    claim="a toy claim",
    seeds=(),
    size_label="n",
    sizes=(10,),
    reference="x",
    variants=(Variant("x", "x"), Variant("y", "y"), Variant("z", "z")),
    script=Path("toy.py"),
)
X, Y, Z = "toy/x@10", "toy/y@10", "toy/z@10"
# Seconds a cell round takes on each interpreter, in run order.
COST = {"cp": 1.0, "ft": 2.0, "pypy": 4.0}
# Two rounds of 3 cells on each: 2 x 3 x (1 + 2 + 4) = 42 s.
FIRST_PASS = 42.0


class FakeClock:
    def __init__(self, now: float = 1000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


class Interrupted(Exception):
    pass


class FakeSteps:
    """Stands for ``run_step``: advances the clock by each cell's cost, appends a run per cell, logs the step."""

    def __init__(self, clock: FakeClock, interrupt_at: int | None = None, fail: frozenset = frozenset()) -> None:
        self.clock, self.interrupt_at, self.fail = clock, interrupt_at, fail
        self.log: list[tuple[int, str, list[str]]] = []

    def __call__(self, run_dir: RunDir, step: Step, profile: Profile) -> dict[str, CellFailure | None]:
        if self.interrupt_at is not None and len(self.log) + 1 == self.interrupt_at:
            raise Interrupted(f"step {self.interrupt_at}")
        self.log.append((step.round, step.venv.id, [cell.name for cell in step.cells]))
        outcomes: dict[str, CellFailure | None] = {}
        for cell in step.cells:
            self.clock.now += COST[step.venv.id]
            if (step.venv.id, cell.name) in self.fail:
                outcomes[cell.name] = CellFailure("crash", "the fake step says so")
                run_dir.record_failure(step.venv.id, cell.name, outcomes[cell.name])
                continue
            # A value per round, so that two files are equal only when they hold the same rounds in the same order.
            run = pyperf.Run(
                [0.001 * step.round],
                metadata={"name": cell.name, "unit": "second", "loops": 1, ROUND_METADATA: step.round},
                collect_metadata=False,
            )
            pyperf.add_runs(str(run_dir.results_file(step.venv.id)), pyperf.Benchmark([run]))
            outcomes[cell.name] = None
        return outcomes

    def extra(self) -> list[tuple[int, str, list[str]]]:
        return [entry for entry in self.log if entry[0] > 2]


def open_until(needs: dict[tuple[str, str], int]):
    """Scripted decisions: a pair is open until its results file holds ``needs[pair]`` rounds of it."""

    def open_cells(run_dir: RunDir) -> dict[tuple[str, str], budget.Need]:
        still = {}
        for (interpreter_id, cell), rounds in needs.items():
            path = run_dir.results_file(interpreter_id)
            suite = pyperf.BenchmarkSuite.load(str(path)) if path.exists() else None
            found = suite.get_benchmark(cell) if suite is not None and cell in suite.get_benchmark_names() else None
            if len(rounds_done(found)) < rounds:
                left = rounds - len(rounds_done(found))
                still[(interpreter_id, cell)] = budget.Need(left, left)
        return still

    return open_cells


def never_asked(run_dir: RunDir) -> set[tuple[str, str]]:
    raise AssertionError("open_cells was asked, with no time or no budget for an extra round")


def interpreter_record(interpreter_id: str) -> dict:
    return dict(
        id=interpreter_id, implementation="cpython", version="3.12.1", implementation_version="3.12.1",
        executable=f"/x/{interpreter_id}", origin="test", free_threaded=False, gil_enabled=True, jit="none",
        config_args="", compiler="gcc", cflags="", shared=False,
    )  # fmt: skip


def make_run(tmp_path: Path, budget_seconds: float | None, profile_budget: float | None = None) -> RunDir:
    """A planned run of the toy workload on cp, ft and pypy, 2 rounds per cell before any extra one."""
    run_dir = RunDir(tmp_path / "run")
    settings = asdict(replace(find_profile("default"), rounds=2, budget=profile_budget))
    run_dir.write_run(
        {
            "run_id": "run",
            "profile": "default",
            "profile_settings": settings,
            "workloads": ["toy"],
            "interpreters": list(COST),
            "budget_seconds": budget_seconds,
            "started": datetime.now(timezone.utc).isoformat(),
        }
    )
    for interpreter_id in COST:
        record = {"interpreter": interpreter_record(interpreter_id), "venv_python": "/x", "setup_error": None}
        run_dir.write_interpreter(interpreter_id, record)
    return run_dir


def measure_toy(run_dir: RunDir, steps: FakeSteps, open_cells, lines: list[str] | None = None) -> None:
    echo = lines.append if lines is not None else (lambda line: None)
    measure(run_dir, workloads=[TOY], echo=echo, clock=steps.clock, open_cells=open_cells, run=steps)


# After the first pass (42 s) cp and pypy stay undecided on x for 10 rounds, ft on z for 3.
NEEDS = {("cp", X): 10, ("pypy", X): 10, ("ft", Z): 3}


# --------------------------------------------------------------------------------------------------------------------
# The scheduler


def test_extra_rounds_go_to_the_open_cells_only_and_stop_within_the_budget(tmp_path: Path) -> None:
    run_dir = make_run(tmp_path, budget_seconds=60)
    steps, lines = FakeSteps(FakeClock()), []
    measure_toy(run_dir, steps, open_until(NEEDS), lines)
    # 60 - 42 = 18 s left. Round 3: ft z needs 1 more round (2 s), cp x 8 (8 x 1 s), pypy x 8 (8 x 4 = 32 s): ft z and
    # cp x can close within 18 s (10), pypy x cannot and is passed over: 45 spent. Rounds 4-10: cp x alone, 7 down to
    # 1 more needed, within what is left: 52, cp x has its 10 rounds. Round 11: pypy x alone needs 8 x 4 = 32 s of
    # 8 left: no decision can close, so a round that fits, 56; round 12 likewise: 60, and nothing is left.
    assert steps.extra() == [
        (3, "cp", [X]), (3, "ft", [Z]),
        *[(round_number, "cp", [X]) for round_number in range(4, 11)],
        (11, "pypy", [X]), (12, "pypy", [X]),
    ]  # fmt: skip
    info = run_dir.read_info()
    assert info.status == "complete"
    assert info.budget_stopped == "budget spent"
    assert info.budget_seconds == 60
    assert info.measured_seconds == 60
    assert info.first_pass_seconds == FIRST_PASS
    assert info.extra_rounds == [
        {"round": 3, "cells": 2, "seconds": 3.0},
        *[{"round": round_number, "cells": 1, "seconds": 1.0} for round_number in range(4, 11)],
        {"round": 11, "cells": 1, "seconds": 4.0},
        {"round": 12, "cells": 1, "seconds": 4.0},
    ]
    assert [line for line in lines if line.startswith("extra round")] == [
        "extra round 1: 3 cells open (2 of 3: what the 0:18 left can serve)",
        *[f"extra round {n}: 2 cells open (1 of 2: what the 0:{17 - n:02d} left can serve)" for n in range(2, 9)],
        "extra round 9: 1 cells open",
        "extra round 10: 1 cells open",
    ]
    assert lines[-1] == "budget: 1:00 of 1:00 spent; stopped because budget spent"


def test_when_no_decision_can_close_a_round_that_fits_is_measured_until_none_fits(tmp_path: Path) -> None:
    run_dir = make_run(tmp_path, budget_seconds=57.5)
    steps = FakeSteps(FakeClock())
    measure_toy(run_dir, steps, open_until(NEEDS))
    # 15.5 s left. Round 3: ft z (2 s) and cp x (8 x 1 s) can close, pypy x (8 x 4 s) cannot: 45 spent, 12.5 left.
    # Rounds 4-10: cp x, 7 more needed down to 1: 52, 5.5 left. Round 11: pypy x alone can close in no time left, but
    # one round of it (4 s) fits: 56, 1.5 left. Then nothing fits.
    assert steps.extra() == [(3, "cp", [X]), (3, "ft", [Z]), *[(n, "cp", [X]) for n in range(4, 11)], (11, "pypy", [X])]
    info = run_dir.read_info()
    assert info.budget_stopped == "no time left for another round"
    assert info.measured_seconds == 56
    assert [entry["cells"] for entry in info.extra_rounds] == [2, 1, 1, 1, 1, 1, 1, 1, 1]


def test_every_decision_made_stops_the_extra_rounds(tmp_path: Path) -> None:
    run_dir = make_run(tmp_path, budget_seconds=1000)
    steps = FakeSteps(FakeClock())
    measure_toy(run_dir, steps, open_until({("ft", Y): 3}))
    # One extra round of ft y (2 s), then nothing is open.
    assert steps.extra() == [(3, "ft", [Y])]
    info = run_dir.read_info()
    assert info.budget_stopped == "every decision within reach made"
    assert info.measured_seconds == FIRST_PASS + 2
    assert info.extra_rounds == [{"round": 3, "cells": 1, "seconds": 2.0}]


def test_once_every_decision_is_made_the_figures_without_an_interval_get_one_round_each(tmp_path: Path) -> None:
    # Scripted: ft's y is open until it has 3 rounds; cp's x and pypy's z are figures without an interval however
    # often they are measured (as a cell whose second process the samples set aside would be).
    run_dir = make_run(tmp_path, budget_seconds=1000)
    steps, lines = FakeSteps(FakeClock()), []
    measure(run_dir, workloads=[TOY], echo=lines.append, clock=steps.clock, open_cells=open_until({("ft", Y): 3}),
            figure_cells=lambda run_dir: {("cp", X), ("pypy", Z)}, run=steps)
    # Round 3 goes to the open decision alone (ft y, 2 s); round 4 to the two figures (cp x 1 s, pypy z 4 s), once:
    # after it each has a round beyond the first pass's two, and nothing is asked again.
    assert steps.extra() == [(3, "ft", [Y]), (4, "cp", [X]), (4, "pypy", [Z])]
    info = run_dir.read_info()
    assert info.budget_stopped == "every decision within reach made"
    assert info.measured_seconds == FIRST_PASS + 2 + 1 + 4
    assert info.extra_rounds == [
        {"round": 3, "cells": 1, "seconds": 2.0},
        {"round": 4, "cells": 2, "seconds": 5.0, "for": "intervals"},
    ]
    assert "extra round 2: 2 cells measured once, for an interval" in lines
    assert header.budget_line(model.load_run(run_dir, workloads=[TOY])) == (
        "- **Budget:** 16:40 of measuring; spent 0:49: the first pass (every cell, the profile's rounds) 0:42, then 1 "
        "extra round of the cells of open decisions (1 cell round, 0:02), then 1 extra round of the cells measured in "
        "one process, for their figures' intervals (2 cell rounds, 0:05); stopped: every decision within reach made"
    )


def test_the_figures_round_takes_what_is_left_of_the_budget_and_no_more(tmp_path: Path) -> None:
    # 46 s: after the first pass (42 s) and ft y's round (2 s), 2 s are left: cp x (1 s) fits, pypy z (4 s) does not.
    run_dir = make_run(tmp_path, budget_seconds=46)
    steps = FakeSteps(FakeClock())
    measure(run_dir, workloads=[TOY], echo=lambda line: None, clock=steps.clock,
            open_cells=open_until({("ft", Y): 3}), figure_cells=lambda run_dir: {("cp", X), ("pypy", Z)}, run=steps)
    assert steps.extra() == [(3, "ft", [Y]), (4, "cp", [X])]
    info = run_dir.read_info()
    # 45 s spent, 1 s left: pypy z would cost 4 s.
    assert (info.budget_stopped, info.measured_seconds) == ("no time left for another round", 45)


def test_nothing_open_after_the_first_pass_means_no_extra_round(tmp_path: Path) -> None:
    run_dir = make_run(tmp_path, budget_seconds=1000)
    steps, lines = FakeSteps(FakeClock()), []
    measure_toy(run_dir, steps, open_until({}), lines)
    assert steps.extra() == []
    info = run_dir.read_info()
    assert (info.budget_stopped, info.measured_seconds, info.extra_rounds) == (
        "every decision within reach made", FIRST_PASS, []
    )
    assert lines[-1] == "budget: 0:42 of 16:40 spent; stopped because every decision within reach made"


def test_without_a_budget_the_first_pass_is_all(tmp_path: Path) -> None:
    run_dir = make_run(tmp_path, budget_seconds=None, profile_budget=None)
    steps, lines = FakeSteps(FakeClock()), []
    measure_toy(run_dir, steps, never_asked, lines)
    assert len(steps.log) == 6
    info = run_dir.read_info()
    assert (info.budget_stopped, info.budget_seconds, info.measured_seconds) == ("no budget", None, FIRST_PASS)
    assert lines[-1] == "budget: none, 0:42 measured; stopped because no budget"


def test_a_first_pass_past_the_budget_stops_within_it_and_resume_finishes_it(tmp_path: Path) -> None:
    run_dir = make_run(tmp_path, budget_seconds=16)
    steps, lines = FakeSteps(FakeClock()), []
    measure_toy(run_dir, steps, never_asked, lines)
    # The guess (0.7 s a cell round, 18 of them: 12.6 s) fits 16 s, so the plan is the usual one. Round 1: cp's 3
    # cells (3 s; nothing measured yet, so no estimate), ft's (estimated at cp's 1 s a cell: 3 s of the 13 s left;
    # took 6 s), pypy's (estimated at 1.5 s a cell, the mean so far: 4.5 s of the 7 s left; took 12 s). Nothing is
    # left for round 2: 21 s measured (one step past the budget: its cost was a guess), 9 cell rounds left.
    assert steps.log == [(1, "cp", [X, Y, Z]), (1, "ft", [X, Y, Z]), (1, "pypy", [X, Y, Z])]
    info = run_dir.read_info()
    assert (info.budget_stopped, info.first_pass_unreached, info.measured_seconds) == (
        "the budget ran out before the first pass ended", 9, 21.0
    )
    assert info.complete
    assert lines[-1] == (
        "9 cell rounds of the first pass not measured: `nox -s matrix -- --resume run --budget MINUTES` measures "
        "them in MINUTES more"
    )
    # The report says what the budget left, and how to measure it: 9 cell rounds at the 21 s / 9 cell rounds
    # measured (2.33 s each) are 21 s, a minute's budget.
    cut = model.load_run(run_dir, workloads=[TOY])
    assert header.budget_line(cut) == (
        "- **Budget:** 0:16 of measuring; spent 0:21: the first pass (every cell, the profile's rounds) 0:21, with 9 "
        "cell rounds of the first pass not measured: `nox -s matrix -- --resume run --budget 1` measures them "
        "(roughly 0:21); stopped: the budget ran out before the first pass ended"
    )
    # --resume --budget 1 (cli adds the minute to the 21 s spent): round 2 in its rotated order, ft (6 s), pypy
    # (12 s) and cp (3 s), fits; then nothing is open.
    run_dir.update_run(budget_seconds=21.0 + 60)
    resumed = FakeSteps(FakeClock(now=5.0))
    measure_toy(run_dir, resumed, open_until({}))
    assert resumed.log == [(2, "ft", [X, Y, Z]), (2, "pypy", [X, Y, Z]), (2, "cp", [X, Y, Z])]
    info = run_dir.read_info()
    assert (info.budget_stopped, info.first_pass_unreached, info.measured_seconds) == (
        "every decision within reach made", 0, 42
    )
    # The first pass ended in the resumed measure(), after 21 + 21 s.
    assert info.first_pass_seconds == 42


def test_a_self_timed_runtimes_unsupported_cells_are_unavailable_before_anything_is_planned(tmp_path: Path) -> None:
    # cp stands for a self-timed runtime whose runner has x alone (a portable kernel); y and z cost nothing to rule
    # out, so neither the plan nor the budget counts them.
    portable = replace(TOY, self_timed=("x",))
    run_dir = make_run(tmp_path, budget_seconds=None, profile_budget=None)
    record = run_dir.read_interpreter("cp")
    run_dir.write_interpreter("cp", {**record, "interpreter": {**record["interpreter"], "self_timed": True}})
    steps = FakeSteps(FakeClock())
    measure(run_dir, workloads=[portable], echo=lambda line: None, clock=steps.clock, open_cells=never_asked,
            run=steps)
    assert [entry for entry in steps.log if entry[1] == "cp"] == [(1, "cp", [X]), (2, "cp", [X])]
    failures = run_dir.read_failures("cp")
    assert sorted(failures) == [Y, Z] and {failure.kind for failure in failures.values()} == {"unavailable"}
    assert failures[Y].reason == (
        "not supported there: cp is self-timed (no pyperf), and the runner has no portable y (it runs x)"
    )


def test_a_first_pass_that_may_not_fit_measures_references_then_claims_first(tmp_path: Path) -> None:
    toy_claims = replace(TOY, reference="y")
    run_dir = make_run(tmp_path, budget_seconds=5)
    steps = FakeSteps(FakeClock())
    tiers = [{"toy/y@10"}, {"toy/z@10"}]
    measure(run_dir, workloads=[toy_claims], echo=lambda line: None, clock=steps.clock, open_cells=never_asked,
            run=steps, tiers=lambda workloads: tiers)
    # 18 cell rounds at the guessed 0.7 s (12.6 s) do not fit 5 s: round 1's y on cp (1 s), ft (2 s), then pypy's
    # (4 s; cost unknown there, guessed from the others': 1.5 s, fits the 2 s left) takes the clock to 7 s; nothing
    # fits after that.
    assert steps.log == [(1, "cp", [Y]), (1, "ft", [Y]), (1, "pypy", [Y])]
    assert run_dir.read_info().first_pass_unreached == 18 - 3
    # x and z have no value anywhere: the report says why, counted per interpreter rather than listed.
    lines = failures.render(model.load_run(run_dir, workloads=[toy_claims]), {}).splitlines()
    assert lines[2] == (
        "6 cells not measured (cp 2, ft 2, pypy 2): the budget ran out before their turn; `nox -s matrix -- --resume "
        "run --budget MINUTES` measures them."
    )


def test_decisions_cells_that_turn_out_not_to_fit_go_on_tier_by_tier(tmp_path: Path) -> None:
    run_dir = make_run(tmp_path, budget_seconds=10)
    steps, lines = FakeSteps(FakeClock()), []
    measure(run_dir, workloads=[TOY], echo=lines.append, clock=steps.clock, open_cells=never_asked,
            run=steps, tiers=lambda workloads: [{X}, {Y}])
    # The first pass, 18 cell rounds at the guessed 0.7 s (12.6 s), does not fit 10 s; the decisions' x and y, 12 at
    # 0.7 (8.4 s), would: one step an interpreter and round. After cp's (2 s), the 10 cell rounds left at cp's 1 s
    # (the only cost known) take 10 s of the 8 left: the rest goes tier by tier, x on ft (2 s) and pypy (4 s) before
    # y on ft (2 s): 10 s. Each interpreter's x, the reference, is measured; the budget is kept.
    assert steps.log == [(1, "cp", [X, Y]), (1, "ft", [X]), (1, "pypy", [X]), (1, "ft", [Y])]
    info = run_dir.read_info()
    assert info.measured_seconds == 10
    assert info.budget_stopped == "the budget ran out before the first pass ended"
    assert "the cells the decisions rest on no longer fit at what they have cost: the other 10 invocations tier by " \
           "tier, each workload's reference cells first" in lines


def test_a_first_pass_that_may_not_fit_makes_its_decisions_before_measuring_the_other_cells(tmp_path: Path) -> None:
    """A first pass of every cell gives none a second process, so a budget spent on it decides nothing: the cells the
    decisions rest on (x, then y) go first, their extra rounds next, the other cells (z) with what is left."""
    run_dir = make_run(tmp_path, budget_seconds=40)
    # What a cell round has cost on each interpreter, as if measured before: the first pass (42 s) does not fit 40.
    run_dir.update_run(step_seconds={iid: {"seconds": cost, "cell_rounds": 1} for iid, cost in COST.items()})
    steps, lines = FakeSteps(FakeClock()), []
    measure(run_dir, workloads=[TOY], echo=lines.append, clock=steps.clock, open_cells=open_until({("pypy", Y): 3}),
            run=steps, tiers=lambda workloads: [{X}, {Y}])
    # Rounds 1 and 2 of x and y (28 s, which fit the 40: in one step an interpreter, each round starting with the
    # next interpreter). Round 3: pypy's y (4 s): 32 s, every decision made. Then z: round 1 on cp (1 s), ft (2 s),
    # pypy (4 s, in the 5 s left): 39 s; round 2 on ft (2 s) and pypy (4 s) does not fit the 1 s left, cp (1 s) does:
    # 40 s, 2 cell rounds left.
    assert steps.log == [
        (1, "cp", [X, Y]), (1, "ft", [X, Y]), (1, "pypy", [X, Y]),
        (2, "ft", [X, Y]), (2, "pypy", [X, Y]), (2, "cp", [X, Y]),
        (3, "pypy", [Y]),
        (1, "cp", [Z]), (1, "ft", [Z]), (1, "pypy", [Z]), (2, "cp", [Z]),
    ]  # fmt: skip
    info = run_dir.read_info()
    assert (info.first_pass_seconds, info.first_pass_rest, info.first_pass_unreached, info.measured_seconds) == (
        28.0, {"cell_rounds": 4, "seconds": 8.0}, 2, 40.0
    )
    assert info.budget_stopped == "the budget ran out before the first pass ended"
    # The 2 cell rounds left, at the 47 s / 20 cell rounds measured so far (2.35 s each): 4.7 s, a minute's budget.
    assert header.budget_line(model.load_run(run_dir, workloads=[TOY])) == (
        "- **Budget:** 0:40 of measuring; spent 0:40: the first pass of the cells the decisions rest on (each "
        "workload's reference cells, the claims' cells and the verdicts' candidates) 0:28, then 1 extra round "
        "of the cells of open decisions (1 cell round, 0:04), then the first pass of the other cells (4 cell rounds, "
        "0:08), with 2 cell rounds of the first pass not measured: `nox -s matrix -- --resume run --budget 1` "
        "measures them (roughly 0:05); stopped: the budget ran out before the first pass ended"
    )
    # Resumed with a minute more: the first pass stays split, and finishes: ft's and pypy's z in round 2.
    run_dir.update_run(budget_seconds=40.0 + 60)
    resumed = FakeSteps(FakeClock(now=5.0))
    measure(run_dir, workloads=[TOY], echo=lambda line: None, clock=resumed.clock, open_cells=open_until({}),
            run=resumed, tiers=lambda workloads: [{X}, {Y}])
    assert resumed.log == [(2, "ft", [Z]), (2, "pypy", [Z])]
    info = run_dir.read_info()
    assert (info.first_pass_seconds, info.first_pass_rest, info.first_pass_unreached, info.budget_stopped) == (
        28.0, {"cell_rounds": 6, "seconds": 14.0}, 0, "every decision within reach made"
    )


def test_the_first_tiers_are_the_cells_the_decisions_rest_on() -> None:
    """References, then the claims' two cells, then the verdicts' other candidates (questions.py by hand): not the
    sizes, worker counts, peaks of memory and start-ups that no decision rests on."""
    from interpmatrix.decisions import first_pass_tiers
    from interpmatrix.registry import WORKLOADS

    references, claimed, candidates = first_pass_tiers(WORKLOADS)
    assert {"countdown/serial@2000000", "primes/pure@500", "numeric/pure@1000000", "io_threads/serial-1@2",
            "io_threads/serial-64@2", "startup/bare@0"} <= references  # io_threads' question compares 64 clients
    assert {"io_threads/threads-16@2", "spawn_costs/process_pool@10", "gc_cycles/weakref_memory@10",
            "numeric/numexpr-2@10000000"} <= claimed
    assert {"io_threads/threads-64@2", "io_threads/asyncio-64@2", "numeric/numexpr-4@1000000",
            "countdown/threads-4@2000000", "primes/cffi@500", "word_count/split@2"} - claimed <= candidates
    every = references | claimed | candidates
    assert not {"io_threads/threads-4@2", "numeric/numpy@10000000", "startup/import_numpy@0", "countdown/c@2000000",
                "primes/cython_threads-4@500", "numeric/pure_memory@1000000", "pyperformance/go@1"} & every
    assert not (references & claimed or references & candidates or claimed & candidates)


def test_the_profile_budget_applies_without_budget_seconds(tmp_path: Path) -> None:
    run_dir = make_run(tmp_path, budget_seconds=None, profile_budget=44)
    steps = FakeSteps(FakeClock())
    measure_toy(run_dir, steps, open_until({("ft", Y): 3, ("pypy", Y): 3}))
    # 2 s left after the first pass: ft y (2 s) fits, pypy y (4 s) does not; then 0 s left.
    assert steps.extra() == [(3, "ft", [Y])]
    info = run_dir.read_info()
    assert (info.budget_seconds, info.budget_stopped, info.measured_seconds) == (44, "budget spent", 44)


def test_failed_cells_get_no_extra_round(tmp_path: Path) -> None:
    run_dir = make_run(tmp_path, budget_seconds=1000)
    steps = FakeSteps(FakeClock(), fail=frozenset({("ft", Z)}))
    measure_toy(run_dir, steps, open_until({("ft", Z): 3}))
    # ft z failed in round 1 and is not run in round 2 either: 42 - 2 = 40 s.
    assert steps.extra() == []
    info = run_dir.read_info()
    assert info.budget_stopped == "the open decisions' cells failed or are not in this run"
    assert info.measured_seconds == FIRST_PASS - 2
    # A step with a failure does not count in the estimate: ft's is its round-2 step, 2 cells in 4 s.
    assert info.step_seconds["ft"] == {"seconds": 4.0, "cell_rounds": 2}


def test_an_interrupted_extra_round_is_finished_on_resume_with_the_budget_left(tmp_path: Path) -> None:
    whole = make_run(tmp_path / "whole", budget_seconds=60)
    measure_toy(whole, FakeSteps(FakeClock()), open_until(NEEDS))

    run_dir = make_run(tmp_path / "interrupted", budget_seconds=60)
    # Steps 1-6 are the first pass, 7-8 round 3 (cp x, then ft z): stop at ft z.
    first = FakeSteps(FakeClock(), interrupt_at=8)
    with pytest.raises(Interrupted):
        measure_toy(run_dir, first, open_until(NEEDS))
    info = run_dir.read_info()
    assert info.status == "measuring"
    assert info.measured_seconds == 42 + 1
    assert info.extra_round_cells == [("ft", Z), ("cp", X)]  # in the order chosen: ft z needs the fewest

    # A new process: a clock that reads something else entirely; only the seconds it measures count.
    resumed, lines = FakeSteps(FakeClock(now=5.0)), []
    measure_toy(run_dir, resumed, open_until(NEEDS), lines)
    # First round 3's ft z, then rounds 4-12 as in the whole run.
    assert resumed.log == [
        (3, "ft", [Z]), *[(n, "cp", [X]) for n in range(4, 11)], (11, "pypy", [X]), (12, "pypy", [X])
    ]
    assert "extra round 1 (resumed): 2 cells, 1 still to measure" in lines
    assert run_dir.read_info().measured_seconds == 60
    for key in ("budget_seconds", "measured_seconds", "first_pass_seconds", "extra_rounds", "budget_stopped"):
        assert run_dir.read_run()[key] == whole.read_run()[key], key
    for interpreter_id in COST:
        assert run_dir.results_file(interpreter_id).read_text() == whole.results_file(interpreter_id).read_text()


def test_by_default_the_reports_decisions_say_what_is_open(tmp_path: Path, monkeypatch) -> None:
    asked: list[model.Run] = []

    def open_cells(run: model.Run) -> dict[tuple[str, str], budget.Need]:
        asked.append(run)
        return {("ft", Y): budget.Need(1, 2)} if len(asked) == 1 else {}

    figures: list[model.Run] = []

    def cells_without_interval(run: model.Run) -> set[tuple[str, str]]:
        figures.append(run)
        return {("pypy", Z)}

    # Stands for interpmatrix/decisions.py, whose decisions are tested on their own.
    decisions = types.ModuleType("interpmatrix.decisions")
    decisions.open_cells = open_cells
    decisions.cells_without_interval = cells_without_interval
    monkeypatch.setitem(sys.modules, "interpmatrix.decisions", decisions)
    monkeypatch.setattr(interpmatrix, "decisions", decisions, raising=False)
    run_dir = make_run(tmp_path, budget_seconds=1000)
    steps = FakeSteps(FakeClock())
    measure(run_dir, workloads=[TOY], echo=lambda line: None, clock=steps.clock, run=steps)
    # The decision's round, then the figure's, once no decision is open.
    assert steps.extra() == [(3, "ft", [Y]), (4, "pypy", [Z])]
    # Asked on the run as its files stood: after the first pass, then after round 3, then after round 4; the figures
    # after round 3 (nothing open), and after round 4.
    first, second, third = asked
    assert [column.id for column in first.columns] == list(COST)
    assert [cell.name for cell in first.cells] == [X, Y, Z]
    assert set(model.values_by_round(first.column("ft").benchmarks[Y])) == {1, 2}
    assert set(model.values_by_round(second.column("ft").benchmarks[Y])) == {1, 2, 3}
    assert [set(model.values_by_round(run.column("pypy").benchmarks[Z])) for run in figures] == [{1, 2}, {1, 2, 4}]
    assert run_dir.read_info().budget_stopped == "every decision within reach made"


def test_interpreters_take_turns_at_going_first(tmp_path: Path) -> None:
    run_dir = make_run(tmp_path, budget_seconds=None)
    venvs = prepared_venvs(run_dir, list(COST))
    steps = plan_steps(run_dir, [TOY], venvs, rounds=4)
    assert [(step.round, step.venv.id) for step in steps] == [
        (1, "cp"), (1, "ft"), (1, "pypy"),
        (2, "ft"), (2, "pypy"), (2, "cp"),
        (3, "pypy"), (3, "cp"), (3, "ft"),
        (4, "cp"), (4, "ft"), (4, "pypy"),
    ]  # fmt: skip
    # A resumed run plans the same order for what is left (here after round 1's cp step).
    FakeSteps(FakeClock())(run_dir, steps[0], find_profile("default"))
    left = plan_steps(run_dir, [TOY], venvs, rounds=2)
    assert [(step.round, step.venv.id) for step in left] == [(1, "ft"), (1, "pypy"), (2, "ft"), (2, "pypy"), (2, "cp")]


# --------------------------------------------------------------------------------------------------------------------
# The pieces


def test_choose_round_takes_what_fits_fewest_rounds_first() -> None:
    cost = {"cp": 1.0, "pypy": 4.0}.__getitem__
    pairs = [("cp", X), ("pypy", X), ("cp", Y)]
    rounds = {("cp", X): 3, ("pypy", X): 2, ("cp", Y): 3}
    assert budget.choose_round(pairs, rounds, cost, left=6) == [("pypy", X), ("cp", X), ("cp", Y)]
    # 5 s: pypy x (4) then cp x (1); cp y does not fit.
    assert budget.choose_round(pairs, rounds, cost, left=5) == [("pypy", X), ("cp", X)]
    # 3 s: pypy x is passed over for the cheaper ones after it.
    assert budget.choose_round(pairs, rounds, cost, left=3) == [("cp", X), ("cp", Y)]
    assert budget.choose_round(pairs, rounds, cost, left=0.5) == []


def test_a_round_goes_to_the_decisions_the_time_left_can_close_cheapest_first() -> None:
    cost = {"cp": 1.0, "pypy": 1.0}.__getitem__
    pairs = [("cp", X), ("pypy", X), ("cp", Y)]
    rounds = dict.fromkeys(pairs, 1)
    # cp y's decision needs 1 more round of 2 cells, pypy x's 1 of 3, cp x's 12 of 2: 2 s close cp y and pypy x (1 s
    # each); cp x would need 12 s.
    needs = {("cp", X): budget.Need(12, 24), ("pypy", X): budget.Need(1, 3), ("cp", Y): budget.Need(1, 2)}
    assert budget.choose_round(pairs, rounds, cost, left=2, needs=needs) == [("cp", Y), ("pypy", X)]
    # With 13 s, all three: 1 + 1 + 12.
    assert budget.choose_round(pairs, rounds, cost, left=14, needs=needs) == [("cp", Y), ("pypy", X), ("cp", X)]
    # With 1 s, the cheapest to close: cp y. Measured once more than the others, it still goes first: what its
    # decision needs comes before what the pair has had; rounds done only break a tie in what is needed.
    assert budget.choose_round(pairs, rounds, cost, left=1, needs=needs) == [("cp", Y)]
    rounds[("cp", Y)] = 2
    assert budget.choose_round(pairs, rounds, cost, left=1, needs=needs) == [("cp", Y)]
    needs[("pypy", X)] = budget.Need(1, 2)
    assert budget.choose_round(pairs, rounds, cost, left=1, needs=needs) == [("pypy", X)]


def test_when_no_decision_can_close_in_time_a_round_still_goes_cheapest_first() -> None:
    cost = {"cp": 1.0, "pypy": 1.0}.__getitem__
    pairs = [("cp", X), ("pypy", X), ("cp", Y)]
    rounds = dict.fromkeys(pairs, 1)
    # Each needs more rounds than 2 s give: one round of those whose decisions close for the fewest cell rounds.
    needs = {("cp", X): budget.Need(5, 10), ("pypy", X): budget.Need(4, 8), ("cp", Y): budget.Need(6, 12)}
    assert budget.choose_round(pairs, rounds, cost, left=2, needs=needs) == [("pypy", X), ("cp", X)]
    assert budget.choose_round(pairs, rounds, cost, left=0.5, needs=needs) == []


def test_a_cell_round_costs_the_mean_of_its_interpreter_else_of_all() -> None:
    ledger = Ledger(budget=100, clock=FakeClock(), started=1000.0)
    assert ledger.cell_round_seconds("cp") == 0
    ledger.step_seconds = {"cp": {"seconds": 6.0, "cell_rounds": 4}, "pypy": {"seconds": 10.0, "cell_rounds": 1}}
    assert ledger.cell_round_seconds("cp") == 1.5
    # (6 + 10) / (4 + 1)
    assert ledger.cell_round_seconds("ft") == 3.2


def test_profiles_have_budgets_and_old_settings_still_load() -> None:
    assert [find_profile(name).budget for name in ("quick", "default", "rigorous")] == [180, 1200, None]
    old = json.loads((Path(__file__).parent / "fixtures" / "run-small" / "run.json").read_text())["profile_settings"]
    assert "budget" not in old
    assert profile_from("quick", old).budget is None


def test_run_info_reads_the_budget_keys() -> None:
    info = RunInfo.from_dict(
        {
            "interpreters": ["cp"],
            "budget_seconds": 300,
            "measured_seconds": 290.5,
            "first_pass_seconds": 200.0,
            "extra_rounds": [{"round": 3, "cells": 4, "seconds": 90.5}],
            "budget_stopped": "every decision within reach made",
            "extra_round_cells": [["cp", X]],
        },
        "run",
    )
    assert (info.budget_seconds, info.measured_seconds, info.first_pass_seconds) == (300, 290.5, 200.0)
    assert info.extra_rounds == [{"round": 3, "cells": 4, "seconds": 90.5}]
    assert info.budget_stopped in budget.STOP_REASONS
    assert info.extra_round_cells == [("cp", X)]
    empty = RunInfo.from_dict({"interpreters": []}, "old")
    assert (empty.budget_seconds, empty.measured_seconds, empty.extra_rounds, empty.budget_stopped) == (
        None, None, [], None,
    )  # fmt: skip


def test_an_extra_round_through_pyperf_reuses_the_calibrated_loops(tmp_path: Path) -> None:
    primes = replace(find_workload("primes"), sizes=(50,), variants=find_workload("primes").variants[:1])
    (cell,) = primes.cells()
    run_dir = RunDir(tmp_path / "run")
    answer = discovery.probe(Path(sys.executable))
    assert answer is not None
    host = discovery.interpreter_from_probe(answer, "path", "host")
    run_dir.write_run(
        {
            "run_id": "run",
            "profile": "quick",
            "profile_settings": asdict(find_profile("quick")),
            "workloads": ["primes"],
            "interpreters": ["host"],
            "budget_seconds": 600,
            "started": datetime.now(timezone.utc).isoformat(),
        }
    )
    record = {"interpreter": host.to_dict(), "venv_python": sys.executable, "setup_error": None}
    run_dir.write_interpreter("host", record)
    measure(run_dir, workloads=[primes], echo=lambda line: None, open_cells=open_until({("host", cell.name): 2}))
    benchmark = pyperf.BenchmarkSuite.load(str(run_dir.results_file("host"))).get_benchmark(cell.name)
    # quick's one round, then one extra round; the decision closes with 2 rounds.
    assert rounds_done(benchmark) == {1, 2}
    assert len({run.get_loops() for run in benchmark.get_runs() if run.values}) == 1
    info = run_dir.read_info()
    assert info.budget_stopped == "every decision within reach made"
    assert [entry["round"] for entry in info.extra_rounds] == [2]


# --------------------------------------------------------------------------------------------------------------------
# The command line


@pytest.fixture
def found():
    fixtures = Path(__file__).parent / "fixtures" / "probes"
    answers = [json.loads(path.read_text()) for path in sorted(fixtures.glob("*.json"))]
    return discovery.assign_ids([(answer["probe"], answer["origin"]) for answer in answers])


def plan(tmp_path: Path, found, *argv: str) -> cli.Plan:
    return cli.plan_matrix([*argv, "--results-dir", str(tmp_path / "results")], found)


@pytest.mark.parametrize("argv", [["--budget", "0"], ["--budget", "abc"], ["--budget", "-1"], ["--budget=-1"]])
def test_a_budget_must_be_a_positive_number_of_minutes(tmp_path: Path, found, argv: list[str]) -> None:
    given = argv[-1].split("=")[-1]
    with pytest.raises(cli.UsageError) as error:
        plan(tmp_path, found, *argv)
    assert str(error.value) == (
        f"argument --budget: give the minutes measuring may take in all, a number above 0, e.g. 10 (got {given!r}); "
        "`nox -s matrix -- --help` lists the options"
    )
    assert not (tmp_path / "results").exists()


def test_a_budget_in_minutes_is_kept_in_seconds(tmp_path: Path, found) -> None:
    assert plan(tmp_path, found, "--budget", "5").run_dir.read_run()["budget_seconds"] == 300
    assert plan(tmp_path, found, "--budget", "0.5").run_dir.read_run()["budget_seconds"] == 30


def test_without_budget_the_profile_decides(tmp_path: Path, found) -> None:
    assert plan(tmp_path, found).run_dir.read_run()["budget_seconds"] is None


def test_resume_keeps_the_budget_it_was_started_with_or_adds_minutes(tmp_path: Path, found) -> None:
    first = plan(tmp_path, found, "--budget", "5")
    assert plan(tmp_path, found, "--resume").run_dir == first.run_dir
    assert first.run_dir.read_run()["budget_seconds"] == 300
    # A run that measured 280 s, given 10 minutes more: 280 + 600.
    first.run_dir.update_run(measured_seconds=280.0)
    assert plan(tmp_path, found, "--resume", "--budget", "10").run_dir == first.run_dir
    assert first.run_dir.read_run()["budget_seconds"] == 880
    with pytest.raises(cli.UsageError, match="leave out --profile"):
        plan(tmp_path, found, "--resume", "--profile", "quick", "--budget", "10")
