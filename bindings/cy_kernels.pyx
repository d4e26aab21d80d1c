# cython: language_level=3
# cython: freethreading_compatible = True
"""The Cython twins of the workloads' kernels.

``primes`` is the seed's typed Cython (seed 002, after the Cython documentation), unchanged. The ``*_nogil``
kernels run the same typed loops with the GIL released, so threads calling them run in parallel even on GIL builds
(seeds 001/003: C extensions that release the GIL let threads scale). The module declares itself free-threading
compatible (it keeps no shared mutable state): without that, importing it would turn the GIL back on in a
free-threaded build.
"""

cimport cython

cdef extern from *:
    """
    /* An empty barrier that claims to change n: without it the C compiler sees a countdown loop with no effect,
     * folds it into `n = n > 0 ? 0 : n`, and there would be nothing to measure (kernels.c does the same). */
    static inline long interpmatrix_keep(long n) { __asm__ volatile("" : "+r"(n)); return n; }
    """
    long keep "interpmatrix_keep"(long n) nogil


cdef long _countdown(long n) noexcept nogil:
    while n > 0:
        n = keep(n) - 1
    return n


def countdown(long n):
    """Beazley's countdown with a C-typed n, the GIL held."""
    return _countdown(n)


def countdown_nogil(long n):
    """The same typed countdown, the GIL released while it runs."""
    with nogil:
        n = _countdown(n)
    return n


def primes(int kmax):
    """The seed's Cython primes: C ints and a C array, a Python list for the answer."""
    cdef int n, k, i
    cdef int p[1000]
    result = []
    if kmax > 1000:
        kmax = 1000
    k = 0
    n = 2
    while k < kmax:
        i = 0
        while i < k and n % p[i] != 0:
            i = i + 1
        if i == k:
            p[k] = n
            k = k + 1
            result.append(n)
        n = n + 1
    return result


# The seed's loop again, deliberately: `primes` above is the seed's own code (what the `cython` row measures), and
# it appends to a Python list, which needs the GIL. This copy keeps its primes in the C array only, so it can run
# without the GIL. C division: the divisors are primes found so far, never 0 or negative, and Python's checks would
# need the GIL.
@cython.cdivision(True)
cdef int _primes(int kmax, int *p) noexcept nogil:
    cdef int n, k, i
    if kmax > 1000:
        kmax = 1000
    k = 0
    n = 2
    while k < kmax:
        i = 0
        while i < k and n % p[i] != 0:
            i = i + 1
        if i == k:
            p[k] = n
            k = k + 1
        n = n + 1
    return k


def primes_nogil(int kmax):
    """The seed's loop with the GIL released; the GIL is taken back only to build the answer list."""
    cdef int p[1000]
    cdef int count
    with nogil:
        count = _primes(kmax, p)
    return [p[i] for i in range(count)]
