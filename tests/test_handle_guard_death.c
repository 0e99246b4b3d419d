/* tarn-test: host-only */
/*
 * tests/test_handle_guard_death.c - canary mode under the memory tools: the guard bytes
 * after a block are NOACCESS, so a write past the end of a locked block is reported by
 * AddressSanitizer / Valgrind memcheck at once, whether it stops in the guard or runs on
 * into the next block (which it reaches only through the guard).  Without canary mode a
 * write straight into the next block goes unseen (test_handle_death).  This file compiles
 * the handle pool with TARN_GUARD 1, so it runs in the ASan and Valgrind builds; each error
 * runs in a child process; skipped (77) when no tool watches this process.
 */
#undef TARN_GUARD
#define TARN_GUARD 1
#include "handle.c"
#include "check.h"
#include "support/death.h"

#define NH 8u
#define DATA 2048u

static unsigned char mem[TARN_HANDLE_BYTES(DATA, NH)] TARN_HANDLE_ALIGNED;
static tarn_handle_pool pool;

static void init(void)
{
    if (tarn_handle_init(&pool, mem, sizeof mem, NH, NULL) != TARN_OK) abort();
}

/* The block is a multiple of TARN_ALIGN: no padding, the next byte is the guard's first. */
static void write_into_guard(void *arg)
{
    tarn_handle a;
    volatile unsigned char *p;
    (void)arg;
    init();
    a = tarn_handle_alloc(&pool, 64);
    (void)tarn_handle_alloc(&pool, 64);
    p = (volatile unsigned char *)tarn_handle_lock(&pool, a);
    p[64] = 1;                  /* the bug */
}

/* A longer overrun meant for the next block: it crosses the guard first. */
static void write_on_into_next(void *arg)
{
    tarn_handle a;
    unsigned char *p;
    size_t n = TARN_HANDLE_SPAN(24) + 8u;
    (void)arg;
    init();
    a = tarn_handle_alloc(&pool, 24);
    (void)tarn_handle_alloc(&pool, 24);
    p = (unsigned char *)tarn_handle_lock(&pool, a);
    memset(p, 0x41, n);         /* the bug */
}

static void read_guard(void *arg)
{
    tarn_handle a;
    volatile unsigned char *p;
    unsigned char v;
    (void)arg;
    init();
    a = tarn_handle_alloc(&pool, 29);
    p = (volatile unsigned char *)tarn_handle_lock(&pool, a);
    v = p[29 + TARN_GUARD_SIZE - 1u]; /* the bug: the last guaranteed guard byte */
    (void)v;
}

/* Control: every operation that moves or rewrites guards, used correctly, is quiet, and
 * the pool's own check finds every guard intact. */
static void correct_use(void *arg)
{
    tarn_handle a, b, c;
    unsigned char *p;
    tarn_config cfg;
    (void)arg;
    memset(&cfg, 0, sizeof cfg);
    cfg.flags = TARN_HANDLE_F_SCRAMBLE;
    if (tarn_handle_init(&pool, mem, sizeof mem, NH, &cfg) != TARN_OK) abort();
    a = tarn_handle_alloc(&pool, 100);
    b = tarn_handle_alloc(&pool, 37);
    c = tarn_handle_alloc(&pool, 64);
    p = (unsigned char *)tarn_handle_lock(&pool, b);
    memset(p, 7, 37);
    tarn_handle_unlock(&pool, b);
    tarn_handle_copy(&pool, a, b);
    tarn_handle_clear(&pool, c);
    tarn_handle_resize(&pool, b, 300);
    tarn_handle_resize(&pool, b, 5);
    tarn_handle_free(&pool, a);
    tarn_handle_compact(&pool);
    while (!tarn_handle_compact_step(&pool, 3, NULL)) {
    }
    p = (unsigned char *)tarn_handle_lock(&pool, c);
    memset(p, 9, 64);
    tarn_handle_unlock(&pool, c);
    if (tarn_handle_check(&pool) != TARN_OK) _Exit(3);
    tarn_handle_free(&pool, b);
    tarn_handle_free(&pool, c);
}

int main(void)
{
    if (death_active_tool() == DEATH_TOOL_NONE) {
        printf("skipped: no memory tool watches this process\n");
        return 77;
    }
    CHECK_EQ(death_expect_report(write_into_guard, NULL, "use-after-poison"), 1);
    CHECK_EQ(death_expect_report(write_on_into_next, NULL, "use-after-poison"), 1);
    CHECK_EQ(death_expect_report(read_guard, NULL, "use-after-poison"), 1);
    CHECK_EQ(death_expect_report(correct_use, NULL, NULL), 0);
    return check_done();
}
