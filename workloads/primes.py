"""The first ``kmax`` primes by trial division: the seed's Cython example, pure and compiled.

Claims tested:

- Seed 002 ("Velocidade", after the Cython documentation): this pure-Python ``primes(kmax)`` is the slow twin of a
  Cython version with C-typed ints and a C array, about 10x faster; the seed timed kmax=500 at 56.6 ms in pure Python
  on a 1.6 GHz AMD E-450. The matrix times kmax=500 and kmax=1000 (the seed caps kmax at 1000, the size of its
  array).
- Seeds 001, 003: C extensions that release the GIL let threads scale, even on a GIL build.

Variants (the compiled kernels are in ``bindings/``, built per interpreter by ``bindings/build.py``):

- ``pure``: the seed's function, with ``p = [0] * 1000`` standing in for Python 2's ``range(1000)`` list.
- ``cython``: the seed's typed Cython ``primes`` (``cdef int n, k, i``, ``cdef int p[1000]``), unchanged.
- ``cffi``: the same algorithm in C (``kernels.c``), called through cffi in API mode.
- ``shedskin``: the pure function itself, unchanged (``_portable.primes``), compiled to C++ by Shed Skin
  (seed 002: "Shedskin?"): no C types written by hand; the list it returns is converted to Python's on each call.
- ``compiled``: the best compiled binding for this interpreter: Cython, but cffi on PyPy (where Cython goes through
  the slow cpyext layer) or where Cython is unavailable; the binding it took is in the run's metadata. Never Shed
  Skin (``_bindings.compiled_order`` says why).
- ``c``: the C reference, ``bindings/c_reference`` timing ``kernels.c``'s primes by itself, no Python at all.
- ``cython_threads``, ``cffi_threads``: ``THREADED_CALLS`` calls of ``primes(kmax)``, split evenly over ``workers``
  threads, each call running its loop with the GIL released (Cython's ``with nogil:``, any cffi call). The total
  work is the same at every worker count, so 2 workers taking half the time of 1 is perfect scaling.

The answer checked before timing is the list of primes: every compiled call must return exactly the seed's list,
and a threaded variant answers that list only if each of its calls did.
"""

import _bindings
from _bindings import CFFI, COMPILED, CYTHON, SHEDSKIN, uses
from _harness import in_threads, main, peak_memory, split

# The seed's kernel, which a runtime without pyperf runs too (workloads/_selftimed.py): one copy, in 2.7 syntax.
from _portable import primes

DEFAULT_KMAX = 500

# The sizes tests/test_workloads.py checks every variant at, in every interpreter.
SMALL_SIZES = (0, 1, 7, 100)

# The work of one threaded-variant call, whatever the worker count: divisible by 1, 2 and 4 workers, and long enough
# (about 11 ms of C at kmax=500) that starting the threads (about 0.1 ms each) does not hide their scaling.
THREADED_CALLS = 32


def cffi_primes(kmax):
    """``kernels.c``'s primes through cffi (the GIL released during the call), as a list."""
    binding = _bindings.module(CFFI)
    out = binding.ffi.new("int[1000]")
    count = binding.lib.primes(kmax, out)
    return binding.ffi.unpack(out, count)


def pure(kmax, workers):
    return primes(kmax)


@uses(CYTHON)
def cython(kmax, workers):
    return _bindings.module(CYTHON).primes(kmax)


@uses(CFFI)
def cffi(kmax, workers):
    return cffi_primes(kmax)


@uses(SHEDSKIN)
def shedskin(kmax, workers):
    return _bindings.module(SHEDSKIN).primes(kmax)


SINGLE = {CYTHON: cython, CFFI: cffi}


@uses(COMPILED)
def compiled(kmax, workers):
    return SINGLE[_bindings.compiled()](kmax, workers)


c = _bindings.c_reference_variant("primes", lambda kmax, found: found)


def _agreed(answers):
    # The one answer all calls gave; when they disagree, all of them (which then differs from the reference's list).
    first = answers[0]
    return first if all(answer == first for answer in answers) else answers


def _threaded(call, kmax, workers):
    def calls(count):
        return [call(kmax) for _ in range(count)]

    return _agreed([answer for answers in in_threads(calls, split(THREADED_CALLS, workers)) for answer in answers])


@uses(CYTHON)
def cython_threads(kmax, workers):
    return _threaded(_bindings.module(CYTHON).primes_nogil, kmax, workers)


@uses(CFFI)
def cffi_threads(kmax, workers):
    return _threaded(cffi_primes, kmax, workers)


VARIANTS = {
    "pure": pure,
    "cython": cython,
    "cffi": cffi,
    "shedskin": shedskin,
    "compiled": compiled,
    "c": c,
    "cython_threads": cython_threads,
    "cffi_threads": cffi_threads,
    "pure_memory": peak_memory(pure),
}

if __name__ == "__main__":
    main("primes", VARIANTS, reference="pure")
