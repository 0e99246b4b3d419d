/*
 * fuzz/fuzz_handle.c - fuzz target of the handle pool (include/tarn/handle.h).
 *
 * Two pools (table at the start of the buffer, or in a buffer of its own; flags
 * AUTOCOMPACT, SCRAMBLE and, where it is compiled in, the debug quarantine chosen by the
 * input; optional lock hook) are driven by the input: byte b selects the pool (b & 1) and
 * the operation ((b >> 1) % OP_COUNT), its arguments follow.  Sizes count the guard bytes
 * of canary mode (TARN_HANDLE_SPAN).
 *
 * The model holds every live handle with its requested size, lock count and (while
 * locked) its address, a shadow copy of its bytes, the handles freed in this incarnation
 * (with whether their slot was reused since: TARN_EDOUBLE or TARN_ESTALE), handles of an
 * earlier incarnation, the counters of the statistics.  Checked after the calls:
 *   - statuses of every call, including bad handles (null, freed, reused, of the other
 *     pool, of an earlier init, random values), sizes 0 and huge, a free of a locked block,
 *     unlock of an unlocked one, copy into a smaller block, 65535 nested locks;
 *   - contents: every live block keeps its bytes across allocs, frees, resizes (up to the
 *     smaller size), compactions (full and stepwise, interleaved with anything), scrambles;
 *     a locked block never moves, not even when it is resized in place;
 *   - tarn_handle_walk lists exactly the live blocks, in address order, without overlap,
 *     with the gaps adding up; tarn_handle_check; the statistics;
 *   - promises on space: after a full compaction without pins the free space is one region;
 *     with AUTOCOMPACT and no pins an alloc fails only when the free bytes do not suffice;
 *     an alloc (and an unpinned resize) fails with TARN_ENOMEM only when no free region
 *     reaches tarn_handle_fit_bound(size); an alloc of the largest n whose fit bound is at
 *     most stats.largest_free succeeds; a shrink always succeeds in place; fit_bound's own
 *     bounds (>= size rounded up, <= that plus a quarter, SIZE_MAX for 0 and huge);
 *   - compact_step moves at most its budget and ends a pass within a bounded number of
 *     calls; the lock hook is balanced;
 *   - with the quarantine: a freed region stays counted as used and its handle a double
 *     free until it is released, at most TARN_QUARANTINE are held, releases go oldest first
 *     (the model drops its oldest held spans to the pool's count and the used bytes must
 *     still agree), a failed request or a compaction leaves none held.
 */
#include "fuzz_common.h"
#include "tarn/handle.h"

#define NPOOL 2
#define DATA_MAX 8192u
#define MAXH 48u
#define NDEAD 64u
#define BUF_BYTES (TARN_HANDLE_BYTES(DATA_MAX, MAXH) + 64u)
#define QCAP (TARN_QUARANTINE > 0 ? TARN_QUARANTINE : 1)

typedef struct hent {
    bool used;
    uint32_t v;            /* handle value */
    uint32_t size;
    uint32_t locks;
    unsigned char *pin;    /* address while locked */
} hent;

typedef struct dead {
    uint32_t v;
    bool reused;           /* its slot handed out again since it was freed */
} dead;

typedef struct model {
    tarn_handle_pool pool;
    fz_lock lock;
    bool ok;
    unsigned flags;
    uint32_t cap;           /* handles */
    uint32_t data_size;
    unsigned char *data;
    uint32_t nlive, used, requested, pinned;
    uint32_t compactions, failed;
    hent live[MAXH];
    dead dead[NDEAD];
    uint32_t ndead;         /* entries used, ring */
    uint32_t dead_pos;
    uint32_t ancient[NDEAD];
    uint32_t nancient;
    bool quar;              /* the quarantine is on */
    uint32_t qspan[QCAP];   /* spans of the held regions, oldest first */
    uint32_t qn;
    unsigned char shadow[MAXH][DATA_MAX];
} model;

static unsigned char buf[NPOOL][BUF_BYTES] __attribute__((aligned(64)));
static unsigned char tbl[NPOOL][TARN_HANDLE_TABLE_SIZE(MAXH) + 64u] __attribute__((aligned(64)));
static model M[NPOOL];

static int midx(const model *m) { return (int)(m - M); }
static tarn_handle H(uint32_t v) { return tarn_handle_from_u32(v); }
/* Bytes a block of n takes (with its guard bytes in canary mode). */
static uint32_t capof(uint32_t n) { return (uint32_t)TARN_HANDLE_SPAN(n); }
/* Largest size a block may have in a data area of ds bytes. */
static size_t max_size(uint32_t ds) { return (size_t)ds - TARN_HANDLE_GUARD; }
static uint32_t slot_of(uint32_t v) { return v & 0xFFFFu; }

/* Largest size an alloc is sure to get when the largest free region is g bytes (g a
 * multiple of TARN_ALIGN): the lower bound of g's size class, 4 classes per power of two. */
static uint32_t sure_size(uint32_t g)
{
    unsigned f = 0;
    uint32_t x = g;
    while (x >>= 1) f++;
    return g & ~(((uint32_t)1u << (f - 2u)) - 1u);
}

static hent *find_live(model *m, uint32_t v)
{
    uint32_t i;
    for (i = 0; i < MAXH; i++) {
        if (m->live[i].used && m->live[i].v == v) return &m->live[i];
    }
    return NULL;
}

static hent *pick_live(model *m, uint32_t k, int want_locked)
{
    uint32_t i, n = 0;
    for (i = 0; i < MAXH; i++) {
        if (m->live[i].used && (want_locked < 0 || (m->live[i].locks > 0) == (want_locked > 0))) n++;
    }
    if (n == 0) return NULL;
    k %= n;
    for (i = 0; i < MAXH; i++) {
        if (m->live[i].used && (want_locked < 0 || (m->live[i].locks > 0) == (want_locked > 0))) {
            if (k-- == 0) return &m->live[i];
        }
    }
    return NULL;
}

static unsigned char *shadow(model *m, const hent *e) { return m->shadow[e - m->live]; }

/* ---- quarantine ------------------------------------------------------------------------ */
static void q_pop(model *m)
{
    uint32_t i;
    m->used -= m->qspan[0];
    for (i = 1; i < m->qn; i++) m->qspan[i - 1] = m->qspan[i];
    m->qn--;
}

/* A freed block's region is held (still used); a full ring lets its oldest go. */
static void q_hold(model *m, uint32_t size)
{
    if (m->qn == (uint32_t)QCAP) q_pop(m);
    m->qspan[m->qn++] = capof(size);
}

/* The pool releases held regions, oldest first, when a request needs them, and all of
 * them at a compaction: follow its count (the used bytes then show the order was right). */
static void q_sync(model *m)
{
    tarn_handle_stats st;
    if (!m->ok || m->qn == 0) return;
    FZ_ST(tarn_handle_stats_get(&m->pool, &st), TARN_OK);
    FZ_CHECK(st.quarantined <= m->qn);
    while (m->qn > st.quarantined) q_pop(m);
}

/* ---- expected outcome of a handle handed to the pool ------------------------------------ */
enum { X_LIVE, X_DOUBLE, X_STALE, X_FOREIGN, X_NULL, X_ANY };

typedef struct pick {
    uint32_t v;
    int kind;
    hent *e;               /* X_LIVE */
} pick;

static pick pick_handle(model *m, fz_in *in)
{
    const model *o = &M[1 - midx(m)];
    unsigned kind = fz_u8(in) % 10u;
    uint32_t k = fz_u16(in);
    pick p;
    p.e = NULL;
    p.kind = X_ANY;
    p.v = 0;
    switch (kind) {
    case 0: case 1: case 2: case 3: /* live */
        p.e = pick_live(m, k, -1);
        if (p.e != NULL) { p.v = p.e->v; p.kind = X_LIVE; return p; }
        /* fall through */
    case 4: /* freed in this incarnation */
        if (m->ndead > 0) {
            const dead *d = &m->dead[k % m->ndead];
            p.v = d->v;
            p.kind = d->reused ? X_STALE : X_DOUBLE;
            break;
        }
        /* fall through */
    case 5: /* from an earlier init of this pool */
        if (m->nancient > 0) { p.v = m->ancient[k % m->nancient]; break; }
        /* fall through */
    case 6: { /* of the other pool (rejected as foreign, or stale when the tags agree) */
        uint32_t i, n = 0;
        for (i = 0; i < MAXH; i++) n += o->live[i].used;
        if (n > 0 && o->ok) {
            for (i = 0; i < MAXH; i++) {
                if (o->live[i].used && k-- % n == 0) break;
            }
            if (i < MAXH) { p.v = o->live[i].v; p.kind = X_FOREIGN; break; }
        }
    }
        /* fall through */
    case 7: p.v = 0; p.kind = X_NULL; break;
    case 8: p.v = ((uint32_t)fz_u16(in) << 16) | k; break;      /* anything */
    default: p.v = ((uint32_t)fz_u16(in) << 16) | (m->cap + 1u + k % 8u); break; /* no such slot */
    }
    if (!m->ok) {
        p.kind = X_ANY;      /* "fails cleanly with TARN_EINVAL" is checked below */
        p.e = NULL;
        return p;
    }
    /* a value that happens to be live is live */
    if (p.v != 0u && (p.e = find_live(m, p.v)) != NULL) p.kind = X_LIVE;
    return p;
}

/* Check a failure status against the expected kind (free: for_free). */
static void expect_bad(const model *m, const pick *p, tarn_status st, bool for_free)
{
    FZ_CHECK(st != TARN_OK);
    if (!m->ok) { FZ_ST(st, TARN_EINVAL); return; }
    switch (p->kind) {
    case X_NULL: FZ_ST(st, TARN_EINVAL); break;
    case X_DOUBLE: FZ_ST(st, for_free ? TARN_EDOUBLE : TARN_ESTALE); break;
    case X_STALE: FZ_ST(st, TARN_ESTALE); break;
    /* a handle of the other pool that happens to equal one this pool freed (about once
     * in 65,536 when the generations differ, see handle.h) is that handle to this pool:
     * free reports a double free */
    case X_FOREIGN:
        FZ_CHECK(st == TARN_EFOREIGN || st == TARN_ESTALE || (for_free && st == TARN_EDOUBLE));
        break;
    default:
        FZ_CHECK(st == TARN_EFOREIGN || st == TARN_ESTALE || st == TARN_EDOUBLE ||
                 st == TARN_EINVAL);
        break;
    }
    FZ_ST(tarn_handle_last_error(&m->pool), st);
}

/* ---- contents ------------------------------------------------------------------------ */
/* Write bytes into a live block through a lock (user code's only way in). */
static void user_write(model *m, hent *e, uint32_t off, uint32_t len, const uint8_t *src,
                       uint32_t tag)
{
    unsigned char *p = (unsigned char *)tarn_handle_lock(&m->pool, H(e->v));
    uint32_t j;
    FZ_CHECK(p != NULL);
    if (e->locks > 0) FZ_CHECK(p == e->pin);
    if (off >= e->size) off %= e->size;
    if (len > e->size - off) len = e->size - off;
    for (j = 0; j < len; j++) p[off + j] = src ? src[j] : fz_pat(tag, j);
    memcpy(shadow(m, e) + off, p + off, len);
    FZ_ST(tarn_handle_unlock(&m->pool, H(e->v)), TARN_OK);
    FZ_EQ(m->lock.depth, 0);
}

/* ---- walk ------------------------------------------------------------------------------ */
typedef struct walk_out {
    uint32_t n;
    tarn_handle_block b[MAXH + 1];
    int stop_after;
} walk_out;

static bool walk_cb(const tarn_handle_block *b, void *ctx)
{
    walk_out *w = (walk_out *)ctx;
    FZ_CHECK(w->n <= MAXH);
    w->b[w->n++] = *b;
    return w->stop_after < 0 || (int)w->n < w->stop_after;
}

/* Walk and check the layout against the model; returns the number of non-empty free
 * regions and the largest of them (a block in transit makes the count unreliable: -1). */
static int check_walk(model *m, uint32_t *largest)
{
    walk_out w;
    uint32_t i, end = 0, seen = 0, gaps = 0, big = 0;
    bool moving = false;
    q_sync(m);
    w.n = 0;
    w.stop_after = -1;
    FZ_ST(tarn_handle_walk(&m->pool, walk_cb, &w), TARN_OK);
    FZ_EQ(m->lock.depth, 0);
    FZ_EQ(w.n, m->nlive);
    for (i = 0; i < w.n; i++) {
        const tarn_handle_block *b = &w.b[i];
        hent *e = find_live(m, tarn_handle_to_u32(b->handle));
        FZ_CHECK(e != NULL);
        FZ_EQ(b->size, e->size);
        FZ_EQ(b->locks, e->locks);
        FZ_EQ(b->offset % TARN_ALIGN, 0);
        FZ_CHECK(b->offset >= end);                         /* address order, no overlap */
        if (b->offset > end) { gaps++; if (b->offset - end > big) big = (uint32_t)(b->offset - end); }
        if (i > 0 && m->qn == 0) FZ_EQ(w.b[i - 1].gap_after, b->offset - end);
        if (i > 0) FZ_CHECK(w.b[i - 1].gap_after <= b->offset - end); /* a held region may end it */
        end = (uint32_t)b->offset + capof(e->size);
        FZ_CHECK(end <= m->data_size);
        if (e->locks > 0) FZ_CHECK(e->pin == m->data + b->offset);
        if (b->moving) {
            moving = true;
            FZ_EQ(e->locks, 0);
        } else {
            FZ_EQ(memcmp(m->data + b->offset, shadow(m, e), e->size), 0);
        }
        seen++;
    }
    if (w.n > 0 && m->qn == 0) FZ_EQ(w.b[w.n - 1].gap_after, m->data_size - end);
    if (m->data_size > end) { gaps++; if (m->data_size - end > big) big = m->data_size - end; }
    FZ_EQ(seen, m->nlive);
    if (w.n > 1) {     /* a walk stops when the callback says so */
        w.n = 0;
        w.stop_after = 1;
        FZ_ST(tarn_handle_walk(&m->pool, walk_cb, &w), TARN_OK);
        FZ_EQ(w.n, 1);
    }
    *largest = big;
    return (moving || m->qn > 0) ? -1 : (int)gaps; /* held regions look like gaps here */
}

static void check_stats(model *m, tarn_handle_stats *st)
{
    uint32_t i, held = 0;
    q_sync(m);
    FZ_ST(tarn_handle_stats_get(&m->pool, st), TARN_OK);
    for (i = 0; i < m->qn; i++) held += m->qspan[i];
    FZ_EQ(st->quarantined, m->qn);
    FZ_EQ(st->quarantined_bytes, held);
    FZ_EQ(st->capacity, m->data_size);
    FZ_EQ(st->used, m->used);
    FZ_EQ(st->requested, m->requested);
    FZ_EQ(st->free, m->data_size - m->used);
    FZ_CHECK(st->largest_free <= st->free);
    FZ_EQ(st->handles, m->cap);
    FZ_EQ(st->handles_used, m->nlive);
    FZ_EQ(st->pinned, m->pinned);
    if (m->flags & TARN_HANDLE_F_AUTOCOMPACT) FZ_CHECK(st->compactions >= m->compactions);
    else FZ_EQ(st->compactions, m->compactions);
    FZ_EQ(st->failed_allocs, m->failed);
}

static void check_all(model *m)
{
    tarn_handle_stats st;
    uint32_t largest, i;
    if (!m->ok) {
        FZ_ST(tarn_handle_check(&m->pool), TARN_EINVAL);
        FZ_ST(tarn_handle_stats_get(&m->pool, &st), TARN_EINVAL);
        return;
    }
    FZ_ST(tarn_handle_check(&m->pool), TARN_OK);
    check_stats(m, &st);
    (void)check_walk(m, &largest);
    for (i = 0; i < MAXH; i++) {
        hent *e = &m->live[i];
        if (e->used && e->locks > 0) FZ_EQ(memcmp(e->pin, shadow(m, e), e->size), 0);
    }
    FZ_EQ(m->lock.depth, 0);
}

/* ---- init ------------------------------------------------------------------------------ */
static void forget_all(model *m)
{
    uint32_t i;
    for (i = 0; i < MAXH; i++) {
        if (m->live[i].used && m->nancient < NDEAD) m->ancient[m->nancient++] = m->live[i].v;
        m->live[i].used = false;
    }
    for (i = 0; i < m->ndead && m->nancient < NDEAD; i++) m->ancient[m->nancient++] = m->dead[i].v;
    m->ndead = m->dead_pos = 0;
    m->nlive = m->used = m->requested = m->pinned = 0;
    m->qn = 0;
    m->compactions = m->failed = 0;
}

static void do_init(model *m, fz_in *in, unsigned bad)
{
    unsigned f = fz_u8(in);
    uint32_t cap = 1u + fz_below(in, MAXH);
    uint32_t dbytes = TARN_ALIGN * (1u + fz_below(in, DATA_MAX / TARN_ALIGN));
    uint32_t extra = fz_u8(in) % (2u * TARN_ALIGN);      /* a tail shorter than TARN_ALIGN+ */
    bool split = (f & 1u) != 0;
    unsigned char *mem = buf[midx(m)], *table = tbl[midx(m)];
    size_t size, tsize = TARN_HANDLE_TABLE_SIZE(cap), handles = cap;
    tarn_config cfg;
    const tarn_config *cp = &cfg;
    tarn_status ex = TARN_OK, st;

    memset(&cfg, 0, sizeof cfg);
    cfg.flags = (f >> 1) & 3u;
    if (f & 0x20u) cfg.flags |= TARN_F_QUARANTINE; /* ignored where it is compiled out */
    if (f & 8u) cfg.lock = fz_lock_hook(&m->lock);
    cfg.name = (f & 16u) ? "pool" : NULL;
    if ((f & 0xE0u) == 0xE0u) cp = NULL;
    size = split ? (size_t)dbytes + extra : TARN_HANDLE_BYTES(dbytes, cap) + extra;
    switch (bad % 10u) {
    case 1: mem = NULL; ex = TARN_EINVAL; break;
    case 2: handles = (f & 0x40u) ? 0u : TARN_HANDLE_MAX_COUNT + 1u + fz_u8(in); ex = TARN_EINVAL; break;
    case 3: cp = &cfg; cfg.flags |= 4u << (fz_u8(in) % 28u); ex = TARN_EINVAL; break; /* below the common TARN_F_ flags */
    case 4: cp = &cfg; cfg.lock.lock = fz_lock_take; cfg.lock.unlock = NULL; ex = TARN_EINVAL; break;
    case 5: mem += 1u + fz_u8(in) % (TARN_ALIGN - 1u); ex = TARN_EALIGN; break;
    case 6:
        if (split) { tsize -= 1u + fz_u8(in) % 8u; }
        else { size = TARN_HANDLE_TABLE_SPACE(cap) + fz_u8(in) % TARN_ALIGN; }
        ex = TARN_ETOOSMALL;
        break;
    case 7:
        if (split) { table += 1u + fz_u8(in) % 3u; ex = TARN_EALIGN; }
        else { size = fz_u8(in) % TARN_HANDLE_TABLE_SPACE(cap); ex = TARN_ETOOSMALL; }
        break;
    case 8: /* overlapping table and data */
        if (split) { table = mem + 4u * (fz_u16(in) % ((size + 3u) / 4u)); ex = TARN_EINVAL; }
        break;
    case 9: if (split) { size = fz_u8(in) % TARN_ALIGN; ex = TARN_ETOOSMALL; } break;
    default: break;
    }
    {   /* room for one block of 1 byte (more than TARN_ALIGN in canary mode): checked after
         * the arguments and alignment, before overlap, flags and lock hook */
        size_t d = split ? size : (size >= TARN_HANDLE_TABLE_SPACE(cap) ? size - TARN_HANDLE_TABLE_SPACE(cap) : 0u);
        unsigned c = bad % 10u;
        if ((d & ~(size_t)(TARN_ALIGN - 1u)) < TARN_HANDLE_SPAN(1u) &&
            (ex == TARN_OK || c == 3u || c == 4u || c == 8u)) {
            ex = TARN_ETOOSMALL;
        }
    }
    if (m->ok) forget_all(m);
    m->ok = false;
    m->lock.depth = 0;
    if (split) st = tarn_handle_init_split(&m->pool, mem, size, table, tsize, handles, cp);
    else st = tarn_handle_init(&m->pool, mem, size, handles, cp);
    FZ_TRACE("  init(%s, size %zu, handles %zu, flags %#x) = %s\n", split ? "split" : "shared",
             size, handles, cp ? (unsigned)cfg.flags : 0u, tarn_strerror(st));
    FZ_ST(st, ex);
    FZ_EQ(m->lock.depth, 0);
    if (st != TARN_OK) {
        FZ_CHECK(tarn_handle_is_null(tarn_handle_alloc(&m->pool, 8)));
        FZ_ST(tarn_handle_compact(&m->pool) == 0 ? TARN_OK : TARN_ECORRUPT, TARN_OK);
        FZ_CHECK(!tarn_handle_compact_step(&m->pool, 64, NULL));
        check_all(m);
        return;
    }
    m->ok = true;
    m->flags = cp != NULL ? cfg.flags : 0u;
    m->quar = TARN_QUARANTINE > 0 && (m->flags & TARN_F_QUARANTINE) != 0u;
    m->cap = cap;
    m->data = split ? mem : mem + TARN_HANDLE_TABLE_SPACE(cap);
    m->data_size = (uint32_t)((split ? size : size - TARN_HANDLE_TABLE_SPACE(cap)) &
                              ~(size_t)(TARN_ALIGN - 1u));
    FZ_CHECK(tarn_handle_name(&m->pool) == (cp != NULL ? cfg.name : NULL));
    FZ_ST(tarn_handle_last_error(&m->pool), TARN_OK);
    check_all(m);
}

/* ---- operations ------------------------------------------------------------------------- */
static size_t pick_size(model *m, fz_in *in)
{
    unsigned kind = fz_u8(in) % 16u;
    uint32_t r = fz_u16(in);
    uint32_t ds = m->ok ? m->data_size : 64u;
    switch (kind) {
    case 0: case 1: case 2: case 3: case 4: case 5: return 1u + r % 64u;
    case 6: case 7: case 8: return 1u + r % (ds / 4u + 1u);
    case 9: case 10: return 1u + r % ds;
    case 11: return ds - r % 8u > 0 ? ds - r % 8u : 1u;
    case 12: return 0;
    case 13: return (size_t)ds + 1u + r % 64u;
    case 14: return SIZE_MAX - r % 8u;
    default: return (size_t)UINT32_MAX - r % 8u;
    }
}

static void note_alloc(model *m, uint32_t v, size_t size, uint32_t tag)
{
    uint32_t i;
    hent *e = NULL;
    FZ_CHECK(v != 0u);
    FZ_CHECK(find_live(m, v) == NULL);
    FZ_CHECK(slot_of(v) >= 1u && slot_of(v) <= m->cap);
    for (i = 0; i < MAXH && e == NULL; i++) {
        if (!m->live[i].used) e = &m->live[i];
    }
    FZ_CHECK(e != NULL);
    for (i = 0; i < m->ndead; i++) {
        if (slot_of(m->dead[i].v) == slot_of(v)) m->dead[i].reused = true;
    }
    e->used = true;
    e->v = v;
    e->size = (uint32_t)size;
    e->locks = 0;
    e->pin = NULL;
    m->nlive++;
    m->used += capof(e->size);
    m->requested += e->size;
    FZ_ST(tarn_handle_validate(&m->pool, H(v)), TARN_OK);
    FZ_EQ(tarn_handle_size(&m->pool, H(v)), size);
    FZ_EQ(tarn_handle_lock_count(&m->pool, H(v)), 0);
    user_write(m, e, 0, e->size, NULL, tag);
}

static void try_alloc(model *m, size_t size)
{
    tarn_handle h = tarn_handle_alloc(&m->pool, size);
    uint32_t largest;
    int regions;
    FZ_TRACE("  alloc(%zu) = %#x\n", size, (unsigned)tarn_handle_to_u32(h));
    FZ_EQ(m->lock.depth, 0);
    if (!m->ok) {
        FZ_CHECK(tarn_handle_is_null(h));
        return;
    }
    if (size == 0) {
        FZ_CHECK(tarn_handle_is_null(h));
        FZ_ST(tarn_handle_last_error(&m->pool), TARN_EINVAL);
        return;
    }
    if (size > max_size(m->data_size) || m->nlive == m->cap) {
        FZ_CHECK(tarn_handle_is_null(h));
        FZ_ST(tarn_handle_last_error(&m->pool), TARN_ENOMEM);
        m->failed++;
        return;
    }
    if (tarn_handle_is_null(h)) {
        FZ_ST(tarn_handle_last_error(&m->pool), TARN_ENOMEM);
        m->failed++;
        q_sync(m);
        FZ_EQ(m->qn, 0);                /* released everything before giving up */
        /* refused only when no free region is large enough */
        regions = check_walk(m, &largest);
        if (regions >= 0) FZ_CHECK(largest < tarn_handle_fit_bound(size));
        if ((m->flags & TARN_HANDLE_F_AUTOCOMPACT) && m->pinned == 0) {
            FZ_CHECK(capof((uint32_t)size) > m->data_size - m->used);
        }
        return;
    }
    note_alloc(m, tarn_handle_to_u32(h), size, (uint32_t)tarn_fuzz_ops);
}

static void op_alloc(model *m, fz_in *in) { try_alloc(m, pick_size(m, in)); }

/* "an alloc of n bytes is sure to succeed (given a free handle) when
 * tarn_handle_fit_bound(n) <= largest_free": try the largest such n. */
static void op_alloc_largest(model *m)
{
    tarn_handle_stats st;
    tarn_handle h;
    size_t want;
    if (!m->ok || m->nlive == m->cap) return;
    check_stats(m, &st);
    if (st.largest_free == 0 || sure_size((uint32_t)st.largest_free) <= TARN_HANDLE_GUARD) return;
    want = sure_size((uint32_t)st.largest_free) - TARN_HANDLE_GUARD; /* its span: the bound */
    FZ_CHECK(tarn_handle_fit_bound(want) <= st.largest_free);
    FZ_CHECK(tarn_handle_fit_bound(want + TARN_ALIGN) > st.largest_free ||
             capof((uint32_t)want + TARN_ALIGN) > st.largest_free);
    h = tarn_handle_alloc(&m->pool, want);
    FZ_TRACE("  alloc(%zu) = %#x (largest_free %zu)\n", want, (unsigned)tarn_handle_to_u32(h),
             st.largest_free);
    FZ_EQ(m->lock.depth, 0);
    if (tarn_handle_is_null(h)) {
        fprintf(stderr, "alloc of %zu bytes failed with stats.largest_free = %zu (%s)\n", want,
                st.largest_free, tarn_strerror(tarn_handle_last_error(&m->pool)));
        FZ_CHECK(!"an alloc within largest_free's fit bound succeeds");
    }
    note_alloc(m, tarn_handle_to_u32(h), want, (uint32_t)tarn_fuzz_ops);
}

static void op_free(model *m, fz_in *in)
{
    pick p = pick_handle(m, in);
    tarn_status st = tarn_handle_free(&m->pool, H(p.v));
    FZ_TRACE("  free(%#x) = %s\n", (unsigned)p.v, tarn_strerror(st));
    FZ_EQ(m->lock.depth, 0);
    if (p.kind != X_LIVE) { expect_bad(m, &p, st, true); return; }
    if (p.e->locks > 0) {
        FZ_ST(st, TARN_EBUSY);
        FZ_ST(tarn_handle_last_error(&m->pool), TARN_EBUSY);
        return;
    }
    FZ_ST(st, TARN_OK);
    p.e->used = false;
    m->nlive--;
    if (m->quar) q_hold(m, p.e->size);   /* still used until released */
    else m->used -= capof(p.e->size);
    m->requested -= p.e->size;
    m->dead[m->dead_pos].v = p.v;
    m->dead[m->dead_pos].reused = false;
    m->dead_pos = (m->dead_pos + 1u) % NDEAD;
    if (m->ndead < NDEAD) m->ndead++;
    FZ_ST(tarn_handle_validate(&m->pool, H(p.v)), TARN_ESTALE);
    FZ_ST(tarn_handle_free(&m->pool, H(p.v)), TARN_EDOUBLE);
}

static void op_lock(model *m, fz_in *in)
{
    pick p = pick_handle(m, in);
    unsigned char *ptr = (unsigned char *)tarn_handle_lock(&m->pool, H(p.v));
    FZ_EQ(m->lock.depth, 0);
    if (p.kind != X_LIVE) {
        FZ_CHECK(ptr == NULL);
        if (m->ok) expect_bad(m, &p, tarn_handle_last_error(&m->pool), false);
        return;
    }
    FZ_CHECK(ptr != NULL && TARN_IS_ALIGNED(ptr, TARN_ALIGN));
    FZ_CHECK(ptr >= m->data && ptr + p.e->size <= m->data + m->data_size);
    if (p.e->locks > 0) FZ_CHECK(ptr == p.e->pin);
    FZ_EQ(memcmp(ptr, shadow(m, p.e), p.e->size), 0);
    if (p.e->locks++ == 0) m->pinned++;
    p.e->pin = ptr;
    FZ_EQ(tarn_handle_lock_count(&m->pool, H(p.v)), p.e->locks);
}

static void op_unlock(model *m, fz_in *in)
{
    pick p = pick_handle(m, in);
    tarn_status st;
    if (fz_u8(in) & 1u) {           /* prefer a locked block */
        hent *e = pick_live(m, fz_u8(in), 1);
        if (e != NULL) { p.kind = X_LIVE; p.e = e; p.v = e->v; }
    }
    st = tarn_handle_unlock(&m->pool, H(p.v));
    FZ_EQ(m->lock.depth, 0);
    if (p.kind != X_LIVE) { expect_bad(m, &p, st, false); return; }
    if (p.e->locks == 0) {
        FZ_ST(st, TARN_EINVAL);
        FZ_ST(tarn_handle_last_error(&m->pool), TARN_EINVAL);
        return;
    }
    FZ_ST(st, TARN_OK);
    if (--p.e->locks == 0) {
        m->pinned--;
        p.e->pin = NULL;
    }
}

/* 65535 nested locks, then TARN_EOVERFLOW with the count unchanged; undone again.  Costs
 * 131072 calls: at most once per input, and only behind a 16-bit key. */
static bool lock_max_done;
static void op_lock_max(model *m, fz_in *in)
{
    hent *e = pick_live(m, fz_u8(in), 0);
    unsigned char *first;
    uint32_t i;
    if (fz_u16(in) != 0xF00Du || lock_max_done) return;
    lock_max_done = true;
    if (!m->ok || e == NULL || (m->flags & TARN_HANDLE_F_SCRAMBLE)) return;
    first = (unsigned char *)tarn_handle_lock(&m->pool, H(e->v));
    FZ_CHECK(first != NULL);
    for (i = 1; i < 65535u; i++) FZ_CHECK(tarn_handle_lock(&m->pool, H(e->v)) == first);
    FZ_CHECK(tarn_handle_lock(&m->pool, H(e->v)) == NULL);
    FZ_ST(tarn_handle_last_error(&m->pool), TARN_EOVERFLOW);
    FZ_EQ(tarn_handle_lock_count(&m->pool, H(e->v)), 65535u);
    for (i = 0; i < 65535u; i++) FZ_ST(tarn_handle_unlock(&m->pool, H(e->v)), TARN_OK);
    FZ_ST(tarn_handle_unlock(&m->pool, H(e->v)), TARN_EINVAL);
    FZ_EQ(m->lock.depth, 0);
}

static void op_write(model *m, fz_in *in)
{
    hent *e = pick_live(m, fz_u16(in), -1);
    uint32_t off = fz_u16(in), len = fz_u8(in) % 32u, j;
    uint8_t bytes[32];
    if (!m->ok || e == NULL) return;
    /* gcc 12 at -O3 reports a false -Wstringop-overflow on this vectorised loop */
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wstringop-overflow"
#endif
    for (j = 0; j < len; j++) bytes[j] = fz_u8(in);
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif
    user_write(m, e, off, len, bytes, 0);
}

static void op_resize(model *m, fz_in *in)
{
    pick p = pick_handle(m, in);
    size_t size = pick_size(m, in);
    uint32_t old;
    tarn_status st = tarn_handle_resize(&m->pool, H(p.v), size);
    FZ_TRACE("  resize(%#x, %zu) = %s\n", (unsigned)p.v, size, tarn_strerror(st));
    FZ_EQ(m->lock.depth, 0);
    if (p.kind != X_LIVE) { expect_bad(m, &p, st, false); return; }
    if (size == 0) { FZ_ST(st, TARN_EINVAL); return; }
    if (size > max_size(m->data_size)) { FZ_ST(st, TARN_ENOMEM); return; }
    old = p.e->size;
    if (capof((uint32_t)size) <= capof(old)) FZ_ST(st, TARN_OK);   /* a shrink always fits */
    q_sync(m);
    if (st != TARN_OK) {
        uint32_t largest;
        FZ_EQ(m->qn, 0);                /* released everything before giving up */
        FZ_ST(st, p.e->locks > 0 ? TARN_EBUSY : TARN_ENOMEM);
        FZ_ST(tarn_handle_last_error(&m->pool), st);
        /* a moving resize is sure to find a region of the fit bound */
        if (p.e->locks == 0 && check_walk(m, &largest) >= 0) {
            FZ_CHECK(largest < tarn_handle_fit_bound(size));
        }
        return;
    }
    FZ_EQ(tarn_handle_size(&m->pool, H(p.v)), size);
    m->used = m->used - capof(old) + capof((uint32_t)size);
    m->requested = m->requested - old + (uint32_t)size;
    p.e->size = (uint32_t)size;
    if (p.e->locks > 0) {
        /* a pinned block stays put: its pointer is still good */
        FZ_EQ(memcmp(p.e->pin, shadow(m, p.e), size < old ? size : old), 0);
    }
    if (size > old) user_write(m, p.e, old, (uint32_t)size - old, NULL, (uint32_t)tarn_fuzz_ops);
}

static void op_copy(model *m, fz_in *in)
{
    pick d = pick_handle(m, in), s = pick_handle(m, in);
    tarn_status st = tarn_handle_copy(&m->pool, H(d.v), H(s.v));
    FZ_EQ(m->lock.depth, 0);
    if (d.kind != X_LIVE || s.kind != X_LIVE) {
        FZ_CHECK(st != TARN_OK);
        if (!m->ok) FZ_ST(st, TARN_EINVAL);
        return;
    }
    if (d.e == s.e) { FZ_ST(st, TARN_OK); return; }
    if (d.e->size < s.e->size) {
        FZ_ST(st, TARN_ERANGE);
        FZ_ST(tarn_handle_last_error(&m->pool), TARN_ERANGE);
        return;
    }
    FZ_ST(st, TARN_OK);
    memcpy(shadow(m, d.e), shadow(m, s.e), s.e->size);
}

static void op_clear(model *m, fz_in *in)
{
    pick p = pick_handle(m, in);
    tarn_status st = tarn_handle_clear(&m->pool, H(p.v));
    FZ_EQ(m->lock.depth, 0);
    if (p.kind != X_LIVE) { expect_bad(m, &p, st, false); return; }
    FZ_ST(st, TARN_OK);
    memset(shadow(m, p.e), 0, p.e->size);
}

static void check_fit_bound(size_t size)
{
    size_t fb = tarn_handle_fit_bound(size);
    uint64_t cap = ((uint64_t)size + TARN_HANDLE_GUARD + TARN_ALIGN - 1u) & ~(uint64_t)(TARN_ALIGN - 1u);
    if (size == 0 || size > TARN_HANDLE_MAX_DATA - TARN_HANDLE_GUARD) { FZ_CHECK(fb == SIZE_MAX); return; }
    if (fb == SIZE_MAX) { FZ_CHECK(cap + cap / 4u > (uint64_t)UINT32_MAX - TARN_ALIGN); return; }
    FZ_CHECK((uint64_t)fb >= cap && (uint64_t)fb <= cap + cap / 4u && fb % TARN_ALIGN == 0);
    FZ_CHECK(tarn_handle_fit_bound(fb - TARN_HANDLE_GUARD) == fb); /* a class bound is its own bound */
}

static void op_query(model *m, fz_in *in)
{
    pick p = pick_handle(m, in);
    tarn_status st = tarn_handle_validate(&m->pool, H(p.v));
    size_t sz = tarn_handle_size(&m->pool, H(p.v));
    unsigned lc = tarn_handle_lock_count(&m->pool, H(p.v));
    FZ_EQ(m->lock.depth, 0);
    check_fit_bound(pick_size(m, in));
    if (p.kind != X_LIVE) {
        expect_bad(m, &p, st, false);
        FZ_EQ(sz, 0);
        FZ_EQ(lc, 0);
        return;
    }
    FZ_ST(st, TARN_OK);
    FZ_EQ(sz, p.e->size);
    FZ_EQ(lc, p.e->locks);
}

/* No pins: the free space is one region at the end. */
static void check_packed(model *m)
{
    tarn_handle_stats st;
    uint32_t largest;
    if (m->pinned != 0) return;
    check_stats(m, &st);
    if (m->qn != 0) return;             /* compact_step leaves held regions in place */
    FZ_EQ(st.largest_free, st.free);
    FZ_CHECK(check_walk(m, &largest) <= 1);
    FZ_EQ(largest, m->data_size - m->used);
}

static void op_compact(model *m)
{
    size_t moved = tarn_handle_compact(&m->pool);
    FZ_TRACE("  compact() = %zu (used %u)\n", moved, (unsigned)m->used);
    FZ_EQ(m->lock.depth, 0);
    if (!m->ok) { FZ_EQ(moved, 0); return; }
    q_sync(m);
    FZ_EQ(m->qn, 0);                    /* a compaction releases every held region */
    /* every block moves once at most, the one a compact_step left half-moved twice */
    FZ_CHECK(moved <= 2u * m->used);
    m->compactions++;
    check_packed(m);
}

static void op_step(model *m, fz_in *in, bool to_end)
{
    size_t budget = fz_u8(in) % 4u == 0 ? 0u : 1u + fz_u16(in) % 2048u, moved = 1;
    uint32_t calls = 0, limit;
    bool done;
    if (!m->ok) {
        FZ_CHECK(!tarn_handle_compact_step(&m->pool, budget, &moved));
        return;
    }
    /* a pass visits every block once (held regions of the quarantine too: it passes over
     * them as over pinned blocks) and moves at most all the data; every call but the last
     * visits a block or moves min(budget', the rest of a block) bytes, where budget' is
     * what is left of the budget once a move has been paid for */
    {
        size_t net = budget > TARN_HANDLE_STEP_MOVE_COST ? budget - TARN_HANDLE_STEP_MOVE_COST : budget;
        tarn_handle_stats st;
        FZ_ST(tarn_handle_stats_get(&m->pool, &st), TARN_OK);
        limit = 4u + m->data_size / (uint32_t)(net ? net : 1u) +
                2u * (m->nlive + (uint32_t)st.quarantined + 2u);
    }
    do {
        done = tarn_handle_compact_step(&m->pool, budget, &moved);
        FZ_TRACE("  compact_step(%zu) = %d, moved %zu\n", budget, (int)done, moved);
        FZ_EQ(m->lock.depth, 0);
        FZ_CHECK(moved <= budget);
        if (budget == 0) { FZ_CHECK(!done); return; }
        FZ_CHECK(++calls <= limit);
    } while (to_end && !done);
    if (to_end) {
        /* a second, uninterrupted pass leaves no hole behind when nothing is pinned */
        calls = 0;
        do {
            done = tarn_handle_compact_step(&m->pool, budget, &moved);
            FZ_CHECK(moved <= budget);
            FZ_CHECK(++calls <= limit);
        } while (!done);
        check_packed(m);
    }
}

static void op_deinit(model *m)
{
    tarn_status st = tarn_handle_deinit(&m->pool);
    FZ_EQ(m->lock.depth, 0);
    if (!m->ok) { FZ_ST(st, TARN_EINVAL); return; }
    if (m->pinned > 0) {
        FZ_ST(st, TARN_EBUSY);
        check_all(m);
        return;
    }
    FZ_ST(st, TARN_OK);
    forget_all(m);
    m->ok = false;
    FZ_ST(tarn_handle_deinit(&m->pool), TARN_EINVAL);
    check_all(m);
}

enum {
    OP_ALLOC, OP_ALLOC2, OP_ALLOC3, OP_ALLOC_LARGEST, OP_FREE, OP_FREE2, OP_LOCK, OP_UNLOCK,
    OP_WRITE, OP_RESIZE, OP_COPY, OP_CLEAR, OP_QUERY, OP_COMPACT, OP_STEP, OP_STEP_ALL,
    OP_CHECK, OP_DEINIT, OP_INIT, OP_BAD_INIT, OP_LOCK_MAX, OP_COUNT
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fz_in in;
    int k;
    fz_start(&in, data, size);
    lock_max_done = false;
    for (k = 0; k < NPOOL; k++) {
        memset(&M[k].live, 0, sizeof M[k].live);
        M[k].ok = false;
        M[k].nancient = 0;
        forget_all(&M[k]);
        M[k].nancient = 0;
        do_init(&M[k], &in, 0);
    }
    while (!fz_empty(&in)) {
        unsigned b = fz_u8(&in);
        model *m = &M[b & 1u];
        tarn_fuzz_ops++;
        FZ_TRACE("op %u on pool %d\n", (b >> 1) % OP_COUNT, midx(m));
        switch ((b >> 1) % OP_COUNT) {
        case OP_ALLOC: case OP_ALLOC2: case OP_ALLOC3: op_alloc(m, &in); break;
        case OP_ALLOC_LARGEST: op_alloc_largest(m); break;
        case OP_FREE: case OP_FREE2: op_free(m, &in); break;
        case OP_LOCK: op_lock(m, &in); break;
        case OP_UNLOCK: op_unlock(m, &in); break;
        case OP_WRITE: op_write(m, &in); break;
        case OP_RESIZE: op_resize(m, &in); break;
        case OP_COPY: op_copy(m, &in); break;
        case OP_CLEAR: op_clear(m, &in); break;
        case OP_QUERY: op_query(m, &in); break;
        case OP_COMPACT: op_compact(m); break;
        case OP_STEP: op_step(m, &in, false); break;
        case OP_STEP_ALL: op_step(m, &in, true); break;
        case OP_CHECK: check_all(m); break;
        case OP_DEINIT: op_deinit(m); break;
        case OP_INIT: do_init(m, &in, 0); break;
        case OP_BAD_INIT: do_init(m, &in, 1u + fz_u8(&in) % 9u); break;
        default: op_lock_max(m, &in); break;
        }
    }
    for (k = 0; k < NPOOL; k++) {
        uint32_t i;
        check_all(&M[k]);
        /* undo every lock, then the pool must let go of its buffer */
        for (i = 0; M[k].ok && i < MAXH; i++) {
            hent *e = &M[k].live[i];
            while (e->used && e->locks > 0) {
                FZ_ST(tarn_handle_unlock(&M[k].pool, H(e->v)), TARN_OK);
                if (--e->locks == 0) M[k].pinned--;
            }
        }
        if (M[k].ok) {
            check_all(&M[k]);
            FZ_ST(tarn_handle_deinit(&M[k].pool), TARN_OK);
            M[k].ok = false;
        }
    }
    return 0;
}
