/*
 * compat/mynewt/os_mempool.h - Apache Mynewt's os_mempool API on tarn block pools.
 *
 * Code written against Mynewt's memory pools compiles and runs unchanged: the types,
 * macros, error codes and functions below keep Mynewt's names and meaning, and the pool
 * fields Mynewt code reads directly (mp_block_size, mp_num_blocks, mp_num_free,
 * mp_min_free, mp_flags, mp_membuf_addr, name, SLIST_FIRST(mp); mpe_put_cb, mpe_put_arg;
 * the omi_* fields) are kept true after every call.  Underneath, each pool is a tarn block
 * pool, so compared with the original:
 *   - a double free, a foreign pointer or a pointer inside a block is rejected in O(1)
 *     (OS_INVALID_PARM) and changes nothing, in every build, not only in debug builds;
 *   - init is O(1) (blocks are carved on demand), so SLIST_FIRST(mp) is the block the next
 *     os_memblock_get returns (NULL when empty), but the free list must not be walked or
 *     edited through SLIST_NEXT/SLIST_REMOVE: use the functions;
 *   - a pool of 0 blocks, a NULL name and re-initialising a registered pool are handled;
 *   - the list of pools can be guarded by a lock hook (os_mempool_set_lock);
 *   - mp_membuf_addr is a uintptr_t (Mynewt: uint32_t) so that 64-bit hosts work;
 *   - OS_MEMPOOL_SIZE/BYTES also reserve room for tarn's free bitmap (one bit per block,
 *     after the blocks; use the macros, as Mynewt requires); blocks smaller than 4 bytes
 *     are rounded up to 4.
 *   - mp_list is present for layout compatibility but not maintained: iterate with
 *     os_mempool_info_get_next().
 */
#ifndef TARN_COMPAT_OS_MEMPOOL_H
#define TARN_COMPAT_OS_MEMPOOL_H

#include <stdbool.h>
#include <stdint.h>
#include "tarn/block.h"

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
/** Block alignment: tarn's TARN_ALIGN. */
#define OS_ALIGNMENT TARN_ALIGN
#endif
#if OS_ALIGNMENT != TARN_ALIGN
#error "OS_ALIGNMENT must equal TARN_ALIGN (set TARN_ALIGN in the tarn configuration)"
#endif
#if TARN_ALIGN == 4
/** Element type of pool buffers: gives them OS_ALIGNMENT. */
typedef uint32_t os_membuf_t;
#elif TARN_ALIGN == 8
/** Element type of pool buffers: gives them OS_ALIGNMENT. */
typedef uint64_t os_membuf_t;
#else
/** Element type of pool buffers: gives them OS_ALIGNMENT. */
typedef struct { uint64_t w_[TARN_ALIGN / 8]; } os_membuf_t;
#endif

/** Private: the block size the tarn pool gets: blksize rounded up to OS_ALIGNMENT, so
 *  that every block is OS_ALIGNMENT-aligned as in Mynewt. */
#define OS_MEMPOOL_BLOCK_SZ_(blksize) TARN_ALIGN_UP((size_t)(blksize), (size_t)OS_ALIGNMENT)
/** Number of os_membuf_t elements a pool of n blocks of blksize bytes needs. */
#define OS_MEMPOOL_SIZE(n, blksize)                                                        \
    ((TARN_BLOCK_POOL_BYTES((n), OS_MEMPOOL_BLOCK_SZ_(blksize)) + sizeof(os_membuf_t) - 1u) / \
     sizeof(os_membuf_t))
/** Number of bytes a pool of n blocks of blksize bytes needs. */
#define OS_MEMPOOL_BYTES(n, blksize) (sizeof(os_membuf_t) * OS_MEMPOOL_SIZE((n), (blksize)))

/* ---- types ------------------------------------------------------------------------------ */
/** A free block, as Mynewt declares it (first word of a free block). */
struct os_memblock {
    struct { struct os_memblock *sle_next; } mb_next; /**< free-list link */
};

/** A memory pool.  Fields are read-only for users; tarn_pool_ is private. */
struct os_mempool {
    uint32_t mp_block_size;        /**< block size as requested, in bytes */
    uint16_t mp_num_blocks;        /**< number of blocks */
    uint16_t mp_num_free;          /**< free blocks now */
    uint16_t mp_min_free;          /**< fewest free blocks ever */
    uint8_t mp_flags;              /**< OS_MEMPOOL_F_* */
    uintptr_t mp_membuf_addr;      /**< address of the block buffer */
    struct { struct os_mempool *stqe_next; } mp_list; /**< not maintained (see above) */
    struct os_memblock *slh_first; /**< SLIST_FIRST(mp): block the next get returns */
    char *name;                    /**< pool name (may be NULL) */
    tarn_block_pool tarn_pool_;    /**< private */
};

#ifndef SLIST_FIRST
/** First element of a singly-linked list head (here: the next block get returns). */
#define SLIST_FIRST(head) ((head)->slh_first)
#endif

/** Indicates an extended mempool: the address can be cast to struct os_mempool_ext *. */
#define OS_MEMPOOL_F_EXT 0x01

struct os_mempool_ext;
/** Put callback of an extended pool: called by os_memblock_put instead of freeing; it
 *  must free the block with os_memblock_put_from_cb().  Non-zero = block not freed. */
typedef os_error_t os_mempool_put_fn(struct os_mempool_ext *ome, void *data, void *arg);

/** An extended pool: a pool with a put callback. */
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
/** Initialise a pool of `blocks` blocks of `block_size` bytes over membuf (at least
 *  OS_MEMPOOL_BYTES(blocks, block_size) bytes, OS_ALIGNMENT-aligned) and register it.
 *  O(1) (O(pools) when re-initialising a registered pool).  OS_INVALID_PARM: mp NULL,
 *  block_size 0, membuf NULL with blocks > 0; OS_MEM_NOT_ALIGNED: membuf misaligned.
 *  blocks == 0 gives an empty pool. */
os_error_t os_mempool_init(struct os_mempool *mp, uint16_t blocks, uint32_t block_size,
                           void *membuf, char *name);
/** As os_mempool_init for an extended pool; mpe_put_cb/arg start NULL. */
os_error_t os_mempool_ext_init(struct os_mempool_ext *mpe, uint16_t blocks,
                               uint32_t block_size, void *membuf, char *name);
/** Remove a pool from the list of pools.  OS_INVALID_PARM if NULL or not registered. */
os_error_t os_mempool_unregister(struct os_mempool *mp);
/** Return every block to the pool.  O(1).  OS_INVALID_PARM if mp is NULL. */
os_error_t os_mempool_clear(struct os_mempool *mp);
/** Integrity check of the free list and counters.  O(free blocks).  false if corrupt or NULL. */
bool os_mempool_is_sane(const struct os_mempool *mp);
/** 1 if block_addr is the start of one of mp's blocks, else 0.  O(1). */
int os_memblock_from(const struct os_mempool *mp, const void *block_addr);
/** Take a block; NULL if none or mp NULL.  O(1). */
void *os_memblock_get(struct os_mempool *mp);
/** Return a block, bypassing the put callback.  O(1).  OS_INVALID_PARM: NULL, foreign or
 *  interior pointer, or a block already free (nothing is changed). */
os_error_t os_memblock_put_from_cb(struct os_mempool *mp, void *block_addr);
/** Return a block; for an extended pool with mpe_put_cb set, the validated block is handed
 *  to the callback instead.  O(1).  Errors as os_memblock_put_from_cb. */
os_error_t os_memblock_put(struct os_mempool *mp, void *block_addr);
/** Pool after mp (first if mp is NULL), filling *info; NULL at the end.  O(1). */
struct os_mempool *os_mempool_info_get_next(struct os_mempool *mp, struct os_mempool_info *info);
/** Registered pool named mempool_name (info filled when non-NULL), or NULL.  O(pools). */
struct os_mempool *os_mempool_get(const char *mempool_name, struct os_mempool_info *info);

/** tarn extension: lock hook used for the list of pools and for pools initialised after
 *  this call (NULL = none, the default).  Call before any os_mempool_init. */
void os_mempool_set_lock(const tarn_lock *lock);

#ifdef __cplusplus
}
#endif

#endif /* TARN_COMPAT_OS_MEMPOOL_H */
