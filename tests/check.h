/*
 * tests/check.h - the one shared check header of tarn's tests.
 *
 * Each test is a plain C program that needs only the library (so it can run on a
 * microcontroller too).  CHECK(cond) records a failure with file/line and goes on;
 * REQUIRE(cond) stops the test.  Return check_done() from main.  Randomized tests
 * scale their length by TARN_TEST_SCALE (1 on the host, larger under Valgrind or QEMU)
 * and use check_rand(), a seeded xorshift generator, so every run is reproducible.
 * The C++ tests (port_cpp_*.cpp) include it too.
 */
#ifndef TARN_TESTS_CHECK_H
#define TARN_TESTS_CHECK_H

#include <stdio.h>
#include <stdlib.h>
#include <stdint.h>
#include <string.h>

#ifndef TARN_TEST_SCALE
#define TARN_TEST_SCALE 1
#endif
/** Iterations for a randomized test: n on the host, n / TARN_TEST_SCALE elsewhere. */
#define CHECK_ITERS(n) (((n) / TARN_TEST_SCALE) > 0 ? ((n) / TARN_TEST_SCALE) : 1)

static unsigned long check_failures_;
static unsigned long check_count_;

#define CHECK(cond)                                                              \
    do {                                                                         \
        check_count_++;                                                          \
        if (!(cond)) {                                                           \
            check_failures_++;                                                   \
            if (check_failures_ <= 20) {                                         \
                fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); \
            }                                                                    \
        }                                                                        \
    } while (0)

#define REQUIRE(cond)                                                            \
    do {                                                                         \
        check_count_++;                                                          \
        if (!(cond)) {                                                           \
            fprintf(stderr, "%s:%d: REQUIRE failed: %s\n", __FILE__, __LINE__, #cond); \
            exit(1);                                                             \
        }                                                                        \
    } while (0)

/** CHECK that two integer expressions are equal, printing both on failure. */
#define CHECK_EQ(a, b)                                                           \
    do {                                                                         \
        long long check_a_ = (long long)(a), check_b_ = (long long)(b);          \
        check_count_++;                                                          \
        if (check_a_ != check_b_) {                                              \
            check_failures_++;                                                   \
            if (check_failures_ <= 20) {                                         \
                fprintf(stderr, "%s:%d: CHECK_EQ failed: %s == %s (%lld != %lld)\n", \
                        __FILE__, __LINE__, #a, #b, check_a_, check_b_);         \
            }                                                                    \
        }                                                                        \
    } while (0)

static uint64_t check_rng_state_ = 0x9E3779B97F4A7C15ull;
static inline void check_seed(uint64_t s) { check_rng_state_ = s ? s : 1u; }
/** xorshift64* on the state *s (nonzero): deterministic, fast, good enough for test
 *  workloads.  Re-entrant: threads and handlers each keep a state of their own. */
static inline uint64_t check_rand_r(uint64_t *s)
{
    uint64_t x = *s;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *s = x;
    return x * 0x2545F4914F6CDD1Dull;
}
/** check_rand_r on the test's one seeded state (check_seed). */
static inline uint64_t check_rand(void) { return check_rand_r(&check_rng_state_); }
/** Uniform integer in [0, n) for n > 0. */
static inline uint32_t check_below(uint32_t n) { return (uint32_t)((check_rand() >> 32) % n); }

/** Fill/verify a block with a pattern derived from a tag: detects any overwrite. */
static inline void check_fill(void *p, size_t n, uint32_t tag)
{
    unsigned char *b = (unsigned char *)p;
    size_t i;
    for (i = 0; i < n; i++) b[i] = (unsigned char)(tag * 31u + i * 7u + (tag >> 8));
}
static inline int check_verify(const void *p, size_t n, uint32_t tag)
{
    const unsigned char *b = (const unsigned char *)p;
    size_t i;
    for (i = 0; i < n; i++) {
        if (b[i] != (unsigned char)(tag * 31u + i * 7u + (tag >> 8))) return 0;
    }
    return 1;
}

static inline int check_done(void)
{
    if (check_failures_ != 0) {
        fprintf(stderr, "FAILED: %lu of %lu checks\n", check_failures_, check_count_);
        return 1;
    }
    printf("ok: %lu checks\n", check_count_);
    return 0;
}

#endif /* TARN_TESTS_CHECK_H */
