"""The compiled bindings of the workloads, as ``bindings/build.py`` built them for the interpreter running this.

Runs inside the interpreter under test (Python 3.9 syntax, no pyperf needed). ``build.py`` leaves a folder with the
built modules, the C reference executable and ``bindings.json``, which says which bindings were built and why the
others were not. The harness sets ``BINDINGS_DIR`` from its ``--bindings`` option before it resolves a variant.

A variant that needs a binding says so with ``@uses(name)``: ``cython``, ``cffi``, ``shedskin`` (the pure kernels
compiled to C++ by Shed Skin), ``c`` (the C reference executable) or ``compiled`` (the best compiled binding for this
interpreter, see ``compiled``). A binding that is not there raises ``BindingUnavailable`` with the reason recorded at
build time; it is never replaced by another under the same variant name (``compiled`` is the one variant whose
meaning is "whichever", and the harness records which one it took).
"""

from __future__ import annotations

import importlib
import json
import os
import platform
import subprocess
import sys

# Names for the type hints only. TYPE_CHECKING is true for type checkers alone: at run time, in every interpreter under
# test, this module imports nothing more for them (not even typing), and the annotations stay unevaluated strings.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from types import ModuleType
    from typing import Any, TypeVar

    # A variant's kernel, ``kernel(size, workers) -> answer`` (see _harness).
    KernelT = TypeVar("KernelT", bound=Callable[..., Any])

CYTHON = "cython"
CFFI = "cffi"
SHEDSKIN = "shedskin"
C = "c"
COMPILED = "compiled"

MANIFEST = "bindings.json"
NOT_BUILT = "no bindings were built for this interpreter: run through `nox -s matrix`"

# Set by the harness (--bindings); the folder build.py wrote.
BINDINGS_DIR: str | None = None


class BindingUnavailable(Exception):
    """A binding this variant needs was not built, or does not import; ``reason`` says why."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def read_manifest(directory: str | None) -> dict[str, Any]:
    """``bindings.json`` of ``directory``; BindingUnavailable when no bindings were built there."""
    path = os.path.join(directory, MANIFEST) if directory else None
    if path is None or not os.path.isfile(path):
        raise BindingUnavailable(NOT_BUILT)
    with open(path) as manifest:
        return json.load(manifest)


def built(directory: str | None, name: str) -> dict[str, Any]:
    """The bindings.json record of a binding that was built; BindingUnavailable with its reason otherwise."""
    record = read_manifest(directory).get(name)
    if record is None:
        manifest = os.path.join(directory, MANIFEST)
        raise BindingUnavailable("%s is not in %s: rebuild with bindings/build.py" % (name, manifest))
    if not record.get("ok"):
        raise BindingUnavailable(record.get("reason") or "the %s build failed (see %s.log)" % (name, name))
    return record


def load(directory: str | None, name: str) -> ModuleType:
    """The imported module of binding ``name`` (``cython``, ``cffi`` or ``shedskin``) built in ``directory``."""
    record = built(directory, name)
    directory = os.path.abspath(directory)
    if directory not in sys.path:
        sys.path.insert(0, directory)
    try:
        return importlib.import_module(record["module"])
    except ImportError as error:
        raise BindingUnavailable("%s was built but does not import: %s" % (record["module"], error)) from error


def c_reference(directory: str | None) -> str:
    """The path of the C reference executable built in ``directory``."""
    path = os.path.join(os.path.abspath(directory), built(directory, C)["executable"])
    if not os.access(path, os.X_OK):
        raise BindingUnavailable("the C reference %s is missing: rebuild with bindings/build.py" % path)
    return path


def compiled_order() -> tuple[str, str]:
    """The bindings ``compiled`` tries, best first, for this interpreter.

    Cython first; but on PyPy a Cython extension runs through cpyext, PyPy's slow emulation of CPython's C API, while
    cffi is PyPy's native way to call C (its JIT knows it), so there cffi comes first.

    Never Shed Skin: its module is a whole restricted program translated to C++, not a kernel written for C, and its
    calls copy every argument and result between Python's objects and its own (a list element by element), so it
    answers another question ("what does Shed Skin make of the pure kernel?", its own row). Taking it here would
    also make ``compiled`` mean Shed Skin on a machine where it builds and Cython elsewhere.
    """
    return (CFFI, CYTHON) if platform.python_implementation() == "PyPy" else (CYTHON, CFFI)


def choose_compiled(directory: str | None) -> str:
    """The binding ``compiled`` means here: the first of ``compiled_order`` that is available."""
    reasons = []
    for name in compiled_order():
        try:
            load(directory, name)
        except BindingUnavailable as error:
            reasons.append("%s: %s" % (name, error.reason))
        else:
            return name
    raise BindingUnavailable("neither Cython nor cffi is available (%s)" % "; ".join(reasons))


# --- what the workload kernels call, against BINDINGS_DIR, resolved once per process ---

_modules: dict[str, ModuleType] = {}
_compiled: list[str] = []


def module(name: str) -> ModuleType:
    """The module of binding ``name`` in ``BINDINGS_DIR``."""
    found = _modules.get(name)
    if found is None:
        found = _modules[name] = load(BINDINGS_DIR, name)
    return found


def compiled() -> str:
    """The name of the binding ``compiled`` uses in ``BINDINGS_DIR`` (``cython`` or ``cffi``)."""
    if not _compiled:
        _compiled.append(choose_compiled(BINDINGS_DIR))
    return _compiled[0]


def uses(binding: str) -> Callable[[KernelT], KernelT]:
    """Mark a variant as needing ``binding``, so the harness resolves it (and records it) before checking it."""

    def mark(kernel: KernelT) -> KernelT:
        kernel.binding = binding
        return kernel

    return mark


def resolve(kernel: Callable[..., Any]) -> str | None:
    """Import what ``kernel`` needs; return the binding it uses (None for pure Python) or raise BindingUnavailable."""
    binding = getattr(kernel, "binding", None)
    if binding is None:
        return None
    if binding == COMPILED:
        return compiled()
    if binding == C:
        c_reference(BINDINGS_DIR)
    else:
        module(binding)
    return binding


def run_c_reference(kernel: str, size: int, loops: int) -> tuple[float, list[int]]:
    """Run the C reference's ``kernel`` ``loops`` times: (the seconds it measured itself, the integers it answered)."""
    command = [c_reference(BINDINGS_DIR), kernel, str(size), str(loops)]
    output = subprocess.run(command, stdout=subprocess.PIPE, universal_newlines=True, check=True).stdout
    fields = dict(line.split(" ", 1) if " " in line else (line, "") for line in output.splitlines())
    return float(fields["seconds"]), [int(value) for value in fields["answer"].split()]


def c_reference_variant(kernel: str, answer: Callable[[int, list[int]], Any]) -> Callable[[int, int], Any]:
    """The variant that runs the C reference's ``kernel``; ``answer(size, integers)`` shapes its answer like the
    pure reference's. Its ``time_func`` returns the time the executable measured, not the time of the process."""

    @uses(C)
    def variant(size: int, workers: int) -> Any:
        return answer(size, run_c_reference(kernel, size, 1)[1])

    def time_func(loops: int, size: int, workers: int) -> float:
        return run_c_reference(kernel, size, loops)[0]

    variant.time_func = time_func
    return variant
