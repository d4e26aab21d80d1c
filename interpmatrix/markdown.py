"""Every formatter of the reports, once: numbers, durations, dates, versions, table cells and the one table.

Text only: nothing here decides anything (the numbers come from ``stats``, the facts from ``model``). The table is
tabulate's, in GitHub markdown; tabulate is imported when a table is made, not with this module, because the
orchestrating half (``provision``, run by nox's own Python) formats durations here without any venv.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime, timezone
from typing import TYPE_CHECKING

from packaging.requirements import InvalidRequirement, Requirement

from .runtimes import DISPLAY_NAMES

if TYPE_CHECKING:  # types only: this module reads their fields and never builds one
    import pyperf

    from .discovery import Interpreter
    from .intervals import Interval
    from .registry import Cell, Workload

NOT_RUN = "—"


# --------------------------------------------------------------------------------------------------------------------
# Tables and free text


def table(headers: Sequence[str], rows: Iterable[Sequence[object]]) -> str:
    """A GitHub-markdown table; cells are shown as given (no number parsing: ``1.50×`` stays ``1.50×``)."""
    from tabulate import tabulate

    return tabulate(list(rows), headers=list(headers), tablefmt="github", disable_numparse=True)


def md(text: str) -> str:
    """Free text (failure reasons) made safe for one markdown table cell."""
    return " ".join(text.split()).replace("|", "\\|")


def first_sentence(reason: str) -> str:
    """The gist of a long reason for a table cell (the failures table keeps it whole): the part after the last
    ``failed:`` (what the tool itself said), up to its first full stop."""
    gist = reason.rsplit("failed: ", 1)[-1]
    return gist.split(". ", 1)[0].rstrip(".")


def plural(count: int, one: str, many: str) -> str:
    return f"{count} {one if count == 1 else many}"


def span(numbers: Iterable[int]) -> str:
    """``3`` or ``3–8``: the range of a count over several files."""
    found = sorted(set(numbers))
    if not found:
        return NOT_RUN
    return str(found[0]) if found[0] == found[-1] else f"{found[0]}–{found[-1]}"


# --------------------------------------------------------------------------------------------------------------------
# Ratios and fractions


def times(ratio: float) -> str:
    """``1.52×``, ``15.3×``, ``153×``: three significant digits are all a benchmark can back."""
    if ratio >= 100:
        return f"{ratio:.0f}×"
    return f"{ratio:.1f}×" if ratio >= 10 else f"{ratio:.2f}×"


def speed_text(ratio: float) -> str:
    """``1.52× faster`` or ``1.30× slower``, for a ratio of the baseline's time over the cell's."""
    return f"{times(ratio)} faster" if ratio >= 1 else f"{times(1 / ratio)} slower"


def memory_ratio_text(ratio: float) -> str:
    """``1.52× less memory`` or ``1.30× more memory``, for a ratio of baseline over cell."""
    return f"{times(ratio)} less memory" if ratio >= 1 else f"{times(1 / ratio)} more memory"


def percent(fraction: float, signed: bool = False) -> str:
    return f"{fraction * 100:+.1f} %" if signed else f"{fraction * 100:.1f} %"


def factor_percent(factor: float) -> str:
    """``10 %`` for a factor of 1.10: how far either way a band around a figure reaches."""
    return f"{round((factor - 1) * 100)} %"


def bounds_text(interval: Interval) -> str:
    """``[1.41–1.64]``: a ratio's 95 % interval, or ``[no interval]`` when one process cannot give one."""
    if not interval.known:
        return "[no interval]"
    return f"[{_bound(interval.low)}–{_bound(interval.high)}]"


def _bound(ratio: float) -> str:
    return times(ratio).rstrip("×")


def ratio_text(interval: Interval) -> str:
    """``1.52× [1.41–1.64]``."""
    return f"{times(interval.value)} {bounds_text(interval)}"


def speed_interval_text(interval: Interval, memory: bool = False) -> str:
    """``1.52× faster [1.41–1.64]`` / ``1.30× slower [1.20–1.41]`` (``less``/``more memory``), for baseline ÷ cell."""
    # The bounds read the way the words do: "1.30× slower [1.20–1.41]", not the ratio's own [0.71–0.83].
    shown = interval if interval.value >= 1 else interval.inverse()
    return f"{(memory_ratio_text if memory else speed_text)(interval.value)} {bounds_text(shown)}"


def change_interval_text(interval: Interval) -> str:
    """``+12.0 % [+8.1 % to +16.0 %]``: a ratio of times as the change it is (1.12 is 12 % more time)."""
    text = percent(interval.value - 1, signed=True)
    if not interval.known:
        return f"{text} [no interval]"
    return f"{text} [{percent(interval.low - 1, signed=True)} to {percent(interval.high - 1, signed=True)}]"


# --------------------------------------------------------------------------------------------------------------------
# Times, durations, dates


def time_text(benchmark: pyperf.Benchmark) -> str:
    """pyperf's ``mean ± std dev`` in its own units."""
    if benchmark.get_nvalue() < 2:
        return benchmark.format_value(benchmark.mean())
    return "%s ± %s" % tuple(benchmark.format_values([benchmark.mean(), benchmark.stdev()]))


def value_text(benchmark: pyperf.Benchmark) -> str:
    """The cell's mean alone, in pyperf's units (``12.3 ms``, ``76.5 MiB``)."""
    return benchmark.format_value(benchmark.mean())


def seconds_text(seconds: float) -> str:
    """A time a reader weighs, at two or three digits: ``1.2 s``, ``145 ms``, ``72 µs``."""
    if seconds >= 1:
        return f"{seconds:.1f} s"
    if seconds >= 1e-3:
        return f"{seconds * 1e3:.0f} ms"
    return f"{seconds * 1e6:.0f} µs"


def duration(seconds: float | None) -> str:
    """A wall time: ``m:ss`` (``h:mm:ss`` past an hour); ``not finished`` for a run without one."""
    if seconds is None:
        return "not finished"
    minutes, secs = divmod(int(round(seconds)), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def date_text(text: str | None) -> str:
    """An ISO time stamp of run.json as ``2026-11-22 02:36 UTC``: never in the local zone of whoever rebuilds a
    report (cli.py writes UTC; a naive stamp is taken as UTC too)."""
    if not text:
        return "unknown"
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")


# --------------------------------------------------------------------------------------------------------------------
# Names of things


def requirement_version(requirements: Sequence[str], name: str) -> str:
    """The pinned version of ``name`` among pip requirement strings (``pyperf==2.10.0`` -> ``2.10.0``); the whole
    requirement when it pins nothing exactly; ``unknown`` when it is not there."""
    for text in requirements:
        try:
            requirement = Requirement(text)
        except InvalidRequirement:
            continue
        if requirement.name.lower() != name.lower():
            continue
        pinned = [spec.version for spec in requirement.specifier if spec.operator == "=="]
        return pinned[0] if pinned else text
    return "unknown"


def version_text(interpreter: Interpreter) -> str:
    if interpreter.implementation == "pypy":
        return f"{interpreter.version} (PyPy {interpreter.implementation_version})"
    if interpreter.implementation in DISPLAY_NAMES:  # a runtime found by its marker: the language, then its own
        return f"{interpreter.version} ({DISPLAY_NAMES[interpreter.implementation]} {interpreter.implementation_version})"
    return interpreter.version


def size_text(workload: Workload, size: int) -> str:
    return f"{workload.size_label}={size:,}"


def row_label(workload: Workload, cell: Cell) -> str:
    """``threads ×2``, plus the size when the workload is measured at several."""
    return f"{cell.label} {size_text(workload, cell.size)}" if len(workload.sizes) > 1 else cell.label


def cell_label(workload: Workload, cell: Cell) -> str:
    """``primes cython ×2``: a cell named outside its workload's own table."""
    return f"{workload.name} {row_label(workload, cell)}"
