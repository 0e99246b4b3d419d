/*
 * tests/test_handle_guard.c - canary mode of the handle pool: every block is followed by
 * guard bytes, which move with it, which the pool's own copy and clear never write, and
 * whose damage free, resize, copy, clear and the full check report (TARN_ECORRUPT, the
 * block left allocated, nothing else changed).
 *
 * This file compiles the handle pool itself with TARN_GUARD 1, so canary mode is tested in
 * every build, with the memory tools watching the guard bytes in the ASan and Valgrind
 * builds.  The tools report an overflow into a guard at once (test_handle_guard_death);
 * to reach the pool's own checks under them, the test damages guards through the
 * sanitizer window (TARN_SAN_OPEN/CLOSE).  Without tools that is a plain store past the
 * block's end: canary mode on a target that has no tools.
 */
#undef TARN_GUARD
#define TARN_GUARD 1
#include "handle.c"
#include "check.h"
#include "support/poke.h"

#define NH 16u
#define DATA 1024u
#define SPAN(n) TARN_HANDLE_SPAN(n)
#define FIT(r) ((size_t)(r) - TARN_HANDLE_GUARD)

static unsigned char mem[TARN_HANDLE_BYTES(DATA, NH)] TARN_HANDLE_ALIGNED;
static tarn_handle_pool pool;

static void init(uint32_t flags)
{
    static tarn_config cfg; /* no lock hook, no name */
    cfg.flags = flags;
    REQUIRE(tarn_handle_init(&pool, mem, sizeof mem, NH, &cfg) == TARN_OK);
}

static tarn_handle make(size_t n, uint32_t tag)
{
    tarn_handle h = tarn_handle_alloc(&pool, n);
    unsigned char *p;
    REQUIRE(!tarn_handle_is_null(h));
    p = (unsigned char *)tarn_handle_lock(&pool, h);
    REQUIRE(p != NULL);
    check_fill(p, n, tag);
    CHECK_EQ(tarn_handle_unlock(&pool, h), TARN_OK);
    return h;
}

static int holds(tarn_handle h, size_t n, uint32_t tag)
{
    unsigned char *p = (unsigned char *)tarn_handle_lock(&pool, h);
    int ok = p != NULL && check_verify(p, n, tag);
    if (p != NULL) CHECK_EQ(tarn_handle_unlock(&pool, h), TARN_OK);
    return ok;
}

/* Where block h is now (the pool may move it once unlocked again). */
static unsigned char *where(tarn_handle h)
{
    unsigned char *p = (unsigned char *)tarn_handle_lock(&pool, h);
    REQUIRE(p != NULL);
    CHECK_EQ(tarn_handle_unlock(&pool, h), TARN_OK);
    return p;
}

/* The guard of block h (of n bytes) holds nothing but TARN_GUARD_BYTE (read while the
 * block is pinned: in scramble mode the unlock moves it). */
static bool guard_clean(tarn_handle h, size_t n)
{
    unsigned char *p = (unsigned char *)tarn_handle_lock(&pool, h);
    bool ok;
    REQUIRE(p != NULL);
    ok = tarn_bytes_are(p + n, SPAN(n) - n, TARN_GUARD_BYTE);
    CHECK_EQ(tarn_handle_unlock(&pool, h), TARN_OK);
    return ok;
}

/* A store of v at guard byte p (through the sanitizer window, see the top). */
static void stats(tarn_handle_stats *st)
{
    REQUIRE(tarn_handle_stats_get(&pool, st) == TARN_OK);
}

static void test_layout(void)
{
    tarn_handle h[12];
    tarn_handle_stats st;
    size_t used = 0, i;
    unsigned char *prev = NULL;
    init(0);
    CHECK_EQ(TARN_HANDLE_GUARD, TARN_GUARD_SIZE);
    for (i = 0; i < 12; i++) {
        size_t n = 1u + 7u * i;
        unsigned char *p;
        h[i] = make(n, (uint32_t)i);
        p = where(h[i]);
        CHECK(SPAN(n) - n >= TARN_GUARD_SIZE);
        CHECK(guard_clean(h[i], n));
        if (prev != NULL) CHECK_EQ(p - prev, SPAN(1u + 7u * (i - 1u))); /* packed span by span */
        prev = p;
        used += SPAN(n);
    }
    stats(&st);
    CHECK_EQ(st.used, used);
    CHECK_EQ(st.free, DATA - used);
    CHECK_EQ(tarn_handle_check(&pool), TARN_OK);
    /* the usable size excludes the guard: a block of FIT(DATA) fills an empty pool */
    init(0);
    CHECK(tarn_handle_is_null(tarn_handle_alloc(&pool, FIT(DATA) + 1u)));
    CHECK_EQ(tarn_handle_last_error(&pool), TARN_ENOMEM);
    h[0] = make(FIT(DATA), 1);
    CHECK(guard_clean(h[0], FIT(DATA)));
    CHECK_EQ(tarn_handle_fit_bound(FIT(DATA)), DATA);
    CHECK_EQ(tarn_handle_check(&pool), TARN_OK);
    CHECK_EQ(tarn_handle_free(&pool, h[0]), TARN_OK);
}

/* Damage at the first and at the last guard byte: every guarded operation refuses, the
 * block stays allocated with its contents, its neighbours and the counters unchanged. */
static void test_damage_refused(void)
{
    const size_t at[2] = {40u, SPAN(40) - 1u};
    unsigned k;
    for (k = 0; k < 2; k++) {
        tarn_handle a, b, c;
        tarn_handle_stats before, after;
        unsigned char *g;
        init(0);
        a = make(24, 10);
        b = make(40, 11);
        c = make(24, 12);
        stats(&before);
        g = where(b) + at[k];
        test_poke8(g, 0x00);
        CHECK_EQ(tarn_handle_free(&pool, b), TARN_ECORRUPT);
        CHECK_EQ(tarn_handle_last_error(&pool), TARN_ECORRUPT);
        CHECK_EQ(tarn_handle_check(&pool), TARN_ECORRUPT);
        CHECK_EQ(tarn_handle_clear(&pool, b), TARN_ECORRUPT);
        CHECK_EQ(tarn_handle_copy(&pool, b, a), TARN_ECORRUPT);   /* into the damaged one */
        CHECK_EQ(tarn_handle_copy(&pool, c, b), TARN_ECORRUPT);   /* out of it */
        CHECK_EQ(tarn_handle_copy(&pool, b, b), TARN_ECORRUPT);
        CHECK_EQ(tarn_handle_resize(&pool, b, 8), TARN_ECORRUPT);
        CHECK_EQ(tarn_handle_resize(&pool, b, 200), TARN_ECORRUPT);
        /* still allocated and unchanged; so is everything else */
        CHECK_EQ(tarn_handle_validate(&pool, b), TARN_OK);
        CHECK_EQ(tarn_handle_size(&pool, b), 40);
        CHECK(holds(a, 24, 10));
        CHECK(holds(b, 40, 11));
        CHECK(holds(c, 24, 12));
        stats(&after);
        CHECK_EQ(after.used, before.used);
        CHECK_EQ(after.handles_used, 3);
        /* the other blocks work as usual */
        CHECK_EQ(tarn_handle_copy(&pool, c, a), TARN_OK);
        CHECK(holds(c, 24, 10));
        CHECK_EQ(tarn_handle_free(&pool, a), TARN_OK);
        /* put the guard byte back: b is good again */
        test_poke8(g, (unsigned char)TARN_GUARD_BYTE);
        CHECK_EQ(tarn_handle_check(&pool), TARN_OK);
        CHECK_EQ(tarn_handle_free(&pool, b), TARN_OK);
        CHECK_EQ(tarn_handle_free(&pool, c), TARN_OK);
        CHECK_EQ(tarn_handle_check(&pool), TARN_OK);
    }
}

/* A write running past a block's end into the next block crosses the guard first: the
 * next block's bytes change, and free and check report the block that overflowed. */
static void test_overrun_into_next(void)
{
    tarn_handle a, b;
    unsigned char *p, *q;
    size_t i;
    init(0);
    a = make(32, 20);
    b = make(32, 21);
    p = (unsigned char *)tarn_handle_lock(&pool, a);
    q = where(b);
    CHECK(q == p + SPAN(32));
    for (i = 32; i < SPAN(32); i++) test_poke8(p + i, 0x41); /* the guard... */
    for (i = 0; i < 4; i++) q[i] = 0x41;                  /* ...and on into b */
    CHECK_EQ(tarn_handle_unlock(&pool, a), TARN_OK);
    CHECK_EQ(tarn_handle_check(&pool), TARN_ECORRUPT);
    CHECK_EQ(tarn_handle_free(&pool, a), TARN_ECORRUPT);
    CHECK_EQ(tarn_handle_validate(&pool, a), TARN_OK);
    CHECK_EQ(tarn_handle_free(&pool, b), TARN_OK); /* b's own guard is intact */
    CHECK_EQ(tarn_handle_check(&pool), TARN_ECORRUPT);
}

/* The pool's own writes stay inside the size: copy, clear, and the user's full-size write. */
static void test_own_writes_in_bounds(void)
{
    tarn_handle big, small;
    unsigned char *p;
    init(0);
    big = make(37, 30);
    small = make(21, 31);
    CHECK_EQ(tarn_handle_copy(&pool, big, small), TARN_OK);
    CHECK(guard_clean(big, 37));
    CHECK_EQ(tarn_handle_clear(&pool, big), TARN_OK);
    CHECK_EQ(tarn_handle_clear(&pool, small), TARN_OK);
    CHECK(guard_clean(big, 37));
    CHECK(guard_clean(small, 21));
    p = (unsigned char *)tarn_handle_lock(&pool, big);
    memset(p, 0x5A, 37);
    CHECK_EQ(tarn_handle_unlock(&pool, big), TARN_OK);
    CHECK_EQ(tarn_handle_check(&pool), TARN_OK);
    CHECK_EQ(tarn_handle_copy(&pool, big, small), TARN_OK);
    CHECK(guard_clean(big, 37));
    CHECK_EQ(tarn_handle_check(&pool), TARN_OK);
}

/* Compaction moves a guard with its block, damage included, so it is still found. */
static void test_compaction_moves_guard(void)
{
    tarn_handle a, b, c;
    unsigned char *p;
    init(0);
    a = make(64, 40);
    b = make(24, 41);
    c = make(50, 42);
    test_poke8(where(b) + 24 + 3, 0x77);
    CHECK_EQ(tarn_handle_free(&pool, a), TARN_OK);
    CHECK_EQ(tarn_handle_compact(&pool), SPAN(24) + SPAN(50)); /* whole spans move */
    p = where(b);
    CHECK(p == mem + TARN_HANDLE_TABLE_SPACE(NH));
    {
        unsigned char g[SPAN(24) - 24];
        tarn_san_peek(g, p + 24, sizeof g);
        CHECK_EQ(g[3], 0x77);                   /* the damage moved with it */
        CHECK_EQ(g[0], TARN_GUARD_BYTE);
    }
    CHECK(guard_clean(c, 50));
    CHECK(holds(b, 24, 41));
    CHECK(holds(c, 50, 42));
    CHECK_EQ(tarn_handle_check(&pool), TARN_ECORRUPT);
    CHECK_EQ(tarn_handle_free(&pool, b), TARN_ECORRUPT);
    test_poke8(p + 24 + 3, (unsigned char)TARN_GUARD_BYTE);
    CHECK_EQ(tarn_handle_free(&pool, b), TARN_OK);
    CHECK_EQ(tarn_handle_check(&pool), TARN_OK);
    (void)c;
}

/* compact_step moves data and guard in pieces: while a block is in transit its guard is
 * partly at the new place and partly at the old; the checks read both parts. */
static void test_step_moves_guard(void)
{
    const size_t n = 24;
    size_t budget;
    for (budget = 1; budget < SPAN(24); budget++) {
        tarn_handle a, b;
        size_t moved = 0, steps = 0;
        init(0);
        a = make(SPAN(24) * 2u, 50); /* b moves down by more than its span: no overlap */
        b = make(n, 51);
        CHECK_EQ(tarn_handle_free(&pool, a), TARN_OK);
        while (!tarn_handle_compact_step(&pool, budget, &moved)) {
            size_t i = n + steps % (SPAN(24) - n); /* a guard byte: where is it now? */
            unsigned char *g, keep;
            REQUIRE(++steps < 1000u);
            if (pool.transit == HP_NIL) continue;
            g = (i < pool.transit_done ? pool.data + hp_t(&pool)[pool.transit].off
                                       : pool.data + pool.transit_src) + i;
            CHECK_EQ(tarn_handle_check(&pool), TARN_OK);
            tarn_san_peek(&keep, g, 1);
            CHECK_EQ(keep, TARN_GUARD_BYTE);
            *g = 0; /* plain stores: the pool keeps a block's path open while it is in transit */
            CHECK_EQ(tarn_handle_check(&pool), TARN_ECORRUPT);
            *g = keep;
        }
        CHECK(steps > 0u);
        CHECK(where(b) == mem + TARN_HANDLE_TABLE_SPACE(NH));
        CHECK(guard_clean(b, n));
        CHECK(holds(b, n, 51));
        CHECK_EQ(tarn_handle_check(&pool), TARN_OK);
    }
    {
        /* free of the block in transit with a damaged guard: refused, block kept */
        tarn_handle a, b;
        size_t moved;
        init(0);
        a = make(64, 52);
        b = make(n, 53);
        CHECK_EQ(tarn_handle_free(&pool, a), TARN_OK);
        CHECK(!tarn_handle_compact_step(&pool, 4, &moved));
        REQUIRE(pool.transit != HP_NIL);
        pool.data[pool.transit_src + n + 1] = 0; /* in transit: open, see above */
        CHECK_EQ(tarn_handle_free(&pool, b), TARN_ECORRUPT);
        CHECK_EQ(tarn_handle_validate(&pool, b), TARN_OK);
        pool.data[pool.transit_src + n + 1] = (unsigned char)TARN_GUARD_BYTE;
        CHECK_EQ(tarn_handle_free(&pool, b), TARN_OK); /* drops the unfinished move */
        CHECK_EQ(tarn_handle_check(&pool), TARN_OK);
    }
}

/* Every way a resize changes a block rewrites its guard at the new end. */
static void test_resize_rewrites_guard(void)
{
    tarn_handle a, b, c, f;
    tarn_handle_stats st;
    init(0);
    a = make(40, 60);
    b = make(40, 61);
    c = make(40, 62);
    CHECK_EQ(tarn_handle_resize(&pool, b, 9), TARN_OK);          /* shrink in place */
    CHECK(guard_clean(b, 9));
    CHECK(holds(b, 9, 61));
    CHECK_EQ(tarn_handle_resize(&pool, b, 40), TARN_OK);         /* grow back in place */
    CHECK(guard_clean(b, 40));
    CHECK_EQ(tarn_handle_resize(&pool, b, 300), TARN_OK);        /* moves to the end */
    CHECK(guard_clean(b, 300));
    CHECK(holds(b, 9, 61));
    CHECK_EQ(tarn_handle_check(&pool), TARN_OK);
    /* slide down: c grows into the free space before it */
    stats(&st);
    f = make(FIT(st.largest_free), 63);                       /* nothing free at the end */
    CHECK_EQ(tarn_handle_resize(&pool, c, FIT(SPAN(40) + SPAN(40))), TARN_OK);
    CHECK(where(c) == where(a) + SPAN(40));
    CHECK(guard_clean(c, FIT(SPAN(40) + SPAN(40))));
    CHECK(holds(c, 40, 62));
    CHECK(holds(f, FIT(st.largest_free), 63));
    CHECK_EQ(tarn_handle_check(&pool), TARN_OK);
}

/* Scramble mode moves guards on every unlock; damage travels and is found. */
static void test_scramble(void)
{
    tarn_handle a, b;
    unsigned char *p;
    unsigned i;
    init(TARN_HANDLE_F_SCRAMBLE);
    a = make(30, 70);
    b = make(45, 71);
    for (i = 0; i < 5; i++) {
        CHECK(guard_clean(a, 30));
        CHECK(guard_clean(b, 45));
        CHECK_EQ(tarn_handle_check(&pool), TARN_OK);
    }
    p = (unsigned char *)tarn_handle_lock(&pool, a);
    test_poke8(p + 31, 0);
    CHECK_EQ(tarn_handle_unlock(&pool, a), TARN_OK);   /* a moves */
    CHECK(where(a) != p);
    CHECK_EQ(tarn_handle_check(&pool), TARN_ECORRUPT);
    CHECK_EQ(tarn_handle_free(&pool, a), TARN_ECORRUPT);
    CHECK(holds(a, 30, 70));
    CHECK(holds(b, 45, 71));
    CHECK_EQ(tarn_handle_free(&pool, b), TARN_OK);
}

int main(void)
{
    test_layout();
    test_damage_refused();
    test_overrun_into_next();
    test_own_writes_in_bounds();
    test_compaction_moves_guard();
    test_step_moves_guard();
    test_resize_rewrites_guard();
    test_scramble();
    return check_done();
}
