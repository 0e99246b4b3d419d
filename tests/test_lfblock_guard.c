/*
 * tests/test_lfblock_guard.c - canary mode of the lock-free block pool (TARN_GUARD=1): the
 * guard bytes after every block catch an overrun at put, validate and in the integrity
 * check; the block stays handed out and nothing else changes.  Skipped (77) when the
 * library is built without canary mode; test_lfblock_debug.c compiles this file again
 * with canary mode forced on, so it runs in every build.
 */
#include "check.h"
#include "tarn/lfblock.h"
#include "internal.h"
#include "support/poke.h"

#if TARN_GUARD
#if !TARN_LFBLOCK_LOCK_FREE
#include "support/lock_hook.h" /* the fallback build (no lock-free CAS) needs a lock hook */
#endif

#define LG_SZ 20u
#define LG_NB 6u
#define LG_U TARN_LFBLOCK_USABLE(LG_SZ)

static unsigned char lg_mem[TARN_LFBLOCK_POOL_BYTES(LG_NB, LG_SZ)] TARN_LFBLOCK_ALIGNED;

static void lfblock_guard_tests(void)
{
    tarn_lfblock_pool p;
    tarn_lfblock_stats st;
    unsigned char *b[LG_NB];
    unsigned i;
    CHECK(TARN_LFBLOCK_GUARD == TARN_GUARD_SIZE);
    CHECK(LG_U >= LG_SZ && LG_U + TARN_LFBLOCK_GUARD == TARN_LFBLOCK_SIZE(LG_SZ));
#if TARN_LFBLOCK_LOCK_FREE
    REQUIRE(tarn_lfblock_init(&p, lg_mem, sizeof lg_mem, LG_SZ, NULL) == TARN_OK);
#else
    {
        tarn_config cfg;
        memset(&cfg, 0, sizeof cfg);
        cfg.lock = LOCK_HOOK;
        REQUIRE(tarn_lfblock_init(&p, lg_mem, sizeof lg_mem, LG_SZ, &cfg) == TARN_OK);
    }
#endif
    CHECK_EQ(tarn_lfblock_count(&p), LG_NB);
    CHECK_EQ(tarn_lfblock_size(&p), LG_U);
    CHECK_EQ(tarn_lfblock_stats_get(&p, &st), TARN_OK);
    CHECK_EQ(st.block_size, LG_U);
    for (i = 0; i < LG_NB; i++) {
        b[i] = (unsigned char *)tarn_lfblock_get(&p);
        REQUIRE(b[i] != NULL);
        CHECK(tarn_bytes_are(b[i] + LG_U, TARN_LFBLOCK_GUARD, TARN_GUARD_BYTE));
        check_fill(b[i], LG_U, i);              /* every usable byte: no damage */
    }
    CHECK_EQ(tarn_lfblock_check(&p), TARN_OK);
    for (i = 0; i < LG_NB; i++) CHECK_EQ(tarn_lfblock_validate(&p, b[i]), TARN_OK);

    /* one byte past the end of b[2]: refused by validate, put and check; b[2] stays out */
    test_poke8(b[2] + LG_U, 0x00);
    CHECK_EQ(tarn_lfblock_validate(&p, b[2]), TARN_ECORRUPT);
    CHECK_EQ(tarn_lfblock_put(&p, b[2]), TARN_ECORRUPT);
    CHECK_EQ(tarn_lfblock_last_error(&p), TARN_ECORRUPT);
    CHECK_EQ(tarn_lfblock_check(&p), TARN_ECORRUPT);
    CHECK_EQ(tarn_lfblock_stats_get(&p, &st), TARN_OK);
#if TARN_STATS
    CHECK_EQ(st.free, 0);                       /* nothing was released */
#endif
    /* the others are untouched and go back normally */
    CHECK(check_verify(b[1], LG_U, 1));
    CHECK(check_verify(b[3], LG_U, 3));
    CHECK_EQ(tarn_lfblock_put(&p, b[3]), TARN_OK);
    CHECK_EQ(tarn_lfblock_put(&p, b[3]), TARN_EDOUBLE);   /* a freed block: double, not corrupt */
    /* the last guard byte, and a repaired guard */
    test_poke8(b[2] + LG_U, (unsigned char)TARN_GUARD_BYTE);
    test_poke8(b[4] + LG_U + TARN_LFBLOCK_GUARD - 1u, 0x5A);
    CHECK_EQ(tarn_lfblock_put(&p, b[2]), TARN_OK);
    CHECK_EQ(tarn_lfblock_check(&p), TARN_ECORRUPT);
    CHECK_EQ(tarn_lfblock_put(&p, b[4]), TARN_ECORRUPT);
    test_poke8(b[4] + LG_U + TARN_LFBLOCK_GUARD - 1u, (unsigned char)TARN_GUARD_BYTE);
    CHECK_EQ(tarn_lfblock_check(&p), TARN_OK);
    for (i = 0; i < LG_NB; i++) {
        if (i == 2 || i == 3) continue;
        CHECK(check_verify(b[i], LG_U, i));
        CHECK_EQ(tarn_lfblock_put(&p, b[i]), TARN_OK);
    }
    CHECK_EQ(tarn_lfblock_check(&p), TARN_OK);
    /* a block handed out again gets a fresh guard, whatever its previous owner left */
    b[0] = (unsigned char *)tarn_lfblock_get(&p);
    REQUIRE(b[0] != NULL);
    CHECK(tarn_bytes_are(b[0] + LG_U, TARN_LFBLOCK_GUARD, TARN_GUARD_BYTE));
    CHECK_EQ(tarn_lfblock_put(&p, b[0]), TARN_OK);
    CHECK_EQ(tarn_lfblock_check(&p), TARN_OK);
}

#ifndef TEST_LFBLOCK_NO_MAIN
int main(void)
{
    lfblock_guard_tests();
    return check_done();
}
#endif

#else /* !TARN_GUARD */
#ifndef TEST_LFBLOCK_NO_MAIN
int main(void)
{
    return 77;   /* canary mode not built in: see test_lfblock_debug */
}
#endif
#endif
