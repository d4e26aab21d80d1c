"""Two runs' decisions side by side: did any claim or verdict come out one way in one run and the other way in the
other?

    python3 tools/decision_flips.py results/<run-a> results/<run-b> [--all]

For every decision both reports state (each claim on each interpreter, each verdict's answer), prints the count of
those decided in both runs the same way, decided in both runs opposite ways (a claim that holds in one and fails in
the other; two different winners; faster against the baseline in one, slower in the other), decided in one run only,
and moved between neighbouring answers (holds in one, at the threshold in the other; a winner in one, a tie in the
other). ``--all`` lists every decision with both runs' answers; otherwise only the opposite and moved ones. Last, how
often one run's claim figure falls outside the other's interval (two runs, or two pools of runs, of the same code).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from interpmatrix.decisions import decisions  # noqa: E402
from interpmatrix.intervals import FAILS, HOLDS, UNDECIDED, Interval  # noqa: E402
from interpmatrix.markdown import ratio_text  # noqa: E402
from interpmatrix.model import Run, load_run  # noqa: E402
from interpmatrix.results import RunDir  # noqa: E402

# Answers that contradict each other; any other pair of different decided answers is a move between neighbours.
OPPOSITE = {frozenset((HOLDS, FAILS)), frozenset(("faster", "slower"))}


def answers(run: Run) -> dict[str, tuple[str, str, Interval | None]]:
    """subject -> (answer, its figure, its interval), for every decision of the report on ``run``
    (``decisions.decisions``)."""
    return {
        f"{decision.kind}: {decision.subject}": (
            decision.answer, ratio_text(decision.interval) if decision.interval else "", decision.interval
        )
        for decision in decisions(run)
    }


def outside(a: dict[str, tuple[str, str, Interval | None]], b: dict[str, tuple[str, str, Interval | None]]) -> str:
    """How often one run's claim figure falls outside the other's interval, both ways, over the claims both give an
    interval for: about 17 % when each interval is right (two 95 % intervals of the same precision)."""
    both = [(a[s][2], b[s][2]) for s in set(a) & set(b)
            if s.startswith("claim: ") and a[s][2] and b[s][2] and a[s][2].known and b[s][2].known]
    found = sum(one.excludes(other.value) + other.excludes(one.value) for one, other in both)
    return f"{found} of {2 * len(both)} ({found / max(1, 2 * len(both)):.0%}; 17 % when intervals are right)"


def kind(first: str, second: str) -> str:
    if UNDECIDED in (first, second):
        return "same" if first == second else "decided in one run only"
    if first == second:
        return "same"
    if frozenset((first, second)) in OPPOSITE or (first.startswith("winner ") and second.startswith("winner ")):
        return "opposite"
    return "moved"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("first", type=Path)
    parser.add_argument("second", type=Path)
    parser.add_argument("--all", action="store_true", help="list every decision, not only the opposite and moved")
    args = parser.parse_args()
    a, b = (answers(load_run(RunDir(path))) for path in (args.first, args.second))
    counts: dict[str, int] = {}
    decided = {name: sum(found[0] != UNDECIDED for found in side.values()) for name, side in (("a", a), ("b", b))}
    for subject in sorted(set(a) & set(b)):
        outcome = kind(a[subject][0], b[subject][0])
        if outcome == "same" and a[subject][0] == UNDECIDED:
            outcome = "undecided in both"
        counts[outcome] = counts.get(outcome, 0) + 1
        if args.all or outcome in ("opposite", "moved"):
            first, second = a[subject], b[subject]
            print(f"{outcome:>24}: {subject}\n{'':>26}{first[0]} {first[1]}  |  {second[0]} {second[1]}")
    print(f"decisions in both reports: {len(set(a) & set(b))}; decided: {decided['a']} of {len(a)} in "
          f"{args.first.name}, {decided['b']} of {len(b)} in {args.second.name}")
    for outcome in ("same", "opposite", "moved", "decided in one run only", "undecided in both"):
        print(f"  {outcome}: {counts.get(outcome, 0)}")
    print(f"claim figures outside the other run's interval: {outside(a, b)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
