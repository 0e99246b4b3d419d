/* tarn-test: host-only */
/*
 * tests/test_mt_lfblock_word32.c - test_mt_lfblock.c with a 32-bit head word (index and
 * tag packed as on Cortex-M3/M4 and RV32IMAC), on the host's threads.
 */
#define TARN_LFBLOCK_WORD_BITS 32
#include "lfblock.c"
#include "test_mt_lfblock.c"
