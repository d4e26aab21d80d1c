"""Where a run's measuring time went, from what its results files recorded: the breakdown behind the default profile's
time.

    python3 tools/time_breakdown.py results/<run>

Every pyperf worker process records when it finished (``date``) and how long its own part took (``duration``: its
warm-ups, timed values, the harness's probes around them and pyperf's metadata). Taken in order of ``date``, the
processes of one step (one pyperf invocation: an interpreter, a workload, a round) follow one another, and the gap
between two of them, less the second's duration, is what pyperf's main process spent on the second before it ran:
its answer check (round 1), starting the worker and the worker's imports. What is left of the measuring time is each
step's own start (the main process's interpreter, its imports, the first cell's check) and the driver between steps.
Prints that split for the first pass and for the extra rounds, with the medians per process by family.
"""

from __future__ import annotations

import argparse
import statistics
import sys
from collections import defaultdict
from datetime import datetime
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from interpmatrix.harness_protocol import ROUND_METADATA  # noqa: E402
from interpmatrix.profiles import profile_from  # noqa: E402
from interpmatrix.results import RunDir, load_results  # noqa: E402

FIRST_PASS, EXTRA = "first pass", "extra rounds"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("run", type=Path)
    args = parser.parse_args()
    run_dir = RunDir(args.run)
    info = run_dir.read_info()
    processes = []  # (finished, interpreter, workload, round, duration, warm-ups s, values s, memory)
    family = {}  # interpreter id -> its implementation, as discovery recorded it
    for interpreter_id in info.interpreters:
        path = run_dir.results_file(interpreter_id)
        record = run_dir.read_interpreter(interpreter_id)
        if not path.exists() or record is None:
            continue
        # A self-timed runtime's processes are the runner's, not pyperf's workers: their gaps say nothing of pyperf.
        facts = record["interpreter"]
        family[interpreter_id] = None if facts.get("self_timed") else facts["implementation"]
        for benchmark in load_results(path):
            memory = benchmark.get_unit() != "second"
            workload = benchmark.get_name().split("/")[0]
            for run in benchmark.get_runs():
                meta = run.get_metadata()
                if "date" not in meta or "duration" not in meta or not run.values:
                    continue
                inner = meta.get("inner_loops", 1)
                # pyperf keeps a value per loop: a warm-up is (loops, value), a timed value ran the cell's loops.
                warmups = 0.0 if memory else sum(value * loops * inner for loops, value in run.warmups or ())
                values = 0.0 if memory else sum(run.values) * meta.get("loops", 1) * inner
                processes.append((datetime.fromisoformat(meta["date"]).timestamp(), interpreter_id, workload,
                                  meta.get(ROUND_METADATA, 1), meta["duration"], warmups, values, memory))
    if not processes:
        print("no worker process recorded a date and a duration")
        return 1
    processes.sort()
    first_rounds = profile_from(info.profile, info.profile_settings).rounds
    phase = {FIRST_PASS: defaultdict(float), EXTRA: defaultdict(float)}
    gaps = defaultdict(list)
    for before, this in zip([None, *processes], processes):
        part = phase[FIRST_PASS if this[3] <= first_rounds else EXTRA]
        part["processes"] += 1
        part["worker"] += this[4]
        if this[7]:
            part["memory cells"] += this[4]
        else:
            part["timed warm-ups"] += this[5]
            part["timed values"] += this[6]
        if before is not None and before[1:4] == this[1:4] and family[this[1]] is not None:
            gap = this[0] - before[0] - this[4]
            part["between processes of a step"] += gap
            gaps[(family[this[1]], this[3] <= first_rounds)].append(gap)
    # A first pass a budget split (run.json's first_pass_rest): its other cells were measured after the extra rounds.
    spent = {FIRST_PASS: (info.first_pass_seconds or 0.0) + info.first_pass_rest_seconds,
             EXTRA: sum(entry["seconds"] for entry in info.extra_rounds or ())}
    for name, part in phase.items():
        if not part["processes"]:
            continue
        other = part["worker"] - part["memory cells"] - part["timed warm-ups"] - part["timed values"]
        rest = spent[name] - part["worker"] - part["between processes of a step"]
        print(f"{name}: {spent[name]:.0f} s, {part['processes']:.0f} worker processes")
        for label, seconds in (("timed warm-ups", part["timed warm-ups"]), ("timed values", part["timed values"]),
                               ("memory cells' processes", part["memory cells"]),
                               ("rest of the workers' own time (probes, metadata, set-up)", other),
                               ("between processes of a step (check, start, imports)",
                                part["between processes of a step"]),
                               ("each step's start and the driver", rest)):
            print(f"  {label}: {seconds:.0f} s ({seconds / spent[name]:.0%})" if spent[name] else f"  {label}")
    for (fam, first), found in sorted(gaps.items()):
        print(f"between processes, {fam}, {FIRST_PASS if first else EXTRA}: median {statistics.median(found):.2f} s "
              f"over {len(found)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
