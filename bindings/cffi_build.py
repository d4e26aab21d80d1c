"""The cffi binding of kernels.c, in API mode: the declarations and the source are data, one build_ffi call.

cffi runs every C call with the GIL released, so the cffi kernels are also the threaded ones.
"""

from pathlib import Path

from cffi import FFI

HERE = Path(__file__).resolve().parent

MODULE = "_cffi_kernels"
CDEF = """
long countdown(long n);
int primes(int kmax, int *out);
"""
INCLUDES = '#include "kernels.h"'
SOURCES = [HERE / "kernels.c"]


def build_ffi(module_name, cdef, includes, sources):
    """An FFI builder for ``module_name``: C declarations ``cdef``, compiled with ``sources`` (cryptography's shape)."""
    ffi = FFI()
    ffi.cdef(cdef)
    ffi.set_source(
        module_name,
        includes,
        sources=[str(source) for source in sources],
        include_dirs=[str(HERE)],
        extra_compile_args=["-O2"],
    )
    return ffi


ffi = build_ffi(MODULE, CDEF, INCLUDES, SOURCES)
