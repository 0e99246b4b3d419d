/* tarn-test: host-only */
/*
 * tests/test_heap_guard_death.c - in canary mode the guard bytes after each block are
 * poisoned for the memory tools: a write or read one byte past the end of a block, into
 * its own guard, is reported by AddressSanitizer or Valgrind memcheck at once, even
 * though the next block is allocated (without canary mode that byte belongs to the next
 * block and no tool can see the overflow).  Each error runs in a child process; skipped
 * (77) when no tool watches this process.  This file compiles src/heap.c itself with
 * canary mode on.
 */
#undef TARN_GUARD
#define TARN_GUARD 1
#include "heap.c"

#include "check.h"
#include "support/death.h"

static unsigned char mem[8192] __attribute__((aligned(16)));
static tarn_heap *h;

static void write_into_guard(void *arg)
{
    size_t n = (size_t)(uintptr_t)arg;
    volatile unsigned char *a = (volatile unsigned char *)tarn_heap_alloc(h, 40);
    volatile unsigned char *b = (volatile unsigned char *)tarn_heap_alloc(h, n);
    (void)a;
    b[n] = 1;                                 /* the bug: one byte past b */
}

static void read_guard(void *arg)
{
    size_t n = (size_t)(uintptr_t)arg;
    volatile unsigned char *b = (volatile unsigned char *)tarn_heap_alloc(h, n);
    volatile unsigned char *c = (volatile unsigned char *)tarn_heap_alloc(h, n);
    unsigned char v = b[n];                   /* the bug */
    (void)v;
    (void)c;
}

static void correct_use(void *arg)
{
    size_t n = (size_t)(uintptr_t)arg, i;
    volatile unsigned char *b = (volatile unsigned char *)tarn_heap_alloc(h, n);
    volatile unsigned char *q;
    for (i = 0; i < n; i++) b[i] = (unsigned char)i;   /* every usable byte */
    q = (volatile unsigned char *)tarn_heap_realloc(h, (void *)b, n + 50u);
    for (i = 0; i < n + 50u; i++) q[i] = 1;
    q = (volatile unsigned char *)tarn_heap_realloc(h, (void *)q, 1);
    q[0] = 2;
    if (tarn_heap_free(h, (void *)q) != TARN_OK) abort();
}

int main(void)
{
    size_t n;
    int r;
    if (death_active_tool() == DEATH_TOOL_NONE) {
        printf("skipped: no memory tool watches this process\n");
        return 77;
    }
    REQUIRE(tarn_heap_init(&h, mem, sizeof mem, NULL) == TARN_OK);
    for (n = 1; n <= 17u; n += 4u) {
        r = death_expect_report(write_into_guard, (void *)(uintptr_t)n, "use-after-poison");
        CHECK_EQ(r, 1);
        r = death_expect_report(read_guard, (void *)(uintptr_t)n, "use-after-poison");
        CHECK_EQ(r, 1);
        r = death_expect_report(correct_use, (void *)(uintptr_t)n, NULL);
        CHECK_EQ(r, 0);
    }
    CHECK_EQ(tarn_heap_check(h), TARN_OK);
    CHECK_EQ(tarn_heap_destroy(h), TARN_OK);
    return check_done();
}
