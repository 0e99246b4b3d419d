/* tarn-test: host-only */
/*
 * tests/test_mt_mix_fallback.c - test_mt_mix.c with the lock-free pool built as its
 * lock-hook fallback (what Cortex-M0/M0+ get), so that its calls, bad puts and
 * last_error run under a counting pthread hook like the other modules'.
 */
#define TARN_LFBLOCK_WORD_BITS 0
#include "lfblock.c"
#include "test_mt_mix.c"
