/* tarn-test: host-only */
/*
 * tests/test_handle_death.c - a raw pointer kept past unlock, into a block that compaction
 * or scramble mode then moved, is reported by AddressSanitizer / Valgrind memcheck; so are
 * a use after free, an overflow into a block's padding and a read of never-used space.
 * With the debug quarantine a read through a pointer kept past free is still reported
 * after the pool has handed out a block of the same size again; without it the new block
 * sits there and the read goes unseen (both shown).  With TARN_F_SAN_REPORT a bad free
 * (double free, stale or foreign handle) is reported by the tool too.  A write past the
 * end of a block straight into the next block is seen only in canary mode, which gives
 * the tools guard bytes to watch: test_handle_guard_death runs this file again with the
 * pool compiled in canary mode; without it the tools cannot see that write (shown).
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

/* A block taking 64 bytes (a size class's lower bound: the good-fit search takes such a
 * region) is freed and one of the same size allocated; *kept is a raw pointer into the
 * freed block, *again the new block's address. */
static void free_then_reuse(uint32_t flags, volatile unsigned char **kept, unsigned char **again)
{
    tarn_handle h, n;
    init(flags);
    h = tarn_handle_alloc(&pool, 64u - TARN_HANDLE_GUARD);
    (void)tarn_handle_alloc(&pool, 16);       /* so that the freed place is not the end */
    *kept = (volatile unsigned char *)tarn_handle_lock(&pool, h);
    (*kept)[5] = 1;
    tarn_handle_unlock(&pool, h);
    tarn_handle_free(&pool, h);
    n = tarn_handle_alloc(&pool, 64u - TARN_HANDLE_GUARD);
    *again = (unsigned char *)tarn_handle_lock(&pool, n);
    (*again)[5] = 2;
    tarn_handle_unlock(&pool, n);
}

/* The bug: a read through the pointer kept past free, after the pool was busy again. */
static void read_after_reuse(void *arg)
{
    volatile unsigned char *p;
    unsigned char *again, v;
    free_then_reuse(*(const uint32_t *)arg, &p, &again);
    v = p[5];
    (void)v;
}

/* A write past a block's end lands in the next block's first byte (no padding between). */
static void write_into_next_block(void *arg)
{
    tarn_handle a;
    volatile unsigned char *p;
    (void)arg;
    init(0);
    a = tarn_handle_alloc(&pool, 64);
    (void)tarn_handle_alloc(&pool, 64);
    p = (volatile unsigned char *)tarn_handle_lock(&pool, a);
    p[64] = 1;                  /* the bug */
}

/* TARN_F_SAN_REPORT: bad frees reported by the tool.  A double free is reported at the
 * freed region while the quarantine holds it, else at the handle's table entry. */
static void double_free(void *arg)
{
    tarn_handle h;
    init(*(const uint32_t *)arg | TARN_F_SAN_REPORT);
    h = tarn_handle_alloc(&pool, 40);
    tarn_handle_free(&pool, h);
    if (tarn_handle_free(&pool, h) != TARN_EDOUBLE) _Exit(3); /* the bug */
}
static void stale_handle_free(void *arg)
{
    tarn_handle h;
    (void)arg;
    init(TARN_F_SAN_REPORT);
    h = tarn_handle_alloc(&pool, 40);
    /* an older generation of a live slot: must not be taken for the live block */
    if (tarn_handle_free(&pool, tarn_handle_from_u32(h.v - 0x00100000u)) != TARN_ESTALE) _Exit(3);
    if (tarn_handle_validate(&pool, h) != TARN_OK) _Exit(4);
}
static void foreign_handle_free(void *arg)
{
    (void)arg;
    init(TARN_F_SAN_REPORT);
    (void)tarn_handle_alloc(&pool, 40);
    if (tarn_handle_free(&pool, tarn_handle_from_u32(0x12340000u | (NH + 3u))) != TARN_EFOREIGN) _Exit(3);
}
/* Without the flag the status alone reports them (the tool stays quiet). */
static void bad_frees_status_only(void *arg)
{
    tarn_handle h;
    (void)arg;
    init(TARN_F_QUARANTINE);
    h = tarn_handle_alloc(&pool, 40);
    tarn_handle_free(&pool, h);
    if (tarn_handle_free(&pool, h) != TARN_EDOUBLE) _Exit(3);
    if (tarn_handle_free(&pool, tarn_handle_from_u32(0x12340000u | (NH + 3u))) != TARN_EFOREIGN) _Exit(4);
    init(TARN_F_SAN_REPORT);
    if (tarn_handle_free(&pool, tarn_handle_null()) != TARN_EINVAL) _Exit(5); /* like free(NULL) */
}

#if TARN_GUARD
/* Canary mode: a longer overrun meant for the next block crosses the guard first. */
static void write_on_into_next(void *arg)
{
    tarn_handle a;
    unsigned char *p;
    (void)arg;
    init(0);
    a = tarn_handle_alloc(&pool, 24);
    (void)tarn_handle_alloc(&pool, 24);
    p = (unsigned char *)tarn_handle_lock(&pool, a);
    memset(p, 0x41, TARN_HANDLE_SPAN(24) + 8u); /* the bug */
}

/* Canary mode: a read of the last guaranteed guard byte (it holds TARN_GUARD_BYTE). */
static void read_guard(void *arg)
{
    volatile unsigned char *p;
    (void)arg;
    init(0);
    p = (volatile unsigned char *)tarn_handle_lock(&pool, tarn_handle_alloc(&pool, 29));
    if (p[29 + TARN_GUARD_SIZE - 1u] == 0u) _Exit(5); /* the bug */
}
#endif

/* Control: the same steps done right are not reported (so the checks above can fail).
 * Also run outside a child, where arg receives whether the pool's own check agrees. */
static void correct_use(void *arg)
{
    tarn_handle a, b, c;
    volatile unsigned char *p;
    init(TARN_HANDLE_F_SCRAMBLE);
    a = tarn_handle_alloc(&pool, 512);
    b = tarn_handle_alloc(&pool, 64);
    c = tarn_handle_alloc(&pool, 37);
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
    tarn_handle_copy(&pool, b, c);
    tarn_handle_clear(&pool, c);
    tarn_handle_resize(&pool, c, 300);
    tarn_handle_resize(&pool, c, 5);
    if (arg != NULL) *(int *)arg = tarn_handle_check(&pool) == TARN_OK;
    tarn_handle_free(&pool, b);
    tarn_handle_free(&pool, c);
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
    {
        int intact = 0;
        correct_use(&intact);
        CHECK(intact);
    }
#if TARN_GUARD
    CHECK_EQ(death_expect_report(write_on_into_next, NULL, "use-after-poison"), 1);
    CHECK_EQ(death_expect_report(read_guard, NULL, "use-after-poison"), 1);
#endif

    /* read after free and reuse: unseen without the quarantine, reported with it */
    {
        static const uint32_t plain = 0, held = TARN_F_QUARANTINE;
        volatile unsigned char *p;
        unsigned char *again;
        free_then_reuse(plain, &p, &again);
        CHECK(again == (unsigned char *)p);       /* the freed place was reused... */
        CHECK_EQ(death_expect_report(read_after_reuse, (void *)&plain, NULL), 0); /* ...unseen */
#if TARN_QUARANTINE > 0
        free_then_reuse(held, &p, &again);
        CHECK(again != (unsigned char *)p);       /* the freed region is held back... */
        CHECK_EQ(death_expect_report(read_after_reuse, (void *)&held, "use-after-poison"), 1);
#else
        (void)held;
#endif
    }
    /* a write straight into the next block: only canary mode gives the tools a guard */
    CHECK_EQ(death_expect_report(write_into_next_block, NULL, "use-after-poison"), TARN_GUARD ? 1 : 0);
    /* bad frees with TARN_F_SAN_REPORT */
    {
        static const uint32_t held = TARN_F_QUARANTINE, released = 0;
#if TARN_QUARANTINE > 0
        CHECK_EQ(death_expect_report(double_free, (void *)&held, "use-after-poison"), 1);
#else
        (void)held;
#endif
        CHECK_EQ(death_expect_report(double_free, (void *)&released, "use-after-poison"), 1);
    }
    CHECK_EQ(death_expect_report(stale_handle_free, NULL, "use-after-poison"), 1);
    CHECK_EQ(death_expect_report(foreign_handle_free, NULL, "use-after-poison"), 1);
    CHECK_EQ(death_expect_report(bad_frees_status_only, NULL, NULL), 0);
    return check_done();
}
