/*
 * examples/ckremm - ckreMM's two pools on tarn, used the way ckreMM describes them:
 *  - the header-based pool (h_pool): create, allocate, clean, free, reorder, destroy;
 *  - the table-based pool (t_pool): create, allocate, copy, clean, free, reorder so that
 *    the free space is one block again, destroy.  Blocks of a table pool move when the
 *    pool is reordered, so they are named by handles and locked while used.
 * Exit status 0 when every step behaved as documented.
 */
#include <stdio.h>
#include <string.h>

#include "ckremm.h"

static int failures;
#define EXPECT(c)                                                      \
    do {                                                               \
        if (!(c)) {                                                    \
            printf("  FAILED: %s (line %d)\n", #c, __LINE__);          \
            failures++;                                                \
        }                                                              \
    } while (0)

static void print_stats(t_pool *pool, const char *when)
{
    tarn_handle_stats st;
    if (tarn_handle_stats_get(t_pool_tarn(pool), &st) == TARN_OK) {
        printf("  %-26s used %5zu  free %5zu  largest free region %5zu  blocks %zu\n", when,
               st.used, st.free, st.largest_free, st.handles_used);
    }
}

static void header_pool(void)
{
    h_pool *pool = create_h_pool(2048);
    char *msg, *tmp, *big;
    tarn_heap_stats st;
    printf("header pool (h_pool) of 2048 bytes\n");
    EXPECT(pool != NULL);
    if (pool == NULL) return;
    msg = (char *)h_pool_alloc(pool, 32);           /* raw pointers: these never move */
    tmp = (char *)h_pool_alloc(pool, 500);
    big = (char *)h_pool_alloc(pool, 1000);
    EXPECT(msg != NULL && tmp != NULL && big != NULL);
    if (msg == NULL || tmp == NULL || big == NULL) return;
    strcpy(msg, "hello from h_pool");
    EXPECT(clean_h_ptr(pool, tmp));
    EXPECT(tmp[0] == 0 && tmp[499] == 0);
    EXPECT(h_pool_dealloc(pool, tmp));
    EXPECT(!h_pool_dealloc(pool, tmp));             /* double free: refused, no harm */
    EXPECT(!h_pool_dealloc(pool, msg + 4));         /* interior pointer: refused */
    /* the heap merged tmp's space at once (big still splits the free space, and no
     * h_pool block can move): reorder has nothing to do and reports a healthy pool */
    EXPECT(reorder_h_mem(pool));
    EXPECT(h_pool_dealloc(pool, big));
    EXPECT(reorder_h_mem(pool));
    if (tarn_heap_stats_get(h_pool_tarn(pool), &st) == TARN_OK) {
        printf("  after frees: used %zu  free %zu  largest free block %zu\n", st.used, st.free,
               st.largest_free);
    }
    printf("  %s\n", msg);
    EXPECT(strcmp(msg, "hello from h_pool") == 0);
    EXPECT(destroy_h_pool(pool));
}

static void table_pool(void)
{
    t_pool *pool = create_pool(4096);
    t_handle name, copy, rec[16];
    char *p;
    int i;
    printf("table pool (t_pool) of 4096 bytes\n");
    EXPECT(pool != NULL);
    if (pool == NULL) return;

    name = t_pool_alloc_handle(pool, 32);
    p = (char *)t_pool_lock(pool, name);        /* the address is valid while locked */
    EXPECT(p != NULL);
    if (p != NULL) {
        strcpy(p, "ckreMM on tarn");
        EXPECT(t_pool_unlock(pool, name));
    }
    copy = t_pool_alloc_handle(pool, 64);
    EXPECT(copy_t_handle(pool, copy, name));       /* block copy */
    EXPECT(!copy_t_handle(pool, name, copy));      /* too small a destination: refused */

    for (i = 0; i < 16; i++) rec[i] = t_pool_alloc_handle(pool, 200);
    print_stats(pool, "after 18 allocations:");
    for (i = 0; i < 16; i += 2) EXPECT(t_pool_dealloc_handle(pool, rec[i]));
    EXPECT(!t_pool_dealloc_handle(pool, rec[0]));      /* double free: refused, no harm */
    print_stats(pool, "after freeing every other:");
    EXPECT(tarn_handle_is_null(t_pool_alloc_handle(pool, 1500))); /* fragmented */

    EXPECT(reorder_t_mem(pool));                /* all free space is one block now */
    print_stats(pool, "after reorder_t_mem:");
    EXPECT(!tarn_handle_is_null(t_pool_alloc_handle(pool, 1500)));

    p = (char *)t_pool_lock(pool, copy);        /* moved by the reorder, contents kept */
    EXPECT(p != NULL && strcmp(p, "ckreMM on tarn") == 0);
    if (p != NULL) printf("  copied block after reorder: \"%s\"\n", p);
    t_pool_unlock(pool, copy);

    EXPECT(clean_t_handle(pool, copy));
    p = (char *)t_pool_lock(pool, copy);
    EXPECT(p != NULL && p[0] == 0 && p[63] == 0);
    t_pool_unlock(pool, copy);
    EXPECT(destroy_t_pool(pool));
}

/* ckreMM code as the seed writes it: t_pool_alloc gives a pointer, valid until the next
 * reorder_t_mem moves the block. */
static void table_pool_seed(void)
{
    t_pool *pool = create_pool(1024);
    int *ary, *sum, *sum_old;
    int i;
    printf("table pool, ckreMM's own calls (pointers)\n");
    EXPECT(pool != NULL);
    if (pool == NULL) return;
    ary = (int *)t_pool_alloc(pool, 4 * sizeof(int));
    sum = (int *)t_pool_alloc(pool, sizeof(int));
    EXPECT(ary != NULL && sum != NULL);
    if (ary == NULL || sum == NULL) return;
    for (i = 0; i < 4; i++) ary[i] = i + 1;
    *sum = ary[0] + ary[1] + ary[2] + ary[3];
    printf("  sum of the array: %d\n", *sum);
    EXPECT(*sum == 10);
    EXPECT(clean_t_ptr(pool, ary));
    EXPECT(ary[3] == 0);
    EXPECT(t_pool_dealloc(pool, ary));
    EXPECT(!t_pool_dealloc(pool, ary));         /* a second time: refused, no harm */
    sum_old = sum;
    EXPECT(reorder_t_mem(pool));                /* sum moves into ary's room */
    EXPECT(!t_pool_dealloc(pool, sum_old));     /* its old pointer names no block now */
    printf("  after reorder_t_mem the old pointer is refused: %s\n",
           t_pool_dealloc(pool, sum_old) ? "no" : "yes");
    EXPECT(destroy_t_pool(pool));
}

int main(void)
{
    header_pool();
    table_pool_seed();
    table_pool();
    if (failures == 0) {
        printf("ckremm example: ok\n");
    } else {
        printf("ckremm example: %d failures\n", failures);
    }
    return failures == 0 ? 0 : 1;
}
