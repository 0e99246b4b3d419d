/*
 * tests/support/poke.h - the memory error a test simulates (a write into a guard, a freed
 * block or metadata), made past the memory tools: the bytes are opened for ASan/Valgrind
 * for the write and closed again.  Header only; include after the module under test.
 */
#ifndef TARN_TESTS_POKE_H
#define TARN_TESTS_POKE_H
#include <stddef.h>
#include <string.h>
#include "internal.h"

/* Write the n bytes at src to p, which the user may not touch. */
static inline void test_poke(void *p, const void *src, size_t n)
{
    TARN_SAN_OPEN(p, n);
    memcpy(p, src, n);
    TARN_SAN_CLOSE(p, n);
}

/* Write the byte v at p, which the user may not touch. */
static inline void test_poke8(void *p, unsigned char v)
{
    test_poke(p, &v, 1);
}
#endif
