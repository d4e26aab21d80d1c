"""Which packages to try: the default list, a user's requirements file, and names from the command line.

The default list is data: widely used packages with compiled parts, each with the modules whose import exercises
those parts (``import scipy`` alone loads none of its extensions). A user's package is imported by the top-level
names its installed files give (``import_probe`` reads them), so nothing has to be said about it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from packaging.requirements import InvalidRequirement, Requirement


@dataclass(frozen=True)
class Wanted:
    """One package to try: a requirement as pip and uv take it, and what to import to try it."""

    requirement: str  # "numpy", "numpy>=2", "./local/package"
    name: str  # normalized distribution name (PEP 503), or the folder's name for a local path
    imports: tuple[str, ...] = ()  # empty: the top-level names its installed files give
    source: str = "default list"  # "default list", "requirements.txt line 3", "command line", "workload file x.py"

    @property
    def key(self) -> str:
        """The cache's name for this requirement: the requirement itself, made safe for a file name."""
        return re.sub(r"[^A-Za-z0-9._=<>!~,+-]+", "_", self.requirement).strip("_") or "_"


# Widely used packages with compiled parts: C (numpy, lxml, psutil, pillow, regex, ujson, markupsafe, zstandard),
# C++ (greenlet, grpcio), Cython (pandas, scipy, msgpack, pyyaml, sqlalchemy, aiohttp), Rust through PyO3
# (pydantic's core, orjson, cryptography's bindings), cffi itself, and Fortran (scipy's LAPACK).
DEFAULT_PACKAGES: tuple[Wanted, ...] = (
    Wanted("numpy", "numpy", ("numpy",)),
    Wanted("pandas", "pandas", ("pandas",)),
    Wanted("scipy", "scipy", ("scipy.linalg",)),
    Wanted("lxml", "lxml", ("lxml.etree",)),
    Wanted("pydantic", "pydantic", ("pydantic", "pydantic_core")),
    Wanted("orjson", "orjson", ("orjson",)),
    Wanted("cryptography", "cryptography", ("cryptography.hazmat.bindings._rust",
                                             "cryptography.hazmat.primitives.ciphers")),
    Wanted("psutil", "psutil", ("psutil",)),
    Wanted("pillow", "pillow", ("PIL.Image",)),
    Wanted("regex", "regex", ("regex",)),
    Wanted("msgpack", "msgpack", ("msgpack",)),
    Wanted("pyyaml", "pyyaml", ("yaml",)),
    Wanted("sqlalchemy", "sqlalchemy", ("sqlalchemy",)),
    Wanted("greenlet", "greenlet", ("greenlet",)),
    Wanted("ujson", "ujson", ("ujson",)),
    Wanted("aiohttp", "aiohttp", ("aiohttp",)),
    Wanted("cffi", "cffi", ("cffi", "_cffi_backend")),
    Wanted("markupsafe", "markupsafe", ("markupsafe",)),
    Wanted("zstandard", "zstandard", ("zstandard",)),
    Wanted("grpcio", "grpcio", ("grpc",)),
)


class RequirementsError(ValueError):
    """A line of a requirements file (or a name on the command line) that is not a requirement."""


def normalize(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _default(name: str) -> Wanted | None:
    return next((wanted for wanted in DEFAULT_PACKAGES if wanted.name == name), None)


def parse_requirement(text: str, source: str, base: Path | None = None) -> Wanted:
    """One requirement: a PEP 508 requirement ("numpy>=2", "pyyaml[libyaml]") or a local path ("./mypkg").

    A default-list package keeps its import targets when it is asked for again with a version.
    """
    text = text.strip()
    if text.startswith((".", "/")):
        path = Path(text) if base is None or Path(text).is_absolute() else base / text
        if not path.exists():
            raise RequirementsError(f"{source}: {text!r} looks like a local path, but {path} does not exist")
        return Wanted(str(path.resolve()), normalize(path.resolve().name), (), source)
    if text.startswith("-"):
        raise RequirementsError(
            f"{source}: {text!r} is a pip option, which is not supported here: list one requirement per line "
            "(a name with an optional version, e.g. numpy>=2, or a local path)"
        )
    try:
        requirement = Requirement(text)
    except InvalidRequirement as error:
        raise RequirementsError(
            f"{source}: {text!r} is not a requirement ({error}): write a name with an optional version, e.g. numpy>=2"
        ) from None
    name = normalize(requirement.name)
    known = _default(name)
    return Wanted(text, name, known.imports if known else (), source)


def read_requirements(path: Path) -> tuple[list[Wanted], list[str]]:
    """The requirements of a file, one per line (comments and blank lines skipped), and the lines that are not one,
    each as an error naming its line: the other lines are still tried. Raises RequirementsError when the file
    cannot be read at all."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise RequirementsError(f"cannot read the requirements file {path}: {error}") from None
    found: list[Wanted] = []
    errors: list[str] = []
    for number, line in enumerate(text.splitlines(), start=1):
        line = line.split(" #", 1)[0].strip()
        if not line or line.startswith("#"):
            continue
        try:
            found.append(parse_requirement(line, f"{path.name} line {number}", base=path.parent))
        except RequirementsError as error:
            errors.append(str(error))
    return found, errors


def from_names(names: Iterable[str], source: str = "command line") -> tuple[list[Wanted], list[str]]:
    found: list[Wanted] = []
    errors: list[str] = []
    for name in names:
        try:
            found.append(parse_requirement(name, source))
        except RequirementsError as error:
            errors.append(str(error))
    return found, errors


def unique(wanted: Sequence[Wanted]) -> list[Wanted]:
    """The first of each requirement, in order."""
    seen: dict[str, Wanted] = {}
    for item in wanted:
        seen.setdefault(item.requirement, item)
    return list(seen.values())
