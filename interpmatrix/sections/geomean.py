"""Each interpreter's geometric mean of speed-ups over the baseline, with its interval, fastest first, over one set of
cells for all."""

from __future__ import annotations

from ..intervals import Estimator
from ..markdown import NOT_RUN, speed_interval_text, table
from ..model import Run
from ..stats import RANKED_SHARE, geometric_means, time_cell_count
from . import Charts


def render(run: Run, charts: Charts) -> str | None:
    ranking = geometric_means(Estimator(run))
    if ranking is None:
        return None
    total = time_cell_count(run)
    ranked = sorted(run.columns, key=lambda column: -(ranking.means[column.id].value if column.id in ranking.means else 0))
    rows = []
    for column in ranked:
        mean = ranking.means.get(column.id)
        if column.id == run.baseline:
            speed = "baseline"
        elif mean is not None:
            speed = speed_interval_text(mean)
        elif column.id in ranking.left_out:
            speed = f"{NOT_RUN} not ranked: ran {ranking.left_out[column.id]} of the cells"
        else:
            speed = NOT_RUN
        rows.append([column.id, speed])
    return "\n".join(
        [
            "## Geometric mean",
            "",
            f"The geometric mean of each interpreter's speed-ups over {run.baseline}, with its 95 % interval, over "
            f"one set of cells for all: the {len(ranking.cells)} time cells (of {total}) that depend on the "
            "interpreter (not `c`, a C program timing itself) and that every ranked interpreter and the baseline "
            f"ran. An interpreter that ran fewer than {RANKED_SHARE * 100:.0f} % of the cells the others ran is not ranked, "
            "rather than shrink everyone's set to its own.",
            "",
            table(["interpreter", f"speed vs {run.baseline}"], rows),
        ]
    )

