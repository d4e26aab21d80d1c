"""The markdown reports render as intended: through Python-Markdown (``markdown``, pinned in the scratch environment
as markdown==3.11.3, with its ``tables`` and ``fenced_code`` extensions), every table is an HTML table and every
image is a file beside the report.

A table that a renderer does not recognise (no blank line before it, a row that breaks the block) shows up as raw
``| a | b |`` text in a paragraph; an image whose file is missing shows up as a broken picture. Neither is visible
in the markdown itself, so ``broken_parts`` renders it and looks. It runs on the golden reports, the committed
reports and on reports ``write_report`` writes with their charts.
"""

from __future__ import annotations

import re
import subprocess
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest

markdown = pytest.importorskip("markdown")

from interpmatrix import merge, report
from interpmatrix.results import RunDir

REPO = Path(__file__).parent.parent
FIXTURES = Path(__file__).parent / "fixtures"
EXTENSIONS = ["tables", "fenced_code"]
DELIMITER_ROW = re.compile(r"^\|(\s*:?-+:?\s*\|)+\s*$")
FENCE = re.compile(r"^(```|~~~)")


class _Html(HTMLParser):
    """What broken_parts looks at in the rendered HTML: tables, rows, images, and the text of paragraphs."""

    def __init__(self) -> None:
        super().__init__()
        self.tables = 0
        self.rows = 0
        self.images: list[str | None] = []
        self.paragraphs: list[str] = []
        self._in_paragraph = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "table":
            self.tables += 1
        elif tag == "tr":
            self.rows += 1
        elif tag == "img":
            self.images.append(dict(attrs).get("src"))
        elif tag == "p":
            self._in_paragraph += 1
            self.paragraphs.append("")

    def handle_endtag(self, tag: str) -> None:
        if tag == "p" and self._in_paragraph:
            self._in_paragraph -= 1

    def handle_data(self, data: str) -> None:
        if self._in_paragraph:
            self.paragraphs[-1] += data


def markdown_tables(text: str) -> list[list[str]]:
    """The markdown's tables: runs of lines starting with ``|`` (outside fenced code) whose second line is a
    delimiter row (``|---|:--|``)."""
    blocks: list[list[str]] = []
    current: list[str] = []
    fenced = False
    for line in text.splitlines():
        if FENCE.match(line):
            fenced = not fenced
        if not fenced and line.startswith("|"):
            current.append(line)
            continue
        if current:
            blocks.append(current)
        current = []
    if current:
        blocks.append(current)
    return [block for block in blocks if len(block) >= 2 and DELIMITER_ROW.match(block[1])]


def broken_parts(markdown_path: Path) -> list[str]:
    """What does not render as intended in the report at ``markdown_path``: one line per problem, [] when none.

    Checks that every table of the markdown became an HTML table with all its rows, that no table text was left in a
    paragraph, and that every image is a file that exists relative to the markdown's folder.
    """
    markdown_path = Path(markdown_path)
    text = markdown_path.read_text(encoding="utf-8")
    html = _Html()
    html.feed(markdown.markdown(text, extensions=EXTENSIONS))
    html.close()
    problems = []
    tables = markdown_tables(text)
    if html.tables != len(tables):
        problems.append(f"{len(tables)} markdown tables rendered as {html.tables} <table> elements")
    rows = sum(len(table) - 1 for table in tables)  # every line but the delimiter row is a <tr>
    if html.rows != rows:
        problems.append(f"the markdown tables have {rows} rows, the HTML {html.rows} <tr> elements")
    for paragraph in html.paragraphs:
        for line in paragraph.splitlines():
            if line.lstrip().startswith("|"):
                problems.append(f"table text left in a paragraph: {line.strip()[:80]!r}")
            if "![" in line:
                problems.append(f"image markdown left as text: {line.strip()[:80]!r}")
    for src in html.images:
        if not src:
            problems.append("an <img> without src")
            continue
        parts = urlsplit(src)
        if parts.scheme or parts.netloc or src.startswith("/"):
            problems.append(f"image {src!r} is not a file beside the report")
            continue
        if not (markdown_path.parent / unquote(parts.path)).is_file():
            problems.append(f"image {src!r}: no file {unquote(parts.path)} in {markdown_path.parent}")
    return problems


def committed_reports() -> list[Path]:
    """The markdown files under reports/ that git tracks (reports/sample.md, when git cannot say)."""
    try:
        listed = subprocess.run(
            ["git", "ls-files", "--", "reports/*.md"], cwd=REPO, capture_output=True, text=True, check=True
        ).stdout.split()
    except (OSError, subprocess.CalledProcessError):
        listed = ["reports/sample.md"]
    return [REPO / name for name in listed]


REPORTS = [FIXTURES / "report-small.md", FIXTURES / "report-merged.md", *committed_reports()]


@pytest.mark.parametrize("path", REPORTS, ids=[path.relative_to(REPO).as_posix() for path in REPORTS])
def test_report_renders_its_tables_and_images(path: Path) -> None:
    assert markdown_tables(path.read_text(encoding="utf-8")), f"{path} has no table: the check would be empty"
    assert broken_parts(path) == []


def test_reports_written_with_their_charts_render(tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")  # write_report draws the charts
    merged = merge.merge_runs(
        {"machine-a": RunDir(FIXTURES / "run-claims"), "machine-b": RunDir(FIXTURES / "run-quick")},
        tmp_path / "results" / "merged",
    )
    for run_dir in (RunDir(FIXTURES / "run-small"), merged):
        reports_dir = tmp_path / "reports" / run_dir.path.name
        written = report.write_report(run_dir, reports_dir=reports_dir)
        for path in (path for path in written if path.suffix == ".md"):
            assert broken_parts(path) == []


def test_broken_parts_finds_what_does_not_render(tmp_path: Path) -> None:
    (tmp_path / "there.png").write_bytes(b"")
    page = tmp_path / "page.md"
    page.write_text(
        "# Title\n\nA paragraph right above a table:\n| a | b |\n|---|---|\n| 1 | 2 |\n\n"
        "| c | d |\n|---|---|\n| 3 | 4 |\n\n"
        "![present](there.png) ![missing](missing.png) ![remote](https://example.org/x.png)\n\n"
        "```sh\n| not | a table |\n|---|---|\n```\n",
        encoding="utf-8",
    )
    assert broken_parts(page) == [
        "2 markdown tables rendered as 1 <table> elements",
        "the markdown tables have 4 rows, the HTML 2 <tr> elements",
        "table text left in a paragraph: '| a | b |'",
        "table text left in a paragraph: '|---|---|'",
        "table text left in a paragraph: '| 1 | 2 |'",
        f"image 'missing.png': no file missing.png in {tmp_path}",
        "image 'https://example.org/x.png' is not a file beside the report",
    ]
