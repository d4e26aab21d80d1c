"""An element-wise array expression: a pure-Python loop, numpy, and numexpr on 1 to 4 threads.

Claim tested:

- Seed 003 (GIL, solution 3): "Numpy + numexpr: if you can represent your operations on numpy arrays, numexpr can take
  care of making it fast (even running on multiple threads)". Seed 001's "use C modules" is the same advice: keep
  the loop out of the interpreter.

The expression is ``2*a + 3*b**2 - a*b`` over two arrays of ``n`` floats (the matrix: n = 10^6 and 10^7).

Variants:

- ``pure``: a list comprehension over two lists of floats, the reference. Measured at n = 10^6 only: at 10^7 one call
  takes seconds on CPython and its lists take ~0.7 GB, and the claim is visible at 10^6 already.
- ``numpy``: the same expression on two ``float64`` arrays; numpy evaluates it one operation at a time, each a C loop
  over the whole array with a temporary array per step, on one thread.
- ``numexpr``: ``numexpr.evaluate`` of the same expression, which compiles it to its own virtual machine and runs it
  in cache-sized blocks on ``workers`` threads (``numexpr.set_num_threads``); 1 and 2 are "one core" and "all cores"
  on this 2-core machine, 4 shows what more threads than cores do.

numpy and numexpr are installed per interpreter by the ``bench`` session (``workloads/_packages.py``); where one
cannot be installed (no wheel and a failing source build: numexpr on PyPy 3.9), its cells say why.

The inputs are the same numbers in every variant: ``a[i] = (i % 1000) / 1000`` and ``b[i] = (i * 7 % 1000) / 500``
(each an exactly rounded division of the same integers, in Python and in numpy alike), built once per process
outside the timed call. The answer checked before timing is ``(n, sum of the result)``, the sum compared to a relative
1e-9: numpy and numexpr sum in a different order than Python's ``sum``, which moves the last digits only. The expected
answer is computed in pure Python from one period of the inputs (they repeat every 1000 elements), so that checking a
10^7 cell does not cost a pure-Python pass over 10^7 elements; ``pure`` is checked against it like the others.

Each call makes arrays (or lists) of megabytes and frees them, so the time cells run with glibc's heap held
(``_harness.HELD_HEAP_TUNABLES`` says why): otherwise whether glibc gives the temporaries' pages back after every
call, and faults them in again on the next, depends on the worker process's allocation history, which moved numpy's
time 2.5-3x on the same interpreter. A 10^7 array (80 MB) lies above the largest threshold glibc allows (32 MiB), so
there every call maps its result afresh, and how long the kernel takes to fault it in is the machine's memory, not
the code. Measured here (2026-12-05 and 12-06, numexpr 2.14 on the project's 2-core VM): numexpr's fresh 10^7 result
took 36-40 ms a call on one thread, with calls of 200-470 ms in some processes, the same fault count (635 a call)
with 165-205 ms of system time against 3-8 ms (on PyPy, whose collector frees an array only when it next runs, every
call of some processes; CPython 3.12 holding its last six results too); on two threads, whose faults contend, a
process ran every call at 21-24 ms or at 33-43 ms (four of ten processes on CPython 3.12 and 3.15), so that the
two-thread speed-up read 0.85-1.83x by the process. So numexpr evaluates into an output array the process keeps (its
``out=``, numexpr's way for an expression evaluated again and again), made by the process's first call (the answer
check's, or a worker's first warm-up), outside the timed values: its cells time the expression on its threads, as at
10^6, where the held heap hands each call the pages of the last one. Four fresh processes of CPython 3.15 then read
29-30 ms on one thread and 16.4 ms on two, every one (1.78-1.82x). numpy's temporaries and the pure lists stay
fresh, as a user's expression makes them.

Each variant returns its result, and the answer's sum is taken when the answer check compares it (``Total``), not in
the timed calls: a single-threaded numpy pass over the result (5 ms at 10^7) timed with numexpr's threads made two
threads read 1.38-1.58x where the expression alone read 1.6-1.8x.
"""

import math

from _harness import main, peak_memory
from _packages import needs

DEFAULT_N = 1000000

# The sizes tests/test_workloads.py checks every variant at: fast on every interpreter.
SMALL_SIZES = (1, 7, 1000)

EXPRESSION = "2*a + 3*b**2 - a*b"

_lists = {}
_arrays = {}
_outputs = {}


class Total(object):
    """The answer: ``n`` and the sum of the result, equal to another when they agree to a relative 1e-9 (summation
    order differs). A variant hands over its result and the sum is taken at the first comparison, so that the timed
    calls time the expression alone."""

    def __init__(self, n, value=None, result=None):
        self.n = n
        self._value = None if value is None else float(value)
        self._result = result

    @property
    def value(self):
        if self._value is None:
            # numpy's sum for an array, Python's for a list; the result is let go once summed (numexpr's is the
            # process's kept output, which the next call overwrites).
            result, self._result = self._result, None
            self._value = float(result.sum() if hasattr(result, "sum") else sum(result))
        return self._value

    def __eq__(self, other):
        return (
            isinstance(other, Total) and self.n == other.n and math.isclose(self.value, other.value, rel_tol=1e-9)
        )

    def __ne__(self, other):
        return not self == other

    def __repr__(self):
        return "Total(n=%d, sum=%.17g)" % (self.n, self.value)


def _inputs_as_lists(n):
    if n not in _lists:
        _lists[n] = ([(i % 1000) / 1000.0 for i in range(n)], [(i * 7 % 1000) / 500.0 for i in range(n)])
    return _lists[n]


def _inputs_as_arrays(n):
    if n not in _arrays:
        import numpy

        index = numpy.arange(n, dtype=numpy.int64)
        _arrays[n] = ((index % 1000) / 1000.0, (index * 7 % 1000) / 500.0)
    return _arrays[n]


def expected(n):
    """The answer, from the inputs' period: (n // 1000) whole periods and a partial one, each summed in Python."""
    period, rest = divmod(n, 1000)
    a, b = _inputs_as_lists(1000)
    terms = [2 * x + 3 * y**2 - x * y for x, y in zip(a, b)]
    return Total(n, period * sum(terms) + sum(terms[:rest]))


def pure(n, workers):
    a, b = _inputs_as_lists(n)
    return Total(n, result=[2 * x + 3 * y**2 - x * y for x, y in zip(a, b)])


@needs("numpy")
def numpy(n, workers):
    a, b = _inputs_as_arrays(n)
    return Total(n, result=2 * a + 3 * b**2 - a * b)


@needs("numpy", "numexpr")
def numexpr(n, workers):
    import numexpr as ne

    a, b = _inputs_as_arrays(n)
    if n not in _outputs:
        import numpy

        _outputs[n] = numpy.empty(n)
    ne.set_num_threads(workers)
    return Total(n, result=ne.evaluate(EXPRESSION, local_dict={"a": a, "b": b}, out=_outputs[n]))


VARIANTS = {
    "pure": pure,
    "numpy": numpy,
    "numexpr": numexpr,
    "pure_memory": peak_memory(pure),
    "numpy_memory": peak_memory(numpy),
}

if __name__ == "__main__":
    main("numeric", VARIANTS, reference="pure", expected=expected, hold_heap=True)
