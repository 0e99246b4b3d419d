/*
 * tests/test_block_quarantine.c - the block pool's debug quarantine (TARN_QUARANTINE > 0,
 * flag TARN_F_QUARANTINE): put blocks are held back from reuse in FIFO order, a second put
 * of a held block is a double free, an empty pool releases the oldest held block instead
 * of failing, flush and clear empty the ring, put callbacks still work, and with
 * TARN_POISON_FREE a write into a held block is reported.  A model predicts exactly which
 * block each get returns.  Skipped (77) when the quarantine is compiled out;
 * test_block_debug.c compiles this file again with it forced on.
 */
#include "check.h"
#include "tarn/block.h"
#include "internal.h"
#include "support/poke.h"

#if TARN_QUARANTINE > 0

#define Q_CAP ((unsigned)TARN_QUARANTINE)
#define Q_NB (Q_CAP + 7u)
#define Q_SZ 24u
#define Q_U TARN_BLOCK_USABLE(Q_SZ)
#define Q_LVL2 (TARN_CHECK_LEVEL >= 2)

static unsigned char q_mem[TARN_BLOCK_POOL_BYTES(Q_NB, Q_SZ)] TARN_BLOCK_ALIGNED;

static tarn_block_ext q_ext;

static tarn_status q_init(tarn_block_pool *p, uint32_t flags, const tarn_lock *lock)
{
    tarn_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.flags = flags;
    cfg.name = "q";
    if (lock != NULL) cfg.lock = *lock;
    return tarn_block_init_ext(p, &q_ext, q_mem, sizeof q_mem, Q_SZ, &cfg);
}

static tarn_block_stats q_stats(tarn_block_pool *p)
{
    tarn_block_stats st;
    REQUIRE(tarn_block_stats_get(p, &st) == TARN_OK);
    return st;
}

static unsigned q_walk_used;
static bool q_walk_cb(void *ctx, void *block, size_t size, bool used)
{
    (void)ctx;
    (void)block;
    CHECK_EQ(size, Q_U);
    q_walk_used += used ? 1u : 0u;
    return true;
}

static void quarantine_basics(void)
{
    tarn_block_pool p;
    void *b[Q_NB], *x;
    tarn_block_stats st;
    unsigned i;
    REQUIRE(q_init(&p, TARN_F_QUARANTINE, NULL) == TARN_OK);
    for (i = 0; i < Q_NB; i++) REQUIRE((b[i] = tarn_block_get(&p)) != NULL);
    CHECK(tarn_block_next_free(&p) == NULL);
    /* a put block is held: not free, not handed out again, a second put is a double free */
    CHECK_EQ(tarn_block_put(&p, b[0]), TARN_OK);
    st = q_stats(&p);
    CHECK_EQ(st.held, 1);
    CHECK_EQ(st.free, 0);
    CHECK_EQ(tarn_block_put(&p, b[0]), TARN_EDOUBLE);
    CHECK_EQ(tarn_block_last_error(&p), TARN_EDOUBLE);
    CHECK_EQ(tarn_block_validate(&p, b[0]), TARN_EDOUBLE);
    CHECK_EQ(tarn_block_put_from_cb(&p, b[0]), TARN_EDOUBLE);
    CHECK_EQ(tarn_block_put(&p, (char *)b[0] + 1), TARN_EFOREIGN);
    CHECK_EQ(tarn_block_check(&p), TARN_OK);
    q_walk_used = 0;
    CHECK_EQ(tarn_block_walk(&p, q_walk_cb, NULL), TARN_OK);
    CHECK_EQ(q_walk_used, Q_NB - 1);                    /* the held block is not in use */
    /* the pool is otherwise empty: get releases the held block rather than fail */
    CHECK(tarn_block_next_free(&p) == b[0]);
    x = tarn_block_get(&p);
    CHECK(x == b[0]);
    st = q_stats(&p);
    CHECK_EQ(st.held, 0);
    CHECK_EQ(st.free, 0);
    CHECK_EQ(st.failed_gets, 0);
    CHECK(tarn_block_get(&p) == NULL);                  /* nothing held: a real failure */
    CHECK_EQ(q_stats(&p).failed_gets, 1);
    CHECK_EQ(tarn_block_check(&p), TARN_OK);

    /* FIFO: the (Q+1)-th put pushes the first one out onto the free list */
    for (i = 0; i < Q_CAP; i++) CHECK_EQ(tarn_block_put(&p, b[i]), TARN_OK);
    st = q_stats(&p);
    CHECK_EQ(st.held, Q_CAP);
    CHECK_EQ(st.free, 0);
    CHECK_EQ(tarn_block_put(&p, b[Q_CAP]), TARN_OK);
    st = q_stats(&p);
    CHECK_EQ(st.held, Q_CAP);
    CHECK_EQ(st.free, 1);
    CHECK_EQ(tarn_block_put(&p, b[0]), TARN_EDOUBLE);   /* free now: still a double free */
    CHECK(tarn_block_get(&p) == b[0]);                  /* from the free list */
    /* with no free block, gets take the held ones oldest first */
    for (i = 1; i <= Q_CAP; i++) CHECK(tarn_block_get(&p) == b[i]);
    CHECK(tarn_block_get(&p) == NULL);
    CHECK_EQ(q_stats(&p).held, 0);
    CHECK_EQ(tarn_block_check(&p), TARN_OK);
}

static void quarantine_flush_clear(void)
{
    tarn_block_pool p;
    void *b[Q_NB];
    tarn_block_stats st;
    unsigned i;
    REQUIRE(q_init(&p, TARN_F_QUARANTINE, NULL) == TARN_OK);
    for (i = 0; i < 5; i++) REQUIRE((b[i] = tarn_block_get(&p)) != NULL);
    for (i = 0; i < 3; i++) CHECK_EQ(tarn_block_put(&p, b[i]), TARN_OK);
    CHECK_EQ(q_stats(&p).held, 3);
    CHECK_EQ(tarn_block_quarantine_flush(&p), TARN_OK);
    st = q_stats(&p);
    CHECK_EQ(st.held, 0);
    CHECK_EQ(st.free, Q_NB - 2);
    CHECK_EQ(tarn_block_put(&p, b[1]), TARN_EDOUBLE);   /* released: free, not held */
    CHECK_EQ(tarn_block_check(&p), TARN_OK);
    /* released oldest first onto a LIFO list: the newest comes back first */
    CHECK(tarn_block_get(&p) == b[2]);
    CHECK(tarn_block_get(&p) == b[1]);
    CHECK(tarn_block_get(&p) == b[0]);
    CHECK_EQ(tarn_block_quarantine_flush(&p), TARN_OK); /* nothing held */
    CHECK_EQ(tarn_block_quarantine_flush(NULL), TARN_EINVAL);
    /* clear empties the ring with everything else */
    for (i = 0; i < 4; i++) CHECK_EQ(tarn_block_put(&p, b[i]), TARN_OK);
    CHECK_EQ(tarn_block_clear(&p), TARN_OK);
    st = q_stats(&p);
    CHECK_EQ(st.held, 0);
    CHECK_EQ(st.free, Q_NB);
    CHECK_EQ(tarn_block_put(&p, b[0]), TARN_EDOUBLE);   /* never handed out since clear */
    CHECK_EQ(tarn_block_check(&p), TARN_OK);
    CHECK(tarn_block_get(&p) == b[0]);                  /* carved afresh */
    CHECK_EQ(tarn_block_put(&p, b[0]), TARN_OK);        /* and the ring works after clear */
    CHECK_EQ(q_stats(&p).held, 1);

    /* without the flag: no quarantine, LIFO reuse as always, flush does nothing */
    REQUIRE(q_init(&p, 0, NULL) == TARN_OK);
    b[0] = tarn_block_get(&p);
    CHECK_EQ(tarn_block_put(&p, b[0]), TARN_OK);
    CHECK_EQ(q_stats(&p).held, 0);
    CHECK_EQ(tarn_block_quarantine_flush(&p), TARN_OK);
    CHECK(tarn_block_get(&p) == b[0]);
    CHECK_EQ(tarn_block_put(&p, b[0]), TARN_OK);
    CHECK_EQ(tarn_block_put(&p, b[0]), TARN_EDOUBLE);
}

static int q_cb_calls, q_cb_mode;      /* mode 0: free through put_from_cb, 1: keep */
static void *q_kept;
static tarn_status q_put_cb(tarn_block_pool *pool, void *blk, void *arg)
{
    CHECK(arg == &q_cb_calls);
    q_cb_calls++;
    if (q_cb_mode == 1) {
        q_kept = blk;
        return TARN_OK;
    }
    return tarn_block_put_from_cb(pool, blk);
}

static int q_depth, q_locks;
static void q_lock(void *ctx)
{
    CHECK(ctx == &q_depth && q_depth == 0);
    q_depth++;
    q_locks++;
}
static void q_unlock(void *ctx)
{
    CHECK(ctx == &q_depth && q_depth == 1);
    q_depth--;
}

/* Extended pools: the callback sees every validated put, as documented; blocks it frees
 * go into the quarantine; a held block never reaches it again. */
static void quarantine_put_callback(void)
{
    tarn_block_pool p;
    tarn_lock l;
    void *a, *b;
    int before;
    l.lock = q_lock;
    l.unlock = q_unlock;
    l.ctx = &q_depth;
    REQUIRE(q_init(&p, TARN_F_QUARANTINE, &l) == TARN_OK);
    REQUIRE(tarn_block_set_put_cb(&p, q_put_cb, &q_cb_calls) == TARN_OK);
    q_cb_calls = 0;
    q_cb_mode = 0;
    a = tarn_block_get(&p);
    b = tarn_block_get(&p);
    REQUIRE(a && b);
    CHECK_EQ(tarn_block_put(&p, a), TARN_OK);
    CHECK_EQ(q_cb_calls, 1);
    CHECK_EQ(q_stats(&p).held, 1);
    CHECK_EQ(tarn_block_put(&p, a), TARN_EDOUBLE);      /* held: not handed to the callback */
    CHECK_EQ(q_cb_calls, 1);
    /* a callback that keeps the block: it is neither free nor held */
    q_cb_mode = 1;
    CHECK_EQ(tarn_block_put(&p, b), TARN_OK);
    CHECK_EQ(q_cb_calls, 2);
    CHECK(q_kept == b);
    CHECK_EQ(q_stats(&p).held, 1);
    CHECK_EQ(tarn_block_put_from_cb(&p, b), TARN_OK);  /* later really returned: held */
    CHECK_EQ(q_stats(&p).held, 2);
    /* every operation took the lock, flush included */
    before = q_locks;
    CHECK_EQ(tarn_block_quarantine_flush(&p), TARN_OK);
    CHECK_EQ(q_locks - before, 1);
    CHECK_EQ(q_depth, 0);
    CHECK_EQ(q_stats(&p).held, 0);
    CHECK_EQ(tarn_block_check(&p), TARN_OK);
}

#if TARN_POISON_FREE
/* Write one byte into a held (poisoned, NOACCESS) block: the use-after-free simulated. */
static void q_poke(void *blk, size_t off)
{
    test_poke8((unsigned char *)blk + off, 0x42);
}

/* A write into a held block is reported by the check, and by the path that releases the
 * block (as the last error, without failing that operation). */
static void quarantine_write_after_free(void)
{
    tarn_block_pool p;
    void *b[Q_NB];
    unsigned i;
    REQUIRE(q_init(&p, TARN_F_QUARANTINE, NULL) == TARN_OK);
    for (i = 0; i < Q_NB; i++) REQUIRE((b[i] = tarn_block_get(&p)) != NULL);
    CHECK_EQ(tarn_block_put(&p, b[0]), TARN_OK);
    CHECK(tarn_bytes_are(b[0], Q_U, TARN_POISON_BYTE));   /* held blocks are poisoned */
    q_poke(b[0], Q_U - 1);
    CHECK_EQ(tarn_block_check(&p), TARN_ECORRUPT);
    if (!Q_LVL2) {
        /* pushed out by Q later puts: each put succeeds, the damage is recorded */
        for (i = 1; i < Q_CAP; i++) {
            CHECK_EQ(tarn_block_put(&p, b[i]), TARN_OK);
            CHECK_EQ(tarn_block_last_error(&p), TARN_OK);
        }
        CHECK_EQ(tarn_block_put(&p, b[Q_CAP]), TARN_OK);
        CHECK_EQ(tarn_block_last_error(&p), TARN_ECORRUPT);
        CHECK_EQ(tarn_block_check(&p), TARN_OK);          /* it is free now */
        CHECK(tarn_block_get(&p) == b[0]);
    } else {
        /* level 2: a damaged pool refuses calls; flush still releases everything */
        CHECK_EQ(tarn_block_put(&p, b[1]), TARN_ECORRUPT);
        CHECK_EQ(tarn_block_quarantine_flush(&p), TARN_ECORRUPT);
        CHECK_EQ(tarn_block_last_error(&p), TARN_ECORRUPT);
        CHECK_EQ(q_stats(&p).held, 0);
        CHECK_EQ(tarn_block_check(&p), TARN_OK);
        CHECK(tarn_block_get(&p) == b[0]);
    }
    /* empty pool's get releasing a damaged block: returned all the same, error recorded */
    REQUIRE(q_init(&p, TARN_F_QUARANTINE, NULL) == TARN_OK);
    for (i = 0; i < Q_NB; i++) REQUIRE((b[i] = tarn_block_get(&p)) != NULL);
    CHECK_EQ(tarn_block_put(&p, b[5]), TARN_OK);
    q_poke(b[5], 0);
    if (!Q_LVL2) {
        CHECK(tarn_block_get(&p) == b[5]);
        CHECK_EQ(tarn_block_last_error(&p), TARN_ECORRUPT);
        CHECK_EQ(tarn_block_check(&p), TARN_OK);
    }
    /* flush reports a damaged block and releases every held one */
    REQUIRE(q_init(&p, TARN_F_QUARANTINE, NULL) == TARN_OK);
    for (i = 0; i < 4; i++) REQUIRE((b[i] = tarn_block_get(&p)) != NULL);
    for (i = 0; i < 4; i++) CHECK_EQ(tarn_block_put(&p, b[i]), TARN_OK);
    q_poke(b[2], Q_U / 2);
    CHECK_EQ(tarn_block_quarantine_flush(&p), TARN_ECORRUPT);
    CHECK_EQ(tarn_block_last_error(&p), TARN_ECORRUPT);
    CHECK_EQ(q_stats(&p).held, 0);
    CHECK_EQ(q_stats(&p).free, Q_NB);
    CHECK_EQ(tarn_block_check(&p), TARN_OK);
}
#endif

/* Model-based random test: the model knows the free list (LIFO), the carve line and the
 * ring, so it predicts every block get returns; every bad put kind is mixed in. */
static void quarantine_model(void)
{
    tarn_block_pool p;
    static void *flist[Q_NB], *ring[TARN_QUARANTINE], *live[Q_NB];
    unsigned nfl = 0, nring = 0, nlive = 0, carved = 0, min_free = Q_NB;
    long it, iters = CHECK_ITERS(200000L);
    check_seed(4242);
    REQUIRE(q_init(&p, TARN_F_QUARANTINE, NULL) == TARN_OK);
    for (it = 0; it < iters; it++) {
        uint32_t op = check_below(100);
        if (op < 45) {                                  /* get */
            void *want, *got = tarn_block_get(&p);
            unsigned k;
            if (nfl > 0) {
                want = flist[--nfl];
            } else if (carved < Q_NB) {
                want = q_mem + (size_t)carved++ * TARN_BLOCK_SIZE(Q_SZ);
            } else if (nring > 0) {
                want = ring[0];
                for (k = 1; k < nring; k++) ring[k - 1] = ring[k];
                nring--;
            } else {
                want = NULL;
            }
            CHECK(got == want);
            if (got != NULL) {
                check_fill(got, Q_U, (uint32_t)(uintptr_t)got);
                live[nlive++] = got;
            }
        } else if (op < 85) {                           /* put */
            if (nlive > 0) {
                unsigned k = check_below(nlive);
                void *b = live[k];
                CHECK(check_verify(b, Q_U, (uint32_t)(uintptr_t)b));
                CHECK_EQ(tarn_block_put(&p, b), TARN_OK);
                live[k] = live[--nlive];
                if (nring == Q_CAP) {
                    flist[nfl++] = ring[0];
                    for (k = 1; k < nring; k++) ring[k - 1] = ring[k];
                    nring--;
                }
                ring[nring++] = b;
            }
        } else if (op < 90) {                           /* double put: held or free */
            if (nring > 0 && (nfl == 0 || check_below(2))) {
                CHECK_EQ(tarn_block_put(&p, ring[check_below(nring)]), TARN_EDOUBLE);
            } else if (nfl > 0) {
                CHECK_EQ(tarn_block_put(&p, flist[check_below(nfl)]), TARN_EDOUBLE);
            }
        } else if (op < 93) {                           /* interior pointer */
            if (nlive > 0) {
                unsigned char *b = (unsigned char *)live[check_below(nlive)];
                CHECK_EQ(tarn_block_put(&p, b + 1 + check_below(Q_U - 1)), TARN_EFOREIGN);
            }
        } else if (op < 96) {
            CHECK_EQ(tarn_block_check(&p), TARN_OK);
        } else if (op < 98) {                           /* flush, sometimes */
            if (check_below(4) == 0) {
                unsigned k;
                CHECK_EQ(tarn_block_quarantine_flush(&p), TARN_OK);
                for (k = 0; k < nring; k++) flist[nfl++] = ring[k];
                nring = 0;
            }
        } else if (check_below(10) == 0) {              /* clear, rarely */
            CHECK_EQ(tarn_block_clear(&p), TARN_OK);
            nfl = nring = nlive = carved = 0;
            min_free = Q_NB;                            /* the watermark starts again */
        }
        if (Q_NB - nlive - nring < min_free) min_free = Q_NB - nlive - nring;
        if ((it & 255) == 0) {
            tarn_block_stats st = q_stats(&p);
            CHECK_EQ(st.held, nring);
            CHECK_EQ(st.free, Q_NB - nlive - nring);
            CHECK_EQ(st.min_free, min_free);     /* held blocks count as used */
        }
    }
    CHECK_EQ(tarn_block_check(&p), TARN_OK);
    printf("quarantine model: %ld operations\n", iters);
}

static void quarantine_tests(void)
{
    quarantine_basics();
    quarantine_flush_clear();
    quarantine_put_callback();
#if TARN_POISON_FREE
    quarantine_write_after_free();
#endif
    quarantine_model();
}
#endif /* TARN_QUARANTINE > 0 */

#ifndef TEST_BLOCK_NO_MAIN
int main(void)
{
#if TARN_QUARANTINE > 0
    quarantine_tests();
    return check_done();
#else
    printf("skipped: the quarantine (TARN_QUARANTINE) is compiled out in this build\n");
    return 77;
#endif
}
#endif
