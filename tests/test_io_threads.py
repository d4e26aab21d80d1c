"""workloads/io_threads.py: its server listens on loopback only, its variants agree, and its calls leave nothing behind.

No timings here: this machine's scheduling decides them. The matrix measures them.
"""

from __future__ import annotations

import fcntl
import heapq
import importlib
import multiprocessing
import os
import socket
import struct
import sys
import threading
import types
from pathlib import Path

import pytest

from interpmatrix.registry import WORKLOADS_DIR

WORKER_COUNTS = (1, 4, 16)

# ioctl(SIOCGIFADDR) from <linux/sockios.h>: an interface's IPv4 address, read locally (no DNS, no traffic).
SIOCGIFADDR = 0x8915


@pytest.fixture
def io_threads(monkeypatch: pytest.MonkeyPatch):
    """The workload's module; the servers a test's calls started end with the test (a test starts without one)."""
    monkeypatch.syspath_prepend(str(WORKLOADS_DIR))
    module = importlib.import_module("io_threads")
    yield module
    module.stop_servers()


def _non_loopback_addresses() -> list[str]:
    """This machine's IPv4 addresses outside 127.0.0.0/8, from its interfaces."""
    addresses = []
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        for _, name in socket.if_nameindex():
            request = struct.pack("256s", name.encode()[:15])
            try:
                reply = fcntl.ioctl(probe.fileno(), SIOCGIFADDR, request)
            except OSError:  # no IPv4 address on this interface
                continue
            address = socket.inet_ntoa(reply[20:24])
            if not address.startswith("127."):
                addresses.append(address)
    return addresses


def test_server_listens_on_loopback_only(io_threads) -> None:
    with io_threads.DelayServer(1) as server:
        host, port = server.socket.getsockname()
        assert host == "127.0.0.1"
        assert port == server.port != 0
        for address in _non_loopback_addresses():
            # Nothing else can listen on 0.0.0.0 at this port (our bind would have failed), so a refusal is certain.
            with pytest.raises(ConnectionRefusedError):
                socket.create_connection((address, port), timeout=5).close()
        # And it does serve on loopback.
        assert io_threads._client(server.port, 3) == [b"3:0\n", b"3:1\n"]


@pytest.mark.parametrize("variant", ["serial", "threads", "asyncio"])
def test_every_variant_gives_the_references_answer(io_threads, variant) -> None:
    for size in io_threads.SMALL_SIZES:
        # The harness compares a variant at N clients with the reference at one.
        expected = io_threads.VARIANTS["serial"](size, 1)
        assert expected == (io_threads.REQUESTS, [])
        for workers in WORKER_COUNTS:
            assert io_threads.VARIANTS[variant](size, workers) == expected, (workers, size)


def test_variant_names(io_threads) -> None:
    assert list(io_threads.VARIANTS) == ["serial", "threads", "asyncio", "threads_memory", "asyncio_memory"]
    assert io_threads.SMALL_SIZES == (1,)


def test_a_missing_or_wrong_reply_changes_the_answer(io_threads) -> None:
    good = [[io_threads._line(client, r) for r in range(io_threads.REQUESTS)] for client in range(4)]
    assert io_threads._answer(4, good) == (io_threads.REQUESTS, [])
    assert io_threads._answer(4, good[:3])[1] == [(3, None)]
    swapped = good[:1] + [good[1][::-1]] + good[2:]
    assert io_threads._answer(4, swapped)[1] == [(1, good[1][::-1])]
    assert io_threads._answer(4, good[:2] + [None] + good[3:])[1] == [(2, None)]


def test_server_failure_is_raised_and_cleaned_up(io_threads, monkeypatch: pytest.MonkeyPatch) -> None:
    before = _leftovers()

    def broken(timers):
        raise RuntimeError("server broke")

    # The server thread fails at its first due reply: the client must see its connection closed, not hang, and
    # leaving the block must re-raise the failure and still close everything.
    monkeypatch.setattr(io_threads, "heapq", types.SimpleNamespace(heappush=heapq.heappush, heappop=broken))
    with pytest.raises(RuntimeError, match="server broke"):
        with io_threads.DelayServer(1) as server:
            with pytest.raises(OSError):
                io_threads._client(server.port, 0)
    assert _leftovers() == before


def _socket_links() -> list[str]:
    links = []
    for fd in os.listdir("/proc/self/fd"):
        try:
            target = os.readlink(f"/proc/self/fd/{fd}")
        except OSError:  # the fd listdir itself used, closed by now
            continue
        if target.startswith("socket:"):
            links.append(target)
    return sorted(links)


def _child_pids() -> list[int]:
    me = os.getpid()
    children = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:  # exited meanwhile
            continue
        # Field 4 (ppid) follows the command name, which is in parentheses and may hold spaces.
        if int(stat.rpartition(")")[2].split()[1]) == me:
            children.append(int(entry))
    return children


def _leftovers() -> dict:
    return {
        "threads": sorted(threading.enumerate(), key=id),
        "fds": len(os.listdir("/proc/self/fd")),
        "sockets": _socket_links(),
        "active_children": multiprocessing.active_children(),
        "child_pids": _child_pids(),
    }


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_the_first_call_starts_the_server_and_later_calls_leave_nothing_behind(io_threads) -> None:
    before = _leftovers()
    assert before["active_children"] == [] and before["child_pids"] == []
    io_threads.serial(1, 1)
    started = _leftovers()
    # One server, in a process of its own: no thread and no socket of it in this process (on a GIL build its thread
    # would wait for the clients' GIL to send a reply).
    assert len(started["child_pids"]) == 1 and started["child_pids"][0] != os.getpid()
    assert started["threads"] == before["threads"] and started["sockets"] == before["sockets"]
    for size in io_threads.SMALL_SIZES:
        for name, kernel in io_threads.VARIANTS.items():
            for workers in WORKER_COUNTS:
                kernel(size, workers)
                assert _leftovers() == started, (name, workers)
    io_threads.stop_servers()
    assert _leftovers() == before


def test_the_server_runs_on_the_interpreter_the_environment_names(io_threads, tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """The orchestrator names its own interpreter (interpmatrix.invocation.step_environ), the same for every column."""
    marker = tmp_path / "ran"
    peer = tmp_path / "peer-python"
    peer.write_text(f'#!/bin/sh\necho "$@" > {marker}\nexec {sys.executable} "$@"\n')
    peer.chmod(0o755)
    monkeypatch.setenv("INTERPMATRIX_PEER_PYTHON", str(peer))
    assert io_threads.asyncio_(1, 4) == (io_threads.REQUESTS, [])
    assert marker.read_text().split() == [str(Path(io_threads.__file__).resolve()), "--serve", "1"]


def test_a_server_that_cannot_start_fails_the_call_with_its_command(io_threads,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("INTERPMATRIX_PEER_PYTHON", "/bin/false")
    with pytest.raises(RuntimeError, match=r"the io_threads server \(/bin/false .* --serve 1\) exited with status 1 "
                                           "before it listened"):
        io_threads.serial(1, 1)
    assert io_threads._servers == {}
