"""A workload that fails on purpose, one way per variant: only the tests use it.

It shows that a crash, a hang, an exception or a wrong answer in one cell is reported in that cell, while the other
cells run and keep their results; and (tests/test_faults_io.py) that no hang, kill or flood of output in a cell can
hang the run, lose a completed cell or fill the orchestrator's memory. The faults of the main process strike during
the answer check, which runs there ("--worker" is not in its arguments); pyperf's worker processes only time.
"""

import contextlib
import ctypes
import os
import signal
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "workloads"))

from _harness import main  # noqa: E402


def ok(size, workers):
    return sum(range(size))


def wrong(size, workers):
    return sum(range(size)) + 1


def raises(size, workers):
    raise ValueError("this variant always raises")


def crash(size, workers):
    ctypes.string_at(0)  # a segfault in pyperf's main process, during the answer check


def crash_in_worker(size, workers):
    # Right in the check (main process), then a segfault once pyperf's worker process times it.
    if "--worker" in sys.argv:
        ctypes.string_at(0)
    return ok(size, workers)


def hang(size, workers):
    time.sleep(3600)


# The process hangs before the harness's first event: at import, whenever this variant is among its cells.
if "--worker" not in sys.argv and any("/hang_before_start@" in arg for arg in sys.argv):
    time.sleep(3600)


def hang_before_start(size, workers):
    return ok(size, workers)


LEFT_RUNNING = []


def lingers(size, workers):
    # A non-daemon thread that outlives the last cell: the interpreter waits for it at exit.
    if "--worker" not in sys.argv and not LEFT_RUNNING:
        LEFT_RUNNING.append(threading.Thread(target=time.sleep, args=(3600,)))
        LEFT_RUNNING[0].start()
    return ok(size, workers)


def leave_child(new_session):
    # A process left running, that holds the output pipe it inherited; its pid goes to $FAULTS_PID_FILE, for the
    # test to check on it or end it.
    if "--worker" not in sys.argv and not LEFT_RUNNING:
        child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"], start_new_session=new_session)
        LEFT_RUNNING.append(child)
        with open(os.environ["FAULTS_PID_FILE"], "w") as file:
            file.write(str(child.pid))


def orphan(size, workers):
    leave_child(new_session=True)  # out of reach of a kill of the group
    return ok(size, workers)


def leaves_child(size, workers):
    leave_child(new_session=False)
    return ok(size, workers)


def killed_while_writing(size, workers):
    # The kill of the whole group lands while pyperf's main process rewrites the file it appends to, after this
    # cell's worker processes timed it: the file is left truncated, as a time-out's kill did to a large file.
    if "--worker" not in sys.argv:
        import pyperf

        def add_runs(filename, result):
            with open(filename, "w") as file:  # what pyperf's own add_runs does first
                file.write('{"benchmarks": [{"metadata": {"name": "faults/ok@1')
            os.killpg(os.getpgrp(), signal.SIGKILL)

        pyperf.add_runs = add_runs
    return ok(size, workers)


# 50 MiB of output: 524288 lines of 100 bytes.
FLOOD_LINE = "x" * 99 + "\n"


def floods(size, workers):
    # Then the process dies: the cell's reason can only come from the end of its output.
    for _ in range(512):
        sys.stdout.write(FLOOD_LINE * 1024)
    sys.stdout.flush()
    sys.stderr.write("FloodError: printed 50 MiB, then the process exited\n")
    sys.stderr.flush()
    os._exit(3)


# leaks_descriptors keeps its files open until this many descriptors are left: enough for its own cell's worker
# process, not for a cell that needs many_files' 64 at once.
DESCRIPTORS_LEFT = 16
LEAKED = []


def open_descriptors():
    return len(os.listdir("/proc/self/fd"))


def leaks_descriptors(size, workers):
    # Files opened and never closed, kept (as a cache of handles would keep them), in pyperf's main process. Under a
    # soft limit of at most 1024 (the usual `ulimit -n`): a machine's own may be a million, too many to open here.
    if "--worker" not in sys.argv:
        import resource

        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        if soft == resource.RLIM_INFINITY or soft > 1024:
            soft = 1024
            resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
        while open_descriptors() < soft - DESCRIPTORS_LEFT:
            LEAKED.append(open(os.devnull))  # noqa: SIM115  (never closed: the fault)
    return ok(size, workers)


def many_files(size, workers):
    # A cell that leaks nothing but needs descriptors: 64 files open at once (as io_threads' 64 clients are).
    with contextlib.ExitStack() as files:
        for _ in range(64):
            files.enter_context(open(os.devnull))
    return ok(size, workers)


VARIANTS = {
    "ok": ok,
    "wrong": wrong,
    "raises": raises,
    "crash": crash,
    "crash_in_worker": crash_in_worker,
    "hang": hang,
    "hang_before_start": hang_before_start,
    "lingers": lingers,
    "orphan": orphan,
    "leaves_child": leaves_child,
    "killed_while_writing": killed_while_writing,
    "floods": floods,
    "leaks_descriptors": leaks_descriptors,
    "many_files": many_files,
}

if __name__ == "__main__":
    main("faults", VARIANTS, reference="ok")
