"""Beazley's CPU-bound countdown: pure Python, split over threads, split over processes, and compiled.

Claims tested:

- Seed 000 ("Speed"): CPython is slow on CPU-bound code and PyPy is fast. David Beazley's ``count(n)`` loop ran in
  about 1.1-1.6 s on CPython 2.7.1 and 0.04-0.07 s on PyPy 1.7: about 20x.
- Seeds 000, 001, 003, 004 (the GIL): threads do not speed up CPU-bound Python, "sometimes worse than single
  threaded" (001), because only one thread runs bytecode at a time.
- Seeds 001, 003, 004: ``fork()``/multiprocessing is the way around it, at the cost of starting processes.
- Seeds 001, 003: C extensions that release the GIL are the other way around it: their threads run in parallel.

Variants (all do the same total work, ``n`` decrements; ``DEFAULT_N`` is the matrix's size):

- ``serial``: ``countdown(n)`` in the calling thread, the pure-Python reference.
- ``threads``: ``n`` split into ``workers`` equal parts, one thread each, started and joined inside the timed call.
- ``processes``: the same parts on a ``ProcessPoolExecutor`` with the fork start method, pool start-up and shut-down
  inside the timed call (the seeds' point: processes are not free). Fork is fixed so every interpreter pays the same
  kind of start-up (3.14 changed the Linux default to forkserver).
- ``cython``, ``cffi``: the same loop with a C-typed ``n``, from ``bindings/`` (Cython's holds the GIL; every cffi
  call releases it).
- No ``shedskin``: compiled by Shed Skin, the pure loop has no barrier (below) and g++ removes it (the module's
  ``countdown`` compiles to ``return n > 0 ? 0 : n``), so a cell would time one call, not a loop. ``primes``, whose
  loop has an effect, answers seed 000's "Shedskin?".
- ``compiled``: the best compiled binding for this interpreter: Cython, but cffi on PyPy (where Cython goes through
  the slow cpyext layer) or where Cython is unavailable; the binding it took is in the run's metadata. Never Shed
  Skin (``_bindings.compiled_order`` says why).
- ``c``: the C reference, ``bindings/c_reference`` timing ``kernels.c``'s countdown by itself, no Python at all.

GIL-releasing kernels called from threads are measured on ``primes`` (``cython_threads``, ``cffi_threads``): at this
size the C countdown takes about 1.6 ms, too little to show scaling past the cost of starting threads.

The compiled loops keep an empty ``asm volatile`` barrier in their body: without it the C compiler removes a loop
that has no effect, and they would measure nothing. Shed Skin's source is the pure kernel, where no barrier can be
written, and its loop is removed.

The answer checked before timing: the parts sum to ``n`` and every countdown ends at 0.
"""

import multiprocessing
from concurrent.futures import ProcessPoolExecutor

import _bindings
from _bindings import CFFI, COMPILED, CYTHON, uses
from _harness import main, peak_memory, split

# The kernel and the two variants a runtime without pyperf runs too (workloads/_selftimed.py): one copy, in 2.7 syntax.
from _portable import countdown
from _portable import countdown_answer as _answer
from _portable import countdown_serial as serial
from _portable import countdown_threads as threads

DEFAULT_N = 2000000

# The sizes tests/test_workloads.py checks every variant at, in every interpreter.
SMALL_SIZES = (0, 1, 7, 100001)


def processes(n, workers):
    chunks = split(n, workers)
    with ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("fork")) as pool:
        leftovers = list(pool.map(countdown, chunks))
    return _answer(chunks, leftovers)


@uses(CYTHON)
def cython(n, workers):
    return _answer([n], [_bindings.module(CYTHON).countdown(n)])


@uses(CFFI)
def cffi(n, workers):
    return _answer([n], [_bindings.module(CFFI).lib.countdown(n)])


SINGLE = {CYTHON: cython, CFFI: cffi}


@uses(COMPILED)
def compiled(n, workers):
    return SINGLE[_bindings.compiled()](n, workers)


c = _bindings.c_reference_variant("countdown", lambda n, leftovers: _answer([n], leftovers))


VARIANTS = {
    "serial": serial,
    "threads": threads,
    "processes": processes,
    "cython": cython,
    "cffi": cffi,
    "compiled": compiled,
    "c": c,
    "serial_memory": peak_memory(serial),
}

if __name__ == "__main__":
    main("countdown", VARIANTS, reference="serial")
