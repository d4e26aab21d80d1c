"""A workload that fails on purpose, one way per variant: only the tests use it.

It shows that a crash, a hang, an exception or a wrong answer in one cell is reported in that cell, while the other
cells run and keep their results.
"""

import ctypes
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "workloads"))

from _harness import main  # noqa: E402


def ok(size, workers):
    return sum(range(size))


def wrong(size, workers):
    return sum(range(size)) + 1


def raises(size, workers):
    raise ValueError("this variant always raises")


def crash(size, workers):
    ctypes.string_at(0)  # a segfault in pyperf's main process, during the answer check


def crash_in_worker(size, workers):
    # Right in the check (main process), then a segfault once pyperf's worker process times it.
    if "--worker" in sys.argv:
        ctypes.string_at(0)
    return ok(size, workers)


def hang(size, workers):
    time.sleep(3600)


VARIANTS = {
    "ok": ok,
    "wrong": wrong,
    "raises": raises,
    "crash": crash,
    "crash_in_worker": crash_in_worker,
    "hang": hang,
}

if __name__ == "__main__":
    main("faults", VARIANTS, reference="ok")
