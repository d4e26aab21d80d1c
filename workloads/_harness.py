"""The pyperf entry point shared by every workload script.

It runs inside the interpreter under test (Python 3.9 syntax: PyPy here is 3.9). A workload script hands it a mapping
of variant names to kernels ``kernel(size, workers) -> answer`` and the name of its pure-Python reference; this module
checks the chosen variant against the reference, then lets pyperf time it in worker processes.

The check runs in pyperf's main process, before any worker is spawned: a wrong answer is a failed cell, never a
number. Its exit status (``WRONG_ANSWER``) tells the harness which failure it was.

Compiled variants find their bindings in the folder given by ``--bindings`` (what ``bindings/build.py`` built for
this interpreter). A variant whose binding is not there exits with ``UNAVAILABLE`` and says why, before anything is
checked or timed. A variant may bring its own time function (``kernel.time_func(loops, size, workers) -> seconds``):
the C reference does, to report the time its executable measured.
"""

import os
import sys
import threading

import _bindings
import pyperf

WRONG_ANSWER = 3
UNKNOWN_VARIANT = 4
UNAVAILABLE = 5

# Per-run metadata keys (the orchestrator reads them back from pyperf's result files).
ROUND_METADATA = "interpmatrix_round"
GIL_METADATA = "interpmatrix_gil_enabled"
BINDING_METADATA = "interpmatrix_binding"


def gil_enabled():
    """The GIL state now, as this interpreter reports it (free-threaded builds can turn it back on at import)."""
    is_gil_enabled = getattr(sys, "_is_gil_enabled", None)
    return True if is_gil_enabled is None else bool(is_gil_enabled())


def split(total, parts):
    """``total`` as ``parts`` integers that differ by at most one and sum to ``total``."""
    base, extra = divmod(total, parts)
    return [base + (1 if i < extra else 0) for i in range(parts)]


def in_threads(function, args):
    """``[function(arg) for arg in args]``, one thread per arg, all started then all joined."""
    results = [None] * len(args)

    def work(index):
        results[index] = function(args[index])

    pool = [threading.Thread(target=work, args=(i,)) for i in range(len(args))]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    return results


def _time_kernel(loops, kernel, size, workers):
    range_it = range(loops)
    t0 = pyperf.perf_counter()
    for _ in range_it:
        kernel(size, workers)
    return pyperf.perf_counter() - t0


def _forward_args(cmd, args):
    """Pass our own options on to pyperf's worker processes."""
    cmd.extend(("--cell", args.cell, "--variant", args.variant, "--size", str(args.size), "--round", str(args.round)))
    if args.workers is not None:
        cmd.extend(("--workers", str(args.workers)))
    if args.bindings is not None:
        cmd.extend(("--bindings", args.bindings))


def _describe_answer(answer):
    text = repr(answer)
    return text if len(text) <= 200 else text[:200] + "..."


def main(workload, variants, reference):
    runner = pyperf.Runner(add_cmdline_args=_forward_args)
    # The benchmark name comes from the harness (interpmatrix.registry.Cell.name), so it is spelled in one place.
    runner.argparser.add_argument("--cell", required=True, help="benchmark name, e.g. countdown/threads-2@2000000")
    runner.argparser.add_argument("--variant", required=True, help="one of: " + ", ".join(variants))
    runner.argparser.add_argument("--size", type=int, required=True)
    runner.argparser.add_argument("--workers", type=int, default=None)
    runner.argparser.add_argument("--round", type=int, default=1, help="interleaving round this run belongs to")
    runner.argparser.add_argument("--bindings", help="the folder bindings/build.py built for this interpreter")
    args = runner.parse_args()
    if args.bindings is not None:
        args.bindings = os.path.abspath(args.bindings)

    kernel = variants.get(args.variant)
    if kernel is None:
        print(
            "unknown variant %r of %s; valid variants: %s" % (args.variant, workload, ", ".join(variants)),
            file=sys.stderr,
        )
        sys.exit(UNKNOWN_VARIANT)
    workers = 1 if args.workers is None else args.workers

    # Import the variant's binding first: the check and the GIL state below must see it loaded (an extension that
    # does not declare free-threading support turns the GIL back on when it is imported).
    _bindings.BINDINGS_DIR = args.bindings
    try:
        binding = _bindings.resolve(kernel)
    except _bindings.BindingUnavailable as error:
        print("unavailable: %s" % error.reason, file=sys.stderr)
        sys.exit(UNAVAILABLE)

    if not args.worker:
        expected = variants[reference](args.size, 1)
        answer = kernel(args.size, workers)
        if answer != expected:
            print(
                "wrong answer: %s/%s gave %s, the reference %s gives %s"
                % (workload, args.variant, _describe_answer(answer), reference, _describe_answer(expected)),
                file=sys.stderr,
            )
            sys.exit(WRONG_ANSWER)

    # Per-run metadata: pyperf keeps it on each run, so the report can split a cell's values by round (machine drift)
    # and show the GIL state the kernel actually ran with and the binding it used (which one ``compiled`` took).
    runner.metadata[ROUND_METADATA] = args.round
    runner.metadata[GIL_METADATA] = gil_enabled()
    if binding is not None:
        runner.metadata[BINDING_METADATA] = binding
    runner.metadata["description"] = "%s, variant %s" % (workload, args.variant)
    time_func = getattr(kernel, "time_func", None)
    if time_func is not None:
        runner.bench_time_func(args.cell, time_func, args.size, workers)
    else:
        runner.bench_time_func(args.cell, _time_kernel, kernel, args.size, workers)
