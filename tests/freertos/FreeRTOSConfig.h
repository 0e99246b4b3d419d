/*
 * tests/freertos/FreeRTOSConfig.h - configuration for the stand-in FreeRTOS headers.  Each
 * test program defines its own configuration macros before including the heap, so this
 * file only fills in what a test leaves out.
 */
#ifndef FREERTOS_CONFIG_H
#define FREERTOS_CONFIG_H

#ifndef configUSE_MALLOC_FAILED_HOOK
#define configUSE_MALLOC_FAILED_HOOK 1
#endif

#endif /* FREERTOS_CONFIG_H */
