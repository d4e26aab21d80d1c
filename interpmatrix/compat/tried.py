"""What trying one package on one interpreter found, read from the installer's output and the import probe, and the
cache that keeps it.

``classify_install`` reads uv's or pip's own output: whether the package asked for came from a wheel or was built
from source, and for a failure, the first line that says why (pip's or uv's reason, or the compiler's error inside a
failed build). It never guesses from a return code alone.

The cache keeps one file per interpreter binary and requirement. An entry is used again while it is younger than
``MAX_AGE_DAYS`` (a new release of an unpinned package may change the answer), so that a second run takes seconds;
``--refresh`` tries everything again.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from ..results import read_json, write_json
from .wanted import normalize

MAX_AGE_DAYS = 7

# How the package asked for got into the venv.
WHEEL, BUILT, FAILED, TIMEOUT, NOT_TRIED = "wheel", "built", "failed", "timeout", "not tried"


@dataclass(frozen=True)
class Install:
    outcome: str  # WHEEL, BUILT, FAILED, TIMEOUT or NOT_TRIED
    reason: str = ""  # for FAILED / TIMEOUT / NOT_TRIED: one line, the installer's own words where it gave some
    built: tuple[str, ...] = ()  # for BUILT: the distributions built from source (the package or its dependencies)


@dataclass(frozen=True)
class PackageResult:
    """One package on one interpreter binary."""

    interpreter: str  # the interpreter id it was tried on
    requirement: str
    name: str
    source: str
    install: str  # WHEEL, BUILT, FAILED, TIMEOUT or NOT_TRIED
    reason: str = ""
    install_seconds: float | None = None
    installer: str = ""  # "uv" or "pip"
    built: tuple[str, ...] = ()  # the distributions built from source, the package or its dependencies
    build_cached: bool = False  # built from source earlier: the installer took its own cached build
    version: str | None = None  # as importlib.metadata reports it in the venv
    imported: bool | None = None  # None: not installed, so not tried
    import_errors: tuple[str, ...] = ()
    free_threaded: bool = False
    gil_reenabled: bool | None = None  # None: not a free-threaded build, or not imported
    gil_warnings: tuple[str, ...] = ()
    extensions: tuple[str, ...] = ()  # C-API extension modules loaded from site-packages (cpyext on PyPy)
    cffi_modules: tuple[str, ...] = ()
    python_modules: int = 0
    implementation: str = "cpython"
    tried_at: str = ""  # ISO time, UTC
    cached: bool = False  # read from the cache by this run, not tried again

    @property
    def installed(self) -> bool:
        return self.install in (WHEEL, BUILT)

    @property
    def works(self) -> bool:
        return self.installed and bool(self.imported)

    @property
    def kind(self) -> str:
        """What importing it loaded from site-packages: 'C extension', 'cffi', 'pure Python', or 'the
        interpreter's own' when nothing came from site-packages (PyPy ships cffi itself)."""
        if self.extensions:
            return "C extension"
        if self.cffi_modules:
            return "cffi"
        if self.python_modules:
            return "pure Python"
        return "the interpreter's own"

    @property
    def through_cpyext(self) -> bool:
        return self.implementation == "pypy" and bool(self.extensions)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> PackageResult:
        known = {item.name for item in fields(cls)}
        values = {key: (tuple(value) if isinstance(value, list) else value)
                  for key, value in data.items() if key in known}
        return cls(**values)


def _first(pattern: str, text: str, flags: int = re.MULTILINE) -> str | None:
    match = re.search(pattern, text, flags)
    return match.group(1).strip() if match else None


def _compiler_error(text: str) -> str | None:
    """The first line of a failed build's own output that says what went wrong (a compiler's or a build tool's)."""
    for line in text.splitlines():
        stripped = line.strip()
        lowered = stripped.lower()
        if (("error:" in lowered or "error " in lowered.split(":", 1)[0] or lowered.startswith("error"))
                and not lowered.startswith(("error: failed to build", "error: subprocess-exited-with-error",
                                            "error: failed-wheel-build", "error: command '", "error: could not build",
                                            "error: metadata-generation-failed"))
                and "exit status" not in lowered and "returned non-zero" not in lowered):
            return stripped
    return None


def built_names(output: str) -> set[str]:
    """The distributions the installer built from source, normalized: uv says "Built numpy==2.3.1", pip
    "Successfully built numpy" or "Building wheel for numpy (pyproject.toml): finished with status 'done'"."""
    names = {normalize(name) for name in re.findall(r"^\s*Built ([A-Za-z0-9._-]+)", output, re.MULTILINE)}
    for line in re.findall(r"^Successfully built (.+)$", output, re.MULTILINE):
        names.update(normalize(name) for name in line.split())
    names.update(normalize(name) for name in
                 re.findall(r"Building wheel for ([A-Za-z0-9._-]+) \(.*\): finished with status 'done'", output))
    return names


def failure_reason(output: str) -> str:
    """One line saying why an install failed, in the installer's words, the build's own error where there is one."""
    # uv: "error: No solution found when resolving dependencies" then "  cause: Because ... unsatisfiable."
    # (older uv prints the cause after "╰─▶").
    uv_error = _first(r"^(?:×\s*|error: )(.+)$", output)
    if uv_error is not None and "resolving dependencies" in uv_error:
        cause = _first(r"^\s*(?:cause:|╰─▶)\s*(.+)$", output)
        return f"{uv_error}: {cause}" if cause else uv_error
    pip_no_match = _first(r"^ERROR: (No matching distribution found for .+)$", output)
    if pip_no_match is not None:
        return pip_no_match
    pip_conflict = _first(r"^ERROR: (Cannot install .+|ResolutionImpossible.*)$", output)
    if pip_conflict is not None:
        return pip_conflict
    building = re.search(r"Failed to build|Failed building wheel|failed-wheel-build|subprocess-exited-with-error"
                         r"|metadata-generation-failed", output)
    if building:
        inner = _compiler_error(output[building.start():]) or _compiler_error(output)
        what = _first(r"^(?:error: )?(Failed to build .+?)$", output) or "the build from source failed"
        return f"{what.rstrip(':')}: {inner}" if inner else what
    if uv_error is not None:
        return uv_error
    pip_error = _first(r"^ERROR: (.+)$", output)
    if pip_error is not None:
        return pip_error
    lines = [line.strip() for line in output.splitlines() if line.strip()]
    return lines[-1] if lines else "the installer failed without saying why"


def built_from_report(report: Mapping[str, Any]) -> set[str]:
    """The distributions pip built from source, from its ``--report`` JSON: each install item names the file it
    took, a wheel's ending in .whl (pip reports the source archive even when it reuses a wheel it built before)."""
    built = set()
    for item in report.get("install", []):
        url = str(item.get("download_info", {}).get("url", ""))
        name = item.get("metadata", {}).get("name", "")
        if name and not url.endswith(".whl"):
            built.add(normalize(name))
    return built


def classify_install(name: str, output: str, returncode: int, timed_out: bool, seconds: float,
                     limit: float | None = None, built: set[str] | None = None) -> Install:
    """The outcome for package ``name`` (normalized) from the installer's output and how it ended; ``built``: the
    distributions known to be built from source (pip's report), else those the output says were built (uv's)."""
    if timed_out:
        building = name in {normalize(n) for n in re.findall(r"Building ([A-Za-z0-9._-]+)", output)} or \
            "Building wheel" in output
        what = "the build from source" if building else "the install"
        return Install(TIMEOUT, f"{what} was stopped after {limit if limit is not None else seconds:.0f} s "
                                "(a longer limit: --timeout SECONDS)")
    if returncode != 0:
        return Install(FAILED, failure_reason(output))
    made = built_names(output) if built is None else built
    return Install(BUILT, built=tuple(sorted(made))) if made else Install(WHEEL)


NETWORK_WORDS = ("Temporary failure in name resolution", "Name or service not known", "Connection refused",
                 "NewConnectionError", "Network is unreachable", "dns error", "Failed to fetch", "ConnectError",
                 "error sending request", "Could not connect")


def looks_offline(output: str) -> bool:
    """Whether an installer failed because the package index could not be reached."""
    return any(word in output for word in NETWORK_WORDS)


@dataclass
class Cache:
    """Results by interpreter binary and requirement, in ``folder`` (``discovery.cache_dir() / "packages"``)."""

    folder: Path
    now: datetime = field(default_factory=lambda: datetime.now(timezone.utc))

    @staticmethod
    def binary_key(executable: str, version: str, implementation_version: str, free_threaded: bool) -> str:
        """One folder per interpreter binary: the same path with another version is another interpreter."""
        text = f"{executable}|{version}|{implementation_version}|{free_threaded}"
        return hashlib.sha256(text.encode()).hexdigest()[:16]

    def path(self, binary: str, requirement_key: str) -> Path:
        return self.folder / binary / f"{requirement_key}.json"

    def get(self, binary: str, requirement_key: str) -> PackageResult | None:
        """A fresh enough entry, or None (missing, unreadable, or older than MAX_AGE_DAYS)."""
        try:
            result = PackageResult.from_dict(read_json(self.path(binary, requirement_key)))
            tried = datetime.fromisoformat(result.tried_at)
        except (OSError, ValueError, TypeError):
            return None
        if self.now - tried > timedelta(days=MAX_AGE_DAYS):
            return None
        return result

    def put(self, binary: str, requirement_key: str, result: PackageResult) -> None:
        # Not kept: a result that says nothing about the package (the index was unreachable), and a local folder's,
        # whose files may change before the next run.
        if result.install == NOT_TRIED or result.requirement.startswith("/"):
            return
        path = self.path(binary, requirement_key)
        path.parent.mkdir(parents=True, exist_ok=True)
        write_json(path, result.to_dict())


PACKAGES_FILE = "packages.json"


@dataclass(frozen=True)
class Tried:
    """What one ``nox -s packages`` (or a matrix run's packages step) found: the file ``packages.json``."""

    results: tuple[PackageResult, ...]
    interpreters: tuple[str, ...]  # the columns packages were tried on, in order
    shared: tuple[tuple[str, str], ...] = ()  # (interpreter id, why it has no column of its own)
    errors: tuple[str, ...] = ()  # requirement lines that are not one, each naming its line
    offline: str | None = None  # why the index could not be reached, when it could not
    installer: str = ""  # "installer: uv (/path/to/uv)"
    timeout: float | None = None
    generated: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {"results": [result.to_dict() for result in self.results], "interpreters": list(self.interpreters),
                "shared": [list(pair) for pair in self.shared], "errors": list(self.errors),
                "offline": self.offline, "installer": self.installer, "timeout": self.timeout,
                "generated": self.generated}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Tried:
        return cls(
            results=tuple(PackageResult.from_dict(item) for item in data.get("results", [])),
            interpreters=tuple(data.get("interpreters", [])),
            shared=tuple((str(a), str(b)) for a, b in data.get("shared", [])),
            errors=tuple(data.get("errors", [])),
            offline=data.get("offline"),
            installer=data.get("installer", ""),
            timeout=data.get("timeout"),
            generated=data.get("generated", ""),
        )

    def write(self, path: Path) -> None:
        write_json(path, self.to_dict())

    @classmethod
    def read(cls, path: Path) -> Tried | None:
        """The file's content, or None when there is none (a run made before packages were tried)."""
        if not path.exists():
            return None
        return cls.from_dict(read_json(path))

    def result(self, interpreter: str, requirement: str) -> PackageResult | None:
        return next((r for r in self.results if r.interpreter == interpreter and r.requirement == requirement), None)

    def requirements(self, user: bool) -> list[str]:
        """The requirements tried, in order: the user's own (``user``) or the default list's."""
        found = [r.requirement for r in self.results if (r.source != "default list") == user]
        return list(dict.fromkeys(found))
