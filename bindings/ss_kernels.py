"""The Shed Skin twins of the workloads' pure-Python kernels: the same Python, compiled to C++.

Shed Skin (seeds 000 and 002 ask "Shedskin?") translates restricted Python, where every variable keeps one type, to
C++, and builds it as an extension module for the interpreter that runs it. ``build.py`` copies this file into the
build folder and runs ``shedskin translate --extmod --compile`` on it there, so the module ``ss_kernels`` is built
per interpreter like the Cython and cffi bindings. The functions are the pure kernels of ``countdown`` and
``primes`` as the seeds wrote them: no C types and no annotations, which is the point of Shed Skin. The module
imports nothing: a kernel needs nothing, and every module it imports would be compiled with it.

Shed Skin infers each function's argument types from the calls the module makes itself: the ``__main__`` block
makes them ints (not run when the module is imported).
"""


def countdown(n):
    """Beazley's countdown, unchanged."""
    while n > 0:
        n -= 1
    return n


def primes(kmax):
    """The seed's pure-Python primes, unchanged: a list standing in for the C array."""
    p = [0] * 1000
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


if __name__ == "__main__":
    countdown(10)
    primes(10)
