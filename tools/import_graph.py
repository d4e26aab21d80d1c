"""Draw interpmatrix's import graph, layer by layer, and check that it is a ladder.

    python3 tools/import_graph.py          # the layers and what each module imports; exit 1 on a violation

Read with ``ast`` only (nothing is imported, so it runs with the standard library alone). A module may import
modules of its own layer or of a lower one, never of a higher one; no import circle; no ``_private`` name of
another interpmatrix module. Imports of pyperf's private modules are listed, since each must say why the public
API does not do it.
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "interpmatrix"

# Lowest first. A newcomer reads the package from the top of this list down to the entry points.
LAYERS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("data: what exists, where it lies on disk", (
        "registry", "profiles", "budget", "harness_protocol", "run_info", "results", "compat", "lock", "debian_packages", "probe", "proc", "questions", "runtimes", "discovery", "selection", "external", "resuming",
    )),
    ("model: a loaded run", ("model",)),
    ("stats: numbers, intervals and decisions", ("samples", "recorded_scatter", "intervals", "between_runs", "stats", "verdicts", "decisions", "changes")),
    ("markdown: every formatter", ("markdown",)),
    ("sections: one module per report section", ("sections",)),
    ("output: assemble and write", ("report", "plots", "compare", "merge", "pool")),
    ("measuring and entry points", ("invocation", "selftimed", "measure", "private_roots", "cpython_build", "runtime_launchers", "runtime_provision", "provision", "packages_cli", "cli", "__main__", "__init__")),
)


@dataclass
class Module:
    name: str  # dotted, relative to the package: "sections.verdict"
    imports: set[str] = field(default_factory=set)
    private_names: list[str] = field(default_factory=list)  # "stats._size" imported from elsewhere
    foreign_private: list[str] = field(default_factory=list)  # "pyperf._utils"


def layer_of(module: str) -> int:
    top = module.split(".", 1)[0]
    for index, (_, members) in enumerate(LAYERS):
        if top in members:
            return index
    raise SystemExit(f"{module} is in no layer of tools/import_graph.py: add it to LAYERS")


def _resolve(current: str, level: int, target: str | None) -> str | None:
    """The package-relative name of a relative import, or None when it leaves the package."""
    if level == 0:
        if target and (target == "interpmatrix" or target.startswith("interpmatrix.")):
            return target[len("interpmatrix."):] if target != "interpmatrix" else ""
        return None
    parts = current.split(".")
    is_package = (PACKAGE / Path(*parts) / "__init__.py").exists()
    base = parts if is_package else parts[:-1]
    base = base[: len(base) - (level - 1)] if level > 1 else base
    return ".".join([*base, *([target] if target else [])]).strip(".")


def _known(name: str, modules: Iterable[str]) -> str | None:
    """``name`` or its longest prefix that is a module of the package."""
    parts = name.split(".")
    for end in range(len(parts), 0, -1):
        candidate = ".".join(parts[:end])
        if candidate in modules:
            return candidate
    return None


def scan() -> dict[str, Module]:
    files = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        relative = path.relative_to(PACKAGE).with_suffix("")
        parts = list(relative.parts)
        if parts[-1] == "__init__" and len(parts) > 1:
            parts = parts[:-1]
        files[".".join(parts)] = path
    modules = {name: Module(name) for name in files}
    for name, path in files.items():
        module = modules[name]
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                for alias in node.names:
                    target = _resolve(name, 0, alias.name)
                    if target is None:
                        if any(part.startswith("_") for part in alias.name.split(".")[1:]):
                            module.foreign_private.append(alias.name)
                        continue
                    found = _known(target, modules)
                    if found and found != name:
                        module.imports.add(found)
            elif isinstance(node, ast.ImportFrom):
                target = _resolve(name, node.level, node.module)
                if target is None:
                    if node.module and any(part.startswith("_") for part in node.module.split(".")[1:]):
                        module.foreign_private.append(node.module)
                    continue
                for alias in node.names:
                    found = _known(f"{target}.{alias.name}".strip("."), modules) or _known(target, modules)
                    if found and found != name:
                        module.imports.add(found)
                    if alias.name.startswith("_") and not alias.name.startswith("__"):
                        module.private_names.append(f"{target}.{alias.name}")
        # `model._load_benchmarks` written as an attribute of an imported module
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
                if node.attr.startswith("_") and not node.attr.startswith("__") and node.value.id in {
                    imported.rsplit(".", 1)[-1] for imported in module.imports
                }:
                    module.private_names.append(f"{node.value.id}.{node.attr}")
    return modules


def cycles(modules: dict[str, Module]) -> list[list[str]]:
    found, state = [], {}

    def visit(name: str, path: list[str]) -> None:
        state[name] = "active"
        for target in sorted(modules[name].imports):
            if state.get(target) == "active":
                found.append(path[path.index(target):] + [target] if target in path else [name, target])
            elif target not in state:
                visit(target, [*path, target])
        state[name] = "done"

    for name in sorted(modules):
        if name not in state:
            visit(name, [name])
    return found


def violations(modules: dict[str, Module]) -> list[str]:
    problems = []
    for module in modules.values():
        if not module.name:
            continue
        for target in sorted(module.imports):
            if target and layer_of(target) > layer_of(module.name):
                problems.append(f"{module.name} imports {target}, a higher layer")
        problems += [f"{module.name} uses {name}, another module's private name" for name in module.private_names]
    problems += [f"import circle: {' -> '.join(cycle)}" for cycle in cycles(modules)]
    return problems


def main() -> int:
    modules = scan()
    for index, (title, _) in enumerate(LAYERS):
        members = sorted(name for name in modules if name and layer_of(name) == index)
        print(f"{index}. {title}")
        for name in members:
            module = modules[name]
            imports = ", ".join(sorted(module.imports)) or "-"
            private = f"   [pyperf private: {', '.join(sorted(set(module.foreign_private)))}]" if module.foreign_private else ""
            print(f"     {name:<24} <- {imports}{private}")
    problems = violations(modules)
    print()
    print("\n".join(problems) if problems else "a clean ladder: no upward import, no circle, no private name")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
