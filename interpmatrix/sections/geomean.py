"""Each interpreter's geometric mean of speed-ups over the baseline, with its interval, fastest first, over one set of
cells for all."""

from __future__ import annotations

from ..intervals import Estimator
from ..markdown import NOT_RUN, speed_interval_text, table
from ..model import Run
from ..stats import RANKED_SHARE, geometric_means, ranks, time_cell_count
from . import Charts
from .wording import shared_rank_text


def render(run: Run, charts: Charts) -> str | None:
    estimator = Estimator(run)
    ranking = geometric_means(estimator)
    if ranking is None:
        return None
    total = time_cell_count(run)
    rows = []
    for found in ranks(estimator, ranking):
        speed = "baseline" if found.column_id == run.baseline else speed_interval_text(found.mean)
        if found.rank is None:
            behind = "not ranked: no interval (cells measured once, nothing to borrow a variance from)"
        else:
            behind = shared_rank_text(found)
        rows.append(["" if found.rank is None else str(found.rank), found.column_id, speed, behind])
    for column in run.columns:
        if column.id in ranking.means:
            continue
        if column.id in ranking.left_out:
            speed = f"{NOT_RUN} not ranked: ran {ranking.left_out[column.id]} of the cells"
        else:
            speed = NOT_RUN
        rows.append(["", column.id, speed, ""])
    return "\n".join(
        [
            "## Geometric mean",
            "",
            f"The geometric mean of each interpreter's speed-ups over {run.baseline}, with its 95 % interval, over "
            f"one set of cells for all: the {len(ranking.cells)} time cells (of {total}) that depend on the "
            "interpreter (not `c`, a C program timing itself) and that every ranked interpreter and the baseline "
            f"ran. An interpreter that ran fewer than {RANKED_SHARE * 100:.0f} % of the cells the others ran is not ranked, "
            "rather than shrink everyone's set to its own. An interpreter shares the rank of the first of the rank "
            "above it when the data cannot tell them apart: the geometric mean of that one's speed-up over it, on the "
            "same cells, has an interval that holds 1 (shown after ≈).",
            "",
            table(["rank", "interpreter", f"speed vs {run.baseline}", "against the first of its rank"], rows),
        ]
    )
