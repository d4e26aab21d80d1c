"""Command line: what the nox sessions call.

``plan`` and the other stdlib-only parts are also imported by the noxfile, which must work before any venv exists;
``measure`` and ``report`` need pyperf and tabulate and run in a venv nox prepares.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shlex
import sys
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from pathlib import Path

from . import discovery, external
from .discovery import Interpreter
from .provision import FAMILIES
from .profiles import PROFILES, find_profile, profile_names
from .registry import CLAIMS, REPO_ROOT, WORKLOADS, select_workloads, workload_names
from .results import RunDir, latest_run, new_run_id

BENCH_REQUIREMENTS = ("pyperf==2.10.0",)
RESULTS_DIR = REPO_ROOT / "results"
REPORTS_DIR = REPO_ROOT / "reports"


class UsageError(ValueError):
    """Bad input from the user: the message says what is valid; nothing has run."""


def _csv(text: str) -> list[str]:
    return [item.strip() for item in text.split(",") if item.strip()]


def matrix_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="nox -s matrix --",
        description="Run the workloads on every selected interpreter and write a report.",
    )
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
    parser.add_argument("--profile", default="default", help=f"one of {', '.join(profile_names())}")
    parser.add_argument("--baseline", metavar="ID", help="interpreter the others are compared with")
    parser.add_argument(
        "--timeout",
        type=float,
        metavar="SECONDS",
        help="kill a cell (one round of it) after this long and report it as a timeout; default: the profile's",
    )
    parser.add_argument(
        "--resume",
        nargs="?",
        const="latest",
        metavar="RUN_ID",
        help="continue an interrupted run (default: the latest), skipping the cells already done",
    )
    parser.add_argument(
        "--no-provision",
        action="store_true",
        help="use only the interpreters already present; do not run `nox -s provision` first",
    )
    # What provisioning did before this run, handed on when nox restarts itself to see new interpreters.
    parser.add_argument("--provisioning", type=json.loads, default=None, help=argparse.SUPPRESS)
    parser.add_argument("--results-dir", type=Path, default=RESULTS_DIR, help=argparse.SUPPRESS)
    parser.add_argument("--reports-dir", type=Path, default=REPORTS_DIR, help=argparse.SUPPRESS)
    return parser


@dataclass(frozen=True)
class Plan:
    run_dir: RunDir
    interpreters: list[Interpreter]
    reports_dir: Path


def host_facts() -> dict[str, object]:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    os_name = platform.platform()
    try:
        release = dict(
            line.split("=", 1) for line in Path("/etc/os-release").read_text().splitlines() if "=" in line
        )
        os_name = f"{release['PRETTY_NAME'].strip(chr(34))}, Linux {platform.release()}"
    except (OSError, KeyError):
        pass
    return {"cpu": cpu, "cores": os.cpu_count(), "os": os_name, "hostname": platform.node()}


def workloads_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="nox -s workloads --", description="List the workloads, or check workload files of your own."
    )
    parser.add_argument(
        "--check",
        action="append",
        default=[],
        metavar="FILE",
        help="check that FILE follows the workload protocol (README.md), then run it once here (repeatable)",
    )
    return parser


def provision_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="nox -s provision --",
        description="Get PyPy and a free-threaded CPython with its same-source GIL twin, where missing.",
    )
    parser.add_argument("--only", choices=FAMILIES, action="append", help="provision only this family (repeatable)")
    return parser


def _command_line(argv: Sequence[str]) -> str:
    """The command as the user typed it: without what nox handed on to itself after provisioning."""
    typed = [arg for arg in argv if not arg.startswith("--provisioning=")]
    return shlex.join(["nox", "-s", "matrix", *(["--", *typed] if typed else [])])


def plan_matrix(
    argv: Sequence[str],
    interpreters: Sequence[Interpreter] | None = None,
    provisioning: Sequence[dict[str, object]] | None = None,
) -> Plan:
    """Validate the options, pick the interpreters, and write run.json (or reopen it with --resume).

    Raises ``UsageError`` before anything is written when a name is unknown.
    """
    args = matrix_parser().parse_args(list(argv))
    if args.resume:
        try:
            run_dir = (
                latest_run(args.results_dir) if args.resume == "latest" else RunDir(args.results_dir / args.resume)
            )
            run = run_dir.read_run()
        except FileNotFoundError as error:
            raise UsageError(str(error)) from None
        try:
            external.check_unchanged(external.files_of_run(run))
        except external.WorkloadFileError as error:
            raise UsageError(str(error)) from None
        found = {interpreter.id: interpreter for interpreter in interpreters or discovery.discover()}
        missing = [iid for iid in run["interpreters"] if iid not in found]
        if missing:
            raise UsageError(
                f"run {run_dir.run_id} used {', '.join(missing)}, which discovery no longer finds; "
                "their cells stay as they are"
            )
        return Plan(run_dir, [found[iid] for iid in run["interpreters"]], Path(run["reports_dir"]))

    try:
        find_profile(args.profile)
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
        selected = discovery.select(found, args.interpreters)
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
    args.results_dir.mkdir(parents=True, exist_ok=True)
    for suffix in range(1, 100):
        try:
            run_dir.path.mkdir()
            break
        except FileExistsError:  # another run started in the same second: ids stay unique and sorted
            run_dir = RunDir(args.results_dir / f"{run_id}-{suffix}")
    run_dir.write_run(
        {
            "run_id": run_dir.run_id,
            "command": _command_line(argv),
            "profile": args.profile,
            # The profile's settings as they were: a profile may change later, the run's files do not.
            "profile_settings": asdict(find_profile(args.profile)),
            "workloads": [workload.name for workload in workloads],
            # The user's files as they were read (path, name, requirements, checksum): never a copy of them.
            "workload_files": [found.to_dict() for found in files],
            # Files that cannot run, and why: the report says so, the rest of the run goes on.
            "workload_file_errors": file_errors,
            "interpreters": [interpreter.id for interpreter in selected],
            "baseline": args.baseline,
            "cell_timeout": args.timeout,
            "discovered": [interpreter.to_dict() for interpreter in found],
            "host": host_facts(),
            "bench_requirements": list(BENCH_REQUIREMENTS),
            "reports_dir": str(args.reports_dir),
            "provisioning": list(provisioning if provisioning is not None else args.provisioning or []),
            "started": datetime.now(timezone.utc).isoformat(),
            "status": "planned",
        }
    )
    return Plan(run_dir, selected, args.reports_dir)


def workload_requirements(run_dir: RunDir) -> list[str]:
    """The pip packages the run's workloads need (built-in ones, then the user's files'), each once."""
    found: list[str] = []
    for workload in external.workloads_of_run(run_dir.read_run()):
        found += [name for name in workload.requirements if name not in found]
    return found


def absolute_workload_files(argv: Sequence[str], invoked_from: str) -> list[str]:
    """``argv`` with each --workload-file made absolute against the folder nox was started from (nox itself runs
    sessions from the noxfile's folder)."""
    absolute, expect_path = [], False
    for arg in argv:
        if expect_path:
            arg, expect_path = str(Path(invoked_from) / Path(arg).expanduser()), False
        elif arg == "--workload-file":
            expect_path = True
        elif arg.startswith("--workload-file="):
            arg = "--workload-file=" + str(Path(invoked_from) / Path(arg.split("=", 1)[1]).expanduser())
        absolute.append(arg)
    return absolute


def record_venv(
    run_dir: RunDir,
    interpreter_id: str,
    venv_python: str,
    probe_json: str | None,
    error: str | None,
    bindings_dir: str | None = None,
) -> None:
    """What the bench session learnt: the venv's python and what it says about itself, or why there is none."""
    record: dict[str, object] = {"venv_python": venv_python, "setup_error": error, "bindings_dir": bindings_dir}
    packages = Path(bindings_dir) / "packages.json" if bindings_dir else None
    if packages is not None and packages.exists():
        # What workloads/_packages.py could install here (numpy, numexpr): versions, or pip's reason.
        record["packages"] = json.loads(packages.read_text())
    if probe_json is not None:
        answer = json.loads(probe_json.strip().splitlines()[-1])
        base = next(i for i in run_dir.read_run()["discovered"] if i["id"] == interpreter_id)
        # Facts from inside the venv (GIL state, JIT), identity (id, origin, executable) from discovery.
        facts = discovery.interpreter_from_probe(answer, base["origin"], base["id"]).to_dict()
        facts.update(executable=base["executable"], prefix=base.get("prefix", ""), twin=base.get("twin", ""))
        record["interpreter"] = facts
        expected = (base["implementation"], base["version"], base["free_threaded"])
        got = (answer["implementation"], answer["version"], answer["free_threaded"])
        if got != expected and error is None:
            # Never measure one interpreter under another's name.
            record["setup_error"] = f"the venv runs {got}, not the discovered {expected}: delete .nox and re-run"
    run_dir.write_interpreter(interpreter_id, record)


def _table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    from tabulate import tabulate

    return tabulate(rows, headers=headers, tablefmt="github")


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["compare"]:
        from . import compare

        return compare.main(argv[1:])
    if argv[:1] == ["merge"]:
        from . import merge

        return merge.main(argv[1:])
    parser = argparse.ArgumentParser(prog="python -m interpmatrix")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("interpreters", help="print every interpreter found")
    commands.add_parser("workloads", help="list the workloads and the claims they test")
    commands.add_parser("profiles", help="list the measurement profiles")
    commands.add_parser("compare", help="what changed between two runs, per cell (compare --help)")
    commands.add_parser("merge", help="merge result folders from several machines into one run (merge --help)")
    measure_cmd = commands.add_parser("measure", help="run (or resume) the cells of a planned run")
    measure_cmd.add_argument("run_dir", type=Path)
    report_cmd = commands.add_parser("report", help="write the markdown report of a run")
    report_cmd.add_argument("run_dir", type=Path, nargs="?", help="results/<run-id>; default: the latest run")
    report_cmd.add_argument("--baseline", metavar="ID")
    report_cmd.add_argument("--reports-dir", type=Path)
    report_cmd.add_argument(
        "--name", help="write <name>.md and its charts instead of <run-id>.md and latest.md (e.g. sample)"
    )
    args = parser.parse_args(argv)

    try:
        if args.command == "interpreters":
            headers, rows = discovery.interpreters_table(discovery.discover())
            print(_table(headers, rows))
        elif args.command == "workloads":
            print(
                _table(
                    ["workload", "group", "variants", "sizes", "claim (seeds)"],
                    [
                        [
                            w.name,
                            w.group,
                            ", ".join(v.name for v in w.variants),
                            ", ".join(f"{w.size_label}={size:,}" for size in w.sizes),
                            f"{w.claim} ({'; '.join(w.seeds)})",
                        ]
                        for w in WORKLOADS
                    ],
                )
            )
            print()
            print(_table(["claim the report tests", "seeds", "test"], [[c.statement, ", ".join(c.seeds), c.test] for c in CLAIMS]))
        elif args.command == "profiles":
            print(_table(["profile", "description"], [[p.name, p.description] for p in PROFILES]))
        elif args.command == "measure":
            from .measure import measure

            measure(RunDir(args.run_dir))
        elif args.command == "report":
            from .report import write_report

            run_dir = RunDir(args.run_dir) if args.run_dir else latest_run(RESULTS_DIR)
            for path in write_report(run_dir, baseline=args.baseline, reports_dir=args.reports_dir, name=args.name):
                print(f"wrote {path}")
    except (UsageError, ValueError, FileNotFoundError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    return 0
