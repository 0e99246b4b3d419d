/*
 * tests/port_freertos_regions.c - ports/freertos/heap_tarn.c as heap_5: no ucHeap, the
 * heap given by vPortDefineHeapRegions() in several regions, served in order by one tarn
 * heap (tarn_heap_add_region; its statistics, check and region queries are checked too);
 * portBYTE_ALIGNMENT 32 (over-aligned blocks), configHEAP_CLEAR_MEMORY_ON_FREE, and the
 * malloc-failed hook off.  Stand-in FreeRTOS headers: see tests/freertos/FreeRTOS.h.
 */
#include "check.h"

#if defined(__has_include)
#if __has_include(<valgrind/memcheck.h>)
#include <valgrind/memcheck.h>
#define TARN_TEST_VALGRIND_ 1
#endif
#endif

#define configUSE_MALLOC_FAILED_HOOK 0
#define portBYTE_ALIGNMENT 32
#define configHEAP_CLEAR_MEMORY_ON_FREE 1
#define configTARN_HEAP_MAX_REGIONS 4
#include "harness.h"
#include "../ports/freertos/heap_tarn.c"

/* One array carved into regions, so their order in memory is known. */
static union { uint64_t align; uint8_t b[64 * 1024]; } mem;
#define R0 (mem.b + 0)          /* 4 KiB */
#define RTINY (mem.b + 8192)    /* 64 bytes: too small for a heap, skipped */
#define R1 (mem.b + 12288)      /* 8 KiB */
#define R2 (mem.b + 24576)      /* 32 KiB */

static int region_of(const void *p)
{
    const uint8_t *b = (const uint8_t *)p;
    if (b >= R0 && b < R0 + 4096) return 0;
    if (b >= R1 && b < R1 + 8192) return 1;
    if (b >= R2 && b < R2 + 32768) return 2;
    return -1;
}

static void test_before_regions(void)
{
    /* no ucHeap and no region yet: nothing to allocate from */
    CHECK_EQ(xPortGetFreeHeapSize(), 0);
    CHECK(pvPortMalloc(16) == NULL);
    CHECK_EQ(h_asserts, 1);
    CHECK_EQ(h_hooks, 0);                     /* hook off: never called */
    vPortFree(mem.b);                         /* nothing is a block yet */
    CHECK_EQ(h_asserts, 2);
    h_asserts = 0;
    CHECK_SUSPENSION_BALANCED();
}

static void test_regions_in_order(void)
{
    const HeapRegion_t regions[] = {
        {R0, 4096}, {RTINY, 64}, {R1, 8192}, {R2, 32768}, {NULL, 0}};
    enum { MAX = 2000 };
    static void *blk[MAX];
    static int where[MAX];
    size_t n = 0, i, free0;
    int last = 0, order_ok = 1, align_ok = 1;
    HeapStats_t s;

    vPortDefineHeapRegions(regions);
    CHECK_EQ(h_asserts, 0);
    CHECK_EQ(xRegionCount, 4);
    CHECK(xRegions[1].pucStart == RTINY && xRegions[1].xInHeap == pdFALSE); /* too small */
    CHECK(xRegions[0].pucStart == R0 && xRegions[2].pucStart == R1 && xRegions[3].pucStart == R2);
    CHECK(xRegions[0].xInHeap == pdTRUE && xRegions[2].xInHeap == pdTRUE &&
          xRegions[3].xInHeap == pdTRUE);
    /* one tarn heap over the three usable regions, in the order given */
    REQUIRE(pxHeap != NULL);
    CHECK_EQ(tarn_heap_region_count(pxHeap), 3);
    {
        tarn_heap_region r;
        CHECK(tarn_heap_region_get(pxHeap, 0, &r) == TARN_OK && r.mem == R0 && r.size == 4096);
        CHECK(tarn_heap_region_get(pxHeap, 1, &r) == TARN_OK && r.mem == R1 && r.size == 8192);
        CHECK(tarn_heap_region_get(pxHeap, 2, &r) == TARN_OK && r.mem == R2 && r.size == 32768);
    }
    free0 = xPortGetFreeHeapSize();
    CHECK(free0 > (4096 + 8192 + 32768) * 9 / 10);

    /* 200-byte blocks fill region 0, then 1, then 2: never back to an earlier one */
    while (n < MAX && (blk[n] = pvPortMalloc(200)) != NULL) {
        where[n] = region_of(blk[n]);
        if (where[n] < last || where[n] < 0) order_ok = 0;
        if (((uintptr_t)blk[n] & 31u) != 0) align_ok = 0;
        last = where[n];
        check_fill(blk[n], 200, (uint32_t)n);
        n++;
    }
    CHECK(order_ok);
    CHECK(align_ok);
    CHECK_EQ(tarn_heap_check(pxHeap), TARN_OK);
    {
        unsigned r = 9;
        CHECK(tarn_heap_region_of(pxHeap, blk[0], &r) == TARN_OK && r == 0u);
        CHECK(tarn_heap_region_of(pxHeap, blk[n - 1], &r) == TARN_OK && r == 2u);
    }
    CHECK_EQ(where[0], 0);
    CHECK_EQ(where[n - 1], 2);
    CHECK(n > 150);
    CHECK_EQ(h_hooks, 0);

    vPortGetHeapStats(&s);
    CHECK_EQ(s.xAvailableHeapSpaceInBytes, xPortGetFreeHeapSize());
    /* the heap serves aligned_alloc(32, 200) from any free block of 200 + 32 + one header
     * granule (heap.h); a failed request proves no larger block is left */
    CHECK(s.xSizeOfLargestFreeBlockInBytes < 200 + 32 + TARN_HEAP_GRANULE);
    CHECK_EQ(s.xNumberOfSuccessfulAllocations, n);

    /* two neighbours freed in region 0: a new block is found there first, and it comes
     * back cleared (an over-aligned request may need more than one freed block) */
    i = 3;
    CHECK_EQ(where[i + 1], 0);
    vPortFree(blk[i]);
    vPortFree(blk[i + 1]);
    blk[i + 1] = NULL;
    blk[i] = pvPortMalloc(200);
    REQUIRE(blk[i] != NULL);
    CHECK_EQ(region_of(blk[i]), 0);
    {
        size_t k;
        int zero = 1;
#ifdef TARN_TEST_VALGRIND_
        /* a new block is undefined to Memcheck whatever it holds: read what is there */
        VALGRIND_MAKE_MEM_DEFINED(blk[i], 200);
#endif
        for (k = 0; k < 200; k++) zero &= ((uint8_t *)blk[i])[k] == 0;
        CHECK(zero);
    }
    check_fill(blk[i], 200, (uint32_t)i);

    /* bad frees in each region are refused */
    vPortFree((char *)blk[0] + 32);
    vPortFree((char *)blk[n - 1] + 8);
    vPortFree(RTINY);                         /* a region that was skipped */
    vPortFree(R1 + 8192 + 64);                /* the gap after region 1 */
    vPortFree(R1 + 16);                       /* region 1's control part */
    CHECK_EQ(h_asserts, 5);
    CHECK_EQ(tarn_heap_check(pxHeap), TARN_OK);
    h_asserts = 0;

    for (i = 0; i < n; i++) {
        if (blk[i] == NULL) continue;
        CHECK(check_verify(blk[i], 200, (uint32_t)i));
        vPortFree(blk[i]);
    }
    CHECK_EQ(xPortGetFreeHeapSize(), free0);
    vPortGetHeapStats(&s);
    CHECK_EQ(s.xNumberOfFreeBlocks, 3);       /* one per region */
    CHECK(s.xMinimumEverFreeBytesRemaining <= free0 - n * 200); /* all n were live */
    CHECK_EQ(h_asserts, 0);
    CHECK_EQ(tarn_heap_check(pxHeap), TARN_OK);

    /* a second definition while in use is asserted and ignored */
    vPortDefineHeapRegions(regions);
    CHECK_EQ(h_asserts, 1);
    CHECK_EQ(xPortGetFreeHeapSize(), free0);
    h_asserts = 0;
    CHECK_SUSPENSION_BALANCED();
}

static void test_bad_definitions(void)
{
    const HeapRegion_t descending[] = {{R2, 32768}, {R0, 4096}, {NULL, 0}};
    const HeapRegion_t too_many[] = {
        {R0, 4096}, {RTINY, 64}, {R1, 4096}, {R1 + 4096, 4096}, {R2, 32768}, {NULL, 0}};
    const HeapRegion_t all_tiny[] = {{R0, 16}, {R1, 16}, {NULL, 0}};
    void *p;

    vPortHeapResetState();
    vPortDefineHeapRegions(descending);       /* the out-of-order region is left out */
    CHECK_EQ(h_asserts, 1);
    CHECK_EQ(xRegionCount, 1);
    p = pvPortMalloc(100);
    CHECK(region_of(p) == 2);
    vPortFree(p);

    vPortHeapResetState();
    h_asserts = 0;
    vPortDefineHeapRegions(too_many);         /* 5 regions, room for 4: the last is left out */
    CHECK_EQ(h_asserts, 1);
    CHECK_EQ(xRegionCount, 4);
    p = pvPortMalloc(6000);                   /* fits only in region 2: not given */
    CHECK(p == NULL);
    CHECK_EQ(h_hooks, 0);

    vPortHeapResetState();
    h_asserts = 0;
    vPortDefineHeapRegions(all_tiny);         /* no region can hold a heap */
    CHECK_EQ(h_asserts, 1);
    CHECK(pvPortMalloc(8) == NULL);
    CHECK_EQ(xPortGetFreeHeapSize(), 0);

    vPortHeapResetState();
    h_asserts = 0;
    vPortDefineHeapRegions(NULL);
    CHECK_EQ(h_asserts, 1);
    h_asserts = 0;
    CHECK_SUSPENSION_BALANCED();
}

int main(void)
{
    test_before_regions();
    test_regions_in_order();
    test_bad_definitions();
    return check_done();
}
