"""Provisioning Jython, MicroPython and Pyodide: versions, keys and commands on recorded answers (no network), the
launcher contract's smoke test on a stand-in, publishing and its faults; and, marked ``provision``, each runtime
made for real in a fresh cache and run as discovery will run it.

tests/fixtures/runtimes/ holds the real answers on the project machine (2026-12-02): ``apt-cache depends --recurse``
of Debian 12's jython and ``apt-get download --print-uris`` of its Java-only closure (bookworm with its updates and
security suites), ``apt-cache showsrc micropython`` from sid's source lists, and ``npm view pyodide@314 version
--json``.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from interpmatrix import cli, private_roots, provision, runtime_launchers, runtime_provision, runtimes
from interpmatrix.cpython_build import ProvisionError
from interpmatrix.debian_packages import DEBIAN_PACKAGES
from interpmatrix.private_roots import Deb
from interpmatrix.proc import Completed
from interpmatrix.runtime_provision import JYTHON, MICROPYTHON, PYODIDE, Access, ProvisionLists

FIXTURES = Path(__file__).parent / "fixtures" / "runtimes"
DEPENDS = (FIXTURES / "bookworm-jython-depends.txt").read_text()
DEBS = private_roots.parse_print_uris((FIXTURES / "bookworm-jython-print-uris.txt").read_text())


# --- Jython: Debian 12's package and its Java libraries, not the JVM ----------------------------------------------


def test_jythons_closure_is_its_java_libraries_without_the_jvm() -> None:
    names = private_roots.dependency_closure(runtime_provision.JYTHON_PACKAGES, DEPENDS, runtime_provision.java_only)
    assert names[:2] == ["jython", "antlr3"] and len(names) == len(set(names)) == 29
    assert "libjffi-jni" in names  # the JNI part of libjffi, beside its jar
    assert all(name.endswith(("-java", "-jni")) for name in names[2:])
    for left_out in ("default-jre-headless", "openjdk-17-jre-headless", "java-common", "libc6", "libffi8"):
        assert left_out in DEPENDS and left_out not in names
    assert "system's" in runtime_provision.java_only("openjdk-17-jre-headless")
    assert "native library" in runtime_provision.java_only("libffi8")


def test_jythons_key_is_its_version_suite_and_every_packages_version() -> None:
    versions = {deb.name: deb.version for deb in DEBS}
    assert versions["jython"] == "2.7.3+repack1-1" and len(versions) == 29

    def key(debs: list[Deb], java: str = "/usr/bin/java") -> str:
        return runtime_provision.runtime_key("jython", "2.7.3+repack1-1", "bookworm",
                                             sorted((d.name, d.version) for d in debs), java)

    assert key(DEBS).startswith("jython-2.7.3+repack1-1-bookworm-")
    assert key(list(reversed(DEBS))) == key(DEBS)
    newer = [Deb(d.name, "33.0-1", d.filename, d.sha256) if d.name == "libguava-java" else d for d in DEBS]
    assert key(newer) != key(DEBS)  # a library's update is a new folder
    assert key(DEBS, "/opt/jdk/bin/java") != key(DEBS)  # and so is another JVM


def test_jythons_classpath_is_what_its_manifest_names_in_the_folder(tmp_path: Path) -> None:
    java = tmp_path / "usr" / "share" / "java"
    java.mkdir(parents=True)
    with zipfile.ZipFile(java / "jython-2.7.3.jar", "w") as jar:  # a manifest folds lines at 72 bytes
        jar.writestr("META-INF/MANIFEST.MF", "Manifest-Version: 1.0\r\nClass-Path: /usr/share/java/servlet-api.jar /u\r\n"
                     " sr/share/java/mariadb-java-client.jar /usr/share/java/guava.jar\r\nMain-Class: org.python.util.jython\r\n")
    (java / "jython.jar").symlink_to("jython-2.7.3.jar")
    (java / "servlet-api.jar").write_bytes(b"")
    (java / "guava.jar").write_bytes(b"")
    assert runtime_provision.jython_classpath(tmp_path) == [
        "usr/share/java/jython.jar", "usr/share/java/servlet-api.jar", "usr/share/java/guava.jar"]  # no mariadb
    launcher = runtime_launchers.jython_launcher("/usr/bin/java", ["usr/share/java/jython.jar", "a b.jar"], "jni")
    assert "exec /usr/bin/java -cp \"$here/usr/share/java/jython.jar:$here/a b.jar\"" in launcher
    assert launcher.rstrip().endswith('org.python.util.jython "$@"')


# --- MicroPython: sid's source, the unix port ---------------------------------------------------------------------


def test_micropythons_version_comes_from_sids_source_lists() -> None:
    answer = (FIXTURES / "sid-micropython-showsrc.txt").read_text()
    assert runtime_provision.parse_showsrc_version(answer) == "1.26.1+ds-1"
    three = "Version: 1.27.0~rc1-1\n\nVersion: 1.26.10+ds-1\n\nVersion: 1.26.9+ds-1\n"
    assert runtime_provision.parse_showsrc_version(three) == "1.27.0~rc1-1"
    assert runtime_provision.parse_showsrc_version(three + "\nVersion: 1.27.0-1\n") == "1.27.0-1"  # ~ sorts first
    assert runtime_provision.parse_showsrc_version("") is None
    key = runtime_provision.runtime_key("micropython", "1.26.1+ds-1", "sid", runtime_provision.MICROPYTHON_OPTIONS)
    assert key.startswith("micropython-1.26.1+ds-1-sid-")
    assert key != runtime_provision.runtime_key("micropython", "1.26.1+ds-1", "sid", ())  # other options, other build


def test_micropythons_build_commands() -> None:
    tree = Path("/cache/build/micropython-x")
    mpy_cross, unix = runtime_provision.micropython_commands(tree, python="/usr/bin/python3", jobs=2)
    assert mpy_cross == ["make", "-C", "/cache/build/micropython-x/mpy-cross", "-j2", "PYTHON=/usr/bin/python3"]
    assert unix[:5] == ["make", "-C", "/cache/build/micropython-x/ports/unix", "-j2", "PYTHON=/usr/bin/python3"]
    assert "MICROPY_PY_THREAD_GIL=0" in unix and MICROPYTHON.gil == "no"  # what the marker says is what is built
    assert "FROZEN_MANIFEST=../../debian/config/manifest.py" in unix


# --- Pyodide: npm ------------------------------------------------------------------------------------------------


def test_pyodides_newest_version_of_its_line() -> None:
    answer = (FIXTURES / "npm-view-pyodide-314.json").read_text()  # npm lists them unordered
    assert runtime_provision.parse_npm_versions(answer) == "314.0.8"
    assert runtime_provision.parse_npm_versions('"314.0.8"') == "314.0.8"  # one match: a string
    assert runtime_provision.parse_npm_versions('["314.0.9", "314.0.10"]') == "314.0.10"
    assert runtime_provision.parse_npm_versions("npm ERR! network") is None
    assert runtime_provision.parse_npm_versions("") is None


def test_a_changed_launcher_is_a_new_key() -> None:
    node = runtime_launchers.node_launcher("/usr/bin/node", "lib/launcher.mjs")
    key = runtime_provision.runtime_key("pyodide", "314.0.8", "npm", runtime_launchers.PYODIDE_LAUNCHER, node)
    changed = runtime_launchers.PYODIDE_LAUNCHER.replace("EAGAIN", "EAGAIN ")
    assert runtime_provision.runtime_key("pyodide", "314.0.8", "npm", changed, node) != key
    assert 'exec /usr/bin/node "$here/lib/launcher.mjs" "$@"' in node


# --- the smoke test of the launcher contract, on a stand-in: this test's own python --------------------------------


def _launcher(folder: Path, body: str, name: str = "standin") -> Path:
    launcher = folder / "bin" / name
    launcher.parent.mkdir(parents=True, exist_ok=True)
    launcher.write_text(f"#!/bin/sh\n{body}\n")
    launcher.chmod(0o755)
    return launcher


def test_a_launcher_that_runs_scripts_as_python_does_passes(tmp_path: Path) -> None:
    launcher = _launcher(tmp_path, f'exec {sys.executable} "$@"')
    facts = runtime_provision.smoke_test(launcher, tmp_path / "work", JYTHON)
    assert facts["implementation"] == "cpython" and facts["threads"] is True
    assert facts["language_version"] == "{}.{}".format(*sys.version_info[:2])
    assert facts["version"] == sys.version.split()[0]


@pytest.mark.parametrize(("body", "says"), [
    ('exec {python} "$1"', "failed (exit 1): IndexError"),  # the arguments are lost
    ('{python} "$@"; exit 0', "exited with 0 where the script's sys.exit(3) asks 3"),
    ('exec {python} "$@" 2>/dev/null', "failed (exit 0)"),  # stderr is lost
    ("exit 0", "failed (exit 0)"),
], ids=["argv", "exit-status", "stderr", "nothing"])
def test_a_launcher_that_breaks_the_contract_is_refused(tmp_path: Path, body: str, says: str) -> None:
    launcher = _launcher(tmp_path, body.format(python=sys.executable))
    with pytest.raises(ProvisionError, match=f"smoke test.*{re.escape(says)}"):
        runtime_provision.smoke_test(launcher, tmp_path / "work", JYTHON)


@pytest.mark.skipif(sys.version_info < (3, 11), reason="-P (no script folder on sys.path) came with 3.11")
def test_a_launcher_without_the_scripts_folder_on_sys_path_is_refused(tmp_path: Path) -> None:
    launcher = _launcher(tmp_path, f'exec {sys.executable} -P "$@"')
    with pytest.raises(ProvisionError, match="No module named 'interpmatrix_smoke_helper'"):
        runtime_provision.smoke_test(launcher, tmp_path / "work", JYTHON)


def test_threads_are_required_only_where_the_runtime_has_them(tmp_path: Path) -> None:
    # A python without threads, as Pyodide is: threads.py fails to start one.
    launcher = _launcher(tmp_path, f'exec {sys.executable} -c "import sys, _thread; '
                         '_thread.start_new_thread = None; sys.argv = sys.argv[1:]; '
                         'sys.path[0] = __import__(\'os\').path.dirname(sys.argv[0]); '
                         'exec(compile(open(sys.argv[0]).read(), sys.argv[0], \'exec\'))" "$@"')
    assert runtime_provision.smoke_test(launcher, tmp_path / "work", PYODIDE)["threads"] is False
    with pytest.raises(ProvisionError, match="did not run 4 threads"):
        runtime_provision.smoke_test(launcher, tmp_path / "work2", MICROPYTHON)


# --- publishing: the marker last, after the smoke test; nothing half-made ------------------------------------------

FACTS = {"implementation": "jython", "language_version": "2.7", "version": "2.7.3", "threads": True,
         "host": "OpenJDK 64-Bit Server VM 17.0.15"}


def _fill(folder: Path) -> None:
    _launcher(folder, f'exec {sys.executable} "$@"', "jython")


def _make(cache: Path, key: str = "jython-2.7.3-bookworm-aaaa", smoke=lambda launcher, work, runtime: FACTS,
          fill=_fill) -> Path:
    return runtime_provision.make_runtime(cache, JYTHON, key, "Debian bookworm jython 2.7.3+repack1-1", fill,
                                          lambda line: None, smoke=smoke)


def test_a_runtime_is_published_with_its_marker_then_reused(tmp_path: Path) -> None:
    seen = []

    def smoke(launcher: Path, work: Path, runtime) -> dict:
        seen.append(launcher)
        assert launcher.parent.parent.name.startswith(".")  # tested under its hidden name
        return FACTS

    entry = _make(tmp_path, smoke=smoke)
    marker = json.loads((entry / runtimes.RUNTIME_MARKER).read_text())
    assert marker["executable"] == str(entry / "bin" / "jython") and marker["jit"] == "JVM" and marker["gil"] == "no"
    assert marker["build"] == "Debian bookworm jython 2.7.3+repack1-1 on OpenJDK 64-Bit Server VM 17.0.15"
    (record,) = runtimes.find_runtimes(tmp_path / "interpreters")  # what discovery makes of it
    assert (record["id"], record["version"], record["threads"]) == ("jython-2.7", "2.7", True)
    assert [p.name for p in (tmp_path / "interpreters").iterdir()] == [entry.name]
    assert _make(tmp_path, smoke=lambda *args: pytest.fail("smoke-tested again"),
                 fill=lambda folder: pytest.fail("made again")) == entry
    assert len(seen) == 1


@pytest.mark.parametrize("fault", ["smoke", "fill", "wrong-runtime", "bad-marker"])
def test_a_failed_runtime_leaves_nothing_discoverable(tmp_path: Path, fault: str) -> None:
    def smoke(launcher: Path, work: Path, runtime) -> dict:
        if fault == "smoke":
            raise ProvisionError("smoke test of jython failed (exit 1): NoClassDefFoundError")
        return {**FACTS, "implementation": "cpython"} if fault == "wrong-runtime" else {
            **FACTS, "version": "two point seven"} if fault == "bad-marker" else FACTS

    def fill(folder: Path) -> None:
        _fill(folder)
        if fault == "fill":
            raise ProvisionError("apt-get download failed (exit 100)")

    with pytest.raises(ProvisionError, match={"smoke": "NoClassDefFoundError", "fill": "exit 100",
                                              "wrong-runtime": "it is 'cpython', not jython",
                                              "bad-marker": "version 'two point seven' is not a version"}[fault]):
        _make(tmp_path, smoke=smoke, fill=fill)
    assert list((tmp_path / "interpreters").iterdir()) == []  # not even a hidden, half-made folder
    assert runtimes.find_runtimes(tmp_path / "interpreters") == []


def test_a_new_key_retires_the_older_folder(tmp_path: Path) -> None:
    older = _make(tmp_path, "jython-2.7.3-bookworm-aaaa")
    newer = _make(tmp_path, "jython-2.7.3-bookworm-bbbb")
    assert not older.exists() and runtime_provision.published(tmp_path, "jython") == [newer]


# --- the family: each runtime on its own, offline, and what provisioning says ----------------------------------------


def _access(**overrides) -> Access:
    def lists(kind: str, suite: str) -> list[str]:
        raise ProvisionLists(f"the {suite} {kind} lists are unavailable: apt-get update failed (exit 100)")

    return Access(**{"lists": lists, "release": "bookworm", "install": lambda packages, name: "present", **overrides})


@pytest.fixture
def no_npm_registry(monkeypatch: pytest.MonkeyPatch) -> None:
    """npm answers, but the registry cannot be reached."""
    monkeypatch.setattr(runtime_provision.shutil, "which", lambda name: f"/usr/bin/{name}")
    monkeypatch.setattr(runtime_provision, "run_with_timeout", lambda *args, **kwargs: Completed(
        1, "", "npm ERR! code ENOTFOUND", False))


def test_offline_the_newest_runtime_made_is_used(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                 no_npm_registry) -> None:
    monkeypatch.setitem(runtime_provision.PROVIDERS, "pyodide", lambda cache, access, echo: (_ for _ in ()).throw(
        ProvisionLists("the npm registry did not answer for pyodide@314: ENOTFOUND")))
    entry = _make(tmp_path)
    results = {name: (entry, what) for name, entry, what in runtime_provision.provide(tmp_path, _access(),
                                                                                       lambda line: None)}
    assert results["jython"] == (entry, (f"used: {entry.name} (cached; the bookworm deb lists are unavailable: "
                                         "apt-get update failed (exit 100))"))
    # Never made here, and neither its source nor its WebAssembly build can be had.
    assert results["micropython"] == (None, ("failed: the sid deb-src lists are unavailable: apt-get update failed "
                                             "(exit 100); WebAssembly build: the npm registry did not answer for "
                                             "@micropython/micropython-webassembly-pyscript@latest: npm ERR! code "
                                             "ENOTFOUND"))
    assert results["pyodide"][0] is None and "ENOTFOUND" in results["pyodide"][1]


def test_one_runtime_failing_leaves_the_others(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(cache, access, echo):
        raise ProvisionError("make unix port failed (exit 2); last lines of build.log:\nerror: ...\nretry with: make")

    made = {name: tmp_path / name for name in runtime_provision.PROVIDERS}
    for name, entry in made.items():
        monkeypatch.setitem(runtime_provision.PROVIDERS, name, lambda cache, access, echo, entry=entry: entry)
    monkeypatch.setitem(runtime_provision.PROVIDERS, "micropython", broken)
    results = runtime_provision.provide(tmp_path, _access(), lambda line: None)
    assert [(name, entry) for name, entry, _ in results] == [
        ("jython", made["jython"]), ("micropython", None), ("pyodide", made["pyodide"])]
    assert results[1][2].startswith("failed: make unix port failed") and "retry with: make" in results[1][2]


def test_micropythons_webassembly_build_is_the_fallback_only_while_none_was_made(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    asked: list[tuple[str, str]] = []

    def unreachable(cache, access, echo):
        raise ProvisionLists("the sid deb-src lists are unavailable: 404")

    def npm_runtime(cache, access, echo, runtime, package, wanted, launcher_js):
        asked.append((package, runtime.gil))
        return tmp_path / "wasm"

    monkeypatch.setattr(runtime_provision, "build_micropython", unreachable)
    monkeypatch.setattr(runtime_provision, "npm_runtime", npm_runtime)
    assert runtime_provision.provide_micropython(tmp_path, _access(), lambda line: None) == tmp_path / "wasm"
    assert asked == [("@micropython/micropython-webassembly-pyscript", "none")]  # one thread: no GIL question
    runtime_provision.make_runtime(tmp_path, MICROPYTHON, "micropython-1.26.1-sid-aaaa", "built", _fill_micropython,
                                   lambda line: None, smoke=lambda *args: {**FACTS, "implementation": "micropython"})
    with pytest.raises(ProvisionLists):  # a MicroPython made before is used offline (``provide``), not replaced
        runtime_provision.provide_micropython(tmp_path, _access(), lambda line: None)
    assert len(asked) == 1


def _fill_micropython(folder: Path) -> None:
    _launcher(folder, f'exec {sys.executable} "$@"', "micropython")


def test_not_debian_like_skips_jython_and_micropython(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(runtime_provision, "npm_runtime", lambda *args: (_ for _ in ()).throw(
        runtime_provision.NotHere("node is not on PATH")))
    monkeypatch.setitem(runtime_provision.PROVIDERS, "pyodide", lambda cache, access, echo: tmp_path)
    results = runtime_provision.provide(tmp_path, _access(release=None), lambda line: None)
    assert [what.split(":")[0] for _, _, what in results] == ["skipped", "skipped", "used"]


def test_debian_packages_come_only_where_their_command_is_missing(monkeypatch: pytest.MonkeyPatch) -> None:
    installed: list[tuple[list[str], str]] = []
    access = _access(install=lambda packages, name: installed.append(([p.name for p in packages], name)) or "done")
    monkeypatch.setattr(runtime_provision.shutil, "which", lambda name: "/usr/bin/node" if name == "node" else None)
    # nodesource's Node.js brings npm: Debian's npm beside it would conflict, and is not asked for.
    assert runtime_provision.bring(access, "jython") == "done"
    monkeypatch.setattr(runtime_provision.shutil, "which", lambda name: f"/usr/bin/{name}")
    assert runtime_provision.bring(access, "node") == "present"
    assert installed == [(["openjdk-17-jre-headless"], "runtimes-jython")]
    assert all(package.why for step in ("jython", "micropython", "node") for package in DEBIAN_PACKAGES[step])


def test_the_family_is_provisioned_by_default_and_by_name(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                          no_npm_registry) -> None:
    assert runtime_provision.FAMILY in provision.FAMILIES
    assert cli.provision_parser().parse_args(["--only", "runtimes"]).only == ["runtimes"]
    monkeypatch.setattr(provision, "_roots_cannot_be_made", lambda: None)
    monkeypatch.setattr(provision, "system_suites", lambda: [("http://deb.example/debian", "bookworm")])
    monkeypatch.setattr(provision, "debian_source_uris", lambda: ["http://deb.example/debian"])

    def unreachable(command, *args, **kwargs) -> None:
        raise ProvisionError("apt-get update failed (exit 100); last lines of apt.log:\nCould not resolve")

    monkeypatch.setattr(provision, "run_logged", unreachable)
    monkeypatch.setitem(runtime_provision.PROVIDERS, "pyodide", lambda cache, access, echo: tmp_path / "p")
    outcome = provision.provision_runtimes(tmp_path, [], echo=lambda line: None)
    assert [source for source, _ in outcome.tried] == ["jython", "micropython", "pyodide"]
    assert outcome.provided == [str(tmp_path / "p")]
    assert outcome.error == (
        "jython failed: the bookworm deb lists are unavailable: apt-get update failed (exit 100); last lines of "
        "apt.log:; micropython failed: the sid deb-src lists are unavailable: apt-get update failed (exit 100); last "
        "lines of apt.log:; WebAssembly build: the npm registry did not answer for "
        "@micropython/micropython-webassembly-pyscript@latest: npm ERR! code ENOTFOUND")


# --- for real: each runtime made in a fresh cache, and run as discovery runs it -------------------------------------


def _why_not(implementation: str) -> str | None:
    needs = {"jython": ("apt-get", "dpkg-deb", "java"), "micropython": ("apt-get", "dpkg-source", "make", "cc"),
             "pyodide": ("node", "npm")}[implementation]
    missing = [command for command in needs if shutil.which(command) is None]
    return f"needs {', '.join(missing)}" if missing else None


@pytest.mark.provision
@pytest.mark.parametrize("implementation", list(runtime_provision.PROVIDERS))
def test_a_provisioned_runtime_runs_a_script_as_python_does(tmp_path: Path, implementation: str) -> None:
    if _why_not(implementation):
        pytest.skip(_why_not(implementation))
    cache = tmp_path / "cache"
    monkeypatch = pytest.MonkeyPatch()
    monkeypatch.setattr(runtime_provision, "PROVIDERS", {implementation: runtime_provision.PROVIDERS[implementation]})
    try:
        (outcome,) = provision.provision([runtime_provision.FAMILY], echo=print,
                                         environ={**os.environ, "INTERPMATRIX_CACHE": str(cache)})[:1]
    finally:
        monkeypatch.undo()
    assert outcome.ok, outcome.error
    (record,) = runtimes.find_runtimes(cache / "interpreters")
    assert record["implementation"] == implementation
    _runs_like_python(record["executable"], tmp_path)
    expected = {"jython": ("2.7", True), "micropython": ("3.4", True), "pyodide": ("3.14", False)}[implementation]
    assert (record["version"], record["threads"]) == expected


def _runs_like_python(executable: str, tmp_path: Path) -> None:
    """The launcher contract, beyond the smoke test: a kernel module beside the script, run from elsewhere."""
    scripts = tmp_path / "workloads"
    scripts.mkdir()
    (scripts / "kernel.py").write_text("def countdown(n):\n    while n > 0:\n        n -= 1\n    return n\n")
    (scripts / "runner.py").write_text("import sys\nimport kernel\nprint(kernel.countdown(int(sys.argv[1])))\n"
                                       "sys.exit(int(sys.argv[2]))\n")
    result = subprocess.run([executable, str(scripts / "runner.py"), "100000", "5"], check=False, cwd=tmp_path,
                            capture_output=True, text=True, timeout=120)
    assert (result.returncode, result.stdout) == (5, "0\n"), result.stderr


@pytest.mark.provision
def test_micropythons_webassembly_build_runs_a_script_as_python_does(tmp_path: Path) -> None:
    if _why_not("pyodide"):  # the same needs: Node.js and npm
        pytest.skip(_why_not("pyodide"))
    cache = tmp_path / "cache"
    access = Access(lambda kind, suite: [], None, lambda packages, name: "present")
    entry = runtime_provision.npm_runtime(cache, access, print, runtime_provision.MICROPYTHON_WASM,
                                          runtime_provision.MICROPYTHON_WASM_PACKAGE, "latest",
                                          runtime_launchers.MICROPYTHON_WASM_LAUNCHER)
    (record,) = runtimes.find_runtimes(cache / "interpreters")
    assert record["prefix"] == str(entry) and (record["version"], record["threads"]) == ("3.4", False)
    _runs_like_python(record["executable"], tmp_path)
