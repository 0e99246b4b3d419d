/*
 * tarn/heap.h - the heap: variable-size blocks, O(1) worst-case alloc and free,
 * immediate coalescing, an 8-byte header per block, exact O(1) pointer checks.
 *
 * The heap manages one caller buffer; its control structure lives at the start of that
 * buffer, so any number of heaps can exist and the library keeps no global state.
 * Allocation is a two-level segregated good fit (the TLSF family): free blocks are kept
 * in size classes, 2^k classes per power of two (k = 0..5, fewer for small buffers so
 * that the class table stays within max(size/1024 + 96, size/128) bytes), and a request
 * is served from the head of the smallest non-empty class whose every block is large
 * enough, found with two bit scans.  Every block starts with an 8-byte header (its size and the size
 * of the block before, as 27-bit granule numbers, on 32- and 64-bit hosts), where a
 * granule is TARN_HEAP_GRANULE = max(8, TARN_ALIGN) bytes: a 1..8 byte allocation takes
 * 16 bytes (outside canary mode, which adds TARN_HEAP_EXTRA bytes of guard and trailer).
 * The allocation takes the front of the block it is cut from, so a block can grow in
 * place into the free space after it.  A bitmap of used block starts (1 bit per
 * granule, 1/64 of the buffer) makes pointer validation exact without trusting any byte
 * the user can overwrite.
 *
 *     #include "tarn/heap.h"
 *     static unsigned char mem[16384];
 *     tarn_heap *h;
 *     if (tarn_heap_init(&h, mem, sizeof mem, NULL) != TARN_OK) { ... }
 *     char *s = tarn_heap_alloc(h, 100);            // NULL on failure; see last_error
 *     s = tarn_heap_realloc(h, s, 200);             // grows in place when it can
 *     tarn_status st = tarn_heap_free(h, s);        // TARN_OK, or why not
 *
 *     TARN_HEAP_DEFINE(app, 8192);                  // static heap + app_alloc/app_free/...
 *     void *p = app_alloc(40);
 *
 * Several memory regions: tarn_heap_add_region adds more buffers (up to
 * TARN_HEAP_MAX_REGIONS, default 4), each with a capability mask (TARN_CAP_DMA,
 * TARN_CAP_INTERNAL, TARN_CAP_EXTERNAL, TARN_CAP_EXEC, TARN_CAP_USER(n));
 * tarn_heap_alloc_caps and its calloc/aligned/realloc variants place a block in the first
 * region, in the order added, having every capability asked for, and realloc keeps a
 * block within such regions.  Blocks never merge across a region's ends; a pointer is
 * mapped to its region by at most TARN_HEAP_MAX_REGIONS range comparisons before any
 * byte of a region is read, then checked exactly by that region's used-start bitmap.
 *
 *     tarn_heap_set_caps(h, 0, TARN_CAP_INTERNAL | TARN_CAP_DMA);
 *     tarn_heap_add_region(h, psram, sizeof psram, TARN_CAP_EXTERNAL);
 *     uint8_t *ring = tarn_heap_aligned_alloc_caps(h, 32, 512, TARN_CAP_DMA);
 *     float *lut = tarn_heap_calloc_caps(h, 4096, sizeof *lut, TARN_CAP_EXTERNAL);
 *
 * Checking (TARN_CHECK_LEVEL, include/tarn/config.h):
 *   0  trust the caller: free/realloc/usable_size do not validate pointers.
 *   1  (default) every pointer handed back is validated in O(1) and exactly: a pointer
 *      that is not the start of a live block - NULL, outside the heap, inside a block,
 *      or already freed - is rejected with a status and changes nothing.  Headers are
 *      cross-checked against their neighbours' boundary tags, and free-list links are
 *      checked (in range, free, pointing back) before they are followed: damage from an
 *      overrun, an underrun or a write after free makes the heap report TARN_ECORRUPT
 *      before it writes anything, and from then on refuse allocations until it is
 *      initialised again.
 *   2  level 1, plus the full integrity check (tarn_heap_check) before every call:
 *      a damaged heap refuses the call with TARN_ECORRUPT.
 *
 * Debug modes (include/tarn/config.h; both off by default, no code when off):
 *   TARN_GUARD 1     canary mode: a block of n requested bytes is followed by at least
 *                    TARN_GUARD_SIZE guard bytes (TARN_GUARD_BYTE) and a 4-byte trailer
 *                    recording where the guard starts, inside the block's granules.
 *                    usable_size is then exactly n; the guard is poisoned for memory
 *                    tools; free/realloc/resize of a block whose guard or trailer is
 *                    damaged returns TARN_ECORRUPT and changes nothing, and
 *                    tarn_heap_check reports every such block.
 *   TARN_QUARANTINE  with cfg->flags TARN_F_QUARANTINE: freed blocks are held back (still
 *                    poisoned, still "used" in the bitmap, stats and walk; see
 *                    tarn_heap_stats.held_blocks) until TARN_QUARANTINE later frees push
 *                    them out, so a use-after-free stays visible to memory tools; see
 *                    tarn_heap_quarantine_flush.
 *   TARN_F_SAN_REPORT  (cfg->flags) a rejected free or realloc (double free, foreign or
 *                    interior pointer) is also reported to the memory tool.
 *
 * Module options (define in the TARN_CONFIG_FILE, see config.h):
 *   TARN_HEAP_TRACE  1 = compile in the trace hook (tarn_heap_set_trace); default 0:
 *                    no code and no field when unused.
 *   TARN_HEAP_FAST   accepted for compatibility; no effect (the heap has one path).
 *
 * Worst case: see tarn_heap_size_for() for the buffer size that guarantees that a
 * workload with a given peak of live bytes, largest request and number of live blocks
 * never sees a failed allocation, and docs/heap.md for the derivation.
 */
#ifndef TARN_HEAP_H
#define TARN_HEAP_H

#include "tarn/tarn.h"

#ifdef __cplusplus
extern "C" {
#endif

#ifndef TARN_HEAP_TRACE
/** 1 = compile in the trace hook (tarn_heap_set_trace); default 0: no code and no field. */
#define TARN_HEAP_TRACE 0
#endif
#ifndef TARN_HEAP_FAST
/** Accepted for compatibility with earlier versions; no effect. */
#define TARN_HEAP_FAST 1
#endif
#ifndef TARN_HEAP_CAP_SETS
/** Distinct capability sets of requests a heap remembers (so that realloc keeps a block
 *  in memory with its request's capabilities): 1..14, default 6.  See
 *  tarn_heap_alloc_caps. */
#define TARN_HEAP_CAP_SETS 6
#endif
#if (TARN_HEAP_CAP_SETS < 1) || (TARN_HEAP_CAP_SETS > 14)
#error "TARN_HEAP_CAP_SETS must be 1..14"
#endif

/** @name Region capabilities (tarn_heap_add_region, tarn_heap_alloc_caps)
 *  A region's capability mask says what its memory can do; a request's mask says what
 *  the block needs, and it is served only from a region having every bit of it.  tarn
 *  gives bits 0..3 a name; what they mean on a part is the application's choice, tarn
 *  only matches bits.  Bits 8..31 are free for the application (TARN_CAP_USER(n)).
 *  @{ */
#define TARN_CAP_DMA 0x1u        /**< reachable by DMA */
#define TARN_CAP_INTERNAL 0x2u   /**< internal / fast RAM (on-chip SRAM, TCM, CCM) */
#define TARN_CAP_EXTERNAL 0x4u   /**< external RAM (PSRAM, SDRAM behind a controller) */
#define TARN_CAP_EXEC 0x8u       /**< code may run from it */
/** Application bit n (0..23): bit 8 + n. */
#define TARN_CAP_USER(n) ((uint32_t)1u << (8u + (unsigned)(n)))
/** @} */

#ifndef TARN_HEAP_CAPS0
/** Capabilities of region 0 (the buffer given to tarn_heap_init) until
 *  tarn_heap_set_caps changes them: none by default, so that a request with any
 *  capability bit is never placed there unless the application says the buffer has it. */
#define TARN_HEAP_CAPS0 0u
#endif

/** Allocation unit and alignment of every block: max(8, TARN_ALIGN) bytes. */
#define TARN_HEAP_GRANULE (TARN_ALIGN > 8u ? (size_t)TARN_ALIGN : (size_t)8u)

/** Flag for tarn_config.flags: clear (zero) the memory of every block when it is freed.
 *  A block handed out later may still hold the heap's own metadata (free-list links, the
 *  headers of merged blocks), never a user's freed data. */
#define TARN_HEAP_F_CLEAR_FREED 0x1u

/** Events reported to a trace hook. */
typedef enum tarn_heap_event {
    TARN_HEAP_EV_ALLOC,   /**< a block was handed out: ptr, usable size */
    TARN_HEAP_EV_FREE,    /**< a block was freed: ptr, usable size it had */
    TARN_HEAP_EV_RESIZE,  /**< a block was resized in place: ptr, new usable size */
    TARN_HEAP_EV_FAIL,    /**< an allocation failed: ptr NULL, requested size, status */
    TARN_HEAP_EV_REJECT   /**< a pointer handed back was rejected: ptr, 0, status */
} tarn_heap_event;

/**
 * Trace hook (TARN_HEAP_TRACE 1): called with the heap's lock held, after the event took
 * place, with the context given to tarn_heap_set_trace.  It must not call the heap.
 */
typedef void (*tarn_heap_trace_fn)(void *ctx, tarn_heap_event ev, const void *ptr,
                                   size_t size, tarn_status status);

/**
 * A heap.  It is placed by tarn_heap_init at the start of the caller's buffer; the struct
 * is public only so that TARN_HEAP_MIN_SIZE is a constant.  Every field is private to
 * heap.c: use the functions below.
 */
typedef struct tarn_heap {
    struct tarn_heap *self;     /**< this heap while it is live (NULL once destroyed) */
    unsigned char *blocks;      /**< address of granule 0 (the first block's header) */
    uint32_t *groups;           /**< bit c of the class bitmap: class c is non-empty */
    uint32_t *heads;            /**< first free block (granule) of each class, or NIL */
    uint32_t ngran;             /**< N: granules of blocks; granule N is the sentinel */
    uint32_t top;               /**< bit i: groups[i] != 0 */
    uint32_t nclasses;          /**< number of classes (heads[] entries) */
    uint8_t k;                  /**< log2(classes per power of two), 0..5 */
    uint8_t flags;              /**< TARN_HEAP_F_CLEAR_FREED, and 0x80 for TARN_F_SAN_REPORT */
    uint8_t last_error;         /**< tarn_status of the last failed call */
    uint8_t broken;             /**< damaged metadata was seen (one set value): allocations
                                     are refused */
    uintptr_t seal;             /**< check of the fields above and the hooks (stray writes) */
    size_t used;                /**< bytes in used blocks */
    size_t peak;                /**< highest `used` */
    size_t allocs;              /**< successful allocations */
    size_t frees;               /**< successful frees */
    size_t failed;              /**< failed allocations */
    tarn_lock lock;             /**< lock hook from tarn_config (all NULL: no locking) */
    const char *name;           /**< name from tarn_config, or NULL */
    void *mem;                  /**< the caller's buffer, as given */
    size_t mem_size;            /**< size of the caller's buffer, as given */
    void *rt;                   /**< region table, at the start of the first region added
                                     (NULL while the heap has one region) */
    void *(*aligned)(struct tarn_heap *h, size_t alignment, size_t size, tarn_status *st);
                                /**< the over-aligned allocation, installed by the first
                                     aligned_alloc (NULL before): realloc moves a block
                                     from aligned_alloc only through it, so a program that
                                     never calls aligned_alloc does not link that code */
    uint32_t caps0;             /**< capability mask of region 0 */
    uint32_t rtchk;             /**< check of rt and caps0 (verified where they are used) */
    uint32_t memchk;            /**< check of mem, mem_size and aligned (verified where they
                                     are used) */
#if TARN_HEAP_TRACE
    tarn_heap_trace_fn trace;   /**< trace hook, or NULL (TARN_HEAP_TRACE 1 only) */
    void *trace_ctx;            /**< context passed to the trace hook */
#endif
#if TARN_QUARANTINE > 0
    tarn_quarantine quarantine; /**< freed blocks held back (TARN_F_QUARANTINE) */
#endif
} tarn_heap;

/** Bytes a block needs beyond the request: 0, or in canary mode (TARN_GUARD 1) the guard
 *  (TARN_GUARD_SIZE) and the 4-byte trailer recording where it starts. */
#if TARN_GUARD
#define TARN_HEAP_EXTRA ((size_t)TARN_GUARD_SIZE + 4u)
#else
#define TARN_HEAP_EXTRA ((size_t)0u)
#endif

/** Bytes of the blocks area an allocation of n bytes (1 <= n) consumes (not
 *  over-aligned): the 8-byte header (one granule) and n plus TARN_HEAP_EXTRA rounded up
 *  to the granule (a block may get one granule more when the rest of the free block it
 *  is cut from would be a single granule).  Constant expression. */
#define TARN_HEAP_BLOCK_BYTES(n)                                                          \
    (TARN_ALIGN_UP((size_t)(n) + TARN_HEAP_EXTRA, TARN_HEAP_GRANULE) + TARN_HEAP_GRANULE)

/** Internal: granules of the smallest block (a 1-byte request). */
#define TARN_HEAP_MIN_UNITS_ (TARN_HEAP_BLOCK_BYTES(1) / TARN_HEAP_GRANULE)

/**
 * Smallest buffer (bytes, any alignment) on which tarn_heap_init succeeds: the control
 * structure, its used-start bitmap and class table (TARN_HEAP_MIN_UNITS_ + 2 classes),
 * the block of one 1-byte allocation (two granules; more in canary mode) and the end
 * sentinel granule.  Exact while that block is at most 21 granules, an upper bound
 * beyond.
 */
#define TARN_HEAP_MIN_SIZE                                                                \
    (TARN_ALIGN_UP(sizeof(tarn_heap) +                                                    \
                       (((TARN_HEAP_MIN_UNITS_ + 32u) / 32u) +                            \
                        ((TARN_HEAP_MIN_UNITS_ + 33u) / 32u) + TARN_HEAP_MIN_UNITS_ + 2u) * \
                           sizeof(uint32_t),                                              \
                   TARN_HEAP_GRANULE) +                                                   \
     (TARN_HEAP_MIN_UNITS_ + 1u) * TARN_HEAP_GRANULE + TARN_HEAP_GRANULE - 1u)

/**
 * A buffer size (bytes, any alignment) whose heap can hold at least `usable` bytes of
 * blocks (stats.capacity >= usable, so one request of `usable` bytes succeeds in the
 * empty heap): the usable bytes plus an upper bound of the header, the sentinel, the
 * control structure, the used-start bitmap (1/64) and the class table (size/1024 + 96
 * bytes, and from about 14 KiB up 1/128 of the buffer, but never more than 3,044 bytes:
 * 761 words at 32 classes per power of two for the largest heap).  Constant expression.
 */
#define TARN_HEAP_BYTES(usable)                                                           \
    ((size_t)(usable) + TARN_HEAP_EXTRA + ((size_t)(usable) + TARN_HEAP_EXTRA) / 60u +    \
     TARN_HEAP_CLASS_BYTES_((size_t)(usable) + TARN_HEAP_EXTRA) + sizeof(tarn_heap) +      \
     6u * TARN_HEAP_GRANULE + 160u)
/** Private: what TARN_HEAP_BYTES adds for the finer class split of buffers from about
 *  14 KiB up (n: the usable bytes). */
#define TARN_HEAP_CLASS_BYTES_(n)                                                         \
    ((n) < 13312u ? (size_t)0 : (n) / 128u < 3072u ? (n) / 128u : (size_t)3072u)

/**
 * Statistics of a heap (a consistent snapshot, taken under the lock).  Sizes are what
 * callers can use: in canary mode (TARN_GUARD 1) each block's guard and trailer
 * (TARN_HEAP_EXTRA bytes) are not counted in used and are taken off capacity,
 * largest_free and max_alloc, so that a request of capacity (or largest_free) bytes is
 * the largest that can fit.  Blocks held by the quarantine count as freed.
 */
typedef struct tarn_heap_stats {
    size_t capacity;       /**< bytes of the blocks area (what all blocks together can hold),
                                minus TARN_HEAP_EXTRA */
    size_t used;           /**< bytes in allocated blocks (their usable sizes) */
    size_t free;           /**< capacity - used */
    size_t peak_used;      /**< highest `used` since init */
    size_t largest_free;   /**< size of the largest free block (minus TARN_HEAP_EXTRA) */
    size_t max_alloc;      /**< largest request guaranteed to succeed now (<= largest_free) */
    size_t free_blocks;    /**< number of free blocks (fragments) */
    size_t live_blocks;    /**< allocations not yet freed */
    size_t total_allocs;   /**< successful allocations since init (realloc moves count) */
    size_t total_frees;    /**< successful frees since init */
    size_t failed_allocs;  /**< allocation requests that returned NULL */
    size_t overhead;       /**< bytes of the buffer not in capacity (control, bitmap,
                                alignment; TARN_HEAP_EXTRA) */
    size_t held_blocks;    /**< freed blocks the quarantine holds back (TARN_F_QUARANTINE):
                                counted as freed (not in used or live_blocks, in
                                total_frees), since an allocation short of room releases
                                them */
} tarn_heap_stats;

/**
 * Block visitor for tarn_heap_walk: one call per block in address order, with the
 * block's address, its size in bytes and whether it is allocated (for an allocated
 * block the size is its usable size: in canary mode the requested size; a block held
 * by the quarantine is reported as free).  Return true to go on,
 * false to stop the walk (the same shape as the block pool's walk callback, so
 * tarn_dump_walk_cb can be passed directly).
 */
typedef bool (*tarn_heap_walk_fn)(void *ctx, void *block, size_t size, bool used);

/* ---- life cycle ------------------------------------------------------------------------ */
/**
 * Create a heap in `mem` (any alignment; the heap aligns internally) of `size` bytes and
 * store it in *out.  The control structure, used-start bitmap and class table take the start of
 * the buffer; the rest, rounded down to whole granules, is one free block.  Buffers of
 * more than 2^27 - 1 granules (1 GiB with 8-byte granules) are used up to that size.
 * cfg may be NULL (no lock, no name, no flags); cfg->flags may hold
 * TARN_HEAP_F_CLEAR_FREED, TARN_F_SAN_REPORT and TARN_F_QUARANTINE (ignored when
 * TARN_QUARANTINE is 0).  O(size / 256) (the bitmap is cleared; blocks are not touched).
 * Errors: TARN_EINVAL (out or mem NULL, lock hook with only one of lock/unlock, unknown
 * flag), TARN_ETOOSMALL (size < TARN_HEAP_MIN_SIZE for this alignment of mem).  On error
 * *out is NULL (when out is not).  Not ISR-safe; not thread-safe (initialise before
 * sharing the heap).
 */
tarn_status tarn_heap_init(tarn_heap **out, void *mem, size_t size, const tarn_config *cfg);

/**
 * End a heap: every block becomes invalid, the buffer (and every region's) is handed back
 * to the caller (and to memory tools as ordinary memory), and every later call on `h`
 * fails with TARN_EINVAL.  O(regions).  Errors: TARN_EINVAL (h NULL or not a live heap).  Not thread-safe.
 */
tarn_status tarn_heap_destroy(tarn_heap *h);

/* ---- allocation ------------------------------------------------------------------------ */
/**
 * Allocate `size` bytes, aligned to TARN_HEAP_GRANULE.  O(1) worst case (two bit scans,
 * header checks, at most two free-list updates).  With several regions, region 0 first,
 * then the next ones in order when it has no room: O(1) per region tried.  The contents
 * are undefined.  With the quarantine on, a request that finds no room first releases
 * held blocks, oldest first, and retries (O(TARN_QUARANTINE) then).  Returns NULL on failure and records why in last_error: TARN_EINVAL
 * (size 0, or h not a heap), TARN_ENOMEM (no free block large enough, including any size
 * larger than the heap), TARN_ECORRUPT (damaged free-list links found).  Thread-safe with
 * a lock hook; ISR-safe only if the hook is (or no other context uses the heap).
 */
void *tarn_heap_alloc(tarn_heap *h, size_t size);

/**
 * Allocate nitems * size bytes set to zero.  O(1) plus the clearing.  NULL on failure:
 * TARN_EOVERFLOW (nitems * size does not fit in size_t), otherwise as tarn_heap_alloc
 * (a zero product is TARN_EINVAL).  Thread/ISR safety as tarn_heap_alloc.
 */
void *tarn_heap_calloc(tarn_heap *h, size_t nitems, size_t size);

/**
 * Allocate `size` bytes aligned to `alignment` (any power of two; up to the granule this
 * is tarn_heap_alloc).  The block remembers its alignment (in its header): realloc keeps
 * it.  The search needs a free block of the request plus alignment + one granule (what
 * lies before the aligned start stays free).  O(1).
 * NULL on failure: TARN_EINVAL (alignment 0 or not a power of two, size 0), TARN_ENOMEM,
 * TARN_ECORRUPT.  Thread/ISR safety as tarn_heap_alloc.
 */
void *tarn_heap_aligned_alloc(tarn_heap *h, size_t alignment, size_t size);

/**
 * Resize the block at p to hold `size` bytes, keeping its contents (up to the smaller
 * size) and its alignment.
 *  - p NULL: same as tarn_heap_alloc(h, size).
 *  - size 0: frees p and returns NULL (last_error is set only if p was rejected).
 *  - shrinking, or growing into a free right neighbour: done in place, same pointer.
 *  - otherwise: a new block is allocated, the contents copied, p freed (held by the
 *    quarantine when it is on).  With several regions the new block is placed as
 *    tarn_heap_alloc_caps would place a request with the capabilities of p's request.
 * O(1) plus the copy.  Returns NULL on failure, and then p is untouched and still valid:
 * TARN_EFOREIGN / TARN_EDOUBLE / TARN_EINVAL (p rejected as by tarn_heap_free),
 * TARN_ENOMEM (no room, including size beyond the heap), TARN_ECORRUPT.  Thread/ISR
 * safety as tarn_heap_alloc.
 */
void *tarn_heap_realloc(tarn_heap *h, void *p, size_t size);

/**
 * tarn_heap_alloc, tarn_heap_calloc, tarn_heap_aligned_alloc and tarn_heap_realloc with
 * the call's own status in *st (st may be NULL): TARN_OK with a block, else NULL and the
 * reason (TARN_ENOMEM, TARN_EINVAL, TARN_EOVERFLOW, TARN_ECORRUPT, TARN_EFOREIGN,
 * TARN_EDOUBLE for realloc's pointer; a realloc to size 0 gives free's status).  The status
 * is decided under the heap's lock, so another thread's failure cannot replace it as it
 * can replace last_error: use these where several threads share a heap.  Same cost,
 * effects and safety as the plain functions.
 */
void *tarn_heap_alloc_status(tarn_heap *h, size_t size, tarn_status *st);
/** See tarn_heap_alloc_status. */
void *tarn_heap_calloc_status(tarn_heap *h, size_t nitems, size_t size, tarn_status *st);
/** See tarn_heap_alloc_status. */
void *tarn_heap_aligned_alloc_status(tarn_heap *h, size_t alignment, size_t size,
                                     tarn_status *st);
/** See tarn_heap_alloc_status. */
void *tarn_heap_realloc_status(tarn_heap *h, void *p, size_t size, tarn_status *st);

/* ---- regions and capabilities ----------------------------------------------------------- */
/**
 * Bytes (an upper bound, for any alignment) the region table takes at the start of the
 * first region added to a heap (tarn_heap_add_region), before that region's own control
 * part: size the first region added TARN_HEAP_REGION_TABLE_BYTES larger than a
 * one-region heap of what it must hold.  Constant expression.
 */
#define TARN_HEAP_REGION_TABLE_BYTES                                                      \
    ((size_t)TARN_HEAP_MAX_REGIONS * (3u * sizeof(uintptr_t) + 12u) +                   \
     (size_t)TARN_HEAP_CAP_SETS * 4u + 6u * sizeof(uintptr_t) + 16u + 2u * TARN_HEAP_GRANULE)

/**
 * Add the buffer [mem, mem + size) (any alignment) to the heap as a new region with the
 * capability mask `caps` (TARN_CAP_* bits), before or after allocations.  The region
 * becomes the last in order of preference: a request is served by the first region, in
 * the order the regions were added (region 0 is the buffer given to tarn_heap_init),
 * that has every capability it asks for and room for it.  A region is laid out like a
 * heap of its own (a control part at its start - the same as a one-region heap of that
 * size, so TARN_HEAP_MIN_SIZE and tarn_heap_size_for apply to it - then its blocks and a
 * sentinel): blocks never merge across a region's ends.  The first region added to a
 * heap also holds the region table, in front of its control part: it needs
 * TARN_HEAP_REGION_TABLE_BYTES more (at most).  The new region uses the heap's
 * flags (TARN_HEAP_F_CLEAR_FREED, TARN_F_SAN_REPORT, TARN_F_QUARANTINE: each region has
 * its own quarantine ring), name, trace hook and lock.  O(size / 256), as tarn_heap_init.
 * Errors (nothing changes): TARN_EINVAL (h not a heap, mem NULL, the buffer wraps around
 * the address space or overlaps a region of this heap), TARN_EOVERFLOW
 * (TARN_HEAP_MAX_REGIONS regions already), TARN_ETOOSMALL (size < TARN_HEAP_MIN_SIZE for
 * this alignment, plus the region table's bytes for the first region added), TARN_ECORRUPT (the region table was damaged).  Thread-safe with a
 * lock hook; not ISR-safe.
 */
tarn_status tarn_heap_add_region(tarn_heap *h, void *mem, size_t size, uint32_t caps);

/**
 * Change the capability mask of region `region` (0 = the buffer of tarn_heap_init, whose
 * mask is TARN_HEAP_CAPS0 until then).  Blocks already in it stay.  O(1).  Errors:
 * TARN_EINVAL (h not a heap), TARN_ENOENT (no such region), TARN_ECORRUPT (the region
 * table was damaged).  Thread-safe with a lock hook.
 */
tarn_status tarn_heap_set_caps(tarn_heap *h, unsigned region, uint32_t caps);

/** Number of regions of the heap (1 + regions added; 0 if h is not a heap or its region
 *  table is damaged).  O(1).  Thread-safe with a lock hook (another thread may be adding
 *  a region); not ISR-safe unless the hook is. */
unsigned tarn_heap_region_count(const tarn_heap *h);

/** What tarn_heap_region_get reports about one region. */
typedef struct tarn_heap_region {
    void *mem;              /**< the region's buffer, as given */
    size_t size;            /**< its size, as given */
    uint32_t caps;          /**< its capability mask */
    tarn_heap_stats stats;  /**< its statistics (see tarn_heap_region_get) */
} tarn_heap_region;

/**
 * Describe region `region`: its buffer, capabilities and statistics.  Every field of the
 * statistics is the region's own (capacity, overhead, used, free, largest_free,
 * max_alloc, free_blocks, live_blocks, total_allocs, total_frees, held_blocks), except:
 * failed_allocs is 0 (a failed request belongs to no region; the heap's statistics count
 * it), and peak_used of region 0, in a heap with several regions, is the whole heap's
 * peak (region 0 keeps the heap's counters; its own are the heap's minus those of the
 * other regions).  O(free blocks of the region).  Errors: TARN_EINVAL (h or out NULL),
 * TARN_ENOENT (no such region), TARN_ECORRUPT (region table or region control damaged).
 * Thread-safe with a lock hook.
 */
tarn_status tarn_heap_region_get(tarn_heap *h, unsigned region, tarn_heap_region *out);

/**
 * tarn_heap_walk over the blocks of one region only.  O(blocks of the region).  Errors:
 * TARN_EINVAL, TARN_ENOENT (no such region), TARN_ECORRUPT.  Thread-safe with a lock hook.
 */
tarn_status tarn_heap_region_walk(tarn_heap *h, unsigned region, tarn_heap_walk_fn fn,
                                  void *ctx);

/**
 * Validate p as tarn_heap_validate does and store the index of the region holding it in
 * *region.  O(TARN_HEAP_MAX_REGIONS).  TARN_OK or the error tarn_heap_free would return
 * (TARN_EINVAL also for region NULL).  Thread-safe with a lock hook.
 */
tarn_status tarn_heap_region_of(tarn_heap *h, const void *p, unsigned *region);

/**
 * Allocate `size` bytes from the first region, in order of preference (the order regions
 * were added, region 0 first), whose capability mask has every bit of `caps` (caps 0:
 * any region; tarn_heap_alloc is caps 0).  The block remembers its request's
 * capabilities (as a 4-bit tag in its header, indexing a table of TARN_HEAP_CAP_SETS
 * masks kept by the heap): tarn_heap_realloc moves it only into regions having them.
 * Once the table is full, a block with a mask not in it is tagged "its region's mask"
 * and realloc keeps it within regions having every capability of that region (never
 * fewer than requested).  O(regions) worst case: each region costs at most one O(1)
 * attempt (two bit scans and header checks), and a request stops at the first region
 * that serves it.  NULL on failure, with why in last_error: TARN_ENOMEM (no region with
 * those capabilities has room, or none has them), TARN_EINVAL, TARN_ECORRUPT.
 * Thread/ISR safety as tarn_heap_alloc.
 */
void *tarn_heap_alloc_caps(tarn_heap *h, size_t size, uint32_t caps);
/** tarn_heap_calloc from regions with the capabilities `caps` (see tarn_heap_alloc_caps). */
void *tarn_heap_calloc_caps(tarn_heap *h, size_t nitems, size_t size, uint32_t caps);
/** tarn_heap_aligned_alloc from regions with the capabilities `caps` (see
 *  tarn_heap_alloc_caps). */
void *tarn_heap_aligned_alloc_caps(tarn_heap *h, size_t alignment, size_t size,
                                   uint32_t caps);
/**
 * tarn_heap_realloc whose result lies in a region with the capabilities `caps` (which
 * replace those of the block's request): resized in place when its region has them,
 * else moved.  p NULL is tarn_heap_alloc_caps; size 0 frees p.  Errors as
 * tarn_heap_realloc.
 */
void *tarn_heap_realloc_caps(tarn_heap *h, void *p, size_t size, uint32_t caps);
/** tarn_heap_alloc_caps with the call's status in *st (see tarn_heap_alloc_status). */
void *tarn_heap_alloc_caps_status(tarn_heap *h, size_t size, uint32_t caps, tarn_status *st);
/** tarn_heap_calloc_caps with the call's status in *st. */
void *tarn_heap_calloc_caps_status(tarn_heap *h, size_t nitems, size_t size, uint32_t caps,
                                   tarn_status *st);
/** tarn_heap_aligned_alloc_caps with the call's status in *st. */
void *tarn_heap_aligned_alloc_caps_status(tarn_heap *h, size_t alignment, size_t size,
                                          uint32_t caps, tarn_status *st);
/** tarn_heap_realloc_caps with the call's status in *st. */
void *tarn_heap_realloc_caps_status(tarn_heap *h, void *p, size_t size, uint32_t caps,
                                    tarn_status *st);

/**
 * Resize the block at p to hold `size` bytes without moving it: shrinking always
 * succeeds, growing succeeds when the right neighbour is free and large enough.  O(1).
 * Errors (nothing changes): TARN_EINVAL (h or p NULL, size 0), TARN_EFOREIGN,
 * TARN_EDOUBLE, TARN_ENOMEM (cannot grow in place), TARN_ECORRUPT.  Thread/ISR safety
 * as tarn_heap_alloc.
 */
tarn_status tarn_heap_resize(tarn_heap *h, void *p, size_t size);

/**
 * Free the block at p; it is merged at once with free neighbours.  O(1) worst case (with
 * several regions, plus at most TARN_HEAP_MAX_REGIONS - 1 range comparisons to find p's
 * region).
 * Errors (nothing changes, every block stays intact): TARN_EINVAL (h or p NULL),
 * TARN_EFOREIGN (p outside the heap, misaligned, or not the start of a block - e.g. a
 * pointer into a block, or a freed block since merged into its neighbour), TARN_EDOUBLE
 * (p is a free block: freed twice, or held by the quarantine), TARN_ECORRUPT (damaged
 * free-list links found; in canary mode also a damaged guard or trailer: the block stays
 * allocated).  With the quarantine on the block is held instead of released (O(
 * TARN_QUARANTINE) for the double-free test); the block it pushes out of a full ring is
 * released, and if that block was written while held (TARN_POISON_FREE or
 * TARN_HEAP_F_CLEAR_FREED fill it), TARN_ECORRUPT is recorded in last_error while this
 * call still returns TARN_OK.  At TARN_CHECK_LEVEL 0 pointers are trusted.  Thread/ISR
 * safety as tarn_heap_alloc.
 */
tarn_status tarn_heap_free(tarn_heap *h, void *p);

/**
 * Usable size of the block at p in bytes (at least what was requested; every byte of
 * it may be used; in canary mode exactly what was requested).  O(1).  Returns 0 if p is rejected (see tarn_heap_free; recorded in
 * last_error).  Thread-safe with a lock hook.
 */
size_t tarn_heap_usable_size(tarn_heap *h, const void *p);

/**
 * Check, without changing anything, that p is the start of a live block of h.  O(1).
 * TARN_OK or the error tarn_heap_free would return.  Thread-safe with a lock hook.
 */
tarn_status tarn_heap_validate(tarn_heap *h, const void *p);

/* ---- diagnostics ----------------------------------------------------------------------- */
/** Status of the last failed call on h (TARN_OK if none; TARN_EINVAL for NULL).  O(1).
 *  Meant for a single-threaded caller: another thread's failure may replace yours (the
 *  read is atomic, without the lock); use the _status variants there. */
tarn_status tarn_heap_last_error(const tarn_heap *h);

/** The name given at init (may be NULL).  O(1). */
const char *tarn_heap_name(const tarn_heap *h);

/**
 * Fill *out with a snapshot of the statistics.  O(free blocks): largest_free and
 * free_blocks walk the free lists (at most N steps, even on a damaged heap); every other
 * field is O(1).  With TARN_STATS 0 the counters are computed by a walk (O(blocks)) and
 * peak_used is the current use.  With several regions the figures are the whole heap's
 * (capacity, overhead, free_blocks summed, largest_free and max_alloc the largest of
 * any region); tarn_heap_region_get gives one region's.  Errors: TARN_EINVAL (NULL),
 * TARN_ECORRUPT (a region's control part or the region table is damaged: the figures
 * cover the regions before it).  Thread-safe with a lock hook.
 */
tarn_status tarn_heap_stats_get(tarn_heap *h, tarn_heap_stats *out);

/**
 * Call fn(ctx, block, size, used) for every block in address order, region after region
 * (in the order they were added), until fn returns false.  O(blocks).  Runs with the
 * lock held: fn must not call the heap.
 * Errors: TARN_EINVAL (NULL), TARN_ECORRUPT (a header whose size leaves the heap: the walk stops; it never
 * reads outside the buffer).
 */
tarn_status tarn_heap_walk(tarn_heap *h, tarn_heap_walk_fn fn, void *ctx);

/**
 * Full integrity check: geometry, every header (sizes, boundary tags, used-start bitmap), every block
 * (free blocks never adjacent, no stray state bits, over-aligned blocks aligned as
 * recorded), every free list (each node a free block of the list's class, back links,
 * no cycle, every free block listed once), the class bitmaps, and the counters; in
 * canary mode the guard and trailer of every used block; with the quarantine, that each
 * held block is a used block held once and, when freed memory is filled, still holds
 * the fill (a write after free).  O(size / 32 + blocks), plus O(blocks * TARN_QUARANTINE)
 * with the quarantine on.  TARN_OK or TARN_ECORRUPT (TARN_EINVAL for NULL).  Never follows
 * a link or a size outside the heap.  With several regions: every region, the region
 * table's check words, and the heap's counters against the sum of the regions'.
 * Thread-safe with a lock hook.
 */
tarn_status tarn_heap_check(tarn_heap *h);

/**
 * O(1) sanity check: the control structure (identity, geometry, sentinels), the class
 * bitmaps, the head of the largest and smallest non-empty class, the counters.
 * TARN_OK or TARN_ECORRUPT (TARN_EINVAL for NULL).  Thread-safe with a lock hook.
 */
tarn_status tarn_heap_sane(tarn_heap *h);

/**
 * Worst-case sizing: a buffer size (bytes, for any alignment of the buffer) on which no
 * allocation can fail, for any sequence of alloc/free (and realloc seen as alloc+free)
 * in which at every moment the live requested bytes, counting the request being served,
 * are at most `peak_bytes`, no request exceeds `max_request` bytes, and at most
 * `max_live` blocks are live (counting the request).  Pass max_live 0 for "unknown": it
 * is then bounded by peak_bytes (every request is at least 1 byte).  The formula and its
 * proof are at the top of heap.c.  An aligned_alloc(A, n) counts as a request of n + A +
 * TARN_HEAP_GRANULE bytes, in peak_bytes and in max_request.  For a heap of several
 * buffers, size each one for what it alone must hold.  Returns 0 (refuses) when the
 * result would exceed the largest heap (2^27 - 1 granules) or SIZE_MAX, whatever the
 * inputs (no overflow).  O(1).  Pure function: ISR-safe and reentrant.
 */
size_t tarn_heap_size_for(size_t peak_bytes, size_t max_request, size_t max_live);

/**
 * Release every block held by the quarantine (TARN_F_QUARANTINE), oldest first.
 * O(TARN_QUARANTINE).  TARN_OK, or TARN_ECORRUPT (also recorded in last_error) when a
 * held block had been written after it was freed, or could not be released (damaged
 * neighbour links); every held block has left the ring either way.  TARN_EINVAL for a
 * NULL heap.  A no-op returning TARN_OK without the flag or with TARN_QUARANTINE 0.
 * Thread-safe with a lock hook.
 */
tarn_status tarn_heap_quarantine_flush(tarn_heap *h);

#if TARN_HEAP_TRACE
/**
 * Install (fn non-NULL) or remove (fn NULL) the trace hook; see tarn_heap_trace_fn.
 * O(1).  Errors: TARN_EINVAL (h NULL).  Thread-safe with a lock hook.
 */
tarn_status tarn_heap_set_trace(tarn_heap *h, tarn_heap_trace_fn fn, void *ctx);
#endif

/* ---- static heaps ---------------------------------------------------------------------- */
/** Internal: marks generated functions that a program may leave unused. */
#if defined(__GNUC__) || defined(__clang__)
#define TARN_HEAP_MAYBE_UNUSED_ __attribute__((unused))
#else
#define TARN_HEAP_MAYBE_UNUSED_
#endif

/** Internal: the type giving a static buffer the alignment of any object. */
typedef union tarn_heap_align_ {
    long double ld;
    void *p;
    uint64_t u;
    void (*fn)(void);
} tarn_heap_align_;

/**
 * Declare a static heap `name` over a buffer of `bytes` bytes (at least
 * TARN_HEAP_MIN_SIZE), initialised on first use (no lock, name "name"), with its own API:
 *     void *name_alloc(size_t size);
 *     void *name_calloc(size_t nitems, size_t size);
 *     void *name_realloc(void *p, size_t size);
 *     tarn_status name_free(void *p);
 *     size_t name_size(void *p);          (usable size; 0 if p is rejected)
 *     tarn_heap *name_heap(void);         (the heap, for every other function; NULL
 *                                          only if bytes < TARN_HEAP_MIN_SIZE)
 * The functions are static inline: use the macro at file scope, once per heap.  The
 * first-use initialisation is not thread-safe: call name_heap() once at start-up before
 * sharing it (or init the buffer `name##_mem` yourself with a lock hook).
 */
#define TARN_HEAP_DEFINE(name, bytes)                                                     \
    static union {                                                                        \
        tarn_heap_align_ align_;                                                          \
        unsigned char b[(bytes)];                                                         \
    } name##_mem;                                                                         \
    static tarn_heap *name##_heap_;                                                       \
    static inline TARN_HEAP_MAYBE_UNUSED_ tarn_heap *name##_heap(void)                                            \
    {                                                                                     \
        if (name##_heap_ == NULL) {                                                       \
            tarn_config name##_cfg_ = {{NULL, NULL, NULL}, #name, 0u};                    \
            (void)tarn_heap_init(&name##_heap_, name##_mem.b, sizeof name##_mem.b,        \
                                 &name##_cfg_);                                           \
        }                                                                                 \
        return name##_heap_;                                                              \
    }                                                                                     \
    static inline TARN_HEAP_MAYBE_UNUSED_ void *name##_alloc(size_t size)                                         \
    {                                                                                     \
        return tarn_heap_alloc(name##_heap(), size);                                      \
    }                                                                                     \
    static inline TARN_HEAP_MAYBE_UNUSED_ void *name##_calloc(size_t nitems, size_t size)                         \
    {                                                                                     \
        return tarn_heap_calloc(name##_heap(), nitems, size);                             \
    }                                                                                     \
    static inline TARN_HEAP_MAYBE_UNUSED_ void *name##_realloc(void *p, size_t size)                              \
    {                                                                                     \
        return tarn_heap_realloc(name##_heap(), p, size);                                 \
    }                                                                                     \
    static inline TARN_HEAP_MAYBE_UNUSED_ tarn_status name##_free(void *p)                                        \
    {                                                                                     \
        return tarn_heap_free(name##_heap(), p);                                          \
    }                                                                                     \
    static inline TARN_HEAP_MAYBE_UNUSED_ size_t name##_size(void *p)                                             \
    {                                                                                     \
        return tarn_heap_usable_size(name##_heap(), p);                                   \
    }                                                                                     \
    typedef int name##_tarn_heap_defined_

#ifdef __cplusplus
}
#endif

#endif /* TARN_HEAP_H */
