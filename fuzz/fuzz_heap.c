/*
 * fuzz/fuzz_heap.c - fuzz target of the heap (include/tarn/heap.h).
 *
 * Two heaps, each over its own static buffer at an alignment chosen by the input, are
 * driven by the input: byte b selects the heap (b & 1) and the operation
 * ((b >> 1) % OP_COUNT), its arguments follow.  A heap may be built in "guaranteed" mode:
 * its buffer is exactly tarn_heap_size_for(peak, max_request, max_live) bytes and the
 * workload keeps within those limits, so no allocation may fail.
 *
 * The model holds every live block (address, requested and usable size, alignment), a
 * shadow copy of the whole buffer (the bytes of live blocks), the counters of the
 * statistics and the freed pointers.  Checked after the calls:
 *   - statuses, including every bad pointer (NULL, freed - still a free block or merged
 *     into a neighbour -, inside a block, misaligned, in the control area, outside, of the
 *     other heap), size 0, sizes beyond the heap, nitems * size overflow, alignments that
 *     are not powers of two; the expected status of a pointer is derived from the walk,
 *     which is itself checked against the model;
 *   - blocks: aligned (to the granule, or to the alignment asked for, kept by realloc),
 *     inside the blocks area, disjoint, usable size >= request, contents kept by every
 *     call (realloc up to the smaller size), calloc memory zero, shrink in place;
 *   - the walk: blocks contiguous over the whole capacity, no two free blocks adjacent
 *     (immediate coalescing), used blocks exactly the live ones; tarn_heap_check and
 *     tarn_heap_sane; every statistic;
 *   - space promises: an alloc of stats.max_alloc succeeds; an alloc that fails asked for
 *     more than max_alloc; resize grows in place iff the right neighbour is free and large
 *     enough; in guaranteed mode nothing fails; tarn_heap_size_for is monotone;
 *   - the lock hook is balanced; after destroy every call fails with TARN_EINVAL.
 */
#include "fuzz_common.h"
#include "tarn/heap.h"
#include "internal.h"

#define NHEAP 2
#define HEAP_MAX 24576u
#define MAXL 96u
#define NDEAD 64u
#define GR TARN_HEAP_GRANULE
#define XB TARN_HEAP_EXTRA     /* guard and trailer of a block in canary mode, else 0 */

/* Bytes of the block behind a live block of `usable` bytes: the one-granule header and
 * whole granules of payload (guard and trailer included in canary mode, where usable is
 * the request, and the block may then hold one granule more: the rest of the free block
 * it was cut from would have been a single granule). */
static size_t blk_len(size_t usable, size_t align)
{
    (void)align;
    if (usable > SIZE_MAX - XB - 2u * GR) return SIZE_MAX;   /* no block is that long */
    return TARN_ALIGN_UP(usable + XB, GR) + GR;
}

/* The usable size reported for a block handed out for `req` bytes: exact in canary
 * mode, else whole granules. */
static bool usable_ok(size_t us, size_t req)
{
    return TARN_GUARD ? us == req : (us >= req && us % GR == 0);
}

typedef struct lblk {
    bool used;
    unsigned char *p;
    size_t req;
    size_t usable;
    size_t align;
} lblk;

typedef struct model {
    tarn_heap *h;
    tarn_heap *old_h;       /* a destroyed heap, for calls that must fail */
    fz_lock lock;
    bool ok;
    unsigned flags;
    unsigned char *mem;
    size_t mem_size;
    size_t cap;             /* capacity from the stats at init */
    lblk live[MAXL];
    uint32_t nlive;
    unsigned char *dead[NDEAD];
    uint32_t ndead, dead_pos;
    size_t used, peak, allocs, frees, failed;
    /* guaranteed mode: limits of tarn_heap_size_for */
    bool guar;
    size_t g_peak, g_req, g_live, live_req;
} model;

static unsigned char buf[NHEAP][HEAP_MAX + 64u] __attribute__((aligned(64)));
static unsigned char shadow[NHEAP][HEAP_MAX + 64u];
static model M[NHEAP];

static int midx(const model *m) { return (int)(m - M); }
static unsigned char *shadow_of(const model *m, const void *p)
{
    return shadow[midx(m)] + ((const unsigned char *)p - buf[midx(m)]);
}

static lblk *find_live(model *m, const void *p)
{
    uint32_t i;
    for (i = 0; i < MAXL; i++) {
        if (m->live[i].used && m->live[i].p == p) return &m->live[i];
    }
    return NULL;
}

static lblk *pick_live(model *m, uint32_t k)
{
    uint32_t i;
    if (m->nlive == 0) return NULL;
    k %= m->nlive;
    for (i = 0; i < MAXL; i++) {
        if (m->live[i].used && k-- == 0) return &m->live[i];
    }
    return NULL;
}

/* ---- the walk: layout oracle ------------------------------------------------------------ */
typedef struct wblk {
    unsigned char *p;
    size_t size;
    size_t len;        /* bytes of the block (check_walk) */
    bool used;
} wblk;

typedef struct walk_out {
    uint32_t n;
    int stop_after;
    wblk b[2u * MAXL + 2u];
} walk_out;

static walk_out W;

static bool walk_cb(void *ctx, void *block, size_t size, bool used)
{
    walk_out *w = (walk_out *)ctx;
    FZ_CHECK(w->n < sizeof w->b / sizeof w->b[0]);
    w->b[w->n].p = (unsigned char *)block;
    w->b[w->n].size = size;
    w->b[w->n].used = used;
    w->n++;
    return !(w->stop_after > 0 && (int)w->n >= w->stop_after);
}

/* Walk the heap and check the layout against the model (contents included). */
static void check_walk(model *m)
{
    uint32_t i, nused = 0, nfree = 0;
    size_t total = 0, largest = 0;
    tarn_heap_stats st;
    W.n = 0;
    W.stop_after = 0;
    FZ_ST(tarn_heap_walk(m->h, walk_cb, &W), TARN_OK);
    FZ_EQ(m->lock.depth, 0);
    FZ_CHECK(W.n >= 1);
    FZ_CHECK(W.b[0].p >= m->mem && W.b[0].p + m->cap <= m->mem + m->mem_size);
    for (i = 0; i < W.n; i++) {
        const wblk *b = &W.b[i];
        size_t len = b->size;      /* a used block's size is its usable size */
        FZ_CHECK(b->size > 0 && TARN_IS_ALIGNED(b->p, GR));
        if (i > 0) {
            if (TARN_GUARD && W.b[i - 1].used && b->p == W.b[i - 1].p + W.b[i - 1].len + GR) {
                W.b[i - 1].len += GR;                             /* the granule more */
                total += GR;
            }
            FZ_CHECK(b->p == W.b[i - 1].p + W.b[i - 1].len);     /* contiguous */
            FZ_CHECK(b->used || W.b[i - 1].used);                 /* coalesced */
        }
        if (b->used) {
            lblk *e = find_live(m, b->p);
            FZ_CHECK(e != NULL);
            FZ_EQ(b->size, e->usable);
            FZ_EQ(memcmp(b->p, shadow_of(m, b->p), e->usable), 0);
            len = blk_len(e->usable, e->align);
            nused++;
        } else {
            FZ_CHECK(b->size % GR == 0);
            nfree++;
            if (b->size > largest) largest = b->size;
            len = b->size + GR;
        }
        W.b[i].len = len;
        total += len;
    }
    if (TARN_GUARD && W.b[W.n - 1].used && total + GR == m->cap + XB + GR) total += GR;
    FZ_EQ(total, m->cap + XB + GR);   /* every granule, the headers included */
    FZ_EQ(nused, m->nlive);
    FZ_ST(tarn_heap_stats_get(m->h, &st), TARN_OK);
    FZ_EQ(st.free_blocks, nfree);
    FZ_EQ(st.largest_free, largest > XB ? largest - XB : 0u);
    if (W.n > 1) {     /* a non-zero return stops the walk */
        static walk_out w1;
        w1.n = 0;
        w1.stop_after = 1;
        FZ_ST(tarn_heap_walk(m->h, walk_cb, &w1), TARN_OK);
        FZ_EQ(w1.n, 1);
    }
}

/* What tarn_heap_free would say about p, from the layout (walk first): TARN_OK for a
 * live block, TARN_EDOUBLE for a free one, else TARN_EFOREIGN.  (A pointer that is no
 * block start is rejected exactly; its reason is TARN_EDOUBLE only when the granule
 * before it holds bytes that read as a free block's header - user data can: see
 * reason_ok.) */
static tarn_status classify(const model *m, const void *p)
{
    const unsigned char *q = (const unsigned char *)p;
    uint32_t i;
    if (p == NULL) return TARN_EINVAL;
    for (i = 0; i < W.n; i++) {
        if (q == W.b[i].p) return W.b[i].used ? TARN_OK : TARN_EDOUBLE;
    }
    (void)m;
    return TARN_EFOREIGN;
}

/* st is what the heap said for p, where classify expected ex. */
static bool reason_ok(model *m, const void *p, tarn_status st, tarn_status ex)
{
    const unsigned char *q = (const unsigned char *)p;
    if (st == ex) return true;
    /* an interior pointer whose header granule (inside a live block's bytes) reads
     * as free: the rejection is exact, the reason a guess */
    if (ex == TARN_EFOREIGN && st == TARN_EDOUBLE && q >= m->mem + GR &&
        q <= m->mem + m->mem_size && find_live(m, p) == NULL) {
        uint32_t w1;
        tarn_san_peek(&w1, q - GR + 4, 4);
        return (w1 & 0x80000000u) != 0u;
    }
    return false;
}

static void check_stats(model *m)
{
    tarn_heap_stats st;
    FZ_ST(tarn_heap_stats_get(m->h, &st), TARN_OK);
    FZ_EQ(m->lock.depth, 0);
    FZ_EQ(st.capacity, m->cap);
    FZ_EQ(st.used, m->used);
    FZ_EQ(st.free, m->cap - m->used);
    FZ_EQ(st.live_blocks, m->nlive);
    FZ_CHECK(st.max_alloc <= st.largest_free && st.largest_free <= st.free);
    FZ_EQ(st.overhead, m->mem_size - m->cap);
#if TARN_STATS
    FZ_EQ(st.peak_used, m->peak);
    FZ_EQ(st.total_allocs, m->allocs);
    FZ_EQ(st.total_frees, m->frees);
    FZ_EQ(st.failed_allocs, m->failed);
#endif
}

static void check_all(model *m)
{
    if (!m->ok) {
        if (m->old_h != NULL) {
            FZ_ST(tarn_heap_check(m->old_h), TARN_EINVAL);
            FZ_CHECK(tarn_heap_alloc(m->old_h, 8) == NULL);
        }
        return;
    }
    FZ_ST(tarn_heap_check(m->h), TARN_OK);
    FZ_ST(tarn_heap_sane(m->h), TARN_OK);
    check_stats(m);
    check_walk(m);
    FZ_EQ(m->lock.depth, 0);
}

/* ---- model updates ---------------------------------------------------------------------- */
static void fill(model *m, unsigned char *p, size_t n, uint32_t tag)
{
    fz_fill(p, n, tag);
    memcpy(shadow_of(m, p), p, n);
}

static lblk *note_alloc(model *m, unsigned char *p, size_t req, size_t align)
{
    lblk *e = NULL;
    uint32_t i;
    size_t us = tarn_heap_usable_size(m->h, p);
    FZ_CHECK(find_live(m, p) == NULL);
    FZ_CHECK(TARN_IS_ALIGNED(p, align > GR ? align : GR));
    FZ_CHECK(usable_ok(us, req));
    FZ_CHECK(p >= m->mem && p + us <= m->mem + m->mem_size);
    for (i = 0; i < MAXL && e == NULL; i++) {
        if (!m->live[i].used) e = &m->live[i];
    }
    FZ_CHECK(e != NULL);
    e->used = true;
    e->p = p;
    e->req = req;
    e->usable = us;
    e->align = align;
    m->nlive++;
    m->used += us;
    if (m->used > m->peak) m->peak = m->used;
    m->allocs++;
    m->live_req += req;
    FZ_ST(tarn_heap_validate(m->h, p), TARN_OK);
    return e;
}

static void note_free(model *m, lblk *e)
{
    m->nlive--;
    m->used -= e->usable;
    m->live_req -= e->req;
    m->frees++;
    e->used = false;
    m->dead[m->dead_pos] = e->p;
    m->dead_pos = (m->dead_pos + 1u) % NDEAD;
    if (m->ndead < NDEAD) m->ndead++;
}

/* In guaranteed mode: may a request of n bytes be made now (replacing `old` bytes of
 * one live block that stays live meanwhile, as a realloc does)? */
static bool guar_allows(const model *m, size_t n)
{
    return n >= 1 && n <= m->g_req && m->live_req + n <= m->g_peak && m->nlive + 1u <= m->g_live;
}

/* ---- init ------------------------------------------------------------------------------ */
static void forget_all(model *m)
{
    memset(m->live, 0, sizeof m->live);
    m->nlive = 0;
    m->ndead = m->dead_pos = 0;
    m->used = m->peak = m->allocs = m->frees = m->failed = 0;
    m->live_req = 0;
}

static void do_init(model *m, fz_in *in, unsigned bad)
{
    unsigned f = fz_u8(in);
    size_t off = fz_u8(in) % 16u;
    size_t size = 1u + fz_below(in, HEAP_MAX);
    tarn_config cfg;
    const tarn_config *cp = &cfg;
    tarn_status ex = TARN_OK, st;
    tarn_heap **out = &m->h;
    unsigned char *mem = buf[midx(m)] + off;
    tarn_heap_stats hs;

    memset(&cfg, 0, sizeof cfg);
    cfg.flags = f & TARN_HEAP_F_CLEAR_FREED;
    if (f & 2u) cfg.lock = fz_lock_hook(&m->lock);
    cfg.name = (f & 4u) ? "heap" : NULL;
    if ((f & 0x18u) == 0x18u) cp = NULL;
    m->guar = false;
    if ((f & 0x20u) && bad == 0) {
        /* guaranteed mode: the buffer is exactly what size_for asks for */
        size_t p = 1u + fz_u16(in) % 4096u, r = 1u + fz_u16(in) % p, l = 1u + fz_u8(in) % 32u;
        size_t need;
        if (l > p) l = p;
        need = tarn_heap_size_for(p, r, l);
        if (f & 0x40u) need += fz_u8(in);      /* a larger buffer is just as safe */
        if (need != 0 && need + off <= sizeof buf[0]) {
            m->guar = true;
            m->g_peak = p;
            m->g_req = r;
            m->g_live = l;
            size = need;
        }
    }
    /* TARN_HEAP_MIN_SIZE suits every alignment of mem; a well aligned buffer may be
     * smaller, but never smaller than the control part plus one granule */
    if (size <= TARN_HEAP_MIN_SIZE - GR && !m->guar) ex = TARN_ETOOSMALL;
    switch (bad % 6u) {
    case 1: out = NULL; ex = TARN_EINVAL; break;
    case 2: mem = NULL; ex = TARN_EINVAL; break;
    case 3: cp = &cfg; cfg.lock.lock = fz_lock_take; cfg.lock.unlock = NULL; ex = TARN_EINVAL; break;
    /* an unknown flag: bits 1..29 (bit 30 is TARN_F_QUARANTINE, bit 31 TARN_F_SAN_REPORT) */
    case 4: cp = &cfg; cfg.flags |= 2u << (fz_u8(in) % 29u); ex = TARN_EINVAL; break;
    case 5: size = fz_u8(in) % (TARN_HEAP_MIN_SIZE - GR + 1u); ex = TARN_ETOOSMALL; break;
    default: break;
    }
    if (m->ok) {
        forget_all(m);
        m->old_h = NULL;
    }
    m->ok = false;
    m->lock.depth = 0;
    st = tarn_heap_init(out, mem, size, cp);
    FZ_TRACE("  init(off %zu, size %zu, flags %#x, guar %d) = %s\n", off, size,
             cp ? (unsigned)cfg.flags : 0u, (int)m->guar, tarn_strerror(st));
    if (ex == TARN_OK && size < TARN_HEAP_MIN_SIZE && st == TARN_ETOOSMALL) ex = st;
    FZ_ST(st, ex);
    FZ_EQ(m->lock.depth, 0);
    if (st != TARN_OK) {
        if (out != NULL) FZ_CHECK(*out == NULL);
        m->guar = false;
        return;
    }
    m->ok = true;
    m->flags = cp ? cfg.flags : 0u;
    m->mem = mem;
    m->mem_size = size;
    FZ_CHECK(tarn_heap_name(m->h) == (cp ? cfg.name : NULL));
    FZ_ST(tarn_heap_stats_get(m->h, &hs), TARN_OK);
    m->cap = hs.capacity;
    FZ_CHECK(m->cap + XB >= GR && (m->cap + XB) % GR == 0 && m->cap <= size);
    FZ_EQ(hs.free_blocks, 1);
    FZ_EQ(hs.largest_free, m->cap);
    check_all(m);
}

/* ---- operations ------------------------------------------------------------------------- */
static size_t pick_size(model *m, fz_in *in)
{
    unsigned kind = fz_u8(in) % 16u;
    uint32_t r = fz_u16(in);
    size_t cap = m->ok ? m->cap : 64u;
    switch (kind) {
    case 0: case 1: case 2: case 3: case 4: case 5: case 6: return 1u + r % 48u;
    case 7: case 8: case 9: return 1u + r % 512u;
    case 10: case 11: return 1u + r % cap;
    case 12: return 0;
    case 13: return cap + 1u + r % 64u;
    case 14: return SIZE_MAX - r % 8u;
    default: return cap - r % 16u > 0 ? cap - r % 16u : 1u;
    }
}

/* Check a failed allocation: it asked for more than max_alloc (taken before the call),
 * or for nothing at all; never in guaranteed mode. */
static void alloc_failed(model *m, size_t size, size_t max_alloc, tarn_status ex_bad)
{
    tarn_status st = tarn_heap_last_error(m->h);
    m->failed++;
    if (ex_bad != TARN_OK) { FZ_ST(st, ex_bad); return; }
    FZ_ST(st, TARN_ENOMEM);
    FZ_CHECK(size > max_alloc);
}

static size_t max_alloc_now(model *m)
{
    tarn_heap_stats st;
    FZ_ST(tarn_heap_stats_get(m->h, &st), TARN_OK);
    return st.max_alloc;
}

static void op_alloc(model *m, fz_in *in, int how)
{
    size_t size = pick_size(m, in), n = 1, align = GR, ma;
    tarn_status bad = TARN_OK;
    unsigned char *p;
    if (how == 1) {            /* calloc: nitems * size */
        unsigned k = fz_u8(in) % 8u;
        n = k < 5 ? 1u + fz_u8(in) % 16u : k < 7 ? (SIZE_MAX / (size ? size : 1u)) + 1u + k : 0u;
    } else if (how == 2) {     /* aligned */
        unsigned k = fz_u8(in);
        align = (k & 0xC0u) == 0xC0u ? (size_t)(k & 0x3Fu) : (size_t)1u << (k % 12u);
    }
    if (!m->ok) {
        p = (unsigned char *)(how == 1 ? tarn_heap_calloc(m->old_h, n, size)
                              : how == 2 ? tarn_heap_aligned_alloc(m->old_h, align, size)
                                         : tarn_heap_alloc(m->old_h, size));
        FZ_CHECK(p == NULL);
        return;
    }
    if (m->nlive >= MAXL) return;                   /* the model's limit */
    if (m->guar) {
        if (how == 2) return;                       /* size_for covers plain requests */
        if (how == 1 && (n == 0 || size == 0 || n > SIZE_MAX / size)) return;
        if (!guar_allows(m, n * size)) return;
    }
    ma = max_alloc_now(m);
    p = (unsigned char *)(how == 1 ? tarn_heap_calloc(m->h, n, size)
                          : how == 2 ? tarn_heap_aligned_alloc(m->h, align, size)
                                     : tarn_heap_alloc(m->h, size));
    FZ_TRACE("  alloc%d(%zu x %zu, align %zu) = %p\n", how, n, size, align, (void *)p);
    FZ_EQ(m->lock.depth, 0);
    if (how == 1 && size != 0 && n > SIZE_MAX / size) bad = TARN_EOVERFLOW;
    else if (size == 0 || n == 0) bad = TARN_EINVAL;
    else if (how == 2 && !TARN_IS_POW2(align)) bad = TARN_EINVAL;
    if (p == NULL) {
        FZ_CHECK(!m->guar);
        /* an over-aligned request needs more than its size: max_alloc does not cover it */
        if (how == 2 && align > GR && bad == TARN_OK) {
            m->failed++;
            FZ_ST(tarn_heap_last_error(m->h), TARN_ENOMEM);
            return;
        }
        alloc_failed(m, n * size, ma, bad);
        return;
    }
    FZ_ST(bad, TARN_OK);
    note_alloc(m, p, n * size, align);
    if (how == 1) {
        size_t j;
        for (j = 0; j < n * size; j++) FZ_EQ(p[j], 0);
    }
    fill(m, p, tarn_heap_usable_size(m->h, p), (uint32_t)tarn_fuzz_ops);
}

/* "max_alloc: largest request guaranteed to succeed now". */
static void op_alloc_max(model *m)
{
    size_t ma;
    unsigned char *p;
    if (!m->ok || m->nlive == MAXL) return;
    ma = max_alloc_now(m);
    if (ma == 0 || (m->guar && !guar_allows(m, ma))) return;
    p = (unsigned char *)tarn_heap_alloc(m->h, ma);
    FZ_TRACE("  alloc(max_alloc %zu) = %p\n", ma, (void *)p);
    FZ_CHECK(p != NULL);
    note_alloc(m, p, ma, GR);
    fill(m, p, tarn_heap_usable_size(m->h, p), (uint32_t)tarn_fuzz_ops);
}

/* A pointer to hand back, and the live block it is (or NULL).  check_walk ran before. */
static unsigned char *pick_ptr(model *m, fz_in *in, lblk **live)
{
    unsigned kind = fz_u8(in) % 10u;
    uint32_t k = fz_u16(in);
    const model *o = &M[1 - midx(m)];
    lblk *e;
    unsigned char *p;
    *live = NULL;
    switch (kind) {
    case 0: case 1: case 2: case 3:
        if ((e = pick_live(m, k)) != NULL) { *live = e; return e->p; }
        /* fall through */
    case 4:
        if (m->ndead > 0) { p = m->dead[k % m->ndead]; break; }
        /* fall through */
    case 5: /* inside a live block */
        if ((e = pick_live(m, k)) != NULL) { p = e->p + 1u + (k >> 4) % e->usable; break; }
        /* fall through */
    case 6: p = NULL; break;
    case 7: /* anywhere in or around the buffer, control area included */
        p = buf[midx(m)] + k % sizeof buf[0];
        break;
    case 8: /* the other heap's block */
        if (o->ok && o->nlive > 0) {
            uint32_t i;
            for (i = 0; i < MAXL; i++) {
                if (o->live[i].used) break;
            }
            p = o->live[i].p;
            break;
        }
        p = buf[1 - midx(m)];
        break;
    default: p = (unsigned char *)&W + k % sizeof W; break;
    }
    *live = find_live(m, p);
    return p;
}

static void op_free(model *m, fz_in *in)
{
    lblk *e;
    unsigned char *p;
    tarn_status st, ex;
    if (!m->ok) { FZ_ST(tarn_heap_free(m->old_h, buf[midx(m)]), TARN_EINVAL); return; }
    check_walk(m);
    p = pick_ptr(m, in, &e);
    ex = classify(m, p);
#if TARN_CHECK_LEVEL == 0
    if (ex != TARN_OK && p != NULL) return;
#endif
    FZ_TRACE("  pick %p: %s, live %d\n", (void *)p, tarn_strerror(ex), e != NULL);
    FZ_CHECK((ex == TARN_OK) == (e != NULL));
    if (e != NULL) FZ_EQ(memcmp(p, shadow_of(m, p), e->usable), 0);
    st = tarn_heap_free(m->h, p);
    FZ_TRACE("  free(%p) = %s\n", (void *)p, tarn_strerror(st));
    FZ_EQ(m->lock.depth, 0);
    if (reason_ok(m, p, st, ex)) ex = st;
    FZ_ST(st, ex);
    if (st != TARN_OK) {
        FZ_ST(tarn_heap_last_error(m->h), ex);
        return;
    }
    note_free(m, e);
    FZ_CHECK(tarn_heap_validate(m->h, p) != TARN_OK);
}

static void op_query(model *m, fz_in *in)
{
    lblk *e;
    unsigned char *p;
    tarn_status ex;
    if (!m->ok) {
        FZ_EQ(tarn_heap_usable_size(m->old_h, buf[midx(m)]), 0);
        FZ_ST(tarn_heap_validate(m->old_h, buf[midx(m)]), TARN_EINVAL);
        return;
    }
    check_walk(m);
    p = pick_ptr(m, in, &e);
    ex = classify(m, p);
#if TARN_CHECK_LEVEL == 0
    if (ex != TARN_OK) return;
#endif
    {
        tarn_status v = tarn_heap_validate(m->h, p);
        if (reason_ok(m, p, v, ex)) ex = v;
        FZ_ST(v, ex);
    }
    FZ_EQ(tarn_heap_usable_size(m->h, p), e != NULL ? e->usable : 0u);
    if (ex != TARN_OK) FZ_ST(tarn_heap_last_error(m->h), ex);
    FZ_EQ(m->lock.depth, 0);
}

static void op_realloc(model *m, fz_in *in, bool in_place_only)
{
    lblk *e;
    unsigned char *p, *q;
    size_t size, old_us = 0, keep, ma;
    tarn_status ex;
    size_t allocs, frees;
    if (!m->ok) {
        FZ_CHECK(tarn_heap_realloc(m->old_h, NULL, 8) == NULL);
        FZ_ST(tarn_heap_resize(m->old_h, buf[midx(m)], 8), TARN_EINVAL);
        return;
    }
    if (m->nlive >= MAXL) return;                   /* the model's limit */
    check_walk(m);
    p = pick_ptr(m, in, &e);
    size = pick_size(m, in);
    ex = classify(m, p);
#if TARN_CHECK_LEVEL == 0
    if (ex != TARN_OK && p != NULL) return;
#endif
    if (m->guar && (in_place_only ? size > m->g_req || (e && m->live_req - e->req + size > m->g_peak)
                                  : size != 0 && !guar_allows(m, size))) {
        return;
    }
    if (e != NULL) {
        old_us = e->usable;
        FZ_EQ(memcmp(p, shadow_of(m, p), old_us), 0);
    }
    ma = max_alloc_now(m);
    allocs = m->allocs;
    frees = m->frees;
    if (in_place_only) {
        tarn_status st = tarn_heap_resize(m->h, p, size);
        FZ_TRACE("  resize(%p, %zu) = %s\n", (void *)p, size, tarn_strerror(st));
        FZ_EQ(m->lock.depth, 0);
        if (p == NULL) { FZ_ST(st, TARN_EINVAL); return; }
        if (ex != TARN_OK) {    /* when the size is bad too, either reason may be given */
            FZ_CHECK(reason_ok(m, p, st, ex) || (size == 0 && st == TARN_EINVAL) ||
                     (size > m->cap && st == TARN_ENOMEM));
            return;
        }
        if (size == 0) { FZ_ST(st, TARN_EINVAL); return; }
        if (st != TARN_OK) {
            /* only growth can fail, and only when the right neighbour cannot give it */
            uint32_t i;
            FZ_ST(st, TARN_ENOMEM);
            FZ_CHECK(size > old_us);
            for (i = 0; i < W.n && W.b[i].p != p; i++) {}
            FZ_CHECK(i < W.n);
            if (i + 1 < W.n && !W.b[i + 1].used) {
                FZ_CHECK(W.b[i].len + W.b[i + 1].len < blk_len(size, e->align));
            }
            return;
        }
        q = p;
    } else {
        q = (unsigned char *)tarn_heap_realloc(m->h, p, size);
        FZ_TRACE("  realloc(%p, %zu) = %p\n", (void *)p, size, (void *)q);
        FZ_EQ(m->lock.depth, 0);
        if (p == NULL) {                        /* = alloc */
            if (q == NULL) {
                FZ_CHECK(!m->guar || size == 0);
                alloc_failed(m, size, ma, size == 0 ? TARN_EINVAL : TARN_OK);
                return;
            }
            note_alloc(m, q, size, GR);
            fill(m, q, tarn_heap_usable_size(m->h, q), (uint32_t)tarn_fuzz_ops);
            return;
        }
        if (ex != TARN_OK) {                    /* rejected: NULL, nothing changed */
            struct tarn_heap_stats st;
            tarn_status le = tarn_heap_last_error(m->h);
            FZ_CHECK(q == NULL);
            /* when the size is bad too, either reason may be given */
            FZ_CHECK(reason_ok(m, p, le, ex) || (size > m->cap && le == TARN_ENOMEM));
            FZ_ST(tarn_heap_stats_get(m->h, &st), TARN_OK);
            /* a realloc that returns NULL is a failed allocation; realloc(p, 0) is a free */
            if (size != 0) FZ_EQ(st.failed_allocs, m->failed + 1u);
            m->failed = st.failed_allocs;
            return;
        }
        if (size == 0) {                        /* = free */
            FZ_CHECK(q == NULL);
            note_free(m, e);
            return;
        }
        if (q == NULL) {
            struct tarn_heap_stats st;
            FZ_CHECK(!m->guar);
            FZ_ST(tarn_heap_last_error(m->h), TARN_ENOMEM);
            FZ_CHECK(size > old_us);            /* a shrink never fails */
            FZ_ST(tarn_heap_stats_get(m->h, &st), TARN_OK);
            FZ_CHECK(st.failed_allocs == m->failed || st.failed_allocs == m->failed + 1u);
            m->failed = st.failed_allocs;
            FZ_EQ(memcmp(p, shadow_of(m, p), old_us), 0);   /* p untouched */
            return;
        }
        if (size <= old_us) FZ_CHECK(q == p);   /* shrinking is done in place */
    }
    /* success: contents kept up to the smaller size, alignment kept */
    keep = size < old_us ? size : old_us;
    FZ_EQ(memcmp(q, shadow_of(m, p), keep), 0);
    FZ_CHECK(TARN_IS_ALIGNED(q, e->align > GR ? e->align : GR));
    if (q != p) {
        size_t align = e->align;
        size_t nus = tarn_heap_usable_size(m->h, q);
        memmove(shadow_of(m, q), shadow_of(m, p), keep);   /* shadow follows the move */
        /* both blocks were live at one moment */
        if (m->used + nus > m->peak) m->peak = m->used + nus;
        note_free(m, e);
        m->frees = frees + 1u;
        m->allocs = allocs;
        e = note_alloc(m, q, size, align);
        FZ_EQ(m->allocs, allocs + 1u);
    } else {
        size_t us = tarn_heap_usable_size(m->h, q);
        FZ_CHECK(usable_ok(us, size));
        m->used = m->used - e->usable + us;
        if (m->used > m->peak) m->peak = m->used;
        m->live_req = m->live_req - e->req + size;
        e->req = size;
        e->usable = us;
    }
    if (e->usable > keep) fill(m, q + keep, e->usable - keep, (uint32_t)tarn_fuzz_ops);
}

static void op_write(model *m, fz_in *in)
{
    lblk *e = pick_live(m, fz_u16(in));
    size_t off = fz_u16(in), len = fz_u8(in) % 32u, j;
    if (!m->ok || e == NULL) return;
    off %= e->usable;
    if (len > e->usable - off) len = e->usable - off;
    for (j = 0; j < len; j++) e->p[off + j] = fz_u8(in);
    memcpy(shadow_of(m, e->p + off), e->p + off, len);
}

static void op_destroy(model *m)
{
    if (!m->ok) {
        if (m->old_h != NULL) FZ_ST(tarn_heap_destroy(m->old_h), TARN_EINVAL);
        FZ_ST(tarn_heap_destroy(NULL), TARN_EINVAL);
        return;
    }
    FZ_ST(tarn_heap_destroy(m->h), TARN_OK);
    FZ_EQ(m->lock.depth, 0);
    m->old_h = m->h;
    m->ok = false;
    forget_all(m);
    check_all(m);
}

/* tarn_heap_size_for: never below the minimum, 0 when too large, and a heap of that size
 * really has room for one request of max_request bytes.  (It is not monotone in its
 * limits - size_for(29, 26, 15) = 1121 > size_for(29, 26, 16) = 999 - because the class
 * split depends on the heap size; every value it gives is still safe, which the
 * guaranteed mode of do_init checks.) */
static void op_size_for(fz_in *in)
{
    static unsigned char tmp[4096 + 64];
    size_t p = fz_u32(in) % 100000u + 1u, r = fz_u32(in) % p + 1u, l = fz_u8(in) % 64u;
    size_t s = tarn_heap_size_for(p, r, l);
    FZ_EQ(tarn_heap_size_for(SIZE_MAX, SIZE_MAX, SIZE_MAX), 0);
    if (s == 0) return;
    FZ_CHECK(s >= TARN_HEAP_MIN_SIZE);
    if (s <= sizeof tmp - 16u) {
        tarn_heap *h = NULL;
        size_t off = fz_u8(in) % 16u;
        FZ_ST(tarn_heap_init(&h, tmp + off, s, NULL), TARN_OK);
        FZ_CHECK(tarn_heap_alloc(h, r) != NULL);
        FZ_ST(tarn_heap_destroy(h), TARN_OK);
    }
}

enum {
    OP_ALLOC, OP_ALLOC2, OP_ALLOC3, OP_CALLOC, OP_ALIGNED, OP_ALLOC_MAX, OP_FREE, OP_FREE2,
    OP_FREE3, OP_REALLOC, OP_REALLOC2, OP_RESIZE, OP_QUERY, OP_WRITE, OP_CHECK, OP_DESTROY,
    OP_INIT, OP_BAD_INIT, OP_SIZE_FOR, OP_COUNT
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fz_in in;
    int k;
    fz_start(&in, data, size);
    for (k = 0; k < NHEAP; k++) {
        M[k].ok = false;
        M[k].old_h = NULL;
        forget_all(&M[k]);
        do_init(&M[k], &in, 0);
    }
    while (!fz_empty(&in)) {
        unsigned b = fz_u8(&in);
        model *m = &M[b & 1u];
        tarn_fuzz_ops++;
        FZ_TRACE("op %u on heap %d\n", (b >> 1) % OP_COUNT, midx(m));
        switch ((b >> 1) % OP_COUNT) {
        case OP_ALLOC: case OP_ALLOC2: case OP_ALLOC3: op_alloc(m, &in, 0); break;
        case OP_CALLOC: op_alloc(m, &in, 1); break;
        case OP_ALIGNED: op_alloc(m, &in, 2); break;
        case OP_ALLOC_MAX: op_alloc_max(m); break;
        case OP_FREE: case OP_FREE2: case OP_FREE3: op_free(m, &in); break;
        case OP_REALLOC: case OP_REALLOC2: op_realloc(m, &in, false); break;
        case OP_RESIZE: op_realloc(m, &in, true); break;
        case OP_QUERY: op_query(m, &in); break;
        case OP_WRITE: op_write(m, &in); break;
        case OP_CHECK: check_all(m); break;
        case OP_DESTROY: op_destroy(m); break;
        case OP_INIT: do_init(m, &in, 0); break;
        case OP_BAD_INIT: do_init(m, &in, 1u + fz_u8(&in) % 5u); break;
        default: op_size_for(&in); break;
        }
    }
    for (k = 0; k < NHEAP; k++) {
        check_all(&M[k]);
        if (M[k].ok) FZ_ST(tarn_heap_destroy(M[k].h), TARN_OK);
        M[k].ok = false;
    }
    return 0;
}
