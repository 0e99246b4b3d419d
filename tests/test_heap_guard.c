/*
 * tests/test_heap_guard.c - canary mode (TARN_GUARD 1) of the heap: every block is
 * followed by guard bytes and a trailer inside its own granules; usable_size is exactly
 * the request; an overflow by one byte, to the end of the guard, over the trailer or on
 * into the next block is refused by free/realloc/resize (TARN_ECORRUPT, the block stays
 * allocated, nothing else changes) and reported by tarn_heap_check; realloc, resize,
 * calloc and aligned_alloc keep the guard right.  This file compiles src/heap.c itself
 * with canary mode on, so it runs in every build (and under the memory tools, where
 * the damage is written the way a bug would, but without tripping them).
 */
#undef TARN_GUARD
#define TARN_GUARD 1
#include "heap.c"

#include "check.h"
#include "support/poke.h"

#define GR TARN_HEAP_GRANULE
#define XB TARN_HEAP_EXTRA
#define BB(n) TARN_HEAP_BLOCK_BYTES(n)
#define PB(n) (BB(n) - GR)   /* payload: the block without its header */
#define ARENA 16384u

static unsigned char mem[ARENA] __attribute__((aligned(16)));
static tarn_heap *h;

/* Bytes the heap keeps inaccessible (guards, trailers), read and written as a bug or a
 * debugger would, without a report from the memory tools. */
static unsigned char peek8(const unsigned char *p)
{
    unsigned char v;
    tarn_san_peek(&v, p, 1);
    return v;
}
static uint32_t peek32(const unsigned char *p)
{
    uint32_t v;
    tarn_san_peek(&v, p, 4);
    return v;
}

static void fresh(void)
{
    if (h != NULL) (void)tarn_heap_destroy(h);
    REQUIRE(tarn_heap_init(&h, mem, sizeof mem, NULL) == TARN_OK);
}

static size_t used_now(void)
{
    tarn_heap_stats st;
    REQUIRE(tarn_heap_stats_get(h, &st) == TARN_OK);
    return st.used;
}

/* The guard and trailer of a block handed out for n bytes, with a payload of b bytes. */
static int guard_ok(const unsigned char *p, size_t n, size_t b)
{
    size_t i;
    uint32_t slack = (uint32_t)(b - n);
    if (b < n + XB || peek32(p + b - 4u) != (slack | ((slack ^ 0xFFFFu) << 16))) return 0;
    for (i = n; i < b - 4u; i++) {
        if (peek8(p + i) != TARN_GUARD_BYTE) return 0;
    }
    return 1;
}

static void test_layout(void)
{
    static unsigned char *p[130];
    size_t n, used = 0;
    fresh();
    CHECK_EQ(XB, TARN_GUARD_SIZE + 4u);
    for (n = 1; n < 130; n++) {
        p[n] = (unsigned char *)tarn_heap_alloc(h, n);
        REQUIRE(p[n] != NULL);
        CHECK_EQ(tarn_heap_usable_size(h, p[n]), n);        /* exactly the request */
        CHECK(guard_ok(p[n], n, PB(n)));
        if (n > 1) CHECK(p[n] == p[n - 1] + BB(n - 1));     /* blocks are BB(n) long */
        memset(p[n], (int)n, n);
        used += n;
        CHECK_EQ(used_now(), used);
    }
    CHECK_EQ(tarn_heap_check(h), TARN_OK);
    for (n = 1; n < 130; n++) {
        size_t i;
        for (i = 0; i < n; i++) CHECK(p[n][i] == (unsigned char)n);
        CHECK_EQ(tarn_heap_free(h, p[n]), TARN_OK);
    }
    CHECK_EQ(used_now(), 0);
    CHECK_EQ(tarn_heap_check(h), TARN_OK);
}

/* One kind of damage to block b (n bytes): free, realloc, resize and usable_size refuse
 * it, check reports it, nothing else changes; repaired, everything works again. */
static void damage_case(size_t n, size_t off, unsigned char v)
{
    unsigned char *a, *b, *c, saved;
    tarn_heap_stats before, after;
    fresh();
    a = (unsigned char *)tarn_heap_alloc(h, 40);
    b = (unsigned char *)tarn_heap_alloc(h, n);
    c = (unsigned char *)tarn_heap_alloc(h, 40);
    REQUIRE(a && b && c && b == a + BB(40) && c == b + BB(n));
    memset(a, 0xA1, 40);
    memset(b, 0xB2, n);
    memset(c, 0xC3, 40);
    CHECK_EQ(tarn_heap_check(h), TARN_OK);
    CHECK_EQ(tarn_heap_stats_get(h, &before), TARN_OK);
    saved = peek8(b + off);
    test_poke8(b + off, v);                              /* the overflow */
    CHECK_EQ(tarn_heap_check(h), TARN_ECORRUPT);
    CHECK_EQ(tarn_heap_free(h, b), TARN_ECORRUPT);
    CHECK_EQ(tarn_heap_last_error(h), TARN_ECORRUPT);
    CHECK(tarn_heap_realloc(h, b, n + 100u) == NULL);
    CHECK_EQ(tarn_heap_last_error(h), TARN_ECORRUPT);
    CHECK_EQ(tarn_heap_resize(h, b, 1), TARN_ECORRUPT);
    CHECK_EQ(tarn_heap_usable_size(h, b), 0);
    CHECK_EQ(tarn_heap_validate(h, b), TARN_ECORRUPT);
#if TARN_CHECK_LEVEL < 2
    /* the others are untouched and still work (level 2 refuses every call meanwhile) */
    CHECK_EQ(tarn_heap_validate(h, c), TARN_OK);
    CHECK_EQ(tarn_heap_usable_size(h, c), 40);
#endif
    CHECK_EQ(tarn_heap_stats_get(h, &after), TARN_OK);
    CHECK_EQ(after.used, before.used);
    CHECK_EQ(after.live_blocks, before.live_blocks);
    CHECK_EQ(after.free_blocks, before.free_blocks);
    CHECK_EQ(after.total_frees, before.total_frees);
    test_poke8(b + off, saved);                               /* repaired */
    CHECK_EQ(tarn_heap_check(h), TARN_OK);
    {
        size_t i;
        for (i = 0; i < n; i++) CHECK(b[i] == 0xB2);
        for (i = 0; i < 40; i++) CHECK(a[i] == 0xA1 && c[i] == 0xC3);
    }
    CHECK_EQ(tarn_heap_free(h, b), TARN_OK);
    CHECK_EQ(tarn_heap_free(h, a), TARN_OK);
    CHECK_EQ(tarn_heap_free(h, c), TARN_OK);
    CHECK_EQ(tarn_heap_check(h), TARN_OK);
}

static void test_damage(void)
{
    size_t n;
    for (n = 1; n <= 3u * GR; n++) {
        size_t b = PB(n);
        damage_case(n, n, 0x00);                  /* one byte past the end */
        damage_case(n, n, TARN_GUARD_BYTE ^ 1u);
        damage_case(n, b - 5u, 0x00);             /* the last guard byte */
        damage_case(n, b - 4u, 0x00);             /* the trailer (slack too small) */
        damage_case(n, b - 1u, 0x7F);             /* the trailer (slack too large) */
    }
    /* one trailer half changed alone, to a plausible slack */
    damage_case(5, PB(5) - 4u, (unsigned char)(PB(5) - 5u + 1u));
    damage_case(5, PB(5) - 4u, (unsigned char)(PB(5) - 5u - 1u));
}

/* An overflow that runs through the guard and trailer into the next block's header (of
 * a used block, or a free one): the overflowing block's own free and the check report
 * it, and nothing is written. */
static void test_into_next(void)
{
    unsigned char *a, *b, *c, save[64];
    size_t i, len;
    fresh();
    a = (unsigned char *)tarn_heap_alloc(h, 24);
    b = (unsigned char *)tarn_heap_alloc(h, 24);
    REQUIRE(a && b && b == a + BB(24));
    len = PB(24) - 24u + 8u;                     /* guard, trailer and b's header */
    for (i = 0; i < len; i++) save[i] = peek8(a + 24u + i);
    for (i = 0; i < len; i++) test_poke8(a + 24u + i, 0x55);
    CHECK_EQ(tarn_heap_check(h), TARN_ECORRUPT);
    CHECK_EQ(tarn_heap_free(h, a), TARN_ECORRUPT);
    CHECK_EQ(tarn_heap_free(h, b), TARN_ECORRUPT);   /* its header is damaged too */
    for (i = 0; i < len; i++) test_poke8(a + 24u + i, save[i]);
    CHECK_EQ(tarn_heap_check(h), TARN_OK);
    CHECK_EQ(tarn_heap_free(h, b), TARN_OK);     /* b is free now: a's right neighbour */
    /* into a free block's header: the overflowing block is refused before it is used */
    for (i = 0; i < len; i++) save[i] = peek8(a + 24u + i);
    for (i = 0; i < len; i++) test_poke8(a + 24u + i, 0x55);
    CHECK_EQ(tarn_heap_check(h), TARN_ECORRUPT);
    CHECK_EQ(tarn_heap_free(h, a), TARN_ECORRUPT);
    CHECK(tarn_heap_realloc(h, a, 100) == NULL);
    CHECK_EQ(tarn_heap_last_error(h), TARN_ECORRUPT);
    for (i = 0; i < len; i++) test_poke8(a + 24u + i, save[i]);
    CHECK_EQ(tarn_heap_check(h), TARN_OK);
    c = (unsigned char *)tarn_heap_realloc(h, a, 60);    /* grows in place into b's room */
    CHECK(c == a && tarn_heap_usable_size(h, c) == 60u && guard_ok(c, 60, PB(60)));
    CHECK_EQ(tarn_heap_free(h, c), TARN_OK);
    CHECK_EQ(tarn_heap_check(h), TARN_OK);
}

static void test_realloc_resize(void)
{
    unsigned char *a, *b, *q;
    size_t i, n;
    fresh();
    a = (unsigned char *)tarn_heap_alloc(h, 100);
    b = (unsigned char *)tarn_heap_alloc(h, 10);     /* right after a */
    REQUIRE(a && b);
    for (i = 0; i < 100; i++) a[i] = (unsigned char)i;
    /* shrink and grow inside the same block, then out of it, in place */
    for (n = 1; n <= 100; n++) {
        q = (unsigned char *)tarn_heap_realloc(h, a, n);
        CHECK(q == a && tarn_heap_usable_size(h, a) == n &&
              (guard_ok(a, n, PB(n)) || guard_ok(a, n, PB(n) + GR)));
        for (i = 0; i < n; i++) a[i] = (unsigned char)i;   /* beyond n: lost */
        CHECK_EQ(tarn_heap_check(h), TARN_OK);
    }
    CHECK_EQ(tarn_heap_resize(h, a, 37), TARN_OK);
    CHECK(tarn_heap_usable_size(h, a) == 37u && guard_ok(a, 37, PB(37)));
    CHECK_EQ(tarn_heap_resize(h, a, 100), TARN_OK);           /* back into its own tail */
    CHECK(guard_ok(a, 100, PB(100)));
    /* a cannot grow beyond its block in place (b is used): resize fails, realloc moves */
    for (i = 0; i < 100; i++) a[i] = (unsigned char)i;
    CHECK_EQ(tarn_heap_resize(h, a, PB(100) - XB + 1u), TARN_ENOMEM);
    CHECK_EQ(tarn_heap_resize(h, a, PB(100) - XB), TARN_OK);  /* what its block holds */
    CHECK(guard_ok(a, PB(100) - XB, PB(100)));
    q = (unsigned char *)tarn_heap_realloc(h, a, 300);
    REQUIRE(q != NULL && q != a);
    for (i = 0; i < 100; i++) CHECK(q[i] == (unsigned char)i);
    CHECK(tarn_heap_usable_size(h, q) == 300u && guard_ok(q, 300, PB(300)));
    CHECK_EQ(tarn_heap_validate(h, a), TARN_EDOUBLE);
    CHECK_EQ(used_now(), 310);
    CHECK_EQ(tarn_heap_check(h), TARN_OK);
    CHECK_EQ(tarn_heap_free(h, q), TARN_OK);
    CHECK_EQ(tarn_heap_free(h, b), TARN_OK);
    CHECK_EQ(used_now(), 0);
}

static void test_calloc_aligned_stats(void)
{
    unsigned char *p, *q;
    size_t i, a;
    tarn_heap_stats st;
    fresh();
    p = (unsigned char *)tarn_heap_alloc(h, 64);
    memset(p, 0xFF, 64);
    CHECK_EQ(tarn_heap_free(h, p), TARN_OK);
    p = (unsigned char *)tarn_heap_calloc(h, 7, 9);
    REQUIRE(p != NULL);
    for (i = 0; i < 63; i++) CHECK(p[i] == 0);
    CHECK(tarn_heap_usable_size(h, p) == 63u && guard_ok(p, 63, PB(63)));
    CHECK_EQ(tarn_heap_free(h, p), TARN_OK);
    for (a = 2u * GR; a <= 1024u; a <<= 1) {
        p = (unsigned char *)tarn_heap_aligned_alloc(h, a, 3);
        REQUIRE(p != NULL);
        CHECK(((uintptr_t)p & (a - 1u)) == 0u);
        CHECK(tarn_heap_usable_size(h, p) == 3u && guard_ok(p, 3, PB(3)));
        q = (unsigned char *)tarn_heap_realloc(h, p, 500);   /* keeps its alignment */
        REQUIRE(q != NULL);
        CHECK(((uintptr_t)q & (a - 1u)) == 0u && guard_ok(q, 500, PB(500)));
        test_poke8(q + 500, 0);
        CHECK_EQ(tarn_heap_free(h, q), TARN_ECORRUPT);
        test_poke8(q + 500, TARN_GUARD_BYTE);
        CHECK_EQ(tarn_heap_free(h, q), TARN_OK);
    }
    /* capacity is the largest request: its guard fills the rest of the heap */
    CHECK_EQ(tarn_heap_stats_get(h, &st), TARN_OK);
    CHECK_EQ((st.capacity + XB) % GR, 0);
    CHECK_EQ(st.largest_free, st.capacity);
    CHECK(tarn_heap_alloc(h, st.capacity + 1u) == NULL);
    p = (unsigned char *)tarn_heap_alloc(h, st.capacity);
    REQUIRE(p != NULL);
    CHECK(guard_ok(p, st.capacity, st.capacity + XB));
    CHECK_EQ(tarn_heap_stats_get(h, &st), TARN_OK);
    CHECK_EQ(st.free, 0);
    CHECK_EQ(tarn_heap_free(h, p), TARN_OK);
    /* the smallest heap holds one 1-byte allocation */
    CHECK_EQ(tarn_heap_destroy(h), TARN_OK);
    h = NULL;
    for (a = 0; a < GR; a++) {
        tarn_heap *t;
        CHECK_EQ(tarn_heap_init(&t, mem + a, TARN_HEAP_MIN_SIZE, NULL), TARN_OK);
        CHECK(tarn_heap_alloc(t, 1) != NULL);
        CHECK_EQ(tarn_heap_check(t), TARN_OK);
        CHECK_EQ(tarn_heap_destroy(t), TARN_OK);
    }
}

/* Random use with random overflows: every damaged block is found by check and refused
 * by free; repaired, it frees. */
static void test_random(void)
{
    static unsigned char *p[64];
    static size_t n[64];
    long i, iters = CHECK_ITERS(20000L);
    fresh();
    check_seed(77);
    memset(p, 0, sizeof p);
    for (i = 0; i < iters; i++) {
        uint32_t k = check_below(64);
        if (p[k] == NULL) {
            n[k] = 1u + check_below(check_below(4) == 0 ? 600u : 40u);
            p[k] = (unsigned char *)tarn_heap_alloc(h, n[k]);
            if (p[k] != NULL) check_fill(p[k], n[k], k);
        } else if (check_below(8) == 0) {
            size_t off = n[k] + check_below((uint32_t)(PB(n[k]) - n[k]));
            unsigned char s = peek8(p[k] + off);
            test_poke8(p[k] + off, (unsigned char)(s ^ (1u << check_below(8))));
            CHECK_EQ(tarn_heap_check(h), TARN_ECORRUPT);
            CHECK_EQ(tarn_heap_free(h, p[k]), TARN_ECORRUPT);
            test_poke8(p[k] + off, s);
        } else {
            CHECK(check_verify(p[k], n[k], k));
            CHECK_EQ(tarn_heap_free(h, p[k]), TARN_OK);
            p[k] = NULL;
        }
        if (i % 500 == 0) CHECK_EQ(tarn_heap_check(h), TARN_OK);
    }
    CHECK_EQ(tarn_heap_check(h), TARN_OK);
}

int main(void)
{
    test_layout();
    test_damage();
    test_into_next();
    test_realloc_resize();
    test_calloc_aligned_stats();
    test_random();
    return check_done();
}
