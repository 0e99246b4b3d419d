/*
 * src/block.c - block pools (see include/tarn/block.h).
 *
 * Layout of the caller's buffer (count blocks of block_size bytes, block_size a multiple
 * of TARN_ALIGN and >= 2 pointers):
 *
 *   base               carve = base + carved * block_size                  end
 *   |  handed out or on the free list  |  never used yet (carved on demand)  |
 *   [blk 0][blk 1][blk 2] ... [blk k-1][blk k] ...                  [blk n-1]
 *
 *   a free block on the free list:   [ next | tag = key | ...unused...            ]
 *   a block handed out:              [ user data (word 1 zeroed by get)        ... ]
 *   a never-used block:              [ anything, even a stale tag of an earlier pool ]
 *
 * Invariants (checked by tarn_block_check):
 *   - carved <= count, end - base == count * block_size;
 *   - every block on the free list lies below the carve line, starts a block, carries
 *     the tag, and appears once; the list length is num_free - (never carved blocks);
 *   - num_free <= count, min_free <= count, key == block_key(pool).
 *
 * Double-free detection in O(1): a block on the free list carries in its second word the
 * pool's tag key = address of the pool ^ a constant whose low bit is set; get writes 0
 * there, which is never the tag.  A block handed out is therefore taken for a free one
 * only if the user stored exactly the key in its second word.  A block at or after the
 * carve line has never been handed out: putting it is a double free too.  The free list's
 * links are not covered by the tag; the check finds any damaged link all the same (it
 * leads outside the carved blocks, to an untagged block, into a cycle, or makes the list
 * too short).
 *
 * "Is a block start, and which" is answered without a divide (Granlund-Montgomery): with
 * block_size = odd << rot_ and inv_ = odd^-1 modulo 2^(bits of uintptr_t), rotating
 * (p - base) * inv_ right by rot_ gives the block index when p - base is a multiple of
 * block_size, and a number above every index of a pool of fewer than 2^32 blocks (or
 * any pool that fits the address space) when it is not.  block_q() computes it; a
 * pointer is a block below the carve line iff block_q < carved, a block of the pool iff
 * block_q < count.
 *
 * Fast paths: tarn_block_get and tarn_block_put are inline in block.h and handle the
 * common case (free list not empty; a valid block) of a pool whose slow_ is 0.  slow_
 * (BLOCK_SLOW_*) is non-zero for a statically defined pool before its first use, a pool
 * that failed init, a lock hook, a put callback, the quarantine, and in every build whose
 * get/put do more per call (sanitizer annotations, canary mode, level-2 checks, poisoning
 * of freed blocks); the out-of-line tarn_block_get_slow_/put_slow_ do everything else.
 * The watermark costs the fast path nothing: blocks are carved only when the free list is
 * empty, so the most blocks ever in use since the last clear is exactly the number carved,
 * and min_free = min(min_free before the last clear, count - carved blocks).
 *
 * Canary mode (TARN_GUARD): block_size = usable + G with G = TARN_BLOCK_GUARD_BYTES;
 *
 *   [ usable bytes (the user's)          | G guard bytes, TARN_GUARD_BYTE, NOACCESS ]
 *
 * get writes the guard of the block it hands out, so every block below `carve` has had
 * its guard written; nobody but an overflow changes it afterwards.  put refuses a block
 * with a damaged guard (TARN_ECORRUPT, the block stays handed out); check verifies the
 * guards of all blocks below `carve`.
 *
 * Debug quarantine (TARN_QUARANTINE > 0 and TARN_F_QUARANTINE): a validated put goes into
 * the ring `quarantine` instead of onto the free list, still NOACCESS for the tools (and
 * filled with TARN_POISON_BYTE under TARN_POISON_FREE); the block a full ring pushes out is
 * linked onto the free list.  Held blocks carry no tag (they are not free) and count as
 * used in num_free; put finds them with tarn_q_holds (a second put is TARN_EDOUBLE).  get
 * on a pool with no free block releases the oldest held one.  Extra invariants: every
 * held block is a block start below `carve`, untagged, held once, and (poison mode) still
 * all poison bytes.
 */
#include "tarn/block.h"
#include "internal.h"

#define BLOCK_KEY_CONST ((uintptr_t)0x9E3779B97F4A7C15ull | 1u)

/* Bits of pool->slow_. */
#define BLOCK_SLOW_SETUP TARN_BLOCK_SLOW_SETUP_ /* statically defined, not yet set up */
#define BLOCK_SLOW_BROKEN 2u                    /* init failed */
#define BLOCK_SLOW_LOCK 4u                      /* lock hook */
#define BLOCK_SLOW_CB 8u                        /* put callback */
#define BLOCK_SLOW_QUAR 16u                     /* quarantine on */
#define BLOCK_SLOW_BUILD 32u                    /* this build does more per get/put */
/* The bits that make get take the full path: they are fixed at init (or at the set-up of
 * a statically defined pool, while its list is empty), so where the list lives is too. */
#define BLOCK_SLOW_GET (BLOCK_SLOW_SETUP | BLOCK_SLOW_BROKEN | BLOCK_SLOW_LOCK | BLOCK_SLOW_BUILD)
TARN_STATIC_ASSERT(BLOCK_SLOW_GET == TARN_BLOCK_SLOW_GET_, slow_get_bits_match);

#if TARN_SANITIZE || TARN_GUARD || TARN_POISON_FREE || TARN_CHECK_LEVEL >= 2
#define BLOCK_SLOW_BUILD_BITS BLOCK_SLOW_BUILD
#else
#define BLOCK_SLOW_BUILD_BITS 0u
#endif

TARN_STATIC_ASSERT(TARN_BLOCK_SIZE(1) >= 2 * sizeof(void *), block_holds_link_and_tag);
TARN_STATIC_ASSERT(TARN_BLOCK_SIZE(1) % TARN_ALIGN == 0, block_size_aligned);

#define BLOCK_GUARD TARN_BLOCK_GUARD_BYTES

/* Usable bytes of a block (the stride less the guard); 0 for a pool that failed init. */
static inline size_t block_usable(const tarn_block_pool *pool)
{
    return (pool->block_size == 0) ? 0u : (size_t)pool->block_size - BLOCK_GUARD;
}

static inline uintptr_t block_key(const tarn_block_pool *pool)
{
    return (uintptr_t)pool ^ BLOCK_KEY_CONST;
}

/* The carve line: first never-used block. */
static inline unsigned char *block_carve(const tarn_block_pool *pool)
{
    /* base may be NULL (a pool that failed init): no arithmetic on it then */
    return (pool->carved == 0) ? pool->base : pool->base + (size_t)pool->carved * pool->block_size;
}

/* The free list's head lives in free_head where the inline get reads it, except in pools
 * whose get takes the full path: there free_head stays NULL (so the inline get always
 * calls the full path) and the list lives in slow_head_. */
static inline void **block_headp(tarn_block_pool *pool)
{
    return (pool->slow_ & BLOCK_SLOW_GET) ? &pool->slow_head_ : &pool->free_head;
}
static inline void *block_head(const tarn_block_pool *pool)
{
    return (pool->slow_ & BLOCK_SLOW_GET) ? pool->slow_head_ : pool->free_head;
}

/* Blocks carved so far. */
static inline uint32_t block_carved_count(const tarn_block_pool *pool)
{
    return pool->carved;
}

/* put_limit_ mirrors carved while put may take the inline path, else stays 0 (the inline
 * put then finds every block "past the carve line" and calls the full path).  In a pool
 * with a lock hook the inline put reads put_limit_ without the lock, so it is written only
 * when slow_ changes (block_update_slow), never by the locked get and put. */
static inline void block_set_carved(tarn_block_pool *pool, uint32_t carved)
{
    pool->carved = carved;
    if (pool->slow_ == 0) pool->put_limit_ = block_carved_count(pool);
}

/* The block-start test's inverse (see the top of this file): odd^-1 modulo 2^(bits of
 * uintptr_t) for block_size = odd << rot_, by Newton's iteration (each step doubles the
 * correct low bits; odd * odd == 1 modulo 8 gives the first three). */
static uintptr_t block_inverse(uint32_t block_size)
{
    uintptr_t odd = (uintptr_t)(block_size >> tarn_ctz_u32(block_size)), x = odd;
    unsigned i;
    for (i = 0; i < 5; i++) x *= (uintptr_t)2u - odd * x;
    return x;
}

/* Rotate right by r (0 <= r < bits of uintptr_t). */
static inline uintptr_t block_ror(uintptr_t x, unsigned r)
{
    return (x >> r) | (x << ((0u - r) & (unsigned)(sizeof(uintptr_t) * 8u - 1u)));
}

/* The block index of p when p starts a block of the pool (< count), else a number
 * >= count (see the top of this file).  The pool must be set up (inv_ and rot_). */
static inline uintptr_t block_q(const tarn_block_pool *pool, const void *p)
{
    return block_ror(((uintptr_t)p - (uintptr_t)pool->base) * pool->inv_, pool->rot_);
}

/* Fewest blocks ever free: see "watermark" above. */
static inline uint32_t block_min_free(const tarn_block_pool *pool)
{
    uint32_t since_clear = pool->count - block_carved_count(pool);
    return since_clear < pool->min_free ? since_clear : pool->min_free;
}

/* Free-block words, accessed only through these (they open the bytes for sanitizers). */
static inline void block_write_free(const tarn_block_pool *pool, void *blk, void *next)
{
    uintptr_t key = pool->key;
    TARN_SAN_OPEN(blk, 2 * sizeof(void *));
    *(tarn_block_link_ *)blk = next;
    ((tarn_block_word_ *)blk)[1] = key;
    TARN_SAN_CLOSE(blk, 2 * sizeof(void *));
}

/* True when blk (a block start below carve) carries the free tag. */
static inline bool block_is_tagged(const tarn_block_pool *pool, const void *blk)
{
    uintptr_t w;
    /* blk may be live or free: leave its state alone */
    tarn_san_peek(&w, (const unsigned char *)blk + sizeof(uintptr_t), sizeof w);
    return w == pool->key;
}

/* What slow_ must be for the pool's settings (a set-up pool). */
static uint32_t block_slow_bits(const tarn_block_pool *pool)
{
    uint32_t s = BLOCK_SLOW_BUILD_BITS;
    if (pool->base == NULL) s |= BLOCK_SLOW_BROKEN;
#if TARN_LOCKING
    if (pool->lock.lock != NULL) s |= BLOCK_SLOW_LOCK;
#endif
    if (pool->put_cb != NULL) s |= BLOCK_SLOW_CB;
#if TARN_QUARANTINE > 0
    if (pool->quarantine.on) s |= BLOCK_SLOW_QUAR;
#endif
    return s;
}

/* Recompute slow_ from the pool's settings, and put the list head and put_limit_ where
 * the new slow_ wants them. */
static void block_update_slow(tarn_block_pool *pool)
{
    void *head = block_head(pool);
    uint32_t s = block_slow_bits(pool);
    pool->free_head = NULL;
    pool->slow_head_ = NULL;
    pool->slow_ = s;
    *block_headp(pool) = head;
    if (s != 0) pool->put_limit_ = 0u;
    block_set_carved(pool, pool->carved);
}

#if TARN_GUARD
/* True when the guard bytes after blk's usable bytes are intact. */
static inline bool block_guard_ok(const tarn_block_pool *pool, const void *blk)
{
    return tarn_guard_intact((const unsigned char *)blk + block_usable(pool), BLOCK_GUARD);
}
#endif

/* Link a validated block onto the free list (it is NOACCESS for the tools already). */
static inline void block_link_free(tarn_block_pool *pool, void *block)
{
    void **headp = block_headp(pool);
    block_write_free(pool, block, *headp);
    *headp = block;
    pool->num_free++;
}

#if TARN_QUARANTINE > 0
/* True when a block leaving the quarantine is as it was put: poison bytes unchanged
 * (TARN_POISON_FREE) and guard intact (TARN_GUARD). */
static bool block_held_intact(const tarn_block_pool *pool, const void *blk)
{
    bool ok = true;
#if TARN_POISON_FREE
    ok = tarn_bytes_are(blk, block_usable(pool), TARN_POISON_BYTE);
#endif
#if TARN_GUARD
    ok = ok && block_guard_ok(pool, blk);
#endif
    (void)pool;
    (void)blk;
    return ok;
}

/* Free a block leaving the quarantine; a write while it was held is recorded as the last
 * error (the caller's operation goes on).  Returns false in that case. */
static bool block_unhold(tarn_block_pool *pool, void *blk)
{
    bool ok = block_held_intact(pool, blk);
    if (!ok) pool->last_error = TARN_ECORRUPT;
    block_link_free(pool, blk);
    return ok;
}
#endif

/* Free the oldest quarantined block, if any.  True when one was freed. */
static inline bool block_unhold_oldest(tarn_block_pool *pool)
{
#if TARN_QUARANTINE > 0
    void *blk = pool->quarantine.on ? tarn_q_pop(&pool->quarantine) : NULL;
    if (blk == NULL) return false;
    (void)block_unhold(pool, blk);
    return true;
#else
    (void)pool;
    return false;
#endif
}

/* The fields derived from the address and the block size: set by init, and by the
 * first use of a statically defined pool. */
static void block_set_derived(tarn_block_pool *pool)
{
    pool->key = block_key(pool);
    pool->inv_ = block_inverse(pool->block_size);
    pool->rot_ = tarn_ctz_u32(pool->block_size);
}

/* Statically defined pools skip init: set the derived fields and slow_, and give the
 * sanitizers their view, on first use.  Every out-of-line operation starts here. */
static void block_san_setup(tarn_block_pool *pool)
{
    if (TARN_UNLIKELY(pool->slow_ & BLOCK_SLOW_SETUP)) {
        block_set_derived(pool);
        block_update_slow(pool);
    }
#if TARN_SANITIZE
    if (!pool->san_ready && pool->base != NULL) {
        TARN_SAN_POOL_CREATE(pool);
        TARN_SAN_NOACCESS(pool->base, (size_t)(pool->end - pool->base));
        pool->san_ready = 1;
    }
#endif
}

/* O(1) classification of a pointer handed back.  Caller holds the lock. */
static tarn_status block_classify(const tarn_block_pool *pool, const void *p)
{
    (void)pool;
    if (TARN_UNLIKELY(p == NULL)) return TARN_EINVAL;
#if TARN_CHECK_LEVEL >= 1
    {
        /* One compare on the fast path: a block below the carve line, or not; tell a
         * block never handed out from a foreign pointer only when reporting. */
        uintptr_t q = block_q(pool, p);
        if (TARN_UNLIKELY(q >= pool->carved)) return (q < pool->count) ? TARN_EDOUBLE : TARN_EFOREIGN;
    }
    if (TARN_UNLIKELY(block_is_tagged(pool, p))) return TARN_EDOUBLE;
#endif
#if TARN_QUARANTINE > 0
    /* held blocks are untagged: look them up (at every level: a block pushed twice would
     * be freed twice when it leaves the ring) */
    if (pool->quarantine.on && tarn_q_holds(&pool->quarantine, p)) return TARN_EDOUBLE;
#endif
#if TARN_GUARD
    if (TARN_UNLIKELY(!block_guard_ok(pool, p))) return TARN_ECORRUPT;
#endif
    return TARN_OK;
}

static tarn_status block_check_locked(const tarn_block_pool *pool);

/* Record a rejected put; with TARN_F_SAN_REPORT also report it to the memory tool. */
static tarn_status block_reject(tarn_block_pool *pool, const void *block, tarn_status st)
{
    pool->last_error = (uint8_t)st;
    if (pool->report_ && (st == TARN_EDOUBLE || st == TARN_EFOREIGN)) {
        TARN_SAN_REPORT_BAD_FREE(pool, block);
    }
    return st;
}

#if TARN_CHECK_LEVEL >= 2
/* Level 2: every get/put first runs the full check; a damaged pool refuses the call. */
#define BLOCK_DEEP_CHECK_FAILS(pool) (block_check_locked(pool) != TARN_OK)
#else
#define BLOCK_DEEP_CHECK_FAILS(pool) 0
#endif

tarn_status tarn_block_init(tarn_block_pool *pool, void *mem, size_t mem_size,
                            size_t block_size, const tarn_config *cfg)
{
    size_t bs, count;
    if (pool == NULL) return TARN_EINVAL;
    memset(pool, 0, sizeof *pool);
    pool->last_error = TARN_EINVAL;
    pool->slow_ = BLOCK_SLOW_BROKEN;  /* until init succeeds */
    if (mem == NULL || block_size == 0) return TARN_EINVAL;
    if (cfg != NULL && !tarn_lock_valid(&cfg->lock)) return TARN_EINVAL;
    if (!TARN_IS_ALIGNED(mem, TARN_ALIGN)) return (tarn_status)(pool->last_error = TARN_EALIGN);
    if (block_size > (size_t)UINT32_MAX - (size_t)2u * TARN_ALIGN - BLOCK_GUARD) {
        return (tarn_status)(pool->last_error = TARN_EOVERFLOW);
    }
    bs = TARN_BLOCK_SIZE(block_size);
    count = mem_size / bs;
    if (count == 0) return (tarn_status)(pool->last_error = TARN_ETOOSMALL);
    if (count > (size_t)UINT32_MAX / bs) count = (size_t)UINT32_MAX / bs;  /* span < 4 GiB */

    pool->base = (unsigned char *)mem;
    pool->carved = 0;
    pool->end = pool->base + count * bs;
    pool->block_size = (uint32_t)bs;
    pool->count = (uint32_t)count;
    pool->num_free = (uint32_t)count;
    pool->min_free = (uint32_t)count;
    pool->last_error = TARN_OK;
    block_set_derived(pool);
    if (cfg != NULL) {
        pool->lock = cfg->lock;
        pool->name = cfg->name;
        pool->report_ = (cfg->flags & TARN_F_SAN_REPORT) ? 1u : 0u;
#if TARN_QUARANTINE > 0
        tarn_q_init(&pool->quarantine, cfg->flags);
#endif
    }
    block_update_slow(pool);
    block_san_setup(pool);
    return TARN_OK;
}

/* The body of get; caller holds the lock (if any), pool set up. */
static inline void *block_get_core(tarn_block_pool *pool)
{
    unsigned char *blk;
    void **headp = block_headp(pool);
    if (BLOCK_DEEP_CHECK_FAILS(pool)) {
        pool->last_error = TARN_ECORRUPT;
        return NULL;
    }
    blk = (unsigned char *)*headp;
    if (TARN_LIKELY(blk != NULL)) {
        TARN_SAN_OPEN(blk, 2 * sizeof(void *));
        *headp = *(tarn_block_link_ *)blk;
    } else if (block_carve(pool) < pool->end) {
        blk = block_carve(pool);
        block_set_carved(pool, pool->carved + 1u);
        TARN_SAN_OPEN(blk, 2 * sizeof(void *));
    } else if (block_unhold_oldest(pool)) {
        /* the quarantine gives back its oldest block rather than let the get fail */
        blk = (unsigned char *)*headp;
        TARN_SAN_OPEN(blk, 2 * sizeof(void *));
        *headp = *(tarn_block_link_ *)blk;
    } else {
        TARN_STAT(pool->failed_gets++);
        pool->last_error = TARN_ENOMEM;
        return NULL;
    }
    /* Kill any tag: the block is live now.  A carved block may hold a stale tag left by
     * an earlier pool on the same buffer, so it is cleared too. */
    ((tarn_block_word_ *)blk)[1] = 0;
    pool->num_free--;
#if TARN_GUARD
    tarn_guard_fill(blk + block_usable(pool), BLOCK_GUARD);
#endif
    TARN_SAN_ALLOC(pool, blk, block_usable(pool));
    return blk;
}

#if defined(__GNUC__) || defined(__clang__)
#define BLOCK_NOINLINE __attribute__((noinline))
#else
#define BLOCK_NOINLINE
#endif

/* get with a lock hook, or the first get of a statically defined pool; kept out of line
 * so that the plain path needs no stack frame. */
static BLOCK_NOINLINE void *block_get_locked(tarn_block_pool *pool)
{
    void *blk;
    TARN_LOCK(pool->lock);
    block_san_setup(pool);
    blk = block_get_core(pool);
    TARN_UNLOCK(pool->lock);
    return blk;
}

/* True when a get or put must take the lock, or set the pool up first. */
#define BLOCK_NEEDS_FRAME(pool) \
    (((pool)->slow_ & BLOCK_SLOW_SETUP) != 0u || (TARN_LOCKING && (pool)->lock.lock != NULL))

void *tarn_block_get_slow_(tarn_block_pool *pool)
{
    if (TARN_UNLIKELY(pool == NULL)) return NULL;
    if (TARN_UNLIKELY(BLOCK_NEEDS_FRAME(pool))) return block_get_locked(pool);
    return block_get_core(pool);
}

static inline tarn_status block_release_locked(tarn_block_pool *pool, void *block)
{
    tarn_status st = BLOCK_DEEP_CHECK_FAILS(pool) ? TARN_ECORRUPT : block_classify(pool, block);
    if (TARN_UNLIKELY(st != TARN_OK)) return block_reject(pool, block, st);
    TARN_SAN_FREE(pool, block, block_usable(pool));
#if TARN_POISON_FREE
    TARN_SAN_OPEN(block, block_usable(pool));
    TARN_FILL_FREED(block, block_usable(pool));
    TARN_SAN_CLOSE(block, block_usable(pool));
#endif
#if TARN_QUARANTINE > 0
    if (pool->quarantine.on) {
        block = tarn_q_push(&pool->quarantine, block);   /* the block pushed out, if any */
        if (block != NULL) (void)block_unhold(pool, block);
        return TARN_OK;
    }
#endif
    block_link_free(pool, block);
    return TARN_OK;
}

tarn_status tarn_block_put_from_cb(tarn_block_pool *pool, void *block)
{
    tarn_status st;
    if (TARN_UNLIKELY(pool == NULL)) return TARN_EINVAL;
    TARN_LOCK(pool->lock);
    block_san_setup(pool);
    st = block_release_locked(pool, block);
    TARN_UNLOCK(pool->lock);
    return st;
}

/* put with a lock hook or a callback: validate under the lock, call the callback
 * without it. */
static BLOCK_NOINLINE tarn_status block_put_to_cb(tarn_block_pool *pool, void *block)
{
    tarn_status st;
    tarn_block_put_fn cb;
    void *arg;
    TARN_LOCK(pool->lock);
    block_san_setup(pool);
    cb = pool->put_cb;
    arg = pool->put_arg;
    if (cb != NULL) {
        st = block_classify(pool, block);
        if (st != TARN_OK) (void)block_reject(pool, block, st);
    } else {
        st = block_release_locked(pool, block);
    }
    TARN_UNLOCK(pool->lock);
    return (st == TARN_OK && cb != NULL) ? cb(pool, block, arg) : st;
}

tarn_status tarn_block_put_slow_(tarn_block_pool *pool, void *block)
{
    if (TARN_UNLIKELY(pool == NULL)) return TARN_EINVAL;
    if (TARN_UNLIKELY(BLOCK_NEEDS_FRAME(pool) || pool->put_cb != NULL)) {
        return block_put_to_cb(pool, block);
    }
    return block_release_locked(pool, block);
}

tarn_status tarn_block_validate(tarn_block_pool *pool, const void *block)
{
    tarn_status st;
    if (pool == NULL) return TARN_EINVAL;
    TARN_LOCK(pool->lock);
    block_san_setup(pool);
    st = block_classify(pool, block);
    TARN_UNLOCK(pool->lock);
    return st;
}

void tarn_block_set_put_cb(tarn_block_pool *pool, tarn_block_put_fn fn, void *arg)
{
    if (pool == NULL) return;
    TARN_LOCK(pool->lock);
    block_san_setup(pool);
    pool->put_cb = fn;
    pool->put_arg = arg;
    block_update_slow(pool);
    TARN_UNLOCK(pool->lock);
}

long tarn_block_index(const tarn_block_pool *pool, const void *p)
{
    uintptr_t q;
    if (pool == NULL || p == NULL || pool->block_size == 0) return -1;
    /* from the fields fixed at init only (inv_ and rot_ of a statically defined pool are
     * set on its first use, perhaps by another context right now) */
    q = block_ror(((uintptr_t)p - (uintptr_t)pool->base) * block_inverse(pool->block_size),
                  tarn_ctz_u32(pool->block_size));
    return (q < pool->count) ? (long)q : -1;
}

bool tarn_block_owns(const tarn_block_pool *pool, const void *p)
{
    return tarn_block_index(pool, p) >= 0;
}

tarn_status tarn_block_clear(tarn_block_pool *pool)
{
    if (pool == NULL) return TARN_EINVAL;
    TARN_LOCK(pool->lock);
    block_san_setup(pool);
    if (pool->count - block_carved_count(pool) < pool->min_free) {
        pool->min_free = pool->count - block_carved_count(pool);  /* keep the watermark */
    }
    *block_headp(pool) = NULL;
    block_set_carved(pool, 0);
    pool->num_free = pool->count;
#if TARN_QUARANTINE > 0
    tarn_q_init(&pool->quarantine, pool->quarantine.on ? TARN_F_QUARANTINE : 0u);
#endif
#if TARN_SANITIZE
    pool->san_ready = 0;  /* forget every live chunk: recreate the tool's pool */
    block_san_setup(pool);
#endif
    TARN_UNLOCK(pool->lock);
    return TARN_OK;
}

tarn_status tarn_block_stats_get(tarn_block_pool *pool, tarn_block_stats *out)
{
    if (pool == NULL || out == NULL) return TARN_EINVAL;
    TARN_LOCK(pool->lock);
    out->block_size = block_usable(pool);
    out->count = pool->count;
    out->free = pool->num_free;
    out->min_free = block_min_free(pool);
    out->failed_gets = pool->failed_gets;
#if TARN_QUARANTINE > 0
    out->held = pool->quarantine.count;
#else
    out->held = 0;
#endif
    TARN_UNLOCK(pool->lock);
    return TARN_OK;
}

/* The quarantine part of the check: every held block is a block start below carve, not
 * on the free list (untagged), held once, and unchanged since it was put.  `listed` free
 * blocks lie below carve too, so listed + held cannot exceed the carved blocks. */
static tarn_status block_check_held(const tarn_block_pool *pool, uint32_t listed)
{
#if TARN_QUARANTINE > 0
    const tarn_quarantine *q = &pool->quarantine;
    unsigned i, j;
    uint32_t carved = block_carved_count(pool);
    if (q->count > TARN_QUARANTINE || q->first >= TARN_QUARANTINE) return TARN_ECORRUPT;
    if (q->count != 0 && !q->on) return TARN_ECORRUPT;
    if ((uint64_t)listed + q->count > carved) return TARN_ECORRUPT;
    for (i = 0; i < q->count; i++) {
        const unsigned char *h = (const unsigned char *)tarn_q_at(q, i);
        if (block_q(pool, h) >= pool->carved || block_is_tagged(pool, h) ||
            !block_held_intact(pool, h)) {
            return TARN_ECORRUPT;
        }
        for (j = 0; j < i; j++) {
            if (tarn_q_at(q, j) == h) return TARN_ECORRUPT;
        }
    }
#else
    (void)pool;
    (void)listed;
#endif
    return TARN_OK;
}

static tarn_status block_check_locked(const tarn_block_pool *pool)
{
    const unsigned char *p;
    uint32_t listed = 0, uncarved, limit;
    size_t span = (size_t)(pool->end - pool->base);
    if (pool->count == 0 || pool->block_size == 0) {
        return (pool->base == NULL && pool->free_head == NULL && pool->slow_head_ == NULL)
                   ? TARN_OK : TARN_ECORRUPT;
    }
    if (pool->carved > pool->count || span != (size_t)pool->count * pool->block_size ||
        pool->num_free > pool->count || pool->min_free > pool->count ||
        pool->key != block_key(pool) || pool->inv_ != block_inverse(pool->block_size) ||
        pool->rot_ != tarn_ctz_u32(pool->block_size)) {
        return TARN_ECORRUPT;
    }
    uncarved = pool->count - block_carved_count(pool);
    if (uncarved > pool->num_free) return TARN_ECORRUPT;
    limit = pool->num_free - uncarved;
    /* the list lives in one head field, the other is NULL; put_limit_ mirrors carved
     * exactly when put may take the inline path */
    if (((pool->slow_ & BLOCK_SLOW_GET) ? pool->free_head : pool->slow_head_) != NULL ||
        pool->put_limit_ != (pool->slow_ == 0 ? block_carved_count(pool) : 0u) ||
        pool->slow_ != block_slow_bits(pool)) {
        return TARN_ECORRUPT;
    }
    for (p = (const unsigned char *)block_head(pool); p != NULL;) {
        if (listed == limit) return TARN_ECORRUPT; /* too long, or a cycle */
        if (block_q(pool, p) >= pool->carved || !block_is_tagged(pool, p)) return TARN_ECORRUPT;
        listed++;
        TARN_SAN_OPEN(p, sizeof(void *));
        {
            const unsigned char *next = *(unsigned char *const *)p;
            TARN_SAN_CLOSE(p, sizeof(void *));
            p = next;
        }
    }
    if (listed != limit) return TARN_ECORRUPT;
    if (block_check_held(pool, listed) != TARN_OK) return TARN_ECORRUPT;
#if TARN_GUARD
    for (p = pool->base; p < block_carve(pool); p += pool->block_size) {
        if (!block_guard_ok(pool, p)) return TARN_ECORRUPT;
    }
#endif
    return TARN_OK;
}

tarn_status tarn_block_check(tarn_block_pool *pool)
{
    tarn_status st;
    if (pool == NULL) return TARN_EINVAL;
    TARN_LOCK(pool->lock);
    block_san_setup(pool);
    st = block_check_locked(pool);
    TARN_UNLOCK(pool->lock);
    return st;
}

tarn_status tarn_block_walk(tarn_block_pool *pool, tarn_block_walk_fn fn, void *ctx)
{
    unsigned char *b;
    if (pool == NULL || fn == NULL) return TARN_EINVAL;
    TARN_LOCK(pool->lock);
    block_san_setup(pool);
    for (b = pool->base; b != NULL && b < pool->end; b += pool->block_size) {
        bool used = (b < block_carve(pool)) && !block_is_tagged(pool, b);
#if TARN_QUARANTINE > 0
        if (used && pool->quarantine.on && tarn_q_holds(&pool->quarantine, b)) used = false;
#endif
        if (!fn(ctx, b, block_usable(pool), used)) break;
    }
    TARN_UNLOCK(pool->lock);
    return TARN_OK;
}

tarn_status tarn_block_last_error(const tarn_block_pool *pool)
{
    return (pool == NULL) ? TARN_EINVAL : (tarn_status)pool->last_error;
}

const char *tarn_block_name(const tarn_block_pool *pool)
{
    return (pool == NULL) ? NULL : pool->name;
}

void *tarn_block_next_free(tarn_block_pool *pool)
{
    void *next;
    if (pool == NULL) return NULL;
    TARN_LOCK(pool->lock);
    next = block_head(pool);
    if (next == NULL && block_carve(pool) < pool->end) next = block_carve(pool);
#if TARN_QUARANTINE > 0
    if (next == NULL && pool->quarantine.on && pool->quarantine.count > 0) {
        next = tarn_q_at(&pool->quarantine, 0);   /* get would release it */
    }
#endif
    TARN_UNLOCK(pool->lock);
    return next;
}

size_t tarn_block_size(const tarn_block_pool *pool)
{
    return (pool == NULL) ? 0u : block_usable(pool);
}

/* cppcheck-suppress constParameter ; the pool is changed when the quarantine is compiled in */
tarn_status tarn_block_quarantine_flush(tarn_block_pool *pool)
{
    tarn_status st = TARN_OK;
    if (pool == NULL) return TARN_EINVAL;
#if TARN_QUARANTINE > 0
    TARN_LOCK(pool->lock);
    if (pool->quarantine.on) {
        void *blk;
        while ((blk = tarn_q_pop(&pool->quarantine)) != NULL) {
            if (!block_unhold(pool, blk)) st = TARN_ECORRUPT;
        }
    }
    TARN_UNLOCK(pool->lock);
#endif
    return st;
}

/* ---- registry ------------------------------------------------------------------------ */
tarn_status tarn_block_registry_init(tarn_block_registry *reg, const tarn_lock *lock)
{
    if (reg == NULL || (lock != NULL && !tarn_lock_valid(lock))) return TARN_EINVAL;
    reg->head = NULL;
    reg->tail = NULL;
    if (lock != NULL) {
        reg->lock = *lock;
    } else {
        reg->lock.lock = NULL;
        reg->lock.unlock = NULL;
        reg->lock.ctx = NULL;
    }
    return TARN_OK;
}

tarn_status tarn_block_register(tarn_block_registry *reg, tarn_block_pool *pool)
{
    tarn_block_pool *cur;
    tarn_status st = TARN_OK;
    if (reg == NULL || pool == NULL) return TARN_EINVAL;
    TARN_LOCK(reg->lock);
    for (cur = reg->head; cur != NULL && cur != pool; cur = cur->reg_next) {
    }
    if (pool->registry != NULL || cur == pool) {
        st = TARN_EBUSY;  /* linking it twice would make the list a cycle */
    } else {
        pool->reg_next = NULL;
        pool->registry = reg;
        if (reg->tail != NULL) {
            reg->tail->reg_next = pool;
        } else {
            reg->head = pool;
        }
        reg->tail = pool;
    }
    TARN_UNLOCK(reg->lock);
    return st;
}

tarn_status tarn_block_unregister(tarn_block_registry *reg, tarn_block_pool *pool)
{
    tarn_block_pool *prev = NULL, *cur;
    tarn_status st = TARN_ENOENT;
    if (reg == NULL || pool == NULL) return TARN_EINVAL;
    TARN_LOCK(reg->lock);
    if (pool->registry == reg) {
        for (cur = reg->head; cur != NULL; prev = cur, cur = cur->reg_next) {
            if (cur == pool) {
                if (prev != NULL) {
                    prev->reg_next = cur->reg_next;
                } else {
                    reg->head = cur->reg_next;
                }
                if (reg->tail == cur) reg->tail = prev;
                cur->reg_next = NULL;
                cur->registry = NULL;
                st = TARN_OK;
                break;
            }
        }
    }
    TARN_UNLOCK(reg->lock);
    return st;
}

tarn_block_pool *tarn_block_registry_next(tarn_block_registry *reg, const tarn_block_pool *prev)
{
    tarn_block_pool *next = NULL;
    if (reg == NULL) return NULL;
    TARN_LOCK(reg->lock);
    if (prev == NULL) {
        next = reg->head;
    } else if (prev->registry == reg) {
        next = prev->reg_next;
    }
    TARN_UNLOCK(reg->lock);
    return next;
}

static bool block_name_eq(const char *a, const char *b)
{
    while (*a != '\0' && *a == *b) {
        a++;
        b++;
    }
    return *a == *b;
}

tarn_block_pool *tarn_block_find(tarn_block_registry *reg, const char *name)
{
    tarn_block_pool *cur;
    if (reg == NULL || name == NULL) return NULL;
    TARN_LOCK(reg->lock);
    for (cur = reg->head; cur != NULL; cur = cur->reg_next) {
        if (cur->name != NULL && block_name_eq(cur->name, name)) break;
    }
    TARN_UNLOCK(reg->lock);
    return cur;
}
