/*
 * tests/test_block_quarantine_fast.c - the quarantine tests of test_block_quarantine.c in
 * a build without sanitizer annotations or other debug options, where a pool with the
 * quarantine takes the inline get (free list not empty) and the full put.  This file
 * compiles src/block.c itself.
 */
#undef TARN_SANITIZE
#undef TARN_GUARD
#undef TARN_POISON_FREE
#undef TARN_QUARANTINE
#undef TARN_CHECK_LEVEL
#define TARN_SANITIZE 0
#define TARN_GUARD 0
#define TARN_POISON_FREE 0
#define TARN_QUARANTINE 8
#define TARN_CHECK_LEVEL 1
#include "block.c"

#define TEST_BLOCK_NO_MAIN 1
#include "test_block_quarantine.c"

int main(void)
{
    tarn_block_pool p;
    REQUIRE(q_init(&p, TARN_F_QUARANTINE, NULL) == TARN_OK);
    CHECK_EQ(p.slow_, BLOCK_SLOW_QUAR);      /* get inline, put through the full path */
    CHECK(p.lim_ == 0);
    quarantine_tests();
    return check_done();
}
