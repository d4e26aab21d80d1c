"""The workloads and their variants, as data.

Everything that lists workloads or variants (the noxfile, the CLI, the measuring loop, the report) derives it from
``WORKLOADS``; what the report asks of them (the seeds' claims, the verdict's questions, published figures) is data
too, in ``questions``. The kernels themselves live in ``workloads/<name>.py``, each a standalone pyperf script run inside the
interpreter under test; the harness never imports them. ``tests/test_registry.py`` checks that every script offers
exactly the variants listed here.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
# Where a run's raw results and its reports go unless told otherwise (--results-dir, --reports-dir).
RESULTS_DIR = REPO_ROOT / "results"
REPORTS_DIR = REPO_ROOT / "reports"
WORKLOADS_DIR = REPO_ROOT / "workloads"
# The compiled kernels' sources, which bindings/build.py builds into each interpreter's venv.
BINDINGS_DIR = REPO_ROOT / "bindings"


def measured_code() -> dict[str, str]:
    """The sha256 of every file whose code a cell runs (the workloads, their harness, the compiled kernels' sources),
    by its path from the repository's root. A run records it: its figures are of that code, and runs of other code
    are no draws of the same figures at other hours (``interpmatrix.pool`` refuses to pool them)."""
    return {
        path.relative_to(REPO_ROOT).as_posix(): hashlib.sha256(path.read_bytes()).hexdigest()
        for folder in (WORKLOADS_DIR, BINDINGS_DIR)
        for path in sorted(folder.rglob("*"))
        if path.is_file() and not _build_output(path.relative_to(folder))
    }


def changed_code(recorded: Mapping[str, str] | None, other: Mapping[str, str] | None) -> list[str]:
    """The files whose code differs between two records of ``measured_code`` (one that only one of them has counts);
    none where either is missing: a run from before runs recorded their code, which nothing can check."""
    if not recorded or not other:
        return []
    return sorted(path for path in set(recorded) | set(other) if recorded.get(path) != other.get(path))


def _build_output(path: Path) -> bool:
    """What a checkout's builds and imports leave beside the sources (.gitignore's patterns), no part of the code."""
    return (
        any(part in ("__pycache__", "build") or part.endswith(".egg-info") for part in path.parts)
        or path.suffix in (".so", ".o", ".pyc")
        or path.name.endswith(".c.gen")
    )


@dataclass(frozen=True)
class Variant:
    """One way of doing a workload's work: pure Python, split over threads, over processes, ..."""

    name: str
    description: str
    # Worker counts this variant is measured at; empty for a variant without workers.
    workers: tuple[int, ...] = ()
    # The workload's sizes this variant is measured at; empty for all of them.
    sizes: tuple[int, ...] = ()
    # The compiled binding the variant needs ("cython", "cffi", "shedskin", "c"; "compiled": the best one there), if
    # any.
    binding: str | None = None
    # "time" (seconds per call) or "memory": the peak private memory of the worker process while the kernel runs
    # (pyperf --track-memory), in bytes.
    metric: str = "time"
    # Pure-Python bytecode in the calling thread, nothing else: the cells that show an interpreter's own speed (the
    # cost of free-threading is measured on these).
    pure_python: bool = False


@dataclass(frozen=True)
class Workload:
    """A claim about Python speed, turned into kernels that can be timed on any interpreter."""

    name: str
    group: str
    claim: str
    seeds: tuple[str, ...]
    size_label: str
    sizes: tuple[int, ...]
    # The pure-Python variant every other variant must agree with before it is timed, and the cell that stands for
    # the workload where the report shows one (the speed-up chart). A script may check its variants against an
    # ``expected`` answer instead: the standard suite's benchmarks compute different things.
    reference: str
    variants: tuple[Variant, ...]
    script: Path
    # pip packages some variants need, installed per interpreter by the bench session (workloads/_packages.py).
    requirements: tuple[str, ...] = ()
    # The user's file this workload runs (``--workload-file``, interpmatrix.external); None for a built-in one.
    source: str | None = None
    # Options the script needs before pyperf's (the user's file, for workloads/_external.py).
    script_args: tuple[str, ...] = ()
    # Whether its cells enter the run's overall geometric mean (stats.geometric_means). The standard suite keeps its
    # own (sections/standard_suite.py): the two answer different questions, and a suite that does not install on
    # Python 3.9 would drop PyPy 3.9 below the share of cells the overall ranking needs.
    overall_mean: bool = True
    # The variants a runtime without pyperf runs through the self-timing runner (workloads/_selftimed.py), each a
    # kernel of workloads/_portable.py ("<workload>/<variant>"); one with workers only where the runtime has threads.
    self_timed: tuple[str, ...] = ()
    # The script's function that makes a size's input (``text(mb)``), for a self-timed kernel that takes one: it
    # cannot be made there (the text's random draws differ between runtimes), so it is handed over as a file.
    self_timed_input: str | None = None

    def cells(self) -> list[Cell]:
        return [
            Cell(self.name, variant.name, workers, size)
            for size in self.sizes
            for variant in self.variants
            if not variant.sizes or size in variant.sizes
            for workers in (variant.workers or (None,))
        ]

    def variant(self, name: str) -> Variant:
        for variant in self.variants:
            if variant.name == name:
                return variant
        raise KeyError(name)


# A variant's name may hold digits (pyperformance's regex_v8): a worker count is the part after a "-".
_CELL_NAME = re.compile(r"^(?P<workload>[\w-]+)/(?P<variant>[a-z][a-z0-9_]*)(?:-(?P<workers>\d+))?@(?P<size>\d+)$")


@dataclass(frozen=True, order=True)
class Cell:
    """One row of one workload's table: a variant, at a worker count, at a size.

    Its ``name`` is the pyperf benchmark name, so a result file says which cell each benchmark is;
    ``Cell.parse`` reads it back.
    """

    workload: str
    variant: str
    workers: int | None
    size: int

    @property
    def name(self) -> str:
        workers = f"-{self.workers}" if self.workers is not None else ""
        return f"{self.workload}/{self.variant}{workers}@{self.size}"

    @property
    def label(self) -> str:
        """The row label in the report, e.g. ``threads ×2``."""
        return self.variant if self.workers is None else f"{self.variant} ×{self.workers}"

    @classmethod
    def parse(cls, name: str) -> Cell:
        match = _CELL_NAME.match(name)
        if match is None:
            raise ValueError(f"{name!r} is not a cell name (expected workload/variant[-workers]@size)")
        workers = match["workers"]
        return cls(match["workload"], match["variant"], int(workers) if workers else None, int(match["size"]))


WORKER_COUNTS = (1, 2, 4)

# pyperformance's benchmarks, beside the seeds' workloads: the report holds them against published figures
# (sections/standard_suite.py).
STANDARD_SUITE = "Standard suite"

# The report's sections, in this order: what each group of workloads tests.
GROUPS = (
    "Pure-Python CPU",
    "Threads and processes",
    "Compiled kernels",
    "I/O",
    "Memory",
    "Numeric",
    "Start-up",
    STANDARD_SUITE,
)


# The compiled twins every CPU workload offers, built per interpreter by bindings/build.py.
COMPILED_VARIANTS = (
    Variant("cython", "Cython with C types (bindings/cy_kernels.pyx)", binding="cython"),
    Variant("cffi", "the C kernel called through cffi in API mode (bindings/cffi_build.py)", binding="cffi"),
    Variant(
        "shedskin",
        "the pure kernel, unchanged, compiled to C++ by Shed Skin (workloads/_portable.py's primes)",
        binding="shedskin",
    ),
    Variant(
        "compiled",
        "the best binding here: Cython, but cffi on PyPy (Cython goes through cpyext there) or without Cython",
        binding="compiled",
    ),
    Variant("c", "the C kernel timed by a C program (bindings/c_reference.c): the limit", binding="c"),
)

def memory_of(variant: str, workers: tuple[int, ...] = (), sizes: tuple[int, ...] = ()) -> Variant:
    """The peak memory of ``variant``'s calls (pyperf --track-memory), for the report's memory table."""
    return Variant(f"{variant}_memory", f"peak memory of `{variant}` (pyperf --track-memory)", workers, sizes,
                   metric="memory")


# The I/O workload's client counts: waits overlap far beyond the core count.
IO_CLIENTS = (1, 4, 16, 64)
# gc_cycles' trees per call (workloads/gc_cycles.py DEFAULT_TREES).
GC_TREES = 10

# pyperformance's benchmarks the suite runs (workloads/pyperformance_suite.py ADAPTERS), each with what it measures;
# all pure-Python bytecode but json_dumps and regex_v8, which spend their time in CPython's C modules (_json, _sre).
PYPERFORMANCE_BENCHMARKS = (
    Variant("chaos", "chaosgame-like fractals: floats, objects, a seeded random walk", pure_python=True),
    Variant("deltablue", "the DeltaBlue one-way constraint solver (chain and projection tests, n = 100)",
            pure_python=True),
    Variant("fannkuch", "the Benchmarks Game's fannkuch-redux at n = 9: list permutations and slices",
            pure_python=True),
    Variant("float", "100,000 points: float arithmetic, attribute access, allocation", pure_python=True),
    Variant("generators", "iterating a 100,000-node binary tree through recursive generators", pure_python=True),
    Variant("go", "a 9x9 Go engine playing with Monte Carlo tree search", pure_python=True),
    Variant("hexiom", "a solver of the Hexiom board game, level 25", pure_python=True),
    Variant("json_dumps", "`json.dumps` of pyperformance's four cases (C encoder on CPython)"),
    Variant("nbody", "the Benchmarks Game's n-body simulation, 20,000 steps", pure_python=True),
    Variant("nqueens", "all solutions of 8 queens, brute force over permutations", pure_python=True),
    Variant("raytrace", "a 100x100 ray tracer: objects, method calls, floats", pure_python=True),
    Variant("regex_v8", "V8's regular-expression benchmark, ported (the `re` engine in C on CPython)"),
    Variant("richards", "the Richards operating-system simulation: classes, attributes, calls", pure_python=True),
    Variant("spectral_norm", "the Benchmarks Game's spectral norm, n = 130", pure_python=True),
    Variant("unpack_sequence", "tuple and list unpacking, 400 unpackings per loop", pure_python=True),
)

WORKLOADS: tuple[Workload, ...] = (
    Workload(
        name="countdown",
        group="Pure-Python CPU",
        claim=(
            "A CPU-bound pure-Python loop is slow on CPython (PyPy 1.7 ran it about 20x faster than CPython 2.7.1); "
            "CPU-bound threads do not help under the GIL and can hurt; processes (fork/multiprocessing) do help"
        ),
        seeds=("000 Speed", "001 Python is only slow if you use it wrong", "003 GIL", "004 CPython, Grumpy, PyPy"),
        size_label="n",
        sizes=(2_000_000,),
        reference="serial",
        variants=(
            Variant("serial", "Beazley's `while n > 0: n -= 1`, in the calling thread", pure_python=True),
            Variant("threads", "the same n split over threads, started and joined in the timed call", WORKER_COUNTS),
            Variant(
                "processes",
                "the same n split over a fork ProcessPoolExecutor, pool start-up included",
                WORKER_COUNTS,
            ),
            # No Shed Skin: g++ removes a loop without effect, which countdown's is (workloads/countdown.py).
            *(variant for variant in COMPILED_VARIANTS if variant.name != "shedskin"),
            memory_of("serial"),
        ),
        script=WORKLOADS_DIR / "countdown.py",
        self_timed=("serial", "threads"),
    ),
    Workload(
        name="primes",
        group="Compiled kernels",
        claim="The seed's first kmax primes by trial division: 56.6 ms for kmax=500 in pure Python on a 1.6 GHz AMD E-450",
        seeds=("002 Velocidade (Cython example)",),
        size_label="kmax",
        sizes=(500, 1000),
        reference="pure",
        variants=(
            Variant("pure", "the seed's pure-Python primes(kmax), a list standing in for the C array", pure_python=True),
            # Compiled kernels at the seed's kmax=500 only: the seed's figures are for it, and the matrix's time is
            # better spent on more interpreters than on a second size of the same C loop.
            *(replace(variant, sizes=(500,)) for variant in COMPILED_VARIANTS),
            Variant(
                "cython_threads",
                "32 calls of a Cython primes(kmax) that runs `with nogil:`, split over threads",
                WORKER_COUNTS,
                sizes=(500,),
                binding="cython",
            ),
            Variant(
                "cffi_threads",
                "32 calls of the C primes(kmax) through cffi (which releases the GIL), split over threads",
                WORKER_COUNTS,
                sizes=(500,),
                binding="cffi",
            ),
            memory_of("pure", sizes=(500,)),
        ),
        script=WORKLOADS_DIR / "primes.py",
        self_timed=("pure",),
    ),
    Workload(
        name="word_count",
        group="Pure-Python CPU",
        claim="Word-based processing with regex and C modules is about 5x faster than a character-by-character loop",
        seeds=("001 Python is only slow if you use it wrong",),
        size_label="MB",
        sizes=(2,),
        reference="chars",
        variants=(
            Variant("chars", "a character-by-character loop counting whitespace-to-word transitions", pure_python=True),
            Variant("split", "`len(text.split())`: the loop in C"),
            Variant("regex", "one `re.finditer(r\"\\S+\")` match per word"),
            memory_of("chars"),
        ),
        script=WORKLOADS_DIR / "word_count.py",
        self_timed=("chars",),
        self_timed_input="text",
    ),
    Workload(
        name="pools",
        group="Threads and processes",
        claim=(
            "concurrent.futures: a ThreadPoolExecutor does not speed up CPU-bound work under the GIL, "
            "a ProcessPoolExecutor does"
        ),
        seeds=("002 Velocidade (concurrent.futures)", "003 GIL (ParallelPython)"),
        size_label="scale",
        sizes=(3,),
        reference="serial",
        variants=(
            Variant("serial", "the seed's `is_prime` over its six numbers, each divided by 10^scale", pure_python=True),
            Variant("threads", "the same calls on a ThreadPoolExecutor, started and shut down in the timed call", WORKER_COUNTS),
            Variant(
                "processes",
                "the same calls on a fork ProcessPoolExecutor, started and shut down in the timed call",
                WORKER_COUNTS,
            ),
            Variant(
                "pp_local",
                "the same calls as ParallelPython jobs on a local pp.Server, started and destroyed in the timed call",
                # Two workers say what pp costs against the process pool; each worker is a fresh interpreter, and the
                # first pass cannot afford more of them on every column.
                (2,),
            ),
            Variant(
                "pp_server",
                "the same jobs sent over TCP to a ppserver on 127.0.0.1 (a secret, loopback only) that the timed call "
                "starts and stops: spreading work over machines, in miniature",
                (2,),
            ),
            memory_of("serial"),
        ),
        script=WORKLOADS_DIR / "pools.py",
        # ParallelPython for the pp variants (workloads/pools.py PP): Python 3.10+.
        requirements=("pp==1.7.0",),
    ),
    Workload(
        name="spawn_costs",
        group="Threads and processes",
        claim="Processes cost more than threads to start and to talk to: their memory has to be copied back and forth",
        seeds=("003 GIL", "004 CPython, Grumpy, PyPy"),
        size_label="MB",
        sizes=(0, 1, 10),
        reference="direct",
        variants=(
            Variant("direct", "the same work in the calling thread, nothing started: the floor"),
            Variant("thread_start", "start and join one thread", sizes=(0,)),
            Variant("fork_start", "start and join one process, fork start method", sizes=(0,)),
            Variant("spawn_start", "start and join one process, spawn start method (a fresh interpreter)", sizes=(0,)),
            Variant("thread_pool", "send the bytes to a 1-thread pool and back (no copy)", sizes=(1, 10)),
            Variant("process_pool", "send the bytes to a 1-process fork pool and back (pickled both ways)", sizes=(1, 10)),
        ),
        script=WORKLOADS_DIR / "spawn_costs.py",
    ),
    Workload(
        name="io_threads",
        group="I/O",
        claim=(
            "The GIL is released on I/O: threads are fine for I/O-bound work, and event-driven asyncio is the "
            "alternative; both overlap the waits, GIL or not"
        ),
        seeds=("001 Python is only slow if you use it wrong", "002 Velocidade", "003 GIL", "004 CPython, Grumpy, PyPy"),
        size_label="delay ms",
        sizes=(2,),
        reference="serial",
        variants=(
            Variant("serial", "N clients one after another, each waiting for its replies", IO_CLIENTS),
            Variant("threads", "one thread per client, started and joined in the timed call", IO_CLIENTS),
            Variant("asyncio", "one coroutine per client on an asyncio event loop", IO_CLIENTS),
            # A thread per client costs a stack each; a coroutine, a frame.
            memory_of("threads", (IO_CLIENTS[-1],)),
            memory_of("asyncio", (IO_CLIENTS[-1],)),
        ),
        script=WORKLOADS_DIR / "io_threads.py",
    ),
    Workload(
        name="gc_cycles",
        group="Memory",
        claim=(
            "Trees whose nodes point to their parents are cycles only the garbage collector frees; "
            "weakref parent links let reference counting free them at once"
        ),
        seeds=("001 Python is only slow if you use it wrong",),
        size_label="trees",
        sizes=(GC_TREES,),
        reference="strong",
        variants=(
            Variant("strong", "parent links are plain references: every tree is a cycle", pure_python=True),
            Variant("weakref", "parent links are `weakref.ref`: no cycle", pure_python=True),
            Variant("strong_memory", "peak memory of `strong` (pyperf --track-memory)", metric="memory"),
            Variant("weakref_memory", "peak memory of `weakref` (pyperf --track-memory)", metric="memory"),
        ),
        script=WORKLOADS_DIR / "gc_cycles.py",
    ),
    Workload(
        name="numeric",
        group="Numeric",
        claim="numpy plus numexpr make array expressions fast, numexpr even on several threads",
        seeds=("003 GIL",),
        size_label="n",
        sizes=(1_000_000, 10_000_000),
        reference="pure",
        variants=(
            Variant(
                "pure",
                "`2*a + 3*b**2 - a*b` in a list comprehension over lists of floats",
                sizes=(1_000_000,),
                pure_python=True,
            ),
            Variant("numpy", "the same expression on float64 arrays, one C loop per operation"),
            Variant(
                "numexpr",
                "`numexpr.evaluate` of the expression into an output array the process keeps, on `workers` threads",
                WORKER_COUNTS,
            ),
            # Lists of float objects against float64 arrays.
            memory_of("pure", sizes=(1_000_000,)),
            memory_of("numpy", sizes=(1_000_000,)),
        ),
        script=WORKLOADS_DIR / "numeric.py",
        requirements=("numpy", "numexpr"),
    ),
    Workload(
        name="startup",
        group="Start-up",
        claim=(
            "A JIT pays off only on scripts that run long enough: PyPy starts more slowly than CPython, and its JIT "
            "must warm up (the report sets these figures beside every speed-up)"
        ),
        seeds=("004 CPython, Grumpy, PyPy",),
        size_label="size",
        sizes=(0,),
        reference="bare",
        variants=(
            Variant("bare", "`python -c pass` in the interpreter's venv (pyperf command benchmark)"),
            Variant("import_asyncio", "`python -c \"import asyncio\"`: a large standard-library package"),
            Variant("import_numpy", "`python -c \"import numpy\"`, where numpy installs (through cpyext on PyPy)"),
        ),
        script=WORKLOADS_DIR / "startup.py",
        requirements=("numpy",),
    ),
    Workload(
        name="pyperformance",
        group=STANDARD_SUITE,
        claim=(
            "The published figures readers know hold here: PyPy about 3-4.3x CPython 3.11 (speed.pypy.org), "
            "CPython 3.14's JIT from 10 % slower to 20 % faster, free-threading's single-thread cost about 40 % "
            "on 3.13 and 5-10 % on 3.14 (What's New); each benchmark is pyperformance's own code, one iteration "
            "at its default size"
        ),
        seeds=("none: the standard suite readers hold interpreters against",),
        size_label="iterations",
        sizes=(1,),
        # No answer is compared across benchmarks (the script's ``expected``): this cell stands for the suite in
        # the speed-up chart, as the best known of them.
        reference="richards",
        variants=PYPERFORMANCE_BENCHMARKS,
        script=WORKLOADS_DIR / "pyperformance_suite.py",
        requirements=("pyperformance==1.14.0",),
        overall_mean=False,
    ),
)


def workload_names(workloads: Iterable[Workload] = WORKLOADS) -> list[str]:
    return [workload.name for workload in workloads]


def select_workloads(names: Sequence[str] | None, workloads: Sequence[Workload] = WORKLOADS) -> list[Workload]:
    """The workloads named, in registry order; all of them when ``names`` is empty.

    Raises ``ValueError`` naming the valid workloads when a name is unknown.
    """
    if not names:
        return list(workloads)
    known = {workload.name: workload for workload in workloads}
    unknown = [name for name in names if name not in known]
    if unknown:
        raise ValueError(
            f"unknown workload {', '.join(map(repr, unknown))}; valid workloads: {', '.join(known)}"
        )
    wanted = set(names)
    return [workload for workload in workloads if workload.name in wanted]


def find_workload(name: str, workloads: Sequence[Workload] = WORKLOADS) -> Workload:
    return select_workloads([name], workloads)[0]
