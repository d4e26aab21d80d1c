"""Runtimes that cannot run probe.py nor pyperf, found by the marker their provisioning wrote.

Jython, MicroPython and Pyodide have no ``sysconfig`` to ask (MicroPython), or run only through a launcher (Pyodide
under Node.js, Jython on the JVM), so discovery does not probe them: whoever provisions one writes
``<cache>/interpreters/<folder>/interpmatrix-runtime.json`` last, once the runtime works, and that file says what it
is. A folder without it is not finished and is ignored. The marker's keys:

- ``implementation``: "jython", "micropython" or "pyodide";
- ``version``: the runtime's own version ("2.7.3", "1.26.1", Pyodide's "0.29.0");
- ``language_version``: the Python it implements ("2.7", "3.4", "3.14");
- ``executable``: the absolute path of a launcher that runs ``launcher script.py args...`` as a python would;
- ``threads``: whether it can start threads; ``gil``: "none" (there is none), "yes" or "no";
- ``jit``: "JVM", "none", ...; ``build``: who built it.

Every such runtime is self-timed (workloads/_selftimed.py times the kernels it can run, interpmatrix.selftimed turns
its values into pyperf's JSON). Its id is the implementation and a minor version: the language's ("jython-2.7",
"pyodide-3.14"), but MicroPython's own ("micropython-1.26"), since it implements one fixed subset of Python 3.4 in
every release.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from packaging.version import InvalidVersion, Version

log = logging.getLogger(__name__)

RUNTIME_MARKER = "interpmatrix-runtime.json"
IMPLEMENTATIONS = ("jython", "micropython", "pyodide")
GIL_STATES = ("none", "yes", "no")
# How a reader spells each ("2.7 (Jython 2.7.3)" in the report's version column).
DISPLAY_NAMES = {"jython": "Jython", "micropython": "MicroPython", "pyodide": "Pyodide"}
# The runtimes whose id carries their own version rather than the language's (see the module docstring).
OWN_VERSION_IDS = ("micropython",)


def _version(text: object, key: str) -> Version:
    try:
        return Version(str(text))
    except InvalidVersion:
        raise ValueError(f"{key} {text!r} is not a version such as '2.7.3'") from None


def runtime_record(marker: Mapping[str, Any], folder: Path) -> dict[str, Any]:
    """The discovery record (discovery.Interpreter's fields, id left empty) of one marker; ValueError saying which
    key is wrong."""
    implementation = marker.get("implementation")
    if implementation not in IMPLEMENTATIONS:
        raise ValueError(f"implementation {implementation!r} is not one of {', '.join(IMPLEMENTATIONS)}")
    _version(marker.get("version"), "version")
    _version(marker.get("language_version"), "language_version")
    executable = str(marker.get("executable") or "")
    if not os.path.isabs(executable) or not os.access(executable, os.X_OK):
        raise ValueError(f"executable {executable!r} is not the absolute path of an executable file")
    if not isinstance(marker.get("threads"), bool):
        raise ValueError(f"threads {marker.get('threads')!r} is not true or false")
    if marker.get("gil") not in GIL_STATES:
        raise ValueError(f"gil {marker.get('gil')!r} is not one of {', '.join(GIL_STATES)}")
    return {
        "id": "", "executable": executable, "implementation": implementation,
        "version": str(marker["language_version"]), "implementation_version": str(marker["version"]),
        "free_threaded": False, "gil_enabled": marker["gil"] == "yes", "jit": str(marker.get("jit") or "none"),
        "config_args": "", "compiler": "", "cflags": "", "shared": False, "origin": "provisioned",
        "prefix": str(folder), "build": str(marker.get("build") or ""), "self_timed": True,
        "threads": marker["threads"],
    }


def _minor(text: str) -> str:
    release = (*_version(text, "version").release, 0)
    return f"{release[0]}.{release[1]}"


def find_runtimes(interpreters_dir: Path) -> list[dict[str, Any]]:
    """The records of every finished runtime in ``interpreters_dir``, with ids; a marker that cannot be read or says
    something impossible is left out, with the reason in discovery's debug log."""
    records = []
    for marker_file in sorted(interpreters_dir.glob(f"*/{RUNTIME_MARKER}")):
        try:
            records.append(runtime_record(json.loads(marker_file.read_text()), marker_file.parent))
        except (OSError, ValueError, AttributeError) as error:
            log.debug("%s is left out: %s", marker_file, error)
    # Newest first within an implementation: the newest keeps the short id, the others are named in full.
    records.sort(key=lambda r: (r["implementation"], _version(r["implementation_version"], "version")), reverse=True)
    taken: set[str] = set()
    for record in records:
        own = record["implementation"] in OWN_VERSION_IDS
        version = record["implementation_version"] if own else record["version"]
        for candidate in (f"{record['implementation']}-{_minor(version)}",
                          f"{record['implementation']}-{record['implementation_version']}",
                          f"{record['implementation']}-{Path(record['prefix']).name}"):
            if candidate not in taken:
                record["id"] = candidate
                taken.add(candidate)
                break
    return sorted(records, key=lambda r: (r["implementation"], _version(r["implementation_version"], "version")))
