/*
 * tests/test_heap_aligned_hook.c - realloc reaches the over-aligned allocation only
 * through the pointer tarn_heap_aligned_alloc installs (so a program that never calls
 * aligned_alloc does not link it), and that pointer is verified before it is followed:
 *  - alloc, realloc and free never install it; aligned_alloc and aligned_alloc_caps do;
 *  - a block from aligned_alloc that has to move keeps its alignment;
 *  - a block recording an alignment while nothing is installed is damage: check and a
 *    moving realloc report TARN_ECORRUPT, and the block is left as it was;
 *  - a changed pointer or check word is never called: TARN_ECORRUPT, block unchanged.
 * Plain C: runs on the host and bare-metal.
 */
#include "check.h"
#include "tarn/heap.h"
#include "internal.h"
#include "support/poke.h"

#define ARENA 8192u
static unsigned char mem[ARENA] __attribute__((aligned(64)));

/* w0 of the header of the block at p (the granule before it). */
static uint32_t hd_w0(const void *p)
{
    uint32_t w;
    const unsigned char *hd = (const unsigned char *)p - TARN_HEAP_GRANULE;
    TARN_SAN_OPEN((void *)(uintptr_t)hd, sizeof w);
    memcpy(&w, hd, sizeof w);
    TARN_SAN_CLOSE((void *)(uintptr_t)hd, sizeof w);
    return w;
}

/* A used block right after p (allocations first use up the free part an aligned
 * allocation left before p), so that growing p must move it.  p's block ends after its
 * usable bytes and, in canary mode, its guard and trailer, rounded up to a granule. */
static void *block_after(tarn_heap *h, void *p)
{
    size_t span = TARN_ALIGN_UP(tarn_heap_usable_size(h, p) + TARN_HEAP_EXTRA, (size_t)TARN_HEAP_GRANULE);
    unsigned char *want = (unsigned char *)p + span + TARN_HEAP_GRANULE;
    int i;
    for (i = 0; i < 64; i++) {
        void *x = tarn_heap_alloc(h, 16);
        REQUIRE(x != NULL);
        if (x == (void *)want) return x;
    }
    REQUIRE(0);
    return NULL;
}

/* A heap whose block a (100 bytes) is followed by a used block, so that growing a must
 * move it. */
static tarn_heap *setup(void **a, void **b)
{
    tarn_heap *h;
    REQUIRE(tarn_heap_init(&h, mem, sizeof mem, NULL) == TARN_OK);
    *a = tarn_heap_alloc(h, 100);
    *b = tarn_heap_alloc(h, 100);
    REQUIRE(*a != NULL && *b != NULL);
    return h;
}

static void plain_calls_install_nothing(void)
{
    void *a, *b, *q;
    tarn_heap *h = setup(&a, &b);
    CHECK(h->aligned == NULL);
    q = tarn_heap_realloc(h, a, 1000);          /* moves */
    CHECK(q != NULL && q != a);
    q = tarn_heap_realloc(h, q, 50);            /* shrinks in place */
    CHECK(q != NULL);
    CHECK(tarn_heap_aligned_alloc(h, 8, 10) != NULL);   /* alignment <= granule: plain */
    CHECK(h->aligned == NULL);
    CHECK_EQ(tarn_heap_free(h, q), TARN_OK);
    CHECK_EQ(tarn_heap_free(h, b), TARN_OK);
    CHECK(h->aligned == NULL);
    CHECK_EQ(tarn_heap_check(h), TARN_OK);
}

static void aligned_block_moves_aligned(void)
{
    void *a, *b, *p, *x, *q;
    tarn_status st = TARN_OK;
    tarn_heap *h = setup(&a, &b);
    p = tarn_heap_aligned_alloc(h, 256, 100);
    CHECK(p != NULL && ((uintptr_t)p & 255u) == 0u);
    CHECK(h->aligned != NULL);
    x = block_after(h, p);                      /* growing p moves it */
    memset(p, 0x5A, 100);
    q = tarn_heap_realloc_status(h, p, 2000, &st);
    CHECK_EQ(st, TARN_OK);
    CHECK(q != NULL && q != p && ((uintptr_t)q & 255u) == 0u);
    CHECK(q != NULL && ((unsigned char *)q)[0] == 0x5A && ((unsigned char *)q)[99] == 0x5A);
    CHECK_EQ(tarn_heap_check(h), TARN_OK);
    CHECK_EQ(tarn_heap_free(h, q), TARN_OK);
    CHECK_EQ(tarn_heap_free(h, x), TARN_OK);
    CHECK_EQ(tarn_heap_check(h), TARN_OK);

    /* aligned_alloc_caps installs it too */
    REQUIRE(tarn_heap_init(&h, mem, sizeof mem, NULL) == TARN_OK);
    CHECK(h->aligned == NULL);
    p = tarn_heap_aligned_alloc_caps(h, 128, 40, 0u);
    CHECK(p != NULL && ((uintptr_t)p & 127u) == 0u);
    CHECK(h->aligned != NULL);
    CHECK_EQ(tarn_heap_check(h), TARN_OK);
}

/* A plain block whose header records an alignment of 2 granules, in a heap where
 * aligned_alloc never ran. */
static void alignment_without_hook_is_damage(void)
{
    void *a, *b, *q;
    uint32_t w0, w1;
    tarn_status st = TARN_OK;
    tarn_heap *h = setup(&a, &b);
    w0 = hd_w0(a);
    w1 = w0 | (1u << 27);
    test_poke((unsigned char *)a - TARN_HEAP_GRANULE, &w1, sizeof w1);
    CHECK_EQ(tarn_heap_check(h), TARN_ECORRUPT);
    q = tarn_heap_realloc_status(h, a, 1000, &st);   /* must move */
    CHECK(q == NULL);
    CHECK_EQ(st, TARN_ECORRUPT);
    CHECK_EQ(hd_w0(a), w1);                       /* the block is as it was */
    CHECK(tarn_heap_usable_size(h, a) >= 100u);
    CHECK(tarn_heap_alloc(h, 8) == NULL);         /* the heap refuses allocations now */
}

/* The installed pointer or its check word changed: never called. */
static void damaged_hook_is_not_called(int which)
{
    void *a, *b, *p, *x, *q;
    tarn_status st = TARN_OK;
    tarn_heap *h = setup(&a, &b);
    p = tarn_heap_aligned_alloc(h, 64, 100);
    REQUIRE(p != NULL && h->aligned != NULL);
    x = block_after(h, p);
    (void)x;
    if (which == 0) {
        /* a pointer that would crash if it were called */
        h->aligned = (void *(*)(tarn_heap *, size_t, size_t, tarn_status *))(uintptr_t)16u;
    } else if (which == 1) {
        h->memchk ^= 0x100u;
    } else {
        h->aligned = NULL;
    }
    CHECK_EQ(tarn_heap_check(h), TARN_ECORRUPT);
    q = tarn_heap_realloc_status(h, p, 2000, &st);
    CHECK(q == NULL);
    CHECK_EQ(st, TARN_ECORRUPT);
    CHECK(tarn_heap_usable_size(h, p) >= 100u);    /* p is still a live block */
    CHECK(tarn_heap_alloc(h, 8) == NULL);
}

int main(void)
{
    plain_calls_install_nothing();
    aligned_block_moves_aligned();
    alignment_without_hook_is_damage();
    damaged_hook_is_not_called(0);
    damaged_hook_is_not_called(1);
    damaged_hook_is_not_called(2);
    return check_done();
}
