"""A workload whose kernels count their calls in pyperf's main process: only tests/test_measure.py uses it, to show
what the answer check and the loop calibration cost there.

Each call in the main process (no "--worker" among its arguments) appends a line to the file named by
INTERPMATRIX_TEST_CALLS: the cell's variant. pyperf's worker processes only time, and do not count.
"""

import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "workloads"))

from _harness import main  # noqa: E402


def _counted(variant, seconds):
    def kernel(size, workers):
        if "--worker" not in sys.argv:
            with open(os.environ["INTERPMATRIX_TEST_CALLS"], "a") as calls:
                calls.write(variant + "\n")
        time.sleep(seconds)
        return size

    return kernel


if __name__ == "__main__":
    # 50 ms a call: more than twice the profile's min_time (0.02 s); "quick" takes 1 ms, so it needs loops.
    main("counted", {"slow": _counted("slow", 0.05), "other": _counted("other", 0.05),
                     "quick": _counted("quick", 0.001)}, reference="slow")
