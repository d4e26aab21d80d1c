"""The registry is the one list of workloads and variants: every script must offer exactly what it lists."""

from __future__ import annotations

import ast
import importlib
import subprocess
import sys

import pytest

from interpmatrix.questions import CLAIMS
from interpmatrix.registry import GROUPS, WORKLOADS, WORKLOADS_DIR, Cell, find_workload, select_workloads


@pytest.fixture(autouse=True)
def workloads_on_path(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.syspath_prepend(str(WORKLOADS_DIR))


@pytest.mark.parametrize("workload", WORKLOADS, ids=lambda w: w.name)
def test_script_offers_exactly_the_registered_variants(workload) -> None:
    module = importlib.import_module(workload.script.stem)
    assert set(module.VARIANTS) == {variant.name for variant in workload.variants}
    assert workload.reference in module.VARIANTS
    for variant in workload.variants:
        # The registry's binding is the one the script's kernel declares it needs.
        assert getattr(module.VARIANTS[variant.name], "binding", None) == variant.binding, variant.name
        # A memory variant is measured with pyperf --track-memory: the harness reads that from the kernel.
        assert getattr(module.VARIANTS[variant.name], "metric", "time") == variant.metric, variant.name


@pytest.mark.parametrize("workload", WORKLOADS, ids=lambda w: w.name)
def test_script_names_the_sizes_its_check_uses(workload) -> None:
    # tests/test_workloads.py checks every variant at these, in every interpreter.
    module = importlib.import_module(workload.script.stem)
    assert module.SMALL_SIZES and all(isinstance(size, int) for size in module.SMALL_SIZES)


def test_every_claim_compares_two_cells_of_its_workload() -> None:
    for claim in CLAIMS:
        cells = {cell.name for cell in find_workload(claim.workload).cells()}
        assert {claim.slow, claim.fast} <= cells, claim.statement
        assert (claim.at_least is None) != (claim.at_most is None), claim.statement
        metrics = {find_workload(claim.workload).variant(Cell.parse(name).variant).metric for name in (claim.slow, claim.fast)}
        assert metrics == {claim.metric}, claim.statement


def test_every_group_is_a_report_section() -> None:
    assert {workload.group for workload in WORKLOADS} == set(GROUPS)


@pytest.mark.parametrize("workload", WORKLOADS, ids=lambda w: w.name)
def test_script_is_documented_and_python39(workload) -> None:
    source = workload.script.read_text()
    tree = ast.parse(source, feature_version=(3, 9))
    docstring = ast.get_docstring(tree)
    assert docstring and "seed" in docstring.lower()
    # The module's documented default size is the matrix's first size.
    defaults = [
        node.value.value
        for node in tree.body
        if isinstance(node, ast.Assign) and node.targets[0].id.startswith("DEFAULT_")  # type: ignore[attr-defined]
    ]
    assert defaults == [workload.sizes[0]]


def test_primes_matches_the_seed() -> None:
    primes = importlib.import_module("primes")
    assert primes.primes(10) == [2, 3, 5, 7, 11, 13, 17, 19, 23, 29]
    assert len(primes.primes(2000)) == 1000  # the seed caps kmax at its array size


def test_cell_names_round_trip() -> None:
    for workload in WORKLOADS:
        for cell in workload.cells():
            assert Cell.parse(cell.name) == cell
    assert Cell.parse("countdown/threads-2@2000000").label == "threads ×2"
    with pytest.raises(ValueError, match="not a cell name"):
        Cell.parse("countdown")


def test_countdown_cells() -> None:
    names = [cell.name for cell in find_workload("countdown").cells()]
    assert names == [
        "countdown/serial@2000000",
        *(f"countdown/threads-{n}@2000000" for n in (1, 2, 4)),
        *(f"countdown/processes-{n}@2000000" for n in (1, 2, 4)),
        *(f"countdown/{binding}@2000000" for binding in ("cython", "cffi", "compiled", "c")),
        "countdown/serial_memory@2000000",
    ]


def test_memory_cells_measure_a_time_cell_of_the_same_workload() -> None:
    """The report sets each memory cell beside the time of the variant it measures."""
    for workload in WORKLOADS:
        names = {cell.name for cell in workload.cells()}
        for cell in workload.cells():
            if workload.variant(cell.variant).metric == "memory":
                assert cell.name.replace("_memory", "", 1) in names, cell.name


def test_pools_installs_the_pp_its_variants_need() -> None:
    """The bench session installs the registry's requirements; the pp variants check the script's pin."""
    pools = importlib.import_module("pools")
    workload = find_workload("pools")
    assert pools.PP in workload.requirements
    for name in ("pp_local", "pp_server"):
        assert pools.VARIANTS[name].requirements == (pools.PP,) and workload.variant(name).workers == (2,)


def test_compiled_primes_only_at_the_seeds_size() -> None:
    names = [cell.name for cell in find_workload("primes").cells()]
    assert "primes/pure@1000" in names and "primes/cython@500" in names and "primes/cython@1000" not in names
    assert "primes/shedskin@500" in names and "primes/shedskin@1000" not in names
    assert [n for n in names if "threads" in n] == [
        *(f"primes/cython_threads-{n}@500" for n in (1, 2, 4)),
        *(f"primes/cffi_threads-{n}@500" for n in (1, 2, 4)),
    ]


def test_unknown_workload_lists_the_valid_ones() -> None:
    valid = "countdown, primes, word_count, pools, spawn_costs, io_threads, gc_cycles, numeric"
    with pytest.raises(ValueError, match=f"unknown workload 'nope'; valid workloads: {valid}"):
        select_workloads(["primes", "nope"])
    assert [w.name for w in select_workloads(["primes", "countdown"])] == ["countdown", "primes"]


def test_the_harness_never_imports_a_workload() -> None:
    # The orchestrator must not time, or even load, kernels in its own process: they run in pyperf workers.
    scripts = {workload.script.stem for workload in WORKLOADS} | {"_harness", "_bindings", "_packages"}
    code = f"import sys, interpmatrix.cli, interpmatrix.measure; print(sorted(set(sys.modules) & {scripts!r}))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=WORKLOADS_DIR.parent)
    assert out.stdout.strip() == "[]"
