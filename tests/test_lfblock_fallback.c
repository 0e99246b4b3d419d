/*
 * tests/test_lfblock_fallback.c - the lock-free pool's fallback build (what Cortex-M0/M0+
 * get: no lock-free CAS, get/put under the config's lock hook), on any host: the whole
 * single-context suite of test_lfblock.c, which also checks that the hook is required
 * and taken exactly once per get and put.
 */
#define TARN_LFBLOCK_WORD_BITS 0
#include "lfblock.c"
#include "test_lfblock.c"
