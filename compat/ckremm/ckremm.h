/*
 * ckremm.h - the ckreMM API on tarn: the header-based pool (h_pool) on the tarn heap, and
 * the table-based pool (t_pool) on the tarn handle pool.
 *
 * ckreMM plans two pools.  The header-based pool hands out raw pointers: here it is a tarn
 * heap (O(1) alloc and free, free neighbours merged at once).  The table-based pool keeps
 * its blocks in a separate table, with allocate, copy, clean and free, and reorder_t_mem
 * moves blocks so that all free space becomes one region, locking the pool while it does.
 * Here it is a tarn handle pool: each block also has a handle (t_handle), which a reorder
 * never invalidates, and t_pool_lock pins a block at its address until t_pool_unlock.
 *
 * Signatures.  Every function the seed lists exists under its name with the seed's
 * signature: t_pool_alloc gives a pointer, t_pool_dealloc and clean_t_ptr take one, as
 * in ckreMM.  As in ckreMM, reorder_t_mem moves the blocks, so a pointer from
 * t_pool_alloc is valid until the next reorder_t_mem (after it, a pointer to a block
 * that moved is rejected, or names whatever block now starts there).  Code that keeps
 * blocks across a reorder names them by handle instead (tarn's extension, never
 * invalidated by a reorder): t_pool_alloc_handle, t_pool_dealloc_handle,
 * clean_t_handle, copy_t_handle, and t_pool_lock/t_pool_unlock for the address;
 * t_pool_handle_of gives the handle of a block known by its pointer, t_pool_ptr the
 * current pointer of a handle.  Each block carries its handle in CKREMM_T_PREFIX bytes
 * before its data, which is how a pointer is checked and mapped to its block in O(1).
 * A pointer kept for good (never moved) is what h_pool_alloc gives.
 *
 * Capacity: create_h_pool(size) and create_pool(size) take `size` as what the pool stores
 * (one allocation of `size` bytes fits the new pool); the control data comes on top.
 *
 * Every function returns what ckreMM lists (bool success, a pointer or NULL); a bad
 * argument (NULL, a foreign or interior pointer, a stale handle, a double free) returns
 * false or NULL and changes nothing.  The create functions that take only a size obtain
 * the memory with malloc (compile with CKREMM_NO_MALLOC to leave them out); the _in
 * variants use a caller buffer and never allocate.  Multi-processing: the _ex and _in
 * variants take an optional lock hook (tarn_lock), held around every pool operation and
 * for a whole reorder; a pointer given to a t_pool call must not race a reorder_t_mem
 * (which may move its block: ckreMM's rule), handles may.
 */
#ifndef CKREMM_H
#define CKREMM_H

#include <stdbool.h>
#include <stddef.h>

#include "tarn/handle.h"
#include "tarn/heap.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- h_pool: header-based pool (tarn heap) ------------------------------------------------ */

/** A header-based pool. */
typedef struct h_pool h_pool;
/** ckreMM declares h_pool_alloc with this spelling of the type. */
typedef h_pool poolh;

/** Bytes of the h_pool control block that create_h_pool_in places at the start of its
 *  buffer (the heap takes the rest; the static assertion in ckremm.c checks it fits). */
#define CKREMM_H_POOL_HEADER 64u

#ifndef CKREMM_NO_MALLOC
/**
 * Create a header-based pool of `size` usable bytes: one allocation of `size` bytes fits
 * the new pool; the heap's control data and the pool's control block come on top
 * (tarn_heap_size_for(size, size, 1) + CKREMM_H_POOL_HEADER bytes in all, from malloc).
 * O(size / 256).  NULL if size is 0 or too large, or malloc fails.  Free it with
 * destroy_h_pool.  Not ISR-safe.
 */
h_pool *create_h_pool(size_t size);

/** As create_h_pool with an optional lock hook (NULL = none; copied). */
h_pool *create_h_pool_ex(size_t size, const tarn_lock *lock);
#endif

/**
 * Create a header-based pool inside a caller buffer (any alignment): a control block, then
 * a tarn heap over the rest.  Never allocates.  lock may be NULL.  NULL when mem is NULL,
 * the buffer is too small (CKREMM_H_POOL_HEADER + TARN_HEAP_MIN_SIZE + alignment), or the
 * lock hook has only one of lock/unlock.
 */
h_pool *create_h_pool_in(void *mem, size_t mem_size, const tarn_lock *lock);

/** Allocate `size` bytes (aligned to TARN_HEAP_GRANULE, contents undefined).  NULL when
 *  pool is bad, size is 0, or there is no room.  O(1). */
void *h_pool_alloc(poolh *pool, size_t size);

/** Free the block at ptr.  false (and nothing changes) for a bad pool, NULL, a pointer
 *  that is not the start of a live block of this pool (foreign, interior), or a block
 *  freed already.  O(1). */
bool h_pool_dealloc(h_pool *pool, void *ptr);

/**
 * Destroy the pool: every block becomes invalid; memory from create_h_pool/create_h_pool_ex
 * goes back to free(), a caller buffer back to the caller.  false for NULL or a pool
 * destroyed already (caller-buffer pools; destroying a malloc'd pool twice is a double
 * free, as with free()).
 */
bool destroy_h_pool(h_pool *pool);

/** Fill the block at ptr (all of its usable size) with zeros.  false for a bad pool or a
 *  pointer that is not a live block.  O(block size).  The block must not be freed by
 *  another thread meanwhile. */
bool clean_h_ptr(h_pool *pool, void *ptr);

/**
 * "Merge all the free chunks into one big free chunk": h_pool blocks are raw pointers, so
 * no live block can move, and the tarn heap merges free neighbours at once, so every free
 * chunk that can be merged already is.  reorder_h_mem therefore has nothing to do: it
 * returns true for every valid pool (whatever its fragmentation), and false only for a bad
 * pool (NULL, destroyed, or failing the heap's O(1) sanity check, tarn_heap_sane), so seed
 * code written as `if (!reorder_h_mem(pool)) fail();` works.  Only the table-based pool
 * (reorder_t_mem) can defragment.  O(1).
 */
bool reorder_h_mem(h_pool *pool);

/** Usable size of the block at ptr (at least what was asked); 0 for a bad pool or
 *  pointer.  O(1). */
size_t h_pool_size(h_pool *pool, const void *ptr);

/** The tarn heap underneath (for stats, walks, checks); NULL for a bad pool. */
tarn_heap *h_pool_tarn(h_pool *pool);

/* ---- t_pool: table-based pool (tarn handle pool) ---------------------------------------- */

/** A table-based pool. */
typedef struct t_pool t_pool;

/** A t_pool block named by handle (tarn's extension: blocks move, handles stay valid).
 *  t_pool_lock(pool, h) gives the block's address until t_pool_unlock(pool, h). */
typedef tarn_handle t_handle;

/** Bytes each t_pool block carries before its data (its handle: a pointer given back to
 *  t_pool_dealloc or clean_t_ptr is mapped to its block through it).  TARN_ALIGN. */
#define CKREMM_T_PREFIX ((size_t)TARN_ALIGN)
/** Data-area bytes one t_pool block of `size` bytes takes (prefix and guard included). */
#define CKREMM_T_BLOCK_BYTES(size) TARN_HANDLE_SPAN((size_t)(size) + CKREMM_T_PREFIX)

/** Handles of a pool made by create_pool(size): one per 32 bytes, between 8 and
 *  TARN_HANDLE_MAX_COUNT. */
#define CKREMM_T_DEFAULT_HANDLES(size)                                                    \
    ((size_t)(size) / 32u < 8u ? (size_t)8u                                               \
     : (size_t)(size) / 32u > TARN_HANDLE_MAX_COUNT ? (size_t)TARN_HANDLE_MAX_COUNT         \
     : (size_t)(size) / 32u)

/** Bytes of the t_pool control block that create_pool_in places at the start of its buffer:
 *  the tarn handle pool and four words, rounded up to TARN_ALIGN (checked in ckremm.c). */
#define CKREMM_T_POOL_HEADER \
    TARN_ALIGN_UP(sizeof(tarn_handle_pool) + 4u * sizeof(void *) + 16u, TARN_ALIGN)
/** Buffer bytes for create_pool_in giving `size` bytes of data area (CKREMM_T_BLOCK_BYTES
 *  of each block) and `handles` handles.  Constant expression. */
#define CKREMM_T_POOL_BYTES(size, handles) \
    ((size_t)CKREMM_T_POOL_HEADER + TARN_HANDLE_BYTES(size, handles))

#ifndef CKREMM_NO_MALLOC
/**
 * Create a pool with room for one block of `size` bytes (CKREMM_T_BLOCK_BYTES(size) bytes
 * of data area) and CKREMM_T_DEFAULT_HANDLES(size) handles, in memory from malloc (control,
 * table and data in one block).  NULL if size is 0 or too large, or malloc fails.  Free it
 * with destroy_t_pool.
 */
t_pool *create_pool(size_t size);

/** As create_pool with a chosen handle count (0 = default) and an optional lock hook
 *  (NULL = none; copied).  NULL on bad arguments or when malloc fails. */
t_pool *create_pool_ex(size_t size, size_t handles, const tarn_lock *lock);
#endif

/**
 * Create a pool inside a caller buffer (aligned to TARN_ALIGN; see CKREMM_T_POOL_BYTES):
 * the control block, then the table for `handles` handles (0 = one handle per 32 bytes of
 * the data area that remains), then the data area.  Never allocates.  lock may be NULL.
 * NULL when the buffer is NULL, misaligned or too small, or the lock hook has only one of
 * lock/unlock.
 */
t_pool *create_pool_in(void *mem, size_t mem_size, size_t handles, const tarn_lock *lock);

/** ckreMM's alloc: `size` bytes (aligned to TARN_ALIGN, contents undefined), valid until
 *  the next reorder_t_mem.  NULL when size is 0, pool is bad, or there is no room.  O(1). */
void *t_pool_alloc(t_pool *pool, size_t size);

/** ckreMM's dealloc: free the block that starts at ptr.  false (and nothing changes) for
 *  a bad pool, NULL, a pointer that is not the start of a live block of the pool (foreign,
 *  interior, freed already, or moved away by a reorder), or a locked block.  O(1). */
bool t_pool_dealloc(t_pool *pool, void *ptr);

/**
 * Destroy the pool: every handle and pointer becomes invalid; memory from
 * create_pool/create_pool_ex goes back to free(), a caller buffer back to the caller.
 * false (and nothing changes) for NULL, a pool destroyed already (caller-buffer pools;
 * destroying a malloc'd pool twice is a double free, as with free()), or a pool with a
 * locked block.
 */
bool destroy_t_pool(t_pool *pool);

/** ckreMM's clean: fill the block that starts at ptr with zeros.  false for a bad pool or
 *  a pointer t_pool_dealloc would refuse.  O(block size). */
bool clean_t_ptr(t_pool *pool, void *ptr);

/**
 * Reorder: slide every block that is not locked towards the start of the pool, holding the
 * pool's lock hook for the whole pass, so that all free space becomes one region at the
 * end.  Pointers to blocks that moved are invalid afterwards (handles stay valid).
 * Returns true when afterwards the free space is one region (always, unless locked blocks
 * split it); false for a bad pool.  O(live data).
 */
bool reorder_t_mem(t_pool *pool);

/** Copy the whole of the block at src to the start of the block at dst (ckreMM's block
 *  copy, by pointer).  false for a bad pool or pointer, or when dst is smaller than src
 *  (nothing is copied).  O(size). */
bool copy_t_ptr(t_pool *pool, void *dst, const void *src);

/** Handle of the live block that starts at ptr; the null handle for anything
 *  t_pool_dealloc would refuse (a locked block has its handle).  O(1). */
t_handle t_pool_handle_of(t_pool *pool, const void *ptr);

/** Current address of a block (valid until the next reorder_t_mem unless locked); NULL for
 *  a bad pool or handle.  O(1). */
void *t_pool_ptr(t_pool *pool, t_handle h);

/** t_pool_alloc naming the block by handle: the null handle (tarn_handle_is_null) when
 *  size is 0, pool is bad, or there is no room.  O(1). */
t_handle t_pool_alloc_handle(t_pool *pool, size_t size);

/** Free a block by handle.  false (and nothing changes) for a bad pool, a null, stale or
 *  foreign handle, a block freed already, or a block that is locked.  O(1). */
bool t_pool_dealloc_handle(t_pool *pool, t_handle h);

/** clean_t_ptr by handle. */
bool clean_t_handle(t_pool *pool, t_handle h);

/** copy_t_ptr by handle. */
bool copy_t_handle(t_pool *pool, t_handle dst, t_handle src);

/** The block's address, pinned (it does not move) until t_pool_unlock; locks nest.  NULL
 *  for a bad pool or handle.  O(1). */
void *t_pool_lock(t_pool *pool, t_handle h);

/** Undo one t_pool_lock.  false for a bad pool or handle, or a block that is not locked. */
bool t_pool_unlock(t_pool *pool, t_handle h);

/** Requested size of a block; 0 for a bad pool or handle.  O(1). */
size_t t_pool_size(t_pool *pool, t_handle h);

/** The tarn handle pool underneath (for stats, walks, checks, compact_step); NULL for a
 *  bad pool. */
tarn_handle_pool *t_pool_tarn(t_pool *pool);

#ifdef __cplusplus
}
#endif

#endif /* CKREMM_H */
