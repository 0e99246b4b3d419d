/*
 * ports/freertos/heap_tarn.c - FreeRTOS's heap on tarn: a drop-in replacement for the
 * kernel's portable/MemMang/heap_1.c .. heap_5.c.  Add this file (instead of heap_N.c),
 * tarn's src/heap.c and src/tarn.c, and tarn's include/ folder to the build; nothing
 * else changes.
 *
 * Where the heap lives:
 *   - configTOTAL_HEAP_SIZE > 0: in ucHeap[configTOTAL_HEAP_SIZE], defined here, or by
 *     the application when configAPPLICATION_ALLOCATED_HEAP is 1 (to place it in a
 *     chosen memory section);
 *   - heap_5 style: vPortDefineHeapRegions() before the first allocation hands over up
 *     to configTARN_HEAP_MAX_REGIONS (default and at most TARN_HEAP_MAX_REGIONS, 4)
 *     regions, in ascending address order and served in that order (a request goes to
 *     the first region with room).  They become one tarn heap: the first region large
 *     enough for a heap is given to tarn_heap_init, every later one to
 *     tarn_heap_add_region (a region too small for one, TARN_HEAP_MIN_SIZE, is left
 *     out).  ucHeap is then not used: leave configTOTAL_HEAP_SIZE undefined or 0 to not
 *     reserve it.
 *   The heap is created on the first call that needs it, as FreeRTOS's heaps do.
 *
 * Every call that touches the heap runs with the scheduler suspended
 * (vTaskSuspendAll / xTaskResumeAll), as in FreeRTOS's own heaps; like them these
 * functions must not be called from an interrupt.  Each call is O(1) in the heap's size
 * (tarn's heap: a free finds its region with at most one range comparison per region,
 * an allocation tries the next region only when the ones before have no room);
 * vPortGetHeapStats walks the blocks (O(blocks)) for the smallest free block.
 *
 * Behaviour, compared with heap_4/heap_5:
 *   - pvPortMalloc(0) and a failed request return NULL and, with
 *     configUSE_MALLOC_FAILED_HOOK 1, call vApplicationMallocFailedHook() after the
 *     scheduler is resumed.  pvPortCalloc also calls it when xNum * xSize overflows.
 *   - vPortFree of a pointer that is not a live block (double free, foreign or interior
 *     pointer) is refused by tarn and changes nothing; configASSERT() then fails.
 *   - xPortGetFreeHeapSize and the minimum ever free count the usable bytes of the live
 *     blocks, as tarn's statistics do (tarn_heap_stats.free, over every region);
 *     a block costs its size rounded up to 8 bytes plus an 8-byte header.
 *   - alignment: tarn's granule (8 bytes); a larger portBYTE_ALIGNMENT is honoured with
 *     tarn_heap_aligned_alloc.
 *   - configHEAP_CLEAR_MEMORY_ON_FREE 1 clears freed blocks (TARN_HEAP_F_CLEAR_FREED) and
 *     hands out zeroed blocks (tarn's own links and headers live in free memory).
 *   - vPortInitialiseBlocks() empties the heap (heap_1's meaning: every block handed out
 *     becomes invalid); vPortHeapResetState() also forgets the regions, so that
 *     vPortDefineHeapRegions() may be called again (both for tests and restarts).
 *   - traceMALLOC / traceFREE are called with the scheduler suspended.
 */
#include <string.h>

/* Lets the MPU port's headers map the API to the privileged functions, as heap_N.c do. */
#define MPU_WRAPPERS_INCLUDED_FROM_API_FILE
#include "FreeRTOS.h"
#include "task.h"
#undef MPU_WRAPPERS_INCLUDED_FROM_API_FILE

#include "tarn/heap.h"

#ifndef configTARN_HEAP_MAX_REGIONS
#define configTARN_HEAP_MAX_REGIONS TARN_HEAP_MAX_REGIONS
#endif
#if configTARN_HEAP_MAX_REGIONS > TARN_HEAP_MAX_REGIONS
#error "configTARN_HEAP_MAX_REGIONS exceeds TARN_HEAP_MAX_REGIONS: raise that in tarn's config too"
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
#ifndef traceMALLOC
#define traceMALLOC(pvAddress, uiSize)
#endif
#ifndef traceFREE
#define traceFREE(pvAddress, uiSize)
#endif
#ifndef PRIVILEGED_DATA
#define PRIVILEGED_DATA
#endif

#if configUSE_MALLOC_FAILED_HOOK == 1
extern void vApplicationMallocFailedHook(void);   /* the application's */
#endif
/* Declared by the kernel's portable.h from FreeRTOS 11.1 on; declared here for older
 * kernels. */
void vPortHeapResetState(void);

#if defined(configTOTAL_HEAP_SIZE) && ((configTOTAL_HEAP_SIZE) > 0)
#define TARN_FREERTOS_UCHEAP 1
#if configAPPLICATION_ALLOCATED_HEAP == 1
extern uint8_t ucHeap[configTOTAL_HEAP_SIZE];
#else
PRIVILEGED_DATA static uint8_t ucHeap[configTOTAL_HEAP_SIZE];
#endif
#else
#define TARN_FREERTOS_UCHEAP 0
#endif

/* The regions as given (or ucHeap), and the one tarn heap over them. */
typedef struct TarnRegion {
    uint8_t *pucStart;   /* the region as given */
    size_t xSize;
    BaseType_t xInHeap;  /* pdTRUE once it is part of the heap (pdFALSE: too small) */
} TarnRegion_t;

PRIVILEGED_DATA static TarnRegion_t xRegions[configTARN_HEAP_MAX_REGIONS];
PRIVILEGED_DATA static size_t xRegionCount;      /* regions given (or ucHeap) */
PRIVILEGED_DATA static tarn_heap *pxHeap;         /* NULL until the heap is set up */
PRIVILEGED_DATA static size_t xFreeBytes;         /* tarn's `free` */
PRIVILEGED_DATA static size_t xMinEverFreeBytes;

/* Set up the heap if not done yet: the first region that can hold a heap is region 0,
 * the next ones are added in order.  Called with the scheduler suspended. */
static void prvHeapInit(void)
{
    size_t i;
    tarn_config cfg = {{NULL, NULL, NULL}, "freertos", 0u};
    tarn_heap_stats st;
    if (pxHeap != NULL) {
        return;
    }
#if configHEAP_CLEAR_MEMORY_ON_FREE == 1
    cfg.flags = TARN_HEAP_F_CLEAR_FREED;
#endif
#if TARN_FREERTOS_UCHEAP
    if (xRegionCount == 0u) {
        xRegions[0].pucStart = ucHeap;
        xRegions[0].xSize = sizeof ucHeap;
        xRegionCount = 1u;
    }
#endif
    for (i = 0; i < xRegionCount; i++) {
        TarnRegion_t *r = &xRegions[i];
        if (pxHeap == NULL) {
            r->xInHeap = (tarn_heap_init(&pxHeap, r->pucStart, r->xSize, &cfg) == TARN_OK)
                             ? pdTRUE
                             : pdFALSE;
        } else {
            r->xInHeap = (tarn_heap_add_region(pxHeap, r->pucStart, r->xSize, 0u) == TARN_OK)
                             ? pdTRUE
                             : pdFALSE;
        }
    }
    xFreeBytes = 0u;
    if (pxHeap != NULL && tarn_heap_stats_get(pxHeap, &st) == TARN_OK) {
        xFreeBytes = st.free;
    }
    xMinEverFreeBytes = xFreeBytes;
}

void vPortDefineHeapRegions(const HeapRegion_t *const pxHeapRegions)
{
    size_t n = 0;
    uintptr_t prev_end = 0;
    /* Only before the first allocation, and only once (vPortHeapResetState undoes it). */
    configASSERT(pxHeap == NULL);
    configASSERT(pxHeapRegions != NULL);
    if (pxHeap != NULL || pxHeapRegions == NULL) {
        return;
    }
    xRegionCount = 0u;
    for (; pxHeapRegions[n].xSizeInBytes > 0u; n++) {
        const HeapRegion_t *r = &pxHeapRegions[n];
        /* heap_5's rules: ascending addresses, and room for every region given. */
        configASSERT((uintptr_t)r->pucStartAddress >= prev_end);
        configASSERT(xRegionCount < (size_t)configTARN_HEAP_MAX_REGIONS);
        if ((uintptr_t)r->pucStartAddress < prev_end ||
            xRegionCount >= (size_t)configTARN_HEAP_MAX_REGIONS) {
            continue;
        }
        prev_end = (uintptr_t)r->pucStartAddress + r->xSizeInBytes;
        xRegions[xRegionCount].pucStart = r->pucStartAddress;
        xRegions[xRegionCount].xSize = r->xSizeInBytes;
        xRegions[xRegionCount].xInHeap = pdFALSE;
        xRegionCount++;
    }
    vTaskSuspendAll();
    prvHeapInit();
    (void)xTaskResumeAll();
    /* At least one region large enough for a tarn heap (TARN_HEAP_MIN_SIZE). */
    configASSERT(pxHeap != NULL);
}

void *pvPortMalloc(size_t xWantedSize)
{
    void *pvReturn = NULL;
    vTaskSuspendAll();
    {
        prvHeapInit();
        /* No ucHeap and vPortDefineHeapRegions() not called: nothing to allocate from. */
        configASSERT(xRegionCount > 0u);
        if (xWantedSize > 0u && pxHeap != NULL) {
            tarn_heap *h = pxHeap;
            /* a constant test: tarn's granule already gives up to 8 (or TARN_ALIGN) bytes */
            if ((size_t)portBYTE_ALIGNMENT > TARN_HEAP_GRANULE) {
                pvReturn = tarn_heap_aligned_alloc(h, (size_t)portBYTE_ALIGNMENT, xWantedSize);
            } else {
                pvReturn = tarn_heap_alloc(h, xWantedSize);
            }
            if (pvReturn != NULL) {
#if configHEAP_CLEAR_MEMORY_ON_FREE == 1
                /* freed data is cleared by tarn; this also clears the heap's own links
                 * and merged headers, so no byte of an earlier block comes back */
                (void)memset(pvReturn, 0, tarn_heap_usable_size(h, pvReturn));
#endif
                xFreeBytes -= tarn_heap_usable_size(h, pvReturn);
                if (xFreeBytes < xMinEverFreeBytes) {
                    xMinEverFreeBytes = xFreeBytes;
                }
            }
        }
        traceMALLOC(pvReturn, xWantedSize);
    }
    (void)xTaskResumeAll();
#if configUSE_MALLOC_FAILED_HOOK == 1
    if (pvReturn == NULL) {
        vApplicationMallocFailedHook();
    }
#endif
    return pvReturn;
}

void *pvPortCalloc(size_t xNum, size_t xSize)
{
    void *pv;
    if (xSize != 0u && xNum > (size_t)-1 / xSize) {
#if configUSE_MALLOC_FAILED_HOOK == 1
        vApplicationMallocFailedHook();
#endif
        return NULL;
    }
    pv = pvPortMalloc(xNum * xSize);
    if (pv != NULL) {
        (void)memset(pv, 0, xNum * xSize);
    }
    return pv;
}

void vPortFree(void *pv)
{
    tarn_status st = TARN_OK;
    if (pv == NULL) {
        return;
    }
    vTaskSuspendAll();
    {
        size_t n = 0u;
        if (pxHeap == NULL) {
            st = TARN_EFOREIGN;
        } else {
            n = tarn_heap_usable_size(pxHeap, pv);   /* 0 and refused below if pv is bad */
            st = tarn_heap_free(pxHeap, pv);
        }
        if (st == TARN_OK) {
            xFreeBytes += n;
            traceFREE(pv, n);
        }
    }
    (void)xTaskResumeAll();
    /* Not a live block of this heap (double free, foreign or interior pointer): refused,
     * nothing changed. */
    configASSERT(st == TARN_OK);
}

size_t xPortGetFreeHeapSize(void)
{
    size_t n;
    vTaskSuspendAll();
    prvHeapInit();
    n = xFreeBytes;
    (void)xTaskResumeAll();
    return n;
}

size_t xPortGetMinimumEverFreeHeapSize(void)
{
    size_t n;
    vTaskSuspendAll();
    prvHeapInit();
    n = xMinEverFreeBytes;
    (void)xTaskResumeAll();
    return n;
}

void xPortResetHeapMinimumEverFreeHeapSize(void)
{
    vTaskSuspendAll();
    prvHeapInit();
    xMinEverFreeBytes = xFreeBytes;
    (void)xTaskResumeAll();
}

/* Walk callback: the smallest free block seen so far. */
static bool prvSmallestFree(void *ctx, void *block, size_t size, bool used)
{
    size_t *smallest = (size_t *)ctx;
    (void)block;
    /* as tarn's largest_free: what the block can hold (less canary mode's guard) */
    size = (size > TARN_HEAP_EXTRA) ? size - TARN_HEAP_EXTRA : 0u;
    if (!used && size < *smallest) {
        *smallest = size;
    }
    return true;
}

void vPortGetHeapStats(HeapStats_t *pxHeapStats)
{
    size_t smallest = (size_t)-1;
    HeapStats_t s;
    (void)memset(&s, 0, sizeof s);
    vTaskSuspendAll();
    {
        tarn_heap_stats st;
        prvHeapInit();
        if (pxHeap != NULL && tarn_heap_stats_get(pxHeap, &st) == TARN_OK) {
            s.xAvailableHeapSpaceInBytes = st.free;
            s.xSizeOfLargestFreeBlockInBytes = st.largest_free;
            s.xNumberOfFreeBlocks = st.free_blocks;
            s.xNumberOfSuccessfulAllocations = st.total_allocs;
            s.xNumberOfSuccessfulFrees = st.total_frees;
            if (st.free_blocks > 0u) {
                (void)tarn_heap_walk(pxHeap, prvSmallestFree, &smallest);   /* every region */
            }
        }
        s.xSizeOfSmallestFreeBlockInBytes = (s.xNumberOfFreeBlocks > 0u) ? smallest : 0u;
        s.xMinimumEverFreeBytesRemaining = xMinEverFreeBytes;
    }
    (void)xTaskResumeAll();
    *pxHeapStats = s;
}

/* Forget every block: the regions are set up again, empty, on the next call. */
void vPortInitialiseBlocks(void)
{
    size_t i;
    vTaskSuspendAll();
    if (pxHeap != NULL) {
        (void)tarn_heap_destroy(pxHeap);     /* every region */
        pxHeap = NULL;
    }
    for (i = 0; i < xRegionCount; i++) {
        xRegions[i].xInHeap = pdFALSE;
    }
    xFreeBytes = 0u;
    xMinEverFreeBytes = 0u;
    (void)xTaskResumeAll();
}

/* Forget every block and the regions (vPortDefineHeapRegions may be called again). */
void vPortHeapResetState(void)
{
    vPortInitialiseBlocks();
    xRegionCount = 0u;
}
