"""What the machine-state probe did to one run: how closely it followed the processes' speed, and what adjusting by it
changed in the spread between processes and in the decisions.

    python3 tools/probe_effect.py results/<run>

Prints the run's fits of a process's speed on its probe (``intervals.Estimator.probe_fit``: the correlation and the
slope θ, within cells, for cells on one worker and on several), then, over the time cells measured in two processes
or more that all recorded a probe: the pooled between-process standard deviation (log scale) as measured and once
adjusted, and how many cells have a slowest process more than 1.3x their fastest; then how many of the report's
decisions are made without the adjustment and with it.
"""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from interpmatrix.decisions import decisions  # noqa: E402
from interpmatrix.intervals import Estimator, pooled_prior  # noqa: E402
from interpmatrix.model import load_run  # noqa: E402
from interpmatrix.results import RunDir  # noqa: E402
from interpmatrix.samples import PROBE_GROUPS  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("run", type=Path)
    args = parser.parse_args()
    run = load_run(RunDir(args.run))
    adjusted = Estimator(run)
    raw = Estimator(run, probe_adjusted=False)
    fits = {group: adjusted.probe_fit(group) for group in PROBE_GROUPS}
    if not any(fits.values()):
        print("no fit: too few time cells with two processes or more that all recorded a probe")
        return 1
    for group, fit in fits.items():
        print(f"cells on {group}: " + (
            f"fit over {fit.processes} processes of {fit.cells} cells, correlation {fit.correlation:.2f}, slope "
            f"{fit.slope:.2f}" if fit else "no fit"))
    probed = [(column, cell) for column in run.columns for cell in run.cells
              if (found := raw.measured(column, cell)) is not None and found.n >= 2 and found.probed]
    for name, estimator in (("measured", raw), ("adjusted", adjusted)):
        samples = [estimator.sample(column, cell) for column, cell in probed]
        wide = sum(max(found.logs) - min(found.logs) > math.log(1.3) for found in samples)
        print(f"{name}: between-process standard deviation {math.sqrt(pooled_prior(samples).variance):.3f} (log), "
              f"{wide} cells with processes more than 1.3x apart")
    for name, estimator in (("measured", raw), ("adjusted", adjusted)):
        made = decisions(run, estimator)
        print(f"decisions made, {name}: {sum(d.decided for d in made)} of {len(made)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
