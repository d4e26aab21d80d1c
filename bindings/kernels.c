/* The C kernels declared in kernels.h. See that file for what each computes. */
#include "kernels.h"

long countdown(long n)
{
    while (n > 0) {
        /* An empty barrier that claims to change n: without it the C compiler sees a loop with no effect, folds it
         * into `n = n > 0 ? 0 : n`, and the reference would measure nothing. It emits no instruction. */
        __asm__ volatile("" : "+r"(n));
        n--;
    }
    return n;
}

int primes(int kmax, int *out)
{
    /* The seed's algorithm, with `out` as its array p: it is both the answer and the divisors tried. */
    int n, k, i;
    if (kmax > PRIMES_KMAX_CAP)
        kmax = PRIMES_KMAX_CAP;
    k = 0;
    n = 2;
    while (k < kmax) {
        i = 0;
        while (i < k && n % out[i] != 0)
            i = i + 1;
        if (i == k) {
            out[k] = n;
            k = k + 1;
        }
        n = n + 1;
    }
    return k;
}
