/*
 * tarn/block.h - block pools: N blocks of one size, O(1) get and put.
 *
 * A block pool hands out fixed-size blocks from a caller buffer.  Get and put are O(1).
 * Never-used blocks are carved from the end of the used part of the buffer on demand
 * instead of being threaded onto the free list at init: init touches no block, only the
 * free bitmap (one 32-bit store per 32 blocks), so init + the first get of every block
 * costs less than a list threaded at init.  At checking
 * level >= 1 (the default) every put is validated in O(1): a foreign pointer, a pointer
 * inside a block and a block that is already free are reported and change nothing.
 *
 * Damage containment: which blocks are free is recorded in a bitmap of one bit per block
 * kept in the caller's buffer after the blocks (TARN_BLOCK_POOL_BYTES counts it), never in
 * the blocks themselves.  So a stale write into a freed block cannot hide a second put of
 * it (still TARN_EDOUBLE), and the free-list link that get reads from a free block is
 * checked against the bitmap before it is followed: a damaged link makes get return NULL
 * with TARN_ECORRUPT, and from then on the pool refuses every get and put (TARN_ECORRUPT)
 * until tarn_block_init or tarn_block_clear.  A get never returns a pointer outside the
 * pool or a block that is handed out, whatever the blocks hold.
 *
 * Speed: with GCC or Clang, tarn_block_get and tarn_block_put are inline; the common case
 * (a pool without lock hook, put callback or debug option; a free block on the list; a
 * valid block handed back) costs about 20 instructions each on x86-64 (bench/block: 44 per
 * get+put pair at checking level 1, 39 at level 0; the bitmap test and update and the
 * link check are about half of it) and calls nothing; the first get of each block is
 * inline too and stores one word (init + first get of 4096 blocks: about 70,000
 * instructions, less than the 74,000 of a list threaded at init).
 * Everything else goes to the out-of-line full path.  Call sites compiled for size (-Os)
 * call the out-of-line tarn_block_get_slow_ and put_slow_ instead of inlining (see
 * TARN_BLOCK_INLINE), as does TARN_BLOCK_NO_INLINE; a library built for speed starts those
 * with the same common case (bench/block: 59 instructions per pair), a library built with
 * -Os goes straight to the full path (108 per pair; a Cortex-M4 program with one pool,
 * one get and one put grows by 712 bytes).  The library and its users must see the same
 * configuration (tarn/config.h), as the pool's layout depends on it anyway.  Sanitizer
 * annotations of the block pool (which send every get and put down the full path) are on
 * by default under AddressSanitizer only; Valgrind memcheck annotations are opt-in (TARN_SANITIZE=1),
 * so that a host with the Valgrind headers installed keeps the inline fast path.
 *
 * Block size and alignment: a block takes its requested size rounded up to a multiple of
 * 4 (at least 4 bytes: a free block holds its 32-bit link), and blocks are aligned to the
 * largest power of two dividing that size, up to TARN_ALIGN: 12-byte blocks take 12 bytes
 * and are 4-aligned, 16-byte blocks 8-aligned.  To ask for more alignment, ask for a size
 * that is a multiple of it (and give a buffer aligned to it).
 *
 * Debug modes (see tarn/config.h): in canary mode (TARN_GUARD=1) each block is followed by
 * TARN_BLOCK_GUARD_BYTES guard bytes that put and tarn_block_check verify (an overflow is
 * TARN_ECORRUPT); the sizing macros below include them, tarn_block_size() does not.  With
 * TARN_QUARANTINE > 0, a pool initialised with TARN_F_QUARANTINE holds put blocks back
 * from reuse so that a use-after-free keeps hitting poisoned memory.
 *
 *     #include "tarn/block.h"
 *     TARN_BLOCK_POOL_DEFINE(rx_pool, 16, 60);      // 16 blocks of >= 60 bytes, static
 *     void *pkt = tarn_block_get(&rx_pool);          // NULL when exhausted
 *     tarn_block_put(&rx_pool, pkt);                 // TARN_OK, or why not
 *
 * Or over any buffer (static, linker section, or taken once from malloc):
 *     static uint8_t mem[TARN_BLOCK_POOL_BYTES(32, sizeof(struct msg))] TARN_BLOCK_ALIGNED;
 *     tarn_block_pool pool;
 *     tarn_status st = tarn_block_init(&pool, mem, sizeof mem, sizeof(struct msg), NULL);
 *
 * A pool with a lock hook, a name, a put callback or a registry entry keeps them in a
 * caller-owned tarn_block_ext, so that the pool itself stays at ten words (40 bytes on a
 * 32-bit part with the statistics of TARN_STATS 1, 36 without):
 *     static tarn_block_ext pool_ext;
 *     tarn_config cfg = { my_lock_hook, "msgs", 0 };
 *     st = tarn_block_init_ext(&pool, &pool_ext, mem, sizeof mem, sizeof(struct msg), &cfg);
 */
#ifndef TARN_BLOCK_H
#define TARN_BLOCK_H

#include "tarn/tarn.h"

#ifdef __cplusplus
extern "C" {
#endif

/**
 * Private: 1 when block.c annotates for a memory tool (and so sends every get and put
 * down the full path): TARN_SANITIZE when the user defines it, else 1 under
 * AddressSanitizer only.  Valgrind annotations of the block pool are opt-in.
 */
#if defined(TARN_SANITIZE)
#define TARN_BLOCK_SANITIZE_ TARN_SANITIZE
#elif defined(__SANITIZE_ADDRESS__)
#define TARN_BLOCK_SANITIZE_ 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define TARN_BLOCK_SANITIZE_ 1
#else
#define TARN_BLOCK_SANITIZE_ 0
#endif
#else
#define TARN_BLOCK_SANITIZE_ 0
#endif

/* ---- sizing -------------------------------------------------------------------------- */
/**
 * Guard bytes after each block: 0, or in canary mode (TARN_GUARD=1) TARN_GUARD_SIZE
 * rounded up to 4.  Constant expression.
 */
#if TARN_GUARD
#define TARN_BLOCK_GUARD_BYTES TARN_ALIGN_UP((size_t)TARN_GUARD_SIZE, 4u)
#else
#define TARN_BLOCK_GUARD_BYTES ((size_t)0)
#endif
/**
 * Bytes of a block the user may use for a requested size: the size rounded up to a
 * multiple of 4, at least 4 (a free block holds its 32-bit free-list link).  This is what
 * tarn_block_size() returns.  Constant expression.
 */
#define TARN_BLOCK_USABLE(size) TARN_ALIGN_UP(TARN_MAX((size_t)(size), (size_t)4), 4u)
/**
 * Bytes of buffer one block takes (the distance between two blocks): its usable bytes
 * plus, in canary mode, TARN_BLOCK_GUARD_BYTES guard bytes.  Without canary mode equal to
 * TARN_BLOCK_USABLE(size).  Constant expression.
 */
#define TARN_BLOCK_SIZE(size) (TARN_BLOCK_USABLE(size) + TARN_BLOCK_GUARD_BYTES)
/** Bytes of the free bitmap for `count` blocks (one bit per block, whole 32-bit words),
 *  kept in the buffer after the blocks.  Constant expression. */
#define TARN_BLOCK_MAP_BYTES(count) ((((size_t)(count) + 31u) / 32u) * 4u)
/** Bytes of buffer needed for `count` blocks of `size` bytes: the blocks and their free
 *  bitmap.  Constant expression. */
#define TARN_BLOCK_POOL_BYTES(count, size) \
    ((size_t)(count) * TARN_BLOCK_SIZE(size) + TARN_BLOCK_MAP_BYTES(count))
/** Smallest usable buffer: one block and its bitmap word. */
#define TARN_BLOCK_MIN_SIZE(size) TARN_BLOCK_POOL_BYTES(1u, size)
/** Alignment the blocks of `size` bytes get (and their buffer needs): the largest power
 *  of two dividing TARN_BLOCK_SIZE(size), at most TARN_ALIGN.  Constant expression. */
#define TARN_BLOCK_ALIGN_OF(size)                                                    \
    ((TARN_BLOCK_SIZE(size) & (0u - TARN_BLOCK_SIZE(size))) < (size_t)TARN_ALIGN      \
         ? (TARN_BLOCK_SIZE(size) & (0u - TARN_BLOCK_SIZE(size))) : (size_t)TARN_ALIGN)
/** Attribute giving a buffer the alignment any block pool may require (GCC/Clang). */
#define TARN_BLOCK_ALIGNED __attribute__((aligned(TARN_ALIGN)))

/* ---- types ----------------------------------------------------------------------------- */
struct tarn_block_pool;
struct tarn_block_registry;

/**
 * Put callback of an extended pool (see tarn_block_set_put_cb).  Called by tarn_block_put
 * after the block has been validated, without the pool lock held; it decides what to do
 * with the block, typically calling tarn_block_put_from_cb() to really return it.
 */
typedef tarn_status (*tarn_block_put_fn)(struct tarn_block_pool *pool, void *block, void *arg);

/**
 * The rarely used settings of a block pool, kept out of the pool itself: the lock hook and
 * name from the config, the put callback, the registry link and (in a pool with a lock
 * hook) the free list.  Caller-owned storage given to tarn_block_init_ext; it must live as
 * long as the pool and belongs to one pool only.  Every field is private.  A pool without
 * one (tarn_block_init, TARN_BLOCK_POOL_DEFINE) has no lock hook, name, put callback or
 * registry membership; everything else works the same.
 */
typedef struct tarn_block_ext {
    tarn_lock lock;                       /**< lock hook from the config */
    const char *name;                     /**< name from the config (may be NULL) */
    tarn_block_put_fn put_cb;             /**< put callback, or NULL */
    void *put_arg;                        /**< argument of put_cb */
    struct tarn_block_pool *reg_next;     /**< registry link */
    struct tarn_block_registry *registry; /**< registry holding the pool, or NULL */
    uint32_t head;                        /**< the free list of a pool with a lock hook */
} tarn_block_ext;

/**
 * A block pool.  The struct is public so that pools can be static and so that get and put
 * can be inlined; every field is private to block.c and the inline functions below: read
 * the pool through the functions.  The first eight words are all that init, get and put
 * use; the ninth points to the optional settings (tarn_block_ext).  36 bytes on a 32-bit
 * part, plus 4 for the failed-get counter when TARN_STATS is 1 (the default), the
 * quarantine ring when TARN_QUARANTINE > 0 and 4 at TARN_CHECK_LEVEL 2.  Neither the
 * number of blocks nor the number of free ones is stored: the bitmap starts right after
 * the last block, so the count is (map - base) / block_size, found without a division
 * (see block.c), and the free blocks are the bits set in the bitmap plus the blocks never
 * carved (counted by tarn_block_stats_get).
 */
typedef struct tarn_block_pool {
    uint32_t head;          /**< free list (index of its first block, TARN_BLOCK_END_ when
                                 empty), except in a pool with a lock hook, whose list is
                                 in ext_->head (head stays TARN_BLOCK_END_) */
    uint32_t lim_;          /**< blocks carved while get and put may take the inline path,
                                 else 0 */
    unsigned char *base;    /**< first block */
    uint32_t *map;          /**< free bitmap (bit i set: block i on the free list), in the
                                 buffer right after the last block */
    uintptr_t inv_;         /**< inverse of block_size's odd part modulo 2^(bits of a
                                 pointer), for put's block-start test */
    /* the four bytes before the words that follow them: at offsets below 32 on a 32-bit
     * part, which Thumb's 2-byte byte loads and stores reach */
    uint8_t rot_;           /**< block_size = odd part << rot_ */
    uint8_t slow_;          /**< why get/put must take the full path in block.c (bits) */
    uint8_t last_error;     /**< tarn_status of the last failed operation */
    uint8_t flags_;         /**< TARN_F_SAN_REPORT given at init; sanitizer state set up */
    uint32_t block_size;    /**< block stride, TARN_BLOCK_SIZE(requested) (guard included) */
    uint32_t carved;        /**< blocks 0 .. carved-1 have been handed out at least once
                                 since init or clear; the rest never were (so the fewest
                                 free blocks since then is count - carved) */
    tarn_block_ext *ext_;   /**< optional settings (tarn_block_init_ext), or NULL */
#if TARN_STATS
    uint32_t failed_gets;   /**< gets that found the pool empty */
#endif
#if TARN_QUARANTINE > 0
    tarn_quarantine quarantine;             /**< debug quarantine (TARN_F_QUARANTINE) */
#endif
#if TARN_CHECK_LEVEL >= 2
    uint32_t carved_chk_;   /**< ~carved: level 2's second record of the carve count */
#endif
} tarn_block_pool;

/** Private: the end of a free list (no block). */
#define TARN_BLOCK_END_ 0xFFFFFFFFu
/** Private: the bit of slow_ set in every pool of a build whose get and put do more per
 *  call (sanitizer annotations, canary mode, poisoning, level-2 checks). */
#if TARN_BLOCK_SANITIZE_ || TARN_GUARD || TARN_POISON_FREE || TARN_CHECK_LEVEL >= 2
#define TARN_BLOCK_SLOW_BUILD_ 32u
#else
#define TARN_BLOCK_SLOW_BUILD_ 0u
#endif
/** Private: the bit of slow_ set by init for a lock hook; the free list then lives in
 *  ext_->head and head stays TARN_BLOCK_END_. */
#define TARN_BLOCK_SLOW_LOCK_ 4u
/** Private: former name of TARN_BLOCK_SLOW_LOCK_ (the list is in ext_->head when it is set). */
#define TARN_BLOCK_SLOW_GET_ TARN_BLOCK_SLOW_LOCK_

/** Private: the lowest set bit of TARN_BLOCK_SIZE(size).  Constant expression. */
#define TARN_BLOCK_LSB_(size) (TARN_BLOCK_SIZE(size) & (0u - TARN_BLOCK_SIZE(size)))
/** Private: rot_ for blocks of `size` bytes, log2 of TARN_BLOCK_LSB_.  Constant expression. */
#define TARN_BLOCK_ROT_(size)                                   \
    ((((TARN_BLOCK_LSB_(size) & 0xFFFF0000u) != 0u) ? 16u : 0u) | \
     (((TARN_BLOCK_LSB_(size) & 0xFF00FF00u) != 0u) ? 8u : 0u) |  \
     (((TARN_BLOCK_LSB_(size) & 0xF0F0F0F0u) != 0u) ? 4u : 0u) |  \
     (((TARN_BLOCK_LSB_(size) & 0xCCCCCCCCu) != 0u) ? 2u : 0u) |  \
     (((TARN_BLOCK_LSB_(size) & 0xAAAAAAAAu) != 0u) ? 1u : 0u))
/** Private: the odd part of TARN_BLOCK_SIZE(size), as a uintptr_t. */
#define TARN_BLOCK_ODD_(size) ((uintptr_t)(TARN_BLOCK_SIZE(size) / TARN_BLOCK_LSB_(size)))
/** Private: one Newton step towards the inverse of odd o modulo 2^(bits of uintptr_t)
 *  (doubles the correct low bits). */
#define TARN_BLOCK_NEWTON_(o, x) ((x) * ((uintptr_t)2u - (o) * (x)))
/** Private: inv_ for blocks of `size` bytes: five steps from o itself (correct to 3
 *  bits) give 96 bits.  Constant expression, the same value block.c computes at init. */
#define TARN_BLOCK_INV_(size)                                                            \
    TARN_BLOCK_NEWTON_(TARN_BLOCK_ODD_(size),                                             \
        TARN_BLOCK_NEWTON_(TARN_BLOCK_ODD_(size),                                         \
            TARN_BLOCK_NEWTON_(TARN_BLOCK_ODD_(size),                                     \
                TARN_BLOCK_NEWTON_(TARN_BLOCK_ODD_(size),                                 \
                    TARN_BLOCK_NEWTON_(TARN_BLOCK_ODD_(size), TARN_BLOCK_ODD_(size))))))

/** Private: the statistics part of TARN_BLOCK_POOL_DEFINE's initialiser. */
#if TARN_STATS
#define TARN_BLOCK_S_INIT_ , 0u
#else
#define TARN_BLOCK_S_INIT_
#endif
/** Private: TARN_BLOCK_POOL_DEFINE's buffer size; SIZE_MAX (no such array) when the
 *  blocks would span 4 GiB or more. */
#define TARN_BLOCK_DEF_BYTES_(count, size)                                                 \
    ((size_t)(count) * TARN_BLOCK_SIZE(size) <= (size_t)0xFFFFFFFFu                        \
         ? TARN_BLOCK_POOL_BYTES(count, size) : (size_t)-1)
/** Private: the level-2 part of TARN_BLOCK_POOL_DEFINE's initialiser. */
#if TARN_CHECK_LEVEL >= 2
#define TARN_BLOCK_C_INIT_ , 0xFFFFFFFFu
#else
#define TARN_BLOCK_C_INIT_
#endif
/** Private: the quarantine part of TARN_BLOCK_POOL_DEFINE's initialiser. */
#if TARN_QUARANTINE > 0
#define TARN_BLOCK_Q_INIT_ , {{NULL}, 0u, 0u, 0u}
#else
#define TARN_BLOCK_Q_INIT_
#endif

/**
 * Declare a static pool `name` of `count` blocks of `size` bytes, usable at once without
 * init (no lock hook, no name): every field is a constant expression, so the pool needs
 * no set-up at run time and its first get is that of any other pool.  Its
 * buffer is the array NAME_mem (the pool's name followed by _mem); to add a lock hook or
 * a name, call tarn_block_init_ext(&pool, &ext, pool_mem, sizeof pool_mem, size, &cfg)
 * at start-up.  As with init, the blocks span less than 4 GiB (a larger pool does not
 * compile: its buffer's size becomes SIZE_MAX).
 */
#define TARN_BLOCK_POOL_DEFINE(name, count, size)                                          \
    static unsigned char name##_mem[TARN_BLOCK_DEF_BYTES_(count, size)] TARN_BLOCK_ALIGNED;  \
    static tarn_block_pool name = {                                                        \
        TARN_BLOCK_END_, 0u, name##_mem,                                                   \
        (uint32_t *)(void *)(name##_mem + (size_t)(count) * TARN_BLOCK_SIZE(size)),        \
        TARN_BLOCK_INV_(size), (uint8_t)TARN_BLOCK_ROT_(size),                             \
        (uint8_t)TARN_BLOCK_SLOW_BUILD_, 0u, 0u, (uint32_t)TARN_BLOCK_SIZE(size), 0u,      \
        NULL TARN_BLOCK_S_INIT_ TARN_BLOCK_Q_INIT_ TARN_BLOCK_C_INIT_}

/** Statistics of a block pool (a consistent snapshot, taken under the lock). */
typedef struct tarn_block_stats {
    size_t block_size;      /**< usable bytes per block (tarn_block_size) */
    uint32_t count;         /**< number of blocks */
    uint32_t free;          /**< blocks free now (quarantined blocks are not free);
                                 counted from the bitmap: O(count / 32) */
    uint32_t min_free;      /**< fewest blocks free since init or the last clear
                                 (high-water mark of use), as Mynewt's mp_min_free */
    uint32_t failed_gets;   /**< gets that returned NULL because the pool was empty */
    uint32_t held;          /**< blocks held in the debug quarantine (0 without it);
                                 they are counted as used: count - free - held are
                                 handed out */
} tarn_block_stats;

/* ---- core API ------------------------------------------------------------------------ */
/**
 * Initialise `pool` over `mem`: as many blocks of TARN_BLOCK_SIZE(block_size) bytes, and
 * their free bitmap, as fit in `mem_size` bytes (TARN_BLOCK_POOL_BYTES(n, block_size) <=
 * mem_size).  Two divisions (the divide instruction where the part has one, else a 32-step
 * loop, never a library division) and one store per bitmap word (count / 32 of them): no
 * block is touched (the buffer may hold garbage).
 * cfg may be NULL (no lock, no name, no flags); a lock hook or a name needs
 * tarn_block_init_ext (here they are TARN_EINVAL).  cfg->flags: TARN_F_SAN_REPORT (bad puts
 * are also reported to the memory tool), TARN_F_QUARANTINE (debug quarantine, when
 * TARN_QUARANTINE > 0: a put block is held back from reuse until TARN_QUARANTINE later
 * puts push it out, or until the pool would otherwise be empty; see
 * tarn_block_quarantine_flush).
 * Errors: TARN_EINVAL (pool or mem NULL, block_size 0, lock hook with only one of
 * lock/unlock, a lock hook or a name without an ext), TARN_EALIGN (mem not aligned to TARN_BLOCK_ALIGN_OF(block_size)), TARN_ETOOSMALL (not even one
 * block fits), TARN_EOVERFLOW (block size of 4 GiB or more; a larger buffer is used up to
 * 4 GiB - 1).  On error the pool
 * is left unusable (every call on it fails cleanly).  Not ISR-safe; not thread-safe
 * (initialise before sharing the pool).  Init clears the pool's registry link: a pool in a
 * registry must be unregistered before it is initialised again.
 */
tarn_status tarn_block_init(tarn_block_pool *pool, void *mem, size_t mem_size,
                            size_t block_size, const tarn_config *cfg);

/**
 * tarn_block_init for a pool with optional settings: `ext` (caller-owned, as long-lived
 * as the pool, one per pool) holds cfg's lock hook and name and, later, the put callback
 * and the registry link.  ext NULL is tarn_block_init itself.  Every field of *ext is
 * written (its old contents do not matter).  Complexity and errors as tarn_block_init;
 * a cfg with a lock hook or a name and no ext is TARN_EINVAL (tarn_block_init has nowhere
 * to keep them; a pool must never silently lose its lock).  Not ISR-safe; not thread-safe.
 */
tarn_status tarn_block_init_ext(tarn_block_pool *pool, tarn_block_ext *ext, void *mem,
                                size_t mem_size, size_t block_size, const tarn_config *cfg);

/**
 * Take one block of tarn_block_size(pool) usable bytes.  O(1).  Returns NULL when the pool
 * is empty (recorded as TARN_ENOMEM in last_error and counted in failed_gets) or pool is
 * NULL, and with TARN_ECORRUPT recorded when the free list's next link does not name a
 * free block of this pool (a write into a freed block): the pool then refuses every get
 * and put until tarn_block_init or tarn_block_clear.  Get reads only the pool and the
 * link word of a free block; it never writes into a block.  The block's contents are undefined.  With the quarantine on, a pool with no free
 * block releases its oldest quarantined block and returns it instead of failing (if that
 * block was written while held, TARN_ECORRUPT is recorded in last_error and the block is
 * still returned).  In canary mode the block's guard bytes are (re)written.
 * Thread-safe with a lock hook; ISR-safe if the hook is (or if no other context uses the
 * pool).  Inline (GCC, Clang, TARN_BLOCK_INLINE): a pool without lock hook, put callback
 * or debug option takes a block off its free list right here; anything else calls
 * tarn_block_get_slow_ (which every get calls where TARN_BLOCK_INLINE is 0).
 */
static inline void *tarn_block_get(tarn_block_pool *pool);

/**
 * Return a block.  O(1).  If the pool has a put callback (tarn_block_set_put_cb) the
 * validated block is handed to it instead; otherwise as tarn_block_put_from_cb.
 * Errors (nothing is changed; recorded in last_error): TARN_EINVAL (pool or block NULL),
 * TARN_EFOREIGN (not a block start of this pool: outside it, or inside a block),
 * TARN_EDOUBLE (block already free, never handed out, or held in the quarantine; decided
 * by the free bitmap, so whatever was written into the block since its first put),
 * TARN_ECORRUPT (canary mode: the block's guard bytes were overwritten, the block stays
 * handed out; or the pool has found damage to its free list and refuses every call until
 * it is initialised or cleared again).  Without checking (TARN_CHECK_LEVEL 0) a second
 * put of a free block is not refused (a later get reports the damage as TARN_ECORRUPT);
 * NULL, foreign and interior pointers, blocks never handed out, quarantined blocks and
 * damaged guards still are (the bitmap must stay in bounds).  With the quarantine on, the block is held instead of freed (O(TARN_QUARANTINE)
 * for the double-put test) and the block pushed out of a full quarantine is freed; if that
 * one was written while held (TARN_POISON_FREE), TARN_ECORRUPT is recorded in last_error
 * but the put still succeeds.  Thread/ISR safety as tarn_block_get.  Inline (GCC, Clang,
 * TARN_BLOCK_INLINE): a valid block of a pool without lock hook, put callback or debug
 * option is validated and linked right here; anything else, every error included, goes
 * to tarn_block_put_slow_ (which every put calls where TARN_BLOCK_INLINE is 0).
 */
static inline tarn_status tarn_block_put(tarn_block_pool *pool, void *block);

/**
 * tarn_block_get with this call's own status in *st (may be NULL): TARN_OK with a block,
 * else NULL and TARN_ENOMEM (empty), TARN_ECORRUPT (the pool is found or was found
 * damaged) or TARN_EINVAL (pool NULL).  The status is decided under the pool's lock, so
 * another thread's failure cannot replace it, as it can replace last_error.  Always takes
 * the out-of-line path.  O(1); safety as tarn_block_get.
 */
void *tarn_block_get_status(tarn_block_pool *pool, tarn_status *st);

/** The full path of tarn_block_get (lock hook, carving, quarantine, debug options,
 *  errors); what the inline tarn_block_get calls when it cannot finish itself.  Same
 *  contract as tarn_block_get; call that instead. */
void *tarn_block_get_slow_(tarn_block_pool *pool);

/** The full path of tarn_block_put (lock hook, put callback, quarantine, debug options,
 *  every error); what the inline tarn_block_put calls when it cannot finish itself.
 *  Same contract as tarn_block_put; call that instead. */
tarn_status tarn_block_put_slow_(tarn_block_pool *pool, void *block);

/** Return a block to the pool bypassing the put callback (for use inside it).  O(1).
 *  Errors as tarn_block_put.  Thread/ISR safety as tarn_block_get. */
tarn_status tarn_block_put_from_cb(tarn_block_pool *pool, void *block);

/**
 * Check, without changing anything, that `block` is a block of this pool that is handed
 * out now.  O(1).  TARN_OK, or the error tarn_block_put would return.  Thread-safe with a
 * lock hook.
 */
tarn_status tarn_block_validate(tarn_block_pool *pool, const void *block);

/** Make the pool extended: tarn_block_put hands validated blocks to fn(pool, block, arg).
 *  fn NULL removes the callback.  The callback is kept in the pool's tarn_block_ext: a
 *  pool initialised without one refuses (TARN_EINVAL, nothing changed), as does a NULL
 *  pool.  O(1).  Thread-safe with a lock hook: in a pool with a lock hook every get and
 *  put takes the lock, and this writes only fields they read under it.  Without a lock
 *  hook, call it only while no other context uses the pool.  Not ISR-safe. */
tarn_status tarn_block_set_put_cb(tarn_block_pool *pool, tarn_block_put_fn fn, void *arg);

/** True when p is the start of one of this pool's blocks (free or not).  O(1), lock-free
 *  (reads only fields fixed at init), ISR-safe. */
bool tarn_block_owns(const tarn_block_pool *pool, const void *p);

/** Index (0..count-1) of the block starting at p, or -1 if p is not a block start.  O(1). */
long tarn_block_index(const tarn_block_pool *pool, const void *p);

/**
 * Return every block to the pool at once, whoever holds it, and empty the quarantine.
 * O(count / 32): the bitmap is zeroed, no block is touched.  Every pointer handed out
 * before becomes invalid, and the watermark (min_free) starts again, as Mynewt's
 * os_mempool_clear resets mp_min_free.  Errors: TARN_EINVAL (pool NULL).  A pool of any
 * count (including one that failed init) is handled.  Thread-safe with a lock hook.
 */
tarn_status tarn_block_clear(tarn_block_pool *pool);

/** Fill *out with a snapshot of the pool's statistics.  O(count / 32): the free blocks are
 *  counted in the bitmap (the pool keeps no counter of them, so get and put update none).
 *  Errors: TARN_EINVAL (NULL); TARN_ECORRUPT when the pool's geometry (block size, its
 *  block-start constants, the bitmap's place, the carve count) is damaged: nothing past the
 *  control structure is read then, and *out is left as it was. */
tarn_status tarn_block_stats_get(tarn_block_pool *pool, tarn_block_stats *out);

/**
 * Full integrity check: walks the free list and the bitmap (O(count)), verifying every
 * link names a carved block whose bit says free, no cycle, that the list holds exactly
 * the blocks the bitmap marks free, and that the count matches.  It reads only inside the
 * pool's buffer, whatever the buffer holds.  With the
 * quarantine on it also verifies every held block (a block of this pool, held once, not
 * free, and with TARN_POISON_FREE still holding only poison bytes: a write after free is
 * reported).  In canary mode it also verifies the guard bytes of every block ever handed
 * out (O(count)): a block whose guard was overwritten (an overflow, perhaps on into the
 * next block) is reported.  TARN_OK or TARN_ECORRUPT (also TARN_EINVAL for NULL); nothing
 * is changed.  Thread-safe with a lock hook.
 */
tarn_status tarn_block_check(tarn_block_pool *pool);

/** Walk callback: one call per block in address order, with its usable size; `used`
 *  tells whether it is handed out.  Return false to stop the walk. */
typedef bool (*tarn_block_walk_fn)(void *ctx, void *block, size_t size, bool used);

/**
 * Call fn for every block of the pool, in address order.  O(count).  The pool lock is held
 * during the walk: fn must not call into this pool.  A block is reported free when the
 * bitmap marks it free, it is held in the quarantine, or it was never handed out: the
 * walk decides from the pool's own state and never reads a block's bytes.  Errors: TARN_EINVAL
 * (pool or fn NULL).
 */
tarn_status tarn_block_walk(tarn_block_pool *pool, tarn_block_walk_fn fn, void *ctx);

/** Status of the last failed operation on this pool (TARN_OK if none).  O(1).  Meant
 *  for a single-threaded caller: with several threads another one's failure may replace
 *  yours (read without the lock, atomically); use tarn_block_get_status there. */
tarn_status tarn_block_last_error(const tarn_block_pool *pool);

/** The pool's name from the config given to tarn_block_init_ext (NULL if none, and for a
 *  pool without a tarn_block_ext).  O(1). */
const char *tarn_block_name(const tarn_block_pool *pool);

/** The block the next tarn_block_get will return, or NULL if the pool is empty.  O(1).
 *  Does not take the block.  Thread-safe with a lock hook. */
void *tarn_block_next_free(tarn_block_pool *pool);

/** Usable bytes of each of the pool's blocks, TARN_BLOCK_USABLE(requested size); guard
 *  bytes of canary mode are not included (0 for NULL or a pool that failed init).  O(1). */
size_t tarn_block_size(const tarn_block_pool *pool);

/**
 * Release every block held in the debug quarantine (oldest first), so that they can be
 * handed out again.  O(TARN_QUARANTINE).  Returns TARN_OK; TARN_ECORRUPT (also recorded
 * as last error) when some held block had been written while held (TARN_POISON_FREE) or
 * its guard damaged: every block is released all the same.  TARN_EINVAL for NULL.
 * Without the quarantine (flag not given, or TARN_QUARANTINE 0) it does nothing.
 * Thread-safe with a lock hook.
 */
tarn_status tarn_block_quarantine_flush(tarn_block_pool *pool);

/* ---- registry: named pools and iteration over all of them ----------------------------- */
/**
 * A caller-owned list of pools (tarn keeps no global state).  Initialise with
 * TARN_BLOCK_REGISTRY_INIT or tarn_block_registry_init().  Registry operations take the
 * registry's own lock hook, never a pool's.
 */
typedef struct tarn_block_registry {
    tarn_block_pool *head;  /**< private */
    tarn_block_pool *tail;  /**< private */
    tarn_lock lock;         /**< private */
} tarn_block_registry;

/** Static initialiser of an empty registry without a lock hook. */
#define TARN_BLOCK_REGISTRY_INIT {NULL, NULL, {NULL, NULL, NULL}}

/** Initialise an empty registry with an optional lock hook (NULL = none).
 *  Errors: TARN_EINVAL (reg NULL or half a lock hook). */
tarn_status tarn_block_registry_init(tarn_block_registry *reg, const tarn_lock *lock);

/** Append a pool (iteration order = registration order).  O(registered pools).  The
 *  link is kept in the pool's tarn_block_ext.  Errors: TARN_EINVAL (NULL, or a pool
 *  initialised without a tarn_block_ext), TARN_EBUSY (pool already in a registry, or still linked in this
 *  one because it was initialised again without being unregistered). */
tarn_status tarn_block_register(tarn_block_registry *reg, tarn_block_pool *pool);

/** Remove a pool.  O(registered pools).  Errors: TARN_EINVAL (NULL), TARN_ENOENT (not in
 *  this registry). */
tarn_status tarn_block_unregister(tarn_block_registry *reg, tarn_block_pool *pool);

/** Pool after `prev` (first pool if prev is NULL); NULL at the end, or if prev is no
 *  longer in this registry.  O(1). */
tarn_block_pool *tarn_block_registry_next(tarn_block_registry *reg, const tarn_block_pool *prev);

/** First registered pool whose name equals `name`; NULL if none or name is NULL.
 *  O(registered pools). */
tarn_block_pool *tarn_block_find(tarn_block_registry *reg, const char *name);

/* ---- inline fast paths of get and put ------------------------------------------------- */
/** Private: a free block's link word, accessed whatever type the user stored there (other
 *  compilers: block.c reads and writes it with memcpy). */
#if defined(__GNUC__) || defined(__clang__)
typedef uint32_t __attribute__((may_alias)) tarn_block_link_;
#endif
/**
 * 1 when tarn_block_get and tarn_block_put do their common case inline at the call site,
 * 0 when they call the out-of-line functions of block.c.  Default: 1 with GCC or Clang,
 * except when the user's code is optimised for size (-Os or -Oz: __OPTIMIZE_SIZE__),
 * where each call site would grow by about 100 bytes; 0 with TARN_BLOCK_NO_INLINE or
 * another compiler.  Define TARN_BLOCK_INLINE to 0 or 1 to choose.  Either way the pool
 * and the library are the same: only the call sites differ.
 */
#ifndef TARN_BLOCK_INLINE
#if (defined(__GNUC__) || defined(__clang__)) && !defined(TARN_BLOCK_NO_INLINE) && \
    !defined(__OPTIMIZE_SIZE__)
#define TARN_BLOCK_INLINE 1
#else
#define TARN_BLOCK_INLINE 0
#endif
#endif
#if TARN_BLOCK_INLINE && !(defined(__GNUC__) || defined(__clang__))
#error "TARN_BLOCK_INLINE 1 needs GCC or Clang"
#endif
#if defined(__GNUC__) || defined(__clang__)
/** Private: the common case of get, or full(pool) for everything else.  The body of the
 *  inline tarn_block_get (full = tarn_block_get_slow_), and the first part of
 *  tarn_block_get_slow_ itself in a library built for speed. */
static inline void *tarn_block_get_try_(tarn_block_pool *pool,
                                         void *(*full)(tarn_block_pool *))
{
    uint32_t h, bit, *w;
    unsigned char *blk;
    if (__builtin_expect(pool == NULL, 0)) return full(pool);
    /* The head came from a free block's link: use it only if it names a carved block that
     * the bitmap says is free.  lim_ is 0 in every pool whose get must take the full path,
     * and the end of the list (TARN_BLOCK_END_) is above every limit: one test covers an
     * empty list, a pool that needs the full path and a link out of range. */
    h = pool->head;
    if (__builtin_expect(h >= pool->lim_, 0)) {
        /* An empty list (END) in a pool that may take the inline path (lim_ != 0) with a
         * block never used: carve it here, so that first use costs no call either.  Init
         * and clear zero the bitmap, so the bit of a never-used block already says
         * "handed out": carving touches the carve count alone. */
        if (h != TARN_BLOCK_END_ || (h = pool->lim_) == 0u) return full(pool);
        /* the bitmap starts right after the last block: past it, no block is left (the
         * blocks span less than 4 GiB, so the offset is a 32-bit product) */
        blk = pool->base + (uint32_t)(h * pool->block_size);
        if (blk >= (unsigned char *)pool->map) return full(pool);
        pool->lim_ = h + 1u;
        pool->carved = h + 1u;
        return blk;
    }
    w = pool->map + (h >> 5);
    bit = (uint32_t)1u << (h & 31u);
    if (__builtin_expect((*w & bit) == 0u, 0)) return full(pool);
    *w &= ~bit;
    blk = pool->base + (uint32_t)(h * pool->block_size);
    pool->head = *(const tarn_block_link_ *)(const void *)blk;
    return blk;
}

/** Private: the common case of put, or full(pool, block) for everything else (as
 *  tarn_block_get_try_). */
static inline tarn_status tarn_block_put_try_(tarn_block_pool *pool, void *block,
                                              tarn_status (*full)(tarn_block_pool *, void *))
{
    uintptr_t q;
    unsigned r;
    uint32_t bit, *w;
    if (__builtin_expect(pool == NULL, 0)) return full(pool, block);
    /* Block start test (Granlund-Montgomery): with block_size = odd << rot_ and inv_ the
     * inverse of odd, rotating (offset * inv_) right by rot_ gives offset / block_size
     * when the offset is a multiple of block_size, and a number above every block index
     * when it is not (an offset below base wraps to a huge one).  So one compare against
     * the blocks carved accepts exactly the blocks that may be handed out; and since lim_
     * is 0 in every pool whose put must take the full path, it covers that too.  Then
     * (checking level >= 1) the block's bit must say "not free".  Anything refused here
     * (NULL too) is sorted out by the full path. */
    q = ((uintptr_t)block - (uintptr_t)pool->base) * pool->inv_;
    r = (unsigned)pool->rot_;
    q = (q >> r) | (q << ((0u - r) & (unsigned)(sizeof(uintptr_t) * 8u - 1u)));
    if (__builtin_expect(q >= pool->lim_, 0)) return full(pool, block);
    w = pool->map + (q >> 5);
    bit = (uint32_t)1u << (q & 31u);
#if TARN_CHECK_LEVEL >= 1
    if (__builtin_expect((*w & bit) != 0u, 0)) return full(pool, block);
#endif
    *w |= bit;
    *(tarn_block_link_ *)block = pool->head;
    pool->head = (uint32_t)q;
    return TARN_OK;
}
#endif

#if TARN_BLOCK_INLINE
static inline void *tarn_block_get(tarn_block_pool *pool)
{
    return tarn_block_get_try_(pool, tarn_block_get_slow_);
}

static inline tarn_status tarn_block_put(tarn_block_pool *pool, void *block)
{
    return tarn_block_put_try_(pool, block, tarn_block_put_slow_);
}
#else
static inline void *tarn_block_get(tarn_block_pool *pool)
{
    return tarn_block_get_slow_(pool);
}
static inline tarn_status tarn_block_put(tarn_block_pool *pool, void *block)
{
    return tarn_block_put_slow_(pool, block);
}
#endif

#ifdef __cplusplus
}
#endif

#endif /* TARN_BLOCK_H */
