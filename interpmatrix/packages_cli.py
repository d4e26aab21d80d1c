"""``nox -s packages``: will my packages install and work on each interpreter? (``interpmatrix.compat``)

Standalone, it tries the packages named on the command line and in ``-r FILE``s, or the default list of widely used
packages with compiled parts when none are named, on the matrix's default interpreters (``--interpreters`` as the
matrix takes it), prints the table, and writes ``reports/packages.md`` and ``results/packages/<id>/packages.json``.

As a step of a matrix run (``--run RUN_DIR``), it tries the run's own requirements (``--requirements FILE`` and the
``REQUIREMENTS`` of its workload files) on the run's interpreters, takes the default list from the cache only, and
writes the run's ``packages.json``, which the report's "Will my packages work?" section and its verdict read.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Sequence
from datetime import datetime, timezone
from pathlib import Path

from . import budget, discovery, selection
from .compat import trying, wanted
from .compat.tried import MAX_AGE_DAYS, PACKAGES_FILE, Cache, Tried
from .discovery import Interpreter
from .registry import REPORTS_DIR, RESULTS_DIR
from .results import RunDir, new_run_id
from .sections.packages import render_tried

INSTALLERS = ("auto", "uv", "pip")


def add_arguments(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    parser.add_argument("names", nargs="*", metavar="PACKAGE",
                        help="requirements to try (numpy, 'numpy>=2', ./local/folder); default: the default list")
    parser.add_argument("-r", "--requirements", action="append", default=[], type=Path, metavar="FILE",
                        help="a requirements file, one requirement per line (repeatable)")
    parser.add_argument("--interpreters", metavar="IDS",
                        help="comma-separated ids from `nox -s interpreters`, or `all`; default: the matrix's")
    parser.add_argument("--timeout", type=budget.time_limit, default=trying.DEFAULT_TIMEOUT, metavar="SECONDS",
                        help=f"stop an install (a build from source) after this long; default: "
                             f"{trying.DEFAULT_TIMEOUT:.0f}")
    parser.add_argument("--installer", choices=INSTALLERS, default="auto",
                        help="uv where it is installed (auto, the default), or virtualenv and pip")
    parser.add_argument("--refresh", action="store_true",
                        help=f"try everything again instead of using answers younger than {MAX_AGE_DAYS} days "
                             "from the cache")
    parser.add_argument("--run", type=Path, metavar="RUN_DIR", help=argparse.SUPPRESS)
    parser.add_argument("--results-dir", type=Path, default=RESULTS_DIR, help=argparse.SUPPRESS)
    parser.add_argument("--reports-dir", type=Path, default=REPORTS_DIR, help=argparse.SUPPRESS)
    return parser


def wanted_from(names: Sequence[str], files: Sequence[Path]) -> tuple[list[wanted.Wanted], list[str]]:
    """The requirements named on the command line and in files, with every line that is not one as an error."""
    found, errors = wanted.from_names(names)
    for path in files:
        more, bad = wanted.read_requirements(path)
        found += more
        errors += bad
    return wanted.unique(found), errors


def _run_requirements(run: dict) -> list[wanted.Wanted]:
    """A matrix run's own requirements: its --requirements file's, then its workload files' REQUIREMENTS."""
    found = [wanted.Wanted(item["requirement"], item["name"], tuple(item.get("imports", ())), item["source"])
             for item in run.get("requirements", [])]
    for record in run.get("workload_files", []):
        more, _ = wanted.from_names(record.get("requirements", []), f"workload file {Path(record['path']).name}")
        found += more
    return wanted.unique(found)


def try_packages(args: argparse.Namespace, interpreters: Sequence[Interpreter] | None = None,
                 echo: Callable[[str], None] = print) -> Path:
    """Try what ``args`` asks for; returns the packages.json written. Raises ValueError for bad usage."""
    found = list(interpreters) if interpreters is not None else discovery.discover()
    cache = Cache(discovery.cache_dir() / "packages")
    installer, installer_line = trying.choose_installer(args.installer)
    if args.run is not None:
        run_dir = RunDir(args.run)
        run = run_dir.read_run()
        by_id = {interpreter.id: interpreter for interpreter in found}
        selected = [by_id[iid] for iid in run["interpreters"] if iid in by_id]
        user, errors = _run_requirements(run), list(run.get("requirement_errors", []))
        out, logs = run_dir.path / PACKAGES_FILE, run_dir.path / "packages-logs"
    else:
        selected = selection.select(found, args.interpreters)
        user, errors = wanted_from(args.names, args.requirements)
        if errors and not user:
            raise ValueError("nothing to try: " + "; ".join(errors))
        folder = args.results_dir / "packages" / new_run_id()
        out, logs = folder / PACKAGES_FILE, folder / "logs"
    targets, shared = trying.pip_targets(selected)
    if not targets:
        raise ValueError("no interpreter to try packages on: `nox -s interpreters` lists what was found")
    for error in errors:
        echo(f"not tried: {error}")
    to_install = user if (user or args.run is not None) else list(wanted.DEFAULT_PACKAGES)
    offline = trying.unreachable_index() if to_install else None
    echo(installer_line + (f"; no network: {offline}; using the cache only" if offline else ""))
    results = trying.check(targets, to_install, cache=cache, installer=installer, timeout=args.timeout,
                           refresh=args.refresh, offline=offline, echo=echo, log_dir=logs)
    if args.run is not None:
        # The default list as `nox -s packages` last tried it: a matrix run installs only what it was asked for.
        results += trying.check(targets, [w for w in wanted.DEFAULT_PACKAGES if w not in user], cache=cache,
                                installer=installer, cached_only=True, echo=lambda line: None)
    tried = Tried(tuple(results), tuple(t.id for t in targets), tuple(shared), tuple(errors), offline,
                  installer_line.removeprefix("installer: "), args.timeout,
                  datetime.now(timezone.utc).isoformat(timespec="seconds"))
    out.parent.mkdir(parents=True, exist_ok=True)
    tried.write(out)
    if args.run is None:
        text = render_tried(tried, heading="#")
        args.reports_dir.mkdir(parents=True, exist_ok=True)
        (args.reports_dir / "packages.md").write_text(text + "\n", encoding="utf-8")
        echo(text)
        echo(f"wrote {out} and {args.reports_dir / 'packages.md'}")
    return out
