"""Get the interpreters the matrix compares when the machine lacks them: PyPy, CPython 3.14 and 3.15 from Debian sid,
and a free-threaded CPython with its same-source GIL twin (``cpython_build``).

On Debian-like x86_64 machines the PyPy and Debian CPython columns are Debian's binary packages, each unpacked into a
private root in the cache (``private_roots``): PyPy from the machine's own release (Debian 12: 7.3.11 for Python 3.9),
CPython 3.14 and 3.15 and PyPy 8.0.1 from sid. Nothing is installed into the system for them; their packages come
through a private apt configuration that leaves the system's untouched. Elsewhere PyPy is one already present
(discovery) or uv's. A free-threaded CPython comes from, in order: a build already made, uv, the CPython tarball
from python.org, Debian's source package, or a tarball the user gives (``--cpython-source``). Each source has a
short time-out so an unreachable one costs seconds. Everything lands in the per-user cache
(``discovery.cache_dir()``), keyed by version, and is reused by later runs. A finished install carries a marker
file (``MARKER``); discovery only trusts provisioned folders that have one. The runtimes that cannot run pyperf
(Jython, MicroPython, Pyodide: ``--only runtimes``) are made by ``runtime_provision``, with a marker of their own.

What the interpreters' venvs need from the system comes too, on Debian (``debian_packages``): a C compiler (pyperf's
psutil has no PyPy wheel and compiles), Debian CPython's headers (the bindings compile against them), patchelf for
the roots. Only what ``dpkg -s`` says is missing is installed, as root; without root the apt-get command is printed.
"""

from __future__ import annotations

import os
import platform
import re
import shutil
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from packaging.version import Version

from . import discovery, private_roots, runtime_provision
from .cpython_build import (
    CPYTHON_MINORS,
    NETWORK_TIMEOUT,
    Log,
    ProvisionError,
    Source,
    build_cpython,
    fetch_python_org,
    minor_of,
    provisioned_twins,
    run_logged,
)
from .debian_packages import (
    DEBIAN_PACKAGES,
    TOOLCHAIN,
    DebianPackage,
    debian_packages_installed,
    missing_packages,
    needed_packages,
)
from .markdown import duration

MARKER = discovery.MARKER
FAMILIES = ("pypy", "free-threaded", private_roots.FAMILY, runtime_provision.FAMILY)
DEBIAN_SOURCE_SUITE = "trixie"
DOWNLOAD_TIMEOUT = 300.0
# The minors a reader chooses among today: a free-threaded build of neither is said so in the report.
NEWEST_MINORS = CPYTHON_MINORS[:2]


@dataclass
class Outcome:
    """What provisioning one family did: the sources tried, in order, and what each said."""

    family: str
    tried: list[tuple[str, str]] = field(default_factory=list)  # (source, what happened)
    provided: list[str] = field(default_factory=list)  # folders or executables now present
    error: str | None = None
    seconds: float = 0.0
    # What the report should say although nothing failed: "no free-threaded 3.14/3.15: ...".
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.error is None

    def to_dict(self) -> dict[str, object]:
        """What run.json keeps, so the report can say why a family has no column."""
        return {"family": self.family, "tried": [list(t) for t in self.tried], "provided": self.provided,
                "error": self.error, "seconds": round(self.seconds, 1), "notes": self.notes}


# --- this machine's apt sources, and a private apt configuration in the cache --------------------------------------


def apt_sources(sources_dir: Path = Path("/etc/apt")) -> list[tuple[str, str, str]]:
    """(type, URI, suite) of every source this machine's apt uses, in its files' order (one-line and deb822 formats)."""
    found: list[tuple[str, str, str]] = []
    for path in [sources_dir / "sources.list", *sorted((sources_dir / "sources.list.d").glob("*"))]:
        try:
            text = path.read_text()
        except OSError:
            continue
        for stanza in re.split(r"\n\s*\n", text):  # deb822: blank-line separated, each field on its line
            fields = dict(re.findall(r"^([A-Za-z-]+):[ \t]*(.*)$", stanza, flags=re.MULTILINE))
            if fields.get("Enabled", "yes").strip().lower() == "no":
                continue
            found += [(kind, uri, suite) for kind in fields.get("Types", "").split()
                      for uri in fields.get("URIs", "").split() for suite in fields.get("Suites", "").split()]
        found += re.findall(r"^(deb|deb-src)\s+(?:\[[^]]*\]\s+)?(\S+)\s+(\S+)", text, flags=re.MULTILINE)
    return list(dict.fromkeys(found))


def debian_source_uris(sources_dir: Path = Path("/etc/apt")) -> list[str]:
    """The Debian mirror URIs this machine's apt already uses."""
    uris = dict.fromkeys(uri for _, uri, _ in apt_sources(sources_dir))
    return [uri for uri in uris if uri.rstrip("/").endswith("/debian")]


def system_suites(sources_dir: Path = Path("/etc/apt")) -> list[tuple[str, str]]:
    """(URI, suite) of the binary lists of Debian's own archive this machine's release uses, its release first:
    bookworm, then bookworm-updates and bookworm-security (the versions ``apt-get install`` would take)."""
    debian = [(uri, suite) for kind, uri, suite in apt_sources(sources_dir)
              if kind == "deb" and uri.rstrip("/").endswith(("/debian", "/debian-security"))]
    release = next((suite for uri, suite in debian if "-" not in suite and uri.rstrip("/").endswith("/debian")), None)
    ordered = sorted((pair for pair in debian if pair[1].split("-")[0] == release), key=lambda pair: pair[1] != release)
    return ordered


def private_apt_options(cache: Path, uri: str, suite: str = DEBIAN_SOURCE_SUITE, kind: str = "deb-src",
                        also: Sequence[tuple[str, str]] = ()) -> list[str]:
    """apt options that keep its lists and downloads in our cache, leaving the system's configuration as it is.

    ``kind`` "deb" lists binary packages; ``also`` adds (URI, suite) lines of that kind (a release's updates). Each
    other kind or suite has a folder of its own: one ``update`` would otherwise drop the other's lists."""
    apt = cache / ("apt" if (kind, suite) == ("deb-src", DEBIAN_SOURCE_SUITE) else f"apt-{kind}-{suite}")
    (apt / "lists" / "partial").mkdir(parents=True, exist_ok=True)
    (apt / "archives" / "partial").mkdir(parents=True, exist_ok=True)
    sources = apt / "sources.list"
    sources.write_text("".join(f"{kind} {line_uri} {line_suite} main\n"
                               for line_uri, line_suite in [(uri, suite), *also]))
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
    # The packages some are needed beside are asked about too: python3-dev is needed only where python3 is installed.
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


def ensure_build_deps(cache: Path, echo: Log) -> None:
    """Install Debian's build dependencies of CPython where some are missing (ProvisionError without root)."""
    try:
        done = install_debian_packages(cache, DEBIAN_PACKAGES["free-threaded"], echo, "build-deps")
    except ProvisionError as error:
        raise ProvisionError(f"CPython's build dependencies are missing; {error}") from None
    echo(f"  build dependencies: {done}")


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


def _build(cache: Path, outcome: Outcome, echo: Log, version: str, tarball: Path, source: str) -> None:
    """``build_cpython``, its build dependencies installed first, noting in ``outcome`` what it gave or why not."""
    try:
        built = build_cpython(cache, version, tarball, source, echo, prepare=lambda: ensure_build_deps(cache, echo))
    except ProvisionError as error:
        outcome.error = f"build of CPython {version} failed: {error}"
        return
    outcome.provided = list(dict.fromkeys([*outcome.provided, *map(str, built)]))


def free_threaded_minors(cache: Path, interpreters: Sequence[discovery.Interpreter]) -> set[str]:
    """The minors of which a free-threaded build is here: one of ours with its twin, or one discovery found (uv's)."""
    ours = {minor_of(discovery.read_marker(prefix)["version"]) for prefix in provisioned_twins(cache)}
    return ours | {i.minor for i in interpreters if i.free_threaded}


def provision_free_threaded(cache: Path, interpreters: Sequence[discovery.Interpreter], echo: Log,
                            source: Source | None = None) -> Outcome:
    """A free-threaded CPython and its twin: from ``source`` when given; else the builds already made, and the
    sources tried while none of them is of a minor in NEWEST_MINORS (a few seconds when all are unreachable; once
    one is built, a newer patch release is not fetched on its own)."""
    outcome = Outcome("free-threaded")
    if source is not None:
        outcome.tried.append(("--cpython-source", f"used: CPython {source.version} source, {source.tarball}"))
        _build(cache, outcome, echo, source.version, source.tarball, f"--cpython-source: {source.tarball}")
        return outcome
    twins = provisioned_twins(cache)
    if twins:
        outcome.tried.append(("present", f"used: {', '.join(p.name for p in twins)} (cached, with twins)"))
        outcome.provided = [str(p) for p in twins]
        if set(NEWEST_MINORS) & free_threaded_minors(cache, interpreters):
            return outcome
    else:
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
        _build(cache, outcome, echo, version, tarball, f"{name}: {tarball.name}")
        break
    missing = sorted(set(NEWEST_MINORS) - free_threaded_minors(cache, interpreters), key=Version)
    if missing:
        outcome.notes.append(f"no free-threaded {'/'.join(missing)}: no source reachable (uv, python.org, Debian); "
                             "`nox -s provision -- --cpython-source PATH` builds one")
    if not outcome.provided and outcome.error is None:
        outcome.error = "no source of a free-threaded CPython could be reached: " + "; ".join(
            f"{name}: {what}" for name, what in outcome.tried)
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


def _roots_cannot_be_made() -> str | None:
    """Why no private root can be made here, or None."""
    if platform.machine() != "x86_64" or not (shutil.which("apt-get") and shutil.which("dpkg-deb")):
        return "needs apt-get and dpkg-deb, on x86_64"
    return None


def fresh_lists(cache: Path, echo: Log, sources: Sequence[tuple[str, str]], suite: str, kind: str = "deb") -> list[str]:
    """apt options of a private configuration listing ``sources`` ((URI, suite), ``suite``'s own first), its lists
    updated; ProvisionError saying why not."""
    if not sources:
        raise ProvisionError("no Debian mirror in /etc/apt")
    options = private_apt_options(cache, sources[0][0], suite, kind, sources[1:])
    name, what = (suite, f"{suite} lists") if kind == "deb" else (f"{kind}-{suite}", f"{suite} {kind} lists")
    try:
        run_logged(["apt-get", *options, "update"], cache / "logs" / f"apt-{name}.log", f"apt-get update ({what})",
                   echo, timeout=180)
    except ProvisionError as failed:
        raise ProvisionError(str(failed).splitlines()[0]) from None
    return options


def _debian_roots(cache: Path, outcome: Outcome, echo: Log, specs: Sequence[private_roots.RootSpec],
                  sources: Sequence[tuple[str, str]]) -> None:
    """Private roots of ``specs`` from the binary packages of ``sources`` ((URI, suite), the suite's own first),
    with the Debian packages of ``outcome``'s family (patchelf) first; each root's outcome is noted in ``outcome``."""
    error = _bring_debian_packages(cache, outcome, echo, DEBIAN_PACKAGES[outcome.family])
    options, lists_error = None, error
    if not error:
        try:
            options = fresh_lists(cache, echo, sources, specs[0].suite)
        except ProvisionError as failed:
            lists_error = str(failed)
    for spec, entry, what in private_roots.provide(cache, options, lists_error, run_logged, echo, DOWNLOAD_TIMEOUT,
                                                   (ProvisionError, private_roots.RootError), specs):
        outcome.tried.append((spec.id, what))
        outcome.provided += [str(entry)] if entry else []
    failed = [f"{source} {what}" for source, what in outcome.tried if what.startswith("failed")]
    outcome.error = "; ".join(failed) or None


def provision_pypy(cache: Path, interpreters: Sequence[discovery.Interpreter], echo: Log) -> Outcome:
    """Debian's PyPy of this machine's own release in a private root (Debian 12: 7.3.11, Python 3.9), whatever PyPy
    is already present: then every Debian machine measures the same PyPy, with its headers. Elsewhere a PyPy
    already present, or uv's."""
    outcome = Outcome("pypy")
    suites = system_suites()
    release = suites[0][1] if suites else "?"
    specs = private_roots.SYSTEM_ROOTS.get(release, ())
    others = [i for i in interpreters if i.implementation == "pypy" and i.supported and i.origin != "provisioned"]
    why_not = _roots_cannot_be_made() or (None if specs else f"no PyPy root is known for Debian {release} "
                                          "(SYSTEM_ROOTS in interpmatrix/private_roots.py)")
    if why_not is None:
        if others:
            found = ", ".join(f"{i.id} ({i.executable})" for i in others)
            outcome.tried.append(("present", f"not used: {found}; a private root is made anyway, the same on "
                                  "every machine"))
        _debian_roots(cache, outcome, echo, specs, suites)
        return outcome
    outcome.tried.append((f"Debian {release}", f"skipped: {why_not}"))
    # The C compiler pyperf's psutil builds with comes with the toolchain, provisioned after every family.
    present = [i for i in interpreters if i.implementation == "pypy" and i.supported]
    if present:
        outcome.tried.append(("present", f"used: {', '.join(f'{i.id} ({i.executable})' for i in present)}"))
    elif not _install_with_uv(cache, outcome, echo, "pypy"):
        outcome.error = "no source of PyPy worked: " + "; ".join(f"{source}: {what}" for source, what in outcome.tried)
    return outcome


def provision_toolchain(cache: Path, interpreters: Sequence[discovery.Interpreter], echo: Log) -> Outcome:
    """What every interpreter's venv builds its bindings with, whatever the families provisioned."""
    outcome = Outcome(TOOLCHAIN)
    error = _bring_debian_packages(cache, outcome, echo, DEBIAN_PACKAGES[TOOLCHAIN])
    if error:
        outcome.error = f"the bindings lack Debian packages: {error}"
    return outcome


def provision_debian_sid(cache: Path, interpreters: Sequence[discovery.Interpreter], echo: Log) -> Outcome:
    """CPython 3.14, 3.15 and PyPy 3.11 from Debian unstable's binary packages, each in a private root."""
    outcome = Outcome(private_roots.FAMILY)
    why_not = _roots_cannot_be_made()
    if why_not:
        outcome.tried.append(("Debian sid", f"skipped: {why_not}"))
        return outcome
    uris = debian_source_uris()
    _debian_roots(cache, outcome, echo, private_roots.SID_ROOTS, [(uris[0], private_roots.SUITE)] if uris else [])
    return outcome


def provision_runtimes(cache: Path, interpreters: Sequence[discovery.Interpreter], echo: Log) -> Outcome:
    """Jython, MicroPython and Pyodide (``runtime_provision``), each in a folder of its own: one that cannot be made
    is left out with the reason, the others still come."""
    outcome = Outcome(runtime_provision.FAMILY)
    suites = system_suites() if _roots_cannot_be_made() is None else []
    uris = debian_source_uris() if suites else []

    def lists(kind: str, suite: str) -> list[str]:
        # The release's binary lists with its updates and security suites, as for its PyPy; sid's sources alone.
        sources = [pair for pair in suites if pair[1].split("-")[0] == suite] if kind == "deb" else [
            (uri, suite) for uri in uris[:1]]
        try:
            return fresh_lists(cache, echo, sources, suite, kind)
        except ProvisionError as failed:
            raise runtime_provision.ProvisionLists(f"the {suite} {kind} lists are unavailable: {failed}") from None

    access = runtime_provision.Access(lists, suites[0][1] if suites else None,
                                      lambda packages, name: install_debian_packages(cache, packages, echo, name))
    for implementation, entry, what in runtime_provision.provide(cache, access, echo):
        outcome.tried.append((implementation, what))
        outcome.provided += [str(entry)] if entry else []
    failed = [f"{source} {what}" for source, what in outcome.tried if what.startswith("failed")]
    outcome.error = "; ".join(failed) or None
    return outcome


PROVIDERS = {"pypy": provision_pypy, "free-threaded": provision_free_threaded,
             private_roots.FAMILY: provision_debian_sid, runtime_provision.FAMILY: provision_runtimes,
             TOOLCHAIN: provision_toolchain}


def provision(only: Sequence[str] | None = None, echo: Log = print, environ: Mapping[str, str] | None = None,
              cpython_source: Source | None = None) -> list[Outcome]:
    """Provision what is missing of each family (or only the families named), then the toolchain they all need.
    ``cpython_source`` (``cpython_build.source_tarball``'s answer) is what the free-threaded builds are made of."""
    # A tarball given is a build asked for, whatever --only says.
    families = list(dict.fromkeys([*(only or FAMILIES), *(["free-threaded"] if cpython_source else [])]))
    unknown = [name for name in families if name not in FAMILIES]
    if unknown:
        raise ValueError(f"unknown family {', '.join(map(repr, unknown))}; valid: {', '.join(FAMILIES)}")
    cache = discovery.cache_dir(environ)
    interpreters = discovery.discover(environ)
    outcomes = []
    for family in [*families, TOOLCHAIN]:
        started = time.monotonic()
        echo(f"provisioning {family} (cache: {cache})")
        extra = {"source": cpython_source} if family == "free-threaded" and cpython_source else {}
        outcome = PROVIDERS[family](cache, interpreters, echo, **extra)
        outcome.seconds = time.monotonic() - started
        for source, what in outcome.tried:
            echo(f"  {source}: {what}")
        for note in outcome.notes:
            echo(f"  note: {note}")
        echo(f"{family}: {'ready' if outcome.ok else 'NOT provisioned: ' + (outcome.error or '')}"
             f" ({duration(outcome.seconds)})")
        outcomes.append(outcome)
    return outcomes
