/*
 * fuzz/fuzz_mynewt.c - fuzz target of the Mynewt os_mempool layer (compat/mynewt), which
 * keeps Mynewt's own free list (blocks carved at init) with tarn's checks.
 *
 * Three pools (plain or extended, each over its own region of a static arena with slack
 * around it) are driven by the input, through the Mynewt API only:
 *
 *   header   lock hook on/off, then an init of each pool
 *   then     one operation per step: byte b selects the pool (b % 3) and the operation
 *            ((b / 3) % OP_COUNT); its arguments follow.
 *
 * The model keeps per block whether it is free, live, or held by the application's put
 * callback; the free list exactly (a stack: address order after init and clear, then
 * LIFO); a shadow copy of live blocks; the free count and watermark; the list of
 * registered pools in order.  After every call the free list walked through SLIST_FIRST
 * and mb_next must be the model's, and the fields Mynewt
 * code reads directly (mp_num_free, mp_min_free, mp_block_size,
 * mp_num_blocks, mp_membuf_addr, mp_flags, name) must be true, os_mempool_is_sane must
 * hold, the lock hook must be balanced, and bad input (double free, never-used, interior,
 * neighbour and foreign pointers, NULL, bad init parameters, huge block sizes, pools of
 * zero blocks) must be refused with Mynewt's codes without changing anything.
 */
#include "fuzz_common.h"
#include "os/os_mempool.h"

#define NPOOL 3
#define REGION 8192u
#define MAX_COUNT 512u
#define SLACK 128u

enum { B_FREE = 0, B_LIVE, B_HELD };
enum { CB_NONE = 0, CB_FREE, CB_STASH, CB_REFUSE, CB_MODES };

typedef struct model {
    struct os_mempool_ext ext;  /* plain pools use ext.mpe_mp only */
    bool is_ext;
    bool inited;                /* an init succeeded (the struct holds a pool) */
    bool registered;
    uint16_t blocks;
    uint32_t req;               /* block size as requested */
    size_t bs;                  /* block stride (guard bytes included) */
    size_t ub;                  /* usable bytes of a block (guard bytes excluded) */
    unsigned char *mem;
    char *name;
    uint32_t nfree, min_free;
    int cb_mode;
    uint32_t cb_calls;
    uint32_t nstash;
    uint32_t stash[MAX_COUNT];
    uint32_t nfl;                 /* the free list, top (SLIST_FIRST) = fl[nfl - 1] */
    uint32_t fl[MAX_COUNT];
    unsigned char state[MAX_COUNT];
    unsigned char shadow[REGION];
} model;

static os_membuf_t arena[NPOOL][(SLACK + REGION + SLACK) / sizeof(os_membuf_t)];
static model M[NPOOL];
static int order[NPOOL];          /* registered pools, in list order */
static int norder;
static fz_lock the_lock;
static bool locked_build;          /* a lock hook is set for this input */
static char name_buf[3][48] = {"mbuf", "mbuf", "a-name-longer-than-thirty-one-characters!"};

static int midx(const model *m) { return (int)(m - M); }
static struct os_mempool *MP(model *m) { return &m->ext.mpe_mp; }
static unsigned char *region(const model *m) { return (unsigned char *)arena[midx(m)] + SLACK; }
static unsigned char *blk(const model *m, uint32_t i) { return m->mem + (size_t)i * m->bs; }


/* Mynewt's geometry: usable bytes (block size rounded up to OS_ALIGNMENT) and stride
 * (plus one os_membuf_t of guard for non-extended pools with OS_MEMPOOL_GUARD). */
static size_t usable_of(uint32_t req)
{
    return ((size_t)req + OS_ALIGNMENT - 1u) / OS_ALIGNMENT * OS_ALIGNMENT;
}
static size_t stride_of(uint32_t req, bool ext)
{
    return usable_of(req) + ((OS_MEMPOOL_GUARD && !ext) ? sizeof(os_membuf_t) : 0u);
}

/* All blocks free, the free list in address order (block 0 first). */
static void model_carve(model *m)
{
    uint32_t i;
    for (i = 0; i < m->blocks; i++) {
        m->state[i] = B_FREE;
        m->fl[i] = m->blocks - 1u - i;
    }
    m->nfl = m->blocks;
    m->nfree = m->min_free = m->blocks;
}

/* Everything Mynewt code may read directly must be true after every call. */
static void check_fields(model *m)
{
    struct os_mempool *mp = MP(m);
    struct os_memblock *b;
    uint32_t n = 0;
    FZ_EQ(the_lock.depth, 0);
    if (!m->inited) return;
    FZ_EQ(mp->mp_block_size, m->req);
    FZ_EQ(mp->mp_num_blocks, m->blocks);
    FZ_EQ(mp->mp_num_free, m->nfree);
    FZ_EQ(mp->mp_min_free, m->min_free);
    FZ_CHECK(mp->mp_membuf_addr == (uintptr_t)m->mem);
    FZ_EQ(mp->mp_flags, m->is_ext ? OS_MEMPOOL_F_EXT : 0);
    FZ_CHECK(mp->name == m->name);
    FZ_EQ(m->nfl, m->nfree);
    /* the free list, walked as Mynewt code walks it, is exactly the model's */
    SLIST_FOREACH(b, mp, mb_next) {
        FZ_CHECK(n < m->nfl);
        if (n >= m->nfl) break;
        FZ_CHECK((void *)b == (void *)blk(m, m->fl[m->nfl - 1u - n]));
        n++;
    }
    FZ_EQ(n, m->nfl);
}

static void check_all(model *m)
{
    uint32_t i;
    check_fields(m);
    if (!m->inited) return;
    FZ_CHECK(os_mempool_is_sane(MP(m)));
    for (i = 0; i < m->blocks; i++) {
        if (m->state[i] == B_LIVE || m->state[i] == B_HELD) {
            FZ_EQ(memcmp(blk(m, i), m->shadow + (size_t)i * m->bs, m->ub), 0);
        }
    }
    FZ_EQ(the_lock.depth, 0);
}

/* Bytes written by the application into a live block; the second word never gets its
 * low bit set (such user data can look like a free-list tag: a documented limit). */
static void user_write(model *m, uint32_t i, size_t off, size_t len, const uint8_t *src,
                       uint32_t tag)
{
    unsigned char *b = blk(m, i);
    uintptr_t w;
    size_t j;
    if (off >= m->ub) off %= m->ub;
    if (len > m->ub - off) len = m->ub - off;
    for (j = 0; j < len; j++) b[off + j] = src ? src[j] : fz_pat(tag, j);
    if (m->ub >= 2u * sizeof(void *)) {   /* one-pointer blocks carry no tag */
        memcpy(&w, b + sizeof(void *), sizeof w);
        w &= ~(uintptr_t)1u;
        memcpy(b + sizeof(void *), &w, sizeof w);
    }
    memcpy(m->shadow + (size_t)i * m->bs, b, m->ub);
}

static void reg_remove(int k)
{
    int j, n = 0;
    for (j = 0; j < norder; j++) {
        if (order[j] != k) order[n++] = order[j];
    }
    norder = n;
    M[k].registered = false;
}

static void check_list(void)
{
    struct os_mempool *mp = NULL;
    struct os_mempool_info omi;
    int j;
    for (j = 0; j < norder; j++) {
        model *m = &M[order[j]];
        const char *n = m->name ? m->name : "";
        memset(&omi, 0x5A, sizeof omi);
        mp = os_mempool_info_get_next(mp, &omi);
        FZ_CHECK(mp == MP(m));
        FZ_EQ(omi.omi_block_size, (int)m->req);
        FZ_EQ(omi.omi_num_blocks, m->blocks);
        FZ_EQ(omi.omi_num_free, (int)m->nfree);
        FZ_EQ(omi.omi_min_free, (int)m->min_free);
        FZ_EQ(strncmp(omi.omi_name, n, OS_MEMPOOL_INFO_NAME_LEN - 1), 0);
        FZ_EQ(strlen(omi.omi_name), strlen(n) < OS_MEMPOOL_INFO_NAME_LEN ? strlen(n)
                                                                           : OS_MEMPOOL_INFO_NAME_LEN - 1);
    }
    FZ_CHECK(os_mempool_info_get_next(mp, &omi) == NULL);
    FZ_CHECK(os_mempool_info_get_next(mp, NULL) == NULL);
    FZ_EQ(the_lock.depth, 0);
}

/* ---- the application's put callback of an extended pool -------------------------------- */
static os_error_t put_cb(struct os_mempool_ext *ome, void *data, void *arg)
{
    model *m = (model *)arg;
    long i;
    FZ_CHECK(ome == &m->ext);
    FZ_EQ(the_lock.depth, 0);
    FZ_EQ(os_memblock_from(&ome->mpe_mp, data), 1);
    i = (long)(((unsigned char *)data - m->mem) / (long)m->bs);
    FZ_CHECK(m->state[i] == B_LIVE);
    m->cb_calls++;
    switch (m->cb_mode) {
    case CB_FREE: return os_memblock_put_from_cb(&ome->mpe_mp, data);
    case CB_STASH: m->stash[m->nstash++] = (uint32_t)i; return OS_OK;
    default: return OS_EBUSY;
    }
}

/* ---- init ------------------------------------------------------------------------------ */
static void do_init(model *m, fz_in *in, unsigned bad)
{
    static const uint32_t sizes[] = {1, 3, 4, 8, 12, 16, 17, 24, 33, 64, 100, 128, 250, 512};
    uint32_t req = sizes[fz_u8(in) % (sizeof sizes / sizeof sizes[0])];
    unsigned flags = fz_u8(in);
    bool ext = (flags & 1u) != 0;
    size_t bs = stride_of(req, ext), lim = REGION / bs;
    uint16_t blocks = (uint16_t)fz_below(in, (uint32_t)(lim > MAX_COUNT ? MAX_COUNT : lim) + 1u);
    unsigned char *mem = region(m);
    char *name = (flags & 4u) ? name_buf[(flags >> 3) % 3u] : NULL;
    os_error_t ex = OS_OK, rc;
    bool keeps = false;        /* a refused init leaves the pool as it was */

    switch (bad % 7u) {
    case 1: req = 0; ex = OS_INVALID_PARM; keeps = true; break;
    case 2:
        if (blocks == 0) blocks = 1;
        mem = NULL; ex = OS_INVALID_PARM; keeps = true;
        break;
    case 3: mem += 1u + fz_u8(in) % (OS_ALIGNMENT - 1u); ex = OS_MEM_NOT_ALIGNED; keeps = true; break;
    case 4: /* blocks that would run past the end of the address space: refused before
             * anything is written, the old pool stays as it was */
        req = UINT32_MAX - fz_u8(in) % (2u * OS_ALIGNMENT);
        if (blocks == 0) blocks = 1;
        mem = (unsigned char *)(uintptr_t)((UINTPTR_MAX - 0xFFFFu) & ~(uintptr_t)(OS_ALIGNMENT - 1u)); // NOLINT(performance-no-int-to-ptr)
        ex = OS_INVALID_PARM;
        keeps = true;
        break;
    case 5: /* zero blocks: any block size, any buffer (even none) */
        blocks = 0;
        if (flags & 2u) mem = NULL;
        if (flags & 0x80u) req = UINT32_MAX - fz_u8(in);
        break;
    case 6: /* NULL pool */
        FZ_EQ(ext ? os_mempool_ext_init(NULL, blocks, req, mem, name)
                  : os_mempool_init(NULL, blocks, req, mem, name), OS_INVALID_PARM);
        check_list();
        return;
    default: break;
    }
    rc = ext ? os_mempool_ext_init(&m->ext, blocks, req, mem, name)
             : os_mempool_init(MP(m), blocks, req, mem, name);
    FZ_EQ(rc, ex);
    if (keeps) {
        check_all(m);
        check_list();
        return;
    }
    /* the old pool left the list whatever the outcome */
    if (m->registered) reg_remove(midx(m));
    m->inited = false;
    m->nstash = 0;
    m->cb_mode = CB_NONE;
    if (rc != OS_OK) {
        FZ_CHECK(os_memblock_get(MP(m)) == NULL);
        FZ_EQ(os_memblock_put(MP(m), region(m)), OS_INVALID_PARM);
        check_list();
        return;
    }
    m->inited = true;
    m->is_ext = ext;
    m->registered = true;
    order[norder++] = midx(m);
    m->blocks = blocks;
    m->req = req;
    m->bs = stride_of(req, ext);
    m->ub = usable_of(req);
    m->mem = mem;
    m->name = name;
    model_carve(m);
    if (ext) {
        FZ_CHECK(m->ext.mpe_put_cb == NULL && m->ext.mpe_put_arg == NULL);
    }
    check_all(m);
    check_list();
}

/* ---- addresses handed back ------------------------------------------------------------- */
static void *pick_addr(model *m, fz_in *in, bool *ok, long *idx)
{
    static unsigned char far_away[16];
    const model *o = &M[(midx(m) + 1) % NPOOL];
    unsigned kind = fz_u8(in) % 8u;
    uint32_t k = fz_u16(in);
    long i;
    *idx = -1;
    *ok = false;
    if (!m->inited || m->blocks == 0) {
        return kind == 0 ? NULL : (void *)(region(m) + (k % REGION));
    }
    switch (kind) {
    case 0:
        i = fz_pick_state(m->state, m->blocks, 1u << B_LIVE, k);
        if (i >= 0) { *ok = true; *idx = i; return blk(m, (uint32_t)i); }
        /* fall through */
    case 1:
        i = fz_pick_state(m->state, m->blocks, 1u << B_FREE, k);
        return i >= 0 ? blk(m, (uint32_t)i) : NULL;
    case 2: return blk(m, k % m->blocks) + 1u + (k >> 8) % (m->bs - 1u);
    case 3: return m->mem - 1u - k % SLACK;
    case 4: return m->mem + (size_t)m->blocks * m->bs + k % SLACK;
    case 5: return (o->inited && o->blocks > 0) ? blk(o, k % o->blocks) : region(o);
    case 6: return NULL;
    default: return far_away + k % sizeof far_away;
    }
}

/* ---- operations ------------------------------------------------------------------------ */
static void op_get(model *m)
{
    struct os_memblock *first = m->inited ? SLIST_FIRST(MP(m)) : NULL;
    unsigned char *p = (unsigned char *)os_memblock_get(MP(m));
    long i;
    if (!m->inited || m->nfree == 0) {
        FZ_CHECK(p == NULL);
        check_fields(m);
        return;
    }
    FZ_CHECK(p != NULL && (void *)p == (void *)first);
    FZ_CHECK(TARN_IS_ALIGNED(p, OS_ALIGNMENT));
    FZ_EQ(os_memblock_from(MP(m), p), 1);
    i = (long)((size_t)(p - m->mem) / m->bs);
    FZ_CHECK(i >= 0 && i < m->blocks && p == blk(m, (uint32_t)i));
    FZ_CHECK(m->state[i] == B_FREE);
    FZ_CHECK(m->nfl > 0 && m->fl[m->nfl - 1u] == (uint32_t)i);
    m->nfl--;
    m->state[i] = B_LIVE;
    if (--m->nfree < m->min_free) m->min_free = m->nfree;
    /* all of mp_block_size is the application's (and the rounded-up rest too) */
    user_write(m, (uint32_t)i, 0, m->ub, NULL, (uint32_t)tarn_fuzz_ops);
    check_fields(m);
}

static void op_put(model *m, fz_in *in, bool from_cb)
{
    bool ok;
    long i;
    void *p = pick_addr(m, in, &ok, &i);
    uint32_t calls = m->cb_calls;
    int mode = (from_cb || !m->is_ext) ? CB_NONE : m->cb_mode;
    os_error_t rc;
    if (ok) FZ_EQ(memcmp(p, m->shadow + (size_t)i * m->bs, m->ub), 0);
    rc = from_cb ? os_memblock_put_from_cb(MP(m), p) : os_memblock_put(MP(m), p);
    if (!ok) {
        FZ_EQ(rc, OS_INVALID_PARM);
        FZ_EQ(m->cb_calls, calls);
        check_fields(m);
        return;
    }
    FZ_EQ(m->cb_calls, calls + (mode != CB_NONE ? 1u : 0u));
    switch (mode) {
    case CB_STASH: FZ_EQ(rc, OS_OK); m->state[i] = B_HELD; break;
    case CB_REFUSE: FZ_EQ(rc, OS_EBUSY); break;
    default:
        FZ_EQ(rc, OS_OK);
        m->state[i] = B_FREE;
        m->fl[m->nfl++] = (uint32_t)i;
        m->nfree++;
        break;
    }
    check_fields(m);
}

static void op_flush(model *m)
{
    while (m->nstash > 0) {
        uint32_t i = m->stash[--m->nstash];
        FZ_CHECK(m->state[i] == B_HELD);
        FZ_EQ(os_memblock_put_from_cb(MP(m), blk(m, i)), OS_OK);
        m->state[i] = B_FREE;
        m->fl[m->nfl++] = i;
        m->nfree++;
    }
    check_fields(m);
}

static void op_set_cb(model *m, fz_in *in)
{
    int mode = (int)(fz_u8(in) % CB_MODES);
    if (!m->inited || !m->is_ext) return;
    if (mode == CB_NONE) op_flush(m);
    m->cb_mode = mode;
    m->ext.mpe_put_cb = mode == CB_NONE ? NULL : put_cb;
    m->ext.mpe_put_arg = m;
}

static void op_from(model *m, fz_in *in)
{
    int32_t off = (int32_t)(fz_u32(in) % (REGION + 2u * SLACK)) - (int32_t)SLACK;
    const unsigned char *p = region(m) + off;
    int ex = 0;
    if (m->inited && m->blocks > 0 && m->mem != NULL) {
        long o = (long)(p - m->mem);
        ex = o >= 0 && (size_t)o < (size_t)m->blocks * m->bs && (size_t)o % m->bs == 0;
    }
    FZ_EQ(os_memblock_from(MP(m), p), ex);
    FZ_EQ(os_memblock_from(NULL, p), 0);
}

static void op_write(model *m, fz_in *in)
{
    long i = fz_pick_state(m->state, m->blocks, 1u << B_LIVE, fz_u16(in));
    size_t off = fz_u16(in), len = fz_u8(in) % 24u, j;
    uint8_t buf[24];
    if (!m->inited || i < 0) return;
    for (j = 0; j < len; j++) buf[j] = fz_u8(in);
    user_write(m, (uint32_t)i, off, len, buf, 0);
}

static void op_clear(model *m)
{
    FZ_EQ(os_mempool_clear(MP(m)), OS_OK);
    if (m->inited) {
        model_carve(m);
        m->nstash = 0;
    }
    check_all(m);
}

static void op_unregister(model *m)
{
    FZ_EQ(os_mempool_unregister(MP(m)), m->registered ? OS_OK : OS_INVALID_PARM);
    if (m->registered) reg_remove(midx(m));
    check_list();
}

static void op_lookup(fz_in *in)
{
    const char *name = name_buf[fz_u8(in) % 3u];
    struct os_mempool_info omi;
    struct os_mempool *ex = NULL;
    int j;
    for (j = 0; j < norder && ex == NULL; j++) {
        model *m = &M[order[j]];
        if (m->name != NULL && strcmp(m->name, name) == 0) ex = MP(m);
    }
    FZ_CHECK(os_mempool_get(name, &omi) == ex);
    FZ_CHECK(os_mempool_get(name, NULL) == ex);
    FZ_CHECK(os_mempool_get("no such pool", &omi) == NULL);
    FZ_CHECK(os_mempool_get(NULL, &omi) == NULL);
    FZ_EQ(the_lock.depth, 0);
}

enum {
    OP_GET, OP_GET2, OP_PUT, OP_PUT2, OP_PUT_FROM_CB, OP_FROM, OP_WRITE, OP_CHECK, OP_CLEAR,
    OP_SET_CB, OP_FLUSH, OP_UNREGISTER, OP_LIST, OP_LOOKUP, OP_INIT, OP_BAD_INIT, OP_COUNT
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fz_in in;
    int k;
    tarn_lock hook = fz_lock_hook(&the_lock);
    fz_start(&in, data, size);
    /* no pool is registered between inputs, so the lock may change here */
    FZ_CHECK(os_mempool_info_get_next(NULL, NULL) == NULL);
    locked_build = (fz_u8(&in) & 1u) != 0;
    os_mempool_set_lock(locked_build ? &hook : NULL);
    the_lock.depth = 0;
    norder = 0;
    for (k = 0; k < NPOOL; k++) {
        memset(&M[k].ext, 0, sizeof M[k].ext);
        M[k].inited = M[k].registered = false;
        M[k].cb_calls = 0;
        M[k].nstash = 0;
        do_init(&M[k], &in, 0);
    }
    while (!fz_empty(&in)) {
        unsigned b = fz_u8(&in);
        model *m = &M[b % NPOOL];
        tarn_fuzz_ops++;
        switch ((b / NPOOL) % OP_COUNT) {
        case OP_GET: case OP_GET2: op_get(m); break;
        case OP_PUT: case OP_PUT2: op_put(m, &in, false); break;
        case OP_PUT_FROM_CB: op_put(m, &in, true); break;
        case OP_FROM: op_from(m, &in); break;
        case OP_WRITE: op_write(m, &in); break;
        case OP_CHECK: check_all(m); break;
        case OP_CLEAR: op_clear(m); break;
        case OP_SET_CB: op_set_cb(m, &in); break;
        case OP_FLUSH: op_flush(m); break;
        case OP_UNREGISTER: op_unregister(m); break;
        case OP_LIST: check_list(); break;
        case OP_LOOKUP: op_lookup(&in); break;
        case OP_INIT: do_init(m, &in, 0); break;
        default: do_init(m, &in, 1u + fz_u8(&in) % 6u); break;
        }
    }
    for (k = 0; k < NPOOL; k++) {
        op_flush(&M[k]);
        check_all(&M[k]);
    }
    check_list();
    /* leave nothing registered for the next input */
    for (k = 0; k < NPOOL; k++) {
        if (M[k].registered) FZ_EQ(os_mempool_unregister(MP(&M[k])), OS_OK);
    }
    os_mempool_set_lock(NULL);
    return 0;
}
