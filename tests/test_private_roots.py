"""Private roots from Debian sid's binary packages: the dependency closure and cache keys on recorded apt answers, and
the making of a root with the commands recorded instead of run (no network), down to what discovery can find.

tests/fixtures/apt/ holds apt's real answers on the project machine for CPython 3.14 from sid (2026-12-02) and for
PyPy from Debian 12's own lists (bookworm with its updates and security suites, 2026-12-03): ``apt-cache depends
--recurse ...`` and ``apt-get download --print-uris`` of the closure. The tests marked ``provision`` make real roots
in a fresh cache and run a venv and a pyperf worker in them.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from interpmatrix import discovery, private_roots, provision
from interpmatrix.private_roots import Deb, RootError

FIXTURES = Path(__file__).parent / "fixtures" / "apt"
SPEC = private_roots.SID_ROOTS[0]
DEPENDS = (FIXTURES / "sid-python3.14-depends.txt").read_text()
PRINT_URIS = (FIXTURES / "sid-python3.14-print-uris.txt").read_text()
CLOSURE = {
    "python3.14", "python3.14-venv", "libpython3.14-dev", "python3.14-minimal", "libpython3.14-stdlib",
    "libpython3.14-minimal", "libpython3.14", "python3-pip-whl", "python3-setuptools-whl", "libc6", "libgcc-s1",
    "libssl3t64", "openssl-provider-legacy", "libexpat1", "zlib1g", "libbz2-1.0", "libdb5.3t64", "libffi8",
    "liblzma5", "libncursesw6", "libreadline8t64", "libsqlite3-0", "libtinfo6", "libuuid1", "libzstd1",
}  # fmt: skip


def test_alternatives_take_the_first_real_package_and_virtuals_their_provider() -> None:
    answer = (
        "a\n"
        "  Depends: b\n"
        " |Depends: c\n"
        "  Depends: <d>\n"
        "  Breaks: e\n"
        " |PreDepends: <f>\n"
        "    g\n"
        "  PreDepends: h\n"
        "  Recommends: <i>\n"
        "    j\n"
        "<d>\n"
    )
    assert private_roots.parse_depends(answer) == {"a": ["b", "c", "g"], "<d>": []}


def test_the_closure_of_3_14_on_sids_recorded_answer() -> None:
    names = private_roots.dependency_closure(SPEC.packages, DEPENDS)
    assert set(names) == CLOSURE and len(names) == len(CLOSURE)
    assert names[: len(SPEC.packages)] == list(SPEC.packages)  # asked for first, then level by level
    # What a running interpreter never reads is left out, and what only it needs is not followed.
    for left_out in ("tzdata", "debconf", "media-types", "netbase", "ca-certificates", "gcc-16-base",
                     "libexpat1-dev", "zlib1g-dev", "libc6-dev", "linux-libc-dev"):  # fmt: skip
        assert left_out in DEPENDS and left_out not in names


def test_every_left_out_package_says_why() -> None:
    assert all(why for _, why in private_roots.NOT_NEEDED)
    assert private_roots.not_needed("gcc-17-base") == "documentation only"
    assert private_roots.not_needed("libc6") is None and private_roots.not_needed("openssl-provider-legacy") is None


def test_package_files_carry_their_versions() -> None:
    debs = private_roots.parse_print_uris(PRINT_URIS)
    assert {deb.name for deb in debs} == CLOSURE
    by_name = {deb.name: deb for deb in debs}
    assert by_name["python3.14"].version == "3.14.10-1" and by_name["libc6"].version == "2.43-7"
    # An epoch's colon is %3a in the file name, and a colon in the version apt is asked for.
    assert by_name["zlib1g"].filename == "zlib1g_1%3a1.3.dfsg+really1.3.2-4_amd64.deb"
    assert by_name["zlib1g"].version == "1:1.3.dfsg+really1.3.2-4"
    assert all(len(deb.sha256) == 64 for deb in debs)


def test_the_cache_key_is_the_interpreters_version_and_every_packages() -> None:
    debs = private_roots.parse_print_uris(PRINT_URIS)
    key = private_roots.root_key(SPEC, debs)
    assert key.startswith("python3.14-3.14.10-1-sid-")
    assert key == private_roots.root_key(SPEC, list(reversed(debs)))  # order does not matter
    newer_libc = [Deb(d.name, "2.43-8", d.filename, d.sha256) if d.name == "libc6" else d for d in debs]
    assert private_roots.root_key(SPEC, newer_libc) != key  # a new libc is a new root
    assert private_roots.root_key(SPEC, newer_libc).startswith("python3.14-3.14.10-1-sid-")


BOOKWORM_SPEC = private_roots.SYSTEM_ROOTS["bookworm"][0]
BOOKWORM_DEPENDS = (FIXTURES / "bookworm-pypy3-depends.txt").read_text()
BOOKWORM_DEBS = private_roots.parse_print_uris((FIXTURES / "bookworm-pypy3-print-uris.txt").read_text())
BOOKWORM_CLOSURE = {
    "pypy3", "pypy3-venv", "pypy3-dev", "pypy3-lib", "libbz2-1.0", "libc6", "libexpat1", "libffi8", "libgcc-s1",
    "libgdbm6", "liblzma5", "libncursesw6", "libsqlite3-0", "libssl3", "libtinfo6", "zlib1g", "python3-pip-whl",
    "python3-setuptools-whl",
}  # fmt: skip


def test_debian_12s_pypy_root_on_its_recorded_answers() -> None:
    assert (BOOKWORM_SPEC.id, BOOKWORM_SPEC.suite) == ("pypy3.9", "bookworm")
    assert BOOKWORM_SPEC.executable == "usr/bin/pypy3.9"
    names = private_roots.dependency_closure(BOOKWORM_SPEC.packages, BOOKWORM_DEPENDS)
    assert set(names) == BOOKWORM_CLOSURE and len(names) == len(BOOKWORM_CLOSURE)
    assert {deb.name for deb in BOOKWORM_DEBS} == BOOKWORM_CLOSURE
    by_name = {deb.name: deb for deb in BOOKWORM_DEBS}
    # The version the system's apt-get would install, and libssl3 from bookworm-security, not bookworm's older one.
    assert by_name["pypy3"].version == "7.3.11+dfsg-2+deb12u3" and by_name["libc6"].version == "2.36-9+deb12u14"
    assert by_name["libssl3"].version == "3.0.22-1~deb12u2"


def test_the_suite_is_part_of_the_key_and_of_what_the_marker_says() -> None:
    key = private_roots.root_key(BOOKWORM_SPEC, BOOKWORM_DEBS)
    assert key.startswith("pypy3-7.3.11+dfsg-2+deb12u3-bookworm-")
    assert private_roots.root_key(private_roots.SID_ROOTS[2], BOOKWORM_DEBS) != key  # same files, another suite
    assert BOOKWORM_SPEC.family == "debian-bookworm" and SPEC.family == "debian-sid"
    newer = [Deb(d.name, "3.0.23-1~deb12u2", d.filename, d.sha256) if d.name == "libssl3" else d for d in BOOKWORM_DEBS]
    assert private_roots.root_key(BOOKWORM_SPEC, newer) != key  # a security fix is a new root


def test_the_systems_debian_suites_are_read_from_apt(tmp_path: Path) -> None:
    (tmp_path / "sources.list.d").mkdir()
    (tmp_path / "sources.list").write_text("# deb http://old.example/debian buster main\n"
                                           "deb-src http://deb.example/debian bookworm main\n")
    (tmp_path / "sources.list.d" / "debian.sources").write_text(
        "Types: deb\n# a comment\nURIs: http://deb.example/debian\nSuites: bookworm bookworm-updates\n"
        "Components: main\n\n"
        "Types: deb\nURIs: http://deb.example/debian-security\nSuites: bookworm-security\nComponents: main\n\n"
        "Types: deb\nURIs: http://deb.example/debian\nSuites: bookworm-backports\nEnabled: no\n"
    )
    (tmp_path / "sources.list.d" / "vendor.list").write_text("deb https://vendor.example/apt bookworm main\n")
    assert provision.system_suites(tmp_path) == [
        ("http://deb.example/debian", "bookworm"), ("http://deb.example/debian", "bookworm-updates"),
        ("http://deb.example/debian-security", "bookworm-security"),
    ]  # fmt: skip
    assert provision.debian_source_uris(tmp_path) == ["http://deb.example/debian"]
    assert provision.system_suites(tmp_path / "nothing") == []


def test_binary_lists_live_beside_the_source_lists(tmp_path: Path) -> None:
    provision.private_apt_options(tmp_path, "http://deb.example/debian")
    options = provision.private_apt_options(tmp_path, "http://deb.example/debian", "sid", "deb")
    assert (tmp_path / "apt-deb-sid" / "sources.list").read_text() == "deb http://deb.example/debian sid main\n"
    assert (tmp_path / "apt" / "sources.list").read_text() == "deb-src http://deb.example/debian trixie main\n"
    assert f"-o=Dir::State::Lists={tmp_path / 'apt-deb-sid' / 'lists'}" in options


# --- making a root, with apt and dpkg-deb recorded instead of run --------------------------------------------------

DEBS = private_roots.parse_print_uris(PRINT_URIS)


class FakeApt:
    """Stands for provision.run_logged: ``apt-get download`` writes empty package files, ``dpkg-deb -x`` of the
    interpreter's package a python that is this test's own, so the root's binary really runs."""

    def __init__(self, spec: private_roots.RootSpec = SPEC, debs: list[Deb] = DEBS) -> None:
        self.commands: list[list[str]] = []
        self.spec = spec
        self.debs = list(debs)  # the files it can download

    def __call__(self, command, log_file, stage, echo, cwd=None, timeout=None, env=None) -> None:
        self.commands.append(list(command))
        if "download" in command:
            for request in command[command.index("download") + 1:]:
                name, version = request.split("=", 1)
                (Path(cwd) / next(d.filename for d in self.debs if (d.name, d.version) == (name, version))).write_bytes(b"")
        elif command[0] == "dpkg-deb" and Path(command[2]).name.startswith(f"{self.spec.packages[0]}_"):
            binary = Path(command[3]) / self.spec.executable
            binary.parent.mkdir(parents=True)
            binary.symlink_to(sys.executable)

    def downloaded(self) -> list[str]:
        return [name for command in self.commands if "download" in command
                for name in command[command.index("download") + 1:]]


@pytest.fixture
def fake_apt(monkeypatch: pytest.MonkeyPatch) -> FakeApt:
    monkeypatch.setattr(private_roots, "patch_root", lambda tree, root, spec: None)  # patchelf on a real binary only
    return FakeApt()


def _make(cache: Path, run: FakeApt, smoke) -> Path:
    return private_roots.make_root(cache, SPEC, DEBS, ["-qq"], run, lambda line: None, 60, smoke=smoke)


def _discoverable(cache: Path) -> list[Path]:
    env = {"INTERPMATRIX_CACHE": str(cache), "PATH": "", "HOME": str(cache)}
    return [path for path in discovery.candidate_paths(env) if str(path).startswith(str(cache))]


def test_a_failed_smoke_test_leaves_nothing_discoverable(tmp_path: Path, fake_apt: FakeApt) -> None:
    def failing(python: Path, work: Path) -> dict:
        assert python.exists()  # it is tested where it stays: its paths are written into it
        raise RootError("smoke test failed (exit 1): ModuleNotFoundError: No module named '_ssl'")

    with pytest.raises(RootError, match="No module named '_ssl'"):
        _make(tmp_path, fake_apt, failing)
    assert _discoverable(tmp_path) == []
    # Not even a hidden, half-made folder is left.
    assert [path for folder in ("interpreters", "roots") for path in (tmp_path / folder).glob(".*")] == []
    assert [path for folder in ("interpreters", "roots") for path in (tmp_path / folder).glob("*")] == []
    assert len(list((tmp_path / "debs").glob("*.deb"))) == len(DEBS)  # the downloads stay for the next try


def test_a_root_is_published_once_smoke_tested_then_reused(tmp_path: Path, fake_apt: FakeApt) -> None:
    facts = {"version": "3.14.10", "jit_available": True, "extension": "built and loaded"}
    entry = _make(tmp_path, fake_apt, lambda python, work: facts)
    key = private_roots.root_key(SPEC, DEBS)
    assert entry == tmp_path / "interpreters" / key
    marker = discovery.read_marker(entry)
    assert marker["family"] == "debian-sid" and marker["id"] == "cpython-3.14" and marker["smoke"] == facts
    assert marker["packages"]["libc6"] == "2.43-7"
    assert _discoverable(tmp_path) == [entry / "bin" / "python3.14"]
    assert os.path.realpath(entry / "bin" / "python3.14") == os.path.realpath(sys.executable)
    assert sorted(fake_apt.downloaded()) == sorted(f"{d.name}={d.version}" for d in DEBS)
    # Warm: the same key is found and nothing runs again.
    fake_apt.commands.clear()
    assert _make(tmp_path, fake_apt, lambda python, work: pytest.fail("smoke-tested again")) == entry
    assert fake_apt.commands == []


def test_a_newer_root_retires_the_older_one(tmp_path: Path, fake_apt: FakeApt) -> None:
    older = _make(tmp_path, fake_apt, lambda python, work: {})
    older_root = Path(discovery.read_marker(older)["root"])
    assert discovery.read_marker(older_root / "usr")["build"] == "Debian sid 3.14.10-1"  # read at sys.prefix
    newer_debs = [Deb(d.name, "2.43-8", d.filename.replace("2.43-7", "2.43-8"), d.sha256) if d.name == "libc6" else d
                  for d in DEBS]
    fake_apt.debs = newer_debs
    newer = private_roots.make_root(tmp_path, SPEC, newer_debs, ["-qq"], fake_apt, lambda line: None, 60,
                                    smoke=lambda python, work: {})
    assert newer != older and not older.exists() and not older_root.exists()
    assert _discoverable(tmp_path) == [newer / "bin" / "python3.14"]


def test_debian_12s_pypy_root_is_published_beside_sids(tmp_path: Path, fake_apt: FakeApt) -> None:
    sid_pypy = private_roots.SID_ROOTS[2]
    fake_apt.spec = BOOKWORM_SPEC
    fake_apt.debs = BOOKWORM_DEBS
    entry = private_roots.make_root(tmp_path, BOOKWORM_SPEC, BOOKWORM_DEBS, ["-qq"], fake_apt, lambda line: None, 60,
                                    smoke=lambda python, work: {"version": "3.9.16"})
    marker = discovery.read_marker(entry)
    assert (marker["family"], marker["id"]) == ("debian-bookworm", "pypy3.9")
    assert marker["build"] == "Debian bookworm 7.3.11+dfsg-2+deb12u3"  # the interpreters table's build flags
    assert _discoverable(tmp_path) == [entry / "bin" / "pypy3.9"]
    assert private_roots.published(tmp_path, BOOKWORM_SPEC) == [entry]
    assert private_roots.published(tmp_path, sid_pypy) == []  # neither retires the other


def _tree(tmp_path: Path, library_dirs: tuple[str, ...], loader_in: str | None) -> Path:
    tree = tmp_path / "tree"
    for folder in library_dirs:
        (tree / folder).mkdir(parents=True)
    if loader_in:
        (tree / loader_in / private_roots.LOADER).write_bytes(b"")
    ensurepip = tree / "usr" / "lib" / "pypy3.9" / "ensurepip" / "__init__.py"
    ensurepip.parent.mkdir(parents=True)
    ensurepip.write_text("wheel_names = glob.glob('/usr/share/python-wheels/pip-*[.-]py3-*.whl')\n")
    return tree


def test_a_root_with_bookworms_split_lib_gets_both_folders_and_its_loader(tmp_path: Path, monkeypatch) -> None:
    patchelf: list[list[str]] = []
    monkeypatch.setattr(private_roots.subprocess, "run", lambda command, **kwargs: patchelf.append(command))
    tree = _tree(tmp_path, private_roots.LIBRARY_DIRS, "lib/x86_64-linux-gnu")  # bookworm: not merged /usr
    root = tmp_path / "root"
    private_roots.patch_root(tree, root, BOOKWORM_SPEC)
    assert patchelf == [["patchelf", "--set-interpreter", f"{root}/lib/x86_64-linux-gnu/{private_roots.LOADER}",
                         "--force-rpath", "--set-rpath", f"{root}/usr/lib/x86_64-linux-gnu:{root}/lib/x86_64-linux-gnu",
                         str(tree / "usr/bin/pypy3.9")]]
    # PyPy 3.9's ensurepip names the wheels' folder itself: the root's, not the host's (absent on a fresh machine).
    ensurepip = (tree / "usr" / "lib" / "pypy3.9" / "ensurepip" / "__init__.py").read_text()
    assert f"glob.glob('{root}/usr/share/python-wheels/pip-" in ensurepip
    # sid's merged /usr: one folder, as before.
    patchelf.clear()
    sid_tree = _tree(tmp_path / "sid", private_roots.LIBRARY_DIRS[:1], private_roots.LIBRARY_DIRS[0])
    private_roots.patch_root(sid_tree, root, SPEC)
    assert patchelf[0][2:6] == [f"{root}/usr/lib/x86_64-linux-gnu/{private_roots.LOADER}", "--force-rpath",
                                "--set-rpath", f"{root}/usr/lib/x86_64-linux-gnu"]


def test_a_root_without_a_loader_is_refused(tmp_path: Path) -> None:
    with pytest.raises(RootError, match="no ld-linux-x86-64.so.2 in usr/lib/x86_64-linux-gnu or lib/x86_64-linux-gnu"):
        private_roots.patch_root(_tree(tmp_path, private_roots.LIBRARY_DIRS, None), tmp_path / "root", BOOKWORM_SPEC)


def test_packages_already_downloaded_are_not_fetched_again(tmp_path: Path, fake_apt: FakeApt) -> None:
    store = tmp_path / "debs"
    store.mkdir()
    for deb in DEBS:
        if deb.name != "libc6":
            (store / deb.filename).write_bytes(b"")
    _make(tmp_path, fake_apt, lambda python, work: {})
    assert fake_apt.downloaded() == ["libc6=2.43-7"]


def test_offline_the_newest_cached_root_is_used(tmp_path: Path, fake_apt: FakeApt) -> None:
    (result,) = private_roots.provide(tmp_path, None, "apt-get update failed", fake_apt, lambda line: None, 60,
                                      specs=[SPEC])
    assert result[1] is None and "no cached root, and the sid lists are unavailable: apt-get update failed" in result[2]
    entry = _make(tmp_path, fake_apt, lambda python, work: {})
    (result,) = private_roots.provide(tmp_path, None, "apt-get update failed", fake_apt, lambda line: None, 60,
                                      specs=[SPEC])
    assert result[1] == entry and result[2] == f"used: {entry.name} (cached; sid lists unavailable)"


def test_a_failing_interpreter_is_left_out_with_its_reason(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def resolve(spec, options):
        if spec.id == "cpython-3.15":
            raise RootError("sid lists no package file for python3.15")
        return DEBS

    monkeypatch.setattr(private_roots, "resolve", resolve)
    monkeypatch.setattr(private_roots, "make_root", lambda cache, spec, *args: cache / "interpreters" / spec.id)
    results = private_roots.provide(tmp_path, ["-qq"], None, FakeApt(), lambda line: None, 60)
    assert [(spec.id, entry, what) for spec, entry, what in results] == [
        ("cpython-3.14", tmp_path / "interpreters" / "cpython-3.14", "used: cpython-3.14"),
        ("cpython-3.15", None, "failed: sid lists no package file for python3.15"),
        ("pypy3.11", tmp_path / "interpreters" / "pypy3.11", "used: pypy3.11"),  # the rest still comes
    ]


# --- for real: one root in a fresh cache, with a venv and a pyperf worker ------------------------------------------


@pytest.mark.provision
@pytest.mark.parametrize(("spec", "build"), [(SPEC, "JIT"), (BOOKWORM_SPEC, "Debian bookworm 7.3.11")],
                         ids=["sid-cpython-3.14", "bookworm-pypy3.9"])
def test_a_private_root_runs_a_venv_and_a_pyperf_worker(tmp_path: Path, spec: private_roots.RootSpec,
                                                        build: str) -> None:
    suites = provision.system_suites() if spec.suite != private_roots.SUITE else [
        (uri, private_roots.SUITE) for uri in provision.debian_source_uris()[:1]]
    if shutil.which("apt-get") is None or shutil.which("patchelf") is None or not suites:
        pytest.skip("needs apt-get, patchelf and a Debian mirror")
    if spec.suite != private_roots.SUITE and suites[0][1] != spec.suite:
        pytest.skip(f"a {spec.suite} root is made on {spec.suite} only (this machine: {suites[0][1]})")
    cache = tmp_path / "cache"
    options = provision.private_apt_options(cache, suites[0][0], spec.suite, "deb", suites[1:])
    provision.run_logged(["apt-get", *options, "update"], cache / "logs" / "apt.log", "update", lambda line: None)
    (result,) = private_roots.provide(cache, options, None, provision.run_logged, print, 600,
                                      (provision.ProvisionError, RootError), specs=[spec])
    assert result[1] is not None, result[2]
    facts = discovery.read_marker(result[1])["smoke"]
    assert facts["jit_available"] is True
    assert facts["extension"] in ("built and loaded", "not tried: no C compiler")
    # By id: a JIT build is also found as its PYTHON_JIT variants, the same binary.
    provisioned = {i.id: i for i in discovery.discover({**os.environ, "INTERPMATRIX_CACHE": str(cache)})
                   if i.origin == "provisioned"}
    # The root keeps the short id even beside the same PyPy installed in /usr (this machine's older provisioning).
    found = provisioned[spec.id]
    assert build in found.build_flags and found.executable.startswith(str(cache))
    venv = tmp_path / "venv"
    subprocess.run([found.executable, "-m", "venv", venv], check=True)
    python = venv / "bin" / "python"
    subprocess.run([python, "-m", "pip", "install", "-q", "pyperf"], check=True)
    output = tmp_path / "worker.json"
    subprocess.run([python, "-m", "pyperf", "timeit", "--processes", "2", "--values", "2", "--loops", "100",
                    "--inherit-environ", "PYTHON_JIT", "-o", output, "sum(range(100))"], check=True,
                   env={**os.environ, "PYTHON_JIT": "1"})
    benchmark = json.loads(output.read_text())["benchmarks"][0]
    assert len([run for run in benchmark["runs"] if "values" in run]) == 2  # two worker processes ran


# --- the family in provisioning -----------------------------------------------------------------------------------


@pytest.fixture
def sid_family(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> list[list[str]]:
    """A Debian-like x86_64 machine with patchelf, whose sid lists cannot be fetched: the commands run are recorded."""
    commands: list[list[str]] = []

    def unreachable(command, *args, **kwargs) -> None:
        commands.append(list(command))
        raise provision.ProvisionError("apt-get update (sid lists) failed (exit 100); last lines: Could not resolve")

    monkeypatch.setattr(provision.platform, "machine", lambda: "x86_64")
    monkeypatch.setattr(provision.shutil, "which", lambda name: f"/usr/bin/{name}")
    monkeypatch.setattr(provision, "install_debian_packages", lambda *args: "present: patchelf")
    monkeypatch.setattr(provision, "debian_source_uris", lambda: ["http://deb.example/debian"])
    monkeypatch.setattr(provision, "run_logged", unreachable)
    return commands


def test_unreachable_sid_leaves_each_interpreter_out_with_the_reason(tmp_path: Path, sid_family) -> None:
    outcome = provision.provision_debian_sid(tmp_path, [], echo=lambda line: None)
    assert sid_family[0][-1] == "update" and len(sid_family) == 1  # nothing downloaded after that
    assert not outcome.ok and outcome.provided == []
    assert [source for source, _ in outcome.tried] == ["Debian packages", "cpython-3.14", "cpython-3.15", "pypy3.11"]
    assert "cpython-3.14 failed: no cached root, and the sid lists are unavailable: apt-get update (sid lists) " \
           "failed (exit 100); last lines: Could not resolve" in (outcome.error or "")
    assert outcome.to_dict()["error"] == outcome.error  # what run.json and the report's "not provisioned" line say


def test_unreachable_sid_still_uses_the_cached_roots(tmp_path: Path, sid_family, fake_apt: FakeApt) -> None:
    entry = _make(tmp_path, fake_apt, lambda python, work: {})
    outcome = provision.provision_debian_sid(tmp_path, [], echo=lambda line: None)
    assert outcome.provided == [str(entry)]
    assert ("cpython-3.14", f"used: {entry.name} (cached; sid lists unavailable)") in outcome.tried
    assert "cpython-3.15 failed" in (outcome.error or "")  # never made here: left out, with the reason


def test_not_debian_like_is_not_an_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(provision.platform, "machine", lambda: "aarch64")
    outcome = provision.provision_debian_sid(tmp_path, [], echo=lambda line: None)
    assert outcome.ok and outcome.tried == [("Debian sid", "skipped: needs apt-get and dpkg-deb, on x86_64")]
