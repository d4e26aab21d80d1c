"""Will my packages work there? Package compatibility per interpreter (``nox -s packages``).

Read top down:

- ``wanted``: which packages to try: the default list of widely used packages with compiled parts, and a user's
  requirements file, parsed line by line.
- ``tried``: what trying one package on one interpreter found (installed from a wheel, built, not installable;
  imported or not; the GIL turned back on; cffi or a C extension through cpyext), read from the installer's output,
  and the cache that keeps it by interpreter and package.
- ``import_probe``: the script run inside the interpreter under test, in the package's fresh venv, that imports it.
- ``trying``: the fresh venv per package and interpreter (uv where it is, virtualenv and pip otherwise), the install
  under a time limit, the probe, and the cache.
"""
