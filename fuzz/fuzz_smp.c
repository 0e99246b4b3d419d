/*
 * fuzz/fuzz_smp.c - fuzz target of the SMP compat layer (compat/smp), which runs on the
 * heap.
 *
 * Four static pools declared as SMP users do (SMP_POOL_WITH_API, sizes from 1 byte to
 * 4000), used through smp_alloc/calloc/dealloc/size and the generated per-pool functions;
 * the input picks the pool and the operation one byte at a time, arguments following.
 * Every input ends by freeing all it allocated, so the next one starts from empty pools.
 *
 * The model keeps the live blocks and a shadow of their bytes.  Checked: an empty pool
 * gives one block of its full pool_size (the promise of TARN_HEAP_BYTES); NULL for a NULL
 * pool, size 0, nitems * size overflow, sizes beyond the pool; usable size >= request,
 * 8-byte alignment, blocks inside the pool's buffer and disjoint, calloc zeroed; dealloc
 * of NULL, foreign (other pool, stack, static), interior and freed pointers changes
 * nothing (the heap's counters and tarn_heap_check say so); smp_size 0 for all of them;
 * contents kept.
 */
#include "fuzz_common.h"
#include "smp.h"

SMP_POOL_WITH_API(tiny, 1);
SMP_POOL_WITH_API(small, 24);
SMP_POOL_WITH_API(mid, 512);
SMP_POOL_WITH_API(big, 4000);

/* SMP_API generates alloc, calloc and dealloc (the original's set); the size query of
 * each pool, for the table below. */
static smp_size_t tiny_size(smp_ptr_t p) { return smp_size(&tiny, p); }
static smp_size_t small_size(smp_ptr_t p) { return smp_size(&small, p); }
static smp_size_t mid_size(smp_ptr_t p) { return smp_size(&mid, p); }
static smp_size_t big_size(smp_ptr_t p) { return smp_size(&big, p); }

#define NPOOL 4
#define MAXL 128u

typedef struct sblk {
    bool used;
    unsigned char *p;
    size_t req;
    size_t usable;
} sblk;

typedef struct model {
    smp_pool_t *pool;
    size_t pool_size;
    sblk live[MAXL];
    uint32_t nlive;
    unsigned char *dead[32];
    uint32_t ndead, dead_pos;
    unsigned char *shadow;    /* mirror of the pool's buffer */
} model;

static unsigned char sh_tiny[sizeof tiny_smp_mem_], sh_small[sizeof small_smp_mem_],
    sh_mid[sizeof mid_smp_mem_], sh_big[sizeof big_smp_mem_];
static model M[NPOOL] = {{&tiny, 1, {{0}}, 0, {0}, 0, 0, sh_tiny},
                         {&small, 24, {{0}}, 0, {0}, 0, 0, sh_small},
                         {&mid, 512, {{0}}, 0, {0}, 0, 0, sh_mid},
                         {&big, 4000, {{0}}, 0, {0}, 0, 0, sh_big}};

static unsigned char *mem_of(const model *m) { return (unsigned char *)m->pool->memory; }
static unsigned char *shadow_of(const model *m, const void *p)
{
    return m->shadow + ((const unsigned char *)p - mem_of(m));
}

static sblk *find_live(model *m, const void *p)
{
    uint32_t i;
    for (i = 0; i < MAXL; i++) {
        if (m->live[i].used && m->live[i].p == p) return &m->live[i];
    }
    return NULL;
}

static sblk *pick_live(model *m, uint32_t k)
{
    uint32_t i;
    if (m->nlive == 0) return NULL;
    k %= m->nlive;
    for (i = 0; i < MAXL; i++) {
        if (m->live[i].used && k-- == 0) return &m->live[i];
    }
    return NULL;
}

/* The generated per-pool functions, as a table. */
typedef struct api {
    smp_ptr_t (*alloc)(smp_size_t);
    smp_ptr_t (*calloc)(smp_size_t, smp_size_t);
    void (*dealloc)(smp_ptr_t);
    smp_size_t (*size)(smp_ptr_t);
} api;
static const api A[NPOOL] = {{tiny_alloc, tiny_calloc, tiny_dealloc, tiny_size},
                             {small_alloc, small_calloc, small_dealloc, small_size},
                             {mid_alloc, mid_calloc, mid_dealloc, mid_size},
                             {big_alloc, big_calloc, big_dealloc, big_size}};

static void check_all(model *m)
{
    tarn_heap *h = smp_heap(m->pool);
    tarn_heap_stats st;
    uint32_t i;
    FZ_CHECK(h != NULL);
    FZ_ST(tarn_heap_check(h), TARN_OK);
    FZ_ST(tarn_heap_stats_get(h, &st), TARN_OK);
    FZ_EQ(st.live_blocks, m->nlive);
    FZ_CHECK(st.capacity >= m->pool_size);
    for (i = 0; i < MAXL; i++) {
        const sblk *e = &m->live[i];
        if (e->used) FZ_EQ(memcmp(e->p, shadow_of(m, e->p), e->usable), 0);
    }
}

static void note_alloc(model *m, unsigned char *p, size_t req, bool zero)
{
    sblk *e = NULL;
    uint32_t i;
    size_t us = smp_size(m->pool, p);
    FZ_CHECK(find_live(m, p) == NULL);
    FZ_CHECK(TARN_IS_ALIGNED(p, 8u));
    FZ_CHECK(us >= req && p >= mem_of(m) && p + us <= mem_of(m) + m->pool->bytes_);
    if (zero) {
        for (i = 0; i < req; i++) FZ_EQ(p[i], 0);
    }
    for (i = 0; i < MAXL && e == NULL; i++) {
        if (!m->live[i].used) e = &m->live[i];
    }
    FZ_CHECK(e != NULL);
    e->used = true;
    e->p = p;
    e->req = req;
    e->usable = us;
    m->nlive++;
    fz_fill(p, us, (uint32_t)tarn_fuzz_ops);
    memcpy(shadow_of(m, p), p, us);
}

static void op_alloc(model *m, fz_in *in, int how)
{
    tarn_heap *h = smp_heap(m->pool);
    tarn_heap_stats st;
    unsigned kind = fz_u8(in) % 8u;
    size_t size = kind < 5 ? 1u + fz_u8(in) % 64u : kind == 5 ? m->pool_size + fz_u8(in) % 3u
                  : kind == 6 ? 0u : SIZE_MAX - fz_u8(in);
    size_t n = 1;
    bool generated = (fz_u8(in) & 1u) != 0;
    unsigned char *p;
    if (m->nlive == MAXL) return;
    if (how == 1) {
        unsigned k = fz_u8(in) % 8u;
        n = k < 6 ? 1u + k : (size ? SIZE_MAX / size + 1u : 2u);
    }
    FZ_ST(tarn_heap_stats_get(h, &st), TARN_OK);
    if (how == 1) {
        p = (unsigned char *)(generated ? A[m - M].calloc(n, size) : smp_calloc(m->pool, n, size));
    } else {
        p = (unsigned char *)(generated ? A[m - M].alloc(size) : smp_alloc(m->pool, size));
    }
    if (size == 0 || n == 0 || (how == 1 && n > SIZE_MAX / size)) {
        FZ_CHECK(p == NULL);
        return;
    }
    if (p == NULL) {
        FZ_CHECK(n * size > st.max_alloc);     /* max_alloc is sure to succeed */
        return;
    }
    note_alloc(m, p, n * size, how == 1);
}

static void op_dealloc(model *m, fz_in *in, bool query)
{
    static unsigned char elsewhere[16];
    unsigned kind = fz_u8(in) % 8u;
    uint32_t k = fz_u16(in);
    bool generated = (k & 1u) != 0;
    unsigned char local = 0, *p;
    sblk *e;
    tarn_heap_stats before, after;
    switch (kind) {
    case 0: case 1: case 2:
        if ((e = pick_live(m, k)) != NULL) { p = e->p; break; }
        /* fall through */
    case 3: p = m->ndead ? m->dead[k % m->ndead] : NULL; break;
    case 4: p = (e = pick_live(m, k)) != NULL ? e->p + 1u + (k >> 1) % e->usable : NULL; break;
    case 5: p = mem_of(&M[(m - M + 1) % NPOOL]) + k % 64u; break;
    case 6: p = (k & 2u) ? &local : elsewhere + k % sizeof elsewhere; break;
    default: p = (unsigned char *)m->pool->memory + k % m->pool->bytes_; break;
    }
    e = find_live(m, p);
    if (query) {
        size_t us = generated ? A[m - M].size(p) : smp_size(m->pool, p);
        FZ_EQ(us, e != NULL ? e->usable : 0u);
        if (p == &local) FZ_EQ(smp_size(m->pool, p), 0);
        return;
    }
    if (e != NULL) FZ_EQ(memcmp(p, shadow_of(m, p), e->usable), 0);
    FZ_ST(tarn_heap_stats_get(smp_heap(m->pool), &before), TARN_OK);
    if (generated) A[m - M].dealloc(p);
    else smp_dealloc(m->pool, p);
    FZ_ST(tarn_heap_stats_get(smp_heap(m->pool), &after), TARN_OK);
    if (e == NULL) {                              /* ignored, nothing changed */
        FZ_EQ(after.live_blocks, before.live_blocks);
        FZ_EQ(after.used, before.used);
        return;
    }
    FZ_EQ(after.live_blocks + 1u, before.live_blocks);
    FZ_EQ(smp_size(m->pool, p), 0);
    e->used = false;
    m->nlive--;
    m->dead[m->dead_pos] = p;
    m->dead_pos = (m->dead_pos + 1u) % 32u;
    if (m->ndead < 32u) m->ndead++;
}

static void op_write(model *m, fz_in *in)
{
    sblk *e = pick_live(m, fz_u16(in));
    size_t off = fz_u16(in), len = fz_u8(in) % 16u, j;
    if (e == NULL) return;
    off %= e->usable;
    if (len > e->usable - off) len = e->usable - off;
    for (j = 0; j < len; j++) e->p[off + j] = fz_u8(in);
    memcpy(shadow_of(m, e->p + off), e->p + off, len);
}

enum { OP_ALLOC, OP_ALLOC2, OP_CALLOC, OP_DEALLOC, OP_DEALLOC2, OP_SIZE, OP_WRITE, OP_CHECK,
       OP_NULL_POOL, OP_COUNT };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fz_in in;
    int k;
    uint32_t i;
    fz_start(&in, data, size);
    for (k = 0; k < NPOOL; k++) {
        /* empty: the whole pool_size is one allocation */
        unsigned char *p = (unsigned char *)smp_alloc(M[k].pool, M[k].pool_size);
        FZ_CHECK(p != NULL);
        smp_dealloc(M[k].pool, p);
        check_all(&M[k]);
        M[k].ndead = M[k].dead_pos = 0;
    }
    while (!fz_empty(&in)) {
        unsigned b = fz_u8(&in);
        model *m = &M[b % NPOOL];
        tarn_fuzz_ops++;
        switch ((b / NPOOL) % OP_COUNT) {
        case OP_ALLOC: case OP_ALLOC2: op_alloc(m, &in, 0); break;
        case OP_CALLOC: op_alloc(m, &in, 1); break;
        case OP_DEALLOC: case OP_DEALLOC2: op_dealloc(m, &in, false); break;
        case OP_SIZE: op_dealloc(m, &in, true); break;
        case OP_WRITE: op_write(m, &in); break;
        case OP_CHECK: check_all(m); break;
        default:
            FZ_CHECK(smp_alloc(NULL, 8) == NULL);
            FZ_CHECK(smp_calloc(NULL, 1, 8) == NULL);
            FZ_EQ(smp_size(NULL, &b), 0);
            FZ_CHECK(smp_heap(NULL) == NULL);
            smp_dealloc(NULL, &b);
            break;
        }
    }
    for (k = 0; k < NPOOL; k++) {
        check_all(&M[k]);
        for (i = 0; i < MAXL; i++) {
            if (M[k].live[i].used) {
                smp_dealloc(M[k].pool, M[k].live[i].p);
                M[k].live[i].used = false;
            }
        }
        M[k].nlive = 0;
        check_all(&M[k]);
    }
    return 0;
}
