/* The C reference: a kernel of kernels.c timed by itself, with no Python anywhere.
 *
 *     c_reference <kernel> <size> <loops>      kernel: countdown | primes
 *
 * Runs the kernel `loops` times and prints two lines:
 *
 *     seconds <elapsed seconds of the loops, CLOCK_MONOTONIC>
 *     answer <integers>       countdown: what is left of n; primes: the primes found (of the last loop)
 *
 * The workload harness hands pyperf a time function that runs this with pyperf's loop count and returns the seconds
 * printed here, so the process start-up is not part of the time; it checks the answer against the pure-Python
 * reference before timing, like every other variant. kernels.c is compiled separately (no LTO), so the compiler
 * cannot see that the loops repeat the same call and drop them.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "kernels.h"

static int usage(const char *message)
{
    fprintf(stderr, "c_reference: %s\nusage: c_reference countdown|primes <size> <loops>\n", message);
    return 2;
}

static int parse_long(const char *text, long *value)
{
    char *end;
    errno = 0;
    *value = strtol(text, &end, 10);
    return errno == 0 && end != text && *end == '\0';
}

static double elapsed(const struct timespec *t0, const struct timespec *t1)
{
    return (double)(t1->tv_sec - t0->tv_sec) + (double)(t1->tv_nsec - t0->tv_nsec) * 1e-9;
}

int main(int argc, char **argv)
{
    long size, loops, i;
    struct timespec t0, t1;

    if (argc != 4)
        return usage("expected 3 arguments");
    if (!parse_long(argv[2], &size))
        return usage("size is not an integer");
    if (!parse_long(argv[3], &loops) || loops < 1)
        return usage("loops is not a positive integer");

    if (strcmp(argv[1], "countdown") == 0) {
        long left = 0;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        for (i = 0; i < loops; i++)
            left = countdown(size);
        clock_gettime(CLOCK_MONOTONIC, &t1);
        printf("seconds %.9f\nanswer %ld\n", elapsed(&t0, &t1), left);
    } else if (strcmp(argv[1], "primes") == 0) {
        int out[PRIMES_KMAX_CAP];
        int kmax = size > PRIMES_KMAX_CAP ? PRIMES_KMAX_CAP : size < 0 ? 0 : (int)size;
        int count = 0, k;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        for (i = 0; i < loops; i++)
            count = primes(kmax, out);
        clock_gettime(CLOCK_MONOTONIC, &t1);
        printf("seconds %.9f\nanswer", elapsed(&t0, &t1));
        for (k = 0; k < count; k++)
            printf(" %d", out[k]);
        printf("\n");
    } else {
        return usage("unknown kernel");
    }
    return 0;
}
