"""interpmatrix: run the same workloads on every Python interpreter and report which claims still hold.

The package is the harness: it finds interpreters (``discovery``), knows the workloads and profiles as data
(``registry``, ``profiles``), drives pyperf worker processes across interpreters in interleaved rounds
(``measure``), and writes the markdown report (``report``). It never times anything in its own process.
"""

__version__ = "0.1.0"
