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
    CHECK(free0 > 3500 && free0 < configTOTAL_HEAP_SIZE);
    CHECK(xRegions[0].pucStart == ucHeap);
    hooks0 = h_hooks;
    while (n < 64 && (blk[n] = pvPortMalloc(100)) != NULL) {
        CHECK((uint8_t *)blk[n] >= ucHeap && (uint8_t *)blk[n] + 100 <= ucHeap + sizeof ucHeap);
        n++;
    }
    CHECK(n >= 3500 / 104);
    CHECK(n < 64);
    CHECK_EQ(h_hooks, hooks0 + 1);
    for (i = 0; i < n; i++) vPortFree(blk[i]);
    CHECK_EQ(xPortGetFreeHeapSize(), free0);
    CHECK_EQ(h_asserts, 0);
    CHECK_SUSPENSION_BALANCED();
    return check_done();
}
