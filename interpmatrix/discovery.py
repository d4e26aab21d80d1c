"""Find the Python interpreters on this machine and give each a stable, readable id.

``shutil.which`` is not enough: pyenv puts shims for every installed version on PATH, but a shim for an inactive
version fails when run ("command not found"), and the builds it hides are still in pyenv's versions folder. So
discovery looks in PATH, pyenv's and uv's folders and this project's own cache, then runs ``probe.py`` inside every
candidate: a candidate that does not answer is dropped, and what it answers (not its file name) says what it is.
Runtimes no probe runs in (Jython, MicroPython, Pyodide) are found by the marker their provisioning wrote
(``interpmatrix.runtimes``); they, and Pythons older than 3.9, are self-timed (``Interpreter.self_timed``).

What a run keeps of them is recorded here too: the machine's facts when it is planned (``host_facts``), and what each
interpreter says about itself from inside the venv its bench session built (``record_venv``).
"""

from __future__ import annotations

import json
import logging
import os
import platform
import re
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import MISSING, asdict, dataclass, fields, replace
from pathlib import Path
from typing import TypeVar

from packaging.version import InvalidVersion, Version

from .proc import run_with_timeout
from .results import RunDir
from .runtimes import find_runtimes

log = logging.getLogger(__name__)
# Dropped candidates are expected (every inactive pyenv shim fails) and nox logs DEBUG: say why only on request,
# with logging.getLogger("interpmatrix.discovery").setLevel(logging.DEBUG).
if log.level == logging.NOTSET:
    log.setLevel(logging.INFO)
T = TypeVar("T")

PROBE_SCRIPT = Path(__file__).resolve().with_name("probe.py")
# Written last by a finished provisioned build (interpmatrix.provision): a folder without it is incomplete.
MARKER = "interpmatrix-provisioned.json"
MIN_SUPPORTED = (3, 9)  # the workloads use 3.9 syntax
# Older Pythons are timed by the self-timing runner (workloads/_selftimed.py) where its syntax runs: 2.7 and 3.4-3.8.
# pyperf cannot run there (its releases for them are years older, and the workload scripts need 3.9), but a runtime
# the seeds measured (CPython 2.7.1, seed 000) should still have its figures, and 3.6-3.8 cost nothing more.
SELF_TIMED_RANGES = (((2, 7), (2, 8)), ((3, 4), MIN_SUPPORTED))
# Best first: when one binary is found several ways, the most specific origin names it.
ORIGINS = ("provisioned", "pyenv", "uv", "system", "path")
SYSTEM_DIRS = {"/usr/bin", "/bin", "/usr/local/bin"}
_NAME = re.compile(r"^(?:python(?:3(?:\.\d+t?)?)?|pypy(?:3(?:\.\d+)?)?)$")


def _parse_version(text: str) -> Version:
    """A version an interpreter reports ("3.11.7", "3.14.0rc1"); pre-releases sort before their final release."""
    try:
        return Version(text)
    except InvalidVersion:
        raise ValueError(f"unexpected version {text!r}: expected a version such as '3.11.7' or '3.14.0rc1'") from None


@dataclass(frozen=True)
class Interpreter:
    """One working interpreter, as it describes itself, plus where discovery found it and its id."""

    id: str
    executable: str  # the real binary, never a shim: what pyperf and nox run
    implementation: str  # "cpython", "pypy"
    version: str  # language version, "3.11.7"
    implementation_version: str  # PyPy's own version ("7.3.11"); the language version for CPython
    free_threaded: bool  # built with --disable-gil
    gil_enabled: bool  # GIL state when started plainly (an extension or PYTHON_GIL can change it)
    jit: str
    config_args: str
    compiler: str
    cflags: str
    shared: bool
    origin: str  # one of ORIGINS
    prefix: str = ""  # sys.prefix: where a provisioned build keeps its marker
    twin: str = ""  # id of the same-source build with the other GIL setting (provisioned builds only)
    build: str = ""  # who built it, for a provisioned build that says so in its marker ("Debian sid 3.14.10-1")
    # What it runs with, besides the executable: a JIT switched on or off (PYTHON_JIT), the GIL forced back on in a
    # free-threaded build (PYTHON_GIL). An interpreter is the executable plus this environment.
    env: tuple[tuple[str, str], ...] = ()
    # The id of the interpreter whose binary (and so venv) this one shares, for one that differs only by ``env``.
    variant_of: str = ""
    # Timed by interpmatrix's self-timing runner, not pyperf: a Python older than MIN_SUPPORTED, or a runtime found
    # by its marker (interpmatrix.runtimes: Jython, MicroPython, Pyodide). ``threads``: whether it can start threads.
    self_timed: bool = False
    threads: bool = True

    @property
    def minor(self) -> str:
        return "%d.%d" % self.version_tuple[:2]

    @property
    def version_tuple(self) -> tuple[int, int, int]:
        major, minor, micro = (*_parse_version(self.version).release, 0, 0)[:3]
        return major, minor, micro

    @property
    def supported(self) -> bool:
        """Whether pyperf and the workload scripts run here (a venv with pyperf is built for it)."""
        return self.version_tuple[:2] >= MIN_SUPPORTED and not self.self_timed

    @property
    def measurable(self) -> bool:
        """Whether it gets a column at all: through pyperf, or through the self-timing runner."""
        return self.supported or self.self_timed

    @property
    def is_jit(self) -> bool:
        return self.jit in ("PyPy JIT", "enabled")

    @property
    def env_text(self) -> str:
        """``PYTHON_JIT=1``, as a reader would type it before the command; empty when it adds nothing."""
        return " ".join(f"{name}={value}" for name, value in self.env)

    @property
    def build_flags(self) -> str:
        # CONFIG_ARGS says how most builds were configured; distributors (Debian) enable PGO/LTO in their own build
        # rules instead, which only the compiler flags may betray.
        args, flags = self.config_args, []
        if "--disable-gil" in args or self.free_threaded:
            flags.append("free-threading")
        if "--enable-shared" in args or self.shared:
            flags.append("shared")
        if "--enable-optimizations" in args or "-fprofile-use" in self.cflags:
            flags.append("PGO")
        if "--with-lto" in args or "-flto" in self.cflags:
            flags.append("LTO")
        if "--enable-experimental-jit" in args:
            flags.append("JIT")
        if self.build:
            flags.append(self.build)  # a distributor's build rules are its own: say whose they are
        return ", ".join(flags) or "default"

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping) -> Interpreter:
        missing = [f.name for f in fields(cls) if f.name not in data and f.default is MISSING]
        if missing:
            raise ValueError(f"interpreter record lacks {', '.join(missing)}: re-run discovery to refresh it")
        record = {f.name: data[f.name] for f in fields(cls) if f.name in data}
        # JSON has no tuples: the pairs come back as lists.
        record["env"] = tuple((str(name), str(value)) for name, value in record.get("env") or ())
        return cls(**record)


def _identity(path: str | Path) -> object:
    # One binary can have several names: symlinks, and hard links (a source build installs python3.13 and
    # python3.13t as one file), so compare files, not resolved names.
    try:
        status = os.stat(path)
        return status.st_dev, status.st_ino
    except OSError:
        return os.path.realpath(path)


def _best_origin(found: Iterable[tuple[T, str]], identity: Callable[[T], object]) -> list[tuple[T, str]]:
    """One entry per binary, credited to its most specific origin (ORIGINS order)."""
    best: dict[object, tuple[T, str]] = {}
    for item, origin in found:
        key = identity(item)
        if key not in best or ORIGINS.index(origin) < ORIGINS.index(best[key][1]):
            best[key] = (item, origin)
    return list(best.values())


def cache_dir(environ: Mapping[str, str] | None = None) -> Path:
    """Where this project keeps what it provisions (interpreters/<name>/bin/...)."""
    env = os.environ if environ is None else environ
    if env.get("INTERPMATRIX_CACHE"):
        return Path(env["INTERPMATRIX_CACHE"])
    return Path(env.get("XDG_CACHE_HOME") or Path(env.get("HOME") or Path.home()) / ".cache") / "interpmatrix"


def _executables(directory: Path) -> list[Path]:
    try:
        names = sorted(entry.name for entry in os.scandir(directory))
    except OSError:  # missing or unreadable folder: nothing found there
        return []
    return [directory / n for n in names if _NAME.match(n) and os.access(directory / n, os.X_OK)
            and (directory / n).is_file()]


def candidates(environ: Mapping[str, str] | None = None) -> list[tuple[Path, str]]:
    """Every executable that may be a Python, with the origin that found it; one per real path."""
    env = os.environ if environ is None else environ
    home = Path(env.get("HOME") or Path.home())
    data_home = Path(env.get("XDG_DATA_HOME") or home / ".local" / "share")
    roots = [(cache_dir(env) / "interpreters", "provisioned"),
             (Path(env.get("PYENV_ROOT") or home / ".pyenv") / "versions", "pyenv"),
             (Path(env.get("UV_PYTHON_INSTALL_DIR") or data_home / "uv" / "python"), "uv")]
    found = [(p, origin) for root, origin in roots for bin_dir in sorted(root.glob("*/bin"))
             if origin != "provisioned" or (bin_dir.parent / MARKER).exists()
             for p in _executables(bin_dir)]
    for entry in env.get("PATH", "").split(os.pathsep):
        if entry:  # an empty entry means the current directory: never run what happens to lie there
            origin = "system" if os.path.normpath(entry) in SYSTEM_DIRS else "path"
            found += [(p, origin) for p in _executables(Path(entry))]
    # Names of one binary need one probe. Shims are separate scripts, so each survives to be probed.
    return _best_origin(found, _identity)


def candidate_paths(environ: Mapping[str, str] | None = None) -> list[Path]:
    return [path for path, _ in candidates(environ)]


def probe(path: Path, timeout: float = 15, env: Mapping[str, str] | None = None) -> dict | None:
    """Run probe.py inside ``path``; None when it is not a working Python (never raises for that)."""
    try:
        # A shim's children would hold the pipe open past a time-out: run_with_timeout kills the whole group.
        result = run_with_timeout([path, PROBE_SCRIPT], timeout, env=env)
    except OSError as error:
        log.debug("%s does not run: %s", path, error)
        return None
    if result.timed_out:
        log.debug("%s did not answer within %s s", path, timeout)
        return None
    if result.returncode != 0:  # e.g. a pyenv shim of an inactive version: 127, "command not found"
        reason = (result.stderr.strip() or "no message").splitlines()[0]
        log.debug("%s exited %s: %s", path, result.returncode, reason)
        return None
    lines = result.stdout.strip().splitlines()
    try:  # the answer is the last line: a sitecustomize may print before it
        answer = json.loads(lines[-1]) if lines else None
    except ValueError:
        answer = None
    if isinstance(answer, dict) and {"implementation", "version", "realpath"} <= answer.keys():
        return answer
    log.debug("%s printed no probe answer", path)
    return None


def interpreter_from_probe(answer: dict, origin: str, id: str) -> Interpreter:
    """One probe answer as an Interpreter; ``executable`` is the real binary the answer reports."""
    record = {f.name: answer.get(f.name) for f in fields(Interpreter)}
    record.update(id=id, origin=origin, executable=answer.get("realpath") or answer["executable"],
                  prefix=answer.get("prefix") or "", twin="", build="", env=(), variant_of="",
                  self_timed=is_self_timed(answer["version"]), threads=True)
    return Interpreter.from_dict(record)


def is_self_timed(version: str) -> bool:
    """Whether a probed Python of this language version is timed by the self-timing runner (SELF_TIMED_RANGES)."""
    release = (*_parse_version(version).release, 0)[:2]
    return any(low <= release < high for low, high in SELF_TIMED_RANGES)


def read_marker(prefix: str | Path) -> dict | None:
    """What interpmatrix.provision recorded about a build it made, or None for any other interpreter."""
    try:
        return json.loads((Path(prefix) / MARKER).read_text())
    except (OSError, ValueError):
        return None


def link_twins(interpreters: list[Interpreter]) -> list[Interpreter]:
    """Point each provisioned free-threaded build and its same-source GIL build at each other, by id; and give each
    provisioned build the builder its marker names."""
    by_folder = {Path(i.prefix).name: i for i in interpreters if i.origin == "provisioned" and i.prefix}
    linked = []
    for interp in interpreters:
        marker = read_marker(interp.prefix) if interp.origin == "provisioned" and interp.prefix else None
        other = by_folder.get(marker.get("twin", "")) if marker else None
        interp = replace(interp, build=marker.get("build", "")) if marker else interp
        linked.append(replace(interp, twin=other.id) if other else interp)
    return linked


def _name(interp: Interpreter, full: bool) -> str:
    if interp.implementation == "pypy":
        return f"pypy{interp.minor}-{interp.implementation_version}" if full else f"pypy{interp.minor}"
    return f"{interp.implementation}-{interp.version if full else interp.minor}" + "t" * interp.free_threaded


def freshness(interp: Interpreter) -> tuple:
    # Newest release first, then the most specific origin: that build keeps the short id.
    return _parse_version(interp.version), _parse_version(interp.implementation_version), -ORIGINS.index(interp.origin)


def _display_order(interp: Interpreter) -> tuple:
    impl = {"cpython": 0, "pypy": 1}.get(interp.implementation, 2)
    return (impl, interp.implementation, _parse_version(interp.version), interp.free_threaded,
            _parse_version(interp.implementation_version), ORIGINS.index(interp.origin), interp.executable)


def assign_ids(probes: list[tuple[dict, str]]) -> list[Interpreter]:
    """Turn (probe answer, origin) pairs into Interpreters with unique ids, sorted for display."""
    groups: dict[str, list[Interpreter]] = {}
    for answer, origin in probes:
        interp = interpreter_from_probe(answer, origin, "")
        groups.setdefault(_name(interp, full=False), []).append(interp)
    named: list[Interpreter] = []
    for short, members in groups.items():
        members.sort(key=freshness, reverse=True)
        fulls = [_name(m, full=True) for m in members]
        named.append(replace(members[0], id=short))
        for interp, full in zip(members[1:], fulls[1:]):
            # Same full version as another build of the group (even the short id's holder): name the origin.
            named.append(replace(interp, id=f"{full}-{interp.origin}" if fulls.count(full) > 1 else full))
    seen: dict[str, int] = {}
    for index, interp in enumerate(named):
        seen[interp.id] = seen.get(interp.id, 0) + 1
        if seen[interp.id] > 1:  # same version found twice by one origin (e.g. in two PATH folders)
            named[index] = replace(interp, id=f"{interp.id}-{seen[interp.id]}")
    return sorted(named, key=_display_order)


JIT_SWITCH = "PYTHON_JIT"
GIL_SWITCH = "PYTHON_GIL"
# What the probe says of a CPython whose JIT an environment variable can switch (3.14+: ``sys._jit``).
_SWITCHABLE_JIT = ("built, disabled", "enabled")


def env_variants(
    interpreters: Iterable[Interpreter], probe_with: Callable[[Interpreter, dict[str, str]], dict | None]
) -> list[Interpreter]:
    """Each interpreter, followed by the columns its environment switches make of the same binary.

    A CPython built with the experimental JIT runs as ``<id>`` with PYTHON_JIT=0 and as ``<id>-jit`` with
    PYTHON_JIT=1, whatever the build's default (Debian's is off, a source build's may be on); a free-threaded build
    also as ``<id>-gil`` with PYTHON_GIL=1, the GIL forced back on. ``probe_with`` runs the probe under a variant's
    environment: a switch that does not take (the JIT stays off) makes no column.
    """
    out: list[Interpreter] = []
    for interp in interpreters:
        variants = []
        if interp.implementation == "cpython" and interp.jit in _SWITCHABLE_JIT:
            off, on = probe_with(interp, {JIT_SWITCH: "0"}), probe_with(interp, {JIT_SWITCH: "1"})
            if off is not None:
                interp = replace(interp, env=((JIT_SWITCH, "0"),), jit=off["jit"])
            if on is not None and on["jit"] == "enabled":
                variants.append(replace(interp, id=f"{interp.id}-jit", env=((JIT_SWITCH, "1"),), jit="enabled",
                                        variant_of=interp.id, twin=""))
        if interp.implementation == "cpython" and interp.free_threaded:
            forced = probe_with(interp, {GIL_SWITCH: "1"})
            if forced is not None and forced["gil_enabled"]:
                variants.append(replace(interp, id=f"{interp.id}-gil", env=((GIL_SWITCH, "1"),), gil_enabled=True,
                                        variant_of=interp.id, twin=""))
        out += [interp, *variants]
    return out


def discover(environ: Mapping[str, str] | None = None) -> list[Interpreter]:
    """Every working interpreter on this machine, once each, with ids (see ``assign_ids``), and the columns
    environment switches make of them (``env_variants``)."""
    found = candidates(environ)
    with ThreadPoolExecutor(max_workers=max(1, min(16, len(found)))) as pool:
        answers = list(pool.map(lambda candidate: probe(candidate[0], env=environ), found))
    # The active version's shim and the binary it runs report one binary: one interpreter.
    working = [(answer, origin) for answer, (_, origin) in zip(answers, found) if answer is not None]
    base_env = dict(os.environ if environ is None else environ)
    probed = env_variants(
        link_twins(assign_ids(_best_origin(working, lambda answer: _identity(answer["realpath"])))),
        lambda interp, env: probe(Path(interp.executable), env={**base_env, **env}),
    )
    # Runtimes no probe runs in (Jython, MicroPython, Pyodide) describe themselves in their provisioning's marker.
    return probed + [Interpreter.from_dict(record) for record in find_runtimes(cache_dir(environ) / "interpreters")]


def host_facts() -> dict[str, object]:
    """What run.json keeps of the machine before anything ran. The CPU model, count and host name that the report
    shows are pyperf's (every worker records them: ``model.measured_host``); these are for a run where no cell ran,
    and the OS's name, which pyperf does not record."""
    cpu = platform.processor() or platform.machine()
    os_name = platform.platform()
    try:
        release = dict(
            line.split("=", 1) for line in Path("/etc/os-release").read_text().splitlines() if "=" in line
        )
        os_name = f"{release['PRETTY_NAME'].strip(chr(34))}, Linux {platform.release()}"
    except (OSError, KeyError):
        pass
    return {"cpu": cpu, "cores": os.cpu_count(), "os": os_name, "hostname": platform.node()}


def record_venv(
    run_dir: RunDir,
    interpreter_id: str,
    venv_python: str,
    probe_json: str | None,
    error: str | None,
    bindings_dir: str | None = None,
) -> None:
    """What the bench session learnt: the venv's python and what it says about itself, or why there is none."""
    record: dict[str, object] = {"venv_python": venv_python, "setup_error": error, "bindings_dir": bindings_dir}
    packages = Path(bindings_dir) / "packages.json" if bindings_dir else None
    if packages is not None and packages.exists():
        # What workloads/_packages.py could install here (numpy, numexpr): versions, or pip's reason.
        record["packages"] = json.loads(packages.read_text())
    if probe_json is not None:
        answer = json.loads(probe_json.strip().splitlines()[-1])
        base = next(i for i in run_dir.read_run()["discovered"] if i["id"] == interpreter_id)
        # Facts from inside the venv (GIL state, JIT), identity (id, origin, executable) from discovery.
        facts = interpreter_from_probe(answer, base["origin"], base["id"]).to_dict()
        facts.update(executable=base["executable"], prefix=base.get("prefix", ""), twin=base.get("twin", ""),
                     build=base.get("build", ""), env=base.get("env", ()), variant_of=base.get("variant_of", ""))
        record["interpreter"] = facts
        expected = (base["implementation"], base["version"], base["free_threaded"])
        got = (answer["implementation"], answer["version"], answer["free_threaded"])
        if got != expected and error is None:
            # Never measure one interpreter under another's name.
            record["setup_error"] = f"the venv runs {got}, not the discovered {expected}: delete .nox and re-run"
    run_dir.write_interpreter(interpreter_id, record)
