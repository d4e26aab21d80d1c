"""The report's sections, one module each, in the order ``interpmatrix.report.SECTIONS`` puts them.

Every section module has the same small function, ``render(run, charts) -> str | None``: the markdown of that
section for a loaded run (``model.Run``), or None when the run has nothing for it. ``charts`` maps a chart's kind
(``speedup``, ``scaling``, ``memory``) to the markdown image link of the chart drawn beside the report, for the
sections that show one. A section asks ``stats`` for its numbers and ``markdown`` for their text, and writes the
sentences around them; ``wording`` holds the few sentences more than one section writes.
"""

from __future__ import annotations

from collections.abc import Mapping

# Chart kind -> "![alt](file.png)", for the charts drawn beside the report.
Charts = Mapping[str, str]
