/*
 * tests/test_block_guard.c - canary mode of the block pool (TARN_GUARD=1): the guard
 * bytes after every block catch an overflow at put and in the integrity check, and
 * nothing else changes.  Skipped (77) when the library is built without canary mode;
 * test_block_debug.c compiles this file again with canary mode forced on.
 */
#include "check.h"
#include "tarn/block.h"
#include "internal.h"
#include "support/poke.h"

#if TARN_GUARD

#define G_SZ 20u
#define G_NB 9u
#define G_U TARN_BLOCK_USABLE(G_SZ)
#define G_S TARN_BLOCK_SIZE(G_SZ)
#define G_G TARN_BLOCK_GUARD_BYTES
#define G_LVL2 (TARN_CHECK_LEVEL >= 2)

static unsigned char g_mem[TARN_BLOCK_POOL_BYTES(G_NB, G_SZ)] TARN_BLOCK_ALIGNED;

TARN_BLOCK_POOL_DEFINE(g_static, 3, 12);

static bool g_guard_intact(const unsigned char *blk)
{
    return tarn_bytes_are(blk + G_U, G_G, TARN_GUARD_BYTE);
}

static void g_restore_guard(unsigned char *blk)
{
    size_t j;
    for (j = 0; j < G_G; j++) test_poke8(blk + G_U + j, (unsigned char)TARN_GUARD_BYTE);
}

static uint32_t g_free(tarn_block_pool *p)
{
    tarn_block_stats st;
    REQUIRE(tarn_block_stats_get(p, &st) == TARN_OK);
    return st.free;
}

static void guard_geometry(void)
{
    tarn_block_pool p;
    tarn_block_stats st;
    unsigned char *b[G_NB];
    unsigned i;
    CHECK(G_G >= TARN_GUARD_SIZE && G_G % TARN_ALIGN == 0);
    CHECK_EQ(G_S, G_U + G_G);
    REQUIRE(tarn_block_init(&p, g_mem, sizeof g_mem, G_SZ, NULL) == TARN_OK);
    CHECK_EQ(tarn_block_size(&p), G_U);
    CHECK_EQ(tarn_block_stats_get(&p, &st), TARN_OK);
    CHECK_EQ(st.block_size, G_U);
    CHECK_EQ(st.count, G_NB);            /* the sizing macro made room for the guards */
    for (i = 0; i < G_NB; i++) {
        b[i] = (unsigned char *)tarn_block_get(&p);
        REQUIRE(b[i] != NULL);
        CHECK(b[i] == g_mem + (size_t)i * G_S);
        CHECK(g_guard_intact(b[i]));
        /* all usable bytes are the user's, even bytes equal to the guard byte */
        memset(b[i], (int)TARN_GUARD_BYTE, G_U);
    }
    CHECK(tarn_block_get(&p) == NULL);
    CHECK_EQ(tarn_block_check(&p), TARN_OK);
    for (i = 0; i < G_NB; i++) {
        check_fill(b[i], G_U, i);
        CHECK_EQ(tarn_block_put(&p, b[i]), TARN_OK);
    }
    CHECK_EQ(tarn_block_check(&p), TARN_OK);
    /* an interior pointer into the guard is foreign, as any interior pointer */
    b[0] = (unsigned char *)tarn_block_get(&p);
    CHECK_EQ(tarn_block_put(&p, b[0] + G_U), TARN_EFOREIGN);
    CHECK_EQ(tarn_block_put(&p, b[0]), TARN_OK);
}

/* One byte past the end, at each guard position: put and check report it, nothing
 * changes, and after the guard is repaired the block goes back normally. */
static void guard_one_past_end(void)
{
    tarn_block_pool p;
    unsigned char *a, *b, *c;
    size_t j;
    REQUIRE(tarn_block_init(&p, g_mem, sizeof g_mem, G_SZ, NULL) == TARN_OK);
    a = (unsigned char *)tarn_block_get(&p);
    b = (unsigned char *)tarn_block_get(&p);
    c = (unsigned char *)tarn_block_get(&p);
    REQUIRE(a && b && c);
    check_fill(a, G_U, 1);
    check_fill(b, G_U, 2);
    check_fill(c, G_U, 3);
    for (j = 0; j < G_G; j++) {
        test_poke8(a + G_U + j, (unsigned char)(TARN_GUARD_BYTE ^ 0x40u));
        CHECK_EQ(tarn_block_put(&p, a), TARN_ECORRUPT);
        CHECK_EQ(tarn_block_last_error(&p), TARN_ECORRUPT);
        CHECK_EQ(tarn_block_validate(&p, a), TARN_ECORRUPT);
        CHECK_EQ(tarn_block_check(&p), TARN_ECORRUPT);
        CHECK_EQ(g_free(&p), G_NB - 3);                /* a is still handed out */
        CHECK(check_verify(a, G_U, 1));
        CHECK(check_verify(b, G_U, 2));                /* no neighbour touched */
        CHECK(check_verify(c, G_U, 3));
        if (!G_LVL2) {
            /* the rest of the pool works on */
            CHECK_EQ(tarn_block_put(&p, b), TARN_OK);
            CHECK(tarn_block_get(&p) == b);
            check_fill(b, G_U, 2);
        } else {
            /* level 2: a damaged pool refuses every call until repaired */
            CHECK(tarn_block_get(&p) == NULL);
            CHECK_EQ(tarn_block_put(&p, b), TARN_ECORRUPT);
        }
        g_restore_guard(a);
        CHECK_EQ(tarn_block_check(&p), TARN_OK);
    }
    CHECK_EQ(tarn_block_put(&p, a), TARN_OK);
    CHECK_EQ(tarn_block_put(&p, a), TARN_EDOUBLE);     /* the usual checks still first */
    CHECK_EQ(tarn_block_put(&p, b), TARN_OK);
    CHECK_EQ(tarn_block_put(&p, c), TARN_OK);
    CHECK_EQ(tarn_block_check(&p), TARN_OK);
    CHECK_EQ(g_free(&p), G_NB);
}

/* Overflows that run on into the next block: a live one, a free one, a never-used one. */
static void guard_into_next_block(void)
{
    tarn_block_pool p;
    unsigned char *a, *b, *c, *d;
    uintptr_t saved[2];
    size_t j;
    REQUIRE(tarn_block_init(&p, g_mem, sizeof g_mem, G_SZ, NULL) == TARN_OK);
    a = (unsigned char *)tarn_block_get(&p);
    b = (unsigned char *)tarn_block_get(&p);
    c = (unsigned char *)tarn_block_get(&p);
    d = (unsigned char *)tarn_block_get(&p);
    REQUIRE(a && b && c && d && b == a + G_S && c == b + G_S && d == c + G_S);

    /* a overflows through its guard into live b: b's guard is intact, so b goes back
     * (its data is the overflow's victim); a is refused by put and by check */
    for (j = 0; j < G_U; j++) a[j] = (unsigned char)j;
    for (j = 0; j < G_G; j++) test_poke8(a + G_U + j, 0x11);
    for (j = 0; j < 4; j++) b[j] = 0x11;
    CHECK_EQ(tarn_block_check(&p), TARN_ECORRUPT);
    CHECK_EQ(tarn_block_put(&p, a), TARN_ECORRUPT);
    if (!G_LVL2) {
        CHECK_EQ(tarn_block_put(&p, b), TARN_OK);
        CHECK_EQ(tarn_block_check(&p), TARN_ECORRUPT);   /* a is still damaged */
        CHECK(tarn_block_get(&p) == b);
    }
    g_restore_guard(a);
    CHECK_EQ(tarn_block_check(&p), TARN_OK);

    /* c overflows into free d: the free block's link is smashed as well */
    CHECK_EQ(tarn_block_put(&p, d), TARN_OK);
    tarn_san_peek(saved, d, sizeof saved);
    for (j = 0; j < G_G; j++) test_poke8(c + G_U + j, 0x22);
    for (j = 0; j < sizeof(void *); j++) test_poke8(d + j, 0x22);
    CHECK_EQ(tarn_block_check(&p), TARN_ECORRUPT);
    CHECK_EQ(tarn_block_put(&p, c), TARN_ECORRUPT);
    g_restore_guard(c);
    CHECK_EQ(tarn_block_check(&p), TARN_ECORRUPT);       /* d's link still broken */
    for (j = 0; j < sizeof saved; j++) test_poke8(d + j, ((unsigned char *)saved)[j]);
    CHECK_EQ(tarn_block_check(&p), TARN_OK);
    CHECK(tarn_block_get(&p) == d);

    /* d (the last block carved) overflows into never-used memory */
    for (j = 0; j < G_G + 8; j++) test_poke8(d + G_U + j, 0x33);
    CHECK_EQ(tarn_block_check(&p), TARN_ECORRUPT);
    CHECK_EQ(tarn_block_put(&p, d), TARN_ECORRUPT);
    g_restore_guard(d);
    CHECK_EQ(tarn_block_check(&p), TARN_OK);
    CHECK_EQ(tarn_block_put(&p, d), TARN_OK);
    CHECK(tarn_block_get(&p) == d);                      /* the next one is carved fresh */
    CHECK(tarn_block_get(&p) == d + G_S);
    CHECK(g_guard_intact(d + G_S));
    CHECK_EQ(tarn_block_check(&p), TARN_OK);
}

/* The check reports every damaged guard, a free block's too, until all are repaired. */
static void guard_check_reports_each(void)
{
    tarn_block_pool p;
    unsigned char *b[5];
    unsigned i;
    REQUIRE(tarn_block_init(&p, g_mem, sizeof g_mem, G_SZ, NULL) == TARN_OK);
    for (i = 0; i < 5; i++) REQUIRE((b[i] = (unsigned char *)tarn_block_get(&p)) != NULL);
    CHECK_EQ(tarn_block_put(&p, b[4]), TARN_OK);
    test_poke8(b[1] + G_U + G_G - 1, 0);                     /* last guard byte of b1 */
    test_poke8(b[3] + G_U, 0);
    test_poke8(b[4] + G_U + 1, 0);                           /* a write past a FREE block */
    CHECK_EQ(tarn_block_check(&p), TARN_ECORRUPT);
    g_restore_guard(b[1]);
    CHECK_EQ(tarn_block_check(&p), TARN_ECORRUPT);
    g_restore_guard(b[3]);
    CHECK_EQ(tarn_block_check(&p), TARN_ECORRUPT);
    if (!G_LVL2) {
        /* handing the free block out again writes its guard afresh */
        CHECK(tarn_block_get(&p) == b[4]);
        CHECK(g_guard_intact(b[4]));
    } else {
        g_restore_guard(b[4]);
    }
    CHECK_EQ(tarn_block_check(&p), TARN_OK);
    /* clear forgets every block: damaged guards of the old ones no longer matter, and
     * each block gets its guard again when handed out */
    test_poke8(b[0] + G_U, 0);
    CHECK_EQ(tarn_block_clear(&p), TARN_OK);
    CHECK_EQ(tarn_block_check(&p), TARN_OK);
    CHECK(tarn_block_get(&p) == b[0]);
    CHECK(g_guard_intact(b[0]));
    CHECK_EQ(tarn_block_check(&p), TARN_OK);
}

static int g_cb_calls;
static tarn_status g_put_cb(tarn_block_pool *pool, void *blk, void *arg)
{
    (void)arg;
    g_cb_calls++;
    return tarn_block_put_from_cb(pool, blk);
}

/* A damaged block never reaches the put callback; put_from_cb refuses it too. */
static void guard_put_callback(void)
{
    tarn_block_pool p;
    tarn_block_ext ext;
    unsigned char *a;
    REQUIRE(tarn_block_init_ext(&p, &ext, g_mem, sizeof g_mem, G_SZ, NULL) == TARN_OK);
    REQUIRE(tarn_block_set_put_cb(&p, g_put_cb, NULL) == TARN_OK);
    g_cb_calls = 0;
    a = (unsigned char *)tarn_block_get(&p);
    REQUIRE(a != NULL);
    test_poke8(a + G_U + 2, 0);
    CHECK_EQ(tarn_block_put(&p, a), TARN_ECORRUPT);
    CHECK_EQ(g_cb_calls, 0);
    CHECK_EQ(tarn_block_put_from_cb(&p, a), TARN_ECORRUPT);
    g_restore_guard(a);
    CHECK_EQ(tarn_block_put(&p, a), TARN_OK);
    CHECK_EQ(g_cb_calls, 1);
    CHECK_EQ(g_free(&p), G_NB);
}

/* A statically defined pool has its guards too. */
static void guard_static_pool(void)
{
    unsigned char *a;
    CHECK_EQ(sizeof g_static_mem, 3 * TARN_BLOCK_SIZE(12) + TARN_BLOCK_MAP_BYTES(3));
    CHECK_EQ(tarn_block_size(&g_static), TARN_BLOCK_USABLE(12));
    a = (unsigned char *)tarn_block_get(&g_static);
    REQUIRE(a != NULL);
    CHECK(tarn_bytes_are(a + TARN_BLOCK_USABLE(12), G_G, TARN_GUARD_BYTE));
    test_poke8(a + TARN_BLOCK_USABLE(12), 1);
    CHECK_EQ(tarn_block_check(&g_static), TARN_ECORRUPT);
    CHECK_EQ(tarn_block_put(&g_static, a), TARN_ECORRUPT);
    test_poke8(a + TARN_BLOCK_USABLE(12), (unsigned char)TARN_GUARD_BYTE);
    CHECK_EQ(tarn_block_put(&g_static, a), TARN_OK);
    CHECK_EQ(tarn_block_check(&g_static), TARN_OK);
}

/* Random traffic with random small overflows: each is caught by the check and by put,
 * and repaired; the pool never loses a block. */
static void guard_random(void)
{
    tarn_block_pool p;
    unsigned char *live[G_NB];
    uint32_t tags[G_NB];
    unsigned nlive = 0, caught = 0;
    long it, iters = CHECK_ITERS(20000L);
    check_seed(77);
    REQUIRE(tarn_block_init(&p, g_mem, sizeof g_mem, G_SZ, NULL) == TARN_OK);
    for (it = 0; it < iters; it++) {
        uint32_t op = check_below(10);
        if (op < 5 && nlive < G_NB) {
            unsigned char *b = (unsigned char *)tarn_block_get(&p);
            REQUIRE(b != NULL);
            CHECK(g_guard_intact(b));
            tags[nlive] = (uint32_t)it;
            check_fill(b, G_U, tags[nlive]);
            live[nlive++] = b;
        } else if (op < 9 && nlive > 0) {
            unsigned k = check_below(nlive);
            CHECK(check_verify(live[k], G_U, tags[k]));
            CHECK_EQ(tarn_block_put(&p, live[k]), TARN_OK);
            live[k] = live[--nlive];
            tags[k] = tags[nlive];
        } else if (nlive > 0) {
            unsigned k = check_below(nlive);
            size_t n = 1 + check_below((uint32_t)G_G), j;
            for (j = 0; j < n; j++) test_poke8(live[k] + G_U + j, (unsigned char)(0x5A + j));
            CHECK_EQ(tarn_block_check(&p), TARN_ECORRUPT);
            CHECK_EQ(tarn_block_put(&p, live[k]), TARN_ECORRUPT);
            g_restore_guard(live[k]);
            CHECK_EQ(tarn_block_check(&p), TARN_OK);
            caught++;
        }
    }
    CHECK_EQ(g_free(&p), G_NB - nlive);
    CHECK_EQ(tarn_block_check(&p), TARN_OK);
    CHECK(caught > 0);
    printf("canary random: %ld operations, %u overflows caught\n", iters, caught);
}

static void guard_tests(void)
{
    guard_geometry();
    guard_one_past_end();
    guard_into_next_block();
    guard_check_reports_each();
    guard_put_callback();
    guard_static_pool();
    guard_random();
}
#endif /* TARN_GUARD */

#ifndef TEST_BLOCK_NO_MAIN
int main(void)
{
#if TARN_GUARD
    guard_tests();
    return check_done();
#else
    printf("skipped: canary mode (TARN_GUARD) is off in this build\n");
    return 77;
#endif
}
#endif
