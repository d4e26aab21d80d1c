"""Provisioning without the network: source selection, cache keys, time-outs and the messages a user reads."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from test_faults_lock import ENV, REPO

from interpmatrix import debian_packages, discovery, provision
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
    assert provision.newest_python_org_release(PYTHON_ORG_INDEX) == "3.15.0"
    assert provision.newest_python_org_release(PYTHON_ORG_INDEX, minors=("3.14", "3.13")) == "3.14.2"
    assert provision.newest_python_org_release(PYTHON_ORG_INDEX, minors=("3.13",)) == "3.13.10"  # not 3.13.5
    assert provision.newest_python_org_release("<html></html>") is None


def test_cache_key_changes_with_version_and_flags_but_twins_share_it(tmp_path: Path) -> None:
    key = provision.cache_key("3.13.5", ())
    assert key.startswith("3.13.5-")
    assert key == provision.cache_key("3.13.5", ())
    assert key != provision.cache_key("3.13.6", ())
    assert key != provision.cache_key("3.13.5", ("--enable-optimizations",))
    ft, twin = provision.install_dirs(tmp_path, "3.13.5")
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
    monkeypatch.setattr(provision, "PYTHON_ORG_FTP", "http://127.0.0.1:9/ftp/python/")
    started = time.monotonic()
    with pytest.raises(provision.ProvisionError, match="unreachable within 5 s"):
        provision.fetch_python_org(tmp_path, echo=lambda line: None)
    assert time.monotonic() - started < provision.NETWORK_TIMEOUT + 1


def test_a_failed_stage_prints_the_log_tail(tmp_path: Path) -> None:
    log = tmp_path / "build.log"
    script = "import sys; print('\\n'.join(f'line {i}' for i in range(30))); sys.exit(2)"
    with pytest.raises(provision.ProvisionError) as error:
        provision.run_logged([sys.executable, "-c", script], log, "make", echo=lambda line: None)
    message = str(error.value)
    assert "make failed (exit 2)" in message and str(log) in message
    assert "line 29" in message and "line 10" not in message  # the last lines, not the whole log


def test_a_stage_past_its_time_limit_is_stopped(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(provision, "HEARTBEAT", 0.2)
    lines: list[str] = []
    with pytest.raises(provision.ProvisionError, match="took longer than 0.5 s"):
        provision.run_logged([sys.executable, "-c", "import time; time.sleep(30)"], tmp_path / "log", "configure",
                             echo=lines.append, timeout=0.5)
    assert any("so far" in line for line in lines)  # the elapsed time is shown while it runs


def test_a_stage_past_its_time_limit_leaves_none_of_its_processes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # make -j's compilers are the children of make: a time-out must stop them too, not only make.
    monkeypatch.setattr(provision, "HEARTBEAT", 0.2)
    log = tmp_path / "log"
    started = time.monotonic()
    with pytest.raises(provision.ProvisionError, match="took longer than 0.5 s"):
        provision.run_logged(["sh", "-c", "sleep 30 & echo grandchild $!; sleep 30"], log, "make",
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
from interpmatrix import provision

command = ["sh", "-c", "echo make $$; sleep 60 & echo job $!; sleep 60 & echo job $!; wait"]
provision.run_logged(command, Path(sys.argv[1]), "make", echo=print)
"""


def test_ctrl_c_during_a_stage_leaves_none_of_its_processes(tmp_path: Path) -> None:
    # The terminal's Ctrl-C reaches only its foreground group: the waiting process, never the build, which runs in a
    # session of its own. The waiting process must take the build's whole group with it.
    log = tmp_path / "log"
    waiting = subprocess.Popen([sys.executable, "-c", WAITS_ON_A_BUILD, str(log)], cwd=REPO, env=ENV,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)  # fmt: skip
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
        provision.build_cpython(tmp_path, "3.13.5", tarball, "test", echo=lambda line: None)
    ft, _ = provision.install_dirs(tmp_path, "3.13.5")
    assert not ft.exists()  # nothing half-installed is left for discovery to find


def _marked(prefix: Path, family: str, twin: str) -> None:
    (prefix / "bin").mkdir(parents=True)
    (prefix / provision.MARKER).write_text(json.dumps({"family": family, "twin": twin}))


def test_cached_twins_are_used_without_rebuilding(tmp_path: Path) -> None:
    ft, twin = provision.install_dirs(tmp_path, "3.13.5")
    _marked(ft, "free-threaded", twin.name)
    _marked(twin, "twin", ft.name)
    outcome = provision.provision_free_threaded(tmp_path, [], echo=lambda line: None)
    assert outcome.ok and outcome.provided == [str(ft)]
    assert outcome.tried == [("present", f"used: {ft.name} (cached, with twins)")]


def test_a_free_threaded_build_without_its_twin_is_not_enough(tmp_path: Path) -> None:
    ft, twin = provision.install_dirs(tmp_path, "3.13.5")
    _marked(ft, "free-threaded", twin.name)
    assert provision.provisioned_twins(tmp_path) == []


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


PYPY_BESIDE = [package for package in debian_packages.DEBIAN_PACKAGES["pypy"] if package != debian_packages.DEBIAN_PYPY]


def test_the_plan_installs_what_is_missing_and_needed_here() -> None:
    everything = {package.name for group in debian_packages.DEBIAN_PACKAGES.values() for package in group} | {"python3"}
    # Debian's PyPy from an older provisioning, without its headers: just them.
    assert _names(debian_packages.missing_packages(PYPY_BESIDE, {"pypy3", "pypy3-venv", "build-essential"})) == ["pypy3-dev"]
    # A PyPy that is not Debian's (uv's) needs none of pypy3's companions, only a compiler.
    assert _names(debian_packages.missing_packages(PYPY_BESIDE, set())) == ["build-essential"]
    # No PyPy: the interpreter and everything beside it, in one command.
    assert _names(debian_packages.missing_packages(debian_packages.DEBIAN_PACKAGES["pypy"], set())) == [
        "pypy3", "pypy3-dev", "pypy3-venv", "build-essential"]
    # Debian CPython's headers only where Debian's python3 is installed.
    assert _names(debian_packages.missing_packages(debian_packages.DEBIAN_PACKAGES["toolchain"], {"python3"})) == [
        "build-essential", "python3-dev", "python3-venv"]
    assert _names(debian_packages.missing_packages(debian_packages.DEBIAN_PACKAGES["toolchain"], set())) == ["build-essential"]
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


def test_a_present_pypy_without_its_headers_gets_them(tmp_path, monkeypatch, dpkg_database, apt_commands) -> None:
    # The fresh-machine case after an older provisioning: pypy3 and pypy3-venv installed, pypy3-dev not.
    dpkg_database("pypy3", "pypy3-venv", "build-essential")
    as_user(monkeypatch, 0)
    lines: list[str] = []
    outcome = provision.provision_pypy(tmp_path, [PYPY], echo=lines.append)
    assert outcome.ok, outcome.error
    assert apt_commands == [["apt-get", "-qq", "update"], ["apt-get", "install", "-y", "-qq", "pypy3-dev"]]
    assert outcome.tried == [("present", "used: pypy3.9 (/usr/bin/pypy3.9)"), ("Debian packages", "installed: pypy3-dev")]
    # Said before it is done, with the reason.
    assert "installing with apt-get (as root: this changes the system): pypy3-dev" in lines
    assert any(line.startswith("  pypy3-dev: PyPy's headers") for line in lines)


def test_everything_present_installs_nothing(tmp_path, monkeypatch, dpkg_database, apt_commands) -> None:
    dpkg_database("pypy3", "pypy3-dev", "pypy3-venv", "build-essential", "python3", "python3-dev", "python3-venv")
    as_user(monkeypatch, 0)
    pypy = provision.provision_pypy(tmp_path, [PYPY], echo=lambda line: None)
    toolchain = provision.provision_toolchain(tmp_path, [PYPY], echo=lambda line: None)
    assert apt_commands == []
    assert pypy.ok and pypy.tried[-1] == ("Debian packages", "present: pypy3-dev, pypy3-venv, build-essential")
    assert toolchain.ok and toolchain.tried == [("Debian packages", "present: build-essential, python3-dev, python3-venv")]


@needs_dpkg
def test_this_machines_pypy_and_toolchain_are_checked_for_real(tmp_path, monkeypatch, apt_commands) -> None:
    # The real dpkg database: what it says is installed is not installed again.
    wanted = [*PYPY_BESIDE, *debian_packages.DEBIAN_PACKAGES["toolchain"]]
    installed = debian_packages.debian_packages_installed([package.name for package in wanted] + ["pypy3", "python3"])
    missing = debian_packages.missing_packages(wanted, installed)
    as_user(monkeypatch, 0)
    provision.provision_pypy(tmp_path, [PYPY], echo=lambda line: None)
    provision.provision_toolchain(tmp_path, [], echo=lambda line: None)
    planned = [name for command in apt_commands if command[1] == "install" for name in command[4:]]
    assert sorted(set(planned)) == sorted(_names(missing))


def test_without_root_the_command_lists_exactly_the_missing_packages(
    tmp_path, monkeypatch, dpkg_database, apt_commands
) -> None:
    dpkg_database("pypy3", "pypy3-venv", "python3")
    as_user(monkeypatch, 1000)
    pypy = provision.provision_pypy(tmp_path, [PYPY], echo=lambda line: None)
    toolchain = provision.provision_toolchain(tmp_path, [PYPY], echo=lambda line: None)
    assert apt_commands == []  # nothing tried without root
    assert not pypy.ok and "run `sudo apt-get install -y pypy3-dev build-essential` (pypy3-dev: PyPy's headers" in (
        pypy.error or "")
    assert not toolchain.ok and "run `sudo apt-get install -y build-essential python3-dev python3-venv` (build-essential: " in (
        toolchain.error or "")


def _only_debian_tools(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A PATH with dpkg and apt-get but no uv."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for tool in ("dpkg", "dpkg-query", "apt-get"):
        found = shutil.which(tool)
        assert found, tool
        (bin_dir / tool).symlink_to(found)
    monkeypatch.setenv("PATH", str(bin_dir))


def test_without_any_pypy_debians_pypy_comes_with_its_headers(tmp_path, monkeypatch, dpkg_database, apt_commands) -> None:
    dpkg_database()  # a fresh machine: none of them
    _only_debian_tools(tmp_path, monkeypatch)
    as_user(monkeypatch, 0)
    outcome = provision.provision_pypy(tmp_path, [], echo=lambda line: None)
    assert outcome.ok, outcome.error
    assert apt_commands[-1] == ["apt-get", "install", "-y", "-qq", "pypy3", "pypy3-dev", "pypy3-venv", "build-essential"]
    assert outcome.tried == [
        ("present", "skipped: no PyPy found"),
        ("uv", "skipped: uv is not installed"),
        ("Debian packages", "installed: pypy3, pypy3-dev, pypy3-venv, build-essential"),
    ]
    as_user(monkeypatch, 1000)
    outcome = provision.provision_pypy(tmp_path, [], echo=lambda line: None)
    assert "no source of PyPy worked" in (outcome.error or "")
    assert "run `sudo apt-get install -y pypy3 pypy3-dev pypy3-venv build-essential`" in (outcome.error or "")


def test_without_uv_or_apt_get_pypy_says_what_it_tried(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # neither uv nor apt-get can be found
    outcome = provision.provision_pypy(tmp_path, [], echo=lambda line: None)
    assert not outcome.ok
    assert ("uv", "skipped: uv is not installed") in outcome.tried
    assert ("Debian packages", "skipped: apt-get is not available") in outcome.tried
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
