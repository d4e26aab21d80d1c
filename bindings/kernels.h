/* The C kernels of interpmatrix's CPU workloads: the algorithms of the seeds, in plain C.
 *
 * One source for every compiled variant: cffi compiles it into _cffi_kernels, and c_reference.c links it into the
 * C reference executable. The Cython twins (cy_kernels.pyx) are the seeds' own Cython code instead.
 */
#ifndef INTERPMATRIX_KERNELS_H
#define INTERPMATRIX_KERNELS_H

/* The seed's array size: primes(kmax) caps kmax at it, and `out` must hold that many ints. */
#define PRIMES_KMAX_CAP 1000

/* Beazley's countdown: `while (n > 0) n--;`, returning what is left of n (0, or n itself when n <= 0). */
long countdown(long n);

/* The first kmax primes (kmax capped at PRIMES_KMAX_CAP) by trial division against the primes found so far,
 * written to out[0..count); returns count. */
int primes(int kmax, int *out);

#endif
