"""workloads/_packages.py: pip's reason for a package that cannot be installed, carried to the cells that need it.

The pip output is a real one (tests/fixtures/pip/numexpr-pypy3.9.log: `pip install numpy numexpr` in a venv of
Debian's PyPy 3.9 on this project's machine, where numexpr has no wheel and its source build fails).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from interpmatrix.registry import WORKLOADS_DIR

FIXTURES = Path(__file__).parent / "fixtures" / "pip"


@pytest.fixture()
def packages(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.syspath_prepend(str(WORKLOADS_DIR))
    import _packages

    monkeypatch.setattr(_packages, "PACKAGES_DIR", None)
    return _packages


def test_a_failed_source_build_gives_the_builds_own_error(packages) -> None:
    output = (FIXTURES / "numexpr-pypy3.9.log").read_text()
    reason = packages.failure_reason("numexpr", output)
    assert reason == (
        "no numexpr wheel for this interpreter, and building numexpr 2.10.2 from source failed: "
        "TypeError: 'NoneType' object is not subscriptable (key slice(None, None, None))"
    )


def test_a_plain_pip_error_is_quoted(packages) -> None:
    output = "Collecting nope\nERROR: Could not find a version that satisfies the requirement nope (from versions: none)\n"
    assert packages.failure_reason("nope", output) == (
        "pip install nope failed: Could not find a version that satisfies the requirement nope (from versions: none)"
    )


def test_a_missing_package_fails_the_variant_with_the_recorded_reason(packages, tmp_path: Path) -> None:
    (tmp_path / packages.MANIFEST).write_text(
        json.dumps({"surely_not_installed_pkg": {"ok": False, "reason": "no wheel for this interpreter"}})
    )
    packages.PACKAGES_DIR = str(tmp_path)

    @packages.needs("json", "surely_not_installed_pkg")
    def kernel(size, workers):
        return size

    with pytest.raises(packages.PackageUnavailable, match="^no wheel for this interpreter$"):
        packages.resolve(kernel)


def test_without_a_record_the_import_error_is_the_reason(packages) -> None:
    @packages.needs("surely_not_installed_pkg")
    def kernel(size, workers):
        return size

    with pytest.raises(packages.PackageUnavailable, match="surely_not_installed_pkg does not import"):
        packages.resolve(kernel)


def test_an_installed_package_is_recorded_with_its_version_and_not_tried_again(packages, tmp_path: Path) -> None:
    # pyperf is installed in the test environment: pip has nothing to download, and install() records it.
    packages.install(str(tmp_path), ["pyperf"])
    manifest = json.loads((tmp_path / packages.MANIFEST).read_text())
    assert manifest["pyperf"]["ok"] and manifest["pyperf"]["version"]
    # A second install of a recorded package does not run pip at all (its log stays as it was).
    log = tmp_path / "pip-pyperf.log"
    log.write_text("sentinel")
    packages.install(str(tmp_path), ["pyperf"])
    assert log.read_text() == "sentinel"
