/*
 * tests/consumers/app/main.c - the program every consumer project builds.
 *
 * It uses tarn the way an application would (a block pool over a static buffer: init,
 * get until empty, put, bad puts, stats) and checks every result, so a consumer project
 * that compiles and links but wires the library up wrongly still fails.  Exit status 0
 * means every check passed.
 *
 * Optional compile-time expectations, set by tests/consumers/run.sh per consumer:
 *   EXPECT_VERSION      "X.Y.Z" that TARN_VERSION_STRING must equal
 *   EXPECT_ALIGN        value TARN_ALIGN must have (proves a configuration reached the app)
 *   EXPECT_CHECK_LEVEL, EXPECT_POISON_FREE, EXPECT_STATS, EXPECT_LOCKING,
 *   EXPECT_NO_INTRINSICS, EXPECT_POISON_BYTE   the same for the other options
 *   CONSUMER            name printed in the result line
 * Whatever the configuration, the library's own idea of the block size must equal the
 * application's TARN_BLOCK_SIZE(): that proves both were compiled with the same options.
 */
#include <stdio.h>
#include <string.h>

#include "tarn/block.h"

#ifndef CONSUMER
#define CONSUMER "consumer"
#endif

#include "expect.h"

#define NBLOCKS 4u
#define REQ_SIZE 24u

static unsigned char mem[TARN_BLOCK_POOL_BYTES(NBLOCKS, REQ_SIZE)] TARN_BLOCK_ALIGNED;
static unsigned char elsewhere[64] TARN_BLOCK_ALIGNED;

int main(void)
{
    tarn_block_pool pool;
    tarn_block_stats st;
    void *blk[NBLOCKS];
    unsigned i, j;
    tarn_status s;

    /* Configuration seen by the application. */
#ifdef EXPECT_VERSION
    EXPECT(strcmp(TARN_VERSION_STRING, EXPECT_VERSION) == 0);
#endif
#ifdef EXPECT_ALIGN
    EXPECT(TARN_ALIGN == EXPECT_ALIGN);
#endif
#ifdef EXPECT_CHECK_LEVEL
    EXPECT(TARN_CHECK_LEVEL == EXPECT_CHECK_LEVEL);
#endif
#ifdef EXPECT_POISON_FREE
    EXPECT(TARN_POISON_FREE == EXPECT_POISON_FREE);
#endif
#ifdef EXPECT_POISON_BYTE
    EXPECT(TARN_POISON_BYTE == EXPECT_POISON_BYTE);
#endif
#ifdef EXPECT_STATS
    EXPECT(TARN_STATS == EXPECT_STATS);
#endif
#ifdef EXPECT_LOCKING
    EXPECT(TARN_LOCKING == EXPECT_LOCKING);
#endif
#ifdef EXPECT_NO_INTRINSICS
    EXPECT(TARN_NO_INTRINSICS == EXPECT_NO_INTRINSICS);
#endif
    EXPECT(TARN_VERSION_NUMBER == ((TARN_VERSION_MAJOR << 16) | (TARN_VERSION_MINOR << 8) |
                                   TARN_VERSION_PATCH));

    /* Init over the static buffer; the library sizes blocks as the application does. */
    s = tarn_block_init(&pool, mem, sizeof mem, REQ_SIZE, NULL);
    EXPECT(s == TARN_OK);
    if (s != TARN_OK) {
        fprintf(stderr, "%s: init failed: %s\n", CONSUMER, tarn_strerror(s));
        return 1;
    }
    EXPECT(tarn_block_size(&pool) == TARN_BLOCK_SIZE(REQ_SIZE));
    EXPECT(tarn_block_size(&pool) % TARN_BLOCK_ALIGN_OF(REQ_SIZE) == 0);

    /* Take every block: distinct, aligned, inside the buffer, writable. */
    for (i = 0; i < NBLOCKS; i++) {
        blk[i] = tarn_block_get(&pool);
        EXPECT(blk[i] != NULL);
        if (blk[i] == NULL) return 1;
        EXPECT(TARN_IS_ALIGNED(blk[i], TARN_BLOCK_ALIGN_OF(REQ_SIZE)));  /* what the size needs */
        EXPECT((unsigned char *)blk[i] >= mem &&
               (unsigned char *)blk[i] + REQ_SIZE <= mem + sizeof mem);
        memset(blk[i], (int)(0xA0 + i), REQ_SIZE);
        for (j = 0; j < i; j++) EXPECT(blk[i] != blk[j]);
    }
    for (i = 0; i < NBLOCKS; i++) {
        EXPECT(((unsigned char *)blk[i])[0] == 0xA0 + i);
        EXPECT(((unsigned char *)blk[i])[REQ_SIZE - 1] == 0xA0 + i);
    }

    /* Empty: NULL, and the pool says why. */
    EXPECT(tarn_block_get(&pool) == NULL);
    EXPECT(tarn_block_last_error(&pool) == TARN_ENOMEM);

    /* Bad puts are reported and change nothing. */
    EXPECT(tarn_block_put(&pool, NULL) == TARN_EINVAL);
#if TARN_CHECK_LEVEL >= 1
    EXPECT(tarn_block_put(&pool, elsewhere) == TARN_EFOREIGN);
    EXPECT(tarn_block_put(&pool, (unsigned char *)blk[1] + TARN_ALIGN) == TARN_EFOREIGN);
#endif

    /* Put one back, a second put of it is a double free, and the next get reuses it. */
    EXPECT(tarn_block_put(&pool, blk[2]) == TARN_OK);
#if TARN_CHECK_LEVEL >= 1
    EXPECT(tarn_block_put(&pool, blk[2]) == TARN_EDOUBLE);
#endif
    EXPECT(tarn_block_get(&pool) == blk[2]);

    EXPECT(tarn_block_stats_get(&pool, &st) == TARN_OK);
    EXPECT(st.count == NBLOCKS);
    EXPECT(st.free == 0);
    EXPECT(st.min_free == 0);
    EXPECT(st.block_size == TARN_BLOCK_SIZE(REQ_SIZE));

    for (i = 0; i < NBLOCKS; i++) EXPECT(tarn_block_put(&pool, blk[i]) == TARN_OK);
    EXPECT(tarn_block_check(&pool) == TARN_OK);
    EXPECT(tarn_block_stats_get(&pool, &st) == TARN_OK && st.free == NBLOCKS);
    EXPECT(strncmp(tarn_strerror(TARN_EDOUBLE), "TARN_EDOUBLE", 12) == 0);

    if (expect_failed()) return 1;
    printf("%s: ok (tarn %s, TARN_ALIGN %u, block size %u)\n", CONSUMER, TARN_VERSION_STRING,
           (unsigned)TARN_ALIGN, (unsigned)tarn_block_size(&pool));
    return 0;
}
