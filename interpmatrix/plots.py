"""The report's charts, drawn from a loaded run: speed-ups over the baseline, scaling with workers, peak memory.

Each chart is a PNG the markdown report embeds beside its tables; the numbers are the report's own (``stats``: the same
ratios and scaling pairs as the tables), so a chart never says something the tables do not. Drawing goes through
matplotlib's object-oriented ``Figure`` rendered by Agg, not pyplot: no global figure registry to leak or close, no
backend switch for whoever imports this module, and never a window. Everything is derived from the run's files in a
fixed order, with matplotlib's default style (not the user's matplotlibrc), fixed sizes and dpi and no software
stamp in the PNG, so the same run folder gives byte-identical files on the same machine.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import matplotlib.style
from matplotlib import colormaps
from matplotlib.axes import Axes
from matplotlib.colors import to_hex
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.ticker import FixedLocator, FuncFormatter, NullLocator

from .discovery import Interpreter
from .markdown import cell_label, ratio_text, size_text, speed_interval_text, times
from .model import Column, Run, is_memory
from .registry import GROUPS, Cell, Workload
from .intervals import Estimator, Interval
from .stats import scaling_pairs, scaling_ratio
from .verdicts import reference_cell

SPEEDUP, SCALING, MEMORY = "speedup", "scaling", "memory"
# 150 dots an inch: the 6-point labels of a 14-interpreter chart are 12 pixels high, legible when zoomed.
DPI = 150
MIB = 2**20
# Colour families, in the order the charts list interpreters: a family's shades run from light (oldest version) to
# dark (newest), so two builds of one family stay apart and the newest stands out.
FAMILIES = (
    ("cpython", "Blues"),
    ("cpython-free-threaded", "Oranges"),
    ("pypy", "Greens"),
    ("other", "Purples"),
)
# Shades of a family's colour map: lighter than 0.4 is too pale on white, darker than 0.9 is near black.
_LIGHTEST, _DARKEST, _ONLY = 0.45, 0.9, 0.7
_MISSING = "n/a"
_IDEAL_COLOUR = "0.45"
_STYLE = {"font.size": 9, "axes.titlesize": 9, "legend.fontsize": 9, "figure.titlesize": 11}


@dataclass(frozen=True)
class Plot:
    """One chart written to disk: embed it as ``![alt](path)`` under ``title``."""

    kind: str  # SPEEDUP, SCALING or MEMORY
    path: Path
    title: str
    # What the chart shows, in words and its main figures, for a reader who cannot see it.
    alt: str

    @property
    def markdown(self) -> str:
        """The image link, relative to the report, which is written in the same folder."""
        return f"![{self.alt}]({self.path.name})"


# --------------------------------------------------------------------------------------------------------------------
# Colours


def family(interpreter: Interpreter) -> str:
    """The colour family: ``cpython`` (GIL build), ``cpython-free-threaded``, ``pypy`` or ``other``."""
    if interpreter.implementation == "cpython":
        return "cpython-free-threaded" if interpreter.free_threaded else "cpython"
    return "pypy" if interpreter.implementation == "pypy" else "other"


def _order_key(interpreter: Interpreter) -> tuple:
    names = [name for name, _ in FAMILIES]
    return names.index(family(interpreter)), interpreter.version_tuple, interpreter.id


def interpreter_colours(interpreters: Iterable[Interpreter]) -> dict[str, str]:
    """Interpreter id -> hex colour: a blue for GIL CPython, an orange for free-threaded CPython, a green for PyPy
    (a purple for anything else), lighter for older versions within a family.

    Only the set of interpreters matters, not their order, so every chart of a run colours each one alike.
    """
    members: dict[str, list[Interpreter]] = {}
    for interpreter in sorted({i.id: i for i in interpreters}.values(), key=_order_key):
        members.setdefault(family(interpreter), []).append(interpreter)
    colours = {}
    for name, colour_map in FAMILIES:
        found = members.get(name, [])
        for rank, interpreter in enumerate(found):
            shade = _ONLY if len(found) == 1 else _LIGHTEST + (_DARKEST - _LIGHTEST) * rank / (len(found) - 1)
            colours[interpreter.id] = to_hex(colormaps[colour_map](shade))
    return colours


def _ordered(columns: Iterable[Column]) -> list[Column]:
    """Columns by family, then oldest version first: the order of every legend."""
    return sorted(columns, key=lambda column: _order_key(column.interpreter))


# --------------------------------------------------------------------------------------------------------------------
# What the charts show, as numbers


def _by_group(workloads: Iterable[Workload]) -> list[Workload]:
    """The report's section order: registry.GROUPS, registry order within a group."""
    return sorted(workloads, key=lambda w: GROUPS.index(w.group) if w.group in GROUPS else len(GROUPS))


def _label(workload: Workload, cell: Cell) -> str:
    """The bar group's label: the cell's name outside its table, a line each for the workload, the variant and the
    rest (its size, its workers): on one line, ``pure_memory n=1,000,000`` ran into the next group's label."""
    return "\n".join(cell_label(workload, cell).split(" ", 2))


@dataclass(frozen=True)
class Bars:
    """Grouped bars: one group per label, one series (interpreter id -> values, None where not run) per colour."""

    labels: list[str]
    series: dict[str, list[float | None]]
    # Per series, each bar's 95 % interval (low, high), None where it has none; empty: no intervals drawn.
    intervals: dict[str, list[tuple[float, float] | None]] = field(default_factory=dict)


def speedup_bars(run: Run) -> Bars | None:
    """Per workload's reference cell, each non-baseline interpreter's speed-up over the baseline with its interval;
    None without a baseline or without a single cell measured on both."""
    baseline = run.baseline_column
    if baseline is None:
        return None
    others = [column for column in _ordered(run.columns) if column.id != baseline.id]
    labels: list[str] = []
    series: dict[str, list[float | None]] = {column.id: [] for column in others}
    intervals: dict[str, list[tuple[float, float] | None]] = {column.id: [] for column in others}
    estimator = Estimator(run)
    for workload in _by_group(run.workloads):
        has_reference = any(cell.variant == workload.reference for cell in workload.cells())
        cell = reference_cell(workload) if has_reference else None
        base = baseline.benchmark(cell) if cell is not None else None
        if base is None or is_memory(base):
            continue
        labels.append(_label(workload, cell))
        for column in others:
            found = estimator.ratio((baseline, cell), (column, cell))
            series[column.id].append(found.value if found is not None else None)
            intervals[column.id].append((found.low, found.high) if found is not None and found.known else None)
    if not any(value is not None for values in series.values() for value in values):
        return None
    return Bars(labels, series, intervals)


def memory_bars(run: Run) -> Bars | None:
    """Every memory cell's peak memory in MiB per interpreter; None when the run has none."""
    columns = _ordered(run.columns)
    labels: list[str] = []
    series: dict[str, list[float | None]] = {column.id: [] for column in columns}
    for workload in _by_group(run.workloads):
        for cell in workload.cells():
            benches = {column.id: column.benchmark(cell) for column in columns}
            if not any(bench is not None and is_memory(bench) for bench in benches.values()):
                continue
            labels.append(_label(workload, cell))
            for iid, bench in benches.items():
                series[iid].append(bench.mean() / MIB if bench is not None else None)
    return Bars(labels, series) if labels else None


@dataclass(frozen=True)
class ScalingPanel:
    """One variant with workers: per interpreter, (workers, speed-up over ``against`` at that count)."""

    title: str
    against: str  # what the speed-up is over, e.g. "threads ×1" or "serial ×N"
    same_n: bool  # against the reference at the same worker count, not the variant itself at 1
    workers: tuple[int, ...]
    lines: dict[str, list[tuple[int, float]]]


def scaling_panels(run: Run) -> list[ScalingPanel]:
    """The scaling chart's panels, from the scaling table's pairs (``stats.scaling_pairs``): each variant with workers
    against itself with 1 worker, or, where the reference variant has workers too (io_threads: N clients served one
    after another), against the reference at the same N. The table's rows against a reference without workers have
    no panel. Panels where no interpreter measured a pair are left out."""
    panels = []
    estimator = Estimator(run)
    for workload in _by_group(run.workloads):
        cells = set(workload.cells())
        grouped: dict[tuple[str, int], list] = {}
        for pair in scaling_pairs(workload):
            if pair.against != "reference" and pair.base in cells and pair.cell in cells:
                grouped.setdefault((pair.variant, pair.size), []).append(pair)
        for (variant, size), pairs in grouped.items():
            lines = {}
            for column in _ordered(run.columns):
                points = [
                    (pair.workers, ratio.value)
                    for pair in pairs
                    if (ratio := scaling_ratio(estimator, column, pair)) is not None
                ]
                if points:
                    lines[column.id] = points
            if lines:
                same_n = pairs[0].against == "same_n"
                size_note = f" {size_text(workload, size)}" if len(workload.sizes) > 1 else ""
                against = f"{workload.reference} ×N" if same_n else f"{variant} ×1"
                counts = tuple(pair.workers for pair in pairs)
                panels.append(ScalingPanel(f"{workload.name} {variant}{size_note}", against, same_n, counts, lines))
    return panels


# --------------------------------------------------------------------------------------------------------------------
# Drawing


def _ratio_text(value: float) -> str:
    """Tick labels: ``0.5×``, ``1×``, ``20×``, ``1,000×``."""
    return f"{value:,.0f}×" if value >= 1 else f"{value:g}×"


def _ratio_ticks(low: float, high: float, base: int) -> list[float]:
    """1-2-5 ticks (powers of 2 for ``base`` 2) between ``low`` and ``high``, at most about a dozen."""
    if base == 2:
        ticks = [2.0**e for e in range(-12, 13)]
    else:
        ticks = [m * 10.0**e for e in range(-6, 7) for m in (1, 2, 5)]
        if sum(1 for t in ticks if low <= t <= high) > 12:
            ticks = [10.0**e for e in range(-6, 7)]
    return [t for t in ticks if low <= t <= high]


def _ratio_axis(ax: Axes, low: float, high: float, base: int = 10) -> None:
    ax.set_yscale("log", base=base)
    ax.set_ylim(low, high)
    ax.yaxis.set_major_locator(FixedLocator(_ratio_ticks(low, high, base)))
    ax.yaxis.set_major_formatter(FuncFormatter(lambda value, _: _ratio_text(value)))
    ax.yaxis.set_minor_locator(NullLocator())


def _draw_bars(ax: Axes, bars: Bars, colours: dict[str, str], value_text, log: bool) -> None:
    """Grouped bars, each labelled with its value; a bar that did not run is marked n/a, never drawn as zero.

    On the log axis bars grow from 1× (up: faster, down: slower), so a bar's length is its ratio.
    """
    count = len(bars.series)
    width = 0.8 / count
    floor = 1.0 if log else 0.0
    # Labels run along narrow bars, across wide ones (inches of bar: the axes are about the figure less an inch).
    bar_inches = (ax.figure.get_figwidth() - 1.0) / len(bars.labels) * width
    rotation = 0 if bar_inches >= 0.5 else 90
    # A label turned along a bar is as wide as its font is high: 7 points (0.1 inch) spill onto the next bar below
    # about an eighth of an inch, 6 points still fit a tenth (14 interpreters on 10 workloads give 0.09 inch).
    fontsize = 7 if bar_inches >= 0.12 else 6
    for index, (iid, values) in enumerate(bars.series.items()):
        for group, value in enumerate(values):
            x = group - 0.4 + width * (index + 0.5)
            if value is None:
                ax.text(x, floor, _MISSING, rotation=rotation, ha="center", va="bottom", fontsize=7, color="0.4")
                continue
            ax.bar(x, value - floor, width, bottom=floor, color=colours[iid], edgecolor="white", linewidth=0.5)
            interval = bars.intervals.get(iid, [None] * len(values))[group]
            if interval is not None:
                # The 95 % interval as a thin whisker over the bar's end: a bar whose whisker crosses 1× is no win.
                ax.plot([x, x], interval, color="0.15", linewidth=0.8, solid_capstyle="butt")
            up = value >= floor
            # The label starts past the whisker's far end, so that the two never cross.
            end = value if interval is None else (max(value, *interval) if up else min(value, *interval))
            ax.annotate(
                value_text(value), (x, end), xytext=(0, 2 if up else -2), textcoords="offset points",
                rotation=rotation, ha="center", va="bottom" if up else "top", fontsize=fontsize,
            )
    ax.set_xticks(range(len(bars.labels)), bars.labels)
    ax.set_xlim(-0.6, len(bars.labels) - 0.4)
    ax.tick_params(axis="x", length=0)
    ax.grid(axis="y", color="0.9", linewidth=0.6)
    ax.set_axisbelow(True)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)


def _bar_figure(bars: Bars) -> Figure:
    # Width from the number of bars, bounded: wide enough for the group labels, narrow enough for a page.
    width = min(16.0, max(7.0, 1.2 + len(bars.labels) * (0.5 + 0.28 * len(bars.series))))
    return Figure(figsize=(width, 5.0), dpi=DPI, layout="constrained")


def _legend(fig: Figure, handles: list) -> None:
    # Below the axes, outside them: it never hides a bar or a line, nor the title. As many entries a row as the
    # figure's width holds (an entry is about two inches), so no entry is cut off at the edges.
    columns = max(1, min(len(handles), int(fig.get_figwidth() // 2.1)))
    fig.legend(handles=handles, loc="outside lower center", ncols=columns, frameon=False)


def _patches(ids: Iterable[str], colours: dict[str, str]) -> list[Patch]:
    return [Patch(facecolor=colours[iid], label=iid) for iid in ids]


def _speedup_figure(run: Run, bars: Bars, colours: dict[str, str]) -> Figure:
    values = [value for series in bars.series.values() for value in series if value is not None]
    # Head room for the value labels above the highest bar and below the lowest.
    low, high = min(min(values), 1.0) / 4, max(max(values), 1.0) * 4
    fig = _bar_figure(bars)
    ax = fig.add_subplot()
    _ratio_axis(ax, low, high)
    ax.axhline(1.0, color="black", linewidth=0.8)
    _draw_bars(ax, bars, colours, times, log=True)
    ax.set_ylabel(f"times faster than {run.baseline} (log scale)")
    fig.suptitle(f"Speed-up over {run.baseline}, on each workload's reference cell")
    _legend(fig, _patches(bars.series, colours))
    return fig


def _speedup_alt(run: Run, bars: Bars) -> str:
    cells = ", ".join(label.replace("\n", " ") for label in bars.labels)
    ranges = []
    for iid, series in bars.series.items():
        found = [value for value in series if value is not None]
        if found:
            low, high = times(min(found)), times(max(found))
            ranges.append(f"{iid} {low}" if low == high else f"{iid} from {low} to {high}")
    missing = [
        f"{iid} {label.replace(chr(10), ' ')}"
        for iid, series in bars.series.items()
        for label, value in zip(bars.labels, series)
        if value is None
    ]
    not_run = f" Marked n/a, not measured on both: {', '.join(missing)}." if missing else ""
    return (
        f"Grouped bar chart on a log scale: how many times faster than {run.baseline} each interpreter runs each "
        f"workload's reference cell ({cells}); bars above 1× are faster, below slower. "
        f"{'; '.join(ranges)}.{not_run}"
    )


def _memory_figure(bars: Bars, colours: dict[str, str]) -> Figure:
    values = [value for series in bars.series.values() for value in series if value is not None]
    fig = _bar_figure(bars)
    ax = fig.add_subplot()
    _draw_bars(ax, bars, colours, lambda value: f"{value:,.1f}", log=False)
    ax.set_ylim(0, max(values) * 1.2)
    ax.set_ylabel("peak memory (MiB)")
    fig.suptitle("Peak memory of the memory cells (pyperf --track-memory)")
    _legend(fig, _patches(bars.series, colours))
    return fig


def _memory_alt(bars: Bars) -> str:
    parts = []
    for group, label in enumerate(bars.labels):
        figures = [
            f"{iid} {series[group]:,.1f}" for iid, series in bars.series.items() if series[group] is not None
        ]
        parts.append(f"{label.replace(chr(10), ' ')}: {', '.join(figures)} MiB")
    return f"Grouped bar chart of peak memory per interpreter, in MiB. {'; '.join(parts)}."


def _scaling_figure(run: Run, panels: list[ScalingPanel], colours: dict[str, str],
                    parallelism: Interval | None) -> Figure:
    ncols = min(4, len(panels))
    nrows = math.ceil(len(panels) / ncols)
    fig = Figure(figsize=(3.3 * ncols, 2.8 * nrows + 0.8), dpi=DPI, layout="constrained")
    axes = fig.subplots(nrows, ncols, squeeze=False).flatten()
    for ax, panel in zip(axes, panels):
        values = [ratio for points in panel.lines.values() for _, ratio in points]
        # What the machine's own two threads of C code gave while the run measured: no line of a panel about cores
        # rises above it for want of the interpreter (io_threads' waits, against serial at the same N, need none).
        machine = parallelism if parallelism is not None and 2 in panel.workers and not panel.same_n else None
        if machine is not None:
            values += [bound for bound in (machine.value, machine.low, machine.high) if bound is not None]
        low = min(min(values), 1.0) / 1.5
        high = max(max(values), max(panel.workers)) * 1.5
        _ratio_axis(ax, low, high, base=2)
        ax.set_xscale("log", base=2)
        ax.xaxis.set_major_locator(FixedLocator(panel.workers))
        ax.xaxis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:g}"))
        ax.xaxis.set_minor_locator(NullLocator())
        ax.set_xlim(min(panel.workers) / 1.25, max(panel.workers) * 1.25)
        ax.plot(panel.workers, panel.workers, linestyle="--", color=_IDEAL_COLOUR, linewidth=1)
        ax.axhline(1.0, color="0.8", linewidth=0.8)
        for iid, points in panel.lines.items():
            xs, ys = zip(*points)
            ax.plot(xs, ys, marker="o", markersize=4, linewidth=1.6, color=colours[iid])
        if machine is not None:
            spread = None if not machine.known else [[machine.value - machine.low], [machine.high - machine.value]]
            ax.errorbar([2], [machine.value], yerr=spread, fmt="x", color="black", markersize=8, capsize=3, zorder=5)
        ax.set_title(f"{panel.title}\nvs {panel.against}")
        ax.set_xlabel("workers")
        ax.grid(color="0.92", linewidth=0.6)
    for ax in axes[len(panels):]:
        ax.set_visible(False)
    cores = run.info.host.cores
    machine = f" on a {cores}-core machine" if cores else ""
    fig.suptitle(f"Scaling with workers{machine}: speed-up over the cell under each title")
    ids = [column.id for column in _ordered(run.columns) if any(iid == column.id for p in panels for iid in p.lines)]
    handles = [Line2D([], [], color=colours[iid], marker="o", markersize=4, label=iid) for iid in ids]
    handles.append(Line2D([], [], color=_IDEAL_COLOUR, linestyle="--", label="ideal: N× with N workers"))
    if parallelism is not None:
        handles.append(Line2D([], [], color="black", marker="x", linestyle="none",
                              label=f"the machine's own two threads: {ratio_text(parallelism)}"))
    _legend(fig, handles)
    return fig


def _scaling_alt(panels: list[ScalingPanel], parallelism: Interval | None) -> str:
    parts = []
    for panel in panels:
        # Against the variant at 1 worker, its own 1-worker point is 1× by definition: only more workers tell.
        found = [
            (iid, point)
            for iid, points in panel.lines.items()
            for point in points
            if panel.same_n or point[0] > 1
        ]
        if not found:
            continue
        best_id, (best_workers, best) = max(found, key=lambda item: item[1][1])
        parts.append(f"{panel.title} vs {panel.against}: best {times(best)} ({best_id} at ×{best_workers})")
    return (
        "Line charts on log scales, one per variant with workers: the speed-up at each worker count over the same "
        "variant with 1 worker (over the reference with the same N where it has workers too), one line per "
        f"interpreter, with the ideal N× dashed. {'; '.join(parts)}."
        + (f" The machine's own two threads of C code ran {speed_interval_text(parallelism)} than one while the run "
           "measured, marked × at 2 workers." if parallelism is not None else "")
    )


def _save(fig: Figure, path: Path) -> None:
    # No "Software" stamp: the bytes depend on the drawing only.
    fig.savefig(path, format="png", dpi=DPI, metadata={"Software": None})


def write_plots(run: Run, out_dir: Path, stem: str) -> list[Plot]:
    """Draw the run's charts as ``<out_dir>/<stem>-<kind>.png`` (kinds: speedup, scaling, memory) and return them,
    in that order.

    A chart the run has no data for (no baseline, no variant with workers, no memory cell) is not drawn, and an
    earlier file of that name is removed: it would show another baseline or another run than the report beside it.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    colours = interpreter_colours(column.interpreter for column in run.columns)
    speedups, panels, memory = speedup_bars(run), scaling_panels(run), memory_bars(run)
    parallelism = Estimator(run).machine_parallelism
    charts = (
        (SPEEDUP, speedups, lambda: _speedup_figure(run, speedups, colours), f"Speed-up over {run.baseline}",
         lambda: _speedup_alt(run, speedups)),
        (SCALING, panels, lambda: _scaling_figure(run, panels, colours, parallelism), "Scaling with workers",
         lambda: _scaling_alt(panels, parallelism)),
        (MEMORY, memory, lambda: _memory_figure(memory, colours), "Peak memory", lambda: _memory_alt(memory)),
    )
    written = []
    # matplotlib's defaults, not the matplotlibrc of whoever builds the report: the same run draws the same files.
    with matplotlib.style.context(["default", _STYLE]):
        for kind, data, draw, title, alt in charts:
            path = out_dir / f"{stem}-{kind}.png"
            if not data:
                path.unlink(missing_ok=True)
                continue
            _save(draw(), path)
            written.append(Plot(kind, path, title, alt()))
    return written
