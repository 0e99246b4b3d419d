/*
 * tests/freertos/FreeRTOS.h - a STAND-IN for the FreeRTOS kernel's FreeRTOS.h, written for
 * tarn's tests from FreeRTOS's documented API (the kernel is not a Debian package and
 * tarn does not ship it).  It declares only what a heap implementation uses: the base
 * types, the configuration defaults, and the portable-layer heap API (HeapRegion_t,
 * HeapStats_t, pvPortMalloc...).  A real build uses the kernel's own headers instead.
 */
#ifndef INC_FREERTOS_H
#define INC_FREERTOS_H

#include <stddef.h>
#include <stdint.h>

#include "FreeRTOSConfig.h"

typedef long BaseType_t;
typedef unsigned long UBaseType_t;
#define pdFALSE ((BaseType_t)0)
#define pdTRUE ((BaseType_t)1)

#ifndef configASSERT
#define configASSERT(x) ((void)0)
#endif
#ifndef configUSE_MALLOC_FAILED_HOOK
#define configUSE_MALLOC_FAILED_HOOK 0
#endif
#ifndef configAPPLICATION_ALLOCATED_HEAP
#define configAPPLICATION_ALLOCATED_HEAP 0
#endif
#ifndef configHEAP_CLEAR_MEMORY_ON_FREE
#define configHEAP_CLEAR_MEMORY_ON_FREE 0
#endif
#ifndef portBYTE_ALIGNMENT
#define portBYTE_ALIGNMENT 8
#endif
#ifndef traceMALLOC
#define traceMALLOC(pvAddress, uiSize)
#endif
#ifndef traceFREE
#define traceFREE(pvAddress, uiSize)
#endif
#ifndef PRIVILEGED_FUNCTION
#define PRIVILEGED_FUNCTION
#endif
#ifndef PRIVILEGED_DATA
#define PRIVILEGED_DATA
#endif

/* portable.h: the heap API every heap_N.c implements */
typedef struct HeapRegion {
    uint8_t *pucStartAddress;
    size_t xSizeInBytes;
} HeapRegion_t;

typedef struct xHeapStats {
    size_t xAvailableHeapSpaceInBytes;
    size_t xSizeOfLargestFreeBlockInBytes;
    size_t xSizeOfSmallestFreeBlockInBytes;
    size_t xNumberOfFreeBlocks;
    size_t xMinimumEverFreeBytesRemaining;
    size_t xNumberOfSuccessfulAllocations;
    size_t xNumberOfSuccessfulFrees;
} HeapStats_t;

void vPortDefineHeapRegions(const HeapRegion_t *const pxHeapRegions) PRIVILEGED_FUNCTION;
void vPortGetHeapStats(HeapStats_t *pxHeapStats);
void *pvPortMalloc(size_t xWantedSize) PRIVILEGED_FUNCTION;
void *pvPortCalloc(size_t xNum, size_t xSize) PRIVILEGED_FUNCTION;
void vPortFree(void *pv) PRIVILEGED_FUNCTION;
void vPortInitialiseBlocks(void) PRIVILEGED_FUNCTION;
size_t xPortGetFreeHeapSize(void) PRIVILEGED_FUNCTION;
size_t xPortGetMinimumEverFreeHeapSize(void) PRIVILEGED_FUNCTION;
void xPortResetHeapMinimumEverFreeHeapSize(void) PRIVILEGED_FUNCTION;
void vPortHeapResetState(void) PRIVILEGED_FUNCTION;

#endif /* INC_FREERTOS_H */
