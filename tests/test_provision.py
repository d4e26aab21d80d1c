"""Provisioning without the network: source selection, cache keys, time-outs and the messages a user reads."""

from __future__ import annotations

import json
import os
import re
import sys
import time
from pathlib import Path

import pytest

from interpmatrix import discovery, provision
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
    (pid,) = re.findall(r"^grandchild (\d+)$", log.read_text(), flags=re.M)  # the log also holds the command
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


def test_pypy_already_present_is_used(tmp_path: Path) -> None:
    pypy = Interpreter(
        id="pypy3.9", executable="/usr/bin/pypy3.9", implementation="pypy", version="3.9.16",
        implementation_version="7.3.11", free_threaded=False, gil_enabled=True, jit="PyPy JIT", config_args="",
        compiler="GCC 12.2.0", cflags="", shared=False, origin="system",
    )  # fmt: skip
    outcome = provision.provision_pypy(tmp_path, [pypy], echo=lambda line: None)
    assert outcome.ok and outcome.tried == [("present", "used: pypy3.9 (/usr/bin/pypy3.9)")]


def test_without_uv_or_root_pypy_says_what_to_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # neither uv nor apt-get can be found
    outcome = provision.provision_pypy(tmp_path, [], echo=lambda line: None)
    assert not outcome.ok
    assert ("uv", "skipped: uv is not installed") in outcome.tried
    assert "no source of PyPy worked" in (outcome.error or "")


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
