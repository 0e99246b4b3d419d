/*
 * tests/test_block_full.c - the whole block pool test through the full path alone: call
 * sites that do not inline get and put (TARN_BLOCK_INLINE 0, as under -Os) and
 * out-of-line entries without their common-case opening (TARN_BLOCK_FAST_ENTRY 0, as in
 * a library built with -Os), without sanitizer annotations (which would send everything
 * down the full path anyway).  Every get and put then runs block.c's full path, the code
 * that a size-optimised program and every pool with a lock hook depend on.
 */
#undef TARN_SANITIZE
#define TARN_SANITIZE 0
#define TARN_BLOCK_INLINE 0
#define TARN_BLOCK_FAST_ENTRY 0
#include "block.c"

#include "test_block.c"
