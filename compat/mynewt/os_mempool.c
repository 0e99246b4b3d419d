/*
 * compat/mynewt/os_mempool.c - Mynewt os_mempool on tarn block pools (see os_mempool.h).
 */
#include "os_mempool.h"

#include <stddef.h>
#include <string.h>

static tarn_block_registry mynewt_pools = TARN_BLOCK_REGISTRY_INIT;
static tarn_lock mynewt_lock;

#define MP_OF(tp) ((struct os_mempool *)(void *)((char *)(tp) - offsetof(struct os_mempool, tarn_pool_)))

void os_mempool_set_lock(const tarn_lock *lock)
{
    tarn_lock none = {NULL, NULL, NULL};
    mynewt_lock = (lock != NULL) ? *lock : none;
    (void)tarn_block_registry_init(&mynewt_pools, &mynewt_lock);
}

/* Keep the fields Mynewt code reads directly true after every call. */
static void mp_sync(struct os_mempool *mp)
{
    tarn_block_stats st;
    if (tarn_block_stats_get(&mp->tarn_pool_, &st) != TARN_OK) return;
    mp->mp_num_free = (uint16_t)st.free;
    mp->mp_min_free = (uint16_t)st.min_free;
    mp->slh_first = (struct os_memblock *)tarn_block_next_free(&mp->tarn_pool_);
}

static os_error_t os_err(tarn_status st)
{
    switch (st) {
    case TARN_OK: return OS_OK;
    case TARN_ENOMEM: return OS_ENOMEM;
    case TARN_EALIGN: return OS_MEM_NOT_ALIGNED;
    case TARN_ENOENT: return OS_ENOENT;
    case TARN_EBUSY: return OS_EBUSY;
    default: return OS_INVALID_PARM;
    }
}

os_error_t os_mempool_init(struct os_mempool *mp, uint16_t blocks, uint32_t block_size,
                           void *membuf, char *name)
{
    tarn_config cfg;
    tarn_status st;
    if (mp == NULL || block_size == 0 || (membuf == NULL && blocks != 0)) return OS_INVALID_PARM;
    if (membuf != NULL && !TARN_IS_ALIGNED(membuf, OS_ALIGNMENT)) return OS_MEM_NOT_ALIGNED;
    /* Re-initialising a registered pool must not leave it in the list twice. */
    if (mp->tarn_pool_.registry == &mynewt_pools) {
        (void)tarn_block_unregister(&mynewt_pools, &mp->tarn_pool_);
    }
    memset(mp, 0, sizeof *mp);
    memset(&cfg, 0, sizeof cfg);
    cfg.lock = mynewt_lock;
    cfg.name = name;
    if (blocks != 0) {
        /* tarn pools span less than 4 GiB: refuse, before the buffer is touched, a count
         * that would not fit rather than give fewer blocks */
        uint64_t rounded = (((uint64_t)block_size + TARN_ALIGN - 1u) & ~(uint64_t)(TARN_ALIGN - 1u)) +
                           TARN_BLOCK_GUARD_BYTES;
        if ((uint64_t)blocks * rounded > UINT32_MAX) {
            return OS_INVALID_PARM;
        }
        st = tarn_block_init(&mp->tarn_pool_, membuf,
                             TARN_BLOCK_POOL_BYTES(blocks, OS_MEMPOOL_BLOCK_SZ_(block_size)),
                             OS_MEMPOOL_BLOCK_SZ_(block_size), &cfg);
        if (st != TARN_OK) return os_err(st);
    } else {
        /* an empty pool: every get fails, every put is foreign, clear is a no-op */
        mp->tarn_pool_.name = name;
        mp->tarn_pool_.lock = mynewt_lock;
    }
    mp->mp_block_size = block_size;
    mp->mp_num_blocks = blocks;
    mp->mp_membuf_addr = (uintptr_t)membuf;
    mp->name = name;
    mp_sync(mp);
    (void)tarn_block_register(&mynewt_pools, &mp->tarn_pool_);
    return OS_OK;
}

os_error_t os_mempool_ext_init(struct os_mempool_ext *mpe, uint16_t blocks,
                               uint32_t block_size, void *membuf, char *name)
{
    os_error_t rc;
    if (mpe == NULL) return OS_INVALID_PARM;
    rc = os_mempool_init(&mpe->mpe_mp, blocks, block_size, membuf, name);
    if (rc != OS_OK) return rc;
    mpe->mpe_mp.mp_flags = OS_MEMPOOL_F_EXT;
    mpe->mpe_put_cb = NULL;
    mpe->mpe_put_arg = NULL;
    return OS_OK;
}

os_error_t os_mempool_unregister(struct os_mempool *mp)
{
    if (mp == NULL) return OS_INVALID_PARM;
    return (tarn_block_unregister(&mynewt_pools, &mp->tarn_pool_) == TARN_OK) ? OS_OK
                                                                              : OS_INVALID_PARM;
}

os_error_t os_mempool_clear(struct os_mempool *mp)
{
    if (mp == NULL) return OS_INVALID_PARM;
    (void)tarn_block_clear(&mp->tarn_pool_);
    mp_sync(mp);
    return OS_OK;
}

bool os_mempool_is_sane(const struct os_mempool *mp)
{
    if (mp == NULL) return false;
    return tarn_block_check((tarn_block_pool *)&mp->tarn_pool_) == TARN_OK;
}

int os_memblock_from(const struct os_mempool *mp, const void *block_addr)
{
    return (mp != NULL && tarn_block_owns(&mp->tarn_pool_, block_addr)) ? 1 : 0;
}

void *os_memblock_get(struct os_mempool *mp)
{
    void *b;
    if (mp == NULL) return NULL;
    b = tarn_block_get(&mp->tarn_pool_);
    mp_sync(mp);
    return b;
}

os_error_t os_memblock_put_from_cb(struct os_mempool *mp, void *block_addr)
{
    tarn_status st;
    if (mp == NULL || block_addr == NULL) return OS_INVALID_PARM;
    st = tarn_block_put_from_cb(&mp->tarn_pool_, block_addr);
    mp_sync(mp);
    return os_err(st);
}

os_error_t os_memblock_put(struct os_mempool *mp, void *block_addr)
{
    struct os_mempool_ext *mpe;
    tarn_status st;
    if (mp == NULL || block_addr == NULL) return OS_INVALID_PARM;
    if ((mp->mp_flags & OS_MEMPOOL_F_EXT) != 0) {
        mpe = (struct os_mempool_ext *)(void *)mp;
        if (mpe->mpe_put_cb != NULL) {
            /* Validate first: a bad block never reaches the application's callback. */
            st = tarn_block_validate(&mp->tarn_pool_, block_addr);
            if (st != TARN_OK) return os_err(st);
            return mpe->mpe_put_cb(mpe, block_addr, mpe->mpe_put_arg);
        }
    }
    return os_memblock_put_from_cb(mp, block_addr);
}

static void fill_info(const struct os_mempool *mp, struct os_mempool_info *info)
{
    const char *n = (mp->name != NULL) ? mp->name : "";
    size_t i;
    info->omi_block_size = (int)mp->mp_block_size;
    info->omi_num_blocks = (int)mp->mp_num_blocks;
    info->omi_num_free = (int)mp->mp_num_free;
    info->omi_min_free = (int)mp->mp_min_free;
    for (i = 0; i + 1 < sizeof info->omi_name && n[i] != '\0'; i++) info->omi_name[i] = n[i];
    info->omi_name[i] = '\0';
}

struct os_mempool *os_mempool_info_get_next(struct os_mempool *mp, struct os_mempool_info *info)
{
    tarn_block_pool *next = tarn_block_registry_next(&mynewt_pools, mp ? &mp->tarn_pool_ : NULL);
    if (next == NULL) return NULL;
    if (info != NULL) fill_info(MP_OF(next), info);
    return MP_OF(next);
}

struct os_mempool *os_mempool_get(const char *mempool_name, struct os_mempool_info *info)
{
    tarn_block_pool *tp = tarn_block_find(&mynewt_pools, mempool_name);
    if (tp == NULL) return NULL;
    if (info != NULL) fill_info(MP_OF(tp), info);
    return MP_OF(tp);
}
