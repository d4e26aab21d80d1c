"""Run a child process with a time limit, and kill all of it when the limit passes.

A child runs in a session of its own, so its process group holds everything it starts: the workers of a pyperf
cell, the compilers of ``make -j``, the interpreter behind a pyenv shim. Killing only the direct child leaves those
running; they would hold the machine (or a pipe this side reads) long after the time-out was reported. So a time-out,
and a Ctrl-C while waiting, kill the whole group with SIGKILL.

Standard library only: nox's own Python runs provisioning and discovery with no venv of ours.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

# After the kill, how long to wait for the pipes to close. Only a descendant that left the group (a daemon that
# called setsid) can hold them open longer; its output is not worth hanging for.
DRAIN_SECONDS = 5.0


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
    # communicate() here: a caller may have its own reader of the pipes (measure._invoke's thread).
    process.wait()


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
