/*
 * tarn/handle.h - handle pool: movable blocks behind handles, with compaction.
 *
 * A handle pool hands out variable-size blocks that it may move.  The caller never keeps
 * a block's address: it keeps a handle (an opaque 32-bit value, never 0) and asks for the
 * current address with tarn_handle_lock(), which also pins the block so that it stays put
 * until the matching tarn_handle_unlock().  Because unpinned blocks may move, the pool can
 * compact itself: tarn_handle_compact() slides every unpinned block towards the start of
 * the buffer, so that without pins all free space becomes one region at the end, and
 * tarn_handle_compact_step() does the same a bounded number of bytes at a time.  This is
 * the classic handle-based heap of the Mac OS Memory Manager and Palm OS.
 *
 *     static unsigned char mem[TARN_HANDLE_BYTES(4096, 64)] TARN_HANDLE_ALIGNED;
 *     tarn_handle_pool pool;
 *     tarn_handle_init(&pool, mem, sizeof mem, 64, NULL);   // 4096 data bytes, 64 handles
 *     tarn_handle h = tarn_handle_alloc(&pool, 100);        // null handle on failure
 *     char *p = tarn_handle_lock(&pool, h);                 // pinned: p stays valid...
 *     p[0] = 'x';
 *     tarn_handle_unlock(&pool, h);                         // ...until here
 *     tarn_handle_compact(&pool);                           // may move the block
 *     tarn_handle_free(&pool, h);
 *
 * Memory.  The pool keeps all of its metadata in a table: a fixed control part of
 * TARN_HANDLE_CTL_SIZE bytes plus TARN_HANDLE_ENTRY_SIZE (24) bytes per handle (and one
 * more entry used as a list head).  The data area holds nothing but user bytes: a block
 * costs its size rounded up to TARN_ALIGN and no header.  The table sits at the start of
 * the caller's buffer (tarn_handle_init) or in a second caller buffer (tarn_handle_init_split),
 * for instance in faster RAM.
 *
 * Handles.  A handle carries the index of its table slot (its low TARN_HANDLE_INDEX_BITS
 * bits, 16 by default) and the slot's generation (the other 32 - TARN_HANDLE_INDEX_BITS
 * bits), scrambled with a salt drawn from the table's address.  The generation advances
 * every time the slot is freed, so using a freed handle is rejected (TARN_ESTALE, or
 * TARN_EDOUBLE for a second free) and never touches the block that now uses the slot.
 * Stale-handle window: a stale handle could only be taken for a live one once its slot
 * has been used again 2^(32 - TARN_HANDLE_INDEX_BITS) times (65,536 by default; 2^24 with
 * TARN_HANDLE_INDEX_BITS 8, which allows 254 handles per pool); free slots are reused
 * oldest-first, and slots never used before are preferred, which makes that as late as
 * possible.
 *
 * Re-initialisation.  The generations live in the table, in the caller's memory, and
 * survive tarn_handle_deinit: an init over the same table continues every slot's
 * generation (advancing it once more when the slot is first used again), so a handle
 * issued before a deinit is an ordinary stale handle for every later pool on that table:
 * it is rejected until its slot has been used 65,536 times (default) counting each pool
 * that used it, so for at least the next 65,535 inits.  A slot's whole generation
 * survives a deinit (it is kept in the slot's key, and init marks the table so that a
 * later init reads it back), so the window across re-inits is the same as within one
 * pool's life (2^24 uses with 8 index bits).  The buffer may hold garbage at the first
 * init (the generations start wherever it says).  If the caller writes over the table
 * between a deinit and the next init, old handles are rejected only by chance (about
 * 65,535 times in 65,536).
 *
 * Handles of another pool.  A handle does not name its pool.  A handle of another pool
 * is rejected with TARN_EFOREIGN when its index is not a slot this pool has used, and
 * otherwise with TARN_ESTALE (or TARN_EFOREIGN), unless it happens to equal a handle of
 * this pool: a live one - then the call acts on that block -, or one this pool freed
 * since that slot was last used - then free reports TARN_EDOUBLE.  The salt makes that unlikely: two
 * pools whose tables start less than 256 KiB apart (2^(32 - TARN_HANDLE_INDEX_BITS) words)
 * have different salts, so when their slots have the same generations (same history,
 * e.g. zeroed buffers) no handle of one is a handle of the other; otherwise a foreign
 * handle is accepted about once in 65,536 (2^(32 - TARN_HANDLE_INDEX_BITS)).
 *
 * Complexity.  alloc, free, lock, unlock, size and the handle checks are O(1): free space
 * is found through segregated lists of free regions indexed by a bitmap (a good-fit
 * search in the manner of TLSF), and freed space merges with its neighbours at once.  The
 * search is sure to find a region of at least tarn_handle_fit_bound(n) bytes for a request
 * of n (n rounded up to its size class: at most about n + n/4); a region between n and
 * that bound is found only when it heads its list.  An allocation therefore fails when the
 * free bytes are split into regions that are each too small, or just too small to be sure:
 * that is what compaction is for (on demand, stepwise, or automatically with
 * TARN_HANDLE_F_AUTOCOMPACT, which makes such an alloc O(live data)).
 *
 * Canary mode (TARN_GUARD 1 in tarn/config.h).  Every block is followed by guard bytes of
 * TARN_GUARD_BYTE: from the end of its tarn_handle_size() bytes to the end of its span
 * (TARN_HANDLE_SPAN), so at least TARN_GUARD_SIZE of them.  The user may not touch them
 * (the pool's own copy and clear never do); for AddressSanitizer and Valgrind they are
 * NOACCESS, so the tools report an overflow at once.  The guard travels with its block:
 * compaction, compact_step, scramble mode and a moving resize copy it with the data (and
 * count it in bytes moved), so damage is still found after a move.  tarn_handle_free,
 * tarn_handle_resize, tarn_handle_copy and tarn_handle_clear of a block whose guard is
 * damaged return TARN_ECORRUPT and change nothing (the block stays allocated), and
 * tarn_handle_check reports any damaged guard.  Blocks have no headers, so an overflow that
 * runs on into the next block is seen by the guard it crosses first.
 *
 * Debug quarantine (TARN_QUARANTINE > 0 and TARN_F_QUARANTINE in cfg->flags).  A handle is
 * stale the moment it is freed (generations catch every later use of it); what the
 * quarantine holds back is the freed REGION, so that a raw pointer kept past the free keeps
 * pointing at poisoned bytes (NOACCESS for the tools, filled with TARN_POISON_BYTE when
 * TARN_POISON_FREE or scramble mode is on) instead of at the next block placed there.
 *   - tarn_handle_free validates as usual, then holds the region; the handle's table slot
 *     stays with it (it names the region in the address-ordered list) and returns to the
 *     free slots when the region is released.  A second free of the handle is TARN_EDOUBLE
 *     (TARN_ESTALE once the slot has been reused), as without the quarantine.
 *   - At most TARN_QUARANTINE regions are held; the oldest is released when a new one comes.
 *     When an alloc or resize would fail for lack of space or of a free slot, held regions
 *     are released oldest first until it succeeds, so the quarantine makes no request fail.
 *   - tarn_handle_compact (and automatic compaction) releases every held region first:
 *     moving blocks over them would be reuse anyway, and it keeps compaction's promise of
 *     one free region.  tarn_handle_compact_step and scramble mode leave held regions where
 *     they are, as they leave pinned blocks (a step pass never moves anything into them).
 *   - Statistics count held regions as used (free is what can really be allocated) and
 *     report them in quarantined / quarantined_bytes; handles_used counts live blocks only.
 *   - With TARN_POISON_FREE (or scramble mode), a held region whose poison bytes changed (a
 *     write after free) is reported: tarn_handle_check returns TARN_ECORRUPT while it is
 *     held, and its release records TARN_ECORRUPT as the last error without failing the
 *     operation that released it (tarn_handle_quarantine_flush returns it).
 * Without the flag, or with TARN_QUARANTINE 0, the pool behaves exactly as without this.
 *
 * Bad frees reported to the memory tools (TARN_F_SAN_REPORT in cfg->flags).  A
 * tarn_handle_free refused as TARN_EDOUBLE, TARN_ESTALE or TARN_EFOREIGN is also reported to
 * AddressSanitizer (a read of a poisoned byte: "use-after-poison", with the caller's stack)
 * or Valgrind ("Invalid free()").  A handle is not a pointer, so the address reported is
 * the handle's memory when it still has some: its freed region while the quarantine holds
 * it.  Otherwise (region released or reused, handle never issued or of another pool) it is
 * the handle's table entry (the list-head entry when the index is out of range), made
 * NOACCESS just for the report.  A null handle is not reported (like free(NULL)).
 *
 * Errors.  Functions that return a tarn_status say why they failed; those that return a
 * handle, a pointer, a size or a count (alloc, lock, size, lock_count, compact,
 * compact_step) have a _status variant that also gives the call's own status.  The pool's
 * last_error (tarn_handle_last_error) is for single-threaded users: another thread's
 * failure can replace yours.
 *
 * Thread safety.  With a lock hook in the tarn_config given at init every public function
 * runs under it (a compaction holds it for the whole pass).  A pointer from
 * tarn_handle_lock() may be used without the hook held until the matching unlock.  None of
 * these functions is ISR-safe unless the hook masks interrupts.
 */
#ifndef TARN_HANDLE_H
#define TARN_HANDLE_H

#include "tarn/tarn.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- handles --------------------------------------------------------------------------- */
/**
 * A handle: an opaque 32-bit value wrapped in a struct so that it type-checks against
 * nothing else (not against integers, not against pointers).  The null handle (value 0)
 * is never valid.  Handles may be copied and compared (tarn_handle_eq) freely; to store one
 * in a 32-bit field use tarn_handle_to_u32 / tarn_handle_from_u32.
 */
typedef struct tarn_handle {
    uint32_t v; /**< private: salted (generation << TARN_HANDLE_INDEX_BITS) | slot index */
} tarn_handle;

/** Initialiser of a null handle: `tarn_handle h = TARN_HANDLE_NULL_INIT;` */
#define TARN_HANDLE_NULL_INIT {0u}

/** The null handle.  O(1). */
static inline tarn_handle tarn_handle_null(void)
{
    tarn_handle h = TARN_HANDLE_NULL_INIT;
    return h;
}
/** True for the null handle (what a failed alloc returns).  O(1). */
static inline bool tarn_handle_is_null(tarn_handle h) { return h.v == 0u; }
/** True when a and b are the same handle.  O(1). */
static inline bool tarn_handle_eq(tarn_handle a, tarn_handle b) { return a.v == b.v; }
/** The handle's raw value, for storage; 0 for the null handle.  O(1). */
static inline uint32_t tarn_handle_to_u32(tarn_handle h) { return h.v; }
/** Rebuild a handle from tarn_handle_to_u32's value.  O(1). */
static inline tarn_handle tarn_handle_from_u32(uint32_t v)
{
    tarn_handle h;
    h.v = v;
    return h;
}

/* ---- sizing ---------------------------------------------------------------------------- */
#ifndef TARN_HANDLE_INDEX_BITS
/** Bits of a handle that hold its slot index (8..16; default 16).  The other bits hold the
 *  generation: fewer index bits mean fewer handles per pool (2^bits - 2, at most 65,533)
 *  and a longer stale-handle window (2^(32 - bits) uses of a slot).  Set it for the whole
 *  program (library and users alike), e.g. in the TARN_CONFIG_FILE. */
#define TARN_HANDLE_INDEX_BITS 16
#endif
#if TARN_HANDLE_INDEX_BITS < 8 || TARN_HANDLE_INDEX_BITS > 16
#error "TARN_HANDLE_INDEX_BITS must be 8..16"
#endif
/** Mask of the index bits of a handle (private). */
#define TARN_HANDLE_INDEX_MASK_ ((uint32_t)((1ul << TARN_HANDLE_INDEX_BITS) - 1u))
/** Bytes of table per handle (offset, size, key: generation and state, lock count,
 *  address-order links, free-region links). */
#define TARN_HANDLE_ENTRY_SIZE 24u
/** Fixed bytes of table: the segregated free-region list heads and their bitmap. */
#define TARN_HANDLE_CTL_SIZE 272u
/** Largest handle capacity of one pool: 65,533, or 2^TARN_HANDLE_INDEX_BITS - 2 when
 *  that is smaller (the all-ones index is reserved). */
#define TARN_HANDLE_MAX_COUNT \
    (TARN_HANDLE_INDEX_BITS >= 16 ? 65533u : (unsigned)TARN_HANDLE_INDEX_MASK_ - 1u)
/** Largest data area of one pool: offsets are 32-bit.  Larger buffers are used up to it. */
#define TARN_HANDLE_MAX_DATA ((size_t)0xFFFFFFFFu & ~((size_t)TARN_ALIGN - 1u))
/** Bytes of table for `handles` handles (control part + one entry per handle + a list
 *  head).  Constant expression.  Give at least this to tarn_handle_init_split. */
#define TARN_HANDLE_TABLE_SIZE(handles) \
    ((size_t)TARN_HANDLE_CTL_SIZE + ((size_t)(handles) + 1u) * TARN_HANDLE_ENTRY_SIZE)
/** Bytes the table takes at the start of a shared buffer (rounded up to TARN_ALIGN). */
#define TARN_HANDLE_TABLE_SPACE(handles) TARN_ALIGN_UP(TARN_HANDLE_TABLE_SIZE(handles), TARN_ALIGN)
/** Buffer bytes for tarn_handle_init giving at least `data_bytes` of data area and
 *  `handles` handles.  Constant expression. */
#define TARN_HANDLE_BYTES(data_bytes, handles) \
    (TARN_HANDLE_TABLE_SPACE(handles) + TARN_ALIGN_UP((size_t)(data_bytes), TARN_ALIGN))
#if TARN_GUARD
/** Guard bytes a block needs at least: TARN_GUARD_SIZE in canary mode. */
#define TARN_HANDLE_GUARD ((size_t)TARN_GUARD_SIZE)
#else
/** Guard bytes a block needs at least: none without canary mode (TARN_GUARD 0). */
#define TARN_HANDLE_GUARD ((size_t)0u)
#endif
/** Bytes of data area a block of n bytes takes: n, plus TARN_HANDLE_GUARD guard bytes in
 *  canary mode, rounded up to TARN_ALIGN.  Constant expression. */
#define TARN_HANDLE_SPAN(n) TARN_ALIGN_UP((size_t)(n) + TARN_HANDLE_GUARD, TARN_ALIGN)
/** Smallest buffer tarn_handle_init accepts for `handles` handles: the table plus room for
 *  one block of 1 byte (TARN_ALIGN bytes, more in canary mode). */
#define TARN_HANDLE_MIN_SIZE(handles) TARN_HANDLE_BYTES(TARN_HANDLE_SPAN(1u), handles)
/** Attribute giving a buffer the alignment handle pools require (GCC/Clang). */
#define TARN_HANDLE_ALIGNED __attribute__((aligned(TARN_ALIGN)))

/** Budget units charged by tarn_handle_compact_step for each block it examines without
 *  moving it. */
#define TARN_HANDLE_STEP_VISIT_COST 128u
/** Budget units charged by tarn_handle_compact_step for each block it starts or goes on
 *  moving, on top of one unit per byte moved: the fixed cost of a move expressed in bytes
 *  of copying, so that a unit of budget costs about the same time whatever the block
 *  sizes (see bench/handle for the instructions per unit). */
#define TARN_HANDLE_STEP_MOVE_COST 1024u

/* ---- flags (tarn_config.flags) ---------------------------------------------------------- */
/** When an alloc or resize finds no free region large enough, compact the pool (O(live
 *  data)) and try once more before failing. */
#define TARN_HANDLE_F_AUTOCOMPACT 0x1u
/**
 * Debug aid: after every alloc, resize and unlock, move every unpinned block (alternately
 * packing them at the start and at the end of the data area) and poison the bytes they
 * left: filled with TARN_POISON_BYTE and, under AddressSanitizer or Valgrind, made
 * inaccessible, so code that kept a raw pointer past unlock fails at once.  A block's old
 * place is entirely vacated when the pool is at most half full.  Costs O(live data) per
 * call: for tests only.
 */
#define TARN_HANDLE_F_SCRAMBLE 0x2u

/* ---- types ------------------------------------------------------------------------------ */
/** A table entry (private to handle.c; public only for the inline lock/unlock). */
typedef struct tarn_handle_entry_ {
    uint32_t off;   /**< live: offset in the data area */
    uint32_t size;  /**< live: requested bytes (> 0); free slot: 0 */
    uint32_t key;   /**< high bits: generation plus the pool's salt; low (index) bits:
                         the slot index when live and lockable at once (the key is then
                         the block's handle), the all-ones index when held by the
                         quarantine, else 0 */
    uint32_t lock;  /**< lock count (at most 65535; 32 bits wide so that the inline lock
                         and unlock write it with one store).  Entry 0 (the list head,
                         never locked) holds the table's mark here instead: a later pool
                         on this table reads it to know that the keys it finds were
                         written by a pool */
    uint16_t next;  /**< live: next block in address order (0 = end); free: FIFO link */
    uint16_t prev;  /**< live: previous block in address order (0 = head) */
    uint16_t fnext; /**< free-region list links of this entry's gap (fnext and fprev share
                         one aligned 32-bit word: compaction unlists a gap with one store) */
    uint16_t fprev; /**< 0xFFFF = first on its list, 0xFFFE = on no list (free slot:
                         unused, set when the slot is taken) */
} tarn_handle_entry_;

/**
 * A handle pool.  The struct is public so that pools can be static; every field is
 * private to handle.c: use the functions below.
 */
typedef struct tarn_handle_pool {
    unsigned char *data;    /**< data area, aligned to TARN_ALIGN */
    void *table;            /**< control part, then entries 0..capacity */
    tarn_handle_entry_ *entries; /**< entry 0 (the list head) of the table */
    uintptr_t fast;         /**< carved + 1 when lock/unlock may take their inline path
                                 (no lock hook, no scramble, checking level below 2), else 0
                                 (pointer-wide: the inline test needs no widening) */
    uint32_t salt;          /**< the table's salt (generation bits only) */
    uint32_t data_size;     /**< bytes of data area, a multiple of TARN_ALIGN */
    uint32_t used;          /**< bytes taken by blocks and held regions (their spans) */
    uint32_t requested;     /**< sum of the blocks' requested sizes */
    uint32_t magic;         /**< set by init (its low bit: alloc and free may take their
                                 fast path), cleared by deinit */
    uint16_t capacity;      /**< handle slots */
    uint16_t carved;        /**< slots 1..carved have been used at least once */
    uint16_t live;          /**< blocks allocated (held regions not counted) */
    uint16_t free_head;     /**< oldest freed slot (FIFO of freed slots) */
    uint16_t free_tail;     /**< newest freed slot */
    uint16_t cursor;        /**< compact_step: the block after which the scan continues */
    uint16_t transit;       /**< block being moved by compact_step, or none */
    uint32_t transit_src;   /**< old offset of the block in transit */
    uint32_t transit_done;  /**< bytes of the block in transit moved so far */
    uint8_t flags;          /**< TARN_HANDLE_F_* */
    uint8_t last_error;     /**< tarn_status of the last failed operation */
    uint8_t scramble_high;  /**< next scramble packs towards the end */
    uint8_t report;         /**< TARN_F_SAN_REPORT given at init */
    uint8_t keyed;          /**< the table held an earlier pool's mark at init: slots
                                 carved continue from their keys' generations (else from
                                 the keys' raw high bits: 0 on a zeroed table) */
    uint8_t reserved_;
    uint32_t failed_allocs; /**< allocs that returned the null handle for lack of space */
    uint32_t compactions;   /**< full compactions (explicit and automatic) */
    uint64_t moved;         /**< bytes moved by compaction, compact_step and scramble */
    tarn_lock lock;         /**< lock hook from tarn_config (all NULL: no locking) */
    const char *name;       /**< name from tarn_config, or NULL */
    const struct tarn_handle_scr_ *scr; /**< scramble mode's code (&tarn_handle_scramble_)
                                             with TARN_HANDLE_F_SCRAMBLE, else NULL */
    const struct tarn_handle_stp_ *stp; /**< compact_step's code, set by its first call
                                             (NULL before: no block is in transit) */
#if TARN_QUARANTINE > 0
    const struct tarn_handle_qua_ *qua; /**< the quarantine's code
                                             (&tarn_handle_quarantine_) with
                                             TARN_F_QUARANTINE, else NULL */
    tarn_quarantine quarantine; /**< held regions: their table entries, oldest first */
#endif
} tarn_handle_pool;

/** Statistics of a handle pool: a consistent snapshot taken under the lock. */
typedef struct tarn_handle_stats {
    size_t capacity;        /**< bytes of data area */
    size_t used;            /**< bytes taken by blocks and held regions (each its span:
                                 TARN_HANDLE_SPAN of its size) */
    size_t requested;       /**< sum of the requested sizes of live blocks */
    size_t free;            /**< capacity - used */
    size_t largest_free;    /**< largest free region; an alloc of n bytes is sure to
                                 succeed (given a free handle) when
                                 tarn_handle_fit_bound(n) <= largest_free */
    size_t handles;         /**< handle capacity */
    size_t handles_used;    /**< live blocks */
    size_t pinned;          /**< blocks locked now */
    uint64_t bytes_moved;   /**< bytes moved by compaction (all kinds) since init */
    uint32_t compactions;   /**< full compactions since init (explicit and automatic) */
    uint32_t failed_allocs; /**< allocs that failed for lack of space or handles */
    size_t quarantined;     /**< freed regions the debug quarantine holds (each keeps its
                                 handle slot); 0 without TARN_F_QUARANTINE */
    size_t quarantined_bytes; /**< bytes of those regions (part of used) */
} tarn_handle_stats;

/** What tarn_handle_walk reports for each block. */
typedef struct tarn_handle_block {
    tarn_handle handle;     /**< the block's handle */
    size_t offset;          /**< offset of the block in the data area */
    size_t size;            /**< requested size */
    size_t gap_after;       /**< free bytes between this block's span and the next block
                                 or region held by the quarantine */
    unsigned locks;         /**< lock count (0 = the pool may move it) */
    bool moving;            /**< an unfinished tarn_handle_compact_step is moving it: its
                                 bytes are not all at `offset` yet (lock it to finish) */
} tarn_handle_block;

/** Walk callback: return true to continue, false to stop.  Runs with the pool's lock hook
 *  held; it must not call functions of the same pool. */
typedef bool (*tarn_handle_walk_fn)(const tarn_handle_block *block, void *ctx);

/* ---- init ------------------------------------------------------------------------------- */
/** Private: scramble mode's code, a const table in handle.c.  A program links it only when
 *  it names it, which tarn_handle_init and tarn_handle_init_split do when cfg->flags may
 *  hold TARN_HANDLE_F_SCRAMBLE (see tarn_handle_init). */
extern const struct tarn_handle_scr_ tarn_handle_scramble_;

/** Private: the code that cfg's flags need (&tarn_handle_scramble_ when they may hold
 *  TARN_HANDLE_F_SCRAMBLE, else NULL).  O(1). */
static inline const struct tarn_handle_scr_ *tarn_handle_scr_of_(const tarn_config *cfg)
{
    return (cfg != NULL && (cfg->flags & TARN_HANDLE_F_SCRAMBLE) != 0u) ? &tarn_handle_scramble_
                                                                         : NULL;
}

#if TARN_QUARANTINE > 0
/** Private: the debug quarantine's code, a const table in handle.c (only with
 *  TARN_QUARANTINE > 0).  A program links it only when it names it, which
 *  tarn_handle_init and tarn_handle_init_split do when cfg->flags may hold
 *  TARN_F_QUARANTINE. */
extern const struct tarn_handle_qua_ tarn_handle_quarantine_;
#endif

/** Private: the quarantine code that cfg's flags need (&tarn_handle_quarantine_ when
 *  TARN_QUARANTINE > 0 and they may hold TARN_F_QUARANTINE, else NULL).  O(1). */
static inline const struct tarn_handle_qua_ *tarn_handle_qua_of_(const tarn_config *cfg)
{
#if TARN_QUARANTINE > 0
    return (cfg != NULL && (cfg->flags & TARN_F_QUARANTINE) != 0u) ? &tarn_handle_quarantine_
                                                                    : NULL;
#else
    (void)cfg;
    return NULL;
#endif
}

/** Private: the body of tarn_handle_init; scr is tarn_handle_scr_of_(cfg) and qua
 *  tarn_handle_qua_of_(cfg) (anything else is TARN_EINVAL).  Call tarn_handle_init
 *  instead.  O(1), not ISR-safe. */
tarn_status tarn_handle_init_ext_(tarn_handle_pool *pool, void *mem, size_t size, size_t handles,
                                  const tarn_config *cfg, const struct tarn_handle_scr_ *scr,
                                  const struct tarn_handle_qua_ *qua);

/** Private: the body of tarn_handle_init_split; scr and qua as for tarn_handle_init_ext_.
 *  Call tarn_handle_init_split instead.  O(1), not ISR-safe. */
tarn_status tarn_handle_init_split_ext_(tarn_handle_pool *pool, void *data, size_t data_size,
                                        void *table, size_t table_size, size_t handles,
                                        const tarn_config *cfg,
                                        const struct tarn_handle_scr_ *scr,
                                        const struct tarn_handle_qua_ *qua);

/**
 * Initialise `pool` over `mem`: the table for `handles` handles at the start, the rest
 * (from TARN_HANDLE_TABLE_SPACE(handles) on, up to TARN_HANDLE_MAX_DATA bytes) is the data
 * area.  O(1): slots are set up on first use; the buffer may hold garbage.
 * cfg may be NULL (no lock, no name, no flags); cfg->flags takes TARN_HANDLE_F_*,
 * TARN_F_QUARANTINE (ignored when TARN_QUARANTINE is 0) and TARN_F_SAN_REPORT.
 * Errors: TARN_EINVAL (pool or mem NULL, handles 0 or above TARN_HANDLE_MAX_COUNT, unknown
 * flag, lock hook with only one of lock/unlock), TARN_EALIGN (mem not aligned to
 * TARN_ALIGN), TARN_ETOOSMALL (size below TARN_HANDLE_MIN_SIZE(handles)).  On error the pool
 * is left unusable: every call on it fails cleanly with TARN_EINVAL.  Not thread-safe
 * (initialise before sharing the pool); not ISR-safe.
 *
 * Inline, so that scramble mode and the debug quarantine (debug aids) cost no code in a
 * program that does not ask for them: it tests cfg->flags for TARN_HANDLE_F_SCRAMBLE and
 * TARN_F_QUARANTINE and names each one's code only when its flag may be set.  When cfg is NULL or a constant the compiler can see (e.g.
 * a static const tarn_config in the same file) without the flag, the test folds away and
 * the linker (--gc-sections) drops that code; a cfg the compiler cannot see through links
 * it (a few hundred bytes).  Likewise compact_step's code is linked only by a program
 * that calls tarn_handle_compact_step.
 */
static inline tarn_status tarn_handle_init(tarn_handle_pool *pool, void *mem, size_t size,
                                           size_t handles, const tarn_config *cfg)
{
    return tarn_handle_init_ext_(pool, mem, size, handles, cfg, tarn_handle_scr_of_(cfg),
                                 tarn_handle_qua_of_(cfg));
}

/**
 * As tarn_handle_init, with the table in its own buffer: `table` (table_size >=
 * TARN_HANDLE_TABLE_SIZE(handles), aligned to 4) and the data area in `data` (all of it, up
 * to TARN_HANDLE_MAX_DATA bytes; data_size >= TARN_HANDLE_SPAN(1); aligned to TARN_ALIGN).  The two
 * buffers must not overlap.  O(1).  Errors as tarn_handle_init (TARN_EINVAL also when the
 * buffers overlap).
 */
static inline tarn_status tarn_handle_init_split(tarn_handle_pool *pool, void *data,
                                                 size_t data_size, void *table,
                                                 size_t table_size, size_t handles,
                                                 const tarn_config *cfg)
{
    return tarn_handle_init_split_ext_(pool, data, data_size, table, table_size, handles, cfg,
                                       tarn_handle_scr_of_(cfg), tarn_handle_qua_of_(cfg));
}

/**
 * End the pool: every handle becomes invalid, every call on the pool fails with
 * TARN_EINVAL until it is initialised again, and the buffers are handed back to the caller
 * (sanitizer annotations removed; regions the debug quarantine holds go with the pool,
 * and a new init starts with an empty quarantine).  O(blocks): it looks for a locked block
 * (the inline lock keeps no count).  The table keeps the slots' generations for a later
 * init on it (see "Re-initialisation" above).  Errors: TARN_EINVAL (pool NULL or not
 * initialised), TARN_EBUSY (a block is locked: nothing is changed).
 */
tarn_status tarn_handle_deinit(tarn_handle_pool *pool);

/* ---- blocks ----------------------------------------------------------------------------- */
/**
 * Allocate a block of `size` bytes (contents undefined) and return its handle; it takes
 * TARN_HANDLE_SPAN(size) bytes of the data area.  O(1) (with TARN_HANDLE_F_AUTOCOMPACT,
 * O(live data) when it has to compact; with TARN_HANDLE_F_SCRAMBLE, O(live data) always;
 * with the quarantine, O(bytes released) when it has to release held regions; with a
 * block in transit (tarn_handle_compact_step), O(its bytes) when no free region is found
 * without finishing its move, as the free space after it is listed only then).  Returns
 * the null handle on failure and records why in tarn_handle_last_error: TARN_EINVAL (pool
 * NULL or not initialised, size 0), TARN_ENOMEM (size + TARN_HANDLE_GUARD larger than the
 * data area, no free handle, or no free region found even after releasing every held region:
 * one of tarn_handle_fit_bound(size) bytes or more is always found, a smaller one that
 * still fits only when it heads its list; see compaction), TARN_ECORRUPT
 * (TARN_CHECK_LEVEL 2 found damage).
 */
tarn_handle tarn_handle_alloc(tarn_handle_pool *pool, size_t size);

/**
 * tarn_handle_alloc with the call's own status in *st (st may be NULL): TARN_OK with a
 * live handle, else the null handle and the reason tarn_handle_alloc records (also
 * recorded in last_error).  The status is decided under the pool's lock hook, so another
 * thread's failure cannot replace it as it can replace last_error: use the _status
 * variants where several threads share a pool.  Same cost, effects and safety as
 * tarn_handle_alloc (one body).
 */
tarn_handle tarn_handle_alloc_status(tarn_handle_pool *pool, size_t size, tarn_status *st);

/**
 * Size of the smallest free region that tarn_handle_alloc(size) and a moving
 * tarn_handle_resize to `size` are sure to find: TARN_HANDLE_SPAN(size), rounded up to the
 * lower bound of the next size class (classes split each power of two into 4).  At most
 * about span + span / 4.  SIZE_MAX for 0, and when the bound would not fit in any pool
 * (4 GiB or more).  O(1), pure (no pool), ISR-safe.
 */
size_t tarn_handle_fit_bound(size_t size);

/**
 * Free a block.  O(1) (O(block size) when the freed bytes are poisoned, in canary mode,
 * and with the quarantine, which also releases the oldest held region when full).  The
 * handle and every copy of it become stale.  With the quarantine the region is held back
 * (see above).  Errors (nothing is changed): TARN_EINVAL (pool NULL or not initialised,
 * null handle), TARN_EFOREIGN (not a handle of this pool), TARN_EDOUBLE (freed already,
 * slot not reused since; also while the quarantine holds its region), TARN_ESTALE (freed
 * already, slot reused since), TARN_EBUSY (block locked), TARN_ECORRUPT (the slot's entry
 * is damaged, or in canary mode the block's guard bytes are).  With TARN_F_SAN_REPORT a
 * TARN_EFOREIGN, TARN_EDOUBLE or TARN_ESTALE is also reported to the memory tool.
 */
tarn_status tarn_handle_free(tarn_handle_pool *pool, tarn_handle h);

/**
 * Check that h is a live handle of this pool, without changing anything.  O(1).
 * TARN_OK or the error tarn_handle_lock would record (TARN_EINVAL, TARN_EFOREIGN,
 * TARN_ESTALE, TARN_ECORRUPT).
 */
tarn_status tarn_handle_validate(tarn_handle_pool *pool, tarn_handle h);

/** Requested size of the block, or 0 for a bad handle (reason in last_error, as
 *  tarn_handle_validate).  O(1). */
size_t tarn_handle_size(tarn_handle_pool *pool, tarn_handle h);

/** tarn_handle_size with the call's own status in *st (st may be NULL): TARN_OK, or the
 *  error tarn_handle_validate would return (then 0).  O(1).  See tarn_handle_alloc_status. */
size_t tarn_handle_size_status(tarn_handle_pool *pool, tarn_handle h, tarn_status *st);

/** Lock count of the block (0 = unpinned), or 0 for a bad handle (reason in last_error).
 *  O(1). */
unsigned tarn_handle_lock_count(tarn_handle_pool *pool, tarn_handle h);

/** tarn_handle_lock_count with the call's own status in *st (st may be NULL): TARN_OK
 *  (a count of 0 is then an unpinned block), or the error tarn_handle_validate would
 *  return (then 0).  O(1).  See tarn_handle_alloc_status. */
unsigned tarn_handle_lock_count_status(tarn_handle_pool *pool, tarn_handle h, tarn_status *st);

/**
 * Change the block's size, keeping its contents up to the smaller of the two sizes (new
 * bytes are undefined).  The block grows or shrinks in place when the free space after it
 * allows (shrinking always does); otherwise an unpinned block moves (to a free region the
 * good-fit search finds, see tarn_handle_fit_bound, or down into the free space just
 * before it), and a pinned one fails.  O(block size) when it moves, else O(1); with
 * TARN_HANDLE_F_AUTOCOMPACT it may compact, with TARN_HANDLE_F_SCRAMBLE it always
 * scrambles (O(live data)).
 * Errors (the block is unchanged): TARN_EINVAL (size 0, bad pool), TARN_EFOREIGN,
 * TARN_ESTALE, TARN_ECORRUPT (as tarn_handle_validate, or its guard bytes are damaged),
 * TARN_ENOMEM (no room), TARN_EBUSY (pinned and no room in place).
 */
tarn_status tarn_handle_resize(tarn_handle_pool *pool, tarn_handle h, size_t size);

/** Private: the out-of-line path of tarn_handle_lock (every case, fully checked).  Call
 *  tarn_handle_lock instead.  O(1) as tarn_handle_lock. */
void *tarn_handle_lock_slow_(tarn_handle_pool *pool, tarn_handle h);

/** Private: the out-of-line path of tarn_handle_unlock (every case, fully checked).  Call
 *  tarn_handle_unlock instead.  O(1) as tarn_handle_unlock. */
tarn_status tarn_handle_unlock_slow_(tarn_handle_pool *pool, tarn_handle h);

/**
 * tarn_handle_lock with the call's own status in *st (st may be NULL): TARN_OK with the
 * block's address, else NULL and the reason tarn_handle_lock records (TARN_EINVAL,
 * TARN_EFOREIGN, TARN_ESTALE, TARN_ECORRUPT, TARN_EOVERFLOW; also recorded in last_error).
 * Always out of line: it takes the lock hook when the pool has one, and runs every check
 * of the out-of-line path.  O(1) as tarn_handle_lock (same body as its out-of-line path);
 * undo it with tarn_handle_unlock.  See tarn_handle_alloc_status.
 */
void *tarn_handle_lock_status(tarn_handle_pool *pool, tarn_handle h, tarn_status *st);

/**
 * Pin the block and return its current address (aligned to TARN_ALIGN; valid for
 * tarn_handle_size(h) bytes until the matching tarn_handle_unlock).  Locks nest: the block
 * is unpinned when every lock has been undone.  O(1) - except for the one block that an
 * unfinished tarn_handle_compact_step is moving, whose move is completed first (at most its
 * size in bytes).  Returns NULL on failure, with the reason in last_error: TARN_EINVAL,
 * TARN_EFOREIGN, TARN_ESTALE, TARN_ECORRUPT (as tarn_handle_validate), TARN_EOVERFLOW (the
 * block is already locked 65535 times; its count is unchanged).
 *
 * Inline: when the pool has no lock hook, no scramble mode and TARN_CHECK_LEVEL is below
 * 2, the first lock of a live block is one comparison of the handle with its slot's key
 * (which is the handle itself exactly while the slot holds a live block that may be locked
 * at once), a test that the block is not locked yet and a store; every other case (a
 * nested lock among them) goes to the out-of-line path.  At checking level 1
 * the inline path also checks that the block's offset lies in the data area (the entry's
 * other O(1) sanity checks run on the out-of-line path and on every other call); at
 * level 0 it trusts the table.
 */
static inline void *tarn_handle_lock(tarn_handle_pool *pool, tarn_handle h)
{
    uintptr_t x = h.v & TARN_HANDLE_INDEX_MASK_;
    /* slots 0..fast-1: index 0 (the null handle) meets the list head, whose key matches
     * no handle; fast == 0 (no inline path, or a dead pool) sends everything out of line */
    if (pool != NULL && x < pool->fast) {
        tarn_handle_entry_ *e = pool->entries + x;
        uint32_t off = e->off;
        /* the first lock of a block; a nested one goes out of line (it counts up to the
         * limit there).  The count never exceeds 65535, so its low 16 bits tell whether
         * it is 0 (x86-64 gcc compares them with memory in one instruction) */
        if (e->key == h.v && (uint16_t)e->lock == 0u &&
            (TARN_CHECK_LEVEL < 1 || off < pool->data_size)) {
            e->lock = 1u;
            return pool->data + off;
        }
    }
    return tarn_handle_lock_slow_(pool, h);
}

/**
 * Undo one tarn_handle_lock.  O(1) (O(live data) with TARN_HANDLE_F_SCRAMBLE).
 * Errors (nothing is changed): as tarn_handle_validate, and TARN_EINVAL when the block is
 * not locked.  Inline like tarn_handle_lock: the inline path undoes the last lock (count 1
 * to 0); a nested one goes out of line.
 */
static inline tarn_status tarn_handle_unlock(tarn_handle_pool *pool, tarn_handle h)
{
    uintptr_t x = h.v & TARN_HANDLE_INDEX_MASK_;
    if (pool != NULL && x < pool->fast) {
        tarn_handle_entry_ *e = pool->entries + x;
        unsigned n = e->lock;
        if (e->key == h.v && n == 1u) { /* the last lock; nested ones go out of line */
            e->lock = 0u;
            return TARN_OK;
        }
    }
    return tarn_handle_unlock_slow_(pool, h);
}

/**
 * Copy the whole of block src to the start of block dst (dst must be at least as large;
 * its bytes beyond src's size are kept).  dst == src does nothing.  Neither needs to be
 * locked.  O(size of src).  Errors (nothing is changed): as tarn_handle_validate for
 * either handle, TARN_ERANGE (dst smaller than src), TARN_ECORRUPT (canary mode: the guard
 * of either block is damaged).
 */
tarn_status tarn_handle_copy(tarn_handle_pool *pool, tarn_handle dst, tarn_handle src);

/** Fill the block's tarn_handle_size() bytes with zeros.  O(block size).  Errors as
 *  tarn_handle_validate, and TARN_ECORRUPT in canary mode when its guard is damaged. */
tarn_status tarn_handle_clear(tarn_handle_pool *pool, tarn_handle h);

/* ---- compaction -------------------------------------------------------------------------- */
/**
 * Slide every unpinned block towards the start of the data area, keeping the blocks'
 * order: each one moves down to the end of the block before it.  Pinned blocks stay put,
 * so free space remains just before them; with no pins, all free space becomes one region
 * at the end.  Returns the number of bytes moved (0 for a bad pool).  Time linear in the
 * live data: one pass over the blocks, with one memmove per run of blocks that lie back
 * to back and move by the same distance (per block under sanitizers; small blocks are
 * copied inline on 64-bit hosts), that also rebuilds the free-region lists.  Holds the lock hook for the whole pass.  Completes the
 * block an unfinished tarn_handle_compact_step was moving, and restarts its scan.  Releases
 * every region the debug quarantine holds first (see above).  In canary mode the guard
 * bytes move with their blocks and are counted.
 */
size_t tarn_handle_compact(tarn_handle_pool *pool);

/** tarn_handle_compact with the call's own status in *st (st may be NULL): TARN_OK (also
 *  when nothing had to move), TARN_EINVAL (pool NULL or not initialised), TARN_ECORRUPT
 *  (TARN_CHECK_LEVEL 2 found damage; nothing moved).  Same cost as tarn_handle_compact
 *  (one body).  See tarn_handle_alloc_status. */
size_t tarn_handle_compact_status(tarn_handle_pool *pool, tarn_status *st);

/**
 * Incremental compaction: continue a pass that does what tarn_handle_compact does, doing
 * at most `budget_bytes` units of work in this call.  Units: each byte moved costs one,
 * each block the call starts or goes on moving TARN_HANDLE_STEP_MOVE_COST more, each block
 * examined without being moved TARN_HANDLE_STEP_VISIT_COST; so the time of a call is
 * O(budget_bytes), and about the same per unit whatever the block sizes (bench/handle
 * prints the instructions per unit for small and large blocks).  A block larger than what
 * the budget pays for is moved over several calls; it cannot be used meanwhile, and
 * locking it completes its move.  A call whose whole budget is below the cost of a move
 * still moves up to budget_bytes bytes of one block (every call makes progress).  Returns
 * true when the pass reached the end of the pool in this call (the next call starts a new
 * pass from the start), false when work remains or budget_bytes is 0 or the pool is bad.
 * *moved (may be NULL) receives the bytes moved by this call (at most budget_bytes).
 * Allocations, frees and locks may be interleaved freely with the steps of a pass; space
 * freed behind the scan is reclaimed by the next pass.  Regions held by the debug
 * quarantine are passed over like pinned blocks.  In canary mode a block's guard bytes
 * move with it and count against the budget.
 */
bool tarn_handle_compact_step(tarn_handle_pool *pool, size_t budget_bytes, size_t *moved);

/** tarn_handle_compact_step with the call's own status in *st (st may be NULL), which
 *  tells a bad pool from work that remains: TARN_OK (also for budget_bytes 0, which does
 *  nothing), TARN_EINVAL (pool NULL or not initialised), TARN_ECORRUPT (TARN_CHECK_LEVEL 2
 *  found damage).  Same cost as tarn_handle_compact_step (one body).  See
 *  tarn_handle_alloc_status. */
bool tarn_handle_compact_step_status(tarn_handle_pool *pool, size_t budget_bytes, size_t *moved,
                                     tarn_status *st);

/* ---- diagnostics --------------------------------------------------------------------- */
/**
 * Fill *out with a snapshot of the statistics.  O(blocks) (pinned is counted by a walk of
 * the blocks) plus the length of the free-region list of the largest size class (for
 * largest_free).  During an unfinished compact_step
 * pass the region the moving block may still occupy is not counted in largest_free.
 * Errors: TARN_EINVAL (pool NULL or not initialised, out NULL).
 */
tarn_status tarn_handle_stats_get(tarn_handle_pool *pool, tarn_handle_stats *out);

/**
 * Call fn for every block in address order, under the lock hook.  O(blocks).  Stops early
 * when fn returns false.  Regions held by the debug quarantine are not blocks and are not
 * reported (their bytes are in no block's gap_after either).  Errors: TARN_EINVAL (pool
 * NULL or not initialised, fn NULL).
 */
tarn_status tarn_handle_walk(tarn_handle_pool *pool, tarn_handle_walk_fn fn, void *ctx);

/**
 * Full integrity check of every table entry, the address-ordered block list, the free
 * slot list, the free-region lists and their bitmap, the quarantine ring and the
 * counters; in canary mode also every live block's guard bytes, and with TARN_POISON_FREE
 * (or scramble mode) the poison of every region the quarantine holds.  O(handles + size
 * classes), plus the guard and held bytes.  TARN_OK, TARN_ECORRUPT, or TARN_EINVAL (pool
 * NULL or not initialised).  Takes the lock hook.  (At TARN_CHECK_LEVEL 2 every call
 * starts with this check minus the guard and held bytes, which only the operations named
 * above and this function look at.)
 */
tarn_status tarn_handle_check(tarn_handle_pool *pool);

/**
 * Release every region the debug quarantine holds (oldest first), so that their space
 * and slots can be used again.  O(held regions + their bytes when poisoned).  Returns
 * TARN_OK (also when nothing is held, without TARN_F_QUARANTINE, or with TARN_QUARANTINE
 * 0), TARN_ECORRUPT when a released region's poison bytes had changed (a write after free;
 * everything is released all the same, and it is recorded as the last error), TARN_EINVAL
 * (pool NULL or not initialised).  Takes the lock hook.
 */
tarn_status tarn_handle_quarantine_flush(tarn_handle_pool *pool);

/** Status of the last failed operation on this pool (TARN_OK if none; TARN_EINVAL for
 *  NULL).  O(1).  Meant for a single-threaded caller: with several threads it is the last
 *  failure of any of them (written and read atomically, the read without the lock hook);
 *  use the _status variants (tarn_handle_alloc_status, tarn_handle_lock_status, ...) or the
 *  returned tarn_status there. */
tarn_status tarn_handle_last_error(const tarn_handle_pool *pool);

/** The pool's name from its config (may be NULL).  O(1). */
const char *tarn_handle_name(const tarn_handle_pool *pool);

#ifdef __cplusplus
}
#endif

#endif /* TARN_HANDLE_H */
