"""Command line: what the nox sessions call.

``plan`` and the other parts that need only the stdlib and packaging (which nox itself needs) are also imported by
the noxfile, which must work before any venv exists; ``measure`` and ``report`` need pyperf and tabulate and run in
a venv nox prepares.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import signal
import sys
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import NoReturn

from . import budget, cpython_build, discovery, external, lock, packages_cli, resuming, selection
from . import provision as provisioning
from .compat import wanted
from .discovery import Interpreter
from .markdown import table
from .profiles import PROFILES, find_profile, profile_names
from .provision import FAMILIES, Outcome
from .questions import CLAIMS
from .registry import REPORTS_DIR, RESULTS_DIR, WORKLOADS, measured_code, select_workloads, workload_names
from .results import RunDir, latest_run, new_run_id

BENCH_REQUIREMENTS = ("pyperf==2.10.0",)
DEFAULT_PROFILE = "default"
# Names the file in which a nox that provisioned hands what provisioning did to the nox it restarts.
HANDOVER_OPTION = "--handover"
# The options that shape a run: a resumed run keeps the ones it was planned with.
RUN_OPTIONS = ("interpreters", "workloads", "workload_file", "requirements", "profile", "baseline", "timeout", "budget")


class UsageError(ValueError):
    """Bad input from the user: the message says what is valid; nothing has run."""


def _csv(text: str) -> list[str]:
    return [item.strip() for item in text.split(",") if item.strip()]


class _UsageParser(argparse.ArgumentParser):
    """Raises ``UsageError`` where argparse would exit: the matrix session then fails as a nox session does, with
    the message in nox's log, instead of argparse's SystemExit stopping nox halfway."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{message}; `{self.prog} --help` lists the options")


def matrix_parser() -> argparse.ArgumentParser:
    parser = _UsageParser(
        prog="nox -s matrix --",
        description="Run the workloads on every selected interpreter and write a report.",
        # An abbreviation such as --no-prov would be one more spelling for every check of an option to miss.
        allow_abbrev=False,
        # Help is an option like the others, so that asking for it does not exit nox (see start_matrix).
        add_help=False,
    )
    parser.add_argument("-h", "--help", action="store_true", help="show this help message and exit")
    parser.add_argument(
        "--interpreters",
        metavar="IDS",
        help="comma-separated ids from `nox -s interpreters`, or `all`; default: newest patch of each CPython "
        "minor >= 3.9, every free-threaded build and every PyPy",
    )
    parser.add_argument(
        "--workloads",
        metavar="NAMES",
        help=f"comma-separated, or `all` (the default without --workload-file): {', '.join(workload_names())}",
    )
    parser.add_argument(
        "--workload-file",
        action="append",
        default=[],
        metavar="PATH",
        help="your own workload, a Python file following the protocol in README.md (repeatable); with it, only the "
        "workloads named by --workloads run besides your files",
    )
    parser.add_argument("--requirements", type=Path, metavar="FILE",
                        help="your packages, one requirement per line: tried on every interpreter of the run and "
                        "shown in the report and its verdict (`nox -s packages` tries them alone)")
    # No default here: --resume must tell a profile the user gave from none (see parse_matrix_args).
    parser.add_argument("--profile", help=f"one of {', '.join(profile_names())}; default: {DEFAULT_PROFILE}")
    parser.add_argument("--baseline", metavar="ID", help="interpreter the others are compared with")
    parser.add_argument(
        "--timeout",
        type=budget.time_limit,
        metavar="SECONDS",
        help="kill a cell (one round of it) after this long (above 0) and report it as a timeout; "
        "default: the profile's",
    )
    parser.add_argument(
        "--budget", type=budget.seconds_of_minutes, metavar="MINUTES",
        help="minutes of measuring in all, first pass included: after the profile's rounds, extra rounds go to the "
        "cells whose decisions are still open while time is left; default: the profile's (`python -m interpmatrix "
        "profiles`); with --resume, minutes more for the run resumed",
    )
    parser.add_argument(
        "--resume",
        nargs="?",
        const="latest",
        metavar="RUN_ID",
        help="continue an interrupted run (default: the latest) with the options it was started with, skipping the "
        "cells already done",
    )
    parser.add_argument(
        "--no-provision",
        action="store_true",
        help="use only the interpreters already present; do not run `nox -s provision` first",
    )
    parser.add_argument(HANDOVER_OPTION, type=Path, metavar="FILE", help=argparse.SUPPRESS)
    parser.add_argument("--results-dir", type=Path, default=RESULTS_DIR, help=argparse.SUPPRESS)
    parser.add_argument("--reports-dir", type=Path, default=REPORTS_DIR, help=argparse.SUPPRESS)
    return parser


def parse_matrix_args(argv: Sequence[str]) -> argparse.Namespace:
    """The matrix session's options, checked before anything is provisioned or written (UsageError: what is valid)."""
    args = matrix_parser().parse_args(list(argv))
    if args.help:
        return args
    # --budget is the one a resumed run takes: minutes more of measuring (a first pass the budget cut short).
    given = [
        f"--{name.replace('_', '-')}" for name in RUN_OPTIONS if name != "budget" and getattr(args, name) not in (None, [])
    ]
    if args.resume and given:
        raise UsageError(
            f"--resume continues a run with the options it was started with: leave out {', '.join(given)}, "
            "or start a new run without --resume to change them"
        )
    if args.workloads is not None and not _csv(args.workloads):
        left_out = "to run only your workload files" if args.workload_file else "for all"
        raise UsageError(
            f"--workloads is empty: name workloads ({', '.join(workload_names())}) or leave the option out {left_out}"
        )
    return args


def _cannot_write_results(folder: Path, error: OSError) -> UsageError:
    return UsageError(
        f"cannot write the run's results in {folder}: {error.strerror}; make it a folder you can write to, then run "
        "the matrix again"
    )


@dataclass(frozen=True)
class Plan:
    run_dir: RunDir
    interpreters: list[Interpreter]
    reports_dir: Path


def workloads_parser() -> argparse.ArgumentParser:
    parser = _UsageParser(
        prog="nox -s workloads --", description="List the workloads, or check workload files of your own.",
        allow_abbrev=False,
    )
    parser.add_argument(
        "--check", action="append", default=[], metavar="FILE",
        help="check that FILE follows the workload protocol (README.md), then run it once here (repeatable)",
    )
    timeout = find_profile(DEFAULT_PROFILE).cell_timeout
    parser.add_argument(
        "--timeout", type=budget.time_limit, default=timeout, metavar="SECONDS",
        help=f"stop the run of a checked file (import, setup(), one run()) after this long; default: {timeout:g}",
    )
    return parser


def provision_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="nox -s provision --", allow_abbrev=False, description=(
        "Get PyPy, CPython from Debian sid and a free-threaded CPython with its same-source GIL twin, where missing."))
    parser.add_argument("--only", choices=FAMILIES, action="append", help="provision only this family (repeatable)")
    parser.add_argument("--cpython-source", type=cpython_build.source_tarball, metavar="PATH",
                        help="build a free-threaded CPython and its GIL twin from this source tarball (3.13 or newer)")
    return parser


def _command_line(argv: Sequence[str]) -> str:
    """The command as the user typed it: without what nox handed on to itself after provisioning."""
    typed: list[str] = []
    args = iter(argv)
    for arg in args:
        if arg == HANDOVER_OPTION:
            next(args, None)  # and its file
        elif not arg.startswith(f"{HANDOVER_OPTION}="):
            typed.append(arg)
    return shlex.join(["nox", "-s", "matrix", *(["--", *typed] if typed else [])])


def plan_matrix(
    argv: Sequence[str],
    interpreters: Sequence[Interpreter] | None = None,
    provisioning: Sequence[dict[str, object]] | None = None,
) -> Plan:
    """Validate the options, pick the interpreters, and write run.json (or reopen it with --resume).

    ``provisioning`` is what provisioning did before this run (``Outcome.to_dict``s), kept in run.json for the report.
    Raises ``UsageError`` before anything is written when an option is not valid or a name is unknown."""
    args = parse_matrix_args(argv)
    profile = args.profile or DEFAULT_PROFILE
    if args.resume:
        try:
            run_dir = resuming.run_to_resume(args.results_dir, args.resume)
            resumed = resuming.interpreters_to_resume(run_dir, interpreters or discovery.discover())
        except resuming.NotResumable as error:
            raise UsageError(str(error)) from None
        run = run_dir.read_info()
        if args.budget is not None:
            run_dir.update_run(budget_seconds=(run.measured_seconds or 0.0) + args.budget)
        return Plan(run_dir, resumed, Path(run.reports_dir or args.reports_dir))

    try:
        find_profile(profile)
        names = _csv(args.workloads) if args.workloads else []
        if "all" in names or (not names and not args.workload_file):
            workloads = list(WORKLOADS)
        else:
            workloads = select_workloads(names) if names else []
        files, file_errors = external.inspect_files(args.workload_file, workload_names())
        if not workloads and not files:
            # Every workload asked for is a file that cannot run: there is nothing to measure.
            raise UsageError("nothing to run: " + "; ".join(error["error"] for error in file_errors))
        found = list(interpreters) if interpreters is not None else discovery.discover()
        selected = selection.select(found, args.interpreters)
        # A line that is not a requirement is named in the report; the others are still tried.
        requirements, requirement_errors = wanted.read_requirements(args.requirements) if args.requirements else ([], [])
    except ValueError as error:
        raise UsageError(str(error)) from None
    if not selected:
        raise UsageError("no interpreter selected: `nox -s interpreters` lists what was found")
    if args.baseline and args.baseline not in {interpreter.id for interpreter in selected}:
        raise UsageError(
            f"baseline {args.baseline!r} is not among the selected interpreters: "
            f"{', '.join(interpreter.id for interpreter in selected)}"
        )
    run_id = new_run_id()
    run_dir = RunDir(args.results_dir / run_id)
    try:
        args.results_dir.mkdir(parents=True, exist_ok=True)
        for suffix in range(1, 100):
            try:
                run_dir.path.mkdir()
                break
            except FileExistsError:  # another run started in the same second: ids stay unique and sorted
                run_dir = RunDir(args.results_dir / f"{run_id}-{suffix}")
    except OSError as error:
        raise _cannot_write_results(args.results_dir, error) from None
    run_dir.write_run(
        {
            "run_id": run_dir.run_id,
            "command": _command_line(argv),
            "profile": profile,
            # The profile's settings as they were: a profile may change later, the run's files do not.
            "profile_settings": asdict(find_profile(profile)),
            "workloads": [workload.name for workload in workloads],
            # The user's files as they were read (path, name, requirements, checksum): never a copy of them.
            "workload_files": [found.to_dict() for found in files],
            "measured_code": measured_code(),  # the code the cells ran: runs of other code are not pooled
            # Files that cannot run, and why: the report says so, the rest of the run goes on.
            "workload_file_errors": file_errors,
            "requirements": [asdict(item) for item in requirements],
            "requirement_errors": requirement_errors,
            "interpreters": [interpreter.id for interpreter in selected],
            "baseline": args.baseline,
            "cell_timeout": args.timeout,
            "budget_seconds": args.budget,  # None: the profile's; already seconds (budget.seconds_of_minutes)
            "discovered": [interpreter.to_dict() for interpreter in found],
            "host": discovery.host_facts(),
            "bench_requirements": list(BENCH_REQUIREMENTS),
            "reports_dir": str(args.reports_dir),
            "provisioning": list(provisioning or []),
            "started": datetime.now(timezone.utc).isoformat(),
            "status": "planned",
        }
    )
    return Plan(run_dir, selected, args.reports_dir)


def should_provision(args: argparse.Namespace) -> bool:
    """Whether the matrix session provisions interpreters before planning: not for a resumed run (it keeps its
    interpreters), not when told not to, not in a nox restarted after provisioning (it was done)."""
    return not (args.help or args.resume or args.no_provision or args.handover)


def write_handover(outcomes: Sequence[dict[str, object]]) -> Path:
    """Keep what provisioning did for the nox the matrix session restarts: in a file of the cache, not in an option,
    which nox would echo to the console as several hundred characters of JSON."""
    folder = discovery.cache_dir() / "handover"
    folder.mkdir(parents=True, exist_ok=True)
    # A name of its own: two matrix runs may provision at the same time.
    descriptor, name = tempfile.mkstemp(prefix="provisioning-", suffix=".json", dir=folder)
    with os.fdopen(descriptor, "w", encoding="utf-8") as file:
        json.dump(list(outcomes), file)
    return Path(name)


def read_handover(path: Path) -> list[dict[str, object]]:
    """What ``write_handover`` kept; the file is deleted, as it is read once."""
    again = f"run `nox -s matrix` again without {HANDOVER_OPTION} (provisioned interpreters are cached)"
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise UsageError(f"{path} is gone: nox reads it once, when `nox -s matrix` restarts itself; {again}") from None
    path.unlink(missing_ok=True)
    try:
        outcomes = json.loads(text)
    except json.JSONDecodeError:
        outcomes = None
    if not isinstance(outcomes, list) or not all(isinstance(outcome, dict) for outcome in outcomes):
        raise UsageError(f"{path} does not hold what provisioning did (a JSON list of its outcomes): {again}")
    return outcomes


@dataclass(frozen=True)
class MatrixStart:
    """What the matrix session does next: queue the sessions of ``plan``, or restart nox with ``restart`` as the
    matrix session's options; neither after printing --help."""

    plan: Plan | None = None
    restart: list[str] | None = None


def start_matrix(
    args: argparse.Namespace,
    argv: Sequence[str],
    interpreters: Sequence[Interpreter],
    echo: provisioning.Log = print,
    provision: Callable[..., Sequence[Outcome]] = provisioning.provision,
    discover: Callable[[], Sequence[Interpreter]] = discovery.discover,
) -> MatrixStart:
    """Provision what is missing unless ``args`` say not to, then plan the run.

    ``args`` are ``parse_matrix_args(argv)``; ``argv`` is handed on as it is when nox must restart, and recorded in
    run.json. ``interpreters`` are those nox found when it loaded the noxfile. ``provision`` and ``discover`` are
    for tests, which cannot download interpreters. The run planned is then this process's to write (``lock.hold_run``,
    through the bench sessions); one that another process writes raises ``lock.Busy``, before any venv is built.
    """
    if args.help:
        matrix_parser().print_help()
        return MatrixStart()
    outcomes: list[dict[str, object]] | None = None
    if args.handover:
        outcomes = read_handover(args.handover)
    elif should_provision(args):
        outcomes = [outcome.to_dict() for outcome in provision(echo=echo)]
        if {i.id for i in discover()} != {i.id for i in interpreters}:
            # Sessions are made when the noxfile loads: only a fresh nox has a bench session for the new ones.
            return MatrixStart(restart=[*argv, f"{HANDOVER_OPTION}={write_handover(outcomes)}"])
    plan = plan_matrix(argv, interpreters, outcomes)
    try:
        lock.hold_run(plan.run_dir)
    except OSError as error:  # a resumed run's folder
        raise _cannot_write_results(plan.run_dir.path, error) from None
    return MatrixStart(plan=plan)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m interpmatrix", allow_abbrev=False)
    commands = parser.add_subparsers(dest="command", required=True)
    # allow_abbrev is not inherited: each subcommand says it again.
    commands.add_parser("interpreters", help="print every interpreter found", allow_abbrev=False)
    commands.add_parser("workloads", help="list the workloads and the claims they test", allow_abbrev=False)
    commands.add_parser("profiles", help="list the measurement profiles", allow_abbrev=False)
    compare_cmd = commands.add_parser(
        "compare", help="what changed between two runs, per cell (compare --help)", allow_abbrev=False,
        description="What changed between two runs, per interpreter and cell, with pyperf's t-test (markdown).",
    )
    compare_cmd.add_argument("run_a", type=Path, help="the run before: results/<run-id>")
    compare_cmd.add_argument("run_b", type=Path, help="the run after: results/<run-id>")
    compare_cmd.add_argument("--out", type=Path, metavar="FILE", help="write the markdown here instead of printing it")
    merge_cmd = commands.add_parser(
        "merge", help="merge result folders from several machines into one run (merge --help)", allow_abbrev=False,
        description="Merge runs from several machines into one run folder; its report shows them side by side.",
    )
    merge_cmd.add_argument("--out", type=Path, required=True, help="the new run folder, e.g. results/laptop-vs-server")
    merge_cmd.add_argument(
        "machines", nargs="+", metavar="NAME=FOLDER",
        help="a machine's name and its run folder (results/<run-id>); a bare FOLDER is named after itself",
    )
    pool_cmd = commands.add_parser("pool", help="pool runs of one machine at other hours into one run",
                                   allow_abbrev=False, description="Pool complete runs of one machine, at other hours.")
    pool_cmd.add_argument("--out", type=Path, required=True, help="the new run folder, e.g. results/pooled")
    pool_cmd.add_argument("runs", nargs="+", type=Path, metavar="FOLDER", help="a run folder (results/<run-id>)")
    packages_cmd = commands.add_parser("packages", help="will my packages work on each interpreter? (packages --help)",
                                       allow_abbrev=False, description="Install and import packages per interpreter.")
    packages_cli.add_arguments(packages_cmd)
    measure_cmd = commands.add_parser("measure", help="run (or resume) the cells of a planned run", allow_abbrev=False)
    measure_cmd.add_argument("run_dir", type=Path)
    report_cmd = commands.add_parser("report", help="write the markdown report of a run", allow_abbrev=False)
    report_cmd.add_argument("run_dir", type=Path, nargs="?", help="results/<run-id>; default: the latest run")
    report_cmd.add_argument("--baseline", metavar="ID")
    report_cmd.add_argument("--reports-dir", type=Path)
    report_cmd.add_argument(
        "--name", help="write <name>.md and its charts instead of <run-id>.md and latest.md (e.g. sample)"
    )
    args = parser.parse_args(None if argv is None else list(argv))

    # Imports in the branches: the `interpreters` and `workloads` sessions run this without pyperf or matplotlib.
    try:
        if args.command == "interpreters":
            headers, rows = selection.interpreters_table(discovery.discover())
            print(table(headers, rows))
        elif args.command == "workloads":
            rows = [[w.name, w.group, ", ".join(v.name for v in w.variants),
                     ", ".join(f"{w.size_label}={size:,}" for size in w.sizes), f"{w.claim} ({'; '.join(w.seeds)})"]
                    for w in WORKLOADS]
            print(table(["workload", "group", "variants", "sizes", "claim (seeds)"], rows))
            print()
            claims = [[c.statement, ", ".join(c.seeds), c.test] for c in CLAIMS]
            print(table(["claim the report tests", "seeds", "test"], claims))
        elif args.command == "profiles":
            print(table(["profile", "description"], [[p.name, p.description] for p in PROFILES]))
        elif args.command == "compare":
            from .compare import render_comparison

            text = render_comparison(RunDir(args.run_a), RunDir(args.run_b))
            if args.out is None:
                sys.stdout.write(text)
            else:
                args.out.parent.mkdir(parents=True, exist_ok=True)
                args.out.write_text(text, encoding="utf-8")
                print(f"wrote {args.out}")
        elif args.command in ("merge", "pool"):
            from .merge import merge_runs, parse_machines
            from .pool import pool_runs

            if args.command == "merge":
                made = merge_runs(parse_machines(args.machines), args.out)
            else:
                made = pool_runs([RunDir(folder) for folder in args.runs], args.out)
            print(f"wrote {made.path}; its report: python -m interpmatrix report {made.path}")
        elif args.command == "packages":
            packages_cli.try_packages(args)
        elif args.command == "measure":
            # Absolute: the workload scripts run in a folder of their own and are handed paths inside the run.
            run_dir = RunDir(args.run_dir.resolve())
            run_dir.read_run()  # not a run: its message, and no lock file left in the folder
            # `kill PID`, what a second writer is told to do, stops it as Ctrl-C does: its pyperf invocation too.
            signal.signal(signal.SIGTERM, signal.default_int_handler)
            # Until this process ends. Before importing pyperf: the measure session has just let go of the run.
            lock.hold_run(run_dir)
            from .measure import measure

            measure(run_dir)
        elif args.command == "report":
            from .report import write_report

            run_dir = RunDir(args.run_dir) if args.run_dir else latest_run(RESULTS_DIR)
            for path in write_report(run_dir, baseline=args.baseline, reports_dir=args.reports_dir, name=args.name):
                print(f"wrote {path}")
    except (UsageError, ValueError, FileNotFoundError, lock.Busy) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"interrupted{_what_is_kept(args)}", file=sys.stderr)
        return 130
    except OSError as error:  # a folder it writes to is read-only, full, or a file
        why = f"{error.filename or 'its output'}: {error.strerror or error}"
        print(f"error: cannot write {why}{_what_is_kept(args, error)}", file=sys.stderr)
        return 2
    return 0


def _what_is_kept(args: argparse.Namespace, error: OSError | None = None) -> str:
    """After a command stopped halfway (Ctrl-C, or a folder it cannot write): what it kept, what to do next. Every
    file of a run is replaced whole (results.replace_atomically): none is left half written."""
    if args.command == "measure":
        kept, resume = "the cells measured so far are kept", f"`nox -s matrix -- --resume {args.run_dir.name}`"
        if error is None:
            return f"; {kept} in {args.run_dir}: {resume} measures the rest"
        return f"; {kept}: make {args.run_dir} writable (or free space on its disk), then {resume} measures the rest"
    if error is None:
        return ""
    elsewhere = "--reports-dir DIR" if args.command == "report" else "--out"
    return f"; make that folder writable, or write elsewhere with {elsewhere}"
