"""Start-up: how long an interpreter takes to start and reach a script's first line, and to import what it needs.

Claim tested:

- Seed 004 ("CPython, Grumpy, PyPy"): PyPy's speed comes from a JIT, which a short script never lets warm up, and
  PyPy starts more slowly than CPython. Whether a JIT pays off for a script depends on how long the script runs
  against this fixed cost, so the report sets these figures beside every speed-up (its verdict and warm-up table).

Each variant is a pyperf command benchmark (``Runner.bench_command``): pyperf's worker starts the command ``loops``
times and reports the wall time per start, the way ``python -m pyperf command`` does. The command is the venv's own
interpreter (``sys.executable``), as a user's ``python script.py`` in that venv would start:

- ``bare``: ``python -c pass``, the reference: interpreter start-up and ``site``, nothing else.
- ``import_asyncio``: ``python -c "import asyncio"``: a large standard-library package (the I/O workload's).
- ``import_numpy``: ``python -c "import numpy"``: the numeric workload's package, where it installs (on PyPy it
  loads through cpyext).

``size`` is unused (the matrix measures at 0). The answer checked before timing is the command's exit status: 0.
"""

from _harness import main, python_command
from _packages import needs

DEFAULT_SIZE = 0

SMALL_SIZES = (0,)


VARIANTS = {
    "bare": python_command("pass"),
    "import_asyncio": python_command("import asyncio"),
    "import_numpy": needs("numpy")(python_command("import numpy")),
}

if __name__ == "__main__":
    main("startup", VARIANTS, reference="bare")
