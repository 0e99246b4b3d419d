/*
 * tests/test_block_debug.c - the block pool's debug modes in every build: this file
 * compiles src/block.c itself with canary mode (TARN_GUARD), the quarantine
 * (TARN_QUARANTINE) and freed-memory poisoning (TARN_POISON_FREE) forced on at checking
 * level 1, then runs the tests of test_block_guard.c and test_block_quarantine.c, so they
 * run under gcc, clang, ASan and Valgrind too, not only in builds configured that way.
 */
#undef TARN_GUARD
#undef TARN_QUARANTINE
#undef TARN_POISON_FREE
#undef TARN_CHECK_LEVEL
#define TARN_GUARD 1
#define TARN_QUARANTINE 8
#define TARN_POISON_FREE 1
#define TARN_CHECK_LEVEL 1
#include "block.c"

#define TEST_BLOCK_NO_MAIN 1
#include "test_block_guard.c"
#include "test_block_quarantine.c"

int main(void)
{
    guard_tests();
    quarantine_tests();
    return check_done();
}
