/* tarn-test: host-only */
/*
 * tests/test_lfblock_death.c - a use-after-put, an overflow or a read of a never-used
 * block of a lock-free pool is reported by AddressSanitizer / Valgrind memcheck as for
 * malloc'd memory; the pool's own state words (outside the blocks) are not.  With the
 * debug quarantine a read after put is still reported after the pool handed out other
 * blocks (and is not without it).  Each error runs in a child process; skipped (77) when
 * no tool watches this process.
 */
#include <stdlib.h>

#include "check.h"
#include "support/pool_death.h"
#include "tarn/lfblock.h"

#define BS 32u
static unsigned char mem[TARN_LFBLOCK_POOL_BYTES(8, BS)] TARN_LFBLOCK_ALIGNED;
static tarn_lfblock_pool pool;

static void *lfget(void *p) { return tarn_lfblock_get((tarn_lfblock_pool *)p); }
static tarn_status lfput(void *p, void *b) { return tarn_lfblock_put((tarn_lfblock_pool *)p, b); }

static void write_after_put(void *arg)
{
    volatile unsigned char *b = (volatile unsigned char *)tarn_lfblock_get(&pool);
    volatile unsigned char *c = (volatile unsigned char *)tarn_lfblock_get(&pool);
    (void)arg;
    tarn_lfblock_put(&pool, (void *)b);
    tarn_lfblock_put(&pool, (void *)c);
    b[0] = 7; /* the bug: b is on the free list (not at its top) */
}

static tarn_lfblock_pool rpool;
static unsigned char rmem[TARN_LFBLOCK_POOL_BYTES(4, BS)] TARN_LFBLOCK_ALIGNED;
#if TARN_QUARANTINE > 0
static tarn_lfblock_pool qpool;
static unsigned char qmem[TARN_LFBLOCK_POOL_BYTES(4, BS)] TARN_LFBLOCK_ALIGNED;
#endif

static void live_block_is_fine(void *arg)
{
    volatile unsigned char *b = (volatile unsigned char *)tarn_lfblock_get(&pool);
    volatile unsigned char *c;
    (void)arg;
    b[0] = 1;
    b[BS - 1] = b[0];
    tarn_lfblock_put(&pool, (void *)b);
    c = (volatile unsigned char *)tarn_lfblock_get(&pool); /* reused: live again */
    c[BS - 1] = 2;
    c[0] = c[BS - 1];
    tarn_lfblock_put(&pool, (void *)c);
    tarn_lfblock_put(&pool, (void *)c); /* refused double put: no report either */
}

int main(void)
{
    int r;
    pool_death_ops ops;
    pool_death_need_tool();
    REQUIRE(tarn_lfblock_init(&pool, mem, sizeof mem, BS, NULL) == TARN_OK);
    {
        tarn_config cfg;
        memset(&cfg, 0, sizeof cfg);
        cfg.flags = TARN_F_SAN_REPORT;
        REQUIRE(tarn_lfblock_init(&rpool, rmem, sizeof rmem, BS, &cfg) == TARN_OK);
    }
    memset(&ops, 0, sizeof ops);
    ops.get = lfget;
    ops.put = lfput;
    ops.pool = &pool;
    ops.rpool = &rpool;
    ops.mem = mem;
    ops.next_block = TARN_LFBLOCK_SIZE(BS);
    ops.never_used = TARN_LFBLOCK_META_BYTES(8) + 5 * TARN_LFBLOCK_SIZE(BS);
    ops.prime = 4; /* every block of qpool once */
    pool_death_run_common(&ops);
    r = death_expect_report(write_after_put, NULL, "use-after-poison");
    CHECK_EQ(r, 1);
#if TARN_QUARANTINE > 0
    {
        tarn_config cfg;
        memset(&cfg, 0, sizeof cfg);
        cfg.flags = TARN_F_QUARANTINE;
        REQUIRE(tarn_lfblock_init(&qpool, qmem, sizeof qmem, BS, &cfg) == TARN_OK);
        r = death_expect_report(pool_death_read_after_put_reused, &qpool, "use-after-poison");
        CHECK_EQ(r, 1);
        /* the same read without the quarantine: the block was handed out again, so the
         * tools cannot see it (what the quarantine is for) */
        REQUIRE(tarn_lfblock_init(&qpool, qmem, sizeof qmem, BS, NULL) == TARN_OK);
        r = death_expect_report(pool_death_read_after_put_reused, &qpool, NULL);
        CHECK_EQ(r, 0);
    }
#else
    printf("quarantine death tests skipped: TARN_QUARANTINE is 0 in this build\n");
#endif
    /* control: correct use is not reported, so the checks above can fail */
    r = death_expect_report(live_block_is_fine, NULL, NULL);
    CHECK_EQ(r, 0);
    return check_done();
}
