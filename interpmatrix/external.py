"""Workloads from the user's own files (``--workload-file``): the protocol, checked without running the file.

A workload file is a Python module (README "Bring your own workload")::

    '''Parse 10,000 JSON records.'''        # first line: the description shown in the report
    NAME = "parse_json"                      # optional: the workload's name (default: the file's name)
    REQUIREMENTS = ["orjson"]                # optional: pip requirements, installed per interpreter
    EXPECTED = 10_000                        # optional: what run() must return

    def setup():                             # optional: runs once per process, outside the timing
        return make_records()

    def run(records):                        # the call that is timed and checked (no argument without setup)
        return len(parse(records))

    def bench(loops, records):               # optional: time `loops` calls yourself, return seconds

The file is read here with ``ast`` only, never imported: the orchestrator's Python may lack the file's requirements,
and a bad file must be refused before any interpreter runs it. It is run by ``workloads/_external.py`` inside each
interpreter under test, from where it is; nothing of it is copied into the project.

Every interpreter's result is checked before it is timed: against ``EXPECTED`` when the file gives it, else against
the other interpreters' results (``compare_answers``), since nothing else says which answer is right.
"""

from __future__ import annotations

import ast
import hashlib
import io
import json
import re
import tokenize
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from .proc import run_with_timeout
from .registry import WORKLOADS, WORKLOADS_DIR, Variant, Workload, select_workloads
from .run_info import RunInfo

# The report's group for workloads from files, after the registry's GROUPS.
USER_GROUP = "Your workloads"
RUNNER = WORKLOADS_DIR / "_external.py"
# A user workload has one size: the cell name still needs one (workload/variant@size).
USER_SIZE = 1
# The variant that times starting an interpreter and running the file's top level.
STARTUP = "startup"
PROTOCOL_HELP = 'see "Bring your own workload" in README.md for the protocol and a complete example'
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]*$")


class WorkloadFileError(ValueError):
    """A workload file that cannot run: the message names the file and says what to change."""


@dataclass(frozen=True)
class WorkloadFile:
    """What a workload file declares, as read from its source."""

    path: str  # absolute
    name: str
    description: str
    # "run": run() is timed; "bench": the file's bench(loops) times itself.
    timed: str
    # run() exists: its result is what is checked.
    has_run: bool
    has_setup: bool
    has_expected: bool
    requirements: tuple[str, ...]
    # The file's content when the run was planned: a resumed run refuses a file edited since.
    sha256: str

    @property
    def checked_by(self) -> str:
        if not self.has_run:
            return "not checked: the file has bench(loops) but no run() whose result could be compared"
        if self.has_expected:
            return "run()'s result is checked against the file's EXPECTED on each interpreter"
        return "run()'s result is checked against every other interpreter's (the file gives no EXPECTED)"

    @property
    def summary(self) -> str:
        requirements = ", ".join(self.requirements) or "none"
        setup = "setup() once per process, then " if self.has_setup else ""
        return (f"workload {self.name!r} ({self.description}); timed: {setup}{self.timed}(); {self.checked_by}; "
                f"requirements: {requirements}")

    def to_dict(self) -> dict[str, Any]:
        record = asdict(self)
        record["requirements"] = list(self.requirements)
        return record

    @classmethod
    def from_dict(cls, record: Mapping[str, Any]) -> WorkloadFile:
        return cls(**{**record, "requirements": tuple(record["requirements"])})

    def to_workload(self) -> Workload:
        timed = Variant(
            self.timed,
            f"`{self.timed}()` from `{self.path}`" + ("" if self.timed == "run" else ", timing itself"),
        )
        variants = (
            timed,
            Variant(f"{self.timed}_memory", f"peak memory of `{self.timed}()` (pyperf --track-memory)", metric="memory"),
            Variant(STARTUP, "start the interpreter and run the file's top level, its imports (not setup()): "
                    "a pyperf command benchmark"),
        )
        return Workload(
            name=self.name,
            group=USER_GROUP,
            claim=self.description,
            seeds=(),
            size_label="file",
            sizes=(USER_SIZE,),
            reference=self.timed,
            variants=variants,
            script=RUNNER,
            requirements=self.requirements,
            source=self.path,
            script_args=self.runner_args(),
        )

    def runner_args(self) -> tuple[str, ...]:
        """What workloads/_external.py needs to know of the file, read here once (it hands them on to pyperf's
        workers)."""
        args = ["--workload-file", self.path, "--workload", self.name,
                "--requirements", json.dumps(list(self.requirements)), "--timed", self.timed]
        return (*args, "--has-expected") if self.has_expected else tuple(args)


def _parameters(function: ast.FunctionDef | ast.AsyncFunctionDef) -> tuple[int, int, bool]:
    """(required positional parameters, all positional parameters, takes *args)."""
    arguments = function.args
    positional = len(arguments.posonlyargs) + len(arguments.args)
    return positional - len(arguments.defaults), positional, arguments.vararg is not None


def _accepts(function: ast.FunctionDef | ast.AsyncFunctionDef, count: int) -> bool:
    required, positional, varargs = _parameters(function)
    required_kwonly = [d for d in function.args.kw_defaults if d is None]
    return required <= count and (count <= positional or varargs) and not required_kwonly


def _literal(path: Path, node: ast.expr, name: str, what: str) -> Any:
    try:
        return ast.literal_eval(node)
    except ValueError:
        raise WorkloadFileError(
            f"{path}, line {node.lineno}: {name} must be {what} written out literally "
            f"(the file is not imported to read it); {PROTOCOL_HELP}"
        ) from None


def _not_source_text(source: bytes) -> str | None:
    """Why ``source`` cannot be Python source text (a binary file, or text in another encoding than it declares),
    where it goes wrong and what to do, without its bytes; None when it can be. Python's own errors for these echo
    the bytes (decoded as garbage) or give no line at all."""

    def line_of(offset: int) -> int:
        return source.count(b"\n", 0, offset) + 1

    null = source.find(b"\0")
    if null != -1:
        where = f"byte offset {null}, line {line_of(null)}"
        return f"it holds a null byte ({where}), as binary files do: pass the path of a .py file"
    try:
        encoding = tokenize.detect_encoding(io.BytesIO(source).readline)[0]
    except SyntaxError:
        # No coding line Python can read, in first lines that are not UTF-8 themselves (or one that names an unknown
        # encoding, which ast.parse then reports): the text is UTF-8's, Python's default, or nothing.
        encoding = "utf-8"
    # The byte-order mark that "utf-8-sig" stands for is valid UTF-8: offsets then count from the file's start.
    encoding = "utf-8" if encoding == "utf-8-sig" else encoding
    try:
        source.decode(encoding)
    except UnicodeDecodeError as error:
        where = f"at byte offset {error.start} (line {line_of(error.start)})"
        if encoding == "utf-8":
            return f"not valid UTF-8 {where}: save it as UTF-8 text"
        return f"not valid {encoding} {where}: save it in {encoding}, as its coding line says (or as UTF-8, without it)"
    return None


def inspect_file(path: str | Path, taken: Sequence[str] = ()) -> WorkloadFile:
    """Read and check a workload file without running it. ``taken``: names already in use (built-in workloads,
    earlier files). Raises ``WorkloadFileError`` saying what is wrong and what to do."""
    path = Path(path).expanduser()
    if not path.exists():
        where = "" if path.is_absolute() else f" (looked for {path.absolute()})"
        raise WorkloadFileError(f"workload file {path} does not exist{where}")
    if not path.is_file():
        raise WorkloadFileError(f"workload file {path} is not a file: pass the path of a .py file")
    path = path.resolve()
    source_bytes = path.read_bytes()
    problem = _not_source_text(source_bytes)
    if problem is not None:
        raise WorkloadFileError(f"{path} is not a Python source file: {problem}")
    try:
        tree = ast.parse(source_bytes, filename=str(path))
    except SyntaxError as error:
        # An unknown encoding in the coding line is no line's error (its line number is 0).
        where = f", line {error.lineno}" if error.lineno else ""
        line = f": {error.text.strip()}" if error.text and error.text.strip() else ""
        raise WorkloadFileError(f"{path}{where}: syntax error: {error.msg}{line}") from None

    functions: dict[str, ast.FunctionDef | ast.AsyncFunctionDef] = {}
    assigned: dict[str, ast.expr] = {}
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            functions[node.name] = node
        elif isinstance(node, ast.Assign):
            for target in node.targets:
                if isinstance(target, ast.Name):
                    assigned[target.id] = node.value
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name) and node.value is not None:
            assigned[node.target.id] = node.value

    problems = []
    run, bench, setup = functions.get("run"), functions.get("bench"), functions.get("setup")
    for found in (run, bench, setup):
        if isinstance(found, ast.AsyncFunctionDef):
            problems.append(f"{found.name}() is `async def`: define a plain function (run an event loop inside it)")
    if run is None and bench is None:
        problems.append("it defines neither run() nor bench(loops): define run(), the call to time and check")
    data = 1 if setup is not None else 0
    with_data = " and what setup() returns" if setup is not None else ""
    if setup is not None and not _accepts(setup, 0):
        problems.append("setup() must take no arguments")
    if isinstance(run, ast.FunctionDef) and not _accepts(run, data):
        problems.append(
            f"run() must take {'one argument: what setup() returns' if data else 'no arguments (no setup() is defined)'}"
        )
    if isinstance(bench, ast.FunctionDef) and not _accepts(bench, 1 + data):
        problems.append(f"bench() must take loops{with_data}, and return the seconds those loops took")

    name = path.stem
    if "NAME" in assigned:
        name = _literal(path, assigned["NAME"], "NAME", "a string")
        if not isinstance(name, str):
            problems.append(f"NAME must be a string, not {type(name).__name__}")
            name = path.stem
    if not _NAME.match(name):
        problems.append(
            f"its workload name {name!r} is not a valid name (letters, digits, _ and -, not starting with a digit):"
            " set NAME = \"...\" in the file"
        )
    elif name in taken:
        problems.append(f"its workload name {name!r} is already taken (by a built-in workload or another file):"
                        " set NAME = \"...\" in the file to another name")

    requirements: tuple[str, ...] = ()
    if "REQUIREMENTS" in assigned:
        value = _literal(path, assigned["REQUIREMENTS"], "REQUIREMENTS", "a list of strings")
        if not isinstance(value, (list, tuple)) or not all(isinstance(item, str) and item.strip() for item in value):
            problems.append('REQUIREMENTS must be a list of pip requirement strings, e.g. ["numpy>=1.26"]')
        else:
            requirements = tuple(item.strip() for item in value)

    if problems:
        raise WorkloadFileError(
            f"{path} does not follow the workload protocol: " + "; ".join(problems) + f" ({PROTOCOL_HELP})"
        )
    docstring = ast.get_docstring(tree)
    description = docstring.strip().splitlines()[0].strip() if docstring and docstring.strip() else ""
    return WorkloadFile(
        path=str(path),
        name=name,
        description=description or f"the workload in {path.name} (it has no docstring)",
        timed="bench" if bench is not None else "run",
        has_run=run is not None,
        has_setup=setup is not None,
        has_expected="EXPECTED" in assigned,
        requirements=requirements,
        sha256=hashlib.sha256(source_bytes).hexdigest(),
    )


def inspect_files(paths: Sequence[str | Path], taken: Sequence[str]) -> tuple[list[WorkloadFile], list[dict[str, str]]]:
    """Every file checked on its own: the good ones, and ``{"path", "error"}`` for each that cannot run (the rest of
    the run goes on without it)."""
    good: list[WorkloadFile] = []
    bad: list[dict[str, str]] = []
    names = list(taken)
    for path in paths:
        try:
            found = inspect_file(path, names)
        except WorkloadFileError as error:
            bad.append({"path": str(path), "error": str(error)})
            continue
        good.append(found)
        names.append(found.name)
    return good, bad


def run_check(found: WorkloadFile, python: str, packages_dir: str, timeout: float) -> str | None:
    """``nox -s workloads -- --check``'s one run of the file in ``python``, as the matrix will run it (its import,
    setup() and one run(): ``workloads/_external.py --check``), its output on the console as it comes. Past ``timeout``
    seconds its whole process group is killed: a run() that never returns, and whatever it started. Returns why the
    check failed, None when it passed."""
    command = [python, str(RUNNER), *found.runner_args(), "--bindings", packages_dir, "--check"]
    result = run_with_timeout(command, timeout, cwd=RUNNER.parent, stdout=None, stderr=None)
    if result.timed_out:
        return (
            f"{found.path} did not finish its check within {timeout:g} s (importing it, setup() and one run()), and "
            "was stopped with every process it started; if one run() takes that long, give it more: --timeout SECONDS"
        )
    if result.returncode != 0:
        return f"{found.path} failed its check (what it did is above): its cells in the matrix would fail the same way"
    return None


def files_of_run(info: RunInfo) -> list[WorkloadFile]:
    """The user's files a run measures, as they were read when it was planned."""
    return [WorkloadFile.from_dict(record) for record in info.workload_files]


def check_unchanged(files: Sequence[WorkloadFile]) -> None:
    """Refuse to resume a run whose workload files were edited or removed since it began: its cells would mix two
    programs under one name."""
    for planned in files:
        path = Path(planned.path)
        if not path.is_file():
            raise WorkloadFileError(f"workload file {path} of this run is gone: put it back, or start a new run")
        if hashlib.sha256(path.read_bytes()).hexdigest() != planned.sha256:
            raise WorkloadFileError(
                f"workload file {path} changed since this run began: start a new run to measure the new version"
            )


def compare_answers(workload: str, answers: Mapping[str, str]) -> str | None:
    """None when every interpreter that gave an answer gave the same one; else the failed check's reason, naming
    which interpreters gave what (``answers``: interpreter id -> canonical text of run()'s result)."""
    groups: dict[str, list[str]] = {}
    for interpreter_id, answer in answers.items():
        groups.setdefault(answer, []).append(interpreter_id)
    if len(groups) <= 1:
        return None

    def shown(answer: str) -> str:
        return answer if len(answer) <= 120 else answer[:120] + "..."

    parts = [f"{', '.join(ids)} gave {shown(answer)}" for answer, ids in groups.items()]
    return (
        f"run() of {workload} gives different results on different interpreters ({'; '.join(parts)}): nothing says "
        "which is right, so none is timed; set EXPECTED in the file to the right result (or make run() return the "
        "same thing everywhere)"
    )


def workloads_of_run(info: RunInfo, builtins: Sequence[Workload] | None = None) -> list[Workload]:
    """The workloads a run measures: the built-in ones it names (in registry order), then its files'."""
    names = info.workloads
    files = files_of_run(info)
    # A run of files only names no built-in workload: an empty list then means none, not all.
    chosen = select_workloads(names, builtins or WORKLOADS) if names or not files else []
    return [*chosen, *(found.to_workload() for found in files)]


def workload_requirements(info: RunInfo) -> list[str]:
    """The pip packages a run's workloads need (built-in ones, then the user's files'), each once."""
    found: list[str] = []
    for workload in workloads_of_run(info):
        found += [name for name in workload.requirements if name not in found]
    return found


# The matrix's options that name a user's file, which nox would otherwise read against the noxfile's folder.
PATH_OPTIONS = ("--workload-file", "--requirements", "-r")


def absolute_paths(argv: Sequence[str], invoked_from: str) -> list[str]:
    """``argv`` with the file of each --workload-file and --requirements made absolute against the folder nox was
    started from (nox itself runs sessions from the noxfile's folder)."""
    absolute, expect_path = [], False
    for arg in argv:
        option = next((name for name in PATH_OPTIONS if arg.startswith(name + "=")), None)
        if expect_path:
            arg, expect_path = str(Path(invoked_from) / Path(arg).expanduser()), False
        elif arg in PATH_OPTIONS:
            expect_path = True
        elif option is not None:
            arg = f"{option}=" + str(Path(invoked_from) / Path(arg.split("=", 1)[1]).expanduser())
        absolute.append(arg)
    return absolute
