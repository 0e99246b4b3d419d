/*
 * fuzz/fuzz_common.h - what every fuzz target shares: the input reader, the failure
 * report, and the operation counter.
 *
 * A target (fuzz/fuzz_<m>.c) defines LLVMFuzzerTestOneInput and includes this header
 * exactly once.  It decodes the input bytes into a sequence of operations on one module,
 * runs each one, and checks every result against a simple model of the pool; any
 * mismatch ends the program through FZ_CHECK/fz_fail with a message on stderr and
 * abort(), which libFuzzer and the replay test both report as a failure.
 *
 * The same file builds two ways:
 *   - with libFuzzer (`make fuzz`: clang -fsanitize=fuzzer,address,undefined and
 *     -DTARN_FUZZ_LIBFUZZER): at exit the number of operations run is printed;
 *   - as a replay program linked with fuzz/replay.c (CTest `replay_<m>`), which runs
 *     every file of fuzz/corpus/<m>/ through the target and prints the same count.
 *
 * Reading past the end of the input yields zeros, so every input decodes to something
 * and an empty tail simply ends the sequence (the targets stop when fz_empty()).
 */
#ifndef TARN_FUZZ_COMMON_H
#define TARN_FUZZ_COMMON_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tarn/tarn.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/** Operations decoded and run so far by this process (all inputs together). */
unsigned long long tarn_fuzz_ops = 0;

#ifdef TARN_FUZZ_LIBFUZZER
/* libFuzzer exits through exit() when its time is up: report the count then. */
__attribute__((destructor)) static void fz_report_ops(void)
{
    fprintf(stderr, "tarn-fuzz: operations: %llu\n", tarn_fuzz_ops);
}
#endif

/** Trace of the operations, for reading a crashing input: build the replay program with
 *  -DTARN_FUZZ_TRACE and run it on the input alone. */
#ifdef TARN_FUZZ_TRACE
#define FZ_TRACE(...) fprintf(stderr, __VA_ARGS__)
#else
#define FZ_TRACE(...) ((void)0)
#endif

/** The undecoded rest of one input. */
typedef struct fz_in {
    const uint8_t *p;
    size_t n;
} fz_in;

static inline void fz_start(fz_in *in, const uint8_t *data, size_t size)
{
    in->p = data;
    in->n = size;
}

static inline int fz_empty(const fz_in *in) { return in->n == 0; }

static inline uint8_t fz_u8(fz_in *in)
{
    uint8_t v = 0;
    if (in->n > 0) {
        v = in->p[0];
        in->p++;
        in->n--;
    }
    return v;
}

static inline uint16_t fz_u16(fz_in *in)
{
    uint16_t lo = fz_u8(in);
    return (uint16_t)(lo | (uint16_t)(fz_u8(in) << 8));
}

static inline uint32_t fz_u32(fz_in *in)
{
    uint32_t lo = fz_u16(in);
    return lo | ((uint32_t)fz_u16(in) << 16);
}

/** A value in [0, n) (n > 0) from one byte, or two bytes when n > 256. */
static inline uint32_t fz_below(fz_in *in, uint32_t n)
{
    return (n <= 256u ? (uint32_t)fz_u8(in) : (uint32_t)fz_u16(in)) % n;
}

/** Report a model mismatch and stop. */
static inline void fz_fail(const char *file, int line, const char *what, long long a,
                           long long b)
{
    fprintf(stderr, "%s:%d: fuzz model mismatch: %s (%lld vs %lld) after %llu operations\n",
            file, line, what, a, b, tarn_fuzz_ops);
    fflush(stderr);
    abort();
}

/** Abort with a message unless cond holds. */
#define FZ_CHECK(cond)                                                        \
    do {                                                                      \
        if (!(cond)) fz_fail(__FILE__, __LINE__, #cond, 0, 0);                \
    } while (0)

/** Abort with both values unless a == b. */
#define FZ_EQ(a, b)                                                           \
    do {                                                                      \
        long long fz_a_ = (long long)(a), fz_b_ = (long long)(b);             \
        if (fz_a_ != fz_b_) fz_fail(__FILE__, __LINE__, #a " == " #b, fz_a_, fz_b_); \
    } while (0)

/** Abort unless status st equals the expected status ex (names both). */
#define FZ_ST(st, ex)                                                         \
    do {                                                                      \
        tarn_status fz_s_ = (st), fz_e_ = (ex);                               \
        if (fz_s_ != fz_e_) {                                                 \
            fprintf(stderr, "%s:%d: got %s, expected %s\n", __FILE__, __LINE__, \
                    tarn_strerror(fz_s_), tarn_strerror(fz_e_));              \
            fz_fail(__FILE__, __LINE__, #st, (long long)fz_s_, (long long)fz_e_); \
        }                                                                     \
    } while (0)

/* ---- models of pools of fixed-size blocks ------------------------------------------- */
/* The k-th of the n entries of state[] (k taken modulo how many there are) whose value s
 * has bit s set in `mask`, as an index, or -1 when none has. */
static inline long fz_pick_state(const unsigned char *state, uint32_t n, unsigned mask,
                                 uint32_t k)
{
    uint32_t i, hits = 0;
    for (i = 0; i < n; i++) hits += (mask >> state[i]) & 1u;
    if (hits == 0) return -1;
    k %= hits;
    for (i = 0; i < n; i++) {
        if ((mask >> state[i]) & 1u) {
            if (k == 0) return (long)i;
            k--;
        }
    }
    return -1;
}

/* An offset in [-slack, span + slack) taken from the input (one u32), for probing what a
 * pool spanning `span` bytes owns. */
static inline long fz_offset_around(fz_in *in, size_t span, size_t slack)
{
    return (long)(fz_u32(in) % (uint32_t)(span + 2u * slack)) - (long)slack;
}

/* The index of the bs-byte block starting at offset off of a run of span bytes of such
 * blocks, or -1 when no block starts there. */
static inline long fz_block_at(long off, size_t span, size_t bs)
{
    if (off >= 0 && (size_t)off < span && (size_t)off % bs == 0) return off / (long)bs;
    return -1;
}

/* The owns/index probe of a pool of fixed-size blocks, for the API of prefix `api`
 * (tarn_block, tarn_lfblock): at offset off (fz_offset_around) from base, the first block
 * of a run of span bytes of bs-byte blocks, index must name the block starting there (-1
 * when none) and owns must agree.  A pool that failed to initialize (ok false) owns
 * nothing: probed at off from `failed` instead. */
#define FZ_CHECK_OWNS(api, pool, ok, base, failed, off, span, bs)            \
    do {                                                                      \
        const unsigned char *fz_p_;                                           \
        long fz_ex_;                                                          \
        if (!(ok)) {                                                          \
            fz_p_ = (failed) + (off);                                         \
            FZ_CHECK(!api##_owns((pool), fz_p_));                             \
            FZ_EQ(api##_index((pool), fz_p_), -1);                            \
            break;                                                            \
        }                                                                     \
        fz_p_ = (base) + (off);                                               \
        fz_ex_ = fz_block_at((off), (span), (bs));                            \
        FZ_EQ(api##_index((pool), fz_p_), fz_ex_);                            \
        FZ_EQ(api##_owns((pool), fz_p_), fz_ex_ >= 0);                        \
    } while (0)

/* ---- user data patterns: detect any byte of a live allocation changed behind its
 * owner's back (overlapping allocations, metadata written into live memory). ---------- */
static inline unsigned char fz_pat(uint32_t tag, size_t i)
{
    uint32_t x = tag * 0x9E3779B1u + (uint32_t)i * 0x85EBCA77u;
    x ^= x >> 15;
    return (unsigned char)(x ^ (x >> 8));
}

static inline void fz_fill(void *p, size_t n, uint32_t tag)
{
    unsigned char *b = (unsigned char *)p;
    size_t i;
    for (i = 0; i < n; i++) b[i] = fz_pat(tag, i);
}

/** Index of the first byte of [p, p+n) that differs from the pattern, or n. */
static inline size_t fz_verify(const void *p, size_t n, uint32_t tag)
{
    const unsigned char *b = (const unsigned char *)p;
    size_t i;
    for (i = 0; i < n; i++) {
        if (b[i] != fz_pat(tag, i)) return i;
    }
    return n;
}

#define FZ_VERIFY(p, n, tag) FZ_EQ(fz_verify((p), (n), (tag)), (n))

/* ---- a lock hook that proves balance: never nested, never left held ------------------ */
typedef struct fz_lock {
    int depth;
    unsigned long taken;
} fz_lock;

static inline void fz_lock_take(void *ctx)
{
    fz_lock *l = (fz_lock *)ctx;
    FZ_EQ(l->depth, 0);
    l->depth = 1;
    l->taken++;
}

static inline void fz_lock_give(void *ctx)
{
    fz_lock *l = (fz_lock *)ctx;
    FZ_EQ(l->depth, 1);
    l->depth = 0;
}

static inline tarn_lock fz_lock_hook(fz_lock *l)
{
    tarn_lock h;
    h.lock = fz_lock_take;
    h.unlock = fz_lock_give;
    h.ctx = l;
    return h;
}

#endif /* TARN_FUZZ_COMMON_H */
