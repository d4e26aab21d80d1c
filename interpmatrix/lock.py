"""One writer at a time: a run folder, and a venv while it is built, are each held by one process.

    results/<run-id>/writer.lock        held by whoever writes the run: the nox that planned it, through its
                                        ``bench(<id>)`` sessions, then ``python -m interpmatrix measure``
    .nox/<session>.lock                 held while a session builds its venv or installs into it (the noxfile names
                                        it: ``.nox/bench(cpython-3.12).lock`` beside ``.nox/bench-cpython-3-12``)
    .nox/<venv>/interpmatrix-venv.json  the mark of a finished build: written into the venv once everything was
                                        installed, removed while anything is

Each lock is an ``fcntl.flock`` on its file, so the OS releases it when the process that holds it ends, however it
ends: a killed run never leaves a stale lock, and there is nothing to clean up. A lock file is never deleted (a
process waiting on a deleted file's lock would hold a lock nobody else sees). What the file says (who took it last:
pid, command line, since when) is only for the message a second writer gets: whether it is held is the lock's alone.

A venv without the mark is rebuilt before it is used: its build failed or was interrupted, or nox has just created
it, perhaps while another nox did the same (nox creates a venv before the session's code can lock it; only the
matrix session takes its bench sessions' locks early enough). Only a build done whole under the lock is trusted: a
first build costs one venv creation more.
"""

from __future__ import annotations

import fcntl
import json
import os
import shlex
import subprocess
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from .results import RunDir, read_json, write_json

RUN_LOCK = "writer.lock"
VENV_MARK = "interpmatrix-venv.json"
# Asking a venv's python whether it runs: PyPy starts in a tenth of a second; a minute means it is broken.
PYTHON_RUNS_TIMEOUT = 60.0

# The locks this process holds, by real path. nox runs every session in one process, and a second flock by the same
# process on a new descriptor of the file would be refused by its own first one: holding is per process, not per call.
_held: dict[str, int] = {}


@dataclass(frozen=True)
class Holder:
    """Who took a lock last, as its lock file says."""

    pid: int | None
    command: str
    since: str

    @classmethod
    def read(cls, path: Path) -> Holder:
        try:
            said = json.loads(path.read_text(encoding="utf-8"))
            return cls(int(said["pid"]), str(said["command"]), str(said["since"]))
        except (OSError, ValueError, KeyError, TypeError):
            # Taken an instant ago, not yet written; or written by something else.
            return cls(None, "", "")

    def __str__(self) -> str:
        if self.pid is None:
            return "another process (it has not written its name into the lock file yet)"
        return f"pid {self.pid} (`{self.command}`), since {self.since}"


class Busy(Exception):
    """Another process holds the lock: the message names it and says what to do."""

    def __init__(self, message: str, holder: Holder) -> None:
        super().__init__(message)
        self.holder = holder


def _this_process() -> bytes:
    # orig_argv (3.10+) keeps `python -m interpmatrix measure ...` as typed; sys.argv would say `__main__.py measure`.
    command = getattr(sys, "orig_argv", None) or [sys.executable, *sys.argv]
    since = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")
    said = {"pid": os.getpid(), "command": shlex.join(command), "since": since}
    return json.dumps(said).encode()


def hold(path: Path, wait: bool = False, echo: Callable[[str], None] = print) -> bool:
    """Take the lock of ``path`` for this process, until ``release(path)`` or the process ends.

    Returns False when this process held it already. Without ``wait``, raises ``Busy`` when another process holds
    it; with ``wait``, says whom it waits for (``echo``) and waits.
    """
    key = os.path.realpath(path)
    if key in _held:
        return False
    # os.open makes the descriptor non-inheritable: a child (a pyperf worker, a build) never keeps the lock alive
    # after this process ends.
    descriptor = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = Holder.read(path)
            if not wait:
                raise Busy(f"{path} is held by {holder}", holder) from None
            echo(f"waiting for {path.name}: held by {holder}")
            fcntl.flock(descriptor, fcntl.LOCK_EX)
        os.ftruncate(descriptor, 0)
        os.pwrite(descriptor, _this_process(), 0)
    except BaseException:
        os.close(descriptor)  # and with it the lock, if it was taken
        raise
    _held[key] = descriptor
    return True


def release(path: Path) -> None:
    """Let go of the lock of ``path`` if this process holds it; the file stays (see the module's docstring)."""
    descriptor = _held.pop(os.path.realpath(path), None)
    if descriptor is not None:
        os.close(descriptor)


# --- the run --------------------------------------------------------------------------------------------------------


def run_lock(run_dir: RunDir) -> Path:
    return run_dir.path / RUN_LOCK


def hold_run(run_dir: RunDir) -> None:
    """Become the run's only writer, for as long as this process lives (or until ``release(run_lock(run_dir))``).

    Raises ``Busy`` when another process writes it: two writers lose and double cells in its results files.
    """
    try:
        hold(run_lock(run_dir))
    except Busy as busy:
        pid = busy.holder.pid
        stop = f"stop it (`kill {pid}`)" if pid is not None else "stop it"
        raise Busy(
            f"run {run_dir.run_id} is being written by {busy.holder}; two writers would lose and double its cells. "
            f"Wait for it to finish (`nox -s report -- {run_dir.path}` reads the run meanwhile), or {stop} and "
            f"continue the run with `nox -s matrix -- --resume {run_dir.run_id}`",
            busy.holder,
        ) from None


# --- venvs ----------------------------------------------------------------------------------------------------------


def venv_problem(location: Path, python: str | None = None) -> str | None:
    """Why the venv at ``location`` must be rebuilt before it is used, or None when it can be reused.

    ``python`` is the interpreter the venv must be made from: ids name the newest build of a minor, so
    ``cpython-3.13`` can change interpreter between runs (a newer patch is installed), and nox reuses a venv by
    session name without checking, which would measure the old interpreter.
    """
    try:
        mark = read_json(location / VENV_MARK)
    except (OSError, ValueError):
        return "no mark of a finished build in it (new, or its last build failed or was interrupted)"
    made_by = mark.get("python") if isinstance(mark, dict) else None
    if python and made_by:
        try:
            same = os.path.samefile(made_by, python)
        except OSError:  # one of them is gone: an interpreter uninstalled, or replaced by a newer patch
            same = False
        if not same:
            return f"it was made by {made_by}, not {python}"
    venv_python = location / "bin" / "python"
    try:
        answer = subprocess.run(
            [str(venv_python), "-c", ""], check=False, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE, timeout=PYTHON_RUNS_TIMEOUT,
        )
    except (OSError, subprocess.TimeoutExpired) as error:
        return f"its python does not run: {error}"
    if answer.returncode != 0:
        last = answer.stderr.decode(errors="replace").strip().splitlines()[-1:] or [f"exit status {answer.returncode}"]
        return f"its python does not run: {last[0]}"
    return None


@dataclass(frozen=True)
class VenvBuild:
    """A venv being built under its lock; ``finished`` marks it reusable."""

    location: Path
    python: str | None

    def finished(self, installed: Sequence[str]) -> None:
        """Everything was installed: later sessions may reuse the venv as it is."""
        write_json(
            self.location / VENV_MARK,
            {"python": self.python, "installed": list(installed), "finished": datetime.now(timezone.utc).isoformat()},
        )


@contextmanager
def building_venv(
    location: Path,
    lock_file: Path,
    python: str | None,
    rebuild: Callable[[], None],
    echo: Callable[[str], None] = print,
) -> Iterator[VenvBuild]:
    """Hold ``lock_file`` while the block installs into the venv at ``location`` (waiting for another process's build
    to end), after rebuilding it (``rebuild``: nox's own create, in the noxfile) when ``venv_problem`` finds a reason.

    The lock is released at the end of the block even when this process took it before (the matrix session takes
    its bench sessions' locks early, so that nox's own creation of their venvs happens under them). The mark is
    removed for the block: a block that fails or is killed before it calls ``finished`` leaves a venv that the next
    session rebuilds instead of reusing.
    """
    hold(lock_file, wait=True, echo=echo)
    try:
        problem = venv_problem(location, python)
        if problem is not None:
            echo(f"rebuilding {location.name}: {problem}")
            rebuild()
        (location / VENV_MARK).unlink(missing_ok=True)
        yield VenvBuild(location, python)
    finally:
        release(lock_file)
