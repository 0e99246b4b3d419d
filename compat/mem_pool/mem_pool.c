/*
 * mem_pool.c - the mem_pool study's API on a tarn heap (see mem_pool.h).
 *
 * A block of `size` bytes requested as type T is a heap block of at least size + 4 bytes
 * aligned to alignof(T); the requested size sits in the last 4 bytes of its usable room,
 * where pool_free reads it back to check the size it is given.
 */
#include <stdlib.h>
#include <string.h>
#include <stdint.h>

#include "mem_pool.h"

/* alignof(T) in C99: the offset of T after a char */
typedef void (*m_fn_ptr)(void);
#define M_ALIGN_OF(T) offsetof(struct { char c_; T t_; }, t_)

size_t pool_type_align(enum m_type type)
{
    switch (type) {
    case i8: return M_ALIGN_OF(int8_t);
    case u8: return M_ALIGN_OF(uint8_t);
    case i16: return M_ALIGN_OF(int16_t);
    case u16: return M_ALIGN_OF(uint16_t);
    case i32: return M_ALIGN_OF(int32_t);
    case u32: return M_ALIGN_OF(uint32_t);
    case i64: return M_ALIGN_OF(int64_t);
    case u64: return M_ALIGN_OF(uint64_t);
    case f32: return M_ALIGN_OF(float);
    case f64: return M_ALIGN_OF(double);
    case ldbl: return M_ALIGN_OF(long double);
    case s: return 1u;
    case vp: return M_ALIGN_OF(void *);
    case fnp: return M_ALIGN_OF(m_fn_ptr);
    case sz: return M_ALIGN_OF(size_t);
    case maxal: return M_ALIGN_OF(tarn_heap_align_);
    default: return 0u;
    }
}

static int pool_ready(const struct m_pool *pool)
{
    return pool != NULL && pool->base_address != NULL && pool->heap != NULL;
}

/* Buffer bytes for a pool whose one block must hold `need` bytes with `extra` bytes of
 * room for alignment: tarn_heap_size_for gives the buffer on which that one request
 * cannot fail.  0 if it does not fit in size_t. */
static size_t pool_bytes_for(size_t need, size_t extra)
{
    size_t bytes;
    if (need > SIZE_MAX - extra) return 0u;
    bytes = tarn_heap_size_for(need + extra, need + extra, 1u);
    return bytes > need + extra ? bytes : 0u;   /* below the request: an overflow, refused */
}

int pool_init_size(struct m_pool *pool, size_t size)
{
    /* one allocation of `size` bytes and its tag, of the strictest type alignment, must fit
     * a fresh pool: the heap's over-aligned allocations need some room to align (at
     * least 7 granules and the alignment, include/tarn/heap.h); the result is verified
     * and the room doubled until it fits */
    size_t align = pool_type_align(maxal), need, extra, bytes;
    int attempt;
    if (pool == NULL || pool->base_address != NULL || size == 0u || size > (size_t)UINT32_MAX - 8u) {
        return -1;
    }
    need = size + sizeof(uint32_t);
    extra = align > TARN_HEAP_GRANULE ? align + 7u * TARN_HEAP_GRANULE : 0u;
    for (attempt = 0; attempt < 8; attempt++) {
        tarn_heap *h = NULL;
        void *mem, *probe;
        bytes = pool_bytes_for(need, extra);
        if (bytes == 0u) return -1;
        mem = malloc(bytes);
        if (mem == NULL) return -1;
        if (tarn_heap_init(&h, mem, bytes, NULL) == TARN_OK) {
            probe = tarn_heap_aligned_alloc(h, align, need);
            if (probe != NULL && tarn_heap_free(h, probe) == TARN_OK) {
                pool->base_address = mem;
                pool->top_address = (unsigned char *)mem + bytes;
                pool->size = size;
                pool->heap = h;
                return 0;
            }
            (void)tarn_heap_destroy(h);
        }
        free(mem);
        extra = extra * 2u + TARN_HEAP_GRANULE;
    }
    return -1;
}

int pool_init(struct m_pool *pool)
{
    return pool_init_size(pool, MEM_POOL_SIZE);
}

int pool_alloc(struct m_pool *pool, void **ptr, size_t size, enum m_type type)
{
    size_t align = pool_type_align(type), room;
    unsigned char *p;
    uint32_t tag;
    if (!pool_ready(pool) || ptr == NULL || size == 0u || align == 0u) return -1;
    if (size > (size_t)UINT32_MAX - 8u) return -1;
    p = (unsigned char *)tarn_heap_aligned_alloc(pool->heap, align, size + sizeof tag);
    if (p == NULL) return -1;
    room = tarn_heap_usable_size(pool->heap, p);
    tag = (uint32_t)size;
    memcpy(p + room - sizeof tag, &tag, sizeof tag);
    *ptr = p;
    return 0;
}

int pool_free(void **ptr, size_t size, struct m_pool *pool)
{
    unsigned char *p;
    size_t room;
    uint32_t tag;
    if (ptr == NULL || *ptr == NULL || !pool_ready(pool)) return -1;
    p = (unsigned char *)*ptr;
    room = tarn_heap_usable_size(pool->heap, p);   /* 0 unless a live block of the pool */
    if (room < sizeof tag) return -1;
    memcpy(&tag, p + room - sizeof tag, sizeof tag);
    if ((size_t)tag != size || size > room - sizeof tag) return -1;
    if (tarn_heap_free(pool->heap, p) != TARN_OK) return -1;
    *ptr = NULL;
    return 0;
}

int pool_destroy(struct m_pool *pool)
{
    if (!pool_ready(pool)) return -1;
    (void)tarn_heap_destroy(pool->heap);
    free(pool->base_address);
    pool->base_address = NULL;
    pool->top_address = NULL;
    pool->size = 0u;
    pool->heap = NULL;
    return 0;
}
