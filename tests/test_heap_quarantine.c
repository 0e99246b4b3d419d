/*
 * tests/test_heap_quarantine.c - the heap's debug quarantine (TARN_QUARANTINE,
 * TARN_F_QUARANTINE): a freed block is held back (not reused, not merged, counted as
 * freed), a second free of it is a double free, the oldest is released when the ring is
 * full, a write into a held block is found by the check and when it leaves the ring,
 * an allocation short of room releases held blocks first, and the flush releases all.
 * Where the build compiles the quarantine and freed-memory poisoning in, this tests the
 * library (so coverage measures it); elsewhere this file compiles src/heap.c itself with
 * both on (a quarantine of 16), so it runs in every build.
 */
#if defined(TARN_QUARANTINE) && TARN_QUARANTINE > 0 && defined(TARN_POISON_FREE) && TARN_POISON_FREE
#include "tarn/heap.h"
#include "internal.h"
#else
#undef TARN_QUARANTINE
#define TARN_QUARANTINE 16
#undef TARN_POISON_FREE
#define TARN_POISON_FREE 1
#include "heap.c"
#endif

#include "check.h"
#include "support/poke.h"

#define GR TARN_HEAP_GRANULE
#define Q TARN_QUARANTINE
#define ARENA 32768u

static unsigned char mem[ARENA] __attribute__((aligned(16)));
static tarn_heap *h;

static void fresh(uint32_t flags)
{
    tarn_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.flags = flags;
    if (h != NULL) (void)tarn_heap_destroy(h);
    REQUIRE(tarn_heap_init(&h, mem, sizeof mem, &cfg) == TARN_OK);
}

static tarn_heap_stats stats(void)
{
    tarn_heap_stats st;
    REQUIRE(tarn_heap_stats_get(h, &st) == TARN_OK);
    return st;
}

/* Without the flag nothing is held: a freed block is reused at once. */
static void test_off(void)
{
    unsigned char *a, *b;
    fresh(0);
    a = (unsigned char *)tarn_heap_alloc(h, 40);
    CHECK_EQ(tarn_heap_free(h, a), TARN_OK);
    CHECK_EQ(stats().held_blocks, 0);
    b = (unsigned char *)tarn_heap_alloc(h, 40);
    CHECK(b == a);
    CHECK_EQ(tarn_heap_quarantine_flush(h), TARN_OK);
    CHECK_EQ(tarn_heap_quarantine_flush(NULL), TARN_EINVAL);
    CHECK_EQ(tarn_heap_free(h, b), TARN_OK);
}

static void test_hold(void)
{
    unsigned char *a, *b, *c, *p[Q + 1];
    tarn_heap_stats st;
    unsigned i;
    fresh(TARN_F_QUARANTINE);
    a = (unsigned char *)tarn_heap_alloc(h, 40);
    c = (unsigned char *)tarn_heap_alloc(h, 40);
    REQUIRE(a && c);
    memset(a, 0x11, 40);
    CHECK_EQ(tarn_heap_free(h, a), TARN_OK);
    st = stats();
    CHECK_EQ(st.held_blocks, 1);
    CHECK_EQ(st.live_blocks, 1);                     /* counted as freed */
    CHECK_EQ(st.total_frees, 1);
    CHECK_EQ(st.used, tarn_heap_usable_size(h, c));
    /* a double free, however it is handed back */
    CHECK_EQ(tarn_heap_free(h, a), TARN_EDOUBLE);
    CHECK_EQ(tarn_heap_last_error(h), TARN_EDOUBLE);
    CHECK_EQ(tarn_heap_validate(h, a), TARN_EDOUBLE);
    CHECK(tarn_heap_realloc(h, a, 10) == NULL);
    CHECK_EQ(tarn_heap_last_error(h), TARN_EDOUBLE);
    CHECK_EQ(tarn_heap_resize(h, a, 10), TARN_EDOUBLE);
    CHECK_EQ(tarn_heap_usable_size(h, a), 0);
    CHECK(tarn_heap_realloc(h, a, 0) == NULL);       /* = free: refused too */
    CHECK_EQ(tarn_heap_last_error(h), TARN_EDOUBLE);
    CHECK_EQ(stats().held_blocks, 1);
    CHECK_EQ(stats().total_frees, 1);
    /* not reused, not merged into: a new block of the same size lands elsewhere */
    b = (unsigned char *)tarn_heap_alloc(h, 40);
    CHECK(b != NULL && b != a);
    CHECK_EQ(tarn_heap_check(h), TARN_OK);
    CHECK_EQ(tarn_heap_sane(h), TARN_OK);
    CHECK_EQ(tarn_heap_free(h, c), TARN_OK);         /* a's neighbour: no merge with a */
    CHECK_EQ(tarn_heap_validate(h, c), TARN_EDOUBLE);
    CHECK_EQ(tarn_heap_check(h), TARN_OK);
    /* the ring is full after Q frees: the oldest (a) is released, then c */
    for (i = 0; i < Q - 2u; i++) {
        p[i] = (unsigned char *)tarn_heap_alloc(h, 8u + i);
        REQUIRE(p[i] != NULL);
    }
    for (i = 0; i < Q - 2u; i++) CHECK_EQ(tarn_heap_free(h, p[i]), TARN_OK);
    CHECK_EQ(stats().held_blocks, Q);
    CHECK_EQ(tarn_heap_validate(h, a), TARN_EDOUBLE);
    CHECK_EQ(tarn_heap_free(h, b), TARN_OK);          /* pushes a out */
    CHECK_EQ(stats().held_blocks, Q);
    CHECK(tarn_heap_validate(h, a) == TARN_EFOREIGN || tarn_heap_validate(h, a) == TARN_EDOUBLE);
    CHECK_EQ(tarn_heap_last_error(h), TARN_EDOUBLE); /* (from above: the release was clean) */
    CHECK_EQ(tarn_heap_check(h), TARN_OK);
    /* the flush releases everything, and the heap merges back into one block */
    CHECK_EQ(tarn_heap_quarantine_flush(h), TARN_OK);
    st = stats();
    CHECK_EQ(st.held_blocks, 0);
    CHECK_EQ(st.used, 0);
    CHECK_EQ(st.live_blocks, 0);
    CHECK_EQ(st.free_blocks, 1);
    CHECK_EQ(st.total_frees, st.total_allocs);
    CHECK_EQ(tarn_heap_check(h), TARN_OK);
}

/* The freed bytes are poisoned while held; a write into a held block is reported. */
static void test_write_after_free(uint32_t flags, unsigned char fill)
{
    unsigned char *a, *p[Q];
    size_t i;
    unsigned k;
    fresh(TARN_F_QUARANTINE | flags);
    a = (unsigned char *)tarn_heap_alloc(h, 64);
    REQUIRE(a != NULL);
    memset(a, 0x5A, 64);
    CHECK_EQ(tarn_heap_free(h, a), TARN_OK);
    for (i = 0; i < 64; i++) {
        unsigned char v;
        tarn_san_peek(&v, a + i, 1);
        CHECK(v == fill);
    }
    CHECK_EQ(tarn_heap_check(h), TARN_OK);
    for (k = 0; k < Q - 1u; k++) {
        p[k] = (unsigned char *)tarn_heap_alloc(h, 16);
        REQUIRE(p[k] != NULL);
    }
    test_poke8(a + 17, 0x42);                              /* the bug */
    CHECK_EQ(tarn_heap_check(h), TARN_ECORRUPT);
#if TARN_CHECK_LEVEL < 2
    for (k = 0; k < Q - 1u; k++) CHECK_EQ(tarn_heap_free(h, p[k]), TARN_OK);
    CHECK_EQ(tarn_heap_last_error(h), TARN_OK);
    p[0] = (unsigned char *)tarn_heap_alloc(h, 16);
    REQUIRE(p[0] != NULL);
    CHECK_EQ(tarn_heap_free(h, p[0]), TARN_OK);      /* pushes a out: still OK... */
    CHECK_EQ(tarn_heap_last_error(h), TARN_ECORRUPT); /* ...but recorded */
#else
    /* level 2 checks the whole heap before every call: the flush is the way out */
    CHECK_EQ(tarn_heap_free(h, p[0]), TARN_ECORRUPT);
    CHECK_EQ(tarn_heap_quarantine_flush(h), TARN_ECORRUPT);
    CHECK_EQ(tarn_heap_last_error(h), TARN_ECORRUPT);
    for (k = 0; k < Q - 1u; k++) CHECK_EQ(tarn_heap_free(h, p[k]), TARN_OK);
#endif
    CHECK_EQ(tarn_heap_check(h), TARN_OK);
    CHECK_EQ(tarn_heap_quarantine_flush(h), TARN_OK);
    CHECK_EQ(stats().used, 0);
    CHECK_EQ(stats().free_blocks, 1);
}

/* An allocation short of room releases held blocks (oldest first) and retries: the
 * quarantine never makes it fail; it fails only once nothing is held. */
static void test_pressure(void)
{
    static unsigned char *p[1024];
    unsigned n = 0, i;
    tarn_heap_stats st;
    unsigned char *big;
    fresh(TARN_F_QUARANTINE);
    while (n < 1024u && (p[n] = (unsigned char *)tarn_heap_alloc(h, 200)) != NULL) n++;
    REQUIRE(n > Q + 2u && n < 1024u);
    CHECK_EQ(tarn_heap_last_error(h), TARN_ENOMEM);
    /* free Q neighbours: all held, the heap still full */
    for (i = 0; i < Q; i++) CHECK_EQ(tarn_heap_free(h, p[i]), TARN_OK);
    CHECK_EQ(stats().held_blocks, Q);
    /* one large block that needs their merged room */
    big = (unsigned char *)tarn_heap_alloc(h, 200u * (Q - 2u));
    CHECK(big != NULL);
    st = stats();
    CHECK(st.held_blocks < Q);
    CHECK_EQ(tarn_heap_check(h), TARN_OK);
    /* a request nothing can serve fails only after the ring is empty */
    CHECK_EQ(tarn_heap_free(h, p[Q]), TARN_OK);
    CHECK(tarn_heap_alloc(h, st.capacity) == NULL);
    CHECK_EQ(tarn_heap_last_error(h), TARN_ENOMEM);
    CHECK_EQ(stats().held_blocks, 0);
    /* aligned and realloc under pressure too */
    for (i = Q + 1u; i < Q + 4u; i++) CHECK_EQ(tarn_heap_free(h, p[i]), TARN_OK);
    CHECK_EQ(stats().held_blocks, 3);
    CHECK(tarn_heap_aligned_alloc(h, 64, 500) != NULL);
    REQUIRE(n > Q + 24u);
    for (i = Q + 4u; i < Q + 24u; i++) CHECK_EQ(tarn_heap_free(h, p[i]), TARN_OK);
    CHECK_EQ(stats().held_blocks, Q);
    big = (unsigned char *)tarn_heap_realloc(h, big, 200u * (Q - 2u) + 600u);   /* moves */
    CHECK(big != NULL);
    CHECK_EQ(tarn_heap_check(h), TARN_OK);
}

/* Resize in place when the right neighbour is held: it is released to make room. */
static void test_resize(void)
{
    unsigned char *a, *b;
    fresh(TARN_F_QUARANTINE);
    a = (unsigned char *)tarn_heap_alloc(h, 100);
    b = (unsigned char *)tarn_heap_alloc(h, 100);   /* right after a */
    REQUIRE(a && b && b == a + TARN_HEAP_BLOCK_BYTES(100));
    REQUIRE(tarn_heap_alloc(h, 100) != NULL);       /* after b: the rest is not reached */
    CHECK_EQ(tarn_heap_free(h, b), TARN_OK);
    CHECK_EQ(stats().held_blocks, 1);
    CHECK_EQ(tarn_heap_resize(h, a, 150), TARN_OK);
    CHECK_EQ(stats().held_blocks, 0);
    CHECK_EQ(tarn_heap_usable_size(h, a), TARN_GUARD ? 150u : TARN_ALIGN_UP(150u, GR));
    CHECK_EQ(tarn_heap_check(h), TARN_OK);
    CHECK_EQ(tarn_heap_free(h, a), TARN_OK);
}

/* Realloc that moves holds the old block; aligned blocks are held and released right. */
static void test_realloc_aligned(void)
{
    unsigned char *a, *b, *q;
    size_t i;
    fresh(TARN_F_QUARANTINE);
    a = (unsigned char *)tarn_heap_alloc(h, 32);
    b = (unsigned char *)tarn_heap_alloc(h, 32);   /* right after a: a cannot grow */
    REQUIRE(a && b);
    for (i = 0; i < 32; i++) a[i] = (unsigned char)i;
    q = (unsigned char *)tarn_heap_realloc(h, a, 400);
    REQUIRE(q != NULL && q != a);
    for (i = 0; i < 32; i++) CHECK(q[i] == (unsigned char)i);
    CHECK_EQ(tarn_heap_validate(h, a), TARN_EDOUBLE);   /* held */
    CHECK_EQ(stats().held_blocks, 1);
    for (i = 0; i < 40; i++) {
        unsigned char *p = (unsigned char *)tarn_heap_aligned_alloc(h, (size_t)GR << (1u + i % 6u), 1u + i);
        REQUIRE(p != NULL);
        CHECK_EQ(tarn_heap_free(h, p), TARN_OK);
        CHECK_EQ(tarn_heap_check(h), TARN_OK);
    }
    CHECK_EQ(tarn_heap_free(h, q), TARN_OK);
    CHECK_EQ(tarn_heap_free(h, b), TARN_OK);
    CHECK_EQ(tarn_heap_quarantine_flush(h), TARN_OK);
    CHECK_EQ(stats().free_blocks, 1);
    CHECK_EQ(tarn_heap_check(h), TARN_OK);
}

/* Damage to the ring itself is found by the check. */
static void test_ring_damage(void)
{
    unsigned char *a, *b;
    void *saved;
    fresh(TARN_F_QUARANTINE);
    a = (unsigned char *)tarn_heap_alloc(h, 40);
    b = (unsigned char *)tarn_heap_alloc(h, 40);
    CHECK_EQ(tarn_heap_free(h, a), TARN_OK);
    saved = h->quarantine.slot[h->quarantine.first];
    h->quarantine.slot[h->quarantine.first] = b;          /* a live block */
    CHECK_EQ(tarn_heap_check(h), TARN_ECORRUPT);
    h->quarantine.slot[h->quarantine.first] = b + 8;      /* not a block */
    CHECK_EQ(tarn_heap_check(h), TARN_ECORRUPT);
    h->quarantine.slot[h->quarantine.first] = saved;
    CHECK_EQ(tarn_heap_check(h), TARN_OK);
    CHECK_EQ(tarn_heap_free(h, b), TARN_OK);
    CHECK_EQ(tarn_heap_quarantine_flush(h), TARN_OK);
    CHECK_EQ(tarn_heap_check(h), TARN_OK);
}

/* A random workload within tarn_heap_size_for's limits never fails with the quarantine
 * on (the held blocks are released before a failure could happen), and every failure
 * in a smaller heap comes with an empty ring. */
static void test_bound(void)
{
    static unsigned char *p[64];
    static size_t n[64];
    const size_t M = 3000, R = 300, L = 40;
    size_t live = 0, nlive = 0, bytes[2];
    int run;
    bytes[0] = tarn_heap_size_for(M, R, L);
    bytes[1] = M + M / 4u;   /* about the live bytes alone: short of room at times */
    REQUIRE(bytes[0] > 0u && bytes[0] <= sizeof mem);
    for (run = 0; run < 2; run++) {
        long i, iters = CHECK_ITERS(30000L);
        tarn_config cfg;
        unsigned long fails = 0;
        memset(&cfg, 0, sizeof cfg);
        cfg.flags = TARN_F_QUARANTINE;
        if (h != NULL) (void)tarn_heap_destroy(h);
        REQUIRE(tarn_heap_init(&h, mem, bytes[run], &cfg) == TARN_OK);
        memset(p, 0, sizeof p);
        live = nlive = 0;
        check_seed(99u + (uint64_t)run);
        for (i = 0; i < iters; i++) {
            uint32_t k = check_below(L - 1u);
            if (p[k] == NULL) {
                size_t s = 1u + check_below((uint32_t)R);
                if (live + s > M || nlive + 1u > L) continue;
                p[k] = (unsigned char *)tarn_heap_alloc(h, s);
                if (p[k] == NULL) {
                    fails++;
                    CHECK(run == 1);
                    CHECK_EQ(stats().held_blocks, 0);
                    continue;
                }
                n[k] = s;
                live += s;
                nlive++;
            } else {
                CHECK_EQ(tarn_heap_free(h, p[k]), TARN_OK);
                p[k] = NULL;
                live -= n[k];
                nlive--;
            }
        }
        CHECK_EQ(tarn_heap_check(h), TARN_OK);
        if (run == 1) CHECK(fails > 0);   /* the smaller heap was short of room */
    }
}

int main(void)
{
    tarn_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.flags = TARN_F_SAN_REPORT | TARN_F_QUARANTINE | TARN_HEAP_F_CLEAR_FREED;
    REQUIRE(tarn_heap_init(&h, mem, sizeof mem, &cfg) == TARN_OK);   /* every flag */
    test_off();
    test_hold();
    test_write_after_free(0, TARN_POISON_BYTE);
    test_write_after_free(TARN_HEAP_F_CLEAR_FREED, 0);
    test_pressure();
    test_resize();
    test_realloc_aligned();
    test_ring_damage();
    test_bound();
    CHECK_EQ(tarn_heap_destroy(h), TARN_OK);
    return check_done();
}
