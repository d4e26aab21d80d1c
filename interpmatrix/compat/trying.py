"""Try packages on interpreters: a fresh venv per package and interpreter, the install under a time limit, the
import probe, and the cache.

Each package gets a venv of its own, so that one package's failure or its dependencies never decide another's
answer. uv makes a venv in a tenth of a second where virtualenv takes seconds, and installs from its cache in
milliseconds, so uv is used where it is installed (on PATH or beside this Python), and virtualenv with pip
otherwise (``--installer pip`` asks for them). Every child runs in a process group of its own that is killed whole
at the time limit: a build that hangs costs one package on one interpreter, with its reason.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from pathlib import Path

from .. import proc
from ..discovery import Interpreter
from .tried import (
    BUILT,
    NOT_TRIED,
    TIMEOUT,
    WHEEL,
    Cache,
    PackageResult,
    built_from_report,
    classify_install,
    looks_offline,
)
from .wanted import Wanted

IMPORT_PROBE = Path(__file__).with_name("import_probe.py")
DEFAULT_INDEX = "https://pypi.org/simple/"
# A venv is made in seconds and a package imported in a few; a hang in either is stopped here.
VENV_TIMEOUT = 180.0
IMPORT_TIMEOUT = 120.0
# A build from source on a 2-core machine: numpy takes about 4 minutes, grpcio far longer.
DEFAULT_TIMEOUT = 300.0
# Switches of the matrix's columns that must not reach a package's venv: PYTHON_GIL=1 would hide whether an import
# turns the GIL back on.
CLEARED_ENV = ("PYTHON_GIL", "PYTHON_JIT", "PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV")


@dataclass(frozen=True)
class Installer:
    name: str  # "uv" or "pip"
    uv: str | None = None  # uv's path, for "uv"

    def venv_command(self, executable: str, folder: Path) -> list[str]:
        if self.uv is not None:
            return [self.uv, "venv", "--quiet", "--python", executable, str(folder)]
        return [sys.executable, "-m", "virtualenv", "--quiet", "--python", executable, str(folder)]

    def install_command(self, venv_python: Path, requirement: str, report: Path) -> list[str]:
        if self.uv is not None:
            return [self.uv, "pip", "install", "--no-progress", "--python", str(venv_python), requirement]
        return [str(venv_python), "-m", "pip", "install", "--disable-pip-version-check", "--no-input",
                "--report", str(report), requirement]

    def needs_a_build(self, venv_python: Path, env: Mapping[str, str]) -> bool:
        """Whether what is installed in the venv could not all come from wheels, asked of uv again with builds
        switched off: uv says "Built x" only when it builds, not when it reuses a build from its cache."""
        assert self.uv is not None
        freeze = proc.run_with_timeout([self.uv, "pip", "freeze", "--python", str(venv_python)], VENV_TIMEOUT,
                                       env=env)
        pins = [line.strip() for line in freeze.stdout.splitlines() if line.strip()]
        if freeze.returncode != 0 or not pins:
            return False
        again = proc.run_with_timeout([self.uv, "pip", "install", "--dry-run", "--no-build", "--reinstall",
                                       "--python", str(venv_python), *pins], VENV_TIMEOUT, env=env)
        said = again.stdout + again.stderr
        return again.returncode != 0 and ("building from source is disabled" in said or "has no usable wheels" in said
                                          or "source distributions is disabled" in said)


def find_uv(environ: Mapping[str, str] | None = None) -> str | None:
    """uv on PATH, or beside the Python running this (a nox session's venv that installed it)."""
    env = os.environ if environ is None else environ
    beside = Path(sys.executable).parent / "uv"
    if beside.is_file() and os.access(beside, os.X_OK):
        return str(beside)
    return shutil.which("uv", path=env.get("PATH"))


def choose_installer(asked: str, environ: Mapping[str, str] | None = None) -> tuple[Installer, str]:
    """The installer for ``--installer`` auto/uv/pip, and a line saying which and why."""
    uv = find_uv(environ) if asked in ("auto", "uv") else None
    if uv is not None:
        version = proc.run_with_timeout([uv, "--version"], VENV_TIMEOUT).stdout.split()
        return Installer("uv", uv), f"installer: {' '.join(version[:2]) or 'uv'}"
    if asked == "uv":
        return Installer("pip"), "installer: pip (uv was asked for but is not installed: `pip install uv`)"
    why = "asked for" if asked == "pip" else "uv is not installed"
    return Installer("pip"), f"installer: virtualenv and pip ({why})"


def index_url(environ: Mapping[str, str] | None = None) -> str:
    env = os.environ if environ is None else environ
    return env.get("UV_INDEX_URL") or env.get("PIP_INDEX_URL") or DEFAULT_INDEX


def unreachable_index(environ: Mapping[str, str] | None = None, timeout: float = 10.0) -> str | None:
    """Why the package index cannot be reached, or None when it answers."""
    url = index_url(environ).rstrip("/") + "/pip/"
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:  # noqa: S310 (the index's own URL)
            response.read(1)
    except urllib.error.HTTPError:
        return None  # it answered: an index that refuses this path still serves packages
    except (OSError, ValueError) as error:
        reason = getattr(error, "reason", error)
        return f"the package index {index_url(environ)} cannot be reached ({reason})"
    return None


def child_env(environ: Mapping[str, str] | None = None) -> dict[str, str]:
    env = dict(os.environ if environ is None else environ)
    for name in CLEARED_ENV:
        env.pop(name, None)
    return env


def _probe(venv_python: Path, wanted: Wanted, env: Mapping[str, str]) -> dict[str, object]:
    done = proc.run_with_timeout([venv_python, IMPORT_PROBE, wanted.name, *wanted.imports], IMPORT_TIMEOUT, env=env)
    if done.timed_out:
        return {"errors": [f"the import did not finish within {IMPORT_TIMEOUT:.0f} s"]}
    try:
        answer = json.loads(done.stdout.strip().splitlines()[-1])
    except (ValueError, IndexError):
        last = (done.stderr.strip().splitlines() or ["no output"])[-1]
        return {"errors": [f"the import probe crashed (exit {done.returncode}): {last}"]}
    return answer


def try_package(interpreter: Interpreter, wanted: Wanted, installer: Installer, *, timeout: float,
                work_dir: Path, environ: Mapping[str, str] | None = None) -> tuple[PackageResult, str]:
    """Install ``wanted`` into a fresh venv of ``interpreter`` and import it. Returns the result and the
    installer's output (kept for a failure's log)."""
    env = child_env(environ)
    base = PackageResult(
        interpreter=interpreter.id, requirement=wanted.requirement, name=wanted.name, source=wanted.source,
        install=NOT_TRIED, installer=installer.name, free_threaded=interpreter.free_threaded,
        implementation=interpreter.implementation, tried_at=datetime.now(timezone.utc).isoformat(),
    )
    folder = Path(tempfile.mkdtemp(prefix=f"{interpreter.id}-{wanted.key}-"[:60], dir=work_dir))
    try:
        venv = proc.run_with_timeout(installer.venv_command(interpreter.executable, folder / "venv"),
                                     VENV_TIMEOUT, env=env)
        if venv.timed_out or venv.returncode != 0:
            output = venv.stdout + venv.stderr
            last = (output.strip().splitlines() or [f"exit status {venv.returncode}"])[-1]
            why = "timed out" if venv.timed_out else last
            return replace(base, reason=f"no venv could be made with {installer.name}: {why}"), output
        venv_python = folder / "venv" / "bin" / "python"
        started = time.monotonic()
        report = folder / "pip-report.json"
        done = proc.run_with_timeout(installer.install_command(venv_python, wanted.requirement, report), timeout,
                                     env=env)
        seconds = time.monotonic() - started
        output = done.stdout + done.stderr
        built = None
        if report.exists():
            try:
                built = built_from_report(json.loads(report.read_text(encoding="utf-8")))
            except ValueError:
                built = None
        install = classify_install(wanted.name, output, done.returncode, done.timed_out, seconds, limit=timeout,
                                   built=built)
        result = replace(base, install=install.outcome, reason=install.reason, install_seconds=round(seconds, 1),
                         built=install.built)
        if install.outcome == WHEEL and installer.uv is not None and installer.needs_a_build(venv_python, env):
            result = replace(result, install=BUILT, build_cached=True)
        if not result.installed:
            if install.outcome != TIMEOUT and looks_offline(output):
                result = replace(result, install=NOT_TRIED, reason="the package index could not be reached")
            return result, output
        answer = _probe(venv_python, wanted, env)
        errors = tuple(str(error) for error in answer.get("errors", []))
        gil_after = answer.get("gil_after")
        return replace(
            result,
            version=answer.get("version"),  # type: ignore[arg-type]
            imported=not errors,
            import_errors=errors,
            gil_reenabled=(bool(gil_after) and not answer.get("gil_before")) if interpreter.free_threaded
            and gil_after is not None else None,
            gil_warnings=tuple(answer.get("gil_warnings", [])),  # type: ignore[arg-type]
            extensions=tuple(answer.get("extensions", [])),  # type: ignore[arg-type]
            cffi_modules=tuple(answer.get("cffi_modules", [])),  # type: ignore[arg-type]
            python_modules=int(answer.get("python_modules", 0)),  # type: ignore[arg-type]
        ), output
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def binary_key(interpreter: Interpreter) -> str:
    return Cache.binary_key(interpreter.executable, interpreter.version, interpreter.implementation_version,
                            interpreter.free_threaded)


def pip_targets(interpreters: Iterable[Interpreter]) -> tuple[list[Interpreter], list[tuple[str, str]]]:
    """The interpreters packages are tried on (one per binary), and the others with the reason: a column that
    only switches its binary's JIT or GIL shares its binary's packages, and a self-timed runtime has no pip."""
    targets: list[Interpreter] = []
    skipped: list[tuple[str, str]] = []
    for interpreter in interpreters:
        if interpreter.variant_of:
            skipped.append((interpreter.id, f"the same binary and packages as {interpreter.variant_of}"))
        elif interpreter.self_timed or not interpreter.supported:
            skipped.append((interpreter.id, "self-timed, without pip"))
        else:
            targets.append(interpreter)
    return targets, skipped


def check(
    interpreters: Sequence[Interpreter],
    wanted: Sequence[Wanted],
    *,
    cache: Cache,
    installer: Installer,
    timeout: float = DEFAULT_TIMEOUT,
    refresh: bool = False,
    cached_only: bool = False,
    offline: str | None = None,
    echo: Callable[[str], None] = print,
    log_dir: Path | None = None,
    environ: Mapping[str, str] | None = None,
) -> list[PackageResult]:
    """Every package of ``wanted`` on every interpreter of ``interpreters`` (pip targets only), from the cache
    where it has a fresh answer. ``offline`` (why the index cannot be reached) or ``cached_only``: nothing is
    installed, and what the cache does not have is marked not tried."""
    work_dir = cache.folder / "venvs"
    work_dir.mkdir(parents=True, exist_ok=True)
    results: list[PackageResult] = []
    for interpreter in interpreters:
        key = binary_key(interpreter)
        for item in wanted:
            known = None if refresh else cache.get(key, item.key)
            if known is not None:
                results.append(replace(known, interpreter=interpreter.id, source=item.source, cached=True))
                echo(f"{interpreter.id}: {item.requirement}: {describe(known)} (from the cache of {known.tried_at[:10]})")
                continue
            if offline is not None or cached_only:
                reason = f"not tried: {offline}" if offline else "not tried yet: `nox -s packages` tries it"
                results.append(PackageResult(interpreter.id, item.requirement, item.name, item.source, NOT_TRIED,
                                             reason=reason, free_threaded=interpreter.free_threaded,
                                             implementation=interpreter.implementation))
                continue
            result, output = try_package(interpreter, item, installer, timeout=timeout, work_dir=work_dir,
                                         environ=environ)
            if result.install == NOT_TRIED and result.reason == "the package index could not be reached":
                offline = result.reason
                echo(f"no network: {offline}; what the cache does not have is marked not tried")
            if log_dir is not None and not result.installed and output:
                log_dir.mkdir(parents=True, exist_ok=True)
                (log_dir / f"{interpreter.id}-{item.key}.log").write_text(output, encoding="utf-8")
            cache.put(key, item.key, result)
            echo(f"{interpreter.id}: {item.requirement}: {describe(result)}")
            results.append(result)
    return results


def describe(result: PackageResult) -> str:
    """One line for the console."""
    if not result.installed:
        return f"{result.install}: {result.reason}"
    how = f"{result.install} {result.version or ''}".strip()
    if result.install_seconds is not None:
        how += f" in {result.install_seconds:.1f} s"
    if not result.imported:
        return f"{how}, but the import fails: {result.import_errors[0] if result.import_errors else '?'}"
    notes = [result.kind]
    if result.gil_reenabled:
        notes.append("turns the GIL back on")
    return f"{how}, imports ({', '.join(notes)})"
