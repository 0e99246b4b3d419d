/*
 * tools/icount/icount.h - read the guest instruction count of the icount Valgrind tool.
 *
 *   unsigned long long a = ICOUNT_READ();
 *   f();
 *   unsigned long long n = ICOUNT_READ() - a;   // f's instructions + a fixed overhead
 *
 * ICOUNT_READ() is Valgrind's client request ICOUNT_REQ_READ ("IC" + 0): under the icount
 * tool it returns the number of guest instructions executed so far (never 0: start-up
 * code runs first); natively, or where <valgrind/valgrind.h> is missing, it returns 0 and
 * costs a few instructions.  ICOUNT_ACTIVE() is true only under the tool.  Under another
 * Valgrind tool the request is unknown: Valgrind warns once and it returns 0.
 *
 * The difference of two reads includes a fixed cost of the request itself (the magic
 * instruction sequence and moving its result): measure it once as two reads with nothing
 * between (icount_overhead() below) and subtract it.  See README.md.
 */
#ifndef TARN_ICOUNT_H
#define TARN_ICOUNT_H

/* The request code: VG_USERREQ_TOOL_BASE('I', 'C'), the tool's own request range. */
#define ICOUNT_REQ_READ (((unsigned)'I' << 24) | ((unsigned)'C' << 16))

#ifndef ICOUNT_TOOL   /* the client side: not used inside the tool itself */

#if defined(__has_include)
#if __has_include(<valgrind/valgrind.h>)
#include <valgrind/valgrind.h>
#define ICOUNT_HAVE_VALGRIND 1
#endif
#endif

#ifdef ICOUNT_HAVE_VALGRIND
#define ICOUNT_READ() \
    ((unsigned long long)VALGRIND_DO_CLIENT_REQUEST_EXPR(0, ICOUNT_REQ_READ, 0, 0, 0, 0, 0))
#else
#define ICOUNT_READ() 0ull
#endif

#define ICOUNT_ACTIVE() (ICOUNT_READ() != 0u)

/* The count two reads with nothing between them add (the smallest of 16 tries, though
 * under the tool every try gives the same figure). */
static inline unsigned long long icount_overhead(void)
{
    unsigned long long best = ~0ull;
    int i;
    for (i = 0; i < 16; i++) {
        unsigned long long a = ICOUNT_READ();
        unsigned long long b = ICOUNT_READ();
        if (b - a < best) best = b - a;
    }
    return best;
}

#endif /* ICOUNT_TOOL */
#endif
