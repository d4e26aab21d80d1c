"""A workload whose kernel makes three 8 MiB blocks a call and frees them, the pattern of numpy's expression in
workloads/numeric.py: only tests/test_workloads.py uses it, to show that ``main(hold_heap=True)`` keeps glibc from
giving such blocks back between calls in the time cells' worker processes, and leaves a memory cell's alone.

Each call in a worker process ("--worker" among its arguments) appends a line to the file named by
INTERPMATRIX_TEST_HEAP: the process id, the minor page faults the call took (``getrusage``), and whether the process
was started with GLIBC_TUNABLES set. ``--hold-heap`` on the command line (taken off before pyperf reads it) runs the
workload with ``hold_heap=True``.
"""

import os
import resource
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "workloads"))

from _harness import main, peak_memory  # noqa: E402

BLOCK = 8 * 1024 * 1024
# Set when the process starts: what glibc read, whatever the harness sets later in its main process.
TUNED = "GLIBC_TUNABLES" in os.environ


def churn(size, workers):
    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    # Filled, not zeroed, so that every page of each block is written: calloc may skip fresh pages.
    blocks = [b"\x01" * BLOCK for _ in range(3)]
    total = sum(len(block) for block in blocks)
    del blocks
    if "--worker" in sys.argv:
        faults = resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before
        with open(os.environ["INTERPMATRIX_TEST_HEAP"], "a") as calls:
            calls.write("%d %d %d\n" % (os.getpid(), faults, TUNED))
    return total + size


if __name__ == "__main__":
    hold = "--hold-heap" in sys.argv
    if hold:
        sys.argv.remove("--hold-heap")
    if "--worker" not in sys.argv:
        # pyperf starts its worker processes with a short list of variables: the file's name must reach them.
        sys.argv.append("--inherit-environ=INTERPMATRIX_TEST_HEAP")
    main("heap", {"churn": churn, "churn_memory": peak_memory(churn)}, reference="churn", hold_heap=hold)
