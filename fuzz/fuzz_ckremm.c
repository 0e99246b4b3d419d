/*
 * fuzz/fuzz_ckremm.c - fuzz target of the ckreMM compat layer (compat/ckremm): the header
 * pool h_pool (on the heap) and the table pool t_pool (on the handle pool).
 *
 * One h_pool and one t_pool, each in a static buffer (at an alignment and size chosen by
 * the input, with or without a lock hook), plus the malloc'd variants created and
 * destroyed within one operation, are driven by the input one operation per byte,
 * arguments following.
 *
 * The model keeps the live blocks / handles with their sizes and a shadow of their bytes,
 * and the lock counts of the t_pool blocks.  Checked: every bool / pointer / handle
 * result, bad arguments included (NULL pool, NULL or foreign or interior or freed
 * pointers, null, stale and foreign handles, locked blocks, copies into smaller blocks,
 * double destroy, buffers too small or misaligned, half a lock hook); a new pool holds one
 * block of the size it was created for; clean zeroes the block; reorder_h_mem is true
 * for every valid pool and changes nothing (compared with a heap walk), reorder_t_mem makes it
 * one region unless locked blocks split it, and never moves a locked block; contents kept
 * across everything; the heap and handle pool underneath pass their checks.
 */
#include "fuzz_common.h"
#include "ckremm.h"

#define HBUF 8192u
#define TDATA 4096u
#define MAXL 48u

typedef struct hb {
    bool used;
    unsigned char *p;
    size_t usable;
} hb;

typedef struct tb {
    bool used;
    t_handle h;
    size_t size;
    unsigned locks;
    unsigned char *pin;
    unsigned char shadow[TDATA];
} tb;

static unsigned char hbuf[HBUF + 16u] __attribute__((aligned(16)));
static unsigned char hshadow[HBUF + 16u];
static unsigned char tbuf[CKREMM_T_POOL_BYTES(TDATA, 64u)] __attribute__((aligned(16)));
static fz_lock hlock, tlock;

static h_pool *H;            /* NULL when there is none */
static h_pool *H_dead;       /* a destroyed caller-buffer pool */
static hb hl[MAXL];
static uint32_t nh;
static unsigned char *hdead[16];
static unsigned char *tptr_old[8];   /* t_pool pointers kept from earlier calls */
static uint32_t nhdead;

static t_pool *T;
static t_pool *T_dead;
static tb tl[MAXL];
static uint32_t nt;
static uint32_t tdead[16];
static uint32_t ntdead;

/* ---- h_pool ----------------------------------------------------------------------------- */
static hb *h_find(const void *p)
{
    uint32_t i;
    for (i = 0; i < MAXL; i++) {
        if (hl[i].used && hl[i].p == p) return &hl[i];
    }
    return NULL;
}

static hb *h_pick(uint32_t k)
{
    uint32_t i;
    if (nh == 0) return NULL;
    k %= nh;
    for (i = 0; i < MAXL; i++) {
        if (hl[i].used && k-- == 0) return &hl[i];
    }
    return NULL;
}

typedef struct hw {
    int nfree;
    size_t used_blocks;
} hw;

static bool h_walk_cb(void *ctx, void *block, size_t size, bool used)
{
    hw *w = (hw *)ctx;
    (void)size;
    if (used) {
        hb *e = h_find(block);
        FZ_CHECK(e != NULL && e->usable == size);
        w->used_blocks++;
    } else {
        w->nfree++;
    }
    return true;
}

static void h_check(void)
{
    hw w = {0, 0};
    uint32_t i;
    if (H == NULL) {
        FZ_CHECK(h_pool_alloc(H_dead, 8) == NULL);
        FZ_CHECK(h_pool_tarn(H_dead) == NULL);
        return;
    }
    FZ_ST(tarn_heap_check(h_pool_tarn(H)), TARN_OK);
    FZ_ST(tarn_heap_walk(h_pool_tarn(H), h_walk_cb, &w), TARN_OK);
    FZ_EQ(w.used_blocks, nh);
    /* nothing can move and free neighbours are merged already: true for a valid pool,
     * and the heap is unchanged */
    FZ_CHECK(reorder_h_mem(H));
    {
        hw w2 = {0, 0};
        FZ_ST(tarn_heap_walk(h_pool_tarn(H), h_walk_cb, &w2), TARN_OK);
        FZ_EQ(w2.used_blocks, w.used_blocks);
        FZ_EQ(w2.nfree, w.nfree);
    }
    for (i = 0; i < MAXL; i++) {
        if (hl[i].used) FZ_EQ(memcmp(hl[i].p, hshadow + (hl[i].p - hbuf), hl[i].usable), 0);
    }
    FZ_EQ(hlock.depth, 0);
}

static void h_create(fz_in *in)
{
    unsigned f = fz_u8(in);
    size_t off = fz_u8(in) % 16u;
    size_t size = fz_u16(in) % (HBUF + 1u);
    tarn_lock lk = fz_lock_hook(&hlock);
    bool big_enough = size >= 15u + CKREMM_H_POOL_HEADER + TARN_HEAP_MIN_SIZE;
    h_pool *p;
    if (f & 4u) lk.unlock = NULL;                       /* half a hook */
    if (H != NULL) FZ_CHECK(destroy_h_pool(H));
    H = NULL;
    H_dead = NULL;           /* the buffer is reused: the old pool pointer means nothing */
    memset(hl, 0, sizeof hl);
    nh = nhdead = 0;
    hlock.depth = 0;
    p = create_h_pool_in((f & 8u) ? NULL : hbuf + off, size, (f & 1u) ? &lk : NULL);
    FZ_TRACE("  create_h_pool_in(+%zu, %zu) = %p\n", off, size, (void *)p);
    if ((f & 8u) || ((f & 1u) && (f & 4u))) { FZ_CHECK(p == NULL); return; }
    if (big_enough) FZ_CHECK(p != NULL);
    else if (size < CKREMM_H_POOL_HEADER + TARN_HEAP_MIN_SIZE) FZ_CHECK(p == NULL);
    H = p;
    if (H != NULL) h_check();
}

static void h_alloc(fz_in *in)
{
    size_t size = (fz_u8(in) & 7u) == 0 ? 0u : 1u + fz_u16(in) % 600u;
    unsigned char *p;
    hb *e = NULL;
    uint32_t i;
    tarn_heap_stats st;
    if (H == NULL) { FZ_CHECK(h_pool_alloc(H_dead, 8) == NULL); return; }
    if (nh == MAXL) return;
    FZ_ST(tarn_heap_stats_get(h_pool_tarn(H), &st), TARN_OK);
    p = (unsigned char *)h_pool_alloc(H, size);
    FZ_EQ(hlock.depth, 0);
    if (size == 0) { FZ_CHECK(p == NULL); return; }
    if (p == NULL) { FZ_CHECK(size > st.max_alloc); return; }
    FZ_CHECK(h_find(p) == NULL && TARN_IS_ALIGNED(p, TARN_HEAP_GRANULE));
    FZ_CHECK(p >= hbuf && p < hbuf + sizeof hbuf);
    for (i = 0; i < MAXL && e == NULL; i++) {
        if (!hl[i].used) e = &hl[i];
    }
    e->used = true;
    e->p = p;
    e->usable = h_pool_size(H, p);
    FZ_CHECK(e->usable >= size && p + e->usable <= hbuf + sizeof hbuf);
    nh++;
    fz_fill(p, e->usable, (uint32_t)tarn_fuzz_ops);
    memcpy(hshadow + (p - hbuf), p, e->usable);
}

static unsigned char *h_pick_ptr(fz_in *in, hb **e)
{
    static unsigned char elsewhere[8];
    unsigned kind = fz_u8(in) % 6u;
    uint32_t k = fz_u16(in);
    unsigned char *p;
    switch (kind) {
    case 0: case 1: p = (*e = h_pick(k)) ? (*e)->p : NULL; break;
    case 2: p = nhdead ? hdead[k % nhdead] : NULL; break;
    case 3: p = (*e = h_pick(k)) ? (*e)->p + 1u + k % (*e)->usable : NULL; break;
    case 4: p = hbuf + k % sizeof hbuf; break;
    default: p = (k & 1u) ? NULL : elsewhere; break;
    }
    *e = h_find(p);
    return p;
}

static void h_free_or_clean(fz_in *in, int what)
{
    hb *e = NULL;
    unsigned char *p = h_pick_ptr(in, &e);
    bool ok;
    if (H == NULL) {
        FZ_CHECK(!h_pool_dealloc(H_dead, p) && !clean_h_ptr(H_dead, p) && h_pool_size(H_dead, p) == 0);
        return;
    }
    if (what == 2) { FZ_EQ(h_pool_size(H, p), e ? e->usable : 0u); return; }
    ok = what == 0 ? h_pool_dealloc(H, p) : clean_h_ptr(H, p);
    FZ_EQ(hlock.depth, 0);
    FZ_EQ(ok, e != NULL);
    if (!ok) return;
    if (what == 1) {
        size_t j;
        for (j = 0; j < e->usable; j++) FZ_EQ(p[j], 0);
        memset(hshadow + (p - hbuf), 0, e->usable);
        return;
    }
    e->used = false;
    nh--;
    hdead[nhdead++ % 16u] = p;
    if (nhdead > 16u) nhdead = 16u;
    FZ_CHECK(!h_pool_dealloc(H, p));     /* a second time: refused */
}

static void h_destroy(void)
{
    if (H == NULL) {
        FZ_CHECK(!destroy_h_pool(H_dead));
        FZ_CHECK(!destroy_h_pool(NULL));
        return;
    }
    FZ_CHECK(destroy_h_pool(H));
    FZ_CHECK(!destroy_h_pool(H));          /* a caller-buffer pool: refused the second time */
    H_dead = H;
    H = NULL;
    h_check();
}

/* create_h_pool(size): malloc'd, and one block of `size` fits into the new pool. */
static void h_malloced(fz_in *in)
{
    size_t size = fz_u16(in) % 20000u;
    h_pool *p = create_h_pool(size);
    void *b;
    if (size == 0) { FZ_CHECK(p == NULL); return; }
    FZ_CHECK(p != NULL);
    b = h_pool_alloc(p, size);
    FZ_CHECK(b != NULL && h_pool_size(p, b) >= size);
    memset(b, 0x5A, size);
    FZ_CHECK(!h_pool_dealloc(p, (unsigned char *)b + 1));
    FZ_CHECK(h_pool_dealloc(p, b));
    FZ_CHECK(reorder_h_mem(p));
    FZ_CHECK(destroy_h_pool(p));
}

/* ---- t_pool ----------------------------------------------------------------------------- */
static tb *t_find(t_handle h)
{
    uint32_t i;
    for (i = 0; i < MAXL; i++) {
        if (tl[i].used && tarn_handle_eq(tl[i].h, h)) return &tl[i];
    }
    return NULL;
}

static tb *t_pick(uint32_t k, int locked)
{
    uint32_t i, n = 0;
    for (i = 0; i < MAXL; i++) n += tl[i].used && (locked < 0 || (tl[i].locks > 0) == (locked > 0));
    if (n == 0) return NULL;
    k %= n;
    for (i = 0; i < MAXL; i++) {
        if (tl[i].used && (locked < 0 || (tl[i].locks > 0) == (locked > 0)) && k-- == 0) return &tl[i];
    }
    return NULL;
}

static unsigned t_pinned(void)
{
    unsigned i, n = 0;
    for (i = 0; i < MAXL; i++) n += tl[i].used && tl[i].locks > 0;
    return n;
}

/* Read a block's bytes through a lock (then unlock) and compare with the shadow. */
static void t_verify(tb *e)
{
    unsigned char *p = (unsigned char *)t_pool_lock(T, e->h);
    FZ_CHECK(p != NULL);
    if (e->locks > 0) FZ_CHECK(p == e->pin);
    FZ_EQ(memcmp(p, e->shadow, e->size), 0);
    FZ_CHECK(t_pool_unlock(T, e->h));
}

static void t_check(void)
{
    tarn_handle_stats st;
    uint32_t i;
    if (T == NULL) {
        FZ_CHECK(tarn_handle_is_null(t_pool_alloc_handle(T_dead, 8)));
        FZ_CHECK(t_pool_tarn(T_dead) == NULL);
        return;
    }
    FZ_ST(tarn_handle_check(t_pool_tarn(T)), TARN_OK);
    FZ_ST(tarn_handle_stats_get(t_pool_tarn(T), &st), TARN_OK);
    FZ_EQ(st.handles_used, nt);
    FZ_EQ(st.pinned, t_pinned());
    for (i = 0; i < MAXL; i++) {
        if (tl[i].used) t_verify(&tl[i]);
    }
    FZ_EQ(tlock.depth, 0);
}

static void t_create(fz_in *in)
{
    unsigned f = fz_u8(in);
    size_t data = TARN_HANDLE_SPAN(1u) + fz_u16(in) % (TDATA - 7u); /* a 1-byte block fits */
    size_t handles = (f & 2u) ? 0u : 1u + fz_u8(in) % 64u;
    size_t bytes = CKREMM_T_POOL_BYTES(data, handles ? handles : 64u);
    tarn_lock lk = fz_lock_hook(&tlock);
    unsigned char *mem = tbuf;
    t_pool *p;
    uint32_t i;
    if (bytes > sizeof tbuf) bytes = sizeof tbuf;
    if (T != NULL) {
        for (i = 0; i < MAXL; i++) {
            while (tl[i].used && tl[i].locks > 0) { FZ_CHECK(t_pool_unlock(T, tl[i].h)); tl[i].locks--; }
        }
        FZ_CHECK(destroy_t_pool(T));
    }
    T = NULL;
    T_dead = NULL;
    memset(tl, 0, sizeof tl);
    memset(tptr_old, 0, sizeof tptr_old);
    nt = ntdead = 0;
    tlock.depth = 0;
    if (f & 4u) lk.unlock = NULL;
    if (f & 8u) mem += 1u + fz_u8(in) % (TARN_ALIGN - 1u);
    if (f & 16u) bytes = fz_u8(in) % (CKREMM_T_POOL_HEADER + 8u);
    p = create_pool_in(mem, bytes, handles, (f & 1u) ? &lk : NULL);
    FZ_TRACE("  create_pool_in(%zu, %zu handles) = %p\n", bytes, handles, (void *)p);
    if (((f & 1u) && (f & 4u)) || (f & 8u) || (f & 16u)) { FZ_CHECK(p == NULL); return; }
    FZ_CHECK(p != NULL);
    T = p;
    t_check();
}

static void t_alloc(fz_in *in)
{
    size_t size = (fz_u8(in) & 7u) == 0 ? 0u : 1u + fz_u16(in) % 400u;
    t_handle h;
    tb *e = NULL;
    unsigned char *p;
    uint32_t i;
    if (T == NULL) { FZ_CHECK(tarn_handle_is_null(t_pool_alloc_handle(T_dead, 8))); return; }
    if (nt == MAXL) return;
    h = t_pool_alloc_handle(T, size);
    FZ_EQ(tlock.depth, 0);
    if (size == 0) { FZ_CHECK(tarn_handle_is_null(h)); return; }
    if (tarn_handle_is_null(h)) return;                 /* no room (see the handle target) */
    FZ_CHECK(t_find(h) == NULL);
    for (i = 0; i < MAXL && e == NULL; i++) {
        if (!tl[i].used) e = &tl[i];
    }
    e->used = true;
    e->h = h;
    e->size = size;
    e->locks = 0;
    nt++;
    FZ_EQ(t_pool_size(T, h), size);
    p = (unsigned char *)t_pool_lock(T, h);
    FZ_CHECK(p != NULL);
    fz_fill(p, size, (uint32_t)tarn_fuzz_ops);
    memcpy(e->shadow, p, size);
    FZ_CHECK(t_pool_unlock(T, h));
}

static t_handle t_pick_handle(fz_in *in, tb **e)
{
    unsigned kind = fz_u8(in) % 6u;
    uint32_t k = fz_u16(in);
    t_handle h = tarn_handle_null();
    switch (kind) {
    case 0: case 1: case 2: if ((*e = t_pick(k, -1)) != NULL) h = (*e)->h; break;
    case 3: if (ntdead) h = tarn_handle_from_u32(tdead[k % ntdead]); break;
    case 4: h = tarn_handle_from_u32(((uint32_t)fz_u16(in) << 16) | k); break;
    default: break;
    }
    *e = t_find(h);
    return h;
}

static void t_op(fz_in *in, int what)
{
    tb *e = NULL, *s = NULL;
    t_handle h = t_pick_handle(in, &e), h2;
    if (T == NULL) {
        FZ_CHECK(!t_pool_dealloc_handle(T_dead, h) && !clean_t_handle(T_dead, h) && t_pool_lock(T_dead, h) == NULL);
        return;
    }
    switch (what) {
    case 0: /* dealloc */
        FZ_EQ(t_pool_dealloc_handle(T, h), e != NULL && e->locks == 0);
        if (e != NULL && e->locks == 0) {
            e->used = false;
            nt--;
            tdead[ntdead++ % 16u] = tarn_handle_to_u32(h);
            if (ntdead > 16u) ntdead = 16u;
            FZ_CHECK(!t_pool_dealloc_handle(T, h));
        }
        break;
    case 1: /* clean */
        FZ_EQ(clean_t_handle(T, h), e != NULL);
        if (e != NULL) memset(e->shadow, 0, e->size);
        break;
    case 2: { /* lock */
        unsigned char *p = (unsigned char *)t_pool_lock(T, h);
        FZ_EQ(p != NULL, e != NULL);
        if (e == NULL) break;
        if (e->locks > 0) FZ_CHECK(p == e->pin);
        FZ_EQ(memcmp(p, e->shadow, e->size), 0);
        e->locks++;
        e->pin = p;
        break;
    }
    case 3: /* unlock */
        if (fz_u8(in) & 1u) {
            tb *l = t_pick(fz_u8(in), 1);
            if (l != NULL) { e = l; h = l->h; }
        }
        FZ_EQ(t_pool_unlock(T, h), e != NULL && e->locks > 0);
        if (e != NULL && e->locks > 0) e->locks--;
        break;
    case 4: /* copy */
        h2 = t_pick_handle(in, &s);
        FZ_EQ(copy_t_handle(T, h, h2), e != NULL && s != NULL && e->size >= s->size);
        if (e != NULL && s != NULL && e->size >= s->size) memmove(e->shadow, s->shadow, s->size);
        break;
    default: /* size */
        FZ_EQ(t_pool_size(T, h), e != NULL ? e->size : 0u);
        break;
    }
    FZ_EQ(tlock.depth, 0);
}

/* ckreMM's own calls, by pointer: a live block's pointer, one a few words into a block,
 * any address in the pool's buffer, or a pointer kept from before (the block freed, or
 * moved by a reorder).  The model says which live block, if any, starts there. */
static void t_ptr_op(fz_in *in)
{
    unsigned kind = fz_u8(in) % 4u, what = fz_u8(in) % 2u;
    uint32_t k = fz_u16(in), i;
    tb *e = t_pick(k, -1), *x = NULL;
    unsigned char *p = NULL;
    bool ok;
    if (T == NULL) {
        FZ_CHECK(!t_pool_dealloc(T_dead, tbuf + CKREMM_T_POOL_HEADER) && !clean_t_ptr(T_dead, tbuf));
        return;
    }
    switch (kind) {
    case 0: if (e != NULL) p = (unsigned char *)t_pool_ptr(T, e->h); break;
    case 1: if (e != NULL) p = (unsigned char *)t_pool_ptr(T, e->h) + TARN_ALIGN * (1u + k % 4u); break;
    case 2: p = tbuf + k % sizeof tbuf; break;
    default: p = tptr_old[k % 8u]; break;
    }
    for (i = 0; i < MAXL; i++) {
        if (tl[i].used && p != NULL && (unsigned char *)t_pool_ptr(T, tl[i].h) == p) x = &tl[i];
    }
    if (what == 0) {
        ok = t_pool_dealloc(T, p);
        FZ_EQ(ok, x != NULL && x->locks == 0);
        if (ok) {
            x->used = false;
            nt--;
            tdead[ntdead++ % 16u] = tarn_handle_to_u32(x->h);
            if (ntdead > 16u) ntdead = 16u;
            FZ_CHECK(!t_pool_dealloc(T, p));
        }
    } else {
        FZ_EQ(clean_t_ptr(T, p), x != NULL);
        if (x != NULL) memset(x->shadow, 0, x->size);
    }
    if (p != NULL) tptr_old[k % 8u] = p;
    FZ_EQ(tlock.depth, 0);
}

static void t_reorder(void)
{
    tarn_handle_stats st;
    bool one;
    if (T == NULL) { FZ_CHECK(!reorder_t_mem(T_dead)); return; }
    one = reorder_t_mem(T);
    FZ_EQ(tlock.depth, 0);
    FZ_ST(tarn_handle_stats_get(t_pool_tarn(T), &st), TARN_OK);
    FZ_EQ(one, st.largest_free == st.free);
    if (t_pinned() == 0) FZ_CHECK(one);
    t_check();                                   /* locked blocks did not move */
}

static void t_destroy(void)
{
    if (T == NULL) { FZ_CHECK(!destroy_t_pool(T_dead)); return; }
    if (t_pinned() > 0) { FZ_CHECK(!destroy_t_pool(T)); t_check(); return; }
    FZ_CHECK(destroy_t_pool(T));
    FZ_CHECK(!destroy_t_pool(T));
    T_dead = T;
    T = NULL;
    t_check();
}

/* create_pool(size): malloc'd; a block of `size` bytes fits into the new pool. */
static void t_malloced(fz_in *in)
{
    size_t size = fz_u16(in) % 20000u;
    t_pool *p = create_pool(size);
    t_handle h;
    if (size == 0) { FZ_CHECK(p == NULL); return; }
    FZ_CHECK(p != NULL);
    h = t_pool_alloc_handle(p, size);
    FZ_CHECK(!tarn_handle_is_null(h) && t_pool_size(p, h) == size);
    FZ_CHECK(t_pool_lock(p, h) != NULL);
    FZ_CHECK(!destroy_t_pool(p));               /* locked */
    FZ_CHECK(t_pool_unlock(p, h));
    FZ_CHECK(t_pool_dealloc_handle(p, h));
    FZ_CHECK(reorder_t_mem(p));
    FZ_CHECK(destroy_t_pool(p));
}

enum {
    OP_H_ALLOC, OP_H_ALLOC2, OP_H_FREE, OP_H_CLEAN, OP_H_SIZE, OP_H_WRITE, OP_H_CHECK,
    OP_H_CREATE, OP_H_DESTROY, OP_H_MALLOC, OP_T_ALLOC, OP_T_ALLOC2, OP_T_FREE, OP_T_CLEAN,
    OP_T_LOCK, OP_T_UNLOCK, OP_T_COPY, OP_T_SIZE, OP_T_REORDER, OP_T_CHECK, OP_T_CREATE,
    OP_T_DESTROY, OP_T_MALLOC, OP_T_PTR, OP_COUNT
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fz_in in;
    fz_start(&in, data, size);
    H = NULL;
    T = NULL;
    h_create(&in);
    t_create(&in);
    while (!fz_empty(&in)) {
        unsigned op = fz_u8(&in) % OP_COUNT;
        tarn_fuzz_ops++;
        FZ_TRACE("op %u\n", op);
        switch (op) {
        case OP_H_ALLOC: case OP_H_ALLOC2: h_alloc(&in); break;
        case OP_H_FREE: h_free_or_clean(&in, 0); break;
        case OP_H_CLEAN: h_free_or_clean(&in, 1); break;
        case OP_H_SIZE: h_free_or_clean(&in, 2); break;
        case OP_H_WRITE: {
            hb *e = h_pick(fz_u16(&in));
            size_t off = fz_u16(&in), n = fz_u8(&in) % 16u, j;
            if (H == NULL || e == NULL) break;
            off %= e->usable;
            if (n > e->usable - off) n = e->usable - off;
            for (j = 0; j < n; j++) e->p[off + j] = fz_u8(&in);
            memcpy(hshadow + (e->p + off - hbuf), e->p + off, n);
            break;
        }
        case OP_H_CHECK: h_check(); break;
        case OP_H_CREATE: h_create(&in); break;
        case OP_H_DESTROY: h_destroy(); break;
        case OP_H_MALLOC: h_malloced(&in); break;
        case OP_T_ALLOC: case OP_T_ALLOC2: t_alloc(&in); break;
        case OP_T_FREE: t_op(&in, 0); break;
        case OP_T_CLEAN: t_op(&in, 1); break;
        case OP_T_LOCK: t_op(&in, 2); break;
        case OP_T_UNLOCK: t_op(&in, 3); break;
        case OP_T_COPY: t_op(&in, 4); break;
        case OP_T_SIZE: t_op(&in, 5); break;
        case OP_T_PTR: t_ptr_op(&in); break;
        case OP_T_REORDER: t_reorder(); break;
        case OP_T_CHECK: t_check(); break;
        case OP_T_CREATE: t_create(&in); break;
        case OP_T_DESTROY: t_destroy(); break;
        default: t_malloced(&in); break;
        }
    }
    h_check();
    t_check();
    if (H != NULL) FZ_CHECK(destroy_h_pool(H));
    if (T != NULL) {
        uint32_t i;
        for (i = 0; i < MAXL; i++) {
            while (tl[i].used && tl[i].locks > 0) { FZ_CHECK(t_pool_unlock(T, tl[i].h)); tl[i].locks--; }
        }
        FZ_CHECK(destroy_t_pool(T));
    }
    H_dead = NULL;
    T_dead = NULL;
    return 0;
}
