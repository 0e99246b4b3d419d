/*
 * tests/test_lfblock_debug.c - canary mode of the lock-free block pool in every build:
 * this file compiles src/lfblock.c itself with TARN_GUARD forced on, then runs the tests
 * of test_lfblock_guard.c, so they run under gcc, clang, ASan and Valgrind too.
 */
#undef TARN_GUARD
#define TARN_GUARD 1
#include "lfblock.c"

#define TEST_LFBLOCK_NO_MAIN 1
#include "test_lfblock_guard.c"

int main(void)
{
    lfblock_guard_tests();
    return check_done();
}
