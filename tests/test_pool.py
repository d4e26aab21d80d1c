"""Tests of interpmatrix.pool: two real runs of the same code on one machine (tests/fixtures/run-pair-a and run-pair-b,
see their READMEs) pooled into one run, then rendered by the report; refusals on copies of them changed by hand.

Expected figures come from the fixtures' pyperf files read here with pyperf alone, and from the recorded between-run
figures of interpmatrix.intervals (an input of the statistics, not a result).
"""

from __future__ import annotations

import hashlib
import json
import math
import shutil
from collections import Counter
from pathlib import Path

import pyperf
import pytest

from interpmatrix import cli, merge, model, pool, registry, report
from interpmatrix.intervals import Estimator
from interpmatrix.recorded_scatter import BETWEEN_RUN_SD
from interpmatrix.registry import Cell
from interpmatrix.results import RunDir, latest_run
from interpmatrix.samples import Sample

from test_cli import found, plan  # noqa: F401 (found: the fixture plan() takes)

FIXTURES = Path(__file__).parent / "fixtures"
RUN_A = RunDir(FIXTURES / "run-pair-a")
RUN_B = RunDir(FIXTURES / "run-pair-b")
IDS = ["cpython-3.12", "cpython-3.13"]
ROUND = "interpmatrix_round"
POOLED = "interpmatrix_pooled_run"
PURE, CYTHON = Cell.parse("primes/pure@500"), Cell.parse("primes/cython@500")
# What a run.json says of a run's own budget (interpmatrix.budget.Ledger.to_run), listed here by hand.
BUDGET_KEYS = {"budget_seconds", "measured_seconds", "first_pass_seconds", "extra_rounds", "budget_stopped",
               "extra_round_cells", "step_seconds", "first_pass_unreached", "first_pass_rest"}


def run_id(run_dir: RunDir) -> str:
    return json.loads(run_dir.run_file.read_text())["run_id"]


def processes(run_dir: RunDir, interpreter_id: str) -> dict[str, list[pyperf.Run]]:
    """Each cell's worker processes in the run's pyperf file, read with pyperf alone."""
    suite = pyperf.BenchmarkSuite.load(str(run_dir.results_file(interpreter_id)))
    return {benchmark.get_name(): benchmark.get_runs() for benchmark in suite}


def last_round(run_dir: RunDir) -> int:
    return max(
        process.get_metadata().get(ROUND, 1)
        for iid in IDS for found_processes in processes(run_dir, iid).values() for process in found_processes
    )


@pytest.fixture(scope="module")
def pooled(tmp_path_factory: pytest.TempPathFactory) -> RunDir:
    return pool.pool_runs([RUN_A, RUN_B], tmp_path_factory.mktemp("results") / "pooled")


def copy_run(source: RunDir, parent: Path, **changes: object) -> RunDir:
    """A copy of a fixture run, named after its run id, with ``changes`` made to its run.json."""
    target = RunDir(parent / run_id(source))
    shutil.copytree(source.path, target.path)
    if changes:
        target.update_run(**changes)
    return target


def test_every_process_of_both_runs_is_kept_with_its_values_a_round_after_the_first_run_and_its_run(
    pooled: RunDir,
) -> None:
    offset = last_round(RUN_A)
    assert offset >= 1
    for iid in IDS:
        a, b, both = processes(RUN_A, iid), processes(RUN_B, iid), processes(pooled, iid)
        assert set(both) == set(a) | set(b)
        for name, found_processes in both.items():
            expected = [(p, 0, run_id(RUN_A)) for p in a.get(name, [])]
            expected += [(p, offset, run_id(RUN_B)) for p in b.get(name, [])]
            assert len(found_processes) == len(expected)
            for process, (source, shift, origin) in zip(found_processes, expected):
                assert process.values == source.values and process.warmups == source.warmups
                assert process.get_metadata()[ROUND] == source.get_metadata().get(ROUND, 1) + shift
                assert process.get_metadata()[POOLED] == origin
                assert process.get_metadata()["date"] == source.get_metadata()["date"]


def test_run_json_lists_the_runs_and_keeps_no_budget_of_its_own(pooled: RunDir) -> None:
    info = pooled.read_run()
    a, b = RUN_A.read_run(), RUN_B.read_run()
    assert info["run_id"] == "pooled" and info["status"] == "complete"
    assert info["command"] == (
        f"python -m interpmatrix pool --out results/pooled results/{a['run_id']} results/{b['run_id']}"
    )
    assert [entry["run_id"] for entry in info["pooled"]] == [a["run_id"], b["run_id"]]
    assert [entry["started"] for entry in info["pooled"]] == [a["started"], b["started"]]
    assert info["wall_time"] == pytest.approx(a["wall_time"] + b["wall_time"])
    assert info["interpreters"] == IDS and info["baseline"] == a["baseline"]
    assert not BUDGET_KEYS & set(info)
    for iid in IDS:
        assert pooled.read_interpreter(iid) == RUN_B.read_interpreter(iid)


def test_run_concentration_is_the_sum_of_the_squared_shares_of_the_runs() -> None:
    assert Sample((0.0,) * 4).run_concentration == 1.0
    assert Sample((0.0,) * 4, run_ids=(None,) * 4).run_concentration == 1.0
    assert Sample((0.0,) * 4, run_ids=("a", "a", "b", "b")).run_concentration == 0.5
    # 3/4 and 1/4: 0.5625 + 0.0625.
    assert Sample((0.0,) * 4, run_ids=("a", "a", "a", "b")).run_concentration == 0.625
    assert Sample((0.0,) * 3, run_ids=("a", "b", "c")).run_concentration == pytest.approx(1 / 3)


def test_a_ratio_carries_the_between_run_variance_once_per_run_its_processes_came_from(pooled: RunDir) -> None:
    run, alone = model.load_run(pooled), model.load_run(RUN_A)
    estimator = Estimator(run)
    column = run.column("cpython-3.12")
    name_pure, name_cython = PURE.name, CYTHON.name
    a, b = processes(RUN_A, "cpython-3.12"), processes(RUN_B, "cpython-3.12")
    shares = []
    for name in (name_pure, name_cython):
        counts = Counter({"a": len(a[name]), "b": len(b[name])})
        total = sum(counts.values())
        shares.append(sum((count / total) ** 2 for count in counts.values()))
    # Both cells on one worker, no PyPy: BETWEEN_RUN_SD[0]², times the larger of the two cells' concentrations.
    expected = BETWEEN_RUN_SD[0] ** 2 * max(shares)
    assert max(shares) < 1
    assert estimator.between_run_variance((column, PURE), (column, CYTHON)) == pytest.approx(expected)
    single = Estimator(alone)
    assert single.between_run_variance((alone.column("cpython-3.12"), PURE), (alone.column("cpython-3.12"), CYTHON)) \
        == pytest.approx(BETWEEN_RUN_SD[0] ** 2)
    # The interval's floor, which no round narrows, is 1.96 of that standard deviation (infinite degrees of freedom).
    interval = estimator.ratio((column, PURE), (column, CYTHON))
    assert interval.floor == pytest.approx(1.96 * math.sqrt(expected), rel=1e-3)


def test_the_report_lists_the_runs_and_says_how_pooling_moves_its_intervals(pooled: RunDir) -> None:
    text = report.render_report(pooled)
    head = text.split("\n## ", 1)[0]
    a, b = run_id(RUN_A), run_id(RUN_B)
    assert "- **Pooled:** 2 runs of this machine at other hours, each a draw of its own hour" in head
    assert f"`{a}` (2026-12-01 20:13 UTC" in head and f"`{b}` (2026-12-01 20:14 UTC" in head
    assert "(the runs' own, added up)" in head
    assert "- **Budget:**" not in head
    assert "cells above 5.0 % (over the values of every run pooled: their hours' differences too)" in head
    assert "**Pooled runs.** This run pools runs of this machine at other hours" in text
    assert f"# run {a}" in text and f"# run {b}" in text


def test_pooling_refuses_what_it_cannot_pool_and_writes_nothing(tmp_path: Path) -> None:
    out = tmp_path / "results" / "pooled"
    cases = [
        ([RUN_A], "pooling needs two runs or more"),
        ([RUN_A, RUN_A], "a run is given twice"),
        ([RUN_A, copy_run(RUN_B, tmp_path / "busy", status="measuring")], "is not complete"),
        ([RUN_A, copy_run(RUN_B, tmp_path / "other", host={"hostname": "laptop", "cpu": "arm64", "cores": 8})],
         "ran on another machine"),
        ([RUN_A, copy_run(RUN_B, tmp_path / "base", baseline="cpython-3.12")], "has another baseline"),
        ([RUN_A, RunDir(tmp_path / "nothing")], "is not a matrix run"),
        ([RUN_A, copy_run(RUN_A, tmp_path / "copy")], f"run {run_id(RUN_A)} is given twice"),
        ([copy_run(RUN_A, tmp_path / "code-a", measured_code={"workloads/numeric.py": "1", "workloads/primes.py": "2"}),
          copy_run(RUN_B, tmp_path / "code-b", measured_code={"workloads/numeric.py": "3", "workloads/primes.py": "2"})],
         r"measured other code than .* \(workloads/numeric\.py\): pool runs of the same code"),
    ]
    for runs, message in cases:
        with pytest.raises((ValueError, FileNotFoundError), match=message):
            pool.pool_runs(runs, out)
        assert not out.exists()
    merged = merge.merge_runs({"a": RUN_A, "b": RUN_B}, tmp_path / "merged")
    with pytest.raises(ValueError, match="merged from several machines"):
        pool.pool_runs([RUN_A, merged], out)
    first = pool.pool_runs([RUN_A, RUN_B], tmp_path / "first")
    with pytest.raises(ValueError, match="is itself a pooled run"):
        pool.pool_runs([RUN_A, first], out)
    with pytest.raises(ValueError, match="already exists"):
        pool.pool_runs([RUN_A, RUN_B], first.path)
    assert not out.exists() and not list((tmp_path / "results").glob(".*pooling"))


def test_runs_of_the_same_code_pool_and_runs_from_before_the_record_are_not_refused(tmp_path: Path) -> None:
    code = {"workloads/numeric.py": "1", "bindings/kernels.c": "2"}
    same = [copy_run(RUN_A, tmp_path / "a", measured_code=code), copy_run(RUN_B, tmp_path / "b", measured_code=code)]
    assert pool.pool_runs(same, tmp_path / "same").read_run()["pooled"]
    # The fixtures predate the record: nothing tells whether their code was the same.
    assert "measured_code" not in RUN_A.read_run()
    assert pool.pool_runs([RUN_A, same[1]], tmp_path / "unknown").read_run()["pooled"]


def test_a_run_records_the_sha256_of_every_file_of_the_code_its_cells_run() -> None:
    code = registry.measured_code()
    numeric = registry.REPO_ROOT / "workloads" / "numeric.py"
    assert code["workloads/numeric.py"] == hashlib.sha256(numeric.read_bytes()).hexdigest()
    assert {"workloads/_harness.py", "bindings/cy_kernels.pyx", "bindings/kernels.c"} <= set(code)
    assert not [path for path in code if "__pycache__" in path or path.endswith((".so", ".pyc"))]


def test_an_interpreter_that_changed_between_the_runs_is_refused_by_pyperfs_check(tmp_path: Path) -> None:
    changed = copy_run(RUN_B, tmp_path)
    suite = pyperf.BenchmarkSuite.load(str(changed.results_file("cpython-3.13")))
    rebuilt = []
    for benchmark in suite:
        runs = [pyperf.Run(p.values, warmups=p.warmups, metadata={**p.get_metadata(), "python_version": "3.13.99"},
                           collect_metadata=False) for p in benchmark.get_runs()]
        rebuilt.append(pyperf.Benchmark(runs))
    changed.results_file("cpython-3.13").unlink()
    pyperf.BenchmarkSuite(rebuilt).dump(str(changed.results_file("cpython-3.13")))
    out = tmp_path / "pooled"
    with pytest.raises(ValueError, match=r"cpython-3\.13's .* cannot be pooled: .*python_version"):
        pool.pool_runs([RUN_A, changed], out)
    assert not out.exists() and not list(tmp_path.glob(".*pooling"))


def test_a_pooled_run_is_not_resumed(tmp_path: Path, found) -> None:  # noqa: F811
    pool.pool_runs([RUN_A, RUN_B], tmp_path / "results" / "pooled")
    with pytest.raises(cli.UsageError, match=f"resume one of them \\({run_id(RUN_A)}, {run_id(RUN_B)}\\)"):
        plan(tmp_path, found, "--resume", "pooled")


def test_the_latest_run_is_a_measured_one_not_a_pooled_or_merged_folder(tmp_path: Path) -> None:
    results = tmp_path / "results"
    measured = copy_run(RUN_A, results)
    pool.pool_runs([RUN_A, RUN_B], results / "pooled")
    merge.merge_runs({"a": RUN_A, "b": RUN_B}, results / "z-merged")
    assert latest_run(results) == measured


def test_the_pool_command_writes_the_folder_and_says_how_to_report_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "pooled"
    assert cli.main(["pool", "--out", str(out), str(RUN_A.path), str(RUN_B.path)]) == 0
    assert capsys.readouterr().out == f"wrote {out}; its report: python -m interpmatrix report {out}\n"
    assert cli.main(["pool", "--out", str(tmp_path / "again"), str(RUN_A.path)]) == 2
    assert "error: pooling needs two runs or more" in capsys.readouterr().err


def test_the_last_runs_failures_are_kept_but_for_cells_an_earlier_run_measured(tmp_path: Path) -> None:
    later = copy_run(RUN_B, tmp_path)
    failure = {"kind": "error", "reason": "boom", "log": None}
    (later.path / "cpython-3.13.failures.json").write_text(
        json.dumps({"primes/pure@500": failure, "primes/shedskin@500": failure})
    )
    assert "primes/pure@500" in processes(RUN_A, "cpython-3.13")
    assert "primes/shedskin@500" not in processes(RUN_A, "cpython-3.13")
    pooled = pool.pool_runs([RUN_A, later], tmp_path / "pooled")
    assert set(json.loads((pooled.path / "cpython-3.13.failures.json").read_text())) == {"primes/shedskin@500"}


def test_the_same_processes_from_three_runs_make_the_decision_one_run_cannot() -> None:
    # Countdown on one interpreter: serial at 1.555 s and processes x2 at 1.00 s, three processes each, their logs at
    # ±0.005 around the cell's. "fork()/multiprocessing sidesteps the GIL" asks for 1.5x: 1.555 lies
    # ln(1.555 / 1.5) = 0.0360 from it, so it is at the threshold once the half width is under ln 1.1 - 0.0360 =
    # 0.0593. From one run the between-run part alone is 1.96 x 0.047 / √2 = 0.0651 (a run's half of the variance
    # recorded for a ratio with one cell on several workers): undecided, whatever the rounds. Each cell's three
    # processes from three runs carry a third of it: 0.047² / 2 / 3 = 0.000368; each cell's own, 0.000025 / 3 (on 2
    # degrees of freedom each, none borrowed on several workers, the same given to serial's alone here): 0.00000833
    # twice; t at 4 degrees of freedom (Satterthwaite's, two equal parts on 2) is 2.776, and
    # 2.776 x √(0.000368 + 0.0000167) = 0.0544, inside the band: at the threshold.
    from dataclasses import replace

    from test_stats import interpreter, make_run

    from interpmatrix.decisions import decisions
    from interpmatrix.model import Column
    from interpmatrix.registry import find_workload
    from interpmatrix.run_info import PooledRun
    from interpmatrix.sections import header

    serial, processes_x2 = Cell("countdown", "serial", None, 2000000), Cell("countdown", "processes", 2, 2000000)

    def three(cell: Cell, mean: float, pooled: bool) -> pyperf.Benchmark:
        runs = [
            pyperf.Run([mean * math.exp(offset)] * 3, metadata={
                "name": cell.name, "unit": "second", "loops": 1, ROUND: 1 + index,
                **({POOLED: f"run-{index}"} if pooled else {}),
            }, collect_metadata=False)
            for index, offset in enumerate((-0.005, 0.0, 0.005))
        ]
        return pyperf.Benchmark(runs)

    texts, answers = {}, {}
    for pooled in (False, True):
        column = Column(interpreter("base"), {serial.name: three(serial, 1.555, pooled),
                                              processes_x2.name: three(processes_x2, 1.0, pooled)}, {})
        run = replace(make_run([column]), workloads=[find_workload("countdown")])
        if pooled:
            runs = [PooledRun(f"run-{index}", "nox -s matrix", "default", None, None, None) for index in range(3)]
            run = replace(run, info=replace(run.info, pooled=runs))
        texts[pooled] = header.render(run, {})
        answers[pooled] = next(d.answer for d in decisions(run) if d.kind == "claim" and "fork()" in d.subject)
    assert answers == {False: "undecided", True: "at the threshold"}
    assert "- **Decisions:** 2 of 3 decisions made" in texts[False] and "no round of this run narrows" in texts[False]
    assert "- **Decisions:** 3 of 3 decisions made" in texts[True] and "undecided" not in texts[True]


def test_the_runs_budgets_stay_theirs(tmp_path: Path) -> None:
    budgeted = copy_run(RUN_A, tmp_path / "a", budget_seconds=1200.0, measured_seconds=1100.0, first_pass_seconds=600.0,
                        extra_rounds=[{"round": 2, "cells": 10, "seconds": 5.0}], budget_stopped="every decision made",
                        extra_round_cells=[], step_seconds={}, first_pass_unreached=0)
    info = pool.pool_runs([budgeted, RUN_B], tmp_path / "pooled").read_run()
    assert not BUDGET_KEYS & set(info)
    assert info["pooled"][0]["measured_seconds"] == 1100.0
