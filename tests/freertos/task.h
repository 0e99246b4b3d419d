/*
 * tests/freertos/task.h - a STAND-IN for the FreeRTOS kernel's task.h (see FreeRTOS.h
 * here): the scheduler-suspension and malloc-failed-hook declarations a heap uses.  The
 * test programs define these functions themselves to watch how the heap calls them.
 */
#ifndef INC_TASK_H
#define INC_TASK_H

#ifndef INC_FREERTOS_H
#error "include FreeRTOS.h must appear in source files before include task.h"
#endif

void vTaskSuspendAll(void);
BaseType_t xTaskResumeAll(void);
void vApplicationMallocFailedHook(void);

#endif /* INC_TASK_H */
