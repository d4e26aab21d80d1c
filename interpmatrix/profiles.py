"""Measurement profiles: how many pyperf worker processes, values and warm-ups a cell gets.

A cell's worker processes are spread over ``rounds``: each round runs ``processes_per_round`` pyperf workers for
every cell on every interpreter before the next round starts, so that a shared machine's drift hits every column
alike instead of whichever interpreter happened to run during a slow minute.

A matrix is 97 cells per interpreter. Measured on the project's 2-core machine, a cell round costs 0.5 s on CPython and
1 s on PyPy (a default run on fourteen interpreters): a fresh worker process (start and ``import pyperf``: 0.09 s on
CPython 3.12, 0.2 s on PyPy 3.11, of which pyperf's own import is 60-70 ms and 140 ms), its warm-ups, 3 timed values of
at least ``min_time`` each, and in the first round the answer check's one call and the calibration, which doubles the
loops from one warm call until a value lasts ``min_time`` (with a JIT, then times that count once more). Of a default
first pass on fourteen interpreters (843 s, 2026-12-03, ``tools/time_breakdown.py``), the kernels' timed warm-ups and
values took 43 %, pyperf's main process between one worker and the next (check, start, imports) 32 %, the workers'
probes, metadata and set-up 9 %, each step's start and the driver 11 %. Fresh worker processes are the independent units
of the report's intervals, and the values inside one scatter less than processes do (a median 6-7 % against 9-12 % that
day): so a value lasts only 0.02 s, and the time goes to processes where decisions need them.

The first pass gives every cell one process; the extra rounds of the budget then go to the cells the report's
decisions rest on (43 of the 79: the claims' cells and the verdicts' candidates), which a second process gives their
first interval, and on to the ones still open. A cell no decision rests on borrows its variance from the cells of its
workload that were measured twice (``interpmatrix.intervals``). Two full rounds, as ``default`` once had, cost 16 minutes on nine
interpreters; ``rigorous`` is for publishing.

Every interpreter gets the same number of processes and values; the report's intervals take worker processes as
their independent units (``interpmatrix.intervals``). Only warm-ups differ: a JIT needs its loops compiled before a
value means anything. Four are enough for PyPy here: measured on the project's machine, its second warm-up already
runs at steady speed (median 1.00-1.01× of the timed values), and a process whose first timed values still run slow
has them counted as warm-up by the report. CPython's own JIT (``PYTHON_JIT=1``) gets two: over four default runs here
(1,026 processes with four warm-ups), its second, third and fourth warm-ups ran at 1.003× the median of the timed
values, each above 1.1× in 22-24 % of processes, the machine's own scatter, while PyPy's came down from 35 % (second)
through 29 % to 25 % (fourth). Two fewer calls per cell save about 25 s of a default first pass on fourteen
interpreters. A cell whose values still speed up at the end gets more warm-ups in its next rounds either way
(``invocation.warmups_needed``).

A profile's ``rounds`` are the first pass, every cell on every interpreter. Its ``budget`` is the time measuring may
take in all, the first pass included: after the first pass, extra rounds go to the cells whose decisions in the report
are still open, while the budget lasts (``interpmatrix.budget``). A first pass that may not fit is split: the cells the
report's decisions rest on first, their extra rounds next, the other cells with what is left. ``rigorous`` has none:
a figure meant for publishing should rest on the same rounds in every cell, not on how early a decision happened to
close, and its 10 rounds already give every cell 20 processes; ``--budget`` still adds extra rounds to it for
whoever wants them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Profile:
    name: str
    description: str
    rounds: int
    processes_per_round: int
    values: int
    warmups: int
    jit_warmups: int
    min_time: float
    # A cell invocation (one round of one cell) running longer than this is killed and reported as a timeout.
    cell_timeout: float
    # Seconds of measuring in all, first pass included (None: no extra rounds). Last, with a default, so that the
    # settings run.json kept before profiles had a budget still make a Profile (and give no extra rounds).
    budget: float | None = None
    # Warm-ups for CPython's own JIT; None: ``jit_warmups``, as for every JIT before CPython's had a count of its own
    # (the settings run.json kept then).
    cpython_jit_warmups: int | None = None

    @property
    def processes(self) -> int:
        return self.rounds * self.processes_per_round

    def warmups_for(self, jit: bool, cpython: bool = False) -> int:
        """Warm-ups per worker process for an interpreter with a JIT or without, CPython's own or another (PyPy's; a
        JVM's, for Jython)."""
        if not jit:
            return self.warmups
        if cpython and self.cpython_jit_warmups is not None:
            return self.cpython_jit_warmups
        return self.jit_warmups

    def pyperf_args(self, jit: bool, cpython: bool = False) -> list[str]:
        """pyperf options for one round of one cell (``warmups_for`` says what ``jit`` and ``cpython`` mean)."""
        return [
            f"--processes={self.processes_per_round}",
            f"--values={self.values}",
            f"--warmups={self.warmups_for(jit, cpython)}",
            f"--min-time={self.min_time}",
        ]


PROFILES: tuple[Profile, ...] = (
    Profile(
        name="quick",
        description="a first look: 1 round x 1 process x 3 values within 3 minutes of measuring: the cells the "
        "decisions rest on first (each workload's reference cells, the claims' cells, the verdicts' candidates), then "
        "extra rounds of those still undecided, then the other cells while time lasts",
        rounds=1,
        processes_per_round=1,
        values=3,
        warmups=1,
        jit_warmups=4,
        min_time=0.02,
        cell_timeout=60,
        budget=180,
        cpython_jit_warmups=2,
    ),
    Profile(
        name="default",
        description="1 round x 1 process x 3 values, then interleaved extra rounds for the cells of undecided "
        "decisions until each decision within reach is made, then one for the figures measured once, within 20 "
        "minutes of measuring",
        rounds=1,
        processes_per_round=1,
        values=3,
        warmups=1,
        jit_warmups=4,
        min_time=0.02,
        cell_timeout=120,
        # Fourteen interpreters (ten through pyperf, four self-timed) times 97 cells took 9:36 to 13:35 for the first
        # pass in nine default runs on the 2-core machine (2026-12-04; 12:44 to 15:04 on a busier day), which decides
        # nothing by itself (no cell has a second process yet): the rest goes to the decisions still open.
        budget=1200,
        cpython_jit_warmups=2,
    ),
    Profile(
        name="rigorous",
        description="10 rounds x 2 processes x 3 values, no extra rounds (every cell the same): for publishing",
        rounds=10,
        processes_per_round=2,
        values=3,
        warmups=1,
        jit_warmups=10,
        min_time=0.1,
        cell_timeout=240,
        # No count of its own for CPython's JIT: a figure for publishing has no time to save on its warm-ups.
    ),
)


def profile_names() -> list[str]:
    return [profile.name for profile in PROFILES]


def find_profile(name: str) -> Profile:
    for profile in PROFILES:
        if profile.name == name:
            return profile
    raise ValueError(f"unknown profile {name!r}; valid profiles: {', '.join(profile_names())}")


def profile_from(name: str | None, settings: Mapping[str, Any] | None) -> Profile:
    """The profile a run was measured with: the settings run.json kept (a profile may change later), else the
    profile of that name now (runs planned before run.json kept them). ValueError when neither is there."""
    if settings:
        try:
            return Profile(**settings)
        except TypeError as error:
            raise ValueError(f"run.json's profile_settings do not describe a profile: {error}") from error
    return find_profile(str(name))
