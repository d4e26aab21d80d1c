"""Build the compiled bindings for the interpreter running this script, into one output folder.

    <venv python> bindings/build.py --out DIR

Run by the interpreter under test, in its own venv: each binding's build requirements are installed into that venv,
then the binding is built into DIR:

- ``cython``: ``cy_kernels.pyx`` cythonized and compiled into ``DIR/cy_kernels.<ext>``;
- ``cffi``: ``cffi_build.py``'s API-mode module compiled into ``DIR/_cffi_kernels.<ext>`` (PyPy ships its own cffi,
  which is not reinstalled);
- ``c``: the C reference executable ``DIR/c_reference``, ``cc -O2``;
- ``shedskin``: the pure primes kernel of ``workloads/_portable.py`` (the one copy every pure variant runs), written
  into a module of its own (``shedskin_source``), translated to C++ by Shed Skin and compiled into
  ``DIR/ss_kernels.<ext>`` (it needs g++ and the Boehm GC's headers, Debian's ``libgc-dev``).

``DIR/bindings.json`` says which bindings were built and why the others were not (one line from pip's, Cython's or
the compiler's own error); ``DIR/<binding>.log`` holds each build's full output. A failed binding never fails the
script: the workload variants that need it report it unavailable, with the reason. Everything generated (C files,
objects, ``build/``) stays inside DIR; nothing is written into ``bindings/``.

Each build step runs in a child process (``--step``), so a crashing compiler or a half-imported package cannot take
the others down, and everything it prints lands in its log.
"""

import argparse
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
# The pure kernels, shared with the workloads and the self-timing runner: Shed Skin compiles one of them as it is.
PORTABLE = HERE.parent / "workloads" / "_portable.py"
MANIFEST = "bindings.json"
# What the folder was built from (sources and interpreter), so an unchanged build is reused.
DIGEST = "sources.digest"

# Pinned so every interpreter builds with the same tools (the newest releases that still support Python 3.9).
CYTHON = "cython==3.3.1"
CFFI = "cffi==2.0.0"
SETUPTOOLS = "setuptools==80.9.0"
SHEDSKIN = "shedskin==0.9.14"

CYTHON_MODULE = "cy_kernels"
CFFI_MODULE = "_cffi_kernels"
C_REFERENCE = "c_reference"
SHEDSKIN_MODULE = "ss_kernels"

PIP_TIMEOUT = 600.0
STEP_TIMEOUT = 600.0

IS_PYPY = sys.implementation.name == "pypy"


class StepFailed(Exception):
    """A build step failed; the message is the one-line reason bindings.json records."""


# --- steps run in a child process (python -B build.py --out DIR --step NAME) ---


def step_cython(out):
    from Cython.Build import cythonize
    from setuptools import Distribution, Extension

    build = out / "build" / "cython"
    extension = Extension(CYTHON_MODULE, [str(HERE / "cy_kernels.pyx")], extra_compile_args=["-O2"])
    # build_dir keeps the generated .c out of bindings/.
    extensions = cythonize([extension], build_dir=str(build / "src"), force=True)
    distribution = Distribution({"name": CYTHON_MODULE, "ext_modules": extensions, "script_name": "build.py"})
    command = distribution.get_command_obj("build_ext")
    command.build_lib = str(out)
    command.build_temp = str(build / "temp")
    command.force = True
    distribution.run_command("build_ext")


def step_cffi(out):
    sys.path.insert(0, str(HERE))
    import cffi_build

    built = cffi_build.ffi.compile(tmpdir=str(out / "build" / "cffi"), verbose=True)
    shutil.copy2(built, str(out / os.path.basename(built)))


def shedskin_source():
    """The module Shed Skin compiles: ``_portable.primes`` exactly as the workloads run it, and a call with ints
    under ``__main__``, from which Shed Skin infers the argument types (it compiles the whole module it is given, so
    not ``_portable`` itself, whose threading helpers are no restricted Python)."""
    import inspect

    sys.path.insert(0, str(PORTABLE.parent))
    import _portable

    return inspect.getsource(_portable.primes) + '\n\nif __name__ == "__main__":\n    primes(10)\n'


def step_shedskin(out):
    import sysconfig

    build = out / "build" / "shedskin"
    if build.exists():
        shutil.rmtree(str(build))
    build.mkdir(parents=True)
    # Shed Skin writes its C++ and the module beside the source: the build folder keeps them out of the sources.
    (build / (SHEDSKIN_MODULE + ".py")).write_text(shedskin_source())
    # --nobounds, --nowrap: no index checks, as in the Cython twin's C array (the kernels never index out of range
    # or from the end); the docs call -b "very common".
    command = [sys.executable, "-m", "shedskin", "translate", "--extmod", "--compile", "--nobounds", "--nowrap",
               SHEDSKIN_MODULE + ".py"]
    print("$ " + " ".join(command), flush=True)
    translated = subprocess.run(command, cwd=str(build))
    if translated.returncode != 0:
        # Shed Skin's own error above is the reason (one_line_reason), not a CalledProcessError's traceback.
        sys.exit(translated.returncode)
    # Shed Skin names the module plain ss_kernels.so; it is given this interpreter's own suffix, like the others.
    suffix = sysconfig.get_config_var("EXT_SUFFIX")
    shutil.copy2(str(build / (SHEDSKIN_MODULE + ".so")), str(out / (SHEDSKIN_MODULE + suffix)))


STEPS = {"cython": step_cython, "cffi": step_cffi, "shedskin": step_shedskin}


# --- the orchestration, in the interpreter under test ---


# A C compiler's error (file.c:12:5: error: ...), Cython's (file.pyx:12:5: message), Shed Skin's (*ERROR* file.py:12:
# message) and the linker's (/usr/bin/ld: cannot find -lpython3.13: ..., Shed Skin on a free-threaded build).
POSITIONED_ERRORS = (
    re.compile(r":\d+:(\d+:)? (fatal )?error: "),
    re.compile(r"\.pyx:\d+:\d+: "),
    re.compile(r"^\*ERROR\* "),
    re.compile(r"^(\S*/)?ld(\.\w+)?: (?!warning)"),
)
# A terminal's colour and cursor codes, which Shed Skin writes even into a log.
TERMINAL_CODES = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
# A Python exception's last line, e.g. the RuntimeError cffi's setup.py raises on 3.13t.
EXCEPTION = re.compile(r"^(\w+\.)*\w+(Error|Exception): (?P<message>.+)$")


def one_line_reason(log_text):
    """The most telling line of a failed tool's output, for bindings.json."""
    lines = [line for line in (TERMINAL_CODES.sub("", line).strip() for line in log_text.splitlines()) if line]
    for pattern in POSITIONED_ERRORS:
        # The first error is the cause; later ones tend to follow from it.
        first = next((line for line in lines if pattern.search(line)), None)
        if first is not None:
            return first
    for line in reversed(lines):
        match = EXCEPTION.match(line)
        if match:
            return match["message"]
    # pip's own last word ("ERROR: No matching distribution found for ...") rather than its generic "error: ..."
    for prefix in ("ERROR: ", "error: "):
        found = [line for line in lines if line.startswith(prefix)]
        if found:
            return found[-1]
    return lines[-1] if lines else "no output"


def run_logged(log, command, timeout, what):
    """Run ``command``, appending its output to ``log``; raise StepFailed(what failed: why) if it fails."""
    log.write("\n$ %s\n" % " ".join(command))
    log.flush()
    try:
        process = subprocess.run(
            command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, universal_newlines=True, timeout=timeout
        )
    except subprocess.TimeoutExpired as error:
        output = error.output or ""
        log.write(output if isinstance(output, str) else output.decode(errors="replace"))
        raise StepFailed("%s: no answer within %g s" % (what, timeout)) from None
    except OSError as error:
        log.write("%s\n" % error)
        raise StepFailed("%s: %s" % (what, error)) from None
    log.write(process.stdout)
    log.flush()
    if process.returncode != 0:
        raise StepFailed("%s failed: %s" % (what, one_line_reason(process.stdout)))
    return process.stdout


def pip_install(log, requirements):
    command = [sys.executable, "-m", "pip", "install", "--disable-pip-version-check", *requirements]
    run_logged(log, command, PIP_TIMEOUT, "pip install " + " ".join(requirements))


def run_step(log, out, name):
    command = [sys.executable, "-B", str(Path(__file__).resolve()), "--out", str(out), "--step", name]
    run_logged(log, command, STEP_TIMEOUT, "the %s build" % name)


def import_check(log, out, module, version_of):
    """Import the built module in a fresh process, and return the version of the package that built it (its
    ``__version__``, or its distribution's where it has none: Shed Skin)."""
    imports = "import %s; import %s as tool" % (module, version_of)
    version = "getattr(tool, '__version__', None) or importlib.metadata.version(%r)" % version_of
    code = "import importlib.metadata, sys; sys.path.insert(0, sys.argv[1]); %s; print(%s)" % (imports, version)
    output = run_logged(log, [sys.executable, "-B", "-c", code, str(out)], STEP_TIMEOUT, "import " + module)
    return output.strip().splitlines()[-1]


def build_cython(out, log):
    pip_install(log, [CYTHON, SETUPTOOLS])
    run_step(log, out, "cython")
    return {"module": CYTHON_MODULE, "version": import_check(log, out, CYTHON_MODULE, "Cython")}


def build_cffi(out, log):
    if IS_PYPY:
        # PyPy's own cffi is part of the interpreter (its JIT knows it); a PyPI cffi would not be used anyway.
        log.write("PyPy: using its built-in cffi\n")
        pip_install(log, [SETUPTOOLS])
    else:
        pip_install(log, [CFFI, SETUPTOOLS])
    run_step(log, out, "cffi")
    return {"module": CFFI_MODULE, "version": import_check(log, out, CFFI_MODULE, "cffi")}


def build_c(out, log):
    compiler = os.environ.get("CC", "cc")
    executable = out / C_REFERENCE
    sources = [str(HERE / "c_reference.c"), str(HERE / "kernels.c")]
    run_logged(log, [compiler, "-O2", "-o", str(executable), *sources], STEP_TIMEOUT, compiler)
    output = run_logged(log, [str(executable), "primes", "10", "1"], STEP_TIMEOUT, "the C reference")
    if "answer 2 3 5 7 11 13 17 19 23 29" not in output:
        raise StepFailed("the C reference gave a wrong answer for primes(10): %r" % output)
    version = run_logged(log, [compiler, "--version"], STEP_TIMEOUT, compiler).splitlines()[0]
    return {"executable": C_REFERENCE, "compiler": version}


def build_shedskin(out, log):
    pip_install(log, [SHEDSKIN])
    run_step(log, out, "shedskin")
    return {"module": SHEDSKIN_MODULE, "version": import_check(log, out, SHEDSKIN_MODULE, "shedskin")}


BINDINGS = {"cython": build_cython, "cffi": build_cffi, "c": build_c, "shedskin": build_shedskin}


def sources_digest():
    """A hash of everything a build depends on: the binding sources and this interpreter."""
    digest = hashlib.sha256(sys.version.encode() + sys.executable.encode())
    for path in [*sorted(HERE.iterdir()), PORTABLE]:
        if path.is_file():
            digest.update(path.name.encode() + path.read_bytes())
    return digest.hexdigest()[:16]


def build_all(out):
    """Build every binding into ``out``; return the bindings.json record. Never raises for a failed binding.

    A folder already built from the same sources by the same interpreter is reused: the bench session runs this
    for every matrix run, and a rebuild costs 15 s per interpreter.
    """
    out.mkdir(parents=True, exist_ok=True)
    digest = sources_digest()
    stamp = out / DIGEST
    try:
        previous = json.loads((out / MANIFEST).read_text())
        up_to_date = stamp.read_text() == digest
    except (OSError, ValueError):
        previous, up_to_date = None, False
    if previous and up_to_date:
        print("bindings up to date in %s" % out)
        return previous
    if stamp.exists():
        stamp.unlink()
    manifest = {}
    for name, build in BINDINGS.items():
        log = open(str(out / ("%s.log" % name)), "w")
        log.write("%s binding for %s (%s)\n" % (name, sys.executable, sys.version.replace("\n", " ")))
        started = time.monotonic()
        try:
            record = dict(ok=True, **build(out, log))
        except StepFailed as failure:
            record = {"ok": False, "reason": str(failure)}
        except Exception as error:  # a bug here must not cost the other bindings
            record = {"ok": False, "reason": "build.py failed: %s: %s" % (type(error).__name__, error)}
        record["log"] = "%s.log" % name
        outcome = "built" if record["ok"] else record["reason"]
        log.write("\n%s: %s (%.1f s)\n" % (name, outcome, time.monotonic() - started))
        log.close()
        manifest[name] = record
        print("%-8s %s" % (name, "ok" if record["ok"] else "unavailable: " + record["reason"]))
    (out / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n")
    stamp.write_text(digest)  # last: an interrupted build is never taken for a finished one
    return manifest


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", required=True, type=Path, help="folder to build into (outside bindings/)")
    parser.add_argument("--step", choices=sorted(STEPS), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    out = args.out.resolve()
    if out == HERE or HERE in out.parents:
        parser.error("--out must be outside %s: build output never goes into the sources" % HERE)
    if args.step:
        STEPS[args.step](out)
        return
    build_all(out)


if __name__ == "__main__":
    main()
