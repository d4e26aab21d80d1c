"""What a run had decided after each of its rounds, and after how many minutes of measuring: the run's own results cut
at round k (every worker process of a later round left out), read as the report reads them.

    python3 tools/decisions_by_round.py results/<run> [--rounds 1 2 3 ...]

Prints, per round k, the minutes measuring had taken when round k ended (run.json's first pass and extra rounds), the
decisions made (``decisions.decisions``), the claim decisions among them, and how many cells the scheduler would still
have measured (``decisions.cells_to_measure``): 0 means a run with the code at hand would have stopped there, every
decision within reach made. The rounds after k were planned on the run's decisions then, by the code it ran with, so
a cut run answers "what had this run decided by then", not "what a run with other code would have done next".
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import replace
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

import pyperf  # noqa: E402

from interpmatrix.budget import FOR_INTERVALS  # noqa: E402
from interpmatrix.decisions import cells_to_measure, decisions  # noqa: E402
from interpmatrix.harness_protocol import ROUND_METADATA  # noqa: E402
from interpmatrix.model import Run, load_run  # noqa: E402
from interpmatrix.results import RunDir  # noqa: E402


def cut(run: Run, last_round: int) -> Run:
    """``run`` with only the worker processes of rounds 1 to ``last_round`` (a cell with none left is not measured)."""
    columns = []
    for column in run.columns:
        benchmarks = {}
        for name, benchmark in column.benchmarks.items():
            kept = [process for process in benchmark.get_runs()
                    if (process.get_metadata().get(ROUND_METADATA) or 1) <= last_round]
            if kept:
                benchmarks[name] = pyperf.Benchmark(kept)
        columns.append(replace(column, benchmarks=benchmarks))
    return replace(run, columns=columns)


def minutes_by_round(run: Run) -> dict[int, float]:
    """Minutes of measuring when each round ended: the first pass's rounds end together, then each extra round. Of a
    first pass a budget split (``first_pass_rest``), round 1 ends with the decisions' part, and the other cells' part
    comes after the decisions' extra rounds, before those for the figures' intervals."""
    rounds = run.profile.rounds if run.profile is not None else 1
    spent = run.info.first_pass_seconds or 0.0
    rest = run.info.first_pass_rest_seconds
    found = {rounds: spent / 60}
    for extra in run.info.extra_rounds:
        if extra.get("for") == FOR_INTERVALS:
            spent, rest = spent + rest, 0.0
        spent += extra["seconds"]
        found[extra["round"]] = spent / 60
    return found


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("run", type=Path)
    parser.add_argument("--rounds", type=int, nargs="*", help="the rounds to cut at (default: every round)")
    args = parser.parse_args()
    run = load_run(RunDir(args.run))
    minutes = minutes_by_round(run)
    print(f"{'round':>5}  {'minutes':>7}  {'decisions':>9}  {'claims':>7}  cells still open")
    for last_round in args.rounds or sorted(minutes):
        found = decisions(cut(run, last_round))
        claims = [decision for decision in found if decision.kind == "claim"]
        made = sum(decision.decided for decision in found)
        claims_made = sum(decision.decided for decision in claims)
        print(f"{last_round:>5}  {minutes.get(last_round, float('nan')):>7.1f}  {made:>4}/{len(found):<4}  "
              f"{claims_made:>3}/{len(claims):<3}  {len(cells_to_measure(found))}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
