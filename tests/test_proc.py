"""The one time-limited runner, on real processes: what it captures, and that a time-out leaves nothing running."""

from __future__ import annotations

import shlex
import subprocess
import sys
import time
from pathlib import Path

import pytest

from interpmatrix.proc import Tail, Watched, kill_group, run_with_timeout, watch_group

pytestmark = pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads process groups from /proc")


def live_members(pgid: int) -> list[int]:
    """Pids of the group's processes that still run. Zombies are left out: they are dead, and reaping an orphan
    is up to PID 1, which in some containers never does it."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:  # exited while we looked
            continue
        # "pid (comm) state ppid pgrp ...": comm may hold spaces and parentheses, so split after its last ")".
        state, _ppid, pgrp = stat.rsplit(")", 1)[1].split()[:3]
        if int(pgrp) == pgid and state != "Z":
            found.append(int(entry.name))
    return found


def test_a_normal_exit_gives_its_output_and_status() -> None:
    script = "import sys; print('out'); print('err', file=sys.stderr); sys.exit(3)"
    result = run_with_timeout([sys.executable, "-c", script], timeout=10)
    assert (result.returncode, result.stdout, result.stderr, result.timed_out) == (3, "out\n", "err\n", False)


def test_stderr_can_join_stdout_and_undecodable_bytes_do_not_raise() -> None:
    script = "import sys; sys.stdout.buffer.write(b'a\\xff\\n'); sys.stdout.flush(); print('b', file=sys.stderr)"
    result = run_with_timeout([sys.executable, "-c", script], timeout=10, stderr=subprocess.STDOUT)
    assert result.stdout.startswith("a") and "b\n" in result.stdout and result.stderr == ""


def test_a_missing_executable_raises_oserror(tmp_path: Path) -> None:
    with pytest.raises(OSError):
        run_with_timeout([tmp_path / "nothing-here"], timeout=1)


def test_a_child_past_its_limit_is_killed_soon() -> None:
    started = time.monotonic()
    result = run_with_timeout([sys.executable, "-c", "print('started', flush=True); import time; time.sleep(30)"],
                              timeout=1)
    assert result.timed_out and result.returncode == -9
    assert result.stdout == "started\n"  # what it printed before the kill is kept
    assert time.monotonic() - started < 5


def test_a_time_out_kills_the_grandchildren_too() -> None:
    # The shell's own child: the case provisioning's old kill of the top process missed (make -j's compilers).
    started = time.monotonic()
    result = run_with_timeout(["sh", "-c", "sleep 30 & echo $$; sleep 30"], timeout=1)
    assert result.timed_out and time.monotonic() - started < 5
    pgid = int(result.stdout.split()[0])  # the shell leads its own group: run_with_timeout gives it a session
    deadline = time.monotonic() + 2  # SIGKILL is asynchronous: give the kernel a moment
    while live_members(pgid) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert live_members(pgid) == []


def test_a_grandchild_holding_the_pipe_does_not_hold_the_caller() -> None:
    # The shell exits at once, but its background sleep keeps stdout open: without the group kill this waits 30 s.
    started = time.monotonic()
    result = run_with_timeout(["sh", "-c", "sleep 30 & echo started"], timeout=1)
    assert result.timed_out and result.stdout == "started\n"
    assert time.monotonic() - started < 5


def test_progress_is_reported_while_it_runs() -> None:
    ticks: list[float] = []
    result = run_with_timeout([sys.executable, "-c", "import time; time.sleep(1)"], timeout=10,
                              progress=ticks.append, progress_every=0.2)
    assert not result.timed_out and result.returncode == 0
    assert len(ticks) >= 2 and ticks == sorted(ticks) and all(0 < tick < 5 for tick in ticks)


def test_an_interruption_kills_the_group_before_it_propagates(tmp_path: Path) -> None:
    # A Ctrl-C reaches only the terminal's foreground group, never a child in its own session; an exception from
    # progress takes the same way out of the wait as a KeyboardInterrupt does.
    pid_file = tmp_path / "pid"
    groups: list[int] = []

    def interrupt(elapsed: float) -> None:
        if pid_file.exists() and pid_file.read_text().strip():
            groups.append(int(pid_file.read_text()))
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        command = f"sleep 30 & echo $$ > {shlex.quote(str(pid_file))}; sleep 30"
        run_with_timeout(["sh", "-c", command], timeout=10, progress=interrupt, progress_every=0.1)
    (pgid,) = groups
    deadline = time.monotonic() + 2
    while live_members(pgid) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert live_members(pgid) == []


def test_kill_group_reaps_a_process_read_by_another() -> None:
    process = subprocess.Popen(["sh", "-c", "sleep 30 & sleep 30"], stdout=subprocess.PIPE, start_new_session=True)
    deadline = time.monotonic() + 2
    while len(live_members(process.pid)) < 3 and time.monotonic() < deadline:  # the shell and both sleeps
        time.sleep(0.05)
    kill_group(process)
    assert process.returncode == -9
    process.stdout.close()
    deadline = time.monotonic() + 2
    while live_members(process.pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert live_members(process.pid) == []


def test_a_tail_keeps_the_last_characters_and_no_more() -> None:
    tail = Tail(limit=10)
    for piece in ("abc\n", "defgh\n", "0123456789abcdef"):
        tail.add(piece)
    assert (tail.text(), len(tail)) == ("6789abcdef", 10)
    tail.add("xy")
    assert (tail.text(), len(tail)) == ("89abcdefxy", 12)


def test_watch_group_hands_on_the_output_and_kills_the_group_when_asked() -> None:
    process = subprocess.Popen(["sh", "-c", "echo started; sleep 30 & echo $!; sleep 30"], stdout=subprocess.PIPE,
                               start_new_session=True)
    chunks: list[bytes] = []
    started = time.monotonic()
    watched = watch_group(process, chunks.append, lambda: "enough" if b"".join(chunks).count(b"\n") == 2 else None)
    assert watched == Watched(-9, "enough", holder=None)
    assert time.monotonic() - started < 5
    assert b"".join(chunks).startswith(b"started\n")
    assert process.stdout.closed
    deadline = time.monotonic() + 2
    while live_members(process.pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert live_members(process.pid) == []  # the background sleep went with the group
