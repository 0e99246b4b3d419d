/*
 * compat/mynewt/os_mempool.c - Mynewt's os_mempool (see os_mempool.h), with tarn's checks.
 *
 * The pool keeps Mynewt's own data structure, because it is public API: blocks carved at
 * init over the caller's buffer, an intrusive free list through the first word of each
 * free block, headed by SLIST_FIRST(mp).  A tarn block pool cannot stand underneath:
 * Mynewt's sizing gives blocks of one pointer, where tarn's block pool needs two words,
 * and tarn carves lazily, so its free list is not a list of every free block.  The
 * checks tarn's block pool makes are made here, with the same methods:
 *
 *   stride S (guard included), n blocks from base = mp_membuf_addr:
 *   [blk 0 | guard][blk 1 | guard] ...                       [blk n-1 | guard]
 *   a free block:     [ link | tag = key (blocks of >= 2 pointers) | ... NOACCESS ... ]
 *   a handed-out one: [ user data (tag word zeroed by get)                          ]
 *   guard (OS_MEMPOOL_GUARD, non-extended pools): sizeof(os_membuf_t) bytes of
 *   TARN_GUARD_BYTE, written at init and clear, always NOACCESS to memory tools.
 *
 *   - a block start: base <= p < base + n*S and (p - base) % S == 0 (O(1));
 *   - free or not, for blocks of two pointers or more: the tag key = address of the pool ^
 *     a constant with the low bit set, in the second word of every free block; get
 *     writes 0 there, so a handed-out block passes for free only if its user stored
 *     exactly the key in that word (the same rule as tarn's block pool);
 *   - for one-pointer blocks (no room for a tag): a handed-out block whose first word is
 *     neither NULL nor a block start of the pool cannot be free (O(1)); otherwise the
 *     free list is walked;
 *   - get checks the link it follows (NULL or a block start) before using it.
 * Memory tools: the tag word and the guard are read with tool reports suppressed.
 */
#include "os_mempool.h"

#include <string.h>

/* ---- memory-tool annotations (the layer's own; tarn's are private to the library) ---- */
#if !defined(TARN_SANITIZE) || TARN_SANITIZE
#if defined(__SANITIZE_ADDRESS__)
#define MP_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define MP_ASAN 1
#endif
#endif
#if !defined(MP_ASAN) && defined(__has_include)
#if __has_include(<valgrind/memcheck.h>)
#define MP_VALGRIND 1
#endif
#endif
#endif

#if defined(MP_ASAN)
#include <sanitizer/asan_interface.h>
#define MP_NOACCESS(p, n) ASAN_POISON_MEMORY_REGION((p), (n))
#define MP_UNDEFINED(p, n) ASAN_UNPOISON_MEMORY_REGION((p), (n))
#define MP_DEFINED(p, n) ASAN_UNPOISON_MEMORY_REGION((p), (n))
/* Read n bytes that may be poisoned, without a report. */
__attribute__((no_sanitize_address, noinline)) static void mp_peek(void *dst, const void *src,
                                                                   size_t n)
{
    const volatile unsigned char *s = (const volatile unsigned char *)src;
    unsigned char *d = (unsigned char *)dst;
    while (n-- > 0) *d++ = *s++;
}
#elif defined(MP_VALGRIND)
#include <valgrind/memcheck.h>
#define MP_NOACCESS(p, n) ((void)VALGRIND_MAKE_MEM_NOACCESS((p), (n)))
#define MP_UNDEFINED(p, n) ((void)VALGRIND_MAKE_MEM_UNDEFINED((p), (n)))
#define MP_DEFINED(p, n) ((void)VALGRIND_MAKE_MEM_DEFINED((p), (n)))
static void mp_peek(void *dst, const void *src, size_t n)
{
    VALGRIND_DISABLE_ERROR_REPORTING;
    memcpy(dst, src, n);
    VALGRIND_ENABLE_ERROR_REPORTING;
    (void)VALGRIND_MAKE_MEM_DEFINED(dst, n);
}
#else
#define MP_NOACCESS(p, n) ((void)(p), (void)(n))
#define MP_UNDEFINED(p, n) ((void)(p), (void)(n))
#define MP_DEFINED(p, n) ((void)(p), (void)(n))
static void mp_peek(void *dst, const void *src, size_t n)
{
    memcpy(dst, src, n);
}
#endif

#define MP_PTR sizeof(void *)
/* a free-list link is copied as MP_PTR bytes */
typedef char mp_link_is_a_pointer[sizeof(struct os_memblock *) == sizeof(void *) ? 1 : -1];
#define MP_KEY_SALT ((uintptr_t)0x6d706f6f6c5f7431ull | 1u)

/* ---- the list of pools and the lock ------------------------------------------------------ */
static STAILQ_HEAD(mp_list_head, os_mempool) mp_pools = STAILQ_HEAD_INITIALIZER(mp_pools);
static tarn_lock mp_lock_hook;

static void mp_lock(void)
{
    if (mp_lock_hook.lock != NULL) mp_lock_hook.lock(mp_lock_hook.ctx);
}

static void mp_unlock(void)
{
    if (mp_lock_hook.unlock != NULL) mp_lock_hook.unlock(mp_lock_hook.ctx);
}

void os_mempool_set_lock(const tarn_lock *lock)
{
    tarn_lock none = {NULL, NULL, NULL};
    mp_lock_hook = (lock != NULL && lock->lock != NULL && lock->unlock != NULL) ? *lock : none;
}

/* ---- geometry ------------------------------------------------------------------------------ */
/* Usable bytes of a block: block_size rounded up to OS_ALIGNMENT. */
static size_t mp_true_size(const struct os_mempool *mp)
{
    return OS_ALIGN((size_t)mp->mp_block_size, (size_t)OS_ALIGNMENT);
}

/* Whether the pool's blocks carry guard bytes: fixed at init (extended pools have none),
 * read from the stride, so that os_mempool_ext_clear, which turns an extended pool into
 * a plain one as Mynewt does, leaves the blocks as they were laid out. */
static bool mp_has_guard(const struct os_mempool *mp)
{
    return OS_MEMPOOL_GUARD && mp->tarn_stride_ > mp_true_size(mp);
}

static unsigned char *mp_base(const struct os_mempool *mp)
{
    return (unsigned char *)mp->mp_membuf_addr; // NOLINT(performance-no-int-to-ptr): Mynewt stores the buffer as an integer
}

/* True when p is the start of one of the pool's blocks. */
static bool mp_is_block(const struct os_mempool *mp, const void *p)
{
    uintptr_t a = (uintptr_t)p, base = mp->mp_membuf_addr;
    size_t off;
    if (mp->tarn_stride_ == 0u || mp->mp_num_blocks == 0u || a < base) return false;
    off = (size_t)(a - base);
    return off / mp->tarn_stride_ < mp->mp_num_blocks && off % mp->tarn_stride_ == 0u;
}

static struct os_memblock *mp_link(const void *blk)
{
    struct os_memblock *next;
    memcpy(&next, blk, MP_PTR);
    return next;
}

static void mp_set_link(void *blk, const struct os_memblock *next)
{
    memcpy(blk, (const void *)&next, MP_PTR);
}

static uintptr_t mp_tag(const void *blk)
{
    uintptr_t w;
    mp_peek(&w, (const unsigned char *)blk + MP_PTR, sizeof w);
    return w;
}

static void mp_write_guard(const struct os_mempool *mp, unsigned char *blk)
{
    unsigned char *g = blk + mp_true_size(mp);
    MP_UNDEFINED(g, sizeof(os_membuf_t));
    memset(g, (int)TARN_GUARD_BYTE, sizeof(os_membuf_t));
    MP_NOACCESS(g, sizeof(os_membuf_t));
}

static bool mp_guard_ok(const struct os_mempool *mp, const unsigned char *blk)
{
    unsigned char g[sizeof(os_membuf_t)];
    size_t i;
    if (!mp_has_guard(mp)) return true;
    mp_peek(g, blk + mp_true_size(mp), sizeof g);
    for (i = 0; i < sizeof g; i++) {
        if (g[i] != (unsigned char)TARN_GUARD_BYTE) return false;
    }
    return true;
}

/* Link blk in front of the free list and close it to memory tools but for its link. */
static void mp_push(struct os_mempool *mp, unsigned char *blk)
{
    size_t ts = mp_true_size(mp);
    mp_set_link(blk, mp->slh_first);
    if (mp->tarn_key_ != 0u) memcpy(blk + MP_PTR, &mp->tarn_key_, sizeof mp->tarn_key_);
    MP_NOACCESS(blk + MP_PTR, ts - MP_PTR);
    mp->slh_first = (struct os_memblock *)(void *)blk;
}

/* Carve every block onto the free list, in address order. */
static void mp_carve(struct os_mempool *mp)
{
    unsigned char *base = mp_base(mp);
    uint16_t i = mp->mp_num_blocks;
    mp->slh_first = NULL;
    while (i-- > 0u) {
        unsigned char *blk = base + (size_t)i * mp->tarn_stride_;
        MP_UNDEFINED(blk, mp_true_size(mp));
        if (mp_has_guard(mp)) mp_write_guard(mp, blk);
        mp_push(mp, blk);
    }
    mp->mp_num_free = mp->mp_num_blocks;
    mp->mp_min_free = mp->mp_num_blocks;
}

/* ---- init, list ------------------------------------------------------------------------------ */
static bool mp_listed(const struct os_mempool *mp)
{
    const struct os_mempool *cur;
    STAILQ_FOREACH(cur, &mp_pools, mp_list) {
        if (cur == mp) return true;
    }
    return false;
}

static os_error_t mp_init(struct os_mempool *mp, uint16_t blocks, uint32_t block_size,
                          void *membuf, char *name, uint8_t flags)
{
    uint64_t stride64;
    if (mp == NULL || block_size == 0u || (membuf == NULL && blocks != 0u)) return OS_INVALID_PARM;
    if (membuf != NULL && ((uintptr_t)membuf & (uintptr_t)(OS_ALIGNMENT - 1)) != 0u) {
        return OS_MEM_NOT_ALIGNED;
    }
    /* the blocks must lie inside the address space (64-bit arithmetic: no overflow) */
    stride64 = (((uint64_t)block_size + (OS_ALIGNMENT - 1u)) & ~(uint64_t)(OS_ALIGNMENT - 1u)) +
               ((OS_MEMPOOL_GUARD && (flags & OS_MEMPOOL_F_EXT) == 0u) ? sizeof(os_membuf_t) : 0u);
    if (stride64 * blocks > (uint64_t)(UINTPTR_MAX - (uintptr_t)membuf)) return OS_INVALID_PARM;
    if (blocks == 0u) stride64 = 0u;   /* nothing is carved; the size is never used */
    mp_lock();
    if (mp_listed(mp)) STAILQ_REMOVE(&mp_pools, mp, os_mempool, mp_list);
    mp->mp_block_size = block_size;
    mp->mp_num_blocks = blocks;
    mp->mp_flags = flags;
    mp->mp_membuf_addr = (uintptr_t)membuf;
    mp->name = name;
    mp->tarn_stride_ = (size_t)stride64;
    mp->tarn_key_ = (mp_true_size(mp) >= 2u * MP_PTR) ? ((uintptr_t)mp ^ MP_KEY_SALT) : 0u;
    mp_carve(mp);
    STAILQ_INSERT_TAIL(&mp_pools, mp, mp_list);
    mp_unlock();
    return OS_OK;
}

os_error_t os_mempool_init(struct os_mempool *mp, uint16_t blocks, uint32_t block_size,
                           void *membuf, char *name)
{
    return mp_init(mp, blocks, block_size, membuf, name, 0u);
}

os_error_t os_mempool_ext_init(struct os_mempool_ext *mpe, uint16_t blocks,
                               uint32_t block_size, void *membuf, char *name)
{
    os_error_t rc;
    if (mpe == NULL) return OS_INVALID_PARM;
    rc = mp_init(&mpe->mpe_mp, blocks, block_size, membuf, name, OS_MEMPOOL_F_EXT);
    if (rc != OS_OK) return rc;
    mpe->mpe_put_cb = NULL;
    mpe->mpe_put_arg = NULL;
    return OS_OK;
}

/* Take listed pool mp off the list; its buffer becomes ordinary memory for the memory
 * tools.  Lock held. */
static void mp_unlist(struct os_mempool *mp)
{
    STAILQ_REMOVE(&mp_pools, mp, os_mempool, mp_list);
    if (mp->mp_num_blocks != 0u) {
        MP_DEFINED(mp_base(mp), (size_t)mp->mp_num_blocks * mp->tarn_stride_);
    }
}

os_error_t os_mempool_unregister(struct os_mempool *mp)
{
    os_error_t rc = OS_INVALID_PARM;
    if (mp == NULL) return rc;
    mp_lock();
    if (mp_listed(mp)) {
        mp_unlist(mp);
        rc = OS_OK;
    }
    mp_unlock();
    return rc;
}

void os_mempool_module_init(void)
{
    mp_lock();
    while (!STAILQ_EMPTY(&mp_pools)) mp_unlist(STAILQ_FIRST(&mp_pools));
    mp_unlock();
}

os_error_t os_mempool_clear(struct os_mempool *mp)
{
    if (mp == NULL) return OS_INVALID_PARM;
    mp_lock();
    mp_carve(mp);
    mp_unlock();
    return OS_OK;
}

os_error_t os_mempool_ext_clear(struct os_mempool_ext *mpe)
{
    if (mpe == NULL) return OS_INVALID_PARM;
    mp_lock();
    mpe->mpe_mp.mp_flags = 0u;
    mpe->mpe_put_cb = NULL;
    mpe->mpe_put_arg = NULL;
    mp_unlock();
    return os_mempool_clear(&mpe->mpe_mp);
}

/* ---- checks ------------------------------------------------------------------------------------ */
static bool mp_sane(const struct os_mempool *mp)
{
    const struct os_memblock *b = mp->slh_first;
    uint32_t n = 0, i;
    if (mp->mp_num_free > mp->mp_num_blocks || mp->mp_min_free > mp->mp_num_free) return false;
    if (mp->mp_num_blocks != 0u && mp->tarn_stride_ == 0u) return false;
    while (b != NULL) {
        if (++n > mp->mp_num_free || !mp_is_block(mp, b)) return false;
        if (mp->tarn_key_ != 0u && mp_tag(b) != mp->tarn_key_) return false;
        b = mp_link(b);
    }
    if (n != mp->mp_num_free) return false;
    for (i = 0; i < mp->mp_num_blocks; i++) {
        if (!mp_guard_ok(mp, mp_base(mp) + (size_t)i * mp->tarn_stride_)) return false;
    }
    return true;
}

bool os_mempool_is_sane(const struct os_mempool *mp)
{
    bool ok;
    if (mp == NULL) return false;
    mp_lock();
    ok = mp_sane(mp);
    mp_unlock();
    return ok;
}

int os_memblock_from(const struct os_mempool *mp, const void *block_addr)
{
    return (mp != NULL && mp_is_block(mp, block_addr)) ? 1 : 0;
}

/* True if blk (a block start of the pool) is on the free list.  Called with the lock. */
static bool mp_is_free(const struct os_mempool *mp, const unsigned char *blk)
{
    const struct os_memblock *w, *b;
    uint32_t n = 0;
    if (mp->tarn_key_ != 0u) return mp_tag(blk) == mp->tarn_key_;
    /* one-pointer blocks: the first word of a free block is NULL or a block start */
    mp_peek(&w, blk, MP_PTR);   /* a handed-out block's word may be undefined */
    if (w != NULL && !mp_is_block(mp, w)) return false;
    for (b = mp->slh_first; b != NULL && n <= mp->mp_num_blocks; b = mp_link(b), n++) {
        if ((const unsigned char *)b == blk) return true;
    }
    return false;
}

/* ---- get and put ------------------------------------------------------------------------------- */
void *os_memblock_get(struct os_mempool *mp)
{
    unsigned char *blk = NULL;
    struct os_memblock *next;
    if (mp == NULL) return NULL;
    mp_lock();
    if (mp->mp_num_free != 0u && mp->slh_first != NULL && mp_is_block(mp, mp->slh_first)) {
        next = mp_link(mp->slh_first);
        /* the link, read from a free block a stale write may have reached, must be the end
         * of the list or a block start that (in pools with tagged blocks) is free */
        if (next == NULL ? mp->mp_num_free == 1u
                         : (mp_is_block(mp, next) &&
                            (mp->tarn_key_ == 0u || mp_tag(next) == mp->tarn_key_))) {
            blk = (unsigned char *)mp->slh_first;
            mp->slh_first = next;
            mp->mp_num_free--;
            if (mp->mp_min_free > mp->mp_num_free) mp->mp_min_free = mp->mp_num_free;
            MP_UNDEFINED(blk, mp_true_size(mp));
            if (mp->tarn_key_ != 0u) memset(blk + MP_PTR, 0, sizeof(uintptr_t));
        }
    }
    mp_unlock();
    return blk;
}

/* Why block_addr cannot be put back now (OS_OK if it can).  Called with the lock. */
static os_error_t mp_validate(const struct os_mempool *mp, const void *block_addr)
{
    if (!mp_is_block(mp, block_addr)) return OS_INVALID_PARM;        /* foreign, interior */
    if (mp->mp_num_free >= mp->mp_num_blocks) return OS_INVALID_PARM; /* every block is free */
    if (mp_is_free(mp, (const unsigned char *)block_addr)) return OS_INVALID_PARM; /* double */
    if (!mp_guard_ok(mp, (const unsigned char *)block_addr)) return OS_INVALID_PARM; /* overflow */
    return OS_OK;
}

os_error_t os_memblock_put_from_cb(struct os_mempool *mp, void *block_addr)
{
    os_error_t rc;
    if (mp == NULL || block_addr == NULL) return OS_INVALID_PARM;
    mp_lock();
    rc = mp_validate(mp, block_addr);
    if (rc == OS_OK) {
        mp_push(mp, (unsigned char *)block_addr);
        mp->mp_num_free++;
    }
    mp_unlock();
    return rc;
}

os_error_t os_memblock_put(struct os_mempool *mp, void *block_addr)
{
    struct os_mempool_ext *mpe;
    os_error_t rc;
    if (mp == NULL || block_addr == NULL) return OS_INVALID_PARM;
    if ((mp->mp_flags & OS_MEMPOOL_F_EXT) != 0u) {
        mpe = (struct os_mempool_ext *)(void *)mp;
        if (mpe->mpe_put_cb != NULL) {
            /* Validate first: a bad block never reaches the application's callback. */
            mp_lock();
            rc = mp_validate(mp, block_addr);
            mp_unlock();
            if (rc != OS_OK) return rc;
            return mpe->mpe_put_cb(mpe, block_addr, mpe->mpe_put_arg);
        }
    }
    return os_memblock_put_from_cb(mp, block_addr);
}

/* ---- information ------------------------------------------------------------------------------- */
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
    struct os_mempool *cur;
    mp_lock();
    if (mp == NULL) cur = STAILQ_FIRST(&mp_pools);
    else cur = mp_listed(mp) ? STAILQ_NEXT(mp, mp_list) : NULL;
    if (cur != NULL && info != NULL) fill_info(cur, info);
    mp_unlock();
    return cur;
}

struct os_mempool *os_mempool_get(const char *mempool_name, struct os_mempool_info *info)
{
    struct os_mempool *cur;
    if (mempool_name == NULL) return NULL;
    mp_lock();
    STAILQ_FOREACH(cur, &mp_pools, mp_list) {
        if (cur->name != NULL && strcmp(cur->name, mempool_name) == 0) break;
    }
    if (cur != NULL && info != NULL) fill_info(cur, info);
    mp_unlock();
    return cur;
}
