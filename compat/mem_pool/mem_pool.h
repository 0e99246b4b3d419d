/*
 * mem_pool.h - the mem_pool study's API on a tarn heap.
 *
 * pool_init() takes one block from malloc and carves typed, aligned allocations out of it;
 * pool_free() returns them; pool_destroy() gives the block back to the system.  This
 * layer is the only part of tarn that calls malloc, because the study documents that
 * behaviour; the heap itself (include/tarn/heap.h) never does.
 *
 * Capacity: the size asked for (MEM_POOL_SIZE, 1024 unless defined before this header is
 * included; pool_init_size() takes any size) is what the pool stores: one allocation of
 * that many bytes, of any type tag, fits a fresh pool.  The heap's control data comes on
 * top (the malloc'd block, base_address to top_address, is larger; tarn_heap_size_for
 * sizes it).  Each allocation of n bytes takes n + 4 bytes (the size tag, below) rounded
 * up to 8 (TARN_HEAP_GRANULE), plus alignment padding for over-aligned types.
 *
 *     struct m_pool pool = {0};
 *     if (pool_init(&pool) == -1) ...;
 *     int *v = NULL;
 *     if (pool_alloc(&pool, (void **)&v, 5 * sizeof(int), i32) == -1) ...;
 *     pool_free((void **)&v, 5 * sizeof(int), &pool);     // v becomes NULL
 *     pool_destroy(&pool);
 *
 * The type tag chooses the alignment: that of the C type it names (a block is aligned to
 * at least 8 bytes anyway).  pool_free checks that the size given is the size allocated
 * (it is kept in the last 4 bytes of the block's usable room), so a wrong size, a foreign,
 * interior or already-freed pointer is refused with -1 and changes nothing.
 *
 * Every function returns 0 on success and -1 on failure, and never harms the pool on bad
 * input.  Not thread-safe (as the original).
 */
#ifndef MEM_POOL_H
#define MEM_POOL_H

#include <stddef.h>
#include "tarn/heap.h"

#ifdef __cplusplus
extern "C" {
#endif

#ifndef MEM_POOL_SIZE
#define MEM_POOL_SIZE 1024u   /**< bytes pool_init() takes from malloc */
#endif

/** A pool.  Zero it before pool_init ({0}); base_address and top_address are public. */
struct m_pool {
    void *base_address;    /**< first byte of the pool's block (NULL before init) */
    void *top_address;     /**< one past its last byte (control data included) */
    size_t size;           /**< usable capacity asked for (MEM_POOL_SIZE or pool_init_size) */
    tarn_heap *heap;       /**< private: the heap carved in the block */
};

/** Type tags of pool_alloc: each gives the alignment of the type it names. */
enum m_type {
    i8,     /**< int8_t */
    u8,     /**< uint8_t */
    i16,    /**< int16_t */
    u16,    /**< uint16_t */
    i32,    /**< int32_t (and int on 32/64-bit targets) */
    u32,    /**< uint32_t */
    i64,    /**< int64_t */
    u64,    /**< uint64_t */
    f32,    /**< float */
    f64,    /**< double */
    ldbl,   /**< long double */
    s,      /**< char string */
    vp,     /**< void * (any data pointer) */
    fnp,    /**< function pointer */
    sz,     /**< size_t */
    maxal,  /**< anything: the strictest alignment of the above */
    M_TYPE_COUNT_ /**< number of tags; not a tag */
};

/** Alignment (bytes) of a type tag, 0 for an invalid tag. */
size_t pool_type_align(enum m_type type);

/** Create a pool of MEM_POOL_SIZE usable bytes in one block from malloc.  Returns 0, or
 *  -1 if pool is NULL, already initialised (base_address not NULL) or malloc fails. */
int pool_init(struct m_pool *pool);

/** As pool_init with `size` usable bytes.  -1 also when size is 0 or 4 GiB - 8 or more. */
int pool_init_size(struct m_pool *pool, size_t size);

/** Allocate `size` bytes aligned for `type` and store the pointer in *ptr.  O(1).
 *  Returns 0, or -1 (and *ptr unchanged) if pool is not initialised, ptr is NULL, size is
 *  0, type is not a tag, or there is no room. */
int pool_alloc(struct m_pool *pool, void **ptr, size_t size, enum m_type type);

/** Free the block *ptr, allocated with this `size`, and set *ptr to NULL.  O(1).
 *  Returns 0, or -1 (nothing changes) if ptr or *ptr is NULL, pool is not initialised,
 *  *ptr is not a live block of the pool, or size is not the size it was allocated with. */
int pool_free(void **ptr, size_t size, struct m_pool *pool);

/** Give the pool's block back to the system (every allocation ends) and zero the pool.
 *  Returns 0, or -1 if pool is NULL or not initialised. */
int pool_destroy(struct m_pool *pool);

#ifdef __cplusplus
}
#endif

#endif /* MEM_POOL_H */
