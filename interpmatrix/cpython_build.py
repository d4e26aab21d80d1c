"""Build a free-threaded CPython and its GIL twin from one source tarball, and the logged stages every provisioning
step runs in.

The twin is a GIL-enabled build of the same source with the same configure flags: comparing a free-threaded build
with an unrelated CPython of the same minor (Debian's, pyenv's) measures their builds as much as free-threading.
The tarball comes from python.org (``fetch_python_org``), Debian's source package (``provision``) or the user
(``nox -s provision -- --cpython-source PATH``, checked by ``source_tarball`` before anything runs). Builds land in
the cache keyed by version and flags, carry a marker file written last (``discovery.MARKER``), and are reused.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import shutil
import subprocess
import tarfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from packaging.version import Version

from . import discovery
from .markdown import duration
from .proc import run_with_timeout

MARKER = discovery.MARKER
# Plain builds: no PGO/LTO keeps a pair of builds near 10 minutes on 2 cores. Both twins get exactly these flags.
CPYTHON_CONFIGURE_FLAGS: tuple[str, ...] = ()
FREE_THREADED_FLAG = "--disable-gil"
FREE_THREADING_SINCE = (3, 13)  # the first minor whose configure knows FREE_THREADED_FLAG (PEP 703)
# Newest first: the first one whose source can be had is built.
CPYTHON_MINORS = ("3.15", "3.14", "3.13")
PYTHON_ORG_FTP = "https://www.python.org/ftp/python/"
NETWORK_TIMEOUT = 5.0
HEARTBEAT = 30.0

Log = Callable[[str], None]


class ProvisionError(RuntimeError):
    """A source could not deliver; the message says why and what to try."""


def run_logged(command: Sequence[str], log_file: Path, stage: str, echo: Log, cwd: Path | None = None,
               timeout: float | None = None, env: Mapping[str, str] | None = None) -> None:
    """Run one stage with its output appended to ``log_file``, printing its elapsed time as it goes."""
    log_file.parent.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    echo(f"  {stage}: {' '.join(command)}")
    with log_file.open("a") as log:
        log.write(f"\n$ {' '.join(command)}\n")
        log.flush()
        # HEARTBEAT is read here, not bound at import: the tests shorten it.
        result = run_with_timeout(command, timeout, cwd=cwd, env=env, stdout=log, stderr=subprocess.STDOUT,
                                  progress=lambda elapsed: echo(f"  {stage}: {duration(elapsed)} so far"),
                                  progress_every=HEARTBEAT)
    if result.timed_out:
        raise ProvisionError(f"{stage} took longer than {timeout:g} s")
    if result.returncode != 0:
        tail = "\n".join(log_file.read_text(errors="replace").splitlines()[-15:])
        raise ProvisionError(f"{stage} failed (exit {result.returncode}); last lines of {log_file}:\n{tail}")
    echo(f"  {stage}: done in {duration(time.monotonic() - started)}")


def cache_key(version: str, flags: Sequence[str]) -> str:
    """Folder names carry the version and a hash of the flags shared by both twins."""
    digest = hashlib.sha256(json.dumps([version, list(flags)]).encode()).hexdigest()[:8]
    return f"{version}-{digest}"


def install_dirs(cache: Path, version: str, flags: Sequence[str] = CPYTHON_CONFIGURE_FLAGS) -> tuple[Path, Path]:
    """(free-threaded prefix, twin prefix) for one source version."""
    key = cache_key(version, flags)
    return cache / "interpreters" / f"cpython-{key}-ft", cache / "interpreters" / f"cpython-{key}-gil"


def minor_of(version: str) -> str:
    return ".".join(map(str, Version(version).release[:2]))


# --- where a source tarball comes from ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Source:
    """A CPython source tarball and the version its Include/patchlevel.h says it is."""

    version: str
    tarball: Path


class SourceError(ValueError, argparse.ArgumentTypeError):
    """A tarball that cannot be built free-threaded. An ArgumentTypeError too: as ``--cpython-source``'s type,
    argparse then prints this message (of a plain ValueError it prints only "invalid value")."""


ASK_FOR = ("give the path of a CPython source tarball of 3.13 or newer: Python-3.X.Y.tar.xz from python.org, or "
           "Debian's python3.X_3.X.Y.orig.tar.xz")


def source_tarball(path: str | Path) -> Source:
    """``path`` as a Source, once it is a CPython source tarball of a minor that can build free-threaded; SourceError
    saying what is wrong and what to give instead. Reads the archive up to its patchlevel.h (a fraction of a second):
    nothing is unpacked."""
    tarball = Path(path).expanduser().absolute()
    if not tarball.is_file():
        raise SourceError(f"{path}: {'a folder' if tarball.is_dir() else 'no such file'}; {ASK_FOR}")
    version = None
    try:
        with tarfile.open(tarball) as archive:
            for member in archive:  # streamed: a .tar.xz cannot seek to the member
                if member.isfile() and re.fullmatch(r"[^/]+/Include/patchlevel\.h", member.name):
                    header = archive.extractfile(member).read().decode(errors="replace")  # type: ignore[union-attr]
                    found = re.search(r'^#define\s+PY_VERSION\s+"([^"]+)"', header, flags=re.MULTILINE)
                    version = found.group(1).removesuffix("+") if found else None
                    break
    except (tarfile.TarError, OSError, EOFError):
        raise SourceError(f"{path}: not a readable tar archive; {ASK_FOR}") from None
    if version is None:
        raise SourceError(f"{path}: not a CPython source tarball (no <folder>/Include/patchlevel.h with PY_VERSION "
                         f"in it); {ASK_FOR}")
    if Version(version).release[:2] < FREE_THREADING_SINCE:
        raise SourceError(f"{path}: CPython {version} cannot be built free-threaded ({FREE_THREADED_FLAG} came "
                         f"with {'.'.join(map(str, FREE_THREADING_SINCE))}); {ASK_FOR}")
    return Source(version, tarball)


def newest_python_org_release(index_html: str, minors: Sequence[str] = CPYTHON_MINORS) -> str | None:
    """The newest final release of the wanted minors listed in python.org's FTP index."""
    folders = set(re.findall(r'href="(\d+\.\d+\.\d+)/"', index_html))
    wanted = [text for text in folders if minor_of(text) in minors]
    # The folder's own name, not Version's normalised text: it goes into the download URL.
    return max(wanted, key=Version, default=None)


def fetch_python_org(cache: Path, echo: Log) -> tuple[str, Path]:
    """(version, tarball) from python.org, or ProvisionError fast when it cannot be reached."""
    try:
        with urllib.request.urlopen(PYTHON_ORG_FTP, timeout=NETWORK_TIMEOUT) as response:
            index = response.read().decode(errors="replace")
    except (urllib.error.URLError, OSError) as error:
        raise ProvisionError(f"{PYTHON_ORG_FTP} unreachable within {NETWORK_TIMEOUT:g} s ({error})") from None
    version = newest_python_org_release(index)
    if version is None:
        raise ProvisionError(f"no {'/'.join(CPYTHON_MINORS)} release listed at {PYTHON_ORG_FTP}")
    tarball = cache / "src" / f"Python-{version}.tar.xz"
    if not tarball.exists():
        url = f"{PYTHON_ORG_FTP}{version}/Python-{version}.tar.xz"
        echo(f"  downloading {url}")
        tarball.parent.mkdir(parents=True, exist_ok=True)
        partial = tarball.with_suffix(".partial")
        try:
            with urllib.request.urlopen(url, timeout=NETWORK_TIMEOUT) as response, partial.open("wb") as out:
                shutil.copyfileobj(response, out)
        except (urllib.error.URLError, OSError) as error:
            raise ProvisionError(f"download of {url} failed: {error}") from None
        partial.rename(tarball)
    return version, tarball


# --- building -----------------------------------------------------------------------------------------------------


# What a usable build must import: pip needs ssl and zlib; the faults and bindings need ctypes.
REQUIRED_MODULES = ("ssl", "zlib", "ctypes", "sqlite3")


def verify_build(prefix: Path, free_threaded: bool) -> str:
    """The built interpreter's path, once it runs, imports what pip needs and has the GIL state it should."""
    python = next((p for p in sorted((prefix / "bin").glob("python3.*")) if p.name[-1].isdigit() or p.name.endswith("t")),
                  None)
    if python is None:
        raise ProvisionError(f"no python3.x executable in {prefix / 'bin'}")
    code = (f"import sys, {', '.join(REQUIRED_MODULES)}; "
            "print(getattr(sys, '_is_gil_enabled', lambda: True)())")
    result = subprocess.run([str(python), "-c", code], capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise ProvisionError(f"{python} does not work: {(result.stderr.strip().splitlines() or ['?'])[-1]}")
    gil = result.stdout.strip() == "True"
    if gil == free_threaded:
        raise ProvisionError(f"{python} has the GIL {'on' if gil else 'off'}, but was built to have it "
                             f"{'off' if free_threaded else 'on'}")
    return str(python)


def build_cpython(cache: Path, version: str, tarball: Path, source: str, echo: Log,
                  flags: Sequence[str] = CPYTHON_CONFIGURE_FLAGS, prepare: Callable[[], None] = lambda: None
                  ) -> list[Path]:
    """Build the free-threaded interpreter and its GIL twin from one tarball, with the same flags. ``prepare`` runs
    before a build that is not cached (provisioning installs the build dependencies there)."""
    ft_prefix, twin_prefix = install_dirs(cache, version, flags)
    built = []
    for prefix, extra, other in ((ft_prefix, [FREE_THREADED_FLAG], twin_prefix), (twin_prefix, [], ft_prefix)):
        if discovery.read_marker(prefix):
            echo(f"  {prefix.name}: cached")
            built.append(prefix)
            continue
        configure = [f"--prefix={prefix}", *flags, *extra]
        tree = cache / "build" / prefix.name
        log_file = cache / "logs" / f"{prefix.name}.log"
        shutil.rmtree(tree, ignore_errors=True)
        shutil.rmtree(prefix, ignore_errors=True)
        tree.mkdir(parents=True)
        log_file.unlink(missing_ok=True)
        echo(f"building CPython {version}{'t' if extra else ''} ({prefix.name}); log: {log_file}")
        started = time.monotonic()
        try:
            run_logged(["tar", "-xf", str(tarball), "-C", str(tree), "--strip-components=1"], log_file, "unpack", echo)
            prepare()
            run_logged(["./configure", *configure], log_file, "configure", echo, cwd=tree)
            run_logged(["make", f"-j{os.cpu_count() or 1}"], log_file, "make", echo, cwd=tree)
            run_logged(["make", "install"], log_file, "install", echo, cwd=tree)
            executable = verify_build(prefix, free_threaded=bool(extra))
        except ProvisionError as error:
            shutil.rmtree(prefix, ignore_errors=True)
            raise ProvisionError(
                f"{error}\nretry with: cd {tree} && ./configure {' '.join(configure)} && make && make install"
            ) from None
        seconds = time.monotonic() - started
        (prefix / MARKER).write_text(json.dumps({
            "family": "free-threaded" if extra else "twin",
            "version": version,
            "configure": configure,
            "flags": list(flags),
            "twin": other.name,
            "executable": executable,
            "source": source,
            "build_seconds": round(seconds, 1),
            "built": datetime.now(timezone.utc).isoformat(),
        }, indent=2) + "\n")
        shutil.rmtree(tree, ignore_errors=True)  # a build tree is ~400 MB; the log stays
        echo(f"  {prefix.name}: built in {duration(seconds)}")
        built.append(prefix)
    return built


def provisioned_twins(cache: Path) -> list[Path]:
    """Finished free-threaded builds of ours whose twin is finished too."""
    found = []
    for marker in sorted((cache / "interpreters").glob(f"*/{MARKER}")):
        info = discovery.read_marker(marker.parent)
        if info and info.get("family") == "free-threaded" and discovery.read_marker(cache / "interpreters" / info["twin"]):
            found.append(marker.parent)
    return found
