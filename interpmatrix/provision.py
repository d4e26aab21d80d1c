"""Get the interpreters the matrix compares when the machine lacks them: PyPy, and a free-threaded CPython with its twin.

The twin is a GIL-enabled build of the same source with the same configure flags: comparing a free-threaded build
with an unrelated CPython of the same minor (Debian's, pyenv's) measures their builds as much as free-threading.

Sources are tried in order, each with a short time-out so an unreachable one costs seconds: what is already present
(discovery), uv, the CPython tarball from python.org, Debian's packages (PyPy from the distribution; the CPython source
package, fetched through a private apt configuration that leaves the system's untouched). Everything lands in the
per-user cache (``discovery.cache_dir()``), keyed by version and flags, and is reused by later runs. A finished
install carries a marker file (``MARKER``); discovery only trusts provisioned folders that have one. CPython 3.14 and
3.15 come from Debian sid's binary packages, each unpacked into a private root (``private_roots``).

What the interpreters' venvs need from the system comes too, on Debian (``debian_packages``): PyPy's headers and a C
compiler (pyperf's psutil has no PyPy wheel and compiles), Debian CPython's headers (the bindings compile against
them). Only what ``dpkg -s`` says is missing is installed, as root; without root the apt-get command is printed.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import re
import shutil
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from packaging.version import Version

from . import discovery, private_roots
from .debian_packages import (
    DEBIAN_PACKAGES,
    DEBIAN_PYPY,
    TOOLCHAIN,
    DebianPackage,
    debian_packages_installed,
    missing_packages,
    needed_packages,
)
from .markdown import duration
from .proc import run_with_timeout

MARKER = discovery.MARKER
FAMILIES = ("pypy", "free-threaded", private_roots.FAMILY)
# Plain builds: no PGO/LTO keeps a pair of builds near 10 minutes on 2 cores. Both twins get exactly these flags.
CPYTHON_CONFIGURE_FLAGS: tuple[str, ...] = ()
FREE_THREADED_FLAG = "--disable-gil"
# Newest first: the first one whose source can be had is built.
CPYTHON_MINORS = ("3.15", "3.14", "3.13")
DEBIAN_SOURCE_SUITE = "trixie"
PYTHON_ORG_FTP = "https://www.python.org/ftp/python/"
NETWORK_TIMEOUT = 5.0
DOWNLOAD_TIMEOUT = 300.0
HEARTBEAT = 30.0

Log = Callable[[str], None]


class ProvisionError(RuntimeError):
    """A source could not deliver; the message says why and what to try."""


@dataclass
class Outcome:
    """What provisioning one family did: the sources tried, in order, and what each said."""

    family: str
    tried: list[tuple[str, str]] = field(default_factory=list)  # (source, what happened)
    provided: list[str] = field(default_factory=list)  # folders or executables now present
    error: str | None = None
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return self.error is None

    def to_dict(self) -> dict[str, object]:
        """What run.json keeps, so the report can say why a family has no column."""
        return {"family": self.family, "tried": [list(t) for t in self.tried], "provided": self.provided,
                "error": self.error, "seconds": round(self.seconds, 1)}


def cache_key(version: str, flags: Sequence[str]) -> str:
    """Folder names carry the version and a hash of the flags shared by both twins."""
    digest = hashlib.sha256(json.dumps([version, list(flags)]).encode()).hexdigest()[:8]
    return f"{version}-{digest}"


def install_dirs(cache: Path, version: str, flags: Sequence[str] = CPYTHON_CONFIGURE_FLAGS) -> tuple[Path, Path]:
    """(free-threaded prefix, twin prefix) for one source version."""
    key = cache_key(version, flags)
    return cache / "interpreters" / f"cpython-{key}-ft", cache / "interpreters" / f"cpython-{key}-gil"


# --- running commands -----------------------------------------------------------------------------------------


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


# --- sources of a free-threaded CPython source tree -------------------------------------------------------------


def newest_python_org_release(index_html: str, minors: Sequence[str] = CPYTHON_MINORS) -> str | None:
    """The newest final release of the wanted minors listed in python.org's FTP index."""
    folders = set(re.findall(r'href="(\d+\.\d+\.\d+)/"', index_html))
    wanted = [text for text in folders if ".".join(map(str, Version(text).release[:2])) in minors]
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


def debian_source_uris(sources_dir: Path = Path("/etc/apt")) -> list[str]:
    """The Debian mirror URIs this machine's apt already uses (one-line and deb822 formats)."""
    uris: list[str] = []
    files = [sources_dir / "sources.list", *sorted((sources_dir / "sources.list.d").glob("*"))]
    for path in files:
        try:
            text = path.read_text()
        except OSError:
            continue
        uris += re.findall(r"^URIs:\s*(\S+)", text, flags=re.MULTILINE)
        uris += re.findall(r"^deb\s+(?:\[[^]]*\]\s+)?(\S+)", text, flags=re.MULTILINE)
    debian = [uri for uri in dict.fromkeys(uris) if uri.rstrip("/").endswith("/debian")]
    return debian


def private_apt_options(cache: Path, uri: str, suite: str = DEBIAN_SOURCE_SUITE, kind: str = "deb-src") -> list[str]:
    """apt options that keep its lists and downloads in our cache, leaving the system's configuration as it is.

    ``kind`` "deb" lists binary packages. Each other kind or suite has a folder of its own: one ``update`` would
    otherwise drop the other's lists."""
    apt = cache / ("apt" if (kind, suite) == ("deb-src", DEBIAN_SOURCE_SUITE) else f"apt-{kind}-{suite}")
    (apt / "lists" / "partial").mkdir(parents=True, exist_ok=True)
    (apt / "archives" / "partial").mkdir(parents=True, exist_ok=True)
    sources = apt / "sources.list"
    sources.write_text(f"{kind} {uri} {suite} main\n")
    return [
        f"-o=Dir::Etc::sourcelist={sources}",
        "-o=Dir::Etc::sourceparts=-",
        f"-o=Dir::State::Lists={apt / 'lists'}",
        f"-o=Dir::Cache={apt}",
        f"-o=Acquire::http::Timeout={NETWORK_TIMEOUT:g}",
        "-o=APT::Sandbox::User=root",
        "-qq",
    ]


def fetch_debian_source(cache: Path, echo: Log) -> tuple[str, Path]:
    """(version, upstream tarball) from Debian's CPython source package, newest minor first."""
    if shutil.which("apt-get") is None:
        raise ProvisionError("apt-get is not available (not a Debian-like system)")
    uris = debian_source_uris()
    if not uris:
        raise ProvisionError("no Debian mirror in /etc/apt: cannot fetch a source package")
    options = private_apt_options(cache, uris[0])
    log_file = cache / "logs" / "apt-source.log"
    try:
        run_logged(["apt-get", *options, "update"], log_file, "apt-get update (private lists)", echo, timeout=180)
    except ProvisionError as error:
        raise ProvisionError(f"Debian source lists unavailable: {error}") from None
    target = cache / "src"
    target.mkdir(parents=True, exist_ok=True)
    reasons = []
    for minor in CPYTHON_MINORS:
        package = f"python{minor}"
        existing = sorted(target.glob(f"{package}_*.orig.tar.xz"))
        if not existing:
            try:
                run_logged(["apt-get", *options, "source", "--download-only", f"{package}/{DEBIAN_SOURCE_SUITE}"],
                           log_file, f"apt-get source {package}", echo, cwd=target, timeout=DOWNLOAD_TIMEOUT)
            except ProvisionError as error:
                reasons.append(f"{package}: {str(error).splitlines()[0]}")
                continue
            existing = sorted(target.glob(f"{package}_*.orig.tar.xz"))
        if existing:
            version = existing[-1].name.split("_")[1].removesuffix(".orig.tar.xz")
            return version, existing[-1]
        reasons.append(f"{package}: no upstream tarball in the source package")
    raise ProvisionError("no CPython source package could be downloaded: " + "; ".join(reasons))


# --- Debian packages -----------------------------------------------------------------------------------------------


def install_debian_packages(cache: Path, packages: Sequence[DebianPackage], echo: Log, log_name: str) -> str:
    """Install with apt-get those of ``packages`` that are missing (as root: say so first); return what was done.

    Without root: ProvisionError with the command that installs exactly the missing ones, and why each is needed.
    """
    if shutil.which("dpkg") is None or shutil.which("apt-get") is None:
        return "skipped: not a Debian-like system (no dpkg or apt-get)"
    # The packages some are needed beside are asked about too: pypy3-dev is needed only where pypy3 is installed.
    asked = [package.name for package in packages] + [package.beside for package in packages if package.beside]
    installed = debian_packages_installed(list(dict.fromkeys(asked)))
    missing = missing_packages(packages, installed)
    if not missing:
        needed = [package.name for package in needed_packages(packages, installed)]
        return f"present: {', '.join(needed)}" if needed else "none needed"
    names = [package.name for package in missing]
    why = "; ".join(f"{package.name}: {package.why}" for package in missing)
    if os.geteuid() != 0:
        raise ProvisionError(f"needs root: run `sudo apt-get install -y {' '.join(names)}` ({why})")
    echo(f"installing with apt-get (as root: this changes the system): {' '.join(names)}")
    for package in missing:
        echo(f"  {package.name}: {package.why}")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    log_file = cache / "logs" / f"apt-{log_name}.log"
    run_logged(["apt-get", "-qq", "update"], log_file, "apt-get update", echo, timeout=180, env=env)
    run_logged(["apt-get", "install", "-y", "-qq", *names], log_file, "apt-get install", echo,
               timeout=DOWNLOAD_TIMEOUT, env=env)
    return f"installed: {', '.join(names)}"


# --- building -----------------------------------------------------------------------------------------------------


# What a usable build must import: pip needs ssl and zlib; the faults and bindings need ctypes.
REQUIRED_MODULES = ("ssl", "zlib", "ctypes", "sqlite3")


def ensure_build_deps(cache: Path, echo: Log) -> None:
    """Install Debian's build dependencies of CPython where some are missing (ProvisionError without root)."""
    try:
        done = install_debian_packages(cache, DEBIAN_PACKAGES["free-threaded"], echo, "build-deps")
    except ProvisionError as error:
        raise ProvisionError(f"CPython's build dependencies are missing; {error}") from None
    echo(f"  build dependencies: {done}")


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
                  flags: Sequence[str] = CPYTHON_CONFIGURE_FLAGS) -> list[Path]:
    """Build the free-threaded interpreter and its GIL twin from one tarball, with the same flags."""
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
            ensure_build_deps(cache, echo)
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


# --- the families -------------------------------------------------------------------------------------------------


def _install_with_uv(cache: Path, outcome: Outcome, echo: Log, *requests: str) -> bool:
    """``uv python install <requests>``, noting in ``outcome`` what happened; True when uv delivered."""
    uv = shutil.which("uv")
    if uv is None:
        outcome.tried.append(("uv", "skipped: uv is not installed"))
        return False
    command = [uv, "python", "install", *requests]
    try:
        run_logged(command, cache / "logs" / "uv.log", "uv python install", echo, timeout=DOWNLOAD_TIMEOUT,
                   env={**os.environ, "UV_HTTP_TIMEOUT": f"{NETWORK_TIMEOUT:g}"})
    except ProvisionError as error:
        outcome.tried.append(("uv", f"skipped: {str(error).splitlines()[0]}"))
        return False
    outcome.tried.append(("uv", f"used: uv python install {' '.join(requests)}"))
    return True


def provision_free_threaded(cache: Path, interpreters: Sequence[discovery.Interpreter], echo: Log) -> Outcome:
    outcome = Outcome("free-threaded")
    twins = provisioned_twins(cache)
    if twins:
        outcome.tried.append(("present", f"used: {', '.join(p.name for p in twins)} (cached, with twins)"))
        outcome.provided = [str(p) for p in twins]
        return outcome
    outcome.tried.append(("present", "skipped: no free-threaded build with a same-source GIL twin"))
    # uv's free-threaded and GIL builds of one version come from one build system with the same flags: twins.
    if _install_with_uv(cache, outcome, echo, f"{CPYTHON_MINORS[1]}t", CPYTHON_MINORS[1]):
        return outcome
    for name, fetch in (("python.org", fetch_python_org), ("Debian source package", fetch_debian_source)):
        try:
            version, tarball = fetch(cache, echo)
        except ProvisionError as error:
            outcome.tried.append((name, f"skipped: {error}"))
            continue
        outcome.tried.append((name, f"used: CPython {version} source, {tarball.name}"))
        try:
            outcome.provided = [str(p) for p in build_cpython(cache, version, tarball, f"{name}: {tarball.name}", echo)]
        except ProvisionError as error:
            outcome.error = f"build of CPython {version} failed: {error}"
        return outcome
    outcome.error = "no source of a free-threaded CPython could be reached: " + "; ".join(
        f"{source}: {what}" for source, what in outcome.tried)
    return outcome


def _bring_debian_packages(cache: Path, outcome: Outcome, echo: Log, packages: Sequence[DebianPackage]) -> str | None:
    """``install_debian_packages``, noting in ``outcome`` what happened; why some are still missing, or None."""
    try:
        done = install_debian_packages(cache, packages, echo, outcome.family)
    except ProvisionError as error:
        outcome.tried.append(("Debian packages", f"failed: {error}"))
        return str(error)
    outcome.tried.append(("Debian packages", done))
    return None


def provision_pypy(cache: Path, interpreters: Sequence[discovery.Interpreter], echo: Log) -> Outcome:
    outcome = Outcome("pypy")
    present = [i for i in interpreters if i.implementation == "pypy" and i.supported]
    if present:
        outcome.tried.append(("present", f"used: {', '.join(f'{i.id} ({i.executable})' for i in present)}"))
    else:
        outcome.tried.append(("present", "skipped: no PyPy found"))
        if not _install_with_uv(cache, outcome, echo, "pypy"):
            # Debian's pypy3 runs only from /usr: it is installed system-wide, with what its venv needs, at once.
            if shutil.which("apt-get") is None:
                outcome.tried.append(("Debian packages", "skipped: apt-get is not available"))
            elif _bring_debian_packages(cache, outcome, echo, DEBIAN_PACKAGES["pypy"]) is None:
                return outcome
            outcome.error = "no source of PyPy worked: " + "; ".join(
                f"{source}: {what}" for source, what in outcome.tried)
            return outcome
    # The PyPy found (or uv's) may still lack what its venv needs: Debian's pypy3 without pypy3-dev, as an older
    # provisioning installed it, or no compiler. pip then cannot install pyperf, and the whole column fails.
    error = _bring_debian_packages(cache, outcome, echo, [p for p in DEBIAN_PACKAGES["pypy"] if p != DEBIAN_PYPY])
    if error:
        outcome.error = f"PyPy lacks Debian packages: {error}"
    return outcome


def provision_toolchain(cache: Path, interpreters: Sequence[discovery.Interpreter], echo: Log) -> Outcome:
    """What every interpreter's venv builds its bindings with, whatever the families provisioned."""
    outcome = Outcome(TOOLCHAIN)
    error = _bring_debian_packages(cache, outcome, echo, DEBIAN_PACKAGES[TOOLCHAIN])
    if error:
        outcome.error = f"the bindings lack Debian packages: {error}"
    return outcome


def provision_debian_sid(cache: Path, interpreters: Sequence[discovery.Interpreter], echo: Log) -> Outcome:
    """CPython 3.14, 3.15 and PyPy 3.11 from Debian unstable's binary packages, each in a private root (private_roots)."""
    outcome = Outcome(private_roots.FAMILY)
    if platform.machine() != "x86_64" or not (shutil.which("apt-get") and shutil.which("dpkg-deb")):
        outcome.tried.append(("Debian sid", "skipped: needs apt-get and dpkg-deb, on x86_64"))
        return outcome
    error = _bring_debian_packages(cache, outcome, echo, DEBIAN_PACKAGES[private_roots.FAMILY])
    uris = debian_source_uris()
    options = private_apt_options(cache, uris[0], private_roots.SUITE, "deb") if uris and not error else None
    lists_error = error or (None if uris else "no Debian mirror in /etc/apt")
    if options is not None:
        try:
            run_logged(["apt-get", *options, "update"], cache / "logs" / "apt-sid.log", f"apt-get update "
                       f"({private_roots.SUITE} lists)", echo, timeout=180)
        except ProvisionError as failed:
            lists_error = str(failed).splitlines()[0]
    for spec, entry, what in private_roots.provide(cache, options, lists_error, run_logged, echo, DOWNLOAD_TIMEOUT,
                                                   (ProvisionError, private_roots.RootError)):
        outcome.tried.append((spec.id, what))
        outcome.provided += [str(entry)] if entry else []
    failed = [f"{source} {what}" for source, what in outcome.tried if what.startswith("failed")]
    outcome.error = "; ".join(failed) or None
    return outcome


PROVIDERS = {"pypy": provision_pypy, "free-threaded": provision_free_threaded,
             private_roots.FAMILY: provision_debian_sid, TOOLCHAIN: provision_toolchain}


def provision(only: Sequence[str] | None = None, echo: Log = print,
              environ: Mapping[str, str] | None = None) -> list[Outcome]:
    """Provision what is missing of each family (or only the families named), then the toolchain they all need."""
    families = list(only or FAMILIES)
    unknown = [name for name in families if name not in FAMILIES]
    if unknown:
        raise ValueError(f"unknown family {', '.join(map(repr, unknown))}; valid: {', '.join(FAMILIES)}")
    cache = discovery.cache_dir(environ)
    interpreters = discovery.discover(environ)
    outcomes = []
    for family in [*families, TOOLCHAIN]:
        started = time.monotonic()
        echo(f"provisioning {family} (cache: {cache})")
        outcome = PROVIDERS[family](cache, interpreters, echo)
        outcome.seconds = time.monotonic() - started
        for source, what in outcome.tried:
            echo(f"  {source}: {what}")
        echo(f"{family}: {'ready' if outcome.ok else 'NOT provisioned: ' + (outcome.error or '')}"
             f" ({duration(outcome.seconds)})")
        outcomes.append(outcome)
    return outcomes
