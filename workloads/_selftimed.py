"""Time a portable kernel without pyperf: the runner of runtimes pyperf does not run on.

    <runtime> _selftimed.py KERNEL SIZE WORKERS --loops N [--warmups K] [--values V] [--data FILE] [--path DIR]
    <runtime> _selftimed.py KERNEL SIZE WORKERS --calibrate MIN_TIME [--data FILE] [--path DIR]
    <runtime> _selftimed.py KERNEL SIZE WORKERS --answer [--data FILE] [--path DIR]

CPython 2.7, Jython 2.7, MicroPython's unix port and Pyodide (CPython in WebAssembly, under Node.js) cannot run
pyperf, so interpmatrix.selftimed runs this script there, once per value-process as pyperf runs its workers: it calls
``KERNEL`` (a key of ``_portable.KERNELS``, e.g. ``countdown/threads``) with ``SIZE`` and ``WORKERS``, ``N`` times per
value, first ``K`` warm-up values then ``V`` timed ones, and prints each raw value (the seconds of all ``N`` calls). ``--calibrate`` prints the kernel's answer (checked by the orchestrator against the
reference's), then doubles the loops until one value lasts ``MIN_TIME`` seconds, as the pyperf harness does;
``--answer`` prints the answer only. The orchestrator turns the values into pyperf's JSON; nothing here is pyperf's.

Output: one line per fact, ``interpmatrix-selftimed {json}`` on stdout, flushed as it comes (a crash keeps what was
printed before it): ``{"facts": {...}}`` first (implementation, versions, timer, thread module), then ``answer``,
``loops``, ``warmup`` or ``value`` lines, and ``{"end": {"threads_started": n}}`` last: the orchestrator takes a run
without its end line for a crash. An exception goes to stderr, with exit status 1.

It runs on all of them, so it keeps to Python 2.7 and MicroPython syntax (no f-strings, no ``__future__``, no
argparse: MicroPython's unix port has none) and times with the best clock each has: ``time.perf_counter`` (Python
3), ``java.lang.System.nanoTime`` (Jython, whose ``time.time`` is the wall clock), ``time.ticks_us`` (MicroPython,
which has no ``perf_counter``; ``ticks_diff`` survives the counter's wrap), else ``time.time`` (CPython 2.7: on Linux
``gettimeofday``, microseconds).
"""

import json
import sys

PREFIX = "interpmatrix-selftimed "
# pyperf's own ceiling on loops (pyperf._worker.MAX_LOOPS).
MAX_LOOPS = 2 ** 32


def _clock():
    """(the timer's name, now(), seconds(start, end))."""
    try:
        from time import perf_counter

        return "time.perf_counter", perf_counter, lambda start, end: end - start
    except ImportError:
        pass
    try:
        from java.lang import System

        return "java.lang.System.nanoTime", System.nanoTime, lambda start, end: (end - start) / 1e9
    except ImportError:
        pass
    import time

    if hasattr(time, "ticks_us"):
        return "time.ticks_us", time.ticks_us, lambda start, end: time.ticks_diff(end, start) / 1e6
    return "time.time", time.time, lambda start, end: end - start


def _version(info):
    return "%d.%d.%d" % (info[0], info[1], info[2])


def facts(timer):
    implementation = getattr(sys, "implementation", None)
    if implementation is not None:
        name, own = implementation.name, _version(implementation.version)
    else:  # CPython 2.7 and Jython 2.7 have no sys.implementation
        import platform

        name, own = platform.python_implementation().lower(), _version(sys.version_info)
    if sys.platform == "emscripten":
        name = "pyodide"  # CPython compiled to WebAssembly calls itself cpython: say where it runs
    try:
        import threading  # noqa: F401

        threads = "threading"
    except ImportError:
        try:
            import _thread  # noqa: F401

            threads = "_thread"
        except ImportError:
            threads = None
    return {"implementation": name, "version": _version(sys.version_info), "implementation_version": own,
            "platform": sys.platform, "timer": timer, "threads": threads}


def emit(key, value):
    sys.stdout.write(PREFIX + json.dumps({key: value}) + "\n")
    flush = getattr(sys.stdout, "flush", None)
    if flush is not None:
        flush()


def parse(argv):
    """The options as a dict; ValueError for any other command line (no argparse on MicroPython)."""
    if len(argv) < 3:
        raise ValueError("usage: _selftimed.py KERNEL SIZE WORKERS (--loops N | --calibrate S | --answer) ...")
    options = {"kernel": argv[0], "size": int(argv[1]), "workers": int(argv[2]), "warmups": 0, "values": 1,
               "loops": None, "calibrate": None, "answer": False, "data": None, "path": None}
    rest = argv[3:]
    while rest:
        option = rest.pop(0)
        if option == "--answer":
            options["answer"] = True
            continue
        if not rest or option not in ("--loops", "--warmups", "--values", "--calibrate", "--data", "--path"):
            raise ValueError("unknown option or missing value: %s" % option)
        value = rest.pop(0)
        name = option[2:]
        options[name] = float(value) if name == "calibrate" else value if name in ("data", "path") else int(value)
    if options["loops"] is None and options["calibrate"] is None and not options["answer"]:
        raise ValueError("one of --loops, --calibrate or --answer is needed")
    return options


def main(argv):
    options = parse(argv)
    if options["path"]:
        # Where _portable.py lies: not every runtime puts the script's folder on its path (Pyodide's launcher).
        sys.path.insert(0, options["path"])
    import _portable

    name, now, seconds = _clock()
    emit("facts", facts(name))
    kernel = _portable.KERNELS[options["kernel"]]
    size, workers = options["size"], options["workers"]
    data = None
    if options["data"]:
        with open(options["data"]) as handle:
            data = handle.read()

    def timed(loops):
        calls = range(loops)
        start = now()
        for _ in calls:
            kernel(size, workers, data)
        return seconds(start, now())

    if options["answer"] or options["calibrate"] is not None:
        emit("answer", kernel(size, workers, data))
    if options["calibrate"] is not None:
        loops = 1
        while loops < MAX_LOOPS and timed(loops) < options["calibrate"]:
            loops *= 2
        emit("loops", loops)
    if options["loops"] is not None:
        for _ in range(options["warmups"]):
            emit("warmup", timed(options["loops"]))
        for _ in range(options["values"]):
            emit("value", timed(options["loops"]))
    emit("end", {"threads_started": _portable.STARTED[0]})


if __name__ == "__main__":
    main(sys.argv[1:])
