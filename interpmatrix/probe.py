"""Describe the interpreter running this script, as one JSON object on stdout.

This is a separate script, run as ``<python> probe.py`` by file path and never imported, because only the
interpreter under test can say what it is: the host Python's ``sys`` and ``sysconfig`` describe the host, and a
pyenv shim or a symlink only reveals what it points to once it runs. It must run unchanged on Python 2.7, 3.6+
and PyPy (no f-strings, no annotations) so that old interpreters are listed as too old rather than dropped.
"""

from __future__ import print_function

import json
import os
import platform
import sys
import sysconfig


def language_version():
    info = sys.version_info
    text = "%d.%d.%d" % (info[0], info[1], info[2])
    if info[3] != "final":
        # "3.14.0rc1": pre-releases must not be mistaken for the final release.
        text += {"alpha": "a", "beta": "b", "candidate": "rc"}.get(info[3], info[3]) + str(info[4])
    return text


def jit(implementation, config_args):
    if implementation == "pypy":
        try:
            import pypyjit  # noqa: F401  (present only when PyPy was built with its JIT)
            return "PyPy JIT"
        except ImportError:
            return "none"
    status = getattr(sys, "_jit", None)  # CPython 3.14+
    if status is not None:
        if status.is_enabled():
            return "enabled"
        return "built, disabled" if status.is_available() else "none"
    if "--enable-experimental-jit" in config_args:
        return "built (experimental)"
    return "none"


def _compiler():
    # PyPy leaves python_compiler() empty but names its C compiler in sys.version: "[PyPy 7.3.11 with GCC 12.2.0]".
    compiler = platform.python_compiler()
    if not compiler and " with " in sys.version:
        compiler = sys.version.rsplit(" with ", 1)[1].rstrip("]").strip()
    return compiler


def main():
    implementation = platform.python_implementation().lower()
    version = language_version()
    config_args = sysconfig.get_config_var("CONFIG_ARGS") or ""
    if implementation == "pypy":
        info = sys.pypy_version_info
        implementation_version = "%d.%d.%d" % (info[0], info[1], info[2])
    else:
        implementation_version = version
    is_gil_enabled = getattr(sys, "_is_gil_enabled", None)  # 3.13+
    answer = {
        "implementation": implementation,
        "version": version,
        "implementation_version": implementation_version,
        "executable": sys.executable,
        "realpath": os.path.realpath(sys.executable),
        "prefix": sys.prefix,
        "base_prefix": getattr(sys, "base_prefix", sys.prefix),
        "free_threaded": bool(sysconfig.get_config_var("Py_GIL_DISABLED")),
        "gil_enabled": bool(is_gil_enabled()) if is_gil_enabled is not None else True,
        "jit": jit(implementation, config_args),
        "config_args": config_args,
        "compiler": _compiler(),
        "cflags": sysconfig.get_config_var("PY_CFLAGS") or "",
        "shared": bool(sysconfig.get_config_var("Py_ENABLE_SHARED")),
    }
    print(json.dumps(answer, sort_keys=True))


if __name__ == "__main__":
    main()
