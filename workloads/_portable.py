"""The kernels every runtime can run: pyperf's workloads import them, the self-timing runner calls them.

Runtimes without pyperf (CPython 2.7, Jython 2.7, MicroPython, Pyodide: ``_selftimed.py``) run the same code as the
pyperf workloads, not a second copy of it, so this module keeps to what all of them parse and have: Python 2.7 and
MicroPython syntax (no f-strings, no annotations, no keyword-only arguments), no ``__future__`` import (MicroPython
has none), and only ``threading`` or, where it is missing (MicroPython), ``_thread``.

``KERNELS`` is what the runner can call: ``"<workload>/<variant>"`` -> ``kernel(size, workers, data)``, ``data``
being the input the orchestrator hands over (word_count's text) or None. interpmatrix.registry lists, per workload,
which of them a self-timed runtime runs (``Workload.self_timed``); tests/test_selftimed.py checks the two agree.
"""


def countdown(n):
    """Beazley's measure2.py kernel, unchanged (workloads/countdown.py)."""
    while n > 0:
        n -= 1
    return n


def primes(kmax):
    """Calculation of prime numbers in standard Python syntax (the seed's code, workloads/primes.py)."""
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


def count_words(data, whitespace):
    """Whitespace-to-word transitions, one character at a time (workloads/word_count.py's ``chars``)."""
    words = 0
    in_word = False
    for ch in data:
        if ch in whitespace:
            in_word = False
        elif not in_word:
            # The first character of a word.
            in_word = True
            words += 1
    return words


def split(total, parts):
    """``total`` as ``parts`` integers that differ by at most one and sum to ``total``."""
    base, extra = divmod(total, parts)
    return [base + (1 if i < extra else 0) for i in range(parts)]


# How many threads this process started: the self-timing runner reports it, so a threads cell shows that threads ran.
STARTED = [0]


def _start_threads(work, count):
    """Start ``work(index)`` on ``count`` threads and wait for all of them."""
    STARTED[0] += count
    try:
        import threading
    except ImportError:
        threading = None
    if threading is not None:
        pool = [threading.Thread(target=work, args=(i,)) for i in range(count)]
        for thread in pool:
            thread.start()
        for thread in pool:
            thread.join()
        return
    # MicroPython's unix port has _thread only: no join, so each thread releases a lock of its own when it ends.
    import _thread

    locks = [_thread.allocate_lock() for _ in range(count)]

    def run(index):
        try:
            work(index)
        finally:
            locks[index].release()

    for index in range(count):
        locks[index].acquire()
        _thread.start_new_thread(run, (index,))
    for lock in locks:
        lock.acquire()


def in_threads(function, args):
    """``[function(arg) for arg in args]``, one thread per arg, all started then all joined."""
    results = [None] * len(args)

    def work(index):
        results[index] = function(args[index])

    _start_threads(work, len(args))
    return results


def countdown_answer(chunks, leftovers):
    # The same answer shape for every countdown variant (workloads/countdown.py): total work done, and what each countdown left (all zeros).
    return (sum(chunks), sum(leftovers))


def countdown_serial(n, workers, data=None):
    return countdown_answer([n], [countdown(n)])


def countdown_threads(n, workers, data=None):
    chunks = split(n, workers)
    return countdown_answer(chunks, in_threads(countdown, chunks))


def primes_pure(kmax, workers, data=None):
    return primes(kmax)


# word_count's separators (workloads/word_count.py WHITESPACE): its text has only these.
WHITESPACE = " \n\t"


def word_count_chars(mb, workers, data=None):
    return count_words(data, WHITESPACE)


KERNELS = {
    "countdown/serial": countdown_serial,
    "countdown/threads": countdown_threads,
    "primes/pure": primes_pure,
    "word_count/chars": word_count_chars,
}
