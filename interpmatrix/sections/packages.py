"""Will my packages work? Each package installed in a fresh venv of each interpreter, and imported there.

The answers come from the run's ``packages.json``: the user's own requirements (``--requirements FILE``, and the
``REQUIREMENTS`` of their workload files), tried during the run, and the default list of widely used packages with
compiled parts, as ``nox -s packages`` last tried them on these interpreters (``interpmatrix.compat``). A column that
differs from another only by its environment (a JIT switched on) shares that binary's packages and has no column.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import PurePath
from typing import TYPE_CHECKING

from ..compat.tried import NOT_TRIED, TIMEOUT, WHEEL, PackageResult, Tried
from ..markdown import md, table

if TYPE_CHECKING:  # `nox -s packages` renders this section without pyperf, which the model needs
    from ..model import Run
    from . import Charts

LEGEND = (
    "✓ wheel: installed from a wheel; ✓ built (s): built from source, in that many seconds; ✓ bundled: the "
    "interpreter's own copy is what imports (PyPy ships cffi), whatever was installed; ✗: not installable, "
    "or installed but its import fails (the reason is under the table); ⏱: stopped at the time limit; "
    "**GIL on**: importing it turned a free-threaded build's GIL back on (CPython warns, and threads stop running in "
    "parallel); cpyext: C extensions run through PyPy's emulation of CPython's C API, slower than cffi or pure "
    "Python there; cffi: cffi modules, PyPy's fast path; —: not tried (why is under the table)."
)


Note = tuple[str, str, list[str]]  # (package, reason, the interpreters it was given on)

TRY_THEM = "`nox -s packages` tries them (about a minute where wheels exist), and the next report shows them"


def cell_text(result: PackageResult | None, notes: list[Note]) -> str:
    """One cell of the table; a reason goes to ``notes`` (one note per package and reason, naming every interpreter
    it was given on) and the cell points at it by number."""
    if result is None:
        return "—"

    def noted(mark: str, reason: str) -> str:
        found = next((i for i, (name, why, _) in enumerate(notes) if (name, why) == (result.name, md(reason))), None)
        if found is None:
            notes.append((result.name, md(reason), []))
            found = len(notes) - 1
        notes[found][2].append(result.interpreter)
        return f"{mark} [{found + 1}]"

    if result.install == NOT_TRIED:
        return noted("—", result.reason)
    if result.install == TIMEOUT:
        return noted("⏱", result.reason)
    if not result.installed:
        return noted("✗", result.reason)
    if not result.imported:
        return noted("✗ import", result.import_errors[0] if result.import_errors else "its import fails")
    if result.kind == "the interpreter's own":
        # What imports is the interpreter's own copy (PyPy ships cffi): whatever was installed is shadowed.
        text = f"✓ bundled {result.version or ''}".rstrip()
    elif result.install == WHEEL:
        text = "✓ wheel"
    elif result.build_cached:
        text = "✓ built (cached build)"
    else:
        text = f"✓ built ({result.install_seconds or 0:.0f} s)"
    if result.gil_reenabled:
        text += " **GIL on**"
    if result.through_cpyext:
        text += " cpyext"
    elif result.implementation == "pypy" and result.kind == "cffi":
        text += " cffi"
    return text


def package_table(tried: Tried, requirements: Sequence[str], notes: list[Note]) -> str:
    headers = ["package", *tried.interpreters]
    rows = []
    for requirement in requirements:
        versions = {r.version for r in tried.results if r.requirement == requirement and r.version}
        # A local folder by its name: its absolute path is the user's business, and long.
        shown = f"{PurePath(requirement).name} (local)" if requirement.startswith("/") else requirement
        label = f"{shown} ({', '.join(sorted(versions))})" if versions else shown
        rows.append([md(label), *(cell_text(tried.result(iid, requirement), notes) for iid in tried.interpreters)])
    works = [sum(1 for req in requirements if (r := tried.result(iid, req)) is not None and r.works)
             for iid in tried.interpreters]
    rows.append(["**works**", *(f"{n} of {len(requirements)}" for n in works)])
    return table(headers, rows)


def costs(tried: Tried, interpreter: str, user: bool) -> list[str]:
    """What the packages (the user's own, or the default list's) cost on one interpreter: those that do not
    install or import, those that turn the GIL back on, those that go through cpyext."""
    results = [r for r in tried.results if r.interpreter == interpreter and (r.source != "default list") == user
               and r.install != NOT_TRIED]
    if not results:
        return []
    broken = [r.name for r in results if not r.works and r.install != TIMEOUT]
    stopped = [r.name for r in results if r.install == TIMEOUT]
    gil = [r.name for r in results if r.gil_reenabled]
    cpyext = [r.name for r in results if r.works and r.through_cpyext]
    total = f"your {len(results)}" if user else f"the {len(results)} widely used"
    found = []
    if broken:
        verb = "does" if len(broken) == 1 else "do"
        found.append(f"{len(broken)} of {total} packages {verb} not install or import there ({', '.join(broken)})")
    if stopped:
        found.append(f"{len(stopped)} of {len(results)} {'was' if len(stopped) == 1 else 'were'} still building at "
                     f"the time limit ({', '.join(stopped)})")
    if gil:
        found.append(f"{len(gil)} of {len(results)} {'turns' if len(gil) == 1 else 'turn'} the GIL back on "
                     f"({', '.join(gil)})")
    if cpyext:
        found.append(f"{len(cpyext)} of {len(results)} {'runs' if len(cpyext) == 1 else 'run'} through cpyext "
                     f"({', '.join(cpyext)})")
    return found


def owner(run: Run, interpreter_id: str) -> str:
    """The column whose packages ``interpreter_id`` has: itself, or the binary it only switches a JIT of."""
    tried = run.packages
    if tried is None or interpreter_id in tried.interpreters:
        return interpreter_id
    shared = dict(tried.shared)
    column = next((c for c in run.columns if c.id == interpreter_id), None)
    if column is not None and column.interpreter.variant_of and interpreter_id in shared:
        return column.interpreter.variant_of
    return interpreter_id


def verdict_costs(run: Run, interpreter_id: str) -> str | None:
    """For the verdict: what the user's own requirements would cost on the interpreter it names, or None."""
    if run.packages is None or not run.packages.requirements(user=True):
        return None
    found = costs(run.packages, owner(run, interpreter_id), user=True)
    if not found:
        total = len(run.packages.requirements(user=True))
        return f"all {total} of your packages install and import on {interpreter_id}"
    return f"on {interpreter_id}, " + "; ".join(found)


def summary_line(run: Run) -> str | None:
    """The verdict's line on packages: per interpreter, what does not work, turns the GIL on, or needs cpyext."""
    tried = run.packages
    if tried is None:
        return None
    user = bool(tried.requirements(user=True))
    parts = [f"{iid}: {'; '.join(found)}" for iid in tried.interpreters if (found := costs(tried, iid, user))]
    what = "your requirements" if user else f"{len(tried.requirements(user=False))} widely used packages"
    if not parts and user:
        parts = [f"all {len(tried.requirements(user=True))} of your packages install and import on "
                 f"{', '.join(tried.interpreters)}"]
    if not parts:
        return None
    return f"- **Packages** ({what}; [will my packages work?](#will-my-packages-work)): " + ". ".join(parts) + "."


def render(run: Run, charts: Charts) -> str:
    return "" if run.packages is None else render_tried(run.packages)


def render_tried(tried: Tried, heading: str = "##") -> str:
    """The section's markdown from a ``packages.json`` alone (``nox -s packages`` writes it as reports/packages.md)."""
    intro = ("Each package installed in a fresh venv of each interpreter, then imported there "
             f"({tried.installer or 'installer not recorded'}"
             + (f"; a build is stopped after {tried.timeout:.0f} s" if tried.timeout else "") + ").")
    body: list[str] = []
    if tried.shared:
        body += ["", "Without a column of their own: " + "; ".join(f"{iid} ({why})" for iid, why in tried.shared)
                 + "."]
    if tried.offline:
        body += ["", f"No network: {md(tried.offline)}. Answers come from the cache where it had them."]
    if tried.errors:
        body += ["", "Not tried, not requirements: " + "; ".join(md(error) for error in tried.errors) + "."]
    notes: list[Note] = []
    tables = 0
    for user, title in ((True, "Your requirements"), (False, "Widely used packages with compiled parts")):
        requirements = tried.requirements(user)
        if not requirements:
            continue
        untried = sum(1 for r in tried.results if r.source == "default list" and r.install == NOT_TRIED)
        if not user and untried == len(requirements) * len(tried.interpreters):
            # Nothing of the list tried on any interpreter: a table of dashes, each with the same note, says less.
            body += ["", f"**{title}**: none tried on these interpreters yet ({', '.join(requirements)}): "
                         f"{TRY_THEM}."]
            continue
        tables += 1
        body += ["", f"**{title}**", "", package_table(tried, requirements, notes)]
        if not user and untried:
            body += ["", f"{untried} of these were not tried on these interpreters yet: {TRY_THEM}."]
    if notes:
        body += ["", *(f"{number}. {name} on {', '.join(where)}: {reason}"
                       for number, (name, reason, where) in enumerate(notes, start=1))]
    # The legend only where a table needs it.
    return "\n".join([f"{heading} Will my packages work?", "", f"{intro} {LEGEND}" if tables else intro, *body])
