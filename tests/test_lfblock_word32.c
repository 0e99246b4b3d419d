/*
 * tests/test_lfblock_word32.c - the lock-free pool with a 32-bit head word (as on
 * Cortex-M3/M4 and RV32IMAC), on any host: the whole single-context suite of
 * test_lfblock.c, plus the block-count limit of 32-bit words (16-bit index at most).
 */
#if defined(__GCC_ATOMIC_INT_LOCK_FREE) && __GCC_ATOMIC_INT_LOCK_FREE != 2
/* a target without a lock-free 32-bit CAS (Cortex-M0+, ARMv6-M): no such build exists */
#include <stdio.h>
int main(void)
{
    printf("skipped: no lock-free 32-bit compare-and-swap on this target\n");
    return 77;
}
#else
#define TARN_LFBLOCK_WORD_BITS 32
#include "lfblock.c"

static void test_max_count(void);
#define TEST_LFBLOCK_EXTRA test_max_count
#include "test_lfblock.c"

/* A buffer for more than TARN_LFBLOCK_MAX_COUNT blocks: the pool uses exactly that many,
 * and the tag keeps the 16 bits the header promises. */
#define BIG_N (TARN_LFBLOCK_MAX_COUNT + 10u)
static unsigned char big[TARN_LFBLOCK_POOL_BYTES(BIG_N, 1)] TARN_LFBLOCK_ALIGNED;

static void test_max_count(void)
{
    tarn_lfblock_pool p;
    tarn_lfblock_stats st;
    tarn_config cfg = hook_cfg(NULL);
    void *first, *last = NULL, *x;
    uint32_t i;
    CHECK_EQ(TARN_LFBLOCK_MAX_COUNT, 65535u);
    REQUIRE(tarn_lfblock_init(&p, big, sizeof big, 1, &cfg) == TARN_OK);
    CHECK_EQ(tarn_lfblock_count(&p), TARN_LFBLOCK_MAX_COUNT);
    CHECK_EQ(tarn_lfblock_stats_get(&p, &st), TARN_OK);
    CHECK_EQ(st.tag_bits, 16u);
    first = tarn_lfblock_get(&p);
    CHECK(first == (void *)(big + TARN_LFBLOCK_META_BYTES(TARN_LFBLOCK_MAX_COUNT)));
    for (i = 1; i < TARN_LFBLOCK_MAX_COUNT; i++) {
        x = tarn_lfblock_get(&p);
        if (x == NULL) break;
        last = x;
    }
    CHECK_EQ(i, TARN_LFBLOCK_MAX_COUNT);
    CHECK_EQ(tarn_lfblock_index(&p, last), (long)TARN_LFBLOCK_MAX_COUNT - 1);
    CHECK(tarn_lfblock_get(&p) == NULL);
    CHECK_EQ(tarn_lfblock_put(&p, last), TARN_OK);
    CHECK_EQ(tarn_lfblock_put(&p, first), TARN_OK);
    /* the block past the limit is not the pool's */
    CHECK_EQ(tarn_lfblock_put(&p, (unsigned char *)last + TARN_ALIGN), TARN_EFOREIGN);
    CHECK(tarn_lfblock_get(&p) == first);
    CHECK(tarn_lfblock_get(&p) == last);
    CHECK_EQ(tarn_lfblock_check(&p), TARN_OK);
}
#endif
