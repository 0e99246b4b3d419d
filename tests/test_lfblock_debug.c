/*
 * tests/test_lfblock_debug.c - the lock-free block pool's debug modes in every build: this
 * file compiles src/lfblock.c itself with canary mode (TARN_GUARD), the quarantine
 * (TARN_QUARANTINE) and freed-memory poisoning (TARN_POISON_FREE) forced on, then runs
 * the tests of test_lfblock_guard.c and test_lfblock_quarantine.c, so they run under gcc,
 * clang, ASan and Valgrind too.
 */
#undef TARN_GUARD
#undef TARN_QUARANTINE
#undef TARN_POISON_FREE
#define TARN_GUARD 1
#define TARN_QUARANTINE 8
#define TARN_POISON_FREE 1
#include "lfblock.c"

#define TEST_LFBLOCK_NO_MAIN 1
#include "test_lfblock_guard.c"
#include "test_lfblock_quarantine.c"

int main(void)
{
    lfblock_guard_tests();
    lfblock_quarantine_tests();
    return check_done();
}
