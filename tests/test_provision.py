"""Provisioning without the network: source selection, cache keys, time-outs and the messages a user reads."""

from __future__ import annotations

import dataclasses
import io
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tarfile
import time
from pathlib import Path

import pytest
from test_faults_lock import ENV, REPO

from interpmatrix import cpython_build, debian_packages, discovery, provision
from interpmatrix.discovery import Interpreter

PYTHON_ORG_INDEX = """
<a href="../">../</a>
<a href="3.12.9/">3.12.9/</a>
<a href="3.13.5/">3.13.5/</a>
<a href="3.13.10/">3.13.10/</a>
<a href="3.14.0/">3.14.0/</a>
<a href="3.14.2/">3.14.2/</a>
<a href="3.15.0/">3.15.0/</a>
<a href="latest/">latest/</a>
"""


def test_newest_python_org_release_takes_the_newest_wanted_minor() -> None:
    assert cpython_build.newest_python_org_release(PYTHON_ORG_INDEX) == "3.15.0"
    assert cpython_build.newest_python_org_release(PYTHON_ORG_INDEX, minors=("3.14", "3.13")) == "3.14.2"
    assert cpython_build.newest_python_org_release(PYTHON_ORG_INDEX, minors=("3.13",)) == "3.13.10"  # not 3.13.5
    assert cpython_build.newest_python_org_release("<html></html>") is None


def test_cache_key_changes_with_version_and_flags_but_twins_share_it(tmp_path: Path) -> None:
    key = cpython_build.cache_key("3.13.5", ())
    assert key.startswith("3.13.5-")
    assert key == cpython_build.cache_key("3.13.5", ())
    assert key != cpython_build.cache_key("3.13.6", ())
    assert key != cpython_build.cache_key("3.13.5", ("--enable-optimizations",))
    ft, twin = cpython_build.install_dirs(tmp_path, "3.13.5")
    assert ft.name == f"cpython-{key}-ft" and twin.name == f"cpython-{key}-gil"
    assert ft.parent == twin.parent == tmp_path / "interpreters"


def test_debian_source_uris_reads_both_apt_formats(tmp_path: Path) -> None:
    (tmp_path / "sources.list.d").mkdir()
    (tmp_path / "sources.list").write_text("deb [arch=amd64] http://mirror.example/debian bookworm main\n")
    (tmp_path / "sources.list.d" / "debian.sources").write_text(
        "Types: deb\nURIs: http://deb.example/debian\nSuites: bookworm\n\n"
        "Types: deb\nURIs: http://deb.example/debian-security\nSuites: bookworm-security\n"
    )
    assert provision.debian_source_uris(tmp_path) == ["http://mirror.example/debian", "http://deb.example/debian"]


def test_private_apt_options_stay_in_the_cache(tmp_path: Path) -> None:
    options = provision.private_apt_options(tmp_path, "http://deb.example/debian")
    assert (tmp_path / "apt" / "sources.list").read_text() == "deb-src http://deb.example/debian trixie main\n"
    paths = [option.split("=", 2)[2] for option in options if option.startswith("-o=Dir::")]
    assert paths and all(path == "-" or path.startswith(str(tmp_path)) for path in paths)


def test_unreachable_python_org_costs_seconds_and_says_why(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # A closed port on loopback: refused at once, as an unreachable host is here.
    monkeypatch.setattr(cpython_build, "PYTHON_ORG_FTP", "http://127.0.0.1:9/ftp/python/")
    started = time.monotonic()
    with pytest.raises(provision.ProvisionError, match="unreachable within 5 s"):
        cpython_build.fetch_python_org(tmp_path, echo=lambda line: None)
    assert time.monotonic() - started < cpython_build.NETWORK_TIMEOUT + 1


def test_a_failed_stage_prints_the_log_tail(tmp_path: Path) -> None:
    log = tmp_path / "build.log"
    script = "import sys; print('\\n'.join(f'line {i}' for i in range(30))); sys.exit(2)"
    with pytest.raises(provision.ProvisionError) as error:
        cpython_build.run_logged([sys.executable, "-c", script], log, "make", echo=lambda line: None)
    message = str(error.value)
    assert "make failed (exit 2)" in message and str(log) in message
    assert "line 29" in message and "line 10" not in message  # the last lines, not the whole log


def test_a_stage_past_its_time_limit_is_stopped(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cpython_build, "HEARTBEAT", 0.2)
    lines: list[str] = []
    with pytest.raises(provision.ProvisionError, match="took longer than 0.5 s"):
        cpython_build.run_logged([sys.executable, "-c", "import time; time.sleep(30)"], tmp_path / "log", "configure",
                             echo=lines.append, timeout=0.5)
    assert any("so far" in line for line in lines)  # the elapsed time is shown while it runs


def test_a_stage_past_its_time_limit_leaves_none_of_its_processes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # make -j's compilers are the children of make: a time-out must stop them too, not only make.
    monkeypatch.setattr(cpython_build, "HEARTBEAT", 0.2)
    log = tmp_path / "log"
    started = time.monotonic()
    with pytest.raises(provision.ProvisionError, match="took longer than 0.5 s"):
        cpython_build.run_logged(["sh", "-c", "sleep 30 & echo grandchild $!; sleep 30"], log, "make",
                             echo=lambda line: None, timeout=0.5)
    assert time.monotonic() - started < 5
    (pid,) = re.findall(r"^grandchild (\d+)$", log.read_text(), flags=re.MULTILINE)  # the log also holds the command
    grandchild = Path("/proc") / pid / "stat"
    deadline = time.monotonic() + 2  # SIGKILL is asynchronous: give the kernel a moment
    while _running(grandchild) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _running(grandchild)


def _running(stat: Path) -> bool:
    # A zombie is dead: reaping an orphan is up to PID 1, which in some containers never does it.
    try:
        return stat.read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


# A provisioning process during a build: it waits in run_logged on a shell that stands for make -j2 (two jobs of its
# own, which it waits for).
WAITS_ON_A_BUILD = """
import sys
from pathlib import Path
from interpmatrix import cpython_build

command = ["sh", "-c", "echo make $$; sleep 60 & echo job $!; sleep 60 & echo job $!; wait"]
cpython_build.run_logged(command, Path(sys.argv[1]), "make", echo=print)
"""


def test_ctrl_c_during_a_stage_leaves_none_of_its_processes(tmp_path: Path) -> None:
    # The terminal's Ctrl-C reaches only its foreground group: the waiting process, never the build, which runs in a
    # session of its own. The waiting process must take the build's whole group with it.
    log = tmp_path / "log"
    # SIGINT as a terminal leaves it: a suite started in the background (`cmd &`) hands its children SIGINT ignored.
    waiting = subprocess.Popen([sys.executable, "-c", WAITS_ON_A_BUILD, str(log)], cwd=REPO, env=ENV,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))  # noqa: PLW1509
    build: list[str] = []
    try:
        deadline = time.monotonic() + 30
        while len(build) < 3 and time.monotonic() < deadline:
            time.sleep(0.05)
            build = re.findall(r"^(?:make|job) (\d+)$", log.read_text() if log.exists() else "", flags=re.MULTILINE)
        assert len(build) == 3 and all(_running(Path("/proc") / pid / "stat") for pid in build)
        waiting.send_signal(signal.SIGINT)
        _, stderr = waiting.communicate(timeout=30)
        # Python's way out of an uncaught KeyboardInterrupt: the traceback, then death by SIGINT.
        assert waiting.returncode == -signal.SIGINT and stderr.rstrip().endswith("KeyboardInterrupt")
        deadline = time.monotonic() + 2  # SIGKILL is asynchronous: give the kernel a moment
        while any(_running(Path("/proc") / pid / "stat") for pid in build) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert [pid for pid in build if _running(Path("/proc") / pid / "stat")] == []
    finally:
        if waiting.poll() is None:
            waiting.kill()
            waiting.communicate()
        for pid in build:
            if _running(Path("/proc") / pid / "stat"):
                os.kill(int(pid), signal.SIGKILL)


def test_a_failed_build_gives_the_command_to_retry(tmp_path: Path) -> None:
    tarball = tmp_path / "not-a-tarball.tar.xz"
    tarball.write_text("nothing")
    with pytest.raises(provision.ProvisionError, match="retry with: cd .* && ./configure --prefix="):
        cpython_build.build_cpython(tmp_path, "3.13.5", tarball, "test", echo=lambda line: None)
    ft, _ = cpython_build.install_dirs(tmp_path, "3.13.5")
    assert not ft.exists()  # nothing half-installed is left for discovery to find


def _marked(prefix: Path, family: str, twin: str, version: str = "3.13.5") -> None:
    (prefix / "bin").mkdir(parents=True)
    (prefix / provision.MARKER).write_text(json.dumps({"family": family, "twin": twin, "version": version}))


def _twins(cache: Path, version: str) -> Path:
    ft, twin = cpython_build.install_dirs(cache, version)
    _marked(ft, "free-threaded", twin.name, version)
    _marked(twin, "twin", ft.name, version)
    return ft


@pytest.fixture
def unreachable_sources(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """uv absent, python.org and Debian's source package unreachable, as on the project machine: the names asked."""
    asked: list[str] = []

    def unreachable(name: str):
        def fetch(cache: Path, echo) -> tuple[str, Path]:
            asked.append(name)
            raise provision.ProvisionError(f"{name} unreachable")
        return fetch

    monkeypatch.setattr(provision.shutil, "which", lambda name: None if name == "uv" else f"/usr/bin/{name}")
    monkeypatch.setattr(provision, "fetch_python_org", unreachable("python.org"))
    monkeypatch.setattr(provision, "fetch_debian_source", unreachable("Debian"))
    return asked


NO_NEWEST = ("no free-threaded 3.14/3.15: no source reachable (uv, python.org, Debian); "
             "`nox -s provision -- --cpython-source PATH` builds one")


def test_cached_twins_of_a_newest_minor_are_used_without_asking_further(tmp_path: Path, unreachable_sources) -> None:
    ft = _twins(tmp_path, "3.14.2")
    outcome = provision.provision_free_threaded(tmp_path, [], echo=lambda line: None)
    assert outcome.ok and outcome.provided == [str(ft)] and outcome.notes == []
    assert outcome.tried == [("present", f"used: {ft.name} (cached, with twins)")]
    assert unreachable_sources == []


def test_only_older_twins_cached_the_sources_are_asked_and_the_report_told(tmp_path: Path, unreachable_sources) -> None:
    ft = _twins(tmp_path, "3.13.5")
    outcome = provision.provision_free_threaded(tmp_path, [], echo=lambda line: None)
    assert outcome.ok and outcome.provided == [str(ft)]  # 3.13.5t and its twin still run
    assert unreachable_sources == ["python.org", "Debian"]
    assert [source for source, _ in outcome.tried] == ["present", "uv", "python.org", "Debian source package"]
    # One line, in what run.json keeps: the report's interpreters section shows it (sections/interpreters.py).
    assert outcome.notes == [NO_NEWEST] and outcome.to_dict()["notes"] == [NO_NEWEST]


def test_a_free_threaded_build_found_elsewhere_counts(tmp_path: Path, unreachable_sources) -> None:
    _twins(tmp_path, "3.13.5")
    uv_314t = dataclasses.replace(PYPY, id="cpython-3.14t", implementation="cpython", version="3.14.2",
                                  implementation_version="3.14.2", free_threaded=True, origin="uv")
    outcome = provision.provision_free_threaded(tmp_path, [uv_314t], echo=lambda line: None)
    assert outcome.ok and outcome.notes == [] and unreachable_sources == []  # uv's 3.14t: nothing more to look for


def test_nothing_at_all_is_an_error_with_the_note(tmp_path: Path, unreachable_sources) -> None:
    outcome = provision.provision_free_threaded(tmp_path, [], echo=lambda line: None)
    assert not outcome.ok and outcome.error.startswith("no source of a free-threaded CPython could be reached: ")
    assert outcome.notes == [NO_NEWEST]


def test_a_given_source_is_built_and_nothing_else_asked(tmp_path: Path, monkeypatch, unreachable_sources) -> None:
    built: list[tuple[str, Path, str]] = []

    def build(cache, version, tarball, source, echo, prepare):
        built.append((version, tarball, source))
        return list(cpython_build.install_dirs(cache, version))

    monkeypatch.setattr(provision, "build_cpython", build)
    tarball = tmp_path / "Python-3.14.2.tar.xz"
    source = cpython_build.Source("3.14.2", tarball)
    outcome = provision.provision_free_threaded(tmp_path, [], lambda line: None, source)
    assert built == [("3.14.2", tarball, f"--cpython-source: {tarball}")] and unreachable_sources == []
    assert outcome.ok and outcome.provided == [str(path) for path in cpython_build.install_dirs(tmp_path, "3.14.2")]
    assert outcome.tried == [("--cpython-source", f"used: CPython 3.14.2 source, {tarball}")] and outcome.notes == []


def test_a_given_source_is_built_whatever_only_says(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    ran: list[tuple[str, object]] = []
    monkeypatch.setattr(provision.discovery, "discover", lambda environ=None: [])
    monkeypatch.setattr(provision, "PROVIDERS", {
        name: lambda cache, interpreters, echo, name=name, **extra: ran.append((name, extra)) or provision.Outcome(name)
        for name in provision.PROVIDERS
    })  # fmt: skip
    source = cpython_build.Source("3.14.2", tmp_path / "Python-3.14.2.tar.xz")
    provision.provision(["pypy"], echo=lambda line: None, environ={"INTERPMATRIX_CACHE": str(tmp_path)},
                        cpython_source=source)
    assert ran == [("pypy", {}), ("free-threaded", {"source": source}), ("toolchain", {})]


def test_a_free_threaded_build_without_its_twin_is_not_enough(tmp_path: Path) -> None:
    ft, twin = cpython_build.install_dirs(tmp_path, "3.13.5")
    _marked(ft, "free-threaded", twin.name)
    assert cpython_build.provisioned_twins(tmp_path) == []


# --- --cpython-source: what is checked before anything runs -------------------------------------------------------


def _tarball(path: Path, members: dict[str, str]) -> Path:
    with tarfile.open(path, "w:xz") as archive:
        for name, text in members.items():
            data = text.encode()
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return path


def _patchlevel(version: str) -> str:
    return f'/* Python version */\n#define PY_MAJOR_VERSION 3\n#define PY_VERSION "{version}"\n'


def test_a_cpython_source_tarball_says_its_version(tmp_path: Path) -> None:
    tarball = _tarball(tmp_path / "Python-3.14.2.tar.xz", {
        "Python-3.14.2/README.rst": "This is Python version 3.14.2",
        "Python-3.14.2/Include/patchlevel.h": _patchlevel("3.14.2"),
    })  # fmt: skip
    assert cpython_build.source_tarball(tarball) == cpython_build.Source("3.14.2", tarball)
    # A development tree's version ("3.15.0a2+") is built as what it is.
    dev = _tarball(tmp_path / "cpython-main.tar.gz", {"cpython-main/Include/patchlevel.h": _patchlevel("3.15.0a2+")})
    assert cpython_build.source_tarball(dev).version == "3.15.0a2"


@pytest.mark.parametrize(("name", "members", "says"), [
    ("missing.tar.xz", None, "missing.tar.xz: no such file; give the path of a CPython source tarball of 3.13"),
    ("notes.txt", "not a tarball", "notes.txt: not a readable tar archive; give the path"),
    ("pypy.tar.xz", {"pypy3.11-v7.3.20-src/README.rst": "PyPy"}, "pypy.tar.xz: not a CPython source tarball (no"),
    ("Python-3.12.9.tar.xz", {"Python-3.12.9/Include/patchlevel.h": _patchlevel("3.12.9")},
     "CPython 3.12.9 cannot be built free-threaded (--disable-gil came with 3.13); give the path"),
])  # fmt: skip
def test_a_wrong_cpython_source_says_what_to_give_instead(tmp_path: Path, name: str, members, says: str) -> None:
    path = tmp_path / name
    if isinstance(members, dict):
        _tarball(path, members)
    elif members is not None:
        path.write_text(members)
    with pytest.raises(ValueError, match=re.escape(says)):
        cpython_build.source_tarball(path)
    with pytest.raises(ValueError, match="a folder; give the path of a CPython source tarball"):
        cpython_build.source_tarball(tmp_path)


PYPY = Interpreter(
    id="pypy3.9", executable="/usr/bin/pypy3.9", implementation="pypy", version="3.9.16",
    implementation_version="7.3.11", free_threaded=False, gil_enabled=True, jit="PyPy JIT", config_args="",
    compiler="GCC 12.2.0", cflags="", shared=False, origin="system",
)  # fmt: skip
needs_dpkg = pytest.mark.skipif(shutil.which("dpkg") is None or shutil.which("apt-get") is None,
                                reason="not a Debian-like system")


# --- Debian packages: the plan on hand-made dpkg databases, read by the real dpkg -------------------------------------

DPKG_STATUS = """Package: pypy3
Status: install ok installed
Version: 7.3.11+dfsg-2+deb12u3

Package: pypy3-dev
Status: deinstall ok config-files
Version: 7.3.11+dfsg-2+deb12u3

Package: build-essential
Status: install ok half-installed
Version: 12.9

Package: python3
Status: hold ok installed
Version: 3.11.2-1+b1
"""


def test_dpkg_status_counts_only_installed_packages() -> None:
    # A removed package keeps its stanza (config files), and a half-installed one is not usable.
    assert debian_packages.installed_in_dpkg_status(DPKG_STATUS) == {"pypy3", "python3"}
    assert debian_packages.installed_in_dpkg_status("") == set()


@needs_dpkg
def test_dpkg_is_asked_for_real() -> None:
    # dpkg itself is installed wherever dpkg runs; an unknown name makes dpkg -s exit 1, and does not hide the rest.
    assert debian_packages.debian_packages_installed(["dpkg", "interpmatrix-no-such-package"]) == {"dpkg"}


def _names(packages: list[debian_packages.DebianPackage]) -> list[str]:
    return [package.name for package in packages]


def test_the_plan_installs_what_is_missing_and_needed_here() -> None:
    everything = {package.name for group in debian_packages.DEBIAN_PACKAGES.values() for package in group} | {"python3"}
    # PyPy is a private root now: no pypy3 package goes into the system, only what making and using the root needs.
    assert _names(debian_packages.DEBIAN_PACKAGES["pypy"]) == ["patchelf", "build-essential"]
    assert not [name for name in everything if name.startswith("pypy")]
    assert _names(debian_packages.missing_packages(debian_packages.DEBIAN_PACKAGES["pypy"], {"patchelf"})) == [
        "build-essential"]
    # Debian CPython's headers only where Debian's python3 is installed.
    assert _names(debian_packages.missing_packages(debian_packages.DEBIAN_PACKAGES["toolchain"], {"python3"})) == [
        "build-essential", "libgc-dev", "libpcre2-dev", "python3-dev", "python3-venv"]
    assert _names(debian_packages.missing_packages(debian_packages.DEBIAN_PACKAGES["toolchain"], set())) == [
        "build-essential", "libgc-dev", "libpcre2-dev"]
    for group in debian_packages.DEBIAN_PACKAGES.values():
        assert debian_packages.missing_packages(group, everything) == []
    # Every package says why it is needed.
    assert all(package.why for group in debian_packages.DEBIAN_PACKAGES.values() for package in group)


@pytest.fixture
def dpkg_database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """``installed(*names)``: a dpkg database in which only ``names`` are installed, for the real dpkg to read."""
    if shutil.which("dpkg") is None or shutil.which("apt-get") is None:
        pytest.skip("not a Debian-like system")
    admin = tmp_path / "dpkg"
    admin.mkdir()
    monkeypatch.setenv("DPKG_ADMINDIR", str(admin))  # dpkg's own way to read another database

    def installed(*names: str) -> None:
        (admin / "status").write_text("".join(
            f"Package: {name}\nStatus: install ok installed\nVersion: 1\nArchitecture: all\n\n" for name in names))

    return installed


@pytest.fixture
def apt_commands(monkeypatch: pytest.MonkeyPatch) -> list[list[str]]:
    """The commands provisioning runs, recorded instead of run: packages cannot be installed or removed here."""
    commands: list[list[str]] = []
    monkeypatch.setattr(provision, "run_logged", lambda command, *args, **kwargs: commands.append(list(command)))
    return commands


def as_user(monkeypatch: pytest.MonkeyPatch, uid: int) -> None:
    monkeypatch.setattr(provision.os, "geteuid", lambda: uid)


BOOKWORM = [("http://deb.example/debian", "bookworm"), ("http://deb.example/debian", "bookworm-updates"),
            ("http://deb.example/debian-security", "bookworm-security")]


@pytest.fixture
def bookworm(monkeypatch: pytest.MonkeyPatch) -> list[tuple]:
    """A Debian 12 x86_64 machine on which a root is recorded instead of made: (apt options, lists error, specs)
    for each time private_roots.provide is asked."""
    asked: list[tuple] = []

    def provide(cache, options, lists_error, run, echo, timeout, errors, specs):
        asked.append((options, lists_error, specs))
        if options is None:
            return [(spec, None, f"failed: no cached root, and the bookworm lists are unavailable: {lists_error}")
                    for spec in specs]
        return [(spec, cache / "interpreters" / spec.id, f"used: {spec.id}") for spec in specs]

    monkeypatch.setattr(provision.platform, "machine", lambda: "x86_64")
    monkeypatch.setattr(provision, "system_suites", lambda: BOOKWORM)
    monkeypatch.setattr(provision.private_roots, "provide", provide)
    return asked


def test_a_system_pypy_does_not_stop_the_private_root(tmp_path, monkeypatch, dpkg_database, apt_commands,
                                                      bookworm) -> None:
    # This machine: Debian's pypy3 installed system-wide by an older provisioning. The column is the root's all
    # the same, so that it is one PyPy on every machine; discovery gives the root the short id.
    dpkg_database("pypy3", "pypy3-venv", "patchelf", "build-essential")
    as_user(monkeypatch, 0)
    outcome = provision.provision_pypy(tmp_path, [PYPY], echo=lambda line: None)
    assert outcome.ok and outcome.provided == [str(tmp_path / "interpreters" / "pypy3.9")]
    assert outcome.tried == [
        ("present", "not used: pypy3.9 (/usr/bin/pypy3.9); a private root is made anyway, the same on every machine"),
        ("Debian packages", "present: patchelf, build-essential"),
        ("pypy3.9", "used: pypy3.9"),
    ]
    ((options, lists_error, specs),) = bookworm
    assert specs == provision.private_roots.SYSTEM_ROOTS["bookworm"] and lists_error is None
    assert apt_commands == [["apt-get", *options, "update"]]  # its own lists; nothing installed
    # The release's updates and security fixes too: the versions `apt-get install` would have taken.
    assert (tmp_path / "apt-deb-bookworm" / "sources.list").read_text() == (
        "deb http://deb.example/debian bookworm main\n"
        "deb http://deb.example/debian bookworm-updates main\n"
        "deb http://deb.example/debian-security bookworm-security main\n")


def test_a_fresh_machine_gets_pypy_with_no_pypy_package(tmp_path, monkeypatch, dpkg_database, apt_commands,
                                                        bookworm) -> None:
    dpkg_database()  # none of them
    as_user(monkeypatch, 0)
    outcome = provision.provision_pypy(tmp_path, [], echo=lambda line: None)
    assert outcome.ok, outcome.error
    installs = [command for command in apt_commands if "install" in command]
    assert installs == [["apt-get", "install", "-y", "-qq", "patchelf", "build-essential"]]
    assert not [name for command in apt_commands for name in command if name.startswith("pypy")]
    assert outcome.tried[0] == ("Debian packages", "installed: patchelf, build-essential")


def test_everything_present_installs_nothing(tmp_path, monkeypatch, dpkg_database, apt_commands, bookworm) -> None:
    dpkg_database("patchelf", "build-essential", "libgc-dev", "libpcre2-dev", "python3", "python3-dev", "python3-venv")
    as_user(monkeypatch, 0)
    pypy = provision.provision_pypy(tmp_path, [], echo=lambda line: None)
    toolchain = provision.provision_toolchain(tmp_path, [], echo=lambda line: None)
    assert [command for command in apt_commands if "install" in command] == []
    assert pypy.ok and ("Debian packages", "present: patchelf, build-essential") in pypy.tried
    assert toolchain.ok and toolchain.tried == [
        ("Debian packages", "present: build-essential, libgc-dev, libpcre2-dev, python3-dev, python3-venv")]


@needs_dpkg
def test_this_machines_pypy_and_toolchain_are_checked_for_real(tmp_path, monkeypatch, apt_commands, bookworm) -> None:
    # The real dpkg database: what it says is installed is not installed again.
    wanted = [*debian_packages.DEBIAN_PACKAGES["pypy"], *debian_packages.DEBIAN_PACKAGES["toolchain"]]
    installed = debian_packages.debian_packages_installed([package.name for package in wanted] + ["python3"])
    missing = debian_packages.missing_packages(wanted, installed)
    as_user(monkeypatch, 0)
    provision.provision_pypy(tmp_path, [PYPY], echo=lambda line: None)
    provision.provision_toolchain(tmp_path, [], echo=lambda line: None)
    planned = [name for command in apt_commands if command[1] == "install" for name in command[4:]]
    assert sorted(set(planned)) == sorted(_names(missing))


def test_without_root_the_command_lists_exactly_the_missing_packages(
    tmp_path, monkeypatch, dpkg_database, apt_commands, bookworm
) -> None:
    dpkg_database("pypy3", "pypy3-venv", "python3")
    as_user(monkeypatch, 1000)
    pypy = provision.provision_pypy(tmp_path, [PYPY], echo=lambda line: None)
    toolchain = provision.provision_toolchain(tmp_path, [PYPY], echo=lambda line: None)
    assert apt_commands == []  # nothing tried without root, not even the lists
    assert not pypy.ok and "run `sudo apt-get install -y patchelf build-essential` (patchelf: writes the PyPy root" in (
        pypy.error or "")
    assert "pypy3.9 failed: no cached root, and the bookworm lists are unavailable: needs root" in (pypy.error or "")
    assert not toolchain.ok and ("run `sudo apt-get install -y build-essential libgc-dev libpcre2-dev python3-dev "
                                 "python3-venv` (build-essential: ") in (
        toolchain.error or "")


def test_a_release_without_a_known_root_uses_a_present_pypy(tmp_path, monkeypatch, bookworm) -> None:
    monkeypatch.setattr(provision, "system_suites", lambda: [("http://deb.example/debian", "forky")])
    outcome = provision.provision_pypy(tmp_path, [PYPY], echo=lambda line: None)
    assert outcome.ok and bookworm == []
    assert outcome.tried == [
        ("Debian forky",
         "skipped: no PyPy root is known for Debian forky (SYSTEM_ROOTS in interpmatrix/private_roots.py)"),
        ("present", "used: pypy3.9 (/usr/bin/pypy3.9)"),
    ]


def test_without_uv_or_apt_get_pypy_says_what_it_tried(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # neither uv nor apt-get can be found
    monkeypatch.setattr(provision, "system_suites", lambda: BOOKWORM)
    outcome = provision.provision_pypy(tmp_path, [], echo=lambda line: None)
    assert not outcome.ok
    assert outcome.tried == [("Debian bookworm", "skipped: needs apt-get and dpkg-deb, on x86_64"),
                             ("uv", "skipped: uv is not installed")]
    assert "no source of PyPy worked" in (outcome.error or "")


def test_the_toolchain_comes_whatever_the_families(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    ran: list[str] = []
    monkeypatch.setattr(provision.discovery, "discover", lambda environ=None: [])
    monkeypatch.setattr(provision, "PROVIDERS", {
        name: lambda cache, interpreters, echo, name=name: ran.append(name) or provision.Outcome(name)
        for name in provision.PROVIDERS
    })  # fmt: skip
    outcomes = provision.provision(["pypy"], echo=lambda line: None, environ={"INTERPMATRIX_CACHE": str(tmp_path)})
    assert ran == ["pypy", "toolchain"] and [outcome.family for outcome in outcomes] == ran


def test_unknown_family_lists_the_valid_ones() -> None:
    with pytest.raises(ValueError, match="unknown family 'jython'; valid: pypy, free-threaded"):
        provision.provision(["jython"])


def test_discovery_ignores_an_unfinished_provisioned_build(tmp_path: Path) -> None:
    # A build folder without the marker (killed mid-build) must not become a column.
    bin_dir = tmp_path / "interpreters" / "cpython-3.13.5-broken" / "bin"
    bin_dir.mkdir(parents=True)
    (bin_dir / "python3").symlink_to(sys.executable)
    env = {**os.environ, "INTERPMATRIX_CACHE": str(tmp_path), "PATH": ""}
    assert all(path.parent != bin_dir for path in discovery.candidate_paths(env))
    (bin_dir.parent / provision.MARKER).write_text("{}")
    assert bin_dir / "python3" in discovery.candidate_paths(env)
