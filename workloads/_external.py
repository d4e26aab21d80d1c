"""Runs a user's workload file (``--workload-file``; README "Bring your own workload") in the interpreter under test.

The file is imported from where it is, under its own name (so a process pool started in it can find its functions),
with its folder first on ``sys.path`` (so it can import its neighbours). Three modes::

    python workloads/_external.py --workload-file F [pyperf and harness options]   # measure, like any workload
    python workloads/_external.py --workload-file F --answer                       # print run()'s result, canonical
    python workloads/_external.py --workload-file F --check                        # try it once, say what it did

``--answer`` lets the orchestrator compare run()'s results across interpreters when the file gives no EXPECTED;
``--check`` is ``nox -s workloads -- --check F``. Python 3.9 syntax, standard library only until pyperf is needed.
"""

from __future__ import annotations

import importlib.util
import json
import os
import sys
import time
import traceback

import _harness
import _packages

# Names for the type hints only. TYPE_CHECKING is true for type checkers alone: at run time, in every interpreter under
# test, this module imports nothing more for them (not even typing), and the annotations stay unevaluated strings.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterable
    from types import ModuleType
    from typing import Any

    from _harness import Kernel

ANSWER_PREFIX = "interpmatrix-answer "
# The one size of a user workload (interpmatrix.external.USER_SIZE), and its start-up variant (STARTUP).
USER_SIZE = 1
STARTUP = "startup"


class WorkloadFile:
    """The user's module, imported and set up on first use (in the process that checks or times it)."""

    def __init__(self, path: str, requirements: Iterable[str] = ()) -> None:
        self.path = os.path.abspath(path)
        self.requirements = tuple(requirements)
        self.module: ModuleType | None = None
        self.data: Any = None

    def load(self) -> ModuleType:
        if self.module is not None:
            return self.module
        folder = os.path.dirname(self.path)
        if folder not in sys.path:
            sys.path.insert(0, folder)
        stem = os.path.splitext(os.path.basename(self.path))[0]
        # Its own name where that is free (pickle finds its functions by module name); never shadow a loaded module.
        name = stem if stem.isidentifier() and stem not in sys.modules else "interpmatrix_user_workload"
        spec = importlib.util.spec_from_file_location(name, self.path)
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
        setup = getattr(module, "setup", None)
        self.data = setup() if setup is not None else None
        self.module = module
        return module

    def _args(self) -> tuple[Any, ...]:
        return (self.data,) if hasattr(self.module, "setup") else ()

    def run(self) -> Any:
        return self.module.run(*self._args())

    def bench(self, loops: int) -> float:
        seconds = self.module.bench(loops, *self._args())
        if isinstance(seconds, bool) or not isinstance(seconds, (int, float)) or seconds <= 0:
            raise TypeError("bench(loops) must return the seconds its loops took, a positive number; it returned %r"
                            % (seconds,))
        return float(seconds)


def user_error(error: BaseException, path: str) -> str:
    """An exception raised in the user's code, in one line, with the line of their file it came from."""
    text = "".join(traceback.format_exception_only(type(error), error)).strip()
    if isinstance(error, SyntaxError):
        return text
    frames = [frame for frame in traceback.extract_tb(error.__traceback__) if os.path.abspath(frame.filename) == path]
    if frames:
        frame = frames[-1]
        return "%s (%s, line %d, in %s)" % (text, os.path.basename(path), frame.lineno, frame.name)
    return text


def canonical(value: object) -> str:
    """A text that is the same for equal results on every interpreter: sets and dicts in sorted order (their
    iteration order depends on hashing), everything else by repr."""
    if isinstance(value, dict):
        items = sorted("%s: %s" % (canonical(key), canonical(item)) for key, item in value.items())
        return "{" + ", ".join(items) + "}"
    if isinstance(value, (set, frozenset)):
        return "%s({%s})" % (type(value).__name__, ", ".join(sorted(canonical(item) for item in value)))
    if isinstance(value, list):
        return "[" + ", ".join(canonical(item) for item in value) + "]"
    if isinstance(value, tuple):
        inner = ", ".join(canonical(item) for item in value)
        return "(" + inner + ("," if len(value) == 1 else "") + ")"
    return repr(value)


def make_variants(workload_file: WorkloadFile, timed: str) -> dict[str, Kernel]:
    """The harness's view of the file: one variant (``run`` or ``bench``) whose kernel calls the user's code."""

    def kernel(size: int, workers: int) -> Any:
        # bench(loops) alone gives nothing to check: the harness then compares None with None.
        return workload_file.run() if hasattr(workload_file.module, "run") else None

    def prepare() -> None:
        try:
            workload_file.load()
        except (Exception, SystemExit) as error:
            reason = "importing the file or its setup() failed: " + user_error(error, workload_file.path)
            raise _harness.CellFailed("error", reason)

    kernel.prepare = prepare
    kernel.requirements = workload_file.requirements
    if timed == "bench":
        kernel.time_func = lambda loops, size, workers: workload_file.bench(loops)
    return {timed: kernel, timed + "_memory": _harness.peak_memory(kernel), STARTUP: startup_variant(workload_file)}


def startup_variant(workload_file: WorkloadFile) -> Kernel:
    """Start the interpreter and run the file's top level (its imports), not setup(): what a script of it pays before
    its first call. A pyperf command benchmark (the harness reads ``command``), checked by its exit status."""
    # Without bytecode written in the user's folder (see main()): the file itself is compiled at every start either
    # way, as any script is; the neighbours it imports from there are then compiled at every start too.
    folder, path = os.path.dirname(workload_file.path), workload_file.path
    code = (f"import runpy, sys; sys.dont_write_bytecode = True; sys.path.insert(0, {folder!r}); "
            f"runpy.run_path({path!r}, run_name='interpmatrix_startup')")
    variant = _harness.python_command(code)
    variant.requirements = workload_file.requirements
    return variant


def _pop_option(argv: list[str], name: str, has_value: bool = True) -> str | bool | None:
    """Remove ``name`` (and its value) from argv; return the value (True for a flag), None when absent."""
    for index, arg in enumerate(argv):
        if arg == name:
            if not has_value:
                del argv[index]
                return True
            value = argv[index + 1]
            del argv[index : index + 2]
            return value
        if has_value and arg.startswith(name + "="):
            del argv[index]
            return arg.split("=", 1)[1]
    return None


def answer(workload_file: WorkloadFile) -> None:
    """Print run()'s result as canonical text (or why there is none), for the cross-interpreter check."""
    try:
        _packages.check_requirements(workload_file.requirements)
        workload_file.load()
        record = {"answer": canonical(workload_file.run())}
    except _packages.PackageUnavailable as error:
        record = {"error": error.reason}
    except Exception as error:
        record = {"error": user_error(error, workload_file.path)}
    print(ANSWER_PREFIX + json.dumps(record), flush=True)


def check(workload_file: WorkloadFile) -> int:
    """Try the file once, the way the matrix will, and say what happened. Exit status 1 when it cannot run."""
    print("interpreter: %s %s (%s)" % (sys.implementation.name, sys.version.split()[0], sys.executable))
    try:
        _packages.check_requirements(workload_file.requirements)
        started = time.perf_counter()
        module = workload_file.load()
        print("import and setup(): %.3f s" % (time.perf_counter() - started))
        if hasattr(module, "run"):
            started = time.perf_counter()
            result = workload_file.run()
            print("run(): %.6f s, returned %s" % (time.perf_counter() - started, _harness._describe_answer(result)))
            if hasattr(module, "EXPECTED"):
                if result != module.EXPECTED:
                    print("error: run() returned %s but EXPECTED is %s" % (
                        _harness._describe_answer(result), _harness._describe_answer(module.EXPECTED)))
                    return 1
                print("matches EXPECTED")
            else:
                print("no EXPECTED: the matrix will check run()'s result against the other interpreters'")
        if hasattr(module, "bench"):
            print("bench(1): %.6f s (as bench reported it)" % workload_file.bench(1))
    except _packages.PackageUnavailable as error:
        print("error: a requirement is unavailable here: %s" % error.reason)
        return 1
    except Exception as error:
        print("error: %s" % user_error(error, workload_file.path))
        return 1
    print("ok: the file follows the protocol and runs here")
    return 0


def main() -> int:
    # The user's file is read in place, in a folder that is theirs: importing it (and its neighbours) must not write a
    # __pycache__ there, one .pyc per interpreter. Set before the file is imported, in every process that imports it
    # (this one, and pyperf's workers, which start here too); this project's own modules were imported above.
    sys.dont_write_bytecode = True
    argv = sys.argv[1:]
    path = _pop_option(argv, "--workload-file")
    if path is None:
        sys.exit("usage: _external.py --workload-file FILE [--answer | --check | pyperf options]")
    # What the orchestrator read from the file (interpmatrix.external.WorkloadFile), handed on to pyperf's workers.
    name = _pop_option(argv, "--workload") or os.path.splitext(os.path.basename(path))[0]
    requirements = json.loads(_pop_option(argv, "--requirements") or "[]")
    timed = _pop_option(argv, "--timed") or "run"
    has_expected = bool(_pop_option(argv, "--has-expected", has_value=False))
    workload_file = WorkloadFile(path, requirements)
    if "--bindings" in argv:
        # The folder packages.json is in (the venv's bindings folder): it says why a requirement did not install.
        _packages.PACKAGES_DIR = os.path.abspath(argv[argv.index("--bindings") + 1])
    if _pop_option(argv, "--answer", has_value=False):
        answer(workload_file)
        return 0
    if _pop_option(argv, "--check", has_value=False):
        return check(workload_file)
    sys.argv[1:] = argv
    forwarded = ["--workload-file", workload_file.path, "--workload", name,
                 "--requirements", json.dumps(list(requirements)), "--timed", timed]
    if has_expected:
        forwarded.append("--has-expected")
    _harness.main(
        name,
        make_variants(workload_file, timed),
        reference=timed,
        # Without EXPECTED, each interpreter checks that two calls agree; the orchestrator compares interpreters.
        expected=(lambda size: workload_file.module.EXPECTED) if has_expected else None,
        worker_args=forwarded,
        mismatch=(
            "run() returned {answer}, but the file's EXPECTED is {expected}"
            if has_expected
            else "run() returned {expected} on a first call and {answer} on a second, in the same process: the "
            "matrix checks that run() gives the same result every time (or set EXPECTED in the file)"
        ),
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
