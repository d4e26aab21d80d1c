"""Sessions of interpmatrix. `nox -s matrix` is the product; `nox -s tests` the test suite.

The interpreters are discovered when this file loads (each candidate is run and asked about itself), and every one
found gets a `bench(<id>)` session that builds its venv. `matrix` plans a run, then queues the `bench` sessions of the
selected interpreters, `measure` (interleaved pyperf rounds across all of them) and `report`.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import nox

sys.path.insert(0, str(Path(__file__).parent))

from interpmatrix import cli, discovery, external  # noqa: E402
from interpmatrix import provision as provisioning  # noqa: E402
from interpmatrix.results import RunDir  # noqa: E402

nox.options.sessions = ["matrix"]
# Re-running the matrix should not rebuild every venv. nox does not notice a venv made by another interpreter
# under the same session name: the bench session checks that itself (_rebuild_if_stale).
nox.options.reuse_venv = "yes"

INTERPRETERS = discovery.discover()
BY_ID = {interpreter.id: interpreter for interpreter in INTERPRETERS}
TABULATE = "tabulate==0.10.0"
# Importing cli needs it (markdown.py and provision.py parse versions with it): nox brings it along, a venv does not.
PACKAGING = "packaging==26.4"
# The report's plots; pinned so the same run gives the same images (3.11 needs Python 3.11+, as nox's here).
MATPLOTLIB = "matplotlib==3.11.2"
HARNESS_REQUIREMENTS = (*cli.BENCH_REQUIREMENTS, TABULATE, PACKAGING)
REPORT_REQUIREMENTS = (*HARNESS_REQUIREMENTS, MATPLOTLIB)
PROBE = str(Path(__file__).parent / "interpmatrix" / "probe.py")
BUILD_BINDINGS = str(Path(__file__).parent / "bindings" / "build.py")
INSTALL_PACKAGES = str(Path(__file__).parent / "workloads" / "_packages.py")


@nox.session(python=False)
def provision(session: nox.Session) -> None:
    """Get PyPy and a free-threaded CPython with its same-source GIL twin where missing (-- --only pypy)."""
    args = cli.provision_parser().parse_args(session.posargs)
    failed = [outcome for outcome in provisioning.provision(args.only, echo=session.log) if not outcome.ok]
    if failed:
        session.error("; ".join(f"{outcome.family} not provisioned: {outcome.error}" for outcome in failed))


@nox.session(python=False)
def matrix(session: nox.Session) -> None:
    """Run the workloads on every selected interpreter and write reports/latest.md (options: -- --help)."""
    posargs = cli.absolute_workload_files(session.posargs, session.invoked_from)
    try:
        start = cli.start_matrix(cli.parse_matrix_args(posargs), posargs, INTERPRETERS, echo=session.log)
    except cli.UsageError as error:
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
    for interpreter in plan.interpreters:
        session.notify(f"bench({interpreter.id})", posargs=[str(plan.run_dir.path)])
    session.notify("measure", posargs=[str(plan.run_dir.path)])
    session.notify("report", posargs=[str(plan.run_dir.path)])


def _rebuild_if_stale(session: nox.Session, interpreter: discovery.Interpreter) -> None:
    """Rebuild a reused venv that another interpreter made.

    Ids name the newest build of a minor, so `cpython-3.13` can change interpreter between runs (a newer patch is
    installed); nox reuses a venv by session name without checking, which would measure the old interpreter.
    """
    config = Path(session.virtualenv.location) / "pyvenv.cfg"
    lines = config.read_text().splitlines() if config.exists() else []
    made_by = dict(line.split(" = ", 1) for line in lines if " = " in line).get("base-executable", "")
    if made_by and not (Path(made_by).exists() and os.path.samefile(made_by, interpreter.executable)):
        session.log(f"the venv was made by {made_by}, not {interpreter.executable}: rebuilding it")
        session.virtualenv.reuse_existing = False
        session.virtualenv.create()


@nox.session
@nox.parametrize("python", [nox.param(i.executable, id=i.id) for i in INTERPRETERS if i.supported])
def bench(session: nox.Session) -> None:
    """Build one interpreter's venv with pyperf and its compiled bindings, and record what it says about itself."""
    interpreter = BY_ID[session.name[len("bench(") : -1]]
    _rebuild_if_stale(session, interpreter)
    venv_python = str(Path(session.bin) / "python")
    if not session.posargs:
        session.install(*cli.BENCH_REQUIREMENTS)
        session.run("python", PROBE)
        return
    run_dir = RunDir(Path(session.posargs[0]))
    interpreter_id = interpreter.id
    try:
        session.install(*cli.BENCH_REQUIREMENTS)
    except nox.command.CommandFailed as failure:
        cli.record_venv(
            run_dir, interpreter_id, venv_python, None, f"pip install {' '.join(cli.BENCH_REQUIREMENTS)} failed: {failure.reason}"
        )
        session.warn(f"{interpreter_id}: install failed; its column will say so")
        return
    # Compiled kernels for this interpreter's ABI; build.py records per binding what built and why the rest did not.
    bindings_dir = str(Path(session.virtualenv.location) / "interpmatrix-bindings")
    session.run("python", BUILD_BINDINGS, "--out", bindings_dir)
    # The packages the run's workloads need (numpy, numexpr), each on its own: where one cannot be installed its
    # cells say why, in pip's words (packages.json beside bindings.json).
    requirements = cli.workload_requirements(run_dir)
    if requirements:
        session.run("python", INSTALL_PACKAGES, "--out", bindings_dir, *requirements)
    probe = session.run("python", PROBE, silent=True)
    cli.record_venv(run_dir, interpreter_id, venv_python, probe, None, bindings_dir)


@nox.session
def measure(session: nox.Session) -> None:
    """Run (or resume) a planned run's cells in interleaved pyperf rounds."""
    session.install(*HARNESS_REQUIREMENTS)
    session.run("python", "-m", "interpmatrix", "measure", *session.posargs)


@nox.session
def report(session: nox.Session) -> None:
    """Write reports/<run-id>.md and reports/latest.md, with plots, from results/<run-id> (default: the latest run)."""
    session.install(*REPORT_REQUIREMENTS)
    session.run("python", "-m", "interpmatrix", "report", *session.posargs)


@nox.session
def compare(session: nox.Session) -> None:
    """What changed between two runs, per cell, with pyperf's t-test: -- results/<run-a> results/<run-b> [--out F]."""
    session.install(*HARNESS_REQUIREMENTS)
    session.run("python", "-m", "interpmatrix", "compare", *session.posargs)


@nox.session
def merge(session: nox.Session) -> None:
    """Merge result folders from several machines into one run: -- --out results/<name> name=results/<run> ..."""
    session.install(*HARNESS_REQUIREMENTS)
    session.run("python", "-m", "interpmatrix", "merge", *session.posargs)


@nox.session
def interpreters(session: nox.Session) -> None:
    """Print every Python interpreter found on this machine, as the matrix sees it."""
    session.install(TABULATE, PACKAGING)
    session.run("python", "-m", "interpmatrix", "interpreters")


@nox.session
def workloads(session: nox.Session) -> None:
    """List the workloads, their variants and the claims they test; `-- --check FILE` checks your workload file."""
    args = cli.workloads_parser().parse_args(session.posargs)
    if not args.check:
        session.install(TABULATE, PACKAGING)
        session.run("python", "-m", "interpmatrix", "workloads")
        return
    for path in args.check:
        try:
            found = external.inspect_file(Path(session.invoked_from) / Path(path).expanduser())
        except external.WorkloadFileError as error:
            session.error(str(error))
        session.log(f"{found.path} follows the protocol: {found.summary}")
        # Then the real thing, once, in this session's venv: its requirements, its import, setup() and run().
        packages_dir = str(Path(session.virtualenv.location) / "interpmatrix-bindings")
        if found.requirements:
            session.run("python", INSTALL_PACKAGES, "--out", packages_dir, *found.requirements)
        session.run("python", str(external.RUNNER), *found.runner_args(), "--bindings", packages_dir, "--check")


@nox.session
def tests(session: nox.Session) -> None:
    """Unit tests, fault tests and a small end-to-end matrix on the interpreters present."""
    # markdown: the test that renders reports to HTML as a code-hosting site would; PyYAML and check-jsonschema: the
    # CI workflow's tests (its options against the CLI, its shape against GitHub's schema, offline).
    session.install(*REPORT_REQUIREMENTS, "pytest", "nox", "markdown==3.11.3", "pyyaml", "check-jsonschema==0.39.0")
    session.run("python", "-m", "pytest", *session.posargs)
