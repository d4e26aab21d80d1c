"""The Debian packages a run needs from the system, each with the reason it is needed, and what dpkg says is
installed: data and a query, no installing (``provision`` installs what is missing, as root).

The reasons of the toolchain entries and of PyPy's compiler were checked on Debian 12 by running without the
package's files (hidden by an overlay in a private mount namespace).
"""

from __future__ import annotations

import subprocess
from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class DebianPackage:
    """A Debian package a run needs, and why: what fails without it."""

    name: str
    why: str
    beside: str | None = None  # needed only where this package is installed, or is being installed with it
    # Needed only where this command is not on PATH: Node.js from nodesource brings its own npm, and installing
    # Debian's npm beside it would conflict (interpmatrix/runtime_provision.py asks).
    command: str | None = None


TOOLCHAIN = "toolchain"
# What each step needs from Debian; plans, commands and messages are derived from these.
DEBIAN_PACKAGES: dict[str, tuple[DebianPackage, ...]] = {
    # Debian's PyPy comes as a private root, with its headers (pypy3-dev) and venv wheels: no pypy3 package is
    # installed into the system any more. Its root is smoke-tested before the toolchain is provisioned.
    "pypy": (
        DebianPackage("patchelf", "writes the PyPy root's own loader and library folder into its binary: without it "
                      "no PyPy 3.9 root"),
        DebianPackage("build-essential", "a C compiler for psutil's build, which pyperf needs and has no PyPy wheel "
                      "(without it the root's smoke test, and every PyPy cell, fails)"),
    ),
    # Whatever the families: every interpreter's venv compiles the bindings (bindings/build.py).
    TOOLCHAIN: (
        DebianPackage("build-essential", "a C compiler, and g++ for Shed Skin: without it the cython, cffi, shedskin "
                      "and c variants are unavailable on every interpreter"),
        DebianPackage("libgc-dev", "the Boehm garbage collector (gc/gc_cpp.h, -lgc -lgctba) Shed Skin's C++ runs on: "
                      "without it the shedskin variants are unavailable on every interpreter"),
        DebianPackage("libpcre2-dev", "PCRE2's headers, which Shed Skin's runtime includes in every module (builtin.cpp "
                      "includes re.hpp), regular expressions or not: without it the shedskin variants are unavailable "
                      "on every interpreter"),
        DebianPackage("python3-dev", "Debian CPython's headers: without them its cython and cffi variants are "
                      "unavailable", "python3"),
        DebianPackage("python3-venv", "the wheels `python3 -m venv` installs pip from: nox's venvs are virtualenv's, "
                      "but the tests' binding builds (tests/test_bindings.py) use `-m venv`", "python3"),
    ),
    # Debian sid's interpreters in private roots (interpmatrix/private_roots.py).
    "debian-sid": (
        DebianPackage("patchelf", "writes a private root's own loader and library folder into its python, which "
                      "cannot start on this glibc otherwise: without it no CPython 3.14, 3.15 or PyPy 3.11"),
    ),
    # The runtimes the seeds name that cannot run pyperf (interpmatrix/runtime_provision.py): what each runs on or
    # builds with. The interpreters themselves go into the cache; these are general-purpose hosts, from the
    # machine's own release like its other programs: a JRE or Node.js in a private root would need its own libc
    # and certificates for no gain in what is measured.
    "jython": (
        DebianPackage("openjdk-17-jre-headless", "the JVM Jython runs on (Debian 12's jython is built for Java 17): "
                      "without it no Jython column", command="java"),
    ),
    "micropython": (
        DebianPackage("build-essential", "the compiler and make its unix port is built with, and dpkg-source "
                      "(dpkg-dev), which unpacks Debian's source and applies its patches: without them no MicroPython "
                      "column"),
    ),
    # The WebAssembly runtimes: Pyodide, and MicroPython's WebAssembly build where its source cannot be had.
    "node": (
        DebianPackage("nodejs", "Node.js, which runs Pyodide's WebAssembly CPython: without it no Pyodide column",
                      command="node"),
        DebianPackage("npm", "installs the pyodide npm package into the cache", command="npm"),
    ),
    # CPython's build dependencies: without these headers it still builds, but lacks the module named.
    "free-threaded": (
        DebianPackage("build-essential", "the compiler and make"),
        DebianPackage("libssl-dev", "ssl: pip reaches PyPI over https"),
        DebianPackage("zlib1g-dev", "zlib: pip unpacks wheels"),
        DebianPackage("libffi-dev", "ctypes: the fault tests and the bindings use it"),
        DebianPackage("libbz2-dev", "bz2"),
        DebianPackage("liblzma-dev", "lzma"),
        DebianPackage("libsqlite3-dev", "sqlite3"),
        DebianPackage("libreadline-dev", "readline"),
        DebianPackage("uuid-dev", "uuid"),
        DebianPackage("libgdbm-dev", "dbm.gnu"),
        DebianPackage("libncurses-dev", "curses"),
    ),
}


def installed_in_dpkg_status(text: str) -> set[str]:
    """The packages ``dpkg -s`` output shows installed (a removed one keeps a stanza: "deinstall ok config-files")."""
    installed: set[str] = set()
    package = None
    for line in text.splitlines():
        if line.startswith("Package: "):
            package = line.split(": ", 1)[1].strip()
        elif line.startswith("Status: ") and package and line.split()[-1] == "installed":
            installed.add(package)
    return installed


def debian_packages_installed(names: Sequence[str]) -> set[str]:
    """Which of ``names`` dpkg says are installed. ``dpkg -s`` exits 1 when one is unknown: its stanzas still count."""
    answer = subprocess.run(["dpkg", "-s", *names], capture_output=True, text=True, check=False)
    return installed_in_dpkg_status(answer.stdout)


def needed_packages(packages: Sequence[DebianPackage], installed: set[str]) -> list[DebianPackage]:
    """Those of ``packages`` a run needs here, each name once: one needed only beside another package counts where
    that package is installed or among ``packages`` (being installed with it)."""
    asked = {package.name for package in packages}
    needed: dict[str, DebianPackage] = {}
    for package in packages:
        if package.beside is None or package.beside in installed or package.beside in asked:
            needed.setdefault(package.name, package)
    return list(needed.values())


def missing_packages(packages: Sequence[DebianPackage], installed: set[str]) -> list[DebianPackage]:
    """Those of ``packages`` to install: needed here, and not installed."""
    return [package for package in needed_packages(packages, installed) if package.name not in installed]
