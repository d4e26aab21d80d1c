"""Which interpreters a run takes by default, and the columns an environment switch makes of one binary.

Probe answers are the real ones recorded on the project machine (tests/fixtures/probes/, and
tests/fixtures/probes-env/ for the answers under PYTHON_JIT=0/1 and PYTHON_GIL=1), so the rules are tested on what
the interpreters really say; the expected ids are written out by hand from the README's rule.
"""

from __future__ import annotations

import datetime
import json
from dataclasses import replace
from pathlib import Path

import pytest

from interpmatrix import discovery, model
from interpmatrix.discovery import Interpreter, assign_ids, env_variants
from interpmatrix.selection import Choice, choices, default_selection, interpreters_table, past_end_of_life, select

FIXTURES = Path(__file__).parent / "fixtures"
TODAY = datetime.date(2026, 12, 2)


def _read(folder: str) -> list[dict]:
    return [json.loads(path.read_text()) for path in sorted((FIXTURES / folder).glob("*.json"))]


def recorded_probe_with(interp: Interpreter, env: dict[str, str]) -> dict | None:
    """The answer recorded for ``interp``'s binary under ``env``; None, as a probe that fails, when none was."""
    for data in _read("probes-env"):
        probe = data["probe"]
        if (probe["version"], probe["free_threaded"], data["env"]) == (interp.version, interp.free_threaded, env):
            return probe
    return None


@pytest.fixture
def found() -> list[Interpreter]:
    return env_variants(assign_ids([(d["probe"], d["origin"]) for d in _read("probes")]), recorded_probe_with)


def ids(interpreters) -> list[str]:
    return [i.id for i in interpreters]


def by_id(interpreters) -> dict[str, Interpreter]:
    return {i.id: i for i in interpreters}


def test_a_jit_build_makes_two_columns_of_one_binary(found):
    found = by_id(found)
    plain, jit = found["cpython-3.14"], found["cpython-3.14-jit"]
    assert plain.executable == jit.executable
    assert plain.env == (("PYTHON_JIT", "0"),) and plain.jit == "built, disabled" and not plain.is_jit
    assert jit.env == (("PYTHON_JIT", "1"),) and jit.jit == "enabled" and jit.is_jit
    assert jit.variant_of == "cpython-3.14" and plain.variant_of == ""
    assert jit.env_text == "PYTHON_JIT=1"
    assert found["cpython-3.15-jit"].variant_of == "cpython-3.15"
    # No switch, no variant: pyenv's 3.12 and PyPy stay one column each, with nothing added to their environment.
    assert found["cpython-3.12"].env == () and "cpython-3.12-jit" not in found
    assert "pypy3.11-jit" not in found and found["pypy3.11"].is_jit


def test_a_free_threaded_build_can_run_with_the_gil_forced_on(found):
    forced = by_id(found)["cpython-3.13t-gil"]
    assert forced.env == (("PYTHON_GIL", "1"),) and forced.gil_enabled and forced.free_threaded
    assert forced.variant_of == "cpython-3.13t" and forced.twin == ""


def test_a_switch_that_does_not_take_makes_no_column(found):
    plain = assign_ids([(d["probe"], d["origin"]) for d in _read("probes") if d["probe"]["version"] == "3.14.10"])

    def jit_stays_off(interp, env):
        answer = recorded_probe_with(interp, env)
        return {**answer, "jit": "built, disabled"} if answer else None

    assert ids(env_variants(plain, jit_stays_off)) == ["cpython-3.14"]
    # A probe that does not answer under the variable leaves the build as it was found.
    assert env_variants(plain, lambda interp, env: None) == plain


def test_variants_survive_the_run_json_round_trip(found):
    for interp in found:
        assert Interpreter.from_dict(json.loads(json.dumps(interp.to_dict()))) == interp


def test_default_selection_follows_the_readme_rule(found):
    # CPython 2.7 is seed 000's CPython: the self-timing runner times it.
    assert ids(default_selection(found, TODAY)) == [
        "cpython-2.7", "cpython-3.11", "cpython-3.12", "cpython-3.13", "cpython-3.13t", "cpython-3.14", "cpython-3.14-jit",
        "cpython-3.15", "cpython-3.15-jit", "pypy3.11",
    ]
    # Before 3.10's end of life (October 2026) it was still taken.
    assert "cpython-3.10" in ids(default_selection(found, datetime.date(2026, 9, 30)))
    assert "cpython-3.9" not in ids(default_selection(found, datetime.date(2026, 9, 30)))


def test_every_interpreter_left_out_has_its_reason(found):
    why = choices(found, TODAY)
    assert why["cpython-3.10"].why == "Python 3.10 is past its end of life (2026-10)"
    assert why["cpython-2.7"].why == (
        "the newest CPython 2.7, which seed 000 measured; timed by interpmatrix's self-timing runner (no pyperf there)")
    assert why["cpython-3.8"].why == ("Python 3.8 is past its end of life (before 2025-10); it would be timed by "
                                      "interpmatrix's self-timing runner (no pyperf there)")
    assert why["cpython-3.11.2"].why == "an older 3.11 than cpython-3.11"
    assert why["cpython-3.13t-gil"].why == "cpython-3.13t with the GIL forced on: only when named"
    assert why["cpython-3.14-jit"].why == "the JIT column of cpython-3.14"
    assert why["pypy3.11"].why == "the newest PyPy, for Python 3.11"
    assert why["pypy3.9"].why == ("an older Python version than pypy3.11: PyPy maintains one Python 3 version at a "
                                  "time (PyPy v7.3.17's release notes)")
    assert not any(choice.selected for i, choice in why.items() if not by_id(found)[i].measurable)


def test_end_of_life_months():
    assert past_end_of_life("3.10", TODAY) == "2026-10"
    assert past_end_of_life("3.11", TODAY) is None
    assert past_end_of_life("3.16", TODAY) is None  # newer than the table: supported
    assert past_end_of_life("3.8", TODAY) == "before 2025-10"


def test_the_twin_of_a_free_threaded_build_is_taken_even_when_not_newest(found):
    linked = [replace(i, twin="cpython-3.11.2") if i.id == "cpython-3.13t" else i for i in found]
    assert "cpython-3.11.2" not in ids(default_selection(found, TODAY))
    assert "cpython-3.11.2" in ids(default_selection(linked, TODAY))
    assert choices(linked, TODAY)["cpython-3.11.2"].why == "the same-source GIL twin of cpython-3.13t"


def test_a_jit_column_follows_its_build(found):
    older = [replace(i, version="3.14.9") if i.id == "cpython-3.14" else i for i in found]
    newer = replace(by_id(found)["cpython-3.14"], id="cpython-3.14.11", version="3.14.11", executable="/x/python3.14")
    why = choices([*older, newer], TODAY)
    assert not why["cpython-3.14"].selected and not why["cpython-3.14-jit"].selected
    assert why["cpython-3.14-jit"].why == "the JIT column of cpython-3.14, which is not taken"


def test_select_default_all_and_named(found):
    assert select(found, None) == default_selection(found)
    everything = select(found, "all")
    # Every interpreter found, the self-timed ones (older than 3.9) too.
    assert ids(everything) == [i.id for i in found if i.supported or i.self_timed]
    assert "cpython-3.13t-gil" in ids(everything) and "cpython-2.7" in ids(everything)
    assert ids(select(found, " pypy3.9, cpython-3.14-jit,cpython-3.13t-gil ")) == [
        "cpython-3.13t-gil", "cpython-3.14-jit", "pypy3.9"]


def test_select_refuses_unknown_and_too_old(found):
    with pytest.raises(ValueError) as error:
        select(found, "cpython-3.12,cpython-3.99")
    assert "cpython-3.99" in str(error.value) and "cpython-3.14-jit" in str(error.value)
    assert "nox -s interpreters" in str(error.value)
    ancient = replace(by_id(found)["cpython-3.6"], id="cpython-3.3", version="3.3.7", self_timed=False)
    with pytest.raises(ValueError, match=r"3\.9\+, the self-timing runner 2\.7 or 3\.4\+"):
        select([*found, ancient], "cpython-3.11,cpython-3.3")
    assert ids(select(found, "cpython-3.11,cpython-2.7")) == ["cpython-2.7", "cpython-3.11"]


def test_table_says_why(found):
    headers, rows = interpreters_table(found, TODAY)
    table = {row[0]: dict(zip(headers, row)) for row in rows}
    assert table["cpython-3.14-jit"]["environment"] == "PYTHON_JIT=1"
    assert table["cpython-3.14-jit"]["selected by default"] == "yes: the JIT column of cpython-3.14"
    assert table["cpython-3.10"]["selected by default"] == "no: Python 3.10 is past its end of life (2026-10)"
    assert table["pypy3.11"]["version"] == "3.11.17 (PyPy 8.0.1)"


def test_the_baseline_is_the_newest_cpython_without_jit(found):
    found = by_id(found)
    measured = {"countdown/serial@1": object()}
    columns = [model.Column(found[i], measured, {}) for i in ("cpython-3.14", "cpython-3.15-jit", "cpython-3.15",
                                                              "cpython-3.13t-gil")]
    assert model.choose_baseline(columns, None, None)[0] == "cpython-3.15"


def test_discovery_on_this_machine_probes_the_switches():
    """The real thing: every JIT column discovery makes here is a binary whose JIT the probe saw turn on."""
    jits = [i for i in discovery.discover() if i.variant_of and i.is_jit]
    if not jits:
        pytest.skip("no CPython with a switchable JIT on this machine (`nox -s provision -- --only debian-sid`)")
    for jit in jits:
        answer = discovery.probe(Path(jit.executable), env={"PYTHON_JIT": "1", "PATH": "/usr/bin:/bin"})
        assert answer is not None and answer["jit"] == "enabled"


def test_the_same_release_found_twice_is_taken_once(found):
    """Debian 12's PyPy in a private root and the same package installed in /usr: the root keeps the short id."""
    answers = [(d["probe"], d["origin"]) for d in _read("probes")]
    system = next(answer for answer, origin in answers if answer["implementation"] == "pypy" and origin == "system")
    root = {**system, "realpath": "/cache/interpreters/pypy3-7.3.11/bin/pypy3.9"}
    named = by_id(assign_ids([*answers, (root, "provisioned")]))
    assert named["pypy3.9"].origin == "provisioned"
    why = choices(list(named.values()), TODAY)
    assert why["pypy3.9"].why.startswith("an older Python version than pypy3.11")
    assert why["pypy3.9-7.3.11-system"].why == (
        "the same PyPy for Python 3.9 as pypy3.9 (provisioned), found as well in system")


def test_a_machine_with_only_an_older_pypy_still_gets_a_pypy_column(found):
    """Debian 12's PyPy is for Python 3.9: where no newer PyPy was found (provisioning skipped), it is the newest."""
    without_311 = [i for i in found if not (i.implementation == "pypy" and i.minor == "3.11")]
    why = choices(without_311, TODAY)
    assert why["pypy3.9"] == Choice(True, "the newest PyPy, for Python 3.9")
    assert "pypy3.9" in ids(default_selection(without_311, TODAY))
