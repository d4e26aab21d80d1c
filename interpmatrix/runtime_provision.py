"""Provision the runtimes the seeds name that cannot run pyperf: Jython, MicroPython and Pyodide (``--only runtimes``).

Each lands in ``<cache>/interpreters/<key>/``, with ``bin/<launcher>`` (it runs ``launcher script.py args...`` as a
python would) and, written last, the marker discovery reads (``runtimes.RUNTIME_MARKER``, its keys described there):

- **Jython 2.7.3**: Debian's ``jython`` of the machine's own release (Debian 12) and the Java libraries it needs,
  unpacked into the folder: ``private_roots``' dependency closure and downloads, less the JVM and native libraries
  (``java_only``). The JVM is the system's (``debian_packages``: openjdk-17-jre-headless, with the reason).
- **MicroPython**: its unix port built from Debian sid's ``micropython`` source package (fetched through a private
  apt configuration with a deb-src line, as ``provision`` fetches CPython's), with Debian's patches and frozen
  modules, less the modules that need more than a C compiler (``MICROPYTHON_OPTIONS``). Where that source cannot be
  had and no MicroPython was made before, its WebAssembly build from npm under Node.js instead (one thread).
- **Pyodide**: the npm package ``pyodide`` of ``PYODIDE_LINE`` (CPython 3.14 compiled to WebAssembly), installed into
  the folder with npm's cache in ours (never globally), run under Node.js by ``runtime_launchers.PYODIDE_LAUNCHER``.

Each is made under a hidden name, smoke-tested there (argv, an import from the script's folder, both streams, an
exit status, then four threads), given its marker and renamed into place: discovery never finds a half-made runtime.
A key carries the runtime's version and a hash of how it is made (``LAYOUT``, build options, launcher texts): a warm
provision compares keys and is done, and a new key retires the older folder. Without network the newest folder made
is used. One that cannot be made is left out with the reason; the others still come.
"""

from __future__ import annotations

import fnmatch
import hashlib
import json
import os
import re
import shutil
import sys
import time
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from . import private_roots, runtime_launchers
from .cpython_build import Log, ProvisionError, run_logged
from .debian_packages import DEBIAN_PACKAGES, DebianPackage
from .proc import run_with_timeout
from .runtimes import RUNTIME_MARKER, runtime_record

FAMILY = "runtimes"
# Bumped when the way a runtime's folder is made changes: every key changes, and each is made again.
LAYOUT = 1
DOWNLOAD_TIMEOUT = 300.0
BUILD_TIMEOUT = 1800.0
SMOKE_TIMEOUT = 120.0
QUERY_TIMEOUT = 30.0


class ProvisionLists(ProvisionError):
    """The lists or registry a runtime's version is read from cannot be reached: the newest folder made is used."""


class NotHere(ProvisionError):
    """This machine cannot have the runtime this way (not Debian-like): skipped, as a family is, not failed."""


@dataclass(frozen=True)
class Runtime:
    """What the marker says of a runtime beyond what it says of itself: the facts no script can ask."""

    implementation: str
    launcher: str  # bin/<launcher>
    jit: str
    gil: str  # "yes", "no" or "none"; asked where the runtime says (Pyodide, MicroPython's unix port)
    threads: bool  # expected: one that should start threads and cannot is broken, not threadless


JYTHON = Runtime("jython", "jython", jit="JVM", gil="no", threads=True)  # Java threads and no GIL: seed 003's point
MICROPYTHON = Runtime("micropython", "micropython", jit="none", gil="no", threads=True)
PYODIDE = Runtime("pyodide", "pyodide", jit="none", gil="yes", threads=False)  # WebAssembly here has no threads
# The fallback where sid's source cannot be had: one thread, so no lock to have or not.
MICROPYTHON_WASM = Runtime("micropython", "micropython", jit="none", gil="none", threads=False)
MICROPYTHON_WASM_PACKAGE = "@micropython/micropython-webassembly-pyscript"

# Jython's Java libraries come into its folder; the JVM, and the native libraries it and libjffi's JNI part load,
# are the system's, of the same release.
JVM_PACKAGES = ("default-jre-headless", "openjdk-*", "java-common", "ca-certificates-java")
# antlr3 is a Java library without the -java suffix, named in jython.jar's manifest.
JYTHON_PACKAGES = ("jython", "antlr3")
JNI_DIR = "usr/lib/x86_64-linux-gnu/jni"
# The unix port as upstream builds it (standard variant, -Os), with Debian's frozen modules (asyncio, mip).
MICROPYTHON_OPTIONS = (
    "FROZEN_MANIFEST=../../debian/config/manifest.py",
    # The unix port's own default, written out because the marker says so (MICROPYTHON.gil).
    "MICROPY_PY_THREAD=1", "MICROPY_PY_THREAD_GIL=0",
    # ssl needs mbedTLS, ffi libffi, jni a JDK, btree Berkeley DB's sources (which Debian's source leaves out): the
    # kernels import none of them, and a C compiler is then all the build needs.
    "MICROPY_PY_SSL=0", "MICROPY_SSL_MBEDTLS=0", "MICROPY_PY_FFI=0", "MICROPY_PY_JNI=0", "MICROPY_PY_BTREE=0",
)
MICROPYTHON_SUITE = "sid"
PYODIDE_LINE = "314"  # Pyodide 314.x is CPython 3.14; the newest of the line is taken


def java_only(name: str) -> str | None:
    """Why a dependency of Jython stays out of its folder, or None for a Java library (``*-java``, ``*-jni``)."""
    if any(fnmatch.fnmatchcase(name, pattern) for pattern in JVM_PACKAGES):
        return "the JVM is the system's (debian_packages.py, 'jython')"
    if name.endswith(("-java", "-jni")):
        return None
    return "a native library: the JVM and libjffi's JNI part load the system's, of the same release"


def runtime_key(head: str, version: str, suite: str, *made_with: object) -> str:
    """``jython-2.7.3+repack1-1-bookworm-<hash>``: the version, where it comes from, and a hash of how it is made."""
    digest = hashlib.sha256(json.dumps([LAYOUT, *made_with], default=str).encode()).hexdigest()[:8]
    return f"{head}-{version.replace(':', '_')}-{suite}-{digest}"


def published(cache: Path, implementation: str) -> list[Path]:
    """The finished folders of ``implementation``, oldest made first."""
    found = []
    for marker in (cache / "interpreters").glob(f"*/{RUNTIME_MARKER}"):
        try:
            info = json.loads(marker.read_text())
        except (OSError, ValueError):
            continue
        if info.get("implementation") == implementation:
            found.append((info.get("made", ""), marker.parent))
    return [folder for _, folder in sorted(found)]


# --- the smoke test ------------------------------------------------------------------------------------------------


def _last_line(*texts: str) -> str:
    return next((line for text in texts for line in reversed(text.strip().splitlines()) if line.strip()), "no message")


def smoke_test(launcher: Path, work: Path, runtime: Runtime, timeout: float = SMOKE_TIMEOUT) -> dict:
    """What the runtime says of itself once ``launcher`` ran a script as a python would: argv, an import from the
    script's folder (from another working directory), stdout, stderr, ``sys.exit``'s status; and whether it ran four
    threads. ProvisionError with the reason otherwise."""
    scripts = work / "scripts"
    scripts.mkdir(parents=True, exist_ok=True)
    for name, text in runtime_launchers.SMOKE_FILES.items():
        (scripts / name).write_text(text)

    def run(script: str, *args: str):
        try:
            result = run_with_timeout([launcher, scripts / script, *args], timeout, cwd=work)
        except OSError as error:
            raise ProvisionError(f"smoke test: {launcher} does not start: {error}") from None
        if result.timed_out:
            raise ProvisionError(f"smoke test: {launcher} {script} took longer than {timeout:g} s")
        return result

    first = run("smoke.py", "0", "two words", "--flag")
    lines = first.stdout.splitlines()
    if first.returncode != 0 or lines[:1] != ["argv 0|two words|--flag"] or "stderr works" not in first.stderr:
        raise ProvisionError(f"smoke test of {launcher} failed (exit {first.returncode}): "
                             f"{_last_line(first.stderr, first.stdout)}")
    try:
        facts = json.loads(lines[1])
    except (IndexError, ValueError):
        raise ProvisionError(f"smoke test: {launcher} printed no facts: {first.stdout.strip()!r}") from None
    status = run("smoke.py", "3").returncode
    if status != 3:
        raise ProvisionError(f"smoke test: {launcher} exited with {status} where the script's sys.exit(3) asks 3")
    threads = run("threads.py")
    facts["threads"] = threads.returncode == 0 and threads.stdout.strip() == "threads 4"
    if runtime.threads and not facts["threads"]:
        raise ProvisionError(f"smoke test: {launcher} did not run 4 threads (exit {threads.returncode}): "
                             f"{_last_line(threads.stderr, threads.stdout)}")
    return facts


# --- publishing a folder -------------------------------------------------------------------------------------------


def make_runtime(cache: Path, runtime: Runtime, key: str, build: str, fill: Callable[[Path], None], echo: Log,
                 smoke: Callable[[Path, Path, Runtime], dict] = smoke_test) -> Path:
    """The published folder ``key`` of ``runtime``: cached, or made by ``fill`` (which puts ``bin/<launcher>`` into
    the hidden folder it is given), smoke-tested, given its marker and renamed into place. Whatever fails, nothing
    of it is left for discovery to find; a folder it replaces is retired."""
    entry = cache / "interpreters" / key
    if (entry / RUNTIME_MARKER).exists() and (entry / "bin" / runtime.launcher).exists():
        echo(f"  {key}: cached")
        return entry
    started = time.monotonic()
    hidden = entry.with_name(f".{key}.partial")
    work = cache / "build" / f"{key}-smoke"
    for stale in (hidden, entry, work):
        shutil.rmtree(stale, ignore_errors=True)
    try:
        hidden.mkdir(parents=True)
        fill(hidden)
        facts = smoke(hidden / "bin" / runtime.launcher, work, runtime)
        if facts.get("implementation") != runtime.implementation:
            raise ProvisionError(f"{key}: the smoke test says it is {facts.get('implementation')!r}, "
                                 f"not {runtime.implementation}")
        gil = runtime.gil if "gil_enabled" not in facts else ("yes" if facts["gil_enabled"] else "no")
        marker = {
            "implementation": runtime.implementation, "version": facts["version"],
            "language_version": facts["language_version"], "executable": str(entry / "bin" / runtime.launcher),
            "threads": facts["threads"], "gil": gil, "jit": runtime.jit,
            "build": f"{build} on {facts['host']}" if facts.get("host") else build,
            "smoke": facts, "seconds": round(time.monotonic() - started, 1),
            "made": datetime.now(timezone.utc).isoformat(),
        }
        # Discovery's own reading of it (with the path it has before the rename): a marker it would reject is a
        # failure here, with its reason.
        runtime_record({**marker, "executable": str(hidden / "bin" / runtime.launcher)}, hidden)
        (hidden / RUNTIME_MARKER).write_text(json.dumps(marker, indent=2) + "\n")
        hidden.rename(entry)
    except BaseException as error:  # a failed step, a time-out, Ctrl-C: no folder is left half-made
        shutil.rmtree(hidden, ignore_errors=True)
        if isinstance(error, (OSError, ValueError)):
            raise ProvisionError(f"{key}: {error}") from None
        raise
    finally:
        shutil.rmtree(work, ignore_errors=True)
    echo(f"  {key}: made in {time.monotonic() - started:.1f} s ({facts})")
    for older in published(cache, runtime.implementation):
        if older != entry:
            private_roots.retire(older)
            echo(f"  {older.name}: removed (superseded by {key})")
    return entry


# --- what provisioning lends, and the three runtimes ---------------------------------------------------------------


@dataclass
class Access:
    """What ``provision`` lends (it imports this module, so this one cannot import it): apt options with fresh
    private lists of a kind and suite (ProvisionError saying why not), the machine's Debian release (None when it
    is not Debian-like), and the installer of missing Debian packages (``provision.install_debian_packages``)."""

    lists: Callable[[str, str], list[str]]
    release: str | None
    install: Callable[[Sequence[DebianPackage], str], str]


def bring(access: Access, step: str) -> str:
    """The Debian packages of ``step`` whose command is missing, installed (ProvisionError with the apt-get command
    when that needs root); what was done."""
    wanted = [package for package in DEBIAN_PACKAGES[step] if package.command is None or not shutil.which(package.command)]
    return access.install(wanted, f"runtimes-{step}") if wanted else "present"


def _command(name: str, step: str) -> str:
    found = shutil.which(name)
    if found is None:
        packages = ", ".join(package.name for package in DEBIAN_PACKAGES[step])
        raise ProvisionError(f"{name} is not on PATH: install {packages} (or {name} otherwise), then provision again")
    return found


def jython_classpath(tree: Path) -> list[str]:
    """The jars jython.jar's manifest names (/usr/share/java/...), as paths in ``tree``, jython.jar first; those
    the folder lacks (the database drivers Debian only suggests) are left out."""
    jar = tree / "usr/share/java/jython.jar"
    with zipfile.ZipFile(jar) as archive:
        manifest = archive.read("META-INF/MANIFEST.MF").decode()
    unfolded = re.sub(r"\r?\n ", "", manifest)  # a manifest's long lines go on after a newline and a space
    found = re.search(r"^Class-Path: (.*)$", unfolded, flags=re.MULTILINE)
    named = [entry.lstrip("/") for entry in (found.group(1).split() if found else [])]
    return ["usr/share/java/jython.jar", *(entry for entry in named if (tree / entry).exists())]


def provide_jython(cache: Path, access: Access, echo: Log) -> Path:
    """Jython from Debian's package of this machine's release, its Java libraries beside it."""
    if access.release is None:
        raise NotHere("needs apt-get and dpkg-deb (Debian's jython package), on x86_64")
    options = access.lists("deb", access.release)
    bring(access, "jython")
    java = _command("java", "jython")
    spec = private_roots.RootSpec("jython-2.7", JYTHON_PACKAGES, "usr/share/java/jython.jar", access.release)
    debs = private_roots.resolve(spec, options, java_only)
    versions = {deb.name: deb.version for deb in debs}
    key = runtime_key("jython", versions["jython"], access.release, sorted(versions.items()), java,
                      runtime_launchers.jython_launcher("", [], ""))
    log_file = cache / "logs" / f"{key}.log"

    def fill(folder: Path) -> None:
        store = private_roots.download(cache, debs, options, run_logged, echo, log_file, DOWNLOAD_TIMEOUT)
        for deb in debs:
            run_logged(["dpkg-deb", "-x", str(store / deb.filename), str(folder)], log_file, f"unpack {deb.name}",
                       lambda line: None)
        (folder / "bin").mkdir()
        launcher = folder / "bin" / "jython"
        launcher.write_text(runtime_launchers.jython_launcher(java, jython_classpath(folder), JNI_DIR))
        launcher.chmod(0o755)

    build = f"Debian {access.release} jython {versions['jython']}"
    return make_runtime(cache, JYTHON, key, build, fill, echo)


def parse_showsrc_version(text: str) -> str | None:
    """The newest ``Version:`` of ``apt-cache showsrc``'s answer (one stanza per source in the lists)."""
    versions = re.findall(r"^Version: (\S+)$", text, flags=re.MULTILINE)
    return max(versions, key=_debian_order, default=None)


def _debian_order(version: str) -> list[object]:
    # Enough of dpkg's order for one package's versions in one suite: numbers as numbers, "~" before anything.
    return [int(part) if part.isdigit() else part.replace("~", "\x00") for part in re.split(r"(\d+)", version)]


def micropython_commands(tree: Path, python: str = sys.executable, jobs: int | None = None) -> list[list[str]]:
    """The build's commands: mpy-cross first (it compiles the frozen modules), then the unix port."""
    parallel = f"-j{jobs or os.cpu_count() or 1}"
    return [["make", "-C", str(tree / "mpy-cross"), parallel, f"PYTHON={python}"],
            ["make", "-C", str(tree / "ports" / "unix"), parallel, f"PYTHON={python}", *MICROPYTHON_OPTIONS]]


def provide_micropython(cache: Path, access: Access, echo: Log) -> Path:
    """MicroPython's unix port, built here from Debian sid's source package; where that source cannot be had and
    no MicroPython was made before, its WebAssembly build from npm under Node.js."""
    try:
        return build_micropython(cache, access, echo)
    except (NotHere, ProvisionLists) as error:
        if published(cache, MICROPYTHON.implementation):
            raise  # the newest made is used (``provide``)
        echo(f"  MicroPython's source cannot be had ({error}): its WebAssembly build instead")
        try:
            return npm_runtime(cache, access, echo, MICROPYTHON_WASM, MICROPYTHON_WASM_PACKAGE, "latest",
                               runtime_launchers.MICROPYTHON_WASM_LAUNCHER)
        except ProvisionError as wasm:
            raise type(error)(f"{error}; WebAssembly build: {wasm}") from None


def build_micropython(cache: Path, access: Access, echo: Log) -> Path:
    """MicroPython's unix port, built here from Debian sid's source package."""
    if access.release is None:
        raise NotHere("needs apt-get and dpkg-source (Debian's micropython source package), on x86_64")
    options = access.lists("deb-src", MICROPYTHON_SUITE)
    answer = private_roots.apt_answer(["apt-cache", *options, "showsrc", "micropython"], QUERY_TIMEOUT)
    version = parse_showsrc_version(answer)
    if version is None:
        raise ProvisionLists(f"Debian {MICROPYTHON_SUITE} lists no micropython source package")
    key = runtime_key("micropython", version, MICROPYTHON_SUITE, MICROPYTHON_OPTIONS)
    entry = cache / "interpreters" / key
    if (entry / RUNTIME_MARKER).exists():
        echo(f"  {key}: cached")
        return entry
    bring(access, "micropython")
    log_file = cache / "logs" / f"{key}.log"
    log_file.unlink(missing_ok=True)
    tree = cache / "build" / key

    def fill(folder: Path) -> None:
        source = cache / "src"
        dsc = source / f"micropython_{version.split(':')[-1]}.dsc"
        if not dsc.exists():
            source.mkdir(parents=True, exist_ok=True)
            run_logged(["apt-get", *options, "source", "--download-only", f"micropython={version}"], log_file,
                       "apt-get source micropython", echo, cwd=source, timeout=DOWNLOAD_TIMEOUT)
        shutil.rmtree(tree, ignore_errors=True)
        tree.parent.mkdir(parents=True, exist_ok=True)
        # dpkg-source unpacks the upstream tarball and applies Debian's patches (its own mbedTLS, no submodules);
        # --no-copy: no copy of the tarball is left beside the tree, in build/.
        run_logged(["dpkg-source", "--no-copy", "-x", str(dsc), str(tree)], log_file, "dpkg-source -x", echo)
        commands = micropython_commands(tree)
        echo(f"building MicroPython {version} (unix port); log: {log_file}")
        for command, stage in zip(commands, ("make mpy-cross", "make unix port")):
            try:
                run_logged(command, log_file, stage, echo, timeout=BUILD_TIMEOUT)
            except ProvisionError as error:
                raise ProvisionError(f"{error}\nretry with: {' && '.join(' '.join(c) for c in commands)}") from None
        (folder / "bin").mkdir()
        shutil.copy2(tree / "ports" / "unix" / "build-standard" / "micropython", folder / "bin" / "micropython")

    build = f"Debian {MICROPYTHON_SUITE} micropython {version} source, unix port built here (no ssl, ffi, jni, btree)"
    made = make_runtime(cache, MICROPYTHON, key, build, fill, echo)
    shutil.rmtree(tree, ignore_errors=True)  # the log stays; the tree is remade from the source on a rebuild
    return made


def parse_npm_versions(text: str) -> str | None:
    """The newest version of ``npm view <package>@<range> version --json``'s answer (a string, or a list when
    several match)."""
    try:
        answer = json.loads(text or "null")
    except ValueError:
        return None
    versions = [answer] if isinstance(answer, str) else [v for v in answer or [] if isinstance(v, str)]
    return max(versions, key=_debian_order, default=None)


def npm_runtime(cache: Path, access: Access, echo: Log, runtime: Runtime, package: str, wanted: str,
                launcher_js: str) -> Path:
    """A WebAssembly runtime: npm's ``package@wanted`` installed into its folder, run under Node.js by
    ``launcher_js`` (lib/launcher.mjs)."""
    bring(access, "node")
    node, npm = _command("node", "node"), _command("npm", "node")
    npm_cache = ["--cache", str(cache / "npm")]  # npm's own cache is ours too: nothing lands in ~/.npm
    try:
        answer = run_with_timeout([npm, "view", f"{package}@{wanted}", "version", "--json", *npm_cache], QUERY_TIMEOUT)
    except OSError as error:
        raise ProvisionError(f"npm does not run: {error}") from None
    version = None if answer.timed_out or answer.returncode else parse_npm_versions(answer.stdout)
    if version is None:
        raise ProvisionLists(f"the npm registry did not answer for {package}@{wanted}: "
                             f"{_last_line(answer.stderr, answer.stdout)}")
    wrapper = runtime_launchers.node_launcher(node, "lib/launcher.mjs")
    key = runtime_key(f"{package.rsplit('/', 1)[-1]}", version, "npm", launcher_js, wrapper)
    log_file = cache / "logs" / f"{key}.log"

    def fill(folder: Path) -> None:
        run_logged([npm, "install", "--prefix", str(folder / "lib"), *npm_cache, "--no-audit", "--no-fund",
                    "--ignore-scripts", f"{package}@{version}"], log_file, f"npm install {package}@{version}", echo,
                   timeout=DOWNLOAD_TIMEOUT)
        (folder / "lib" / "launcher.mjs").write_text(launcher_js)
        (folder / "bin").mkdir()
        launcher = folder / "bin" / runtime.launcher
        launcher.write_text(wrapper)
        launcher.chmod(0o755)

    return make_runtime(cache, runtime, key, f"npm {package} {version}", fill, echo)


def provide_pyodide(cache: Path, access: Access, echo: Log) -> Path:
    """Pyodide from npm, installed into its folder, run under Node.js."""
    return npm_runtime(cache, access, echo, PYODIDE, "pyodide", PYODIDE_LINE, runtime_launchers.PYODIDE_LAUNCHER)


PROVIDERS: dict[str, Callable[[Path, Access, Log], Path]] = {
    JYTHON.implementation: provide_jython, MICROPYTHON.implementation: provide_micropython,
    PYODIDE.implementation: provide_pyodide,
}


def provide(cache: Path, access: Access, echo: Log) -> list[tuple[str, Path | None, str]]:
    """(implementation, published folder or None, what happened) for each runtime: one that fails is left out
    with its reason, the others still come. Where the lists or the registry cannot be reached, the newest folder
    already made is used."""
    done = []
    for implementation, provider in PROVIDERS.items():
        try:
            entry = provider(cache, access, echo)
            done.append((implementation, entry, f"used: {entry.name}"))
        except NotHere as error:
            done.append((implementation, None, f"skipped: {error}"))
        except (ProvisionError, private_roots.RootError) as error:
            cached = published(cache, implementation) if isinstance(error, ProvisionLists) else []
            if cached:
                done.append((implementation, cached[-1], f"used: {cached[-1].name} (cached; {error})"))
            else:
                done.append((implementation, None, f"failed: {error}"))
    return done
