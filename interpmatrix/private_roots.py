"""Interpreters from Debian's binary packages, each unpacked into a private root in the cache: CPython 3.14 and 3.15
and PyPy 8.0.1 (Python 3.11) from Debian unstable, and the PyPy of the machine's own release (Debian 12: 7.3.11,
Python 3.9).

Debian 12's glibc (2.36) is older than the one sid's packages are built against (2.38 and newer), so they do not run
as they are; nothing is installed into the system instead. The machine's own PyPy would run from /usr, but only
there, installed system-wide, and pyperf needs its headers too (pypy3-dev): one way for every root is simpler, and
leaves the system as it was. The interpreter's packages are unpacked together with the suite's ``libc6`` and the
libraries they need (the dependency closure, in ``apt-cache depends``'s words, less what a running interpreter never
reads: ``NOT_NEEDED``) into one folder. patchelf then writes into the binary the path of that folder's own loader
(its ELF interpreter) and of its library folders (DT_RPATH), so that venvs, pyperf workers and ``subprocess`` start
it like any other python, without a wrapper. DT_RPATH and not DT_RUNPATH: RUNPATH serves only the binary's direct
dependencies, RPATH also the libraries its extension modules load (``_ssl``'s libssl), so none of the host's older
libraries is mixed into the root.

In the cache:

- ``debs/``: the packages, named by apt with their versions, downloaded once each;
- ``roots/<key>/``: an unpacked tree. Its absolute paths are written into its binary, so it is patched under a
  hidden name, renamed to where it stays, and smoke-tested there;
- ``interpreters/<key>/``: what discovery finds, a ``bin/`` symlink into the root and the marker. It is made under a
  hidden name and renamed into place only after the smoke test passed: discovery never sees a half-made root.

``<key>`` carries the interpreter package's version, its suite and a hash of every package's version: a warm
provision compares keys and is done.
"""

from __future__ import annotations

import fnmatch
import hashlib
import json
import re
import shutil
import subprocess
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from .discovery import MARKER, read_marker
from .proc import run_with_timeout

FAMILY = "debian-sid"  # the provisioning family of sid's roots (``--only debian-sid``)
SUITE = "sid"
# Bumped when the way a root is patched changes: the key then changes, and every root is made again.
LAYOUT = 2
# sid's packages keep their libraries in /usr/lib (merged /usr); bookworm's still split them with /lib, where its
# loader is. A root's binary gets the folders its tree has, in this order, and the loader of the first that has one.
LIBRARY_DIRS = ("usr/lib/x86_64-linux-gnu", "lib/x86_64-linux-gnu")
LOADER = "ld-linux-x86-64.so.2"
# A venv must install from PyPI; pyperf is what every bench venv installs first (its psutil has abi3 wheels).
SMOKE_PACKAGE = "pyperf"
SMOKE_TIMEOUT = 300.0


class RootError(RuntimeError):
    """A private root could not be made; the message says which step failed and why."""


@dataclass(frozen=True)
class RootSpec:
    """One interpreter from a Debian suite: the packages asked for (their dependencies follow) and its binary in
    the root."""

    id: str  # the id discovery gives it
    packages: tuple[str, ...]  # the first names the interpreter: its version is the root's version
    executable: str  # relative to the root
    suite: str = SUITE

    @property
    def family(self) -> str:
        """What its marker says it is: ``debian-sid``, ``debian-bookworm``."""
        return f"debian-{self.suite}"


def _cpython(minor: str) -> RootSpec:
    # python3.X-venv: the pip and setuptools wheels `-m venv` installs (Debian builds --without-ensurepip);
    # libpython3.X-dev: Python.h, which the Cython and cffi bindings compile against.
    return RootSpec(f"cpython-{minor}", (f"python{minor}", f"python{minor}-venv", f"libpython{minor}-dev"),
                    f"usr/bin/python{minor}")


# pypy3-venv: `-m venv`'s wheels; pypy3-dev: the headers pyperf's psutil (no PyPy wheel) and the bindings compile
# against.
PYPY_PACKAGES = ("pypy3", "pypy3-venv", "pypy3-dev")
SID_ROOTS: tuple[RootSpec, ...] = (
    _cpython("3.14"),
    _cpython("3.15"),
    RootSpec("pypy3.11", PYPY_PACKAGES, "usr/bin/pypy3.11"),  # PyPy 8.0.1
)
# The PyPy of the machine's own Debian release, by the release's name (``provision.system_suites``). Its version and
# so its binary's name are the release's: a release not listed here gets no root (provisioning says so).
SYSTEM_ROOTS: dict[str, tuple[RootSpec, ...]] = {
    "bookworm": (RootSpec("pypy3.9", PYPY_PACKAGES, "usr/bin/pypy3.9", "bookworm"),),  # PyPy 7.3.11
}

# Dependencies a running interpreter never reads, each with why; what they depend on is then not followed either.
NOT_NEEDED: tuple[tuple[str, str], ...] = (
    ("debconf", "maintainer scripts' questions: no maintainer script runs in a root"),
    ("tzdata", "zoneinfo reads the host's /usr/share/zoneinfo (its TZPATH)"),
    ("media-types", "mimetypes reads the host's /etc/mime.types"),
    ("netbase", "/etc/services and /etc/protocols: the host's are read"),
    ("ca-certificates", "ssl reads the host's certificates in /etc/ssl/certs"),
    ("readline-common", "inputrc and documentation"),
    ("gcc-*-base", "documentation only"),
    ("libc-gconv-modules-extra", "iconv's extra charsets: Python's codecs are its own"),
    ("openssl", "the command-line tool; the libraries are libssl3t64"),
    ("libexpat1-dev", "headers Python.h does not include"),
    ("zlib1g-dev", "headers Python.h does not include"),
)


def not_needed(name: str) -> str | None:
    """Why ``name`` is left out of a root, or None when it is needed."""
    return next((why for pattern, why in NOT_NEEDED if fnmatch.fnmatchcase(name, pattern)), None)


# --- what to fetch: the dependency closure and the packages' versions, from apt's answers ---------------------------


def parse_depends(text: str) -> dict[str, list[str]]:
    """Each package's hard dependencies (Depends, PreDepends) in ``apt-cache depends`` output, one per group.

    Of alternatives (`` |Depends: a`` then ``  Depends: b``) the first real package is taken; a virtual one (``<b>``)
    is followed by its providers, indented deeper, which count as further alternatives.
    """
    groups: dict[str, list[list[str]]] = {}
    package, open_group, last_hard = None, False, False
    for line in text.splitlines():
        if not line.startswith(" "):
            package, open_group, last_hard = line.strip(), False, False
            groups.setdefault(package, [])
            continue
        match = re.match(r"^ ([ |])(\w+): (\S+)$", line)
        if match and package is not None:
            last_hard = match.group(2) in ("Depends", "PreDepends")
            if last_hard:
                if not open_group:
                    groups[package].append([])
                groups[package][-1].append(match.group(3))
            open_group = last_hard and match.group(1) == "|"
        elif package is not None and last_hard and line.startswith("    "):
            groups[package][-1].append(line.strip())
    return {name: [real[0].split(":")[0] for real in ([n for n in group if not n.startswith("<")] for group in found)
                   if real]
            for name, found in groups.items()}


def dependency_closure(packages: Sequence[str], depends: str,
                       leave_out: Callable[[str], str | None] = not_needed) -> list[str]:
    """``packages`` and what they need, transitively, less what ``leave_out`` gives a reason for (``NOT_NEEDED``),
    from ``apt-cache depends --recurse``'s answer ``depends`` (which also follows what is left out here: one query
    instead of one per level)."""
    graph = parse_depends(depends)
    seen: list[str] = []
    level = list(dict.fromkeys(packages))
    while level:
        seen += level
        following = [dep for name in level for dep in graph.get(name, [])]
        level = [dep for dep in dict.fromkeys(following) if dep not in seen and leave_out(dep) is None]
    return seen


@dataclass(frozen=True)
class Deb:
    """One package file as ``apt-get download --print-uris`` names it."""

    name: str
    version: str
    filename: str  # name_version_arch.deb, the epoch's colon written %3a
    sha256: str


def parse_print_uris(text: str) -> list[Deb]:
    """``'URL' name_version_arch.deb size SHA256:hex`` lines as Debs."""
    debs = []
    for match in re.finditer(r"^'[^']+' (\S+\.deb) \d+ SHA256:([0-9a-f]+)$", text, flags=re.MULTILINE):
        filename = match.group(1)
        name, version, _ = filename[: -len(".deb")].split("_")
        debs.append(Deb(name, version.replace("%3a", ":"), filename, match.group(2)))
    return debs


def root_key(spec: RootSpec, debs: Iterable[Deb]) -> str:
    """``python3.14-3.14.10-1-sid-<hash>``: the interpreter's version and suite, and a hash of all versions and the
    layout."""
    versions = {deb.name: deb.version for deb in debs}
    digest = hashlib.sha256(json.dumps([LAYOUT, sorted(versions.items())]).encode()).hexdigest()[:8]
    head = spec.packages[0]
    return f"{head}-{versions[head].replace(':', '_')}-{spec.suite}-{digest}"


# --- making a root ------------------------------------------------------------------------------------------------


def patch_root(tree: Path, root: Path, spec: RootSpec) -> None:
    """Make the binary in ``tree`` start from ``root`` (where the tree will be), and its venvs and headers find the
    root's files, not /usr's."""
    binary = tree / spec.executable
    folders = [folder for folder in LIBRARY_DIRS if (tree / folder).is_dir()]
    loader = next((f"{folder}/{LOADER}" for folder in folders if (tree / folder / LOADER).exists()), None)
    if loader is None:
        raise RootError(f"no {LOADER} in {' or '.join(LIBRARY_DIRS)}: is libc6 among the packages?")
    subprocess.run(["patchelf", "--set-interpreter", str(root / loader), "--force-rpath", "--set-rpath",
                    ":".join(str(root / folder) for folder in folders), str(binary)],
                   check=True, capture_output=True, text=True)
    lib = binary.parent.parent / "lib" / binary.name
    # ensurepip takes pip's wheel from an absolute /usr path: the host's pip otherwise, or none on a machine without
    # python3-pip-whl. CPython reads it from sysconfig's WHEEL_PKG_DIR; PyPy 3.9's ensurepip has it written in.
    for data in [*lib.glob("_sysconfigdata_*.py"), lib / "ensurepip" / "__init__.py"]:
        if data.is_file() and not data.is_symlink():
            data.write_text(data.read_text().replace("'/usr/share/python-wheels", f"'{root}/usr/share/python-wheels"))
    # Debian's pyconfig.h includes the multiarch one as <x86_64-linux-gnu/...>, found only under /usr/include; a
    # path relative to this header keeps a build's -I of the root's include folder enough.
    header = tree / "usr" / "include" / binary.name / "pyconfig.h"
    if header.exists() and f"<x86_64-linux-gnu/{binary.name}/pyconfig.h>" in header.read_text():
        header.write_text("/* interpmatrix: the multiarch pyconfig.h next to this root's, not the host's */\n"
                          f'#include "../x86_64-linux-gnu/{binary.name}/pyconfig.h"\n')


SMOKE_SCRIPT = r"""
import json, os, shutil, subprocess, sys, sysconfig
import ssl, zlib, ctypes, sqlite3, venv
work, package = sys.argv[1], sys.argv[2]
jit = getattr(sys, "_jit", None)
pypy = "__pypy__" in sys.builtin_module_names
facts = {"version": sys.version.split()[0], "jit_available": pypy or bool(jit and jit.is_available())}
venv.create(os.path.join(work, "venv"), with_pip=True)
python = os.path.join(work, "venv", "bin", "python")
subprocess.run([python, "-m", "pip", "install", "-q", "--disable-pip-version-check", package], check=True,
               stdout=sys.stderr)
compiler = shutil.which("cc") or shutil.which("gcc")
if compiler:
    with open(os.path.join(work, "smokeext.c"), "w") as source:
        source.write('#include <Python.h>\n'
                     'static PyObject *answer(PyObject *s, PyObject *a) { return PyLong_FromLong(42); }\n'
                     'static PyMethodDef m[] = {{"answer", answer, METH_NOARGS, 0}, {0}};\n'
                     'static struct PyModuleDef d = {PyModuleDef_HEAD_INIT, "smokeext", 0, -1, m};\n'
                     'PyMODINIT_FUNC PyInit_smokeext(void) { return PyModule_Create(&d); }\n')
    target = os.path.join(work, "smokeext" + sysconfig.get_config_var("EXT_SUFFIX"))
    subprocess.run([compiler, "-shared", "-fPIC", "-I" + sysconfig.get_paths()["include"], source.name, "-o", target],
                   check=True, stdout=sys.stderr)
    subprocess.run([python, "-c", "import sys; sys.path.insert(0, sys.argv[1]); import smokeext; "
                    "assert smokeext.answer() == 42", work], check=True)
    facts["extension"] = "built and loaded"
else:
    facts["extension"] = "not tried: no C compiler"
print(json.dumps(facts))
"""


def smoke_test(python: Path, work: Path, package: str = SMOKE_PACKAGE, timeout: float = SMOKE_TIMEOUT) -> dict:
    """What the root's python says of itself, once it imports what pip and the bindings need, makes a venv that
    installs ``package`` from PyPI, and loads an extension compiled here; RootError with the reason otherwise."""
    work.mkdir(parents=True, exist_ok=True)
    try:
        result = run_with_timeout([python, "-c", SMOKE_SCRIPT, work, package], timeout)
    except OSError as error:
        raise RootError(f"smoke test: {python} does not start: {error}") from None
    if result.timed_out:
        raise RootError(f"smoke test: {python} took longer than {timeout:g} s")
    lines = result.stdout.strip().splitlines()
    if result.returncode != 0 or not lines:
        last = (result.stderr.strip().splitlines() or ["no message"])[-1]
        raise RootError(f"smoke test of {python} failed (exit {result.returncode}): {last}")
    return json.loads(lines[-1])


def published(cache: Path, spec: RootSpec) -> list[Path]:
    """The entries of ``spec`` that discovery finds, newest made last."""
    entries = []
    for marker in sorted((cache / "interpreters").glob(f"*/{MARKER}")):
        info = read_marker(marker.parent)
        if info and info.get("family") == spec.family and info.get("id") == spec.id:
            entries.append(marker.parent)
    return sorted(entries, key=lambda entry: read_marker(entry).get("made", ""))


Run = Callable[..., None]  # provision.run_logged's signature: (command, log_file, stage, echo, cwd=, timeout=)


def download(cache: Path, debs: Sequence[Deb], apt_options: Sequence[str], run: Run, echo: Callable[[str], None],
             log_file: Path, download_timeout: float) -> Path:
    """The folder of package files (``debs/``) once it holds all of ``debs``: each is downloaded once, into a
    partial folder first, so an interrupted download is never taken for a package."""
    store = cache / "debs"
    store.mkdir(parents=True, exist_ok=True)
    missing = [deb for deb in debs if not (store / deb.filename).exists()]
    if missing:
        partial = store / "partial"
        shutil.rmtree(partial, ignore_errors=True)
        partial.mkdir()
        run(["apt-get", *apt_options, "download", *[f"{deb.name}={deb.version}" for deb in missing]], log_file,
            f"apt-get download ({len(missing)} packages)", echo, cwd=partial, timeout=download_timeout)
        for deb in missing:
            (partial / deb.filename).rename(store / deb.filename)
    return store


def make_root(cache: Path, spec: RootSpec, debs: Sequence[Deb], apt_options: Sequence[str], run: Run,
              echo: Callable[[str], None], download_timeout: float,
              smoke: Callable[[Path, Path], dict] = smoke_test) -> Path:
    """The published entry of ``spec``'s root made of ``debs``: cached when its key is, else fetched, unpacked,
    patched, smoke-tested and published. Whatever fails, nothing of it is left for discovery to find."""
    key = root_key(spec, debs)
    entry, root = cache / "interpreters" / key, cache / "roots" / key
    if read_marker(entry) and (root / spec.executable).exists():
        echo(f"  {key}: cached")
        return entry
    started = time.monotonic()
    log_file = cache / "logs" / f"{key}.log"
    store = download(cache, debs, apt_options, run, echo, log_file, download_timeout)
    hidden_root = root.with_name(f".{key}.partial")
    hidden_entry = entry.with_name(f".{key}.partial")
    for stale in (hidden_root, root, hidden_entry, entry):
        shutil.rmtree(stale, ignore_errors=True)
    try:
        hidden_root.mkdir(parents=True)
        for deb in debs:
            run(["dpkg-deb", "-x", str(store / deb.filename), str(hidden_root)], log_file, f"unpack {deb.name}",
                lambda line: None)
        patch_root(hidden_root, root, spec)  # the paths written are the final ones
        hidden_root.rename(root)
        facts = smoke(root / spec.executable, cache / "build" / f"{key}-smoke")
        (hidden_entry / "bin").mkdir(parents=True)
        (hidden_entry / "bin" / Path(spec.executable).name).symlink_to(root / spec.executable)
        versions = {deb.name: deb.version for deb in debs}
        marker = json.dumps({
            "family": spec.family, "id": spec.id, "build": f"Debian {spec.suite} {versions[spec.packages[0]]}",
            "source": f"Debian {spec.suite} binary packages", "packages": versions, "root": str(root),
            "executable": str(root / spec.executable), "smoke": facts,
            "seconds": round(time.monotonic() - started, 1), "made": datetime.now(timezone.utc).isoformat(),
        }, indent=2) + "\n"
        # Also at the interpreter's sys.prefix, where discovery reads a provisioned build's facts (``link_twins``);
        # roots/ itself is never searched for interpreters.
        (root / "usr" / MARKER).write_text(marker)
        (hidden_entry / MARKER).write_text(marker)
        hidden_entry.rename(entry)
    except BaseException as error:  # a failed step, a time-out, Ctrl-C: no root is left half-made
        for stale in (hidden_root, root, hidden_entry):
            shutil.rmtree(stale, ignore_errors=True)
        if isinstance(error, subprocess.CalledProcessError):
            raise RootError(f"{key}: {error.cmd[0]} failed: {(error.stderr or '').strip()}") from None
        if isinstance(error, OSError):
            raise RootError(f"{key}: {error}") from None
        raise
    finally:
        shutil.rmtree(cache / "build" / f"{key}-smoke", ignore_errors=True)
    echo(f"  {key}: made in {time.monotonic() - started:.1f} s ({facts})")
    for older in published(cache, spec):
        if older != entry:
            retire(older)
            echo(f"  {older.name}: removed (superseded by {key})")
    return entry


def retire(entry: Path) -> None:
    """Remove a published entry and its root: first out of discovery's sight (renamed hidden), then from the disk.

    One root per interpreter: two builds of one minor would share its id (the older named cpython-3.14.10-provisioned),
    and the default selection takes only the newest."""
    info = read_marker(entry) or {}
    hidden = entry.with_name(f".{entry.name}.retired")
    entry.rename(hidden)
    shutil.rmtree(hidden, ignore_errors=True)
    if info.get("root"):
        shutil.rmtree(info["root"], ignore_errors=True)


# --- asking apt ---------------------------------------------------------------------------------------------------


def apt_answer(command: Sequence[str], timeout: float = 60.0) -> str:
    """What an apt query prints; RootError with apt's last line when it fails."""
    try:
        result = run_with_timeout(command, timeout)
    except OSError as error:
        raise RootError(f"{command[0]} does not run: {error}") from None
    if result.timed_out or result.returncode != 0:
        last = (result.stderr.strip().splitlines() or [f"took longer than {timeout:g} s"])[-1]
        raise RootError(f"{' '.join(command[:1] + [c for c in command if not c.startswith('-')][1:3])} failed: {last}")
    return result.stdout


# Only the hard dependencies: what a package merely recommends or conflicts with is not followed.
RECURSE = ("--recurse", "--no-recommends", "--no-suggests", "--no-conflicts", "--no-breaks", "--no-replaces",
           "--no-enhances")


def resolve(spec: RootSpec, apt_options: Sequence[str], leave_out: Callable[[str], str | None] = not_needed
            ) -> list[Deb]:
    """The package files of ``spec``'s root, as the private lists have them now."""
    names = dependency_closure(spec.packages, apt_answer(["apt-cache", *apt_options, "depends", *RECURSE, *spec.packages]),
                               leave_out)
    debs = parse_print_uris(apt_answer(["apt-get", *apt_options, "download", "--print-uris", *names]))
    missing = sorted(set(names) - {deb.name for deb in debs})
    if missing:
        raise RootError(f"{spec.suite} lists no package file for {', '.join(missing)}")
    return debs


def provide(cache: Path, apt_options: Sequence[str] | None, lists_error: str | None, run: Run,
            echo: Callable[[str], None], download_timeout: float, errors: tuple[type[Exception], ...] = (RootError,),
            specs: Sequence[RootSpec] = SID_ROOTS) -> list[tuple[RootSpec, Path | None, str]]:
    """(spec, published entry or None, what happened) for each of ``specs``; ``errors`` (RootError, and what
    ``run`` raises) leave that one out. Without fresh lists (``lists_error``) the newest root already made is used:
    the cache keeps working offline."""
    done = []
    for spec in specs:
        try:
            if lists_error is not None or apt_options is None:
                entries = published(cache, spec)
                if not entries:
                    raise RootError(f"no cached root, and the {spec.suite} lists are unavailable: {lists_error}")
                done.append((spec, entries[-1], f"used: {entries[-1].name} (cached; {spec.suite} lists unavailable)"))
                continue
            entry = make_root(cache, spec, resolve(spec, apt_options), apt_options, run, echo, download_timeout)
            done.append((spec, entry, f"used: {entry.name}"))
        except errors as error:
            done.append((spec, None, f"failed: {error}"))
    return done
