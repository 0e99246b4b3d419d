/*
 * tests/test_block_noinline.c - the block pool built with TARN_BLOCK_NO_INLINE (the
 * out-of-line get/put only, what a compiler without GNU extensions gets): it compiles,
 * and get, put and every bad put behave as with the inline paths.
 */
#define TARN_BLOCK_NO_INLINE 1
#include "block.c"

#include "check.h"

#define N 8u
#define BS 24u
static unsigned char mem[TARN_BLOCK_POOL_BYTES(N, BS)] TARN_BLOCK_ALIGNED;

int main(void)
{
    tarn_block_pool pool;
    void *b[N + 1];
    unsigned i;
    tarn_status st;

    REQUIRE(tarn_block_init(&pool, mem, sizeof mem, BS, NULL) == TARN_OK);
    for (i = 0; i < N; i++) {
        b[i] = tarn_block_get_status(&pool, &st);
        CHECK(b[i] != NULL);
        CHECK_EQ(st, TARN_OK);
        check_fill(b[i], BS, i);
    }
    CHECK(tarn_block_get(&pool) == NULL);
    CHECK(tarn_block_get_status(&pool, &st) == NULL);
    CHECK_EQ(st, TARN_ENOMEM);
    CHECK(tarn_block_get_status(NULL, &st) == NULL);
    CHECK_EQ(st, TARN_EINVAL);
    CHECK_EQ(tarn_block_put(&pool, (unsigned char *)b[2] + 1), TARN_EFOREIGN);
    CHECK_EQ(tarn_block_put(&pool, b[3]), TARN_OK);
    CHECK_EQ(tarn_block_put(&pool, b[3]), TARN_EDOUBLE);
    CHECK_EQ(tarn_block_put(&pool, NULL), TARN_EINVAL);
    b[N] = tarn_block_get(&pool);
    CHECK(b[N] == b[3]);
    for (i = 0; i < N; i++) {
        if (i != 3) CHECK(check_verify(b[i], BS, i));
    }
    CHECK_EQ(tarn_block_check(&pool), TARN_OK);
    return check_done();
}
