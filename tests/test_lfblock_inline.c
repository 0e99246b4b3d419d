/*
 * tests/test_lfblock_inline.c - the inline get and put of lfblock.h (TARN_LFBLOCK_INLINE):
 * that the host build uses them, that they hand every case they do not finish to the full
 * path with the full path's answer, and the order of get (the list first, then carving).
 *
 *   which path  the default host build (GCC/Clang, C11 build, no debug option) inlines; a
 *               build with a debug option, LL/SC or the fallback does not.
 *   list first  a get takes the top of the free list while there is one, and carves a
 *               never-used block (through the full path) only when the list is empty,
 *               so the watermark is count - carve; never-used blocks come in order.
 *   mixed       whatever the mix of list and carving, every block is handed out once,
 *               an empty get is exact, the pool checks whole.
 *   bad puts    every bad put through the inline put gets the full path's status and
 *               last_error and changes nothing: NULL, foreign, interior, never handed out,
 *               double.
 *   damage      a damaged link on top of the list is refused by the inline get (through
 *               the full path): TARN_ECORRUPT, sticky.
 *   stats       free, min_free and failed_gets stay exact through inline gets and puts.
 */
#include "check.h"
#include "tarn/lfblock.h"

#define NB 6u
#define BS 24u

static unsigned char mem[TARN_LFBLOCK_POOL_BYTES(NB, BS)] TARN_LFBLOCK_ALIGNED;
static tarn_lfblock_pool pool;

static long idx(const void *p) { return tarn_lfblock_index(&pool, p); }

static void test_which_path(void)
{
#if (defined(__GNUC__) || defined(__clang__)) && TARN_LFBLOCK_LOCK_FREE && !TARN_LFBLOCK_LLSC && \
    !TARN_QUARANTINE && !TARN_GUARD && !TARN_POISON_FREE && !TARN_LFBLOCK_SANITIZE_ &&        \
    !defined(__OPTIMIZE_SIZE__) && !defined(TARN_LFBLOCK_NO_INLINE)
    CHECK_EQ(TARN_LFBLOCK_INLINE, 1);
#else
    CHECK_EQ(TARN_LFBLOCK_INLINE, 0);
#endif
}

static void test_list_first(void)
{
    void *b[NB], *x;
    unsigned k;
    tarn_lfblock_stats st;
    CHECK_EQ(tarn_lfblock_init(&pool, mem, sizeof mem, BS, NULL), TARN_OK);
    CHECK_EQ(tarn_lfblock_count(&pool), NB);
    /* the first get finds the list empty: it carves block 0 (through the full path) */
    b[0] = tarn_lfblock_get(&pool);
    CHECK_EQ(idx(b[0]), 0);
    CHECK_EQ(pool.carve, 1u);
    CHECK_EQ(tarn_lfblock_put(&pool, b[0]), TARN_OK);
    /* block 0 is on the list now: it comes back before any never-used block is carved */
    for (k = 0; k < 3u; k++) {
        x = tarn_lfblock_get(&pool);
        CHECK(x == b[0]);
        CHECK_EQ(pool.carve, 1u);
        CHECK_EQ(tarn_lfblock_put(&pool, x), TARN_OK);
    }
    CHECK_EQ(tarn_lfblock_stats_get(&pool, &st), TARN_OK);
    CHECK_EQ(st.free, NB);
    CHECK_EQ(st.min_free, NB - 1u);     /* at most one block was ever out */
    /* then never-used blocks in order, once the list is empty */
    for (k = 0; k < NB; k++) {
        b[k] = tarn_lfblock_get(&pool);
        CHECK_EQ(idx(b[k]), (long)k);
        CHECK_EQ(pool.carve, k == 0u ? 1u : k + 1u);
    }
    CHECK(tarn_lfblock_get(&pool) == NULL);
    CHECK_EQ(tarn_lfblock_last_error(&pool), TARN_ENOMEM);
    CHECK_EQ(tarn_lfblock_stats_get(&pool, &st), TARN_OK);
    CHECK_EQ(st.free, 0u);
    CHECK_EQ(st.min_free, 0u);
    for (k = 0; k < NB; k++) CHECK_EQ(tarn_lfblock_put(&pool, b[k]), TARN_OK);
    CHECK_EQ(tarn_lfblock_check(&pool), TARN_OK);
}

/* Every block is handed out once, however list and carving interleave, and an empty get
 * is exact. */
static void test_list_and_carve_mixed(void)
{
    void *b[NB], *x;
    unsigned n;
    unsigned char seen[NB] = {0};
    CHECK_EQ(tarn_lfblock_init(&pool, mem, sizeof mem, BS, NULL), TARN_OK);
    b[0] = tarn_lfblock_get(&pool);
    b[1] = tarn_lfblock_get(&pool);
    CHECK_EQ(tarn_lfblock_put(&pool, b[0]), TARN_OK);
    x = tarn_lfblock_get(&pool);
    CHECK_EQ(idx(x), 0);                /* the list first (inline or full path alike) */
    seen[1] = 1;
    n = 1;
    /* then every other block once (carved by the full path when the list is empty) */
    do {
        long i = idx(x);
        CHECK(i >= 0 && i < (long)NB);
        if (i < 0 || i >= (long)NB) break;
        CHECK_EQ(seen[i], 0);
        seen[i] = 1;
        n++;
    } while ((x = tarn_lfblock_get(&pool)) != NULL);
    CHECK_EQ(n, NB);
    CHECK_EQ(tarn_lfblock_last_error(&pool), TARN_ENOMEM);
    CHECK_EQ(tarn_lfblock_check(&pool), TARN_OK);
    CHECK_EQ(tarn_lfblock_put(&pool, b[1]), TARN_OK);
    CHECK_EQ(idx(tarn_lfblock_get(&pool)), 1);
    CHECK(tarn_lfblock_get(&pool) == NULL);
    CHECK_EQ(tarn_lfblock_check(&pool), TARN_OK);
}

static void test_bad_puts(void)
{
    void *b[NB];
    unsigned k;
    tarn_lfblock_stats s0, s1;
    CHECK_EQ(tarn_lfblock_init(&pool, mem, sizeof mem, BS, NULL), TARN_OK);
    for (k = 0; k < NB - 2u; k++) b[k] = tarn_lfblock_get(&pool);
    CHECK_EQ(tarn_lfblock_put(&pool, (unsigned char *)b[NB - 3u] + TARN_LFBLOCK_SIZE(BS) * 2u),
             TARN_EDOUBLE); /* a block never handed out (block NB - 1, not carved yet) */
    CHECK_EQ(tarn_lfblock_last_error(&pool), TARN_EDOUBLE);
    for (; k < NB; k++) b[k] = tarn_lfblock_get(&pool); /* all carved: the inline paths */
    CHECK_EQ(tarn_lfblock_put(&pool, b[0]), TARN_OK);
    CHECK_EQ(tarn_lfblock_stats_get(&pool, &s0), TARN_OK);
    CHECK_EQ(tarn_lfblock_put(&pool, NULL), TARN_EINVAL);
    CHECK_EQ(tarn_lfblock_last_error(&pool), TARN_EINVAL);
    CHECK_EQ(tarn_lfblock_put(&pool, mem + sizeof mem), TARN_EFOREIGN);       /* past the end */
    CHECK_EQ(tarn_lfblock_last_error(&pool), TARN_EFOREIGN);
    CHECK_EQ(tarn_lfblock_put(&pool, mem), TARN_EFOREIGN);                    /* state words */
    CHECK_EQ(tarn_lfblock_put(&pool, (unsigned char *)b[1] + 4), TARN_EFOREIGN); /* interior */
    CHECK_EQ(tarn_lfblock_put(&pool, (unsigned char *)b[1] - 1), TARN_EFOREIGN);
    CHECK_EQ(tarn_lfblock_put(&pool, b[0]), TARN_EDOUBLE); /* double put (claim refused) */
    CHECK_EQ(tarn_lfblock_last_error(&pool), TARN_EDOUBLE);
    CHECK_EQ(tarn_lfblock_stats_get(&pool, &s1), TARN_OK);
    CHECK_EQ(s1.free, s0.free);
    CHECK_EQ(s1.min_free, s0.min_free);
    CHECK_EQ(tarn_lfblock_check(&pool), TARN_OK);
    /* still works: b[0] is the top */
    CHECK(tarn_lfblock_get(&pool) == b[0]);
    for (k = 0; k < NB; k++) CHECK_EQ(tarn_lfblock_put(&pool, b[k]), TARN_OK);
    CHECK_EQ(tarn_lfblock_check(&pool), TARN_OK);
}

static void test_damage(void)
{
    void *b[NB];
    unsigned k;
    tarn_status st;
    CHECK_EQ(tarn_lfblock_init(&pool, mem, sizeof mem, BS, NULL), TARN_OK);
    for (k = 0; k < NB; k++) b[k] = tarn_lfblock_get(&pool);
    CHECK_EQ(tarn_lfblock_put(&pool, b[2]), TARN_OK);
    CHECK_EQ(tarn_lfblock_put(&pool, b[4]), TARN_OK); /* list: 4 -> 2 -> end */
    pool.state[4] = 3u; /* a stray write: the top's link names block 3, handed out */
    CHECK(tarn_lfblock_get(&pool) == NULL);
    CHECK(tarn_lfblock_get_status(&pool, &st) == NULL);
    CHECK_EQ(st, TARN_ECORRUPT);
    CHECK_EQ(tarn_lfblock_last_error(&pool), TARN_ECORRUPT);
    CHECK_EQ(tarn_lfblock_check(&pool), TARN_ECORRUPT);
    /* a link past the end, after a fresh init */
    CHECK_EQ(tarn_lfblock_init(&pool, mem, sizeof mem, BS, NULL), TARN_OK);
    for (k = 0; k < NB; k++) b[k] = tarn_lfblock_get(&pool);
    CHECK_EQ(tarn_lfblock_put(&pool, b[1]), TARN_OK);
    pool.state[1] = NB + 1u;
    CHECK(tarn_lfblock_get(&pool) == NULL);
    CHECK_EQ(tarn_lfblock_last_error(&pool), TARN_ECORRUPT);
    /* sticky: puts are still accepted, gets refused */
    CHECK_EQ(tarn_lfblock_put(&pool, b[0]), TARN_OK);
    CHECK(tarn_lfblock_get(&pool) == NULL);
    CHECK_EQ(tarn_lfblock_last_error(&pool), TARN_ECORRUPT);
}

static void test_stats(void)
{
    void *b[NB];
    unsigned k, r;
    tarn_lfblock_stats s;
    CHECK_EQ(tarn_lfblock_init(&pool, mem, sizeof mem, BS, NULL), TARN_OK);
    for (k = 0; k < NB; k++) b[k] = tarn_lfblock_get(&pool);
    for (k = 0; k < NB; k++) CHECK_EQ(tarn_lfblock_put(&pool, b[k]), TARN_OK);
    /* inline gets and puts from here (the list holds every block) */
    for (r = 0; r < 3; r++) {
        for (k = 0; k < NB - r; k++) b[k] = tarn_lfblock_get(&pool);
        CHECK_EQ(tarn_lfblock_stats_get(&pool, &s), TARN_OK);
        CHECK_EQ(s.free, r);
        CHECK_EQ(s.min_free, 0u);
        for (k = 0; k < NB - r; k++) CHECK_EQ(tarn_lfblock_put(&pool, b[k]), TARN_OK);
    }
    CHECK(tarn_lfblock_get(&pool) != NULL);
    CHECK_EQ(tarn_lfblock_stats_get(&pool, &s), TARN_OK);
    CHECK_EQ(s.free, NB - 1u);
    CHECK_EQ(s.min_free, 0u);
#if TARN_STATS
    CHECK_EQ(s.failed_gets, 0u);
    CHECK_EQ(s.retries, 0u);
#endif
    CHECK_EQ(tarn_lfblock_check(&pool), TARN_OK);
}

int main(void)
{
    test_which_path();
#if TARN_LFBLOCK_LOCK_FREE /* the fallback build needs a lock hook (test_lfblock_fallback) */
    test_list_first();
    test_list_and_carve_mixed();
    test_bad_puts();
    test_damage();
    test_stats();
#else /* compiled (so they keep building there), not run */
    (void)test_list_first;
    (void)test_list_and_carve_mixed;
    (void)test_bad_puts;
    (void)test_damage;
    (void)test_stats;
#endif
    return check_done();
}
