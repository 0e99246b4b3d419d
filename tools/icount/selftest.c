/*
 * tools/icount/selftest.c - checks the icount tool against code whose instruction count
 * is known exactly, and prints one call's count for comparison with callgrind.
 *
 *  1. A two-instruction loop in inline assembly (`dec; jnz`, n iterations = 2n
 *     instructions): the count between two reads around it must be the same fixed
 *     overhead plus exactly 2n for every n tried (n = 1 ... 1,000,000).
 *  2. icount_overhead(): two reads with nothing between them give the same figure every
 *     time, and the loop's count minus it is 2n plus the at most few instructions that
 *     load n into a register.
 *  3. probe(): a C function called once between two reads; its count (minus the
 *     overhead) is printed as "probe: N" for the comparison with callgrind's inclusive
 *     count of probe (mk/worst.mk, target icount-check, does that comparison).
 * Exit status 0 when every check holds; 77 (skipped) when not run under the tool.
 */
#include "icount.h"

#include <stdio.h>
#include <stdlib.h>

#if !defined(__x86_64__)
int main(void)
{
    puts("icount selftest: amd64 only, skipped");
    return 77;
}
#else

__attribute__((noinline)) static unsigned long long loop_count(unsigned long n)
{
    unsigned long long a, b;
    a = ICOUNT_READ();
    __asm__ volatile("1:\n\tdec %0\n\tjnz 1b" : "+r"(n) : : "cc");
    b = ICOUNT_READ();
    return b - a;
}

volatile unsigned char probe_buf[1000];

__attribute__((noinline)) unsigned probe(unsigned seed)
{
    unsigned h = seed, i;
    for (i = 0; i < sizeof probe_buf; i++) h = h * 31u + probe_buf[i] + (h >> 7);
    return h;
}

int main(void)
{
    static const unsigned long ns[] = {1, 2, 3, 10, 100, 1000, 12345, 1000000};
    unsigned long long ovh, base, d, a, b;
    unsigned i, fails = 0;
    volatile unsigned sink;

    /* probe first, whatever runs this program, so that callgrind sees the same call */
    a = ICOUNT_READ();
    sink = probe(7u);
    b = ICOUNT_READ();
    (void)sink;
    if (!ICOUNT_ACTIVE()) {
        puts("icount selftest: not running under the icount tool (make icount-check runs it), skipped");
        return 77;
    }
    ovh = icount_overhead();
    printf("probe: %llu\n", b - a - ovh);
    for (i = 0; i < 16; i++) {
        a = ICOUNT_READ();
        b = ICOUNT_READ();
        if (b - a != ovh) {
            printf("FAIL: an empty pair of reads counted %llu, before %llu\n", b - a, ovh);
            fails++;
        }
    }
    base = loop_count(1) - 2u;   /* the fixed part: overhead + the load of n */
    printf("overhead of a pair of reads: %llu; around the loop: %llu\n", ovh, base);
    if (base < ovh || base > ovh + 3u) {
        printf("FAIL: the fixed part around the loop (%llu) is not the overhead (%llu) + 0..3\n",
               base, ovh);
        fails++;
    }
    for (i = 0; i < sizeof ns / sizeof ns[0]; i++) {
        d = loop_count(ns[i]);
        printf("loop n=%lu: %llu (expected %llu)\n", ns[i], d, base + 2ull * ns[i]);
        if (d != base + 2ull * ns[i]) fails++;
    }
    if (fails != 0) {
        printf("icount selftest: %u FAILED\n", fails);
        return 1;
    }
    puts("icount selftest: ok");
    return 0;
}
#endif
