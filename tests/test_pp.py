"""ParallelPython's variants of pools, for real: no mock, real processes and sockets.

The loopback ppserver ``pp_server`` starts must listen on 127.0.0.1 only and leave nothing behind once the call
returns: no process (the server, its workers) and no listening socket, read from ``/proc`` before, during and after.
Every pp variant must give the serial reference's answer through the harness, on every interpreter the matrix takes,
in a venv where pp is installed the way the bench session installs it (``workloads/_packages.py``); where pip cannot
install it, the cell must say why, before anything is timed.

These need the package index (pip installs pyperf and pp into each venv).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pyperf
import pytest

from interpmatrix import discovery, selection
from interpmatrix.cli import BENCH_REQUIREMENTS
from interpmatrix.registry import WORKLOADS_DIR, find_workload

# One per binary (a JIT's column is the same binary, run with PYTHON_JIT=1); the pyperf columns only, which run pools.
INTERPRETERS = [i for i in selection.default_selection(discovery.discover()) if not i.variant_of and i.supported]
POOLS = find_workload("pools")
SCALE = 6  # numbers near 1e8: a few ms per pass

# Run inside a venv with pp: the server of a real call, watched through /proc.
WATCH = r"""
import json, os, sys, time
sys.path.insert(0, sys.argv[1])
import pools

def listening(port=None):
    # LISTEN sockets (state 0A) of the machine, as (table, hex address, port).
    found = []
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with open(table) as lines:
            next(lines)
            for line in lines:
                local, state = line.split()[1], line.split()[3]
                address, _, hexport = local.rpartition(":")
                if state == "0A" and (port is None or int(hexport, 16) == port):
                    found.append([table, address, int(hexport, 16)])
    return found

def descendants(pid):
    children = []
    for task in os.listdir("/proc/%d/task" % pid):
        try:
            with open("/proc/%d/task/%s/children" % (pid, task)) as listed:
                children += [int(child) for child in listed.read().split()]
        except OSError:
            pass
    return [found for child in children for found in [child] + descendants(child)]

def alive(pids):
    # Allow the init process a moment to reap an orphan: that is not a process left running.
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and any(os.path.exists("/proc/%d" % pid) for pid in pids):
        time.sleep(0.05)
    return [pid for pid in pids if os.path.exists("/proc/%d" % pid)]

report = {}
with pools.loopback_ppserver(2) as (address, secret):
    report["address"] = address
    port = int(address.rsplit(":", 1)[1])
    report["during"] = listening(port)
    tree = descendants(os.getpid())
    report["processes"] = len(tree)
    report["secret_in_a_command_line"] = any(
        secret.encode() in open("/proc/%d/cmdline" % pid, "rb").read() for pid in tree)
report["after"] = listening(port)
report["left_running"] = alive(tree) + descendants(os.getpid())
# The variant itself, its server's port noted on the way (the real function, called through).
ports = []
def noted(server, listening_port=pools._listening_port):
    ports.append(listening_port(server))
    return ports[-1]
pools._listening_port = noted
answer, expected = pools.pp_server(6, 2), pools.serial(6, 1)
report["agrees"] = answer == expected
report["after_a_call"] = [found for port in ports for found in listening(port)]
report["left_after_a_call"] = descendants(os.getpid())
report["ports_noted"] = len(ports)
print(json.dumps(report))
"""


def run(*command: object, timeout: float = 600, **kwargs) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(part) for part in command], capture_output=True, text=True, timeout=timeout, **kwargs)


def events(result: subprocess.CompletedProcess[str]) -> list[dict]:
    """The harness's progress events (workloads/_harness.py EVENT_PREFIX)."""
    prefix = "interpmatrix-cell "
    return [json.loads(line[len(prefix) :]) for line in result.stderr.splitlines() if line.startswith(prefix)]


@pytest.fixture(scope="module")
def venvs(tmp_path_factory: pytest.TempPathFactory):
    """``venv(interpreter)``: (its python, its packages folder), with pyperf, and pp installed as the bench session
    installs the registry's requirements (packages.json says what was installed, or pip's reason)."""
    done: dict[str, tuple[Path, Path]] = {}

    def venv(executable: str) -> tuple[Path, Path]:
        if executable not in done:
            root = tmp_path_factory.mktemp("pp")
            made = run(executable, "-m", "venv", root / "venv")
            assert made.returncode == 0, made.stderr
            python = root / "venv" / "bin" / "python"
            installed = run(python, "-m", "pip", "install", "-q", "--disable-pip-version-check", *BENCH_REQUIREMENTS)
            assert installed.returncode == 0, installed.stderr
            packages = run(python, WORKLOADS_DIR / "_packages.py", "--out", root / "packages", *POOLS.requirements)
            assert packages.returncode == 0, packages.stdout + packages.stderr
            done[executable] = (python, root / "packages")
        return done[executable]

    return venv


def test_the_server_listens_on_loopback_only_and_leaves_nothing_behind(venvs) -> None:
    python, packages = venvs(sys.executable)
    assert json.loads((packages / "packages.json").read_text())[POOLS.requirements[0]]["ok"]
    watched = run(python, "-c", WATCH, WORKLOADS_DIR, cwd=WORKLOADS_DIR, timeout=120)
    assert watched.returncode == 0, watched.stderr
    report = json.loads(watched.stdout.strip().splitlines()[-1])
    port = int(report["address"].rsplit(":", 1)[1])
    assert report["address"].startswith("127.0.0.1:")
    # One listening socket on its port, in the IPv4 table, bound to 127.0.0.1 (0100007F in /proc's byte order).
    assert report["during"] == [["/proc/net/tcp", "0100007F", port]]
    assert report["processes"] == 3  # the server and its two workers
    assert not report["secret_in_a_command_line"]
    assert report["after"] == [] and report["left_running"] == []
    # The whole variant too: the right answer, and no new listening socket or process once it returned.
    assert report["agrees"]
    assert report["after_a_call"] == [] and report["left_after_a_call"] == []
    assert report["ports_noted"] == 1


@pytest.mark.parametrize("interpreter", INTERPRETERS, ids=lambda interpreter: interpreter.id)
def test_pp_variants_agree_with_serial_or_say_why_not(venvs, interpreter, tmp_path) -> None:
    python, packages = venvs(interpreter.executable)
    cells = [f"pools/{variant}-{workers}@{SCALE}" for variant in ("pp_local", "pp_server") for workers in (2,)]
    command = [python, WORKLOADS_DIR / "pools.py", *(arg for cell in cells for arg in ("--cell", cell))]
    result = run(*command, "--bindings", packages, "-p", "1", "-n", "1", "-w", "0", "-l", "1", "-q",
                 "--append", tmp_path / "out.json", cwd=WORKLOADS_DIR, timeout=300)
    assert result.returncode == 0, result.stderr
    record = json.loads((packages / "packages.json").read_text())[POOLS.requirements[0]]
    if record["ok"]:
        # The harness checked each answer against serial's before timing it.
        assert [(event["event"], event["cell"]) for event in events(result) if event["event"] != "start"] == [
            ("done", cell) for cell in cells]
        assert pyperf.BenchmarkSuite.load(str(tmp_path / "out.json")).get_benchmark_names() == cells
    else:
        assert not (tmp_path / "out.json").exists()  # nothing timed
        # pp 1.7 needs Python 3.10: on 3.9 every pp cell is unavailable, in pip's words.
        failed = [event for event in events(result) if event["event"] == "failed"]
        assert [event["cell"] for event in failed] == cells
        assert all(event["kind"] == "unavailable" and event["reason"] == record["reason"] for event in failed)


def test_a_cell_says_why_pp_could_not_be_installed(tmp_path) -> None:
    """Before anything is checked or timed, with pip's reason as packages.json recorded it."""
    reason = "pip install pp==1.7.0 failed: No matching distribution found for pp==1.7.0"
    (tmp_path / "packages.json").write_text(json.dumps({POOLS.requirements[0]: {"ok": False, "reason": reason}}))
    result = run(sys.executable, WORKLOADS_DIR / "pools.py", "--cell", f"pools/pp_server-2@{SCALE}",
                 "--cell", f"pools/serial@{SCALE}", "--bindings", tmp_path, "-p", "1", "-n", "1", "-w", "0", "-l", "1",
                 "--append", tmp_path / "out.json", cwd=WORKLOADS_DIR, timeout=120)
    assert result.returncode == 0, result.stderr
    failed = [event for event in events(result) if event["event"] == "failed"]
    assert failed == [{"cell": f"pools/pp_server-2@{SCALE}", "event": "failed", "kind": "unavailable", "reason": reason}]
    assert pyperf.BenchmarkSuite.load(str(tmp_path / "out.json")).get_benchmark_names() == [f"pools/serial@{SCALE}"]
