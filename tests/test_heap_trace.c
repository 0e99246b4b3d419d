/*
 * tests/test_heap_trace.c - the heap built with its optional features on: trace hooks
 * (TARN_HEAP_TRACE 1), full checks on every call (TARN_CHECK_LEVEL 2) and poisoning of
 * freed memory (TARN_POISON_FREE 1).  This file compiles src/heap.c itself with those
 * options, so it does not use the library's copy.
 */
#undef TARN_HEAP_TRACE
#undef TARN_CHECK_LEVEL
#undef TARN_POISON_FREE
#define TARN_HEAP_TRACE 1
#define TARN_CHECK_LEVEL 2
#define TARN_POISON_FREE 1
#include "heap.c"

#include "check.h"

#define GRAN TARN_HEAP_GRANULE
/* usable size reported for a request: whole granules, or exact in canary mode */
#define RU(n) (TARN_GUARD ? (size_t)(n) : TARN_ALIGN_UP((size_t)(n), GRAN))

static unsigned char mem[8192] __attribute__((aligned(16)));

typedef struct ev {
    tarn_heap_event ev;
    const void *ptr;
    size_t size;
    tarn_status st;
} ev;
static ev evs[64];
static int nev;
static int ctx_ok;

static void on_trace(void *ctx, tarn_heap_event e, const void *ptr, size_t size, tarn_status st)
{
    if (ctx == &nev) ctx_ok++;
    if (nev < 64) {
        evs[nev].ev = e;
        evs[nev].ptr = ptr;
        evs[nev].size = size;
        evs[nev].st = st;
    }
    nev++;
}

static void expect(int i, tarn_heap_event e, const void *ptr, size_t size, tarn_status st)
{
    CHECK(i < nev);
    if (i >= nev) return;
    CHECK_EQ(evs[i].ev, e);
    CHECK(evs[i].ptr == ptr);
    CHECK_EQ(evs[i].size, size);
    CHECK_EQ(evs[i].st, st);
}

static void test_trace(tarn_heap *h)
{
    unsigned char *a, *b, *q;
    CHECK_EQ(tarn_heap_set_trace(NULL, on_trace, &nev), TARN_EINVAL);
    CHECK_EQ(tarn_heap_set_trace(h, on_trace, &nev), TARN_OK);
    nev = 0;
    a = (unsigned char *)tarn_heap_alloc(h, 20);
    expect(0, TARN_HEAP_EV_ALLOC, a, RU(20), TARN_OK);
    b = (unsigned char *)tarn_heap_alloc(h, 20);
    expect(1, TARN_HEAP_EV_ALLOC, b, RU(20), TARN_OK);
    CHECK(tarn_heap_alloc(h, 100000) == NULL);
    expect(2, TARN_HEAP_EV_FAIL, NULL, 100000, TARN_ENOMEM);
    CHECK_EQ(tarn_heap_free(h, a + GRAN), TARN_EFOREIGN);
    expect(3, TARN_HEAP_EV_REJECT, a + GRAN, 0, TARN_EFOREIGN);
    CHECK_EQ(tarn_heap_resize(h, a, 8), TARN_OK);
    expect(4, TARN_HEAP_EV_RESIZE, a, RU(8), TARN_OK);
    q = (unsigned char *)tarn_heap_realloc(h, a, 500);   /* b is in the way: moves */
    CHECK(q != NULL && q != a);
    expect(5, TARN_HEAP_EV_ALLOC, q, RU(500), TARN_OK);
    expect(6, TARN_HEAP_EV_FREE, a, RU(8), TARN_OK);
    CHECK_EQ(tarn_heap_free(h, b), TARN_OK);
    expect(7, TARN_HEAP_EV_FREE, b, RU(20), TARN_OK);
    CHECK_EQ(tarn_heap_free(h, b), TARN_EFOREIGN);   /* merged into a's free room */
    CHECK_EQ(evs[8].ev, TARN_HEAP_EV_REJECT);
    CHECK(tarn_heap_calloc(h, SIZE_MAX, 2) == NULL);
    expect(9, TARN_HEAP_EV_FAIL, NULL, SIZE_MAX, TARN_EOVERFLOW);
    CHECK_EQ(nev, 10);
    CHECK_EQ(ctx_ok, nev);
    CHECK_EQ(tarn_heap_set_trace(h, NULL, NULL), TARN_OK);
    CHECK_EQ(tarn_heap_free(h, q), TARN_OK);
    CHECK_EQ(nev, 10);                            /* removed: no more events */
}

/* Freed memory is filled with TARN_POISON_BYTE (past the 8 link bytes of a free block). */
static void test_poison(tarn_heap *h)
{
    unsigned char *a = (unsigned char *)tarn_heap_alloc(h, 64);
    unsigned char *b = (unsigned char *)tarn_heap_alloc(h, 64);
    unsigned char v[56];
    size_t i;
    memset(a, 0x11, 64);
    CHECK_EQ(tarn_heap_free(h, a), TARN_OK);
    tarn_san_peek(v, a + 8, sizeof v);
    for (i = 0; i < sizeof v; i++) CHECK(v[i] == (unsigned char)TARN_POISON_BYTE);
    CHECK_EQ(tarn_heap_free(h, b), TARN_OK);
}

/* Level 2: every call first runs the full check; a damaged heap refuses with ECORRUPT. */
static void test_level2(tarn_heap *h)
{
    unsigned char *a = (unsigned char *)tarn_heap_alloc(h, 64), *b;
    uint32_t far = h->ngran / 2u;
    REQUIRE(a != NULL);
    UMAP(h)[far >> 5] ^= 1u << (far & 31u);       /* a stray used start inside the free space */
    CHECK(tarn_heap_alloc(h, 8) == NULL);
    CHECK_EQ(tarn_heap_last_error(h), TARN_ECORRUPT);
    CHECK(tarn_heap_aligned_alloc(h, 64, 8) == NULL);
    CHECK_EQ(tarn_heap_last_error(h), TARN_ECORRUPT);
    CHECK_EQ(tarn_heap_free(h, a), TARN_ECORRUPT);
    CHECK(tarn_heap_realloc(h, a, 100) == NULL);
    CHECK_EQ(tarn_heap_resize(h, a, 8), TARN_ECORRUPT);
    CHECK_EQ(tarn_heap_check(h), TARN_ECORRUPT);
    UMAP(h)[far >> 5] ^= 1u << (far & 31u);       /* repaired */
    CHECK_EQ(tarn_heap_check(h), TARN_OK);
    b = (unsigned char *)tarn_heap_realloc(h, a, 100);
    CHECK(b != NULL);
    CHECK_EQ(tarn_heap_free(h, b), TARN_OK);
}

/* A short random run: at level 2 each call checks the whole heap. */
static void test_random(tarn_heap *h)
{
    void *p[32] = {0};
    long i, n = CHECK_ITERS(20000L);
    check_seed(99);
    for (i = 0; i < n; i++) {
        uint32_t k = check_below(32);
        if (p[k] == NULL) {
            p[k] = check_below(4) ? tarn_heap_alloc(h, 1u + check_below(300))
                                  : tarn_heap_aligned_alloc(h, (size_t)16u << check_below(4), 1u + check_below(100));
        } else if (check_below(3) == 0) {
            void *q = tarn_heap_realloc(h, p[k], 1u + check_below(600));
            if (q != NULL) p[k] = q;
        } else {
            CHECK_EQ(tarn_heap_free(h, p[k]), TARN_OK);
            p[k] = NULL;
        }
    }
    for (i = 0; i < 32; i++) {
        if (p[i] != NULL) CHECK_EQ(tarn_heap_free(h, p[i]), TARN_OK);
    }
    CHECK_EQ(tarn_heap_check(h), TARN_OK);
}

int main(void)
{
    tarn_heap *h;
    REQUIRE(tarn_heap_init(&h, mem, sizeof mem, NULL) == TARN_OK);
    test_trace(h);
    test_poison(h);
    test_level2(h);
    test_random(h);
    CHECK_EQ(tarn_heap_destroy(h), TARN_OK);
    return check_done();
}
