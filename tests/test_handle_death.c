/* tarn-test: host-only */
/*
 * tests/test_handle_death.c - a raw pointer kept past unlock, into a block that compaction
 * or scramble mode then moved, is reported by AddressSanitizer / Valgrind memcheck; so are
 * a use after free, an overflow into a block's padding and a read of never-used space.
 * Each error runs in a child process; skipped (77) when no tool watches this process.
 */
#include "check.h"
#include "support/death.h"
#include "tarn/handle.h"

#define NH 8u
#define DATA 4096u

static unsigned char mem[TARN_HANDLE_BYTES(DATA, NH)] TARN_HANDLE_ALIGNED;
static tarn_handle_pool pool;

static void init(uint32_t flags)
{
    tarn_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.flags = flags;
    if (tarn_handle_init(&pool, mem, sizeof mem, NH, &cfg) != TARN_OK) abort();
}

/* A raw pointer kept across unlock; scramble mode moves the block at once. */
static void scramble_stale_pointer(void *arg)
{
    tarn_handle h;
    volatile unsigned char *p;
    unsigned char v;
    (void)arg;
    init(TARN_HANDLE_F_SCRAMBLE);
    h = tarn_handle_alloc(&pool, 100);
    p = (volatile unsigned char *)tarn_handle_lock(&pool, h);
    p[0] = 1;
    tarn_handle_unlock(&pool, h);
    v = p[0];                   /* the bug: the block is somewhere else now */
    (void)v;
}

/* The same without scramble mode: the pointer dies at the next compaction. */
static void compaction_stale_pointer(void *arg)
{
    tarn_handle a, b;
    volatile unsigned char *p;
    (void)arg;
    init(0);
    a = tarn_handle_alloc(&pool, 512);
    b = tarn_handle_alloc(&pool, 64);
    p = (volatile unsigned char *)tarn_handle_lock(&pool, b);
    p[0] = 1;
    tarn_handle_unlock(&pool, b);
    tarn_handle_free(&pool, a);
    tarn_handle_compact(&pool); /* b slides down by 512 bytes */
    p[3] = 2;                   /* the bug */
}

/* Incremental compaction moves it too. */
static void step_stale_pointer(void *arg)
{
    tarn_handle a, b;
    volatile unsigned char *p;
    unsigned char v;
    (void)arg;
    init(0);
    a = tarn_handle_alloc(&pool, 256);
    b = tarn_handle_alloc(&pool, 64);
    p = (volatile unsigned char *)tarn_handle_lock(&pool, b);
    p[10] = 1;
    tarn_handle_unlock(&pool, b);
    tarn_handle_free(&pool, a);
    while (!tarn_handle_compact_step(&pool, 16, NULL)) {
    }
    v = p[10];                  /* the bug */
    (void)v;
}

static void use_after_free(void *arg)
{
    tarn_handle h;
    volatile unsigned char *p;
    unsigned char v;
    (void)arg;
    init(0);
    h = tarn_handle_alloc(&pool, 48);
    p = (volatile unsigned char *)tarn_handle_lock(&pool, h);
    p[5] = 1;
    tarn_handle_unlock(&pool, h);
    tarn_handle_free(&pool, h);
    v = p[5];                   /* the bug */
    (void)v;
}

static void overflow_into_padding(void *arg)
{
    tarn_handle h;
    volatile unsigned char *p;
    (void)arg;
    init(0);
    h = tarn_handle_alloc(&pool, 13); /* 13 bytes: 3 bytes of padding up to 16 */
    p = (volatile unsigned char *)tarn_handle_lock(&pool, h);
    p[13] = 1;                  /* the bug: one past the end */
}

static void read_never_used(void *arg)
{
    volatile size_t off = TARN_HANDLE_TABLE_SPACE(NH) + DATA / 2u;
    volatile unsigned char *p = mem + off;
    unsigned char v;
    (void)arg;
    init(0);
    (void)tarn_handle_alloc(&pool, 64);
    v = p[0];                   /* the bug: nothing was handed out there */
    (void)v;
}

/* Control: the same steps done right are not reported (so the checks above can fail). */
static void correct_use(void *arg)
{
    tarn_handle a, b;
    volatile unsigned char *p;
    (void)arg;
    init(TARN_HANDLE_F_SCRAMBLE);
    a = tarn_handle_alloc(&pool, 512);
    b = tarn_handle_alloc(&pool, 64);
    p = (volatile unsigned char *)tarn_handle_lock(&pool, b);
    p[0] = 1;
    p[63] = p[0];
    tarn_handle_unlock(&pool, b);
    tarn_handle_free(&pool, a);
    tarn_handle_compact(&pool);
    while (!tarn_handle_compact_step(&pool, 16, NULL)) {
    }
    p = (volatile unsigned char *)tarn_handle_lock(&pool, b); /* ask again after moves */
    p[1] = p[0];
    tarn_handle_unlock(&pool, b);
    tarn_handle_free(&pool, b);
}

int main(void)
{
    if (death_active_tool() == DEATH_TOOL_NONE) {
        printf("skipped: no memory tool watches this process\n");
        return 77;
    }
    CHECK_EQ(death_expect_report(scramble_stale_pointer, NULL, "use-after-poison"), 1);
    CHECK_EQ(death_expect_report(compaction_stale_pointer, NULL, "use-after-poison"), 1);
    CHECK_EQ(death_expect_report(step_stale_pointer, NULL, "use-after-poison"), 1);
    CHECK_EQ(death_expect_report(use_after_free, NULL, "use-after-poison"), 1);
    CHECK_EQ(death_expect_report(overflow_into_padding, NULL, "use-after-poison"), 1);
    CHECK_EQ(death_expect_report(read_never_used, NULL, "use-after-poison"), 1);
    CHECK_EQ(death_expect_report(correct_use, NULL, NULL), 0);
    return check_done();
}
