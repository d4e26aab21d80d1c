"""On PyPy, the small loops a worker compiles first move where the JIT places the kernel's machine code.

Run in each bare PyPy present (workloads/_code_layout.py needs nothing else): every count of small loops in a fresh
process, then countdown's loop, whose machine code's start ``pypyjit.set_compile_hook`` reports. Without the shift,
every process would place it alike (the harness's worker did: every default run named PyPy 3.9 ahead of PyPy 3.11 on
countdown by about 1.9x, a layout of the loop's code rather than the interpreter's speed).
"""

from __future__ import annotations

import subprocess
from collections import Counter

import pytest

from interpmatrix import discovery, selection
from interpmatrix.registry import WORKLOADS_DIR

PYPYS = [
    interpreter for interpreter in selection.default_selection(discovery.discover())
    if interpreter.implementation == "pypy" and interpreter.supported
]  # fmt: skip

# In a fresh process: ``count`` small loops, then countdown's, and where countdown's machine code starts, mod 64 (the
# width of a cache line, and of the block x86 cores fetch and cache decoded instructions by).
WHERE_THE_LOOP_STARTS = r"""
import sys
import pypyjit
import _code_layout
from _portable import countdown
starts = []
pypyjit.set_compile_hook(lambda info: starts.append((str(info.greenkey), info.asmaddr)))
_code_layout.compile_loops(int(sys.argv[1]))
countdown(20000)
(start,) = [address for key, address in starts if "countdown" in key]
print(start % 64)
"""


@pytest.mark.skipif(not PYPYS, reason="no PyPy on this machine")
@pytest.mark.parametrize("interpreter", PYPYS, ids=lambda interpreter: interpreter.id)
def test_the_loops_compiled_first_spread_the_kernels_machine_code_over_alignments(interpreter) -> None:
    counts = subprocess.run(
        [interpreter.executable, "-c", "import _code_layout; print(_code_layout.SHIFTS)"],
        capture_output=True, text=True, timeout=60, cwd=WORKLOADS_DIR, check=True,
    ).stdout  # fmt: skip
    starts = []
    for count in range(int(counts)):
        done = subprocess.run(
            [interpreter.executable, "-c", WHERE_THE_LOOP_STARTS, str(count)],
            capture_output=True, text=True, timeout=60, cwd=WORKLOADS_DIR,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
        starts.append(int(done.stdout))
    # PyPy starts a loop's code at 16 or 32 bytes' alignment: two to four places in 64 bytes. The counts reach more
    # than one of them, and none takes more than half of the counts (on both PyPys here each took four of 16).
    spread = Counter(starts)
    assert len(spread) >= 2, starts
    assert max(spread.values()) <= len(starts) // 2, starts
