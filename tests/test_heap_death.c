/* tarn-test: host-only */
/*
 * tests/test_heap_death.c - memory errors on heap blocks are reported by AddressSanitizer
 * or Valgrind memcheck exactly as for malloc'd memory: a read after free, a write past
 * the end of a block into free memory, a read of never-allocated memory, and a write
 * into a free block's links.  With the debug quarantine (builds with TARN_QUARANTINE,
 * heaps given TARN_F_QUARANTINE): a read of a freed block after a block of the same size
 * was handed out again is still reported (without the quarantine the block is reused
 * and the read goes unseen: shown too), and so is a write past the end into a freed
 * neighbour.  With TARN_F_SAN_REPORT a double free is reported by the tool.  Each error
 * runs in a child process; skipped (77) when no tool watches this process.  A control
 * shows that correct use is not reported.
 */
#include "check.h"
#include "support/death.h"
#include "tarn/heap.h"

static unsigned char mem[8192] __attribute__((aligned(16)));
static unsigned char mem_r[8192] __attribute__((aligned(16)));
static tarn_heap *h, *hr;        /* plain; SAN_REPORT (and quarantine) */
#if TARN_QUARANTINE > 0
static unsigned char mem_q[8192] __attribute__((aligned(16)));
static tarn_heap *hq;            /* quarantine */
#endif
static unsigned char *b_seen, *c_seen;

/* Free a 40-byte block, allocate one of the same size again, then read the first
 * (the bug, when `bug` is set); the two blocks are left in b_seen / c_seen. */
static void reuse_then_read(tarn_heap *heap, int bug)
{
    volatile unsigned char *b = (volatile unsigned char *)tarn_heap_alloc(heap, 40);
    volatile unsigned char *c;
    unsigned char v;
    b[20] = 1;
    tarn_heap_free(heap, (void *)b);
    c = (volatile unsigned char *)tarn_heap_alloc(heap, 40);
    c[20] = 2;
    b_seen = (unsigned char *)b;
    c_seen = (unsigned char *)c;
    if (bug) {
        v = b[20];                           /* the bug */
        (void)v;
    }
}
static void read_after_reuse_plain(void *arg)
{
    (void)arg;
    reuse_then_read(h, 1);
}
#if TARN_QUARANTINE > 0
static void read_after_reuse_held(void *arg)
{
    (void)arg;
    reuse_then_read(hq, 1);
}

static void write_into_held(void *arg)
{
    /* b ends where a begins; a is freed, held by the quarantine, so still poisoned */
    volatile unsigned char *a = (volatile unsigned char *)tarn_heap_alloc(hq, 40);
    volatile unsigned char *b = (volatile unsigned char *)tarn_heap_alloc(hq, 40);
    (void)arg;
    tarn_heap_free(hq, (void *)a);
    b[tarn_heap_usable_size(hq, (void *)b)] = 1;   /* the bug: one byte past b */
}
#endif

static void double_free(void *arg)
{
    tarn_heap *heap = (tarn_heap *)arg;
    void *b = tarn_heap_alloc(heap, 40);
    void *keep = tarn_heap_alloc(heap, 40);
    (void)tarn_heap_free(heap, b);
    if (tarn_heap_free(heap, b) != TARN_EDOUBLE) abort();   /* the bug: refused anyway */
    (void)keep;
}

static void read_after_free(void *arg)
{
    volatile unsigned char *b = (volatile unsigned char *)tarn_heap_alloc(h, 40);
    volatile unsigned char *keep = (volatile unsigned char *)tarn_heap_alloc(h, 40);
    unsigned char v;
    (void)arg;
    b[20] = 1;
    tarn_heap_free(h, (void *)b);
    v = b[20];                               /* the bug */
    (void)v;
    (void)keep;
}

static void write_past_end(void *arg)
{
    /* the first block is the top of the heap's free space: what follows it is free */
    volatile unsigned char *b = (volatile unsigned char *)tarn_heap_alloc(h, 40);
    volatile unsigned char *c;
    (void)arg;
    c = (volatile unsigned char *)tarn_heap_alloc(h, 40);
    tarn_heap_free(h, (void *)b);            /* b's room is free now; c ends where b began */
    c[tarn_heap_usable_size(h, (void *)c)] = 1;   /* the bug: one byte past c */
}

static void read_never_used(void *arg)
{
    volatile size_t off = sizeof mem / 2;
    volatile unsigned char *p = mem + off;   /* inside the blocks area, never handed out */
    unsigned char v;
    (void)arg;
    v = p[0];                                /* the bug */
    (void)v;
}

static void write_free_links(void *arg)
{
    volatile unsigned char *b = (volatile unsigned char *)tarn_heap_alloc(h, 64);
    volatile unsigned char *c = (volatile unsigned char *)tarn_heap_alloc(h, 64);
    volatile unsigned char *d = (volatile unsigned char *)tarn_heap_alloc(h, 64);
    (void)arg;
    tarn_heap_free(h, (void *)c);            /* c: a free block between b and d */
    c[0] = 0xFF;                             /* the bug: over its free-list link */
    (void)b;
    (void)d;
}

static void correct_use(void *arg)
{
    volatile unsigned char *b = (volatile unsigned char *)tarn_heap_alloc(h, 40);
    volatile unsigned char *q;
    size_t i, n;
    (void)arg;
    n = tarn_heap_usable_size(h, (void *)b);
    for (i = 0; i < n; i++) b[i] = (unsigned char)i;   /* every usable byte */
    q = (volatile unsigned char *)tarn_heap_realloc(h, (void *)b, 400);
    for (i = 0; i < 40; i++) {
        if (q[i] != (unsigned char)i) q[0] = 0;
    }
    q[399] = q[0];
    tarn_heap_free(h, (void *)q);
}

int main(void)
{
    int r;
    if (death_active_tool() == DEATH_TOOL_NONE) {
        printf("skipped: no memory tool watches this process\n");
        return 77;
    }
    REQUIRE(tarn_heap_init(&h, mem, sizeof mem, NULL) == TARN_OK);
    r = death_expect_report(read_after_free, NULL, "use-after-poison");
    CHECK_EQ(r, 1);
    r = death_expect_report(write_past_end, NULL, "use-after-poison");
    CHECK_EQ(r, 1);
    r = death_expect_report(read_never_used, NULL, "use-after-poison");
    CHECK_EQ(r, 1);
    r = death_expect_report(write_free_links, NULL, "use-after-poison");
    CHECK_EQ(r, 1);
    /* control: correct use is not reported, so the checks above can fail */
    r = death_expect_report(correct_use, NULL, NULL);
    CHECK_EQ(r, 0);

    /* without the quarantine, the freed block is handed out again at once: reading it
     * reads a live block, which no tool can see */
    r = death_expect_report(read_after_reuse_plain, NULL, NULL);
    CHECK_EQ(r, 0);
    reuse_then_read(h, 0);                   /* what the child saw: the same block */
    CHECK(c_seen == b_seen);
    CHECK_EQ(tarn_heap_free(h, c_seen), TARN_OK);
    /* a double free is refused; TARN_F_SAN_REPORT also makes the tool report it */
    r = death_expect_report(double_free, h, NULL);
    CHECK_EQ(r, 0);
    {
        tarn_config cfg = {{NULL, NULL, NULL}, "report", TARN_F_SAN_REPORT};
        REQUIRE(tarn_heap_init(&hr, mem_r, sizeof mem_r, &cfg) == TARN_OK);
        r = death_expect_report(double_free, hr, "use-after-poison");
        CHECK_EQ(r, 1);
        CHECK_EQ(tarn_heap_destroy(hr), TARN_OK);
    }
#if TARN_QUARANTINE > 0
    {
        tarn_config cfg = {{NULL, NULL, NULL}, "quarantine", TARN_F_QUARANTINE};
        REQUIRE(tarn_heap_init(&hq, mem_q, sizeof mem_q, &cfg) == TARN_OK);
        /* with it, the freed block is held: the new one is elsewhere, the read is seen */
        r = death_expect_report(read_after_reuse_held, NULL, "use-after-poison");
        CHECK_EQ(r, 1);
        reuse_then_read(hq, 0);
        CHECK(c_seen != b_seen);
        CHECK_EQ(tarn_heap_validate(hq, b_seen), TARN_EDOUBLE);
        CHECK_EQ(tarn_heap_free(hq, c_seen), TARN_OK);
        r = death_expect_report(write_into_held, NULL, "use-after-poison");
        CHECK_EQ(r, 1);
        /* a double free of a held block, reported with TARN_F_SAN_REPORT */
        r = death_expect_report(double_free, hq, NULL);
        CHECK_EQ(r, 0);
        cfg.flags |= TARN_F_SAN_REPORT;
        REQUIRE(tarn_heap_init(&hr, mem_r, sizeof mem_r, &cfg) == TARN_OK);
        r = death_expect_report(double_free, hr, "use-after-poison");
        CHECK_EQ(r, 1);
        CHECK_EQ(tarn_heap_check(hq), TARN_OK);
        CHECK_EQ(tarn_heap_quarantine_flush(hq), TARN_OK);
        CHECK_EQ(tarn_heap_destroy(hq), TARN_OK);
        CHECK_EQ(tarn_heap_destroy(hr), TARN_OK);
    }
#else
    printf("quarantine cases skipped: TARN_QUARANTINE is 0 in this build\n");
#endif
    CHECK_EQ(tarn_heap_check(h), TARN_OK);
    CHECK_EQ(tarn_heap_destroy(h), TARN_OK);
    return check_done();
}
