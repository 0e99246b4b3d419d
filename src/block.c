/*
 * src/block.c - block pools (see include/tarn/block.h).
 *
 * Layout of the caller's buffer (count blocks of block_size bytes, block_size a multiple
 * of 4 and >= 4, then the free bitmap):
 *
 *   base                carve = base + carved * block_size        map = base + count * bs
 *   |  handed out or on the free list  |  never used yet (carved on demand)  | free bitmap |
 *   [blk 0][blk 1][blk 2] ... [blk k-1][blk k] ...                  [blk n-1][w0][w1]...
 *
 *   a free block on the free list:   [ next (uint32_t index, or END) | ...unused...  ]
 *   a block handed out:              [ user data; the pool never reads or writes it  ]
 *   a never-used block:              [ anything                                       ]
 *   bitmap: bit i of word i/32 is 1 when block i is on the free list, 0 when it is handed
 *   out (or held in the quarantine) and for every block never carved: init and clear
 *   zero the bitmap (count / 32 word stores, the only part of init that is not O(1); the
 *   blocks are not touched), so carving a block writes no bitmap word.
 *
 * The pool does not store count: map - base is a multiple of block_size, and count is
 * that multiple, found by the block-start test below (block_count), no division.
 *
 * Invariants (checked by tarn_block_check):
 *   - carved <= count, map == base + count * block_size, 0 < count < 2^32;
 *   - every bit at and above the carve line is 0;
 *   - the free list visits distinct blocks below the carve line, each with its bit set;
 *     exactly the carved blocks with their bit set are on it; the free blocks are these
 *     and the count - carved never-used ones (no counter records either number: the
 *     statistics count the bits, O(count / 32)).
 *
 * Damage containment.  The only pool data inside the blocks is the link word of a free
 * block, and a stale write can change it.  So get trusts no link: the head it is about to
 * take must be a block below the carve line whose bit says free (one compare and one bit
 * test, in the inline get too).  A link that fails names no free block: get reports
 * TARN_ECORRUPT and the pool goes into the CORRUPT state (slow_ bit), where it refuses
 * every get and put until init or clear.  A link that passes names a free block, so even
 * a damaged list can hand out only free blocks of this pool, each once (a shortened list
 * leaks blocks until clear; the check finds it).  Put decides "already free" from the
 * bitmap, never from the block's bytes, so a write after free cannot hide a double put.
 * Bit i of a carved block is changed only by the get that takes block i and the put that
 * frees it, both after they have validated i (the carve of a word's first block also
 * zeroes the bits of the never-used blocks above it), so the bitmap stays in bounds
 * whatever the blocks hold.
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
 * common case (a valid free block at the head; a valid block handed back) of a pool whose
 * slow_ is 0; lim_ (the carve count, or 0 when slow_ != 0) gates both, and check compares
 * it with carved.  Nothing else records the carve count (no counter of free blocks is
 * kept: the statistics count the bitmap's bits), so in a
 * pool that must take the full path check cannot tell a damaged carved from blocks handed
 * out or never used; at level 2, where every pool takes the full path, carved_chk_ keeps
 * ~carved and check compares them.  The same code
 * (tarn_block_get_try_, put_try_) opens the out-of-line entries unless the library is
 * built for size (BLOCK_FAST_ENTRY).  The full path tests slow_ once for the states that
 * stop a get (init failed, damage found) and once more for the ones that change a put
 * (damage, callback); only then does it look at the list.  slow_ (BLOCK_SLOW_*) is
 * non-zero for a pool that failed init, a lock hook, a put callback, the quarantine, a
 * pool found corrupt, and in every build whose get/put do more per call (sanitizer
 * annotations, canary mode, level-2 checks, poisoning of freed blocks); the out-of-line
 * tarn_block_get_slow_ and put_slow_ do everything else.  In a pool with a lock hook (the
 * LOCK bit, set by init only) lim_ is 0 from init on and never written again, and the
 * list lives in the ext's head while the pool's head stays END, so the inline paths read
 * nothing that a locked operation (set_put_cb included) writes.
 * The watermark costs the fast path nothing: blocks are carved only when the free list is
 * empty, so the most blocks ever in use since init or the last clear is exactly the number
 * carved, and min_free = count - carved (Mynewt's mp_min_free, which clear resets too).
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
 * linked onto the free list.  Held blocks keep bit 0 (they are not free), are not listed
 * and count as used; put finds them with tarn_q_holds (a second put is TARN_EDOUBLE).  get
 * on a pool with no free block releases the oldest held one.  Extra invariants: every
 * held block is a block start below `carve`, not marked free, held once, and (poison
 * mode) still all poison bytes.
 */
#include "tarn/block.h"

/* Sanitizer annotations of the block pool send every get and put down the full path.
 * Under AddressSanitizer they are on by default (internal.h); Valgrind memcheck's are
 * opt-in (TARN_SANITIZE=1), so that a host which merely has the Valgrind headers keeps
 * the inline fast path. */
#ifndef TARN_SANITIZE
#define TARN_SANITIZE TARN_BLOCK_SANITIZE_
#endif

#include "internal.h"

#define BLOCK_END TARN_BLOCK_END_

/* A rare path kept out of the common one's function; a body copied into each public
 * entry (so that the linker drops the copy of an entry a program does not call). */
#if defined(__GNUC__) || defined(__clang__)
#define BLOCK_NOINLINE __attribute__((noinline))
#define BLOCK_INLINE __attribute__((always_inline)) inline
#else
#define BLOCK_NOINLINE
#define BLOCK_INLINE inline
#endif

/* The out-of-line tarn_block_get_slow_ and put_slow_ (what a caller without the inline
 * paths calls, and what the inline paths call when they cannot finish) start with the
 * same common case as the inline paths (tarn_block_get_try_ and put_try_ of block.h),
 * then go to the full path: out-of-line get+put costs about the inline figure plus two
 * calls.  A library optimised for size (-Os) leaves that copy out: its entries are the
 * full path alone, about 160 bytes less on a Cortex-M.  TARN_BLOCK_FAST_ENTRY 0 or 1
 * chooses. */
#ifdef TARN_BLOCK_FAST_ENTRY
#define BLOCK_FAST_ENTRY TARN_BLOCK_FAST_ENTRY
#elif (defined(__GNUC__) || defined(__clang__)) && !defined(__OPTIMIZE_SIZE__)
#define BLOCK_FAST_ENTRY 1
#else
#define BLOCK_FAST_ENTRY 0
#endif
#if BLOCK_FAST_ENTRY
#define BLOCK_FULL BLOCK_NOINLINE
#else
#define BLOCK_FULL BLOCK_INLINE
#endif

/* Bits of pool->slow_ (any bit set: get and put take the full path, lim_ is 0). */
#define BLOCK_SLOW_BROKEN 2u                    /* init failed */
#define BLOCK_SLOW_LOCK TARN_BLOCK_SLOW_LOCK_   /* lock hook: the list lives in ext_->head */
#define BLOCK_SLOW_CB 8u                        /* put callback */
#define BLOCK_SLOW_QUAR 16u                     /* quarantine on */
#define BLOCK_SLOW_BUILD TARN_BLOCK_SLOW_BUILD_ /* this build does more per get/put */
#define BLOCK_SLOW_CORRUPT 64u                  /* damage found: refuse gets and puts */
/* The bits that stop a get or put before it looks at the list: a pool that failed init,
 * a pool found damaged. */
#define BLOCK_SLOW_STOP (BLOCK_SLOW_BROKEN | BLOCK_SLOW_CORRUPT)

/* Bits of pool->flags_. */
#define BLOCK_F_REPORT 1u   /* TARN_F_SAN_REPORT */
#define BLOCK_F_SAN 2u      /* sanitizer state set up (statically defined pools: lazily) */

#define BLOCK_SLOW_BUILD_BITS TARN_BLOCK_SLOW_BUILD_
#if (TARN_SANITIZE || TARN_GUARD || TARN_POISON_FREE || TARN_CHECK_LEVEL >= 2) != \
    (TARN_BLOCK_SLOW_BUILD_ != 0u)
#error "block.h and block.c see different configurations (TARN_SANITIZE and tarn/config.h)"
#endif

TARN_STATIC_ASSERT(TARN_BLOCK_SIZE(1) >= sizeof(uint32_t), block_holds_link);
TARN_STATIC_ASSERT(TARN_BLOCK_SIZE(1) % 4u == 0, block_size_multiple_of_4);
TARN_STATIC_ASSERT(TARN_BLOCK_SIZE(12) == 12u + TARN_BLOCK_GUARD_BYTES, twelve_byte_blocks);
TARN_STATIC_ASSERT(sizeof(tarn_block_pool) % 4u == 0 && sizeof(tarn_block_ext) % 4u == 0,
                   block_zero_words);

#define BLOCK_GUARD TARN_BLOCK_GUARD_BYTES

/* Usable bytes of a block (the stride less the guard); 0 for a pool that failed init. */
static inline size_t block_usable(const tarn_block_pool *pool)
{
    return (pool->block_size == 0) ? 0u : (size_t)pool->block_size - BLOCK_GUARD;
}

/* Block i's address (i < count). */
static inline unsigned char *block_at(const tarn_block_pool *pool, uint32_t i)
{
    return pool->base + (size_t)i * pool->block_size;
}

/* The block-start test's index of p (see block_q below). */
static inline uintptr_t block_q(const tarn_block_pool *pool, const void *p);

/* The number of blocks: the index the block-start test gives the bitmap's address, which
 * is right after the last block (0 for a pool that failed init and an all-zero
 * struct). */
static inline uint32_t block_count(const tarn_block_pool *pool)
{
    return (uint32_t)block_q(pool, pool->map);
}

/* The carve line: first never-used block. */
static inline unsigned char *block_carve(const tarn_block_pool *pool)
{
    /* base may be NULL (a pool that failed init): no arithmetic on it then */
    return (pool->carved == 0) ? pool->base : block_at(pool, pool->carved);
}

/* A helper the full path calls from several places: one out-of-line copy in a library
 * built for size (a call is smaller than its body), inline in one built for speed. */
#if defined(__OPTIMIZE_SIZE__)
#define BLOCK_SHARED_FN static BLOCK_NOINLINE
#else
#define BLOCK_SHARED_FN static inline
#endif

/* The free list's head: in head, except in a pool with a lock hook, where head stays
 * BLOCK_END for ever (so the inline get, which reads it without the lock, always calls
 * the full path) and the list lives in the ext's head.  The LOCK bit is set by init only,
 * and only in a pool with an ext. */
BLOCK_SHARED_FN uint32_t *block_headp(tarn_block_pool *pool)
{
    return (pool->slow_ & BLOCK_SLOW_LOCK) ? &pool->ext_->head : &pool->head;
}
static inline uint32_t block_head(const tarn_block_pool *pool)
{
    return (pool->slow_ & BLOCK_SLOW_LOCK) ? pool->ext_->head : pool->head;
}

/* The pool's lock hook (in its ext; ext_ and the hook are fixed at init, so reading them
 * without the lock races with nothing). */
#if TARN_LOCKING
BLOCK_SHARED_FN void block_lock(const tarn_block_pool *pool)
{
    if (pool->ext_ != NULL) TARN_LOCK(pool->ext_->lock);
}
BLOCK_SHARED_FN void block_unlock(const tarn_block_pool *pool)
{
    if (pool->ext_ != NULL) TARN_UNLOCK(pool->ext_->lock);
}
#define BLOCK_LOCK(pool) block_lock(pool)
#define BLOCK_UNLOCK(pool) block_unlock(pool)
#else
#define BLOCK_LOCK(pool) ((void)0)
#define BLOCK_UNLOCK(pool) ((void)0)
#endif

/* What lim_ must be: the carve count while get and put may take the inline path, else 0
 * (the inline paths then find every index out of range and call the full path). */
static inline uint32_t block_lim(const tarn_block_pool *pool)
{
    return pool->slow_ == 0 ? pool->carved : 0u;
}

/* Set the carve count.  lim_ is written only when its value changes: in a pool with a
 * lock hook it stays 0, unwritten, so the inline paths may read it without the lock. */
static inline void block_set_carved(tarn_block_pool *pool, uint32_t carved)
{
    pool->carved = carved;
    if (pool->slow_ == 0) pool->lim_ = carved;
#if TARN_CHECK_LEVEL >= 2
    pool->carved_chk_ = ~carved; /* (every pool takes the full path at level 2) */
#endif
}

/* The free bit of block i (i < carved). */
static inline bool block_is_free(const tarn_block_pool *pool, uint32_t i)
{
    return (pool->map[i >> 5] >> (i & 31u)) & 1u;
}
/* Mark block i (i < carved) free; get clears the bit itself (block_take). */
static inline void block_mark_free(tarn_block_pool *pool, uint32_t i)
{
    pool->map[i >> 5] |= (uint32_t)1u << (i & 31u);
}

/* The block-start test's inverse (see the top of this file): odd^-1 modulo 2^(bits of
 * uintptr_t) for block_size = odd << rot_, by Newton's iteration (each step doubles the
 * correct low bits; odd * odd == 1 modulo 8 gives the first three). */
static uintptr_t block_inverse(uint32_t odd_part)
{
    uintptr_t odd = (uintptr_t)odd_part, x = odd;
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
 * >= count (see the top of this file).  inv_ and rot_ are set by init, or are constants
 * of TARN_BLOCK_POOL_DEFINE. */
static inline uintptr_t block_q(const tarn_block_pool *pool, const void *p)
{
    return block_ror(((uintptr_t)p - (uintptr_t)pool->base) * pool->inv_, pool->rot_);
}

/* The bits set in w (no popcount instruction or library call: a Cortex-M has neither). */
static uint32_t block_bits(uint32_t w)
{
    w = w - ((w >> 1) & 0x55555555u);
    w = (w & 0x33333333u) + ((w >> 2) & 0x33333333u);
    w = (w + (w >> 4)) & 0x0F0F0F0Fu;
    return (w * 0x01010101u) >> 24;
}

/* The carved blocks marked free (the ones on the free list in a sound pool): the bits of
 * the bitmap, every one of which at and above the carve line is 0.  O(count / 32).  The
 * caller has verified the geometry (block_geometry: carved <= count, the bitmap where
 * count blocks end). */
static uint32_t block_marked(const tarn_block_pool *pool)
{
    uint32_t n = 0, i;
    for (i = 0; i < (pool->carved + 31u) >> 5; i++) n += block_bits(pool->map[i]);
    return n;
}

/* Free-block link words, accessed only through these (they open the bytes for
 * sanitizers). */
static inline void block_write_link(void *blk, uint32_t next)
{
    TARN_SAN_OPEN(blk, sizeof(uint32_t));
#if defined(__GNUC__) || defined(__clang__)
    *(tarn_block_link_ *)blk = next;
#else
    memcpy(blk, &next, sizeof next);
#endif
    TARN_SAN_CLOSE(blk, sizeof(uint32_t));
}
static inline uint32_t block_read_link(const void *blk)
{
#if TARN_SANITIZE
    uint32_t v;
    tarn_san_peek(&v, blk, sizeof v);
    return v;
#elif defined(__GNUC__) || defined(__clang__)
    return *(const tarn_block_link_ *)blk;
#else
    uint32_t v;
    memcpy(&v, blk, sizeof v);
    return v;
#endif
}

/* What slow_ must be for the pool's settings (a set-up pool). */
static uint32_t block_slow_bits(const tarn_block_pool *pool)
{
    uint32_t s = BLOCK_SLOW_BUILD_BITS | (pool->slow_ & (BLOCK_SLOW_CORRUPT | BLOCK_SLOW_LOCK));
    if (pool->base == NULL) s |= BLOCK_SLOW_BROKEN;
    if (pool->ext_ != NULL && pool->ext_->put_cb != NULL) s |= BLOCK_SLOW_CB;
#if TARN_QUARANTINE > 0
    if (pool->quarantine.on) s |= BLOCK_SLOW_QUAR;
#endif
    return s;
}

/* Recompute slow_ (after a setting changed) and lim_, writing lim_ only when its value
 * changes: in a pool with a lock hook it stays 0, unwritten, so that the inline paths may
 * read it without the lock (see the top). */
static void block_refresh(tarn_block_pool *pool)
{
    uint32_t lim;
    pool->slow_ = (uint8_t)block_slow_bits(pool);
    lim = block_lim(pool);
    /* cppcheck-suppress duplicateConditionalAssign ; not writing an unchanged lim_ is the point */
    if (pool->lim_ != lim) pool->lim_ = lim;
}

/* Damage found: from now on every get and put is refused (TARN_ECORRUPT).  lim_ becomes
 * 0 as block_refresh would make it (written only if it is not 0 already). */
static void block_set_corrupt(tarn_block_pool *pool)
{
    pool->slow_ |= BLOCK_SLOW_CORRUPT;
    /* cppcheck-suppress duplicateConditionalAssign ; not writing an unchanged lim_ is the point */
    if (pool->lim_ != 0u) pool->lim_ = 0u;
}

#if TARN_GUARD
/* True when the guard bytes after blk's usable bytes are intact. */
static inline bool block_guard_ok(const tarn_block_pool *pool, const void *blk)
{
    return tarn_guard_intact((const unsigned char *)blk + block_usable(pool), BLOCK_GUARD);
}
#endif

/* Link validated block i onto the free list (it is NOACCESS for the tools already). */
static BLOCK_INLINE void block_link_free(tarn_block_pool *pool, void *blk, uint32_t i)
{
    uint32_t *headp = block_headp(pool);
    block_write_link(blk, *headp);
    block_mark_free(pool, i);
    *headp = i;
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
    if (!ok) TARN_ERR_SET(pool->last_error, (uint8_t)TARN_ECORRUPT);
    block_link_free(pool, blk, (uint32_t)block_q(pool, blk));
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

/* The fields derived from the block size, set by init (TARN_BLOCK_POOL_DEFINE gives the
 * same values as constant expressions, TARN_BLOCK_INV_ and TARN_BLOCK_ROT_).  bs is a
 * non-zero multiple of 4: the loop ends within 31 steps (no ctz, which is a library call
 * on a Cortex-M0+). */
static BLOCK_INLINE void block_set_derived(tarn_block_pool *pool, uint32_t bs)
{
    unsigned r = 0;
    while (((bs >> r) & 1u) == 0u) r++;
    pool->rot_ = (uint8_t)r;
    pool->inv_ = block_inverse(bs >> r);
}

/* Every out-of-line operation starts here: give the sanitizers their view of the pool
 * (once; a statically defined pool gets it on its first use). */
static inline void block_san_setup(tarn_block_pool *pool)
{
#if TARN_SANITIZE
    if (!(pool->flags_ & BLOCK_F_SAN) && pool->base != NULL) {
        TARN_SAN_POOL_CREATE(pool);
        TARN_SAN_NOACCESS(pool->base, (size_t)((unsigned char *)pool->map - pool->base));
        /* the bitmap is the pool's own: open even if an earlier pool closed those bytes */
        TARN_SAN_DEFINED(pool->map, TARN_BLOCK_MAP_BYTES(block_count(pool)));
        pool->flags_ |= BLOCK_F_SAN;
    }
#else
    (void)pool;
#endif
}

/* O(1) classification of a pointer handed back; *idx receives its block index when it is
 * a block below the carve line.  Caller holds the lock. */
static BLOCK_INLINE tarn_status block_classify(const tarn_block_pool *pool, const void *p,
                                                uint32_t *idx)
{
    uintptr_t q;
    /* One compare on the fast path: a block below the carve line, or not; tell NULL, a
     * block never handed out and a foreign pointer apart only when reporting.  Needed at
     * every level: the bitmap must stay in bounds.  NULL is never below the carve line:
     * a block of the pool lies inside the caller's buffer, which cannot wrap around to
     * address 0 (and a pool without blocks has carved 0). */
    q = block_q(pool, p);
    if (TARN_UNLIKELY(q >= pool->carved)) {
        if (p == NULL) return TARN_EINVAL;
        return (q < block_count(pool)) ? TARN_EDOUBLE : TARN_EFOREIGN;
    }
    *idx = (uint32_t)q;
#if TARN_CHECK_LEVEL >= 1
    if (TARN_UNLIKELY(block_is_free(pool, (uint32_t)q))) return TARN_EDOUBLE;
#endif
#if TARN_QUARANTINE > 0
    /* held blocks are not marked free: look them up (at every level: a block pushed twice
     * would be freed twice when it leaves the ring) */
    if (pool->quarantine.on && tarn_q_holds(&pool->quarantine, p)) return TARN_EDOUBLE;
#endif
#if TARN_GUARD
    if (TARN_UNLIKELY(!block_guard_ok(pool, p))) return TARN_ECORRUPT;
#endif
    return TARN_OK;
}

static tarn_status block_check_locked(const tarn_block_pool *pool);

/* Record a rejected put; with TARN_F_SAN_REPORT also report it to the memory tool. */
static void block_reject(tarn_block_pool *pool, const void *block, tarn_status st)
{
    TARN_ERR_SET(pool->last_error, (uint8_t)st);
#if TARN_SANITIZE
    if ((pool->flags_ & BLOCK_F_REPORT) && (st == TARN_EDOUBLE || st == TARN_EFOREIGN)) {
        TARN_SAN_REPORT_BAD_FREE(pool, block);
    }
#endif
    (void)block;
}

#if TARN_CHECK_LEVEL >= 2
/* Level 2: every get/put first runs the full check; a damaged pool refuses the call. */
#define BLOCK_DEEP_CHECK_FAILS(pool) (block_check_locked(pool) != TARN_OK)
#else
#define BLOCK_DEEP_CHECK_FAILS(pool) 0
#endif

/* floor(n / d), d > 0: the divide instruction where the target has one, else a shift and
 * subtract loop (tarn_udiv32), so that no library division is pulled into the image. */
#if (defined(__arm__) && defined(__ARM_FEATURE_IDIV)) || (defined(__riscv) && defined(__riscv_div)) || \
    defined(__x86_64__) || defined(__i386__) || defined(__aarch64__)
#define BLOCK_UDIV(n, d) ((uint32_t)(n) / (uint32_t)(d))
#else
#define BLOCK_UDIV(n, d) tarn_udiv32((n), (d))
#endif

/* The number of blocks of bs bytes that fit in mem_size bytes with their bitmap (count *
 * bs + MAP_BYTES(count) <= mem_size): k whole groups of 32 blocks and their bitmap word,
 * then r < 32 blocks and one more word.  A group costs 32 * bs + 4 bytes; when that does
 * not fit in 32 bits, no group fits in the buffer either (k = 0). */
static BLOCK_INLINE uint32_t block_fit(uint32_t mem_size, uint32_t bs)
{
    uint32_t count = 0;
    if (bs <= (UINT32_MAX - 4u) / 32u) {
        count = BLOCK_UDIV(mem_size, 32u * bs + 4u);
        mem_size -= count * (32u * bs + 4u);
        count *= 32u;
    }
    if (mem_size >= bs + 4u) count += BLOCK_UDIV(mem_size - 4u, bs);
    return count;
}

/* Zero n bytes (a multiple of 4, p aligned to 4: the pool, its ext, the bitmap) with a
 * loop of word stores (volatile, so that it stays a loop and never becomes a memset call:
 * nothing from the C library in a lean image; NULL is all-zero bits on every target tarn
 * supports). */
static void block_zero(void *p, size_t n)
{
    volatile uint32_t *z = (volatile uint32_t *)p;
    size_t k;
    for (k = 0; k < n / 4u; k++) z[k] = 0u;
}

/* Zero the bitmap (init and clear): the bit of a never-used block then already says "not
 * free", so carving it touches no bitmap word.  O(count / 32) word stores. */
static BLOCK_INLINE void block_zero_map(const tarn_block_pool *pool, uint32_t count)
{
    block_zero(pool->map, TARN_BLOCK_MAP_BYTES(count));
}

/* The whole of init, copied into both entries: in tarn_block_init, ext is NULL and the
 * code that sets up an ext is left out (a program that never calls tarn_block_init_ext
 * does not carry it). */
static BLOCK_INLINE tarn_status block_init_any(tarn_block_pool *pool, tarn_block_ext *ext,
                                               void *mem, size_t mem_size, size_t block_size,
                                               const tarn_config *cfg)
{
    tarn_status st = TARN_EINVAL;
    uint32_t bs, count;
    if (pool == NULL) return TARN_EINVAL;
    block_zero(pool, sizeof *pool);
#if defined(__GNUC__)
    /* volatile stores do not count as initialising for compilers: a program that inlines
     * init (LTO, a Cortex-M0+ -O2 build) warned that a field might be read uninitialised;
     * this empty asm, which may have written *pool, tells them it is set (no code) */
    __asm__("" : "+m"(*pool));
#endif
    pool->head = BLOCK_END;
    pool->slow_ = BLOCK_SLOW_BROKEN;  /* until init succeeds */
#if TARN_CHECK_LEVEL >= 2
    pool->carved_chk_ = ~0u;          /* no block carved */
#endif
    if (ext != NULL) {
        block_zero(ext, sizeof *ext);
        ext->head = BLOCK_END;
        pool->ext_ = ext;
    }
    /* without an ext a config may carry flags only (one test of the three pointers or-ed
     * together); with one, a lock hook needs both callbacks (tested as a branch on the
     * first: !tarn_lock_valid's comparison of two tests is 12 bytes more at -Os) */
    if (mem == NULL || block_size == 0 ||
        (cfg != NULL && (ext == NULL ? (((uintptr_t)cfg->lock.lock | (uintptr_t)cfg->lock.unlock |
                                         (uintptr_t)cfg->name) != 0u)
                                     : (cfg->lock.lock != NULL ? cfg->lock.unlock == NULL
                                                               : cfg->lock.unlock != NULL)))) {
        st = TARN_EINVAL;
    } else if (block_size > (size_t)UINT32_MAX - 8u - BLOCK_GUARD) {
        st = TARN_EOVERFLOW;
    } else if (((uintptr_t)mem & (TARN_BLOCK_LSB_(block_size) - 1u) & ((size_t)TARN_ALIGN - 1u)) != 0u) {
        /* not aligned to TARN_BLOCK_ALIGN_OF(block_size) = min(lowest set bit of the
         * stride, TARN_ALIGN), both powers of two */
        st = TARN_EALIGN;
    } else {
        bs = (uint32_t)TARN_BLOCK_SIZE(block_size);
        /* the blocks' span stays below 4 GiB */
        count = block_fit(mem_size > (size_t)UINT32_MAX ? UINT32_MAX : (uint32_t)mem_size, bs);
        st = TARN_ETOOSMALL;
        if (count != 0) {
            st = TARN_OK;
            pool->base = (unsigned char *)mem;
            pool->map = (uint32_t *)(void *)(pool->base + (size_t)count * bs);
            pool->block_size = bs;
            block_set_derived(pool, bs);
            pool->slow_ = (uint8_t)BLOCK_SLOW_BUILD_BITS;
            if (cfg != NULL) {
                if (ext != NULL) {
#if TARN_LOCKING
                    ext->lock = cfg->lock;
                    if (cfg->lock.lock != NULL) pool->slow_ |= BLOCK_SLOW_LOCK;
#endif
                    ext->name = cfg->name;
                }
#if TARN_SANITIZE
                pool->flags_ = (cfg->flags & TARN_F_SAN_REPORT) ? BLOCK_F_REPORT : 0u;
#endif
#if TARN_QUARANTINE > 0
                tarn_q_init(&pool->quarantine, cfg->flags);
                if (pool->quarantine.on) pool->slow_ |= BLOCK_SLOW_QUAR;
#endif
            }
#if TARN_SANITIZE
            block_san_setup(pool);   /* (opens the bitmap for the memory tools) */
#endif
            block_zero_map(pool, count);
        }
    }
    TARN_ERR_SET(pool->last_error, (uint8_t)st);
    return st;
}

tarn_status tarn_block_init(tarn_block_pool *pool, void *mem, size_t mem_size,
                            size_t block_size, const tarn_config *cfg)
{
    return block_init_any(pool, NULL, mem, mem_size, block_size, cfg);
}

tarn_status tarn_block_init_ext(tarn_block_pool *pool, tarn_block_ext *ext, void *mem,
                                size_t mem_size, size_t block_size, const tarn_config *cfg)
{
    return block_init_any(pool, ext, mem, mem_size, block_size, cfg);
}

/* Take a block (caller holds the lock) into *out: the head of the free list after checking
 * that it names a free block below the carve line, else a never-used block, else
 * (quarantine) the oldest held one.  Returns TARN_OK, or why not: a pool found damaged
 * (TARN_ECORRUPT), an empty pool (TARN_ENOMEM; a pool that failed init has no block and
 * an END head, so it is one), a damaged link (TARN_ECORRUPT; the pool refuses every get
 * and put from now on).  One test of the head covers the common case; everything else
 * is sorted out after it. */
static BLOCK_INLINE tarn_status block_take(tarn_block_pool *pool, unsigned char **out)
{
    uint32_t *headp, i, carved;
    unsigned char *blk;
    if (TARN_UNLIKELY(pool->slow_ & BLOCK_SLOW_CORRUPT)) return TARN_ECORRUPT;
#if TARN_CHECK_LEVEL >= 2
    /* level 2: any damage the full check sees refuses the get, while it lasts */
    if (BLOCK_DEEP_CHECK_FAILS(pool)) return TARN_ECORRUPT;
#endif
#if TARN_SANITIZE
    block_san_setup(pool);
#endif
    headp = block_headp(pool);
    carved = pool->carved;
    for (;;) {
        /* the head came from a free block's link: it must name a free carved block (END
         * is above every carve count) */
        i = *headp;
        if (TARN_LIKELY(i < carved)) {
            if (TARN_UNLIKELY(!block_is_free(pool, i))) break;
            blk = block_at(pool, i);
            *headp = block_read_link(blk);
            pool->map[i >> 5] &= ~((uint32_t)1u << (i & 31u));   /* taken off the list */
            goto take;
        }
        if (i != BLOCK_END) break;
        if (carved < block_count(pool)) {
            /* a never-used block: its bit is 0 already (init and clear zero the bitmap),
             * and it was not listed */
            i = carved;
            block_set_carved(pool, carved + 1u);
            blk = block_at(pool, i);
            goto take;
        }
        /* the quarantine gives back its oldest block rather than let the get fail */
        if (!block_unhold_oldest(pool)) goto empty;
    }
    /* a link that names no free block; but an all-zero struct (never initialised) has
     * head 0 and no block: nothing damaged, nothing to hand out */
    if (block_count(pool) != 0) {
        block_set_corrupt(pool);
        return TARN_ECORRUPT;
    }
empty:
    TARN_STAT(pool->failed_gets++);
    return TARN_ENOMEM;
take:
    *out = blk;
    return TARN_OK;
}

/* The whole of an out-of-line get; *st (if st is not NULL) receives its status.  Copied
 * into both entries, so a program that never asks for the status pays nothing for it. */
static BLOCK_INLINE void *block_get_locked(tarn_block_pool *pool, tarn_status *st)
{
    unsigned char *blk = NULL;
    tarn_status s = TARN_EINVAL;
    if (TARN_LIKELY(pool != NULL)) {
        BLOCK_LOCK(pool);
        s = block_take(pool, &blk);
        if (TARN_LIKELY(s == TARN_OK)) {
#if TARN_GUARD
            tarn_guard_fill(blk + block_usable(pool), BLOCK_GUARD);
#endif
            TARN_SAN_ALLOC(pool, blk, block_usable(pool));
        } else {
            /* a failing get records its reason under this lock: it is this call's */
            TARN_ERR_SET(pool->last_error, (uint8_t)s);
        }
        BLOCK_UNLOCK(pool);
    }
    if (st != NULL) *st = s;
    return blk;
}

void *tarn_block_get_status(tarn_block_pool *pool, tarn_status *st)
{
    return block_get_locked(pool, st);
}

static BLOCK_FULL void *block_get_full(tarn_block_pool *pool)
{
    return block_get_locked(pool, NULL);
}

void *tarn_block_get_slow_(tarn_block_pool *pool)
{
#if BLOCK_FAST_ENTRY
    return tarn_block_get_try_(pool, block_get_full);
#else
    return block_get_full(pool);
#endif
}

/* Free validated block i (caller holds the lock). */
static BLOCK_INLINE void block_release(tarn_block_pool *pool, void *block, uint32_t i)
{
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
        return;
    }
#endif
    block_link_free(pool, block, i);
}

/* The whole of put: validate under the lock; then free the block, or (use_cb and a put
 * callback set) hand it to the callback, without the lock. */
static BLOCK_INLINE tarn_status block_put_any(tarn_block_pool *pool, void *block, bool use_cb)
{
    tarn_status st;
    tarn_block_put_fn cb = NULL;
    uint32_t i = 0;
    if (TARN_UNLIKELY(pool == NULL)) return TARN_EINVAL;
    BLOCK_LOCK(pool);
    block_san_setup(pool);
    /* a bad pointer gets its own status first (changing nothing); a sound one is refused
     * by a pool found corrupt */
    st = block_classify(pool, block, &i);
#if TARN_CHECK_LEVEL >= 2
    if (st == TARN_OK && BLOCK_DEEP_CHECK_FAILS(pool)) st = TARN_ECORRUPT;
#endif
    if (TARN_LIKELY(st == TARN_OK) &&
        TARN_UNLIKELY(pool->slow_ & (BLOCK_SLOW_CORRUPT | BLOCK_SLOW_CB))) {
        if (pool->slow_ & BLOCK_SLOW_CORRUPT) {
            st = TARN_ECORRUPT;
        } else if (use_cb && (cb = pool->ext_->put_cb) != NULL) {
            void *arg = pool->ext_->put_arg;
            BLOCK_UNLOCK(pool);
            return cb(pool, block, arg);
        }
    }
    if (TARN_LIKELY(st == TARN_OK)) {
        block_release(pool, block, i);
    } else {
        block_reject(pool, block, st);
    }
    BLOCK_UNLOCK(pool);
    return st;
}

static BLOCK_FULL tarn_status block_put_full(tarn_block_pool *pool, void *block)
{
    return block_put_any(pool, block, true);
}

tarn_status tarn_block_put_slow_(tarn_block_pool *pool, void *block)
{
#if BLOCK_FAST_ENTRY
    return tarn_block_put_try_(pool, block, block_put_full);
#else
    return block_put_full(pool, block);
#endif
}

tarn_status tarn_block_put_from_cb(tarn_block_pool *pool, void *block)
{
    return block_put_any(pool, block, false);
}

tarn_status tarn_block_validate(tarn_block_pool *pool, const void *block)
{
    tarn_status st;
    uint32_t i;
    if (pool == NULL) return TARN_EINVAL;
    BLOCK_LOCK(pool);
    block_san_setup(pool);
    st = block_classify(pool, block, &i);
    BLOCK_UNLOCK(pool);
    return st;
}

tarn_status tarn_block_set_put_cb(tarn_block_pool *pool, tarn_block_put_fn fn, void *arg)
{
    if (pool == NULL || pool->ext_ == NULL) return TARN_EINVAL;
    BLOCK_LOCK(pool);
    block_san_setup(pool);
    pool->ext_->put_cb = fn;
    pool->ext_->put_arg = arg;
    block_refresh(pool);
    BLOCK_UNLOCK(pool);
    return TARN_OK;
}

long tarn_block_index(const tarn_block_pool *pool, const void *p)
{
    uintptr_t q;
    if (pool == NULL || p == NULL || pool->block_size == 0) return -1;
    /* from the fields fixed at init (or by TARN_BLOCK_POOL_DEFINE) only */
    q = block_q(pool, p);
    return (q < block_count(pool)) ? (long)q : -1;
}

bool tarn_block_owns(const tarn_block_pool *pool, const void *p)
{
    return tarn_block_index(pool, p) >= 0;
}

tarn_status tarn_block_clear(tarn_block_pool *pool)
{
    if (pool == NULL) return TARN_EINVAL;
    BLOCK_LOCK(pool);
    block_san_setup(pool);
    pool->slow_ &= (uint8_t)~BLOCK_SLOW_CORRUPT;   /* every block is free again */
    *block_headp(pool) = BLOCK_END;
    block_set_carved(pool, 0u);
    block_refresh(pool);
    block_zero_map(pool, block_count(pool));
#if TARN_QUARANTINE > 0
    tarn_q_init(&pool->quarantine, pool->quarantine.on ? TARN_F_QUARANTINE : 0u);
#endif
#if TARN_SANITIZE
    pool->flags_ &= (uint8_t)~BLOCK_F_SAN;  /* forget every live chunk: recreate the tool's pool */
    block_san_setup(pool);
#endif
    BLOCK_UNLOCK(pool);
    return TARN_OK;
}

/* The geometry every reader of the bitmap relies on (check, statistics), verified before
 * the bitmap is read, so that a damaged control field never sends a read outside the
 * pool's own bitmap: a pool that failed init (or an all-zero struct) has none (*count 0);
 * otherwise block_size, inv_ and rot_ agree, map - base is a whole number (> 0, < 2^32) of
 * blocks (*count) and the carve line lies within them.  TARN_OK or TARN_ECORRUPT.  O(1). */
static tarn_status block_geometry(const tarn_block_pool *pool, uint32_t *count)
{
    uintptr_t q;
    *count = 0u;
    if (pool->block_size == 0 || pool->base == NULL) {
        /* a pool that failed init, or an all-zero struct: no block, nothing to read */
        return (pool->base == NULL && pool->map == NULL && pool->block_size == 0 &&
                pool->carved == 0u) ? TARN_OK : TARN_ECORRUPT;
    }
    if (pool->block_size % 4u != 0 ||
        pool->inv_ != block_inverse(pool->block_size >> tarn_ctz_u32(pool->block_size)) ||
        pool->rot_ != tarn_ctz_u32(pool->block_size)) {
        return TARN_ECORRUPT;
    }
    /* the derived count: map - base must be a whole number (> 0, < 2^32) of blocks */
    q = block_q(pool, pool->map);
    if (q == 0u || q > (uintptr_t)UINT32_MAX ||
        q * pool->block_size != (uintptr_t)pool->map - (uintptr_t)pool->base ||
        pool->carved > q) {
        return TARN_ECORRUPT;
    }
    *count = (uint32_t)q;
    return TARN_OK;
}

tarn_status tarn_block_stats_get(tarn_block_pool *pool, tarn_block_stats *out)
{
    tarn_status st;
    uint32_t count;
    if (pool == NULL || out == NULL) return TARN_EINVAL;
    BLOCK_LOCK(pool);
    block_san_setup(pool);
    st = block_geometry(pool, &count);
    if (st != TARN_OK) {
        BLOCK_UNLOCK(pool);
        return st;          /* damaged: nothing is read past the control structure */
    }
    out->block_size = block_usable(pool);
    out->count = count;
    /* free: the marked blocks and the never-carved ones; the watermark: blocks are carved
     * only when the list is empty (see "watermark" above) */
    out->free = block_marked(pool) + (count - pool->carved);
    out->min_free = count - pool->carved;
#if TARN_STATS
    out->failed_gets = pool->failed_gets;
#else
    out->failed_gets = 0;
#endif
#if TARN_QUARANTINE > 0
    out->held = pool->quarantine.count;
#else
    out->held = 0;
#endif
    BLOCK_UNLOCK(pool);
    return TARN_OK;
}

/* The quarantine part of the check: every held block is a block start below carve, not
 * marked free, held once, and unchanged since it was put.  The `listed` free blocks lie
 * below carve too, so listed + held cannot exceed the carved blocks. */
static tarn_status block_check_held(const tarn_block_pool *pool, uint32_t listed)
{
#if TARN_QUARANTINE > 0
    const tarn_quarantine *q = &pool->quarantine;
    unsigned i, j;
    if (q->count > TARN_QUARANTINE || q->first >= TARN_QUARANTINE) return TARN_ECORRUPT;
    if (q->count != 0 && !q->on) return TARN_ECORRUPT;
    if ((uint64_t)listed + q->count > pool->carved) return TARN_ECORRUPT;
    for (i = 0; i < q->count; i++) {
        const unsigned char *h = (const unsigned char *)tarn_q_at(q, i);
        uintptr_t k = block_q(pool, h);
        if (k >= pool->carved || block_is_free(pool, (uint32_t)k) || !block_held_intact(pool, h)) {
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
    uint32_t listed = 0, marked = 0, i, count, carved = pool->carved;
    if (block_geometry(pool, &count) != TARN_OK) return TARN_ECORRUPT;
    if (count == 0u) return TARN_OK;     /* a pool that failed init: nothing to follow */
    if (pool->slow_ & BLOCK_SLOW_CORRUPT) return TARN_ECORRUPT;
#if TARN_CHECK_LEVEL >= 2
    if (pool->carved_chk_ != ~carved) return TARN_ECORRUPT;
#endif
    /* the list lives in one head field, the other is END; lim_ mirrors carved exactly
     * when get and put may take the inline path */
    if ((pool->slow_ & BLOCK_SLOW_LOCK) != 0u && (pool->ext_ == NULL || pool->head != BLOCK_END)) {
        return TARN_ECORRUPT;
    }
    /* every bit at and above the carve line is 0 (carving relies on it) */
    for (i = carved >> 5; i < (count + 31u) >> 5; i++) {
        if ((pool->map[i] >> (i == carved >> 5 ? carved & 31u : 0u)) != 0u) {
            return TARN_ECORRUPT;
        }
    }
    if (((pool->slow_ & BLOCK_SLOW_LOCK) == 0u && pool->ext_ != NULL &&
         pool->ext_->head != BLOCK_END) ||
        pool->lim_ != block_lim(pool) || pool->slow_ != block_slow_bits(pool)) {
        return TARN_ECORRUPT;
    }
    /* every link names a carved block marked free, and each is visited once: a list
     * longer than the marked blocks has a cycle or a link to an unmarked block, a shorter
     * one has lost blocks */
    marked = block_marked(pool);
    for (i = block_head(pool); i != BLOCK_END;) {
        if (listed == marked || i >= carved || !block_is_free(pool, i)) return TARN_ECORRUPT;
        listed++;
        i = block_read_link(block_at(pool, i));
    }
    if (listed != marked) return TARN_ECORRUPT;
    if (block_check_held(pool, listed) != TARN_OK) return TARN_ECORRUPT;
#if TARN_GUARD
    for (i = 0; i < carved; i++) {
        if (!block_guard_ok(pool, block_at(pool, i))) return TARN_ECORRUPT;
    }
#endif
    return TARN_OK;
}

tarn_status tarn_block_check(tarn_block_pool *pool)
{
    tarn_status st;
    if (pool == NULL) return TARN_EINVAL;
    BLOCK_LOCK(pool);
    block_san_setup(pool);
    st = block_check_locked(pool);
    BLOCK_UNLOCK(pool);
    return st;
}

tarn_status tarn_block_walk(tarn_block_pool *pool, tarn_block_walk_fn fn, void *ctx)
{
    uint32_t i;
    if (pool == NULL || fn == NULL) return TARN_EINVAL;
    BLOCK_LOCK(pool);
    block_san_setup(pool);
    for (i = 0; i < block_count(pool) && pool->base != NULL; i++) {
        /* from the pool's state only, never from the block's bytes */
        bool used = i < pool->carved && !block_is_free(pool, i);
        unsigned char *b = block_at(pool, i);
#if TARN_QUARANTINE > 0
        if (used && pool->quarantine.on && tarn_q_holds(&pool->quarantine, b)) used = false;
#endif
        if (!fn(ctx, b, block_usable(pool), used)) break;
    }
    BLOCK_UNLOCK(pool);
    return TARN_OK;
}

tarn_status tarn_block_last_error(const tarn_block_pool *pool)
{
    return (pool == NULL) ? TARN_EINVAL : TARN_ERR_GET(pool->last_error);
}

const char *tarn_block_name(const tarn_block_pool *pool)
{
    return (pool == NULL || pool->ext_ == NULL) ? NULL : pool->ext_->name;
}

void *tarn_block_next_free(tarn_block_pool *pool)
{
    void *next = NULL;
    uint32_t h;
    if (pool == NULL) return NULL;
    BLOCK_LOCK(pool);
    block_san_setup(pool);
    h = block_head(pool);
    if (block_count(pool) == 0 || (pool->slow_ & (BLOCK_SLOW_CORRUPT | BLOCK_SLOW_BROKEN)) ||
        BLOCK_DEEP_CHECK_FAILS(pool)) {
        next = NULL;                     /* get refuses */
    } else if (h != BLOCK_END) {
        /* what get will do: a link that names no free block is refused */
        if (h < pool->carved && block_is_free(pool, h)) next = block_at(pool, h);
    } else if (pool->carved < block_count(pool)) {
        next = block_carve(pool);
    }
#if TARN_QUARANTINE > 0
    else if (pool->quarantine.on && pool->quarantine.count > 0) {
        next = tarn_q_at(&pool->quarantine, 0);   /* get would release it */
    }
#endif
    BLOCK_UNLOCK(pool);
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
    BLOCK_LOCK(pool);
    if (pool->quarantine.on) {
        void *blk;
        while ((blk = tarn_q_pop(&pool->quarantine)) != NULL) {
            if (!block_unhold(pool, blk)) st = TARN_ECORRUPT;
        }
    }
    BLOCK_UNLOCK(pool);
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

/* The pool after cur in a registry.  A pool initialised again while registered (which
 * the API forbids) may have lost its ext: the list ends there rather than fault. */
static tarn_block_pool *block_reg_next(const tarn_block_pool *cur)
{
    return (cur->ext_ != NULL) ? cur->ext_->reg_next : NULL;
}

tarn_status tarn_block_register(tarn_block_registry *reg, tarn_block_pool *pool)
{
    tarn_block_pool *cur;
    tarn_status st = TARN_OK;
    if (reg == NULL || pool == NULL || pool->ext_ == NULL) return TARN_EINVAL;
    TARN_LOCK(reg->lock);
    for (cur = reg->head; cur != NULL && cur != pool; cur = block_reg_next(cur)) {
    }
    if (pool->ext_->registry != NULL || cur == pool) {
        st = TARN_EBUSY;  /* linking it twice would make the list a cycle */
    } else if (reg->tail != NULL && reg->tail->ext_ == NULL) {
        st = TARN_EBUSY;  /* the last pool was initialised again without its ext */
    } else {
        pool->ext_->reg_next = NULL;
        pool->ext_->registry = reg;
        if (reg->tail != NULL) {
            reg->tail->ext_->reg_next = pool;
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
    if (pool->ext_ != NULL && pool->ext_->registry == reg) {
        for (cur = reg->head; cur != NULL; prev = cur, cur = block_reg_next(cur)) {
            if (cur == pool) {
                if (prev != NULL) {
                    prev->ext_->reg_next = cur->ext_->reg_next;
                } else {
                    reg->head = cur->ext_->reg_next;
                }
                if (reg->tail == cur) reg->tail = prev;
                cur->ext_->reg_next = NULL;
                cur->ext_->registry = NULL;
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
    } else if (prev->ext_ != NULL && prev->ext_->registry == reg) {
        next = prev->ext_->reg_next;
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
    for (cur = reg->head; cur != NULL; cur = block_reg_next(cur)) {
        if (cur->ext_ != NULL && cur->ext_->name != NULL && block_name_eq(cur->ext_->name, name)) {
            break;
        }
    }
    TARN_UNLOCK(reg->lock);
    return cur;
}
