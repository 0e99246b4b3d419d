/*
 * ports/freertos/tarn_freertos.h - example tarn lock hooks for FreeRTOS (documented
 * example; not compiled by tarn's build, which has no FreeRTOS).  Two choices:
 *
 * 1. Critical section: for pools used by tasks AND interrupt handlers.  Masks interrupts
 *    up to configMAX_SYSCALL_INTERRUPT_PRIORITY (ISRs above it must not use the pool, as
 *    they must not call FreeRTOS).  Short: fine for the block pool and the heap, whose
 *    operations are O(1).  On SMP FreeRTOS it also takes the kernel's cross-core lock.
 *    xPortIsInsideInterrupt() exists in the ARM Cortex-M ports; elsewhere use two
 *    configs, or a flag you set in your ISR wrappers.
 *
 *        static tarn_freertos_crit rx_crit;
 *        tarn_config cfg = { TARN_FREERTOS_CRIT_HOOK(&rx_crit), "rx", 0 };
 *
 * 2. Mutex: for pools used by tasks only, when one operation may be long (handle-pool
 *    compaction, external-memory operations over a slow bus).  Priority inheritance
 *    included; never from an ISR.
 *
 *        static StaticSemaphore_t heap_mutex_buf;
 *        SemaphoreHandle_t heap_mutex = xSemaphoreCreateMutexStatic(&heap_mutex_buf);
 *        tarn_config cfg = { TARN_FREERTOS_MUTEX_HOOK(heap_mutex), "heap", 0 };
 */
#ifndef TARN_PORTS_FREERTOS_H
#define TARN_PORTS_FREERTOS_H

#include "FreeRTOS.h"
#include "task.h"
#include "semphr.h"

#include "tarn/tarn.h"

typedef struct tarn_freertos_crit {
    UBaseType_t saved;   /* ISR mask saved by the holder: only the holder touches it */
    BaseType_t in_isr;   /* how the holder entered, so unlock leaves the same way */
} tarn_freertos_crit;

static inline void tarn_freertos_crit_lock(void *ctx)
{
    tarn_freertos_crit *c = (tarn_freertos_crit *)ctx;
    if (xPortIsInsideInterrupt() == pdTRUE) {
        UBaseType_t saved = taskENTER_CRITICAL_FROM_ISR();
        c->saved = saved;          /* written only once we hold the section */
        c->in_isr = pdTRUE;
    } else {
        taskENTER_CRITICAL();
        c->in_isr = pdFALSE;
    }
}

static inline void tarn_freertos_crit_unlock(void *ctx)
{
    tarn_freertos_crit *c = (tarn_freertos_crit *)ctx;
    if (c->in_isr == pdTRUE) {
        taskEXIT_CRITICAL_FROM_ISR(c->saved);
    } else {
        taskEXIT_CRITICAL();
    }
}

#define TARN_FREERTOS_CRIT_HOOK(c) {tarn_freertos_crit_lock, tarn_freertos_crit_unlock, (void *)(c)}

static inline void tarn_freertos_mutex_lock(void *ctx)
{
    (void)xSemaphoreTake((SemaphoreHandle_t)ctx, portMAX_DELAY);
}

static inline void tarn_freertos_mutex_unlock(void *ctx)
{
    (void)xSemaphoreGive((SemaphoreHandle_t)ctx);
}

#define TARN_FREERTOS_MUTEX_HOOK(m) {tarn_freertos_mutex_lock, tarn_freertos_mutex_unlock, (void *)(m)}

#endif /* TARN_PORTS_FREERTOS_H */
