/*
 * ports/libc/tarn_malloc.h - the C library's malloc served by one tarn heap
 * (ports/libc/tarn_malloc.c): what a program may call besides the standard functions.
 *
 * Link tarn_malloc.c (with tarn's src/heap.c and src/tarn.c) into a program and its
 * malloc, free, calloc, realloc, aligned_alloc, posix_memalign, memalign, valloc,
 * pvalloc, reallocarray and malloc_usable_size - and on newlib the reentrant _malloc_r
 * family that the C library itself calls - are tarn's.  Nothing else changes.
 *
 * Built with TARN_MALLOC_PREFIX defined (e.g. -DTARN_MALLOC_PREFIX=tarn_libc_) the same
 * functions get that prefix (tarn_libc_malloc, ...) and the C library's own stay in
 * place: for tests, or to run both side by side.
 */
#ifndef TARN_PORTS_LIBC_MALLOC_H
#define TARN_PORTS_LIBC_MALLOC_H

#include <stddef.h>

#include "tarn/heap.h"

#ifdef __cplusplus
extern "C" {
#endif

#ifdef TARN_MALLOC_PREFIX
#define TARN_MALLOC_CAT2_(a, b) a##b
#define TARN_MALLOC_CAT_(a, b) TARN_MALLOC_CAT2_(a, b)
/** Name of a standard function as this build defines it (prefixed for tests). */
#define TARN_MALLOC_NAME(n) TARN_MALLOC_CAT_(TARN_MALLOC_PREFIX, n)
#else
#define TARN_MALLOC_NAME(n) n
#endif

/* The standard functions (C, POSIX, glibc/newlib extensions), as the C library's
 * headers declare them.  Each is O(1) worst case (calloc also clears the block), takes
 * the malloc lock once, and sets errno as the C library does (ENOMEM; EINVAL for a bad
 * alignment).  Not ISR-safe unless the lock is. */
void *TARN_MALLOC_NAME(malloc)(size_t size);
void TARN_MALLOC_NAME(free)(void *p);
void *TARN_MALLOC_NAME(calloc)(size_t nmemb, size_t size);
void *TARN_MALLOC_NAME(realloc)(void *p, size_t size);
void *TARN_MALLOC_NAME(reallocarray)(void *p, size_t nmemb, size_t size);
void *TARN_MALLOC_NAME(aligned_alloc)(size_t alignment, size_t size);
int TARN_MALLOC_NAME(posix_memalign)(void **out, size_t alignment, size_t size);
void *TARN_MALLOC_NAME(memalign)(size_t alignment, size_t size);
void *TARN_MALLOC_NAME(valloc)(size_t size);
void *TARN_MALLOC_NAME(pvalloc)(size_t size);
size_t TARN_MALLOC_NAME(malloc_usable_size)(void *p);

/**
 * Place the heap in mem[0..size) instead of its default place (the static array of
 * TARN_MALLOC_HEAP_SIZE bytes, or the linker-given range on bare metal).  Call it before
 * the first allocation (before main's first malloc, and before any C library call that
 * allocates, such as the first printf on newlib).  O(size / 256).  Errors: TARN_EBUSY
 * (the heap is already set up), TARN_EINVAL (mem NULL), TARN_ETOOSMALL (size below
 * TARN_HEAP_MIN_SIZE).  Not ISR-safe; takes the malloc lock.
 */
tarn_status tarn_malloc_use(void *mem, size_t size);

/**
 * Give malloc more memory: mem[0..size) becomes a region of the heap
 * (tarn_heap_add_region), served when the regions before it have no room; `caps` are its
 * capabilities (0, or TARN_CAP_* bits that tarn_heap_alloc_caps(tarn_malloc_heap(), ...)
 * can ask for).  May be called at any time, also after allocations (the heap is set up
 * in its default place first if it is not yet).  O(size / 256).  Errors: those of
 * tarn_heap_add_region (TARN_EINVAL, TARN_EOVERFLOW, TARN_ETOOSMALL), TARN_ENOMEM (no
 * heap could be set up).  Not ISR-safe; takes the malloc lock.
 */
tarn_status tarn_malloc_add_region(void *mem, size_t size, uint32_t caps);

/**
 * The tarn heap behind malloc (set up on the first call if needed), for tarn_heap_stats_get,
 * tarn_heap_check and tarn_heap_walk; NULL if no heap could be set up.  Calls on it do not
 * take the malloc lock: call them when no other thread allocates, or under the lock
 * (newlib: __malloc_lock).  O(1) after the first call.
 */
tarn_heap *tarn_malloc_heap(void);

/**
 * Pointers handed to free/realloc that were not live blocks of the
 * heap (double frees, foreign or interior pointers): refused, nothing changed, counted
 * here.  Built with TARN_MALLOC_ABORT_ON_BAD_FREE 1 (the host preload build), such a
 * pointer aborts the program instead, as glibc does.  O(1).
 */
size_t tarn_malloc_bad_frees(void);

#ifdef __cplusplus
}
#endif

#endif /* TARN_PORTS_LIBC_MALLOC_H */
