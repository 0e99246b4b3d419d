/* tarn-test: host-only */
/*
 * tests/test_mt_lfblock_fallback.c - test_mt_lfblock.c on the lock-hook fallback build
 * (what Cortex-M0/M0+ get), with the pthread mutex hook of ports/posix.
 */
#define TARN_LFBLOCK_WORD_BITS 0
#include "lfblock.c"
#include "test_mt_lfblock.c"
