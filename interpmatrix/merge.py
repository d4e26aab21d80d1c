"""Runs from several machines merged into one run folder, so that one report shows the machines side by side.

A matrix run measures one machine. To see how the same interpreters do on a laptop and on a server, each machine
runs ``nox -s matrix``, its ``results/<run-id>/`` folder is copied here, and ``merge_runs`` writes one ordinary run
folder (the layout of ``results.RunDir``) whose interpreter ids carry the machine: ``cpython-3.12@laptop``. Every
(interpreter, machine) pair is a column of its own; the report keeps what must stay within one machine (the verdict,
claims against a JIT, the cost of free-threading) to the columns of one machine (``model.Run.machine``).

Nothing is measured or recomputed: pyperf's files are copied byte for byte, the sidecars with only their ids changed,
so ``python -m pyperf show`` on a merged file shows exactly what the machine measured. Each machine's own facts (host,
command, profile, times) stay in run.json under ``machines``.

    python -m interpmatrix merge --out results/<name> laptop=results/<run-id> server=results/<run-id>
"""

from __future__ import annotations

import re
import shlex
import shutil
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from .results import RunDir, machine_id, new_run_folder, read_json, write_json

USAGE = "python -m interpmatrix merge --out results/<name> NAME=results/<run-id> NAME=results/<run-id> ..."
# Machine names end up in file names (``<id>@<machine>.json``) and in markdown: nothing that needs quoting there.
MACHINE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
def check_machine_name(name: str) -> str:
    if not MACHINE_NAME.match(name):
        raise ValueError(
            f"machine name {name!r} is not usable in file names: use letters, digits, '-', '_' and '.', starting "
            f"with a letter or digit, and name the folder explicitly: {USAGE}"
        )
    return name


def parse_machine(argument: str) -> tuple[str, Path]:
    """``NAME=FOLDER``, or a bare ``FOLDER`` named after itself (``results/laptop`` -> ``laptop``)."""
    name, separator, folder = argument.partition("=")
    if not separator:
        folder = argument
        name = Path(argument).resolve().name
    if not folder:
        raise ValueError(f"{argument!r} names no folder: {USAGE}")
    return check_machine_name(name), Path(folder)


def parse_machines(arguments: Sequence[str]) -> dict[str, RunDir]:
    """Machine name -> run folder, in the order given; refuses a name given twice."""
    machines: dict[str, RunDir] = {}
    for argument in arguments:
        name, folder = parse_machine(argument)
        if name in machines:
            raise ValueError(
                f"machine name {name!r} is given twice ({machines[name].path} and {folder}): name each folder "
                f"with NAME=FOLDER, e.g. laptop={folder}"
            )
        machines[name] = RunDir(folder)
    return machines


def _check_inputs(machines: Mapping[str, RunDir], out: Path) -> dict[str, dict[str, Any]]:
    """Every refusal before anything is written; returns each machine's run.json."""
    if not machines:
        raise ValueError(f"no run to merge: {USAGE}")
    folded: dict[str, str] = {}
    for name in machines:
        check_machine_name(name)
        # Laptop and laptop would write the same files on a case-insensitive file system (macOS, Windows).
        if name.lower() in folded:
            raise ValueError(
                f"machine names {folded[name.lower()]!r} and {name!r} differ only in case: rename one of them"
            )
        folded[name.lower()] = name
    if out.exists():
        raise ValueError(f"{out} already exists: choose another --out, or delete it to merge again")
    runs = {}
    for name, run_dir in machines.items():
        if not run_dir.exists():
            raise ValueError(
                f"machine {name!r}: {run_dir.path} is not a matrix run (no run.json); pass each machine's "
                f"results/<run-id> folder: {USAGE}"
            )
        run = run_dir.read_run()
        if "machines" in run:
            raise ValueError(
                f"machine {name!r}: {run_dir.path} is itself a merged run (its ids already name machines); merge "
                "the machines' own run folders instead"
            )
        runs[name] = run
    return runs


def _renamed_facts(facts: Mapping[str, Any], machine: str) -> dict[str, Any]:
    """An interpreter record under its merged id; its twin too, so the report still finds a free-threaded build's
    same-source GIL build (on the same machine: a twin on another machine would not be the same build)."""
    renamed = dict(facts)
    renamed["id"] = machine_id(facts["id"], machine)
    if facts.get("twin"):
        renamed["twin"] = machine_id(facts["twin"], machine)
    return renamed


def _copy_interpreter(source: RunDir, target: RunDir, interpreter_id: str, machine: str) -> None:
    """One interpreter's pyperf file, sidecars and logs, under its merged id."""
    new_id = machine_id(interpreter_id, machine)
    if source.results_file(interpreter_id).exists():
        shutil.copyfile(source.results_file(interpreter_id), target.results_file(new_id))
    record = source.read_interpreter(interpreter_id)
    if record is not None:
        record = dict(record)
        if record.get("interpreter"):
            # The report names a column after the id inside this record, not after the file.
            record["interpreter"] = _renamed_facts(record["interpreter"], machine)
        target.write_interpreter(new_id, record)
    old_logs, new_logs = _logs_folder(source, interpreter_id), _logs_folder(target, new_id)
    if old_logs.is_dir():
        shutil.copytree(old_logs, new_logs)
    if source.failures_file(interpreter_id).exists():
        failures = read_json(source.failures_file(interpreter_id))
        for failure in failures.values():
            if failure.get("log"):
                failure["log"] = _copy_log(source, target, failure["log"], old_logs, new_logs)
        write_json(target.failures_file(new_id), failures)


def _logs_folder(run_dir: RunDir, interpreter_id: str) -> Path:
    # RunDir alone knows the layout: any cell's log is in the interpreter's folder.
    return run_dir.log_file(interpreter_id, "any-cell").parent


def _copy_log(source: RunDir, target: RunDir, log: str, old_logs: Path, new_logs: Path) -> str:
    """A failure's log path (relative to the run folder) in the merged run; a log outside the interpreter's own
    folder is copied into it."""
    old_path = source.path / log
    try:
        moved = new_logs / old_path.relative_to(old_logs)
    except ValueError:
        moved = new_logs / old_path.name
        if old_path.exists():
            moved.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(old_path, moved)
    return moved.relative_to(target.path).as_posix()


def _union(lists: Sequence[Sequence[Any]]) -> list[Any]:
    found: list[Any] = []
    for items in lists:
        found += [item for item in items if item not in found]
    return found


def merge_command(machines: Mapping[str, RunDir], runs: Mapping[str, dict[str, Any]], out: Path) -> str:
    """The command that made the merged run, with each folder as ``results/<run-id>`` (where it was on its machine),
    so the merged run.json, and the report's header, do not depend on where the copies happened to be."""
    arguments = [f"{name}=results/{runs[name].get('run_id') or run_dir.run_id}" for name, run_dir in machines.items()]
    return shlex.join(["python", "-m", "interpmatrix", "merge", "--out", f"results/{out.name}", *arguments])


def _profile(run: Mapping[str, Any]) -> tuple[Any, Any]:
    return run.get("profile"), run.get("profile_settings")


def merged_run_info(
    machines: Mapping[str, RunDir], runs: Mapping[str, dict[str, Any]], out: Path
) -> dict[str, Any]:
    """The merged run.json: ids renamed, lists in machine order, the first machine's plan, every machine's facts."""
    names = list(machines)
    first = runs[names[0]]
    wall_times = [runs[name].get("wall_time") for name in names]
    finished = [runs[name].get("finished") for name in names]
    baseline = first.get("baseline")
    return {
        "run_id": out.name,
        "command": merge_command(machines, runs, out),
        "interpreters": [machine_id(iid, name) for name in names for iid in runs[name]["interpreters"]],
        "discovered": [
            _renamed_facts(record, name) for name in names for record in runs[name].get("discovered", [])
        ],
        "workloads": _union([runs[name].get("workloads") or [] for name in names]),
        # The report describes one profile; it is the first machine's, and profiles_differ says whether it is
        # also the others' (each machine's is under machines).
        "profile": first.get("profile"),
        "profile_settings": first.get("profile_settings"),
        "profiles_differ": any(_profile(runs[name]) != _profile(first) for name in names),
        "baseline": machine_id(baseline, names[0]) if baseline else None,
        "cell_timeout": first.get("cell_timeout"),
        "host": first.get("host", {}),
        "machines": {
            name: {
                "run_id": runs[name].get("run_id") or machines[name].run_id,
                "host": runs[name].get("host", {}),
                "command": runs[name].get("command"),
                "profile": runs[name].get("profile"),
                "profile_settings": runs[name].get("profile_settings"),
                "started": runs[name].get("started"),
                "wall_time": runs[name].get("wall_time"),
                "status": runs[name].get("status"),
                "bench_requirements": runs[name].get("bench_requirements", []),
            }
            for name in names
        },
        "bench_requirements": _union([runs[name].get("bench_requirements", []) for name in names]),
        "reports_dir": first.get("reports_dir"),
        "provisioning": [
            {**record, "family": machine_id(record.get("family", "?"), name)}
            for name in names
            for record in runs[name].get("provisioning", [])
        ],
        "started": first.get("started"),
        # The machines' measuring time added up: they may have run one after another or at once.
        "finished": max(finished) if None not in finished else None,
        "wall_time": sum(wall_times) if None not in wall_times else None,
        # A merged run cannot be resumed: an unfinished machine's run is resumed there, then merged again.
        "status": "complete" if all(runs[name].get("status") == "complete" for name in names) else "incomplete",
    }


def merge_runs(machines: Mapping[str, RunDir], out: Path) -> RunDir:
    """Write the run folder ``out`` holding every machine's run, its ids renamed ``<id>@<machine>``; return it.

    ``machines`` maps a machine name (letters, digits, ``-``, ``_``, ``.``) to its run folder, in the order the
    columns should come. Raises ``ValueError``, before writing anything, for a bad name, a folder that is not a run,
    or an ``out`` that exists. The folder appears whole or not at all: it is built beside ``out`` and renamed.
    """
    out = Path(out)
    runs = _check_inputs(machines, out)
    with new_run_folder(out, "merging") as building:
        for name, run_dir in machines.items():
            for interpreter_id in runs[name]["interpreters"]:
                _copy_interpreter(run_dir, building, interpreter_id, name)
        building.write_run(merged_run_info(machines, runs, out))
    return RunDir(out)
