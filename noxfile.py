"""Sessions of interpmatrix. `nox -s matrix` is the product; `nox -s tests` the test suite.

The interpreters are discovered when this file loads (each candidate is run and asked about itself), and every one
found gets a `bench(<id>)` session that builds its venv. `matrix` plans a run, then queues the `bench` sessions of the
selected interpreters, `measure` (interleaved pyperf rounds across all of them) and `report`.

One writer per run, one builder per venv (interpmatrix/lock.py): the nox that plans a run holds it through its
`bench` sessions and hands it to the measuring process; every session holds its venv's lock while it installs
(`matrix` takes its bench sessions' locks before nox creates their venvs), and rebuilds a venv whose last build did
not finish.
"""

from __future__ import annotations

import contextlib
import sys
from pathlib import Path

import nox
from nox.command import CommandFailed

sys.path.insert(0, str(Path(__file__).parent))

from interpmatrix import cli, discovery, external, lock, selftimed  # noqa: E402
from interpmatrix import provision as provisioning  # noqa: E402
from interpmatrix.results import RunDir  # noqa: E402

nox.options.sessions = ["matrix"]
# Re-running the matrix should not rebuild every venv. nox does not notice a venv made by another interpreter
# under the same session name, nor one whose build failed: each session checks that itself (_building_venv).
nox.options.reuse_venv = "yes"
# uv makes a venv and installs into it in a fraction of virtualenv's and pip's time (measured in the README); nox uses
# it where it finds it (`pip install 'nox[uv]'`, or uv on PATH), virtualenv otherwise.
nox.options.default_venv_backend = "uv|virtualenv"

INTERPRETERS = discovery.discover()
BY_ID = {interpreter.id: interpreter for interpreter in INTERPRETERS}
TABULATE = "tabulate==0.10.0"
# Importing cli needs it (markdown.py and provision.py parse versions with it): nox brings it along, a venv does not.
PACKAGING = "packaging==26.4"
# The report's plots; pinned so the same run gives the same images (3.11 needs Python 3.11+, as nox's here).
MATPLOTLIB = "matplotlib==3.11.2"
HARNESS_REQUIREMENTS = (*cli.BENCH_REQUIREMENTS, TABULATE, PACKAGING)
# `nox -s packages` makes a venv per package and interpreter: uv makes one in a tenth of a second and installs from
# its cache in milliseconds; virtualenv (with pip) is the fallback where uv cannot be installed.
UV = "uv==0.13.9"
PACKAGES_REQUIREMENTS = (TABULATE, PACKAGING, "virtualenv==21.15.11")
REPORT_REQUIREMENTS = (*HARNESS_REQUIREMENTS, MATPLOTLIB)
# markdown: the test that renders reports to HTML as a code-hosting site would; PyYAML and check-jsonschema: the CI
# workflow's tests (its options against the CLI, its shape against GitHub's schema, offline).
# pyperformance: the test that runs each standard-suite adapter once in the test session's own interpreter. uv: the
# package-compatibility tests make their venvs with it, as `nox -s packages` does.
TEST_REQUIREMENTS = (*REPORT_REQUIREMENTS, UV, "pytest", "nox", "markdown==3.11.3", "pyyaml", "check-jsonschema==0.39.0",
                     "pyperformance==1.14.0")
# The fault tests kill the orchestrator at every point they know when this is set, at a few otherwise.
ALL_KILL_POINTS = "INTERPMATRIX_ALL_KILL_POINTS"
PROBE = str(Path(__file__).parent / "interpmatrix" / "probe.py")
BUILD_BINDINGS = str(Path(__file__).parent / "bindings" / "build.py")
INSTALL_PACKAGES = str(Path(__file__).parent / "workloads" / "_packages.py")


@nox.session(python=False)
def provision(session: nox.Session) -> None:
    """Get PyPy, a free-threaded CPython with its same-source GIL twin, CPython 3.14/3.15 from Debian sid, and the
    seeds' runtimes without pyperf (Jython, MicroPython, Pyodide) where missing (-- --only pypy; -- --cpython-source
    PATH builds a free-threaded pair from your tarball), and what every venv needs from the system."""
    args = cli.provision_parser().parse_args(session.posargs)
    outcomes = provisioning.provision(args.only, echo=session.log, cpython_source=args.cpython_source)
    failed = [outcome for outcome in outcomes if not outcome.ok]
    if failed:
        session.error("; ".join(f"{outcome.family} not provisioned: {outcome.error}" for outcome in failed))


@nox.session(python=False)
def matrix(session: nox.Session) -> None:
    """Run the workloads on every selected interpreter and write reports/latest.md (options: -- --help)."""
    posargs = external.absolute_paths(session.posargs, session.invoked_from)
    try:
        start = cli.start_matrix(cli.parse_matrix_args(posargs), posargs, INTERPRETERS, echo=session.log)
    except (cli.UsageError, lock.Busy) as error:
        session.error(str(error))
    if start.restart is not None:
        session.log("new interpreters were provisioned: restarting nox so each gets its bench session")
        session.run(sys.executable, "-m", "nox", "-f", __file__, "-s", "matrix", "--", *start.restart, external=True)
    plan = start.plan
    if plan is None:
        return
    session.log(f"run {plan.run_dir.run_id}: {', '.join(i.id for i in plan.interpreters)}")
    for refused in plan.run_dir.read_info().workload_file_errors:
        session.warn(f"not run: {refused['error']}")
    # A column that only switches something in its binary's environment (a JIT) shares that binary's venv, and so
    # its bench session.
    venvs = list(dict.fromkeys(interpreter.variant_of or interpreter.id for interpreter in plan.interpreters))
    # A self-timed column (CPython 2.7, Jython, MicroPython, Pyodide) has no venv and no bench session: pyperf does
    # not install there, and the self-timing runner needs the interpreter alone. Its record is written here.
    for venv in [venv for venv in venvs if BY_ID[venv].self_timed]:
        selftimed.record_runtime(plan.run_dir, BY_ID[venv])
    venvs = [venv for venv in venvs if not BY_ID[venv].self_timed]
    # nox creates a session's venv before the session's code runs: two noxes creating one venv at once break it. So
    # each bench session's venv is held from here until its session ends; sorted, so that two matrices that share
    # venvs wait for each other in turn instead of each holding what the other waits for.
    for venv in sorted(venvs):
        lock.hold(_venv_lock(session, f"bench({venv})"), wait=True, echo=session.log)
    for venv in venvs:
        session.notify(f"bench({venv})", posargs=[str(plan.run_dir.path)])
    session.notify("measure", posargs=[str(plan.run_dir.path)])
    # The run's own requirements are tried, and the default list's answers taken from the cache, for the report.
    session.notify("packages", posargs=["--run", str(plan.run_dir.path)])
    session.notify("report", posargs=[str(plan.run_dir.path)])


def _venv_lock(session: nox.Session, name: str) -> Path:
    """The lock of session ``name``'s venv, beside the venvs: ``.nox/bench(cpython-3.12).lock``."""
    return session.cache_dir.parent / f"{name}.lock"


def _building_venv(
    session: nox.Session, python: str | None = None
) -> contextlib.AbstractContextManager[lock.VenvBuild]:
    """The session's venv, held while the block installs into it; rebuilt first when its last build did not finish,
    when its python does not run, or when another interpreter than ``python`` made it (lock.venv_problem)."""

    def rebuild() -> None:
        session.virtualenv.reuse_existing = False
        session.virtualenv.create()

    location = Path(session.virtualenv.location)
    return lock.building_venv(location, _venv_lock(session, session.name), python, rebuild, echo=session.log)


def _pip_for_scripts(session: nox.Session) -> tuple[str, ...]:
    """pip, for a venv of uv's, which has none: the scripts that run inside a venv (bindings/build.py,
    workloads/_packages.py) install with the venv's own pip, the one tool every interpreter under test has."""
    return ("pip",) if session.venv_backend == "uv" else ()


def _install(session: nox.Session, *requirements: str) -> None:
    """``session.install`` into a venv that is whole, one nox at a time."""
    with _building_venv(session) as build:
        session.install(*requirements)
        build.finished(requirements)


@nox.session
@nox.parametrize("python", [nox.param(i.executable, id=i.id) for i in INTERPRETERS if i.supported and not i.variant_of])
def bench(session: nox.Session) -> None:
    """Build one interpreter's venv with pyperf and its compiled bindings, and record what it says about itself, and
    what each column of the run that shares its binary (its JIT switched on) says under its own environment."""
    interpreter = BY_ID[session.name[len("bench(") : -1]]
    venv_python = str(Path(session.bin) / "python")
    if not session.posargs:
        with _building_venv(session, interpreter.executable) as build:
            session.install(*_pip_for_scripts(session), *cli.BENCH_REQUIREMENTS)
            session.run("python", PROBE)
            build.finished(cli.BENCH_REQUIREMENTS)
        return
    run_dir = RunDir(Path(session.posargs[0]))
    columns = [BY_ID[iid] for iid in run_dir.read_info().interpreters
               if iid in BY_ID and interpreter.id in (iid, BY_ID[iid].variant_of)]
    # It writes the run's <id>.interpreter.json. A no-op in the nox that planned the run: it holds the run already.
    try:
        lock.hold_run(run_dir)
    except lock.Busy as busy:
        session.error(str(busy))
    # Held from the first install to the probe: two runs' bench sessions would build into the same venv.
    with _building_venv(session, interpreter.executable) as build:
        try:
            session.install(*_pip_for_scripts(session), *cli.BENCH_REQUIREMENTS)
        except nox.command.CommandFailed as failure:
            reason = f"pip install {' '.join(cli.BENCH_REQUIREMENTS)} failed: {failure.reason}"
            # Unmarked, the venv is rebuilt by the next session that uses it.
            rebuilt = f"{reason}; the next run rebuilds its venv"
            for column in columns:
                discovery.record_venv(run_dir, column.id, venv_python, None, rebuilt)
                session.warn(f"{column.id}: install failed; its column will say so")
            return
        # Compiled kernels for this interpreter's ABI; build.py records per binding what built and why the rest did
        # not.
        bindings_dir = str(Path(session.virtualenv.location) / "interpmatrix-bindings")
        session.run("python", BUILD_BINDINGS, "--out", bindings_dir)
        # The packages the run's workloads need (numpy, numexpr), each on its own: where one cannot be installed its
        # cells say why, in pip's words (packages.json beside bindings.json).
        requirements = external.workload_requirements(run_dir.read_info())
        if requirements:
            session.run("python", INSTALL_PACKAGES, "--out", bindings_dir, *requirements)
        probes = {column.id: session.run("python", PROBE, silent=True, env=dict(column.env)) for column in columns}
        build.finished([*cli.BENCH_REQUIREMENTS, *requirements])
    for column in columns:
        discovery.record_venv(run_dir, column.id, venv_python, probes[column.id], None, bindings_dir)


@nox.session
def measure(session: nox.Session) -> None:
    """Run (or resume) a planned run's cells in interleaved pyperf rounds."""
    _install(session, *HARNESS_REQUIREMENTS)
    # A bench session that failed before its code ran (nox could not create its venv) did not let go of its venv.
    for interpreter in INTERPRETERS:
        lock.release(_venv_lock(session, f"bench({interpreter.id})"))
    # A run folder named relative to where nox was started, as a user types it.
    posargs = [str(Path(session.invoked_from) / arg) for arg in session.posargs]
    if posargs:
        # The nox that planned the run hands it over: the measuring process takes it for as long as it writes, so
        # that the lock ends with the writer, even when nox is killed and the measuring process goes on.
        lock.release(lock.run_lock(RunDir(Path(posargs[0]))))
    session.run("python", "-m", "interpmatrix", "measure", *posargs)


@nox.session
def report(session: nox.Session) -> None:
    """Write reports/<run-id>.md and reports/latest.md, with plots, from results/<run-id> (default: the latest run)."""
    _install(session, *REPORT_REQUIREMENTS)
    session.run("python", "-m", "interpmatrix", "report", *session.posargs)


@nox.session
def packages(session: nox.Session) -> None:
    """Will my packages install and work on each interpreter? -- [PACKAGE ...] [-r FILE] (default: 20 widely used
    packages with compiled parts); prints the table and writes reports/packages.md."""
    _install(session, *PACKAGES_REQUIREMENTS)
    try:
        _install(session, UV)
    except CommandFailed:
        session.warn("uv could not be installed: virtualenv and pip make the venvs instead (slower)")
    posargs = external.absolute_paths(session.posargs, session.invoked_from)
    # A local package folder named as a requirement ("./mypkg"), relative to where nox was started.
    posargs = [str(Path(session.invoked_from) / arg) if arg.startswith(("./", "../")) else arg for arg in posargs]
    session.run("python", "-m", "interpmatrix", "packages", *posargs)


@nox.session
def compare(session: nox.Session) -> None:
    """What changed between two runs, per cell, with pyperf's t-test: -- results/<run-a> results/<run-b> [--out F]."""
    _install(session, *HARNESS_REQUIREMENTS)
    session.run("python", "-m", "interpmatrix", "compare", *session.posargs)


@nox.session
def merge(session: nox.Session) -> None:
    """Merge result folders from several machines into one run: -- --out results/<name> name=results/<run> ..."""
    _install(session, *HARNESS_REQUIREMENTS)
    session.run("python", "-m", "interpmatrix", "merge", *session.posargs)


@nox.session
def pool(session: nox.Session) -> None:
    """Pool runs of this machine at other hours into one run: -- --out results/<name> results/<run> results/<run> ..."""
    _install(session, *HARNESS_REQUIREMENTS)
    session.run("python", "-m", "interpmatrix", "pool", *session.posargs)


@nox.session
def interpreters(session: nox.Session) -> None:
    """Print every Python interpreter found on this machine, as the matrix sees it."""
    _install(session, TABULATE, PACKAGING)
    session.run("python", "-m", "interpmatrix", "interpreters")


@nox.session
def workloads(session: nox.Session) -> None:
    """List the workloads, their variants and the claims they test; `-- --check FILE` checks your workload file."""
    try:
        args = cli.workloads_parser().parse_args(session.posargs)
    except cli.UsageError as error:
        session.error(str(error))
    if not args.check:
        _install(session, TABULATE, PACKAGING)
        session.run("python", "-m", "interpmatrix", "workloads")
        return
    for path in args.check:
        try:
            found = external.inspect_file(Path(session.invoked_from) / Path(path).expanduser())
        except external.WorkloadFileError as error:
            session.error(str(error))
        session.log(f"{found.path} follows the protocol: {found.summary}")
        # Then the real thing, once, in this session's venv: its requirements, its import, setup() and run(), within
        # a time limit.
        packages_dir = str(Path(session.virtualenv.location) / "interpmatrix-bindings")
        if found.requirements:
            if _pip_for_scripts(session):
                _install(session, *_pip_for_scripts(session))
            session.run("python", INSTALL_PACKAGES, "--out", packages_dir, *found.requirements)
        failed = external.run_check(found, str(Path(session.bin) / "python"), packages_dir, args.timeout)
        if failed:
            session.error(failed)


@nox.session
def tests(session: nox.Session) -> None:
    """Unit tests, the fault tests in their short form and a small end-to-end matrix on the interpreters present."""
    # pip as well: tests/test_packages.py runs workloads/_packages.py, which installs with the venv's own pip.
    _install(session, *_pip_for_scripts(session), *TEST_REQUIREMENTS)
    session.run("python", "-m", "pytest", *session.posargs)


@nox.session
def faults(session: nox.Session) -> None:
    """The fault-injection suite in full (pytest -m faults): kills at every point, hangs, corrupt files, bad input."""
    _install(session, *_pip_for_scripts(session), *TEST_REQUIREMENTS)
    session.run("python", "-m", "pytest", "-m", "faults", *session.posargs, env={ALL_KILL_POINTS: "1"})
