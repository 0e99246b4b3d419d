/*
 * fuzz/fuzz_block.c - fuzz target of the block pool (include/tarn/block.h).
 *
 * Two pools (each in its own region of a static arena, with slack bytes around it for
 * pointers just outside) and two registries are driven by the input:
 *
 *   header   per pool: size index, count, spare bytes, flags (lock hook, name)
 *   then     one operation per step: byte b selects the pool (b & 1) and the operation
 *            ((b >> 1) % OP_COUNT); its arguments follow.
 *
 * The model keeps, per block index, whether the block was never handed out, is free, is
 * handed out (live), or is held by the put callback; a shadow copy of every live block's
 * bytes; the free count, watermark, failed gets and the last error; which registry holds
 * each pool and in which order.  Every call is checked against it: statuses (including
 * every bad-input case: double free, never-used block, interior, foreign and neighbour
 * pointers, NULL, stale pointers after clear, bad init parameters), returned blocks
 * (a free block start, never one already live), user data never changed by the pool,
 * statistics, tarn_block_check, the lock hook (balanced, never nested, not held while the
 * put callback runs), owns/index arithmetic and registry iteration.
 */
#include "fuzz_common.h"
#include "tarn/block.h"

#define NPOOL 2
#define REGION 16384u          /* most bytes of blocks one pool spans */
#define MAX_COUNT 512u         /* most blocks one pool has */
#define SLACK 256u             /* bytes of arena before and after a pool's region */

enum { B_NEVER = 0, B_FREE, B_LIVE, B_HELD };
enum { CB_NONE = 0, CB_FREE, CB_STASH, CB_REFUSE, CB_MODES };

typedef struct model {
    tarn_block_pool pool;
    tarn_block_ext ext;          /* the pool's optional settings (lock, name, callback, registry) */
    fz_lock lock;
    bool ok;                  /* initialised successfully */
    unsigned char *mem;
    size_t bs;                /* block stride (guard bytes included) */
    size_t ub;                /* usable bytes of a block (tarn_block_size) */
    size_t align;             /* alignment of the blocks (TARN_BLOCK_ALIGN_OF) */
    uint32_t count;
    uint32_t nfree, min_free, failed;
    int reg;                  /* registry index holding the pool, or -1 */
    int cb_mode;
    uint32_t cb_calls;
    void *cb_last;
    uint32_t nstash;
    uint32_t stash[MAX_COUNT];
    unsigned char state[MAX_COUNT];
    unsigned char shadow[REGION];
} model;

static unsigned char arena[NPOOL][SLACK + REGION + 1024u + SLACK]
    __attribute__((aligned(64)));
static model M[NPOOL];
static tarn_block_registry R[2];
static int reg_order[2][NPOOL];   /* pool indices in registration order */
static int reg_len[2];
static const char *const names[] = {"rx", "tx", "rx"};

static const size_t sizes[] = {1, 7, 8, 9, 16, 17, 24, 31, 40, 64, 100, 128, 255, 512, 1000};
#define NSIZES (sizeof sizes / sizeof sizes[0])

static int midx(const model *m) { return (int)(m - M); }

/* ---- model helpers ------------------------------------------------------------------- */
static unsigned char *blk(const model *m, uint32_t i) { return m->mem + (size_t)i * m->bs; }


static void verify_live(const model *m)
{
    uint32_t i;
    for (i = 0; m->ok && i < m->count; i++) {
        if (m->state[i] == B_LIVE || m->state[i] == B_HELD) {
            FZ_EQ(memcmp(blk(m, i), m->shadow + (size_t)i * m->bs, m->ub), 0);
        }
    }
}

/* User writes to a live block; the shadow follows.  Any bytes at all: the pool decides
 * free or not from its bitmap, never from a block's contents. */
static void user_write(model *m, uint32_t i, size_t off, size_t len, const uint8_t *src,
                       uint32_t tag)
{
    unsigned char *b = blk(m, i), *s = m->shadow + (size_t)i * m->bs;
    size_t j;
    if (off >= m->ub) off %= m->ub;
    if (len > m->ub - off) len = m->ub - off;
    for (j = 0; j < len; j++) b[off + j] = src ? src[j] : fz_pat(tag, j);
    memcpy(s, b, m->ub);
}

static void check_stats(model *m)
{
    tarn_block_stats st;
    FZ_ST(tarn_block_stats_get(&m->pool, &st), TARN_OK);
    if (!m->ok) return;
    FZ_EQ(st.block_size, m->ub);
    FZ_EQ(st.count, m->count);
    FZ_EQ(st.free, m->nfree);
#if TARN_STATS
    FZ_EQ(st.min_free, m->min_free);
    FZ_EQ(st.failed_gets, m->failed);
#endif
}

static void check_all(model *m)
{
    FZ_ST(tarn_block_check(&m->pool), TARN_OK);
    FZ_EQ(m->lock.depth, 0);
    verify_live(m);
    check_stats(m);
}

/* ---- put callback ---------------------------------------------------------------------- */
static tarn_status put_cb(tarn_block_pool *pool, void *block, void *arg)
{
    model *m = (model *)arg;
    long i;
    FZ_CHECK(pool == &m->pool);
    FZ_EQ(m->lock.depth, 0);                 /* called without the pool lock */
    FZ_ST(tarn_block_validate(pool, block), TARN_OK);
    i = tarn_block_index(pool, block);
    FZ_CHECK(i >= 0 && (uint32_t)i < m->count && m->state[i] == B_LIVE);
    m->cb_calls++;
    m->cb_last = block;
    switch (m->cb_mode) {
    case CB_FREE:
        return tarn_block_put_from_cb(pool, block);
    case CB_STASH:
        m->stash[m->nstash++] = (uint32_t)i;
        return TARN_OK;
    default:
        return TARN_EBUSY;
    }
}

/* ---- init ------------------------------------------------------------------------------- */
static void reset_model(model *m)
{
    m->ok = false;
    m->count = 0;
    m->nfree = m->min_free = m->failed = 0;
    m->cb_mode = CB_NONE;
    m->nstash = 0;
    m->lock.depth = 0;
}

/* Unregister, then initialise from the input; invalid parameters are chosen on purpose
 * by `bad` (0 = none), one error at a time, and the status is predicted. */
static void do_init(model *m, fz_in *in, unsigned bad)
{
    /* the largest block size init accepts (canary mode's guard bytes count too) */
    const size_t bs_max = (size_t)UINT32_MAX - 8u - TARN_BLOCK_GUARD_BYTES;
    const size_t huge[] = {(size_t)UINT32_MAX, bs_max, bs_max + 1u, SIZE_MAX, SIZE_MAX / 2u,
                           4u * REGION};
    size_t req = sizes[fz_u8(in) % NSIZES], bs = TARN_BLOCK_SIZE(req), mem_size, lim;
    uint32_t count;
    unsigned flags = fz_u8(in);
    unsigned char *mem = arena[midx(m)] + SLACK;
    tarn_config cfg;
    const tarn_config *cp;
    tarn_status ex = TARN_OK, st;
    lim = REGION / bs;
    if (lim > MAX_COUNT) lim = MAX_COUNT;
    count = 1u + fz_below(in, (uint32_t)lim);
    /* the blocks, their bitmap and a tail too short for one more block */
    mem_size = TARN_BLOCK_POOL_BYTES(count, req) + fz_u8(in) % bs;

    if (m->reg >= 0) {
        int r = m->reg, j, k = 0;
        FZ_ST(tarn_block_unregister(&R[r], &m->pool), TARN_OK);
        for (j = 0; j < reg_len[r]; j++) {
            if (reg_order[r][j] != midx(m)) reg_order[r][k++] = reg_order[r][j];
        }
        reg_len[r] = k;
        m->reg = -1;
    }
    memset(&cfg, 0, sizeof cfg);
    if (flags & 1u) cfg.lock = fz_lock_hook(&m->lock);
    cfg.name = (flags & 2u) ? names[(flags >> 2) % 3u] : NULL;
    switch (bad % 8u) {
    case 0: break;
    case 1: mem = NULL; ex = TARN_EINVAL; break;
    case 2: req = 0; ex = TARN_EINVAL; break;
    case 3: cfg.lock.unlock = NULL; cfg.lock.lock = fz_lock_take; ex = TARN_EINVAL; break;
    case 4: mem += 1u + fz_u8(in) % (TARN_BLOCK_ALIGN_OF(req) - 1u); ex = TARN_EALIGN; break;
    case 5:
        req = huge[fz_u8(in) % (sizeof huge / sizeof huge[0])];
        ex = (req > bs_max) ? TARN_EOVERFLOW : TARN_ETOOSMALL;
        break;
    case 6: mem_size = fz_u8(in) % bs; ex = TARN_ETOOSMALL; break;
    default: break;
    }
    reset_model(m);
    cp = ((flags & 0x80u) && bad != 3u) ? NULL : &cfg;   /* NULL config: defaults */
    st = tarn_block_init_ext(&m->pool, &m->ext, mem, mem_size, req, cp);
    FZ_ST(st, ex);
    FZ_ST(tarn_block_last_error(&m->pool), ex);
    if (st != TARN_OK) {
        /* the pool is unusable: every call fails cleanly */
        FZ_CHECK(tarn_block_get(&m->pool) == NULL);
        FZ_CHECK(tarn_block_put(&m->pool, arena[midx(m)] + SLACK) != TARN_OK);
        FZ_CHECK(tarn_block_next_free(&m->pool) == NULL);
        FZ_CHECK(!tarn_block_owns(&m->pool, arena[midx(m)] + SLACK));
        FZ_ST(tarn_block_clear(&m->pool), TARN_OK);
        FZ_CHECK(tarn_block_get(&m->pool) == NULL);
        FZ_EQ(m->lock.depth, 0);
        return;
    }
    m->ok = true;
    m->mem = mem;
    m->bs = bs;
    m->ub = TARN_BLOCK_USABLE(req);
    m->align = TARN_BLOCK_ALIGN_OF(req);
    m->count = count;
    m->nfree = m->min_free = count;
    memset(m->state, B_NEVER, sizeof m->state);
    FZ_EQ(tarn_block_size(&m->pool), m->ub);
    FZ_CHECK(tarn_block_name(&m->pool) == (cp != NULL ? cfg.name : NULL));
    check_all(m);
}

/* ---- addresses handed back -------------------------------------------------------------- */
/* Choose an address to hand back to pool m and predict what put/validate say about it.
 * *idx is the block index for a live or held block, else -1. */
static void *pick_addr(model *m, fz_in *in, tarn_status *ex, long *idx)
{
    static unsigned char far_away[16];
    const model *o = &M[1 - midx(m)];
    unsigned kind = fz_u8(in) % 9u;
    uint32_t k = fz_u16(in);
    long i;
    *idx = -1;
    if (!m->ok) {
        /* a failed pool owns nothing */
        if (kind == 6) { *ex = TARN_EINVAL; return NULL; }
        *ex = TARN_EFOREIGN;
        return arena[midx(m)] + (k % sizeof arena[0]);
    }
    switch (kind) {
    case 0: /* a live block */
        i = fz_pick_state(m->state, m->count, 1u << B_LIVE, k);
        if (i >= 0) { *ex = TARN_OK; *idx = i; return blk(m, (uint32_t)i); }
        /* fall through */
    case 1: /* a block not handed out: already free, or never used (incl. stale after clear) */
        i = fz_pick_state(m->state, m->count, (1u << B_NEVER) | (1u << B_FREE), k);
        if (i >= 0) { *ex = TARN_EDOUBLE; return blk(m, (uint32_t)i); }
        break;
    case 2: /* inside a block */
        *ex = TARN_EFOREIGN;
        return blk(m, k % m->count) + 1u + (k >> 8) % (m->bs - 1u);
    case 3: /* just before the pool */
        *ex = TARN_EFOREIGN;
        return m->mem - 1u - k % SLACK;
    case 4: /* at or just after its end */
        *ex = TARN_EFOREIGN;
        return m->mem + (size_t)m->count * m->bs + k % SLACK;
    case 5: /* a block of the other pool */
        *ex = TARN_EFOREIGN;
        return o->ok ? blk(o, k % o->count) : (void *)(arena[1 - midx(m)] + SLACK);
    case 6:
        *ex = TARN_EINVAL;
        return NULL;
    case 7: /* a held block (handed out as far as the pool knows) */
        i = fz_pick_state(m->state, m->count, 1u << B_HELD, k);
        if (i >= 0) { *ex = TARN_OK; *idx = i; return blk(m, (uint32_t)i); }
        break;
    default:
        *ex = TARN_EFOREIGN;
        return far_away + k % sizeof far_away;
    }
    *ex = TARN_EINVAL;
    return NULL;
}

/* ---- operations ----------------------------------------------------------------------- */
static void op_get(model *m, bool peek)
{
    void *next = peek ? tarn_block_next_free(&m->pool) : NULL;
    unsigned char *p = (unsigned char *)tarn_block_get(&m->pool);
    long i;
    if (peek) FZ_CHECK(next == p);
    if (!m->ok || m->nfree == 0) {
        FZ_CHECK(p == NULL);
        FZ_ST(tarn_block_last_error(&m->pool), TARN_ENOMEM);
        if (m->ok) m->failed++;
        return;
    }
    FZ_CHECK(p != NULL);
    FZ_CHECK(TARN_IS_ALIGNED(p, m->align));
    i = tarn_block_index(&m->pool, p);
    FZ_CHECK(i >= 0 && (uint32_t)i < m->count && p == blk(m, (uint32_t)i));
    FZ_CHECK(m->state[i] == B_NEVER || m->state[i] == B_FREE);
    m->state[i] = B_LIVE;
    m->nfree--;
    if (m->nfree < m->min_free) m->min_free = m->nfree;
    /* the whole block is usable: write all of it */
    user_write(m, (uint32_t)i, 0, m->ub, NULL, (uint32_t)tarn_fuzz_ops);
}

static void op_put(model *m, fz_in *in, bool from_cb)
{
    tarn_status ex, st;
    long i;
    void *p = pick_addr(m, in, &ex, &i);
    uint32_t calls = m->cb_calls;
    int mode = from_cb ? CB_NONE : m->cb_mode;
#if TARN_CHECK_LEVEL == 0
    if (ex != TARN_OK && p != NULL) return;   /* not detected without checking */
#endif
    if (i >= 0) FZ_EQ(memcmp(p, m->shadow + (size_t)i * m->bs, m->ub), 0);
    if (ex == TARN_OK && m->state[i] == B_HELD && !from_cb) {
        /* handing a held block back again through put would stash it twice: the
         * callback's business, not the pool's; return it past the callback instead */
        mode = CB_NONE;
        from_cb = true;
    }
    st = from_cb ? tarn_block_put_from_cb(&m->pool, p) : tarn_block_put(&m->pool, p);
    FZ_EQ(m->lock.depth, 0);
    if (ex != TARN_OK) {
        FZ_ST(st, ex);
        FZ_ST(tarn_block_last_error(&m->pool), ex);
        FZ_EQ(m->cb_calls, calls);
        return;
    }
    if (m->state[i] == B_HELD) {
        uint32_t j;
        for (j = 0; j < m->nstash && m->stash[j] != (uint32_t)i; j++) {}
        FZ_CHECK(j < m->nstash);
        m->stash[j] = m->stash[--m->nstash];
    }
    if (mode != CB_NONE) {
        FZ_EQ(m->cb_calls, calls + 1u);
        FZ_CHECK(m->cb_last == p);
    } else {
        FZ_EQ(m->cb_calls, calls);
    }
    switch (mode) {
    case CB_STASH:
        FZ_ST(st, TARN_OK);
        m->state[i] = B_HELD;
        return;
    case CB_REFUSE:
        FZ_ST(st, TARN_EBUSY);
        return;
    default:
        FZ_ST(st, TARN_OK);
        m->state[i] = B_FREE;
        m->nfree++;
        return;
    }
}

static void op_validate(model *m, fz_in *in)
{
    tarn_status ex;
    long i;
    void *p = pick_addr(m, in, &ex, &i);
    uint32_t nfree = m->nfree;
#if TARN_CHECK_LEVEL == 0
    if (ex != TARN_OK && p != NULL) return;
#endif
    FZ_ST(tarn_block_validate(&m->pool, p), ex);
    FZ_EQ(m->lock.depth, 0);
    FZ_EQ(m->nfree, nfree);
}

static void op_owns(model *m, fz_in *in)
{
    size_t span = (size_t)m->count * m->bs;
    long off = fz_offset_around(in, span, SLACK);
    FZ_CHECK_OWNS(tarn_block, &m->pool, m->ok, m->mem, arena[midx(m)] + SLACK, off, span, m->bs);
}

static void op_write(model *m, fz_in *in)
{
    long i = fz_pick_state(m->state, m->count, 1u << B_LIVE, fz_u16(in));
    size_t off = fz_u16(in), len = fz_u8(in) % 24u;
    uint8_t buf[24];
    size_t j;
    if (!m->ok || i < 0) return;
    for (j = 0; j < len; j++) buf[j] = fz_u8(in);
    user_write(m, (uint32_t)i, off, len, buf, 0);
}

static void op_clear(model *m)
{
    uint32_t i;
    FZ_ST(tarn_block_clear(&m->pool), TARN_OK);
    FZ_EQ(m->lock.depth, 0);
    if (!m->ok) return;
    for (i = 0; i < m->count; i++) m->state[i] = B_NEVER;
    m->nstash = 0;
    m->nfree = m->min_free = m->count;   /* the watermark starts again */
    check_all(m);
}

static void op_flush(model *m)
{
    while (m->nstash > 0) {
        uint32_t i = m->stash[--m->nstash];
        FZ_CHECK(m->state[i] == B_HELD);
        FZ_ST(tarn_block_put_from_cb(&m->pool, blk(m, i)), TARN_OK);
        m->state[i] = B_FREE;
        m->nfree++;
    }
    FZ_EQ(m->lock.depth, 0);
}

static void op_set_cb(model *m, fz_in *in)
{
    int mode = (int)(fz_u8(in) % CB_MODES);
    if (mode == CB_NONE && m->nstash > 0) op_flush(m);
    m->cb_mode = mode;
    tarn_block_set_put_cb(&m->pool, mode == CB_NONE ? NULL : put_cb, m);
    FZ_EQ(m->lock.depth, 0);
}

static void reg_walk(int r)
{
    const tarn_block_pool *p = NULL;
    int j;
    for (j = 0; j < reg_len[r]; j++) {
        p = tarn_block_registry_next(&R[r], p);
        FZ_CHECK(p == &M[reg_order[r][j]].pool);
    }
    FZ_CHECK(tarn_block_registry_next(&R[r], p) == NULL);
}

static void op_registry(model *m, fz_in *in)
{
    unsigned what = fz_u8(in);
    int r = (int)(what & 1u), j, k;
    switch ((what >> 1) % 4u) {
    case 0:
        FZ_ST(tarn_block_register(&R[r], &m->pool), m->reg >= 0 ? TARN_EBUSY : TARN_OK);
        if (m->reg < 0) {
            m->reg = r;
            reg_order[r][reg_len[r]++] = midx(m);
        }
        break;
    case 1:
        FZ_ST(tarn_block_unregister(&R[r], &m->pool), m->reg == r ? TARN_OK : TARN_ENOENT);
        if (m->reg == r) {
            for (j = k = 0; j < reg_len[r]; j++) {
                if (reg_order[r][j] != midx(m)) reg_order[r][k++] = reg_order[r][j];
            }
            reg_len[r] = k;
            m->reg = -1;
        }
        break;
    case 2: { /* find by name: the first registered pool with that name */
        const char *name = names[(what >> 3) % 3u];
        const tarn_block_pool *ex = NULL;
        for (j = 0; j < reg_len[r] && ex == NULL; j++) {
            const char *n = tarn_block_name(&M[reg_order[r][j]].pool);
            if (n != NULL && strcmp(n, name) == 0) ex = &M[reg_order[r][j]].pool;
        }
        FZ_CHECK(tarn_block_find(&R[r], name) == ex);
        FZ_CHECK(tarn_block_find(&R[r], NULL) == NULL);
        break;
    }
    default:
        reg_walk(r);
        /* next after a pool that is not in this registry */
        if (m->reg != r) FZ_CHECK(tarn_block_registry_next(&R[r], &m->pool) == NULL);
        break;
    }
}

enum {
    OP_GET, OP_GET2, OP_GET3, OP_PEEK_GET, OP_PUT, OP_PUT2, OP_PUT3, OP_PUT_FROM_CB,
    OP_VALIDATE, OP_OWNS, OP_WRITE, OP_CHECK, OP_STATS, OP_CLEAR, OP_SET_CB, OP_FLUSH,
    OP_REGISTRY, OP_INIT, OP_BAD_INIT, OP_COUNT
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fz_in in;
    int k;
    fz_start(&in, data, size);
    FZ_ST(tarn_block_registry_init(&R[0], NULL), TARN_OK);
    FZ_ST(tarn_block_registry_init(&R[1], NULL), TARN_OK);
    reg_len[0] = reg_len[1] = 0;
    for (k = 0; k < NPOOL; k++) {
        M[k].reg = -1;
        M[k].cb_calls = 0;
        do_init(&M[k], &in, 0);
    }
    while (!fz_empty(&in)) {
        unsigned b = fz_u8(&in);
        model *m = &M[b & 1u];
        tarn_fuzz_ops++;
        switch ((b >> 1) % OP_COUNT) {
        case OP_GET: case OP_GET2: case OP_GET3: op_get(m, false); break;
        case OP_PEEK_GET: op_get(m, true); break;
        case OP_PUT: case OP_PUT2: case OP_PUT3: op_put(m, &in, false); break;
        case OP_PUT_FROM_CB: op_put(m, &in, true); break;
        case OP_VALIDATE: op_validate(m, &in); break;
        case OP_OWNS: op_owns(m, &in); break;
        case OP_WRITE: op_write(m, &in); break;
        case OP_CHECK: check_all(m); break;
        case OP_STATS: check_stats(m); break;
        case OP_CLEAR: op_clear(m); break;
        case OP_SET_CB: op_set_cb(m, &in); break;
        case OP_FLUSH: op_flush(m); break;
        case OP_REGISTRY: op_registry(m, &in); break;
        case OP_INIT: do_init(m, &in, 0); break;
        default: do_init(m, &in, 1u + fz_u8(&in) % 7u); break;
        }
    }
    for (k = 0; k < NPOOL; k++) {
        op_flush(&M[k]);
        check_all(&M[k]);
    }
    reg_walk(0);
    reg_walk(1);
    return 0;
}
