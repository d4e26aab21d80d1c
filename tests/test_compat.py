"""interpmatrix.compat and its report section, on recorded installer output and hand-made results.

The installer logs in tests/fixtures/installers are real: uv 0.13.9 and pip (virtualenv 21.15.11's) on this project's
machine, installing six (a wheel), markupsafe with --no-binary (built), a name that does not exist, and a local
package whose C source is missing; the 3.13t logs are from the first `nox -s packages` here (greenlet's C++ build
failing against 3.13t's headers, cffi refusing 3.13t, pandas stopped at the time limit while building). The expected
values below were read off those files by hand.
"""

from __future__ import annotations

import json
import sys
import types
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from interpmatrix.compat import import_probe, tried, wanted
from interpmatrix.compat.tried import BUILT, FAILED, NOT_TRIED, TIMEOUT, WHEEL, Cache, PackageResult, Tried
from interpmatrix.sections import packages as section

FIXTURES = Path(__file__).parent / "fixtures" / "installers"


def log(name: str) -> str:
    return (FIXTURES / name).read_text(encoding="utf-8")


# Installers' output -----------------------------------------------------------------------------------------------


def test_a_wheel_install_by_uv_and_by_pip() -> None:
    assert tried.classify_install("six", log("uv-wheel.log"), 0, False, 0.2) == tried.Install(WHEEL)
    report = json.loads(log("pip-report-wheel.json"))
    assert tried.built_from_report(report) == set()
    assert tried.classify_install("six", log("pip-wheel.log"), 0, False, 1.0, built=set()).outcome == WHEEL


def test_a_build_from_source_by_uv_and_by_pip() -> None:
    assert tried.classify_install("markupsafe", log("uv-built.log"), 0, False, 1.9) == tried.Install(
        BUILT, built=("markupsafe",))
    report = json.loads(log("pip-report-built.json"))
    # pip names it MarkupSafe; the answer is by normalized name.
    assert tried.built_from_report(report) == {"markupsafe"}
    # pip's own words say so too, for a pip without --report.
    assert tried.built_names(log("pip-built.log")) == {"markupsafe"}


def test_a_name_that_does_not_exist_is_pips_or_uvs_reason() -> None:
    uv = tried.classify_install("nosuch-pkg-zzq", log("uv-resolution-failed.log"), 1, False, 0.3)
    assert uv == tried.Install(
        FAILED,
        "No solution found when resolving dependencies: Because nosuch-pkg-zzq was not found in the package "
        "registry and you require nosuch-pkg-zzq, we can conclude that your requirements are unsatisfiable.",
    )
    pip = tried.classify_install("nosuch-pkg-zzq", log("pip-resolution-failed.log"), 1, False, 2.0)
    assert pip == tried.Install(FAILED, "No matching distribution found for nosuch-pkg-zzq")


def test_a_failed_build_gives_the_compilers_error() -> None:
    missing = "cc1: fatal error: missing.c: No such file or directory"
    uv = tried.classify_install("badpkg", log("uv-build-failed.log"), 1, False, 2.0)
    assert uv == tried.Install(FAILED, f"Failed to build `badpkg @ file:///tmp/badpkg`: {missing}")
    pip = tried.classify_install("badpkg", log("pip-build-failed.log"), 1, False, 3.0)
    assert pip == tried.Install(FAILED, f"Failed to build badpkg: {missing}")
    greenlet = tried.classify_install("greenlet", log("uv-greenlet-3.13t.log"), 1, False, 2.0)
    assert greenlet.reason == (
        "Failed to build `greenlet==3.5.6`: src/greenlet/TPythonState.cpp:232:9: error: ‘_PyCriticalSection_"
        "SuspendAll’ was not declared in this scope; did you mean ‘PyCriticalSection_End’?"
    )
    cffi = tried.classify_install("cffi", log("uv-cffi-3.13t.log"), 1, False, 0.6)
    assert cffi.reason == (
        "Failed to build `cffi==2.1.1`: RuntimeError: CFFI does not support the free-threaded build of CPython "
        "3.13. Upgrade to free-threaded 3.14 or newer to use CFFI with the free-threaded build."
    )


def test_a_build_stopped_at_the_limit_says_so() -> None:
    stopped = tried.classify_install("pandas", log("uv-pandas-3.13t-timeout.log"), -9, True, 300.1, limit=300)
    assert stopped == tried.Install(
        TIMEOUT, "the build from source was stopped after 300 s (a longer limit: --timeout SECONDS)")


def test_an_unreachable_index_is_told_from_a_failed_install() -> None:
    assert tried.looks_offline("error: Failed to fetch: `http://127.0.0.1:9/simple/six/`\n  Caused by: error "
                               "sending request for url\n  Caused by: tcp connect error: Connection refused")
    assert not tried.looks_offline(log("uv-resolution-failed.log"))
    assert not tried.looks_offline(log("pip-build-failed.log"))


# What an import loads ---------------------------------------------------------------------------------------------

SITE = "/venv/lib/python3.13t/site-packages"


class FakeFFI:
    """Stands for cffi's compiled FFI object, whose class lives in _cffi_backend."""


FakeFFI.__module__ = "_cffi_backend"


def module(name: str, path: str | None, **attributes: object) -> types.ModuleType:
    made = types.ModuleType(name)
    if path is not None:
        made.__file__ = path
    for key, value in attributes.items():
        setattr(made, key, value)
    return made


def test_modules_are_told_apart_by_file_and_ffi() -> None:
    suffix = import_probe.machinery.EXTENSION_SUFFIXES[0]
    site = [SITE]
    assert import_probe.kind_of(module("six", f"{SITE}/six.py"), site) == "python"
    assert import_probe.kind_of(module("ujson", f"{SITE}/ujson{suffix}"), site) == "extension"
    assert import_probe.kind_of(module("_lib", f"{SITE}/pkg/_lib{suffix}", ffi=FakeFFI()), site) == "cffi"
    assert import_probe.kind_of(module("_cffi_backend", f"{SITE}/_cffi_backend{suffix}"), site) == "cffi"
    # Outside site-packages (the standard library, PyPy's own cffi) and built in: not the package's.
    assert import_probe.kind_of(module("json", "/usr/lib/python3.13/json/__init__.py"), site) is None
    assert import_probe.kind_of(module("sys", None), site) is None


def test_a_result_names_its_kind_and_cpyext_only_on_pypy() -> None:
    base = PackageResult("pypy3.11", "ujson", "ujson", "default list", WHEEL, implementation="pypy", imported=True)
    assert (base.__class__(**{**base.to_dict(), "extensions": ("ujson",)}).through_cpyext) is True
    on_cpython = PackageResult.from_dict({**base.to_dict(), "implementation": "cpython", "extensions": ["ujson"]})
    assert on_cpython.kind == "C extension" and not on_cpython.through_cpyext
    assert PackageResult.from_dict({**base.to_dict(), "cffi_modules": ["_cffi_backend"]}).kind == "cffi"
    assert PackageResult.from_dict({**base.to_dict(), "python_modules": 3}).kind == "pure Python"
    assert base.kind == "the interpreter's own"


# Requirements -----------------------------------------------------------------------------------------------------


def test_a_requirements_file_names_each_bad_line_and_keeps_the_rest(tmp_path: Path) -> None:
    (tmp_path / "mypkg").mkdir()
    path = tmp_path / "requirements.txt"
    path.write_text("# my app\nnumpy>=2\n\npyyaml  # the YAML one\nnot a requirement!!\n-e .\n./mypkg\n./gone\n")
    found, errors = wanted.read_requirements(path)
    assert [(w.requirement, w.name, w.source) for w in found] == [
        ("numpy>=2", "numpy", "requirements.txt line 2"),
        ("pyyaml", "pyyaml", "requirements.txt line 4"),
        (str((tmp_path / "mypkg").resolve()), "mypkg", "requirements.txt line 7"),
    ]
    # A default-list package keeps what its import must exercise.
    assert found[1].imports == ("yaml",)
    assert [error.split(":", 1)[0] for error in errors] == [
        "requirements.txt line 5", "requirements.txt line 6", "requirements.txt line 8"]
    assert "not a requirement" in errors[0] and "pip option" in errors[1] and "does not exist" in errors[2]


def test_an_unreadable_requirements_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(wanted.RequirementsError, match="cannot read the requirements file"):
        wanted.read_requirements(tmp_path / "nope.txt")


def test_the_default_list_is_twenty_distinct_packages_each_with_an_import() -> None:
    names = [w.name for w in wanted.DEFAULT_PACKAGES]
    assert len(names) >= 20 and len(set(names)) == len(names)
    assert all(w.imports and w.source == "default list" for w in wanted.DEFAULT_PACKAGES)


# The cache --------------------------------------------------------------------------------------------------------

NOW = datetime(2026, 12, 2, 12, 0, tzinfo=timezone.utc)


def result(interpreter: str = "cpython-3.13t", requirement: str = "ujson", **changes: object) -> PackageResult:
    values = {"interpreter": interpreter, "requirement": requirement, "name": requirement, "source": "default list",
              "install": WHEEL, "imported": True, "version": "6.1.0", "python_modules": 1,
              "tried_at": NOW.isoformat()}
    values.update(changes)
    return PackageResult(**values)  # type: ignore[arg-type]


def test_the_cache_answers_for_a_week_then_tries_again(tmp_path: Path) -> None:
    Cache(tmp_path, now=NOW).put("abc", "ujson", result())
    assert Cache(tmp_path, now=NOW + timedelta(days=6)).get("abc", "ujson") == result()
    assert Cache(tmp_path, now=NOW + timedelta(days=8)).get("abc", "ujson") is None
    assert Cache(tmp_path, now=NOW).get("another-binary", "ujson") is None


def test_the_cache_keeps_no_answer_that_says_nothing_or_may_change(tmp_path: Path) -> None:
    cache = Cache(tmp_path, now=NOW)
    cache.put("abc", "ujson", result(install=NOT_TRIED, reason="the package index could not be reached"))
    cache.put("abc", "_tmp_mypkg", result(requirement="/tmp/mypkg"))
    assert cache.get("abc", "ujson") is None and cache.get("abc", "_tmp_mypkg") is None
    (tmp_path / "abc").mkdir(exist_ok=True)
    (tmp_path / "abc" / "broken.json").write_text("{not json")
    assert cache.get("abc", "broken") is None


# The report section -----------------------------------------------------------------------------------------------


def document() -> Tried:
    mine = {"source": "requirements.txt line 1"}
    return Tried(
        results=(
            result("cpython-3.13t", "lxml", install=BUILT, install_seconds=117.8, gil_reenabled=True,
                   extensions=("lxml.etree",), free_threaded=True, **mine),
            result("pypy3.11", "lxml", install=WHEEL, implementation="pypy", extensions=("lxml.etree",), **mine),
            result("cpython-3.13t", "ujson", install=FAILED, imported=None, version=None,
                   reason="Failed to build `ujson`: boom", **mine),
            result("pypy3.11", "ujson", install=FAILED, imported=None, version=None,
                   reason="Failed to build `ujson`: boom", implementation="pypy", **mine),
            result("cpython-3.13t", "pandas", install=TIMEOUT, imported=None, version=None,
                   reason="stopped after 300 s"),
            result("pypy3.11", "pandas", install=WHEEL, implementation="pypy", version="3.1.1",
                   cffi_modules=("pandas._x",)),
        ),
        interpreters=("cpython-3.13t", "pypy3.11"),
        shared=(("cpython-3.14-jit", "the same binary and packages as cpython-3.14"),),
        errors=("requirements.txt line 2: 'x y' is not a requirement",),
        installer="uv 0.13.9",
        timeout=300,
    )


def test_the_table_marks_each_answer_and_groups_a_shared_reason() -> None:
    text = section.render_tried(document())
    assert "| lxml (6.1.0) | ✓ built (118 s) **GIL on** | ✓ wheel cpyext |" in text
    assert "| ujson        | ✗ [1]                      | ✗ [1]          |" in text
    assert "| **works**    | 1 of 2                     | 1 of 2         |" in text
    assert "| pandas (3.1.1) | ⏱ [2]           | ✓ wheel cffi |" in text
    assert "| **works**      | 0 of 1          | 1 of 1       |" in text
    assert "1. ujson on cpython-3.13t, pypy3.11: Failed to build `ujson`: boom" in text
    assert "2. pandas on cpython-3.13t: stopped after 300 s" in text
    assert "requirements.txt line 2: 'x y' is not a requirement" in text
    assert "cpython-3.14-jit (the same binary and packages as cpython-3.14)" in text
    # The user's table comes first, then the default list's.
    assert text.index("**Your requirements**") < text.index("**Widely used packages with compiled parts**")


def test_a_list_tried_nowhere_is_one_sentence_and_no_table() -> None:
    # A matrix run on a machine where `nox -s packages` never ran: the default list is "not tried" everywhere.
    untried = "not tried yet: `nox -s packages` tries it"
    tried_ = Tried(tuple(result(iid, name, install=NOT_TRIED, imported=None, version=None, reason=untried)
                         for iid in ("cpython-3.13t", "pypy3.11") for name in ("numpy", "lxml")),
                   ("cpython-3.13t", "pypy3.11"), installer="uv 0.13.9", timeout=300)
    text = section.render_tried(tried_)
    assert ("**Widely used packages with compiled parts**: none tried on these interpreters yet (numpy, lxml): "
            "`nox -s packages` tries them (about a minute where wheels exist), and the next report shows them.") in text
    assert "|" not in text and "✓ wheel" not in text  # no table, so no legend either
    # One of the four tried: the table, its legend, and the count of the rest.
    some = Tried((*tried_.results[:2], result("pypy3.11", "numpy"), tried_.results[3]), tried_.interpreters)
    text = section.render_tried(some)
    assert "| numpy" in text and "✓ wheel: installed from a wheel" in text
    assert "3 of these were not tried on these interpreters yet" in text


def test_what_the_users_packages_cost_on_one_interpreter() -> None:
    tried_ = document()
    assert section.costs(tried_, "cpython-3.13t", user=True) == [
        "1 of your 2 packages does not install or import there (ujson)", "1 of 2 turns the GIL back on (lxml)"]
    assert section.costs(tried_, "pypy3.11", user=True) == [
        "1 of your 2 packages does not install or import there (ujson)", "1 of 2 runs through cpyext (lxml)"]
    assert section.costs(tried_, "pypy3.11", user=False) == []
    # A build stopped at the time limit is told apart from one that failed.
    assert section.costs(tried_, "cpython-3.13t", user=False) == ["1 of 1 was still building at the time limit (pandas)"]
    # Not tried is no cost: nothing is known.
    untried = Tried((result(install=NOT_TRIED, source="requirements.txt line 1"),), ("cpython-3.13t",))
    assert section.costs(untried, "cpython-3.13t", user=True) == []


def test_a_file_round_trips(tmp_path: Path) -> None:
    path = tmp_path / tried.PACKAGES_FILE
    document().write(path)
    assert Tried.read(path) == document()
    assert Tried.read(tmp_path / "none.json") is None


def test_the_probe_runs_on_this_interpreter_and_reads_a_distributions_names() -> None:
    """The real probe, in this Python: pytest is pure Python, installed, and imports."""
    import subprocess

    done = subprocess.run([sys.executable, str(import_probe.__file__), "pytest"], capture_output=True, text=True,
                          check=True)
    answer = json.loads(done.stdout)
    assert answer["version"] == __import__("importlib.metadata").metadata.version("pytest")
    assert "pytest" in answer["imports"] and answer["errors"] == []
    assert answer["python_modules"] > 0 and answer["extensions"] == []


def test_a_package_the_interpreter_ships_is_shown_as_bundled() -> None:
    """PyPy's own cffi imports before any cffi installed into the venv: nothing is loaded from site-packages."""
    notes: list = []
    bundled = result("pypy3.9", "cffi", implementation="pypy", version="1.15.1", python_modules=0)
    assert section.cell_text(bundled, notes) == "✓ bundled 1.15.1" and notes == []
    installed = result("pypy3.9", "cffi", implementation="pypy", version="2.0.0", cffi_modules=("_cffi_backend",))
    assert section.cell_text(installed, notes) == "✓ wheel cffi"
