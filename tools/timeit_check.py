"""An independent timing of countdown, to hold a run's figures against: plain ``timeit``, no pyperf, no harness.

    python3 tools/timeit_check.py results/<run-id> [--rounds 15]

For every interpreter of the run with a venv, runs ``countdown(2_000_000)`` (workloads/countdown.py's serial kernel)
with ``timeit`` in a fresh process: warm calls first (10 without a JIT; with one, at least 25 and for at least
``JIT_WARM_SECONDS``), then 5 repeats of a few calls. The interpreters take turns in every round, in a rotated order,
like the matrix's rounds. Two figures per interpreter: timeit's own, the best repeat of each process (the median over
rounds), as ``python -m timeit`` reports; and the mean of each process's repeats (their logs averaged over rounds),
which is what the report's figure is, a mean of each worker process's values: an interpreter whose speed swings within a
process (PyPy's countdown ran 0.85 to 1.8 ms in one) has a best well below its mean, and only the second compares like
with like. Prints, per interpreter, its speed-up over the run's baseline by both and by the run's report
(``countdown/serial@2000000``), how far apart they are, and the mean's own 95 % interval over its processes, beside the
report's: a handful of processes of an interpreter whose processes differ by tens of percent (PyPy's) cannot pin either
figure to within 10 %.

On PyPy each process first compiles a random number of small loops, as the matrix's worker processes do
(workloads/_code_layout.py): where PyPy's JIT places countdown's machine code moved its speed by up to 1.5x here, and
a script of one fixed shape measures one place only (this one put PyPy 3.9 and 3.11 level, the harness's worker put
PyPy 3.9 1.9x ahead, before the workers were shifted).

Ten warm calls, not three, for an interpreter without a JIT: CPython 3.11 runs a function unspecialized for its first
seven calls (measured here: calls 1-7 at 49-62 ms, from the 8th on 37-41 ms, medians over 5 processes), so with three
warm calls the first repeats timed the slow calls, and 3.11's mean came out 14 % slow (60.4 against 52.9 ms, 6
processes each, interleaved): every check before put the report's 3.11 ahead of timeit's, by 13 to 34 %.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from interpmatrix.intervals import Estimator, ratio_interval, spread  # noqa: E402
from interpmatrix.model import load_run  # noqa: E402
from interpmatrix.registry import Cell  # noqa: E402
from interpmatrix.results import RunDir  # noqa: E402
from interpmatrix.samples import Sample  # noqa: E402

CELL = Cell("countdown", "serial", None, 2_000_000)
# A JIT's process warms up for at least this long, whatever its count of calls: PyPy 3.11's worker processes in the
# matrix took up to about 32 calls of countdown to settle (2026-12-04T22-34-09Z: four warm-ups of 8 calls at 2.3, 2.2,
# 1.6 and 1.2 ms a call, then 1.1 ms), so 25 warm calls left some timeit processes timing their warm-up.
JIT_WARM_SECONDS = 0.5
SNIPPET = """
import sys, timeit, json
sys.path.insert(0, {workloads!r})
from countdown import countdown
if sys.implementation.name == "pypy":
    import _code_layout
    _code_layout.shift()
warm_until = timeit.default_timer() + {warm_seconds}
for call in range(1000):
    countdown(2_000_000)
    if call + 1 >= {warm} and timeit.default_timer() >= warm_until:
        break
times = timeit.repeat(lambda: countdown(2_000_000), number=3, repeat=5)
print(json.dumps([min(times) / 3, sum(times) / len(times) / 3]))
"""


def one_timing(python: str, jit: bool, env: dict[str, str]) -> tuple[float, float]:
    """One fresh process's best and mean time of a call."""
    code = SNIPPET.format(workloads=str(REPO / "workloads"), warm=25 if jit else 10,
                          warm_seconds=JIT_WARM_SECONDS if jit else 0)
    # The column's own switches (PYTHON_JIT=1 for a JIT column), as the matrix ran it.
    output = subprocess.run([python, "-c", code], capture_output=True, text=True, check=True, timeout=600,
                            env={**os.environ, **env}).stdout
    best, mean = json.loads(output.strip().splitlines()[-1])
    return best, mean



def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run_dir", type=Path)
    # Fifteen: this host's processes scatter by about 10 % each, so five processes an interpreter gave the baseline
    # alone a +-18 % interval, too wide to check a figure to 10 %; fifteen take about 3 minutes on ten interpreters.
    parser.add_argument("--rounds", type=int, default=15)
    args = parser.parse_args()
    run = load_run(RunDir(args.run_dir))
    estimator = Estimator(run)
    # The columns measured through pyperf in a venv: a self-timed runtime (CPython 2.7, Jython, MicroPython, Pyodide)
    # has neither a venv nor the Python 3 syntax of the snippet.
    columns = [c for c in run.columns if not c.interpreter.self_timed and run.run_dir.read_interpreter(c.id)
               and c.benchmark(CELL) is not None]
    timings: dict[str, list[tuple[float, float]]] = {c.id: [] for c in columns}
    for round_number in range(args.rounds):
        shift = round_number % len(columns)
        for column in columns[shift:] + columns[:shift]:
            python = run.run_dir.read_interpreter(column.id)["venv_python"]
            timings[column.id].append(one_timing(python, column.interpreter.is_jit, dict(column.interpreter.env)))
    base = run.baseline_column

    def best(interpreter_id: str) -> float:
        return statistics.median(best for best, _ in timings[interpreter_id])

    def mean(interpreter_id: str) -> float:
        return statistics.geometric_mean(mean for _, mean in timings[interpreter_id])

    def processes(interpreter_id: str) -> Sample:
        # Each timeit process as one independent unit, the way the report takes a worker process.
        return Sample(tuple(math.log(mean) for _, mean in timings[interpreter_id]))

    rows = []
    for column in columns:
        by_best = best(base.id) / best(column.id)
        by_mean = mean(base.id) / mean(column.id)
        by_report = estimator.ratio((base, CELL), (column, CELL))
        # The timeit figure's own 95 % interval (Welch's, over its processes): whether the two figures disagree
        # beyond what the handful of processes each rests on allows.
        by_timeit = ratio_interval(spread(processes(base.id), None), spread(processes(column.id), None))
        rows.append({
            "interpreter": column.id,
            "timeit_best_seconds": best(column.id),
            "timeit_mean_seconds": mean(column.id),
            "speedup_report": round(by_report.value, 3),
            "report_interval": [round(by_report.low, 3), round(by_report.high, 3)] if by_report.known else None,
            "speedup_timeit_best": round(by_best, 3),
            "report_differs_from_best": f"{(by_report.value / by_best - 1) * 100:+.1f} %",
            "best_inside_interval": by_report.known and by_report.low <= by_best <= by_report.high,
            "speedup_timeit_mean": round(by_mean, 3),
            "report_differs_from_mean": f"{(by_report.value / by_mean - 1) * 100:+.1f} %",
            "mean_inside_interval": by_report.known and by_report.low <= by_mean <= by_report.high,
            "timeit_mean_interval": [round(by_timeit.low, 3), round(by_timeit.high, 3)] if by_timeit.known else None,
            "intervals_overlap": by_report.known and by_timeit.known
            and by_report.low <= by_timeit.high and by_timeit.low <= by_report.high,
        })
    print(json.dumps({"baseline": base.id, "rounds": args.rounds, "rows": rows}, indent=1))


if __name__ == "__main__":
    main()
