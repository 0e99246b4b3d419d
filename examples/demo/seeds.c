/*
 * examples/demo/seeds.c - code written against each seed system's API runs on tarn:
 * Mynewt os_mempool, SMP, the mem_pool study, ckreMM and SMM, each used once.
 * (SMM's u8/u32 types clash with mem_pool's type tags of the same names, as in the two
 * original projects, so SMM is used from fram_smm() in a file of its own below.)
 */
#include <string.h>

#include "demo.h"
#include "os/os_mempool.h"
#include "smp.h"
#include "mem_pool.h"
#include "ckremm.h"

SMP_POOL_WITH_API(cfg_pool, 1024);

static struct os_mempool evt_pool;
static os_membuf_t evt_mem[OS_MEMPOOL_SIZE(8, 32)];

int demo_seed_apis(void)
{
    int fails = 0;
    printf("5. the seed systems' own APIs on tarn\n");
    {   /* Apache Mynewt */
        void *e;
        os_mempool_init(&evt_pool, 8, 32, evt_mem, "evt");
        e = os_memblock_get(&evt_pool);
        fails += (e == NULL) || os_memblock_put(&evt_pool, e) != OS_OK;
        printf("   mynewt   os_memblock_get/put: %u of %u free, double put -> %d\n",
               (unsigned)evt_pool.mp_num_free, (unsigned)evt_pool.mp_num_blocks,
               (int)os_memblock_put(&evt_pool, e));
    }
    {   /* SMP: a pool and its API generated at compile time */
        char *c = cfg_pool_alloc(100);
        fails += (c == NULL);
        if (c != NULL) strcpy(c, "sample_rate=10Hz");
        printf("   smp      cfg_pool_alloc(100): usable %u bytes, \"%s\"\n",
               (unsigned)(c ? smp_size(&cfg_pool, c) : 0u), c ? c : "");
        cfg_pool_dealloc(c);
    }
    {   /* mem_pool: one malloc'd block carved into typed allocations */
        struct m_pool pool = {0};
        int *calib = NULL;
        int rc = pool_init(&pool);
        fails += rc != 0 || pool_alloc(&pool, (void **)&calib, 4 * sizeof(int), i32) != 0;
        printf("   mem_pool pool_alloc(i32 x4) at +%u of a %u-byte pool\n",
               (unsigned)((char *)calib - (char *)pool.base_address),
               (unsigned)((char *)pool.top_address - (char *)pool.base_address));
        pool_free((void **)&calib, 4 * sizeof(int), &pool);
        fails += calib != NULL;
        pool_destroy(&pool);
    }
    {   /* ckreMM: its own calls; a pointer holds until a reorder moves the block */
        t_pool *tp = create_pool(2048);
        char *a, *b;
        t_handle hb;
        fails += tp == NULL;
        a = (char *)t_pool_alloc(tp, 300);
        b = (char *)t_pool_alloc(tp, 300);
        hb = t_pool_handle_of(tp, b);               /* b's name across the reorder */
        fails += a == NULL || b == NULL || !t_pool_dealloc(tp, a) || !reorder_t_mem(tp);
        b = (char *)t_pool_ptr(tp, hb);             /* where the reorder put it */
        fails += b == NULL || !clean_t_ptr(tp, b);
        printf("   ckremm   t_pool_alloc/dealloc/reorder_t_mem: free space one region again\n");
        fails += !t_pool_dealloc(tp, b);
        destroy_t_pool(tp);
    }
    return fails;
}
