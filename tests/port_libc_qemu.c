/*
 * tests/port_libc_qemu.c - bare metal (Cortex-M3, QEMU mps2-an385, newlib): a program
 * using plain malloc/free/realloc/calloc - and newlib's own allocations (stdio buffers,
 * strdup) - linked with ports/libc/tarn_malloc.c is served by tarn, in the RAM between
 * the end of .bss and the stack (end .. __stack_limit of ports/cortex-m/mps2-an385.ld).
 * Checked through tarn's statistics.  Built and run by `make test-ports` (mk/ports.mk),
 * which also checks that newlib's own malloc is not linked in at all.
 */
#include "check.h"

#include <errno.h>
#include <malloc.h>

#include "tarn_malloc.h"

extern char end[], __stack_limit[];

static tarn_heap_stats stats(void)
{
    tarn_heap_stats s;
    REQUIRE(tarn_heap_stats_get(tarn_malloc_heap(), &s) == TARN_OK);
    REQUIRE(tarn_heap_check(tarn_malloc_heap()) == TARN_OK);
    return s;
}

static int in_heap(const void *p)
{
    return (const char *)p >= end && (const char *)p < __stack_limit;
}

int main(void)
{
    enum { SLOTS = 128 };
    static char *slot[SLOTS];
    static size_t len[SLOTS];
    tarn_heap_stats s0, s;
    char *p, *q, *d;
    size_t i, iters = CHECK_ITERS(100000), heap_bytes = (size_t)(__stack_limit - end);

    s0 = stats();
    /* the whole range between .bss and the stack, less tarn's bitmaps (~3.2 %) */
    CHECK(s0.capacity > heap_bytes / 100u * 95u && s0.capacity < heap_bytes);
    printf("heap: %lu bytes at %p .. %p, capacity %lu\n", (unsigned long)heap_bytes,
           (void *)end, (void *)__stack_limit, (unsigned long)s0.capacity);
    /* newlib's stdout buffer came from tarn (printf -> _malloc_r) */
    s = stats();
    CHECK(s.total_allocs >= 1);

    s0 = stats();
    p = (char *)malloc(100);
    REQUIRE(p != NULL);
    CHECK(in_heap(p));
    CHECK_EQ(tarn_heap_validate(tarn_malloc_heap(), p), TARN_OK);
    s = stats();
    CHECK_EQ(s.live_blocks, s0.live_blocks + 1);
    CHECK_EQ(s.used, s0.used + malloc_usable_size(p));
    check_fill(p, 100, 1u);
    q = (char *)realloc(p, 5000);
    REQUIRE(q != NULL && in_heap(q));
    CHECK(check_verify(q, 100, 1u));
    d = strdup("served by tarn");                   /* newlib's strdup: _malloc_r */
    REQUIRE(d != NULL && in_heap(d));
    CHECK_EQ(tarn_heap_validate(tarn_malloc_heap(), d), TARN_OK);
    free(d);
    free(q);
    p = (char *)calloc(10, 10);
    REQUIRE(p != NULL);
    for (i = 0; i < 100; i++) CHECK(p[i] == 0);
    free(p);
    p = (char *)memalign(256, 40);
    CHECK(p != NULL && ((uintptr_t)p & 255u) == 0);
    free(p);
    s = stats();
    CHECK_EQ(s.live_blocks, s0.live_blocks);
    CHECK_EQ(s.used, s0.used);

    errno = 0;
    CHECK(malloc(8u << 20) == NULL);                 /* more than the board's RAM */
    CHECK_EQ(errno, ENOMEM);
    CHECK_EQ(stats().failed_allocs, s0.failed_allocs + 1);

    /* a random workload of plain malloc / realloc / free, contents verified */
    check_seed(2);
    for (i = 0; i < iters; i++) {
        uint32_t k = check_below(SLOTS);
        if (slot[k] != NULL) CHECK(check_verify(slot[k], len[k], k));
        if (slot[k] != NULL && check_below(3) == 0) {
            free(slot[k]);
            slot[k] = NULL;
        } else {
            size_t n = 1u + check_below(check_below(10) == 0 ? 20000 : 300);
            q = (char *)realloc(slot[k], n);
            REQUIRE(q != NULL && in_heap(q));
            slot[k] = q;
            len[k] = n;
            check_fill(q, n, k);
        }
    }
    s = stats();
    printf("workload: %lu allocations, %lu frees, peak %lu bytes\n",
           (unsigned long)(s.total_allocs - s0.total_allocs),
           (unsigned long)(s.total_frees - s0.total_frees), (unsigned long)s.peak_used);
    for (i = 0; i < SLOTS; i++) free(slot[i]);
    s = stats();
    CHECK_EQ(s.live_blocks, s0.live_blocks);
    CHECK(s.total_allocs - s0.total_allocs > iters / 4);   /* in-place reallocs not counted */
    CHECK_EQ(tarn_malloc_bad_frees(), 0);
    {
        void *volatile foreign = &s;                 /* hidden from the compiler's check */
        free(foreign);                               /* a foreign pointer: refused, counted */
    }
    CHECK_EQ(tarn_malloc_bad_frees(), 1);
    CHECK_EQ(stats().live_blocks, s0.live_blocks);
    return check_done();
}
