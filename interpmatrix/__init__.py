"""interpmatrix: run the same workloads on every Python interpreter and report which claims still hold.

The package is the harness. It finds interpreters (``discovery``) and provisions missing ones (``provision``), knows
the workloads, the questions asked of them and the profiles as data (``registry``, ``questions``, ``profiles``), and
drives pyperf worker processes across interpreters in interleaved rounds (``measure``): it never times anything in
its own process. The output half is a ladder (``tools/import_graph.py`` draws it): a run folder (``results``) is
loaded once (``model``), its numbers come from ``stats``, their text from ``markdown``, and each report section is a
module of ``sections``; ``report``, ``plots``, ``compare`` and ``merge`` assemble and write.
"""

__version__ = "0.1.0"
