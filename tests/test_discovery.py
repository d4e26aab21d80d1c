"""Discovery: ids and selection on probe answers recorded on the project machine, plus a real discovery run.

The fixtures in tests/fixtures/probes/ are real ``probe.py`` answers (Debian's 3.11.2, pyenv's 2.7-3.13, Debian's
PyPy 3.9 and the provisioned free-threaded 3.13.5), so the id rules are tested on what interpreters really say.
"""

from __future__ import annotations

import copy
import json
import os
import sys
from pathlib import Path

import pytest

from interpmatrix import discovery
from interpmatrix.discovery import Interpreter, assign_ids
from interpmatrix.selection import interpreters_table

FIXTURES = Path(__file__).parent / "fixtures" / "probes"


def recorded() -> list[tuple[dict, str]]:
    answers = []
    for path in sorted(FIXTURES.glob("*.json")):
        data = json.loads(path.read_text())
        answers.append((data["probe"], data["origin"]))
    return answers


@pytest.fixture
def found() -> list[Interpreter]:
    return assign_ids(recorded())


def by_id(interpreters: list[Interpreter]) -> dict[str, Interpreter]:
    return {i.id: i for i in interpreters}


def variant(answer: dict, **changes) -> dict:
    answer = copy.deepcopy(answer)
    answer.update(changes)
    return answer


def test_fixtures_are_real_probe_answers():
    keys = {"implementation", "version", "implementation_version", "executable", "realpath", "prefix",
            "base_prefix", "free_threaded", "gil_enabled", "jit", "config_args", "compiler", "cflags", "shared"}
    answers = recorded()
    assert len(answers) >= 12
    for answer, origin in answers:
        assert keys <= answer.keys()
        assert origin in discovery.ORIGINS


def test_ids_of_this_machine(found):
    ids = by_id(found)
    # pyenv's 3.11.7 is the newest 3.11 and keeps the short id; Debian's older patch is named in full.
    assert ids["cpython-3.11"].version == "3.11.7" and ids["cpython-3.11"].origin == "pyenv"
    assert ids["cpython-3.11.2"].version == "3.11.2" and ids["cpython-3.11.2"].origin == "system"
    assert ids["pypy3.9"].implementation_version == "7.3.11" and ids["pypy3.9"].version == "3.9.16"
    assert ids["cpython-3.13t"].free_threaded and not ids["cpython-3.13t"].gil_enabled
    assert ids["cpython-3.13"].version == "3.13.0"
    assert not ids["cpython-2.7"].supported and not ids["cpython-3.8"].supported
    # Too old for pyperf, not for the self-timing runner.
    assert ids["cpython-2.7"].self_timed and ids["cpython-3.8"].self_timed and not ids["cpython-3.9"].self_timed
    assert ids["cpython-3.9"].supported
    assert len(ids) == len(found)


def test_executable_is_the_real_binary(found):
    ids = by_id(found)
    assert ids["cpython-3.11.2"].executable == "/usr/bin/python3.11"
    assert ids["cpython-2.7"].executable.endswith("/versions/2.7.18/bin/python2.7")
    assert ids["pypy3.9"].executable == "/usr/bin/pypy3.9"  # probed as /usr/bin/pypy3, a symlink


def test_order_cpython_then_pypy_by_version(found):
    assert [i.id for i in found][-2:] == ["pypy3.9", "pypy3.11"]
    cpythons = [i for i in found if i.implementation == "cpython"]
    assert [i.version_tuple for i in cpythons] == sorted(i.version_tuple for i in cpythons)
    assert [i.id for i in cpythons][:2] == ["cpython-2.7", "cpython-3.6"]


def test_free_threaded_sorts_after_its_gil_twin(found):
    gil = next(a for a, _ in recorded() if a["version"] == "3.13.0")
    twin = variant(gil, version="3.13.5", implementation_version="3.13.5", realpath="/opt/3.13.5/bin/python3.13")
    ids = [i.id for i in assign_ids(recorded() + [(twin, "uv")])]
    assert ids.index("cpython-3.13.0") < ids.index("cpython-3.13") < ids.index("cpython-3.13t")
    assert ids.index("cpython-3.13t") == ids.index("cpython-3.13") + 1


def test_same_full_version_gets_origin_then_counter():
    base = next(a for a, _ in recorded() if a["version"] == "3.13.0")

    def build(version: str, where: str) -> dict:
        return variant(base, version=version, implementation_version=version, realpath=f"/{where}/python3.13")

    probes = [(build("3.13.5", "a"), "provisioned"), (build("3.13.5", "b"), "pyenv"),
              (build("3.13.5", "c"), "pyenv"), (build("3.13.0", "d"), "path")]
    ids = {i.executable: i.id for i in assign_ids(probes)}
    assert ids == {"/a/python3.13": "cpython-3.13", "/b/python3.13": "cpython-3.13.5-pyenv",
                   "/c/python3.13": "cpython-3.13.5-pyenv-2", "/d/python3.13": "cpython-3.13.0"}


def test_older_free_threaded_and_pypy_get_full_ids():
    answers = recorded()
    ft = next(a for a, _ in answers if a["free_threaded"])
    pypy = next(a for a, _ in answers if a["implementation"] == "pypy")
    old_ft = variant(ft, version="3.13.1", implementation_version="3.13.1", realpath="/old/python3.13t")
    old_pypy = variant(pypy, version="3.9.15", implementation_version="7.3.9", realpath="/old/pypy3.9")
    ids = by_id(assign_ids(answers + [(old_ft, "uv"), (old_pypy, "uv")]))
    assert ids["cpython-3.13t"].version == "3.13.5" and ids["cpython-3.13.1t"].origin == "uv"
    assert ids["pypy3.9"].implementation_version == "7.3.11"
    assert ids["pypy3.9-7.3.9"].implementation_version == "7.3.9"


def test_build_flags(found):
    ids = by_id(found)
    assert ids["cpython-3.12"].build_flags == "shared"
    assert ids["cpython-3.13t"].build_flags == "free-threading"
    assert ids["pypy3.9"].build_flags == "default"
    tuned = variant(recorded()[0][0], config_args="'--enable-optimizations' '--with-lto' '--enable-experimental-jit'",
                    shared=False, free_threaded=False, cflags="-O3")
    assert assign_ids([(tuned, "uv")])[0].build_flags == "PGO, LTO, JIT"


def test_jit_and_versions(found):
    ids = by_id(found)
    assert ids["pypy3.9"].is_jit and ids["pypy3.9"].jit == "PyPy JIT"
    assert not ids["cpython-3.13"].is_jit
    assert ids["cpython-3.11.2"].minor == "3.11" and ids["cpython-3.11.2"].version_tuple == (3, 11, 2)


def test_dict_round_trip(found):
    for interp in found:
        data = json.loads(json.dumps(interp.to_dict()))
        assert Interpreter.from_dict(data) == interp
    with pytest.raises(ValueError, match="lacks"):
        Interpreter.from_dict({"id": "cpython-3.12"})


# Real runs, no mocks: the probe goes through real interpreters and real broken candidates.


def fake(directory: Path, name: str, body: str) -> Path:
    path = directory / name
    path.write_text("#!/bin/sh\n" + body + "\n")
    path.chmod(0o755)
    return path


def test_probe_of_broken_candidates_is_none(tmp_path):
    assert discovery.probe(tmp_path / "python3.42") is None
    assert discovery.probe(fake(tmp_path, "python3.99", "echo 'pyenv: command not found' >&2; exit 127")) is None
    assert discovery.probe(fake(tmp_path, "python3.98", "echo hello")) is None
    assert discovery.probe(fake(tmp_path, "python3.97", "exec sleep 30"), timeout=0.5) is None
    not_executable = tmp_path / "python3.96"
    not_executable.write_text("")
    assert discovery.probe(not_executable) is None


def test_probe_of_the_running_interpreter():
    answer = discovery.probe(Path(sys.executable))
    assert answer is not None
    assert answer["realpath"] == os.path.realpath(sys.executable)
    assert answer["version"].startswith("%d.%d.%d" % sys.version_info[:3])


def test_discover_finds_this_interpreter_and_drops_fakes(tmp_path):
    broken = fake(tmp_path, "python3.99", "exit 1")
    environ = {**os.environ, "PATH": os.pathsep.join([str(tmp_path), os.environ.get("PATH", "")])}
    assert broken in discovery.candidate_paths(environ)
    found = discovery.discover(environ)
    executables = {i.executable for i in found}
    assert os.path.realpath(sys.executable) in executables
    assert not any(e.startswith(str(tmp_path)) for e in executables)
    assert len({i.id for i in found}) == len(found)
    # One binary under several names (symlinks, hard links, the active pyenv shim) is one interpreter; a JIT's
    # column shares its binary with the column without it.
    assert len({os.stat(e)[1:3] for e in executables}) == len([i for i in found if not i.variant_of])


def test_provisioned_twins_point_at_each_other(tmp_path):
    """A provisioned free-threaded build and its same-source GIL build, linked by their markers."""
    ft_answer = next(a for a, _ in recorded() if a["free_threaded"])
    gil_answer = next(a for a, _ in recorded() if a["version"] == "3.13.0")
    ft_prefix, gil_prefix = tmp_path / "cpython-3.13.5-x-ft", tmp_path / "cpython-3.13.5-x-gil"
    for prefix, family, other in ((ft_prefix, "free-threaded", gil_prefix), (gil_prefix, "twin", ft_prefix)):
        prefix.mkdir()
        (prefix / discovery.MARKER).write_text(json.dumps({"family": family, "twin": other.name}))
    twin_answer = variant(gil_answer, version="3.13.5", implementation_version="3.13.5", prefix=str(gil_prefix),
                          realpath=str(gil_prefix / "bin" / "python3.13"))
    ft_answer = variant(ft_answer, prefix=str(ft_prefix))
    others = [(a, o) for a, o in recorded() if not a["free_threaded"]]
    linked = by_id(discovery.link_twins(assign_ids(others + [(ft_answer, "provisioned"), (twin_answer, "provisioned")])))
    assert linked["cpython-3.13t"].twin == "cpython-3.13"
    assert linked["cpython-3.13"].twin == "cpython-3.13t"
    assert linked["cpython-3.13.0"].twin == ""  # pyenv's build is no twin of anything
    headers, rows = interpreters_table(linked.values())
    assert ["cpython-3.13t (twin of cpython-3.13)"] in [row[:1] for row in rows]


