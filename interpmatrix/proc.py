"""Run a child process with a time limit, and kill all of it when the limit passes.

A child runs in a session of its own, so its process group holds everything it starts: the workers of a pyperf
cell, the compilers of ``make -j``, the interpreter behind a pyenv shim. Killing only the direct child leaves those
running; they would hold the machine (or a pipe this side reads) long after the time-out was reported. So a time-out,
and a Ctrl-C while waiting, kill the whole group with SIGKILL. A ``kill -9`` of this process cannot be caught: a child
that must not outlive it is killed by the kernel instead (``dies_with_this_process``).

A child's output can be large (a workload printing 50 MB): ``watch_group`` hands it on as it comes, so a caller can
stream it to a file and keep only its end in memory (``Tail``), and it stops reading a pipe that a process outside
the group holds open, instead of waiting for an end-of-file that may never come.

Standard library only: nox's own Python runs provisioning and discovery with no venv of ours.
"""

from __future__ import annotations

import ctypes
import os
import selectors
import signal
import subprocess
import sys
import time
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

# After the kill, how long to wait for the pipes to close. Only a descendant that left the group (a daemon that
# called setsid) can hold them open longer; its output is not worth hanging for.
DRAIN_SECONDS = 5.0

# How much of a child's output is kept in memory: the end, where a failure's reason is (its last traceback, pyperf's
# last line). The whole goes to a log on disk.
KEEP_CHARS = 64 * 1024

# How much is read from a pipe at once.
CHUNK_BYTES = 64 * 1024

# prctl(2)'s option by which the kernel signals a process when its parent dies (Linux).
PR_SET_PDEATHSIG = 1


class Tail:
    """The last ``limit`` characters of text given a piece at a time; memory stays within twice that."""

    def __init__(self, limit: int = KEEP_CHARS) -> None:
        self.limit = limit
        self._pieces: deque[str] = deque()
        self._size = 0

    def add(self, text: str) -> None:
        self._pieces.append(text[-self.limit :])
        self._size += len(self._pieces[-1])
        while self._size - len(self._pieces[0]) >= self.limit:
            self._size -= len(self._pieces.popleft())

    def text(self) -> str:
        return "".join(self._pieces)[-self.limit :]

    def __len__(self) -> int:
        """Characters held now (at most twice ``limit``)."""
        return self._size


@dataclass(frozen=True)
class Completed:
    """How a child ended. ``stdout`` and ``stderr`` are "" when they were not piped back (``PIPE``)."""

    returncode: int
    stdout: str
    stderr: str
    # Killed at the time limit: the output may be cut short, and returncode is the kill's (-9) unless the top
    # process had exited already while a descendant still held its pipes.
    timed_out: bool


def kill_group(process: subprocess.Popen) -> None:
    """SIGKILL every process of ``process``'s group and reap ``process``.

    ``process`` must have been started with ``start_new_session=True`` (its pid is then its group's id): without
    that, its group is the caller's and this would kill the caller too.
    """
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except ProcessLookupError:  # the whole group has already exited
        pass
    # Only the direct child is ours to reap: the rest of the group is reparented and reaped by init. No
    # communicate() here: a caller may have its own reader of the pipes (watch_group).
    process.wait()


@dataclass(frozen=True)
class Watched:
    """How a child watched by ``watch_group`` ended."""

    returncode: int
    # What ``check`` answered when it had the group killed; None when the child ended by itself.
    killed: str | None
    # Who still held the pipe DRAIN_SECONDS after the child ended: "group", a process it left in its group (killed
    # with the group then); "outside", a process that started a session of its own, out of reach of the group's kill
    # and left running; None when the pipe closed in time.
    holder: str | None


def dies_with_this_process() -> Callable[[], None] | None:
    """A ``preexec_fn`` for a child in a session of its own: the kernel SIGKILLs the child when this process ends,
    however it ends. Nothing else would: a ``kill -9`` cannot be caught, and the child's session is out of reach of
    the terminal's Ctrl-C. Linux only (prctl); None elsewhere, where such a child outlives this process.

    The kernel watches the thread that starts the child: start it from one that lives as long as the child should."""
    if not sys.platform.startswith("linux"):
        return None
    prctl = ctypes.CDLL(None, use_errno=True).prctl
    parent = os.getpid()

    def preexec() -> None:
        prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
        if os.getppid() != parent:  # this process died before the prctl took hold
            os.kill(os.getpid(), signal.SIGKILL)

    return preexec


def _has_exited(process: subprocess.Popen) -> bool:
    """Whether ``process`` has ended, without reaping it: while it is a zombie its pid, which is its group's id,
    cannot be given to a new process, so killing the group afterwards cannot hit a stranger."""
    try:
        return os.waitid(os.P_PID, process.pid, os.WEXITED | os.WNOHANG | os.WNOWAIT) is not None
    except ChildProcessError:  # reaped already
        return True


def watch_group(
    process: subprocess.Popen,
    on_output: Callable[[bytes], None],
    check: Callable[[], str | None],
    tick: float = 0.1,
) -> Watched:
    """Read ``process``'s stdout pipe as it comes, handing each chunk to ``on_output``, until the process has ended
    and the pipe is closed; meanwhile, every ``tick`` seconds, ask ``check`` whether to stop it (a reason, or None).

    ``process`` must have been started with ``start_new_session=True`` and ``stdout=PIPE`` (binary). When ``check``
    gives a reason, the whole group is killed; when the process ends by itself, what it left in its group may end by
    itself too, and is killed afterwards. Either way the pipe is read for at most DRAIN_SECONDS after the end. A
    KeyboardInterrupt (or an exception from a callback) kills the group before it propagates. The pipe is closed on
    return.
    """
    assert process.stdout is not None
    descriptor = process.stdout.fileno()
    selector = selectors.DefaultSelector()
    selector.register(descriptor, selectors.EVENT_READ)
    is_open = True

    def read(seconds: float) -> None:
        nonlocal is_open
        if not is_open:
            time.sleep(seconds)
        elif selector.select(seconds):
            chunk = os.read(descriptor, CHUNK_BYTES)
            if chunk:
                on_output(chunk)
            else:
                is_open = False
                selector.unregister(descriptor)

    def drain(seconds: float) -> None:
        until = time.monotonic() + seconds
        while is_open and time.monotonic() < until:
            read(max(0.0, min(tick, until - time.monotonic())))

    killed, holder = None, None
    try:
        while killed is None and not _has_exited(process):
            read(tick)
            killed = check()
        if killed is not None:
            kill_group(process)
            drain(DRAIN_SECONDS)
            holder = "outside" if is_open else None
        else:
            drain(DRAIN_SECONDS)
            held = is_open
            kill_group(process)  # whatever it left in its group; and the process is reaped
            drain(1.0)  # a SIGKILLed holder closes the pipe at once
            holder = ("outside" if is_open else "group") if held else None
    except BaseException:
        if process.returncode is None:  # once reaped, its pid (the group's id) may be another process's
            kill_group(process)
        raise
    finally:
        selector.close()
        process.stdout.close()
    return Watched(process.returncode, killed, holder)


def read_tail(file: IO[bytes], limit: int = KEEP_CHARS) -> str:
    """The last ``limit`` bytes of a file a child wrote its output to, as text."""
    size = file.seek(0, os.SEEK_END)
    file.seek(max(0, size - limit))
    return file.read().decode(errors="replace")


def run_with_timeout(
    command: Sequence[str | os.PathLike[str]],
    timeout: float | None,
    *,
    cwd: str | Path | None = None,
    env: Mapping[str, str] | None = None,
    stdin: int | IO[Any] | None = subprocess.DEVNULL,
    stdout: int | IO[Any] | None = subprocess.PIPE,
    stderr: int | IO[Any] | None = subprocess.PIPE,
    progress: Callable[[float], None] | None = None,
    progress_every: float = 30.0,
) -> Completed:
    """Run ``command`` in a session of its own; past ``timeout`` seconds (None: no limit) kill its whole group.

    Never raises ``TimeoutExpired``: a time-out is ``timed_out=True`` in the result. ``OSError`` (no such
    executable, not executable) is raised as by ``subprocess.Popen``. Output is text, undecodable bytes replaced: a
    child's garbage must not turn into an exception here. While it runs, ``progress(elapsed seconds)`` is called
    every ``progress_every`` seconds, for a long build's heartbeat. A KeyboardInterrupt (or an exception from
    ``progress``) kills the group before it propagates: the child has no terminal of its own, so Ctrl-C never
    reaches it.
    """
    started = time.monotonic()
    deadline = None if timeout is None else started + timeout
    process = subprocess.Popen(
        [os.fspath(part) for part in command],
        cwd=cwd,
        env=None if env is None else dict(env),
        stdin=stdin,
        stdout=stdout,
        stderr=stderr,
        text=True,
        errors="replace",
        start_new_session=True,
    )
    try:
        while True:
            wait = None if deadline is None else max(0.0, deadline - time.monotonic())
            if progress is not None:
                wait = progress_every if wait is None else min(wait, progress_every)
            try:
                # Called again after a TimeoutExpired, communicate() goes on where it stopped: no output is lost.
                out, err = process.communicate(timeout=wait)
            except subprocess.TimeoutExpired:
                now = time.monotonic()
                if deadline is not None and now >= deadline:
                    break
                if progress is not None:
                    progress(now - started)
                continue
            return Completed(process.returncode, out or "", err or "", timed_out=False)
    except BaseException:
        kill_group(process)
        _drain(process)
        raise
    kill_group(process)
    out, err = _drain(process)
    return Completed(process.returncode, out, err, timed_out=True)


def _drain(process: subprocess.Popen) -> tuple[str, str]:
    """What is left in the pipes of a killed ``process``, and the pipes closed."""
    try:
        out, err = process.communicate(timeout=DRAIN_SECONDS)
    except subprocess.TimeoutExpired as error:
        out, err = error.stdout, error.stderr
        for pipe in (process.stdout, process.stderr):
            if pipe is not None:
                pipe.close()
    return _text(out), _text(err)


def _text(output: str | bytes | None) -> str:
    # A TimeoutExpired carries what was read so far as bytes, even from a text-mode Popen.
    if isinstance(output, bytes):
        return output.decode(errors="replace")
    return output or ""
