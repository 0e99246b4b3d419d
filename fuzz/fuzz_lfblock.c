/*
 * fuzz/fuzz_lfblock.c - fuzz target of the lock-free block pool (include/tarn/lfblock.h),
 * single-threaded: the interleavings are the business of the concurrency tests and the
 * spin model; this target checks every result of a sequential history.
 *
 * Two pools (each over its own region of a static arena, slack around it) are driven by
 * the input: byte b selects the pool (b & 1) and the operation ((b >> 1) % OP_COUNT), its
 * arguments follow.
 *
 * The model is exact: lfblock.h says a get returns the top of the free list, a stack,
 * and when it is empty a never-used block while any remain (carved in index order), so
 * the watermark is count - carve, compared with the model's; with the debug
 * quarantine (TARN_QUARANTINE > 0, chosen at init) a put block is held in a ring of
 * slots, pushing out (freeing) the block in its slot, and a get on an empty pool takes the
 * oldest held block.  It also keeps
 * a shadow copy of every block handed out: the pool keeps its state outside the blocks,
 * so not a single byte of a live block may change, whatever the user stored in it.
 * Checked: statuses (double put, never-used block, interior, neighbour and foreign
 * pointers, NULL; bad init parameters: NULL, size 0, half a lock hook, misaligned,
 * too small, block size of 4 GiB and more), the block count derived from the buffer size,
 * the statistics, tarn_lfblock_check, owns/index, the last error, the lock hook (used only
 * in the fallback build, where it is required).
 */
#include "fuzz_common.h"
#include "tarn/lfblock.h"

#define NPOOL 2
#define REGION 12288u
#define MAX_COUNT 1024u
#define SLACK 256u

enum { B_NEVER = 0, B_FREE, B_LIVE, B_HELD };

#if TARN_QUARANTINE > 0
#define QCAP ((uint32_t)TARN_QUARANTINE)
#else
#define QCAP 1u
#endif

typedef struct model {
    tarn_lfblock_pool pool;
    fz_lock lock;
    bool ok;
    unsigned char *mem;
    unsigned char *base;      /* first block */
    size_t bs;
    uint32_t count;
    uint32_t carve;           /* blocks [carve, count) never handed out */
    uint32_t stack[MAX_COUNT];
    uint32_t depth;           /* free-list stack */
    uint32_t nfree, min_free, failed;
    bool q;                   /* debug quarantine on (TARN_F_QUARANTINE) */
    uint32_t qslot[QCAP];     /* ring: index + 1 of a held block, 0 = empty */
    uint32_t qnext, held;     /* ring cursor, blocks held */
    tarn_status last;
    unsigned char state[MAX_COUNT];
    unsigned char shadow[REGION];
} model;

static unsigned char arena[NPOOL][SLACK + REGION + SLACK] __attribute__((aligned(64)));
static model M[NPOOL];
static const size_t sizes[] = {1, 3, 4, 7, 8, 9, 12, 16, 24, 33, 64, 100, 256, 1000};
#define NSIZES (sizeof sizes / sizeof sizes[0])

static int midx(const model *m) { return (int)(m - M); }
static unsigned char *blk(const model *m, uint32_t i) { return m->base + (size_t)i * m->bs; }
/* bytes of a block the user may touch (all but the guard in canary mode) */
#define USABLE(m) ((m)->bs - TARN_LFBLOCK_GUARD)


static void check_all(model *m)
{
    tarn_lfblock_stats st;
    uint32_t i;
    FZ_ST(tarn_lfblock_check(&m->pool), TARN_OK);
    FZ_ST(tarn_lfblock_stats_get(&m->pool, &st), TARN_OK);
    FZ_EQ(m->lock.depth, 0);
    FZ_EQ(tarn_lfblock_count(&m->pool), m->count);
    FZ_EQ(st.count, m->count);
    FZ_EQ(st.lock_free, TARN_LFBLOCK_LOCK_FREE);
    FZ_ST(tarn_lfblock_last_error(&m->pool), m->last);
    if (!m->ok) return;
    FZ_EQ(st.block_size, m->bs - TARN_LFBLOCK_GUARD);
    FZ_EQ(st.free, m->nfree);
    FZ_EQ(st.min_free, m->min_free);
#if TARN_STATS
    FZ_EQ(st.held, m->held);
    FZ_EQ(st.failed_gets, m->failed);
#endif
    if (TARN_LFBLOCK_LOCK_FREE) FZ_CHECK(st.tag_bits >= 16u);
    for (i = 0; i < m->count; i++) {
        if (m->state[i] == B_LIVE) {
            FZ_EQ(memcmp(blk(m, i), m->shadow + (size_t)i * m->bs, USABLE(m)), 0);
        }
    }
}

/* Buffer bytes for n blocks of true size bs (a TARN_LFBLOCK_SIZE already). */
#define POOL_BYTES_BS(n, bs) (TARN_LFBLOCK_META_BYTES(n) + (size_t)(n) * (bs))

/* N as large as fits: state words (4 per block, rounded up) and the blocks. */
static uint32_t count_for(size_t mem_size, size_t bs)
{
    size_t n = mem_size / bs;
    while (n > 0 && POOL_BYTES_BS(n, bs) > mem_size) n--;
    if (n > TARN_LFBLOCK_MAX_COUNT) n = TARN_LFBLOCK_MAX_COUNT;
    if (n > (size_t)UINT32_MAX / bs) n = (size_t)UINT32_MAX / bs;
    return (uint32_t)n;
}

static void do_init(model *m, fz_in *in, unsigned bad)
{
    static const size_t huge[] = {(size_t)UINT32_MAX, (size_t)UINT32_MAX - TARN_ALIGN + 2u,
                                  SIZE_MAX, (size_t)UINT32_MAX - TARN_ALIGN + 1u};
    size_t req = sizes[fz_u8(in) % NSIZES], bs = TARN_LFBLOCK_SIZE(req);
    unsigned f = fz_u8(in);
    size_t mem_size = TARN_LFBLOCK_MIN_SIZE(req) + fz_below(in, REGION - TARN_LFBLOCK_MIN_SIZE(req) + 1u);
    unsigned char *mem = arena[midx(m)] + SLACK;
    tarn_config cfg;
    const tarn_config *cp = &cfg;
    tarn_status ex = TARN_OK, st;
    uint32_t n;

    memset(&cfg, 0, sizeof cfg);
    if ((f & 1u) || !TARN_LFBLOCK_LOCK_FREE) cfg.lock = fz_lock_hook(&m->lock);
    cfg.name = (f & 2u) ? "isr-pool" : NULL;
    if (TARN_QUARANTINE > 0 && (f & 8u)) cfg.flags = TARN_F_QUARANTINE;
    if ((f & 4u) && TARN_LFBLOCK_LOCK_FREE) cp = NULL;
    n = count_for(mem_size, bs);
    if (n > MAX_COUNT) {            /* the model's limit */
        mem_size = POOL_BYTES_BS(MAX_COUNT, bs);
        n = count_for(mem_size, bs);
    }
    switch (bad % 8u) {
    case 1: mem = NULL; ex = TARN_EINVAL; break;
    case 2: req = 0; ex = TARN_EINVAL; break;
    case 3: cp = &cfg; cfg.lock.lock = fz_lock_take; cfg.lock.unlock = NULL; ex = TARN_EINVAL; break;
    case 4: mem += 1u + fz_u8(in) % (TARN_ALIGN - 1u); ex = TARN_EALIGN; break;
    case 5:
        req = huge[fz_u8(in) % (sizeof huge / sizeof huge[0])];
        ex = (req > (size_t)UINT32_MAX - (TARN_ALIGN - 1u)) ? TARN_EOVERFLOW : TARN_ETOOSMALL;
        break;
    case 6: mem_size = fz_u8(in) % TARN_LFBLOCK_MIN_SIZE(req); ex = TARN_ETOOSMALL; break;
    case 7:
        if (!TARN_LFBLOCK_LOCK_FREE) { cp = NULL; ex = TARN_EINVAL; }   /* the hook is required */
        break;
    default: break;
    }
    m->ok = false;
    m->lock.depth = 0;
    st = tarn_lfblock_init(&m->pool, mem, mem_size, req, cp);
    FZ_ST(st, ex);
    FZ_EQ(m->lock.depth, 0);
    m->last = st;
    m->count = 0;
    if (st != TARN_OK) {
        /* left empty: every get returns NULL and every put fails cleanly */
        FZ_CHECK(tarn_lfblock_get(&m->pool) == NULL);
        FZ_ST(tarn_lfblock_last_error(&m->pool), TARN_ENOMEM);
        FZ_CHECK(tarn_lfblock_put(&m->pool, arena[midx(m)] + SLACK) != TARN_OK);
        FZ_CHECK(!tarn_lfblock_owns(&m->pool, arena[midx(m)] + SLACK));
        FZ_EQ(tarn_lfblock_count(&m->pool), 0);
        m->last = tarn_lfblock_last_error(&m->pool);
        check_all(m);
        return;
    }
    m->ok = true;
    m->mem = mem;
    m->bs = bs;
    m->count = n;
    m->base = mem + TARN_LFBLOCK_META_BYTES(n);
    m->carve = 0;
    m->depth = 0;
    m->nfree = m->min_free = n;
    m->failed = 0;
    m->q = cp != NULL && (cfg.flags & TARN_F_QUARANTINE) != 0u;
    memset(m->qslot, 0, sizeof m->qslot);
    m->qnext = m->held = 0;
    memset(m->state, B_NEVER, sizeof m->state);
    FZ_EQ(tarn_lfblock_size(&m->pool), bs - TARN_LFBLOCK_GUARD);
    FZ_CHECK(tarn_lfblock_name(&m->pool) == (cp != NULL ? cfg.name : NULL));
    FZ_EQ(tarn_lfblock_index(&m->pool, m->base), 0);     /* blocks follow the state words */
    check_all(m);
}

/* The oldest held block (the first found from the ring cursor on), taken out of the
 * ring; -1 when none is held. */
static long take_held(model *m)
{
    uint32_t k;
    for (k = 0; k < QCAP; k++) {
        uint32_t s = (m->qnext + k) % QCAP, v = m->qslot[s];
        if (v != 0u) {
            m->qslot[s] = 0u;
            m->held--;
            return (long)(v - 1u);
        }
    }
    return -1;
}

/* Block i is freed: on top of the free-list stack. */
static void model_free(model *m, uint32_t i)
{
    m->state[i] = B_FREE;
    m->stack[m->depth++] = i;
    m->nfree++;
}

static void op_get(model *m, fz_in *in)
{
    unsigned char *p = (unsigned char *)tarn_lfblock_get(&m->pool);
    uint32_t i, j;
    long h = -1;
    FZ_EQ(m->lock.depth, 0);
    if (m->ok && m->nfree == 0 && m->q) h = take_held(m);   /* rather than fail */
    if (!m->ok || (m->nfree == 0 && h < 0)) {
        FZ_CHECK(p == NULL);
        m->last = TARN_ENOMEM;
        FZ_ST(tarn_lfblock_last_error(&m->pool), TARN_ENOMEM);
        if (m->ok) m->failed++;
        return;
    }
    /* the top of the stack, else a never-used block while any remain, else a held one */
    if (h >= 0) {
        i = (uint32_t)h;
        FZ_CHECK(m->state[i] == B_HELD);
    } else {
        i = m->depth > 0 ? m->stack[--m->depth] : m->carve++;
        FZ_CHECK(m->state[i] != B_LIVE && m->state[i] != B_HELD);
        if (--m->nfree < m->min_free) m->min_free = m->nfree;
    }
    FZ_CHECK(p == blk(m, i));
    m->state[i] = B_LIVE;
    /* the user may store anything, the pool's state is elsewhere */
    fz_fill(p, USABLE(m), (uint32_t)tarn_fuzz_ops);
    for (j = 0; j < USABLE(m) && j < 16u; j++) p[j] = fz_u8(in);
    memcpy(m->shadow + (size_t)i * m->bs, p, USABLE(m));
}

/* An address to hand back and what put/validate must say. */
static void *pick_addr(model *m, fz_in *in, tarn_status *ex, long *idx)
{
    static unsigned char far_away[16];
    const model *o = &M[1 - midx(m)];
    unsigned kind = fz_u8(in) % 9u;
    uint32_t k = fz_u16(in);
    long i;
    *idx = -1;
    if (!m->ok) {
        if (kind == 6) { *ex = TARN_EINVAL; return NULL; }
        *ex = TARN_EFOREIGN;
        return arena[midx(m)] + k % sizeof arena[0];
    }
    switch (kind) {
    case 0: case 1:
        i = fz_pick_state(m->state, m->count, 1u << B_LIVE, k);
        if (i >= 0) { *ex = TARN_OK; *idx = i; return blk(m, (uint32_t)i); }
        /* fall through */
    case 2:
        i = fz_pick_state(m->state, m->count, (1u << B_NEVER) | (1u << B_FREE) | (1u << B_HELD), k);
        if (i >= 0) { *ex = TARN_EDOUBLE; return blk(m, (uint32_t)i); }
        /* fall through */
    case 3:
        if (m->bs > 1u) {
            *ex = TARN_EFOREIGN;
            return blk(m, k % m->count) + 1u + (k >> 8) % (m->bs - 1u);
        }
        /* fall through */
    case 4: /* the state words, or just before the pool */
        *ex = TARN_EFOREIGN;
        return m->base - 1u - k % (SLACK + (size_t)(m->base - m->mem));
    case 5:
        *ex = TARN_EFOREIGN;
        return blk(m, m->count) + k % SLACK;
    case 6: *ex = TARN_EINVAL; return NULL;
    case 7:
        *ex = TARN_EFOREIGN;
        return o->ok ? blk(o, k % o->count) : (void *)arena[1 - midx(m)];
    default: *ex = TARN_EFOREIGN; return far_away + k % sizeof far_away;
    }
}

static void op_put(model *m, fz_in *in, bool validate)
{
    tarn_status ex, st;
    long i;
    void *p = pick_addr(m, in, &ex, &i);
#if TARN_CHECK_LEVEL == 0
    if (ex != TARN_OK && p != NULL) return;
#endif
    if (i >= 0) FZ_EQ(memcmp(p, m->shadow + (size_t)i * m->bs, USABLE(m)), 0);
    st = validate ? tarn_lfblock_validate(&m->pool, p) : tarn_lfblock_put(&m->pool, p);
    FZ_EQ(m->lock.depth, 0);
    FZ_ST(st, ex);
    if (st != TARN_OK) {
        if (!validate) m->last = st;
        FZ_ST(tarn_lfblock_last_error(&m->pool), m->last);
        return;
    }
    if (validate) return;
    if (m->q) {                  /* held; the block in its slot before is freed */
        uint32_t s = m->qnext++ % QCAP, out = m->qslot[s];
        m->state[i] = B_HELD;
        m->qslot[s] = (uint32_t)i + 1u;
        if (out != 0u) {
            model_free(m, out - 1u);
        } else {
            m->held++;
        }
        return;
    }
    model_free(m, (uint32_t)i);
}

/* Flush: every held block freed, oldest first. */
static void op_flush(model *m)
{
    long i;
    FZ_ST(tarn_lfblock_quarantine_flush(&m->pool), TARN_OK);
    FZ_EQ(m->lock.depth, 0);
    if (!m->ok) return;
    while ((i = take_held(m)) >= 0) model_free(m, (uint32_t)i);
}

static void op_owns(model *m, fz_in *in)
{
    size_t span = (size_t)m->count * m->bs;
    long off = fz_offset_around(in, span, SLACK);
    FZ_CHECK_OWNS(tarn_lfblock, &m->pool, m->ok, m->base, arena[midx(m)] + SLACK, off, span, m->bs);
}

static void op_write(model *m, fz_in *in)
{
    long i = fz_pick_state(m->state, m->count, 1u << B_LIVE, fz_u16(in));
    size_t off = fz_u16(in), len = fz_u8(in) % 24u, j;
    unsigned char *b;
    if (!m->ok || i < 0) return;
    b = blk(m, (uint32_t)i);
    off %= USABLE(m);
    if (len > USABLE(m) - off) len = USABLE(m) - off;
    for (j = 0; j < len; j++) b[off + j] = fz_u8(in);
    memcpy(m->shadow + (size_t)i * m->bs + off, b + off, len);
}

enum { OP_GET, OP_GET2, OP_PUT, OP_PUT2, OP_VALIDATE, OP_OWNS, OP_WRITE, OP_CHECK,
       OP_INIT, OP_BAD_INIT, OP_FLUSH, OP_COUNT };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fz_in in;
    int k;
    fz_start(&in, data, size);
    for (k = 0; k < NPOOL; k++) do_init(&M[k], &in, 0);
    while (!fz_empty(&in)) {
        unsigned b = fz_u8(&in);
        model *m = &M[b & 1u];
        tarn_fuzz_ops++;
        switch ((b >> 1) % OP_COUNT) {
        case OP_GET: case OP_GET2: op_get(m, &in); break;
        case OP_PUT: case OP_PUT2: op_put(m, &in, false); break;
        case OP_VALIDATE: op_put(m, &in, true); break;
        case OP_OWNS: op_owns(m, &in); break;
        case OP_WRITE: op_write(m, &in); break;
        case OP_CHECK: check_all(m); break;
        case OP_INIT: do_init(m, &in, 0); break;
        case OP_FLUSH: op_flush(m); break;
        default: do_init(m, &in, 1u + fz_u8(&in) % 7u); break;
        }
    }
    for (k = 0; k < NPOOL; k++) check_all(&M[k]);
    return 0;
}
