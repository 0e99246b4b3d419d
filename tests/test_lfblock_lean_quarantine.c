/*
 * tests/test_lfblock_lean_quarantine.c - the lock-free pool's debug quarantine at checking
 * level 0, where put validates nothing else: a second put of a held block must still be
 * refused (put's claim of the held state), and everything test_lfblock_quarantine.c checks
 * must hold.  This file compiles src/lfblock.c itself, with the quarantine and poisoning
 * forced on.
 */
#undef TARN_CHECK_LEVEL
#undef TARN_QUARANTINE
#undef TARN_POISON_FREE
#define TARN_CHECK_LEVEL 0
#define TARN_QUARANTINE 4
#define TARN_POISON_FREE 1
#include "lfblock.c"

#define TEST_LFBLOCK_NO_MAIN 1
#include "test_lfblock_quarantine.c"

int main(void)
{
    lfblock_quarantine_tests();
    return check_done();
}
