"""The seed's concurrent.futures example: trial-division primality of a few big numbers, on thread and process pools.

Claims tested:

- Seed 002 ("Velocidade", Concurrent.futures): "use a ThreadPoolExecutor when the task being executed involves a lot
  of blocking (i.e. making requests over the network) and use a ProcessPoolExecutor when the task is computationally
  expensive", because of the GIL. Here the task is computationally expensive (the seed's own ``is_prime`` over its
  ``PRIMES`` list), so threads should not beat the serial loop on a GIL build and processes should, once the work
  outweighs starting the pool. Free-threaded CPython (3.13t) is where the threads' half of the rule can fail.

Variants (all check the same list of numbers; the answer is ``[(n, is_prime), ...]`` in input order):

- ``serial``: ``[is_prime(n) for n in numbers]`` in the calling thread, the pure-Python reference.
- ``threads``: ``list(pool.map(is_prime, numbers))`` on a ``ThreadPoolExecutor(max_workers=workers)`` created and
  shut down inside the timed call, like the seed's ``with`` block.
- ``processes``: the same on a ``ProcessPoolExecutor(max_workers=workers)`` with the fork start method, created and
  shut down inside the timed call: starting the pool is part of what the seed's rule costs. Fork is fixed so every
  interpreter pays the same kind of start-up (3.14 changed the Linux default to forkserver), as in countdown.py.
- ``pp_local``: the same calls as ParallelPython jobs (seed 003 names it) on a local ``pp.Server`` of ``workers``
  worker processes, started and destroyed inside the timed call like the process pool. pp ships ``is_prime`` by its
  source and starts each worker as a fresh interpreter (``python -m pp._worker``), where the pool forks.
- ``pp_server``: seed 003's "spread work over machines", in miniature: the timed call starts a ``ppserver`` with
  ``workers`` workers listening on 127.0.0.1 only, at a port the system picks, with a random secret; a pp.Server
  without local workers sends it every job over TCP; then the call stops the server (its own SIGTERM handling
  destroys its workers) and waits for it, so nothing is left behind: no process, no listening socket
  (``tests/test_pp.py`` checks). Against ``pp_local`` at the same ``workers`` it shows what the network hop and the
  server's start cost.

pp (``PP``, Python 3.10+) is installed per interpreter by the ``bench`` session (the registry's requirements,
``workloads/_packages.py``); where pip cannot install it, the pp cells say why in pip's words.

Sizes: the size is ``scale``, and the numbers checked are the seed's list scaled down by ``10**scale``. The seed's list
as it stands (scale 0) takes about 3.2 s per serial pass on CPython 3.12 here: four primes near 1.1e14 (about 5.3
million trial divisions each) and the composite 1099726899285419 = 3306091 * 332636609, which trial division gives up
on a tenth of the way to its square root (about 1.65 million divisions). That is too long for the matrix's time
budget, so each number ``n`` is replaced by one of the same primality near ``m = n // 10**scale``:

- a prime by the next prime at or above ``m``, as the seed's own ``is_prime`` finds it;
- the composite by the product of two primes scaled like its factors: ``p'`` the next prime at or above
  ``sqrt(p*p // 10**scale)`` and ``q'`` the next prime at or above ``m / p'``. It is at or just above ``m`` and its
  smallest factor sits the same tenth of the way to its square root, so it costs the same share of the pass as in
  the seed (any composite with a large smallest factor would do; this one keeps the seed's proportions).

Scale 0 is the seed's list exactly, duplicate included (the duplicate maps to the same number, so it stays a
duplicate). Numbers never go below 3 (``is_prime`` says 1 is prime and 2 is not), which only matters at absurd scales.
The matrix's size ``DEFAULT_SCALE = 3`` gives numbers near 1.1e11 (primes) and 1.1e12 (the composite), about 1/32 of
the seed's work: 112272535099, 112582705987, 112272535099 again, 115280095211, 115797848083 and
1099727198377 = 104549 * 10518773. That is roughly 100 ms per serial pass on CPython 3.12 here (each prime about
18 ms, the composite about 5 ms, each a task of its own), long enough for a pool of 2 or 4 processes to pay for its
start-up (a few ms per forked worker) where there are cores to run them. The scaled list is computed once per
process and scale, by the first call (about one more pass): in the harness's main process that is the answer check,
in each pyperf worker process a warm-up (every profile runs at least one), so no timed value pays for it.

The answer checked before timing: the list of ``(n, is_prime(n))`` pairs, in the list's order, for every variant.
"""

import contextlib
import math
import multiprocessing
import os
import re
import secrets
import subprocess
import sys
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor

from _harness import main, peak_memory
from _packages import needs

DEFAULT_SCALE = 3

# The agreement check's sizes (tests): numbers near 1e8, a few ms per pass.
SMALL_SIZES = (6,)


# The seed's function and list, unchanged. (is_prime calls 2 composite and 1 prime; the seed's list has neither.)
def is_prime(n):
    if n % 2 == 0:
        return n, False

    sqrt_n = int(n**0.5)
    for i in range(3, sqrt_n + 1, 2):
        if n % i == 0:
            return n, False
    return n, True


PRIMES = [
    112272535095293,
    112582705942171,
    112272535095293,
    115280095190773,
    115797848077099,
    1099726899285419]

# The smallest factor of each composite in PRIMES (found once by is_prime's own loop; checked below), so that scaling
# does not have to factor a 1e15 number again: 1099726899285419 = 3306091 * 332636609.
SMALLEST_FACTORS = {1099726899285419: 3306091}
assert all(n % p == 0 for n, p in SMALLEST_FACTORS.items())

# Numbers below this are not scaled further (is_prime(1) is True, is_prime(2) is False).
FLOOR = 3


def next_prime(m):
    """The first number at or above ``m`` (and FLOOR) that the seed's ``is_prime`` calls prime."""
    n = max(m, FLOOR)
    while not is_prime(n)[1]:
        n += 1
    return n


def scaled_number(n, scale):
    """A number of the same primality as ``n`` near ``n // 10**scale`` (see the module docstring)."""
    if scale == 0:
        return n
    m = n // 10**scale
    factor = SMALLEST_FACTORS.get(n)
    if factor is None:
        return next_prime(m)
    small = next_prime(math.isqrt(factor * factor // 10**scale))
    large = next_prime(max(-(-m // small), small))
    return small * large


_SCALED = {}


def numbers(scale):
    """The seed's PRIMES scaled by ``10**scale``, computed once per process and scale."""
    found = _SCALED.get(scale)
    if found is None:
        found = _SCALED[scale] = [scaled_number(n, scale) for n in PRIMES]
    return found


def serial(scale, workers):
    return [is_prime(n) for n in numbers(scale)]


def threads(scale, workers):
    checked = numbers(scale)
    with ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(is_prime, checked))


def processes(scale, workers):
    checked = numbers(scale)
    with ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("fork")) as pool:
        return list(pool.map(is_prime, checked))


# ParallelPython, pinned as the registry's requirement: the release these variants were written against.
PP = "pp==1.7.0"
# Where the pp server listens: loopback only, so the "other machine" is this one and no other can reach it.
LOOPBACK = "127.0.0.1"
# Seconds the server gets to exit after SIGTERM before it is killed.
STOP_TIMEOUT = 10.0


def _uses_pp(kernel):
    """Mark a variant as needing pp, installed per interpreter; its cell says pip's reason where it could not be."""
    kernel.requirements = (PP,)
    return needs("pp")(kernel)


def _pp_server(**options):
    """A ``pp.Server(**options)``, this process's environment left as it was.

    pp.Server puts the current folder and sys.path into ``os.environ["PYTHONPATH"]`` for the workers it starts; left
    there, it would reach every process this one starts later (pyperf's workers, the next cells'). The constructor
    starts its local workers itself (they import only pp), so restoring the variable afterwards takes nothing from
    them."""
    import pp

    saved = os.environ.get("PYTHONPATH")
    try:
        return pp.Server(**options)
    finally:
        if saved is None:
            os.environ.pop("PYTHONPATH", None)
        else:
            os.environ["PYTHONPATH"] = saved


def _on_pp(server, checked):
    """``is_prime`` of each of ``checked`` as a pp job of ``server``, which is destroyed afterwards (its workers killed
    and its connections closed). A job that raised answers None: the answer check sees it."""
    try:
        jobs = [server.submit(is_prime, (n,)) for n in checked]
        return [job() for job in jobs]
    finally:
        server.destroy()


def _listening_port(server):
    """The port a starting ppserver says it listens on ("Listening on 127.0.0.1:PORT with N worker(s) (pid P)"), or
    RuntimeError with its last line when it exits first."""
    said = []
    for line in server.stdout:
        match = re.match(r"Listening on [^ ]+:(\d+) ", line)
        if match:
            return int(match.group(1))
        if line.strip():
            said.append(line.strip())
    raise RuntimeError("ppserver exited (status %s) before listening: %s" % (server.wait(), (said or ["no output"])[-1]))


def _stop(server):
    """Stop a ppserver and wait for it. SIGTERM makes it leave its accept loop and destroy its workers (killed and
    waited for); one that has not exited in STOP_TIMEOUT is killed, and its workers end at their pipes' end."""
    if server.poll() is None:
        server.terminate()
    try:
        server.communicate(timeout=STOP_TIMEOUT)
    except subprocess.TimeoutExpired:
        server.kill()
        server.communicate()


@contextlib.contextmanager
def loopback_ppserver(workers):
    """A ppserver of ``workers`` workers on LOOPBACK for the block, at a port the system picks; yields its
    ``host:port`` and secret, and stops it when the block ends, however it ends."""
    secret = secrets.token_hex(16)
    # The secret goes through the environment (pp reads PP_SECRET), not the command line, which /proc shows to all.
    environment = dict(os.environ, PP_SECRET=secret)
    command = [sys.executable, "-m", "pp.cli", "-i", LOOPBACK, "-p", "0", "-w", str(workers)]
    server = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                              env=environment, universal_newlines=True)
    try:
        yield "%s:%d" % (LOOPBACK, _listening_port(server)), secret
    finally:
        _stop(server)


@_uses_pp
def pp_local(scale, workers):
    checked = numbers(scale)
    return _on_pp(_pp_server(ncpus=workers), checked)


@_uses_pp
def pp_server(scale, workers):
    checked = numbers(scale)
    with loopback_ppserver(workers) as (address, secret):
        return _on_pp(_pp_server(ncpus=0, ppservers=(address,), secret=secret), checked)


VARIANTS = {
    "serial": serial,
    "threads": threads,
    "processes": processes,
    "pp_local": pp_local,
    "pp_server": pp_server,
    "serial_memory": peak_memory(serial),
}

if __name__ == "__main__":
    main("pools", VARIANTS, reference="serial")
