/*
 * tests/test_lfblock_quarantine.c - the lock-free pool's debug quarantine (TARN_QUARANTINE
 * > 0, flag TARN_F_QUARANTINE): put blocks are held back from reuse, the oldest is pushed
 * out (freed) by the put that finds the ring full, a second put of a held block is a
 * double free, an empty pool hands out the oldest held block instead of failing, flush
 * frees every held block, stats and check count them, and with TARN_POISON_FREE a write
 * into a held block is reported (last_error, flush, check).  Skipped (77) when the
 * quarantine is compiled out; test_lfblock_debug.c compiles this file again with it
 * forced on.
 */
#include "check.h"
#include "tarn/lfblock.h"
#include "internal.h"
#include "support/poke.h"

#if TARN_QUARANTINE > 0
#if !TARN_LFBLOCK_LOCK_FREE
#include "support/lock_hook.h" /* the fallback build (no lock-free CAS) needs a lock hook */
#endif

#define LQ_CAP ((unsigned)TARN_QUARANTINE)
#define LQ_NB (LQ_CAP + 5u)
#define LQ_SZ 24u

static unsigned char lq_mem[TARN_LFBLOCK_POOL_BYTES(LQ_NB, LQ_SZ)] TARN_LFBLOCK_ALIGNED;

static void lq_init(tarn_lfblock_pool *p, uint32_t flags)
{
    tarn_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.flags = flags;
    cfg.name = "lq";
#if !TARN_LFBLOCK_LOCK_FREE
    cfg.lock = LOCK_HOOK;
#endif
    REQUIRE(tarn_lfblock_init(p, lq_mem, sizeof lq_mem, LQ_SZ, &cfg) == TARN_OK);
    REQUIRE(tarn_lfblock_count(p) == LQ_NB);
}

static tarn_lfblock_stats lq_stats(tarn_lfblock_pool *p)
{
    tarn_lfblock_stats st;
    REQUIRE(tarn_lfblock_stats_get(p, &st) == TARN_OK);
    return st;
}

/* Held in FIFO order; the put that finds the ring full frees the oldest block. */
static void lq_basics(void)
{
    tarn_lfblock_pool p;
    void *b[LQ_NB], *x;
    unsigned i;
    lq_init(&p, TARN_F_QUARANTINE);
    for (i = 0; i < LQ_NB; i++) REQUIRE((b[i] = tarn_lfblock_get(&p)) != NULL);
    for (i = 0; i < LQ_CAP; i++) {
        CHECK_EQ(tarn_lfblock_put(&p, b[i]), TARN_OK);
        CHECK_EQ(lq_stats(&p).held, i + 1u);
        CHECK_EQ(lq_stats(&p).free, 0u);                 /* held blocks are not free */
        CHECK_EQ(tarn_lfblock_validate(&p, b[i]), TARN_EDOUBLE);
    }
    CHECK_EQ(tarn_lfblock_check(&p), TARN_OK);
    /* other bad puts with the quarantine on: refused, nothing is held or freed */
    CHECK_EQ(tarn_lfblock_put(&p, NULL), TARN_EINVAL);
#if TARN_CHECK_LEVEL >= 1
    CHECK_EQ(tarn_lfblock_put(&p, (unsigned char *)b[LQ_CAP] + 1), TARN_EFOREIGN);
    CHECK_EQ(tarn_lfblock_put(&p, lq_mem), TARN_EFOREIGN);              /* the state words */
    CHECK_EQ(tarn_lfblock_put(&p, &p), TARN_EFOREIGN);
#endif
    CHECK_EQ(lq_stats(&p).held, LQ_CAP);
    CHECK_EQ(lq_stats(&p).free, 0u);
    /* a second put of a held block: refused, nothing changes */
    CHECK_EQ(tarn_lfblock_put(&p, b[0]), TARN_EDOUBLE);
    CHECK_EQ(tarn_lfblock_last_error(&p), TARN_EDOUBLE);
    CHECK_EQ(lq_stats(&p).held, LQ_CAP);
    CHECK_EQ(tarn_lfblock_check(&p), TARN_OK);
    /* the ring is full: the next put pushes out b[0], which is free again */
    CHECK_EQ(tarn_lfblock_put(&p, b[LQ_CAP]), TARN_OK);
    CHECK_EQ(lq_stats(&p).held, LQ_CAP);
    CHECK_EQ(lq_stats(&p).free, 1u);
    CHECK_EQ(tarn_lfblock_validate(&p, b[0]), TARN_EDOUBLE);   /* free, not handed out */
    CHECK_EQ(tarn_lfblock_check(&p), TARN_OK);
    x = tarn_lfblock_get(&p);
    CHECK(x == b[0]);
    CHECK_EQ(tarn_lfblock_validate(&p, x), TARN_OK);
    /* then b[1], b[2], ... in order as later puts push them out */
    CHECK_EQ(tarn_lfblock_put(&p, b[LQ_CAP + 1u]), TARN_OK);
    CHECK(tarn_lfblock_get(&p) == b[1]);
    CHECK_EQ(tarn_lfblock_check(&p), TARN_OK);
}

/* An empty pool hands out the oldest held block rather than fail; only a pool with no
 * free and no held block fails. */
static void lq_empty_pool(void)
{
    tarn_lfblock_pool p;
    void *b[LQ_NB];
    unsigned i;
    lq_init(&p, TARN_F_QUARANTINE);
    for (i = 0; i < LQ_NB; i++) REQUIRE((b[i] = tarn_lfblock_get(&p)) != NULL);
    CHECK(tarn_lfblock_get(&p) == NULL);
    CHECK_EQ(lq_stats(&p).failed_gets, 1u);
    CHECK_EQ(tarn_lfblock_put(&p, b[3]), TARN_OK);
    CHECK_EQ(tarn_lfblock_put(&p, b[1]), TARN_OK);
    CHECK(tarn_lfblock_get(&p) == b[3]);                  /* the oldest held */
    CHECK(tarn_lfblock_get(&p) == b[1]);
    CHECK(tarn_lfblock_get(&p) == NULL);
    CHECK_EQ(lq_stats(&p).failed_gets, 2u);
    CHECK_EQ(lq_stats(&p).held, 0u);
    CHECK_EQ(tarn_lfblock_check(&p), TARN_OK);
    for (i = 0; i < LQ_NB; i++) CHECK_EQ(tarn_lfblock_put(&p, b[i]), TARN_OK);
    CHECK_EQ(tarn_lfblock_check(&p), TARN_OK);
}

/* flush frees every held block; without the flag nothing is held. */
static void lq_flush_and_off(void)
{
    tarn_lfblock_pool p;
    void *b[LQ_NB];
    unsigned i;
    tarn_lfblock_stats st;
    lq_init(&p, TARN_F_QUARANTINE);
    for (i = 0; i < LQ_NB; i++) REQUIRE((b[i] = tarn_lfblock_get(&p)) != NULL);
    for (i = 0; i < 3u; i++) CHECK_EQ(tarn_lfblock_put(&p, b[i]), TARN_OK);
    CHECK_EQ(tarn_lfblock_quarantine_flush(&p), TARN_OK);
    st = lq_stats(&p);
    CHECK_EQ(st.held, 0u);
    CHECK_EQ(st.free, 3u);
    CHECK_EQ(tarn_lfblock_check(&p), TARN_OK);
    CHECK_EQ(tarn_lfblock_quarantine_flush(&p), TARN_OK);   /* nothing left: no-op */
    CHECK_EQ(tarn_lfblock_quarantine_flush(NULL), TARN_EINVAL);
    for (i = 3u; i < LQ_NB; i++) CHECK_EQ(tarn_lfblock_put(&p, b[i]), TARN_OK);
    CHECK_EQ(tarn_lfblock_quarantine_flush(&p), TARN_OK);
    CHECK_EQ(lq_stats(&p).free, LQ_NB);

    lq_init(&p, 0u);                                      /* quarantine not asked for */
    b[0] = tarn_lfblock_get(&p);
    CHECK_EQ(tarn_lfblock_put(&p, b[0]), TARN_OK);
    st = lq_stats(&p);
    CHECK_EQ(st.held, 0u);
    CHECK_EQ(st.free, LQ_NB);
    CHECK_EQ(tarn_lfblock_validate(&p, b[0]), TARN_EDOUBLE);
    CHECK(tarn_lfblock_get(&p) == b[0]);                  /* free at once: reused */
    CHECK_EQ(tarn_lfblock_quarantine_flush(&p), TARN_OK);
}

/* A write into a held block: found by check, reported by the flush that frees it and by a
 * put that pushes it out (the put itself succeeds). */
static void lq_write_after_put(void)
{
#if TARN_POISON_FREE
    tarn_lfblock_pool p;
    void *b[LQ_NB];
    unsigned i;
    lq_init(&p, TARN_F_QUARANTINE);
    for (i = 0; i < LQ_NB; i++) REQUIRE((b[i] = tarn_lfblock_get(&p)) != NULL);
    CHECK_EQ(tarn_lfblock_put(&p, b[0]), TARN_OK);
    test_poke8((unsigned char *)b[0] + 5, 0x11);           /* the bug */
    CHECK_EQ(tarn_lfblock_check(&p), TARN_ECORRUPT);
    CHECK_EQ(tarn_lfblock_quarantine_flush(&p), TARN_ECORRUPT);
    CHECK_EQ(tarn_lfblock_last_error(&p), TARN_ECORRUPT);
    CHECK_EQ(tarn_lfblock_check(&p), TARN_OK);             /* freed: no longer watched */

    /* the same, the held block pushed out by later puts */
    lq_init(&p, TARN_F_QUARANTINE);
    for (i = 0; i < LQ_NB; i++) REQUIRE((b[i] = tarn_lfblock_get(&p)) != NULL);
    CHECK_EQ(tarn_lfblock_put(&p, b[0]), TARN_OK);
    test_poke8((unsigned char *)b[0] + LQ_SZ - 1u, 0x22);
    for (i = 1; i < LQ_CAP; i++) CHECK_EQ(tarn_lfblock_put(&p, b[i]), TARN_OK);
    CHECK_EQ(tarn_lfblock_last_error(&p), TARN_OK);
    CHECK_EQ(tarn_lfblock_put(&p, b[LQ_CAP]), TARN_OK);
    CHECK_EQ(tarn_lfblock_last_error(&p), TARN_ECORRUPT);
    CHECK_EQ(tarn_lfblock_check(&p), TARN_OK);
#else
    printf("write-after-put tests skipped: TARN_POISON_FREE is 0 in this build\n");
#endif
}

/* Damage to the ring is found by check. */
static void lq_check_ring(void)
{
    tarn_lfblock_pool p;
    void *b[LQ_NB];
    unsigned i, k;
    uint32_t saved;
    lq_init(&p, TARN_F_QUARANTINE);
    for (i = 0; i < LQ_NB; i++) REQUIRE((b[i] = tarn_lfblock_get(&p)) != NULL);
    CHECK_EQ(tarn_lfblock_put(&p, b[2]), TARN_OK);
    k = 0;
    while (k < LQ_CAP && p.q_slot[k] == 0u) k++;
    REQUIRE(k < LQ_CAP);
    saved = p.q_slot[k];
    p.q_slot[k] = 0u;                                      /* held block lost from the ring */
    CHECK_EQ(tarn_lfblock_check(&p), TARN_ECORRUPT);
    p.q_slot[k] = saved;
    p.q_slot[(k + 1u) % LQ_CAP] = saved;                   /* held twice */
    CHECK_EQ(tarn_lfblock_check(&p), TARN_ECORRUPT);
    p.q_slot[(k + 1u) % LQ_CAP] = 1u + 4u;                 /* a handed-out block in the ring */
    CHECK_EQ(tarn_lfblock_check(&p), TARN_ECORRUPT);
    p.q_slot[(k + 1u) % LQ_CAP] = 0u;
    p.q_held++;                                            /* count off */
    CHECK_EQ(tarn_lfblock_check(&p), TARN_ECORRUPT);
    p.q_held--;
    CHECK_EQ(tarn_lfblock_check(&p), TARN_OK);
}

static void lfblock_quarantine_tests(void)
{
    lq_basics();
    lq_empty_pool();
    lq_flush_and_off();
    lq_write_after_put();
    lq_check_ring();
}

#ifndef TEST_LFBLOCK_NO_MAIN
int main(void)
{
    lfblock_quarantine_tests();
    return check_done();
}
#endif

#else /* TARN_QUARANTINE == 0 */

#ifndef TEST_LFBLOCK_NO_MAIN
int main(void)
{
    printf("skipped: TARN_QUARANTINE is 0 in this build (test_lfblock_debug.c forces it on)\n");
    return 77;
}
#endif

#endif
