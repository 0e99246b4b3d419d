/*
 * smp.c - the SMP API on a tarn heap (see smp.h).
 */
#include "smp.h"

tarn_heap *smp_heap(smp_pool_t *pool)
{
    if (pool == NULL || pool->memory == NULL) return NULL;
    if (pool->heap_ == NULL) {
        tarn_config cfg;
        tarn_heap *h = NULL;
        cfg.lock.lock = NULL;
        cfg.lock.unlock = NULL;
        cfg.lock.ctx = NULL;
        cfg.name = pool->name_;
        cfg.flags = 0u;
        if (tarn_heap_init(&h, pool->memory, pool->bytes_, &cfg) != TARN_OK) return NULL;
        pool->heap_ = h;
    }
    return pool->heap_;
}

smp_ptr_t smp_alloc(smp_pool_t *pool, smp_size_t size)
{
    tarn_heap *h = smp_heap(pool);
    return h != NULL ? tarn_heap_alloc(h, size) : NULL;
}

smp_ptr_t smp_calloc(smp_pool_t *pool, smp_size_t nitems, smp_size_t size)
{
    tarn_heap *h = smp_heap(pool);
    return h != NULL ? tarn_heap_calloc(h, nitems, size) : NULL;
}

void smp_dealloc(smp_pool_t *pool, smp_ptr_t ptr)
{
    tarn_heap *h = smp_heap(pool);
    if (h != NULL && ptr != NULL) (void)tarn_heap_free(h, ptr);
}

smp_size_t smp_size(smp_pool_t *pool, smp_ptr_t ptr)
{
    tarn_heap *h = smp_heap(pool);
    return (h != NULL && ptr != NULL) ? tarn_heap_usable_size(h, ptr) : 0u;
}
