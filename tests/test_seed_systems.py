"""The tables of the seeds' systems and of seed 000 then and now, on crafted runs (real pyperf files written by
``test_verdict.crafted_run``) whose ratios are worked out by hand: 0.1 s against 0.004 s is 25.0× faster."""

from __future__ import annotations

import json
from pathlib import Path

import pyperf
from test_verdict import SERIAL, benchmark, crafted_run, spread

from interpmatrix import model
from interpmatrix.intervals import Estimator
from interpmatrix.questions import SeedSystem
from interpmatrix.results import RunDir
from interpmatrix.sections import seed_systems, then_and_now

PURE, CYTHON = "primes/pure@500", "primes/cython@500"


def set_facts(run_dir: RunDir, iid: str, **facts) -> None:
    record = json.loads(run_dir.interpreter_file(iid).read_text())
    record["interpreter"].update(facts)
    run_dir.write_interpreter(iid, record)


def make_run(tmp_path: Path, ids: list[str], provisioning: list | None = None) -> RunDir:
    cells: dict[str, dict[str, pyperf.Benchmark]] = {iid: {} for iid in ids}
    for iid in ids:
        cells[iid][SERIAL] = benchmark(SERIAL, spread(0.004 if iid.startswith("pypy") else 0.1))
    cells[ids[0]].update({PURE: benchmark(PURE, spread(0.008)), CYTHON: benchmark(CYTHON, spread(0.0004))})
    run_dir = crafted_run(tmp_path, cells)
    # The fixture's run.json discovered pyenv's 2.7.18 (too old then) among the interpreters of its machine.
    run_dir.update_run(workloads=["countdown", "primes"], baseline=ids[0], provisioning=provisioning or [])
    return run_dir


def row(text: str, system: str) -> str:
    return next(line for line in text.splitlines() if line.startswith(f"| {system} "))


def test_every_system_has_a_figure_or_a_reason(tmp_path: Path) -> None:
    run_dir = make_run(tmp_path, ["cpython-3.12", "pypy3.9"],
                       provisioning=[{"family": "runtimes", "error": "jython: apt-get download jython failed"}])
    text = seed_systems.render(model.load_run(run_dir), {})
    lines = [line for line in text.splitlines() if line.startswith("| ") and not line.startswith("| system")]
    assert all(line.rstrip(" |").split("|")[-1].strip() for line in lines)
    assert "pypy3.9: 25.0× faster [" in row(text, "PyPy")
    assert "[no interval]" not in row(text, "PyPy")
    assert "found (cpython-2.7) but not in this run (`--interpreters cpython-2.7` runs it)" in row(text, "CPython 2.7")
    assert "not provisioned: jython: apt-get download jython failed" in row(text, "Jython")
    assert "cannot run here: needs an NVIDIA GPU" in row(text, "PyCUDA")
    assert "`primes/cython@500` against `primes/pure@500` on cpython-3.12: 20.0× faster [" in row(text, "Cython")
    assert "ran on 1 of 2 interpreters" in row(text, "Cython")


def test_the_row_of_c_extensions_releasing_the_gil_states_the_claim_about_them(tmp_path: Path) -> None:
    """The row takes the two cells of the claim "C extensions that release the GIL let threads run in parallel": a
    figure the claims table decides, with its interval. Cython's threads at 0.2 s on one and 0.1 s on two (two
    processes each) are 2.00x faster."""
    one, two = "primes/cython_threads-1@500", "primes/cython_threads-2@500"
    run_dir = make_run(tmp_path, ["cpython-3.12"])
    (tmp_path / "more").mkdir()
    more = crafted_run(tmp_path / "more", {"cpython-3.12": {
        SERIAL: benchmark(SERIAL, spread(0.1)), one: benchmark(one, spread(0.2)), two: benchmark(two, spread(0.1)),
    }})
    more.update_run(workloads=["countdown", "primes"], baseline="cpython-3.12", provisioning=[])
    line = row(seed_systems.render(model.load_run(more), {}), "C extensions releasing the GIL")
    assert f"`{two}` against `{one}` on cpython-3.12: 2.00× faster [" in line
    assert "[no interval]" not in line and "cffi" not in line
    # The run without them says so of the claim's cells, not of cffi's.
    assert "cython_threads" in row(seed_systems.render(model.load_run(run_dir), {}), "C extensions releasing the GIL")


def test_a_runtime_never_found_says_so(tmp_path: Path) -> None:
    run = model.load_run(make_run(tmp_path, ["cpython-3.12"]))
    figure = seed_systems.implementation_figure(run, Estimator(run), SeedSystem("Jython", ("003",), "jython"))
    assert figure == "— not found on this machine (`nox -s provision` gets what it can)"


def test_a_variant_this_version_does_not_have(tmp_path: Path) -> None:
    run = model.load_run(make_run(tmp_path, ["cpython-3.12"]))
    system = SeedSystem("Nothing", ("000",), variant="primes/nonesuch@500")
    assert seed_systems.variant_figure(run, Estimator(run), system) == (
        "— `nonesuch` is not a variant of primes in this version of interpmatrix")


def test_the_seeds_own_table_from_its_printed_timings() -> None:
    rows, ratio = then_and_now.seed_rows()
    # Medians 1.51485 s and 0.04832 s; extremes 1.06774/0.06953 and 1.60109/0.03886.
    assert round(ratio, 1) == 31.3
    assert rows[1][2] == "31.3× faster (from 15.4× to 41.2× between the runs' extremes)"


def test_today_against_cpython_2_7_where_the_run_has_it(tmp_path: Path) -> None:
    run_dir = make_run(tmp_path, ["cpython-2.7", "pypy3.9"])
    set_facts(run_dir, "cpython-2.7", version="2.7.18", implementation_version="2.7.18")
    text = then_and_now.render(model.load_run(run_dir), {})
    assert "Today's rows are against cpython-2.7, the seeds' CPython: the seed found PyPy 31.3× faster" in text
    assert "25.0× faster [" in row(text, "pypy3.9 (3.9.16, this run)")


def test_without_cpython_2_7_today_is_against_the_baseline(tmp_path: Path) -> None:
    text = then_and_now.render(model.load_run(make_run(tmp_path, ["cpython-3.12", "pypy3.9"])), {})
    assert "CPython 2.7 is not in this run, so today's rows are against the baseline, cpython-3.12" in text
