"""The package is a ladder (tools/import_graph.py draws it): no upward import, no circle, no other module's private
name; and no module grows back into a monolith."""

from __future__ import annotations

import ast
import importlib.util
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
spec = importlib.util.spec_from_file_location("import_graph", REPO / "tools" / "import_graph.py")
import_graph = importlib.util.module_from_spec(spec)
sys.modules["import_graph"] = import_graph  # dataclasses look their module up there
spec.loader.exec_module(import_graph)


def test_the_import_graph_is_a_ladder() -> None:
    modules = import_graph.scan()
    assert import_graph.violations(modules) == []
    # The checker itself bites: an upward import, a circle and a private name are each found.
    modules["model"].imports.add("report")
    modules["stats"].private_names.append("model._load_benchmarks")
    found = import_graph.violations(modules)
    assert "model imports report, a higher layer" in found
    assert "stats uses model._load_benchmarks, another module's private name" in found
    assert any(problem.startswith("import circle: ") for problem in found)


def _names_from(module: str, private: str) -> set[str]:
    """The names ``interpmatrix/<module>.py`` imports from the foreign module ``private``."""
    tree = ast.parse((REPO / "interpmatrix" / f"{module}.py").read_text(encoding="utf-8"))
    return {
        alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and node.module == private
        for alias in node.names
    }


def test_only_stats_and_intervals_import_pyperfs_private_statistics() -> None:
    users = {name for name, module in import_graph.scan().items() if "pyperf._utils" in module.foreign_private}
    assert users == {"stats", "intervals"}
    # One private name each, none imported twice: stats re-exports pyperf's geometric mean, intervals takes the t
    # table pyperf's own significance test uses.
    names = {user: _names_from(user, "pyperf._utils") for user in users}
    assert names == {"stats": {"geometric_mean"}, "intervals": {"tdist95conf_level"}}


def test_report_is_a_page_and_no_module_is_a_monolith() -> None:
    sizes = {path.relative_to(REPO).as_posix(): len(path.read_text().splitlines())
             for path in (REPO / "interpmatrix").rglob("*.py")}
    assert sizes["interpmatrix/report.py"] < 150
    assert {path: lines for path, lines in sizes.items() if lines > 500} == {}
