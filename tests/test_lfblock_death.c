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
#include "support/death.h"
#include "tarn/lfblock.h"

#define BS 32u
static unsigned char mem[TARN_LFBLOCK_POOL_BYTES(8, BS)] TARN_LFBLOCK_ALIGNED;
static tarn_lfblock_pool pool;

static void read_after_put(void *arg)
{
    volatile unsigned char *b = (volatile unsigned char *)tarn_lfblock_get(&pool);
    unsigned char v;
    (void)arg;
    b[20] = 1;
    tarn_lfblock_put(&pool, (void *)b);
    v = b[20]; /* the bug */
    (void)v;
}

static void write_after_put(void *arg)
{
    volatile unsigned char *b = (volatile unsigned char *)tarn_lfblock_get(&pool);
    volatile unsigned char *c = (volatile unsigned char *)tarn_lfblock_get(&pool);
    (void)arg;
    tarn_lfblock_put(&pool, (void *)b);
    tarn_lfblock_put(&pool, (void *)c);
    b[0] = 7; /* the bug: b is on the free list (not at its top) */
}

static void write_past_end(void *arg)
{
    volatile unsigned char *b = (volatile unsigned char *)tarn_lfblock_get(&pool);
    volatile size_t off = TARN_LFBLOCK_SIZE(BS);
    (void)arg;
    b[off] = 1; /* the bug: first byte of the next (never used) block */
}

static void read_never_used(void *arg)
{
    volatile size_t off = TARN_LFBLOCK_META_BYTES(8) + 5 * TARN_LFBLOCK_SIZE(BS);
    volatile unsigned char *p = mem + off;
    unsigned char v;
    (void)arg;
    v = p[0]; /* the bug: nothing was handed out there */
    (void)v;
}

/* With TARN_F_SAN_REPORT a double put is reported by the tool, not only by status. */
static tarn_lfblock_pool rpool;
static unsigned char rmem[TARN_LFBLOCK_POOL_BYTES(4, BS)] TARN_LFBLOCK_ALIGNED;
static void double_put_reported(void *arg)
{
    void *b = tarn_lfblock_get(&rpool);
    tarn_status st;
    (void)arg;
    tarn_lfblock_put(&rpool, b);
    st = tarn_lfblock_put(&rpool, b); /* the bug */
    if (st != TARN_EDOUBLE) _Exit(3);
}

/* Without the flag the status alone reports it (the tool stays quiet). */
static void double_put_status_only(void *arg)
{
    void *b = tarn_lfblock_get(&pool);
    tarn_status st;
    (void)arg;
    tarn_lfblock_put(&pool, b);
    st = tarn_lfblock_put(&pool, b);
    if (st != TARN_EDOUBLE) _Exit(3);
}

#if TARN_QUARANTINE > 0
static tarn_lfblock_pool qpool;
static unsigned char qmem[TARN_LFBLOCK_POOL_BYTES(4, BS)] TARN_LFBLOCK_ALIGNED;

/* Read after put, after the pool handed out another block (LIFO: the same one without
 * the quarantine).  Every block is used once first, so gets come from the free list (or
 * the ring), not from the never-used ones. */
static void read_after_put_reused(void *arg)
{
    tarn_lfblock_pool *p = (tarn_lfblock_pool *)arg;
    volatile unsigned char *a, *b;
    void *all[4];
    unsigned char v;
    int i;
    for (i = 0; i < 4; i++) all[i] = tarn_lfblock_get(p);
    for (i = 0; i < 4; i++) tarn_lfblock_put(p, all[i]);
    a = (volatile unsigned char *)tarn_lfblock_get(p);
    a[5] = 7;
    tarn_lfblock_put(p, (void *)a);
    b = (volatile unsigned char *)tarn_lfblock_get(p);
    b[0] = 1;
    v = a[5]; /* the bug */
    (void)v;
}
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
    if (death_active_tool() == DEATH_TOOL_NONE) {
        printf("skipped: no memory tool watches this process\n");
        return 77;
    }
    REQUIRE(tarn_lfblock_init(&pool, mem, sizeof mem, BS, NULL) == TARN_OK);
    {
        tarn_config cfg;
        memset(&cfg, 0, sizeof cfg);
        cfg.flags = TARN_F_SAN_REPORT;
        REQUIRE(tarn_lfblock_init(&rpool, rmem, sizeof rmem, BS, &cfg) == TARN_OK);
    }
    r = death_expect_report(double_put_reported, NULL, "use-after-poison");
    CHECK_EQ(r, 1);
    r = death_expect_report(double_put_status_only, NULL, NULL);
    CHECK_EQ(r, 0);
    r = death_expect_report(read_after_put, NULL, "use-after-poison");
    CHECK_EQ(r, 1);
    r = death_expect_report(write_after_put, NULL, "use-after-poison");
    CHECK_EQ(r, 1);
    r = death_expect_report(write_past_end, NULL, "use-after-poison");
    CHECK_EQ(r, 1);
    r = death_expect_report(read_never_used, NULL, "use-after-poison");
    CHECK_EQ(r, 1);
#if TARN_QUARANTINE > 0
    {
        tarn_config cfg;
        memset(&cfg, 0, sizeof cfg);
        cfg.flags = TARN_F_QUARANTINE;
        REQUIRE(tarn_lfblock_init(&qpool, qmem, sizeof qmem, BS, &cfg) == TARN_OK);
        r = death_expect_report(read_after_put_reused, &qpool, "use-after-poison");
        CHECK_EQ(r, 1);
        /* the same read without the quarantine: the block was handed out again, so the
         * tools cannot see it (what the quarantine is for) */
        REQUIRE(tarn_lfblock_init(&qpool, qmem, sizeof qmem, BS, NULL) == TARN_OK);
        r = death_expect_report(read_after_put_reused, &qpool, NULL);
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
