/*
 * fuzz/fuzz_mem_pool.c - fuzz target of the mem_pool compat layer (compat/mem_pool),
 * which runs on the heap.
 *
 * One pool (pool_init, or pool_init_size with a size from the input) driven by the input
 * one operation per byte, arguments following; destroyed and re-created on demand and at
 * the end of every input.
 *
 * The model keeps the live blocks (pointer, size, type tag) and a shadow of their bytes.
 * Checked: every return value (0 / -1), including an init of a live pool, size 0,
 * one allocation of the whole size in a fresh pool (the capacity rule), invalid type tags, size 0 and sizes beyond the pool, a free with the wrong
 * size, of NULL, of a copy of a freed pointer, of interior and foreign pointers, calls on
 * a destroyed pool; alignment of each tag; blocks inside [base_address, top_address) and
 * disjoint; *ptr untouched on failure and set to NULL by a successful free; contents kept;
 * the heap under the pool passes tarn_heap_check with the right number of blocks.
 */
#include "fuzz_common.h"
#include "mem_pool.h"

#define MAXL 96u
#define POOL_MAX 16384u

typedef struct mblk {
    bool used;
    unsigned char *p;
    size_t size;
    enum m_type type;
} mblk;

static struct m_pool pool;
static bool live_pool;
static mblk live[MAXL];
static uint32_t nlive;
static unsigned char *dead[32];
static uint32_t ndead, dead_pos;
static unsigned char shadow[4u * POOL_MAX];   /* mirror of the pool's block (control data included) */

static unsigned char *base(void) { return (unsigned char *)pool.base_address; }

static mblk *pick_live(uint32_t k)
{
    uint32_t i;
    if (nlive == 0) return NULL;
    k %= nlive;
    for (i = 0; i < MAXL; i++) {
        if (live[i].used && k-- == 0) return &live[i];
    }
    return NULL;
}

static mblk *find_live(const void *p)
{
    uint32_t i;
    for (i = 0; i < MAXL; i++) {
        if (live[i].used && live[i].p == p) return &live[i];
    }
    return NULL;
}

static void check_all(void)
{
    uint32_t i;
    tarn_heap_stats st;
    if (!live_pool) {
        void *v = NULL;
        FZ_CHECK(pool.base_address == NULL && pool.top_address == NULL);
        FZ_EQ(pool_alloc(&pool, &v, 8, i32), -1);
        FZ_CHECK(v == NULL);
        FZ_EQ(pool_destroy(&pool), -1);
        return;
    }
    FZ_CHECK(base() + pool.size < (unsigned char *)pool.top_address);   /* control data on top */
    FZ_CHECK((size_t)((unsigned char *)pool.top_address - base()) <= sizeof shadow);
    FZ_ST(tarn_heap_check(pool.heap), TARN_OK);
    FZ_ST(tarn_heap_stats_get(pool.heap, &st), TARN_OK);
    FZ_EQ(st.live_blocks, nlive);
    for (i = 0; i < MAXL; i++) {
        if (live[i].used) FZ_EQ(memcmp(live[i].p, shadow + (live[i].p - base()), live[i].size), 0);
    }
}

static void forget(void)
{
    memset(live, 0, sizeof live);
    nlive = ndead = dead_pos = 0;
}

static void op_init(fz_in *in)
{
    unsigned kind = fz_u8(in) % 4u;
    size_t size = kind == 0 ? MEM_POOL_SIZE
                  : kind == 1 ? fz_u8(in) % 8u
                              : 1u + fz_u16(in) % POOL_MAX;
    enum m_type type = (enum m_type)(fz_u8(in) % M_TYPE_COUNT_);
    int rc = kind == 0 ? pool_init(&pool) : pool_init_size(&pool, size);
    FZ_TRACE("  init(%zu) = %d\n", size, rc);
    if (live_pool || size == 0u) {
        FZ_EQ(rc, -1);                         /* already live, or nothing to store: unchanged */
        check_all();
        return;
    }
    FZ_EQ(rc, 0);
    live_pool = true;
    forget();
    FZ_EQ(pool.size, size);
    {   /* capacity: one allocation of the whole size, of any type tag, fits */
        void *v = NULL;
        FZ_EQ(pool_alloc(&pool, &v, size, type), 0);
        FZ_EQ(pool_free(&v, size, &pool), 0);
    }
    check_all();
}

static void op_destroy(void)
{
    FZ_EQ(pool_destroy(&pool), live_pool ? 0 : -1);
    FZ_CHECK(pool.base_address == NULL && pool.heap == NULL);
    live_pool = false;
    forget();
    check_all();
}

static void op_alloc(fz_in *in)
{
    unsigned k = fz_u8(in);
    enum m_type type = (enum m_type)(k % (M_TYPE_COUNT_ + 2u));
    size_t size = (k & 0x80u) ? (fz_u8(in) & 1u ? 0u : POOL_MAX + fz_u16(in)) : 1u + fz_u16(in) % 200u;
    void *v = &k;                              /* a failure leaves it alone */
    size_t align = pool_type_align(type);
    int rc;
    mblk *e = NULL;
    uint32_t i;
    if (nlive == MAXL) return;
    rc = pool_alloc(&pool, &v, size, type);
    FZ_TRACE("  alloc(%zu, tag %d) = %d %p\n", size, (int)type, rc, v);
    /* a size beyond pool.size may still fit (the pool's one block of pool.size, or what
     * is left of it): no room is allowed then, never required */
    if (!live_pool || align == 0 || size == 0) {
        FZ_EQ(rc, -1);
        FZ_CHECK(v == (void *)&k);
        FZ_EQ(pool_alloc(&pool, NULL, 8, i32), -1);
        return;
    }
    if (rc != 0) { FZ_CHECK(v == (void *)&k); return; }   /* no room */
    FZ_CHECK(TARN_IS_ALIGNED(v, align) && TARN_IS_ALIGNED(v, 8u));
    FZ_CHECK((unsigned char *)v >= base() && (unsigned char *)v + size <= (unsigned char *)pool.top_address);
    FZ_CHECK(find_live(v) == NULL);
    for (i = 0; i < MAXL; i++) {   /* disjoint from every live block */
        if (live[i].used) {
            unsigned char *a = live[i].p, *b = (unsigned char *)v;
            FZ_CHECK(b + size <= a || a + live[i].size <= b);
        }
    }
    for (i = 0; i < MAXL && e == NULL; i++) {
        if (!live[i].used) e = &live[i];
    }
    e->used = true;
    e->p = (unsigned char *)v;
    e->size = size;
    e->type = type;
    nlive++;
    fz_fill(v, size, (uint32_t)tarn_fuzz_ops);
    memcpy(shadow + (e->p - base()), v, size);
}

static void op_free(fz_in *in)
{
    static unsigned char elsewhere[8];
    unsigned kind = fz_u8(in) % 8u;
    uint32_t k = fz_u16(in);
    mblk *e = NULL;
    void *v;
    size_t size;
    int rc;
    switch (kind) {
    case 0: case 1: case 2: case 3: e = pick_live(k); v = e ? e->p : NULL; break;
    case 4: v = ndead ? dead[k % ndead] : NULL; break;
    case 5: e = pick_live(k); v = e ? e->p + 1u + k % e->size : NULL; e = NULL; break;
    case 6: v = elsewhere + k % sizeof elsewhere; break;
    default: v = live_pool ? base() + k % pool.size : NULL; break;
    }
    if (e == NULL) e = find_live(v);
    size = e != NULL ? e->size : 1u + k % 64u;
    if (e != NULL && (fz_u8(in) & 3u) == 0) size += 1u + fz_u8(in) % 8u;    /* wrong size */
    if (e != NULL) FZ_EQ(memcmp(e->p, shadow + (e->p - base()), e->size), 0);
    {
        void *copy = v;
        rc = pool_free(&copy, size, &pool);
        FZ_TRACE("  free(%p, %zu) = %d\n", v, size, rc);
        if (e == NULL || size != e->size || !live_pool) {
            FZ_EQ(rc, -1);
            FZ_CHECK(copy == v);
            return;
        }
        FZ_EQ(rc, 0);
        FZ_CHECK(copy == NULL);
        FZ_EQ(pool_free(&copy, size, &pool), -1);   /* *ptr NULL now */
        FZ_EQ(pool_free(NULL, size, &pool), -1);
    }
    e->used = false;
    nlive--;
    dead[dead_pos] = e->p;
    dead_pos = (dead_pos + 1u) % 32u;
    if (ndead < 32u) ndead++;
}

static void op_write(fz_in *in)
{
    mblk *e = pick_live(fz_u16(in));
    size_t off = fz_u16(in), len = fz_u8(in) % 16u, j;
    if (e == NULL) return;
    off %= e->size;
    if (len > e->size - off) len = e->size - off;
    for (j = 0; j < len; j++) e->p[off + j] = fz_u8(in);
    memcpy(shadow + (e->p + off - base()), e->p + off, len);
}

enum { OP_ALLOC, OP_ALLOC2, OP_FREE, OP_FREE2, OP_WRITE, OP_CHECK, OP_INIT, OP_DESTROY, OP_COUNT };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fz_in in;
    unsigned t;
    fz_start(&in, data, size);
    memset(&pool, 0, sizeof pool);
    live_pool = false;
    forget();
    for (t = 0; t < M_TYPE_COUNT_; t++) FZ_CHECK(TARN_IS_POW2(pool_type_align((enum m_type)t)));
    FZ_EQ(pool_type_align(M_TYPE_COUNT_), 0);
    FZ_EQ(pool_init(NULL), -1);
    op_init(&in);
    while (!fz_empty(&in)) {
        unsigned op = fz_u8(&in) % OP_COUNT;
        tarn_fuzz_ops++;
        FZ_TRACE("op %u\n", op);
        switch (op) {
        case OP_ALLOC: case OP_ALLOC2: op_alloc(&in); break;
        case OP_FREE: case OP_FREE2: op_free(&in); break;
        case OP_WRITE: op_write(&in); break;
        case OP_CHECK: check_all(); break;
        case OP_INIT: op_init(&in); break;
        default: op_destroy(); break;
        }
    }
    check_all();
    if (live_pool) FZ_EQ(pool_destroy(&pool), 0);
    return 0;
}
