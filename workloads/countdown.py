"""Beazley's CPU-bound countdown: pure Python, split over threads, split over processes.

Claims tested:

- Seed 000 ("Speed"): CPython is slow on CPU-bound code and PyPy is fast. David Beazley's ``count(n)`` loop ran in
  about 1.1-1.6 s on CPython 2.7.1 and 0.04-0.07 s on PyPy 1.7: about 20x.
- Seeds 000, 001, 003, 004 (the GIL): threads do not speed up CPU-bound Python, "sometimes worse than single
  threaded" (001), because only one thread runs bytecode at a time.
- Seeds 001, 003, 004: ``fork()``/multiprocessing is the way around it, at the cost of starting processes.

Variants (all do the same total work, ``n`` decrements; ``DEFAULT_N`` is the matrix's size):

- ``serial``: ``countdown(n)`` in the calling thread, the pure-Python reference.
- ``threads``: ``n`` split into ``workers`` equal parts, one thread each, started and joined inside the timed call.
- ``processes``: the same parts on a ``ProcessPoolExecutor`` with the fork start method, pool start-up and shut-down
  inside the timed call (the seeds' point: processes are not free). Fork is fixed so every interpreter pays the same
  kind of start-up (3.14 changed the Linux default to forkserver).

The answer checked before timing: the parts sum to ``n`` and every countdown ends at 0.
"""

import multiprocessing
import threading
from concurrent.futures import ProcessPoolExecutor

from _harness import main

DEFAULT_N = 2000000


def countdown(n):
    """Beazley's measure2.py kernel, unchanged."""
    while n > 0:
        n -= 1
    return n


def split(n, parts):
    """``n`` as ``parts`` integers that differ by at most one and sum to ``n``."""
    base, extra = divmod(n, parts)
    return [base + (1 if i < extra else 0) for i in range(parts)]


def _answer(chunks, leftovers):
    # The same answer shape for every variant: total work done, and what each countdown left (all zeros).
    return (sum(chunks), sum(leftovers))


def serial(n, workers):
    return _answer([n], [countdown(n)])


def threads(n, workers):
    chunks = split(n, workers)
    leftovers = [None] * workers

    def work(index):
        leftovers[index] = countdown(chunks[index])

    pool = [threading.Thread(target=work, args=(i,)) for i in range(workers)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    return _answer(chunks, leftovers)


def processes(n, workers):
    chunks = split(n, workers)
    with ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("fork")) as pool:
        leftovers = list(pool.map(countdown, chunks))
    return _answer(chunks, leftovers)


VARIANTS = {"serial": serial, "threads": threads, "processes": processes}

if __name__ == "__main__":
    main("countdown", VARIANTS, reference="serial")
