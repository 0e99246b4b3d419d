/*
 * tests/test_handle_frag.c - fragmentation: a pool is fragmented until a large allocation
 * fails although the free bytes would suffice; compaction (full, stepwise, or automatic)
 * makes the same allocation succeed, and every block keeps its contents.  A pinned block
 * limits what compaction can do, exactly as documented.
 */
#include "check.h"
#include "tarn/handle.h"

#define NH 128u
#define DATA 8192u
#define SMALL 128u
#define BIG 1024u
/* What a block takes and what a move of it copies (canary mode adds guard bytes), and the
 * largest block a region of r bytes holds. */
#define SLOT TARN_HANDLE_SPAN(SMALL)
#define BODY(n) (TARN_GUARD ? TARN_HANDLE_SPAN(n) : (size_t)(n))
#define FIT(r) ((size_t)(r) - TARN_HANDLE_GUARD)
/* An even number of small blocks fills the pool (the last one stays live); the free bytes
 * once every other one is freed, and what is left at the end. */
#define NSMALL ((DATA / SLOT) & ~1u)
#define HALF_FREE (DATA - (NSMALL / 2u) * SLOT)
#define TAIL (DATA - NSMALL * SLOT)

static unsigned char mem[TARN_HANDLE_BYTES(DATA, NH)] TARN_HANDLE_ALIGNED;
static tarn_handle_pool pool;
static tarn_handle h[NH];
static size_t hsize[NH];
static uint32_t htag[NH];
static unsigned n;

static void fill(unsigned i)
{
    unsigned char *p = (unsigned char *)tarn_handle_lock(&pool, h[i]);
    REQUIRE(p != NULL);
    check_fill(p, hsize[i], htag[i]);
    CHECK_EQ(tarn_handle_unlock(&pool, h[i]), TARN_OK);
}

static unsigned intact(void)
{
    unsigned i, bad = 0;
    for (i = 0; i < n; i++) {
        unsigned char *p;
        if (tarn_handle_is_null(h[i])) continue;
        p = (unsigned char *)tarn_handle_lock(&pool, h[i]);
        if (p == NULL || !check_verify(p, hsize[i], htag[i])) bad++;
        if (p != NULL) CHECK_EQ(tarn_handle_unlock(&pool, h[i]), TARN_OK);
    }
    return bad;
}

/* 64 blocks of 128 bytes fill the pool; freeing every other one leaves 4096 free bytes in
 * 32 regions of 128 (in canary mode fewer, larger blocks, and a rest at the end). */
static void fragment(uint32_t flags)
{
    tarn_config cfg;
    tarn_handle_stats st;
    unsigned i;
    memset(&cfg, 0, sizeof cfg);
    cfg.flags = flags;
    REQUIRE(tarn_handle_init(&pool, mem, sizeof mem, NH, &cfg) == TARN_OK);
    n = NSMALL;
    for (i = 0; i < n; i++) {
        h[i] = tarn_handle_alloc(&pool, SMALL);
        REQUIRE(!tarn_handle_is_null(h[i]));
        hsize[i] = SMALL;
        htag[i] = 1000u + i;
        fill(i);
    }
    for (i = 0; i < n; i += 2) {
        CHECK_EQ(tarn_handle_free(&pool, h[i]), TARN_OK);
        h[i] = tarn_handle_null();
    }
    CHECK_EQ(tarn_handle_stats_get(&pool, &st), TARN_OK);
    CHECK_EQ(st.free, HALF_FREE);
    CHECK_EQ(st.largest_free, TAIL > SLOT ? TAIL : SLOT);
}

static void test_full_compaction(void)
{
    tarn_handle big;
    tarn_handle_stats st;
    size_t moved;
    fragment(0);
    big = tarn_handle_alloc(&pool, BIG);
    CHECK(tarn_handle_is_null(big));                 /* fails without compaction... */
    CHECK_EQ(tarn_handle_last_error(&pool), TARN_ENOMEM);
    moved = tarn_handle_compact(&pool);
    CHECK_EQ(moved, (NSMALL / 2u) * BODY(SMALL)); /* every surviving block moved once */
    CHECK_EQ(tarn_handle_stats_get(&pool, &st), TARN_OK);
    CHECK_EQ(st.largest_free, HALF_FREE);
    big = tarn_handle_alloc(&pool, BIG);
    CHECK(!tarn_handle_is_null(big));                /* ...and succeeds with it */
    CHECK(!tarn_handle_is_null(tarn_handle_alloc(&pool, FIT(HALF_FREE - TARN_HANDLE_SPAN(BIG))))); /* all of it */
    CHECK_EQ(intact(), 0);
    CHECK_EQ(tarn_handle_check(&pool), TARN_OK);
}

static void test_stepwise(void)
{
    tarn_handle big;
    size_t moved, total = 0, worst = 0;
    unsigned calls = 0;
    fragment(0);
    CHECK(tarn_handle_is_null(tarn_handle_alloc(&pool, BIG)));
    while (!tarn_handle_compact_step(&pool, 100, &moved) && calls < 10000u) {
        total += moved;
        if (moved > worst) worst = moved;
        calls++;
    }
    total += moved;
    CHECK(worst <= 100u);
    CHECK_EQ(total, (NSMALL / 2u) * BODY(SMALL));
    CHECK(calls + 1u >= total / 100u); /* the last call, which ended the pass, moved some too */
    big = tarn_handle_alloc(&pool, BIG);
    CHECK(!tarn_handle_is_null(big));
    CHECK_EQ(intact(), 0);
    CHECK_EQ(tarn_handle_check(&pool), TARN_OK);
}

static void test_automatic(void)
{
    tarn_handle_stats st;
    fragment(TARN_HANDLE_F_AUTOCOMPACT);
    CHECK(!tarn_handle_is_null(tarn_handle_alloc(&pool, BIG)));
    CHECK_EQ(tarn_handle_stats_get(&pool, &st), TARN_OK);
    CHECK_EQ(st.compactions, 1);
    CHECK_EQ(intact(), 0);
    /* an allocation larger than all free space still fails, after trying */
    CHECK(tarn_handle_is_null(tarn_handle_alloc(&pool, DATA / 2u)));
    CHECK_EQ(tarn_handle_stats_get(&pool, &st), TARN_OK);
    CHECK_EQ(st.compactions, 2);
}

static void test_pinned(void)
{
    unsigned char *pin;
    tarn_handle_stats st;
    unsigned mid = (NSMALL / 2u) | 1u; /* an odd index: a live block in the middle */
    fragment(0);
    pin = (unsigned char *)tarn_handle_lock(&pool, h[mid]);
    REQUIRE(pin != NULL);
    (void)tarn_handle_compact(&pool);
    CHECK(tarn_handle_lock(&pool, h[mid]) == pin);   /* it did not move */
    CHECK_EQ(tarn_handle_unlock(&pool, h[mid]), TARN_OK);
    CHECK_EQ(tarn_handle_stats_get(&pool, &st), TARN_OK);
    /* the blocks before it packed below it; the free bytes are split by it */
    CHECK_EQ(st.free, HALF_FREE);
    CHECK(st.largest_free < st.free);
    CHECK(tarn_handle_is_null(tarn_handle_alloc(&pool, FIT(st.free))));
    CHECK(!tarn_handle_is_null(tarn_handle_alloc(&pool, FIT(st.largest_free))));
    CHECK_EQ(tarn_handle_unlock(&pool, h[mid]), TARN_OK);
    CHECK_EQ(intact(), 0);
    CHECK_EQ(tarn_handle_check(&pool), TARN_OK);
}

/* Random sizes and frees until a large request fails; after compaction (no pins) it
 * succeeds exactly when the free bytes suffice. */
static void test_random(void)
{
    unsigned round, rounds = (unsigned)CHECK_ITERS(400), failures_seen = 0;
    check_seed(99);
    for (round = 0; round < rounds; round++) {
        tarn_handle_stats st;
        size_t want;
        unsigned i;
        REQUIRE(tarn_handle_init(&pool, mem, sizeof mem, NH, NULL) == TARN_OK);
        n = 0;
        for (;;) { /* fill */
            size_t sz = 8u + check_below(200);
            tarn_handle x = tarn_handle_alloc(&pool, sz);
            if (tarn_handle_is_null(x) || n == NH) break;
            h[n] = x;
            hsize[n] = sz;
            htag[n] = (uint32_t)check_rand();
            fill(n);
            n++;
        }
        for (i = 0; i < n; i++) { /* free about half, at random */
            if (check_below(2)) {
                CHECK_EQ(tarn_handle_free(&pool, h[i]), TARN_OK);
                h[i] = tarn_handle_null();
            }
        }
        CHECK_EQ(tarn_handle_stats_get(&pool, &st), TARN_OK);
        want = FIT(st.largest_free) + TARN_ALIGN + check_below((uint32_t)(st.free - st.largest_free) + 1u);
        if (tarn_handle_is_null(tarn_handle_alloc(&pool, want))) failures_seen++;
        (void)tarn_handle_compact(&pool);
        CHECK_EQ(tarn_handle_stats_get(&pool, &st), TARN_OK);
        CHECK_EQ(st.largest_free, st.free);
        CHECK_EQ(!tarn_handle_is_null(tarn_handle_alloc(&pool, want)), TARN_HANDLE_SPAN(want) <= st.free);
        CHECK_EQ(intact(), 0);
        CHECK_EQ(tarn_handle_check(&pool), TARN_OK);
    }
    CHECK(failures_seen > rounds / 2u); /* fragmentation really did block them */
}

int main(void)
{
    test_full_compaction();
    test_stepwise();
    test_automatic();
    test_pinned();
    test_random();
    return check_done();
}
