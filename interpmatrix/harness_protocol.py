"""What the workload harness (workloads/_harness.py) tells the orchestrator: the prefix of its per-cell progress
lines, and the metadata keys it records on each worker process's run in pyperf's files. The harness never imports
this package, so it spells each name too; tests/test_workloads.py runs it and reads them back by these."""

from __future__ import annotations

# The prefix of the per-cell progress lines a workload script prints (workloads/_harness.py EVENT_PREFIX).
EVENT_PREFIX = "interpmatrix-cell "
ROUND_METADATA = "interpmatrix_round"
GIL_METADATA = "interpmatrix_gil_enabled"
JIT_METADATA = "interpmatrix_jit_enabled"
BINDING_METADATA = "interpmatrix_binding"
# How many small loops a PyPy worker process compiled before its kernel's (workloads/_code_layout.py).
CODE_SHIFT_METADATA = "interpmatrix_code_shift"
# A memory cell's calls in each worker process, each started from a collected heap (workloads/_harness.py
# MEMORY_CALLS); absent from runs measured before memory cells did so.
MEMORY_CALLS_METADATA = "interpmatrix_memory_calls"
# Seconds of the harness's machine-state probe in a worker process (MachineProbe), and of the same probe on two
# threads at once, which a cell on several workers records too (MachinePairProbe).
PROBE_METADATA = "interpmatrix_machine_probe"
PAIR_PROBE_METADATA = "interpmatrix_machine_probe_pair"
# What the probe's crc32 read: "mmap" (CPython) or "bytes" (PyPy, whose zlib copies a mapping through its own allocator
# on every call; workloads/_harness.py probe_buffer). Absent from runs measured before it was recorded.
PROBE_BUFFER_METADATA = "interpmatrix_probe_buffer"
# The pair probe's work against the one-core probe's: crc32 over 4 MiB on each of two threads against 1 MiB on one
# (workloads/_harness.py PAIR_PROBE_SIZE and PROBE_SIZE). A process's one-core seconds times this over its pair
# seconds is how much faster the machine ran two threads than one: 2.0 with both cores free, 1.0 with one.
PAIR_PROBE_WORK = 8
