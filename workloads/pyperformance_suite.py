"""The standard benchmark suite beside the seeds' workloads: fifteen pure-Python benchmarks of pyperformance.

No seed names this suite: it stands beside the seeds' workloads so that a reader can hold the matrix against the
figures published for it (PyPy's on speed.pypy.org, CPython's JIT and free-threaded
builds in What's New; ``interpmatrix/questions.py`` ``PUBLISHED_FIGURES``). The claim it tests is theirs.

The benchmarks' code is pyperformance's own, never a copy: ``REQUIREMENT`` is installed in every interpreter's venv
(the registry's requirements, ``_packages.py``) and each benchmark's module is loaded by path from the installed
package's data files, ``pyperformance/data-files/benchmarks/bm_<name>/run_benchmark.py``. Its ``__main__`` block, and
so its pyperf Runner, never runs: ``ADAPTERS`` says for each benchmark which of its functions, with which arguments,
does what that block hands pyperf, at pyperformance's default size. Two kinds, as pyperf has them:

- ``BENCH_FUNC`` (pyperf's ``bench_func``): one call is one iteration; the harness times ``loops`` calls.
- ``BENCH_TIME_FUNC`` (pyperf's ``bench_time_func``): the function times ``loops`` iterations itself, its set-up
  outside its clock (generators builds its tree first), and returns the seconds; the harness takes them as the
  kernel's ``time_func``, so a value measures what pyperformance's does. (unpack_sequence's ``inner_loops=400`` only
  divides pyperformance's reported value by 400: ratios between interpreters are the same.)

Variants: one per benchmark (``ADAPTERS``' keys), each one iteration per call (``DEFAULT_ITERATIONS``). Each runs
what the interpreter runs: no compiled twin, and on CPython json_dumps and regex_v8 spend their time in C (``_json``,
``_sre``), as they do in pyperformance.

The answer checked before timing: none is compared across benchmarks, which compute different things (``expected``
is None for all). Each benchmark is checked by running one iteration before it is timed, in the same process: the
checks pyperformance's code makes itself (hexiom compares its solution, deltablue raises on a failed constraint test,
generators asserts its tree's order) fail the cell, as does any exception, with its reason. Where pyperformance cannot
be installed, every cell says why in pip's words. (Its runner needs Python 3.10, its benchmark files do not:
``_packages.PIP_OPTIONS`` installs the files alone on 3.9 too.)
"""

import argparse
import importlib.util
import os
import sys

import _packages
from _harness import CellFailed, main

# The newest pyperformance on PyPI when the suite was added; its benchmarks' code is what every interpreter runs.
REQUIREMENT = "pyperformance==1.14.0"

# Iterations of the benchmark per call: one, at pyperformance's default size.
DEFAULT_ITERATIONS = 1

# The sizes tests/test_workloads.py checks every variant at, in every interpreter (where pyperformance is installed).
SMALL_SIZES = (1,)

# What every benchmark answers once its iteration ran: the suite's benchmarks compute different things, so nothing
# is compared across them (see the module's docstring).
ANSWER = None

BENCH_FUNC = "bench_func"
BENCH_TIME_FUNC = "bench_time_func"


class _Recorder:
    """Stands in for pyperf's Runner where a benchmark builds its inputs in the function that hands them to the
    runner (chaos's ``main(runner, args)`` makes its splines there): it records the call instead of timing it."""

    def __init__(self):
        self.metadata = {}
        self.call = None

    def bench_func(self, name, function, *args):
        self.call = (function, args)


def _chaos(module):
    recorder = _Recorder()
    defaults = argparse.Namespace(
        thickness=module.DEFAULT_THICKNESS,
        width=module.DEFAULT_WIDTH,
        height=module.DEFAULT_HEIGHT,
        iterations=module.DEFAULT_ITERATIONS,
        rng_seed=module.DEFAULT_RNG_SEED,
        filename=None,
    )
    module.main(recorder, defaults)
    return recorder.call


def _json_cases(module):
    # What json_dumps' main() builds from its default cases (all of CASES) before handing them to bench_func.
    return [(obj, range(count)) for obj, count in (getattr(module, case) for case in module.CASES)]


# Benchmark -> (how its __main__ block hands it to pyperf, the call at pyperformance's defaults). Defaults the module
# names are read from it; the literals are those its __main__ block sets without a name (deltablue's n = 100, nqueens'
# queen_count = 8, richards' run(1)), which tests/test_standard_suite.py holds against that block's text.
ADAPTERS = {
    "chaos": (BENCH_FUNC, _chaos),
    "deltablue": (BENCH_FUNC, lambda m: (m.delta_blue, (100,))),
    "fannkuch": (BENCH_FUNC, lambda m: (m.fannkuch, (m.DEFAULT_ARG,))),
    "float": (BENCH_FUNC, lambda m: (m.benchmark, (m.POINTS,))),
    "generators": (BENCH_TIME_FUNC, lambda m: (m.bench_generators, ())),
    "go": (BENCH_FUNC, lambda m: (m.versus_cpu, ())),
    "hexiom": (BENCH_TIME_FUNC, lambda m: (m.main, (m.DEFAULT_LEVEL,))),
    "json_dumps": (BENCH_FUNC, lambda m: (m.bench_json_dumps, (_json_cases(m),))),
    "nbody": (BENCH_TIME_FUNC, lambda m: (m.bench_nbody, (m.DEFAULT_REFERENCE, m.DEFAULT_ITERATIONS))),
    "nqueens": (BENCH_FUNC, lambda m: (m.bench_n_queens, (8,))),
    "raytrace": (BENCH_TIME_FUNC, lambda m: (m.bench_raytrace, (m.DEFAULT_WIDTH, m.DEFAULT_HEIGHT, None))),
    "regex_v8": (BENCH_TIME_FUNC, lambda m: (m.bench_regex_v8, ())),
    "richards": (BENCH_FUNC, lambda m: (m.Richards().run, (1,))),
    "spectral_norm": (BENCH_TIME_FUNC, lambda m: (m.bench_spectral_norm, ())),
    "unpack_sequence": (BENCH_TIME_FUNC, lambda m: (m.bench_all, ())),
}


def benchmark_path(name):
    """The installed pyperformance's own script of benchmark ``name``."""
    import pyperformance

    return os.path.join(pyperformance.DATA_DIR, "benchmarks", "bm_" + name, "run_benchmark.py")


def load(name):
    """The benchmark's module, loaded once per process from the installed package (not as ``__main__``: its Runner
    stays unstarted). Registered in sys.modules under its folder's name, as pyperformance's runs import it."""
    module_name = "bm_" + name
    if module_name in sys.modules:
        return sys.modules[module_name]
    spec = importlib.util.spec_from_file_location(module_name, benchmark_path(name))
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[module_name]
        raise
    return module


def _variant(name):
    kind, call = ADAPTERS[name]
    found = {}

    def prepare():
        # Outside every timing: loading the module and building the benchmark's inputs (chaos's splines, json's
        # cases, a Richards instance) is what pyperformance does before its Runner starts, too.
        if found:
            return
        try:
            found["call"] = call(load(name))
        except Exception as error:  # whatever the benchmark raises fails the cell, with its reason
            reason = f"pyperformance's {name} did not load: {type(error).__name__}: {error}"
            raise CellFailed("error", reason) from error

    def variant(size, workers):
        prepare()
        function, args = found["call"]
        if kind == BENCH_TIME_FUNC:
            function(size, *args)
        else:
            for _ in range(size):
                function(*args)
        return ANSWER

    if kind == BENCH_TIME_FUNC:

        def time_func(loops, size, workers):
            function, args = found["call"]
            return function(loops * size, *args)

        variant.time_func = time_func
    variant.prepare = prepare
    variant.requirements = (REQUIREMENT,)
    return _packages.needs("pyperformance")(variant)


VARIANTS = {name: _variant(name) for name in ADAPTERS}


def expected(size):
    """The answer every benchmark must give before it is timed: ``ANSWER``, once its iteration ran without an error."""
    return ANSWER


if __name__ == "__main__":
    main("pyperformance", VARIANTS, reference="richards", expected=expected)
