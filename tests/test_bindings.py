"""The compiled bindings, built for real on every interpreter the matrix takes, checked against their pure twins.

For each interpreter a venv is made in a temporary folder and ``bindings/build.py`` runs in it, as ``nox -s matrix``
does (once per test session: the module-scoped ``builds`` fixture keeps them). Then, inside that interpreter, every
variant that uses a binding must give its pure twin's answer on edge cases and random sizes; a binding that did not
build must say why. The fallback of ``compiled`` and the harness's ``unavailable`` exit are tested on the interpreter
running the tests, with hand-written ``bindings.json`` files.

These need a compiler and the package index (pip installs Cython, cffi, setuptools): ``-m "not bindings"`` skips
them.
"""

from __future__ import annotations

import importlib.util
import inspect
import json
import subprocess
import sys
import uuid
from dataclasses import dataclass
from pathlib import Path

import pyperf
import pytest

from interpmatrix import discovery, selection
from interpmatrix.cli import BENCH_REQUIREMENTS
from interpmatrix.registry import REPO_ROOT, WORKLOADS_DIR

pytestmark = pytest.mark.bindings

BINDINGS_SRC = REPO_ROOT / "bindings"
BUILD = BINDINGS_SRC / "build.py"
SOURCES = {"build.py", "c_reference.c", "cffi_build.py", "cy_kernels.pyx", "kernels.c", "kernels.h"}
# One per binary: a JIT's column is the same binary, run with PYTHON_JIT=1.
# The pyperf columns: a self-timed one (CPython 2.7) runs the portable kernels only (tests/test_selftimed.py).
INTERPRETERS = [i for i in selection.default_selection(discovery.discover()) if not i.variant_of and i.supported]
SEED = 20261121

# Run inside the interpreter under test: every variant that uses a binding against the pure reference of its workload.
CHECK = r"""
import json, random, sys, sysconfig
workloads_dir, bindings_dir, seed = sys.argv[1], sys.argv[2], int(sys.argv[3])
sys.path.insert(0, workloads_dir)
import _bindings, countdown, primes

_bindings.BINDINGS_DIR = bindings_dir
rng = random.Random(seed)
SIZES = {
    "primes": [0, 1, 2, -3, 999, 1000, 1500] + [rng.randint(3, 998) for _ in range(3)],
    "countdown": [0, 1, -5] + [rng.randint(2, 200000) for _ in range(3)],
}
REFERENCE = {"primes": "pure", "countdown": "serial"}
report = {"checked": [], "unavailable": {}, "wrong": [], "used": {}}
for module in (primes, countdown):
    workload = module.__name__
    expected = {size: module.VARIANTS[REFERENCE[workload]](size, 1) for size in SIZES[workload]}
    for name, kernel in module.VARIANTS.items():
        if getattr(kernel, "binding", None) is None:
            continue
        try:
            report["used"][workload + "/" + name] = _bindings.resolve(kernel)
        except _bindings.BindingUnavailable as error:
            report["unavailable"][workload + "/" + name] = error.reason
            continue
        for size, answer in expected.items():
            for workers in (1, 2, 4):
                got = kernel(size, workers)
                if got != answer:
                    report["wrong"].append([workload, name, size, workers, repr(got)[:200], repr(answer)[:200]])
        report["checked"].append(workload + "/" + name)
is_gil_enabled = getattr(sys, "_is_gil_enabled", None)
report["free_threaded"] = bool(sysconfig.get_config_var("Py_GIL_DISABLED"))
report["gil_enabled"] = True if is_gil_enabled is None else is_gil_enabled()
report["compiled_order"] = list(_bindings.compiled_order())
print(json.dumps(report))
"""


@dataclass(frozen=True)
class Build:
    interpreter: discovery.Interpreter
    python: Path
    out: Path
    result: subprocess.CompletedProcess[str]

    @property
    def manifest(self) -> dict:
        return json.loads((self.out / "bindings.json").read_text())


def run(*command: object, timeout: float = 600, **kwargs) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(part) for part in command], capture_output=True, text=True, timeout=timeout, **kwargs)


@pytest.fixture(scope="module")
def builds(tmp_path_factory: pytest.TempPathFactory):
    """``build(interpreter)``: a venv with pyperf and the bindings built by build.py, made once per test session."""
    done: dict[str, Build] = {}

    def build(interpreter: discovery.Interpreter) -> Build:
        if interpreter.id not in done:
            root = tmp_path_factory.mktemp(interpreter.id)
            venv = root / "venv"
            made = run(interpreter.executable, "-m", "venv", venv)
            assert made.returncode == 0, made.stderr
            python = venv / "bin" / "python"
            installed = run(python, "-m", "pip", "install", "-q", "--disable-pip-version-check", *BENCH_REQUIREMENTS)
            assert installed.returncode == 0, installed.stderr
            result = run(python, BUILD, "--out", root / "bindings", timeout=1200)
            done[interpreter.id] = Build(interpreter, python, root / "bindings", result)
        return done[interpreter.id]

    return build


each_interpreter = pytest.mark.parametrize("interpreter", INTERPRETERS, ids=lambda interpreter: interpreter.id)


@each_interpreter
def test_build_records_every_binding_and_writes_nothing_into_the_sources(builds, interpreter) -> None:
    build = builds(interpreter)
    assert build.result.returncode == 0, build.result.stdout + build.result.stderr
    manifest = build.manifest
    assert set(manifest) == {"cython", "cffi", "c", "shedskin"}
    for record in manifest.values():
        assert (build.out / record["log"]).is_file()
        if record["ok"]:
            assert record.get("module") or record.get("executable"), record
        else:
            assert record["reason"].strip() and "\n" not in record["reason"], record
    # The C reference needs only a compiler; and every interpreter has at least one compiled binding for `compiled`.
    assert manifest["c"]["ok"], manifest["c"]
    assert manifest["cython"]["ok"] or manifest["cffi"]["ok"], manifest
    assert {path.name for path in BINDINGS_SRC.iterdir()} - {"__pycache__"} == SOURCES


@each_interpreter
def test_bindings_agree_with_their_pure_twins(builds, interpreter) -> None:
    build = builds(interpreter)
    checked = run(build.python, "-B", "-c", CHECK, WORKLOADS_DIR, build.out, SEED)
    assert checked.returncode == 0, checked.stderr
    report = json.loads(checked.stdout)
    assert report["wrong"] == []
    manifest = build.manifest
    for variant, reason in report["unavailable"].items():
        # Only a binding that failed to build may be missing, and it says why (the build's own reason).
        assert reason, variant
        assert any(not record["ok"] and record["reason"] in reason for record in manifest.values()), (variant, reason)
    built = {name for name, record in manifest.items() if record["ok"]}
    for variant, binding in report["used"].items():
        assert binding in built, variant
    assert report["used"]["primes/compiled"] == next(name for name in report["compiled_order"] if name in built)
    if report["free_threaded"]:
        # The Cython module declares free-threading support: importing it must leave the GIL off.
        assert report["gil_enabled"] is False


@each_interpreter
def test_harness_times_a_compiled_variant_and_records_its_binding(builds, interpreter, tmp_path) -> None:
    build = builds(interpreter)
    for variant in ("compiled", "c"):
        output = tmp_path / f"{variant}.json"
        result = run(
            build.python, WORKLOADS_DIR / "primes.py", "--cell", f"primes/{variant}@50",
            "--bindings", build.out, "-p", "1", "-n", "1", "-w", "0", "-l", "1", "-q", "-o", output,
            cwd=WORKLOADS_DIR,
        )  # fmt: skip
        assert result.returncode == 0, result.stderr
        assert events(result.stderr) == [("start", f"primes/{variant}@50"), ("done", f"primes/{variant}@50")]
        runs = [run_ for run_ in pyperf.Benchmark.load(str(output)).get_runs() if run_.values]
        assert runs and all(value > 0 for run_ in runs for value in run_.values)
        bindings_used = {run_.get_metadata()["interpmatrix_binding"] for run_ in runs}
        if variant == "compiled":
            assert bindings_used <= {"cython", "cffi"} and len(bindings_used) == 1
            if interpreter.implementation == "pypy":
                assert bindings_used == {"cffi"}  # Cython on PyPy would measure cpyext
        else:
            assert bindings_used == {"c"}


# --- fallback and unavailability, with hand-written bindings.json files on the interpreter running the tests ---


@pytest.fixture
def bindings_module(monkeypatch: pytest.MonkeyPatch):
    """A fresh ``workloads/_bindings`` (its caches are per process) with sys.path restored afterwards."""
    monkeypatch.setattr(sys, "path", [str(WORKLOADS_DIR), *sys.path])
    monkeypatch.delitem(sys.modules, "_bindings", raising=False)
    import _bindings

    yield _bindings
    sys.modules.pop("_bindings", None)


def write_bindings(directory: Path, **records: dict) -> Path:
    """A bindings.json as build.py writes it; a binding marked ``ok`` gets a real (tiny) module under a fresh name."""
    directory.mkdir(parents=True, exist_ok=True)
    manifest = {}
    for name, record in records.items():
        record = dict(record)
        if record["ok"] and name != "c":
            module = f"handwritten_{name}_{uuid.uuid4().hex}"
            (directory / f"{module}.py").write_text(f"BINDING = {name!r}\n")
            record["module"] = module
        manifest[name] = record
    (directory / "bindings.json").write_text(json.dumps(manifest))
    return directory


CYTHON_FAILED = {"ok": False, "reason": "the cython build failed: cy_kernels.c:1:1: error: something"}
CFFI_FAILED = {"ok": False, "reason": "pip install cffi failed: CFFI does not support the free-threaded build"}
SHEDSKIN_FAILED = {"ok": False, "reason": "pip install shedskin==0.9.14 failed: ERROR: No matching distribution found"}


def test_compiled_falls_back_to_cffi_when_cython_is_missing(bindings_module, tmp_path) -> None:
    directory = write_bindings(tmp_path, cython=CYTHON_FAILED, cffi={"ok": True}, c={"ok": False, "reason": "no cc"})
    assert bindings_module.choose_compiled(str(directory)) == "cffi"
    assert bindings_module.load(str(directory), "cffi").BINDING == "cffi"
    with pytest.raises(bindings_module.BindingUnavailable, match="cy_kernels.c:1:1: error: something"):
        bindings_module.load(str(directory), "cython")


def test_compiled_prefers_the_interpreters_best_binding(bindings_module, tmp_path) -> None:
    directory = write_bindings(tmp_path, cython={"ok": True}, cffi={"ok": True})
    assert bindings_module.choose_compiled(str(directory)) == bindings_module.compiled_order()[0]
    best_first = ("cffi", "cython") if sys.implementation.name == "pypy" else ("cython", "cffi")
    assert bindings_module.compiled_order() == best_first


def test_compiled_never_takes_shedskin(bindings_module, tmp_path) -> None:
    """Shed Skin has its own row: `compiled` stays Cython or cffi even where only Shed Skin built."""
    directory = write_bindings(tmp_path, cython=CYTHON_FAILED, cffi=CFFI_FAILED, shedskin={"ok": True})
    assert "shedskin" not in bindings_module.compiled_order()
    with pytest.raises(bindings_module.BindingUnavailable, match="neither Cython nor cffi is available"):
        bindings_module.choose_compiled(str(directory))


def test_compiled_is_unavailable_when_both_are_and_says_both_reasons(bindings_module, tmp_path) -> None:
    directory = write_bindings(tmp_path, cython=CYTHON_FAILED, cffi=CFFI_FAILED)
    with pytest.raises(bindings_module.BindingUnavailable) as raised:
        bindings_module.choose_compiled(str(directory))
    assert raised.value.reason.startswith("neither Cython nor cffi is available")
    assert CYTHON_FAILED["reason"] in raised.value.reason and CFFI_FAILED["reason"] in raised.value.reason


def test_no_bindings_folder_says_how_to_get_one(bindings_module, tmp_path) -> None:
    for directory in (None, str(tmp_path / "absent")):
        with pytest.raises(bindings_module.BindingUnavailable, match="run through `nox -s matrix`"):
            bindings_module.load(directory, "cython")


@pytest.mark.parametrize(
    ("variant", "records", "reason"),
    [
        ("cython", {"cython": CYTHON_FAILED}, CYTHON_FAILED["reason"]),
        ("cffi_threads", {"cffi": CFFI_FAILED}, CFFI_FAILED["reason"]),
        ("shedskin", {"shedskin": SHEDSKIN_FAILED}, SHEDSKIN_FAILED["reason"]),
        ("compiled", {"cython": CYTHON_FAILED, "cffi": CFFI_FAILED}, "neither Cython nor cffi is available"),
        ("c", {"c": {"ok": False, "reason": "cc failed: no compiler"}}, "cc failed: no compiler"),
        ("cython", None, "no bindings were built for this interpreter: run through `nox -s matrix`"),
    ],
)
def test_harness_reports_unavailable_before_timing(tmp_path, variant, records, reason) -> None:
    command = [sys.executable, WORKLOADS_DIR / "primes.py", "--cell", f"primes/{variant}@10", "--cell", "primes/pure@10"]
    command += ["-p", "1", "-n", "1", "-w", "0", "-l", "1", "--append", tmp_path / "out.json"]
    if records is not None:
        command += ["--bindings", write_bindings(tmp_path / "bindings", **records)]
    result = run(*command, cwd=WORKLOADS_DIR, timeout=120)
    assert result.returncode == 0, result.stderr
    failed = [event for event in parsed_events(result.stderr) if event["event"] == "failed"]
    assert failed == [{"cell": f"primes/{variant}@10", "event": "failed", "kind": "unavailable", "reason": failed[0]["reason"]}]
    assert reason in failed[0]["reason"]
    # Nothing of the unavailable cell was timed; the next cell of the batch was.
    assert pyperf.BenchmarkSuite.load(str(tmp_path / "out.json")).get_benchmark_names() == ["primes/pure@10"]


def parsed_events(stderr: str) -> list[dict]:
    prefix = "interpmatrix-cell "
    return [json.loads(line[len(prefix) :]) for line in stderr.splitlines() if line.startswith(prefix)]


def events(stderr: str) -> list[tuple[str, str]]:
    return [(event["event"], event["cell"]) for event in parsed_events(stderr)]


def test_shedskin_compiles_the_portable_primes_itself(tmp_path) -> None:
    """One copy of the kernel: the module Shed Skin is given is _portable.primes' own source, and it runs as Python."""
    spec = importlib.util.spec_from_file_location("bindings_build", BUILD)
    build = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(build)
    source = build.shedskin_source()
    sys.path.insert(0, str(WORKLOADS_DIR))
    import _portable

    assert source.startswith(inspect.getsource(_portable.primes))
    namespace: dict = {"__name__": "__main__"}
    exec(compile(source, "ss_kernels.py", "exec"), namespace)
    # The first ten primes, written out here: the module computes them itself.
    assert namespace["primes"](10) == [2, 3, 5, 7, 11, 13, 17, 19, 23, 29]
