/*
 * tests/port_freertos_heap.c - ports/freertos/heap_tarn.c with the heap in its own
 * ucHeap[configTOTAL_HEAP_SIZE], the malloc-failed hook on and trace macros defined,
 * against the stand-in FreeRTOS headers of tests/freertos/ (FreeRTOS's documented API;
 * the kernel itself is not part of this build).  Every function of the heap API, the
 * failed hook, scheduler suspension around every call, and refused bad frees.
 */
#include "check.h"

#define configTOTAL_HEAP_SIZE (64u * 1024u)
#define configUSE_MALLOC_FAILED_HOOK 1
#include "harness.h"
#include "../ports/freertos/heap_tarn.c"

/* tarn's own statistics of the heap, every region included (the truth the port must
 * report). */
static tarn_heap_stats tarn_sum(void)
{
    tarn_heap_stats t, s;
    memset(&t, 0, sizeof t);
    if (pxHeap != NULL) {
        REQUIRE(tarn_heap_stats_get(pxHeap, &s) == TARN_OK);
        REQUIRE(tarn_heap_check(pxHeap) == TARN_OK);
        t.free += s.free;
        t.capacity += s.capacity;
        t.free_blocks += s.free_blocks;
        t.live_blocks += s.live_blocks;
        t.total_allocs += s.total_allocs;
        t.total_frees += s.total_frees;
        if (s.largest_free > t.largest_free) t.largest_free = s.largest_free;
    }
    return t;
}

/* Bytes of heap a request of n bytes takes (canary mode adds its guard). */
#define COST(n) TARN_HEAP_BLOCK_BYTES(n)

static int in_ucheap(const void *p)
{
    return (const uint8_t *)p >= ucHeap && (const uint8_t *)p < ucHeap + sizeof ucHeap;
}

static void test_basics(size_t *initial)
{
    size_t free0, free1;
    unsigned long hooks0, traces0;
    char *p;
    /* the getters set the heap up: all of ucHeap but tarn's control and bitmaps */
    free0 = xPortGetFreeHeapSize();
    *initial = free0;
    CHECK(free0 > configTOTAL_HEAP_SIZE * 9u / 10u && free0 < configTOTAL_HEAP_SIZE);
    CHECK_EQ(free0, tarn_sum().free);
    CHECK_EQ(xPortGetMinimumEverFreeHeapSize(), free0);

    traces0 = h_trace_mallocs;
    p = (char *)pvPortMalloc(100);
    REQUIRE(p != NULL);
    CHECK(in_ucheap(p));
    CHECK(((uintptr_t)p % portBYTE_ALIGNMENT) == 0);
    CHECK_EQ(h_trace_mallocs, traces0 + 1);
    CHECK_EQ(h_trace_last_size, 100);
    memset(p, 0x5a, 100);
    free1 = xPortGetFreeHeapSize();
    CHECK_EQ(free1, free0 - tarn_heap_usable_size(pxHeap, p));
    CHECK(free0 - free1 >= 100 && free0 - free1 < 100 + 8);
    CHECK_EQ(free1, tarn_sum().free);
    CHECK_EQ(xPortGetMinimumEverFreeHeapSize(), free1);

    vPortFree(p);
    CHECK_EQ(h_trace_frees, 1);
    CHECK_EQ(h_trace_last_size, free0 - free1);
    CHECK_EQ(xPortGetFreeHeapSize(), free0);
    CHECK_EQ(xPortGetMinimumEverFreeHeapSize(), free1);   /* the minimum stays */
    xPortResetHeapMinimumEverFreeHeapSize();
    CHECK_EQ(xPortGetMinimumEverFreeHeapSize(), free0);

    /* vPortFree(NULL) does nothing, and asserts nothing */
    vPortFree(NULL);
    CHECK_EQ(h_asserts, 0);

    /* size 0 and too-large requests fail, call the hook once each, change nothing */
    hooks0 = h_hooks;
    CHECK(pvPortMalloc(0) == NULL);
    CHECK_EQ(h_hooks, hooks0 + 1);
    CHECK(pvPortMalloc(configTOTAL_HEAP_SIZE) == NULL);
    CHECK_EQ(h_hooks, hooks0 + 2);
    CHECK(pvPortMalloc((size_t)-1) == NULL);
    CHECK_EQ(h_hooks, hooks0 + 3);
    CHECK_EQ(xPortGetFreeHeapSize(), free0);
    CHECK_EQ(h_asserts, 0);
    CHECK_SUSPENSION_BALANCED();
}

static void test_calloc(void)
{
    size_t free0 = xPortGetFreeHeapSize();
    unsigned long hooks0 = h_hooks;
    unsigned char *p, *q;
    size_t i;
    int zero = 1;
    /* dirty a block, free it, and have calloc return memory that must be all zero */
    p = (unsigned char *)pvPortMalloc(400);
    REQUIRE(p != NULL);
    memset(p, 0xAA, 400);
    vPortFree(p);
    q = (unsigned char *)pvPortCalloc(40, 10);
    REQUIRE(q != NULL);
    for (i = 0; i < 400; i++) zero &= q[i] == 0;
    CHECK(zero);
    vPortFree(q);
    /* an overflowing product fails without touching the heap, and calls the hook */
    CHECK(pvPortCalloc((size_t)-1 / 2u, 4) == NULL);
    CHECK_EQ(h_hooks, hooks0 + 1);
    CHECK(pvPortCalloc(0, 16) == NULL);   /* a zero product is pvPortMalloc(0) */
    CHECK_EQ(h_hooks, hooks0 + 2);
    CHECK_EQ(xPortGetFreeHeapSize(), free0);
    CHECK_SUSPENSION_BALANCED();
}

static void test_bad_frees(void)
{
    size_t free0, free1;
    tarn_heap_stats before, after;
    int local = 0;
    char *a, *b;
    free0 = xPortGetFreeHeapSize();
    a = (char *)pvPortMalloc(64);
    b = (char *)pvPortMalloc(64);
    REQUIRE(a != NULL && b != NULL);
    check_fill(b, 64, 7u);
    free1 = xPortGetFreeHeapSize();
    vPortFree(a);
    before = tarn_sum();

    vPortFree(a);                 /* double free */
    CHECK_EQ(h_asserts, 1);
    vPortFree(b + 8);             /* interior pointer */
    CHECK_EQ(h_asserts, 2);
    vPortFree(&local);            /* not the heap's memory */
    CHECK_EQ(h_asserts, 3);
    vPortFree(ucHeap);            /* inside ucHeap but tarn's control structure */
    CHECK_EQ(h_asserts, 4);

    after = tarn_sum();           /* nothing changed: counters, free bytes, contents */
    CHECK_EQ(after.free, before.free);
    CHECK_EQ(after.total_frees, before.total_frees);
    CHECK_EQ(after.live_blocks, before.live_blocks);
    CHECK_EQ(xPortGetFreeHeapSize(), free1 + tarn_heap_usable_size(pxHeap, b));
    CHECK(check_verify(b, 64, 7u));
    vPortFree(b);
    CHECK_EQ(h_asserts, 4);
    CHECK_EQ(xPortGetFreeHeapSize(), free0);
    h_asserts = 0;
    CHECK_SUSPENSION_BALANCED();
}

static void test_stats(void)
{
    HeapStats_t s;
    tarn_heap_stats t0 = tarn_sum(), t;
    void *p[8];
    size_t i, free0 = xPortGetFreeHeapSize();
    /* 8 blocks of growing size; free the even ones: 4 holes of 16, 48, 80, 112 bytes
     * (none adjacent to another free block) plus the rest of the heap */
    for (i = 0; i < 8; i++) {
        p[i] = pvPortMalloc(16 + 16 * i);
        REQUIRE(p[i] != NULL);
    }
    for (i = 0; i < 8; i += 2) vPortFree(p[i]);
    vPortGetHeapStats(&s);
    t = tarn_sum();
    CHECK_EQ(s.xAvailableHeapSpaceInBytes, xPortGetFreeHeapSize());
    CHECK_EQ(s.xAvailableHeapSpaceInBytes, t.free);
    CHECK_EQ(s.xNumberOfFreeBlocks, t.free_blocks);
    CHECK_EQ(s.xNumberOfFreeBlocks, 5);
    CHECK_EQ(s.xSizeOfSmallestFreeBlockInBytes, COST(16) - TARN_HEAP_GRANULE - TARN_HEAP_EXTRA); /* less its header */
    CHECK_EQ(s.xSizeOfLargestFreeBlockInBytes, t.largest_free);
    CHECK(s.xSizeOfLargestFreeBlockInBytes > free0 - 8 * COST(128));
    CHECK_EQ(s.xNumberOfSuccessfulAllocations, t0.total_allocs + 8);
    CHECK_EQ(s.xNumberOfSuccessfulFrees, t0.total_frees + 4);
    CHECK_EQ(s.xMinimumEverFreeBytesRemaining, xPortGetMinimumEverFreeHeapSize());
    CHECK(s.xMinimumEverFreeBytesRemaining <= free0 - (16 + 32 + 48 + 64 + 80 + 96 + 112 + 128));
    for (i = 1; i < 8; i += 2) vPortFree(p[i]);
    vPortGetHeapStats(&s);
    CHECK_EQ(s.xNumberOfFreeBlocks, 1);
    CHECK_EQ(s.xAvailableHeapSpaceInBytes, free0);
    CHECK_EQ(s.xSizeOfSmallestFreeBlockInBytes, free0);
    CHECK_EQ(s.xSizeOfLargestFreeBlockInBytes, free0);
    CHECK_SUSPENSION_BALANCED();
}

/* Fill the heap with 64-byte blocks until it fails, then free everything. */
static void test_exhaustion(size_t initial)
{
    static void *blk[configTOTAL_HEAP_SIZE / 64];
    size_t n = 0, i;
    unsigned long hooks0 = h_hooks;
    while (n < sizeof blk / sizeof blk[0] && (blk[n] = pvPortMalloc(64)) != NULL) {
        check_fill(blk[n], 64, (uint32_t)n);
        n++;
    }
    CHECK(n < sizeof blk / sizeof blk[0]);
    CHECK(n >= (initial / COST(64)) - 1);     /* all of it is used, a header per block */
    CHECK_EQ(h_hooks, hooks0 + 1);
    {
        HeapStats_t s;
        vPortGetHeapStats(&s);
        CHECK(s.xSizeOfLargestFreeBlockInBytes < 64);
    }
    CHECK_EQ(xPortGetMinimumEverFreeHeapSize(), xPortGetFreeHeapSize());
    for (i = 0; i < n; i++) {
        CHECK(check_verify(blk[i], 64, (uint32_t)i));
        vPortFree(blk[i]);
    }
    CHECK_EQ(xPortGetFreeHeapSize(), initial);
    CHECK_SUSPENSION_BALANCED();
}

/* Random mix of malloc/calloc/free against a model of the live blocks. */
static void test_random(size_t initial)
{
    enum { SLOTS = 200 };
    static void *slot[SLOTS];
    static size_t len[SLOTS];
    size_t i, iters = CHECK_ITERS(40000);
    check_seed(16);
    for (i = 0; i < iters; i++) {
        uint32_t k = check_below(SLOTS);
        if (slot[k] != NULL) {
            CHECK(check_verify(slot[k], len[k], k));
            vPortFree(slot[k]);
            slot[k] = NULL;
        } else {
            len[k] = 1 + check_below(check_below(8) == 0 ? 2000 : 120);
            slot[k] = (i & 1) ? pvPortMalloc(len[k]) : pvPortCalloc(1, len[k]);
            if (slot[k] != NULL) check_fill(slot[k], len[k], k);
        }
        if (i % 997 == 0) {
            CHECK_EQ(xPortGetFreeHeapSize(), tarn_sum().free);
            CHECK(xPortGetMinimumEverFreeHeapSize() <= xPortGetFreeHeapSize());
        }
    }
    for (i = 0; i < SLOTS; i++) {
        if (slot[i] != NULL) vPortFree(slot[i]);
    }
    CHECK_EQ(xPortGetFreeHeapSize(), initial);
    CHECK_EQ(h_asserts, 0);
    CHECK_SUSPENSION_BALANCED();
}

static void test_initialise_blocks(size_t initial)
{
    HeapStats_t s;
    void *p = pvPortMalloc(1000);
    REQUIRE(p != NULL);
    vPortInitialiseBlocks();               /* empties the heap: p is no longer a block */
    CHECK_EQ(xPortGetFreeHeapSize(), initial);
    CHECK_EQ(xPortGetMinimumEverFreeHeapSize(), initial);
    vPortGetHeapStats(&s);
    CHECK_EQ(s.xNumberOfSuccessfulAllocations, 0);
    CHECK_EQ(s.xNumberOfSuccessfulFrees, 0);
    CHECK_EQ(s.xNumberOfFreeBlocks, 1);
    vPortFree(p);                          /* a stale pointer: refused */
    CHECK_EQ(h_asserts, 1);
    h_asserts = 0;
    p = pvPortMalloc(1000);
    CHECK(p != NULL && in_ucheap(p));
    vPortFree(p);
    CHECK_EQ(xPortGetFreeHeapSize(), initial);
    /* heap_5's call is not for a ucHeap heap already in use: asserted and ignored */
    {
        static uint8_t other[4096];
        HeapRegion_t r[] = {{other, sizeof other}, {NULL, 0}};
        p = pvPortMalloc(10);
        vPortDefineHeapRegions(r);
        CHECK_EQ(h_asserts, 1);
        CHECK(in_ucheap(p));
        vPortFree(p);
        h_asserts = 0;
    }
    CHECK_SUSPENSION_BALANCED();
}

int main(void)
{
    size_t initial = 0;
    test_basics(&initial);
    test_calloc();
    test_bad_frees();
    test_stats();
    test_exhaustion(initial);
    test_random(initial);
    test_initialise_blocks(initial);
    CHECK(h_suspends > 1000);
    return check_done();
}
