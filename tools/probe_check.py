"""Does a C-level probe in a worker process tell the machine state that slows a Python kernel in that same process?

    python3 tools/probe_check.py PYTHON SECONDS

Starts fresh processes of PYTHON one after another for SECONDS. Each times a probe that does not depend on the
interpreter's own speed (zlib.crc32 over 8 MiB, twice, six times around the kernel) and a pure-Python kernel
(countdown(1_000_000), three times), and prints the mean of each. Then: how closely the two follow each other from
process to process (the correlation of their logs over their medians), and the kernel's spread between processes
before and after dividing by the probe. On a shared host whose processes run at two speeds, a high correlation means a
probe in every pyperf worker could tell the processes the machine slowed.
"""

from __future__ import annotations

import json
import math
import statistics
import subprocess
import sys
import time

# Run in each fresh process: the probe and the kernel, each warmed once, the probe around the kernel's calls.
WORKER = r"""
import json, time, zlib
buf = bytes(range(256)) * (8 * 4096)
def probe():
    t = time.perf_counter(); zlib.crc32(buf); zlib.crc32(buf); return time.perf_counter() - t
def countdown(n):
    while n > 0: n -= 1
def kernel():
    t = time.perf_counter(); countdown(1_000_000); return time.perf_counter() - t
kernel(); probe()
p = [probe() for _ in range(3)]; k = [kernel() for _ in range(3)]; p += [probe() for _ in range(3)]
print(json.dumps([sum(p) / len(p), sum(k) / len(k)]))
"""


def spread(ratios: list[float]) -> float:
    """p90 over p10."""
    ordered = sorted(ratios)
    return ordered[int(0.9 * len(ordered))] / ordered[int(0.1 * len(ordered))]


def main() -> int:
    python, seconds = sys.argv[1], float(sys.argv[2])
    pairs = []
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        pairs.append(json.loads(subprocess.run([python, "-c", WORKER], capture_output=True, text=True, check=True).stdout))
    probe_median = statistics.median(p for p, _ in pairs)
    kernel_median = statistics.median(k for _, k in pairs)
    probe = [math.log(p / probe_median) for p, _ in pairs]
    kernel = [math.log(k / kernel_median) for _, k in pairs]
    slow_kernel = {i for i, x in enumerate(kernel) if x > math.log(1.3)}
    slow_probe = {i for i, x in enumerate(probe) if x > math.log(1.3)}
    print(f"{len(pairs)} processes; kernel max/min {math.exp(max(kernel) - min(kernel)):.2f}, "
          f"probe max/min {math.exp(max(probe) - min(probe)):.2f}")
    print(f"correlation of log(probe/median) with log(kernel/median): {statistics.correlation(probe, kernel):.2f}")
    print(f"kernel above 1.3x its median in {len(slow_kernel)} processes, probe in {len(slow_probe)}, both in "
          f"{len(slow_kernel & slow_probe)}")
    adjusted = [math.exp(k - p) for p, k in zip(probe, kernel)]
    print(f"kernel spread (p90/p10): raw {spread([math.exp(k) for k in kernel]):.2f}, "
          f"divided by the probe {spread(adjusted):.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
