"""Each interpreter's geometric mean of speed-ups over the baseline, fastest first."""

from __future__ import annotations

from ..markdown import NOT_RUN, speed_text, table
from ..model import Run
from ..stats import geometric_means, time_cell_count
from . import Charts


def render(run: Run, charts: Charts) -> str | None:
    if run.baseline is None:
        return None
    means = geometric_means(run)
    # Memory cells are not speeds: the geometric mean leaves them out, so does the count.
    total = time_cell_count(run)
    ranked = sorted(run.columns, key=lambda column: -means.get(column.id, (0.0, 0))[0])
    rows = []
    for column in ranked:
        mean, count = means.get(column.id, (None, 0))
        speed = NOT_RUN if mean is None else "baseline" if column.id == run.baseline else speed_text(mean)
        rows.append([column.id, speed, f"{count} of {total}"])
    return "\n".join(
        [
            "## Geometric mean",
            "",
            f"pyperf's geometric mean of each interpreter's speed-ups over {run.baseline}, over the cells that ran on "
            "both: a cell that failed on one of the two counts for neither.",
            "",
            table(["interpreter", f"speed vs {run.baseline}", "cells"], rows),
        ]
    )
