/* tarn-test: host-only */
/*
 * tests/test_heap_death.c - memory errors on heap blocks are reported by AddressSanitizer
 * or Valgrind memcheck exactly as for malloc'd memory: a read after free, a write past
 * the end of a block into free memory, a read of never-allocated memory, and a write
 * into a free block's links.  Each error runs in a child process; skipped (77) when no
 * tool watches this process.  A control shows that correct use is not reported.
 */
#include "check.h"
#include "support/death.h"
#include "tarn/heap.h"

static unsigned char mem[8192] __attribute__((aligned(16)));
static tarn_heap *h;

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
    CHECK_EQ(tarn_heap_check(h), TARN_OK);
    CHECK_EQ(tarn_heap_destroy(h), TARN_OK);
    return check_done();
}
