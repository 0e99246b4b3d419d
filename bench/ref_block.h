/*
 * bench/ref_block.h - reference block pools for bench/block and `make bench-block-size`,
 * written here from the public documentation of two RTOS pools (their locks left out, as
 * with a pool used from one context):
 *
 *   ref_mynewt_*  like Apache Mynewt's os_mempool: init threads every block onto an
 *                 intrusive singly linked LIFO list (block size rounded up to 4 bytes);
 *                 get pops, put pushes after checking that the pointer lies in the buffer
 *                 on a block boundary (a modulo); put_checked also scans the free list for
 *                 the block first (the optional double-put check: O(free blocks)), and
 *                 refuses a block it finds there.  Free-block count and low-water mark kept.
 *   ref_zephyr_*  like Zephyr's k_mem_slab: init threads the blocks onto the same kind of
 *                 list (block size a multiple of a pointer); alloc pops and counts blocks
 *                 used, free pushes with no check at all.
 *
 * Header-only; every function is small and static so that the linker drops what a program
 * does not call.  Not part of the library.
 */
#ifndef TARN_BENCH_REF_BLOCK_H
#define TARN_BENCH_REF_BLOCK_H

#include <stddef.h>
#include <stdint.h>

typedef struct ref_mynewt_pool {
    uint32_t block_size;  /* rounded up to 4 */
    uint16_t num_blocks;
    uint16_t num_free;
    uint16_t min_free;
    uint8_t flags;
    uintptr_t membuf;
    void *free_list;      /* first free block; each free block's first word links on */
    const char *name;
    void *next_pool;      /* the global list of pools (unused here) */
} ref_mynewt_pool;

static inline int ref_mynewt_init(ref_mynewt_pool *mp, uint16_t blocks, uint32_t block_size,
                                  void *membuf)
{
    uint32_t bs = (block_size + 3u) & ~3u;
    unsigned char *b = (unsigned char *)membuf;
    uint16_t i;
    if (mp == NULL || block_size == 0u || (membuf == NULL && blocks != 0u)) return -1;
    if (((uintptr_t)membuf & 3u) != 0u) return -2;
    mp->block_size = bs;
    mp->num_blocks = blocks;
    mp->num_free = blocks;
    mp->min_free = blocks;
    mp->flags = 0;
    mp->membuf = (uintptr_t)membuf;
    mp->name = NULL;
    mp->next_pool = NULL;
    mp->free_list = blocks ? b : NULL;
    for (i = 1; i < blocks; i++, b += bs) *(void **)(void *)b = b + bs;
    if (blocks) *(void **)(void *)b = NULL;
    return 0;
}

static inline void *ref_mynewt_get(ref_mynewt_pool *mp)
{
    void *b = mp->free_list;
    if (b != NULL) {
        mp->free_list = *(void **)b;
        mp->num_free--;
        if (mp->num_free < mp->min_free) mp->min_free = mp->num_free;
    }
    return b;
}

/* The pointer lies in the buffer, on a block boundary. */
static inline int ref_mynewt_from(const ref_mynewt_pool *mp, const void *p)
{
    uintptr_t a = (uintptr_t)p, end = mp->membuf + (uintptr_t)mp->num_blocks * mp->block_size;
    return a >= mp->membuf && a < end && (a - mp->membuf) % mp->block_size == 0u;
}

static inline int ref_mynewt_put(ref_mynewt_pool *mp, void *p)
{
    if (mp == NULL || p == NULL || !ref_mynewt_from(mp, p)) return -1;
    *(void **)p = mp->free_list;
    mp->free_list = p;
    mp->num_free++;
    return 0;
}

/* put with the double-put check: the block must not be on the free list already. */
static inline int ref_mynewt_put_checked(ref_mynewt_pool *mp, void *p)
{
    const void *f;
    if (mp == NULL || p == NULL || !ref_mynewt_from(mp, p)) return -1;
    for (f = mp->free_list; f != NULL; f = *(void *const *)f) {
        if (f == p) return -2;
    }
    *(void **)p = mp->free_list;
    mp->free_list = p;
    mp->num_free++;
    return 0;
}

typedef struct ref_zephyr_slab {
    void *wait_q[2];      /* threads waiting for a block (unused here) */
    uint32_t lock;
    unsigned char *buffer;
    void *free_list;
    uint32_t block_size;
    uint32_t num_blocks;
    uint32_t num_used;
} ref_zephyr_slab;

static inline int ref_zephyr_init(ref_zephyr_slab *s, void *buffer, uint32_t block_size,
                                  uint32_t num_blocks)
{
    unsigned char *b = (unsigned char *)buffer;
    uint32_t i;
    if ((block_size % sizeof(void *)) != 0u || ((uintptr_t)buffer % sizeof(void *)) != 0u) {
        return -1;
    }
    s->wait_q[0] = s->wait_q[1] = NULL;
    s->lock = 0;
    s->buffer = b;
    s->block_size = block_size;
    s->num_blocks = num_blocks;
    s->num_used = 0;
    s->free_list = NULL;
    for (i = 0; i < num_blocks; i++, b += block_size) {
        *(void **)(void *)b = s->free_list;
        s->free_list = b;
    }
    return 0;
}

static inline void *ref_zephyr_alloc(ref_zephyr_slab *s)
{
    void *b = s->free_list;
    if (b != NULL) {
        s->free_list = *(void **)b;
        s->num_used++;
    }
    return b;
}

static inline void ref_zephyr_free(ref_zephyr_slab *s, void *p)
{
    *(void **)p = s->free_list;
    s->free_list = p;
    s->num_used--;
}

#endif /* TARN_BENCH_REF_BLOCK_H */
