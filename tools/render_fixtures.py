"""Render every report the test fixtures can give into one folder and print each file's digest.

    python3 tools/render_fixtures.py OUT        # in a venv with pyperf, tabulate, matplotlib and packaging

Run it before and after a change that should not alter any report (a refactoring), then ``diff -r`` the two
folders: the reports and charts of tests/fixtures/run-small, run-claims and run-quick, the merged run of the last two,
and their comparison both ways.
"""

from __future__ import annotations

import hashlib
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from interpmatrix import compare, merge, report  # noqa: E402
from interpmatrix.results import RunDir  # noqa: E402

FIXTURES = REPO / "tests" / "fixtures"


def main(out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    for name in ("run-small", "run-claims", "run-quick"):
        report.write_report(RunDir(FIXTURES / name), reports_dir=out, name=name)
    runs = {"claims": RunDir(FIXTURES / "run-claims"), "quick": RunDir(FIXTURES / "run-quick")}
    with tempfile.TemporaryDirectory() as scratch:
        merged = merge.merge_runs(runs, Path(scratch) / "merged")
        report.write_report(merged, reports_dir=out, name="merged")
    (out / "compare.md").write_text(compare.render_comparison(runs["claims"], runs["quick"]), encoding="utf-8")
    (out / "compare-rev.md").write_text(compare.render_comparison(runs["quick"], runs["claims"]), encoding="utf-8")
    for path in sorted(out.iterdir()):
        print(hashlib.sha256(path.read_bytes()).hexdigest()[:16], path.name)


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    main(Path(sys.argv[1]))
