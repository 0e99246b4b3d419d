/*
 * src/heap.c - the heap (see include/tarn/heap.h).
 *
 * ---- Layout -------------------------------------------------------------------------
 *
 *  caller's buffer (any alignment)
 *  |pad|<---------------- control (a multiple of G) --------------->|<------- blocks area ------->|
 *      [tarn_heap][U: N+1 bits][groups][heads: nclasses]              [blk][blk] ... [blk][sentinel]
 *      ^ h, aligned to G                                              ^ h->blocks = granule 0
 *
 *  G = TARN_HEAP_GRANULE = max(8, TARN_ALIGN) bytes.  The blocks area is N granules of
 *  blocks plus one sentinel granule (granule N).  Every block is a run of whole granules
 *  [g, g+s), s >= 2, whose first granule is its header:
 *
 *      granule g                       g+1                              g+s
 *      [ w0: prev size | al<<27 ][ w1: size | FREE<<31 ][ payload (s-1) G bytes ...  ][ next header
 *                                                       ^ pointer handed out
 *
 *  w0 (bits 0..26) is the size of the block before (0 for the first block): the boundary
 *  tag that finds the left neighbour; bits 27..31 hold `al`, log2(alignment / G) of a
 *  block from aligned_alloc (0 otherwise), so realloc keeps it.  w1 (bits 0..26) is the
 *  block's size in granules, bit 31 is set when the block is free, bits 27..30 are 0.
 *  Sizes and links are granule numbers (< 2^27), so a header is 8 bytes on 32- and
 *  64-bit hosts and a 1..8 byte allocation takes 16 bytes of the blocks area.  The
 *  sentinel header at granule N reads {size of the last block, 0}: a used block of size
 *  0 that nothing merges with.
 *
 *  U is the used-start bitmap: bit g is set exactly when a used block starts at granule
 *  g (and bit N, the sentinel).  It is what makes pointer validation exact and O(1).
 *  It costs 1 bit per granule (1/64 of the buffer with 8-byte granules).
 *
 *  A free block keeps its list links in its first payload granule, as granule numbers:
 *  [ next (NIL = 0xFFFFFFFF) | prev (a block, or TAG | class for a list head) ].
 *
 *  Free blocks are segregated by size into classes (two-level segregated fit, TLSF):
 *  with u the size in granules and e = max(0, floor(log2 u) - k),
 *  class(u) = (e << k) + (u >> e).  Sizes below 2^(k+1) granules have one class each;
 *  above, each power of two is split into 2^k classes.  k (0..5) is chosen so that the
 *  class table takes at most max(size/1024 + 96, size/128) bytes: fewer classes for small
 *  buffers.
 *  A request of u granules takes the head of the smallest non-empty class >=
 *  class_up(u), the smallest class whose every block has >= u granules (good fit);
 *  groups/top are a two-level bitmap of non-empty classes, so the search is two bit
 *  scans.  A request beyond the exact classes first tries the head of its own class
 *  (a closer fit good fit alone never uses).  The block is split at its START: the
 *  allocation takes the front, the free remainder (if it is at least 2 granules)
 *  follows it, so realloc can grow a block in place into the free space after it.
 *  When it cannot, and the free block before it has a payload that holds all of the
 *  block's bytes and, with the block (and the free block after it, if any), enough
 *  granules, realloc moves the bytes down into it and cuts the merged span as an
 *  allocation (heap_grow_left): the same copy a move elsewhere makes, no search, and
 *  the arena stays packed (not for aligned_alloc blocks, nor with the quarantine on).
 *  Freeing merges at once with a free left and right neighbour (found by the boundary
 *  tag and the size), so no two free blocks are ever adjacent.
 *
 *  Canary mode (TARN_GUARD 1): the payload of P bytes handed out for n requested bytes
 *  ends with a guard and a trailer:
 *
 *      [ user bytes: n                | guard: >= TARN_GUARD_SIZE x 0xFD | slack (4) ]
 *      ^ p                            ^ p + n = p + P - slack             ^ p + P - 4
 *
 *  The trailer holds slack = P - n in its low 16 bits and its complement in the high 16
 *  bits.  Guard and trailer are NOACCESS for the memory tools, usable_size is n.
 *
 *  Quarantine (TARN_QUARANTINE > 0, TARN_F_QUARANTINE): a freed block is validated,
 *  filled, poisoned and pushed into the ring; it stays used in U (nothing merges into
 *  it) until the ring pushes it out; an allocation short of room releases held blocks.
 *
 *  Header tag (regions): bits 27..30 of a used block's w1 hold the tag of its request's
 *  capabilities (0: none; 1..TARN_HEAP_CAP_SETS: an entry of the table of sets;
 *  UTAG_REGION: those of its region), so that realloc keeps them; every size read masks
 *  them off.  A free block's bits 27..30 stay 0.
 *
 *  Regions (tarn_heap_add_region): region i >= 1 is a heap of its own in its buffer, laid
 *  out as above, called only through this heap (see "regions" below); the first region
 *  added starts with the region table (heap_rtab) that maps pointers to regions.
 *
 * ---- Invariants (tarn_heap_check verifies every one) ---------------------------------
 *   I1  Blocks tile [0, N) exactly: each header's size s >= 2 reaches the next header;
 *       each w0 is the size of the block before (0 for granule 0); the sentinel at N
 *       reads {size of the last block, 0}.
 *   I2  U[g] = 1 exactly at used block starts and at N; the header's FREE bit is set
 *       exactly when U[g] = 0; a free block has al = 0.
 *   I3  No two free blocks are adjacent.
 *   I4  Every free block is on exactly one list, that of class(size); links agree both
 *       ways; heads[c] = NIL <=> the groups bit of c is 0; top bit i <=> groups[i] != 0.
 *   I5  used = usable bytes of the live blocks; allocs - frees = live blocks.
 *   I6  (canary mode) every live block has an intact trailer and guard.
 *   I7  (quarantine) every held block is a used block, held once, still filled.
 *   I8  (regions) the table's check words hold; every region heap is live, has no table
 *       of its own, and lies where its entry says; I1-I7 hold in each region, I5 for the
 *       heap's counters against the sum over the regions and for each region's own.
 *
 * ---- Checking ------------------------------------------------------------------------
 *  Level >= 1: a pointer handed back is accepted only if it lies in the blocks area, on
 *  a granule boundary, and U has the bit of its header granule set: exact - no interior,
 *  foreign or freed pointer can pass - and O(1), reading no byte of the block.  A
 *  rejected pointer whose granule holds a plausible free header is reported as
 *  TARN_EDOUBLE, any other as TARN_EFOREIGN (the header bytes are only read, never
 *  trusted).  Headers are cross-checked before they are used: a block's size must
 *  reach a header whose boundary tag names that size, and its own tag must name a
 *  block whose size agrees.  A free-list link is followed only if it names a granule
 *  of the heap that is not a used start in U and whose header is marked free, and a
 *  block leaves a list only when its neighbours' links point back at it (safe
 *  unlinking).  A damaged header, tag or link gives TARN_ECORRUPT before anything is
 *  written, and from then on the heap refuses allocations (h->broken) until it is
 *  initialised again.  Every read the check functions make is bounded by N.
 *
 * ---- Worst-case sizing (tarn_heap_size_for) -------------------------------------------
 *  Let a workload keep at every moment at most M live requested bytes and at most L live
 *  blocks (both counting the request being served), with requests of at most n bytes.
 *  A request of b bytes takes u(b) = ceil((b + X) / G) + 1 granules (X = TARN_HEAP_EXTRA,
 *  the 1 is the header), or at most u(b) + 1 when the free remainder of the block it is
 *  cut from would be a single granule (then the block is handed out whole).  Write
 *  r = u(n) and s = the largest class rounding below r: s = 0 when r < 2^(k+1), else
 *  s = 2^e - 1 with e = floor(log2 r) - k.  Claim: if the blocks area has
 *
 *        N  >=  Mg + (L - 1) (r - 1) + L s   granules,   Mg = floor((M + L (X + G - 1)) / G) + 2 L,
 *
 *  no allocation fails.  Proof: a request of u <= r granules fails only when no free
 *  block has a class >= class_up(u), i.e. every free block is shorter than
 *  lb(class_up(u)) <= u + s, so has at most u + s - 1 granules.  Free blocks are never
 *  adjacent (I3), so with L' <= L - 1 live blocks (not counting the request) there are
 *  at most L' + 1 <= L of them.  The live blocks hold at most Mg - u granules (a b-byte
 *  request holds at most ceil((b + X)/G) + 2 <= (b + X + G - 1)/G + 2 granules, and Mg
 *  counts the request too).  So N <= Mg - u + L (u + s - 1) = Mg + (L - 1) u + L s - L
 *  <= Mg + (L - 1)(r - 1) + L s - 1, below the bound.  With L = 1, s can be taken as 0:
 *  the only free block heads its class, and a request beyond the exact classes looks at
 *  the head of its own class before the good-fit search, so it fails only if that
 *  block (or, when its class is higher, any block) is shorter than u.  aligned_alloc(A, b) searches for
 *  u(b) + A/G + 1 granules and keeps at most u(b) + 1 of them live (the part in front of
 *  the aligned start is freed): it is covered by counting it as a request of b + A + G
 *  bytes, in M and in n.  A realloc is a request of its new size (the block it leaves
 *  is freed, and in place it only uses free blocks next to it); moving into the free
 *  block before it is a placement like any other, so it does not change the bound
 *  either.  The quarantine does not change the bound: an allocation fails
 *  only after every held block is released.  Regions: each region is a heap of its own
 *  sizing, so the claim holds per region for the requests it serves (a request tries
 *  every region with its capabilities, so it never fails while the first of them is
 *  within its bound).  The fixed part (control, U, class table,
 *  sentinel, worst alignment of the buffer) is added exactly by size_for; inputs whose
 *  result would exceed the largest heap (2^27 - 1 granules) or SIZE_MAX give 0.
 *  tests/test_heap_sizing.c runs adversarial sequences in heaps of exactly this size.
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
#define SZ 0x07FFFFFFu                   /* size field of w0 and w1 */
#define FREE 0x80000000u                 /* w1: the block is free */
#define HEAP_MAX_GRAN SZ                 /* N <= 2^27 - 1 */
#define MINB 2u                          /* granules of the smallest block */
#define UTAG 0x78000000u                 /* w1 of a used block: its request's caps tag */
#define UTAG_REGION 15u                  /* tag: "the caps of the block's region" */
#define UTAG_OF(w1) (((w1) >> 27) & 15u)

#define HEAP_REGIONS (TARN_HEAP_MAX_REGIONS > 1)
#if HEAP_REGIONS
#define HEAP_MULTI(h) ((h)->rt != NULL)
#else
#define HEAP_MULTI(h) ((void)(h), false)
#endif

TARN_STATIC_ASSERT((1u << LG) == G, heap_granule_is_pow2_up_to_4096);
TARN_STATIC_ASSERT(TARN_HEAP_GRANULE >= 2u * sizeof(uint32_t), heap_granule_holds_header);
TARN_STATIC_ASSERT(sizeof(uint32_t) == 4, heap_words_are_32_bit);

#define HEAP_CHECKING (TARN_CHECK_LEVEL >= 1)

/* Derived, not stored (so not sealed): the used-start bitmap U follows the control
 * structure, and the blocks area's size is N granules. */
#define UMAP(h) ((uint32_t *)(void *)((unsigned char *)(void *)(h) + sizeof(tarn_heap)))
#define NBYTES(h) ((size_t)(h)->ngran << LG)

/* h->broken: damage was seen and allocations are refused exactly when it holds this value
 * (several bits, so that a stray write of one bit into the flag neither stops the heap
 * nor goes unseen: check reports any other value but 0). */
#define HEAP_BROKEN 0xB5u

/* h->flags: TARN_HEAP_F_CLEAR_FREED, and this bit for TARN_F_SAN_REPORT. */
#define HEAP_FL_REPORT 0x80u
TARN_STATIC_ASSERT((TARN_HEAP_F_CLEAR_FREED & HEAP_FL_REPORT) == 0u, heap_flag_bits_differ);

#define HEAP_EXTRA TARN_HEAP_EXTRA
#if TARN_GUARD
#define HEAP_TRAILER 4u
TARN_STATIC_ASSERT(TARN_HEAP_EXTRA == (size_t)TARN_GUARD_SIZE + HEAP_TRAILER, heap_extra_is_guard_trailer);
#endif

#if defined(__GNUC__) || defined(__clang__)
#define HEAP_NOINLINE __attribute__((noinline))
#define HEAP_COLD __attribute__((noinline, cold))
#if !defined(__OPTIMIZE_SIZE__)
/* a hot path kept in its public function although it has other callers (speed builds) */
#define HEAP_HOT inline __attribute__((always_inline))
#define HEAP_SPEED 1
#endif
#else
#define HEAP_NOINLINE
#define HEAP_COLD
#endif
#ifndef HEAP_HOT
#define HEAP_HOT
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

/* ---- bitmap ------------------------------------------------------------------------------ */
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

/* ---- headers and links (granule numbers) --------------------------------------------------
 * Reads go through tarn_san_peek (they may land in memory whose sanitizer state is not
 * known, e.g. a damaged link); writes open the 8 bytes for the memory tools. */
static inline uint32_t *gran(const tarn_heap *h, uint32_t g)
{
    return (uint32_t *)(void *)(h->blocks + ((size_t)g << LG));
}
static inline uint32_t rd(const tarn_heap *h, uint32_t g, unsigned i)
{
    uint32_t v;
    tarn_san_peek(&v, gran(h, g) + i, sizeof v);
    return v;
}
static inline void wr(const tarn_heap *h, uint32_t g, uint32_t a, uint32_t b)
{
    uint32_t *w = gran(h, g);
    TARN_SAN_OPEN(w, 8);
    w[0] = a;
    w[1] = b;
    TARN_SAN_CLOSE(w, 8);
}
static inline void wr1(const tarn_heap *h, uint32_t g, unsigned i, uint32_t v)
{
    uint32_t *w = gran(h, g);
    TARN_SAN_OPEN(w, 8);
    w[i] = v;
    TARN_SAN_CLOSE(w, 8);
}
#define HD_PREV(h, g) (rd((h), (g), 0u) & SZ)
#define HD_W1(h, g) rd((h), (g), 1u)
/* The boundary tag of the block at g: the size of the block before it (al kept). */
static inline void set_prev(const tarn_heap *h, uint32_t g, uint32_t s)
{
    wr1(h, g, 0u, (rd(h, g, 0u) & ~SZ) | s);
}
/* Links of the free block x (in granule x + 1). */
#define LK_NEXT(h, x) rd((h), (x) + 1u, 0u)
#define LK_PREV(h, x) rd((h), (x) + 1u, 1u)

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
static inline uint32_t cls_of(const tarn_heap *h, uint32_t u)
{
    return class_k(u, h->k);
}
/* Smallest class whose every block has >= u granules. */
static inline uint32_t cls_up(const tarn_heap *h, uint32_t u)
{
    uint32_t e;
    if (u < (2u << h->k)) return u;
    e = tarn_log2_u32(u) - h->k;
    return (e << h->k) + ((u + (1u << e) - 1u) >> e);
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
/* Smallest non-empty class >= c (c < nclasses), NIL when there is none, or a class
 * >= nclasses when the bitmaps are damaged. */
static inline uint32_t cls_find(const tarn_heap *h, uint32_t c)
{
    uint32_t g = c >> 5;
    uint32_t w = h->groups[g] & (~0u << (c & 31u));
    if (w == 0u) {
        uint32_t t = h->top & (~1u << g);
        if (t == 0u) return NIL;
        g = tarn_ctz_u32(t);
        if (TARN_UNLIKELY(g >= ((h->nclasses + 31u) >> 5))) return h->nclasses;
        w = h->groups[g];
        if (TARN_UNLIKELY(w == 0u)) return h->nclasses;
    }
    return (g << 5) | tarn_ctz_u32(w);
}

/* ---- free lists ----------------------------------------------------------------------- */
static tarn_status heap_damaged(tarn_heap *h);

/* y may be followed as a link: a granule of the heap, not a used start, marked free. */
static inline bool is_free(const tarn_heap *h, uint32_t y)
{
    return y < h->ngran && bit_get(UMAP(h), y) == 0u && (HD_W1(h, y) & ~SZ) == FREE;
}

/* Push x on the list of class c.  A head that does not point back at its class (the
 * table was damaged) is not written through: x starts a new list and the heap is marked
 * damaged. */
static inline void list_push(tarn_heap *h, uint32_t x, uint32_t c)
{
    uint32_t old = h->heads[c];
#if HEAP_CHECKING
    if (TARN_UNLIKELY(old != NIL && (old >= h->ngran || LK_PREV(h, old) != (TAG | c)))) {
        (void)heap_damaged(h);
        old = NIL;
    }
#endif
    wr(h, x + 1u, old, TAG | c);
    h->heads[c] = x;
    if (old != NIL) {
        wr1(h, old + 1u, 1u, x);
    } else {
        cls_mark(h, c);
    }
}

/* x can leave its list: its neighbours' links point back at it (safe unlinking). */
static inline bool unlink_ok(const tarn_heap *h, uint32_t x)
{
#if HEAP_CHECKING
    uint32_t nx = LK_NEXT(h, x), pv = LK_PREV(h, x);
    if (nx != NIL && (!is_free(h, nx) || LK_PREV(h, nx) != x)) return false;
    if ((pv & TAG) != 0u) return (pv & ~TAG) < h->nclasses && h->heads[pv & ~TAG] == x;
    return is_free(h, pv) && LK_NEXT(h, pv) == x;
#else
    (void)h;
    (void)x;
    return true;
#endif
}

/* Remove x (checked by unlink_ok) from its list. */
static inline void list_unlink(tarn_heap *h, uint32_t x)
{
    uint32_t nx = LK_NEXT(h, x), pv = LK_PREV(h, x);
    if ((pv & TAG) != 0u) {
        h->heads[pv & ~TAG] = nx;
        if (nx == NIL) cls_unmark(h, pv & ~TAG);
    } else {
        wr1(h, pv + 1u, 0u, nx);
    }
    if (nx != NIL) wr1(h, nx + 1u, 1u, pv);
}

/* MINB <= s <= lim, for lim >= 1, in one unsigned comparison (s < MINB wraps around). */
#define SIZE_IN(s, lim) ((uint32_t)((s) - MINB) < (uint32_t)((lim) - 1u))

/* The size of the free block at x (x < N), checked against its boundary tag; 0 when
 * damaged. */
static inline uint32_t free_size(const tarn_heap *h, uint32_t x)
{
    uint32_t s = HD_W1(h, x) & SZ;
#if HEAP_CHECKING
    if (!SIZE_IN(s, h->ngran - x) || HD_PREV(h, x + s) != s) return 0u;
#endif
    return s;
}

/* ---- geometry -------------------------------------------------------------------------- */
typedef struct heap_geom {
    uint32_t n, k, nclasses, ngroups, uwords;
    size_t ctrl;   /* bytes from the heap struct to granule 0 (a multiple of G) */
} heap_geom;

static void geom_for(heap_geom *g, uint32_t n, uint32_t k)
{
    g->n = n;
    g->k = k;
    g->nclasses = class_k(n, k) + 2u;     /* + 1 spare: class_up(n) may be class(n) + 1 */
    g->ngroups = (g->nclasses + 31u) >> 5;
    g->uwords = (n + 1u + 31u) >> 5;
    g->ctrl = TARN_ALIGN_UP(sizeof(tarn_heap) +
                                (size_t)4u * (g->uwords + g->ngroups + g->nclasses),
                            (size_t)G);
}

/* Classes per power of two for a buffer of `size` bytes: the class table within
 * max(size/1024 + 96, size/128) bytes (independent of the buffer's alignment): below
 * about 14 KiB the first, a fixed allowance; above it 1/128 of the buffer, which buys a
 * finer split where it pays (docs/heap.md, "Class budget"). */
static uint32_t geom_k(size_t size)
{
    uint32_t k, n;
    size_t sn = size >> LG, budget = size / 1024u + 96u;
    n = sn > HEAP_MAX_GRAN ? HEAP_MAX_GRAN : (uint32_t)sn;
    if (n < 2u) return 0u;
    if (size / 128u > budget) budget = size / 128u;
    for (k = 5; k > 0; k--) {
        uint32_t nc = class_k(n, k) + 2u;
        if ((size_t)4u * (nc + ((nc + 31u) >> 5)) <= budget) break;
    }
    return k;
}

/* Largest heap (N granules plus the sentinel) fitting in `avail` bytes from a G-aligned
 * address, with k classes per power of two.  False when not even N = 2 fits. */
static bool geom_layout(heap_geom *g, size_t avail, uint32_t k)
{
    uint32_t lo = 0, hi;
    size_t maxn = avail >> LG;
    hi = maxn > HEAP_MAX_GRAN ? HEAP_MAX_GRAN : (uint32_t)maxn;
    while (lo < hi) {   /* largest n in [0, hi] with ctrl(n) + (n + 1) G <= avail */
        uint32_t mid = lo + (hi - lo + 1u) / 2u;
        geom_for(g, mid, k);
        if (g->ctrl <= avail && ((size_t)mid + 1u) << LG <= avail - g->ctrl) {
            lo = mid;
        } else {
            hi = mid - 1u;
        }
    }
    if (lo < MINB) return false;
    geom_for(g, lo, k);
    return true;
}

/* ---- validation --------------------------------------------------------------------------- */
/* The seal of the fields every call trusts (geometry, table pointers, hooks): a stray
 * write into the control structure changes it, and the heap then refuses every call
 * (TARN_EINVAL: not a heap) instead of following a damaged pointer. */
#define SEAL_P(p) ((uintptr_t)(p))
#define ROTP(x, r) (((uintptr_t)(x) << (r)) | ((uintptr_t)(x) >> (sizeof(uintptr_t) * 8u - (r))))
static inline uintptr_t heap_seal(const tarn_heap *h)
{
    /* exclusive or of the fields, unshifted and kept at pointer width (a change in any
     * bit of any one field changes the same bit of the seal, on 32- and 64-bit hosts:
     * nothing is shifted or folded out, and no fold is paid on every call) */
    uintptr_t v = SEAL_P(h->blocks) ^ SEAL_P(h->groups) ^ SEAL_P(h->heads) ^
                  (uintptr_t)(h->ngran ^ h->nclasses ^ h->k) ^ (uintptr_t)0x7A5E11EDu;
#if TARN_LOCKING
    v ^= SEAL_P(h->lock.lock) ^ SEAL_P(h->lock.unlock) ^ SEAL_P(h->lock.ctx);
#endif
#if TARN_HEAP_TRACE
    v ^= SEAL_P(h->trace);
#endif
    return v;
}

/* Store the seal after a change of a sealed field: only the checking levels read it. */
#if HEAP_CHECKING
#define HEAP_RESEAL(h) ((h)->seal = heap_seal(h))
#else
#define HEAP_RESEAL(h) ((void)(h))
#endif

static inline bool heap_valid(const tarn_heap *h)
{
#if HEAP_CHECKING
    return h != NULL && h->self == h && h->seal == heap_seal(h);
#else
    return h != NULL;
#endif
}

/* ---- the region table ---------------------------------------------------------------------
 * A heap with one region has none (h->rt NULL).  The first tarn_heap_add_region puts it at
 * the start of the region it adds (the region's own heap follows it).  Entry i >= 1 names
 * region i's heap, the range of its payload addresses (a pointer is mapped to its region
 * by at most TARN_HEAP_MAX_REGIONS - 1 range comparisons on this table, before any byte
 * of the region is read) and its capabilities.  Each entry has a check word, verified
 * before the entry is used (a few instructions: a call pays for the entries it uses, a
 * one-region heap for nothing); the count, the capability sets and region 1's buffer
 * have one more. */
#if HEAP_REGIONS
typedef struct heap_rtab {
    tarn_heap *rgn[TARN_HEAP_MAX_REGIONS];   /* [i]: region i's heap ([0] unused) */
    uintptr_t rlo[TARN_HEAP_MAX_REGIONS];    /* its first payload address */
    uintptr_t rlen[TARN_HEAP_MAX_REGIONS];   /* bytes from there to its last payload + G */
    uint32_t caps[TARN_HEAP_MAX_REGIONS];    /* its capabilities ([0]: h->caps0) */
    uint32_t rchk[TARN_HEAP_MAX_REGIONS];    /* check word of entry i */
    uint32_t capset[TARN_HEAP_CAP_SETS];     /* request capability sets (tags 1..) */
    uint32_t full[TARN_HEAP_MAX_REGIONS];    /* hint: a search for this many granules (or
                                                more) failed in region i since its last
                                                free (UINT32_MAX: none); lets a request skip
                                                a full region without touching it */
    const struct heap_rops *ops;             /* the region code (see heap_ops) */
    uint32_t opschk;                         /* check of ops */
    void *mem1;                              /* region 1's buffer as given (holds this) */
    size_t size1;
    uint32_t tseal;                          /* check of nrgn, ncapset, capset, mem1, size1 */
    uint8_t nrgn, ncapset;
} heap_rtab;
/* The public bound of the table's bytes holds (alignment padding included). */
TARN_STATIC_ASSERT(sizeof(heap_rtab) + 2u * (TARN_HEAP_GRANULE - 1u) <= TARN_HEAP_REGION_TABLE_BYTES,
                   heap_region_table_bound);
/* Check word of the table's ops pointer: every bit of the pointer reaches the 32-bit
 * word (on a 64-bit host the upper half is folded in; it was shifted out before). */
static inline uint32_t heap_ops_seal(const struct heap_rtab *t)
{
    uintptr_t v = (uintptr_t)t->ops ^ (uintptr_t)t ^ (uintptr_t)0x0B5EA1u;
#if UINTPTR_MAX > 0xFFFFFFFFu
    v ^= v >> 32;
#endif
    return (uint32_t)(v ^ ((v & 0xFFFFFFFFu) >> 16));
}
#define OPS_SEAL(t) heap_ops_seal(t)
/* Bytes the table takes at the start of a buffer at mem. */
#define RT_BYTES(mem) \
    (((G - ((uintptr_t)(mem) & (G - 1u))) & (G - 1u)) + TARN_ALIGN_UP(sizeof(heap_rtab), (size_t)G))

static inline uint32_t heap_ent_seal(const heap_rtab *t, unsigned i)
{
    uintptr_t v = (uintptr_t)t->caps[i] ^ ((uintptr_t)0x51ED0000u + i) ^ ROTP(SEAL_P(t->rgn[i]), 3) ^
                  ROTP(t->rlo[i], 11) ^ ROTP(t->rlen[i], 19);
#if UINTPTR_MAX > 0xFFFFFFFFu
    v ^= v >> 32;
#endif
    return (uint32_t)v;
}

static inline bool heap_ent_ok(const heap_rtab *t, unsigned i)
{
    return t->rchk[i] == heap_ent_seal(t, i);
}

static uint32_t heap_t_seal(const heap_rtab *t)
{
    uintptr_t v = (uintptr_t)0x3E610A5Bu ^ t->ncapset ^ ((uintptr_t)t->nrgn << 8) ^
                  ROTP(SEAL_P(t->mem1), 5) ^ ROTP(t->size1, 13);
    unsigned i;
    for (i = 0; i < TARN_HEAP_CAP_SETS; i++) v = ROTP(v, 7) ^ t->capset[i];
#if UINTPTR_MAX > 0xFFFFFFFFu
    v ^= v >> 32;
#endif
    return (uint32_t)v;
}

static inline bool heap_t_ok(const heap_rtab *t)
{
    return t->ncapset <= TARN_HEAP_CAP_SETS && t->nrgn >= 2u &&
           t->nrgn <= TARN_HEAP_MAX_REGIONS && t->tseal == heap_t_seal(t);
}

/* Seal the table after a change. */
static void heap_rgn_reseal(heap_rtab *t)
{
    unsigned i;
    for (i = 1; i < TARN_HEAP_MAX_REGIONS; i++) t->rchk[i] = heap_ent_seal(t, i);
    t->tseal = heap_t_seal(t);
}
#endif

/* The check word of h->rt and h->caps0 (kept out of the seal every call verifies: only
 * the calls that use them check it). */
static inline uint32_t heap_rt_seal(const tarn_heap *h)
{
    uintptr_t v = SEAL_P(h->rt) ^ SEAL_P(h) ^ h->caps0 ^ (uintptr_t)0x2E610115u;
#if UINTPTR_MAX > 0xFFFFFFFFu
    v ^= v >> 32;
#endif
    return (uint32_t)v;
}

static inline bool heap_rt_ok(const tarn_heap *h)
{
    return h->rtchk == heap_rt_seal(h);
}

/* The check word of h->mem, h->mem_size and h->aligned, which no allocation or free
 * uses: verified by the calls that read them (check, stats, region_get, destroy, and a
 * realloc that moves a block from aligned_alloc). */
static HEAP_NOINLINE uint32_t heap_mem_seal(const tarn_heap *h)
{
    uintptr_t v = SEAL_P(h->mem) ^ ROTP(h->mem_size, 13) ^ SEAL_P(h) ^ (uintptr_t)0x6D656D5Au ^
                  ROTP((uintptr_t)h->aligned, 7);
#if UINTPTR_MAX > 0xFFFFFFFFu
    v ^= v >> 32;
#endif
    return (uint32_t)v;
}

static bool heap_mem_ok(const tarn_heap *h)
{
    return h->memchk == heap_mem_seal(h);
}

#if HEAP_REGIONS
/* The region table, or NULL (one region, or a damaged pointer to it: the calls that can
 * tell - h->rt not NULL - report the damage). */
static heap_rtab *heap_rt(const tarn_heap *h)
{
    if (h->rt == NULL || TARN_UNLIKELY(!heap_rt_ok(h))) return NULL;
    return (heap_rtab *)h->rt;
}
#define RT(h) heap_rt(h)
#endif

/* Number of regions, bounded (a damaged count is caught by the entries' checks). */
static inline unsigned heap_nrgn(const tarn_heap *h)
{
#if HEAP_REGIONS
    const heap_rtab *t = RT(h);
    if (t != NULL) return t->nrgn <= TARN_HEAP_MAX_REGIONS ? t->nrgn : TARN_HEAP_MAX_REGIONS;
#endif
    (void)h;
    return 1u;
}

/* The whole table: count, every entry, the capability sets. */
static bool heap_rgn_ok(const tarn_heap *h)
{
#if HEAP_REGIONS
    unsigned i;
    const heap_rtab *t = RT(h);
    if (!heap_rt_ok(h)) return false;
    if (t == NULL) return true;
    if (!heap_t_ok(t) || t->opschk != OPS_SEAL(t)) return false;
    for (i = 1; i < TARN_HEAP_MAX_REGIONS; i++) {
        if (!heap_ent_ok(t, i)) return false;
    }
#endif
    (void)h;
    return true;
}

/* Capabilities of region i (i < heap_nrgn; its entry checked by the caller). */
static inline uint32_t heap_rcaps(const tarn_heap *h, unsigned i)
{
#if HEAP_REGIONS
    if (i != 0u) {
        const heap_rtab *t = RT(h);
        return t != NULL ? t->caps[i] : 0u;
    }
#endif
    (void)i;
    return heap_rt_ok(h) ? h->caps0 : 0u;   /* (heap_place reports the damage) */
}

#if HEAP_REGIONS
/* The heap of region ri (checked), or NULL when it or the table is damaged. */
/* The heap of region ri >= 1 of the table t, whose entry is checked: checked itself
 * (self, seal, and the entry's range), or NULL. */
static inline tarn_heap *heap_rgn_chk(const heap_rtab *t, unsigned ri)
{
    tarn_heap *c = t->rgn[ri];
    return (heap_valid(c) && c->rt == NULL && (uintptr_t)c->blocks + G == t->rlo[ri]) ? c : NULL;
}

/* The heap of region ri >= 1 (checked), or NULL when it or the table is damaged. */
static const tarn_heap *heap_rgn_at_c(const tarn_heap *h, unsigned ri)
{
    const heap_rtab *t = RT(h);
    const tarn_heap *c;
    if (t == NULL || !heap_ent_ok(t, ri)) return NULL;
    c = heap_rgn_chk(t, ri);
    return c != NULL && heap_mem_ok(c) ? c : NULL;   /* (its mem and mem_size too) */
}

/* The heap of region ri (checked), or NULL when it or the table is damaged. */
static tarn_heap *heap_rgn_at(tarn_heap *h, unsigned ri)
{
    const heap_rtab *t = RT(h);
    tarn_heap *c;
    if (ri == 0u) return h;
    if (t == NULL || !heap_ent_ok(t, ri)) return NULL;
    c = heap_rgn_chk(t, ri);
    return c != NULL && heap_mem_ok(c) ? c : NULL;   /* (its mem and mem_size too) */
}

/* Memory of region ri was freed: forget that it was full. */
static inline void heap_rgn_freed(const tarn_heap *h, unsigned ri)
{
    if (ri != 0u) ((heap_rtab *)h->rt)->full[ri] = UINT32_MAX;
}
#else
static inline tarn_heap *heap_rgn_at(tarn_heap *h, unsigned ri)
{
    (void)ri;
    return h;
}
#endif

static tarn_status heap_check_locked(const tarn_heap *h);

#if TARN_CHECK_LEVEL >= 2
#define HEAP_DEEP_CHECK_FAILS(h) (heap_check_locked(h) != TARN_OK)
#else
#define HEAP_DEEP_CHECK_FAILS(h) 0
#endif

/* Damaged metadata was found: from now on allocations are refused.  Returns
 * TARN_ECORRUPT. */
static HEAP_COLD tarn_status heap_damaged(tarn_heap *h)
{
    h->broken = HEAP_BROKEN;
    return TARN_ECORRUPT;
}

/* Record a failed allocation; returns NULL. */
static HEAP_COLD void *heap_alloc_fail(tarn_heap *h, size_t size, tarn_status st)
{
    TARN_ERR_SET(h->last_error, (uint8_t)st);
    TARN_STAT(h->failed++);
    HEAP_TRACE(h, TARN_HEAP_EV_FAIL, NULL, size, st);
    (void)size;
    return NULL;
}

/* Record a rejected call; returns st. */
static HEAP_COLD tarn_status heap_reject(tarn_heap *h, const void *p, tarn_status st)
{
    TARN_ERR_SET(h->last_error, (uint8_t)st);
    HEAP_TRACE(h, TARN_HEAP_EV_REJECT, p, 0u, st);
    (void)p;
    return st;
}

/* A rejected free or realloc: with TARN_F_SAN_REPORT also report it to the memory tool. */
static HEAP_COLD tarn_status heap_reject_free(tarn_heap *h, const void *p, tarn_status st)
{
    if ((h->flags & HEAP_FL_REPORT) != 0u && (st == TARN_EDOUBLE || st == TARN_EFOREIGN)) {
        TARN_SAN_REPORT_BAD_FREE(h, p);
    }
    return heap_reject(h, p, st);
}

/* Copying a moved block's payload (G-aligned addresses, a multiple of G bytes, except in
 * canary mode): in speed builds and canary mode the C library's memcpy; in size builds
 * (-Os) a loop of 32-bit words, so that a program using the heap need not link the
 * library's (about 300 bytes on Cortex-M). */
#if defined(HEAP_SPEED) || TARN_GUARD
#define HEAP_COPY(d, s, n) memcpy((d), (s), (n))
#else
#define HEAP_COPY(d, s, n) tarn_words_fwd((d), (s), (n))
#endif

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

/* Granules of the block for a request of `size` bytes (size <= nbytes): header, payload,
 * guard and trailer in canary mode. */
static inline uint32_t heap_units(size_t size)
{
    return (uint32_t)((size + HEAP_EXTRA + (G - 1u)) >> LG) + 1u;
}

/* Payload address of the block at g, and bytes of payload of a block of s granules. */
#define PAYLOAD(h, g) ((h)->blocks + (((size_t)(g) + 1u) << LG))
/* The granule of the header of the block whose payload is p (PAYLOAD's inverse). */
#define GRAN_OF(h, p) ((uint32_t)(((uintptr_t)(p) - (uintptr_t)(h)->blocks) >> LG) - 1u)
#define PBYTES(s) (((size_t)(s) - 1u) << LG)

/* ---- canary mode ------------------------------------------------------------------------ */
#if TARN_GUARD
#define GUARD_WORD(slack) ((uint32_t)(slack) | (((uint32_t)(slack) ^ 0xFFFFu) << 16))

/* Write the guard and trailer of the payload [p, p + bytes) handed out for n bytes. */
static void guard_put(unsigned char *p, size_t bytes, size_t n)
{
    uint32_t slack = GUARD_WORD(bytes - n);
    unsigned char *t = p + bytes - HEAP_TRAILER;
    tarn_guard_fill(p + n, bytes - n - HEAP_TRAILER);
    TARN_SAN_OPEN(t, HEAP_TRAILER);
    memcpy(t, &slack, HEAP_TRAILER);
    /* closed as one region: ASan's shadow keeps only an accessible prefix of 8 bytes */
    TARN_SAN_CLOSE(p + n, bytes - n);
}

/* The slack recorded in the trailer of the payload [p, p + bytes), or 0xFFFFFFFF when
 * the trailer is damaged. */
static uint32_t guard_tail(const unsigned char *p, size_t bytes)
{
    uint32_t w;
    tarn_san_peek(&w, p + bytes - HEAP_TRAILER, HEAP_TRAILER);
    return w == GUARD_WORD(w & 0xFFFFu) ? (w & 0xFFFFu) : 0xFFFFFFFFu;
}

/* Bytes the caller may use in the payload [p, p + bytes); SIZE_MAX when the trailer or
 * the guard is damaged.  Reads only the block's own tail. */
static size_t guard_live(const unsigned char *p, size_t bytes)
{
    uint32_t slack = guard_tail(p, bytes);
    if (slack > 0xFFFFu || slack < HEAP_EXTRA || slack > bytes) return SIZE_MAX;
    if (!tarn_guard_intact(p + bytes - slack, slack - HEAP_TRAILER)) return SIZE_MAX;
    return bytes - slack;
}
#endif

/* Bytes the caller may use in the used block of s granules whose payload is p (SIZE_MAX:
 * damaged guard).  Without canary mode: the whole payload. */
static inline size_t heap_live(const unsigned char *p, uint32_t s)
{
#if TARN_GUARD
    return guard_live(p, PBYTES(s));
#else
    (void)p;
    return PBYTES(s);
#endif
}

/* The block of s granules at g was just marked used for `size` requested bytes: hand it
 * out (memory tools, guard, counters, trace).  Returns its payload. */
static void *heap_hand_out(tarn_heap *h, uint32_t g, uint32_t s, size_t size)
{
    unsigned char *p = PAYLOAD(h, g);
#if TARN_GUARD
    guard_put(p, PBYTES(s), size);
#else
    size = PBYTES(s);               /* the whole payload is the caller's */
#endif
    TARN_SAN_ALLOC(h, p, size);
    HEAP_TRACE(h, TARN_HEAP_EV_ALLOC, p, size, TARN_OK);
    TARN_STAT(h->used += size; if (h->used > h->peak) h->peak = h->used; h->allocs++);
    return p;
}

/* ---- quarantine ------------------------------------------------------------------------- */
#if TARN_QUARANTINE > 0
static inline int heap_fill_byte(const tarn_heap *h)
{
    if ((h->flags & TARN_HEAP_F_CLEAR_FREED) != 0u) return 0;
    return TARN_POISON_FREE ? (int)TARN_POISON_BYTE : -1;
}
#define HEAP_HOLDS(h, p) ((h)->quarantine.count != 0u && tarn_q_holds(&(h)->quarantine, (p)))
#define HEAP_Q_ON(h) ((h)->quarantine.on)
#else
#define HEAP_Q_ON(h) ((void)(h), false)
#define HEAP_HOLDS(h, p) ((void)(h), (void)(p), false)
#endif

/* ---- locating a block ---------------------------------------------------------------------- */
/* A live block at ptr, located and checked. */
typedef struct heap_blk {
    uint32_t g, s, ps;   /* header granule, size, size of the block before */
    size_t live;         /* bytes the caller may use */
} heap_blk;

/* The code that serves several regions, reached from the one-region paths through the
 * region table, which only tarn_heap_add_region creates: a program that never adds a
 * region does not link it (the table's check word on the pointer is verified first). */
typedef struct heap_rops {
    void *(*place)(tarn_heap *h, unsigned first, size_t size, size_t alignment, uint32_t caps,
                   tarn_status *st);
    tarn_status (*free_rgn)(tarn_heap *h, void *ptr);
    void *(*realloc_in)(tarn_heap *h, tarn_heap *c, unsigned ri, void *ptr, const heap_blk *b,
                        size_t size, uint32_t caps, bool keep);
    void *(*realloc_rgn)(tarn_heap *h, void *ptr, size_t size, uint32_t caps, bool keep);
    tarn_status (*find)(tarn_heap *h, const void *p, tarn_heap **c, unsigned *ri);
} heap_rops;

#if HEAP_REGIONS
/* The region code of h (which has a table), or NULL: damaged (h is then marked so). */
static const heap_rops *heap_ops(tarn_heap *h)
{
    const heap_rtab *t = RT(h);
    if (TARN_UNLIKELY(t == NULL || t->opschk != OPS_SEAL(t))) {
        h->broken = HEAP_BROKEN;
        return NULL;
    }
    return t->ops;
}
#endif

/* Rejected pointer whose header granule is g: does g hold a plausible free block (a
 * second free), or is it foreign/interior?  Only reads; g < N. */
static tarn_status heap_why(const tarn_heap *h, uint32_t g)
{
    uint32_t w1 = HD_W1(h, g), s = w1 & SZ;
    if ((w1 & ~SZ) == FREE && s >= MINB && s <= h->ngran - g && HD_PREV(h, g + s) == s) {
        return TARN_EDOUBLE;
    }
    return TARN_EFOREIGN;
}

/* Validate ptr as a live block and describe it.  O(1).  `full`: also check the boundary
 * tag of the block before (free and realloc need it; usable_size does not). */
static HEAP_HOT tarn_status heap_block_of(tarn_heap *h, const void *ptr, heap_blk *b, bool full)
{
    uintptr_t d;
    uint32_t w0, w1;
    b->s = 0;
    b->ps = 0;
    b->live = 0;
    d = (uintptr_t)ptr - (uintptr_t)h->blocks - G;
#if HEAP_CHECKING
    /* d rotated right by LG: d / G when d is a multiple of G, else a number above
     * 2^(bits - LG) > N; so one comparison checks both the range and the alignment.
     * NULL never passes it (no payload of the blocks area is at address 0). */
    d = (d >> LG) | (d << (sizeof(uintptr_t) * 8u - LG));
    if (TARN_UNLIKELY(d >= (uintptr_t)h->ngran - 1u)) {
        return ptr == NULL ? TARN_EINVAL : TARN_EFOREIGN;
    }
    b->g = (uint32_t)d;
    if (TARN_UNLIKELY(bit_get(UMAP(h), b->g) == 0u)) return heap_why(h, b->g);
    if (TARN_UNLIKELY(HEAP_HOLDS(h, ptr))) return TARN_EDOUBLE;
    /* a used header's w1 is its size and nothing else: MINB <= w1 <= N - g (so no FREE
     * or spare bit), and the tag after it names it.  (The header is the granule before
     * ptr, now known to be granule g: read through ptr, the same address.) */
    {
        const unsigned char *hd = (const unsigned char *)ptr - G;
        tarn_san_peek(&w1, hd + sizeof(uint32_t), sizeof w1);
        w1 &= ~UTAG;                /* the request's caps tag (any value is harmless) */
        b->s = w1;
        if (TARN_UNLIKELY(!SIZE_IN(w1, h->ngran - b->g))) return heap_damaged(h);
        tarn_san_peek(&w0, hd + ((size_t)w1 << LG), sizeof w0);
        if (TARN_UNLIKELY((w0 & SZ) != w1)) return heap_damaged(h);
        if (full) {         /* the tag names a block before whose size agrees */
            uint32_t lw1;
            tarn_san_peek(&w0, hd, sizeof w0);
            b->ps = w0 & SZ;
            if (b->g == 0u) {
                if (TARN_UNLIKELY(b->ps != 0u)) return heap_damaged(h);
            } else {
                if (TARN_UNLIKELY(!SIZE_IN(b->ps, b->g))) return heap_damaged(h);
                tarn_san_peek(&lw1, hd - ((size_t)b->ps << LG) + sizeof(uint32_t), sizeof lw1);
                if (TARN_UNLIKELY((lw1 & SZ) != b->ps)) return heap_damaged(h);
            }
        }
    }
#else
    if (TARN_UNLIKELY(ptr == NULL)) return TARN_EINVAL;
    /* with several regions even level 0 must find the region (by range only) */
    if (HEAP_MULTI(h) && d >= ((uintptr_t)h->ngran - 1u) << LG) return TARN_EFOREIGN;
    b->g = (uint32_t)(d >> LG);
    w1 = HD_W1(h, b->g);
    b->s = w1 & SZ;
    w0 = rd(h, b->g, 0u);
    b->ps = w0 & SZ;
    (void)full;
#endif
    b->live = heap_live((const unsigned char *)ptr, b->s);
    return b->live == SIZE_MAX ? TARN_ECORRUPT : TARN_OK;
}

/* ---- the core ----------------------------------------------------------------------------- */
/* Mark [x, x+s) (a free block just taken off its list) used with u <= s granules; a
 * remainder of at least MINB granules becomes a free block after it.  Returns the size
 * the block got (u or s). */
static HEAP_HOT uint32_t heap_cut(tarn_heap *h, uint32_t x, uint32_t s, uint32_t u)
{
    if (s - u >= MINB) {
        wr(h, x + u, u, FREE | (s - u));
        set_prev(h, x + s, s - u);
        list_push(h, x + u, cls_of(h, s - u));
        s = u;
    }
    wr1(h, x, 1u, s);
    bit_set(UMAP(h), x);
    return s;
}

/* Take the head of class c, checked to be a free block of at least `need` granules, off
 * its list.  Returns it and its size in *ps, or NIL (damaged; nothing changed). */
static HEAP_HOT uint32_t heap_pop(tarn_heap *h, uint32_t c, uint32_t need, uint32_t *ps)
{
    uint32_t x;
    if (TARN_UNLIKELY(c >= h->nclasses)) return NIL;
    x = h->heads[c];
#if HEAP_CHECKING
    if (TARN_UNLIKELY(!is_free(h, x))) return NIL;
#endif
    *ps = free_size(h, x);
#if HEAP_CHECKING
    /* the head of class c, large enough, and its successor points back at it */
    if (TARN_UNLIKELY(*ps < need || LK_PREV(h, x) != (TAG | c))) return NIL;
#else
    (void)need;
#endif
#ifdef HEAP_SPEED
    {   /* the head's unlinking written out: c is known, so is the head's prev link */
        uint32_t nx = LK_NEXT(h, x);
#if HEAP_CHECKING
        if (TARN_UNLIKELY(nx != NIL && (!is_free(h, nx) || LK_PREV(h, nx) != x))) return NIL;
#endif
        h->heads[c] = nx;
        if (nx != NIL) {
            wr1(h, nx + 1u, 1u, TAG | c);
        } else {
            cls_unmark(h, c);
        }
    }
#else
    /* size builds: the general safe unlinking (-48 B on Cortex-M4, +2 % instructions) */
    if (TARN_UNLIKELY(!unlink_ok(h, x))) return NIL;
    list_unlink(h, x);
#endif
    return x;
}

/* The class to take a block of at least u granules from: the head of u's own class
 * when it is large enough (a closer fit, which good fit alone never uses for sizes
 * beyond the exact classes), else the smallest non-empty class >= class_up(u).  NIL:
 * none.  A damaged head is chosen, so that heap_pop reports it. */
static HEAP_HOT uint32_t heap_pick(const tarn_heap *h, uint32_t u)
{
    if (u >= (2u << h->k)) {
        uint32_t c0 = cls_of(h, u), x0 = h->heads[c0];
        if (x0 != NIL && (x0 >= h->ngran || (HD_W1(h, x0) & SZ) >= u)) return c0;
    }
    return cls_find(h, cls_up(h, u));
}

/* Take a block of u granules (MINB <= u <= N).  Returns its granule (and its size in
 * *got), or NIL with *st set (nothing changed). */
static HEAP_HOT uint32_t heap_take(tarn_heap *h, uint32_t u, uint32_t *got, tarn_status *st)
{
    uint32_t c = heap_pick(h, u), x, s = 0;
    if (TARN_UNLIKELY(c == NIL)) {
        *st = TARN_ENOMEM;
        return NIL;
    }
    x = heap_pop(h, c, u, &s);
    if (TARN_UNLIKELY(x == NIL)) {
        *st = heap_damaged(h);
        return NIL;
    }
    *got = heap_cut(h, x, s, u);
    return x;
}

/* How heap_release is used: freeing a whole block, the tail cut off a block resized in
 * place (whose memory-tool state and counters the caller handles), or a block leaving
 * the quarantine (already filled and poisoned when it was freed) or moving into the free
 * block before it (heap_grow_left, which handles its bytes, state and counters). */
#define REL_BLOCK 1
#define REL_TAIL 0
#define REL_HELD 2

/* Make [g, g+s) free, merged at once with free neighbours; ps is the size of the block
 * before it (whose free state is looked up unless mode is REL_TAIL: then it is the
 * block being shrunk).  Every header and link that will be used is checked first: on
 * TARN_ECORRUPT nothing has changed. */
static HEAP_HOT tarn_status heap_release(tarn_heap *h, uint32_t g, uint32_t s, uint32_t ps, int mode)
{
    uint32_t n = g + s, ns = 0, l = g - ps;
    bool rf = bit_get(UMAP(h), n) == 0u;               /* U[N] = 1: never past the end */
    /* for g = 0, ps = 0 (checked by the callers): l = g, whose U bit is still set */
    bool lf = mode != REL_TAIL && bit_get(UMAP(h), l) == 0u;

    if (rf && (!HEAP_CHECKING || (HD_W1(h, n) & ~SZ) == FREE)) ns = free_size(h, n);
    if (TARN_UNLIKELY(rf && (ns == 0u || !unlink_ok(h, n)))) return heap_damaged(h);
    if (TARN_UNLIKELY(lf && (HD_W1(h, l) != (FREE | ps) || !unlink_ok(h, l)))) {
        return heap_damaged(h);
    }
    /* checked: from here on nothing can fail */
    if (mode == REL_BLOCK) {        /* (a held block was handled when it was freed) */
        unsigned char *p = PAYLOAD(h, g);
        size_t bytes = PBYTES(s);
#if TARN_GUARD
        uint32_t slack = guard_tail(p, bytes);
        size_t live = slack <= bytes ? bytes - slack : 0u;   /* checked by the caller */
        TARN_SAN_OPEN(p + live, bytes - live);               /* guard and trailer */
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
    bit_clr(UMAP(h), g);
    if (rf) {                       /* merge the right neighbour */
        list_unlink(h, n);
        wr(h, n, 0u, 0u);
        s += ns;
    }
    if (lf) {                       /* merge into the left neighbour */
        list_unlink(h, l);
        wr(h, g, 0u, 0u);
        g = l;
        s += ps;
    }
    wr(h, g, lf ? rd(h, g, 0u) & SZ : ps, FREE | s);
    set_prev(h, g + s, s);
    list_push(h, g, cls_of(h, s));
    return TARN_OK;
}

/* heap_release of a whole block (free): in speed builds compiled into free with the mode
 * known; in size builds the one function. */
#ifdef HEAP_SPEED
static HEAP_HOT tarn_status heap_release_block(tarn_heap *h, uint32_t g, uint32_t s, uint32_t ps)
{
    return heap_release(h, g, s, ps, REL_BLOCK);
}
#else
#define heap_release_block(h, g, s, ps) heap_release((h), (g), (s), (ps), REL_BLOCK)
#endif

/* ---- init / destroy ---------------------------------------------------------------------- */
tarn_status tarn_heap_init(tarn_heap **out, void *mem, size_t size, const tarn_config *cfg)
{
    heap_geom geo;
    size_t pad, i;
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
    if (size < pad || !geom_layout(&geo, size - pad, geom_k(size)) ||
        geo.n < heap_units(1u)) {
        return TARN_ETOOSMALL;
    }
    base = (unsigned char *)mem + pad;
    h = (tarn_heap *)(void *)base;
    /* A heap re-initialised without tarn_heap_destroy: forget the old pool's blocks. */
    TARN_SAN_POOL_CREATE(h);
    TARN_SAN_DEFINED(mem, size);
    memset(base, 0, geo.ctrl);
    words = (uint32_t *)(void *)(base + sizeof(tarn_heap));
    h->groups = words + geo.uwords;
    h->heads = h->groups + geo.ngroups;
    h->ngran = geo.n;
    h->blocks = base + geo.ctrl;
    h->nclasses = geo.nclasses;
    h->k = (uint8_t)geo.k;
    for (i = 0; i < geo.nclasses; i++) h->heads[i] = NIL;
    h->mem = mem;
    h->mem_size = size;
    if (cfg != NULL) {
        h->lock = cfg->lock;
        h->name = cfg->name;
        h->flags = (uint8_t)(cfg->flags & TARN_HEAP_F_CLEAR_FREED);
        if ((cfg->flags & TARN_F_SAN_REPORT) != 0u) h->flags |= HEAP_FL_REPORT;
    }
#if TARN_QUARANTINE > 0
    tarn_q_init(&h->quarantine, cfg != NULL ? cfg->flags : 0u);
#endif
    h->caps0 = TARN_HEAP_CAPS0;
    h->rtchk = heap_rt_seal(h);
    h->memchk = heap_mem_seal(h);
    h->self = h;
    HEAP_RESEAL(h);

    if (pad != 0u) TARN_SAN_NOACCESS(mem, pad);
    TARN_SAN_NOACCESS(h->blocks, size - pad - geo.ctrl);
    bit_set(UMAP(h), geo.n);                  /* the sentinel */
    wr(h, geo.n, geo.n, 0u);
    wr(h, 0u, 0u, FREE | geo.n);
    list_push(h, 0u, cls_of(h, geo.n));
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
    size = heap_mem_ok(h) ? h->mem_size : 0u;  /* (damaged: the tools keep their view) */
#if HEAP_REGIONS
    {
        unsigned i;
        for (i = 1u; heap_rgn_ok(h) && i < heap_nrgn(h); i++) {
            tarn_heap *c = heap_rgn_at(h, i);
            if (c == NULL) continue;
            c->self = NULL;
            TARN_SAN_POOL_DESTROY(c);
            TARN_SAN_DEFINED(c->mem, c->mem_size);
        }
    }
#endif
    h->self = NULL;
    TARN_UNLOCK(h->lock);
    TARN_SAN_POOL_DESTROY(h);
    TARN_SAN_DEFINED(mem, size);
    (void)mem;
    (void)size;
    return TARN_OK;
}

/* ---- allocation ------------------------------------------------------------------------- */
#if TARN_QUARANTINE > 0
static tarn_status heap_q_release(tarn_heap *h, void *p);
/* Release the oldest block held by the quarantine: true if there was one. */
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
static HEAP_HOT void *heap_alloc_try(tarn_heap *h, size_t size, tarn_status *st)
{
    uint32_t u, g, got = 0;
    if (TARN_UNLIKELY(h->broken == HEAP_BROKEN) || HEAP_DEEP_CHECK_FAILS(h)) {
        *st = TARN_ECORRUPT;
        return NULL;
    }
    if (TARN_UNLIKELY(size - 1u >= NBYTES(h))) {
        *st = size == 0u ? TARN_EINVAL : TARN_ENOMEM;
        return NULL;
    }
    u = heap_units(size);
    if (TARN_UNLIKELY(u > h->ngran)) {
        *st = TARN_ENOMEM;
        return NULL;
    }
    g = heap_take(h, u, &got, st);
    while (TARN_UNLIKELY(g == NIL) && *st == TARN_ENOMEM && HEAP_Q_RELIEVE(h)) {
        g = heap_take(h, u, &got, st);
    }
    if (TARN_UNLIKELY(g == NIL)) return NULL;
    return heap_hand_out(h, g, got, size);
}

#if HEAP_REGIONS
static void *heap_place(tarn_heap *h, unsigned first, size_t size, size_t alignment,
                        uint32_t caps, tarn_status *st);
#endif

/* Allocate; a failure is recorded (lock held).  Region 0 first; the other regions, in
 * order, only when it has no room. */
static HEAP_HOT void *heap_alloc_core(tarn_heap *h, size_t size)
{
    tarn_status st = TARN_OK;
    void *p = heap_alloc_try(h, size, &st);
    if (TARN_LIKELY(p != NULL)) return p;
#if HEAP_REGIONS
    if (st == TARN_ENOMEM && HEAP_MULTI(h)) {
        const heap_rops *ops = heap_ops(h);
        p = ops != NULL ? ops->place(h, 1u, size, 0u, 0u, &st) : NULL;
        if (ops == NULL) st = TARN_ECORRUPT;
        if (p != NULL) return p;
    }
#endif
    return heap_alloc_fail(h, size, st);
}

void *tarn_heap_alloc(tarn_heap *h, size_t size)
{
    void *p;
    if (TARN_UNLIKELY(!heap_valid(h))) return NULL;
    TARN_LOCK(h->lock);
    p = heap_alloc_core(h, size);
    TARN_UNLOCK(h->lock);
    return p;
}

void *tarn_heap_calloc(tarn_heap *h, size_t nitems, size_t size)
{
    return tarn_heap_calloc_status(h, nitems, size, NULL);
}

/* Over-aligned allocation (alignment > G, a power of two); lock held.  Without recording
 * a failure: NULL with *st set (nothing changed).  Any free block of u + A/G + 1
 * granules holds an aligned block of u granules after a front part that is either empty
 * or at least MINB granules (which stays free). */
static void *heap_aligned_try(tarn_heap *h, size_t alignment, size_t size, tarn_status *st)
{
    uint32_t u, ag, c, x, y, s = 0, lead, got;
    uintptr_t pa;
    *st = TARN_ECORRUPT;
    if (h->broken == HEAP_BROKEN || HEAP_DEEP_CHECK_FAILS(h)) return NULL;
    *st = TARN_EINVAL;
    if (size == 0u) return NULL;
    *st = TARN_ENOMEM;
    if (size > NBYTES(h) || alignment > NBYTES(h)) return NULL;
    u = heap_units(size);
    ag = (uint32_t)(alignment >> LG);
    if ((uint64_t)u + ag + 1u > h->ngran) return NULL;
    do {
        c = heap_pick(h, u + ag + 1u);
    } while (c == NIL && HEAP_Q_RELIEVE(h));
    if (c == NIL) return NULL;
    x = heap_pop(h, c, u + ag + 1u, &s);
    if (x == NIL) {
        *st = heap_damaged(h);
        return NULL;
    }
    pa = (uintptr_t)PAYLOAD(h, x);
    lead = (uint32_t)(((0u - pa) & (uintptr_t)(alignment - 1u)) >> LG);
    if (lead == 1u) lead += ag;
    y = x + lead;
    if (lead != 0u) {               /* the front part stays free (its left is used) */
        wr1(h, x, 1u, FREE | lead);
        list_push(h, x, cls_of(h, lead));
        wr(h, y, lead, s - lead);   /* what follows, a used block for the moment */
        set_prev(h, x + s, s - lead);
    }
    got = heap_cut(h, y, s - lead, u);
    wr1(h, y, 0u, (rd(h, y, 0u) & SZ) | (tarn_log2_u32(ag) << 27));   /* al, for realloc */
    *st = TARN_OK;
    return heap_hand_out(h, y, got, size);
}

/* Install the over-aligned allocation for realloc (lock held): a block with al != 0
 * exists only after this, and realloc moves such a block only through h->aligned, whose
 * check word (memchk) it verifies first; so a program that never calls aligned_alloc
 * does not link heap_aligned_try.  A check word that is already wrong is left wrong (the
 * calls that use it report the damage). */
static void heap_al_install_one(tarn_heap *h)
{
    if (h->aligned == NULL) {
        /* the check word is an exclusive or of its fields (folded to 32 bits, which is
         * linear too): adding the pointer's term changes no other field's, so a check
         * word that was wrong stays wrong */
        uintptr_t v = ROTP((uintptr_t)heap_aligned_try, 7);
#if UINTPTR_MAX > 0xFFFFFFFFu
        v ^= v >> 32;
#endif
        h->aligned = heap_aligned_try;
        h->memchk ^= (uint32_t)v;
    }
}

/* Install it in the heap and in every region's heap (whose check, at level 2 before each
 * of its calls, accepts blocks that record an alignment only then); a region added later
 * gets it from tarn_heap_add_region. */
static void heap_al_install(tarn_heap *h)
{
    if (h->aligned != NULL) return;
    heap_al_install_one(h);
#if HEAP_REGIONS
    {
        unsigned i;
        for (i = 1u; heap_rgn_ok(h) && i < heap_nrgn(h); i++) {
            tarn_heap *c = heap_rgn_at(h, i);
            if (c != NULL) heap_al_install_one(c);
        }
    }
#endif
}

void *tarn_heap_aligned_alloc(tarn_heap *h, size_t alignment, size_t size)
{
    return tarn_heap_aligned_alloc_status(h, alignment, size, NULL);
}

/* ---- free ------------------------------------------------------------------------------- */
#if TARN_QUARANTINE > 0
/* Really release the held block p that just left the ring.  A write after free (the
 * fill changed) or a release refused on damaged metadata is recorded in last_error and
 * returned as TARN_ECORRUPT; the caller's own operation goes on. */
static tarn_status heap_q_release(tarn_heap *h, void *p)
{
    tarn_status st = TARN_OK;
    int fill = heap_fill_byte(h);
    uintptr_t d = (uintptr_t)p - (uintptr_t)h->blocks - G;
    uint32_t g = (uint32_t)(d >> LG), s, ps;
    /* not a used block: the ring was damaged */
    if (d >= ((uintptr_t)h->ngran - 1u) << LG || (d & (G - 1u)) != 0u ||
        bit_get(UMAP(h), g) == 0u) {
        TARN_ERR_SET(h->last_error, (uint8_t)TARN_ECORRUPT);
        return TARN_ECORRUPT;
    }
    s = HD_W1(h, g) & SZ;
    ps = HD_PREV(h, g);
    if (s < MINB || s > h->ngran - g || HD_PREV(h, g + s) != s ||
        (g == 0u ? ps != 0u : (ps < MINB || ps > g || (HD_W1(h, g - ps) & SZ) != ps))) {
        TARN_ERR_SET(h->last_error, (uint8_t)heap_damaged(h));
        return TARN_ECORRUPT;
    }
    if (fill >= 0 && !tarn_bytes_are(p, PBYTES(s), (unsigned)fill)) {
        st = TARN_ECORRUPT;                   /* written after it was freed */
    }
    if (heap_release(h, g, s, ps, REL_HELD) != TARN_OK) st = TARN_ECORRUPT;
    if (st != TARN_OK) TARN_ERR_SET(h->last_error, (uint8_t)st);
    return st;
}

/* Free with the quarantine on: the checked used block b at p is filled, poisoned and
 * held; the block pushed out is released. */
static void heap_q_hold(tarn_heap *h, unsigned char *p, const heap_blk *b)
{
    size_t bytes = PBYTES(b->s), live = b->live;
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

#if HEAP_REGIONS
static tarn_status heap_free_rgn(tarn_heap *h, void *ptr);
#endif

/* Free the live block b at ptr, checked by heap_block_of (held by the quarantine when it
 * is on).  Lock held. */
static HEAP_HOT tarn_status heap_free_blk(tarn_heap *h, void *ptr, const heap_blk *b)
{
    tarn_status st;
#if TARN_QUARANTINE > 0
    if (h->quarantine.on) {
        heap_q_hold(h, (unsigned char *)ptr, b);
        return TARN_OK;
    }
#endif
    st = heap_release_block(h, b->g, b->s, b->ps);
    if (TARN_UNLIKELY(st != TARN_OK)) return heap_reject(h, ptr, st);
    return TARN_OK;
}

/* The old block of a realloc that moved (b, checked before the allocation): freed
 * without a second validation.  The allocation may have cut the block before it (its
 * size in b's tag was then written by this heap, as was everything else it changed), so
 * that size is read again. */
static tarn_status heap_free_moved(tarn_heap *h, void *ptr, heap_blk *b)
{
    b->ps = HD_PREV(h, b->g);
    return heap_free_blk(h, ptr, b);
}

/* Free: validate the pointer and the block's header and tags, then release it (merge
 * with free neighbours, put it on its class's list).  Lock held. */
static HEAP_HOT tarn_status heap_free_core(tarn_heap *h, void *ptr)
{
    heap_blk b;
    tarn_status st;
    if (HEAP_DEEP_CHECK_FAILS(h)) return heap_reject(h, ptr, TARN_ECORRUPT);
    st = heap_block_of(h, ptr, &b, true);
    if (TARN_UNLIKELY(st != TARN_OK)) {
#if HEAP_REGIONS
        if (st == TARN_EFOREIGN && HEAP_MULTI(h)) {
            const heap_rops *ops = heap_ops(h);
            return ops != NULL ? ops->free_rgn(h, ptr) : heap_reject(h, ptr, TARN_ECORRUPT);
        }
#endif
        return heap_reject_free(h, ptr, st);
    }
    return heap_free_blk(h, ptr, &b);
}

tarn_status tarn_heap_free(tarn_heap *h, void *ptr)
{
    tarn_status st;
    if (TARN_UNLIKELY(!heap_valid(h))) return TARN_EINVAL;
    TARN_LOCK(h->lock);
    st = heap_free_core(h, ptr);
    TARN_UNLOCK(h->lock);
    return st;
}

/* ---- resize ----------------------------------------------------------------------------- */
/* Resize the used block b in place to u granules; lock held.  TARN_OK, TARN_ENOMEM
 * (cannot grow in place) or TARN_ECORRUPT; nothing changes on error.  *got: its new
 * size in granules. */
static tarn_status heap_resize_inplace(tarn_heap *h, const heap_blk *b, uint32_t u,
                                       uint32_t *got)
{
    uint32_t g = b->g, s = b->s, n = g + s, ns, t;
    uint32_t tag = HD_W1(h, g) & UTAG;   /* the request's caps tag stays */
    unsigned char *p = PAYLOAD(h, g);
    tarn_status st;
    *got = s;
    if (u <= s) {
        if (s - u < MINB) return TARN_OK;   /* too little to cut off: the block stays */
        /* the tail [g+u, g+s) becomes free (merged with a free right neighbour) */
        heap_scrub(h, p + PBYTES(u), PBYTES(s) - PBYTES(u));
        HEAP_SAN_RESIZE(h, p, PBYTES(s), PBYTES(u));
        st = heap_release(h, g + u, s - u, u, REL_TAIL);
        if (TARN_UNLIKELY(st != TARN_OK)) {   /* the tail is the caller's again, as it was */
            HEAP_SAN_RESIZE(h, p, PBYTES(u), PBYTES(s));
            TARN_SAN_DEFINED(p + PBYTES(u), PBYTES(s) - PBYTES(u));
            return st;
        }
        wr1(h, g, 1u, u | tag);
        *got = u;
        return TARN_OK;
    }
    if (bit_get(UMAP(h), n) != 0u) return TARN_ENOMEM;
    ns = (HEAP_CHECKING && (HD_W1(h, n) & ~SZ) != FREE) ? 0u : free_size(h, n);
    if (TARN_UNLIKELY(ns == 0u || !unlink_ok(h, n))) return heap_damaged(h);
    if (s + ns < u) return TARN_ENOMEM;
    list_unlink(h, n);
    wr(h, n, 0u, 0u);
    t = s + ns;
    set_prev(h, g + t, t);
    *got = heap_cut(h, g, t, u);
    if (tag != 0u) wr1(h, g, 1u, *got | tag);
    HEAP_SAN_RESIZE(h, p, PBYTES(s), PBYTES(*got));
    return TARN_OK;
}

/* Resize in place the used block b (payload p) to u granules holding `size` bytes.
 * Canary mode: the tools see the whole block during the change, then the new guard and
 * trailer are written (the old ones again if the resize fails).  Nothing changes on
 * error. */
static tarn_status heap_resize_block(tarn_heap *h, unsigned char *p, /* NOLINT(readability-non-const-parameter): written in canary mode */
                                     const heap_blk *b, uint32_t u, size_t size)
{
    tarn_status st;
    uint32_t got = b->s;
#if TARN_GUARD
    size_t ob = PBYTES(b->s);
    HEAP_SAN_RESIZE(h, p, b->live, ob);
    st = heap_resize_inplace(h, b, u, &got);
    if (st == TARN_OK) {
        HEAP_SAN_RESIZE(h, p, PBYTES(got), size);
        guard_put(p, PBYTES(got), size);
    } else {
        HEAP_SAN_RESIZE(h, p, ob, b->live);
        guard_put(p, ob, b->live);
    }
#else
    st = heap_resize_inplace(h, b, u, &got);
    size = PBYTES(got);             /* the whole payload is the caller's */
#endif
    if (st == TARN_OK) {
        TARN_STAT(h->used = h->used - b->live + size; if (h->used > h->peak) h->peak = h->used);
        HEAP_TRACE(h, TARN_HEAP_EV_RESIZE, p, size, TARN_OK);
    }
    (void)p;
    (void)size;
    return st;
}

#if HEAP_REGIONS
static void *heap_realloc_in(tarn_heap *h, tarn_heap *c, unsigned ri, void *ptr,
                             const heap_blk *b, size_t size, uint32_t caps, bool keep);
static void *heap_realloc_rgn(tarn_heap *h, void *ptr, size_t size, uint32_t caps, bool keep);
#endif

/* The new block of a realloc moving a block from aligned_alloc (al: its recorded
 * alignment): allocated through h->aligned, which aligned_alloc installed, verified
 * before the call.  Nothing installed, or a changed pointer: the heap is damaged.
 * (Kept out of realloc in speed builds, where inlined it costs the common path.) */
#ifdef HEAP_SPEED
#define HEAP_RA_INLINE HEAP_NOINLINE
#else
#define HEAP_RA_INLINE inline
#endif
static HEAP_RA_INLINE void *heap_realloc_aligned(tarn_heap *h, uint32_t al, size_t size,
                                                tarn_status *st)
{
    if (TARN_UNLIKELY(h->aligned == NULL || !heap_mem_ok(h))) {
        *st = heap_damaged(h);
        return NULL;
    }
    return h->aligned(h, (size_t)G << al, size, st);
}


/* Growth into the free block before: the payload moves down to the free block's
 * payload, which must hold all of it (no overlap: the copy is a plain one). */
#if TARN_SANITIZE && defined(TARN_HAVE_VALGRIND_)
#define HEAP_SAN_MOVE(h, p, q, n) VALGRIND_MEMPOOL_CHANGE((h), (p), (q), (n))
#else
#define HEAP_SAN_MOVE(h, p, q, n) ((void)(h), (void)(p), (void)(q), (void)(n))
#endif

/* Can heap_grow_left succeed?  The block before b is free, its payload holds b's live
 * bytes, and with b and the free block after b (whose size is read here only as a hint;
 * heap_grow_left checks it) it has u granules.  Only reads; a few instructions, in the
 * caller, so that a realloc that has to move elsewhere pays little more (worst case). */
static inline bool heap_left_fits(const tarn_heap *h, const heap_blk *b, uint32_t u)
{
    uint32_t n = b->g + b->s, ns = 0;
    if (b->g == 0u || bit_get(UMAP(h), b->g - b->ps) != 0u || ((size_t)b->ps << LG) < b->live) {
        return false;
    }
    if (bit_get(UMAP(h), n) == 0u) ns = HD_W1(h, n) & SZ;
    return b->ps + b->s + ns >= u;   /* (sizes below 2^27: no wrap) */
}

/* Realloc of the used block b (payload p, no alignment recorded, not growable in place)
 * to u granules holding `size` bytes, into the free block before it, called when
 * heap_left_fits(h, b, u): when that block (with b, and the free block after b if there
 * is one) has u granules and its payload holds b's live bytes, they are copied down to
 * it and the merged block is cut as an allocation is (the rest, free, follows).  Keeps
 * the arena packed at no extra cost: the bytes are copied as a move elsewhere would
 * copy them, and no other block is looked for.  Returns the new payload, or NULL (*st
 * TARN_ENOMEM: not possible here; TARN_ECORRUPT: a damaged neighbour) with nothing
 * changed.  Lock held; O(1) besides the copy. */
static HEAP_NOINLINE void *heap_grow_left(tarn_heap *h, unsigned char *p, const heap_blk *b,
                                          uint32_t u, size_t size, tarn_status *st)
{
    uint32_t g = b->g, l = g - b->ps, n = g + b->s, t, got;
    uint32_t tag = HD_W1(h, g) & UTAG;   /* the request's caps tag stays */
    unsigned char *q, *end;
    /* b merged with the free blocks beside it, as a free would (every header and link
     * checked before anything is written: on TARN_ECORRUPT nothing has changed), but with
     * its bytes, memory-tool state and counters left alone; then the merged block, which
     * starts at l and has the t >= u granules heap_left_fits counted (the sizes it read
     * are the ones the release checked), comes off its list again */
    *st = heap_release(h, g, b->s, b->ps, REL_HELD);
    if (TARN_UNLIKELY(*st != TARN_OK)) return NULL;
    t = HD_W1(h, l) & SZ;
    TARN_ASSERT(t >= u);
    list_unlink(h, l);
    q = PAYLOAD(h, l);
    end = h->blocks + ((size_t)n << LG);               /* the end of b */
    TARN_SAN_OPEN(q, (size_t)(end - q));                /* the free payload, b's header, b */
    HEAP_COPY(q, p, b->live);
    if (l + u < n) heap_scrub(h, h->blocks + ((size_t)(l + u) << LG), (size_t)(n - l - u) << LG);
    HEAP_SAN_MOVE(h, p, q, b->live);
    TARN_SAN_NOACCESS(q + b->live, (size_t)(end - q) - b->live);
    got = heap_cut(h, l, t, u);
    if (tag != 0u) wr1(h, l, 1u, got | tag);
#if TARN_GUARD
    HEAP_SAN_RESIZE(h, q, b->live, size);
    guard_put(q, PBYTES(got), size);
#else
    size = PBYTES(got);             /* the whole payload is the caller's */
    HEAP_SAN_RESIZE(h, q, b->live, size);
#endif
    HEAP_TRACE(h, TARN_HEAP_EV_ALLOC, q, size, TARN_OK);
    HEAP_TRACE(h, TARN_HEAP_EV_FREE, p, b->live, TARN_OK);
    /* counted as every moving realloc is, an allocation and then a free: the peak is taken
     * with both blocks (the old block's bytes were live until they were copied) */
    TARN_STAT(if (h->used + size > h->peak) h->peak = h->used + size;
              h->used = h->used - b->live + size; h->allocs++; h->frees++);
    *st = TARN_OK;
    return q;
}

/* A block of a one-region heap moved by realloc to q (in h) keeps its request's caps tag:
 * regions added later must not receive it unless they have those capabilities.  (With
 * several regions a tagged block is moved by heap_realloc_in, which places it by its
 * capabilities and tags it there.) */
static inline void heap_tag_move(tarn_heap *h, const heap_blk *b, const unsigned char *q)
{
    uint32_t tag = HD_W1(h, b->g) & UTAG, g = GRAN_OF(h, q);
    if (tag != 0u) wr1(h, g, 1u, HD_W1(h, g) | tag);
}

static void *heap_realloc_core(tarn_heap *h, void *ptr, size_t size)
{
    heap_blk b;
    uint32_t u = 0, al;
    tarn_status st;
    unsigned char *q;
#if TARN_QUARANTINE > 0
    bool held = h->quarantine.count != 0u;
#else
    bool held = false;
#endif
    if (HEAP_DEEP_CHECK_FAILS(h)) return heap_alloc_fail(h, size, TARN_ECORRUPT);
#if HEAP_REGIONS && !defined(HEAP_SPEED)
    /* size builds: with several regions, every realloc takes the general path (which
     * tries the same places in the same order: in place, region 0, the other regions);
     * speed builds keep plain blocks of region 0 on this one */
    if (HEAP_MULTI(h)) {
        const heap_rops *ops = heap_ops(h);
        return ops != NULL ? ops->realloc_rgn(h, ptr, size, 0u, true)
                           : heap_alloc_fail(h, size, TARN_ECORRUPT);
    }
#endif
    st = heap_block_of(h, ptr, &b, true);
    if (st != TARN_OK) {
#if HEAP_REGIONS && defined(HEAP_SPEED)
        if (st == TARN_EFOREIGN && HEAP_MULTI(h)) {   /* a block of another region */
            const heap_rops *ops = heap_ops(h);
            return ops != NULL ? ops->realloc_rgn(h, ptr, size, 0u, true)
                               : heap_alloc_fail(h, size, TARN_ECORRUPT);
        }
#endif
        (void)heap_reject_free(h, ptr, st);
        TARN_STAT(h->failed++);     /* a realloc that returned NULL: a failed allocation */
        return NULL;
    }
#if HEAP_REGIONS && defined(HEAP_SPEED)
    /* several regions: a block whose request had capabilities takes the general path; a
     * plain block of region 0 this one, and may move to any region */
    if (HEAP_MULTI(h) && ((HD_W1(h, b.g) & UTAG) != 0u || size > NBYTES(h))) {
        const heap_rops *ops = heap_ops(h);
        return ops != NULL ? ops->realloc_in(h, h, 0u, ptr, &b, size, 0u, true)
                           : heap_alloc_fail(h, size, TARN_ECORRUPT);
    }
#endif
    if (size > NBYTES(h)) return heap_alloc_fail(h, size, TARN_ENOMEM);
    u = heap_units(size);
    al = rd(h, b.g, 0u) >> 27;
    st = heap_resize_block(h, (unsigned char *)ptr, &b, u, size);
    if (st == TARN_OK) return ptr;
    if (st != TARN_ENOMEM) return heap_alloc_fail(h, size, st);
    /* (with the quarantine on, the old block is held) */
    if (al == 0u && !HEAP_Q_ON(h) && heap_left_fits(h, &b, u)) {
        q = (unsigned char *)heap_grow_left(h, (unsigned char *)ptr, &b, u, size, &st);
        if (q != NULL) return q;
        if (st != TARN_ENOMEM) return heap_alloc_fail(h, size, st);
    }
    q = (unsigned char *)(al != 0u ? heap_realloc_aligned(h, al, size, &st)
                                   : heap_alloc_try(h, size, &st));
#if HEAP_REGIONS && defined(HEAP_SPEED)
    if (q == NULL && st == TARN_ENOMEM && HEAP_MULTI(h)) {   /* the other regions */
        const heap_rops *ops = heap_ops(h);
        q = ops != NULL ? (unsigned char *)ops->place(h, 1u, size, al != 0u ? (size_t)G << al : 0u,
                                                       0u, &st)
                        : NULL;
        if (ops == NULL) st = TARN_ECORRUPT;
    }
#endif
    if (q == NULL && st == TARN_ENOMEM && held) {
        /* the quarantine was emptied to find room: in place may work now */
        st = heap_resize_block(h, (unsigned char *)ptr, &b, u, size);
        if (st == TARN_OK) return ptr;
    }
    if (q == NULL) return heap_alloc_fail(h, size, st);
    HEAP_COPY(q, ptr, b.live);      /* b.live < size here: the old block is the smaller */
    heap_tag_move(h, &b, q);
    st = heap_free_moved(h, ptr, &b);
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

/* ---- the same, with the call's own status -------------------------------------------- */
/* Every failing allocation records its status under the lock before the lock is released,
 * so reading last_error back under the same lock gives this call's status. */
#define HEAP_STATUS_OF(h, p) ((p) != NULL ? TARN_OK : TARN_ERR_GET((h)->last_error))

/* ---- regions -------------------------------------------------------------------------------
 * Region 0 is the heap itself.  Region i >= 1 is a heap of its own (the same layout, its
 * control part at the start of its buffer - after the region table for region 1 -,
 * initialised by tarn_heap_init without a lock), which only this heap calls, with this
 * heap's lock held, through the table (RT).  A region's heap is checked (self and seal)
 * before it is used: damage there is TARN_ECORRUPT.
 *
 * Counters: this heap's used/peak/allocs/frees/failed are the whole heap's.  A region's
 * heap counts its own; the calls below add what an operation in it changed to this
 * heap's counters (region 0's own figures are the heap's minus the others').
 */
#if HEAP_REGIONS
typedef struct heap_acct {
    size_t used, allocs, frees;
} heap_acct;

static inline void acct_begin(const tarn_heap *c, heap_acct *a)
{
    a->used = c->used;
    a->allocs = c->allocs;
    a->frees = c->frees;
}

/* Add what the operation on region heap c changed to h's counters; the damage c saw
 * makes h refuse allocations too. */
static void acct_end(tarn_heap *h, const tarn_heap *c, const heap_acct *a)
{
    if (c->broken == HEAP_BROKEN) h->broken = HEAP_BROKEN;
    if (c == h) return;
    TARN_STAT(h->used = h->used + c->used - a->used; h->allocs += c->allocs - a->allocs;
              h->frees += c->frees - a->frees; if (h->used > h->peak) h->peak = h->used);
    (void)a;
}

/* The region (>= 1) whose payload range holds p: TARN_OK with its heap in *c and its
 * index in *ri, TARN_EFOREIGN (in no region: outside every buffer, in a gap between
 * regions, or in a region's control part), TARN_ECORRUPT (table or region damaged; the
 * heap is marked damaged).  At most TARN_HEAP_MAX_REGIONS - 1 comparisons. */
static tarn_status heap_rgn_find(tarn_heap *h, const void *p, tarn_heap **c, unsigned *ri)
{
    /* reached only through heap_ops (ops->find, ops->free_rgn), which has just verified
     * the table pointer's check word: not verified a second time */
    const heap_rtab *t = (const heap_rtab *)h->rt;
    unsigned i, n;
    if (t == NULL) return h->rt != NULL ? heap_damaged(h) : TARN_EFOREIGN;
    n = t->nrgn <= TARN_HEAP_MAX_REGIONS ? t->nrgn : TARN_HEAP_MAX_REGIONS;
    /* cppcheck-suppress knownConditionTrueFalse ; nrgn is 2..TARN_HEAP_MAX_REGIONS here */
    for (i = 1u; i < n; i++) {
        if ((uintptr_t)p - t->rlo[i] < t->rlen[i]) {
            *c = heap_ent_ok(t, i) ? heap_rgn_chk(t, i) : NULL;
            *ri = i;
            return *c != NULL ? TARN_OK : heap_damaged(h);
        }
    }
    /* no region holds p: before calling it foreign, make sure the ranges just compared
     * (and the count) were not damaged (an error path: costs nothing on success) */
    if (!heap_t_ok(t)) return heap_damaged(h);
    /* cppcheck-suppress knownConditionTrueFalse ; as above */
    for (i = 1u; i < n; i++) {
        if (!heap_ent_ok(t, i)) return heap_damaged(h);
    }
    return TARN_EFOREIGN;
}

/* Locate and check the live block at p in any region. */
static tarn_status heap_locate(tarn_heap *h, const void *p, heap_blk *b, bool full,
                               tarn_heap **c, unsigned *ri)
{
    tarn_status st = heap_block_of(h, p, b, full);
    *c = h;
    *ri = 0u;
    if (st == TARN_EFOREIGN && HEAP_MULTI(h)) {
        const heap_rops *ops = heap_ops(h);
        st = ops != NULL ? ops->find(h, p, c, ri) : TARN_ECORRUPT;
        if (st == TARN_OK) {
            st = heap_block_of(*c, p, b, full);
            if ((*c)->broken == HEAP_BROKEN) h->broken = HEAP_BROKEN;
        }
    }
    return st;
}
#else
static tarn_status heap_locate(tarn_heap *h, const void *p, heap_blk *b, bool full,
                               tarn_heap **c, unsigned *ri)
{
    *c = h;
    *ri = 0u;
    return heap_block_of(h, p, b, full);
}
#endif

/* The tag recording the capabilities `caps` of a request (0 for none): its index + 1 in
 * the table of sets, added when there is room, else UTAG_REGION (also while the heap has
 * one region: the block then keeps the capabilities of its region). */
static uint32_t heap_cap_tag(tarn_heap *h, uint32_t caps)
{
#if HEAP_REGIONS
    heap_rtab *t = RT(h);
    unsigned i;
    if (caps == 0u) return 0u;
    if (t == NULL) return UTAG_REGION;
    if (!heap_t_ok(t)) {
        (void)heap_damaged(h);
        return UTAG_REGION;
    }
    for (i = 0; i < t->ncapset; i++) {
        if (t->capset[i] == caps) return i + 1u;
    }
    if (t->ncapset >= TARN_HEAP_CAP_SETS) return UTAG_REGION;
    t->capset[t->ncapset++] = caps;
    heap_rgn_reseal(t);
    return t->ncapset;
#else
    (void)h;
    return caps != 0u ? UTAG_REGION : 0u;
#endif
}

/* Write the tag of caps into the header of the used block at granule g of region c. */
static void heap_tag_set(tarn_heap *h, const tarn_heap *c, uint32_t g, uint32_t caps)
{
    uint32_t tg = heap_cap_tag(h, caps);
    wr1(c, g, 1u, (HD_W1(c, g) & ~UTAG) | (tg << 27));
}

#if HEAP_REGIONS
/* The capabilities a block of region ri with header tag tg must keep; false when the
 * tag names no set (damaged). */
static bool heap_tag_caps(const tarn_heap *h, unsigned ri, uint32_t tg, uint32_t *caps)
{
    const heap_rtab *t = RT(h);
    if (tg == 0u) {
        *caps = 0u;
    } else if (tg == UTAG_REGION) {
        *caps = heap_rcaps(h, ri);
    } else if (t != NULL && tg <= t->ncapset && heap_t_ok(t)) {
        *caps = t->capset[tg - 1u];
    } else {
        return false;
    }
    return true;
}
#endif

/* Allocate `size` bytes (aligned to `alignment` when it is above the granule) from the
 * first region, from index `first` on, whose capabilities include `caps`; the block is
 * tagged with caps.  Lock held; a failure is not recorded: NULL with *st set. */
static void *heap_place(tarn_heap *h, unsigned first, size_t size, size_t alignment,
                        uint32_t caps, tarn_status *st)
{
    unsigned i, n = 1u;
#if HEAP_REGIONS
    heap_rtab *t;
    /* granules the search in a region looks for (for the full-region hint) */
    uint32_t need = size < ((size_t)1 << 30) && alignment < ((size_t)1 << 30)
                        ? heap_units(size) + (alignment > G ? (uint32_t)(alignment >> LG) + 1u : 0u)
                        : UINT32_MAX;
#endif
    /* the table pointer and region 0's caps (from index 1 on, the caller came through
     * heap_ops, which has just verified them) */
    if (TARN_UNLIKELY(first == 0u && !heap_rt_ok(h))) {
        *st = heap_damaged(h);
        return NULL;
    }
    /* level 2: the whole heap is checked before a request (heap_alloc_core, which comes
     * here with first 1, has just done so in region 0's attempt); a region's own attempt
     * checks only that region, so a request that skips region 0 (caps) would otherwise
     * be served from a heap whose region 0 is damaged */
    if (first == 0u && HEAP_DEEP_CHECK_FAILS(h)) {
        *st = TARN_ECORRUPT;
        return NULL;
    }
#if HEAP_REGIONS
    t = (heap_rtab *)h->rt;                /* (its check word was verified just above) */
    if (t != NULL) n = t->nrgn <= TARN_HEAP_MAX_REGIONS ? t->nrgn : TARN_HEAP_MAX_REGIONS;
#endif
    *st = TARN_ENOMEM;      /* also when no region has the capabilities */
    for (i = first; i < n; i++) {
        tarn_heap *c = h;
        void *p;
#if HEAP_REGIONS
        heap_acct a;
        if (i != 0u) {
            /* (read before the entry is checked: a damaged value only decides whether
             * the region is tried, and a region is checked before it is tried) */
            if ((t->caps[i] & caps) != caps || need >= t->full[i]) continue;
            if (TARN_UNLIKELY(!heap_ent_ok(t, i))) {
                *st = heap_damaged(h);
                return NULL;
            }
            c = heap_rgn_chk(t, i);
        } else if ((heap_rcaps(h, 0u) & caps) != caps) {
            continue;
        }
#else
        if ((heap_rcaps(h, 0u) & caps) != caps) continue;
#endif
        if (h->broken == HEAP_BROKEN) {
            *st = TARN_ECORRUPT;
            return NULL;
        }
        if (c == NULL) {
            *st = heap_damaged(h);
            return NULL;
        }
#if HEAP_REGIONS
        acct_begin(c, &a);
#endif
        p = alignment > G ? heap_aligned_try(c, alignment, size, st)
                          : heap_alloc_try(c, size, st);
#if HEAP_REGIONS
        acct_end(h, c, &a);
#endif
        if (p != NULL) {
            *st = TARN_OK;
            if (caps != 0u) {
                heap_tag_set(h, c, GRAN_OF(c, p), caps);
            }
            return p;
        }
        if (*st != TARN_ENOMEM) return NULL;
#if HEAP_REGIONS
        if (i != 0u && need < t->full[i]) t->full[i] = need;
#endif
    }
    return NULL;
}

#if HEAP_REGIONS
/* Free of a pointer outside region 0 (heap_free_core found none there). */
static tarn_status heap_free_rgn(tarn_heap *h, void *ptr)
{
    tarn_heap *c;
    unsigned ri;
    heap_acct a;
    tarn_status st = heap_rgn_find(h, ptr, &c, &ri);
    if (st != TARN_OK) return heap_reject_free(h, ptr, st);
    acct_begin(c, &a);
    st = heap_free_core(c, ptr);        /* checks, reports and releases in its region */
    acct_end(h, c, &a);
    heap_rgn_freed(h, ri);
    if (st != TARN_OK) TARN_ERR_SET(h->last_error, (uint8_t)st);
    return st;
}

/* Resize in place the checked live block b (payload ptr) of region ri (heap c) for a
 * request of `size` bytes with the capabilities caps: TARN_ENOMEM when the region lacks
 * them or the block cannot grow there. */
static tarn_status heap_rgn_resize(tarn_heap *h, tarn_heap *c, unsigned ri, void *ptr,
                                   const heap_blk *b, size_t size, uint32_t caps)
{
    heap_acct a;
    tarn_status st;
    if ((heap_rcaps(h, ri) & caps) != caps || size > NBYTES(c)) return TARN_ENOMEM;
    acct_begin(c, &a);
    st = heap_resize_block(c, (unsigned char *)ptr, b, heap_units(size), size);
    acct_end(h, c, &a);
    heap_rgn_freed(h, ri);
    return st;
}

/* Realloc of the checked live block b (payload ptr) of region ri (heap c) to `size`
 * bytes, into a region with the capabilities `caps`, or (keep) those its request had.
 * Lock held; a failure is recorded, and ptr then stays as it was. */
static void *heap_realloc_in(tarn_heap *h, tarn_heap *c, unsigned ri, void *ptr,
                             const heap_blk *b, size_t size, uint32_t caps, bool keep)
{
    uint32_t al = rd(c, b->g, 0u) >> 27;
    tarn_status st = TARN_ENOMEM;
    heap_acct a;
    unsigned char *q;
#if TARN_QUARANTINE > 0
    bool held = c->quarantine.count != 0u;
#else
    bool held = false;
#endif
    if ((ri != 0u && !heap_ent_ok(RT(h), ri)) ||
        (keep && !heap_tag_caps(h, ri, UTAG_OF(HD_W1(c, b->g)), &caps))) {
        return heap_alloc_fail(h, size, heap_damaged(h));
    }
    q = NULL;
    st = heap_rgn_resize(h, c, ri, ptr, b, size, caps);
    if (st == TARN_ENOMEM) {
        q = (unsigned char *)heap_place(h, 0u, size, al != 0u ? (size_t)G << al : 0u, caps, &st);
        /* the search emptied the region's quarantine: in place may work now */
        if (q == NULL && st == TARN_ENOMEM && held) {
            st = heap_rgn_resize(h, c, ri, ptr, b, size, caps);
        }
    }
    if (q == NULL) {
        if (st != TARN_OK) return heap_alloc_fail(h, size, st);
        if (!keep) heap_tag_set(h, c, b->g, caps);
        return ptr;
    }
    memcpy(q, ptr, b->live < size ? b->live : size);
    acct_begin(c, &a);
    {
        heap_blk old = *b;
        st = heap_free_moved(c, ptr, &old);
    }
    acct_end(h, c, &a);
    heap_rgn_freed(h, ri);
    TARN_ASSERT(st == TARN_OK);
    (void)st;
    return q;
}

/* Realloc of ptr wherever it is (not NULL, size not 0).  Lock held. */
static void *heap_realloc_rgn(tarn_heap *h, void *ptr, size_t size, uint32_t caps, bool keep)
{
    heap_blk b;
    tarn_heap *c;
    unsigned ri;
    tarn_status st = heap_locate(h, ptr, &b, true, &c, &ri);
    if (st != TARN_OK) {
        (void)heap_reject_free(h, ptr, st);
        TARN_STAT(h->failed++);
        return NULL;
    }
    return heap_realloc_in(h, c, ri, ptr, &b, size, caps, keep);
}

/* The buffer of region ri as the caller gave it. */
static void heap_rgn_buf(const tarn_heap *h, unsigned ri, const tarn_heap *c, void **mem,
                         size_t *size)
{
    if (ri == 1u) {
        *mem = RT(h)->mem1;
        *size = RT(h)->size1;
    } else {
        *mem = c->mem;
        *size = c->mem_size;
    }
}
#endif

#if HEAP_REGIONS
static const heap_rops heap_rops_all = {heap_place, heap_free_rgn, heap_realloc_in,
                                        heap_realloc_rgn, heap_rgn_find};
#endif

tarn_status tarn_heap_add_region(tarn_heap *h, void *mem, size_t size, uint32_t caps)
{
#if HEAP_REGIONS
    tarn_status st = TARN_OK;
    uintptr_t lo = (uintptr_t)mem;
    unsigned i, n;
    heap_rtab *t;
    if (!heap_valid(h) || mem == NULL || lo + size < lo) return TARN_EINVAL;
    TARN_LOCK(h->lock);
    t = RT(h);
    n = heap_nrgn(h);
    if (!heap_rgn_ok(h)) {
        st = heap_damaged(h);
    } else if (n >= TARN_HEAP_MAX_REGIONS) {
        st = TARN_EOVERFLOW;
    }
    for (i = 0; i < n && st == TARN_OK; i++) {
        const tarn_heap *c = heap_rgn_at(h, i);
        void *m;
        size_t sz;
        if (c == NULL) {
            st = heap_damaged(h);
            break;
        }
        heap_rgn_buf(h, i, c, &m, &sz);
        if (lo < (uintptr_t)m + sz && (uintptr_t)m < lo + size) st = TARN_EINVAL;  /* overlap */
    }
    if (st == TARN_OK) {
        tarn_heap *c;
        tarn_config cfg = {{NULL, NULL, NULL}, NULL, 0u};
        size_t tb = t == NULL ? RT_BYTES(mem) : 0u;   /* the first region holds the table */
        cfg.name = h->name;
        cfg.flags = (uint32_t)(h->flags & TARN_HEAP_F_CLEAR_FREED);
        if ((h->flags & HEAP_FL_REPORT) != 0u) cfg.flags |= TARN_F_SAN_REPORT;
#if TARN_QUARANTINE > 0
        if (h->quarantine.on) cfg.flags |= TARN_F_QUARANTINE;
#endif
        st = size < tb ? TARN_ETOOSMALL
                       : tarn_heap_init(&c, (unsigned char *)mem + tb, size - tb, &cfg);
        if (st == TARN_OK) {
#if TARN_HEAP_TRACE
            c->trace = h->trace;
            c->trace_ctx = h->trace_ctx;
            HEAP_RESEAL(c);
#endif
            if (h->aligned != NULL) heap_al_install_one(c);
            if (t == NULL) {
                t = (heap_rtab *)(void *)((unsigned char *)mem + (tb - TARN_ALIGN_UP(sizeof(heap_rtab), (size_t)G)));
                /* the table's bytes are the heap's now, whatever an earlier pool over
                 * this memory told the memory tools (as init does for the rest) */
                TARN_SAN_DEFINED(mem, tb);
                memset(t, 0, sizeof *t);
                t->nrgn = 1u;
                t->ops = &heap_rops_all;
                t->opschk = OPS_SEAL(t);
                t->mem1 = mem;
                t->size1 = size;
            }
            i = t->nrgn;
            t->rgn[i] = c;
            t->rlo[i] = (uintptr_t)c->blocks + G;
            t->rlen[i] = ((uintptr_t)c->ngran - 1u) << LG;
            t->caps[i] = caps;
            t->full[i] = UINT32_MAX;
            t->nrgn = (uint8_t)(i + 1u);
            heap_rgn_reseal(t);
            if (h->rt == NULL) {
                h->rt = t;
                h->rtchk = heap_rt_seal(h);
            }
        }
    }
    TARN_UNLOCK(h->lock);
    return st;
#else
    (void)mem;
    (void)size;
    (void)caps;
    return heap_valid(h) ? TARN_EOVERFLOW : TARN_EINVAL;
#endif
}

tarn_status tarn_heap_set_caps(tarn_heap *h, unsigned region, uint32_t caps)
{
    tarn_status st = TARN_OK;
    if (!heap_valid(h)) return TARN_EINVAL;
    TARN_LOCK(h->lock);
    if (!heap_rgn_ok(h)) {
        st = heap_damaged(h);
    } else if (region >= heap_nrgn(h)) {
        st = TARN_ENOENT;
    } else if (region == 0u) {
        h->caps0 = caps;
        h->rtchk = heap_rt_seal(h);
    } else {
#if HEAP_REGIONS
        RT(h)->caps[region] = caps;
        heap_rgn_reseal(RT(h));
#endif
    }
    TARN_UNLOCK(h->lock);
    return st;
}

unsigned tarn_heap_region_count(const tarn_heap *h)
{
    unsigned n;
    if (!heap_valid(h)) return 0u;
    TARN_LOCK(h->lock);   /* the count and its check word change under it (add_region) */
    n = heap_rgn_ok(h) ? heap_nrgn(h) : 0u;
    TARN_UNLOCK(h->lock);
    return n;
}

tarn_status tarn_heap_region_of(tarn_heap *h, const void *p, unsigned *region)
{
    heap_blk b;
    tarn_heap *c;
    unsigned ri = 0;
    tarn_status st;
    if (!heap_valid(h) || region == NULL) return TARN_EINVAL;
    TARN_LOCK(h->lock);
    st = heap_locate(h, p, &b, true, &c, &ri);
    TARN_UNLOCK(h->lock);
    *region = ri;
    return st;
}

void *tarn_heap_alloc_caps_status(tarn_heap *h, size_t size, uint32_t caps, tarn_status *st)
{
    void *p = NULL;
    tarn_status s = TARN_EINVAL;
    if (heap_valid(h)) {
        TARN_LOCK(h->lock);
        p = heap_place(h, 0u, size, 0u, caps, &s);
        if (p == NULL) (void)heap_alloc_fail(h, size, s);
        TARN_UNLOCK(h->lock);
    }
    if (st != NULL) *st = s;
    return p;
}

void *tarn_heap_alloc_caps(tarn_heap *h, size_t size, uint32_t caps)
{
    return tarn_heap_alloc_caps_status(h, size, caps, NULL);
}

/* calloc's nitems * size overflow: counted as a failed allocation (TARN_EOVERFLOW, also in
 * *st) and true; false when the product fits (or h is not a heap: the allocation that
 * follows reports that). */
static bool heap_calloc_overflows(tarn_heap *h, size_t nitems, size_t size, tarn_status *st)
{
    if (!heap_valid(h) || size == 0u || nitems <= SIZE_MAX / size) return false;
    TARN_LOCK(h->lock);
    (void)heap_alloc_fail(h, SIZE_MAX, TARN_EOVERFLOW);
    TARN_UNLOCK(h->lock);
    if (st != NULL) *st = TARN_EOVERFLOW;
    return true;
}

void *tarn_heap_calloc_caps_status(tarn_heap *h, size_t nitems, size_t size, uint32_t caps,
                                   tarn_status *st)
{
    void *p;
    if (heap_calloc_overflows(h, nitems, size, st)) return NULL;
    p = tarn_heap_alloc_caps_status(h, nitems * size, caps, st);
    if (p != NULL) memset(p, 0, nitems * size);
    return p;
}

void *tarn_heap_calloc_caps(tarn_heap *h, size_t nitems, size_t size, uint32_t caps)
{
    return tarn_heap_calloc_caps_status(h, nitems, size, caps, NULL);
}

void *tarn_heap_aligned_alloc_caps_status(tarn_heap *h, size_t alignment, size_t size,
                                          uint32_t caps, tarn_status *st)
{
    void *p = NULL;
    tarn_status s = TARN_EINVAL;
    if (heap_valid(h)) {
        TARN_LOCK(h->lock);
        heap_al_install(h);
        if (TARN_IS_POW2(alignment)) p = heap_place(h, 0u, size, alignment, caps, &s);
        if (p == NULL) (void)heap_alloc_fail(h, size, s);
        TARN_UNLOCK(h->lock);
    }
    if (st != NULL) *st = s;
    return p;
}

void *tarn_heap_aligned_alloc_caps(tarn_heap *h, size_t alignment, size_t size, uint32_t caps)
{
    return tarn_heap_aligned_alloc_caps_status(h, alignment, size, caps, NULL);
}

void *tarn_heap_realloc_caps_status(tarn_heap *h, void *ptr, size_t size, uint32_t caps,
                                    tarn_status *st)
{
    void *q = NULL;
    tarn_status s = TARN_EINVAL;
    if (ptr == NULL) return tarn_heap_alloc_caps_status(h, size, caps, st);
    if (heap_valid(h) && size == 0u) {
        s = tarn_heap_free(h, ptr);
    } else if (heap_valid(h)) {
        TARN_LOCK(h->lock);
        if (HEAP_DEEP_CHECK_FAILS(h)) {
            q = heap_alloc_fail(h, size, TARN_ECORRUPT);
        } else {
#if HEAP_REGIONS
            q = heap_realloc_rgn(h, ptr, size, caps, false);
#else
            heap_blk b;
            s = heap_block_of(h, ptr, &b, true);
            if (s != TARN_OK) {
                (void)heap_reject_free(h, ptr, s);
                TARN_STAT(h->failed++);
            } else if ((h->caps0 & caps) != caps) {
                (void)heap_alloc_fail(h, size, TARN_ENOMEM);
            } else {
                q = heap_realloc_core(h, ptr, size);
                if (q != NULL && caps != 0u) {
                    heap_tag_set(h, h, GRAN_OF(h, q), caps);
                }
            }
#endif
        }
        s = HEAP_STATUS_OF(h, q);
        TARN_UNLOCK(h->lock);
    }
    if (st != NULL) *st = s;
    return q;
}

void *tarn_heap_realloc_caps(tarn_heap *h, void *ptr, size_t size, uint32_t caps)
{
    return tarn_heap_realloc_caps_status(h, ptr, size, caps, NULL);
}

void *tarn_heap_alloc_status(tarn_heap *h, size_t size, tarn_status *st)
{
    void *p = NULL;
    tarn_status s = TARN_EINVAL;
    if (heap_valid(h)) {
        TARN_LOCK(h->lock);
        p = heap_alloc_core(h, size);
        s = HEAP_STATUS_OF(h, p);
        TARN_UNLOCK(h->lock);
    }
    if (st != NULL) *st = s;
    return p;
}

void *tarn_heap_calloc_status(tarn_heap *h, size_t nitems, size_t size, tarn_status *st)
{
    void *p;
    if (heap_calloc_overflows(h, nitems, size, st)) return NULL;
    p = tarn_heap_alloc_status(h, nitems * size, st);
    if (p != NULL) memset(p, 0, nitems * size);
    return p;
}

void *tarn_heap_aligned_alloc_status(tarn_heap *h, size_t alignment, size_t size,
                                     tarn_status *st)
{
    void *p = NULL;
    tarn_status s = TARN_EINVAL;
    if (heap_valid(h) && alignment <= G && TARN_IS_POW2(alignment)) {
        return tarn_heap_alloc_status(h, size, st);
    }
    if (heap_valid(h)) {
        TARN_LOCK(h->lock);
        heap_al_install(h);
        p = TARN_IS_POW2(alignment) ? heap_aligned_try(h, alignment, size, &s) : NULL;
#if HEAP_REGIONS
        if (p == NULL && s == TARN_ENOMEM && HEAP_MULTI(h)) {
            const heap_rops *ops = heap_ops(h);
            p = ops != NULL ? ops->place(h, 1u, size, alignment, 0u, &s) : NULL;
            if (ops == NULL) s = TARN_ECORRUPT;
        }
#endif
        if (p == NULL) (void)heap_alloc_fail(h, size, s);
        TARN_UNLOCK(h->lock);
    }
    if (st != NULL) *st = s;
    return p;
}

void *tarn_heap_realloc_status(tarn_heap *h, void *ptr, size_t size, tarn_status *st)
{
    void *q = NULL;
    tarn_status s = TARN_EINVAL;
    if (ptr == NULL) return tarn_heap_alloc_status(h, size, st);
    if (heap_valid(h) && size == 0u) {
        s = tarn_heap_free(h, ptr);
    } else if (heap_valid(h)) {
        TARN_LOCK(h->lock);
        q = heap_realloc_core(h, ptr, size);
        s = HEAP_STATUS_OF(h, q);
        TARN_UNLOCK(h->lock);
    }
    if (st != NULL) *st = s;
    return q;
}

tarn_status tarn_heap_resize(tarn_heap *h, void *ptr, size_t size)
{
    heap_blk b;
    tarn_status st;
    tarn_heap *c = h;
    unsigned ri = 0;
    if (!heap_valid(h)) return TARN_EINVAL;
    TARN_LOCK(h->lock);
    st = HEAP_DEEP_CHECK_FAILS(h) ? TARN_ECORRUPT : heap_locate(h, ptr, &b, true, &c, &ri);
    if (st == TARN_OK && size == 0u) st = TARN_EINVAL;
    if (st == TARN_OK) {
#if HEAP_REGIONS
        heap_acct a;
        acct_begin(c, &a);
#endif
        st = size > NBYTES(c) ? TARN_ENOMEM
                              : heap_resize_block(c, (unsigned char *)ptr, &b, heap_units(size), size);
        while (st == TARN_ENOMEM && size <= NBYTES(c) && HEAP_Q_RELIEVE(c)) {
            st = heap_resize_block(c, (unsigned char *)ptr, &b, heap_units(size), size);
        }
#if HEAP_REGIONS
        acct_end(h, c, &a);
        heap_rgn_freed(h, ri);
#endif
    }
    (void)ri;
    if (st != TARN_OK) (void)heap_reject(h, ptr, st);
    TARN_UNLOCK(h->lock);
    return st;
}

/* ---- queries ------------------------------------------------------------------------------ */
/* usable_size, every case: checks everything, reports a bad pointer. */
static HEAP_NOINLINE size_t heap_usable_full(tarn_heap *h, const void *ptr)
{
    heap_blk b;
    size_t n = 0;
    tarn_status st;
    tarn_heap *c;
    unsigned ri;
    if (!heap_valid(h)) return 0u;
    TARN_LOCK(h->lock);
    st = heap_block_of(h, ptr, &b, false);
    if (TARN_UNLIKELY(st == TARN_EFOREIGN) && HEAP_MULTI(h)) {
        st = heap_locate(h, ptr, &b, false, &c, &ri);
    }
    if (TARN_LIKELY(st == TARN_OK)) {
        n = b.live;
    } else {
        (void)heap_reject(h, ptr, st);
    }
    TARN_UNLOCK(h->lock);
    return n;
}

size_t tarn_heap_usable_size(tarn_heap *h, const void *ptr)
{
    /* The short path (SQLite asks for the size of a block about three times per
     * allocation): a valid heap without a lock hook, and a live block of region 0; the
     * same checks, inline, without the frame the other cases need.  Any other case - an
     * error above all - takes the full path, which checks again and reports.  (Size
     * builds keep the one path.) */
#ifdef HEAP_SPEED
    if (TARN_LIKELY(heap_valid(h)) && (!TARN_LOCKING || h->lock.lock == NULL)) {
        heap_blk b;
        if (TARN_LIKELY(heap_block_of(h, ptr, &b, false) == TARN_OK)) return b.live;
    }
#endif
    return heap_usable_full(h, ptr);
}

tarn_status tarn_heap_validate(tarn_heap *h, const void *ptr)
{
    heap_blk b;
    tarn_status st;
    tarn_heap *c = h;
    unsigned ri = 0;
    if (!heap_valid(h)) return TARN_EINVAL;
    TARN_LOCK(h->lock);
#if !HEAP_CHECKING
    /* level 0 trusts pointers elsewhere; a query still answers exactly */
    if (ptr != NULL) {
        uintptr_t d = (uintptr_t)ptr - (uintptr_t)h->blocks - G;
#if HEAP_REGIONS
        if (d >= ((uintptr_t)h->ngran - 1u) << LG && HEAP_MULTI(h)) {
            const heap_rops *ops = heap_ops(h);
            st = ops != NULL ? ops->find(h, ptr, &c, &ri) : TARN_ECORRUPT;
            if (st != TARN_OK) {
                TARN_UNLOCK(h->lock);
                return st;
            }
            d = (uintptr_t)ptr - (uintptr_t)c->blocks - G;
        }
#endif
        if (d >= ((uintptr_t)c->ngran - 1u) << LG || (d & (G - 1u)) != 0u) {
            TARN_UNLOCK(h->lock);
            return TARN_EFOREIGN;
        }
        if (bit_get(UMAP(c), (uint32_t)(d >> LG)) == 0u) {
            st = heap_why(c, (uint32_t)(d >> LG));
            TARN_UNLOCK(h->lock);
            return st;
        }
    }
#endif
    st = heap_locate(h, ptr, &b, true, &c, &ri);
    TARN_UNLOCK(h->lock);
    return st;
}

tarn_status tarn_heap_last_error(const tarn_heap *h)
{
    if (!heap_valid(h)) return TARN_EINVAL;
    return TARN_ERR_GET(h->last_error);
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
    HEAP_RESEAL(h);
#if HEAP_REGIONS
    {
        unsigned i;
        for (i = 1u; heap_rgn_ok(h) && i < heap_nrgn(h); i++) {
            tarn_heap *c = heap_rgn_at(h, i);
            if (c == NULL) continue;
            c->trace = h->trace;
            c->trace_ctx = h->trace_ctx;
            HEAP_RESEAL(c);
        }
    }
#endif
    TARN_UNLOCK(h->lock);
    return TARN_OK;
}
#endif

/* The size of the block at g (< N) when its header is sane (it stays inside [g, N]),
 * else 0.  Reads only the header. */
static uint32_t walk_size(const tarn_heap *h, uint32_t g)
{
    uint32_t s = HD_W1(h, g) & SZ;
    return (s >= MINB && s <= h->ngran - g) ? s : 0u;
}

/* The used block at g of s granules is live (not held by the quarantine): the bytes its
 * caller may use (the whole payload when its guard is damaged); 0 when it is not live. */
static size_t heap_live_block(const tarn_heap *h, uint32_t g, uint32_t s)
{
    const unsigned char *p = PAYLOAD(h, g);
    size_t n;
    if (bit_get(UMAP(h), g) == 0u || HEAP_HOLDS(h, p)) return 0u;
    n = heap_live(p, s);
    return n != SIZE_MAX ? n : PBYTES(s);
}

static size_t bytes_less_extra(size_t n)
{
    return n > HEAP_EXTRA ? n - HEAP_EXTRA : 0u;
}

/* The statistics of the region heap h alone (its own counters). */
static void heap_stats_of(const tarn_heap *h, tarn_heap_stats *out)
{
    uint32_t c, x, largest = 0, nfree = 0, steps = 0;
    memset(out, 0, sizeof *out);
    out->capacity = bytes_less_extra(PBYTES(h->ngran));   /* the largest request */
    out->overhead = h->mem_size - out->capacity;
    /* free blocks: walk every list (at most N steps, only through free blocks) */
    for (c = 0; c < h->nclasses; c++) {
        for (x = h->heads[c]; x != NIL && steps < h->ngran; x = LK_NEXT(h, x)) {
            uint32_t s;
            if (!is_free(h, x) || (s = walk_size(h, x)) == 0u) break;
            if (s > largest) largest = s;
            nfree++;
            steps++;
        }
    }
    if (largest != 0u) out->largest_free = bytes_less_extra(PBYTES(largest));
    out->free_blocks = nfree;
    if (h->top != 0u) {
        uint32_t t = tarn_log2_u32(h->top);
        if (t < ((h->nclasses + 31u) >> 5) && h->groups[t] != 0u) {
            c = (t << 5) | tarn_log2_u32(h->groups[t]);
            out->max_alloc = bytes_less_extra(PBYTES(class_lb_k(c, h->k)));
            if (out->max_alloc > out->largest_free) out->max_alloc = out->largest_free;
        }
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
        uint32_t g = 0, s;
        size_t used = 0, live = 0;
        while (g < h->ngran && (s = walk_size(h, g)) != 0u) {
            size_t n = heap_live_block(h, g, s);
            if (n != 0u) {
                used += n;
                live++;
            }
            g += s;
        }
        out->used = used;
        out->peak_used = used;
        out->live_blocks = live;
    }
#endif
    out->free = out->capacity > out->used ? out->capacity - out->used : 0u;
#if TARN_QUARANTINE > 0
    out->held_blocks = h->quarantine.count;
#endif
}

tarn_status tarn_heap_stats_get(tarn_heap *h, tarn_heap_stats *out)
{
    tarn_status st = TARN_OK;
    if (!heap_valid(h) || out == NULL) return TARN_EINVAL;
    TARN_LOCK(h->lock);
    heap_stats_of(h, out);
    if (!heap_mem_ok(h)) st = TARN_ECORRUPT;    /* (mem_size gave the overhead) */
#if HEAP_REGIONS
    if (HEAP_MULTI(h)) {    /* the other regions' shares of the whole heap's figures */
        unsigned i;
        if (!heap_rgn_ok(h)) st = TARN_ECORRUPT;
        for (i = 1u; st == TARN_OK && i < heap_nrgn(h); i++) {
            tarn_heap_stats r;
            const tarn_heap *c = heap_rgn_at(h, i);
            if (c == NULL) {
                st = TARN_ECORRUPT;
                break;
            }
            heap_stats_of(c, &r);
            out->capacity += r.capacity;
            out->overhead += r.overhead;
            if (i == 1u) out->overhead += RT(h)->size1 - c->mem_size;   /* the table */
            out->free_blocks += r.free_blocks;
            out->held_blocks += r.held_blocks;
            if (r.largest_free > out->largest_free) out->largest_free = r.largest_free;
            if (r.max_alloc > out->max_alloc) out->max_alloc = r.max_alloc;
#if !TARN_STATS
            out->used += r.used;
            out->peak_used += r.used;
            out->live_blocks += r.live_blocks;
#endif
        }
        out->free = out->capacity > out->used ? out->capacity - out->used : 0u;
    }
#endif
    TARN_UNLOCK(h->lock);
    return st;
}

tarn_status tarn_heap_region_get(tarn_heap *h, unsigned region, tarn_heap_region *out)
{
    tarn_status st = TARN_OK;
    const tarn_heap *c;
    if (!heap_valid(h) || out == NULL) return TARN_EINVAL;
    TARN_LOCK(h->lock);
    if (!heap_rgn_ok(h)) {
        st = TARN_ECORRUPT;
    } else if (region >= heap_nrgn(h)) {
        st = TARN_ENOENT;
    } else if ((c = heap_rgn_at(h, region)) == NULL || !heap_mem_ok(c)) {
        st = TARN_ECORRUPT;
    } else {
        memset(out, 0, sizeof *out);
        out->mem = c->mem;
        out->size = c->mem_size;
        out->caps = heap_rcaps(h, region);
        heap_stats_of(c, &out->stats);
        out->stats.failed_allocs = 0u;
#if HEAP_REGIONS
        if (region != 0u) {     /* region 1 also holds the region table */
            heap_rgn_buf(h, region, c, &out->mem, &out->size);
            out->stats.overhead += out->size - c->mem_size;
        }
#endif
#if HEAP_REGIONS && TARN_STATS
        if (region == 0u) {         /* the heap's counters less the other regions' */
            unsigned i;
            for (i = 1u; i < heap_nrgn(h); i++) {
                const tarn_heap *o = heap_rgn_at(h, i);
                if (o == NULL) {
                    st = TARN_ECORRUPT;
                    break;
                }
                out->stats.used -= o->used;
                out->stats.total_allocs -= o->allocs;
                out->stats.total_frees -= o->frees;
            }
            out->stats.live_blocks = out->stats.total_allocs - out->stats.total_frees;
            out->stats.free = out->stats.capacity > out->stats.used
                                  ? out->stats.capacity - out->stats.used
                                  : 0u;
        }
#endif
    }
    TARN_UNLOCK(h->lock);
    return st;
}

tarn_status tarn_heap_quarantine_flush(tarn_heap *h)
{
    tarn_status st = TARN_OK;
    if (!heap_valid(h)) return TARN_EINVAL;
#if TARN_QUARANTINE > 0
    {
        void *p;
        unsigned i;
        TARN_LOCK(h->lock);
        for (i = 0; i < (heap_rgn_ok(h) ? heap_nrgn(h) : 1u); i++) {
            tarn_heap *c = heap_rgn_at(h, i);
#if HEAP_REGIONS
            heap_acct a;
#endif
            if (c == NULL) {
                st = heap_damaged(h);
                continue;
            }
#if HEAP_REGIONS
            acct_begin(c, &a);
#endif
            while ((p = tarn_q_pop(&c->quarantine)) != NULL) {
                if (heap_q_release(c, p) != TARN_OK) st = TARN_ECORRUPT;
            }
#if HEAP_REGIONS
            acct_end(h, c, &a);
            heap_rgn_freed(h, i);
#endif
        }
        if (st != TARN_OK) TARN_ERR_SET(h->last_error, (uint8_t)st);
        TARN_UNLOCK(h->lock);
    }
#endif
    return st;
}

/* Walk the blocks of the region heap h; *go becomes false when fn stops the walk. */
static tarn_status heap_walk_of(const tarn_heap *h, tarn_heap_walk_fn fn, void *ctx, bool *go)
{
    uint32_t g = 0, s;
    size_t n;
    while (g < h->ngran) {
        s = walk_size(h, g);
        if (s == 0u) return TARN_ECORRUPT;
        n = heap_live_block(h, g, s);
        if (!fn(ctx, PAYLOAD(h, g), n != 0u ? n : PBYTES(s), n != 0u)) {
            *go = false;
            break;
        }
        g += s;
    }
    return TARN_OK;
}

/* Walk regions [from, to) (to 0: every region). */
static tarn_status heap_walk_rgns(tarn_heap *h, unsigned from, unsigned to,
                                  tarn_heap_walk_fn fn, void *ctx)
{
    tarn_status st = TARN_OK;
    bool go = true;
    unsigned i;
    TARN_LOCK(h->lock);
    if (!heap_rgn_ok(h)) {
        st = TARN_ECORRUPT;
        to = 1u;                    /* region 0 can still be walked */
        if (from != 0u) to = 0u;
    } else if (to == 0u) {
        to = heap_nrgn(h);
    } else if (to > heap_nrgn(h)) {
        st = TARN_ENOENT;
        to = 0u;
    }
    for (i = from; i < to && go; i++) {
        const tarn_heap *c = heap_rgn_at(h, i);
        tarn_status s = c != NULL ? heap_walk_of(c, fn, ctx, &go) : TARN_ECORRUPT;
        if (s != TARN_OK) {
            st = s;
            break;
        }
    }
    TARN_UNLOCK(h->lock);
    return st;
}

tarn_status tarn_heap_walk(tarn_heap *h, tarn_heap_walk_fn fn, void *ctx)
{
    if (!heap_valid(h) || fn == NULL) return TARN_EINVAL;
    return heap_walk_rgns(h, 0u, 0u, fn, ctx);
}

tarn_status tarn_heap_region_walk(tarn_heap *h, unsigned region, tarn_heap_walk_fn fn,
                                  void *ctx)
{
    if (!heap_valid(h) || fn == NULL) return TARN_EINVAL;
    if (region >= TARN_HEAP_MAX_REGIONS) return TARN_ENOENT;
    return heap_walk_rgns(h, region, region + 1u, fn, ctx);
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
    if (h->ngran < MINB || h->ngran > HEAP_MAX_GRAN || h->k > 5u || !heap_mem_ok(h) ||
        (h->broken != 0u && h->broken != HEAP_BROKEN)) {
        return TARN_ECORRUPT;
    }
    geom_for(&geo, h->ngran, h->k);
    if (geo.nclasses != h->nclasses ||
        h->groups != UMAP(h) + geo.uwords || h->heads != h->groups + geo.ngroups ||
        h->blocks != (unsigned char *)(void *)h + geo.ctrl ||
        (size_t)(h->blocks - (unsigned char *)h->mem) + (((size_t)h->ngran + 1u) << LG) >
            h->mem_size) {
        return TARN_ECORRUPT;
    }
    if (bit_get(UMAP(h), h->ngran) == 0u || bits_any(UMAP(h), h->ngran + 1u, geo.uwords * 32u)) {
        return TARN_ECORRUPT;
    }
    return TARN_OK;
}

/* I6 and I7 for the used block at g of s granules: the usable bytes of a live block, 0
 * for a held one, SIZE_MAX when damaged. */
static size_t heap_check_used(const tarn_heap *h, uint32_t g, uint32_t s)
{
    const unsigned char *p = PAYLOAD(h, g);
#if TARN_QUARANTINE > 0
    if (HEAP_HOLDS(h, p)) {
        int fill = heap_fill_byte(h);
        if (fill >= 0 && !tarn_bytes_are(p, PBYTES(s), (unsigned)fill)) return SIZE_MAX;
        return 0u;
    }
#endif
    return heap_live(p, s);
}

/* I7: the ring holds distinct used blocks. */
static tarn_status heap_check_ring(const tarn_heap *h)
{
#if TARN_QUARANTINE > 0
    const tarn_quarantine *q = &h->quarantine;
    unsigned i, j;
    if (q->count > TARN_QUARANTINE || q->first >= TARN_QUARANTINE ||
        (q->count != 0u && !q->on)) {
        return TARN_ECORRUPT;
    }
    for (i = 0; i < q->count; i++) {
        const void *p = tarn_q_at(q, i);
        uintptr_t d = (uintptr_t)p - (uintptr_t)h->blocks - G;
        if (p == NULL || d >= ((uintptr_t)h->ngran - 1u) << LG || (d & (G - 1u)) != 0u ||
            bit_get(UMAP(h), (uint32_t)(d >> LG)) == 0u) {
            return TARN_ECORRUPT;
        }
        for (j = 0; j < i; j++) {
            if (tarn_q_at(q, j) == p) return TARN_ECORRUPT;
        }
    }
#else
    (void)h;
#endif
    return TARN_OK;
}

/* The full check of the region heap h (every invariant but I5); *usedp and *nusedp get
 * the usable bytes and the number of its live blocks.  al_ok: a block may record an
 * alignment (aligned_alloc has installed its code in the heap, region 0). */
static tarn_status heap_check_one(const tarn_heap *h, size_t *usedp, size_t *nusedp, bool al_ok)
{
    uint32_t g, s, c, x, w0, w1, pv, prev_s = 0, nfree = 0, listed = 0, ngroups, i;
    size_t used = 0, nused = 0, n;
    bool prev_free = false;

    if (heap_geometry_ok(h) != TARN_OK || heap_check_ring(h) != TARN_OK) return TARN_ECORRUPT;
    ngroups = (h->nclasses + 31u) >> 5;

    /* blocks: I1, I2, I3, alignment, guards, counters */
    for (g = 0; g < h->ngran; g += s) {
        w0 = rd(h, g, 0u);
        w1 = HD_W1(h, g);
        s = walk_size(h, g);
        if (s == 0u || (w0 & SZ) != prev_s) return TARN_ECORRUPT;
        if (bits_any(UMAP(h), g + 1u, g + s)) return TARN_ECORRUPT;
        if (bit_get(UMAP(h), g) == 0u) {
            if ((w1 & FREE) == 0u || (w1 & UTAG) != 0u || (w0 >> 27) != 0u || prev_free) {
                return TARN_ECORRUPT;
            }
            prev_free = true;
            nfree++;
        } else {
            uint32_t al = w0 >> 27;
            if ((w1 & FREE) != 0u ||
                (UTAG_OF(w1) > TARN_HEAP_CAP_SETS && UTAG_OF(w1) != UTAG_REGION)) {
                return TARN_ECORRUPT;
            }
            if (al != 0u && (!al_ok || al > 26u || ((size_t)G << al) > NBYTES(h) ||
                             ((uintptr_t)PAYLOAD(h, g) & (((uintptr_t)G << al) - 1u)) != 0u)) {
                return TARN_ECORRUPT;
            }
            n = heap_check_used(h, g, s);
            if (n == SIZE_MAX) return TARN_ECORRUPT;
            if (n != 0u) {
                used += n;
                nused++;
            }
            prev_free = false;
        }
        prev_s = s;
    }
    if (g != h->ngran || rd(h, g, 0u) != prev_s || HD_W1(h, g) != 0u) return TARN_ECORRUPT;

    /* I4: every list, its class, its back links, no cycle, every free block once */
    if ((h->top & ~(uint32_t)((ngroups >= 32u) ? 0xFFFFFFFFu : ((1u << ngroups) - 1u))) != 0u) {
        return TARN_ECORRUPT;
    }
    for (i = 0; i < ngroups; i++) {
        if (((h->top >> i) & 1u) != (h->groups[i] != 0u ? 1u : 0u)) return TARN_ECORRUPT;
    }
    if (bits_any(h->groups, h->nclasses, ngroups * 32u)) return TARN_ECORRUPT;
    for (c = 0; c < h->nclasses; c++) {
        pv = TAG | c;
        x = h->heads[c];
        if ((x == NIL) != (bit_get(h->groups, c) == 0u)) return TARN_ECORRUPT;
        while (x != NIL) {
            if (!is_free(h, x) || (s = walk_size(h, x)) == 0u || HD_PREV(h, x + s) != s ||
                cls_of(h, s) != c || LK_PREV(h, x) != pv || ++listed > nfree) {
                return TARN_ECORRUPT;
            }
            pv = x;
            x = LK_NEXT(h, x);
        }
    }
    if (listed != nfree) return TARN_ECORRUPT;
    *usedp = used;
    *nusedp = nused;
    return TARN_OK;
}

/* I5 for the counters of h against the usable bytes and live blocks found. */
static inline bool heap_counts_ok(const tarn_heap *h, size_t used, size_t nused)
{
#if TARN_STATS
    return h->used == used && h->peak >= h->used && h->allocs - h->frees == nused;
#else
    (void)h;
    (void)used;
    (void)nused;
    return true;
#endif
}

static tarn_status heap_check_locked(const tarn_heap *h)
{
    size_t used = 0, nused = 0;
    if (!heap_rgn_ok(h) || heap_check_one(h, &used, &nused, h->aligned != NULL) != TARN_OK) {
        return TARN_ECORRUPT;
    }
#if HEAP_REGIONS
    {
        unsigned i;
        for (i = 1u; i < heap_nrgn(h); i++) {
            const tarn_heap *c = heap_rgn_at_c(h, i);
            size_t u = 0, n = 0;
            if (c == NULL || RT(h)->rlen[i] != ((uintptr_t)c->ngran - 1u) << LG ||
                !heap_rgn_ok(c) || heap_check_one(c, &u, &n, h->aligned != NULL) != TARN_OK ||
                !heap_counts_ok(c, u, n)) {
                return TARN_ECORRUPT;
            }
            used += u;
            nused += n;
        }
    }
#endif
    return heap_counts_ok(h, used, nused) ? TARN_OK : TARN_ECORRUPT;
}

tarn_status tarn_heap_check(tarn_heap *h)
{
    tarn_status st;
    if (h == NULL || h->self != h) return TARN_EINVAL;
    if (!heap_valid(h)) return TARN_ECORRUPT;   /* a sealed field changed */
    TARN_LOCK(h->lock);
    st = heap_check_locked(h);
    TARN_UNLOCK(h->lock);
    return st;
}

/* The O(1) sanity check of the region heap h. */
static tarn_status heap_sane_one(const tarn_heap *h)
{
    tarn_status st = TARN_OK;
    uint32_t t, c, ngroups;
    ngroups = (h->nclasses + 31u) >> 5;
    if (heap_geometry_ok(h) != TARN_OK ||
        (ngroups < 32u && (h->top >> ngroups) != 0u)) {
        st = TARN_ECORRUPT;
    } else if (h->top != 0u) {
        /* the heads of the smallest and the largest non-empty class */
        uint32_t ends[2];
        unsigned i;
        ends[0] = tarn_ctz_u32(h->top);
        ends[1] = tarn_log2_u32(h->top);
        for (i = 0; i < 2u && st == TARN_OK; i++) {
            uint32_t x, s;
            t = ends[i];
            if (h->groups[t] == 0u) {
                st = TARN_ECORRUPT;
                break;
            }
            c = (t << 5) | (i == 0u ? tarn_ctz_u32(h->groups[t]) : tarn_log2_u32(h->groups[t]));
            x = c < h->nclasses ? h->heads[c] : NIL;
            if (!is_free(h, x) || (s = walk_size(h, x)) == 0u || HD_PREV(h, x + s) != s ||
                cls_of(h, s) != c || LK_PREV(h, x) != (TAG | c)) {
                st = TARN_ECORRUPT;
            }
        }
    }
#if TARN_STATS
    /* (with several regions, region 0's counters are the whole heap's) */
    if (st == TARN_OK && (h->peak < h->used || h->allocs < h->frees ||
                          (!HEAP_MULTI(h) && h->used > PBYTES(h->ngran)))) {
        st = TARN_ECORRUPT;
    }
#endif
    return st;
}

tarn_status tarn_heap_sane(tarn_heap *h)
{
    tarn_status st;
    unsigned i;
    if (h == NULL || h->self != h) return TARN_EINVAL;
    if (!heap_valid(h)) return TARN_ECORRUPT;   /* a sealed field changed */
    TARN_LOCK(h->lock);
    st = heap_rgn_ok(h) ? heap_sane_one(h) : TARN_ECORRUPT;
    for (i = 1u; st == TARN_OK && i < heap_nrgn(h); i++) {
        const tarn_heap *c = heap_rgn_at(h, i);
        st = c != NULL ? heap_sane_one(c) : TARN_ECORRUPT;
    }
    TARN_UNLOCK(h->lock);
    return st;
}

/* ---- worst-case sizing ------------------------------------------------------------------- */
/* Granules that guarantee success (see the top of the file): Mg + (L-1)(r-1) + L s. */
static uint64_t heap_need(uint64_t mg, uint64_t r, uint64_t L, uint32_t k)
{
    uint64_t slack = 0;
    if (r >= (2u << k) && L > 1u) slack = ((uint64_t)1u << (tarn_log2_u32((uint32_t)r) - k)) - 1u;
    return mg + (L - 1u) * (r - 1u) + L * slack;
}

size_t tarn_heap_size_for(size_t peak_bytes, size_t max_request, size_t max_live)
{
    uint64_t L, mg, r, need, total, next, best;
    heap_geom geo;
    uint32_t k, iter;
    const uint64_t maxbytes = (uint64_t)HEAP_MAX_GRAN << LG;
    if (peak_bytes == 0u || max_request == 0u) return TARN_HEAP_MIN_SIZE;
    /* refuse what no heap can hold, before any arithmetic can overflow */
    if ((uint64_t)peak_bytes > maxbytes || (uint64_t)max_request > maxbytes) return 0u;
    L = max_live != 0u ? (uint64_t)max_live : (uint64_t)peak_bytes;
    if (L > peak_bytes) L = peak_bytes;   /* every live block holds at least one byte */
    mg = (((uint64_t)peak_bytes + L * (HEAP_EXTRA + G - 1u)) >> LG) + 2u * L;
    r = (((uint64_t)max_request + HEAP_EXTRA + G - 1u) >> LG) + 1u;
    /* The class split k depends on the buffer's size.  For each k, the size whose layout
     * holds the granules k needs is a valid answer when the split that size chooses
     * (k2, finer or coarser) leaves room for what k2 needs; the smallest valid one is
     * returned.  (The k = 0 candidate is checked the same way; if no candidate is
     * valid, larger sizes are tried.) */
    best = 0;
    total = 0;
    for (iter = 0; iter < 64u; iter++) {
        uint32_t k2;
        k = iter < 6u ? 5u - iter : geom_k((size_t)total);
        need = heap_need(mg, r, L, k);
        if (need < heap_units(1u)) need = heap_units(1u);
        if (need > HEAP_MAX_GRAN) continue;
        geom_for(&geo, (uint32_t)need, k);
        /* control, blocks, sentinel, worst alignment of the buffer (G - 1 bytes) */
        next = (uint64_t)geo.ctrl + ((need + 1u) << LG) + (G - 1u);
        if (iter >= 6u && next <= total) next = total + G;
        if (next > (uint64_t)SIZE_MAX) continue;
        k2 = geom_k((size_t)next);
        need = heap_need(mg, r, L, k2);
        if (geom_layout(&geo, (size_t)(next - (G - 1u)), k2) && geo.n >= need &&
            (best == 0u || next < best)) {
            best = next;
        }
        if (iter >= 5u && best != 0u) break;
        if (iter >= 5u) total = next > total ? next : total;
    }
    return (size_t)best;
}
