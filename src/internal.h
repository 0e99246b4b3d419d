/*
 * src/internal.h - private helpers shared by every tarn module (not installed).
 *
 *  - bit scans (clz/ctz/log2) with compiler intrinsics and portable C fallbacks;
 *  - lock-hook helpers;
 *  - sanitizer annotations: which pool bytes are live, for AddressSanitizer (manual
 *    poisoning) and Valgrind memcheck (mempool client requests);
 *  - compile-time assertions and branch hints.
 *
 * Every TARN_SAN_* macro is a statement (use it followed by ';', not inside an expression).
 *
 * Sanitizer model used by every module
 *  - At init the whole managed buffer becomes NOACCESS (except control structures that
 *    live inside it, which the module marks DEFINED).
 *  - TARN_SAN_ALLOC(pool, p, n): bytes [p, p+n) become a live block (UNDEFINED contents).
 *  - TARN_SAN_FREE(pool, p, n): the block becomes NOACCESS again.
 *  - Metadata stored inside free memory (free-list links, headers) is opened with
 *    TARN_SAN_OPEN(p, n) right before the allocator touches it and closed with
 *    TARN_SAN_CLOSE(p, n) right after, so user code touching it is reported.
 */
#ifndef TARN_INTERNAL_H
#define TARN_INTERNAL_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

#include "tarn/tarn.h"

/* <string.h>: the only libc header the library uses.  A freestanding toolchain without
 * a C library (riscv64-unknown-elf here) still has to provide these four functions, which
 * GCC and Clang may emit calls to on their own, so declaring them is enough. */
#if defined(__has_include)
#if __has_include(<string.h>)
#include <string.h>
#define TARN_HAVE_STRING_H_ 1
#endif
#else
#include <string.h>
#define TARN_HAVE_STRING_H_ 1
#endif
#ifndef TARN_HAVE_STRING_H_
void *memcpy(void *dst, const void *src, size_t n);
void *memmove(void *dst, const void *src, size_t n);
void *memset(void *dst, int c, size_t n);
int memcmp(const void *a, const void *b, size_t n);
#endif

/* ---- compiler helpers -------------------------------------------------------------- */
#if defined(__GNUC__) || defined(__clang__)
#define TARN_LIKELY(x) __builtin_expect(!!(x), 1)
#define TARN_UNLIKELY(x) __builtin_expect(!!(x), 0)
#define TARN_UNUSED __attribute__((unused))
#define TARN_MAY_ALIAS __attribute__((__may_alias__))
#else
#define TARN_LIKELY(x) (x)
#define TARN_UNLIKELY(x) (x)
#define TARN_UNUSED
#define TARN_MAY_ALIAS
#endif
/* A word of user data of any type (the word copies of -Os builds read and write it). */
typedef uint32_t TARN_MAY_ALIAS tarn_uword;

/* Copy n bytes (a multiple of 4, both addresses 4-aligned) a word at a time, front to
 * back: right for disjoint ranges and for a copy down (d <= s).  The copy of the -Os
 * builds that link no libc memcpy/memmove; the stores are volatile so that no compiler
 * turns the loop back into the library call. */
static inline void tarn_words_fwd(void *d, const void *s, size_t n)
{
    volatile tarn_uword *dw = (volatile tarn_uword *)d;
    const tarn_uword *sw = (const tarn_uword *)s;
    size_t i;
    for (i = 0; i < n / sizeof(tarn_uword); i++) dw[i] = sw[i];
}

/* A pool's last_error: written by a failing call (under the pool's lock, when it has one)
 * and read by tarn_<module>_last_error without the lock.  Relaxed atomic accesses (a plain
 * load or store on every target tarn builds for) make that read race-free; they order
 * nothing, and last_error is only meaningful to a single-threaded caller anyway. */
#if (defined(__GNUC__) || defined(__clang__)) && defined(__GCC_ATOMIC_CHAR_LOCK_FREE) && \
    __GCC_ATOMIC_CHAR_LOCK_FREE == 2
#define TARN_ERR_SET(lv, st) __atomic_store_n(&(lv), (st), __ATOMIC_RELAXED)
#define TARN_ERR_GET(lv) ((tarn_status)__atomic_load_n(&(lv), __ATOMIC_RELAXED))
#elif defined(__GNUC__) || defined(__clang__)
/* Cores without atomic instructions (ARMv6-M): clang would turn even a relaxed byte store
 * into a call to libatomic's __atomic_store_1; an aligned byte access is single-copy
 * atomic on every such core, so a volatile access is the same thing without the call. */
#define TARN_ERR_SET(lv, st) ((void)(*(volatile uint8_t *)&(lv) = (uint8_t)(st)))
#define TARN_ERR_GET(lv) ((tarn_status)(*(volatile const uint8_t *)&(lv)))
#else
#define TARN_ERR_SET(lv, st) ((void)((lv) = (st)))
#define TARN_ERR_GET(lv) ((tarn_status)(lv))
#endif

/* floor(n / d) for d > 0 by shift and subtract: the block pools' one division at init,
 * without pulling a library routine (or a 64-bit one) into the image of a part that has
 * no divide instruction. */
static inline TARN_UNUSED uint32_t tarn_udiv32(uint32_t n, uint32_t d)
{
    uint32_t q = 0, r = 0;
    int i;
    for (i = 31; i >= 0; i--) {
        r = (r << 1) | ((n >> i) & 1u);
        if (r >= d) {
            r -= d;
            q |= (uint32_t)1u << i;
        }
    }
    return q;
}

#define TARN_CAT_(a, b) a##b
#define TARN_CAT(a, b) TARN_CAT_(a, b)
/** C99-compatible static assertion usable at file scope. */
#define TARN_STATIC_ASSERT(cond, tag) \
    typedef char TARN_CAT(tarn_static_assert_, tag)[(cond) ? 1 : -1]

/* ---- bit scans ---------------------------------------------------------------------- */
/** Index of the highest set bit of x (x != 0): floor(log2(x)). */
static inline unsigned tarn_log2_u32(uint32_t x)
{
    TARN_ASSERT(x != 0u);
#if !TARN_NO_INTRINSICS && (defined(__GNUC__) || defined(__clang__))
    return 31u - (unsigned)__builtin_clz(x);
#else
    unsigned r = 0;
    if (x & 0xFFFF0000u) { x >>= 16; r += 16; }
    if (x & 0x0000FF00u) { x >>= 8; r += 8; }
    if (x & 0x000000F0u) { x >>= 4; r += 4; }
    if (x & 0x0000000Cu) { x >>= 2; r += 2; }
    if (x & 0x00000002u) { r += 1; }
    return r;
#endif
}

/** Index of the lowest set bit of x (x != 0). */
static inline unsigned tarn_ctz_u32(uint32_t x)
{
    TARN_ASSERT(x != 0u);
#if !TARN_NO_INTRINSICS && (defined(__GNUC__) || defined(__clang__))
    return (unsigned)__builtin_ctz(x);
#else
    return tarn_log2_u32(x & (0u - x));
#endif
}

/** Smallest power of two >= x, for 1 <= x <= 2^31. */
static inline uint32_t tarn_pow2_ceil_u32(uint32_t x)
{
    return (x <= 1u) ? 1u : (uint32_t)1u << (tarn_log2_u32(x - 1u) + 1u);
}

/* ---- exact divisibility without a divide (Lemire, Kaser, Kurz 2019) ----------------
 * For a 32-bit divisor d > 0 let M = floor((2^64 - 1) / d) + 1.  Then for any 32-bit n,
 * n % d == 0  <=>  n * M (mod 2^64) <= M - 1, and n / d == high 64 bits of n * M
 * computed as a 128-bit product (we only need divisibility and the quotient for
 * offsets below 2^32, computed here with one 32x32 multiply). */
static inline uint64_t tarn_divmagic(uint32_t d)
{
    return (UINT64_MAX / d) + 1u;
}
static inline bool tarn_divisible(uint32_t n, uint64_t magic)
{
    return (uint64_t)(n * magic) <= magic - 1u;
}

/* ---- lock hooks --------------------------------------------------------------------- */
#if TARN_LOCKING
#define TARN_LOCK(l)                               \
    do {                                           \
        if ((l).lock != NULL) { (l).lock((l).ctx); } \
    } while (0)
#define TARN_UNLOCK(l)                                   \
    do {                                                 \
        if ((l).unlock != NULL) { (l).unlock((l).ctx); } \
    } while (0)
#else
#define TARN_LOCK(l) ((void)0)
#define TARN_UNLOCK(l) ((void)0)
#endif

/** Validate a lock hook from a config: both callbacks or none. */
static inline bool tarn_lock_valid(const tarn_lock *l)
{
    return (l->lock == NULL) == (l->unlock == NULL);
}

/* ---- statistics -------------------------------------------------------------------- */
#if TARN_STATS
#define TARN_STAT(stmt) do { stmt; } while (0)
#else
#define TARN_STAT(stmt) ((void)0)
#endif

/* ---- poisoning of freed memory (for targets without sanitizers) --------------------- */
#if TARN_POISON_FREE
#define TARN_FILL_FREED(p, n) memset((p), (int)TARN_POISON_BYTE, (n))
#else
#define TARN_FILL_FREED(p, n) ((void)0)
#endif

/* ---- sanitizer annotations ----------------------------------------------------------- */
#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define TARN_HAVE_ASAN_ 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__) && !defined(TARN_HAVE_ASAN_)
#define TARN_HAVE_ASAN_ 1
#endif

#if !defined(TARN_HAVE_ASAN_) && defined(__has_include)
#if __has_include(<valgrind/memcheck.h>)
#define TARN_HAVE_VALGRIND_ 1
#endif
#endif

/* Default: annotate under AddressSanitizer only.  Valgrind annotations are opt-in
 * (TARN_SANITIZE 1): a host that merely has valgrind/memcheck.h installed would otherwise
 * pay for client requests on every call (the heap's about 450 instructions per call). */
#ifndef TARN_SANITIZE
#if defined(TARN_HAVE_ASAN_)
#define TARN_SANITIZE 1
#else
#define TARN_SANITIZE 0
#endif
#endif

#if TARN_SANITIZE && defined(TARN_HAVE_ASAN_)
#include <sanitizer/asan_interface.h>
#define TARN_SAN_POOL_CREATE(pool) ((void)(pool))
#define TARN_SAN_POOL_DESTROY(pool) ((void)(pool))
#define TARN_SAN_NOACCESS(p, n) ASAN_POISON_MEMORY_REGION((p), (n))
#define TARN_SAN_ALLOC(pool, p, n) ((void)(pool), ASAN_UNPOISON_MEMORY_REGION((p), (n)))
#define TARN_SAN_FREE(pool, p, n) ((void)(pool), ASAN_POISON_MEMORY_REGION((p), (n)))
#define TARN_SAN_OPEN(p, n) ASAN_UNPOISON_MEMORY_REGION((p), (n))
#define TARN_SAN_CLOSE(p, n) ASAN_POISON_MEMORY_REGION((p), (n))
#define TARN_SAN_DEFINED(p, n) ASAN_UNPOISON_MEMORY_REGION((p), (n))
/* A bad free of a poisoned (freed) block: touch it so that ASan reports it, with stack. */
#define TARN_SAN_REPORT_BAD_FREE(pool, p)                                                  \
    do {                                                                                   \
        (void)(pool);                                                                      \
        if ((p) != NULL && __asan_address_is_poisoned(p)) {                                \
            volatile unsigned char tarn_san_touch_ = *(const volatile unsigned char *)(p); \
            (void)tarn_san_touch_;                                                         \
        }                                                                                  \
    } while (0)
#elif TARN_SANITIZE && defined(TARN_HAVE_VALGRIND_)
#include <valgrind/memcheck.h>
/* A pool anchor may be re-initialised without being destroyed (static pools reset by
 * tests, stack buffers reused): drop the stale Valgrind pool first. */
#define TARN_SAN_POOL_CREATE(pool)                                          \
    do {                                                                    \
        if (VALGRIND_MEMPOOL_EXISTS(pool)) { VALGRIND_DESTROY_MEMPOOL(pool); } \
        VALGRIND_CREATE_MEMPOOL((pool), 0, 0);                              \
    } while (0)
#define TARN_SAN_POOL_DESTROY(pool)                                         \
    do {                                                                    \
        if (VALGRIND_MEMPOOL_EXISTS(pool)) { VALGRIND_DESTROY_MEMPOOL(pool); } \
    } while (0)
#define TARN_SAN_NOACCESS(p, n) ((void)VALGRIND_MAKE_MEM_NOACCESS((p), (n)))
#define TARN_SAN_ALLOC(pool, p, n) \
    do { VALGRIND_MEMPOOL_ALLOC((pool), (p), (n)); } while (0)
#define TARN_SAN_FREE(pool, p, n) \
    do { (void)(n); VALGRIND_MEMPOOL_FREE((pool), (p)); } while (0)
#define TARN_SAN_OPEN(p, n) ((void)VALGRIND_MAKE_MEM_DEFINED((p), (n)))
#define TARN_SAN_CLOSE(p, n) ((void)VALGRIND_MAKE_MEM_NOACCESS((p), (n)))
#define TARN_SAN_DEFINED(p, n) ((void)VALGRIND_MAKE_MEM_DEFINED((p), (n)))
/* A bad free: hand it to memcheck's pool tracking, which reports "Invalid free()". */
#define TARN_SAN_REPORT_BAD_FREE(pool, p) \
    do { VALGRIND_MEMPOOL_FREE((pool), (p)); } while (0)
#else
#undef TARN_SANITIZE
#define TARN_SANITIZE 0
#define TARN_SAN_POOL_CREATE(pool) ((void)(pool))
#define TARN_SAN_POOL_DESTROY(pool) ((void)(pool))
#define TARN_SAN_NOACCESS(p, n) ((void)(p), (void)(n))
#define TARN_SAN_ALLOC(pool, p, n) ((void)(pool), (void)(p), (void)(n))
#define TARN_SAN_FREE(pool, p, n) ((void)(pool), (void)(p), (void)(n))
#define TARN_SAN_OPEN(p, n) ((void)(p), (void)(n))
#define TARN_SAN_CLOSE(p, n) ((void)(p), (void)(n))
#define TARN_SAN_DEFINED(p, n) ((void)(p), (void)(n))
#define TARN_SAN_REPORT_BAD_FREE(pool, p) ((void)(pool), (void)(p))
#endif

/*
 * tarn_san_peek: copy n bytes from memory whose sanitizer state is unknown (a pointer
 * handed back by the user may be a live block or a free one) WITHOUT changing that state
 * and without a report.  Use it for O(1) validation reads; use TARN_SAN_OPEN/CLOSE only
 * on memory known to be free or metadata.
 */
#if TARN_SANITIZE && defined(TARN_HAVE_ASAN_)
__attribute__((no_sanitize_address, noinline, unused)) static void
tarn_san_peek(void *dst, const void *src, size_t n)
{
    const volatile unsigned char *s = (const volatile unsigned char *)src;
    unsigned char *d = (unsigned char *)dst;
    while (n-- > 0) *d++ = *s++;
}
#elif TARN_SANITIZE && defined(TARN_HAVE_VALGRIND_)
static inline void tarn_san_peek(void *dst, const void *src, size_t n)
{
    VALGRIND_DISABLE_ERROR_REPORTING;
    memcpy(dst, src, n);
    VALGRIND_ENABLE_ERROR_REPORTING;
    (void)VALGRIND_MAKE_MEM_DEFINED(dst, n);
}
#else
static inline void tarn_san_peek(void *dst, const void *src, size_t n)
{
    memcpy(dst, src, n);
}
#endif

/* ---- byte patterns: guard bytes and poisoned (quarantined) blocks --------------------- */
/*
 * True when the n bytes at p all equal `byte`.  Reads through tarn_san_peek, so the bytes
 * may be poisoned (guard bytes and quarantined blocks are) and their state is left alone.
 */
static inline bool tarn_bytes_are(const void *p, size_t n, unsigned byte)
{
    const unsigned char *s = (const unsigned char *)p;
    unsigned char buf[32];
    size_t off, i;
    for (off = 0; off < n; off += sizeof buf) {
        size_t k = n - off;
        if (k > sizeof buf) k = sizeof buf;
        tarn_san_peek(buf, s + off, k);
        for (i = 0; i < k; i++) {
            if (buf[i] != (unsigned char)byte) return false;
        }
    }
    return true;
}

#if TARN_GUARD
/* Write the guard bytes [p, p + n) (memory the pool owns; left as the caller found it). */
static inline void tarn_guard_fill(void *p, size_t n)
{
    TARN_SAN_OPEN(p, n);
    memset(p, (int)TARN_GUARD_BYTE, n);
    TARN_SAN_CLOSE(p, n);
}
/* True when the guard bytes [p, p + n) are intact. */
static inline bool tarn_guard_intact(const void *p, size_t n)
{
    return tarn_bytes_are(p, n, TARN_GUARD_BYTE);
}
#endif

/* ---- debug quarantine (TARN_QUARANTINE, TARN_F_QUARANTINE) ------------------------------ */
#if TARN_QUARANTINE > 0
/* Set up an empty ring; on = the pool was given TARN_F_QUARANTINE. */
static inline void tarn_q_init(tarn_quarantine *q, uint32_t flags)
{
    q->first = 0;
    q->count = 0;
    q->on = (flags & TARN_F_QUARANTINE) != 0u;
}
/* Slot of the i-th held block, 0 = oldest (i < count). */
static inline void *tarn_q_at(const tarn_quarantine *q, unsigned i)
{
    return q->slot[(q->first + i) % TARN_QUARANTINE];
}
/* True when p is held (a second free of it is a double free).  O(TARN_QUARANTINE). */
static inline bool tarn_q_holds(const tarn_quarantine *q, const void *p)
{
    unsigned i;
    for (i = 0; i < q->count; i++) {
        if (tarn_q_at(q, i) == p) return true;
    }
    return false;
}
/* Release the oldest held block: returns it, or NULL when none is held. */
static inline void *tarn_q_pop(tarn_quarantine *q)
{
    void *p;
    if (q->count == 0) return NULL;
    p = q->slot[q->first];
    q->first = (uint16_t)((q->first + 1u) % TARN_QUARANTINE);
    q->count--;
    return p;
}
/* Hold p; when the ring was full, the oldest block is pushed out and returned (the caller
 * really frees it), else NULL. */
static inline void *tarn_q_push(tarn_quarantine *q, void *p)
{
    void *out = NULL;
    if (q->count == TARN_QUARANTINE) out = tarn_q_pop(q);
    q->slot[(q->first + q->count) % TARN_QUARANTINE] = p;
    q->count++;
    return out;
}
#endif

#endif /* TARN_INTERNAL_H */
