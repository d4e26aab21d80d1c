"""What the report asks of the workloads, as data: the seeds' claims, the verdict's questions, published figures.

Each claim is tested by the ratio of two cells of ``registry.WORKLOADS`` on every interpreter; each question names a
workload and the variants a reader could choose between for one kind of code; each published figure is the one a
reader already knows, with its source, for the report to hold its own figure against (``PUBLISHED_FIGURES``).
``tests/test_registry.py`` checks that every cell named here exists.
"""

from __future__ import annotations

from dataclasses import dataclass

from .registry import GC_TREES


@dataclass(frozen=True)
class Claim:
    """A seed's claim about speed, and the ratio of two measured cells that tests it, per interpreter.

    The ratio is ``slow`` over ``fast``: their times (or peak memory, ``metric="memory"``) on the same interpreter;
    with ``versus_jit``, ``slow`` on each interpreter over ``fast`` on a JIT column of the implementation the claim
    names (``jit_of``: PyPy's; CPython's own JIT columns are among the interpreters it is held against, as the claim
    says "than CPython", not "than CPython without its JIT"). The claim holds on
    an interpreter where the ratio is at least ``at_least`` (a speed-up the claim promises) or at most ``at_most``
    (a speed-up the claim says does not happen).
    """

    workload: str
    statement: str
    seeds: tuple[str, ...]
    slow: str
    fast: str
    at_least: float | None = None
    at_most: float | None = None
    metric: str = "time"
    versus_jit: bool = False
    jit_of: str = "pypy"

    @property
    def test(self) -> str:
        bound = f"≥ {self.at_least:g}×" if self.at_least is not None else f"≤ {self.at_most:g}×"
        what = "peak memory" if self.metric == "memory" else "time"
        if self.versus_jit:
            return f"{what} of `{self.slow}` on each interpreter ÷ on the JIT {bound}"
        return f"{what} of `{self.slow}` ÷ `{self.fast}` {bound}"


@dataclass(frozen=True)
class Question:
    """A kind of code, and the cells of one workload that answer "which interpreter, and which way of writing it"."""

    kind: str
    workload: str
    # The variants a reader could choose between (their time cells); None: every time variant of the workload.
    variants: tuple[str, ...] | None = None
    # Only cells at this worker count (variants without workers always count); None: every worker count.
    workers: int | None = None
    # The size compared at; None: the reference's first.
    size: int | None = None


# The seeds' claims, each tested by a ratio of two cells (see Claim). Thresholds: the seed's own factor where it
# gives one (20x, 10x, 5x); otherwise 1.5x for "helps" and 1.2x for "does not help" (a second worker that brings less
# than 20 % did not run in parallel in any useful sense).
CLAIMS: tuple[Claim, ...] = (
    Claim(
        "countdown",
        "PyPy runs a CPU-bound pure-Python loop about 20x faster than CPython",
        ("000 Speed", "004 CPython, Grumpy, PyPy"),
        slow="countdown/serial@2000000",
        fast="countdown/serial@2000000",
        at_least=20,
        versus_jit=True,
    ),
    Claim(
        "countdown",
        "CPU-bound threads do not speed up pure Python under the GIL, and are sometimes slower than one thread",
        ("001 Python is only slow if you use it wrong", "003 GIL", "004 CPython, Grumpy, PyPy"),
        slow="countdown/serial@2000000",
        fast="countdown/threads-2@2000000",
        at_most=1.2,
    ),
    Claim(
        "countdown",
        "fork()/multiprocessing sidesteps the GIL: processes speed up CPU-bound pure Python",
        ("001 Python is only slow if you use it wrong", "003 GIL", "004 CPython, Grumpy, PyPy"),
        slow="countdown/serial@2000000",
        fast="countdown/processes-2@2000000",
        at_least=1.5,
    ),
    Claim(
        "word_count",
        "Word-based instead of char-based is about 5x faster: with a regex",
        ("001 Python is only slow if you use it wrong",),
        slow="word_count/chars@2",
        fast="word_count/regex@2",
        at_least=5,
    ),
    Claim(
        "word_count",
        "Word-based instead of char-based is about 5x faster: with a C string method (str.split)",
        ("001 Python is only slow if you use it wrong",),
        slow="word_count/chars@2",
        fast="word_count/split@2",
        at_least=5,
    ),
    Claim(
        "pools",
        "A ThreadPoolExecutor does not speed up CPU-bound work",
        ("002 Velocidade (concurrent.futures)",),
        slow="pools/serial@3",
        fast="pools/threads-2@3",
        at_most=1.2,
    ),
    Claim(
        "pools",
        "A ProcessPoolExecutor speeds up CPU-bound work",
        ("002 Velocidade (concurrent.futures)",),
        slow="pools/serial@3",
        fast="pools/processes-2@3",
        at_least=1.5,
    ),
    Claim(
        "spawn_costs",
        "Processes cost more to start than threads",
        ("004 CPython, Grumpy, PyPy",),
        slow="spawn_costs/fork_start@0",
        fast="spawn_costs/thread_start@0",
        at_least=1.5,
    ),
    Claim(
        "spawn_costs",
        "Processes cost more to talk to: data is copied to them and back",
        ("003 GIL", "004 CPython, Grumpy, PyPy"),
        slow="spawn_costs/process_pool@10",
        fast="spawn_costs/thread_pool@10",
        at_least=1.5,
    ),
    Claim(
        "primes",
        "Cython with C types runs the seed's primes(500) about 10x faster than pure Python",
        ("002 Velocidade (Cython example)",),
        slow="primes/pure@500",
        fast="primes/cython@500",
        at_least=10,
    ),
    Claim(
        "primes",
        "C extensions that release the GIL let threads run in parallel",
        ("001 Python is only slow if you use it wrong", "003 GIL"),
        slow="primes/cython_threads-1@500",
        fast="primes/cython_threads-2@500",
        at_least=1.5,
    ),
    Claim(
        "io_threads",
        "Threads are fine for I/O-bound work: 16 clients in threads overlap their waits",
        ("001 Python is only slow if you use it wrong", "002 Velocidade", "003 GIL"),
        slow="io_threads/serial-16@2",
        fast="io_threads/threads-16@2",
        at_least=4,
    ),
    Claim(
        "io_threads",
        "Event-driven asyncio overlaps the same waits",
        ("004 CPython, Grumpy, PyPy",),
        slow="io_threads/serial-16@2",
        fast="io_threads/asyncio-16@2",
        at_least=4,
    ),
    Claim(
        "gc_cycles",
        "Weakref parent links, which reference counting frees at once, need less memory than cycles left to the GC",
        ("001 Python is only slow if you use it wrong",),
        slow=f"gc_cycles/strong_memory@{GC_TREES}",
        fast=f"gc_cycles/weakref_memory@{GC_TREES}",
        at_least=1.2,
        metric="memory",
    ),
    Claim(
        "numeric",
        "numpy makes an element-wise array expression much faster than a Python loop",
        ("003 GIL",),
        slow="numeric/pure@1000000",
        fast="numeric/numpy@1000000",
        at_least=10,
    ),
    Claim(
        "numeric",
        "numexpr runs such an expression faster on several threads",
        ("003 GIL",),
        slow="numeric/numexpr-1@10000000",
        fast="numeric/numexpr-2@10000000",
        at_least=1.5,
    ),
)


# "Which interpreter should I use?", one answer per kind of code (a user's own workload adds its own question).
QUESTIONS: tuple[Question, ...] = (
    Question("Pure-Python CPU loops", "countdown", ("serial",)),
    Question("Pure-Python CPU loops", "word_count", ("chars", "split", "regex")),
    Question("CPU work in threads or processes", "countdown", ("serial", "threads", "processes")),
    Question("CPU work in threads or processes", "pools", ("serial", "threads", "processes")),
    # Not `c` (a C program, no Python: the limit), nor the threaded variants (32 calls: other work), nor `compiled`
    # (whichever of cython and cffi is best there: the same cell again).
    Question("Compiled kernels", "primes", ("pure", "cython", "cffi"), size=500),
    Question("I/O-bound concurrency", "io_threads", ("serial", "threads", "asyncio"), workers=64),
    Question("Allocation- and GC-heavy code", "gc_cycles", ("strong", "weakref")),
    Question("Numeric arrays", "numeric", ("pure", "numpy", "numexpr"), size=1_000_000),
)

# What a published figure compares (PublishedFigure.comparison), each as a ratio of times over a suite of benchmarks.
PYPY = "PyPy against CPython 3.11"  # CPython 3.11's time ÷ PyPy's: PyPy's speed-up
JIT = "CPython's JIT against the same CPython without it"  # time without ÷ time with: the JIT's speed-up
FREE_THREADING = "a free-threaded build against its GIL twin"  # free-threaded time ÷ the twin's: the cost


@dataclass(frozen=True)
class PublishedFigure:
    """A figure readers already know for pyperformance or a suite like it, with its source: the range ``low`` to
    ``high`` of the ratio of times its ``comparison`` names, for CPython ``minor`` (None: whatever the version). A
    figure given as one number ("about 40 %") has ``low == high``.

    ``over`` says which benchmarks that figure is over: a source's whole suite, not the benchmarks a run has, so a run
    that differs from it may differ by the benchmarks chosen. A source that also publishes each benchmark's figure has
    them in ``per_benchmark`` (pyperformance's names, each the ratio of times in the figure's orientation as the
    source's table prints it): the report then holds its own figure against the source's over the very benchmarks
    both have."""

    comparison: str
    minor: str | None
    low: float
    high: float
    # As the source puts it, and the source: its name, then its address.
    text: str
    source: str
    over: str = "the source's own benchmarks"
    per_benchmark: tuple[tuple[str, float], ...] = ()


# Held against the matrix's geometric means over the standard suite (sections/standard_suite.py).
PUBLISHED_FIGURES: tuple[PublishedFigure, ...] = (
    PublishedFigure(PYPY, None, 3.0, 4.3, "about 3-4.3× faster than CPython 3.11",
                    "speed.pypy.org, https://speed.pypy.org/", over="speed.pypy.org's own benchmarks"),
    # "10 % slower" read as 10 % more time.
    PublishedFigure(JIT, "3.14", 1 / 1.10, 1.20, "from 10 % slower to 20 % faster, depending on workload",
                    "What's New in Python 3.14, "
                    "https://docs.python.org/3/whatsnew/3.14.html#whatsnew314-jit-compiler",
                    over="pyperformance's suite"),
    # CPython's JIT benchmark by benchmark, from bench_runner's tables of an upstream build with GCC 15 on x86_64, each
    # release tag with its JIT against the same build without it (time without ÷ time with: "1.02x slower" is 1/1.02).
    # A benchmark the table hides as not significant has no figure here (generators; chaos and raytrace on 3.15).
    PublishedFigure(JIT, "3.14", 1 / 1.001, 1 / 1.001,
                    "CPython 3.14.0 with its JIT against the same build without it (1.00× slower over its whole "
                    "suite)",
                    "Yhg1s/thread-benchmarking (bench_runner, 2025-10-07), "
                    "https://github.com/Yhg1s/thread-benchmarking/blob/main/results/bm-20251007-3.14.0-ebf955d-JIT/"
                    "bm-20251007-centurion_gcc15-x86_64-python-v3.14.0-3.14.0-ebf955d-vs-base.md",
                    over="pyperformance's suite",
                    per_benchmark=(
                        ("chaos", 1 / 1.03), ("deltablue", 1.12), ("fannkuch", 1.02), ("float", 1.21),
                        ("go", 1 / 1.18), ("hexiom", 1 / 1.10), ("json_dumps", 1 / 1.01), ("nbody", 1.06),
                        ("nqueens", 1 / 1.01), ("raytrace", 1 / 1.02), ("regex_v8", 1 / 1.02), ("richards", 1.21),
                        ("spectral_norm", 1.13), ("unpack_sequence", 1 / 4.25),
                    )),
    PublishedFigure(JIT, "3.15", 1.064, 1.064,
                    "CPython 3.15.0rc1 with its JIT against the same build without it (1.06× faster over its whole "
                    "suite)",
                    "Yhg1s/thread-benchmarking (bench_runner, 2026-08-04), "
                    "https://github.com/Yhg1s/thread-benchmarking/blob/main/results/bm-20260804-3.15.0rc1-37e98da-JIT/"
                    "bm-20260804-centurion_gcc15-x86_64-python-v3.15.0rc1-3.15.0rc1-37e98da-vs-base.md",
                    over="pyperformance's suite",
                    per_benchmark=(
                        ("deltablue", 1.21), ("fannkuch", 1.20), ("float", 1.38), ("go", 1.03), ("hexiom", 1.02),
                        ("json_dumps", 1.10), ("nbody", 1.58), ("nqueens", 1.17), ("regex_v8", 1.04),
                        ("richards", 2.08), ("spectral_norm", 1.38), ("unpack_sequence", 1 / 3.20),
                    )),
    PublishedFigure(FREE_THREADING, "3.13", 1.40, 1.40, "about 40 % (pyperformance)",
                    "Python experimental support for free threading (3.13), "
                    "https://docs.python.org/3.13/howto/free-threading-python.html", over="pyperformance's suite"),
    # The same comparison benchmark by benchmark, as bench_runner (faster-cpython's benchmarking tool) printed it for
    # the v3.13.0rc2 tag built free-threaded against its default build, on one x86_64 machine: 1.49x the time over
    # the whole suite, and a different cost on every benchmark (regex_v8 1.06x, unpack_sequence 3.27x). The docs'
    # "about 40 %" names no benchmarks: this one says what the same cost is on the benchmarks a run has.
    PublishedFigure(FREE_THREADING, "3.13", 1.49, 1.49,
                    "CPython 3.13.0rc2's free-threaded build against its default build of the same commit (1.49× "
                    "the time over its whole suite)",
                    "Meta's free-threading benchmarking (bench_runner, 2024-09-06), "
                    "https://github.com/facebookexperimental/free-threading-benchmarking/blob/main/results/"
                    "bm-20240906-3.13.0rc2-ec61006-NOGIL/"
                    "bm-20240906-vultr-x86_64-python-v3.13.0rc2-3.13.0rc2-ec61006-vs-base.md",
                    over="pyperformance's suite",
                    per_benchmark=(
                        ("chaos", 2.20), ("deltablue", 3.20), ("fannkuch", 1.50), ("float", 1.96),
                        ("generators", 1.41), ("go", 2.54), ("hexiom", 2.04), ("json_dumps", 1.29),
                        ("nbody", 2.56), ("nqueens", 1.50), ("raytrace", 2.46), ("regex_v8", 1.06),
                        ("richards", 1.99), ("spectral_norm", 1.61), ("unpack_sequence", 3.27),
                    )),
    PublishedFigure(FREE_THREADING, "3.14", 1.05, 1.10, "about 5-10 %",
                    "What's New in Python 3.14 (PEP 779), https://docs.python.org/3/whatsnew/3.14.html",
                    over="pyperformance's suite"),
)

# The single-threaded cost of a free-threaded build, per minor, as published: the free-threading section's words.
PUBLISHED_FREE_THREADING_COST = {
    figure.minor: figure.text
    for figure in PUBLISHED_FIGURES
    if figure.comparison == FREE_THREADING and not figure.per_benchmark
}


@dataclass(frozen=True)
class SeedSystem:
    """A system a seed names, and how a run measures it: as the columns of an implementation (``implementation``,
    for CPython only those of ``minors`` when given), or as the cells of a variant (``variant``, a cell name against
    its workload's ``reference`` cell on the same interpreter); else ``cannot`` says why no machine of this kind can
    run it. The report's "Systems the seeds name" table has one row per system: a figure or a reason, never blank."""

    name: str
    seeds: tuple[str, ...]
    implementation: str | None = None
    minors: tuple[str, ...] = ()
    variant: str | None = None
    # The cell ``variant`` is held against; None: its workload's reference at the same size.
    against: str | None = None
    cannot: str = ""


SEED_SYSTEMS: tuple[SeedSystem, ...] = (
    SeedSystem("CPython 2.7 (the seeds' CPython)", ("000",), implementation="cpython", minors=("2.7",)),
    SeedSystem("CPython 3 (today's)", ("000", "001", "002", "003", "004"), implementation="cpython",
               minors=("3.9", "3.10", "3.11", "3.12", "3.13", "3.14", "3.15", "3.16")),
    SeedSystem("PyPy", ("000", "004"), implementation="pypy"),
    SeedSystem("Jython", ("003",), implementation="jython"),
    SeedSystem("IronPython", ("003",), cannot="on no registry reachable here (PyPI, Debian, npm): its releases are "
               ".NET builds on GitHub only"),
    SeedSystem("PyPy STM", ("003",), cannot="an abandoned PyPy branch (last build 2017, Python 2.7 only): no package "
               "anywhere"),
    SeedSystem("Grumpy", ("004",), cannot="Python 2.7 to Go, abandoned by Google in 2017: no package anywhere"),
    SeedSystem("Cython", ("000", "002"), variant="primes/cython@500"),
    SeedSystem("Pyrex", ("000", "002"), cannot="superseded by Cython, which compiles Pyrex code: see Cython"),
    SeedSystem("Shed Skin", ("000", "002"), variant="primes/shedskin@500"),
    # The cells of the claim about them: the row then states the figure the claims table decides, with the interval
    # the budget's rounds narrowed (cffi's threads, which no decision rests on, were measured once and shown with none).
    SeedSystem("C extensions releasing the GIL", ("000", "001", "002", "003"), variant="primes/cython_threads-2@500",
               against="primes/cython_threads-1@500"),
    SeedSystem("SciPy Weave", ("001",), cannot="removed from SciPy in 0.19 (2017), Python 2 only"),
    SeedSystem("multiprocessing / fork()", ("001", "002", "003", "004"), variant="countdown/processes-2@2000000"),
    SeedSystem("NumPy + numexpr", ("003",), variant="numeric/numexpr-2@1000000"),
    SeedSystem("PyCUDA", ("003",), cannot="needs an NVIDIA GPU with CUDA; this machine has none"),
    SeedSystem("ParallelPython", ("003",), variant="pools/pp_local-2@3"),
)

# Seed 000's own table: Beazley's measure2.py count loop, five runs each, as the seed printed them (seconds).
SEED_000_TIMINGS = {
    "CPython 2.7.1": (1.06774401665, 1.45412397385, 1.51485204697, 1.54693889618, 1.60109114647),
    "PyPy 1.7.0": (0.0683999061584, 0.0483210086823, 0.0388588905334, 0.0440690517426, 0.0695300102234),
}
