/* tests/test_ckremm.c - the ckreMM compat layer over caller buffers (no malloc): h_pool and
 * t_pool, every function, every bad argument, and short random runs against models. */
#include "check.h"
#include "ckremm.h"

#include <string.h>

#define TDATA (32u * CKREMM_T_BLOCK_BYTES(128u))   /* 4352 bytes, more in canary mode */
#define TH 64u

static unsigned char tmem[CKREMM_T_POOL_BYTES(TDATA, TH)] TARN_HANDLE_ALIGNED;
static unsigned char hmem[8192 + 64] TARN_HANDLE_ALIGNED;
static unsigned char hmem2[2048] TARN_HANDLE_ALIGNED;

static int t_lock_depth, t_lock_calls;
static void t_lock(void *ctx)
{
    (void)ctx;
    t_lock_depth++;
    t_lock_calls++;
}
static void t_unlock(void *ctx)
{
    (void)ctx;
    t_lock_depth--;
}

static void fill(t_pool *p, t_handle h, uint32_t tag)
{
    unsigned char *q = (unsigned char *)t_pool_lock(p, h);
    REQUIRE(q != NULL);
    check_fill(q, t_pool_size(p, h), tag);
    CHECK(t_pool_unlock(p, h));
}
static int holds(t_pool *p, t_handle h, size_t n, uint32_t tag)
{
    unsigned char *q = (unsigned char *)t_pool_lock(p, h);
    int ok;
    if (q == NULL) return 0;
    ok = check_verify(q, n, tag);
    CHECK(t_pool_unlock(p, h));
    return ok;
}

static void test_t_create(void)
{
    t_pool *p;
    tarn_lock half = {t_lock, NULL, NULL};
    tarn_handle_stats st;
    CHECK(create_pool_in(NULL, sizeof tmem, TH, NULL) == NULL);
    CHECK(create_pool_in(tmem + 1, sizeof tmem - 1, TH, NULL) == NULL);
    CHECK(create_pool_in(tmem, CKREMM_T_POOL_HEADER, TH, NULL) == NULL);
    CHECK(create_pool_in(tmem, CKREMM_T_POOL_BYTES(TARN_ALIGN, TH) - 1u, TH, NULL) == NULL);
    CHECK(create_pool_in(tmem, sizeof tmem, TH, &half) == NULL);
    CHECK(create_pool_in(tmem, sizeof tmem, TARN_HANDLE_MAX_COUNT + 1u, NULL) == NULL);
    /* exact sizing: TDATA bytes of data, TH handles */
    p = create_pool_in(tmem, sizeof tmem, TH, NULL);
    REQUIRE(p != NULL);
    CHECK_EQ(tarn_handle_stats_get(t_pool_tarn(p), &st), TARN_OK);
    CHECK_EQ(st.capacity, TDATA);
    CHECK_EQ(st.handles, TH);
    CHECK(destroy_t_pool(p));
    CHECK(!destroy_t_pool(p)); /* destroyed already */
    CHECK(!destroy_t_pool(NULL));
    /* default handle count for the buffer */
    p = create_pool_in(tmem, sizeof tmem, 0, NULL);
    REQUIRE(p != NULL);
    CHECK_EQ(tarn_handle_stats_get(t_pool_tarn(p), &st), TARN_OK);
    CHECK(st.handles >= 8u && st.capacity >= st.handles * 16u);
    CHECK(destroy_t_pool(p));
    /* the smallest buffer */
    p = create_pool_in(tmem, CKREMM_T_POOL_BYTES(CKREMM_T_BLOCK_BYTES(TARN_ALIGN), 1), 1, NULL);  /* guard bytes in canary mode */
    REQUIRE(p != NULL);
    CHECK(!tarn_handle_is_null(t_pool_alloc_handle(p, TARN_ALIGN)));
    CHECK(tarn_handle_is_null(t_pool_alloc_handle(p, 1)));
    CHECK(destroy_t_pool(p));
}

static void test_t_api(void)
{
    t_pool *p = create_pool_in(tmem, sizeof tmem, TH, NULL);
    t_handle a, b, c, bad;
    unsigned char *q;
    size_t i;
    int zero = 1;
    REQUIRE(p != NULL);
    a = t_pool_alloc_handle(p, 100);
    b = t_pool_alloc_handle(p, 60);
    c = t_pool_alloc_handle(p, 200);
    CHECK(!tarn_handle_is_null(a) && !tarn_handle_is_null(b) && !tarn_handle_is_null(c));
    CHECK(tarn_handle_is_null(t_pool_alloc_handle(p, 0)));
    CHECK(tarn_handle_is_null(t_pool_alloc_handle(p, TDATA + 1u)));
    CHECK(tarn_handle_is_null(t_pool_alloc_handle(NULL, 8)));
    CHECK_EQ(t_pool_size(p, a), 100);
    CHECK_EQ(t_pool_size(NULL, a), 0);
    fill(p, a, 1);
    fill(p, b, 2);
    fill(p, c, 3);
    /* copy: the listed block copy */
    CHECK(!copy_t_handle(p, b, a));        /* dst smaller: refused, nothing copied */
    CHECK(holds(p, b, 60, 2));
    CHECK(copy_t_handle(p, c, a));
    CHECK(holds(p, c, 100, 1));
    CHECK(!copy_t_handle(NULL, c, a));
    CHECK(!copy_t_handle(p, c, tarn_handle_null()));
    /* clean */
    CHECK(clean_t_handle(p, b));
    q = (unsigned char *)t_pool_lock(p, b);
    for (i = 0; i < 60; i++) zero &= q[i] == 0;
    CHECK(zero);
    CHECK(t_pool_unlock(p, b));
    CHECK(!clean_t_handle(NULL, b));
    CHECK(!clean_t_handle(p, tarn_handle_null()));
    /* lock / unlock */
    CHECK(!t_pool_unlock(p, a));        /* not locked */
    CHECK(t_pool_lock(NULL, a) == NULL);
    CHECK(!t_pool_unlock(NULL, a));
    /* dealloc: double free and stale handles are refused without harm */
    CHECK(t_pool_dealloc_handle(p, a));
    CHECK(!t_pool_dealloc_handle(p, a));
    CHECK(t_pool_lock(p, a) == NULL);
    CHECK(!clean_t_handle(p, a));
    CHECK(!copy_t_handle(p, c, a));
    CHECK(!t_pool_dealloc_handle(NULL, b));
    CHECK(!t_pool_dealloc_handle(p, tarn_handle_null()));
    bad = tarn_handle_from_u32(0xDEAD0003u);
    CHECK(!t_pool_dealloc_handle(p, bad) || tarn_handle_eq(bad, b) || tarn_handle_eq(bad, c));
    /* a locked block cannot be freed, and the pool cannot be destroyed */
    q = (unsigned char *)t_pool_lock(p, c);
    CHECK(q != NULL);
    CHECK(!t_pool_dealloc_handle(p, c));
    CHECK(!destroy_t_pool(p));
    CHECK(t_pool_unlock(p, c));
    CHECK(holds(p, c, 100, 1));
    CHECK(t_pool_tarn(NULL) == NULL);
    CHECK_EQ(tarn_handle_check(t_pool_tarn(p)), TARN_OK);
    CHECK(destroy_t_pool(p));
    CHECK(t_pool_lock(p, c) == NULL); /* every call on a destroyed pool fails cleanly */
    CHECK(tarn_handle_is_null(t_pool_alloc_handle(p, 8)));
    CHECK(!reorder_t_mem(p));
}

static void test_t_reorder(void)
{
    t_pool *p = create_pool_in(tmem, sizeof tmem, TH, NULL);
    t_handle h[32], big;
    tarn_handle_stats st;
    unsigned i;
    REQUIRE(p != NULL);
    for (i = 0; i < 32; i++) {
        h[i] = t_pool_alloc_handle(p, 128);
        REQUIRE(!tarn_handle_is_null(h[i]));
        fill(p, h[i], 10 + i);
    }
    for (i = 0; i < 32; i += 2) CHECK(t_pool_dealloc_handle(p, h[i]));
    big = t_pool_alloc_handle(p, 1024);
    CHECK(tarn_handle_is_null(big));         /* fragmented: 2048 free in 128-byte holes */
    CHECK(reorder_t_mem(p));                 /* one free region now */
    CHECK_EQ(tarn_handle_stats_get(t_pool_tarn(p), &st), TARN_OK);
    CHECK_EQ(st.largest_free, st.free);
    big = t_pool_alloc_handle(p, 1024);
    CHECK(!tarn_handle_is_null(big));
    for (i = 1; i < 32; i += 2) CHECK(holds(p, h[i], 128, 10 + i));
    /* a locked block splits the free space: reorder says so */
    CHECK(t_pool_dealloc_handle(p, h[1]));
    CHECK(t_pool_lock(p, h[5]) != NULL);
    CHECK(!reorder_t_mem(p));
    CHECK(t_pool_unlock(p, h[5]));
    CHECK(reorder_t_mem(p));
    CHECK(!reorder_t_mem(NULL));
    CHECK(destroy_t_pool(p));
}

static void test_t_lock_hook(void)
{
    tarn_lock hook = {t_lock, t_unlock, NULL};
    t_pool *p = create_pool_in(tmem, sizeof tmem, TH, &hook);
    t_handle a;
    REQUIRE(p != NULL);
    t_lock_calls = 0;
    a = t_pool_alloc_handle(p, 10);
    /* three critical sections, never nested: the alloc, and the lock and unlock that
     * write the block's handle into its prefix */
    CHECK_EQ(t_lock_calls, TARN_LOCKING ? 3 : 0);
    CHECK_EQ(t_lock_depth, 0);
    CHECK(reorder_t_mem(p));
    CHECK(t_pool_dealloc_handle(p, a));
    CHECK(t_lock_calls >= (TARN_LOCKING ? 3 : 0));
    CHECK_EQ(t_lock_depth, 0);
    CHECK(destroy_t_pool(p));
}

/* Random operations against a model, with reorders in between. */
static void test_t_model(void)
{
    t_pool *p = create_pool_in(tmem, sizeof tmem, TH, NULL);
    t_handle h[TH];
    size_t sz[TH], kn[TH]; /* size, and leading bytes holding tag's pattern */
    uint32_t tag[TH];
    unsigned n = 0, k, iters = (unsigned)CHECK_ITERS(100000), i;
    REQUIRE(p != NULL);
    check_seed(3);
    for (k = 0; k < iters; k++) {
        uint32_t r = check_below(100);
        if (n == 0 || (r < 45 && n < TH)) {
            size_t s = 1u + check_below(300);
            t_handle x = t_pool_alloc_handle(p, s);
            if (tarn_handle_is_null(x)) continue;
            h[n] = x;
            sz[n] = kn[n] = s;
            tag[n] = (uint32_t)check_rand();
            fill(p, x, tag[n]);
            n++;
        } else if (r < 90) {
            i = check_below(n);
            CHECK(t_pool_dealloc_handle(p, h[i]));
            CHECK(!t_pool_dealloc_handle(p, h[i]));
            h[i] = h[--n];
            sz[i] = sz[n];
            kn[i] = kn[n];
            tag[i] = tag[n];
        } else if (r < 97) {
            CHECK(reorder_t_mem(p));
            for (i = 0; i < n; i++) CHECK(holds(p, h[i], kn[i], tag[i]));
        } else {
            unsigned d = check_below(n), s = check_below(n);
            bool ok = copy_t_handle(p, h[d], h[s]);
            CHECK_EQ(ok, sz[d] >= sz[s]);
            if (ok && d != s) {
                kn[d] = kn[s]; /* the model now knows only the copied part */
                tag[d] = tag[s];
            }
        }
    }
    CHECK_EQ(tarn_handle_check(t_pool_tarn(p)), TARN_OK);
    while (n > 0) CHECK(t_pool_dealloc_handle(p, h[--n]));
    CHECK(destroy_t_pool(p));
}

/* ---- h_pool ---------------------------------------------------------------------------- */
static void test_h_create(void)
{
    h_pool *p;
    tarn_lock half = {NULL, t_unlock, NULL};
    tarn_heap_stats st;
    CHECK(create_h_pool_in(NULL, sizeof hmem, NULL) == NULL);
    CHECK(create_h_pool_in(hmem, 16, NULL) == NULL);
    CHECK(create_h_pool_in(hmem, CKREMM_H_POOL_HEADER + TARN_HEAP_MIN_SIZE - 1u, NULL) == NULL);
    CHECK(create_h_pool_in(hmem, sizeof hmem, &half) == NULL);
    /* any alignment of the buffer */
    p = create_h_pool_in(hmem + 3, sizeof hmem - 3, NULL);
    REQUIRE(p != NULL);
    CHECK_EQ(tarn_heap_stats_get(h_pool_tarn(p), &st), TARN_OK);
    CHECK(st.capacity > 7000u && st.capacity < sizeof hmem);
    CHECK(destroy_h_pool(p));
    CHECK(!destroy_h_pool(p)); /* destroyed already */
    CHECK(!destroy_h_pool(NULL));
    CHECK(h_pool_alloc(p, 8) == NULL);
    CHECK(h_pool_tarn(p) == NULL);
}

static void test_h_api(void)
{
    h_pool *p = create_h_pool_in(hmem, sizeof hmem, NULL);
    h_pool *q = create_h_pool_in(hmem2, sizeof hmem2, NULL);
    unsigned char *a, *b, *c, *x, local[16];
    size_t i;
    int zero = 1;
    REQUIRE(p != NULL && q != NULL);
    (void)local;
    CHECK(reorder_h_mem(p));                    /* empty: one free region */
    a = (unsigned char *)h_pool_alloc((poolh *)p, 100);
    b = (unsigned char *)h_pool_alloc(p, 200);
    c = (unsigned char *)h_pool_alloc(p, 300);
    CHECK(a != NULL && b != NULL && c != NULL);
    CHECK(TARN_IS_ALIGNED(a, TARN_HEAP_GRANULE));
    CHECK(h_pool_alloc(p, 0) == NULL);
    CHECK(h_pool_alloc(p, sizeof hmem) == NULL);
    CHECK(h_pool_alloc(NULL, 8) == NULL);
    CHECK(h_pool_size(p, a) >= 100u);
#if TARN_CHECK_LEVEL >= 1 /* level 0 trusts pointers */
    CHECK_EQ(h_pool_size(p, a + 1), 0);
#endif
    CHECK_EQ(h_pool_size(NULL, a), 0);
    check_fill(a, 100, 1);
    check_fill(b, 200, 2);
    check_fill(c, 300, 3);
    /* clean */
    CHECK(clean_h_ptr(p, b));
    for (i = 0; i < 200; i++) zero &= b[i] == 0;
    CHECK(zero);
    CHECK(!clean_h_ptr(p, NULL));
    CHECK(!clean_h_ptr(NULL, b));
    CHECK(!h_pool_dealloc(p, NULL));
    CHECK(!h_pool_dealloc(NULL, a));
    x = (unsigned char *)h_pool_alloc(q, 32);
    CHECK(x != NULL);
#if TARN_CHECK_LEVEL >= 1 /* level 0 trusts pointers */
    CHECK(!clean_h_ptr(p, b + 8));              /* interior pointer */
    CHECK(!clean_h_ptr(p, local));              /* foreign */
    /* bad frees change nothing */
    CHECK(!h_pool_dealloc(p, local));
    CHECK(!h_pool_dealloc(p, a + 16));
    CHECK(!h_pool_dealloc(p, x));               /* a block of another pool */
#endif
    CHECK(h_pool_dealloc(q, x));
    CHECK(check_verify(a, 100, 1) && check_verify(c, 300, 3));
    /* reorder: true for every valid pool (the seed's `if (!reorder_h_mem(p)) fail();`),
     * moving nothing; false only for a bad pool */
    CHECK(reorder_h_mem(p));                    /* a, b, c packed: the rest is one region */
    CHECK(h_pool_dealloc(p, b));
#if TARN_CHECK_LEVEL >= 1
    CHECK(!h_pool_dealloc(p, b));               /* double free */
#endif
    {
        tarn_heap_stats before, after;
        CHECK_EQ(tarn_heap_stats_get(h_pool_tarn(p), &before), TARN_OK);
        CHECK(before.free_blocks >= 2u);        /* b's hole and the tail, split by c */
        CHECK(reorder_h_mem(p));                /* healthy, though fragmented */
        CHECK_EQ(tarn_heap_stats_get(h_pool_tarn(p), &after), TARN_OK);
        CHECK_EQ(after.free_blocks, before.free_blocks);   /* nothing moved */
        CHECK_EQ(after.used, before.used);
        CHECK(check_verify(c, 300, 3));
    }
    CHECK(h_pool_dealloc(p, c));                /* c merges the hole with the tail */
    CHECK(reorder_h_mem(p));
    CHECK(!reorder_h_mem(NULL));
    CHECK(check_verify(a, 100, 1));
    CHECK_EQ(tarn_heap_check(h_pool_tarn(p)), TARN_OK);
    CHECK(destroy_h_pool(p));
    CHECK(destroy_h_pool(q));
}

static void test_h_model(void)
{
    h_pool *p = create_h_pool_in(hmem, sizeof hmem, NULL);
    unsigned char *blk[64];
    size_t sz[64];
    uint32_t tag[64];
    unsigned n = 0, k, i, iters = (unsigned)CHECK_ITERS(100000);
    REQUIRE(p != NULL);
    check_seed(5);
    for (k = 0; k < iters; k++) {
        if (n == 0 || (check_below(100) < 50 && n < 64)) {
            size_t s = 1u + check_below(400);
            unsigned char *b = (unsigned char *)h_pool_alloc(p, s);
            if (b == NULL) continue;
            blk[n] = b;
            sz[n] = s;
            tag[n] = (uint32_t)check_rand();
            check_fill(b, s, tag[n]);
            n++;
        } else {
            i = check_below(n);
            CHECK(check_verify(blk[i], sz[i], tag[i]));
            CHECK(h_pool_dealloc(p, blk[i]));
#if TARN_CHECK_LEVEL >= 1
            CHECK(!h_pool_dealloc(p, blk[i])); /* double free */
#endif
            blk[i] = blk[--n];
            sz[i] = sz[n];
            tag[i] = tag[n];
        }
    }
    for (i = 0; i < n; i++) {
        CHECK(check_verify(blk[i], sz[i], tag[i]));
        CHECK(h_pool_dealloc(p, blk[i]));
    }
    CHECK(reorder_h_mem(p));
    CHECK_EQ(tarn_heap_check(h_pool_tarn(p)), TARN_OK);
    CHECK(destroy_h_pool(p));
}

/* ckreMM's own t_pool API, as the seed lists it: pointers, valid until reorder_t_mem;
 * every bad pointer refused in O(1) with nothing changed. */
static void all_is(const char *q, size_t n, char v)
{
    size_t i;
    for (i = 0; i < n; i++) {
        if (q[i] != v) {
            CHECK(q[i] == v);
            return;
        }
    }
}
static void test_t_seed_api(void)
{
    static char foreign[64];
    t_pool *p = create_pool_in(tmem, sizeof tmem, TH, NULL);
    char *a, *b, *c, *b_old, *c_old;
    t_handle ha, hb, hc;
    tarn_handle_stats st;
    REQUIRE(p != NULL);
    a = (char *)t_pool_alloc(p, 100);
    b = (char *)t_pool_alloc(p, 60);
    c = (char *)t_pool_alloc(p, 200);
    REQUIRE(a != NULL && b != NULL && c != NULL);
    CHECK(TARN_IS_ALIGNED(a, TARN_ALIGN) && TARN_IS_ALIGNED(b, TARN_ALIGN));
    memset(a, 'a', 100);
    memset(b, 'b', 60);
    memset(c, 'c', 200);
    CHECK(t_pool_alloc(p, 0) == NULL);
    CHECK(t_pool_alloc(NULL, 8) == NULL);
    CHECK(t_pool_alloc(p, TDATA) == NULL);
    CHECK(t_pool_alloc(p, (size_t)-1) == NULL);
    /* pointer and handle name the same block */
    ha = t_pool_handle_of(p, a);
    hb = t_pool_handle_of(p, b);
    hc = t_pool_handle_of(p, c);
    CHECK(!tarn_handle_is_null(hb) && !tarn_handle_is_null(hc));
    CHECK(t_pool_ptr(p, hb) == b);
    CHECK_EQ(t_pool_size(p, hb), 60);
    CHECK(t_pool_ptr(NULL, hb) == NULL);
    CHECK(t_pool_ptr(p, tarn_handle_null()) == NULL);
    /* copy and clean by pointer */
    CHECK(!copy_t_ptr(p, b, a));               /* b smaller than a: nothing copied */
    all_is(b, 60, 'b');
    CHECK(copy_t_ptr(p, c, a));
    all_is(c, 100, 'a');
    all_is(c + 100, 100, 'c');
    CHECK(tarn_handle_eq(t_pool_handle_of(p, c), hc));  /* c still names itself */
    CHECK(tarn_handle_eq(t_pool_handle_of(p, a), ha));
    CHECK(!copy_t_ptr(NULL, c, a));
    CHECK(clean_t_ptr(p, b));
    all_is(b, 60, 0);
    CHECK(tarn_handle_eq(t_pool_handle_of(p, b), hb));  /* so does a cleaned block */
    CHECK(!clean_t_ptr(NULL, b));
    /* bad pointers: refused, nothing changes */
    CHECK(!t_pool_dealloc(p, NULL));
    CHECK(!t_pool_dealloc(NULL, a));
    CHECK(!t_pool_dealloc(p, a + TARN_ALIGN));          /* interior */
    CHECK(!t_pool_dealloc(p, a + 1));                   /* misaligned */
    CHECK(!t_pool_dealloc(p, a - CKREMM_T_PREFIX));     /* the block's prefix */
    CHECK(!t_pool_dealloc(p, foreign));
    CHECK(!t_pool_dealloc(p, tmem));                    /* the control block */
    CHECK(!t_pool_dealloc(p, tmem + CKREMM_T_POOL_HEADER)); /* no room for a prefix */
    CHECK(!t_pool_dealloc(p, tmem + CKREMM_T_POOL_HEADER + CKREMM_T_PREFIX)); /* the table */
    CHECK(!t_pool_dealloc(p, tmem + CKREMM_T_POOL_HEADER + 4u * CKREMM_T_PREFIX));
    CHECK(!t_pool_dealloc(p, tmem + sizeof tmem));      /* just past the pool */
    CHECK(!clean_t_ptr(p, a + TARN_ALIGN));
    CHECK(!copy_t_ptr(p, c, a + TARN_ALIGN));
    CHECK(tarn_handle_is_null(t_pool_handle_of(p, foreign)));
    {
        /* user data that looks like b's handle, 120 bytes into c: the pointer after it
         * is an interior pointer of c, and is refused (b's data starts elsewhere) */
        uint32_t v = tarn_handle_to_u32(hb);
        memcpy(c + 120, &v, sizeof v);
        CHECK(!t_pool_dealloc(p, c + 120 + CKREMM_T_PREFIX));
        CHECK(t_pool_ptr(p, hb) == b);
    }
    all_is(a, 100, 'a');
    /* a locked block is not freed */
    CHECK(t_pool_lock(p, hc) == c);
    CHECK(!t_pool_dealloc(p, c));
    CHECK(t_pool_unlock(p, hc));
    /* free, then the same pointer again */
    CHECK(t_pool_dealloc(p, a));
    CHECK(t_pool_ptr(p, ha) == NULL);                    /* its handle is stale */
    CHECK(!t_pool_dealloc(p, a));
    CHECK(!clean_t_ptr(p, a));
    /* reorder moves b and c down over a's room: their old pointers are refused, their
     * handles give the new ones, contents kept */
    b_old = b;
    c_old = c;
    CHECK(reorder_t_mem(p));
    b = (char *)t_pool_ptr(p, hb);
    c = (char *)t_pool_ptr(p, hc);
    CHECK(b != NULL && c != NULL && b < b_old && c < c_old);
    all_is(b, 60, 0);
    all_is(c, 100, 'a');
    CHECK(!t_pool_dealloc(p, b_old));
    CHECK(!t_pool_dealloc(p, c_old));
    CHECK(t_pool_handle_of(p, b).v == hb.v);
    CHECK(t_pool_dealloc(p, b));
    CHECK(t_pool_dealloc(p, c));
    CHECK_EQ(tarn_handle_stats_get(t_pool_tarn(p), &st), TARN_OK);
    CHECK_EQ(st.handles_used, 0);
    CHECK_EQ(tarn_handle_check(t_pool_tarn(p)), TARN_OK);
    CHECK(destroy_t_pool(p));
    CHECK(t_pool_alloc(p, 8) == NULL);                   /* destroyed */
    CHECK(!t_pool_dealloc(p, b));
}

int main(void)
{
    test_h_create();
    test_h_api();
    test_h_model();
    test_t_create();
    test_t_api();
    test_t_reorder();
    test_t_lock_hook();
    test_t_model();
    test_t_seed_api();
    return check_done();
}
