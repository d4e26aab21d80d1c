"""A workload whose memory variant records, in each pyperf worker process, every call it gets and whether the
garbage the call before it left was already collected: only tests/test_measure.py uses it, to show how the harness
calls a memory cell's kernel.

Each call in a worker process ("--worker" among its arguments) appends a line to the file named by
INTERPMATRIX_TEST_CALLS: the process id, then "first" for the process's first call, "collected" when the reference
cycle the call before it left was freed before this call began, "pending" when it was not.
"""

import os
import sys
import weakref

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "workloads"))

from _harness import main, peak_memory  # noqa: E402


class Cyclic(object):
    """An object in a reference cycle with itself: only the cycle collector frees it."""

    def __init__(self):
        self.me = self


# A weak reference to the cycle the last call left (None before the first call of a process).
_left = [None]


def cycle(size, workers):
    if "--worker" in sys.argv:
        previous = _left[0]
        state = "first" if previous is None else ("collected" if previous() is None else "pending")
        with open(os.environ["INTERPMATRIX_TEST_CALLS"], "a") as calls:
            calls.write("%d %s\n" % (os.getpid(), state))
    garbage = Cyclic()
    _left[0] = weakref.ref(garbage)
    return size


if __name__ == "__main__":
    if "--worker" not in sys.argv:
        # pyperf starts its worker processes with a short list of variables: the file's name must reach them.
        sys.argv.append("--inherit-environ=INTERPMATRIX_TEST_CALLS")
    main("collected", {"cycle": cycle, "cycle_memory": peak_memory(cycle)}, reference="cycle")
