"""Every workload's variants agree with its reference on small inputs, inside every interpreter the matrix takes.

Each check runs in the bare interpreter (no venv, no pyperf: the kernels do not need it), so it shows that the
workloads run on Python 3.9 through 3.13t and PyPy as they are. Variants that need a compiled binding are checked
in tests/test_bindings.py (they need a build); variants that need a package (numpy) are checked where the package
imports, and the check says which were skipped.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pyperf
import pytest

from interpmatrix import discovery, harness_protocol, selection
from interpmatrix.registry import WORKLOADS, WORKLOADS_DIR

TEST_WORKLOADS_DIR = Path(__file__).resolve().parent / "workloads"

# One per binary: a JIT's column is the same binary, run with PYTHON_JIT=1.
# The pyperf columns: a self-timed one (CPython 2.7) runs the portable kernels only (tests/test_selftimed.py).
INTERPRETERS = [i for i in selection.default_selection(discovery.discover()) if not i.variant_of and i.supported]

# Run inside the interpreter under test: every variant without a binding, at the module's SMALL_SIZES and every
# worker count the registry measures it at, against the reference (or the module's ``expected``).
CHECK = r"""
import importlib, json, sys
workloads_dir, name, reference = sys.argv[1], sys.argv[2], sys.argv[3]
variants, only_at = json.loads(sys.argv[4]), json.loads(sys.argv[5])
sys.path.insert(0, workloads_dir)
import _packages
module = importlib.import_module(name)
expected_of = getattr(module, "expected", None)
report = {"checked": [], "skipped": {}, "wrong": []}
for size in module.SMALL_SIZES:
    expected = expected_of(size) if expected_of else module.VARIANTS[reference](size, 1)
    for variant, workers_list in variants.items():
        # A variant the matrix measures only at some sizes is checked at those of them that are small, if any (the
        # start and transfer variants of spawn_costs answer different questions); else at every small size.
        small = [s for s in module.SMALL_SIZES if s in only_at.get(variant, [])]
        if small and size not in small:
            continue
        kernel = module.VARIANTS[variant]
        try:
            _packages.resolve(kernel)
        except _packages.PackageUnavailable as error:
            report["skipped"][variant] = error.reason
            continue
        for workers in workers_list or [1]:
            answer = kernel(size, workers)
            if answer != expected:
                report["wrong"].append([variant, size, workers, repr(answer)[:300], repr(expected)[:300]])
            report["checked"].append([variant, size, workers])
shutdown = getattr(module, "shutdown_pools", None)
if shutdown is not None:
    shutdown()
print(json.dumps(report))
"""


@pytest.mark.parametrize("interpreter", INTERPRETERS, ids=lambda interpreter: interpreter.id)
@pytest.mark.parametrize("workload", WORKLOADS, ids=lambda workload: workload.name)
def test_variants_agree_with_the_reference(interpreter: discovery.Interpreter, workload) -> None:
    variants = {variant.name: list(variant.workers) for variant in workload.variants if variant.binding is None}
    only_at = {variant.name: list(variant.sizes) for variant in workload.variants if variant.sizes}
    result = subprocess.run(
        [interpreter.executable, "-c", CHECK, str(WORKLOADS_DIR), workload.script.stem, workload.reference,
         json.dumps(variants), json.dumps(only_at)],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=WORKLOADS_DIR,
    )
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["wrong"] == []
    checked = {variant for variant, _, _ in report["checked"]}
    # Every variant was checked, or skipped with the reason its package is missing (numpy outside a bench venv).
    assert checked | set(report["skipped"]) == set(variants)
    assert workload.reference in checked or workload.reference in report["skipped"]
    assert all(reason for reason in report["skipped"].values())


def test_a_worker_whose_kernel_keeps_a_process_pool_exits_after_its_value(tmp_path) -> None:
    """spawn_costs keeps a process pool between calls. Its pyperf worker must exit the normal way, which joins the
    pool, and not skip the teardown: the pool's process would hold the pipe the orchestrator reads, and the cell would
    run into its time limit (it did: 120 s a cell, on every interpreter)."""
    result = subprocess.run(
        [sys.executable, "spawn_costs.py", "--cell", "spawn_costs/process_pool@1", "--processes", "1", "--values", "1",
         "--warmups", "0", "--loops", "1", "-q", "-o", str(tmp_path / "out.json")],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=WORKLOADS_DIR,
    )
    assert result.returncode == 0, result.stderr
    assert '{"cell": "spawn_costs/process_pool@1", "event": "done"}' in result.stderr


def test_cpython_311_is_timed_only_from_a_functions_eighth_call(tmp_path) -> None:
    """CPython 3.11 specializes a function's bytecode from its 8th call on (calls 1-7 of countdown ran 35 % slower
    here): one value per call needs 8 warm-up values there. Elsewhere the profile's one warm-up stays."""
    out = tmp_path / "out.json"
    result = subprocess.run(
        [sys.executable, "countdown.py", "--cell", "countdown/serial@20000", "--processes", "1", "--values", "1",
         "--warmups", "1", "--loops", "1", "-q", "-o", str(out)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=WORKLOADS_DIR,
    )
    assert result.returncode == 0, result.stderr
    (run,) = [run for run in pyperf.Benchmark.load(str(out)).get_runs() if run.values]
    specializes_late = sys.implementation.name == "cpython" and sys.version_info[:2] == (3, 11)
    assert len(run.warmups) == (8 if specializes_late else 1)


def test_the_loop_count_comes_from_warm_calls_not_from_the_answer_checks_first_call(tmp_path) -> None:
    """The answer check's call is the first of the process, and a first call may do what the later ones skip
    (``tests/workloads/first_call.py``'s ``once`` sleeps 0.1 s, then adds ten numbers). The loops must make a warm
    value last --min-time: adding ten numbers takes well under 10 us on any interpreter, so 0.02 s needs thousands of
    calls. Taken from the check's 0.1 s, the count was 1, and the values timed one such call, timer noise."""
    out = tmp_path / "out.json"
    result = subprocess.run(
        [sys.executable, str(TEST_WORKLOADS_DIR / "first_call.py"), "--cell", "first_call/once@10", "--processes", "1",
         "--values", "1", "--warmups", "1", "--min-time", "0.02", "-q", "-o", str(out)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    (benchmark,) = pyperf.BenchmarkSuite.load(str(out)).get_benchmarks()
    assert benchmark.get_metadata()["loops"] >= 2048


def test_with_a_jit_the_loop_count_found_cold_is_timed_once_more_warm(monkeypatch) -> None:
    """A JIT's first calls run slower for a while (``first_call.py``'s ``cold``: each call within 0.04 s of the first
    sleeps 0.01 s). Doubling from the check on, 2 loops already last 0.02 s while cold; once warm, 2 calls take
    microseconds. So with a JIT the count found cold is timed once more, and doubling goes on while it runs short. The
    process's JIT is the one fact faked here: the tests run on an interpreter without one."""
    sys.path.insert(0, str(WORKLOADS_DIR))
    sys.path.insert(0, str(TEST_WORKLOADS_DIR))
    try:
        import _harness
        import first_call
    finally:
        sys.path.remove(str(TEST_WORKLOADS_DIR))
        sys.path.remove(str(WORKLOADS_DIR))
    monkeypatch.setattr(_harness, "_jit_compiles", lambda: True)
    monkeypatch.setattr(first_call, "FIRST_CALL", [])
    kernel = first_call.cold
    kernel(10, 1)  # the answer check's call
    assert _harness._calibrate_loops(0.02, kernel, 10, 1) >= 256


def _heap_calls(tmp_path, *options: str) -> dict[str, list[tuple[int, int]]]:
    """Run ``tests/workloads/heap.py``'s time cell, then its memory cell, one worker process each; per cell, each
    worker call's (minor page faults, whether the process started with GLIBC_TUNABLES)."""
    calls = tmp_path / "calls.txt"
    by_cell = {}
    for cell in ("heap/churn@1", "heap/churn_memory@1"):
        calls.unlink(missing_ok=True)
        result = subprocess.run(
            [sys.executable, str(TEST_WORKLOADS_DIR / "heap.py"), *options, "--cell", cell, "--processes", "1",
             "--values", "3", "--warmups", "2", "--loops", "2", "-q", "--append", str(tmp_path / "out.json")],
            capture_output=True, text=True, timeout=120, env={**os.environ, "INTERPMATRIX_TEST_HEAP": str(calls)},
        )
        assert result.returncode == 0, result.stderr
        lines = calls.read_text().splitlines()
        by_cell[cell] = [(int(faults), int(tuned)) for _, faults, tuned in map(str.split, lines)]
    return by_cell


def test_a_workload_that_holds_the_heap_keeps_its_blocks_between_calls_in_time_cells_only(tmp_path) -> None:
    """Three 8 MiB blocks a call, freed at its end (numpy's expression over 10^6 floats makes three such temporaries):
    without the heap held, glibc gives the top of its heap back after every call and the next call faults its pages
    in again. A block is 2048 pages, so a call that faults in even one block's worth takes more than 1000 faults; a
    call that reuses its heap takes a handful. The memory cell's workers keep glibc's default: a peak of memory counts
    what the heap keeps."""
    default = _heap_calls(tmp_path)
    held = _heap_calls(tmp_path, "--hold-heap")
    # Without it, the kernel does provoke the give-back (else the held figures below would prove nothing): past the
    # process's first two calls, every call faults in at least one block again.
    assert all(faults > 2048 for faults, _ in default["heap/churn@1"][2:]), default
    assert not any(tuned for _, tuned in default["heap/churn@1"] + default["heap/churn_memory@1"])
    assert all(faults < 100 and tuned for faults, tuned in held["heap/churn@1"][2:]), held
    assert not any(tuned for _, tuned in held["heap/churn_memory@1"]), held


def test_the_machine_probes_keep_their_buffers_out_of_the_heap_the_kernels_allocate_from() -> None:
    """The one-core probe's 1 MiB is mapped apart from malloc's heap, and the parallelism probe holds no buffer. As a
    bytes object, allocated and freed between a worker's warm-ups and its values, the first was one more allocation
    deciding where glibc's heap left its long-lived blocks, and with them whether numpy's temporaries were given back
    and faulted in again every call (_harness.HELD_HEAP_TUNABLES): a plain pyperf benchmark on Debian sid's CPython 3.14
    took 5.9 ms a call with the probe, 2.7 ms without. tracemalloc sees what goes through Python's allocators, the
    ones a bytes object and numpy's arrays use; its peak, what the parallelism probe took while it ran."""
    code = ("import tracemalloc, _harness as h; tracemalloc.start(); "
            "probe = h.MachineProbe(); probe.__enter__(); probe.__exit__(None, None, None); "
            "held = tracemalloc.take_snapshot().filter_traces([tracemalloc.Filter(True, h.__file__)]); "
            "probe.teardown({}); tracemalloc.reset_peak(); before = tracemalloc.get_traced_memory()[0]; "
            "metadata = {}; h.MachineParallelism().teardown(metadata); "
            "print(sum(stat.size for stat in held.statistics('filename')), "
            "tracemalloc.get_traced_memory()[1] - before, sorted(metadata))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, cwd=WORKLOADS_DIR)
    assert done.returncode == 0, done.stderr
    held, peak, keys = done.stdout.split(" ", 2)
    # The probes' own bookkeeping is a few hundred bytes (threads' a few kilobytes); one buffer of theirs would be
    # 1 MiB or more.
    assert int(held) < 64 * 1024 and int(peak) < 256 * 1024, done.stdout
    assert keys.strip() == ("['interpmatrix_parallelism_one', 'interpmatrix_parallelism_probe', "
                            "'interpmatrix_parallelism_two']")


def test_without_openssls_pbkdf2_the_parallelism_probe_records_nothing_and_raises_nothing() -> None:
    """A CPython built without OpenSSL has no hashlib.pbkdf2_hmac (since 3.12): the hook leaves the process without a
    figure instead of failing the cell."""
    code = ("import hashlib, _harness as h; del hashlib.pbkdf2_hmac; metadata = {}; "
            "h.MachineParallelism().teardown(metadata); print(sorted(metadata))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, cwd=WORKLOADS_DIR)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


@pytest.mark.parametrize("interpreter", INTERPRETERS, ids=lambda interpreter: interpreter.id)
def test_the_probe_reads_a_buffer_its_interpreter_hands_to_zlib_as_it_lies(interpreter) -> None:
    """A mapping on CPython, a bytes object on PyPy, whose zlib copied a mapping through PyPy's allocator on every
    call (_harness.probe_buffer); a worker records which (the test below), where the orchestrator reads it."""
    code = "import _harness as h; print(type(h.probe_buffer(h.PROBE_SIZE)).__name__)"
    done = subprocess.run([interpreter.executable, "-c", code], capture_output=True, text=True, timeout=60,
                          cwd=WORKLOADS_DIR)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == ("bytes" if interpreter.implementation == "pypy" else "mmap")


def test_a_worker_that_times_its_kernel_records_the_machine_probe_and_a_memory_cell_does_not(tmp_path) -> None:
    """The probes are pyperf hooks found through the dist-info beside the harness (workloads/): the one-core probe
    reaches pyperf's worker processes of a cell timed by its own clock, the parallelism probe those of a cell on
    several workers too, and both stay out of a memory cell's peak."""
    out = tmp_path / "out.json"
    result = subprocess.run(
        [sys.executable, "countdown.py", "--cell", "countdown/serial@20000", "--cell", "countdown/serial_memory@20000",
         "--cell", "countdown/threads-2@20000", "--processes", "2", "--values", "2", "--warmups", "1", "--loops", "1",
         "-q", "--append", str(out)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=WORKLOADS_DIR,
    )
    assert result.returncode == 0, result.stderr
    probes, buffers = {}, set()
    for benchmark in pyperf.BenchmarkSuite.load(str(out)).get_benchmarks():
        probes[benchmark.get_name()] = [
            tuple(run.get_metadata().get(key) for key in ("interpmatrix_machine_probe", "interpmatrix_parallelism_one",
                                                          "interpmatrix_parallelism_two", "interpmatrix_parallelism_probe"))
            for run in benchmark.get_runs() if run.values
        ]
        buffers |= {run.get_metadata().get("interpmatrix_probe_buffer") for run in benchmark.get_runs() if run.values}
    # What the probes read, beside them (this test's interpreter is a CPython): none for the memory cell.
    assert buffers == {"mmap", None}
    timed, memory = probes["countdown/serial@20000"], probes["countdown/serial_memory@20000"]
    threads = probes["countdown/threads-2@20000"]
    # One crc32 of 1 MiB: tens of microseconds to a few milliseconds on any machine this runs on; 60,000 iterations of
    # PBKDF2 on one thread, then on two at once, milliseconds each and under two seconds, recorded as PBKDF2's.
    assert len(timed) == 2 and all(1e-6 < probe < 0.1 and one is two is kind is None
                                   for probe, one, two, kind in timed), timed
    assert len(threads) == 2 and all(1e-6 < probe < 0.1 and 1e-3 < one < 2.0 and 1e-3 < two < 2.0 and kind == "pbkdf2"
                                      for probe, one, two, kind in threads), threads
    assert memory == [(None, None, None, None), (None, None, None, None)]


def test_the_harness_spells_the_keys_and_the_probes_work_as_the_orchestrator_reads_them() -> None:
    """workloads/_harness.py never imports interpmatrix, so it spells each name interpmatrix.harness_protocol reads,
    and the parallelism probe's name and iterations, which the Method section states."""
    names = ("EVENT_PREFIX", "ROUND_METADATA", "GIL_METADATA", "JIT_METADATA", "BINDING_METADATA", "PROBE_METADATA",
             "PARALLELISM_ONE_METADATA", "PARALLELISM_TWO_METADATA", "PARALLELISM_PROBE_METADATA",
             "PARALLELISM_PROBE", "PARALLELISM_PROBE_ITERATIONS",
             "PROBE_BUFFER_METADATA", "CODE_SHIFT_METADATA", "MEMORY_CALLS_METADATA", "PEER_PYTHON_ENV")
    code = "import json, _harness as h; print(json.dumps({'names': [getattr(h, n) for n in %r]}))" % (names,)
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, cwd=WORKLOADS_DIR)
    assert done.returncode == 0, done.stderr
    found = json.loads(done.stdout)
    assert found["names"] == [getattr(harness_protocol, name) for name in names]
