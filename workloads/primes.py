"""The first ``kmax`` primes by trial division: the seed's Cython example, in its pure-Python form.

Claim tested (seed 002, "Velocidade", after the Cython documentation): this pure-Python ``primes(kmax)`` is the
slow twin of a Cython version with C-typed ints and a C array; the seed timed kmax=500 at 56.6 ms on a 1.6 GHz AMD
E-450. The matrix times kmax=500 and kmax=1000 (the seed caps kmax at 1000, the size of its array).

Variants:

- ``pure``: the seed's function, with ``p = [0] * 1000`` standing in for Python 2's ``range(1000)`` list.

Compiled twins (Cython, cffi) are added beside it by the bindings; every one is checked against ``pure`` first.
"""

from _harness import main

DEFAULT_KMAX = 500


def primes(kmax):
    """Calculation of prime numbers in standard Python syntax (the seed's code)."""
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


def pure(kmax, workers):
    return primes(kmax)


VARIANTS = {"pure": pure}

if __name__ == "__main__":
    main("primes", VARIANTS, reference="pure")
