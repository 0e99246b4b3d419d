/*
 * tarn/lfblock.h - lock-free block pool: N blocks of one size, get and put safe from any
 * number of threads, interrupt handlers and cores at once, without a lock.
 *
 * The free list is a stack of block indices.  Its head (index of the top block plus an
 * ABA tag) is one machine word changed by a single compare-and-swap; the link of each
 * free block lives in a per-block state word at the front of the buffer, never inside
 * the block, so a block handed out is never read by the pool.  Never-used blocks are
 * carved on demand by an atomic bump index when the free list is empty, so init is O(1).
 * No counter is shared by get and put: the free count and the watermark of the
 * statistics are worked out from the state words and the carve index when they are
 * read, so two cores taking and returning blocks contend for the list head alone.
 *
 *     #include "tarn/lfblock.h"
 *     static uint8_t mem[TARN_LFBLOCK_POOL_BYTES(32, sizeof(struct msg))] TARN_LFBLOCK_ALIGNED;
 *     static tarn_lfblock_pool pool;
 *     tarn_lfblock_init(&pool, mem, sizeof mem, sizeof(struct msg), NULL);  // at start-up
 *     struct msg *m = tarn_lfblock_get(&pool);     // any thread, ISR or core; NULL if empty
 *     tarn_lfblock_put(&pool, m);                  // TARN_OK, or why not
 *
 * Word width and the lock-free guarantee (decided at compile time, see
 * TARN_LFBLOCK_WORD_BITS below)
 *   64  where a 64-bit CAS is lock-free (x86-64, AArch64, 32-bit x86): 32-bit tag over a
 *       block index of up to 32 bits.
 *   32  on 32-bit parts with a lock-free 32-bit CAS (Cortex-M3/M4/M7/M33 via LDREX/STREX,
 *       RV32 with the A extension via LR/SC): the index takes as few bits as the block
 *       count needs (at most 16, so at most TARN_LFBLOCK_MAX_COUNT = 65535 blocks) and the
 *       tag gets the rest (at least 16 bits).
 *   0   FALLBACK, no lock-free CAS of a usable width (Cortex-M0/M0+ and other ARMv6-M
 *       parts, RV32 without the A extension, compilers that do not predefine
 *       __GCC_ATOMIC_INT_LOCK_FREE): get and put run the same algorithm under the lock hook
 *       of the config, which is then REQUIRED (init fails with TARN_EINVAL without one).
 *       On a single core the hook should mask interrupts (a critical section); see
 *       ports/README.md.  TARN_LFBLOCK_LOCK_FREE is 0 in this build, so code can test it.
 *
 * Load-linked/store-conditional (TARN_LFBLOCK_LLSC 1, decided at compile time below)
 *   On ARMv7-M and ARMv8-M parts (Cortex-M3/M4/M7/M23/M33/M55/M85: LDREX/STREX;
 *   detected by __ARM_ARCH_7M__, __ARM_ARCH_7EM__, __ARM_ARCH_8M_MAIN__,
 *   __ARM_ARCH_8_1M_MAIN__, or __ARM_FEATURE_LDREX with word support on ARMv7 and later;
 *   32-bit Cortex-A/R builds normally have a lock-free 64-bit CAS and so 64-bit words)
 *   and on RV32 with the A extension (__riscv_atomic: LR.W/SC.W), whenever the head word
 *   is 32 bits, get and put change the head with a load-exclusive ... store-exclusive pair
 *   in inline assembly instead of a C11 compare-and-swap.  Everything a get decides from
 *   (the top block, its link, the link check) is read between the two, and the
 *   store-exclusive fails if the head was stored to by anyone (another get or put,
 *   another core) or an exception was taken since the load-exclusive (M-profile cores
 *   clear the local monitor on exception entry and return; on RISC-V any store
 *   to the reservation set, and a trap's own SC of the head, does it).  So a pop is
 *   ABA-free by construction: it can only succeed on a head nobody touched since it was
 *   read, however many operations other contexts completed meanwhile.  The tag is still
 *   stored and bumped (the head word, tarn_lfblock_check and the statistics are the
 *   same on every target) but correctness does not rest on it there; the statistics'
 *   `llsc` field says which build this is.  Note for RISC-V: the pop is an
 *   "unconstrained" LR/SC sequence (it loads the link between LR and SC), which the ISA
 *   does not promise to make progress on every implementation; the cores we know of
 *   (and QEMU) do.  Define TARN_LFBLOCK_LLSC 0 to force the portable C11 path.
 *   Only optimised builds (__OPTIMIZE__: -O1 and up, -Os, -Og) choose LL/SC by themselves:
 *   at -O0 the compiler keeps every variable on the stack, so the code between the
 *   load-exclusive and the store-exclusive stores to memory, which on some cores ends the
 *   reservation every time (Cortex-M local monitors treat every address as the reserved
 *   one and the architecture leaves the effect of a plain store to it to the
 *   implementation; some RISC-V cores fail an SC after any store) and get/put would never
 *   finish.  An -O0 build uses the C11 path; -DTARN_LFBLOCK_LLSC=1 forces LL/SC anyway.
 *
 * ABA and the tag-wrap bound (the C11 path: hosts, 64-bit words, other 32-bit parts)
 *   Every successful change of the head (a get from the free list or a put) adds one to
 *   the tag.  A get that read the head and is then pre-empted can be fooled (ABA) only if,
 *   before it resumes, the head changes back to the very same word: the same top block
 *   AND the same tag.  That takes at least 2^T successful gets/puts on this pool by other
 *   contexts while it is stopped between its two steps, where T is the tag width:
 *   T = 64 - index bits (>= 32) with 64-bit words, T = 32 - index bits (>= 16) with
 *   32-bit words, where index bits = floor(log2(count)) + 1 (e.g. 256 blocks: 9 index
 *   bits, 23 tag bits, 8 388 608 operations).  tarn_lfblock_stats_get reports T.  The
 *   window to protect is a handful of instructions; size T so that no context can be
 *   stopped there for 2^T operations (a task pre-empted by a storm of ISR puts is the case
 *   to think about).  The fallback build has no ABA window, nor has the LL/SC build.
 *
 * Progress
 *   Each attempt of a get or put is wait-free: a fixed number of instructions, no loop.
 *   An attempt fails and is retried only when another get or put on the same pool
 *   succeeded in between (or, on LL/SC machines, when an interrupt or another core's
 *   access to the same cache line broke the reservation).  So a call makes at most
 *   1 + k attempts, where k is the number of gets and puts that complete on the pool
 *   during the call plus the reservation losses: an interrupt handler that nothing
 *   pre-empts succeeds at its first attempt on a single core.  The failed attempts are
 *   counted in tarn_lfblock_stats.retries.
 *
 * Speed: where get and put are inline (TARN_LFBLOCK_INLINE, below: GCC or Clang, the C11
 * build, call sites not compiled for size), their common case (a sound link on top of
 * a non-empty list, a valid block handed back, no CAS lost) runs at the call site:
 * bench/block, x86-64, 53 instructions per get+put pair at checking level 1 (statistics
 * on or off: get and put update no counter).  Everything else, every error
 * included, goes to tarn_lfblock_get_slow_ / tarn_lfblock_put_slow_ (or, for a put whose
 * claim finds the block not handed out, tarn_lfblock_refuse_) before anything is changed,
 * so the guarantees below are those of the full path.  The LL/SC build (Cortex-M3 and up,
 * RV32A), the fallback build and -Os call sites always call the out-of-line functions.
 *
 * Validation (TARN_CHECK_LEVEL >= 1, the default): every put is checked in O(1) without a
 * lock.  Guarantees: a pointer outside the pool or inside a block is refused
 * (TARN_EFOREIGN); a block that is not handed out now (never handed out, or already put)
 * is refused (TARN_EDOUBLE), and when two contexts put the same block at once exactly one
 * succeeds and the other gets TARN_EDOUBLE.  The one case not caught: a put of a block by
 * a context that does not own it, racing with the get that is handing the block out (the
 * caller could only know that pointer by guessing).  Level 2 adds nothing here: a full
 * walk cannot run while other contexts change the pool (use tarn_lfblock_check on a
 * quiescent pool).  Level 0 checks nothing but NULL.
 *
 * The late second put.  "Exactly one of two racing puts succeeds" holds only while no get
 * runs between them.  The free list is last-in first-out: the block just put is the next
 * one a get returns.  So when a context puts a block it no longer owns (a stale pointer:
 * a double free) after the owner's own put, and any get completes in between, the block
 * has been handed out again and the late put is accepted: the block is then both handed
 * out and free, and will be handed out twice.  In a busy pool this is the usual outcome,
 * not a rare one: with one other context getting and another doing get/put pairs, about
 * two thirds of late puts arriving a few scheduler yields after the first were accepted
 * (tests/test_mt_lfblock_race.c, 2 cores).  No check in put can tell it from the new
 * owner's put.  The defense is the debug quarantine (TARN_QUARANTINE > 0 and
 * TARN_F_QUARANTINE at init): a put holds the block in the ring instead of freeing it, so
 * no get hands it out until TARN_QUARANTINE later puts push it out, and a second put of
 * a held block is TARN_EDOUBLE.  It catches every late put that comes within
 * TARN_QUARANTINE puts on this pool after the first (the same test: 0 of 4000 accepted);
 * a later one is not caught.  Size TARN_QUARANTINE for the puts the pool sees during the
 * longest delay to cover, and turn it on in debug and test builds.
 */
#ifndef TARN_LFBLOCK_H
#define TARN_LFBLOCK_H

#include "tarn/tarn.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- word width (override with -DTARN_LFBLOCK_WORD_BITS=0/32/64 or the config file) ---- */
#ifndef TARN_LFBLOCK_WORD_BITS
#if defined(__GCC_ATOMIC_LLONG_LOCK_FREE) && (__GCC_ATOMIC_LLONG_LOCK_FREE == 2) && \
    defined(__SIZEOF_LONG_LONG__) && (__SIZEOF_LONG_LONG__ == 8)
/** Width of the free-list head word: 64, a 64-bit CAS is lock-free here. */
#define TARN_LFBLOCK_WORD_BITS 64
#elif defined(__GCC_ATOMIC_INT_LOCK_FREE) && (__GCC_ATOMIC_INT_LOCK_FREE == 2) && \
    defined(__SIZEOF_INT__) && (__SIZEOF_INT__ == 4)
/** Width of the free-list head word: 32, a 32-bit CAS is lock-free here. */
#define TARN_LFBLOCK_WORD_BITS 32
#else
/** Width of the free-list head word: 0, no usable lock-free CAS (lock-hook fallback). */
#define TARN_LFBLOCK_WORD_BITS 0
#endif
#endif

#if TARN_LFBLOCK_WORD_BITS == 64
/** The free-list head word (tag and top index), changed by one 64-bit CAS. */
typedef uint64_t tarn_lfblock_word;
/** 1 when get/put are lock-free in this build, 0 in the lock-hook fallback. */
#define TARN_LFBLOCK_LOCK_FREE 1
/** Most blocks one pool manages (a larger buffer is used only up to this many). */
#define TARN_LFBLOCK_MAX_COUNT 0xFFFFFFFEu
#elif TARN_LFBLOCK_WORD_BITS == 32
/** The free-list head word (tag and top index), changed by one 32-bit CAS. */
typedef uint32_t tarn_lfblock_word;
/** 1 when get/put are lock-free in this build, 0 in the lock-hook fallback. */
#define TARN_LFBLOCK_LOCK_FREE 1
/** Most blocks one pool manages (the index takes at most 16 bits of the head word). */
#define TARN_LFBLOCK_MAX_COUNT 65535u
#elif TARN_LFBLOCK_WORD_BITS == 0
/** The free-list head word (tag and top index), changed under the lock hook. */
typedef uint32_t tarn_lfblock_word;
/** 1 when get/put are lock-free in this build, 0 in the lock-hook fallback. */
#define TARN_LFBLOCK_LOCK_FREE 0
/** Most blocks one pool manages (a larger buffer is used only up to this many). */
#define TARN_LFBLOCK_MAX_COUNT 65535u
#else
#error "TARN_LFBLOCK_WORD_BITS must be 0 (lock fallback), 32 or 64"
#endif

/* ---- LL/SC (override with -DTARN_LFBLOCK_LLSC=0 to force the C11 compare-and-swap) ----- */
#ifndef TARN_LFBLOCK_LLSC
#if TARN_LFBLOCK_WORD_BITS == 32 && defined(__GNUC__) && defined(__OPTIMIZE__) &&            \
    ((defined(__arm__) &&                                                                      \
      (defined(__ARM_ARCH_7M__) || defined(__ARM_ARCH_7EM__) || defined(__ARM_ARCH_8M_MAIN__) || \
       defined(__ARM_ARCH_8_1M_MAIN__) ||                                                      \
       (defined(__ARM_FEATURE_LDREX) && (__ARM_FEATURE_LDREX & 4) && defined(__ARM_ARCH) &&     \
        __ARM_ARCH >= 7))) ||                                                                  \
     (defined(__riscv) && defined(__riscv_atomic) && defined(__riscv_xlen) && __riscv_xlen == 32))
/** 1: get and put change the head with load-exclusive/store-exclusive (ABA-free). */
#define TARN_LFBLOCK_LLSC 1
#else
/** 0: get and put change the head with a C11 compare-and-swap (or under the lock). */
#define TARN_LFBLOCK_LLSC 0
#endif
#endif
#if TARN_LFBLOCK_LLSC && TARN_LFBLOCK_WORD_BITS != 32
#error "TARN_LFBLOCK_LLSC needs a 32-bit head word (TARN_LFBLOCK_WORD_BITS 32)"
#endif

/* ---- sizing -------------------------------------------------------------------------- */
/** Guard bytes after each block in canary mode (TARN_GUARD), else 0. */
#if TARN_GUARD
#define TARN_LFBLOCK_GUARD TARN_GUARD_SIZE
#else
#define TARN_LFBLOCK_GUARD 0u
#endif
/** True size of one block for a requested size: a multiple of 4 holding the size and, in
 *  canary mode, TARN_LFBLOCK_GUARD guard bytes (the pool keeps nothing else inside blocks:
 *  12-byte blocks take 12 bytes, 1-byte blocks 4).  Blocks are aligned to the largest
 *  power of two dividing it, up to TARN_ALIGN (TARN_LFBLOCK_ALIGN_OF): a block is aligned
 *  for any type whose size it was asked for; to ask for more alignment, ask for a size that
 *  is a multiple of it.  Constant expr. */
#define TARN_LFBLOCK_SIZE(size) \
    TARN_ALIGN_UP(TARN_MAX((size_t)(size), (size_t)1) + TARN_LFBLOCK_GUARD, 4u)
/** Alignment the blocks of `size` bytes get: the largest power of two dividing
 *  TARN_LFBLOCK_SIZE(size), at most TARN_ALIGN.  Constant expression. */
#define TARN_LFBLOCK_ALIGN_OF(size)                                                      \
    ((TARN_LFBLOCK_SIZE(size) & (0u - TARN_LFBLOCK_SIZE(size))) < (size_t)TARN_ALIGN      \
         ? (TARN_LFBLOCK_SIZE(size) & (0u - TARN_LFBLOCK_SIZE(size))) : (size_t)TARN_ALIGN)
/** Bytes of a block the user may use: TARN_LFBLOCK_SIZE(size) less the guard bytes. */
#define TARN_LFBLOCK_USABLE(size) (TARN_LFBLOCK_SIZE(size) - TARN_LFBLOCK_GUARD)
/** Bytes of state words for `count` blocks (4 per block, rounded up to TARN_ALIGN). */
#define TARN_LFBLOCK_META_BYTES(count) TARN_ALIGN_UP((size_t)(count) * 4u, TARN_ALIGN)
/** Bytes of buffer (aligned to TARN_ALIGN) needed for `count` blocks of `size` bytes. */
#define TARN_LFBLOCK_POOL_BYTES(count, size) \
    (TARN_LFBLOCK_META_BYTES(count) + (size_t)(count) * TARN_LFBLOCK_SIZE(size))
/** Smallest usable buffer: one block and its state word. */
#define TARN_LFBLOCK_MIN_SIZE(size) TARN_LFBLOCK_POOL_BYTES(1u, size)
/** Attribute giving a buffer the alignment the pool requires (GCC/Clang). */
#define TARN_LFBLOCK_ALIGNED __attribute__((aligned(TARN_ALIGN)))

/* ---- types ----------------------------------------------------------------------------- */
/**
 * A lock-free block pool.  Public so that pools can be static; every field is private to
 * lfblock.c (the fields marked "atomic" are accessed only through C11 atomics there, so
 * this header stays C99).  Read the pool through the functions below.
 */
typedef struct tarn_lfblock_pool {
    /** atomic: free-list head, (tag << index bits) | index of the top block; index ==
     * count means the list is empty.  Aligned to its size so one CAS covers it. */
    tarn_lfblock_word head __attribute__((aligned(sizeof(tarn_lfblock_word))));
    uint32_t idx_mask;          /**< (1 << index bits) - 1: the head's index part */
    uint32_t carve;             /**< atomic: blocks [carve, count) were never handed out;
                                     a get carves only after it found the list empty, so
                                     count - carve is the fewest blocks ever free */
    /* the two bytes early: at offsets below 32 on a 32-bit part, which Thumb's 2-byte
     * byte loads and stores reach */
    uint8_t rot_;               /**< block_size = odd part << rot_ */
    uint8_t last_error;         /**< atomic: tarn_status of the latest failed operation */
#if TARN_STATS
    uint32_t failed_gets;       /**< atomic: gets that found the pool empty */
    uint32_t retries;           /**< atomic: CAS attempts that failed and were retried */
#endif
    uint32_t block_size;        /**< true block size, TARN_LFBLOCK_SIZE(requested) */
    uint32_t count;             /**< number of blocks; 0 after a failed init */
    uint32_t flags;             /**< atomic: cfg->flags at init (TARN_F_SAN_REPORT,
                                     TARN_F_QUARANTINE) and the sticky damage bit */
    uint32_t *state;            /**< per-block words: next index while free, USED while out */
    unsigned char *base;        /**< first block, aligned to TARN_ALIGN */
    uintptr_t inv_;             /**< inverse of block_size's odd part modulo 2^(bits of a
                                     pointer): O(1) block-start test without a divide */
    const char *name;           /**< name from tarn_config, or NULL */
#if !TARN_LFBLOCK_LOCK_FREE
    tarn_lock lock;             /**< the fallback build's lock hook (get/put run under it) */
#endif
#if TARN_QUARANTINE > 0
    uint32_t q_next;            /**< atomic: ring cursor of the debug quarantine */
    uint32_t q_held;            /**< atomic: blocks held in the quarantine */
    uint32_t q_slot[TARN_QUARANTINE]; /**< atomic: index + 1 of a held block, 0 = empty */
#endif
} tarn_lfblock_pool;

/**
 * Statistics of a lock-free pool.  Each field is read atomically, but not all at the
 * same instant: while other contexts work, `free` and `min_free` may be off by the
 * operations in flight.  On a quiescent pool every field is exact.
 */
typedef struct tarn_lfblock_stats {
    size_t block_size;     /**< usable bytes of a block (TARN_LFBLOCK_USABLE) */
    uint32_t count;        /**< number of blocks */
    uint32_t free;         /**< free blocks: the never-carved ones and the carved ones
                                whose state word is a link, counted when the statistics
                                are read (O(count)).  A put's block counts as free from
                                its claim, a get's as taken once it is marked handed
                                out, so while no get or put is in flight it is exact */
    uint32_t min_free;     /**< fewest blocks ever free (use high-water mark): count -
                                carve, since a get carves a block only after it found
                                the free list empty.  Exact in one context; with gets
                                and puts racing it can only be lower than the true
                                minimum (a put that refilled the list while a get was
                                deciding to carve), never higher */
    uint32_t failed_gets;  /**< gets that returned NULL because the pool was empty */
    uint32_t held;         /**< blocks held in the debug quarantine (not free; 0 without
                                it) */
    uint32_t retries;      /**< failed CAS or store-exclusive attempts (contention, and
                                on LL/SC parts interrupts; see Progress above) */
    uint32_t tag_bits;     /**< ABA tag width T: ABA needs 2^T operations in one window
                                (C11 path); 0 in the fallback build (no ABA window).  In
                                the LL/SC build (llsc) the tag is kept but ABA cannot
                                happen at all */
    bool lock_free;        /**< TARN_LFBLOCK_LOCK_FREE of the build */
    bool llsc;             /**< TARN_LFBLOCK_LLSC of the build: get/put use LL/SC, so ABA
                                cannot happen whatever tag_bits is */
} tarn_lfblock_stats;

/* ---- API --------------------------------------------------------------------------------- */
/**
 * Initialise `pool` over `mem`: state words for N blocks at the front, then N blocks of
 * TARN_LFBLOCK_SIZE(block_size) bytes, N as large as fits (at most TARN_LFBLOCK_MAX_COUNT,
 * and the blocks must span less than 4 GiB; the rest of a larger buffer is left alone).
 * O(1): no block and no state word is touched (the buffer may hold garbage).
 * cfg may be NULL (no lock, no name, no flags); cfg->flags may hold TARN_F_SAN_REPORT
 * (a refused put is also reported to ASan/Valgrind; see tarn.h).  In the lock-free build the
 * lock hook is accepted and not used; in the fallback build (TARN_LFBLOCK_LOCK_FREE 0) it
 * is required.
 * Errors: TARN_EINVAL (pool or mem NULL, block_size 0, a lock hook with only one of
 * lock/unlock, or no lock hook in the fallback build), TARN_EALIGN (mem not aligned to
 * TARN_ALIGN), TARN_ETOOSMALL (not even one block fits, see TARN_LFBLOCK_MIN_SIZE),
 * TARN_EOVERFLOW (true block size of 4 GiB or more).  On error (pool non-NULL) the pool is
 * left empty: every get returns NULL and every put fails cleanly.
 * Not thread-safe: initialise before other contexts see the pool (the act of publishing
 * it, e.g. creating the threads or enabling the interrupt, must order the init first).
 */
tarn_status tarn_lfblock_init(tarn_lfblock_pool *pool, void *mem, size_t mem_size,
                              size_t block_size, const tarn_config *cfg);

/**
 * Take one block: the top of the free list, else (the list found empty) a never-used
 * block while any remain.
 * Lock-free, O(1) per attempt (see Progress).  Returns NULL when the pool is empty
 * (recorded as TARN_ENOMEM in last_error and counted in failed_gets) or pool is NULL.
 * An empty result is exact: at one instant during the call no block was free.
 * Damage (TARN_CHECK_LEVEL >= 1): a free-list link that names no free block of this pool
 * (a stray write into the state words) is never followed: the get returns NULL with
 * TARN_ECORRUPT (last_error, tarn_lfblock_get_status), and from then on the pool is
 * marked damaged: every later get is refused the same way, and tarn_lfblock_check
 * reports TARN_ECORRUPT, until tarn_lfblock_init.  Puts are still accepted (they follow
 * no link), so owners can return their blocks.
 * The block's contents are undefined; everything the previous owner wrote before its put
 * happens-before the return (acquire/release).  Safe from any thread, ISR or core,
 * concurrently with any get and put (fallback build: as safe as the lock hook).
 * Inline (TARN_LFBLOCK_INLINE): the common case runs at the call site, anything else calls
 * tarn_lfblock_get_slow_ (see Speed above).
 */
static inline void *tarn_lfblock_get(tarn_lfblock_pool *pool);

/** The whole of tarn_lfblock_get, out of line: what the inline get calls for everything
 *  but its common case, and what every get calls where TARN_LFBLOCK_INLINE is 0.  Same
 *  contract, safety and errors as tarn_lfblock_get. */
void *tarn_lfblock_get_slow_(tarn_lfblock_pool *pool);

/** tarn_lfblock_get with this call's own status in *st (may be NULL): TARN_OK with a
 *  block, else NULL and TARN_ENOMEM (no free block), TARN_ECORRUPT (a damaged link was
 *  refused now or by an earlier get: see tarn_lfblock_get) or TARN_EINVAL (pool NULL).  Unlike last_error, which every context shares,
 *  the status is this call's.  Safety and cost as tarn_lfblock_get. */
void *tarn_lfblock_get_status(tarn_lfblock_pool *pool, tarn_status *st);

/**
 * Return a block.  Lock-free, O(1) per attempt (see Progress).  The caller's writes to
 * the block happen-before the next owner's get returns it.
 * Errors (nothing is changed): TARN_EINVAL (pool or block NULL), TARN_EFOREIGN (not a
 * block start of this pool: outside it, or inside a block), TARN_EDOUBLE (block not
 * handed out now: already put, or never handed out); see Validation above; in canary
 * mode (TARN_GUARD) TARN_ECORRUPT when the block's guard bytes were overwritten (the block
 * stays handed out).  With TARN_CHECK_LEVEL 0 only NULL is rejected (and, with the
 * quarantine on, a held block).
 * Debug quarantine (TARN_QUARANTINE > 0, pool initialised with TARN_F_QUARANTINE): the
 * block is held back instead of freed, still poisoned for the memory tools, in a ring of
 * TARN_QUARANTINE slots (one atomic exchange, so put stays lock-free); the block the
 * exchange pushes out is freed.  A second put of a held block is TARN_EDOUBLE.  With
 * TARN_POISON_FREE (or canary mode) a held block whose bytes changed is reported when it
 * leaves the ring: recorded as TARN_ECORRUPT in last_error, the put itself succeeds.  A
 * get that finds no free block takes a held block instead of failing.
 * Safety as tarn_lfblock_get.  Inline (TARN_LFBLOCK_INLINE): a valid block handed out is
 * claimed and pushed at the call site; a bad pointer goes to tarn_lfblock_put_slow_, a
 * block not handed out to tarn_lfblock_refuse_ (see Speed above).
 */
static inline tarn_status tarn_lfblock_put(tarn_lfblock_pool *pool, void *block);

/** The whole of tarn_lfblock_put, out of line (as tarn_lfblock_get_slow_).  Same contract,
 *  safety and errors as tarn_lfblock_put. */
tarn_status tarn_lfblock_put_slow_(tarn_lfblock_pool *pool, void *block);

/** Private: records a put refused by the inline put (last_error; with TARN_F_SAN_REPORT
 *  also a report to the memory tool) and returns st.  O(1), safe from any context. */
tarn_status tarn_lfblock_refuse_(tarn_lfblock_pool *pool, void *block, tarn_status st);

/**
 * Check, without changing anything, that `block` is a block of this pool that is handed
 * out now.  O(1), lock-free.  TARN_OK, or the error tarn_lfblock_put would return (at the
 * instant of the check).  Safety as tarn_lfblock_get.
 */
tarn_status tarn_lfblock_validate(tarn_lfblock_pool *pool, const void *block);

/** True when p is the start of one of this pool's blocks (free or not).  O(1), reads only
 *  fields fixed at init: safe from any context. */
bool tarn_lfblock_owns(const tarn_lfblock_pool *pool, const void *p);

/** Index (0..count-1) of the block starting at p, or -1 if p is not a block start (or
 *  pool is NULL).  O(1), safe from any context. */
long tarn_lfblock_index(const tarn_lfblock_pool *pool, const void *p);

/**
 * Fill *out with the pool's statistics (see tarn_lfblock_stats for what "exact" means
 * while other contexts work).  O(count): the state words of the carved blocks are
 * counted.  Lock-free, safe from any context.
 * Errors: TARN_EINVAL (pool or out NULL); TARN_ECORRUPT when the pool's layout fields
 * (count, state words, first block) no longer agree: no state word is read through them
 * then, and *out is left as it was.
 */
tarn_status tarn_lfblock_stats_get(tarn_lfblock_pool *pool, tarn_lfblock_stats *out);

/**
 * Full integrity check of a QUIESCENT pool (no get or put in flight; in the fallback build
 * it takes the lock hook, so it may run any time): walks the free list, O(count), and
 * verifies every link is a carved block of this pool, that there is no cycle, that every
 * block not on the list is marked handed out or held; in
 * canary mode also the guard bytes of every handed-out block; with the quarantine, that
 * the held blocks are exactly those in the ring, each once, and (TARN_POISON_FREE) still
 * as they were put.
 * TARN_OK, TARN_ECORRUPT (also when a get found damage earlier: see tarn_lfblock_get),
 * or TARN_EINVAL (pool NULL).  Running it while other contexts
 * use a lock-free pool gives no reliable answer (but does not harm the pool).
 */
tarn_status tarn_lfblock_check(tarn_lfblock_pool *pool);

/**
 * Free every block held in the debug quarantine, so that they can be handed out again.
 * O(TARN_QUARANTINE), lock-free, safe from any context.  TARN_OK; TARN_ECORRUPT (also
 * recorded in last_error) when a held block was written after its put (with
 * TARN_POISON_FREE or canary mode); TARN_EINVAL (pool NULL).  Without the quarantine (flag
 * not given, or TARN_QUARANTINE 0) it does nothing.
 */
tarn_status tarn_lfblock_quarantine_flush(tarn_lfblock_pool *pool);

/** Status of the latest failed operation on this pool by any context (TARN_OK if none).
 *  O(1), safe from any context.  TARN_EINVAL for a NULL pool.  Shared by every context,
 *  so only meaningful to a single one; use tarn_lfblock_get_status for a get's own. */
tarn_status tarn_lfblock_last_error(const tarn_lfblock_pool *pool);

/** The pool's name (may be NULL).  O(1). */
const char *tarn_lfblock_name(const tarn_lfblock_pool *pool);

/** True block size of the pool's blocks (0 for NULL).  O(1). */
size_t tarn_lfblock_size(const tarn_lfblock_pool *pool);

/** Number of blocks of the pool (0 for NULL or after a failed init).  O(1). */
uint32_t tarn_lfblock_count(const tarn_lfblock_pool *pool);

/* ---- inline fast paths of get and put ------------------------------------------------- */
/**
 * Private: 1 when lfblock.c annotates blocks for a memory tool (then every get and put
 * takes the full path): TARN_SANITIZE when the user defines it, else 1 under
 * AddressSanitizer only.
 */
#if defined(TARN_SANITIZE)
#define TARN_LFBLOCK_SANITIZE_ TARN_SANITIZE
#elif defined(__SANITIZE_ADDRESS__)
#define TARN_LFBLOCK_SANITIZE_ 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define TARN_LFBLOCK_SANITIZE_ 1
#else
#define TARN_LFBLOCK_SANITIZE_ 0
#endif
#else
#define TARN_LFBLOCK_SANITIZE_ 0
#endif

/**
 * 1 when tarn_lfblock_get and tarn_lfblock_put do their common case inline at the call
 * site (C11 compare-and-swap build: hosts and other parts with a lock-free CAS of the head
 * word, GCC or Clang, no canary, quarantine, free-poisoning or memory-tool annotation
 * compiled in, call site not optimised for size), 0 when they call tarn_lfblock_get_slow_
 * and tarn_lfblock_put_slow_ (the LL/SC and fallback builds, -Os, other compilers,
 * TARN_LFBLOCK_NO_INLINE).  The inline code is the same algorithm as the full path (the
 * same atomic steps and memory orders, GCC's __atomic built-ins on the same fields) and
 * hands everything it does not finish (carving, an empty list, a damaged or racing link,
 * a failed head CAS, any bad put) to the full path before it has changed anything.  Define
 * it to 0 to choose the calls; the library and its users must see the same
 * configuration (tarn/config.h).
 */
#ifndef TARN_LFBLOCK_INLINE
#if (defined(__GNUC__) || defined(__clang__)) && !defined(TARN_LFBLOCK_NO_INLINE) &&          \
    !defined(__OPTIMIZE_SIZE__) && TARN_LFBLOCK_LOCK_FREE && !TARN_LFBLOCK_LLSC &&              \
    TARN_QUARANTINE == 0 && !TARN_GUARD && !TARN_POISON_FREE && !TARN_LFBLOCK_SANITIZE_ &&      \
    !defined(TARN_LFBLOCK_LLSC_HOOK)
#define TARN_LFBLOCK_INLINE 1
#else
#define TARN_LFBLOCK_INLINE 0
#endif
#endif

#if TARN_LFBLOCK_INLINE
#if !(defined(__GNUC__) || defined(__clang__)) || !TARN_LFBLOCK_LOCK_FREE || TARN_LFBLOCK_LLSC || \
    TARN_QUARANTINE != 0 || TARN_GUARD || TARN_POISON_FREE || TARN_LFBLOCK_SANITIZE_
#error "TARN_LFBLOCK_INLINE 1 needs GCC or Clang and the plain C11 build (no LL/SC, fallback, quarantine, canary, poisoning or annotations)"
#endif
/** Private: the common case of get (see lfblock.c: "get", steps 1 and 3): the top of a
 *  non-empty free list when no damage was found, else the full path (which carves when
 *  the list is empty).  Nothing is changed before the head CAS succeeds. */
static inline void *tarn_lfblock_get_try_(tarn_lfblock_pool *pool)
{
    tarn_lfblock_word h;
    uint32_t n, mask, i, next;
    uint32_t *state;
    if (__builtin_expect(pool == NULL, 0)) return tarn_lfblock_get_slow_(pool);
    n = pool->count;
    /* the sticky damage bit (1): full path */
    if (__builtin_expect((__atomic_load_n(&pool->flags, __ATOMIC_RELAXED) & 1u) != 0u, 0)) {
        return tarn_lfblock_get_slow_(pool);
    }
    state = pool->state;
    mask = pool->idx_mask;
    h = __atomic_load_n(&pool->head, __ATOMIC_ACQUIRE);
    i = (uint32_t)h & mask;
    if (__builtin_expect(i >= n, 0)) return tarn_lfblock_get_slow_(pool); /* empty */
    next = __atomic_load_n(&state[i], __ATOMIC_ACQUIRE);
#if TARN_CHECK_LEVEL >= 1
    /* the link check: the end of the list, or a block whose state is neither USED nor
     * HELD; anything else (a race or damage) is sorted out by the full path */
    if (__builtin_expect(next >= n ? next != n
                                   : __atomic_load_n(&state[next], __ATOMIC_ACQUIRE) >= 0xFFFFFFFEu,
                         0)) {
        return tarn_lfblock_get_slow_(pool);
    }
#else
    next &= mask;
#endif
    if (__builtin_expect(!__atomic_compare_exchange_n(&pool->head, &h, ((h | mask) + 1u) | next, 1,
                                                      __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE),
                         0)) {
#if TARN_STATS
        (void)__atomic_fetch_add(&pool->retries, 1u, __ATOMIC_RELAXED);
#endif
        return tarn_lfblock_get_slow_(pool);
    }
    __atomic_store_n(&state[i], 0xFFFFFFFFu, __ATOMIC_RELEASE); /* handed out (USED) */
    return pool->base + (size_t)i * pool->block_size;
}

/** Private: the common case of put (see lfblock.c: "put"), else the full path (bad
 *  pointers) or tarn_lfblock_refuse_ (a block not handed out).  The claim CAS is the
 *  first change; once it succeeds the put is decided. */
static inline tarn_status tarn_lfblock_put_try_(tarn_lfblock_pool *pool, void *block)
{
    uintptr_t q;
    unsigned r;
    uint32_t i, mask;
    uint32_t *state;
    tarn_lfblock_word h;
    if (__builtin_expect(pool == NULL, 0)) return tarn_lfblock_put_slow_(pool, block);
    /* Block start test as lfblock.c's lf_index (Granlund-Montgomery): an interior or
     * foreign pointer, NULL included, gives a number above every block index.  carve <=
     * count, so one compare also sends blocks never handed out to the full path. */
    q = ((uintptr_t)block - (uintptr_t)pool->base) * pool->inv_;
    r = (unsigned)pool->rot_;
    q = (q >> r) | (q << ((0u - r) & (unsigned)(sizeof(uintptr_t) * 8u - 1u)));
    if (__builtin_expect(q >= __atomic_load_n(&pool->carve, __ATOMIC_RELAXED), 0)) {
        return tarn_lfblock_put_slow_(pool, block);
    }
    i = (uint32_t)q;
    state = pool->state;
    mask = pool->idx_mask;
    h = __atomic_load_n(&pool->head, __ATOMIC_RELAXED);
#if TARN_CHECK_LEVEL >= 1
    {
        /* the claim: USED -> link; of racing puts of one block exactly one wins */
        uint32_t expect = 0xFFFFFFFFu;
        if (__builtin_expect(!__atomic_compare_exchange_n(&state[i], &expect, (uint32_t)h & mask,
                                                          0, __ATOMIC_RELAXED, __ATOMIC_RELAXED),
                             0)) {
            return tarn_lfblock_refuse_(pool, block, TARN_EDOUBLE);
        }
    }
#else
    __atomic_store_n(&state[i], (uint32_t)h & mask, __ATOMIC_RELAXED);
#endif
    while (__builtin_expect(!__atomic_compare_exchange_n(&pool->head, &h, ((h | mask) + 1u) | i, 1,
                                                         __ATOMIC_RELEASE, __ATOMIC_RELAXED),
                            0)) {
#if TARN_STATS
        (void)__atomic_fetch_add(&pool->retries, 1u, __ATOMIC_RELAXED);
#endif
        __atomic_store_n(&state[i], (uint32_t)h & mask, __ATOMIC_RELAXED); /* relink */
    }
    return TARN_OK;
}

static inline void *tarn_lfblock_get(tarn_lfblock_pool *pool)
{
    return tarn_lfblock_get_try_(pool);
}

static inline tarn_status tarn_lfblock_put(tarn_lfblock_pool *pool, void *block)
{
    return tarn_lfblock_put_try_(pool, block);
}
#else
static inline void *tarn_lfblock_get(tarn_lfblock_pool *pool)
{
    return tarn_lfblock_get_slow_(pool);
}

static inline tarn_status tarn_lfblock_put(tarn_lfblock_pool *pool, void *block)
{
    return tarn_lfblock_put_slow_(pool, block);
}
#endif

#ifdef __cplusplus
}
#endif

#endif /* TARN_LFBLOCK_H */
