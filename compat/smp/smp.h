/*
 * smp.h - the SMP (Static Memory Pool) API on a tarn heap.
 *
 * Pools are fixed at compile time by macros that also generate a per-pool API:
 *
 *     #include "smp.h"
 *     SMP_POOL_WITH_API(my_pool, 512);          // 512 bytes of blocks, static
 *     void *data = my_pool_alloc(128);          // NULL on failure
 *     my_pool_dealloc(data);
 *
 * Each pool is a tarn heap (include/tarn/heap.h): O(1) alloc and dealloc, free neighbours
 * merged at once, blocks aligned to TARN_HEAP_GRANULE (8 bytes).  Capacity: `pool_size`
 * is what the pool stores; a fresh pool serves one allocation of pool_size bytes, and
 * the heap's control structure and bitmaps come on top of it (the static buffer is
 * TARN_HEAP_BYTES(pool_size) bytes; the original kept a 12-byte header per block inside
 * pool_size).  Blocks carry no header: each costs its size rounded up to 8.  A pool is
 * initialised on its first use.
 *
 * Names: SMP_API generates exactly the original's pool_name_alloc, _calloc and _dealloc;
 * the size query is smp_size(&pool, ptr).
 *
 * Bad input never harms a pool: a NULL or unknown pool, a zero size, an overflowing
 * calloc give NULL (or 0 from smp_size); smp_dealloc ignores NULL, foreign, interior and
 * already-freed pointers (smp_heap() gives the tarn heap for the reason, through
 * tarn_heap_last_error, and for every other tarn_heap_* function).
 *
 * Thread safety: none (as the original); for a shared pool call smp_heap() once at
 * start-up and guard calls with your own lock.
 */
#ifndef SMP_H
#define SMP_H

#include <stddef.h>
#include "tarn/heap.h"

#ifdef __cplusplus
extern "C" {
#endif

/** A pointer to pool memory. */
typedef void *smp_ptr_t;
/** A size in bytes. */
typedef size_t smp_size_t;
/** A byte of pool memory. */
typedef unsigned char smp_byte_t;

/** A pool.  Declare with SMP_POOL; read-only for users, the fields ending in _ private. */
typedef struct smp_pool {
    smp_byte_t *memory;  /**< the static buffer */
    smp_size_t size;     /**< pool_size as declared: what one allocation may take */
    smp_size_t bytes_;   /**< size of the buffer, TARN_HEAP_BYTES(pool_size) */
    const char *name_;   /**< the pool's name, for the heap's diagnostics */
    tarn_heap *heap_;    /**< NULL until the first use */
} smp_pool_t;

/* SMP_POOL and SMP_API are complete definitions: like the original's, they may be written
 * with or without a trailing semicolon.  Under GCC and Clang each ends with __extension__,
 * which makes a following `;` an empty declaration that -Wpedantic accepts, and is
 * harmless before the next declaration; elsewhere they end with the definition itself.
 * Use them at file scope, as the seed does (a function body does not accept the tail). */
#if defined(__GNUC__) || defined(__clang__)
#define SMP_TAIL_ __extension__
#else
#define SMP_TAIL_
#endif

/** Create a static pool `pool_name` in which one allocation of `pool_size` bytes fits
 *  (the heap's control data comes on top: the buffer is TARN_HEAP_BYTES(pool_size)). */
#define SMP_POOL(pool_name, pool_size)                                                  \
    static union {                                                                      \
        tarn_heap_align_ align_;                                                        \
        smp_byte_t b[TARN_HEAP_BYTES(pool_size)];                                       \
    } pool_name##_smp_mem_;                                                             \
    static smp_pool_t pool_name = {pool_name##_smp_mem_.b, (smp_size_t)(pool_size),     \
                                   sizeof pool_name##_smp_mem_.b, #pool_name, NULL};    \
    SMP_TAIL_

/** Generate pool_name_alloc(size), pool_name_calloc(nitems, size) and
 *  pool_name_dealloc(ptr) (the original's three) for a pool declared by SMP_POOL. */
#define SMP_API(pool_name)                                                              \
    static inline TARN_HEAP_MAYBE_UNUSED_ smp_ptr_t pool_name##_alloc(smp_size_t size)   \
    {                                                                                   \
        return smp_alloc(&(pool_name), size);                                           \
    }                                                                                   \
    static inline TARN_HEAP_MAYBE_UNUSED_ smp_ptr_t pool_name##_calloc(smp_size_t nitems, \
                                                                     smp_size_t size)   \
    {                                                                                   \
        return smp_calloc(&(pool_name), nitems, size);                                  \
    }                                                                                   \
    static inline TARN_HEAP_MAYBE_UNUSED_ void pool_name##_dealloc(smp_ptr_t ptr)       \
    {                                                                                   \
        smp_dealloc(&(pool_name), ptr);                                                 \
    }                                                                                   \
    SMP_TAIL_

/** SMP_POOL and SMP_API together. */
#define SMP_POOL_WITH_API(pool_name, pool_size) \
    SMP_POOL(pool_name, pool_size)              \
    SMP_API(pool_name)

/** Allocate `size` bytes from the pool.  O(1).  NULL if the pool is NULL, size is 0,
 *  or there is no room. */
smp_ptr_t smp_alloc(smp_pool_t *pool, smp_size_t size);

/** Allocate nitems * size bytes set to zero.  NULL as smp_alloc, or if the product
 *  overflows. */
smp_ptr_t smp_calloc(smp_pool_t *pool, smp_size_t nitems, smp_size_t size);

/** Return a block to the pool; free neighbours are merged at once.  O(1).  NULL,
 *  foreign, interior and already-freed pointers are ignored and change nothing. */
void smp_dealloc(smp_pool_t *pool, smp_ptr_t ptr);

/** Usable size of a block of the pool (at least what was asked for); 0 for anything
 *  that is not a live block of the pool.  O(1). */
smp_size_t smp_size(smp_pool_t *pool, smp_ptr_t ptr);

/** Extension: the tarn heap behind the pool (initialising it if needed), for
 *  diagnostics (tarn_heap_stats_get, tarn_heap_check, tarn_heap_last_error...).
 *  NULL if the pool is NULL or its buffer cannot hold a heap. */
tarn_heap *smp_heap(smp_pool_t *pool);

#ifdef __cplusplus
}
#endif

#endif /* SMP_H */
