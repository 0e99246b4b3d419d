/*
 * tests/test_block_lean.c - the block pool in its leanest configuration: no pointer checks
 * (TARN_CHECK_LEVEL 0), no statistics (TARN_STATS 0), no locking (TARN_LOCKING 0), no
 * sanitizer annotations or debug options (the inline get/put do the common case) and
 * portable bit scans.
 * Valid use must behave exactly as in the default build: a model of random gets, puts and
 * clears checks every block handed out, the LIFO order, the counters and the full check.
 * This file compiles src/block.c itself.
 */
#include "support/lean.h"
#include "block.c"

#include "check.h"

#define L_NB 29u
#define L_SZ 40u

static unsigned char l_mem[TARN_BLOCK_POOL_BYTES(L_NB, L_SZ)] TARN_BLOCK_ALIGNED;

TARN_BLOCK_POOL_DEFINE(l_static, 3, 16);

int main(void)
{
    tarn_block_pool p;
    tarn_block_stats st = {0u, 0u, 0u, 0u, 0u, 0u}; /* (left as is if stats were refused) */
    void *stack[L_NB], *live[L_NB];
    uint32_t tags[L_NB];
    unsigned nstack = 0, nlive = 0, carved = 0, min_free = L_NB;
    long it, iters = CHECK_ITERS(300000L);
    void *a;

    REQUIRE(tarn_block_init(&p, l_mem, sizeof l_mem, L_SZ, NULL) == TARN_OK);
    CHECK_EQ(p.slow_, 0);                               /* the inline paths are in use */
    CHECK_EQ(tarn_block_put(&p, NULL), TARN_EINVAL);    /* level 0 still rejects NULL */
    check_seed(99);
    for (it = 0; it < iters; it++) {
        uint32_t op = check_below(100);
        if (op < 50) {
            void *want, *got = tarn_block_get(&p);
            if (nstack > 0) {
                want = stack[--nstack];
            } else if (carved < L_NB) {
                want = l_mem + (size_t)carved++ * TARN_BLOCK_SIZE(L_SZ);
            } else {
                want = NULL;
            }
            CHECK(got == want);
            if (got != NULL) {
                tags[nlive] = (uint32_t)it;
                check_fill(got, L_SZ, tags[nlive]);
                live[nlive++] = got;
                if (L_NB - nlive < min_free) min_free = L_NB - nlive;
            }
        } else if (op < 98) {
            if (nlive > 0) {
                unsigned k = check_below(nlive);
                CHECK(check_verify(live[k], L_SZ, tags[k]));
                CHECK_EQ(tarn_block_put(&p, live[k]), TARN_OK);
                stack[nstack++] = live[k];
                live[k] = live[--nlive];
                tags[k] = tags[nlive];
            }
        } else if (op < 99) {
            CHECK_EQ(tarn_block_check(&p), TARN_OK);
        } else if (check_below(8) == 0) {
            CHECK_EQ(tarn_block_clear(&p), TARN_OK);
            nstack = nlive = carved = 0;
            min_free = L_NB;   /* the watermark counts from the clear */
        }
        if ((it & 127) == 0) {
            CHECK_EQ(tarn_block_stats_get(&p, &st), TARN_OK);
            CHECK_EQ(st.free, L_NB - nlive);
            CHECK_EQ(st.min_free, min_free);   /* derived (since init or clear) */
        }
    }
    CHECK_EQ(tarn_block_check(&p), TARN_OK);
    /* a statically defined pool takes the inline paths from its first carve on */
    CHECK_EQ(tarn_block_check(&l_static), TARN_OK);   /* its constants are init's values */
    CHECK_EQ(l_static.slow_, 0);   /* no set-up at run time: inv_ and rot_ are constants */
    CHECK_EQ(l_static.lim_, 0);    /* the first get carves through the full path */
    a = tarn_block_get(&l_static);
    REQUIRE(a != NULL);
    CHECK_EQ(l_static.slow_, 0);
    CHECK_EQ(tarn_block_put(&l_static, a), TARN_OK);
    CHECK(tarn_block_get(&l_static) == a);
    CHECK_EQ(tarn_block_check(&l_static), TARN_OK);
    printf("lean model: %ld operations\n", iters);
    return check_done();
}
