"""`python -m interpmatrix packages` (what `nox -s packages` runs) for real, on the interpreters present.

The local packages in tests/fixtures/packages are built by uv in a fresh venv of each interpreter and imported there.
What each must do is checked against the interpreter itself, not assumed: whether it is a free-threaded build and a
PyPy comes from the interpreter's own answers (discovery's probe), and the GIL warning must name the module.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from interpmatrix import discovery, selection
from interpmatrix.compat import trying
from interpmatrix.compat.tried import BUILT, FAILED, NOT_TRIED, TIMEOUT, WHEEL, Tried
from interpmatrix.registry import REPO_ROOT

pytestmark = pytest.mark.e2e

LOCAL = REPO_ROOT / "tests" / "fixtures" / "packages"
FOUND = discovery.discover()
TARGETS, _ = trying.pip_targets(selection.select(FOUND, None))
FREE_THREADED = [i for i in TARGETS if i.free_threaded]
PYPY = [i for i in TARGETS if i.implementation == "pypy"]
GIL_CPYTHON = [i for i in TARGETS if i.implementation == "cpython" and not i.free_threaded]
# One of each kind the machine has: the tests' own minute, not the matrix's.
CHOSEN = [*GIL_CPYTHON[-1:], *FREE_THREADED[:1], *PYPY[-1:]]
IDS = ",".join(i.id for i in CHOSEN)


def packages(*args: str, env: dict[str, str] | None = None, timeout: float = 900) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "interpmatrix", "packages", *args], cwd=REPO_ROOT, text=True,
                          capture_output=True, env={**os.environ, **(env or {})}, timeout=timeout)


def written(result: subprocess.CompletedProcess) -> Tried:
    line = next(line for line in result.stdout.splitlines() if line.startswith("wrote "))
    tried = Tried.read(Path(line.split()[1]))
    assert tried is not None
    return tried


@pytest.fixture(scope="module")
def local_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Tried, Path, subprocess.CompletedProcess]:
    out = tmp_path_factory.mktemp("packages")
    result = packages(*(str(LOCAL / name) for name in ("im_pure", "im_gil", "im_nogil", "im_cpython_only")), "six",
                      "--interpreters", IDS, "--results-dir", str(out / "results"),
                      "--reports-dir", str(out / "reports"))
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return written(result), out / "reports" / "packages.md", result


def answer(tried: Tried, interpreter: str, package: str):
    found = next((r for r in tried.results if r.interpreter == interpreter and r.requirement.endswith(package)), None)
    assert found is not None, (interpreter, package)
    return found


def test_a_pure_package_and_a_wheel_install_everywhere(local_run) -> None:
    tried, _, _ = local_run
    assert sorted(tried.interpreters) == sorted(i.id for i in CHOSEN)
    for interpreter in CHOSEN:
        six = answer(tried, interpreter.id, "six")
        assert (six.install, six.imported, six.kind) == (WHEEL, True, "pure Python"), six
        pure = answer(tried, interpreter.id, "im_pure")
        # A local folder is always built: it has no wheel.
        assert (pure.install, pure.imported, pure.kind, pure.version) == (BUILT, True, "pure Python", "1.0"), pure


def test_a_c_extension_that_refuses_pypy_is_not_installable_there_only(local_run) -> None:
    tried, _, _ = local_run
    for interpreter in CHOSEN:
        found = answer(tried, interpreter.id, "im_cpython_only")
        if interpreter.implementation == "pypy":
            assert found.install == FAILED and found.imported is None, found
            assert "im_cpython_only needs CPython's own C API" in found.reason, found.reason
        else:
            assert found.works and found.kind == "C extension", found


@pytest.mark.skipif(not PYPY, reason="no PyPy among the default interpreters here")
def test_a_c_extension_on_pypy_runs_through_cpyext(local_run) -> None:
    tried, _, _ = local_run
    found = answer(tried, PYPY[-1].id, "im_gil")
    assert found.works and found.through_cpyext and found.extensions == ("im_gil",), found


@pytest.mark.skipif(not FREE_THREADED, reason="no free-threaded build among the default interpreters here")
def test_an_extension_without_free_threading_support_turns_the_gil_back_on(local_run) -> None:
    tried, _, _ = local_run
    iid = FREE_THREADED[0].id
    gil = answer(tried, iid, "im_gil")
    assert gil.works and gil.gil_reenabled is True, gil
    assert any("im_gil" in warning for warning in gil.gil_warnings), gil.gil_warnings
    nogil = answer(tried, iid, "im_nogil")
    assert nogil.works and nogil.gil_reenabled is False and nogil.gil_warnings == (), nogil
    # Pure Python never does.
    assert answer(tried, iid, "im_pure").gil_reenabled is False
    # A build with a GIL is not asked.
    for interpreter in GIL_CPYTHON[-1:]:
        assert answer(tried, interpreter.id, "im_gil").gil_reenabled is None


def test_the_table_is_printed_and_written(local_run) -> None:
    tried, report, result = local_run
    text = report.read_text()
    assert text.startswith("# Will my packages work?")
    assert text in result.stdout
    assert "| six (1.17.0) |" in text.replace("  ", "").replace("| six (1.17.0)|", "| six (1.17.0) |")
    for interpreter in CHOSEN:
        assert interpreter.id in text.splitlines()[text.splitlines().index("**Your requirements**") + 2]


def test_a_second_run_answers_from_the_cache(local_run, tmp_path: Path) -> None:
    started = time.monotonic()
    result = packages("six", "--interpreters", IDS, "--results-dir", str(tmp_path / "r"),
                      "--reports-dir", str(tmp_path / "p"))
    assert result.returncode == 0, result.stderr
    again = written(result)
    assert all(r.cached and r.install == WHEEL for r in again.results), again.results
    assert "from the cache of" in result.stdout
    # Seconds, not the first run's minute (a loose bound: this is not a speed test, only "nothing was installed").
    assert time.monotonic() - started < 60


def test_pip_is_the_fallback_installer(tmp_path: Path) -> None:
    one = CHOSEN[0].id
    result = packages("six", "--installer", "pip", "--refresh", "--interpreters", one,
                      "--results-dir", str(tmp_path / "r"), "--reports-dir", str(tmp_path / "p"))
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    assert "installer: virtualenv and pip (asked for)" in result.stdout
    six = written(result).results[0]
    assert (six.installer, six.install, six.imported) == ("pip", WHEEL, True), six


@pytest.mark.faults
def test_a_hanging_build_is_stopped_with_its_whole_group(tmp_path: Path) -> None:
    pidfile = tmp_path / "hang.pid"
    result = packages(str(LOCAL / "im_hang"), "six", "--timeout", "15", "--interpreters", CHOSEN[0].id,
                      "--results-dir", str(tmp_path / "r"), "--reports-dir", str(tmp_path / "p"),
                      env={"IM_HANG_PIDFILE": str(pidfile)})
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    tried = written(result)
    hang = answer(tried, CHOSEN[0].id, "im_hang")
    assert hang.install == TIMEOUT and "stopped after 15 s" in hang.reason, hang
    # The other package is still tried.
    assert answer(tried, CHOSEN[0].id, "six").works
    # The build backend that slept was killed with its group, not left behind.
    pid = int(pidfile.read_text())
    time.sleep(0.5)
    assert not Path(f"/proc/{pid}").exists() or "zombie" in Path(f"/proc/{pid}/status").read_text().lower()


@pytest.mark.faults
def test_without_network_it_says_so_once_and_uses_the_cache(tmp_path: Path) -> None:
    iid = CHOSEN[0].id
    first = packages("six", "--interpreters", iid, "--results-dir", str(tmp_path / "r1"),
                     "--reports-dir", str(tmp_path / "p1"))
    assert first.returncode == 0, first.stdout[-2000:] + first.stderr[-2000:]
    # Nothing listens on port 9: the index cannot be reached, as without a network. The second requirement is
    # spelled as no other run spells it, so the cache cannot have it (a result that was not tried is never kept).
    offline = {"UV_INDEX_URL": "http://127.0.0.1:9/simple/", "PIP_INDEX_URL": "http://127.0.0.1:9/simple/"}
    never = "idna>=1.0,!=1.0.1"
    result = packages("six", never, "--interpreters", iid, "--results-dir", str(tmp_path / "r2"),
                      "--reports-dir", str(tmp_path / "p2"), env=offline)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    assert result.stdout.count("no network") == 1
    tried = written(result)
    assert tried.offline is not None and "127.0.0.1:9" in tried.offline
    six, idna = answer(tried, iid, "six"), answer(tried, iid, never)
    assert six.cached and six.works
    assert idna.install == NOT_TRIED and "cannot be reached" in idna.reason
    assert "No network:" in (tmp_path / "p2" / "packages.md").read_text()


def test_only_bad_requirements_is_a_clear_error(tmp_path: Path) -> None:
    requirements = tmp_path / "requirements.txt"
    requirements.write_text("not a requirement!!\n")
    result = packages("-r", str(requirements), "--results-dir", str(tmp_path / "r"))
    assert result.returncode == 2
    assert "nothing to try: requirements.txt line 1: 'not a requirement!!' is not a requirement" in result.stderr
    assert not (tmp_path / "r").exists()
