"""The pyperf entry point shared by every workload script.

It runs inside the interpreter under test (Python 3.9 syntax: PyPy here is 3.9). A workload script hands it a mapping
of variant names to kernels ``kernel(size, workers) -> answer`` and the name of its pure-Python reference.

One invocation measures several cells of the workload (``--cell`` repeated), one after another, so that the interpreter
and pyperf start once per batch rather than once per cell. For each cell, pyperf's main process first checks the
variant's answer against the reference (a wrong answer is a failed cell, never a number), then lets pyperf time it in
fresh worker processes, whose runs pyperf's main process appends to the file given by ``--append`` (a file of this
invocation's own, which the orchestrator merges into the interpreter's results once the invocation has ended). A cell
that fails (unavailable binding, wrong answer, an exception, a worker that crashed) is reported and the next cell goes
on. A cell that leaves the process short of descriptors ends the batch: the cells after it start in a new process.

Progress goes to stderr as one ``interpmatrix-cell {json}`` line per event (``start``, ``done``, ``failed`` with its
kind and reason, ``died`` when a pyperf worker failed); ``done`` comes after the cell's runs are written. The
orchestrator reads them to tell which cell a crash or a hang of this whole process belongs to, to run the cells that
had not started yet again, and to time every stretch between two events (before the first cell, each cell, after the
last one) against the cell time limit: a process that does not exit after its last cell (a non-daemon thread the
workload left running) is killed and charged to that cell.

Compiled variants find their bindings in the folder given by ``--bindings`` (what ``bindings/build.py`` built for
this interpreter). A variant whose binding or package is not there fails as ``unavailable`` with the reason, before
anything is checked or timed. A variant may bring its own time function (``kernel.time_func(loops, size, workers) ->
seconds``): the C reference does, to report the time its executable measured.
"""

from __future__ import annotations

import gc
import json
import os
import sys
import threading
import traceback

import _bindings
import _packages

# split() and in_threads() are the workloads' helpers; they live with the kernels that runtimes without pyperf run
# too (workloads/_selftimed.py), in the syntax all of them read.
from _portable import in_threads, split  # noqa: F401  (re-exported to the workload scripts)

# Names for the type hints only. TYPE_CHECKING is true for type checkers alone: at run time, in every interpreter under
# test, this module imports nothing more for them (not even typing), and the annotations stay unevaluated strings.
TYPE_CHECKING = False
if TYPE_CHECKING:
    import argparse
    import mmap
    from collections.abc import Callable, Iterable, Mapping, Sequence
    from typing import Any

    import pyperf

    # ``kernel(size, workers) -> answer``; the harness also reads the attributes a kernel may carry (``binding``,
    # ``packages``, ``requirements``, ``prepare``, ``time_func``, ``command``, ``metric``) with getattr.
    Kernel = Callable[[int, int], Any]

# pyperf is imported by main() only: the kernels import this module too, and tests run them in interpreters that have
# no pyperf installed.

# The prefix of the progress lines on stderr (see the module docstring).
EVENT_PREFIX = "interpmatrix-cell "

# pyperf's own ceiling on loops (pyperf._worker.MAX_LOOPS).
MAX_LOOPS = 2**32
# CPython 3.11 runs a function's bytecode unspecialized until its 8th call (PEP 659's quickening waits for a code
# object's warm-up counter; 3.12 and later showed no such delay here). Measured here on countdown(2_000_000)
# in fresh processes: calls 1-7 took 45-59 ms, from the 8th on 28-35 ms, on pyenv's 3.11 and Debian's alike, while
# 3.12 ran every call at 50-55 ms. A timed value before that call measures a slower interpreter than the one users
# run: with one warm-up call, the report put 3.11 at 1.04x the speed of 3.13 where a warm timeit gives 1.55x.
CALLS_BEFORE_SPECIALIZED = 8 if sys.implementation.name == "cpython" and sys.version_info[:2] == (3, 11) else 1

# Calls of a memory cell's kernel in each worker process, on every interpreter (no warm-ups: the peak covers every call
# anyway): its value is the peak over them all, so the count must not differ between interpreters, and enough calls
# that pyperf's sampling (every 10 ms) finds the top. On gc_cycles' ``strong`` on CPython 3.14 (30 processes, each call
# after a collection): 5 calls gave peaks of 15.0-19.2 MiB, 7 calls 15.7-19.2 MiB in two groups, 10 calls 18.1-19.4.
MEMORY_CALLS = 10

# glibc's heap held for the worker processes of a workload whose kernel allocates and frees blocks of megabytes on every
# call (``main(hold_heap=True)``: numeric, whose numpy expression makes three 8 MB temporaries a call). glibc gives the
# top of its heap back to the kernel once more than twice its largest freed block lies free there, so such a kernel
# either reuses its heap every call or grows it again, page by page, from fresh pages: which one depends on where the
# process's earlier allocations happened to leave its long-lived blocks, not on the interpreter. Measured here
# (2026-12-05, numpy's expression over 10^6 floats, 4 worker processes each): the harness's worker took 7.2 ms a call on
# Debian's CPython 3.14 and 8.0 on 3.15, giving 24 MB back and growing it again every call (strace: 314 brk calls
# against 138), while a plain pyperf script of the same kernel took 2.9-3.3 ms on 3.14 and 8.0 on 3.15; 3.11 and 3.13
# took 2.4 either way; between two default runs an hour apart (2026-12-05T00-48-35Z and 01-41-18Z) the numpy claim's
# ratio on CPython 3.13 moved by 26 %. With the trim held off and glibc's mmap threshold fixed where its own dynamic
# threshold tops out (32 MiB, so that the temporaries stay on the heap as they do once the first one is freed), every
# CPython took 2.2-3.3 ms and PyPy 3.11 26.8 ms (28.8 without). Only time cells: a memory cell's peak counts what the
# heap keeps, and glibc's own default is what a program holds. Setting the trim threshold alone would turn glibc's
# dynamic mmap threshold off and map every temporary afresh: 6-13 ms.
HELD_HEAP_TUNABLES = "glibc.malloc.trim_threshold=1073741824:glibc.malloc.mmap_threshold=33554432"

# Per-run metadata keys (the orchestrator reads them back from pyperf's result files).
ROUND_METADATA = "interpmatrix_round"
GIL_METADATA = "interpmatrix_gil_enabled"
JIT_METADATA = "interpmatrix_jit_enabled"
BINDING_METADATA = "interpmatrix_binding"
PROBE_METADATA = "interpmatrix_machine_probe"
# How many small loops a PyPy worker compiled before its kernel's, to start its machine code at a random place
# (workloads/_code_layout.py).
CODE_SHIFT_METADATA = "interpmatrix_code_shift"
# A memory cell's calls in each worker process, each from a collected heap (MEMORY_CALLS, peak_memory).
MEMORY_CALLS_METADATA = "interpmatrix_memory_calls"

# The machine-state probe: zlib's crc32 over 1 MiB, timed in the worker process just before and just after each value
# pyperf times (a pyperf hook: its entry point is workloads/interpmatrix_machine_probe-1.dist-info, found on the
# workload script's folder, which heads sys.path). Its time depends on the machine (how busy the core's other hardware
# thread is, what the other tenant does), not on the interpreter, whose only part is one call into zlib on bytes it
# hands over as they lie (probe_buffer). On the project's shared 2-core host the machine runs at one of two speeds about
# 1.7x apart, switching every second or so: within cells of a default run, a probe timed once before the warm-ups
# followed the process's mean with a correlation of 0.25 (188 processes), the probes around each value at 0.66 (128
# processes; tools/probe_effect.py). The recorded figure is the mean of the probes around the timed values (the
# warm-ups' hook records first, the values' hook then replaces it).
PROBE_HOOK = "interpmatrix_machine_probe"
PROBE_SIZE = 1024 * 1024
# How much faster the machine runs two threads of C code than one, for a cell on several workers: a kernel on two
# threads or processes also needs the second core, which the one-core probe cannot see (in the runs of 2026-12-03 a
# cell on two threads ran 1.4-1.8x slower in every process while the other tenant held that core). Timed once in each
# CPython worker process, after its warm-ups: PBKDF2-HMAC-SHA256 of PARALLELISM_PROBE_ITERATIONS iterations (8-13 ms
# on this project's CPythons; hashlib releases the GIL around OpenSSL's loop) on two threads at once, on one thread
# twice, then on two again; the mean seconds of each are recorded. Compute on a few bytes, as a C kernel's threads
# are, and nothing else: no memory the two threads could share or contend for. Its predecessors read memory too.
# zlib's crc32 over 4 MiB on two threads around every value ran at about 5 GB/s a thread and read the memory bandwidth
# a busy neighbour takes, not the cores (0.98x right after a default run whose Cython primes ran 1.42-2.09x faster on
# two threads than on one). sha256 over one 12 MiB buffer both threads read ran them faster than two cores can where
# OpenSSL's sha256 is fast enough to wait on memory, each thread finding in the cache what the other had just read:
# timed by hand here (2026-12-05, 30-40 fresh processes each, both cores busy for 50 ms before, as a cell on several
# workers leaves them, medians) it read 2.01x on CPython 3.11, 2.01x on 3.15 and 2.04x on 3.13t (19-22 processes of
# 30-40 above 2.0) and 1.88-1.93x on 3.12 and 3.14, where PBKDF2 read 1.93-1.97x on all five (0-3 above 2.0);
# small runs had reported 2.06x [2.03-2.10] and 2.11x for their machine. Both read 1.0x beside a process that held
# one core. The order matters on this host, where whatever is timed first runs slow: one thread then two read 2.2-2.4x
# (sha256 over 16-24 MiB); two then one, 1.0-1.6x (the idle core's wake-up, a few milliseconds, lands on the pair).
PARALLELISM_HOOK = "interpmatrix_machine_parallelism"
PARALLELISM_ONE_METADATA = "interpmatrix_parallelism_one"
PARALLELISM_TWO_METADATA = "interpmatrix_parallelism_two"
PARALLELISM_PROBE_ITERATIONS = 60000
# Which parallelism probe a process timed, recorded beside its figures: runs measured before it was recorded timed
# sha256 over a 12 MiB buffer, and their reports say so.
PARALLELISM_PROBE_METADATA = "interpmatrix_parallelism_probe"
PARALLELISM_PROBE = "pbkdf2"
# What the probe's buffer was ("mmap" on CPython, "bytes" on PyPy: probe_buffer says why), recorded beside it: the
# orchestrator counts a PyPy process's probe only where it read a bytes object.
PROBE_BUFFER_METADATA = "interpmatrix_probe_buffer"

# Names the interpreter a workload runs its peer processes on (io_threads' server), in the environment the orchestrator
# gives every step and pyperf hands on to its workers: the orchestrator's own, the same for every column, so that a
# column's figures time the interpreter under test, not the other end of its sockets. Outside the matrix (a test, a
# script run by hand): this interpreter (``peer_python``).
PEER_PYTHON_ENV = "INTERPMATRIX_PEER_PYTHON"


def peer_python() -> str:
    """The interpreter to run a workload's peer processes on (``PEER_PYTHON_ENV``)."""
    return os.environ.get(PEER_PYTHON_ENV) or sys.executable


def gil_enabled() -> bool:
    """The GIL state now, as this interpreter reports it (free-threaded builds can turn it back on at import)."""
    is_gil_enabled = getattr(sys, "_is_gil_enabled", None)
    return True if is_gil_enabled is None else bool(is_gil_enabled())


def _time_kernel(loops: int, kernel: Kernel, size: int, workers: int) -> float:
    range_it = range(loops)
    import pyperf

    t0 = pyperf.perf_counter()
    for _ in range_it:
        kernel(size, workers)
    return pyperf.perf_counter() - t0


def peak_memory(kernel: Kernel) -> Kernel:
    """The variant that measures ``kernel``'s peak memory instead of its time: pyperf's ``--track-memory``, which
    samples the worker's own private memory (``/proc/self/smaps``) while the kernel runs and records the peak as the
    value, in bytes. (pyperf's ``mem_max_rss`` metadata cannot serve: Linux hands a new process its parent's maximum
    RSS, so a worker would report at least pyperf's main process's peak.)

    Each call starts from a collected heap (``gc.collect()`` first), so that the peak is what the call itself leaves
    to the interpreter's collector, not what earlier calls and the process's start left pending: without it, the
    peak of gc_cycles' ``strong`` (ten 5461-node trees with parent cycles) in a fresh process landed on about 17 or
    about 23 MiB on CPython 3.13, 3.14 and 3.15, depending on when the process's first full collection came, and the
    two or three processes of a cell could all land on one level (30 processes of 4 calls each on 3.14: 24 at
    16.9-19.0 MiB, 6 at 23.4-23.7). With the collection first and ``MEMORY_CALLS`` calls a process: 18.1-19.4 MiB,
    standard deviation 0.23 MiB. Inside the call the collector still runs by itself, as the claims require."""

    def variant(size: int, workers: int) -> Any:
        gc.collect()
        return kernel(size, workers)

    # What the harness reads from the kernel (its binding, packages, a user file's prepare) holds for its memory too.
    variant.__dict__.update(kernel.__dict__)
    variant.metric = "memory"
    return variant


def python_command(code: str) -> Kernel:
    """A variant that times starting this interpreter on ``python -c code``, through pyperf's command benchmark (see
    ``_bench``); checked by its exit status, which is its answer."""

    def variant(size: int, workers: int) -> int:
        import subprocess

        return subprocess.run([sys.executable, "-c", code]).returncode

    variant.command = [sys.executable, "-c", code]
    return variant


def parse_cell(name: str) -> tuple[str, int | None, int]:
    """(variant, workers, size) of a cell name ``workload/variant[-workers]@size`` (interpmatrix.registry.Cell)."""
    head, _, size = name.rpartition("@")
    variant = head.partition("/")[2]
    workers: int | None = None
    if "-" in variant:
        variant, _, count = variant.rpartition("-")
        workers = int(count)
    return variant, workers, int(size)


def _event(cell: str, event: str, **details: Any) -> None:
    details.update(cell=cell, event=event)
    sys.stderr.write(EVENT_PREFIX + json.dumps(details) + "\n")
    sys.stderr.flush()


class CellFailed(Exception):
    def __init__(self, kind: str, reason: str) -> None:
        super().__init__(reason)
        self.kind = kind
        self.reason = reason


def _forward_args(cmd: list[str], args: argparse.Namespace) -> None:
    """Pass our own options on to pyperf's worker processes: a worker times the one cell being measured."""
    cmd.extend(args.worker_args)
    cmd.extend(("--cell", args.current_cell, "--round", str(args.round)))
    # pyperf adds --track-memory itself when args.track_memory is set (a memory cell, see peak_memory).
    if args.bindings is not None:
        cmd.extend(("--bindings", args.bindings))


def _describe_answer(answer: object) -> str:
    text = repr(answer)
    return text if len(text) <= 200 else text[:200] + "..."


def _kernel(workload: str, variants: Mapping[str, Kernel], variant: str) -> tuple[Kernel, str | None]:
    kernel = variants.get(variant)
    if kernel is None:
        raise CellFailed("error", "unknown variant %r of %s; valid variants: %s" % (variant, workload, ", ".join(variants)))
    # Import the variant's binding first: the check and the GIL state must see it loaded (an extension that does not
    # declare free-threading support turns the GIL back on when it is imported).
    try:
        binding = _bindings.resolve(kernel)
    except _bindings.BindingUnavailable as error:
        raise CellFailed("unavailable", error.reason)
    try:
        _packages.resolve(kernel)
    except _packages.PackageUnavailable as error:
        raise CellFailed("unavailable", error.reason)
    # A kernel that must load something first (a user's workload file: import it, run its setup()) raises CellFailed.
    prepare = getattr(kernel, "prepare", None)
    if prepare is not None:
        prepare()
    return kernel, binding


def _check(
    workload: str,
    variants: Mapping[str, Kernel],
    reference: str,
    variant: str,
    kernel: Kernel,
    size: int,
    workers: int,
    references: dict[int, Any],
    expected: Callable[[int], Any] | None,
    mismatch: str | None = None,
) -> None:
    """Check the variant's answer (a wrong one raises CellFailed)."""
    if getattr(kernel, "command", None) is not None:
        # A command (start-up) variant answers with its exit status: it must start and exit cleanly.
        status = kernel(size, workers)
        if status != 0:
            raise CellFailed("error", "%s exited with status %s" % (" ".join(kernel.command), status))
        return
    # The reference on one worker, checked first at its size, is its own answer: one call gives both.
    itself = expected is None and variant == reference and workers == 1 and size not in references
    if size not in references and not itself:
        references[size] = expected(size) if expected is not None else variants[reference](size, 1)
    try:
        answer = kernel(size, workers)
    except Exception as error:
        traceback.print_exc()
        raise CellFailed("error", "".join(traceback.format_exception_only(type(error), error)).strip())
    if itself:
        references[size] = answer
    expected = references[size]
    if answer != expected and mismatch is not None:
        raise CellFailed(
            "wrong answer", mismatch.format(answer=_describe_answer(answer), expected=_describe_answer(expected))
        )
    if answer != expected:
        raise CellFailed(
            "wrong answer",
            "%s/%s gave %s, the reference %s gives %s"
            % (workload, variant, _describe_answer(answer), reference, _describe_answer(expected)),
        )


def _time_command(loops: int, command: Sequence[str]) -> float:
    import subprocess

    import pyperf

    t0 = pyperf.perf_counter()
    for _ in range(loops):
        subprocess.run(command, check=True)
    return pyperf.perf_counter() - t0


def _timer(kernel: Kernel, size: int, workers: int) -> Callable[[int], float]:
    """pyperf's time function for ``kernel``: its own ``time_func`` (the C reference) or a loop around it. For a
    command variant, what calibration times: the starts pyperf's command benchmark will time."""
    command = getattr(kernel, "command", None)
    if command is not None:
        return lambda loops: _time_command(loops, command)
    time_func = getattr(kernel, "time_func", None)
    if time_func is not None:
        return lambda loops: time_func(loops, size, workers)
    return lambda loops: _time_kernel(loops, kernel, size, workers)


def _jit_compiles() -> bool:
    """Whether a JIT compiles this process's hot code (PyPy; CPython 3.13+ with its JIT enabled), so that a first call
    can be many times slower than the warm ones."""
    jit = getattr(sys, "_jit", None)
    return sys.implementation.name == "pypy" or (jit is not None and jit.is_enabled())


def _calibrate_loops(min_time: float, kernel: Kernel, size: int, workers: int) -> int:
    """The loop count pyperf's calibration would settle on, found the cheap way: double the loops until one value
    lasts ``min_time``, run here in the main process after the answer check's call; with a JIT, once more from there.

    pyperf's own calibration (WorkerTask.calibrate_loops) runs in a worker process of its own and then times a full
    set of warm-ups and values at the final count: measured on the project's machine, a quarter of a whole matrix
    (0.40 s a cell on CPython 3.12, 0.99 s on PyPy), for one number. Doubling until the first long-enough value gives
    the same count for 73 of 78 CPython cells; the values themselves still come from fresh worker processes, after
    their warm-ups.

    The answer check's call is never taken for a measure, however long it ran: a first call may do once what the
    later ones skip. spawn_costs' direct call builds its 10 MB payload on its first (34 ms), then takes well under a
    microsecond, and numpy's first call in a CPython 3.11 process took 20-75 ms against 2.7 ms warm. One loop taken
    from the check made values of timer noise (2026-12-04T22-34-09Z: ``direct MB=10`` "10.6x slower" on CPython 3.12
    than on 3.15, 3.8 us against 0.36 us). A JIT's first calls, interpreted or compiling, run slower than its warm
    ones for longer: the count found cold gets one more value at its end, and doubles on while that runs short (PyPy
    3.9's richards settled on 1 loop, then ran 1.6 ms a call; its unpack_sequence on 512, then 0.07 ms a value).
    """
    timer = _timer(kernel, size, workers)
    loops = 1
    for _ in range(2 if _jit_compiles() else 1):
        while loops < MAX_LOOPS and timer(loops) < min_time:
            loops *= 2
    return loops


def probe_buffer(size: int) -> bytes | mmap.mmap:
    """The bytes the probe's crc32 reads, where the interpreter hands them to zlib as they lie. On CPython, pages of
    their own, mapped apart from malloc's heap: as a 1 MiB bytes object, allocated and freed between the warm-ups and
    the values, it was one more allocation deciding whether glibc gives a kernel's freed blocks back after every call
    (HELD_HEAP_TUNABLES says how): a plain pyperf benchmark of numpy's expression on Debian sid's CPython 3.14 took
    5.9 ms a call with it, 2.7 ms without. On PyPy, a bytes object: handed the mapping, PyPy's zlib copies it through
    PyPy's own allocator on every call, so that the probe timed PyPy's garbage collector, not the machine. Measured
    here (2026-12-05, crc32 over 1 MiB): on the mapping, PyPy 3.11 took 1.0 ms a call in a fresh process and up to
    23 ms beside two million live lists, and in one default run PyPy 3.9's processes' probes ranged from 0.31 to
    3.3 ms by workload (a median 0.34 ms on word_count, 1.9 ms on gc_cycles; CPython 3.15's, 0.23 to 0.50 ms); on a
    bytes object, 0.23 ms either way, as CPython's crc32 takes on both."""
    pattern = bytes(range(256))
    if sys.implementation.name == "pypy":
        return pattern * (size // len(pattern))
    import mmap

    data = mmap.mmap(-1, size)
    for offset in range(0, size, len(pattern)):
        data[offset:offset + len(pattern)] = pattern
    return data


class MachineProbe:
    """The pyperf hook (``--hook interpmatrix_machine_probe``) that times the machine-state probe around each value
    of a worker process and records their mean as ``PROBE_METADATA``. pyperf makes one per phase (warm-ups, then
    values) and enters it around every call of the time function, outside the time it measures."""


    def __init__(self) -> None:
        import zlib

        self._crc32 = zlib.crc32
        self._data = probe_buffer(PROBE_SIZE)
        self._crc32(self._data)
        self._times: list[float] = []

    def _probe(self) -> None:
        import pyperf

        started = pyperf.perf_counter()
        self._crc32(self._data)
        self._times.append(pyperf.perf_counter() - started)

    def __enter__(self) -> None:
        self._probe()

    def __exit__(self, *exc_info: object) -> None:
        self._probe()

    def teardown(self, metadata: dict[str, Any]) -> None:
        if self._times:
            metadata[PROBE_METADATA] = sum(self._times) / len(self._times)
            metadata[PROBE_BUFFER_METADATA] = "bytes" if isinstance(self._data, bytes) else "mmap"
        # The warm-ups' hook hands over to the values' own. Dropped, not closed: close() raises BufferError while a
        # buffer of it is still exported (seen on 3.13t, after a probe's thread had read it); the last reference
        # unmaps it.
        self._data = None


class MachineParallelism:
    """The hook ``--hook interpmatrix_machine_parallelism``: how long PBKDF2-HMAC-SHA256 of
    ``PARALLELISM_PROBE_ITERATIONS`` iterations takes on one thread and on each of two threads at once, timed once per
    worker process (at the first phase's teardown: after the warm-ups, before the values), in the order two, one, one,
    two, and recorded as the means ``PARALLELISM_ONE_METADATA`` and ``PARALLELISM_TWO_METADATA``. Each timing starts
    and joins threads of its own, so that starting a thread is on both sides."""

    def __enter__(self) -> None:
        pass

    def __exit__(self, *exc_info: object) -> None:
        pass

    def teardown(self, metadata: dict[str, Any]) -> None:
        if PARALLELISM_TWO_METADATA in metadata:
            return
        import hashlib
        import threading

        import pyperf

        # OpenSSL's: a CPython built without it has none since 3.12 (its pure-Python fallback is gone), and then the
        # process has no figure rather than a failed cell.
        pbkdf2_hmac = getattr(hashlib, "pbkdf2_hmac", None)
        if pbkdf2_hmac is None:
            return

        def derive() -> None:
            pbkdf2_hmac("sha256", b"interpmatrix", b"parallelism", PARALLELISM_PROBE_ITERATIONS)

        def on_threads(count: int) -> float:
            threads = [threading.Thread(target=derive) for _ in range(count)]
            started = pyperf.perf_counter()
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            return pyperf.perf_counter() - started

        seconds: dict[int, list[float]] = {1: [], 2: []}
        for count in (2, 1, 1, 2):
            seconds[count].append(on_threads(count))
        metadata[PARALLELISM_ONE_METADATA] = sum(seconds[1]) / len(seconds[1])
        metadata[PARALLELISM_TWO_METADATA] = sum(seconds[2]) / len(seconds[2])
        metadata[PARALLELISM_PROBE_METADATA] = PARALLELISM_PROBE


def probe_hook_installed() -> bool:
    """Whether pyperf's ``--hook`` can name the probe here: importlib.metadata finds its entry point (on the workload
    script's folder) in group ``pyperf.hook``, the group pyperf's hooks come from."""
    try:
        from importlib.metadata import entry_points
    except ImportError:
        return False
    found = entry_points()
    group = found.select(group="pyperf.hook") if hasattr(found, "select") else found.get("pyperf.hook", ())
    return {PROBE_HOOK, PARALLELISM_HOOK} <= {entry.name for entry in group}


def _times_itself(kernel: Kernel) -> bool:
    """Whether this process's own clock times the kernel's work: not a command pyperf starts, not a C program that
    reports its own time, not a peak of memory. The machine probe speaks for these only: another process's state is
    its own."""
    return (getattr(kernel, "command", None) is None and getattr(kernel, "time_func", None) is None
            and getattr(kernel, "metric", "time") == "time")


def _bench(
    runner: pyperf.Runner,
    args: argparse.Namespace,
    workload: str,
    name: str,
    kernel: Kernel,
    binding: str | None,
    size: int,
    workers: int,
) -> None:
    # Per-run metadata: pyperf keeps it on each run, so the report can split a cell's values by round (machine drift)
    # and show the GIL state the kernel actually ran with and the binding it used (which one ``compiled`` took).
    runner.metadata[ROUND_METADATA] = args.round
    runner.metadata[GIL_METADATA] = gil_enabled()
    jit = getattr(sys, "_jit", None)  # CPython 3.14+: whether PYTHON_JIT reached the worker that times
    if jit is not None:
        runner.metadata[JIT_METADATA] = jit.is_enabled()
    runner.metadata.pop(BINDING_METADATA, None)
    if binding is not None:
        runner.metadata[BINDING_METADATA] = binding
    runner.metadata.pop(MEMORY_CALLS_METADATA, None)
    if getattr(args, "track_memory", False):
        runner.metadata[MEMORY_CALLS_METADATA] = args.values
    runner.metadata["description"] = "%s, variant %s" % (workload, parse_cell(name)[0])
    command = getattr(kernel, "command", None)
    if command is not None:
        # A start-up variant: pyperf's own command benchmark (what `python -m pyperf command` runs).
        runner.bench_command(name, list(command))
        return
    runner.bench_time_func(name, _timer(kernel, size, workers))


def _hold_heap(args: argparse.Namespace, hold: bool) -> None:
    """Hand the next cell's worker processes glibc's heap held (``HELD_HEAP_TUNABLES``), or not. glibc reads its
    tunables when a process starts, and pyperf starts its workers with the variables ``--inherit-environ`` names."""
    names = [name for name in (args.inherit_environ or ()) if name != "GLIBC_TUNABLES"]
    if hold:
        os.environ["GLIBC_TUNABLES"] = HELD_HEAP_TUNABLES
        names.append("GLIBC_TUNABLES")
    args.inherit_environ = names or None


def _nothing_left_running() -> bool:
    """No thread and no multiprocessing child of the kernel is still alive: the normal exit would only tear down.
    A process pool's workers (spawn_costs keeps one) are joined by the normal exit; left behind by ``os._exit`` they
    would hold the pipe the orchestrator reads until the cell's time limit."""
    if threading.active_count() > 1:
        return False
    multiprocessing = sys.modules.get("multiprocessing")
    return multiprocessing is None or not multiprocessing.active_children()


def _descriptors_free() -> int | None:
    """How many more descriptors this process can open: its soft RLIMIT_NOFILE less those open now. None where that
    cannot be known (no resource module, no /proc/self/fd nor /dev/fd to count them in, no limit)."""
    try:
        import resource
    except ImportError:
        return None
    soft = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
    if soft == resource.RLIM_INFINITY:
        return None
    for folder in ("/proc/self/fd", "/dev/fd"):
        try:
            return soft - len(os.listdir(folder))
        except OSError:
            continue
    return None


def _descriptors_left_for(name: str, free_at_start: int | None) -> bool:
    """Whether the cells before ``name`` left this process at least half the descriptors it had free before the
    first cell of the batch; if not, says so on stderr (the log of the cell before).

    A cell's code may leave descriptors open: files it never closes, kept by it or, on PyPy, garbage its GC has not
    collected yet (a run() that opens a file per call, calibrated in this process, left thousands). The next cells of
    the batch would fail in its stead with "Too many open files". They start in a fresh process instead, the way
    pyperf keeps one run's state from the next: the orchestrator runs the cells an invocation did not start in the
    next one. Closing the descriptors here would be unsound: the objects that hold them close them again when they
    are collected, by then the numbers of other files (pyperf's pipes and results file among them); and raising the
    soft limit to the hard one would only move the wall (on this project's machine both are 20000), and change the
    limit the workload's worker processes run under."""
    free = _descriptors_free()
    if free is None or free_at_start is None or free >= free_at_start // 2:
        return True
    print(f"interpmatrix: {free} descriptors free of the {free_at_start} free before the first cell: {name} and the "
          "cells after it start in a new process", file=sys.stderr)
    return False


def main(
    workload: str,
    variants: Mapping[str, Kernel],
    reference: str,
    expected: Callable[[int], Any] | None = None,
    worker_args: Iterable[str] = (),
    mismatch: str | None = None,
    hold_heap: bool = False,
) -> None:
    """Measure the cells given on the command line. Each variant's answer must equal the reference variant's, or
    ``expected(size)`` when given: a pure-Python answer computed another way, for a workload whose reference is too
    slow to run at every size it is checked at (numeric), or a user file's EXPECTED.

    ``worker_args``: more options pyperf's worker processes need (a user workload's file); ``mismatch``: the message
    of a wrong answer (a format string with ``{answer}`` and ``{expected}``), when "the reference gives another
    answer" would not say it (a user's run() checked against its file's EXPECTED, or against a second call);
    ``hold_heap``: the worker processes of the time cells run with glibc's heap held (``HELD_HEAP_TUNABLES``)."""
    import pyperf

    runner = pyperf.Runner(add_cmdline_args=_forward_args)
    # Cell names come from the orchestrator (interpmatrix.registry.Cell.name), so they are spelled in one place.
    runner.argparser.add_argument(
        "--cell", action="append", required=True, help="a cell to measure, e.g. countdown/threads-2@2000000; repeat"
    )
    runner.argparser.add_argument(
        "--cell-loops", action="append", default=[], metavar="CELL=LOOPS", help="loops an earlier round calibrated"
    )
    runner.argparser.add_argument(
        "--cell-warmups", action="append", default=[], metavar="CELL=WARMUPS",
        help="more warm-ups for a cell whose earlier processes were still warming up at their end",
    )
    runner.argparser.add_argument("--round", type=int, default=1, help="interleaving round this run belongs to")
    runner.argparser.add_argument("--bindings", help="the folder bindings/build.py built for this interpreter")
    args = runner.parse_args()
    args.worker_args = list(worker_args)
    if args.bindings is not None:
        args.bindings = os.path.abspath(args.bindings)
    _bindings.BINDINGS_DIR = _packages.PACKAGES_DIR = args.bindings

    if args.worker:
        # pyperf started this process to time the one cell its main process is measuring.
        (name,) = args.cell
        variant, workers, size = parse_cell(name)
        kernel, binding = _kernel(workload, variants, variant)
        if sys.implementation.name == "pypy" and _times_itself(kernel):
            # Before the warm-ups, so that the kernel's loops are compiled after the shift (_code_layout says why).
            import _code_layout

            runner.metadata[CODE_SHIFT_METADATA] = _code_layout.shift()
        _bench(runner, args, workload, name, kernel, binding, size, 1 if workers is None else workers)
        if _nothing_left_running():
            # The value is in the main process's pipe, closed: tearing the interpreter down (its modules, a JIT's
            # code caches, the garbage of the kernel's last call) would only cost time, measured here 0.04 s of the
            # 0.18 s a CPython 3.12 worker took (0.02 s on PyPy).
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(0)
        return

    loops = dict((item.rsplit("=", 1)[0], int(item.rsplit("=", 1)[1])) for item in args.cell_loops)
    more_warmups = dict((item.rsplit("=", 1)[0], int(item.rsplit("=", 1)[1])) for item in args.cell_warmups)
    # The profile's warm-ups, for every cell the orchestrator did not give more (pyperf hands args.warmups to the
    # worker processes it spawns for the cell being measured).
    profile_warmups = args.warmups
    profile_values = args.values
    # pyperf's own --loops, when given by hand, holds for every cell.
    loops_given = args.loops
    references: dict[int, Any] = {}
    free_at_start = _descriptors_free()
    # pyperf 2.7 and later run hooks; ours must also be found where the worker processes look (probe_hook_installed).
    hooks_given = getattr(args, "hook", None)
    probe = hasattr(args, "hook") and probe_hook_installed()
    for index, name in enumerate(args.cell):
        if index and not _descriptors_left_for(name, free_at_start):
            break
        _event(name, "start")
        variant, workers, size = parse_cell(name)
        workers = 1 if workers is None else workers
        try:
            kernel, binding = _kernel(workload, variants, variant)
            # A cell with loops from an earlier round passed its check in that round: checking the same answer again
            # every extra round would only cost time.
            if name not in loops:
                _check(workload, variants, reference, variant, kernel, size, workers, references, expected, mismatch)
        except CellFailed as failure:
            _event(name, "failed", kind=failure.kind, reason=failure.reason)
            continue
        args.current_cell = name
        args.track_memory = getattr(kernel, "metric", "time") == "memory"
        # pyperf hands --hook to the worker processes it spawns for the cell; a cell on several workers also takes
        # the second core, whose part only the parallelism probe sees. CPython's only, the ones the orchestrator
        # reads (PyPy's PBKDF2 lets go of its lock too, 1.93-1.95x by hand here, but no run has measured whether its
        # processes' figures agree with CPython's).
        if probe and _times_itself(kernel):
            parallelism = workers > 1 and sys.implementation.name == "cpython"
            args.hook = [PROBE_HOOK, PARALLELISM_HOOK] if parallelism else [PROBE_HOOK]
        else:
            args.hook = hooks_given
        _hold_heap(args, hold_heap and not args.track_memory)
        # Round 1 calibrates, later rounds reuse its loops, so every value of a cell measures the same work. A memory
        # cell's value is the peak of its calls in a fresh process: one call a loop and MEMORY_CALLS of them, on every
        # interpreter, so that the peaks compare (loop counts and warm-ups differ between interpreters).
        args.values = MEMORY_CALLS if args.track_memory else profile_values
        try:
            if args.track_memory:
                args.loops = 1
            else:
                args.loops = (loops.get(name) or loops_given
                              or _calibrate_loops(args.min_time, kernel, size, workers))
        except Exception as error:
            traceback.print_exc()
            _event(name, "failed", kind="error", reason="".join(traceback.format_exception_only(type(error), error)).strip())
            continue
        args.warmups = 0 if args.track_memory else more_warmups.get(name, profile_warmups)
        if not args.track_memory and getattr(kernel, "command", None) is None:
            # Enough warm-up values that the kernel has been called CALLS_BEFORE_SPECIALIZED times before the first
            # timed one (a value is ``loops`` calls).
            args.warmups = max(args.warmups, -(-CALLS_BEFORE_SPECIALIZED // args.loops))
        # Every cell's workers are started with --worker-task=0 and run the one cell they are given.
        runner._worker_task = 0
        try:
            _bench(runner, args, workload, name, kernel, binding, size, workers)
        except (RuntimeError, SystemExit) as error:
            # pyperf's main process raises RuntimeError("... failed with exit code N") when a worker dies.
            print("%s: %s" % (type(error).__name__, error), file=sys.stderr)
            _event(name, "died", reason=str(error))
            continue
        _event(name, "done")
