"""Import one installed package inside the interpreter under test and say what it did, as JSON on stdout.

Run by file path in the package's own venv, never imported by interpmatrix (like ``interpmatrix/probe.py``)::

    <venv>/bin/python import_probe.py DISTRIBUTION [MODULE ...]

With no MODULE, the distribution's top-level names are read from its installed files. Only the interpreter under
test can answer: whether its GIL was turned back on by the import (a free-threaded CPython does that, with a
RuntimeWarning naming the module, when an extension has not declared it can run without the GIL), and whether
what was loaded is pure Python, cffi modules, or C extensions (on PyPy: through its cpyext emulation layer).
Python 3.9 syntax, standard library only.
"""

import importlib
import json
import sys
import sysconfig
import traceback
import warnings
from importlib import machinery, metadata

# Top-level folders some distributions ship besides their package: never what a user imports.
NOT_MODULES = {"test", "tests", "testing", "docs", "doc", "examples", "benchmarks", "bin", "scripts"}


def top_level_names(distribution):
    """The importable top-level names of an installed distribution, public ones first."""
    found = []
    text = distribution.read_text("top_level.txt")
    if text:
        found = [line.strip() for line in text.splitlines() if line.strip()]
    else:
        for path in distribution.files or ():
            parts = path.parts
            if not parts or parts[0] in ("..", "__pycache__") or parts[0].endswith((".dist-info", ".data")):
                continue
            head = parts[0]
            if len(parts) == 1:
                for suffix in machinery.EXTENSION_SUFFIXES + [".py"]:
                    if head.endswith(suffix):
                        head = head[: -len(suffix)]
                        break
                else:
                    continue
            if head.isidentifier() and head not in found:
                found.append(head)
    names = [name.replace("/", ".") for name in found if name.split("/")[0] not in NOT_MODULES]
    public = [name for name in names if not name.startswith("_")]
    return public or names


def kind_of(module, site_dirs):
    """'extension', 'cffi' or 'python' for a module loaded from site-packages; None for anything else."""
    path = getattr(module, "__file__", None)
    if not path or not any(path.startswith(folder) for folder in site_dirs):
        return None
    if not path.endswith(tuple(machinery.EXTENSION_SUFFIXES)):
        return "python"
    # A cffi module compiled out of line exposes its FFI object as ``ffi``; its class lives in _cffi_backend.
    ffi = getattr(module, "ffi", None)
    if ffi is not None and type(ffi).__module__ == "_cffi_backend":
        return "cffi"
    if module.__name__ == "_cffi_backend":
        return "cffi"
    return "extension"


def main(argv):
    name, modules = argv[0], list(argv[1:])
    answer = {"distribution": name, "version": None, "imports": [], "errors": [], "gil_before": None,
              "gil_after": None, "gil_warnings": [], "extensions": [], "cffi_modules": [], "python_modules": 0}
    try:
        distribution = metadata.distribution(name)
        answer["version"] = distribution.version
    except metadata.PackageNotFoundError:
        distribution = None
    if not modules and distribution is not None:
        modules = top_level_names(distribution)
    answer["imports"] = modules
    is_gil_enabled = getattr(sys, "_is_gil_enabled", None)
    if is_gil_enabled is not None:
        answer["gil_before"] = is_gil_enabled()
    before = set(sys.modules)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for module in modules:
            try:
                importlib.import_module(module)
            except BaseException as error:  # an extension's import can raise anything, SystemExit included
                last = traceback.format_exception_only(type(error), error)[-1].strip()
                answer["errors"].append("import %s: %s" % (module, last))
    if is_gil_enabled is not None:
        answer["gil_after"] = is_gil_enabled()
    answer["gil_warnings"] = [str(w.message) for w in caught if "global interpreter lock" in str(w.message).lower()]
    paths = sysconfig.get_paths()
    site_dirs = sorted({paths["purelib"], paths["platlib"]})
    for module_name in sorted(set(sys.modules) - before):
        module = sys.modules.get(module_name)
        kind = kind_of(module, site_dirs) if module is not None else None
        if kind == "extension":
            answer["extensions"].append(module_name)
        elif kind == "cffi":
            answer["cffi_modules"].append(module_name)
        elif kind == "python":
            answer["python_modules"] += 1
    sys.stdout.write(json.dumps(answer) + "\n")
    sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
