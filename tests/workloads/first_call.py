"""A workload whose first call in a process does what the later ones skip: only tests/test_workloads.py uses it, to
show that the harness's loop count comes from warm calls, never from the answer check's call.

``once``: the first call in a process sleeps 0.1 s (spawn_costs builds its 10 MB payload on its first call, numpy sets
itself up), every later one only adds ten numbers. ``cold``: every call that starts within 0.04 s of the process's
first sleeps 0.01 s, the later ones only add: a JIT's first calls, interpreted or compiling, run slower for a while.
"""

import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "workloads"))

from _harness import main  # noqa: E402

FIRST_CALL = []


def once(size, workers):
    if not FIRST_CALL:
        FIRST_CALL.append(time.monotonic())
        time.sleep(0.1)
    return sum(range(size))


def cold(size, workers):
    if not FIRST_CALL:
        FIRST_CALL.append(time.monotonic())
    if time.monotonic() - FIRST_CALL[0] < 0.04:
        time.sleep(0.01)
    return sum(range(size))


VARIANTS = {"once": once, "cold": cold}

if __name__ == "__main__":
    main("first_call", VARIANTS, reference="once", expected=lambda size: sum(range(size)))
