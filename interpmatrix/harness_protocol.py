"""What the workload harness (workloads/_harness.py) tells the orchestrator: the prefix of its per-cell progress
lines, and the metadata keys it records on each worker process's run in pyperf's files. The harness never imports
this package, so it spells each name too; tests/test_workloads.py runs it and reads them back by these."""

from __future__ import annotations

# The prefix of the per-cell progress lines a workload script prints (workloads/_harness.py EVENT_PREFIX).
EVENT_PREFIX = "interpmatrix-cell "
ROUND_METADATA = "interpmatrix_round"
# The variable that names the interpreter a workload runs its peer processes on (io_threads' server): the
# orchestrator's, in every step's environment and handed on to pyperf's workers (workloads/_harness.py peer_python).
PEER_PYTHON_ENV = "INTERPMATRIX_PEER_PYTHON"
GIL_METADATA = "interpmatrix_gil_enabled"
JIT_METADATA = "interpmatrix_jit_enabled"
BINDING_METADATA = "interpmatrix_binding"
# How many small loops a PyPy worker process compiled before its kernel's (workloads/_code_layout.py).
CODE_SHIFT_METADATA = "interpmatrix_code_shift"
# A memory cell's calls in each worker process, each started from a collected heap (workloads/_harness.py
# MEMORY_CALLS); absent from runs measured before memory cells did so.
MEMORY_CALLS_METADATA = "interpmatrix_memory_calls"
# Seconds of the harness's machine-state probe in a worker process (MachineProbe).
PROBE_METADATA = "interpmatrix_machine_probe"
# Mean seconds of the parallelism probe on one thread, and on each of two threads at once, timed twice each in each
# CPython worker process of a cell on several workers (MachineParallelism): twice the first over the second is how
# much faster the machine ran two threads than one, 2.0 with both cores free and 1.0 with one. Runs measured before
# 2026-12-05's afternoon recorded instead crc32 over 4 MiB on two threads around each value
# ("interpmatrix_machine_probe_pair"), which read memory bandwidth, not the second core; it is not read.
PARALLELISM_ONE_METADATA = "interpmatrix_parallelism_one"
PARALLELISM_TWO_METADATA = "interpmatrix_parallelism_two"
# What the probe timed, recorded beside its figures: PARALLELISM_PROBE, PBKDF2-HMAC-SHA256 of
# PARALLELISM_PROBE_ITERATIONS iterations on each thread, as the Method section says. Absent from runs measured before
# it was recorded, which hashed one buffer of SHARED_BUFFER_PROBE_SIZE bytes with sha256 on both threads (and read
# more than two cores can give where that ran fast enough to wait on memory: workloads/_harness.py).
PARALLELISM_PROBE_METADATA = "interpmatrix_parallelism_probe"
PARALLELISM_PROBE = "pbkdf2"
PARALLELISM_PROBE_ITERATIONS = 60000
SHARED_BUFFER_PROBE_SIZE = 12 * 1024 * 1024
# What the probe's crc32 read: "mmap" (CPython) or "bytes" (PyPy, whose zlib copies a mapping through its own allocator
# on every call; workloads/_harness.py probe_buffer). Absent from runs measured before it was recorded.
PROBE_BUFFER_METADATA = "interpmatrix_probe_buffer"
