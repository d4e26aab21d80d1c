"""Which of the interpreters found a run takes, and why each one is in or out.

The rule, as the README states it: the newest patch of every CPython minor still supported by its core developers
(``END_OF_LIFE``), each with its JIT column where the build has a JIT; every free-threaded build with its same-source
GIL twin; the newest PyPy of the newest Python version PyPy was found for (``PYPY_ONE_LINE``); and the systems the seeds
name that pyperf cannot run on, timed by the self-timing runner (interpmatrix.selftimed): the newest CPython 2.7 and
every Jython, MicroPython and Pyodide found by its marker (interpmatrix.runtimes). Older patches, minors past their end
of life, PyPy's older Python versions and the GIL forced back on in a free-threaded build run when named
(``--interpreters cpython-3.10``) or with ``--interpreters all``. The baseline is then the newest GIL CPython without a
JIT (``model.choose_baseline``).

Every decision comes with its reason, so that `nox -s interpreters` and the report's interpreters section can say
why an interpreter found on the machine has no column. The date that decides "still supported" is a parameter: the
report judges by the day its run was planned, so rebuilding a report gives the same words.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from .discovery import GIL_SWITCH, JIT_SWITCH, MIN_SUPPORTED, Interpreter, freshness

# The month each CPython minor's security support ends, from its release-schedule PEP (596, 619, 664, 693, 719, 745,
# 790): five years after its first release. A minor newer than the table is supported; one older is not.
END_OF_LIFE = {
    "3.9": "2025-10",
    "3.10": "2026-10",
    "3.11": "2027-10",
    "3.12": "2028-10",
    "3.13": "2029-10",
    "3.14": "2030-10",
    "3.15": "2031-10",
}
_MIN_TEXT = "%d.%d" % MIN_SUPPORTED
_TOO_OLD = f"too old: pyperf's workloads need Python {_MIN_TEXT}+, the self-timing runner 2.7 or 3.4+"

# Why the default selection takes each runtime found by its marker (interpmatrix.runtimes), though pyperf cannot run
# there: each stands for a system the seeds or issue 16 name, and its figures come from the self-timing runner.
RUNTIME_REASONS = {
    "jython": "seed 003 names Jython: Python on the JVM, without a GIL",
    "micropython": "Python for small devices (seed 002 timed an embedded ARM board)",
    "pyodide": "CPython compiled to WebAssembly, under Node.js",
}
SELF_TIMED_NOTE = "timed by interpmatrix's self-timing runner (no pyperf there)"
# The Python 2 the seeds measured (seed 000: CPython 2.7.1 against PyPy 1.7), kept as the "then" of then and now.
SEED_CPYTHON = "2.7"
# PyPy keeps one Python 3 version at a time: "Typically we will maintain only one version of Python3" (PyPy v7.3.17's
# release notes, August 2024, which dropped PyPy3.9; v7.3.20 released 3.11 alone). An older one gets no fixes, so it
# is not a choice a reader makes today, and its column cost a default run here a tenth of its first pass (79 of
# 832 s, 2026-12-06): it runs when named.
PYPY_ONE_LINE = "PyPy maintains one Python 3 version at a time (PyPy v7.3.17's release notes)"


@dataclass(frozen=True)
class Choice:
    """Whether the default selection takes an interpreter, and why, in words a reader of the table understands."""

    selected: bool
    why: str


def _minor_key(minor: str) -> tuple[int, int]:
    major, _, rest = minor.partition(".")
    return int(major), int(rest)


def past_end_of_life(minor: str, today: datetime.date) -> str | None:
    """The month ``minor``'s support ended ("2026-10"), or None while it is supported."""
    if minor in END_OF_LIFE:
        end = END_OF_LIFE[minor]
        return end if today.strftime("%Y-%m") > end else None
    oldest = min(END_OF_LIFE, key=_minor_key)
    return "before " + END_OF_LIFE[oldest] if _minor_key(minor) < _minor_key(oldest) else None


def _not_newest(interp: Interpreter, best: Interpreter | None, what: str) -> str:
    if best is None:
        return f"not the newest {what}"
    if freshness(best)[:2] == freshness(interp)[:2]:
        # The same release found twice (a provisioned root and the system's package): the more specific origin wins.
        return f"the same {what} as {best.id} ({best.origin}), found as well in {interp.origin}"
    return f"an older {what} than {best.id}"


def choices(interpreters: Iterable[Interpreter], today: datetime.date | None = None) -> dict[str, Choice]:
    """Each interpreter's id -> whether the default selection takes it, and why."""
    today = today or datetime.date.today()
    interpreters = list(interpreters)
    by_id = {i.id: i for i in interpreters}
    newest: dict[tuple[str, str], Interpreter] = {}
    for interp in interpreters:
        if interp.supported and not interp.variant_of and not interp.free_threaded:
            key = (interp.implementation, interp.minor)
            newest[key] = max(newest.get(key, interp), interp, key=freshness)
    twins_of = {i.twin: i.id for i in interpreters if i.free_threaded and i.twin and not i.variant_of}
    pypy_minors = [minor for implementation, minor in newest if implementation == "pypy"]
    newest_pypy_minor = max(pypy_minors, key=_minor_key) if pypy_minors else None

    def base_choice(interp: Interpreter) -> Choice:
        if interp.self_timed:
            return self_timed_choice(interp)
        if not interp.supported:
            # A run planned before self-timing kept no ``self_timed`` for its 2.7: its reports keep their words.
            return Choice(False, f"too old: the workloads need Python {_MIN_TEXT}+")
        if interp.implementation == "cpython" and interp.free_threaded:
            return Choice(True, "a free-threaded build")
        if interp.id in twins_of:
            return Choice(True, f"the same-source GIL twin of {twins_of[interp.id]}")
        best = newest.get((interp.implementation, interp.minor))
        if interp.implementation == "pypy":
            if best is not interp:
                return Choice(False, _not_newest(interp, best, f"PyPy for Python {interp.minor}"))
            if interp.minor != newest_pypy_minor:
                newer = newest[("pypy", newest_pypy_minor)]
                return Choice(False, f"an older Python version than {newer.id}: {PYPY_ONE_LINE}")
            return Choice(True, f"the newest PyPy, for Python {interp.minor}")
        if interp.implementation != "cpython":
            return Choice(False, f"{interp.implementation} is not among the default families (name its id)")
        ended = past_end_of_life(interp.minor, today)
        if ended:
            return Choice(False, f"Python {interp.minor} is past its end of life ({ended})")
        if best is interp:
            return Choice(True, f"the newest {interp.minor}")
        return Choice(False, _not_newest(interp, best, interp.minor))

    def self_timed_choice(interp: Interpreter) -> Choice:
        if interp.implementation in RUNTIME_REASONS:
            return Choice(True, f"{RUNTIME_REASONS[interp.implementation]}; {SELF_TIMED_NOTE}")
        same = [i for i in interpreters if i.self_timed and (i.implementation, i.minor) == (interp.implementation,
                                                                                          interp.minor)]
        if interp.implementation == "cpython" and interp.minor == SEED_CPYTHON:
            best = max(same, key=freshness)
            if best is interp:
                return Choice(True, f"the newest CPython {SEED_CPYTHON}, which seed 000 measured; {SELF_TIMED_NOTE}")
            return Choice(False, _not_newest(interp, best, interp.minor))
        ended = past_end_of_life(interp.minor, today) or "its end"
        return Choice(False, f"Python {interp.minor} is past its end of life ({ended}); it would be {SELF_TIMED_NOTE}")

    result: dict[str, Choice] = {}
    for interp in interpreters:
        if not interp.variant_of:
            result[interp.id] = base_choice(interp)
            continue
        if interp.variant_of not in by_id:
            result[interp.id] = Choice(False, f"a variant of {interp.variant_of}, which was not found")
            continue
        base = result.get(interp.variant_of) or base_choice(by_id[interp.variant_of])
        if dict(interp.env).get(GIL_SWITCH) == "1":
            result[interp.id] = Choice(False, f"{interp.variant_of} with the GIL forced on: only when named")
        elif dict(interp.env).get(JIT_SWITCH) == "1":
            result[interp.id] = Choice(base.selected, f"the JIT column of {interp.variant_of}"
                                       + ("" if base.selected else ", which is not taken"))
        else:
            result[interp.id] = Choice(False, f"a variant of {interp.variant_of}: only when named")
    return result


def default_selection(interpreters: Iterable[Interpreter], today: datetime.date | None = None) -> list[Interpreter]:
    """The interpreters the matrix takes when none are named (the module's rule), in discovery's order."""
    interpreters = list(interpreters)
    chosen = choices(interpreters, today)
    return [i for i in interpreters if chosen[i.id].selected]


def select(interpreters: Iterable[Interpreter], spec: str | None) -> list[Interpreter]:
    """Interpreters named by ``spec``: None/"" for the default selection, "all", or comma-separated ids."""
    interpreters = list(interpreters)
    if not spec or not spec.strip():
        return default_selection(interpreters)
    if spec.strip() == "all":
        return [i for i in interpreters if i.measurable]
    by_id = {i.id: i for i in interpreters}
    wanted = {part.strip() for part in spec.split(",") if part.strip()}
    unknown = sorted(wanted - by_id.keys())
    if unknown:
        valid = ", ".join(i.id for i in interpreters if i.measurable) or "(none found)"
        raise ValueError(f"unknown interpreter id(s): {', '.join(unknown)}. Valid ids: {valid}, or 'all' "
                         "(`nox -s interpreters` lists them with their builds)")
    too_old = [ident for ident in sorted(wanted) if not by_id[ident].measurable]
    if too_old:
        raise ValueError(f"{', '.join(too_old)}: {_TOO_OLD}; choose another id (`nox -s interpreters`)")
    return [i for i in interpreters if i.id in wanted]


def interpreters_table(
    interpreters: Sequence[Interpreter], today: datetime.date | None = None
) -> tuple[list[str], list[list[str]]]:
    """Headers and rows describing ``interpreters``, for tabulate, with the reason each is in or out."""
    chosen = choices(interpreters, today)
    headers = ["id", "implementation", "version", "free-threaded build", "GIL at run time", "JIT", "environment",
               "build flags", "compiler", "origin", "executable", "selected by default"]
    rows = []
    for i in interpreters:
        version = f"{i.version} (PyPy {i.implementation_version})" if i.implementation == "pypy" else i.version
        choice = chosen[i.id]
        rows.append([f"{i.id} (twin of {i.twin})" if i.twin else i.id, i.implementation, version,
                     "yes" if i.free_threaded else "no", "on" if i.gil_enabled else "off", i.jit, i.env_text,
                     i.build_flags, i.compiler, i.origin, i.executable,
                     f"{'yes' if choice.selected else 'no'}: {choice.why}"])
    return headers, rows
