/*
 * tests/test_heap_lean.c - the heap in its leanest configuration: no pointer checks
 * (TARN_CHECK_LEVEL 0), no statistics (TARN_STATS 0, counters then come from a walk), no
 * locking (TARN_LOCKING 0) and portable bit scans (TARN_NO_INTRINSICS 1).  Valid use
 * must behave exactly as in the default build.  This file compiles src/heap.c itself.
 */
#undef TARN_CHECK_LEVEL
#undef TARN_STATS
#undef TARN_LOCKING
#undef TARN_NO_INTRINSICS
#define TARN_CHECK_LEVEL 0
#define TARN_STATS 0
#define TARN_LOCKING 0
#define TARN_NO_INTRINSICS 1
#include "heap.c"

#include "check.h"

#define GRAN TARN_HEAP_GRANULE

static unsigned char mem[65536] __attribute__((aligned(16)));

typedef struct slot {
    unsigned char *p;
    size_t n;
    uint32_t tag;
} slot;

int main(void)
{
    tarn_heap *h;
    tarn_heap_stats st;
    static slot s[256];
    long i, iters = CHECK_ITERS(300000L);
    size_t live = 0, k;
    REQUIRE(tarn_heap_init(&h, mem, sizeof mem, NULL) == TARN_OK);
    CHECK(tarn_heap_alloc(h, 0) == NULL);
    CHECK_EQ(tarn_heap_free(h, NULL), TARN_EINVAL);          /* NULL is still rejected */
    CHECK_EQ(tarn_heap_validate(h, mem), TARN_EFOREIGN);       /* queries stay exact */
    check_seed(4242);
    for (i = 0; i < iters; i++) {
        slot *x = &s[check_below(256)];
        uint32_t op = check_below(10);
        if (x->p == NULL) {
            x->n = 1u + check_below(op < 8 ? 200u : 3000u);
            x->p = (unsigned char *)(op == 9 ? tarn_heap_aligned_alloc(h, 128, x->n)
                                             : tarn_heap_alloc(h, x->n));
            if (x->p != NULL) {
                x->tag = (uint32_t)i;
                check_fill(x->p, x->n, x->tag);
                if (op == 9) CHECK(((uintptr_t)x->p & 127u) == 0u);
                live++;
            }
        } else if (op < 3) {
            size_t n = 1u + check_below(2000);
            unsigned char *q = (unsigned char *)tarn_heap_realloc(h, x->p, n);
            if (q != NULL) {
                CHECK(check_verify(q, n < x->n ? n : x->n, x->tag));
                x->p = q;
                x->n = n;
                check_fill(q, n, x->tag);
            }
        } else {
            CHECK(check_verify(x->p, x->n, x->tag));
            CHECK_EQ(tarn_heap_validate(h, x->p), TARN_OK);
            CHECK_EQ(tarn_heap_free(h, x->p), TARN_OK);
            x->p = NULL;
            live--;
        }
        if (i % 10000 == 9999) CHECK_EQ(tarn_heap_check(h), TARN_OK);
    }
    CHECK_EQ(tarn_heap_stats_get(h, &st), TARN_OK);
    CHECK_EQ(st.live_blocks, live);
    for (k = 0; k < 256; k++) {
        if (s[k].p != NULL) CHECK_EQ(tarn_heap_free(h, s[k].p), TARN_OK);
    }
    CHECK_EQ(tarn_heap_check(h), TARN_OK);
    CHECK_EQ(tarn_heap_stats_get(h, &st), TARN_OK);
    CHECK_EQ(st.used, 0);
    CHECK_EQ(st.free_blocks, 1);
    CHECK_EQ(tarn_heap_destroy(h), TARN_OK);
    return check_done();
}
