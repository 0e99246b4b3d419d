/*
 * compat/mynewt/os_mempool.h - Apache Mynewt's os_mempool API, for code written against it.
 *
 * Mynewt code compiles and runs unchanged: the types, sizing macros, error codes, struct
 * fields and functions keep Mynewt's names, layout rules and meaning, and the SLIST and
 * STAILQ macros of Mynewt's "os/queue.h" come with it.  As in Mynewt, the blocks are
 * carved at init: the free list SLIST_FIRST(mp) -> mb_next -> ... -> NULL is a true list
 * of every free block, linked through the first word of each block, in address order
 * after init and after os_mempool_clear, then LIFO (put pushes, get pops).  A program
 * may walk it (SLIST_FOREACH(b, mp, mb_next)) but must not edit it.
 *
 * Layout (Mynewt's): block i starts at membuf + i * stride, where
 *   stride = OS_ALIGN(block_size, OS_ALIGNMENT)                 (extended pools, or no guard)
 *          = OS_ALIGN(block_size, OS_ALIGNMENT) + sizeof(os_membuf_t)   (OS_MEMPOOL_GUARD)
 * and OS_MEMPOOL_BYTES(n, size) covers n strides (so a pool declared with Mynewt's
 * macros has exactly Mynewt's size: OS_MEMPOOL_BYTES(4, 4) is 16 with OS_ALIGNMENT 4).
 *
 * What tarn adds, all checked by this layer itself in O(1) (see os_mempool.c):
 *   - a pointer that is not a block start of the pool (foreign, interior, NULL) and a
 *     block that is already free are refused by os_memblock_put with OS_INVALID_PARM and
 *     change nothing, in every build (Mynewt: asserts, in debug builds only).  The double
 *     put test is O(1) for blocks of at least two pointers (a free block carries a tag in
 *     its second word); a block of one pointer has no room for it, so its put walks the
 *     free list (O(free blocks)) when the block's first word looks like a free-list link;
 *   - OS_MEMPOOL_GUARD (default: tarn's TARN_GUARD): the os_membuf_t after every block of
 *     a non-extended pool holds guard bytes; a put of a block whose guard was overwritten
 *     is refused (OS_INVALID_PARM, the block stays handed out) and os_mempool_is_sane
 *     reports it (Mynewt: an assert);
 *   - with AddressSanitizer or Valgrind, a free block is NOACCESS except its link word
 *     (which stays readable, so a walk of the free list is clean) and the guard bytes are
 *     always NOACCESS: a use after put or an overflow is reported by the tool;
 *   - a free-list link damaged by a write after put is detected by get (NULL) and by
 *     os_mempool_is_sane instead of being followed: get takes a link only if it is the
 *     end of the list or the start of a free block (blocks of two pointers or more carry
 *     a free tag; in one-pointer blocks get can only check that the link is a block
 *     start, and os_mempool_is_sane finds the rest);
 *   - os_mempool_set_lock: an optional lock hook (tarn_lock) standing for Mynewt's
 *     critical section, around every pool and list operation;
 *   - os_mempool_unregister hands the buffer back to memory tools as ordinary memory.
 * Differences: OS_ALIGNMENT defaults to 4 on 32-bit targets and 8 on 64-bit hosts (a
 * block must hold an aligned pointer); the pool name is not copied.
 */
#ifndef TARN_COMPAT_OS_MEMPOOL_H
#define TARN_COMPAT_OS_MEMPOOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "tarn/tarn.h"
#include "os/queue.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- Mynewt's os_error_t ------------------------------------------------------------- */
#ifndef OS_OK
/** Mynewt's error codes. */
enum os_error {
    OS_OK = 0,
    OS_ENOMEM = 1,
    OS_EINVAL = 2,
    OS_INVALID_PARM = 3,
    OS_MEM_NOT_ALIGNED = 4,
    OS_BAD_MUTEX = 5,
    OS_TIMEOUT = 6,
    OS_ERR_IN_ISR = 7,
    OS_ERR_PRIV = 8,
    OS_NOT_STARTED = 9,
    OS_ENOENT = 10,
    OS_EBUSY = 11,
    OS_ERROR = 12
};
/** Mynewt's error type. */
typedef enum os_error os_error_t;
#endif

/* ---- alignment and buffer sizing ------------------------------------------------------ */
#ifndef OS_ALIGNMENT
#if UINTPTR_MAX > 0xFFFFFFFFu
/** Block alignment (os_arch.h in Mynewt): 8 on 64-bit hosts, where a pointer is 8 bytes. */
#define OS_ALIGNMENT 8
#else
/** Block alignment (os_arch.h in Mynewt): 4 on 32-bit targets, as Mynewt's ports. */
#define OS_ALIGNMENT 4
#endif
#endif
#if (OS_ALIGNMENT != 4) && (OS_ALIGNMENT != 8) && (OS_ALIGNMENT != 16)
#error "OS_ALIGNMENT must be 4, 8 or 16"
#endif
#if UINTPTR_MAX > 0xFFFFFFFFu && OS_ALIGNMENT < 8
#error "OS_ALIGNMENT must be at least 8 on a 64-bit target: a free block holds an aligned pointer"
#endif

#if OS_ALIGNMENT == 4
/** Element type of pool buffers: gives them OS_ALIGNMENT. */
typedef uint32_t os_membuf_t;
#elif OS_ALIGNMENT == 8
/** Element type of pool buffers: gives them OS_ALIGNMENT. */
typedef uint64_t os_membuf_t;
#elif defined(__SIZEOF_INT128__)
/** Element type of pool buffers: gives them OS_ALIGNMENT (16). */
__extension__ typedef unsigned __int128 os_membuf_t;
#elif defined(__GNUC__)
/** Element type of pool buffers: gives them OS_ALIGNMENT (16). */
typedef struct { uint32_t w_[4]; } __attribute__((aligned(16))) os_membuf_t;
#else
#error "OS_ALIGNMENT 16 needs a 16-byte integer type or GCC's aligned attribute"
#endif

#ifndef OS_ALIGN
/** Round n up to a multiple of a (a power of two). */
#define OS_ALIGN(n, a) ((((n) + ((a) - 1)) / (a)) * (a))
#endif

#ifndef OS_MEMPOOL_GUARD
#if defined(MYNEWT_VAL_OS_MEMPOOL_GUARD)
/** Guard bytes after every block of non-extended pools (Mynewt's syscfg value). */
#define OS_MEMPOOL_GUARD MYNEWT_VAL_OS_MEMPOOL_GUARD
#else
/** Guard bytes after every block of non-extended pools: on in tarn's canary mode. */
#define OS_MEMPOOL_GUARD TARN_GUARD
#endif
#endif

#if OS_MEMPOOL_GUARD
/** Bytes a block of sz bytes takes before alignment: sz and one os_membuf_t of guard. */
#define OS_MEMPOOL_BLOCK_SZ(sz) ((sz) + sizeof(os_membuf_t))
#else
/** Bytes a block of sz bytes takes before alignment. */
#define OS_MEMPOOL_BLOCK_SZ(sz) (sz)
#endif
/** Number of os_membuf_t elements a pool of n blocks of blksize bytes needs (not bytes). */
#define OS_MEMPOOL_SIZE(n, blksize) \
    (((OS_MEMPOOL_BLOCK_SZ(blksize) + ((OS_ALIGNMENT) - 1)) / (OS_ALIGNMENT)) * (n))
/** Number of bytes a pool of n blocks of blksize bytes needs. */
#define OS_MEMPOOL_BYTES(n, blksize) (sizeof(os_membuf_t) * OS_MEMPOOL_SIZE((n), (blksize)))

/* ---- types ------------------------------------------------------------------------------ */
/** A free block: only its first word, the free-list link, is used while it is free. */
struct os_memblock {
    SLIST_ENTRY(os_memblock) mb_next; /**< next free block, or NULL */
};

/** A memory pool.  The Mynewt fields are read-only for users; the tarn_ ones private. */
struct os_mempool {
    uint32_t mp_block_size;           /**< block size as requested, in bytes */
    uint16_t mp_num_blocks;           /**< number of blocks */
    uint16_t mp_num_free;             /**< free blocks now */
    uint16_t mp_min_free;             /**< fewest free blocks since init or clear */
    uint8_t mp_flags;                 /**< OS_MEMPOOL_F_* */
    uintptr_t mp_membuf_addr;         /**< address of the block buffer (uintptr_t, as upstream) */
    STAILQ_ENTRY(os_mempool) mp_list; /**< next pool in the list of pools */
    struct os_memblock *slh_first;    /**< SLIST_FIRST(mp): the free list */
    char *name;                       /**< pool name (may be NULL; not copied) */
    size_t tarn_stride_;              /**< private: bytes between blocks (guard included) */
    uintptr_t tarn_key_;              /**< private: free tag of 2-word blocks, else 0 */
};

/** Indicates an extended mempool: the address can be cast to struct os_mempool_ext *. */
#define OS_MEMPOOL_F_EXT 0x01

struct os_mempool_ext;
/** Put callback of an extended pool: called by os_memblock_put instead of freeing; it
 *  must free the block with os_memblock_put_from_cb().  Non-zero = block not freed. */
typedef os_error_t os_mempool_put_fn(struct os_mempool_ext *ome, void *data, void *arg);

/** An extended pool: a pool with a put callback (and no guard bytes, as in Mynewt). */
struct os_mempool_ext {
    struct os_mempool mpe_mp;       /**< the pool itself (first: the pointers convert) */
    os_mempool_put_fn *mpe_put_cb;  /**< set by the application after init, or NULL */
    void *mpe_put_arg;              /**< argument of mpe_put_cb */
};

/** Size of omi_name, terminator included. */
#define OS_MEMPOOL_INFO_NAME_LEN (32)

/** Pool information for management layers. */
struct os_mempool_info {
    int omi_block_size;                      /**< mp_block_size */
    int omi_num_blocks;                      /**< mp_num_blocks */
    int omi_num_free;                        /**< mp_num_free */
    int omi_min_free;                        /**< mp_min_free */
    char omi_name[OS_MEMPOOL_INFO_NAME_LEN]; /**< name, truncated and terminated */
};

/* ---- functions (Mynewt's contracts; complexities are tarn's) ------------------------- */
/**
 * Initialise a pool of `blocks` blocks of `block_size` bytes over membuf (at least
 * OS_MEMPOOL_BYTES(blocks, block_size) bytes, OS_ALIGNMENT-aligned): every block is
 * chained onto the free list in address order (and its guard written), then the pool is
 * appended to the list of pools (removed first if it was there).  O(blocks) (+O(pools)).
 * OS_INVALID_PARM: mp NULL, block_size 0, membuf NULL with blocks > 0, or a pool that
 * would not fit the address space; OS_MEM_NOT_ALIGNED: membuf misaligned.  blocks == 0
 * gives an empty pool.  Not ISR-safe.
 */
os_error_t os_mempool_init(struct os_mempool *mp, uint16_t blocks, uint32_t block_size,
                           void *membuf, char *name);
/** As os_mempool_init for an extended pool (mp_flags OS_MEMPOOL_F_EXT, no guard bytes);
 *  mpe_put_cb/arg start NULL.  OS_INVALID_PARM also for mpe NULL. */
os_error_t os_mempool_ext_init(struct os_mempool_ext *mpe, uint16_t blocks,
                               uint32_t block_size, void *membuf, char *name);
/** Remove a pool from the list of pools and hand its buffer back to memory tools as
 *  ordinary memory (the pool itself still works).  O(pools).  OS_INVALID_PARM if NULL
 *  or not registered. */
os_error_t os_mempool_unregister(struct os_mempool *mp);
/** Return every block to the pool: the free list is rebuilt in address order,
 *  mp_num_free and mp_min_free become mp_num_blocks.  O(blocks).  OS_INVALID_PARM if mp
 *  is NULL. */
os_error_t os_mempool_clear(struct os_mempool *mp);
/** Clear an extended pool as Mynewt does: it becomes a plain pool (mp_flags 0,
 *  mpe_put_cb and mpe_put_arg NULL), then os_mempool_clear.  Its blocks keep the
 *  stride they were given at init: with OS_MEMPOOL_GUARD no guard bytes appear (Mynewt
 *  would lay the blocks out again one guard apart, past the end of a buffer sized for
 *  the extended pool).  OS_INVALID_PARM if mpe is NULL. */
os_error_t os_mempool_ext_clear(struct os_mempool_ext *mpe);
/** Mynewt's start-up call: empty the list of pools (each one leaves it as by
 *  os_mempool_unregister, and keeps working).  Ports call it once at boot. */
void os_mempool_module_init(void);
/** Integrity check: the free list (every link a block start of the pool, tagged, no
 *  cycle, as long as mp_num_free), the counters, and the guard bytes of every block.
 *  O(blocks).  false if corrupt or NULL.  Changes nothing. */
bool os_mempool_is_sane(const struct os_mempool *mp);
/** 1 if block_addr is the start of one of mp's blocks (free or not), else 0.  O(1). */
int os_memblock_from(const struct os_mempool *mp, const void *block_addr);
/** Take the first block of the free list; NULL if none, mp NULL, or the free list is
 *  damaged.  Contents undefined.  O(1).  ISR-safe with a suitable lock hook (or none). */
void *os_memblock_get(struct os_mempool *mp);
/** Return a block, bypassing the put callback.  O(1) (see above for 1-pointer blocks).
 *  OS_INVALID_PARM (nothing is changed): mp or block_addr NULL, not a block start of the
 *  pool (foreign or interior), a block already free, a damaged guard. */
os_error_t os_memblock_put_from_cb(struct os_mempool *mp, void *block_addr);
/** Return a block; for an extended pool with mpe_put_cb set, the block is validated as by
 *  os_memblock_put_from_cb and then handed to the callback, whose result is returned.
 *  O(1).  Errors as os_memblock_put_from_cb. */
os_error_t os_memblock_put(struct os_mempool *mp, void *block_addr);
/** Pool after mp in the list (first if mp is NULL), filling *info when non-NULL; NULL at
 *  the end, or if mp is not registered.  O(pools) (mp is looked up first). */
struct os_mempool *os_mempool_info_get_next(struct os_mempool *mp, struct os_mempool_info *info);
/** Registered pool named mempool_name (info filled when non-NULL), or NULL.  O(pools). */
struct os_mempool *os_mempool_get(const char *mempool_name, struct os_mempool_info *info);

/** tarn extension: lock hook taken around every pool and list operation (Mynewt's
 *  critical section); NULL = none, the default.  Call before the pools are shared. */
void os_mempool_set_lock(const tarn_lock *lock);

#ifdef __cplusplus
}
#endif

#endif /* TARN_COMPAT_OS_MEMPOOL_H */
