"""How the numbers were taken, from the files themselves, and the commands to check or redo them."""

from __future__ import annotations

from ..harness_protocol import PARALLELISM_PROBE, PARALLELISM_PROBE_ITERATIONS, SHARED_BUFFER_PROBE_SIZE
from ..intervals import EQUIVALENCE_FACTOR, PRIOR_DF, Estimator
from ..markdown import factor_percent, percent, plural, ratio_text, span, table
from ..model import Run
from ..recorded_scatter import BETWEEN_RUN_PROVENANCE, BETWEEN_RUN_SD, BETWEEN_RUN_SD_PYPY, BETWEEN_STEP_SD
from ..samples import PROBE_FIT_PROCESSES, PROBE_GROUPS, WARM_TOLERANCE
from . import Charts
from .wording import jit_warmups_text, machine_profile_counts


def _files_table(run: Run) -> str:
    rows = []
    for column in run.columns:
        runs = [r for bench in column.benchmarks.values() for r in bench.get_runs() if r.values]
        processes = [sum(1 for r in bench.get_runs() if r.values) for bench in column.benchmarks.values()]
        rows.append(
            [
                column.id,
                column.interpreter.jit,
                span(processes),
                span(len(r.values) for r in runs),
                span(len(r.warmups or ()) for r in runs),
                span(r.get_loops() for r in runs),
            ]
        )
    return table(["interpreter", "JIT", "worker processes", "values each", "warm-ups each", "loops per value"], rows)


def _how(run: Run) -> list[str]:
    profile, machines = run.profile, run.machines
    if machines and run.info.profiles_differ:
        # Each machine's own numbers: the first machine's profile (run.profile) is not the others'.
        profiles = "; ".join(f"{machine_profile_counts(facts)} on {name}" for name, facts in machines.items())
        return [
            f"Each machine measured with its own profile: {profiles}. In each round every workload runs on every "
            "interpreter of the machine before the next round starts (one pyperf invocation per workload and "
            "interpreter: each cell's answer is checked, then the cell is timed in fresh worker processes). Every "
            "interpreter of one machine gets the same processes and values; only warm-ups differ (more for a JIT, whose first loops compile code). "
            "Intervals take each cell's own number of processes, so columns of two profiles compare too. pyperf's calibration sets the loops per value in each machine's round 1 so "
            "that a value lasts at least its profile's min time; later rounds reuse them, so every value of a cell "
            "does the same work. Memory cells (`…_memory`) hold the peak private memory pyperf's `--track-memory` "
            "sampled in each worker process, one value per process" + _memory_calls(run) + "." + _code_layout(run),
            "",
        ]
    if profile is None:
        return []
    return [
        f"Profile `{profile.name}`{', on every machine' if machines else ''}: "
        f"{plural(profile.rounds, 'round', 'rounds')}; in each round every workload runs on every "
        f"interpreter{' of the machine' if machines else ''} before the next round starts (one pyperf invocation "
        "per workload and interpreter: each cell's answer is checked, then the cell is timed in "
        f"{plural(profile.processes_per_round, 'fresh worker process', 'fresh worker processes')} × "
        f"{profile.values} values). Every interpreter{', on every machine,' if machines else ''} gets the same "
        f"processes and values; only warm-ups differ ({profile.warmups}; {jit_warmups_text(profile, 'for')}: a "
        "JIT's first loops compile code). pyperf's calibration sets the loops per value in round 1 "
        f"so that a value lasts at least {profile.min_time:g} s; later rounds reuse them, so every value of a "
        "cell does the same work. Memory cells (`…_memory`) hold the peak private memory pyperf's "
        "`--track-memory` sampled in each worker process, one value per process" + _memory_calls(run) + "."
        + _code_layout(run),
        "",
    ]


def _memory_calls(run: Run) -> str:
    """How a memory cell's worker process called its kernel, when the run recorded it (workloads/_harness.py
    peak_memory): its value is the peak over those calls."""
    counts = sorted(set().union(*(column.memory_calls() for column in run.columns)))
    if not counts:
        return ""
    calls = " or ".join(str(count) for count in counts)
    return (f": the peak over {calls} calls of the kernel (no warm-ups, on every interpreter), each started from a "
            "collected heap (`gc.collect()`), so that it is what the call itself leaves to the collector")


def _code_layout(run: Run) -> str:
    """What the columns whose workers shifted their machine code did, and why (workloads/_code_layout.py)."""
    shifted = [column.id for column in run.columns if column.code_shifted()]
    if not shifted:
        return ""
    return (
        f" On {', '.join(shifted)} each worker process first compiled a random number of small loops, so that its "
        "processes sample where the JIT places the kernel's machine code: on the project's machine the same loop ran "
        "up to 1.5× faster in one place than in another, and a worker that compiles the same code first every time "
        "puts it in the same place every time."
    )


def _pypy_between_runs() -> str:
    """What a ratio with a cell of PyPy carries between runs, said as the figures stand."""
    if BETWEEN_RUN_SD_PYPY == BETWEEN_RUN_SD:
        return ", and the same when a cell of the ratio runs on PyPy"
    figures = ", ".join(f"±{sd * 100:.1f} %" for sd in BETWEEN_RUN_SD_PYPY)
    return f", and {figures} when a cell of the ratio runs on PyPy"


# How every interval of the report is computed (interpmatrix/intervals.py), in sentences a reader can check.
INTERVALS = (
    "**Intervals.** The independent unit is a worker process, never a value inside one (values of one process share "
    "its luck): each process's timed values, less any leading ones still more than "
    f"{WARM_TOLERANCE * 100:.0f} % above the median of those after them (still warming up), are averaged, and a ratio of two "
    "cells is the difference of the means of their processes' logs, with Welch's 95 % interval and Student's t at "
    "Satterthwaite's degrees of freedom. With two or three processes per cell a cell's own variance says little, so "
    "it is pooled with the variance of the same cell on the run's other interpreters of its family (else of the "
    "interpreter's cells of the same variant at other sizes and worker counts, else of its other cells of the "
    f"workload), counted as at most {PRIOR_DF} degrees of freedom (an "
    "empirical-Bayes moderated variance, as limma's). A cell on several workers never borrows to narrow a ratio, "
    "however many processes it has: how its threads, processes or clients shared the two cores depends on the minute, "
    "so its ratios rest on its own processes' scatter, from a second process on, or on its siblings' moderated "
    "variance where that gives the wider interval (its few processes may all have run in one state of the cores), "
    "and a claim on it is decided on three at least (two that ran in the same busy minute agree with each other, not "
    "with the cell). Measured once, its figures borrow the variance of its siblings on several workers (else of the "
    "interpreter's other cells on several workers of the variant, else of the workload), never of cells on one "
    "worker, which the second core's state does not move; a verdict's candidates measured once wait "
    "for a second process too against the fastest, which is picked for its measured mean and would be picked for a "
    "lucky process (the winner's curse). Every ratio of two time cells also carries the scatter that runs of the "
    "same code at other hours showed beyond their intervals (another tenant's load differs by the hour, and one run's "
    "processes sample one hour), as a variance that widens the interval but adds no degrees of freedom: "
    f"±{BETWEEN_RUN_SD[0] * 100:.1f} % (log standard "
    "deviation) for a ratio of two cells on one worker, "
    f"±{BETWEEN_RUN_SD[1] * 100:.1f} % for one on several workers against one on one (whether the second core was "
    f"free that hour) and ±{BETWEEN_RUN_SD[2] * 100:.1f} % for two on several (how much many clients' waits "
    f"overlapped){_pypy_between_runs()}, {BETWEEN_RUN_PROVENANCE}; no round of a run narrows it. A geometric mean "
    "over many cells carries "
    "one more: the cells of a workload on one interpreter are measured together in one step of a round, and a step "
    "that ran at another hour moves them all at once, so each step the mean's processes ran in adds a draw of "
    f"±{BETWEEN_STEP_SD * 100:.1f} % weighted by its share of the mean: cells measured in one step count as one draw, "
    "not many, and a mean does not narrow as cells are added. A claim holds or fails only "
    "when its whole interval lies on one side of its threshold, sits at the threshold when its interval straddles "
    f"it but lies within {factor_percent(EQUIVALENCE_FACTOR)} of it either way (two one-sided tests, an equivalence "
    "test: the claim's number is right, give or take that much), and is undecided otherwise. The verdict's candidates "
    "that the fastest cannot be told apart from tie with it the same way, when each surely runs within that band."
)


# What pooling runs at other hours does to the intervals (interpmatrix/pool.py, Estimator.between_run_variance).
POOLED = (
    "**Pooled runs.** This run pools runs of this machine at other hours (the header lists them): each worker process "
    "keeps its values and records the run it came from, and its round is numbered after the rounds of the runs "
    "before it. A ratio carries the between-run variance above times the larger of its two cells' sums of squared "
    "shares of the runs their processes came from: a k-th of it for a ratio measured alike in k runs, all of it for "
    "one whose processes all came from one run. A step of one run is never taken for a step of another, so a "
    "geometric mean counts each run's steps as draws of their own."
)


def parallelism_probe_text(run: Run) -> str:
    """What the run's processes timed for the machine's parallelism: PBKDF2 on each thread, or, in runs measured before
    the harness recorded its probe, sha256 over one buffer both threads read, which ran faster than two cores can
    where it waited on memory (each thread found in the cache what the other had read)."""
    texts = []
    if PARALLELISM_PROBE in run.parallelism_probes:
        texts.append(f"PBKDF2-HMAC-SHA256 of {PARALLELISM_PROBE_ITERATIONS:,} iterations (compute on a few bytes)")
    if run.parallelism_probes - {PARALLELISM_PROBE}:
        texts.append(
            f"sha256 over one {SHARED_BUFFER_PROBE_SIZE // 2**20} MiB buffer both threads read (the probe of runs "
            "measured before 2026-12-05's evening, which read more than two cores give where the two threads found "
            "in the cache what the other had read)"
        )
    return ", or ".join(texts)


def machine_state(run: Run) -> str:
    """How the run's machine-state probe was used: the fit it rests on, or why none was used."""
    head = (
        "**Machine state.** A shared machine runs some worker processes slower than others (a shared 2-core host "
        "was seen running them at one of two speeds about 1.7× apart), which no count of values inside a process "
        "averages out. Around each timed value, each worker process that times its kernel with its own clock times "
        "zlib's crc32 over 1 MiB (a probe whose speed is the machine's, not the interpreter's; a pyperf hook), and "
        "records their mean. A PyPy process's probes count only where "
        "they read a bytes object: handed the mapped buffer of runs measured before the harness recorded which it "
        "read, PyPy's zlib copied it through PyPy's allocator on every call, and the probe timed what the workload "
        "had left on PyPy's heap. "
    )
    estimator = Estimator(run)
    parallelism = estimator.machine_parallelism
    if parallelism is not None:
        head += (
            f"A CPython worker process of a cell on several workers also times {parallelism_probe_text(run)} "
            "on two threads at once, on one thread twice, then on two again "
            "(hashlib releases the GIL; on the project's host whatever was timed first ran slow, and one thread "
            "timed first read more than the 2× two cores can give), once after its warm-ups: twice the one "
            "thread's mean time over the two threads' is how much faster the "
            "machine ran two threads of C code than one (2.0× with both cores free, 1.0× with one): "
            f"{ratio_text(parallelism)} in this run, the median of the CPython processes', with the sign test's "
            "interval. A claim about a second worker that finds no speed-up is left undecided where this does not "
            "surely exceed the claim's threshold: the missing speed-up may be the machine's, unless the claim's "
            "interval multiplied by how many times more workers its fast cell runs on (two workers on free cores "
            "run at most twice as fast as on one) still finds none. "
        )
    fits = {group: estimator.probe_fit(group) for group in PROBE_GROUPS}
    if not any(fits.values()):
        return head + (
            f"This run has fewer than {PROBE_FIT_PROCESSES} such processes in cells measured twice or more (or "
            "predates the probe): no figure is adjusted."
        )
    found = []
    for group, fit in fits.items():
        if fit is None:
            found.append(f"on cells run on {group}, too few processes to fit (not adjusted)")
            continue
        found.append(
            f"on cells run on {group}, correlation {fit.correlation:.2f} and slope "
            f"θ = {fit.slope:.2f} over "
            f"{fit.processes} processes of {plural(fit.cells, 'cell', 'cells')}, about "
            f"{percent(fit.correlation ** 2 if fit.slope else 0.0)} of their between-process variance"
        )
    return head + (
        "Within cells, a process's log mean follows its log probe (least squares, each process as a deviation from "
        "its own cell's averages; fitted apart for cells on one worker and on several, which also take the core the "
        "one-core probe does not see), and each process's log mean is moved by θ times its log probe's distance from "
        "what its cell's probe reads on its interpreter at the run's usual state (the interpreter's median plus the "
        "cell's offset from it over the interpreters of its implementation, by medians: what a kernel leaves the core "
        "in moves the probe timed after it, and must not move the cell's mean): a covariate adjustment, as CUPED's, "
        f"which takes the probe's share of the between-process variance out. In this run: {'; '.join(found)}. "
        "Ratios and intervals are of adjusted means; times as shown stay pyperf's."
    )


def render(run: Run, charts: Charts) -> str:
    results = f"results/{run.run_id}"
    baseline = run.baseline or (run.columns[0].id if run.columns else "<id>")
    other = next((column.id for column in run.columns if column.id != baseline), baseline)
    lines = ["## Method", "", *_how(run), INTERVALS, ""]
    if run.pooled:
        lines += [POOLED, ""]
    lines += [machine_state(run), ""]
    lines += ["What the result files hold, per cell:", "", _files_table(run)]
    lines += [
        "",
        "To reproduce or inspect:",
        "",
        "```sh",
        *(f"{facts.command or 'nox -s matrix'}  # on {name}: its own run, {facts.run_id or '?'}"
          for name, facts in run.machines.items()),
        *(f"{pooled.command or 'nox -s matrix'}  # run {pooled.run_id or '?'}" for pooled in run.pooled),
        f"{run.info.command or 'nox -s matrix'}  # this run",
        f"python -m pyperf show {results}/{baseline}.json",
        f"python -m pyperf compare_to {results}/{baseline}.json {results}/{other}.json --table",
        f"nox -s report -- {results}  # rebuild this report; add --baseline <id> to compare with another column",
        "```",
    ]
    return "\n".join(lines)
