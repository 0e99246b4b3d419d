/*
 * compat/mynewt/os/queue.h - the singly-linked list (SLIST) and singly-linked tail queue
 * (STAILQ) macros that Mynewt's "os/queue.h" gives its users (BSD queue(3) semantics),
 * written for tarn's Mynewt layer.  struct os_mempool's free list (SLIST_FIRST(mp),
 * linked through struct os_memblock's mb_next) and its list entry (mp_list) use them.
 *
 * Each macro is defined only if it is not defined yet, so a system <sys/queue.h>
 * included first keeps its own (equivalent) definitions.
 */
#ifndef TARN_COMPAT_OS_QUEUE_H
#define TARN_COMPAT_OS_QUEUE_H

#include <stddef.h>

/* ---- SLIST: a head pointer; elements linked forward ------------------------------------ */
#ifndef SLIST_HEAD
/** Declare `struct name`, the head of a list of `struct type`. */
#define SLIST_HEAD(name, type) struct name { struct type *slh_first; }
#endif
#ifndef SLIST_HEAD_INITIALIZER
/** Initialiser of an empty SLIST head. */
#define SLIST_HEAD_INITIALIZER(head) { NULL }
#endif
#ifndef SLIST_ENTRY
/** The link member an element of an SLIST of `struct type` carries. */
#define SLIST_ENTRY(type) struct { struct type *sle_next; }
#endif
#ifndef SLIST_FIRST
/** First element, or NULL. */
#define SLIST_FIRST(head) ((head)->slh_first)
#endif
#ifndef SLIST_NEXT
/** Element after elm, or NULL. */
#define SLIST_NEXT(elm, field) ((elm)->field.sle_next)
#endif
#ifndef SLIST_EMPTY
/** True if the list has no element. */
#define SLIST_EMPTY(head) (SLIST_FIRST(head) == NULL)
#endif
#ifndef SLIST_INIT
/** Make the list empty. */
#define SLIST_INIT(head) do { SLIST_FIRST(head) = NULL; } while (0)
#endif
#ifndef SLIST_FOREACH
/** Visit every element in order (var is the element). */
#define SLIST_FOREACH(var, head, field) \
    for ((var) = SLIST_FIRST(head); (var) != NULL; (var) = SLIST_NEXT((var), field))
#endif
#ifndef SLIST_INSERT_HEAD
/** Put elm first. */
#define SLIST_INSERT_HEAD(head, elm, field)               \
    do {                                                  \
        SLIST_NEXT((elm), field) = SLIST_FIRST(head);     \
        SLIST_FIRST(head) = (elm);                        \
    } while (0)
#endif
#ifndef SLIST_INSERT_AFTER
/** Put elm right after slistelm. */
#define SLIST_INSERT_AFTER(slistelm, elm, field)                  \
    do {                                                          \
        SLIST_NEXT((elm), field) = SLIST_NEXT((slistelm), field); \
        SLIST_NEXT((slistelm), field) = (elm);                    \
    } while (0)
#endif
#ifndef SLIST_REMOVE_HEAD
/** Take the first element off (the list must not be empty). */
#define SLIST_REMOVE_HEAD(head, field) \
    do { SLIST_FIRST(head) = SLIST_NEXT(SLIST_FIRST(head), field); } while (0)
#endif
#ifndef SLIST_REMOVE
/** Take elm (which must be on the list) off: O(position of elm). */
#define SLIST_REMOVE(head, elm, type, field)                                   \
    do {                                                                       \
        if (SLIST_FIRST(head) == (elm)) {                                      \
            SLIST_REMOVE_HEAD((head), field);                                  \
        } else {                                                               \
            struct type *slist_prev_ = SLIST_FIRST(head);                      \
            while (SLIST_NEXT(slist_prev_, field) != (elm)) {                  \
                slist_prev_ = SLIST_NEXT(slist_prev_, field);                  \
            }                                                                  \
            SLIST_NEXT(slist_prev_, field) = SLIST_NEXT((elm), field);         \
        }                                                                      \
    } while (0)
#endif

/* ---- STAILQ: head and tail; elements linked forward ------------------------------------ */
#ifndef STAILQ_HEAD
/** Declare `struct name`, the head of a tail queue of `struct type`. */
#define STAILQ_HEAD(name, type) struct name { struct type *stqh_first; struct type **stqh_last; }
#endif
#ifndef STAILQ_HEAD_INITIALIZER
/** Initialiser of an empty STAILQ head named head. */
#define STAILQ_HEAD_INITIALIZER(head) { NULL, &(head).stqh_first }
#endif
#ifndef STAILQ_ENTRY
/** The link member an element of an STAILQ of `struct type` carries. */
#define STAILQ_ENTRY(type) struct { struct type *stqe_next; }
#endif
#ifndef STAILQ_FIRST
/** First element, or NULL. */
#define STAILQ_FIRST(head) ((head)->stqh_first)
#endif
#ifndef STAILQ_NEXT
/** Element after elm, or NULL. */
#define STAILQ_NEXT(elm, field) ((elm)->field.stqe_next)
#endif
#ifndef STAILQ_EMPTY
/** True if the queue has no element. */
#define STAILQ_EMPTY(head) (STAILQ_FIRST(head) == NULL)
#endif
#ifndef STAILQ_INIT
/** Make the queue empty. */
#define STAILQ_INIT(head)                           \
    do {                                            \
        STAILQ_FIRST(head) = NULL;                  \
        (head)->stqh_last = &STAILQ_FIRST(head);    \
    } while (0)
#endif
#ifndef STAILQ_FOREACH
/** Visit every element in order (var is the element). */
#define STAILQ_FOREACH(var, head, field) \
    for ((var) = STAILQ_FIRST(head); (var) != NULL; (var) = STAILQ_NEXT((var), field))
#endif
#ifndef STAILQ_LAST
/** Last element of a queue of `struct type`, or NULL. */
#define STAILQ_LAST(head, type, field)                                                    \
    (STAILQ_EMPTY(head) ? NULL                                                            \
                        : (struct type *)(void *)((char *)((head)->stqh_last) -          \
                                                  offsetof(struct type, field)))
#endif
#ifndef STAILQ_INSERT_HEAD
/** Put elm first. */
#define STAILQ_INSERT_HEAD(head, elm, field)                                  \
    do {                                                                      \
        if ((STAILQ_NEXT((elm), field) = STAILQ_FIRST(head)) == NULL) {        \
            (head)->stqh_last = &STAILQ_NEXT((elm), field);                   \
        }                                                                     \
        STAILQ_FIRST(head) = (elm);                                           \
    } while (0)
#endif
#ifndef STAILQ_INSERT_TAIL
/** Put elm last. */
#define STAILQ_INSERT_TAIL(head, elm, field)                  \
    do {                                                      \
        STAILQ_NEXT((elm), field) = NULL;                     \
        *(head)->stqh_last = (elm);                           \
        (head)->stqh_last = &STAILQ_NEXT((elm), field);       \
    } while (0)
#endif
#ifndef STAILQ_INSERT_AFTER
/** Put elm right after tqelm. */
#define STAILQ_INSERT_AFTER(head, tqelm, elm, field)                                 \
    do {                                                                             \
        if ((STAILQ_NEXT((elm), field) = STAILQ_NEXT((tqelm), field)) == NULL) {      \
            (head)->stqh_last = &STAILQ_NEXT((elm), field);                          \
        }                                                                            \
        STAILQ_NEXT((tqelm), field) = (elm);                                         \
    } while (0)
#endif
#ifndef STAILQ_REMOVE_HEAD
/** Take the first element off (the queue must not be empty). */
#define STAILQ_REMOVE_HEAD(head, field)                                               \
    do {                                                                              \
        if ((STAILQ_FIRST(head) = STAILQ_NEXT(STAILQ_FIRST(head), field)) == NULL) {   \
            (head)->stqh_last = &STAILQ_FIRST(head);                                  \
        }                                                                             \
    } while (0)
#endif
#ifndef STAILQ_REMOVE_HEAD_UNTIL
/** Take every element up to and including elm off the front. */
#define STAILQ_REMOVE_HEAD_UNTIL(head, elm, field)                              \
    do {                                                                        \
        if ((STAILQ_FIRST(head) = STAILQ_NEXT((elm), field)) == NULL) {         \
            (head)->stqh_last = &STAILQ_FIRST(head);                            \
        }                                                                       \
    } while (0)
#endif
#ifndef STAILQ_REMOVE_AFTER
/** Take the element after elm off (there must be one). */
#define STAILQ_REMOVE_AFTER(head, elm, field)                                              \
    do {                                                                                   \
        if ((STAILQ_NEXT((elm), field) = STAILQ_NEXT(STAILQ_NEXT((elm), field), field)) == \
            NULL) {                                                                        \
            (head)->stqh_last = &STAILQ_NEXT((elm), field);                                \
        }                                                                                  \
    } while (0)
#endif
#ifndef STAILQ_REMOVE
/** Take elm (which must be on the queue) off: O(position of elm). */
#define STAILQ_REMOVE(head, elm, type, field)                                  \
    do {                                                                       \
        if (STAILQ_FIRST(head) == (elm)) {                                     \
            STAILQ_REMOVE_HEAD((head), field);                                 \
        } else {                                                               \
            struct type *stailq_prev_ = STAILQ_FIRST(head);                    \
            while (STAILQ_NEXT(stailq_prev_, field) != (elm)) {                \
                stailq_prev_ = STAILQ_NEXT(stailq_prev_, field);               \
            }                                                                  \
            STAILQ_REMOVE_AFTER((head), stailq_prev_, field);                  \
        }                                                                      \
    } while (0)
#endif

#endif /* TARN_COMPAT_OS_QUEUE_H */
