"""What processes cost that threads do not: starting one, and handing it data and getting it back.

Claims tested:

- Seed 004 ("CPython, Grumpy, PyPy", multiprocessing vs multithreading): processes are "costly to create and destroy
  frequently" and "costly to run a huge number of", their "IPC [is] a little more complicated with more overhead",
  while threads have "shared memory, low memory footprint". The start variants time creating and destroying one
  thread or process; the transfer variants time the IPC.
- Seed 003 ("GIL", on multiprocessing): "the memory has to be copied back and forth, which can make it unsuitable to
  use when dealing with huge amounts of data already in-memory". The transfer variants send 1 MB and 10 MB to a
  worker and back: a thread hands over a reference, a process pickles and pipes a copy each way.

Variants, by size (the size is megabytes sent, 1 MB = 2**20 bytes; ``workers`` is ignored: one thread or process):

- ``direct`` (all sizes, the reference and the floor: nothing is started): at size 0 a plain call of the do-nothing
  function; above 0 the payload passed through a plain call of the echo function.
- Size 0, starting (the start-up cells, nothing sent):
  - ``thread_start``: create, start and join one ``threading.Thread`` whose target does nothing.
  - ``fork_start``: the same with one ``multiprocessing`` process of the "fork" context (a copy-on-write copy of
    this process).
  - ``spawn_start``: the same with the "spawn" context: a fresh interpreter that imports this script again
    (as ``__mp_main__``, which the ``__main__`` guard below keeps from running the benchmark again) before it can
    run the target. This is how Windows and macOS start processes by default. (A process's first spawn also starts
    multiprocessing's resource tracker, once: pyperf's warm-up absorbs it. It exits with the process.)
- Sizes 1 and 10, talking (a payload of that many MB, sent and echoed back):
  - ``thread_pool``: ``pool.submit(echo, data).result()`` on a ``ThreadPoolExecutor(max_workers=1)``.
  - ``process_pool``: the same on a ``ProcessPoolExecutor(max_workers=1)`` of the "fork" context (fixed as in
    countdown.py), so the payload is pickled to the worker and the echo pickled back.
  Both pools are persistent: created on a process's first call (pyperf's warm-up absorbs it; starting is what the
  start variants measure, these measure talking) and shut down at exit by ``shutdown_pools``, so no worker outlives
  the process. pyperf times each cell in a worker process of its own, so a timed fork never runs beside the other
  variant's pool threads; only the harness's check, in its main process, may fork beside an idle pool thread.

Sizes: 0 MB for the start cells, then 1 and 10 MB for the transfer cells, so that the cost of copying can be seen
growing with the data (1 MB is a pickle and a pipe round trip of a few ms on CPython 3.12 here, 10 MB about 70 ms;
PyPy's multiprocessing queues are much slower, about 0.1 s and 1 s). The payload of each size is built once per process
(seeded random bytes, so that its ends differ from any other size's), outside the timed call.

The answer checked before timing: at size 0, ``("finished", True)``: the thread is no longer alive after ``join``,
the process exited with code 0 (the direct call returned). Above 0, ``(length, first 16 bytes, last 16 bytes)`` of
what came back, which must be the payload's: a cheap fingerprint, since hashing 10 MB would cost as much as the
thread's round trip many times over. Start variants refuse sizes above 0 and transfer variants size 0 (the
reference answers differently there).
"""

import atexit
import multiprocessing
import random
import threading
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor

from _harness import main

DEFAULT_MB = 0

# The agreement check's sizes (tests): one start size, one transfer size.
SMALL_SIZES = (0, 1)

MB = 2**20

START_ANSWER = ("finished", True)


def nothing():
    """The start variants' target (a module-level function: the spawn context pickles it by name)."""


def echo(data):
    """The transfer variants' task: return what was sent."""
    return data


def _start_only(size):
    if size != 0:
        raise ValueError("the start variants run at size 0 only (nothing is sent), not %r MB" % (size,))


def _transfer_only(size):
    if size <= 0:
        raise ValueError("the transfer variants need a size of at least 1 MB, not %r" % (size,))


_PAYLOADS = {}


def payload(mb):
    """``mb`` MB of seeded random bytes, built once per process and size."""
    data = _PAYLOADS.get(mb)
    if data is None:
        data = _PAYLOADS[mb] = random.Random(mb).randbytes(mb * MB)
    return data


def fingerprint(data):
    # Length and both ends: catches a truncated, padded or wrong-size echo without reading all 10 MB.
    return (len(data), data[:16], data[-16:])


# The persistent pools of the transfer variants, by kind, created on first use.
_POOLS = {}


def _pool(kind):
    pool = _POOLS.get(kind)
    if pool is None:
        if kind == "thread":
            pool = ThreadPoolExecutor(max_workers=1)
        else:
            pool = ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("fork"))
        _POOLS[kind] = pool
    return pool


def shutdown_pools():
    """Shut the transfer variants' pools down and wait for their workers (at exit; tests may call it earlier)."""
    while _POOLS:
        _, pool = _POOLS.popitem()
        pool.shutdown(wait=True)


# concurrent.futures' own exit hook (run while the interpreter waits for its threads, before atexit) already stops the
# pools' workers; this makes the shutdown explicit and waits for the worker process on every interpreter. Forked
# children never run it: multiprocessing ends them with os._exit.
atexit.register(shutdown_pools)


def direct(size, workers):
    if size == 0:
        nothing()
        return START_ANSWER
    return fingerprint(echo(payload(size)))


def thread_start(size, workers):
    _start_only(size)
    thread = threading.Thread(target=nothing)
    thread.start()
    thread.join()
    return ("finished", not thread.is_alive())


def _process_start(method):
    process = multiprocessing.get_context(method).Process(target=nothing)
    process.start()
    process.join()
    exitcode = process.exitcode
    # Release the process's pipe and sentinel now rather than at garbage collection.
    process.close()
    return ("finished", exitcode == 0)


def fork_start(size, workers):
    _start_only(size)
    return _process_start("fork")


def spawn_start(size, workers):
    _start_only(size)
    return _process_start("spawn")


def thread_pool(size, workers):
    _transfer_only(size)
    data = payload(size)
    return fingerprint(_pool("thread").submit(echo, data).result())


def process_pool(size, workers):
    _transfer_only(size)
    data = payload(size)
    return fingerprint(_pool("process").submit(echo, data).result())


VARIANTS = {
    "direct": direct,
    "thread_start": thread_start,
    "fork_start": fork_start,
    "spawn_start": spawn_start,
    "thread_pool": thread_pool,
    "process_pool": process_pool,
}

if __name__ == "__main__":
    main("spawn_costs", VARIANTS, reference="direct")
