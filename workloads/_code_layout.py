"""A random start for PyPy's machine code in each worker process, so that a cell's processes sample code layouts.

PyPy's JIT writes each loop's machine code right after the code it compiled before, so where a kernel's loop lands,
and with it how fast it runs, depends on everything the process compiled first. Measured on the project's machine
(2026-12-03, a quiet hour, 30 processes per interpreter, the loop's start read with ``pypyjit.set_compile_hook``):
countdown's loop on PyPy 3.11 ran at 0.87-1.38 ms where its code started at 43 mod 64 and at 1.14-2.2 ms at 11 mod
64; PyPy 3.9's at 0.86-1.5 ms at 11 or 27 mod 64 and at 1.12-2.2 ms at 43 or 59. The harness's worker compiles the
same code in the same order every time, so the loop landed at the same place in nearly every process: over 40
interleaved processes of the real worker, PyPy 3.9 ran countdown at a median 0.88 ms and PyPy 3.11 at 1.69 ms, and
every default run named PyPy 3.9 ahead by about 1.9x, while a timeit script, with a layout of its own, put the two at
1.17 and 1.18 ms. Fresh processes alone cannot show such a bias: they all share it.

So a worker process on PyPy first compiles a random number of small loops (``shift``), as Stabilizer (Curtsinger and
Berger, 2013) randomizes a C program's layout: each process's kernel starts at one of the alignments, the spread
between processes includes the layout's part, and the report's intervals, taken over processes, cover it. The loops
grow by one operation each, up to four, so that their lengths differ: over ``SHIFTS`` counts, countdown's loop took
each of the four starts mod 64 four times on both PyPys here. It costs 10-30 ms a process.

CPython's own JIT is not shifted, because there is nothing to shift: it gives every trace it compiles pages of its own
(``jit_alloc`` in CPython's Python/jit.c maps whole pages for each executor), so a kernel's trace starts at the start
of a page whatever the process compiled before, in the harness's worker as in a user's script. Its layout is the
build's, the same in every process, and part of what the matrix compares. Checked here (2026-12-04, a busy hour): with
0 to 7 other hot loops compiled first, 5 processes each, countdown's speed on Debian's 3.14 and 3.15 with the JIT on
varied between the counts no more than their processes did within one (variance of the 8 means 2.6 ms² on 3.15, 16.3
on 3.14, against 5.8 and 12.2 expected from within). Runtimes without pyperf never import this module.
"""

import random

# How many small loops a process may compile first: 0 to SHIFTS - 1, each count equally likely.
SHIFTS = 16

# Iterations of each small loop: past PyPy's threshold for compiling a loop (1,039 iterations by default).
ITERATIONS = 3000

# The small loops' source: ``operations`` lines of the same kind, so that each compiles to machine code of its own
# length. Each is compiled from its own source, so that the JIT compiles it as a loop of its own.
LOOP_SOURCE = "def loop(n):\n    s = 0\n    while n > 0:\n%s        n -= 1\n    return s\n"
OPERATION = "        s += n %% %d\n"


def compile_loops(count):
    """Run ``count`` small loops, each of its own code, long enough for a JIT to compile it."""
    for index in range(count):
        operations = "".join(OPERATION % (divisor + 2) for divisor in range(index % 4 + 1))
        namespace = {}
        exec(LOOP_SOURCE % operations, namespace)
        namespace["loop"](ITERATIONS)


def shift():
    """Compile a random number of small loops, and return that number (for the run's metadata)."""
    count = random.randrange(SHIFTS)
    compile_loops(count)
    return count
