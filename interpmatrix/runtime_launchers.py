"""The texts interpmatrix writes into a runtime's folder or runs in it (``runtime_provision``): the launchers that make
``bin/<launcher> script.py args...`` behave as ``python script.py args...`` does, and the smoke test's scripts.

Kept apart as data: a change to a launcher changes the runtime's cache key (``runtime_provision`` hashes these
texts), so a launcher fixed here is remade on the next provisioning instead of being found cached.
"""

from __future__ import annotations

import shlex
from collections.abc import Sequence

# Every launcher finds its folder from its own path, so a folder can be smoke-tested under its hidden name and then
# renamed into place unchanged.
_HERE = 'here="$(dirname "$(dirname "$(readlink -f "$0")")")"\n'


def jython_launcher(java: str, classpath: Sequence[str], jni_dir: str) -> str:
    """``bin/jython``: Debian's jar run by ``java`` with the folder's own Java libraries (``classpath``, relative to
    the folder). Debian's /usr/bin/jython runs ``java -jar``, whose manifest names the libraries by their
    /usr/share/java paths, absent here: ``-cp`` names the folder's."""
    jars = ":".join(f"$here/{jar}" for jar in classpath)
    return (
        "#!/bin/sh\n"
        "# interpmatrix: Debian's Jython with the Java libraries of this folder (see interpmatrix/runtime_launchers.py)\n"
        + _HERE
        + f'exec {shlex.quote(java)} -cp "{jars}" \\\n'
        # libjffi's JNI part is in the folder too; jnr-posix falls back to pure Java without it, more slowly.
        f'  -Djffi.boot.library.path="$here/{jni_dir}" \\\n'
        '  -Dpython.home="$here/usr/share/jython" -Dpython.executable="$0" \\\n'
        # The package cache scans every jar at the first start and says so on stderr: the scripts import no Java
        # package by name, so it is skipped, and stderr is the script's alone.
        "  -Dpython.cachedir.skip=true \\\n"
        '  org.python.util.jython "$@"\n'
    )


def node_launcher(node: str, script: str) -> str:
    """``bin/<name>``: ``node`` running the launcher script ``script`` (relative to the folder)."""
    return ("#!/bin/sh\n"
            "# interpmatrix: a WebAssembly Python under Node.js (see interpmatrix/runtime_launchers.py)\n"
            + _HERE + f'exec {shlex.quote(node)} "$here/{script}" "$@"\n')


# lib/launcher.mjs of Pyodide. Pyodide's filesystem is Emscripten's own, in memory: the script's folder and the
# working directory are mounted into it at their own paths, so the script, the modules beside it (the self-timing
# runner imports its kernels from its folder) and relative paths are where a python would find them.
PYODIDE_LAUNCHER = r"""// interpmatrix: run `pyodide script.py args...` as `python script.py args...` would (argv, sys.path[0], the
// working directory, stdout and stderr unbuffered, the exit status). Written by interpmatrix/runtime_provision.py.
import fs from "node:fs";
import path from "node:path";
import { loadPyodide } from "pyodide";

// Node may hold a non-blocking pipe: a full one answers EAGAIN, retried after a millisecond rather than lost.
function writeAll(fd, buffer) {
  let offset = 0;
  while (offset < buffer.length) {
    try {
      offset += fs.writeSync(fd, buffer, offset, buffer.length - offset);
    } catch (error) {
      if (error.code !== "EAGAIN") throw error;
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 1);
    }
  }
  return buffer.length;
}

const [given, ...args] = process.argv.slice(2);
if (!given) {
  process.stderr.write("usage: pyodide script.py [arg ...]\n");
  process.exit(2);
}
if (!fs.existsSync(given)) {
  process.stderr.write(`pyodide: can't open file '${path.resolve(given)}': No such file or directory\n`);
  process.exit(2);
}
const script = fs.realpathSync(given);
const cwd = process.cwd();
// Pyodide's own folders must stay visible (its standard library is in /lib); a folder inside another one mounted is
// reached through it.
const ownFolders = ["/", "/lib", "/dev", "/proc", "/home"];
const wanted = [...new Set([path.dirname(script), cwd])].filter((folder) => !ownFolders.includes(folder));
const mounts = wanted.filter((folder) => !wanted.some((other) => other !== folder && folder.startsWith(other + "/")));

// PYTHONHOME and PYTHONPATH name host folders Pyodide cannot see; HOME is Pyodide's own.
const env = { ...process.env, HOME: "/home/pyodide" };
delete env.PYTHONHOME;
delete env.PYTHONPATH;

const RUN = `
import os, runpy, sys
sys.argv = [script, *args]
sys.path.insert(0, os.path.dirname(script))
try:
    os.chdir(cwd)
except OSError:
    pass

def _status():
    try:
        runpy.run_path(script, run_name="__main__")
    except SystemExit as exit:
        if exit.code is None:
            return 0
        if isinstance(exit.code, int):
            return exit.code
        print(exit.code, file=sys.stderr)
        return 1
    except BaseException:
        import traceback
        traceback.print_exc()
        return 1
    return 0

status = _status()
for stream in (sys.stdout, sys.stderr):
    try:
        stream.flush()
    except Exception:
        pass
status
`;

try {
  const pyodide = await loadPyodide({ env });
  pyodide.setStdout({ write: (buffer) => writeAll(1, buffer) });
  pyodide.setStderr({ write: (buffer) => writeAll(2, buffer) });
  for (const folder of mounts) {
    pyodide.FS.mkdirTree(folder);
    pyodide.FS.mount(pyodide.FS.filesystems.NODEFS, { root: folder }, folder);
  }
  const status = pyodide.runPython(RUN, { globals: pyodide.toPy({ script, args, cwd }) });
  process.exit(status);
} catch (error) {
  process.stderr.write(`pyodide launcher: ${error && error.stack ? error.stack : error}\n`);
  process.exit(1);
}
"""

# lib/launcher.mjs of MicroPython's WebAssembly build, the fallback where sid's source cannot be had. Its
# filesystem is Emscripten's, in memory, without Node's: the script's folder (its .py files) is copied into it at its
# own path. Its own command line runs a script but passes no argv and no exit status.
MICROPYTHON_WASM_LAUNCHER = r"""// interpmatrix: run `micropython script.py args...` in MicroPython's WebAssembly build as the unix port would
// (argv, the script's folder on sys.path, stdout and stderr, the exit status). Written by
// interpmatrix/runtime_provision.py.
import fs from "node:fs";
import path from "node:path";
import { loadMicroPython } from "@micropython/micropython-webassembly-pyscript/micropython.mjs";

// The unix port's heap grows as needed; this one is fixed, so it is given room.
const HEAP = 256 * 1024 * 1024;
const [given, ...args] = process.argv.slice(2);
if (!given || !fs.existsSync(given)) {
  process.stderr.write(`micropython: can't open file '${given}'\n`);
  process.exit(2);
}
const script = fs.realpathSync(given);
const folder = path.dirname(script);
const write = (fd) => (line) => fs.writeSync(fd, line + "\n");
try {
  const mp = await loadMicroPython({ heapsize: HEAP, stdout: write(1), stderr: write(2), linebuffer: true });
  const copy = (from, depth) => {
    mp.FS.mkdirTree(from);
    for (const entry of fs.readdirSync(from, { withFileTypes: true })) {
      const full = path.join(from, entry.name);
      if (entry.isFile() && entry.name.endsWith(".py")) mp.FS.writeFile(full, fs.readFileSync(full));
      else if (entry.isDirectory() && depth > 0 && !entry.name.startsWith(".") && entry.name !== "__pycache__")
        copy(full, depth - 1);
    }
  };
  copy(folder, 2);
  mp.FS.chdir(folder);
  mp.globals.set("_argv", [script, ...args]);
  mp.runPython(`
import sys
while sys.argv:
    sys.argv.pop()
for _arg in _argv:
    sys.argv.append(_arg)
sys.path.insert(0, ${JSON.stringify(folder)})
_status = 0
try:
    exec(open(sys.argv[0]).read(), {"__name__": "__main__", "__file__": sys.argv[0]})
except SystemExit as _exit:
    _status = _exit.args[0] if _exit.args and isinstance(_exit.args[0], int) else (0 if not _exit.args or _exit.args[0] is None else 1)
except BaseException as _error:
    sys.print_exception(_error)
    _status = 1
`);
  const status = mp.globals.get("_status");  // runPython gives no value of a last expression here
  for (const [fd, buffer] of [[1, mp._module._stdoutBuffer], [2, mp._module._stderrBuffer]]) {
    if (buffer && buffer.length) fs.writeSync(fd, new Uint8Array(buffer));
  }
  process.exit(status);
} catch (error) {
  process.stderr.write(`micropython launcher: ${error && error.stack ? error.stack : error}\n`);
  process.exit(1);
}
"""

# The smoke test's scripts. They run on Python 2.7 (Jython), MicroPython's 3.4 subset and CPython 3.14 alike.
SMOKE_HELPER = r'''"""Beside smoke.py: importing it shows that the script's folder is on sys.path."""
import sys


def facts():
    """What the runtime says of itself."""
    name = getattr(getattr(sys, "implementation", None), "name", "cpython")
    if sys.platform.startswith("java"):
        name = "jython"
    elif sys.platform == "emscripten":
        name = "pyodide"
    found = {"implementation": name, "language_version": "%d.%d" % tuple(sys.version_info[:2])}
    if name == "micropython":
        found["version"] = "%d.%d.%d" % tuple(sys.implementation.version[:3])
        threads = getattr(sys.implementation, "_thread", None)  # "GIL", or "unsafe" for threads without one
        if threads:
            found["gil_enabled"] = threads == "GIL"
    elif name == "pyodide":
        import js
        import pyodide
        found["version"] = pyodide.__version__
        found["host"] = "Node.js " + str(js.process.version)
        found["gil_enabled"] = bool(getattr(sys, "_is_gil_enabled", lambda: True)())
    elif name == "jython":
        # Debian's build says "2.7.3-DEV" in sys.version: the release is version_info's.
        found["version"] = "%d.%d.%d" % tuple(sys.version_info[:3])
        from java.lang import System
        found["host"] = "%s %s" % (System.getProperty("java.vm.name"), System.getProperty("java.version"))
    else:
        found["version"] = sys.version.split()[0]
    return found
'''

SMOKE = r'''import json
import sys

import interpmatrix_smoke_helper

sys.stdout.write("argv " + "|".join(sys.argv[1:]) + "\n")
sys.stdout.write(json.dumps(interpmatrix_smoke_helper.facts()) + "\n")
sys.stderr.write("stderr works\n")
sys.exit(int(sys.argv[1]))
'''

THREADS = r'''import sys
import time

try:
    import _thread as thread
except ImportError:
    import thread

N = 4
lock = thread.allocate_lock()
done = []


def work(n):
    total = 0
    for i in range(n):
        total += i
    lock.acquire()
    done.append(total)
    lock.release()


for _ in range(N):
    thread.start_new_thread(work, (10000,))
deadline = time.time() + 30
while len(done) < N and time.time() < deadline:
    time.sleep(0.01)
sys.stdout.write("threads %d\n" % len(done))
sys.exit(0 if done == [sum(range(10000))] * N else 1)
'''

SMOKE_FILES = {"smoke.py": SMOKE, "interpmatrix_smoke_helper.py": SMOKE_HELPER, "threads.py": THREADS}
