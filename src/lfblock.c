/*
 * src/lfblock.c - lock-free block pool (see include/tarn/lfblock.h for the contract).
 *
 * The only file of tarn that uses C11 <stdatomic.h>; the build compiles it as C11.
 *
 * Memory layout (mem aligned to TARN_ALIGN, N = count, S = block_size, a multiple of 4;
 * block i is aligned to the largest power of two dividing S, up to TARN_ALIGN):
 *
 *   mem                                   base = mem + META_BYTES(N)
 *   |                                     |
 *   v                                     v
 *   +------+------+-----+--------+-------+---------+---------+-----+-----------+-------
 *   | st 0 | st 1 | ... | st N-1 | (pad) | block 0 | block 1 | ... | block N-1 | unused
 *   +------+------+-----+--------+-------+---------+---------+-----+-----------+-------
 *    uint32_t state words, one per block   N blocks of S bytes; the pool never reads
 *    (never inside a block)                or writes a block's bytes (only the sanitizer
 *                                          annotations and TARN_POISON_FREE touch them)
 *                                          except, in canary mode (TARN_GUARD), its last
 *                                          TARN_LFBLOCK_GUARD bytes: guard bytes that get
 *                                          writes and put, validate and check verify
 *
 *   pool->head  = (tag << B) | top   B = index bits; top == N: the free list is empty
 *   pool->carve = C: blocks [C, N) were never handed out; their state words are garbage
 *
 *   state[i] for i < C:  USED (0xFFFFFFFF)  block i is handed out (or a get that has just
 *                                           taken it is about to mark it so)
 *                        j in [0, N]        block i is free (or a put is publishing it)
 *                                           and j is the next block of the free list
 *                                           (N = end of list)
 *
 * Invariants on a quiescent pool (checked by tarn_lfblock_check):
 *   - C <= N; following head then state[] from the top visits distinct blocks < C and
 *     ends at N; those blocks are exactly the carved blocks whose state is not USED;
 *   No counter is kept beside them: the statistics count the state words (free) and read
 *   C (the watermark: N - C, see get step 2).
 *
 * Algorithm (a Treiber stack of indices with a version tag; the Promela model of exactly
 * these steps is tests/spin/lfblock.pml):
 *
 *   get:  0. c = C (read before the list).
 *         1. h = head; loop: i = top(h); i == N: the list is empty, go to 2.
 *            next = state[i]; CAS head h -> (tag(h)+1, next); success: block i is ours;
 *            failure reloads h.
 *         2. while c < N: CAS carve c -> c+1; success: block c is ours (fresh); failure
 *            reloads c.  c == N: if c was N already at step 0, fail (empty: at the instant
 *            step 1 saw the empty list, C was N too, since C never decreases); else go
 *            back to 1 once (C == N from then on, so the next empty list is final).
 *            Blocks are carved only when the list was seen empty, so the most blocks ever
 *            out at once is C (exactly, in one context): the watermark needs no counter.
 *         3. state[i] = USED.
 *   put:  1. i = index of the pointer (O(1), rejects foreign/interior pointers);
 *            i >= C: never handed out, EDOUBLE.
 *         2. h = head; CAS state[i] USED -> top(h) (strong): failure means the block is
 *            not out (EDOUBLE); exactly one of two racing puts of one block wins here.
 *         3. loop: CAS head h -> (tag(h)+1, i); failure reloads h and stores
 *            state[i] = top(h) before retrying.
 *
 * LL/SC (TARN_LFBLOCK_LLSC 1: ARMv7-M/ARMv8-M mainline LDREX/STREX, RV32A LR.W/SC.W):
 *   get:  2. loop: h = LL head; acquire fence; i = top(h); i == N: empty (CLREX), fail.
 *            next = state[i]; link check (a bad link: SC head h, unchanged; success means
 *            nobody touched the head since the LL, so the link is damage: ECORRUPT);
 *            SC head (tag(h)+1, next); failure: retry from the LL.
 *   put:  3. link = top(h) (written by the claim); loop: release fence; h = LL head;
 *            top(h) != link: CLREX, state[i] = link = top(h), retry (the store stays
 *            outside the exclusive pair); SC head (tag(h)+1, i); failure: retry.
 *   The SC fails after any store to the head (any context, any core) and after any
 *   exception since the LL, so a pop never succeeds on a head that changed in its window:
 *   ABA-free however many operations happened meanwhile; the tag is kept and bumped but
 *   is not needed.  Between LL and SC there are only loads and register arithmetic (and,
 *   in test builds, the TARN_LFBLOCK_LLSC_HOOK call, which tests/test_lfblock_llsc.c uses
 *   to take an interrupt there).  Ordering: the acquire fence after get's LL stands for
 *   the acquire load; get's SC needs no release because the stored head depends on the
 *   link read (a data dependency both architectures keep in order); put's release fence
 *   stands for the CAS's release.  The Promela model checks this variant with -DLLSC
 *   (an SC fails if any process wrote the head since its LL), without a tag.
 *
 * Why the tag: without it, a get that read top A and next B and was pre-empted could,
 * after others took A, took B and put A back, swing the head to B while B is handed
 * out; or, reading the link of a block taken meanwhile, install a bogus head and lose
 * blocks (spin finds such interleavings in the untagged model of tests/spin).  With the
 * tag, its CAS can only succeed if the head word is bit-identical, i.e. no successful get
 * or put happened in between, or 2^T of them did (T = tag bits; the header documents this
 * bound).  Puts need no tag for their own safety but bump it too, which keeps the bound
 * a plain count of operations.
 *
 * Memory orders
 *   - head load in get: acquire, CAS success acq_rel, failure acquire.  Acquire makes the
 *     pusher's state[i] store (its link) and every write the previous owner made to the
 *     block visible: they are sequenced before the pusher's release CAS, and every later
 *     modification of head is a read-modify-write, so it continues that release sequence.
 *     Release on the get's CAS orders its (relaxed) read of state[i] before any later
 *     owner's write of state[i], so the link read can never come from the future.
 *   - head CAS in put: success release (publishes the link and the block's contents),
 *     failure relaxed (the reloaded head is only used to form the new link).
 *   - state[] accesses: relaxed, ordered by the head CASes as above, except two.  The
 *     USED store at get step 3 is a release and get's link-check loads of state[] are
 *     acquires: a get that sees a block marked USED then also sees the head CAS that took
 *     it, so "head unchanged" after a failed link check means damage, never a race with
 *     another get (on weakly ordered parts a relaxed pair would allow that).  The USED
 *     store reaches a later put of the same block through whatever synchronisation passed
 *     the pointer to the putting context (program order if it is the same one).
 *   - carve: relaxed; a carved block has no previous owner whose writes must be seen.
 *   - statistics and last_error: relaxed; they order nothing.
 *
 * Debug quarantine (TARN_QUARANTINE > 0, pool flag TARN_F_QUARANTINE; in the Promela model
 * with -DQ, and run by test_mt_lfblock_quarantine under ThreadSanitizer):
 *   state[i] = HELD (0xFFFFFFFE, never an index: count <= 2^30) while block i is held.
 *   q_slot[k] = i + 1 when slot k holds block i, 0 when empty; q_next = ring cursor.
 *   put:  the claim CAS of step 2 turns USED into HELD (so a second put, which finds HELD,
 *         is TARN_EDOUBLE, and of racing puts exactly one wins); then one exchange stores
 *         i + 1 into slot (q_next++ mod Q).  The value it returns names the block pushed
 *         out, which now belongs to this context alone: it is linked and pushed as in
 *         step 3.  So a block is at any instant on the list, handed out, in one slot, or
 *         owned by exactly one context moving it between those.
 *   get:  on an empty list, exchange 0 into the slots from the cursor on (oldest first);
 *         the first block found is handed out (USED) instead of failing.
 *   The exchanges are acq_rel: the putter's fill of the block (TARN_POISON_FREE) is
 *   visible to whoever takes it out and verifies it.  q_held counts the occupied slots
 *   (incremented by a put that found its slot empty, decremented by a take).
 *
 * Fallback (TARN_LFBLOCK_WORD_BITS 0, e.g. Cortex-M0+): the same steps, with the atomic
 * helpers below reduced to plain volatile accesses and get/put/validate/stats/check run
 * inside the lock hook, so no CAS ever fails and no atomic library call is emitted.
 */
#include <stdatomic.h>

#include "tarn/lfblock.h"
#include "internal.h"

/* Test hook, called between reading the head and changing it (between the LL and the
 * SC in the LL/SC build, between the load and the CAS elsewhere); op 0 = get, 1 = put.
 * Only test builds define it (tests/test_lfblock_llsc.c pends an interrupt there). */
#ifndef TARN_LFBLOCK_LLSC_HOOK
#define TARN_LFBLOCK_LLSC_HOOK(pool, op) ((void)0)
#endif

#define LF_USED 0xFFFFFFFFu
#define LF_HELD 0xFFFFFFFEu   /* held in the debug quarantine */
/* pool->flags: the cfg flags the pool uses, and the sticky CORRUPT bit, set when get found
 * a damaged link; from then on every get is refused until init. */
#define LF_F_KEPT (TARN_F_SAN_REPORT | TARN_F_QUARANTINE)
#define LF_F_CORRUPT 1u
TARN_STATIC_ASSERT((LF_F_KEPT & LF_F_CORRUPT) == 0u, corrupt_bit_is_free);
/* the inline get and put of lfblock.h spell these out (the header has no access to them) */
TARN_STATIC_ASSERT(LF_F_CORRUPT == 1u && LF_USED == 0xFFFFFFFFu && LF_HELD == 0xFFFFFFFEu,
                   inline_paths_agree);

TARN_STATIC_ASSERT(sizeof(uint32_t) == 4, u32_is_4_bytes);
TARN_STATIC_ASSERT(TARN_LFBLOCK_MAX_COUNT < LF_USED, used_marker_is_not_an_index);
/* init keeps count <= UINT32_MAX / block_size <= 2^30 (block_size >= 4), so no index or
 * end marker equals LF_HELD either */
TARN_STATIC_ASSERT(TARN_ALIGN >= 4u, held_marker_is_not_an_index);
TARN_STATIC_ASSERT(TARN_LFBLOCK_META_BYTES(3) == TARN_ALIGN_UP(12u, TARN_ALIGN), meta_bytes);

/* ---- atomic helpers ------------------------------------------------------------------ */
#if TARN_LFBLOCK_LOCK_FREE

/* The pool struct keeps plain integer fields so that its header stays C99; here they are
 * accessed as _Atomic objects of the same type.  That is sound only if the atomic type has
 * the same size and alignment and is lock-free (no hidden lock inside the object). */
TARN_STATIC_ASSERT(sizeof(_Atomic uint32_t) == sizeof(uint32_t), atomic_u32_size);
TARN_STATIC_ASSERT(_Alignof(_Atomic uint32_t) == _Alignof(uint32_t), atomic_u32_align);
TARN_STATIC_ASSERT(sizeof(_Atomic tarn_lfblock_word) == sizeof(tarn_lfblock_word), atomic_word_size);
/* The head field is declared aligned to its own size in the header, which is the most any
 * lock-free atomic of that size needs (8 for 64-bit words even on 32-bit x86). */
TARN_STATIC_ASSERT(offsetof(tarn_lfblock_pool, head) == 0, head_first_and_aligned);
#if ATOMIC_INT_LOCK_FREE != 2
#error "lfblock: the 32-bit CAS is not lock-free on this target; build with TARN_LFBLOCK_WORD_BITS=0"
#endif
#if TARN_LFBLOCK_WORD_BITS == 64 && ATOMIC_LLONG_LOCK_FREE != 2
#error "lfblock: the 64-bit CAS is not lock-free on this target; build with TARN_LFBLOCK_WORD_BITS=32"
#endif

#define MO_RLX memory_order_relaxed
#define MO_ACQ memory_order_acquire
#define MO_REL memory_order_release
#define MO_AR memory_order_acq_rel
typedef memory_order lf_mo;
typedef _Atomic uint32_t lf_a32;
typedef _Atomic tarn_lfblock_word lf_aw;

static inline uint32_t lf_ld32(const lf_a32 *p, lf_mo mo) { return atomic_load_explicit(p, mo); }
static inline void lf_st32(lf_a32 *p, uint32_t v, lf_mo mo) { atomic_store_explicit(p, v, mo); }
#if TARN_STATS || TARN_QUARANTINE > 0 /* the counters and the quarantine ring */
static inline uint32_t lf_add32(lf_a32 *p, uint32_t v) { return atomic_fetch_add_explicit(p, v, MO_RLX); }
#endif
#if TARN_QUARANTINE > 0 /* the ring's count of held blocks */
static inline uint32_t lf_sub32(lf_a32 *p, uint32_t v) { return atomic_fetch_sub_explicit(p, v, MO_RLX); }
#endif
#if TARN_CHECK_LEVEL >= 1 /* sets the sticky damage bit */
static inline void lf_or32(lf_a32 *p, uint32_t v) { (void)atomic_fetch_or_explicit(p, v, MO_RLX); }
#endif
#if TARN_QUARANTINE > 0
static inline uint32_t lf_xchg32(lf_a32 *p, uint32_t v, lf_mo mo) { return atomic_exchange_explicit(p, v, mo); }
#endif
#if TARN_LFBLOCK_LLSC
/* Load-linked / store-conditional of the 32-bit head word (see "LL/SC" below).  Each is
 * one instruction in its own asm statement with a memory clobber, so the compiler keeps
 * every access to the pool between them in program order.  lf_sc is true when the store
 * happened. */
static inline uint32_t lf_ll(const tarn_lfblock_word *p)
{
    uint32_t v;
#if defined(__arm__)
    __asm__ __volatile__("ldrex %0, [%1]" : "=r"(v) : "r"(p) : "memory");
#else
    __asm__ __volatile__("lr.w %0, (%1)" : "=r"(v) : "r"(p) : "memory");
#endif
    return v;
}
static inline bool lf_sc(tarn_lfblock_word *p, uint32_t v)
{
    uint32_t fail;
#if defined(__arm__)
    __asm__ __volatile__("strex %0, %2, [%1]" : "=&r"(fail) : "r"(p), "r"(v) : "memory");
#else
    __asm__ __volatile__("sc.w %0, %2, (%1)" : "=&r"(fail) : "r"(p), "r"(v) : "memory");
#endif
    return fail == 0u;
}
/* Give up the reservation without storing to the head, on every path that leaves the LL
 * without its SC.  ARM: CLREX.  RISC-V has no such instruction; any SC ends the hart's
 * reservation, so store-conditional to a scratch word (on which no reservation is held,
 * so it fails; if an implementation's reservation set covered it, it would store 0 into
 * the scratch word, which nobody reads).  Without this, a handler that ends with an LR of
 * the head and no SC would leave its own reservation for the context it interrupted to
 * "succeed" on (QEMU's LR/SC emulation does exactly that; tests/test_lfblock_llsc.c
 * catches it). */
static inline void lf_clrex(void)
{
#if defined(__arm__)
    __asm__ __volatile__("clrex" ::: "memory");
#else
    uint32_t scratch = 0u, fail;
    __asm__ __volatile__("sc.w %0, zero, (%1)" : "=&r"(fail) : "r"(&scratch) : "memory");
    (void)fail;
#endif
}
#endif

/* A compare-and-swap whose compare failed leaves, as compiled by gcc for ARM (LDREX, compare,
 * no STREX, no CLREX) and RISC-V (LR.W, compare, no SC.W), a reservation open.  In the LL/SC
 * build that matters: a handler that returns with one (a double put's failed claim, a carve
 * CAS beaten by a nested interrupt) can leave the context it interrupted, which
 * is between its LL and SC of the head, an SC that pairs with the handler's load instead
 * of its own (RISC-V: xRET need not clear reservations, and the reservation set may cover
 * the head when the word is in the same granule).  So every failed CAS gives it up. */
#if TARN_LFBLOCK_LLSC
#define LF_CAS_FAILED(done) do { if (!(done)) lf_clrex(); } while (0)
#else
#define LF_CAS_FAILED(done) ((void)0)
#endif
/* Weak CAS: may fail spuriously (LL/SC); used only inside retry loops.  On failure *exp
 * receives the value found. */
static inline bool lf_cas32w(lf_a32 *p, uint32_t *exp, uint32_t des, lf_mo ok, lf_mo bad)
{
    uint32_t e = *exp;
    bool done = atomic_compare_exchange_weak_explicit(p, &e, des, ok, bad);
    *exp = e;
    LF_CAS_FAILED(done);
    return done;
}
#if TARN_CHECK_LEVEL >= 1 || TARN_QUARANTINE > 0
/* Strong CAS: fails only if *p != *exp; used where a failure is reported to the caller. */
static inline bool lf_cas32s(lf_a32 *p, uint32_t *exp, uint32_t des, lf_mo ok, lf_mo bad)
{
    uint32_t e = *exp;
    bool done = atomic_compare_exchange_strong_explicit(p, &e, des, ok, bad);
    *exp = e;
    LF_CAS_FAILED(done);
    return done;
}
#endif
static inline tarn_lfblock_word lf_ldw(const lf_aw *p, lf_mo mo) { return atomic_load_explicit(p, mo); }
static inline void lf_stw(lf_aw *p, tarn_lfblock_word v, lf_mo mo) { atomic_store_explicit(p, v, mo); }
#if !TARN_LFBLOCK_LLSC /* the LL/SC build changes the head with lf_ll/lf_sc only */
static inline bool lf_casww(lf_aw *p, tarn_lfblock_word *exp, tarn_lfblock_word des, lf_mo ok,
                            lf_mo bad)
{
    tarn_lfblock_word e = *exp;
    bool done = atomic_compare_exchange_weak_explicit(p, &e, des, ok, bad);
    *exp = e;
    return done;
}
#endif
#define LF_LOCK(pool) ((void)0)
#define LF_UNLOCK(pool) ((void)0)


#else /* fallback: everything below runs under the pool's lock hook */

typedef int lf_mo;
#define MO_RLX 0
#define MO_ACQ 0
#define MO_REL 0
#define MO_AR 0
typedef volatile uint32_t lf_a32;
typedef volatile tarn_lfblock_word lf_aw;
static inline uint32_t lf_ld32(const lf_a32 *p, lf_mo mo) { (void)mo; return *p; }
static inline void lf_st32(lf_a32 *p, uint32_t v, lf_mo mo) { (void)mo; *p = v; }
#if TARN_STATS || TARN_QUARANTINE > 0 /* the counters and the quarantine ring */
static inline uint32_t lf_add32(lf_a32 *p, uint32_t v) { uint32_t o = *p; *p = o + v; return o; }
#endif
#if TARN_QUARANTINE > 0 /* the ring's count of held blocks */
static inline uint32_t lf_sub32(lf_a32 *p, uint32_t v) { uint32_t o = *p; *p = o - v; return o; }
#endif
#if TARN_CHECK_LEVEL >= 1 /* sets the sticky damage bit */
static inline void lf_or32(lf_a32 *p, uint32_t v) { *p |= v; }
#endif
#if TARN_QUARANTINE > 0
static inline uint32_t lf_xchg32(lf_a32 *p, uint32_t v, lf_mo mo) { uint32_t o = *p; (void)mo; *p = v; return o; }
#endif
static inline bool lf_cas32w(lf_a32 *p, uint32_t *exp, uint32_t des, lf_mo ok, lf_mo bad)
{
    uint32_t now = *p;
    (void)ok;
    (void)bad;
    if (now == *exp) {
        *p = des;
        return true;
    }
    *exp = now;
    return false;
}
#define lf_cas32s lf_cas32w
static inline tarn_lfblock_word lf_ldw(const lf_aw *p, lf_mo mo) { (void)mo; return *p; }
static inline void lf_stw(lf_aw *p, tarn_lfblock_word v, lf_mo mo) { (void)mo; *p = v; }
static inline bool lf_casww(lf_aw *p, tarn_lfblock_word *exp, tarn_lfblock_word des, lf_mo ok,
                            lf_mo bad)
{
    tarn_lfblock_word now = *p;
    (void)ok;
    (void)bad;
    if (now == *exp) {
        *p = des;
        return true;
    }
    *exp = now;
    return false;
}
#define LF_LOCK(pool) TARN_LOCK((pool)->lock)
#define LF_UNLOCK(pool) TARN_UNLOCK((pool)->lock)

#endif

/* The pool's "atomic" fields are plain integers in the C99 header: these view them as the
 * atomic (or, in the fallback, volatile) objects they are here. */
#define ld32(p, mo) lf_ld32((const lf_a32 *)(p), (mo))
#define st32(p, v, mo) lf_st32((lf_a32 *)(p), (v), (mo))
#define add32(p, v) lf_add32((lf_a32 *)(p), (v))
#define sub32(p, v) lf_sub32((lf_a32 *)(p), (v))
#define or32(p, v) lf_or32((lf_a32 *)(p), (v))
#define xchg32(p, v, mo) lf_xchg32((lf_a32 *)(p), (v), (mo))
#define cas32w(p, e, d, ok, bad) lf_cas32w((lf_a32 *)(p), (e), (d), (ok), (bad))
#define cas32s(p, e, d, ok, bad) lf_cas32s((lf_a32 *)(p), (e), (d), (ok), (bad))
#define ldw(p, mo) lf_ldw((const lf_aw *)(p), (mo))
#define stw(p, v, mo) lf_stw((lf_aw *)(p), (v), (mo))
#define casww(p, e, d, ok, bad) lf_casww((lf_aw *)(p), (e), (d), (ok), (bad))

/* ---- small helpers ---------------------------------------------------------------------- */
static inline uint32_t lf_top(const tarn_lfblock_pool *pool, tarn_lfblock_word h)
{
    return (uint32_t)(h & pool->idx_mask);
}

/* New head word: h's tag plus one, over index `top`, which must fit the index bits (put's
 * validated index does).  Setting the index bits (mask = idx_mask) and adding one carries
 * into the tag. */
static inline tarn_lfblock_word lf_head_after(tarn_lfblock_word h, uint32_t mask, uint32_t top)
{
    return ((h | mask) + 1u) | top;
}
#if !TARN_LFBLOCK_LLSC /* LL/SC keeps the mask in a register (see lf_push) */
static inline tarn_lfblock_word lf_new_head(const tarn_lfblock_pool *pool, tarn_lfblock_word h,
                                            uint32_t top)
{
    return lf_head_after(h, pool->idx_mask, top);
}
#endif



/* Bytes of a block the user may use: all but the guard bytes of canary mode (0 for a pool
 * whose init failed). */
static inline uint32_t lf_usable(const tarn_lfblock_pool *pool)
{
    return pool->block_size != 0u ? pool->block_size - (uint32_t)TARN_LFBLOCK_GUARD : 0u;
}

static inline void lf_error(tarn_lfblock_pool *pool, tarn_status st)
{
    TARN_ERR_SET(pool->last_error, (uint8_t)st);  /* atomic in the fallback build too */
}

/* init's one division: the divide instruction where the part has one, else shift and
 * subtract (no library routine on Cortex-M0/M0+ or RV32 without M). */
#if (defined(__arm__) && !defined(__ARM_FEATURE_IDIV)) || \
    (defined(__riscv) && !defined(__riscv_div))
#define LF_UDIV32(n, d) tarn_udiv32((n), (d))
#else
#define LF_UDIV32(n, d) ((n) / (d))
#endif

/* The block-start test's inverse: odd^-1 modulo 2^(bits of uintptr_t) for block_size =
 * odd << rot_, by Newton's iteration (each step doubles the correct low bits). */
static uintptr_t lf_inverse(uint32_t odd_part)
{
    uintptr_t odd = (uintptr_t)odd_part, x = odd;
    unsigned i;
    for (i = 0; i < 5; i++) x *= (uintptr_t)2u - odd * x;
    return x;
}

/* Index of the block starting at p; false if p is outside the blocks or inside one.
 * Granlund-Montgomery: rotating (p - base) * inv_ right by rot_ gives the block index
 * when p - base is a multiple of block_size, and a number above every block index when
 * it is not (an address below base wraps to a huge offset); blocks span < 4 GiB. */
static bool lf_index(const tarn_lfblock_pool *pool, const void *p, uint32_t *out)
{
    uintptr_t q = ((uintptr_t)p - (uintptr_t)pool->base) * pool->inv_;
    unsigned r = (unsigned)pool->rot_;
    q = (q >> r) | (q << ((0u - r) & (unsigned)(sizeof(uintptr_t) * 8u - 1u)));
    if (q >= pool->count) {
        return false;
    }
    *out = (uint32_t)q;
    return true;
}

#if TARN_STATS
#define LF_RETRY(pool) ((void)add32(&(pool)->retries, 1u))
#else
#define LF_RETRY(pool) ((void)0)
#endif

/* ---- API ------------------------------------------------------------------------------- */
tarn_status tarn_lfblock_init(tarn_lfblock_pool *pool, void *mem, size_t mem_size,
                              size_t block_size, const tarn_config *cfg)
{
    size_t stride = 0u, n = 0u;
    unsigned char *m = (unsigned char *)mem;
    tarn_status st = TARN_OK;

    if (pool == NULL) {
        return TARN_EINVAL;
    }
    /* (a lock hook with one callback only: tested as a branch on the first, which takes
     * 12 bytes less on a Cortex-M4 at -Os than !tarn_lock_valid's comparison of two tests) */
    if (mem == NULL || block_size == 0u ||
        (cfg != NULL && (cfg->lock.lock != NULL ? cfg->lock.unlock == NULL
                                                : cfg->lock.unlock != NULL))) {
        st = TARN_EINVAL;
    }
#if !TARN_LFBLOCK_LOCK_FREE && TARN_LOCKING
    else if (cfg == NULL || cfg->lock.lock == NULL) {
        st = TARN_EINVAL; /* the fallback build is safe only under a lock hook */
    }
#endif
    else if (!TARN_IS_ALIGNED(mem, TARN_ALIGN)) {
        st = TARN_EALIGN;
    } else if (block_size > (size_t)UINT32_MAX - (TARN_ALIGN - 1u)) {
        st = TARN_EOVERFLOW;
    } else {
        stride = TARN_LFBLOCK_SIZE(block_size);
        /* N blocks need META_BYTES(N) + N * stride <= N * (stride + 4) + TARN_ALIGN - 4
         * bytes, so n = mem_size / (stride + 4) is at most (TARN_ALIGN - 4) / (stride + 4)
         * + 1 too many: one for TARN_ALIGN <= 16 (stride >= 4), a few more above. */
        if (mem_size > (size_t)UINT32_MAX) {
            mem_size = (size_t)UINT32_MAX; /* the blocks span less than 4 GiB anyway */
        }
        /* (a stride of 4 GiB - 4 or more, guard bytes included, cannot fit with its word) */
        if (stride <= (size_t)UINT32_MAX - 4u) {
            n = LF_UDIV32((uint32_t)mem_size, (uint32_t)stride + 4u);
        }
        while (TARN_LFBLOCK_META_BYTES(n) + n * stride > mem_size) { /* never for n == 0 */
            n--;
        }
        if (n > (size_t)TARN_LFBLOCK_MAX_COUNT) {
            n = TARN_LFBLOCK_MAX_COUNT;
        }
        /* (block offsets stay below 2^32: n * stride <= mem_size <= UINT32_MAX) */
        if (n == 0u) {
            st = TARN_ETOOSMALL;
        }
    }

    /* Every field written once.  On error n == 0: an empty, harmless pool (no block,
     * empty list, nothing to carve) whose last_error says why. */
    if (n == 0u) {
        stride = 0u;
        m = NULL;
        cfg = NULL;
    }
    pool->count = (uint32_t)n;
    pool->block_size = (uint32_t)stride;
    {
        /* stride = odd << rot (plain loops, no bit-scan helper from libgcc on parts
         * without the instructions; init runs once) */
        uint32_t odd = (uint32_t)stride, rot = 0u, mask = (uint32_t)n | 1u;
        if (odd != 0u) {
            while ((odd & 1u) == 0u) {
                odd >>= 1;
                rot++;
            }
        }
        pool->inv_ = lf_inverse(odd);
        pool->rot_ = (uint8_t)rot;
        /* index bits: room for 0..n (n = end of list; 1 bit for an empty pool): the
         * smallest 2^k - 1 >= n, by smearing n's top bit down */
        mask |= mask >> 1;
        mask |= mask >> 2;
        mask |= mask >> 4;
        mask |= mask >> 8;
        mask |= mask >> 16;
        pool->idx_mask = mask;
    }
    pool->state = (uint32_t *)(void *)m;
    pool->base = m != NULL ? m + TARN_LFBLOCK_META_BYTES(n) : NULL;
    pool->name = cfg != NULL ? cfg->name : NULL;
    pool->flags = cfg != NULL ? cfg->flags & LF_F_KEPT : 0u;
#if !TARN_LFBLOCK_LOCK_FREE
    pool->lock.lock = cfg != NULL ? cfg->lock.lock : NULL;
    pool->lock.unlock = cfg != NULL ? cfg->lock.unlock : NULL;
    pool->lock.ctx = cfg != NULL ? cfg->lock.ctx : NULL;
#endif
    stw(&pool->head, (tarn_lfblock_word)n, MO_RLX); /* tag 0, top == count: empty list */
    st32(&pool->carve, 0u, MO_RLX);
#if TARN_STATS
    st32(&pool->failed_gets, 0u, MO_RLX);
    st32(&pool->retries, 0u, MO_RLX);
#endif
    TARN_ERR_SET(pool->last_error, (uint8_t)st);
#if TARN_QUARANTINE > 0
    {
        unsigned k;
        st32(&pool->q_next, 0u, MO_RLX);
        st32(&pool->q_held, 0u, MO_RLX);
        for (k = 0; k < TARN_QUARANTINE; k++) st32(&pool->q_slot[k], 0u, MO_RLX);
    }
#endif
    if (st != TARN_OK) {
        return st;
    }

    TARN_SAN_POOL_CREATE(pool);
    TARN_SAN_DEFINED(pool->state, TARN_LFBLOCK_META_BYTES(n));
    TARN_SAN_NOACCESS(pool->base, n * stride);
    return TARN_OK;
}

/* Canary mode: the guard bytes of block i are intact (always true without canary mode). */
static bool lf_guard_ok(const tarn_lfblock_pool *pool, uint32_t i)
{
#if TARN_GUARD
    return tarn_guard_intact(pool->base + (size_t)i * pool->block_size + lf_usable(pool), TARN_LFBLOCK_GUARD);
#else
    (void)pool;
    (void)i;
    return true;
#endif
}

/* Put's last step: push block i, whose link state[i] already names top(h), onto the free
 * list (h: the head as last read). */
static void lf_push(tarn_lfblock_pool *pool, uint32_t i, tarn_lfblock_word h)
{
#if TARN_LFBLOCK_LLSC
    {
        /* the index mask in a register: the LL's memory clobber would otherwise reload it
         * from the pool, beside the head, between LL and SC; so the window is register
         * arithmetic only (on RV32 a constrained LR/SC sequence) */
        const uint32_t mask = pool->idx_mask;
        uint32_t link = (uint32_t)h & mask; /* what state[i] names now */
        for (;;) {
            /* release: the link and the block's contents before the head store */
            atomic_thread_fence(memory_order_release);
            h = lf_ll(&pool->head);
            if (((uint32_t)h & mask) != link) {
                /* the top changed since the link was written: relink, outside the
                 * exclusive pair (no store between LL and SC) */
                lf_clrex();
                link = (uint32_t)h & mask;
                st32(&pool->state[i], link, MO_RLX);
                LF_RETRY(pool);
                continue;
            }
            TARN_LFBLOCK_LLSC_HOOK(pool, 1);
            if (lf_sc(&pool->head, (uint32_t)lf_head_after(h, mask, i))) break;
            LF_RETRY(pool);
        }
    }
#else
    for (;;) {
        TARN_LFBLOCK_LLSC_HOOK(pool, 1);
        if (casww(&pool->head, &h, lf_new_head(pool, h, i), MO_REL, MO_RLX)) break;
        LF_RETRY(pool);
        st32(&pool->state[i], lf_top(pool, h), MO_RLX);
    }
#endif
}

#if TARN_QUARANTINE > 0
static inline bool lf_q_on(const tarn_lfblock_pool *pool)
{
    return (ld32(&pool->flags, MO_RLX) & TARN_F_QUARANTINE) != 0u;
}
#define LF_Q_ON(pool) lf_q_on(pool)

/* Held block i is as it was put: guard intact and (TARN_POISON_FREE) fill unchanged. */
static bool lf_held_intact(const tarn_lfblock_pool *pool, uint32_t i)
{
    bool ok = lf_guard_ok(pool, i);
#if TARN_POISON_FREE
    ok = ok && tarn_bytes_are(pool->base + (size_t)i * pool->block_size, lf_usable(pool),
                              TARN_POISON_BYTE);
#endif
    return ok;
}

/* A held block leaves the ring: false, with TARN_ECORRUPT recorded, when it was written
 * while held. */
static bool lf_held_verify(tarn_lfblock_pool *pool, uint32_t i)
{
    if (lf_held_intact(pool, i)) return true;
    lf_error(pool, TARN_ECORRUPT);
    return false;
}

/* Hold block i (claimed by put: state LF_HELD): one exchange into the slot under the ring
 * cursor.  Returns the block pushed out (index + 1; only the caller can reach it now), or
 * 0 when the slot was empty. */
static uint32_t lf_hold(tarn_lfblock_pool *pool, uint32_t i)
{
    uint32_t k = add32(&pool->q_next, 1u) % TARN_QUARANTINE;
    uint32_t out = xchg32(&pool->q_slot[k], i + 1u, MO_AR);
    if (out == 0u) (void)add32(&pool->q_held, 1u);
    return out;
}

/* Take one held block out of the ring, oldest slot first (the one the cursor overwrites
 * next): its index + 1 (only the caller can reach it now), or 0 when none is held. */
static uint32_t lf_take_held(tarn_lfblock_pool *pool)
{
    uint32_t k, start = ld32(&pool->q_next, MO_RLX);
    for (k = 0; k < TARN_QUARANTINE; k++) {
        uint32_t out = xchg32(&pool->q_slot[(start + k) % TARN_QUARANTINE], 0u, MO_AR);
        if (out != 0u) {
            (void)sub32(&pool->q_held, 1u);
            return out;
        }
    }
    return 0u;
}

/* Free held block i (taken out of the ring: only the caller reaches it).  False (and
 * TARN_ECORRUPT recorded) when it was written while held. */
static bool lf_unhold(tarn_lfblock_pool *pool, uint32_t i)
{
    bool ok = lf_held_verify(pool, i);
    tarn_lfblock_word h = ldw(&pool->head, MO_RLX);
    st32(&pool->state[i], lf_top(pool, h), MO_RLX);
    lf_push(pool, i, h);
    return ok;
}
#else
#define LF_Q_ON(pool) ((void)(pool), false)
#endif

#if TARN_CHECK_LEVEL >= 1 || TARN_QUARANTINE > 0
/* Put's step 2, the claim: the one CAS that turns "handed out" into "being put" (state[i]
 * then links to top(h)) or, with the quarantine, into "held".  False when block i is not
 * handed out (a double put); exactly one of racing puts of one block succeeds. */
static inline bool lf_claim(tarn_lfblock_pool *pool, uint32_t i, tarn_lfblock_word h)
{
    uint32_t expect = LF_USED;
    return cas32s(&pool->state[i], &expect, LF_Q_ON(pool) ? LF_HELD : lf_top(pool, h),
                  MO_RLX, MO_RLX);
}
#endif

/* The whole of get; *st receives this call's own status (copied into both entries, so
 * tarn_lfblock_get_slow_ pays nothing for it). */
/* The head a pop installs: at checking level >= 1 the link has passed the link check
 * (next <= count, within the index bits), so it needs no mask; at level 0 it is masked, so
 * that a link read from a block taken meanwhile (the CAS then fails anyway) can never
 * spill into the tag bits. */
#if TARN_CHECK_LEVEL >= 1
#define LF_GET_HEAD(pool, h, next) lf_new_head((pool), (h), (next))
#else
#define LF_GET_HEAD(pool, h, next) lf_new_head((pool), (h), (next) & (pool)->idx_mask)
#endif

#if defined(__GNUC__) || defined(__clang__)
/* copied into both entries, so that a program calling one links one get (at -Os the
 * compiler would keep lf_get apart and add a call to it: 16 more bytes on Cortex-M4) */
#define LF_GET_INLINE __attribute__((always_inline)) inline
#else
#define LF_GET_INLINE inline
#endif
static LF_GET_INLINE void *lf_get(tarn_lfblock_pool *pool, tarn_status *st)
{
    uint32_t i, c, n;
    uint32_t *state;
    tarn_lfblock_word h;
    unsigned char *p;

    if (pool == NULL) {
        *st = TARN_EINVAL;
        return NULL;
    }
    /* fixed at init: read once, kept in registers across the atomics below */
    n = pool->count;
    state = pool->state;
    LF_LOCK(pool);
#if TARN_CHECK_LEVEL >= 1
    /* a pool that found damage hands out nothing more until init */
    if (TARN_UNLIKELY((ld32(&pool->flags, MO_RLX) & LF_F_CORRUPT) != 0u)) goto refuse;
#endif
    /* 0. the carve index, before the list: when it is N already, an empty list seen below
     *    means no block was free at that instant (C never decreases) */
    c = ld32(&pool->carve, MO_RLX);
pop:
    /* 1. the top of the free list */
#if TARN_LFBLOCK_LLSC
    /* LL/SC: the head, the top's link and the link check are all read between the
     * load-exclusive and the store-exclusive, which fails if anything stored to the head
     * (or an exception was taken) in between: no ABA whatever the tag. */
    {
        const uint32_t mask = pool->idx_mask; /* kept in a register (see lf_push) */
        for (;;) {
            uint32_t next;
            h = lf_ll(&pool->head);
            atomic_thread_fence(memory_order_acquire); /* the pusher's link and block contents */
            i = (uint32_t)h & mask;
            if (i >= n) {
                lf_clrex();
                goto carve;
            }
            next = ld32(&state[i], MO_RLX);
#if TARN_CHECK_LEVEL >= 1
            if (TARN_UNLIKELY(next > n ||
                              (next < n && ld32(&state[next], MO_RLX) >= LF_HELD))) {
                /* Storing the head back unchanged succeeds only if nothing touched it since
                 * the LL: then the link really is damaged (exact, no tag involved). */
                if (lf_sc(&pool->head, (uint32_t)h)) goto corrupt;
                LF_RETRY(pool);
                continue;
            }
#endif
            TARN_LFBLOCK_LLSC_HOOK(pool, 0);
            /* the new head's data depends on the link read, which orders that read before
             * the store (no release needed, as on every LL/SC machine) */
#if TARN_CHECK_LEVEL >= 1
            if (lf_sc(&pool->head, (uint32_t)lf_head_after(h, mask, next))) break;
#else
            if (lf_sc(&pool->head, (uint32_t)lf_head_after(h, mask, next & mask))) break;
#endif
            LF_RETRY(pool);
        }
    }
#else
    h = ldw(&pool->head, MO_ACQ);
    for (;;) {
        uint32_t next;
        i = lf_top(pool, h);
        if (i >= n) goto carve;
        /* acquire, paired with the release store of LF_USED below: a get that sees a
         * block taken sees the head change that took it, so a head found unchanged
         * really means a damaged link, also on weakly ordered multi-core parts */
        next = ld32(&state[i], MO_ACQ);
#if TARN_CHECK_LEVEL >= 1
        /* The link must name the end of the list or a free block (state not USED/HELD).
         * A link read from a block taken meanwhile may fail this; then the head has
         * changed, and we retry.  If the head is still h, nothing was pushed or popped in
         * between, so the link really is damaged (a stray write into the state words):
         * refuse rather than hand out a block that may be live. */
        if (TARN_UNLIKELY(next > n ||
                          (next < n && ld32(&state[next], MO_ACQ) >= LF_HELD))) {
            tarn_lfblock_word h2 = ldw(&pool->head, MO_ACQ);
            if (h2 == h) goto corrupt;
            h = h2;
            LF_RETRY(pool);
            continue;
        }
#endif
        TARN_LFBLOCK_LLSC_HOOK(pool, 0);
        if (casww(&pool->head, &h, LF_GET_HEAD(pool, h, next), MO_AR, MO_ACQ)) {
            break;
        }
        LF_RETRY(pool);
    }
#endif
taken:
    /* 3. mark it handed out (for put's double-free test) */
    st32(&state[i], LF_USED, MO_REL);   /* after the head CAS that took it (see above) */
    LF_UNLOCK(pool);
#if TARN_QUARANTINE > 0
hand_out:
#endif
    p = pool->base + (size_t)i * pool->block_size;
    TARN_SAN_ALLOC(pool, p, lf_usable(pool));
#if TARN_GUARD
    tarn_guard_fill(p + lf_usable(pool), TARN_LFBLOCK_GUARD);
#endif
    *st = TARN_OK;
    return p;

carve:
    /* 2. the list is empty: a never-used block while any remain (the first get of each
     *    block comes here; blocks are carved only when the list was seen empty, so N - C
     *    is the watermark) */
    if (c < n) {
        do {
            if (cas32w(&pool->carve, &c, c + 1u, MO_RLX, MO_RLX)) {
                i = c;
                goto taken;
            }
            LF_RETRY(pool);
        } while (c < n);
        /* others carved the last blocks meanwhile; C == N from now on, so the list is
         * looked at once more and an empty list then is final */
        goto pop;
    }
    /* the list was empty and nothing was left to carve */
#if TARN_QUARANTINE > 0
    {
        /* rather than fail, take a held block (it was never counted free) */
        uint32_t out = lf_q_on(pool) ? lf_take_held(pool) : 0u;
        if (out != 0u) {
            i = out - 1u;
            (void)lf_held_verify(pool, i);
            st32(&pool->state[i], LF_USED, MO_REL);
            LF_UNLOCK(pool);
            goto hand_out;
        }
    }
#endif
    TARN_STAT((void)add32(&pool->failed_gets, 1u));
    lf_error(pool, TARN_ENOMEM);
    LF_UNLOCK(pool);
    *st = TARN_ENOMEM;
    return NULL;
#if TARN_CHECK_LEVEL >= 1
corrupt:
    or32(&pool->flags, LF_F_CORRUPT);
refuse:
    lf_error(pool, TARN_ECORRUPT);
    LF_UNLOCK(pool);
    *st = TARN_ECORRUPT;
    return NULL;
#endif
}

void *tarn_lfblock_get_slow_(tarn_lfblock_pool *pool)
{
    tarn_status st;
    return lf_get(pool, &st);
}

void *tarn_lfblock_get_status(tarn_lfblock_pool *pool, tarn_status *st)
{
    tarn_status s;
    void *p = lf_get(pool, &s);
    if (st != NULL) *st = s;
    return p;
}

/* A refused put: recorded, and reported to the memory tool when the pool asks for it.
 * (Inlined into put; the inline put of lfblock.h reaches it through tarn_lfblock_refuse_,
 * which a program that never inlines a put does not link.) */
static inline tarn_status lf_refuse(tarn_lfblock_pool *pool, void *block, tarn_status st)
{
    lf_error(pool, st);
#if TARN_SANITIZE
    if ((ld32(&pool->flags, MO_RLX) & TARN_F_SAN_REPORT) != 0u) {
        /* best effort: a block popped meanwhile by another context is live again */
        TARN_SAN_REPORT_BAD_FREE(pool, block);
    }
#else
    (void)block;   /* no memory tool: not even the (atomic) load of the flag */
#endif
    return st;
}

tarn_status tarn_lfblock_refuse_(tarn_lfblock_pool *pool, void *block, tarn_status st)
{
    return lf_refuse(pool, block, st);
}

tarn_status tarn_lfblock_put_slow_(tarn_lfblock_pool *pool, void *block)
{
    uint32_t i = 0u;
    tarn_lfblock_word h;
#if TARN_CHECK_LEVEL >= 1
    tarn_status st = TARN_OK;
#endif

    if (pool == NULL) {
        return TARN_EINVAL;
    }
    if (block == NULL) {
        lf_error(pool, TARN_EINVAL);
        return TARN_EINVAL;
    }
    LF_LOCK(pool);
#if TARN_CHECK_LEVEL >= 1
    if (!lf_index(pool, block, &i)) {
        st = TARN_EFOREIGN;
    } else if (i >= ld32(&pool->carve, MO_RLX)) {
        st = TARN_EDOUBLE; /* never handed out */
    }
#if TARN_GUARD
    else if (ld32(&pool->state[i], MO_RLX) == LF_USED && !lf_guard_ok(pool, i)) {
        st = TARN_ECORRUPT; /* canary mode: an overrun; the block stays handed out */
    }
#endif
    else {
        h = ldw(&pool->head, MO_RLX);
        if (!lf_claim(pool, i, h)) st = TARN_EDOUBLE;   /* 2. claim */
    }
    if (st != TARN_OK) {
        LF_UNLOCK(pool);
        return lf_refuse(pool, block, st);
    }
#else
    (void)lf_index(pool, block, &i);
    h = ldw(&pool->head, MO_RLX);
#if TARN_QUARANTINE > 0
    if (lf_q_on(pool)) {
        if (!lf_claim(pool, i, h)) {   /* as at level 1: a held block is refused */
            lf_error(pool, TARN_EDOUBLE);
            LF_UNLOCK(pool);
            return TARN_EDOUBLE;
        }
    } else
#endif
    {
        st32(&pool->state[i], lf_top(pool, h), MO_RLX);
    }
#endif
    TARN_FILL_FREED(block, lf_usable(pool));
    TARN_SAN_FREE(pool, block, pool->block_size);
#if TARN_QUARANTINE > 0
    if (lf_q_on(pool)) {
        /* held instead of freed; the block pushed out of the ring is freed */
        uint32_t out = lf_hold(pool, i);
        if (out != 0u) (void)lf_unhold(pool, out - 1u);
        LF_UNLOCK(pool);
        return TARN_OK;
    }
#endif
    /* 3. publish: push i */
    lf_push(pool, i, h);
    LF_UNLOCK(pool);
    return TARN_OK;
}

tarn_status tarn_lfblock_validate(tarn_lfblock_pool *pool, const void *block)
{
    uint32_t i;
    tarn_status st = TARN_OK;
    if (pool == NULL || block == NULL) {
        return TARN_EINVAL;
    }
    LF_LOCK(pool);
    if (!lf_index(pool, block, &i)) {
        st = TARN_EFOREIGN;
    } else if (i >= ld32(&pool->carve, MO_RLX) || ld32(&pool->state[i], MO_RLX) != LF_USED) {
        st = TARN_EDOUBLE;
    } else if (!lf_guard_ok(pool, i)) {
        st = TARN_ECORRUPT;
    }
    LF_UNLOCK(pool);
    return st;
}

bool tarn_lfblock_owns(const tarn_lfblock_pool *pool, const void *p)
{
    uint32_t i;
    return pool != NULL && lf_index(pool, p, &i);
}

long tarn_lfblock_index(const tarn_lfblock_pool *pool, const void *p)
{
    uint32_t i;
    if (pool == NULL || !lf_index(pool, p, &i)) {
        return -1;
    }
    return (long)i;
}

/* The layout every reader of the state words relies on (statistics, check): the state
 * words of `count` blocks right before the first block (no state and no block after a
 * failed init), so a damaged count, state or base pointer is found before a state word is
 * read through it.  O(1). */
static bool lf_layout_ok(const tarn_lfblock_pool *pool)
{
    uint32_t n = pool->count;
    if (n == 0u) return pool->state == NULL && pool->base == NULL;
    return pool->state != NULL && n <= (uint32_t)TARN_LFBLOCK_MAX_COUNT &&
           (const unsigned char *)pool->state + TARN_LFBLOCK_META_BYTES(n) == pool->base;
}

tarn_status tarn_lfblock_stats_get(tarn_lfblock_pool *pool, tarn_lfblock_stats *out)
{
    if (pool == NULL || out == NULL) {
        return TARN_EINVAL;
    }
    if (!lf_layout_ok(pool)) {
        return TARN_ECORRUPT;   /* nothing read through the damaged fields; *out unchanged */
    }
    /* field by field (no memset: nothing from the C library) */
    out->failed_gets = 0u;
    out->held = 0u;
    out->retries = 0u;
    out->tag_bits = 0u;
    out->block_size = lf_usable(pool);
    out->count = pool->count;
    out->lock_free = TARN_LFBLOCK_LOCK_FREE != 0;
    out->llsc = TARN_LFBLOCK_LLSC != 0;
#if TARN_LFBLOCK_LOCK_FREE
    out->tag_bits = (uint32_t)(8u * sizeof(tarn_lfblock_word)) - (tarn_log2_u32(pool->idx_mask) + 1u);
#endif
    LF_LOCK(pool);
    {
        /* the never-carved blocks and the carved ones whose state word is a link (neither
         * handed out nor held); the watermark: a get carves only after it found the list
         * empty (see get, step 2) */
        uint32_t n = pool->count, c = ld32(&pool->carve, MO_RLX), i, f;
        if (c > n) c = n;           /* (a damaged carve index: read only the state words) */
        f = n - c;
        for (i = 0u; i < c; i++) f += ld32(&pool->state[i], MO_RLX) < LF_HELD;
        out->free = f;
        out->min_free = n - c;
    }
#if TARN_STATS
    out->failed_gets = ld32(&pool->failed_gets, MO_RLX);
#if TARN_QUARANTINE > 0
    out->held = ld32(&pool->q_held, MO_RLX);
#endif
    out->retries = ld32(&pool->retries, MO_RLX);
#endif
    LF_UNLOCK(pool);
    return TARN_OK;
}

/* The quarantine part of the check (quiescent pool, c carved blocks of which `held` are
 * marked held): the ring holds exactly those, each once, unchanged since their put.
 * Without the quarantine no block may be marked held. */
static tarn_status lf_check_ring(const tarn_lfblock_pool *pool, uint32_t c, uint32_t held)
{
#if TARN_QUARANTINE > 0
    unsigned k, j;
    uint32_t found = 0u;
    if (ld32(&pool->q_held, MO_RLX) != held) return TARN_ECORRUPT;
    for (k = 0; k < TARN_QUARANTINE; k++) {
        uint32_t v = ld32(&pool->q_slot[k], MO_RLX);
        if (v == 0u) continue;
        if (v - 1u >= c || ld32(&pool->state[v - 1u], MO_RLX) != LF_HELD ||
            !lf_held_intact(pool, v - 1u)) {
            return TARN_ECORRUPT;
        }
        for (j = 0; j < k; j++) {
            if (ld32(&pool->q_slot[j], MO_RLX) == v) return TARN_ECORRUPT;
        }
        found++;
    }
    return found == held ? TARN_OK : TARN_ECORRUPT;
#else
    (void)pool;
    (void)c;
    return held == 0u ? TARN_OK : TARN_ECORRUPT;
#endif
}

tarn_status tarn_lfblock_check(tarn_lfblock_pool *pool)
{
    uint32_t n, c, i, steps = 0u, used = 0u, held = 0u;
    tarn_status st = TARN_OK;

    if (pool == NULL) {
        return TARN_EINVAL;
    }
    LF_LOCK(pool);
    n = pool->count;
    c = ld32(&pool->carve, MO_ACQ);
    if (c > n || !lf_layout_ok(pool) || (ld32(&pool->flags, MO_RLX) & LF_F_CORRUPT) != 0u) {
        st = TARN_ECORRUPT;
        goto out;
    }
    /* the free list: distinct carved blocks, ending at n */
    i = lf_top(pool, ldw(&pool->head, MO_ACQ));
    while (i != n) {
        uint32_t s;
        if (i >= c || ++steps > c) { /* not a carved block, or longer than possible: cycle */
            st = TARN_ECORRUPT;
            goto out;
        }
        s = ld32(&pool->state[i], MO_RLX);
        if (s == LF_USED) {
            st = TARN_ECORRUPT;
            goto out;
        }
        i = s;
    }
    /* every carved block not on the list is marked handed out, or held */
    for (i = 0u; i < c; i++) {
        uint32_t s = ld32(&pool->state[i], MO_RLX);
        if (s == LF_USED) {
            used++;
            if (!lf_guard_ok(pool, i)) {
                st = TARN_ECORRUPT; /* canary mode: an overrun of a handed-out block */
                goto out;
            }
        } else if (s == LF_HELD) {
            held++;
        }
    }
    if (used + steps + held != c || lf_check_ring(pool, c, held) != TARN_OK) {
        st = TARN_ECORRUPT;
        goto out;
    }
out:
    LF_UNLOCK(pool);
    return st;
}

/* cppcheck-suppress constParameter ; the pool is changed when the quarantine is compiled in */
tarn_status tarn_lfblock_quarantine_flush(tarn_lfblock_pool *pool)
{
    tarn_status st = TARN_OK;
    if (pool == NULL) {
        return TARN_EINVAL;
    }
#if TARN_QUARANTINE > 0
    if (lf_q_on(pool)) {
        unsigned k;
        uint32_t out;
        LF_LOCK(pool);
        /* at most one pass worth: puts racing with the flush may hold new blocks */
        for (k = 0; k < TARN_QUARANTINE && (out = lf_take_held(pool)) != 0u; k++) {
            if (!lf_unhold(pool, out - 1u)) st = TARN_ECORRUPT;
        }
        LF_UNLOCK(pool);
    }
#endif
    return st;
}

tarn_status tarn_lfblock_last_error(const tarn_lfblock_pool *pool)
{
    if (pool == NULL) {
        return TARN_EINVAL;
    }
    return TARN_ERR_GET(pool->last_error);
}

const char *tarn_lfblock_name(const tarn_lfblock_pool *pool)
{
    return pool != NULL ? pool->name : NULL;
}

size_t tarn_lfblock_size(const tarn_lfblock_pool *pool)
{
    return pool != NULL ? lf_usable(pool) : 0u;
}

uint32_t tarn_lfblock_count(const tarn_lfblock_pool *pool)
{
    return pool != NULL ? pool->count : 0u;
}
