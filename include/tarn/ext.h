/*
 * tarn/ext.h - external memory manager: memory the CPU cannot address (SRAM, FRAM, EEPROM
 * on I2C or SPI), reached only through read/write callbacks, safe across power loss.
 *
 * The managed region lives on the device: a superblock, a few persistent root slots, then
 * the blocks, each with a redundant 24-byte header (regions of 36 to 64 bytes use a compact
 * format: 8-byte superblock, no roots).  The manager keeps one fixed-size
 * struct in RAM (independent of the region size and the number of blocks) and never calls
 * malloc.  A power cut at any instant - between two callback writes, in the middle of a
 * write, with the last byte half programmed, or (on media with write buffers) with the
 * writes since the last sync landing in any order - leaves a device that tarn_ext_mount
 * accepts: every alloc, free and root update that returned before the cut has taken effect
 * and no allocation's data was touched by the manager; the operation in flight has
 * happened completely or not at all.  src/ext.c explains how.
 *
 * Contract against damage other than a clean cut (tests/test_ext_damage.c):
 *  - Torn writes on any device: bits of the write in flight may land in any order and any
 *    subset (parallel-programming EEPROM), in every region of 36 bytes or more: mount yields
 *    the state before or after the operation, never a third one, and never refuses it.
 *    (Records carry a 48-bit check; the chance that a torn record passes for a third value
 *    is about 2^-41 per torn write - never seen in exhaustive runs over small regions.)
 *  - One flipped bit anywhere in the metadata (superblock, roots, headers): mount yields
 *    exactly the committed state (the superblock is kept twice; a record slot one bit off
 *    is corrected) or, for damage it cannot undo, TARN_ECORRUPT - never silently another
 *    state.  Two or more damaged bits in one record may be taken for a torn write.
 *  - Callback errors never leak a block (see tarn_ext_alloc).
 *  - TARN_ENOENT from mount means nothing was formatted there (blank area, or a format cut
 *    before its commit): the only status on which formatting is safe.
 * The first two hold for regions of TARN_EXT_MIN_SIZE(0) (36) bytes and more.  Regions of
 * 16 to 32 bytes exist only as an explicit option, TARN_EXT_F_BYTE_ORDERED, for devices
 * whose writes land in byte order, and keep the power-cut and callback-error guarantees
 * but not those two (see there).
 *
 * Addresses are 32-bit device addresses, never pointers: an allocation is the device
 * address of its first data byte, 0 means "none".  Cost in bus transactions (the figure
 * that matters on a serial bus): free = 2 header reads + 1 write; alloc = 1 or 2 writes
 * and usually no read (see tarn_ext_alloc); mount = 1 read per block.
 *
 *     static int fram_read(void *ctx, uint32_t addr, void *buf, size_t n);   // 0 = ok
 *     static int fram_write(void *ctx, uint32_t addr, const void *buf, size_t n);
 *     static const tarn_ext_io fram = {fram_read, fram_write, NULL, NULL};
 *     static tarn_ext ext;
 *
 *     tarn_status st = tarn_ext_mount(&ext, &fram, 0, 32768, NULL);   // after every reset
 *     if (st == TARN_ENOENT)                                           // blank: first use
 *         st = tarn_ext_format(&ext, &fram, 0, 32768, 1, NULL);        // 1 root
 *     if (st != TARN_OK) ...;     // TARN_ECORRUPT: damaged - never format it blindly
 *     uint32_t log;
 *     tarn_ext_root_get(&ext, 0, &log);                                // found again
 *     if (log == 0 && tarn_ext_alloc(&ext, 256, &log) == TARN_OK) {
 *         tarn_ext_write(&ext, log, 0, "hello", 5);
 *         tarn_ext_root_set(&ext, 0, log);                             // atomic publish
 *     }
 */
#ifndef TARN_EXT_H
#define TARN_EXT_H

#include "tarn/tarn.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- configuration (override through TARN_CONFIG_FILE) -------------------------------- */
#ifndef TARN_EXT_MAX_ROOTS
/** Most root slots a region can have, 1 to 64 (each costs 5 bytes of RAM; a region pays
 *  16 device bytes per root it is formatted with). */
#define TARN_EXT_MAX_ROOTS 8
#endif
#ifndef TARN_EXT_CACHE_RUNS
/** Free runs remembered in RAM, one per size class (capacities 4 bytes, 8-12, 16-28, ...
 *  each class twice the previous; the last class takes all larger runs); 13 bytes of RAM
 *  each, 2 to 16.  alloc scans the device for more when none of them fits well. */
#define TARN_EXT_CACHE_RUNS 8
#endif

#ifndef TARN_EXT_FIT_READS
/** Headers alloc may read looking for a closer fit when the best cached run is 4 or more
 *  times too large (and free space exists outside the cache): more reads per alloc, less
 *  fragmentation.  0 disables the search (a fit is then searched only when none is cached). */
#define TARN_EXT_FIT_READS 8u
#endif

/* ---- configuration flags (tarn_config.flags, read by tarn_ext_format) -------------------- */
/**
 * The device's writes land in byte order (FRAM, serial SPI/I2C SRAM: a write cut by power
 * loss leaves a prefix of its bytes, the last one possibly half programmed), and the caller
 * accepts the byte-ordered format for a region of TARN_EXT_BYTE_ORDERED_MIN_SIZE (16) to
 * TARN_EXT_BYTE_ORDERED_MAX_SIZE (32) bytes.  Without this flag tarn_ext_format refuses
 * such regions (TARN_ETOOSMALL); with it, regions of 36 bytes and more are formatted as
 * without it (the flag changes nothing there).  tarn_ext_mount needs no flag: the region
 * size tells the format, and the superblock must match it.
 * The byte-ordered format: one 4-byte superblock (no second copy), no roots, 8-byte block
 * headers of two 4-byte slots with an 8-bit check each; 16 bytes hold one allocation of
 * 4 bytes.  What it guarantees, and what it does not:
 *  - Power cut on a byte-ordered device (any prefix of the write in flight, the last byte
 *    half programmed): mount yields the state before or after the operation in flight, as
 *    in the other formats, with the same write budget.
 *  - Torn writes whose bits land in any order (parallel-programming EEPROM) and damage such
 *    as flipped bits are detected with 8-bit strength only: a torn or damaged slot passes
 *    its check with a chance of about 1 in 256, and mount may then yield a third state or
 *    refuse a valid one (tests/test_ext.c measures it: 3 third states and 4 refusals in
 *    111949 bit-order tears of the writes of 16- and 32-byte regions).  None of the
 *    guarantees of the other formats against bit-order tears and single-bit damage
 *    applies: no slot is corrected, and a flipped bit in the superblock gives
 *    TARN_ECORRUPT or, for the bit that marks a format complete, TARN_ENOENT (read as a
 *    format cut before its commit).  Do not use it on EEPROM.
 */
#define TARN_EXT_F_BYTE_ORDERED 0x1u

/* ---- sizing ------------------------------------------------------------------------------ */
/** Allocation granularity: sizes, base and region size are multiples of this. */
#define TARN_EXT_UNIT 4u
/** Device bytes of one block header (two 12-byte slots). */
#define TARN_EXT_HEADER_SIZE 24u
/** Device bytes of the superblock at the start of the region (two copies of 20 bytes). */
#define TARN_EXT_SUPER_SIZE 40u
/** Device bytes of one root slot (a record of two 12-byte slots, as a header). */
#define TARN_EXT_ROOT_SIZE 24u
/** Regions of at most this many bytes use the compact format (see below). */
#define TARN_EXT_COMPACT_MAX_SIZE 64u
/** Device bytes of one block header in the compact format: the same as the normal one
 *  (the compact format differs only in its superblock and in having no roots). */
#define TARN_EXT_COMPACT_HEADER_SIZE 24u
/** Smallest region of the byte-ordered format (TARN_EXT_F_BYTE_ORDERED): 4-byte
 *  superblock, one 8-byte header, 4 bytes of data. */
#define TARN_EXT_BYTE_ORDERED_MIN_SIZE 16u
/** Largest region of the byte-ordered format: regions of 16 to 32 bytes use it (and need
 *  TARN_EXT_F_BYTE_ORDERED to be formatted), all larger ones never do. */
#define TARN_EXT_BYTE_ORDERED_MAX_SIZE 32u
/** Device bytes of one block header in the byte-ordered format (two 4-byte slots). */
#define TARN_EXT_BYTE_ORDERED_HEADER_SIZE 8u
/**
 * Smallest region holding `nroots` roots and one allocation of 4 bytes with the full
 * contract above (any device): 36 bytes without roots.  Smaller regions, down to
 * TARN_EXT_BYTE_ORDERED_MIN_SIZE (16) bytes without roots, only with the
 * TARN_EXT_F_BYTE_ORDERED option and its weaker contract.  Regions of 36 to 64 bytes (TARN_EXT_COMPACT_MAX_SIZE) use the compact format: a
 * superblock of two 4-byte copies instead of two of 20 bytes, and no roots; headers and
 * everything else are the same.  Regions of 68 bytes and more use the normal format.
 */
#define TARN_EXT_MIN_SIZE(nroots) ((nroots) == 0 ? 36u : \
    (TARN_EXT_SUPER_SIZE + TARN_EXT_ROOT_SIZE * (uint32_t)(nroots) + TARN_EXT_HEADER_SIZE + TARN_EXT_UNIT))
/** Largest region: the whole 32-bit device address space. */
#define TARN_EXT_MAX_SIZE ((uint64_t)1 << 32)
/** Most bytes an allocation's usable size can exceed its size rounded up to 4: alloc
 *  enlarges it rather than leave a remainder too small for a block or write a header over
 *  another one (3 headers - 8 bytes). */
#define TARN_EXT_MAX_SLACK (3u * TARN_EXT_HEADER_SIZE - 8u)
/** Device bytes taken by an allocation of `size` bytes (header included), when it is
 *  not enlarged to absorb a too-small remainder (see tarn_ext_alloc).  size > 0. */
#define TARN_EXT_BLOCK_BYTES(size) (TARN_EXT_HEADER_SIZE + TARN_ALIGN_UP((size_t)(size), TARN_EXT_UNIT))

/* ---- types ------------------------------------------------------------------------------ */
/**
 * The device, as callbacks.  Each returns 0 on success and anything else on failure (the
 * manager then returns TARN_EIO).  `addr` is a device address; the manager only touches
 * [base, base + size) of the region it was given.
 *  - read: copy n bytes at device address addr into buf.
 *  - write: program n bytes of buf at device address addr.  A write that returns 0 need
 *    not be durable yet if `sync` is given.
 *  - sync: make every write issued before it durable (media with write buffers or caches);
 *    NULL when writes are durable as soon as `write` returns.  The manager calls it after
 *    each write that must reach the device before the next one.
 *  - ctx: passed to every callback.
 * The callbacks are called with the manager's lock held and must not call back into it.
 */
typedef struct tarn_ext_io {
    /** Copy n bytes at device address addr into buf; 0 on success. */
    int (*read)(void *ctx, uint32_t addr, void *buf, size_t n);
    /** Program n bytes of buf at device address addr; 0 on success. */
    int (*write)(void *ctx, uint32_t addr, const void *buf, size_t n);
    /** Make every earlier write durable; 0 on success.  NULL if writes are durable at once. */
    int (*sync)(void *ctx);
    /** Passed to every callback. */
    void *ctx;
} tarn_ext_io;

/** A run of adjacent free blocks remembered in RAM (private to ext.c; in 4-byte units
 *  from the region base). */
typedef struct tarn_ext_run_ {
    uint32_t start;   /* header of the first free block */
    uint32_t end;     /* one past the last free block of the run */
    uint32_t first;   /* payload units of the first block (its header's size field) */
} tarn_ext_run_;

/**
 * The manager's RAM state: a fixed-size struct, whatever the region size and block count.
 * Public so that it can be static; every field is private to ext.c.
 */
typedef struct tarn_ext {
    tarn_ext_io io;        /**< the device callbacks, copied at format/mount */
    uint32_t base;         /**< device address of the region (superblock) */
    uint32_t units;        /**< region size in 4-byte units (<= 2^30) */
    uint32_t heap;         /**< unit of the first block header */
    uint32_t nonce;        /**< format identity, mixed into every check code */
    uint32_t live_blocks;  /**< allocations */
    uint32_t live_units;   /**< their payload, in units */
    uint32_t used_units;   /**< their payload + headers, in units */
    uint32_t nomem_above;  /**< no run larger than this (units) exists; UINT32_MAX = unknown */
    uint32_t cursor;       /**< next header a partial scan reads (a live header, or units) */
    uint32_t roots[TARN_EXT_MAX_ROOTS];     /**< root values (device addresses, 0 = none) */
    uint8_t root_seq[TARN_EXT_MAX_ROOTS];   /**< newest slot sequence of each root */
    tarn_ext_run_ runs[TARN_EXT_CACHE_RUNS]; /**< cached free runs (nruns of them) */
    uint8_t run_seq[TARN_EXT_CACHE_RUNS];   /**< newest slot sequence of each run's first header */
    uint8_t nruns;         /**< cached runs */
    uint8_t nroots;        /**< root slots of the region */
    uint8_t state;         /**< unusable / mounted / must re-read the device (after EIO) */
    uint8_t last_error;    /**< tarn_status of the last failed operation */
    uint8_t compact;       /**< 1: compact superblock, no roots (regions of 36 to 64 bytes);
                                2: byte-ordered format (16 to 32 bytes) */
    uint8_t hu;            /**< block header size in 4-byte units (6, or 2 in the byte-ordered format) */
    /** @var n_allocs
     *  successful allocations (TARN_STATS)
     *  @var n_frees
     *  successful frees (TARN_STATS)
     *  @var n_failed
     *  failed calls, any status (TARN_STATS)
     *  @var n_rescans
     *  full scans made by alloc after a partial scan went once round (TARN_STATS)
     *  @var n_repairs
     *  torn or damaged header/root slots and superblock copies rewritten (TARN_STATS)
     *  @var n_ioerr
     *  callback failures seen (TARN_STATS) */
    uint32_t n_allocs, n_frees, n_failed, n_rescans, n_repairs, n_ioerr;
    /** @var n_reads
     *  read transactions (TARN_STATS)
     *  @var n_writes
     *  write transactions (TARN_STATS)
     *  @var n_syncs
     *  sync calls (TARN_STATS) */
    uint32_t n_reads, n_writes, n_syncs;
    /** @var read_bytes
     *  bytes read (TARN_STATS)
     *  @var write_bytes
     *  bytes written (TARN_STATS) */
    uint64_t read_bytes, write_bytes;
    tarn_lock lock;        /**< lock hook from tarn_config (all NULL: no locking) */
    const char *name;      /**< name from tarn_config, or NULL */
} tarn_ext;

/** Statistics (a consistent snapshot taken under the lock). */
typedef struct tarn_ext_stats {
    uint64_t region_size;   /**< bytes of the region (superblock, roots, blocks) */
    uint32_t heap_size;     /**< bytes of the block area */
    uint32_t live_blocks;   /**< allocations */
    uint32_t live_bytes;    /**< their usable bytes (tarn_ext_size summed) */
    uint32_t free_bytes;    /**< block-area bytes not in allocations (free headers included) */
    uint32_t cached_runs;   /**< free runs known in RAM */
    uint32_t roots;         /**< root slots */
    /* counters since format/mount (0 with TARN_STATS 0) */
    uint32_t allocs;        /**< successful allocations */
    uint32_t frees;         /**< successful frees */
    uint32_t failed;        /**< failed calls (any status) */
    uint32_t rescans;       /**< full scans made by alloc after a partial scan went once round
                                 without a fit (each precedes a TARN_ENOMEM, or finds a run the
                                 cursor had cut) */
    uint32_t repairs;       /**< torn or damaged header/root slots and superblock copies
                                 rewritten by mount or re-sync */
    uint32_t io_errors;     /**< callback failures seen */
    uint32_t reads;         /**< read transactions */
    uint32_t writes;        /**< write transactions */
    uint32_t syncs;         /**< sync calls */
    uint64_t read_bytes;    /**< bytes read */
    uint64_t write_bytes;   /**< bytes written */
} tarn_ext_stats;

/** Walk callback: one call per block in address order.  addr is the block's data address,
 *  size its usable bytes, used whether it is allocated.  Return false to stop the walk. */
typedef bool (*tarn_ext_walk_fn)(void *ctx, uint32_t addr, size_t size, bool used);

/* ---- region ------------------------------------------------------------------------------ */
/**
 * Create an empty managed region of `size` bytes at device address `base`, with `nroots`
 * root slots (all 0), and mount it in `ext`.  Everything the region held is lost.
 * Marks both superblock copies pending first and makes them valid last (one bit each),
 * so a format cut by power loss leaves a region that mount rejects with TARN_ENOENT
 * (format again) - or, when the cut came before the first copy became pending, the
 * previous region, intact.  Bus: 1 read, up to 7 writes (2 one-byte writes per copy,
 * 1 per copy for the new superblock, the roots, the first header), each then synced.
 * cfg may be NULL (no lock, no name, no flags); cfg->flags may hold TARN_EXT_F_BYTE_ORDERED
 * (other bits are ignored here).  Regions of 16 to 32 bytes then get the byte-ordered
 * format: one superblock copy, so 1 read and up to 4 writes.
 * Errors: TARN_EINVAL (ext, io, io->read or io->write NULL; nroots > TARN_EXT_MAX_ROOTS;
 * half a lock hook), TARN_EALIGN (base or size not a multiple of 4), TARN_ETOOSMALL (size
 * below TARN_EXT_MIN_SIZE(nroots), unless TARN_EXT_F_BYTE_ORDERED is given, nroots is 0 and
 * size is at least TARN_EXT_BYTE_ORDERED_MIN_SIZE), TARN_ERANGE (size above 4 GiB or base + size beyond the
 * 32-bit address space), TARN_EIO.  On error ext is left unusable (every call fails with
 * TARN_EINVAL).  Not thread-safe: format before sharing ext.
 */
tarn_status tarn_ext_format(tarn_ext *ext, const tarn_ext_io *io, uint32_t base, uint64_t size,
                            unsigned nroots, const tarn_config *cfg);

/**
 * Rebuild the RAM state of a region formatted before (after a reset or a power loss):
 * reads the superblock, the roots and every block header, checks them, and repairs the
 * one header or root slot a power cut may have left half written (the operation in flight
 * then either happened or not; see src/ext.c).  `base` and `size` must be those given to
 * tarn_ext_format.  O(blocks): 2 reads + 1 read per block; writes only to repair.
 * A record slot one bit away from the newer value is rewritten corrected; a damaged
 * superblock copy is rewritten from the other one once the rest is found sound.  Regions
 * written by the earlier layout (superblock version 1: one superblock, 16-byte headers)
 * are TARN_ECORRUPT.  A region of 16 to 32 bytes is read as the byte-ordered format
 * (TARN_EXT_F_BYTE_ORDERED; no flag needed here): its superblock must say so, and one of
 * another format (or a byte-ordered one read with a size of 36 bytes or more) is
 * TARN_EINVAL, as a region of another size.
 * Errors: TARN_EINVAL (arguments as tarn_ext_format; size differs from the formatted size),
 * TARN_EALIGN, TARN_ERANGE, TARN_ETOOSMALL (size below 16), TARN_ENOENT (nothing formatted at
 * base: the superblock area is erased (0xFF) or zeroed, or a format was cut before its
 * commit - the only status on which formatting is safe), TARN_ECORRUPT (anything else:
 * both superblock copies damaged, a device that holds something else, a header or root
 * with both copies bad, blocks not tiling the region, a root naming no allocation; never
 * format on it without a reason to give up the data), TARN_EIO.  On error ext is left
 * unusable.  Not thread-safe.
 */
tarn_status tarn_ext_mount(tarn_ext *ext, const tarn_ext_io *io, uint32_t base, uint64_t size,
                           const tarn_config *cfg);

/* ---- allocations ------------------------------------------------------------------------- */
/**
 * Allocate `size` bytes on the device and store its address in *addr (0 on failure).  The
 * block's contents are whatever the device held.  Usable size: size rounded up to 4, or up
 * to TARN_EXT_MAX_SLACK (64) bytes more when the rest of the free run would be too small to
 * form a block or would overlap a header (tarn_ext_size tells).
 * Bus: 1 write (the whole run is taken) or 2, each followed by a sync; no read when a
 * cached run fits well and the allocation ends inside its first block; 1 read per further
 * free block it spans.  When the cached runs fit badly or not at all and free space exists
 * outside them, headers are read from a round-robin cursor until a run fits (up to 8 for a
 * closer fit; O(blocks) worst case, once round, then a full scan before TARN_ENOMEM).
 * No write is ever made by the search.  See src/ext.c, section 6.
 * Errors (nothing changes): TARN_EINVAL (ext or addr NULL, size 0, ext not mounted),
 * TARN_ENOMEM (no free run large enough, including size beyond the region), TARN_ECORRUPT
 * (a header read on the way is damaged), TARN_EIO (see tarn_ext_free).
 * Callback errors never leak a block: when the commit write or its sync fails, the state
 * is re-read from the device; if the allocation is there, it is returned with TARN_OK (the
 * error is counted in the statistics); if not, TARN_EIO with *addr 0: nothing is allocated,
 * now or after the next mount.  Only when that re-read fails too is the outcome unknown:
 * TARN_EIO with *addr set to the address the allocation would have - release it with
 * tarn_ext_free before any other allocation (TARN_OK: it existed; TARN_EDOUBLE: it never
 * did).
 * Thread-safe with a lock hook; not ISR-safe (bus I/O).
 */
tarn_status tarn_ext_alloc(tarn_ext *ext, size_t size, uint32_t *addr);

/**
 * Free the allocation at `addr`; merges it with the free block that follows.  Its data is
 * not erased.  Bus: 2 reads (its header, the next header), 1 write, 1 sync.
 * Errors (nothing changes): TARN_EINVAL (ext NULL or not mounted), TARN_EFOREIGN (not the
 * address of a block of this region: outside it, misaligned, inside a block), TARN_EDOUBLE
 * (the header there says free: freed already), TARN_EBUSY (a root names it: clear the root
 * first), TARN_ECORRUPT, TARN_EIO.
 * TARN_EIO (any call): a callback failed.  The device is left consistent - the operation
 * happened completely or not at all, as after a power cut - and the RAM state is re-read
 * from the device before the call returns (or, if that fails too, by the next call).
 * After TARN_EIO from free, calling it again finishes the job: TARN_OK, or TARN_EDOUBLE
 * when the first call had freed the block; after one from tarn_ext_root_set,
 * tarn_ext_root_get tells the value on the device; after one from tarn_ext_format,
 * format again.
 * Thread-safe with a lock hook; not ISR-safe.
 */
tarn_status tarn_ext_free(tarn_ext *ext, uint32_t addr);

/**
 * Usable bytes of the allocation at addr, in *size (0 on failure).  O(1), bus: 1 read.
 * Errors: TARN_EINVAL (NULL, not mounted), TARN_EFOREIGN (not a live allocation: outside
 * the region, inside a block, or freed), TARN_EIO.  Thread-safe with a lock hook; not
 * ISR-safe (bus I/O).
 */
tarn_status tarn_ext_size(tarn_ext *ext, uint32_t addr, size_t *size);

/**
 * Bounds-checked copy of n bytes at offset `off` of the allocation at addr into buf.
 * Bus: 1 header read + 1 data read (none for n = 0).  Errors: TARN_EINVAL (NULL ext, NULL
 * buf with n > 0, not mounted), TARN_EFOREIGN (as tarn_ext_size), TARN_ERANGE (off + n
 * beyond the usable size), TARN_EIO.  O(1) + the copy.  Thread-safe with a lock hook; not
 * ISR-safe.
 */
tarn_status tarn_ext_read(tarn_ext *ext, uint32_t addr, size_t off, void *buf, size_t n);

/**
 * Bounds-checked copy of n bytes of buf to offset `off` of the allocation at addr, then a
 * sync: durable when it returns TARN_OK.  Data writes are the application's: a power cut
 * during this call may leave any part of [off, off + n) written, nothing else.
 * Bus: 1 header read + 1 write + 1 sync.  Errors, complexity and safety as tarn_ext_read.
 */
tarn_status tarn_ext_write(tarn_ext *ext, uint32_t addr, size_t off, const void *buf, size_t n);

/* ---- roots: how the application finds its data after a reset ------------------------------- */
/**
 * Set root slot `idx` to `addr` (an allocation, or 0 to clear it).  Power-safe: after a
 * cut the root holds the old or the new value.  While a root names an allocation,
 * tarn_ext_free refuses it (TARN_EBUSY).  Bus: 1 header read (addr != 0), 1 write + 1 sync
 * (none when the value is unchanged).  O(1).  Errors: TARN_EINVAL (NULL, idx >= roots, not
 * mounted), TARN_EFOREIGN (addr is not a live allocation), TARN_EIO.  Thread-safe with a
 * lock hook; not ISR-safe.
 */
tarn_status tarn_ext_root_set(tarn_ext *ext, unsigned idx, uint32_t addr);

/** Value of root slot idx in *addr (0 = empty).  O(1), no bus traffic (unless an earlier
 *  I/O error left the RAM state to be re-read).  Errors: TARN_EINVAL (NULL, idx >= roots,
 *  not mounted).  Thread-safe with a lock hook. */
tarn_status tarn_ext_root_get(tarn_ext *ext, unsigned idx, uint32_t *addr);

/* ---- inspection --------------------------------------------------------------------------- */
/**
 * Call fn for every block (allocated and free), in address order.  O(blocks): 1 read per
 * block.  The lock is held: fn must not call into this manager.  Errors: TARN_EINVAL
 * (NULL, not mounted), TARN_ECORRUPT, TARN_EIO (the walk stops; nothing changes).
 * Thread-safe with a lock hook; not ISR-safe.
 */
tarn_status tarn_ext_walk(tarn_ext *ext, tarn_ext_walk_fn fn, void *ctx);

/** Snapshot of the statistics (filled even on error).  O(1), no bus traffic - except
 *  when an earlier callback error left the RAM state to be re-read: that happens first.
 *  Errors: TARN_EINVAL (NULL, not mounted), and those of tarn_ext_mount for the re-read.
 *  Thread-safe with a lock hook. */
tarn_status tarn_ext_stats_get(tarn_ext *ext, tarn_ext_stats *out);

/**
 * Full check, changing nothing: superblock and roots as in RAM, every header intact (both
 * copies valid), the blocks tile the region, the RAM counters and cached free runs agree
 * with the device, every root names an allocation.  O(blocks) reads.
 * TARN_OK, TARN_ECORRUPT, TARN_EIO, or TARN_EINVAL (NULL, not mounted).  Thread-safe with
 * a lock hook; not ISR-safe.
 */
tarn_status tarn_ext_check(tarn_ext *ext);

/** Status of the last failed operation (TARN_OK if none; TARN_EINVAL for NULL).  O(1),
 *  lock-free read of one byte, ISR-safe. */
tarn_status tarn_ext_last_error(const tarn_ext *ext);

#ifdef __cplusplus
}
#endif

#endif /* TARN_EXT_H */
