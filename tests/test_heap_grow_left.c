/*
 * tests/test_heap_grow_left.c - realloc growing into the free block before it: a block
 * that cannot grow in place moves down into a free left neighbour whose payload holds
 * all its bytes (taking the free block after it too when needed), keeps its data, and
 * leaves the rest free after it; a left neighbour too small for the bytes, a block from
 * aligned_alloc, a damaged left neighbour and the quarantine all keep the old ways.
 * Compiles src/heap.c itself with the trace hook on (TARN_HEAP_TRACE 1), to check the
 * events such a move reports.
 */
#undef TARN_HEAP_TRACE
#define TARN_HEAP_TRACE 1
#include "heap.c"

#include "check.h"
#include "support/poke.h"

#define GRAN TARN_HEAP_GRANULE

static unsigned char mem[8192] __attribute__((aligned(64)));

static int nev, nalloc, nfree, nresize;
static const void *last_alloc, *last_free;

static void on_trace(void *ctx, tarn_heap_event e, const void *ptr, size_t size, tarn_status st)
{
    (void)ctx;
    (void)size;
    (void)st;
    nev++;
    if (e == TARN_HEAP_EV_ALLOC) {
        nalloc++;
        last_alloc = ptr;
    } else if (e == TARN_HEAP_EV_FREE) {
        nfree++;
        last_free = ptr;
    } else if (e == TARN_HEAP_EV_RESIZE) {
        nresize++;
    }
}

static void fill(unsigned char *p, size_t n, unsigned seed)
{
    size_t i;
    for (i = 0; i < n; i++) p[i] = (unsigned char)(seed + i * 7u);
}

static int same(const unsigned char *p, size_t n, unsigned seed)
{
    size_t i;
    for (i = 0; i < n; i++) {
        if (p[i] != (unsigned char)(seed + i * 7u)) return 0;
    }
    return 1;
}

static tarn_heap *fresh(void)
{
    tarn_heap *h = NULL;
    CHECK_EQ(tarn_heap_init(&h, mem, sizeof mem, NULL), TARN_OK);
    CHECK_EQ(tarn_heap_set_trace(h, on_trace, NULL), TARN_OK);
    return h;
}

/* [a 64][b 64][c 64][rest]: a freed, b grows past what fits in place */
static void test_into_left(void)
{
    tarn_heap *h = fresh();
    tarn_heap_stats s0, s1;
    unsigned char *a = (unsigned char *)tarn_heap_alloc(h, 64);
    unsigned char *b = (unsigned char *)tarn_heap_alloc(h, 64);
    unsigned char *c = (unsigned char *)tarn_heap_alloc(h, 64);
    unsigned char *q;
    CHECK(a != NULL && b != NULL && c != NULL);
    CHECK(a < b && b < c);
    fill(b, 64, 3u);
    CHECK_EQ(tarn_heap_free(h, a), TARN_OK);
    CHECK_EQ(tarn_heap_stats_get(h, &s0), TARN_OK);
    nev = nalloc = nfree = nresize = 0;
    q = (unsigned char *)tarn_heap_realloc(h, b, 100);
    CHECK(q == a);                  /* moved down into the free block before it */
    CHECK(same(q, 64, 3u));
    CHECK(tarn_heap_usable_size(h, q) >= 100u);
    CHECK_EQ(tarn_heap_check(h), TARN_OK);
    /* reported as a move: the new block handed out, the old one freed */
    CHECK_EQ(nalloc, 1);
    CHECK_EQ(nfree, 1);
    CHECK_EQ(nresize, 0);
    CHECK(last_alloc == q);
    CHECK(last_free == b);
    CHECK_EQ(tarn_heap_stats_get(h, &s1), TARN_OK);
    CHECK_EQ(s1.live_blocks, s0.live_blocks);
    CHECK_EQ(s1.total_allocs, s0.total_allocs + 1u);
    CHECK_EQ(s1.total_frees, s0.total_frees + 1u);
    CHECK_EQ(s1.used, s0.used - tarn_heap_usable_size(h, c) + tarn_heap_usable_size(h, q));
    /* the peak counts the move as every moving realloc: an allocation, then a free */
    {
        size_t both = s0.used + tarn_heap_usable_size(h, q);
        CHECK_EQ(s1.peak_used, both > s0.peak_used ? both : s0.peak_used);
        CHECK(both > s0.peak_used);     /* (the case this heap shows) */
    }
    /* the old pointer is gone; the rest of the merged span is one free block before c */
    CHECK_EQ(tarn_heap_free(h, b), TARN_EFOREIGN);
    CHECK_EQ(tarn_heap_free(h, q), TARN_OK);
    CHECK_EQ(tarn_heap_free(h, c), TARN_OK);
    CHECK_EQ(tarn_heap_stats_get(h, &s1), TARN_OK);
    CHECK_EQ(s1.free_blocks, 1u);
    CHECK_EQ(s1.live_blocks, 0u);
    CHECK_EQ(tarn_heap_destroy(h), TARN_OK);
}

/* [a 64][b 64][c 32][d 64] in a fresh heap, b filled with v, a and c freed; the span
 * from a to d, less one header, is returned */
static size_t abcd(tarn_heap **hp, unsigned char **a, unsigned char **b, unsigned char **d,
                   unsigned v)
{
    tarn_heap *h = fresh();
    unsigned char *c;
    *a = (unsigned char *)tarn_heap_alloc(h, 64);
    *b = (unsigned char *)tarn_heap_alloc(h, 64);
    c = (unsigned char *)tarn_heap_alloc(h, 32);
    *d = (unsigned char *)tarn_heap_alloc(h, 64);
    REQUIRE(*a != NULL && *b != NULL && c != NULL && *d != NULL);
    fill(*b, 64, v);
    CHECK_EQ(tarn_heap_free(h, *a), TARN_OK);
    CHECK_EQ(tarn_heap_free(h, c), TARN_OK);
    *hp = h;
    return (size_t)(*d - *a) - GRAN - TARN_HEAP_EXTRA;
}

/* a and c freed; b needs all three */
static void test_left_and_right(void)
{
    tarn_heap *h;
    unsigned char *a, *b, *d, *q;
    /* more than b + c, at most a + b + c (whole spans less one header) */
    size_t want = abcd(&h, &a, &b, &d, 9u);
    q = (unsigned char *)tarn_heap_realloc(h, b, want);
    CHECK(q == a);
    CHECK(same(q, 64, 9u));
    CHECK(tarn_heap_usable_size(h, q) >= want);
    CHECK_EQ(tarn_heap_check(h), TARN_OK);
    CHECK_EQ(tarn_heap_free(h, q), TARN_OK);
    CHECK_EQ(tarn_heap_free(h, d), TARN_OK);
    CHECK_EQ(tarn_heap_check(h), TARN_OK);
    CHECK_EQ(tarn_heap_destroy(h), TARN_OK);
}

/* the same, one granule more than a + b + c: the block moves elsewhere, as before, and
 * a, b and c become one free block */
static void test_left_and_right_short(void)
{
    tarn_heap *h;
    unsigned char *a, *b, *d, *q;
    tarn_heap_stats before, after;
    size_t span = abcd(&h, &a, &b, &d, 3u);
    CHECK_EQ(tarn_heap_stats_get(h, &before), TARN_OK);
    q = (unsigned char *)tarn_heap_realloc(h, b, span + GRAN);
    CHECK(q != NULL && q > d);
    CHECK(same(q, 64, 3u));
    CHECK_EQ(tarn_heap_stats_get(h, &after), TARN_OK);
    CHECK_EQ(after.free_blocks, before.free_blocks - 1u);   /* b freed between a and c */
    CHECK(tarn_heap_alloc(h, span) == a);
    CHECK_EQ(tarn_heap_check(h), TARN_OK);
    CHECK_EQ(tarn_heap_destroy(h), TARN_OK);
}

/* [a na][b 64][c 64] in a fresh heap, b filled with v, a freed */
static tarn_heap *abc(size_t na, unsigned char **a, unsigned char **b, unsigned char **c,
                      unsigned v)
{
    tarn_heap *h = fresh();
    *a = (unsigned char *)tarn_heap_alloc(h, na);
    *b = (unsigned char *)tarn_heap_alloc(h, 64);
    *c = (unsigned char *)tarn_heap_alloc(h, 64);
    REQUIRE(*a != NULL && *b != NULL && *c != NULL);
    fill(*b, 64, v);
    CHECK_EQ(tarn_heap_free(h, *a), TARN_OK);
    return h;
}

/* a left neighbour whose payload cannot hold all the bytes is not used (the copy would
 * overlap): the block moves elsewhere, as before */
static void test_left_too_small(void)
{
    unsigned char *a, *b, *c, *q;
    tarn_heap *h = abc(16, &a, &b, &c, 5u);
    q = (unsigned char *)tarn_heap_realloc(h, b, 100);
    CHECK(q != NULL && q != a && q > c);
    CHECK(same(q, 64, 5u));
    CHECK_EQ(tarn_heap_check(h), TARN_OK);
    CHECK_EQ(tarn_heap_destroy(h), TARN_OK);
}

/* a damaged header of the free block before: TARN_ECORRUPT, the block stays where it is */
static void test_left_damaged(void)
{
    int kind;
    /* 0: its size (seen by the pointer's validation); 1: its free flag, 2: its back link
     * (seen only by the move's own checks, before anything changes) */
    for (kind = 0; kind < 3; kind++) {
        unsigned char *a, *b, *c;
        tarn_heap *h = abc(64, &a, &b, &c, 1u);
        uint32_t w;
        tarn_status st = TARN_OK;
        unsigned char *at = kind == 2 ? a + 4 : a - GRAN + 4;   /* prev link / size word */
        tarn_san_peek(&w, at, sizeof w);
        if (kind == 0) w ^= 1u;
        if (kind == 1) w &= ~FREE;
        if (kind == 2) w = (uint32_t)((size_t)(b - GRAN - h->blocks) >> LG);   /* b: used */
        test_poke(at, &w, sizeof w);
        CHECK(tarn_heap_realloc_status(h, b, 100, &st) == NULL);
        CHECK_EQ(st, TARN_ECORRUPT);
        CHECK(same(b, 64, 1u));
        /* b stays where it was (kind 0: its validation sees the damaged tag before it) */
        CHECK_EQ(tarn_heap_validate(h, b), kind == 0 ? TARN_ECORRUPT : TARN_OK);
        CHECK(tarn_heap_alloc(h, 8) == NULL);  /* the heap refuses allocations from now on */
    }
}

/* a block from aligned_alloc keeps its alignment: it never moves into the block before */
static void test_aligned_stays_aligned(void)
{
    tarn_heap *h = fresh();
    unsigned char *a, *b, *c, *q;
    a = (unsigned char *)tarn_heap_alloc(h, 200);
    b = (unsigned char *)tarn_heap_aligned_alloc(h, 64, 64);
    c = (unsigned char *)tarn_heap_alloc(h, 64);
    CHECK(a != NULL && b != NULL && c != NULL);
    CHECK(((uintptr_t)b & 63u) == 0u);
    fill(b, 64, 11u);
    CHECK_EQ(tarn_heap_free(h, a), TARN_OK);
    q = (unsigned char *)tarn_heap_realloc(h, b, 128);
    CHECK(q != NULL && ((uintptr_t)q & 63u) == 0u);
    CHECK(same(q, 64, 11u));
    CHECK_EQ(tarn_heap_check(h), TARN_OK);
    CHECK_EQ(tarn_heap_destroy(h), TARN_OK);
}

#if TARN_QUARANTINE > 0
/* with the quarantine on, the old block is held, not reused at once */
static void test_quarantine(void)
{
    tarn_heap *h = NULL;
    tarn_config cfg = {0};
    unsigned char *a, *b, *c, *q;
    cfg.flags = TARN_F_QUARANTINE;
    CHECK_EQ(tarn_heap_init(&h, mem, sizeof mem, &cfg), TARN_OK);
    a = (unsigned char *)tarn_heap_alloc(h, 64);
    b = (unsigned char *)tarn_heap_alloc(h, 64);
    c = (unsigned char *)tarn_heap_alloc(h, 64);
    CHECK(a != NULL && b != NULL && c != NULL);
    CHECK_EQ(tarn_heap_free(h, a), TARN_OK);
    CHECK_EQ(tarn_heap_quarantine_flush(h), TARN_OK);
    fill(b, 64, 13u);
    q = (unsigned char *)tarn_heap_realloc(h, b, 100);
    CHECK(q != NULL && q != a);
    CHECK(same(q, 64, 13u));
    CHECK_EQ(tarn_heap_free(h, b), TARN_EDOUBLE);   /* held */
    CHECK_EQ(tarn_heap_check(h), TARN_OK);
    CHECK_EQ(tarn_heap_destroy(h), TARN_OK);
}
#endif

int main(void)
{
    test_into_left();
    test_left_and_right();
    test_left_and_right_short();
    test_left_too_small();
    test_left_damaged();
    test_aligned_stays_aligned();
#if TARN_QUARANTINE > 0
    test_quarantine();
#endif
    return check_done();
}
