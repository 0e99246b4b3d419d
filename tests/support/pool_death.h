/*
 * tests/support/pool_death.h - the death cases every pool of fixed-size blocks shares (the
 * block pool and the lock-free block pool): a read after put, a write past a block's end,
 * a read of a never-used block and a double put, reported by the memory tool with
 * TARN_F_SAN_REPORT and by status alone without it.  Header-only; POSIX hosts only (the
 * cases run in forked children, see death.h).
 *
 * A test fills one pool_death_ops with its pool's get/put and layout, then calls
 * pool_death_run_common(); its own cases run around that.
 */
#ifndef TARN_TESTS_POOL_DEATH_H
#define TARN_TESTS_POOL_DEATH_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "support/death.h"
#include "tarn/tarn.h"

typedef struct pool_death_ops {
    /* the pool's init with the test's block size, get and put */
    tarn_status (*init)(void *pool, void *mem, size_t bytes, const tarn_config *cfg);
    void *(*get)(void *pool);
    tarn_status (*put)(void *pool, void *block);
    void *pool;                 /* initialized without flags, 8 blocks, none handed out */
    unsigned char *mem;         /* ... over this memory */
    size_t mem_bytes;
    void *rpool;                /* initialized with TARN_F_SAN_REPORT */
    void *rmem;
    size_t rmem_bytes;
    size_t next_block;          /* from a block's first byte to the next block's */
    size_t never_used;          /* from mem to a block no case hands out */
    int prime;                  /* blocks the reuse case gets and puts first (0: none) */
} pool_death_ops;

static pool_death_ops pool_death_;

/* Leave (exit 77, skipped) when no memory tool watches this process. */
static void pool_death_need_tool(void)
{
    if (death_active_tool() == DEATH_TOOL_NONE) {
        printf("skipped: no memory tool watches this process\n");
        exit(77);
    }
}

static void pool_death_read_after_put(void *arg)
{
    volatile unsigned char *b = (volatile unsigned char *)pool_death_.get(pool_death_.pool);
    unsigned char v;
    (void)arg;
    b[20] = 1;
    pool_death_.put(pool_death_.pool, (void *)b);
    v = b[20]; /* the bug */
    (void)v;
}

static void pool_death_write_past_end(void *arg)
{
    volatile unsigned char *b = (volatile unsigned char *)pool_death_.get(pool_death_.pool);
    volatile size_t off = pool_death_.next_block;
    (void)arg;
    b[off] = 1; /* the bug: first byte of the next (never used) block */
}

static void pool_death_read_never_used(void *arg)
{
    /* The offset comes through a volatile so that the compiler cannot prove the access
     * in bounds of the global (ASan skips checks it can prove). */
    volatile size_t off = pool_death_.never_used;
    volatile unsigned char *p = pool_death_.mem + off;
    unsigned char v;
    (void)arg;
    v = p[0]; /* the bug: nothing was handed out there */
    (void)v;
}

/* With TARN_F_SAN_REPORT (arg: that pool) a double put is reported by the tool, not only
 * by status; without it (arg: the plain pool) the status alone reports it. */
static void pool_death_double_put(void *arg)
{
    void *b = pool_death_.get(arg);
    tarn_status st;
    pool_death_.put(arg, b);
    st = pool_death_.put(arg, b); /* the bug */
    if (st != TARN_EDOUBLE) _Exit(3);
}

/* Read after put (arg: a pool with or without the debug quarantine), after the pool
 * handed out another block: without the quarantine that is the same block (LIFO) and the
 * read goes unseen; with it the read is reported.  The first `prime` blocks are got and
 * put first, so that gets come from the free list (or the ring), not from never-used
 * blocks. */
static void pool_death_read_after_put_reused(void *arg)
{
    volatile unsigned char *a, *b;
    void *all[16];
    unsigned char v;
    int i;
    for (i = 0; i < pool_death_.prime && i < 16; i++) all[i] = pool_death_.get(arg);
    for (i = 0; i < pool_death_.prime && i < 16; i++) pool_death_.put(arg, all[i]);
    a = (volatile unsigned char *)pool_death_.get(arg);
    a[5] = 7;
    pool_death_.put(arg, (void *)a);
    b = (volatile unsigned char *)pool_death_.get(arg); /* reuse: the same block without */
    b[0] = 1;                                           /* the quarantine */
    v = a[5];                                           /* the bug */
    (void)v;
}

/* Initialize the pools of *ops and run the shared cases on them (ops is kept for the
 * test's own cases, which may use pool_death_ too). */
static void pool_death_run_common(const pool_death_ops *ops)
{
    tarn_config cfg;
    pool_death_ = *ops;
    REQUIRE(ops->init(ops->pool, ops->mem, ops->mem_bytes, NULL) == TARN_OK);
    memset(&cfg, 0, sizeof cfg);
    cfg.flags = TARN_F_SAN_REPORT;
    REQUIRE(ops->init(ops->rpool, ops->rmem, ops->rmem_bytes, &cfg) == TARN_OK);
    CHECK_EQ(death_expect_report(pool_death_double_put, ops->rpool, "use-after-poison"), 1);
    CHECK_EQ(death_expect_report(pool_death_double_put, ops->pool, NULL), 0);
    CHECK_EQ(death_expect_report(pool_death_read_after_put, NULL, "use-after-poison"), 1);
    CHECK_EQ(death_expect_report(pool_death_write_past_end, NULL, "use-after-poison"), 1);
    CHECK_EQ(death_expect_report(pool_death_read_never_used, NULL, "use-after-poison"), 1);
}

/* With the debug quarantine (TARN_QUARANTINE > 0): over qmem, a pool with
 * TARN_F_QUARANTINE reports the reuse read, then more() runs the test's own cases on
 * it (when not NULL); the same pool without the flag does not report the read (the block
 * was handed out again: what the quarantine is for).  Without it: says so. */
static void pool_death_run_quarantine(void *qpool, void *qmem, size_t qbytes,
                                      void (*more)(void))
{
#if TARN_QUARANTINE > 0
    tarn_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.flags = TARN_F_QUARANTINE;
    REQUIRE(pool_death_.init(qpool, qmem, qbytes, &cfg) == TARN_OK);
    CHECK_EQ(death_expect_report(pool_death_read_after_put_reused, qpool, "use-after-poison"), 1);
    if (more != NULL) more();
    REQUIRE(pool_death_.init(qpool, qmem, qbytes, NULL) == TARN_OK);
    CHECK_EQ(death_expect_report(pool_death_read_after_put_reused, qpool, NULL), 0);
#else
    (void)qpool;
    (void)qmem;
    (void)qbytes;
    (void)more;
    (void)pool_death_read_after_put_reused;
    printf("quarantine death tests skipped: TARN_QUARANTINE is 0 in this build\n");
#endif
}

#endif
