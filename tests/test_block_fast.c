/*
 * tests/test_block_fast.c - the whole block pool test with the inline fast paths of get
 * and put in use.  Host builds usually annotate pools for Valgrind or ASan
 * (TARN_SANITIZE), which sends every get and put through the full path in block.c; this
 * file compiles src/block.c itself without the annotations, so that the inline code of
 * block.h is what test_block.c exercises.
 */
#undef TARN_SANITIZE
#define TARN_SANITIZE 0
#include "block.c"

#include "test_block.c"
