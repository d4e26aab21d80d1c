"""The markdown report of one matrix run: which interpreter to use, and the evidence for it.

Everything comes from the run's folder (``model.load_run``): never from the machine the report is built on, nor its
clock, so rebuilding a report gives the same bytes. The report is the sections of ``SECTIONS``, in that order, each a
module of ``interpmatrix.sections`` with the same ``render(run, charts)``; a section with nothing to say for this run
is left out. The charts (``plots``) are drawn first, beside the report, and the sections that show one link it.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from .model import Run, load_run
from .registry import Workload
from .results import RunDir
from .sections import (
    Charts,
    claims,
    drift,
    failures,
    free_threading,
    geomean,
    header,
    interpreters,
    memory,
    method,
    packages,
    scaling,
    seed_systems,
    standard_suite,
    then_and_now,
    verdict,
    warmup,
    workloads,
)

LATEST = "latest.md"

# The report's order: what a reader asks first ("which one?") before the evidence and how it was taken.
SECTIONS = (
    header,
    verdict,
    claims,
    then_and_now,
    seed_systems,
    free_threading,
    packages,
    interpreters,
    workloads,
    warmup,
    memory,
    scaling,
    geomean,
    standard_suite,
    failures,
    drift,
    method,
)


def render_run(run: Run, charts: Charts | None = None) -> str:
    """The markdown of a loaded run; ``charts`` maps a chart's kind to its image link (none: no chart shown)."""
    rendered = (section.render(run, charts or {}) for section in SECTIONS)
    return "\n\n".join(text for text in rendered if text) + "\n"


def render_report(
    run_dir: RunDir, baseline: str | None = None, workloads: Sequence[Workload] | None = None
) -> str:
    """The markdown report of ``run_dir``, without charts, built from its files only, so the same files give the
    same text. ``baseline`` overrides run.json's; ``workloads`` replaces the registry (for tests). Raises
    ``ValueError`` when the baseline is not an interpreter of the run."""
    return render_run(load_run(run_dir, baseline, workloads))


def write_report(
    run_dir: RunDir,
    baseline: str | None = None,
    reports_dir: Path | None = None,
    workloads: Sequence[Workload] | None = None,
    name: str | None = None,
) -> list[Path]:
    """Write ``<reports_dir>/<run-id>.md`` and ``<reports_dir>/latest.md`` with their charts; return their paths.

    ``reports_dir`` defaults to the one recorded in run.json when the run was planned. ``name`` writes
    ``<name>.md`` and ``<name>-<chart>.png`` instead, and no latest.md (the published sample, ``--name sample``).
    """
    from . import plots  # matplotlib: only the report session installs it

    run = load_run(run_dir, baseline, workloads)
    target = Path(reports_dir) if reports_dir is not None else Path(run.info.reports_dir or "reports")
    target.mkdir(parents=True, exist_ok=True)
    # The charts sit beside the report, named after it, so <run-id>.md and latest.md both show them.
    drawn = plots.write_plots(run, target, name or run.run_id)
    text = render_run(run, {plot.kind: plot.markdown for plot in drawn})
    paths = [target / f"{name}.md"] if name else [target / f"{run.run_id}.md", target / LATEST]
    for path in paths:
        path.write_text(text, encoding="utf-8")
    return paths + [plot.path for plot in drawn]
