/*
 * ckremm.c - the ckreMM API on tarn (see ckremm.h).
 *
 * h_pool: a control block followed by a tarn heap over the rest of the same memory:
 *
 *   [ pad to a pointer | struct h_pool (CKREMM_H_POOL_HEADER bytes) | tarn heap ........ ]
 *
 * t_pool: a control block followed by a tarn handle pool over the rest of the memory:
 *
 *   [ struct t_pool (CKREMM_T_POOL_HEADER bytes) | handle table | data area ............ ]
 *
 * Each t_pool block is a handle-pool block of CKREMM_T_PREFIX + size bytes whose prefix
 * holds the block's handle; the pointer ckreMM code gets is the byte after the prefix.  A
 * pointer handed back is checked in O(1): it must lie in the pool's memory, on the
 * alignment; the handle read before it must be live, and that block's data must start
 * exactly there.
 *
 * Each control block records whether the memory came from malloc (`owned`) and carries a
 * magic number so that a destroyed caller-buffer pool is refused.
 */
#include "ckremm.h"

#include <string.h>
#ifndef CKREMM_NO_MALLOC
#include <stdlib.h>
#endif

/* Compile-time check of a layout rule (C99: a negative array size fails). */
#define CKREMM_STATIC_ASSERT(cond, name) typedef char name[(cond) ? 1 : -1] // NOLINT(bugprone-macro-parentheses): a declarator name

#define CKREMM_T_MAGIC 0x744B5254u
#define CKREMM_H_MAGIC 0x684B5248u

/* ---- h_pool ------------------------------------------------------------------------------ */
struct h_pool {
    tarn_heap *heap;
    void *owned;     /* memory to free() on destroy, or NULL for a caller buffer */
    uint32_t magic;  /* CKREMM_H_MAGIC while the pool lives */
};

CKREMM_STATIC_ASSERT(sizeof(struct h_pool) <= CKREMM_H_POOL_HEADER, ckremm_h_pool_fits);

static bool h_ok(const h_pool *pool)
{
    return pool != NULL && pool->magic == CKREMM_H_MAGIC;
}

h_pool *create_h_pool_in(void *mem, size_t mem_size, const tarn_lock *lock)
{
    size_t pad;
    h_pool *pool;
    tarn_config cfg;
    if (mem == NULL) return NULL;
    pad = (size_t)(TARN_ALIGN_UP((uintptr_t)mem, sizeof(void *)) - (uintptr_t)mem);
    if (mem_size < pad + CKREMM_H_POOL_HEADER + TARN_HEAP_MIN_SIZE) return NULL;
    pool = (h_pool *)(void *)((unsigned char *)mem + pad);
    memset(&cfg, 0, sizeof cfg);
    cfg.name = "h_pool";
    if (lock != NULL) cfg.lock = *lock;
    memset(pool, 0, sizeof *pool);
    if (tarn_heap_init(&pool->heap, (unsigned char *)pool + CKREMM_H_POOL_HEADER,
                       mem_size - pad - CKREMM_H_POOL_HEADER, &cfg) != TARN_OK) {
        return NULL;
    }
    pool->owned = NULL;
    pool->magic = CKREMM_H_MAGIC;
    return pool;
}

#ifndef CKREMM_NO_MALLOC
h_pool *create_h_pool_ex(size_t size, const tarn_lock *lock)
{
    /* `size` is the usable capacity: the heap's control data, the pool's control block
     * and the alignment padding come on top.  tarn_heap_size_for(size, size, 1) is a
     * buffer on which one request of `size` bytes cannot fail. */
    size_t heap_bytes, fixed = (sizeof(void *) - 1u) + CKREMM_H_POOL_HEADER, bytes;
    void *mem;
    h_pool *pool;
    if (size == 0u) return NULL;
    heap_bytes = tarn_heap_size_for(size, size, 1u);
    /* (a result below the request is an overflow in the sizing: refused as too large) */
    if (heap_bytes <= size || heap_bytes > SIZE_MAX - fixed) return NULL;
    bytes = fixed + heap_bytes;
    mem = malloc(bytes);
    if (mem == NULL) return NULL;
    pool = create_h_pool_in(mem, bytes, lock);
    if (pool == NULL) {
        free(mem);
        return NULL;
    }
    pool->owned = mem;
    return pool;
}

h_pool *create_h_pool(size_t size)
{
    return create_h_pool_ex(size, NULL);
}
#endif

void *h_pool_alloc(poolh *pool, size_t size)
{
    return h_ok(pool) ? tarn_heap_alloc(pool->heap, size) : NULL;
}

bool h_pool_dealloc(h_pool *pool, void *ptr)
{
    return h_ok(pool) && tarn_heap_free(pool->heap, ptr) == TARN_OK;
}

bool destroy_h_pool(h_pool *pool)
{
    void *owned;
    if (!h_ok(pool)) return false;
    if (tarn_heap_destroy(pool->heap) != TARN_OK) return false;
    owned = pool->owned;
    pool->magic = 0;
#ifndef CKREMM_NO_MALLOC
    free(owned);
#else
    (void)owned;
#endif
    return true;
}

bool clean_h_ptr(h_pool *pool, void *ptr)
{
    size_t n;
    if (!h_ok(pool)) return false;
    n = tarn_heap_usable_size(pool->heap, ptr);
    if (n == 0u) return false;
    memset(ptr, 0, n);
    return true;
}

bool reorder_h_mem(h_pool *pool)
{
    /* nothing to move (see ckremm.h): the result says whether the pool is sound */
    return h_ok(pool) && tarn_heap_sane(pool->heap) == TARN_OK;
}

size_t h_pool_size(h_pool *pool, const void *ptr)
{
    return h_ok(pool) ? tarn_heap_usable_size(pool->heap, ptr) : 0u;
}

tarn_heap *h_pool_tarn(h_pool *pool)
{
    return h_ok(pool) ? pool->heap : NULL;
}

/* ---- t_pool ------------------------------------------------------------------------------ */

struct t_pool {
    tarn_handle_pool hp;
    void *owned;              /* memory to free() on destroy, or NULL for a caller buffer */
    unsigned char *lo, *hi;   /* the memory after the control block: table and data area */
    uint32_t magic;           /* CKREMM_T_MAGIC while the pool lives */
};

/* The control block fits its documented room and keeps the table behind it aligned. */
CKREMM_STATIC_ASSERT(sizeof(struct t_pool) <= CKREMM_T_POOL_HEADER, ckremm_t_pool_fits);
CKREMM_STATIC_ASSERT(CKREMM_T_POOL_HEADER % TARN_ALIGN == 0, ckremm_t_pool_aligned);
CKREMM_STATIC_ASSERT(CKREMM_T_PREFIX >= sizeof(uint32_t), ckremm_t_prefix_holds_a_handle);

static bool t_ok(const t_pool *pool)
{
    return pool != NULL && pool->magic == CKREMM_T_MAGIC;
}

/* Handles for a buffer of `bytes` (after the control block): one per 32 bytes of the data
 * area that remains once their table is taken out. */
static size_t t_default_handles(size_t bytes)
{
    size_t fixed = TARN_HANDLE_CTL_SIZE + TARN_HANDLE_ENTRY_SIZE, n;
    if (bytes < fixed + 32u + TARN_HANDLE_ENTRY_SIZE) return 1u;
    n = (bytes - fixed) / (32u + TARN_HANDLE_ENTRY_SIZE); /* >= 1 */
    if (n > TARN_HANDLE_MAX_COUNT) n = TARN_HANDLE_MAX_COUNT;
    return n;
}

t_pool *create_pool_in(void *mem, size_t mem_size, size_t handles, const tarn_lock *lock)
{
    t_pool *pool = (t_pool *)mem;
    tarn_config cfg;
    size_t rest;
    if (mem == NULL || !TARN_IS_ALIGNED(mem, TARN_ALIGN) || mem_size <= CKREMM_T_POOL_HEADER) {
        return NULL;
    }
    rest = mem_size - CKREMM_T_POOL_HEADER;
    if (handles == 0u) handles = t_default_handles(rest);
    memset(&cfg, 0, sizeof cfg);
    cfg.name = "t_pool";
    if (lock != NULL) cfg.lock = *lock;
    memset(pool, 0, sizeof *pool);
    if (tarn_handle_init(&pool->hp, (unsigned char *)mem + CKREMM_T_POOL_HEADER, rest, handles,
                         &cfg) != TARN_OK) {
        return NULL;
    }
    pool->owned = NULL;
    pool->lo = (unsigned char *)mem + CKREMM_T_POOL_HEADER;
    pool->hi = (unsigned char *)mem + mem_size;
    pool->magic = CKREMM_T_MAGIC;
    return pool;
}

#ifndef CKREMM_NO_MALLOC
t_pool *create_pool_ex(size_t size, size_t handles, const tarn_lock *lock)
{
    size_t bytes;
    void *mem;
    t_pool *pool;
    if (size == 0u || size > TARN_HANDLE_MAX_DATA - TARN_HANDLE_GUARD - CKREMM_T_PREFIX) {
        return NULL;
    }
    if (handles == 0u) handles = CKREMM_T_DEFAULT_HANDLES(size);
    if (handles > TARN_HANDLE_MAX_COUNT) return NULL;
    bytes = CKREMM_T_POOL_BYTES(CKREMM_T_BLOCK_BYTES(size), handles); /* one block fits */
    mem = malloc(bytes); /* malloc's alignment covers TARN_ALIGN on every supported host */
    if (mem == NULL) return NULL;
    pool = create_pool_in(mem, bytes, handles, lock);
    if (pool == NULL) {
        free(mem);
        return NULL;
    }
    pool->owned = mem;
    return pool;
}

t_pool *create_pool(size_t size)
{
    return create_pool_ex(size, 0, NULL);
}
#endif

/* The data of block h, pinned (t_unpin undoes it), or NULL for a bad handle. */
static unsigned char *t_pin(t_pool *pool, t_handle h)
{
    unsigned char *b = (unsigned char *)tarn_handle_lock(&pool->hp, h);
    return b != NULL ? b + CKREMM_T_PREFIX : NULL;
}
static void t_unpin(t_pool *pool, t_handle h)
{
    (void)tarn_handle_unlock(&pool->hp, h);
}

/* Write h's handle into the prefix of its block: the block's data address (valid until
 * the next reorder), or NULL for a bad handle.  After an alloc, and after the handle
 * pool's clear and copy, which write the whole block, prefix included. */
static unsigned char *t_stamp(t_pool *pool, t_handle h)
{
    unsigned char *d = t_pin(pool, h);
    uint32_t v = tarn_handle_to_u32(h);
    if (d == NULL) return NULL;
    memset(d - CKREMM_T_PREFIX, 0, CKREMM_T_PREFIX);
    memcpy(d - CKREMM_T_PREFIX, &v, sizeof v);
    t_unpin(pool, h);
    return d;
}

/* Allocate a block of `size` bytes and stamp it: the handle (null on failure), and the
 * block's data address in *data. */
static t_handle t_new(t_pool *pool, size_t size, unsigned char **data)
{
    t_handle h;
    *data = NULL;
    if (!t_ok(pool) || size == 0u || size > (size_t)-1 - CKREMM_T_PREFIX) return tarn_handle_null();
    h = tarn_handle_alloc(&pool->hp, size + CKREMM_T_PREFIX);
    *data = t_stamp(pool, h);
    return *data != NULL ? h : tarn_handle_null();
}

t_handle t_pool_alloc_handle(t_pool *pool, size_t size)
{
    unsigned char *d;
    return t_new(pool, size, &d);
}

void *t_pool_ptr(t_pool *pool, t_handle h)
{
    unsigned char *d;
    if (!t_ok(pool)) return NULL;
    d = t_pin(pool, h);
    if (d != NULL) t_unpin(pool, h);   /* (the address holds until the next reorder) */
    return d;
}

void *t_pool_alloc(t_pool *pool, size_t size)
{
    unsigned char *d;
    (void)t_new(pool, size, &d);
    return d;
}

t_handle t_pool_handle_of(t_pool *pool, const void *ptr)
{
    const unsigned char *p = (const unsigned char *)ptr;
    uint32_t v;
    t_handle h;
    if (!t_ok(pool) || p == NULL) return tarn_handle_null();
    /* in the pool's memory with room for the prefix before it, and aligned: the read of
     * the prefix stays inside the pool (the tools may keep it closed: a free region) */
    if ((uintptr_t)p < (uintptr_t)pool->lo + CKREMM_T_PREFIX || (uintptr_t)p >= (uintptr_t)pool->hi ||
        !TARN_IS_ALIGNED(p, TARN_ALIGN)) {
        return tarn_handle_null();
    }
    tarn_mem_peek(&v, p - CKREMM_T_PREFIX, sizeof v);
    h = tarn_handle_from_u32(v);
    /* a live handle whose block's data starts exactly at ptr (anything else read there
     * - user data, a stale or forged handle - names no block or another one) */
    return t_pool_ptr(pool, h) == p ? h : tarn_handle_null();
}

bool t_pool_dealloc_handle(t_pool *pool, t_handle h)
{
    return t_ok(pool) && tarn_handle_free(&pool->hp, h) == TARN_OK;
}

bool t_pool_dealloc(t_pool *pool, void *ptr)
{
    return t_pool_dealloc_handle(pool, t_pool_handle_of(pool, ptr));
}

bool destroy_t_pool(t_pool *pool)
{
    void *owned;
    if (!t_ok(pool)) return false;
    if (tarn_handle_deinit(&pool->hp) != TARN_OK) return false; /* a block is locked */
    owned = pool->owned;
    pool->magic = 0;
#ifndef CKREMM_NO_MALLOC
    free(owned);
#else
    (void)owned;
#endif
    return true;
}

size_t t_pool_size(t_pool *pool, t_handle h)
{
    size_t n = t_ok(pool) ? tarn_handle_size(&pool->hp, h) : 0u;
    return n >= CKREMM_T_PREFIX ? n - CKREMM_T_PREFIX : 0u;
}

bool clean_t_handle(t_pool *pool, t_handle h)
{
    /* the handle pool's clear (checks, guard, transit), then the prefix again */
    return t_ok(pool) && tarn_handle_clear(&pool->hp, h) == TARN_OK && t_stamp(pool, h) != NULL;
}

bool clean_t_ptr(t_pool *pool, void *ptr)
{
    return clean_t_handle(pool, t_pool_handle_of(pool, ptr));
}

bool reorder_t_mem(t_pool *pool)
{
    tarn_handle_stats st;
    if (!t_ok(pool)) return false;
    (void)tarn_handle_compact(&pool->hp);
    if (tarn_handle_stats_get(&pool->hp, &st) != TARN_OK) return false;
    return st.largest_free == st.free;
}

bool copy_t_handle(t_pool *pool, t_handle dst, t_handle src)
{
    /* the handle pool's copy (checks, guards, size rule: both sizes carry the prefix),
     * which also copies src's prefix: dst's is written again */
    return t_ok(pool) && tarn_handle_copy(&pool->hp, dst, src) == TARN_OK &&
           t_stamp(pool, dst) != NULL;
}

bool copy_t_ptr(t_pool *pool, void *dst, const void *src)
{
    return copy_t_handle(pool, t_pool_handle_of(pool, dst), t_pool_handle_of(pool, src));
}

void *t_pool_lock(t_pool *pool, t_handle h)
{
    return t_ok(pool) ? t_pin(pool, h) : NULL;
}

bool t_pool_unlock(t_pool *pool, t_handle h)
{
    return t_ok(pool) && tarn_handle_unlock(&pool->hp, h) == TARN_OK;
}

tarn_handle_pool *t_pool_tarn(t_pool *pool)
{
    return t_ok(pool) ? &pool->hp : NULL;
}
