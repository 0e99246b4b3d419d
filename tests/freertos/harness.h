/*
 * tests/freertos/harness.h - the kernel side of the stand-in FreeRTOS for the tests of
 * ports/freertos/heap_tarn.c.  Include it after defining the test's configuration and
 * before the heap: it supplies configASSERT, traceMALLOC/traceFREE, vTaskSuspendAll,
 * xTaskResumeAll and vApplicationMallocFailedHook, each recording how it was called, so
 * the tests can check that every heap call runs with the scheduler suspended, resumes it
 * exactly as often, calls the failed hook after resuming, and asserts on bad frees.
 */
#ifndef TARN_TESTS_FREERTOS_HARNESS_H
#define TARN_TESTS_FREERTOS_HARNESS_H

#include <stddef.h>

static unsigned long h_asserts;          /* configASSERT failures */
static unsigned long h_suspends, h_resumes;
static int h_depth, h_max_depth;         /* current and deepest suspension nesting */
static unsigned long h_bad_resume;       /* xTaskResumeAll without a suspend */
static unsigned long h_hooks;            /* vApplicationMallocFailedHook calls */
static unsigned long h_hook_while_suspended;
static unsigned long h_traces_unsuspended; /* trace macro run while not suspended */
static unsigned long h_trace_mallocs, h_trace_frees;
static size_t h_trace_last_size;

#define configASSERT(x) do { if (!(x)) { h_asserts++; } } while (0)
#define traceMALLOC(p, n) do { h_trace_mallocs++; h_trace_last_size = (n); \
        if (h_depth == 0) { h_traces_unsuspended++; } (void)(p); } while (0)
#define traceFREE(p, n) do { h_trace_frees++; h_trace_last_size = (n); \
        if (h_depth == 0) { h_traces_unsuspended++; } (void)(p); } while (0)

#include "FreeRTOS.h"
#include "task.h"

void vTaskSuspendAll(void)
{
    h_suspends++;
    if (++h_depth > h_max_depth) {
        h_max_depth = h_depth;
    }
}

BaseType_t xTaskResumeAll(void)
{
    h_resumes++;
    if (h_depth == 0) {
        h_bad_resume++;
    } else {
        h_depth--;
    }
    return pdFALSE;
}

void vApplicationMallocFailedHook(void)
{
    h_hooks++;
    if (h_depth != 0) {
        h_hook_while_suspended++;
    }
}

/* Balanced suspension: as many resumes as suspends, never nested, none left open. */
#define CHECK_SUSPENSION_BALANCED()                                                  \
    do {                                                                             \
        CHECK_EQ(h_suspends, h_resumes);                                             \
        CHECK_EQ(h_depth, 0);                                                        \
        CHECK(h_max_depth <= 1);                                                     \
        CHECK_EQ(h_bad_resume, 0);                                                   \
        CHECK_EQ(h_hook_while_suspended, 0);                                         \
        CHECK_EQ(h_traces_unsuspended, 0);                                           \
    } while (0)

#endif /* TARN_TESTS_FREERTOS_HARNESS_H */
