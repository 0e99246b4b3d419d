/*
 * src/heap.c - the heap (see include/tarn/heap.h).
 *
 * ---- Layout -------------------------------------------------------------------------
 *
 *  caller's buffer (any alignment)
 *  |pad|<----------------- control (a multiple of G) ---------------->|<---- blocks area ---->|
 *      [tarn_heap][heads: nclasses][groups][F: N+1 bits][S tree: N+1 bits, /32, ...][g0][g1]...[gN-1]
 *      ^ h, aligned to G                                               ^ h->blocks
 *
 *  G = TARN_HEAP_GRANULE = max(8, TARN_ALIGN) bytes; the blocks area is N granules.
 *  Granule N does not exist in memory: it is the end sentinel (S[N] = 1, F[N] = 0).
 *
 *  Every block is a run of whole granules [g, e).  Nothing is stored in a used block:
 *
 *      S (start bitmap):  1 0 0 0 1 0 1 0 0 0 0 1 ...            1   <- S[N]
 *      F (free starts):   0 0 0 0 1 0 0 0 0 0 0 0 ...            0
 *      granules:         [ used 4  ][free2][ used 5     ][ ...
 *
 *  size of the block at g  = (next set bit of S after g) - g
 *  block before g          = last set bit of S before g
 *  the block at g is free  <=> F[g]
 *
 *  A free block holds its free-list links in its first granule (the only metadata
 *  inside the blocks area), as granule numbers:
 *
 *      [ next (NIL = 0xFFFFFFFF) | prev (a granule, or TAG | class for a list head) ]
 *
 *  A list head's prev field names its class, so a block can be unlinked without knowing
 *  its size.  S is level 0 of a 32-way summary tree (bit j of level l+1 <=> word j of
 *  level l is non-zero), so "next/last set bit" is at most 2 * depth word probes,
 *  depth <= 6 (2^30 granules): O(1) worst case, independent of block and list counts.
 *
 *  Free blocks are segregated by size into classes: with u the size in granules and
 *  e = max(0, floor(log2 u) - k), class(u) = (e << k) + (u >> e).  Sizes below 2^(k+1)
 *  granules have one class each (exact fit); above, each power of two is split into 2^k
 *  classes of width 2^e.  k = 5 except for small heaps (the class table must stay
 *  within 1/16 of the buffer).  A request of u granules searches from
 *  class_up(u) = (e << k) + ceil(u / 2^e), the smallest class whose every block has
 *  >= u granules ("good fit"); groups/top are a two-level bitmap of non-empty classes,
 *  so the search is two bit scans.  Requests beyond the exact classes first try the head
 *  of their own class, which good fit alone never uses for them (a closer fit; it only
 *  adds successes).  The chosen block is split at its END: the free remainder keeps its
 *  start, its list node and, usually, its class, so most splits change no list at all.
 *
 *  Fast paths (TARN_HEAP_FAST): an exact-fit allocation pops its class's head after
 *  checking the head's size against one or two S words (a request whose exact class is
 *  empty goes straight to the general path); a free of a valid pointer finds its
 *  neighbours in its own S word, the previous one or the remembered block (else by the
 *  general scans, out of line), and is finished with a few word operations when it
 *  merges with nothing or joins its left neighbour without a class change, or handed
 *  with its neighbours to the general release.  The fast paths are split into small
 *  functions that tail-call one another (so few registers are saved), and fall back to
 *  the general paths for anything else (a bad pointer takes the general free, which
 *  reports it), so behaviour never depends on them.
 *
 *  Over-aligned blocks (tarn_heap_aligned_alloc beyond G) record their alignment in F
 *  bits of their own interior, which are otherwise always 0: F[g+1] = 1 and
 *  F[g+2..g+6] = log2(alignment) - log2(G) - 1.  Such blocks are >= 7 granules.
 *
 *  Canary mode (TARN_GUARD 1): a used block of B bytes handed out for n requested bytes
 *  ends with a guard and a trailer, all inside its granules:
 *
 *      |<------------------------------- B = u * G ------------------------------->|
 *      [ user bytes: n                | guard: >= TARN_GUARD_SIZE x 0xFD | slack (4) ]
 *      ^ p                            ^ p + n = p + B - slack             ^ p + B - 4
 *
 *  u = ceil((n + TARN_GUARD_SIZE + 4) / G) (at least 7 when over-aligned); the trailer
 *  holds slack = B - n (< 2^16) in its low 16 bits and the complement of slack in its
 *  high 16 bits, so free and tarn_heap_check find where the guard starts, and damage
 *  to the trailer alone is seen too; a trailer is accepted only if both halves agree
 *  and TARN_GUARD_SIZE + 4 <= slack <= B.
 *  Guard and trailer are NOACCESS for the memory tools (the tools see a block of n
 *  bytes), usable_size is n, realloc and resize rewrite them for the new size.  An
 *  overflow out of a block damages its own guard before anything else, so the owner's
 *  free and tarn_heap_check report it (TARN_ECORRUPT) before the next block or a free
 *  block's links are trusted.  The fast paths are compiled out in this mode.
 *
 *  Quarantine (TARN_QUARANTINE > 0, TARN_F_QUARANTINE): a freed block is validated, its
 *  guard checked, its bytes filled (as a freed block) and poisoned for the tools, then
 *  pushed into the ring h->quarantine.  A held block stays used in S and F (so nothing
 *  can merge into it or allocate it); what the ring pushes out is released for real,
 *  after checking that the fill is intact (TARN_POISON_FREE or TARN_HEAP_F_CLEAR_FREED).
 *  An allocation that finds no room releases held blocks, oldest first, and retries.
 *
 * ---- Invariants (tarn_heap_check verifies every one) ---------------------------------
 *   I1  S[0] = 1, S[N] = 1, no bit beyond N; every tree level summarises the one below.
 *   I2  F[g] = 1 only at a free block start, or at the aligned-field bits g+1..g+6 of an
 *       over-aligned used block at g; F[N] = 0.
 *   I3  No two free blocks are adjacent (coalescing is immediate).
 *   I4  Every free block is on exactly one list, that of class(size); list links are
 *       consistent both ways; heads[c] = NIL <=> class c empty <=> its groups bit is 0;
 *       top bit i <=> groups[i] != 0.
 *   I5  used = usable bytes of the live blocks (used blocks not held by the quarantine;
 *       in canary mode their requested sizes); peak >= used; allocs - frees = live
 *       blocks.
 *   I6  mb_start = NIL, or [mb_start, mb_end) is exactly a free block (the remembered
 *       block, see "the remembered block" below).
 *   I7  (canary mode) every used block not held by the quarantine has a valid trailer
 *       and an intact guard.
 *   I8  (quarantine) every held block is a used block, held once, and (when freed memory
 *       is filled) all its bytes still hold the fill.
 *
 * ---- Checking ------------------------------------------------------------------------
 *  Level >= 1: a pointer handed back is accepted only if it lies in the blocks area, on
 *  a granule boundary, with S set (a block starts there) and F clear (it is not free).
 *  This is exact - no interior, foreign or freed pointer can pass - and reads no byte of
 *  the block.  Its memory cost is the S bitmap, which the design needs anyway.  Links
 *  read from a free block are followed only if they name a granule of the heap whose F
 *  bit is set, or, for a head, the class whose head it is: damaged links give
 *  TARN_ECORRUPT and every write stays inside the heap.  (F bits are also set in the
 *  alignment fields of over-aligned used blocks; a damaged link naming exactly one of
 *  those seven granules passes this O(1) test - tarn_heap_check and level 2 catch it.)
 *  A block taken from a list is checked against the bitmaps (its size must be what its
 *  class promises), so a mislisted block is refused, not handed out too short.  Sizes
 *  and states live in the bitmaps, out of reach of buffer overruns.
 *
 * ---- Worst-case sizing (tarn_heap_size_for) -------------------------------------------
 *  Let a workload keep at every moment at most M live requested bytes and at most L live
 *  blocks (both counting the request being served), with requests of at most n bytes.
 *  Write r = ceil(n / G) and s = the largest class rounding below r: s = 0 when
 *  r < 2^(k+1) (exact classes), else s = 2^e - 1 with e = floor(log2 r) - k.  Claim: if
 *  the blocks area has
 *
 *        N  >=  Mg + (L - 1) (r - 1) + L s   granules,   Mg = floor((M + L (G - 1)) / G),
 *
 *  no allocation fails.  Proof: a request of u <= r granules fails only when no free
 *  block has a class >= class_up(u), i.e. every free block is shorter than
 *  lb(class_up(u)) <= u + s, so has at most u + s - 1 granules.  Free blocks are never
 *  adjacent (I3), so with L' <= L - 1 live blocks (not counting the request) there are
 *  at most L' + 1 <= L of them.  The live blocks hold at most Mg - u granules (a b-byte
 *  request takes ceil(b/G) <= (b + G - 1)/G granules, and Mg counts the request too).
 *  So N <= Mg - u + L (u + s - 1) = Mg + (L - 1) u + L s - L <= Mg + (L - 1)(r - 1) +
 *  L s - 1, below the bound.  With one live block the bound is exact; it grows like
 *  L * n because many small live blocks can pin free holes just too small for the
 *  largest request: no good-fit (or best-fit) allocator has a better general bound.
 *  tests/test_heap_sizing.c runs adversarial sequences in heaps of exactly this size and
 *  never sees a failure, checks that every failure in smaller heaps happens only when
 *  every free block is too small, and shows a sequence that fails at about half the
 *  bound.  Canary mode adds X = TARN_GUARD_SIZE + 4 bytes to every request: read
 *  r = ceil((n + X) / G) and Mg = floor((M + L (X + G - 1)) / G).  The quarantine does
 *  not change the bound: an allocation fails only after every held block is released.
 */
#include "tarn/heap.h"
#include "internal.h"

/* ---- constants ------------------------------------------------------------------------ */
#define G ((uint32_t)TARN_HEAP_GRANULE)
#define LG                                                                                  \
    (G == 8u ? 3u : G == 16u ? 4u : G == 32u ? 5u : G == 64u ? 6u : G == 128u ? 7u           \
     : G == 256u ? 8u : G == 512u ? 9u : G == 1024u ? 10u : G == 2048u ? 11u : 12u)
#define NIL 0xFFFFFFFFu
#define TAG 0x80000000u
#define HEAP_MAX_GRAN ((1u << 30) - 1u)   /* N + 1 <= 2^30: tree depth <= 6 */
#define AL_MIN 7u                         /* granules of an over-aligned block */

TARN_STATIC_ASSERT((1u << LG) == G, heap_granule_is_pow2_up_to_4096);
TARN_STATIC_ASSERT(TARN_HEAP_GRANULE >= 2u * sizeof(uint32_t), heap_granule_holds_links);
TARN_STATIC_ASSERT(TARN_HEAP_TREE_MAX == 6, heap_tree_depth_for_2e30_granules);
TARN_STATIC_ASSERT(sizeof(uint32_t) == 4, heap_words_are_32_bit);

#define HEAP_CHECKING (TARN_CHECK_LEVEL >= 1)
/* The call-free fast paths of alloc and free (not in canary mode or at level 2). */
#define HEAP_FAST_PATHS (TARN_CHECK_LEVEL < 2 && TARN_HEAP_FAST && !TARN_GUARD)

/* h->flags: TARN_HEAP_F_CLEAR_FREED, and this bit for TARN_F_SAN_REPORT. */
#define HEAP_FL_REPORT 0x80u
TARN_STATIC_ASSERT((TARN_HEAP_F_CLEAR_FREED & HEAP_FL_REPORT) == 0u, heap_flag_bits_differ);

/* Canary mode: bytes a used block needs beyond the request (guard and trailer). */
#define HEAP_EXTRA TARN_HEAP_EXTRA
#if TARN_GUARD
#define HEAP_TRAILER 4u
TARN_STATIC_ASSERT(TARN_HEAP_EXTRA == (size_t)TARN_GUARD_SIZE + HEAP_TRAILER, heap_extra_is_guard_trailer);
#endif

#if defined(__GNUC__) || defined(__clang__)
#define HEAP_NOINLINE __attribute__((noinline))
#define HEAP_COLD __attribute__((noinline, cold))
#define HEAP_INLINE __attribute__((always_inline)) inline
#else
#define HEAP_NOINLINE
#define HEAP_COLD
#define HEAP_INLINE inline
#endif

/* In-place resize of a live block for the memory tools. */
#if TARN_SANITIZE && defined(TARN_HAVE_VALGRIND_)
#define HEAP_SAN_RESIZE(h, p, oldn, newn)                                                  \
    do {                                                                                   \
        VALGRIND_MEMPOOL_CHANGE((h), (p), (p), (newn));                                    \
        if ((newn) > (oldn)) {                                                             \
            (void)VALGRIND_MAKE_MEM_UNDEFINED((unsigned char *)(p) + (oldn), (newn) - (oldn)); \
        } else {                                                                           \
            (void)VALGRIND_MAKE_MEM_NOACCESS((unsigned char *)(p) + (newn), (oldn) - (newn)); \
        }                                                                                  \
    } while (0)
#elif TARN_SANITIZE && defined(TARN_HAVE_ASAN_)
#define HEAP_SAN_RESIZE(h, p, oldn, newn)                                                  \
    do {                                                                                   \
        (void)(h);                                                                         \
        if ((newn) > (oldn)) {                                                             \
            ASAN_UNPOISON_MEMORY_REGION((unsigned char *)(p) + (oldn), (newn) - (oldn));   \
        } else {                                                                           \
            ASAN_POISON_MEMORY_REGION((unsigned char *)(p) + (newn), (oldn) - (newn));     \
        }                                                                                  \
    } while (0)
#else
#define HEAP_SAN_RESIZE(h, p, oldn, newn) ((void)(h), (void)(p), (void)(oldn), (void)(newn))
#endif

#if TARN_HEAP_TRACE
#define HEAP_TRACE(h, ev, p, n, st)                                                        \
    do {                                                                                   \
        if ((h)->trace != NULL) { (h)->trace((h)->trace_ctx, (ev), (p), (n), (st)); }      \
    } while (0)
#else
#define HEAP_TRACE(h, ev, p, n, st) ((void)0)
#endif

/* ---- bitmaps ----------------------------------------------------------------------------- */
static inline uint32_t bit_get(const uint32_t *m, uint32_t i)
{
    return (m[i >> 5] >> (i & 31u)) & 1u;
}
static inline void bit_set(uint32_t *m, uint32_t i)
{
    m[i >> 5] |= 1u << (i & 31u);
}
static inline void bit_clr(uint32_t *m, uint32_t i)
{
    m[i >> 5] &= ~(1u << (i & 31u));
}

static inline uint32_t *tree_level(const tarn_heap *h, unsigned l)
{
    return h->smap + h->lvl[l];
}

/* Mark granule i as a block start (S and the summary tree). */
static inline void start_set(tarn_heap *h, uint32_t i)
{
    uint32_t *w = &h->smap[i >> 5];
    uint32_t old = *w;
    *w = old | (1u << (i & 31u));
    if (TARN_UNLIKELY(old == 0u)) {
        unsigned l;
        uint32_t j = i >> 5;
        for (l = 1; l < h->depth; l++) {
            w = &tree_level(h, l)[j >> 5];
            old = *w;
            *w = old | (1u << (j & 31u));
            if (old != 0u) break;
            j >>= 5;
        }
    }
}

/* Granule i no longer starts a block. */
static inline void start_clr(tarn_heap *h, uint32_t i)
{
    uint32_t *w = &h->smap[i >> 5];
    *w &= ~(1u << (i & 31u));
    if (TARN_UNLIKELY(*w == 0u)) {
        unsigned l;
        uint32_t j = i >> 5;
        for (l = 1; l < h->depth; l++) {
            w = &tree_level(h, l)[j >> 5];
            *w &= ~(1u << (j & 31u));
            if (*w != 0u) break;
            j >>= 5;
        }
    }
}

/* Smallest block start >= i, climbing from tree level 2 (i: bit index there). */
static HEAP_NOINLINE uint32_t next_start_far(const tarn_heap *h, uint32_t i)
{
    unsigned l;
    uint32_t w = 0;
    for (l = 2; l < h->depth; l++) {
        w = tree_level(h, l)[i >> 5] & (~0u << (i & 31u));
        if (w != 0u) break;
        i = (i >> 5) + 1u;
    }
    if (TARN_UNLIKELY(w == 0u)) return h->ngran;   /* damaged tree: stay inside */
    i = (i & ~31u) | tarn_ctz_u32(w);              /* a non-empty word of level l - 1 */
    while (l > 0) {
        l--;
        i = (i << 5) | tarn_ctz_u32(tree_level(h, l)[i]);
    }
    return i;
}

/* Smallest block start >= i, for i <= N (S[N] is set, so one exists).  Blocks shorter
 * than a few hundred granules are found in level 0 or 1, inline. */
static inline uint32_t next_start(const tarn_heap *h, uint32_t i)
{
    uint32_t w = h->smap[i >> 5] & (~0u << (i & 31u)), j;
    if (TARN_LIKELY(w != 0u)) return (i & ~31u) | tarn_ctz_u32(w);
    j = (i >> 5) + 1u;                             /* next level-0 word = level-1 bit */
    w = h->s1[j >> 5] & (~0u << (j & 31u));
    if (TARN_LIKELY(w != 0u)) {
        j = (j & ~31u) | tarn_ctz_u32(w);
        return (j << 5) | tarn_ctz_u32(h->smap[j]);
    }
    return next_start_far(h, (j >> 5) + 1u);
}

/* Largest block start <= i, climbing from tree level 2 (i: bit index there). */
static HEAP_NOINLINE uint32_t prev_start_far(const tarn_heap *h, uint32_t i)
{
    unsigned l;
    uint32_t w = 0;
    for (l = 2; l < h->depth; l++) {
        w = tree_level(h, l)[i >> 5] & (0xFFFFFFFFu >> (31u - (i & 31u)));
        if (w != 0u || (i >> 5) == 0u) break;
        i = (i >> 5) - 1u;
    }
    if (TARN_UNLIKELY(w == 0u)) return 0u;         /* damaged tree: stay inside */
    i = (i & ~31u) | tarn_log2_u32(w);
    while (l > 0) {
        l--;
        i = (i << 5) | tarn_log2_u32(tree_level(h, l)[i]);
    }
    return i;
}

/* Largest block start <= i (S[0] is set, so one exists). */
static inline uint32_t prev_start(const tarn_heap *h, uint32_t i)
{
    uint32_t w = h->smap[i >> 5] & (0xFFFFFFFFu >> (31u - (i & 31u))), j;
    if (TARN_LIKELY(w != 0u)) return (i & ~31u) | tarn_log2_u32(w);
    j = i >> 5;
    if (TARN_UNLIKELY(j == 0u)) return 0u;         /* damaged: S[0] must be set */
    j--;                                           /* previous level-0 word = level-1 bit */
    w = h->s1[j >> 5] & (0xFFFFFFFFu >> (31u - (j & 31u)));
    if (TARN_LIKELY(w != 0u)) {
        j = (j & ~31u) | tarn_log2_u32(w);
        return (j << 5) | tarn_log2_u32(h->smap[j]);
    }
    j >>= 5;
    if (TARN_UNLIKELY(j == 0u)) return 0u;
    return prev_start_far(h, j - 1u);
}

/* ---- size classes --------------------------------------------------------------------- */
static inline uint32_t class_k(uint32_t u, unsigned k)
{
    uint32_t e = tarn_log2_u32(u | ((2u << k) - 1u)) - k;
    return (e << k) + (u >> e);
}
/* Smallest size (granules) in class c. */
static inline uint32_t class_lb_k(uint32_t c, unsigned k)
{
    uint32_t e;
    if (c < (2u << k)) return c;
    e = (c >> k) - 1u;
    return (c - (e << k)) << e;
}

/* Sizes below 2^(k+1) granules (up to 504 bytes with k = 5) have a class of their own,
 * equal to the size: one compare instead of a bit scan and two shifts. */
static HEAP_NOINLINE uint32_t cls_of_big(const tarn_heap *h, uint32_t u)
{
    uint32_t e = tarn_log2_u32(u) - h->k;
    return (e << h->k) + (u >> e);
}
static inline uint32_t cls_of(const tarn_heap *h, uint32_t u)
{
    return TARN_LIKELY(u <= h->lmask) ? u : cls_of_big(h, u);
}
#if HEAP_FAST_PATHS
/* cls_of without a call, for the call-free fast paths. */
static HEAP_INLINE uint32_t cls_of_leaf(const tarn_heap *h, uint32_t u)
{
    uint32_t e;
    if (TARN_LIKELY(u <= h->lmask)) return u;
    e = tarn_log2_u32(u) - h->k;
    return (e << h->k) + (u >> e);
}
#endif
static HEAP_NOINLINE uint32_t cls_up_big(const tarn_heap *h, uint32_t u)
{
    uint32_t e = tarn_log2_u32(u) - h->k;
    return (e << h->k) + ((u + (1u << e) - 1u) >> e);
}
static inline uint32_t cls_up(const tarn_heap *h, uint32_t u)
{
    return TARN_LIKELY(u <= h->lmask) ? u : cls_up_big(h, u);
}

static inline void cls_mark(tarn_heap *h, uint32_t c)
{
    h->groups[c >> 5] |= 1u << (c & 31u);
    h->top |= 1u << (c >> 5);
}
static inline void cls_unmark(tarn_heap *h, uint32_t c)
{
    uint32_t g = c >> 5;
    h->groups[g] &= ~(1u << (c & 31u));
    if (h->groups[g] == 0u) h->top &= ~(1u << g);
}
/* Smallest non-empty class >= c, or NIL. */
static inline uint32_t cls_find(const tarn_heap *h, uint32_t c)
{
    uint32_t g = c >> 5;
    uint32_t w = h->groups[g] & (~0u << (c & 31u));
    if (w == 0u) {
        uint32_t t = h->top & (~1u << g);
        if (t == 0u) return NIL;
        g = tarn_ctz_u32(t);
        w = h->groups[g];
    }
    return (g << 5) | tarn_ctz_u32(w);
}

/* ---- free-list nodes (the first granule of a free block) -------------------------------- */
static inline uint32_t *node_at(const tarn_heap *h, uint32_t x)
{
    return (uint32_t *)(void *)(h->blocks + ((size_t)x << LG));
}
static inline void node_read(const tarn_heap *h, uint32_t x, uint32_t *next, uint32_t *prev)
{
    uint32_t *w = node_at(h, x);
    TARN_SAN_OPEN(w, 8);
    *next = w[0];
    *prev = w[1];
    TARN_SAN_CLOSE(w, 8);
}
static inline void node_write(const tarn_heap *h, uint32_t x, uint32_t next, uint32_t prev)
{
    uint32_t *w = node_at(h, x);
    TARN_SAN_OPEN(w, 8);
    w[0] = next;
    w[1] = prev;
    TARN_SAN_CLOSE(w, 8);
}
static inline void node_set_next(const tarn_heap *h, uint32_t x, uint32_t next)
{
    uint32_t *w = node_at(h, x);
    TARN_SAN_OPEN(w, 4);
    w[0] = next;
    TARN_SAN_CLOSE(w, 4);
}
static inline void node_set_prev(const tarn_heap *h, uint32_t x, uint32_t prev)
{
    uint32_t *w = node_at(h, x) + 1;
    TARN_SAN_OPEN(w, 4);
    *w = prev;
    TARN_SAN_CLOSE(w, 4);
}

/* v may be followed as a free-list link: inside the heap with its free bit set.  (Exact
 * "free block start" also needs S[v]; F alone differs only at the alignment fields of
 * over-aligned used blocks, see the top of the file.) */
static inline bool is_free_node(const tarn_heap *h, uint32_t v)
{
    return v < h->ngran && bit_get(h->fmap, v) != 0u;
}

/* v is the start of a free block. */
static inline bool is_free_start(const tarn_heap *h, uint32_t v)
{
    return is_free_node(h, v) && bit_get(h->smap, v) != 0u;
}

/* Links (next, prev) read from free block x may be followed. */
static inline bool links_ok(const tarn_heap *h, uint32_t x, uint32_t next, uint32_t prev)
{
    if (next != NIL && !is_free_node(h, next)) return false;
    if (prev & TAG) {
        uint32_t c = prev & ~TAG;
        return c < h->nclasses && h->heads[c] == x;
    }
    return is_free_node(h, prev);
}

static inline void list_push(tarn_heap *h, uint32_t x, uint32_t c)
{
    uint32_t old = h->heads[c];
    node_write(h, x, old, TAG | c);
    h->heads[c] = x;
    if (old != NIL) {
        node_set_prev(h, old, x);
    } else {
        cls_mark(h, c);
    }
}

/* Remove a node whose links (next, prev) were read and validated. */
static inline void list_unlink(tarn_heap *h, uint32_t next, uint32_t prev)
{
    if (prev & TAG) {
        uint32_t c = prev & ~TAG;
        h->heads[c] = next;
        if (next == NIL) cls_unmark(h, c);
    } else {
        node_set_next(h, prev, next);
    }
    if (next != NIL) node_set_prev(h, next, prev);
}

/* Remove x, the head of class c.  False (nothing changed) if its links are damaged. */
static inline bool list_pop_head(tarn_heap *h, uint32_t x, uint32_t c)
{
    uint32_t next, prev;
    node_read(h, x, &next, &prev);
#if HEAP_CHECKING
    if (TARN_UNLIKELY(prev != (TAG | c) || (next != NIL && !is_free_node(h, next)))) return false;
#else
    (void)prev;
#endif
    h->heads[c] = next;
    if (next != NIL) {
        node_set_prev(h, next, TAG | c);
    } else {
        cls_unmark(h, c);
    }
    return true;
}

/* ---- over-aligned blocks ---------------------------------------------------------------- */
/* log2 of the alignment recorded for the used block [g, g+sz), or 0 if none. */
static uint32_t align_get(const tarn_heap *h, uint32_t g, uint32_t sz)
{
    uint32_t v = 0, i;
    if (sz < AL_MIN || bit_get(h->fmap, g + 1u) == 0u) return 0u;
    for (i = 0; i < 5u; i++) v |= bit_get(h->fmap, g + 2u + i) << i;
    return v + LG + 1u;
}
static void align_put(tarn_heap *h, uint32_t g, uint32_t log2a)
{
    uint32_t v = log2a - LG - 1u, i;
    bit_set(h->fmap, g + 1u);
    for (i = 0; i < 5u; i++) {
        if ((v >> i) & 1u) bit_set(h->fmap, g + 2u + i);
    }
}
static void align_clear(tarn_heap *h, uint32_t g)
{
    uint32_t i;
    for (i = 1; i < AL_MIN; i++) bit_clr(h->fmap, g + i);
}

/* ---- geometry -------------------------------------------------------------------------- */
typedef struct heap_geom {
    uint32_t n, k, nclasses, ngroups, fwords, swords, depth;
    uint32_t lvl[TARN_HEAP_TREE_MAX];
    size_t ctrl;   /* bytes from the heap struct to granule 0 (a multiple of G) */
} heap_geom;

static void geom_for(heap_geom *g, uint32_t n, uint32_t k)
{
    uint32_t bits = n + 1u, words, off = 0;
    g->n = n;
    g->k = k;
    g->nclasses = class_k(n, k) + 2u;       /* + 1 spare: class_up(n) may be class(n) + 1 */
    g->ngroups = (g->nclasses + 31u) >> 5;
    g->fwords = (n + 1u + 31u) >> 5;
    g->depth = 0;
    do {
        words = (bits + 31u) >> 5;
        g->lvl[g->depth++] = off;
        off += words;
        bits = words;
    } while (words > 1u);
    g->swords = off;
    g->ctrl = TARN_ALIGN_UP(sizeof(tarn_heap) +
                                (size_t)4u * (g->nclasses + g->ngroups + g->fwords + g->swords),
                            (size_t)G);
}

/* Classes per octave for a buffer of `avail` bytes: the class table within 1/16 of it. */
static uint32_t geom_k(size_t avail)
{
    uint32_t k;
    size_t n = avail >> LG;
    if (n > HEAP_MAX_GRAN) n = HEAP_MAX_GRAN;
    if (n == 0u) return 0u;
    for (k = 5; k > 0; k--) {
        if ((size_t)4u * (class_k((uint32_t)n, k) + 2u) <= avail / 16u) break;
    }
    return k;
}

/* Largest heap fitting in `avail` bytes starting at a G-aligned address. */
static bool geom_layout(heap_geom *g, size_t avail)
{
    uint32_t k = geom_k(avail), lo = 0, hi;
    size_t maxn = avail >> LG;
    hi = maxn > HEAP_MAX_GRAN ? HEAP_MAX_GRAN : (uint32_t)maxn;
    while (lo < hi) {   /* largest n in [0, hi] with ctrl(n) + n G <= avail */
        uint32_t mid = lo + (hi - lo + 1u) / 2u;
        geom_for(g, mid, k);
        if (g->ctrl <= avail && ((size_t)mid << LG) <= avail - g->ctrl) {
            lo = mid;
        } else {
            hi = mid - 1u;
        }
    }
    if (lo == 0u) return false;
    geom_for(g, lo, k);
    return true;
}

/* ---- validation --------------------------------------------------------------------------- */
static inline bool heap_valid(const tarn_heap *h)
{
#if HEAP_CHECKING
    return h != NULL && h->self == h;
#else
    return h != NULL;
#endif
}

/* Granule of the live block starting at p, or why p is not one.  O(1), reads no byte of
 * the block.  At level 0 only NULL is rejected. */
static tarn_status heap_locate(const tarn_heap *h, const void *p, uint32_t *out)
{
    uintptr_t d;
    if (TARN_UNLIKELY(p == NULL)) return TARN_EINVAL;
    d = (uintptr_t)p - (uintptr_t)h->blocks;
#if HEAP_CHECKING
    if (TARN_UNLIKELY(d >= (uintptr_t)h->nbytes || (d & (G - 1u)) != 0u)) return TARN_EFOREIGN;
    *out = (uint32_t)(d >> LG);
    if (TARN_UNLIKELY(bit_get(h->smap, *out) == 0u)) return TARN_EFOREIGN;
    if (TARN_UNLIKELY(bit_get(h->fmap, *out) != 0u)) return TARN_EDOUBLE;
#else
    *out = (uint32_t)(d >> LG);
#endif
    return TARN_OK;
}

static tarn_status heap_check_locked(const tarn_heap *h);

#if TARN_CHECK_LEVEL >= 2
#define HEAP_DEEP_CHECK_FAILS(h) (heap_check_locked(h) != TARN_OK)
#else
#define HEAP_DEEP_CHECK_FAILS(h) 0
#endif

/* Record a failed allocation; returns NULL. */
static HEAP_COLD void *heap_alloc_fail(tarn_heap *h, size_t size, tarn_status st)
{
    h->last_error = (uint8_t)st;
    TARN_STAT(h->failed++);
    HEAP_TRACE(h, TARN_HEAP_EV_FAIL, NULL, size, st);
    (void)size;
    return NULL;
}

/* Record a rejected call; returns st. */
static HEAP_COLD tarn_status heap_reject(tarn_heap *h, const void *p, tarn_status st)
{
    h->last_error = (uint8_t)st;
    HEAP_TRACE(h, TARN_HEAP_EV_REJECT, p, 0u, st);
    (void)p;
    return st;
}

/* A rejected free or realloc: with TARN_F_SAN_REPORT also report it to the memory tool
 * (a double free or a foreign / interior pointer) with the caller's stack. */
static HEAP_COLD tarn_status heap_reject_free(tarn_heap *h, const void *p, tarn_status st)
{
    if ((h->flags & HEAP_FL_REPORT) != 0u && (st == TARN_EDOUBLE || st == TARN_EFOREIGN)) {
        TARN_SAN_REPORT_BAD_FREE(h, p);
    }
    return heap_reject(h, p, st);
}

/* Clear / poison the bytes of a block being freed (while they are still accessible). */
static inline void heap_scrub(const tarn_heap *h, unsigned char *p, size_t n)
{
    if (TARN_UNLIKELY((h->flags & TARN_HEAP_F_CLEAR_FREED) != 0u)) {
        memset(p, 0, n);            /* the run-time request wins over TARN_POISON_FREE */
    } else {
        TARN_FILL_FREED(p, n);
    }
    (void)h;
    (void)p;
    (void)n;
}

/* Granules for a request of `size` bytes (1 <= size <= nbytes), guard and trailer
 * included in canary mode. */
static inline uint32_t heap_units(size_t size)
{
    return (uint32_t)((size + HEAP_EXTRA + (G - 1u)) >> LG);
}

/* ---- canary mode ------------------------------------------------------------------------ */
#if TARN_GUARD
/* The trailer word: slack in the low half, its complement in the high half, so that
 * any damage confined to the trailer is seen too. */
#define GUARD_WORD(slack) ((uint32_t)(slack) | (((uint32_t)(slack) ^ 0xFFFFu) << 16))
/* slack < max(7 G, TARN_HEAP_EXTRA + G): it fits in the low half */
TARN_STATIC_ASSERT(TARN_HEAP_EXTRA + 7u * TARN_HEAP_GRANULE <= 0xFFFFu, heap_guard_slack_fits_16_bits);

/* Write the guard and trailer of the used block [p, p + bytes) handed out for n bytes. */
static void guard_put(unsigned char *p, size_t bytes, size_t n)
{
    uint32_t slack = GUARD_WORD(bytes - n);
    unsigned char *t = p + bytes - HEAP_TRAILER;
    tarn_guard_fill(p + n, bytes - n - HEAP_TRAILER);
    TARN_SAN_OPEN(t, HEAP_TRAILER);
    memcpy(t, &slack, HEAP_TRAILER);
    /* closed as one region: AddressSanitizer's shadow keeps only an accessible prefix
     * of each 8 bytes, so closing the trailer alone would reopen guard bytes before it */
    TARN_SAN_CLOSE(p + n, bytes - n);
}

/* The slack recorded in the trailer of the used block [p, p + bytes), or 0xFFFFFFFF
 * when the trailer is damaged. */
static uint32_t guard_tail(const unsigned char *p, size_t bytes)
{
    uint32_t w;
    tarn_san_peek(&w, p + bytes - HEAP_TRAILER, HEAP_TRAILER);
    return w == GUARD_WORD(w & 0xFFFFu) ? (w & 0xFFFFu) : 0xFFFFFFFFu;
}

/* Bytes the caller may use in the used block [p, p + bytes), from its trailer; SIZE_MAX
 * when the trailer or the guard is damaged.  Reads only the block's own tail. */
static size_t guard_live(const unsigned char *p, size_t bytes)
{
    uint32_t slack = guard_tail(p, bytes);
    if (slack > 0xFFFFu || slack < HEAP_EXTRA || slack > bytes) return SIZE_MAX;
    if (!tarn_guard_intact(p + bytes - slack, slack - HEAP_TRAILER)) return SIZE_MAX;
    return bytes - slack;
}
#endif

/* Bytes the caller may use in the used block of sz granules at p (SIZE_MAX: damaged
 * guard).  Without canary mode: the whole block. */
static inline size_t heap_live(const unsigned char *p, uint32_t sz)
{
#if TARN_GUARD
    return guard_live(p, (size_t)sz << LG);
#else
    (void)p;
    return (size_t)sz << LG;
#endif
}

/* The block of u granules at granule g was just taken for `size` requested bytes: hand
 * it out (memory tools, guard, counters, trace).  Returns its address. */
static inline void *heap_hand_out(tarn_heap *h, uint32_t g, uint32_t u, size_t size)
{
    unsigned char *p = h->blocks + ((size_t)g << LG);
    size_t bytes = (size_t)u << LG;
#if TARN_GUARD
    guard_put(p, bytes, size);
#else
    size = bytes;                   /* the whole block is the caller's */
#endif
    TARN_SAN_ALLOC(h, p, size);
    HEAP_TRACE(h, TARN_HEAP_EV_ALLOC, p, size, TARN_OK);
    TARN_STAT(h->used += size; if (h->used > h->peak) h->peak = h->used; h->allocs++);
    return p;
}

/* ---- quarantine ------------------------------------------------------------------------- */
#if TARN_QUARANTINE > 0
/* Freed blocks are filled (TARN_POISON_FREE, or TARN_HEAP_F_CLEAR_FREED): the byte a held
 * block must still hold, or -1 when they are not. */
static inline int heap_fill_byte(const tarn_heap *h)
{
    if ((h->flags & TARN_HEAP_F_CLEAR_FREED) != 0u) return 0;
    return TARN_POISON_FREE ? (int)TARN_POISON_BYTE : -1;
}
#define HEAP_HOLDS(h, p) ((h)->quarantine.count != 0u && tarn_q_holds(&(h)->quarantine, (p)))
#else
#define HEAP_HOLDS(h, p) ((void)(h), (void)(p), false)
#endif

/* heap_locate, and a block held by the quarantine is already freed: TARN_EDOUBLE. */
static inline tarn_status heap_locate_live(const tarn_heap *h, const void *p, uint32_t *out)
{
    tarn_status st = heap_locate(h, p, out);
    if (st == TARN_OK && HEAP_HOLDS(h, p)) st = TARN_EDOUBLE;
    return st;
}

/* ---- the core ----------------------------------------------------------------------------- */
/* ---- the remembered block --------------------------------------------------------------
 * Sizes come from bitmap scans, which climb the summary tree for blocks of more than
 * about a thousand granules.  The heap remembers the extent of one such free block (I6:
 * if mb_start != NIL, [mb_start, mb_end) is exactly a free block): splitting it or
 * merging into it then costs no scan - the common case of a heap working at one end of
 * a large free area.  Every operation that changes that block keeps the memo right. */
#define MEMO_MIN 256u   /* blocks from this many granules are remembered when scanned */

/* End of the free block starting at x, found by a scan that leaves x's S word; the
 * block is remembered when it is large. */
static HEAP_NOINLINE uint32_t heap_memo_scan(tarn_heap *h, uint32_t x)
{
    uint32_t end = next_start(h, x + 1u);
    if (end - x >= MEMO_MIN) {
        h->mb_start = x;
        h->mb_end = end;
    }
    return end;
}

/* End of the free block starting at x (any length). */
static inline uint32_t free_end(const tarn_heap *h, uint32_t x)
{
    if (x == h->mb_start && h->mb_end <= h->ngran && h->mb_end > x) return h->mb_end;
    return next_start(h, x + 1u);
}

/* Start of the block ending at g (g > 0): the remembered block, or a scan. */
static inline uint32_t block_before(const tarn_heap *h, uint32_t g)
{
    return (g == h->mb_end && h->mb_start < g) ? h->mb_start : prev_start(h, g - 1u);
}

/* The free block [x, end) was just formed by a merge that may have involved the
 * remembered block (which started at `a` or `b`): keep I6. */
static inline void memo_merged(tarn_heap *h, uint32_t a, uint32_t b, uint32_t x, uint32_t end)
{
    if (h->mb_start == a || h->mb_start == b || end - x >= MEMO_MIN) {
        h->mb_start = x;
        h->mb_end = end;
    }
}

/* Requests of u > 2^(k+1) granules first look at the head of their own class (which
 * good fit alone never uses for them: its blocks may be shorter than u): a block that
 * fits there is a closer fit than any the search below returns.  O(1).  It only adds
 * successes, so the worst-case bound (which rests on the search alone) is unaffected. */
static HEAP_NOINLINE uint32_t heap_own_class(const tarn_heap *h, uint32_t u)
{
    uint32_t c = cls_of(h, u), x;
    if (bit_get(h->groups, c) == 0u) return NIL;
    x = h->heads[c];
    if (!is_free_node(h, x)) return c;          /* let the caller report the damage */
    return free_end(h, x) - x >= u ? c : NIL;
}

/* Take a block of exactly u granules (1 <= u <= N), the tail of the head of the smallest
 * class holding only blocks >= u.  Returns its granule, or NIL with *st set (nothing
 * changed). */
static HEAP_INLINE uint32_t heap_take(tarn_heap *h, uint32_t u, tarn_status *st)
{
    uint32_t c = NIL, fb, end, rem;
    if (TARN_UNLIKELY(u > h->lmask)) c = heap_own_class(h, u);
    if (c == NIL) {
        c = cls_find(h, cls_up(h, u));
        if (TARN_UNLIKELY(c == NIL)) {
            *st = TARN_ENOMEM;
            return NIL;
        }
    }
    fb = h->heads[c];
#if HEAP_CHECKING
    if (TARN_UNLIKELY(!is_free_node(h, fb))) goto corrupt;
#endif
    if (fb == h->mb_start) {
        end = h->mb_end;              /* the remembered block: no scan */
#if HEAP_CHECKING
        if (TARN_UNLIKELY(end > h->ngran)) goto corrupt;
#endif
    } else {                          /* in fb's own S word when the block is short */
        uint32_t sw = h->smap[fb >> 5] & (0u - ((1u << (fb & 31u)) << 1));
        end = TARN_LIKELY(sw != 0u) ? ((fb & ~31u) | tarn_ctz_u32(sw))
                                    : heap_memo_scan(h, fb);
    }
    rem = end - fb - u;
#if HEAP_CHECKING
    if (TARN_UNLIKELY(rem > end - fb)) goto corrupt;   /* block shorter than u: mislisted */
#endif
    if (TARN_LIKELY(rem != 0u)) {
        uint32_t c2 = cls_of(h, rem);
        if (c2 != c) {
            if (TARN_UNLIKELY(!list_pop_head(h, fb, c))) goto corrupt;
            list_push(h, fb, c2);
        }
        start_set(h, fb + rem);        /* F there is 0: it was inside a free block */
        if (fb == h->mb_start) h->mb_end = fb + rem;
        return fb + rem;
    }
    if (TARN_UNLIKELY(!list_pop_head(h, fb, c))) goto corrupt;
    bit_clr(h->fmap, fb);
    if (fb == h->mb_start) h->mb_start = NIL;
    return fb;
corrupt:
    *st = TARN_ECORRUPT;
    return NIL;
}

/* How release() is used: freeing a whole block, the tail cut off a block resized in
 * place (whose memory-tool state and counters the caller handles), or a block leaving
 * the quarantine (already filled and poisoned when it was freed). */
#define REL_BLOCK 1
#define REL_TAIL 0
#define REL_HELD 2

/* Make the used run [g, end) free, merged at once with free neighbours; the block before
 * it starts at pg and is free when pf (pg = g when g = 0).  All links that
 * will be followed are validated first: on TARN_ECORRUPT nothing has changed (and when
 * freeing a whole block, the rejection is recorded as for the caller's free). */
static HEAP_NOINLINE tarn_status heap_release_at(tarn_heap *h, uint32_t g, uint32_t end,
                                                 uint32_t pg, bool pf, int mode)
{
    uint32_t nend = end, cp = 0, cn = 0, nnx = 0, npv = 0, x, y;
    bool nf = bit_get(h->fmap, end) != 0u;   /* F[N] = 0 */
    if (TARN_UNLIKELY(nf)) {
        node_read(h, end, &nnx, &npv);
#if HEAP_CHECKING
        if (TARN_UNLIKELY(!links_ok(h, end, nnx, npv))) goto corrupt;
#endif
        nend = free_end(h, end);
    }
    if (pf) {
        cp = cls_of(h, g - pg);
        cn = cls_of(h, nend - pg);
#if HEAP_CHECKING
        if (cp != cn) {
            node_read(h, pg, &x, &y);
            if (TARN_UNLIKELY(!links_ok(h, pg, x, y))) goto corrupt;
        }
#endif
    }
    /* validated: from here on nothing can fail */
    if (mode != REL_TAIL) {
        unsigned char *p = h->blocks + ((size_t)g << LG);
        size_t bytes = (size_t)(end - g) << LG;
        if (end - g >= AL_MIN && bit_get(h->fmap, g + 1u) != 0u) align_clear(h, g);
        if (mode == REL_BLOCK) {   /* (a held block was handled when it was freed) */
#if TARN_GUARD
            uint32_t slack = guard_tail(p, bytes);
            size_t live = slack <= bytes ? bytes - slack : 0u;   /* validated by the caller */
            TARN_SAN_OPEN(p + live, bytes - live);     /* guard and trailer */
            heap_scrub(h, p, bytes);
            TARN_SAN_CLOSE(p + live, bytes - live);
#else
            size_t live = bytes;
            heap_scrub(h, p, bytes);
#endif
            HEAP_TRACE(h, TARN_HEAP_EV_FREE, p, live, TARN_OK);
            TARN_SAN_FREE(h, p, bytes);
            TARN_STAT(h->used -= live; h->frees++);
            (void)live;
        }
    }
    if (nf) {
        list_unlink(h, nnx, npv);
        bit_clr(h->fmap, end);
        start_clr(h, end);
    }
    if (pf) {
        start_clr(h, g);
        if (cp != cn) {
            node_read(h, pg, &x, &y);      /* (re)read: the unlink above may have changed them */
            list_unlink(h, x, y);
            list_push(h, pg, cn);
        }
        memo_merged(h, pg, nf ? end : pg, pg, nend);
    } else {
        bit_set(h->fmap, g);
        list_push(h, g, cls_of(h, nend - g));
        if (nf) memo_merged(h, end, end, g, nend);
    }
    return TARN_OK;
#if HEAP_CHECKING
corrupt:   /* a freed block's rejection is recorded here, so free can tail-call this */
    if (mode == REL_BLOCK) return heap_reject(h, h->blocks + ((size_t)g << LG), TARN_ECORRUPT);
    return TARN_ECORRUPT;
#endif
}

/* The block before the one at g in *pg (g itself when g = 0); true when it is free. */
static inline bool heap_left(const tarn_heap *h, uint32_t g, uint32_t *pg)
{
    *pg = g;
    if (g == 0u) return false;
    *pg = block_before(h, g);
    return bit_get(h->fmap, *pg) != 0u;
}

/* heap_release_at, finding the left neighbour itself. */
static tarn_status heap_release(tarn_heap *h, uint32_t g, uint32_t end, int mode)
{
    uint32_t pg;
    bool pf = heap_left(h, g, &pg);
    return heap_release_at(h, g, end, pg, pf, mode);
}

/* ---- init / destroy ---------------------------------------------------------------------- */
tarn_status tarn_heap_init(tarn_heap **out, void *mem, size_t size, const tarn_config *cfg)
{
    heap_geom geo;
    size_t pad, avail, i;
    tarn_heap *h;
    unsigned char *base;
    uint32_t *words;

    if (out != NULL) *out = NULL;
    if (out == NULL || mem == NULL) return TARN_EINVAL;
    if (cfg != NULL &&
        (!tarn_lock_valid(&cfg->lock) ||
         (cfg->flags & ~(uint32_t)(TARN_HEAP_F_CLEAR_FREED | TARN_F_SAN_REPORT |
                                   TARN_F_QUARANTINE)) != 0u)) {
        return TARN_EINVAL;
    }
    pad = (size_t)((G - ((uintptr_t)mem & (G - 1u))) & (G - 1u));
    if (size < pad) return TARN_ETOOSMALL;
    avail = size - pad;
    if (!geom_layout(&geo, avail) || geo.n < heap_units(1u)) return TARN_ETOOSMALL;

    base = (unsigned char *)mem + pad;
    h = (tarn_heap *)(void *)base;
    /* A heap re-initialised without tarn_heap_destroy: forget the old pool's blocks
     * (which makes them inaccessible) before the new control structure is written. */
    TARN_SAN_POOL_CREATE(h);
    TARN_SAN_DEFINED(mem, size);
    memset(base, 0, geo.ctrl);
    words = (uint32_t *)(void *)(base + sizeof(tarn_heap));
    h->heads = words;
    h->groups = h->heads + geo.nclasses;
    h->fmap = h->groups + geo.ngroups;
    h->smap = h->fmap + geo.fwords;
    h->s1 = h->smap + geo.lvl[geo.depth > 1u ? 1u : 0u];
    h->ngran = geo.n;
    h->blocks = base + geo.ctrl;
    h->nbytes = (size_t)geo.n << LG;
    h->nclasses = geo.nclasses;
    h->k = (uint8_t)geo.k;
    h->lmask = (2u << geo.k) - 1u;
    h->depth = (uint8_t)geo.depth;
    for (i = 0; i < geo.depth; i++) h->lvl[i] = geo.lvl[i];
    for (i = 0; i < geo.nclasses; i++) h->heads[i] = NIL;
    h->mem = mem;
    h->mem_size = size;
    h->last_error = TARN_OK;
    if (cfg != NULL) {
        h->lock = cfg->lock;
        h->name = cfg->name;
        h->flags = (uint8_t)(cfg->flags & TARN_HEAP_F_CLEAR_FREED);
        if ((cfg->flags & TARN_F_SAN_REPORT) != 0u) h->flags |= HEAP_FL_REPORT;
    }
#if TARN_QUARANTINE > 0
    tarn_q_init(&h->quarantine, cfg != NULL ? cfg->flags : 0u);
#endif
    h->self = h;

    if (pad != 0u) TARN_SAN_NOACCESS(mem, pad);
    TARN_SAN_NOACCESS(h->blocks, size - pad - geo.ctrl);
    start_set(h, 0u);
    start_set(h, geo.n);
    bit_set(h->fmap, 0u);
    list_push(h, 0u, cls_of(h, geo.n));
    h->mb_start = 0u;
    h->mb_end = geo.n;
    *out = h;
    return TARN_OK;
}

tarn_status tarn_heap_destroy(tarn_heap *h)
{
    void *mem;
    size_t size;
    if (!heap_valid(h)) return TARN_EINVAL;
    TARN_LOCK(h->lock);
    mem = h->mem;
    size = h->mem_size;
    h->self = NULL;
    TARN_UNLOCK(h->lock);
    TARN_SAN_POOL_DESTROY(h);
    TARN_SAN_DEFINED(mem, size);
    (void)mem;
    (void)size;
    return TARN_OK;
}

/* ---- allocation ------------------------------------------------------------------------- */
/* Release the oldest block held by the quarantine: true if there was one. */
#if TARN_QUARANTINE > 0
static tarn_status heap_q_release(tarn_heap *h, void *p);
static HEAP_NOINLINE bool heap_q_relieve(tarn_heap *h)
{
    void *p = tarn_q_pop(&h->quarantine);
    if (p == NULL) return false;
    (void)heap_q_release(h, p);
    return true;
}
#define HEAP_Q_RELIEVE(h) heap_q_relieve(h)
#else
#define HEAP_Q_RELIEVE(h) ((void)(h), false)
#endif

/* Allocate without recording a failure: NULL with *st set (nothing changed). */
static HEAP_INLINE void *heap_alloc_try(tarn_heap *h, size_t size, tarn_status *st)
{
    uint32_t u, g;
    if (HEAP_DEEP_CHECK_FAILS(h)) {
        *st = TARN_ECORRUPT;
        return NULL;
    }
    if (TARN_UNLIKELY(size - 1u >= h->nbytes)) {
        *st = size == 0u ? TARN_EINVAL : TARN_ENOMEM;
        return NULL;
    }
    u = heap_units(size);
    g = heap_take(h, u, st);
    while (TARN_UNLIKELY(g == NIL) && *st == TARN_ENOMEM && HEAP_Q_RELIEVE(h)) {
        g = heap_take(h, u, st);
    }
    if (TARN_UNLIKELY(g == NIL)) return NULL;
    return heap_hand_out(h, g, u, size);
}

static HEAP_NOINLINE void *heap_alloc_slow(tarn_heap *h, size_t size, tarn_status *st);

#if HEAP_FAST_PATHS
/* The exact-fit fast path: the request's own (exact) class has a block.  Its size is
 * checked against the start bitmap (the next start must be exactly u granules on),
 * from one S word or, when the block straddles two, from both.  NULL: not this case
 * (nothing changed); the general path decides. */
static HEAP_INLINE void *heap_alloc_exact(tarn_heap *h, uint32_t u)
{
    uint32_t fb, sh, fw, sw, next, prev;
    uint32_t *node;
    fb = h->heads[u];
    if (TARN_UNLIKELY(fb >= h->ngran)) return NULL;
    sh = fb & 31u;
    fw = h->fmap[fb >> 5];
    sw = h->smap[fb >> 5] >> sh;                  /* bit 0: fb */
#if HEAP_CHECKING
    if (TARN_UNLIKELY(((fw >> sh) & 1u) == 0u)) return NULL;
#endif
    if (sh + u < 32u) {
        /* bits fb+1 .. fb+u-1 clear, bit fb+u set */
        if ((sw & ((2u << u) - 1u)) != (1u | (1u << u))) return NULL;
    } else if (sh + u < 64u) {                    /* the next start is in the next word */
        uint32_t e = (fb + u) & 31u, sw1 = h->smap[(fb >> 5) + 1u];
        if ((sw >> 1) != 0u || (sw1 & ((2u << e) - 1u)) != (1u << e)) return NULL;
    } else {
        return NULL;
    }
    node = node_at(h, fb);
    TARN_SAN_OPEN(node, 8);
    next = node[0];
    prev = node[1];
    TARN_SAN_CLOSE(node, 8);
#if HEAP_CHECKING
    if (TARN_UNLIKELY(prev != (TAG | u) || (next != NIL && !is_free_node(h, next)))) return NULL;
#else
    (void)prev;
#endif
    h->heads[u] = next;
    if (next != NIL) {
        node_set_prev(h, next, TAG | u);
    } else {
        cls_unmark(h, u);
    }
    h->fmap[fb >> 5] = fw & ~(1u << sh);
    if (TARN_UNLIKELY(fb == h->mb_start)) h->mb_start = NIL;
    return heap_hand_out(h, fb, u, (size_t)u << LG);
}

/* Allocate size bytes, u granules, whose exact class is not empty: the fast path, else
 * the general one.  Out of line, so that a request whose class is empty reaches the
 * general path without this path's register saves. */
static HEAP_NOINLINE void *heap_alloc_fast(tarn_heap *h, size_t size, uint32_t u)
{
    void *p = heap_alloc_exact(h, u);
    return p != NULL ? p : heap_alloc_slow(h, size, NULL);
}
#endif

/* The one out-of-line copy of the general allocation (the fast path's fallback, realloc,
 * locked paths).  A failure is recorded; with st not NULL it is only reported in *st
 * (realloc may still succeed in place). */
static HEAP_NOINLINE void *heap_alloc_slow(tarn_heap *h, size_t size, tarn_status *st)
{
    tarn_status s = TARN_OK;
    void *p = heap_alloc_try(h, size, &s);
    if (TARN_UNLIKELY(p == NULL)) {
        if (st == NULL) return heap_alloc_fail(h, size, s);
        *st = s;
    }
    return p;
}

#if TARN_LOCKING
static HEAP_NOINLINE void *heap_alloc_locked(tarn_heap *h, size_t size)
{
    void *p;
    TARN_LOCK(h->lock);
    p = heap_alloc_slow(h, size, NULL);
    TARN_UNLOCK(h->lock);
    return p;
}
#endif

void *tarn_heap_alloc(tarn_heap *h, size_t size)
{
    if (TARN_UNLIKELY(!heap_valid(h))) return NULL;
#if TARN_LOCKING
    if (h->lock.lock != NULL) return heap_alloc_locked(h, size);
#endif
#if HEAP_FAST_PATHS
    if (TARN_LIKELY(size - 1u < (size_t)h->lmask << LG)) {   /* 1 .. 2^(k+1)-1 granules */
        uint32_t u = (uint32_t)((size + (G - 1u)) >> LG);
        if ((h->groups[u >> 5] & (1u << (u & 31u))) != 0u) return heap_alloc_fast(h, size, u);
    }
#endif
    return heap_alloc_slow(h, size, NULL);
}

void *tarn_heap_calloc(tarn_heap *h, size_t nitems, size_t size)
{
    void *p;
    if (!heap_valid(h)) return NULL;
    if (size != 0u && nitems > SIZE_MAX / size) {
        TARN_LOCK(h->lock);
        (void)heap_alloc_fail(h, SIZE_MAX, TARN_EOVERFLOW);
        TARN_UNLOCK(h->lock);
        return NULL;
    }
    p = tarn_heap_alloc(h, nitems * size);
    if (p != NULL) memset(p, 0, nitems * size);
    return p;
}

/* Over-aligned allocation (alignment > G, a power of two); lock held.  Without recording
 * a failure: NULL with *st set (nothing changed). */
static void *heap_aligned_try(tarn_heap *h, size_t alignment, size_t size, tarn_status *st)
{
    uint32_t u, ag, c, fb, end, nb, lead, trail;
    uintptr_t last, aligned;
    *st = TARN_ECORRUPT;
    if (HEAP_DEEP_CHECK_FAILS(h)) return NULL;
    *st = TARN_EINVAL;
    if (size == 0u) return NULL;
    *st = TARN_ENOMEM;
    if (size > h->nbytes || alignment > h->nbytes) return NULL;
    u = heap_units(size);
    if (u < AL_MIN) u = AL_MIN;
    ag = (uint32_t)(alignment >> LG);
    if ((uint64_t)u + ag - 1u > h->ngran) return NULL;
    /* any free run of u + ag - 1 granules holds an aligned run of u */
    do {
        c = cls_find(h, cls_up(h, u + ag - 1u));
    } while (c == NIL && HEAP_Q_RELIEVE(h));
    if (c == NIL) return NULL;
    *st = TARN_ECORRUPT;
    fb = h->heads[c];
    if (HEAP_CHECKING && !is_free_node(h, fb)) return NULL;
    end = free_end(h, fb);
    if (HEAP_CHECKING && end - fb < u + ag - 1u) return NULL;
    /* the highest aligned start with the block inside [fb, end): the rest stays free */
    last = (uintptr_t)(h->blocks + ((size_t)(end - u) << LG));
    aligned = last & ~(uintptr_t)(alignment - 1u);
    nb = (uint32_t)((aligned - (uintptr_t)h->blocks) >> LG);
    lead = nb - fb;
    trail = end - nb - u;
    if (lead != 0u) {
        uint32_t c2 = cls_of(h, lead);
        if (c2 != c) {
            if (!list_pop_head(h, fb, c)) return NULL;
            list_push(h, fb, c2);
        }
        start_set(h, nb);
        if (fb == h->mb_start) h->mb_end = nb;
    } else {
        if (!list_pop_head(h, fb, c)) return NULL;
        bit_clr(h->fmap, fb);
        if (fb == h->mb_start) h->mb_start = NIL;
    }
    if (trail != 0u) {
        start_set(h, nb + u);
        bit_set(h->fmap, nb + u);
        list_push(h, nb + u, cls_of(h, trail));
    }
    align_put(h, nb, tarn_log2_u32(ag) + LG);
    *st = TARN_OK;
    return heap_hand_out(h, nb, u, size);
}

static void *heap_aligned_core(tarn_heap *h, size_t alignment, size_t size)
{
    tarn_status st = TARN_OK;
    void *p = heap_aligned_try(h, alignment, size, &st);
    return p != NULL ? p : heap_alloc_fail(h, size, st);
}

void *tarn_heap_aligned_alloc(tarn_heap *h, size_t alignment, size_t size)
{
    void *p;
    if (!heap_valid(h)) return NULL;
    if (alignment <= G && TARN_IS_POW2(alignment)) return tarn_heap_alloc(h, size);
    TARN_LOCK(h->lock);
    if (!TARN_IS_POW2(alignment)) {
        p = heap_alloc_fail(h, size, TARN_EINVAL);
    } else {
        p = heap_aligned_core(h, alignment, size);
    }
    TARN_UNLOCK(h->lock);
    return p;
}

/* ---- free ------------------------------------------------------------------------------- */
#if TARN_QUARANTINE > 0
/* Really release the held block p that just left the ring.  A write after free (the
 * fill changed) or a release refused on damaged neighbour links is recorded in
 * last_error and returned as TARN_ECORRUPT; the caller's own operation goes on. */
static tarn_status heap_q_release(tarn_heap *h, void *p)
{
    uint32_t g = 0, end;
    tarn_status st = TARN_OK;
    int fill = heap_fill_byte(h);
    if (heap_locate(h, p, &g) != TARN_OK) {   /* not a used block: the ring was damaged */
        h->last_error = TARN_ECORRUPT;
        return TARN_ECORRUPT;
    }
    end = next_start(h, g + 1u);
    if (fill >= 0 && !tarn_bytes_are(p, (size_t)(end - g) << LG, (unsigned)fill)) {
        st = TARN_ECORRUPT;                   /* written after it was freed */
    }
    if (heap_release(h, g, end, REL_HELD) != TARN_OK) st = TARN_ECORRUPT;
    if (st != TARN_OK) h->last_error = (uint8_t)st;
    return st;
}

/* Free with the quarantine on: the validated used block [g, end) at p, with `live`
 * bytes in use, is filled, poisoned and held; the block pushed out is released. */
static void heap_q_hold(tarn_heap *h, unsigned char *p, uint32_t g, uint32_t end, size_t live)
{
    size_t bytes = (size_t)(end - g) << LG;
    void *out;
    if (live < bytes) TARN_SAN_OPEN(p + live, bytes - live);   /* guard and trailer */
    heap_scrub(h, p, bytes);
    if (live < bytes) TARN_SAN_CLOSE(p + live, bytes - live);
    TARN_SAN_FREE(h, p, bytes);
    HEAP_TRACE(h, TARN_HEAP_EV_FREE, p, live, TARN_OK);
    TARN_STAT(h->used -= live; h->frees++);   /* freed for the caller and the stats */
    out = tarn_q_push(&h->quarantine, p);
    if (out != NULL) (void)heap_q_release(h, out);
}
#endif

/* The general free: validate, then make the block free with every merge it needs. */
static HEAP_NOINLINE tarn_status heap_free_slow(tarn_heap *h, void *ptr)
{
    uint32_t g = 0, end;
    size_t live;
    tarn_status st;
    if (HEAP_DEEP_CHECK_FAILS(h)) return heap_reject(h, ptr, TARN_ECORRUPT);
    st = heap_locate_live(h, ptr, &g);
    if (TARN_UNLIKELY(st != TARN_OK)) return heap_reject_free(h, ptr, st);
    end = next_start(h, g + 1u);
    live = heap_live((unsigned char *)ptr, end - g);
    if (TARN_UNLIKELY(live == SIZE_MAX)) return heap_reject(h, ptr, TARN_ECORRUPT);
#if TARN_QUARANTINE > 0
    if (h->quarantine.on) {
        heap_q_hold(h, (unsigned char *)ptr, g, end, live);
        return TARN_OK;
    }
#endif
    return heap_release(h, g, end, REL_BLOCK);   /* records a rejection itself */
}

#if HEAP_FAST_PATHS
/* The pieces of free that the fast path below tail-calls, so that it saves few registers
 * itself.  The used block [g, g+sz), neither over-aligned nor to be cleared, has no free
 * neighbour: it becomes a free block of its own. */
static HEAP_NOINLINE tarn_status heap_free_alone(tarn_heap *h, uint32_t g, uint32_t sz)
{
    unsigned char *p = h->blocks + ((size_t)g << LG);
    size_t bytes = (size_t)sz << LG;
    TARN_FILL_FREED(p, bytes);
    TARN_SAN_FREE(h, p, bytes);
    bit_set(h->fmap, g);
    list_push(h, g, cls_of_leaf(h, sz));
    TARN_STAT(h->used -= bytes; h->frees++);
    HEAP_TRACE(h, TARN_HEAP_EV_FREE, p, bytes, TARN_OK);
    return TARN_OK;
}

/* The used block [g, end), neither over-aligned nor to be cleared, has a free left
 * neighbour at pg and a used right one: when the merged block keeps pg's class, the block
 * just joins it (pg's list node stays where it is); otherwise the general release. */
static HEAP_NOINLINE tarn_status heap_free_join(tarn_heap *h, uint32_t g, uint32_t end,
                                                uint32_t pg)
{
    unsigned char *p = h->blocks + ((size_t)g << LG);
    size_t bytes = (size_t)(end - g) << LG;
    if (cls_of(h, g - pg) != cls_of(h, end - pg)) {
        return heap_release_at(h, g, end, pg, true, REL_BLOCK);
    }
    TARN_FILL_FREED(p, bytes);
    TARN_SAN_FREE(h, p, bytes);
    start_clr(h, g);
    if (pg == h->mb_start) h->mb_end = end;
    TARN_STAT(h->used -= bytes; h->frees++);
    HEAP_TRACE(h, TARN_HEAP_EV_FREE, p, bytes, TARN_OK);
    return TARN_OK;
}

/* The used block at g has a neighbour starting beyond the S words the fast path reads:
 * both neighbours are found by the general scans, then it goes on as the fast path. */
static HEAP_NOINLINE tarn_status heap_free_far(tarn_heap *h, uint32_t g)
{
    uint32_t end = next_start(h, g + 1u), pg;
    bool pf = heap_left(h, g, &pg);
    if (TARN_LIKELY(!pf && bit_get(h->fmap, end) == 0u && h->flags == 0u &&
                    (end - g < AL_MIN || bit_get(h->fmap, g + 1u) == 0u))) {
        return heap_free_alone(h, g, end - g);
    }
    return heap_release_at(h, g, end, pg, pf, REL_BLOCK);
}

/* The fast path of free: validate the pointer from its S and F words (a pointer that is
 * not a live block goes to the general free, which reports it), find the neighbours in
 * the block's own S word (the left one also in the previous word or as the remembered
 * block; else heap_free_far), then hand the block to heap_free_alone or heap_free_join,
 * or, for a merge to the right, clearing or an over-aligned block, to the general release
 * with its neighbours known.  Every call is a tail call. */
static HEAP_INLINE tarn_status heap_free_fast(tarn_heap *h, void *ptr)
{
    uintptr_t d = (uintptr_t)ptr - (uintptr_t)h->blocks;
    uint32_t g = (uint32_t)(d >> LG), wi = g >> 5, bit, sw, fw, w, end, pg, sz;
    bool nf, pf;
    if (TARN_UNLIKELY(d >= (uintptr_t)h->nbytes || (d & (G - 1u)) != 0u)) return heap_free_slow(h, ptr);
    bit = 1u << (g & 31u);
    sw = h->smap[wi];
    fw = h->fmap[wi];
    if (TARN_UNLIKELY((sw & bit) == 0u || (fw & bit) != 0u)) return heap_free_slow(h, ptr);   /* bad pointer */
    /* right neighbour: in this word, else in the next (which exists: S[N] is set) */
    w = sw & (0u - (bit << 1));
    if (TARN_LIKELY(w != 0u)) {
        end = (g & ~31u) | tarn_ctz_u32(w);
        nf = (fw & w & (0u - w)) != 0u;
    } else {
        return heap_free_far(h, g);           /* a long block: climb the tree */
    }
    sz = end - g;
    /* left neighbour: in this word, else in the previous one; none for g = 0 */
    w = sw & (bit - 1u);
    if (TARN_LIKELY(w != 0u)) {
        pg = (g & ~31u) | tarn_log2_u32(w);
        pf = ((fw >> (pg & 31u)) & 1u) != 0u;
    } else if (g == h->mb_end && h->mb_start < g) {
        pg = h->mb_start;                      /* the remembered free block ends at g */
        pf = true;
    } else if (wi == 0u) {
        pg = 0u;
        pf = false;
    } else if (TARN_LIKELY((w = h->smap[wi - 1u]) != 0u)) {
        pg = ((wi - 1u) << 5) | tarn_log2_u32(w);
        pf = ((h->fmap[wi - 1u] >> (pg & 31u)) & 1u) != 0u;
    } else {
        return heap_free_far(h, g);           /* a long left neighbour: climb the tree */
    }
    if (TARN_UNLIKELY(nf || h->flags != 0u || (sz >= AL_MIN && bit_get(h->fmap, g + 1u) != 0u))) {
        /* a merge to the right, clearing, or an over-aligned block: the neighbours are
         * known, the general release does the rest */
        return heap_release_at(h, g, end, pg, pf, REL_BLOCK);
    }
    return pf ? heap_free_join(h, g, end, pg) : heap_free_alone(h, g, sz);
}
#endif

#if TARN_LOCKING
static HEAP_NOINLINE tarn_status heap_free_locked(tarn_heap *h, void *ptr)
{
    tarn_status st;
    TARN_LOCK(h->lock);
    st = heap_free_slow(h, ptr);
    TARN_UNLOCK(h->lock);
    return st;
}
#endif

tarn_status tarn_heap_free(tarn_heap *h, void *ptr)
{
    if (TARN_UNLIKELY(!heap_valid(h))) return TARN_EINVAL;
#if TARN_LOCKING
    if (h->lock.lock != NULL) return heap_free_locked(h, ptr);
#endif
#if TARN_QUARANTINE > 0
    if (h->quarantine.on) return heap_free_slow(h, ptr);
#endif
#if HEAP_FAST_PATHS
    return heap_free_fast(h, ptr);
#else
    return heap_free_slow(h, ptr);
#endif
}

/* ---- resize ------------------------------------------------------------------------------- */
/* Resize the used block [g, g+sz) at p to u granules without moving it; lock held.
 * TARN_OK, TARN_ENOMEM (cannot grow in place) or TARN_ECORRUPT; nothing changes on error.
 * The counters are the caller's (heap_resize_block). */
static tarn_status heap_resize_inplace(tarn_heap *h, unsigned char *p, uint32_t g, uint32_t sz,
                                       uint32_t u)
{
    tarn_status st;
    if (u == sz) return TARN_OK;
    if (u < sz) {
        /* the tail [g+u, g+sz) becomes free; its left neighbour is the block itself */
        heap_scrub(h, p + ((size_t)u << LG), (size_t)(sz - u) << LG);
        HEAP_SAN_RESIZE(h, p, (size_t)sz << LG, (size_t)u << LG);
        start_set(h, g + u);
        st = heap_release(h, g + u, g + sz, REL_TAIL);
        if (TARN_UNLIKELY(st != TARN_OK)) {
            start_clr(h, g + u);
            HEAP_SAN_RESIZE(h, p, (size_t)u << LG, (size_t)sz << LG);
            return st;
        }
        return TARN_OK;
    } else {
        uint32_t end = g + sz, nend, nx, pv, t = g + u;
        if (bit_get(h->fmap, end) == 0u) return TARN_ENOMEM;
        nend = free_end(h, end);
        if (nend < t) return TARN_ENOMEM;
        node_read(h, end, &nx, &pv);
        if (HEAP_CHECKING && !links_ok(h, end, nx, pv)) return TARN_ECORRUPT;
        list_unlink(h, nx, pv);
        bit_clr(h->fmap, end);
        start_clr(h, end);
        if (end == h->mb_start) h->mb_start = NIL;
        if (nend > t) {
            start_set(h, t);
            bit_set(h->fmap, t);
            list_push(h, t, cls_of(h, nend - t));
            memo_merged(h, NIL, NIL, t, nend);
        }
        HEAP_SAN_RESIZE(h, p, (size_t)sz << LG, (size_t)u << LG);
        return TARN_OK;
    }
}

/* Granules for a resize of the block at g (size sz) to `size` bytes; 0 if too large. */
static uint32_t heap_resize_units(const tarn_heap *h, uint32_t g, uint32_t sz, size_t size,
                                  uint32_t *log2a)
{
    uint32_t u;
    *log2a = align_get(h, g, sz);
    if (size > h->nbytes) return 0u;
    u = heap_units(size);
    if (*log2a != 0u && u < AL_MIN) u = AL_MIN;
    return u;
}

/* Resize in place the used block [g, g+sz) at p, of which the caller uses `live` bytes,
 * to u granules holding `size` bytes.  Canary mode: the tools see the whole block during
 * the change, then the new guard and trailer are written (the old ones again if the
 * resize fails).  TARN_OK, TARN_ENOMEM or TARN_ECORRUPT; nothing changes on error. */
static tarn_status heap_resize_block(tarn_heap *h, unsigned char *p, uint32_t g, uint32_t sz,
                                     size_t live, uint32_t u, size_t size)
{
    tarn_status st;
#if TARN_GUARD
    size_t ob = (size_t)sz << LG, nb = (size_t)u << LG;
    HEAP_SAN_RESIZE(h, p, live, ob);
    st = heap_resize_inplace(h, p, g, sz, u);
    if (st == TARN_OK) {
        HEAP_SAN_RESIZE(h, p, nb, size);
        guard_put(p, nb, size);
    } else {
        HEAP_SAN_RESIZE(h, p, ob, live);
        guard_put(p, ob, live);
    }
#else
    st = heap_resize_inplace(h, p, g, sz, u);
    size = (size_t)u << LG;         /* the whole block is the caller's */
#endif
    if (st == TARN_OK) {
        TARN_STAT(h->used = h->used - live + size; if (h->used > h->peak) h->peak = h->used);
    }
    (void)live;
    (void)size;
    return st;
}

/* A live block at ptr, located and checked: its granule, size and live bytes. */
typedef struct heap_blk {
    uint32_t g, sz;
    size_t live;
} heap_blk;

/* Validate ptr as a live block (as free does) and describe it; lock held. */
static tarn_status heap_block_of(const tarn_heap *h, const void *ptr, heap_blk *b)
{
    tarn_status st;
    b->g = 0;
    st = heap_locate_live(h, ptr, &b->g);
    if (st != TARN_OK) return st;
    b->sz = next_start(h, b->g + 1u) - b->g;
    b->live = heap_live((const unsigned char *)ptr, b->sz);
    return b->live == SIZE_MAX ? TARN_ECORRUPT : TARN_OK;
}

static void *heap_realloc_core(tarn_heap *h, void *ptr, size_t size)
{
    heap_blk b;
    uint32_t u, log2a;
    tarn_status st;
    unsigned char *q;
#if TARN_QUARANTINE > 0
    bool held = h->quarantine.count != 0u;
#else
    bool held = false;
#endif
    if (HEAP_DEEP_CHECK_FAILS(h)) return heap_alloc_fail(h, size, TARN_ECORRUPT);
    st = heap_block_of(h, ptr, &b);
    if (st != TARN_OK) {
        (void)heap_reject_free(h, ptr, st);
        return NULL;
    }
    u = heap_resize_units(h, b.g, b.sz, size, &log2a);
    if (u == 0u) return heap_alloc_fail(h, size, TARN_ENOMEM);
    st = heap_resize_block(h, (unsigned char *)ptr, b.g, b.sz, b.live, u, size);
    if (st == TARN_OK) {
        HEAP_TRACE(h, TARN_HEAP_EV_RESIZE, ptr, TARN_GUARD ? size : (size_t)u << LG, TARN_OK);
        return ptr;
    }
    if (st != TARN_ENOMEM) return heap_alloc_fail(h, size, st);
    q = (unsigned char *)(log2a != 0u ? heap_aligned_try(h, (size_t)1u << log2a, size, &st)
                                      : heap_alloc_slow(h, size, &st));
    if (q == NULL && st == TARN_ENOMEM && held) {
        /* the quarantine was emptied to find room: in place may work now */
        st = heap_resize_block(h, (unsigned char *)ptr, b.g, b.sz, b.live, u, size);
        if (st == TARN_OK) {
            HEAP_TRACE(h, TARN_HEAP_EV_RESIZE, ptr, TARN_GUARD ? size : (size_t)u << LG, TARN_OK);
            return ptr;
        }
    }
    if (q == NULL) return heap_alloc_fail(h, size, st);
    memcpy(q, ptr, b.live);   /* b.live < size here: the old block is the smaller */
    st = heap_free_slow(h, ptr);
    TARN_ASSERT(st == TARN_OK);
    (void)st;
    return q;
}

void *tarn_heap_realloc(tarn_heap *h, void *ptr, size_t size)
{
    void *q;
    if (!heap_valid(h)) return NULL;
    if (ptr == NULL) return tarn_heap_alloc(h, size);
    if (size == 0u) {
        (void)tarn_heap_free(h, ptr);
        return NULL;
    }
    TARN_LOCK(h->lock);
    q = heap_realloc_core(h, ptr, size);
    TARN_UNLOCK(h->lock);
    return q;
}

tarn_status tarn_heap_resize(tarn_heap *h, void *ptr, size_t size)
{
    heap_blk b;
    uint32_t u, log2a;
    tarn_status st;
    if (!heap_valid(h)) return TARN_EINVAL;
    TARN_LOCK(h->lock);
    st = HEAP_DEEP_CHECK_FAILS(h) ? TARN_ECORRUPT : heap_block_of(h, ptr, &b);
    if (st == TARN_OK && size == 0u) st = TARN_EINVAL;
    if (st == TARN_OK) {
        u = heap_resize_units(h, b.g, b.sz, size, &log2a);
        st = (u == 0u) ? TARN_ENOMEM
                       : heap_resize_block(h, (unsigned char *)ptr, b.g, b.sz, b.live, u, size);
        while (st == TARN_ENOMEM && u != 0u && HEAP_Q_RELIEVE(h)) {
            st = heap_resize_block(h, (unsigned char *)ptr, b.g, b.sz, b.live, u, size);
        }
        if (st == TARN_OK) {
            HEAP_TRACE(h, TARN_HEAP_EV_RESIZE, ptr, TARN_GUARD ? size : (size_t)u << LG, TARN_OK);
        }
    }
    if (st != TARN_OK) (void)heap_reject(h, ptr, st);
    TARN_UNLOCK(h->lock);
    return st;
}

/* ---- queries ------------------------------------------------------------------------------ */
size_t tarn_heap_usable_size(tarn_heap *h, const void *ptr)
{
    heap_blk b;
    size_t n = 0;
    tarn_status st;
    if (!heap_valid(h)) return 0u;
    TARN_LOCK(h->lock);
    st = heap_block_of(h, ptr, &b);
    if (st == TARN_OK) {
        n = b.live;
    } else {
        (void)heap_reject(h, ptr, st);
    }
    TARN_UNLOCK(h->lock);
    return n;
}

tarn_status tarn_heap_validate(tarn_heap *h, const void *ptr)
{
    heap_blk b;
    tarn_status st;
    if (!heap_valid(h)) return TARN_EINVAL;
    TARN_LOCK(h->lock);
#if !HEAP_CHECKING
    /* level 0 trusts pointers elsewhere; a query still answers exactly */
    if (ptr != NULL) {
        uintptr_t d = (uintptr_t)ptr - (uintptr_t)h->blocks;
        uint32_t g = (uint32_t)(d >> LG);
        if (d >= (uintptr_t)h->nbytes || (d & (G - 1u)) != 0u || bit_get(h->smap, g) == 0u) {
            TARN_UNLOCK(h->lock);
            return TARN_EFOREIGN;
        }
        if (bit_get(h->fmap, g) != 0u) {
            TARN_UNLOCK(h->lock);
            return TARN_EDOUBLE;
        }
    }
#endif
    st = heap_block_of(h, ptr, &b);
    TARN_UNLOCK(h->lock);
    return st;
}

tarn_status tarn_heap_last_error(const tarn_heap *h)
{
    if (!heap_valid(h)) return TARN_EINVAL;
    return (tarn_status)h->last_error;
}

const char *tarn_heap_name(const tarn_heap *h)
{
    return heap_valid(h) ? h->name : NULL;
}

#if TARN_HEAP_TRACE
tarn_status tarn_heap_set_trace(tarn_heap *h, tarn_heap_trace_fn fn, void *ctx)
{
    if (!heap_valid(h)) return TARN_EINVAL;
    TARN_LOCK(h->lock);
    h->trace = fn;
    h->trace_ctx = fn != NULL ? ctx : NULL;
    TARN_UNLOCK(h->lock);
    return TARN_OK;
}
#endif

/* The block [g, e) is live (used and not held by the quarantine): the bytes its caller
 * may use (the whole block when its guard is damaged); 0 when it is not live. */
static size_t heap_live_block(const tarn_heap *h, uint32_t g, uint32_t e)
{
    const unsigned char *p = h->blocks + ((size_t)g << LG);
    size_t n;
    if (bit_get(h->fmap, g) != 0u || HEAP_HOLDS(h, p)) return 0u;
    n = heap_live(p, e - g);
    return n != SIZE_MAX ? n : (size_t)(e - g) << LG;
}

tarn_status tarn_heap_stats_get(tarn_heap *h, tarn_heap_stats *out)
{
    uint32_t c, x, nx, pv, largest = 0, nfree = 0, steps = 0;
    if (!heap_valid(h) || out == NULL) return TARN_EINVAL;
    TARN_LOCK(h->lock);
    memset(out, 0, sizeof *out);
    out->capacity = h->nbytes - HEAP_EXTRA;     /* the largest request (N >= 2 granules) */
    out->overhead = h->mem_size - out->capacity;
    /* free blocks: walk every list (bounded by N steps in case of damage) */
    for (c = 0; c < h->nclasses; c++) {
        for (x = h->heads[c]; x != NIL && steps < h->ngran; x = nx) {
            uint32_t sz;
            if (!is_free_start(h, x)) break;
            sz = next_start(h, x + 1u) - x;
            if (sz > largest) largest = sz;
            nfree++;
            steps++;
            node_read(h, x, &nx, &pv);
        }
    }
    out->largest_free = (size_t)largest << LG;
    out->largest_free = out->largest_free > HEAP_EXTRA ? out->largest_free - HEAP_EXTRA : 0u;
    out->free_blocks = nfree;
    if (h->top != 0u) {
        c = tarn_log2_u32(h->top);
        c = (c << 5) | tarn_log2_u32(h->groups[c]);
        out->max_alloc = (size_t)class_lb_k(c, h->k) << LG;
        out->max_alloc = out->max_alloc > HEAP_EXTRA ? out->max_alloc - HEAP_EXTRA : 0u;
        if (out->max_alloc > out->largest_free) out->max_alloc = out->largest_free;
    }
#if TARN_STATS
    out->used = h->used;
    out->peak_used = h->peak;
    out->live_blocks = h->allocs - h->frees;
    out->total_allocs = h->allocs;
    out->total_frees = h->frees;
    out->failed_allocs = h->failed;
#else
    {
        uint32_t g = 0;
        size_t used = 0, live = 0;
        while (g < h->ngran) {
            uint32_t e = next_start(h, g + 1u);
            size_t n = heap_live_block(h, g, e);
            if (n != 0u) {
                used += n;
                live++;
            }
            g = e;
        }
        out->used = used;
        out->peak_used = used;
        out->live_blocks = live;
    }
#endif
    out->free = out->capacity - out->used;
#if TARN_QUARANTINE > 0
    out->held_blocks = h->quarantine.count;
#endif
    TARN_UNLOCK(h->lock);
    return TARN_OK;
}

tarn_status tarn_heap_quarantine_flush(tarn_heap *h)
{
    tarn_status st = TARN_OK;
    if (!heap_valid(h)) return TARN_EINVAL;
#if TARN_QUARANTINE > 0
    {
        void *p;
        TARN_LOCK(h->lock);
        while ((p = tarn_q_pop(&h->quarantine)) != NULL) {
            if (heap_q_release(h, p) != TARN_OK) st = TARN_ECORRUPT;
        }
        TARN_UNLOCK(h->lock);
    }
#endif
    return st;
}

tarn_status tarn_heap_walk(tarn_heap *h, tarn_heap_walk_fn fn, void *ctx)
{
    uint32_t g = 0, e;
    size_t n;
    tarn_status st = TARN_OK;
    if (!heap_valid(h) || fn == NULL) return TARN_EINVAL;
    TARN_LOCK(h->lock);
    while (g < h->ngran) {
        e = next_start(h, g + 1u);
        if (e <= g || e > h->ngran) {
            st = TARN_ECORRUPT;
            break;
        }
        n = heap_live_block(h, g, e);
        if (!fn(ctx, h->blocks + ((size_t)g << LG), n != 0u ? n : (size_t)(e - g) << LG,
                n != 0u)) {
            break;
        }
        g = e;
    }
    TARN_UNLOCK(h->lock);
    return st;
}

/* ---- integrity ---------------------------------------------------------------------------- */
/* Any bit set in [from, to) of m? */
static bool bits_any(const uint32_t *m, uint32_t from, uint32_t to)
{
    while (from < to) {
        uint32_t w = m[from >> 5] >> (from & 31u);
        uint32_t n = 32u - (from & 31u);
        if (n > to - from) n = to - from;
        if (n < 32u) w &= (1u << n) - 1u;
        if (w != 0u) return true;
        from += n;
    }
    return false;
}

static tarn_status heap_geometry_ok(const tarn_heap *h)
{
    heap_geom geo;
    unsigned l;
    if (h->ngran == 0u || h->ngran > HEAP_MAX_GRAN || h->k > 5u || h->depth == 0u ||
        h->depth > TARN_HEAP_TREE_MAX || h->lmask != (2u << h->k) - 1u ||
        h->nbytes != (size_t)h->ngran << LG) {
        return TARN_ECORRUPT;
    }
    geom_for(&geo, h->ngran, h->k);
    if (geo.nclasses != h->nclasses || geo.depth != h->depth ||
        h->heads != (uint32_t *)(void *)((unsigned char *)(void *)h + sizeof(tarn_heap)) ||
        h->groups != h->heads + geo.nclasses || h->fmap != h->groups + geo.ngroups ||
        h->smap != h->fmap + geo.fwords || h->s1 != h->smap + geo.lvl[geo.depth > 1u ? 1u : 0u] ||
        h->blocks != (unsigned char *)(void *)h + geo.ctrl) {
        return TARN_ECORRUPT;
    }
    for (l = 0; l < h->depth; l++) {
        if (h->lvl[l] != geo.lvl[l]) return TARN_ECORRUPT;
    }
    if (bit_get(h->smap, 0u) == 0u || bit_get(h->smap, h->ngran) == 0u ||
        bit_get(h->fmap, h->ngran) != 0u) {
        return TARN_ECORRUPT;
    }
    return TARN_OK;
}

/* I7 and I8 for the used block [g, e): the usable bytes of a live block, 0 for a
 * held one, SIZE_MAX when damaged. */
static size_t heap_check_used(const tarn_heap *h, uint32_t g, uint32_t e)
{
    const unsigned char *p = h->blocks + ((size_t)g << LG);
#if TARN_QUARANTINE > 0
    if (HEAP_HOLDS(h, p)) {
        int fill = heap_fill_byte(h);
        if (fill >= 0 && !tarn_bytes_are(p, (size_t)(e - g) << LG, (unsigned)fill)) {
            return SIZE_MAX;               /* written after it was freed */
        }
        return 0u;
    }
#endif
    return heap_live(p, e - g);            /* SIZE_MAX: a damaged guard */
}

/* I8: the ring holds distinct used blocks. */
static tarn_status heap_check_ring(const tarn_heap *h)
{
#if TARN_QUARANTINE > 0
    const tarn_quarantine *q = &h->quarantine;
    unsigned i, j;
    uint32_t g;
    if (q->count > TARN_QUARANTINE || q->first >= TARN_QUARANTINE ||
        (q->count != 0u && !q->on)) {
        return TARN_ECORRUPT;
    }
    for (i = 0; i < q->count; i++) {
        const void *p = tarn_q_at(q, i);
        uintptr_t d = (uintptr_t)p - (uintptr_t)h->blocks;
        if (p == NULL || d >= (uintptr_t)h->nbytes || (d & (G - 1u)) != 0u) return TARN_ECORRUPT;
        g = (uint32_t)(d >> LG);
        if (bit_get(h->smap, g) == 0u || bit_get(h->fmap, g) != 0u) return TARN_ECORRUPT;
        for (j = 0; j < i; j++) {
            if (tarn_q_at(q, j) == p) return TARN_ECORRUPT;
        }
    }
#else
    (void)h;
#endif
    return TARN_OK;
}

static tarn_status heap_check_locked(const tarn_heap *h)
{
    heap_geom geo;
    uint32_t g, e, l, c, i, bits, nfree = 0, listed = 0, ngroups;
    size_t used = 0, nused = 0, n;
    bool prev_free = false;

    if (heap_geometry_ok(h) != TARN_OK || heap_check_ring(h) != TARN_OK) return TARN_ECORRUPT;
    geom_for(&geo, h->ngran, h->k);
    ngroups = geo.ngroups;

    /* I1: nothing beyond the sentinel; each tree level summarises the one below */
    if (bits_any(h->smap, h->ngran + 1u, geo.fwords * 32u)) return TARN_ECORRUPT;
    if (bits_any(h->fmap, h->ngran + 1u, geo.fwords * 32u)) return TARN_ECORRUPT;
    bits = h->ngran + 1u;
    for (l = 1; l < h->depth; l++) {
        const uint32_t *below = tree_level(h, l - 1u), *here = tree_level(h, l);
        uint32_t words = (bits + 31u) >> 5;
        for (i = 0; i < words; i++) {
            if ((bit_get(here, i) != 0u) != (below[i] != 0u)) return TARN_ECORRUPT;
        }
        if (bits_any(here, words, ((words + 31u) >> 5) * 32u)) return TARN_ECORRUPT;
        bits = words;
    }

    /* blocks: I2, I3, aligned fields, counters */
    g = 0;
    while (g < h->ngran) {
        e = next_start(h, g + 1u);
        if (e <= g || e > h->ngran) return TARN_ECORRUPT;
        if (bit_get(h->fmap, g) != 0u) {
            if (prev_free) return TARN_ECORRUPT;                    /* I3 */
            if (bits_any(h->fmap, g + 1u, e)) return TARN_ECORRUPT; /* I2 */
            prev_free = true;
            nfree++;
        } else {
            uint32_t from = g + 1u;
            if (e - g >= AL_MIN && bit_get(h->fmap, g + 1u) != 0u) {
                uint32_t log2a = align_get(h, g, e - g);
                uintptr_t addr = (uintptr_t)(h->blocks + ((size_t)g << LG));
                if (log2a >= 8u * sizeof(uintptr_t) || ((size_t)1u << log2a) > h->nbytes ||
                    (addr & (((uintptr_t)1u << log2a) - 1u)) != 0u) {
                    return TARN_ECORRUPT;
                }
                from = g + AL_MIN;
            }
            if (bits_any(h->fmap, from, e)) return TARN_ECORRUPT;    /* I2 */
            n = heap_check_used(h, g, e);                        /* I7, I8 */
            if (n == SIZE_MAX) return TARN_ECORRUPT;
            prev_free = false;
            if (n != 0u) {                   /* held blocks count as freed */
                used += n;
                nused++;
            }
        }
        g = e;
    }

    /* I4: lists and class bitmaps */
    for (i = 0; i < ngroups; i++) {
        if (((h->top >> i) & 1u) != (h->groups[i] != 0u ? 1u : 0u)) return TARN_ECORRUPT;
    }
    if ((ngroups < 32u && (h->top >> ngroups) != 0u) ||
        bits_any(h->groups, h->nclasses, ngroups * 32u)) {
        return TARN_ECORRUPT;
    }
    for (c = 0; c < h->nclasses; c++) {
        uint32_t x = h->heads[c], expect_prev = TAG | c, nx, pv;
        if ((x != NIL) != (bit_get(h->groups, c) != 0u)) return TARN_ECORRUPT;
        while (x != NIL) {
            if (!is_free_start(h, x) || ++listed > nfree) return TARN_ECORRUPT;
            e = next_start(h, x + 1u);
            if (cls_of(h, e - x) != c) return TARN_ECORRUPT;
            node_read(h, x, &nx, &pv);
            if (pv != expect_prev) return TARN_ECORRUPT;
            expect_prev = x;
            x = nx;
        }
    }
    if (listed != nfree) return TARN_ECORRUPT;
    /* I6: the remembered block is exactly a free block */
    if (h->mb_start != NIL &&
        (!is_free_start(h, h->mb_start) || next_start(h, h->mb_start + 1u) != h->mb_end)) {
        return TARN_ECORRUPT;
    }

    /* I5 */
#if TARN_STATS
    if (h->used != used || h->peak < h->used || h->allocs - h->frees != nused) {
        return TARN_ECORRUPT;
    }
#else
    (void)used;
    (void)nused;
#endif
    return TARN_OK;
}

tarn_status tarn_heap_check(tarn_heap *h)
{
    tarn_status st;
    if (!heap_valid(h)) return TARN_EINVAL;
    TARN_LOCK(h->lock);
    st = heap_check_locked(h);
    TARN_UNLOCK(h->lock);
    return st;
}

tarn_status tarn_heap_sane(tarn_heap *h)
{
    tarn_status st;
    uint32_t i, ngroups;
    if (!heap_valid(h)) return TARN_EINVAL;
    TARN_LOCK(h->lock);
    st = heap_geometry_ok(h);
    ngroups = (h->nclasses + 31u) >> 5;
    if (st == TARN_OK && ngroups < 32u && (h->top >> ngroups) != 0u) st = TARN_ECORRUPT;
    for (i = 0; st == TARN_OK && i < ngroups; i++) {
        if (((h->top >> i) & 1u) != (h->groups[i] != 0u ? 1u : 0u)) st = TARN_ECORRUPT;
    }
    if (st == TARN_OK && h->top != 0u) {
        /* heads of the smallest and the largest non-empty class */
        uint32_t ends[2], j;
        ends[0] = cls_find(h, 0u);
        i = tarn_log2_u32(h->top);
        ends[1] = (i << 5) | tarn_log2_u32(h->groups[i]);
        for (j = 0; j < 2u && st == TARN_OK; j++) {
            uint32_t c = ends[j], x, nx, pv;
            if (c >= h->nclasses) {
                st = TARN_ECORRUPT;
                break;
            }
            x = h->heads[c];
            if (!is_free_start(h, x)) {
                st = TARN_ECORRUPT;
                break;
            }
            node_read(h, x, &nx, &pv);
            if (pv != (TAG | c) || !links_ok(h, x, nx, pv) ||
                cls_of(h, next_start(h, x + 1u) - x) != c) {
                st = TARN_ECORRUPT;
            }
        }
    }
    if (st == TARN_OK && h->mb_start != NIL &&
        (h->mb_start >= h->mb_end || h->mb_end > h->ngran || !is_free_start(h, h->mb_start))) {
        st = TARN_ECORRUPT;
    }
#if TARN_STATS
    if (st == TARN_OK && (h->used > h->nbytes || h->peak < h->used || h->peak > h->nbytes ||
                          h->frees > h->allocs)) {
        st = TARN_ECORRUPT;
    }
#endif
    TARN_UNLOCK(h->lock);
    return st;
}

/* ---- worst-case sizing ------------------------------------------------------------------- */
/* Granules that guarantee success (see the top of the file): Mg + (L-1)(r-1) + L s. */
static uint64_t heap_need(uint64_t mg, uint64_t r, uint64_t L, uint32_t k)
{
    uint64_t slack = 0;
    if (r >= (2u << k)) slack = ((uint64_t)1u << (tarn_log2_u32((uint32_t)r) - k)) - 1u;
    return mg + (L - 1u) * (r - 1u) + L * slack;
}

size_t tarn_heap_size_for(size_t peak_bytes, size_t max_request, size_t max_live)
{
    uint64_t L, mg, r, need, total;
    heap_geom geo;
    unsigned iter;
    if (peak_bytes == 0u || max_request == 0u) return TARN_HEAP_MIN_SIZE;
    L = max_live != 0u ? (uint64_t)max_live : (uint64_t)peak_bytes;
    if (L > HEAP_MAX_GRAN) return 0u;
    mg = ((uint64_t)peak_bytes + L * (HEAP_EXTRA + G - 1u)) >> LG;
    r = ((uint64_t)max_request + HEAP_EXTRA + G - 1u) >> LG;
    if (r > HEAP_MAX_GRAN || mg > HEAP_MAX_GRAN) return 0u;
    /* Granules needed with the finest classes (k = 5), then the size of a buffer whose
     * layout has them - recomputed with the class split the layout really chooses. */
    need = heap_need(mg, r, L, 5u);
    if (need > HEAP_MAX_GRAN) return 0u;
    geom_for(&geo, (uint32_t)need, 5u);
    total = (uint64_t)geo.ctrl + (need << LG) + (G - 1u);
    for (iter = 0; iter < 64u; iter++) {
        if (total > (uint64_t)SIZE_MAX) return 0u;
        /* worst alignment of the buffer: G - 1 bytes lost in front */
        if (geom_layout(&geo, (size_t)(total - (G - 1u)))) {
            need = heap_need(mg, r, L, geo.k);
            if (geo.n >= need) return (size_t)total;
            if (geo.n == HEAP_MAX_GRAN || need > HEAP_MAX_GRAN) return 0u;
            total += ((need - geo.n) << LG) + (need - geo.n) / 8u + G;
        } else {
            total += G;
        }
    }
    return 0u;
}
