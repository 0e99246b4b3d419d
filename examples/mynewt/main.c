/*
 * examples/mynewt - the Mynewt os_mempool usage from its documentation, unchanged, on
 * tarn's compat layer: a pool over a static os_membuf_t array and one over a malloc'd
 * buffer, init, get, put.
 */
#include <stdio.h>
#include <stdlib.h>
#include "os/os_mempool.h"

#define NUM_BLOCKS 10
#define BLOCK_SIZE 48

struct os_mempool my_pool;
os_membuf_t my_memory_buffer[OS_MEMPOOL_SIZE(NUM_BLOCKS, BLOCK_SIZE)];

struct os_mempool my_heap_pool;

int main(void)
{
    void *blocks[NUM_BLOCKS];
    void *my_malloc_buffer;
    int i;
    os_error_t rc;

    /* the pool over a static buffer */
    rc = os_mempool_init(&my_pool, NUM_BLOCKS, BLOCK_SIZE, my_memory_buffer, "MyPool");
    if (rc != OS_OK) return 1;
    for (i = 0; i < NUM_BLOCKS; i++) {
        blocks[i] = os_memblock_get(&my_pool);
        if (blocks[i] == NULL) return 2;
    }
    if (os_memblock_get(&my_pool) != NULL) return 3;      /* exhausted */
    printf("MyPool: %u blocks of %u bytes, %u free, min free %u\n",
           (unsigned)my_pool.mp_num_blocks, (unsigned)my_pool.mp_block_size,
           (unsigned)my_pool.mp_num_free, (unsigned)my_pool.mp_min_free);
    for (i = 0; i < NUM_BLOCKS; i++) {
        if (os_memblock_put(&my_pool, blocks[i]) != OS_OK) return 4;
    }
    if (my_pool.mp_num_free != NUM_BLOCKS) return 5;

    /* the pool over a buffer taken from malloc */
    my_malloc_buffer = malloc(OS_MEMPOOL_BYTES(NUM_BLOCKS, BLOCK_SIZE));
    if (my_malloc_buffer == NULL) return 6;
    rc = os_mempool_init(&my_heap_pool, NUM_BLOCKS, BLOCK_SIZE, my_malloc_buffer, "MyHeapPool");
    if (rc != OS_OK) return 7;
    blocks[0] = os_memblock_get(&my_heap_pool);
    if (blocks[0] == NULL || !os_memblock_from(&my_heap_pool, blocks[0])) return 8;
    if (os_memblock_put(&my_heap_pool, blocks[0]) != OS_OK) return 9;
    /* tarn catches what the original lets through: */
    printf("double put -> %d (OS_INVALID_PARM = %d)\n",
           (int)os_memblock_put(&my_heap_pool, blocks[0]), (int)OS_INVALID_PARM);
    if (!os_mempool_is_sane(&my_heap_pool) || !os_mempool_is_sane(&my_pool)) return 10;

    {
        struct os_mempool_info omi;
        struct os_mempool *mp = NULL;
        while ((mp = os_mempool_info_get_next(mp, &omi)) != NULL) {
            printf("pool %-12s block %3d bytes, %2d blocks, %2d free, min %2d\n", omi.omi_name,
                   omi.omi_block_size, omi.omi_num_blocks, omi.omi_num_free, omi.omi_min_free);
        }
    }
    os_mempool_unregister(&my_heap_pool);
    free(my_malloc_buffer);
    return 0;
}
