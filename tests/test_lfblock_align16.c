/*
 * tests/test_lfblock_align16.c - the lock-free pool built with TARN_ALIGN 16, on any host:
 * the whole single-context suite of test_lfblock.c.  Its state words round up to 16 bytes
 * while strides are multiples of 4, so for small blocks init's first guess of the block
 * count can be several blocks too many (test_fit: every buffer of exactly
 * TARN_LFBLOCK_POOL_BYTES(n, size) gives n blocks, one byte less n - 1).
 */
#define TARN_ALIGN 16u
#include "lfblock.c"
#include "test_lfblock.c"
