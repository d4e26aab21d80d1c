"""Third-party packages some variants need (numpy, numexpr), installed per interpreter, with the installer's reason
when they cannot be.

Runs inside the interpreter under test (Python 3.9 syntax, standard library only). The ``bench(<id>)`` nox session
runs it as a script in each interpreter's venv::

    python workloads/_packages.py --out <venv>/interpmatrix-bindings numpy numexpr

which pip-installs each package on its own (so numpy can install where numexpr cannot) and records in
``packages.json`` either the version installed or why pip failed, taken from pip's own output (the full output is
kept beside it as ``pip-<name>.log``). A package already recorded in a venv is not tried again: a failed source
build costs minutes (numexpr on PyPy); a fresh venv tries again.

A variant that needs packages says so with ``@needs("numpy", ...)``; the harness calls ``resolve`` before checking
it, and a package that does not import fails the cell as ``unavailable`` with the recorded reason.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import re
import subprocess
import sys

# Names for the type hints only. TYPE_CHECKING is true for type checkers alone: at run time, in every interpreter under
# test, this module imports nothing more for them (not even typing), and the annotations stay unevaluated strings.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Iterable
    from typing import Any, TypeVar

    # A variant's kernel, ``kernel(size, workers) -> answer`` (see _harness).
    KernelT = TypeVar("KernelT", bound=Callable[..., Any])

MANIFEST = "packages.json"

# Set by the harness (--bindings): the folder this script wrote packages.json into.
PACKAGES_DIR: str | None = None


class PackageUnavailable(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def needs(*packages: str) -> Callable[[KernelT], KernelT]:
    """Mark a variant as needing ``packages`` (import names, which are also their PyPI names here)."""

    def mark(kernel: KernelT) -> KernelT:
        kernel.packages = packages
        return kernel

    return mark


def read_manifest(directory: str | None) -> dict[str, Any]:
    path = os.path.join(directory, MANIFEST) if directory else None
    if path is None or not os.path.isfile(path):
        return {}
    with open(path) as manifest:
        return json.load(manifest)


def check_requirements(requirements: Iterable[str]) -> None:
    """PackageUnavailable with pip's reason for the first of ``requirements`` (pip requirement strings, as a user's
    workload file gives them) that could not be installed here."""
    manifest = read_manifest(PACKAGES_DIR)
    for requirement in requirements:
        record = manifest.get(requirement)
        if record is not None and not record.get("ok"):
            raise PackageUnavailable(record.get("reason") or "pip install %s failed" % requirement)


def resolve(kernel: Callable[..., Any]) -> None:
    """Import the packages ``kernel`` needs; PackageUnavailable with the install's reason when one does not."""
    check_requirements(getattr(kernel, "requirements", ()))
    for name in getattr(kernel, "packages", ()):
        try:
            importlib.import_module(name)
        except ImportError as error:
            record = read_manifest(PACKAGES_DIR).get(name)
            if record is not None and record.get("reason"):
                raise PackageUnavailable(record["reason"]) from error
            raise PackageUnavailable("%s does not import: %s" % (name, error)) from error


def failure_reason(name: str, output: str) -> str:
    """Why pip failed, in one line, from its output: the root error of a failed source build, else pip's ERROR."""
    lines = [line.strip() for line in output.splitlines() if line.strip()]
    errors = [line[len("ERROR: ") :] for line in lines if line.startswith("ERROR: ")]
    if any("Failed building wheel" in line or "Failed to build" in line for line in lines):
        # The build's own exception, printed by the build backend inside pip's output.
        exceptions = [line for line in lines if re.match(r"^[A-Za-z_][\w.]*(Error|Exception):", line)]
        version = re.search(r"Downloading %s-([\w.]+)\.tar\.gz" % re.escape(re.split(r"[<>=!~\[; ]", name)[0]), output)
        source = "%s %s" % (name, version.group(1)) if version else name
        cause = exceptions[-1] if exceptions else (errors[-1] if errors else "see the log")
        return "no %s wheel for this interpreter, and building %s from source failed: %s" % (name, source, cause)
    if errors:
        return "pip install %s failed: %s" % (name, errors[-1])
    return "pip install %s failed (exit status non-zero, no error line)" % name


def installed_version(requirement: str) -> str | None:
    """The installed version of a requirement's project (``numpy``, ``scikit-learn>=1.4``), from its metadata: a
    project's import name can differ from its name on PyPI."""
    import importlib.metadata

    project = re.match(r"[A-Za-z0-9][A-Za-z0-9._-]*", requirement)
    try:
        return importlib.metadata.version(project.group(0)) if project else None
    except importlib.metadata.PackageNotFoundError:
        return None


# pip options for one requirement. pyperformance 1.14 declares Python 3.10+ for its runner, but its benchmark files
# run on 3.9 (checked on CPython 3.9 and PyPy 3.9) and import nothing but pyperf, which every venv has: the suite
# takes only the files, so neither the Python requirement nor the runner's dependencies apply.
PIP_OPTIONS = {"pyperformance": ("--no-deps", "--ignore-requires-python")}


def pip_options(requirement: str) -> tuple[str, ...]:
    project = re.match(r"[A-Za-z0-9][A-Za-z0-9._-]*", requirement)
    return PIP_OPTIONS.get(project.group(0).lower() if project else "", ())


def install(directory: str, names: Iterable[str]) -> None:
    manifest = read_manifest(directory)
    for name in names:
        if name in manifest:
            continue
        # --prefer-binary: the newest release with a wheel for this interpreter (what users get), not a newer sdist
        # that would build for ten minutes (numpy for 3.13t) or fail.
        command = [sys.executable, "-m", "pip", "install", "--disable-pip-version-check", "--prefer-binary",
                   *pip_options(name), name]
        print("installing %s: %s" % (name, " ".join(command)), flush=True)
        process = subprocess.run(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, universal_newlines=True)
        log = os.path.join(directory, "pip-%s.log" % name)
        with open(log, "w") as handle:
            handle.write(process.stdout)
        if process.returncode < 0:
            # Interrupted (Ctrl-C, killed): nothing learnt about this interpreter; the next run tries again.
            sys.exit("pip install %s was interrupted (signal %d)" % (name, -process.returncode))
        if process.returncode == 0:
            manifest[name] = {"ok": True, "version": installed_version(name)}
        else:
            manifest[name] = {"ok": False, "reason": failure_reason(name, process.stdout), "log": log}
            print("  %s is unavailable here: %s" % (name, manifest[name]["reason"]), flush=True)
        with open(os.path.join(directory, MANIFEST), "w") as handle:
            json.dump(manifest, handle, indent=2, sort_keys=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", required=True, help="folder for packages.json (the venv's bindings folder)")
    parser.add_argument("packages", nargs="*")
    args = parser.parse_args()
    if not os.path.isdir(args.out):
        os.makedirs(args.out)
    install(args.out, args.packages)


if __name__ == "__main__":
    main()
