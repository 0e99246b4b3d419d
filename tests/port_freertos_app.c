/*
 * tests/port_freertos_app.c - ports/freertos/heap_tarn.c with
 * configAPPLICATION_ALLOCATED_HEAP 1: the application defines ucHeap (here in a section
 * of its choosing) and the heap must use exactly that array.  Stand-in FreeRTOS headers:
 * see tests/freertos/FreeRTOS.h.
 */
#include "check.h"

#define configTOTAL_HEAP_SIZE 4096u
#define configAPPLICATION_ALLOCATED_HEAP 1
#include "harness.h"

#if defined(__ELF__)
__attribute__((section(".bss.app_heap"), aligned(8)))
#endif
uint8_t ucHeap[configTOTAL_HEAP_SIZE];

#include "../ports/freertos/heap_tarn.c"

int main(void)
{
    void *blk[64];
    size_t n = 0, i, free0;
    unsigned long hooks0;
    free0 = xPortGetFreeHeapSize();
    {   /* all of ucHeap but tarn's control structure and bitmaps */
        static uint8_t probe[configTOTAL_HEAP_SIZE] __attribute__((aligned(8)));
        tarn_heap *ph;
        tarn_heap_stats ps;
        REQUIRE(tarn_heap_init(&ph, probe, sizeof probe, NULL) == TARN_OK);
        REQUIRE(tarn_heap_stats_get(ph, &ps) == TARN_OK);
        CHECK_EQ(free0, ps.free);
        CHECK(free0 > configTOTAL_HEAP_SIZE / 2u && free0 < configTOTAL_HEAP_SIZE);
    }
    CHECK(xRegions[0].pucStart == ucHeap);
    hooks0 = h_hooks;
    while (n < 64 && (blk[n] = pvPortMalloc(100)) != NULL) {
        CHECK((uint8_t *)blk[n] >= ucHeap && (uint8_t *)blk[n] + 100 <= ucHeap + sizeof ucHeap);
        n++;
    }
    CHECK(n >= free0 / TARN_HEAP_BLOCK_BYTES(100u) - 1u);
    CHECK(n < 64);
    CHECK_EQ(h_hooks, hooks0 + 1);
    for (i = 0; i < n; i++) vPortFree(blk[i]);
    CHECK_EQ(xPortGetFreeHeapSize(), free0);
    CHECK_EQ(h_asserts, 0);
    CHECK_SUSPENSION_BALANCED();
    return check_done();
}
