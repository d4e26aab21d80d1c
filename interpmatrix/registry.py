"""The workloads and their variants, as data.

Everything that lists workloads or variants (the noxfile, the CLI, the measuring loop, the report) derives it from
``WORKLOADS``. The kernels themselves live in ``workloads/<name>.py``, each a standalone pyperf script run inside the
interpreter under test; the harness never imports them. ``tests/test_registry.py`` checks that every script offers
exactly the variants listed here.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
WORKLOADS_DIR = REPO_ROOT / "workloads"


@dataclass(frozen=True)
class Variant:
    """One way of doing a workload's work: pure Python, split over threads, over processes, ..."""

    name: str
    description: str
    # Worker counts this variant is measured at; empty for a variant without workers.
    workers: tuple[int, ...] = ()
    # The workload's sizes this variant is measured at; empty for all of them.
    sizes: tuple[int, ...] = ()
    # The compiled binding the variant needs ("cython", "cffi", "c"; "compiled": the best one there), if any.
    binding: str | None = None


@dataclass(frozen=True)
class Workload:
    """A claim about Python speed, turned into kernels that can be timed on any interpreter."""

    name: str
    group: str
    claim: str
    seeds: tuple[str, ...]
    size_label: str
    sizes: tuple[int, ...]
    # The pure-Python variant every other variant must agree with before it is timed.
    reference: str
    variants: tuple[Variant, ...]
    script: Path

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


_CELL_NAME = re.compile(r"^(?P<workload>[\w-]+)/(?P<variant>[a-z_]+)(?:-(?P<workers>\d+))?@(?P<size>\d+)$")


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

# The compiled twins every CPU workload offers, built per interpreter by bindings/build.py.
COMPILED_VARIANTS = (
    Variant("cython", "Cython with C types (bindings/cy_kernels.pyx)", binding="cython"),
    Variant("cffi", "the C kernel called through cffi in API mode (bindings/cffi_build.py)", binding="cffi"),
    Variant(
        "compiled",
        "the best binding here: Cython, but cffi on PyPy (Cython goes through cpyext there) or without Cython",
        binding="compiled",
    ),
    Variant("c", "the C kernel timed by a C program (bindings/c_reference.c): the limit", binding="c"),
)

WORKLOADS: tuple[Workload, ...] = (
    Workload(
        name="countdown",
        group="Pure-Python CPU, threads and processes",
        claim=(
            "A CPU-bound pure-Python loop is slow on CPython (PyPy 1.7 ran it about 20x faster than CPython 2.7.1); "
            "CPU-bound threads do not help under the GIL and can hurt; processes (fork/multiprocessing) do help"
        ),
        seeds=("000 Speed", "001 Python is only slow if you use it wrong", "003 GIL", "004 CPython, Grumpy, PyPy"),
        size_label="n",
        sizes=(2_000_000,),
        reference="serial",
        variants=(
            Variant("serial", "Beazley's `while n > 0: n -= 1`, in the calling thread"),
            Variant("threads", "the same n split over threads, started and joined in the timed call", WORKER_COUNTS),
            Variant(
                "processes",
                "the same n split over a fork ProcessPoolExecutor, pool start-up included",
                WORKER_COUNTS,
            ),
            *COMPILED_VARIANTS,
        ),
        script=WORKLOADS_DIR / "countdown.py",
    ),
    Workload(
        name="primes",
        group="Pure-Python CPU, threads and processes",
        claim="The seed's first kmax primes by trial division: 56.6 ms for kmax=500 in pure Python on a 1.6 GHz AMD E-450",
        seeds=("002 Velocidade (Cython example)",),
        size_label="kmax",
        sizes=(500, 1000),
        reference="pure",
        variants=(
            Variant("pure", "the seed's pure-Python primes(kmax), a list standing in for the C array"),
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
        ),
        script=WORKLOADS_DIR / "primes.py",
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
