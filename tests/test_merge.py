"""Tests of interpmatrix.merge: two real runs (tests/fixtures/run-claims and run-quick, see their READMEs) merged as
if they came from two machines, then rendered by the unchanged report.

Every merge is written into tmp_path; nothing is timed. Regenerate the golden report after an intended change with
``UPDATE_GOLDEN=1 python3 -m pytest tests/test_merge.py``.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
from pathlib import Path

import pytest

from interpmatrix import cli, markdown, merge, model, report, results, stats
from interpmatrix.intervals import Estimator
from interpmatrix.profiles import profile_names
from interpmatrix.questions import CLAIMS
from interpmatrix.registry import Cell
from interpmatrix.results import RunDir, read_json

from test_compare import section  # one section of a markdown text, as the compare tests read it

FIXTURES = Path(__file__).parent / "fixtures"
RUN_A = RunDir(FIXTURES / "run-claims")
RUN_B = RunDir(FIXTURES / "run-quick")
# cpython-3.13 and its same-source free-threaded twin cpython-3.13t (see its README).
RUN_SMALL = RunDir(FIXTURES / "run-small")
GOLDEN = FIXTURES / "report-merged.md"
IDS = ["cpython-3.12", "cpython-3.13t", "pypy3.9"]
MERGED_IDS = [f"{iid}@machine-a" for iid in IDS] + [f"{iid}@machine-b" for iid in IDS]
MERGED_NAME = "claims-and-quick"
REPO = Path(__file__).parent.parent
WORKFLOW = REPO / ".github" / "workflows" / "matrix.yml"


def merge_fixtures(parent: Path) -> RunDir:
    return merge.merge_runs({"machine-a": RUN_A, "machine-b": RUN_B}, parent / MERGED_NAME)


@pytest.fixture(scope="module")
def merged(tmp_path_factory: pytest.TempPathFactory) -> RunDir:
    return merge_fixtures(tmp_path_factory.mktemp("results"))


@pytest.fixture(scope="module")
def merged_text(merged: RunDir) -> str:
    return report.render_report(merged)


def copy_run(source: RunDir, parent: Path) -> RunDir:
    """A copy of a fixture run to change; named after its run id, as the matrix names its folders."""
    target = parent / source.read_run()["run_id"]
    shutil.copytree(source.path, target)
    return RunDir(target)


def header(markdown: str) -> str:
    return markdown.split("\n## ", 1)[0]


def line_starting(text: str, start: str) -> str:
    found = [line for line in text.splitlines() if line.startswith(start)]
    assert len(found) == 1, f"{len(found)} lines start with {start!r}"
    return found[0]


def test_report_of_merged_run_matches_golden_file(merged: RunDir) -> None:
    text = report.render_report(merged)
    if os.environ.get("UPDATE_GOLDEN") == "1":
        GOLDEN.write_text(text, encoding="utf-8")
    assert text == GOLDEN.read_text(encoding="utf-8")


def test_report_has_a_column_per_interpreter_and_machine(merged: RunDir) -> None:
    run = model.load_run(merged)
    assert [column.id for column in run.columns] == MERGED_IDS
    # The newest GIL CPython of the first machine: run order breaks the tie with machine-b's.
    assert run.baseline == "cpython-3.12@machine-a"
    for column in run.columns:
        iid, machine = results.split_machine_id(column.id)
        source = RUN_A if machine == "machine-a" else RUN_B
        # Same failures; only their log paths moved (test_failure_logs_point_into_the_merged_folder).
        assert {name: (f.kind, f.reason) for name, f in column.failures.items()} == {
            name: (f.kind, f.reason) for name, f in source.read_failures(iid).items()
        }
        assert sorted(column.benchmarks) == sorted(model.load_run(source).column(iid).benchmarks)


def test_files_are_named_after_the_merged_ids(merged: RunDir) -> None:
    expected = {"run.json"}
    for iid in MERGED_IDS:
        expected |= {f"{iid}.json", f"{iid}.interpreter.json"}
        if not iid.startswith("cpython-3.12@"):
            expected.add(f"{iid}.failures.json")
    assert {path.name for path in merged.path.iterdir() if path.is_file()} == expected
    assert sorted(path.name for path in (merged.path / "logs").iterdir()) == sorted(
        iid for iid in MERGED_IDS if not iid.startswith("cpython-3.12@")
    )


def test_pyperf_files_are_copied_byte_for_byte(merged: RunDir) -> None:
    for machine, source in (("machine-a", RUN_A), ("machine-b", RUN_B)):
        for iid in IDS:
            merged_file = merged.results_file(results.machine_id(iid, machine))
            assert merged_file.read_bytes() == source.results_file(iid).read_bytes()


def test_interpreter_facts_carry_the_new_id_and_twin(merged: RunDir) -> None:
    facts = merged.read_interpreter("cpython-3.13t@machine-b")["interpreter"]
    assert facts["id"] == "cpython-3.13t@machine-b"
    assert facts["twin"] == "cpython-3.13@machine-b"
    assert merged.read_interpreter("pypy3.9@machine-a")["interpreter"]["twin"] == ""
    discovered = {record["id"]: record for record in merged.read_run()["discovered"]}
    assert discovered["cpython-3.13t@machine-a"]["twin"] == "cpython-3.13@machine-a"
    assert "cpython-2.7@machine-b" in discovered and "cpython-3.12" not in discovered


def test_failure_logs_point_into_the_merged_folder(merged: RunDir) -> None:
    failures = merged.read_failures("pypy3.9@machine-b")
    assert len(failures) == 6
    for name, failure in failures.items():
        assert failure.log == f"logs/pypy3.9@machine-b/{name.replace('/', '__')}.log"
        original = RUN_B.path / RUN_B.read_failures("pypy3.9")[name].log
        assert (merged.path / failure.log).read_bytes() == original.read_bytes()


def test_run_json_describes_the_merge(merged: RunDir) -> None:
    run = merged.read_run()
    assert run["run_id"] == MERGED_NAME
    assert run["interpreters"] == MERGED_IDS
    assert run["command"] == (
        f"python -m interpmatrix merge --out results/{MERGED_NAME} "
        "machine-a=results/2026-11-22T00-17-00Z machine-b=results/2026-11-22T01-11-26Z"
    )
    assert run["status"] == "complete"
    assert run["workloads"] == RUN_A.read_run()["workloads"]
    assert run["host"] == RUN_A.read_run()["host"]
    assert (run["profile"], run["profiles_differ"]) == ("default", True)
    assert list(run["machines"]) == ["machine-a", "machine-b"]
    machine_b = run["machines"]["machine-b"]
    source_b = RUN_B.read_run()
    assert machine_b["run_id"] == "2026-11-22T01-11-26Z"
    for key in ("host", "command", "profile", "started", "wall_time"):
        assert machine_b[key] == source_b[key]
    assert [record["family"] for record in run["provisioning"]] == [
        "pypy@machine-a", "free-threaded@machine-a", "pypy@machine-b", "free-threaded@machine-b"
    ]


def test_the_merge_does_not_depend_on_where_the_copies_are(tmp_path: Path, merged: RunDir) -> None:
    again = merge_fixtures(tmp_path)
    assert again.run_file.read_text() == merged.run_file.read_text()


def test_an_incomplete_machine_makes_the_merge_incomplete(tmp_path: Path) -> None:
    unfinished = RunDir(tmp_path / "unfinished")
    unfinished.path.mkdir()
    for path in RUN_B.path.iterdir():
        if path.is_file():
            (unfinished.path / path.name).write_bytes(path.read_bytes())
    unfinished.update_run(status="measuring")
    run = merge.merge_runs({"a": RUN_A, "b": unfinished}, tmp_path / "merged").read_run()
    assert run["status"] == "incomplete"
    assert run["machines"]["b"]["status"] == "measuring"


@pytest.mark.parametrize("name", ["", "two words", "../up", "laptop@home", ".hidden", "-flag", "a/b", "é"])
def test_unsafe_machine_names_are_refused(tmp_path: Path, name: str) -> None:
    with pytest.raises(ValueError, match="use letters, digits, '-', '_' and '.'"):
        merge.merge_runs({name: RUN_A}, tmp_path / "merged")
    assert not (tmp_path / "merged").exists()


def test_machine_arguments_name_or_default_to_the_folder() -> None:
    machines = merge.parse_machines([f"laptop={RUN_A.path}", str(RUN_B.path)])
    assert machines == {"laptop": RUN_A, "run-quick": RUN_B}


def test_a_machine_named_twice_is_refused() -> None:
    with pytest.raises(ValueError, match="machine name 'laptop' is given twice"):
        merge.parse_machines([f"laptop={RUN_A.path}", f"laptop={RUN_B.path}"])


def test_names_differing_only_in_case_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="differ only in case"):
        merge.merge_runs({"Laptop": RUN_A, "laptop": RUN_B}, tmp_path / "merged")


def test_a_folder_that_is_not_a_run_is_refused_and_nothing_is_left(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"machine 'b': .* is not a matrix run \(no run.json\)"):
        merge.merge_runs({"a": RUN_A, "b": RunDir(tmp_path / "nothing")}, tmp_path / "out" / "merged")
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


def test_an_existing_output_is_never_overwritten(tmp_path: Path) -> None:
    (tmp_path / "merged").mkdir()
    with pytest.raises(ValueError, match="already exists"):
        merge.merge_runs({"a": RUN_A}, tmp_path / "merged")
    assert list((tmp_path / "merged").iterdir()) == []


def test_a_merged_run_is_not_merged_again(tmp_path: Path, merged: RunDir) -> None:
    with pytest.raises(ValueError, match="is itself a merged run"):
        merge.merge_runs({"c": merged}, tmp_path / "again")


def test_machine_ids_parse_back() -> None:
    assert results.split_machine_id(results.machine_id("cpython-3.13t", "lab-2")) == ("cpython-3.13t", "lab-2")
    assert results.split_machine_id("cpython-3.13t") == ("cpython-3.13t", None)


def test_main_merges_and_reports_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "merged"
    assert cli.main(["merge", "--out", str(out), f"machine-a={RUN_A.path}", f"machine-b={RUN_B.path}"]) == 0
    assert read_json(out / "run.json")["interpreters"] == MERGED_IDS
    assert capsys.readouterr().out.startswith(f"wrote {out}")
    assert cli.main(["merge", "--out", str(tmp_path / "other"), "bad name=" + str(RUN_A.path)]) == 2
    assert "error: machine name 'bad name' is not usable" in capsys.readouterr().err


# --------------------------------------------------------------------------------------------------------------------
# The report of a merged run compares columns of one machine where only that makes sense


def on_machine(iid: str | None, machine: str) -> bool:
    return iid is not None and results.split_machine_id(iid)[1] == machine


def test_each_machines_claims_are_those_of_its_own_run(merged: RunDir) -> None:
    # Claims against the JIT included: a machine's columns are measured against that machine's PyPy only. Each
    # interval too: a cell's variance is moderated by its own column's cells only, which the merge leaves as they were.
    assert any(claim.versus_jit for claim in CLAIMS)
    run = model.load_run(merged)
    in_merge = {claim: stats.claim_rows(Estimator(run), claim) for claim in CLAIMS}
    for machine, source in (("machine-a", RUN_A), ("machine-b", RUN_B)):
        alone = model.load_run(source)
        for claim in CLAIMS:
            expected = stats.claim_rows(Estimator(alone), claim)
            if claim.versus_jit:  # the rows of this machine's JITs, each with this machine's columns only
                rows = [row for row in in_merge[claim] if on_machine(row.jit, machine)]
                assert [row.jit for row in rows] == [results.machine_id(row.jit, machine) for row in expected]
                assert all(on_machine(iid, machine) for row in rows for iid in row.results)
                found = [row.results for row in rows]
            else:  # one row, over every machine
                [row] = in_merge[claim]
                found = [{iid: result for iid, result in row.results.items() if on_machine(iid, machine)}]
            assert found == [
                {results.machine_id(iid, machine): result for iid, result in row.results.items()} for row in expected
            ]


def test_claims_against_the_jit_use_the_jit_of_the_same_machine(merged: RunDir, merged_text: str) -> None:
    claim = next(claim for claim in CLAIMS if claim.versus_jit and claim.slow == "countdown/serial@2000000")
    run = model.load_run(merged)
    rows = {row.jit: row for row in stats.claim_rows(Estimator(run), claim)}
    assert list(rows) == ["pypy3.9@machine-a", "pypy3.9@machine-b"]
    assert list(rows["pypy3.9@machine-b"].results) == ["cpython-3.12@machine-b", "cpython-3.13t@machine-b"]
    result = rows["pypy3.9@machine-b"].results["cpython-3.12@machine-b"]
    slow = run.column("cpython-3.12@machine-b").benchmark(Cell.parse(claim.slow))
    fast = run.column("pypy3.9@machine-b").benchmark(Cell.parse(claim.fast))
    # machine-b ran the quick profile: one worker process per cell, so each cell's figure is its process's steady mean.
    [slow_values] = [run_.values for run_ in slow.get_runs() if run_.values]
    [fast_values] = [run_.values for run_ in fast.get_runs() if run_.values]
    # CPython's first value (139 ms) is more than 10 % above the median of the two after it (123 and 125 ms): still
    # warming up, left out. PyPy's first (2.31 ms against 2.36 and 2.30) is not.
    assert slow_values[0] > 1.1 * max(slow_values[1:]) and slow_values[1] <= 1.1 * slow_values[2]
    assert fast_values[0] <= 1.1 * min(fast_values[1:]) and fast_values[1] <= 1.1 * fast_values[2]
    assert result.ratio == pytest.approx((sum(slow_values[1:]) / 2) / (sum(fast_values) / 3))
    # One process, and no cell of machine-b's columns with two to borrow a variance from: no interval, undecided.
    assert not result.interval.known and result.decision == "undecided"
    text = section(merged_text, "## Do the seeds' claims still hold?")
    line = next(line for line in text.splitlines()
                if line.startswith(f"| {claim.statement}") and "pypy3.9@machine-b ≥" in line)
    cells = [cell.strip() for cell in line.strip("|").split(" | ")]
    # Machine-a's columns are not in machine-b's row.
    assert cells[2:5] == ["n/a", "n/a", "n/a"] and cells[5].endswith("[no interval] undecided")


def test_a_machine_without_a_jit_borrows_no_other_machines(tmp_path: Path) -> None:
    no_jit = copy_run(RUN_B, tmp_path)
    no_jit.update_run(interpreters=["cpython-3.12", "cpython-3.13t"])
    run = model.load_run(merge.merge_runs({"machine-a": RUN_A, "machine-b": no_jit}, tmp_path / "merged"))
    for claim in (claim for claim in CLAIMS if claim.versus_jit):
        # One row, for machine-a's JIT, over machine-a's columns: machine-b's are in no row.
        [row] = stats.claim_rows(Estimator(run), claim)
        assert row.jit == "pypy3.9@machine-a"
        assert list(row.results) == ["cpython-3.12@machine-a", "cpython-3.13t@machine-a"]
        assert row.results["cpython-3.12@machine-a"] is not None


def test_free_threading_is_measured_against_builds_of_the_same_machine(tmp_path: Path) -> None:
    text = section(report.render_report(merge.merge_runs({"a": RUN_SMALL, "b": RUN_SMALL}, tmp_path / "m")),
                   "## Cost of free-threading")
    assert "- **cpython-3.13t@a** against its twin **cpython-3.13@a** (same source, same flags)" in text
    assert "- **cpython-3.13t@b** against its twin **cpython-3.13@b** (same source, same flags)" in text
    # cpython-3.13@b is a GIL 3.13 too, but of another machine: no "not a twin" line for it.
    assert "not a twin" not in text


def test_a_build_that_is_not_a_twin_is_compared_on_its_own_machine_only(tmp_path: Path) -> None:
    no_twin = copy_run(RUN_SMALL, tmp_path)
    record = no_twin.read_interpreter("cpython-3.13t")
    record["interpreter"]["twin"] = ""
    no_twin.write_interpreter("cpython-3.13t", record)
    alone = section(report.render_report(no_twin), "## Cost of free-threading")
    against = line_starting(alone, "  - against cpython-3.13 (")
    merged_run = merge.merge_runs({"a": no_twin, "b": no_twin}, tmp_path / "merged")
    text = section(report.render_report(merged_run), "## Cost of free-threading")
    for machine, other in (("a", "b"), ("b", "a")):
        block = text.split(f"- **cpython-3.13t@{machine}**", 1)[1].split("\n- ", 1)[0]
        assert "not measured: it has no same-source GIL twin" in block
        assert against.replace("cpython-3.13 (", f"cpython-3.13@{machine} (") in block
        assert f"cpython-3.13@{other}" not in block


def test_header_lists_each_machine_with_its_own_run(merged_text: str) -> None:
    top = header(merged_text)
    assert "- **Machines:** 2 runs merged, one per machine" in top
    for machine, source in (("machine-a", RUN_A), ("machine-b", RUN_B)):
        info = source.read_run()
        line = line_starting(top, f"    - **{machine}:** ")
        facts = [
            info["host"]["cpu"], f"{info['host']['cores']} cores", info["host"]["os"], f"run `{info['run_id']}`",
            f"(`{info['command']}`)", f"profile `{info['profile']}`", markdown.date_text(info["started"]),
            f"wall time {markdown.duration(info['wall_time'])}",
        ]
        assert [fact for fact in facts if fact not in line] == []
    # The single machine's lines would show only machine-a's host and date.
    assert "- **CPU:**" not in top and "- **Date:**" not in top and "- **OS:**" not in top
    assert line_starting(top, "- **Wall time:**") == "- **Wall time:** 50:12 (the machines' own wall times added up)"


def test_header_names_each_machines_profile(merged: RunDir, merged_text: str) -> None:
    profile = line_starting(header(merged_text), "- **Profile:** ")
    assert profile.startswith("- **Profile:** differs between machines: `default` (")
    assert ") on machine-a, `quick` (" in profile and profile.count(" on machine-") == 2
    assert "t-test" not in profile  # intervals take each cell's own number of processes
    # Columns of the two profiles compare where both cells have an interval: machine-a's cpython-3.13t (two processes a
    # cell) against the baseline is tested; machine-b's cells (one process, no sibling with two) are not.
    run = model.load_run(merged)
    estimator = Estimator(run)
    cell = Cell.parse("countdown/serial@2000000")
    base = (run.column("cpython-3.12@machine-a"), cell)
    tested = estimator.ratio(base, (run.column("cpython-3.13t@machine-a"), cell))
    untested = estimator.ratio(base, (run.column("cpython-3.12@machine-b"), cell))
    assert tested.known and stats.significance(tested) in (None, "n.s.")
    assert estimator.sample(run.column("cpython-3.12@machine-b"), cell).n == 1
    assert stats.significance(untested) == "not tested"


def test_same_profile_on_every_machine_is_said_once(tmp_path: Path) -> None:
    text = report.render_report(merge.merge_runs({"a": RUN_A, "b": RUN_A}, tmp_path / "merged"))
    assert line_starting(header(text), "- **Profile:** ").endswith("cell time limit 120 s; on every machine")
    method = section(text, "## Method")
    assert "Profile `default`, on every machine: 2 rounds; in each round every workload runs on every " \
        "interpreter of the machine before the next round starts" in method
    assert "Every interpreter, on every machine, gets the same processes and values; only warm-ups differ (1; " \
        "8 for a JIT: a JIT's first loops compile code)" in method


def test_an_unfinished_machine_is_resumed_under_its_own_run_id(tmp_path: Path) -> None:
    unfinished = copy_run(RUN_B, tmp_path)
    unfinished.update_run(status="measuring")
    unfinished.results_file("cpython-3.13t").unlink()
    # The unmerged run's own report says how many steps its machine still owes.
    left = stats.steps_left(model.load_run(unfinished))
    assert left > 0
    assert f"{left} steps not run — resume with `nox -s matrix -- --resume 2026-11-22T01-11-26Z`" in (
        report.render_report(unfinished))
    text = report.render_report(merge.merge_runs({"machine-a": RUN_A, "machine-b": unfinished}, tmp_path / "m"))
    status = [line for line in header(text).splitlines() if line.startswith("- **Status")]
    assert status == [(
        f"- **Status: not complete** on machine-b (its run.json says 'measuring'): {left} steps not run — resume "
        "its own run there with `nox -s matrix -- --resume 2026-11-22T01-11-26Z`, then merge the runs again"
    )]
    assert "--resume m`" not in text


def test_method_promises_equal_samples_per_machine_only(merged_text: str) -> None:
    method = section(merged_text, "## Method")
    assert "Every interpreter gets the same processes and values" not in method
    assert "Every interpreter of one machine gets the same processes and values; only warm-ups differ (more for a " \
        "JIT, whose first loops compile code). Intervals take each cell's own number of processes, so columns of two " \
        "profiles compare too." in method
    assert "Each machine measured with its own profile: `default` (2 rounds × 1 fresh worker process × 3 values; " \
        "1 warm-up, 8 for a JIT; min time 0.05 s) on machine-a; `quick` (1 round × 1 fresh worker process × " \
        "3 values; 1 warm-up, 6 for a JIT; min time 0.05 s) on machine-b." in method
    assert "t-test" not in method
    assert "nox -s matrix  # on machine-a: its own run, 2026-11-22T00-17-00Z\n" \
        "nox -s matrix -- --profile quick  # on machine-b: its own run, 2026-11-22T01-11-26Z\n" \
        f"python -m interpmatrix merge --out results/{MERGED_NAME} " in method


def test_drift_says_rounds_interleave_one_machine_only(merged_text: str) -> None:
    drift = section(merged_text, "## Machine drift")
    assert "Rounds interleave the interpreters of one machine only" in drift
    assert "the ratios between columns of one machine are the figures to trust" in drift
    single = section(report.render_report(RUN_A), "## Machine drift")
    assert "Rounds interleave the interpreters, so drift of the machine during the run hits every column alike" \
        in single


# --------------------------------------------------------------------------------------------------------------------
# .github/workflows/matrix.yml: one run per runner type, merged. It cannot run here; its commands can, on real runs.


def workflow_command(start: str) -> list[str]:
    """The words of the workflow's one command line that starts with ``start``."""
    lines = [line.strip() for line in WORKFLOW.read_text(encoding="utf-8").splitlines()]
    found = [line for line in lines if line.startswith(start)]
    assert len(found) == 1, f"{len(found)} lines of {WORKFLOW.name} start with {start!r}"
    return shlex.split(found[0])


def workflow_runners() -> list[str]:
    return re.search(r"^ +runner: \[(.*)\]$", WORKFLOW.read_text(encoding="utf-8"), re.MULTILINE)[1].split(", ")


def test_workflow_runners_are_usable_machine_names_merged_in_matrix_order() -> None:
    runners = workflow_runners()
    assert runners == ["ubuntu-24.04", "ubuntu-24.04-arm", "macos-14"]
    assert [merge.check_machine_name(runner) for runner in runners] == runners
    text = WORKFLOW.read_text(encoding="utf-8")
    assert f"for runner in {' '.join(runners)}; do" in text
    assert "name: results-${{ matrix.runner }}" in text and 'runs=(downloads/results-"$runner"/*/run.json)' in text


def test_workflow_profiles_and_matrix_options_are_the_clis() -> None:
    text = WORKFLOW.read_text(encoding="utf-8")
    options = re.search(r"^ +options: \[(.*)\]$", text, re.MULTILINE)[1].split(", ")
    assert sorted(options) == sorted(profile_names())
    for profile in options:
        args = cli.matrix_parser().parse_args(["--profile", profile, "--no-provision"])
        assert (args.profile, args.no_provision) == (profile, True)
    assert 'args=(--profile "$PROFILE")' in text and 'nox -s matrix -- "${args[@]}"' in text


def test_workflow_pins_are_the_noxfiles() -> None:
    pins = set(workflow_command("run: python -m pip install pyperf==")[5:])
    noxfile = (REPO / "noxfile.py").read_text(encoding="utf-8")
    known = set(cli.BENCH_REQUIREMENTS) | set(re.findall(r'^[A-Z_]+ = "([A-Za-z0-9_.-]+==[^"]+)"$', noxfile, re.MULTILINE))
    assert pins and pins <= known, f"not pinned so in noxfile.py or cli.BENCH_REQUIREMENTS: {pins - known}"


def test_workflow_merge_and_report_commands_work_on_real_runs(tmp_path: Path) -> None:
    # The merge step's command, with the folders its loop would find in the downloaded artifacts.
    words = workflow_command("python -m interpmatrix merge ")
    assert words[:4] == ["python", "-m", "interpmatrix", "merge"] and words[-1] == "${machines[@]}"
    out = tmp_path / "results" / "merged"
    argv = [str(out) if word == "results/merged" else word for word in words[4:-1]]
    assert cli.main(["merge", *argv, f"ubuntu-24.04={RUN_A.path}", f"macos-14={RUN_B.path}"]) == 0
    assert RunDir(out).read_run()["interpreters"][0] == "cpython-3.12@ubuntu-24.04"
    pytest.importorskip("matplotlib")  # the report draws its charts
    words = workflow_command("run: python -m interpmatrix report ")[1:]
    assert words[:4] == ["python", "-m", "interpmatrix", "report"]
    reports = tmp_path / "reports" / "merged"
    argv = [str(out) if word == "results/merged" else str(reports) if word == "reports/merged" else word
            for word in words[3:]]
    assert cli.main(argv) == 0
    text = (reports / "merged.md").read_text(encoding="utf-8")
    assert text.startswith("# interpmatrix report: merged\n")
    assert "    - **macos-14:** " in text


def test_workflow_yaml_has_the_jobs_github_runs() -> None:
    yaml = pytest.importorskip("yaml")
    workflow = yaml.safe_load(WORKFLOW.read_text(encoding="utf-8"))
    triggers = workflow.get("on", workflow.get(True))  # YAML 1.1 reads a bare `on` as true
    assert set(triggers) == {"workflow_dispatch", "schedule"}
    assert triggers["workflow_dispatch"]["inputs"]["profile"]["default"] == "quick"
    assert len(triggers["schedule"][0]["cron"].split()) == 5
    measure_job, merge_job = workflow["jobs"]["measure"], workflow["jobs"]["merge"]
    assert measure_job["runs-on"] == "${{ matrix.runner }}"
    assert measure_job["strategy"]["matrix"]["runner"] == workflow_runners()
    uploads = [step["with"] for step in measure_job["steps"] if step.get("uses", "").startswith("actions/upload-")]
    assert {"name": "results-${{ matrix.runner }}", "path": "results/"}.items() <= uploads[0].items()
    assert merge_job["needs"] == "measure"
    download = next(step for step in merge_job["steps"] if step.get("uses", "").startswith("actions/download-"))
    assert download["with"] == {"pattern": "results-*", "path": "downloads"}
    assert merge_job["steps"][-1]["with"]["path"] == "reports/merged/"
