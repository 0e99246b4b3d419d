/* tarn-test: host-only */
/*
 * tests/test_block_death.c - a use-after-free or an overflow into a block pool is reported
 * by AddressSanitizer / Valgrind memcheck exactly as for malloc'd memory.  Each error runs
 * in a child process; skipped (77) when no tool watches this process.
 */
#include "check.h"
#include "support/death.h"
#include "tarn/block.h"

static unsigned char mem[TARN_BLOCK_POOL_BYTES(8, 32)] TARN_BLOCK_ALIGNED;
static tarn_block_pool pool;

static void read_after_free(void *arg)
{
    volatile unsigned char *b = (volatile unsigned char *)tarn_block_get(&pool);
    unsigned char v;
    (void)arg;
    b[20] = 1;
    tarn_block_put(&pool, (void *)b);
    v = b[20];                 /* the bug */
    (void)v;
}

static void write_past_end(void *arg)
{
    volatile unsigned char *b = (volatile unsigned char *)tarn_block_get(&pool);
    (void)arg;
    b[TARN_BLOCK_SIZE(32)] = 1; /* the bug: first byte of the next (never used) block */
}

static void read_never_used(void *arg)
{
    /* The offset comes through a volatile so that the compiler cannot prove the access
     * in bounds of the global (ASan skips checks it can prove). */
    volatile size_t off = 3 * TARN_BLOCK_SIZE(32);
    volatile unsigned char *p = mem + off;
    unsigned char v;
    (void)arg;
    v = p[0];                   /* the bug: nothing was handed out there */
    (void)v;
}

static tarn_block_pool rpool;
static unsigned char rmem[TARN_BLOCK_POOL_BYTES(4, 32)] TARN_BLOCK_ALIGNED;

/* With TARN_F_SAN_REPORT a double free is reported by the tool, not only by status. */
static void double_free_reported(void *arg)
{
    void *b = tarn_block_get(&rpool);
    tarn_status st;
    (void)arg;
    tarn_block_put(&rpool, b);
    st = tarn_block_put(&rpool, b);      /* the bug */
    if (st != TARN_EDOUBLE) _Exit(3);
}

/* Without the flag the status alone reports it (the tool stays quiet). */
static void double_free_status_only(void *arg)
{
    void *b = tarn_block_get(&pool);
    tarn_status st;
    (void)arg;
    tarn_block_put(&pool, b);
    st = tarn_block_put(&pool, b);
    if (st != TARN_EDOUBLE) _Exit(3);
}

static void live_block_is_fine(void *arg)
{
    volatile unsigned char *b = (volatile unsigned char *)tarn_block_get(&pool);
    (void)arg;
    b[0] = 1;
    b[31] = b[0];
    tarn_block_put(&pool, (void *)b);
}

int main(void)
{
    int r;
    if (death_active_tool() == DEATH_TOOL_NONE) {
        printf("skipped: no memory tool watches this process\n");
        return 77;
    }
    REQUIRE(tarn_block_init(&pool, mem, sizeof mem, 32, NULL) == TARN_OK);
    {
        tarn_config cfg;
        memset(&cfg, 0, sizeof cfg);
        cfg.flags = TARN_F_SAN_REPORT;
        REQUIRE(tarn_block_init(&rpool, rmem, sizeof rmem, 32, &cfg) == TARN_OK);
    }
    r = death_expect_report(double_free_reported, NULL, "use-after-poison");
    CHECK_EQ(r, 1);
    r = death_expect_report(double_free_status_only, NULL, NULL);
    CHECK_EQ(r, 0);
    r = death_expect_report(read_after_free, NULL, "use-after-poison");
    CHECK_EQ(r, 1);
    r = death_expect_report(write_past_end, NULL, "use-after-poison");
    CHECK_EQ(r, 1);
    r = death_expect_report(read_never_used, NULL, "use-after-poison");
    CHECK_EQ(r, 1);
    /* control: correct use is not reported, so the checks above can fail */
    r = death_expect_report(live_block_is_fine, NULL, NULL);
    CHECK_EQ(r, 0);
    return check_done();
}
